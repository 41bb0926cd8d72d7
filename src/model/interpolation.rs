//! Compose interpolation (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `${VAR:+alt}`,
//! `$$`), read as compose-go 2.9.1 (Compose 2.40.3) reads it. Compose fills every value from
//! the environment when it loads the file, so a value that interpolates is valid wherever its
//! result would be. What can be checked before then is the text with every variable at its
//! default ([`with_defaults`]); the variables a text reads are [`uses`] (what `docker compose
//! config --variables` lists), and its value in a given environment is [`substitute`].
//!
//! Where an expression ends follows compose-go exactly, quirks included, since a different end
//! is a different default: after the operator, the text runs to the last `}` of its line (the
//! pattern's greedy `.*}`), and is then cut at the first `}` that closes the braces counted
//! from `${` (`getFirstBraceClosingIndex`, which counts every `{` and steps over the character
//! after it). So `${A:-{x}}` defaults to `{x}`, `${A:-{}` to `{`, and `${A:-a}b}` to `a`
//! followed by the text `b}`.

use std::ops::Range;

/// What follows a variable's name inside `${...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `:-` (`or_empty`: also when set but empty) or `-`: the operand when the variable is not.
    Default { or_empty: bool },
    /// `:?` (`or_empty`: set and not empty) or `?` (set): an error, with the operand as its
    /// message, when the variable is not.
    Required { or_empty: bool },
    /// `:+` (`or_empty`: set and not empty) or `+` (set): the operand when the variable is.
    Alternate { or_empty: bool },
}

/// One `$NAME` or `${...}` of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion<'a> {
    pub name: &'a str,
    pub operator: Option<Operator>,
    /// The text after the operator (a default, an alternate value or a message), which is
    /// interpolated in turn; empty without an operator.
    pub operand: &'a str,
    /// Where the expression is in its text, from `$` to its closing brace.
    pub span: Range<usize>,
}

/// A piece of a text as Compose reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    /// Text taken as it is, a lone `$` included.
    Literal(&'a str),
    /// `$$`, one `$`.
    Escaped,
    Expansion(Expansion<'a>),
}

/// Why Compose refuses a text ("invalid interpolation format").
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    /// A `${` that no `}` on its line closes.
    Unclosed,
    /// `${` followed by no name (`${}`, `${1X}`, `${ A}`); `inner` runs to the next `}`.
    NoName { inner: String },
    /// A name followed by neither `}` nor one of Compose's operators (`${A:=x}`).
    UnknownOperator { inner: String },
}

impl Refusal {
    /// The message, naming `whole`, the text as the user wrote it.
    fn message(&self, whole: &str) -> String {
        match self {
            Refusal::Unclosed => {
                format!("`{whole}` has a `${{` without its `}}`; write `$${{` for a literal `${{`")
            }
            Refusal::NoName { inner } => {
                format!("`{whole}` interpolates `${{{inner}}}`, which names no variable")
            }
            Refusal::UnknownOperator { inner } => format!(
                "`{whole}` interpolates `${{{inner}}}`: Compose knows `:-`, `-`, `:?`, `?`, `:+` \
                 and `+` after a name"
            ),
        }
    }
}

/// The pieces of a text, in order.
struct Pieces<'a> {
    text: &'a str,
    at: usize,
}

fn pieces(text: &str) -> Pieces<'_> {
    Pieces { text, at: 0 }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Result<Piece<'a>, Refusal>;

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let rest = &text[self.at..];
        if rest.is_empty() {
            return None;
        }
        let Some(dollar) = rest.find('$') else {
            self.at = text.len();
            return Some(Ok(Piece::Literal(rest)));
        };
        if dollar > 0 {
            self.at += dollar;
            return Some(Ok(Piece::Literal(&rest[..dollar])));
        }
        let start = self.at;
        let after = &rest[1..];
        match after.chars().next() {
            Some('$') => {
                self.at += 2;
                Some(Ok(Piece::Escaped))
            }
            Some('{') => match braced(text, start) {
                Ok(expansion) => {
                    self.at = expansion.span.end;
                    Some(Ok(Piece::Expansion(expansion)))
                }
                Err(refusal) => {
                    self.at = text.len();
                    Some(Err(refusal))
                }
            },
            Some(c) if starts_name(c) => {
                let len = name_len(after);
                self.at += 1 + len;
                Some(Ok(Piece::Expansion(Expansion {
                    name: &after[..len],
                    operator: None,
                    operand: "",
                    span: start..start + 1 + len,
                })))
            }
            // A `$` before anything else is literal, as Compose reads it.
            _ => {
                self.at += 1;
                Some(Ok(Piece::Literal("$")))
            }
        }
    }
}

/// A name starts with a letter or `_`. Go's case-insensitive `[_a-z]` also takes the two
/// characters that fold to `k` and `s`: the Kelvin sign and the long s.
fn starts_name(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || c == '\u{212A}' || c == '\u{17F}'
}

fn name_len(text: &str) -> usize {
    text.char_indices()
        .find(|&(_, c)| !(starts_name(c) || c.is_ascii_digit()))
        .map_or(text.len(), |(i, _)| i)
}

/// The `${...}` whose `$` is at `start` of `text`.
fn braced(text: &str, start: usize) -> Result<Expansion<'_>, Refusal> {
    let body = &text[start + 2..];
    let up_to_brace = || body[..body.find('}').unwrap_or(body.len())].to_owned();
    if !body.chars().next().is_some_and(starts_name) {
        return Err(match body.find('}') {
            Some(_) => Refusal::NoName {
                inner: up_to_brace(),
            },
            None => Refusal::Unclosed,
        });
    }
    let name = &body[..name_len(body)];
    let after = &body[name.len()..];
    if after.starts_with('}') {
        let end = start + 2 + name.len() + 1;
        return Ok(Expansion {
            name,
            operator: None,
            operand: "",
            span: start..end,
        });
    }
    let (operator, len) = [
        (":-", Operator::Default { or_empty: true }),
        ("-", Operator::Default { or_empty: false }),
        (":?", Operator::Required { or_empty: true }),
        ("?", Operator::Required { or_empty: false }),
        (":+", Operator::Alternate { or_empty: true }),
        ("+", Operator::Alternate { or_empty: false }),
    ]
    .into_iter()
    .find(|(word, _)| after.starts_with(word))
    .map(|(word, operator)| (operator, word.len()))
    .ok_or_else(|| match body.find('}') {
        Some(_) => Refusal::UnknownOperator {
            inner: up_to_brace(),
        },
        None => Refusal::Unclosed,
    })?;
    let operand_start = start + 2 + name.len() + len;
    // The pattern's `.*}`: to the last `}` before the end of the line.
    let line = &text[operand_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let last = line.rfind('}').ok_or(Refusal::Unclosed)?;
    let matched_end = operand_start + last + 1;
    let (operand_end, end) = match first_closing(&text[start..matched_end]) {
        Some(closing) => (start + closing, start + closing + 1),
        None => (matched_end - 1, matched_end),
    };
    Ok(Expansion {
        name,
        operator: Some(operator),
        operand: &text[operand_start..operand_end],
        span: start..end,
    })
}

/// compose-go's `getFirstBraceClosingIndex`: the `}` that brings the count of `{` back to zero,
/// where each `{` also steps over the byte after it.
fn first_closing(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut open = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if bytes[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

/// The value with each variable replaced by its default and `$$` by `$`: `Ok(None)` when a
/// variable has no default (`$VAR`, `${VAR}`, `${VAR:?msg}`, `${VAR:+alt}`, whose result the
/// environment alone decides), and an error for text Compose refuses to interpolate.
pub fn with_defaults(text: &str) -> Result<Option<String>, String> {
    defaulted(text).map_err(|r| r.message(text))
}

fn defaulted(text: &str) -> Result<Option<String>, Refusal> {
    let mut out = String::with_capacity(text.len());
    let mut known = true;
    for piece in pieces(text) {
        match piece? {
            Piece::Literal(literal) => out.push_str(literal),
            Piece::Escaped => out.push('$'),
            Piece::Expansion(e) => match e.operator {
                // A default may interpolate in turn (`${A:-${B:-1}}`); Compose reads it even
                // when the variable is set, so its syntax counts either way.
                Some(Operator::Default { .. }) => match defaulted(e.operand)? {
                    Some(value) => out.push_str(&value),
                    None => known = false,
                },
                Some(_) => {
                    defaulted(e.operand)?;
                    known = false;
                }
                None => known = false,
            },
        }
    }
    Ok(known.then_some(out))
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

/// One variable a text reads, as `docker compose config --variables` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub name: String,
    /// `${NAME:?...}` or `${NAME?...}`: Compose refuses the file without it.
    pub required: bool,
    /// `:?` or `:-` or `:+`: an empty value counts as none.
    pub or_empty: bool,
    /// The default as written (`${NAME:-text}`), itself interpolated by Compose.
    pub default: Option<String>,
    /// The value used when the variable is set (`${NAME:+text}`).
    pub alternate: Option<String>,
    /// The message of `${NAME:?message}`, as written.
    pub message: Option<String>,
    /// The whole expression, as written (`${NAME:?message}`).
    pub expression: String,
}

/// Every variable `text` reads, in order: those inside a default or an alternate value too,
/// as compose-go 2.9.1 extracts them (not those in a required variable's message, which its
/// extraction leaves out). An error for text Compose refuses.
pub fn uses(text: &str) -> Result<Vec<Use>, String> {
    let mut found = Vec::new();
    collect_uses(text, &mut found).map_err(|r| r.message(text))?;
    Ok(found)
}

fn collect_uses(text: &str, found: &mut Vec<Use>) -> Result<(), Refusal> {
    for piece in pieces(text) {
        let Piece::Expansion(e) = piece? else {
            continue;
        };
        let operand = Some(e.operand.to_owned());
        let (required, or_empty, default, alternate, message) = match e.operator {
            None => (false, false, None, None, None),
            Some(Operator::Default { or_empty }) => (false, or_empty, operand, None, None),
            Some(Operator::Required { or_empty }) => (true, or_empty, None, None, operand),
            Some(Operator::Alternate { or_empty }) => (false, or_empty, None, operand, None),
        };
        found.push(Use {
            name: e.name.to_owned(),
            required,
            or_empty,
            default,
            alternate,
            message,
            expression: text[e.span].to_owned(),
        });
        if matches!(
            e.operator,
            Some(Operator::Default { .. } | Operator::Alternate { .. })
        ) {
            collect_uses(e.operand, found)?;
        }
    }
    Ok(())
}

/// A required variable without the value Compose needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub name: String,
    /// Set but empty, where `:?` refuses an empty value.
    pub empty: bool,
    /// The expression's message, interpolated.
    pub message: String,
}

/// The value Compose gives `text` in an environment (`env` gives a variable's value, `None`
/// when it is unset). Every required variable without its value is added to `missing` (Compose
/// stops at the first; muster names them all) and reads as empty. An error for text Compose
/// refuses.
pub fn substitute(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<Missing>,
) -> Result<String, String> {
    substituted(text, env, missing).map_err(|r| r.message(text))
}

fn substituted(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<Missing>,
) -> Result<String, Refusal> {
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text) {
        match piece? {
            Piece::Literal(literal) => out.push_str(literal),
            Piece::Escaped => out.push('$'),
            Piece::Expansion(e) => {
                let value = env(e.name);
                let counts = |or_empty: bool| value.as_ref().filter(|v| !or_empty || !v.is_empty());
                // Compose interpolates the operand before it looks at the variable: a required
                // variable in a default is required whether or not the default is used.
                let operand = match e.operator {
                    Some(_) => substituted(e.operand, env, missing)?,
                    None => String::new(),
                };
                match e.operator {
                    None => out.push_str(value.as_deref().unwrap_or_default()),
                    Some(Operator::Default { or_empty }) => match counts(or_empty) {
                        Some(v) => out.push_str(v),
                        None => out.push_str(&operand),
                    },
                    Some(Operator::Alternate { or_empty }) => match counts(or_empty) {
                        Some(_) => out.push_str(&operand),
                        None => out.push_str(value.as_deref().unwrap_or_default()),
                    },
                    Some(Operator::Required { or_empty }) => match counts(or_empty) {
                        Some(v) => out.push_str(v),
                        None => missing.push(Missing {
                            name: e.name.to_owned(),
                            empty: value.is_some(),
                            message: operand,
                        }),
                    },
                }
            }
        }
    }
    Ok(out)
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
        // The default's own syntax counts, as Compose reads it either way.
        assert!(with_defaults("${A:-${B}").is_err());
        assert!(with_defaults("${A:?${}}").is_err());
    }

    #[test]
    fn braces_end_where_compose_ends_them() {
        // Measured with Compose 2.40.3 (`config --format json`): the value with A unset.
        assert_eq!(with_defaults("${A:-{x}}"), Ok(Some("{x}".into())));
        assert_eq!(with_defaults("${A:-{}"), Ok(Some("{".into())));
        assert_eq!(with_defaults("${A-}}"), Ok(Some("}".into())));
        assert_eq!(with_defaults("${A:-a}b}"), Ok(Some("ab}".into())));
        assert_eq!(with_defaults("${A:-{}}"), Ok(Some("{}".into())));
        // `.*` stops at a line's end: the `}` on the next line closes nothing.
        assert!(with_defaults("${A:-x\n}").is_err());
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

    fn listed(text: &str) -> Vec<(String, bool, Option<String>, Option<String>)> {
        uses(text)
            .unwrap()
            .into_iter()
            .map(|u| (u.name, u.required, u.default, u.alternate))
            .collect()
    }

    #[test]
    fn uses_are_what_config_variables_lists() {
        let v = |name: &str, required: bool, default: Option<&str>, alternate: Option<&str>| {
            (
                name.to_owned(),
                required,
                default.map(str::to_owned),
                alternate.map(str::to_owned),
            )
        };
        assert_eq!(
            listed("$d1 ${d2} ${PW:?set it} $${ESC} ${X-def}"),
            [
                v("d1", false, None, None),
                v("d2", false, None, None),
                v("PW", true, None, None),
                v("X", false, Some("def"), None),
            ]
        );
        // Nested in a default or an alternate value: listed; in a message: not (2.9.1).
        assert_eq!(
            listed("${N:-${M:-1}} ${P:+${PV:-z}} ${R:?need ${MSG}}"),
            [
                v("N", false, Some("${M:-1}"), None),
                v("M", false, Some("1"), None),
                v("P", false, None, Some("${PV:-z}")),
                v("PV", false, Some("z"), None),
                v("R", true, None, None),
            ]
        );
        assert_eq!(listed("$_ ${A1:-{x}}")[1].2.as_deref(), Some("{x}"));
        let message = &uses("${G:?a message: with colon}").unwrap()[0];
        assert_eq!(message.message.as_deref(), Some("a message: with colon"));
        assert_eq!(message.expression, "${G:?a message: with colon}");
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn substitution_follows_compose() {
        let e = env(&[("SET", "v"), ("EMPTY", "")]);
        let mut missing = Vec::new();
        let mut value = |text: &str| substitute(text, &e, &mut missing).unwrap();
        assert_eq!(
            value("${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}"),
            "v d  d"
        );
        assert_eq!(
            value("${SET:+a} ${EMPTY:+a}|${EMPTY+a} ${UNSET+a}|"),
            "a |a |"
        );
        assert_eq!(value("$$SET $SET ${UNSET}"), "$SET v ");
        assert_eq!(value("${EMPTY?ok}"), "");
        value("${EMPTY:?set it} ${UNSET?no ${SET}} ${SET:-${DEEP:?deep}}");
        let said: Vec<(&str, bool, &str)> = missing
            .iter()
            .map(|m| (m.name.as_str(), m.empty, m.message.as_str()))
            .collect();
        // Every one, the one inside an unused default too, as Compose reads it eagerly.
        assert_eq!(
            said,
            [
                ("EMPTY", true, "set it"),
                ("UNSET", false, "no v"),
                ("DEEP", false, "deep")
            ]
        );
    }
}
