//! Compose interpolation, restated for Kubernetes. Compose replaces `${VAR}` (in any of its
//! forms) from the host's environment when it reads the file, and `$$` stands for `$`.
//! Kubernetes reads no host environment: it expands `$(VAR)` in `env`, `command` and `args` from
//! the container's own variables, and `$$` stands for `$` there too. So a reference becomes
//! `$(VAR)`, the variable itself comes from the project's Secret, and every literal `$` is
//! written `$$` so that Kubernetes cannot take it for the start of a reference.
//!
//! Kubernetes has no defaults and no alternatives. A reference with a default (`${LEVEL:-info}`)
//! is written as its default, and said so ([`Translated::defaulted`]): the value works as it
//! would under Compose with the variable unset. One with an alternative (`${F:+on}`), whose
//! value depends on whether the variable is set at all, cannot be written
//! ([`Translated::alternatives`]).

use crate::model::command_line::Atom;

/// A Compose value, rewritten for Kubernetes.
#[derive(Debug, PartialEq, Eq)]
pub struct Translated {
    pub text: String,
    /// The variables it references, in order of first use.
    pub vars: Vec<String>,
    /// The variable, when the whole value is one reference (`${PASSWORD:?set it}`).
    pub whole: Option<String>,
    /// Variables written as their defaults.
    pub defaulted: Vec<String>,
    /// Variables with an alternative (`:+`, `+`), which Kubernetes cannot express.
    pub alternatives: Vec<String>,
}

/// A Compose value read as Compose interpolates it: literal characters (a `$$` is one `$`),
/// each reference without a default as one [`Atom::Value`] naming its variable, and each one
/// with a default as the default's own atoms, since Kubernetes has no defaults.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    pub atoms: Vec<Atom<String>>,
    pub defaulted: Vec<String>,
    pub alternatives: Vec<String>,
}

impl Parsed {
    /// The variables it references, in order of first use.
    pub fn vars(&self) -> Vec<String> {
        let mut vars: Vec<String> = Vec::new();
        for atom in &self.atoms {
            if let Atom::Value(v) = atom
                && !vars.contains(v)
            {
                vars.push(v.clone());
            }
        }
        vars
    }
}

pub fn parse(value: &str) -> Parsed {
    let mut parsed = Parsed {
        atoms: Vec::new(),
        defaulted: Vec::new(),
        alternatives: Vec::new(),
    };
    parse_into(value, &mut parsed);
    parsed
}

fn parse_into(value: &str, out: &mut Parsed) {
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.atoms.extend(rest[..at].chars().map(Atom::Char));
        let after = &rest[at + 1..];
        let (name, operator, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced_reference(braced) {
                Some((name, len)) => (Some(name), &braced[name.len()..len - 1], len + 1),
                None => (None, "", 0),
            }
        } else if after.starts_with('$') {
            // `$$`: one literal dollar.
            (None, "", 1)
        } else {
            let len = name_len(after);
            ((len > 0).then(|| &after[..len]), "", len)
        };
        let default = operator
            .strip_prefix(":-")
            .or_else(|| operator.strip_prefix('-'));
        match name {
            Some(name) if default.is_some() => {
                parse_into(default.unwrap_or_default(), out);
                out.defaulted.push(name.to_owned());
            }
            Some(name) if operator.starts_with(":+") || operator.starts_with('+') => {
                out.alternatives.push(name.to_owned());
            }
            Some(name) => out.atoms.push(Atom::Value(name.to_owned())),
            None => out.atoms.push(Atom::Char('$')),
        }
        rest = &after[consumed..];
    }
    out.atoms.extend(rest.chars().map(Atom::Char));
}

/// Atoms as Kubernetes expands `env`, `command` and `args`: a reference is `$(VAR)`, and every
/// literal `$` is `$$`, so that none is taken for the start of one.
pub fn expanded(atoms: &[Atom<String>]) -> String {
    let mut text = String::new();
    for atom in atoms {
        match atom {
            Atom::Char('$') => text.push_str("$$"),
            Atom::Char(c) => text.push(*c),
            Atom::Value(v) => {
                text.push_str("$(");
                text.push_str(v);
                text.push(')');
            }
        }
    }
    text
}

/// Atoms as a shell reads them (an `exec` probe through `sh -c`, which Kubernetes does not
/// expand): a reference is `${VAR}`, read from the container's environment, and a literal `$`
/// is itself.
pub fn shell(atoms: &[Atom<String>]) -> String {
    let mut text = String::new();
    for atom in atoms {
        match atom {
            Atom::Char(c) => text.push(*c),
            Atom::Value(v) => {
                text.push_str("${");
                text.push_str(v);
                text.push('}');
            }
        }
    }
    text
}

/// Atoms as plain text, for a string Kubernetes reads as it is (an image, an annotation, a
/// path); the variables that have no value there, when there are any.
pub fn literal(atoms: &[Atom<String>]) -> Result<String, Vec<String>> {
    let vars: Vec<String> = atoms
        .iter()
        .filter_map(|a| match a {
            Atom::Value(v) => Some(v.clone()),
            Atom::Char(_) => None,
        })
        .collect();
    if !vars.is_empty() {
        return Err(vars);
    }
    Ok(atoms
        .iter()
        .filter_map(|a| match a {
            Atom::Char(c) => Some(*c),
            Atom::Value(_) => None,
        })
        .collect())
}

pub fn translate(value: &str) -> Translated {
    let parsed = parse(value);
    let vars = parsed.vars();
    let whole = match parsed.atoms.as_slice() {
        [Atom::Value(v)] => Some(v.clone()),
        _ => None,
    };
    Translated {
        text: expanded(&parsed.atoms),
        vars,
        whole,
        defaulted: parsed.defaulted,
        alternatives: parsed.alternatives,
    }
}

/// The name in `NAME}` or `NAME<modifier>...}` and the length up to and including the closing
/// brace, which may follow nested references in a default (`${A:-${B}}`).
fn braced_reference(text: &str) -> Option<(&str, usize)> {
    let len = name_len(text);
    if len == 0 {
        return None;
    }
    let mut depth = 1;
    for (i, c) in text.char_indices().skip(len) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[..len], i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

fn name_len(text: &str) -> usize {
    let mut len = 0;
    for (i, c) in text.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_kubernetes_references() {
        let t = translate("amqp://shop:${RABBITMQ_PASSWORD:?set it}@rabbitmq:5672//");
        assert_eq!(t.text, "amqp://shop:$(RABBITMQ_PASSWORD)@rabbitmq:5672//");
        assert_eq!(t.vars, ["RABBITMQ_PASSWORD"]);
        assert_eq!(t.whole, None);
    }

    #[test]
    fn a_whole_reference_is_recognised_in_every_form() {
        for value in ["${PW}", "$PW", "${PW:?missing}", "${PW?missing}"] {
            assert_eq!(translate(value).whole.as_deref(), Some("PW"), "{value}");
        }
        assert_eq!(translate("${PW}${PW}").whole, None);
        assert_eq!(translate("x${PW}").whole, None);
    }

    #[test]
    fn a_default_is_written_and_an_alternative_refused() {
        let t = translate("redis://${HOST:-redis}:${PORT-6379}/0");
        assert_eq!(t.text, "redis://redis:6379/0");
        assert_eq!(t.defaulted, ["HOST", "PORT"]);
        assert!(t.vars.is_empty() && t.whole.is_none());
        // A default that references another variable keeps that reference.
        let t = translate("${A:-${B}}");
        assert_eq!((t.text.as_str(), t.whole.as_deref()), ("$(B)", Some("B")));
        assert_eq!(t.defaulted, ["A"]);
        let t = translate("--feature=${F:+on}");
        assert_eq!(t.alternatives, ["F"]);
    }

    #[test]
    fn literal_dollars_stay_literal_for_kubernetes() {
        // Compose's `$$` is one `$`; Kubernetes needs `$$` for it, or `$(` would expand.
        assert_eq!(translate("cost $$5").text, "cost $$5");
        assert_eq!(translate("$$(HOME)").text, "$$(HOME)");
        assert_eq!(translate("a $ b").text, "a $$ b");
        assert_eq!(translate("${unclosed").text, "$${unclosed");
        assert!(translate("$$HOME").vars.is_empty());
        assert_eq!(translate("plain").text, "plain");
    }
}
