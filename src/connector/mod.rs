//! Connectors: where users come from. The built-in `file` connector reads a
//! users file; each platform has a module of its own, on the HTTP
//! foundation of `crate::http`. Whatever the platform, a fetch returns every
//! user exactly once or fails with an error: never a silently partial list.

pub mod bevy;
pub mod docebo;
pub mod docspace;
pub mod enrich;
pub mod file;
pub mod huwise;
pub mod metric_insights;
pub mod record;
mod shape;
pub mod snapshot;
pub mod usage;

use crate::config::{Connector, Kind};
use crate::http::HttpError;
use crate::progress::Progress;
use crate::user::User;
use std::collections::HashSet;

/// Users fetched from a platform.
/// Fetches every user of a configured connector.
pub fn fetch(c: &Connector, progress: &Progress) -> Result<Vec<User>, String> {
    match c.kind {
        Kind::File => {
            let path = c.path.as_deref().unwrap_or(std::path::Path::new(""));
            let mut users = file::load(path).map_err(|e| e.to_string())?.users;
            for u in &mut users {
                u.source = Some(c.name.as_str().into());
            }
            progress.finish();
            finish(c, users)
        }
        Kind::Scim => Err(format!(
            "connector `{}`: the `scim` platform is not supported by this version of dormant (supported: huwise, docspace, bevy, metric_insights, docebo, file)",
            c.name
        )),
        _ => Live::connect(c)?.fetch(progress),
    }
}

/// Checks a fetched list and fills it in from the connector's enrich files.
fn finish(c: &Connector, mut users: Vec<User>) -> Result<Vec<User>, String> {
    once_each(&c.name, &users)?;
    for path in &c.enrich {
        let e = enrich::apply(path, &mut users).map_err(|m| format!("connector `{}`: {m}", c.name))?;
        if e.unmatched > 0 {
            eprintln!(
                "warning: {}: {} of {} rows matched no user of connector `{}`",
                e.file,
                e.unmatched,
                e.matched + e.unmatched,
                c.name
            );
        }
    }
    Ok(users)
}

/// A platform connection that acts: what `apply` uses. It keeps one
/// runtime for all its requests, and counts them against the daily quota.
pub struct Live {
    rt: tokio::runtime::Runtime,
    platform: Platform,
    connector: Connector,
    today: String,
    /// Users read by `before`, for the request that follows.
    held: std::sync::Mutex<std::collections::HashMap<String, serde_json::Value>>,
}

enum Platform {
    Bevy(bevy::Bevy),
    Docebo(docebo::Docebo),
    MetricInsights(metric_insights::MetricInsights),
    Huwise(huwise::Huwise),
    Docspace(docspace::DocSpace),
}

/// What one action did to one user.
///
/// A user is done only when the platform said so for that user, or a read
/// of the user shows the new state (CONNECTORS.md, "All platforms: confirm
/// before recording"): a 2xx alone is not enough, since some platforms
/// answer 200 to a change they ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// The answer named this user as done, or a read showed it.
    Done,
    /// The platform took the request without saying what became of this
    /// user: `Live::act` reads the user back before it calls it done.
    Accepted,
    /// Sent, and neither the answer nor a read shows it done: the next run
    /// settles it by reading the platform, like an intent left by a crash.
    Unconfirmed(String),
    /// Left out, and why (a protected account).
    Skipped(String),
    Failed(String),
    /// Not sent: the daily quota is used up; nothing more can be sent today.
    OutOfQuota(String),
}

impl Acted {
    /// A request whose success says nothing about the user: read back.
    fn of(result: Result<(), HttpError>) -> Acted {
        match result {
            Ok(()) => Acted::Accepted,
            Err(e) => Acted::error(e),
        }
    }

    /// A request whose success names the user as done (a DELETE of that
    /// one user answered 2xx, an answer listing their id).
    fn named(result: Result<(), HttpError>) -> Acted {
        match result {
            Ok(()) => Acted::Done,
            Err(e) => Acted::error(e),
        }
    }

    fn error(e: HttpError) -> Acted {
        match e {
            e @ HttpError::Quota { .. } => Acted::OutOfQuota(e.to_string()),
            e => Acted::Failed(e.to_string()),
        }
    }
}

/// A step of an action the platform takes in more than one, done and
/// recorded before the next is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Disabled, on the way to deletion (DocSpace's Terminated).
    Deactivated,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Deactivated => "deactivated",
        }
    }
}

/// Whether a user as read from the platform (`None`: not there) shows that
/// `action` was done. Revoke (Huwise's deactivate) shows as no domain
/// permissions and no groups left.
pub fn shows_done(revoke: bool, action: crate::eval::PlanAction, fresh: Option<&User>) -> bool {
    use crate::eval::PlanAction as A;
    use crate::user::Status;
    match (action, fresh) {
        // Deleted, as a read answering 404 says. A deactivated user is
        // still there: their absence proves nothing about a deactivation.
        (A::Delete, None) => true,
        (A::Delete, Some(u)) => u.status == Some(Status::PendingDelete),
        (A::Deactivate, Some(u)) if revoke => {
            u.permission.as_ref().is_some_and(|p| p.is_empty()) && u.group.as_ref().is_some_and(|g| g.is_empty())
        }
        (A::Deactivate, Some(u)) => u.status == Some(Status::Disabled),
        _ => false,
    }
}

impl Live {
    pub fn connect(c: &Connector) -> Result<Live, String> {
        let platform = match c.kind {
            Kind::Huwise => Platform::Huwise(huwise::Huwise::connect(c)?),
            Kind::Bevy => Platform::Bevy(bevy::Bevy::connect(c)?),
            Kind::Docebo => Platform::Docebo(docebo::Docebo::connect(c)?),
            Kind::MetricInsights => Platform::MetricInsights(metric_insights::MetricInsights::connect(c)?),
            Kind::Docspace => Platform::Docspace(docspace::DocSpace::connect(c)?),
            other => {
                return Err(format!(
                    "connector `{}`: dormant cannot act on `{}` users (it acts through huwise, docspace, bevy, metric_insights and docebo)",
                    c.name,
                    other.as_str()
                ))
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network runtime: {e}"))?;
        let today = chrono::Utc::now().date_naive().to_string();
        let live = Live {
            rt,
            platform,
            connector: c.clone(),
            today,
            held: std::sync::Mutex::default(),
        };
        if c.limits.requests_per_day.is_some() {
            live.client()
                .used_earlier(usage::earlier(&c.usage, &c.name, &live.today)?);
        }
        Ok(live)
    }

    /// The runtime its requests run on, for other calls of the same run.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }

    pub fn name(&self) -> &str {
        &self.connector.name
    }

    fn client(&self) -> &crate::http::Client {
        match &self.platform {
            Platform::Bevy(b) => b.client(),
            Platform::Docebo(d) => d.client(),
            Platform::MetricInsights(m) => m.client(),
            Platform::Huwise(h) => h.client(),
            Platform::Docspace(d) => d.client(),
        }
    }

    /// Users acted on in one request.
    pub fn batch(&self) -> usize {
        match &self.platform {
            Platform::Huwise(_) => 1,
            // Bevy recommends batches of at most 250 users.
            Platform::Bevy(_) => usize::try_from(self.connector.limits.batch_size.unwrap_or(250))
                .unwrap_or(250)
                .clamp(1, 250),
            Platform::MetricInsights(_) => usize::try_from(
                self.connector
                    .limits
                    .concurrency
                    .unwrap_or(metric_insights::DEFAULTS.concurrency as u64),
            )
            .unwrap_or(1)
            .max(1),
            Platform::Docebo(d) => d.batch(),
            Platform::Docspace(_) => usize::try_from(self.connector.limits.batch_size.unwrap_or(100))
                .unwrap_or(100)
                .max(1),
        }
    }

    /// Every user, fresh.
    pub fn fetch(&self, progress: &Progress) -> Result<Vec<User>, String> {
        let fetched = match &self.platform {
            Platform::Bevy(b) => self.rt.block_on(b.fetch(progress)),
            Platform::Docebo(d) => self.rt.block_on(d.fetch(progress)),
            Platform::MetricInsights(m) => self.rt.block_on(m.fetch(progress)),
            Platform::Huwise(h) => self.rt.block_on(h.fetch(progress)),
            Platform::Docspace(d) => self.rt.block_on(d.fetch(progress, chrono::Utc::now())),
        }
        .map_err(|e| self.redact(&e.to_string()))?;
        progress.finish();
        finish(&self.connector, fetched)
    }

    /// Deactivates or deletes a batch of users: what happened to each, each
    /// outcome confirmed by the platform's answer or by reading the user back.
    ///
    /// An action the platform takes in two steps (DocSpace deletes a user
    /// only once they are Terminated) calls `step` for each user the first
    /// step is confirmed done, before the second is sent: the caller records
    /// it, so that a run cut between the steps is finished, not decided
    /// again on a user this very action disabled. `step` answers false when
    /// it could not record it; that user's second step is then not sent.
    pub fn act(
        &self,
        action: crate::eval::PlanAction,
        users: &[User],
        step: &mut dyn FnMut(&User, Step) -> bool,
    ) -> Vec<Acted> {
        let sent = match (&self.platform, action) {
            (Platform::Docspace(d), crate::eval::PlanAction::Delete) => self.delete_in_two_steps(d, users, step),
            _ => self.send(action, users),
        };
        sent.into_iter()
            .zip(users)
            .map(|(acted, u)| match acted {
                Acted::Accepted => self.confirm(action, u),
                other => other,
            })
            .map(|acted| self.redacted(acted))
            .collect()
    }

    /// DocSpace's delete: Terminated first (confirmed, and recorded through
    /// `step`), then deleted.
    fn delete_in_two_steps(
        &self,
        d: &docspace::DocSpace,
        users: &[User],
        step: &mut dyn FnMut(&User, Step) -> bool,
    ) -> Vec<Acted> {
        use crate::eval::PlanAction as A;
        let first: Vec<Acted> = self
            .rt
            .block_on(d.deactivate(users))
            .into_iter()
            .zip(users)
            .map(|(acted, u)| match acted {
                Acted::Accepted => self.confirm(A::Deactivate, u),
                other => other,
            })
            .map(|acted| match acted {
                // Not yet deleted: the first step alone is unconfirmed.
                Acted::Unconfirmed(why) => {
                    Acted::Unconfirmed(format!("terminating, the first step of the delete: {why}"))
                }
                other => other,
            })
            .collect();
        let mut recorded = Vec::with_capacity(users.len());
        let first: Vec<Acted> = first
            .into_iter()
            .zip(users)
            .map(|(acted, u)| match acted {
                Acted::Done if step(u, Step::Deactivated) => {
                    recorded.push(u);
                    Acted::Done
                }
                Acted::Done => Acted::Failed("not sent: the first step could not be recorded in the journal".into()),
                other => other,
            })
            .collect();
        let mut second = self.rt.block_on(d.delete_terminated(&recorded)).into_iter();
        let mut recorded = recorded.into_iter();
        first
            .into_iter()
            .zip(users)
            .map(|(acted, u)| match acted {
                Acted::Done if recorded.as_slice().first().is_some_and(|r| r.id == u.id) => {
                    recorded.next();
                    second.next().unwrap_or(Acted::Accepted)
                }
                other => other,
            })
            .collect()
    }

    /// Text with every secret of this connection blanked: for errors made
    /// outside the HTTP layer (a connector quoting a value it could not
    /// read, which a hostile platform could have filled with a key).
    pub fn redact(&self, text: &str) -> String {
        self.client().redact(text)
    }

    fn redacted(&self, acted: Acted) -> Acted {
        match acted {
            Acted::Unconfirmed(why) => Acted::Unconfirmed(self.redact(&why)),
            Acted::Skipped(why) => Acted::Skipped(self.redact(&why)),
            Acted::Failed(why) => Acted::Failed(self.redact(&why)),
            Acted::OutOfQuota(why) => Acted::OutOfQuota(self.redact(&why)),
            done => done,
        }
    }

    /// Reads a user back after a request that did not say what it did.
    fn confirm(&self, action: crate::eval::PlanAction, u: &User) -> Acted {
        let platform = self.platform_name();
        let fresh = match &self.platform {
            // A temporary user has an endpoint of their own.
            Platform::Docebo(d) => self.rt.block_on(d.read(&u.id, docebo::is_temporary(u))),
            _ => self.read(&u.id),
        };
        match fresh {
            Ok(fresh) if self.shows(action, fresh.as_ref()) => Acted::Done,
            Ok(_) => Acted::Unconfirmed(format!(
                "{platform} accepted the request, but the user read back afterwards is not {}",
                match action {
                    crate::eval::PlanAction::Delete => "deleted",
                    _ if self.revokes() => "without permissions and groups",
                    _ => "deactivated",
                }
            )),
            Err(e) => Acted::Unconfirmed(format!(
                "{platform} accepted the request, and reading the user back failed: {e}"
            )),
        }
    }

    /// Whether `fresh` (the user as the platform has them now, `None` when
    /// not there) shows `action` done.
    pub fn shows(&self, action: crate::eval::PlanAction, fresh: Option<&User>) -> bool {
        shows_done(self.revokes(), action, fresh)
    }

    /// Whether deactivating here is a revoke of permissions and groups.
    fn revokes(&self) -> bool {
        self.connector.kind.revokes()
    }

    fn platform_name(&self) -> &'static str {
        match &self.platform {
            Platform::Bevy(_) => bevy::PLATFORM,
            Platform::Docebo(_) => docebo::PLATFORM,
            Platform::MetricInsights(_) => metric_insights::PLATFORM,
            Platform::Huwise(_) => huwise::PLATFORM,
            Platform::Docspace(_) => docspace::PLATFORM,
        }
    }

    /// One user as the platform has them now; `None` when not there.
    pub fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        match &self.platform {
            Platform::Bevy(b) => self.rt.block_on(b.read(id)),
            // By id alone, a user of the user list: `confirm` reads a
            // temporary user from their own endpoint.
            Platform::Docebo(d) => self.rt.block_on(d.read(id, false)),
            Platform::MetricInsights(m) => self.rt.block_on(m.read(id)),
            Platform::Huwise(h) => self.rt.block_on(h.read(id)),
            Platform::Docspace(d) => self.rt.block_on(d.read(id)),
        }
    }

    /// Sends the requests of one batch: what each answer said.
    fn send(&self, action: crate::eval::PlanAction, users: &[User]) -> Vec<Acted> {
        use crate::eval::PlanAction as A;
        let failed = |e: String| users.iter().map(|_| Acted::Failed(e.clone())).collect::<Vec<_>>();
        match &self.platform {
            Platform::Bevy(b) => {
                if let Some(warning) = b.unnamed_key(self.name()) {
                    eprintln!("warning: {warning}");
                }
                users
                    .iter()
                    .map(|u| {
                        if b.is_me(u) {
                            return Acted::Skipped("the owner of the API key dormant uses (`user`)".into());
                        }
                        match action {
                            // A 204 is all Bevy says, and a repeated DELETE
                            // answers it too: the user, read back, must show
                            // the pending deletion.
                            A::Delete => Acted::of(self.rt.block_on(b.delete(&u.id))),
                            // What the answer says is unknown: read back.
                            A::Deactivate => Acted::of(self.rt.block_on(b.deactivate(&u.id))),
                            other => Acted::Failed(format!("Bevy cannot {}", other.as_str())),
                        }
                    })
                    .collect()
            }
            // Temporary users (awaiting approval) go through `reject`, or are
            // skipped: the user delete and change_status never carry them.
            Platform::Docebo(d) => self.rt.block_on(d.act(action, users)),
            // Deleting takes about a minute each on the server: a batch is
            // sent at once, as many at a time as `concurrency` allows.
            Platform::MetricInsights(m) => {
                if let Some(warning) = m.unnamed_token(self.name()) {
                    eprintln!("warning: {warning}");
                }
                let each = users.iter().map(|u| async move {
                    if m.is_me(u) {
                        return Acted::Skipped("the user dormant's token acts as (`user`)".into());
                    }
                    match action {
                        // The answer's body is inferred (CONNECTORS.md
                        // section 9): the user, read back, must be gone.
                        A::Delete => Acted::of(m.delete(&u.id).await),
                        // The answer's user, when it shows them disabled,
                        // confirms it; otherwise they are read back.
                        A::Deactivate => match m.enable(&u.id, false).await {
                            Ok(Some(after)) if self.shows(action, Some(&after)) => Acted::Done,
                            Ok(_) => Acted::Accepted,
                            Err(e) => Acted::error(e),
                        },
                        other => Acted::Failed(format!("Metric Insights cannot {}", other.as_str())),
                    }
                });
                self.rt.block_on(futures_util::future::join_all(each))
            }
            Platform::Huwise(h) => users
                .iter()
                .map(|u| match action {
                    A::Delete => Acted::named(self.rt.block_on(h.delete(&u.id))),
                    A::Deactivate => {
                        // The record `before` read, or a fresh one.
                        let held = self.held.lock().ok().and_then(|mut h| h.remove(u.id.as_str()));
                        let raw = match held {
                            Some(raw) => raw,
                            None => match self.rt.block_on(h.read_raw(&u.id)) {
                                Ok(Some(raw)) => raw,
                                Ok(None) => return Acted::Failed("no longer in the domain".into()),
                                Err(e) => return Acted::error(e),
                            },
                        };
                        match self.rt.block_on(h.revoke(&u.id, &raw)) {
                            Ok(()) => Acted::Accepted,
                            Err(e @ HttpError::Quota { .. }) => Acted::OutOfQuota(e.to_string()),
                            // Some of its requests may have gone through:
                            // what the user is now says what was done.
                            Err(e) => match self.confirm(action, u) {
                                Acted::Done => Acted::Done,
                                _ => Acted::Unconfirmed(format!("the revoke stopped part way: {e}")),
                            },
                        }
                    }
                    other => Acted::Failed(format!("Huwise cannot {}", other.as_str())),
                })
                .collect(),
            // Each outcome as precise as DocSpace's answers allow: the
            // status answer lists the users it changed, a DELETE answers
            // the deleted profile; what they do not name is read back.
            Platform::Docspace(d) => match action {
                // In two steps, through `act` (`delete_in_two_steps`).
                A::Delete => self.rt.block_on(d.delete(users)),
                A::Deactivate => self.rt.block_on(d.deactivate(users)),
                other => failed(format!("DocSpace cannot {}", other.as_str())),
            },
        }
    }
}

impl Live {
    /// Undoes deactivations, by user id, with what each deactivation took
    /// away where the platform needs it (Huwise's revoke, from the journal's
    /// intent record). Each outcome confirmed like `act`'s.
    pub fn reactivate(&self, ids: &[String], before: &[Option<serde_json::Value>]) -> Vec<Acted> {
        let sent = self.send_reactivate(ids, before);
        sent.into_iter()
            .zip(ids.iter().zip(before))
            .map(|(acted, (id, before))| match acted {
                Acted::Accepted => self.confirm_reactivated(id, before.as_ref()),
                other => other,
            })
            .map(|acted| self.redacted(acted))
            .collect()
    }

    /// Reads a user back after a reactivation the platform did not confirm.
    fn confirm_reactivated(&self, id: &str, before: Option<&serde_json::Value>) -> Acted {
        let platform = self.platform_name();
        let restored = |u: &User| match self.revoked(before) {
            Some(r) => r.holds(u),
            None => u.status == Some(crate::user::Status::Active),
        };
        match self.read(id) {
            Ok(Some(u)) if restored(&u) => Acted::Done,
            Ok(Some(_)) => Acted::Unconfirmed(format!(
                "{platform} accepted the request, but the user read back afterwards is not {}",
                if self.revokes() {
                    "back in the permissions and groups they had"
                } else {
                    "active"
                }
            )),
            Ok(None) => Acted::Failed(format!("{platform} no longer has this user")),
            Err(e) => Acted::Unconfirmed(format!(
                "{platform} accepted the request, and reading the user back failed: {e}"
            )),
        }
    }

    /// What a Huwise revoke took away, from its journal record.
    fn revoked(&self, before: Option<&serde_json::Value>) -> Option<huwise::Revoked> {
        match &self.platform {
            Platform::Huwise(_) => before.and_then(|b| serde_json::from_value(b.clone()).ok()),
            _ => None,
        }
    }

    /// What an action is about to take away that undo must give back,
    /// read from the platform just before the action's intent is journaled:
    /// on Huwise, a revoke's permissions and groups. The record read is
    /// kept for the request itself.
    pub fn before(&self, action: crate::eval::PlanAction, u: &User) -> Result<Option<serde_json::Value>, HttpError> {
        match (&self.platform, action) {
            (Platform::Huwise(h), crate::eval::PlanAction::Deactivate) => {
                let Some(raw) = self.rt.block_on(h.read_raw(&u.id))? else {
                    return Ok(None);
                };
                let Some(revoked) = huwise::Revoked::of(&raw) else {
                    return Err(HttpError::Shape {
                        platform: huwise::PLATFORM,
                        endpoint: format!("/users/{}/", u.id),
                        detail: "the user's record lists no `permissions` or no `groups`, so what a revoke takes away could not be recorded for undo".into(),
                    });
                };
                if let Ok(mut held) = self.held.lock() {
                    held.insert(u.id.to_string(), raw);
                }
                Ok(serde_json::to_value(revoked).ok())
            }
            _ => Ok(None),
        }
    }

    fn send_reactivate(&self, ids: &[String], before: &[Option<serde_json::Value>]) -> Vec<Acted> {
        match &self.platform {
            // Bevy documents no way to undo a deactivation through its API.
            Platform::Bevy(_) => ids
                .iter()
                .map(|_| {
                    Acted::Failed(
                        "Bevy's API has no reactivation: reactivate the user in Bevy's admin dashboard".into(),
                    )
                })
                .collect(),
            // Confirmed by the answer's user, or else by reading them back.
            Platform::MetricInsights(m) => ids
                .iter()
                .map(|id| {
                    let active = |u: &User| u.status == Some(crate::user::Status::Active);
                    match self.rt.block_on(m.enable(id, true)) {
                        Ok(Some(after)) if active(&after) => Acted::Done,
                        Ok(_) => match self.read(id) {
                            Ok(Some(now)) if active(&now) => Acted::Done,
                            Ok(_) => Acted::Unconfirmed(
                                "Metric Insights accepted the request, but the user read back afterwards is not enabled"
                                    .into(),
                            ),
                            Err(e) => Acted::Unconfirmed(format!(
                                "Metric Insights accepted the request, and reading the user back failed: {e}"
                            )),
                        },
                        Err(e) => Acted::error(e),
                    }
                })
                .collect(),
            Platform::Docebo(d) => self.rt.block_on(d.reactivate(ids)),
            Platform::Huwise(h) => ids
                .iter()
                .zip(before)
                .map(|(id, before)| match self.revoked(before.as_ref()) {
                    Some(r) => Acted::of(self.rt.block_on(h.restore(id, &r))),
                    None => Acted::Failed(
                        "the journal does not record the permissions and groups this user had (a deactivation made before revokes were journaled): give them back in Huwise's back office".into(),
                    ),
                })
                .collect(),
            Platform::Docspace(d) => self.rt.block_on(d.reactivate(ids)),
        }
    }

    /// What a deletion made at `at` means now on this platform, for `undo`
    /// to say, and whether it can still be cancelled.
    pub fn deletion(&self, at: Option<crate::time::Time>, now: crate::time::Time) -> (bool, String) {
        match &self.platform {
            Platform::Huwise(_) => (
                false,
                "removed from the domain: cannot be undone here; invite them again (their groups and permissions are not restored)".into(),
            ),
            Platform::Docspace(_) => (false, "deleted permanently on DocSpace: cannot be undone".into()),
            Platform::MetricInsights(_) => (false, "deleted on Metric Insights, which keeps no deleted users: cannot be undone".into()),
            Platform::Docebo(_) => (
                false,
                "deleted on Docebo with their progress, enrollments and history: cannot be undone".into(),
            ),
            Platform::Bevy(_) => {
                let Some(ends) = at.map(|t| t + chrono::TimeDelta::days(bevy::PENDING_DAYS)) else {
                    return (false, "pending deletion for 7 days from the request, which the journal does not date".into());
                };
                let day = ends.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                if ends > now {
                    (
                        true,
                        format!("pending deletion until {day}: cancel it before then in Bevy's admin dashboard (Members, the user, Cancel Deletion); Bevy's API cannot"),
                    )
                } else {
                    (false, format!("deleted for good: the 7 days of pending deletion ended {day}"))
                }
            }
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Counted even when the run failed: the requests were made.
        let _ = usage::add(
            &self.connector.usage,
            &self.connector.name,
            &self.today,
            self.client().requests(),
        );
    }
}

/// Refuses a list that holds a user twice: pages that shifted under the
/// reader, which may also have hidden someone.
fn once_each(connector: &str, users: &[User]) -> Result<(), String> {
    let mut seen = HashSet::with_capacity(users.len());
    for u in users {
        if !seen.insert(u.id.as_str()) {
            return Err(format!(
                "connector `{connector}` listed user `{}` twice: the list changed while it was read; nothing was planned, run again",
                u.id
            ));
        }
    }
    Ok(())
}

/// The pages of one list, put together and checked: the total the platform
/// announced must not change from page to page and must be what arrived.
pub struct Listing {
    platform: &'static str,
    endpoint: &'static str,
    what: &'static str,
    items: Vec<serde_json::Value>,
    total: Option<u64>,
    pages: u64,
}

/// More pages than any real list has: a server that never ends its list.
const MAX_PAGES: u64 = 1_000_000;

impl Listing {
    pub fn new(platform: &'static str, endpoint: &'static str, what: &'static str) -> Listing {
        Listing {
            platform,
            endpoint,
            what,
            items: Vec::new(),
            total: None,
            pages: 0,
        }
    }

    fn error(&self, detail: String) -> HttpError {
        HttpError::Shape {
            platform: self.platform,
            endpoint: self.endpoint.to_string(),
            detail,
        }
    }

    pub fn page(
        &mut self,
        items: impl Iterator<Item = serde_json::Value>,
        total: Option<u64>,
    ) -> Result<(), HttpError> {
        self.pages += 1;
        match (self.total, total) {
            (Some(before), Some(now)) if before != now => {
                return Err(self.error(format!(
                    "the number of {} changed from {before} to {now} while the list was read; run again",
                    self.what
                )))
            }
            (None, Some(now)) => self.total = Some(now),
            _ => {}
        }
        self.items.extend(items);
        Ok(())
    }

    /// Stops a list that goes on past its total or past any sane length.
    pub fn guard(&self, offset: u64) -> Result<(), HttpError> {
        if self.total.is_some_and(|t| offset > t) || self.pages >= MAX_PAGES {
            return Err(self.error(format!(
                "the list of {} goes on past the {} announced",
                self.what,
                self.total.map_or("length".to_string(), |t| t.to_string())
            )));
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Vec<serde_json::Value>, HttpError> {
        match self.total {
            Some(t) if t != self.items.len() as u64 => Err(self.error(format!(
                "{} of {t} {} arrived: a page was lost or the list changed while it was read; nothing was planned, run again",
                self.items.len(),
                self.what
            ))),
            _ => Ok(self.items),
        }
    }
}
