//! Compose interpolation (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$`), as far as
//! muster needs it: Compose fills every value from the environment when it loads the file, so a
//! value that interpolates is valid wherever its result would be. What can be checked before
//! then is the text with every variable at its default; a variable without one leaves the value
//! unknown, and the check is skipped.

/// The value with each variable replaced by its default and `$$` by `$`: `Ok(None)` when a
/// variable has no default (`$VAR`, `${VAR}`, `${VAR:?msg}`, `${VAR:+alt}`, whose result the
/// environment alone decides), and an error for text Compose refuses to interpolate.
pub fn with_defaults(text: &str) -> Result<Option<String>, String> {
    let mut out = String::with_capacity(text.len());
    let mut known = true;
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        match rest.chars().next() {
            Some('$') => {
                out.push('$');
                rest = &rest[1..];
            }
            Some('{') => {
                let (inner, after) = braced(&rest[1..]).ok_or_else(|| {
                    format!(
                        "`{text}` has a `${{` without its `}}`; write `$${{` for a literal `${{`"
                    )
                })?;
                rest = after;
                match expansion(inner, text)? {
                    Some(value) => out.push_str(&value),
                    None => known = false,
                }
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let end = rest
                    .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                    .unwrap_or(rest.len());
                rest = &rest[end..];
                known = false;
            }
            // A `$` before anything else is literal, as Compose reads it.
            _ => out.push('$'),
        }
    }
    out.push_str(rest);
    Ok(known.then_some(out))
}

/// The text of a `${...}` up to its matching brace, and what follows it.
fn braced(text: &str) -> Option<(&str, &str)> {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[..i], &text[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// `NAME`, `NAME:-default`, `NAME-default`, `NAME:?msg`, `NAME?msg`, `NAME:+alt`, `NAME+alt`.
fn expansion(inner: &str, whole: &str) -> Result<Option<String>, String> {
    let name_end = inner
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(inner.len());
    let (name, operator) = inner.split_at(name_end);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "`{whole}` interpolates `${{{inner}}}`, which names no variable"
        ));
    }
    let default = operator
        .strip_prefix(":-")
        .or_else(|| operator.strip_prefix('-'));
    match default {
        // A default may interpolate in turn (`${A:-${B:-1}}`).
        Some(default) => with_defaults(default),
        None if operator.is_empty()
            || [":?", "?", ":+", "+"]
                .iter()
                .any(|op| operator.starts_with(op)) =>
        {
            Ok(None)
        }
        None => Err(format!(
            "`{whole}` interpolates `${{{inner}}}`: Compose knows `:-`, `-`, `:?`, `?`, `:+` \
             and `+` after a name"
        )),
    }
}

/// `text` read by `parse` as Compose will read it: at once when nothing interpolates, else with
/// every variable at its default, and `None` when a variable has none (only Compose will know).
/// An error names the defaulted text, which is what was refused.
pub fn parse_at_defaults<T>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if !interpolates(text) {
        return parse(text).map(Some);
    }
    match with_defaults(text)? {
        Some(defaulted) => parse(&defaulted)
            .map(Some)
            .map_err(|e| format!("with its defaults, `{text}` is `{defaulted}`: {e}")),
        None => Ok(None),
    }
}

/// The variables `text` reads, in order of first use, defaults' own included (`${A:-${B}}`
/// reads A and B); none for text that does not interpolate or that Compose refuses.
pub fn variables(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let braced = rest.strip_prefix('{');
        let name_from = braced.unwrap_or(rest);
        if rest.starts_with('$') {
            rest = &rest[1..];
            continue;
        }
        let end = name_from
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(name_from.len());
        let name = &name_from[..end];
        if !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && !out.iter().any(|v| v == name)
        {
            out.push(name.to_owned());
        }
        // A default may read variables of its own: go on inside the braces.
        rest = &name_from[end..];
    }
    out
}

/// Whether Compose will interpolate anything in `text` (`$$` alone is only an escape).
pub fn interpolates(text: &str) -> bool {
    // Every duration, restart and port of every layer asks this; copying the text without its
    // `$$` first cost more than parsing the value.
    let mut bytes = text.as_bytes().iter();
    while let Some(&b) = bytes.next() {
        if b == b'$' && bytes.next() != Some(&b'$') {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_stand_in_for_their_variables() {
        assert_eq!(with_defaults("30s"), Ok(Some("30s".into())));
        assert_eq!(with_defaults("${HC:-30s}"), Ok(Some("30s".into())));
        assert_eq!(with_defaults("${P-8080}:80"), Ok(Some("8080:80".into())));
        assert_eq!(with_defaults("${A:-${B:-1}}s"), Ok(Some("1s".into())));
        assert_eq!(with_defaults("$$HOME"), Ok(Some("$HOME".into())));
        assert_eq!(with_defaults("a$ b"), Ok(Some("a$ b".into())));
    }

    #[test]
    fn a_variable_without_a_default_leaves_the_value_unknown() {
        for text in [
            "$RETRIES",
            "${RETRIES}",
            "${R:?set it}",
            "${R:+3}",
            "${P:-80}:${Q}",
        ] {
            assert_eq!(with_defaults(text), Ok(None), "{text}");
        }
    }

    #[test]
    fn text_compose_refuses_is_an_error() {
        assert!(with_defaults("${").unwrap_err().contains("without its `}`"));
        assert!(
            with_defaults("${1X}")
                .unwrap_err()
                .contains("names no variable")
        );
        assert!(
            with_defaults("${X:=1}")
                .unwrap_err()
                .contains("Compose knows")
        );
    }

    #[test]
    fn lists_the_variables_a_value_reads() {
        assert_eq!(variables("${A:-${B}}x$C $$D ${A}"), ["A", "B", "C"]);
        assert!(variables("costs $5 $$HOME").is_empty());
    }

    #[test]
    fn only_a_lone_dollar_interpolates() {
        assert!(interpolates("${X}") && interpolates("a$X"));
        assert!(!interpolates("$${X}") && !interpolates("plain"));
        // `$$` pairs from the left: the third of three dollars is a lone one.
        assert!(interpolates("$$$X") && interpolates("a$$b$"));
        assert!(!interpolates("$$$$") && !interpolates("a$$b$$c"));
    }
}
