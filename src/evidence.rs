//! Evidence: one archive an auditor keeps of a plan and what it rests on.
//! The plan; the policy it was made under (its hash checked against the
//! plan's); the users it was made from, or only their hash when the
//! snapshot is not at hand; the journal of what was done, with the result
//! of verifying it; the HTML report (`plan --format html` of the same plan,
//! its provenance checked against the plan's); and a manifest of every member's
//! SHA-256, also as `SHA256SUMS` so that `sha256sum -c` checks it without
//! dormant.
//!
//! The archive is a gzipped tar whose bytes depend only on its members:
//! members in a fixed order, each dated `generated_at`, owned by nobody.
//! `verify` reads one back and checks every member against the manifest,
//! and the policy and users against the plan, naming the first that fails.

use crate::digest::sha256_hex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;

/// What an archive holds, besides the manifest and `SHA256SUMS`.
pub const PLAN: &str = "plan.json";
pub const MANIFEST: &str = "manifest.json";
pub const SUMS: &str = "SHA256SUMS";
pub const REPORT: &str = "report.html";

/// Why an archive could not be made, or does not verify.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("`{path}` is not a dormant plan: {detail}")]
    #[diagnostic(code(dormant::evidence::not_a_plan))]
    NotAPlan { path: String, detail: String },
    #[error("`{path}` is not the policy the plan was made under: its sha256 is {found}, the plan's {expected}; give the policy as it was (--policy FILE, e.g. from git)")]
    #[diagnostic(code(dormant::evidence::policy))]
    OtherPolicy {
        path: String,
        expected: String,
        found: String,
    },
    #[error("`{path}` is not the users the plan was made from: its sha256 is {found}, the plan's {expected}; give the snapshot the plan was made from (--users FILE), or none to keep only the hash")]
    #[diagnostic(code(dormant::evidence::users))]
    OtherUsers {
        path: String,
        expected: String,
        found: String,
    },
    #[error("cannot write the archive: {0}")]
    #[diagnostic(code(dormant::evidence::write))]
    Write(std::io::Error),
    #[error("not an evidence archive dormant wrote: {0}")]
    #[diagnostic(code(dormant::evidence::damaged))]
    Unreadable(String),
    #[error("`{0}` is missing from the archive")]
    #[diagnostic(code(dormant::evidence::missing))]
    Missing(String),
    #[error("`{name}` does not match the manifest: its sha256 is {found}, the manifest's {expected}: it was altered after the archive was made")]
    #[diagnostic(code(dormant::evidence::altered))]
    Altered {
        name: String,
        expected: String,
        found: String,
    },
    #[error("`{0}` is in the archive but not in its manifest: it was added after the archive was made")]
    #[diagnostic(code(dormant::evidence::altered))]
    Unlisted(String),
    #[error("`{name}` does not match the plan: its sha256 is {found}, the plan's {what} is {expected}")]
    #[diagnostic(code(dormant::evidence::altered))]
    NotThePlans {
        name: String,
        what: &'static str,
        expected: String,
        found: String,
    },
    #[error("`{name}` is not a report of this plan: its provenance says {what} {found}, the plan {expected}; make it with the plan's policy, users and --as-of (`plan --format html`)")]
    #[diagnostic(code(dormant::evidence::report))]
    OtherReport {
        name: String,
        what: &'static str,
        expected: String,
        found: String,
    },
    #[error("`{name}` does not verify as a journal: {detail}")]
    #[diagnostic(code(dormant::evidence::journal))]
    Journal { name: String, detail: String },
}

/// A file of the archive.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Member {
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Member {
        Member {
            name: name.into(),
            bytes,
        }
    }
}

/// The parts of a plan the manifest vouches for (its decisions are not
/// read).
#[derive(Debug, Clone, Deserialize)]
pub struct PlanHead {
    pub as_of: String,
    pub policy: Hashed,
    pub users: UsersHead,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hashed {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsersHead {
    pub source: String,
    pub count: usize,
    pub sha256: String,
}

/// `manifest.json`: what the archive holds and what was checked when it
/// was made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub generated_by: Generator,
    pub generated_at: String,
    pub as_of: String,
    pub policy: Included,
    pub users: Included,
    pub journal: Option<JournalEntry>,
    /// The HTML report's member, if the archive holds one.
    #[serde(default)]
    pub report: Option<String>,
    /// Every member but the manifest and `SHA256SUMS`, by name.
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Generator {
    pub name: String,
    pub version: String,
}

impl Generator {
    pub fn this() -> Generator {
        let this = crate::plan::GeneratedBy::THIS;
        Generator {
            name: this.name.to_string(),
            version: this.version.to_string(),
        }
    }
}

/// A policy or users the plan names: its hash, and the member holding it
/// if the archive does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Included {
    /// As the plan names it (`policies/x.policy`, `file:users.csv`, `connector:portal`).
    pub source: String,
    pub sha256: String,
    pub member: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalEntry {
    pub path: String,
    pub member: String,
    /// What `journal verify` found when the archive was made.
    pub verified: String,
    pub lines: u64,
    /// `LINES:HASH`, as `journal verify --head` takes it.
    pub head: String,
    pub keyed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub bytes: u64,
}

/// What goes into an archive; each part's hash is checked against the
/// plan's before anything is written.
pub struct Contents {
    pub plan: Vec<u8>,
    /// The policy's text, and the path it was read from.
    pub policy: (String, Vec<u8>),
    /// The users snapshot and its path, when at hand.
    pub users: Option<(String, Vec<u8>)>,
    pub journal: Option<JournalPart>,
    /// The HTML report of the plan.
    pub report: Option<Vec<u8>>,
    pub generated_at: String,
    /// Seconds since the epoch of `generated_at`: every member's date.
    pub mtime: u64,
}

/// A journal as it was verified when the archive was made.
pub struct JournalPart {
    pub path: String,
    pub bytes: Vec<u8>,
    pub head_file: Option<Vec<u8>>,
    pub verified: crate::journal::Verified,
}

/// The members of an archive and its manifest, checked against the plan.
pub fn members(c: Contents) -> Result<(Vec<Member>, Manifest), Error> {
    let plan: PlanHead = serde_json::from_slice(&c.plan).map_err(|e| Error::NotAPlan {
        path: PLAN.to_string(),
        detail: e.to_string(),
    })?;
    let (policy_path, policy_text) = c.policy;
    let found = sha256_hex(&policy_text);
    if found != plan.policy.sha256 {
        return Err(Error::OtherPolicy {
            path: policy_path,
            expected: plan.policy.sha256,
            found,
        });
    }
    let mut members = vec![Member::new(PLAN, c.plan)];
    let policy_member = format!("policy/{}", base_name(&policy_path, "policy.policy"));
    members.push(Member::new(policy_member.clone(), policy_text));
    let users_member = match c.users {
        Some((path, bytes)) => {
            let found = sha256_hex(&bytes);
            if found != plan.users.sha256 {
                return Err(Error::OtherUsers {
                    path,
                    expected: plan.users.sha256,
                    found,
                });
            }
            let name = format!("users/{}", base_name(&path, "users.json"));
            members.push(Member::new(name.clone(), bytes));
            Some(name)
        }
        None => None,
    };
    let journal = c.journal.map(|j| {
        let name = format!("journal/{}", base_name(&j.path, "dormant-journal.jsonl"));
        let v = &j.verified;
        let verified = format!(
            "{} lines, every one intact and in order ({}); head {}:{}",
            v.lines,
            if v.keyed {
                "HMAC-SHA256 checked with the key"
            } else {
                "SHA-256 chain"
            },
            v.lines,
            v.head
        );
        members.push(Member::new(name.clone(), j.bytes));
        if let Some(head) = j.head_file {
            members.push(Member::new(format!("{name}.head"), head));
        }
        JournalEntry {
            path: j.path,
            member: name,
            verified,
            lines: v.lines,
            head: v.kept_head(),
            keyed: v.keyed,
        }
    });
    let report = match c.report {
        Some(bytes) => {
            report_of(&bytes, &plan, REPORT)?;
            members.push(Member::new(REPORT, bytes));
            Some(REPORT.to_string())
        }
        None => None,
    };
    let files = members
        .iter()
        .map(|m| {
            let entry = FileEntry {
                sha256: sha256_hex(&m.bytes),
                bytes: m.bytes.len() as u64,
            };
            (m.name.clone(), entry)
        })
        .collect();
    let manifest = Manifest {
        generated_by: Generator::this(),
        generated_at: c.generated_at,
        as_of: plan.as_of,
        policy: Included {
            source: plan.policy.path,
            sha256: plan.policy.sha256,
            member: Some(policy_member),
        },
        users: Included {
            source: plan.users.source,
            sha256: plan.users.sha256,
            member: users_member,
        },
        journal,
        report,
        files,
    };
    Ok((members, manifest))
}

/// Checks that an HTML report is of the plan: the as-of, the policy's and
/// the users' hashes and count in its provenance block are the plan's.
fn report_of(report: &[u8], plan: &PlanHead, name: &str) -> Result<(), Error> {
    let text = String::from_utf8_lossy(report);
    let row = |label: &str| -> String {
        let start = format!("<dt>{label}</dt><dd class=\"mono\">");
        text.split_once(&start)
            .and_then(|(_, rest)| rest.split_once("</dd>"))
            .map_or_else(|| "nothing".to_string(), |(v, _)| v.to_string())
    };
    let same_time = |a: &str, b: &str| {
        crate::time::parse_time(a).is_some() && crate::time::parse_time(a) == crate::time::parse_time(b)
    };
    let checks: [(&'static str, String, &str, bool); 4] = [
        ("as of", row("as of"), &plan.as_of, false),
        ("policy sha256", row("policy sha256"), &plan.policy.sha256, true),
        ("users sha256", row("users sha256"), &plan.users.sha256, true),
        ("users count", row("users count"), &plan.users.count.to_string(), true),
    ];
    for (what, found, expected, exact) in checks {
        let same = if exact {
            found == expected
        } else {
            same_time(&found, expected)
        };
        if !same {
            return Err(Error::OtherReport {
                name: name.to_string(),
                what,
                expected: expected.to_string(),
                found,
            });
        }
    }
    Ok(())
}

/// The last part of a path, or `fallback` for a path without one.
fn base_name(path: &str, fallback: &str) -> String {
    let path = path.strip_prefix("file:").unwrap_or(path);
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| fallback.to_string(), |n| n.to_string_lossy().into_owned())
}

/// The archive's bytes: the members, then the manifest and `SHA256SUMS`.
pub fn archive(members: &[Member], manifest: &Manifest, mtime: u64) -> Result<Vec<u8>, Error> {
    let manifest_bytes = serde_json::to_vec_pretty(manifest).map_err(|e| Error::Write(std::io::Error::other(e)))?;
    let mut sums = String::new();
    for m in members {
        sums.push_str(&format!("{}  {}\n", sha256_hex(&m.bytes), m.name));
    }
    sums.push_str(&format!("{}  {MANIFEST}\n", sha256_hex(&manifest_bytes)));
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let all = members
        .iter()
        .map(|m| (m.name.as_str(), m.bytes.as_slice()))
        .chain([(MANIFEST, manifest_bytes.as_slice()), (SUMS, sums.as_bytes())]);
    for (name, bytes) in all {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, bytes).map_err(Error::Write)?;
    }
    let gz = tar.into_inner().map_err(Error::Write)?;
    gz.finish().map_err(Error::Write)
}

/// What `verify` found.
#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    /// Every member, with its size, in archive order.
    pub members: Vec<(String, u64)>,
    /// The journal, if the archive holds one, verified again.
    pub journal: Option<crate::journal::Verified>,
}

/// Reads an archive back and checks it: `SHA256SUMS` covers every other
/// member and each matches; the manifest agrees; the policy and users
/// members hash to what the plan says; the journal verifies. `key` is the
/// journal's key, for a keyed journal.
pub fn verify(archive: &[u8], key: Option<&crate::journal::Key>) -> Result<Verified, Error> {
    let files = read(archive)?;
    let get = |name: &str| files.get(name).ok_or_else(|| Error::Missing(name.to_string()));
    let sums = String::from_utf8_lossy(get(SUMS)?).into_owned();
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let (hash, name) = line
            .split_once("  ")
            .ok_or_else(|| Error::Unreadable(format!("`{SUMS}` has a line that is not `HASH  NAME`: {line}")))?;
        listed.insert(name.to_string(), hash.to_string());
    }
    for (name, bytes) in &files {
        if name == SUMS {
            continue;
        }
        let expected = listed.get(name).ok_or_else(|| Error::Unlisted(name.clone()))?;
        let found = sha256_hex(bytes);
        if &found != expected {
            return Err(Error::Altered {
                name: name.clone(),
                expected: expected.clone(),
                found,
            });
        }
    }
    if let Some(name) = listed.keys().find(|n| !files.contains_key(*n)) {
        return Err(Error::Missing(name.clone()));
    }
    let manifest: Manifest =
        serde_json::from_slice(get(MANIFEST)?).map_err(|e| Error::Unreadable(format!("`{MANIFEST}`: {e}")))?;
    for (name, entry) in &manifest.files {
        let found = sha256_hex(get(name)?);
        if found != entry.sha256 {
            return Err(Error::Altered {
                name: name.clone(),
                expected: entry.sha256.clone(),
                found,
            });
        }
    }
    if let Some(name) = files
        .keys()
        .find(|n| *n != MANIFEST && *n != SUMS && !manifest.files.contains_key(*n))
    {
        return Err(Error::Unlisted(name.clone()));
    }
    let plan: PlanHead = serde_json::from_slice(get(PLAN)?).map_err(|e| Error::NotAPlan {
        path: PLAN.to_string(),
        detail: e.to_string(),
    })?;
    let against = |member: &Option<String>, what: &'static str, expected: &str| -> Result<(), Error> {
        let Some(name) = member else { return Ok(()) };
        let found = sha256_hex(get(name)?);
        match found == expected {
            true => Ok(()),
            false => Err(Error::NotThePlans {
                name: name.clone(),
                what,
                expected: expected.to_string(),
                found,
            }),
        }
    };
    against(&manifest.policy.member, "policy sha256", &plan.policy.sha256)?;
    against(&manifest.users.member, "users sha256", &plan.users.sha256)?;
    if let Some(name) = &manifest.report {
        report_of(get(name)?, &plan, name)?;
    }
    let journal = match &manifest.journal {
        Some(j) => Some(verify_journal(&files, j, key)?),
        None => None,
    };
    let members = files.iter().map(|(n, b)| (n.clone(), b.len() as u64)).collect();
    Ok(Verified {
        manifest,
        members,
        journal,
    })
}

/// The journal member verified again, as `journal verify` would: from a
/// copy in a folder of its own, with its head.
fn verify_journal(
    files: &BTreeMap<String, Vec<u8>>,
    j: &JournalEntry,
    key: Option<&crate::journal::Key>,
) -> Result<crate::journal::Verified, Error> {
    let failed = |detail: String| Error::Journal {
        name: j.member.clone(),
        detail,
    };
    let dir = tempfile::tempdir().map_err(|e| failed(e.to_string()))?;
    let path = dir.path().join("journal.jsonl");
    let bytes = files.get(&j.member).ok_or_else(|| Error::Missing(j.member.clone()))?;
    std::fs::write(&path, bytes).map_err(|e| failed(e.to_string()))?;
    if let Some(head) = files.get(&format!("{}.head", j.member)) {
        std::fs::write(dir.path().join("journal.jsonl.head"), head).map_err(|e| failed(e.to_string()))?;
    }
    let v = crate::journal::verify(&path, key).map_err(|e| failed(e.to_string()))?;
    let head = v.kept_head();
    if head != j.head {
        return Err(failed(format!("its head is {head}, and the manifest's {}", j.head)));
    }
    Ok(v)
}

/// Every member of an archive, by name. Names must be plain relative paths
/// and appear once: an archive with `../` or a repeated name is refused.
fn read(archive: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let bad = |e: std::io::Error| Error::Unreadable(e.to_string());
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut files = BTreeMap::new();
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let plain = !name.starts_with('/') && name.split('/').all(|p| !p.is_empty() && p != ".." && p != ".");
        if !plain {
            return Err(Error::Unreadable(format!("a member named `{name}`")));
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(bad)?;
        if files.insert(name.clone(), bytes).is_some() {
            return Err(Error::Unreadable(format!("`{name}` is in it twice")));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(policy: &[u8], users: &[u8]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "as_of": "2026-11-23T00:00:00Z",
            "policy": {"path": "policies/p.policy", "sha256": sha256_hex(policy)},
            "users": {"source": "file:users.csv", "count": 1, "sha256": sha256_hex(users)},
            "decisions": [],
        }))
        .unwrap()
    }

    /// A report's provenance block, as `render::html` writes it.
    fn report(policy: &[u8], users: &[u8]) -> String {
        format!(
            "<dl><dt>as of</dt><dd class=\"mono\">2026-11-23T00:00:00Z</dd>\
             <dt>policy sha256</dt><dd class=\"mono\">{}</dd>\
             <dt>users count</dt><dd class=\"mono\">1</dd>\
             <dt>users sha256</dt><dd class=\"mono\">{}</dd></dl>",
            sha256_hex(policy),
            sha256_hex(users)
        )
    }

    fn made(policy: &[u8], users: Option<&[u8]>) -> Result<Vec<u8>, Error> {
        let contents = Contents {
            plan: plan(policy, b"id\nu1\n"),
            policy: ("policies/p.policy".into(), policy.to_vec()),
            users: users.map(|u| ("users.csv".to_string(), u.to_vec())),
            journal: None,
            report: Some(report(policy, b"id\nu1\n").into_bytes()),
            generated_at: "2026-12-07T00:00:00Z".into(),
            mtime: 1_796_515_200,
        };
        let (members, manifest) = members(contents)?;
        archive(&members, &manifest, 1_796_515_200)
    }

    /// Rewrites one member of an archive, keeping the others as they are.
    fn altered(archive: &[u8], name: &str, bytes: &[u8]) -> Vec<u8> {
        let files = read(archive).unwrap();
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (n, b) in &files {
            let b = if n == name { bytes } else { b.as_slice() };
            let mut header = tar::Header::new_gnu();
            header.set_size(b.len() as u64);
            header.set_mode(0o644);
            tar.append_data(&mut header, n, b).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn an_archive_verifies_and_is_the_same_bytes_every_time() {
        let a = made(b"x: status == invited -> delete\n", Some(b"id\nu1\n")).unwrap();
        let b = made(b"x: status == invited -> delete\n", Some(b"id\nu1\n")).unwrap();
        assert_eq!(a, b);
        let v = verify(&a, None).unwrap();
        let names: Vec<&str> = v.members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                SUMS,
                MANIFEST,
                PLAN,
                "policy/p.policy",
                "report.html",
                "users/users.csv"
            ]
        );
        assert_eq!(v.manifest.users.member.as_deref(), Some("users/users.csv"));
    }

    #[test]
    fn any_altered_member_fails_naming_it() {
        let a = made(b"x: status == invited -> delete\n", Some(b"id\nu1\n")).unwrap();
        for name in [
            PLAN,
            "policy/p.policy",
            "users/users.csv",
            "report.html",
            MANIFEST,
            SUMS,
        ] {
            let e = verify(&altered(&a, name, b"edited"), None).unwrap_err().to_string();
            assert!(e.contains(&format!("`{name}`")) || name == SUMS, "{name}: {e}");
            if name == SUMS {
                assert!(e.contains("not in its manifest") || e.contains("HASH  NAME"), "{e}");
            }
        }
    }

    #[test]
    fn a_report_of_another_plan_is_refused() {
        let policy = b"x: status == invited -> delete\n";
        let mut contents = Contents {
            plan: plan(policy, b"id\nu1\n"),
            policy: ("p.policy".into(), policy.to_vec()),
            users: None,
            journal: None,
            report: Some(report(policy, b"other users").into_bytes()),
            generated_at: String::new(),
            mtime: 0,
        };
        let e = members(contents).unwrap_err().to_string();
        assert!(
            e.contains("`report.html` is not a report of this plan") && e.contains("users sha256"),
            "{e}"
        );
        contents = Contents {
            plan: plan(policy, b"id\nu1\n"),
            policy: ("p.policy".into(), policy.to_vec()),
            users: None,
            journal: None,
            report: Some(b"<html>no provenance</html>".to_vec()),
            generated_at: String::new(),
            mtime: 0,
        };
        let e = members(contents).unwrap_err().to_string();
        assert!(e.contains("says as of nothing"), "{e}");
    }

    #[test]
    fn the_policy_and_users_must_be_the_plans() {
        let e = members(Contents {
            plan: plan(b"a", b"u"),
            policy: ("p.policy".into(), b"b".to_vec()),
            users: None,
            journal: None,
            report: None,
            generated_at: String::new(),
            mtime: 0,
        })
        .unwrap_err();
        assert!(matches!(e, Error::OtherPolicy { .. }), "{e}");
        let e = made(b"x", Some(b"other users")).unwrap_err();
        assert!(matches!(e, Error::OtherUsers { .. }), "{e}");
        // Without the snapshot the manifest keeps only its hash.
        let v = verify(&made(b"x", None).unwrap(), None).unwrap();
        assert_eq!(v.manifest.users.member, None);
        assert_eq!(v.manifest.users.sha256, sha256_hex(b"id\nu1\n"));
    }
}
