//! Why a command stopped. Each stage's error is carried as that stage
//! typed it; `cmd::run` prints it once, in the `--error-format` asked for,
//! and ends with its exit status.

use crate::Exit;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Failure {
    #[error(transparent)]
    #[diagnostic(transparent)]
    File(#[from] crate::files::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Journal(#[from] crate::journal::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Apply(#[from] crate::apply::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Notify(#[from] crate::notify::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Evidence(#[from] crate::evidence::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connector(#[from] crate::connector::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Enrich(#[from] crate::connector::enrich::Error),
    /// A fetch that failed: nothing is fetched in part.
    #[error("{0}\nnothing was fetched")]
    #[diagnostic(code(dormant::fetch))]
    Fetch(crate::connector::Error),
    #[error("{0}\nnothing was planned: fix the users file and run again")]
    #[diagnostic(code(dormant::users_file))]
    UsersFile(crate::connector::file::UsersFileError),
    #[error("internal error: the users file reader stopped unexpectedly")]
    #[diagnostic(code(dormant::internal))]
    ReaderStopped,
    #[error("{}: internal error: the checked policy did not compile at byte {at}", path)]
    #[diagnostic(code(dormant::internal))]
    Compile { path: String, at: usize },
    #[error("{source}\n  every policy tested with `dormant test` needs its cases beside it")]
    #[diagnostic(code(dormant::tests::missing))]
    NoTests { source: crate::files::Error },
    /// Every problem of a tests file, each at its line.
    #[error("{}", source.render(&path.display().to_string()))]
    #[diagnostic(code(dormant::tests))]
    Tests {
        path: PathBuf,
        source: Box<crate::testcase::Errors>,
    },
    #[error("cannot verify `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::journal::key))]
    Unverifiable {
        path: PathBuf,
        source: crate::journal::Error,
    },
    /// A journal named that is not there: during an incident, a mistyped
    /// path must not read as "all is well".
    #[error("no journal at `{}`", path.display())]
    #[diagnostic(code(dormant::journal::missing))]
    NoJournal { path: PathBuf },
    #[error("`{}`: {source}", path.display())]
    #[diagnostic(code(dormant::journal::kept_head))]
    KeptHead {
        path: PathBuf,
        source: crate::journal::Mismatch,
    },
    #[error("no journal at `{}`: name the journal apply wrote (dormant.toml's `journal`); nothing was undone", path.display())]
    #[diagnostic(code(dormant::journal::missing))]
    NoJournalToUndo { path: PathBuf },
    #[error("{0}\nnothing was undone")]
    #[diagnostic(code(dormant::undo))]
    NothingUndone(crate::journal::Error),
    #[error("undo would reactivate {count} users, and there is no terminal to ask on: add --yes")]
    #[diagnostic(code(dormant::undo))]
    NoTerminalToUndo { count: usize },
    #[error("no user `{who}` in {users}: name them by id, username or email")]
    #[diagnostic(code(dormant::no_such_user))]
    NoSuchUser { who: String, users: String },
    #[error("`{who}` names {} users ({}): use an id", ids.len(), ids.join(", "))]
    #[diagnostic(code(dormant::no_such_user))]
    ManyUsers { who: String, ids: Vec<String> },
    #[error("{count} warning{}, and --deny-warnings makes warnings errors: {outcome}", if *count == 1 { "" } else { "s" })]
    #[diagnostic(code(dormant::denied_warnings))]
    Denied { count: usize, outcome: &'static str },
    /// Exit status 3: the plan is written, and apply will refuse it.
    #[error("the plan is over its limits: {}; apply will refuse these actions", over.join(", "))]
    #[diagnostic(code(dormant::over_limit))]
    OverLimit { over: Vec<String> },
    /// `DORMANT_GENERATED_AT` that is not an instant: a plan must not carry
    /// a made-up time.
    #[error("DORMANT_GENERATED_AT: {problem}; unset it to stamp plans with the clock")]
    #[diagnostic(code(dormant::generated_at))]
    GeneratedAt { problem: crate::cli::BadInstant },
    /// Diagnostics at their spans, printed as they were found (with the
    /// warnings beside them): only the exit status is left to give.
    #[error("the diagnostics above")]
    #[diagnostic(code(dormant::reported))]
    Reported,
}

impl Failure {
    /// The exit status it ends the command with.
    pub fn exit(&self) -> Exit {
        match self {
            Failure::OverLimit { .. } => Exit::OverLimit,
            Failure::Apply(e) => e.exit(),
            _ => Exit::Errors,
        }
    }
}
