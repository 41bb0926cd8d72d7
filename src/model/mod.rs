//! The facts every stage after resolve shares, as types rather than strings: a stage that needs
//! to know whether a service runs to completion asks its [`KindTraits`], not its kind's name, and
//! a restart policy is a [`Restart`], parsed once.

pub mod command_line;
mod condition;
pub mod count;
pub mod dotenv;
pub mod duration;
mod healthcheck;
pub mod interpolation;
mod kind_traits;
pub mod lint;
pub mod provider_labels;
mod restart;
mod severity;
mod target;
pub mod version;

pub use condition::Condition;
pub use count::Count;
pub use duration::Duration;
pub use healthcheck::{DOCKER_DEFAULT_RETRIES, HealthKey};
pub use kind_traits::{KindTraits, ProbeStyle};
pub use lint::Lint;
pub use restart::Restart;
pub use severity::Severity;
pub use target::Target;
