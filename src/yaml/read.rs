//! Reads the YAML that kind templates write, without libyaml's cost per document.
//!
//! Templates write a few lines per service: block mappings and sequences whose values are plain
//! words or JSON (auto-escaping writes every `{{ value }}` as JSON). yaml_serde spends about
//! 56,000 instructions reading such a text, over three times what minijinja spends rendering it,
//! almost all of it setting up and running libyaml's event machinery for a handful of tokens.
//!
//! [`read`] accepts only that shape and returns `None` for anything else: anchors, tags, block
//! scalars, flow mappings, multi-line scalars, inline comments, tabs, floats, duplicate keys,
//! characters YAML refuses, and any plain word that YAML could resolve to something other than
//! a string. The caller then parses the text with yaml_serde, so errors and every construct
//! outside the subset keep yaml_serde's meaning and messages. What it accepts must mean exactly
//! what yaml_serde reads; debug builds check every accepted text against yaml_serde, so every
//! test that renders a template checks this reader too.

use yaml_serde::{Mapping, Value};

/// The value of `text`, when `text` is in the subset; `None` means "ask yaml_serde".
pub fn read(text: &str) -> Option<Value> {
    if !text.chars().all(is_accepted_char) {
        return None;
    }
    let lines: Vec<Line> = text.lines().filter_map(Line::new).collect();
    let Some(first) = lines.first() else {
        return Some(Value::Null);
    };
    let mut reader = Reader {
        lines: &lines,
        at: 0,
    };
    let root = reader.block(first.indent)?;
    (reader.at == lines.len()).then_some(root)
}

/// Characters the reader handles the way libyaml does. Tabs and carriage returns are legal YAML
/// but change what indentation and line ends mean; control characters, DEL, C1 controls and
/// byte-order marks inside a document are errors in libyaml.
fn is_accepted_char(c: char) -> bool {
    match c {
        '\n' => true,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => false,
        _ => true,
    }
}

/// A line with content: its indentation and the rest, trailing spaces removed.
struct Line<'a> {
    indent: usize,
    content: &'a str,
}

impl<'a> Line<'a> {
    /// `None` for blank lines and whole-line comments, which carry nothing.
    fn new(line: &'a str) -> Option<Self> {
        let content = line.trim_start_matches(' ').trim_end_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            return None;
        }
        Some(Line {
            indent: line.len() - line.trim_start_matches(' ').len(),
            content,
        })
    }

    /// A block sequence entry: `- value`, or `-` with the value on the lines below.
    fn item(&self) -> Option<&'a str> {
        match self.content.strip_prefix('-')? {
            "" => Some(""),
            rest => rest.strip_prefix(' ').map(|r| r.trim_start_matches(' ')),
        }
    }
}

struct Reader<'l, 'a> {
    lines: &'l [Line<'a>],
    at: usize,
}

impl Reader<'_, '_> {
    /// The mapping or sequence whose entries start at `indent` on the current line.
    fn block(&mut self, indent: usize) -> Option<Value> {
        let line = self.lines.get(self.at)?;
        if line.indent != indent {
            return None;
        }
        if line.item().is_some() {
            self.sequence(indent).map(Value::Sequence)
        } else {
            self.mapping(indent).map(Value::Mapping)
        }
    }

    fn mapping(&mut self, indent: usize) -> Option<Mapping> {
        let mut mapping = Mapping::new();
        while let Some(line) = self.lines.get(self.at) {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || line.item().is_some() {
                return None;
            }
            let (key, rest) = split_key(line.content)?;
            self.at += 1;
            let value = self.value(rest, indent)?;
            // yaml_serde refuses a duplicate key; let it say so.
            if mapping.insert(key, value).is_some() {
                return None;
            }
        }
        Some(mapping)
    }

    fn sequence(&mut self, indent: usize) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.at) {
            if line.indent < indent {
                break;
            }
            let rest = line.item().filter(|_| line.indent == indent)?;
            self.at += 1;
            items.push(self.value(rest, indent)?);
        }
        Some(items)
    }

    /// The value after `key:` or `-` on a line at `indent`: written there, nested on the lines
    /// below, or absent (null).
    fn value(&mut self, rest: &str, indent: usize) -> Option<Value> {
        if !rest.is_empty() {
            return scalar_or_json(rest);
        }
        match self.lines.get(self.at) {
            Some(next) if next.indent > indent => self.block(next.indent),
            // `key:` followed by `- item` at the key's own indentation is a sequence in YAML;
            // rare in templates, so left to yaml_serde.
            Some(next) if next.indent == indent && next.item().is_some() => None,
            _ => Some(Value::Null),
        }
    }
}

/// `key: rest` or `key:`, with a plain or JSON-quoted key.
fn split_key(content: &str) -> Option<(Value, &str)> {
    let (key, after) = if content.starts_with('"') {
        let (key, len) = json_prefix(content)?;
        (key.as_str()?.to_owned(), &content[len..])
    } else {
        let end = content
            .char_indices()
            .find(|&(i, c)| c == ':' && matches!(content.as_bytes().get(i + 1), None | Some(b' ')))
            .map(|(i, _)| i)?;
        let key = &content[..end];
        if !is_plain_word(key) || key.contains(' ') {
            return None;
        }
        (key.to_owned(), &content[end..])
    };
    let rest = after.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((Value::String(key), rest.trim_start_matches(' ')))
}

/// A value written on one line: a JSON string or list (what `{{ value }}` writes), a plain
/// word that YAML reads as a string, or a plain decimal number.
fn scalar_or_json(text: &str) -> Option<Value> {
    if text.starts_with(['"', '[']) {
        let (value, len) = json_prefix(text)?;
        return (text[len..].trim_start_matches(' ').is_empty() && is_plain_data(&value))
            .then_some(value);
    }
    if is_plain_word(text) {
        return Some(Value::String(text.to_owned()));
    }
    // Leading zeros, signs and other bases are left to yaml_serde.
    let decimal =
        text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    decimal
        .then(|| text.parse::<u64>().ok().map(Value::from))
        .flatten()
}

/// The JSON value at the start of `text`, and its length in bytes.
fn json_prefix(text: &str) -> Option<(Value, usize)> {
    // UTF-16 surrogate escapes: JSON pairs them into one character, libyaml refuses them.
    if has_surrogate_escape(text) {
        return None;
    }
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let value = stream.next()?.ok()?;
    Some((value, stream.byte_offset()))
}

fn has_surrogate_escape(text: &str) -> bool {
    text.match_indices("\\u").any(|(i, _)| {
        let hex = text.as_bytes().get(i + 2..i + 4).unwrap_or_default();
        matches!(hex, [b'd' | b'D', b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'])
    })
}

/// Strings, integers, booleans, null, and lists of them: the values JSON and YAML read alike.
/// Floats are left to yaml_serde (their text forms differ at the edges), and so are mappings,
/// whose compact JSON form (`{"a":1}`) is a matter of YAML version.
fn is_plain_data(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => true,
        Value::Number(n) => !n.is_f64(),
        Value::Sequence(items) => items.iter().all(is_plain_data),
        Value::Mapping(_) | Value::Tagged(_) => false,
    }
}

/// A plain scalar that YAML reads as this very string in block context: it starts with a letter,
/// `_` or `/` (so it is no number, `.inf`, indicator or document marker), uses only characters
/// that cannot start a comment or a mapping value, and is not a boolean or null.
fn is_plain_word(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, ' ' | '_' | '-' | '.' | '/' | ':' | '=' | '@' | '+' | ',')
        })
        && !text.contains(": ")
        && !text.ends_with(':')
        && !matches!(
            text,
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "null" | "Null" | "NULL"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reader's answer, held to yaml_serde's whenever the reader gives one.
    fn read_checked(text: &str) -> Option<Value> {
        let fast = read(text);
        if let Some(value) = &fast {
            let slow: Value = yaml_serde::from_str(text)
                .unwrap_or_else(|e| panic!("accepted {text:?}, which yaml_serde refuses: {e}"));
            assert_eq!(value, &slow, "for {text:?}");
        }
        fast
    }

    #[test]
    fn reads_what_the_built_in_templates_write() {
        let texts = [
            "healthcheck:\n  test: [\"CMD-SHELL\", \"pg_isready -h 127.0.0.1 -p 5432 -U \\\"$${POSTGRES_USER:-postgres}\\\"\"]\n",
            "command: [\"celery\", \"-A\", \"shop\", \"worker\", \"--loglevel=INFO\"]\nhealthcheck:\n  test: [\"CMD\", \"python\", \"-c\", \"import sys; sys.exit(0)\"]\n",
            "\n\nhealthcheck:\n  test: [\"CMD\", \"mysqladmin\", \"ping\", \"-P\", \"3306\"]\n",
            "",
            "\n  \n",
        ];
        for text in texts {
            assert!(read_checked(text).is_some(), "fell back on {text:?}");
        }
    }

    #[test]
    fn reads_block_structure_and_plain_words() {
        let text = "\
# a comment line
image: postgres:16-alpine
environment:
  \"A B\": \"x: y # z\"
  MODE: prod
volumes:
  - data:/var/lib/postgresql/data
  -
    - nested
  - [1, -2, true, null]
empty:
deploy:
  replicas: 3
";
        let value = read_checked(text).expect("in the subset");
        assert_eq!(value["image"], Value::from("postgres:16-alpine"));
        assert_eq!(value["environment"]["A B"], Value::from("x: y # z"));
        assert_eq!(value["volumes"][1][0], Value::from("nested"));
        assert_eq!(value["empty"], Value::Null);
        assert_eq!(value["deploy"]["replicas"], Value::from(3));
    }

    #[test]
    fn leaves_everything_else_to_yaml_serde() {
        let texts = [
            "a: &x 1\nb: *x\n",
            "a: !tag 1\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: {\"b\":1}\n",
            "a: 1.5\n",
            "a: [1e5]\n",
            "a: yes # comment\n",
            "a: true\n",
            "a: null\n",
            "a: 8000:80\n",
            "a: 'single'\n",
            "a: b\n  c\n",
            "a: [\"b\",\n  \"c\"]\n",
            "a: 1\na: 2\n",
            "a:\n- b\n",
            "- a: b\n",
            "\ta: b\n",
            "a: b\r\n",
            "a: \"\u{7f}\"\n",
            "a: \"\\ud83d\\ude00\"\n",
            "---\na: b\n",
            "word\n",
            "a:b\n",
            "\"k\":v\n",
            "  a: 1\nb: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "? a\n: b\n",
            "a: -b\n",
            "a: .inf\n",
            "a: ~\n",
            "a: 0755\n",
            "a: +1\n",
            "a: 0x1f\n",
            "a: 99999999999999999999\n",
        ];
        for text in texts {
            assert_eq!(read_checked(text), None, "took {text:?}");
        }
    }

    #[test]
    fn a_json_value_is_read_as_yaml_reads_it() {
        // Escapes that JSON and YAML share, including `\/` and HTML-safe `\u003c`.
        let text = "a: \"tab\\tquote\\\" slash\\/ lt\\u003c é\"\nb: [\"\", 0, -7, false]\n";
        let value = read_checked(text).expect("in the subset");
        assert_eq!(value["a"], Value::from("tab\tquote\" slash/ lt< é"));
        // A raw line or paragraph separator inside a quoted string stays as it is, in libyaml
        // too; a raw NEL, which libyaml folds into a space, is left to yaml_serde.
        assert!(read_checked("a: \"x\u{2028}y\"\nb: [\"\u{2029}\"]\n").is_some());
        assert_eq!(read_checked("a: \"x\u{85}y\"\n"), None);
    }
}
