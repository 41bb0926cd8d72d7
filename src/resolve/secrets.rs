//! `env = { X = { secret = "..." } }`: a variable whose value reaches the container as a Compose
//! secret, mounted at `/run/secrets/NAME`, with the variable the image reads the file's path
//! from (`POSTGRES_PASSWORD_FILE`) set to it. The value is then in neither the catalogue nor
//! the generated file nor `docker inspect`.
//!
//! A `secret` with a `/` is a file: muster declares a top-level secret for it, named after the
//! file (`./secrets/pg_password.txt` is `pg_password`), one per file however many services use
//! it. Without a `/` it names a `[secrets.NAME]` table, for a secret from `environment`, an
//! `external` one, or a name of the user's choosing.

use super::{SecretEnv, SecretFile};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::images::FileVariables;
use crate::resources::Resources;
use indexmap::IndexMap;

/// The service's secret variables, each with the variable its image reads the file from; an
/// error for a variable the image reads from no file.
pub(super) fn secret_env(
    service: &str,
    image: Option<&str>,
    files: FileVariables,
    secrets: super::layers::SecretVariables,
    plain: &IndexMap<String, String>,
    diagnostics: &mut Diagnostics,
) -> Vec<SecretEnv> {
    let mut found = Vec::with_capacity(secrets.len());
    for (variable, (secret, source)) in secrets {
        let text = secret.get_ref();
        // Refused where it was read, with what to write instead; a second error here would say
        // the same mistake again as a missing table.
        if !crate::spec::secret_reference_is_valid(text) {
            continue;
        }
        let Some(file_variable) = files.file_variable(&variable) else {
            diagnostics.push(unreadable(service, image, &variable, files).at(
                source,
                Some(secret.span()),
                "the image reads no file for this variable",
            ));
            continue;
        };
        if plain.contains_key(&file_variable) {
            diagnostics.push(
                Diagnostic::error(format!(
                    "service `{service}`: `{variable}` is a secret, and `{file_variable}`, which \
                     muster sets to the secret's file, is set in `env` too"
                ))
                .at(source, Some(secret.span()), "the secret")
                .with_note(format!(
                    "remove `{file_variable}` from `env`: the image would read one and ignore \
                     the other, or refuse both"
                )),
            );
            continue;
        }
        let (name, file) = if text.contains('/') {
            (name_of_file(text), Some(text.clone()))
        } else {
            (text.clone(), None)
        };
        found.push(SecretEnv {
            variable,
            file_variable,
            secret: name,
            file,
            source,
            span: secret.span(),
        });
    }
    found
}

/// Why `variable` cannot be a secret of this image, and what gives the image one instead.
fn unreadable(
    service: &str,
    image: Option<&str>,
    variable: &str,
    files: FileVariables,
) -> Diagnostic {
    let image = image.map_or_else(|| "its image".to_owned(), |i| format!("image `{i}`"));
    let FileVariables::Listed {
        names,
        suffix,
        instead,
    } = files
    else {
        unreachable!("the convention names a file for every variable");
    };
    let mut d = if names.is_empty() {
        Diagnostic::error(format!(
            "service `{service}`: `{variable}` cannot be a secret: {image} reads no variable \
             from a file"
        ))
    } else {
        Diagnostic::error(format!(
            "service `{service}`: `{variable}` cannot be a secret: {image} reads only {} from \
             a file (`NAME{suffix}`)",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    d = match instead {
        Some(instead) => d.with_note(instead),
        None => d.with_note(format!(
            "give it from `.env` instead: `{variable} = \"${{{variable}:?set it in .env}}\"`"
        )),
    };
    d
}

/// A top-level secret's name for a file: its name without the extension, in the characters
/// Compose allows in a secret's name.
pub(super) fn name_of_file(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = match file.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file,
    };
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "secret".to_owned()
    } else {
        name
    }
}

/// The secrets muster declares for the files the services name, by name, in first-use order;
/// errors where a name is a `[secrets.NAME]` table for another value, where two files would
/// share one, and where a name without a file names no table.
pub(super) fn declared<'a>(
    services: impl Iterator<Item = &'a SecretEnv>,
    resources: &Resources,
    diagnostics: &mut Diagnostics,
) -> IndexMap<String, SecretFile> {
    let mut files: IndexMap<String, SecretFile> = IndexMap::new();
    for s in services {
        let table = resources.secrets.get(&s.secret);
        let Some(file) = &s.file else {
            if table.is_none() {
                let known: Vec<&str> = resources
                    .secrets
                    .keys()
                    .map(String::as_str)
                    .chain(files.keys().map(String::as_str))
                    .collect();
                let mut d = Diagnostic::error(format!(
                    "`{}` names secret `{}`, which no `[secrets.{}]` table declares",
                    s.variable, s.secret, s.secret
                ))
                .at(s.source, Some(s.span.clone()), "no such secret");
                if let Some(hint) = crate::suggest::did_you_mean(&s.secret, known.iter().copied()) {
                    d = d.with_note(hint);
                }
                diagnostics.push(d.with_note(format!(
                    "a file is a path with a `/` (`./{}.txt`); a name needs its table, with \
                     `file`, `environment` or `external = true`",
                    s.secret
                )));
            }
            continue;
        };
        if let Some(table) = table {
            if table.get_ref().file.as_deref() != Some(file.as_str()) {
                diagnostics.push(
                    Diagnostic::error(format!(
                        "the secret file `{file}` would be declared as `{}`, the name of a \
                         `[secrets.{}]` table for another value",
                        s.secret, s.secret
                    ))
                    .at(s.source, Some(s.span.clone()), "this file")
                    .with_note(format!(
                        "name the table instead (`secret = \"{}\"`), or rename the file",
                        s.secret
                    )),
                );
            }
            continue;
        }
        match files.get(&s.secret) {
            Some(other) if other.file != *file => diagnostics.push(
                Diagnostic::error(format!(
                    "the secret files `{}` and `{file}` would both be declared as `{}`",
                    other.file, s.secret
                ))
                .at(s.source, Some(s.span.clone()), "the second file")
                .with_note(
                    "rename one file, or declare each as a `[secrets.NAME]` table and name the \
                     tables",
                ),
            ),
            Some(_) => {}
            None => {
                files.insert(
                    s.secret.clone(),
                    SecretFile {
                        file: file.clone(),
                        source: s.source,
                        span: s.span.clone(),
                    },
                );
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_secret_is_named_after_the_file() {
        assert_eq!(name_of_file("./secrets/pg_password.txt"), "pg_password");
        assert_eq!(name_of_file("/run/keys/db.pass.txt"), "db.pass");
        assert_eq!(name_of_file("../.env.secret"), ".env");
        assert_eq!(name_of_file("./secrets/${STAGE}.txt"), "__STAGE_");
        assert_eq!(name_of_file("./secrets/"), "secret");
    }

    #[test]
    fn the_file_variable_is_the_images() {
        let listed = FileVariables::Listed {
            names: &["POSTGRES_PASSWORD", "GF_*"],
            suffix: "__FILE",
            instead: None,
        };
        assert_eq!(
            listed.file_variable("POSTGRES_PASSWORD").as_deref(),
            Some("POSTGRES_PASSWORD__FILE")
        );
        assert_eq!(
            listed
                .file_variable("GF_SECURITY_ADMIN_PASSWORD")
                .as_deref(),
            Some("GF_SECURITY_ADMIN_PASSWORD__FILE")
        );
        assert_eq!(listed.file_variable("POSTGRES_USER"), None);
        assert_eq!(
            FileVariables::Convention
                .file_variable("DB_PASSWORD")
                .as_deref(),
            Some("DB_PASSWORD_FILE")
        );
    }
}
