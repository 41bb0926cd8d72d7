//! `muster completions SHELL` and `muster man`: generated from the clap definition itself, so
//! that every command and flag, and every value a flag takes, is in them as `--help` shows it.

use crate::config::Cli;
use crate::error::Error;
use clap::CommandFactory;

pub fn script(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "muster", &mut out);
    String::from_utf8(out).expect("completion scripts are UTF-8")
}

/// The man page of muster (the synopsis, the global options, the subcommands), or of one
/// subcommand, named `muster-NAME` as git and cargo name theirs.
pub fn man(command: Option<&str>) -> Result<String, Error> {
    let cli = Cli::command();
    let page = match command {
        None => cli,
        Some(name) => {
            let names = || cli.get_subcommands().map(|s| s.get_name().to_owned());
            let sub = cli.find_subcommand(name).cloned().ok_or_else(|| {
                Error::Usage(format!(
                    "no subcommand `{name}`; man pages: {}",
                    names().collect::<Vec<_>>().join(", ")
                ))
            })?;
            // clap names commands with `&'static str` unless its `string` feature is on; one
            // short name, once per process, is not worth the feature.
            let page_name: &'static str = Box::leak(format!("muster-{name}").into_boxed_str());
            sub.name(page_name)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(Error::Stdout)?;
    Ok(String::from_utf8(out).expect("roff from UTF-8 help is UTF-8"))
}
