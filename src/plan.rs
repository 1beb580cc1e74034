//! Stage 4: a plan, as data. Every user's decision with its explanation,
//! the counts by action and by rule, and the limits. Decisions stream
//! through a sink, so a plan of a million users is never held in memory.
//! Writing a plan, in JSON as in every other form, is `render`'s.

use crate::ast::Action;
use crate::decision::{Decider, Decision, PlanAction};
use crate::eval::{self, Explanation};
use crate::notices::Notices;
use crate::program::Program;
use crate::time::Time;
use crate::user::User;
use serde::Serialize;

/// What a plan says about its inputs.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    #[serde(serialize_with = "crate::plan::ser_time")]
    pub as_of: Time,
    pub policy: PolicyRef,
    pub users: UsersRef,
    /// Deactivating is a revoke on the users' platform (Huwise): plans
    /// say "revoke" for it.
    #[serde(skip)]
    pub revoke: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyRef {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsersRef {
    /// `file:PATH` or `connector:NAME`
    pub source: String,
    pub count: usize,
    pub sha256: String,
}

pub fn ser_time<S: serde::Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(crate::time::Rfc3339::new(*t).as_str())
}

/// The rule that decided, as plans name it: a rule's name, `line N`,
/// `exempt`, or none.
pub fn rule_label<'p>(p: &'p Program, d: &Decision) -> Option<&'p str> {
    match d.decider {
        Decider::Rule(i) => p.rules.get(i).map(|r| r.name.as_str()),
        Decider::Exempt(_) => Some("exempt"),
        Decider::Nobody => None,
    }
}

/// Counts by action and by rule, as decisions go by.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub count: usize,
    by_action: [usize; 6],
    /// Decisions whose action is already done on the platform, by action:
    /// counted apart, since nothing is sent for them.
    already: [usize; 6],
    /// (rule label, action, already done) → users, in the order first seen.
    by_rule: Vec<(Option<String>, PlanAction, bool, usize)>,
}

impl Tally {
    pub fn add(&mut self, rule: Option<&str>, action: PlanAction) {
        self.add_as(rule, action, false);
    }

    /// Counts a decision, apart when its action is already done.
    pub fn add_decision(&mut self, rule: Option<&str>, d: &Decision) {
        self.add_as(rule, d.action, d.already.is_some());
    }

    fn add_as(&mut self, rule: Option<&str>, action: PlanAction, already: bool) {
        self.count += 1;
        let counts = if already {
            &mut self.already
        } else {
            &mut self.by_action
        };
        if let Some(n) = counts.get_mut(action as usize) {
            *n += 1;
        }
        match self
            .by_rule
            .iter_mut()
            .find(|(r, a, x, _)| r.as_deref() == rule && *a == action && *x == already)
        {
            Some((_, _, _, n)) => *n += 1,
            None => self.by_rule.push((rule.map(str::to_string), action, already, 1)),
        }
    }

    /// The decisions already done, by action (the plan's `already`).
    pub fn already(&self) -> Already {
        let of = |a: PlanAction| self.already.get(a as usize).copied().unwrap_or(0);
        Already {
            notify: of(PlanAction::Notify),
            deactivate: of(PlanAction::Deactivate),
            delete: of(PlanAction::Delete),
        }
    }

    pub fn of(&self, action: PlanAction) -> usize {
        self.by_action.get(action as usize).copied().unwrap_or(0)
    }

    pub fn summary(&self) -> Summary {
        Summary {
            keep: self.of(PlanAction::Keep),
            review: self.of(PlanAction::Review),
            notify: self.of(PlanAction::Notify),
            wait: self.of(PlanAction::Wait),
            deactivate: self.of(PlanAction::Deactivate),
            delete: self.of(PlanAction::Delete),
        }
    }

    /// Counts by rule, in the policy's order: rules, then exemptions, then
    /// users no rule matched.
    pub fn by_rule(&self, p: &Program) -> Vec<RuleCount> {
        let order = |r: &Option<String>| match r.as_deref() {
            None => usize::MAX,
            Some("exempt") => usize::MAX - 1,
            Some(name) => p.rules.iter().position(|x| x.name == name).unwrap_or(usize::MAX - 2),
        };
        let mut rows: Vec<RuleCount> = self
            .by_rule
            .iter()
            .map(|(r, a, already, n)| RuleCount {
                rule: r.clone(),
                action: *a,
                already: *already,
                users: *n,
            })
            .collect();
        rows.sort_by_key(|r| (order(&r.rule), r.action, r.already));
        rows
    }

    /// Every limit of the policy with its count.
    pub fn limits(&self, p: &Program) -> Vec<LimitStatus> {
        p.limits
            .iter()
            .map(|l| {
                let count = PlanAction::ALL
                    .into_iter()
                    .filter(|a| a.limited_as() == Some(l.action))
                    .map(|a| self.of(a))
                    .sum();
                LimitStatus {
                    action: l.action,
                    limit: l.describe(),
                    count,
                    exceeded: l.exceeded(count, self.count),
                }
            })
            .collect()
    }
}

/// The counts of each plan action (the SPEC's `summary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub keep: usize,
    pub review: usize,
    pub notify: usize,
    pub wait: usize,
    pub deactivate: usize,
    pub delete: usize,
}

/// The decisions of a plan whose action is already done on the platform
/// (an account already disabled or pending deletion): not in `Summary`'s
/// counts, never sent, not counted against limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Already {
    pub notify: usize,
    pub deactivate: usize,
    pub delete: usize,
}

impl Already {
    pub fn total(&self) -> usize {
        self.notify + self.deactivate + self.delete
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub rule: Option<String>,
    pub action: PlanAction,
    /// These users are already in the action's state: nothing is sent.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already: bool,
    pub users: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitStatus {
    #[serde(serialize_with = "ser_action")]
    pub action: Action,
    pub limit: String,
    pub count: usize,
    pub exceeded: bool,
}

fn ser_action<S: serde::Serializer>(a: &Action, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.as_str())
}

/// One user's entry in a plan: the decision and its explanation. Its JSON
/// (the SPEC's keys) and its one-line reason are written by `render`.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub program: &'a Program,
    pub record: &'a User,
    pub user: UserRef<'a>,
    pub action: PlanAction,
    pub rule: Option<&'a str>,
    pub decision: Decision,
    pub explanation: Explanation<'a>,
}

/// Who a decision is about: enough to find the account.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct UserRef<'u> {
    pub id: &'u str,
    pub username: Option<&'u str>,
    pub email: Option<&'u str>,
}

impl<'u> UserRef<'u> {
    pub fn of(u: &'u User) -> Self {
        UserRef {
            id: &u.id,
            username: u.username.as_deref(),
            email: u.email.as_deref(),
        }
    }

    /// `ana <ana@example.org> (u1)`, for people.
    pub fn display(&self) -> String {
        let name = self.username.unwrap_or(self.id);
        match (self.email, self.username) {
            (Some(e), _) => format!("{name} <{e}> ({})", self.id),
            (None, Some(_)) => format!("{name} ({})", self.id),
            (None, None) => self.id.to_string(),
        }
    }
}

/// Decides and explains one user.
pub fn entry<'a>(p: &'a Program, u: &'a User, notices: &Notices) -> Entry<'a> {
    explained(p, u, eval::decide(p, u, notices))
}

/// Explains a decision made for one user.
pub fn explained<'a>(p: &'a Program, u: &'a User, d: Decision) -> Entry<'a> {
    Entry {
        program: p,
        record: u,
        user: UserRef::of(u),
        action: d.action,
        rule: rule_label(p, &d),
        explanation: eval::explain(p, u, &d),
        decision: d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Status;

    #[test]
    fn what_is_already_done_is_counted_apart_and_not_against_limits() {
        let source = crate::source::Source::new("t.policy", "limit deactivate 1\na: joined > 1y -> deactivate\n");
        let policy = crate::parse::parse(&source).unwrap().policy;
        let as_of = crate::time::parse_time("2026-11-23").unwrap();
        let p = Program::compile(&policy, &source, as_of).unwrap();
        let mut tally = Tally::default();
        for (i, status) in [Status::Active, Status::Disabled, Status::Disabled]
            .into_iter()
            .enumerate()
        {
            let u = User {
                id: format!("u{i}").into(),
                status: Some(status),
                joined: Some(crate::time::parse_time("2020-01-01").unwrap()),
                ..User::default()
            };
            let d = eval::decide(&p, &u, &Notices::new());
            tally.add_decision(rule_label(&p, &d), &d);
        }
        assert_eq!(tally.count, 3);
        assert_eq!(tally.summary().deactivate, 1);
        assert_eq!(
            tally.already(),
            Already {
                notify: 0,
                deactivate: 2,
                delete: 0
            }
        );
        let limits = tally.limits(&p);
        assert_eq!((limits[0].count, limits[0].exceeded), (1, false));
        let rows = tally.by_rule(&p);
        assert_eq!(rows.len(), 2);
        assert!(!rows[0].already && rows[1].already);
    }
}
