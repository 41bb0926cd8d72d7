//! Runs one command and reports its outcome: data on stdout, diagnostics on stderr.

use crate::commands;
use crate::config::Request;
use crate::error::Error;
use crate::pipeline::Session;
use std::process::ExitCode;

pub fn run(request: Request) -> ExitCode {
    let mut session = Session::default();
    let result = match &request {
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
            &mut session,
            &mut std::io::stdout().lock(),
        )
        .map(|()| None),
        Request::Check {
            inputs,
            deny_warnings,
        } => commands::check::run(inputs, *deny_warnings, &mut session),
        Request::Schema { inputs } => commands::schema::run(inputs),
        Request::Add { inputs, service } => commands::add::run(inputs, service, &mut session),
        Request::Init { inputs } => commands::init::run(inputs, &mut session),
        Request::Kinds { inputs } => commands::kinds::run(inputs, &mut session),
        Request::Explain { inputs, name } => commands::explain::run(inputs, name, &mut session),
        Request::Report { inputs } => commands::report::run(inputs, &mut session),
        Request::Import {
            inputs,
            compose,
            output,
        } => commands::import::run(inputs, compose, output.as_deref(), &mut session),
    };
    // Warnings are shown whatever the outcome; errors explain a failure.
    eprint!("{}", session.render_diagnostics());
    if let Some(summary) = &session.summary {
        eprintln!("{summary}");
    }
    let result = result.and_then(|stdout| match stdout {
        Some(text) => crate::output::write_stdout(&mut std::io::stdout().lock(), |out| {
            out.write_all(text.as_bytes())
        }),
        None => Ok(()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Error::Stale { diff, .. } = &error {
                eprint!("{diff}");
            }
            if !matches!(error, Error::Invalid) || session.diagnostics.is_empty() {
                eprintln!("error: {error}");
            }
            error.exit_code()
        }
    }
}
