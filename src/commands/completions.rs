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

/// The man page: the synopsis, every global option, and the subcommands.
pub fn man() -> Result<String, Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(Error::Stdout)?;
    Ok(String::from_utf8(out).expect("roff from UTF-8 help is UTF-8"))
}
