//! `muster images` against a stand-in `docker` CLI: the command's own part (which images it asks
//! for, what it writes, what it keeps, what it says) without an engine. The real engine judges
//! the same command on real images in `tests/engine/probed.rs`.
//!
//! STAND-IN: `docker` here is a shell script (written by `fake_docker` below) that answers
//! `image inspect` from JSON files, `create` with a fixed container id, `export` with a tar file
//! made by GNU tar from a folder, and `rm -f` with nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const CATALOGUE: &str = r#"
[project]
name = "shop"

[services.web]
kind = "http"
build = "./web"
port = 3000

[services.whoami]
kind = "http"
image = "traefik/whoami:v1.10.3"
port = 80

[services.gone]
kind = "http"
image = "registry.example.com/gone:1"

[services.never]
kind = "http"
image = "registry.example.com/never:1"
"#;

/// The stand-in `docker`, in `dir/bin`, answering from `dir/images/NAME.json` and
/// `dir/fs/NAME.tar`, NAME the reference with `/` and `:` as `_`.
fn fake_docker(dir: &Path) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
# STAND-IN for the docker CLI (tests/images.rs): image inspect, create, export and rm -f only.
fake={dir}
name() {{ echo "$1" | tr '/:' '__'; }}
case "$1" in
image)
    ref=$4
    [ -f "$fake/images/$(name "$ref").json" ] || {{ echo "Error: No such image: $ref" >&2; exit 1; }}
    cat "$fake/images/$(name "$ref").json" ;;
create)
    for last; do :; done
    echo "$last" > "$fake/created"
    echo 0123456789ab ;;
export)
    id=$(cat "$fake/created")
    for f in "$fake"/images/*.json; do
        if grep -q "\"Id\": \"$id\"" "$f"; then cat "$fake/fs/$(basename "$f" .json).tar"; fi
    done ;;
rm)
    rm -f "$fake/created" ;;
*)
    echo "fake docker: $*" >&2; exit 1 ;;
esac
"#,
        dir = dir.display()
    );
    let path = bin.join("docker");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// An image the stand-in holds: its inspect JSON and its file system as a tar of `files`
/// (`path` -> `exe`, `file` or `link TARGET`).
fn image(dir: &Path, reference: &str, id: &str, config: &str, files: &[(&str, &str)]) {
    let name = reference.replace(['/', ':'], "_");
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::write(
        images.join(format!("{name}.json")),
        format!(
            r#"[{{"Id": "{id}", "RepoDigests": [], "Os": "linux", "Architecture": "amd64", "Config": {config}}}]"#
        ),
    )
    .unwrap();
    let root = dir.join("roots").join(&name);
    for (path, what) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        match what.split_once(' ') {
            Some(("link", target)) => std::os::unix::fs::symlink(target, &path).unwrap(),
            _ => {
                std::fs::write(&path, "").unwrap();
                let mode = if *what == "exe" { 0o755 } else { 0o644 };
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            }
        }
    }
    std::fs::create_dir_all(dir.join("fs")).unwrap();
    let tar = Command::new("tar")
        .arg("-cf")
        .arg(dir.join("fs").join(format!("{name}.tar")))
        .arg("-C")
        .arg(&root)
        .arg(".")
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
}

fn muster(dir: &Path, args: &[&str]) -> Output {
    let path = std::env::var("PATH").unwrap_or_default();
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .current_dir(dir.join("project"))
        .env("PATH", format!("{}:{path}", dir.join("bin").display()))
        .output()
        .unwrap()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("services.toml"), CATALOGUE).unwrap();
    // The build's Dockerfile, which gen reads (the image built from it is the stand-in's).
    std::fs::create_dir_all(project.join("web")).unwrap();
    std::fs::write(project.join("web/Dockerfile"), "FROM node:20-alpine\n").unwrap();
    fake_docker(dir.path());
    image(
        dir.path(),
        "shop-web",
        "sha256:aaaa000000000000000000000000000000000000000000000000000000000001",
        r#"{"User": "node", "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["node", "server.js"], "ExposedPorts": {"3000/tcp": {}, "9229/udp": {}}}"#,
        &[
            ("bin", "link usr/bin"),
            ("usr/bin/busybox", "exe"),
            ("usr/bin/sh", "link busybox"),
            ("usr/bin/wget", "link /bin/busybox"),
            ("usr/bin/curl", "file"),
            ("usr/local/bin/node", "exe"),
        ],
    );
    image(
        dir.path(),
        "traefik/whoami:v1.10.3",
        "sha256:bbbb000000000000000000000000000000000000000000000000000000000002",
        r#"{"Entrypoint": ["/whoami"], "ExposedPorts": {"80/tcp": {}}, "Healthcheck": {"Test": ["NONE"]}}"#,
        &[("whoami", "exe")],
    );
    dir
}

#[test]
fn the_lock_holds_what_the_images_hold_and_the_same_images_write_the_same_bytes() {
    let dir = setup();
    let lock = dir.path().join("project/muster.lock");
    // An entry for an image this engine lacks is kept; one for a service gone is dropped.
    std::fs::write(
        &lock,
        "version = 1\n\n[images.\"registry.example.com/gone:1\"]\nid = \"sha256:cccc\"\n\
         platform = \"linux/amd64\"\nprograms = [\"curl\", \"sh\"]\n\n\
         [images.\"registry.example.com/removed:1\"]\nid = \"sha256:dddd\"\n\
         platform = \"linux/amd64\"\nprograms = []\n",
    )
    .unwrap();
    let out = muster(dir.path(), &["images"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    let text = std::fs::read_to_string(&lock).unwrap();
    let expected = r#"version = 1

[images."registry.example.com/gone:1"]
id = "sha256:cccc"
platform = "linux/amd64"
programs = ["curl", "sh"]

[images."traefik/whoami:v1.10.3"]
id = "sha256:bbbb000000000000000000000000000000000000000000000000000000000002"
platform = "linux/amd64"
entrypoint = ["/whoami"]
exposed = [80]
healthcheck = ["NONE"]
programs = []

[builds.web]
image = "shop-web"
id = "sha256:aaaa000000000000000000000000000000000000000000000000000000000001"
platform = "linux/amd64"
user = "node"
cmd = ["node", "server.js"]
exposed = [3000]
programs = ["busybox", "node", "sh", "wget"]
"#;
    assert!(text.ends_with(expected), "{text}");
    assert!(
        text.starts_with("# "),
        "the header says what the file is:\n{text}"
    );
    // Each image on its line; the one the engine lacks kept; the one never read said so.
    assert!(stdout.contains("shop-web (the build of web): aaaa00000000 linux/amd64, user node; programs: busybox node sh wget"), "{stdout}");
    assert!(stdout.contains("registry.example.com/gone:1 (gone): not on this engine; its entry is kept as it was (cccc)"), "{stdout}");
    assert!(
        stderr.contains("image `registry.example.com/never:1` of `never` is not on this engine"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 images read, 1 kept, 1 not on this engine"),
        "{stderr}"
    );
    // The same images, the same bytes.
    assert!(muster(dir.path(), &["images"]).status.success());
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), text);
    // And gen takes them: wget for web, the mounted client for whoami, no unknown-image warning.
    let generated = muster(dir.path(), &["gen"]);
    let file = String::from_utf8_lossy(&generated.stdout);
    assert!(generated.status.success());
    assert!(
        file.contains(
            r#"test: ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:3000/health/live"]"#
        ),
        "{file}"
    );
    assert!(
        file.contains(r#"test: ["CMD", "/muster-probe/bin/busybox", "wget""#),
        "{file}"
    );
    let said = String::from_utf8_lossy(&generated.stderr);
    assert!(
        !said.contains("`traefik/whoami:v1.10.3`, so its probe assumes python"),
        "{said}"
    );
}

#[test]
fn check_warns_at_the_entry_of_an_image_the_engine_now_holds_another_of() {
    let dir = setup();
    assert!(muster(dir.path(), &["images"]).status.success());
    let current = muster(dir.path(), &["check"]);
    let said = String::from_utf8_lossy(&current.stderr);
    assert!(current.status.success(), "{said}");
    assert!(
        said.contains("muster.lock: 2 of 2 images as read"),
        "{said}"
    );
    // web rebuilt: another ID under the same name.
    let json = dir.path().join("images/shop-web.json");
    let text = std::fs::read_to_string(&json)
        .unwrap()
        .replace("sha256:aaaa", "sha256:eeee");
    std::fs::write(&json, text).unwrap();
    let stale = muster(dir.path(), &["check"]);
    let said = String::from_utf8_lossy(&stale.stderr);
    assert!(stale.status.success(), "{said}");
    assert!(
        said.contains("warning[stale-lock]: the engine holds another image under `shop-web` (the build of `web`) than muster.lock read: eeee00000000 now, aaaa00000000 then"),
        "{said}"
    );
    assert!(said.contains("muster.lock:"), "{said}");
    assert!(said.contains("1 of 2 images as read, 1 changed"), "{said}");
    let denied = muster(dir.path(), &["check", "--deny-warnings"]);
    assert_eq!(denied.status.code(), Some(1));
}
