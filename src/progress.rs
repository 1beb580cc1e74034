//! Progress bars for long fetches and applies: on stderr, and only when it
//! is a terminal, so that CI logs and pipes get none.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress(ProgressBar);

impl Progress {
    /// A counter of `what` (e.g. "users fetched"); the total comes later,
    /// when the platform says it.
    pub fn new(what: &str) -> Progress {
        let bar = ProgressBar::with_draw_target(None, Self::target());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_string());
        Progress(bar)
    }

    /// A hidden one, for tests and library callers.
    pub fn hidden() -> Progress {
        Progress(ProgressBar::hidden())
    }

    fn target() -> ProgressDrawTarget {
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// A counter for the next stage of the same work (e.g. "login events
    /// read" after "users fetched"), drawn in this one's place: this one is
    /// cleared, since two bars on one line would overwrite each other. A
    /// hidden one gives a hidden one.
    pub fn next(&self, what: &str) -> Progress {
        if self.0.is_hidden() {
            return Progress::hidden();
        }
        self.0.finish_and_clear();
        Progress::new(what)
    }

    pub fn set_total(&self, total: u64) {
        self.0.set_length(total);
        self.0.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed}, {eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }

    /// What is counted, said again (e.g. with what it has cost so far).
    pub fn say(&self, what: String) {
        self.0.set_message(what);
    }

    pub fn inc(&self, n: u64) {
        self.0.inc(n);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
