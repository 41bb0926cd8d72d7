pub mod explain;
pub mod generate;
pub mod import;
pub mod report;
