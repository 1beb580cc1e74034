//! Policy test cases: `NAME.tests.toml` beside `NAME.policy`. Each case is a
//! user (fields as in the user record), an optional as-of and notices, and
//! the expected action and, optionally, rule.
//!
//! ```toml
//! as_of = "2026-11-23"                 # default for every case
//!
//! [[case]]
//! name = "an invitation never accepted goes after 90 days"
//! expect = "delete"
//! rule = "stale_invites"                # or "none", or "exempt"
//! user = { id = "u1", status = "invited", joined = "2026-01-01", last_login = "never" }
//! notices = [{ rule = "dormant", at = "2026-10-01" }]   # optional
//! ```

use crate::connector::record::{self, Cell};
use crate::decision::PlanAction;
use crate::fields::Field;
use crate::time::{self, Time};
use crate::user::User;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    as_of: Option<toml::Value>,
    #[serde(default)]
    case: Vec<RawCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    expect: String,
    rule: Option<String>,
    as_of: Option<toml::Value>,
    user: toml::Table,
    #[serde(default)]
    notices: Vec<RawNotice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotice {
    rule: String,
    at: toml::Value,
}

/// One test case, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub expect: PlanAction,
    /// `Some(None)` expects no rule to match.
    pub rule: Option<Option<String>>,
    pub as_of: Time,
    pub user: User,
    pub notices: Vec<(String, Time)>,
}

/// Why a tests file cannot be read. Its `Display` follows the file's name
/// and a colon: a line and column, or the case and the key.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("{}{message}", at.map(|(line, column)| format!("{line}:{column}: ")).unwrap_or_default())]
    #[diagnostic(code(dormant::tests::syntax))]
    Toml {
        at: Option<(usize, usize)>,
        message: String,
    },
    #[error("{problem}")]
    #[diagnostic(code(dormant::tests::case))]
    File { problem: Box<Problem> },
    #[error("case {number} (\"{name}\"): {problem}")]
    #[diagnostic(code(dormant::tests::case))]
    Case {
        number: usize,
        name: String,
        problem: Box<Problem>,
    },
}

/// What is wrong in a case, or at the top of the file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("`expect = \"{0}\"`: an action is keep, review, notify, wait, deactivate or delete")]
    Expect(String),
    #[error("no `as_of`: give one in the case or at the top of the file, so the case means the same tomorrow")]
    NoAsOf,
    #[error("`{0}` must be a date (2026-11-23) or an RFC 3339 time")]
    Instant(&'static str),
    /// A `user` key that is no column of the user record.
    #[error("user: {0}")]
    Column(record::CellError),
    /// A `user` value the field cannot take.
    #[error("user.{key}: {detail}")]
    Value { key: String, detail: ValueProblem },
}

/// Why a `user` value is not one the field takes.
#[derive(Debug, thiserror::Error)]
pub enum ValueProblem {
    #[error(transparent)]
    Cell(#[from] record::CellError),
    #[error("a list holds strings only")]
    NotStrings,
    #[error("a table is not a field value")]
    Table,
}

/// Reads the cases of a tests file. Errors name the case and the key.
pub fn load(text: &str, default_as_of: Option<Time>) -> Result<Vec<Case>, Error> {
    let file: File = toml::from_str(text).map_err(|e| Error::Toml {
        at: e.span().map(|s| crate::source::line_col(text, s.start)),
        message: e.message().to_string(),
    })?;
    let file_as_of = file
        .as_of
        .as_ref()
        .map(|v| instant(v, "as_of"))
        .transpose()
        .map_err(|problem| Error::File {
            problem: Box::new(problem),
        })?;
    file.case
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let name = raw.name.clone();
            case(raw, i, file_as_of.or(default_as_of)).map_err(|problem| Error::Case {
                number: i + 1,
                name,
                problem: Box::new(problem),
            })
        })
        .collect()
}

fn case(raw: RawCase, index: usize, as_of: Option<Time>) -> Result<Case, Problem> {
    let expect = PlanAction::parse(&raw.expect).ok_or_else(|| Problem::Expect(raw.expect.clone()))?;
    let as_of = match &raw.as_of {
        Some(v) => instant(v, "as_of")?,
        None => as_of.ok_or(Problem::NoAsOf)?,
    };
    let mut user = User {
        id: compact_str::format_compact!("case-{}", index + 1),
        ..User::default()
    };
    for (key, value) in &raw.user {
        let field = record::column(key).map_err(Problem::Column)?;
        set(&mut user, &field, value).map_err(|detail| Problem::Value {
            key: key.clone(),
            detail,
        })?;
    }
    let notices = raw
        .notices
        .iter()
        .map(|n| Ok((n.rule.clone(), instant(&n.at, "notices.at")?)))
        .collect::<Result<_, Problem>>()?;
    let rule = raw.rule.map(|r| if r == "none" { None } else { Some(r) });
    Ok(Case {
        name: raw.name,
        expect,
        rule,
        as_of,
        user,
        notices,
    })
}

fn set(user: &mut User, field: &Field, value: &toml::Value) -> Result<(), ValueProblem> {
    let datetime;
    let cell = match value {
        toml::Value::String(s) => Cell::Text(s),
        toml::Value::Integer(n) => Cell::Number(*n as f64),
        toml::Value::Float(n) => Cell::Number(*n),
        toml::Value::Boolean(b) => Cell::Bool(*b),
        toml::Value::Datetime(d) => {
            datetime = d.to_string();
            Cell::Text(&datetime)
        }
        toml::Value::Array(items) => {
            record::empty_set(user, field);
            return items.iter().try_for_each(|item| match item {
                toml::Value::String(s) => Ok(record::push_set_item(user, field, s)?),
                _ => Err(ValueProblem::NotStrings),
            });
        }
        toml::Value::Table(_) => return Err(ValueProblem::Table),
    };
    Ok(record::set(user, field, cell)?)
}

fn instant(v: &toml::Value, key: &'static str) -> Result<Time, Problem> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => String::new(),
    };
    time::parse_time(&text).ok_or(Problem::Instant(key))
}
