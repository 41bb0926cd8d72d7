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

pub fn translate(value: &str) -> Translated {
    let mut text = String::new();
    let mut vars: Vec<String> = Vec::new();
    let mut defaulted: Vec<String> = Vec::new();
    let mut alternatives: Vec<String> = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        text.push_str(&rest[..at]);
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
                let inner = translate(default.unwrap_or_default());
                text.push_str(&inner.text);
                for v in inner.vars {
                    if !vars.contains(&v) {
                        vars.push(v);
                    }
                }
                defaulted.push(name.to_owned());
                defaulted.extend(inner.defaulted);
                alternatives.extend(inner.alternatives);
            }
            Some(name) if operator.starts_with(":+") || operator.starts_with('+') => {
                alternatives.push(name.to_owned());
            }
            Some(name) => {
                text.push_str(&format!("$({name})"));
                if !vars.iter().any(|v| v == name) {
                    vars.push(name.to_owned());
                }
            }
            None => text.push_str("$$"),
        }
        rest = &after[consumed..];
    }
    text.push_str(rest);
    let whole = (vars.len() == 1 && text == format!("$({})", vars[0])).then(|| vars[0].clone());
    Translated {
        text,
        vars,
        whole,
        defaulted,
        alternatives,
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
