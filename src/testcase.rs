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

/// Reads the cases of a tests file. Errors name the case and the key.
pub fn load(text: &str, default_as_of: Option<Time>) -> Result<Vec<Case>, String> {
    let file: File = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| crate::source::line_col(text, s.start));
        match at {
            Some((line, col)) => format!("{line}:{col}: {}", e.message()),
            None => e.message().to_string(),
        }
    })?;
    let file_as_of = file.as_of.as_ref().map(|v| instant(v, "as_of")).transpose()?;
    file.case
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let label = format!("case {} (\"{}\")", i + 1, raw.name);
            case(raw, i, file_as_of.or(default_as_of)).map_err(|e| format!("{label}: {e}"))
        })
        .collect()
}

fn case(raw: RawCase, index: usize, as_of: Option<Time>) -> Result<Case, String> {
    let expect = PlanAction::parse(&raw.expect).ok_or_else(|| {
        format!(
            "`expect = \"{}\"`: an action is keep, review, notify, wait, deactivate or delete",
            raw.expect
        )
    })?;
    let as_of = match &raw.as_of {
        Some(v) => instant(v, "as_of")?,
        None => as_of
            .ok_or("no `as_of`: give one in the case or at the top of the file, so the case means the same tomorrow")?,
    };
    let mut user = User {
        id: compact_str::format_compact!("case-{}", index + 1),
        ..User::default()
    };
    for (key, value) in &raw.user {
        let field = record::column(key).map_err(|e| format!("user: {e}"))?;
        set(&mut user, &field, value).map_err(|e| format!("user.{key}: {e}"))?;
    }
    let notices = raw
        .notices
        .iter()
        .map(|n| Ok((n.rule.clone(), instant(&n.at, "notices.at")?)))
        .collect::<Result<_, String>>()?;
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

fn set(user: &mut User, field: &Field, value: &toml::Value) -> Result<(), String> {
    match value {
        toml::Value::String(s) => record::set(user, field, Cell::Text(s)).map_err(|e| e.to_string()),
        toml::Value::Integer(n) => record::set(user, field, Cell::Number(*n as f64)).map_err(|e| e.to_string()),
        toml::Value::Float(n) => record::set(user, field, Cell::Number(*n)).map_err(|e| e.to_string()),
        toml::Value::Boolean(b) => record::set(user, field, Cell::Bool(*b)).map_err(|e| e.to_string()),
        toml::Value::Datetime(d) => record::set(user, field, Cell::Text(&d.to_string())).map_err(|e| e.to_string()),
        toml::Value::Array(items) => {
            record::empty_set(user, field);
            items.iter().try_for_each(|item| match item {
                toml::Value::String(s) => record::push_set_item(user, field, s).map_err(|e| e.to_string()),
                _ => Err("a list holds strings only".to_string()),
            })
        }
        toml::Value::Table(_) => Err("a table is not a field value".to_string()),
    }
}

fn instant(v: &toml::Value, key: &str) -> Result<Time, String> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => String::new(),
    };
    time::parse_time(&text).ok_or_else(|| format!("`{key}` must be a date (2026-11-23) or an RFC 3339 time"))
}
