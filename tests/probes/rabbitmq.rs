//! One RabbitMQ node for the whole test process: booting one takes seconds
//! of both cores, so tests share it, and it is stopped when the process exits.

use std::any::Any;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tempfile::TempDir;

use super::process::{
    Account, INSTALL_HINT, SIGTERM, Server, accepts_connections, free_port, scratch_dir, tool,
};

/// What `rabbitmq-diagnostics` needs, beyond the cookie, to find the node.
pub struct Node {
    pub name: String,
    pub epmd_port: u16,
}

struct Running {
    // Declared in stopping order: the node, then the epmd it registered with.
    _node: Server,
    _epmd: Server,
    _dir: TempDir,
}

static RUNNING: Mutex<Option<Running>> = Mutex::new(None);

unsafe extern "C" {
    // Statics are never dropped, so the C runtime has to stop the node.
    // atexit(3) is memory-safe for any `extern "C" fn()`.
    safe fn atexit(callback: extern "C" fn()) -> i32;
}

/// Runs when the test binary exits, including through `process::exit`,
/// which is how libtest exits when a test failed.
extern "C" fn stop_shared_node() {
    drop(
        RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(),
    );
}

/// The shared node, started by the first test that asks for it. When it
/// cannot start, every test that needs it fails with the first one's reason.
pub fn shared_node() -> &'static Node {
    static NODE: OnceLock<Result<Node, String>> = OnceLock::new();
    let started = NODE.get_or_init(|| {
        panic::catch_unwind(AssertUnwindSafe(start)).map_err(|payload| panic_message(&*payload))
    });
    match started {
        Ok(node) => node,
        Err(reason) => panic!("the shared RabbitMQ node did not start: {reason}"),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

fn start() -> Node {
    // The /usr/sbin wrapper would switch to the rabbitmq account through su,
    // which starts a new session: the node would escape our process group.
    let script = Path::new("/usr/lib/rabbitmq/bin/rabbitmq-server");
    assert!(
        script.is_file(),
        "{} is missing; {INSTALL_HINT}",
        script.display()
    );
    // The CLI tools, run as root, re-run themselves as `rabbitmq` with its
    // HOME, so the node must run as that account to share its Erlang cookie.
    let account = Account::lookup("rabbitmq");
    let dir = scratch_dir();
    account.give(dir.path());

    // A private epmd on a free port. One started by the node itself would
    // daemonise out of reach and outlive the tests.
    let epmd_port = free_port();
    let mut epmd = Command::new(tool("epmd"));
    epmd.args(["-port", &epmd_port.to_string()]);
    let mut epmd = Server::spawn("epmd", epmd, &dir.path().join("epmd.log"), SIGTERM);
    epmd.wait_ready(Duration::from_secs(10), || accepts_connections(epmd_port));

    let name = format!("muster-probe-{}@localhost", std::process::id());
    let amqp_port = free_port();
    let plugins = dir.path().join("enabled_plugins");
    fs::write(&plugins, "[].\n").expect("cannot write enabled_plugins");
    let mut rabbitmq = Command::new(script);
    rabbitmq
        .env("RABBITMQ_NODENAME", &name)
        .env("ERL_EPMD_PORT", epmd_port.to_string())
        .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
        .env("RABBITMQ_NODE_PORT", amqp_port.to_string())
        .env("RABBITMQ_DIST_PORT", free_port().to_string())
        .env("RABBITMQ_MNESIA_BASE", dir.path().join("mnesia"))
        .env("RABBITMQ_LOG_BASE", dir.path().join("log"))
        .env("RABBITMQ_ENABLED_PLUGINS_FILE", &plugins)
        // Nonexistent files: a machine's /etc/rabbitmq must not leak in.
        .env(
            "RABBITMQ_CONF_ENV_FILE",
            dir.path().join("rabbitmq-env.conf"),
        )
        .env("RABBITMQ_CONFIG_FILE", dir.path().join("rabbitmq.conf"))
        .env(
            "RABBITMQ_ADVANCED_CONFIG_FILE",
            dir.path().join("advanced.config"),
        )
        .current_dir(dir.path());
    account.apply(&mut rabbitmq);
    let mut node = Server::spawn(
        "rabbitmq-server",
        rabbitmq,
        &dir.path().join("rabbitmq.log"),
        SIGTERM,
    );
    // The node answers pings as soon as Erlang distribution is up; the AMQP
    // listener opens only once the broker has booted.
    node.wait_ready(Duration::from_secs(120), || accepts_connections(amqp_port));

    *RUNNING.lock().unwrap_or_else(PoisonError::into_inner) = Some(Running {
        _node: node,
        _epmd: epmd,
        _dir: dir,
    });
    assert_eq!(
        atexit(stop_shared_node),
        0,
        "cannot register the node's shutdown"
    );
    Node { name, epmd_port }
}
