//! `muster env --example`: a `.env.example` of every variable the stack reads, in Compose's
//! `.env` format (`model::dotenv`). The required ones come first, each under its message and
//! the places that read it, with an empty value (a secret's is never guessed, and the others
//! have none to give); the optional ones follow, commented out, with their default where they
//! have one. Filled in and saved as `.env`, it is what `check --env-file` and `up` read.

use super::{Contract, Reader, Variable};

/// The file's text. `catalogue` and `profile` name what it was made from.
pub fn write(contract: &Contract, catalogue: &str, profile: &str) -> String {
    let mut out = format!(
        "# The variables of the stack muster generates from {catalogue} (profile: {profile}).\n\
         # Copy to .env beside the generated file and fill in the required ones; \
         `muster check --env-file .env` says what is missing.\n"
    );
    let (required, optional): (Vec<&Variable>, Vec<&Variable>) =
        contract.variables.iter().partition(|v| v.required);
    if !required.is_empty() {
        out.push_str("\n# Required\n");
        for v in required {
            out.push('\n');
            comments(&mut out, v);
            out.push_str(&format!("{}=\n", v.name));
        }
    }
    if !optional.is_empty() {
        out.push_str("\n# Optional: Compose uses the default, or an empty value, without them\n");
        for v in optional {
            out.push('\n');
            comments(&mut out, v);
            let default = v.default.as_deref().unwrap_or_default();
            out.push_str(&format!("# {}={}\n", v.name, quoted(default)));
        }
    }
    out
}

/// The message, whether it is a secret, and where the stack reads it.
fn comments(out: &mut String, v: &Variable) {
    if let Some(message) = &v.message {
        for line in message.lines() {
            out.push_str(&format!("# {line}\n"));
        }
    }
    if v.secret {
        out.push_str("# a secret: keep it out of the repository\n");
    }
    let mut places: Vec<String> = Vec::new();
    for u in &v.uses {
        let place = match u.reader {
            Reader::Interpolation => u.site.describe(),
            Reader::Secret | Reader::Config => {
                format!(
                    "{} (its value)",
                    u.site.key.trim_end_matches(".environment")
                )
            }
        };
        if !places.contains(&place) {
            places.push(place);
        }
    }
    out.push_str(&format!("# read by {}\n", places.join(", ")));
}

/// A value as `.env` writes it: as it is when Compose reads it back the same, else in double
/// quotes, where `\`, `"` and a line break are escaped and `${...}` still interpolates, as it
/// does in the default it came from.
fn quoted(value: &str) -> String {
    let plain = !value.contains(" #")
        && !value.starts_with(['"', '\'', ' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && !value.contains(['\n', '\r', '\\']);
    if plain {
        return value.to_owned();
    }
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dotenv;

    #[test]
    fn a_quoted_default_reads_back_as_written() {
        for value in [
            "8080",
            "a b",
            "x #y",
            " lead",
            "tab\t",
            "multi\nline",
            "q\"uote",
            "back\\slash",
        ] {
            let line = format!("V={}\n", quoted(value));
            let mut vars = indexmap::IndexMap::new();
            dotenv::parse(&line, 0, &|_| None, &mut vars).unwrap();
            assert_eq!(vars["V"].value, value, "{line}");
        }
    }
}
