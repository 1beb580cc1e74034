//! Files that must never be seen half-written, shared by two runs, or
//! planted: whole-file writes through a temporary file of a name nobody can
//! guess, created exclusively beside the target and renamed over it; and
//! exclusive locks, so that two runs (overlapping cron jobs) never append to
//! one journal at once.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Who may read a file dormant writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only the owner: the journal, its head, the usage counts (they name
    /// users and what was done to them).
    Private,
    /// What a new file would get anyway: plans and formatted policies,
    /// which are meant to be shared and reviewed.
    Shared,
}

/// The temporary file a whole-file write goes through, in the target's
/// folder (a rename works only within one file system): a random name,
/// created with `O_EXCL` (an existing file or a planted symlink there is
/// never opened), readable by the owner alone until it is put in place.
pub fn temporary_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(dir)
}

/// Puts a finished temporary file in place of `path`, with the permissions
/// `mode` asks for.
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path, mode: Mode) -> std::io::Result<()> {
    set_mode(tmp.as_file(), mode)?;
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: Mode) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let bits = match mode {
        Mode::Private => 0o600,
        Mode::Shared => 0o644,
    };
    file.set_permissions(std::fs::Permissions::from_mode(bits))
}

#[cfg(not(unix))]
fn set_mode(_: &std::fs::File, _: Mode) -> std::io::Result<()> {
    Ok(())
}

/// Writes a whole file through a temporary one and a rename, so that a
/// crash never leaves half a file and a reader never sees one.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
    let mut tmp = temporary_beside(path)?;
    tmp.write_all(bytes)?;
    persist(tmp, path, mode)
}

/// Why a file could not be read, written or locked. Each error names the
/// path that was asked for, never a temporary file beside it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("cannot read `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::file::read))]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write `{}`: it is a folder; name a file", path.display())]
    #[diagnostic(code(dormant::file::write))]
    WriteFolder { path: PathBuf },
    #[error("cannot write `{}`: the folder `{}` does not exist", path.display(), folder.display())]
    #[diagnostic(code(dormant::file::write))]
    WriteNoFolder { path: PathBuf, folder: PathBuf },
    #[error("cannot write `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::file::write))]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot write to stdout: {0}")]
    #[diagnostic(code(dormant::file::write))]
    Stdout(std::io::Error),
    #[error("cannot create `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::file::create))]
    Create { path: PathBuf, source: std::io::Error },
    #[error("cannot open `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::file::open))]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot lock `{}`: {source}", path.display())]
    #[diagnostic(code(dormant::file::lock))]
    Lock { path: PathBuf, source: std::io::Error },
    #[error("{what} `{}` is in use by {who}: wait for it to finish, or add --wait to wait for it; nothing was done", path.display())]
    #[diagnostic(code(dormant::file::in_use))]
    InUse { what: String, path: PathBuf, who: String },
}

impl Error {
    /// Reading `path` failed.
    pub fn read(path: &Path, source: std::io::Error) -> Error {
        Error::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Writing `path` failed: says plainly why where the reason is a
    /// mistake in the path (a folder, a folder that is not there).
    pub fn write(path: &Path, source: std::io::Error) -> Error {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if path.is_dir() {
            Error::WriteFolder {
                path: path.to_path_buf(),
            }
        } else if let Some(d) = dir.filter(|d| !d.exists()) {
            Error::WriteNoFolder {
                path: path.to_path_buf(),
                folder: d.to_path_buf(),
            }
        } else {
            Error::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// Reads a text file, with an error that names it.
pub fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::read(path, e))
}

/// Opens (creating it, owner-only) a file for appending.
pub fn open_private_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// An exclusive lock, held until it is dropped: an OS lock on `PATH.lock`,
/// which holds the process id of the holder so that a run that finds it
/// taken can say who holds it. The lock file stays; removing it would let
/// a third run lock a new file while the second still waits on the old one.
#[derive(Debug)]
pub struct Lock {
    file: std::fs::File,
    path: PathBuf,
}

/// What to do when a lock is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait for the holder to finish.
    Yes,
    /// Stop at once with a message naming the holder.
    No,
}

impl Lock {
    /// Locks `what` (a journal, a usage file) through `PATH.lock`.
    pub fn exclusive(path: &Path, what: &str, wait: Wait) -> Result<Lock, Error> {
        let lock_path = {
            let mut p = path.as_os_str().to_owned();
            p.push(".lock");
            PathBuf::from(p)
        };
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Create {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&lock_path).map_err(|source| Error::Open {
            path: lock_path.clone(),
            source,
        })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                // The holder writes its id just after it takes the lock:
                // give it a moment to.
                let mut holder = String::new();
                for _ in 0..20 {
                    holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                    if !holder.trim().is_empty() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another run".to_string()
                } else {
                    format!("another run (process {holder})")
                };
                match wait {
                    Wait::No => {
                        return Err(Error::InUse {
                            what: what.to_string(),
                            path: path.to_path_buf(),
                            who,
                        })
                    }
                    Wait::Yes => {
                        eprintln!("waiting for {who} to finish with {what} `{}`", path.display());
                        file.lock().map_err(|source| Error::Lock {
                            path: lock_path.clone(),
                            source,
                        })?;
                    }
                }
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::Lock {
                    path: lock_path,
                    source: e,
                });
            }
        }
        let lock = Lock { file, path: lock_path };
        lock.say_holder();
        Ok(lock)
    }

    /// Writes this process's id into the lock file (best effort: the lock
    /// holds without it, only the message of a second run is poorer).
    fn say_holder(&self) {
        let mut f = &self.file;
        let _ = f.set_len(0);
        let _ = std::io::Seek::rewind(&mut f);
        let _ = f.write_all(std::process::id().to_string().as_bytes());
        let _ = f.flush();
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_then_granted_once_free() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.jsonl");
        let first = Lock::exclusive(&journal, "journal", Wait::No).unwrap();
        let second = Lock::exclusive(&journal, "journal", Wait::No)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            second.contains(&format!("in use by another run (process {})", std::process::id())),
            "{second}"
        );
        drop(first);
        assert!(Lock::exclusive(&journal, "journal", Wait::No).is_ok());
    }

    #[test]
    fn whole_file_writes_leave_no_temporary_and_never_follow_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("plan.json");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, dir.path().join("plan.json.partial")).unwrap();
        write_atomically(&target, b"{}", Mode::Shared).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).ok().as_deref(), Some("keep me"));
        assert_eq!(std::fs::read_to_string(&target).ok().as_deref(), Some("{}"));
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name().to_string_lossy().ends_with(".partial")
                    && e.path() != dir.path().join("plan.json.partial")
            })
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let head = dir.path().join("j.head");
        write_atomically(&head, b"1 x\n", Mode::Private).unwrap();
        let mode = std::fs::metadata(&head).map(|m| m.permissions().mode() & 0o777).ok();
        assert_eq!(mode, Some(0o600));
        let journal = dir.path().join("j.jsonl");
        drop(open_private_append(&journal).unwrap());
        let mode = std::fs::metadata(&journal).map(|m| m.permissions().mode() & 0o777).ok();
        assert_eq!(mode, Some(0o600));
    }

    #[test]
    fn messages_name_the_path_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let e = std::io::Error::other("x");
        let folder = Error::write(dir.path(), std::io::Error::other("x")).to_string();
        assert!(folder.contains("it is a folder"), "{folder}");
        let missing = dir.path().join("nope").join("x.json");
        let m = Error::write(&missing, e).to_string();
        assert!(m.contains("x.json`: the folder") && !m.contains("partial"), "{m}");
    }
}
