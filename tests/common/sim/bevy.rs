//! A simulator of Bevy, as `tests/bevy.rs` drives it: the platform's
//! documented shapes and quirks, each beside the vendor source it follows.

#![allow(dead_code, unused_imports, reason = "each test file uses one simulator")]

use crate::common::sim::{Fault, Faults, Reply, Request, Sim};
use crate::common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const KEY: &str = "bevy-secret-77a0c3e1";
/// The token's own user: an HQ admin, whose personal key it is
/// [S: help.bevy.com/hc/en-us/articles/20800961964695].
pub const SELF_ID: u64 = 1;
/// The version dormant pins [S: same article, "Versioning"].
pub const VERSIONED: &str = "application/json; version=1.0";

pub struct Site {
    pub users: Mutex<Vec<Value>>,
    pub faults: Faults,
    pub slow_deletes: Mutex<Option<Duration>>,
    /// The most users a page holds, whatever `page_size` asks
    /// (CONNECTORS.md section 9: 100).
    pub max_page: Mutex<usize>,
    /// A deactivation answers 200 with the user as they were, and changes
    /// nothing.
    pub ignore_writes: AtomicBool,
}

pub fn user(i: u64) -> Value {
    json!({
        "id": i, "username": format!("member{i}"), "email": format!("member{i}@example.org"),
        "first_name": "Member", "last_name": format!("{i}"),
        "date_joined": "2022-01-10T09:00:00Z", "is_active": true,
        "is_hq_admin": i == SELF_ID || i == 2, "pending_deletion": false, "deletion_date": null
    })
}

impl Site {
    pub fn new(n: u64) -> Arc<Site> {
        Arc::new(Site {
            users: Mutex::new((1..=n).map(user).collect()),
            faults: Faults::default(),
            slow_deletes: Mutex::new(None),
            max_page: Mutex::new(100),
            ignore_writes: AtomicBool::new(false),
        })
    }

    pub fn serve(&self, r: &Request) -> Reply {
        // `Authorization: Token KEY`; a bad one is a 403 with `detail`
        // [S: help.bevy.com/hc/en-us/articles/20800961964695]. Without a
        // version in `Accept` the current one answers [S: same]: the
        // simulator serves the same either way, and the tests check the log.
        if r.header("authorization") != Some(&format!("Token {KEY}")) {
            return Reply::Json(403, json!({"detail": "Invalid token."}));
        }
        let path = r.path().strip_prefix("/api").unwrap_or("");
        let mut users = self.users.lock().unwrap();
        match (r.method.as_str(), path) {
            ("GET", "/user/") => {
                let max = *self.max_page.lock().unwrap();
                let size: usize = r.query("page_size").and_then(|s| s.parse().ok()).unwrap_or(20).min(max);
                let page: usize = r.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let start = (page - 1) * size;
                if start > 0 && start >= users.len() {
                    return Reply::Json(404, json!({"detail": "Invalid page."}));
                }
                let results: Vec<Value> = users.iter().skip(start).take(size).cloned().collect();
                // Like some list endpoints, `next` is set whenever the page is full.
                let next = (results.len() == size).then(|| format!("/api/user/?page={}&page_size={size}", page + 1));
                Reply::Json(
                    200,
                    json!({"count": users.len(), "next": next, "previous": null, "results": results}),
                )
            }
            ("DELETE", p) => {
                let id: u64 = p
                    .trim_start_matches("/user/")
                    .trim_end_matches('/')
                    .parse()
                    .unwrap_or(0);
                if id == SELF_ID {
                    return Reply::Json(400, json!({"detail": "You cannot delete your own account."}));
                }
                let Some(u) = users.iter_mut().find(|u| u["id"] == id) else {
                    return Reply::Json(404, json!({"detail": "Not found."}));
                };
                if u["pending_deletion"] != true {
                    u["pending_deletion"] = json!(true);
                    u["deletion_date"] = json!((chrono::Utc::now() + chrono::TimeDelta::days(7)).to_rfc3339());
                }
                match *self.slow_deletes.lock().unwrap() {
                    Some(wait) => Reply::Slow(wait, Box::new(Reply::Json(204, Value::Null))),
                    None => Reply::Json(204, Value::Null),
                }
            }
            // One user, as the list has them; 404 once unknown (CONNECTORS.md
            // section 9; public scripts call `GET /api/user/{id}/`).
            ("GET", p) if p.starts_with("/user/") => {
                let id: u64 = p
                    .trim_start_matches("/user/")
                    .trim_end_matches('/')
                    .parse()
                    .unwrap_or(0);
                match users.iter().find(|u| u["id"] == id) {
                    Some(u) => Reply::Json(200, u.clone()),
                    None => Reply::Json(404, json!({"detail": "Not found."})),
                }
            }
            ("POST", p) if p.ends_with("/deactivate/") => {
                let id: u64 = p
                    .trim_start_matches("/user/")
                    .trim_end_matches("/deactivate/")
                    .parse()
                    .unwrap_or(0);
                let Some(u) = users.iter_mut().find(|u| u["id"] == id) else {
                    return Reply::Json(404, json!({"detail": "Not found."}));
                };
                if !self.ignore_writes.load(Ordering::SeqCst) {
                    u["is_active"] = json!(false);
                }
                Reply::Json(200, u.clone())
            }
            _ => Reply::Json(404, json!({"detail": "Not found."})),
        }
    }
}

pub fn start(site: &Arc<Site>) -> Sim {
    let s = site.clone();
    Sim::start(move |r| s.faults.apply(s.serve(r)))
}
