//! The shape ARCHITECTURE.md promises, checked on the source: what a kind is like is asked of its
//! traits, never of its name, and the YAML crate is named in the `yaml` module alone.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every line of `src/`, with its file relative to `src/`, outside the files `allowed` names.
fn lines_outside(allowed: &[&str]) -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if allowed.iter().any(|a| name.starts_with(a)) {
            continue;
        }
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            out.push((name.clone(), line.to_owned()));
        }
    }
    assert!(out.len() > 1000, "src/ was not found or read");
    out
}

#[test]
fn no_stage_tells_a_kind_by_its_name() {
    // The kinds table declares them; import infers a kind's name from a Compose file.
    let by_name: Vec<String> = lines_outside(&["kinds.rs", "import/"])
        .into_iter()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or_default();
            ["kind == \"", "kind != \"", "kind.as_str() == \""]
                .iter()
                .any(|p| code.contains(p))
        })
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(
        by_name.is_empty(),
        "a stage tests a kind by its name; give the kind a trait in kinds.rs instead:\n{}",
        by_name.join("\n")
    );
}

#[test]
fn no_stage_after_resolve_reads_the_kinds_table() {
    // What they need of a kind is on each resolved service (`Service::traits`).
    let after_resolve = ["emit/", "validate/", "compose_body/", "lint.rs"];
    let excluded = ["kinds.rs", "import/", "commands/", "pipeline.rs"];
    let reads: Vec<String> = lines_outside(&excluded)
        .into_iter()
        .filter(|(file, line)| {
            let code = line.split("//").next().unwrap_or_default();
            after_resolve.iter().any(|a| file.starts_with(a))
                && (code.contains("Kinds::") || code.contains("kinds::"))
        })
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(
        reads.is_empty(),
        "a stage after resolve reaches back into the kinds table:\n{}",
        reads.join("\n")
    );
}

#[test]
fn the_yaml_crate_is_named_only_behind_the_yaml_module() {
    let offending: Vec<String> = lines_outside(&["yaml/"])
        .into_iter()
        .filter(|(_, line)| {
            line.split("//")
                .next()
                .unwrap_or_default()
                .contains("yaml_serde")
        })
        .map(|(file, line)| format!("{file}: {}", line.trim()))
        .collect();
    assert!(
        offending.is_empty(),
        "yaml_serde named outside src/yaml/ (use crate::yaml):\n{}",
        offending.join("\n")
    );
}

/// The stages in order, each after everything it may use. A module may use modules of its own
/// step or of an earlier one, never a later one: a table or value type a stage needs from a
/// later one belongs in a leaf. Every top-level module of `src/` is in exactly one step, so a
/// new module must be placed here. ARCHITECTURE.md draws the same order.
const STAGES: &[(&str, &[&str])] = &[
    (
        "leaves: types, tables and small readers every stage shares",
        &[
            "model",
            "yaml",
            "suggest",
            "user_files",
            "error",
            "output",
            "diagnostic",
            "images",
            "volumes",
            "ports",
            "key_order",
            "ai_models",
            "compose_spec",
            "features",
            "mounted_probe",
            "probe",
            "spec",
            "gpus",
            "merge",
            "host_paths",
        ],
    ),
    (
        "load: the catalogue, profiles and kinds, with spans, and the builds' Dockerfiles",
        &[
            "dockerfile",
            "collect",
            "kinds",
            "resources",
            "profile",
            "catalogue",
            "lock",
            "schema",
        ],
    ),
    ("resolve: one typed Service per entry", &["resolve"]),
    ("the body: a service's Compose keys", &["compose_body"]),
    ("render: kind templates into bodies", &["render"]),
    ("validate: the stack as it will run", &["validate"]),
    (
        "fit: the stack for the declared Compose and Engine",
        &["fit"],
    ),
    ("lint: catalogues that run badly", &["lint"]),
    ("emit: Compose, Swarm, Kubernetes", &["emit"]),
    (
        "a run: arguments, the pipeline, findings for machines",
        &["config", "pipeline", "findings"],
    ),
    ("tools: over the pipeline", &["import", "live", "host"]),
    ("commands: one file per subcommand", &["commands", "run"]),
];

/// ARCHITECTURE.md's table of layers lists each step's modules as `STAGES` does: a module moved
/// or added here and not there fails.
#[test]
fn architecture_md_lists_the_stages_as_they_are() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    let table = doc
        .split("\n## Layers: who may import whom\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("ARCHITECTURE.md has a section `## Layers: who may import whom`");
    for (label, modules) in STAGES {
        let step = label.split(':').next().unwrap();
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("| {step} |")))
            .unwrap_or_else(|| panic!("ARCHITECTURE.md's layers table has no row `{step}`"));
        let cell = row.split('|').nth(2).unwrap_or_default();
        for module in *modules {
            assert!(
                cell.contains(&format!("`{module}`")) || cell.contains(&format!("`{module}/`")),
                "ARCHITECTURE.md's `{step}` row lacks `{module}`: {row}"
            );
        }
    }
}

/// One file of `src/`: its module path (`resolve::layers`; `mod.rs` is its folder's module) and
/// its code without comments and unit tests.
struct SourceFile {
    module: String,
    code: String,
}

fn source_files() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    sources(&src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let module = parts.join("::");
            if module == "lib" || module == "main" {
                return None;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests may reach anywhere; they are not part of the shape.
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(at) => &text[..at],
                None => &text[..],
            };
            let code: String = text
                .lines()
                .map(|line| line.split("//").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n");
            Some(SourceFile { module, code })
        })
        .collect()
}

/// The `crate::...` paths a file names, in `use` lines and in code alike, with `{a, b}` groups
/// spread (`crate::model::{Lint, version::Requires}` names `model::Lint` and
/// `model::version::Requires`).
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let used = spread("", after, &mut paths);
        rest = &after[used..];
    }
    paths
}

/// Reads one path at the start of `text` (after `crate::` or inside a group), pushes it with
/// `prefix` to `out`, and returns how much of `text` it took.
fn spread(prefix: &str, text: &str, out: &mut Vec<String>) -> usize {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let base = format!("{prefix}{}", &text[..end]);
    if !text[end..].starts_with('{') {
        let path = base.split(" as ").next().unwrap_or_default();
        out.push(path.trim_end_matches(':').to_owned());
        return end;
    }
    // A group: its items, each read the same way, up to the matching `}`.
    let mut at = end + 1;
    loop {
        let item = &text[at..];
        let skipped = item.len() - item.trim_start_matches([' ', '\n', ',']).len();
        at += skipped;
        if text[at..].starts_with('}') || at >= text.len() {
            return (at + 1).min(text.len());
        }
        at += spread(&base, &text[at..], out);
        // Past ` as Name`, up to the next `,` or `}` of this group.
        let tail = &text[at..];
        at += tail.find([',', '}']).unwrap_or(tail.len());
    }
}

/// The longest module of `modules` that `path` starts with.
fn module_of<'m>(path: &str, modules: &'m [String]) -> Option<&'m String> {
    modules
        .iter()
        .filter(|m| path == m.as_str() || path.starts_with(&format!("{m}::")))
        .max_by_key(|m| m.len())
}

fn step_of(module: &str) -> Option<usize> {
    let top = module.split("::").next().unwrap_or_default();
    STAGES
        .iter()
        .position(|(_, modules)| modules.contains(&top))
}

/// Imports between files: which module each file names, its own ancestors left out (a
/// submodule uses its parent's types by design, and the parent declares it).
fn imports(files: &[SourceFile]) -> Vec<(String, String)> {
    let modules: Vec<String> = files.iter().map(|f| f.module.clone()).collect();
    let mut edges = Vec::new();
    for file in files {
        for path in crate_paths(&file.code) {
            let Some(target) = module_of(&path, &modules) else {
                continue;
            };
            let ancestor = file.module.starts_with(&format!("{target}::"));
            if *target != file.module && !ancestor {
                edges.push((file.module.clone(), target.clone()));
            }
        }
    }
    edges.sort();
    edges.dedup();
    edges
}

#[test]
fn every_module_has_its_place_in_the_stage_order() {
    let files = source_files();
    let unplaced: Vec<&str> = files
        .iter()
        .filter(|f| step_of(&f.module).is_none())
        .map(|f| f.module.as_str())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules missing from STAGES in tests/architecture.rs: {unplaced:?}"
    );
}

#[test]
fn no_module_imports_a_later_stage() {
    let files = source_files();
    let against: Vec<String> = imports(&files)
        .into_iter()
        .filter(|(from, to)| step_of(from) < step_of(to))
        .map(|(from, to)| {
            let step = |m: &str| STAGES[step_of(m).unwrap()].0.split(':').next().unwrap();
            format!("{from} ({}) imports {to} ({})", step(&from), step(&to))
        })
        .collect();
    assert!(
        against.is_empty(),
        "imports against the stage order (move the shared type or table into a leaf):\n{}",
        against.join("\n")
    );
    // The check reads real imports: the pipeline imports the stages it runs.
    assert!(
        imports(&files)
            .iter()
            .any(|(from, to)| from == "pipeline" && to == "resolve"),
        "no import was read: the reader of `crate::` paths is broken"
    );
}

#[test]
fn no_two_files_import_each_other_in_a_circle() {
    let files = source_files();
    let edges = imports(&files);
    let names: Vec<&str> = files.iter().map(|f| f.module.as_str()).collect();
    let index = |m: &str| names.iter().position(|n| *n == m).unwrap();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    for (from, to) in &edges {
        next[index(from)].push(index(to));
    }
    // Tarjan's strongly connected components; a component of more than one file is a circle.
    struct Walk<'a> {
        next: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        circles: Vec<Vec<usize>>,
    }
    fn visit(w: &mut Walk, v: usize) {
        w.index[v] = Some(w.counter);
        w.low[v] = w.counter;
        w.counter += 1;
        w.stack.push(v);
        w.on_stack[v] = true;
        for &u in &w.next[v] {
            match w.index[u] {
                None => {
                    visit(w, u);
                    w.low[v] = w.low[v].min(w.low[u]);
                }
                Some(i) if w.on_stack[u] => w.low[v] = w.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(w.low[v]) == w.index[v] {
            let mut component = Vec::new();
            loop {
                let u = w.stack.pop().unwrap();
                w.on_stack[u] = false;
                component.push(u);
                if u == v {
                    break;
                }
            }
            if component.len() > 1 {
                w.circles.push(component);
            }
        }
    }
    let mut walk = Walk {
        next: &next,
        index: vec![None; names.len()],
        low: vec![0; names.len()],
        on_stack: vec![false; names.len()],
        stack: Vec::new(),
        counter: 0,
        circles: Vec::new(),
    };
    for v in 0..names.len() {
        if walk.index[v].is_none() {
            visit(&mut walk, v);
        }
    }
    let circles: Vec<String> = walk
        .circles
        .iter()
        .map(|c| {
            let mut files: Vec<&str> = c.iter().map(|&i| names[i]).collect();
            files.sort();
            files.join(", ")
        })
        .collect();
    assert!(
        circles.is_empty(),
        "files that import each other in a circle:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_import_reader_spreads_groups_and_finds_paths_in_code() {
    let paths = crate_paths(
        "use crate::model::{Lint, version::Requires as R};\nlet x = crate::fit::fit(&mut s);\n\
         use crate::{emit::{Target, k8s}, yaml};",
    );
    assert_eq!(
        paths,
        [
            "model::Lint",
            "model::version::Requires",
            "fit::fit",
            "emit::Target",
            "emit::k8s",
            "yaml"
        ]
    );
}
