//! `enrich` files (SPEC section 5): a CSV or JSON file in the users-file
//! format that fills in fields a platform does not report (Bevy and Metric
//! Insights have no last login, say). Rows join users on `id`, `username`
//! or `email`, the first of those the file has, ignoring case.
//!
//! An enrich file only fills in: a field the platform reported keeps the
//! platform's value, and a field neither knows stays *unknown*.

use super::record::{self, Cell};
use crate::fields::Field;
use crate::user::{Known, User};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// A bad enrich file: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("cannot read enrich file `{file}`: {cause}")]
    #[diagnostic(code(dormant::enrich::unreadable))]
    Unreadable { file: String, cause: String },
    #[error("{file}: an enrich file needs an `id`, `username` or `email` column to join users on")]
    #[diagnostic(code(dormant::enrich::no_join_column))]
    NoJoinColumn { file: String },
    #[error("{file}:{line}: no `{key}` to join on")]
    #[diagnostic(code(dormant::enrich::no_key), help("give every row the column the file joins on"))]
    NoKey { file: String, line: usize, key: Field },
    #[error("{file}:{line}: `{key}` is empty")]
    #[diagnostic(code(dormant::enrich::empty_key))]
    EmptyKey { file: String, line: usize, key: Field },
    #[error("{file}:{line}: `{key}` `{value}` appears again (first on line {first})")]
    #[diagnostic(code(dormant::enrich::duplicate_key), help("keep one row per user"))]
    DuplicateKey {
        file: String,
        line: usize,
        key: Field,
        value: String,
        first: usize,
    },
    /// A column name that is no field.
    #[error("{file}:{line}: {error}")]
    #[diagnostic(code(dormant::enrich::column))]
    Column {
        file: String,
        line: usize,
        /// Already in the message: not a `source`, so that it prints once.
        error: Box<record::CellError>,
    },
    /// A value its field cannot take.
    #[error("{file}:{line}: column `{column}`: {error}")]
    #[diagnostic(code(dormant::enrich::cell))]
    Cell {
        file: String,
        line: usize,
        column: String,
        /// Already in the message: not a `source`, so that it prints once.
        error: Box<record::CellError>,
    },
    /// CSV that does not parse, or JSON that does not (`line` for JSON lines).
    #[error("{file}{}: {cause}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    #[diagnostic(code(dormant::enrich::syntax))]
    Syntax {
        file: String,
        line: Option<usize>,
        cause: String,
    },
    #[error("{file}: user {line} is not a JSON object")]
    #[diagnostic(code(dormant::enrich::not_an_object))]
    NotAnObject { file: String, line: usize },
    #[error("{file}: user {line}: `{key}` is an object")]
    #[diagnostic(code(dormant::enrich::object_value))]
    ObjectValue { file: String, line: usize, key: String },
}

/// What an enrich file did, for the message after a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enriched {
    pub file: String,
    pub matched: usize,
    /// Rows that matched no user.
    pub unmatched: usize,
}

/// One row: its line, and its cells by field.
struct Row {
    line: usize,
    cells: Vec<(Field, String, CellValue)>,
}

enum CellValue {
    Text(String),
    Null,
    Bool(bool),
    Number(f64),
}

impl CellValue {
    fn cell(&self) -> Cell<'_> {
        match self {
            CellValue::Text(s) => Cell::Text(s),
            CellValue::Null => Cell::Null,
            CellValue::Bool(b) => Cell::Bool(*b),
            CellValue::Number(n) => Cell::Number(*n),
        }
    }
}

/// The fields an enrich file supplies (its columns), for `check --connector`.
pub fn columns(path: &Path) -> Result<Vec<Field>, Error> {
    let rows = read(path)?;
    let mut fields: Vec<Field> = Vec::new();
    for f in rows.iter().flat_map(|r| r.cells.iter().map(|(f, _, _)| f)) {
        if !fields.contains(f) {
            fields.push(f.clone());
        }
    }
    Ok(fields)
}

/// Fills in the users' unknown fields from an enrich file.
pub fn apply(path: &Path, users: &mut [User]) -> Result<Enriched, Error> {
    let name = path.display().to_string();
    let rows = read(path)?;
    let key = [Field::Id, Field::Username, Field::Email]
        .into_iter()
        .find(|k| rows.iter().any(|r| r.cells.iter().any(|(f, _, _)| f == k)))
        .ok_or_else(|| Error::NoJoinColumn { file: name.clone() })?;
    let user_key = |u: &User| -> Option<String> {
        match key {
            Field::Id => Some(u.id.as_str().to_lowercase()),
            Field::Username => u.username.as_deref().map(str::to_lowercase),
            _ => u.email.as_deref().map(str::to_lowercase),
        }
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, u) in users.iter().enumerate() {
        if let Some(k) = user_key(u) {
            index.insert(k, i);
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let (mut matched, mut unmatched) = (0, 0);
    for row in &rows {
        let Some((_, _, value)) = row.cells.iter().find(|(f, _, _)| *f == key) else {
            return Err(Error::NoKey {
                file: name,
                line: row.line,
                key,
            });
        };
        let k = match value {
            CellValue::Text(s) => s.trim().to_lowercase(),
            CellValue::Number(n) => n.to_string(),
            _ => {
                return Err(Error::EmptyKey {
                    file: name,
                    line: row.line,
                    key,
                })
            }
        };
        if let Some(first) = seen.insert(k.clone(), row.line) {
            return Err(Error::DuplicateKey {
                file: name,
                line: row.line,
                key,
                value: k,
                first,
            });
        }
        let Some(u) = index.get(&k).and_then(|&i| users.get_mut(i)) else {
            unmatched += 1;
            continue;
        };
        matched += 1;
        let mut from = User::default();
        for (field, column, value) in &row.cells {
            if matches!(field, Field::Id | Field::Username | Field::Email) && *field == key {
                continue;
            }
            record::set(&mut from, field, value.cell()).map_err(|error| Error::Cell {
                file: name.clone(),
                line: row.line,
                column: column.clone(),
                error: Box::new(error),
            })?;
        }
        fill(u, from);
    }
    Ok(Enriched {
        file: name,
        matched,
        unmatched,
    })
}

/// Copies into `u` what it does not know and `from` does.
fn fill(u: &mut User, from: User) {
    fn opt<T>(to: &mut Option<T>, from: Option<T>) {
        if to.is_none() {
            *to = from;
        }
    }
    fn known<T>(to: &mut Known<T>, from: Known<T>) {
        if matches!(to, Known::Unknown) {
            *to = from;
        }
    }
    opt(&mut u.username, from.username);
    opt(&mut u.email, from.email);
    opt(&mut u.name, from.name);
    opt(&mut u.status, from.status);
    opt(&mut u.joined, from.joined);
    known(&mut u.last_login, from.last_login);
    known(&mut u.last_activity, from.last_activity);
    opt(&mut u.group, from.group);
    opt(&mut u.group_name, from.group_name);
    opt(&mut u.deactivated, from.deactivated);
    opt(&mut u.role, from.role);
    opt(&mut u.permission, from.permission);
    opt(&mut u.is_admin, from.is_admin);
    opt(&mut u.is_service, from.is_service);
    for (name, n) in from.activity {
        if u.activity(&name).is_none() {
            u.activity.push((name, n));
        }
    }
    for (name, a) in from.attr {
        if u.attr(&name).is_none() {
            u.attr.push((name, a));
        }
    }
}

fn read(path: &Path) -> Result<Vec<Row>, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Unreadable {
        file: name.clone(),
        cause: e.to_string(),
    })?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("jsonl"))
        || text.trim_start().starts_with(['[', '{']);
    if json {
        json_rows(&name, &text)
    } else {
        csv_rows(&name, &text)
    }
}

fn resolve(name: &str, column: &str, line: usize) -> Result<Field, Error> {
    record::column(column).map_err(|error| Error::Column {
        file: name.to_string(),
        line,
        error: Box::new(error),
    })
}

/// A file that does not parse, at a line when it says.
fn syntax(name: &str, line: Option<usize>, cause: impl std::fmt::Display) -> Error {
    Error::Syntax {
        file: name.to_string(),
        line,
        cause: cause.to_string(),
    }
}

fn csv_rows(name: &str, text: &str) -> Result<Vec<Row>, Error> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| syntax(name, None, e))?.clone();
    let fields = headers
        .iter()
        .map(|h| resolve(name, h, 1))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| syntax(name, None, e))?;
        let line = record.position().map_or(i + 2, |p| p.line() as usize);
        let cells = fields
            .iter()
            .zip(headers.iter())
            .zip(record.iter())
            .map(|((f, h), v)| (f.clone(), h.to_string(), CellValue::Text(v.to_string())))
            .collect();
        rows.push(Row { line, cells });
    }
    Ok(rows)
}

fn json_rows(name: &str, text: &str) -> Result<Vec<Row>, Error> {
    let objects: Vec<(usize, Value)> = if text.trim_start().starts_with('[') {
        let all: Vec<Value> = serde_json::from_str(text).map_err(|e| syntax(name, None, e))?;
        all.into_iter().enumerate().map(|(i, v)| (i + 1, v)).collect()
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map(|v| (i + 1, v))
                    .map_err(|e| syntax(name, Some(i + 1), e))
            })
            .collect::<Result<_, _>>()?
    };
    objects
        .into_iter()
        .map(|(line, v)| {
            let Value::Object(map) = v else {
                return Err(Error::NotAnObject {
                    file: name.to_string(),
                    line,
                });
            };
            let cells = map
                .into_iter()
                .map(|(k, v)| {
                    let field = resolve(name, &k, line)?;
                    let value = match v {
                        Value::String(s) => CellValue::Text(s),
                        Value::Null => CellValue::Null,
                        Value::Bool(b) => CellValue::Bool(b),
                        Value::Number(n) => CellValue::Number(n.as_f64().unwrap_or(f64::NAN)),
                        Value::Array(a) => CellValue::Text(
                            a.iter()
                                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                                .collect::<Vec<_>>()
                                .join(";"),
                        ),
                        Value::Object(_) => {
                            return Err(Error::ObjectValue {
                                file: name.to_string(),
                                line,
                                key: k,
                            })
                        }
                    };
                    Ok((field, k, value))
                })
                .collect::<Result<_, Error>>()?;
            Ok(Row { line, cells })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;

    fn users() -> Vec<User> {
        vec![
            User {
                id: "1".into(),
                email: Some("Ana@Example.org".into()),
                last_login: Known::Value(parse_time("2026-01-01").unwrap()),
                ..User::default()
            },
            User {
                id: "2".into(),
                email: Some("bob@example.org".into()),
                ..User::default()
            },
        ]
    }

    #[test]
    fn fills_unknown_fields_joined_on_email() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logins.csv");
        std::fs::write(
            &path,
            "email,last_login,is_service\nana@example.org,2025-01-01,false\nBOB@example.org,,true\nzed@example.org,2025-01-01,\n",
        )
        .unwrap();
        let mut users = users();
        let e = apply(&path, &mut users).unwrap();
        assert_eq!((e.matched, e.unmatched), (2, 1));
        // The platform's own value wins; what it did not know is filled in.
        assert_eq!(users[0].last_login.value(), parse_time("2026-01-01"));
        assert_eq!(users[0].is_service, Some(false));
        assert_eq!(users[1].last_login, Known::Never);
        assert_eq!(users[1].is_service, Some(true));
        assert_eq!(
            columns(&path).unwrap(),
            [Field::Email, Field::LastLogin, Field::IsService]
        );
    }

    #[test]
    fn json_files_join_on_id_and_errors_name_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.json");
        std::fs::write(&path, r#"[{"id": "2", "activity.posts": 4}]"#).unwrap();
        let mut users = users();
        apply(&path, &mut users).unwrap();
        assert_eq!(users[1].activity("posts"), Some(4.0));
        std::fs::write(&path, r#"[{"id": "2", "last_login": "soon"}]"#).unwrap();
        let e = apply(&path, &mut users).unwrap_err().to_string();
        assert!(e.contains("e.json:1: column `last_login`: `soon` is not a time"), "{e}");
        std::fs::write(&path, r#"[{"name": "x"}]"#).unwrap();
        assert!(apply(&path, &mut users)
            .unwrap_err()
            .to_string()
            .contains("needs an `id`, `username` or `email` column"));
        std::fs::write(&path, "id,id\n1,1\n").unwrap();
        let csv = dir.path().join("d.csv");
        std::fs::write(&csv, "id,last_login\n1,2025-01-01\n1,2025-01-02\n").unwrap();
        assert!(apply(&csv, &mut users)
            .unwrap_err()
            .to_string()
            .contains("d.csv:3: `id` `1` appears again (first on line 2)"));
    }
}
