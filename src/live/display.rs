//! The live board. On a terminal it is redrawn in place (indicatif keeps one line per service
//! and rewrites them, so the screen shows the stack now, not a scroll of its past); anywhere
//! else (CI logs, a pipe) a line is printed only when a service changes, so the log reads as
//! what happened, in order.

use super::board::{Board, precise, seconds};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::Write;

pub enum Display {
    Terminal {
        multi: MultiProgress,
        lines: Vec<ProgressBar>,
    },
    Plain {
        last: HashMap<String, String>,
        started: bool,
    },
}

impl Display {
    pub fn new(terminal: bool) -> Display {
        if terminal {
            Display::Terminal {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
                lines: Vec::new(),
            }
        } else {
            Display::Plain {
                last: HashMap::new(),
                started: false,
            }
        }
    }

    pub fn show(&mut self, board: &Board, elapsed: f64) {
        match self {
            Display::Terminal { multi, lines } => {
                let text = board.lines(Some(elapsed));
                while lines.len() < text.len() {
                    let bar = multi.add(ProgressBar::new_spinner());
                    // `wide_msg` cuts a line at the terminal's width: a wrapped line would
                    // leave the rewrite one row off.
                    bar.set_style(
                        ProgressStyle::with_template("{wide_msg}").expect("a valid template"),
                    );
                    lines.push(bar);
                }
                for (bar, line) in lines.iter().zip(text) {
                    bar.set_message(line);
                }
            }
            Display::Plain { last, started } => {
                let mut out = std::io::stdout().lock();
                if !*started {
                    *started = true;
                    let n = board.services.len();
                    let _ = writeln!(
                        out,
                        "{} (profile {}): {n} service{}",
                        board.project,
                        board.profile,
                        if n == 1 { "" } else { "s" }
                    );
                }
                for r in &board.services {
                    let mut now = r.state_text();
                    let note = r.note_text();
                    if !note.is_empty() {
                        now.push_str(", ");
                        now.push_str(&note);
                    }
                    if let Some(t) = r.ready_after {
                        now.push_str(&format!(" (ready after {})", precise(t)));
                    }
                    if last.get(&r.service) != Some(&now) {
                        let _ = writeln!(out, "{:>6}  {}: {now}", seconds(elapsed), r.service);
                        last.insert(r.service.clone(), now);
                    }
                }
                let _ = out.flush();
            }
        }
    }

    /// Writes `text` (a diagnosis, drawn) to stderr while the board runs: on a terminal above
    /// the board, which is drawn again under it.
    pub fn above(&self, text: &[u8]) {
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text);
            let _ = err.flush();
        };
        match self {
            Display::Terminal { multi, .. } => multi.suspend(write),
            Display::Plain { .. } => {
                let _ = std::io::stdout().lock().flush();
                write();
            }
        }
    }

    /// The last board stays on screen; in plain form it is printed whole once more.
    pub fn finish(self, board: &Board, elapsed: f64) {
        match self {
            Display::Terminal { multi, lines } => {
                let text = board.lines(Some(elapsed));
                for (bar, line) in lines.iter().zip(text) {
                    bar.finish_with_message(line);
                }
                let _ = multi.clear().ok();
                drop(multi);
                // Cleared and printed as plain text, so the final board stays in the
                // terminal's scrollback like any output.
                let mut out = std::io::stdout().lock();
                for line in board.lines(Some(elapsed)) {
                    let _ = writeln!(out, "{line}");
                }
            }
            Display::Plain { .. } => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out);
                for line in board.lines(Some(elapsed)) {
                    let _ = writeln!(out, "{line}");
                }
            }
        }
    }
}
