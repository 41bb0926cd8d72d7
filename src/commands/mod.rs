pub mod add;
pub mod check;
pub mod completions;
pub mod doctor;
pub mod env;
pub mod explain;
pub mod generate;
pub mod images;
pub mod import;
pub mod init;
pub mod kinds;
pub mod report;
pub mod schema;
pub mod status;
pub mod tune;
pub mod up;

use crate::config::Inputs;
use crate::error::Error;
use crate::kinds::Kinds;

/// The built-in kinds and the ones in the user's templates folder.
fn kinds(inputs: &Inputs) -> Result<Kinds, Error> {
    Kinds::built_in().with_user_templates(&inputs.templates_dir)
}
