//! `dormant evidence`: an archive of a plan and what it rests on, made and
//! verified through the binary; any member altered fails `verify`, naming
//! the member; `sha256sum -c` checks it without dormant.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::Run;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A plan of the example users and its HTML report, a copy of a journal
/// beside them, in `dir`.
fn planned(dir: &Path) {
    std::fs::copy(format!("{ROOT}/examples/users.csv"), dir.join("users.csv")).unwrap();
    std::fs::copy(format!("{ROOT}/policies/example.policy"), dir.join("example.policy")).unwrap();
    for f in ["plain.jsonl", "plain.jsonl.head"] {
        std::fs::copy(format!("{ROOT}/tests/fixtures/journals/{f}"), dir.join(f)).unwrap();
    }
    let done = Run::new(&[
        "plan",
        "example.policy",
        "--users",
        "users.csv",
        "--as-of",
        "2026-11-23",
        "--format",
        "json",
        "--output",
        "plan.json",
    ])
    .in_dir(dir)
    .run();
    assert!(done.code == 0 || done.code == 3, "{}", done.stderr);
    let done = Run::new(&[
        "plan",
        "example.policy",
        "--users",
        "users.csv",
        "--as-of",
        "2026-11-23",
        "--output",
        "plan.html",
    ])
    .in_dir(dir)
    .run();
    assert!(done.code == 0 || done.code == 3, "{}", done.stderr);
}

fn members(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut out = BTreeMap::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).unwrap();
        out.insert(name, bytes);
    }
    out
}

fn packed(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, bytes.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

#[test]
fn a_fresh_archive_verifies_and_any_altered_member_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path());
    let made = Run::new(&[
        "evidence",
        "plan.json",
        "--journal",
        "plain.jsonl",
        "-o",
        "evidence.tar.gz",
    ])
    .in_dir(dir.path())
    .run();
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(
        made.stdout.contains("users/users.csv") && made.stdout.contains("journal/plain.jsonl"),
        "{}",
        made.stdout
    );

    let verified = Run::new(&["evidence", "verify", "evidence.tar.gz"])
        .in_dir(dir.path())
        .run();
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert!(
        verified.stdout.contains("every one as the manifest says"),
        "{}",
        verified.stdout
    );
    assert!(
        verified.stdout.contains("journal `journal/plain.jsonl`"),
        "{}",
        verified.stdout
    );

    let archive = std::fs::read(dir.path().join("evidence.tar.gz")).unwrap();
    let files = members(&archive);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "journal/plain.jsonl",
            "journal/plain.jsonl.head",
            "manifest.json",
            "plan.json",
            "policy/example.policy",
            "report.html",
            "users/users.csv"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["generated_by"]["name"], "dormant");
    assert_eq!(manifest["users"]["member"], "users/users.csv");
    assert_eq!(manifest["report"], "report.html");

    for name in files.keys().filter(|n| *n != "SHA256SUMS") {
        let mut altered = files.clone();
        altered.get_mut(name).unwrap().extend_from_slice(b"\n");
        std::fs::write(dir.path().join("altered.tar.gz"), packed(&altered)).unwrap();
        for format in ["plain", "json"] {
            let failed = Run::new(&["--error-format", format, "evidence", "verify", "altered.tar.gz"])
                .in_dir(dir.path())
                .run();
            assert_eq!(failed.code, 1, "{name}: {}", failed.stdout);
            assert!(
                failed.stderr.contains(&format!("`{name}`")),
                "{name}: {}",
                failed.stderr
            );
            assert_eq!(failed.stdout, "", "{name}: nothing is reported as verified");
        }
    }
    // A member added after the archive was made is named too.
    let mut added = files.clone();
    added.insert("users/extra.csv".into(), b"id\nx\n".to_vec());
    std::fs::write(dir.path().join("added.tar.gz"), packed(&added)).unwrap();
    let failed = Run::new(&["evidence", "verify", "added.tar.gz"])
        .in_dir(dir.path())
        .run();
    assert_eq!(failed.code, 1);
    assert!(
        failed
            .stderr
            .contains("`users/extra.csv` is in the archive but not in its manifest"),
        "{}",
        failed.stderr
    );
}

#[test]
fn sha256sum_checks_the_archive_without_dormant() {
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path());
    let made = Run::new(&["evidence", "plan.json", "-o", "evidence.tar.gz"])
        .in_dir(dir.path())
        .run();
    assert_eq!(made.code, 0, "{}", made.stderr);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (name, bytes) in members(&std::fs::read(dir.path().join("evidence.tar.gz")).unwrap()) {
        let path = out.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&out)
        .output()
        .expect("sha256sum (coreutils) runs");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

#[test]
fn a_policy_that_changed_since_the_plan_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path());
    let mut policy = std::fs::read_to_string(dir.path().join("example.policy")).unwrap();
    policy.push_str("\n# edited after the plan\n");
    std::fs::write(dir.path().join("example.policy"), policy).unwrap();
    let refused = Run::new(&["evidence", "plan.json", "-o", "evidence.tar.gz"])
        .in_dir(dir.path())
        .run();
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("is not the policy the plan was made under"),
        "{}",
        refused.stderr
    );
    assert!(!dir.path().join("evidence.tar.gz").exists());
    // The users file changed too: kept as a hash only, and said so.
    std::fs::copy(
        format!("{ROOT}/policies/example.policy"),
        dir.path().join("example.policy"),
    )
    .unwrap();
    let mut users = std::fs::read_to_string(dir.path().join("users.csv")).unwrap();
    users.push('\n');
    std::fs::write(dir.path().join("users.csv"), users).unwrap();
    let made = Run::new(&["evidence", "plan.json", "-o", "evidence.tar.gz"])
        .in_dir(dir.path())
        .run();
    assert_eq!(made.code, 0, "{}", made.stderr);
    assert!(
        made.stderr.contains("changed since the plan was made"),
        "{}",
        made.stderr
    );
    assert!(made.stdout.contains("the users' sha256 only"), "{}", made.stdout);
}

#[test]
fn a_report_of_another_as_of_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path());
    let done = Run::new(&[
        "plan",
        "example.policy",
        "--users",
        "users.csv",
        "--as-of",
        "2026-12-01",
        "--output",
        "later.html",
    ])
    .in_dir(dir.path())
    .run();
    assert!(done.code == 0 || done.code == 3, "{}", done.stderr);
    let refused = Run::new(&[
        "evidence",
        "plan.json",
        "--report",
        "later.html",
        "-o",
        "evidence.tar.gz",
    ])
    .in_dir(dir.path())
    .run();
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("`report.html` is not a report of this plan: its provenance says as of 2026-12-01"),
        "{}",
        refused.stderr
    );
    assert!(!dir.path().join("evidence.tar.gz").exists());
}
