use clap::Parser;
use std::process::ExitCode;

/// The pipeline allocates many small maps and strings per service; glibc's allocator spent over
/// a quarter of `muster gen`'s instructions on them (BENCHMARKS.md). The binary's choice only:
/// the library leaves the allocator to whoever links it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    if closed_stdout::CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        muster::mark_stdout_closed(libc::EBADF);
    }
    // A shell asking for completions (`COMPLETE=bash muster -- ...`) is answered, and the
    // process ends there.
    muster::complete_if_asked();
    muster::run(muster::Cli::parse().into_invocation())
}

/// `muster gen >&-` starts with no file descriptor 1. Before `main`, Rust's runtime opens
/// `/dev/null` in its place, so every write to stdout succeeds and the output vanishes with
/// exit 0; the README promises exit 3. Only code that runs before the runtime can tell, so this
/// looks at descriptor 1 from the ELF constructors, which the loader runs first.
#[cfg(target_os = "linux")]
mod closed_stdout {
    use std::sync::atomic::{AtomicBool, Ordering};

    pub static CLOSED: AtomicBool = AtomicBool::new(false);

    extern "C" fn probe() {
        // SAFETY: F_GETFD reads the descriptor's flags and changes nothing; a closed descriptor
        // makes it return -1 (EBADF).
        let flags = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) };
        if flags == -1 {
            CLOSED.store(true, Ordering::Relaxed);
        }
    }

    #[used]
    #[unsafe(link_section = ".init_array")]
    static PROBE: extern "C" fn() = probe;
}
