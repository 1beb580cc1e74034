//! The built-in `file` connector: users from a CSV file (a header row, `;`
//! between set values), a JSON array of objects, or JSON lines. The output
//! of `fetch` is a JSON array in the same format, so a snapshot can be
//! planned again offline.

use super::record::{self, Cell};
use crate::fields::Field;
use crate::user::User;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Every problem found in a users file. Nothing is planned from a file with
/// problems, so they are all collected (up to a bound) rather than the first.
#[derive(Debug, Clone, PartialEq)]
pub struct UsersFileError {
    pub file: String,
    pub problems: Vec<Problem>,
}

/// One bad cell or row.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

/// How many problems are listed before the rest are only counted.
const MAX_PROBLEMS: usize = 20;

impl fmt::Display for UsersFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match p.line {
                Some(line) => write!(f, "{}:{line}: {}", self.file, p.message)?,
                None => write!(f, "{}: {}", self.file, p.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for UsersFileError {}

/// The users of a file, and what a plan records about it.
#[derive(Debug, Clone)]
pub struct UsersFile {
    pub users: Vec<User>,
    /// `file:PATH`
    pub source: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Reads a users file, in the format its name or first character says.
pub fn load(path: &Path) -> Result<UsersFile, UsersFileError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| UsersFileError {
        file: name.clone(),
        problems: vec![Problem {
            line: None,
            message: format!("cannot read the users file: {e}"),
        }],
    })?;
    let users = parse(&name, &bytes)?;
    Ok(UsersFile {
        users,
        source: format!("file:{name}"),
        sha256: sha256_hex(&bytes),
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses users from the bytes of a file named `name`.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Vec<User>, UsersFileError> {
    let mut problems = Problems::default();
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let users = match (first, ext.as_str()) {
        (_, "csv") => csv(bytes, &mut problems),
        (Some(b'['), _) => json_array(bytes, &mut problems),
        (Some(b'{'), _) => json_lines(bytes, &mut problems),
        (None, _) => Vec::new(),
        _ => csv(bytes, &mut problems),
    };
    let users = if problems.list.is_empty() {
        unique_ids(users, &mut problems)
    } else {
        users
    };
    if problems.list.is_empty() {
        return Ok(users);
    }
    let mut list = problems.list;
    if problems.more > 0 {
        list.push(Problem {
            line: None,
            message: format!("... and {} more problems", problems.more),
        });
    }
    Err(UsersFileError {
        file: name.to_string(),
        problems: list,
    })
}

#[derive(Default)]
struct Problems {
    list: Vec<Problem>,
    more: usize,
}

impl Problems {
    fn add(&mut self, line: Option<usize>, message: String) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem { line, message });
        } else {
            self.more += 1;
        }
    }
}

/// Two rows for one account would give it two decisions.
fn unique_ids(users: Vec<User>, problems: &mut Problems) -> Vec<User> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(users.len());
    for (row, u) in users.iter().enumerate() {
        if let Some(first) = seen.insert(u.id.as_str(), row + 1) {
            problems.add(
                None,
                format!("user {}: id `{}` appears again (first as user {first})", row + 1, u.id),
            );
        }
    }
    users
}

fn csv(bytes: &[u8], problems: &mut Problems) -> Vec<User> {
    let mut reader = ::csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.add(Some(1), format!("cannot read the header row: {e}"));
            return Vec::new();
        }
    };
    let mut columns: Vec<Field> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        match record::column(h) {
            Ok(f) if columns.contains(&f) => problems.add(Some(1), format!("column {}: `{h}` appears twice", i + 1)),
            Ok(f) => columns.push(f),
            Err(e) => problems.add(Some(1), format!("column {}: {e}", i + 1)),
        }
    }
    if !columns.contains(&Field::Id) {
        problems.add(
            Some(1),
            "there is no `id` column: every user needs the id the platform knows them by".into(),
        );
    }
    if !problems.list.is_empty() {
        return Vec::new();
    }
    let mut users = Vec::new();
    for row in reader.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                problems.add(line, format!("cannot read the row: {e}"));
                continue;
            }
        };
        let line = row.position().map(|p| p.line() as usize);
        let mut u = User::default();
        for (field, cell) in columns.iter().zip(row.iter()) {
            if let Err(e) = record::set(&mut u, field, Cell::Text(cell)) {
                problems.add(line, format!("column `{}`: {e}", field.name()));
            }
        }
        users.push(u);
    }
    users
}

fn json_array(bytes: &[u8], problems: &mut Problems) -> Vec<User> {
    let mut users = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = de::Deserializer::deserialize_seq(&mut de, ArrayVisitor { users: &mut users }).and_then(|()| de.end());
    if let Err(e) = result {
        problems.add(Some(e.line()), json_message(&e));
    }
    users
}

fn json_lines(bytes: &[u8], problems: &mut Problems) -> Vec<User> {
    let mut users = Vec::new();
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut de = serde_json::Deserializer::from_slice(line);
        let seed = UserSeed { row: n + 1 };
        match seed.deserialize(&mut de).and_then(|u| de.end().map(|()| u)) {
            Ok(u) => users.push(u),
            Err(e) => problems.add(Some(n + 1), json_message(&e)),
        }
    }
    users
}

/// serde_json's message without its trailing " at line L column C" (the
/// line is reported separately), keeping the column.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let base = text.rsplit_once(" at line ").map_or(text.as_str(), |(m, _)| m);
    format!("{base} (column {})", e.column())
}

struct ArrayVisitor<'a> {
    users: &'a mut Vec<User>,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of user objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(u) = seq.next_element_seed(UserSeed {
            row: self.users.len() + 1,
        })? {
            self.users.push(u);
        }
        Ok(())
    }
}

/// One user object; `row` is its position, for messages.
struct UserSeed {
    row: usize,
}

impl<'de> DeserializeSeed<'de> for UserSeed {
    type Value = User;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<User, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UserSeed {
    type Value = User;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user {} as an object of fields", self.row)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<User, A::Error> {
        let mut u = User::default();
        let mut has_id = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let field = record::column(&key).map_err(|e| de::Error::custom(format!("user {}: {e}", self.row)))?;
            has_id |= field == Field::Id;
            let fail = |e: String| de::Error::custom(format!("user {}, key `{key}`: {e}", self.row));
            match field {
                Field::Group | Field::Role | Field::Permission => map
                    .next_value_seed(SetSeed {
                        user: &mut u,
                        field: &field,
                    })?
                    .map_err(fail)?,
                _ => {
                    let cell: CellValue<'de> = map.next_value()?;
                    record::set(&mut u, &field, cell.as_cell()).map_err(fail)?;
                }
            }
        }
        if !has_id {
            return Err(de::Error::custom(format!(
                "user {} has no `id`: every user needs the id the platform knows them by",
                self.row
            )));
        }
        Ok(u)
    }
}

/// A scalar JSON value.
enum CellValue<'de> {
    Borrowed(&'de str),
    Owned(String),
    Null,
    Bool(bool),
    Number(f64),
}

impl CellValue<'_> {
    fn as_cell(&self) -> Cell<'_> {
        match self {
            CellValue::Borrowed(s) => Cell::Text(s),
            CellValue::Owned(s) => Cell::Text(s),
            CellValue::Null => Cell::Null,
            CellValue::Bool(b) => Cell::Bool(*b),
            CellValue::Number(n) => Cell::Number(*n),
        }
    }
}

impl<'de> de::Deserialize<'de> for CellValue<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CellValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number, true, false or null")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CellValue::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CellValue::Owned(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(CellValue::Owned(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(CellValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(CellValue::Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(CellValue::Number(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(CellValue::Number(v))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(CellValue::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(CellValue::Null)
            }
        }
        d.deserialize_any(V)
    }
}

/// A set field: an array of strings, a `;`-separated string, or null.
struct SetSeed<'u> {
    user: &'u mut User,
    field: &'u Field,
}

impl<'de> DeserializeSeed<'de> for SetSeed<'_> {
    /// A bad value inside is reported by the caller with its key.
    type Value = Result<(), String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SetSeed<'_> {
    type Value = Result<(), String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        record::empty_set(self.user, self.field);
        while let Some(item) = seq.next_element::<CellValue<'de>>()? {
            match item.as_cell() {
                Cell::Text(s) => {
                    if let Err(e) = record::push_set_item(self.user, self.field, s) {
                        return Ok(Err(e));
                    }
                }
                _ => return Ok(Err("a list holds strings only".to_string())),
            }
        }
        Ok(Ok(()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(record::set(self.user, self.field, Cell::Text(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(record::set(self.user, self.field, Cell::Null))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(record::set(self.user, self.field, Cell::Null))
    }
}

#[cfg(test)]
mod tests;
