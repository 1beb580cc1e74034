//! `dormant evidence PLAN.json -o ARCHIVE` and `dormant evidence verify ARCHIVE`.

use super::{load_config, Failure, Output};
use crate::cli::{EvidenceArgs, EvidenceCommand};
use crate::evidence::{self, Contents, JournalPart, PlanHead, UsersHead};
use crate::Exit;
use std::path::{Path, PathBuf};

pub fn run(args: &EvidenceArgs, out: &Output) -> Result<Exit, Failure> {
    match &args.command {
        Some(EvidenceCommand::Verify { archive }) => verify(archive, out),
        None => make(args, out),
    }
}

fn make(args: &EvidenceArgs, out: &Output) -> Result<Exit, Failure> {
    // clap requires both without a subcommand.
    let (Some(plan_path), Some(output)) = (&args.plan, &args.output) else {
        return Ok(Exit::Usage);
    };
    let plan = std::fs::read(plan_path).map_err(|e| crate::files::Error::read(plan_path, e))?;
    let named: PlanHead = serde_json::from_slice(&plan).map_err(|e| evidence::Error::NotAPlan {
        path: plan_path.display().to_string(),
        detail: e.to_string(),
    })?;
    let policy_path = args.policy.clone().unwrap_or_else(|| PathBuf::from(&named.policy.path));
    let policy = std::fs::read(&policy_path).map_err(|e| crate::files::Error::read(&policy_path, e))?;
    let users = users(args.users.as_deref(), &named.users)?;
    let journal = journal(args.journal.as_deref(), out)?;
    let now = super::generated_at()?;
    let contents = Contents {
        plan,
        policy: (policy_path.display().to_string(), policy),
        users,
        journal,
        report: report(args.report.as_deref(), plan_path)?,
        generated_at: crate::time::format_time(now),
        mtime: u64::try_from(now.timestamp()).unwrap_or_default(),
    };
    let mtime = contents.mtime;
    let (members, manifest) = evidence::members(contents)?;
    let bytes = evidence::archive(&members, &manifest, mtime)?;
    super::write_atomically(output, &bytes)?;
    println!("{}", kept(output, &manifest, &bytes));
    Ok(Exit::Ok)
}

/// The users snapshot to keep: the one given, which must be the plan's;
/// else the plan's users file if it is still as it was; else none, and the
/// archive keeps the hash alone.
fn users(given: Option<&Path>, named: &UsersHead) -> Result<Option<(String, Vec<u8>)>, Failure> {
    if let Some(path) = given {
        let bytes = std::fs::read(path).map_err(|e| crate::files::Error::read(path, e))?;
        return Ok(Some((path.display().to_string(), bytes)));
    }
    let Some(path) = named.source.strip_prefix("file:") else {
        return Ok(None);
    };
    match std::fs::read(path) {
        Ok(bytes) if crate::digest::sha256_hex(&bytes) == named.sha256 => Ok(Some((path.to_string(), bytes))),
        Ok(_) => {
            eprintln!("note: `{path}` changed since the plan was made: the archive keeps the users' hash only (give the snapshot with --users)");
            Ok(None)
        }
        Err(_) => Ok(None),
    }
}

/// The HTML report to keep: the one given, else `PLAN.html` beside the
/// plan if there is one.
fn report(given: Option<&Path>, plan: &Path) -> Result<Option<Vec<u8>>, Failure> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => match plan.with_extension("html") {
            p if p.exists() => p,
            _ => return Ok(None),
        },
    };
    Ok(Some(
        std::fs::read(&path).map_err(|e| crate::files::Error::read(&path, e))?,
    ))
}

/// The journal to keep, verified: the one given, else dormant.toml's if it
/// exists.
fn journal(given: Option<&Path>, out: &Output) -> Result<Option<JournalPart>, Failure> {
    let config = load_config(out)?;
    let path = match (given, &config) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(c)) if c.journal.exists() => c.journal.clone(),
        (None, _) => return Ok(None),
    };
    if !path.exists() {
        return Err(Failure::NoJournal { path });
    }
    let key = match &config {
        Some(c) => c.journal_key()?,
        None => None,
    };
    let verified = crate::journal::verify(&path, key.as_ref())?;
    let bytes = std::fs::read(&path).map_err(|e| crate::files::Error::read(&path, e))?;
    let head_path = PathBuf::from(format!("{}.head", path.display()));
    let head_file = std::fs::read(&head_path).ok();
    Ok(Some(JournalPart {
        path: path.display().to_string(),
        bytes,
        head_file,
        verified,
    }))
}

/// What the archive holds, in one line.
fn kept(output: &Path, m: &evidence::Manifest, bytes: &[u8]) -> String {
    let users = match &m.users.member {
        Some(name) => name.clone(),
        None => format!("the users' sha256 only ({})", m.users.source),
    };
    let journal = match &m.journal {
        Some(j) => format!("{} ({} lines, head {})", j.member, j.lines, j.head),
        None => "no journal".to_string(),
    };
    let report = match &m.report {
        Some(name) => name.as_str(),
        None => "no report (make one with `plan --format html --output PLAN.html`)",
    };
    format!(
        "wrote `{}`: {} files: the plan, {}, {users}, {journal}, {report}; sha256 {}",
        output.display(),
        m.files.len() + 2,
        m.policy.member.as_deref().unwrap_or("the policy"),
        crate::digest::sha256_hex(bytes)
    )
}

fn verify(archive: &Path, out: &Output) -> Result<Exit, Failure> {
    let bytes = std::fs::read(archive).map_err(|e| crate::files::Error::read(archive, e))?;
    let key = match load_config(out)? {
        Some(c) => c.journal_key()?,
        None => None,
    };
    let v = evidence::verify(&bytes, key.as_ref())?;
    println!(
        "evidence `{}`: {} files, every one as the manifest says (SHA-256)",
        archive.display(),
        v.members.len()
    );
    println!(
        "the policy ({}) and the users ({}) are the plan's",
        v.manifest.policy.source,
        match &v.manifest.users.member {
            Some(_) => v.manifest.users.source.clone(),
            None => format!("hash only, {}", v.manifest.users.source),
        }
    );
    if let (Some(j), Some(jv)) = (&v.manifest.journal, &v.journal) {
        println!(
            "journal `{}`: {} lines, intact and in order; head {}:{}",
            j.member, jv.lines, jv.lines, jv.head
        );
    }
    println!(
        "made by {} {} at {}, for as-of {}",
        v.manifest.generated_by.name, v.manifest.generated_by.version, v.manifest.generated_at, v.manifest.as_of
    );
    Ok(Exit::Ok)
}
