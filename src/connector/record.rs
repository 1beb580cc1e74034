//! Turning one column or key of a users file into a field of the user
//! record: the rules shared by CSV and JSON, so that both read the same
//! way (SPEC section 5, "The users file").

use crate::fields::{Field, FIELDS, PREFIXES};
use crate::limits::MAX_COLUMN_NAME;
use crate::time::{self, Time};
use crate::user::{Attr, Deactivated, Known, Set, Status, Text, User};

/// A column name or a cell that does not make a field of the user record.
/// It names the problem with the name or the value; the caller adds the
/// file, line and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum CellError {
    #[error("a column name has at most {MAX_COLUMN_NAME} characters, and this one has {count}: `{preview}`")]
    #[diagnostic(code(dormant::record::column_too_long))]
    ColumnTooLong { count: usize, preview: String },
    /// A derived field given as a column.
    #[error("column `{name}` is derived, never read: it is {how}; remove it, and give {from} instead")]
    #[diagnostic(code(dormant::record::derived_column))]
    DerivedColumn {
        name: String,
        how: &'static str,
        /// The columns it is worked out from.
        from: String,
    },
    #[error("unknown column `{name}`: {hint}")]
    #[diagnostic(code(dormant::record::unknown_column))]
    UnknownColumn {
        name: String,
        /// A near name, or what columns there are.
        hint: String,
    },
    /// A derived field set directly (not through a column name).
    #[error("`{field}` is derived and cannot be set: set {from} instead")]
    #[diagnostic(code(dormant::record::derived))]
    Derived { field: Field, from: String },
    #[error("`{field}` does not take a list")]
    #[diagnostic(code(dormant::record::not_a_set))]
    NotASet { field: String },
    /// A list of words holding something else (JSON).
    #[error("`{field}` is a set of words, but this list holds {holds} where words are expected: {fix}")]
    #[diagnostic(code(dormant::record::not_words))]
    NotWords {
        field: String,
        holds: &'static str,
        fix: String,
    },
    #[error("{value} is not an id: every user needs a non-empty id")]
    #[diagnostic(code(dormant::record::not_an_id))]
    NotAnId {
        /// The value as a message shows it (`show`).
        value: String,
    },
    #[error("{value} is not a status (active, invited, disabled or pending_delete)")]
    #[diagnostic(code(dormant::record::not_a_status))]
    NotAStatus { value: String },
    #[error("{value} is not a time (RFC 3339, such as 2024-01-31T08:00:00Z, or YYYY-MM-DD)")]
    #[diagnostic(code(dormant::record::not_a_time))]
    NotATime { value: String },
    #[error("{value} is not a list: separate values with `;`")]
    #[diagnostic(code(dormant::record::not_a_list))]
    NotAList { value: String },
    #[error("{value} is not true or false")]
    #[diagnostic(code(dormant::record::not_a_bool))]
    NotABool { value: String },
    #[error("{value} is not a number")]
    #[diagnostic(code(dormant::record::not_a_number))]
    NotANumber { value: String },
}

/// Resolves a column name; the error says what is wrong and how to fix it.
pub fn column(name: &str) -> Result<Field, CellError> {
    let name = name.trim();
    if name.chars().nth(MAX_COLUMN_NAME).is_some() {
        return Err(CellError::ColumnTooLong {
            count: name.chars().count(),
            preview: preview(name),
        });
    }
    match Field::lookup(name) {
        Some(f) => match f.derivation() {
            // A derived column would be a second, possibly contradicting,
            // answer to what dormant works out: say what feeds it instead.
            Some(d) => Err(CellError::DerivedColumn {
                name: name.to_string(),
                how: d.how,
                from: d.columns(),
            }),
            None => Ok(f),
        },
        None => {
            let names = FIELDS.iter().map(|(n, _)| *n).chain(PREFIXES.iter().copied());
            let hint = crate::suggest::did_you_mean(name, names)
                .unwrap_or_else(|| "columns are the user record's fields, `activity.NAME` or `attr.NAME`".to_string());
            Err(CellError::UnknownColumn {
                name: name.to_string(),
                hint,
            })
        }
    }
}

/// The start of a long text, for a message: enough to find it by.
pub fn preview(text: &str) -> String {
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

/// `s.trim()`, quicker for the usual cell that starts and ends with a
/// printable ASCII character and so has nothing to trim.
fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        [only] if only.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// A cell's value, whatever the file format.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// CSV text, or a JSON string.
    Text(&'a str),
    /// JSON `null`.
    Null,
    Bool(bool),
    Number(f64),
}

/// Sets a field of `u` from one cell. The error names the problem with the
/// value; the caller adds the file, line and column.
pub fn set(u: &mut User, field: &Field, cell: Cell<'_>) -> Result<(), CellError> {
    match field {
        Field::Id => u.id = id(cell)?,
        Field::Username => u.username = text(cell),
        Field::Email => u.email = text(cell),
        Field::Name => u.name = text(cell),
        Field::Source => u.source = text(cell),
        Field::Status => u.status = status(cell)?,
        Field::Joined => u.joined = joined(cell)?,
        Field::LastLogin => u.last_login = event(cell)?,
        Field::LastActivity => u.last_activity = event(cell)?,
        Field::Group => u.group = set_cell(cell)?,
        Field::GroupName => u.group_name = set_cell(cell)?,
        // Like `joined`, a time or unknown: nothing here means *never*.
        Field::Deactivated => u.deactivated = joined(cell)?.map(Deactivated::from_source),
        Field::Role => u.role = set_cell(cell)?,
        Field::Permission => u.permission = set_cell(cell)?,
        Field::IsAdmin => u.is_admin = boolean(cell)?,
        Field::IsService => u.is_service = boolean(cell)?,
        Field::Activity(name) => {
            if let Some(n) = number(cell)? {
                u.activity.retain(|(k, _)| k != name);
                u.activity.push((name.as_str().into(), n));
            }
        }
        Field::Attr(name) => {
            if let Some(a) = attr(cell) {
                u.attr.retain(|(k, _)| k != name);
                u.attr.push((name.as_str().into(), a));
            }
        }
        Field::NeverLoggedIn | Field::Inactive | Field::HasActivity => {
            let from = field.derivation().map(|d| d.columns()).unwrap_or_default();
            return Err(CellError::Derived {
                field: field.clone(),
                from,
            });
        }
    }
    Ok(())
}

/// Adds one element of a JSON array to a set field.
pub fn push_set_item(u: &mut User, field: &Field, item: &str) -> Result<(), CellError> {
    let set = match field {
        Field::Group => &mut u.group,
        Field::GroupName => &mut u.group_name,
        Field::Role => &mut u.role,
        Field::Permission => &mut u.permission,
        other => return Err(CellError::NotASet { field: other.name() }),
    };
    let item = trim(item);
    if !item.is_empty() {
        set.get_or_insert_with(Set::new).push(item.into());
    }
    Ok(())
}

/// Marks a set field as known and empty (an empty JSON array).
pub fn empty_set(u: &mut User, field: &Field) {
    match field {
        Field::Group => u.group = Some(u.group.take().unwrap_or_default()),
        Field::GroupName => u.group_name = Some(u.group_name.take().unwrap_or_default()),
        Field::Role => u.role = Some(u.role.take().unwrap_or_default()),
        Field::Permission => u.permission = Some(u.permission.take().unwrap_or_default()),
        _ => {}
    }
}

fn show(cell: Cell<'_>) -> String {
    match cell {
        Cell::Text(s) => format!("`{s}`"),
        Cell::Null => "null".to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Number(n) => n.to_string(),
    }
}

fn id(cell: Cell<'_>) -> Result<Text, CellError> {
    match cell {
        Cell::Text(s) if !trim(s).is_empty() => Ok(trim(s).into()),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(compact_str::format_compact!("{}", n as i64)),
        other => Err(CellError::NotAnId { value: show(other) }),
    }
}

fn text(cell: Cell<'_>) -> Option<Text> {
    match cell {
        Cell::Text(s) if !trim(s).is_empty() => Some(trim(s).into()),
        Cell::Number(n) => Some(compact_str::format_compact!("{n}")),
        Cell::Bool(b) => Some(if b { "true" } else { "false" }.into()),
        _ => None,
    }
}

fn status(cell: Cell<'_>) -> Result<Option<Status>, CellError> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Text(s) if s.trim().is_empty() => Ok(None),
        Cell::Text(s) => Status::parse(s)
            .map(Some)
            .ok_or_else(|| CellError::NotAStatus { value: show(cell) }),
        other => Err(CellError::NotAStatus { value: show(other) }),
    }
}

fn time_of(cell: Cell<'_>) -> Result<Time, CellError> {
    match cell {
        Cell::Text(s) => time::parse_time(s),
        _ => None,
    }
    .ok_or_else(|| CellError::NotATime { value: show(cell) })
}

/// `joined` (and `deactivated`) is always a time; missing means unknown,
/// never "never".
fn joined(cell: Cell<'_>) -> Result<Option<Time>, CellError> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Text(s) if s.trim().is_empty() => Ok(None),
        c => time_of(c).map(Some),
    }
}

/// `last_login` / `last_activity`: empty or null is *never*; the words
/// `never` and `unknown` say so explicitly.
fn event(cell: Cell<'_>) -> Result<Known<Time>, CellError> {
    match cell {
        Cell::Null => Ok(Known::Never),
        Cell::Text(s) => match s.trim() {
            "" => Ok(Known::Never),
            t if t.eq_ignore_ascii_case("never") => Ok(Known::Never),
            t if t.eq_ignore_ascii_case("unknown") => Ok(Known::Unknown),
            _ => time_of(cell).map(Known::Value),
        },
        c => time_of(c).map(Known::Value),
    }
}

/// A CSV set cell: values separated by `;`; empty is the empty set.
fn set_cell(cell: Cell<'_>) -> Result<Option<Set>, CellError> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Text(s) => Ok(Some(
            s.split(';')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(Text::from)
                .collect(),
        )),
        other => Err(CellError::NotAList { value: show(other) }),
    }
}

fn boolean(cell: Cell<'_>) -> Result<Option<bool>, CellError> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Bool(b) => Ok(Some(b)),
        Cell::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "yes" | "y" | "1" => Ok(Some(true)),
            "false" | "no" | "n" | "0" => Ok(Some(false)),
            _ => Err(CellError::NotABool { value: show(cell) }),
        },
        Cell::Number(n) if n == 0.0 || n == 1.0 => Ok(Some(n == 1.0)),
        other => Err(CellError::NotABool { value: show(other) }),
    }
}

fn number(cell: Cell<'_>) -> Result<Option<f64>, CellError> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Number(n) => Ok(Some(n)),
        Cell::Text(s) if s.trim().is_empty() => Ok(None),
        Cell::Text(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| CellError::NotANumber { value: show(cell) }),
        other => Err(CellError::NotANumber { value: show(other) }),
    }
}

fn attr(cell: Cell<'_>) -> Option<Attr> {
    match cell {
        Cell::Null => None,
        Cell::Text(s) if s.trim().is_empty() => None,
        Cell::Text(s) => Some(Attr::Text(s.to_string())),
        Cell::Bool(b) => Some(Attr::Bool(b)),
        Cell::Number(n) => Some(Attr::Number(n)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trim_is_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "ab",
            "a b",
            "\u{a0}a",
            "a\u{2003}",
            "\u{3000}",
            "é",
            "éa",
            "\ta\n",
            "a\u{85}",
        ] {
            assert_eq!(super::trim(s), s.trim(), "{s:?}");
        }
    }
}
