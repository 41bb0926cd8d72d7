//! Diagnostics that point at the place of a mistake, in any file muster read: the catalogue, a
//! profile, or a template, built-in or the user's.

use codespan_reporting::diagnostic::{Diagnostic as Report, Label as ReportLabel};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term;
use std::ops::Range;

/// Every source text muster has read, so that a diagnostic can quote any of them.
#[derive(Default)]
pub struct Sources {
    /// Name and text of each source. codespan's file table is built only when there is a
    /// diagnostic to draw: indexing the line starts of a large catalogue cost more than all
    /// of muster's checks of it.
    files: Vec<(String, String)>,
}

/// Which source a span belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceId(usize);

impl Sources {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> SourceId {
        self.files.push((name.into(), text.into()));
        SourceId(self.files.len() - 1)
    }

    pub fn text(&self, id: SourceId) -> &str {
        self.files.get(id.0).map_or("", |(_, text)| text)
    }

    pub fn name(&self, id: SourceId) -> &str {
        self.files.get(id.0).map_or("", |(name, _)| name)
    }

    /// Renders diagnostics the way compilers do: `error: ...`, the file, line and column, the
    /// source line with a caret, then the notes.
    pub fn render(&self, diagnostics: &[Diagnostic]) -> String {
        let config = term::Config::default();
        let mut out = String::new();
        if diagnostics.is_empty() {
            return out;
        }
        let mut files = SimpleFiles::new();
        for (name, text) in &self.files {
            files.add(name.as_str(), text.as_str());
        }
        for d in diagnostics {
            let report = d.to_report();
            match term::emit_into_string(&config, &files, &report) {
                Ok(text) => out.push_str(&text),
                // A span past the end of its file is a bug in muster, but the user still deserves
                // the message rather than a second, unrelated error.
                Err(_) => out.push_str(&format!("{}: {}\n", d.severity.word(), d.message)),
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
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
    pub message: String,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
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

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// `Ok(value)` when nothing so far is an error; the warnings stay in `self`.
    pub fn check<T>(&mut self, value: T) -> Result<T, Failed> {
        if self.has_errors() {
            Err(Failed)
        } else {
            Ok(value)
        }
    }
}

/// A stage found errors; they are in the run's [`Diagnostics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;
