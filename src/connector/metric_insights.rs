//! Metric Insights (CONNECTORS.md section 3 and its corrections): a token
//! from `POST /api/get_token/` (or a personal Bearer token), users from
//! `GET /api/user`, groups from the group and membership lists, deactivation
//! by `enabled: "N"`, deletion by `DELETE /api/user/id/{id}`.
//!
//! What this connector takes Metric Insights to do, each fact beside its
//! source, in one place. [S: …] is the vendor's own word (PTG is
//! metricinsights/playwright-testing-guide, the vendor's API tests); [I] is
//! inferred (CONNECTORS.md section 9), to be checked against a live instance.
//! - Every request, the token request included, carries
//!   `Accept: application/json` and `Content-Type: application/json`
//!   [S: PTG tests/auth/auth.ts and tests/users/user.ts `apiInstance`;
//!   .cursor/rules/api.mdc "Headers"; help.metricinsights.com/m/API_Access/l/1935643].
//!   Nothing says what the server does without them: they are simply sent.
//! - An External Application's token: `POST /api/get_token/` with
//!   `application_id`, `application_key` and `user` answers
//!   `{"token", "expires"}`; the token goes in the `Token` header and acts
//!   as `user` [S: PTG tests/auth/auth.ts `getToken`; api.mdc]. The
//!   application needs "Application Can Manage Users"
//!   [S: help.metricinsights.com/a/178945].
//! - A token lives `API_TOKEN_LIFE_TIME`, a server setting, about 15 minutes
//!   by default [S: kb.metricinsights.com/m/44498/l/1155359]: its life is read
//!   from `expires`, not assumed (`token_life`).
//! - `expires` is `YYYY-MM-DD HH:MM:SS` with no zone [I: section 9; PTG types
//!   it as a string], read as UTC [I] and measured against the server's own
//!   clock (the token answer's `Date` header), so a skewed clock here does
//!   not matter. When `expires` is absent, unreadable, or already past by
//!   the server's clock (a server writing its local time west of UTC),
//!   the token is taken to last 10 minutes. A server writing local time
//!   east of UTC makes the life read too long: the token then ends early,
//!   the next answer is 412, and it is renewed then.
//! - An expired token answers 412 `{"status": "ERROR", "message": "Session
//!   expired"}`, no token 401 `{"message": "Unauthorized"}`
//!   [S: PTG tests/error-handling/session-errors.spec.ts]: both renew the
//!   token once and send the request again (refused, it did nothing).
//! - A personal token (v7.1+) goes as `Authorization: Bearer` and acts as
//!   the user it was made for [S: help.metricinsights.com/m/API_Access/l/1935643];
//!   nothing in the API says who that is [?], so the `user` key names them.
//!   Either way, the user the token acts as is never acted on (deleting
//!   oneself answers 400 [I]).
//! - `GET /api/user` answers `{"users": [{"id", "username", "first_name",
//!   "last_name", "type", "email", "enabled", "ldap"}]}`, ids as text,
//!   booleans `"Y"`/`"N"` [S: api.mdc example; PTG tests/users/user.ts
//!   `User`]; not paginated [I]. No last login and no creation date [?]:
//!   both stay *unknown* unless an enrich file says.
//! - Groups: `GET /api/user_group` → `{"user_groups": [{"id", "name", …}]}`
//!   (`name` the display name: `group_name`), members
//!   `GET /api/user_group_member?group=ID` → `{"user_group_members":
//!   [{"id", "user", "group"}]}` [S: api.mdc]; `user` is the user's id [I].
//! - One user: `GET /api/user/id/{id}` [S: PTG
//!   tests/error-handling/response-errors.ts `allGet`], the user under
//!   `user` as creating one answers [S: PTG tests/users/user.ts
//!   `ApiResponse`; I for this call], 404 once gone [I].
//! - Deactivate: `PUT /api/user/id/{id}` [S: response-errors.ts `allPut`]
//!   with `{"enabled": "N"}`, `"Y"` to reactivate [I: `enabled: 'Y'` is what
//!   creating a user takes, PTG tests/users/user.ts]. The answer is taken
//!   to carry the user under `user`, as creating one does [I]: when it
//!   shows the new state, that confirms it; otherwise the user is read back.
//! - Delete: `DELETE /api/user/id/{id}` [S: PTG tests/users/user.ts
//!   `deleteUser`] answers 200 `{"status": "OK"}` [I], which names that one
//!   user as deleted; permanent [I]; about a minute each on the server
//!   [S: kb 1155359].
//! - A deadlock answers an error whose message has "Deadlock found when
//!   trying to get lock" [S: PTG tests/users/user.ts `retryCreateUser`]: a
//!   5xx is retried by the HTTP layer.

use super::platform::{Key, Keys, Own, RuleCheck, Supply, Table, TwoSteps};
use super::{Acted, Connection, Connector, Error, Fetched, Platform, Unreadable, Warning};
use crate::decision::PlanAction;
use crate::diagnostic::Diag;
use crate::fields::Field;
use crate::http::Limits;
use crate::http::{Body, Client, HttpError, Secret, Settings, Token, TokenFuture, Tokens};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Attr, Set, Status, User};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const PLATFORM: &str = "Metric Insights";

/// What every request sends [S: PTG tests/auth/auth.ts `apiInstance`].
const HEADERS: [(&str, &str); 2] = [("accept", "application/json"), ("content-type", "application/json")];

/// How long a token is taken to last when `expires` cannot say: less than
/// the documented default of about 15 minutes.
const FALLBACK_LIFE: Duration = Duration::from_secs(10 * 60);

/// How much sooner than `expires` a token is given up, at most: `expires`
/// is to the second, and a request may wait for a free slot before it goes.
/// (The HTTP layer renews at nine tenths of what is left after it.)
const MARGIN: Duration = Duration::from_secs(60);

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

/// How long a token lasts: from `expires` (the token answer's), measured
/// against `date` (the answer's `Date` header, the server's clock) or, when
/// the answer has none, `now`; less a margin. `FALLBACK_LIFE` when `expires`
/// is absent, unreadable or not in the future.
pub fn token_life(expires: Option<&str>, date: Option<&str>, now: Time) -> Duration {
    let server_now = date
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
        .map_or(now, |d| d.with_timezone(&chrono::Utc));
    let left = expires
        .and_then(read_expires)
        .and_then(|at| (at - server_now).to_std().ok())
        .filter(|left| !left.is_zero());
    match left {
        Some(left) => left.saturating_sub(MARGIN.min(left / 2)),
        None => FALLBACK_LIFE,
    }
}

/// `YYYY-MM-DD HH:MM:SS` (fractions allowed) as UTC, or RFC 3339 with its offset.
fn read_expires(text: &str) -> Option<Time> {
    let text = text.trim();
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
        .or_else(|| crate::time::parse_time(text))
}

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
            let json = answer.json(PLATFORM, "/get_token/")?;
            let token = json
                .get("token")
                .and_then(Value::as_str)
                .ok_or_else(|| HttpError::Shape {
                    platform: PLATFORM,
                    endpoint: "/get_token/".into(),
                    detail: "no `token` in the answer".into(),
                })?
                .to_string();
            let expires = json.get("expires").and_then(Value::as_str);
            Ok(Token {
                header: "token",
                value: token.clone(),
                secret: Secret::new(token),
                lifetime: Some(token_life(expires, answer.date.as_deref(), chrono::Utc::now())),
            })
        })
    }

    fn expired(&self, status: u16) -> bool {
        matches!(status, 401 | 412)
    }
}

/// A `metric_insights` connector's own keys: a personal token
/// (`token_env`, its owner named by `user`), or an External Application
/// (`application_id`, `application_key_env` and the `user` it acts as).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricInsightsKeys {
    pub application_id: Option<String>,
    /// The variable holding the application's key.
    pub application_key_env: Option<String>,
    pub user: Option<String>,
    /// The variable holding a personal token.
    pub token_env: Option<String>,
}

pub struct MetricInsights {
    client: Client,
    source: String,
    /// The user the token acts as (the External Application's `user`, or a
    /// personal token's owner named by `user`): never acted on.
    me: Option<String>,
    /// Whether apply was told that a personal token's owner is unknown.
    warned: AtomicBool,
}

impl MetricInsights {
    pub fn connect(c: &Connector) -> Result<MetricInsights, Error> {
        let own = c.own::<MetricInsightsKeys>();
        let personal = match &own.token_env {
            Some(var) => Some(Secret::from_env(var, "token_env", &c.name)?),
            None => None,
        };
        let app = match (&own.application_id, &own.application_key_env, &own.user) {
            (Some(id), Some(var), Some(user)) if personal.is_none() => Some((
                id.clone(),
                Secret::from_env(var, "application_key_env", &c.name)?,
                user.clone(),
            )),
            _ => None,
        };
        MetricInsights::with(c, personal, app)
    }

    /// A connection with a personal token (whose owner the connector's
    /// `user` names, if it does), or an External Application's id, key and
    /// user.
    pub fn with(
        c: &Connector,
        personal: Option<Secret>,
        app: Option<(String, Secret, String)>,
    ) -> Result<MetricInsights, Error> {
        let client = Client::new(PLATFORM, &format!("{}/api", c.url), Settings::new(DEFAULTS, &c.limits))?
            .with_headers(&HEADERS);
        let (client, me) = match (personal, app) {
            (Some(token), _) => {
                client.set_auth("authorization", &format!("Bearer {}", token.expose()), &token)?;
                let me = c
                    .own::<MetricInsightsKeys>()
                    .user
                    .as_deref()
                    .map(|u| u.trim().to_string());
                (client, me)
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
                return Err(Error::NoCredentials {
                    connector: c.name.clone(),
                })
            }
        };
        Ok(MetricInsights {
            client,
            source: c.name.clone(),
            me,
            warned: AtomicBool::new(false),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether `u` is the user the token acts as.
    pub fn is_me(&self, u: &User) -> bool {
        super::shape::is_named(self.me.as_deref(), u)
    }

    /// The first time only: why apply cannot protect the token's own user.
    pub fn unnamed_token(&self, connector: &str) -> Option<Warning> {
        (self.me.is_none() && !self.warned.swap(true, Ordering::Relaxed)).then(|| {
            Warning::new(
                "dormant::connector::key_owner_unknown",
                format!(
                    "connector `{connector}` has a personal token and no `user`: Metric Insights does not say whose the token is, so dormant cannot keep its owner's account out of this apply; name the owner's username in `user`"
                ),
            )
        })
    }

    pub async fn fetch(&self, progress: &Progress) -> Result<Fetched, HttpError> {
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
        // Groups: each group's members, by user id; with the group's names,
        // which the group list carries.
        let groups = self.client.get_json("/user_group").await?;
        let mut member_of: HashMap<String, Set> = HashMap::new();
        let mut named: HashMap<String, Set> = HashMap::new();
        for g in groups
            .get("user_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(gid) = text(g, "id") else { continue };
            let name = text(g, "name");
            let path = format!("/user_group_member?group={gid}");
            let members = self.client.get_json(&path).await?;
            for m in members
                .get("user_group_members")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(uid) = text(m, "user") {
                    if let Some(name) = &name {
                        named.entry(uid.clone()).or_default().push(name.as_str().into());
                    }
                    member_of.entry(uid).or_default().push(gid.as_str().into());
                }
            }
        }
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            let mut n = normalize(u, &self.source).map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: "/user".into(),
                detail: detail.to_string(),
            })?;
            n.group = Some(member_of.remove(n.id.as_str()).unwrap_or_default());
            n.group_name = Some(named.remove(n.id.as_str()).unwrap_or_default());
            out.push(n);
            progress.inc(1);
        }
        let owner = super::shape::mark_owner(self.me.as_deref(), &mut out, &self.source);
        Ok(Fetched {
            users: out,
            warnings: owner.into_iter().collect(),
        })
    }

    pub async fn delete(&self, id: &str) -> Result<(), HttpError> {
        self.client
            .send(reqwest::Method::DELETE, &format!("/user/id/{id}"), None)
            .await
            .map(|_| ())
    }

    /// `enabled: "N"` to deactivate, `"Y"` to reactivate: the user as the
    /// answer shows them afterwards, when it does.
    pub async fn enable(&self, id: &str, enabled: bool) -> Result<Option<User>, HttpError> {
        let path = format!("/user/id/{id}");
        let body = serde_json::json!({ "enabled": if enabled { "Y" } else { "N" } });
        let answer = self.client.send(reqwest::Method::PUT, &path, Some(&body)).await?;
        // Whatever the answer holds, the request went through: a body that
        // is not a user only means a read must confirm it.
        Ok(answer.json(PLATFORM, &path).ok().and_then(|a| self.user_in(&a, id)))
    }

    /// The user `id` in an answer: under `user`, or the answer itself.
    fn user_in(&self, answer: &Value, id: &str) -> Option<User> {
        let u = answer.get("user").unwrap_or(answer);
        normalize(u, &self.source).ok().filter(|u| u.id.as_str() == id)
    }
}

impl MetricInsights {
    /// One user as the platform has them now (`GET /api/user/id/{id}`, the
    /// user under `user` or alone); `None` when it answers 404.
    pub async fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        let path = format!("/user/id/{id}");
        let Some(answer) = self.client.get_json_if_there(&path).await? else {
            return Ok(None);
        };
        let u = answer.get("user").unwrap_or(&answer);
        normalize(u, &self.source).map(Some).map_err(|detail| HttpError::Shape {
            platform: PLATFORM,
            endpoint: path,
            detail: detail.to_string(),
        })
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

pub fn normalize(u: &Value, source: &str) -> Result<User, Unreadable> {
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

/// Metric Insights in `dormant.toml`: `kind = "metric_insights"`.
pub struct MetricInsightsPlatform;

impl Platform for MetricInsightsPlatform {
    fn kind(&self) -> &'static str {
        "metric_insights"
    }

    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn keys(&self) -> Keys {
        const KEYS: Keys = Keys {
            required: &["url"],
            own: &[
                Key::text("application_id"),
                Key::text("application_key_env"),
                Key::text("user"),
                Key::text("token_env"),
            ],
            retired: &[],
            limits: true,
        };
        KEYS
    }

    fn configure(&self, _c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        Ok(Own::new(table.own::<MetricInsightsKeys>()?))
    }

    fn revokes(&self) -> bool {
        false
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Ok(Box::new(MetricInsights::connect(c)?))
    }

    fn acts(&self) -> bool {
        true
    }

    fn attrs(&self) -> &'static [&'static str] {
        &["ldap"]
    }

    fn supplies(&self, c: &Connector, field: &Field, _own: &dyn Fn(&Field) -> bool) -> Supply {
        match field {
            // The token's own user is the one service account, known only
            // when `user` names it.
            Field::IsService if c.own::<MetricInsightsKeys>().user.is_some() => Supply::Supplied,
            Field::IsService => Supply::Never(
                "Metric Insights does not say whose a personal token is: without `user` naming its owner, dormant cannot know".to_string(),
            ),
            Field::LastLogin | Field::LastActivity | Field::Joined => {
                Supply::Never(format!("Metric Insights' user list has no `{field}`"))
            }
            Field::Permission => Supply::Never("Metric Insights' user list has no permissions".to_string()),
            _ => Supply::Usual,
        }
    }

    fn check_rule(&self, _c: &Connector, _rule: &RuleCheck<'_>) -> Vec<Diag> {
        Vec::new()
    }
}

impl MetricInsights {
    /// One user's request.
    async fn act_on(&self, action: PlanAction, u: &User) -> Acted {
        if self.is_me(u) {
            return Acted::Skipped("the user dormant's token acts as (`user`)".into());
        }
        match action {
            // The answer's body is inferred (CONNECTORS.md section 9): the
            // user, read back, must be gone.
            PlanAction::Delete => Acted::of(self.delete(&u.id).await),
            // The answer's user, when it shows them disabled, confirms it;
            // otherwise they are read back.
            PlanAction::Deactivate => match self.enable(&u.id, false).await {
                Ok(Some(after)) if super::shows_done(false, action, Some(&after)) => Acted::Done,
                Ok(_) => Acted::Accepted,
                Err(e) => Acted::error(e),
            },
            other => Acted::Failed(format!("Metric Insights cannot {}", other.as_str())),
        }
    }

    /// Confirmed by the answer's user, or else by reading them back.
    async fn enable_again(&self, id: &str) -> Acted {
        let active = |u: &User| u.status == Some(Status::Active);
        match self.enable(id, true).await {
            Ok(Some(after)) if active(&after) => Acted::Done,
            Ok(_) => match MetricInsights::read(self, id).await {
                Ok(Some(now)) if active(&now) => Acted::Done,
                Ok(_) => Acted::Unconfirmed(
                    "Metric Insights accepted the request, but the user read back afterwards is not enabled".into(),
                ),
                Err(e) => Acted::Unconfirmed(format!(
                    "Metric Insights accepted the request, and reading the user back failed: {e}"
                )),
            },
            Err(e) => Acted::error(e),
        }
    }
}

impl Connection for MetricInsights {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn client(&self) -> &Client {
        &self.client
    }

    /// Deleting takes about a minute each on the server: a batch is sent at
    /// once, as many at a time as `concurrency` allows.
    fn batch(&self, limits: &Limits) -> usize {
        usize::try_from(limits.concurrency.unwrap_or(DEFAULTS.concurrency as u64))
            .unwrap_or(1)
            .max(1)
    }

    fn fetch<'a>(&'a self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Fetched, HttpError>> {
        Box::pin(MetricInsights::fetch(self, progress))
    }

    fn acting_warning(&self, connector: &str) -> Option<Warning> {
        self.unnamed_token(connector)
    }

    fn read<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>> {
        Box::pin(MetricInsights::read(self, id))
    }

    fn send<'a>(
        &'a self,
        action: PlanAction,
        users: &'a [User],
        _connector: &'a str,
    ) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(futures_util::future::join_all(
            users.iter().map(move |u| self.act_on(action, u)),
        ))
    }

    fn two_steps(&self, _action: PlanAction) -> Option<TwoSteps> {
        None
    }

    fn reactivate<'a>(&'a self, ids: &'a [String], _before: &'a [Option<Value>]) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(async move {
            let mut acted = Vec::with_capacity(ids.len());
            for id in ids {
                acted.push(self.enable_again(id).await);
            }
            acted
        })
    }

    fn deletion(&self, _at: Option<Time>, _now: Time) -> (bool, String) {
        (
            false,
            "deleted on Metric Insights, which keeps no deleted users: cannot be undone".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Known;

    fn at(text: &str) -> Time {
        crate::time::parse_time(text).unwrap()
    }

    #[test]
    fn a_token_lasts_until_its_expires_by_the_servers_clock() {
        let date = Some("Mon, 23 Nov 2026 10:00:00 GMT");
        let life = |expires: Option<&str>, date: Option<&str>, now: &str| token_life(expires, date, at(now)).as_secs();
        // 15 minutes by the server's clock, less the margin, whatever the
        // clock here says.
        for here in ["2026-11-23T10:00:00Z", "2026-11-23T11:30:00Z", "2026-11-22T23:00:00Z"] {
            assert_eq!(life(Some("2026-11-23 10:15:00"), date, here), 14 * 60, "{here}");
        }
        // The server's own setting, say two hours.
        assert_eq!(
            life(Some("2026-11-23 12:00:00"), date, "2026-11-23T10:00:00Z"),
            119 * 60
        );
        // No `Date`: against the clock here.
        assert_eq!(life(Some("2026-11-23 10:15:00"), None, "2026-11-23T10:05:00Z"), 9 * 60);
        // A short life keeps half of it.
        assert_eq!(life(Some("2026-11-23 10:01:00"), date, "2026-11-23T10:00:00Z"), 30);
        // An offset, when there is one, is honoured; fractions are read.
        assert_eq!(
            life(Some("2026-11-23T12:15:00+02:00"), date, "2026-11-23T10:00:00Z"),
            14 * 60
        );
        assert_eq!(
            life(Some("2026-11-23 10:15:00.5"), date, "2026-11-23T10:00:00Z"),
            14 * 60
        );
        // Absent, unreadable, or already past by the server's clock (a zone
        // west of UTC): the fallback.
        for expires in [
            None,
            Some("soon"),
            Some("2026-11-23 05:15:00"),
            Some("2026-11-23 10:00:00"),
        ] {
            assert_eq!(
                life(expires, date, "2026-11-23T10:00:00Z"),
                FALLBACK_LIFE.as_secs(),
                "{expires:?}"
            );
        }
        // A `Date` that cannot be read: the clock here.
        assert_eq!(
            life(Some("2026-11-23 10:15:00"), Some("yesterday"), "2026-11-23T10:05:00Z"),
            9 * 60
        );
    }

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
