//! Docebo LMS (CONNECTORS.md section 5): an OAuth2 token, users page by
//! page (`has_more_data`), temporary users from the pending list, dates
//! without a zone read in the `timezone` key's zone, deactivation by
//! `change_status`, deletion by `DELETE` with a JSON body (temporary users
//! by `reject`), outcomes confirmed by the answer or by reading the user
//! back, and, on opt-in, enrollments as activity counters.
//!
//! # What this module relies on
//!
//! Every fact about the platform, in one place. `[S: …]` names the vendor
//! source: unless said otherwise a file of `maspuce/docebo-php-sdk`, the
//! Swagger client generated from Docebo's own API definition. `[I]` marks
//! an assumption where the sources are silent (CONNECTORS.md sections 5
//! and 9): there the code accepts every plausible shape, and what it
//! cannot tell stays *unknown* or is read back, never taken as done.
//!
//! Tokens and limits
//! - `POST /oauth2/token`, form `client_id`, `client_secret`, `scope=api`
//!   and `grant_type=password` with `username`/`password`, or
//!   `client_credentials`; answer `access_token`, `expires_in` [S:
//!   help.docebo.com/hc/it/articles/360020082060]. An expired token answers
//!   401 `invalid_token` [I].
//! - 1,000 calls an hour from one address [S:
//!   help.docebo.com/hc/de/articles/360020126999]; 429 and 503 beyond the
//!   contract's limits [S: community.docebo.com tid=13953].
//!
//! The user list
//! - `GET /manage/v1/user` with `page`, `page_size` (default 200),
//!   `get_total_count`, `pending` [S: docs/Api/UserApi.md]; the answer is
//!   `{"data": {"items": [...]}}` [S: docs/Model/ManageUserIndexResponse.md,
//!   ManageUserIndexData.md]. Paging keys `has_more_data`, `total_page_count`,
//!   `total_count` and `count` (this page's items) inside `data` [I: the
//!   enrollment list documents the same keys, LearnEnrollmentIndexData.md];
//!   `page_size` at most 200 [S: riccardo-larosa/docebo-mcp-server:
//!   src/server/tools/users.ts].
//! - Items carry `user_id`, `username`, `email`, `first_name`, `last_name`,
//!   `level`, `role_title`, `status` (0 suspended, 1 unsuspended),
//!   `last_access_date`, `creation_date`; pending items `request_on`,
//!   `confirmed`, `create_by_admin` [S: docs/Model/ManageUserIndexItems.md].
//!   `user_id` is a number, text accepted; `status` "1"/"0" or 1/0 [I: typed
//!   int]; levels are `godadmin`, `power_user`, `user` [I: typed int]; dates
//!   are `YYYY-MM-DD HH:MM:SS` without a zone [I].
//!
//! Temporary users
//! - `pending=1` lists *temporary users*: self-registrations awaiting an
//!   admin's approval, not invitations [S: docs/Api/UserApi.md, "Approve
//!   temporary users", "Reject temporary user"; CONNECTORS.md corrections].
//!   They appear only with `pending=1` [I]. dormant lists them as `invited`
//!   with `attr.awaiting_approval = true` (every other user has `false`),
//!   never logged in, and not admins: they have no account yet, and the
//!   level is "available only for NOT pending users" [S:
//!   docs/Model/ManageUserIndexItems.md].
//! - `DELETE /manage/v1/user/reject` removes one; it answers
//!   `{"data": {"id_user": N}}` [S: docs/Model/ManageUserRejectUserResponse.md,
//!   ManageUserRejectUserData.md]. Its body is `{"id_user": N}` [I: the
//!   schema, ManageUserRejectUserSchema.md, lists no property], so one
//!   request per user.
//! - `/manage/v1/user/delete` and `change_status` do not act on them [S:
//!   CONNECTORS.md corrections]: their ids are never sent there, and a
//!   `deactivate` of one is skipped (there is nothing to deactivate).
//! - `GET /manage/v1/user/temp_details/{id_user}` reads one:
//!   `{"data": [{"user_details": [{"email", "user_name", "firstname",
//!   "lastname", "registration_date", "language"}]}]}` [S: docs/Api/UserApi.md,
//!   docs/Model/ManageUserTempDetailsResponse.md, ManageUserTempDetailsData.md,
//!   ManageUserTempDetailsUserDetails.md]; lists or single objects accepted
//!   at each level [I]; 404 when there is no such temporary user [I].
//!
//! One user
//! - `GET /manage/v1/user/{user_id}` answers `{"data": {"user_data": {...}}}`
//!   where `valid` is 1 (active) or 0 (not active) [S: docs/Api/UserApi.md,
//!   docs/Model/ManageUserViewResponse.md, ManageUserViewData.md,
//!   ManageUserViewUserData.md]; the user directly under `data`, and
//!   `status` instead of `valid`, accepted too [I]; 404 when there is no such
//!   user [I].
//!
//! Changing users
//! - `PUT /manage/v1/user/change_status`, body `{"user_ids": [...],
//!   "status": "0"}` ("1" reactivates) [S: docs/Model/ManageUserChangeStatusSchema.md;
//!   community.docebo.com/integrations-apis-45/removing-users-via-api-603];
//!   answer `{"data": [{"updated_ids": [...], "not_updated_ids": [...],
//!   "success": bool}]}` [S: ManageUserChangeStatusResponse.md,
//!   ManageUserChangeStatusData.md]; `data` as one object and an id given
//!   alone accepted too [I].
//! - `DELETE /manage/v1/user/delete`, body `{"user_ids": [...]}` [S:
//!   ManageUserDeleteSchema.md]; answer `{"data": [{"deleted_user_ids",
//!   "success"}]}` [S: ManageUserDeleteResponse.md], where the SDK types
//!   `deleted_user_ids` as a bool (ManageUserDeleteData.md) while answers
//!   seen in public code carry ids: one id, a list of ids or a bool are all
//!   accepted [I].
//! - A user an answer names as done (with no `success: false` beside) is
//!   done; one named as not done (`not_updated_ids`) failed; any other
//!   answer, a bool or a body that is not JSON included, is read back (one
//!   user, or a temporary user) before the user is recorded: 404 is
//!   deleted, `valid`/`status` 0 is deactivated (CONNECTORS.md, "confirm
//!   before recording").
//!
//! Enrollments
//! - `GET /learn/v1/enrollments?id_user[]=` [S: docs/Api/EnrollmentApi.md]
//!   answers `data` with `items`, `has_more_data`, `current_page`,
//!   `total_page_count` [S: LearnEnrollmentIndexData.md; `data` is typed as
//!   a list there, one object accepted too]; `page` and `page_size` (at most
//!   200) as on the user list [I: not among the SDK's parameters;
//!   CONNECTORS.md corrections]. Every page is read.
//! - Items carry `user_id` and `status` [S: LearnEnrollmentIndexItems.md];
//!   an enrollment is completed when its `status` is "completed" [I].
//! - `id_user[]` empty "returns full list" [S: EnrollmentApi.md], and the
//!   filter is not always applied [S: CONNECTORS.md corrections; public
//!   scripts filter again]: only items whose `user_id` is the user asked
//!   for are counted. Once an answer held other users' items, it was the
//!   whole list, and its counts serve every later user without asking
//!   again [I]. An item without a user id makes the counts *unknown* [I].

use super::platform::{Key, KeyType, Keys, Own, RuleCheck, Supply, Table, TwoSteps};
use super::Acted;
use super::{Connection, Connector, Error, Fetched, Platform, Unreadable};
use crate::decision::PlanAction;
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use crate::http::Limits;
use crate::http::{Body, Client, HttpError, Secret, Settings, Token, TokenFuture, Tokens};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Attr, Known, Set, Status, User};
use chrono::TimeZone;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
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

/// A `docebo` connector's own keys. Without `username` and
/// `password_env`, the client_credentials grant.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoceboKeys {
    pub client_id: String,
    /// The variable holding the OAuth client's secret.
    pub client_secret_env: String,
    /// The password grant's user, with `password_env`.
    pub username: Option<String>,
    /// The variable holding that user's password.
    pub password_env: Option<String>,
    /// The zone Docebo's dates are read in (they carry none); UTC when
    /// not set. `configure` has checked it names one.
    #[serde(default, deserialize_with = "zone")]
    pub timezone: Option<chrono_tz::Tz>,
    /// Count each user's enrollments (a request per user).
    #[serde(default)]
    pub enrollments: bool,
}

/// An IANA time zone's name, as a zone.
fn zone<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<chrono_tz::Tz>, D::Error> {
    let name = <String as serde::Deserialize>::deserialize(d)?;
    name.parse()
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("`{name}` is not a time zone dormant knows")))
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
    pub fn connect(c: &Connector) -> Result<Docebo, Error> {
        let own = c.own::<DoceboKeys>();
        let password = match (&own.username, &own.password_env) {
            (Some(_), Some(var)) => Some(Secret::from_env(var, "password_env", &c.name)?),
            (None, None) => None,
            _ => {
                return Err(Error::GrantKeys {
                    connector: c.name.clone(),
                })
            }
        };
        let secret = Secret::from_env(&own.client_secret_env, "client_secret_env", &c.name)?;
        Docebo::with(c, secret, password)
    }

    pub fn with(c: &Connector, client_secret: Secret, password: Option<Secret>) -> Result<Docebo, Error> {
        let own = c.own::<DoceboKeys>();
        let username = own.username.clone().unwrap_or_default();
        let oauth = OAuth {
            client_id: own.client_id.clone(),
            secret: client_secret,
            user: password.map(|p| (username.clone(), p)),
        };
        let client = Client::new(PLATFORM, &c.url, Settings::new(DEFAULTS, &c.limits))?.with_tokens(Box::new(oauth));
        Ok(Docebo {
            client,
            source: c.name.clone(),
            page: c.limits.batch_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE),
            batch: usize::try_from(c.limits.batch_size.unwrap_or(100))
                .unwrap_or(100)
                .max(1),
            zone: own.timezone.unwrap_or(chrono_tz::Tz::UTC),
            enrollments: own.enrollments,
            me: username,
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

    /// Every user, active, suspended and temporary, each exactly once.
    pub async fn fetch(&self, progress: &Progress) -> Result<Vec<User>, HttpError> {
        let mut users = Vec::new();
        let mut whole: Option<HashMap<String, Counts>> = None;
        for pending in [false, true] {
            for item in self.list(pending, progress).await? {
                let mut u = normalize(&item, &self.source, self.zone, pending).map_err(|detail| HttpError::Shape {
                    platform: PLATFORM,
                    endpoint: "/manage/v1/user".into(),
                    detail: detail.to_string(),
                })?;
                // A temporary user has no enrollments to count: they cannot
                // sign in before an admin approves them.
                if self.enrollments && !pending {
                    let counts = match &whole {
                        Some(all) => Some(all.get(u.id.as_str()).copied().unwrap_or_default()),
                        None => {
                            let read = self.enrollments_of(&u.id).await?;
                            let counts = read.of(&u.id);
                            // The whole list, each item naming its user: it
                            // answers for every later user too.
                            if read.whole && !read.anonymous {
                                whole = Some(read.by_user);
                            }
                            counts
                        }
                    };
                    // Unknown counts are left out, never given as 0.
                    if let Some(c) = counts {
                        u.activity.push(("courses_enrolled".into(), c.enrolled));
                        u.activity.push(("courses_completed".into(), c.completed));
                    }
                }
                users.push(u);
            }
        }
        Ok(users)
    }

    async fn list(&self, pending: bool, progress: &Progress) -> Result<Vec<Value>, HttpError> {
        let what = if pending {
            "temporary users (awaiting approval)"
        } else {
            "users"
        };
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
            if n == 0 || !more_pages(data, page) {
                break;
            }
            page += 1;
            listing.guard(seen)?;
        }
        listing.finish()
    }

    /// A user's enrollments, every page of them, counted by the user each
    /// item names: the `id_user[]` filter is not always applied.
    async fn enrollments_of(&self, id: &str) -> Result<Enrollments, HttpError> {
        let mut read = Enrollments::default();
        let mut page: u64 = 1;
        loop {
            let path = format!(
                "/learn/v1/enrollments?id_user[]={}&page={page}&page_size={MAX_PAGE}",
                segment(id)
            );
            let answer = self.client.get_json(&path).await?;
            let parts = data_parts(&answer);
            let mut n = 0;
            for item in parts
                .iter()
                .filter_map(|d| d.get("items").and_then(Value::as_array))
                .flatten()
            {
                n += 1;
                read.count(item, id);
            }
            if n == 0 || !parts.iter().any(|d| more_pages(d, page)) {
                break;
            }
            if page >= MAX_ENROLLMENT_PAGES {
                return Err(HttpError::Shape {
                    platform: PLATFORM,
                    endpoint: "/learn/v1/enrollments".into(),
                    detail: format!("the enrollments of user `{id}` go on past {MAX_ENROLLMENT_PAGES} pages"),
                });
            }
            page += 1;
        }
        Ok(read)
    }

    /// Deactivates (`active` false) or reactivates a batch of users: what
    /// the answer says of each.
    async fn set_status(&self, ids: &[String], active: bool) -> Result<Said, HttpError> {
        let body = serde_json::json!({ "user_ids": ids, "status": if active { "1" } else { "0" } });
        let answer = self
            .client
            .send(reqwest::Method::PUT, "/manage/v1/user/change_status", Some(&body))
            .await?;
        // A 2xx whose body cannot be read says nothing: the users are read back.
        let v = answer
            .json(PLATFORM, "/manage/v1/user/change_status")
            .unwrap_or(Value::Null);
        Ok(Said::of_status(&v))
    }

    /// Deletes a batch of users (never temporary ones): what the answer
    /// says of each.
    async fn delete(&self, ids: &[String]) -> Result<Said, HttpError> {
        let body = serde_json::json!({ "user_ids": ids.iter().map(|i| number(i)).collect::<Vec<_>>() });
        let answer = self
            .client
            .send(reqwest::Method::DELETE, "/manage/v1/user/delete", Some(&body))
            .await?;
        let v = answer.json(PLATFORM, "/manage/v1/user/delete").unwrap_or(Value::Null);
        Ok(Said::of_deletion(&v))
    }

    /// Rejects one temporary user's registration, which removes them: done
    /// when the answer names them, else to be read back.
    async fn reject(&self, id: &str) -> Acted {
        let body = serde_json::json!({ "id_user": number(id) });
        match self
            .client
            .send(reqwest::Method::DELETE, "/manage/v1/user/reject", Some(&body))
            .await
        {
            Ok(answer) => {
                let v = answer.json(PLATFORM, "/manage/v1/user/reject").unwrap_or(Value::Null);
                let named = data_parts(&v)
                    .iter()
                    .flat_map(|d| ids_named(d.get("id_user")))
                    .any(|named| named == id);
                if named {
                    Acted::Done
                } else {
                    Acted::Accepted
                }
            }
            Err(e) => Acted::error(e),
        }
    }

    /// Acts on a batch: temporary users through `reject` (delete) or not at
    /// all (deactivate), the others in one `delete` or `change_status`. What
    /// the answers leave open is `Acted::Accepted`, for `Live::act` to read
    /// back.
    pub async fn act(&self, action: PlanAction, users: &[User]) -> Vec<Acted> {
        let cannot = || Acted::Failed(format!("Docebo cannot {}", action.as_str()));
        let regular: Vec<String> = users
            .iter()
            .filter(|u| !self.is_me(u.username.as_deref()) && !is_temporary(u))
            .map(|u| u.id.to_string())
            .collect();
        let batch = match (action, regular.is_empty()) {
            (_, true) => Ok(Said::default()),
            (PlanAction::Delete, false) => self.delete(&regular).await,
            (PlanAction::Deactivate, false) => self.set_status(&regular, false).await,
            _ => return users.iter().map(|_| cannot()).collect(),
        };
        let mut acted = Vec::with_capacity(users.len());
        for u in users {
            acted.push(if self.is_me(u.username.as_deref()) {
                Acted::Skipped("the user dormant acts as".into())
            } else if is_temporary(u) {
                match action {
                    PlanAction::Delete => self.reject(&u.id).await,
                    PlanAction::Deactivate => Acted::Skipped(TEMPORARY_NOT_DEACTIVATED.into()),
                    _ => cannot(),
                }
            } else {
                match &batch {
                    Ok(said) => said.of(&u.id, action.as_str()),
                    Err(e) => Acted::error(e.clone()),
                }
            });
        }
        acted
    }

    /// Reactivates users deactivated earlier: done when the answer names
    /// them as updated or a read shows them active.
    pub async fn reactivate(&self, ids: &[String]) -> Vec<Acted> {
        let said = match self.set_status(ids, true).await {
            Ok(said) => said,
            Err(e) => return ids.iter().map(|_| Acted::Failed(e.to_string())).collect(),
        };
        let mut acted = Vec::with_capacity(ids.len());
        for id in ids {
            acted.push(match said.of(id, "reactivate") {
                Acted::Accepted => match self.read(id, false).await {
                    Ok(Some(u)) if u.status == Some(Status::Active) => Acted::Done,
                    Ok(Some(_)) => Acted::Unconfirmed(
                        "Docebo accepted the request, but the user read back afterwards is not active".into(),
                    ),
                    Ok(None) => Acted::Failed("the user is no longer on Docebo".into()),
                    Err(e) => Acted::Unconfirmed(format!(
                        "Docebo accepted the request, and reading the user back failed: {e}"
                    )),
                },
                other => other,
            });
        }
        acted
    }

    /// One user as the platform has them now; `None` when it answers 404.
    /// A temporary user is read from `temp_details`, any other from
    /// `GET /manage/v1/user/{id}`.
    pub async fn read(&self, id: &str, temporary: bool) -> Result<Option<User>, HttpError> {
        let path = if temporary {
            format!("/manage/v1/user/temp_details/{}", segment(id))
        } else {
            format!("/manage/v1/user/{}", segment(id))
        };
        let Some(answer) = self.client.get_json_if_there(&path).await? else {
            return Ok(None);
        };
        let record = if temporary {
            temporary_record(&answer, id)
        } else {
            viewed_record(&answer, id)
        };
        normalize(&record, &self.source, self.zone, temporary)
            .map(Some)
            .map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: path,
                detail: detail.to_string(),
            })
    }
}

/// Why a temporary user is not deactivated.
pub const TEMPORARY_NOT_DEACTIVATED: &str = "a temporary user awaiting approval (attr.awaiting_approval) has no account to deactivate on Docebo: a `delete` rule removes them, by rejecting the registration";

/// The attribute that marks a temporary user: a self-registration awaiting
/// an admin's approval, listed only with `pending=1`.
pub const AWAITING_APPROVAL: &str = "awaiting_approval";

/// Whether `u`, as fetched, is a temporary user.
pub fn is_temporary(u: &User) -> bool {
    matches!(u.attr(AWAITING_APPROVAL), Some(Attr::Bool(true)))
}

/// More enrollment pages than a user has: a list that never ends.
const MAX_ENROLLMENT_PAGES: u64 = 100_000;

/// A user's enrollment counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    enrolled: f64,
    completed: f64,
}

/// What the enrollment pages of one query held.
#[derive(Debug, Default)]
struct Enrollments {
    by_user: HashMap<String, Counts>,
    /// Items for another user than the one asked: the filter was ignored,
    /// and the answer was the whole list.
    whole: bool,
    /// Items that name no user: whose they are cannot be told.
    anonymous: bool,
}

impl Enrollments {
    fn count(&mut self, item: &Value, asked: &str) {
        let Some(user) = ["user_id", "id_user"].iter().find_map(|k| item.get(k)).and_then(one_id) else {
            self.anonymous = true;
            return;
        };
        if user != asked {
            self.whole = true;
        }
        let c = self.by_user.entry(user).or_default();
        c.enrolled += 1.0;
        if item.get("status").and_then(Value::as_str) == Some("completed") {
            c.completed += 1.0;
        }
    }

    /// The counts of `id`: `None` (unknown) when some item named no user.
    fn of(&self, id: &str) -> Option<Counts> {
        (!self.anonymous).then(|| self.by_user.get(id).copied().unwrap_or_default())
    }
}

/// What a change_status or delete answer says of each user.
#[derive(Debug, Default)]
struct Said {
    done: HashSet<String>,
    not_done: HashSet<String>,
}

impl Said {
    /// `{"data": [{"updated_ids", "not_updated_ids", "success"}]}`: ids
    /// updated count as done unless `success` is false beside them.
    fn of_status(answer: &Value) -> Said {
        let mut said = Said::default();
        for entry in data_parts(answer) {
            if flag(entry.get("success")) != Some(false) {
                said.done.extend(ids_named(entry.get("updated_ids")));
            }
            said.not_done.extend(ids_named(entry.get("not_updated_ids")));
        }
        said
    }

    /// `{"data": [{"deleted_user_ids", "success"}]}`, where
    /// `deleted_user_ids` is one id, a list of ids, or a bool that names
    /// nobody.
    fn of_deletion(answer: &Value) -> Said {
        let mut said = Said::default();
        for entry in data_parts(answer) {
            if flag(entry.get("success")) != Some(false) {
                said.done.extend(ids_named(entry.get("deleted_user_ids")));
            }
        }
        said
    }

    /// What it says of `id`, for a request that would `verb` them; an
    /// answer that contradicts itself or says nothing of them is
    /// `Accepted`: the user is read back.
    fn of(&self, id: &str, verb: &str) -> Acted {
        match (self.done.contains(id), self.not_done.contains(id)) {
            (true, false) => Acted::Done,
            (false, true) => Acted::Failed(format!("Docebo answered that it did not {verb} this user")),
            _ => Acted::Accepted,
        }
    }
}

/// Whether `data` says another page follows page `page`.
fn more_pages(data: &Value, page: u64) -> bool {
    match data.get("has_more_data") {
        Some(Value::Bool(b)) => *b,
        _ => data
            .get("total_page_count")
            .and_then(count)
            .is_some_and(|pages| page < pages),
    }
}

/// The objects under `data`: one, or each of a list.
fn data_parts(answer: &Value) -> Vec<&Value> {
    match answer.get("data") {
        Some(Value::Array(a)) => a.iter().filter(|v| v.is_object()).collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// The ids a value names: one id, or a list of them. A bool names nobody.
fn ids_named(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(one_id).collect(),
        // A lone 0 or 1 may be the SDK's bool written as a number: it names
        // nobody, and the user is read back.
        Some(Value::Number(n)) if matches!(n.as_u64(), Some(0 | 1)) => Vec::new(),
        Some(one) => one_id(one).into_iter().collect(),
        None => Vec::new(),
    }
}

/// An id, given as a whole number or as text.
fn one_id(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(|n| n.to_string())
            .or_else(|| n.as_i64().map(|n| n.to_string())),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// A bool as Docebo may give it: `true`, 1, "1", "true".
fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_u64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An id as the SDK types it (an integer), text when it is not one.
fn number(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| Value::from(id), Value::from)
}

/// A path or query segment, percent-encoded.
fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The user of a `GET /manage/v1/user/{id}` answer, as a list item: under
/// `data.user_data` (or `data`), with `valid` as the list's `status`.
fn viewed_record(answer: &Value, id: &str) -> Value {
    let data = answer.get("data").unwrap_or(answer);
    let mut user = data.get("user_data").unwrap_or(data).clone();
    if let Value::Object(m) = &mut user {
        if !m.contains_key("status") {
            if let Some(valid) = m.get("valid").cloned() {
                m.insert("status".into(), valid);
            }
        }
        m.entry("user_id").or_insert_with(|| number(id));
    }
    user
}

/// The temporary user of a `temp_details` answer, as a pending list item:
/// `data[].user_details[]`, each level a list or one object.
fn temporary_record(answer: &Value, id: &str) -> Value {
    let details = data_parts(answer)
        .into_iter()
        .find_map(|d| match d.get("user_details") {
            Some(Value::Array(a)) => a.iter().find(|v| v.is_object()),
            Some(one @ Value::Object(_)) => Some(one),
            _ => None,
        })
        .cloned()
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
    let field = |k: &str| details.get(k).cloned().unwrap_or(Value::Null);
    let mut user = serde_json::json!({ "user_id": number(id) });
    if let Value::Object(m) = &mut user {
        for (to, from) in [
            ("username", "user_name"),
            ("email", "email"),
            ("first_name", "firstname"),
            ("last_name", "lastname"),
            ("request_on", "registration_date"),
        ] {
            if details.get(from).is_some() {
                m.insert(to.into(), field(from));
            }
        }
    }
    user
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

pub fn normalize(u: &Value, source: &str, zone: chrono_tz::Tz, pending: bool) -> Result<User, Unreadable> {
    let id = super::shape::id(u, &["user_id", "id"])?;
    let text = |k: &str| super::shape::text(u, k);
    let not_a_date = |k: &str, value: String| Unreadable::NotADate {
        user: id.clone(),
        key: k.to_string(),
        value,
    };
    let time = |k: &str| -> Result<Known<Time>, Unreadable> {
        match u.get(k) {
            None => Ok(Known::Unknown),
            Some(Value::Null) => Ok(Known::Never),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(Known::Never),
            Some(Value::String(s)) => date(s, zone)
                .map(Known::Value)
                .ok_or_else(|| not_a_date(k, format!("`{s}`"))),
            Some(other) => Err(not_a_date(k, other.to_string())),
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
        // A temporary user cannot sign in before an admin approves them.
        last_login: if pending {
            Known::Never
        } else {
            time("last_access_date")?
        },
        role: (!role.is_empty()).then_some(role),
        // A temporary user has no account yet, so no level to hold.
        is_admin: if pending {
            Some(false)
        } else {
            level.map(|l| matches!(l.to_ascii_lowercase().as_str(), "godadmin" | "superadmin"))
        },
        source: Some(source.into()),
        // Known for every user: the list they came from says.
        attr: vec![(AWAITING_APPROVAL.into(), Attr::Bool(pending))],
        // Unknown: no last activity, groups, permissions or service flag.
        ..User::default()
    })
}

/// Docebo in `dormant.toml`: `kind = "docebo"`.
pub struct DoceboPlatform;

impl Platform for DoceboPlatform {
    fn kind(&self) -> &'static str {
        "docebo"
    }

    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn keys(&self) -> Keys {
        // Without username and password_env, the client_credentials grant.
        const KEYS: Keys = Keys {
            required: &["url", "client_id", "client_secret_env"],
            own: &[
                Key::text("username"),
                Key::text("password_env"),
                Key::text("timezone"),
                Key::new("enrollments", KeyType::Flag),
            ],
            retired: &[],
            limits: true,
        };
        KEYS
    }

    fn configure(&self, _c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        if let Some((tz, at)) = table.text("timezone") {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                return Err(
                    Diag::error(Code::Config, at, format!("`{tz}` is not a time zone dormant knows"))
                        .label("here")
                        .help("write an IANA time zone, such as \"Europe/Rome\" or \"UTC\""),
                );
            }
        }
        Ok(Own::new(table.own::<DoceboKeys>()?))
    }

    fn revokes(&self) -> bool {
        false
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Ok(Box::new(Docebo::connect(c)?))
    }

    fn acts(&self) -> bool {
        true
    }

    fn attrs(&self) -> &'static [&'static str] {
        &[AWAITING_APPROVAL]
    }

    fn supplies(&self, c: &Connector, field: &Field, own: &dyn Fn(&Field) -> bool) -> Supply {
        match field {
            Field::Activity(name) if ["courses_enrolled", "courses_completed"].contains(&name.as_str()) => {
                match c.own::<DoceboKeys>().enrollments {
                    true => Supply::Supplied,
                    false => Supply::Never(format!(
                        "connector `{}` counts enrollments only with `enrollments = true`",
                        c.name
                    )),
                }
            }
            Field::LastActivity | Field::Group | Field::GroupName | Field::Permission => {
                Supply::Never(format!("Docebo's user list has no `{field}`"))
            }
            // Counters without a last activity: true for some users, never false.
            Field::HasActivity if !own(&Field::LastActivity) => Supply::Never(
                "Docebo reports no last activity, so `has_activity` is never false: with enrollments counted it is true for a user with an enrollment and unknown for the rest".to_string(),
            ),
            _ => Supply::Usual,
        }
    }

    /// A `deactivate` rule: temporary users (self-registrations awaiting
    /// approval) have no account to deactivate, so apply skips those the
    /// rule reaches, unless it leaves them out; only `delete` removes them,
    /// by rejecting them.
    fn check_rule(&self, c: &Connector, rule: &RuleCheck<'_>) -> Vec<Diag> {
        let action = &rule.rule.action;
        if action.node != "deactivate" || super::platform::leaves_out(&rule.rule.cond, rule.lets, AWAITING_APPROVAL) {
            return Vec::new();
        }
        vec![Diag::warning(
            Code::UnsupportedAction,
            action.span,
            format!(
                "Docebo cannot deactivate temporary users (self-registrations awaiting approval, `attr.awaiting_approval`): apply skips those this rule reaches through connector `{}`",
                c.name
            ),
        )
        .label(format!("{} skips users awaiting approval", rule.name))
        .help(
            "to remove users awaiting approval, give them a `delete` rule before this one (for example `pending: attr.awaiting_approval and joined > 30d -> delete`, which rejects their registration); or add `and not attr.awaiting_approval` to this rule to leave them out",
        )]
    }

    fn unsupplied_label(&self, c: &Connector, field: &Field, rule: &str) -> Option<String> {
        // True for a user with an enrollment: only the others are unknown.
        (c.own::<DoceboKeys>().enrollments && *field == Field::HasActivity)
            .then(|| format!("{rule} depends on it, so every user without an enrollment goes to review"))
    }

    fn supply_help(&self, c: &Connector, field: &Field) -> Option<String> {
        (*field == Field::HasActivity).then(|| format!(
            "to tell users with no learning at all, compare the enrollment counters instead (`activity.courses_enrolled == 0`, with `enrollments = true` on connector `{}`), or give `last_activity` in an `enrich` file",
            c.name
        ))
    }
}

impl Connection for Docebo {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn batch(&self, _limits: &Limits) -> usize {
        self.batch
    }

    fn fetch<'a>(&'a self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Fetched, HttpError>> {
        Box::pin(async move { Docebo::fetch(self, progress).await.map(Fetched::new) })
    }

    /// By id alone, a user of the user list.
    fn read<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>> {
        Box::pin(Docebo::read(self, id, false))
    }

    /// A temporary user has an endpoint of their own.
    fn read_back<'a>(&'a self, u: &'a User) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>> {
        Box::pin(Docebo::read(self, &u.id, is_temporary(u)))
    }

    /// Temporary users (awaiting approval) go through `reject`, or are
    /// skipped: the user delete and change_status never carry them.
    fn send<'a>(
        &'a self,
        action: PlanAction,
        users: &'a [User],
        _connector: &'a str,
    ) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(self.act(action, users))
    }

    fn two_steps(&self, _action: PlanAction) -> Option<TwoSteps> {
        None
    }

    fn reactivate<'a>(&'a self, ids: &'a [String], _before: &'a [Option<Value>]) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(Docebo::reactivate(self, ids))
    }

    fn deletion(&self, _at: Option<Time>, _now: Time) -> (bool, String) {
        (
            false,
            "deleted on Docebo with their progress, enrollments and history: cannot be undone".into(),
        )
    }
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
        assert!(is_temporary(&invited));
        assert!(!is_temporary(&u));
        assert_eq!(u.attr(AWAITING_APPROVAL), Some(&Attr::Bool(false)));
    }

    fn said_of_deletion(answer: Value, id: &str) -> Acted {
        Said::of_deletion(&answer).of(id, "delete")
    }

    #[test]
    fn deletion_answers_name_users_by_one_id_a_list_or_not_at_all() {
        use serde_json::json;
        // Ids as public code reads them.
        let list = json!({"data": [{"deleted_user_ids": [3, "6"], "success": true}]});
        assert_eq!(said_of_deletion(list.clone(), "3"), Acted::Done);
        assert_eq!(said_of_deletion(list.clone(), "6"), Acted::Done);
        // Not named: read back, never failed on the answer's word alone.
        assert_eq!(said_of_deletion(list, "9"), Acted::Accepted);
        // One entry per user, the id alone.
        let each =
            json!({"data": [{"deleted_user_ids": 3, "success": true}, {"deleted_user_ids": "6", "success": false}]});
        assert_eq!(said_of_deletion(each.clone(), "3"), Acted::Done);
        assert_eq!(said_of_deletion(each, "6"), Acted::Accepted);
        // The SDK's bool (docs/Model/ManageUserDeleteData.md) names nobody.
        let flag = json!({"data": [{"deleted_user_ids": true, "success": true}]});
        assert_eq!(said_of_deletion(flag, "3"), Acted::Accepted);
        // ... and that bool as a number names nobody either, not user 1.
        let one = json!({"data": [{"deleted_user_ids": 1, "success": true}]});
        assert_eq!(said_of_deletion(one, "1"), Acted::Accepted);
        // `data` as one object.
        assert_eq!(
            said_of_deletion(json!({"data": {"deleted_user_ids": [3], "success": "1"}}), "3"),
            Acted::Done
        );
        assert_eq!(said_of_deletion(Value::Null, "3"), Acted::Accepted);
    }

    #[test]
    fn change_status_answers_name_users_updated_and_not() {
        use serde_json::json;
        let answer = json!({"data": [{"updated_ids": [4], "not_updated_ids": ["7"], "success": true}]});
        let said = Said::of_status(&answer);
        assert_eq!(said.of("4", "deactivate"), Acted::Done);
        assert_eq!(
            said.of("7", "deactivate"),
            Acted::Failed("Docebo answered that it did not deactivate this user".into())
        );
        assert_eq!(said.of("8", "deactivate"), Acted::Accepted);
        assert_eq!(
            said.of("7", "reactivate"),
            Acted::Failed("Docebo answered that it did not reactivate this user".into())
        );
        // Updated beside `success: false`, or named both ways: read back.
        let doubt = json!({"data": {"updated_ids": 4, "success": false}});
        assert_eq!(Said::of_status(&doubt).of("4", "deactivate"), Acted::Accepted);
        let both = json!({"data": [{"updated_ids": [4], "not_updated_ids": [4]}]});
        assert_eq!(Said::of_status(&both).of("4", "deactivate"), Acted::Accepted);
    }

    #[test]
    fn one_user_read_in_the_vendor_shapes() {
        use serde_json::json;
        // docs/Model/ManageUserViewResponse.md: the user under data.user_data, `valid` for status.
        let view = json!({"data": {"user_data": {"user_id": 4, "username": "l4", "valid": 0, "level": 3},
                                   "additional_fields": []}});
        let u = normalize(&viewed_record(&view, "4"), "l", chrono_tz::Tz::UTC, false).unwrap();
        assert_eq!((u.id.as_str(), u.status), ("4", Some(Status::Disabled)));
        // No `level` text: whether they are an admin stays unknown.
        assert_eq!(u.is_admin, None);
        let flat = json!({"data": {"username": "l5", "status": "1"}});
        let u = normalize(&viewed_record(&flat, "5"), "l", chrono_tz::Tz::UTC, false).unwrap();
        assert_eq!((u.id.as_str(), u.status), ("5", Some(Status::Active)));
        // docs/Model/ManageUserTempDetailsResponse.md: lists at both levels.
        let temp = json!({"data": [{"user_settings": [], "additional_fields": [],
            "user_details": [{"email": "n@example.com", "user_name": "newcomer", "firstname": "N", "lastname": "C",
                              "registration_date": "2026-10-01 08:00:00", "language": "english"}]}]});
        let u = normalize(&temporary_record(&temp, "900"), "l", chrono_tz::Tz::UTC, true).unwrap();
        assert_eq!(
            (u.id.as_str(), u.username.as_deref(), u.status),
            ("900", Some("newcomer"), Some(Status::Invited))
        );
        assert_eq!(u.joined, parse_time("2026-10-01T08:00:00Z"));
        assert!(is_temporary(&u));
        let bare = normalize(
            &temporary_record(&json!({"data": {}}), "901"),
            "l",
            chrono_tz::Tz::UTC,
            true,
        )
        .unwrap();
        assert_eq!(bare.id.as_str(), "901");
    }

    #[test]
    fn enrollments_counted_for_the_user_asked_only() {
        use serde_json::json;
        let mut e = Enrollments::default();
        for item in [
            json!({"user_id": 3, "status": "completed"}),
            json!({"user_id": "3", "status": "in_progress"}),
        ] {
            e.count(&item, "3");
        }
        assert!(!e.whole);
        assert_eq!(
            e.of("3"),
            Some(Counts {
                enrolled: 2.0,
                completed: 1.0
            })
        );
        // Someone else's item: the filter was not applied.
        e.count(&json!({"user_id": 4, "status": "completed"}), "3");
        assert!(e.whole);
        assert_eq!(e.of("3").map(|c| c.enrolled), Some(2.0));
        assert_eq!(e.of("5"), Some(Counts::default()));
        // An item naming no one: nobody's counts can be told.
        e.count(&json!({"status": "completed"}), "3");
        assert_eq!(e.of("3"), None);
    }
}
