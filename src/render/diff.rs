//! `dormant diff` and `dormant forecast`: the reports, as data (their JSON is
//! their `Serialize`) and as text.

use crate::eval::PlanAction;
use crate::plan::{Entry, PolicyRef, UserRef};
use crate::time::{format_time, Time};
use serde::Serialize;
use std::fmt::Write as _;

/// A verdict on one user: an action and the rule that gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub action: PlanAction,
    pub rule: Option<String>,
    /// The account is already in the action's state: nothing would be sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already: Option<&'static str>,
}

impl Verdict {
    pub fn of(e: &Entry<'_>) -> Self {
        Verdict {
            action: e.action,
            rule: e.rule.map(str::to_string),
            already: e.decision.already.map(super::already_text),
        }
    }
}

#[derive(Serialize)]
pub struct Change<'u> {
    pub from: Verdict,
    pub to: Verdict,
    pub count: usize,
    pub users: Vec<Changed<'u>>,
}

#[derive(Serialize)]
pub struct Changed<'u> {
    pub user: UserRef<'u>,
    /// The new decision's reason.
    pub reason: String,
    pub old: Entry<'u>,
    pub new: Entry<'u>,
}

#[derive(Serialize)]
pub struct DiffReport<'u> {
    #[serde(serialize_with = "crate::plan::ser_time")]
    pub as_of: Time,
    pub old: PolicyRef,
    pub new: PolicyRef,
    pub users: String,
    pub count: usize,
    pub changed: usize,
    pub changes: Vec<Change<'u>>,
}

#[derive(Serialize)]
pub struct Forecast<'u> {
    pub user: UserRef<'u>,
    /// The first day the decision is different.
    pub date: String,
    pub from: Verdict,
    pub to: Verdict,
    pub reason: String,
}

impl Verdict {
    /// `delete (stale_invites)`, `deactivate, already deactivated (dormant)`.
    pub fn text(&self) -> String {
        let already = self.already.map(|a| format!(", {a}")).unwrap_or_default();
        format!(
            "{}{already} ({})",
            self.action.as_str(),
            self.rule.as_deref().unwrap_or("no rule")
        )
    }
}

/// `dormant diff` in text: the changes, grouped by old and new outcome.
pub fn diff_text(r: &DiffReport<'_>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Diff as of {}", format_time(r.as_of));
    let _ = writeln!(s, "  old     {}", r.old.path);
    let _ = writeln!(s, "  new     {}", r.new.path);
    let _ = writeln!(s, "  users   {} ({} users)", r.users, r.count);
    if r.changes.is_empty() {
        let _ = writeln!(s, "\nNo decision changes.");
        return s;
    }
    let _ = writeln!(s, "\n{} of {} users change:", r.changed, r.count);
    for c in &r.changes {
        let _ = writeln!(s, "\n{} -> {}: {}", c.from.text(), c.to.text(), c.count);
        for u in &c.users {
            let _ = writeln!(s, "  {}  {}", u.user.display(), u.reason);
        }
    }
    s
}

/// `dormant forecast` in text: who changes, on which day, from what to what.
pub fn forecast_text(as_of: Time, days: u32, found: &[Forecast<'_>], users: usize) -> String {
    let mut s = format!(
        "Forecast from {} for {} days: {} of {} users change\n",
        format_time(as_of),
        days,
        found.len(),
        users
    );
    for f in found {
        let _ = writeln!(
            s,
            "\n{}  {}\n  {} -> {}\n  {}",
            f.date,
            f.user.display(),
            f.from.text(),
            f.to.text(),
            f.reason
        );
    }
    s
}
