//! Production, closed by default: the README's table of the lints about who gets in is the lint
//! registry's, row for row; the examples follow their own advice and pass `muster check
//! --profile prod` without an `allow`; and a lint never rewrites what the user wrote.

mod common;

use common::{Muster, repo_root};
use muster::model::Lint;

/// The rows of the first table under the README's `## Production, closed by default`.
fn readme_rows() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme
        .find("\n## Production, closed by default\n")
        .expect("README has a section `## Production, closed by default`");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let table = section
        .split("\n\n")
        .find(|block| block.starts_with("| lint | checks | why |"))
        .expect("the section has a table `| lint | checks | why |`");
    table.lines().skip(2).map(str::to_owned).collect()
}

#[test]
fn the_readme_table_is_the_lint_registrys() {
    // A `|` inside a cell would end it.
    let cell = |text: &str| text.replace('|', "\\|");
    let expected: Vec<String> = Lint::CLOSED_BY_DEFAULT
        .iter()
        .map(|l| {
            format!(
                "| `{}` | {} | {} |",
                l.name(),
                cell(l.checks()),
                cell(l.why())
            )
        })
        .collect();
    let rows = readme_rows();
    for (row, want) in rows.iter().zip(&expected) {
        assert_eq!(row, want, "write the README's row as the registry says");
    }
    assert_eq!(rows.len(), expected.len(), "{rows:#?}");
}

/// The examples publish datastore ports in dev only, on 127.0.0.1, give every datastore a
/// password and keep sockets and host namespaces out: under prod the one warning left is
/// `no-autoheal`, a trade-off (the healer gets the Docker socket) the README leaves to whoever
/// runs the stack.
#[test]
fn the_examples_pass_check_in_prod_without_an_allow() {
    for example in ["ecommerce", "minimal"] {
        let catalogue = repo_root().join(format!("examples/{example}/services.toml"));
        let text = std::fs::read_to_string(&catalogue).unwrap();
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("allow")),
            "{example} allows a lint"
        );
        let run = Muster::new()
            .args(&["check", "--profile", "prod", "--format", "json", "-c"])
            .args(&[catalogue.to_str().unwrap()])
            .run()
            .success();
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["errors"], 0, "{example}: {}", run.stdout);
        let lints: Vec<&str> = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["lint"].as_str().unwrap_or("error"))
            .collect();
        assert_eq!(lints, ["no-autoheal"], "{example}: {}", run.stdout);
    }
}

/// The issue's catalogue: every way in is named, and `gen` writes what the user wrote.
#[test]
fn a_lint_says_what_to_write_and_gen_writes_what_was_written() {
    let catalogue = r#"
[services.redis]
kind = "cache"
image = "redis:7.4"
ports = ["6379:6379"]

[services.pg]
kind = "db"
image = "postgres:16"
env = { POSTGRES_PASSWORD = "${PGPW:?set PGPW in .env}" }
ports = ["5432:5432"]

[services.es]
kind = "search"
image = "docker.elastic.co/elasticsearch/elasticsearch:8.15.3"
env = { "xpack.security.enabled" = "false", "discovery.type" = "single-node" }
ports = ["9200:9200"]

[services.tool]
kind = "http"
image = "python:3.12-slim"
port = 8000
volumes = ["/var/run/docker.sock:/var/run/docker.sock"]
compose = { privileged = true }
"#;
    let check = Muster::new()
        .catalogue(catalogue)
        .args(&["check", "--profile", "prod", "--format", "json"])
        .run()
        .success();
    let json: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let mut lints: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let message = d["message"].as_str().unwrap();
            let service = message.split('`').nth(1).unwrap_or_default();
            (d["lint"].as_str().unwrap(), service)
        })
        .collect();
    lints.sort();
    assert_eq!(
        lints,
        [
            ("auth-off", "es"),
            ("auth-off", "redis"),
            ("datastore-published", "es"),
            ("datastore-published", "pg"),
            ("datastore-published", "redis"),
            ("docker-socket", "tool"),
            ("health-path-assumed", "tool"),
            ("no-autoheal", "prod"),
            ("privileged", "tool"),
        ],
        "{}",
        check.stdout
    );
    let published = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["lint"] == "datastore-published" && d["message"].as_str().unwrap().contains("`pg`")
        })
        .unwrap();
    assert!(
        published["notes"][0]
            .as_str()
            .unwrap()
            .contains("`127.0.0.1:5432:5432`"),
        "{published}"
    );

    let generated = common::generate(catalogue, "prod").success();
    assert_eq!(generated.service("pg")["ports"][0], "5432:5432");
    assert_eq!(generated.service("redis")["ports"][0], "6379:6379");
    assert_eq!(generated.service("tool")["privileged"], true);
    assert_eq!(
        generated.service("es")["environment"]["xpack.security.enabled"],
        "false"
    );
}
