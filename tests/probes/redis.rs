//! Throwaway Redis servers on free loopback ports.

use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::{SIGTERM, Server, accepts_connections, free_port, scratch_dir, tool};

pub struct Redis {
    server: Option<Server>,
    port: u16,
    _dir: TempDir,
}

impl Redis {
    /// An empty, non-persistent server; `password` turns on `requirepass`.
    pub fn start(password: Option<&str>) -> Redis {
        let dir = scratch_dir();
        let port = free_port();
        let mut redis = Command::new(tool("redis-server"));
        redis
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path());
        if let Some(password) = password {
            redis.args(["--requirepass", password]);
        }
        let mut server = Server::spawn(
            "redis-server",
            redis,
            &dir.path().join("redis.log"),
            SIGTERM,
        );
        server.wait_ready(Duration::from_secs(30), || accepts_connections(port));
        Redis {
            server: Some(server),
            port,
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn stop(&mut self) {
        self.server.take();
    }
}
