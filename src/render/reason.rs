//! A decision's reason in one line, for tables and spreadsheets, and the
//! short texts explanations share with it: an exemption, an account's state,
//! an age, a time that is *never*.

use super::CondText;
use crate::ast::CmpOp;
use crate::decision::{Decider, PlanAction};
use crate::eval::{self, Age, FieldRef, Item, Val};
use crate::fields::Field;
use crate::plan::Entry;
use crate::program::{Exempt, Program};
use crate::time::{self, Time};
use crate::user::{Status, User};
use crate::value::Truth;
use std::fmt::Write as _;

/// One line for tables and spreadsheets: the deciding conditions and what
/// they saw, then what `after notice` made of it.
pub fn reason(e: &Entry<'_>) -> String {
    let (p, u, d, x) = (e.program, e.record, &e.decision, &e.explanation);
    if let Some(ex) = x.exempt {
        return exempt_text(ex);
    }
    // A review for an account that cannot be notified was decided by a
    // true rule, like any action.
    let want = if d.action == PlanAction::Review && d.cannot_notify.is_none() {
        Truth::Unknown
    } else {
        Truth::True
    };
    let conds: Vec<String> = x
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
            already_text(state),
            state.as_str(),
            conds.join("; ")
        );
    }
    if let Some(state) = d.cannot_notify {
        return format!("{}; {name}: {}", cannot_notify_text(state), conds.join("; "));
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

/// The exemption's line for people: `exempt "ana" until 2027-01-31: leave`.
pub fn exempt_text(e: &Exempt) -> String {
    let until = e
        .until
        .map(|t| format!(" until {}", t.format("%Y-%m-%d")))
        .unwrap_or_default();
    format!("exempt \"{}\"{until}: {}", e.who, e.reason)
}

/// "already deactivated", "already pending deletion": for people.
pub fn already_text(status: Status) -> &'static str {
    match status {
        Status::PendingDelete => "already pending deletion",
        _ => "already deactivated",
    }
}

/// Why a `review` was made for an account that cannot be notified.
pub fn cannot_notify_text(status: Status) -> &'static str {
    match status {
        Status::PendingDelete => "a notice is required but the account is pending deletion: it cannot be notified",
        _ => "a notice is required but the account is disabled: it cannot be notified",
    }
}

/// Why an unknown condition is unknown when it is not for missing data:
/// it compares a time that is *never* (a login that never happened has no
/// age). `None` when some value it saw is unknown, or none is never.
pub fn never_note(p: &Program, u: &User, item: &Item<'_>) -> Option<String> {
    if item.result != Truth::Unknown {
        return None;
    }
    let mut seen = eval::Seens::new();
    eval::values(p, item.cond, u, &mut seen);
    if seen.iter().any(|s| s.value == Val::Unknown) {
        return None;
    }
    let never = seen.iter().find(|s| {
        matches!(s.value, Val::Never | Val::NeverFrom(_))
            && matches!(s.field, FieldRef::Field(Field::LastLogin | Field::LastActivity))
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

/// "417 days before as-of"
fn days_text(a: &Age<'_>) -> String {
    if a.age_days >= 0 {
        format!("{} days before as-of", a.age_days)
    } else {
        format!("{} days after as-of", -a.age_days)
    }
}

/// "417 days before as-of; > 12mo means before 2025-11-23T00:00:00Z"
pub fn age_note(a: &Age<'_>) -> String {
    let side = match a.op {
        CmpOp::Gt => "before",
        CmpOp::Ge => "on or before",
        CmpOp::Lt => "after",
        CmpOp::Le => "on or after",
        CmpOp::Eq | CmpOp::Ne => "at",
    };
    format!(
        "{}; {} {} means {side} {}",
        days_text(a),
        a.op.as_str(),
        a.duration,
        time::format_time(a.boundary)
    )
}

/// `joined > 90d (joined 2025-01-15T00:00:00Z, 677 days before as-of)`
fn short(p: &Program, u: &User, item: &Item<'_>) -> String {
    let mut s = CondText(p, item.cond).to_string();
    let mut seen = eval::Seens::new();
    eval::values(p, item.cond, u, &mut seen);
    if !seen.is_empty() {
        let values: Vec<String> = seen.iter().map(|v| format!("{} {}", v.field, v.value)).collect();
        let _ = write!(s, " ({}", values.join(", "));
        let mut age = eval::Ages::new();
        eval::ages(p, item.cond, u, &mut age);
        for a in &age {
            let _ = write!(s, ", {}", days_text(a));
        }
        s.push(')');
    }
    s
}
