//! How Compose reads a `command` or `entrypoint` written as one string: compose-go splits it
//! with go-shellwords (its default parser: no environment, no backtick execution), which is not
//! a POSIX shell. The rules here are that parser's, each checked against the Compose 2.40.3
//! loader in `tests/compose_agrees.rs`:
//! - quotes are removed, `\` escapes outside single quotes;
//! - an unquoted `(` is refused unless it opens `$(`, whose `)` closes it, and a stray `)` opens
//!   one that never closes (`x)` is refused); `$((` is refused;
//! - backticks are kept as text but must pair;
//! - an unquoted `;`, `&`, `|`, `<` or `>` ends the command: Compose keeps the words before it
//!   and drops the rest without a word (`echo a; echo b` runs `echo a`);
//! - anything left open at the end (a quote, a backtick, `$(`, a trailing `\`) is refused with
//!   "invalid command line string".

/// What Compose makes of a command string.
#[derive(Debug, PartialEq, Eq)]
pub enum Split {
    /// Every word is read.
    Whole,
    /// Compose stops at the operator at this byte offset and drops what follows.
    CutAt(usize),
}

/// Compose's reading of `line`, or why it refuses it.
pub fn split(line: &str) -> Result<Split, &'static str> {
    let atoms: Vec<Atom<()>> = line.chars().map(Atom::Char).collect();
    let read = read(&atoms)?;
    Ok(match read.cut {
        Some(at) => Split::CutAt(line.char_indices().nth(at).map_or(line.len(), |(i, _)| i)),
        None => Split::Whole,
    })
}

/// The words Compose runs for `line` (those before an operator that cuts it), or why it
/// refuses it: the tests' view of `read`, which the targets call on atoms.
#[cfg(test)]
fn words(line: &str) -> Result<Vec<String>, &'static str> {
    let atoms: Vec<Atom<()>> = line.chars().map(Atom::Char).collect();
    Ok(read(&atoms)?
        .words
        .into_iter()
        .map(|w| {
            w.into_iter()
                .filter_map(|a| match a {
                    Atom::Char(c) => Some(c),
                    Atom::Value(()) => None,
                })
                .collect()
        })
        .collect())
}

/// One unit of a command line as the splitter reads it: a character, or a value interpolated
/// into the line that the splitter takes as text of a word, never as a space, a quote or an
/// operator. A target that keeps a variable as a reference (Kubernetes' `$(VAR)`) splits the
/// line around it as Compose splits the text around a value without spaces or quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom<V> {
    Char(char),
    Value(V),
}

/// A line read into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read<V> {
    pub words: Vec<Vec<Atom<V>>>,
    /// The atom at which an unquoted operator cuts the line, if one does.
    pub cut: Option<usize>,
}

/// go-shellwords' `Parse` as compose-go calls it (no environment, no backticks run), over atoms.
pub fn read<V: Clone>(line: &[Atom<V>]) -> Result<Read<V>, &'static str> {
    let (mut escaped, mut single, mut double, mut backtick, mut dollar) =
        (false, false, false, false, false);
    let mut words = Vec::new();
    let mut word: Vec<Atom<V>> = Vec::new();
    // Whether a word has begun: an empty pair of quotes is a word, a run of spaces is none.
    let mut started = false;
    let mut cut = None;
    for (i, atom) in line.iter().enumerate() {
        let c = match atom {
            Atom::Value(_) => {
                word.push(atom.clone());
                started = true;
                continue;
            }
            Atom::Char(c) => *c,
        };
        if escaped {
            escaped = false;
            word.push(Atom::Char(c));
            started = true;
            continue;
        }
        let quoted = single || double;
        match c {
            '\\' if single => {}
            '\\' => {
                escaped = true;
                continue;
            }
            ' ' | '\t' | '\r' | '\n' => {
                if quoted || backtick || dollar {
                    word.push(Atom::Char(c));
                } else if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
                continue;
            }
            '`' if !quoted && !dollar => backtick = !backtick,
            ')' if !quoted && !backtick => dollar = !dollar,
            '(' if !quoted && !backtick => {
                if dollar || !matches!(word.last(), Some(Atom::Char('$'))) {
                    return Err("an unquoted `(` that does not open `$(`");
                }
                dollar = true;
            }
            '\'' if !double && !dollar => {
                if single {
                    started = true;
                }
                single = !single;
                continue;
            }
            '"' if !single && !dollar => {
                if double {
                    started = true;
                }
                double = !double;
                continue;
            }
            ';' | '&' | '|' | '<' | '>' if !(quoted || backtick || dollar) => {
                // `2>` redirects descriptor 2: the digits before `>` are no word of the command.
                if c == '>'
                    && !word.is_empty()
                    && word
                        .iter()
                        .all(|a| matches!(a, Atom::Char(d) if d.is_ascii_digit()))
                {
                    word.clear();
                    started = false;
                }
                cut = Some(i);
                break;
            }
            _ => {}
        }
        word.push(Atom::Char(c));
        started = true;
    }
    if cut.is_none() {
        if single || double {
            return Err("an unclosed quote");
        }
        if backtick {
            return Err("an unpaired backtick");
        }
        if dollar {
            return Err("an unclosed `$(`, or a `)` that closes nothing");
        }
        if escaped {
            return Err("a trailing `\\`");
        }
    }
    if started {
        words.push(word);
    }
    Ok(Read { words, cut })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_compose_reads() {
        assert_eq!(split("python manage.py migrate"), Ok(Split::Whole));
        assert_eq!(split("echo `date`"), Ok(Split::Whole));
        assert_eq!(split("echo $(date)"), Ok(Split::Whole));
        assert_eq!(split("echo \"(x)\" '`' \\("), Ok(Split::Whole));
        assert_eq!(split("echo a; echo b"), Ok(Split::CutAt(6)));
        assert_eq!(split("a > b"), Ok(Split::CutAt(2)));
    }

    #[test]
    fn splits_into_the_words_compose_runs() {
        assert_eq!(
            words(r#"gunicorn app --bind '0.0.0.0:8000' "a b" '' x\ y"#).unwrap(),
            [
                "gunicorn",
                "app",
                "--bind",
                "0.0.0.0:8000",
                "a b",
                "",
                "x y"
            ]
        );
        assert_eq!(words("echo a; echo b").unwrap(), ["echo", "a"]);
        assert_eq!(words("run 2>/dev/null").unwrap(), ["run"]);
        assert_eq!(
            words("echo $(date +%s) `id`").unwrap(),
            ["echo", "$(date +%s)", "`id`"]
        );
        // A value is text of its word, whatever it holds.
        let line = [
            Atom::Char('a'),
            Atom::Char(' '),
            Atom::Value("x y"),
            Atom::Char('b'),
        ];
        assert_eq!(
            read(&line).unwrap().words,
            [
                vec![Atom::Char('a')],
                vec![Atom::Value("x y"), Atom::Char('b')]
            ]
        );
    }

    #[test]
    fn refuses_what_compose_refuses() {
        for line in [
            "python man`ge.py",
            "echo (hi)",
            "echo $(date",
            "echo \"a",
            "echo 'a",
            "echo a\\",
            "x)",
            "echo $((1+2))",
            "$(a)(b)",
        ] {
            assert!(split(line).is_err(), "{line}");
        }
    }
}
