//! A simulator of Docebo, as `tests/docebo.rs` drives it: the platform's
//! documented shapes and quirks, each beside the vendor source it follows.

#![allow(dead_code, unused_imports, reason = "each test file uses one simulator")]

use crate::common::sim::{Reply, Request, Sim};
use crate::common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SECRET: &str = "docebo-client-secret-3f9";
pub const PASSWORD: &str = "docebo-password-a71";
pub const ME: &str = "api.bot";

/// How `DELETE /manage/v1/user/delete` names the users it deleted.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum DeleteAnswer {
    /// `deleted_user_ids` a list of ids, as answers seen in public code.
    Ids,
    /// One entry per user, `deleted_user_ids` that user's id alone.
    EachId,
    /// `deleted_user_ids` a bool, as the SDK types it
    /// (docs/Model/ManageUserDeleteData.md): nobody named.
    Bool,
}

pub struct Lms {
    pub users: Mutex<Vec<Value>>,
    /// Temporary users: self-registrations awaiting an admin's approval
    /// (docs/Api/UserApi.md, "Approve temporary users", "Reject temporary user").
    pub temporary: Mutex<Vec<Value>>,
    /// Token → requests left before it expires.
    pub tokens: Mutex<HashMap<String, usize>>,
    pub issued: Mutex<usize>,
    pub life: usize,
    pub deleted: Mutex<Vec<String>>,
    pub rejected: Mutex<Vec<String>>,
    pub slow_deletes: Mutex<Option<Duration>>,
    pub delete_answer: Mutex<DeleteAnswer>,
    /// Users whose deletion the platform answers 200 to and ignores.
    pub undeletable: Mutex<Vec<String>>,
    /// change_status answers `success` alone, naming nobody.
    pub bare_status_answer: AtomicBool,
    /// Temporary users whose reject answer does not name them.
    pub reject_unnamed: Mutex<Vec<String>>,
    /// Enrollments, each naming its user (`user_id`).
    pub enrollments: Mutex<Vec<Value>>,
    /// Users whose `id_user[]` filter is not applied: their query gets the
    /// whole list.
    pub unfiltered_for: Mutex<Vec<String>>,
}

pub fn user(i: u64) -> Value {
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

/// A temporary user as the pending list gives them: `request_on`,
/// `confirmed`, `create_by_admin` instead of a status
/// (docs/Model/ManageUserIndexItems.md).
pub fn temporary(id: u64, name: &str) -> Value {
    json!({"user_id": id, "username": name, "first_name": "New", "last_name": "Comer",
           "email": format!("{name}@example.com"), "confirmed": "0", "create_by_admin": 0,
           "request_on": "2026-10-01 08:00:00"})
}

/// The ids a body names under `key`: a list, or one id.
pub fn ids_under(body: &Value, key: &str) -> Vec<String> {
    let one = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    match &body[key] {
        Value::Array(a) => a.iter().map(one).collect(),
        Value::Null => Vec::new(),
        v => vec![one(v)],
    }
}

pub fn id_of(u: &Value) -> String {
    u["user_id"].to_string()
}

impl Lms {
    pub fn new(n: u64, life: usize) -> Arc<Lms> {
        // User k has k % 4 enrollments, the first completed.
        let enrollments = (1..=n)
            .flat_map(|k| {
                (0..k % 4).map(move |c| {
                    json!({"id": c, "user_id": k, "type": "elearning",
                           "status": if c == 0 { "completed" } else { "in_progress" }})
                })
            })
            .collect();
        Arc::new(Lms {
            users: Mutex::new((1..=n).map(user).collect()),
            temporary: Mutex::new(vec![temporary(900, "newcomer")]),
            tokens: Mutex::new(HashMap::new()),
            issued: Mutex::new(0),
            life,
            deleted: Mutex::new(Vec::new()),
            rejected: Mutex::new(Vec::new()),
            slow_deletes: Mutex::new(None),
            delete_answer: Mutex::new(DeleteAnswer::Ids),
            undeletable: Mutex::new(Vec::new()),
            bare_status_answer: AtomicBool::new(false),
            reject_unnamed: Mutex::new(Vec::new()),
            enrollments: Mutex::new(enrollments),
            unfiltered_for: Mutex::new(Vec::new()),
        })
    }

    pub fn serve(&self, r: &Request) -> Reply {
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
        let mut temporary = self.temporary.lock().unwrap();
        let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        let ids = ids_under(&body, "user_ids");
        let not_found = || {
            Reply::Json(
                404,
                json!({"name": "Not Found", "message": "Page not found.", "code": 0, "status": 404}),
            )
        };
        match (r.method.as_str(), r.path()) {
            // docs/Api/UserApi.md `userManagev1user`: `pending=1` lists the
            // temporary users, and only it does.
            ("GET", "/manage/v1/user") => {
                let size: usize = r
                    .query("page_size")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(200)
                    .min(200);
                let page: usize = r.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let list: Vec<Value> = if r.query("pending").as_deref() == Some("1") {
                    temporary.clone()
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
            // docs/Api/UserApi.md `userManagev1usertempDetailsidUser`, answered as
            // docs/Model/ManageUserTempDetails{Response,Data,UserDetails}.md: lists
            // at both levels. No such temporary user: 404.
            ("GET", p) if p.starts_with("/manage/v1/user/temp_details/") => {
                let id = p.trim_start_matches("/manage/v1/user/temp_details/");
                match temporary.iter().find(|t| id_of(t) == id) {
                    Some(t) => Reply::Json(
                        200,
                        json!({"data": [{"user_settings": [], "additional_fields": [], "user_details": [{
                            "email": t["email"], "user_name": t["username"], "firstname": t["first_name"],
                            "lastname": t["last_name"], "registration_date": t["request_on"], "language": "english"}]}]}),
                    ),
                    None => not_found(),
                }
            }
            // docs/Api/UserApi.md `userManagev1useruserId`, answered as
            // docs/Model/ManageUserView{Response,Data,UserData}.md: the user under
            // `data.user_data`, `valid` for the status; fields "available only for
            // NOT pending users" left out of a temporary user. Gone: 404.
            ("GET", p) if p.starts_with("/manage/v1/user/") => {
                let id = p.trim_start_matches("/manage/v1/user/");
                if let Some(u) = users.iter().find(|u| id_of(u) == id) {
                    let valid: u64 = u["status"].as_str().unwrap_or("1").parse().unwrap();
                    return Reply::Json(
                        200,
                        json!({"data": {"user_data": {"user_id": u["user_id"], "username": u["username"],
                            "email": u["email"], "first_tname": u["first_name"], "last_name": u["last_name"],
                            "level": u["level"], "valid": valid, "timezone": "Europe/Rome"},
                            "additional_fields": []}}),
                    );
                }
                match temporary.iter().find(|t| id_of(t) == id) {
                    Some(t) => Reply::Json(
                        200,
                        json!({"data": {"user_data": {"user_id": t["user_id"], "username": t["username"],
                            "email": t["email"], "last_name": t["last_name"]}, "additional_fields": []}}),
                    ),
                    None => not_found(),
                }
            }
            // docs/Api/EnrollmentApi.md `enrollmentLearnv1enrollments`, answered as
            // docs/Model/LearnEnrollmentIndexData.md: pages like the user list. An
            // empty `id_user[]` "returns full list", and for some users the filter
            // is not applied (CONNECTORS.md corrections: public scripts filter again).
            ("GET", "/learn/v1/enrollments") => {
                let user = r.query("id_user[]").unwrap_or_default();
                let size: usize = r
                    .query("page_size")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(200)
                    .min(200);
                let page: usize = r.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let filtered = !user.is_empty() && !self.unfiltered_for.lock().unwrap().contains(&user);
                let list: Vec<Value> = self
                    .enrollments
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|e| !filtered || id_of(e) == user)
                    .cloned()
                    .collect();
                let items: Vec<Value> = list.iter().skip((page - 1) * size).take(size).cloned().collect();
                let more = page * size < list.len();
                Reply::Json(
                    200,
                    json!({"data": {"items": items, "count": items.len(), "has_more_data": more, "current_page": page,
                                    "current_page_size": size, "total_page_count": list.len().div_ceil(size),
                                    "cursor": "c-1"}, "_links": [], "version": "1.0.0"}),
                )
            }
            // docs/Model/ManageUserChangeStatus{Schema,Response,Data}.md. It acts only
            // on the user list's users: a temporary user's id is not updated.
            ("PUT", "/manage/v1/user/change_status") => {
                let status = body["status"].as_str().unwrap_or("1").to_string();
                let mut updated = Vec::new();
                let mut not_updated = Vec::new();
                for id in &ids {
                    match users.iter_mut().find(|u| id_of(u) == *id) {
                        Some(u) => {
                            u["status"] = json!(status);
                            updated.push(u["user_id"].clone());
                        }
                        None => not_updated.push(json!(id.parse::<u64>().unwrap_or(0))),
                    }
                }
                if self.bare_status_answer.load(Ordering::SeqCst) {
                    return Reply::Json(200, json!({"data": [{"success": true}]}));
                }
                Reply::Json(
                    200,
                    json!({"data": [{"updated_ids": updated, "not_updated_ids": not_updated,
                                     "success": not_updated.is_empty()}]}),
                )
            }
            // docs/Model/ManageUserDelete{Schema,Response,Data}.md. It deletes only the
            // user list's users (a temporary user's id is ignored), and names them
            // in one of the shapes the sources disagree on.
            ("DELETE", "/manage/v1/user/delete") => {
                let undeletable = self.undeletable.lock().unwrap().clone();
                let mut gone = Vec::new();
                users.retain(|u| {
                    let id = id_of(u);
                    let hit = ids.contains(&id) && !undeletable.contains(&id);
                    if hit {
                        gone.push(id);
                    }
                    !hit
                });
                self.deleted.lock().unwrap().extend(gone.iter().cloned());
                let number = |id: &String| json!(id.parse::<u64>().unwrap());
                let data = match *self.delete_answer.lock().unwrap() {
                    DeleteAnswer::Ids => {
                        json!([{"deleted_user_ids": gone.iter().map(number).collect::<Vec<_>>(), "success": true}])
                    }
                    DeleteAnswer::EachId => Value::Array(
                        ids.iter()
                            .map(|id| json!({"deleted_user_ids": number(id), "success": gone.contains(id)}))
                            .collect(),
                    ),
                    DeleteAnswer::Bool => json!([{"deleted_user_ids": !gone.is_empty(), "success": true}]),
                };
                let reply = Reply::Json(200, json!({ "data": data }));
                match *self.slow_deletes.lock().unwrap() {
                    Some(wait) => Reply::Slow(wait, Box::new(reply)),
                    None => reply,
                }
            }
            // docs/Api/UserApi.md `userManagev1userreject`: one temporary user, named
            // by `id_user` (the schema, ManageUserRejectUserSchema.md, lists no
            // property), answered as docs/Model/ManageUserRejectUser{Response,Data}.md.
            // It removes only temporary users.
            ("DELETE", "/manage/v1/user/reject") => {
                let id = ids_under(&body, "id_user").join(",");
                let before = temporary.len();
                temporary.retain(|t| id_of(t) != id);
                if temporary.len() == before {
                    return Reply::Json(
                        400,
                        json!({"name": "Bad Request", "message": "Invalid user", "code": 0, "status": 400}),
                    );
                }
                self.rejected.lock().unwrap().push(id.clone());
                if self.reject_unnamed.lock().unwrap().contains(&id) {
                    return Reply::Json(200, json!({"data": []}));
                }
                Reply::Json(200, json!({"data": {"id_user": id.parse::<u64>().unwrap()}}))
            }
            _ => not_found(),
        }
    }
}

pub fn start(l: &Arc<Lms>) -> Sim {
    let l = l.clone();
    Sim::start(move |r| l.serve(r))
}
