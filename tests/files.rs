//! What `gen -o` and `add` do to the files they write: a symbolic link stays a link to the file
//! it named, and a file whose contents would not change is left alone (same inode, same
//! modification time), as a single-file bind mount and a file watcher need.

mod common;

use common::Muster;
use std::os::unix::fs::MetadataExt;

const CATALOGUE: &str = "[services.cache]\nkind = \"cache\"\nimage = \"redis:7.4\"\n";

#[test]
fn gen_writes_through_a_link_and_keeps_it() {
    let m = Muster::new()
        .catalogue(CATALOGUE)
        .file("deploy/compose.yml", "old\n");
    // A relative link to an existing file.
    std::os::unix::fs::symlink("deploy/compose.yml", m.path("docker-compose.yml")).unwrap();
    let m = m.args(&["gen", "-o", "docker-compose.yml"]);
    m.run().success();
    let link = std::fs::symlink_metadata(m.path("docker-compose.yml")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    let written = std::fs::read_to_string(m.path("deploy/compose.yml")).unwrap();
    assert!(written.contains("image: redis:7.4"), "{written}");

    // A link to a file that does not exist yet: the file is made where the link points.
    let fresh = Muster::new().catalogue(CATALOGUE).file("deploy/.keep", "");
    std::os::unix::fs::symlink("deploy/new.yml", fresh.path("new-link.yml")).unwrap();
    let fresh = fresh.args(&["gen", "-o", "new-link.yml"]);
    fresh.run().success();
    assert!(
        std::fs::symlink_metadata(fresh.path("new-link.yml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(fresh.path("deploy/new.yml").is_file());
}

#[test]
fn gen_leaves_an_unchanged_file_alone() {
    let m = Muster::new()
        .catalogue(CATALOGUE)
        .args(&["gen", "-o", "docker-compose.yml"]);
    m.run().success();
    let before = std::fs::metadata(m.path("docker-compose.yml")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    m.run().success();
    let after = std::fs::metadata(m.path("docker-compose.yml")).unwrap();
    assert_eq!(before.ino(), after.ino(), "an identical file was replaced");
    assert_eq!(before.mtime_nsec(), after.mtime_nsec());

    // A change is written, as a new file renamed over the old one.
    std::fs::write(
        m.path("services.toml"),
        CATALOGUE.replace("redis:7.4", "redis:7.2"),
    )
    .unwrap();
    m.run().success();
    let changed = std::fs::metadata(m.path("docker-compose.yml")).unwrap();
    assert_ne!(before.ino(), changed.ino());
    assert!(
        std::fs::read_to_string(m.path("docker-compose.yml"))
            .unwrap()
            .contains("redis:7.2")
    );
}

#[test]
fn add_keeps_a_linked_catalogue_a_link() {
    let m = Muster::new().file("shared/services.toml", CATALOGUE);
    std::os::unix::fs::symlink("shared/services.toml", m.path("services.toml")).unwrap();
    let m = m.args(&[
        "add",
        "http",
        "web",
        "--image",
        "nginx:1.27",
        "--port",
        "80",
    ]);
    m.run().success();
    assert!(
        std::fs::symlink_metadata(m.path("services.toml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let shared = std::fs::read_to_string(m.path("shared/services.toml")).unwrap();
    assert!(shared.contains("[services.web]"), "{shared}");
}

/// `-o` naming a pipe or a device writes into it: renaming a temporary file over it would
/// replace it with a regular file (over `/dev/null`, for every program on the machine). A FIFO
/// in the test's own folder stands in for the device.
#[test]
fn gen_writes_into_a_pipe_and_leaves_it_a_pipe() {
    use std::os::unix::fs::FileTypeExt;
    let m = Muster::new().catalogue(CATALOGUE);
    let fifo = m.path("compose.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let m = m.args(&["gen", "-o", "compose.fifo"]);
    m.run().success();
    let read = reader.join().unwrap();
    assert!(read.contains("image: redis:7.4"), "{read}");
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the pipe was replaced: {kind:?}");
}
