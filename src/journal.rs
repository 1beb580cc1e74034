//! The journal: append-only JSON lines that record what was done. `apply`
//! writes an intent before each request and an outcome after it, each line
//! carrying the SHA-256 of the line before (`prev`) and its number (`seq`),
//! flushed to disk before the request goes out; `JOURNAL.head` holds the
//! number and hash of the last line, so that lines cut from the end show
//! too. Planning reads one thing from it: the notices already sent, for
//! `after notice`.
//!
//! A notice is a record with `"event": "outcome"`, `"action": "notify"` and
//! `"status": "done"`, naming the `user` (id), the `rule` it was sent under
//! and when (`at`, RFC 3339). Other records are skipped here.

use crate::time::{self, Time};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `prev` of the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn sha256(bytes: &[u8]) -> String {
    crate::connector::file::sha256_hex(bytes)
}

/// The journal, open for appending.
pub struct Journal {
    path: PathBuf,
    file: std::fs::File,
    prev: String,
    seq: u64,
    /// Held while the journal is open: one writer at a time.
    _lock: crate::files::Lock,
}

/// What `verify` found in a sound journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub lines: u64,
    /// Every record, in order.
    pub records: Vec<Value>,
    /// The hash of the last line: what an auditor keeps to check it later.
    pub head: String,
    /// Lines written after the head was last updated (a run that stopped).
    pub past_head: u64,
}

fn head_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".head");
    PathBuf::from(p)
}

/// Checks every line of a journal: each must be a JSON object whose `seq`
/// is its line number and whose `prev` is the hash of the line before, and
/// the head file must name a line that is there with its hash. The error
/// names the first bad line.
pub fn verify(path: &Path) -> Result<Verified, String> {
    let name = path.display();
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("cannot read journal `{name}`: {e}")),
    };
    let mut prev = GENESIS.to_string();
    let mut lines = 0u64;
    let mut records = Vec::new();
    let mut hashes = Vec::new();
    let body = text.strip_suffix(b"\n").unwrap_or(&text);
    let pieces = if body.is_empty() {
        None
    } else {
        Some(body.split(|&b| b == b'\n'))
    };
    for (i, line) in pieces.into_iter().flatten().enumerate() {
        let n = i + 1;
        let record: Value = serde_json::from_slice(line)
            .map_err(|e| format!("{name}:{n}: not a journal record ({e}): the journal was damaged or edited"))?;
        if record.get("seq").and_then(Value::as_u64) != Some(n as u64) {
            return Err(format!(
                "{name}:{n}: `seq` is {}, not {n}: a line was removed, inserted or moved before it",
                record.get("seq").map_or("missing".to_string(), |v| v.to_string())
            ));
        }
        if record.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            return Err(format!(
                "{name}:{n}: `prev` does not match the line before: this line or the one before was edited"
            ));
        }
        prev = sha256(line);
        hashes.push(prev.clone());
        records.push(record);
        lines += 1;
    }
    let head = match std::fs::read_to_string(head_path(path)) {
        Ok(h) => Some(h),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read `{}`: {e}", head_path(path).display())),
    };
    let past_head = match head.as_deref().map(str::trim) {
        None if lines == 0 => 0,
        None => {
            return Err(format!(
                "`{}` is missing: lines cut from the end could not be seen",
                head_path(path).display()
            ))
        }
        Some(h) => {
            let (count, hash) = h.split_once(' ').unwrap_or(("", ""));
            let count: u64 = count
                .parse()
                .map_err(|_| format!("`{}` is damaged", head_path(path).display()))?;
            if count > lines {
                return Err(format!(
                    "{name}: the head names line {count}, but the journal has {lines}: lines were cut from the end"
                ));
            }
            let at = usize::try_from(count)
                .ok()
                .and_then(|c| c.checked_sub(1))
                .and_then(|c| hashes.get(c));
            if count > 0 && at.map(String::as_str) != Some(hash) {
                return Err(format!(
                    "{name}:{count}: the line does not match the head's hash: it was edited"
                ));
            }
            lines - count
        }
    };
    Ok(Verified {
        lines,
        records,
        head: prev,
        past_head,
    })
}

impl Journal {
    /// Opens a journal for appending, locked for this run alone (a second
    /// run waits, or stops saying who holds it), after verifying it: nothing
    /// is added to a journal that does not verify. Also gives the records
    /// it holds. The journal and its head are the owner's alone (0600).
    pub fn open(path: &Path, wait: crate::files::Wait) -> Result<(Journal, Vec<Value>), String> {
        // Locked before it is read: what another run appended is then whole
        // and in what this one reads.
        let lock = crate::files::Lock::exclusive(path, "the journal", wait)?;
        let v = verify(path)?;
        let file = crate::files::open_private_append(path)
            .map_err(|e| format!("cannot open journal `{}`: {e}", path.display()))?;
        let journal = Journal {
            path: path.to_path_buf(),
            file,
            prev: v.head,
            seq: v.lines,
            _lock: lock,
        };
        Ok((journal, v.records))
    }

    /// Appends a record and flushes it to disk before returning: an intent
    /// is on disk before its request goes out.
    pub fn append(&mut self, mut record: Map<String, Value>) -> Result<(), String> {
        let mut line = Map::new();
        line.insert("seq".into(), Value::from(self.seq + 1));
        line.append(&mut record);
        line.insert("prev".into(), Value::String(self.prev.clone()));
        let bytes = Value::Object(line).to_string();
        let fail = |e: std::io::Error| format!("cannot write journal `{}`: {e}", self.path.display());
        self.file.write_all(format!("{bytes}\n").as_bytes()).map_err(fail)?;
        self.file.sync_data().map_err(fail)?;
        self.seq += 1;
        self.prev = sha256(bytes.as_bytes());
        let head = head_path(&self.path);
        crate::files::write_atomically(
            &head,
            format!("{} {}\n", self.seq, self.prev).as_bytes(),
            crate::files::Mode::Private,
        )
        .map_err(|e| crate::files::cannot_write(&head, &e))
    }
}

/// The latest notice sent to each user under each rule.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    /// user id → rule → when.
    latest: HashMap<String, HashMap<String, Time>>,
}

impl Notices {
    pub fn new() -> Self {
        Notices::default()
    }

    /// Records a notice (keeping the latest per user and rule).
    pub fn add(&mut self, user: &str, rule: &str, at: Time) {
        let slot = self
            .latest
            .entry(user.to_string())
            .or_default()
            .entry(rule.to_string())
            .or_insert(at);
        if at > *slot {
            *slot = at;
        }
    }

    pub fn latest(&self, user: &str, rule: &str) -> Option<Time> {
        self.latest.get(user)?.get(rule).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }

    /// Reads the notices of a journal file. A line that is not a JSON object
    /// is an error naming the file and line: a damaged journal is never read
    /// as if it had fewer notices.
    /// Only from a journal that verifies: a hand-written line must not turn
    /// a `notify` into a `deactivate` in the plan a reviewer reads.
    pub fn read(path: &Path) -> Result<Notices, String> {
        let v = verify(path).map_err(|e| {
            format!("{e}\nnotices are read only from a journal that verifies, and this one does not: restore it from a copy, or check it with `dormant journal verify`; nothing was planned")
        })?;
        let records: Vec<(usize, Value)> = v.records.into_iter().enumerate().map(|(i, r)| (i + 1, r)).collect();
        Notices::from_records(&path.display().to_string(), &records)
    }

    /// The notices among records already read, with their line numbers.
    pub fn from_records(name: &str, records: &[(usize, Value)]) -> Result<Notices, String> {
        let mut notices = Notices::new();
        for (n, record) in records {
            let field = |k: &str| record.get(k).and_then(|v| v.as_str());
            if field("event") != Some("outcome") || field("action") != Some("notify") || field("status") != Some("done")
            {
                continue;
            }
            let (Some(user), Some(rule), Some(at)) =
                (field("user"), field("rule"), field("at").and_then(time::parse_time))
            else {
                return Err(format!(
                    "{name}:{n}: a notice needs `user`, `rule` and an RFC 3339 `at`"
                ));
            };
            notices.add(user, rule, at);
        }
        Ok(notices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_latest_notice_per_user_and_rule() {
        let dir = std::env::temp_dir().join(format!("dormant-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.jsonl");
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(head_path(&path));
        {
            let (mut j, _) = Journal::open(&path, crate::files::Wait::No).unwrap();
            for line in [
                r#"{"event":"outcome","action":"notify","status":"done","user":"u1","rule":"dormant","at":"2026-10-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"notify","status":"done","user":"u1","rule":"dormant","at":"2026-10-05T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"notify","status":"failed","user":"u1","rule":"dormant","at":"2026-10-09T00:00:00Z"}"#,
                r#"{"event":"intent","action":"notify","user":"u2","rule":"dormant","at":"2026-10-01T00:00:00Z"}"#,
            ] {
                let Value::Object(m) = serde_json::from_str(line).unwrap() else {
                    panic!()
                };
                j.append(m).unwrap();
            }
        }
        let n = Notices::read(&path).unwrap();
        assert_eq!(n.latest("u1", "dormant"), time::parse_time("2026-10-05"));
        assert_eq!(n.latest("u2", "dormant"), None);
        // One hand-written line: no notice is taken from the journal at all.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(r#"{"seq":5,"event":"outcome","action":"notify","status":"done","user":"u2","rule":"dormant","at":"2026-01-01T00:00:00Z","prev":"x"}"#);
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        let e = Notices::read(&path).unwrap_err();
        assert!(
            e.contains("j.jsonl:5: `prev` does not match") && e.contains("only from a journal that verifies"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    fn record(user: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("event".into(), Value::from("intent"));
        m.insert("user".into(), Value::from(user));
        m
    }

    fn journal(dir: &Path) -> PathBuf {
        let path = dir.join("j.jsonl");
        let (mut j, _) = Journal::open(&path, crate::files::Wait::No).unwrap();
        for u in ["a", "b", "c", "d"] {
            j.append(record(u)).unwrap();
        }
        path
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn write(path: &Path, lines: &[String]) {
        std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    }

    #[test]
    fn a_sound_journal_verifies_and_reopens_where_it_ended() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        let v = verify(&path).unwrap();
        assert_eq!((v.lines, v.past_head), (4, 0));
        let (mut j, _) = Journal::open(&path, crate::files::Wait::No).unwrap();
        j.append(record("e")).unwrap();
        assert_eq!(verify(&path).unwrap().lines, 5);
        assert_eq!(verify(&path).unwrap().records[4]["seq"], 5);
        assert_eq!(verify(&dir.path().join("none.jsonl")).unwrap().lines, 0);
    }

    #[test]
    fn edits_removals_insertions_and_reordering_name_the_first_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        let good = lines(&path);
        let check = |lines: Vec<String>, expected: &str| {
            write(&path, &lines);
            let e = verify(&path).unwrap_err();
            assert!(e.contains(expected), "{e}");
        };
        let mut edited = good.clone();
        edited[1] = edited[1].replace("\"b\"", "\"x\"");
        check(edited, "j.jsonl:3: `prev` does not match");
        let mut removed = good.clone();
        removed.remove(1);
        check(removed, "j.jsonl:2: `seq` is 3, not 2");
        let mut inserted = good.clone();
        inserted.insert(2, good[2].clone());
        check(inserted, "j.jsonl:4: `seq` is 3, not 4");
        let mut swapped = good.clone();
        swapped.swap(1, 2);
        check(swapped, "j.jsonl:2: `seq` is 3, not 2");
        check(good[..3].to_vec(), "the head names line 4, but the journal has 3");
        let mut garbled = good.clone();
        garbled[3] = "{not json".into();
        check(garbled, "j.jsonl:4: not a journal record");
        // Rewriting the last line with a consistent chain still fails the head.
        let mut last = good.clone();
        last[3] = last[3].replace("\"d\"", "\"z\"");
        check(last, "j.jsonl:4: the line does not match the head's hash");
        // And nothing is appended to a journal that does not verify.
        assert!(Journal::open(&path, crate::files::Wait::No).is_err());
    }
}
