//! Connectors: where users come from. The built-in `file` connector reads a
//! users file; each platform has a module of its own, on the HTTP
//! foundation of `crate::http`, that implements `platform::Platform` and
//! `platform::Connection`. Whatever the platform, a fetch returns every
//! user exactly once or fails with an [`Error`]: never a silently partial
//! list. What a fetch warns about comes back beside the users
//! ([`Fetched`]): connectors print nothing.

pub mod bevy;
pub mod docebo;
pub mod docspace;
pub mod enrich;
mod error;
pub mod file;
pub mod graph;
pub mod huwise;
pub mod logins;
pub mod metric_insights;
pub mod okta;
pub mod platform;
pub mod record;
pub mod scim;
mod shape;
pub mod snapshot;
pub mod usage;

pub use error::{Error, Fetched, Unreadable, Warning};
pub use platform::{Connection, Kind, Own, Platform};

use crate::http::{HttpError, Limits};
use crate::progress::Progress;
use crate::user::User;
use std::any::Any;
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::PathBuf;

/// Every platform dormant knows, in the order messages list them. A new
/// platform is its file and its line here.
pub const PLATFORMS: &[&dyn Platform] = &[
    &huwise::HuwisePlatform,
    &bevy::BevyPlatform,
    &metric_insights::MetricInsightsPlatform,
    &docspace::DocSpacePlatform,
    &docebo::DoceboPlatform,
    &scim::ScimPlatform,
    &okta::OktaPlatform,
    &graph::GraphPlatform,
    &file::FilePlatform,
];

/// A connector as configured (a `[connector.NAME]` table), checked against
/// its kind.
#[derive(Debug, Clone)]
pub struct Connector {
    pub name: String,
    pub kind: Kind,
    /// The base address (every kind but `file`), checked: https, or http on loopback.
    pub url: String,
    /// `file`: the users file, relative to the config file's folder.
    pub path: Option<PathBuf>,
    pub limits: Limits,
    /// Enrichment files, relative to the config file's folder.
    pub enrich: Vec<PathBuf>,
    /// The platform's own keys, as its `configure` read them: read with
    /// [`Connector::own`], by the platform's file only.
    pub own: platform::Own,
    /// Where requests per day are counted across runs, for `requests_per_day`.
    pub usage: PathBuf,
    /// The identity providers its `logins_from` names, checked: they supply
    /// the last logins it leaves unknown (`logins`).
    pub logins_from: Vec<Connector>,
}

impl Connector {
    /// The platform's own keys, its serde struct `T` (`c.own::<DoceboKeys>()`),
    /// as its `configure` read them. A connector that holds no `T` (one
    /// made by hand rather than by `config`, which always configures it)
    /// has `T`'s defaults: no optional key set.
    pub fn own<T: Any + Default + Clone>(&self) -> Cow<'_, T> {
        self.own
            .get::<T>()
            .map_or_else(|| Cow::Owned(T::default()), Cow::Borrowed)
    }
}

/// Fetches every user of a configured connector, with what the fetch
/// warns about.
pub fn fetch(c: &Connector, progress: &Progress) -> Result<Fetched, Error> {
    c.kind.platform().fetch(c, progress)
}

/// Checks a fetched list and fills it in from the connector's enrich files,
/// then from the identity providers its `logins_from` names.
fn finish(c: &Connector, mut fetched: Fetched, progress: &Progress) -> Result<Fetched, Error> {
    once_each(&c.name, &fetched.users)?;
    for path in &c.enrich {
        let e = enrich::apply(path, &mut fetched.users).map_err(|error| Error::Enrich {
            connector: c.name.clone(),
            error: Box::new(error),
        })?;
        if e.unmatched > 0 {
            fetched.warnings.push(Warning::new(
                "dormant::connector::enrich_unmatched",
                format!(
                    "{}: {} of {} rows matched no user of connector `{}`",
                    e.file,
                    e.unmatched,
                    e.matched + e.unmatched,
                    c.name
                ),
            ));
        }
    }
    for idp in &c.logins_from {
        // An identity provider takes no `logins_from` (config checks it):
        // this fetch fills nothing in from elsewhere.
        let counter = progress.next(&format!("users of `{}` fetched for their last logins", idp.name));
        let from = fetch(idp, &counter)?;
        fetched.warnings.extend(from.warnings);
        let done = logins::fill(&idp.name, &from.users, &mut fetched.users);
        if done.unmatched > 0 {
            fetched.warnings.push(Warning::new(
                "dormant::connector::logins_unmatched",
                format!(
                    "{} users of connector `{}` with no last login of their own are not users of connector `{}` (by email or username): their last login stays unknown",
                    done.unmatched, c.name, idp.name
                ),
            ));
        }
    }
    Ok(fetched)
}

/// A platform connection that acts: what `apply` uses. It keeps one
/// runtime for all its requests, and counts them against the daily quota.
pub struct Live {
    rt: tokio::runtime::Runtime,
    conn: Box<dyn Connection>,
    connector: Connector,
    today: String,
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
pub fn shows_done(revoke: bool, action: crate::decision::PlanAction, fresh: Option<&User>) -> bool {
    use crate::decision::PlanAction as A;
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
    pub fn connect(c: &Connector) -> Result<Live, Error> {
        let conn = c.kind.platform().connect(c)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| crate::http::SetupError::runtime(&e))?;
        let today = chrono::Utc::now().date_naive().to_string();
        let live = Live {
            rt,
            conn,
            connector: c.clone(),
            today,
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
        self.conn.client()
    }

    /// Users acted on in one request.
    pub fn batch(&self) -> usize {
        self.conn.batch(&self.connector.limits)
    }

    /// Every user, fresh, with what the fetch warns about.
    pub fn fetch(&self, progress: &Progress) -> Result<Fetched, Error> {
        let fetched = self
            .rt
            .block_on(self.conn.fetch(progress))
            .map_err(|e| self.client().redact_error(e))?;
        progress.finish();
        finish(&self.connector, fetched, progress)
    }

    /// What acting through this connection warns about, the first time it
    /// is asked only: to be said before the first batch is sent.
    pub fn acting_warning(&self) -> Option<Warning> {
        self.conn.acting_warning(self.name())
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
        action: crate::decision::PlanAction,
        users: &[User],
        step: &mut dyn FnMut(&User, Step) -> bool,
    ) -> Vec<Acted> {
        let sent = match self.conn.two_steps(action) {
            Some(steps) => self.in_two_steps(&steps, users, step),
            None => self.rt.block_on(self.conn.send(action, users, self.name())),
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

    /// An action in two steps: the first confirmed and recorded through
    /// `step`, then the second.
    fn in_two_steps(
        &self,
        steps: &platform::TwoSteps,
        users: &[User],
        step: &mut dyn FnMut(&User, Step) -> bool,
    ) -> Vec<Acted> {
        let first: Vec<Acted> = self
            .rt
            .block_on(self.conn.send(steps.first, users, self.name()))
            .into_iter()
            .zip(users)
            .map(|(acted, u)| match acted {
                Acted::Accepted => self.confirm(steps.first, u),
                other => other,
            })
            .map(|acted| match acted {
                // Not yet done: the first step alone is unconfirmed.
                Acted::Unconfirmed(why) => Acted::Unconfirmed(format!("{}: {why}", steps.first_is)),
                other => other,
            })
            .collect();
        let mut recorded = Vec::with_capacity(users.len());
        let first: Vec<Acted> = first
            .into_iter()
            .zip(users)
            .map(|(acted, u)| match acted {
                Acted::Done if step(u, steps.step) => {
                    recorded.push(u);
                    Acted::Done
                }
                Acted::Done => Acted::Failed("not sent: the first step could not be recorded in the journal".into()),
                other => other,
            })
            .collect();
        let mut second = self.rt.block_on(self.conn.second_step(&recorded)).into_iter();
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
    fn confirm(&self, action: crate::decision::PlanAction, u: &User) -> Acted {
        self.rt
            .block_on(platform::confirm(&*self.conn, self.revokes(), action, u))
    }

    /// Whether `fresh` (the user as the platform has them now, `None` when
    /// not there) shows `action` done.
    pub fn shows(&self, action: crate::decision::PlanAction, fresh: Option<&User>) -> bool {
        shows_done(self.revokes(), action, fresh)
    }

    /// Whether deactivating here is a revoke of permissions and groups.
    fn revokes(&self) -> bool {
        self.connector.kind.revokes()
    }

    /// One user as the platform has them now; `None` when not there.
    pub fn read(&self, id: &str) -> Result<Option<User>, HttpError> {
        self.rt.block_on(self.conn.read(id))
    }

    /// Undoes deactivations, by user id, with what each deactivation took
    /// away where the platform needs it (Huwise's revoke, from the journal's
    /// intent record). Each outcome confirmed like `act`'s.
    pub fn reactivate(&self, ids: &[String], before: &[Option<serde_json::Value>]) -> Vec<Acted> {
        let sent = self.rt.block_on(self.conn.reactivate(ids, before));
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
        let platform = self.conn.name();
        match self.read(id) {
            Ok(Some(u)) if self.conn.restored(before, &u) => Acted::Done,
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

    /// What an action is about to take away that undo must give back,
    /// read from the platform just before the action's intent is journaled:
    /// on Huwise, a revoke's permissions and groups. The record read is
    /// kept for the request itself.
    pub fn before(
        &self,
        action: crate::decision::PlanAction,
        u: &User,
    ) -> Result<Option<serde_json::Value>, HttpError> {
        self.rt.block_on(self.conn.before(action, u))
    }

    /// What a deletion made at `at` means now on this platform, for `undo`
    /// to say, and whether it can still be cancelled.
    pub fn deletion(&self, at: Option<crate::time::Time>, now: crate::time::Time) -> (bool, String) {
        self.conn.deletion(at, now)
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
fn once_each(connector: &str, users: &[User]) -> Result<(), Error> {
    let mut seen = HashSet::with_capacity(users.len());
    for u in users {
        if !seen.insert(u.id.as_str()) {
            return Err(Error::ListedTwice {
                connector: connector.to_string(),
                user: u.id.to_string(),
            });
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
pub(crate) const MAX_PAGES: u64 = 1_000_000;

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
