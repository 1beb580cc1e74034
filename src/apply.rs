//! Stage 5: carry out a reviewed plan (SPEC section 6). The plan is checked
//! (same policy, within its limits, made from a connector), each user is
//! decided again on fresh data, and every request is journaled: an intent
//! flushed to disk before it goes out, an outcome after. Run again on the
//! same plan, apply skips what has an outcome and settles intents left
//! without one by the user's current state on the platform.

mod error;
mod run;

pub use error::Error;
pub use run::{run, Report, Request};

use crate::decision::PlanAction;
use crate::eval::decide;
use crate::journal::{Event, Notices, Record, Subject};
use crate::plan::{rule_label, Tally};
use crate::program::Program;
use crate::user::{Status, User};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The parts of a plan that apply reads.
#[derive(Debug, Clone, Deserialize)]
pub struct PlanFile {
    pub as_of: String,
    pub policy: PlannedPolicy,
    pub users: PlannedUsers,
    pub decisions: Vec<PlannedDecision>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlannedPolicy {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlannedUsers {
    pub source: String,
    pub count: usize,
    #[serde(default)]
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlannedDecision {
    pub user: PlannedUser,
    pub action: PlanAction,
    pub rule: Option<String>,
    /// `notify` under `after notice`: when the rule's action becomes due.
    #[serde(default)]
    pub due: Option<String>,
    /// The account was already in the action's state when planned
    /// (`disabled`, `pending_delete`): nothing is sent for it.
    #[serde(default)]
    pub already: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlannedUser {
    pub id: String,
    pub username: Option<String>,
    pub email: Option<String>,
}

impl PlanFile {
    /// The connector the plan's users came from, or why it cannot be applied.
    pub fn connector(&self) -> Result<&str, Error> {
        self.users
            .source
            .strip_prefix("connector:")
            .ok_or_else(|| Error::NotFromConnector {
                users: self.users.source.clone(),
            })
    }

    /// The decisions apply acts on, in plan order: not those already done.
    pub fn targets(&self) -> Vec<&PlannedDecision> {
        self.decisions
            .iter()
            .filter(|d| d.already.is_none() && d.action.limited_as().is_some())
            .collect()
    }

    /// The decisions whose action the plan found already done: never sent.
    pub fn already_done(&self) -> usize {
        self.decisions
            .iter()
            .filter(|d| d.already.is_some() && d.action.limited_as().is_some())
            .count()
    }

    /// What makes the plan this plan: a digest of its as-of, policy and
    /// users hashes and decisions, not of its bytes, so that a copy with
    /// other line ends or spacing (git's autocrlf) is the same plan and
    /// resumes the same journal.
    pub fn identity(&self) -> String {
        let as_of = crate::time::parse_time(&self.as_of).map_or_else(|| self.as_of.clone(), crate::time::format_time);
        let decisions: Vec<(&str, &str, Option<&str>, Option<&str>)> = self
            .decisions
            .iter()
            .map(|d| {
                (
                    d.user.id.as_str(),
                    d.action.as_str(),
                    d.rule.as_deref(),
                    d.due.as_deref(),
                )
            })
            .collect();
        let canonical = serde_json::json!({
            "as_of": as_of,
            "policy": self.policy.sha256,
            "users": self.users.sha256,
            "decisions": decisions,
        });
        crate::digest::sha256_hex(canonical.to_string().as_bytes())
    }

    /// Refuses a plan made under another file than `path`, the policy
    /// apply enforces (named by `by`, the flag or key that chose it).
    pub fn made_under(&self, path: &Path, by: &'static str) -> Result<(), Error> {
        let same_file = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same_file(path, Path::new(&self.policy.path)) {
            return Ok(());
        }
        Err(Error::OtherPolicy {
            plan: self.policy.path.clone(),
            enforced: path.to_path_buf(),
            by,
        })
    }

    /// Refuses a plan made under the policy at `path` as it was before
    /// `text`, its text now.
    pub fn same_policy(&self, path: &Path, text: &str) -> Result<(), Error> {
        let sha = crate::digest::sha256_hex(text.as_bytes());
        if sha == self.policy.sha256 {
            return Ok(());
        }
        let short = |sha: &str| sha.get(..12).unwrap_or(sha).to_string();
        Err(Error::PolicyChanged {
            path: path.to_path_buf(),
            then: short(&self.policy.sha256),
            now: short(&sha),
        })
    }

    /// Refuses a plan dormant could not have written: a user decided twice
    /// (two requests for one user), or a count of users that is not the
    /// decisions listed (a count raised to get under a percentage limit).
    pub fn check_whole(&self) -> Result<(), Error> {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(self.decisions.len());
        for (i, d) in self.decisions.iter().enumerate() {
            if let Some(first) = seen.insert(d.user.id.as_str(), i + 1) {
                return Err(Error::DecidedTwice {
                    user: d.user.id.clone(),
                    first,
                    second: i + 1,
                });
            }
        }
        if self.users.count != self.decisions.len() {
            return Err(Error::Miscounted {
                count: self.users.count,
                decisions: self.decisions.len(),
            });
        }
        Ok(())
    }

    /// The actions over a limit of the policy: the plan's decisions counted
    /// against `users`, the users there are (as just fetched).
    pub fn over_limits(&self, program: &Program, users: usize) -> Vec<String> {
        let mut tally = Tally::default();
        // What is already done is never sent, so no limit counts it.
        for d in self.decisions.iter().filter(|d| d.already.is_none()) {
            tally.add(d.rule.as_deref(), d.action);
        }
        tally.count = users;
        tally
            .limits(program)
            .into_iter()
            .filter(|l| l.exceeded)
            .map(|l| format!("{} ({} planned, limit {})", l.action.as_str(), l.count, l.limit))
            .collect()
    }
}

pub use crate::journal::Outcome;

/// How the platform stands with a user whose request was sent but whose
/// outcome was never confirmed (a crash, or an unconfirmed answer), given
/// whether the user as read now (`None`: not there) shows it done.
fn settled(action: PlanAction, fresh: Option<&User>, shows: bool) -> Option<Outcome> {
    let how = match (action, fresh) {
        // Not in the whole list just fetched: deleted. A deactivated user
        // would still be listed, so their absence settles nothing.
        (PlanAction::Delete, None) => "the user is gone from the platform",
        (_, None) => return None,
        _ if !shows => return None,
        (PlanAction::Delete, Some(_)) => "the user is pending deletion on the platform",
        (_, Some(u)) if u.status == Some(Status::Disabled) => "the user is deactivated on the platform",
        (_, Some(_)) => "the user's permissions and groups are gone on the platform",
    };
    Some(Outcome::Settled(how.into()))
}

/// The journal's state for one plan: what has an outcome, and intents
/// without a confirmed one (no outcome, or `unconfirmed`).
#[derive(Debug, Default)]
pub struct Resume {
    pub finished: HashSet<(String, String)>,
    pub in_doubt: HashSet<(String, String)>,
    /// Actions whose first step was done (a DocSpace delete: the user is
    /// Terminated) and that are not finished: the next run finishes them.
    pub started: HashSet<(String, String)>,
}

pub fn resume(records: &[Record], plan: &str) -> Resume {
    let mut p = Resume::default();
    for r in records.iter().filter(|r| r.plan == plan) {
        match &r.event {
            Event::Intent { subject, .. } => {
                p.in_doubt.insert(subject.key());
            }
            Event::Step { subject, .. } => {
                p.started.insert(subject.key());
            }
            // Still in doubt: the next run reads the platform to settle it.
            Event::Outcome {
                outcome: Outcome::Unconfirmed(_),
                ..
            } => {}
            Event::Outcome { subject, outcome } => {
                let key = subject.key();
                p.in_doubt.remove(&key);
                if outcome.finishes() {
                    p.started.remove(&key);
                    p.finished.insert(key);
                }
            }
            Event::Deferred { .. } | Event::Other => {}
        }
    }
    p
}

/// One planned user, ready to act on: the plan's decision and the fresh record.
pub struct Work<'p> {
    pub planned: &'p PlannedDecision,
    pub fresh: Option<User>,
}

/// Decides again on fresh data: the users to act on, and those skipped with why.
pub fn recheck<'p>(
    targets: &[&'p PlannedDecision],
    fresh: &[User],
    program: &Program,
    notices: &Notices,
    done: &Resume,
    shows: impl Fn(PlanAction, Option<&User>) -> bool,
) -> (Vec<Work<'p>>, Vec<(&'p PlannedDecision, Outcome)>) {
    let by_id: HashMap<&str, &User> = fresh.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut work = Vec::new();
    let mut skipped = Vec::new();
    for &d in targets {
        let user = by_id.get(d.user.id.as_str()).copied();
        match recheck_one(d, user, program, notices, done, &shows) {
            Ok(()) => work.push(Work {
                planned: d,
                fresh: user.cloned(),
            }),
            Err(why) => skipped.push((d, why)),
        }
    }
    (work, skipped)
}

/// Whether one planned user is still to be acted on, or the outcome that
/// says why not.
fn recheck_one(
    d: &PlannedDecision,
    user: Option<&User>,
    program: &Program,
    notices: &Notices,
    done: &Resume,
    shows: &impl Fn(PlanAction, Option<&User>) -> bool,
) -> Result<(), Outcome> {
    let key = (d.user.id.clone(), d.action.as_str().to_string());
    if done.finished.contains(&key) {
        return Err(Outcome::Skipped("already done by an earlier run of this plan".into()));
    }
    if done.in_doubt.contains(&key) || done.started.contains(&key) {
        if let Some(how) = settled(d.action, user, shows(d.action, user)) {
            return Err(how);
        }
    }
    // Put on the path to deletion by this plan, and cut off half way:
    // finished, not decided again on a user this very action disabled,
    // unless they are now protected.
    if let (true, Some(u)) = (done.started.contains(&key), user) {
        return match protection(program, u, notices) {
            Some(why) => Err(Outcome::Skipped(format!(
                "the {} this plan started is not finished, since the user is now {why}; undo reactivates them",
                d.action.as_str()
            ))),
            None => Ok(()),
        };
    }
    let Some(u) = user else {
        return Err(Outcome::Skipped("no longer on the platform".into()));
    };
    decided_again(d, u, program, notices)
}

/// The plan's decision taken again on the user as they are now: the same
/// action by the same rule, on an account not already in its state.
fn decided_again(d: &PlannedDecision, u: &User, program: &Program, notices: &Notices) -> Result<(), Outcome> {
    let now = decide(program, u, notices);
    let rule = rule_label(program, &now);
    // Disabled or put up for deletion since the plan, by someone else:
    // nothing to send (and no notice to a disabled account).
    if let Some(state) = now.already {
        return Err(Outcome::Skipped(format!(
            "{} on the platform (status {}): nothing sent",
            crate::render::already_text(state),
            state.as_str()
        )));
    }
    if now.action != d.action || rule != d.rule.as_deref() {
        return Err(Outcome::Skipped(format!(
            "decided again on fresh data: {} ({}), not {} as planned",
            now.action.as_str(),
            rule.unwrap_or("no rule"),
            d.action.as_str()
        )));
    }
    Ok(())
}

/// Why a user must not be acted on whatever the plan said, if they must
/// not: an administrator, or kept by an exemption or a `keep` rule, or in
/// review (an earlier rule might keep them) on the data there is now.
fn protection(program: &Program, u: &User, notices: &Notices) -> Option<String> {
    if u.is_admin == Some(true) {
        return Some("an administrator".into());
    }
    let now = decide(program, u, notices);
    let rule = rule_label(program, &now);
    match (now.action, rule) {
        (PlanAction::Keep, Some(rule)) => Some(format!("kept by {rule}")),
        (PlanAction::Review, rule) => Some(format!("in review ({})", rule.unwrap_or("no rule"))),
        _ => None,
    }
}

/// The user and action of a planned decision, as the journal names them.
pub fn subject(d: &PlannedDecision) -> Subject {
    let action = crate::journal::Action::parse(d.action.as_str());
    Subject::new(&d.user.id, d.user.username.as_deref(), action, Some(d.rule.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn records(values: &[Value]) -> Vec<Record> {
        crate::journal::Record::read_all("j", values).unwrap()
    }

    #[test]
    fn journal_progress_of_one_plan() {
        let r = |event: &str, user: &str, status: Option<&str>, plan: &str| serde_json::json!({"event": event, "user": user, "action": "delete", "status": status, "plan": plan});
        let records = vec![
            r("intent", "a", None, "p"),
            r("outcome", "a", Some("done"), "p"),
            r("intent", "b", None, "p"),
            r("intent", "c", None, "p"),
            r("outcome", "c", Some("failed"), "p"),
            r("intent", "d", None, "other"),
        ];
        let p = resume(&self::records(&records), "p");
        assert!(p.finished.contains(&("a".into(), "delete".into())));
        assert!(p.in_doubt.contains(&("b".into(), "delete".into())));
        assert!(
            !p.finished.contains(&("c".into(), "delete".into()))
                && !p.in_doubt.contains(&("c".into(), "delete".into()))
        );
        assert!(!p.in_doubt.contains(&("d".into(), "delete".into())));
    }

    #[test]
    fn doubt_is_settled_by_the_platform() {
        use crate::connector::shows_done;
        let settles = |a: PlanAction, u: Option<&User>| settled(a, u, shows_done(false, a, u));
        assert!(settles(PlanAction::Delete, None).is_some());
        let u = User {
            status: Some(Status::Disabled),
            ..User::default()
        };
        assert!(settles(PlanAction::Deactivate, Some(&u)).is_some());
        let active = User {
            status: Some(Status::Active),
            ..User::default()
        };
        assert_eq!(settles(PlanAction::Deactivate, Some(&active)), None);
        assert_eq!(settles(PlanAction::Delete, Some(&active)), None);
        // A revoke is settled by the permissions and groups being gone,
        // whatever the status says.
        let revoked = User {
            status: Some(Status::Active),
            permission: Some(crate::user::Set::new()),
            group: Some(crate::user::Set::new()),
            ..User::default()
        };
        assert!(settled(
            PlanAction::Deactivate,
            Some(&revoked),
            shows_done(true, PlanAction::Deactivate, Some(&revoked))
        )
        .is_some());
        assert_eq!(
            settled(
                PlanAction::Deactivate,
                Some(&revoked),
                shows_done(false, PlanAction::Deactivate, Some(&revoked))
            ),
            None
        );
    }

    /// A plan with one decision per (id, action, already).
    fn plan_of(decisions: &[(&str, &str, Option<&str>)]) -> PlanFile {
        let decisions: Vec<Value> = decisions
            .iter()
            .map(|(id, action, already)| {
                serde_json::json!({"user": {"id": id, "username": null, "email": null}, "action": action, "rule": "a", "already": already})
            })
            .collect();
        let n = decisions.len();
        serde_json::from_value(serde_json::json!({
            "as_of": "2026-11-23T00:00:00Z",
            "policy": {"path": "t.policy", "sha256": "x"},
            "users": {"source": "connector:c", "count": n, "sha256": "y"},
            "decisions": decisions,
        }))
        .unwrap()
    }

    fn program(text: &str) -> Program {
        let source = crate::source::Source::new("t.policy", text);
        let policy = crate::parse::parse(&source).unwrap().policy;
        Program::compile(&policy, &source, crate::time::parse_time("2026-11-23").unwrap()).unwrap()
    }

    #[test]
    fn what_is_already_done_is_neither_a_target_nor_under_a_limit() {
        let plan = plan_of(&[
            ("a", "deactivate", None),
            ("b", "deactivate", Some("disabled")),
            ("c", "deactivate", Some("pending_delete")),
            ("d", "keep", None),
        ]);
        let ids: Vec<&str> = plan.targets().iter().map(|d| d.user.id.as_str()).collect();
        assert_eq!(ids, ["a"]);
        assert_eq!(plan.already_done(), 2);
        assert!(plan
            .over_limits(&program("limit deactivate 1\na: is_admin -> deactivate\n"), 4)
            .is_empty());
        assert_eq!(
            plan.over_limits(&program("limit deactivate 0\na: is_admin -> deactivate\n"), 4)
                .len(),
            1
        );
    }

    #[test]
    fn an_account_disabled_since_the_plan_is_not_sent_a_deactivation() {
        let plan = plan_of(&[("a", "deactivate", None), ("b", "deactivate", None)]);
        let program = program("a: is_admin == false -> deactivate\n");
        let user = |id: &str, status| User {
            id: id.into(),
            status: Some(status),
            is_admin: Some(false),
            ..User::default()
        };
        let fresh = [user("a", Status::Disabled), user("b", Status::Active)];
        let targets = plan.targets();
        let (work, skipped) = recheck(
            &targets,
            &fresh,
            &program,
            &Notices::new(),
            &Resume::default(),
            |_, _| false,
        );
        assert_eq!(work.len(), 1);
        assert_eq!(work[0].planned.user.id, "b");
        assert_eq!(
            skipped[0].1,
            Outcome::Skipped("already deactivated on the platform (status disabled): nothing sent".into())
        );
    }

    #[test]
    fn a_deferral_is_no_progress_for_any_user() {
        let at = crate::time::parse_time("2026-11-23").unwrap();
        let records = vec![Record::deferred("p", "c", at, 3, 3, 4)];
        let p = resume(&records, "p");
        assert!(p.finished.is_empty() && p.in_doubt.is_empty() && p.started.is_empty());
        let written = records[0].to_map();
        assert_eq!(written["event"], "deferred");
        assert_eq!((&written["max"], &written["count"]), (&Value::from(3), &Value::from(4)));
    }

    #[test]
    fn an_unconfirmed_outcome_stays_in_doubt() {
        let records = vec![
            serde_json::json!({"event": "intent", "user": "a", "action": "delete", "plan": "p"}),
            serde_json::json!({"event": "outcome", "user": "a", "action": "delete", "status": "unconfirmed", "plan": "p"}),
        ];
        let p = resume(&self::records(&records), "p");
        assert!(p.in_doubt.contains(&("a".into(), "delete".into())));
        assert!(!p.finished.contains(&("a".into(), "delete".into())));
    }
}
