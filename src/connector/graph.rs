//! Microsoft Graph (Entra ID), an identity provider: its users and their
//! last sign-ins, read for other connectors' `logins_from`
//! (`connector::logins`), or fetched alone to check what it holds. Dormant
//! does not act on Entra ID users.
//!
//! What this connector takes Graph to do, each fact beside its source
//! (CONNECTORS.md section 6.4). [S: …] is the vendor's own word; [I] is
//! inferred.
//! - A token by the client credentials grant: `POST
//!   {login_url}/{tenant}/oauth2/v2.0/token` with `client_id`,
//!   `client_secret`, `scope=https://graph.microsoft.com/.default`,
//!   `grant_type=client_credentials`; it answers `access_token` and
//!   `expires_in` [S: learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow].
//!   `login_url` is https://login.microsoftonline.com unless set (a
//!   national cloud, or a test).
//! - `GET /v1.0/users?$select=…,signInActivity&$top=N` lists users; the
//!   next page is the full address in `@odata.nextLink`, absent on the last
//!   [S: learn.microsoft.com/graph/api/user-list; learn.microsoft.com/graph/paging].
//!   With `signInActivity` selected a page holds at most 120 users [S:
//!   user-list, "Optional query parameters"]. The link is followed only
//!   under the connector's `url`.
//! - Throttled requests answer 429 with `Retry-After` [S:
//!   learn.microsoft.com/graph/throttling] (`crate::http` waits for it).
//! - `signInActivity.lastSignInDateTime` (interactive) and
//!   `lastNonInteractiveSignInDateTime`: the last login is the later of the
//!   two [S: learn.microsoft.com/graph/api/resources/signinactivity]. Sign-ins
//!   are recorded only since April 2020 and need an Entra ID P1 or P2
//!   tenant, so a user without `signInActivity` (or with neither time) may
//!   have signed in before: *unknown*, never *never* [I].
//! - Reading `signInActivity` needs the `AuditLog.Read.All` and
//!   `User.Read.All` application permissions [S: user-list, "Permissions"].

use super::platform::{Key, KeyType, Keys, Own, RuleCheck, Supply, Table};
use super::{Connection, Connector, Error, Fetched, Platform, Unreadable};
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use crate::http::{Body, Client, HttpError, Secret, Settings, Token, TokenFuture, Tokens};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Known, Status, User};
use serde_json::Value;
use std::time::Duration;

pub const PLATFORM: &str = "Microsoft Graph";

/// Where Graph is, unless `url` says.
pub const GRAPH_URL: &str = "https://graph.microsoft.com";

/// Where tokens come from, unless `login_url` says.
pub const LOGIN_URL: &str = "https://login.microsoftonline.com";

/// Users asked for a page unless `page_size` says: the most Graph gives
/// with `signInActivity` selected.
pub const PAGE: u64 = 120;

/// What each user is read with.
const SELECT: &str = "id,userPrincipalName,mail,displayName,accountEnabled,createdDateTime,signInActivity";

pub const DEFAULTS: Settings = Settings {
    requests_per_second: 5.0,
    requests_per_day: None,
    concurrency: 1,
    timeout: Duration::from_secs(30),
    retries: 5,
    backoff: Duration::from_millis(200),
    max_wait: Duration::from_secs(120),
};

/// A `graph` connector's own keys.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphKeys {
    /// The directory (tenant) id or domain.
    pub tenant: String,
    pub client_id: String,
    /// The variable holding the client secret.
    pub client_secret_env: String,
    /// Where tokens come from.
    pub login_url: Option<String>,
    /// Users asked for a page.
    pub page_size: Option<u64>,
}

/// Client-credentials tokens from the Microsoft identity platform.
struct Credentials {
    login: Client,
    path: String,
    client_id: String,
    secret: Secret,
}

impl Tokens for Credentials {
    fn secrets(&self) -> Vec<Secret> {
        vec![self.secret.clone()]
    }

    fn acquire<'a>(&'a self, _client: &'a Client) -> TokenFuture<'a> {
        Box::pin(async move {
            let form = [
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.secret.expose()),
                ("scope", "https://graph.microsoft.com/.default"),
                ("grant_type", "client_credentials"),
            ];
            let answer = self
                .login
                .send_unauthenticated(reqwest::Method::POST, &self.path, Some(Body::Form(&form)))
                .await?;
            let v = answer.json(PLATFORM, &self.path)?;
            let token = v
                .get("access_token")
                .and_then(Value::as_str)
                .ok_or_else(|| shape(&self.path, "no `access_token` in the answer".into()))?
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

/// A connection to Graph's users.
pub struct Graph {
    client: Client,
    source: String,
    page: u64,
}

impl Graph {
    pub fn connect(c: &Connector) -> Result<Graph, Error> {
        let keys = c.own::<GraphKeys>();
        let secret = Secret::from_env(&keys.client_secret_env, "client_secret_env", &c.name)?;
        let settings = Settings::new(DEFAULTS, &c.limits);
        let login_url = keys.login_url.as_deref().unwrap_or(LOGIN_URL);
        let credentials = Credentials {
            login: Client::new(PLATFORM, login_url, settings)?,
            path: format!("/{}/oauth2/v2.0/token", keys.tenant),
            client_id: keys.client_id.clone(),
            secret,
        };
        let client = Client::new(PLATFORM, &c.url, settings)?
            .with_headers(&[("accept", "application/json")])
            .with_tokens(Box::new(credentials));
        Ok(Graph {
            client,
            source: c.name.clone(),
            page: keys.page_size.unwrap_or(PAGE).clamp(1, PAGE),
        })
    }

    /// Every user, page by page along `@odata.nextLink`.
    pub async fn fetch(&self, progress: &Progress) -> Result<Fetched, HttpError> {
        let mut path = format!("/v1.0/users?$select={SELECT}&$top={}", self.page);
        let mut users = Vec::new();
        for _ in 0..super::MAX_PAGES {
            let page = self.client.get_json(&path).await?;
            let items = page
                .get("value")
                .and_then(Value::as_array)
                .ok_or_else(|| shape(&path, "no `value` list".into()))?;
            for u in items {
                users.push(normalize(u, &self.source).map_err(|e| shape(&path, e.to_string()))?);
            }
            progress.inc(items.len() as u64);
            let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) else {
                return Ok(Fetched::new(users));
            };
            path = self
                .client
                .path_of(next)
                .ok_or_else(|| shape(&path, format!("the next page is elsewhere ({next}): not followed")))?
                .to_string();
        }
        Err(shape("/v1.0/users", "the list goes on past any sane length".into()))
    }
}

fn shape(endpoint: &str, detail: String) -> HttpError {
    HttpError::Shape {
        platform: PLATFORM,
        endpoint: endpoint.to_string(),
        detail,
    }
}

/// One Graph user as a dormant user (SPEC section 2).
pub fn normalize(u: &Value, source: &str) -> Result<User, Unreadable> {
    let id = super::shape::id(u, &["id"])?;
    let time = |v: &Value, k: &str| -> Result<Option<Time>, Unreadable> {
        match super::shape::text(v, k) {
            None => Ok(None),
            Some(s) => crate::time::parse_time(s)
                .map(Some)
                .ok_or_else(|| Unreadable::not_a_time(&id, k, s)),
        }
    };
    let activity = u.get("signInActivity").unwrap_or(&Value::Null);
    let interactive = time(activity, "lastSignInDateTime")?;
    let other = time(activity, "lastNonInteractiveSignInDateTime")?;
    // Neither: not recorded, which is not "never signed in".
    let last_login = interactive.max(other).map_or(Known::Unknown, Known::Value);
    Ok(User {
        id: id.as_str().into(),
        username: super::shape::text(u, "userPrincipalName").map(Into::into),
        email: super::shape::text(u, "mail").map(Into::into),
        name: super::shape::text(u, "displayName").map(Into::into),
        status: u.get("accountEnabled").and_then(Value::as_bool).map(|on| match on {
            true => Status::Active,
            false => Status::Disabled,
        }),
        joined: time(u, "createdDateTime")?,
        last_login,
        source: Some(source.into()),
        // Unknown: the user list has no activity, groups, roles or admin
        // and service flags.
        ..User::default()
    })
}

/// Microsoft Graph in `dormant.toml`: `kind = "graph"`.
pub struct GraphPlatform;

impl Platform for GraphPlatform {
    fn kind(&self) -> &'static str {
        "graph"
    }

    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn keys(&self) -> Keys {
        // `url`: Graph's address; `login_url`: where tokens come from.
        const KEYS: Keys = Keys {
            required: &["tenant", "client_id", "client_secret_env"],
            own: &[
                Key::text("url"),
                Key::text("login_url"),
                Key::new("page_size", KeyType::Count),
            ],
            retired: &[],
            limits: true,
        };
        KEYS
    }

    fn revokes(&self) -> bool {
        false
    }

    fn configure(&self, c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        if let Some((size, at)) = table.count("page_size").filter(|(s, _)| !(1..=PAGE).contains(s)) {
            return Err(
                Diag::error(Code::Config, at, format!("`page_size` must be between 1 and {PAGE}"))
                    .label("here")
                    .help(format!(
                        "Graph lists at most {PAGE} users a page with their sign-ins ({size} asked)"
                    )),
            );
        }
        if let Some((tenant, at)) = table
            .text("tenant")
            .filter(|(t, _)| t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')))
        {
            return Err(Diag::error(Code::Config, at, format!("`{tenant}` is not a tenant"))
                .label("here")
                .help("write the directory (tenant) id, or its domain (contoso.onmicrosoft.com)"));
        }
        let mut own = table.own::<GraphKeys>()?;
        if let Some((login, at)) = table.text("login_url") {
            own.login_url = Some(super::platform::check_url(login, at)?);
        }
        // `url` (checked by config) takes its place when written.
        c.url = GRAPH_URL.to_string();
        c.limits.page_size = own.page_size;
        Ok(Own::new(own))
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Err(super::platform::cannot_act(c))
    }

    fn fetch(&self, c: &Connector, progress: &Progress) -> Result<Fetched, Error> {
        let graph = Graph::connect(c)?;
        let fetched = crate::http::block_on(graph.fetch(progress))?.map_err(|e| graph.client.redact_error(e))?;
        progress.finish();
        super::finish(c, fetched, progress)
    }

    fn acts(&self) -> bool {
        false
    }

    fn identity_provider(&self) -> bool {
        true
    }

    fn attrs(&self) -> &'static [&'static str] {
        &[]
    }

    fn supplies(&self, _c: &Connector, field: &Field, _own: &dyn Fn(&Field) -> bool) -> Supply {
        super::platform::identity_provider_supplies("Graph", field)
    }

    fn check_rule(&self, _c: &Connector, _rule: &RuleCheck<'_>) -> Vec<Diag> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_later_sign_in_and_no_record_unknown() {
        let u = serde_json::json!({"id": "a", "signInActivity": {
            "lastSignInDateTime": "2026-01-02T00:00:00Z",
            "lastNonInteractiveSignInDateTime": "2026-03-04T00:00:00Z"}});
        let later = crate::time::parse_time("2026-03-04T00:00:00Z").map_or(Known::Unknown, Known::Value);
        assert_eq!(normalize(&u, "corp").unwrap_or_default().last_login, later);
        let none = serde_json::json!({"id": "b", "signInActivity": {"lastSignInDateTime": null}});
        assert_eq!(normalize(&none, "corp").unwrap_or_default().last_login, Known::Unknown);
        let absent = serde_json::json!({"id": "c"});
        assert_eq!(
            normalize(&absent, "corp").unwrap_or_default().last_login,
            Known::Unknown
        );
    }
}
