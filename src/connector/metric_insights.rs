//! Metric Insights (CONNECTORS.md section 3): a token from
//! `POST /api/get_token/` (or a personal Bearer token), users from
//! `GET /api/user`, groups from the group and membership lists, deactivation
//! by `enabled: "N"`, deletion by `DELETE /api/user/id/{id}`.
//!
//! Assumptions where the sources are silent (CONNECTORS.md sections 3 and
//! 9), kept here in one place:
//! - `/api/user` is not paginated; ids are text, booleans `"Y"`/`"N"`;
//! - a token lasts about 15 minutes: it is renewed after 13 and a half,
//!   and whenever an answer is 412 "Session expired" (or 401);
//! - `PUT /api/user/id/{id}` with `{"enabled": "N"}` deactivates (inferred:
//!   `enabled` is what creating a user takes), `"Y"` reactivates;
//! - DELETE answers 200 `{"status": "OK"}`; deleting the token's own user
//!   answers 400, so that user is never acted on;
//! - the user list has no last login and no creation date: both stay
//!   *unknown* unless an enrich file says.

use crate::config::Connector;
use crate::http::{Body, Client, HttpError, Secret, Settings, Token, TokenFuture, Tokens};
use crate::progress::Progress;
use crate::user::{Attr, Set, Status, User};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

pub const PLATFORM: &str = "Metric Insights";

/// How long a token lasts unless the platform's setting says otherwise.
const TOKEN_LIFE: Duration = Duration::from_secs(15 * 60);

pub const DEFAULTS: Settings = Settings {
    requests_per_second: 5.0,
    requests_per_day: None,
    concurrency: 2,
    // Deleting a user takes about a minute on the server.
    timeout: Duration::from_secs(180),
    retries: 4,
    backoff: Duration::from_millis(200),
    max_wait: Duration::from_secs(120),
};

/// Tokens of an External Application, acting as `user`.
struct AppTokens {
    application_id: String,
    key: Secret,
    user: String,
}

impl Tokens for AppTokens {
    fn secrets(&self) -> Vec<Secret> {
        vec![self.key.clone()]
    }

    fn acquire<'a>(&'a self, client: &'a Client) -> TokenFuture<'a> {
        Box::pin(async move {
            let body = serde_json::json!({
                "application_id": self.application_id,
                "application_key": self.key.expose(),
                "user": self.user,
            });
            let answer = client
                .send_unauthenticated(reqwest::Method::POST, "/get_token/", Some(Body::Json(&body)))
                .await?;
            let token = answer.json(PLATFORM, "/get_token/")?;
            let token = token
                .get("token")
                .and_then(Value::as_str)
                .ok_or_else(|| HttpError::Shape {
                    platform: PLATFORM,
                    endpoint: "/get_token/".into(),
                    detail: "no `token` in the answer".into(),
                })?
                .to_string();
            Ok(Token {
                header: "token",
                value: token.clone(),
                secret: Secret::new(token),
                lifetime: Some(TOKEN_LIFE),
            })
        })
    }

    fn expired(&self, status: u16) -> bool {
        matches!(status, 401 | 412)
    }
}

pub struct MetricInsights {
    client: Client,
    source: String,
    /// The user the External Application acts as: never acted on.
    me: Option<String>,
}

impl MetricInsights {
    pub fn connect(c: &Connector) -> Result<MetricInsights, String> {
        let personal = match c.secrets.get("token_env") {
            Some(var) => Some(Secret::from_env(var, "token_env", &c.name)?),
            None => None,
        };
        let app = match (
            c.settings.get("application_id"),
            c.secrets.get("application_key_env"),
            c.settings.get("user"),
        ) {
            (Some(id), Some(var), Some(user)) => Some((
                id.clone(),
                Secret::from_env(var, "application_key_env", &c.name)?,
                user.clone(),
            )),
            _ => None,
        };
        MetricInsights::with(c, personal, app)
    }

    /// A connection with a personal token, or an External Application's
    /// id, key and user.
    pub fn with(
        c: &Connector,
        personal: Option<Secret>,
        app: Option<(String, Secret, String)>,
    ) -> Result<MetricInsights, String> {
        let client = Client::new(PLATFORM, &format!("{}/api", c.url), Settings::new(DEFAULTS, &c.limits))?;
        let (client, me) = match (personal, app) {
            (Some(token), _) => {
                client.set_auth("authorization", &format!("Bearer {}", token.expose()), &token)?;
                (client, None)
            }
            (None, Some((application_id, key, user))) => (
                client.with_tokens(Box::new(AppTokens {
                    application_id,
                    key,
                    user: user.clone(),
                })),
                Some(user),
            ),
            (None, None) => {
                return Err(format!(
                    "connector `{}` (metric_insights) needs `token_env` (a personal API token), or `application_id`, `application_key_env` and `user` (an External Application)",
                    c.name
                ))
            }
        };
        Ok(MetricInsights {
            client,
            source: c.name.clone(),
            me,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether `username` is the user dormant acts as.
    pub fn is_me(&self, username: Option<&str>) -> bool {
        self.me.is_some() && self.me.as_deref() == username
    }

    pub async fn fetch(&self, progress: &Progress) -> Result<Vec<User>, HttpError> {
        let answer = self.client.get_json("/user").await?;
        let users = answer
            .get("users")
            .and_then(Value::as_array)
            .ok_or_else(|| HttpError::Shape {
                platform: PLATFORM,
                endpoint: "/user".into(),
                detail: "no `users` list".into(),
            })?;
        progress.set_total(users.len() as u64);
        // Groups: each group's members, by user id.
        let groups = self.client.get_json("/user_group").await?;
        let mut member_of: HashMap<String, Set> = HashMap::new();
        for g in groups
            .get("user_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(gid) = text(g, "id") else { continue };
            let path = format!("/user_group_member?group={gid}");
            let members = self.client.get_json(&path).await?;
            for m in members
                .get("user_group_members")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(uid) = text(m, "user") {
                    member_of.entry(uid).or_default().push(gid.as_str().into());
                }
            }
        }
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            let mut n = normalize(u, &self.source).map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: "/user".into(),
                detail,
            })?;
            n.group = Some(member_of.remove(n.id.as_str()).unwrap_or_default());
            if self.me.is_some() {
                n.is_service = Some(self.is_me(n.username.as_deref()));
            }
            out.push(n);
            progress.inc(1);
        }
        Ok(out)
    }

    pub async fn delete(&self, id: &str) -> Result<(), HttpError> {
        self.client
            .send(reqwest::Method::DELETE, &format!("/user/id/{id}"), None)
            .await
            .map(|_| ())
    }

    /// `enabled: "N"` to deactivate, `"Y"` to reactivate.
    pub async fn enable(&self, id: &str, enabled: bool) -> Result<(), HttpError> {
        let body = serde_json::json!({ "enabled": if enabled { "Y" } else { "N" } });
        self.client
            .send(reqwest::Method::PUT, &format!("/user/id/{id}"), Some(&body))
            .await
            .map(|_| ())
    }
}

impl MetricInsights {
    /// One user as the platform has them now (`GET /api/user/id/{id}`, the
    /// user under `user` or alone); `None` when it answers 404.
    pub async fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        let path = format!("/user/id/{id}");
        match self.client.get_json(&path).await {
            Ok(answer) => {
                let u = answer.get("user").unwrap_or(&answer);
                normalize(u, &self.source).map(Some).map_err(|detail| HttpError::Shape {
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

/// Text, or a number written as text (ids come both ways).
fn text(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `"Y"`/`"N"` (or a real bool).
fn yes(v: &Value, k: &str) -> Option<bool> {
    match v.get(k)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_uppercase().as_str() {
            "Y" | "YES" | "1" | "TRUE" => Some(true),
            "N" | "NO" | "0" | "FALSE" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

pub fn normalize(u: &Value, source: &str) -> Result<User, String> {
    let id = super::shape::id(u, &["id"])?;
    let kind = text(u, "type");
    let ldap = yes(u, "ldap");
    let mut role: Set = Set::new();
    if let Some(k) = &kind {
        role.push(k.as_str().into());
    }
    if ldap == Some(true) {
        role.push("ldap".into());
    }
    let mut attr = Vec::new();
    if let Some(l) = ldap {
        attr.push(("ldap".into(), Attr::Bool(l)));
    }
    Ok(User {
        id: id.as_str().into(),
        username: text(u, "username").map(Into::into),
        email: text(u, "email").map(Into::into),
        name: super::shape::full_name(u, "first_name", "last_name"),
        status: yes(u, "enabled").map(|e| if e { Status::Active } else { Status::Disabled }),
        role: kind.is_some().then_some(role),
        is_admin: kind.map(|k| k.eq_ignore_ascii_case("administrator")),
        source: Some(source.into()),
        attr,
        // Unknown: no creation date, last login (an enrich file may say) or
        // activity in `/api/user`.
        ..User::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Known;

    #[test]
    fn normalizes_the_documented_user() {
        let u = normalize(
            &serde_json::json!({"id": "118", "username": "robert", "first_name": "Robert", "last_name": "Isaenko",
                "type": "administrator", "email": "robert@example.com", "enabled": "Y", "ldap": "N"}),
            "mi",
        )
        .unwrap();
        assert_eq!(
            (u.id.as_str(), u.is_admin, u.status),
            ("118", Some(true), Some(Status::Active))
        );
        assert_eq!(u.role.unwrap().as_slice(), ["administrator"]);
        assert_eq!(u.last_login, Known::Unknown);
        let l = normalize(
            &serde_json::json!({"id": 7, "type": "regular", "enabled": "N", "ldap": "Y"}),
            "mi",
        )
        .unwrap();
        assert_eq!(
            (l.id.as_str(), l.is_admin, l.status),
            ("7", Some(false), Some(Status::Disabled))
        );
        assert_eq!(l.role.unwrap().as_slice(), ["regular", "ldap"]);
    }
}
