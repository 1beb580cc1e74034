//! The built-in `file` connector: users from a CSV file (a header row, `;`
//! between set values), a JSON array of objects, or JSON lines. The output
//! of `fetch` is a JSON array in the same format, so a snapshot can be
//! planned again offline. `-` reads the standard input, told apart by its
//! first character as a file without an extension is.

use super::platform::{Keys as TableKeys, Own, RuleCheck, Supply, Table};
use super::record::{self, Cell};
use super::{Connection, Connector, Error, Fetched, Platform};
use crate::diagnostic::Diag;
use crate::fields::Field;
use crate::limits::MAX_COLUMNS;
use crate::progress::Progress;
use crate::user::User;
use serde::de::DeserializeSeed;
use sha2::{Digest, Sha256};
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

impl miette::Diagnostic for UsersFileError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("dormant::users_file"))
    }
}

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
    /// `file:PATH` (`file:-` for the standard input)
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
    let (name, input) = open(path)?;
    let mut users = Vec::new();
    let finished = read(&name, input, &mut |batch| users.extend(batch))?;
    Ok(UsersFile {
        users,
        source: format!("file:{}", path.display()),
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
        let (name, input) = open(&path)?;
        // A closed channel means the planner stopped: read on, quietly, so
        // that the result still says whether the file was good.
        // Hashing on a thread of its own takes it off the reading
        // thread, which sets the pace of a plan.
        read_with(&name, Hashing::threaded(input), &mut |batch| {
            let _ = tx.send(batch);
        })
    });
    (rx, handle)
}

/// The users file `path`, or the standard input for `-`, with the name its
/// problems are reported under (`stdin` for the standard input, whose
/// format is then told from its first character, as for a file without
/// an extension).
fn open(path: &Path) -> Result<(String, Box<dyn Read + Send>), UsersFileError> {
    if path == Path::new(STDIN) {
        return Ok(("stdin".to_string(), Box::new(std::io::stdin())));
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| cannot_read(&name, &e))?;
    Ok((name, Box::new(file)))
}

/// The users "file" that is the standard input: `--users -`.
pub const STDIN: &str = "-";

fn cannot_read(name: &str, e: &std::io::Error) -> UsersFileError {
    UsersFileError {
        file: name.to_string(),
        problems: vec![Problem {
            line: None,
            message: format!("cannot read the users file: {e}"),
        }],
    }
}

use crate::digest::hex;
pub use crate::digest::sha256_hex;

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
    read_with(name, Hashing::new(input), sink)
}

fn read_with<R: Read>(
    name: &str,
    input: Hashing<R>,
    sink: &mut dyn FnMut(Vec<User>),
) -> Result<Finished, UsersFileError> {
    let mut input = BufReader::with_capacity(1 << 16, input);
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
    let Out {
        mut problems,
        count,
        ids,
        ..
    } = out;
    for (line, message) in ids.repeats() {
        problems.add(line, message);
    }
    match input.into_inner().finish() {
        Some(sha256) if problems.list.is_empty() => return Ok(Finished { count, sha256 }),
        Some(_) => {}
        None => problems.add(None, "internal error: the file could not be hashed".into()),
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

/// The first byte that is not white space, without consuming it. A UTF-8
/// byte order mark at the start is consumed: it is no part of the first
/// column's name, nor of JSON.
fn first_byte(r: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    skip_bom(r)?;
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

/// Consumes a UTF-8 byte order mark at the start of `r`, if there is one,
/// even split over reads (a pipe may hand over a byte at a time). Bytes
/// are consumed only while they match the mark: a text starting with the
/// mark's first bytes and then others is no UTF-8 text a users file can
/// be, and is refused as the CSV or JSON it is not.
fn skip_bom(r: &mut impl BufRead) -> std::io::Result<()> {
    const BOM: &[u8] = "\u{feff}".as_bytes();
    let mut matched = 0;
    while let Some(want) = BOM.get(matched..).filter(|w| !w.is_empty()) {
        let buf = r.fill_buf()?;
        let n = want.len().min(buf.len());
        if n == 0 || buf.get(..n) != want.get(..n) {
            break;
        }
        r.consume(n);
        matched += n;
    }
    Ok(())
}

/// A reader that hashes what passes through it, here or on a thread of
/// its own.
struct Hashing<R> {
    inner: R,
    hasher: Hasher,
}

enum Hasher {
    Here(Sha256),
    /// Chunks to hash go out on the first channel and come back, hashed, on
    /// the second, to be filled again: fresh buffers of a megabyte would
    /// each cost the kernel a megabyte of zeroed pages.
    Thread(
        std::sync::mpsc::SyncSender<Vec<u8>>,
        std::sync::mpsc::Receiver<Vec<u8>>,
        JoinHandle<Sha256>,
    ),
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Hasher::Here(Sha256::new()),
        }
    }

    fn threaded(inner: R) -> Self {
        let (tx, rx) = sync_channel::<Vec<u8>>(8);
        let (back_tx, back_rx) = sync_channel::<Vec<u8>>(8);
        let handle = std::thread::spawn(move || {
            let mut h = Sha256::new();
            for chunk in rx.iter() {
                h.update(&chunk);
                // A full return channel only means a buffer is dropped.
                let _ = back_tx.try_send(chunk);
            }
            h
        });
        Hashing {
            inner,
            hasher: Hasher::Thread(tx, back_rx, handle),
        }
    }

    /// The hex SHA-256 of everything read; `None` if the hashing thread
    /// failed (a plan never records a hash of less than the whole file).
    fn finish(self) -> Option<String> {
        let h = match self.hasher {
            Hasher::Here(h) => h,
            Hasher::Thread(tx, _, handle) => {
                // The hashing thread stops when the channel closes.
                drop(tx);
                handle.join().ok()?
            }
        };
        Some(hex(&h.finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        match &mut self.hasher {
            Hasher::Here(h) => h.update(bytes),
            Hasher::Thread(tx, back, _) => {
                if !bytes.is_empty() {
                    let mut chunk = back.try_recv().unwrap_or_default();
                    chunk.clear();
                    chunk.extend_from_slice(bytes);
                    if tx.send(chunk).is_err() {
                        return Err(std::io::Error::other("the hashing thread stopped"));
                    }
                }
            }
        }
        Ok(n)
    }
}

/// Where users go: batches to the sink, ids checked for repeats, problems
/// collected.
struct Out<'s> {
    sink: &'s mut dyn FnMut(Vec<User>),
    batch: Vec<User>,
    count: usize,
    /// Every id, to find repeats once the file is read.
    ids: Ids,
    problems: Problems,
    keys: Keys,
}

impl<'s> Out<'s> {
    fn new(sink: &'s mut dyn FnMut(Vec<User>)) -> Self {
        Out {
            sink,
            batch: Vec::with_capacity(BATCH),
            count: 0,
            ids: Ids::default(),
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
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| fast::object(t, user, &mut self.keys));
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
    fn parse_fast(&mut self, text: &str) -> Option<usize> {
        self.batch.push(User::default());
        let user = self.batch.last_mut()?;
        let len = fast::object(text, user, &mut self.keys);
        if len.is_none() {
            self.batch.pop();
        }
        len
    }

    /// Counts the user last added to the batch, and checks its id.
    fn accept(&mut self, line: Option<usize>) {
        self.count += 1;
        let Some(u) = self.batch.last() else { return };
        self.ids.add(&u.id, self.count, line);
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

/// The ids of a file, kept compactly: each one's hash, the user it is and
/// where its text lies in one buffer. Repeats are found once the file is
/// read, by sorting the hashes, which walks memory in order; a hash table
/// of a million ids, probed at random as they come, costs far more.
#[derive(Default)]
struct Ids {
    seen: Vec<Seen>,
    text: String,
}

struct Seen {
    hash: u64,
    user: u32,
    line: u32,
    start: u32,
    len: u32,
}

impl Ids {
    fn add(&mut self, id: &str, user: usize, line: Option<usize>) {
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        self.seen.push(Seen {
            hash: id_hash(id),
            user: to_u32(user),
            line: line.map_or(0, to_u32),
            start: to_u32(self.text.len()),
            len: to_u32(id.len()),
        });
        self.text.push_str(id);
    }

    fn text(&self, s: &Seen) -> &str {
        let start = s.start as usize;
        self.text.get(start..start + s.len as usize).unwrap_or("")
    }

    /// Each id that appears again: where, which user, and the user it
    /// first was. Two rows for one account would give it two decisions.
    fn repeats(mut self) -> Vec<(Option<usize>, String)> {
        self.seen.sort_unstable_by_key(|s| (s.hash, s.user));
        let mut found = Vec::new();
        let mut group = 0;
        while group < self.seen.len() {
            let end = self
                .seen
                .get(group..)
                .and_then(|rest| {
                    rest.iter()
                        .position(|s| s.hash != self.seen.get(group).map_or(0, |g| g.hash))
                })
                .map_or(self.seen.len(), |n| group + n);
            let members = self.seen.get(group..end).unwrap_or(&[]);
            for (k, later) in members.iter().enumerate().skip(1) {
                // Equal hashes, and (almost surely) equal text: the first
                // earlier user with the same text.
                let id = self.text(later);
                if let Some(first) = members.get(..k).and_then(|m| m.iter().find(|e| self.text(e) == id)) {
                    let line = (later.line > 0).then_some(later.line as usize);
                    found.push((
                        line,
                        format!(
                            "user {}: id `{id}` appears again (first as user {})",
                            later.user, first.user
                        ),
                    ));
                }
            }
            group = end;
        }
        // In the order of the file.
        found.sort_by_key(|(line, _)| *line);
        found
    }
}

/// A 64-bit FNV-1a hash of an id.
fn id_hash(id: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &byte in id.as_bytes() {
        h = (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
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
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(Tail::new(input));
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.problems.add(Some(1), format!("cannot read the header row: {e}"));
            return Ok(());
        }
    };
    if headers.len() > MAX_COLUMNS {
        out.problems.add(
            Some(1),
            format!(
                "the header has {} columns, and a users file has at most {MAX_COLUMNS}",
                headers.len()
            ),
        );
        return Ok(());
    }
    let mut columns: Vec<Field> = Vec::new();
    let mut seen: std::collections::HashSet<Field> = std::collections::HashSet::new();
    for (i, h) in headers.iter().enumerate() {
        match record::column(h) {
            Ok(f) if seen.contains(&f) => out
                .problems
                .add(Some(1), format!("column {}: `{h}` appears twice", i + 1)),
            Ok(f) => {
                seen.insert(f.clone());
                columns.push(f);
            }
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
    // Where the last record read starts, and its line: the csv reader takes
    // a quote left open for a cell that runs to the end of the file, and
    // only the last record can hold one.
    let mut last = (0, 1);
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => {
                if let Some((at, field)) = open_quote(reader.get_ref().since(last.0), last.0 == 0) {
                    let before = reader.get_ref().since(last.0).get(..at).unwrap_or(&[]);
                    let line = last.1 + before.iter().filter(|&&b| b == b'\n').count();
                    let name = headers
                        .get(field)
                        .map_or_else(|| format!("{}", field + 1), record::preview);
                    out.problems.add(
                        Some(line),
                        format!(
                            "column `{name}`: the quote that opens this cell is never closed: \
                             the file ends inside it (a quote in a cell is written twice: \"\")"
                        ),
                    );
                }
                return Ok(());
            }
            Ok(true) => {
                if let Some(p) = row.position() {
                    last = (p.byte(), p.line() as usize);
                    reader.get_mut().keep_from(p.byte());
                }
            }
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

/// A reader that keeps what it has read since a point the caller moves
/// on (the start of the record being read), so that the last record's
/// bytes can be looked at once the file is read. Each byte is copied once
/// more; the bytes kept are those of a record and the reader's buffer.
struct Tail<R> {
    inner: R,
    kept: Vec<u8>,
    /// The offset in the input of `kept[0]`.
    kept_at: u64,
    /// Bytes before this offset may go.
    keep_from: u64,
}

impl<R: Read> Tail<R> {
    fn new(inner: R) -> Self {
        Tail {
            inner,
            kept: Vec::new(),
            kept_at: 0,
            keep_from: 0,
        }
    }

    fn keep_from(&mut self, offset: u64) {
        self.keep_from = offset;
    }

    /// What was read from `offset` on (nothing if it is no longer kept).
    fn since(&self, offset: u64) -> &[u8] {
        usize::try_from(offset.saturating_sub(self.kept_at))
            .ok()
            .filter(|_| offset >= self.kept_at)
            .and_then(|skip| self.kept.get(skip..))
            .unwrap_or(&[])
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        // Drop what is no longer needed once it is most of what is kept,
        // so that each byte is moved a bounded number of times.
        let dead = usize::try_from(self.keep_from.saturating_sub(self.kept_at)).unwrap_or(usize::MAX);
        if dead >= 1 << 16 && dead >= self.kept.len() / 2 {
            let dead = dead.min(self.kept.len());
            self.kept.drain(..dead);
            self.kept_at += dead as u64;
        }
        self.kept.extend_from_slice(buf.get(..n).unwrap_or(&[]));
        Ok(n)
    }
}

/// If `bytes` (whole records of CSV, the first at the file's start when
/// `at_start`) end inside a quoted cell: where its quote is, and which
/// cell of its record it is. The states are the csv reader's own, for
/// `,` between cells, `"` around them, `""` for a quote inside one.
fn open_quote(bytes: &[u8], at_start: bool) -> Option<(usize, usize)> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        CellStart,
        Plain,
        Quoted,
        /// A quote inside a quoted cell: its end, or the first of `""`.
        QuoteInQuoted,
    }
    let skip = if at_start && bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut state = State::CellStart;
    let (mut cell, mut quote) = (0, 0);
    for (i, &b) in bytes.iter().enumerate().skip(skip) {
        state = match (state, b) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::CellStart, b'"') => {
                quote = i;
                State::Quoted
            }
            (_, b',') => {
                cell += 1;
                State::CellStart
            }
            (_, b'\n' | b'\r') => {
                cell = 0;
                State::CellStart
            }
            _ => State::Plain,
        };
    }
    (state == State::Quoted).then_some((quote, cell))
}

mod fast;
mod json;

use json::{json_array, json_lines, Keys, UserSeed};

/// A `file` connector's own keys: none, its `path` and `enrich` being
/// keys it shares.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileKeys {}

/// The built-in users file in `dormant.toml`: `kind = "file"`.
pub struct FilePlatform;

impl Platform for FilePlatform {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn name(&self) -> &'static str {
        "the users file"
    }

    fn keys(&self) -> TableKeys {
        TableKeys {
            required: &["path"],
            own: &[],
            retired: &[],
            limits: false,
        }
    }

    fn configure(&self, _c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        Ok(Own::new(table.own::<FileKeys>()?))
    }

    fn revokes(&self) -> bool {
        false
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Err(super::platform::cannot_act(c))
    }

    fn fetch(&self, c: &Connector, progress: &Progress) -> Result<Fetched, Error> {
        let path = c.path.as_deref().unwrap_or(Path::new(""));
        let mut users = load(path)?.users;
        for u in &mut users {
            u.source = Some(c.name.as_str().into());
        }
        progress.finish();
        super::finish(c, Fetched::new(users), progress)
    }

    fn acts(&self) -> bool {
        false
    }

    fn attrs(&self) -> &'static [&'static str] {
        &[]
    }

    /// A file has whatever columns it has: checked when it is read.
    fn supplies(&self, _c: &Connector, _field: &Field, _own: &dyn Fn(&Field) -> bool) -> Supply {
        Supply::Supplied
    }

    fn check_rule(&self, _c: &Connector, _rule: &RuleCheck<'_>) -> Vec<Diag> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
