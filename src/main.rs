use clap::Parser;
use std::process::ExitCode;

/// The pipeline allocates many small maps and strings per service; glibc's allocator spent over
/// a quarter of `muster gen`'s instructions on them (BENCHMARKS.md). The binary's choice only:
/// the library leaves the allocator to whoever links it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    muster::run(muster::Cli::parse().into_invocation())
}
