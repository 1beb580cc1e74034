//! SCIM 2.0 (RFC 7643, RFC 7644), any service provider: `kind = "scim"`,
//! `url` its SCIM base (the address `/Users` hangs from, such as
//! `https://idp.example.com/scim/v2`). Users listed page by page,
//! deactivated (`active` false) and deleted.
//!
//! What this connector takes a SCIM server to do, each fact beside its
//! source: [RFC …] the standard (CONNECTORS.md section 6), [E §n]
//! `docs/evidence/scim2-server.md`, probes of and source lines in
//! scim2-server 0.8.3, the server the tests run against.
//! - `Authorization: Bearer TOKEN` [RFC 7644 §2; E §2.1]. A bad token
//!   answers 401 with a SCIM error body without `scimType` [E §2.1].
//! - `GET /ServiceProviderConfig` first: it says whether PATCH, filters
//!   and ETags are supported and how many results a page may hold
//!   (`filter.maxResults`) [RFC 7643 §5; E §2.2]. It may be served without
//!   the token, so it proves nothing about the token [E §2.1]; the first
//!   page of `/Users` does. A server without it (404) is taken to support
//!   nothing optional: PATCH is still tried, with the fallback below.
//! - Paging: `GET /Users?startIndex=S&count=C`, 1-based, answering
//!   `{"totalResults", "Resources"}` [RFC 7644 §3.4.2.4]. The count asked is
//!   capped at `maxResults`, and a server silently caps it too, so a page
//!   shorter than asked does not end the list: `startIndex` advances by
//!   the items received, and the list ends on an empty page or past
//!   `totalResults`, which is exact [E §2.10].
//! - The `filter` key is passed through on `/Users` as written [RFC 7644
//!   §3.4.2.2]; a server that refuses it says why (400 `invalidFilter`)
//!   [E §2.11].
//! - Errors: `{"schemas": [...Error], "status", "scimType", "detail"}`;
//!   `detail` and `scimType` are shown [RFC 7644 §3.12; E §2.12].
//! - A user's `groups` is read-only and servers need not fill it:
//!   scim2-server never does [E §2.4]. Membership is read from `/Groups`,
//!   listed once and inverted (its `members[].value` are user ids), and
//!   added to whatever `groups` the users carry. A server without
//!   `/Groups` (404, 501) leaves groups unknown.
//! - An attribute never set is absent: a user without `active` has an
//!   unknown status, not a disabled one [E §2.3]; a multi-valued one
//!   absent is empty (`roles`, `entitlements`) [RFC 7643 §2.5].
//! - SCIM has no admin flag: `is_admin` is a role with "admin" in its name.
//! - Deactivate: `PATCH /Users/{id}` with `{"op": "replace", "path":
//!   "active", "value": false}`, answered 204 without a body or 200 with
//!   one [E §2.6]; either way the user is read back. Where PATCH is not
//!   supported (`patch.supported` false, or a 501 [E §2.13]), the whole
//!   user is read, `active` set, and PUT back: a PUT replaces everything
//!   left out [E §2.8]. Reactivation is the same with `true`.
//! - ETags: sent as `If-Match` on the PUT of that read-modify-write, only
//!   when the server supports them and the user read carried a version
//!   (`meta.version`, the ETag [E §2.5]); a server without ETags refuses
//!   any `If-Match` [E §2.13]. A 412 means someone changed the user
//!   between the read and the PUT, and fails rather than overwrite it
//!   [E §2.7]. The PATCH and the DELETE set a state whatever the version,
//!   so they carry none.
//! - Delete: `DELETE /Users/{id}` answers 204, and 404 once the user is
//!   gone [E §2.9]; both are read back (404 confirms). Deletion is
//!   immediate and final: there is no undo.
//! - SCIM has no last login: an identity provider's sign-ins or an enrich
//!   file must supply it.

use super::platform::{Key, Keys, Own, RuleCheck, Supply, Table, TwoSteps};
use super::{Acted, Connection, Connector, Error, Fetched, Listing, Platform, Unreadable, Warning};
use crate::decision::PlanAction;
use crate::diagnostic::Diag;
use crate::fields::Field;
use crate::http::{Client, HttpError, Limits, Secret, Settings};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Attr, Set, Status, User};
use futures_util::future::LocalBoxFuture;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const PLATFORM: &str = "SCIM";

/// Users asked for a page, unless the server allows fewer.
pub const PAGE: u64 = 100;

/// The enterprise extension's schema, whose attributes are `attr.*` [RFC 7643 §4.3].
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The PatchOp message's schema [RFC 7644 §3.5.2].
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub const DEFAULTS: Settings = Settings {
    requests_per_second: 10.0,
    requests_per_day: None,
    concurrency: 2,
    timeout: Duration::from_secs(30),
    retries: 5,
    backoff: Duration::from_millis(200),
    max_wait: Duration::from_secs(120),
};

/// A `scim` connector's own keys.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimKeys {
    /// The variable holding the bearer token.
    pub token_env: String,
    /// A SCIM filter passed on `/Users` as written (`active eq true`).
    pub filter: Option<String>,
}

/// What the server says it supports (`/ServiceProviderConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supports {
    pub patch: bool,
    pub etag: bool,
    /// The most results a page holds, if it says.
    pub max_results: Option<u64>,
}

impl Supports {
    /// What a `/ServiceProviderConfig` says; what it leaves out is taken
    /// as unsupported, but for PATCH, which is tried all the same.
    pub fn of(config: &Value) -> Supports {
        let supported = |k: &str| config.get(k).and_then(|v| v.get("supported")).and_then(Value::as_bool);
        Supports {
            patch: supported("patch").unwrap_or(true),
            etag: supported("etag").unwrap_or(false),
            max_results: config
                .get("filter")
                .and_then(|f| f.get("maxResults"))
                .and_then(Value::as_u64)
                .filter(|n| *n > 0),
        }
    }
}

pub struct Scim {
    client: Client,
    source: String,
    filter: Option<String>,
    supports: tokio::sync::OnceCell<Supports>,
    /// Set when the server answered a PATCH with 501: PUT from then on.
    no_patch: AtomicBool,
}

impl Scim {
    pub fn connect(c: &Connector) -> Result<Scim, Error> {
        let keys = c.own::<ScimKeys>();
        Scim::with_token(c, Secret::from_env(&keys.token_env, "token_env", &c.name)?)
    }

    pub fn with_token(c: &Connector, token: Secret) -> Result<Scim, Error> {
        let client = Client::new(PLATFORM, &c.url, Settings::new(DEFAULTS, &c.limits))?
            .with_headers(&[("accept", "application/scim+json, application/json")]);
        client.set_auth("authorization", &format!("Bearer {}", token.expose()), &token)?;
        Ok(Scim {
            client,
            source: c.name.clone(),
            filter: c.own::<ScimKeys>().filter.clone().filter(|f| !f.trim().is_empty()),
            supports: tokio::sync::OnceCell::new(),
            no_patch: AtomicBool::new(false),
        })
    }

    /// What the server supports, asked once.
    pub async fn supports(&self) -> Result<Supports, HttpError> {
        let read = || async {
            match self.client.get_json_if_there("/ServiceProviderConfig").await? {
                Some(config) => Ok(Supports::of(&config)),
                None => Ok(Supports::of(&Value::Null)),
            }
        };
        self.supports.get_or_try_init(read).await.copied()
    }

    /// Every user, each exactly once, with the groups they are members of.
    pub async fn fetch(&self, progress: &Progress) -> Result<Fetched, HttpError> {
        let supports = self.supports().await?;
        let query = self.filter.as_deref().map(|f| format!("filter={}", encode(f)));
        let listed = list(
            &self.client,
            supports,
            "/Users",
            "users",
            query.as_deref(),
            Some(progress),
        )
        .await?;
        let (members, warnings) = match list(&self.client, supports, "/Groups", "groups", None, None).await {
            Ok(groups) => (Some(Members::of(&groups)), Vec::new()),
            // No groups on this server: membership is unknown, not empty.
            Err(e) if matches!(e.status(), Some(404 | 501)) => (
                None,
                vec![Warning::new(
                    "dormant::connector::no_groups",
                    format!(
                        "connector `{}`: the server has no /Groups ({e}), so group membership is unknown",
                        self.source
                    ),
                )],
            ),
            Err(e) => return Err(e),
        };
        let users = listed
            .iter()
            .map(|u| normalize(u, &self.source, members.as_ref()))
            .collect::<Result<Vec<_>, Unreadable>>()
            .map_err(|e| shape("/Users", e.to_string()))?;
        Ok(Fetched { users, warnings })
    }

    /// One user's resource as the server has it now; `None` when gone.
    async fn resource(&self, id: &str) -> Result<Option<Value>, HttpError> {
        self.client.get_json_if_there(&format!("/Users/{}", encode(id))).await
    }

    /// One user as the server has them now (groups not read); `None` when gone.
    pub async fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        let Some(u) = self.resource(id).await? else {
            return Ok(None);
        };
        normalize(&u, &self.source, None)
            .map(Some)
            .map_err(|e| shape("/Users/{id}", e.to_string()))
    }

    /// Sets `active`: PATCH where the server takes it, else GET and PUT.
    pub async fn set_active(&self, id: &str, active: bool) -> Result<(), HttpError> {
        let supports = self.supports().await?;
        if supports.patch && !self.no_patch.load(Ordering::Relaxed) {
            let body = json!({
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "active", "value": active}],
            });
            let path = format!("/Users/{}", encode(id));
            match self.client.send(Method::PATCH, &path, Some(&body)).await {
                Ok(_) => return Ok(()),
                // The server's word that it has no PATCH [E §2.13].
                Err(e) if e.status() == Some(501) => self.no_patch.store(true, Ordering::Relaxed),
                Err(e) => return Err(e),
            }
        }
        self.put_active(id, active, supports.etag).await
    }

    /// The whole user read, `active` set, and put back, with `If-Match`
    /// where the server has ETags and the user read carried one.
    async fn put_active(&self, id: &str, active: bool, etag: bool) -> Result<(), HttpError> {
        let path = format!("/Users/{}", encode(id));
        let mut user = self.client.get_json(&path).await?;
        let Some(fields) = user.as_object_mut() else {
            return Err(shape("/Users/{id}", "the user is not a JSON object".into()));
        };
        let version = fields
            .get("meta")
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str)
            .map(str::to_string);
        // `meta` is the server's to write [RFC 7643 §3.1].
        fields.remove("meta");
        fields.insert("active".into(), Value::Bool(active));
        let tag = version.filter(|_| etag);
        self.client
            .send_if_match(Method::PUT, &path, Some(&user), tag.as_deref())
            .await
            .map(|_| ())
    }

    pub async fn delete(&self, id: &str) -> Result<(), HttpError> {
        let path = format!("/Users/{}", encode(id));
        match self.client.send(Method::DELETE, &path, None).await {
            // 404: gone already, as the read back will show [E §2.9].
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

/// Every resource of a list, page by page [E §2.10]: the count asked is
/// capped at the server's `maxResults`; `startIndex` advances by what
/// arrived; the list ends on an empty page or past `totalResults`.
async fn list(
    client: &Client,
    supports: Supports,
    endpoint: &'static str,
    what: &'static str,
    query: Option<&str>,
    progress: Option<&Progress>,
) -> Result<Vec<Value>, HttpError> {
    let count = supports.max_results.map_or(PAGE, |m| m.min(PAGE));
    let mut listing = Listing::new(PLATFORM, endpoint, what);
    let mut start: u64 = 1;
    loop {
        let extra = query.map(|q| format!("&{q}")).unwrap_or_default();
        let path = format!("{endpoint}?startIndex={start}&count={count}{extra}");
        let answer = client.get_json(&path).await?;
        let total = answer.get("totalResults").and_then(Value::as_u64);
        // `Resources` may be left out of an empty list [RFC 7644 §3.4.2].
        let resources = match answer.get("Resources") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(r)) => r.clone(),
            Some(_) => return Err(shape(endpoint, "`Resources` is not a list".into())),
        };
        if total.is_none() {
            return Err(shape(endpoint, "no `totalResults`".into()));
        }
        let n = resources.len() as u64;
        if let (Some(p), Some(t)) = (progress, total) {
            p.set_total(t);
            p.inc(n);
        }
        listing.page(resources.into_iter(), total)?;
        start += n;
        if n == 0 || total.is_some_and(|t| start > t) {
            break;
        }
        listing.guard(start - 1)?;
    }
    listing.finish()
}

fn shape(endpoint: &str, detail: String) -> HttpError {
    HttpError::Shape {
        platform: PLATFORM,
        endpoint: endpoint.to_string(),
        detail,
    }
}

/// Percent-encodes a query value or a path segment: every byte but the
/// unreserved ones of RFC 3986.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Group membership by user id, from a listing of `/Groups`.
#[derive(Debug, Default)]
pub struct Members(HashMap<String, Vec<(String, Option<String>)>>);

impl Members {
    pub fn of(groups: &[Value]) -> Members {
        let mut by_user: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
        for g in groups {
            let Ok(id) = super::shape::id(g, &["id"]) else { continue };
            let display = super::shape::text(g, "displayName").map(str::to_string);
            let members = g.get("members").and_then(Value::as_array).into_iter().flatten();
            for m in members {
                if let Some(user) = super::shape::text(m, "value") {
                    by_user
                        .entry(user.to_string())
                        .or_default()
                        .push((id.clone(), display.clone()));
                }
            }
        }
        Members(by_user)
    }
}

/// The texts of a multi-valued attribute: each item's `value`, else its
/// `display`. An absent attribute is an empty one: "unassigned attributes,
/// the null value, or empty array (in the case of a multi-valued
/// attribute) SHALL be considered to be equivalent" [RFC 7643 §2.5]; one
/// that is not a list is unknown.
fn values(u: &Value, key: &str) -> Option<Set> {
    let items = match u.get(key) {
        None | Some(Value::Null) => return Some(Set::default()),
        Some(v) => v.as_array()?,
    };
    Some(
        items
            .iter()
            .filter_map(|i| super::shape::text(i, "value").or_else(|| super::shape::text(i, "display")))
            .collect(),
    )
}

/// Whether a role makes its holder an admin: SCIM has no admin flag, and
/// its roles are the service provider's own words, so any role with
/// "admin" in its name (`admin`, `Administrator`, `Global Admin`) counts.
fn is_admin(roles: &Set) -> bool {
    roles
        .as_slice()
        .iter()
        .any(|r| r.to_ascii_lowercase().contains("admin"))
}

/// The primary email first, else the first one.
fn email(u: &Value) -> Option<&str> {
    let emails = u.get("emails")?.as_array()?;
    let primary = emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true));
    primary
        .into_iter()
        .chain(emails.iter())
        .find_map(|e| super::shape::text(e, "value"))
}

/// The enterprise extension's attributes as `attr.*`: texts, numbers and
/// flags as they are, the manager by id.
fn enterprise(u: &Value) -> Vec<(crate::user::Text, Attr)> {
    let Some(ext) = u.get(ENTERPRISE).and_then(Value::as_object) else {
        return Vec::new();
    };
    ext.iter()
        .filter_map(|(k, v)| {
            let attr = match v {
                Value::String(s) if !s.trim().is_empty() => Attr::Text(s.trim().to_string()),
                Value::Number(n) => Attr::Number(n.as_f64()?),
                Value::Bool(b) => Attr::Bool(*b),
                Value::Object(_) => Attr::Text(super::shape::text(v, "value")?.to_string()),
                _ => return None,
            };
            Some((k.as_str().into(), attr))
        })
        .collect()
}

/// One SCIM user as a dormant user (SPEC section 2); `members` from the
/// `/Groups` listing, when read.
pub fn normalize(u: &Value, source: &str, members: Option<&Members>) -> Result<User, Unreadable> {
    let id = super::shape::id(u, &["id"])?;
    let text = |k: &str| super::shape::text(u, k);
    let name = u.get("name");
    let name = name
        .and_then(|n| super::shape::text(n, "formatted").map(Into::into))
        .or_else(|| name.and_then(|n| super::shape::full_name(n, "givenName", "familyName")))
        .or_else(|| text("displayName").map(Into::into));
    let status = match u.get("active").and_then(Value::as_bool) {
        Some(true) => Some(Status::Active),
        Some(false) => Some(Status::Disabled),
        // Never set: unknown, not disabled [E §2.3].
        None => None,
    };
    let created = u.get("meta").and_then(|m| super::shape::text(m, "created"));
    let joined = match created {
        None => None,
        Some(s) => Some(crate::time::parse_time(s).ok_or_else(|| Unreadable::not_a_time(&id, "meta.created", s))?),
    };
    // The user's own `groups`, where the server fills it, and the
    // membership `/Groups` lists.
    let own = u.get("groups").and_then(Value::as_array);
    let listed = members.map(|m| m.0.get(&id).cloned().unwrap_or_default());
    let (group, group_name) = match (own, listed) {
        (None, None) => (None, None),
        (own, listed) => {
            let mut all: Vec<(String, Option<String>)> = own
                .into_iter()
                .flatten()
                .filter_map(|g| {
                    let value = super::shape::text(g, "value")?;
                    Some((value.to_string(), super::shape::text(g, "display").map(str::to_string)))
                })
                .collect();
            for g in listed.into_iter().flatten() {
                if !all.iter().any(|(id, _)| *id == g.0) {
                    all.push(g);
                }
            }
            let ids: Set = all.iter().map(|(id, _)| id.as_str()).collect();
            let names: Set = all.iter().filter_map(|(_, name)| name.as_deref()).collect();
            (Some(ids), Some(names))
        }
    };
    let role = values(u, "roles");
    Ok(User {
        id: id.as_str().into(),
        is_admin: role.as_ref().map(is_admin),
        username: text("userName").map(Into::into),
        email: email(u).map(Into::into),
        name,
        status,
        joined,
        group,
        group_name,
        role,
        permission: values(u, "entitlements"),
        source: Some(source.into()),
        attr: enterprise(u),
        // Unknown: SCIM has no last login and no activity; an identity
        // provider or an enrich file may say.
        ..User::default()
    })
}

/// SCIM in `dormant.toml`: `kind = "scim"`.
pub struct ScimPlatform;

impl Platform for ScimPlatform {
    fn kind(&self) -> &'static str {
        "scim"
    }

    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn keys(&self) -> Keys {
        // `filter`: a SCIM filter on `/Users`, passed through.
        const KEYS: Keys = Keys {
            required: &["url", "token_env"],
            own: &[Key::text("filter")],
            retired: &[],
            limits: true,
        };
        KEYS
    }

    fn configure(&self, _c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        Ok(Own::new(table.own::<ScimKeys>()?))
    }

    fn revokes(&self) -> bool {
        false
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Ok(Box::new(Scim::connect(c)?))
    }

    fn acts(&self) -> bool {
        true
    }

    fn attrs(&self) -> &'static [&'static str] {
        // The enterprise extension's attributes [RFC 7643 §4.3].
        &[
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
            "manager",
        ]
    }

    fn supplies(&self, _c: &Connector, field: &Field, _own: &dyn Fn(&Field) -> bool) -> Supply {
        match field {
            Field::LastLogin => Supply::Never(
                "SCIM has no last login: supply it from an identity provider's sign-ins or a CSV, with `enrich`"
                    .to_string(),
            ),
            Field::LastActivity => Supply::Never("SCIM reports no activity".to_string()),
            _ => Supply::Usual,
        }
    }

    fn check_rule(&self, _c: &Connector, _rule: &RuleCheck<'_>) -> Vec<Diag> {
        Vec::new()
    }
}

impl Scim {
    /// One user's request.
    async fn act_on(&self, action: PlanAction, u: &User) -> Acted {
        match action {
            // 204 or 404: the read back says which.
            PlanAction::Delete => Acted::of(self.delete(&u.id).await),
            // 204 without a body, or 200: read back [E §2.6].
            PlanAction::Deactivate => Acted::of(self.set_active(&u.id, false).await),
            other => Acted::Failed(format!("SCIM cannot {}", other.as_str())),
        }
    }
}

impl Connection for Scim {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn batch(&self, limits: &Limits) -> usize {
        // One request a user: a batch is what is journaled together.
        usize::try_from(limits.batch_size.unwrap_or(50))
            .unwrap_or(50)
            .clamp(1, 1000)
    }

    fn fetch<'a>(&'a self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Fetched, HttpError>> {
        Box::pin(Scim::fetch(self, progress))
    }

    fn read<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>> {
        Box::pin(Scim::read(self, id))
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
        Box::pin(super::platform::in_turn(ids, move |id| async move {
            Acted::of(self.set_active(id, true).await)
        }))
    }

    fn deletion(&self, _at: Option<Time>, _now: Time) -> (bool, String) {
        (
            false,
            "deleted for good: a SCIM DELETE removes the user at once; create them again in the identity system".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Known;

    #[test]
    fn normalizes_core_and_enterprise_attributes() {
        let u = json!({
            "id": "a1", "userName": "ana", "active": false,
            "name": {"givenName": "Ana", "familyName": "Lima"},
            "emails": [{"value": "ana@work.example"}, {"value": "ana@example.com", "primary": true}],
            "meta": {"created": "2022-05-01T10:00:00.123456Z"},
            "roles": [{"value": "admin"}], "entitlements": [{"value": "billing"}],
            ENTERPRISE: {"department": "Eng", "employeeNumber": "42", "manager": {"value": "b2"}},
        });
        let groups = [json!({"id": "g1", "displayName": "admins", "members": [{"value": "a1"}, {"value": "x"}]})];
        let u = normalize(&u, "idp", Some(&Members::of(&groups))).unwrap();
        assert_eq!(
            (u.username.as_deref(), u.email.as_deref(), u.name.as_deref()),
            (Some("ana"), Some("ana@example.com"), Some("Ana Lima"))
        );
        assert_eq!(u.status, Some(Status::Disabled));
        assert!(u.joined.is_some());
        assert_eq!(u.last_login, Known::Unknown);
        assert_eq!(u.group.unwrap().as_slice(), ["g1"]);
        assert_eq!(u.group_name.unwrap().as_slice(), ["admins"]);
        assert_eq!(u.is_admin, Some(true));
        assert_eq!(u.role.unwrap().as_slice(), ["admin"]);
        assert_eq!(u.permission.unwrap().as_slice(), ["billing"]);
        let attr = |k: &str| u.attr.iter().find(|(n, _)| n.as_str() == k).map(|(_, a)| a.clone());
        assert_eq!(attr("department"), Some(Attr::Text("Eng".into())));
        assert_eq!(attr("manager"), Some(Attr::Text("b2".into())));
    }

    #[test]
    fn an_unset_active_is_unknown_and_no_groups_listing_is_unknown_membership() {
        let u = normalize(&json!({"id": "a", "name": {"formatted": "A B"}}), "idp", None).unwrap();
        assert_eq!((u.status, u.group, u.name.as_deref()), (None, None, Some("A B")));
        let alone = normalize(&json!({"id": "a"}), "idp", Some(&Members::default())).unwrap();
        assert_eq!(alone.group.map(|g| g.as_slice().len()), Some(0));
        // No roles listed: none, so not an admin [RFC 7643 §2.5].
        assert_eq!(
            (alone.is_admin, alone.role.map(|r| r.as_slice().len())),
            (Some(false), Some(0))
        );
        let roles = json!({"id": "a", "roles": [{"value": "Global Administrator"}, {"value": "Student"}]});
        assert_eq!(normalize(&roles, "idp", None).unwrap().is_admin, Some(true));
        assert!(normalize(&json!({"userName": "x"}), "idp", None).is_err());
    }

    #[test]
    fn supports_what_the_config_says_and_patch_unless_it_says_not() {
        let s = Supports::of(
            &json!({"patch": {"supported": false}, "etag": {"supported": true}, "filter": {"supported": true, "maxResults": 5}}),
        );
        assert_eq!((s.patch, s.etag, s.max_results), (false, true, Some(5)));
        let none = Supports::of(&Value::Null);
        assert_eq!((none.patch, none.etag, none.max_results), (true, false, None));
        assert_eq!(encode("userName eq \"a b\""), "userName%20eq%20%22a%20b%22");
    }
}
