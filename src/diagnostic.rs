//! Diagnostics that point at the place of a mistake, in any file muster read: the catalogue, a
//! profile, or a template, built-in or the user's.

use crate::model::Lint;
pub use crate::model::Severity;
use codespan_reporting::diagnostic::{Diagnostic as Report, Label as ReportLabel};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;
use codespan_reporting::term::termcolor::WriteColor;
use std::ops::Range;

/// Every source text muster has read, so that a diagnostic can quote any of them.
#[derive(Default)]
pub struct Sources {
    /// Name and text of each source. codespan's file table is built only when there is a
    /// diagnostic to draw: indexing the line starts of a large catalogue cost more than all
    /// of muster's checks of it.
    files: Vec<(String, String)>,
}

/// Which source a span belongs to; sources are ordered as they were read, and diagnostics by
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(usize);

impl Sources {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> SourceId {
        self.files.push((name.into(), text.into()));
        SourceId(self.files.len() - 1)
    }

    pub fn text(&self, id: SourceId) -> &str {
        self.files.get(id.0).map_or("", |(_, text)| text)
    }

    /// The source read from the file `name`, if any.
    pub fn find(&self, name: &str) -> Option<SourceId> {
        self.files.iter().position(|(n, _)| n == name).map(SourceId)
    }

    /// Every source, in the order read.
    pub fn ids(&self) -> impl Iterator<Item = (SourceId, &str)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (SourceId(i), name.as_str()))
    }

    pub fn name(&self, id: SourceId) -> &str {
        self.files.get(id.0).map_or("", |(name, _)| name)
    }

    /// Renders diagnostics the way compilers do: `error: ...`, the file, line and column, the
    /// source line with a caret, then the notes.
    #[cfg(feature = "internals")]
    pub fn render(&self, diagnostics: &[Diagnostic]) -> String {
        let mut buffer = codespan_reporting::term::termcolor::Buffer::no_color();
        self.render_to(diagnostics, &mut buffer);
        String::from_utf8(buffer.into_inner()).expect("sources and messages are UTF-8")
    }

    /// [`Sources::render`] in the terminal's colours, or plain text when `writer` has none.
    pub fn render_to(&self, diagnostics: &[Diagnostic], writer: &mut dyn WriteColor) {
        if diagnostics.is_empty() {
            return;
        }
        let config = term::Config::default();
        let mut files = SimpleFiles::new();
        for (name, text) in &self.files {
            files.add(name.as_str(), text.as_str());
        }
        for d in diagnostics {
            let report = d.to_report();
            if term::emit_to_write_style(writer, &config, &files, &report).is_err() {
                // A span past the end of its file is a bug in muster, but the user still deserves
                // the message rather than a second, unrelated error.
                let _ = writeln!(writer, "{}: {}", d.severity.word(), d.message);
            }
        }
    }

    /// Where `span` of `source` starts and ends, as 1-based lines and columns (columns count
    /// characters, as SARIF and editors do).
    pub fn location(&self, source: SourceId, span: &Range<usize>) -> Location {
        let text = self.text(source);
        let position = |offset: usize| {
            let offset = floor_char_boundary(text, offset.min(text.len()));
            let before = &text[..offset];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            (
                before.matches('\n').count() + 1,
                before[line_start..].chars().count() + 1,
            )
        };
        let (line, column) = position(span.start);
        let (end_line, end_column) = position(span.end.max(span.start));
        Location {
            file: self.name(source).to_owned(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A place in a source, for the machine formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Debug, Clone)]
pub struct Label {
    pub source: SourceId,
    pub span: Range<usize>,
    pub message: String,
}

impl Label {
    pub fn new(source: SourceId, span: Range<usize>, message: impl Into<String>) -> Self {
        Label {
            source,
            span,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The lint, for a warning a team can allow.
    pub lint: Option<Lint>,
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            lint: None,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn with_label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    /// Points at `span` of `source`, when the place is known.
    pub fn at(self, source: SourceId, span: Option<Range<usize>>, message: &str) -> Self {
        match span {
            Some(span) => self.with_label(Label::new(source, span, message)),
            None => self,
        }
    }

    /// A warning of `lint`, which a team may allow.
    pub fn with_lint(mut self, lint: Lint) -> Self {
        self.lint = Some(lint);
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    fn to_report(&self) -> Report<usize> {
        let report = match self.severity {
            Severity::Error => Report::error(),
            Severity::Warning => Report::warning(),
        };
        let labels = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let label = if i == 0 {
                    ReportLabel::primary(l.source.0, l.span.clone())
                } else {
                    ReportLabel::secondary(l.source.0, l.span.clone())
                };
                label.with_message(l.message.clone())
            })
            .collect();
        let report = match self.lint {
            Some(lint) => report.with_code(lint.name()),
            None => report,
        };
        report
            .with_message(self.message.clone())
            .with_labels(labels)
            .with_notes(self.notes.clone())
    }
}

/// The diagnostics of one run. Stages push into it and keep going where they can, so that one run
/// reports every mistake it can find rather than only the first.
#[derive(Debug, Default)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.0
    }

    pub fn retain(&mut self, keep: impl FnMut(&Diagnostic) -> bool) {
        self.0.retain(keep);
    }

    /// Orders the diagnostics by where they point (`position`: the file, then the line and
    /// column); those about no place come last, as they are about the run as a whole (and a
    /// reader's "stopped after 50 errors" ends its file's list). The sort is stable, so
    /// diagnostics at one place keep the order they were found in.
    pub fn sort_by_position<K: Ord>(&mut self, position: impl Fn(&Diagnostic) -> Option<K>) {
        self.0
            .sort_by_cached_key(|d| position(d).map_or((1, None), |p| (0, Some(p))));
    }

    /// Keeps the first `max` errors that point at a place (and every warning, and the few
    /// errors about the run as a whole), with a last error saying that the run stopped there.
    pub fn bound_errors(&mut self, max: usize) {
        let mut errors = 0;
        let before = self.0.len();
        self.0.retain(|d| {
            if d.severity != Severity::Error || d.labels.is_empty() {
                return true;
            }
            errors += 1;
            errors <= max
        });
        if self.0.len() < before {
            self.0.push(Diagnostic::error(format!(
                "stopped after {max} errors; fix these and run again"
            )));
        }
    }
}
