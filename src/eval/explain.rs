//! Why a decision was made, as data: the conditions of the deciding rule,
//! and for every earlier rule the conditions that kept it from matching.
//! Items point into the program; the values they saw are read from the user
//! when shown, so explaining a million users copies nothing.

use super::{compared, value, Decider, Decision, Val};
use crate::ast::{CmpOp, Duration};
use crate::fields::Field;
use crate::program::{Cond, Exempt, Leaf, Program, Test};
use crate::time::Time;
use crate::user::{Known, Origin, User};
use crate::value::Truth;

/// The explanation of one decision.
#[derive(Debug, Clone)]
pub struct Explanation<'p> {
    /// The deciding rule's conditions that made it true (or unknown, for
    /// `review`). `let` names are opened, to show which part decided.
    pub because: Vec<Item<'p>>,
    /// Every earlier rule and the conditions that made it false.
    pub passed: Vec<Passed<'p>>,
    /// The exemption that decided, if one did.
    pub exempt: Option<&'p Exempt>,
}

/// A rule that was tried and did not decide.
#[derive(Debug, Clone)]
pub struct Passed<'p> {
    pub rule: &'p str,
    pub result: Truth,
    /// For `and`, the false operands; for `or`, all of them. A false `let`
    /// is named, not opened: its definition says the rest.
    pub items: Vec<Item<'p>>,
}

/// One condition and its value.
#[derive(Debug, Clone, Copy)]
pub struct Item<'p> {
    pub cond: &'p Cond,
    /// The `let` the condition belongs to.
    pub via: Option<&'p str>,
    pub result: Truth,
}

/// Explains a decision that `decide` made for this user.
pub fn explain<'p>(p: &'p Program, u: &User, d: &Decision) -> Explanation<'p> {
    explain_with(p, &Truths::of(p, u), d)
}

/// Explains a decision from the values of the program's comparisons for
/// the user: the explanation depends on nothing else (the values it saw are
/// read from the user when shown).
pub fn explain_with<'p>(p: &'p Program, t: &Truths, d: &Decision) -> Explanation<'p> {
    let passed = |upto: usize| {
        p.rules
            .iter()
            .take(upto)
            .map(|r| {
                let mut items = Vec::new();
                why(t, &r.cond, None, false, &mut items);
                Passed {
                    rule: &r.name,
                    result: t.eval(&r.cond),
                    items,
                }
            })
            .collect()
    };
    match d.decider {
        Decider::Exempt(i) => Explanation {
            because: Vec::new(),
            passed: Vec::new(),
            exempt: p.exempts.get(i),
        },
        Decider::Nobody => Explanation {
            because: Vec::new(),
            passed: passed(p.rules.len()),
            exempt: None,
        },
        Decider::Rule(i) => {
            let mut because = Vec::new();
            if let Some(r) = p.rules.get(i) {
                why(t, &r.cond, None, true, &mut because);
            }
            Explanation {
                because,
                passed: passed(i),
                exempt: None,
            }
        }
    }
}

/// The value of every comparison of the program for one user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Truths(pub smallvec::SmallVec<[Truth; 32]>);

impl Truths {
    /// Every comparison once: an explanation asks for most of them, some
    /// several times over.
    pub fn of(p: &Program, u: &User) -> Truths {
        Truths(p.flat.leaf_truths(&p.leaves, u, super::leaf).collect())
    }

    /// `eval`, reading comparisons from the table.
    fn eval(&self, cond: &Cond) -> Truth {
        match cond {
            Cond::Leaf(i) => self.0.get(*i).copied().unwrap_or(Truth::Unknown),
            Cond::Not(c) => self.eval(c).not(),
            Cond::Let(_, c) => self.eval(c),
            Cond::And(cs) => cs.iter().fold(Truth::True, |acc, c| acc.and(self.eval(c))),
            Cond::Or(cs) => cs.iter().fold(Truth::False, |acc, c| acc.or(self.eval(c))),
        }
    }
}

/// The conditions that explain `cond`'s value: for `and`, the false
/// operands when false, all when true; for `or`, the true operands when
/// true, all when false; the unknown ones when unknown.
fn why<'p>(t: &Truths, cond: &'p Cond, via: Option<&'p str>, open_lets: bool, out: &mut Vec<Item<'p>>) {
    match cond {
        Cond::Let(name, c) if open_lets => why(t, c, Some(name), open_lets, out),
        Cond::Leaf(_) | Cond::Not(_) | Cond::Let(..) => out.push(Item {
            cond,
            via,
            result: t.eval(cond),
        }),
        Cond::And(cs) | Cond::Or(cs) => {
            let whole = t.eval(cond);
            let is_and = matches!(cond, Cond::And(_));
            for c in cs {
                let show = match whole {
                    Truth::Unknown => t.eval(c) == Truth::Unknown,
                    _ if (whole == Truth::True) == is_and => true,
                    _ => t.eval(c) == whole,
                };
                if show {
                    why(t, c, via, open_lets, out);
                }
            }
        }
    }
}

/// A field's value as a condition saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen<'a> {
    pub field: FieldRef<'a>,
    pub value: Val<'a>,
}

/// A field of the record, or one of the user's own activity counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    Field(&'a Field),
    Activity(&'a str),
}

static LAST_LOGIN: Field = Field::LastLogin;
static LAST_ACTIVITY: Field = Field::LastActivity;
static JOINED: Field = Field::Joined;

/// The values an explanation shows, on the stack for the few of a rule.
pub type Seens<'a> = smallvec::SmallVec<[Seen<'a>; 8]>;

/// The ages an explanation shows.
pub type Ages<'p> = smallvec::SmallVec<[Age<'p>; 4]>;

/// Adds the values that the leaves under `cond` saw to `out`, once each.
/// Derived fields show what they derive from.
pub fn values<'a>(p: &'a Program, cond: &'a Cond, u: &'a User, out: &mut Seens<'a>) {
    match cond {
        Cond::Leaf(i) => {
            if let Some(l) = p.leaves.get(*i) {
                leaf_values(l, u, out);
            }
        }
        Cond::Not(c) | Cond::Let(_, c) => values(p, c, u, out),
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| values(p, c, u, out)),
    }
}

fn leaf_values<'a>(l: &'a Leaf, u: &'a User, out: &mut Seens<'a>) {
    let mut push = |field: FieldRef<'a>, value: Val<'a>| {
        if !out.iter().any(|s| s.field == field) {
            out.push(Seen { field, value });
        }
    };
    let login = login(u);
    let mut field = |f: &'a Field| match f {
        Field::LastLogin => push(FieldRef::Field(f), login),
        f => push(FieldRef::Field(f), value(f, u)),
    };
    match &l.field {
        Field::NeverLoggedIn => field(&LAST_LOGIN),
        Field::Inactive => {
            field(&LAST_LOGIN);
            if u.never_logged_in() == Some(true) {
                field(&JOINED);
            }
        }
        Field::Deactivated => match u.deactivated {
            Some(d) => push(FieldRef::Field(&l.field), Val::TimeFrom(d.at, origin(u, d.from))),
            None => field(&l.field),
        },
        Field::HasActivity => {
            field(&LAST_ACTIVITY);
            for (name, n) in &u.activity {
                push(FieldRef::Activity(name), Val::Number(*n));
            }
        }
        f => field(f),
    }
}

/// `last_login` as an explanation shows it: with the connector that
/// supplied it, when that is not the user's own source.
fn login(u: &User) -> Val<'_> {
    match (u.last_login, u.last_login_from.as_deref()) {
        (Known::Value(t), Some(from)) => Val::TimeFrom(t, from),
        (Known::Never, Some(from)) => Val::NeverFrom(from),
        _ => value(&LAST_LOGIN, u),
    }
}

/// Who said when a user was deactivated, as "(from ...)" reads it.
fn origin(u: &User, from: Origin) -> &str {
    match (from, u.source.as_deref()) {
        (Origin::Journal, _) => "the journal",
        (Origin::Source, Some(source)) => source,
        (Origin::Source, None) => "the users file",
    }
}

/// An age comparison's detail: the value was `age_days` days before as-of,
/// and `op duration` means before (or after) `boundary`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Age<'p> {
    /// The field as the condition names it (`joined`, `inactive`).
    pub field: &'p Field,
    pub age_days: i64,
    pub boundary: Time,
    pub op: CmpOp,
    pub duration: Duration,
}

/// The ages that the age comparisons under `cond` saw.
pub fn ages<'p>(p: &'p Program, cond: &'p Cond, u: &User, out: &mut Ages<'p>) {
    match cond {
        Cond::Leaf(i) => {
            let Some(l) = p.leaves.get(*i) else { return };
            let Test::Age {
                written_op,
                duration,
                cutoff,
                ..
            } = &l.test
            else {
                return;
            };
            // The time the comparison compared: an attribute's text read as one.
            let Some(Val::Time(t)) = compared(l, u) else {
                return;
            };
            if !out.iter().any(|a| a.field == &l.field) {
                out.push(Age {
                    field: &l.field,
                    age_days: (p.as_of - t).num_days(),
                    boundary: *cutoff,
                    op: *written_op,
                    duration: *duration,
                });
            }
        }
        Cond::Not(c) | Cond::Let(_, c) => ages(p, c, u, out),
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| ages(p, c, u, out)),
    }
}
