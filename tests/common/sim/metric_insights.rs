//! A simulator of Metric Insights, as `tests/metric_insights.rs` drives it: the platform's
//! documented shapes and quirks, each beside the vendor source it follows.

#![allow(dead_code, unused_imports, reason = "each test file uses one simulator")]

use crate::common::sim::{Reply, Request, Sim};
use crate::common::Run;
use chrono::Timelike;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const APP_KEY: &str = "mi-app-key-5c2b19e0";
pub const APP_USER: &str = "svc.dormant";
/// A personal API token (v7.1+), made for user 1, an administrator.
pub const PERSONAL: &str = "mi-personal-token-9d41a7";
pub const PERSONAL_USER: &str = "analyst1";

/// A token as the simulator issued it.
pub struct Issued {
    /// The user it acts as.
    pub user: String,
    /// Requests it still serves, when it ends early (a server that ends
    /// tokens sooner than `expires` said, as one writing its local time east
    /// of UTC seems to); `None`: only `expires` ends it.
    pub left: Option<usize>,
    /// The `expires` it was issued with, by the server's clock.
    pub until: chrono::NaiveDateTime,
}

pub struct Instance {
    pub users: Mutex<Vec<Value>>,
    pub tokens: Mutex<HashMap<String, Issued>>,
    pub issued: Mutex<usize>,
    /// Each token serves this many requests, then answers 412.
    pub uses: Option<usize>,
    /// `API_TOKEN_LIFE_TIME`: how long after it is issued a token expires
    /// [S: kb.metricinsights.com/m/44498/l/1155359, about 15 minutes by default].
    pub life: chrono::TimeDelta,
    /// The server's clock less the real one: `expires` and `Date` are
    /// written by it.
    pub skew: chrono::TimeDelta,
    pub slow_deletes: Mutex<Option<Duration>>,
    /// Users deleted, in order: the simulator's own record of what was done
    /// (a request refused for an expired token did nothing).
    pub deleted: Mutex<Vec<String>>,
    /// A PUT answers 200 with the user as they were, and changes nothing.
    pub ignore_writes: AtomicBool,
    /// Requests refused with 412 "Session expired".
    pub expired: AtomicUsize,
}

pub fn user(i: usize) -> Value {
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
    pub fn new(n: usize, uses: Option<usize>) -> Arc<Instance> {
        Arc::new(Instance {
            users: Mutex::new((0..n).map(user).collect()),
            tokens: Mutex::new(HashMap::new()),
            issued: Mutex::new(0),
            uses,
            life: chrono::TimeDelta::minutes(15),
            skew: chrono::TimeDelta::zero(),
            slow_deletes: Mutex::new(None),
            deleted: Mutex::new(Vec::new()),
            ignore_writes: AtomicBool::new(false),
            expired: AtomicUsize::new(0),
        })
    }

    /// Tokens that live `life` by a clock `skew` off the real one.
    pub fn timed(n: usize, life: chrono::TimeDelta, skew: chrono::TimeDelta) -> Arc<Instance> {
        let mut i = Arc::into_inner(Instance::new(n, None)).unwrap();
        i.life = life;
        i.skew = skew;
        Arc::new(i)
    }

    /// The server's clock, to the second as it writes it.
    pub fn now(&self) -> chrono::NaiveDateTime {
        let now = chrono::Utc::now() + self.skew;
        now.naive_utc().with_nanosecond(0).unwrap()
    }

    /// Every answer carries `Date` (RFC 9110), by the server's clock.
    pub fn serve(&self, r: &Request) -> Reply {
        let date = self.now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        match self.answer(r) {
            Reply::Json(status, body) => Reply::WithHeaders(status, body, vec![("date", date)]),
            Reply::Slow(wait, inner) => match *inner {
                Reply::Json(status, body) => {
                    Reply::Slow(wait, Box::new(Reply::WithHeaders(status, body, vec![("date", date)])))
                }
                other => Reply::Slow(wait, Box::new(other)),
            },
            other => other,
        }
    }

    pub fn answer(&self, r: &Request) -> Reply {
        let path = r.path().strip_prefix("/api").unwrap_or("");
        if path == "/get_token/" {
            // [S: PTG tests/auth/auth.ts `getToken`: application_id,
            // application_key and user in, `{token, expires}` out]
            let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            if body["application_key"] != APP_KEY || body["user"] != APP_USER || body["application_id"] != "dormant" {
                return Reply::Json(401, json!({"message": "Unauthorized"}));
            }
            let mut issued = self.issued.lock().unwrap();
            *issued += 1;
            let token = format!("tok-{}", *issued);
            // `YYYY-MM-DD HH:MM:SS`, no zone (CONNECTORS.md section 9).
            let until = self.now() + self.life;
            self.tokens.lock().unwrap().insert(
                token.clone(),
                Issued {
                    user: APP_USER.into(),
                    left: self.uses,
                    until,
                },
            );
            return Reply::Json(
                200,
                json!({"token": token, "expires": until.format("%Y-%m-%d %H:%M:%S").to_string()}),
            );
        }
        // A personal token goes as `Authorization: Bearer` and acts as the
        // user it was made for [S: help.metricinsights.com/m/API_Access/l/1935643].
        let me = if r.header("authorization") == Some(&format!("Bearer {PERSONAL}")) {
            PERSONAL_USER.to_string()
        } else {
            // No token: 401; an expired one: 412 "Session expired"
            // [S: PTG tests/error-handling/session-errors.spec.ts].
            let Some(token) = r.header("token") else {
                return Reply::Json(401, json!({"message": "Unauthorized"}));
            };
            let mut tokens = self.tokens.lock().unwrap();
            let now = self.now();
            match tokens.get_mut(token) {
                Some(t) if t.left != Some(0) && now < t.until => {
                    if let Some(left) = &mut t.left {
                        *left -= 1;
                    }
                    t.user.clone()
                }
                _ => {
                    self.expired.fetch_add(1, Ordering::SeqCst);
                    return Reply::Json(412, json!({"status": "ERROR", "message": "Session expired"}));
                }
            }
        };
        let mut users = self.users.lock().unwrap();
        match (r.method.as_str(), path) {
            // [S: .cursor/rules/api.mdc, the `users` example]
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
                // Gone: 404 (CONNECTORS.md section 9, inferred).
                let Some(i) = users.iter().position(|u| u["id"] == id) else {
                    return Reply::Json(404, json!({"message": "User not found"}));
                };
                match method {
                    // The user under `user`, as creating one answers
                    // [S: PTG tests/users/user.ts `ApiResponse`].
                    "GET" => Reply::Json(200, json!({"user": users[i]})),
                    "PUT" if self.ignore_writes.load(Ordering::SeqCst) => Reply::Json(200, json!({"user": users[i]})),
                    "PUT" => {
                        let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                        users[i]["enabled"] = body["enabled"].clone();
                        Reply::Json(200, json!({"user": users[i]}))
                    }
                    "DELETE" if users[i]["username"] == me.as_str() => {
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

pub fn start(i: &Arc<Instance>) -> Sim {
    let i = i.clone();
    Sim::start(move |r| i.serve(r))
}
