//! A YAML writer for Compose documents, in the style of Compose's own documentation.
//!
//! serde_yaml writes YAML 1.2 and so leaves `no`, `on` or `8000:80` unquoted, which YAML 1.1
//! parsers (and people) read as a boolean or a base-60 number. This writer quotes every string
//! that any YAML version could read as something else, indents sequences under their key, and
//! writes `test`, `command` and `entrypoint` lists in flow style (`["CMD", "pg_isready"]`) as
//! people do. Quoted strings are written as JSON strings, which are valid YAML double-quoted
//! scalars, so escaping is serde_json's. A test checks that everything written parses back to
//! the value it came from.

use serde_yaml::{Mapping, Value};
use std::fmt::Write;

/// Keys whose string lists read best on one line.
const FLOW_KEYS: &[&str] = &["test", "command", "entrypoint"];

pub fn to_string(doc: &Mapping) -> String {
    let mut out = String::new();
    write_mapping(&mut out, doc, 0);
    out
}

/// Writes one `key: value` entry of a mapping at `indent`, for documents written piece by piece:
/// their parts need not be gathered (and copied) into one value first.
pub fn write_entry(out: &mut String, key: &str, value: &Value, indent: usize) {
    write_key(out, key, indent);
    write_value_after_key(out, Some(key), value, indent);
}

/// [`write_entry`] for a mapping value, which need not be wrapped in a [`Value`].
pub fn write_mapping_entry(out: &mut String, key: &str, map: &Mapping, indent: usize) {
    write_key(out, key, indent);
    if map.is_empty() {
        out.push_str(" {}\n");
    } else {
        out.push('\n');
        write_mapping(out, map, indent + 2);
    }
}

fn write_key(out: &mut String, key: &str, indent: usize) {
    pad(out, indent);
    if is_plain_safe(key) {
        out.push_str(key);
    } else {
        write_quoted(out, key);
    }
    out.push(':');
}

fn write_mapping(out: &mut String, map: &Mapping, indent: usize) {
    for (key, value) in map {
        pad(out, indent);
        write_scalar(out, key);
        out.push(':');
        write_value_after_key(out, key.as_str(), value, indent);
    }
}

fn write_value_after_key(out: &mut String, key: Option<&str>, value: &Value, indent: usize) {
    match value {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            write_mapping(out, m, indent + 2);
        }
        Value::Sequence(items) if !items.is_empty() => {
            let flow = key.is_some_and(|k| FLOW_KEYS.contains(&k)) && items.iter().all(is_scalar);
            if flow {
                out.push(' ');
                write_flow_sequence(out, items);
                out.push('\n');
            } else {
                out.push('\n');
                write_sequence(out, items, indent + 2);
            }
        }
        Value::Tagged(tagged) => write_value_after_key(out, key, &tagged.value, indent),
        other => {
            out.push(' ');
            write_scalar(out, other);
            out.push('\n');
        }
    }
}

fn write_sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            Value::Mapping(m) if !m.is_empty() => {
                // The first key shares the dash's line; the rest align under it.
                let mut nested = String::new();
                write_mapping(&mut nested, m, indent + 2);
                out.push(' ');
                out.push_str(nested.trim_start());
            }
            Value::Sequence(s) if !s.is_empty() => {
                out.push('\n');
                write_sequence(out, s, indent + 2);
            }
            other => {
                out.push(' ');
                write_scalar(out, other);
                out.push('\n');
            }
        }
    }
}

/// `["CMD", "pg_isready", ...]`: every string quoted, as people write them.
fn write_flow_sequence(out: &mut String, items: &[Value]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match item {
            Value::String(s) => write_quoted(out, s),
            other => write_scalar(out, other),
        }
    }
    out.push(']');
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_))
}

fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) if is_plain_safe(s) => out.push_str(s),
        Value::String(s) => write_quoted(out, s),
        Value::Mapping(m) if m.is_empty() => out.push_str("{}"),
        Value::Sequence(s) if s.is_empty() => out.push_str("[]"),
        // Non-empty collections never reach here: the callers write them as blocks.
        Value::Mapping(_) | Value::Sequence(_) => unreachable!("collections are written as blocks"),
        Value::Tagged(t) => write_scalar(out, &t.value),
    }
}

/// A double-quoted scalar. Everything YAML does not count as printable is escaped (`\x7F`,
/// `\u2028`, ...): JSON's escaping leaves DEL and C1 controls raw, which YAML parsers refuse.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_printable(c) => out.push(c),
            c => {
                let _ = match u32::from(c) {
                    n @ 0..=0xFF => write!(out, "\\x{n:02X}"),
                    n @ 0x100..=0xFFFF => write!(out, "\\u{n:04X}"),
                    n => write!(out, "\\U{n:08X}"),
                };
            }
        }
    }
    out.push('"');
}

/// YAML's printable characters (`c-printable`), less the ones YAML 1.1 reads as line breaks
/// (NEL, U+2028, U+2029) and the byte order mark.
fn is_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// What each ASCII character may be in a plain scalar: [`PLAIN`] where it may appear anywhere
/// but first (not a space, which depends on what precedes it, nor `#`, which after a space
/// starts a comment and is quoted wherever it is), [`NUMBERISH`] where it can be part of a
/// YAML 1.1 number or sexagesimal.
const ASCII_CLASS: [u8; 128] = {
    let mut class = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'_' | b'.'
                    | b'/'
                    | b'-'
                    | b':'
                    | b'@'
                    | b'%'
                    | b'+'
                    | b'='
                    | b','
                    | b'$'
                    | b'?'
                    | b'{'
                    | b'}'
                    | b'('
                    | b')'
                    | b'~'
                    | b'^'
                    | b'*'
                    | b'&'
                    | b'!'
                    | b'<'
                    | b'>'
                    | b';'
            )
        {
            class[b] |= PLAIN;
        }
        if c.is_ascii_digit()
            || matches!(
                c,
                b'+' | b'-'
                    | b'.'
                    | b':'
                    | b'_'
                    | b'e'
                    | b'E'
                    | b'x'
                    | b'X'
                    | b'o'
                    | b'O'
                    | b'b'
                    | b'B'
            )
        {
            class[b] |= NUMBERISH;
        }
        b += 1;
    }
    class
};
const PLAIN: u8 = 1;
const NUMBERISH: u8 = 2;

/// Whether `s` reads back as the same string, unquoted, under YAML 1.1 and 1.2 alike. One pass
/// over the text: the writer asks this of every scalar it writes.
fn is_plain_safe(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.bytes().next(), s.bytes().last()) else {
        return false;
    };
    if matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    ) || matches!(last, b' ' | b':')
    {
        return false;
    }
    // Byte by byte, through a table: every character that matters is ASCII, and decoding and
    // matching every character cost the writer more than anything else it does. Only other
    // characters are decoded.
    let bytes = s.as_bytes();
    let mut previous = 0u8;
    let mut number_like = true;
    let mut has_digit = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !b.is_ascii() {
            // `i` moves by whole characters, so it is at the start of one.
            let c = s[i..].chars().next().unwrap_or_default();
            if !is_printable(c) {
                return false;
            }
            number_like = false;
            previous = b;
            i += c.len_utf8();
            continue;
        }
        let class = ASCII_CLASS[usize::from(b)];
        // `: ` starts a mapping value.
        let plain = class & PLAIN != 0 || (b == b' ' && previous != b':');
        if !plain {
            return false;
        }
        has_digit |= b.is_ascii_digit();
        number_like &= class & NUMBERISH != 0;
        previous = b;
        i += 1;
    }
    !(number_like && has_digit || looks_like_non_string(s))
}

/// Booleans, nulls, numbers and YAML 1.1's special keys, in words or with a radix prefix, in any
/// version: YAML 1.1's `yes`/`on`/`y` too, and `0x1F`, `0o17`, `0b101`.
fn looks_like_non_string(s: &str) -> bool {
    // `=` and `<<` are YAML 1.1's value and merge keys, which PyYAML resolves as such.
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "-.inf", "+.inf",
        ".nan", "=", "<<",
    ];
    let unsigned = s.trim_start_matches(['+', '-']).as_bytes();
    let radix_number = match unsigned {
        [b'0', radix, digits @ ..] => {
            matches!(radix.to_ascii_lowercase(), b'x' | b'o' | b'b')
                && digits.iter().all(|d| d.is_ascii_hexdigit() || *d == b'_')
        }
        _ => false,
    };
    radix_number || (s.len() <= 6 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)))
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(doc: &Mapping) {
        let text = to_string(doc);
        let back: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, Value::Mapping(doc.clone()), "\n{text}");
    }

    fn map(pairs: &[(&str, Value)]) -> Mapping {
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect()
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "no", "No", "on", "yes", "y", "null", "~", "8000:80", "1.0", "0x1F", "", " x", "a: b",
            "=", "<<",
        ] {
            let doc = map(&[("k", Value::from(s))]);
            let text = to_string(&doc);
            assert!(text.contains('"'), "{s:?} must be quoted: {text}");
            roundtrip(&doc);
        }
    }

    #[test]
    fn ordinary_strings_stay_plain() {
        for s in [
            "postgres:17",
            "always",
            "10s",
            "${PASSWORD:?set it}",
            "../backend",
            "json-file",
        ] {
            let text = to_string(&map(&[("k", Value::from(s))]));
            assert_eq!(text, format!("k: {s}\n"));
        }
    }

    #[test]
    fn hostile_strings_round_trip() {
        let hostile = [
            "a\nb: c",
            "{{ x }}",
            "'quoted'",
            "\"dq\"",
            "- item",
            "#comment",
            "x # y",
            "tab\there",
            "\u{1b}[31m",
            "ünïcödé",
            "key: value\n- list",
            "&anchor",
            "*alias",
            "!!python/object",
            "|",
            ">",
            "del\u{7f}",
            "nel\u{85}",
            "c1\u{9b}",
            "ls\u{2028}ps\u{2029}",
            "\u{feff}bom",
            "nul\u{0}",
            "astral \u{1F680}",
        ];
        for s in hostile {
            roundtrip(&map(&[
                ("plain", Value::from(s)),
                (
                    "test",
                    Value::Sequence(vec![Value::from("CMD"), Value::from(s)]),
                ),
                (s, Value::Sequence(vec![Value::from(s)])),
            ]));
        }
    }

    #[test]
    fn nested_collections_round_trip() {
        let inner = map(&[("condition", Value::from("service_healthy"))]);
        let doc = map(&[
            (
                "depends_on",
                Value::Mapping(map(&[("db", Value::Mapping(inner.clone()))])),
            ),
            (
                "list_of_maps",
                Value::Sequence(vec![Value::Mapping(inner.clone()), Value::Mapping(inner)]),
            ),
            (
                "nested",
                Value::Sequence(vec![Value::Sequence(vec![Value::from(1)])]),
            ),
            ("empty", Value::Mapping(Mapping::new())),
            ("none", Value::Sequence(vec![])),
            ("n", Value::from(3)),
            ("b", Value::Bool(true)),
        ]);
        roundtrip(&doc);
    }

    /// The byte-by-byte scan, held to the character-by-character one it replaced on every
    /// string of up to three characters from an alphabet of the characters that matter.
    #[test]
    fn plain_safety_is_what_the_character_scan_decided() {
        const ALPHABET: &[char] = &[
            'a', 'x', 'B', 'e', 'o', 'y', '0', '7', ':', '-', '+', ' ', '#', '.', '_', '=', '<',
            '~', '\'', '"', '@', '/', '{', '\t', '\u{7f}', '\u{85}', 'é', '\u{2028}', '\u{feff}',
            '😀',
        ];
        let mut strings = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| ALPHABET.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
        }
        strings.extend(
            [
                "0x1F", "0o17", "+0b101", "yes", "NULL", "8000:80", "a: b", "a #b", "1e5", "-.inf",
            ]
            .map(str::to_owned),
        );
        for s in &strings {
            assert_eq!(is_plain_safe(s), reference_is_plain_safe(s), "{s:?}");
        }
    }

    fn reference_is_plain_safe(s: &str) -> bool {
        let (Some(first), Some(last)) = (s.bytes().next(), s.bytes().last()) else {
            return false;
        };
        if matches!(
            first,
            b'-' | b'?'
                | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
                | b' '
        ) || matches!(last, b' ' | b':')
        {
            return false;
        }
        let mut previous = '\0';
        let mut number_like = true;
        let mut has_digit = false;
        for c in s.chars() {
            let plain = match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' => true,
                // `: ` starts a mapping value and ` #` a comment.
                ' ' => previous != ':',
                '#' => false,
                '_' | '.' | '/' | '-' | ':' | '@' | '%' | '+' | '=' | ',' | '$' | '?' | '{'
                | '}' | '(' | ')' | '~' | '^' | '*' | '&' | '!' | '<' | '>' | ';' => true,
                c => !c.is_ascii() && is_printable(c),
            };
            if !plain {
                return false;
            }
            has_digit |= c.is_ascii_digit();
            // A `matches!`, not `str::contains`: that compiled, in some builds, to a memchr call per
            // character, which doubled the writer's cost.
            number_like &= matches!(
                c,
                '0'..='9'
                    | '+'
                    | '-'
                    | '.'
                    | ':'
                    | '_'
                    | 'e'
                    | 'E'
                    | 'x'
                    | 'X'
                    | 'o'
                    | 'O'
                    | 'b'
                    | 'B'
            );
            previous = c;
        }
        !(number_like && has_digit || reference_looks_like_non_string(s))
    }

    fn reference_looks_like_non_string(s: &str) -> bool {
        // `=` and `<<` are YAML 1.1's value and merge keys, which PyYAML resolves as such.
        const WORDS: &[&str] = &[
            "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "-.inf",
            "+.inf", ".nan", "=", "<<",
        ];
        let unsigned = s.trim_start_matches(['+', '-']);
        let radix_number = ["0x", "0o", "0b"].iter().any(|p| {
            unsigned
                .get(..2)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(p))
                && unsigned[2..]
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == '_')
        });
        radix_number || (s.len() <= 6 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)))
    }
}
