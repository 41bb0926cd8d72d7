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
    let (mut escaped, mut single, mut double, mut backtick, mut dollar) =
        (false, false, false, false, false);
    let mut previous: Option<char> = None;
    let mut cut = None;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            previous = Some(c);
            continue;
        }
        let quoted = single || double;
        match c {
            '\\' if !single => escaped = true,
            '\'' if !double && !dollar => single = !single,
            '"' if !single && !dollar => double = !double,
            '`' if !quoted && !dollar => backtick = !backtick,
            ')' if !quoted && !backtick => dollar = !dollar,
            '(' if !quoted && !backtick => {
                if dollar || previous != Some('$') {
                    return Err("an unquoted `(` that does not open `$(`");
                }
                dollar = true;
            }
            ';' | '&' | '|' | '<' | '>' if !(quoted || backtick || dollar) => {
                cut = Some(i);
                break;
            }
            _ => {}
        }
        previous = Some(c);
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
    Ok(cut.map_or(Split::Whole, Split::CutAt))
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
