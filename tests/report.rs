//! `muster report`: the markdown health status, checked against a reviewed golden file for the
//! ecommerce example (`MUSTER_BLESS=1` rewrites it) and piece by piece on small catalogues.

mod common;

use common::{Muster, assert_golden, repo_root};
use std::process::Command;

fn report(catalogue: &str, args: &[&str]) -> String {
    Muster::new()
        .catalogue(catalogue)
        .args(&[&["report"], args].concat())
        .run()
        .success()
        .stdout
}

#[test]
fn ecommerce_report_matches_its_golden_file() {
    let output = Command::new(env!("CARGO_BIN_EXE_muster"))
        .current_dir(repo_root())
        .args(["report", "-c", "examples/ecommerce/services.toml"])
        .output()
        .expect("muster runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = String::from_utf8(output.stdout).unwrap();
    assert_golden("tests/golden/ecommerce.report.md", &generated);
}

const SMALL: &str = r#"
[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "pw" }

[services.migrate]
kind = "job"
build = "."
depends_on = ["db"]

[services.cache]
kind = "cache"
image = "redis:7.4"
healthcheck = { disable = true }

[services.web-app]
kind = "http"
build = "."
restart = "on-failure"
depends_on = { db = "healthy", migrate = "completed", cache = "started" }
"#;

#[test]
fn services_without_a_healthcheck_say_why() {
    let text = report(SMALL, &[]);
    assert!(
        text.contains("| migrate | job | runs to completion"),
        "{text}"
    );
    assert!(
        text.contains(
            "| cache | cache | disabled by the user (`healthcheck.disable` in catalogue) |"
        ),
        "{text}"
    );
    assert!(text.contains("2 with a healthcheck, 2 without"), "{text}");
}

#[test]
fn probes_are_shown_with_their_client() {
    let text = report(SMALL, &[]);
    let db = text.lines().find(|l| l.starts_with("| db |")).unwrap();
    assert!(db.contains("| pg_isready |"), "{db}");
    // As the container runs it: Compose has turned `$$` into `$`.
    assert!(db.contains("\"${POSTGRES_USER:-postgres}\""), "{db}");
    let web = text.lines().find(|l| l.starts_with("| web-app |")).unwrap();
    assert!(web.contains("| python urllib |"), "{web}");
}

#[test]
fn the_dependency_graph_is_mermaid_with_conditions() {
    let text = report(SMALL, &[]);
    assert!(text.contains("```mermaid\ngraph TD\n"), "{text}");
    // `web-app` is no Mermaid id: it gets a positional one, labelled with the name.
    assert!(text.contains("    s3[\"web-app\"]\n"), "{text}");
    assert!(text.contains("    migrate -->|healthy| db\n"), "{text}");
    assert!(text.contains("    s3 -->|completed| migrate\n"), "{text}");
    assert!(text.contains("    s3 -->|started| cache\n"), "{text}");
}

#[test]
fn restart_policies_come_from_each_profile() {
    let text = report(SMALL, &[]);
    assert!(text.contains("| service | dev | prod |"), "{text}");
    assert!(
        text.contains("| db | `unless-stopped` | `always` |"),
        "{text}"
    );
    assert!(
        text.contains("| migrate | `no` | `on-failure:3` |"),
        "{text}"
    );
    assert!(
        text.contains("| web-app | `on-failure` | `on-failure` |"),
        "{text}"
    );
    // A third profile gets a column of its own when the report is run under it.
    let staging = Muster::new()
        .catalogue(SMALL)
        .file(
            "profiles/staging.toml",
            "extends = \"prod\"\n[defaults]\nrestart = \"unless-stopped\"\n",
        )
        .args(&["report", "--profile", "staging"])
        .run()
        .success()
        .stdout;
    assert!(
        staging.contains("| service | dev | prod | staging |"),
        "{staging}"
    );
    assert!(
        staging.contains("| db | `unless-stopped` | `always` | `unless-stopped` |"),
        "{staging}"
    );
}

#[test]
fn warnings_of_check_are_listed() {
    // A probe the image cannot run (a pipeline warning) and whatever the lints find.
    let catalogue = format!(
        "{SMALL}\n[services.qdrant]\nkind = \"vector-db\"\nimage = \"qdrant/qdrant:v1.12.4\"\n\
         healthcheck = {{ test = [\"CMD\", \"curl\", \"-f\", \"http://127.0.0.1:6333/readyz\"] }}\n"
    );
    let text = report(&catalogue, &[]);
    let section = text.split("## Warnings (`muster check`)").nth(1).unwrap();
    let check = Muster::new().catalogue(&catalogue).args(&["check"]).run();
    let warnings: Vec<&str> = check
        .stderr
        .lines()
        // `warning[LINT]: ...` for a named lint.
        .filter_map(|l| l.strip_prefix("warning"))
        .filter_map(|l| {
            let l = l
                .strip_prefix('[')
                .map_or(Some(l), |l| Some(l.split_once("]")?.1))?;
            l.strip_prefix(": ")
        })
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("runs `curl`")),
        "{}",
        check.stderr
    );
    for warning in warnings {
        assert!(
            section.contains(&warning.replace('|', "\\|")),
            "`{warning}` is missing from:\n{section}"
        );
    }
    assert!(section.contains("(services.toml:"), "{section}");
}

#[test]
fn the_report_is_deterministic() {
    assert_eq!(report(SMALL, &[]), report(SMALL, &[]));
}

#[test]
fn a_profile_with_errors_fails_the_report() {
    let run = Muster::new()
        .catalogue(&format!(
            "{SMALL}\n[services.db.profiles.prod]\nrestart = \"sometimes\"\n"
        ))
        .args(&["report"])
        .run()
        .failure(1);
    assert!(
        run.stderr.contains("invalid restart policy"),
        "{}",
        run.stderr
    );
}

#[test]
fn allowed_lints_are_left_out_of_the_report() {
    let stack = "[services.db]\nkind = \"db\"\nimage = \"postgres\"\nenv = { POSTGRES_PASSWORD = \"pw\" }\n";
    let shown = report(stack, &["--profile", "prod"]);
    assert!(shown.contains("is not pinned"), "{shown}");
    let allowed = report(
        &format!("[project]\nallow = [\"unpinned-image\"]\n\n{stack}"),
        &["--profile", "prod"],
    );
    assert!(!allowed.contains("is not pinned"), "{allowed}");
    // The lints it does not allow are still there.
    assert!(
        allowed.contains("never ones that turn unhealthy"),
        "{allowed}"
    );
}

#[test]
fn report_lists_gpus_models_and_the_services_some_profiles_leave_out() {
    let catalogue = r#"
[models.llm]
model = "ai/smollm2"

[services.ollama]
kind = "ai-model"
image = "ollama/ollama:0.6.8"
gpus = "all"

[services.chat]
kind = "ai-model"
build = "./chat"
gpus = { count = 2, driver = "nvidia" }
models = ["llm"]

[services.mailhog]
kind = "http"
image = "mailhog/mailhog:v1.0.1"
only_in = ["dev"]

[services.debugger]
kind = "http"
image = "nginx:1.27"
compose_profiles = ["debug"]
"#;
    let out = report(catalogue, &["--profile", "prod"]);
    assert!(
        out.contains("| ollama | `all` | - | `ollama-models:/root/.ollama` |"),
        "{out}"
    );
    assert!(
        out.contains("| chat | `2, driver nvidia` | llm (`ai/smollm2`) | - |"),
        "{out}"
    );
    assert!(
        out.contains("- mailhog: only under dev (`only_in`), not in this file"),
        "{out}"
    );
    assert!(out.contains("`docker compose --profile debug`"), "{out}");
    // Under dev, mailhog is there, and its prod column says why it is not.
    let dev = report(catalogue, &["--profile", "dev"]);
    assert!(
        dev.contains("| mailhog | `unless-stopped` | not in this profile (`only_in`) |"),
        "{dev}"
    );
    assert!(
        dev.contains("| debugger | `unless-stopped` | `always` |"),
        "{dev}"
    );
}

#[test]
fn a_service_without_a_client_is_reported_with_the_mounted_one() {
    let out = report(
        "[services.api]\nkind = \"http\"\nimage = \"gcr.io/distroless/static-debian12\"\nport = 8080\n",
        &[],
    );
    let row = out
        .lines()
        .find(|l| l.starts_with("| api | http |"))
        .unwrap_or_else(|| panic!("no row for api:\n{out}"));
    assert!(row.contains("| mounted busybox wget |"), "{row}");
}
