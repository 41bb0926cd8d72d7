//! A Dockerfile's text into instructions, line by line as BuildKit's parser reads it
//! (moby/buildkit `frontend/dockerfile/parser/parser.go`, `line_parsers.go`,
//! `split_command.go`): parser directives at the top (`# escape=`), comment lines dropped, also
//! inside a continued instruction, the escape token at the end of a line joining it to the
//! next, an empty continuation line skipped, the instruction's word and its leading `--flags`
//! split off, and the here-documents of `RUN`, `COPY` and `ADD` (`<<EOF`, `<<-EOF`, `<<"EOF"`,
//! several per line) taken from the lines that follow.
//!
//! What an instruction means is `super`'s business; this reads only its shape. An instruction
//! word BuildKit does not know is kept as it is, and `super` decides what that means.

use std::fmt;

/// A Dockerfile as a list of instructions.
#[derive(Debug)]
pub(crate) struct Dockerfile {
    pub instructions: Vec<Instruction>,
}

/// One instruction, its continuation lines joined.
#[derive(Debug, Clone)]
pub(crate) struct Instruction {
    /// The instruction word, lower case (`from`, `run`).
    pub keyword: String,
    /// The arguments as written after the `--flags` (which say nothing a probe needs: where a
    /// `COPY` copies from does not change what lands on PATH), continuation tokens removed.
    pub args: String,
    /// The 1-based line the instruction starts on.
    pub line: usize,
    pub heredocs: Vec<Heredoc>,
}

/// A here-document of a `RUN`, `COPY` or `ADD`.
#[derive(Debug, Clone)]
pub(crate) struct Heredoc {
    pub content: String,
}

/// Why the text is not a Dockerfile BuildKit reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl Instruction {
    /// The arguments as a JSON array of strings (the exec form), when they are one. BuildKit
    /// decodes the first JSON value and takes it when it is an array of strings.
    pub fn json_args(&self) -> Option<Vec<String>> {
        let args = self.args.trim_start();
        if !args.starts_with('[') {
            return None;
        }
        let mut values = serde_json::Deserializer::from_str(args).into_iter::<serde_json::Value>();
        match values.next()? {
            Ok(serde_json::Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

/// The keys BuildKit reads as parser directives.
const DIRECTIVES: &[&str] = &["escape", "syntax", "check"];

/// The instructions whose arguments may open here-documents.
const HEREDOC_INSTRUCTIONS: &[&str] = &["run", "copy", "add"];

pub(crate) fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut escape = '\\';
    let mut directives_done = false;
    let mut seen: Vec<String> = Vec::new();
    let mut instructions = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let raw = trim_newline(lines[i]);
        i += 1;
        let start_line = i;
        if !directives_done {
            match directive(raw) {
                Some((key, value)) => {
                    if seen.contains(&key) {
                        return Err(ParseError {
                            line: start_line,
                            message: format!("only one {key} parser directive can be used"),
                        });
                    }
                    if key == "escape" {
                        escape = match value.as_str() {
                            "\\" => '\\',
                            "`" => '`',
                            other => {
                                return Err(ParseError {
                                    line: start_line,
                                    message: format!(
                                        "invalid escape token '{other}' does not match ` or \\"
                                    ),
                                });
                            }
                        };
                    }
                    seen.push(key);
                    continue;
                }
                None => directives_done = true,
            }
        }
        let first = raw.trim_start();
        if first.is_empty() || first.starts_with('#') {
            continue;
        }
        let (mut line, mut ended) = trim_continuation(first, escape);
        while !ended && i < lines.len() {
            let next = trim_newline(lines[i]);
            i += 1;
            let stripped = next.trim_start();
            // A comment line inside a continued instruction is dropped, and so is an empty one.
            if stripped.starts_with('#') || stripped.is_empty() {
                continue;
            }
            let (continued, end) = trim_continuation(next, escape);
            line.push_str(&continued);
            ended = end;
        }
        let mut instruction = split_command(&line, start_line)?;
        let json = instruction.json_args().is_some();
        let heredoc_words = if HEREDOC_INSTRUCTIONS.contains(&instruction.keyword.as_str()) && !json
        {
            heredoc_names(&line)
        } else {
            Vec::new()
        };
        for (name, chomp) in heredoc_words {
            let mut content = String::new();
            let mut terminated = false;
            while i < lines.len() {
                let body = lines[i];
                i += 1;
                let mut candidate = trim_newline(body);
                if chomp {
                    candidate = candidate.trim_start_matches('\t');
                }
                if candidate == name {
                    terminated = true;
                    break;
                }
                content.push_str(body);
                content.push('\n');
            }
            if !terminated {
                return Err(ParseError {
                    line: start_line,
                    message: format!("unterminated heredoc `{name}`"),
                });
            }
            instruction.heredocs.push(Heredoc { content });
        }
        instructions.push(instruction);
    }
    if instructions.is_empty() {
        return Err(ParseError {
            line: lines.len(),
            message: "file with no instructions".to_owned(),
        });
    }
    Ok(Dockerfile { instructions })
}

fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// `# key=value` at the top of the file, for a key BuildKit reads as a directive.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let (key, value) = rest.split_once('=')?;
    let key = key.trim_end();
    let valid = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric());
    let key = key.to_ascii_lowercase();
    let value = value.trim();
    (valid && !value.is_empty() && DIRECTIVES.contains(&key.as_str()))
        .then(|| (key, value.to_owned()))
}

/// The line without its continuation token, and whether the instruction ends here. The token
/// continues the line when it is the last character but spaces and tabs, unless an escape token
/// precedes it (BuildKit's own regular expression has the same blind spot for `\\\`).
fn trim_continuation(line: &str, escape: char) -> (String, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some("") => (String::new(), false),
        Some(before) if !before.ends_with(escape) => (before.to_owned(), false),
        _ => (line.to_owned(), true),
    }
}

/// The instruction word, its flags and the rest (`split_command.go`).
fn split_command(line: &str, at: usize) -> Result<Instruction, ParseError> {
    let line = line.trim();
    let (keyword, rest) = match line.split_once(|c: char| c.is_whitespace()) {
        Some((k, r)) => (k, r.trim_start()),
        None => (line, ""),
    };
    let mut rest = rest;
    while let Some(after) = rest.strip_prefix("--") {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        rest = after[end..].trim_start();
        if end == 0 {
            // `--` alone ends the flags.
            break;
        }
    }
    if keyword.is_empty() {
        return Err(ParseError {
            line: at,
            message: "an empty instruction".to_owned(),
        });
    }
    Ok(Instruction {
        keyword: keyword.to_ascii_lowercase(),
        args: rest.trim_end().to_owned(),
        line: at,
        heredocs: Vec::new(),
    })
}

/// The here-documents a line opens: each word `<<NAME`, `<<-NAME` (tabs stripped before the
/// terminator) or `N<<NAME`, with quotes around the name removed (`parser.go`,
/// `heredocsFromLine`).
fn heredoc_names(line: &str) -> Vec<(String, bool)> {
    words(line)
        .into_iter()
        .filter_map(|word| {
            let after_fd = word.trim_start_matches(|c: char| c.is_ascii_digit());
            let rest = after_fd.strip_prefix("<<")?;
            let (chomp, rest) = match rest.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            if rest.is_empty() || rest.contains('<') {
                return None;
            }
            let name: String = rest.chars().filter(|c| *c != '"' && *c != '\'').collect();
            (!name.is_empty()).then_some((name, chomp))
        })
        .collect()
}

/// Words split at unquoted whitespace, quotes kept (`line_parsers.go`, `parseWords`).
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                word.push(c);
                if c == q {
                    quote = None;
                } else if c == '\\'
                    && q == '"'
                    && let Some(n) = chars.next()
                {
                    word.push(n);
                }
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                in_word = true;
                word.push(c);
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == '\\'
                    && let Some(n) = chars.next()
                {
                    word.push(n);
                }
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(text: &str) -> Vec<String> {
        parse(text)
            .unwrap()
            .instructions
            .into_iter()
            .map(|i| i.keyword)
            .collect()
    }

    #[test]
    fn continuations_join_lines_and_drop_comment_lines_inside() {
        let file = parse(
            "FROM alpine\nRUN apk add \\\n    # why curl\n    curl \\\n\n    wget\nCMD [\"x\"]\n",
        )
        .unwrap();
        let run = &file.instructions[1];
        assert_eq!(run.keyword, "run");
        assert_eq!(run.args, "apk add     curl     wget");
        assert_eq!(run.line, 2);
        assert_eq!(file.instructions[2].line, 7);
        assert_eq!(file.instructions[2].json_args().unwrap(), ["x"]);
    }

    #[test]
    fn the_escape_directive_changes_the_continuation_token() {
        let file = parse("# escape=`\nFROM windows\nRUN a `\n  b\n").unwrap();
        assert_eq!(file.instructions[1].args, "a   b");
        // After an instruction, a directive is a comment.
        let file = parse("FROM x\n# escape=`\nRUN a \\\n b\n").unwrap();
        assert_eq!(file.instructions[1].args, "a  b");
        let err = parse("# escape=x\nFROM a\n").unwrap_err();
        assert_eq!(err.line, 1);
        // A directive is not an instruction.
        let syntax = parse("# syntax = docker/dockerfile:1.7\nFROM a\n").unwrap();
        assert_eq!(syntax.instructions.len(), 1);
        let twice = parse("# syntax=a\n# syntax=b\nFROM a\n").unwrap_err();
        assert_eq!(twice.line, 2);
    }

    #[test]
    fn flags_are_split_from_the_arguments() {
        let file = parse(
            "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nCOPY --from=build --chown=1:1 /a /b\n",
        )
        .unwrap();
        assert_eq!(file.instructions[0].args, "golang:1.23 AS build");
        assert_eq!(file.instructions[1].args, "/a /b");
    }

    #[test]
    fn heredocs_are_read_whole_wherever_they_open() {
        let text = "FROM debian\nRUN <<EOF\napt-get install -y curl\nEOF\nRUN cat <<'CONF' > /etc/x && bash <<-SH\nFROM not an instruction\nCONF\n\techo hi\n\tSH\nUSER app\n";
        let file = parse(text).unwrap();
        assert_eq!(keywords(text), ["from", "run", "run", "user"]);
        let first = &file.instructions[1].heredocs;
        assert_eq!(first[0].content, "apt-get install -y curl\n");
        let second = &file.instructions[2].heredocs;
        assert_eq!(second.len(), 2);
        assert_eq!(second[0].content, "FROM not an instruction\n");
        assert_eq!(second[1].content, "\techo hi\n");
        // JSON-form RUN never opens one.
        assert_eq!(
            keywords("FROM a\nRUN [\"echo\", \"<<EOF\"]\nUSER b\n").len(),
            3
        );
        let err = parse("FROM a\nRUN <<EOF\nnever ends\n").unwrap_err();
        assert_eq!((err.line, err.message.contains("unterminated")), (2, true));
    }

    #[test]
    fn lower_case_and_crlf_are_read_as_buildkit_reads_them() {
        assert_eq!(
            keywords("\u{feff}from alpine\r\nrun echo \\\r\n  hi\r\n"),
            ["from", "run"]
        );
        assert!(parse("# only a comment\n\n").is_err());
    }
}
