//! Compose interpolation, restated for Kubernetes. Compose replaces `${VAR}` (in any of its
//! forms) from the host's environment when it reads the file, and `$$` stands for `$`.
//! Kubernetes reads no host environment: it expands `$(VAR)` in `env`, `command` and `args` from
//! the container's own variables, and `$$` stands for `$` there too. So a reference becomes
//! `$(VAR)`, the variable itself comes from the project's Secret, and every literal `$` is
//! written `$$` so that Kubernetes cannot take it for the start of a reference.

/// A Compose value, rewritten for Kubernetes.
#[derive(Debug, PartialEq, Eq)]
pub struct Translated {
    pub text: String,
    /// The variables it references, in order of first use.
    pub vars: Vec<String>,
    /// The variable, when the whole value is one reference (`${PASSWORD:?set it}`).
    pub whole: Option<String>,
}

pub fn translate(value: &str) -> Translated {
    let mut text = String::new();
    let mut vars: Vec<String> = Vec::new();
    let mut references = 0;
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        text.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced_reference(braced) {
                Some((name, len)) => (Some(name), len + 1),
                None => (None, 0),
            }
        } else if after.starts_with('$') {
            // `$$`: one literal dollar.
            (None, 1)
        } else {
            let len = name_len(after);
            ((len > 0).then(|| &after[..len]), len)
        };
        match name {
            Some(name) => {
                references += 1;
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
    let whole = (references == 1 && vars.len() == 1 && text == format!("$({})", vars[0]))
        .then(|| vars[0].clone());
    Translated { text, vars, whole }
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
        for value in [
            "${PW}",
            "$PW",
            "${PW:?missing}",
            "${PW:-${OTHER}}",
            "${PW-x}",
        ] {
            assert_eq!(translate(value).whole.as_deref(), Some("PW"), "{value}");
        }
        assert_eq!(translate("${PW}${PW}").whole, None);
        assert_eq!(translate("x${PW}").whole, None);
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
