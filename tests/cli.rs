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
    let policy = "policies/docspace.policy";
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

// ---- journal verify: kept heads and keyed journals ----------------------

const JOURNAL_KEY: &str = "0f4c1e9a7b3d5f2e8a6c4b1d9e7f3a5c";

/// A journal of four records written as apply writes them.
fn four_lines(path: &Path, key: Option<&str>) {
    let key = key.map(|k| dormant::journal::Key::new(k.as_bytes()).unwrap());
    let (mut j, _) = dormant::journal::Journal::open(path, dormant::files::Wait::No, key).unwrap();
    for user in ["a", "b", "c", "d"] {
        let record = serde_json::json!({"event": "intent", "user": user});
        j.append(&dormant::journal::Record::from_value(&record).unwrap())
            .unwrap();
    }
}

/// What anyone can do without a key: change user `b` to `x`, then make every
/// `prev` and the head match again with plain SHA-256 (dropping `mac`).
fn rewrite_whole_chain(path: &Path) {
    let mut prev = "0".repeat(64);
    let mut out = String::new();
    let text = std::fs::read_to_string(path).unwrap();
    for line in text.lines() {
        let mut record: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        record.remove("mac");
        if record["user"] == "b" {
            record.insert("user".into(), "x".into());
        }
        record.insert("prev".into(), prev.clone().into());
        let bytes = serde_json::Value::Object(record).to_string();
        prev = dormant::connector::file::sha256_hex(bytes.as_bytes());
        out.push_str(&bytes);
        out.push('\n');
    }
    std::fs::write(path, &out).unwrap();
    let head = format!("{} {prev}\n", out.lines().count());
    std::fs::write(path.with_file_name("j.jsonl.head"), head).unwrap();
}

/// The `LINES:HASH` a verify printed after `head `.
fn printed_head(stdout: &str) -> String {
    let at = stdout.find("; head ").expect("a head") + "; head ".len();
    stdout[at..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn journal_verify_against_a_kept_head_catches_a_rewritten_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    four_lines(&path, None);
    let done = Run::new(&["journal", "verify", "j.jsonl"]).in_dir(dir.path()).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        done.stdout
            .contains("4 lines, every one intact and in order (SHA-256 chain)"),
        "{}",
        done.stdout
    );
    let kept = printed_head(&done.stdout);
    assert!(kept.starts_with("4:"), "{kept}");
    // The journal grows: the kept head is still there, with lines after it.
    let (mut j, _) = dormant::journal::Journal::open(&path, dormant::files::Wait::No, None).unwrap();
    let record = serde_json::json!({"event": "intent", "user": "e"});
    j.append(&dormant::journal::Record::from_value(&record).unwrap())
        .unwrap();
    drop(j);
    let done = Run::new(&["journal", "verify", "j.jsonl", "--head", &kept])
        .in_dir(dir.path())
        .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        done.stdout.contains(
            "the kept head is line 4: nothing up to it changed since it was kept; the 1 line after it was added since"
        ),
        "{}",
        done.stdout
    );
    let grown = printed_head(&done.stdout);
    // Rewritten whole, head included: without the kept head it passes, and says it would.
    rewrite_whole_chain(&path);
    let done = Run::new(&["journal", "verify", "j.jsonl"]).in_dir(dir.path()).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        done.stdout
            .contains("a rewrite of the whole journal and its head passes too"),
        "{}",
        done.stdout
    );
    let found = printed_head(&done.stdout);
    assert_ne!(found, grown);
    // Against the kept head it fails, saying what was expected and found.
    let done = Run::new(&["journal", "verify", "j.jsonl", "--head", &grown])
        .in_dir(dir.path())
        .run();
    assert_eq!(done.code, 1, "{}", done.stdout);
    let (expected, found) = (&grown[2..], &found[2..]);
    assert!(
        done.stderr.contains(&format!(
            "line 5 does not match the kept head: expected hash {expected}, found {found}; the journal has 5 lines"
        )),
        "{}",
        done.stderr
    );
    // The hash alone, as the .head file's second field.
    let done = Run::new(&["journal", "verify", "j.jsonl", "--head", expected])
        .in_dir(dir.path())
        .run();
    assert_eq!(done.code, 1);
    assert!(
        done.stderr.contains(&format!(
            "no line of the journal has the kept head's hash {expected}; found 5 lines, the last with hash {found}"
        )),
        "{}",
        done.stderr
    );
    // Lines cut from the end, with the head file made to match.
    let text = std::fs::read_to_string(&path).unwrap();
    let short: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, short).unwrap();
    rewrite_whole_chain(&path);
    let done = Run::new(&["journal", "verify", "j.jsonl", "--head", &grown])
        .in_dir(dir.path())
        .run();
    assert_eq!(done.code, 1);
    assert!(
        done.stderr.contains(&format!(
            "the journal does not reach the kept head: expected line 5 with hash {expected}; found 3 lines"
        )),
        "{}",
        done.stderr
    );
    // A head that is not one is bad usage.
    let done = Run::new(&["journal", "verify", "j.jsonl", "--head", "5:abc"])
        .in_dir(dir.path())
        .run();
    assert_eq!(done.code, 2);
    assert!(done.stderr.contains("is not a head hash"), "{}", done.stderr);
}

fn keyed_config(dir: &Path) {
    std::fs::write(
        dir.join("dormant.toml"),
        "journal = \"j.jsonl\"\njournal_key_env = \"DORMANT_JOURNAL_KEY\"\n",
    )
    .unwrap();
}

#[test]
fn a_keyed_journal_rewritten_without_the_key_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    keyed_config(dir.path());
    let path = dir.path().join("j.jsonl");
    four_lines(&path, Some(JOURNAL_KEY));
    let verify = || {
        Run::new(&["journal", "verify"])
            .in_dir(dir.path())
            .secret("DORMANT_JOURNAL_KEY", JOURNAL_KEY)
            .run()
    };
    let done = verify();
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        done.stdout
            .contains("4 lines, every one intact and in order (every line's HMAC-SHA256 checked with the key)"),
        "{}",
        done.stdout
    );
    let good = std::fs::read_to_string(&path).unwrap();
    let good_head = std::fs::read_to_string(dir.path().join("j.jsonl.head")).unwrap();
    // Rewritten as anyone can without the key: refused.
    rewrite_whole_chain(&path);
    let done = verify();
    assert_eq!(done.code, 1, "{}", done.stdout);
    assert!(
        done.stderr
            .contains("`j.jsonl` is not keyed (its first line has no `mac`), but dormant.toml gives a key"),
        "{}",
        done.stderr
    );
    // Rewritten keyed, with a key of the forger's own: the HMACs fail.
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(dir.path().join("j.jsonl.head")).unwrap();
    four_lines(&path, Some(&"f".repeat(32)));
    let forged = std::fs::read_to_string(&path).unwrap().replace("\"b\"", "\"x\"");
    std::fs::write(&path, forged).unwrap();
    let done = verify();
    assert_eq!(done.code, 1, "{}", done.stdout);
    assert!(
        done.stderr
            .contains("j.jsonl:2: `prev` does not match the HMAC of the line before"),
        "{}",
        done.stderr
    );
    // Put back, it verifies again.
    std::fs::write(&path, good).unwrap();
    std::fs::write(dir.path().join("j.jsonl.head"), good_head).unwrap();
    assert_eq!(verify().code, 0);
}

#[test]
fn keyed_verify_without_the_key_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    keyed_config(dir.path());
    four_lines(&dir.path().join("j.jsonl"), Some(JOURNAL_KEY));
    // dormant.toml names the variable, and it is not set.
    let done = Run::new(&["journal", "verify"])
        .in_dir(dir.path())
        .without("DORMANT_JOURNAL_KEY")
        .never_shows(JOURNAL_KEY)
        .run();
    assert_eq!(done.code, 1);
    assert_eq!(done.stdout, "");
    assert!(
        done.stderr.contains("cannot verify `j.jsonl`: environment variable `DORMANT_JOURNAL_KEY` (`journal_key_env` of dormant.toml) is not set: export the journal's key in it"),
        "{}",
        done.stderr
    );
    // A short key is refused, and not shown.
    let done = Run::new(&["journal", "verify"])
        .in_dir(dir.path())
        .secret("DORMANT_JOURNAL_KEY", "hunter2-hunter2")
        .run();
    assert_eq!(done.code, 1);
    assert!(
        done.stderr.contains("holds a key shorter than 32 characters"),
        "{}",
        done.stderr
    );
    // No config names a key: the journal itself says it is keyed.
    std::fs::remove_file(dir.path().join("dormant.toml")).unwrap();
    let done = Run::new(&["journal", "verify", "j.jsonl"])
        .in_dir(dir.path())
        .secret("DORMANT_JOURNAL_KEY", JOURNAL_KEY)
        .run();
    assert_eq!(done.code, 1);
    assert!(
        done.stderr
            .contains("cannot verify `j.jsonl`: it is a keyed journal (its first line has \"mac\": \"hmac-sha256\")"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains("no key was given: name the environment variable that holds the key with `journal_key_env`"),
        "{}",
        done.stderr
    );
}

#[test]
fn undo_and_verify_of_a_journal_that_is_not_there_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let undo = Run::new(&["undo", "nonexistent.jsonl", "--yes"])
        .in_dir(dir.path())
        .run();
    assert_eq!(undo.code, 1, "{}", undo.stdout);
    assert!(
        undo.stderr.contains("no journal at `nonexistent.jsonl`") && undo.stderr.contains("nothing was undone"),
        "{}",
        undo.stderr
    );
    let verify = Run::new(&["journal", "verify", "nonexistent.jsonl"])
        .in_dir(dir.path())
        .run();
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    assert!(
        verify.stderr.contains("no journal at `nonexistent.jsonl`"),
        "{}",
        verify.stderr
    );
}

#[test]
fn apply_max_has_an_example_and_takes_one_or_more() {
    let done = Run::new(&["apply", "--help"]).run();
    assert_eq!(done.code, 0);
    assert!(
        done.stdout.contains("dormant apply plan.json --yes --max 250"),
        "{}",
        done.stdout
    );
    let zero = Run::new(&["apply", "plan.json", "--max", "0"]).run();
    assert_eq!(zero.code, 2, "{}", zero.stderr);
    assert!(zero.stderr.contains("--max"), "{}", zero.stderr);
}

/// `in []` is an error at its line and column in every error format, and
/// so is a journal that is not there, for undo as for verify: a mistyped
/// path is never reported as nothing to do.
#[test]
fn mistakes_that_are_errors_say_so_in_every_error_format() {
    let policy = "tests/corpus/check/err/in_empty_list.policy";
    let human = Run::new(&["check", policy]).run();
    assert_eq!(human.code, 1);
    assert!(human.stderr.contains("`group in []` is never true"), "{}", human.stderr);
    assert!(human.stderr.contains(&format!("[{policy}:3:17]")), "{}", human.stderr);
    let plain = Run::new(&["--error-format", "plain", "check", policy]).run();
    assert_eq!(plain.code, 1);
    assert!(
        plain.stderr.contains(&format!(
            "{policy}:3:17: error[dormant::empty_list]: `group in []` is never true"
        )),
        "{}",
        plain.stderr
    );
    let json = Run::new(&["--error-format", "json", "check", policy]).run();
    assert_eq!(json.code, 1);
    let all: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let d = &all[0];
    assert_eq!(d["code"], "dormant::empty_list");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(3), Some(17)));
    // And plan refuses it too, in every format.
    for format in ["human", "plain", "json"] {
        let planned = Run::new(&[
            "--error-format",
            format,
            "plan",
            policy,
            "--users",
            "examples/users.csv",
            "--as-of",
            "2026-11-23",
        ])
        .run();
        assert_eq!(planned.code, 1, "{format}: {}", planned.stderr);
        assert!(planned.stderr.contains("dormant::empty_list") || planned.stderr.contains("is never true"));
        assert_eq!(planned.stdout, "", "{format}: nothing is planned");
    }

    let dir = tempfile::tempdir().unwrap();
    for format in ["human", "plain", "json"] {
        for args in [
            vec!["undo", "nonexistent.jsonl", "--yes"],
            vec!["journal", "verify", "nonexistent.jsonl"],
        ] {
            let mut all = vec!["--error-format", format];
            all.extend(args.iter().copied());
            let done = Run::new(&all).in_dir(dir.path()).run();
            assert_eq!(done.code, 1, "{format} {args:?}: {}", done.stdout);
            assert!(
                done.stderr.contains("no journal at `nonexistent.jsonl`"),
                "{format} {args:?}: {}",
                done.stderr
            );
            if format == "json" {
                let line: serde_json::Value = serde_json::from_str(done.stderr.lines().next().unwrap()).unwrap();
                assert_eq!(line["severity"], "error", "{}", done.stderr);
            }
        }
    }
}

/// A runtime error (not at a span of a policy) is printed once, at the top,
/// in the format asked for: `error: …` for people, one JSON object with the
/// stage's own code for machines, and the exit status its stage gives.
#[test]
fn runtime_errors_are_printed_once_with_their_stage_s_code() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let policy = format!("{root}/policies/example.policy");
    let cases: [(Vec<&str>, &str, i32, &str); 4] = [
        (
            vec!["plan", &policy, "--users", "missing.csv", "--as-of", "2026-11-23"],
            "dormant::users_file",
            1,
            "nothing was planned",
        ),
        (
            vec!["apply", "missing-plan.json", "--yes"],
            "dormant::file::read",
            1,
            "cannot read `missing-plan.json`",
        ),
        (
            vec!["undo", "nonexistent.jsonl", "--yes"],
            "dormant::journal::missing",
            1,
            "nothing was undone",
        ),
        (
            vec!["plan", &policy, "--connector", "crm", "--as-of", "2026-11-23"],
            "dormant::config::missing",
            1,
            "--connector crm needs a config",
        ),
    ];
    for (args, code, status, words) in cases {
        let mut json = vec!["--error-format", "json"];
        json.extend(args.iter().copied());
        let done = Run::new(&json).in_dir(dir.path()).run();
        assert_eq!(done.code, status, "{args:?}: {}", done.stderr);
        let lines: Vec<&str> = done.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line, printed once: {}", done.stderr);
        let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(line["severity"], "error");
        assert_eq!(line["code"], code, "{args:?}");
        assert!(line["message"].as_str().unwrap().contains(words), "{line}");

        let mut plain = vec!["--error-format", "plain"];
        plain.extend(args.iter().copied());
        let done = Run::new(&plain).in_dir(dir.path()).run();
        assert_eq!(done.code, status);
        assert!(
            done.stderr.starts_with("error: ") && done.stderr.contains(words),
            "{}",
            done.stderr
        );
        assert_eq!(done.stderr.matches("error: ").count(), 1, "{}", done.stderr);
        assert_eq!(done.stdout, "");
    }
}
