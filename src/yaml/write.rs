//! A YAML writer for Compose documents, in the style of Compose's own documentation.
//!
//! yaml_serde (like the serde_yaml it forks) writes YAML 1.2 and so leaves `no`, `on` or `8000:80` unquoted, which YAML 1.1
//! parsers (and people) read as a boolean or a base-60 number. This writer quotes every string
//! that any YAML version could read as something else, indents sequences under their key, and
//! writes `test`, `command` and `entrypoint` lists in flow style (`["CMD", "pg_isready"]`) as
//! people do. Quoted strings are written as JSON strings, which are valid YAML double-quoted
//! scalars. `tests/yaml_readers.rs` holds the writer to real readers of both versions: PyYAML
//! (YAML 1.1, as much of the Compose ecosystem reads files) and the Compose loader (Go's
//! yaml.v3, which also resolves YAML 1.1 timestamps and `0777` octals).

use std::fmt::Write;
use yaml_serde::{Mapping, Value};

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
    let start = out.len();
    if is_plain_safe(key) {
        out.push_str(key);
    } else {
        write_quoted(out, key);
    }
    end_key(out, start, indent);
}

/// YAML 1.1 and 1.2 readers (PyYAML, libyaml, yaml.v3) refuse an implicit key of more than
/// 1024 characters; past this length a key is written in the explicit `? key` form.
const LONGEST_IMPLICIT_KEY: usize = 1000;

/// `key:` at `indent`, ready for the value.
fn write_any_key(out: &mut String, key: &Value, indent: usize) {
    pad(out, indent);
    let start = out.len();
    write_scalar(out, key);
    end_key(out, start, indent);
}

/// The `:` after a key written from `start`, on the next line after an explicit `? key`.
fn end_key(out: &mut String, start: usize, indent: usize) {
    // Bytes first: counting characters is for the rare key long enough to matter.
    if out.len() - start > LONGEST_IMPLICIT_KEY
        && out[start..].chars().count() > LONGEST_IMPLICIT_KEY
    {
        out.insert_str(start, "? ");
        out.push('\n');
        pad(out, indent);
    }
    out.push(':');
}

fn write_mapping(out: &mut String, map: &Mapping, indent: usize) {
    for (key, value) in map {
        write_any_key(out, key, indent);
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
        // The tag is written, never dropped: a reader that knows it (Compose's `!reset`) must see
        // it, and one that does not can say so.
        Value::Tagged(tagged) => {
            let _ = write!(out, " {}", tagged.tag);
            match &tagged.value {
                Value::Mapping(m) if !m.is_empty() => {
                    out.push('\n');
                    write_mapping(out, m, indent + 2);
                }
                Value::Sequence(items) if !items.is_empty() => {
                    out.push('\n');
                    write_sequence(out, items, indent + 2);
                }
                other => {
                    out.push(' ');
                    write_scalar(out, other);
                    out.push('\n');
                }
            }
        }
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
            // After `- `, a tagged value is laid out as after `key:`.
            Value::Tagged(_) => write_value_after_key(out, None, item, indent),
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
        write_flow(out, item);
    }
    out.push(']');
}

/// Any value on one line, in flow style. Strings are always quoted: inside `[...]` and `{...}`
/// a plain scalar ends at `,`, `]` or `}`, which block context allows in one.
fn write_flow(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => write_quoted(out, s),
        Value::Sequence(items) => write_flow_sequence(out, items),
        Value::Mapping(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(out, k);
                out.push_str(": ");
                write_flow(out, v);
            }
            out.push('}');
        }
        Value::Tagged(t) => {
            let _ = write!(out, "{} ", t.tag);
            write_flow(out, &t.value);
        }
        other => write_scalar(out, other),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_))
}

fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if n.is_f64() => write_float(out, &n.to_string()),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) if is_plain_safe(s) => out.push_str(s),
        Value::String(s) => write_quoted(out, s),
        // Collections in a scalar's place (a mapping's key): on one line. Values are written as
        // blocks by the callers.
        Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_) => write_flow(out, value),
    }
}

/// A float both YAML versions read as one: YAML 1.1 needs a `.` and a signed exponent
/// (`1.0e+20`), where yaml_serde writes `1e20`, which PyYAML reads as a string.
fn write_float(out: &mut String, text: &str) {
    // `.inf`, `-.inf`, `.nan`: the same in both versions.
    if text.contains(['i', 'n']) {
        out.push_str(text);
        return;
    }
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (text, None),
    };
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    if let Some(exponent) = exponent {
        out.push('e');
        if !exponent.starts_with(['+', '-']) {
            out.push('+');
        }
        out.push_str(exponent);
    }
}

/// A double-quoted scalar. Everything YAML does not count as printable is escaped (`\x7F`,
/// `\u2028`, ...): JSON's escaping leaves DEL and C1 controls raw, which YAML parsers refuse.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    // Runs of printable ASCII that need no escape are copied whole.
    while let Some(i) = rest
        .bytes()
        .position(|b| !matches!(b, 0x20..=0x7E) || b == b'"' || b == b'\\')
    {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or_default();
        rest = &rest[i + c.len_utf8()..];
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
    out.push_str(rest);
    out.push('"');
}

/// YAML's printable characters (`c-printable`), less the ones YAML 1.1 reads as line breaks
/// (NEL, U+2028, U+2029) and the byte order mark.
fn is_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// What each byte may be in a plain scalar: [`PLAIN`] where it may appear anywhere but first
/// (not a space, which depends on what precedes it, nor `#`, which after a space starts a
/// comment and is quoted wherever it is), [`NUMBERISH`] where it can be part of a YAML 1.1
/// number or sexagesimal, [`DIGIT`], and [`SLOW`] for a space or a byte of a non-ASCII
/// character, which need what precedes them or the whole character.
const CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut b = 0;
    while b < 256 {
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
        if c.is_ascii_digit() {
            class[b] |= DIGIT;
        }
        if c == b' ' || !c.is_ascii() {
            class[b] |= SLOW;
        }
        b += 1;
    }
    class
};
const PLAIN: u8 = 1;
const NUMBERISH: u8 = 2;
const DIGIT: u8 = 4;
const SLOW: u8 = 8;

/// Whether `s` reads back as the same string, unquoted, under YAML 1.1 and 1.2 alike. The writer
/// asks this of every key and scalar it writes, so most strings are judged by one pass that
/// only gathers their bytes' classes; a space or a non-ASCII character takes the scan that
/// follows each character.
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
    let (mut all, mut any) = (u8::MAX, 0u8);
    for &b in s.as_bytes() {
        let class = CLASS[usize::from(b)];
        all &= class;
        any |= class;
    }
    let (number_like, has_digit) = if any & SLOW == 0 {
        if all & PLAIN == 0 {
            return false;
        }
        (all & NUMBERISH != 0, any & DIGIT != 0)
    } else {
        match scan(s) {
            Some(found) => found,
            None => return false,
        }
    };
    !(number_like && has_digit || looks_like_non_string(s) || looks_like_timestamp_or_marker(s))
}

/// Character by character, for text with a space or a non-ASCII character: whether it may be
/// plain at all, and if so whether it reads like a number and has a digit.
fn scan(s: &str) -> Option<(bool, bool)> {
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
                return None;
            }
            number_like = false;
            previous = b;
            i += c.len_utf8();
            continue;
        }
        let class = CLASS[usize::from(b)];
        // `: ` starts a mapping value.
        let plain = class & PLAIN != 0 || (b == b' ' && previous != b':');
        if !plain {
            return None;
        }
        has_digit |= class & DIGIT != 0;
        number_like &= class & NUMBERISH != 0;
        previous = b;
        i += 1;
    }
    Some((number_like, has_digit))
}

/// YAML 1.1 timestamps (`2001-12-14 21:59:43.10`, `2001-12-14t21:59:43Z`), which PyYAML and the
/// Compose loader both resolve, all start with a four-digit year and a dash; `...` at the start
/// of a line ends a document.
fn looks_like_timestamp_or_marker(s: &str) -> bool {
    match s.as_bytes() {
        [a, b, c, d, b'-', ..] => [a, b, c, d].iter().all(|x| x.is_ascii_digit()),
        [b'.', b'.', b'.', ..] => true,
        _ => false,
    }
}

/// Booleans, nulls, numbers and YAML 1.1's special keys, in words or with a radix prefix, in any
/// version: YAML 1.1's `yes`/`on`/`y` too, and `0x1F`, `0o17`, `0b101`.
fn looks_like_non_string(s: &str) -> bool {
    // Every word below, and every radix number after its sign, starts with one of these: most
    // strings are settled by their first byte.
    let first = s.bytes().next().map(|b| b.to_ascii_lowercase());
    if !matches!(
        first,
        Some(b'y' | b'n' | b'o' | b't' | b'f' | b'~' | b'.' | b'-' | b'+' | b'=' | b'<' | b'0')
    ) {
        return false;
    }
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
    // As slices: pushed one character at a time, the indentation cost the writer as much as
    // its keys.
    const SPACES: &str = "                                                                ";
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        left -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(doc: &Mapping) {
        let text = to_string(doc);
        let back: Value = yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
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

    /// Tags and keys that are collections have no place in a Compose file, and the render stage
    /// refuses them from templates; the writer still writes them as YAML, never panics, and
    /// never drops a tag.
    #[test]
    fn tags_and_collection_keys_are_written_as_they_are() {
        let tagged = |tag: &str, value: Value| {
            Value::Tagged(Box::new(yaml_serde::value::TaggedValue {
                tag: yaml_serde::value::Tag::new(tag),
                value,
            }))
        };
        let inner = map(&[("a", Value::from("x, y"))]);
        let mut doc = map(&[
            ("scalar", tagged("!custom", Value::from("x"))),
            ("block", tagged("!reset", Value::Mapping(inner.clone()))),
            (
                "items",
                Value::Sequence(vec![tagged("!override", Value::Mapping(inner.clone()))]),
            ),
            (
                "test",
                Value::Sequence(vec![tagged("!t", Value::from("a, b]"))]),
            ),
        ]);
        doc.insert(
            Value::Sequence(vec![Value::from("k, 1"), Value::from(2)]),
            Value::from("v"),
        );
        doc.insert(Value::Mapping(inner), Value::from("w"));
        roundtrip(&doc);
    }

    #[test]
    fn floats_carry_a_point_and_a_signed_exponent() {
        let doc = map(&[
            ("a", Value::from(1e20)),
            ("b", Value::from(-1e-7)),
            ("c", Value::from(1.5)),
            ("d", Value::from(f64::INFINITY)),
        ]);
        assert_eq!(to_string(&doc), "a: 1.0e+20\nb: -1.0e-7\nc: 1.5\nd: .inf\n");
        roundtrip(&doc);
    }

    #[test]
    fn timestamps_and_long_keys_are_quoted_or_explicit() {
        let long = "k".repeat(1500);
        let doc = map(&[
            ("a", Value::from("2001-12-14 21:59:43.10")),
            ("b", Value::from("...")),
            (long.as_str(), Value::from("v")),
        ]);
        let text = to_string(&doc);
        assert!(
            text.starts_with("a: \"2001-12-14 21:59:43.10\"\nb: \"...\"\n? "),
            "{text}"
        );
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
                "0x1F",
                "0o17",
                "+0b101",
                "yes",
                "NULL",
                "8000:80",
                "a: b",
                "a #b",
                "1e5",
                "-.inf",
                "postgres:17",
                "12:30:45",
                "2001-12-14",
                "1_000.5e+3",
                "redis-server --save",
                "${PG_PASSWORD_0:?set it in .env}",
                "/var/lib/postgresql/data",
                "a:b c",
                "é:x",
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
        // The timestamp and document-marker rule looks at a fixed prefix, with no scan to compare.
        !(number_like && has_digit
            || reference_looks_like_non_string(s)
            || looks_like_timestamp_or_marker(s))
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
