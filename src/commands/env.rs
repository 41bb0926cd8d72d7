//! `muster env`: every variable the generated stack reads, for the profile and target, with
//! whether it is required or its default, the message of `${VAR:?msg}`, whether it looks like
//! a secret, and each place that reads it (service, key, and the catalogue line); as a list for
//! people, as JSON, or as a `.env.example` (`--example`), on stdout or written atomically to
//! `-o FILE` as `gen -o` writes.

use crate::config::{EnvShape as Shape, Inputs};
use crate::emit::Target;
use crate::error::Error;
use crate::host::{Contract, Reader, Variable};
use crate::pipeline::{self, Session};
use serde_json::{Value, json};
use std::path::Path;

pub fn run(
    inputs: &Inputs,
    target: Target,
    shape: Shape,
    output: Option<&Path>,
    session: &mut Session,
) -> Result<Option<String>, Error> {
    let mut stack = pipeline::stack(inputs, session)?;
    let contract = Contract::of(
        &mut stack,
        target,
        &session.sources,
        &mut session.diagnostics,
    );
    // A file `gen` would refuse to write reads nothing.
    if session.diagnostics.has_errors() {
        return Err(Error::Invalid);
    }
    let project = &stack.project;
    let text = match shape {
        Shape::Example => {
            crate::host::example::write(&contract, &project.catalogue_name, &project.profile)
        }
        Shape::Json => {
            let variables: Vec<Value> = contract
                .variables
                .iter()
                .map(|v| variable_json(v, session))
                .collect();
            let mut text = serde_json::to_string_pretty(&json!({
                "catalogue": inputs.catalogue.display().to_string(),
                "profile": project.profile,
                "target": target_name(target),
                "variables": variables,
            }))
            .expect("JSON values serialize");
            text.push('\n');
            text
        }
        Shape::Human => human(&contract, &project.profile, target, session),
    };
    match output {
        Some(path) => {
            crate::output::write_atomic(path, text.as_bytes()).map_err(Error::io("write", path))?;
            Ok(None)
        }
        None => Ok(Some(text)),
    }
}

fn target_name(target: Target) -> &'static str {
    match target {
        Target::Compose => "compose",
        Target::Swarm => "swarm",
        Target::Kubernetes => "k8s",
    }
}

fn variable_json(v: &Variable, session: &Session) -> Value {
    let uses: Vec<Value> = v
        .uses
        .iter()
        .map(|u| {
            let location = u.site.at.as_ref().map(|at| {
                let l = session.sources.location(at.source, &at.span);
                json!({
                    "file": l.file, "line": l.line, "column": l.column,
                    "end_line": l.end_line, "end_column": l.end_column,
                })
            });
            json!({
                "service": u.site.service,
                "key": u.site.key,
                "reader": match u.reader {
                    Reader::Interpolation => "interpolation",
                    Reader::Secret => "secret",
                    Reader::Config => "config",
                },
                "expression": u.read.expression,
                "required": u.read.required,
                "default": u.read.default,
                "alternate": u.read.alternate,
                "message": u.read.message,
                "location": location,
            })
        })
        .collect();
    json!({
        "name": v.name,
        "required": v.required,
        "default": v.default,
        "message": v.message,
        "secret": v.secret,
        "uses": uses,
    })
}

/// One paragraph per variable: its name and what it needs, then each place that reads it.
fn human(contract: &Contract, profile: &str, target: Target, session: &Session) -> String {
    let required = contract.variables.iter().filter(|v| v.required).count();
    let mut out = format!(
        "{} variable{} ({required} required) for profile {profile}, target {}\n",
        contract.variables.len(),
        if contract.variables.len() == 1 {
            ""
        } else {
            "s"
        },
        target_name(target),
    );
    for v in &contract.variables {
        let mut said = Vec::new();
        if v.required {
            said.push("required".to_owned());
        }
        let alternate = v.uses.iter().find_map(|u| u.read.alternate.as_deref());
        match (&v.default, alternate) {
            _ if v.required => {}
            (Some(d), _) => said.push(format!("default `{d}`")),
            (None, Some(a)) => said.push(format!("optional, `{a}` where set")),
            (None, None) => said.push("optional, empty when unset".to_owned()),
        }
        if v.secret {
            said.push("secret".to_owned());
        }
        let message = v
            .message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        out.push_str(&format!("\n{}  {}{message}\n", v.name, said.join(", ")));
        // Each use's expression only when they differ: the line above says what they share.
        let alike = v
            .uses
            .iter()
            .all(|u| u.read.expression == v.uses[0].read.expression);
        for u in &v.uses {
            let place = u
                .site
                .at
                .as_ref()
                .map(|at| {
                    let l = session.sources.location(at.source, &at.span);
                    format!("  ({}:{})", l.file, l.line)
                })
                .unwrap_or_default();
            let expression = if alike {
                String::new()
            } else {
                format!("  {}", u.read.expression)
            };
            out.push_str(&format!("  {}{expression}{place}\n", u.site.describe()));
        }
    }
    out
}
