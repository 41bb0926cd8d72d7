//! The ways a command can fail, and the exit code each maps to.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug)]
pub enum Error {
    /// The input has errors; they were collected as diagnostics and are printed by the caller.
    Invalid,
    /// `check --deny-warnings` found warnings; they were printed as diagnostics.
    Warnings { count: usize },
    /// `--check` found the output file out of date; the diff says how.
    Stale { path: PathBuf, diff: String },
    /// `--check` found no output file at all.
    Missing { path: PathBuf },
    /// No catalogue was given and none was found from `from` up.
    NoCatalogue { from: PathBuf },
    /// Arguments clap accepts but that do not make sense together.
    Usage(String),
    /// Standard output could not be written (other than by its reader closing it).
    Stdout(std::io::Error),
    /// `up`, `status`, `doctor`: a service is unhealthy, exited, restarting, or waits on one
    /// that is; the diagnoses were printed.
    Unhealthy { failed: usize },
    /// `up`: the deadline passed with services still starting; `status`: not up yet.
    NotUp { pending: usize },
    /// The engine or Compose could not be reached or refused the file.
    Engine(String),
    /// A file could not be read or written.
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    /// Documented in the README: 1 problems found, 2 usage (as clap's), 3 input/output failure,
    /// 4 a service failed, 5 not up (yet), 6 the engine or Compose failed.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Invalid
            | Error::Warnings { .. }
            | Error::Stale { .. }
            | Error::Missing { .. } => ExitCode::from(1),
            Error::Usage(_) => ExitCode::from(2),
            Error::Io { .. } | Error::Stdout(_) | Error::NoCatalogue { .. } => ExitCode::from(3),
            Error::Unhealthy { .. } => ExitCode::from(4),
            Error::NotUp { .. } => ExitCode::from(5),
            Error::Engine(_) => ExitCode::from(6),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Error::Invalid => f.write_str("the catalogue has errors"),
            Error::Warnings { count } => write!(f, "{count} warning(s), denied by --deny-warnings"),
            Error::Stale { path, .. } => write!(
                f,
                "{} is out of date; run the same command without --check to update it",
                path.display()
            ),
            Error::Missing { path } => write!(
                f,
                "{} is missing; run the same command without --check to write it",
                path.display()
            ),
            Error::NoCatalogue { from } => write!(
                f,
                "no {} in {} or any folder above it\n  = run `muster init` to start one here, or \
                 pass `-c FILE`",
                crate::user_files::CATALOGUE,
                from.display()
            ),
            Error::Usage(message) => f.write_str(message),
            Error::Stdout(e) => write!(f, "cannot write to stdout: {e}"),
            Error::Unhealthy { failed } => write!(f, "{failed} service(s) failed"),
            Error::NotUp { pending } => write!(f, "{pending} service(s) not up yet"),
            Error::Engine(e) => f.write_str(e),
            Error::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
        }
    }
}
