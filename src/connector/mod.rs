//! Connectors: where users come from. The built-in `file` connector reads a
//! users file; each platform has a module of its own, on the HTTP
//! foundation of `crate::http`. Whatever the platform, a fetch returns every
//! user exactly once or fails with an error: never a silently partial list.

pub mod docspace;
pub mod enrich;
pub mod file;
pub mod huwise;
pub mod record;
pub mod snapshot;
pub mod usage;

use crate::config::{Connector, Kind};
use crate::http::HttpError;
use crate::progress::Progress;
use crate::user::User;
use std::collections::HashSet;

/// Users fetched from a platform.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub users: Vec<User>,
    /// Requests it took.
    pub requests: u64,
}

/// Fetches every user of a configured connector.
pub fn fetch(c: &Connector, progress: &Progress) -> Result<Vec<User>, String> {
    let users = match c.kind {
        Kind::Huwise => {
            let h = huwise::Huwise::connect(c)?;
            counted(c, h.client(), || crate::http::block_on(h.fetch(progress)))?
        }
        Kind::Docspace => {
            let d = docspace::DocSpace::connect(c)?;
            // The login history's reach is counted back from now.
            counted(c, d.client(), || crate::http::block_on(d.fetch(progress, chrono::Utc::now())))?
        }
        Kind::File => {
            let path = c.path.as_deref().unwrap_or(std::path::Path::new(""));
            let mut users = file::load(path).map_err(|e| e.to_string())?.users;
            for u in &mut users {
                u.source = Some(c.name.as_str().into());
            }
            users
        }
        other => {
            return Err(format!(
                "connector `{}`: the `{}` platform is not supported by this version of dormant (supported: huwise, docspace, file)",
                c.name,
                other.as_str()
            ))
        }
    };
    progress.finish();
    let mut users = users;
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

/// Runs a fetch with the requests earlier runs made today counted against
/// the daily quota, and counts this one's, whether it succeeded or not.
fn counted(
    c: &Connector,
    client: &crate::http::Client,
    run: impl FnOnce() -> Result<Result<Fetched, HttpError>, String>,
) -> Result<Vec<User>, String> {
    let today = chrono::Utc::now().date_naive().to_string();
    if c.limits.requests_per_day.is_some() {
        client.used_earlier(usage::earlier(&c.usage, &c.name, &today)?);
    }
    let result = run();
    usage::add(&c.usage, &c.name, &today, client.requests())?;
    Ok(result?.map_err(|e| e.to_string())?.users)
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
