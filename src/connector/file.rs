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
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

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

/// What reading a whole file established, once it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub count: usize,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Users are handed on in batches of this many.
const BATCH: usize = 4096;
/// The JSON reader's buffer grows by this much at a time.
const CHUNK: usize = 4 << 20;

/// Reads a users file whole (for commands that look users up).
pub fn load(path: &Path) -> Result<UsersFile, UsersFileError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| cannot_read(&name, &e))?;
    let mut users = Vec::new();
    let finished = read(&name, file, &mut |batch| users.extend(batch))?;
    Ok(UsersFile {
        users,
        source: format!("file:{name}"),
        sha256: finished.sha256,
    })
}

/// Reads a users file on a thread of its own, handing batches of users over
/// a bounded channel, so that reading and planning overlap and a million
/// users are never all in memory. The handle's result says whether the
/// file was good: a plan made from it counts only if it was.
pub fn spawn(path: &Path) -> (Receiver<Vec<User>>, JoinHandle<Result<Finished, UsersFileError>>) {
    let (tx, rx) = sync_channel(4);
    let path = path.to_path_buf();
    let handle = std::thread::spawn(move || {
        let name = path.display().to_string();
        let file = std::fs::File::open(&path).map_err(|e| cannot_read(&name, &e))?;
        // A closed channel means the planner stopped: read on, quietly, so
        // that the result still says whether the file was good.
        read(&name, file, &mut |batch| {
            let _ = tx.send(batch);
        })
    });
    (rx, handle)
}

fn cannot_read(name: &str, e: &std::io::Error) -> UsersFileError {
    UsersFileError {
        file: name.to_string(),
        problems: vec![Problem {
            line: None,
            message: format!("cannot read the users file: {e}"),
        }],
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses users from the bytes of a file named `name`.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Vec<User>, UsersFileError> {
    let mut users = Vec::new();
    read(name, bytes, &mut |batch| users.extend(batch))?;
    Ok(users)
}

/// Reads users from `input` (the file named `name`), in the format its name
/// or first character says, handing them to `sink` in batches. Every
/// problem is collected; any problem makes the result an error.
pub fn read(name: &str, input: impl Read, sink: &mut dyn FnMut(Vec<User>)) -> Result<Finished, UsersFileError> {
    let mut input = BufReader::with_capacity(1 << 16, Hashing::new(input));
    let mut out = Out::new(sink);
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let result = first_byte(&mut input).and_then(|first| match (first, ext.as_str()) {
        (_, "csv") => csv(&mut input, &mut out),
        (Some(b'['), _) => json_array(&mut input, &mut out),
        (Some(b'{'), _) => json_lines(&mut input, &mut out),
        (None, _) => Ok(()),
        _ => csv(&mut input, &mut out),
    });
    if let Err(e) = result {
        out.problems.add(None, format!("cannot read the users file: {e}"));
    }
    // The hash is of the whole file, whatever the reader stopped at.
    let _ = std::io::copy(&mut input, &mut std::io::sink());
    out.flush();
    let Out { problems, count, .. } = out;
    if problems.list.is_empty() {
        return Ok(Finished {
            count,
            sha256: hex(&input.into_inner().hasher.finalize()),
        });
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

/// The first byte that is not white space, without consuming it.
fn first_byte(r: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return Ok(buf.get(i).copied()),
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or(&[]));
        Ok(n)
    }
}

/// Where users go: batches to the sink, ids checked for repeats, problems
/// collected.
struct Out<'s> {
    sink: &'s mut dyn FnMut(Vec<User>),
    batch: Vec<User>,
    count: usize,
    /// A 128-bit hash of each id and the user it was first seen as: exact
    /// in practice, and a fraction of the memory of the ids themselves.
    ids: HashMap<u128, usize>,
    problems: Problems,
    keys: Keys,
}

impl<'s> Out<'s> {
    fn new(sink: &'s mut dyn FnMut(Vec<User>)) -> Self {
        Out {
            sink,
            batch: Vec::with_capacity(BATCH),
            count: 0,
            ids: HashMap::new(),
            problems: Problems::default(),
            keys: Keys::default(),
        }
    }

    fn push(&mut self, u: User, line: Option<usize>) {
        self.batch.push(u);
        self.accept(line);
    }

    /// Parses one JSON object into the next slot of the batch.
    fn parse_json(&mut self, text: &[u8], whole: bool) -> Result<(), serde_json::Error> {
        self.batch.push(User::default());
        let Some(user) = self.batch.last_mut() else {
            return Ok(());
        };
        let rest_blank = |end: usize| text.get(end..).is_some_and(|t| t.iter().all(u8::is_ascii_whitespace));
        let start = text.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(0);
        let fast = text
            .get(start..)
            .and_then(|t| super::fastjson::object(t, user, &mut self.keys));
        if fast.is_some_and(|end| rest_blank(start + end)) {
            return Ok(());
        }
        // Off the fast path: start the record over and let serde read it,
        // and word any error.
        *user = User::default();
        let mut de = serde_json::Deserializer::from_slice(text);
        let seed = UserSeed {
            row: self.count + 1,
            keys: &mut self.keys,
            user,
        };
        let parsed = seed
            .deserialize(&mut de)
            .and_then(|()| if whole { de.end() } else { Ok(()) });
        if parsed.is_err() {
            self.batch.pop();
        }
        parsed
    }

    /// Reads the object at the start of `text` on the fast path into the next
    /// slot of the batch; its length, or `None` (and no slot) if it is not
    /// for the fast path.
    fn parse_fast(&mut self, text: &[u8]) -> Option<usize> {
        self.batch.push(User::default());
        let user = self.batch.last_mut()?;
        let len = super::fastjson::object(text, user, &mut self.keys);
        if len.is_none() {
            self.batch.pop();
        }
        len
    }

    /// Counts the user last added to the batch, and checks its id.
    fn accept(&mut self, line: Option<usize>) {
        self.count += 1;
        let Some(u) = self.batch.last() else { return };
        // Two rows for one account would give it two decisions.
        if let Some(first) = self.ids.insert(id_hash(&u.id), self.count) {
            let message = format!(
                "user {}: id `{}` appears again (first as user {first})",
                self.count, u.id
            );
            self.problems.add(line, message);
        }
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.batch.is_empty() {
            (self.sink)(std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH)));
        }
    }
}

/// Two independent 64-bit FNV-1a style hashes of an id, as one 128-bit
/// value: a false repeat would need both to collide.
fn id_hash(id: &str) -> u128 {
    let (mut a, mut b) = (0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142u64);
    for &byte in id.as_bytes() {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(byte))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
    (u128::from(a) << 64) | u128::from(b)
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

fn csv(input: &mut impl Read, out: &mut Out<'_>) -> std::io::Result<()> {
    let mut reader = ::csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.problems.add(Some(1), format!("cannot read the header row: {e}"));
            return Ok(());
        }
    };
    let mut columns: Vec<Field> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        match record::column(h) {
            Ok(f) if columns.contains(&f) => out
                .problems
                .add(Some(1), format!("column {}: `{h}` appears twice", i + 1)),
            Ok(f) => columns.push(f),
            Err(e) => out.problems.add(Some(1), format!("column {}: {e}", i + 1)),
        }
    }
    if !columns.contains(&Field::Id) {
        out.problems.add(
            Some(1),
            "there is no `id` column: every user needs the id the platform knows them by".into(),
        );
    }
    if !out.problems.list.is_empty() {
        return Ok(());
    }
    let mut row = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                out.problems.add(line, format!("cannot read the row: {e}"));
                if !matches!(
                    e.kind(),
                    ::csv::ErrorKind::UnequalLengths { .. } | ::csv::ErrorKind::Utf8 { .. }
                ) {
                    return Ok(());
                }
                continue;
            }
        }
        let line = row.position().map(|p| p.line() as usize);
        let mut u = User::default();
        for (field, cell) in columns.iter().zip(row.iter()) {
            if let Err(e) = record::set(&mut u, field, Cell::Text(cell)) {
                out.problems.add(line, format!("column `{field}`: {e}"));
            }
        }
        out.push(u, line);
    }
}

/// A JSON array of user objects, read a chunk at a time: each object is
/// found by scanning for its closing brace, then parsed on its own, so a bad
/// object is reported and the next one read.
fn json_array(input: &mut impl Read, out: &mut Out<'_>) -> std::io::Result<()> {
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
                if let Some(len) = out.parse_fast(s.buf.get(s.pos..).unwrap_or(&[])) {
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
                let text = s.buf.get(s.pos..end).unwrap_or(&[]);
                let parsed = out.parse_json(text, false);
                // Where the object starts on its line, for columns on that line.
                let indent = s
                    .buf
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
    buf: Vec<u8>,
    /// Where reads land before joining `buf`; kept, so that no chunk is
    /// zeroed twice.
    chunk: Vec<u8>,
    pos: usize,
    line: usize,
    eof: bool,
}

impl<'r, R: Read> Scanner<'r, R> {
    fn new(input: &'r mut R) -> Self {
        Scanner {
            input,
            buf: Vec::new(),
            // Small at first, so that a small file costs little; it grows
            // to `CHUNK` as the file goes on.
            chunk: vec![0; 1 << 16],
            pos: 0,
            line: 1,
            eof: false,
        }
    }

    /// Reads more input; false at the end of the file.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let n = read_full(self.input, &mut self.chunk)?;
        if n == self.chunk.len() && self.chunk.len() < CHUNK {
            self.chunk.resize(self.chunk.len() * 2, 0);
        }
        self.buf.extend_from_slice(self.chunk.get(..n).unwrap_or(&[]));
        self.eof = n == 0;
        Ok(n > 0)
    }

    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        if self.pos >= self.buf.len() && !self.fill()? {
            return Ok(None);
        }
        Ok(self.buf.get(self.pos).copied())
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
            if let Some(end) = object_end(self.buf.get(self.pos..).unwrap_or(&[])) {
                return Ok(Some(self.pos + end));
            }
            // Incomplete: read more and scan the object again from its start.
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn advance_to(&mut self, end: usize) {
        let newlines = self
            .buf
            .get(self.pos..end)
            .map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count());
        self.line += newlines;
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

fn json_lines(input: &mut impl BufRead, out: &mut Out<'_>) -> std::io::Result<()> {
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
struct UserSeed<'k> {
    row: usize,
    keys: &'k mut Keys,
    /// Filled in place: a record is large, and moving it through the
    /// deserializer's frames costs more than parsing some of its fields.
    user: &'k mut User,
}

/// The keys of the last object, in order, resolved to fields: the objects
/// of one file almost always repeat their keys in the same order, so each
/// key is then resolved by one comparison instead of a search.
#[derive(Default)]
pub(super) struct Keys {
    seen: Vec<(Box<str>, Field)>,
}

impl Keys {
    pub(super) fn resolve(&mut self, at: usize, key: &str) -> Result<&Field, String> {
        if self.seen.get(at).is_none_or(|(k, _)| &**k != key) {
            let field = record::column(key)?;
            self.seen.truncate(at);
            self.seen.push((key.into(), field));
        }
        self.seen
            .get(at)
            .map(|(_, f)| f)
            .ok_or_else(|| "internal error: key cache".to_string())
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
            let fail = |e: String| de::Error::custom(format!("user {}, key `{key}`: {e}", self.row));
            match field {
                Field::Group | Field::Role | Field::Permission => {
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

/// The serde path alone, for tests of the fast path.
#[cfg(test)]
pub(super) fn serde_user(text: &[u8]) -> Option<User> {
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
mod tests;
