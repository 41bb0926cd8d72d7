//! What `muster gen` costs, from 10 to 10,000 services: `cargo bench --bench gen`.
//!
//! For each size, on one generated catalogue under the prod profile:
//! - each stage in this process, called in the order `pipeline::stack` calls them;
//! - the floor: the emitter's YAML writer alone, on the finished document;
//! - the `muster` binary and `bench/baseline.py` (Jinja2 and PyYAML), whole process to whole
//!   process, interleaved so that load from other work on the machine falls on both alike,
//!   with each one's peak resident memory.
//!
//! Before timing anything it checks that the stages here print what the binary prints, byte for
//! byte, and that the baseline's document equals muster's, so every figure is for the same
//! work. Figures are medians of CPU time (see `measure`); the goals are ratios of figures from
//! this one run, and the program exits 1 when one is missed.

mod catalogue;
mod measure;

/// The allocator the `muster` binary uses, so that the stages are timed as they run there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use muster::catalogue::Catalogue;
use muster::config::Inputs;
use muster::emit;
use muster::kinds::Kinds;
use muster::pipeline::Session;
use muster::profile::Profiles;
use muster::render::Renderer;
use muster::resolve::{self, Provenance};
use muster::validate;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;
use yaml_serde::{Mapping, Value};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
const PROFILE: &str = "prod";
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const INSTALL: &str =
    "python3 -m venv bench/.venv && bench/.venv/bin/pip install -r bench/requirements.txt";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    if args.next_if(|a| a == measure::SUPERVISE).is_some() {
        return measure::supervise(args);
    }
    let runs = match parse_args(args) {
        Ok(Args::Bench { runs }) => runs,
        Ok(Args::WriteCatalogues(dir)) => {
            // One folder down, so that the builds' `../` contexts are beside it.
            let project = dir.join("project");
            std::fs::create_dir_all(&project).expect("create the catalogues folder");
            for services in SIZES {
                let path = project.join(format!("services-{services}.toml"));
                let text = catalogue::generate(services);
                std::fs::write(&path, &text).expect("write a catalogue");
                catalogue::write_dockerfiles(&dir, &text);
                println!("{}", path.display());
            }
            return ExitCode::SUCCESS;
        }
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let python = Path::new(MANIFEST_DIR).join("bench/.venv/bin/python");
    if !python.exists() {
        eprintln!("the Jinja2 baseline needs its venv; from the repository root run:\n  {INSTALL}");
        return ExitCode::from(2);
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let load_before = measure::load();

    let mut rows = Vec::new();
    for services in SIZES {
        eprintln!("{services} services ...");
        rows.push(measure_size(dir.path(), services, runs, &python));
    }
    eprintln!("templates padded with dead code ...");
    let compile = compile_once(dir.path(), 1_000, runs);

    println!("Machine: {}", measure::machine());
    println!(
        "Load average (1, 5, 15 min): {load_before} before, {} after",
        measure::load()
    );
    println!("Medians of {runs} runs; times in ms of CPU time unless marked wall.\n");
    print_tables(&rows);
    let met = print_goals(&rows, &compile);
    if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

enum Args {
    Bench {
        runs: usize,
    },
    /// Only write the catalogues, to profile one size by hand (see BENCHMARKS.md).
    WriteCatalogues(PathBuf),
}

/// `--runs N` or `--write-catalogues DIR`; cargo passes `--bench` to every bench program.
fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Args, String> {
    let usage = "usage: cargo bench --bench gen [-- --runs N | --write-catalogues DIR]";
    let mut runs = 5;
    while let Some(arg) = args.next() {
        match arg.to_str().unwrap_or_default() {
            "--bench" => {}
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.to_str()?.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or(usage)?;
            }
            "--write-catalogues" => {
                let dir = args.next().ok_or(usage)?;
                return Ok(Args::WriteCatalogues(dir.into()));
            }
            _ => return Err(usage.to_owned()),
        }
    }
    Ok(Args::Bench { runs })
}

/// One size's figures, each a median.
struct Row {
    services: usize,
    stages: Stages,
    /// The median of each run's total, not the sum of the stages' medians.
    total: Duration,
    floor: Duration,
    muster: measure::Exit,
    python: measure::Exit,
    output_bytes: usize,
}

/// The stages of `pipeline::stack` and the emitter. `compile` is the render stage's first part,
/// `Renderer::new`, which compiles every kind's template.
#[derive(Clone, Copy, Default)]
struct Stages {
    load: Duration,
    compile: Duration,
    resolve: Duration,
    render: Duration,
    validate: Duration,
    emit: Duration,
}

impl Stages {
    fn total(&self) -> Duration {
        self.load + self.compile + self.resolve + self.render + self.validate + self.emit
    }

    /// Each stage's median, and the median total, over several runs.
    fn median(runs: &[Stages]) -> (Stages, Duration) {
        let column = |f: fn(&Stages) -> Duration| {
            measure::median(&mut runs.iter().map(f).collect::<Vec<_>>())
        };
        let stages = Stages {
            load: column(|s| s.load),
            compile: column(|s| s.compile),
            resolve: column(|s| s.resolve),
            render: column(|s| s.render),
            validate: column(|s| s.validate),
            emit: column(|s| s.emit),
        };
        (stages, column(Stages::total))
    }
}

fn measure_size(dir: &Path, services: usize, runs: usize, python: &Path) -> Row {
    // One folder down, so that the builds' `../` contexts are beside it, in `dir`.
    std::fs::create_dir_all(dir.join("project")).expect("create the catalogue's folder");
    let catalogue = dir.join(format!("project/services-{services}.toml"));
    let text = catalogue::generate(services);
    std::fs::write(&catalogue, &text).expect("write the catalogue");
    catalogue::write_dockerfiles(dir, &text);
    let inputs = inputs_beside(&catalogue);

    let (_, output) = stages(&inputs);
    let muster: Vec<OsString> = vec![
        env!("CARGO_BIN_EXE_muster").into(),
        "gen".into(),
        "-c".into(),
        catalogue.clone().into(),
        "--profile".into(),
        PROFILE.into(),
    ];
    let baseline: Vec<OsString> = vec![
        python.into(),
        Path::new(MANIFEST_DIR).join("bench/baseline.py").into(),
        catalogue.into(),
        PROFILE.into(),
    ];
    assert!(
        stdout_of(&muster, dir) == output,
        "the stages called here print something other than `muster gen` for {services} services"
    );
    same_document(&output, &stdout_of(&baseline, dir), services);

    let stage_runs: Vec<Stages> = (0..runs).map(|_| stages(&inputs).0).collect();
    let (stages, total) = Stages::median(&stage_runs);
    let (mut muster_runs, mut baseline_runs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        muster_runs.push(quiet(&muster, dir));
        baseline_runs.push(quiet(&baseline, dir));
    }
    Row {
        services,
        stages,
        total,
        floor: floor(&output, runs),
        muster: median_exit(&muster_runs),
        python: median_exit(&baseline_runs),
        output_bytes: output.len(),
    }
}

/// Each figure's own median.
fn median_exit(runs: &[measure::Exit]) -> measure::Exit {
    measure::Exit {
        wall: measure::median(&mut runs.iter().map(|e| e.wall).collect::<Vec<_>>()),
        cpu: measure::median(&mut runs.iter().map(|e| e.cpu).collect::<Vec<_>>()),
        max_rss: measure::median(&mut runs.iter().map(|e| e.max_rss).collect::<Vec<_>>()),
    }
}

/// The inputs `muster gen -c CATALOGUE --profile prod` runs with: profiles and templates are
/// looked for beside the catalogue.
fn inputs_beside(catalogue: &Path) -> Inputs {
    let base = catalogue.parent().map(PathBuf::from).unwrap_or_default();
    Inputs {
        catalogue: catalogue.to_owned(),
        profiles_dir: base.join("profiles"),
        templates_dir: base.join("templates"),
        profile: Some(PROFILE.to_owned()),
        provenance: Provenance::Skip,
        allow: Vec::new(),
        requires: Default::default(),
        target: muster::emit::Target::Compose,
    }
}

/// The stages, timed one by one, in the order `pipeline::stack` runs them, and the output.
fn stages(inputs: &Inputs) -> (Stages, String) {
    let mut session = Session::default();
    let Session {
        sources,
        diagnostics,
        ..
    } = &mut session;
    let mut times = Stages::default();
    let mut clock = measure::thread_cpu();
    let mut lap = |slot: &mut Duration| {
        let now = measure::thread_cpu();
        *slot = now - clock;
        clock = now;
    };

    let mut catalogue = Catalogue::load(&inputs.catalogue, sources, diagnostics)
        .expect("read the catalogue")
        .expect("the generated catalogue parses");
    let profiles = Profiles::load(Some(&inputs.profiles_dir), sources, diagnostics)
        .expect("read the profiles");
    catalogue.dockerfiles = muster::pipeline::read_dockerfiles(&catalogue, &profiles);
    let kinds = Kinds::built_in()
        .with_user_templates(&inputs.templates_dir)
        .expect("read the templates");
    let chain = profiles
        .chain(inputs.profile.as_deref().unwrap_or(PROFILE))
        .expect("a built-in profile");
    lap(&mut times.load);
    let renderer = Renderer::new(&kinds, sources, diagnostics);
    lap(&mut times.compile);
    let model = resolve::resolve(
        &catalogue,
        &resolve::Context {
            kinds: &kinds,
            profiles: &chain,
            provenance: inputs.provenance,
        },
        diagnostics,
    );
    lap(&mut times.resolve);
    let rendered = renderer.render(model, sources, diagnostics);
    lap(&mut times.render);
    let stack = validate::validate(rendered, sources, diagnostics);
    lap(&mut times.validate);
    let output = emit::compose::emit(&stack);
    lap(&mut times.emit);

    assert!(
        !session.diagnostics.has_errors(),
        "the generated catalogue has errors:\n{}",
        session.render_diagnostics()
    );
    (times, output)
}

/// The floor: the YAML writer alone, given the finished document. The document is read back
/// from the output, which the writer's own tests guarantee gives the value it was written from;
/// the assertion checks it here too.
fn floor(output: &str, runs: usize) -> Duration {
    let (_header, yaml) = output.split_once('\n').expect("a header line");
    let doc: Mapping = yaml_serde::from_str(yaml).expect("muster's output parses");
    assert_eq!(muster::yaml::to_string(&doc), yaml);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let clock = measure::thread_cpu();
            let text = muster::yaml::to_string(&doc);
            let elapsed = measure::thread_cpu() - clock;
            std::hint::black_box(text);
            elapsed
        })
        .collect();
    measure::median(&mut times)
}

fn stdout_of(argv: &[OsString], dir: &Path) -> String {
    let path = dir.join("stdout");
    let file = std::fs::File::create(&path).expect("create a file for stdout");
    measure::run(argv, file.into(), &dir.join("report")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::read_to_string(&path).expect("read the captured stdout")
}

fn quiet(argv: &[OsString], dir: &Path) -> measure::Exit {
    measure::run(argv, Stdio::null(), &dir.join("report")).unwrap_or_else(|e| panic!("{e}"))
}

/// The baseline must produce muster's document (as YAML values: the two write it in different
/// styles), or it would be timed doing other work.
fn same_document(muster: &str, baseline: &str, services: usize) {
    let parse = |text: &str| -> Mapping { yaml_serde::from_str(text).expect("a YAML mapping") };
    let (ours, theirs) = (parse(muster), parse(baseline));
    if ours == theirs {
        return;
    }
    let services_of = |doc: &Mapping| doc.get("services").cloned().unwrap_or(Value::Null);
    let (a, b) = (services_of(&ours), services_of(&theirs));
    let differing = a
        .as_mapping()
        .into_iter()
        .flatten()
        .find(|(name, body)| b.get(*name) != Some(*body));
    match differing {
        Some((name, body)) => panic!(
            "for {services} services the baseline's `{}` differs from muster's:\n{}\nbaseline:\n{}",
            name.as_str().unwrap_or_default(),
            yaml_serde::to_string(body).unwrap_or_default(),
            yaml_serde::to_string(&b.get(name)).unwrap_or_default(),
        ),
        None => panic!(
            "for {services} services the baseline's document differs from muster's outside \
             `services`"
        ),
    }
}

/// Rendering with every template padded by a large block that never runs, against rendering
/// with the plain templates. Compiling the padding is expensive and rendering it free, so if
/// templates were compiled per service, render would grow by a compile per service; compiled
/// once per kind, only `compile` grows.
struct CompileOnce {
    services: usize,
    plain: Stages,
    padded: Stages,
}

impl CompileOnce {
    fn extra_compile(&self) -> Duration {
        self.padded.compile.saturating_sub(self.plain.compile)
    }

    fn extra_render(&self) -> Duration {
        self.padded.render.saturating_sub(self.plain.render)
    }

    /// Per service, render would grow by `services / kinds` times the extra compile; once per
    /// kind, by nothing. Twice the extra compile tells the two apart with room for noise.
    fn met(&self) -> bool {
        self.extra_render() < self.extra_compile() * 2
    }
}

fn compile_once(dir: &Path, services: usize, runs: usize) -> CompileOnce {
    let padded_dir = dir.join("padded");
    let kinds_dir = padded_dir.join("templates/kinds");
    std::fs::create_dir_all(&kinds_dir).expect("create the padded templates folder");
    let dead_code = "{{ service.name ~ '-' ~ service.kind ~ service.port }}\n".repeat(2_000);
    for kind in Kinds::built_in().iter() {
        let source = format!(
            "{}\n{{% if false %}}\n{dead_code}{{% endif %}}\n",
            kind.template.source
        );
        std::fs::write(kinds_dir.join(format!("{}.yml.j2", kind.name)), source)
            .expect("write a padded template");
    }
    let plain = inputs_beside(&dir.join(format!("project/services-{services}.toml")));
    let padded_catalogue = padded_dir.join(format!("services-{services}.toml"));
    std::fs::copy(&plain.catalogue, &padded_catalogue).expect("copy the catalogue");
    let padded = inputs_beside(&padded_catalogue);
    assert!(
        stages(&plain).1 == stages(&padded).1,
        "padding must not change the output"
    );
    let (mut plain_runs, mut padded_runs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        plain_runs.push(stages(&plain).0);
        padded_runs.push(stages(&padded).0);
    }
    CompileOnce {
        services,
        plain: Stages::median(&plain_runs).0,
        padded: Stages::median(&padded_runs).0,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

fn print_tables(rows: &[Row]) {
    println!("In process, per stage (`compile` is `Renderer::new`, the first part of render):\n");
    println!(
        "| services | load | compile | resolve | render | validate | emit | total | floor: YAML writer alone | total / floor |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let s = &r.stages;
        let total = r.total;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1}x |",
            r.services,
            ms(s.load),
            ms(s.compile),
            ms(s.resolve),
            ms(s.render),
            ms(s.validate),
            ms(s.emit),
            ms(total),
            ms(r.floor),
            total.as_secs_f64() / r.floor.as_secs_f64(),
        );
    }
    println!("\nWhole process, spawn to exit, output to /dev/null:\n");
    println!(
        "| services | output bytes | muster | wall | peak RSS (MiB) | Jinja2 + PyYAML | wall | peak RSS (MiB) | baseline / muster |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1}x |",
            r.services,
            r.output_bytes,
            ms(r.muster.cpu),
            ms(r.muster.wall),
            mib(r.muster.max_rss),
            ms(r.python.cpu),
            ms(r.python.wall),
            mib(r.python.max_rss),
            r.python.cpu.as_secs_f64() / r.muster.cpu.as_secs_f64(),
        );
    }
}

/// Prints each goal with its figures; true when all are met.
fn print_goals(rows: &[Row], compile: &CompileOnce) -> bool {
    let row = |n| {
        rows.iter()
            .find(|r| r.services == n)
            .expect("a measured size")
    };
    let (k1, k10) = (row(1_000), row(10_000));
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let mut all = true;
    let mut goal = |ok: bool, text: String| {
        all &= ok;
        println!("- {}: {text}", verdict(ok));
    };
    println!("\nGoals:\n");
    let linear = ratio(k10.total, k1.total);
    goal(
        linear <= 12.0,
        format!(
            "10,000 services cost at most 12x 1,000: {linear:.1}x in process ({} / {} ms), \
             {:.1}x whole process",
            ms(k10.total),
            ms(k1.total),
            ratio(k10.muster.cpu, k1.muster.cpu),
        ),
    );
    for r in [k1, k10] {
        let over = ratio(r.total, r.floor);
        goal(
            over <= 3.0,
            format!(
                "total at most 3x the serialize-only floor at {} services: {over:.1}x ({} / {} ms)",
                r.services,
                ms(r.total),
                ms(r.floor)
            ),
        );
    }
    let faster = ratio(k1.python.cpu, k1.muster.cpu);
    goal(
        faster >= 20.0,
        format!(
            "at least 20x faster than Jinja2 + PyYAML at 1,000 services, whole process: \
             {faster:.1}x ({} / {} ms; wall {:.1}x)",
            ms(k1.python.cpu),
            ms(k1.muster.cpu),
            ratio(k1.python.wall, k1.muster.wall),
        ),
    );
    let memory = k10.muster.max_rss as f64 / k10.output_bytes as f64;
    goal(
        memory <= 10.0,
        format!(
            "peak memory at 10,000 services at most 10x the output: {memory:.1}x ({} MiB / {} MiB)",
            mib(k10.muster.max_rss),
            mib(k10.output_bytes as u64)
        ),
    );
    goal(
        compile.met(),
        format!(
            "templates compiled once per kind: with 12 templates padded by 2,000 dead lines \
             each, compile grows by {} ms and render of {} services by {} ms \
             (per service it would grow by about {}x the compile)",
            ms(compile.extra_compile()),
            compile.services,
            ms(compile.extra_render()),
            compile.services / Kinds::built_in().iter().count(),
        ),
    );
    all
}
