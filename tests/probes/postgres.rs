//! Throwaway PostgreSQL and PgBouncer servers on free loopback ports.

use std::fs;
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::{
    Account, SIGINT, Server, accepts_connections, free_port, postgres_tool, scratch_dir, tool,
};

const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the server accepts connections. The postgres image's init scripts
/// run against a server that listens on its Unix socket only.
#[derive(Clone, Copy)]
pub enum Listen {
    Loopback,
    SocketOnly,
}

pub struct Postgres {
    // Declared before `dir`: the server stops before its files are removed.
    server: Option<Server>,
    port: u16,
    _dir: TempDir,
}

impl Postgres {
    /// A cluster whose superuser is `user`, with an empty `database`.
    pub fn start(user: &str, database: &str, listen: Listen) -> Postgres {
        // initdb and postgres refuse to run as root.
        let account = Account::lookup("postgres");
        let dir = scratch_dir();
        account.give(dir.path());
        let data = dir.path().join("data");
        let log = dir.path().join("postgres.log");

        let mut initdb = Command::new(postgres_tool("initdb"));
        initdb
            .args(["--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"])
            .arg(format!("--username={user}"))
            .arg("--pgdata")
            .arg(&data)
            .current_dir(dir.path());
        account.apply(&mut initdb);
        let initialised = initdb.output().expect("cannot run initdb");
        assert!(
            initialised.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initialised.stderr)
        );

        let port = free_port();
        let addresses = match listen {
            Listen::Loopback => "127.0.0.1",
            Listen::SocketOnly => "",
        };
        let mut postgres = Command::new(postgres_tool("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-c")
            .arg(format!("listen_addresses={addresses}"))
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(["-c", "fsync=off", "-c", "shared_buffers=16MB"])
            .current_dir(dir.path());
        account.apply(&mut postgres);
        // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients.
        let mut server = Server::spawn("postgres", postgres, &log, SIGINT);
        // pg_ctl's own readiness test, which works whether TCP listens or not.
        let pid_file = data.join("postmaster.pid");
        server.wait_ready(START_TIMEOUT, || {
            fs::read_to_string(&pid_file)
                .is_ok_and(|pid| pid.lines().nth(7).is_some_and(|s| s.trim() == "ready"))
        });

        let created = Command::new(postgres_tool("createdb"))
            .arg("--host")
            .arg(dir.path())
            .args(["--port", &port.to_string(), "--username", user, database])
            .output()
            .expect("cannot run createdb");
        assert!(
            created.status.success(),
            "createdb failed: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        Postgres {
            server: Some(server),
            port,
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn stop(&mut self) {
        self.server.take();
    }
}

pub struct PgBouncer {
    server: Option<Server>,
    port: u16,
    _dir: TempDir,
}

impl PgBouncer {
    /// A pooler for `database` on the backend at `backend_port`, letting
    /// `user` in without a password.
    pub fn start(backend_port: u16, user: &str, database: &str) -> PgBouncer {
        // pgbouncer refuses to run as root.
        let account = Account::lookup("postgres");
        let dir = scratch_dir();
        account.give(dir.path());
        let port = free_port();
        let users = dir.path().join("userlist.txt");
        fs::write(&users, format!("\"{user}\" \"\"\n")).expect("cannot write the user list");
        let config = dir.path().join("pgbouncer.ini");
        fs::write(
            &config,
            format!(
                "[databases]\n\
                 {database} = host=127.0.0.1 port={backend_port} dbname={database}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = trust\n\
                 auth_file = {users}\n",
                users = users.display(),
            ),
        )
        .expect("cannot write pgbouncer.ini");

        let mut pgbouncer = Command::new(tool("pgbouncer"));
        pgbouncer.arg(&config).current_dir(dir.path());
        account.apply(&mut pgbouncer);
        // SIGINT is pgbouncer's safe shutdown, SIGTERM its immediate one.
        let mut server = Server::spawn(
            "pgbouncer",
            pgbouncer,
            &dir.path().join("pgbouncer.log"),
            SIGINT,
        );
        server.wait_ready(START_TIMEOUT, || accepts_connections(port));
        PgBouncer {
            server: Some(server),
            port,
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn stop(&mut self) {
        self.server.take();
    }
}
