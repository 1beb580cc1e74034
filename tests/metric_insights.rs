//! The Metric Insights connector against a simulator (CONNECTORS.md
//! sections 3 and 9): tokens that expire in the middle of a fetch and of an
//! apply, "Y"/"N" booleans, string ids, groups, a crash and a resume.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::{Reply, Request, Sim};
use common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const APP_KEY: &str = "mi-app-key-5c2b19e0";
const APP_USER: &str = "svc.dormant";

struct Instance {
    users: Mutex<Vec<Value>>,
    /// Token → uses left before it expires.
    tokens: Mutex<HashMap<String, usize>>,
    issued: Mutex<usize>,
    /// Each token serves this many requests, then answers 412.
    life: usize,
    slow_deletes: Mutex<Option<Duration>>,
    /// Users deleted, in order: the simulator's own record of what was done
    /// (a request refused for an expired token did nothing).
    deleted: Mutex<Vec<String>>,
}

fn user(i: usize) -> Value {
    let kind = match i {
        1 => "administrator",
        2 => "power",
        _ => "regular",
    };
    let name = if i == 0 {
        APP_USER.to_string()
    } else {
        format!("analyst{i}")
    };
    json!({"id": i.to_string(), "username": name, "first_name": "A", "last_name": format!("{i}"),
           "type": kind, "email": format!("{name}@example.com"), "enabled": "Y", "ldap": if i == 3 { "Y" } else { "N" }})
}

impl Instance {
    fn new(n: usize, life: usize) -> Arc<Instance> {
        Arc::new(Instance {
            users: Mutex::new((0..n).map(user).collect()),
            tokens: Mutex::new(HashMap::new()),
            issued: Mutex::new(0),
            life,
            slow_deletes: Mutex::new(None),
            deleted: Mutex::new(Vec::new()),
        })
    }

    fn serve(&self, r: &Request) -> Reply {
        let path = r.path().strip_prefix("/api").unwrap_or("");
        if path == "/get_token/" {
            let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            if body["application_key"] != APP_KEY || body["user"] != APP_USER || body["application_id"] != "dormant" {
                return Reply::Json(401, json!({"message": "Unauthorized"}));
            }
            let mut issued = self.issued.lock().unwrap();
            *issued += 1;
            let token = format!("tok-{}", *issued);
            self.tokens.lock().unwrap().insert(token.clone(), self.life);
            return Reply::Json(200, json!({"token": token, "expires": "2026-11-23 10:15:00"}));
        }
        let Some(token) = r.header("token") else {
            return Reply::Json(401, json!({"message": "Unauthorized"}));
        };
        {
            let mut tokens = self.tokens.lock().unwrap();
            match tokens.get_mut(token) {
                Some(0) | None => return Reply::Json(412, json!({"status": "ERROR", "message": "Session expired"})),
                Some(left) => *left -= 1,
            }
        }
        let mut users = self.users.lock().unwrap();
        match (r.method.as_str(), path) {
            ("GET", "/user") => Reply::Json(200, json!({"users": *users})),
            ("GET", "/user_group") => Reply::Json(
                200,
                json!({"user_groups": [{"id": "10", "name": "Finance", "description": "", "all_access_group": "N"},
                                        {"id": 11, "name": "Ops", "description": "", "all_access_group": "N"}]}),
            ),
            ("GET", "/user_group_member") => {
                let members = match r.query("group").as_deref() {
                    Some("10") => {
                        json!([{"id": "1", "user": "2", "group": "10"}, {"id": "2", "user": "4", "group": "10"}])
                    }
                    Some("11") => json!([{"id": "3", "user": 4, "group": 11}]),
                    _ => json!([]),
                };
                Reply::Json(200, json!({"user_group_members": members}))
            }
            (method, p) if p.starts_with("/user/id/") => {
                let id = p.trim_start_matches("/user/id/");
                let Some(i) = users.iter().position(|u| u["id"] == id) else {
                    return Reply::Json(404, json!({"message": "User not found"}));
                };
                match method {
                    "PUT" => {
                        let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                        users[i]["enabled"] = body["enabled"].clone();
                        Reply::Json(200, json!({"user": users[i]}))
                    }
                    "DELETE" if users[i]["username"] == APP_USER => {
                        Reply::Json(400, json!({"message": "You cannot delete yourself"}))
                    }
                    "DELETE" => {
                        users.remove(i);
                        self.deleted.lock().unwrap().push(id.to_string());
                        let reply = Reply::Json(200, json!({"status": "OK"}));
                        match *self.slow_deletes.lock().unwrap() {
                            Some(wait) => Reply::Slow(wait, Box::new(reply)),
                            None => reply,
                        }
                    }
                    _ => Reply::Json(405, json!({"message": "Method not allowed"})),
                }
            }
            _ => Reply::Json(404, json!({"message": "Not found"})),
        }
    }
}

fn start(i: &Arc<Instance>) -> Sim {
    let i = i.clone();
    Sim::start(move |r| i.serve(r))
}

type Out = common::Done;

fn dormant(dir: &Path, sim: &Sim, key: &str, args: &[&str]) -> Out {
    let config = format!(
        "[connector.bi]\nkind = \"metric_insights\"\nurl = \"{}\"\napplication_id = \"dormant\"\napplication_key_env = \"MI_KEY\"\nuser = \"{APP_USER}\"\nrequests_per_second = 1000\ntimeout_seconds = 5\nretries = 2\n",
        sim.url()
    );
    std::fs::write(dir.join("dormant.toml"), config).unwrap();
    Run::new(args)
        .in_dir(dir)
        .secret("MI_KEY", key)
        .never_shows("tok-1")
        .never_shows("tok-2")
        .run()
}

#[test]
fn fetches_with_a_token_that_expires_mid_way() {
    // Each token serves two requests: the fetch takes four (users, groups, two memberships).
    let inst = Instance::new(6, 2);
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
    assert_eq!(users[0]["is_service"], true, "the application's own user");
    assert_eq!(users[5]["is_service"], false);
    assert!(users[5].get("last_login").is_none(), "no last login: unknown");
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
    let mut n = HashMap::new();
    for r in sim.requests().iter().filter(|r| r.method == "DELETE") {
        *n.entry(r.path().to_string()).or_insert(0) += 1;
    }
    n
}

/// Plans `policy` from the simulator into `plan.json`.
fn planned(dir: &Path, sim: &Sim, policy: &str) {
    std::fs::write(dir.join("p.policy"), policy).unwrap();
    let out = dormant(
        dir,
        sim,
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

#[test]
fn apply_renews_its_token_survives_a_crash_and_never_touches_its_own_user() {
    let inst = Instance::new(8, 3);
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
}

#[test]
fn deactivation_by_enabled_n_and_its_undo() {
    let inst = Instance::new(5, 100);
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
    let out = dormant(dir.path(), &sim, APP_KEY, &["undo", "dormant-journal.jsonl", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(inst.users.lock().unwrap()[3]["enabled"], "Y");
}
