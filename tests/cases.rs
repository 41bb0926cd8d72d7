//! The command line, as data: each case under `tests/cases/` is `NAME.toml` (the arguments and
//! the exit code), `NAME.in/` (the catalogue and any profiles, templates or output file it starts
//! with), the expected `NAME.stdout` and `NAME.stderr`, and, where a file must come out as it
//! went in or as written, `NAME.out/`. trycmd runs the real binary in a copy of `NAME.in/`.
//! `TRYCMD=overwrite cargo test --test cases` rewrites the expectations; review them like code.

#[test]
fn cases() {
    let count = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases"))
        .expect("tests/cases exists")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count();
    assert!(count >= 40, "the suite must cover every kind of mistake");
    trycmd::TestCases::new()
        .register_bin("muster", trycmd::cargo::cargo_bin!("muster"))
        .case("tests/cases/*.toml");
}

mod common;

/// Every case in which `muster gen` succeeds writes a file the Compose loader itself accepts
/// (`docker-compose config -q`, Compose 2.40): the `.stdout` files cannot show it, since trycmd
/// turns each `\` into `/` in what it compares.
#[test]
fn every_generated_file_passes_the_compose_loader() {
    let cases = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases"));
    let mut checked = Vec::new();
    let mut for_2_26 = Vec::new();
    let mut profiled = Vec::new();
    let mut rebased = Vec::new();
    for entry in std::fs::read_dir(cases).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let case: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let args: Vec<&str> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        let code = case
            .get("status")
            .and_then(|s| s.get("code"))
            .and_then(|c| c.as_integer())
            .unwrap_or(0);
        // Only the Compose target is a Compose file; `--check` writes nothing.
        if args.first() != Some(&"gen")
            || code != 0
            || args
                .iter()
                .any(|a| a.starts_with("--target") || *a == "--check")
        {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&path.with_extension("in"), dir.path());
        // `fs.cwd` names a folder inside the case's `.in`.
        let cwd = match case
            .get("fs")
            .and_then(|fs| fs.get("cwd"))
            .and_then(|c| c.as_str())
        {
            Some(cwd) => dir
                .path()
                .join(cwd.split_once('/').map_or("", |(_, rest)| rest)),
            None => dir.path().to_owned(),
        };
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(&args)
            .current_dir(&cwd)
            .output()
            .unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(output.status.success(), "{name}: muster gen failed");
        // `-o -` is stdout, as no `-o` is. The written file is given to Compose by the path
        // muster was given, as a user would, so that a linked folder is read as it was named.
        let written = match args.iter().position(|a| *a == "-o") {
            Some(i) if args[i + 1] != "-" => cwd.join(args[i + 1]),
            _ => {
                let file = dir.path().join("generated.yml");
                std::fs::write(&file, &output.stdout).unwrap();
                file
            }
        };
        let loader = |extra: &[&str]| {
            common::tool("docker-compose")
                .arg("-f")
                .arg(&written)
                .args(["config", "-q"])
                .args(extra)
                .output()
                .unwrap()
        };
        let mut compose = loader(&[]);
        if args.contains(&"-o") {
            rebased.push(name.clone());
        }
        // A `${VAR}` without a default (or a required `${VAR:?msg}`) is the environment's to
        // fill: Compose then reads the file as written, uninterpolated.
        let mut interpolation: &[&str] = &[];
        let stderr = String::from_utf8_lossy(&compose.stderr);
        if stderr.contains("variable is not set") || stderr.contains("is missing a value") {
            interpolation = &["--no-interpolate"];
            compose = loader(interpolation);
        }
        assert!(
            compose.status.success(),
            "{name}: the Compose loader refused what muster wrote:\n{}",
            String::from_utf8_lossy(&compose.stderr)
        );
        // Compose judges the services a `--profile` enables only under it: every profile the
        // file uses is a selection the loader must accept too.
        for profile in compose_profiles(&written) {
            let selected = common::tool("docker-compose")
                .arg("-f")
                .arg(&written)
                .args(["--profile", &profile, "config", "-q"])
                .args(interpolation)
                .output()
                .unwrap();
            assert!(
                selected.status.success(),
                "{name}: the Compose loader refused what muster wrote, under --profile {profile}:\n{}",
                String::from_utf8_lossy(&selected.stderr)
            );
            profiled.push(format!("{name} --profile {profile}"));
        }
        // A file for an older declared target is judged by that Compose too.
        if older_target(&args, &path.with_extension("in").join("services.toml")) {
            let older = common::compose_2_26()
                .arg("-f")
                .arg(&written)
                .args(["config", "-q", "--no-interpolate"])
                .output()
                .unwrap();
            assert!(
                older.status.success(),
                "{name}: Compose 2.26.1 refused what muster wrote for it:\n{}",
                String::from_utf8_lossy(&older.stderr)
            );
            for_2_26.push(name.clone());
        }
        checked.push(name);
    }
    assert!(
        checked
            .iter()
            .any(|c| c == "template-merge-key-is-resolved")
            && checked
                .iter()
                .any(|c| c == "env-values-yaml-1-1-reads-as-other-types"),
        "the cases of merge keys and YAML 1.1 values must be among those checked: {checked:?}"
    );
    for case in [
        "gen-rebased-into-a-sibling-folder",
        "gen-rebased-into-a-parent-folder",
        "gen-rebased-through-a-linked-folder",
    ] {
        assert!(
            rebased.iter().any(|c| c == case),
            "{case} must be read by the loader from where it was written: {rebased:?}"
        );
    }
    assert!(
        profiled
            .iter()
            .any(|p| p.starts_with("compose-profiles-alternatives-accepted")),
        "the cases with Compose profiles must be judged under each: {profiled:?}"
    );
    assert!(
        for_2_26.len() >= 2,
        "cases generated for Compose 2.26 must be among those checked: {for_2_26:?}"
    );
}

/// Whether the case generates for Compose 2.26 or older (`--requires compose=...` or the
/// catalogue's `[project] requires`), the oldest Compose the tests have a loader of.
fn older_target(args: &[&str], catalogue: &std::path::Path) -> bool {
    let at_most_2_26 = |version: &str| {
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) <= (2, 26)
    };
    let flag = args
        .iter()
        .position(|a| *a == "--requires")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.split(',').find_map(|p| p.strip_prefix("compose=")));
    let declared = std::fs::read_to_string(catalogue)
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
        .and_then(|t| {
            t.get("project")?
                .get("requires")?
                .get("compose")?
                .as_str()
                .map(str::to_owned)
        });
    flag.map(str::to_owned)
        .or(declared)
        .is_some_and(|v| at_most_2_26(&v))
}

/// The Compose profiles a generated file's services name, as Compose reads them with an empty
/// environment (`${GPU:-gpu}` is `gpu`); the empty profile is the selection without
/// `--profile`, which the first run of the loader already made.
fn compose_profiles(file: &std::path::Path) -> Vec<String> {
    let doc: yaml_serde::Value =
        yaml_serde::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let mut names: Vec<String> = doc["services"]
        .as_mapping()
        .into_iter()
        .flat_map(|services| services.values())
        .filter_map(|s| s["profiles"].as_sequence())
        .flatten()
        .filter_map(|p| p.as_str())
        .map(
            |p| match p.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(inner) => inner.split_once(":-").map_or("", |(_, d)| d).to_owned(),
                None => p.to_owned(),
            },
        )
        .filter(|p| !p.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A copy of a case's `.in` folder, its symbolic links kept as links (as trycmd keeps them).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), target).unwrap();
        } else if kind.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
