//! End-to-end tests of the `dormant` binary: exit statuses, what goes to
//! stdout and stderr, and that files are changed only when asked.

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

fn example_policies() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .map(|p| format!("policies/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    v.sort();
    assert!(v.len() >= 4);
    v
}

#[test]
fn check_passes_the_example_policies_silently() {
    let mut args = vec!["check", "--as-of", "2026-11-23"];
    let policies = example_policies();
    args.extend(policies.iter().map(String::as_str));
    let done = Run::new(&args).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(done.stdout, "");
    assert_eq!(done.stderr, "");
}

#[test]
fn check_reports_errors_with_location_and_exits_1() {
    let done = Run::new(&["check", "tests/corpus/check/err/unknown_field_misspelt.policy"]).run();
    assert_eq!(done.code, 1);
    assert!(
        done.stderr.contains("unknown_field_misspelt.policy:1:8"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("did you mean `group`?"));
    assert!(done.stderr.ends_with("2 errors, 0 warnings\n"), "{}", done.stderr);
    // Not a terminal: no colour codes.
    assert!(!done.stderr.contains('\u{1b}'));
}

#[test]
fn warnings_alone_do_not_fail_check() {
    let done = Run::new(&["check", "tests/corpus/check/warn/unused_let.policy"]).run();
    assert_eq!(done.code, 0);
    assert!(done.stderr.contains("`contractors` is never used"));
}

#[test]
fn check_keeps_going_over_every_file() {
    let done = Run::new(&[
        "check",
        "tests/corpus/check/err/limit_on_keep.policy",
        "missing.policy",
        "tests/corpus/check/err/unknown_action.policy",
    ])
    .run();
    assert_eq!(done.code, 1);
    assert!(done.stderr.contains("limit_on_keep"));
    assert!(done.stderr.contains("cannot read `missing.policy`"));
    assert!(done.stderr.contains("unknown action `delet`"));
}

#[test]
fn json_diagnostics_for_machines() {
    let done = Run::new(&[
        "check",
        "--error-format",
        "json",
        "tests/corpus/check/err/syntax_single_equals.policy",
        "policies/example.policy",
    ])
    .run();
    assert_eq!(done.code, 1);
    let value: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    let diags = value.as_array().unwrap();
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "dormant::syntax");
    assert_eq!(d["file"], "tests/corpus/check/err/syntax_single_equals.policy");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(1), Some(15)));
    assert_eq!(
        (d["span"]["start"].as_u64(), d["span"]["end"].as_u64()),
        (Some(14), Some(15))
    );
    assert_eq!(d["help"], "use `==` to compare");
    assert!(d["message"]
        .as_str()
        .unwrap()
        .starts_with("expected a comparison operator"));
}

#[test]
fn plain_diagnostics_one_line_each() {
    let done = Run::new(&[
        "check",
        "--error-format",
        "plain",
        "tests/corpus/check/err/type_bool.policy",
    ])
    .run();
    assert_eq!(done.code, 1);
    let first = done.stderr.lines().next().unwrap();
    assert_eq!(
        first,
        "tests/corpus/check/err/type_bool.policy:1:16: error[dormant::type_mismatch]: \
         type mismatch: `is_admin` is true or false, but `1` is a number"
    );
}

#[test]
fn fmt_check_passes_the_example_policies() {
    let mut args = vec!["fmt", "--check"];
    let policies = example_policies();
    args.extend(policies.iter().map(String::as_str));
    let done = Run::new(&args).run();
    assert_eq!((done.code, done.stdout.as_str(), done.stderr.as_str()), (0, "", ""));
}

#[test]
fn fmt_check_lists_files_that_would_change_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let messy = "r:is_admin->keep\n";
    std::fs::write(dir.path().join("a.policy"), messy).unwrap();
    std::fs::write(dir.path().join("b.policy"), "r: is_admin -> keep\n").unwrap();
    let done = Run::new(&["fmt", "--check", "a.policy", "b.policy"])
        .in_dir(dir.path())
        .run();
    assert_eq!(done.code, 1);
    assert_eq!(done.stdout, "a.policy\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("a.policy")).unwrap(), messy);
}

#[test]
fn fmt_rewrites_in_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.policy"), "r:is_admin->keep\n").unwrap();
    let done = Run::new(&["fmt", "a.policy"]).in_dir(dir.path()).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.policy")).unwrap(),
        "r: is_admin -> keep\n"
    );
    let again = Run::new(&["fmt", "--check", "a.policy"]).in_dir(dir.path()).run();
    assert_eq!(again.code, 0);
}

#[test]
fn fmt_leaves_a_file_with_a_syntax_error_alone() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "r:  status = invited -> delete\n";
    std::fs::write(dir.path().join("a.policy"), broken).unwrap();
    let done = Run::new(&["fmt", "a.policy"]).in_dir(dir.path()).run();
    assert_eq!(done.code, 1);
    assert!(done.stderr.contains("use `==` to compare"));
    assert_eq!(std::fs::read_to_string(dir.path().join("a.policy")).unwrap(), broken);
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(Run::new(&[]).run().code, 2);
    assert_eq!(Run::new(&["check"]).run().code, 2);
    assert_eq!(Run::new(&["frobnicate"]).run().code, 2);
    let done = Run::new(&["check", "--as-of", "yesterday", "policies/example.policy"]).run();
    assert_eq!(done.code, 2);
    assert!(done.stderr.contains("not a date"));
}

#[test]
fn help_shows_examples() {
    let done = Run::new(&["check", "--help"]).run();
    assert_eq!(done.code, 0);
    assert!(done.stdout.contains("Examples:"));
    assert!(done.stdout.contains("dormant check policies/*.policy"));
}

#[test]
fn expired_exemptions_are_judged_as_of_the_given_day() {
    let policy = "policies/contractors.policy";
    assert_eq!(Run::new(&["check", "--as-of", "2027-06-30", policy]).run().stderr, "");
    let later = Run::new(&["check", "--as-of", "2027-07-01", policy]).run();
    assert_eq!(later.code, 0);
    assert!(later.stderr.contains("this exemption has expired"), "{}", later.stderr);
}

#[test]
fn plan_output_is_written_through_a_fresh_temporary_file_and_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let plan = |output: &str| {
        Run::new(&[
            "plan",
            root.join("policies/example.policy").to_str().unwrap(),
            "--users",
            root.join("examples/users.csv").to_str().unwrap(),
            "--as-of",
            "2026-11-23",
            "--format",
            "json",
            "--output",
            output,
        ])
        .in_dir(dir.path())
        .run()
    };
    // A planted link at the old fixed temporary name is never followed.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, dir.path().join("plan.json.partial")).unwrap();
    let out = plan("plan.json");
    assert!(matches!(out.code, 0 | 3), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap()).unwrap();
    assert!(written["decisions"].is_array());
    // Two at once leave one whole plan.
    let both: Vec<_> = (0..2)
        .map(|_| {
            let (policy, users, d) = (
                root.join("policies/example.policy"),
                root.join("examples/users.csv"),
                dir.path().to_path_buf(),
            );
            std::thread::spawn(move || {
                Run::new(&[
                    "plan",
                    policy.to_str().unwrap(),
                    "--users",
                    users.to_str().unwrap(),
                    "--as-of",
                    "2026-11-23",
                    "--format",
                    "json",
                    "--output",
                    "same.json",
                ])
                .in_dir(&d)
                .run()
            })
        })
        .collect();
    for t in both {
        let out = t.join().unwrap();
        assert!(matches!(out.code, 0 | 3), "{}", out.stderr);
    }
    let same: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("same.json")).unwrap()).unwrap();
    assert_eq!(same, written);
    // Nothing but the outputs (and the planted link) is left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["plan.json", "plan.json.partial", "same.json", "victim"]);
    // A folder, or a folder that is not there: named as asked, no temporary.
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    let out = plan("adir");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("cannot write `adir`: it is a folder"),
        "{}",
        out.stderr
    );
    let out = plan("/nonexistent/x.json");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cannot write `/nonexistent/x.json`: the folder `/nonexistent` does not exist"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("partial"), "{}", out.stderr);
}
