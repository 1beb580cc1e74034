//! A simulator of Huwise, as `tests/huwise.rs` drives it: the platform's
//! documented shapes and quirks, each beside the vendor source it follows.

#![allow(dead_code, unused_imports, reason = "each test file uses one simulator")]

use crate::common::sim::{Fault, Faults, Reply, Request, Sim};
use crate::common::smtp::Smtp;
use crate::common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const KEY: &str = "hw-secret-4f1c9a77e2";
pub const BASE: &str = "/api/automation/v1.0";

/// What the simulated domain holds and how it misbehaves.
pub struct Domain {
    pub users: Mutex<Vec<Value>>,
    pub faults: Faults,
    /// Add a user after this many list requests (the list changes mid-read).
    pub grow_after: Mutex<Option<usize>>,
    /// Answer each DELETE this late.
    pub slow_deletes: Mutex<Option<Duration>>,
    /// Answer PUTs 200 without changing anything.
    pub ignore_puts: Mutex<bool>,
    /// Answer 404 to reads of one user once their permissions are gone.
    pub hide_reads: Mutex<bool>,
    /// A PUT leaves group memberships alone (only the group endpoints change them).
    pub put_keeps_groups: Mutex<bool>,
    /// Removing a user from this group answers 403.
    pub locked_group: Mutex<Option<String>>,
    /// The group list answers 403 (a key without the right to read it).
    pub groups_forbidden: Mutex<bool>,
}

/// What `PUT /users/{username}/` writes (the schema's fields that are not readOnly).
pub const WRITABLE: [&str; 7] = [
    "first_name",
    "last_name",
    "email",
    "permissions",
    "groups",
    "explore_limits",
    "management_limits",
];

pub fn user(i: usize) -> Value {
    json!({
        "username": format!("user{i:03}"),
        "display_name": format!("user{i:03}"),
        "first_name": "User", "last_name": format!("{i}"),
        "email": format!("user{i:03}@example.org"),
        "is_active": i % 7 != 3,
        "is_ods": i == 5,
        "account_type": if i.is_multiple_of(2) { "local" } else { "global" },
        "permissions": if i == 0 { json!(["edit_domain"]) } else { json!(["edit_dataset"]) },
        "joined_at": "2021-03-02T10:11:12Z",
        "last_seen_at": if i.is_multiple_of(4) { Value::Null } else { json!("2024-11-20T08:00:00Z") },
        "last_login_at": if i.is_multiple_of(4) { Value::Null } else { json!("2024-11-19T17:42:03Z") },
        "expires_at": null,
        "groups": if i == 1 { json!([{"uid": "gr_admins"}]) } else { json!([{"uid": "gr_readers"}]) },
        "identity_providers": []
    })
}

/// Admins: `edit_domain` granted directly (user000) or through the admins group (user001).
pub fn is_admin(u: &Value) -> bool {
    u["permissions"].as_array().unwrap().contains(&json!("edit_domain")) || u["groups"][0]["uid"] == "gr_admins"
}

impl Domain {
    pub fn new(n: usize) -> Arc<Domain> {
        Arc::new(Domain {
            users: Mutex::new((0..n).map(user).collect()),
            faults: Faults::default(),
            grow_after: Mutex::new(None),
            slow_deletes: Mutex::new(None),
            ignore_puts: Mutex::new(false),
            hide_reads: Mutex::new(false),
            put_keeps_groups: Mutex::new(false),
            locked_group: Mutex::new(None),
            groups_forbidden: Mutex::new(false),
        })
    }

    pub fn answer(&self, r: &Request, port: u16) -> Reply {
        let reply = self.faults.apply(self.serve(r, port));
        match *self.slow_deletes.lock().unwrap() {
            Some(wait) if r.method == "DELETE" => Reply::Slow(wait, Box::new(reply)),
            _ => reply,
        }
    }

    pub fn serve(&self, r: &Request, port: u16) -> Reply {
        if r.header("authorization") != Some(&format!("Apikey {KEY}")) {
            return Reply::Json(401, json!({"error_code": "InvalidKey", "message": "Invalid API key"}));
        }
        let path = r.path().strip_prefix(BASE).unwrap_or("");
        match (r.method.as_str(), path) {
            ("GET", "/users/") => {
                let limit: usize = r.query("limit").and_then(|l| l.parse().ok()).unwrap_or(20);
                let offset: usize = r.query("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
                if limit > 1000 {
                    return Reply::Json(
                        400,
                        json!({"error_code": "ValidationError", "message": "limit must be at most 1000"}),
                    );
                }
                let admins_only = r.query("all_permissions").as_deref() == Some("edit_domain");
                let mut users = self.users.lock().unwrap();
                let mut grow = self.grow_after.lock().unwrap();
                if let Some(k) = *grow {
                    if k == 0 {
                        let next = users.len();
                        users.push(user(next));
                        *grow = None;
                    } else {
                        *grow = Some(k - 1);
                    }
                }
                let listed: Vec<&Value> = users.iter().filter(|u| !admins_only || is_admin(u)).collect();
                let page: Vec<Value> = listed.iter().skip(offset).take(limit).map(|u| (*u).clone()).collect();
                let more = offset + page.len() < listed.len();
                let link = |o: usize| format!("http://127.0.0.1:{port}{BASE}/users/?limit={limit}&offset={o}");
                Reply::Json(
                    200,
                    json!({
                        "total_count": listed.len(),
                        "next": if more { json!(link(offset + limit)) } else { Value::Null },
                        "previous": if offset > 0 { json!(link(offset.saturating_sub(limit))) } else { Value::Null },
                        "results": page,
                    }),
                )
            }
            ("DELETE", p) if p.starts_with("/users/") => {
                let name = p.trim_start_matches("/users/").trim_end_matches('/');
                if name == "sso-managed" {
                    return Reply::Json(
                        400,
                        json!({"error_code": "ValidationError", "message": "This user is managed by SSO and cannot be removed"}),
                    );
                }
                let mut users = self.users.lock().unwrap();
                let Some(i) = users.iter().position(|u| u["username"] == name) else {
                    return Reply::Json(404, json!({"error_code": "NotFound", "message": "Not found"}));
                };
                if is_admin(&users[i]) && users.iter().filter(|u| is_admin(u)).count() == 1 {
                    return Reply::Json(
                        400,
                        json!({"error_code": "LastAdmin", "message": "Cannot delete the only domain administrator"}),
                    );
                }
                users.remove(i);
                Reply::Json(204, json!(null))
            }
            ("GET", p) if p.starts_with("/users/") => {
                let name = p.trim_start_matches("/users/").trim_end_matches('/');
                let users = self.users.lock().unwrap();
                let hide = *self.hide_reads.lock().unwrap();
                match users.iter().find(|u| u["username"] == name) {
                    Some(u) if hide && u["permissions"] == json!([]) => {
                        Reply::Json(404, json!({"error_code": "NotFound", "message": "Not found"}))
                    }
                    Some(u) => Reply::Json(200, u.clone()),
                    None => Reply::Json(404, json!({"error_code": "NotFound", "message": "Not found"})),
                }
            }
            // Follows the SDK's OpenAPI schema `User`
            // (generators/python/openapi/openapi_3.1.0_original.json):
            // `email` is required; `is_active` and `expires_at` are readOnly,
            // so a PUT that carries them changes nothing about them.
            ("PUT", p) if p.starts_with("/users/") => {
                let name = p.trim_start_matches("/users/").trim_end_matches('/');
                let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                if body.get("email").and_then(Value::as_str).is_none() {
                    return Reply::Json(
                        400,
                        json!({"error_code": "ValidationError", "message": "email: this field is required"}),
                    );
                }
                let mut users = self.users.lock().unwrap();
                let Some(u) = users.iter_mut().find(|u| u["username"] == name) else {
                    return Reply::Json(404, json!({"error_code": "NotFound", "message": "Not found"}));
                };
                if *self.ignore_puts.lock().unwrap() {
                    return Reply::Json(200, u.clone());
                }
                let keeps_groups = *self.put_keeps_groups.lock().unwrap();
                for key in WRITABLE {
                    if key == "groups" && keeps_groups {
                        continue;
                    }
                    if let Some(v) = body.get(key) {
                        u[key] = v.clone();
                    }
                }
                Reply::Json(200, u.clone())
            }
            // python/docs/UserGroupsApi.md: `delete_user_of_a_user_group`
            // answers 204, or 404 when the user is not in the group.
            ("DELETE", p) if p.starts_with("/groups/") => {
                let parts: Vec<&str> = p.trim_matches('/').split('/').collect();
                let (group, name) = (parts[1], parts[3]);
                if self.locked_group.lock().unwrap().as_deref() == Some(group) {
                    return Reply::Json(
                        403,
                        json!({"error_code": "PermissionDenied", "message": "Permission denied"}),
                    );
                }
                let mut users = self.users.lock().unwrap();
                let Some(u) = users.iter_mut().find(|u| u["username"] == name) else {
                    return Reply::Json(404, json!({"error_code": "NotFound", "message": "Not found"}));
                };
                let groups = u["groups"].as_array_mut().unwrap();
                let Some(i) = groups.iter().position(|g| g["uid"] == group) else {
                    return Reply::Json(404, json!({"error_code": "NotFound", "message": "Not found"}));
                };
                groups.remove(i);
                Reply::Json(204, json!(null))
            }
            // `add_user_to_user_group`: `{"username"}` (RelatedUser.md), 201 with the user.
            ("POST", p) if p.starts_with("/groups/") && p.ends_with("/users/") => {
                let group = p.trim_matches('/').split('/').nth(1).unwrap_or("").to_string();
                let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let name = body["username"].as_str().unwrap_or("");
                let mut users = self.users.lock().unwrap();
                let Some(u) = users.iter_mut().find(|u| u["username"] == name) else {
                    return Reply::Json(404, json!({"error_code": "NotFound", "message": "Not found"}));
                };
                let groups = u["groups"].as_array_mut().unwrap();
                if !groups.iter().any(|g| g["uid"] == group.as_str()) {
                    groups.push(json!({"uid": group}));
                }
                Reply::Json(201, u.clone())
            }
            // `list_user_groups` (python/docs/UserGroupsApi.md): paged like
            // the users, each group a `UserGroup` with its `title`.
            ("GET", "/groups/") if *self.groups_forbidden.lock().unwrap() => Reply::Json(
                403,
                json!({"error_code": "PermissionDenied", "message": "Permission denied"}),
            ),
            ("GET", "/groups/") => {
                let limit: usize = r.query("limit").and_then(|l| l.parse().ok()).unwrap_or(20);
                let offset: usize = r.query("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
                let all = [("gr_admins", "Domain admins"), ("gr_readers", "Readers")];
                let page: Vec<Value> = all
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|(uid, title)| json!({"uid": uid, "title": title, "user_count": 1}))
                    .collect();
                let more = offset + page.len() < all.len();
                let link = |o: usize| format!("http://127.0.0.1:{port}{BASE}/groups/?limit={limit}&offset={o}");
                Reply::Json(
                    200,
                    json!({
                        "total_count": all.len(),
                        "next": if more { json!(link(offset + limit)) } else { Value::Null },
                        "previous": Value::Null,
                        "results": page,
                    }),
                )
            }
            _ => Reply::Json(404, json!({"error_code": "NotFound", "message": "Not found"})),
        }
    }
}

pub fn start(domain: &Arc<Domain>) -> Sim {
    let d = domain.clone();
    let port = Arc::new(AtomicUsize::new(0));
    let p = port.clone();
    let sim = Sim::start(move |r| d.answer(r, p.load(Ordering::SeqCst) as u16));
    port.store(sim.port as usize, Ordering::SeqCst);
    sim
}
