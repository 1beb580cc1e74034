//! `dormant explain` and `dormant test` in text: one decision, with every
//! condition that bore on it and the values it saw, for a person who never
//! wrote a policy.

use super::{age_note, already_text, cannot_notify_text, exempt_text, never_note, reason, CondText};
use crate::eval::{self, Item};
use crate::plan::Entry;
use std::fmt::Write as _;

/// The explanation for a person who never wrote a policy.
pub fn explanation_text(e: &Entry<'_>, revoke: bool) -> String {
    let (p, d, x) = (e.program, &e.decision, &e.explanation);
    let mut s = String::new();
    let _ = writeln!(s, "{}", e.user.display());
    match (d.already, d.cannot_notify) {
        (Some(state), _) => {
            let _ = writeln!(
                s,
                "  decision  {} ({}: nothing is sent)",
                e.action.word(revoke),
                already_text(state)
            );
        }
        (None, Some(state)) => {
            let _ = writeln!(s, "  decision  review ({})", cannot_notify_text(state));
        }
        (None, None) => {
            let _ = writeln!(s, "  decision  {}", e.action.word(revoke));
        }
    }
    let _ = writeln!(s, "  rule      {}", e.rule.unwrap_or("none (no rule matched)"));
    let _ = writeln!(s, "  as of     {}", crate::time::format_time(p.as_of));
    if let Some(due) = d.due {
        let _ = writeln!(s, "  due       {}", crate::time::format_time(due));
    }
    if let Some(at) = d.notified {
        let _ = writeln!(s, "  notified  {}", crate::time::format_time(at));
    }
    let _ = writeln!(s, "  reason    {}", reason(e));
    if let Some(ex) = x.exempt {
        let _ = writeln!(s, "\nExempted:\n  {}", exempt_text(ex));
    }
    if !x.because.is_empty() {
        let rule = e.rule.unwrap_or("?");
        if e.action == crate::eval::PlanAction::Review && d.cannot_notify.is_none() {
            let _ = writeln!(s, "\nWhy `{rule}` cannot be decided ({}):", undecided_because(e));
        } else {
            let _ = writeln!(s, "\nWhy `{rule}` decided:");
        }
        for item in &x.because {
            item_text(&mut s, e, item, "  ");
        }
    }
    if !x.passed.is_empty() {
        let title = if e.rule.is_some() {
            "Earlier rules, and why they did not decide:"
        } else {
            "Every rule, and why it did not match:"
        };
        let _ = writeln!(s, "\n{title}");
        for r in &x.passed {
            let _ = writeln!(s, "  {}: {}", r.rule, r.result.as_str());
            for item in &r.items {
                item_text(&mut s, e, item, "    ");
            }
        }
    }
    s
}

/// Why a review's conditions are unknown: data missing, a time that is
/// *never*, or some of each.
fn undecided_because(e: &Entry<'_>) -> &'static str {
    let unknown = e
        .explanation
        .because
        .iter()
        .filter(|i| i.result == crate::value::Truth::Unknown);
    let (mut never, mut missing) = (false, false);
    for item in unknown {
        if never_note(e.program, e.record, item).is_some() {
            never = true;
        } else {
            missing = true;
        }
    }
    match (never, missing) {
        (true, false) => "a time it compares is never",
        (true, true) => "data is missing, or a time is never",
        _ => "data is missing",
    }
}

/// A condition, its value, and what it saw, one value a line.
fn item_text(s: &mut String, e: &Entry<'_>, item: &Item<'_>, indent: &str) {
    let (p, u) = (e.program, e.record);
    let via = item.via.map(|v| format!(" (in `{v}`)")).unwrap_or_default();
    let _ = writeln!(s, "{indent}{}{via}: {}", CondText(p, item.cond), item.result.as_str());
    let mut seen = eval::Seens::new();
    eval::values(p, item.cond, u, &mut seen);
    for v in &seen {
        let _ = writeln!(s, "{indent}    {} {}", v.field, v.value);
    }
    let mut ages = eval::Ages::new();
    eval::ages(p, item.cond, u, &mut ages);
    for a in &ages {
        let _ = writeln!(s, "{indent}    {} age: {}", a.field, age_note(a));
    }
    if let Some(note) = never_note(p, u, item) {
        let _ = writeln!(s, "{indent}    {note}");
    }
}
