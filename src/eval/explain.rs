//! Why a decision was made, as data: the conditions of the deciding rule
//! with the values they saw, and for every earlier rule the conditions that
//! kept it from matching. Computed apart from `decide`, which stays lean.

use super::{leaf, value, Decider, Decision, PlanAction, Val};
use crate::fields::Field;
use crate::program::{Cond, Leaf, Program, Test};
use crate::time::{self, Time};
use crate::user::{Attr, User};
use crate::value::Truth;
use serde::Serialize;

/// The explanation of one decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// One line for tables and spreadsheets.
    pub reason: String,
    /// The deciding rule's conditions that made it true (or unknown).
    pub because: Vec<CondTrace>,
    /// Every earlier rule, and the conditions that made it false.
    pub passed: Vec<RuleTrace>,
}

/// A rule that was tried and did not decide.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace {
    pub rule: String,
    pub result: Truth,
    pub because: Vec<CondTrace>,
}

/// One condition, its value, and the values it saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CondTrace {
    pub condition: String,
    /// The `let` name this condition belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    pub result: Truth,
    pub values: Vec<Seen>,
}

/// A field's value as the condition saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seen {
    pub field: String,
    pub value: String,
    /// For ages: how old the value is, and the boundary it was compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Explains a decision that `decide` made for this user.
pub fn explain(p: &Program, u: &User, decision: &Decision) -> Explanation {
    match decision.decider {
        Decider::Exempt(i) => exempt(p, u, i),
        Decider::Nobody => Explanation {
            reason: "no rule matched".to_string(),
            because: Vec::new(),
            passed: passed(p, u, p.rules.len()),
        },
        Decider::Rule(i) => {
            let Some(rule) = p.rules.get(i) else {
                return Explanation {
                    reason: String::new(),
                    because: Vec::new(),
                    passed: Vec::new(),
                };
            };
            let (_, because) = why(p, &rule.cond, u, None);
            let reason = reason(p, decision, &rule.name, rule.action.as_str(), &because);
            Explanation {
                reason,
                because,
                passed: passed(p, u, i),
            }
        }
    }
}

fn passed(p: &Program, u: &User, upto: usize) -> Vec<RuleTrace> {
    p.rules
        .iter()
        .take(upto)
        .map(|r| {
            let (result, because) = why(p, &r.cond, u, None);
            RuleTrace {
                rule: r.name.clone(),
                result,
                because,
            }
        })
        .collect()
}

fn exempt(p: &Program, u: &User, i: usize) -> Explanation {
    let Some(e) = p.exempts.get(i) else {
        return Explanation {
            reason: String::new(),
            because: Vec::new(),
            passed: Vec::new(),
        };
    };
    let matched = [
        ("id", Some(&u.id)),
        ("username", u.username.as_ref()),
        ("email", u.email.as_ref()),
    ]
    .into_iter()
    .find(|(_, v)| v.is_some_and(|v| v.eq_ignore_ascii_case(&e.who) || v.to_lowercase() == e.who.to_lowercase()))
    .map(|(f, v)| Seen {
        field: f.to_string(),
        value: v.cloned().unwrap_or_default(),
        note: None,
    });
    let until = e
        .until
        .map(|t| format!(" until {}", t.format("%Y-%m-%d")))
        .unwrap_or_default();
    Explanation {
        reason: format!("exempt{until}: {}", e.reason),
        because: vec![CondTrace {
            condition: format!("exempt \"{}\"{until}", e.who),
            via: None,
            result: Truth::True,
            values: matched.into_iter().collect(),
        }],
        passed: Vec::new(),
    }
}

/// The short reason: the deciding conditions and what they saw, then what
/// `after notice` made of it.
fn reason(p: &Program, d: &Decision, rule: &str, action: &str, because: &[CondTrace]) -> String {
    let conds: Vec<String> = because.iter().filter(|c| c.result == d_truth(d)).map(short).collect();
    let day = |t: Option<Time>| t.map_or_else(|| "?".to_string(), |t| t.format("%Y-%m-%d").to_string());
    match d.action {
        PlanAction::Review => format!("cannot tell whether {rule} applies: {}", conds.join("; ")),
        PlanAction::Notify if d.due.is_some() => format!(
            "{rule}: {}; no notice yet, so notify now: {action} from {}",
            conds.join("; "),
            day(d.due)
        ),
        PlanAction::Wait => format!(
            "{rule}: {}; notified {}, {action} from {}",
            conds.join("; "),
            day(d.notified),
            day(d.due)
        ),
        _ => {
            let _ = p;
            format!("{rule}: {}", conds.join("; "))
        }
    }
}

fn d_truth(d: &Decision) -> Truth {
    if d.action == PlanAction::Review {
        Truth::Unknown
    } else {
        Truth::True
    }
}

fn short(c: &CondTrace) -> String {
    let values: Vec<String> = c
        .values
        .iter()
        .map(|s| match s.note.as_deref().and_then(|n| n.split(';').next()) {
            Some(age) => format!("{} {}, {age}", s.field, s.value),
            None => format!("{} {}", s.field, s.value),
        })
        .collect();
    if values.is_empty() {
        c.condition.clone()
    } else {
        format!("{} ({})", c.condition, values.join(", "))
    }
}

/// A condition's value and the traces that explain it: for `and`, the false
/// operands when false, all when true; for `or`, the true operands when
/// true, all when false; the unknown ones when unknown.
fn why(p: &Program, cond: &Cond, u: &User, via: Option<&str>) -> (Truth, Vec<CondTrace>) {
    match cond {
        Cond::Leaf(i) => match p.leaves.get(*i) {
            Some(l) => {
                let t = leaf(l, u);
                (t, vec![trace(p, l.text.clone(), via, t, &[l], u)])
            }
            None => (Truth::Unknown, Vec::new()),
        },
        Cond::Let(name, c) => why(p, c, u, Some(name)),
        Cond::Not(c) => {
            let (t, _) = why(p, c, u, via);
            let t = t.not();
            let mut leaves = Vec::new();
            collect_leaves(p, c, &mut leaves);
            (
                t,
                vec![trace(p, format!("not {}", text(p, c, true)), via, t, &leaves, u)],
            )
        }
        Cond::And(cs) | Cond::Or(cs) => {
            let is_and = matches!(cond, Cond::And(_));
            let parts: Vec<(Truth, Vec<CondTrace>)> = cs.iter().map(|c| why(p, c, u, via)).collect();
            let t = parts
                .iter()
                .fold(if is_and { Truth::True } else { Truth::False }, |acc, (t, _)| {
                    if is_and {
                        acc.and(*t)
                    } else {
                        acc.or(*t)
                    }
                });
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

fn trace(p: &Program, condition: String, via: Option<&str>, result: Truth, leaves: &[&Leaf], u: &User) -> CondTrace {
    let mut values: Vec<Seen> = Vec::new();
    for l in leaves {
        for s in seen(p, l, u) {
            if !values.iter().any(|v| v.field == s.field) {
                values.push(s);
            }
        }
    }
    CondTrace {
        condition,
        via: via.map(str::to_string),
        result,
        values,
    }
}

/// The values behind a leaf. Derived fields show what they derive from.
fn seen(p: &Program, l: &Leaf, u: &User) -> Vec<Seen> {
    let plain = |f: &Field| Seen {
        field: f.name(),
        value: render(value(f, u)),
        note: None,
    };
    let mut out = match &l.field {
        Field::NeverLoggedIn => vec![plain(&Field::LastLogin)],
        Field::Inactive => {
            let mut v = vec![plain(&Field::LastLogin)];
            if u.never_logged_in() == Some(true) {
                v.push(plain(&Field::Joined));
            }
            v
        }
        Field::HasActivity => {
            let mut v = vec![plain(&Field::LastActivity)];
            v.extend(
                u.activity
                    .iter()
                    .map(|(n, x)| plain(&Field::Activity(n.clone())).with_value(fmt_number(*x))),
            );
            v
        }
        f => vec![plain(f)],
    };
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
        if let (Some(t), Some(last)) = (since, out.last_mut()) {
            last.note = Some(age_note(p.as_of, t, *written_op, duration, *cutoff));
        }
    }
    out
}

impl Seen {
    fn with_value(mut self, value: String) -> Seen {
        self.value = value;
        self
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

/// "417 days before as-of; > 12mo means before 2025-11-23T00:00:00Z"
fn age_note(as_of: Time, t: Time, op: crate::ast::CmpOp, d: &crate::ast::Duration, cutoff: Time) -> String {
    use crate::ast::CmpOp::{Ge, Gt, Le, Lt};
    let days = (as_of - t).num_days();
    let age = if days >= 0 {
        format!("{days} days before as-of")
    } else {
        format!("{} days after as-of", -days)
    };
    let side = match op {
        Gt => "before",
        Ge => "on or before",
        Lt => "after",
        Le => "on or after",
        _ => "at",
    };
    format!("{age}; {} {d} means {side} {}", op.as_str(), time::format_time(cutoff))
}

fn fmt_number(n: f64) -> String {
    n.to_string()
}

fn render(v: Val<'_>) -> String {
    match v {
        Val::Text(s) => s.to_string(),
        Val::Texts(v) => format!("[{}]", v.join(", ")),
        Val::Number(n) => fmt_number(n),
        Val::Bool(b) => b.to_string(),
        Val::Time(t) => time::format_time(t),
        Val::Attr(Attr::Text(s)) => s.clone(),
        Val::Attr(Attr::Number(n)) => fmt_number(*n),
        Val::Attr(Attr::Bool(b)) => b.to_string(),
        Val::Attr(Attr::Time(t)) => time::format_time(*t),
        Val::Never => "never".to_string(),
        Val::Unknown => "unknown".to_string(),
    }
}
