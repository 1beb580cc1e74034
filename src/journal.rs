//! The journal: append-only JSON lines that record what was done. `apply`
//! writes an intent before each request and an outcome after it, each line
//! carrying the link of the line before (`prev`) and its number (`seq`),
//! flushed to disk before the request goes out; `JOURNAL.head` holds the
//! number and link of the last line, so that lines cut from the end show
//! too. Planning reads one thing from it: the notices already sent, for
//! `after notice`.
//!
//! A line's link is its SHA-256, or, in a keyed journal, its HMAC-SHA256
//! under a secret key (`journal_key_env` in dormant.toml). Anyone can
//! recompute a SHA-256 chain, so an unkeyed journal rewritten whole, head
//! included, verifies; only a head kept elsewhere (`verify --head`) shows
//! that. A keyed chain cannot be rewritten without the key. Every line of a
//! keyed journal says so (`"mac": "hmac-sha256"`); the first line decides
//! which a journal is, and a journal of both kinds is refused. A keyed
//! `.head` adds an HMAC of its own count and link, so that it cannot be
//! forged for a journal cut short.
//!
//! A notice is a record with `"event": "outcome"`, `"action": "notify"` and
//! `"status": "done"`, naming the `user` (id), the `rule` it was sent under
//! and when (`at`, RFC 3339). Other records are skipped here.

mod error;
mod record;

pub use error::{BadKeptHead, Damage, Error, KeyProblem, Mismatch};
pub use record::{Action, BadRecord, Event, Outcome, Record, Step, Subject};

pub use crate::notices::Notices;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use std::io::Write;
use std::path::{Path, PathBuf};

/// `prev` of the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The `mac` of every line of a keyed journal.
pub const HMAC_SHA256: &str = "hmac-sha256";

use crate::digest::{hex, sha256_hex as sha256};

/// The secret key of a keyed journal, ready to make HMACs. It never
/// prints: `Debug` shows a placeholder and there is no `Display`.
#[derive(Clone)]
pub struct Key(Hmac<Sha256>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// The shortest key taken, in bytes. The journal holds an HMAC of every
    /// line, so a short or guessable key could be found by trying keys
    /// against it; 32 characters is what `openssl rand -hex 16` gives.
    pub const MIN_LEN: usize = 32;

    /// The key in environment variable `var`, which `journal_key_env`
    /// named. The error names the variable, never the value.
    pub fn from_env(var: &str) -> Result<Key, Error> {
        let problem = match std::env::var(var) {
            Ok(v) if v.trim().is_empty() => KeyProblem::Empty,
            Ok(v) => match Key::new(v.trim().as_bytes()) {
                Ok(key) => return Ok(key),
                Err(problem) => problem,
            },
            Err(std::env::VarError::NotPresent) => KeyProblem::NotSet,
            Err(std::env::VarError::NotUnicode(_)) => KeyProblem::NotText,
        };
        Err(Error::Key {
            var: var.to_string(),
            problem,
        })
    }

    /// A key from its secret bytes; the error says what is wrong with it,
    /// without it.
    pub fn new(secret: &[u8]) -> Result<Key, KeyProblem> {
        if secret.len() < Key::MIN_LEN {
            return Err(KeyProblem::Short { min: Key::MIN_LEN });
        }
        Hmac::<Sha256>::new_from_slice(secret)
            .map(Key)
            .map_err(|_| KeyProblem::Refused)
    }

    fn tag(&self, bytes: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(bytes);
        hex(&mac.finalize().into_bytes())
    }
}

/// A line's link: what the next line's `prev` and the head hold.
fn link(key: Option<&Key>, line: &[u8]) -> String {
    match key {
        Some(k) => k.tag(line),
        None => sha256(line),
    }
}

/// The third field of a keyed `.head`: an HMAC of its count and link. A
/// link alone could be copied from the `prev` of the line after it, which
/// would let a journal cut short get a head that matches; this cannot be
/// made without the key. Its text is not JSON, so it is never a line's MAC.
fn head_tag(key: &Key, count: u64, hash: &str) -> String {
    key.tag(format!("dormant journal head {count} {hash}").as_bytes())
}

/// What the `.head` file holds after line `count`, whose link is `hash`.
fn head_line(key: Option<&Key>, count: u64, hash: &str) -> String {
    match key {
        Some(k) => format!("{count} {hash} {}\n", head_tag(k, count, hash)),
        None => format!("{count} {hash}\n"),
    }
}

/// The journal, open for appending.
pub struct Journal {
    path: PathBuf,
    file: std::fs::File,
    prev: String,
    seq: u64,
    /// Held while the journal is open: one writer at a time.
    _lock: crate::files::Lock,
    /// Set for a keyed journal: every line is then linked by HMAC.
    key: Option<Key>,
}

/// What `verify` found in a sound journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub lines: u64,
    /// Every record, in order.
    pub records: Vec<Value>,
    /// The link of the last line: what an auditor keeps to check it later.
    pub head: String,
    /// Lines written after the head was last updated (a run that stopped).
    pub past_head: u64,
    /// Whether the lines are linked by HMAC-SHA256 (checked with the key)
    /// rather than SHA-256.
    pub keyed: bool,
    /// The link of every line, in order.
    pub links: Vec<String>,
}

impl Verified {
    /// Its head as `journal verify` prints it and `--head` takes it:
    /// `LINES:HASH`.
    pub fn kept_head(&self) -> String {
        format!("{}:{}", self.lines, self.head)
    }

    /// The link after line `n` (line 0: the start of the chain).
    fn link_after(&self, n: u64) -> Option<&str> {
        match n.checked_sub(1) {
            None => Some(GENESIS),
            Some(i) => usize::try_from(i)
                .ok()
                .and_then(|i| self.links.get(i))
                .map(String::as_str),
        }
    }

    /// Where a head kept apart from the journal is in it: the number of the
    /// line it names (lines after it were added since). An error says what
    /// was expected and what was found: since each link covers the line and,
    /// through `prev`, every line before, a match shows that nothing up to
    /// that line changed.
    pub fn find(&self, kept: &KeptHead) -> Result<u64, Mismatch> {
        let (lines, last, hash) = (self.lines, self.head.clone(), kept.hash.clone());
        match kept.lines {
            Some(line) if line > lines => Err(Mismatch::Short {
                line,
                hash,
                lines,
                last,
            }),
            Some(line) => match self.link_after(line) {
                Some(found) if found == hash => Ok(line),
                found => Err(Mismatch::Differs {
                    line,
                    found: found.map(str::to_string),
                    hash,
                    lines,
                    last,
                }),
            },
            None => (0..=lines)
                .find(|&n| self.link_after(n) == Some(hash.as_str()))
                .ok_or(Mismatch::Absent { hash, lines, last }),
        }
    }
}

/// A head kept apart from the journal, as `journal verify` prints it
/// (`LINES:HASH`), as the `.head` file of an unkeyed journal holds it
/// (`LINES HASH`), or the hash alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptHead {
    pub lines: Option<u64>,
    pub hash: String,
}

impl std::str::FromStr for KeptHead {
    type Err = BadKeptHead;

    fn from_str(text: &str) -> Result<KeptHead, BadKeptHead> {
        let text = text.trim();
        let (lines, hash) = match text.split_once(|c: char| c == ':' || c.is_whitespace()) {
            Some((n, h)) => {
                let n = n.parse::<u64>().map_err(|_| BadKeptHead::Lines(n.to_string()))?;
                (Some(n), h.trim())
            }
            None => (None, text),
        };
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BadKeptHead::Hash(hash.to_string()));
        }
        Ok(KeptHead {
            lines,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

fn head_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".head");
    PathBuf::from(p)
}

/// Checks every line of a journal: each must be a JSON object whose `seq`
/// is its line number and whose `prev` is the link of the line before, and
/// the head file must name a line that is there with its link. The error
/// names the first bad line. `key` is the journal's key if dormant.toml
/// names one: a keyed journal cannot be verified without it, and an
/// unkeyed journal is refused with it, since that is also what a keyed
/// journal rewritten without the key would look like.
pub fn verify(path: &Path, key: Option<&Key>) -> Result<Verified, Error> {
    let name = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let damaged = |line: u64, damage: Damage| Error::Damaged {
        path: name.clone(),
        line,
        damage,
    };
    let mut prev = GENESIS.to_string();
    let mut lines = 0u64;
    let mut records = Vec::new();
    let mut hashes = Vec::new();
    // Keyed or not, as the first line says.
    let mut keyed: Option<bool> = None;
    let body = text.strip_suffix(b"\n").unwrap_or(&text);
    let pieces = if body.is_empty() {
        None
    } else {
        Some(body.split(|&b| b == b'\n'))
    };
    for (i, line) in pieces.into_iter().flatten().enumerate() {
        let n = i as u64 + 1;
        let record: Value = serde_json::from_slice(line).map_err(|e| damaged(n, Damage::NotARecord(e.to_string())))?;
        let this = match record.get("mac") {
            None => false,
            Some(Value::String(m)) if m == HMAC_SHA256 => true,
            Some(other) => return Err(damaged(n, Damage::UnknownMac(other.to_string()))),
        };
        match keyed {
            None => {
                match (this, key) {
                    (true, None) => return Err(Error::KeyNeeded { path: name }),
                    (false, Some(_)) => return Err(Error::NotKeyed { path: name }),
                    _ => {}
                }
                keyed = Some(this);
            }
            Some(first) if first != this => return Err(damaged(n, Damage::Mixed { this, first })),
            Some(_) => {}
        }
        if record.get("seq").and_then(Value::as_u64) != Some(n) {
            let found = record.get("seq").map_or("missing".to_string(), |v| v.to_string());
            return Err(damaged(n, Damage::Seq { found, expected: n }));
        }
        if record.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            return Err(damaged(n, if key.is_some() { Damage::PrevKeyed } else { Damage::Prev }));
        }
        // After the first line's checks, `key` is given exactly when the
        // journal is keyed.
        prev = link(key, line);
        hashes.push(prev.clone());
        records.push(record);
        lines += 1;
    }
    let head = match std::fs::read_to_string(head_path(path)) {
        Ok(h) => Some(h),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(crate::files::Error::read(&head_path(path), e).into()),
    };
    let past_head = match head.as_deref().map(str::trim) {
        None if lines == 0 => 0,
        None => return Err(Error::HeadMissing { head: head_path(path) }),
        Some(h) => {
            let head_damaged = || Error::HeadDamaged { head: head_path(path) };
            let fields: Vec<&str> = h.split(' ').collect();
            let (count, hash, tag) = match (key, fields.as_slice()) {
                (None, [count, hash]) => (*count, *hash, None),
                (Some(_), [count, hash, tag]) => (*count, *hash, Some(*tag)),
                _ => return Err(head_damaged()),
            };
            let count: u64 = count.parse().map_err(|_| head_damaged())?;
            if let Some(k) = key {
                if tag != Some(head_tag(k, count, hash).as_str()) {
                    return Err(Error::HeadForged { head: head_path(path) });
                }
            }
            if count > lines {
                return Err(Error::CutFromEnd {
                    path: name,
                    count,
                    lines,
                });
            }
            let at = usize::try_from(count)
                .ok()
                .and_then(|c| c.checked_sub(1))
                .and_then(|c| hashes.get(c));
            if count > 0 && at.map(String::as_str) != Some(hash) {
                return Err(damaged(count, Damage::NotTheHead));
            }
            lines - count
        }
    };
    Ok(Verified {
        lines,
        records,
        head: prev,
        past_head,
        keyed: keyed.unwrap_or(key.is_some()),
        links: hashes,
    })
}

/// The line a record is written as: its fields, its number, whether the
/// journal is keyed and the link of the line before, in sorted key order.
pub fn line(record: &Record, seq: u64, keyed: bool, prev: &str) -> String {
    let mut line = record.to_map();
    line.insert("seq".into(), Value::from(seq));
    if keyed {
        line.insert("mac".into(), Value::from(HMAC_SHA256));
    }
    line.insert("prev".into(), Value::String(prev.to_string()));
    Value::Object(line).to_string()
}

impl Journal {
    /// Opens a journal for appending, locked for this run alone (a second
    /// run waits, or stops saying who holds it), after verifying it: nothing
    /// is added to a journal that does not verify. Also gives the records
    /// it holds. The journal and its head are the owner's alone (0600).
    /// With a key, the journal is (or becomes, if empty) a keyed one.
    pub fn open(path: &Path, wait: crate::files::Wait, key: Option<Key>) -> Result<(Journal, Vec<Record>), Error> {
        // Locked before it is read: what another run appended is then whole
        // and in what this one reads.
        let lock = crate::files::Lock::exclusive(path, "the journal", wait)?;
        let v = verify(path, key.as_ref())?;
        let records = Record::read_all(&path.display().to_string(), &v.records)?;
        let file = crate::files::open_private_append(path).map_err(|source| Error::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let journal = Journal {
            path: path.to_path_buf(),
            file,
            prev: v.head,
            seq: v.lines,
            _lock: lock,
            key,
        };
        Ok((journal, records))
    }

    /// Appends a record and flushes it to disk before returning: an intent
    /// is on disk before its request goes out.
    pub fn append(&mut self, record: &Record) -> Result<(), Error> {
        let bytes = line(record, self.seq + 1, self.key.is_some(), &self.prev);
        let fail = |source| Error::Write {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(format!("{bytes}\n").as_bytes()).map_err(fail)?;
        self.file.sync_data().map_err(fail)?;
        self.seq += 1;
        self.prev = link(self.key.as_ref(), bytes.as_bytes());
        let head = head_path(&self.path);
        crate::files::write_atomically(
            &head,
            head_line(self.key.as_ref(), self.seq, &self.prev).as_bytes(),
            crate::files::Mode::Private,
        )
        .map_err(|e| crate::files::Error::write(&head, e).into())
    }
}

/// Reading a journal's notices and deactivations: what plans take from it.
impl Notices {
    /// Reads the notices of a journal file, only if it verifies: a damaged
    /// journal is never read as if it had fewer notices, and a hand-written
    /// line must not turn a `notify` into a `deactivate` in the plan a
    /// reviewer reads. The error names the file and the first bad line.
    pub fn read(path: &Path, key: Option<&Key>) -> Result<Notices, Error> {
        Notices::read_at_head(path, key).map(|(notices, _)| notices)
    }

    /// As [`Notices::read`], with the head of the journal read
    /// (`LINES:HASH`, as `journal verify` prints it), for the plan's
    /// provenance: an auditor can check later that the journal still holds
    /// what the plan was made from.
    pub fn read_at_head(path: &Path, key: Option<&Key>) -> Result<(Notices, String), Error> {
        let v = verify(path, key).map_err(|e| Error::Unverified { source: Box::new(e) })?;
        let name = path.display().to_string();
        let notices = Notices::from_records(&name, &Record::read_all(&name, &v.records)?)?;
        Ok((notices, v.kept_head()))
    }

    /// The notices among a journal's records, already read in order (the
    /// first is line 1).
    pub fn from_records(name: &str, records: &[Record]) -> Result<Notices, Error> {
        let mut notices = Notices::new();
        for (n, record) in (1..).zip(records) {
            notices.deactivation(name, n, record)?;
            let Event::Outcome {
                subject,
                outcome: Outcome::Done,
            } = &record.event
            else {
                continue;
            };
            if subject.action != Action::Notify {
                continue;
            }
            let (false, Some(Some(rule)), Some(at)) = (subject.user.is_empty(), &subject.rule, record.at) else {
                return Err(Error::Incomplete {
                    path: name.to_string(),
                    line: n,
                    what: "notice",
                    needs: "`user`, `rule` and an RFC 3339 `at`",
                });
            };
            notices.add(&subject.user, rule, at);
        }
        Ok(notices)
    }

    /// Follows one record's word on whether its user is deactivated: a
    /// confirmed deactivation (or the first step of a two-step delete,
    /// which leaves the user deactivated) sets the time, a confirmed
    /// reactivation clears it. Intents and unconfirmed outcomes say
    /// nothing: the request may never have reached the platform.
    fn deactivation(&mut self, name: &str, n: u64, record: &Record) -> Result<(), Error> {
        let (subject, deactivates) = match &record.event {
            Event::Outcome { subject, outcome } if outcome.confirmed() => match subject.action {
                Action::Deactivate => (subject, true),
                Action::Reactivate => (subject, false),
                _ => return Ok(()),
            },
            Event::Step {
                subject,
                step: Step::Deactivated,
            } => (subject, true),
            _ => return Ok(()),
        };
        let (false, Some(at)) = (subject.user.is_empty(), record.at) else {
            return Err(Error::Incomplete {
                path: name.to_string(),
                line: n,
                what: "deactivation or reactivation",
                needs: "`user` and an RFC 3339 `at`",
            });
        };
        if deactivates {
            self.set_deactivated(&subject.user, at);
        } else {
            self.clear_deactivated(&subject.user);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;

    #[test]
    fn reads_the_latest_notice_per_user_and_rule() {
        let dir = std::env::temp_dir().join(format!("dormant-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.jsonl");
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(head_path(&path));
        {
            let (mut j, _) = Journal::open(&path, crate::files::Wait::No, None).unwrap();
            for line in [
                r#"{"event":"outcome","action":"notify","status":"done","user":"u1","rule":"dormant","at":"2026-10-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"notify","status":"done","user":"u1","rule":"dormant","at":"2026-10-05T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"notify","status":"failed","user":"u1","rule":"dormant","at":"2026-10-09T00:00:00Z"}"#,
                r#"{"event":"intent","action":"notify","user":"u2","rule":"dormant","at":"2026-10-01T00:00:00Z"}"#,
            ] {
                let v: Value = serde_json::from_str(line).unwrap();
                j.append(&Record::from_value(&v).unwrap()).unwrap();
            }
        }
        let n = Notices::read(&path, None).unwrap();
        assert_eq!(n.latest("u1", "dormant"), time::parse_time("2026-10-05"));
        assert_eq!(n.latest("u2", "dormant"), None);
        // One hand-written line: no notice is taken from the journal at all.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(r#"{"seq":5,"event":"outcome","action":"notify","status":"done","user":"u2","rule":"dormant","at":"2026-01-01T00:00:00Z","prev":"x"}"#);
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        let e = Notices::read(&path, None).unwrap_err().to_string();
        assert!(
            e.contains("j.jsonl:5: `prev` does not match") && e.contains("only from a journal that verifies"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod deactivation_tests {
    use super::*;
    use crate::time;
    use crate::user::{Deactivated, Origin, Status, User};

    fn records(lines: &[&str]) -> Vec<Record> {
        let values: Vec<Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        Record::read_all("j", &values).unwrap()
    }

    #[test]
    fn the_last_confirmed_deactivation_not_undone_since() {
        let n = Notices::from_records(
            "j",
            &records(&[
                // Confirmed, then undone: nothing.
                r#"{"event":"outcome","action":"deactivate","status":"done","user":"a","at":"2026-09-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"reactivate","status":"done","user":"a","at":"2026-09-02T00:00:00Z"}"#,
                // An intent, a failure and an unconfirmed outcome say nothing.
                r#"{"event":"intent","action":"deactivate","user":"b","at":"2026-09-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"deactivate","status":"failed","user":"b","at":"2026-09-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"deactivate","status":"unconfirmed","user":"b","at":"2026-09-01T00:00:00Z"}"#,
                // Settled by a later read, and deactivated again later: the last.
                r#"{"event":"outcome","action":"deactivate","status":"settled","user":"c","at":"2026-09-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"deactivate","status":"done","user":"c","at":"2026-10-01T00:00:00Z"}"#,
                // The first step of a two-step delete leaves the user deactivated.
                r#"{"event":"step","step":"deactivated","action":"delete","user":"d","at":"2026-10-05T00:00:00Z"}"#,
                // An unconfirmed reactivation does not undo.
                r#"{"event":"outcome","action":"deactivate","status":"done","user":"e","at":"2026-10-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"reactivate","status":"unconfirmed","user":"e","at":"2026-10-02T00:00:00Z"}"#,
            ]),
        )
        .unwrap();
        assert_eq!(n.deactivated("a"), None);
        assert_eq!(n.deactivated("b"), None);
        assert_eq!(n.deactivated("c"), time::parse_time("2026-10-01"));
        assert_eq!(n.deactivated("d"), time::parse_time("2026-10-05"));
        assert_eq!(n.deactivated("e"), time::parse_time("2026-10-01"));
        assert!(!n.is_empty());
        let e = Notices::from_records(
            "j",
            &records(&[r#"{"event":"outcome","action":"deactivate","status":"done","user":"a"}"#]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("j:1:") && e.contains("`at`"), "{e}");
    }

    #[test]
    fn only_disabled_users_take_the_journal_s_time_and_the_later_one_wins() {
        let n = Notices::from_records(
            "j",
            &records(&[
                r#"{"event":"outcome","action":"deactivate","status":"done","user":"a","at":"2026-10-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"deactivate","status":"done","user":"b","at":"2026-10-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"deactivate","status":"done","user":"c","at":"2026-10-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"deactivate","status":"done","user":"d","at":"2026-10-01T00:00:00Z"}"#,
                r#"{"event":"outcome","action":"deactivate","status":"done","user":"e","at":"2026-10-01T00:00:00Z"}"#,
            ]),
        )
        .unwrap();
        let platform = |s: &str| Some(Deactivated::from_source(time::parse_time(s).unwrap()));
        let user = |id: &str, status: Option<Status>, deactivated| User {
            id: id.into(),
            status,
            deactivated,
            ..User::default()
        };
        let mut users = vec![
            user("a", Some(Status::Disabled), None),
            // Re-enabled outside dormant, or a status no one can tell.
            user("b", Some(Status::Active), None),
            user("c", None, None),
            // The platform's own, later date stands; an earlier one gives way.
            user("d", Some(Status::Disabled), platform("2026-11-01")),
            user("e", Some(Status::Disabled), platform("2026-01-01")),
            user("z", Some(Status::Disabled), None),
        ];
        n.fill_deactivated(&mut users);
        let journal = Some(Deactivated {
            at: time::parse_time("2026-10-01").unwrap(),
            from: Origin::Journal,
        });
        let got: Vec<_> = users.iter().map(|u| u.deactivated).collect();
        assert_eq!(got, [journal, None, None, platform("2026-11-01"), journal, None]);
    }
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    fn record(user: &str) -> Record {
        Record::from_value(&serde_json::json!({"event": "intent", "user": user})).unwrap()
    }

    fn journal(dir: &Path) -> PathBuf {
        keyed_journal(dir, None)
    }

    fn keyed_journal(dir: &Path, key: Option<Key>) -> PathBuf {
        let path = dir.join("j.jsonl");
        let (mut j, _) = Journal::open(&path, crate::files::Wait::No, key).unwrap();
        for u in ["a", "b", "c", "d"] {
            j.append(&record(u)).unwrap();
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
        let v = verify(&path, None).unwrap();
        assert_eq!((v.lines, v.past_head), (4, 0));
        let (mut j, _) = Journal::open(&path, crate::files::Wait::No, None).unwrap();
        j.append(&record("e")).unwrap();
        assert_eq!(verify(&path, None).unwrap().lines, 5);
        assert_eq!(verify(&path, None).unwrap().records[4]["seq"], 5);
        assert_eq!(verify(&dir.path().join("none.jsonl"), None).unwrap().lines, 0);
    }

    #[test]
    fn edits_removals_insertions_and_reordering_name_the_first_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        let good = lines(&path);
        let check = |lines: Vec<String>, expected: &str| {
            write(&path, &lines);
            let e = verify(&path, None).unwrap_err().to_string();
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
        assert!(Journal::open(&path, crate::files::Wait::No, None).is_err());
    }

    fn key(c: char) -> Key {
        Key::new(c.to_string().repeat(Key::MIN_LEN).as_bytes()).unwrap()
    }

    /// What anyone can do to an unkeyed journal: edit a line, then make
    /// every `prev` and the head match again with plain SHA-256.
    fn rewrite_unkeyed(path: &Path, edit: impl Fn(&mut serde_json::Map<String, Value>)) {
        let mut prev = GENESIS.to_string();
        let mut out = String::new();
        for line in lines(path) {
            let Value::Object(mut record) = serde_json::from_str(&line).unwrap() else {
                panic!("a record")
            };
            edit(&mut record);
            record.insert("prev".into(), Value::from(prev.clone()));
            let bytes = Value::Object(record).to_string();
            prev = sha256(bytes.as_bytes());
            out.push_str(&bytes);
            out.push('\n');
        }
        std::fs::write(path, out).unwrap();
        let count = lines(path).len();
        std::fs::write(head_path(path), format!("{count} {prev}\n")).unwrap();
    }

    #[test]
    fn a_rewritten_unkeyed_chain_passes_but_not_against_a_kept_head() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        let kept: KeptHead = format!("4:{}", verify(&path, None).unwrap().head).parse().unwrap();
        rewrite_unkeyed(&path, |r| {
            if r["user"] == "b" {
                r.insert("user".into(), Value::from("x"));
            }
        });
        // Without a key, nothing in the file can tell.
        let v = verify(&path, None).unwrap();
        assert_eq!(v.records[1]["user"], "x");
        let e = v.find(&kept).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "line 4 does not match the kept head: expected hash {}, found {}",
                kept.hash, v.head
            )),
            "{e}"
        );
        // The hash alone: no line has it.
        let e = v
            .find(&KeptHead {
                lines: None,
                ..kept.clone()
            })
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "no line of the journal has the kept head's hash {}; found 4 lines",
                kept.hash
            )),
            "{e}"
        );
    }

    #[test]
    fn a_kept_head_finds_its_line_and_sees_lines_cut_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        let v = verify(&path, None).unwrap();
        let at2: KeptHead = format!("2 {}", v.links[1]).parse().unwrap();
        assert_eq!(v.find(&at2), Ok(2));
        assert_eq!(
            v.find(&KeptHead {
                lines: None,
                ..at2.clone()
            }),
            Ok(2)
        );
        assert_eq!(v.find(&format!("0:{GENESIS}").parse().unwrap()), Ok(0));
        let at4: KeptHead = format!("4:{}", v.head.to_uppercase()).parse().unwrap();
        assert_eq!(v.find(&at4), Ok(4));
        // Cut the last line and give the head file what line 3's link is.
        let mut cut = lines(&path);
        cut.pop();
        write(&path, &cut);
        std::fs::write(head_path(&path), format!("3 {}\n", v.links[2])).unwrap();
        let short = verify(&path, None).unwrap();
        let e = short.find(&at4).unwrap_err().to_string();
        assert!(e.starts_with(&format!("the journal does not reach the kept head: expected line 4 with hash {}; found 3 lines, the last with hash {}", v.head, v.links[2])), "{e}");
        for bad in [
            "4:abc".to_string(),
            format!("x:{}", v.head),
            format!("4:{}", "g".repeat(64)),
        ] {
            assert!(bad.parse::<KeptHead>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_keyed_journal_verifies_with_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyed_journal(dir.path(), Some(key('k')));
        let v = verify(&path, Some(&key('k'))).unwrap();
        assert!(v.keyed);
        assert_eq!((v.lines, v.past_head), (4, 0));
        assert!(v.records.iter().all(|r| r["mac"] == HMAC_SHA256));
        // Its links are HMACs, not SHA-256.
        assert_ne!(v.links[0], sha256(lines(&path)[0].as_bytes()));
        // Reopened, it goes on keyed.
        let (mut j, _) = Journal::open(&path, crate::files::Wait::No, Some(key('k'))).unwrap();
        j.append(&record("e")).unwrap();
        assert_eq!(verify(&path, Some(&key('k'))).unwrap().lines, 5);
        // Without the key: refused, saying why.
        let e = verify(&path, None).unwrap_err().to_string();
        assert!(e.starts_with("cannot verify `"), "{e}");
        assert!(
            e.contains("it is a keyed journal") && e.contains("no key was given") && e.contains("journal_key_env"),
            "{e}"
        );
        assert!(Journal::open(&path, crate::files::Wait::No, None).is_err());
        // With another key: every link differs.
        let e = verify(&path, Some(&key('w'))).unwrap_err().to_string();
        assert!(
            e.contains("j.jsonl:2: `prev` does not match the HMAC of the line before")
                && e.contains("or the key is not the one"),
            "{e}"
        );
    }

    #[test]
    fn a_keyed_journal_rewritten_without_the_key_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyed_journal(dir.path(), Some(key('k')));
        let good = lines(&path);
        let head = std::fs::read_to_string(head_path(&path)).unwrap();
        // Rewritten as an unkeyed chain (`mac` dropped): refused with the key.
        rewrite_unkeyed(&path, |r| {
            r.remove("mac");
            if r["user"] == "b" {
                r.insert("user".into(), Value::from("x"));
            }
        });
        verify(&path, None).unwrap();
        let e = verify(&path, Some(&key('k'))).unwrap_err().to_string();
        assert!(
            e.contains("is not keyed (its first line has no `mac`), but dormant.toml gives a key"),
            "{e}"
        );
        assert!(Journal::open(&path, crate::files::Wait::No, Some(key('k'))).is_err());
        // Rewritten keyed, under a key of the forger's own: the HMACs fail.
        write(&path, &good);
        std::fs::write(head_path(&path), &head).unwrap();
        let forged = tempfile::tempdir().unwrap();
        let forged = keyed_journal(forged.path(), Some(key('f')));
        std::fs::copy(&forged, &path).unwrap();
        std::fs::copy(head_path(&forged), head_path(&path)).unwrap();
        let e = verify(&path, Some(&key('k'))).unwrap_err().to_string();
        assert!(
            e.contains("j.jsonl:2: `prev` does not match the HMAC of the line before"),
            "{e}"
        );
        // Cut short, with a head made from the next line's `prev`: the head's tag fails.
        write(&path, &good[..3]);
        let link3 = serde_json::from_str::<Value>(&good[3]).unwrap()["prev"]
            .as_str()
            .unwrap()
            .to_string();
        std::fs::write(head_path(&path), format!("3 {link3} {}\n", "0".repeat(64))).unwrap();
        let e = verify(&path, Some(&key('k'))).unwrap_err().to_string();
        assert!(
            e.contains("j.jsonl.head` was not written with the journal's key"),
            "{e}"
        );
        // A line of the other kind in the middle is refused.
        let mut mixed = good.clone();
        mixed[2] = mixed[2].replace(",\"mac\":\"hmac-sha256\"", "");
        write(&path, &mixed);
        std::fs::write(head_path(&path), &head).unwrap();
        let e = verify(&path, Some(&key('k'))).unwrap_err().to_string();
        assert!(
            e.contains("j.jsonl:3: the line is not keyed, but the first line is keyed"),
            "{e}"
        );
    }

    #[test]
    fn keys_are_long_and_never_shown() {
        let e = Key::new(b"s3cr3t").unwrap_err().to_string();
        assert!(e.contains("shorter than 32 characters") && !e.contains("s3cr3t"), "{e}");
        assert_eq!(format!("{:?}", key('k')), "Key(…)");
    }
}
