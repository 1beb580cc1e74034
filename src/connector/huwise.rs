//! Huwise (formerly Opendatasoft), Automation API v1.0 (CONNECTORS.md
//! section 1): users listed with limit/offset, admins found through the
//! effective `edit_domain` permission, users deleted by username, and, on
//! opt-in, "deactivated" by a revoke of their permissions and groups.
//!
//! What this connector relies on, and where each fact comes from
//! ([S: file] read in opendatasoft/opendatasoft-automation-sdk, the
//! vendor's generated SDK and its OpenAPI spec; [I] assumed where the
//! sources are silent, CONNECTORS.md section 9):
//! - `GET /users/?limit&offset` answers `{total_count, next, previous,
//!   results}` [S: python/docs/UsersApi.md, GetUsers200Response.md];
//!   `limit` is at most 1000 [I, the datasets list's documented cap];
//! - `all_permissions=edit_domain` lists users with the permission directly
//!   or through a group: the effective admins [S: UsersApi.md `get_users`];
//! - the header is `Authorization: Apikey KEY` [S: python/README.md
//!   "HeaderAPIKey"; the prefix I, as the sibling APIs document it];
//! - invited users are not listed [I]; `last_login_at` is the last login,
//!   `last_seen_at` standing in when only it is present [I];
//! - `DELETE /users/{username}/` answers 204 and removes the user from the
//!   domain, and fails for the only domain administrator [S: UsersApi.md];
//! - `is_active` and `expires_at` are **readOnly** [S: generators/python/
//!   openapi/openapi_3.1.0_original.json, schema `User`]: there is no
//!   deactivation. `PUT /users/{username}/` writes `first_name`,
//!   `last_name`, `email` (required), `permissions`, `groups`,
//!   `explore_limits`, `management_limits` [S: same schema]; group
//!   membership is removed with `DELETE /groups/{uid}/users/{username}/`
//!   (204) and added with `POST /groups/{uid}/users/` `{"username"}` (201)
//!   [S: python/docs/UserGroupsApi.md, RelatedUser.md]. So `deactivate` is
//!   a revoke of the user's domain permissions and group memberships,
//!   offered only on the admin's opt-in (`deactivate = "revoke"`); grants
//!   on single datasets or pages (`/datasets/{uid}/security/users/…`) stay;
//! - `GET /users/{username}/` reads one user back, 404 when not in the
//!   domain [S: UsersApi.md `get_user`];
//! - a user's `groups` are `{uid}` objects; their titles (`group_name`)
//!   come from one read of `GET /groups/?limit&offset`, paged as the users
//!   are [S: python/docs/UserGroupsApi.md `list_user_groups`, UserGroup.md].

use super::platform::{Key, Keys, Own, RuleCheck, Supply, Table, TwoSteps};
use super::Listing;
use super::{Acted, Connection, Connector, Error, Fetched, Platform, Unreadable, Warning};
use crate::decision::PlanAction;
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use crate::http::Limits;
use crate::http::{Client, HttpError, Secret, Settings};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Attr, Known, Set, Status, User};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

pub const PLATFORM: &str = "Huwise";

/// The most `limit` takes.
const MAX_PAGE: u64 = 1000;

pub const DEFAULTS: Settings = Settings {
    requests_per_second: 5.0,
    requests_per_day: None,
    concurrency: 2,
    timeout: Duration::from_secs(30),
    retries: 5,
    backoff: Duration::from_millis(200),
    max_wait: Duration::from_secs(120),
};

/// A `huwise` connector's own keys.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuwiseKeys {
    /// The variable holding the API key.
    pub api_key_env: String,
    /// `deactivate = "revoke"`: the admin's opt-in to deactivating by
    /// taking the user's domain permissions and groups away (Huwise has no
    /// deactivation of its own).
    pub deactivate: Option<Deactivate>,
}

impl HuwiseKeys {
    /// Whether the admin opted in to a revoke.
    pub fn revoke(&self) -> bool {
        self.deactivate == Some(Deactivate::Revoke)
    }
}

/// What `deactivate` may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Deactivate {
    Revoke,
}

pub struct Huwise {
    client: Client,
    source: String,
    page: u64,
    /// `deactivate = "revoke"`: the admin's opt-in.
    pub revoke: bool,
    /// Users read by `before`, for the request that follows.
    held: std::sync::Mutex<HashMap<String, Value>>,
}

impl Huwise {
    pub fn connect(c: &Connector) -> Result<Huwise, Error> {
        let var = &c.own::<HuwiseKeys>().api_key_env;
        Huwise::with_key(c, Secret::from_env(var, "api_key_env", &c.name)?)
    }

    pub fn with_key(c: &Connector, key: Secret) -> Result<Huwise, Error> {
        let client = Client::new(
            PLATFORM,
            &format!("{}/api/automation/v1.0", c.url),
            Settings::new(DEFAULTS, &c.limits),
        )?;
        client.set_auth("authorization", &format!("Apikey {}", key.expose()), &key)?;
        Ok(Huwise {
            client,
            source: c.name.clone(),
            page: c.limits.batch_size.unwrap_or(100).clamp(1, MAX_PAGE),
            revoke: c.own::<HuwiseKeys>().revoke(),
            held: std::sync::Mutex::default(),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every user of the domain, each exactly once.
    pub async fn fetch(&self, progress: &Progress) -> Result<Fetched, HttpError> {
        let admins: HashSet<String> = self
            .list(
                "domain administrators",
                "all_permissions=edit_domain&",
                &Progress::hidden(),
            )
            .await?
            .iter()
            .filter_map(|u| u.get("username").and_then(Value::as_str).map(str::to_string))
            .collect();
        let listed = self.list("users", "", progress).await?;
        let mut users = listed
            .iter()
            .map(|u| normalize(u, &admins, &self.source))
            .collect::<Result<Vec<_>, Unreadable>>()
            .map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: "/users/".to_string(),
                detail: detail.to_string(),
            })?;
        let titles = match self.group_titles().await {
            Ok(titles) => titles,
            // A key that may not read the group list: the names stay
            // unknown (rules on them go to review), and the rest is read.
            Err(HttpError::Status {
                status: status @ (403 | 404),
                ..
            }) => {
                let warning = Warning::new(
                    "dormant::connector::group_names_unknown",
                    format!(
                        "connector `{}`: the group list answered {status}; every group_name is unknown",
                        self.source
                    ),
                );
                return Ok(Fetched {
                    users,
                    warnings: vec![warning],
                });
            }
            Err(e) => return Err(e),
        };
        for u in &mut users {
            u.group_name = u.group.as_ref().map(|uids| {
                uids.iter()
                    .filter_map(|uid| titles.get(uid.as_str()))
                    .map(|t| crate::user::Text::from(t.as_str()))
                    .collect()
            });
        }
        Ok(Fetched::new(users))
    }

    /// Each group's title by uid, from one read of `/groups/`: a user's
    /// `groups` holds uids only [S: python/docs/User.md], and the group
    /// list `{total_count, next, previous, results: [UserGroup]}` carries
    /// each `uid` with its `title` [S: python/docs/UserGroupsApi.md
    /// `list_user_groups`, ListUserGroups200Response.md, UserGroup.md].
    async fn group_titles(&self) -> Result<HashMap<String, String>, HttpError> {
        let groups = self.list_of("/groups/", "groups", "", &Progress::hidden()).await?;
        Ok(groups
            .iter()
            .filter_map(|g| {
                let text = |k: &str| {
                    g.get(k)
                        .and_then(Value::as_str)
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                };
                Some((text("uid")?.to_string(), text("title")?.to_string()))
            })
            .collect())
    }

    /// All pages of `/users/`, checked against `total_count`.
    async fn list(&self, what: &'static str, filter: &str, progress: &Progress) -> Result<Vec<Value>, HttpError> {
        self.list_of("/users/", what, filter, progress).await
    }

    /// All pages of a list (`/users/`, `/groups/`), checked against `total_count`.
    async fn list_of(
        &self,
        endpoint: &'static str,
        what: &'static str,
        filter: &str,
        progress: &Progress,
    ) -> Result<Vec<Value>, HttpError> {
        let mut listing = Listing::new(PLATFORM, endpoint, what);
        let mut offset = 0;
        loop {
            let path = format!("{endpoint}?{filter}limit={}&offset={offset}", self.page);
            let page = self.client.get_json(&path).await?;
            let shape = |detail: &str| HttpError::Shape {
                platform: PLATFORM,
                endpoint: path.clone(),
                detail: detail.to_string(),
            };
            let results = page
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| shape("no `results` list"))?;
            // `total_count` is a number in answers and a string in the SDK.
            let total = match page.get("total_count") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            if let Some(t) = total {
                progress.set_total(t);
            }
            progress.inc(results.len() as u64);
            let n = results.len() as u64;
            listing.page(results.iter().cloned(), total)?;
            let more = page.get("next").is_some_and(|n| !n.is_null());
            if n == 0 || !more {
                break;
            }
            offset += n;
            listing.guard(offset)?;
        }
        listing.finish()
    }

    /// Removes a user from the domain (`DELETE /users/{username}/`). A 400
    /// is the platform's own message; the refusal to delete the last domain
    /// administrator is named as such only when the answer says it is.
    pub async fn delete(&self, username: &str) -> Result<(), HttpError> {
        let path = format!("/users/{}/", encode(username));
        match self.client.send(reqwest::Method::DELETE, &path, None).await {
            Ok(_) => Ok(()),
            Err(HttpError::Status {
                status: 400, message, ..
            }) if about_last_admin(&message) => Err(HttpError::Status {
                platform: PLATFORM,
                method: "DELETE".to_string(),
                endpoint: path,
                status: 400,
                message: format!("{message} (the platform refuses to delete the last domain administrator)"),
            }),
            Err(e) => Err(e),
        }
    }

    /// Revokes a user: their domain permissions and group memberships
    /// taken away, the closest Huwise comes to a deactivation (`is_active`
    /// and `expires_at` are read-only). Only on the admin's opt-in
    /// (`deactivate = "revoke"`). `user` is the user as read just before
    /// (`Huwise::read_raw`), whose other writable fields are sent back as
    /// they were, since a `PUT` may replace every writable field.
    pub async fn revoke(&self, username: &str, user: &Value) -> Result<(), HttpError> {
        let path = format!("/users/{}/", encode(username));
        if !self.revoke {
            return Err(not_opted_in(path));
        }
        self.put(&path, user, &[], &[]).await?;
        // The group endpoints too, in case the platform's PUT leaves
        // memberships alone: a 404 means the user is not a member (any more).
        for group in groups_of(user).unwrap_or_default() {
            let path = format!("/groups/{}/users/{}/", encode(&group), encode(username));
            match self.client.send(reqwest::Method::DELETE, &path, None).await {
                Err(e) if e.status() == Some(404) => {}
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }

    /// Gives a revoked user back the permissions and groups they had, and
    /// keeps any granted since.
    pub async fn restore(&self, username: &str, before: &Revoked) -> Result<(), HttpError> {
        let path = format!("/users/{}/", encode(username));
        let Some(user) = self.read_raw(username).await? else {
            return Err(HttpError::Status {
                platform: PLATFORM,
                method: "GET".to_string(),
                endpoint: path,
                status: 404,
                message: "the user is no longer in the domain".to_string(),
            });
        };
        let union = |now: Option<Vec<String>>, then: &[String]| {
            let mut all = now.unwrap_or_default();
            for t in then {
                if !all.contains(t) {
                    all.push(t.clone());
                }
            }
            all
        };
        let member_of = groups_of(&user).unwrap_or_default();
        let permissions = union(permissions_of(&user), &before.permissions);
        let groups = union(Some(member_of.clone()), &before.groups);
        self.put(&path, &user, &permissions, &groups).await?;
        for group in before.groups.iter().filter(|g| !member_of.contains(g)) {
            let body = serde_json::json!({ "username": username });
            let path = format!("/groups/{}/users/", encode(group));
            match self.client.send(reqwest::Method::POST, &path, Some(&body)).await {
                // A member already, through the PUT: the read back says.
                Err(e) if matches!(e.status(), Some(400 | 409)) => {}
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }

    /// `PUT /users/{username}/` with the user's writable fields as read,
    /// but `permissions` and `groups`. `email` is required in the body.
    async fn put(&self, path: &str, user: &Value, permissions: &[String], groups: &[String]) -> Result<(), HttpError> {
        let mut body = serde_json::Map::new();
        for key in WRITABLE {
            if let Some(v) = user.get(key).filter(|v| !v.is_null()) {
                body.insert(key.to_string(), v.clone());
            }
        }
        if !body.contains_key("email") {
            return Err(HttpError::Status {
                platform: PLATFORM,
                method: "PUT".to_string(),
                endpoint: path.to_string(),
                status: 0,
                message: "the user has no email, which Huwise requires on every update".to_string(),
            });
        }
        body.insert("permissions".into(), serde_json::json!(permissions));
        let groups: Vec<Value> = groups.iter().map(|g| serde_json::json!({ "uid": g })).collect();
        body.insert("groups".into(), Value::Array(groups));
        self.client
            .send(reqwest::Method::PUT, path, Some(&Value::Object(body)))
            .await
            .map(|_| ())
    }

    /// One user's record as Huwise answers it, `None` on 404.
    pub async fn read_raw(&self, username: &str) -> Result<Option<Value>, HttpError> {
        self.client
            .get_json_if_there(&format!("/users/{}/", encode(username)))
            .await
    }
}

/// The refusal of a revoke the admin did not opt in to.
/// Whether a 400's message is the refusal to delete the last domain
/// administrator ("Cannot delete the only domain administrator").
fn about_last_admin(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("admin") && (m.contains("last") || m.contains("only"))
}

fn not_opted_in(endpoint: String) -> HttpError {
    HttpError::Status {
        platform: PLATFORM,
        method: "PUT".to_string(),
        endpoint,
        status: 0,
        message: "Huwise has no deactivation; set `deactivate = \"revoke\"` on this connector to deactivate by taking the user's domain permissions and groups away".to_string(),
    }
}

/// The fields of a user that `PUT /users/{username}/` writes besides
/// `permissions` and `groups`: sent back unchanged [S: the SDK's OpenAPI
/// schema `User`, where every other field is readOnly].
const WRITABLE: [&str; 5] = [
    "email",
    "first_name",
    "last_name",
    "explore_limits",
    "management_limits",
];

/// What a revoke took away: journaled with its intent, so that undo gives
/// back exactly this.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Revoked {
    pub permissions: Vec<String>,
    pub groups: Vec<String>,
}

impl Revoked {
    /// What a revoke of `user` takes away; `None` when the record does not
    /// say (a missing list is not an empty one: journaling it as "had
    /// nothing" would make undo give back nothing).
    pub fn of(user: &Value) -> Option<Revoked> {
        Some(Revoked {
            permissions: permissions_of(user)?,
            groups: groups_of(user)?,
        })
    }

    /// Whether `u` has at least these permissions and groups again.
    pub fn holds(&self, u: &User) -> bool {
        let has = |set: &Option<Set>, want: &[String]| {
            want.iter()
                .all(|w| set.as_ref().is_some_and(|s| s.iter().any(|v| v.as_str() == w.as_str())))
        };
        has(&u.permission, &self.permissions) && has(&u.group, &self.groups)
    }
}

/// The permissions granted to a user directly; `None` when not said.
fn permissions_of(user: &Value) -> Option<Vec<String>> {
    user.get("permissions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

/// The uids of the groups a user is in: `{uid}` objects, whole group
/// objects, or bare uids; `None` when not said.
fn groups_of(user: &Value) -> Option<Vec<String>> {
    user.get("groups").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|g| g.get("uid").and_then(Value::as_str).or_else(|| g.as_str()))
            .map(str::to_string)
            .collect()
    })
}

impl Huwise {
    /// One user as the domain has them now (`GET /users/{username}/`);
    /// `None` when it answers 404. Whether they are an administrator is not
    /// read here: it takes the effective-permission list.
    pub async fn read(&self, username: &str) -> Result<Option<User>, HttpError> {
        let Some(u) = self.read_raw(username).await? else {
            return Ok(None);
        };
        normalize(&u, &HashSet::new(), &self.source)
            .map(|mut u| {
                u.is_admin = None;
                Some(u)
            })
            .map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: format!("/users/{}/", encode(username)),
                detail: detail.to_string(),
            })
    }
}

/// A path segment, percent-encoded.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One Huwise user as a dormant user (SPEC section 2).
pub fn normalize(u: &Value, admins: &HashSet<String>, source: &str) -> Result<User, Unreadable> {
    let text = |k: &str| {
        u.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let username = text("username").ok_or_else(|| Unreadable::NoUsername {
        json: Unreadable::json(u),
    })?;
    let time = |k: &str| -> Result<Known<crate::time::Time>, Unreadable> {
        match u.get(k) {
            None => Ok(Known::Unknown),
            Some(Value::Null) => Ok(Known::Never),
            Some(Value::String(s)) => crate::time::parse_time(s)
                .map(Known::Value)
                .ok_or_else(|| Unreadable::not_a_time(username, k, s)),
            Some(other) => Err(Unreadable::NotATime {
                user: username.to_string(),
                key: k.to_string(),
                value: other.to_string(),
            }),
        }
    };
    let login = time("last_login_at")?;
    let seen = time("last_seen_at")?;
    // A login time wins; failing that, a time the account was last used
    // (someone who used it logged in); only then does a null login mean
    // *never*. Absent both, nothing is known.
    let last_login = match (login, seen) {
        (Known::Value(t), _) | (_, Known::Value(t)) => Known::Value(t),
        (Known::Never, _) => Known::Never,
        (Known::Unknown, _) => Known::Unknown,
    };
    let strings = |k: &str| -> Option<Set> {
        u.get(k).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.as_str()),
                    // Groups: `{uid}` objects (or whole group objects).
                    Value::Object(o) => o.get("uid").and_then(Value::as_str),
                    _ => None,
                })
                .collect()
        })
    };
    let flag = |k: &str| u.get(k).and_then(Value::as_bool);
    let is_ods = flag("is_ods");
    let mut role: Set = Set::new();
    if let Some(t) = text("account_type") {
        role.push(t.into());
    }
    if is_ods == Some(true) {
        role.push("ods_staff".into());
    }
    let mut attr = Vec::new();
    if let Some(b) = is_ods {
        attr.push(("is_ods".into(), Attr::Bool(b)));
    }
    if let Some(t) = text("account_type") {
        attr.push(("account_type".into(), Attr::Text(t.to_string())));
    }
    if let Known::Value(t) = time("expires_at")? {
        attr.push(("expires_at".into(), Attr::Time(t)));
    }
    let name = text("display_name")
        .map(Into::into)
        .or_else(|| super::shape::full_name(u, "first_name", "last_name"));
    Ok(User {
        id: username.into(),
        username: Some(username.into()),
        email: text("email").map(Into::into),
        name,
        status: flag("is_active").map(|a| if a { Status::Active } else { Status::Disabled }),
        joined: time("joined_at")?.value(),
        last_login,
        last_activity: seen,
        group: strings("groups"),
        role: Some(role),
        permission: strings("permissions"),
        is_admin: Some(admins.contains(username)),
        source: Some(source.into()),
        attr,
        // Unknown: Huwise has no flag for API-only accounts and no counters.
        ..User::default()
    })
}

/// Huwise in `dormant.toml`: `kind = "huwise"`.
pub struct HuwisePlatform;

impl Platform for HuwisePlatform {
    fn kind(&self) -> &'static str {
        "huwise"
    }

    /// Huwise deactivates only as a revoke, which the connector must allow.
    fn refuses(&self, c: &Connector, action: PlanAction, count: usize) -> Option<String> {
        (action == PlanAction::Deactivate && !c.own::<HuwiseKeys>().revoke() && count > 0).then(|| format!(
            "the plan deactivates {count} users, and Huwise has no deactivation: set `deactivate = \"revoke\"` on connector `{}` to take their domain permissions and groups away instead (undo gives them back), or plan with `delete`",
            c.name
        ))
    }

    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn keys(&self) -> Keys {
        const KEYS: Keys = Keys {
            required: &["url", "api_key_env"],
            own: &[Key::text("deactivate")],
            retired: &["deactivate_via_expiry"],
            limits: true,
        };
        KEYS
    }

    /// Huwise has no deactivation: `deactivate = "revoke"` takes the user's
    /// domain permissions and groups away instead.
    fn configure(&self, _c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        if let Some(old) = table.span("deactivate_via_expiry") {
            return Err(Diag::error(
                Code::Config,
                old,
                "`deactivate_via_expiry` is gone: Huwise's `expires_at` is read-only, so an expiry set through the API changes nothing",
            )
            .label("remove this key")
            .help("write `deactivate = \"revoke\"` instead: a deactivate then takes the user's domain permissions and groups away, and undo gives them back"));
        }
        match table.text("deactivate") {
            Some((d, at)) if d != "revoke" => Err(Diag::error(
                Code::Config,
                at,
                format!("`deactivate` takes only \"revoke\", not `{d}`"),
            )
            .label("here")
            .help("Huwise has no deactivation: `deactivate = \"revoke\"` lets a policy's deactivate take the user's domain permissions and groups away (undo gives them back); leave the key out to refuse deactivate on this connector")),
            _ => Ok(Own::new(table.own::<HuwiseKeys>()?)),
        }
    }

    fn revokes(&self) -> bool {
        true
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Ok(Box::new(Huwise::connect(c)?))
    }

    fn acts(&self) -> bool {
        true
    }

    fn attrs(&self) -> &'static [&'static str] {
        &["is_ods", "account_type", "expires_at"]
    }

    fn supplies(&self, _c: &Connector, _field: &Field, _own: &dyn Fn(&Field) -> bool) -> Supply {
        Supply::Usual
    }

    fn check_rule(&self, c: &Connector, rule: &RuleCheck<'_>) -> Vec<Diag> {
        let name = rule.name;
        let action = &rule.rule.action;
        if action.node != "deactivate" {
            return Vec::new();
        }
        vec![if c.own::<HuwiseKeys>().revoke() {
            Diag::warning(
                Code::PartialAction,
                action.span,
                format!(
                    "on connector `{}`, deactivate is a revoke: the user's domain permissions and group memberships are taken away (undo gives them back), but grants made on single datasets or pages stay",
                    c.name
                ),
            )
            .label(format!("{name} revokes through connector `{}`", c.name))
            .help("Huwise has no deactivation (`is_active` and `expires_at` are read-only); remove grants on single datasets or pages in the back office, or use `delete` to remove the user from the domain")
        } else {
            Diag::error(
                Code::UnsupportedAction,
                action.span,
                format!("Huwise cannot deactivate users, and connector `{}` does not opt in to a revoke", c.name),
            )
            .label(format!("{name} cannot be applied through connector `{}`", c.name))
            .help(format!(
                "set `deactivate = \"revoke\"` on connector `{}` to deactivate by taking the user's domain permissions and groups away (undo gives them back), or use `delete`",
                c.name
            ))
        }]
    }
}

impl Huwise {
    /// One user's request.
    async fn act_on(&self, action: PlanAction, u: &User) -> Acted {
        match action {
            PlanAction::Delete => Acted::named(self.delete(&u.id).await),
            PlanAction::Deactivate => self.revoke_user(u).await,
            other => Acted::Failed(format!("Huwise cannot {}", other.as_str())),
        }
    }

    /// A deactivate: the user's permissions and groups taken away.
    async fn revoke_user(&self, u: &User) -> Acted {
        // The record `before` read, or a fresh one.
        let held = self.held.lock().ok().and_then(|mut h| h.remove(u.id.as_str()));
        let raw = match held {
            Some(raw) => raw,
            None => match self.read_raw(&u.id).await {
                Ok(Some(raw)) => raw,
                Ok(None) => return Acted::Failed("no longer in the domain".into()),
                Err(e) => return Acted::error(e),
            },
        };
        match self.revoke(&u.id, &raw).await {
            Ok(()) => Acted::Accepted,
            Err(e @ HttpError::Quota { .. }) => Acted::OutOfQuota(e.to_string()),
            // Some of its requests may have gone through: what the user is
            // now says what was done.
            Err(e) => match super::platform::confirm(self, true, PlanAction::Deactivate, u).await {
                Acted::Done => Acted::Done,
                _ => Acted::Unconfirmed(format!("the revoke stopped part way: {e}")),
            },
        }
    }

    /// What a revoke took away, from its journal record.
    fn revoked(before: Option<&Value>) -> Option<Revoked> {
        before.and_then(|b| serde_json::from_value(b.clone()).ok())
    }

    /// What a revoke is about to take away, read and kept for the request.
    async fn read_before(&self, u: &User) -> Result<Option<Value>, HttpError> {
        let Some(raw) = self.read_raw(&u.id).await? else {
            return Ok(None);
        };
        let Some(revoked) = Revoked::of(&raw) else {
            return Err(HttpError::Shape {
                platform: PLATFORM,
                endpoint: format!("/users/{}/", u.id),
                detail: "the user's record lists no `permissions` or no `groups`, so what a revoke takes away could not be recorded for undo".into(),
            });
        };
        if let Ok(mut held) = self.held.lock() {
            held.insert(u.id.to_string(), raw);
        }
        Ok(serde_json::to_value(revoked).ok())
    }
}

impl Connection for Huwise {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn batch(&self, _limits: &Limits) -> usize {
        1
    }

    fn fetch<'a>(&'a self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Fetched, HttpError>> {
        Box::pin(Huwise::fetch(self, progress))
    }

    fn read<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>> {
        Box::pin(Huwise::read(self, id))
    }

    fn send<'a>(
        &'a self,
        action: PlanAction,
        users: &'a [User],
        _connector: &'a str,
    ) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(super::platform::in_turn(users, move |u| self.act_on(action, u)))
    }

    fn before<'a>(&'a self, action: PlanAction, u: &'a User) -> LocalBoxFuture<'a, Result<Option<Value>, HttpError>> {
        Box::pin(async move {
            match action {
                PlanAction::Deactivate => self.read_before(u).await,
                _ => Ok(None),
            }
        })
    }

    fn two_steps(&self, _action: PlanAction) -> Option<TwoSteps> {
        None
    }

    fn reactivate<'a>(&'a self, ids: &'a [String], before: &'a [Option<Value>]) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(async move {
            let mut acted = Vec::with_capacity(ids.len());
            for (id, before) in ids.iter().zip(before) {
                acted.push(match Huwise::revoked(before.as_ref()) {
                    Some(r) => Acted::of(self.restore(id, &r).await),
                    None => Acted::Failed(
                        "the journal does not record the permissions and groups this user had (a deactivation made before revokes were journaled): give them back in Huwise's back office".into(),
                    ),
                });
            }
            acted
        })
    }

    fn restored(&self, before: Option<&Value>, u: &User) -> bool {
        match Huwise::revoked(before) {
            Some(r) => r.holds(u),
            None => u.status == Some(Status::Active),
        }
    }

    fn deletion(&self, _at: Option<Time>, _now: Time) -> (bool, String) {
        (
            false,
            "removed from the domain: cannot be undone here; invite them again (their groups and permissions are not restored)".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_time;

    #[test]
    fn normalizes_the_documented_user() {
        let u: Value = serde_json::from_str(
            r#"{"username": "louise.data", "display_name": "louise.data", "first_name": "Louise", "last_name": "Data",
                "email": "louise@example.org", "is_active": true, "is_ods": false, "account_type": "local",
                "permissions": ["edit_dataset", "publish_dataset"], "joined_at": "2021-03-02T10:11:12Z",
                "last_seen_at": "2024-11-20T08:00:00Z", "last_login_at": "2024-11-19T17:42:03Z",
                "expires_at": null, "groups": [{"uid": "gr_x7k2p1"}], "identity_providers": [{"uid": "idp_saml_1"}]}"#,
        )
        .unwrap();
        let admins = HashSet::from(["louise.data".to_string()]);
        let n = normalize(&u, &admins, "portal").unwrap();
        assert_eq!(n.id, "louise.data");
        assert_eq!(n.status, Some(Status::Active));
        assert_eq!(n.joined, parse_time("2021-03-02T10:11:12Z"));
        assert_eq!(n.last_login, Known::Value(parse_time("2024-11-19T17:42:03Z").unwrap()));
        assert_eq!(
            n.last_activity,
            Known::Value(parse_time("2024-11-20T08:00:00Z").unwrap())
        );
        assert_eq!(n.group.unwrap().as_slice(), ["gr_x7k2p1"]);
        assert_eq!(n.role.unwrap().as_slice(), ["local"]);
        assert_eq!(n.is_admin, Some(true));
        assert_eq!(n.is_service, None);
    }

    #[test]
    fn never_unknown_and_staff() {
        let n = |json: &str| normalize(&serde_json::from_str(json).unwrap(), &HashSet::new(), "p").unwrap();
        let never = n(r#"{"username": "a", "last_login_at": null, "last_seen_at": null, "is_active": false}"#);
        assert_eq!((never.last_login, never.status), (Known::Never, Some(Status::Disabled)));
        assert_eq!(n(r#"{"username": "a"}"#).last_login, Known::Unknown);
        // Seen but no login time: they did use the account.
        let seen = n(r#"{"username": "a", "last_login_at": null, "last_seen_at": "2024-01-01T00:00:00Z"}"#);
        assert_eq!(seen.last_login.value(), parse_time("2024-01-01"));
        let staff = n(r#"{"username": "a", "is_ods": true, "account_type": "global"}"#);
        assert_eq!(staff.role.unwrap().as_slice(), ["global", "ods_staff"]);
        assert!(normalize(&serde_json::json!({"email": "x@y"}), &HashSet::new(), "p").is_err());
        assert!(normalize(
            &serde_json::json!({"username": "a", "joined_at": "soon"}),
            &HashSet::new(),
            "p"
        )
        .is_err());
    }

    #[test]
    fn usernames_are_encoded_in_paths() {
        assert_eq!(encode("louise.data"), "louise.data");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
