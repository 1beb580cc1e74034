//! ONLYOFFICE DocSpace, API 2.0 (CONNECTORS.md section 4): users of every
//! status through the people filter, last logins from the login audit,
//! deactivation by the Terminated status, deletion after it.
//!
//! Assumptions where the sources are silent (CONNECTORS.md sections 4 and
//! 9), kept here in one place:
//! - `Authorization: Bearer KEY`; the list total is `total`; `count` is at
//!   most 100; `employeeStatus=7` (All) lists every status;
//! - keys may come in camelCase or PascalCase, statuses as numbers or names;
//! - an invited user has status 4 (Pending) with activationStatus 2;
//! - a login event is a success when its `action` says "success" (or its
//!   `actionId` is 1000, LoginSuccess); events come newest first;
//! - the login history reaches back `loginHistoryLifeTime` days
//!   (`GET /security/audit/settings/lifetime`); a user without a login
//!   event has never logged in only if they registered inside it, and an
//!   *unknown* last login otherwise;
//! - when the portal's plan lacks the audit option the filters are ignored
//!   (events of other users come back) or 402 answers: every last login is
//!   then *unknown*, never *never*.

use super::Listing;
use crate::config::Connector;
use crate::http::{Client, HttpError, Secret, Settings};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Attr, Known, Set, Status, User};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

pub const PLATFORM: &str = "DocSpace";

const MAX_PAGE: u64 = 100;

pub const DEFAULTS: Settings = Settings {
    requests_per_second: 10.0,
    requests_per_day: None,
    concurrency: 4,
    timeout: Duration::from_secs(30),
    retries: 5,
    backoff: Duration::from_millis(200),
    max_wait: Duration::from_secs(120),
};

pub struct DocSpace {
    client: Client,
    /// Login-audit requests in flight at once.
    concurrency: usize,
    /// The id of the account dormant acts as, asked once.
    me: tokio::sync::OnceCell<String>,
    source: String,
    page: u64,
    batch: usize,
}

/// A key in camelCase or PascalCase.
fn get<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    obj.get(key)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    get(v, key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn flag(v: &Value, key: &str) -> Option<bool> {
    get(v, key).and_then(Value::as_bool)
}

/// The `response` of DocSpace's envelope.
fn response<'v>(v: &'v Value, endpoint: &str) -> Result<&'v Value, HttpError> {
    get(v, "response").ok_or_else(|| HttpError::Shape {
        platform: PLATFORM,
        endpoint: endpoint.to_string(),
        detail: "no `response` in the answer".to_string(),
    })
}

/// What the login audit can tell.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Audit {
    /// Filters work; history reaches back to this instant (if known).
    Works(Option<Time>),
    /// The plan lacks the audit option, or it is off: nothing is known.
    Unavailable,
}

impl DocSpace {
    pub fn connect(c: &Connector) -> Result<DocSpace, String> {
        let var = c.secrets.get("api_key_env").map(String::as_str).unwrap_or_default();
        DocSpace::with_key(c, Secret::from_env(var, "api_key_env", &c.name)?)
    }

    pub fn with_key(c: &Connector, key: Secret) -> Result<DocSpace, String> {
        let client = Client::new(
            PLATFORM,
            &format!("{}/api/2.0", c.url),
            Settings::new(DEFAULTS, &c.limits),
        )?;
        client.set_auth("authorization", &format!("Bearer {}", key.expose()), &key)?;
        let concurrency = Settings::new(DEFAULTS, &c.limits).concurrency.max(1);
        Ok(DocSpace {
            client,
            concurrency,
            me: tokio::sync::OnceCell::new(),
            source: c.name.clone(),
            page: c.limits.batch_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE),
            batch: usize::try_from(c.limits.batch_size.unwrap_or(100))
                .unwrap_or(100)
                .max(1),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn fetch(&self, progress: &Progress, now: Time) -> Result<Vec<User>, HttpError> {
        let people = self.people(progress).await?;
        let mut users = people
            .iter()
            .map(|p| normalize(p, &self.source))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: "/people/filter".to_string(),
                detail,
            })?;
        let audit = self.audit(users.first().map(|u| u.id.as_str()), now).await?;
        if let Audit::Works(since) = audit {
            let logins: Vec<Result<Option<Known<Time>>, HttpError>> = futures_util::stream::iter(users.iter())
                .map(|u| self.last_login(&u.id, u.joined, since))
                .buffered(self.concurrency)
                .collect()
                .await;
            let logins = logins.into_iter().collect::<Result<Vec<_>, _>>()?;
            // If the filter was ignored for anyone after all, no login is
            // known: every last login stays unknown, as normalize left it.
            if let Some(all) = logins.into_iter().collect::<Option<Vec<_>>>() {
                for (u, login) in users.iter_mut().zip(all) {
                    u.last_login = login;
                }
            }
        }
        Ok(users)
    }

    /// Every user of every status, page by page.
    async fn people(&self, progress: &Progress) -> Result<Vec<Value>, HttpError> {
        let mut listing = Listing::new(PLATFORM, "/people/filter", "users");
        let mut start = 0;
        loop {
            let path = format!("/people/filter?employeeStatus=7&count={}&startIndex={start}", self.page);
            let page = self.client.get_json(&path).await?;
            let people = response(&page, &path)?.as_array().ok_or_else(|| HttpError::Shape {
                platform: PLATFORM,
                endpoint: path.clone(),
                detail: "`response` is not a list".to_string(),
            })?;
            let total = get(&page, "total").and_then(Value::as_u64);
            if let Some(t) = total {
                progress.set_total(t);
            }
            progress.inc(people.len() as u64);
            let n = people.len() as u64;
            listing.page(people.iter().cloned(), total)?;
            start += n;
            // Without a total, a short page is the last one.
            let done = match total {
                Some(t) => start >= t,
                None => n < self.page,
            };
            if n == 0 || done {
                break;
            }
            listing.guard(start)?;
        }
        listing.finish()
    }

    /// Whether the audit's filters work, tried on one user, and how far
    /// back its history reaches.
    async fn audit(&self, probe: Option<&str>, now: Time) -> Result<Audit, HttpError> {
        let Some(id) = probe else {
            return Ok(Audit::Unavailable);
        };
        if self.events(id).await?.is_none() {
            return Ok(Audit::Unavailable);
        }
        let since = match self.client.get_json("/security/audit/settings/lifetime").await {
            Ok(v) => {
                let body = get(&v, "response").unwrap_or(&v);
                get(body, "loginHistoryLifeTime")
                    .and_then(Value::as_i64)
                    .and_then(|days| now.checked_sub_signed(chrono::TimeDelta::try_days(days)?))
            }
            // Unknown reach: no user is known to have never logged in.
            Err(_) => None,
        };
        Ok(Audit::Works(since))
    }

    /// One user's login events, or `None` when the audit is unavailable
    /// (402, or filters ignored: events of someone else came back).
    async fn events(&self, id: &str) -> Result<Option<Vec<Value>>, HttpError> {
        let path = format!("/security/audit/login/filter?userId={id}&count=100");
        let answer = match self.client.get_json(&path).await {
            Ok(a) => a,
            Err(e) if matches!(e.status(), Some(402 | 403)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let events = response(&answer, &path)?.as_array().cloned().unwrap_or_default();
        let theirs = events
            .iter()
            .all(|e| text(e, "userId").is_none_or(|u| u.eq_ignore_ascii_case(id)));
        Ok(theirs.then_some(events))
    }

    /// A user's last login from their events: `None` if the filter was ignored.
    async fn last_login(
        &self,
        id: &str,
        joined: Option<Time>,
        since: Option<Time>,
    ) -> Result<Option<Known<Time>>, HttpError> {
        let Some(events) = self.events(id).await? else {
            return Ok(None);
        };
        let latest = events
            .iter()
            .filter(|e| is_success(e))
            .filter_map(|e| text(e, "date").and_then(crate::time::parse_time))
            .max();
        Ok(Some(match (latest, since, joined) {
            (Some(t), _, _) => Known::Value(t),
            // Registered inside the history kept: no event means no login.
            (None, Some(since), Some(joined)) if joined >= since => Known::Never,
            (None, _, _) => Known::Unknown,
        }))
    }

    /// Users that a status change must never include: the API rejects the
    /// whole batch if one is there.
    fn protected(u: &User) -> bool {
        u.is_admin != Some(false)
            || u.role
                .as_ref()
                .is_none_or(|r| r.iter().any(|r| matches!(r.as_str(), "owner" | "ldap" | "system")))
    }

    /// Sets users Terminated, in batches that hold no protected account.
    /// Returns the ids left out, with why.
    pub async fn deactivate(&self, users: &[User]) -> Result<Vec<(String, String)>, HttpError> {
        let my_id = self
            .me
            .get_or_try_init(|| async {
                let me = self.client.get_json("/people/@self").await?;
                Ok::<_, HttpError>(
                    text(response(&me, "/people/@self")?, "id")
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .await?;
        let mut skipped = Vec::new();
        let mut ids = Vec::new();
        for u in users {
            if Self::protected(u) {
                skipped.push((
                    u.id.to_string(),
                    "owner, administrator, LDAP or system account".to_string(),
                ));
            } else if u.id.as_str() == my_id.as_str() {
                skipped.push((u.id.to_string(), "the account dormant acts as".to_string()));
            } else {
                ids.push(u.id.to_string());
            }
        }
        for chunk in ids.chunks(self.batch) {
            match self.terminate(chunk).await {
                Ok(()) => {}
                // A protected account the profile does not show (a system
                // account) fails the whole batch: each user alone, so that
                // it holds back only itself.
                Err(e) if e.status() == Some(403) && chunk.len() > 1 => {
                    for id in chunk {
                        match self.terminate(std::slice::from_ref(id)).await {
                            Ok(()) => {}
                            Err(e) if e.status() == Some(403) => skipped.push((
                                id.clone(),
                                "DocSpace refuses to change this account (a protected or system account)".to_string(),
                            )),
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(skipped)
    }

    async fn terminate(&self, ids: &[String]) -> Result<(), HttpError> {
        let body = serde_json::json!({ "userIds": ids, "resendAll": false });
        self.client
            .send(reqwest::Method::PUT, "/people/status/Terminated", Some(&body))
            .await
            .map(|_| ())
    }

    /// Deletes users: terminated first (as the API requires), then deleted
    /// one by one. Returns the ids left out, with why.
    pub async fn delete(&self, users: &[User]) -> Result<Vec<(String, String)>, HttpError> {
        let skipped = self.deactivate(users).await?;
        for u in users
            .iter()
            .filter(|u| !skipped.iter().any(|(id, _)| id == u.id.as_str()))
        {
            let path = format!("/people/{}", u.id);
            match self.client.send(reqwest::Method::DELETE, &path, None).await {
                Ok(_) => {}
                // Gone already: a repeated run after a crash.
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(skipped)
    }
}

impl DocSpace {
    /// Undoes deactivations: sets the users Active again (each takes a seat;
    /// the API answers 402 when there is none left).
    pub async fn reactivate(&self, ids: &[String]) -> Result<(), HttpError> {
        for chunk in ids.chunks(self.batch) {
            let body = serde_json::json!({ "userIds": chunk, "resendAll": false });
            self.client
                .send(reqwest::Method::PUT, "/people/status/Active", Some(&body))
                .await?;
        }
        Ok(())
    }
}

impl DocSpace {
    /// One user as the portal has them now (`GET /people/{id}`); `None`
    /// when it answers 404.
    pub async fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        let path = format!("/people/{id}");
        match self.client.get_json(&path).await {
            Ok(answer) => normalize(response(&answer, &path)?, &self.source)
                .map(Some)
                .map_err(|detail| HttpError::Shape {
                    platform: PLATFORM,
                    endpoint: path,
                    detail,
                }),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn is_success(e: &Value) -> bool {
    let action = text(e, "action").unwrap_or_default().to_ascii_lowercase();
    let id = get(e, "actionId").and_then(Value::as_i64);
    (action.contains("success") && !action.contains("fail")) || id == Some(1000)
}

/// A DocSpace status, as a number or a name.
fn status(v: &Value) -> Option<i64> {
    match get(v, "status")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "active" => Some(1),
            "terminated" => Some(2),
            "leaveofabsence" | "pending" => Some(4),
            _ => None,
        },
        _ => None,
    }
}

/// One DocSpace profile as a dormant user (SPEC section 2).
pub fn normalize(p: &Value, source: &str) -> Result<User, String> {
    let id = text(p, "id").ok_or_else(|| {
        format!(
            "a user without an `id`: {}",
            p.to_string().chars().take(120).collect::<String>()
        )
    })?;
    let time = |k: &str| -> Result<Option<Time>, String> {
        match text(p, k) {
            None => Ok(None),
            Some(s) => crate::time::parse_time(s)
                .map(Some)
                .ok_or_else(|| format!("user `{id}`: `{k}` is not a time: `{s}`")),
        }
    };
    let joined = match time("registrationDate")? {
        Some(t) => Some(t),
        None => time("workFrom")?,
    };
    let is = |k: &str| flag(p, k) == Some(true);
    let mut role = Set::new();
    for (key, name) in [
        ("isOwner", "owner"),
        ("isAdmin", "docspace_admin"),
        ("isRoomAdmin", "room_admin"),
        ("isCollaborator", "collaborator"),
        ("isVisitor", "guest"),
        ("isLDAP", "ldap"),
        ("isSSO", "sso"),
    ] {
        if is(key) {
            role.push(name.into());
        }
    }
    if !["isOwner", "isAdmin", "isRoomAdmin", "isCollaborator", "isVisitor"]
        .iter()
        .any(|k| is(k))
    {
        role.push("user".into());
    }
    let modules: Set = get(p, "listAdminModules")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let admin_known = ["isOwner", "isAdmin"].iter().any(|k| get(p, k).is_some());
    let is_admin = admin_known.then(|| is("isOwner") || is("isAdmin") || !modules.is_empty());
    let activation = get(p, "activationStatus").and_then(Value::as_i64);
    let status = match (status(p), activation) {
        (Some(4), _) | (Some(1), Some(2)) => Some(Status::Invited),
        (Some(1), _) => Some(Status::Active),
        (Some(2), _) => Some(Status::Disabled),
        _ => None,
    };
    let mut attr = Vec::new();
    for (key, name) in [("isLDAP", "is_ldap"), ("isSSO", "is_sso")] {
        if let Some(b) = flag(p, key) {
            attr.push((name.into(), Attr::Bool(b)));
        }
    }
    if let Some(a) = activation {
        attr.push(("activation_status".into(), Attr::Number(a as f64)));
    }
    let name = text(p, "displayName").map(Into::into).or_else(|| {
        // Through `text`, which also finds PascalCase keys.
        let full = [text(p, "firstName"), text(p, "lastName")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!full.is_empty()).then(|| full.into())
    });
    Ok(User {
        id: id.into(),
        username: text(p, "userName").map(Into::into),
        email: text(p, "email").map(Into::into),
        name,
        status,
        joined,
        group: get(p, "groups")
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(|g| text(g, "id").or_else(|| g.as_str())).collect()),
        role: Some(role),
        permission: Some(modules),
        is_admin,
        source: Some(source.into()),
        attr,
        // Unknown until the login audit says (`fetch`); no activity and no
        // flag for API-only accounts.
        ..User::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;

    #[test]
    fn normalizes_the_documented_profile() {
        let p: Value = serde_json::from_str(
            r#"{"id": "75a5f745-f697-4418-b38d-0fe0d277e258", "displayName": "Mike Zanyatski", "userName": "mike",
                "email": "mike@example.com", "firstName": "Mike", "lastName": "Zanyatski", "status": 1,
                "activationStatus": 1, "isAdmin": false, "isRoomAdmin": true, "isOwner": false, "isVisitor": false,
                "isCollaborator": false, "isLDAP": false, "isSSO": false,
                "groups": [{"id": "c652dba3-210e-436d-b264-df5ceda0a48e", "name": "Sales", "manager": null}],
                "registrationDate": "2023-05-04T09:12:00.0000000+02:00", "terminated": null}"#,
        )
        .unwrap();
        let u = normalize(&p, "docs").unwrap();
        assert_eq!(u.id, "75a5f745-f697-4418-b38d-0fe0d277e258");
        assert_eq!(u.status, Some(Status::Active));
        assert_eq!(u.joined, parse_time("2023-05-04T07:12:00Z"));
        assert_eq!(u.role.unwrap().as_slice(), ["room_admin"]);
        assert_eq!(u.is_admin, Some(false));
        assert_eq!(u.group.unwrap().as_slice(), ["c652dba3-210e-436d-b264-df5ceda0a48e"]);
        assert_eq!(u.last_login, Known::Unknown);
    }

    #[test]
    fn old_shapes_and_statuses() {
        let u = normalize(
            &serde_json::json!({"Id": "a", "Status": "Terminated", "IsOwner": true, "WorkFrom": "2020-01-01T00:00:00Z"}),
            "d",
        )
        .unwrap();
        assert_eq!((u.status, u.is_admin), (Some(Status::Disabled), Some(true)));
        assert_eq!(u.joined, parse_time("2020-01-01"));
        let invited = normalize(&serde_json::json!({"id": "b", "status": 4, "activationStatus": 2}), "d").unwrap();
        assert_eq!(invited.status, Some(Status::Invited));
        assert_eq!(invited.is_admin, None, "no admin flags: unknown");
        assert!(normalize(&serde_json::json!({"id": "c", "registrationDate": "later"}), "d").is_err());
    }

    #[test]
    fn success_events() {
        assert!(is_success(
            &serde_json::json!({"action": "Login success", "actionId": 1000})
        ));
        assert!(!is_success(
            &serde_json::json!({"action": "Login failed", "actionId": 1006})
        ));
        assert!(is_success(&serde_json::json!({"actionId": 1000})));
    }
}
