//! End-to-end tests of how inputs are read: users from the standard input
//! (`--users -`), a UTF-8 byte order mark at the start of a policy, a tests
//! file or a users file, and a tests file's problems, all reported at once
//! at their lines, with `[defaults]`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::Run;

const AS_OF: &str = "2026-11-23";
const POLICY: &str = "policies/example.policy";
const USERS: &str = "examples/users.csv";
const BOM: &[u8] = b"\xef\xbb\xbf";

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false, snapshot_path => "snapshots/inputs" }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn with_bom(path: &str) -> Vec<u8> {
    [BOM, &bytes(path)].concat()
}

fn plan_json(users: &str, input: Option<Vec<u8>>) -> serde_json::Value {
    let mut run = Run::new(&["plan", POLICY, "--users", users, "--as-of", AS_OF, "--format", "json"]);
    if let Some(input) = input {
        run = run.stdin(input);
    }
    let done = run.run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    serde_json::from_str(&done.stdout).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    dormant::digest::sha256_hex(bytes)
}

/// `--users -` plans what the file plans; the source is `file:-` and the
/// hash is of the bytes read, whichever format the first character says.
#[test]
fn plan_reads_the_users_from_stdin() {
    let from_file = plan_json(USERS, None);
    for path in [USERS, "tests/fixtures/users.json", "tests/fixtures/users.jsonl"] {
        let from_stdin = plan_json("-", Some(bytes(path)));
        assert_eq!(from_stdin["users"]["source"], "file:-");
        assert_eq!(from_stdin["users"]["sha256"], sha256(&bytes(path)).as_str(), "{path}");
        assert_eq!(from_stdin["decisions"], from_file["decisions"], "{path}");
        assert_eq!(from_stdin["summary"], from_file["summary"], "{path}");
    }
}

/// `explain`, `diff` and `forecast` read `--users -` too.
#[test]
fn every_command_that_takes_users_reads_stdin() {
    let runs: [&[&str]; 3] = [
        &["explain", POLICY, "u001"],
        &["diff", POLICY, "policies/example.policy"],
        &["forecast", POLICY, "--days", "30"],
    ];
    for args in runs {
        let with = |users: &'static str| [args, &["--users", users, "--as-of", AS_OF]].concat();
        let file = Run::new(&with(USERS)).run();
        let stdin = Run::new(&with("-")).stdin(bytes(USERS)).run();
        assert_eq!(file.code, 0, "{args:?}: {}", file.stderr);
        assert_eq!(stdin.code, 0, "{args:?}: {}", stdin.stderr);
        assert_eq!(stdin.stdout, file.stdout.replace(USERS, "-"), "{args:?}");
    }
}

/// Problems in users read from stdin are reported under `stdin`, and
/// nothing is planned.
#[test]
fn problems_in_users_from_stdin_name_stdin() {
    let done = Run::new(&["plan", POLICY, "--users", "-", "--as-of", AS_OF])
        .stdin("id,joined\nu1,2024-02-30\n")
        .run();
    assert_eq!(done.code, 1);
    assert_eq!(done.stdout, "");
    assert!(
        done.stderr.starts_with("error: stdin:2: column `joined`"),
        "{}",
        done.stderr
    );
}

/// A byte order mark before a CSV header or a JSON array is skipped, and
/// hashed with the rest of the file.
#[test]
fn a_users_file_may_start_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plan_json(USERS, None);
    for (name, from) in [("users.csv", USERS), ("users.json", "tests/fixtures/users.json")] {
        let path = dir.path().join(name);
        std::fs::write(&path, with_bom(from)).unwrap();
        let marked = plan_json(path.to_str().unwrap(), None);
        assert_eq!(marked["decisions"], plain["decisions"], "{name}");
        assert_eq!(marked["users"]["sha256"], sha256(&with_bom(from)).as_str(), "{name}");
    }
}

/// A policy with a byte order mark checks and plans as without; its
/// diagnostics' columns are counted after the mark.
#[test]
fn a_policy_may_start_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("marked.policy");
    std::fs::write(&path, with_bom(POLICY)).unwrap();
    let done = Run::new(&["check", path.to_str().unwrap(), "--as-of", AS_OF]).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let marked = Run::new(&["plan", path.to_str().unwrap(), "--users", USERS, "--as-of", AS_OF]).run();
    let plain = Run::new(&["plan", POLICY, "--users", USERS, "--as-of", AS_OF]).run();
    assert_eq!(marked.code, 0, "{}", marked.stderr);
    // The same plan, but for the policy's hash: the mark is a byte of the file.
    let marked_hash = sha256(&with_bom(POLICY));
    let plain_hash = sha256(&std::fs::read(POLICY).unwrap());
    assert!(marked.stdout.contains(&marked_hash), "{}", marked.stdout);
    assert_eq!(
        marked
            .stdout
            .replace(path.to_str().unwrap(), POLICY)
            .replace(&marked_hash, &plain_hash),
        plain.stdout
    );
    // The layout is the same with the mark, and `fmt` keeps the mark.
    let done = Run::new(&["fmt", "--check", path.to_str().unwrap()]).run();
    assert_eq!(done.code, 0, "{}{}", done.stdout, done.stderr);

    std::fs::write(&path, [BOM, b"admins: is_admin -> kep\n"].concat()).unwrap();
    let done = Run::new(&["--error-format", "plain", "check", path.to_str().unwrap()]).run();
    assert_eq!(done.code, 1);
    assert!(done.stderr.contains("marked.policy:1:21: error"), "{}", done.stderr);
}

/// A tests file with a byte order mark runs, and its lines are the same.
#[test]
fn a_tests_file_may_start_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("tests/fixtures/failing.policy", dir.path().join("failing.policy")).unwrap();
    std::fs::write(
        dir.path().join("failing.tests.toml"),
        with_bom("tests/fixtures/failing.tests.toml"),
    )
    .unwrap();
    let done = Run::new(&["test", "failing.policy"]).in_dir(dir.path()).run();
    assert_eq!(done.code, 1);
    assert!(
        done.stdout
            .contains("failing.tests.toml:9: case \"expects the wrong thing\": expected delete by old"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.ends_with("1 passed, 1 failed\n"), "{}", done.stdout);
}

/// Every problem of a tests file at once, in the order of the file, each
/// at its line and column, misspelt names with the closest one; no case
/// runs, and the summary says so.
#[test]
fn a_tests_file_reports_every_problem_at_once() {
    let done = Run::new(&["test", "tests/fixtures/tests_files/broken.policy", POLICY]).run();
    assert_eq!(done.code, 1);
    snapshot!("tests_file_problems", done.stderr);
    assert!(
        !done.stdout.contains("broken.policy:"),
        "no case of it ran: {}",
        done.stdout
    );
    assert!(
        done.stdout
            .ends_with("passed, 0 failed; 1 policy not tested (see the errors)\n"),
        "{}",
        done.stdout
    );
    // The other policy's cases still ran.
    assert!(done.stdout.contains("policies/example.policy: "), "{}", done.stdout);
}

/// `[defaults]` gives every case's user its fields, and a case's own win.
#[test]
fn defaults_are_where_every_case_starts() {
    let done = Run::new(&["test", "tests/fixtures/tests_files/defaults.policy"]).run();
    assert_eq!(done.code, 0, "{}{}", done.stdout, done.stderr);
    assert!(done.stdout.ends_with("3 passed, 0 failed\n"), "{}", done.stdout);
}
