//! Why a decision was made, as data: the conditions of the deciding rule,
//! and for every earlier rule the conditions that kept it from matching.
//! Items point into the program; the values they saw are read from the user
//! when shown, so explaining a million users copies nothing.

use super::{value, Decider, Decision, PlanAction, Val};
use crate::ast::{CmpOp, Duration};
use crate::fields::Field;
use crate::program::{Cond, Exempt, Leaf, Program, Test};
use crate::time::{self, Time};
use crate::user::{Attr, Origin, Text, User};
use crate::value::Truth;
use std::fmt::{self, Write as _};

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

/// A condition in policy syntax.
pub struct CondText<'p>(pub &'p Program, pub &'p Cond);

impl fmt::Display for CondText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_cond(self.0, self.1, false, f)
    }
}

fn write_cond(p: &Program, c: &Cond, nested: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let joined = |cs: &[Cond], op: &str, f: &mut fmt::Formatter<'_>| -> fmt::Result {
        if nested {
            f.write_char('(')?;
        }
        for (i, c) in cs.iter().enumerate() {
            if i > 0 {
                f.write_str(op)?;
            }
            write_cond(p, c, true, f)?;
        }
        if nested {
            f.write_char(')')?;
        }
        Ok(())
    };
    match c {
        Cond::Leaf(i) => f.write_str(p.leaves.get(*i).map_or("", |l| l.text.as_str())),
        Cond::Let(name, _) => f.write_str(name),
        Cond::Not(c) => {
            f.write_str("not ")?;
            write_cond(p, c, true, f)
        }
        Cond::And(cs) => joined(cs, " and ", f),
        Cond::Or(cs) => joined(cs, " or ", f),
    }
}

/// A field's value as a condition saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen<'a> {
    pub field: FieldRef<'a>,
    pub value: Shown<'a>,
}

/// A field of the record, or one of the user's own activity counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    Field(&'a Field),
    Activity(&'a str),
}

impl fmt::Display for FieldRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::Field(field) => field.fmt(f),
            FieldRef::Activity(name) => write!(f, "activity.{name}"),
        }
    }
}

/// A value, borrowed from the user where it can be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shown<'a> {
    Text(&'a str),
    Texts(&'a [Text]),
    Number(f64),
    Bool(bool),
    Time(Time),
    /// A time and where it came from: `deactivated` (the platform or the
    /// journal), which a reviewer must be able to tell apart.
    TimeFrom(Time, &'a str),
    Never,
    Unknown,
}

static LAST_LOGIN: Field = Field::LastLogin;
static LAST_ACTIVITY: Field = Field::LastActivity;
static JOINED: Field = Field::Joined;

/// Adds the values that the leaves under `cond` saw to `out`, once each.
/// Derived fields show what they derive from.
/// The values an explanation shows, on the stack for the few of a rule.
pub type Seens<'a> = smallvec::SmallVec<[Seen<'a>; 8]>;

/// The ages an explanation shows.
pub type Ages<'p> = smallvec::SmallVec<[Age<'p>; 4]>;

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
    let mut push = |field: FieldRef<'a>, value: Shown<'a>| {
        if !out.iter().any(|s| s.field == field) {
            out.push(Seen { field, value });
        }
    };
    let mut field = |f: &'a Field| push(FieldRef::Field(f), shown(value(f, u)));
    match &l.field {
        Field::NeverLoggedIn => field(&LAST_LOGIN),
        Field::Inactive => {
            field(&LAST_LOGIN);
            if u.never_logged_in() == Some(true) {
                field(&JOINED);
            }
        }
        Field::Deactivated => match u.deactivated {
            Some(d) => push(FieldRef::Field(&l.field), Shown::TimeFrom(d.at, origin(u, d.from))),
            None => field(&l.field),
        },
        Field::HasActivity => {
            field(&LAST_ACTIVITY);
            for (name, n) in &u.activity {
                push(FieldRef::Activity(name), Shown::Number(*n));
            }
        }
        f => field(f),
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
            let since = match l.field {
                Field::Inactive => u.inactive_since(),
                _ => value(&l.field, u).time(),
            };
            if let Some(t) = since.filter(|_| !out.iter().any(|a| a.field == &l.field)) {
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

impl Age<'_> {
    /// "417 days before as-of"
    pub fn days_text(&self) -> String {
        if self.age_days >= 0 {
            format!("{} days before as-of", self.age_days)
        } else {
            format!("{} days after as-of", -self.age_days)
        }
    }

    /// "417 days before as-of; > 12mo means before 2025-11-23T00:00:00Z"
    pub fn note(&self) -> String {
        let side = match self.op {
            CmpOp::Gt => "before",
            CmpOp::Ge => "on or before",
            CmpOp::Lt => "after",
            CmpOp::Le => "on or after",
            CmpOp::Eq | CmpOp::Ne => "at",
        };
        format!(
            "{}; {} {} means {side} {}",
            self.days_text(),
            self.op.as_str(),
            self.duration,
            time::format_time(self.boundary)
        )
    }
}

/// The exemption's line for people: `exempt "ana" until 2027-01-31: leave`.
pub fn explain_exempt_text(e: &Exempt) -> String {
    let until = e
        .until
        .map(|t| format!(" until {}", t.format("%Y-%m-%d")))
        .unwrap_or_default();
    format!("exempt \"{}\"{until}: {}", e.who, e.reason)
}

/// One line for tables and spreadsheets: the deciding conditions and what
/// they saw, then what `after notice` made of it.
pub fn reason(p: &Program, u: &User, d: &Decision, e: &Explanation<'_>) -> String {
    if let Some(x) = e.exempt {
        return explain_exempt_text(x);
    }
    // A review for an account that cannot be notified was decided by a
    // true rule, like any action.
    let want = if d.action == PlanAction::Review && d.cannot_notify.is_none() {
        Truth::Unknown
    } else {
        Truth::True
    };
    let conds: Vec<String> = e
        .because
        .iter()
        .filter(|i| i.result == want)
        .map(|i| match never_note(p, u, i) {
            Some(note) => format!("{}: {note}", short(p, u, i)),
            None => short(p, u, i),
        })
        .collect();
    let day = |t: Option<Time>| t.map_or_else(|| "?".to_string(), |t| t.format("%Y-%m-%d").to_string());
    let Decider::Rule(i) = d.decider else {
        return "no rule matched".to_string();
    };
    let (name, action) = p
        .rules
        .get(i)
        .map_or(("?", "?"), |r| (r.name.as_str(), r.action.as_str()));
    if let Some(state) = d.already {
        return format!(
            "{} (status {}), nothing is sent; {name}: {}",
            super::already_text(state),
            state.as_str(),
            conds.join("; ")
        );
    }
    if let Some(state) = d.cannot_notify {
        return format!("{}; {name}: {}", super::cannot_notify_text(state), conds.join("; "));
    }
    match d.action {
        PlanAction::Review => format!("cannot tell whether {name} applies: {}", conds.join("; ")),
        PlanAction::Notify if d.due.is_some() => {
            format!(
                "{name}: {}; no notice yet, so notify now: {action} from {}",
                conds.join("; "),
                day(d.due)
            )
        }
        PlanAction::Wait => format!(
            "{name}: {}; notified {}, {action} from {}",
            conds.join("; "),
            day(d.notified),
            day(d.due)
        ),
        _ => format!("{name}: {}", conds.join("; ")),
    }
}

/// Why an unknown condition is unknown when it is not for missing data:
/// it compares a time that is *never* (a login that never happened has no
/// age). `None` when some value it saw is unknown, or none is never.
pub fn never_note(p: &Program, u: &User, item: &Item<'_>) -> Option<String> {
    if item.result != Truth::Unknown {
        return None;
    }
    let mut seen = Seens::new();
    values(p, item.cond, u, &mut seen);
    if seen.iter().any(|s| s.value == Shown::Unknown) {
        return None;
    }
    let never = seen.iter().find(|s| {
        s.value == Shown::Never && matches!(s.field, FieldRef::Field(Field::LastLogin | Field::LastActivity))
    })?;
    let instead = match never.field {
        FieldRef::Field(Field::LastActivity) => "`has_activity`",
        _ => "`inactive` or `never_logged_in`",
    };
    Some(format!(
        "`{}` is never, not missing, and never has no age: {instead} decide this",
        never.field
    ))
}

/// `joined > 90d (joined 2025-01-15T00:00:00Z, 677 days before as-of)`
fn short(p: &Program, u: &User, item: &Item<'_>) -> String {
    let mut s = CondText(p, item.cond).to_string();
    let mut seen = Seens::new();
    values(p, item.cond, u, &mut seen);
    if !seen.is_empty() {
        let values: Vec<String> = seen.iter().map(|v| format!("{} {}", v.field, v.value)).collect();
        let _ = write!(s, " ({}", values.join(", "));
        let mut age = Ages::new();
        ages(p, item.cond, u, &mut age);
        for a in &age {
            let _ = write!(s, ", {}", a.days_text());
        }
        s.push(')');
    }
    s
}

pub(crate) fn shown(v: Val<'_>) -> Shown<'_> {
    match v {
        Val::Text(s) => Shown::Text(s),
        Val::Texts(v) => Shown::Texts(v),
        Val::Number(n) => Shown::Number(n),
        Val::Bool(b) => Shown::Bool(b),
        Val::Time(t) => Shown::Time(t),
        Val::Attr(Attr::Text(s)) => Shown::Text(s),
        Val::Attr(Attr::Number(n)) => Shown::Number(*n),
        Val::Attr(Attr::Bool(b)) => Shown::Bool(*b),
        Val::Attr(Attr::Time(t)) => Shown::Time(*t),
        Val::Never => Shown::Never,
        Val::Unknown => Shown::Unknown,
    }
}

impl Val<'_> {
    fn time(self) -> Option<Time> {
        match self {
            Val::Time(t) => Some(t),
            Val::Attr(Attr::Time(t)) => Some(*t),
            Val::Attr(Attr::Text(s)) => time::parse_time(s),
            _ => None,
        }
    }
}

impl<'a> Shown<'a> {
    /// Where the value came from, for a value that says.
    pub fn origin(&self) -> Option<&'a str> {
        match self {
            Shown::TimeFrom(_, from) => Some(from),
            _ => None,
        }
    }
}
