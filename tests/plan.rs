//! End-to-end tests of planning over users files: every output format and
//! command as a snapshot, with a fixed as-of, and every exit status.

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

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false, snapshot_path => "snapshots/plan" }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn plan(format: &str) -> common::Done {
    Run::new(&["plan", POLICY, "--users", USERS, "--as-of", AS_OF, "--format", format]).run()
}

#[test]
fn plan_in_every_format() {
    for format in ["table", "json", "csv", "markdown"] {
        let done = plan(format);
        assert_eq!(done.code, 0, "{}", done.stderr);
        assert_eq!(done.stderr, "");
        snapshot!(format!("plan_{format}"), done.stdout);
    }
}

#[test]
fn plan_json_has_the_spec_keys() {
    let v: serde_json::Value = serde_json::from_str(&plan("json").stdout).unwrap();
    assert_eq!(v["as_of"], "2026-11-23T00:00:00Z");
    assert_eq!(v["policy"]["path"], POLICY);
    let policy = std::fs::read(POLICY).unwrap();
    assert_eq!(v["policy"]["sha256"], dormant::connector::file::sha256_hex(&policy));
    assert_eq!(v["users"]["source"], "file:examples/users.csv");
    assert_eq!(v["users"]["count"], 14);
    assert_eq!(v["users"]["sha256"].as_str().unwrap().len(), 64);
    let summary = &v["summary"];
    let total: u64 = ["keep", "review", "notify", "wait", "deactivate", "delete"]
        .iter()
        .map(|k| summary[k].as_u64().unwrap())
        .sum();
    // Kai (u012) is disabled: already deactivated, counted apart.
    let already: u64 = ["notify", "deactivate", "delete"]
        .iter()
        .map(|k| v["already"][k].as_u64().unwrap())
        .sum();
    assert_eq!((total, already), (13, 1));
    let decisions = v["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 14);
    for d in decisions {
        for key in ["user", "action", "rule", "because", "passed"] {
            assert!(d.get(key).is_some(), "a decision has no `{key}`: {d}");
        }
        assert!(d["user"]["id"].is_string());
    }
    let eli = decisions.iter().find(|d| d["user"]["id"] == "u005").unwrap();
    assert_eq!(
        (eli["action"].as_str(), eli["rule"].as_str()),
        (Some("delete"), Some("never_used"))
    );
    let hana = decisions.iter().find(|d| d["user"]["id"] == "u008").unwrap();
    assert!(hana["rule"].is_null(), "exactly 12 months is not more than 12mo");
}

#[test]
fn every_users_file_format_gives_the_same_decisions() {
    let decisions = |users: &str| {
        let done = Run::new(&["plan", POLICY, "--users", users, "--as-of", AS_OF, "--format", "json"]).run();
        assert_eq!(done.code, 0, "{}", done.stderr);
        let v: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
        v["decisions"].clone()
    };
    let csv = decisions(USERS);
    assert_eq!(decisions("tests/fixtures/users.json"), csv);
    assert_eq!(decisions("tests/fixtures/users.jsonl"), csv);
}

#[test]
fn explain_for_an_auditor() {
    for (who, name) in [
        ("eli", "never_used"),
        ("gus@example.org", "dormant_notify"),
        ("u009", "review"),
        ("u008", "kept_on_the_boundary"),
        ("ANA", "staff"),
    ] {
        let done = Run::new(&["explain", POLICY, "--users", USERS, who, "--as-of", AS_OF]).run();
        assert_eq!(done.code, 0, "{}", done.stderr);
        snapshot!(format!("explain_{name}"), done.stdout);
    }
    let done = Run::new(&[
        "explain", POLICY, "--users", USERS, "u003", "--as-of", AS_OF, "--format", "json",
    ])
    .run();
    snapshot!("explain_json", done.stdout);
}

#[test]
fn explain_an_unknown_user() {
    let done = Run::new(&["explain", POLICY, "--users", USERS, "nobody", "--as-of", AS_OF]).run();
    assert_eq!(done.code, 1);
    assert!(done.stderr.contains("no user `nobody`"), "{}", done.stderr);
}

#[test]
fn diff_two_policies() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new.policy");
    let text = std::fs::read_to_string(POLICY)
        .unwrap()
        .replace("inactive > 12mo", "inactive > 6mo");
    std::fs::write(&new, text).unwrap();
    let new = new.to_str().unwrap();
    let done = Run::new(&["diff", POLICY, new, "--users", USERS, "--as-of", AS_OF]).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    snapshot!("diff_text", done.stdout.replace(new, "NEW.policy"));
    let done = Run::new(&[
        "diff", POLICY, new, "--users", USERS, "--as-of", AS_OF, "--format", "json",
    ])
    .run();
    let v: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(v["changed"], 1);
    let change = &v["changes"][0];
    assert_eq!(
        (change["from"]["action"].as_str(), change["to"]["action"].as_str()),
        (Some("keep"), Some("notify"))
    );
    assert_eq!(change["users"][0]["old"]["rule"], serde_json::Value::Null);
    assert_eq!(change["users"][0]["new"]["because"][0]["condition"], "inactive > 6mo");
}

#[test]
fn forecast_days_ahead() {
    let done = Run::new(&["forecast", POLICY, "--users", USERS, "--as-of", AS_OF, "--days", "60"]).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    snapshot!("forecast", done.stdout);
}

#[test]
fn a_plan_over_its_limit_exits_3_and_says_which() {
    let done = Run::new(&[
        "plan",
        "tests/fixtures/over-limit.policy",
        "--users",
        USERS,
        "--as-of",
        AS_OF,
    ])
    .run();
    assert_eq!(done.code, 3);
    assert!(
        done.stderr.contains("over its limits: delete (2 planned, limit 1)"),
        "{}",
        done.stderr
    );
    assert!(done.stdout.contains("limit delete 1: 2 planned, EXCEEDED"));
    assert!(done.stdout.contains("limit notify 50%: 0 planned, ok"));
}

#[test]
fn plan_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let done = Run::new(&[
        "plan",
        POLICY,
        "--users",
        USERS,
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ])
    .run();
    assert_eq!((done.code, done.stdout.as_str()), (0, ""));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), plan("json").stdout);
}

#[test]
fn notices_come_from_the_journal_named_in_dormant_toml() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(dir.path().join("dormant.toml"), "journal = \"audit/journal.jsonl\"\n").unwrap();
    std::fs::create_dir(dir.path().join("audit")).unwrap();
    {
        let (mut journal, _) =
            dormant::journal::Journal::open(&dir.path().join("audit/journal.jsonl"), dormant::files::Wait::No, None)
                .unwrap();
        for line in [
            r#"{"event":"outcome","action":"notify","status":"done","user":"u007","rule":"dormant","at":"2026-10-01T00:00:00Z"}"#,
            r#"{"event":"outcome","action":"notify","status":"done","user":"u010","rule":"dormant","at":"2026-11-20T00:00:00Z"}"#,
        ] {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            journal
                .append(&dormant::journal::Record::from_value(&v).unwrap())
                .unwrap();
        }
    }
    let policy = root.join(POLICY);
    let users = root.join(USERS);
    let done = Run::new(&[
        "plan",
        policy.to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
    ])
    .in_dir(dir.path())
    .run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let line = |id: &str| done.stdout.lines().find(|l| l.starts_with(id)).unwrap().to_string();
    assert!(line("u007,").contains(",deactivate,dormant,"), "{}", line("u007,"));
    assert!(line("u010,").contains(",wait,dormant,"), "{}", line("u010,"));
    // Kai is disabled: no notice for him, and nothing to deactivate.
    assert!(
        line("u012,").contains(",already deactivated,dormant,"),
        "{}",
        line("u012,")
    );
    // One hand-written line that would make u012's notice old enough: the
    // plan is refused, naming the line, rather than read from it.
    let path = dir.path().join("audit/journal.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(r#"{"seq":3,"event":"outcome","action":"notify","status":"done","user":"u012","rule":"dormant","at":"2026-01-01T00:00:00Z","prev":"0"}"#);
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    let done = Run::new(&[
        "plan",
        policy.to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "csv",
    ])
    .in_dir(dir.path())
    .run();
    assert_eq!(done.code, 1, "{}", done.stdout);
    assert!(
        done.stderr.contains("journal.jsonl:3: `prev` does not match") && done.stderr.contains("nothing was planned"),
        "{}",
        done.stderr
    );
    assert!(!done.stdout.contains("u012"), "no plan was written");
}

#[test]
fn a_broken_config_or_journal_stops_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (policy, users) = (root.join(POLICY), root.join(USERS));
    let args = [
        "plan",
        policy.to_str().unwrap(),
        "--users",
        users.to_str().unwrap(),
        "--as-of",
        AS_OF,
    ];
    std::fs::write(dir.path().join("dormant.toml"), "journl = \"j.jsonl\"\n").unwrap();
    let done = Run::new(&args).in_dir(dir.path()).run();
    assert_eq!(done.code, 1);
    assert!(
        done.stderr.contains("dormant::config") && done.stderr.contains("unknown field `journl`"),
        "{}",
        done.stderr
    );
    std::fs::write(dir.path().join("dormant.toml"), "journal = \"j.jsonl\"\n").unwrap();
    std::fs::write(dir.path().join("j.jsonl"), "{not json\n").unwrap();
    let done = Run::new(&args).in_dir(dir.path()).run();
    assert_eq!(done.code, 1);
    assert!(
        done.stderr.contains("j.jsonl:1: not a journal record"),
        "{}",
        done.stderr
    );
}

#[test]
fn nothing_is_planned_from_a_bad_users_file() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.csv");
    std::fs::write(&users, "id,joined,last_login\nu1,2024-01-01,\nu2,2024-02-30,\n").unwrap();
    let done = Run::new(&["plan", POLICY, "--users", users.to_str().unwrap(), "--as-of", AS_OF]).run();
    assert_eq!(done.code, 1);
    assert_eq!(done.stdout, "");
    assert!(
        done.stderr
            .contains("users.csv:3: column `joined`: `2024-02-30` is not a time"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("nothing was planned"));
}

#[test]
fn a_policy_with_errors_plans_nothing() {
    let done = Run::new(&[
        "plan",
        "tests/corpus/check/err/unknown_action.policy",
        "--users",
        USERS,
        "--as-of",
        AS_OF,
    ])
    .run();
    assert_eq!(done.code, 1);
    assert_eq!(done.stdout, "");
    assert!(done.stderr.contains("unknown action `delet`"));
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(Run::new(&["plan", POLICY]).run().code, 2, "--users is required");
    assert_eq!(
        Run::new(&["plan", POLICY, "--users", USERS, "--format", "xml"])
            .run()
            .code,
        2
    );
    assert_eq!(
        Run::new(&["forecast", POLICY, "--users", USERS, "--days", "0"])
            .run()
            .code,
        2
    );
}

#[test]
fn policy_tests_report_failures_with_the_explanation() {
    let done = Run::new(&["test", "tests/fixtures/failing.policy"]).run();
    assert_eq!(done.code, 1);
    snapshot!("test_failure", done.stdout);
    let done = Run::new(&["test", "policies/example.policy", "policies/huwise.policy"]).run();
    assert_eq!(done.code, 0, "{}{}", done.stdout, done.stderr);
    assert!(done.stdout.ends_with("25 passed, 0 failed\n"), "{}", done.stdout);
    assert!(
        !done.stdout.contains("coverage"),
        "every rule of the examples is reached"
    );
}

#[test]
fn a_policy_without_tests_fails_test() {
    let done = Run::new(&["test", "tests/corpus/check/ok/every_form.policy"]).run();
    assert_eq!(done.code, 1);
    assert!(done.stderr.contains("every_form.tests.toml"), "{}", done.stderr);
}

#[test]
fn a_bad_users_file_leaves_no_plan_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.json");
    std::fs::write(&users, "[{\"id\": \"u1\"},\n{\"id\": \"u2\", \"joined\": \"later\"}]").unwrap();
    let out = dir.path().join("plan.json");
    let done = Run::new(&[
        "plan",
        POLICY,
        "--users",
        users.to_str().unwrap(),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ])
    .run();
    assert_eq!(done.code, 1);
    assert!(
        done.stderr.contains("users.json:2: user 2, key `joined`"),
        "{}",
        done.stderr
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("users.json")],
        "no plan and no partial plan"
    );
}

#[test]
fn diff_and_forecast_stop_on_errors() {
    let bad = "tests/corpus/check/err/unknown_action.policy";
    assert_eq!(
        Run::new(&["diff", POLICY, bad, "--users", USERS, "--as-of", AS_OF])
            .run()
            .code,
        1
    );
    assert_eq!(
        Run::new(&["diff", POLICY, POLICY, "--users", "missing.csv", "--as-of", AS_OF])
            .run()
            .code,
        1
    );
    assert_eq!(
        Run::new(&["forecast", bad, "--users", USERS, "--days", "5"]).run().code,
        1
    );
    let same = Run::new(&["diff", POLICY, POLICY, "--users", USERS, "--as-of", AS_OF]).run();
    assert_eq!(same.code, 0);
    assert!(same.stdout.ends_with("No decision changes.\n"), "{}", same.stdout);
}

/// A policy that asks for a notice before deleting, and a disabled account
/// with no notice: it cannot be notified, so a person decides (`review`),
/// in every format and in explain; one pending deletion is already done.
#[test]
fn a_notice_a_disabled_account_cannot_get_is_a_review() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nidle: inactive > 12mo -> delete after notice 30d\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("users.csv"),
        "id,username,email,status,joined,last_login,is_admin\n\
         d1,dee,dee@example.org,disabled,2020-01-01,2024-01-01,false\n\
         p1,pat,pat@example.org,pending_delete,2020-01-01,2024-01-01,false\n\
         a1,ann,ann@example.org,active,2020-01-01,2024-01-01,false\n",
    )
    .unwrap();
    let plan = |format: &str| {
        let done = Run::new(&[
            "plan",
            "p.policy",
            "--users",
            "users.csv",
            "--as-of",
            AS_OF,
            "--format",
            format,
        ])
        .in_dir(dir.path())
        .run();
        assert_eq!(done.code, 0, "{}", done.stderr);
        done.stdout
    };
    let why = "a notice is required but the account is disabled: it cannot be notified";
    let v: serde_json::Value = serde_json::from_str(&plan("json")).unwrap();
    let d = &v["decisions"];
    assert_eq!(
        (&d[0]["action"], &d[0]["cannot_notify"]),
        (&"review".into(), &"disabled".into())
    );
    assert_eq!(
        (&d[1]["action"], &d[1]["already"]),
        (&"delete".into(), &"pending_delete".into())
    );
    assert_eq!(d[2]["action"], "notify");
    assert_eq!(v["summary"]["review"], 1);
    assert_eq!(v["summary"]["notify"], 1);
    assert_eq!(v["already"]["delete"], 1);
    for format in ["table", "csv", "markdown"] {
        let out = plan(format);
        assert!(out.contains(why), "{format}: {out}");
        assert!(out.contains("already pending deletion"), "{format}: {out}");
    }
    let done = Run::new(&["explain", "p.policy", "--users", "users.csv", "--as-of", AS_OF, "dee"])
        .in_dir(dir.path())
        .run();
    assert!(
        done.stdout.contains(&format!("decision  review ({why})")),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("Why `idle` decided:"), "{}", done.stdout);
}

/// `deactivated` from the journal for a users file that does not say:
/// the last confirmed deactivation not undone since, for a user the file
/// shows disabled; the file's own, later date stands; the explanation
/// names where each time came from.
#[test]
fn deactivated_comes_from_the_journal_where_the_users_do_not_say() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dormant.toml"), "journal = \"journal.jsonl\"\n").unwrap();
    {
        let (mut journal, _) =
            dormant::journal::Journal::open(&dir.path().join("journal.jsonl"), dormant::files::Wait::No, None).unwrap();
        for line in [
            r#"{"event":"intent","action":"deactivate","user":"ana","rule":"idle","at":"2026-10-01T00:00:00Z"}"#,
            r#"{"event":"outcome","action":"deactivate","status":"done","user":"ana","rule":"idle","at":"2026-10-01T00:00:00Z"}"#,
            r#"{"event":"outcome","action":"deactivate","status":"done","user":"bob","rule":"idle","at":"2026-10-01T00:00:00Z"}"#,
            r#"{"event":"outcome","action":"deactivate","status":"done","user":"cy","rule":"idle","at":"2026-10-01T00:00:00Z"}"#,
            r#"{"event":"outcome","action":"deactivate","status":"done","user":"dan","rule":"idle","at":"2026-10-01T00:00:00Z"}"#,
            r#"{"event":"outcome","action":"reactivate","status":"done","user":"dan","rule":null,"at":"2026-10-02T00:00:00Z"}"#,
        ] {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            journal
                .append(&dormant::journal::Record::from_value(&v).unwrap())
                .unwrap();
        }
    }
    std::fs::write(
        dir.path().join("p.policy"),
        "purge: status == disabled and deactivated > 30d -> delete\n",
    )
    .unwrap();
    // ana: disabled, no date: the journal's. bob: the file's later date.
    // cy: active again (re-enabled outside dormant): no date. dan: undone.
    std::fs::write(
        dir.path().join("users.csv"),
        "id,status,deactivated\nana,disabled,\nbob,disabled,2026-11-13\ncy,active,\ndan,disabled,\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--users", "users.csv", "--as-of", AS_OF]);
        let done = Run::new(&all).in_dir(dir.path()).run();
        assert_eq!(done.code, 0, "{}", done.stderr);
        done.stdout
    };
    let csv = run(&["plan", "p.policy", "--format", "csv"]);
    let line = |id: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap()
            .to_string()
    };
    assert!(line("ana").contains(",delete,purge,"), "{csv}");
    assert!(line("ana").contains("(from the journal)"), "{csv}");
    assert!(line("bob").contains(",keep,"), "{csv}");
    assert!(line("cy").contains(",keep,"), "{csv}");
    assert!(line("dan").contains(",review,purge,"), "{csv}");
    let ana = run(&["explain", "p.policy", "ana"]);
    assert!(
        ana.contains("deactivated 2026-10-01T00:00:00Z (from the journal)"),
        "{ana}"
    );
    let bob = run(&["explain", "p.policy", "bob"]);
    assert!(
        bob.contains("deactivated 2026-11-13T00:00:00Z (from the users file)"),
        "{bob}"
    );
    // The JSON plan keeps the time a time.
    let json: serde_json::Value = serde_json::from_str(&run(&["plan", "p.policy", "--format", "json"])).unwrap();
    assert_eq!(json["decisions"][0]["values"]["deactivated"], "2026-10-01T00:00:00Z");
    assert_eq!(json["decisions"][0]["sources"]["deactivated"], "the journal");
    assert_eq!(json["decisions"][1]["sources"]["deactivated"], "the users file");
    assert!(
        json["decisions"][2].get("sources").is_none(),
        "cy has no time to source"
    );
}
