//! Emitters: the validated stack in a target's own format.

pub mod compose;
pub mod yaml;
