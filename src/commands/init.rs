//! `muster init`: a starter catalogue and its schema, beside each other, so that an editor
//! completes and checks the catalogue from the first keystroke.

use crate::config::Inputs;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::pipeline::Session;
use crate::schema;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A catalogue that `muster gen` turns into a working stack as it is.
const STARTER: &str = r#"#:schema ./muster.schema.json
# The service catalogue: one [services.NAME] table per service. `muster gen` turns it into a
# Compose file, `muster kinds` lists the kinds, and `muster add KIND NAME` appends a service.

[services.db]
kind = "db"
image = "postgres:17"
env = { POSTGRES_PASSWORD = "${POSTGRES_PASSWORD:?set it in .env}" }
volumes = ["dbdata:/var/lib/postgresql/data"]

[services.web]
kind = "http"
build = "."                  # muster reads ./Dockerfile to choose the probe's client
port = 8000
health_path = "/health/live" # the path your app answers with 2xx
ports = ["8000:8000"]
depends_on = ["db"]
"#;

pub fn run(inputs: &Inputs, session: &mut Session) -> Result<Option<String>, Error> {
    let catalogue = &inputs.catalogue;
    let schema_path = catalogue
        .parent()
        .map_or_else(PathBuf::new, Path::to_path_buf)
        .join(schema::FILE_NAME);
    let kinds = super::kinds(inputs)?;
    let files = [
        (catalogue.as_path(), STARTER.to_owned()),
        (
            schema_path.as_path(),
            schema::to_json(&schema::catalogue_schema(&kinds)),
        ),
    ];
    // Checked for both before either is written, so that a refusal leaves no half-made start.
    for (path, _) in &files {
        if path.exists() {
            session.diagnostics.push(
                Diagnostic::error(format!("{} already exists", path.display())).with_note(
                    "`muster init` never overwrites a file; move it away or use `muster add`",
                ),
            );
        }
    }
    if session.diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    for (path, contents) in &files {
        // `create_new` refuses a file that appeared since the check above.
        std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut file| file.write_all(contents.as_bytes()))
            .map_err(Error::io("write", *path))?;
    }
    // The commands as the user will type them: `-c` only when the catalogue is not where
    // muster looks by itself.
    let found_alone = catalogue
        .file_name()
        .is_some_and(|n| n == crate::user_files::CATALOGUE)
        && catalogue.parent().is_none_or(|p| p.as_os_str().is_empty());
    let with = if found_alone {
        String::new()
    } else {
        format!(" -c {}", catalogue.display())
    };
    session.summary = Some(
        [
            format!(
                "wrote {} (a starter catalogue: a Postgres database and a web service)",
                catalogue.display()
            ),
            format!(
                "wrote {} (its JSON Schema, for completion in editors)",
                schema_path.display()
            ),
            "next:".to_owned(),
            format!("  muster{with} check                      # validate it and run the lints"),
            format!("  muster{with} gen -o docker-compose.yml  # write the Compose file"),
        ]
        .join("\n"),
    );
    Ok(None)
}
