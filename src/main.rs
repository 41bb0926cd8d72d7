use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    muster::run(muster::Cli::parse().into_command())
}
