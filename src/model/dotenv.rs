//! Compose's `.env` format, read as compose-go 2.9.1's `dotenv` package (Compose 2.40.3) reads
//! it, so that muster and Compose see the same values in the same file:
//!
//! - `NAME=value`, `NAME: value`, `export NAME=value`; spaces around the name and before the
//!   value are dropped; a name is letters, digits, `_`, `.`, `-`, `[` and `]`.
//! - A value in double quotes may span lines, and its escapes (`\n`, `\t`, `\"`, `\\`, `\$`,
//!   octal `\0NNN`, ...) are read before `${...}` is interpolated; one in single quotes is
//!   taken as written; an unquoted value ends at the line's end or at ` #`, and is trimmed.
//! - `${...}` interpolates from the process environment first, then from the names the files
//!   read so far, with Compose's rules (`model::interpolation`), `${NAME:?msg}` included.
//! - A line holding only a name takes that variable's value from the environment, if set.
//! - `#` starts a comment line.
//!
//! What muster reads it for: the variables `up` and `check --env-file` give the generated file.
//! The environment of the process wins over every file (Compose's `WithOsEnv` before
//! `WithDotEnv`), and a later file over an earlier one.

use super::interpolation;
use indexmap::IndexMap;

/// A value a file sets, the file (the caller's number of the files read) and the line it
/// starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    pub file: usize,
    pub line: usize,
}

/// Why Compose refuses a file, at its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub line: usize,
    pub message: String,
}

/// Reads `text`, the caller's file number `file`, into `vars`, after what earlier files put
/// there. `env` is the process environment, consulted first when a value interpolates or a
/// line names a variable alone.
pub fn parse(
    text: &str,
    file: usize,
    env: &dyn Fn(&str) -> Option<String>,
    vars: &mut IndexMap<String, Entry>,
) -> Result<(), Refused> {
    let mut reader = Reader {
        line: 1,
        file,
        env,
        vars,
    };
    reader.parse(text.strip_prefix('\u{FEFF}').unwrap_or(text))
}

struct Reader<'e, 'v> {
    line: usize,
    file: usize,
    env: &'e dyn Fn(&str) -> Option<String>,
    vars: &'v mut IndexMap<String, Entry>,
}

/// Go's `unicode.IsSpace` without the line breaks: what the format skips within a line.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

impl Reader<'_, '_> {
    fn refused(&self, message: String) -> Refused {
        Refused {
            line: self.line,
            message,
        }
    }

    fn parse(&mut self, text: &str) -> Result<(), Refused> {
        let mut rest = text;
        loop {
            rest = self.statement_start(rest);
            if rest.is_empty() {
                return Ok(());
            }
            let line = self.line;
            let (name, after, inherited) = self.name(rest)?;
            if name.contains(' ') {
                return Err(self.refused("a variable name cannot contain a space".to_owned()));
            }
            if inherited {
                if let Some(value) = self.lookup(&name) {
                    let file = self.file;
                    self.vars.insert(name, Entry { value, file, line });
                }
                rest = after;
                continue;
            }
            let (value, after) = self.value(after)?;
            let file = self.file;
            self.vars.insert(name, Entry { value, file, line });
            rest = after;
        }
    }

    /// The text from the next statement on, past blank space and comment lines.
    fn statement_start<'t>(&mut self, mut text: &'t str) -> &'t str {
        loop {
            let Some(at) = text.find(|c: char| {
                if c == '\n' {
                    self.line += 1;
                }
                !c.is_whitespace()
            }) else {
                return "";
            };
            text = &text[at..];
            if !text.starts_with('#') {
                return text;
            }
            match text.find('\n') {
                Some(end) => text = &text[end..],
                None => return "",
            }
        }
    }

    /// The name at the start of `text`, the text after its `=` or `:`, and whether the line
    /// named it alone (its value then comes from the environment).
    fn name<'t>(&mut self, text: &'t str) -> Result<(String, &'t str, bool), Refused> {
        let mut text = text;
        if let Some(after) = text.strip_prefix("export")
            && after.starts_with([' ', '\t', '\n', '\r', '\u{c}'])
        {
            text = after.trim_start_matches(is_space);
        }
        let mut end = None;
        for (i, c) in text.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    end = Some((i, c));
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphanumeric() => {}
                c => {
                    let first_line = text.lines().next().unwrap_or_default();
                    return Err(self.refused(format!(
                        "unexpected character {c:?} in variable name {first_line:?}"
                    )));
                }
            }
        }
        // A name with no `=` before the end of the text is compose-go's empty name, whose
        // value is the rest of the line.
        let (name, offset, inherited) = match end {
            Some((i, c)) => (&text[..i], i + 1, c == '\n'),
            None => ("", 0, false),
        };
        if inherited && !name.contains(' ') {
            self.line += 1;
        }
        let name = name.trim_end_matches(char::is_whitespace).to_owned();
        Ok((name, text[offset..].trim_start_matches(is_space), inherited))
    }

    /// The value at the start of `text`, and the text after it.
    fn value<'t>(&mut self, text: &'t str) -> Result<(String, &'t str), Refused> {
        let quote = match text.chars().next() {
            Some(q @ ('"' | '\'')) => q,
            _ => {
                let (value, rest) = text.split_once('\n').unwrap_or((text, ""));
                let line = self.line;
                self.line += 1;
                let value = value.split_once(" #").map_or(value, |(v, _)| v);
                let value = value.trim_end_matches(char::is_whitespace);
                return Ok((self.interpolate(value, line)?, rest));
            }
        };
        let line = self.line;
        let mut escaped = false;
        let mut chars = String::new();
        for (i, c) in text.char_indices().skip(1) {
            if c == '\n' {
                self.line += 1;
            }
            if c != quote {
                if !escaped && c == '\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    escaped = false;
                    chars.push('\\');
                }
                chars.push(c);
                continue;
            }
            if escaped {
                escaped = false;
                chars.push(c);
                continue;
            }
            let value = if quote == '"' {
                self.interpolate(&unescape(&chars), line)?
            } else {
                chars
            };
            return Ok((value, &text[i + 1..]));
        }
        let first_line = text.lines().next().unwrap_or_default();
        Err(Refused {
            line,
            message: format!("unterminated quoted value {first_line}"),
        })
    }

    fn lookup(&self, name: &str) -> Option<String> {
        (self.env)(name).or_else(|| self.vars.get(name).map(|e| e.value.clone()))
    }

    fn interpolate(&self, value: &str, line: usize) -> Result<String, Refused> {
        let lookup = |name: &str| self.lookup(name);
        let mut missing = Vec::new();
        let value = interpolation::substitute(value, &lookup, &mut missing)
            .map_err(|message| Refused { line, message })?;
        match missing.first() {
            None => Ok(value),
            Some(m) => Err(Refused {
                line,
                message: if m.message.is_empty() {
                    format!("required variable {} is missing a value", m.name)
                } else {
                    format!(
                        "required variable {} is missing a value: {}",
                        m.name, m.message
                    )
                },
            }),
        }
    }
}

/// The escapes of a double-quoted value, as compose-go reads them: `\a \b \c \f \n \r \t \v`,
/// `\"`, `\\`, `\$` (a literal `$`, written `$$` for the interpolation that follows) and
/// `\0` with up to three digits, an octal byte when exactly three octal digits follow the `0`
/// (else the backslash and the digits, without the `0`). Any other backslash stays as it is.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let mut chars = after.chars();
        let (replacement, used): (Option<String>, usize) = match chars.next() {
            Some('a') => (Some("\u{7}".into()), 1),
            Some('b') => (Some("\u{8}".into()), 1),
            Some('f') => (Some("\u{c}".into()), 1),
            Some('n') => (Some("\n".into()), 1),
            Some('r') => (Some("\r".into()), 1),
            Some('t') => (Some("\t".into()), 1),
            Some('v') => (Some("\u{b}".into()), 1),
            Some('"') => (Some("\"".into()), 1),
            Some('\\') => (Some("\\".into()), 1),
            Some('$') => (Some("$$".into()), 1),
            // Go's strconv.UnquoteChar cannot read `\c`: the escape is kept.
            Some('c') => (None, 1),
            Some('0') => {
                let digits = after[1..]
                    .bytes()
                    .take(3)
                    .take_while(u8::is_ascii_digit)
                    .count();
                let octal = &after[1..1 + digits];
                let byte = (digits == 3 && octal.bytes().all(|b| b < b'8'))
                    .then(|| u32::from_str_radix(octal, 8).ok())
                    .flatten()
                    .filter(|v| *v <= 0o377)
                    .and_then(char::from_u32);
                // compose-go has already dropped the `0` when Go refuses the rest, and keeps
                // what is left: `\012` reads `\12`, `\0` alone `\`.
                let kept = byte.map_or_else(|| format!("\\{octal}"), String::from);
                (Some(kept), 1 + digits)
            }
            _ => (None, 0),
        };
        match replacement {
            Some(text) => out.push_str(&text),
            None => {
                out.push('\\');
                out.push_str(&after[..used]);
            }
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<(String, String)>, Refused> {
        read_with(text, &[])
    }

    fn read_with(text: &str, env: &[(&str, &str)]) -> Result<Vec<(String, String)>, Refused> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let mut vars = IndexMap::new();
        parse(text, 0, &lookup, &mut vars)?;
        Ok(vars.into_iter().map(|(k, e)| (k, e.value)).collect())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_forms_compose_reads() {
        let text = "A=1\nexport B=\"x\\ny $A\"\nC='single $A'\nD = spaced # comment\n\
                    E: yaml\nF=${A:-z}b\n# comment\nG=\"multi\nline\"\nH=a#b\n";
        assert_eq!(
            read(text).unwrap(),
            pairs(&[
                ("A", "1"),
                ("B", "x\ny 1"),
                ("C", "single $A"),
                ("D", "spaced"),
                ("E", "yaml"),
                ("F", "1b"),
                ("G", "multi\nline"),
                ("H", "a#b"),
            ])
        );
    }

    #[test]
    fn names_may_hold_dots_dashes_brackets_and_letters_of_any_script() {
        let text = "a=b\na[1]=c\na.propertyKey=d\nárvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép\n";
        assert_eq!(read(text).unwrap().len(), 4);
        let refused = read("%!(EXTRA string)=foo").unwrap_err();
        assert_eq!(refused.line, 1);
        assert!(refused.message.contains("unexpected character '%'"));
    }

    #[test]
    fn a_name_alone_takes_the_environments_value() {
        assert_eq!(
            read_with("SET\nUNSET\nX=1\n", &[("SET", "from env")]).unwrap(),
            pairs(&[("SET", "from env"), ("X", "1")])
        );
    }

    #[test]
    fn the_environment_comes_first_in_interpolation() {
        assert_eq!(
            read_with("A=file\nB=${A}\n", &[("A", "env")]).unwrap(),
            pairs(&[("A", "file"), ("B", "env")])
        );
    }

    #[test]
    fn escapes_in_double_quotes_only() {
        assert_eq!(
            read(r#"A="a\tb\"c\\d\$e\0101\q"  B='a\tb\'c'"#).unwrap(),
            pairs(&[("A", "a\tb\"c\\d$eA\\q"), ("B", "a\\tb'c")])
        );
    }

    #[test]
    fn what_compose_refuses_is_refused_at_its_line() {
        let unterminated = read("A=1\nB=\"open\n").unwrap_err();
        assert_eq!(unterminated.line, 2);
        assert!(unterminated.message.contains("unterminated"));
        let required = read("A=${NOPE:?set it}\n").unwrap_err();
        assert_eq!(
            required.message,
            "required variable NOPE is missing a value: set it"
        );
        assert!(read("A B=1\n").unwrap_err().message.contains("space"));
    }
}
