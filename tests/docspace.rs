//! The ONLYOFFICE DocSpace connector against a simulator of API 2.0
//! (CONNECTORS.md sections 4 and 9): the people filter with paging, the
//! login audit with and without the plan option, whole-batch 403s.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::{Fault, Faults, Reply, Request, Sim};
use common::Run;
use dormant::config::Config;
use dormant::connector::docspace::DocSpace;
use dormant::http::Secret;
use dormant::source::Source;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

const KEY: &str = "ds-secret-9b2e71c0aa";
const SELF_ID: &str = "u-caller";

#[derive(Clone, Copy, PartialEq)]
enum AuditMode {
    Works,
    /// The plan lacks the audit option: filters ignored, the 20 latest events of anyone.
    Ignored,
    /// Login history is disabled.
    PaymentRequired,
}

struct Portal {
    people: Mutex<Vec<Value>>,
    /// (userId, date, success)
    events: Vec<(String, String, bool)>,
    audit: AuditMode,
    faults: Faults,
}

fn person(id: &str, status: u8, flags: &[&str], registered: &str) -> Value {
    let mut p = json!({
        "id": id, "displayName": format!("Person {id}"), "userName": id, "email": format!("{id}@example.com"),
        "status": status, "activationStatus": if status == 4 { 2 } else { 1 },
        "isAdmin": false, "isRoomAdmin": false, "isOwner": false, "isVisitor": false,
        "isCollaborator": false, "isLDAP": false, "isSSO": false,
        "groups": [{"id": "g-sales", "name": "Sales", "manager": null}],
        "registrationDate": registered, "terminated": null
    });
    for f in flags {
        p[*f] = json!(true);
    }
    p
}

/// Registered long ago (before the history kept) or lately (inside it).
const OLD: &str = "2020-01-01T09:00:00.0000000+02:00";
/// Ten days ago: the history's reach is counted back from the real clock.
fn recent() -> String {
    (chrono::Utc::now() - chrono::TimeDelta::days(10)).to_rfc3339()
}

fn people(n: usize) -> Vec<Value> {
    let mut all = vec![
        person("u-owner", 1, &["isOwner"], OLD),
        person("u-admin", 1, &["isAdmin"], OLD),
        person("u-ldap", 1, &["isLDAP"], OLD),
        person(SELF_ID, 1, &["isRoomAdmin"], OLD),
        person("u-invited", 4, &[], &recent()),
        person("u-gone", 2, &["isVisitor"], OLD),
        person("u-new", 1, &[], &recent()),
        person("u-old", 1, &["isCollaborator"], OLD),
    ];
    all.truncate(n);
    all
}

impl Portal {
    fn new(n: usize, audit: AuditMode) -> Arc<Portal> {
        Arc::new(Portal {
            people: Mutex::new(people(n)),
            events: vec![
                ("u-admin".into(), "2026-10-01T10:00:00.0000000+02:00".into(), true),
                ("u-admin".into(), "2026-11-20T10:00:00.0000000+02:00".into(), false),
                ("u-owner".into(), "2026-11-02T08:00:00.0000000+00:00".into(), true),
                ("u-old".into(), "2025-01-15T12:00:00.0000000+01:00".into(), true),
            ],
            audit,
            faults: Faults::default(),
        })
    }

    fn envelope(response: Value, total: Option<usize>) -> Value {
        let count = response.as_array().map_or(1, Vec::len);
        let mut v = json!({"response": response, "count": count, "status": 0, "statusCode": 200});
        if let Some(t) = total {
            v["total"] = json!(t);
        }
        v
    }

    fn error(status: u16, message: &str) -> Reply {
        Reply::Json(
            status,
            json!({"error": {"message": message, "type": "ArgumentException"}, "status": 1, "statusCode": status}),
        )
    }

    fn serve(&self, r: &Request) -> Reply {
        if r.header("authorization") != Some(&format!("Bearer {KEY}")) {
            return Portal::error(401, "Unauthorized");
        }
        let path = r.path().strip_prefix("/api/2.0").unwrap_or("");
        let mut people = self.people.lock().unwrap();
        match (r.method.as_str(), path) {
            ("GET", "/people/filter") => {
                let count: usize = r.query("count").and_then(|c| c.parse().ok()).unwrap_or(100).min(100);
                let start: usize = r.query("startIndex").and_then(|s| s.parse().ok()).unwrap_or(0);
                let all = r.query("employeeStatus").as_deref() == Some("7");
                let listed: Vec<Value> = people.iter().filter(|p| all || p["status"] == 1).cloned().collect();
                let page: Vec<Value> = listed.iter().skip(start).take(count).cloned().collect();
                Reply::Json(200, Portal::envelope(json!(page), Some(listed.len())))
            }
            ("GET", "/people/@self") => {
                let me = people
                    .iter()
                    .find(|p| p["id"] == SELF_ID)
                    .cloned()
                    .unwrap_or(json!({"id": SELF_ID}));
                Reply::Json(200, Portal::envelope(me, None))
            }
            ("GET", "/security/audit/settings/lifetime") => {
                Reply::Json(200, Portal::envelope(json!({"loginHistoryLifeTime": 180}), None))
            }
            ("GET", "/security/audit/login/filter") => {
                let event = |(user, date, ok): &(String, String, bool)| {
                    json!({"id": 1, "date": date, "user": user, "userId": user,
                           "action": if *ok { "Login success" } else { "Login failed" },
                           "actionId": if *ok { 1000 } else { 1006 }})
                };
                match self.audit {
                    AuditMode::PaymentRequired => Portal::error(402, "Login history is not available on this plan"),
                    AuditMode::Ignored => Reply::Json(
                        200,
                        Portal::envelope(json!(self.events.iter().map(event).collect::<Vec<_>>()), None),
                    ),
                    AuditMode::Works => {
                        let who = r.query("userId").unwrap_or_default();
                        let mut theirs: Vec<&(String, String, bool)> =
                            self.events.iter().filter(|e| e.0 == who).collect();
                        theirs.reverse(); // newest first
                        Reply::Json(
                            200,
                            Portal::envelope(json!(theirs.into_iter().map(event).collect::<Vec<_>>()), None),
                        )
                    }
                }
            }
            ("PUT", "/people/status/Terminated") => {
                let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let ids: Vec<String> = body["userIds"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                // The whole list is validated first; one protected account fails the call.
                for id in &ids {
                    let Some(p) = people.iter().find(|p| p["id"] == id.as_str()) else {
                        continue;
                    };
                    // `system` is the simulator's own mark: the profile does not show it.
                    let system = p.get("system") == Some(&json!(true));
                    if p["isOwner"] == true || p["isAdmin"] == true || p["isLDAP"] == true || id == SELF_ID || system {
                        return Portal::error(403, "Access denied");
                    }
                }
                for p in people
                    .iter_mut()
                    .filter(|p| ids.iter().any(|id| p["id"] == id.as_str()))
                {
                    p["status"] = json!(2);
                }
                Reply::Json(200, Portal::envelope(json!([]), None))
            }
            ("PUT", "/people/status/Active") => {
                let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let ids: Vec<&str> = body["userIds"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for p in people.iter_mut().filter(|p| ids.iter().any(|id| p["id"] == *id)) {
                    p["status"] = json!(1);
                }
                Reply::Json(200, Portal::envelope(json!([]), None))
            }
            ("DELETE", p) if p.starts_with("/people/") => {
                let id = p.trim_start_matches("/people/");
                let Some(i) = people.iter().position(|p| p["id"] == id) else {
                    return Portal::error(404, "User not found");
                };
                if people[i]["status"] != 2 {
                    return Portal::error(400, "The user is not suspended");
                }
                let gone = people.remove(i);
                Reply::Json(200, Portal::envelope(gone, None))
            }
            _ => Portal::error(404, "Not found"),
        }
    }
}

fn start(portal: &Arc<Portal>) -> Sim {
    let p = portal.clone();
    Sim::start(move |r| p.faults.apply(p.serve(r)))
}

fn config(dir: &Path, sim: &Sim) -> String {
    let text = format!(
        "[connector.docs]\nkind = \"docspace\"\nurl = \"{}\"\napi_key_env = \"DOCSPACE_KEY\"\nbatch_size = 2\nrequests_per_second = 1000\ntimeout_seconds = 1\nretries = 4\n",
        sim.url()
    );
    std::fs::write(dir.join("dormant.toml"), &text).unwrap();
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

#[test]
fn roles_statuses_and_last_logins_from_the_audit() {
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
    // The latest successful login, not the later failed attempt.
    assert_eq!(by_id(&users, "u-admin")["last_login"], "2026-10-01T08:00:00Z");
    // No event, registered inside the 180 days kept: never logged in.
    assert_eq!(by_id(&users, "u-new")["last_login"], Value::Null);
    // No event, registered before the history begins: not known.
    assert!(by_id(&users, "u-ldap").get("last_login").is_none());
    assert_eq!(by_id(&users, "u-old")["joined"], "2020-01-01T07:00:00Z");
}

#[test]
fn without_the_audit_option_last_login_is_unknown_never_never() {
    for mode in [AuditMode::Ignored, AuditMode::PaymentRequired] {
        let portal = Portal::new(8, mode);
        let sim = start(&portal);
        let dir = tempfile::tempdir().unwrap();
        let users = users(dir.path(), &sim);
        assert!(users.iter().all(|u| u.get("last_login").is_none()), "{users:?}");
    }
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
    ]);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<Value> = users(dir.path(), &sim).iter().map(|u| u["id"].clone()).collect();
    assert_eq!(ids.len(), 8);
    assert_eq!(
        by_id(&users(dir.path(), &sim), "u-admin")["last_login"],
        "2026-10-01T08:00:00Z"
    );
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
    let text = config(dir, sim);
    let config = Config::parse(Source::new("dormant.toml", text), dir).unwrap_or_else(|_| panic!("config"));
    DocSpace::with_key(config.connector("docs").unwrap(), Secret::new(KEY)).unwrap()
}

fn fetched(d: &DocSpace) -> Vec<dormant::user::User> {
    dormant::http::block_on(d.fetch(&dormant::progress::Progress::hidden(), chrono::Utc::now()))
        .unwrap()
        .unwrap()
}

#[test]
fn deactivation_keeps_protected_accounts_out_of_every_batch() {
    let portal = Portal::new(8, AuditMode::Works);
    let sim = start(&portal);
    let dir = tempfile::tempdir().unwrap();
    let d = connector(dir.path(), &sim);
    let users = fetched(&d);
    // Everyone: the simulator answers 403 to a whole batch holding one protected account.
    let skipped = dormant::http::block_on(d.deactivate(&users)).unwrap().unwrap();
    let skipped: Vec<&str> = skipped.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(skipped, ["u-owner", "u-admin", "u-ldap", SELF_ID]);
    let people = portal.people.lock().unwrap();
    let status = |id: &str| people.iter().find(|p| p["id"] == id).unwrap()["status"].clone();
    assert_eq!(status("u-new"), 2);
    assert_eq!(status("u-old"), 2);
    assert_eq!(status("u-owner"), 1);
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
    let skipped = dormant::http::block_on(d.delete(&users)).unwrap().unwrap();
    assert_eq!(skipped.len(), 1);
    let people = portal.people.lock().unwrap();
    assert!(people.iter().all(|p| p["id"] != "u-new"));
    assert!(people.iter().any(|p| p["id"] == "u-admin"));
    // Terminate came before delete.
    let log = sim.requests();
    let put = log.iter().position(|r| r.method == "PUT").unwrap();
    let del = log.iter().position(|r| r.method == "DELETE").unwrap();
    assert!(put < del);
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
    // No protected account was ever in a request that changes something.
    for r in sim.requests().iter().filter(|r| r.method != "GET") {
        for protected in ["u-owner", "u-admin", "u-ldap", SELF_ID] {
            assert!(!r.body.contains(protected) && !r.target.contains(protected), "{r:?}");
        }
    }
    let undone = run(&["undo", "dormant-journal.jsonl", "--yes"]);
    assert!(undone.contains("reactivated u-old"), "{undone}");
    assert_eq!(status("u-old"), 1);
    // Undone once: a second undo finds nothing left to undo.
    let again = run(&["undo", "dormant-journal.jsonl", "--yes"]);
    assert!(again.contains("nothing to undo"), "{again}");
    run(&["journal", "verify"]);
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
    let skipped = dormant::http::block_on(d.deactivate(&users)).unwrap().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].0, "u-old");
    assert!(skipped[0].1.contains("system account"), "{skipped:?}");
    let people = portal.people.lock().unwrap();
    let status = |id: &str| people.iter().find(|p| p["id"] == id).unwrap()["status"].clone();
    assert_eq!((status("u-new"), status("u-old")), (json!(2), json!(1)));
}
