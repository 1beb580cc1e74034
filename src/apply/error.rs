//! Why apply stops: the plan refused before anything is sent (each says
//! "nothing was done"), or a journal or platform that fails under way.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("`{}` is not a dormant plan: {detail}", path.display())]
    #[diagnostic(code(dormant::apply::not_a_plan))]
    NotAPlan { path: PathBuf, detail: String },
    #[error("the plan decides user `{user}` twice (decisions {first} and {second}): it is not a plan dormant wrote; plan again")]
    #[diagnostic(code(dormant::apply::not_a_plan))]
    DecidedTwice { user: String, first: usize, second: usize },
    #[error("the plan says it evaluated {count} users but decides {decisions}: it was edited; plan again")]
    #[diagnostic(code(dormant::apply::not_a_plan))]
    Miscounted { count: usize, decisions: usize },
    #[error("this plan was made from `{users}`, not from a connector, so there is nothing to act through: plan again with --connector NAME")]
    #[diagnostic(code(dormant::apply::no_connector))]
    NotFromConnector { users: String },
    #[error(
        "apply needs the policy it enforces: add --policy FILE, or `policy = \"FILE\"` to `{config}`; nothing was done"
    )]
    #[diagnostic(code(dormant::apply::no_policy))]
    NoPolicy { config: String },
    #[error("the plan was made under `{plan}`, and apply enforces `{}` ({by}): plan with that policy; nothing was done", enforced.display())]
    #[diagnostic(code(dormant::apply::other_policy))]
    OtherPolicy {
        plan: String,
        enforced: PathBuf,
        by: &'static str,
    },
    #[error("`{}` changed since the plan was made (sha256 {then} then, {now} now): plan again and review the new plan", path.display())]
    #[diagnostic(code(dormant::apply::policy_changed))]
    PolicyChanged { path: PathBuf, then: String, now: String },
    /// Exit status 3.
    #[error("the plan is over its limits: {}; nothing was done (raise the limit in the policy, or narrow the rules, and plan again)", over.join(", "))]
    #[diagnostic(code(dormant::apply::over_limit))]
    OverLimit { over: Vec<String> },
    /// What the platform, as its connector is configured, will not do.
    #[error("{why}; nothing was done")]
    #[diagnostic(code(dormant::apply::refused))]
    Refused { why: String },
    #[error("the plan has {notices} notices to send and `{config}` has no `[notify]` channel: add one (see the README's \"Notices\"); nothing was done")]
    #[diagnostic(code(dormant::apply::no_channel))]
    NoChannel { notices: usize, config: String },
    #[error("apply asks before acting, and there is no terminal to ask on: add --yes to act without asking")]
    #[diagnostic(code(dormant::apply::no_terminal))]
    NoTerminal,
    #[error("cannot read the answer: {0}")]
    #[diagnostic(code(dormant::apply::no_terminal))]
    Answer(std::io::Error),
    /// The journal's key, read before anything is asked or done.
    #[error("{0}; nothing was done")]
    #[diagnostic(code(dormant::apply::journal_key))]
    JournalKey(crate::journal::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Journal(#[from] crate::journal::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Notify(#[from] crate::notify::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    File(#[from] crate::files::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Connector(#[from] crate::connector::Error),
    /// The users fetched again before acting.
    #[error("{0}\nnothing was done")]
    #[diagnostic(code(dormant::apply::refetch))]
    Refetch(crate::connector::Error),
}

impl Error {
    /// The exit status it ends apply with.
    pub fn exit(&self) -> crate::Exit {
        match self {
            Error::OverLimit { .. } => crate::Exit::OverLimit,
            _ => crate::Exit::Errors,
        }
    }
}
