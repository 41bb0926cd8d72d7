//! `muster check`'s findings for machines: one JSON document, or a SARIF 2.1.0 log for code
//! scanning (GitHub, GitLab, Azure DevOps), each error and lint with its file, line and column.
//!
//! Written with serde rather than a SARIF crate: muster needs a dozen of the format's fields,
//! and the test suite checks the log with Microsoft's own validator (the SARIF Multitool).

use crate::diagnostic::{Diagnostic, Location, Severity, Sources};
use crate::model::Lint;
use serde_json::{Value, json};

/// What the built-in sources are called in diagnostics, and the SARIF base they are given:
/// they are in muster, not in the user's repository.
const BUILT_IN_PREFIX: &str = "<built-in>/";
const BUILT_IN_BASE: &str = "MUSTER_BUILT_IN";

/// The rule of an error, which has no lint name: it fails `gen` whatever the team allows.
const ERROR_RULE: &str = "error";

pub struct Findings<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub sources: &'a Sources,
    /// The catalogue, where a finding about the whole stack is placed.
    pub catalogue: String,
    pub profile: Option<String>,
}

impl Findings<'_> {
    fn location(&self, d: &Diagnostic) -> Option<Location> {
        d.labels
            .first()
            .map(|l| self.sources.location(l.source, &l.span))
    }

    /// One object per diagnostic, in the order `check` prints them.
    pub fn to_json(&self) -> String {
        let count = |severity| {
            self.diagnostics
                .iter()
                .filter(|d| d.severity == severity)
                .count()
        };
        let diagnostics: Vec<Value> = self
            .diagnostics
            .iter()
            .map(|d| {
                let mut object = json!({
                    "severity": d.severity.word(),
                    "lint": d.lint.map(Lint::name),
                    "message": d.message,
                    "notes": d.notes,
                });
                let place = match self.location(d) {
                    Some(l) => json!({
                        "file": l.file, "line": l.line, "column": l.column,
                        "end_line": l.end_line, "end_column": l.end_column,
                    }),
                    None => json!({ "file": self.catalogue }),
                };
                object["location"] = place;
                object
            })
            .collect();
        let document = json!({
            "catalogue": self.catalogue,
            "profile": self.profile,
            "errors": count(Severity::Error),
            "warnings": count(Severity::Warning),
            "diagnostics": diagnostics,
        });
        pretty(&document)
    }

    pub fn to_sarif(&self) -> String {
        let mut rules: Vec<Value> = Lint::ALL
            .iter()
            .map(|l| {
                json!({
                    "id": l.name(),
                    "shortDescription": { "text": sentence(l.checks()) },
                    "fullDescription": { "text": sentence(l.why()) },
                    "help": { "text": format!(
                        "{} Allow it for the catalogue with `[project] allow = [\"{}\"]`.",
                        sentence(l.why()), l.name()
                    ) },
                    "defaultConfiguration": { "level": l.level().word() },
                })
            })
            .collect();
        rules.push(json!({
            "id": ERROR_RULE,
            "shortDescription": { "text": "A mistake that stops muster gen." },
            "fullDescription": { "text": "The catalogue, a profile or a template has an error: muster gen refuses to write a file from it." },
            "defaultConfiguration": { "level": "error" },
        }));
        let rule_index = |id: &str| {
            rules
                .iter()
                .position(|r| r["id"] == id)
                .expect("every rule id is listed")
        };
        let results: Vec<Value> = self
            .diagnostics
            .iter()
            .map(|d| {
                let rule = match (d.severity, d.lint) {
                    (Severity::Warning, Some(lint)) => lint.name(),
                    _ => ERROR_RULE,
                };
                let mut text = d.message.clone();
                for note in &d.notes {
                    text.push('\n');
                    text.push_str(note);
                }
                let physical = match self.location(d) {
                    Some(l) => {
                        let mut physical = artifact(&l.file);
                        physical["region"] = json!({
                            "startLine": l.line, "startColumn": l.column,
                            "endLine": l.end_line, "endColumn": l.end_column,
                        });
                        physical
                    }
                    // About the whole stack: the whole catalogue, as SARIF words a finding about a
                    // whole file, so that code scanning still shows it beside the file.
                    None => {
                        let mut physical = artifact(&self.catalogue);
                        let lines = self
                            .sources
                            .find(&self.catalogue)
                            .map_or(1, |id| self.sources.text(id).lines().count().max(1));
                        physical["region"] = json!({ "startLine": 1, "endLine": lines });
                        physical
                    }
                };
                json!({
                    "ruleId": rule,
                    "ruleIndex": rule_index(rule),
                    "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                    "message": { "text": text },
                    "locations": [{ "physicalLocation": physical }],
                })
            })
            .collect();
        let log = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "muster",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                } },
                "originalUriBaseIds": {
                    BUILT_IN_BASE: { "description": { "text": "Files built into muster: its profiles and kind templates." } },
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        });
        pretty(&log)
    }
}

/// A file as SARIF names it: a relative URI reference, or one under the built-in base.
fn artifact(file: &str) -> Value {
    match file.strip_prefix(BUILT_IN_PREFIX) {
        Some(rest) => {
            json!({ "artifactLocation": { "uri": uri(rest), "uriBaseId": BUILT_IN_BASE } })
        }
        None => json!({ "artifactLocation": { "uri": uri(file) } }),
    }
}

/// A path as a URI reference: `/` separated, with the characters a URI cannot hold escaped.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for byte in path.replace('\\', "/").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// SARIF asks that descriptions be sentences.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("../services.toml"), "../services.toml");
        assert_eq!(uri("my stack/services.toml"), "my%20stack/services.toml");
        assert_eq!(uri("a#b%"), "a%23b%25");
    }

    #[test]
    fn built_in_files_are_under_their_own_base() {
        assert_eq!(
            artifact("<built-in>/profiles/prod.toml"),
            json!({ "artifactLocation": { "uri": "profiles/prod.toml", "uriBaseId": BUILT_IN_BASE } })
        );
        assert_eq!(
            artifact("profiles/prod.toml"),
            json!({ "artifactLocation": { "uri": "profiles/prod.toml" } })
        );
    }
}
