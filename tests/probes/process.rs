//! Servers run as child processes that must not outlive the test that needs them.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::chown;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;

/// How long a server may take to shut down cleanly before its group is killed.
const STOP_GRACE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

pub const INSTALL_HINT: &str = "run `bash .ci/install` and test with \
     `PATH=\"$PWD/.venv/bin:$PATH\" cargo test`";

unsafe extern "C" {
    // std can neither signal a process group nor handle a signal.
    // kill(2) and raise(3) are memory-safe for any argument.
    safe fn kill(pid: i32, sig: i32) -> i32;
    safe fn raise(sig: i32) -> i32;
    // Takes and returns a sighandler_t: a function's address, or SIG_DFL.
    fn signal(signum: i32, handler: usize) -> usize;
}

const SIG_DFL: usize = 0;

/// Signals every process in the group whose leader is `leader`; a group that is
/// already gone (ESRCH) is what the caller wants anyway.
pub fn signal_group(leader: u32, signal: i32) {
    kill(-pgid(leader), signal);
}

fn pgid(leader: u32) -> i32 {
    i32::try_from(leader).expect("a pid fits in pid_t")
}

/// The process groups the tests have running, each slot a group id or 0.
static LIVE_GROUPS: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

/// Registers a process group for `stop_groups_and_die` while it lives.
/// The tests' groups are not the terminal's, so a Ctrl-C reaches only the
/// test process, which passes it on before it dies.
pub struct LiveGroup(Option<&'static AtomicI32>);

impl LiveGroup {
    pub fn register(leader: u32) -> LiveGroup {
        static HANDLERS: Once = Once::new();
        HANDLERS.call_once(|| {
            for signal_number in [SIGINT, SIGTERM] {
                // SAFETY: the handler makes only async-signal-safe calls.
                unsafe {
                    signal(
                        signal_number,
                        stop_groups_and_die as extern "C" fn(i32) as usize,
                    )
                };
            }
        });
        let group = pgid(leader);
        // With every slot taken the group still stops on drop, only not on Ctrl-C.
        LiveGroup(LIVE_GROUPS.iter().find(|slot| {
            slot.compare_exchange(0, group, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        }))
    }
}

impl Drop for LiveGroup {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            slot.store(0, Ordering::SeqCst);
        }
    }
}

/// SIGINT and SIGTERM handler: asks every live group to stop, then dies of
/// the signal as if it had not been caught. Atomic loads, kill, signal and
/// raise are all async-signal-safe.
extern "C" fn stop_groups_and_die(signal_number: i32) {
    for slot in &LIVE_GROUPS {
        let group = slot.load(Ordering::SeqCst);
        if group != 0 {
            kill(-group, SIGTERM);
        }
    }
    // SAFETY: restores the default action; no handler is involved.
    unsafe { signal(signal_number, SIG_DFL) };
    raise(signal_number);
}

/// A server process leading its own process group, so that stopping it also
/// stops whatever it spawned (Postgres backends, the Erlang VM under the
/// RabbitMQ start script). Dropping it stops the whole group and reaps it.
pub struct Server {
    name: String,
    child: Child,
    _live: LiveGroup,
    stop_signal: i32,
    log: PathBuf,
}

impl Server {
    /// Starts `command` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path, stop_signal: i32) -> Server {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
        let err = out
            .try_clone()
            .expect("cannot duplicate the log file handle");
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}; {INSTALL_HINT}"));
        Server {
            name: name.to_owned(),
            _live: LiveGroup::register(child.id()),
            child,
            stop_signal,
            log: log.to_owned(),
        }
    }

    /// Polls `ready` until it holds; panics with the server's log if the server
    /// exits first or `timeout` passes.
    pub fn wait_ready(&mut self, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("cannot poll a child") {
                panic!(
                    "{} exited ({status}) before it was ready:\n{}",
                    self.name,
                    self.log()
                );
            }
            if ready() {
                return;
            }
            if Instant::now() > deadline {
                panic!("{} not ready after {timeout:?}:\n{}", self.name, self.log());
            }
            thread::sleep(POLL);
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(no log: {e})"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let leader = self.child.id();
        signal_group(leader, self.stop_signal);
        if wait_timeout(&mut self.child, STOP_GRACE).is_none() {
            eprintln!(
                "{} ignored signal {}; killing it",
                self.name, self.stop_signal
            );
        }
        // The leader exits last in a clean shutdown, so this only reaches
        // stragglers, or everything when the clean shutdown timed out.
        signal_group(leader, SIGKILL);
        let _ = self.child.wait();
    }
}

pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("cannot poll a child") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(POLL);
    }
}

/// A loopback port nobody listens on right now. Ports are never handed out
/// twice per test process: the kernel may offer a just-released port again to
/// a test running in parallel, before the first one's server has bound it.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("cannot bind a loopback port")
            .port();
        if HANDED_OUT
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(port)
        {
            return port;
        }
    }
}

pub fn accepts_connections(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// Finds `name` on PATH, failing the test (never skipping it) when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not on PATH; {INSTALL_HINT}"))
}

/// Debian keeps PostgreSQL's server binaries off PATH, in one folder per
/// major version; the newest version that has `name` is used.
pub fn postgres_tool(name: &str) -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|version| {
            root.join(version.to_string())
                .join("bin")
                .join(name)
                .is_file()
        })
        .max()
        .map(|version| root.join(version.to_string()).join("bin").join(name))
        .unwrap_or_else(|| panic!("no {name} under {}/*/bin; {INSTALL_HINT}", root.display()))
}

/// A system account from /etc/passwd, for servers that refuse to run as root.
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

impl Account {
    pub fn lookup(name: &str) -> Account {
        let passwd = fs::read_to_string("/etc/passwd").expect("cannot read /etc/passwd");
        passwd
            .lines()
            .map(|line| line.split(':').collect::<Vec<_>>())
            .find(|fields| fields.len() == 7 && fields[0] == name)
            .map(|fields| Account {
                name: name.to_owned(),
                uid: fields[2].parse().expect("numeric uid in /etc/passwd"),
                gid: fields[3].parse().expect("numeric gid in /etc/passwd"),
                home: PathBuf::from(fields[5]),
            })
            .unwrap_or_else(|| panic!("no `{name}` account; {INSTALL_HINT}"))
    }

    /// Makes `command` run as this account, with its HOME, and without
    /// root's supplementary groups (std drops them when the uid changes).
    pub fn apply(&self, command: &mut Command) {
        command
            .uid(self.uid)
            .gid(self.gid)
            .env("HOME", &self.home)
            .env("USER", &self.name);
    }

    pub fn give(&self, path: &Path) {
        chown(path, Some(self.uid), Some(self.gid))
            .unwrap_or_else(|e| panic!("cannot chown {}: {e}", path.display()));
    }
}

/// A fresh directory for one server's data, sockets and log.
pub fn scratch_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("muster-probe-")
        .tempdir()
        .expect("cannot create a temporary directory")
}
