//! Turning one column or key of a users file into a field of the user
//! record: the rules shared by CSV and JSON, so that both read the same
//! way (SPEC section 5, "The users file").

use crate::fields::{Field, FIELDS, PREFIXES};
use crate::limits::MAX_COLUMN_NAME;
use crate::time::{self, Time};
use crate::user::{Attr, Deactivated, Known, Set, Status, Text, User};

/// Resolves a column name; the error says what is wrong and how to fix it.
pub fn column(name: &str) -> Result<Field, String> {
    let name = name.trim();
    if name.chars().nth(MAX_COLUMN_NAME).is_some() {
        return Err(format!(
            "a column name has at most {MAX_COLUMN_NAME} characters, and this one has {}: `{}`",
            name.chars().count(),
            preview(name)
        ));
    }
    match Field::lookup(name) {
        Some(Field::NeverLoggedIn | Field::Inactive | Field::HasActivity) => Err(format!(
            "column `{name}` is derived from the others (last_login, joined, activity.*); remove it"
        )),
        Some(f) => Ok(f),
        None => {
            let names = FIELDS.iter().map(|(n, _)| *n).chain(PREFIXES.iter().copied());
            let hint = crate::suggest::did_you_mean(name, names)
                .unwrap_or_else(|| "columns are the user record's fields, `activity.NAME` or `attr.NAME`".to_string());
            Err(format!("unknown column `{name}`: {hint}"))
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
pub fn set(u: &mut User, field: &Field, cell: Cell<'_>) -> Result<(), String> {
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
            return Err(format!("`{}` is derived and cannot be set", field.name()))
        }
    }
    Ok(())
}

/// Adds one element of a JSON array to a set field.
pub fn push_set_item(u: &mut User, field: &Field, item: &str) -> Result<(), String> {
    let set = match field {
        Field::Group => &mut u.group,
        Field::GroupName => &mut u.group_name,
        Field::Role => &mut u.role,
        Field::Permission => &mut u.permission,
        other => return Err(format!("`{}` does not take a list", other.name())),
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

fn id(cell: Cell<'_>) -> Result<Text, String> {
    match cell {
        Cell::Text(s) if !trim(s).is_empty() => Ok(trim(s).into()),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(compact_str::format_compact!("{}", n as i64)),
        other => Err(format!("{} is not an id: every user needs a non-empty id", show(other))),
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

fn status(cell: Cell<'_>) -> Result<Option<Status>, String> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Text(s) if s.trim().is_empty() => Ok(None),
        Cell::Text(s) => Status::parse(s)
            .map(Some)
            .ok_or_else(|| format!("`{s}` is not a status (active, invited, disabled or pending_delete)")),
        other => Err(format!(
            "{} is not a status (active, invited, disabled or pending_delete)",
            show(other)
        )),
    }
}

fn time_of(cell: Cell<'_>) -> Result<Time, String> {
    match cell {
        Cell::Text(s) => time::parse_time(s),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "{} is not a time (RFC 3339, such as 2024-01-31T08:00:00Z, or YYYY-MM-DD)",
            show(cell)
        )
    })
}

/// `joined` (and `deactivated`) is always a time; missing means unknown,
/// never "never".
fn joined(cell: Cell<'_>) -> Result<Option<Time>, String> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Text(s) if s.trim().is_empty() => Ok(None),
        c => time_of(c).map(Some),
    }
}

/// `last_login` / `last_activity`: empty or null is *never*; the words
/// `never` and `unknown` say so explicitly.
fn event(cell: Cell<'_>) -> Result<Known<Time>, String> {
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
fn set_cell(cell: Cell<'_>) -> Result<Option<Set>, String> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Text(s) => Ok(Some(
            s.split(';')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(Text::from)
                .collect(),
        )),
        other => Err(format!("{} is not a list: separate values with `;`", show(other))),
    }
}

fn boolean(cell: Cell<'_>) -> Result<Option<bool>, String> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Bool(b) => Ok(Some(b)),
        Cell::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "yes" | "y" | "1" => Ok(Some(true)),
            "false" | "no" | "n" | "0" => Ok(Some(false)),
            _ => Err(format!("`{s}` is not true or false")),
        },
        Cell::Number(n) if n == 0.0 || n == 1.0 => Ok(Some(n == 1.0)),
        other => Err(format!("{} is not true or false", show(other))),
    }
}

fn number(cell: Cell<'_>) -> Result<Option<f64>, String> {
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
            .ok_or_else(|| format!("`{s}` is not a number")),
        other => Err(format!("{} is not a number", show(other))),
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
