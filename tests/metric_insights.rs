//! The Metric Insights connector against a simulator (CONNECTORS.md
//! sections 3 and 9): tokens that expire in the middle of a fetch and of an
//! apply, "Y"/"N" booleans, string ids, groups, a crash and a resume.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::metric_insights::*;
use common::sim::Sim;
use common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

type Out = common::Done;

/// The connector with an External Application (`key` its key).
fn app(sim: &Sim) -> String {
    let keys = format!(
        "application_id = \"dormant\"\napplication_key_env = \"MI_KEY\"\nuser = \"{APP_USER}\"\nrequests_per_second = 1000\ntimeout_seconds = 5\nretries = 2\n"
    );
    common::connector_config("bi", "metric_insights", &sim.url(), &keys)
}

/// The connector with a personal token, and `extra` keys.
fn personal(sim: &Sim, extra: &str) -> String {
    let keys =
        format!("token_env = \"MI_TOKEN\"\nrequests_per_second = 1000\ntimeout_seconds = 5\nretries = 2\n{extra}");
    common::connector_config("bi", "metric_insights", &sim.url(), &keys)
}

fn dormant(dir: &Path, sim: &Sim, key: &str, args: &[&str]) -> Out {
    run(dir, &app(sim), key, args)
}

fn run(dir: &Path, config: &str, key: &str, args: &[&str]) -> Out {
    common::write_config(dir, config);
    Run::new(args)
        .in_dir(dir)
        .secret("MI_KEY", key)
        .secret("MI_TOKEN", PERSONAL)
        .never_shows("tok-1")
        .never_shows("tok-2")
        .run()
}

/// Every request carried the vendor's JSON headers, the token request
/// included [S: PTG tests/auth/auth.ts `apiInstance`; .cursor/rules/api.mdc
/// "Headers"]. Nothing says what the server does without them, so the
/// simulator answers anyway and the log is checked instead.
fn assert_json_headers(sim: &Sim) {
    for r in &sim.requests() {
        assert_eq!(
            r.header("accept"),
            Some("application/json"),
            "{} {}",
            r.method,
            r.target
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{} {}",
            r.method,
            r.target
        );
    }
}

#[test]
fn fetches_with_a_token_that_expires_mid_way() {
    // Each token serves two requests: the fetch takes four (users, groups, two memberships).
    let inst = Instance::new(6, Some(2));
    let sim = start(&inst);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(dir.path(), &sim, APP_KEY, &["fetch", "--connector", "bi"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(users.len(), 6);
    assert!(*inst.issued.lock().unwrap() >= 2, "the token was renewed");
    assert_eq!(users[1]["is_admin"], true);
    assert_eq!(users[2]["role"], json!(["power"]));
    assert_eq!(users[3]["role"], json!(["regular", "ldap"]));
    assert_eq!(users[4]["group"], json!(["10", "11"]));
    assert_eq!(users[5]["group"], json!([]));
    // The names, from the group list.
    assert_eq!(users[4]["group_name"], json!(["Finance", "Ops"]));
    assert_eq!(users[5]["group_name"], json!([]));
    assert_eq!(users[0]["is_service"], true, "the application's own user");
    assert_eq!(users[5]["is_service"], false);
    assert!(users[5].get("last_login").is_none(), "no last login: unknown");
    assert_json_headers(&sim);
    // A wrong key: a clear error that does not repeat it.
    let out = dormant(dir.path(), &sim, "wrong-key-0000", &["fetch", "--connector", "bi"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("Metric Insights: POST /get_token/ answered 401: Unauthorized"),
        "{}",
        out.stderr
    );
}

fn deletes(sim: &Sim) -> HashMap<String, usize> {
    requests(sim, "DELETE")
}

/// Requests with `method`, by path.
fn requests(sim: &Sim, method: &str) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for r in sim.requests().iter().filter(|r| r.method == method) {
        *n.entry(r.path().to_string()).or_insert(0) += 1;
    }
    n
}

/// Plans `policy` from the simulator into `plan.json`.
fn planned(dir: &Path, sim: &Sim, policy: &str) {
    planned_with(dir, &app(sim), policy);
}

fn planned_with(dir: &Path, config: &str, policy: &str) {
    std::fs::write(dir.join("p.policy"), policy).unwrap();
    let out = run(
        dir,
        config,
        APP_KEY,
        &[
            "plan",
            "p.policy",
            "--connector",
            "bi",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
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

#[test]
fn apply_renews_its_token_survives_a_crash_and_never_touches_its_own_user() {
    let inst = Instance::new(8, Some(3));
    *inst.slow_deletes.lock().unwrap() = Some(Duration::from_millis(300));
    let sim = start(&inst);
    let dir = tempfile::tempdir().unwrap();
    // Every regular user deleted.
    planned(
        dir.path(),
        &sim,
        "admins: is_admin or is_service -> keep\nregular: role in [regular] -> delete\n",
    );
    Run::new(&["apply", "plan.json", "--yes"])
        .in_dir(dir.path())
        .secret("MI_KEY", APP_KEY)
        .kill_when(|| deletes(&sim).len() >= 2);
    *inst.slow_deletes.lock().unwrap() = None;
    let out = dormant(dir.path(), &sim, APP_KEY, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // Regular users 3 to 7 (user 0 is the application's own, kept by the
    // policy), each deleted once; a DELETE refused for an expired token was
    // sent again with a fresh one.
    let mut deleted = inst.deleted.lock().unwrap().clone();
    deleted.sort();
    assert_eq!(deleted, ["3", "4", "5", "6", "7"]);
    assert!(deletes(&sim).values().all(|&n| n <= 2));
    assert!(sim
        .requests()
        .iter()
        .filter(|r| r.method != "GET" && r.path() != "/api/get_token/")
        .all(|r| !r.path().ends_with("/id/0")));
    assert!(*inst.issued.lock().unwrap() >= 3, "tokens were renewed along the way");
    // The DELETE's answer is inferred: each deletion is confirmed by a read
    // of the user answering 404.
    // (Those the killed run deleted are settled from the list instead.)
    let reads = requests(&sim, "GET");
    assert!(reads.contains_key("/api/user/id/7"), "{reads:?}");
}

#[test]
fn renews_its_token_from_expires_by_the_servers_clock() {
    // Tokens live 3 seconds, by a server clock three hours ahead of this
    // one; deleting 7 users, a second and a half each, two at a time,
    // outlives the first token by far.
    let inst = Instance::timed(10, chrono::TimeDelta::seconds(3), chrono::TimeDelta::hours(3));
    let sim = start(&inst);
    let dir = tempfile::tempdir().unwrap();
    planned(
        dir.path(),
        &sim,
        "admins: is_admin or is_service -> keep\nregular: role in [regular] -> delete\n",
    );
    *inst.slow_deletes.lock().unwrap() = Some(Duration::from_millis(1500));
    let out = dormant(dir.path(), &sim, APP_KEY, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(inst.deleted.lock().unwrap().len(), 7);
    // Renewed before each token ran out, by what `expires` said: never a
    // request refused with 412.
    assert_eq!(inst.expired.load(Ordering::SeqCst), 0, "{:?}", requests(&sim, "POST"));
    assert!(*inst.issued.lock().unwrap() >= 3, "renewed along the way");
    assert_json_headers(&sim);
}

#[test]
fn a_personal_tokens_owner_is_never_acted_on() {
    let inst = Instance::new(4, None);
    let sim = start(&inst);
    let dir = tempfile::tempdir().unwrap();
    let named = personal(&sim, &format!("user = \"{PERSONAL_USER}\"\n"));
    let out = run(dir.path(), &named, APP_KEY, &["fetch", "--connector", "bi"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(users[1]["is_service"], true, "the token's own user");
    assert_eq!(users[2]["is_service"], false);
    // A policy that would delete every administrator, the token's owner too.
    planned_with(
        dir.path(),
        &named,
        "admins: is_admin -> delete\npower: role in [power] -> delete\n",
    );
    let out = run(dir.path(), &named, APP_KEY, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("skipped delete 1 (analyst1): the user dormant's token acts as"),
        "{}",
        out.stdout
    );
    assert_eq!(*inst.deleted.lock().unwrap(), ["2"]);
    assert!(!deletes(&sim).contains_key("/api/user/id/1"));
    assert_eq!(outcomes(dir.path(), "1"), ["skipped"]);
    assert_json_headers(&sim);
    // Without `user`, dormant cannot know whose the token is, and says so.
    let dir = tempfile::tempdir().unwrap();
    let unnamed = personal(&sim, "");
    planned_with(dir.path(), &unnamed, "admins: is_admin -> delete\n");
    let out = run(dir.path(), &unnamed, APP_KEY, &["apply", "plan.json", "--yes"]);
    assert!(
        out.stderr
            .contains("warning: connector `bi` has a personal token and no `user`"),
        "{}",
        out.stderr
    );
}

#[test]
fn deactivation_by_enabled_n_and_its_undo() {
    let inst = Instance::new(5, Some(100));
    let sim = start(&inst);
    let dir = tempfile::tempdir().unwrap();
    planned(
        dir.path(),
        &sim,
        "admins: is_admin or is_service -> keep\nldap: role in [ldap] -> deactivate\n",
    );
    let out = dormant(dir.path(), &sim, APP_KEY, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(inst.users.lock().unwrap()[3]["enabled"], "N");
    assert_eq!(outcomes(dir.path(), "3"), ["done"]);
    // The PUT's answer showed the user disabled: that confirmed it, with no
    // read of the user.
    assert!(!requests(&sim, "GET").contains_key("/api/user/id/3"));
    let out = dormant(dir.path(), &sim, APP_KEY, &["undo", "dormant-journal.jsonl", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(inst.users.lock().unwrap()[3]["enabled"], "Y");
    assert_eq!(requests(&sim, "PUT").get("/api/user/id/3"), Some(&2));
}

#[test]
fn an_update_answered_200_that_changes_nothing_is_unconfirmed_until_a_later_apply_settles_it() {
    let inst = Instance::new(6, None);
    let sim = start(&inst);
    let dir = tempfile::tempdir().unwrap();
    // Users 3, 4 and 5 deactivated (0, the application's own, is kept).
    planned(
        dir.path(),
        &sim,
        "admins: is_admin or is_service -> keep\nregular: role in [regular] -> deactivate\n",
    );
    inst.ignore_writes.store(true, Ordering::SeqCst);
    let out = dormant(dir.path(), &sim, APP_KEY, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("UNCONFIRMED deactivate 3 (analyst3): Metric Insights accepted the request, but the user read back afterwards is not deactivated"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("0 done, 0 skipped, 0 failed, 3 unconfirmed"),
        "{}",
        out.stdout
    );
    // The answer showed the user unchanged, so each was read back.
    for id in ["3", "4", "5"] {
        assert_eq!(outcomes(dir.path(), id), ["unconfirmed"]);
        assert_eq!(requests(&sim, "GET").get(&format!("/api/user/id/{id}")), Some(&1));
    }
    // The change to user 3 lands late; the platform takes updates again.
    inst.users.lock().unwrap()[3]["enabled"] = json!("N");
    inst.ignore_writes.store(false, Ordering::SeqCst);
    let out = dormant(dir.path(), &sim, APP_KEY, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(outcomes(dir.path(), "3"), ["unconfirmed", "settled"]);
    assert_eq!(outcomes(dir.path(), "4"), ["unconfirmed", "done"]);
    let puts = requests(&sim, "PUT");
    assert_eq!(
        puts.get("/api/user/id/3"),
        Some(&1),
        "settled by reading, not sent again"
    );
    assert_eq!(puts.get("/api/user/id/4"), Some(&2));
    assert!(inst.users.lock().unwrap().iter().skip(3).all(|u| u["enabled"] == "N"));
}
