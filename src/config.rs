//! The command line, parsed by clap and turned at once into muster's own types, so that no stage
//! depends on how arguments are spelled.

use crate::emit::Target;
use crate::resolve::Provenance;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "muster",
    version,
    about = "Complete Compose files from a compact TOML service catalogue"
)]
pub struct Cli {
    /// The catalogue file.
    #[arg(
        short = 'c',
        long = "catalogue",
        global = true,
        default_value = "services.toml"
    )]
    catalogue: PathBuf,
    /// Folder of user profiles (NAME.toml) [default: `profiles/` beside the catalogue].
    #[arg(long, global = true)]
    profiles: Option<PathBuf>,
    /// Folder of user templates (kinds/KIND.yml.j2) [default: `templates/` beside the catalogue].
    #[arg(long, global = true)]
    templates: Option<PathBuf>,
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
        /// Write to FILE atomically instead of printing.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Compare with the -o FILE instead of writing it; exit 1 with a diff when it is stale.
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
    },
    /// Print the catalogue's JSON Schema, for editor completion and validators.
    Schema,
    /// Append one service to the catalogue, keeping its comments and layout.
    Add(NewService),
    /// Write a starter catalogue and its schema; never overwrites.
    Init,
    /// List every kind with its engines and its defaults in each profile.
    Kinds,
    /// Show one service as generated, and which layer set each of its values.
    Explain {
        /// The service to explain.
        name: String,
        /// The profile to resolve under [default: `[project] default_profile`, else dev].
        #[arg(short, long)]
        profile: Option<String>,
    },
    /// A markdown health-status report: probes, dependencies, restart policies, warnings.
    Report {
        /// The profile whose probes and warnings are reported [default: as `gen`].
        #[arg(short, long)]
        profile: Option<String>,
    },
    /// Draft a catalogue from an existing Compose file.
    Import {
        /// The Compose file to read.
        file: PathBuf,
        /// Write the draft to FILE, which must not exist yet, instead of printing it.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The profile the file was written for: values equal to its defaults are left out.
        #[arg(short, long)]
        profile: Option<String>,
    },
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

/// Where a run reads its inputs.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub catalogue: PathBuf,
    pub profiles_dir: PathBuf,
    pub templates_dir: PathBuf,
    pub profile: Option<String>,
    /// Whether the run keeps which layer set each value, for the commands that show it.
    pub provenance: Provenance,
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
    },
    Schema {
        inputs: Inputs,
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
    },
    Explain {
        inputs: Inputs,
        name: String,
    },
    Report {
        inputs: Inputs,
    },
    Import {
        inputs: Inputs,
        compose: PathBuf,
        output: Option<PathBuf>,
    },
}

/// The entry `muster add` appends. Parsed by clap as it is: it only names values, so no stage
/// learns from it how arguments are spelled.
#[derive(Debug, Clone, Args)]
pub struct NewService {
    /// The service's kind (`muster kinds` lists them).
    pub kind: String,
    /// The service's name.
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
    /// Services to wait for, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub depends_on: Vec<String>,
}

impl Cli {
    pub fn into_request(self) -> Request {
        let base = self
            .catalogue
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        let inputs = |profile| Inputs {
            profiles_dir: self
                .profiles
                .clone()
                .unwrap_or_else(|| base.join("profiles")),
            templates_dir: self
                .templates
                .clone()
                .unwrap_or_else(|| base.join("templates")),
            catalogue: self.catalogue.clone(),
            profile,
            provenance: Provenance::Skip,
        };
        match self.command {
            CliCommand::Gen {
                profile,
                output,
                check,
                target,
            } => Request::Gen {
                inputs: inputs(profile),
                output,
                check,
                target: match target {
                    CliTarget::Compose => Target::Compose,
                    CliTarget::Swarm => Target::Swarm,
                    CliTarget::K8s => Target::Kubernetes,
                },
            },
            CliCommand::Check {
                profile,
                deny_warnings,
            } => Request::Check {
                inputs: inputs(profile),
                deny_warnings,
            },
            CliCommand::Schema => Request::Schema {
                inputs: inputs(None),
            },
            CliCommand::Add(service) => Request::Add {
                inputs: inputs(None),
                service,
            },
            CliCommand::Init => Request::Init {
                inputs: inputs(None),
            },
            CliCommand::Kinds => Request::Kinds {
                inputs: inputs(None),
            },
            CliCommand::Explain { name, profile } => Request::Explain {
                inputs: inputs(profile),
                name,
            },
            CliCommand::Report { profile } => Request::Report {
                inputs: inputs(profile),
            },
            CliCommand::Import {
                file,
                output,
                profile,
            } => Request::Import {
                inputs: inputs(profile),
                compose: file,
                output,
            },
        }
    }
}
