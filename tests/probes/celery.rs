//! A Celery worker from the project's virtualenv, serving a one-line app.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::{SIGTERM, Server, scratch_dir, tool};

/// The app module the worker and the probe load (`celery -A APP`).
pub const APP: &str = "config";

pub struct CeleryWorker {
    server: Option<Server>,
    dir: TempDir,
}

impl CeleryWorker {
    /// A worker named `celery@{hostname}`, as in a container whose hostname
    /// is `hostname`, taking its broker from CELERY_BROKER_URL as an app
    /// configured from the environment does.
    pub fn start(broker_url: &str, hostname: &str) -> CeleryWorker {
        let dir = scratch_dir();
        fs::write(
            dir.path().join(format!("{APP}.py")),
            format!("from celery import Celery\n\napp = Celery({APP:?})\n"),
        )
        .expect("cannot write the Celery app");
        let mut celery = Command::new(tool("celery"));
        celery
            .args(["-A", APP, "worker", "-n", &format!("celery@{hostname}")])
            // One process, and none of the cluster chatter a lone worker waits on.
            .args(["--pool", "solo", "--without-mingle", "--without-gossip"])
            .args(["--without-heartbeat", "--loglevel", "INFO"])
            .env("CELERY_BROKER_URL", broker_url)
            .env("PYTHONPATH", dir.path())
            .current_dir(dir.path());
        let log = dir.path().join("worker.log");
        let mut server = Server::spawn("celery worker", celery, &log, SIGTERM);
        let ready = format!("celery@{hostname} ready.");
        server.wait_ready(Duration::from_secs(60), || {
            fs::read_to_string(&log).is_ok_and(|text| text.contains(&ready))
        });
        CeleryWorker {
            server: Some(server),
            dir,
        }
    }

    /// Where the app module lives; a probe needs it on PYTHONPATH, as the
    /// image's working directory provides it.
    pub fn app_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn stop(&mut self) {
        self.server.take();
    }
}
