//! A simulator of Okta's Users API, as `tests/okta.rs` and the end-to-end
//! enrichment tests drive it: the documented shapes, each beside the
//! vendor source it follows.

#![allow(dead_code, unused_imports, reason = "each test file uses one simulator")]

use crate::common::sim::{Faults, Reply, Request, Sim};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const TOKEN: &str = "okta-ssws-5d1e0b7a";

pub struct Site {
    pub users: Mutex<Vec<Value>>,
    pub faults: Faults,
    /// Pages answered so far.
    pub pages: AtomicUsize,
    /// Every answer says no request remains until the next second (the
    /// rate-limit headers) [S: developer.okta.com/docs/reference/rl-best-practices].
    pub exhausted: AtomicBool,
    /// The next list request answers 429 with `X-Rate-Limit-Reset` and no
    /// `Retry-After`.
    pub limited_once: AtomicBool,
    /// The next page's link names another host.
    pub foreign_link: AtomicBool,
    /// Seconds from now to the reset that every answer names.
    pub reset_in: std::sync::atomic::AtomicI64,
}

/// An Okta user [S: CONNECTORS.md 6.3, okta-user-schema]: `lastLogin`
/// null when the user never signed in.
pub fn user(i: u64, last_login: Option<&str>) -> Value {
    json!({
        "id": format!("00u{i}"), "status": "ACTIVE",
        "created": "2024-02-01T10:00:00.000Z", "activated": "2024-02-01T10:00:00.000Z",
        "statusChanged": null, "lastLogin": last_login, "lastUpdated": "2026-01-01T00:00:00.000Z",
        "passwordChanged": null, "type": {"id": "oty1"},
        "profile": {"login": format!("user{i}@example.org"), "email": format!("user{i}@example.org"),
                    "firstName": "User", "lastName": format!("{i}")},
        "credentials": {}
    })
}

impl Site {
    pub fn new(users: Vec<Value>) -> Arc<Site> {
        Arc::new(Site {
            users: Mutex::new(users),
            faults: Faults::default(),
            pages: AtomicUsize::new(0),
            exhausted: AtomicBool::new(false),
            limited_once: AtomicBool::new(false),
            foreign_link: AtomicBool::new(false),
            reset_in: std::sync::atomic::AtomicI64::new(1),
        })
    }

    pub fn serve(&self, r: &Request) -> Reply {
        // `Authorization: SSWS <token>` [S: developer.okta.com/docs/api/#authentication].
        if r.header("authorization") != Some(&format!("SSWS {TOKEN}")) {
            return Reply::Json(
                401,
                json!({"errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorCauses": []}),
            );
        }
        if r.method != "GET" || r.path() != "/api/v1/users" {
            return Reply::Json(
                404,
                json!({"errorCode": "E0000022", "errorSummary": "The endpoint does not support the provided HTTP method"}),
            );
        }
        let reset = (chrono::Utc::now().timestamp() + self.reset_in.load(Ordering::SeqCst)).to_string();
        if self.limited_once.swap(false, Ordering::SeqCst) {
            return Reply::WithHeaders(
                429,
                json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."}),
                vec![
                    ("x-rate-limit-limit", "600".into()),
                    ("x-rate-limit-remaining", "0".into()),
                    ("x-rate-limit-reset", reset),
                ],
            );
        }
        // `limit` (at most 200) and the cursor `after`, both in the `Link`
        // header's next address [S: developer.okta.com/docs/api/#pagination].
        let limit: usize = r.query("limit").and_then(|l| l.parse().ok()).unwrap_or(200).min(200);
        let users = self.users.lock().unwrap().clone();
        let start = match r.query("after") {
            Some(after) => users
                .iter()
                .position(|u| u["id"] == after.as_str())
                .map_or(users.len(), |p| p + 1),
            None => 0,
        };
        let page: Vec<Value> = users.iter().skip(start).take(limit).cloned().collect();
        self.pages.fetch_add(1, Ordering::SeqCst);
        let host = match self.foreign_link.load(Ordering::SeqCst) {
            true => "okta.example.net".to_string(),
            false => r.header("host").unwrap_or("127.0.0.1").to_string(),
        };
        let mut link = format!("<http://{host}/api/v1/users?limit={limit}>; rel=\"self\"");
        if start + page.len() < users.len() {
            let last = page
                .last()
                .map(|u| u["id"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default();
            link.push_str(&format!(
                ", <http://{host}/api/v1/users?after={last}&limit={limit}>; rel=\"next\""
            ));
        }
        let remaining = if self.exhausted.load(Ordering::SeqCst) {
            "0"
        } else {
            "599"
        };
        Reply::WithHeaders(
            200,
            Value::Array(page),
            vec![
                ("link", link),
                ("x-rate-limit-limit", "600".into()),
                ("x-rate-limit-remaining", remaining.into()),
                ("x-rate-limit-reset", reset),
            ],
        )
    }
}

pub fn start(site: &Arc<Site>) -> Sim {
    let s = site.clone();
    Sim::start(move |r| s.faults.apply(s.serve(r)))
}
