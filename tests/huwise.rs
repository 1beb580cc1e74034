//! The Huwise connector against a simulator of the Automation API v1.0
//! (CONNECTORS.md sections 1 and 9), with pagination edges and faults.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::huwise::*;
use common::sim::{Fault, Reply, Sim};
use common::smtp::Smtp;
use common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

type Out = common::Done;

/// Runs dormant in `dir` with a dormant.toml for the simulator.
fn dormant(dir: &Path, sim: &Sim, extra: &str, key: Option<&str>, args: &[&str]) -> Out {
    let keys = format!(
        "api_key_env = \"HUWISE_API_KEY\"\nbatch_size = 2\nrequests_per_second = 1000\ntimeout_seconds = 1\nretries = 4\n{extra}"
    );
    common::write_config(dir, &common::connector_config("portal", "huwise", &sim.url(), &keys));
    let run = Run::new(args).in_dir(dir).never_shows(KEY).without("HUWISE_API_KEY");
    match key {
        Some(k) => run.secret("HUWISE_API_KEY", k).run(),
        None => run.run(),
    }
}

fn fetched(out: &Out) -> Vec<String> {
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    users.iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user{i:03}")).collect()
}

#[test]
fn fetches_every_user_once_at_every_pagination_edge() {
    // Empty, one short page, exactly one page, a short last page, exact pages.
    for n in [0, 1, 2, 5, 6] {
        let domain = Domain::new(n);
        let sim = start(&domain);
        let dir = tempfile::tempdir().unwrap();
        let out = dormant(dir.path(), &sim, "", Some(KEY), &["fetch", "--connector", "portal"]);
        assert_eq!(fetched(&out), names(n), "{n} users");
    }
}

#[test]
fn normalizes_as_documented() {
    let domain = Domain::new(6);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(dir.path(), &sim, "", Some(KEY), &["fetch", "--connector", "portal"]);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(users[0]["is_admin"], true, "edit_domain granted directly");
    assert_eq!(users[1]["is_admin"], true, "edit_domain granted through a group");
    assert_eq!(users[2]["is_admin"], false);
    assert_eq!(users[0]["last_login"], Value::Null, "null last_login_at is never");
    assert_eq!(users[1]["last_login"], "2024-11-19T17:42:03Z");
    assert_eq!(users[3]["status"], "disabled");
    assert_eq!(users[5]["role"], json!(["global", "ods_staff"]));
    assert_eq!(users[1]["group"], json!(["gr_admins"]));
    // The names, from one read of the group list.
    assert_eq!(users[1]["group_name"], json!(["Domain admins"]));
    assert_eq!(users[2]["group_name"], json!(["Readers"]));
    let group_reads = sim.requests().iter().filter(|r| r.path().ends_with("/groups/")).count();
    assert_eq!(group_reads, 1);
    assert_eq!(users[2]["source"], "portal");
    assert!(users[2].get("is_service").is_none(), "no flag: unknown");
    // Every request carried the key in the documented header.
    assert!(sim
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Apikey {KEY}"))));
}

/// A connector's warning is a JSON line in `--error-format json`, with its
/// code, and not the plain `warning:` text.
#[test]
fn a_connector_warning_is_a_json_line_in_the_json_error_format() {
    let domain = Domain::new(3);
    *domain.groups_forbidden.lock().unwrap() = true;
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let args = ["--error-format", "json", "fetch", "--connector", "portal"];
    let out = dormant(dir.path(), &sim, "", Some(KEY), &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let warnings: Vec<Value> = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["severity"] == "warning")
        .collect();
    assert_eq!(
        warnings,
        [json!({
            "severity": "warning",
            "code": "dormant::connector::group_names_unknown",
            "message": "connector `portal`: the group list answered 403; every group_name is unknown",
        })],
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("warning: "), "{}", out.stderr);
}

#[test]
fn a_group_list_the_key_may_not_read_leaves_group_names_unknown() {
    let domain = Domain::new(3);
    *domain.groups_forbidden.lock().unwrap() = true;
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(dir.path(), &sim, "", Some(KEY), &["fetch", "--connector", "portal"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: connector `portal`: the group list answered 403; every group_name is unknown"),
        "{}",
        out.stderr
    );
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(users[1]["group"], json!(["gr_admins"]));
    assert!(
        users.iter().all(|u| u.get("group_name").is_none()),
        "unknown, not empty"
    );
}

#[test]
fn rides_out_429_500_drops_truncation_and_slowness() {
    let domain = Domain::new(7);
    domain.faults.at([
        (0, Fault::TooMany(1)),
        (2, Fault::ServerError),
        (4, Fault::Truncate),
        (5, Fault::Drop),
        (7, Fault::Slow(1500)),
        (8, Fault::ServerError),
    ]);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(dir.path(), &sim, "", Some(KEY), &["fetch", "--connector", "portal"]);
    assert_eq!(fetched(&out), names(7));
    // The 429's Retry-After was honoured: the retry came a second later at least.
    let log = sim.requests();
    assert!(log[1].at - log[0].at >= Duration::from_secs(1));
    // Each faulty request was repeated: same target twice in a row.
    assert_eq!(log[2].target, log[3].target);
}

#[test]
fn a_fault_that_persists_is_a_clear_error_and_nothing_is_written() {
    let domain = Domain::new(5);
    *domain.faults.from.lock().unwrap() = Some((2, Fault::ServerError));
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "",
        Some(KEY),
        &["fetch", "--connector", "portal", "--output", "users.json"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("Huwise: GET /users/?limit=2&offset=2 failed 5 times, last: 500 oops"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("users.json").exists());
}

#[test]
fn a_list_that_changes_while_read_is_refused() {
    let domain = Domain::new(5);
    *domain.grow_after.lock().unwrap() = Some(2);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(dir.path(), &sim, "", Some(KEY), &["fetch", "--connector", "portal"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("changed from 5 to 6 while the list was read"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn wrong_and_missing_keys() {
    let domain = Domain::new(3);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "",
        Some("not-the-key-123"),
        &["fetch", "--connector", "portal"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("Huwise: GET /users/?all_permissions=edit_domain&limit=2&offset=0 answered 401: Invalid API key"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("not-the-key-123"));
    let out = dormant(dir.path(), &sim, "", None, &["fetch", "--connector", "portal"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("environment variable `HUWISE_API_KEY` (`api_key_env` of connector `portal`) is not set"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_daily_quota_holds_within_and_across_runs() {
    let domain = Domain::new(9);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "requests_per_day = 3\n",
        Some(KEY),
        &["fetch", "--connector", "portal"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("the daily quota of 3 requests is used up"),
        "{}",
        out.stderr
    );
    assert_eq!(sim.requests().len(), 3);
    // A fetch takes 7 requests (one page of admins, five of users, one of
    // groups): a quota of 10 allows one a day, and the next run stops at
    // its fourth.
    std::fs::remove_file(dir.path().join("dormant-usage.json")).unwrap();
    let quota = "requests_per_day = 10\n";
    let out = dormant(dir.path(), &sim, quota, Some(KEY), &["fetch", "--connector", "portal"]);
    assert_eq!(fetched(&out), names(9));
    let out = dormant(dir.path(), &sim, quota, Some(KEY), &["fetch", "--connector", "portal"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("the daily quota of 10 requests is used up"),
        "{}",
        out.stderr
    );
    assert_eq!(sim.requests().len(), 3 + 7 + 3);
    let usage: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("dormant-usage.json")).unwrap()).unwrap();
    assert_eq!(usage["portal"]["requests"], 10);
}

#[test]
fn plans_from_the_connector() {
    let domain = Domain::new(6);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nnever: never_logged_in and joined > 90d -> delete\n",
    )
    .unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "",
        Some(KEY),
        &[
            "plan",
            "p.policy",
            "--connector",
            "portal",
            "--as-of",
            "2026-11-23",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["users"]["source"], "connector:portal");
    assert_eq!(plan["users"]["count"], 6);
    let deleted: Vec<&str> = plan["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"] == "delete")
        .map(|d| d["user"]["id"].as_str().unwrap())
        .collect();
    // user000 never logged in but is an admin; user004 never logged in.
    assert_eq!(deleted, ["user004"]);
}

#[test]
fn check_and_plan_say_what_the_connector_cannot_give() {
    let domain = Domain::new(3);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin or is_service -> keep\nidle: inactive > 12mo -> deactivate\n",
    )
    .unwrap();
    let check = ["check", "p.policy", "--connector", "portal", "--error-format", "plain"];
    let out = dormant(dir.path(), &sim, "", Some(KEY), &check);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("connector `portal` never supplies `is_service`: Huwise has no flag for service or API accounts"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Huwise cannot deactivate users"), "{}", out.stderr);
    // Opting in to a revoke, and an enrich file with the column, answer both;
    // check says what a revoke leaves.
    std::fs::write(dir.path().join("services.csv"), "username,is_service\nuser002,true\n").unwrap();
    let extra = "deactivate = \"revoke\"\nenrich = [\"services.csv\"]\n";
    let out = dormant(dir.path(), &sim, extra, Some(KEY), &check);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("deactivate is a revoke")
            && out.stderr.contains("grants made on single datasets or pages stay"),
        "{}",
        out.stderr
    );
    // Nothing was fetched to check.
    assert!(sim.requests().is_empty());
    // plan says so too, and still plans.
    let out = dormant(
        dir.path(),
        &sim,
        "",
        Some(KEY),
        &[
            "plan",
            "p.policy",
            "--connector",
            "portal",
            "--as-of",
            "2026-11-23",
            "--error-format",
            "plain",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("warning"), "{}", out.stderr);
    assert!(out.stderr.contains("Huwise cannot deactivate users"), "{}", out.stderr);
    // The plan JSON carries them, for its reviewer.
    let args = [
        "plan",
        "p.policy",
        "--connector",
        "portal",
        "--as-of",
        "2026-11-23",
        "--format",
        "json",
    ];
    let out = dormant(dir.path(), &sim, "", Some(KEY), &args);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let codes: Vec<&str> = plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"dormant::unsupplied_field") && codes.contains(&"dormant::unsupported_action"),
        "{codes:?}"
    );
}

#[test]
fn enrich_files_fill_in_what_the_platform_does_not_say() {
    let domain = Domain::new(3);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("extra.csv"),
        "email,is_service,last_login\nUSER002@example.org,true,2020-01-01\nnobody@example.org,false,\n",
    )
    .unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "enrich = [\"extra.csv\"]\n",
        Some(KEY),
        &["fetch", "--connector", "portal"],
    );
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(users[2]["is_service"], true);
    // The platform's own last login wins over the file's.
    assert_eq!(users[2]["last_login"], "2024-11-19T17:42:03Z");
    assert!(users[1].get("is_service").is_none());
    assert!(out.stderr.contains("1 of 2 rows matched no user"), "{}", out.stderr);
}

fn connector(dir: &Path, sim: &Sim, extra: &str) -> dormant::connector::huwise::Huwise {
    let text = format!(
        "policy = \"p.policy\"\n[connector.portal]\nkind = \"huwise\"\nurl = \"{}\"\napi_key_env = \"HUWISE_API_KEY\"\nretries = 1\n{extra}",
        sim.url()
    );
    let config = dormant::config::Config::parse(dormant::source::Source::new("dormant.toml", text), dir)
        .unwrap_or_else(|_| panic!("config"));
    dormant::connector::huwise::Huwise::with_key(config.connector("portal").unwrap(), dormant::http::Secret::new(KEY))
        .unwrap()
}

#[test]
fn deletes_by_username_but_never_the_last_admin() {
    let domain = Domain::new(3);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let h = connector(dir.path(), &sim, "");
    dormant::http::block_on(h.delete("user002")).unwrap().unwrap();
    assert_eq!(
        sim.requests().last().unwrap().target,
        "/api/automation/v1.0/users/user002/"
    );
    assert_eq!(domain.users.lock().unwrap().len(), 2);
    // user001 is an admin through a group; then user000 is the last one.
    dormant::http::block_on(h.delete("user001")).unwrap().unwrap();
    let e = dormant::http::block_on(h.delete("user000")).unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "Huwise: DELETE /users/user000/ answered 400: Cannot delete the only domain administrator (the platform refuses to delete the last domain administrator)"
    );
    let e = dormant::http::block_on(h.delete("nobody")).unwrap().unwrap_err();
    assert_eq!(e.status(), Some(404));
}

#[test]
fn a_refused_deletion_says_what_the_platform_said() {
    let domain = Domain::new(3);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let h = connector(dir.path(), &sim, "");
    // Only the answer that says so is about the last administrator.
    let e = dormant::http::block_on(h.delete("sso-managed")).unwrap().unwrap_err();
    assert_eq!(
        e.to_string(),
        "Huwise: DELETE /users/sso-managed/ answered 400: This user is managed by SSO and cannot be removed"
    );
}

#[test]
fn revokes_only_on_opt_in_and_never_through_the_read_only_expiry() {
    let domain = Domain::new(3);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let raw = json!({"username": "user002", "email": "user002@example.org", "first_name": "User",
                     "permissions": ["edit_dataset"], "groups": [{"uid": "gr_readers"}]});
    let h = connector(dir.path(), &sim, "");
    let e = dormant::http::block_on(h.revoke("user002", &raw)).unwrap().unwrap_err();
    assert!(e.to_string().contains("set `deactivate = \"revoke\"`"), "{e}");
    assert!(sim.requests().is_empty(), "nothing was sent");
    let h = connector(dir.path(), &sim, "deactivate = \"revoke\"\n");
    dormant::http::block_on(h.revoke("user002", &raw)).unwrap().unwrap();
    let sent: Vec<(String, String, String)> = sim
        .requests()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path().trim_start_matches(BASE).to_string(),
                r.body.clone(),
            )
        })
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!((sent[0].0.as_str(), sent[0].1.as_str()), ("PUT", "/users/user002/"));
    let body: Value = serde_json::from_str(&sent[0].2).unwrap();
    assert_eq!(
        body,
        json!({"email": "user002@example.org", "first_name": "User", "permissions": [], "groups": []}),
        "the writable fields as read, permissions and groups emptied, nothing read-only"
    );
    assert_eq!(
        (sent[1].0.as_str(), sent[1].1.as_str()),
        ("DELETE", "/groups/gr_readers/users/user002/")
    );
    let u = domain.users.lock().unwrap()[2].clone();
    assert_eq!((u["permissions"].clone(), u["groups"].clone()), (json!([]), json!([])));
    // The platform's own flag is untouched: is_active is read-only.
    assert_eq!(u["is_active"], true);
    // A user without an email cannot be updated (the PUT requires it).
    let e = dormant::http::block_on(h.revoke("user001", &json!({"username": "user001", "permissions": []})))
        .unwrap()
        .unwrap_err();
    assert!(e.to_string().contains("requires"), "{e}");
}

/// Domain users with more to lose: two permissions and two groups.
fn rich(domain: &Domain, i: usize) {
    let mut users = domain.users.lock().unwrap();
    users[i]["permissions"] = json!(["edit_dataset", "publish_dataset"]);
    users[i]["groups"] = json!([{"uid": "gr_readers"}, {"uid": "gr_editors"}]);
    users[i]["explore_limits"] = json!({"api_calls": 1000});
}

fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("dormant-journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

// ---- apply -------------------------------------------------------------

const POLICY: &str = "admins: is_admin -> keep\nnever: never_logged_in and joined > 90d -> delete\n";

/// A plan of the simulator's users, made in `dir`.
fn planned(dir: &Path, sim: &Sim, policy: &str) {
    std::fs::write(dir.join("p.policy"), policy).unwrap();
    let out = dormant(
        dir,
        sim,
        "",
        Some(KEY),
        &[
            "plan",
            "p.policy",
            "--connector",
            "portal",
            "--as-of",
            "2026-11-23",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    // 3: written, and over a limit.
    assert!(matches!(out.code, 0 | 3), "{}", out.stderr);
}

/// DELETE requests per username, from the simulator's own log.
fn deletes(sim: &Sim) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for r in sim.requests().iter().filter(|r| r.method == "DELETE") {
        let name = r
            .path()
            .trim_start_matches(BASE)
            .trim_start_matches("/users/")
            .trim_end_matches('/')
            .to_string();
        *n.entry(name).or_insert(0) += 1;
    }
    n
}

fn apply(dir: &Path, sim: &Sim, args: &[&str]) -> Out {
    let mut all = vec!["apply", "plan.json"];
    all.extend_from_slice(args);
    dormant(dir, sim, "", Some(KEY), &all)
}

#[test]
fn apply_acts_once_journals_and_verifies() {
    let domain = Domain::new(13);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done, 0 skipped, 0 failed"), "{}", out.stdout);
    let expected: HashMap<String, usize> = ["user004", "user008", "user012"]
        .iter()
        .map(|u| (u.to_string(), 1))
        .collect();
    assert_eq!(deletes(&sim), expected, "user000 never logged in but is an admin: kept");
    // Again: nothing is repeated.
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("0 done, 3 skipped"), "{}", out.stdout);
    assert_eq!(deletes(&sim), expected);
    let out = dormant(dir.path(), &sim, "", Some(KEY), &["journal", "verify"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("6 lines"), "{}", out.stdout);
    // The journal and its head name users and what was done: the owner's alone.
    #[cfg(unix)]
    for f in ["dormant-journal.jsonl", "dormant-journal.jsonl.head"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    // Without --yes and without a terminal, apply asks for --yes and does nothing.
    let out = apply(dir.path(), &sim, &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("add --yes"), "{}", out.stderr);
    // Deletions are said plainly to be beyond undo.
    let out = dormant(
        dir.path(),
        &sim,
        "",
        Some(KEY),
        &["undo", "dormant-journal.jsonl", "--yes"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "cannot undo: user004 on `portal` removed from the domain: cannot be undone here; invite them again"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("0 reactivated, 3 deletions that cannot be undone, 0 still pending and cancellable, 0 failed"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_revoke_is_undone_exactly() {
    let domain = Domain::new(6);
    rich(&domain, 2);
    let before = domain.users.lock().unwrap()[2].clone();
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let opt_in = "deactivate = \"revoke\"\n";
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nidle: inactive > 12mo -> deactivate\n",
    )
    .unwrap();
    let plan = |format: &str, output: &str| {
        dormant(
            dir.path(),
            &sim,
            opt_in,
            Some(KEY),
            &[
                "plan",
                "p.policy",
                "--connector",
                "portal",
                "--format",
                format,
                "--output",
                output,
            ],
        )
    };
    assert_eq!(plan("json", "plan.json").code, 0);
    // A plan over Huwise says revoke wherever it would say deactivate.
    assert_eq!(plan("table", "plan.txt").code, 0);
    let table = std::fs::read_to_string(dir.path().join("plan.txt")).unwrap();
    assert!(table.contains("revoke") && !table.contains("deactivate"), "{table}");
    let json_plan = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    assert!(json_plan.contains(r#""deactivate_is":"revoke""#), "{json_plan}");
    let out = dormant(dir.path(), &sim, opt_in, Some(KEY), &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("4 done, 0 skipped, 0 failed"), "{}", out.stdout);
    let revoked = domain.users.lock().unwrap()[2].clone();
    assert_eq!(
        (revoked["permissions"].clone(), revoked["groups"].clone()),
        (json!([]), json!([]))
    );
    assert_eq!(
        revoked["explore_limits"], before["explore_limits"],
        "other fields as they were"
    );
    // The intent holds what was taken away, read just before.
    let intent = journal(dir.path())
        .into_iter()
        .find(|r| r["event"] == "intent" && r["user"] == "user002")
        .unwrap();
    assert_eq!(
        intent["before"],
        json!({"permissions": ["edit_dataset", "publish_dataset"], "groups": ["gr_readers", "gr_editors"]})
    );
    let out = dormant(
        dir.path(),
        &sim,
        opt_in,
        Some(KEY),
        &["undo", "dormant-journal.jsonl", "--yes"],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("reactivated user002"), "{}", out.stdout);
    let mut restored = domain.users.lock().unwrap()[2].clone();
    let mut groups: Vec<Value> = restored["groups"].as_array().unwrap().clone();
    groups.sort_by_key(|g| g["uid"].as_str().unwrap().to_string());
    restored["groups"] = json!(groups);
    let mut expected = before.clone();
    let mut groups: Vec<Value> = expected["groups"].as_array().unwrap().clone();
    groups.sort_by_key(|g| g["uid"].as_str().unwrap().to_string());
    expected["groups"] = json!(groups);
    assert_eq!(restored, expected, "exactly the permissions and groups the user had");
}

/// `plan p.policy --connector portal --format json --output OUTPUT`, as of now.
fn plan_json(dir: &Path, sim: &Sim, extra: &str, output: &str) -> Out {
    dormant(
        dir,
        sim,
        extra,
        Some(KEY),
        &[
            "plan",
            "p.policy",
            "--connector",
            "portal",
            "--format",
            "json",
            "--output",
            output,
        ],
    )
}

/// Plans the revoke of user002 (and everyone idle) into `plan`, applies it.
fn revoke_run(dir: &Path, sim: &Sim, plan: &str) -> Out {
    let opt_in = "deactivate = \"revoke\"\n";
    std::fs::write(
        dir.join("p.policy"),
        "admins: is_admin -> keep\nidle: username == user002 -> deactivate\n",
    )
    .unwrap();
    let out = plan_json(dir, sim, opt_in, plan);
    assert_eq!(out.code, 0, "{}", out.stderr);
    dormant(dir, sim, opt_in, Some(KEY), &["apply", plan, "--yes"])
}

fn undo_all(dir: &Path, sim: &Sim) -> Out {
    dormant(
        dir,
        sim,
        "deactivate = \"revoke\"\n",
        Some(KEY),
        &["undo", "dormant-journal.jsonl", "--yes"],
    )
}

fn sorted_groups(u: &Value) -> Vec<String> {
    let mut g: Vec<String> = u["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["uid"].as_str().unwrap().to_string())
        .collect();
    g.sort();
    g
}

#[test]
fn a_revoke_cut_in_half_then_finished_is_undone_from_everything_it_took() {
    let domain = Domain::new(3);
    rich(&domain, 2);
    *domain.put_keeps_groups.lock().unwrap() = true;
    *domain.locked_group.lock().unwrap() = Some("gr_editors".into());
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    // Permissions gone, one group left: not done, and said so.
    let out = revoke_run(dir.path(), &sim, "plan.json");
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("revoke stopped part way") && out.stdout.contains("1 unconfirmed"),
        "{}",
        out.stdout
    );
    assert_eq!(sorted_groups(&domain.users.lock().unwrap()[2]), ["gr_editors"]);
    // Run again once the group can be left: it records only what was left.
    *domain.locked_group.lock().unwrap() = None;
    let out = dormant(
        dir.path(),
        &sim,
        "deactivate = \"revoke\"\n",
        Some(KEY),
        &["apply", "plan.json", "--yes"],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(sorted_groups(&domain.users.lock().unwrap()[2]).is_empty());
    // Undo gives back what both records hold: everything the user had.
    let out = undo_all(dir.path(), &sim);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let u = domain.users.lock().unwrap()[2].clone();
    assert_eq!(sorted_groups(&u), ["gr_editors", "gr_readers"]);
    assert_eq!(u["permissions"], json!(["edit_dataset", "publish_dataset"]));
}

#[test]
fn a_user_revoked_by_two_plans_gets_back_what_the_first_took() {
    let domain = Domain::new(3);
    rich(&domain, 2);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(revoke_run(dir.path(), &sim, "first.json").code, 0);
    // Still active (Huwise's own flag), so the next plan revokes again, finding nothing.
    let out = revoke_run(dir.path(), &sim, "second.json");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let out = undo_all(dir.path(), &sim);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let u = domain.users.lock().unwrap()[2].clone();
    assert_eq!(sorted_groups(&u), ["gr_editors", "gr_readers"]);
    assert_eq!(u["permissions"], json!(["edit_dataset", "publish_dataset"]));
}

#[test]
fn apply_refuses_a_huwise_deactivation_without_the_opt_in_before_anything() {
    let domain = Domain::new(3);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nidle: username == user002 -> deactivate\n",
    )
    .unwrap();
    let opt_in = "deactivate = \"revoke\"\n";
    let out = plan_json(dir.path(), &sim, opt_in, "plan.json");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sent = sim.requests().len();
    let out = dormant(dir.path(), &sim, "", Some(KEY), &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("Huwise has no deactivation") && out.stderr.contains("nothing was done"),
        "{}",
        out.stderr
    );
    assert_eq!(sim.requests().len(), sent, "nothing was asked of the platform");
    assert!(!dir.path().join("dormant-journal.jsonl").exists());
}

#[test]
fn a_revoke_the_platform_ignores_is_unconfirmed_and_the_next_run_settles_what_was_done() {
    let domain = Domain::new(6);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let opt_in = "deactivate = \"revoke\"\n";
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nidle: username in [user002, user003] -> deactivate\n",
    )
    .unwrap();
    let run = |args: &[&str]| dormant(dir.path(), &sim, opt_in, Some(KEY), args);
    let out = run(&[
        "plan",
        "p.policy",
        "--connector",
        "portal",
        "--format",
        "json",
        "--output",
        "plan.json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The platform answers 200 and changes nothing (as a PUT of the
    // read-only `expires_at` did): no user may be journaled done.
    *domain.ignore_puts.lock().unwrap() = true;
    let out = run(&["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("0 done") && out.stdout.contains("2 unconfirmed"),
        "{}",
        out.stdout
    );
    let outcomes: Vec<Value> = journal(dir.path())
        .into_iter()
        .filter(|r| r["event"] == "outcome")
        .collect();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|r| r["status"] == "unconfirmed"), "{outcomes:?}");
    // Now the change goes through but the read back fails: unconfirmed again.
    *domain.ignore_puts.lock().unwrap() = false;
    *domain.hide_reads.lock().unwrap() = true;
    let out = run(&["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("2 unconfirmed"), "{}", out.stdout);
    // The next run reads the platform's list: the revokes happened, so they
    // are settled, and nothing is sent again.
    *domain.hide_reads.lock().unwrap() = false;
    let sent = sim.requests().len();
    let out = run(&["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("permissions and groups are gone"), "{}", out.stdout);
    assert!(
        sim.requests()[sent..].iter().all(|r| r.method == "GET"),
        "nothing sent again"
    );
    let out = run(&["journal", "verify"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn two_applies_of_one_plan_at_once_act_on_every_target_exactly_once() {
    for round in 0..20 {
        let domain = Domain::new(13);
        let sim = start(&domain);
        let dir = tempfile::tempdir().unwrap();
        planned(dir.path(), &sim, POLICY);
        // Overlapping cron jobs: half the rounds wait for each other, half
        // stop at once when the journal is taken.
        let wait = round % 2 == 0;
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let dir = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let mut args = vec!["apply", "plan.json", "--yes"];
                    if wait {
                        args.push("--wait");
                    }
                    Run::new(&args).in_dir(&dir).secret("HUWISE_API_KEY", KEY).run()
                })
            })
            .collect();
        let outs: Vec<Out> = runs.into_iter().map(|t| t.join().unwrap()).collect();
        let expected: HashMap<String, usize> = ["user004", "user008", "user012"]
            .iter()
            .map(|u| (u.to_string(), 1))
            .collect();
        assert_eq!(deletes(&sim), expected, "round {round}");
        let ok = outs.iter().filter(|o| o.code == 0).count();
        if wait {
            assert_eq!(
                ok,
                2,
                "round {round}: {}",
                outs.iter().map(|o| o.stderr.as_str()).collect::<String>()
            );
        } else {
            // One ran; the other stopped at once, naming who holds the journal
            // (or, started after the first ended, found nothing left to do).
            assert!(ok >= 1, "round {round}");
            for o in outs.iter().filter(|o| o.code != 0) {
                assert!(
                    o.stderr.contains("is in use by another run") && o.stderr.contains("--wait"),
                    "round {round}: {}",
                    o.stderr
                );
            }
        }
        let out = dormant(dir.path(), &sim, "", Some(KEY), &["journal", "verify"]);
        assert_eq!(out.code, 0, "round {round}: {}", out.stderr);
        assert!(out.stdout.contains("6 lines"), "round {round}: {}", out.stdout);
    }
}

#[test]
fn a_canary_acts_on_exactly_one_user() {
    let domain = Domain::new(13);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    let out = apply(dir.path(), &sim, &["--yes", "--canary", "1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        deletes(&sim).into_iter().collect::<Vec<_>>(),
        [("user004".to_string(), 1)]
    );
}

#[test]
fn stale_over_limit_and_file_plans_are_refused() {
    let domain = Domain::new(13);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    std::fs::write(dir.path().join("p.policy"), format!("{POLICY}# edited\n")).unwrap();
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("`p.policy` changed since the plan was made"),
        "{}",
        out.stderr
    );
    planned(dir.path(), &sim, &format!("{POLICY}limit delete 2\n"));
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("over its limits: delete (3 planned, limit 2)"),
        "{}",
        out.stderr
    );
    std::fs::write(
        dir.path().join("users.csv"),
        "id,last_login,joined,is_admin\nu1,,2020-01-01,false\n",
    )
    .unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "",
        Some(KEY),
        &[
            "plan",
            "p.policy",
            "--users",
            "users.csv",
            "--as-of",
            "2026-11-23",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("plan again with --connector NAME"),
        "{}",
        out.stderr
    );
    assert!(deletes(&sim).is_empty(), "nothing was deleted");
}

/// The plan in `dir`, changed by `edit`, written back.
fn tamper(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join("plan.json");
    let mut plan: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut plan);
    std::fs::write(&path, plan.to_string()).unwrap();
}

#[test]
fn plans_edited_to_fool_apply_are_refused_before_anything_is_sent() {
    let domain = Domain::new(13);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let refused = |needle: &str, code: i32| {
        let sent = sim.requests().iter().filter(|r| r.method != "GET").count();
        let out = apply(dir.path(), &sim, &["--yes"]);
        assert_eq!(out.code, code, "{}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(needle), "{}", out.stderr);
        assert_eq!(sim.requests().iter().filter(|r| r.method != "GET").count(), sent);
    };
    // Made under another policy (one that deletes admins), with that file's
    // hash: apply enforces dormant.toml's `policy`, not the plan's word.
    std::fs::write(dir.path().join("p.policy"), POLICY).unwrap();
    std::fs::write(dir.path().join("other.policy"), "all: joined > 1d -> delete\n").unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "",
        Some(KEY),
        &[
            "plan",
            "other.policy",
            "--connector",
            "portal",
            "--as-of",
            "2026-11-23",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    refused(
        "the plan was made under `other.policy`, and apply enforces `p.policy` (dormant.toml's `policy`)",
        1,
    );
    // A user decided twice.
    planned(dir.path(), &sim, POLICY);
    tamper(dir.path(), |p| {
        let d = p["decisions"][4].clone();
        p["decisions"].as_array_mut().unwrap().push(d);
        p["users"]["count"] = json!(14);
    });
    refused("the plan decides user `user004` twice (decisions 5 and 14)", 1);
    // A count raised to get under a percentage limit.
    let limited = format!("{POLICY}limit delete 20%\n");
    planned(dir.path(), &sim, &limited);
    tamper(dir.path(), |p| p["users"]["count"] = json!(100));
    refused("the plan says it evaluated 100 users but decides 13", 1);
    // ... and made consistent with made-up users: counted against the users
    // there are, 3 deletions of 13 are over 20%.
    planned(dir.path(), &sim, &limited);
    tamper(dir.path(), |p| {
        for i in 0..7 {
            p["decisions"].as_array_mut().unwrap().push(json!({
                "user": {"id": format!("ghost{i}")}, "action": "keep", "rule": null
            }));
        }
        p["users"]["count"] = json!(20);
        p["summary"]["keep"] = json!(17);
    });
    refused("over its limits: delete (3 planned, limit 20%)", 3);
    assert!(deletes(&sim).is_empty(), "nothing was deleted");
}

#[test]
fn a_copy_of_a_plan_with_other_line_ends_is_the_same_plan() {
    let domain = Domain::new(13);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // git's autocrlf, and a pretty-printer: the same plan, bytes aside.
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap()).unwrap();
    let copy = serde_json::to_string_pretty(&plan).unwrap().replace('\n', "\r\n");
    std::fs::write(dir.path().join("plan.json"), copy).unwrap();
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("0 done, 3 skipped"), "{}", out.stdout);
    assert!(
        out.stdout.contains("already done by an earlier run of this plan"),
        "{}",
        out.stdout
    );
    assert!(deletes(&sim).values().all(|&n| n == 1));
}

#[test]
fn a_user_who_logged_in_since_the_plan_is_skipped() {
    let domain = Domain::new(13);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    domain.users.lock().unwrap()[8]["last_login_at"] = json!("2026-11-22T10:00:00Z");
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("skipped delete user008 (user008@example.org): decided again on fresh data: keep (no rule), not delete as planned"),
        "{}",
        out.stdout
    );
    assert!(!deletes(&sim).contains_key("user008"));
}

#[test]
fn killed_in_the_middle_then_run_again_acts_on_everyone_exactly_once() {
    let domain = Domain::new(25);
    *domain.slow_deletes.lock().unwrap() = Some(Duration::from_millis(300));
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    // Kill it while its third DELETE is in flight.
    Run::new(&["apply", "plan.json", "--yes"])
        .in_dir(dir.path())
        .secret("HUWISE_API_KEY", KEY)
        .kill_when(|| deletes(&sim).values().sum::<usize>() >= 3);
    let before = deletes(&sim);
    assert_eq!(before.values().sum::<usize>(), 3, "{before:?}");
    *domain.slow_deletes.lock().unwrap() = None;
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let expected: HashMap<String, usize> = ["user004", "user008", "user012", "user016", "user020", "user024"]
        .iter()
        .map(|u| (u.to_string(), 1))
        .collect();
    assert_eq!(deletes(&sim), expected);
    // No mutating request ever named the admin.
    assert!(sim
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .all(|r| !r.target.contains("user000")));
    let out = dormant(dir.path(), &sim, "", Some(KEY), &["journal", "verify"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

const JOURNAL_KEY: &str = "9c2f6e1a4b8d3f7e0a5c9b2d6e1f4a8c";

/// Runs dormant in `dir` with a dormant.toml whose journal is keyed, with
/// the journal's key in the environment or not.
fn keyed(dir: &Path, sim: &Sim, journal_key: Option<&str>, args: &[&str]) -> Out {
    let config = format!(
        "journal_key_env = \"DORMANT_JOURNAL_KEY\"\npolicy = \"p.policy\"\n[connector.portal]\nkind = \"huwise\"\nurl = \"{}\"\napi_key_env = \"HUWISE_API_KEY\"\nrequests_per_second = 1000\n",
        sim.url()
    );
    std::fs::write(dir.join("dormant.toml"), config).unwrap();
    let run = Run::new(args)
        .in_dir(dir)
        .secret("HUWISE_API_KEY", KEY)
        .never_shows(JOURNAL_KEY)
        .without("DORMANT_JOURNAL_KEY");
    match journal_key {
        Some(k) => run.secret("DORMANT_JOURNAL_KEY", k).run(),
        None => run.run(),
    }
}

#[test]
fn apply_keys_the_journal_and_verify_and_apply_need_the_key() {
    let domain = Domain::new(13);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    // Without the key, nothing is done.
    let out = keyed(dir.path(), &sim, None, &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("environment variable `DORMANT_JOURNAL_KEY` (`journal_key_env` of dormant.toml) is not set"),
        "{}",
        out.stderr
    );
    assert!(deletes(&sim).is_empty());
    let out = keyed(dir.path(), &sim, Some(JOURNAL_KEY), &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done, 0 skipped, 0 failed"), "{}", out.stdout);
    let journal = std::fs::read_to_string(dir.path().join("dormant-journal.jsonl")).unwrap();
    assert_eq!(journal.lines().count(), 6);
    assert!(
        journal.lines().all(|l| l.contains("\"mac\":\"hmac-sha256\"")),
        "{journal}"
    );
    let out = keyed(dir.path(), &sim, Some(JOURNAL_KEY), &["journal", "verify"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("6 lines, every one intact and in order (every line's HMAC-SHA256 checked with the key)"),
        "{}",
        out.stdout
    );
    let out = keyed(dir.path(), &sim, None, &["journal", "verify"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("cannot verify"), "{}", out.stderr);
    // An unkeyed journal is not carried on keyed: the kinds never mix.
    let (domain, other) = (Domain::new(13), tempfile::tempdir().unwrap());
    let sim = start(&domain);
    planned(other.path(), &sim, POLICY);
    let out = dormant(
        other.path(),
        &sim,
        "",
        Some(KEY),
        &["apply", "plan.json", "--yes", "--canary", "1"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = keyed(other.path(), &sim, Some(JOURNAL_KEY), &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("is not keyed (its first line has no `mac`)"),
        "{}",
        out.stderr
    );
}

// ---- notices -----------------------------------------------------------

fn days_from_now(days: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn summary_of(dir: &Path, sim: &Sim, extra: &str, as_of: &str) -> Value {
    let out = dormant(
        dir,
        sim,
        extra,
        Some(KEY),
        &[
            "plan",
            "p.policy",
            "--connector",
            "portal",
            "--as-of",
            as_of,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    plan
}

fn action_of<'a>(plan: &'a Value, id: &str) -> &'a str {
    plan["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["user"]["id"] == id)
        .unwrap()["action"]
        .as_str()
        .unwrap()
}

#[test]
fn notices_by_smtp_then_the_grace_period_then_a_login_resets_it() {
    let domain = Domain::new(5);
    // Notices go only to accounts that can sign in: user003 can here.
    domain.users.lock().unwrap()[3]["is_active"] = json!(true);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start();
    let extra = format!(
        "\n[notify]\nsubject = \"{{platform}}: {{action}} on {{date}}\"\n[notify.smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"it@example.org\"\ntls = \"none\"\n",
        smtp.port
    );
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nleavers: email matches \"*@example.org\" -> delete after notice 30d\n",
    )
    .unwrap();
    let now = days_from_now(0);
    let out = dormant(
        dir.path(),
        &sim,
        &extra,
        Some(KEY),
        &[
            "plan",
            "p.policy",
            "--connector",
            "portal",
            "--as-of",
            &now,
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = dormant(dir.path(), &sim, &extra, Some(KEY), &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done"), "{}", out.stdout);
    let mail = smtp.mail();
    let mut envelope: Vec<String> = smtp.messages().into_iter().flat_map(|m| m.to).collect();
    envelope.sort();
    assert_eq!(
        envelope,
        ["user002@example.org", "user003@example.org", "user004@example.org"]
    );
    assert!(smtp.messages().iter().all(|m| m.from == "it@example.org"));
    for u in ["user002", "user003", "user004"] {
        assert!(mail.contains(&format!("To: {u}@example.org")), "{mail}");
    }
    assert!(
        !mail.contains("To: user000") && !mail.contains("To: user001"),
        "admins get no notice"
    );
    let due = days_from_now(30);
    assert!(mail.contains(&format!("portal: delete on {}", &due[..10])), "{mail}");
    assert!(mail.contains("it will be deleted."), "{mail}");
    assert!(!mail.contains(KEY));
    // Ten days on, the notice runs; a month on, it has run out.
    assert_eq!(
        action_of(&summary_of(dir.path(), &sim, &extra, &days_from_now(10)), "user003"),
        "wait"
    );
    assert_eq!(
        action_of(&summary_of(dir.path(), &sim, &extra, &days_from_now(31)), "user003"),
        "delete"
    );
    // A login after the notice voids it: notified again, not deleted.
    domain.users.lock().unwrap()[3]["last_login_at"] = json!(days_from_now(1));
    let later = summary_of(dir.path(), &sim, &extra, &days_from_now(31));
    assert_eq!(action_of(&later, "user003"), "notify");
    assert_eq!(action_of(&later, "user004"), "delete");
}

#[test]
fn notices_to_a_webhook() {
    let domain = Domain::new(4);
    // Notices go only to accounts that can sign in: user003 can here.
    domain.users.lock().unwrap()[3]["is_active"] = json!(true);
    let sim = start(&domain);
    let hook = Sim::start(|_| Reply::Json(200, json!({"ok": true})));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("\n[notify.webhook]\nurl = \"{}/hooks/dormant\"\n", hook.url());
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nleavers: email matches \"user003@*\" -> deactivate after notice 14d\n",
    )
    .unwrap();
    let out = plan_json(
        dir.path(),
        &sim,
        &format!("deactivate = \"revoke\"\n{extra}"),
        "plan.json",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = dormant(
        dir.path(),
        &sim,
        &format!("deactivate = \"revoke\"\n{extra}"),
        Some(KEY),
        &["apply", "plan.json", "--yes"],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let posts = hook.requests();
    assert_eq!(posts.len(), 1);
    assert_eq!((posts[0].method.as_str(), posts[0].path()), ("POST", "/hooks/dormant"));
    let body: Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(body["user"]["id"], "user003");
    assert_eq!(body["action"], "deactivate");
    assert_eq!(body["date"], json!(&days_from_now(14)[..10]));
    assert!(body["message"].as_str().unwrap().contains("it will be deactivated"));
    // No platform request changed anything: a notice is only a message.
    assert!(sim.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn notices_without_a_channel_are_refused_before_anything_is_done() {
    let domain = Domain::new(4);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nall: email matches \"*\" -> notify\n",
    )
    .unwrap();
    let out = plan_json(dir.path(), &sim, "", "plan.json");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("has no `[notify]` channel"), "{}", out.stderr);
}

#[test]
fn ctrl_c_stops_cleanly_after_the_request_in_flight() {
    let domain = Domain::new(25);
    *domain.slow_deletes.lock().unwrap() = Some(Duration::from_millis(400));
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    let child = Command::new(env!("CARGO_BIN_EXE_dormant"))
        .args(["apply", "plan.json", "--yes"])
        .current_dir(dir.path())
        .env("HUWISE_API_KEY", KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Generous: on a loaded machine the first deletes can be slow to come.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while deletes(&sim).values().sum::<usize>() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("stopped on Ctrl-C"), "{stdout}");
    // The DELETE in flight finished and has its outcome: no intent is left in doubt.
    let records: Vec<Value> = std::fs::read_to_string(dir.path().join("dormant-journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let intents = records.iter().filter(|r| r["event"] == "intent").count();
    let outcomes = records.iter().filter(|r| r["event"] == "outcome").count();
    assert_eq!(intents, outcomes);
    assert_eq!(deletes(&sim).values().sum::<usize>(), intents);
    assert!(intents < 6, "it stopped before the end");
    *domain.slow_deletes.lock().unwrap() = None;
    let out = apply(dir.path(), &sim, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(deletes(&sim).values().all(|&n| n == 1));
    assert_eq!(deletes(&sim).len(), 6);
}

/// Runs apply on a terminal (util-linux's `script` gives it one), answering `answer`.
fn apply_on_a_terminal(dir: &Path, answer: &str) -> String {
    use std::io::Write;
    let line = format!("{} apply plan.json", env!("CARGO_BIN_EXE_dormant"));
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env("HUWISE_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux)");
    // Answer once the prompt is up: a pty drops what comes before its reader.
    std::thread::sleep(Duration::from_millis(1500));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn without_yes_apply_shows_what_it_will_do_and_asks() {
    let domain = Domain::new(13);
    let sim = start(&domain);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, POLICY);
    let shown = apply_on_a_terminal(dir.path(), "n");
    assert!(shown.contains("3 users through connector `portal`"), "{shown}");
    assert!(shown.contains("delete"), "{shown}");
    assert!(
        shown.contains("user004 (user004@example.org), user008 (user008@example.org), user012"),
        "{shown}"
    );
    assert!(shown.contains("Apply? [y/N]"), "{shown}");
    assert!(shown.contains("nothing was done"), "{shown}");
    assert!(deletes(&sim).is_empty());
    let shown = apply_on_a_terminal(dir.path(), "y");
    assert!(shown.contains("3 done, 0 skipped, 0 failed"), "{shown}");
    assert_eq!(deletes(&sim).len(), 3);
}
