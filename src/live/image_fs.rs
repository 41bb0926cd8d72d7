//! An image's file system as the tar stream `docker export` writes (a container's flattened
//! file system; the container is created, never started), read for the programs a probe may
//! run: which of them are executables on the image's `PATH`. So distroless and `scratch` images,
//! which cannot run `command -v`, are read as well as any other.
//!
//! Symbolic links are followed as the kernel would inside the image, directories too (Debian's
//! merged `/usr`: `/bin` is a link to `usr/bin`), and hard links (the busybox image links every
//! applet to one file) stand for their target; a link that leads nowhere is no program.

use std::collections::HashMap;
use std::io::Read;

/// Docker's `PATH` for a container whose image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How many links a lookup follows before it gives up (the kernel's limit).
const MAX_LINKS: usize = 40;

#[derive(Debug)]
enum Node {
    Dir,
    File {
        executable: bool,
    },
    Symlink(String),
    /// A hard link: the archive path of the file it shares.
    Hardlink(String),
}

/// The file system: every path of the archive, without a leading `/`.
#[derive(Debug, Default)]
struct Tree {
    nodes: HashMap<String, Node>,
}

/// Which of `wanted` are executable files on `path` (`PATH`'s folders) in the file system the tar
/// stream `archive` holds. Only headers are read: file contents are skipped, which the stream
/// still has to carry.
pub fn programs(
    archive: impl Read,
    path: &str,
    wanted: &[&'static str],
) -> std::io::Result<Vec<&'static str>> {
    let tree = Tree::read(archive)?;
    let dirs: Vec<&str> = path.split(':').filter(|d| d.starts_with('/')).collect();
    Ok(wanted
        .iter()
        .copied()
        .filter(|program| {
            dirs.iter()
                .any(|dir| tree.is_executable(&format!("{dir}/{program}")))
        })
        .collect())
}

impl Tree {
    fn read(archive: impl Read) -> std::io::Result<Tree> {
        let mut tree = Tree::default();
        let mut archive = tar::Archive::new(archive);
        for entry in archive.entries()? {
            let entry = entry?;
            let header = entry.header();
            let path = normal(&String::from_utf8_lossy(&entry.path_bytes()));
            if path.is_empty() {
                continue;
            }
            let link = || {
                entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default()
            };
            let node = match header.entry_type() {
                tar::EntryType::Directory => Node::Dir,
                tar::EntryType::Symlink => Node::Symlink(link()),
                tar::EntryType::Link => Node::Hardlink(normal(&link())),
                tar::EntryType::Regular | tar::EntryType::Continuous => Node::File {
                    executable: header.mode()? & 0o111 != 0,
                },
                // Devices, fifos: nothing a probe runs.
                _ => continue,
            };
            tree.nodes.insert(path, node);
        }
        Ok(tree)
    }

    /// Whether the absolute `path` leads to an executable file.
    fn is_executable(&self, path: &str) -> bool {
        matches!(self.resolve(path, 0), Some(Node::File { executable: true }))
    }

    /// The node `path` leads to, every link on the way followed.
    fn resolve(&self, path: &str, links: usize) -> Option<&Node> {
        if links > MAX_LINKS {
            return None;
        }
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut at: Vec<&str> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            match *part {
                "." => continue,
                ".." => {
                    at.pop();
                    continue;
                }
                _ => at.push(part),
            }
            let here = at.join("/");
            let rest = &parts[i + 1..];
            match self.nodes.get(&here) {
                Some(Node::Symlink(target)) => {
                    let base = if target.starts_with('/') {
                        String::new()
                    } else {
                        at[..at.len() - 1].join("/")
                    };
                    let next = format!("/{base}/{target}/{}", rest.join("/"));
                    return self.resolve(&next, links + 1);
                }
                Some(Node::Hardlink(target)) if rest.is_empty() => {
                    return self.resolve(&format!("/{target}"), links + 1);
                }
                Some(node) if rest.is_empty() => return Some(node),
                Some(Node::File { .. }) => return None,
                // A folder, or one the archive only implies by the paths under it.
                _ => {}
            }
        }
        // The root itself, or a folder with no entry of its own.
        Some(&Node::Dir)
    }
}

/// An archive path without `./`, a leading `/` or a trailing `/`.
fn normal(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    path.trim_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive as `docker export` writes one: relative paths, folders first.
    fn archive(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, what) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(0);
            match what.split_once(' ') {
                Some(("link", target)) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_mode(0o777);
                    builder.append_link(&mut header, path, target).unwrap();
                    continue;
                }
                Some(("hard", target)) => {
                    header.set_entry_type(tar::EntryType::Link);
                    builder.append_link(&mut header, path, target).unwrap();
                    continue;
                }
                _ => {}
            }
            let (kind, mode) = match *what {
                "dir" => (tar::EntryType::Directory, 0o755),
                "exe" => (tar::EntryType::Regular, 0o755),
                _ => (tar::EntryType::Regular, 0o644),
            };
            header.set_entry_type(kind);
            header.set_mode(mode);
            builder
                .append_data(&mut header, path, std::io::empty())
                .unwrap();
        }
        builder.into_inner().unwrap()
    }

    const WANTED: &[&str] = &[
        "bash",
        "busybox",
        "curl",
        "nc",
        "pg_isready",
        "python",
        "python3",
        "sh",
        "wget",
    ];

    #[test]
    fn links_are_followed_as_inside_the_image() {
        let tar = archive(&[
            ("bin", "link usr/bin"),
            ("sbin", "link usr/sbin"),
            ("usr/", "dir"),
            ("usr/bin/", "dir"),
            ("usr/bin/busybox", "exe"),
            ("usr/bin/sh", "link busybox"),
            ("usr/bin/wget", "link /bin/busybox"),
            ("usr/bin/nc", "link ../../bin/busybox"),
            ("usr/bin/curl", "link /usr/lib/curl-gone"),
            ("usr/bin/bash", "file"),
            ("usr/sbin/pg_isready", "exe"),
            ("usr/local/bin/python3.11", "exe"),
            ("usr/local/bin/python3", "link python3.11"),
            ("usr/local/bin/python", "hard usr/local/bin/python3.11"),
        ]);
        let found = programs(tar.as_slice(), DEFAULT_PATH, WANTED).unwrap();
        // No curl (its link leads nowhere), no bash (not executable).
        assert_eq!(
            found,
            [
                "busybox",
                "nc",
                "pg_isready",
                "python",
                "python3",
                "sh",
                "wget"
            ]
        );
    }

    #[test]
    fn only_the_path_counts() {
        let tar = archive(&[
            ("busybox/", "dir"),
            ("busybox/sh", "exe"),
            ("busybox/wget", "exe"),
            ("app/server", "exe"),
        ]);
        assert!(
            programs(tar.as_slice(), DEFAULT_PATH, WANTED)
                .unwrap()
                .is_empty()
        );
        // Distroless's debug tags put busybox on PATH themselves.
        let path = format!("{DEFAULT_PATH}:/busybox");
        assert_eq!(
            programs(tar.as_slice(), &path, WANTED).unwrap(),
            ["sh", "wget"]
        );
    }

    #[test]
    fn a_loop_of_links_is_no_program() {
        let tar = archive(&[
            ("usr/bin/sh", "link /usr/bin/dash"),
            ("usr/bin/dash", "link sh"),
        ]);
        assert!(
            programs(tar.as_slice(), DEFAULT_PATH, &["sh"])
                .unwrap()
                .is_empty()
        );
    }
}
