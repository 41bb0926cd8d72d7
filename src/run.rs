//! Runs one command and reports its outcome: data on stdout, diagnostics on stderr.

use crate::commands;
use crate::config::{Color, Invocation, Request};
use crate::error::Error;
use crate::pipeline::Session;
use codespan_reporting::term::termcolor::{Buffer, Color as Paint, ColorSpec, WriteColor};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub fn run(invocation: Invocation) -> ExitCode {
    let colored = match invocation.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    let mut session = Session {
        colored,
        ..Session::default()
    };
    let result = invocation
        .request
        .and_then(|request| dispatch(&request, &mut session));
    let mut stderr = if colored {
        Buffer::ansi()
    } else {
        Buffer::no_color()
    };
    // Warnings are shown whatever the outcome; errors explain a failure. A machine format has
    // already put them on stdout.
    session.drop_allowed();
    if !session.machine_output {
        session
            .sources
            .render_to(session.diagnostics.as_slice(), &mut stderr);
    }
    if let Some(summary) = &session.summary {
        let _ = writeln!(stderr, "{summary}");
    }
    let result = result.and_then(|stdout| match stdout {
        Some(text) => crate::output::write_stdout(&mut std::io::stdout().lock(), |out| {
            out.write_all(text.as_bytes())
        }),
        None => Ok(()),
    });
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Error::Stale { diff, .. } = &error {
                // On stdout, as `rustfmt --check`, `terraform fmt -diff` and `git diff` print
                // theirs, so that it can be piped to a pager or `git apply -R`.
                let _ = crate::output::write_stdout(&mut std::io::stdout().lock(), |out| {
                    out.write_all(diff.as_bytes())
                });
            }
            if !matches!(error, Error::Invalid)
                || session.diagnostics.is_empty()
                || session.machine_output
            {
                let _ = stderr.set_color(ColorSpec::new().set_fg(Some(Paint::Red)).set_bold(true));
                let _ = write!(stderr, "error");
                let _ = stderr.reset();
                let _ = writeln!(stderr, ": {error}");
            }
            error.exit_code()
        }
    };
    let _ = std::io::stderr().lock().write_all(stderr.as_slice());
    code
}

fn dispatch(request: &Request, session: &mut Session) -> Result<Option<String>, Error> {
    match request {
        Request::Gen {
            inputs,
            output,
            check,
            target,
        } => commands::generate::run(
            inputs,
            output.as_deref(),
            *check,
            *target,
            session,
            &mut std::io::stdout().lock(),
        )
        .map(|()| None),
        Request::Check {
            inputs,
            deny_warnings,
            format,
            env_files,
        } => commands::check::run(
            inputs,
            *deny_warnings,
            *format,
            env_files.as_deref(),
            session,
        ),
        Request::Env {
            inputs,
            shape,
            output,
        } => commands::env::run(inputs, inputs.target, *shape, output.as_deref(), session),
        Request::ListLints => Ok(Some(crate::model::Lint::list())),
        Request::Schema { inputs, output } => {
            commands::schema::run(inputs, output.as_deref(), session)
        }
        Request::Add { inputs, service } => commands::add::run(inputs, service, session),
        Request::Init { inputs } => commands::init::run(inputs, session),
        Request::Kinds { inputs, json } => commands::kinds::run(inputs, *json, session),
        Request::Explain { inputs, name, json } => {
            commands::explain::run(inputs, name, *json, session)
        }
        Request::Report { inputs } => commands::report::run(inputs, session),
        Request::Import {
            inputs,
            compose,
            output,
        } => commands::import::run(inputs, compose.as_deref(), output.as_deref(), session),
        Request::Completions { shell } => commands::completions::script(*shell).map(Some),
        Request::Man { command } => commands::completions::man(command.as_deref()).map(Some),
        Request::Up { inputs, up } => commands::up::run(inputs, up, session),
        Request::Images { inputs, output } => {
            commands::images::run(inputs, output.as_deref(), session)
        }
        Request::Tune { inputs, tune } => commands::tune::run(inputs, tune, session),
        Request::Status { inputs, file, json } => {
            commands::status::run(inputs, file, *json, session)
        }
        Request::Doctor { inputs, file, name } => {
            commands::doctor::run(inputs, file, name, session)
        }
    }
}
