//! Stage 3: decide what happens to one user. A pure function of the
//! compiled policy (which carries as-of), the user and the notices already
//! sent: it never reads the clock, the disk or the network. Decisions and
//! their explanations (`explain`) are data; `render` puts them into words.

use crate::ast::CmpOp;
use crate::fields::Field;
use crate::notices::Notices;
use crate::program::{Cond, Leaf, Operand, Program, Test};
use crate::time::{self, Time};
use crate::user::{Attr, Known, Status, User};
use crate::value::{eq_folded, Truth};

mod explain;

pub use crate::program::fast::Flat;

pub use crate::decision::{already, Decider, Decision, PlanAction};

pub use explain::{
    ages, explain, explain_with, values, Age, Ages, Explanation, FieldRef, Item, Passed, Seen, Seens, Truths,
};

/// Decides for one user: exemptions first, then the first rule that is not
/// false; an unknown one means `review`.
///
/// This is [`decide_by_definition`] computed fast: the rules that the
/// user's cheap comparisons show to be false are skipped, and the others
/// are evaluated by the compiled kernels of [`Flat`]. `tests/fast_path.rs`
/// holds the two equal.
pub fn decide(p: &Program, u: &User, notices: &Notices) -> Decision {
    if let Some(i) = exemption(p, u) {
        return Decision::by(Decider::Exempt(i), PlanAction::Keep);
    }
    let facts = p.flat.facts(u);
    for i in p.flat.candidates(&facts, p.rules.len()) {
        let Some(rule) = p.rules.get(i) else { break };
        let truth = p
            .flat
            .rule(i, &p.leaves, u, &facts, leaf)
            .unwrap_or_else(|| eval(p, &rule.cond, u));
        if let Some(d) = by_rule(p, u, notices, i, truth) {
            return d;
        }
    }
    Decision::by(Decider::Nobody, PlanAction::Keep)
}

/// What [`decide`] decides, by the definition: every rule in order,
/// evaluated by [`eval`]. Slower; for holding the fast path to it.
pub fn decide_by_definition(p: &Program, u: &User, notices: &Notices) -> Decision {
    if let Some(i) = exemption(p, u) {
        return Decision::by(Decider::Exempt(i), PlanAction::Keep);
    }
    for (i, rule) in p.rules.iter().enumerate() {
        if let Some(d) = by_rule(p, u, notices, i, eval(p, &rule.cond, u)) {
            return d;
        }
    }
    Decision::by(Decider::Nobody, PlanAction::Keep)
}

/// The exemption in force for `u`, if any.
fn exemption(p: &Program, u: &User) -> Option<usize> {
    p.exempts
        .iter()
        .position(|e| e.ends.is_none_or(|end| p.as_of < end) && u.is_named(&e.who))
}

/// The decision of rule `i`, whose condition is `truth` for `u`; `None`
/// when it is false and the next rule decides. Always inlined: as a call,
/// deciding ran about 8% more instructions per user (callgrind, the
/// benchmark policy).
#[inline(always)]
fn by_rule(p: &Program, u: &User, notices: &Notices, i: usize, truth: Truth) -> Option<Decision> {
    let rule = p.rules.get(i)?;
    let decision = |action| Decision::by(Decider::Rule(i), action);
    match truth {
        Truth::False => None,
        Truth::Unknown => Some(decision(PlanAction::Review)),
        Truth::True => {
            let action = PlanAction::from_rule(rule.action);
            if let Some(state) = already(action, u.status, p.revoke) {
                return Some(Decision {
                    already: Some(state),
                    ..decision(action)
                });
            }
            Some(match rule.notice {
                None => decision(action),
                Some(period) => unnotifiable(
                    after_notice(p, u, notices, &rule.name, action, period, decision(action)),
                    u.status,
                ),
            })
        }
    }
}

/// A notice the account cannot be sent (it is disabled or pending
/// deletion) turns the decision into a review: the rule asks for a notice
/// first, and only a person may decide to go without one. A notice sent
/// before, while it could be read, still counts as usual.
fn unnotifiable(d: Decision, status: Option<Status>) -> Decision {
    match already(PlanAction::Notify, status, false) {
        Some(state) if d.action == PlanAction::Notify => Decision {
            action: PlanAction::Review,
            due: None,
            cannot_notify: Some(state),
            ..d
        },
        _ => d,
    }
}

/// `ACTION after notice D`: act only on a notice under this rule, sent after
/// the last login, at least D before as-of.
fn after_notice(
    p: &Program,
    u: &User,
    notices: &Notices,
    rule: &str,
    action: PlanAction,
    period: crate::ast::Duration,
    base: Decision,
) -> Decision {
    let sent = notices.latest(&u.id, rule).filter(|at| match u.last_login {
        Known::Value(login) => *at > login,
        Known::Never => true,
        // Whether they logged in after the notice cannot be told: the notice
        // does not count, and they are notified again rather than acted on.
        Known::Unknown => false,
    });
    match sent {
        None => Decision {
            action: PlanAction::Notify,
            due: time::plus(p.as_of, period),
            ..base
        },
        Some(at) => {
            let due = time::plus(at, period);
            let ready = due.is_some_and(|d| d <= p.as_of);
            Decision {
                action: if ready { action } else { PlanAction::Wait },
                due,
                notified: Some(at),
                ..base
            }
        }
    }
}

/// A condition's value for one user.
pub fn eval(p: &Program, cond: &Cond, u: &User) -> Truth {
    match cond {
        Cond::Leaf(i) => p.leaves.get(*i).map_or(Truth::Unknown, |l| leaf(l, u)),
        Cond::Not(c) => eval(p, c, u).not(),
        Cond::Let(_, c) => eval(p, c, u),
        Cond::And(cs) => {
            let mut acc = Truth::True;
            for c in cs {
                acc = acc.and(eval(p, c, u));
                if acc == Truth::False {
                    break;
                }
            }
            acc
        }
        Cond::Or(cs) => {
            let mut acc = Truth::False;
            for c in cs {
                acc = acc.or(eval(p, c, u));
                if acc == Truth::True {
                    break;
                }
            }
            acc
        }
    }
}

/// A field's value for one user, borrowed from the user where it can be:
/// what comparisons read ([`value`]) and what explanations show
/// ([`values`]). An attribute is its source's kind of value; a comparison
/// may read its text as the number, bool or time it needs ([`compared`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'u> {
    Text(&'u str),
    Texts(&'u [crate::user::Text]),
    Number(f64),
    Bool(bool),
    Time(Time),
    /// A time and who says it: `deactivated` as explanations show it (the
    /// platform or the journal), which a reviewer must be able to tell
    /// apart. [`value`] never gives it: comparisons read the time alone.
    TimeFrom(Time, &'u str),
    Never,
    /// *never*, and who says it: a `last_login` an identity provider
    /// supplied. As `TimeFrom`, [`value`] never gives it.
    NeverFrom(&'u str),
    Unknown,
}

impl<'u> Val<'u> {
    /// Where the value came from, for a value that says.
    pub fn origin(&self) -> Option<&'u str> {
        match self {
            Val::TimeFrom(_, from) | Val::NeverFrom(from) => Some(from),
            _ => None,
        }
    }
}

fn text(v: &Option<crate::user::Text>) -> Val<'_> {
    v.as_deref().map_or(Val::Unknown, Val::Text)
}

fn texts(v: &Option<crate::user::Set>) -> Val<'_> {
    v.as_deref().map_or(Val::Unknown, Val::Texts)
}

fn known_time(k: Known<Time>) -> Val<'static> {
    match k {
        Known::Value(t) => Val::Time(t),
        Known::Never => Val::Never,
        Known::Unknown => Val::Unknown,
    }
}

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Val<'static>) -> Val<'static> {
    v.map_or(Val::Unknown, f)
}

fn attr(a: &Attr) -> Val<'_> {
    match a {
        Attr::Text(s) => Val::Text(s),
        Attr::Number(n) => Val::Number(*n),
        Attr::Bool(b) => Val::Bool(*b),
        Attr::Time(t) => Val::Time(*t),
    }
}

/// A field's value for `u`, as the user record holds it.
#[inline]
pub(crate) fn value<'u>(field: &Field, u: &'u User) -> Val<'u> {
    match field {
        Field::Id => Val::Text(&u.id),
        Field::Username => text(&u.username),
        Field::Email => text(&u.email),
        Field::Name => text(&u.name),
        Field::Source => text(&u.source),
        Field::Status => opt(u.status, |s| Val::Text(s.as_str())),
        Field::Joined => opt(u.joined, Val::Time),
        Field::LastLogin => known_time(u.last_login),
        Field::LastActivity => known_time(u.last_activity),
        Field::Group => texts(&u.group),
        Field::GroupName => texts(&u.group_name),
        Field::Deactivated => opt(u.deactivated_at(), Val::Time),
        Field::Role => texts(&u.role),
        Field::Permission => texts(&u.permission),
        Field::IsAdmin => opt(u.is_admin, Val::Bool),
        Field::IsService => opt(u.is_service, Val::Bool),
        Field::NeverLoggedIn => opt(u.never_logged_in(), Val::Bool),
        Field::HasActivity => opt(u.has_activity(), Val::Bool),
        Field::Inactive => opt(u.inactive_since(), Val::Time),
        Field::Activity(name) => opt(u.activity(name), Val::Number),
        Field::Attr(name) => u.attr(name).map_or(Val::Unknown, attr),
    }
}

/// One comparison. Comparing something unknown, or a *never* time, is unknown.
pub fn leaf(l: &Leaf, u: &User) -> Truth {
    let Some(v) = compared(l, u) else {
        return Truth::Unknown;
    };
    match (&l.test, v) {
        (Test::IsTrue, Val::Bool(b)) => b.into(),
        (Test::Age { op, cutoff, .. }, Val::Time(t)) => time::compare(&t, *op, cutoff).into(),
        (Test::Cmp(op, operand), v) => cmp(v, *op, operand),
        // Text is never equal to a number, time or bool: only the text items count.
        (Test::In(_, texts), Val::Texts(values)) => values.iter().any(|v| texts.contains(v)).into(),
        (Test::In(_, texts), Val::Text(v)) => texts.contains(v).into(),
        (Test::In(items, _), v) => items.iter().any(|i| is(v, i)).into(),
        (Test::Matches(glob), Val::Text(s)) => glob.matches(s).into(),
        (Test::Matches(glob), Val::Texts(values)) => values.iter().any(|s| glob.matches(s)).into(),
        _ => Truth::Unknown,
    }
}

fn is(v: Val<'_>, item: &Operand) -> bool {
    cmp(v, CmpOp::Eq, item) == Truth::True
}

fn cmp(v: Val<'_>, op: CmpOp, operand: &Operand) -> Truth {
    match (v, operand) {
        (Val::Text(s), Operand::Text(lit)) => match op {
            CmpOp::Eq => eq_folded(s, lit).into(),
            CmpOp::Ne => (!eq_folded(s, lit)).into(),
            _ => Truth::Unknown,
        },
        (Val::Number(n), Operand::Number(lit)) => time::compare(&n, op, lit).into(),
        (Val::Bool(b), Operand::Bool(lit)) => time::compare(&b, op, lit).into(),
        (Val::Time(t), Operand::Time(lit)) => time::compare(&t, op, lit).into(),
        _ => Truth::Unknown,
    }
}

/// The value comparison `l` compares for `u`: `None` when there is none
/// to compare (unknown, or a *never* time), or an attribute cannot be read
/// as the comparison needs.
#[inline]
pub(crate) fn compared<'u>(l: &Leaf, u: &'u User) -> Option<Val<'u>> {
    match (&l.field, value(&l.field, u)) {
        (_, Val::Never | Val::Unknown) => None,
        // An attribute has no type of its own: the comparison says which.
        (Field::Attr(_), v) => attr_as(v, &l.test),
        (_, v) => Some(v),
    }
}

/// An attribute read as the kind of value its comparison needs; `None` when
/// it cannot be (text that is not a number, say): unknown, not false.
fn attr_as<'u>(v: Val<'u>, test: &Test) -> Option<Val<'u>> {
    let want = match test {
        Test::IsTrue => Some(&Operand::Bool(true)),
        Test::Age { .. } => Some(&Operand::Time(Time::UNIX_EPOCH)),
        Test::Cmp(_, o) => Some(o),
        Test::In(items, _) => items.first(),
        Test::Matches(_) => None,
    };
    Some(match (v, want) {
        (Val::Text(s), Some(Operand::Number(_))) => Val::Number(s.trim().parse().ok()?),
        (Val::Text(s), Some(Operand::Bool(_))) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Val::Bool(true),
            "false" | "no" | "0" => Val::Bool(false),
            _ => return None,
        },
        (Val::Text(s), Some(Operand::Time(_))) => Val::Time(time::parse_time(s)?),
        (v, _) => v,
    })
}

#[cfg(test)]
mod tests;
