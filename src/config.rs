//! The command line, parsed by clap and turned at once into muster's own types, so that no stage
//! depends on how arguments are spelled.

use crate::error::Error;
use crate::model::Lint;
use crate::model::Target;
use crate::resolve::Provenance;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

use crate::user_files::CATALOGUE;

/// The heading of the options every command takes, so that a command's `--help` lists its own
/// options apart from them.
const GLOBAL: &str = "Global options";

#[derive(Debug, Parser)]
#[command(
    name = "muster",
    version,
    about = "Complete Compose files from a compact TOML service catalogue"
)]
pub struct Cli {
    /// The catalogue file [default: services.toml in the current folder or the nearest parent].
    #[arg(short = 'c', long = "catalogue", global = true, value_name = "FILE",
          help_heading = GLOBAL)]
    catalogue: Option<PathBuf>,
    /// Folder of user profiles (NAME.toml) [default: `profiles/` beside the catalogue].
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    profiles: Option<PathBuf>,
    /// Folder of user templates (kinds/KIND.yml.j2) [default: `templates/` beside the catalogue].
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    templates: Option<PathBuf>,
    /// Colour in diagnostics: `auto` when stderr is a terminal and NO_COLOR is unset.
    #[arg(long, global = true, value_enum, default_value_t = CliColor::Auto, value_name = "WHEN",
          help_heading = GLOBAL)]
    color: CliColor,
    /// Allow a lint for this run (`muster check --list-lints` names them); repeat or comma-separate.
    #[arg(long, global = true, value_name = "LINT", value_delimiter = ',', help_heading = GLOBAL,
          value_parser = PossibleValuesParser::new(Lint::names())
              .map(|name: String| Lint::from_name(&name).expect("clap offers only lint names")),
          // Eleven names would fill the help screen; shells still complete them.
          hide_possible_values = true)]
    allow: Vec<Lint>,
    /// The Compose and Docker Engine to generate for, over `[project] requires`:
    /// `compose=2.26,engine=20.10` (either part alone too) [default: the newest].
    #[arg(long, global = true, value_name = "compose=V,engine=V", help_heading = GLOBAL,
          value_parser = crate::model::version::Requires::parse_cli)]
    requires: Option<crate::model::version::Requires>,
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Generate the Compose file.
    Gen {
        /// The profile to generate for [default: `[project] default_profile`, else dev].
        #[arg(short, long)]
        profile: Option<String>,
        /// Write to FILE atomically instead of printing (`-` is stdout).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Compare with the -o FILE instead of writing it; exit 1 with a diff on stdout when stale.
        #[arg(long, requires = "output")]
        check: bool,
        /// What to generate: a Compose file, a Swarm stack file, or Kubernetes manifests.
        #[arg(short, long, value_enum, default_value_t = CliTarget::Compose)]
        target: CliTarget,
    },
    /// Validate the catalogue and run the lints, without writing anything.
    Check {
        /// The profile to check [default: `[project] default_profile`, else dev].
        #[arg(short, long)]
        profile: Option<String>,
        /// Exit 1 when there are warnings, not only errors.
        #[arg(long)]
        deny_warnings: bool,
        /// How to print the findings: for people on stderr, or as JSON or SARIF on stdout.
        #[arg(long, value_enum, default_value_t = CliFormat::Human)]
        format: CliFormat,
        /// List the lints, what each checks and why, and exit.
        #[arg(long, exclusive = true)]
        list_lints: bool,
        /// Also hold the stack against this host, with the variables of FILE (Compose's `.env`
        /// format) and the environment: every required variable without a value, every file
        /// it names that is missing. Repeat for several files, later ones winning.
        #[arg(long, value_name = "FILE")]
        env_file: Vec<PathBuf>,
    },
    /// List every variable the generated stack reads, or write a `.env.example`.
    Env {
        /// The profile to generate for [default: `[project] default_profile`, else dev].
        #[arg(short, long)]
        profile: Option<String>,
        /// What the stack is generated for: its variables are those that file reads.
        #[arg(short, long, value_enum, default_value_t = CliTarget::Compose)]
        target: CliTarget,
        /// A list for people, or JSON.
        #[arg(long, value_enum, default_value_t = CliListFormat::Human, conflicts_with = "example")]
        format: CliListFormat,
        /// A `.env.example`: the required variables first, each with its message; the
        /// optional ones commented out with their defaults.
        #[arg(long)]
        example: bool,
        /// Write to FILE atomically instead of printing (`-` is stdout).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the catalogue's JSON Schema, for editor completion and validators.
    Schema {
        /// Write to FILE atomically instead of printing (`-` is stdout).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Append one service to the catalogue, keeping its comments and layout.
    Add(NewService),
    /// Write a starter catalogue and its schema; never overwrites.
    Init,
    /// List every kind with its engines and its defaults in each profile.
    Kinds {
        /// A table for people, or JSON.
        #[arg(long, value_enum, default_value_t = CliListFormat::Human)]
        format: CliListFormat,
    },
    /// Show one service as generated, and which layer set each of its values.
    Explain {
        /// The service to explain.
        name: String,
        /// The profile to resolve under [default: `[project] default_profile`, else dev].
        #[arg(short, long)]
        profile: Option<String>,
        /// A listing for people, or JSON.
        #[arg(long, value_enum, default_value_t = CliListFormat::Human)]
        format: CliListFormat,
    },
    /// A markdown health-status report: probes, dependencies, restart policies, warnings.
    Report {
        /// The profile whose probes and warnings are reported [default: as `gen`].
        #[arg(short, long)]
        profile: Option<String>,
    },
    /// Generate the Compose file, `docker compose up -d` it, and watch every service come up.
    Up {
        /// The profile to generate for [default: `[project] default_profile`, else dev].
        #[arg(short, long)]
        profile: Option<String>,
        /// The Compose file to write and run [default: docker-compose.yml beside the catalogue].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Give up after this long (`90s`, `10m`) [default: from the healthchecks' timing].
        #[arg(long, value_name = "DURATION", value_parser = crate::model::duration::parse)]
        timeout: Option<std::time::Duration>,
        /// Build images before starting (`docker compose up --build`).
        #[arg(long, conflicts_with = "no_build")]
        build: bool,
        /// Do not build images, even missing ones (`--no-build`).
        #[arg(long)]
        no_build: bool,
        /// Pull images: always, missing, never (`--pull`).
        #[arg(long, value_name = "POLICY")]
        pull: Option<String>,
        /// Recreate containers even if their configuration is unchanged (`--force-recreate`).
        #[arg(long)]
        force_recreate: bool,
        /// Remove containers of services the file no longer has (`--remove-orphans`).
        #[arg(long)]
        remove_orphans: bool,
        /// One line per change, even on a terminal.
        #[arg(long)]
        plain: bool,
        /// Fail a service only on the engine's word (unhealthy, exited), never sooner on what
        /// its probes prove.
        #[arg(long)]
        wait_all: bool,
        /// Read the variables from FILE instead of the `.env` beside the Compose file, and
        /// give it to Compose (`--env-file`). Repeat for several files, later ones winning.
        #[arg(long, value_name = "FILE")]
        env_file: Vec<PathBuf>,
    },
    /// Read the stack's images from the engine (config and programs, without running them) into
    /// muster.lock, which gen and check take over muster's own table.
    Images {
        /// The profile whose services' images are read [default: as `gen`].
        #[arg(short, long)]
        profile: Option<String>,
        /// Write to FILE atomically instead (`-` is stdout) [default: muster.lock beside the
        /// catalogue, the one gen reads].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Measure how long each service takes to turn healthy, and propose healthcheck timings.
    Tune {
        /// The profile to measure [default: `[project] default_profile`, else dev].
        #[arg(short, long)]
        profile: Option<String>,
        /// The Compose file to write and run [default: docker-compose.yml beside the catalogue].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Bring the stack up this many times, taking it down (volumes kept) in between.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
        runs: u32,
        /// Measure the stack already running, from what the engine still holds of its start.
        #[arg(long, conflicts_with = "runs")]
        running: bool,
        /// Write the proposals as a profile extending the measured one (`profiles/NAME.toml`).
        #[arg(long)]
        write: bool,
        /// The profile `--write` writes [default: PROFILE-tuned, or the measured profile itself
        /// when `muster tune` wrote it].
        #[arg(long, value_name = "NAME", requires = "write")]
        name: Option<String>,
        /// Build images before the first run (`docker compose up --build`).
        #[arg(long)]
        build: bool,
        /// Give up on one run after this long [default: as `up`].
        #[arg(long, value_name = "DURATION", value_parser = crate::model::duration::parse)]
        timeout: Option<std::time::Duration>,
    },
    /// Show every service's state once, for a project already running.
    Status {
        /// The profile the project runs [default: as `gen`].
        #[arg(short, long)]
        profile: Option<String>,
        /// The Compose file the project was started from [default: docker-compose.yml beside
        /// the catalogue].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The board and the diagnoses as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run one service's probe now, inside its container, and say what it means.
    Doctor {
        /// The service to probe.
        name: String,
        /// The profile the project runs [default: as `gen`].
        #[arg(short, long)]
        profile: Option<String>,
        /// The Compose file the project was started from [default: docker-compose.yml beside
        /// the catalogue].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Draft a catalogue from an existing Compose file.
    Import {
        /// The Compose file to read (`-` is stdin).
        file: PathBuf,
        /// Write the draft to FILE, which must not exist yet, instead of printing it.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The profile the file was written for: values equal to its defaults are left out.
        #[arg(short, long)]
        profile: Option<String>,
    },
    /// Print a completion script for SHELL (the README says where to put it).
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), for `man -l` or a man folder.
    Man {
        /// A subcommand's own page (`muster-check.1`), with all its options.
        command: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliColor {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliFormat {
    /// Diagnostics with the source line and a caret, on stderr.
    Human,
    /// One JSON document on stdout.
    Json,
    /// SARIF 2.1.0 on stdout, for code scanning.
    Sarif,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliTarget {
    /// A Compose file for `docker compose up`.
    Compose,
    /// A stack file for `docker stack deploy`.
    Swarm,
    /// Kubernetes manifests for `kubectl apply -f`.
    K8s,
}

impl From<CliTarget> for Target {
    fn from(target: CliTarget) -> Target {
        match target {
            CliTarget::Compose => Target::Compose,
            CliTarget::Swarm => Target::Swarm,
            CliTarget::K8s => Target::Kubernetes,
        }
    }
}

/// Where a run reads its inputs.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub catalogue: PathBuf,
    pub profiles_dir: PathBuf,
    pub templates_dir: PathBuf,
    pub profile: Option<String>,
    /// Whether the run keeps which layer set each value, for the commands that show it.
    pub provenance: Provenance,
    /// Lints allowed for this run.
    pub allow: Vec<Lint>,
    /// The Compose and Engine of the command line, over the catalogue's `[project] requires`.
    pub requires: crate::model::version::Requires,
    /// What the stack is generated for: a Kubernetes manifest keeps keys that no Compose reads.
    pub target: Target,
}

/// Whether diagnostics are drawn in colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// When stderr is a terminal and `NO_COLOR` is unset or empty (no-color.org).
    Auto,
    Always,
    Never,
}

/// What `muster env` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvShape {
    /// One paragraph per variable, for people.
    Human,
    Json,
    /// A `.env.example`.
    Example,
}

/// How `check` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// A parsed command line: what to do (or why it cannot be done) and how to show diagnostics.
#[derive(Debug)]
pub struct Invocation {
    pub request: Result<Request, Error>,
    pub color: Color,
}

/// What the user asked muster to do, with clap left behind.
#[derive(Debug, Clone)]
pub enum Request {
    Gen {
        inputs: Inputs,
        output: Option<PathBuf>,
        check: bool,
        target: Target,
    },
    Check {
        inputs: Inputs,
        deny_warnings: bool,
        format: Format,
        /// Hold the stack against the host with these files' variables (`--env-file`).
        env_files: Option<Vec<PathBuf>>,
    },
    Env {
        inputs: Inputs,
        shape: EnvShape,
        output: Option<PathBuf>,
    },
    ListLints,
    Schema {
        inputs: Inputs,
        output: Option<PathBuf>,
    },
    Add {
        inputs: Inputs,
        service: NewService,
    },
    Init {
        inputs: Inputs,
    },
    Kinds {
        inputs: Inputs,
        json: bool,
    },
    Explain {
        inputs: Inputs,
        name: String,
        json: bool,
    },
    Report {
        inputs: Inputs,
    },
    Import {
        inputs: Inputs,
        /// `None` for stdin.
        compose: Option<PathBuf>,
        output: Option<PathBuf>,
    },
    Completions {
        shell: clap_complete::Shell,
    },
    Man {
        command: Option<String>,
    },
    Up {
        inputs: Inputs,
        up: Up,
    },
    Tune {
        inputs: Inputs,
        tune: Tune,
    },
    Status {
        inputs: Inputs,
        file: PathBuf,
        json: bool,
    },
    Images {
        inputs: Inputs,
        /// `None` for stdout.
        output: Option<PathBuf>,
    },
    Doctor {
        inputs: Inputs,
        file: PathBuf,
        name: String,
    },
}

/// What `muster up` was asked for, besides the inputs.
#[derive(Debug, Clone)]
pub struct Up {
    /// The Compose file written and run.
    pub file: PathBuf,
    /// How long to wait for the stack, when the user said.
    pub timeout: Option<std::time::Duration>,
    /// Arguments for `docker compose up -d`.
    pub compose_args: Vec<String>,
    pub plain: bool,
    /// Fail a service only on the engine's word.
    pub wait_all: bool,
    /// The `--env-file`s, given to Compose too; none means the `.env` beside the file.
    pub env_files: Vec<PathBuf>,
}

/// What `muster tune` was asked for, besides the inputs.
#[derive(Debug, Clone)]
pub struct Tune {
    /// The Compose file written and run.
    pub file: PathBuf,
    /// How many times to bring the stack up; `None` to read the stack running.
    pub runs: Option<u32>,
    /// The profile to write the proposals to, when asked.
    pub write: Option<Option<String>>,
    /// Arguments for the first `docker compose up -d`.
    pub compose_args: Vec<String>,
    pub timeout: Option<std::time::Duration>,
}

/// The entry `muster add` appends. Parsed by clap as it is: it only names values, so no stage
/// learns from it how arguments are spelled.
#[derive(Debug, Clone, Args)]
pub struct NewService {
    /// The service's kind (`muster kinds` lists them).
    // Indexes said, not implied by order: completion re-adds the argument to attach its values.
    #[arg(index = 1)]
    pub kind: String,
    /// The service's name.
    #[arg(index = 2)]
    pub name: String,
    /// The container port probes target.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// The image to run.
    #[arg(long, conflicts_with = "build")]
    pub image: Option<String>,
    /// The build context to build the image from.
    #[arg(long, value_name = "DIR")]
    pub build: Option<String>,
    /// The HTTP path the probe asks (`http`, `ai-model`).
    #[arg(long, value_name = "PATH")]
    pub health_path: Option<String>,
    /// An environment variable, `NAME=VALUE`; repeat for more.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = env_pair)]
    pub env: Vec<(String, String)>,
    /// The command, as one string (Compose splits it into words).
    #[arg(long, value_name = "COMMAND", allow_hyphen_values = true)]
    pub command: Option<String>,
    /// How the healthcheck reaches the service.
    #[arg(long, value_parser = PossibleValuesParser::new(crate::probe::REQUESTS))]
    pub probe: Option<String>,
    /// GPUs for the container: `all`, or how many.
    #[arg(long, value_name = "all|N", value_parser = gpus)]
    pub gpus: Option<GpuCount>,
    /// Services to wait for, comma-separated, each `NAME` (condition inferred) or
    /// `NAME:healthy|started|completed`; one not in the catalogue yet is allowed, with a warning.
    #[arg(long, value_delimiter = ',', value_name = "NAME[:CONDITION],...", value_parser = dependency)]
    pub depends_on: Vec<(String, Option<String>)>,
    /// The muster profiles the service exists under, comma-separated (`only_in`): a mail
    /// catcher `--profile-only dev`.
    #[arg(long, value_delimiter = ',', value_name = "PROFILE,...",
          value_parser = |s: &str| Ok::<_, std::convert::Infallible>(s.trim().to_owned()))]
    pub profile_only: Vec<String>,
}

/// `--gpus all` or `--gpus 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuCount {
    All,
    Count(u32),
}

fn gpus(text: &str) -> Result<GpuCount, String> {
    match text {
        "all" => Ok(GpuCount::All),
        n => n
            .parse()
            .map(GpuCount::Count)
            .map_err(|_| format!("`{n}` is neither `all` nor a number of GPUs")),
    }
}

/// `NAME=VALUE`; the value may hold `=` and be empty.
fn env_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

/// `NAME` or `NAME:CONDITION`, spaces around either ignored.
fn dependency(text: &str) -> Result<(String, Option<String>), String> {
    let (name, condition) = match text.split_once(':') {
        Some((name, condition)) => (name.trim(), Some(condition.trim())),
        None => (text.trim(), None),
    };
    if name.is_empty() {
        return Err(format!("`{text}` names no service"));
    }
    match condition {
        None => Ok((name.to_owned(), None)),
        Some(c) if crate::model::Condition::parse(c).is_some() => {
            Ok((name.to_owned(), Some(c.to_owned())))
        }
        Some(c) => Err(format!(
            "`{c}` is not a condition: healthy, started or completed"
        )),
    }
}

impl Cli {
    pub fn into_invocation(self) -> Invocation {
        let color = match self.color {
            CliColor::Auto => Color::Auto,
            CliColor::Always => Color::Always,
            CliColor::Never => Color::Never,
        };
        Invocation {
            request: self.into_request(),
            color,
        }
    }

    fn into_request(self) -> Result<Request, Error> {
        let found = self.catalogue.clone().or_else(find_catalogue);
        // `init` writes here, never into a parent's project; `kinds`, `schema` and `import` read
        // only the profiles and templates beside a catalogue, when there is one.
        let catalogue = match &self.command {
            CliCommand::Gen { .. }
            | CliCommand::Env { .. }
            | CliCommand::Check {
                list_lints: false, ..
            }
            | CliCommand::Add(_)
            | CliCommand::Explain { .. }
            | CliCommand::Images { .. }
            | CliCommand::Report { .. } => found.ok_or_else(|| Error::NoCatalogue {
                from: std::env::current_dir().unwrap_or_default(),
            })?,
            CliCommand::Init => self
                .catalogue
                .clone()
                .unwrap_or_else(|| PathBuf::from(CATALOGUE)),
            _ => found.unwrap_or_else(|| PathBuf::from(CATALOGUE)),
        };
        // A folder named on the command line that is not there is a typo, not "no user
        // profiles": going on with the built-ins alone would generate the wrong file quietly.
        if !matches!(self.command, CliCommand::Init) {
            for (dir, action) in [
                (&self.profiles, "read the profiles folder"),
                (&self.templates, "read the templates folder"),
            ] {
                if let Some(dir) = dir {
                    explicit_folder(dir).map_err(Error::io(action, dir))?;
                }
            }
        }
        let base = catalogue.parent().map(PathBuf::from).unwrap_or_default();
        let inputs = |profile| Inputs {
            profiles_dir: self
                .profiles
                .clone()
                .unwrap_or_else(|| base.join("profiles")),
            templates_dir: self
                .templates
                .clone()
                .unwrap_or_else(|| base.join("templates")),
            catalogue: catalogue.clone(),
            profile,
            provenance: Provenance::Skip,
            allow: self.allow.clone(),
            requires: self.requires.unwrap_or_default(),
            target: Target::Compose,
        };
        let stdio = |path: Option<PathBuf>| path.filter(|p| p != Path::new("-"));
        Ok(match self.command {
            CliCommand::Gen {
                profile,
                output,
                check,
                target,
            } => {
                let output = stdio(output);
                if check && output.is_none() {
                    return Err(Error::Usage(
                        "`--check` compares with a file: give `-o FILE`, not stdout".to_owned(),
                    ));
                }
                let target = target.into();
                if let Some(output) = &output {
                    refuse_input(output, &inputs(None), true)?;
                }
                Request::Gen {
                    inputs: Inputs {
                        target,
                        ..inputs(profile)
                    },
                    output,
                    check,
                    target,
                }
            }
            CliCommand::Check {
                list_lints: true, ..
            } => Request::ListLints,
            CliCommand::Check {
                profile,
                deny_warnings,
                format,
                list_lints: false,
                env_file,
            } => Request::Check {
                inputs: inputs(profile),
                deny_warnings,
                format: match format {
                    CliFormat::Human => Format::Human,
                    CliFormat::Json => Format::Json,
                    CliFormat::Sarif => Format::Sarif,
                },
                env_files: (!env_file.is_empty()).then_some(env_file),
            },
            CliCommand::Env {
                profile,
                target,
                format,
                example,
                output,
            } => {
                let target: Target = target.into();
                let output = stdio(output);
                if let Some(output) = &output {
                    refuse_input(output, &inputs(None), false)?;
                }
                Request::Env {
                    inputs: Inputs {
                        target,
                        ..inputs(profile)
                    },
                    shape: match (example, format) {
                        (true, _) => EnvShape::Example,
                        (false, CliListFormat::Json) => EnvShape::Json,
                        (false, CliListFormat::Human) => EnvShape::Human,
                    },
                    output,
                }
            }
            CliCommand::Schema { output } => {
                let output = stdio(output);
                if let Some(output) = &output {
                    refuse_input(output, &inputs(None), false)?;
                }
                Request::Schema {
                    inputs: inputs(None),
                    output,
                }
            }
            CliCommand::Add(service) => Request::Add {
                inputs: inputs(None),
                service,
            },
            CliCommand::Init => Request::Init {
                inputs: inputs(None),
            },
            CliCommand::Kinds { format } => Request::Kinds {
                inputs: inputs(None),
                json: matches!(format, CliListFormat::Json),
            },
            CliCommand::Explain {
                name,
                profile,
                format,
            } => Request::Explain {
                inputs: inputs(profile),
                name,
                json: matches!(format, CliListFormat::Json),
            },
            CliCommand::Report { profile } => Request::Report {
                inputs: inputs(profile),
            },
            CliCommand::Up {
                profile,
                output,
                timeout,
                build,
                no_build,
                pull,
                force_recreate,
                remove_orphans,
                plain,
                wait_all,
                env_file,
            } => {
                let mut compose_args = Vec::new();
                for (on, flag) in [
                    (build, "--build"),
                    (no_build, "--no-build"),
                    (force_recreate, "--force-recreate"),
                    (remove_orphans, "--remove-orphans"),
                ] {
                    if on {
                        compose_args.push(flag.to_owned());
                    }
                }
                if let Some(policy) = pull {
                    compose_args.extend(["--pull".to_owned(), policy]);
                }
                if let Some(output) = &output {
                    refuse_input(output, &inputs(None), true)?;
                }
                Request::Up {
                    inputs: inputs(profile),
                    up: Up {
                        file: output.unwrap_or_else(|| base.join("docker-compose.yml")),
                        timeout,
                        compose_args,
                        plain,
                        wait_all,
                        env_files: env_file,
                    },
                }
            }
            CliCommand::Images { profile, output } => Request::Images {
                inputs: inputs(profile),
                output: match output {
                    None => Some(crate::lock::beside(&catalogue)),
                    Some(path) => stdio(Some(path)),
                },
            },
            CliCommand::Tune {
                profile,
                output,
                runs,
                running,
                write,
                name,
                build,
                timeout,
            } => Request::Tune {
                inputs: inputs(profile),
                tune: Tune {
                    file: output.unwrap_or_else(|| base.join("docker-compose.yml")),
                    runs: (!running).then_some(runs),
                    write: write.then_some(name),
                    compose_args: if build {
                        vec!["--build".to_owned()]
                    } else {
                        Vec::new()
                    },
                    timeout,
                },
            },
            CliCommand::Status {
                profile,
                output,
                json,
            } => Request::Status {
                inputs: inputs(profile),
                file: output.unwrap_or_else(|| base.join("docker-compose.yml")),
                json,
            },
            CliCommand::Doctor {
                name,
                profile,
                output,
            } => Request::Doctor {
                inputs: inputs(profile),
                file: output.unwrap_or_else(|| base.join("docker-compose.yml")),
                name,
            },
            CliCommand::Import {
                file,
                output,
                profile,
            } => Request::Import {
                inputs: inputs(profile),
                compose: stdio(Some(file)),
                output: stdio(output),
            },
            CliCommand::Completions { shell } => Request::Completions { shell },
            CliCommand::Man { command } => Request::Man { command },
        })
    }
}

/// `services.toml` in the current folder or the nearest parent that has one, as cargo finds
/// `Cargo.toml`: a path relative to the current folder (`../../services.toml`), so that
/// diagnostics stay short.
pub(crate) fn find_catalogue() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors().enumerate().find_map(|(depth, dir)| {
        dir.join(CATALOGUE).is_file().then(|| {
            let mut path: PathBuf = std::iter::repeat_n("..", depth).collect();
            path.push(CATALOGUE);
            path
        })
    })
}

/// `-o` naming a file muster reads would overwrite an input with the output: the catalogue, a
/// profile, a template, or (for the commands that warn when it is stale) the schema beside the
/// catalogue. Paths are compared as the system resolves them, so `./services.toml`, a link to
/// it and `../project/services.toml` are all the catalogue.
fn refuse_input(output: &Path, inputs: &Inputs, schema_too: bool) -> Result<(), Error> {
    let Some(written) = resolved(output) else {
        return Ok(());
    };
    let is = |p: &Path| resolved(p).is_some_and(|r| r == written);
    let inside = |dir: &Path| std::fs::canonicalize(dir).is_ok_and(|d| written.starts_with(d));
    let shown = output.display();
    let what = if is(&inputs.catalogue) {
        "is the catalogue muster reads".to_owned()
    } else if inside(&inputs.profiles_dir) {
        format!(
            "is in the profiles folder muster reads ({})",
            inputs.profiles_dir.display()
        )
    } else if inside(&inputs.templates_dir) {
        format!(
            "is in the templates folder muster reads ({})",
            inputs.templates_dir.display()
        )
    } else if schema_too && is(&inputs.catalogue.with_file_name(crate::schema::FILE_NAME)) {
        "is the catalogue's schema, which editors and `muster check` read".to_owned()
    } else {
        return Ok(());
    };
    Err(Error::Usage(format!(
        "`-o {shown}` {what}: the output would overwrite it; name another file, such as \
         `-o docker-compose.yml`"
    )))
}

/// `path` as the system resolves it, whether it exists or not (then its folder resolved, and
/// its name); `None` when its folder does not exist either (writing will say so).
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
}

/// A folder given by `--profiles` or `--templates` must exist and be a folder.
fn explicit_folder(dir: &Path) -> std::io::Result<()> {
    if std::fs::metadata(dir)?.is_dir() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a folder",
        ))
    }
}
