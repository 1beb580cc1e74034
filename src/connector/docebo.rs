//! Docebo LMS (CONNECTORS.md section 5): an OAuth2 token, users page by
//! page (`has_more_data`), invited users from the pending list, dates
//! without a zone read in the `timezone` key's zone, deactivation by
//! `change_status`, deletion by `DELETE` with a JSON body, and, on opt-in,
//! enrollments as activity counters.
//!
//! Assumptions where the sources are silent (CONNECTORS.md sections 5 and
//! 9), kept here in one place:
//! - `user_id` is a number (text accepted too); levels are `godadmin`,
//!   `power_user` and `user`; `status` is "1" (active) or "0" (suspended);
//! - `data.count` is the items of this page, and `data.total_count` comes
//!   only with `get_total_count=1`; `page_size` is at most 200;
//! - invited users appear only with `pending=1`;
//! - change_status answers `{"data": [{"updated_ids", "not_updated_ids",
//!   "success"}]}`, delete `{"data": [{"deleted_user_ids", "success"}]}`;
//! - an expired token answers 401 `invalid_token`;
//! - an enrollment is completed when its `status` is "completed".

use crate::config::Connector;
use crate::http::{Body, Client, HttpError, Secret, Settings, Token, TokenFuture, Tokens};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Known, Set, Status, User};
use chrono::TimeZone;
use serde_json::Value;
use std::time::Duration;

pub const PLATFORM: &str = "Docebo";

const MAX_PAGE: u64 = 200;

pub const DEFAULTS: Settings = Settings {
    // 1,000 calls an hour from one address.
    requests_per_second: 1000.0 / 3600.0,
    requests_per_day: None,
    concurrency: 1,
    timeout: Duration::from_secs(60),
    retries: 5,
    backoff: Duration::from_millis(500),
    max_wait: Duration::from_secs(300),
};

struct OAuth {
    client_id: String,
    secret: Secret,
    /// The password grant's user and password; the client_credentials
    /// grant without them.
    user: Option<(String, Secret)>,
}

impl Tokens for OAuth {
    fn secrets(&self) -> Vec<Secret> {
        let mut s = vec![self.secret.clone()];
        s.extend(self.user.as_ref().map(|(_, p)| p.clone()));
        s
    }

    fn acquire<'a>(&'a self, client: &'a Client) -> TokenFuture<'a> {
        Box::pin(async move {
            let mut form = vec![
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.secret.expose()),
                ("scope", "api"),
            ];
            match &self.user {
                Some((username, password)) => form.extend([
                    ("grant_type", "password"),
                    ("username", username.as_str()),
                    ("password", password.expose()),
                ]),
                None => form.push(("grant_type", "client_credentials")),
            }
            let answer = client
                .send_unauthenticated(reqwest::Method::POST, "/oauth2/token", Some(Body::Form(&form)))
                .await?;
            let v = answer.json(PLATFORM, "/oauth2/token")?;
            let token = v
                .get("access_token")
                .and_then(Value::as_str)
                .ok_or_else(|| HttpError::Shape {
                    platform: PLATFORM,
                    endpoint: "/oauth2/token".into(),
                    detail: "no `access_token` in the answer".into(),
                })?
                .to_string();
            Ok(Token {
                header: "authorization",
                value: format!("Bearer {token}"),
                secret: Secret::new(token),
                lifetime: v.get("expires_in").and_then(Value::as_u64).map(Duration::from_secs),
            })
        })
    }
}

pub struct Docebo {
    client: Client,
    source: String,
    page: u64,
    batch: usize,
    zone: chrono_tz::Tz,
    enrollments: bool,
    /// The user the token acts as: never acted on.
    me: String,
}

impl Docebo {
    pub fn connect(c: &Connector) -> Result<Docebo, String> {
        let secret =
            |key: &str| Secret::from_env(c.secrets.get(key).map(String::as_str).unwrap_or_default(), key, &c.name);
        let password = match (c.settings.contains_key("username"), c.secrets.contains_key("password_env")) {
            (true, true) => Some(secret("password_env")?),
            (false, false) => None,
            _ => {
                return Err(format!(
                    "connector `{}` (docebo): `username` and `password_env` go together (the password grant), or neither (the client_credentials grant)",
                    c.name
                ))
            }
        };
        Docebo::with(c, secret("client_secret_env")?, password)
    }

    pub fn with(c: &Connector, client_secret: Secret, password: Option<Secret>) -> Result<Docebo, String> {
        let setting = |k: &str| c.settings.get(k).cloned().unwrap_or_default();
        let oauth = OAuth {
            client_id: setting("client_id"),
            secret: client_secret,
            user: password.map(|p| (setting("username"), p)),
        };
        let client = Client::new(PLATFORM, &c.url, Settings::new(DEFAULTS, &c.limits))?.with_tokens(Box::new(oauth));
        let zone = match c.settings.get("timezone") {
            Some(tz) => tz.parse().map_err(|_| format!("`{tz}` is not a time zone"))?,
            None => chrono_tz::Tz::UTC,
        };
        Ok(Docebo {
            client,
            source: c.name.clone(),
            page: c.limits.batch_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE),
            batch: usize::try_from(c.limits.batch_size.unwrap_or(100))
                .unwrap_or(100)
                .max(1),
            zone,
            enrollments: c.enrollments,
            me: setting("username"),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn batch(&self) -> usize {
        self.batch
    }

    pub fn is_me(&self, username: Option<&str>) -> bool {
        !self.me.is_empty() && username.is_some_and(|u| u.eq_ignore_ascii_case(&self.me))
    }

    /// Every user, active, suspended and invited, each exactly once.
    pub async fn fetch(&self, progress: &Progress) -> Result<Vec<User>, HttpError> {
        let mut users = Vec::new();
        for pending in [false, true] {
            for item in self.list(pending, progress).await? {
                let mut u = normalize(&item, &self.source, self.zone, pending).map_err(|detail| HttpError::Shape {
                    platform: PLATFORM,
                    endpoint: "/manage/v1/user".into(),
                    detail,
                })?;
                if self.enrollments && !pending {
                    let (enrolled, completed) = self.enrollments_of(&u.id).await?;
                    u.activity.push(("courses_enrolled".into(), enrolled));
                    u.activity.push(("courses_completed".into(), completed));
                }
                users.push(u);
            }
        }
        Ok(users)
    }

    async fn list(&self, pending: bool, progress: &Progress) -> Result<Vec<Value>, HttpError> {
        let what = if pending { "invited users" } else { "users" };
        let mut listing = super::Listing::new(PLATFORM, "/manage/v1/user", what);
        let mut page = 1;
        let mut seen = 0;
        loop {
            let path = format!(
                "/manage/v1/user?page={page}&page_size={}&get_total_count=1{}",
                self.page,
                if pending { "&pending=1" } else { "" }
            );
            let answer = self.client.get_json(&path).await?;
            let data = answer.get("data").ok_or_else(|| HttpError::Shape {
                platform: PLATFORM,
                endpoint: path.clone(),
                detail: "no `data`".into(),
            })?;
            let items = data.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
            let total = data.get("total_count").and_then(count);
            if let (Some(t), false) = (total, pending) {
                progress.set_total(t);
            }
            progress.inc(items.len() as u64);
            let n = items.len() as u64;
            seen += n;
            listing.page(items.into_iter(), total)?;
            let more = match data.get("has_more_data") {
                Some(Value::Bool(b)) => *b,
                _ => data
                    .get("total_page_count")
                    .and_then(count)
                    .is_some_and(|pages| page < pages),
            };
            if n == 0 || !more {
                break;
            }
            page += 1;
            listing.guard(seen)?;
        }
        listing.finish()
    }

    async fn enrollments_of(&self, id: &str) -> Result<(f64, f64), HttpError> {
        let path = format!("/learn/v1/enrollments?id_user[]={id}&page_size=200");
        let answer = self.client.get_json(&path).await?;
        let items = answer
            .get("data")
            .and_then(|d| d.get("items"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let completed = items
            .iter()
            .filter(|e| e.get("status").and_then(Value::as_str) == Some("completed"))
            .count();
        Ok((items.len() as f64, completed as f64))
    }

    /// `change_status` for a batch: the ids not updated.
    pub async fn set_status(&self, ids: &[String], active: bool) -> Result<Vec<String>, HttpError> {
        let body = serde_json::json!({ "user_ids": ids, "status": if active { "1" } else { "0" } });
        let answer = self
            .client
            .send(reqwest::Method::PUT, "/manage/v1/user/change_status", Some(&body))
            .await?
            .json(PLATFORM, "/manage/v1/user/change_status")?;
        Ok(ids_in(&answer, "not_updated_ids"))
    }

    /// Deletes a batch: the ids not deleted.
    pub async fn delete(&self, ids: &[String]) -> Result<Vec<String>, HttpError> {
        let numbers: Vec<Value> = ids
            .iter()
            .map(|i| i.parse::<u64>().map_or_else(|_| Value::from(i.as_str()), Value::from))
            .collect();
        let body = serde_json::json!({ "user_ids": numbers });
        let answer = self
            .client
            .send(reqwest::Method::DELETE, "/manage/v1/user/delete", Some(&body))
            .await?
            .json(PLATFORM, "/manage/v1/user/delete")?;
        let deleted = ids_in(&answer, "deleted_user_ids");
        Ok(ids.iter().filter(|i| !deleted.contains(i)).cloned().collect())
    }
}

impl Docebo {
    /// One user as the platform has them now (`GET /manage/v1/user/{id}`,
    /// the user under `data`); `None` when it answers 404.
    pub async fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        let path = format!("/manage/v1/user/{id}");
        match self.client.get_json(&path).await {
            Ok(answer) => {
                let u = answer.get("data").unwrap_or(&answer);
                normalize(u, &self.source, self.zone, false)
                    .map(Some)
                    .map_err(|detail| HttpError::Shape {
                        platform: PLATFORM,
                        endpoint: path,
                        detail,
                    })
            }
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The ids listed under `key` in every entry of `data`.
fn ids_in(answer: &Value, key: &str) -> Vec<String> {
    let entries = match answer.get("data") {
        Some(Value::Array(a)) => a.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    entries
        .iter()
        .filter_map(|e| e.get(key).and_then(Value::as_array))
        .flatten()
        .filter_map(|v| match v {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A Docebo date: `YYYY-MM-DD HH:MM:SS` in the platform's zone (RFC 3339
/// with an offset is taken as it is).
pub fn date(text: &str, zone: chrono_tz::Tz) -> Option<Time> {
    if let Some(t) = crate::time::parse_time(text).filter(|_| text.contains('T')) {
        return Some(t);
    }
    let naive = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .ok()?;
    // In the hour a clock goes back, the earlier of the two instants.
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}

pub fn normalize(u: &Value, source: &str, zone: chrono_tz::Tz, pending: bool) -> Result<User, String> {
    let id = super::shape::id(u, &["user_id", "id"])?;
    let text = |k: &str| super::shape::text(u, k);
    let time = |k: &str| -> Result<Known<Time>, String> {
        match u.get(k) {
            None => Ok(Known::Unknown),
            Some(Value::Null) => Ok(Known::Never),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(Known::Never),
            Some(Value::String(s)) => date(s, zone)
                .map(Known::Value)
                .ok_or_else(|| format!("user `{id}`: `{k}` is not a date: `{s}`")),
            Some(other) => Err(format!("user `{id}`: `{k}` is not a date: {other}")),
        }
    };
    let level = text("level");
    let status = if pending {
        Some(Status::Invited)
    } else {
        match u.get("status") {
            Some(Value::String(s)) if s.trim() == "1" => Some(Status::Active),
            Some(Value::String(s)) if s.trim() == "0" => Some(Status::Disabled),
            Some(Value::Number(n)) if n.as_u64() == Some(1) => Some(Status::Active),
            Some(Value::Number(n)) if n.as_u64() == Some(0) => Some(Status::Disabled),
            _ => None,
        }
    };
    let mut role: Set = Set::new();
    if let Some(l) = level {
        role.push(l.into());
    }
    if let Some(r) = text("role_title") {
        role.push(r.into());
    }
    let joined = match time("creation_date")? {
        Known::Value(t) => Some(t),
        _ => time("request_on")?.value(),
    };
    Ok(User {
        id: id.as_str().into(),
        username: text("username").map(Into::into),
        email: text("email").map(Into::into),
        name: super::shape::full_name(u, "first_name", "last_name"),
        status,
        joined,
        // An invited user has not accepted yet: never logged in.
        last_login: if pending {
            Known::Never
        } else {
            time("last_access_date")?
        },
        role: (!role.is_empty()).then_some(role),
        is_admin: level.map(|l| matches!(l.to_ascii_lowercase().as_str(), "godadmin" | "superadmin")),
        source: Some(source.into()),
        // Unknown: no last activity, groups, permissions or service flag.
        ..User::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;

    #[test]
    fn zone_less_dates_in_the_platform_zone() {
        let rome: chrono_tz::Tz = "Europe/Rome".parse().unwrap();
        assert_eq!(date("2023-02-14 09:31:12", rome), parse_time("2023-02-14T08:31:12Z"));
        assert_eq!(date("2023-07-14 09:31:12", rome), parse_time("2023-07-14T07:31:12Z"));
        assert_eq!(
            date("2023-02-14 09:31:12", chrono_tz::Tz::UTC),
            parse_time("2023-02-14T09:31:12Z")
        );
        assert_eq!(
            date("2023-02-14T09:31:12+05:00", rome),
            parse_time("2023-02-14T04:31:12Z")
        );
        assert_eq!(date("soon", rome), None);
    }

    #[test]
    fn normalizes_the_documented_item() {
        let u = normalize(
            &serde_json::json!({"user_id": 13245, "username": "valentina.pat", "first_name": "Valentina", "last_name": "Pat",
                "email": "valentina@example.com", "level": "user", "status": "1",
                "last_access_date": "2023-02-14 09:31:12", "creation_date": "2021-06-01 12:00:00", "expiration_date": null}),
            "lms",
            chrono_tz::Tz::UTC,
            false,
        )
        .unwrap();
        assert_eq!(
            (u.id.as_str(), u.status, u.is_admin),
            ("13245", Some(Status::Active), Some(false))
        );
        assert_eq!(u.last_login.value(), parse_time("2023-02-14T09:31:12Z"));
        assert_eq!(u.joined, parse_time("2021-06-01T12:00:00Z"));
        let never = normalize(
            &serde_json::json!({"user_id": "9", "level": "godadmin", "status": "0", "last_access_date": null}),
            "l",
            chrono_tz::Tz::UTC,
            false,
        )
        .unwrap();
        assert_eq!(
            (never.last_login, never.is_admin, never.status),
            (Known::Never, Some(true), Some(Status::Disabled))
        );
        let invited = normalize(
            &serde_json::json!({"user_id": 77, "email": "x@y.z", "request_on": "2026-01-01 00:00:00"}),
            "l",
            chrono_tz::Tz::UTC,
            true,
        )
        .unwrap();
        assert_eq!(
            (invited.status, invited.last_login),
            (Some(Status::Invited), Known::Never)
        );
    }
}
