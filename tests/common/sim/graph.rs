//! A simulator of Microsoft Graph's user list and the Microsoft identity
//! platform's token endpoint (one server for both: `login_url` points at
//! it), as `tests/graph.rs` drives it: the documented shapes, each beside
//! the vendor source it follows.

#![allow(dead_code, unused_imports, reason = "each test file uses one simulator")]

use crate::common::sim::{Faults, Reply, Request, Sim};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const TENANT: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
pub const SECRET: &str = "graph-secret-0e9f31c4";
const ACCESS: &str = "graph-access-token-7b21";

pub struct Site {
    pub users: Mutex<Vec<Value>>,
    pub faults: Faults,
    pub tokens: AtomicUsize,
}

/// A Graph user [S: learn.microsoft.com/graph/api/resources/user]; its
/// `signInActivity` [S: learn.microsoft.com/graph/api/resources/signinactivity]
/// only when given (absent: never recorded).
pub fn user(i: u64, sign_ins: Option<(Option<&str>, Option<&str>)>) -> Value {
    let mut u = json!({
        "id": format!("a0{i}"), "userPrincipalName": format!("user{i}@example.org"),
        "mail": format!("user{i}@example.org"), "displayName": format!("User {i}"),
        "accountEnabled": true, "createdDateTime": "2024-02-01T10:00:00Z"
    });
    if let Some((interactive, other)) = sign_ins {
        u["signInActivity"] = json!({
            "lastSignInDateTime": interactive, "lastSignInRequestId": "r1",
            "lastNonInteractiveSignInDateTime": other, "lastNonInteractiveSignInRequestId": "r2",
            "lastSuccessfulSignInDateTime": null, "lastSuccessfulSignInRequestId": null
        });
    }
    u
}

impl Site {
    pub fn new(users: Vec<Value>) -> Arc<Site> {
        Arc::new(Site {
            users: Mutex::new(users),
            faults: Faults::default(),
            tokens: AtomicUsize::new(0),
        })
    }

    pub fn serve(&self, r: &Request) -> Reply {
        if r.method == "POST" && r.path() == format!("/{TENANT}/oauth2/v2.0/token") {
            return self.token(r);
        }
        if r.header("authorization") != Some(&format!("Bearer {ACCESS}")) {
            return Reply::Json(
                401,
                json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}}),
            );
        }
        if r.method != "GET" || r.path() != "/v1.0/users" {
            return Reply::Json(
                404,
                json!({"error": {"code": "Request_ResourceNotFound", "message": "no such resource"}}),
            );
        }
        // `$top` at most 120 with `signInActivity` selected, the next page
        // in `@odata.nextLink` [S: learn.microsoft.com/graph/api/user-list;
        // learn.microsoft.com/graph/paging]. The skip token is opaque to
        // clients; here it is an offset.
        let select = r.query("$select").unwrap_or_default();
        if !select.split(',').any(|s| s == "signInActivity") {
            return Reply::Json(
                400,
                json!({"error": {"code": "BadRequest", "message": "signInActivity not selected"}}),
            );
        }
        let top: usize = r.query("$top").and_then(|t| t.parse().ok()).unwrap_or(100);
        if top > 120 {
            return Reply::Json(
                400,
                json!({"error": {"code": "BadRequest", "message": "$top is at most 120 with signInActivity"}}),
            );
        }
        let start: usize = r.query("$skiptoken").and_then(|s| s.parse().ok()).unwrap_or(0);
        let users = self.users.lock().unwrap().clone();
        let page: Vec<Value> = users.iter().skip(start).take(top).cloned().collect();
        let mut body = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,mail,signInActivity)",
            "value": page,
        });
        if start + top < users.len() {
            let host = r.header("host").unwrap_or("127.0.0.1");
            body["@odata.nextLink"] = json!(format!(
                "http://{host}/v1.0/users?$select={select}&$top={top}&$skiptoken={}",
                start + top
            ));
        }
        Reply::Json(200, body)
    }

    /// The client credentials grant [S:
    /// learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow].
    fn token(&self, r: &Request) -> Reply {
        let form: Vec<(String, String)> = r
            .body
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace("%3A", ":").replace("%2F", "/")))
            .collect();
        let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let good = get("client_id") == Some(CLIENT_ID)
            && get("client_secret") == Some(SECRET)
            && get("scope") == Some("https://graph.microsoft.com/.default")
            && get("grant_type") == Some("client_credentials");
        if !good {
            return Reply::Json(
                401,
                json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
            );
        }
        self.tokens.fetch_add(1, Ordering::SeqCst);
        Reply::Json(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": ACCESS}),
        )
    }
}

pub fn start(site: &Arc<Site>) -> Sim {
    let s = site.clone();
    Sim::start(move |r| s.faults.apply(s.serve(r)))
}
