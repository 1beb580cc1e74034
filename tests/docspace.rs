//! The ONLYOFFICE DocSpace connector against a simulator of API 2.0
//! (CONNECTORS.md sections 4 and 9, and its corrections read from the
//! vendor's code): the people filter with paging, the login history as the
//! server serves it (paged before it is filtered, texts in the portal's
//! language, with and without the plan's audit option, 402 and 403), the
//! status and delete answers, whole-batch 403s.
//!
//! `[DS: path]` names the file of ONLYOFFICE/DocSpace-server that a
//! behaviour of the simulator follows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use chrono::{TimeZone, Utc};
use common::sim::docspace::*;
use common::sim::{Fault, Request, Sim};
use common::Run;
use dormant::config::Config;
use dormant::connector::docspace::DocSpace;
use dormant::connector::Acted;
use dormant::http::Secret;
use dormant::source::Source;
use dormant::user::Known;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;

fn config(dir: &Path, sim: &Sim) -> String {
    config_with(dir, sim, "batch_size = 2\nrequests_per_second = 1000\n")
}

fn config_with(dir: &Path, sim: &Sim, limits: &str) -> String {
    let keys = format!("api_key_env = \"DOCSPACE_KEY\"\n{limits}timeout_seconds = 1\nretries = 4\n");
    let text = common::connector_config("docs", "docspace", &sim.url(), &keys);
    common::write_config(dir, &text);
    text
}

/// Runs dormant in `dir`, which must succeed: its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = Run::new(args).in_dir(dir).secret("DOCSPACE_KEY", KEY).run();
    assert_eq!(out.code, 0, "{args:?}: {}\n{}", out.stdout, out.stderr);
    out.stdout
}

fn fetch(dir: &Path, sim: &Sim) -> (i32, String, String) {
    config(dir, sim);
    let out = Command::new(env!("CARGO_BIN_EXE_dormant"))
        .args(["fetch", "--connector", "docs"])
        .current_dir(dir)
        .env("DOCSPACE_KEY", KEY)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY), "the key leaked");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn users(dir: &Path, sim: &Sim) -> Vec<Value> {
    let (code, stdout, stderr) = fetch(dir, sim);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn by_id<'a>(users: &'a [Value], id: &str) -> &'a Value {
    users.iter().find(|u| u["id"] == id).unwrap()
}

/// The requests made to the login history.
fn history_requests(sim: &Sim) -> Vec<Request> {
    sim.requests().into_iter().filter(|r| r.path() == HISTORY).collect()
}

#[test]
fn lists_every_status_once_at_every_pagination_edge() {
    for n in [0, 1, 2, 5, 8] {
        let portal = Portal::new(n, AuditMode::Works);
        let sim = start(&portal);
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = users(dir.path(), &sim)
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect();
        let expected: Vec<String> = people(n)
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, expected, "{n} people");
    }
}

/// Fails on a per-user query (`userId=X&count=100`): the server takes the
/// 100 newest events of the portal and only then keeps X's, so u-old's
/// login, 254th newest, is never found; and on success told by text or
/// by 1000 alone: u-admin's web login (1029) and u-owner's API login (1010)
/// come with German texts.
#[test]
fn roles_statuses_and_last_logins_from_the_history() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let users = users(dir.path(), &sim);
    assert_eq!(by_id(&users, "u-owner")["is_admin"], true);
    assert_eq!(by_id(&users, "u-owner")["role"], json!(["owner"]));
    assert_eq!(by_id(&users, "u-admin")["is_admin"], true);
    assert_eq!(by_id(&users, "u-ldap")["role"], json!(["ldap", "user"]));
    assert_eq!(by_id(&users, "u-invited")["status"], "invited");
    assert_eq!(by_id(&users, "u-gone")["status"], "disabled");
    assert_eq!(by_id(&users, "u-gone")["role"], json!(["guest"]));
    // The latest successful login (a web login, 1029), not the later failed
    // attempt nor the logouts after it.
    assert_eq!(by_id(&users, "u-admin")["last_login"], "2026-10-01T08:00:00Z");
    // An API login (1010).
    assert_eq!(by_id(&users, "u-owner")["last_login"], "2026-11-02T08:00:00Z");
    // Past the first page of the history.
    assert_eq!(by_id(&users, "u-old")["last_login"], "2025-01-15T11:00:00Z");
    // No event, registered inside the 180 days kept: never logged in.
    assert_eq!(by_id(&users, "u-new")["last_login"], Value::Null);
    // No event, registered before the history begins: not known.
    assert!(by_id(&users, "u-ldap").get("last_login").is_none());
    assert_eq!(by_id(&users, "u-old")["joined"], "2020-01-01T07:00:00Z");
    assert_eq!(by_id(&users, "u-old")["group"], json!(["g-sales"]));
    assert_eq!(by_id(&users, "u-old")["group_name"], json!(["Sales"]));
    // Terminated with no `terminated` date: when is not known.
    assert!(by_id(&users, "u-gone").get("deactivated").is_none());
}

#[test]
fn the_history_is_read_once_unfiltered_a_page_of_100_at_a_time() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    users(dir.path(), &sim);
    let asked: Vec<(Option<String>, Option<String>, Option<String>)> = history_requests(&sim)
        .iter()
        .map(|r| (r.query("userId"), r.query("count"), r.query("startIndex")))
        .collect();
    // The probe for ignored filters, then 254 events in pages of 100: no
    // request per user.
    let page = |start: &str| (None, Some("100".to_string()), Some(start.to_string()));
    assert_eq!(
        asked,
        [
            (
                Some("6f1c2d3e-0000-4000-8000-00000000d05e".to_string()),
                Some("1".to_string()),
                None
            ),
            page("0"),
            page("100"),
            page("200"),
        ]
    );
}

/// Whatever the portal's language, the same logins: none is told by text.
/// A history of four events, all on the first page, so that only the texts
/// differ: German and French ones say neither "success" nor "fail".
#[test]
fn action_texts_in_any_language_change_nothing() {
    for lang in ["de", "fr", "en"] {
        let few = small_history().into_iter().filter(|e| e.id < 10).collect();
        let portal = Portal::with(people(8), few, AuditMode::Works, lang);
        let sim = start(&portal);
        let dir = tempfile::tempdir().unwrap();
        let users = users(dir.path(), &sim);
        assert_eq!(by_id(&users, "u-admin")["last_login"], "2026-10-01T08:00:00Z", "{lang}");
        assert_eq!(by_id(&users, "u-owner")["last_login"], "2026-11-02T08:00:00Z", "{lang}");
        assert_eq!(by_id(&users, "u-old")["last_login"], "2025-01-15T11:00:00Z", "{lang}");
    }
}

/// The daily purge [DS: common/services/ASC.ClearEvents/Services/
/// ClearEventsService.cs] keeps events of the last `loginHistoryLifeTime`
/// days: a lifetime raised from 30 to 180 days lately leaves a history that
/// reaches back 30 days only. A user registered 100 days ago without an
/// event may have logged in 40 days ago: *unknown*, not *never*.
#[test]
fn the_history_reaches_back_only_to_its_oldest_event() {
    let mut people = people(8);
    people.push(person("u-mid", 1, &[], &api_date(days_ago(100))));
    let mut events: Vec<Event> = small_history().into_iter().filter(|e| e.id >= 10).collect();
    events.push(Event {
        id: 5,
        user: "u-admin".into(),
        at: days_ago(30),
        action: 1005,
    });
    let portal = Portal::with(people, events, AuditMode::Works, "de");
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let users = users(dir.path(), &sim);
    assert!(by_id(&users, "u-mid").get("last_login").is_none(), "{users:?}");
    // Registered ten days ago, inside what the history holds: never.
    assert_eq!(by_id(&users, "u-new")["last_login"], Value::Null);
}

/// Events older than the lifetime are leftovers of the daily purge: the read
/// stops at the first page that reaches them.
#[test]
fn the_read_stops_at_the_page_that_reaches_past_the_lifetime() {
    let long_ago = days_ago(200);
    let mut events: Vec<Event> = (0..150)
        .map(|i| Event {
            id: 1000 + i,
            user: "u-admin".into(),
            at: days_ago(1) - i as i64 * 60,
            action: 1029,
        })
        .collect();
    for i in 0..150 {
        events.push(Event {
            id: 2000 + i,
            user: "u-old".into(),
            at: long_ago - i as i64 * 60,
            action: 1029,
        });
    }
    let portal = Portal::with(people(8), events, AuditMode::Works, "de");
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let users = users(dir.path(), &sim);
    let starts: Vec<Option<String>> = history_requests(&sim).iter().map(|r| r.query("startIndex")).collect();
    assert_eq!(starts, [None, Some("0".into()), Some("100".into())]);
    // u-old's newest login, on the second page (its older ones were not read).
    let newest = Utc
        .timestamp_opt(long_ago, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(by_id(&users, "u-old")["last_login"], newest);
    assert_eq!(by_id(&users, "u-new")["last_login"], Value::Null);
}

#[test]
fn without_the_audit_option_last_login_is_unknown_never_never() {
    for (mode, why) in [
        (AuditMode::Ignored, "ignores its filters"),
        (AuditMode::PaymentRequired, "answered 402"),
        (AuditMode::PagingIgnored, "ignores paging"),
    ] {
        let portal = Portal::new(8, mode);
        let sim = start(&portal);
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = fetch(dir.path(), &sim);
        assert_eq!(code, 0, "{mode:?}: {stderr}");
        let users: Vec<Value> = serde_json::from_str(&stdout).unwrap();
        assert!(
            users.iter().all(|u| u.get("last_login").is_none()),
            "{mode:?}: {users:?}"
        );
        assert!(
            stderr.contains("warning: connector `docs`:") && stderr.contains(why) && stderr.contains("unknown"),
            "{mode:?}: {stderr}"
        );
        // Never read forever.
        assert!(history_requests(&sim).len() <= 3, "{mode:?}");
    }
}

#[test]
fn an_empty_history_tells_nothing() {
    let portal = Portal::with(people(8), Vec::new(), AuditMode::Works, "de");
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = fetch(dir.path(), &sim);
    assert_eq!(code, 0, "{stderr}");
    let users: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    // Not even u-new, registered ten days ago, is *never*.
    assert!(users.iter().all(|u| u.get("last_login").is_none()), "{users:?}");
    assert!(stderr.contains("holds no event"), "{stderr}");
}

/// Fails where a 403 was taken for "no audit": it must stop the fetch and
/// say what the key lacks.
#[test]
fn a_403_on_the_history_is_an_error_naming_what_the_key_lacks() {
    let portal = Portal::new(8, AuditMode::Forbidden);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = fetch(dir.path(), &sim);
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("/security/audit/login/filter"), "{stderr}");
    assert!(stderr.contains("answered 403: Access denied"), "{stderr}");
    assert!(
        stderr.contains("portal-settings right") && stderr.contains("`*:read`"),
        "{stderr}"
    );
}

#[test]
fn the_history_refuses_more_than_100_a_page_and_dormant_never_asks_it() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let d = connector(dir.path(), &sim);
    let refused = dormant::http::block_on(d.client().get_json("/security/audit/login/filter?count=101")).unwrap();
    assert_eq!(refused.unwrap_err().status(), Some(400));
    fetched(&d);
    for r in history_requests(&sim).iter().skip(1) {
        let count: u64 = r.query("count").unwrap().parse().unwrap();
        assert!((1..=100).contains(&count), "{r:?}");
    }
}

/// Logins that arrive during the read push every event one place later:
/// pages repeat an event of the one before, and none is lost.
#[test]
fn logins_arriving_during_the_read_repeat_events_and_lose_none() {
    let portal = Portal::new(8, AuditMode::Works);
    portal.arrivals.store(true, Ordering::SeqCst);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let users = users(dir.path(), &sim);
    assert_eq!(by_id(&users, "u-admin")["last_login"], "2026-10-01T08:00:00Z");
    assert_eq!(by_id(&users, "u-owner")["last_login"], "2026-11-02T08:00:00Z");
    assert_eq!(by_id(&users, "u-old")["last_login"], "2025-01-15T11:00:00Z");
    assert_eq!(by_id(&users, "u-new")["last_login"], Value::Null);
}

#[test]
fn rides_out_faults() {
    let portal = Portal::new(8, AuditMode::Works);
    portal.faults.at([
        (0, Fault::TooMany(1)),
        (2, Fault::Truncate),
        (3, Fault::ServerError),
        (5, Fault::Drop),
        (6, Fault::Slow(1500)),
        (8, Fault::ServerError),
        // Among the requests to the login history (each fault above costs
        // one retry).
        (10, Fault::Truncate),
        (12, Fault::Drop),
        (14, Fault::Truncate),
        (16, Fault::ServerError),
    ]);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<Value> = users(dir.path(), &sim).iter().map(|u| u["id"].clone()).collect();
    assert_eq!(ids.len(), 8);
    let again = users(dir.path(), &sim);
    assert_eq!(by_id(&again, "u-admin")["last_login"], "2026-10-01T08:00:00Z");
    assert_eq!(by_id(&again, "u-old")["last_login"], "2025-01-15T11:00:00Z");
}

#[test]
fn a_bad_key_is_named_by_platform_endpoint_and_status() {
    let portal = Portal::new(3, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), &sim);
    let out = Command::new(env!("CARGO_BIN_EXE_dormant"))
        .args(["fetch", "--connector", "docs"])
        .current_dir(dir.path())
        .env("DOCSPACE_KEY", "wrong-key-5555")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr
            .contains("DocSpace: GET /people/filter?employeeStatus=7&count=2&startIndex=0 answered 401: Unauthorized"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-key-5555"));
}

fn connector(dir: &Path, sim: &Sim) -> DocSpace {
    connector_from(dir, &config(dir, sim))
}

fn connector_from(dir: &Path, text: &str) -> DocSpace {
    let config = Config::parse(Source::new("dormant.toml", text.to_string()), dir).unwrap_or_else(|_| panic!("config"));
    DocSpace::with_key(config.connector("docs").unwrap(), Secret::new(KEY)).unwrap()
}

fn fetched(d: &DocSpace) -> Vec<dormant::user::User> {
    dormant::http::block_on(d.fetch(&dormant::progress::Progress::hidden(), chrono::Utc::now()))
        .unwrap()
        .unwrap()
        .users
}

/// The ids of the users that came to `Skipped`.
fn skipped(users: &[dormant::user::User], acted: &[Acted]) -> Vec<String> {
    users
        .iter()
        .zip(acted)
        .filter(|(_, a)| matches!(a, Acted::Skipped(_)))
        .map(|(u, _)| u.id.to_string())
        .collect()
}

#[test]
fn deactivation_keeps_protected_accounts_out_of_every_batch() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let d = connector(dir.path(), &sim);
    let users = fetched(&d);
    // Everyone: the simulator answers 403 to a whole batch holding one protected account.
    let acted = dormant::http::block_on(d.deactivate(&users)).unwrap();
    assert_eq!(acted.len(), users.len());
    assert_eq!(skipped(&users, &acted), ["u-owner", "u-admin", "u-ldap", SELF_ID]);
    // The answer lists the users it changed, Terminated: done, no read needed.
    for (u, a) in users.iter().zip(&acted) {
        if !skipped(&users, &acted).contains(&u.id.to_string()) {
            assert_eq!(a, &Acted::Done, "{}", u.id);
        }
    }
    let people = portal.people.lock().unwrap();
    let status = |id: &str| people.iter().find(|p| p["id"] == id).unwrap()["status"].clone();
    assert_eq!(status("u-new"), 2);
    assert_eq!(status("u-old"), 2);
    assert_eq!(status("u-owner"), 1);
}

#[test]
fn a_status_answer_that_names_no_one_leaves_users_to_read_back() {
    let portal = Portal::new(8, AuditMode::Works);
    portal.quiet.store(true, Ordering::SeqCst);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let d = connector(dir.path(), &sim);
    let users: Vec<_> = fetched(&d).into_iter().filter(|u| u.id == "u-old").collect();
    let acted = dormant::http::block_on(d.deactivate(&users)).unwrap();
    assert_eq!(acted, [Acted::Accepted]);
    // What `Live::act` reads back: the user, Terminated.
    let fresh = dormant::http::block_on(d.read("u-old")).unwrap().unwrap().unwrap();
    assert_eq!(fresh.status, Some(dormant::user::Status::Disabled));
    assert_eq!(dormant::http::block_on(d.read("u-nobody")).unwrap().unwrap(), None);
}

#[test]
fn delete_terminates_then_deletes() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let d = connector(dir.path(), &sim);
    let users: Vec<_> = fetched(&d)
        .into_iter()
        .filter(|u| u.id == "u-new" || u.id == "u-admin")
        .collect();
    let acted = dormant::http::block_on(d.delete(&users)).unwrap();
    // u-admin is protected; u-new is named done by the DELETE's answer.
    assert_eq!(skipped(&users, &acted), ["u-admin"]);
    let new = users.iter().position(|u| u.id == "u-new").unwrap();
    assert_eq!(acted[new], Acted::Done);
    {
        let people = portal.people.lock().unwrap();
        assert!(people.iter().all(|p| p["id"] != "u-new"));
        assert!(people.iter().any(|p| p["id"] == "u-admin"));
    }
    // Terminate came before delete.
    let log = sim.requests();
    let put = log.iter().position(|r| r.method == "PUT").unwrap();
    let del = log.iter().position(|r| r.method == "DELETE").unwrap();
    assert!(put < del);
    // Gone: a read answers 404; deleting again is done already.
    assert_eq!(dormant::http::block_on(d.read("u-new")).unwrap().unwrap(), None);
    let again = dormant::http::block_on(d.delete(&users[new..=new])).unwrap();
    assert_eq!(again, [Acted::Done]);
}

#[test]
fn plans_explains_diffs_and_forecasts_from_the_connector_under_faults() {
    let portal = Portal::new(8, AuditMode::Works);
    portal
        .faults
        .at([(1, Fault::ServerError), (4, Fault::Drop), (9, Fault::TooMany(1))]);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), &sim);
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\ninvites: status == invited -> delete\nidle: inactive > 12mo -> deactivate\n",
    )
    .unwrap();
    let run = |args: &[&str]| ok(dir.path(), args);
    let plan: Value = serde_json::from_str(&run(&[
        "plan",
        "p.policy",
        "--connector",
        "docs",
        "--as-of",
        "2026-11-23",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(plan["users"]["source"], "connector:docs");
    assert_eq!(plan["users"]["count"], 8);
    let action = |id: &str| {
        plan["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["user"]["id"] == id)
            .unwrap()["action"]
            .clone()
    };
    assert_eq!(action("u-owner"), "keep");
    assert_eq!(action("u-invited"), "delete");
    // Logged in 2025-01-15: idle for over a year.
    assert_eq!(action("u-old"), "deactivate");
    // No login event, registered before the history kept: unknown, so review, never deactivate.
    assert_eq!(action("u-ldap"), "review");
    let explained = run(&[
        "explain",
        "p.policy",
        "--connector",
        "docs",
        "u-old",
        "--as-of",
        "2026-11-23",
    ]);
    assert!(explained.contains("idle"), "{explained}");
    std::fs::write(
        dir.path().join("q.policy"),
        "admins: is_admin -> keep\nidle: inactive > 36mo -> deactivate\n",
    )
    .unwrap();
    let diff = run(&[
        "diff",
        "p.policy",
        "q.policy",
        "--connector",
        "docs",
        "--as-of",
        "2026-11-23",
    ]);
    assert!(diff.contains("deactivate"), "{diff}");
    run(&[
        "forecast",
        "p.policy",
        "--connector",
        "docs",
        "--days",
        "30",
        "--as-of",
        "2026-11-23",
    ]);
}

/// The requests that read one user back.
fn reads_of(sim: &Sim, id: &str) -> usize {
    let path = format!("/api/2.0/people/{id}");
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path() == path)
        .count()
}

#[test]
fn apply_deactivates_then_undo_reactivates() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), &sim);
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nidle: inactive > 12mo -> deactivate\n",
    )
    .unwrap();
    let run = |args: &[&str]| ok(dir.path(), args);
    run(&[
        "plan",
        "p.policy",
        "--connector",
        "docs",
        "--format",
        "json",
        "--output",
        "plan.json",
    ]);
    let applied = run(&["apply", "plan.json", "--yes"]);
    assert!(applied.contains("1 done"), "{applied}");
    let status = |id: &str| portal.people.lock().unwrap().iter().find(|p| p["id"] == id).unwrap()["status"].clone();
    assert_eq!(status("u-old"), 2);
    // The status answer named u-old Terminated: no read back.
    assert_eq!(reads_of(&sim, "u-old"), 0);
    // No protected account was ever in a request that changes something.
    for r in sim.requests().iter().filter(|r| r.method != "GET") {
        for protected in ["u-owner", "u-admin", "u-ldap", SELF_ID] {
            assert!(!r.body.contains(protected) && !r.target.contains(protected), "{r:?}");
        }
    }
    let undone = run(&["undo", "dormant-journal.jsonl", "--yes"]);
    assert!(undone.contains("reactivated u-old"), "{undone}");
    assert_eq!(status("u-old"), 1);
    assert_eq!(reads_of(&sim, "u-old"), 0);
    // Undone once: a second undo finds nothing left to undo.
    let again = run(&["undo", "dormant-journal.jsonl", "--yes"]);
    assert!(again.contains("nothing to undo"), "{again}");
    run(&["journal", "verify"]);
}

#[test]
fn apply_confirms_by_reading_back_what_the_answer_does_not_name() {
    let portal = Portal::new(8, AuditMode::Works);
    portal.quiet.store(true, Ordering::SeqCst);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), &sim);
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\ninvites: status == invited -> delete\nidle: inactive > 12mo -> deactivate\n",
    )
    .unwrap();
    let run = |args: &[&str]| ok(dir.path(), args);
    run(&[
        "plan",
        "p.policy",
        "--connector",
        "docs",
        "--format",
        "json",
        "--output",
        "plan.json",
    ]);
    let applied = run(&["apply", "plan.json", "--yes"]);
    assert!(applied.contains("2 done"), "{applied}");
    // u-old: the status answer named no one, so `Live::act` read the user back.
    assert_eq!(reads_of(&sim, "u-old"), 1);
    // u-invited: read once, to confirm the first step (Terminated) before it
    // is journaled; then the DELETE answered the deleted profile, which
    // names them.
    assert_eq!(reads_of(&sim, "u-invited"), 1);
    assert!(portal.people.lock().unwrap().iter().all(|p| p["id"] != "u-invited"));
}

#[test]
fn a_system_account_the_profile_does_not_show_holds_back_only_itself() {
    let portal = Portal::new(8, AuditMode::Works);
    portal.people.lock().unwrap()[7]["system"] = json!(true); // u-old
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let d = connector(dir.path(), &sim);
    let users: Vec<_> = fetched(&d)
        .into_iter()
        .filter(|u| u.id == "u-new" || u.id == "u-old")
        .collect();
    let acted = dormant::http::block_on(d.deactivate(&users)).unwrap();
    assert_eq!(skipped(&users, &acted), ["u-old"]);
    let old = users.iter().position(|u| u.id == "u-old").unwrap();
    let Acted::Skipped(why) = &acted[old] else { panic!() };
    assert!(why.contains("system account"), "{why}");
    let people = portal.people.lock().unwrap();
    let status = |id: &str| people.iter().find(|p| p["id"] == id).unwrap()["status"].clone();
    assert_eq!((status("u-new"), status("u-old")), (json!(2), json!(1)));
}

/// The portal: 5,000 users and 200,000 login events over 170 days.
/// Every user with a successful login in the history gets that login, in
/// about 2,000 requests to the history (one per 100 events), where a query
/// per user would have made 5,000 and found almost nothing.
#[test]
fn five_thousand_users_and_200_000_events_in_about_2_000_requests() {
    const USERS: usize = 5_000;
    const EVENTS: usize = 200_000;
    let id = |i: usize| format!("5ca1e000-0000-4000-8000-{i:012}");
    let recent = recent();
    let people: Vec<Value> = (0..USERS)
        .map(|i| person(&id(i), 1, &[], if i % 3 == 0 { &recent } else { OLD }))
        .collect();
    // Users 4,000 and on have no event at all; the rest a pseudo-random mix
    // of web and API logins, failures, logouts and sessions.
    let actions = [1029, 1029, 1029, 1010, 1000, 1028, 1005, 1002, 1006, 1016];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let now = Utc::now().timestamp();
    let step = 170 * 86_400 / EVENTS as i64;
    let events: Vec<Event> = (0..EVENTS)
        .map(|k| Event {
            id: k as u64 + 1,
            user: id(rand() as usize % 4_000),
            at: now - 60 - k as i64 * step,
            action: actions[rand() as usize % actions.len()],
        })
        .collect();
    // Each user's newest success, from the same events (newest first).
    let mut expected: HashMap<String, i64> = HashMap::new();
    for e in &events {
        if [1029, 1010, 1000, 1028].contains(&e.action) {
            expected.entry(e.user.clone()).or_insert(e.at);
        }
    }
    let portal = Portal::with(people, events, AuditMode::Works, "fr");
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let text = config_with(dir.path(), &sim, "requests_per_second = 100000\n");
    let d = connector_from(dir.path(), &text);
    let began = std::time::Instant::now();
    let users = fetched(&d);
    let took = began.elapsed();
    assert_eq!(users.len(), USERS);
    let mut never = 0;
    for (i, u) in users.iter().enumerate() {
        let want = match expected.get(u.id.as_str()) {
            Some(at) => Known::Value(chrono::DateTime::from_timestamp(*at, 0).unwrap()),
            None if i % 3 == 0 => Known::Never,
            None => Known::Unknown,
        };
        never += usize::from(want == Known::Never);
        assert_eq!(u.last_login, want, "{}", u.id);
    }
    assert!(expected.len() > 3_900 && never > 300, "{} {never}", expected.len());
    // 2,000 full pages, the empty one after them, and the probe.
    let asked = history_requests(&sim).len();
    assert!((2_000..=2_005).contains(&asked), "{asked} requests to the history");
    eprintln!("{USERS} users, {EVENTS} events: {asked} history requests in {took:?}");
}

/// A delete plan of `portal` in `dir`, applied and killed between the two
/// steps of its deletes: what the plan deletes.
fn cut_between_terminate_and_delete(dir: &Path, sim: &Sim, portal: &Portal) -> Vec<String> {
    config(dir, sim);
    std::fs::write(
        dir.join("p.policy"),
        "admins: is_admin -> keep\ngone: status == active and not is_admin -> delete\n",
    )
    .unwrap();
    ok(
        dir,
        &[
            "plan",
            "p.policy",
            "--connector",
            "docs",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    let targets: Vec<String> = plan["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"] == "delete")
        .map(|d| d["user"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(targets.len() >= 2, "{targets:?}");
    portal.hold_deletes.store(true, Ordering::SeqCst);
    Run::new(&["apply", "plan.json", "--yes"])
        .in_dir(dir)
        .secret("DOCSPACE_KEY", KEY)
        .kill_when(|| sim.requests().iter().any(|r| r.method == "DELETE"));
    portal.hold_deletes.store(false, Ordering::SeqCst);
    targets
}

fn status_of(portal: &Portal, id: &str) -> Option<Value> {
    portal
        .people
        .lock()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .map(|p| p["status"].clone())
}

#[test]
fn a_delete_killed_between_terminate_and_delete_is_finished_by_the_next_run() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let targets = cut_between_terminate_and_delete(dir.path(), &sim, &portal);
    // Terminated, not deleted, and the journal says so, step by step.
    let journal = std::fs::read_to_string(dir.path().join("dormant-journal.jsonl")).unwrap();
    let stepped: Vec<String> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["event"] == "step" && r["step"] == "deactivated")
        .map(|r| r["user"].as_str().unwrap().to_string())
        .collect();
    assert!(!stepped.is_empty());
    for id in &stepped {
        assert_eq!(status_of(&portal, id), Some(json!(2)), "{id}");
    }
    // The rule (`status == active`) no longer holds for them: the next run
    // finishes what this plan started rather than decide it away.
    let out = ok(dir.path(), &["apply", "plan.json", "--yes"]);
    assert!(out.contains("0 failed"), "{out}");
    for id in &stepped {
        assert_eq!(status_of(&portal, id), None, "{id} deleted: {out}");
    }
    // (The rest were protected accounts, kept out of every request.)
    assert!(out.contains(&format!("{} done", stepped.len())), "{out}");
    assert!(targets
        .iter()
        .all(|t| stepped.contains(t) || status_of(&portal, t) == Some(json!(1))));
    ok(dir.path(), &["journal", "verify"]);
    let deletes = sim.requests().iter().filter(|r| r.method == "DELETE").count();
    let out = ok(dir.path(), &["apply", "plan.json", "--yes"]);
    assert!(out.contains("0 done"), "{out}");
    assert_eq!(sim.requests().iter().filter(|r| r.method == "DELETE").count(), deletes);
}

#[test]
fn undo_reverses_a_delete_cut_in_half() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    cut_between_terminate_and_delete(dir.path(), &sim, &portal);
    let journal = std::fs::read_to_string(dir.path().join("dormant-journal.jsonl")).unwrap();
    let stepped: Vec<String> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["event"] == "step")
        .map(|r| r["user"].as_str().unwrap().to_string())
        .collect();
    assert!(!stepped.is_empty());
    let out = ok(dir.path(), &["undo", "dormant-journal.jsonl", "--yes"]);
    for id in &stepped {
        assert!(out.contains(&format!("reactivated {id}")), "{out}");
        assert_eq!(status_of(&portal, id), Some(json!(1)), "{id}");
    }
}

/// Each user's action in a JSON plan.
fn actions(plan: &str) -> HashMap<String, String> {
    let v: Value = serde_json::from_str(plan).unwrap();
    v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["user"]["id"].as_str().unwrap().to_string(),
                d["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn rfc3339(at: i64) -> String {
    Utc.timestamp_opt(at, 0).unwrap().to_rfc3339()
}

/// Moves every time of a journal `days` back and chains its lines again
/// (`Journal::append` numbers and links each one), as if the runs it
/// records had been that long ago. `apply` always decides as of now, so
/// this is how a test reaches the day 30 days after a real run without
/// waiting for it, and the journal still verifies.
fn back_date_journal(path: &Path, days: i64) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::remove_file(path).unwrap();
    let mut head = path.as_os_str().to_owned();
    head.push(".head");
    std::fs::remove_file(head).unwrap();
    let (mut journal, records) = dormant::journal::Journal::open(path, dormant::files::Wait::No, None).unwrap();
    assert!(records.is_empty());
    for line in text.lines() {
        let Value::Object(mut record) = serde_json::from_str(line).unwrap() else {
            panic!("a journal line is an object: {line}")
        };
        record.remove("seq");
        record.remove("prev");
        let at = chrono::DateTime::parse_from_rfc3339(record["at"].as_str().unwrap()).unwrap();
        let earlier = at - chrono::Duration::days(days);
        record.insert(
            "at".into(),
            json!(earlier
                .with_timezone(&Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
        let record = dormant::journal::Record::from_value(&Value::Object(record)).unwrap();
        journal.append(&record).unwrap();
    }
}

/// "Terminate, then delete 30 days later" (the README's two-phase
/// clean-up), applied end to end. Run 1 terminates the idle and deletes a
/// user DocSpace says was terminated 60 days before; run 2, 31 days on,
/// deletes the user run 1 terminated (when, from the journal: the status
/// change leaves DocSpace's `terminated` empty) and keeps one terminated
/// only 10 days before. Both runs plan and apply as of now: the 31 days
/// between them are made by moving run 1's journal back.
#[test]
fn terminate_then_delete_thirty_days_later() {
    let mut people = people(8);
    let mut long_gone = person("u-long", 2, &[], OLD);
    long_gone["terminated"] = json!(api_date(days_ago(60)));
    people.push(long_gone);
    people.push(person("u-left", 1, &[], &recent()));
    let portal = Portal::with(people, small_history(), AuditMode::Works, "de");
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), &sim);
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\npurge: status == disabled and deactivated > 30d -> delete\nidle: inactive > 12mo -> deactivate\n",
    )
    .unwrap();
    let run = |args: &[&str]| ok(dir.path(), args);
    let plan = |as_of: &str| {
        run(&[
            "plan",
            "p.policy",
            "--connector",
            "docs",
            "--format",
            "json",
            "--as-of",
            as_of,
        ])
    };

    // Run 1.
    let now = Utc::now().timestamp();
    let first = plan(&rfc3339(now));
    let a = actions(&first);
    assert_eq!(
        (a["u-old"].as_str(), a["u-long"].as_str()),
        ("deactivate", "delete"),
        "{first}"
    );
    assert_eq!(a["u-left"], "keep");
    // Terminated with no date: when cannot be told, so review, never delete.
    assert_eq!(a["u-gone"], "review");
    let why = run(&["explain", "p.policy", "--connector", "docs", "u-long"]);
    assert!(why.contains("deactivated ") && why.contains("(from docs)"), "{why}");
    // A snapshot keeps the platform's date, and says whose it is.
    let snapshot = run(&["fetch", "--connector", "docs"]);
    let fetched: Vec<Value> = serde_json::from_str(&snapshot).unwrap();
    let date = by_id(&fetched, "u-long")["deactivated"].as_str().unwrap().to_string();
    assert!((days_ago(60) - secs(&date)).abs() < 120, "{date}");
    std::fs::write(dir.path().join("snapshot.json"), &snapshot).unwrap();
    let why = run(&["explain", "p.policy", "--users", "snapshot.json", "u-long"]);
    assert!(why.contains("(from docs)"), "{why}");
    std::fs::write(dir.path().join("plan.json"), &first).unwrap();
    let applied = run(&["apply", "plan.json", "--yes"]);
    assert!(applied.contains("2 done"), "{applied}");
    assert_eq!(status_of(&portal, "u-old"), Some(json!(2)));
    assert_eq!(status_of(&portal, "u-long"), None);
    // u-old's profile carries no date: the status change does not set it.
    let profile = portal
        .people
        .lock()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "u-old")
        .cloned()
        .unwrap();
    assert_eq!(profile["terminated"], Value::Null);

    // 31 days pass: run 1's journal is moved 31 days back, and still
    // verifies.
    let journal = dir.path().join("dormant-journal.jsonl");
    back_date_journal(&journal, 31);
    run(&["journal", "verify"]);
    // Meanwhile u-left was terminated through the profile editor, which
    // dates it: ten days ago.
    {
        let mut people = portal.people.lock().unwrap();
        let left = people.iter_mut().find(|p| p["id"] == "u-left").unwrap();
        left["status"] = json!(2);
        left["terminated"] = json!(api_date(days_ago(10)));
    }

    // Run 2, now.
    let second = run(&["plan", "p.policy", "--connector", "docs", "--format", "json"]);
    let a = actions(&second);
    assert_eq!(a["u-old"], "delete", "{second}");
    assert_eq!(a["u-left"], "keep", "{second}");
    assert_eq!(a["u-gone"], "review", "{second}");
    let why = run(&["explain", "p.policy", "--connector", "docs", "u-old"]);
    assert!(why.contains("(from the journal)"), "{why}");
    let why = run(&["explain", "p.policy", "--connector", "docs", "u-left"]);
    assert!(why.contains("(from docs)"), "{why}");
    // Two days ago, 29 days after run 1: not deleted yet, only (already)
    // terminated by the idle rule.
    let early: Value = serde_json::from_str(&plan(&rfc3339(days_ago(2)))).unwrap();
    let old = early["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["user"]["id"] == "u-old")
        .unwrap();
    assert_eq!(
        (&old["action"], &old["rule"]),
        (&json!("deactivate"), &json!("idle")),
        "{old}"
    );
    assert!(old["already"].is_string(), "{old}");
    std::fs::write(dir.path().join("plan-2.json"), &second).unwrap();
    let before = sim.requests().len();
    let applied = run(&["apply", "plan-2.json", "--yes"]);
    assert!(applied.contains("1 done"), "{applied}");
    // Exactly u-old was deleted: terminated again first (DELETE takes only
    // Terminated accounts, and setting Terminated twice changes nothing),
    // then deleted. No other account was in a request that changes
    // something.
    let log = sim.requests();
    let changes: Vec<&Request> = log[before..].iter().filter(|r| r.method != "GET").collect();
    let sent: Vec<(&str, &str)> = changes.iter().map(|r| (r.method.as_str(), r.path())).collect();
    assert_eq!(
        sent,
        [
            ("PUT", "/api/2.0/people/status/Terminated"),
            ("DELETE", "/api/2.0/people/u-old")
        ],
        "{changes:?}"
    );
    for r in &changes {
        assert!(r.body.contains("u-old") || r.target.contains("u-old"), "{r:?}");
        for other in ["u-left", "u-gone", "u-new", "u-invited"] {
            assert!(!r.body.contains(other) && !r.target.contains(other), "{r:?}");
        }
    }
    assert_eq!(status_of(&portal, "u-old"), None);
    assert_eq!(status_of(&portal, "u-left"), Some(json!(2)));
    assert_eq!(status_of(&portal, "u-gone"), Some(json!(2)));
    run(&["journal", "verify"]);
    // The journal records the delete, under the rule that decided it.
    let text = std::fs::read_to_string(&journal).unwrap();
    let done: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["event"] == "outcome" && r["action"] == "delete" && r["status"] == "done")
        .collect();
    assert_eq!(done.len(), 2, "u-long in run 1, u-old in run 2: {text}");
    assert_eq!(done[1]["user"], "u-old");
    assert_eq!(done[1]["rule"], "purge");
}
