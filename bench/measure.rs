//! Clocks, whole processes with their own peak memory, medians, and the facts about the machine
//! that a figure means nothing without.
//!
//! Times are CPU time (user + system), with wall time beside them for whole processes: the two
//! cores are shared with other engineers' builds, which stretch wall time by however long the
//! measured program waits for a core, but not the CPU time it uses.

use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// The flag that makes this program a supervisor (see [`run`]).
pub const SUPERVISE: &str = "--supervise";

/// The CPU time this thread has used so far.
pub fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a live, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(
        rc, 0,
        "CLOCK_THREAD_CPUTIME_ID is always available on Linux"
    );
    Duration::new(
        u64::try_from(now.tv_sec).expect("a non-negative time"),
        u32::try_from(now.tv_nsec).expect("nanoseconds below a second"),
    )
}

/// One finished process.
#[derive(Clone, Copy)]
pub struct Exit {
    pub wall: Duration,
    /// User and system time.
    pub cpu: Duration,
    /// Peak resident set, in bytes.
    pub max_rss: u64,
}

/// Runs `argv` to completion with `stdout`, through a supervisor: this program again, freshly
/// started with [`SUPERVISE`], which spawns `argv` and reports on it. Linux counts the pages a
/// process had before `exec` into its peak RSS, and a child spawned from this process starts out
/// sharing all of ours, hundreds of MiB after the in-process runs; a freshly started supervisor
/// has next to none, so the peak it reports is the program's own. An exit other than 0 is an
/// error, since a failed run measures nothing.
pub fn run(argv: &[OsString], stdout: Stdio, report: &Path) -> io::Result<Exit> {
    let status = Command::new(std::env::current_exe()?)
        .arg(SUPERVISE)
        .arg(report)
        .args(argv)
        .stdout(stdout)
        .status()?;
    if !status.success() {
        return Err(io::Error::other(format!("{argv:?} failed ({status})")));
    }
    let text = std::fs::read_to_string(report)?;
    let figures: Vec<u64> = text
        .split_whitespace()
        .map(|n| n.parse().expect("the supervisor writes integers"))
        .collect();
    let [wall, cpu, max_rss] = figures[..] else {
        panic!("the supervisor wrote {text:?}");
    };
    Ok(Exit {
        wall: Duration::from_nanos(wall),
        cpu: Duration::from_nanos(cpu),
        max_rss,
    })
}

/// The supervisor: `SUPERVISE REPORT PROGRAM ARGS...` runs the program with this process's
/// stdout and stderr and writes its wall time, CPU time (ns) and peak RSS (bytes) to REPORT.
pub fn supervise(mut args: impl Iterator<Item = OsString>) -> ExitCode {
    let (Some(report), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: {SUPERVISE} REPORT PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let child = match Command::new(&program).args(args).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot run {program:?}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    let mut status = 0;
    // SAFETY: rusage is plain integers, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // wait4 rather than Child::wait, for the child's own rusage.
    // SAFETY: `pid` is our unwaited child, and both pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if waited != pid {
        eprintln!("wait4: {}", io::Error::last_os_error());
        return ExitCode::FAILURE;
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        eprintln!("{program:?} failed (wait status {status})");
        return ExitCode::FAILURE;
    }
    let time = |t: libc::timeval| {
        Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_usec).unwrap_or(0) * 1_000,
        )
    };
    let cpu = time(usage.ru_utime) + time(usage.ru_stime);
    // Linux reports ru_maxrss in KiB.
    let max_rss = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    let figures = format!("{} {} {max_rss}\n", wall.as_nanos(), cpu.as_nanos());
    match std::fs::write(&report, figures) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write {report:?}: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn median<T: Ord + Copy>(values: &mut [T]) -> T {
    values.sort_unstable();
    values[values.len() / 2]
}

/// Cores, CPU model and memory, as `nproc`, /proc/cpuinfo and /proc/meminfo give them.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let field = |file: &str, key: &str| {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned())
    };
    let memory = field("/proc/meminfo", "MemTotal");
    let gib = memory
        .trim_end_matches(" kB")
        .parse::<f64>()
        .map_or(memory.clone(), |kib| {
            format!("{:.1} GiB", kib / 1024.0 / 1024.0)
        });
    format!(
        "{cores} cores (nproc), {}, {gib} memory",
        field("/proc/cpuinfo", "model name")
    )
}

/// The 1, 5 and 15-minute load averages.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
