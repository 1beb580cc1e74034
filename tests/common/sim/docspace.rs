//! A simulator of DocSpace, as `tests/docspace.rs` drives it: the platform's
//! documented shapes and quirks, each beside the vendor source it follows.

#![allow(dead_code, unused_imports, reason = "each test file uses one simulator")]

use crate::common::sim::{Fault, Faults, Reply, Request, Sim};
use crate::common::Run;
use chrono::{Datelike, FixedOffset, TimeZone, Timelike, Utc};
use dormant::config::Config;
use dormant::connector::docspace::DocSpace;
use dormant::connector::Acted;
use dormant::http::Secret;
use dormant::source::Source;
use dormant::user::Known;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub const KEY: &str = "ds-secret-9b2e71c0aa";
pub const SELF_ID: &str = "u-caller";
pub const HISTORY: &str = "/api/2.0/security/audit/login/filter";

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum AuditMode {
    /// The plan has the audit option: filters work, after paging
    /// [DS: common/services/ASC.AuditTrail/Repositories/LoginEventsRepository.cs].
    Works,
    /// The plan lacks the audit option: the 20 latest events of anyone,
    /// whatever the filters and `startIndex` [DS: web/ASC.Web.Api/Api/
    /// SecurityController.cs `GetLoginEventsByFilter` → `GetLastLoginEvents`].
    Ignored,
    /// Login history hidden from the portal: 402 [DS: SecurityController.cs
    /// `DemandBaseAuditPermission` throws `BillingException`, answered 402 by
    /// common/ASC.Api.Core/Middleware/ResponseWrapper.cs].
    PaymentRequired,
    /// The key's owner lacks the portal-settings right, or the key the
    /// `*:read` scope: 403 [DS: SecurityController.cs
    /// `DemandPermissionsAsync(EditPortalSettings)`; common/ASC.Api.Core/Auth/
    /// AuthorizationExtension.cs].
    Forbidden,
    /// Not the vendor's: a server that honours filters but ignores
    /// `startIndex`, which the connector must not read forever.
    PagingIgnored,
}

/// One login event; `at` in seconds since the epoch.
#[derive(Clone)]
pub struct Event {
    pub id: u64,
    pub user: String,
    pub at: i64,
    pub action: i64,
}

/// A LoginEventDto as JSON text [DS: web/ASC.Web.Api/ApiModels/ResponseDto/
/// LoginEventDto.cs], written once per event: a history of 200,000 events
/// built as `Value`s on every page would take most of a test's time.
pub fn event_json(e: &Event, lang: &str) -> String {
    let text = |s: &str| serde_json::to_string(s).unwrap();
    format!(
        r#"{{"id":{},"date":"{}","user":{},"userId":{},"login":{},"action":{},"actionId":{},"ip":"10.1.2.3","country":"","city":"","browser":"Firefox 130.0","platform":"Linux","page":"https://docs.example.com/"}}"#,
        e.id,
        api_date(e.at),
        text(&e.user),
        text(&e.user),
        text(&format!("{}@example.com", e.user)),
        text(action_text(lang, e.action)),
        e.action
    )
}

/// The `action` text in the API user's language [DS: common/services/
/// ASC.AuditTrail/Mappers/MessageMaps.cs `GetActionText`, from
/// AuditReportResource.resx, .de.resx and .fr.resx].
pub fn action_text(lang: &str, action: i64) -> &'static str {
    match (lang, action) {
        ("de", 1000) => "Erfolgreiche Anmeldung",
        ("de", 1010) => "Erfolgreiche Anmeldung via API",
        ("de", 1029) => "Anmeldung mit Benutzername und Passwort erfolgreich",
        ("de", 1002) => "Anmeldung fehlgeschlagen. Ungültige Kombination Benutzername-Kennwort",
        ("de", 1005) => "Anmeldung fehlgeschlagen",
        ("de", 1006) => "Abmelden",
        ("fr", 1000) => "Connexion réussie",
        ("fr", 1010) => "Connexion à l'aide d'API réussie",
        ("fr", 1029) => "Connexion réussie via identifiant et mot de passe",
        ("fr", 1002) => "Connexion échouée. Combinaison nom d'utilisateur / mot de passe non valide",
        ("fr", 1005) => "Connexion échouée",
        ("fr", 1006) => "Déconnexion",
        (_, 1000) => "Login Success",
        (_, 1010) => "Successful Login via API",
        (_, 1029) => "Login success via login and password",
        (_, 1002) => "Login Fail. Invalid username-password combination",
        (_, 1005) => "Login Fail",
        (_, 1006) => "Logout",
        _ => "Session started",
    }
}

/// A date as ApiDateTime writes it, in the portal's time zone (+02:00)
/// [DS: common/ASC.Api.Core/Core/ApiDateTime.cs].
pub fn api_date(at: i64) -> String {
    let t = FixedOffset::east_opt(2 * 3600).unwrap().timestamp_opt(at, 0).unwrap();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.0000000+02:00",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn secs(date: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(date).unwrap().timestamp()
}

pub fn days_ago(days: i64) -> i64 {
    Utc::now().timestamp() - days * 86_400
}

pub struct Portal {
    pub people: Mutex<Vec<Value>>,
    /// Newest first, as the server orders them, each with its JSON: sorted
    /// and written once, served by slices.
    pub events: Mutex<Vec<(Event, String)>>,
    pub audit: AuditMode,
    pub lang: &'static str,
    /// Before each page of the history, a failed login arrives on top.
    pub arrivals: AtomicBool,
    /// Status answers that list no one: what dormant cannot read.
    pub quiet: AtomicBool,
    /// Hold each DELETE a few seconds, then fail it having deleted no one:
    /// a run killed meanwhile is cut between terminate and delete.
    pub hold_deletes: AtomicBool,
    pub next_event: AtomicU64,
    pub faults: Faults,
}

pub fn person(id: &str, status: u8, flags: &[&str], registered: &str) -> Value {
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
pub const OLD: &str = "2020-01-01T09:00:00.0000000+02:00";
/// Ten days ago: the history's reach is counted back from the real clock.
pub fn recent() -> String {
    api_date(days_ago(10))
}

pub fn people(n: usize) -> Vec<Value> {
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

/// The small portal's history: a web login (1029) and a later failed
/// attempt by u-admin, an API login (1010) by u-owner, a login of u-old
/// long ago, and 250 newer events that push it past the first page:
/// failed logins of an unknown login (empty user id) and u-admin's logouts.
pub fn small_history() -> Vec<Event> {
    let mut events = vec![
        (1, "u-old", secs("2025-01-15T12:00:00+01:00"), 1000),
        (2, "u-admin", secs("2026-10-01T10:00:00+02:00"), 1029),
        (3, "u-owner", secs("2026-11-02T08:00:00+00:00"), 1010),
        (4, "u-admin", secs("2026-11-20T10:00:00+02:00"), 1002),
    ]
    .into_iter()
    .map(|(id, user, at, action)| Event {
        id,
        user: user.into(),
        at,
        action,
    })
    .collect::<Vec<_>>();
    // Newer than the rest, whatever day the tests run: within the last days.
    for i in 0..250 {
        let (user, action) = if i % 2 == 0 {
            ("00000000-0000-0000-0000-000000000000", 1005)
        } else {
            ("u-admin", 1006)
        };
        events.push(Event {
            id: 10 + i,
            user: user.into(),
            at: Utc::now().timestamp() - 60 - i as i64 * 600,
            action,
        });
    }
    events
}

impl Portal {
    pub fn new(n: usize, audit: AuditMode) -> Arc<Portal> {
        Portal::with(people(n), small_history(), audit, "de")
    }

    pub fn with(people: Vec<Value>, mut events: Vec<Event>, audit: AuditMode, lang: &'static str) -> Arc<Portal> {
        // Newest first [DS: LoginEventsRepository.cs `orderby q.Date descending`].
        events.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        let next = events.iter().map(|e| e.id).max().unwrap_or(0) + 1;
        let events = events
            .into_iter()
            .map(|e| {
                let json = event_json(&e, lang);
                (e, json)
            })
            .collect();
        Arc::new(Portal {
            people: Mutex::new(people),
            events: Mutex::new(events),
            audit,
            lang,
            arrivals: AtomicBool::new(false),
            quiet: AtomicBool::new(false),
            hold_deletes: AtomicBool::new(false),
            next_event: AtomicU64::new(next),
            faults: Faults::default(),
        })
    }

    pub fn envelope(response: Value, total: Option<usize>) -> Value {
        let count = response.as_array().map_or(1, Vec::len);
        let mut v = json!({"response": response, "count": count, "status": 0, "statusCode": 200});
        if let Some(t) = total {
            v["total"] = json!(t);
        }
        v
    }

    pub fn error(status: u16, message: &str) -> Reply {
        Reply::Json(
            status,
            json!({"error": {"message": message, "type": "ArgumentException"}, "status": 1, "statusCode": status}),
        )
    }

    pub fn history(&self, r: &Request) -> Reply {
        match self.audit {
            AuditMode::PaymentRequired => return Portal::error(402, "Your pricing plan does not support this option"),
            AuditMode::Forbidden => return Portal::error(403, "Access denied"),
            _ => {}
        }
        // `count` is 1..100 [DS: web/ASC.Web.Api/ApiModels/RequestsDto/
        // LoginEventRequestDto.cs `[Range(1, ApiContext.MaxCount)]`], checked
        // before the action runs, whatever the plan.
        let count: i64 = r.query("count").and_then(|c| c.parse().ok()).unwrap_or(100);
        if !(1..=100).contains(&count) {
            return Portal::error(400, "The field Count must be between 1 and 100.");
        }
        if self.arrivals.load(Ordering::SeqCst) {
            let id = self.next_event.fetch_add(1, Ordering::SeqCst);
            let e = Event {
                id,
                user: "00000000-0000-0000-0000-000000000000".into(),
                at: Utc::now().timestamp(),
                action: 1005,
            };
            let json = event_json(&e, self.lang);
            self.events.lock().unwrap().insert(0, (e, json));
        }
        let events = self.events.lock().unwrap();
        let start: usize = r.query("startIndex").and_then(|s| s.parse().ok()).unwrap_or(0);
        let page: Vec<&(Event, String)> = match self.audit {
            AuditMode::Ignored => events.iter().take(20).collect(),
            AuditMode::PagingIgnored => events.iter().take(count as usize).collect(),
            // Skip and Take first, then the filters [DS: LoginEventsRepository.cs `GetByFilterAsync`].
            _ => events
                .get(start.min(events.len())..(start + count as usize).min(events.len()))
                .unwrap_or_default()
                .iter()
                .collect(),
        };
        let ignored = self.audit == AuditMode::Ignored;
        let user = r
            .query("userId")
            .filter(|u| !ignored && u != "00000000-0000-0000-0000-000000000000");
        let action: Option<i64> = r.query("action").and_then(|a| a.parse().ok()).filter(|_| !ignored);
        let page: Vec<&str> = page
            .into_iter()
            .filter(|(e, _)| user.as_ref().is_none_or(|u| &e.user == u))
            .filter(|(e, _)| action.is_none_or(|a| e.action == a))
            .map(|(_, json)| json.as_str())
            .collect();
        Reply::Raw(
            200,
            format!(
                r#"{{"response":[{}],"count":{},"status":0,"statusCode":200}}"#,
                page.join(","),
                page.len()
            ),
        )
    }

    pub fn serve(&self, r: &Request) -> Reply {
        if r.header("authorization") != Some(&format!("Bearer {KEY}")) {
            return Portal::error(401, "Unauthorized");
        }
        let path = r.path().strip_prefix("/api/2.0").unwrap_or("");
        if path == "/security/audit/login/filter" {
            return self.history(r);
        }
        if r.method == "DELETE" && self.hold_deletes.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_secs(3));
            return Portal::error(503, "held by the test");
        }
        let mut people = self.people.lock().unwrap();
        match (r.method.as_str(), path) {
            ("GET", "/people/filter") => {
                let count: usize = r.query("count").and_then(|c| c.parse().ok()).unwrap_or(100).min(100);
                let start: usize = r.query("startIndex").and_then(|s| s.parse().ok()).unwrap_or(0);
                let all = r.query("employeeStatus").as_deref() == Some("7");
                let listed: Vec<&Value> = people.iter().filter(|p| all || p["status"] == 1).collect();
                let page: Vec<&Value> = listed.iter().skip(start).take(count).copied().collect();
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
            // The profile; 404 once deleted [DS: products/ASC.People/Server/Api/
            // UserController.cs `GetProfileByUserId`].
            ("GET", p) if p.starts_with("/people/") => {
                let id = p.trim_start_matches("/people/");
                match people.iter().find(|p| p["id"] == id) {
                    Some(p) => Reply::Json(200, Portal::envelope(p.clone(), None)),
                    None => Portal::error(404, "The user could not be found"),
                }
            }
            ("GET", "/security/audit/settings/lifetime") => match self.audit {
                // Same checks as the history [DS: SecurityController.cs `GetAuditSettings`].
                AuditMode::PaymentRequired => Portal::error(402, "Your pricing plan does not support this option"),
                AuditMode::Forbidden => Portal::error(403, "Access denied"),
                _ => Reply::Json(
                    200,
                    Portal::envelope(
                        json!({"loginHistoryLifeTime": 180, "auditTrailLifeTime": 180, "lastModified": "2026-01-01T00:00:00Z"}),
                        None,
                    ),
                ),
            },
            ("PUT", "/people/status/Terminated") | ("PUT", "/people/status/Active") => {
                let to = if path.ends_with("Active") { 1 } else { 2 };
                let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let ids: Vec<String> = body["userIds"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                // The whole list is validated first; one protected account
                // fails the call [DS: UserController.cs `UpdateUserStatus`].
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
                let mut changed = Vec::new();
                for p in people
                    .iter_mut()
                    .filter(|p| ids.iter().any(|id| p["id"] == id.as_str()))
                {
                    p["status"] = json!(to);
                    changed.push(p.clone());
                }
                // It answers each user's profile as changed (same method).
                let answer = if self.quiet.load(Ordering::SeqCst) {
                    json!([])
                } else {
                    json!(changed)
                };
                Reply::Json(200, Portal::envelope(answer, None))
            }
            // The deleted profile; a user not Terminated is refused with 403
            // (`InvalidOperationException`, 403 in ResponseWrapper.cs)
            // [DS: UserController.cs `DeleteMember`].
            ("DELETE", p) if p.starts_with("/people/") => {
                let id = p.trim_start_matches("/people/");
                let Some(i) = people.iter().position(|p| p["id"] == id) else {
                    return Portal::error(404, "The user could not be found");
                };
                if people[i]["status"] != 2 {
                    return Portal::error(403, "The user is not suspended");
                }
                let gone = people.remove(i);
                Reply::Json(200, Portal::envelope(gone, None))
            }
            _ => Portal::error(404, "Not found"),
        }
    }
}

pub fn start(portal: &Arc<Portal>) -> Sim {
    let p = portal.clone();
    Sim::start(move |r| p.faults.apply(p.serve(r)))
}
