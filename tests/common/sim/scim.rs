//! A simulator of a SCIM 2.0 server, as `tests/scim.rs` drives it: the
//! shapes and quirks `docs/evidence/scim2-server.md` ([E §n]) records of
//! scim2-server 0.8.3, each beside its section.

#![allow(dead_code, unused_imports, reason = "each test file uses one simulator")]

use crate::common::sim::{Fault, Faults, Reply, Request, Sim};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const TOKEN: &str = "scim-secret-5e1f0a9b";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub struct Site {
    pub users: Mutex<Vec<Value>>,
    pub groups: Mutex<Vec<Value>>,
    pub faults: Faults,
    /// `/ServiceProviderConfig`'s `patch.supported`.
    pub patch: AtomicBool,
    /// A PATCH answers 501 whatever the config says [E §2.13].
    pub patch_501: AtomicBool,
    /// `etag.supported`: versions in `meta`, If-Match checked [E §2.5, §2.7].
    pub etag: AtomicBool,
    /// `filter.maxResults`, announced; `None`: not announced.
    pub max_results: Mutex<Option<u64>>,
    /// The most a page holds whatever is asked or announced [E §2.10].
    pub cap: Mutex<usize>,
    /// No `/Groups` endpoint (404).
    pub no_groups: AtomicBool,
    pub slow_writes: Mutex<Option<Duration>>,
    /// Someone else writes each user just after it is read alone: its
    /// version moves on.
    pub race: AtomicBool,
    /// Users `totalResults` claims beyond those there are: a server that
    /// gets its total wrong.
    pub overcount: AtomicU64,
    /// One counter for every write, as scim2-server's [E §2.5].
    version: AtomicU64,
}

/// User `i` (1-based): `member{i}`, active but for every fourth, which has
/// no `active` at all [E §2.3]; the enterprise extension on even ones.
pub fn user(i: u64) -> Value {
    let mut u = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id(i), "userName": format!("member{i}"),
        "name": {"givenName": "Member", "familyName": format!("{i}")},
        "emails": [{"value": format!("m{i}@home.example")}, {"value": format!("member{i}@example.org"), "primary": true}],
        "meta": {"resourceType": "User", "created": "2022-01-10T09:00:00.123456Z", "lastModified": "2022-01-10T09:00:00.123456Z"},
    });
    if !i.is_multiple_of(4) {
        u["active"] = json!(true);
    }
    if i.is_multiple_of(2) {
        u[ENTERPRISE] = json!({"department": if i.is_multiple_of(3) { "Contractors" } else { "Eng" }, "employeeNumber": format!("{i}")});
        u["schemas"].as_array_mut().unwrap().push(json!(ENTERPRISE));
    }
    u
}

/// The id of user `i`: opaque text, as SCIM ids are.
pub fn id(i: u64) -> String {
    format!("{i:04x}c0ffee")
}

fn error(status: u16, kind: Option<&str>, detail: &str) -> Reply {
    let mut body = json!({"schemas": [ERROR], "status": status.to_string(), "detail": detail});
    if let Some(kind) = kind {
        body["scimType"] = json!(kind);
    }
    Reply::Json(status, body)
}

/// `%XX` and `+` decoded.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Site {
    pub fn new(n: u64) -> Arc<Site> {
        let site = Site {
            users: Mutex::new((1..=n).map(user).collect()),
            groups: Mutex::new(Vec::new()),
            faults: Faults::default(),
            patch: AtomicBool::new(true),
            patch_501: AtomicBool::new(false),
            etag: AtomicBool::new(true),
            max_results: Mutex::new(Some(1000)),
            cap: Mutex::new(1000),
            no_groups: AtomicBool::new(false),
            slow_writes: Mutex::new(None),
            race: AtomicBool::new(false),
            overcount: AtomicU64::new(0),
            version: AtomicU64::new(0),
        };
        for u in site.users.lock().unwrap().iter_mut() {
            site.stamp(u);
        }
        // `admins` holds members 1 and 2, and an id no user has [E §2.3];
        // `all` holds everyone; members are as sent, without `display` [E §2.3].
        let members = |ids: &[String]| ids.iter().map(|i| json!({"value": i})).collect::<Vec<_>>();
        let everyone: Vec<String> = (1..=n).map(id).collect();
        *site.groups.lock().unwrap() = vec![
            json!({"id": "g-admins", "displayName": "admins", "members": members(&[id(1), id(2), "gone".into()])}),
            json!({"id": "g-all", "displayName": "all", "members": members(&everyone)}),
        ];
        Arc::new(site)
    }

    /// A new version for a written resource, when ETags are on.
    fn stamp(&self, u: &mut Value) {
        let v = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        if self.etag.load(Ordering::SeqCst) {
            u["meta"]["version"] = json!(format!("W/\"{v}\""));
        } else if let Some(meta) = u["meta"].as_object_mut() {
            meta.remove("version");
        }
    }

    pub fn config(&self) -> Value {
        let mut filter = json!({"supported": true});
        if let Some(m) = *self.max_results.lock().unwrap() {
            filter["maxResults"] = json!(m);
        }
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": self.patch.load(Ordering::SeqCst)},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": filter,
            "changePassword": {"supported": false}, "sort": {"supported": false},
            "etag": {"supported": self.etag.load(Ordering::SeqCst)},
        })
    }

    pub fn serve(&self, r: &Request) -> Reply {
        let path = r.path().strip_prefix("/v2").unwrap_or("");
        // Served without the token [E §2.1].
        if r.method == "GET" && path == "/ServiceProviderConfig" {
            return Reply::Json(200, self.config());
        }
        if r.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return error(
                401,
                None,
                "Authorization failure. The authorization header is invalid or missing",
            );
        }
        let reply = match (r.method.as_str(), path) {
            ("GET", "/Users") => self.list(r, &self.users.lock().unwrap()),
            ("GET", "/Groups") if self.no_groups.load(Ordering::SeqCst) => error(404, None, "Not found"),
            ("GET", "/Groups") => self.list(r, &self.groups.lock().unwrap()),
            (method, p) if p.starts_with("/Users/") => self.one(r, method, &p["/Users/".len()..]),
            _ => error(404, None, "Not found"),
        };
        match (r.method.as_str(), *self.slow_writes.lock().unwrap()) {
            ("GET", _) | (_, None) => reply,
            (_, Some(wait)) => Reply::Slow(wait, Box::new(reply)),
        }
    }

    /// A page: `count` capped at `maxResults` and at the cap, silently;
    /// `totalResults` exact [E §2.10]; `filter` `active eq true` only.
    fn list(&self, r: &Request, all: &[Value]) -> Reply {
        let filter = r.query("filter").map(|f| decode(&f));
        let matching: Vec<&Value> = match filter.as_deref() {
            None => all.iter().collect(),
            Some("active eq true") => all.iter().filter(|u| u["active"] == true).collect(),
            Some(_) => return error(400, Some("invalidFilter"), "invalid syntax at column 10"),
        };
        let max = self.max_results.lock().unwrap().unwrap_or(1000) as usize;
        let cap = *self.cap.lock().unwrap();
        let count: usize = r.query("count").and_then(|c| c.parse().ok()).unwrap_or(max);
        let count = count.min(max).min(cap);
        let start: usize = r.query("startIndex").and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
        let page: Vec<Value> = matching
            .iter()
            .skip(start - 1)
            .take(count)
            .map(|v| (*v).clone())
            .collect();
        Reply::Json(
            200,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": matching.len() as u64 + self.overcount.load(Ordering::SeqCst), "startIndex": start, "itemsPerPage": page.len(),
                "Resources": page,
            }),
        )
    }

    fn one(&self, r: &Request, method: &str, id: &str) -> Reply {
        let mut users = self.users.lock().unwrap();
        let Some(at) = users.iter().position(|u| u["id"] == id) else {
            return error(404, None, &format!("User '{id}' not found"));
        };
        let etag = self.etag.load(Ordering::SeqCst);
        // If-Match: weak comparison; with ETags off, nothing matches [E §2.7, §2.13].
        if let Some(tag) = r.header("if-match").filter(|_| method != "GET") {
            let strip = |t: &str| t.trim_start_matches("W/").trim_matches('"').to_string();
            let current = users[at]["meta"]["version"].as_str().map(strip);
            if tag != "*" && (!etag || current != Some(strip(tag))) {
                return error(412, None, "Failed to update. Resource has changed on the server");
            }
        }
        match method {
            "GET" => {
                let read = users[at].clone();
                if self.race.load(Ordering::SeqCst) {
                    let mut u = read.clone();
                    self.stamp(&mut u);
                    users[at] = u;
                }
                Reply::Json(200, read)
            }
            "DELETE" => {
                users.remove(at);
                Reply::Raw(204, String::new())
            }
            "PATCH" if !self.patch.load(Ordering::SeqCst) || self.patch_501.load(Ordering::SeqCst) => {
                error(501, None, "PATCH is not supported")
            }
            "PATCH" => {
                let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let ops = body["Operations"].as_array().cloned().unwrap_or_default();
                for op in ops {
                    if op["path"] != "active" || !op["value"].is_boolean() {
                        return error(400, Some("invalidPath"), "unsupported patch");
                    }
                    if users[at]["active"] != op["value"] {
                        users[at]["active"] = op["value"].clone();
                        let mut u = users[at].clone();
                        self.stamp(&mut u);
                        users[at] = u;
                    }
                }
                // 204 without a body [E §2.6].
                Reply::Raw(204, String::new())
            }
            "PUT" => {
                let Ok(mut body) = serde_json::from_str::<Value>(&r.body) else {
                    return error(400, Some("invalidSyntax"), "Invalid JSON");
                };
                if body["userName"].as_str().is_none_or(str::is_empty) {
                    return error(400, Some("invalidValue"), "Field 'userName' is required");
                }
                // Replaces everything; `meta` is the server's [E §2.8].
                body["id"] = json!(id);
                body["meta"] = users[at]["meta"].clone();
                self.stamp(&mut body);
                users[at] = body.clone();
                Reply::Json(200, body)
            }
            _ => error(405, None, "Method not allowed"),
        }
    }

    /// The user with this id, as the site has them now.
    pub fn get(&self, id: &str) -> Option<Value> {
        self.users.lock().unwrap().iter().find(|u| u["id"] == id).cloned()
    }
}

pub fn start(site: &Arc<Site>) -> Sim {
    let s = site.clone();
    Sim::start(move |r| s.faults.apply(s.serve(r)))
}
