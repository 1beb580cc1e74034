//! What goes wrong on the connector side, and what it warns about. A fetch
//! or a connection fails with one [`Error`]; what a fetch notices but can
//! live with (a `user` that names nobody, enrich rows that matched no one)
//! comes back as [`Warning`]s beside the users, for `cmd/` to print in the
//! error format asked for: no connector prints.

use super::enrich;
use super::file::UsersFileError;
use crate::http::{HttpError, SetupError};
use crate::user::User;
use std::path::PathBuf;

/// Why a connector could not connect, fetch or keep its request count.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    /// A request failed, or the platform answered what dormant cannot read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Http(#[from] HttpError),

    /// A secret, a credential, the runtime or the HTTP stack.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] SetupError),

    /// The users file of a `file` connector.
    #[error(transparent)]
    #[diagnostic(transparent)]
    UsersFile(#[from] UsersFileError),

    /// One of the connector's enrich files.
    #[error("connector `{connector}`: {error}")]
    #[diagnostic(code(dormant::connector::enrich))]
    Enrich {
        connector: String,
        /// Already in the message: not a `source`, so that it prints once.
        error: Box<enrich::Error>,
    },

    /// The same user twice in one list.
    #[error(
        "connector `{connector}` listed user `{user}` twice: the list changed while it was read; nothing was planned, run again"
    )]
    #[diagnostic(code(dormant::connector::listed_twice))]
    ListedTwice { connector: String, user: String },

    /// A platform dormant only reads from.
    #[error("connector `{connector}`: dormant cannot act on `{kind}` users (it acts through {acting})")]
    #[diagnostic(
        code(dormant::connector::cannot_act),
        help("plan from this connector, and act on its users in the platform itself")
    )]
    CannotAct {
        connector: String,
        kind: &'static str,
        /// The platforms dormant acts through, as a list in words.
        acting: String,
    },

    /// A platform this version of dormant knows by name only.
    #[error(
        "connector `{connector}`: the `{kind}` platform is not supported by this version of dormant (supported: {supported})"
    )]
    #[diagnostic(code(dormant::connector::unsupported))]
    Unsupported {
        connector: String,
        kind: &'static str,
        supported: String,
    },

    /// Docebo's password-grant keys, one without the other.
    #[error(
        "connector `{connector}` (docebo): `username` and `password_env` go together (the password grant), or neither (the client_credentials grant)"
    )]
    #[diagnostic(code(dormant::connector::grant_keys))]
    GrantKeys { connector: String },

    /// Metric Insights with neither a token nor an External Application.
    #[error(
        "connector `{connector}` (metric_insights) needs `token_env` (a personal API token, with `user` naming its owner), or `application_id`, `application_key_env` and `user` (an External Application)"
    )]
    #[diagnostic(code(dormant::connector::no_credentials))]
    NoCredentials { connector: String },

    /// The request count of earlier runs could not be read.
    #[error("cannot read `{}`: {cause}", path.display())]
    #[diagnostic(code(dormant::connector::usage_unreadable))]
    UsageUnreadable { path: PathBuf, cause: String },

    /// The request count is not the JSON dormant wrote.
    #[error(
        "`{}` is damaged ({cause}): it counts requests against `requests_per_day`; fix it or remove it",
        path.display()
    )]
    #[diagnostic(code(dormant::connector::usage_damaged))]
    UsageDamaged { path: PathBuf, cause: String },

    /// The request count could not be locked or written back.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Usage(#[from] crate::files::Error),
}

/// A user the platform sent that dormant cannot read: the fetch fails
/// rather than plan without them (it becomes an `HttpError::Shape` naming
/// the endpoint).
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum Unreadable {
    #[error("a user without an `{key}`: {json}")]
    #[diagnostic(code(dormant::connector::user_without_id))]
    NoId {
        key: &'static str,
        /// The start of the user's JSON.
        json: String,
    },
    #[error("a user without a `username`: {json}")]
    #[diagnostic(code(dormant::connector::user_without_username))]
    NoUsername { json: String },
    #[error("user `{user}`: `{key}` is not a time: {value}")]
    #[diagnostic(code(dormant::connector::not_a_time))]
    NotATime {
        user: String,
        key: String,
        /// The value as sent: text in backticks, anything else as JSON.
        value: String,
    },
    #[error("user `{user}`: `{key}` is not a date: {value}")]
    #[diagnostic(code(dormant::connector::not_a_date))]
    NotADate { user: String, key: String, value: String },
}

impl Unreadable {
    /// The start of a user's JSON, enough to find them by.
    pub fn json(v: &serde_json::Value) -> String {
        v.to_string().chars().take(120).collect()
    }

    /// A value as a message shows it: text in backticks, anything else as JSON.
    pub fn shown(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => format!("`{s}`"),
            other => other.to_string(),
        }
    }

    /// A time that does not read, given as text.
    pub fn not_a_time(user: &str, key: &str, text: &str) -> Unreadable {
        Unreadable::NotATime {
            user: user.to_string(),
            key: key.to_string(),
            value: format!("`{text}`"),
        }
    }
}

/// What a fetch or an action noticed and went on despite: printed as a
/// warning, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// A stable code, `dormant::connector::…`.
    pub code: &'static str,
    pub message: String,
}

impl Warning {
    pub fn new(code: &'static str, message: String) -> Warning {
        Warning { code, message }
    }
}

/// Every user of a connector, and what the fetch warned about.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub users: Vec<User>,
    pub warnings: Vec<Warning>,
}

impl Fetched {
    /// Users fetched without a warning (yet).
    pub fn new(users: Vec<User>) -> Fetched {
        Fetched {
            users,
            warnings: Vec::new(),
        }
    }
}
