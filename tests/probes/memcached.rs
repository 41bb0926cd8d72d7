//! Throwaway memcached servers on free loopback ports.

use std::process::Command;
use std::time::Duration;

use super::process::{SIGTERM, Server, accepts_connections, free_port, scratch_dir, tool};

pub struct Memcached {
    server: Option<Server>,
    port: u16,
}

impl Memcached {
    pub fn start() -> Memcached {
        let dir = scratch_dir();
        let port = free_port();
        let mut memcached = Command::new(tool("memcached"));
        memcached
            .args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"])
            // memcached refuses to run as root without a user to drop to.
            .args(["-u", "memcache"]);
        let mut server = Server::spawn(
            "memcached",
            memcached,
            &dir.path().join("memcached.log"),
            SIGTERM,
        );
        server.wait_ready(Duration::from_secs(30), || accepts_connections(port));
        Memcached {
            server: Some(server),
            port,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn stop(&mut self) {
        self.server.take();
    }
}
