//! Bevy (community events), public API under `/api` (CONNECTORS.md
//! section 2 and its corrections): users listed page by page, deleted into
//! a 7-day pending deletion, deactivated.
//!
//! What this connector takes Bevy to do, each fact beside its source, in
//! one place. [S: …] is the vendor's own word; [I] is inferred (CONNECTORS.md
//! section 9), to be checked against a live site.
//! - The API is under `/api`; `Authorization: Token KEY`; the version is
//!   pinned with `Accept: application/json; version=1.0`, sent on every
//!   request (without it Bevy answers with its current version)
//!   [S: help.bevy.com/hc/en-us/articles/20800961964695].
//! - The key is personal: "exclusively granted to HQ Administrators", one
//!   per admin account [S: same article]. Nothing in the API says whose
//!   key it is [?], so the connector's `user` key names its owner (username
//!   or email); that user is never acted on. Without `user`, dormant cannot
//!   tell, and apply warns.
//! - Errors: 403 `{"detail": …}` for a missing or bad key, 400
//!   `{"field": "message"}`, 204 for "Resource deleted / gone" [S: same
//!   article].
//! - 10,000 authenticated requests a day; batches of at most 250 users
//!   [S: help.bevy.com/hc/en-us/community/posts/24990828798231].
//! - `GET /api/user/?page=N&page_size=M` answers `{"count", "next",
//!   "previous", "results"}` (Django REST Framework's shape, as the error
//!   table is), and a page past the end answers 404 [I]; a bare list of
//!   users is accepted too. Public scripts ask Bevy's other list endpoints
//!   for `page_size` up to 1000 (gathered in CONNECTORS.md's corrections;
//!   the user list's own cap is unknown [?]), so the page size is the
//!   `page_size` setting (default 100, at most 1000); pages are asked by
//!   number, so a server that gives fewer still lists everyone once.
//! - Fields `id` (a number, or text), `username`, `email`, `first_name`,
//!   `last_name`, `date_joined`, `is_active`, `is_hq_admin`,
//!   `pending_deletion`, `deletion_date` [I]; there is no last login [?].
//! - One user: `GET /api/user/{id}/`, the same fields [I: public scripts
//!   call it with `Authorization: Token` on gdg.community.dev, a Bevy site;
//!   the answer's shape is not shown], 404 once Bevy no longer knows them.
//! - `DELETE /api/user/{id}/` answers 204 and marks the user for deletion in
//!   7 days, cancellable in the dashboard only [S: community post
//!   24990828798231; help.bevy.com/hc/en-us/articles/1500001654142];
//!   repeating it is a no-op [I]. A 204 to the DELETE of that one user is
//!   taken as that user's deletion.
//! - Deactivate is `POST /api/user/{id}/deactivate/` [I: "Deactivate User
//!   (POST)" in a third-party catalogue]; what it answers is unknown, so
//!   the user is read back to confirm it. There is no reactivation [?].

use super::platform::{Key, KeyType, Keys, Own, RuleCheck, Supply, Table, TwoSteps};
use super::Listing;
use super::{Acted, Connection, Connector, Error, Fetched, Platform, Unreadable, Warning};
use crate::decision::PlanAction;
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use crate::http::Limits;
use crate::http::{Client, HttpError, Secret, Settings};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Attr, Set, Status, User};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const PLATFORM: &str = "Bevy";

/// Users asked for a page unless `page_size` says.
pub const PAGE: u64 = 100;

/// The largest `page_size`: what public scripts ask of Bevy's list
/// endpoints (CONNECTORS.md, corrections for Bevy).
pub const MAX_PAGE_SIZE: u64 = 1000;

/// The version every request pins [S: help.bevy.com/hc/en-us/articles/20800961964695].
const ACCEPT: &str = "application/json; version=1.0";

/// How long a deleted user stays pending deletion (Bevy Support can change it).
pub const PENDING_DAYS: i64 = 7;

pub const DEFAULTS: Settings = Settings {
    requests_per_second: 5.0,
    requests_per_day: Some(10_000),
    concurrency: 2,
    timeout: Duration::from_secs(30),
    retries: 5,
    backoff: Duration::from_millis(200),
    max_wait: Duration::from_secs(120),
};

/// A `bevy` connector's own keys.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BevyKeys {
    /// The variable holding the API key.
    pub token_env: String,
    /// Whose key it is: a username or an email, never acted on.
    pub user: Option<String>,
    /// Users asked for a page.
    pub page_size: Option<u64>,
}

pub struct Bevy {
    client: Client,
    source: String,
    /// Users asked for a page (`page_size`); apply's batches are another
    /// setting (`batch_size`).
    page: u64,
    /// The owner of the key (the `user` key: a username or an email), never
    /// acted on; `None` when the config does not say.
    me: Option<String>,
    /// Whether apply was told that the key's owner is unknown.
    warned: AtomicBool,
}

impl Bevy {
    pub fn connect(c: &Connector) -> Result<Bevy, Error> {
        let var = &c.own::<BevyKeys>().token_env;
        Bevy::with_key(c, Secret::from_env(var, "token_env", &c.name)?)
    }

    pub fn with_key(c: &Connector, key: Secret) -> Result<Bevy, Error> {
        let client = Client::new(PLATFORM, &format!("{}/api", c.url), Settings::new(DEFAULTS, &c.limits))?
            .with_headers(&[("accept", ACCEPT)]);
        client.set_auth("authorization", &format!("Token {}", key.expose()), &key)?;
        Ok(Bevy {
            client,
            source: c.name.clone(),
            page: c.limits.page_size.unwrap_or(PAGE).clamp(1, MAX_PAGE_SIZE),
            me: c.own::<BevyKeys>().user.as_deref().map(|u| u.trim().to_string()),
            warned: AtomicBool::new(false),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether `u` is the key's owner, by username or email (ignoring case:
    /// a near miss is kept rather than acted on).
    pub fn is_me(&self, u: &User) -> bool {
        super::shape::is_named(self.me.as_deref(), u)
    }

    /// The first time only: why apply cannot protect the key's own account.
    pub fn unnamed_key(&self, connector: &str) -> Option<Warning> {
        (self.me.is_none() && !self.warned.swap(true, Ordering::Relaxed)).then(|| {
            Warning::new(
                "dormant::connector::key_owner_unknown",
                format!(
                    "connector `{connector}` has no `user`: a Bevy API key is an HQ admin's own, and Bevy does not say whose, so dormant cannot keep that admin's account out of this apply; name its username or email in `user`"
                ),
            )
        })
    }

    /// Every user, each exactly once.
    pub async fn fetch(&self, progress: &Progress) -> Result<Fetched, HttpError> {
        let mut listing = Listing::new(PLATFORM, "/user/", "users");
        let mut page = 1;
        let mut seen = 0;
        loop {
            let path = format!("/user/?page={page}&page_size={}", self.page);
            let answer = match self.client.get_json(&path).await {
                Ok(a) => a,
                // A page past the end: the list ended on a full page.
                Err(e) if e.status() == Some(404) && page > 1 => break,
                Err(e) => return Err(e),
            };
            let (results, total, more) = match &answer {
                Value::Array(all) => (all.clone(), Some(all.len() as u64), false),
                obj => (
                    obj.get("results")
                        .and_then(Value::as_array)
                        .cloned()
                        .ok_or_else(|| HttpError::Shape {
                            platform: PLATFORM,
                            endpoint: path.clone(),
                            detail: "no `results` list".to_string(),
                        })?,
                    obj.get("count").and_then(Value::as_u64),
                    obj.get("next").is_some_and(|n| !n.is_null()),
                ),
            };
            if let Some(t) = total {
                progress.set_total(t);
            }
            progress.inc(results.len() as u64);
            let n = results.len() as u64;
            seen += n;
            listing.page(results.into_iter(), total)?;
            if n == 0 || !more {
                break;
            }
            page += 1;
            listing.guard(seen)?;
        }
        let mut users = listing
            .finish()?
            .iter()
            .map(|u| normalize(u, &self.source))
            .collect::<Result<Vec<_>, Unreadable>>()
            .map_err(|e| HttpError::Shape {
                platform: PLATFORM,
                endpoint: "/user/".to_string(),
                detail: e.to_string(),
            })?;
        let owner = super::shape::mark_owner(self.me.as_deref(), &mut users, &self.source);
        Ok(Fetched {
            users,
            warnings: owner.into_iter().collect(),
        })
    }

    /// Marks a user for deletion in 7 days.
    pub async fn delete(&self, id: &str) -> Result<(), HttpError> {
        self.client
            .send(reqwest::Method::DELETE, &format!("/user/{id}/"), None)
            .await
            .map(|_| ())
    }

    pub async fn deactivate(&self, id: &str) -> Result<(), HttpError> {
        self.client
            .send(reqwest::Method::POST, &format!("/user/{id}/deactivate/"), None)
            .await
            .map(|_| ())
    }
}

impl Bevy {
    /// One user as Bevy has them now (`GET /api/user/{id}/`); `None` when
    /// Bevy no longer knows them.
    pub async fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        let path = format!("/user/{id}/");
        let Some(u) = self.client.get_json_if_there(&path).await? else {
            return Ok(None);
        };
        normalize(&u, &self.source)
            .map(Some)
            .map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: path,
                detail: detail.to_string(),
            })
    }
}

/// One Bevy user as a dormant user (SPEC section 2).
pub fn normalize(u: &Value, source: &str) -> Result<User, Unreadable> {
    let id = super::shape::id(u, &["id"])?;
    let text = |k: &str| super::shape::text(u, k);
    let flag = |k: &str| u.get(k).and_then(Value::as_bool);
    let time = |k: &str| -> Result<Option<Time>, Unreadable> {
        match text(k) {
            None => Ok(None),
            Some(s) => crate::time::parse_time(s)
                .map(Some)
                .ok_or_else(|| Unreadable::not_a_time(&id, k, s)),
        }
    };
    let status = match (flag("pending_deletion"), flag("is_active")) {
        (Some(true), _) => Some(Status::PendingDelete),
        (_, Some(false)) => Some(Status::Disabled),
        (_, Some(true)) => Some(Status::Active),
        _ => None,
    };
    let is_admin = flag("is_hq_admin");
    let role: Option<Set> = is_admin.map(|a| std::iter::once(if a { "hq_admin" } else { "member" }).collect());
    let mut attr = Vec::new();
    if let Some(t) = time("deletion_date")? {
        attr.push(("deletion_date".into(), Attr::Time(t)));
    }
    Ok(User {
        id: id.as_str().into(),
        username: text("username").map(Into::into),
        email: text("email").map(Into::into),
        name: super::shape::full_name(u, "first_name", "last_name"),
        status,
        joined: time("date_joined")?,
        role,
        is_admin,
        source: Some(source.into()),
        attr,
        // Unknown: Bevy's user list has no last login (an enrich file may
        // say), no activity, groups or permissions, and no service flag.
        ..User::default()
    })
}

/// Bevy in `dormant.toml`: `kind = "bevy"`.
pub struct BevyPlatform;

impl Platform for BevyPlatform {
    fn kind(&self) -> &'static str {
        "bevy"
    }

    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn keys(&self) -> Keys {
        // `user`: whose personal key it is; `page_size`: users a page.
        const KEYS: Keys = Keys {
            required: &["url", "token_env"],
            own: &[Key::text("user"), Key::new("page_size", KeyType::Count)],
            retired: &[],
            limits: true,
        };
        KEYS
    }

    fn configure(&self, c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        match table.count("page_size") {
            Some((size, at)) if !(1..=MAX_PAGE_SIZE).contains(&size) => Err(Diag::error(
                Code::Config,
                at,
                format!("`page_size` must be between 1 and {MAX_PAGE_SIZE}"),
            )
            .label("here")
            .help("Bevy's public scripts ask for at most 1000 a page; larger pages save requests of the daily quota")),
            _ => {
                let own = table.own::<BevyKeys>()?;
                c.limits.page_size = own.page_size;
                Ok(Own::new(own))
            }
        }
    }

    fn revokes(&self) -> bool {
        false
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Ok(Box::new(Bevy::connect(c)?))
    }

    fn acts(&self) -> bool {
        true
    }

    fn attrs(&self) -> &'static [&'static str] {
        &["deletion_date"]
    }

    fn supplies(&self, c: &Connector, field: &Field, _own: &dyn Fn(&Field) -> bool) -> Supply {
        match field {
            // The key's own account is the one service account Bevy has,
            // known only when `user` names it.
            Field::IsService if c.own::<BevyKeys>().user.is_some() => Supply::Supplied,
            Field::IsService => Supply::Never(
                "a Bevy API key is an HQ admin's own and Bevy does not say whose: without `user` naming that admin, dormant cannot know whose key it is".to_string(),
            ),
            Field::LastLogin => Supply::Never("Bevy's user list has no last login".to_string()),
            Field::LastActivity => Supply::Never("Bevy reports no activity".to_string()),
            Field::Group | Field::GroupName | Field::Permission => {
                Supply::Never(format!("Bevy's user list has no `{field}`"))
            }
            _ => Supply::Usual,
        }
    }

    fn check_rule(&self, _c: &Connector, _rule: &RuleCheck<'_>) -> Vec<Diag> {
        Vec::new()
    }
}

impl Bevy {
    /// One user's request.
    async fn act_on(&self, action: PlanAction, u: &User) -> Acted {
        if self.is_me(u) {
            return Acted::Skipped("the owner of the API key dormant uses (`user`)".into());
        }
        match action {
            // A 204 is all Bevy says, and a repeated DELETE answers it too:
            // the user, read back, must show the pending deletion.
            PlanAction::Delete => Acted::of(self.delete(&u.id).await),
            // What the answer says is unknown: read back.
            PlanAction::Deactivate => Acted::of(self.deactivate(&u.id).await),
            other => Acted::Failed(format!("Bevy cannot {}", other.as_str())),
        }
    }
}

impl Connection for Bevy {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn batch(&self, limits: &Limits) -> usize {
        // Bevy recommends batches of at most 250 users.
        usize::try_from(limits.batch_size.unwrap_or(250))
            .unwrap_or(250)
            .clamp(1, 250)
    }

    fn fetch<'a>(&'a self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Fetched, HttpError>> {
        Box::pin(Bevy::fetch(self, progress))
    }

    fn acting_warning(&self, connector: &str) -> Option<Warning> {
        self.unnamed_key(connector)
    }

    fn read<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>> {
        Box::pin(Bevy::read(self, id))
    }

    fn send<'a>(
        &'a self,
        action: PlanAction,
        users: &'a [User],
        _connector: &'a str,
    ) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(super::platform::in_turn(users, move |u| self.act_on(action, u)))
    }

    fn two_steps(&self, _action: PlanAction) -> Option<TwoSteps> {
        None
    }

    fn reactivate<'a>(&'a self, ids: &'a [String], _before: &'a [Option<Value>]) -> LocalBoxFuture<'a, Vec<Acted>> {
        // Bevy documents no way to undo a deactivation through its API.
        let failed = ids
            .iter()
            .map(|_| {
                Acted::Failed("Bevy's API has no reactivation: reactivate the user in Bevy's admin dashboard".into())
            })
            .collect();
        Box::pin(async { failed })
    }

    fn deletion(&self, at: Option<Time>, now: Time) -> (bool, String) {
        let Some(ends) = at.map(|t| t + chrono::TimeDelta::days(PENDING_DAYS)) else {
            return (
                false,
                "pending deletion for 7 days from the request, which the journal does not date".into(),
            );
        };
        let day = ends.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if ends > now {
            (
                true,
                format!("pending deletion until {day}: cancel it before then in Bevy's admin dashboard (Members, the user, Cancel Deletion); Bevy's API cannot"),
            )
        } else {
            (
                false,
                format!("deleted for good: the 7 days of pending deletion ended {day}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Known;

    #[test]
    fn normalizes_both_shapes_of_id_and_every_status() {
        let n = |v: Value| normalize(&v, "events").unwrap();
        let u = n(
            serde_json::json!({"id": 42, "username": "ana", "first_name": "Ana", "last_name": "Lima",
            "date_joined": "2022-05-01T10:00:00Z", "is_active": true, "is_hq_admin": false, "pending_deletion": false}),
        );
        assert_eq!(
            (u.id.as_str(), u.status, u.is_admin),
            ("42", Some(Status::Active), Some(false))
        );
        assert_eq!(u.name.as_deref(), Some("Ana Lima"));
        assert_eq!(u.last_login, Known::Unknown);
        assert_eq!(u.role.unwrap().as_slice(), ["member"]);
        let pending = n(
            serde_json::json!({"id": "7", "is_active": true, "pending_deletion": true,
            "deletion_date": "2026-11-30T00:00:00Z", "is_hq_admin": true}),
        );
        assert_eq!(pending.status, Some(Status::PendingDelete));
        assert_eq!(pending.role.unwrap().as_slice(), ["hq_admin"]);
        assert_eq!(
            n(serde_json::json!({"id": 8, "is_active": false})).status,
            Some(Status::Disabled)
        );
        assert!(normalize(&serde_json::json!({"username": "x"}), "e").is_err());
    }
}
