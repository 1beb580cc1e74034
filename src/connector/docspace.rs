//! ONLYOFFICE DocSpace, API 2.0 (CONNECTORS.md section 4): users of every
//! status through the people filter, last logins from the login history
//! read once for the whole portal, deactivation by the Terminated status,
//! deletion after it.
//!
//! What this connector takes the server to do, in one place. `[DS: path]`
//! is a file of ONLYOFFICE/DocSpace-server (read at commit ed2994e7,
//! 2026-06-30); `[C9]` marks a choice CONNECTORS.md section 9 makes where
//! the sources are silent.
//!
//! Login history (`GET /security/audit/login/filter`):
//! - It orders the portal's events newest first and applies `startIndex`
//!   and `count` BEFORE the `userId`, `action`, `from` and `to` filters, so
//!   `userId=X` finds X's events among one page of everyone's, not X's
//!   last login [DS: common/services/ASC.AuditTrail/Repositories/
//!   LoginEventsRepository.cs `GetByFilterAsync`]. Hence one read of the
//!   whole history, unfiltered, a page at a time.
//! - `count` is 1 to 100, more answers 400 [DS: web/ASC.Web.Api/ApiModels/
//!   RequestsDto/LoginEventRequestDto.cs `[Range(1, ApiContext.MaxCount)]`;
//!   common/ASC.Api.Core/Core/ApiContext.cs `MaxCount = 100`].
//! - A successful login is told by `actionId` alone, a number on the wire
//!   (no string-enum converter: common/ASC.Api.Core/Core/
//!   DynamicIgnoreResolver.cs `ConfigureJsonOptions`): the server's own
//!   `_loginActions` [DS: common/ASC.Core.Common/Data/DbLoginEventsManager.cs]
//!   plus 1028 LoginSuccessViaOAuth, which that list lacks but the success
//!   list of `LoginEventsRepository.GetLastSuccessEventAsync` holds. Web
//!   logins are 1029 LoginSuccessViaPassword, API logins 1010 [DS:
//!   common/ASC.Core.Common/Messaging/MessageAction.cs]. The `action` text is
//!   the resource string in the API user's language [DS: common/services/
//!   ASC.AuditTrail/Mappers/MessageMaps.cs `GetActionText`,
//!   AuditReportResource.*.resx], so it is never read.
//! - Without the plan's audit option the filter call answers the 20 latest
//!   events, whatever the filters and `startIndex` [DS: web/ASC.Web.Api/Api/
//!   SecurityController.cs `GetLoginEventsByFilter` → `GetLastLoginEvents`];
//!   with login history hidden from the portal it answers 402
//!   (`DemandBaseAuditPermission` throws `BillingException`, which
//!   common/ASC.Api.Core/Middleware/ResponseWrapper.cs answers 402).
//! - It needs the portal-settings right (`EditPortalSettings`) [DS:
//!   SecurityController.cs] and, for an API key, the global read scope
//!   `*:read` or `*:write`: `/security` is in no local scope [DS:
//!   common/ASC.Api.Core/Auth/AuthorizationExtension.cs `ScopesMap`,
//!   `GetAuthorizePolicy`]. A 403 is that, and is reported as such.
//! - Events are purged once a day when older than `loginHistoryLifeTime`
//!   days, 180 by default and at most [DS: common/services/ASC.ClearEvents/
//!   Services/ClearEventsService.cs; common/ASC.Core.Common/Tenants/
//!   TenantAuditSettings.cs], read from `GET /security/audit/settings/lifetime`.
//!   An event's `date` carries the portal's offset [C9].
//!
//! People:
//! - `Authorization: Bearer KEY`; the list total is `total`; `count` is at
//!   most 100; `employeeStatus=7` (All) lists every status for an admin
//!   [C9]; keys may come in camelCase or PascalCase, statuses as numbers or
//!   names [C9]; an invited user has status 4 (Pending) with
//!   activationStatus 2 [C9].
//! - `PUT /people/status/{status}` refuses the whole list (403) if it holds
//!   a system or LDAP account, the owner, the caller, or (unless the caller
//!   is the owner) a DocSpace admin, and answers with the profile of every
//!   user listed, as changed [DS: products/ASC.People/Server/Api/
//!   UserController.cs `UpdateUserStatus`]. Setting Active again may leave
//!   an unused invitation Pending (status 4), and may answer 402 when no
//!   seat is left, after enabling some (same method).
//! - `DELETE /people/{id}` answers the deleted profile; a user not
//!   Terminated is refused with 403 ("The user is not suspended":
//!   `InvalidOperationException`, 403 in ResponseWrapper.cs) [DS:
//!   UserController.cs `DeleteMember`].
//! - `GET /people/{id}` answers the profile, 404 once the user is deleted
//!   (removed users read as the lost user) [DS: UserController.cs
//!   `GetProfileByUserId`; common/ASC.Core.Common/Context/Impl/
//!   UserManager.cs `GetUsersAsync`].

use super::platform::{Keys, Own, RuleCheck, Supply, Table, TwoSteps};
use super::{Acted, Listing};
use super::{Connection, Connector, Error, Fetched, Platform, Unreadable, Warning};
use crate::decision::PlanAction;
use crate::diagnostic::Diag;
use crate::fields::Field;
use crate::http::Limits;
use crate::http::{Client, HttpError, Secret, Settings};
use crate::progress::Progress;
use crate::time::Time;
use crate::user::{Attr, Deactivated, Known, Set, Status, User};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

pub const PLATFORM: &str = "DocSpace";

const MAX_PAGE: u64 = 100;

/// Events asked per page of the login history: its most (more answers 400).
const EVENTS_PAGE: u64 = 100;

/// More events than a history of 180 days holds: a server that never ends
/// its pages.
const MAX_EVENTS: u64 = 100_000_000;

/// The `actionId`s of a successful login.
const LOGIN_ACTIONS: [(i64, &str); 13] = [
    (1000, "LoginSuccess"),
    (1001, "LoginSuccessViaSocialAccount"),
    (1007, "LoginSuccessViaSms"),
    (1010, "LoginSuccessViaApi"),
    (1011, "LoginSuccessViaSocialApp"),
    (1012, "LoginSuccessViaApiSms"),
    (1015, "LoginSuccessViaSSO"),
    (1019, "LoginSuccessViaApiSocialAccount"),
    (1021, "LoginSuccesViaTfaApp"),
    (1024, "LoginSuccessViaApiTfa"),
    (1027, "AuthLinkActivated"),
    (1028, "LoginSuccessViaOAuth"),
    (1029, "LoginSuccessViaPassword"),
];

/// A user id that is no one's: the probe that tells whether the history's
/// filters work (see `DocSpace::history`). Not the empty GUID, which the
/// server reads as "no filter".
const NO_ONE: &str = "6f1c2d3e-0000-4000-8000-00000000d05e";

const LIFETIME: &str = "/security/audit/settings/lifetime";

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

/// What the login history tells.
#[derive(Debug, PartialEq)]
enum History {
    Read {
        /// Each user's newest successful login, by lower-case id; `None`
        /// when one of their successful logins has no date dormant can read.
        newest: HashMap<String, Option<Time>>,
        /// From when on the history holds every login: the later of `now`
        /// less the history's lifetime and the oldest event read (a lifetime
        /// raised lately has not brought back what was purged before).
        reach: Option<Time>,
    },
    /// Nothing can be told, and why.
    Unavailable(String),
}

/// One login event: the fields dormant reads, the others skipped unparsed
/// (a history holds hundreds of thousands of events, each with 13 fields:
/// LoginEventDto.cs). Keys in camelCase, or PascalCase as older portals.
#[derive(Debug, PartialEq, serde::Deserialize)]
struct LoginEvent {
    #[serde(default, alias = "Id")]
    id: Option<Value>,
    #[serde(default, alias = "Date")]
    date: Option<Value>,
    #[serde(default, rename = "userId", alias = "UserId")]
    user_id: Option<Value>,
    #[serde(default, rename = "actionId", alias = "ActionId")]
    action_id: Option<Value>,
}

impl LoginEvent {
    fn date(&self) -> Option<Time> {
        self.date
            .as_ref()
            .and_then(Value::as_str)
            .and_then(crate::time::parse_time)
    }

    fn user(&self) -> Option<&str> {
        self.user_id
            .as_ref()
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// A page of the history in DocSpace's envelope.
#[derive(serde::Deserialize)]
struct Events {
    #[serde(alias = "Response")]
    response: Vec<LoginEvent>,
}

/// One page of the login history.
enum Page {
    Events(Vec<LoginEvent>),
    /// 402: no login history on this portal; why.
    Unavailable(String),
}

/// A user's last login from the history.
fn last_login(history: &HashMap<String, Option<Time>>, reach: Option<Time>, u: &User) -> Known<Time> {
    match history.get(u.id.to_ascii_lowercase().as_str()) {
        Some(Some(t)) => Known::Value(*t),
        Some(None) => Known::Unknown,
        // Registered while the history kept everything: no event, no login.
        None => match (reach, u.joined) {
            (Some(reach), Some(joined)) if joined >= reach => Known::Never,
            _ => Known::Unknown,
        },
    }
}

/// Whether an event's `actionId` is a successful login's: a number (or,
/// tolerated, a numeric string or the action's name).
fn is_login(action: Option<&Value>) -> bool {
    match action {
        Some(Value::Number(n)) => n.as_i64().is_some_and(|id| LOGIN_ACTIONS.iter().any(|(a, _)| *a == id)),
        Some(Value::String(s)) => {
            let s = s.trim();
            LOGIN_ACTIONS
                .iter()
                .any(|(id, name)| s.eq_ignore_ascii_case(name) || s.parse::<i64>().ok() == Some(*id))
        }
        _ => false,
    }
}

/// A 403 from the login history, worded as what the key lacks.
fn forbidden(e: HttpError) -> HttpError {
    match e {
        HttpError::Status {
            platform,
            method,
            endpoint,
            status: 403,
            message,
        } => HttpError::Status {
            platform,
            method,
            endpoint,
            status: 403,
            message: format!(
                "{message}: reading the login history takes the portal-settings right of a DocSpace admin \
                 (the key's owner must be the owner or a DocSpace admin) and, for an API key, the global \
                 read scope `*:read` (or `*:write`); this key lacks one of them"
            ),
        },
        other => other,
    }
}

/// Every user of `ids` done as `e` says: out of quota, or failed.
fn all_failed(n: usize, e: &HttpError) -> Vec<Acted> {
    (0..n).map(|_| Acted::error(e.clone())).collect()
}

/// What a status answer (or error) means for one user sent to Terminated.
/// An error other than a refusal stops the batches after it (`stop`).
fn terminated(id: &str, result: Result<HashSet<String>, HttpError>, stop: &mut Option<HttpError>) -> Acted {
    match result {
        Ok(changed) if changed.contains(&id.to_ascii_lowercase()) => Acted::Done,
        Ok(_) => Acted::Accepted,
        Err(e) if e.status() == Some(403) => Acted::Skipped(format!(
            "DocSpace refuses to change this account: a protected or system account (or the key may not edit users: {e})"
        )),
        Err(e) => {
            *stop = Some(e.clone());
            Acted::error(e)
        }
    }
}

/// A `docspace` connector's own keys.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocSpaceKeys {
    /// The variable holding the API key.
    pub api_key_env: String,
}

impl DocSpace {
    pub fn connect(c: &Connector) -> Result<DocSpace, Error> {
        let var = &c.own::<DocSpaceKeys>().api_key_env;
        DocSpace::with_key(c, Secret::from_env(var, "api_key_env", &c.name)?)
    }

    pub fn with_key(c: &Connector, key: Secret) -> Result<DocSpace, Error> {
        let client = Client::new(
            PLATFORM,
            &format!("{}/api/2.0", c.url),
            Settings::new(DEFAULTS, &c.limits),
        )?;
        client.set_auth("authorization", &format!("Bearer {}", key.expose()), &key)?;
        Ok(DocSpace {
            client,
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

    pub async fn fetch(&self, progress: &Progress, now: Time) -> Result<Fetched, HttpError> {
        let people = self.people(progress).await?;
        let mut users = people
            .iter()
            .map(|p| normalize(p, &self.source))
            .collect::<Result<Vec<_>, Unreadable>>()
            .map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: "/people/filter".to_string(),
                detail: detail.to_string(),
            })?;
        if users.is_empty() {
            return Ok(Fetched::new(users));
        }
        let read = progress.next("login events read");
        let history = self.history(&read, now).await;
        read.finish();
        let mut warnings = Vec::new();
        match history? {
            History::Read { newest, reach } => {
                for u in &mut users {
                    u.last_login = last_login(&newest, reach, u);
                }
            }
            // Every last login stays unknown, as `normalize` left it: rules
            // on logins then send these users to review, never act.
            History::Unavailable(why) => warnings.push(Warning::new(
                "dormant::connector::logins_unknown",
                format!("connector `{}`: {why}; every last login is unknown", self.source),
            )),
        }
        Ok(Fetched { users, warnings })
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

    /// One page of the login history: 402 means there is none; 403 is the
    /// key's lack, an error.
    async fn events(&self, path: &str) -> Result<Page, HttpError> {
        let answer = match self.client.get(path).await {
            Ok(a) => a,
            Err(e) if e.status() == Some(402) => {
                return Ok(Page::Unavailable(format!(
                    "{e} (the portal's plan has no login history, or it is turned off)"
                )))
            }
            Err(e) if e.status() == Some(403) => return Err(forbidden(e)),
            Err(e) => return Err(e),
        };
        serde_json::from_slice::<Events>(&answer.body)
            .map(|page| Page::Events(page.response))
            .map_err(|e| HttpError::Shape {
                platform: PLATFORM,
                endpoint: path.to_string(),
                detail: format!("not a list of login events in `response` ({e})"),
            })
    }

    /// The history's lifetime in days, if the portal says.
    async fn lifetime(&self) -> Result<Option<i64>, HttpError> {
        match self.client.get_json(LIFETIME).await {
            Ok(v) => {
                let body = get(&v, "response").unwrap_or(&v);
                Ok(get(body, "loginHistoryLifeTime")
                    .and_then(Value::as_i64)
                    .filter(|days| *days > 0))
            }
            Err(e) if e.status() == Some(403) => Err(forbidden(e)),
            // Unknown: the whole history is read, and its oldest event
            // alone bounds the reach.
            Err(_) => Ok(None),
        }
    }

    /// Reads the portal's login history once, newest first, and keeps each
    /// user's newest successful login.
    ///
    /// First a probe: `userId` of no one with `count=1`. A server whose
    /// filters work takes the newest event and then filters it out, so it
    /// answers none, always; one without the plan's audit option answers
    /// its 20 latest events whatever was asked (SecurityController.cs
    /// `GetLoginEventsByFilter`). Telling it by the answers alone would not
    /// do: those 20 events look like a short, final first page. A portal
    /// with no event at all cannot be told apart either way, so it tells
    /// nothing. As a second guard, a full page equal to the one before
    /// means `startIndex` is ignored.
    ///
    /// Then pages of 100 at `startIndex` 0, 100, 200, … with no filter,
    /// one after the other, never several at once: logins that arrive
    /// meanwhile go on top and push every event one place later, so a page
    /// may repeat the last events of the one before (harmless for "newest
    /// per user"), but in this order none is skipped. Pages read out of
    /// order could skip the events pushed across a page boundary between
    /// two reads. The purge removes only the oldest events, from the end.
    /// It stops at a short page (the end) or at a page reaching past the
    /// lifetime (older events are leftovers of the daily purge).
    async fn history(&self, progress: &Progress, now: Time) -> Result<History, HttpError> {
        let probe = format!("/security/audit/login/filter?userId={NO_ONE}&count=1");
        match self.events(&probe).await? {
            Page::Unavailable(why) => return Ok(History::Unavailable(why)),
            Page::Events(events) if !events.is_empty() => {
                return Ok(History::Unavailable(
                    "the login history ignores its filters (the portal's plan lacks the audit option, so it \
                     answers only its 20 latest events)"
                        .to_string(),
                ))
            }
            Page::Events(_) => {}
        }
        let since = self
            .lifetime()
            .await?
            .and_then(|days| now.checked_sub_signed(chrono::TimeDelta::try_days(days)?));
        let mut newest: HashMap<String, Option<Time>> = HashMap::new();
        let mut oldest: Option<Time> = None;
        let mut previous: Vec<LoginEvent> = Vec::new();
        let mut start: u64 = 0;
        loop {
            let path = format!("/security/audit/login/filter?count={EVENTS_PAGE}&startIndex={start}");
            let events = match self.events(&path).await? {
                Page::Events(events) => events,
                Page::Unavailable(why) => return Ok(History::Unavailable(why)),
            };
            let n = events.len() as u64;
            progress.inc(n);
            // The cost is a request per page: said as it grows.
            progress.say(format!("login events read, {} requests", start / EVENTS_PAGE + 1));
            if n == EVENTS_PAGE && events == previous {
                return Ok(History::Unavailable(format!(
                    "the login history answered the same events at startIndex {} and {start}: it ignores paging",
                    start.saturating_sub(EVENTS_PAGE)
                )));
            }
            let mut page_oldest: Option<Time> = None;
            for e in &events {
                let date = e.date();
                if let Some(d) = date {
                    oldest = Some(oldest.map_or(d, |o| o.min(d)));
                    page_oldest = Some(page_oldest.map_or(d, |o| o.min(d)));
                }
                let Some(user) = e.user().filter(|_| is_login(e.action_id.as_ref())) else {
                    continue;
                };
                newest
                    .entry(user.to_ascii_lowercase())
                    .and_modify(|known| {
                        // An undated login might be the newest: unknown.
                        *known = match (*known, date) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            _ => None,
                        }
                    })
                    .or_insert(date);
            }
            if n < EVENTS_PAGE || since.is_some_and(|s| page_oldest.is_some_and(|o| o < s)) {
                break;
            }
            start += n;
            if start >= MAX_EVENTS {
                return Err(HttpError::Shape {
                    platform: PLATFORM,
                    endpoint: path,
                    detail: format!("the login history goes on past {MAX_EVENTS} events"),
                });
            }
            previous = events;
        }
        let Some(oldest) = oldest else {
            return Ok(History::Unavailable(
                "the login history holds no event at all, which a portal whose plan lacks the audit option \
                 may also answer"
                    .to_string(),
            ));
        };
        Ok(History::Read {
            newest,
            reach: Some(since.map_or(oldest, |s| s.max(oldest))),
        })
    }

    /// Users that a status change must never include: the API rejects the
    /// whole batch if one is there.
    fn protected(u: &User) -> bool {
        u.is_admin != Some(false)
            || u.role
                .as_ref()
                .is_none_or(|r| r.iter().any(|r| matches!(r.as_str(), "owner" | "ldap" | "system")))
    }

    async fn me(&self) -> Result<&String, HttpError> {
        self.me
            .get_or_try_init(|| async {
                let me = self.client.get_json("/people/@self").await?;
                Ok::<_, HttpError>(
                    text(response(&me, "/people/@self")?, "id")
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .await
    }

    /// Sets users Terminated, in batches that hold no protected account:
    /// what became of each user, in order. A user the answer lists as
    /// Terminated is done; one it does not list is only accepted, for
    /// `Live::act` to read back.
    pub async fn deactivate(&self, users: &[User]) -> Vec<Acted> {
        let my_id = match self.me().await {
            Ok(id) => id,
            Err(e) => return all_failed(users.len(), &e),
        };
        let mut acted: HashMap<&str, Acted> = HashMap::new();
        let mut ids = Vec::new();
        for u in users {
            if Self::protected(u) {
                acted.insert(
                    u.id.as_str(),
                    Acted::Skipped("kept out of the batch: owner, administrator, LDAP or system account".into()),
                );
            } else if u.id.as_str() == my_id.as_str() {
                acted.insert(
                    u.id.as_str(),
                    Acted::Skipped("kept out of the batch: the account dormant acts as".into()),
                );
            } else {
                ids.push(u.id.to_string());
            }
        }
        let mut stop: Option<HttpError> = None;
        for chunk in ids.chunks(self.batch) {
            let result = match &stop {
                Some(e) => Err(e.clone()),
                None => self.set_status(chunk, "Terminated").await,
            };
            match result {
                // A protected account the profile does not show (a system
                // account) fails the whole batch: each user alone, so that
                // it holds back only itself.
                Err(e) if e.status() == Some(403) && chunk.len() > 1 => {
                    for id in chunk {
                        let one = match &stop {
                            Some(e) => Err(e.clone()),
                            None => self.set_status(std::slice::from_ref(id), "Terminated").await,
                        };
                        acted.insert(id.as_str(), terminated(id, one, &mut stop));
                    }
                }
                result => {
                    for id in chunk {
                        acted.insert(id.as_str(), terminated(id, result.clone(), &mut stop));
                    }
                }
            }
        }
        users
            .iter()
            .map(|u| {
                acted
                    .remove(u.id.as_str())
                    .unwrap_or_else(|| Acted::Failed("not sent".into()))
            })
            .collect()
    }

    /// Sets a status; the ids (lower case) that the answer lists with it.
    async fn set_status(&self, ids: &[String], to: &str) -> Result<HashSet<String>, HttpError> {
        let path = format!("/people/status/{to}");
        let body = serde_json::json!({ "userIds": ids, "resendAll": false });
        let answer = self.client.send(reqwest::Method::PUT, &path, Some(&body)).await?;
        // Active may leave an unused invitation Pending: also not Terminated.
        let wanted: &[i64] = if to == "Terminated" { &[2] } else { &[1, 4] };
        // An answer that cannot be read says nothing: each user is then
        // read back.
        let profiles = answer
            .json(PLATFORM, &path)
            .ok()
            .and_then(|a| get(&a, "response").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        Ok(profiles
            .iter()
            .filter(|p| status(p).is_some_and(|s| wanted.contains(&s)))
            .filter_map(|p| text(p, "id"))
            .map(str::to_ascii_lowercase)
            .collect())
    }

    /// Deletes users: terminated first (as the API requires), then deleted
    /// one by one. A DELETE answered with the user's profile names them
    /// done; a 404 too (gone already: a repeated request whose first answer
    /// was lost, or a run after a crash).
    pub async fn delete(&self, users: &[User]) -> Vec<Acted> {
        let terminated = self.deactivate(users).await;
        let ready: Vec<&User> = users
            .iter()
            .zip(&terminated)
            .filter(|(_, t)| matches!(t, Acted::Done | Acted::Accepted))
            .map(|(u, _)| u)
            .collect();
        let mut deleted = self.delete_terminated(&ready).await.into_iter();
        terminated
            .into_iter()
            .map(|t| match t {
                Acted::Done | Acted::Accepted => deleted.next().unwrap_or(Acted::Accepted),
                other => other,
            })
            .collect()
    }

    /// The second step of a delete: `DELETE /people/{id}` for users already
    /// Terminated, what became of each.
    pub async fn delete_terminated(&self, users: &[&User]) -> Vec<Acted> {
        let mut stop: Option<HttpError> = None;
        let mut acted = Vec::with_capacity(users.len());
        for u in users {
            if let Some(e) = &stop {
                acted.push(Acted::error(e.clone()));
                continue;
            }
            let path = format!("/people/{}", u.id);
            acted.push(match self.client.send(reqwest::Method::DELETE, &path, None).await {
                Ok(answer) => {
                    let named = answer.json(PLATFORM, &path).ok().is_some_and(|a| {
                        get(&a, "response")
                            .and_then(|p| text(p, "id"))
                            .is_some_and(|id| id.eq_ignore_ascii_case(&u.id))
                    });
                    if named {
                        Acted::Done
                    } else {
                        Acted::Accepted
                    }
                }
                Err(e) if e.status() == Some(404) => Acted::Done,
                // This user only ("The user is not suspended", a protected
                // account, a reassignment under way).
                Err(e) if matches!(e.status(), Some(400 | 403)) => Acted::Failed(e.to_string()),
                Err(e) => {
                    stop = Some(e.clone());
                    Acted::error(e)
                }
            });
        }
        acted
    }

    /// Undoes deactivations: sets the users Active again (each takes a
    /// seat; the API answers 402 when there is none left, possibly after
    /// enabling some). What the answer does not list, and every user of a
    /// batch that failed, is read back.
    pub async fn reactivate(&self, ids: &[String]) -> Vec<Acted> {
        let mut acted = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(self.batch) {
            let result = self.set_status(chunk, "Active").await;
            for id in chunk {
                acted.push(match &result {
                    Ok(changed) if changed.contains(&id.to_ascii_lowercase()) => Acted::Done,
                    Err(e @ HttpError::Quota { .. }) => Acted::error(e.clone()),
                    other => match (self.read(id).await, other) {
                        (Ok(Some(u)), _) if matches!(u.status, Some(Status::Active | Status::Invited)) => Acted::Done,
                        (_, Err(e)) => Acted::Failed(e.to_string()),
                        (Ok(_), Ok(_)) => Acted::Unconfirmed(
                            "DocSpace accepted the request, but the user read back afterwards is not active".into(),
                        ),
                        (Err(e), Ok(_)) => Acted::Unconfirmed(format!(
                            "DocSpace accepted the request, and reading the user back failed: {e}"
                        )),
                    },
                });
            }
        }
        acted
    }

    /// One user as the portal has them now (`GET /people/{id}`); `None`
    /// when it answers 404.
    pub async fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        let path = format!("/people/{id}");
        let Some(answer) = self.client.get_json_if_there(&path).await? else {
            return Ok(None);
        };
        normalize(response(&answer, &path)?, &self.source)
            .map(Some)
            .map_err(|detail| HttpError::Shape {
                platform: PLATFORM,
                endpoint: path,
                detail: detail.to_string(),
            })
    }
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

/// `deactivated` from the profile's `terminated`, for a Terminated user
/// only. The server sets that date when a profile is disabled through
/// `PUT /people/{id}` (`disable`), clears it when enabled that way
/// [DS: products/ASC.People/Server/Api/UserController.cs `UpdateMember`,
/// `user.TerminatedDate = ... DateTime.UtcNow : null`], and shows it as
/// `Terminated` [DS: common/ASC.Api.Core/Model/EmployeeFullDto.cs]; but
/// `PUT /people/status/Terminated`, which dormant and the people list use,
/// changes the status alone [DS: UserController.cs `UpdateUserStatus`].
/// So a Terminated user may have no date, or one left from an earlier
/// disabling: dormant's journal, when it holds a later deactivation, wins
/// (`Notices::fill_deactivated`), and an active user's date is dropped.
fn terminated_at(status: Option<Status>, at: Option<Time>) -> Option<Deactivated> {
    at.filter(|_| status == Some(Status::Disabled))
        .map(Deactivated::from_source)
}

/// One DocSpace profile as a dormant user (SPEC section 2).
pub fn normalize(p: &Value, source: &str) -> Result<User, Unreadable> {
    let id = text(p, "id").ok_or_else(|| Unreadable::NoId {
        key: "id",
        json: Unreadable::json(p),
    })?;
    let time = |k: &str| -> Result<Option<Time>, Unreadable> {
        match text(p, k) {
            None => Ok(None),
            Some(s) => crate::time::parse_time(s)
                .map(Some)
                .ok_or_else(|| Unreadable::not_a_time(id, k, s)),
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
    let groups = get(p, "groups").and_then(Value::as_array);
    let deactivated = terminated_at(status, time("terminated")?);
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
        group: groups.map(|g| g.iter().filter_map(|g| text(g, "id").or_else(|| g.as_str())).collect()),
        // `groups: [{id, name, manager}]` (CONNECTORS.md section 4.2).
        group_name: groups.map(|g| g.iter().filter_map(|g| text(g, "name")).collect()),
        deactivated,
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

/// DocSpace in `dormant.toml`: `kind = "docspace"`.
pub struct DocSpacePlatform;

impl Platform for DocSpacePlatform {
    fn kind(&self) -> &'static str {
        "docspace"
    }

    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn keys(&self) -> Keys {
        Keys {
            required: &["url", "api_key_env"],
            own: &[],
            retired: &[],
            limits: true,
        }
    }

    fn configure(&self, _c: &mut Connector, table: &Table) -> Result<Own, Diag> {
        Ok(Own::new(table.own::<DocSpaceKeys>()?))
    }

    fn revokes(&self) -> bool {
        false
    }

    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error> {
        Ok(Box::new(DocSpace::connect(c)?))
    }

    fn acts(&self) -> bool {
        true
    }

    fn attrs(&self) -> &'static [&'static str] {
        &["is_ldap", "is_sso", "activation_status"]
    }

    fn supplies(&self, _c: &Connector, field: &Field, _own: &dyn Fn(&Field) -> bool) -> Supply {
        match field {
            Field::LastActivity => Supply::Never("DocSpace reports no activity".to_string()),
            _ => Supply::Usual,
        }
    }

    fn check_rule(&self, _c: &Connector, _rule: &RuleCheck<'_>) -> Vec<Diag> {
        Vec::new()
    }
}

impl Connection for DocSpace {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn batch(&self, limits: &Limits) -> usize {
        usize::try_from(limits.batch_size.unwrap_or(100)).unwrap_or(100).max(1)
    }

    fn fetch<'a>(&'a self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Fetched, HttpError>> {
        Box::pin(DocSpace::fetch(self, progress, chrono::Utc::now()))
    }

    fn read<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>> {
        Box::pin(DocSpace::read(self, id))
    }

    /// Each outcome as precise as DocSpace's answers allow: the status
    /// answer lists the users it changed, a DELETE answers the deleted
    /// profile; what they do not name is read back.
    fn send<'a>(
        &'a self,
        action: PlanAction,
        users: &'a [User],
        _connector: &'a str,
    ) -> LocalBoxFuture<'a, Vec<Acted>> {
        match action {
            // In two steps, through `two_steps`.
            PlanAction::Delete => Box::pin(self.delete(users)),
            PlanAction::Deactivate => Box::pin(self.deactivate(users)),
            other => {
                let failed = users
                    .iter()
                    .map(|_| Acted::Failed(format!("DocSpace cannot {}", other.as_str())))
                    .collect();
                Box::pin(async { failed })
            }
        }
    }

    /// A delete: Terminated first (confirmed, and recorded), then deleted.
    fn two_steps(&self, action: PlanAction) -> Option<TwoSteps> {
        (action == PlanAction::Delete).then_some(TwoSteps {
            first: PlanAction::Deactivate,
            step: super::Step::Deactivated,
            first_is: "terminating, the first step of the delete",
        })
    }

    fn second_step<'a>(&'a self, users: &'a [&'a User]) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(self.delete_terminated(users))
    }

    fn reactivate<'a>(&'a self, ids: &'a [String], _before: &'a [Option<Value>]) -> LocalBoxFuture<'a, Vec<Acted>> {
        Box::pin(DocSpace::reactivate(self, ids))
    }

    fn deletion(&self, _at: Option<Time>, _now: Time) -> (bool, String) {
        (false, "deleted permanently on DocSpace: cannot be undone".into())
    }
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
    fn group_names_and_the_terminated_date_of_a_terminated_user_only() {
        let profile = |status: u8| {
            serde_json::json!({"id": "a", "status": status, "terminated": "2026-10-01T12:00:00.0000000+02:00",
                "groups": [{"id": "g1", "name": "Sales", "manager": null}, {"id": "g2", "name": "Data team"}]})
        };
        let u = normalize(&profile(2), "docs").unwrap();
        assert_eq!(u.group.unwrap().as_slice(), ["g1", "g2"]);
        assert_eq!(u.group_name.unwrap().as_slice(), ["Sales", "Data team"]);
        assert_eq!(
            u.deactivated,
            parse_time("2026-10-01T10:00:00Z").map(Deactivated::from_source)
        );
        // Active again through a status change, which leaves the date: not deactivated.
        assert_eq!(normalize(&profile(1), "docs").unwrap().deactivated, None);
        // No groups key: neither is known.
        let bare = normalize(&serde_json::json!({"id": "b", "status": 2, "terminated": null}), "docs").unwrap();
        assert_eq!((bare.group_name, bare.deactivated), (None, None));
        assert!(normalize(
            &serde_json::json!({"id": "c", "status": 2, "terminated": "soon"}),
            "docs"
        )
        .is_err());
    }

    #[test]
    fn logins_are_told_by_action_id_alone() {
        // Texts are localized and never read; ids say (DbLoginEventsManager.cs `_loginActions`).
        for id in [
            1000, 1001, 1007, 1010, 1011, 1012, 1015, 1019, 1021, 1024, 1027, 1028, 1029,
        ] {
            assert!(is_login(Some(&serde_json::json!(id))), "{id}");
        }
        // LoginFail, LoginFailInvalidCombination, Logout, SessionStarted.
        for id in [1005, 1002, 1006, 1016] {
            assert!(!is_login(Some(&serde_json::json!(id))), "{id}");
        }
        assert!(!is_login(None));
        assert!(is_login(Some(&serde_json::json!("LoginSuccessViaPassword"))));
        assert!(is_login(Some(&serde_json::json!("1010"))));
        assert!(!is_login(Some(&serde_json::json!("LoginFail"))));
    }

    #[test]
    fn events_are_read_in_either_case_skipping_the_rest() {
        let page: Events = serde_json::from_str(
            r#"{"response": [
                {"id": 7, "date": "2026-10-01T10:00:00.0000000+02:00", "user": "Mike", "userId": "75A5F745-f697-4418-b38d-0fe0d277e258",
                 "login": "mike@example.com", "action": "Anmeldung mit Benutzername und Passwort erfolgreich", "actionId": 1029,
                 "ip": "10.1.2.3", "country": "", "city": "", "browser": "Firefox", "platform": "Linux", "page": "https://x/"},
                {"Id": 8, "Date": "not a date", "UserId": "00000000-0000-0000-0000-000000000000", "ActionId": 1005}
            ], "count": 2, "status": 0, "statusCode": 200}"#,
        )
        .unwrap();
        let [a, b] = page.response.as_slice() else {
            panic!("two events")
        };
        assert_eq!(a.date(), parse_time("2026-10-01T08:00:00Z"));
        assert_eq!(a.user(), Some("75A5F745-f697-4418-b38d-0fe0d277e258"));
        assert!(is_login(a.action_id.as_ref()));
        assert_eq!(
            (b.date(), b.user()),
            (None, Some("00000000-0000-0000-0000-000000000000"))
        );
        assert!(!is_login(b.action_id.as_ref()));
        assert!(serde_json::from_str::<Events>(r#"{"response": {"id": 1}}"#).is_err());
    }

    #[test]
    fn never_only_inside_the_history_s_reach() {
        let reach = parse_time("2026-06-01");
        let user = |id: &str, joined: &str| User {
            id: id.into(),
            joined: parse_time(joined),
            ..User::default()
        };
        let mut newest = HashMap::new();
        newest.insert("a".to_string(), parse_time("2026-07-01"));
        newest.insert("b".to_string(), None);
        // Ids match whatever their case.
        assert_eq!(
            last_login(&newest, reach, &user("A", "2020-01-01")),
            Known::Value(parse_time("2026-07-01").unwrap())
        );
        assert_eq!(last_login(&newest, reach, &user("b", "2026-07-01")), Known::Unknown);
        assert_eq!(last_login(&newest, reach, &user("c", "2026-07-01")), Known::Never);
        assert_eq!(last_login(&newest, reach, &user("d", "2026-05-01")), Known::Unknown);
        assert_eq!(last_login(&newest, None, &user("c", "2026-07-01")), Known::Unknown);
        let no_date = User {
            id: "e".into(),
            ..User::default()
        };
        assert_eq!(last_login(&newest, reach, &no_date), Known::Unknown);
    }

    #[test]
    fn a_403_on_the_history_names_what_the_key_lacks() {
        let e = forbidden(HttpError::Status {
            platform: PLATFORM,
            method: "GET".into(),
            endpoint: "/security/audit/login/filter".into(),
            status: 403,
            message: "Access denied".into(),
        });
        let text = e.to_string();
        assert!(text.contains("answered 403: Access denied"), "{text}");
        assert!(
            text.contains("portal-settings right") && text.contains("`*:read`"),
            "{text}"
        );
        assert_eq!(e.status(), Some(403));
    }
}
