//! The crash-safe loop of apply: every request is an intent flushed to the
//! journal before it goes out and an outcome after; Ctrl-C lets the batch
//! in flight finish and be journaled, then stops; a platform's quota stops
//! the run with what is left for the next one.

use super::{recheck, subject, Error, PlanFile, PlannedDecision, Resume, Work};
use crate::config::Connector;
use crate::connector::{Acted, Live};
use crate::decision::PlanAction;
use crate::journal::{Journal, Key, Notices, Outcome, Record, Step};
use crate::notify::Notifier;
use crate::program::Program;
use crate::user::User;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a run of apply is asked to do, all of it checked and agreed to.
pub struct Request<'a> {
    pub plan: &'a PlanFile,
    /// The plan's identity, as the journal knows it.
    pub plan_id: &'a str,
    /// The decisions to act on, in plan order (`--canary` cuts them).
    pub targets: &'a [&'a PlannedDecision],
    pub program: &'a Program,
    pub connector: &'a Connector,
    pub journal: &'a Path,
    pub wait: crate::files::Wait,
    pub key: Option<Key>,
    pub notifier: Option<&'a Notifier>,
    /// `--max`: at most this many users acted on in this run.
    pub max: Option<u64>,
    /// Says what the connector warns about (`Output::warning`).
    pub warn: &'a dyn Fn(&crate::connector::Warning),
}

/// What a run did.
pub struct Report<'p> {
    /// Each planned user this run has an outcome for, in the order journaled.
    pub results: Vec<(&'p PlannedDecision, Outcome)>,
    /// Users this run set out to act on (after `--max`).
    pub acting: usize,
    /// Users `--max` left for the next run.
    pub left: usize,
    /// The platform's quota ran out, and how it said so.
    pub out_of_quota: Option<String>,
    /// Ctrl-C stopped the run.
    pub stopped: bool,
}

/// Carries out a request: reads the journal and the platform, decides
/// again on fresh data, and acts, journaling each step.
pub fn run<'p>(req: Request<'p>) -> Result<Report<'p>, Error> {
    // Ctrl-C lets the request in flight finish and be journaled, then stops.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let (journal, records) = Journal::open(req.journal, req.wait, req.key.clone())?;
    let progress = super::resume(&records, req.plan_id);
    let notices = Notices::from_records(&req.journal.display().to_string(), &records)?;
    let live = Live::connect(req.connector)?;
    let fetched = live
        .fetch(&crate::progress::Progress::new("users fetched again"))
        .map_err(Error::Refetch)?;
    fetched.warnings.iter().for_each(req.warn);
    let mut fresh = fetched.users;
    // Decided again as the plan was: with the journal's deactivation times.
    notices.fill_deactivated(&mut fresh);
    let over = req.plan.over_limits(req.program, fresh.len());
    if !over.is_empty() {
        return Err(Error::OverLimit { over });
    }
    let (work, skipped) = recheck(req.targets, &fresh, req.program, &notices, &progress, |a, u| {
        live.shows(a, u)
    });
    let mut run = Run {
        req: &req,
        journal,
        live: &live,
        stop,
        out_of_quota: None,
        results: Vec::new(),
    };
    let (work, left) = run.defer(work)?;
    run.journal_skipped(skipped, &progress)?;
    run.act_all(&work)?;
    Ok(Report {
        acting: work.len(),
        left,
        stopped: run.stop.load(Ordering::SeqCst),
        out_of_quota: run.out_of_quota,
        results: run.results,
    })
}

/// A run under way.
struct Run<'r, 'p> {
    req: &'r Request<'p>,
    journal: Journal,
    live: &'r Live,
    stop: Arc<AtomicBool>,
    out_of_quota: Option<String>,
    results: Vec<(&'p PlannedDecision, Outcome)>,
}

impl<'p> Run<'_, 'p> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.out_of_quota.is_some()
    }

    /// Journals an outcome for a planned user, now, and keeps it.
    fn outcome(&mut self, d: &'p PlannedDecision, outcome: Outcome) -> Result<(), Error> {
        let connector = self.req.connector.name.as_str();
        let record = Record::outcome(
            self.req.plan_id,
            connector,
            chrono::Utc::now(),
            subject(d),
            outcome.clone(),
        );
        self.journal.append(&record)?;
        self.results.push((d, outcome));
        Ok(())
    }

    /// `--max`: the first N still to do, in plan order; the rest are left
    /// for the next run of the same plan, which skips what this one did.
    fn defer(&mut self, mut work: Vec<Work<'p>>) -> Result<(Vec<Work<'p>>, usize), Error> {
        let left = match self.req.max.and_then(|n| usize::try_from(n).ok()) {
            Some(n) if work.len() > n => work.split_off(n).len(),
            _ => 0,
        };
        if left > 0 {
            let max = self.req.max.unwrap_or_default();
            let connector = self.req.connector.name.as_str();
            let record = Record::deferred(self.req.plan_id, connector, chrono::Utc::now(), max, work.len(), left);
            self.journal.append(&record)?;
        }
        Ok((work, left))
    }

    /// The users not acted on, each with why; what an earlier run finished
    /// has its outcome in the journal already.
    fn journal_skipped(
        &mut self,
        skipped: Vec<(&'p PlannedDecision, Outcome)>,
        progress: &Resume,
    ) -> Result<(), Error> {
        for (d, outcome) in skipped {
            let key = (d.user.id.clone(), d.action.as_str().to_string());
            if progress.finished.contains(&key) {
                self.results.push((d, outcome));
            } else {
                self.outcome(d, outcome)?;
            }
        }
        Ok(())
    }

    /// Notices first, then deactivations, then deletions, in batches.
    fn act_all(&mut self, work: &[Work<'p>]) -> Result<(), Error> {
        let bar = crate::progress::Progress::new("users acted on");
        bar.set_total(work.len() as u64);
        for action in [PlanAction::Notify, PlanAction::Deactivate, PlanAction::Delete] {
            let these: Vec<&Work<'p>> = work.iter().filter(|w| w.planned.action == action).collect();
            for batch in these.chunks(self.live.batch()) {
                if self.stopped() {
                    break;
                }
                let ready = self.intents(action, batch)?;
                let acted = self.send(action, &ready)?;
                for (w, a) in ready.iter().zip(acted) {
                    let outcome = self.outcome_of(a);
                    self.outcome(w.planned, outcome)?;
                }
                bar.inc(ready.len() as u64);
            }
        }
        bar.finish();
        Ok(())
    }

    /// Journals an intent for each user of a batch, with what the action
    /// takes away that undo must give back, read just before; a user it
    /// cannot be read for is not acted on.
    fn intents<'w>(&mut self, action: PlanAction, batch: &[&'w Work<'p>]) -> Result<Vec<&'w Work<'p>>, Error> {
        let mut ready = Vec::with_capacity(batch.len());
        for &w in batch {
            let before = match w.fresh.as_ref().map(|u| self.live.before(action, u)).transpose() {
                Ok(b) => b.flatten(),
                Err(e) => {
                    if matches!(e, crate::http::HttpError::Quota { .. }) {
                        self.out_of_quota = Some(e.to_string());
                    }
                    let why = self.live.redact(&format!("reading the user first failed: {e}"));
                    self.outcome(w.planned, Outcome::NotSent(why))?;
                    continue;
                }
            };
            let connector = self.req.connector.name.as_str();
            let intent = Record::intent(
                self.req.plan_id,
                connector,
                chrono::Utc::now(),
                subject(w.planned),
                before,
            );
            self.journal.append(&intent)?;
            ready.push(w);
        }
        Ok(ready)
    }

    /// Sends a batch: notices one by one, other actions through the
    /// platform, each first step of a two-step action journaled before the
    /// second is sent. A journal that cannot be written stops the run once
    /// the batch is accounted for.
    fn send(&mut self, action: PlanAction, batch: &[&Work<'p>]) -> Result<Vec<Acted>, Error> {
        let users: Vec<User> = batch.iter().filter_map(|w| w.fresh.clone()).collect();
        if let (PlanAction::Notify, Some(n)) = (action, self.req.notifier) {
            let sent = batch.iter().zip(&users);
            return Ok(sent
                .map(|(w, u)| notice(n, self.req.program, w.planned, u, self.live))
                .collect());
        }
        let (plan_id, connector) = (self.req.plan_id, self.req.connector.name.as_str());
        let journal = &mut self.journal;
        let mut broken: Option<crate::journal::Error> = None;
        let mut step = |u: &User, s: crate::connector::Step| -> bool {
            let Some(w) = batch.iter().find(|w| w.planned.user.id == u.id.as_str()) else {
                return false;
            };
            let s = match s {
                crate::connector::Step::Deactivated => Step::Deactivated,
            };
            let record = Record::step(plan_id, connector, chrono::Utc::now(), subject(w.planned), s);
            match journal.append(&record) {
                Ok(()) => true,
                Err(e) => {
                    broken.get_or_insert(e);
                    false
                }
            }
        };
        self.live.acting_warning().iter().for_each(self.req.warn);
        let acted = self.live.act(action, &users, &mut step);
        match broken {
            Some(e) => Err(e.into()),
            None => Ok(acted),
        }
    }

    /// The outcome of what the platform answered; the quota running out
    /// stops the run after this batch.
    fn outcome_of(&mut self, acted: Acted) -> Outcome {
        match acted {
            Acted::Done => Outcome::Done,
            // `Live::act` reads back whatever was only accepted.
            Acted::Accepted => Outcome::Unconfirmed("the platform took the request without saying what it did".into()),
            Acted::Unconfirmed(why) => Outcome::Unconfirmed(why),
            Acted::Skipped(why) => Outcome::Skipped(why),
            Acted::Failed(why) => Outcome::failed(why),
            Acted::OutOfQuota(why) => {
                self.out_of_quota = Some(why.clone());
                Outcome::NotSent(why)
            }
        }
    }
}

/// Sends one notice: the rule's coming action and its date.
fn notice(n: &Notifier, program: &Program, d: &PlannedDecision, u: &User, live: &Live) -> Acted {
    let rule = d.rule.as_deref().unwrap_or("");
    let coming = program
        .rules
        .iter()
        .find(|r| r.name == rule && r.notice.is_some())
        .map_or("notify", |r| r.action.as_str());
    let notice = crate::notify::Notice {
        user: u,
        action: coming,
        date: d.due.as_deref().map(|t| t.get(..10).unwrap_or(t).to_string()),
        rule,
        platform: live.name(),
    };
    match n.send(&notice, live.runtime()) {
        Ok(()) => Acted::Done,
        Err(e) => Acted::Failed(format!("notice not sent: {e}")),
    }
}
