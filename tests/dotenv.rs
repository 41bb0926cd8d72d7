//! muster reads a `.env` as Compose 2.40.3 does: each file below is given to both, muster's
//! reader (`model::dotenv`, through the library) and Compose (`docker-compose --env-file FILE
//! config`), with the same process environment, and the verdicts and values must agree. The
//! values are compared through a service whose environment interpolates every variable, which
//! Compose prints exactly (`config --format json`); the names through `config --environment`.

mod common;

use indexmap::IndexMap;
use muster::model::dotenv;
use std::path::Path;

/// The process environment both readers get.
const PROCESS: &[(&str, &str)] = &[("FROM_PROCESS", "process value"), ("SHADOWED", "process")];

const FILES: &[&str] = &[
    "A=1\nB=${A}2\nexport C=three\nD: yaml style\n   E  =  spaced   \n",
    "# comment\nA=x # trailing comment\nB=x#not a comment\nC='single $A # kept'\n",
    "A=\"double \\\"quoted\\\" \\t tab \\n newline \\$A \\\\ back\"\nB=\"multi\nline value\"\n",
    "FROM_PROCESS\nSHADOWED=file\nUSES=${SHADOWED}-${FROM_PROCESS}\nNOT_SET_ANYWHERE\n",
    "A=${UNSET:-fallback}\nB=${A:+alt}\nC=${UNSET-}\nD=$$literal\nE=${A:-{}\n",
    "A=\"x\" B=y\nC=\"oct \\0101 \\012 \\0 \\q\"\n",
    "\u{feff}BOM=after a byte order mark\n",
    "a.b=dots\na[1]=brackets\nkebab-case=dash\n",
    // Refused by both.
    "A=\"unterminated\n",
    "A B=space in name\n",
    "%bad=name\n",
    "A=${NOPE:?required here}\n",
    "A=${\n",
];

/// muster's reading, or `None` when it refuses the file.
fn ours(text: &str) -> Option<IndexMap<String, String>> {
    let lookup = |name: &str| {
        PROCESS
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let mut vars = IndexMap::new();
    dotenv::parse(text, 0, &lookup, &mut vars).ok()?;
    Some(vars.into_iter().map(|(k, e)| (k, e.value)).collect())
}

fn compose(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = common::tool("docker-compose");
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in PROCESS {
        cmd.env(k, v);
    }
    cmd.args(["--env-file", "test.env", "-f", "compose.yml"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn env_files_read_as_compose_reads_them() {
    let mut wrong = Vec::new();
    for text in FILES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test.env"), text).unwrap();
        let ours = ours(text);
        // Every name muster read that Compose can interpolate, into one service's environment.
        let names: Vec<String> = ours
            .iter()
            .flat_map(|m| m.keys())
            .filter(|k| k.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()))
            .cloned()
            .collect();
        let mut file =
            String::from("services:\n  s:\n    image: x\n    environment:\n      X_: x\n");
        for name in &names {
            file.push_str(&format!("      V_{name}: ${{{name}}}\n"));
        }
        std::fs::write(dir.path().join("compose.yml"), file).unwrap();
        let out = compose(dir.path(), &["config", "--format", "json"]);
        match (&ours, out.status.success()) {
            (None, false) => continue,
            (Some(_), false) => {
                wrong.push(format!(
                    "{text:?}: Compose refuses it ({}), muster reads it",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
                continue;
            }
            (None, true) => {
                wrong.push(format!("{text:?}: Compose reads it, muster refuses it"));
                continue;
            }
            (Some(_), true) => {}
        }
        let ours = ours.unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let environment = &doc["services"]["s"]["environment"];
        for name in &names {
            // `config` writes a file it could read again: each `$` as `$$`.
            let theirs = environment[format!("V_{name}")]
                .as_str()
                .unwrap_or_default()
                .replace("$$", "$");
            // The process wins over the file, for Compose and for `check`.
            let value = PROCESS
                .iter()
                .find(|(k, _)| k == name)
                .map_or(ours[name].as_str(), |(_, v)| v);
            if theirs != value {
                wrong.push(format!(
                    "{text:?}: {name} is {theirs:?} to Compose, {value:?} to muster"
                ));
            }
        }
        // The names, which `config --environment` prints one `NAME=value` a line; the test's
        // values hold no `=` on a later line.
        let listed = compose(dir.path(), &["config", "--environment"]);
        let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
        for name in ours.keys() {
            if !listed.lines().any(|l| l.starts_with(&format!("{name}="))) {
                wrong.push(format!("{text:?}: muster reads {name}, Compose does not"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
