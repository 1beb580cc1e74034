//! JSON users files: an array read a chunk at a time, and JSON lines. Each
//! object goes the fast way (`fast.rs`) when it can, and through serde,
//! which words every error, when it cannot.

use super::{Out, CHUNK};
use crate::connector::record::{self, Cell};
use crate::fields::Field;
use crate::limits::MAX_COLUMNS;
use crate::user::User;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, Read};

/// A JSON array of user objects, read a chunk at a time: each object is
/// found by scanning for its closing brace, then parsed on its own, so a bad
/// object is reported and the next one read.
pub(super) fn json_array(input: &mut impl Read, out: &mut Out<'_>) -> std::io::Result<()> {
    let mut s = Scanner::new(input);
    s.skip_ws()?;
    if s.peek()? != Some(b'[') {
        out.problems.add(
            Some(s.line),
            "expected `[`: a JSON users file is an array of objects".into(),
        );
        return Ok(());
    }
    s.pos += 1;
    let mut expect_comma = false;
    loop {
        s.skip_ws()?;
        match s.peek()? {
            Some(b']') => {
                s.pos += 1;
                s.skip_ws()?;
                if s.peek()?.is_some() {
                    out.problems
                        .add(Some(s.line), "unexpected text after the closing `]`".into());
                }
                return Ok(());
            }
            Some(b',') if expect_comma => {
                s.pos += 1;
                expect_comma = false;
            }
            Some(b'{') if !expect_comma => {
                let line = s.line;
                // The fast path reads the object where it lies and finds its
                // end; anything it leaves goes the long way below.
                if let Some(len) = out.parse_fast(s.text.get(s.pos..).unwrap_or("")) {
                    s.advance_to(s.pos + len);
                    out.accept(Some(line));
                    expect_comma = true;
                    continue;
                }
                let Some(end) = s.object_end()? else {
                    out.problems
                        .add(Some(line), "the file ends inside a user object".into());
                    return Ok(());
                };
                let text = s.bytes().get(s.pos..end).unwrap_or(&[]);
                let parsed = out.parse_json(text, false);
                // Where the object starts on its line, for columns on that line.
                let indent = s
                    .bytes()
                    .get(..s.pos)
                    .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
                    .map(|nl| s.pos - nl - 1);
                s.advance_to(end);
                match parsed {
                    Ok(()) => out.accept(Some(line)),
                    Err(e) => {
                        let shift = if e.line() == 1 { indent.unwrap_or(0) } else { 0 };
                        let message = json_message_at(&e, e.column() + shift);
                        out.problems.add(Some(line + e.line().saturating_sub(1)), message);
                        // Keep the numbering of the users that follow.
                        out.count += 1;
                    }
                }
                expect_comma = true;
            }
            None => {
                out.problems
                    .add(Some(s.line), "the file ends before the closing `]`".into());
                return Ok(());
            }
            Some(other) => {
                let what = if expect_comma {
                    "`,` or `]`"
                } else {
                    "a user object `{`"
                };
                out.problems
                    .add(Some(s.line), format!("expected {what}, found `{}`", char::from(other)));
                return Ok(());
            }
        }
    }
}

/// A growing window on the input, with the line number of `pos`.
struct Scanner<'r, R> {
    input: &'r mut R,
    /// The window, checked as UTF-8 once as it is read, so that the strings
    /// in it are sliced out of it with no check of their own.
    text: String,
    /// Where reads land before joining `text`; kept, so that no chunk is
    /// zeroed twice.
    chunk: Vec<u8>,
    /// The start of a character cut off at the end of the last read.
    carry: Vec<u8>,
    pos: usize,
    line: usize,
    eof: bool,
}

impl<'r, R: Read> Scanner<'r, R> {
    fn new(input: &'r mut R) -> Self {
        Scanner {
            input,
            text: String::new(),
            // Small at first, so that a small file costs little; it grows
            // to `CHUNK` as the file goes on.
            chunk: vec![0; 1 << 16],
            carry: Vec::new(),
            pos: 0,
            line: 1,
            eof: false,
        }
    }

    fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Reads more input; false at the end of the file. Text that is not
    /// UTF-8 is an error that names its line.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        // `pos` is always just after an ASCII character, or at the start.
        if self.pos > 0 && self.text.is_char_boundary(self.pos) {
            self.text.drain(..self.pos);
            self.pos = 0;
        }
        let n = read_full(self.input, &mut self.chunk)?;
        let read = self.chunk.get(..n).unwrap_or(&[]);
        let joined;
        let bytes = if self.carry.is_empty() {
            read
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), read].concat();
            joined.as_slice()
        };
        let valid = match std::str::from_utf8(bytes) {
            Ok(text) => {
                self.text.push_str(text);
                bytes.len()
            }
            Err(e) => {
                let valid = e.valid_up_to();
                self.text
                    .push_str(std::str::from_utf8(bytes.get(..valid).unwrap_or(&[])).unwrap_or(""));
                if e.error_len().is_some() || n == 0 {
                    let line = self.line + self.bytes().get(self.pos..).map_or(0, newlines);
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("line {line}: the text is not UTF-8; users files are UTF-8"),
                    ));
                }
                valid
            }
        };
        self.carry = bytes.get(valid..).unwrap_or(&[]).to_vec();
        if n == self.chunk.len() && self.chunk.len() < CHUNK {
            self.chunk.resize(self.chunk.len() * 2, 0);
        }
        self.eof = n == 0;
        Ok(n > 0)
    }

    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        if self.pos >= self.text.len() && !self.fill()? {
            return Ok(None);
        }
        Ok(self.bytes().get(self.pos).copied())
    }

    fn skip_ws(&mut self) -> std::io::Result<()> {
        while let Some(b) = self.peek()? {
            if !b.is_ascii_whitespace() {
                break;
            }
            self.line += usize::from(b == b'\n');
            self.pos += 1;
        }
        Ok(())
    }

    /// The end (exclusive) of the object starting at `pos`, reading more
    /// input as needed; `None` if the file ends first.
    fn object_end(&mut self) -> std::io::Result<Option<usize>> {
        loop {
            if let Some(end) = object_end(self.bytes().get(self.pos..).unwrap_or(&[])) {
                return Ok(Some(self.pos + end));
            }
            // Incomplete: read more and scan the object again from its start.
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn advance_to(&mut self, end: usize) {
        self.line += self.bytes().get(self.pos..end).map_or(0, newlines);
        self.pos = end;
    }
}

/// The length of the JSON object or array at the start of `bytes`, if it
/// is complete.
fn object_end(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // Find the closing quote, stepping over escaped characters.
                i += 1;
                loop {
                    match *bytes.get(i)? {
                        b'"' => break,
                        b'\\' => i += 2,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// How many line feeds `bytes` has. Every byte of a users file passes
/// through here, so it is counted in bytes, a block at a time, which the
/// compiler does sixteen or more bytes to an instruction: counted straight
/// into a `usize`, each byte was widened to eight first.
fn newlines(bytes: &[u8]) -> usize {
    // At most 128 per block, so a `u8` holds a block's count.
    bytes
        .chunks(128)
        .map(|block| usize::from(block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>()))
        .sum()
}

/// Reads until `buf` is full or the input ends.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(buf.get_mut(n..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

pub(super) fn json_lines(input: &mut impl BufRead, out: &mut Out<'_>) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut n = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        n += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match out.parse_json(&line, true) {
            Ok(()) => out.accept(Some(n)),
            Err(e) => {
                out.problems.add(Some(n), json_message(&e));
                out.count += 1;
            }
        }
    }
}

/// serde_json's message without its trailing " at line L column C" (the
/// line is reported separately), keeping the column.
fn json_message(e: &serde_json::Error) -> String {
    json_message_at(e, e.column())
}

fn json_message_at(e: &serde_json::Error, column: usize) -> String {
    let text = e.to_string();
    let base = text.rsplit_once(" at line ").map_or(text.as_str(), |(m, _)| m);
    format!("{base} (column {column})")
}

/// One user object; `row` is its position, for messages.
pub(super) struct UserSeed<'k> {
    pub(super) row: usize,
    pub(super) keys: &'k mut Keys,
    /// Filled in place: a record is large, and moving it through the
    /// deserializer's frames costs more than parsing some of its fields.
    pub(super) user: &'k mut User,
}

/// The keys of the last object, in order, resolved to fields: the objects
/// of one file almost always repeat their keys in the same order, so each
/// key is then resolved by one comparison instead of a search. The keys
/// kept are those of the object being read up to the key resolved last,
/// and are all different: a key that is not the one kept at its place is
/// looked for among the fields before it, so that a key given twice in one
/// object is an error (serde would quietly keep the last value).
#[derive(Default)]
pub(in crate::connector) struct Keys {
    seen: Vec<(Box<str>, Field)>,
    /// The fields of `seen`, by field: where each is.
    fields: HashMap<Field, usize>,
}

impl Keys {
    /// The field of the key at place `at` of an object, the keys before it
    /// having been resolved. Nearly always the key kept at that place:
    /// one comparison, on the path of every key of a users file.
    #[inline]
    pub(in crate::connector) fn resolve(&mut self, at: usize, key: &str) -> Result<&Field, String> {
        if self.seen.get(at).is_none_or(|(k, _)| &**k != key) {
            self.learn(at, key)?;
        }
        self.seen
            .get(at)
            .map(|(_, f)| f)
            .ok_or_else(|| "internal error: key cache".to_string())
    }

    /// A key that is not the one kept at its place: resolved, and looked
    /// for among the fields before it.
    #[cold]
    #[inline(never)]
    fn learn(&mut self, at: usize, key: &str) -> Result<(), String> {
        if at >= MAX_COLUMNS {
            return Err(format!("a user has at most {MAX_COLUMNS} keys"));
        }
        let field = record::column(key).map_err(|e| e.to_string())?;
        for (_, gone) in self.seen.drain(at.min(self.seen.len())..) {
            self.fields.remove(&gone);
        }
        if let Some(first) = self.fields.get(&field).and_then(|&i| self.seen.get(i)) {
            return Err(if &*first.0 == key {
                format!("key `{key}` appears twice")
            } else {
                format!("key `{key}` gives `{field}` again, after `{}`", first.0)
            });
        }
        self.fields.insert(field.clone(), at);
        self.seen.push((key.into(), field));
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for UserSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UserSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user {} as an object of fields", self.row)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let u = self.user;
        let mut has_id = false;
        let mut at = 0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let field = self
                .keys
                .resolve(at, &key)
                .map_err(|e| de::Error::custom(format!("user {}: {e}", self.row)))?;
            at += 1;
            has_id |= *field == Field::Id;
            let fail = |e: record::CellError| de::Error::custom(format!("user {}, key `{key}`: {e}", self.row));
            match field {
                f if f.ty() == crate::fields::Type::Set => {
                    map.next_value_seed(SetSeed { user: &mut *u, field })?.map_err(fail)?
                }
                _ => {
                    let cell: CellValue<'de> = map.next_value()?;
                    record::set(u, field, cell.as_cell()).map_err(fail)?;
                }
            }
        }
        if !has_id {
            return Err(de::Error::custom(format!(
                "user {} has no `id`: every user needs the id the platform knows them by",
                self.row
            )));
        }
        Ok(())
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
    type Value = Result<(), record::CellError>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SetSeed<'_> {
    type Value = Result<(), record::CellError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        record::empty_set(self.user, self.field);
        let mut result = Ok(());
        loop {
            if result.is_err() {
                // The rest of the list is read past, so that the problem
                // reported is this one, not what serde finds after it.
                if seq.next_element::<de::IgnoredAny>()?.is_none() {
                    break;
                }
                continue;
            }
            let Some(item) = seq.next_element::<CellValue<'de>>()? else {
                break;
            };
            result = match item.as_cell() {
                Cell::Text(s) => record::push_set_item(self.user, self.field, s),
                other => Err(record::CellError::NotWords {
                    field: self.field.name(),
                    holds: match other {
                        Cell::Number(_) => "a number",
                        Cell::Bool(_) => "true or false",
                        _ => "null",
                    },
                    fix: match other {
                        Cell::Number(n) => format!("write it as text, \"{n}\""),
                        Cell::Bool(b) => format!("write it as text, \"{b}\""),
                        _ => "leave it out".to_string(),
                    },
                }),
            };
        }
        Ok(result)
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

/// The serde path alone, for tests of the fast path.
#[cfg(test)]
pub(in crate::connector) fn serde_user(text: &[u8]) -> Option<User> {
    let mut user = User::default();
    let mut keys = Keys::default();
    let seed = UserSeed {
        row: 1,
        keys: &mut keys,
        user: &mut user,
    };
    let mut de = serde_json::Deserializer::from_slice(text);
    seed.deserialize(&mut de).and_then(|()| de.end()).ok().map(|()| user)
}

#[cfg(test)]
mod tests {
    use super::newlines;

    #[test]
    fn counts_line_feeds_across_blocks() {
        assert_eq!(newlines(b""), 0);
        assert_eq!(newlines(b"a\nb\r\n"), 2);
        // Every byte a line feed, past many blocks and not a whole number
        // of them: no block's count overflows.
        assert_eq!(newlines(&[b'\n'; 1000]), 1000);
        let mixed: Vec<u8> = (0..1000).map(|i| if i % 3 == 0 { b'\n' } else { b'x' }).collect();
        assert_eq!(newlines(&mixed), 334);
    }
}
