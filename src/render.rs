//! Every text dormant writes from the evaluator's data: `eval` and `plan`
//! hand over decisions and explanations as data, and only this module puts
//! them into words. Plans for people and machines: JSON (the SPEC's keys,
//! one decision per line; `json`), CSV for spreadsheets, a terminal table
//! and Markdown for pull requests. JSON and CSV stream; the table and
//! Markdown keep only the users who are not kept. Beside plans, the other
//! reports people read: a decision's one-line reason (`reason`),
//! explanations (`explanation`), diffs (also in Markdown) and forecasts
//! (`diff`), and the
//! pieces they share: conditions as policy text (`cond`) and the values
//! conditions saw (`seen`).

mod cond;
mod diff;
mod explanation;
pub mod html;
mod json;
mod reason;
mod seen;

pub use cond::CondText;
pub use diff::{diff_markdown, diff_text, forecast_text, Change, Changed, DiffReport, Forecast, Moved, Verdict};
pub use explanation::explanation_text;
pub use json::EntryCache;
pub use reason::{age_note, already_text, cannot_notify_text, exempt_text, never_note, reason};

use crate::decision::PlanAction;
use crate::plan::{Already, Entry, Header, LimitStatus, RuleCount, Summary, Tally};
use crate::program::Program;
use std::io::{self, Write};

/// `--format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A summary by action and by rule, then one line per user not kept.
    Table,
    /// The full plan with explanations, for review tools and `apply`.
    Json,
    /// One row per user, for a spreadsheet.
    Csv,
    /// Summary and changes, for pasting into a pull request.
    Markdown,
    /// A self-contained report for auditors: charts, provenance, warnings,
    /// reviews, a searchable table of decisions with their explanations.
    Html,
}

/// A user who is not kept, as the table and Markdown list them.
struct Row {
    user: String,
    /// The action's word, or what the account already is.
    action: String,
    rule: String,
    reason: String,
}

/// Writes a plan as its decisions arrive.
pub struct Renderer<W: Write> {
    format: Format,
    out: W,
    rows: Vec<Row>,
    first: bool,
    scratch: Vec<u8>,
    /// Deactivate is a revoke here: the human formats say so.
    revoke: bool,
    /// The warnings about the policy and the users, for the reviewer.
    warnings: Vec<crate::diagnostic::Brief>,
    /// What the HTML report keeps of the users.
    html: html::Collect,
}

impl<W: Write> Renderer<W> {
    pub fn new(format: Format, out: W) -> Self {
        Renderer {
            format,
            out,
            rows: Vec::new(),
            first: true,
            scratch: Vec::with_capacity(4096),
            revoke: false,
            warnings: Vec::new(),
            html: html::Collect::default(),
        }
    }

    /// The warnings the plan carries (JSON's `warnings`, Markdown's list);
    /// set before `finish`.
    pub fn set_warnings(&mut self, warnings: Vec<crate::diagnostic::Brief>) {
        self.warnings = warnings;
    }

    /// Starts the plan. `header.users.count` and `sha256` are not read here:
    /// they are written by `finish`.
    pub fn begin(&mut self, header: &Header, p: &Program) -> io::Result<()> {
        self.revoke = header.revoke;
        match self.format {
            Format::Json => {
                write!(self.out, "{{\"as_of\":")?;
                serde_json::to_writer(&mut self.out, &crate::time::format_time(header.as_of))?;
                write!(self.out, ",\"generated_by\":")?;
                serde_json::to_writer(&mut self.out, &header.generated_by)?;
                write!(self.out, ",\"generated_at\":")?;
                serde_json::to_writer(&mut self.out, &crate::time::format_time(header.generated_at))?;
                write!(self.out, ",\"policy\":")?;
                serde_json::to_writer(&mut self.out, &header.policy)?;
                write!(self.out, ",\"connector\":")?;
                serde_json::to_writer(&mut self.out, &header.connector)?;
                write!(self.out, ",\"journal\":")?;
                serde_json::to_writer(&mut self.out, &header.journal)?;
                // Actions keep their SPEC names for apply; what deactivate
                // means on this platform is said once.
                if header.revoke {
                    write!(self.out, ",\"deactivate_is\":\"revoke\"")?;
                }
                // Each age comparison's boundary is the same for every user:
                // it is given once here, and decisions give ages in days.
                let boundaries: serde_json::Map<String, serde_json::Value> = p
                    .leaves
                    .iter()
                    .filter_map(|l| match l.test {
                        crate::program::Test::Age { cutoff, .. } => {
                            Some((l.text.clone(), crate::time::format_time(cutoff).into()))
                        }
                        _ => None,
                    })
                    .collect();
                write!(self.out, ",\"boundaries\":")?;
                serde_json::to_writer(&mut self.out, &boundaries)?;
                write!(self.out, ",\"decisions\":[")?;
            }
            Format::Csv => csv_row(
                &mut self.out,
                &["id", "username", "email", "action", "rule", "reason", "due"],
            )?,
            Format::Table | Format::Markdown | Format::Html => {}
        }
        Ok(())
    }

    pub fn entry(&mut self, e: &Entry<'_>) -> io::Result<()> {
        match self.format {
            Format::Json => {
                // Serialized into memory first: serde writes many small
                // pieces, and a plain buffer takes them fastest.
                self.scratch.clear();
                self.scratch.extend_from_slice(if self.first { b"\n" } else { b",\n" });
                serde_json::to_writer(&mut self.scratch, e)?;
                self.out.write_all(&self.scratch)?;
            }
            Format::Csv => {
                let due = e.decision.due.map(crate::time::format_time).unwrap_or_default();
                csv_row(
                    &mut self.out,
                    &[
                        e.user.id,
                        e.user.username.unwrap_or(""),
                        e.user.email.unwrap_or(""),
                        &action_text(e, self.revoke),
                        e.rule.unwrap_or(""),
                        &reason(e),
                        &due,
                    ],
                )?;
            }
            Format::Html => self.html.entry(e, self.revoke),
            Format::Table | Format::Markdown => {
                if e.action != PlanAction::Keep {
                    self.rows.push(Row {
                        user: e.user.display(),
                        action: action_text(e, self.revoke),
                        rule: e.rule.unwrap_or("-").to_string(),
                        reason: reason(e),
                    });
                }
            }
        }
        self.first = false;
        Ok(())
    }

    /// A decision already serialized as JSON by `f` (the JSON format only):
    /// see [`EntryCache`].
    pub fn json_entry(&mut self, f: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>) -> io::Result<()> {
        self.scratch.clear();
        self.scratch.extend_from_slice(if self.first { b"\n" } else { b",\n" });
        f(&mut self.scratch)?;
        self.first = false;
        self.out.write_all(&self.scratch)
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The writer, for a plan abandoned half way.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Ends the plan with its counts and limits, and returns the writer.
    pub fn finish(&mut self, header: &Header, tally: &Tally, p: &Program) -> io::Result<()> {
        let summary = tally.summary();
        let already = tally.already();
        let by_rule = tally.by_rule(p);
        let limits = tally.limits(p);
        match self.format {
            Format::Json => {
                write!(self.out, "{}],\"users\":", if self.first { "" } else { "\n" })?;
                serde_json::to_writer(&mut self.out, &header.users)?;
                write!(self.out, ",\"summary\":")?;
                serde_json::to_writer(&mut self.out, &summary)?;
                write!(self.out, ",\"already\":")?;
                serde_json::to_writer(&mut self.out, &already)?;
                write!(self.out, ",\"by_rule\":")?;
                serde_json::to_writer(&mut self.out, &by_rule)?;
                write!(self.out, ",\"limits\":")?;
                serde_json::to_writer(&mut self.out, &limits)?;
                write!(self.out, ",\"warnings\":")?;
                serde_json::to_writer(&mut self.out, &self.warnings)?;
                writeln!(self.out, "}}")?;
            }
            Format::Csv => {}
            Format::Html => {
                let totals = html::Totals {
                    header,
                    summary: &summary,
                    already: &already,
                    by_rule: &by_rule,
                    limits: &limits,
                    warnings: &self.warnings,
                };
                html::write_plan(&mut self.out, &totals, &self.html)?;
            }
            Format::Table | Format::Markdown => {
                let report = Report {
                    h: header,
                    s: &summary,
                    already: &already,
                    by_rule: &by_rule,
                    limits: &limits,
                    rows: &self.rows,
                };
                match self.format {
                    Format::Table => table(&mut self.out, &report)?,
                    _ => {
                        markdown(&mut self.out, &report)?;
                        markdown_warnings(&mut self.out, &self.warnings)?;
                    }
                }
            }
        }
        self.out.flush()
    }
}

/// What the table and Markdown show: the plan's counts and the users not kept.
struct Report<'a> {
    h: &'a Header,
    s: &'a Summary,
    already: &'a Already,
    by_rule: &'a [RuleCount],
    limits: &'a [LimitStatus],
    rows: &'a [Row],
}

/// One CSV record, quoted as spreadsheets expect (RFC 4180: a cell with a
/// comma, a quote or a line break is quoted, its quotes doubled).
///
/// A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
/// is one a spreadsheet may run as a formula (CSV injection: a user named
/// `=HYPERLINK(…)` in a plan an admin opens). It is written as OWASP
/// recommends: a single quote before it, and the cell quoted, so that it
/// shows as text. A CSV reader then sees the quote too: `'=x`.
pub fn csv_row(out: &mut impl Write, fields: &[&str]) -> io::Result<()> {
    let mut line = Vec::with_capacity(128);
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        csv_cell(&mut line, field);
    }
    line.push(b'\n');
    out.write_all(&line)
}

fn csv_cell(line: &mut Vec<u8>, field: &str) {
    let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if !formula && !field.contains([',', '"', '\n', '\r']) {
        line.extend_from_slice(field.as_bytes());
        return;
    }
    line.push(b'"');
    if formula {
        line.push(b'\'');
    }
    line.extend_from_slice(field.replace('"', "\"\"").as_bytes());
    line.push(b'"');
}

/// The block that heads a CSV plan: one `#KEY,VALUE` row for each line of
/// the provenance, then an empty line before the header row. Readers skip
/// it with a comment character (`pandas.read_csv(f, comment="#")`); a
/// spreadsheet shows it above the table, which the empty line keeps apart
/// when it sorts or filters.
pub fn csv_provenance_block(header: &Header) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in header.provenance() {
        // Writing to a Vec cannot fail.
        let _ = csv_row(&mut out, &[&format!("#{key}"), &value]);
    }
    out.push(b'\n');
    out
}

/// The provenance as a CSV of its own (`key,value` rows under a header
/// row), for `--provenance FILE`.
pub fn provenance_csv(header: &Header) -> Vec<u8> {
    let mut out = Vec::new();
    let rows = std::iter::once(("key", "value".to_string())).chain(header.provenance());
    for (key, value) in rows {
        // Writing to a Vec cannot fail.
        let _ = csv_row(&mut out, &[key, &value]);
    }
    out
}

/// A decision's action for people: its word, or "already deactivated"
/// when the account is already in that state (nothing is sent).
fn action_text(e: &Entry<'_>, revoke: bool) -> String {
    match e.decision.already {
        Some(state) => already_text(state).to_string(),
        None => e.action.word(revoke).to_string(),
    }
}

/// `Already done, not sent: 1 deactivate, 2 delete`, or nothing.
fn already_line(a: &Already, revoke: bool) -> Option<String> {
    let parts: Vec<String> = [
        (PlanAction::Notify, a.notify),
        (PlanAction::Deactivate, a.deactivate),
        (PlanAction::Delete, a.delete),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(action, n)| format!("{n} {}", action.word(revoke)))
    .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Already done, not sent: {} (the accounts are already disabled or pending deletion)",
            parts.join(", ")
        )
    })
}

/// A by-rule row's action: `deactivate`, or `deactivate (already)`.
fn rule_action(r: &RuleCount, revoke: bool) -> String {
    if r.already {
        format!("{} (already)", r.action.word(revoke))
    } else {
        r.action.word(revoke).to_string()
    }
}

fn summary_rows(s: &Summary, revoke: bool) -> [(&'static str, usize); 6] {
    [
        ("keep", s.keep),
        ("review", s.review),
        ("notify", s.notify),
        ("wait", s.wait),
        (PlanAction::Deactivate.word(revoke), s.deactivate),
        ("delete", s.delete),
    ]
}

/// `limit delete 50: 7 planned, ok`, with `exceeded` as the format marks it.
fn limit_line(l: &LimitStatus, exceeded: &str) -> String {
    let state = if l.exceeded { exceeded } else { "ok" };
    format!("limit {} {}: {} planned, {state}", l.action.as_str(), l.limit, l.count)
}

fn rule_name(r: &RuleCount) -> &str {
    r.rule.as_deref().unwrap_or("(no rule)")
}

fn table(out: &mut impl Write, r: &Report<'_>) -> io::Result<()> {
    let Report {
        h,
        s,
        already,
        by_rule,
        limits,
        rows,
    } = *r;
    writeln!(out, "Plan as of {}", crate::time::format_time(h.as_of))?;
    // The warnings themselves are on stderr, beside the table: here, their count.
    let provenance: Vec<_> = h.provenance().into_iter().filter(|(l, _)| *l != "warning").collect();
    let lw = provenance.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 2;
    for (label, value) in &provenance {
        writeln!(out, "  {label:<lw$}{value}")?;
    }
    writeln!(out)?;
    writeln!(out, "{:<12}{:>8}", "action", "users")?;
    for (name, n) in summary_rows(s, h.revoke) {
        writeln!(out, "{name:<12}{n:>8}")?;
    }
    if let Some(line) = already_line(already, h.revoke) {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    let w = by_rule
        .iter()
        .map(|r| rule_name(r).chars().count())
        .max()
        .unwrap_or(4)
        .max(4)
        + 2;
    let aw = by_rule
        .iter()
        .map(|r| rule_action(r, h.revoke).len() + 2)
        .max()
        .unwrap_or(12)
        .max(12);
    writeln!(out, "{:<w$}{:<aw$}{:>8}", "rule", "action", "users")?;
    for r in by_rule {
        writeln!(
            out,
            "{:<w$}{:<aw$}{:>8}",
            rule_name(r),
            rule_action(r, h.revoke),
            r.users
        )?;
    }
    for l in limits {
        writeln!(out, "\n{}", limit_line(l, "EXCEEDED"))?;
    }
    if rows.is_empty() {
        return writeln!(out, "\nEvery user is kept.");
    }
    let uw = rows.iter().map(|r| r.user.chars().count()).max().unwrap_or(4).max(4) + 2;
    let rw = rows.iter().map(|r| r.rule.chars().count()).max().unwrap_or(4).max(4) + 2;
    let aw = rows.iter().map(|r| r.action.len() + 2).max().unwrap_or(12).max(12);
    writeln!(out)?;
    writeln!(out, "{:<uw$}{:<aw$}{:<rw$}reason", "user", "action", "rule")?;
    for r in rows {
        writeln!(out, "{:<uw$}{:<aw$}{:<rw$}{}", r.user, r.action, r.rule, r.reason)?;
    }
    Ok(())
}

/// Markdown table cell: pipes and newlines would break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown(out: &mut impl Write, r: &Report<'_>) -> io::Result<()> {
    let Report {
        h,
        s,
        already,
        by_rule,
        limits,
        rows,
    } = *r;
    writeln!(out, "### dormant plan as of {}", crate::time::format_time(h.as_of))?;
    writeln!(out)?;
    writeln!(
        out,
        "Policy `{}` (sha256 `{}`) over `{}`: {} users.",
        h.policy.path,
        short_hash(&h.policy.sha256),
        h.users.source,
        h.users.count
    )?;
    writeln!(out)?;
    markdown_provenance(out, h)?;
    writeln!(out, "| action | users |\n|---|---:|")?;
    for (name, n) in summary_rows(s, h.revoke) {
        writeln!(out, "| {name} | {n} |")?;
    }
    if let Some(line) = already_line(already, h.revoke) {
        writeln!(out, "\n{line}")?;
    }
    writeln!(out)?;
    writeln!(out, "| rule | action | users |\n|---|---|---:|")?;
    for r in by_rule {
        writeln!(
            out,
            "| {} | {} | {} |",
            cell(rule_name(r)),
            rule_action(r, h.revoke),
            r.users
        )?;
    }
    if !limits.is_empty() {
        writeln!(out)?;
        for l in limits {
            writeln!(out, "- {}", limit_line(l, "**exceeded**"))?;
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "<details><summary>{} users not kept</summary>\n\n| user | action | rule | reason |\n|---|---|---|---|",
        rows.len()
    )?;
    for r in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&r.user),
            r.action,
            cell(&r.rule),
            cell(&r.reason)
        )?;
    }
    writeln!(out, "\n</details>")
}

/// The provenance, folded: a reviewer opens it when asked where the plan
/// came from. The warnings are listed at the end, so only their count is here.
fn markdown_provenance(out: &mut impl Write, h: &Header) -> io::Result<()> {
    writeln!(out, "<details><summary>Provenance</summary>\n\n| | |\n|---|---|")?;
    for (label, value) in h.provenance() {
        if label != "warning" {
            writeln!(out, "| {label} | {} |", cell(&value))?;
        }
    }
    writeln!(out, "\n</details>\n")
}

/// The warnings, listed for the reviewer of a pull request.
fn markdown_warnings(out: &mut impl Write, warnings: &[crate::diagnostic::Brief]) -> io::Result<()> {
    if warnings.is_empty() {
        return Ok(());
    }
    let s = if warnings.len() == 1 { "" } else { "s" };
    writeln!(out, "\n**{} warning{s}**\n", warnings.len())?;
    for w in warnings {
        writeln!(
            out,
            "- line {}, column {}: {} (`{}`)",
            w.line,
            w.column,
            cell(&w.message),
            w.code
        )?;
    }
    Ok(())
}

fn short_hash(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}
