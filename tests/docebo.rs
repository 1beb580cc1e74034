//! The Docebo connector against a simulator (CONNECTORS.md sections 5 and
//! 9): OAuth2 tokens that expire mid-way, `has_more_data` paging, invited
//! users, zone-less dates in a non-UTC zone, enrollments, and apply.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::{Reply, Request, Sim};
use common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "docebo-client-secret-3f9";
const PASSWORD: &str = "docebo-password-a71";
const ME: &str = "api.bot";

struct Lms {
    users: Mutex<Vec<Value>>,
    pending: Vec<Value>,
    /// Token → requests left before it expires.
    tokens: Mutex<HashMap<String, usize>>,
    issued: Mutex<usize>,
    life: usize,
    deleted: Mutex<Vec<String>>,
    slow_deletes: Mutex<Option<Duration>>,
}

fn user(i: u64) -> Value {
    let level = if i == 1 { "godadmin" } else { "user" };
    let name = if i == 2 { ME.to_string() } else { format!("learner{i}") };
    // Winter and summer times in Rome: UTC+1 and UTC+2.
    let access = match i % 3 {
        0 => Value::Null,
        1 => json!("2024-01-15 09:30:00"),
        _ => json!("2026-07-01 10:00:00"),
    };
    json!({"user_id": i, "username": name, "first_name": "L", "last_name": format!("{i}"),
           "email": format!("{name}@example.com"), "level": level, "status": "1",
           "last_access_date": access, "creation_date": "2021-06-01 12:00:00", "expiration_date": null})
}

impl Lms {
    fn new(n: u64, life: usize) -> Arc<Lms> {
        Arc::new(Lms {
            users: Mutex::new((1..=n).map(user).collect()),
            pending: vec![
                json!({"user_id": 900, "username": "newcomer", "email": "newcomer@example.com",
                                 "confirmed": false, "request_on": "2026-10-01 08:00:00"}),
            ],
            tokens: Mutex::new(HashMap::new()),
            issued: Mutex::new(0),
            life,
            deleted: Mutex::new(Vec::new()),
            slow_deletes: Mutex::new(None),
        })
    }

    fn serve(&self, r: &Request) -> Reply {
        if r.path() == "/oauth2/token" {
            let password_grant =
                r.body.contains(&format!("password={PASSWORD}")) && r.body.contains("grant_type=password");
            let ok = r.body.contains(&format!("client_secret={SECRET}"))
                && (password_grant || r.body.contains("grant_type=client_credentials"))
                && r.header("content-type") == Some("application/x-www-form-urlencoded");
            if !ok {
                return Reply::Json(
                    401,
                    json!({"error": "invalid_client", "error_description": "The client credentials are invalid"}),
                );
            }
            let mut issued = self.issued.lock().unwrap();
            *issued += 1;
            let token = format!("at-{}", *issued);
            self.tokens.lock().unwrap().insert(token.clone(), self.life);
            return Reply::Json(
                200,
                json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer", "scope": "api"}),
            );
        }
        let token = r
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("")
            .to_string();
        {
            let mut tokens = self.tokens.lock().unwrap();
            match tokens.get_mut(&token) {
                Some(0) | None => {
                    return Reply::Json(
                        401,
                        json!({"error": "invalid_token", "error_description": "The access token provided has expired"}),
                    )
                }
                Some(left) => *left -= 1,
            }
        }
        let mut users = self.users.lock().unwrap();
        let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        let ids: Vec<String> = body["user_ids"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        match (r.method.as_str(), r.path()) {
            ("GET", "/manage/v1/user") => {
                let size: usize = r
                    .query("page_size")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(200)
                    .min(200);
                let page: usize = r.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let list: Vec<Value> = if r.query("pending").as_deref() == Some("1") {
                    self.pending.clone()
                } else {
                    users.clone()
                };
                let items: Vec<Value> = list.iter().skip((page - 1) * size).take(size).cloned().collect();
                let more = page * size < list.len();
                Reply::Json(
                    200,
                    json!({"data": {"items": items, "count": items.len(), "has_more_data": more, "current_page": page,
                                    "current_page_size": size, "total_count": list.len()}, "_links": []}),
                )
            }
            ("GET", "/learn/v1/enrollments") => {
                let user: u64 = r.query("id_user[]").and_then(|u| u.parse().ok()).unwrap_or(0);
                let items: Vec<Value> = (0..user % 4)
                    .map(|k| json!({"id_course": k, "status": if k == 0 { "completed" } else { "in_progress" }}))
                    .collect();
                Reply::Json(200, json!({"data": {"items": items}}))
            }
            ("PUT", "/manage/v1/user/change_status") => {
                let status = body["status"].as_str().unwrap_or("1").to_string();
                let mut updated = Vec::new();
                for u in users.iter_mut().filter(|u| ids.contains(&u["user_id"].to_string())) {
                    u["status"] = json!(status);
                    updated.push(u["user_id"].clone());
                }
                Reply::Json(
                    200,
                    json!({"data": [{"updated_ids": updated, "not_updated_ids": [], "success": true}]}),
                )
            }
            ("DELETE", "/manage/v1/user/delete") => {
                let before = users.len();
                users.retain(|u| !ids.contains(&u["user_id"].to_string()));
                let gone = before - users.len();
                self.deleted.lock().unwrap().extend(ids.iter().take(gone).cloned());
                let reply = Reply::Json(200, json!({"data": [{"deleted_user_ids": ids, "success": true}]}));
                match *self.slow_deletes.lock().unwrap() {
                    Some(wait) => Reply::Slow(wait, Box::new(reply)),
                    None => reply,
                }
            }
            _ => Reply::Json(404, json!({"name": "Not Found", "message": "Page not found."})),
        }
    }
}

fn start(l: &Arc<Lms>) -> Sim {
    let l = l.clone();
    Sim::start(move |r| l.serve(r))
}

type Out = common::Done;

fn dormant(dir: &Path, sim: &Sim, extra: &str, args: &[&str]) -> Out {
    let config = format!(
        "[connector.lms]\nkind = \"docebo\"\nurl = \"{}\"\nclient_id = \"dormant\"\nclient_secret_env = \"DOCEBO_SECRET\"\nusername = \"{ME}\"\npassword_env = \"DOCEBO_PASSWORD\"\ntimezone = \"Europe/Rome\"\nbatch_size = 2\nrequests_per_second = 1000\ntimeout_seconds = 5\nretries = 2\n{extra}",
        sim.url()
    );
    std::fs::write(dir.join("dormant.toml"), config).unwrap();
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
    assert_eq!(users[5]["status"], "invited");
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
        "[connector.lms]\nkind = \"docebo\"\nurl = \"{}\"\nclient_id = \"dormant\"\nclient_secret_env = \"DOCEBO_SECRET\"\nusername = \"{ME}\"\npassword_env = \"DOCEBO_PASSWORD\"\nretries = 0\n",
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
        "[connector.lms]\nkind = \"docebo\"\nurl = \"{}\"\nclient_id = \"dormant\"\nclient_secret_env = \"DOCEBO_SECRET\"\nrequests_per_second = 1000\n",
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
