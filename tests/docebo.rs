//! The Docebo connector against a simulator (CONNECTORS.md sections 5 and
//! 9, and its corrections): OAuth2 tokens that expire mid-way,
//! `has_more_data` paging, temporary users, zone-less dates in a non-UTC
//! zone, enrollments paged and not always filtered, every shape of the
//! delete answer, reading one user back, and apply.
//!
//! The simulator follows the vendor's own Swagger client,
//! `maspuce/docebo-php-sdk`: each behaviour names the file it follows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::docebo::*;
use common::sim::{Request, Sim};
use common::Run;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

type Out = common::Done;

fn dormant(dir: &Path, sim: &Sim, extra: &str, args: &[&str]) -> Out {
    let keys = format!(
        "client_id = \"dormant\"\nclient_secret_env = \"DOCEBO_SECRET\"\nusername = \"{ME}\"\npassword_env = \"DOCEBO_PASSWORD\"\ntimezone = \"Europe/Rome\"\nbatch_size = 2\nrequests_per_second = 1000\ntimeout_seconds = 5\nretries = 2\n{extra}"
    );
    common::write_config(dir, &common::connector_config("lms", "docebo", &sim.url(), &keys));
    Run::new(args)
        .in_dir(dir)
        .secret("DOCEBO_SECRET", SECRET)
        .secret("DOCEBO_PASSWORD", PASSWORD)
        .never_shows("at-1")
        .never_shows("at-2")
        .run()
}

#[test]
fn fetches_with_zone_less_dates_invited_users_enrollments_and_a_token_that_expires() {
    let lms = Lms::new(5, 2);
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "enrollments = true\n",
        &["fetch", "--connector", "lms"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "900"]);
    // 09:30 in Rome in January is 08:30 UTC; 10:00 in July is 08:00 UTC.
    assert_eq!(users[0]["last_login"], "2024-01-15T08:30:00Z");
    assert_eq!(users[1]["last_login"], "2026-07-01T08:00:00Z");
    assert_eq!(users[2]["last_login"], Value::Null);
    assert_eq!(users[0]["joined"], "2021-06-01T10:00:00Z");
    assert_eq!(users[0]["is_admin"], true);
    assert_eq!(users[0]["role"], json!(["godadmin"]));
    // The pending list's user: a temporary user awaiting approval.
    assert_eq!(users[5]["status"], "invited");
    assert_eq!(users[5]["attr.awaiting_approval"], true);
    assert_eq!(users[5]["joined"], "2026-10-01T06:00:00Z");
    assert_eq!(users[0]["attr.awaiting_approval"], false);
    assert_eq!(users[2]["activity.courses_enrolled"], 3.0);
    assert_eq!(users[2]["activity.courses_completed"], 1.0);
    assert!(*lms.issued.lock().unwrap() >= 3, "tokens were renewed on 401");
}

#[test]
fn wrong_credentials_are_named_without_the_secret() {
    let lms = Lms::new(2, 10);
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "policy = \"p.policy\"\n[connector.lms]\nkind = \"docebo\"\nurl = \"{}\"\nclient_id = \"dormant\"\nclient_secret_env = \"DOCEBO_SECRET\"\nusername = \"{ME}\"\npassword_env = \"DOCEBO_PASSWORD\"\nretries = 0\n",
        sim.url()
    );
    std::fs::write(dir.path().join("dormant.toml"), config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dormant"))
        .args(["fetch", "--connector", "lms"])
        .current_dir(dir.path())
        .env("DOCEBO_SECRET", "not-the-secret-42")
        .env("DOCEBO_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("Docebo: POST /oauth2/token answered 401: The client credentials are invalid"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-secret-42") && !stderr.contains(PASSWORD));
}

#[test]
fn apply_deletes_in_batches_through_a_crash_and_undo_reactivates() {
    let lms = Lms::new(9, 4);
    *lms.slow_deletes.lock().unwrap() = Some(Duration::from_millis(300));
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    // Never signed in: users 3, 6 and 9; signed in before 2025: 1, 4, 7 (1 is an admin, 2 the bot).
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nbot: username == \"api.bot\" -> keep\ngone: never_logged_in -> delete\nidle: inactive > 12mo -> deactivate\n",
    )
    .unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "",
        &[
            "plan",
            "p.policy",
            "--connector",
            "lms",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    Run::new(&["apply", "plan.json", "--yes"])
        .in_dir(dir.path())
        .secret("DOCEBO_SECRET", SECRET)
        .secret("DOCEBO_PASSWORD", PASSWORD)
        .kill_when(|| !lms.deleted.lock().unwrap().is_empty());
    *lms.slow_deletes.lock().unwrap() = None;
    let out = dormant(dir.path(), &sim, "", &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let mut deleted = lms.deleted.lock().unwrap().clone();
    deleted.sort();
    assert_eq!(deleted, ["3", "6", "9"], "each deleted once");
    // 900, a temporary user who never signed in, rejected once.
    assert_eq!(*lms.rejected.lock().unwrap(), ["900"]);
    only_reject_touched(&sim, &["900"]);
    let status = |id: u64| lms.users.lock().unwrap().iter().find(|u| u["user_id"] == id).unwrap()["status"].clone();
    assert_eq!(
        (status(4), status(7), status(1), status(2)),
        (json!("0"), json!("0"), json!("1"), json!("1"))
    );
    let out = dormant(dir.path(), &sim, "", &["undo", "dormant-journal.jsonl", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!((status(4), status(7)), (json!("1"), json!("1")));
    assert!(
        out.stdout
            .contains("cannot undo: 3 (learner3) on `lms` deleted on Docebo"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_client_credentials_grant_without_a_user() {
    let lms = Lms::new(3, 10);
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "policy = \"p.policy\"\n[connector.lms]\nkind = \"docebo\"\nurl = \"{}\"\nclient_id = \"dormant\"\nclient_secret_env = \"DOCEBO_SECRET\"\nrequests_per_second = 1000\n",
        sim.url()
    );
    std::fs::write(dir.path().join("dormant.toml"), config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dormant"))
        .args(["fetch", "--connector", "lms"])
        .current_dir(dir.path())
        .env("DOCEBO_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let token_call = sim
        .requests()
        .into_iter()
        .find(|r| r.path() == "/oauth2/token")
        .unwrap();
    assert!(
        token_call.body.contains("grant_type=client_credentials"),
        "{}",
        token_call.body
    );
    assert!(!token_call.body.contains("username="));
}

/// Plans `policy` through the simulator, then applies the plan.
fn plan_and_apply(dir: &Path, sim: &Sim, policy: &str) -> Out {
    std::fs::write(dir.join("p.policy"), policy).unwrap();
    let out = dormant(
        dir,
        sim,
        "",
        &[
            "plan",
            "p.policy",
            "--connector",
            "lms",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    dormant(dir, sim, "", &["apply", "plan.json", "--yes"])
}

/// The journal's outcome for a user: its status and detail.
fn outcome(dir: &Path, user: &str) -> (String, String) {
    let text = std::fs::read_to_string(dir.join("dormant-journal.jsonl")).unwrap();
    let last = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .rfind(|r| r["event"] == "outcome" && r["user"] == user)
        .unwrap_or_else(|| panic!("no outcome for {user}: {text}"));
    (
        last["status"].as_str().unwrap().to_string(),
        last["detail"].as_str().unwrap_or("").to_string(),
    )
}

/// Whether a request names user `id`, in its path, query or body.
fn names(r: &Request, id: &str) -> bool {
    let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    r.path().ends_with(&format!("/{id}"))
        || r.query("id_user[]").as_deref() == Some(id)
        || ids_under(&body, "user_ids").iter().any(|i| i == id)
        || ids_under(&body, "id_user").iter().any(|i| i == id)
}

/// Nothing but `reject` (and `temp_details`, which only reads) named a
/// temporary user: the user delete and change_status do not act on them.
fn only_reject_touched(sim: &Sim, temporary: &[&str]) {
    for r in sim.requests() {
        for id in temporary {
            if names(&r, id) {
                assert!(
                    (r.method == "DELETE" && r.path() == "/manage/v1/user/reject")
                        || (r.method == "GET" && r.path().starts_with("/manage/v1/user/temp_details/")),
                    "{} {} named temporary user {id}: {}",
                    r.method,
                    r.target,
                    r.body
                );
            }
        }
    }
}

#[test]
fn temporary_users_are_removed_by_reject_one_at_a_time_and_by_nothing_else() {
    let lms = Lms::new(4, 1000);
    lms.temporary.lock().unwrap().push(temporary(901, "latecomer"));
    // Its reject answer does not name it: read back from temp_details.
    lms.reject_unnamed.lock().unwrap().push("901".into());
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    // 1 is an admin, 2 the bot, 3 never signed in, 4 did.
    let out = plan_and_apply(
        dir.path(),
        &sim,
        "admins: is_admin -> keep\nbot: username == \"api.bot\" -> keep\npending: attr.awaiting_approval -> delete\ngone: never_logged_in -> delete\n",
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done, 0 skipped, 0 failed"), "{}", out.stdout);
    assert_eq!(*lms.rejected.lock().unwrap(), ["900", "901"]);
    assert_eq!(*lms.deleted.lock().unwrap(), ["3"]);
    assert!(lms.temporary.lock().unwrap().is_empty());
    let requests = sim.requests();
    // One reject per user, each naming one id.
    let rejects: Vec<Value> = requests
        .iter()
        .filter(|r| r.path() == "/manage/v1/user/reject")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(rejects, [json!({"id_user": 900}), json!({"id_user": 901})]);
    // 901's removal was confirmed by reading it back; 900's answer named it.
    let read = |path: &str| requests.iter().any(|r| r.method == "GET" && r.path() == path);
    assert!(read("/manage/v1/user/temp_details/901"));
    assert!(!read("/manage/v1/user/temp_details/900"));
    only_reject_touched(&sim, &["900", "901"]);
    assert_eq!(outcome(dir.path(), "900").0, "done");
    assert_eq!(outcome(dir.path(), "901").0, "done");
}

#[test]
fn deactivate_skips_temporary_users_and_check_says_so() {
    let lms = Lms::new(4, 1000);
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    let policy =
        "admins: is_admin -> keep\nbot: username == \"api.bot\" -> keep\nstale: never_logged_in -> deactivate\n";
    std::fs::write(dir.path().join("p.policy"), policy).unwrap();
    let check = dormant(dir.path(), &sim, "", &["check", "p.policy", "--connector", "lms"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check
            .stderr
            .contains("Docebo cannot deactivate temporary users (self-registrations awaiting approval"),
        "{}",
        check.stderr
    );
    assert!(check.stderr.contains("`delete` rule"), "{}", check.stderr);
    // 3 never signed in, nor has 900, a temporary user.
    let out = plan_and_apply(dir.path(), &sim, policy);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("1 done, 1 skipped, 0 failed"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("skipped deactivate 900 (newcomer): a temporary user awaiting approval"),
        "{}",
        out.stdout
    );
    let (status, detail) = outcome(dir.path(), "900");
    assert_eq!(status, "skipped");
    assert!(detail.contains("a `delete` rule removes them"), "{detail}");
    let status_of = |id: u64| lms.users.lock().unwrap().iter().find(|u| u["user_id"] == id).unwrap()["status"].clone();
    assert_eq!(status_of(3), json!("0"));
    assert_eq!(lms.temporary.lock().unwrap().len(), 1, "still awaiting approval");
    only_reject_touched(&sim, &["900"]);
}

#[test]
fn a_deletion_answered_with_the_sdks_bool_is_confirmed_by_reading_the_user() {
    let lms = Lms::new(9, 1000);
    *lms.delete_answer.lock().unwrap() = DeleteAnswer::Bool;
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    // Never signed in: 3, 6 and 9.
    let out = plan_and_apply(
        dir.path(),
        &sim,
        "admins: is_admin -> keep\nbot: username == \"api.bot\" -> keep\ngone: status == active and never_logged_in -> delete\n",
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done, 0 skipped, 0 failed"), "{}", out.stdout);
    for id in ["3", "6", "9"] {
        assert_eq!(outcome(dir.path(), id).0, "done");
        // The answer named nobody: each was read back, and was gone.
        assert!(sim
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path() == format!("/manage/v1/user/{id}")));
    }
}

#[test]
fn a_deletion_the_platform_answers_but_ignores_stays_unconfirmed() {
    let lms = Lms::new(9, 1000);
    *lms.delete_answer.lock().unwrap() = DeleteAnswer::Bool;
    lms.undeletable.lock().unwrap().push("6".into());
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    let policy = "admins: is_admin -> keep\nbot: username == \"api.bot\" -> keep\ngone: status == active and never_logged_in -> delete\n";
    let out = plan_and_apply(dir.path(), &sim, policy);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("UNCONFIRMED delete 6 (learner6): Docebo accepted the request, but the user read back afterwards is not deleted"),
        "{}",
        out.stdout
    );
    assert_eq!(outcome(dir.path(), "3").0, "done");
    assert_eq!(outcome(dir.path(), "6").0, "unconfirmed");
}

#[test]
fn a_deletion_answered_one_id_per_user_needs_no_read() {
    let lms = Lms::new(9, 1000);
    *lms.delete_answer.lock().unwrap() = DeleteAnswer::EachId;
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    let out = plan_and_apply(
        dir.path(),
        &sim,
        "admins: is_admin -> keep\nbot: username == \"api.bot\" -> keep\ngone: status == active and never_logged_in -> delete\n",
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done, 0 skipped, 0 failed"), "{}", out.stdout);
    let mut deleted = lms.deleted.lock().unwrap().clone();
    deleted.sort();
    assert_eq!(deleted, ["3", "6", "9"]);
    // Each user named in the answer: none read back.
    assert!(!sim
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path().starts_with("/manage/v1/user/")));
}

#[test]
fn a_status_change_answered_without_ids_is_confirmed_by_reading_the_user() {
    let lms = Lms::new(4, 1000);
    lms.bare_status_answer.store(true, Ordering::SeqCst);
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    // 1 and 4 signed in before 2025: 1 is an admin.
    let out = plan_and_apply(
        dir.path(),
        &sim,
        "admins: is_admin -> keep\nbot: username == \"api.bot\" -> keep\nidle: status == active and inactive > 12mo -> deactivate\n",
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(outcome(dir.path(), "4").0, "done");
    assert!(sim
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path() == "/manage/v1/user/4"));
    let out = dormant(dir.path(), &sim, "", &["undo", "dormant-journal.jsonl", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("reactivated 4"), "{}", out.stdout);
}

#[test]
fn enrollments_are_read_page_by_page_and_filtered_again() {
    let lms = Lms::new(5, 1000);
    // User 4 has 230 enrollments, more than a page of 200, 30 completed.
    lms.enrollments.lock().unwrap().extend((0..230).map(|c| {
        json!({"id": 100 + c, "user_id": 4, "type": "elearning",
               "status": if c < 30 { "completed" } else { "in_progress" }})
    }));
    let sim = start(&lms);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "enrollments = true\n",
        &["fetch", "--connector", "lms"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let counts = |u: &Value| {
        (
            u["activity.courses_enrolled"].clone(),
            u["activity.courses_completed"].clone(),
        )
    };
    assert_eq!(counts(&users[3]), (json!(230.0), json!(30.0)));
    assert_eq!(counts(&users[2]), (json!(3.0), json!(1.0)));
    assert!(sim
        .requests()
        .iter()
        .any(|r| r.query("id_user[]").as_deref() == Some("4") && r.query("page").as_deref() == Some("2")));

    // Now the filter is not applied for user 2: the answer is everyone's.
    let lms = Lms::new(5, 1000);
    lms.enrollments
        .lock()
        .unwrap()
        .extend((0..230).map(|c| json!({"id": 100 + c, "user_id": 4, "type": "elearning", "status": "in_progress"})));
    lms.unfiltered_for.lock().unwrap().push("2".into());
    let sim = start(&lms);
    let out = dormant(
        dir.path(),
        &sim,
        "enrollments = true\n",
        &["fetch", "--connector", "lms"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let enrolled: Vec<Value> = users
        .iter()
        .take(5)
        .map(|u| u["activity.courses_enrolled"].clone())
        .collect();
    // k % 4 each, and user 4's 230.
    assert_eq!(enrolled, [json!(1.0), json!(2.0), json!(3.0), json!(230.0), json!(1.0)]);
    // The whole list read once, for user 2, serves the users after them.
    let asked: Vec<String> = sim
        .requests()
        .iter()
        .filter(|r| r.path() == "/learn/v1/enrollments")
        .map(|r| format!("{}:{}", r.query("id_user[]").unwrap(), r.query("page").unwrap()))
        .collect();
    assert_eq!(asked, ["1:1", "2:1", "2:2"]);
    // A temporary user has no enrollments to count.
    assert_eq!(users[5]["activity.courses_enrolled"], Value::Null);
}
