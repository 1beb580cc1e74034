//! The Bevy connector against a simulator of its public API (CONNECTORS.md
//! sections 2 and 9, and the corrections at its top): the version pinned in
//! `Accept`, pages of the size asked (up to a cap) with a 404 past the end,
//! pending deletion, the key's owner, deactivations read back, the daily
//! quota across runs, and apply with a crash and a resume.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::bevy::*;
use common::sim::{Fault, Reply, Sim};
use common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

type Out = common::Done;

fn dormant(dir: &Path, sim: &Sim, extra: &str, args: &[&str]) -> Out {
    run_with(dir, sim, extra, KEY, args)
}

fn run_with(dir: &Path, sim: &Sim, extra: &str, token: &str, args: &[&str]) -> Out {
    let keys = format!(
        "token_env = \"BEVY_TOKEN\"\n{}requests_per_second = 1000\ntimeout_seconds = 1\nretries = 4\n{extra}",
        // Pages of 2 unless the test sets its own.
        if extra.contains("page_size") {
            ""
        } else {
            "page_size = 2\nbatch_size = 2\n"
        }
    );
    common::write_config(dir, &common::connector_config("events", "bevy", &sim.url(), &keys));
    Run::new(args).in_dir(dir).secret("BEVY_TOKEN", token).run()
}

fn ids(out: &Out) -> Vec<String> {
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    users.iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn fetches_every_user_once_at_every_pagination_edge_and_fault() {
    for n in [0, 1, 2, 3, 4] {
        let site = Site::new(n);
        let sim = start(&site);
        let dir = tempfile::tempdir().unwrap();
        let out = dormant(dir.path(), &sim, "", &["fetch", "--connector", "events"]);
        let expected: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        assert_eq!(ids(&out), expected, "{n} users");
    }
    let site = Site::new(5);
    site.faults.at([
        (0, Fault::TooMany(1)),
        (2, Fault::Truncate),
        (3, Fault::ServerError),
        (5, Fault::Drop),
        (6, Fault::Slow(1500)),
    ]);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(dir.path(), &sim, "", &["fetch", "--connector", "events"]);
    assert_eq!(ids(&out), ["1", "2", "3", "4", "5"]);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(users[1]["is_admin"], true);
    assert!(users[0].get("last_login").is_none(), "no last login: unknown");
    assert_versioned(&sim);
}

/// Every request pinned the API version [S: help.bevy.com/hc/en-us/articles/20800961964695].
fn assert_versioned(sim: &Sim) {
    for r in &sim.requests() {
        assert_eq!(r.header("accept"), Some(VERSIONED), "{} {}", r.method, r.target);
    }
}

/// The `page_size` of each list request, in order.
fn page_sizes(sim: &Sim) -> Vec<String> {
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path() == "/api/user/")
        .map(|r| r.query("page_size").unwrap_or_default())
        .collect()
}

#[test]
fn the_page_size_is_a_setting_of_its_own() {
    // Up to 1000 a page where the site allows it: 8 users in one request,
    // whatever the batch size.
    let site = Site::new(8);
    *site.max_page.lock().unwrap() = 1000;
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "page_size = 1000\nbatch_size = 3\n",
        &["fetch", "--connector", "events"],
    );
    assert_eq!(ids(&out).len(), 8);
    assert_eq!(page_sizes(&sim), ["1000"]);
    // A site that caps pages at 100 still lists everyone once.
    let site = Site::new(250);
    let sim = start(&site);
    let out = dormant(
        dir.path(),
        &sim,
        "page_size = 1000\n",
        &["fetch", "--connector", "events"],
    );
    let expected: Vec<String> = (1..=250).map(|i| i.to_string()).collect();
    assert_eq!(ids(&out), expected);
    assert_eq!(page_sizes(&sim).len(), 3);
    // Unset: 100 a page, and `batch_size` does not change it.
    let site = Site::new(3);
    let sim = start(&site);
    std::fs::write(
        dir.path().join("dormant.toml"),
        format!(
            "policy = \"p.policy\"\n[connector.events]\nkind = \"bevy\"\nurl = \"{}\"\ntoken_env = \"BEVY_TOKEN\"\nbatch_size = 2\n",
            sim.url()
        ),
    )
    .unwrap();
    let out = Run::new(&["fetch", "--connector", "events"])
        .in_dir(dir.path())
        .secret("BEVY_TOKEN", KEY)
        .run();
    assert_eq!(ids(&out).len(), 3);
    assert_eq!(page_sizes(&sim), ["100"]);
    assert_versioned(&sim);
}

#[test]
fn a_bad_token_and_what_check_says() {
    let site = Site::new(2);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let out = run_with(
        dir.path(),
        &sim,
        "",
        "wrong-token-123",
        &["fetch", "--connector", "events"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("Bevy: GET /user/?page=1&page_size=2 answered 403: Invalid token."),
        "{}",
        out.stderr
    );
    std::fs::write(
        dir.path().join("p.policy"),
        "hq: is_admin -> keep\nidle: inactive > 12mo -> delete\n",
    )
    .unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "",
        &["check", "p.policy", "--connector", "events", "--error-format", "plain"],
    );
    assert!(
        out.stderr
            .contains("connector `events` never supplies `inactive`: Bevy does not report logins"),
        "{}",
        out.stderr
    );
}

const POLICY: &str = "hq: is_admin -> keep\nidle: inactive > 12mo -> delete\n";

/// A plan whose last logins come from an enrich file: members 3 to 8 idle.
fn planned(dir: &Path, sim: &Sim) -> String {
    planned_with(dir, sim, POLICY, 3, "")
}

/// A plan of `policy` with `extra` keys, whose last logins come from an
/// enrich file: members `idle` to 8 idle.
fn planned_with(dir: &Path, sim: &Sim, policy: &str, idle: u64, extra: &str) -> String {
    let mut csv = "username,last_login\n".to_string();
    for i in 1..=8 {
        let at = if i >= idle { "2023-01-01" } else { "2026-11-01" };
        csv.push_str(&format!("member{i},{at}\n"));
    }
    std::fs::write(dir.join("logins.csv"), csv).unwrap();
    std::fs::write(dir.join("p.policy"), policy).unwrap();
    let extra = format!("enrich = [\"logins.csv\"]\n{extra}");
    let out = dormant(
        dir,
        sim,
        &extra,
        &[
            "plan",
            "p.policy",
            "--connector",
            "events",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    assert!(matches!(out.code, 0 | 3), "{}", out.stderr);
    extra
}

fn deletes(sim: &Sim) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for r in sim.requests().iter().filter(|r| r.method == "DELETE") {
        *n.entry(r.path().to_string()).or_insert(0) += 1;
    }
    n
}

#[test]
fn deletion_is_pending_and_undo_says_how_and_until_when_to_cancel_it() {
    let site = Site::new(8);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let extra = planned(dir.path(), &sim);
    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("6 done"), "{}", out.stdout);
    assert_eq!(deletes(&sim).len(), 6);
    assert!(site.users.lock().unwrap()[4]["pending_deletion"] == true);
    let fetched = dormant(dir.path(), &sim, &extra, &["fetch", "--connector", "events"]);
    let users: Vec<Value> = serde_json::from_str(&fetched.stdout).unwrap();
    assert_eq!(users[4]["status"], "pending_delete");
    let out = dormant(dir.path(), &sim, &extra, &["undo", "dormant-journal.jsonl", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let until = (chrono::Utc::now() + chrono::TimeDelta::days(7))
        .date_naive()
        .to_string();
    assert!(
        out.stdout.contains(&format!(
            "can still be cancelled: 5 (member5) on `events` pending deletion until {until}"
        )),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Cancel Deletion"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("0 deletions that cannot be undone, 6 still pending and cancellable"),
        "{}",
        out.stdout
    );
}

#[test]
fn apply_stops_at_the_daily_quota_and_a_later_run_resumes() {
    let site = Site::new(8);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let extra = planned(dir.path(), &sim);
    // The plan took 5 requests (pages of 2, and the one past the end),
    // apply takes 5 to fetch again: 13 a day leaves room for 3 more, the
    // deletions and the reads that confirm them.
    let quota = format!("{extra}requests_per_day = 13\n");
    let out = dormant(dir.path(), &sim, &quota, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("stopped: Bevy: the daily quota of 13 requests is used up"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("4 users were not acted on: run apply again on the same plan from"),
        "{}",
        out.stdout
    );
    // The second deletion was sent, but its read back was past the quota:
    // unconfirmed, settled by the next run.
    assert!(
        out.stdout.contains("1 done, 0 skipped, 2 failed, 1 unconfirmed"),
        "{}",
        out.stdout
    );
    assert_eq!(deletes(&sim).len(), 2);
    // The next day (a new count), the same plan finishes without repeating anything.
    std::fs::remove_file(dir.path().join("dormant-usage.json")).unwrap();
    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let d = deletes(&sim);
    assert_eq!(d.len(), 6);
    assert!(d.values().all(|&n| n == 1), "{d:?}");
}

#[test]
fn killed_in_the_middle_then_resumed_acts_once_on_each() {
    let site = Site::new(8);
    *site.slow_deletes.lock().unwrap() = Some(Duration::from_millis(300));
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let extra = planned(dir.path(), &sim);
    Run::new(&["apply", "plan.json", "--yes"])
        .in_dir(dir.path())
        .secret("BEVY_TOKEN", KEY)
        .kill_when(|| deletes(&sim).len() >= 2);
    *site.slow_deletes.lock().unwrap() = None;
    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let d = deletes(&sim);
    assert_eq!(d.len(), 6);
    assert!(d.values().all(|&n| n == 1), "{d:?}");
    assert!(
        !d.contains_key("/api/user/1/") && !d.contains_key("/api/user/2/"),
        "HQ admins were never touched"
    );
}

/// The journal's outcomes for one user: their statuses, in order.
fn outcomes(dir: &Path, user: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join("dormant-journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["event"] == "outcome" && r["user"] == user)
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

fn requests(sim: &Sim, method: &str) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for r in sim.requests().iter().filter(|r| r.method == method) {
        *n.entry(r.path().to_string()).or_insert(0) += 1;
    }
    n
}

#[test]
fn the_keys_owner_named_by_user_is_never_acted_on() {
    // Everyone idle, HQ admins included, and a policy that keeps no one.
    let policy = "idle: inactive > 12mo -> delete\n";
    let site = Site::new(4);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    // The owner by email, in another case: still them.
    let owner = "user = \"MEMBER1@example.org\"\n";
    let extra = planned_with(dir.path(), &sim, policy, 1, owner);
    let fetched = dormant(dir.path(), &sim, &extra, &["fetch", "--connector", "events"]);
    let users: Vec<Value> = serde_json::from_str(&fetched.stdout).unwrap();
    assert_eq!(users[0]["is_service"], true, "the key's owner");
    assert_eq!(users[1]["is_service"], false);
    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("skipped delete 1 (member1): the owner of the API key dormant uses (`user`)"),
        "{}",
        out.stdout
    );
    assert!(!deletes(&sim).contains_key("/api/user/1/"));
    assert_eq!(deletes(&sim).len(), 3);
    assert_eq!(outcomes(dir.path(), "1"), ["skipped"]);
    assert!(!out.stderr.contains("has no `user`"), "{}", out.stderr);
    // Without `user`, dormant cannot know whose key it is: apply says so
    // (and Bevy refuses to delete the key's own account).
    let site = Site::new(4);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let extra = planned_with(dir.path(), &sim, policy, 1, "");
    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan.json", "--yes"]);
    assert!(
        out.stderr.contains(
            "warning: connector `events` has no `user`: a Bevy API key is an HQ admin's own, and Bevy does not say whose"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("has no `user`").count(),
        1,
        "said once: {}",
        out.stderr
    );
    assert!(out.stdout.contains("FAILED  delete 1 (member1)"), "{}", out.stdout);
}

#[test]
fn a_deactivation_is_read_back_and_one_that_changed_nothing_is_settled_later() {
    let policy = "hq: is_admin -> keep\nidle: inactive > 12mo -> deactivate\n";
    let site = Site::new(8);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let extra = planned_with(dir.path(), &sim, policy, 3, "");
    // Bevy answers 200 and changes nothing.
    site.ignore_writes.store(true, Ordering::SeqCst);
    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("0 done, 0 skipped, 0 failed, 6 unconfirmed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "UNCONFIRMED deactivate 3 (member3): Bevy accepted the request, but the user read back afterwards is not deactivated"
        ),
        "{}",
        out.stdout
    );
    for id in 3..=8 {
        assert_eq!(outcomes(dir.path(), &id.to_string()), ["unconfirmed"]);
        assert_eq!(
            requests(&sim, "GET").get(&format!("/api/user/{id}/")),
            Some(&1),
            "read back"
        );
    }
    // Members 3 to 5 turn out deactivated after all; the rest are sent
    // again, and this time Bevy does it.
    for u in site.users.lock().unwrap().iter_mut().take(5).skip(2) {
        u["is_active"] = json!(false);
    }
    site.ignore_writes.store(false, Ordering::SeqCst);
    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let posts = requests(&sim, "POST");
    for id in 3..=5 {
        assert_eq!(outcomes(dir.path(), &id.to_string()), ["unconfirmed", "settled"]);
        assert_eq!(posts.get(&format!("/api/user/{id}/deactivate/")), Some(&1));
    }
    for id in 6..=8 {
        assert_eq!(outcomes(dir.path(), &id.to_string()), ["unconfirmed", "done"]);
        assert_eq!(posts.get(&format!("/api/user/{id}/deactivate/")), Some(&2));
        assert_eq!(
            requests(&sim, "GET").get(&format!("/api/user/{id}/")),
            Some(&2),
            "read back"
        );
    }
    assert_versioned(&sim);
}

/// A plan of `policy` over `n` members who all last logged in on
/// 2023-01-01 (an enrich file), with `extra` keys; the plan's exit status.
fn planned_idle(dir: &Path, sim: &Sim, policy: &str, n: u64, extra: &str) -> (String, i32) {
    let mut csv = "username,last_login\n".to_string();
    for i in 1..=n {
        csv.push_str(&format!("member{i},2023-01-01\n"));
    }
    std::fs::write(dir.join("logins.csv"), csv).unwrap();
    std::fs::write(dir.join("p.policy"), policy).unwrap();
    let extra = format!("enrich = [\"logins.csv\"]\n{extra}");
    let args = [
        "plan",
        "p.policy",
        "--connector",
        "events",
        "--format",
        "json",
        "--output",
        "plan.json",
    ];
    let out = dormant(dir, sim, &extra, &args);
    assert!(matches!(out.code, 0 | 3), "{}", out.stderr);
    (extra, out.code)
}

/// The journal's records of one event.
fn journal_events(dir: &Path, event: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join("dormant-journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["event"] == event)
        .collect()
}

/// The Bevy practice: at most N deletions a run, the rest on the next run
/// of the same plan (`apply --max`), while `limit` stays the hard stop.
#[test]
fn at_most_n_deletions_a_run_and_the_rest_on_the_next_run() {
    // Members 1 and 2 are HQ admins; 3 to 9 are seven deletions.
    let policy = "hq: is_admin -> keep\nidle: inactive > 12mo -> delete\nlimit delete 10\n";
    let site = Site::new(9);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let (extra, code) = planned_idle(dir.path(), &sim, policy, 9, "");
    assert_eq!(code, 0);
    let deleted = |sim: &Sim| {
        let mut ids: Vec<String> = deletes(sim).into_keys().collect();
        ids.sort();
        ids
    };
    let user = |i: u64| format!("/api/user/{i}/");
    let apply = ["apply", "plan.json", "--yes", "--max", "3"];
    let out = dormant(dir.path(), &sim, &extra, &apply);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done, 0 skipped, 0 failed"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("3 acted on, 4 left for the next run of this plan (--max 3)"),
        "{}",
        out.stdout
    );
    assert_eq!(deleted(&sim), [user(3), user(4), user(5)]);
    let pending: Vec<bool> = site
        .users
        .lock()
        .unwrap()
        .iter()
        .map(|u| u["pending_deletion"] == true)
        .collect();
    assert_eq!(pending, [false, false, true, true, true, false, false, false, false]);
    let deferred = journal_events(dir.path(), "deferred");
    assert_eq!(deferred.len(), 1);
    assert_eq!(
        (&deferred[0]["max"], &deferred[0]["acting"], &deferred[0]["count"]),
        (&json!(3), &json!(3), &json!(4))
    );
    // The same plan again: the next three, nothing repeated.
    let out = dormant(dir.path(), &sim, &extra, &apply);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("3 acted on, 1 left for the next run of this plan"),
        "{}",
        out.stdout
    );
    assert_eq!(deleted(&sim), (3..=8).map(user).collect::<Vec<_>>());
    // The last one; nothing is left over.
    let out = dormant(dir.path(), &sim, &extra, &apply);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("1 done"), "{}", out.stdout);
    assert!(!out.stdout.contains("left for the next run"), "{}", out.stdout);
    assert_eq!(deleted(&sim), (3..=9).map(user).collect::<Vec<_>>());
    // A fourth run does nothing.
    let out = dormant(dir.path(), &sim, &extra, &apply);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("0 done, 7 skipped, 0 failed"), "{}", out.stdout);
    let d = deletes(&sim);
    assert_eq!(d.len(), 7);
    assert!(d.values().all(|&n| n == 1), "{d:?}");
    assert_eq!(journal_events(dir.path(), "deferred").len(), 2);
    let out = dormant(dir.path(), &sim, &extra, &["journal", "verify"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // `limit` stays the hard stop: a plan over it is refused whole, with
    // `--max` or without.
    let site = Site::new(9);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let policy = "hq: is_admin -> keep\nidle: inactive > 12mo -> delete\nlimit delete 5\n";
    let (extra, code) = planned_idle(dir.path(), &sim, policy, 9, "");
    assert_eq!(code, 3);
    let out = dormant(dir.path(), &sim, &extra, &apply);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("the plan is over its limits: delete (7 planned, limit 5)"),
        "{}",
        out.stderr
    );
    assert!(deletes(&sim).is_empty());
}

/// A disabled member under a deactivate rule is already deactivated: shown
/// so in every format, never sent, never notified; one pending deletion
/// under a delete rule is already pending deletion.
#[test]
fn accounts_already_in_the_target_state_are_shown_and_left_alone() {
    let site = Site::new(6);
    site.users.lock().unwrap()[2]["is_active"] = json!(false);
    let sim = start(&site);
    let hook = Sim::start(|_| Reply::Json(200, json!({"ok": true})));
    let dir = tempfile::tempdir().unwrap();
    let notify = format!("\n[notify.webhook]\nurl = \"{}/hooks/dormant\"\n", hook.url());
    let policy = "hq: is_admin -> keep\nidle: inactive > 12mo -> deactivate after notice 30d\n";
    let (extra, code) = planned_idle(dir.path(), &sim, policy, 6, &notify);
    assert_eq!(code, 0);
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap()).unwrap();
    let decision = |id: &str| {
        plan["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["user"]["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (&decision("3")["action"], &decision("3")["already"]),
        (&json!("deactivate"), &json!("disabled"))
    );
    assert_eq!(decision("4")["action"], "notify");
    assert!(decision("4").get("already").is_none());
    assert_eq!(plan["summary"]["notify"], 3);
    assert_eq!(plan["summary"]["deactivate"], 0);
    assert_eq!(plan["already"], json!({"notify": 0, "deactivate": 1, "delete": 0}));
    for (format, shown) in [
        ("table", "member3 <member3@example.org> (3)  already deactivated"),
        (
            "csv",
            "3,member3,member3@example.org,already deactivated,idle,\"already deactivated (status disabled)",
        ),
        (
            "markdown",
            "| member3 <member3@example.org> (3) | already deactivated | idle |",
        ),
    ] {
        let out = dormant(
            dir.path(),
            &sim,
            &extra,
            &["plan", "p.policy", "--connector", "events", "--format", format],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains(shown), "{format}: {}", out.stdout);
    }
    let out = dormant(
        dir.path(),
        &sim,
        &extra,
        &["explain", "p.policy", "--connector", "events", "3"],
    );
    assert!(
        out.stdout
            .contains("decision  deactivate (already deactivated: nothing is sent)"),
        "{}",
        out.stdout
    );

    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done, 0 skipped, 0 failed"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "1 already done when planned (the accounts were already disabled or pending deletion): nothing sent"
        ),
        "{}",
        out.stdout
    );
    let hooks = hook.requests();
    assert_eq!(hooks.len(), 3, "notices to members 4 to 6 only");
    assert!(
        hooks.iter().all(|r| !r.body.contains("member3")),
        "no notice for member 3"
    );
    assert!(requests(&sim, "POST").is_empty(), "nothing deactivated");
    assert!(outcomes(dir.path(), "3").is_empty(), "nothing journaled for member 3");

    // Pending deletion, under a delete rule: already pending deletion.
    site.users.lock().unwrap()[3]["pending_deletion"] = json!(true);
    let policy = "hq: is_admin -> keep\nidle: inactive > 12mo -> delete\n";
    std::fs::write(dir.path().join("p.policy"), policy).unwrap();
    let args = [
        "plan",
        "p.policy",
        "--connector",
        "events",
        "--format",
        "json",
        "--output",
        "plan2.json",
    ];
    let out = dormant(dir.path(), &sim, &extra, &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = dormant(dir.path(), &sim, &extra, &["apply", "plan2.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let d = deletes(&sim);
    assert!(!d.contains_key("/api/user/4/"), "{d:?}");
    assert_eq!(d.len(), 3, "members 3, 5 and 6: {d:?}");
}
