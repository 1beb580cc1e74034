//! Input past dormant's limits (`src/limits.rs`) is refused with a message
//! that names the limit and where it was passed: never a crash, never a
//! run that does not end, never a message about something else.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::Run;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn deep_conditions_are_refused_by_check_fmt_and_plan_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let users = write(dir.path(), "users.csv", "id,is_admin\nu1,false\n");
    let policies = [
        (
            "parentheses.policy",
            format!("r: {}is_admin{} -> keep\n", "(".repeat(5000), ")".repeat(5000)),
            "1:260",
        ),
        (
            "nots.policy",
            format!("r: {}is_admin -> keep\n", "not ".repeat(10_000)),
            "1:1028",
        ),
    ];
    for (name, text, at) in policies {
        let policy = write(dir.path(), name, &text);
        for args in [
            vec!["check", "--error-format", "plain", &policy],
            vec!["fmt", "--error-format", "plain", &policy],
            vec!["plan", "--error-format", "plain", &policy, "--users", &users],
        ] {
            let done = Run::new(&args).in_dir(dir.path()).run();
            assert_eq!(done.code, 1, "{args:?}: {}", done.stderr);
            assert!(
                done.stderr.contains(&format!(
                    "{name}:{at}: error[dormant::too_deep]: this condition nests more than 256 deep"
                )),
                "{args:?}: {}",
                done.stderr
            );
        }
    }
}

#[test]
fn a_duration_past_the_calendar_is_a_check_error_at_its_span() {
    let dir = tempfile::tempdir().unwrap();
    let users = write(dir.path(), "users.csv", "id,joined\nu1,2020-01-01\n");
    let policy = write(
        dir.path(),
        "p.policy",
        "admins: is_admin -> keep\nold: joined > 3000000000h -> delete\n",
    );
    for args in [
        vec!["check", "--error-format", "plain", &policy],
        vec!["plan", "--error-format", "plain", &policy, "--users", &users],
    ] {
        let done = Run::new(&args).in_dir(dir.path()).run();
        assert_eq!(done.code, 1, "{args:?}: {}", done.stderr);
        assert!(
            done.stderr
                .contains("p.policy:2:15: error[dormant::bad_literal]: duration `3000000000h` is too long"),
            "{args:?}: {}",
            done.stderr
        );
        assert!(!done.stderr.contains("internal error"), "{}", done.stderr);
    }
}

#[test]
fn ten_thousand_rules_are_checked_in_moments() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("admins: is_admin -> keep\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "r{i}: group in [g{i}] and inactive > {}d -> delete\n",
            i % 365 + 1
        ));
    }
    let policy = write(dir.path(), "big.policy", &text);
    let t = std::time::Instant::now();
    let done = Run::new(&["check", &policy]).in_dir(dir.path()).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    // Pairwise, this took minutes in a debug build; indexed, a second or two.
    assert!(t.elapsed() < std::time::Duration::from_secs(30), "{:?}", t.elapsed());
}

#[test]
fn thousands_of_unknown_names_are_checked_in_moments() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!("let l{i:05} = is_admin\n"));
    }
    for i in 0..10_000 {
        text.push_str(&format!("r{i}: l{i:05} or m{i:05} -> keep\n"));
    }
    let policy = write(dir.path(), "names.policy", &text);
    let t = std::time::Instant::now();
    let done = Run::new(&["check", "--error-format", "plain", &policy])
        .in_dir(dir.path())
        .run();
    assert_eq!(done.code, 1);
    // Suggestions stop once they have compared a million names.
    assert!(done.stderr.contains("unknown field `m00000`"));
    assert!(
        done.stderr.ends_with("10000 errors, 0 warnings\n"),
        "{}",
        &done.stderr[done.stderr.len() - 200..]
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(30), "{:?}", t.elapsed());
}

#[test]
fn long_lists_and_many_comments_are_checked_in_moments() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<String> = (0..20_000).map(|i| format!("G{i}")).collect();
    let reversed: Vec<String> = items.iter().rev().cloned().collect();
    let mut text = format!(
        "admins: is_admin -> keep\na: group in [{}] -> delete\nb: group in [{}] and inactive > 1d -> delete\n",
        items.join(", "),
        reversed.join(", ")
    );
    for i in 0..20_000 {
        text.push_str(&format!("# rule {i}\nr{i}: group in [g{i}] -> delete  # why {i}\n"));
    }
    let policy = write(dir.path(), "long.policy", &text);
    for command in ["check", "fmt"] {
        let t = std::time::Instant::now();
        let done = Run::new(&[command, "--error-format", "plain", &policy])
            .in_dir(dir.path())
            .run();
        assert_eq!(done.code, 0, "{}", done.stderr);
        // Before, check took minutes in a debug build: each rule's list was
        // compared item by item with the long one, and each span of the
        // parse looked through every comment.
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "{command}: {:?}",
            t.elapsed()
        );
    }
    let done = Run::new(&["check", "--error-format", "plain", &policy])
        .in_dir(dir.path())
        .run();
    assert!(
        done.stderr
            .contains("long.policy:3:1: warning[dormant::unreachable_rule]: rule `b` can never match"),
        "{}",
        done.stderr
    );
}
