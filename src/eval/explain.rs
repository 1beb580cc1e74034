//! Why a decision was made, as data: the conditions of the deciding rule
//! with the values they saw, and for every earlier rule the conditions that
//! kept it from matching. Computed apart from `decide`, which stays lean,
//! and borrowed from the program and the user, so that explaining a
//! million users does not copy a million sets of strings.

use super::{leaf, value, Decider, Decision, PlanAction, Val};
use crate::ast::{CmpOp, Duration};
use crate::fields::Field;
use crate::program::{Cond, Leaf, Program, Test};
use crate::time::{self, Time};
use crate::user::{Attr, User};
use crate::value::Truth;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// The explanation of one decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation<'a> {
    /// The deciding rule's conditions that made it true (or unknown).
    pub because: Vec<CondTrace<'a>>,
    /// Every earlier rule, and the conditions that made it false.
    pub passed: Vec<RuleTrace<'a>>,
}

/// A rule that was tried and did not decide.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace<'a> {
    pub rule: &'a str,
    pub result: Truth,
    pub because: Vec<CondTrace<'a>>,
}

/// One condition, its value, and the values it saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CondTrace<'a> {
    pub condition: Cow<'a, str>,
    /// The `let` name this condition belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<&'a str>,
    pub result: Truth,
    /// Field → value, as a JSON object.
    #[serde(serialize_with = "values_map")]
    pub values: Vec<Seen<'a>>,
    /// For an age comparison: how old the value is and the boundary.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub age: Option<Age>,
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
    Texts(&'a [crate::user::Text]),
    Number(f64),
    Bool(bool),
    Time(Time),
    Never,
    Unknown,
}

/// An age comparison's detail: `joined` was `age_days` days before as-of,
/// and `> 90d` means before `boundary`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Age {
    pub age_days: i64,
    #[serde(serialize_with = "crate::plan::ser_time")]
    pub boundary: Time,
    #[serde(skip)]
    pub op: CmpOp,
    #[serde(skip)]
    pub duration: Duration,
}

/// Explains a decision that `decide` made for this user.
pub fn explain<'a>(p: &'a Program, u: &'a User, decision: &Decision) -> Explanation<'a> {
    match decision.decider {
        Decider::Exempt(i) => Explanation {
            because: exempt(p, u, i).into_iter().collect(),
            passed: Vec::new(),
        },
        Decider::Nobody => Explanation {
            because: Vec::new(),
            passed: passed(p, u, p.rules.len()),
        },
        Decider::Rule(i) => Explanation {
            because: p.rules.get(i).map(|r| why(p, &r.cond, u, None).1).unwrap_or_default(),
            passed: passed(p, u, i),
        },
    }
}

fn passed<'a>(p: &'a Program, u: &'a User, upto: usize) -> Vec<RuleTrace<'a>> {
    p.rules
        .iter()
        .take(upto)
        .map(|r| {
            let (result, because) = why(p, &r.cond, u, None);
            RuleTrace {
                rule: &r.name,
                result,
                because,
            }
        })
        .collect()
}

fn exempt<'a>(p: &'a Program, u: &'a User, i: usize) -> Option<CondTrace<'a>> {
    let e = p.exempts.get(i)?;
    let fields: [(&'static Field, Option<&'a crate::user::Text>); 3] = [
        (&Field::Id, Some(&u.id)),
        (&Field::Username, u.username.as_ref()),
        (&Field::Email, u.email.as_ref()),
    ];
    let matched = fields.into_iter().find_map(|(f, v)| {
        let v = v?;
        (v.to_lowercase() == e.who.to_lowercase()).then_some(Seen {
            field: FieldRef::Field(f),
            value: Shown::Text(v),
        })
    });
    let until = e
        .until
        .map(|t| format!(" until {}", t.format("%Y-%m-%d")))
        .unwrap_or_default();
    Some(CondTrace {
        condition: Cow::Owned(format!("exempt \"{}\"{until}: {}", e.who, e.reason)),
        via: None,
        result: Truth::True,
        values: matched.into_iter().collect(),
        age: None,
    })
}

/// One line for tables and spreadsheets: the deciding conditions and what
/// they saw, then what `after notice` made of it.
pub fn reason(p: &Program, d: &Decision, because: &[CondTrace<'_>]) -> String {
    let want = if d.action == PlanAction::Review {
        Truth::Unknown
    } else {
        Truth::True
    };
    let conds: Vec<String> = because.iter().filter(|c| c.result == want).map(short).collect();
    let day = |t: Option<Time>| t.map_or_else(|| "?".to_string(), |t| t.format("%Y-%m-%d").to_string());
    let rule = match d.decider {
        Decider::Exempt(_) => return conds.join("; "),
        Decider::Nobody => return "no rule matched".to_string(),
        Decider::Rule(i) => p.rules.get(i),
    };
    let (name, action) = rule.map_or(("?", "?"), |r| (r.name.as_str(), r.action.as_str()));
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

fn short(c: &CondTrace<'_>) -> String {
    let mut s = c.condition.to_string();
    if !c.values.is_empty() {
        let values: Vec<String> = c.values.iter().map(|v| format!("{} {}", v.field, v.value)).collect();
        let _ = write!(s, " ({}", values.join(", "));
        if let Some(age) = &c.age {
            let _ = write!(s, ", {}", age.days_text());
        }
        s.push(')');
    }
    s
}

impl Age {
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

/// A condition's value and the traces that explain it: for `and`, the false
/// operands when false, all when true; for `or`, the true operands when
/// true, all when false; the unknown ones when unknown.
fn why<'a>(p: &'a Program, cond: &'a Cond, u: &'a User, via: Option<&'a str>) -> (Truth, Vec<CondTrace<'a>>) {
    match cond {
        Cond::Leaf(i) => match p.leaves.get(*i) {
            Some(l) => {
                let t = leaf(l, u);
                (t, vec![trace(p, Cow::Borrowed(&l.text), via, t, &[l], u)])
            }
            None => (Truth::Unknown, Vec::new()),
        },
        Cond::Let(name, c) => why(p, c, u, Some(name)),
        Cond::Not(c) => {
            let t = super::eval(p, c, u).not();
            let mut leaves = Vec::new();
            collect_leaves(p, c, &mut leaves);
            let text = Cow::Owned(format!("not {}", text(p, c, true)));
            (t, vec![trace(p, text, via, t, &leaves, u)])
        }
        Cond::And(cs) | Cond::Or(cs) => {
            let is_and = matches!(cond, Cond::And(_));
            let parts: Vec<(Truth, Vec<CondTrace<'a>>)> = cs.iter().map(|c| why(p, c, u, via)).collect();
            let start = if is_and { Truth::True } else { Truth::False };
            let t = parts
                .iter()
                .fold(start, |acc, (t, _)| if is_and { acc.and(*t) } else { acc.or(*t) });
            let keep = |pt: Truth| match t {
                Truth::Unknown => pt == Truth::Unknown,
                _ if (t == Truth::True) == is_and => true,
                _ => pt == t,
            };
            let traces = parts
                .into_iter()
                .filter(|(pt, _)| keep(*pt))
                .flat_map(|(_, tr)| tr)
                .collect();
            (t, traces)
        }
    }
}

fn collect_leaves<'p>(p: &'p Program, c: &Cond, out: &mut Vec<&'p Leaf>) {
    match c {
        Cond::Leaf(i) => out.extend(p.leaves.get(*i)),
        Cond::Not(c) | Cond::Let(_, c) => collect_leaves(p, c, out),
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| collect_leaves(p, c, out)),
    }
}

/// A condition in policy syntax (for `not (...)`).
fn text(p: &Program, c: &Cond, nested: bool) -> String {
    let joined = |cs: &[Cond], op: &str| cs.iter().map(|c| text(p, c, true)).collect::<Vec<_>>().join(op);
    match c {
        Cond::Leaf(i) => p.leaves.get(*i).map_or_else(String::new, |l| l.text.clone()),
        Cond::Let(name, _) => name.clone(),
        Cond::Not(c) => format!("not {}", text(p, c, true)),
        Cond::And(cs) if nested => format!("({})", joined(cs, " and ")),
        Cond::Or(cs) if nested => format!("({})", joined(cs, " or ")),
        Cond::And(cs) => joined(cs, " and "),
        Cond::Or(cs) => joined(cs, " or "),
    }
}

fn trace<'a>(
    p: &'a Program,
    condition: Cow<'a, str>,
    via: Option<&'a str>,
    result: Truth,
    leaves: &[&'a Leaf],
    u: &'a User,
) -> CondTrace<'a> {
    let mut values: Vec<Seen<'a>> = Vec::with_capacity(leaves.len());
    let mut age = None;
    for l in leaves {
        seen(l, u, &mut values);
        if let Test::Age {
            written_op,
            duration,
            cutoff,
            ..
        } = &l.test
        {
            let since = match l.field {
                Field::Inactive => u.inactive_since(),
                _ => value(&l.field, u).time(),
            };
            age = age.or(since.map(|t| Age {
                age_days: (p.as_of - t).num_days(),
                boundary: *cutoff,
                op: *written_op,
                duration: *duration,
            }));
        }
    }
    CondTrace {
        condition,
        via,
        result,
        values,
        age,
    }
}

static LAST_LOGIN: Field = Field::LastLogin;
static LAST_ACTIVITY: Field = Field::LastActivity;
static JOINED: Field = Field::Joined;

/// The values behind a leaf; derived fields show what they derive from.
fn seen<'a>(l: &'a Leaf, u: &'a User, out: &mut Vec<Seen<'a>>) {
    let mut push = |field: &'a Field| {
        if !out.iter().any(|s| s.field == FieldRef::Field(field)) {
            out.push(Seen {
                field: FieldRef::Field(field),
                value: shown(value(field, u)),
            });
        }
    };
    match &l.field {
        Field::NeverLoggedIn => push(&LAST_LOGIN),
        Field::Inactive => {
            push(&LAST_LOGIN);
            if u.never_logged_in() == Some(true) {
                push(&JOINED);
            }
        }
        Field::HasActivity => {
            push(&LAST_ACTIVITY);
            out.extend(u.activity.iter().map(|(name, n)| Seen {
                field: FieldRef::Activity(name),
                value: Shown::Number(*n),
            }));
        }
        f => push(f),
    }
}

fn shown(v: Val<'_>) -> Shown<'_> {
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

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Text(s) => f.write_str(s),
            Shown::Texts(v) => write!(f, "[{}]", v.join(", ")),
            Shown::Number(n) => write!(f, "{n}"),
            Shown::Bool(b) => write!(f, "{b}"),
            Shown::Time(t) => f.write_str(time::Rfc3339::new(*t).as_str()),
            Shown::Never => f.write_str("never"),
            Shown::Unknown => f.write_str("unknown"),
        }
    }
}

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Shown::Text(t) => s.serialize_str(t),
            Shown::Texts(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for item in v.iter() {
                    seq.serialize_element(item.as_str())?;
                }
                seq.end()
            }
            Shown::Number(n) => s.serialize_f64(*n),
            Shown::Bool(b) => s.serialize_bool(*b),
            Shown::Time(t) => s.serialize_str(time::Rfc3339::new(*t).as_str()),
            Shown::Never => s.serialize_str("never"),
            Shown::Unknown => s.serialize_str("unknown"),
        }
    }
}

fn values_map<S: Serializer>(values: &[Seen<'_>], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(values.len()))?;
    for v in values {
        map.serialize_entry(&FieldName(v.field), &v.value)?;
    }
    map.end()
}

/// A field's policy name, written without building a string.
struct FieldName<'a>(FieldRef<'a>);

impl Serialize for FieldName<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}
