//! `dormant diff` and `dormant forecast`: the reports, as data (their JSON is
//! their `Serialize`) and as text; the diff also in Markdown, for a pull
//! request (`markdown`).

mod markdown;

pub use markdown::diff_markdown;

use crate::decision::Decision;
use crate::eval::PlanAction;
use crate::plan::{Entry, PolicyRef, UserRef, UsersRef};
use crate::program::Program;
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
        Verdict::decided(e.program, &e.decision)
    }

    /// The verdict of a decision not explained (yet).
    pub fn decided(p: &Program, d: &Decision) -> Self {
        Verdict {
            action: d.action,
            rule: crate::plan::rule_label(p, d).map(str::to_string),
            already: d.already.map(super::already_text),
        }
    }
}

/// A date of a decision that a policy change moves while the action stays:
/// when the action becomes due (`due`), or the notice it counts from
/// (`notified`). `None` is no such date on that side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub date: &'static str,
    #[serde(serialize_with = "ser_opt_time")]
    pub from: Option<Time>,
    #[serde(serialize_with = "ser_opt_time")]
    pub to: Option<Time>,
}

impl Moved {
    /// The dates that differ between two decisions of one user. When the
    /// verdict changes too, only a date both sides have: a date that comes
    /// or goes with the action says nothing the new action does not.
    pub fn between(a: &Decision, b: &Decision, same_verdict: bool) -> Vec<Moved> {
        [("due", a.due, b.due), ("notified", a.notified, b.notified)]
            .into_iter()
            .filter(|(_, from, to)| from != to && (same_verdict || (from.is_some() && to.is_some())))
            .map(|(date, from, to)| Moved { date, from, to })
            .collect()
    }

    /// `due 2026-12-23T00:00:00Z -> 2026-12-07T00:00:00Z`
    pub fn text(&self) -> String {
        let at = |t: Option<Time>| t.map_or_else(|| "none".to_string(), format_time);
        format!("{} {} -> {}", self.date, at(self.from), at(self.to))
    }
}

fn ser_opt_time<S: serde::Serializer>(t: &Option<Time>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => crate::plan::ser_time(t, s),
        None => s.serialize_none(),
    }
}

/// The users whose decision goes from one verdict to another; `from` and
/// `to` are equal when only dates move.
#[derive(Serialize)]
pub struct Change<'u> {
    pub from: Verdict,
    pub to: Verdict,
    /// How many users change so.
    pub count: usize,
    /// Those users, in the order of the users file; only the first of them
    /// where the output lists only some (Markdown).
    pub users: Vec<Changed<'u>>,
}

#[derive(Serialize)]
pub struct Changed<'u> {
    pub user: UserRef<'u>,
    /// The new decision's reason.
    pub reason: String,
    /// The dates that move, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<Moved>,
    pub old: Entry<'u>,
    pub new: Entry<'u>,
}

#[derive(Serialize)]
pub struct DiffReport<'u> {
    #[serde(serialize_with = "crate::plan::ser_time")]
    pub as_of: Time,
    pub old: PolicyRef,
    pub new: PolicyRef,
    /// Where the users came from, how many, and the SHA-256 of their file
    /// (or of the fetched users, as `fetch` writes them).
    pub users: UsersRef,
    /// Users whose action, rule or dates change.
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

impl Change<'_> {
    /// `keep (no rule) -> notify (dormant)`, or `notify (dormant), dates
    /// move` when the verdict stays.
    pub fn title(&self) -> String {
        if self.from == self.to {
            format!("{}, dates move", self.from.text())
        } else {
            format!("{} -> {}", self.from.text(), self.to.text())
        }
    }
}

/// `dormant diff` in text: the changes, grouped by old and new outcome.
pub fn diff_text(r: &DiffReport<'_>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Diff as of {}", format_time(r.as_of));
    let _ = writeln!(s, "  old     {}", r.old.path);
    let _ = writeln!(s, "  new     {}", r.new.path);
    let _ = writeln!(s, "  users   {} ({} users)", r.users.source, r.users.count);
    if r.changes.is_empty() {
        let _ = writeln!(s, "\nNo decision changes.");
        return s;
    }
    let _ = writeln!(s, "\n{} of {} users change:", r.changed, r.users.count);
    for c in &r.changes {
        let _ = writeln!(s, "\n{}: {}", c.title(), c.count);
        for u in &c.users {
            let _ = writeln!(s, "  {}  {}", u.user.display(), u.reason);
            for m in &u.moved {
                let _ = writeln!(s, "    {}", m.text());
            }
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
