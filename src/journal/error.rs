//! Why a journal could not be read, verified, written or trusted. The
//! variants that find a journal damaged name the file and its first bad
//! line; none of them ever holds the key.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    /// The key `journal_key_env` names.
    #[error("environment variable `{var}` (`journal_key_env` of dormant.toml) {problem}")]
    #[diagnostic(code(dormant::journal::key))]
    Key { var: String, problem: KeyProblem },
    #[error("cannot read journal `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::journal::read))]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot open journal `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::journal::write))]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot write journal `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::journal::write))]
    Write { path: PathBuf, source: std::io::Error },
    /// Its head file, or its lock.
    #[error(transparent)]
    #[diagnostic(transparent)]
    File(#[from] crate::files::Error),
    /// A line that is not what dormant wrote there.
    #[error("{path}:{line}: {damage}")]
    #[diagnostic(code(dormant::journal::damaged))]
    Damaged { path: String, line: u64, damage: Damage },
    #[error(
        "cannot verify `{path}`: it is a keyed journal (its first line has \"mac\": \"{mac}\"), each line linked to the one before by an HMAC that only its key can check, and no key was given: name the environment variable that holds the key with `journal_key_env` in dormant.toml, and export the key in it",
        mac = super::HMAC_SHA256
    )]
    #[diagnostic(code(dormant::journal::key))]
    KeyNeeded { path: String },
    #[error(
        "`{path}` is not keyed (its first line has no `mac`), but dormant.toml gives a key (`journal_key_env`): a journal is keyed from its first line or not at all, and an unkeyed journal is also what a keyed one rewritten without the key looks like; to key the journal, start a new one (a new `journal` path), or take `journal_key_env` out to go on with this one unkeyed"
    )]
    #[diagnostic(code(dormant::journal::key))]
    NotKeyed { path: String },
    #[error("`{}` is missing: lines cut from the end could not be seen", head.display())]
    #[diagnostic(code(dormant::journal::head))]
    HeadMissing { head: PathBuf },
    #[error("`{}` is damaged", head.display())]
    #[diagnostic(code(dormant::journal::head))]
    HeadDamaged { head: PathBuf },
    #[error(
        "`{}` was not written with the journal's key: it was replaced (perhaps to hide lines cut from the end), or the key is not the one the journal was written with",
        head.display()
    )]
    #[diagnostic(code(dormant::journal::head))]
    HeadForged { head: PathBuf },
    #[error("{path}: the head names line {count}, but the journal has {lines}: lines were cut from the end")]
    #[diagnostic(code(dormant::journal::head))]
    CutFromEnd { path: String, count: u64, lines: u64 },
    /// What planning says of a journal it cannot read notices from.
    #[error("{source}\nnotices are read only from a journal that verifies, and this one does not: restore it from a copy, or check it with `dormant journal verify`; nothing was planned")]
    #[diagnostic(code(dormant::journal::unverified))]
    Unverified { source: Box<Error> },
    /// A record that verifies but lacks what its event needs.
    #[error("{path}:{line}: a {what} needs {needs}")]
    #[diagnostic(code(dormant::journal::incomplete))]
    Incomplete {
        path: String,
        line: u64,
        what: &'static str,
        needs: &'static str,
    },
}

/// What is wrong with the key `journal_key_env` names.
#[derive(Debug, thiserror::Error)]
pub enum KeyProblem {
    #[error("is not set: export the journal's key in it")]
    NotSet,
    #[error("is empty: export the journal's key in it")]
    Empty,
    #[error("is not text")]
    NotText,
    #[error(
        "holds a key shorter than {min} characters, which could be guessed from the journal's own HMACs: make a random one, e.g. `openssl rand -hex 32`"
    )]
    Short { min: usize },
    #[error("holds a key HMAC-SHA256 does not take")]
    Refused,
}

/// What is wrong with one line of a journal.
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    #[error("not a journal record ({0}): the journal was damaged or edited")]
    NotARecord(String),
    #[error("`mac` is {0}, which dormant does not know (it writes \"{mac}\"): the journal was damaged or edited", mac = super::HMAC_SHA256)]
    UnknownMac(String),
    #[error("the line is {}, but the first line is {}: a journal is keyed or not from its first line, and one with both kinds of line is refused: a line was inserted or edited", keyed(*.this), keyed(*.first))]
    Mixed { this: bool, first: bool },
    #[error("`seq` is {found}, not {expected}: a line was removed, inserted or moved before it")]
    Seq { found: String, expected: u64 },
    #[error("`prev` does not match the line before: this line or the one before was edited")]
    Prev,
    // With the wrong key every link differs: say so, since the first
    // mismatch is then the second line, edited or not.
    #[error("`prev` does not match the HMAC of the line before: this line or the one before was edited, or the key is not the one the journal was written with")]
    PrevKeyed,
    #[error("the line does not match the head's hash: it was edited")]
    NotTheHead,
}

fn keyed(k: bool) -> &'static str {
    if k {
        "keyed"
    } else {
        "not keyed"
    }
}

/// How a journal fails a head kept apart from it. Each link covers its
/// line and, through `prev`, every line before: a match shows that nothing
/// up to that line changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Mismatch {
    #[error("the journal does not reach the kept head: expected line {line} with hash {hash}; found {lines} lines, the last with hash {last}: lines were removed from the end, or the journal was rewritten")]
    Short {
        line: u64,
        hash: String,
        lines: u64,
        last: String,
    },
    #[error("line {line} does not match the kept head: expected hash {hash}, found {}; the journal has {lines} lines, the last with hash {last}: it was rewritten at or before line {line}", found.as_deref().unwrap_or("none"))]
    Differs {
        line: u64,
        hash: String,
        found: Option<String>,
        lines: u64,
        last: String,
    },
    #[error("no line of the journal has the kept head's hash {hash}; found {lines} lines, the last with hash {last}: the journal was rewritten, or lines were removed from the end")]
    Absent { hash: String, lines: u64, last: String },
}

/// A head given on the command line that is not one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadKeptHead {
    #[error("`{0}` is not a number of lines: write LINES:HASH as `journal verify` prints it, or the hash alone")]
    Lines(String),
    #[error("`{0}` is not a head hash: that is 64 hexadecimal digits, as `journal verify` prints after `head LINES:`")]
    Hash(String),
}
