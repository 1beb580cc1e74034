//! Okta, an identity provider: its users and their last logins, read for
//! other connectors' `logins_from` (`connector::logins`), or fetched alone
//! to check what it holds. Dormant does not act on Okta users.
//!
//! What this connector takes Okta to do, each fact beside its source
//! (CONNECTORS.md section 6.3). [S: …] is the vendor's own word; [I] is
//! inferred.
//! - `GET /api/v1/users?limit=N` lists users, at most 200 a page, the next
//!   page named by a `Link: <…>; rel="next"` header, absent on the last
//!   [S: developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers;
//!   developer.okta.com/docs/api/#pagination]. The link is followed only
//!   under the connector's `url`.
//! - `Authorization: SSWS <token>` [S: developer.okta.com/docs/api/#authentication].
//! - Rate limits: every answer has `X-Rate-Limit-Limit`,
//!   `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (epoch seconds), and
//!   a request over the limit answers 429 [S:
//!   developer.okta.com/docs/reference/rl-best-practices]. With none
//!   remaining, the next page waits for the reset; a 429 waits for
//!   `Retry-After` or, without it, the reset (`crate::http`).
//! - A user: `id`, `status` (STAGED, PROVISIONED, ACTIVE, RECOVERY,
//!   LOCKED_OUT, PASSWORD_EXPIRED, SUSPENDED, DEPROVISIONED), `created`,
//!   `lastLogin` (null when the user never signed in),
//!   `profile{login,email,firstName,lastName}` [S: okta-user-schema, section
//!   6.3]. `lastLogin` null is *never* [I: Okta keeps the last login of every
//!   user since it was created]; a user without the key is *unknown*.
//! - The list leaves out DEPROVISIONED users unless a search asks for them
//!   [S: listUsers, "all users that do not have a status of DEPROVISIONED"]:
//!   for last logins, the users who can still sign in are the ones that
//!   matter, so the default list is read.

use super::platform::{Key, KeyType, Keys, Own, RuleCheck, Supply, Table};
use super::{Connection, Connector, Error, Fetched, Platform, Unreadable};
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use crate::http::{Client, HttpError, Secret, Settings};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Known, Status, User};
use serde_json::Value;
use std::time::Duration;

pub const PLATFORM: &str = "Okta";

/// Users asked for a page unless `page_size` says: Okta's most [S: listUsers, `limit`].
pub const PAGE: u64 = 200;

/// The longest wait for a rate limit to reset before a page: Okta's
/// windows are a minute long [S: rl-best-practices].
const MAX_RESET_WAIT: Duration = Duration::from_secs(60);

pub const DEFAULTS: Settings = Settings {
    requests_per_second: 5.0,
    requests_per_day: None,
    concurrency: 1,
    timeout: Duration::from_secs(30),
    retries: 5,
    backoff: Duration::from_millis(200),
    max_wait: Duration::from_secs(120),
};

/// An `okta` connector's own keys.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaKeys {
    /// The variable holding the API token.
    pub token_env: String,
    /// Users asked for a page.
    pub page_size: Option<u64>,
}

/// A connection to Okta's Users API.
pub struct Okta {
    client: Client,
    source: String,
    page: u64,
}

impl Okta {
    pub fn connect(c: &Connector) -> Result<Okta, Error> {
        let keys = c.own::<OktaKeys>();
        let token = Secret::from_env(&keys.token_env, "token_env", &c.name)?;
        let client = Client::new(PLATFORM, &c.url, Settings::new(DEFAULTS, &c.limits))?
            .with_headers(&[("accept", "application/json")]);
        client.set_auth("authorization", &format!("SSWS {}", token.expose()), &token)?;
        Ok(Okta {
            client,
            source: c.name.clone(),
            page: keys.page_size.unwrap_or(PAGE).clamp(1, PAGE),
        })
    }

    /// Every user the list holds, page by page along the `Link` headers.
    pub async fn fetch(&self, progress: &Progress) -> Result<Fetched, HttpError> {
        let mut path = format!("/api/v1/users?limit={}", self.page);
        let mut users = Vec::new();
        for _ in 0..super::MAX_PAGES {
            let answer = self.client.get(&path).await?;
            let page = answer.json(PLATFORM, &path)?;
            let items = page
                .as_array()
                .ok_or_else(|| shape(&path, "the answer is not a list of users".into()))?;
            for u in items {
                users.push(normalize(u, &self.source).map_err(|e| shape(&path, e.to_string()))?);
            }
            progress.inc(items.len() as u64);
            let Some(next) = answer.header("link").and_then(next_link) else {
                return Ok(Fetched::new(users));
            };
            path = self
                .client
                .path_of(next)
                .ok_or_else(|| shape(&path, format!("the next page is elsewhere ({next}): not followed")))?
                .to_string();
            if answer.header("x-rate-limit-remaining").is_some_and(|r| r.trim() == "0") {
                tokio::time::sleep(reset_wait(answer.header("x-rate-limit-reset"))).await;
            }
        }
        Err(shape("/api/v1/users", "the list goes on past any sane length".into()))
    }
}

fn shape(endpoint: &str, detail: String) -> HttpError {
    HttpError::Shape {
        platform: PLATFORM,
        endpoint: endpoint.to_string(),
        detail,
    }
}

/// The `rel="next"` address of a `Link` header, if it has one.
fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "").eq_ignore_ascii_case("rel=\"next\""));
        next.then(|| target.trim().trim_start_matches('<').trim_end_matches('>'))
    })
}

/// How long until the rate limit resets (`X-Rate-Limit-Reset`, epoch
/// seconds), at most a minute.
fn reset_wait(reset: Option<&str>) -> Duration {
    let at = reset.and_then(|r| r.trim().parse::<i64>().ok()).unwrap_or(0);
    let wait = u64::try_from(at - chrono::Utc::now().timestamp()).unwrap_or(0);
    Duration::from_secs(wait).min(MAX_RESET_WAIT)
}

/// One Okta user as a dormant user (SPEC section 2).
pub fn normalize(u: &Value, source: &str) -> Result<User, Unreadable> {
    let id = super::shape::id(u, &["id"])?;
    let profile = u.get("profile").unwrap_or(&Value::Null);
    let time = |k: &str| -> Result<Option<Time>, Unreadable> {
        match super::shape::text(u, k) {
            None => Ok(None),
            Some(s) => crate::time::parse_time(s)
                .map(Some)
                .ok_or_else(|| Unreadable::not_a_time(&id, k, s)),
        }
    };
    let last_login = match u.get("lastLogin") {
        // Okta says the user never signed in.
        Some(Value::Null) => Known::Never,
        Some(_) => time("lastLogin")?.map_or(Known::Unknown, Known::Value),
        None => Known::Unknown,
    };
    Ok(User {
        id: id.as_str().into(),
        username: super::shape::text(profile, "login").map(Into::into),
        email: super::shape::text(profile, "email").map(Into::into),
        name: super::shape::full_name(profile, "firstName", "lastName"),
        status: super::shape::text(u, "status").and_then(status),
        joined: time("created")?,
        last_login,
        source: Some(source.into()),
        // Unknown: Okta's user list has no activity, groups, roles or
        // admin and service flags.
        ..User::default()
    })
}

/// An Okta status as dormant's [S: okta-user-schema `status`].
fn status(s: &str) -> Option<Status> {
    match s {
        "ACTIVE" | "RECOVERY" | "LOCKED_OUT" | "PASSWORD_EXPIRED" => Some(Status::Active),
        "STAGED" | "PROVISIONED" => Some(Status::Invited),
        "SUSPENDED" | "DEPROVISIONED" => Some(Status::Disabled),
        _ => None,
    }
}

/// Okta in `dormant.toml`: `kind = "okta"`.
pub struct OktaPlatform;

impl Platform for OktaPlatform {
    fn kind(&self) -> &'static str {
        "okta"
    }

    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn keys(&self) -> Keys {
        const KEYS: Keys = Keys {
            required: &["url", "token_env"],
            own: &[Key::new("page_size", KeyType::Count)],
            retired: &[],
            limits: true,
        };
        KEYS
    }

    fn revokes(&self) -> bool {
        false
    }

    fn configure(&self, c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        match table.count("page_size") {
            Some((size, at)) if !(1..=PAGE).contains(&size) => {
                Err(
                    Diag::error(Code::Config, at, format!("`page_size` must be between 1 and {PAGE}"))
                        .label("here")
                        .help("Okta lists at most 200 users a page"),
                )
            }
            _ => {
                let own = table.own::<OktaKeys>()?;
                c.limits.page_size = own.page_size;
                Ok(Own::new(own))
            }
        }
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Err(super::platform::cannot_act(c))
    }

    fn fetch(&self, c: &Connector, progress: &Progress) -> Result<Fetched, Error> {
        let okta = Okta::connect(c)?;
        let fetched = crate::http::block_on(okta.fetch(progress))?.map_err(|e| okta.client.redact_error(e))?;
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
        super::platform::identity_provider_supplies("Okta", field)
    }

    fn check_rule(&self, _c: &Connector, _rule: &RuleCheck<'_>) -> Vec<Diag> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_among_others() {
        let h = r#"<https://x.okta.com/api/v1/users?limit=2>; rel="self", <https://x.okta.com/api/v1/users?after=00u2&limit=2>; rel="next""#;
        assert_eq!(next_link(h), Some("https://x.okta.com/api/v1/users?after=00u2&limit=2"));
        assert_eq!(
            next_link(r#"<https://x.okta.com/api/v1/users?limit=2>; rel="self""#),
            None
        );
    }

    #[test]
    fn never_signed_in_is_never_and_a_missing_key_unknown() {
        let u = serde_json::json!({"id": "00u1", "status": "STAGED", "created": "2025-01-02T03:04:05.000Z",
            "lastLogin": null, "profile": {"login": "ana@example.org", "email": "ana@example.org"}});
        let ana = normalize(&u, "okta").unwrap_or_default();
        assert_eq!((ana.last_login, ana.status), (Known::Never, Some(Status::Invited)));
        let bo = normalize(&serde_json::json!({"id": "00u2"}), "okta").unwrap_or_default();
        assert_eq!(bo.last_login, Known::Unknown);
    }
}
