//! Celery beat, started with the command muster generates, in a folder holding a one-line app.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::celery::APP;
use super::process::{SIGTERM, Server, scratch_dir, tool};

/// Where the beat template keeps its schedule; the probe reads its age.
pub const SCHEDULE: &str = "/tmp/celerybeat-schedule";

pub struct Beat {
    server: Option<Server>,
    _dir: TempDir,
}

impl Beat {
    /// Runs `argv` (`celery -A APP beat ... --schedule SCHEDULE`) until the schedule is written.
    pub fn start(argv: &[String], broker_url: &str) -> Beat {
        remove_schedule();
        let dir = scratch_dir();
        fs::write(
            dir.path().join(format!("{APP}.py")),
            format!("from celery import Celery\n\napp = Celery({APP:?})\n"),
        )
        .expect("cannot write the Celery app");
        assert_eq!(argv.first().map(String::as_str), Some("celery"), "{argv:?}");
        let mut beat = Command::new(tool("celery"));
        beat.args(&argv[1..])
            .env("CELERY_BROKER_URL", broker_url)
            .env("PYTHONPATH", dir.path())
            .current_dir(dir.path());
        let mut server = Server::spawn("celery beat", beat, &dir.path().join("beat.log"), SIGTERM);
        server.wait_ready(Duration::from_secs(60), || !schedule_files().is_empty());
        Beat {
            server: Some(server),
            _dir: dir,
        }
    }

    pub fn stop(&mut self) {
        self.server.take();
    }
}

impl Drop for Beat {
    fn drop(&mut self) {
        self.stop();
        remove_schedule();
    }
}

/// The schedule and whatever files its database keeps beside it (`-wal`, `.db`, ...).
pub fn schedule_files() -> Vec<PathBuf> {
    let name = SCHEDULE.rsplit('/').next().expect("a file name");
    fs::read_dir("/tmp")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(name))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Ages every schedule file by `minutes`, as a beat that stopped syncing leaves them.
pub fn age_schedule(minutes: u32) {
    for file in schedule_files() {
        let status = Command::new("touch")
            .arg("-d")
            .arg(format!("{minutes} minutes ago"))
            .arg(&file)
            .status()
            .expect("touch runs");
        assert!(status.success(), "cannot age {}", file.display());
    }
}

fn remove_schedule() {
    for file in schedule_files() {
        let _ = fs::remove_file(file);
    }
}
