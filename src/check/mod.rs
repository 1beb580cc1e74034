//! Stage 2: the static check. It reads the whole policy and reports every
//! problem it finds (errors and warnings alike), each pointing at its span
//! and saying how to fix it. It never stops at the first problem, and one
//! root cause gives one diagnostic: a condition that refers to a broken
//! `let` is not reported again.

use crate::ast::{Action, Exempt, Let, Limit, Lit, Policy, Rule, Stmt};
use crate::diagnostic::{Code, Diag};
use crate::fields::{Field, PREFIXES};
use crate::limits::MAX_LIMIT;
use crate::source::{Span, Spanned};
use crate::suggest;
use chrono::{DateTime, Days, Utc};
use std::collections::HashMap;

pub mod connector;
pub mod data;
mod lint;
mod reach;
mod size;
mod types;

/// How many names suggestions compare in one check, at most.
const MAX_SUGGESTIONS: usize = 1_000_000;

/// What the check needs to know besides the policy.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The instant expired exemptions are judged against.
    pub as_of: DateTime<Utc>,
}

/// Every diagnostic of one policy, in source order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub diagnostics: Vec<Diag>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diag::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diag> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diag> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
}

/// Checks a parsed policy.
pub fn check(policy: &Policy, options: &Options) -> Report {
    let mut checker = Checker::new(policy, *options);
    for (index, stmt) in policy.statements.iter().enumerate() {
        checker.statement(index, stmt);
    }
    let mut diagnostics = checker.diags;
    diagnostics.extend(lint::lint(policy, &checker.lets, &checker.rules_ok));
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    Report { diagnostics }
}

/// A `let` as the checker knows it.
struct LetInfo {
    /// Index of its statement, to tell "defined later" from "undefined".
    index: usize,
    span: Span,
    used: bool,
    /// Its condition has errors: rules that use it are not linted.
    broken: bool,
    /// How deep and large its condition is written out, once checked clean.
    measure: Option<size::Measure>,
}

struct Checker<'p> {
    options: Options,
    diags: Vec<Diag>,
    /// Every `let` of the file, first definition of each name only.
    lets: HashMap<&'p str, LetInfo>,
    /// Index of the statement being checked.
    current: usize,
    rule_names: HashMap<&'p str, Span>,
    limits: HashMap<Action, Span>,
    exempts: HashMap<String, Span>,
    /// Statement indexes of rules whose condition checked clean (lint reads only those).
    rules_ok: Vec<usize>,
    /// The condition being checked uses a `let` whose own condition has errors.
    tainted: bool,
    /// How many of `diags` are errors.
    errors: usize,
    /// The size of the conditions so far, `let` names written out.
    expanded: usize,
    /// The policy has been reported as too large (once is enough).
    too_large: bool,
    /// What an unknown name may have meant: the fields, and each `let`
    /// with the index of its statement, sorted by name.
    names: Vec<(&'p str, Option<usize>)>,
    /// How many more names suggestions may compare: a policy of thousands
    /// of unknown names and thousands of `let`s gets no more.
    suggestions_left: usize,
}

impl<'p> Checker<'p> {
    fn new(policy: &'p Policy, options: Options) -> Self {
        let mut lets = HashMap::new();
        for (index, stmt) in policy.statements.iter().enumerate() {
            if let Stmt::Let(l) = stmt {
                lets.entry(l.name.node.as_str()).or_insert(LetInfo {
                    index,
                    span: l.name.span,
                    used: false,
                    broken: false,
                    measure: None,
                });
            }
        }
        let mut names: Vec<(&str, Option<usize>)> = crate::fields::FIELDS
            .iter()
            .map(|(n, _)| (*n, None))
            .chain(lets.iter().map(|(n, info): (&&str, &LetInfo)| (*n, Some(info.index))))
            .collect();
        names.sort_unstable();
        Checker {
            names,
            suggestions_left: MAX_SUGGESTIONS,
            options,
            diags: Vec::new(),
            lets,
            current: 0,
            rule_names: HashMap::new(),
            limits: HashMap::new(),
            exempts: HashMap::new(),
            rules_ok: Vec::new(),
            tainted: false,
            errors: 0,
            expanded: 0,
            too_large: false,
        }
    }

    fn report(&mut self, diag: Diag) {
        self.errors += usize::from(diag.is_error());
        self.diags.push(diag);
    }

    fn statement(&mut self, index: usize, stmt: &'p Stmt) {
        self.current = index;
        match stmt {
            Stmt::Let(l) => self.let_stmt(index, l),
            Stmt::Rule(r) => self.rule(index, r),
            Stmt::Limit(l) => self.limit(l),
            Stmt::Exempt(e) => self.exempt(e),
        }
    }

    fn let_stmt(&mut self, index: usize, l: &'p Let) {
        let name = &l.name;
        if Field::lookup(&name.node).is_some() || PREFIXES.contains(&name.node.as_str()) {
            self.report(
                Diag::error(
                    Code::LetShadowsField,
                    name.span,
                    format!("`{}` is a field of the user record", name.node),
                )
                .label("this name is taken by a field")
                .help("give the condition a name that no field has, such as `staff` or `contractor`"),
            );
        } else if let Some(first) = self.lets.get(name.node.as_str()).filter(|info| info.index != index) {
            let first = first.span;
            self.report(
                Diag::error(
                    Code::DuplicateLet,
                    name.span,
                    format!("`{}` is defined twice", name.node),
                )
                .label("defined again here")
                .related(first, "first defined here")
                .help("rename one of them, or merge the two conditions with `or`"),
            );
        }
        let before = self.error_count();
        self.tainted = false;
        self.condition(&l.expr);
        let mut broken = self.tainted || self.error_count() > before;
        let measure = if broken { None } else { self.limits(&l.expr) };
        broken |= measure.is_none();
        if let Some(info) = self.lets.get_mut(name.node.as_str()).filter(|info| info.index == index) {
            info.broken = broken;
            info.measure = measure;
        }
    }

    fn rule(&mut self, index: usize, r: &'p Rule) {
        if let Some(name) = &r.name {
            self.rule_name(name);
        }
        let before = self.error_count();
        self.tainted = false;
        self.condition(&r.cond);
        if self.error_count() == before && !self.tainted && self.limits(&r.cond).is_some() {
            self.rules_ok.push(index);
        }
        let action = self.action(&r.action, false);
        if let Some(notice) = &r.notice {
            self.notice(action, &r.action, notice);
        }
    }

    fn error_count(&self) -> usize {
        self.errors
    }

    fn rule_name(&mut self, name: &'p Spanned<String>) {
        if name.node == "exempt" || name.node == "none" {
            self.report(
                Diag::error(
                    Code::DuplicateRule,
                    name.span,
                    format!("`{}` is reserved as a rule name", name.node),
                )
                .label("reserved")
                .help("plans use this word for decisions no rule made; pick another name"),
            );
        } else if let Some(first) = self.rule_names.get(name.node.as_str()) {
            let first = *first;
            self.report(
                Diag::error(
                    Code::DuplicateRule,
                    name.span,
                    format!("rule name `{}` is used twice", name.node),
                )
                .label("used again here")
                .related(first, "first used here")
                .help("rule names must be unique in a file, so that plans can say which rule decided"),
            );
        } else {
            self.rule_names.insert(&name.node, name.span);
        }
    }

    /// Resolves an action word; `for_limit` words the help for `limit`.
    fn action(&mut self, word: &Spanned<String>, for_limit: bool) -> Option<Action> {
        if let Some(action) = Action::parse(&word.node) {
            return Some(action);
        }
        let help = match word.node.as_str() {
            "review" | "wait" => format!(
                "`{}` is decided by dormant itself (missing data, or a notice still running); \
                 rules give keep, notify, deactivate or delete",
                word.node
            ),
            other => suggest::did_you_mean(other, Action::ALL.map(Action::as_str))
                .unwrap_or_else(|| "the actions are keep, notify, deactivate and delete".to_string()),
        };
        let what = if for_limit { "a limit" } else { "a rule" };
        self.report(
            Diag::error(
                Code::UnknownAction,
                word.span,
                format!("unknown action `{}`", word.node),
            )
            .label(format!("not an action for {what}"))
            .help(help),
        );
        None
    }

    fn notice(&mut self, action: Option<Action>, word: &Spanned<String>, notice: &Spanned<Lit>) {
        if let Some(action) = action.filter(|a| !a.is_destructive()) {
            self.report(
                Diag::error(
                    Code::BadNotice,
                    notice.span,
                    format!("`after notice` does not apply to `{}`", action.as_str()),
                )
                .label("no notice is needed for this action")
                .related(word.span, "this action changes nothing")
                .help("only deactivate and delete wait for a notice; remove `after notice ...`"),
            );
            return;
        }
        match &notice.node {
            Lit::Duration(d) => {
                if let Err(diag) = types::duration_range(*d, notice.span) {
                    self.report(diag);
                }
            }
            Lit::Bad(text) => self.report(types::bad_literal(text, notice.span)),
            other => self.report(
                Diag::error(Code::BadNotice, notice.span, "a notice period must be a duration")
                    .label(format!("this is {}", types::lit_type(other)))
                    .help("write how long before acting the user must be notified, e.g. `after notice 30d`"),
            ),
        }
    }

    fn limit(&mut self, l: &Limit) {
        let Some(action) = self.action(&l.action, true) else {
            return;
        };
        if action == Action::Keep {
            self.report(
                Diag::error(Code::LimitOnKeep, l.action.span, "`keep` cannot be limited")
                    .label("keeping users changes nothing")
                    .help("limits guard the actions that change accounts: notify, deactivate or delete"),
            );
            return;
        }
        let amount = l.amount.node;
        let bad = if l.percent {
            (!(0.0..=100.0).contains(&amount)).then(|| "a percentage is between 0% and 100%".to_string())
        } else if amount > MAX_LIMIT {
            Some(format!(
                "a limit is a number of users, at most {MAX_LIMIT}, or a percentage, such as 5%"
            ))
        } else {
            (amount < 0.0 || amount.fract() != 0.0)
                .then(|| "a limit is a whole number of users, such as 50, or a percentage, such as 5%".to_string())
        };
        if let Some(help) = bad {
            let label = if !l.percent && amount > MAX_LIMIT {
                "too large"
            } else {
                "not a valid limit"
            };
            self.report(
                Diag::error(Code::BadLimit, l.amount.span, "invalid limit")
                    .label(label)
                    .help(help),
            );
        }
        if let Some(first) = self.limits.get(&action) {
            let first = *first;
            self.report(
                Diag::error(
                    Code::DuplicateLimit,
                    l.span,
                    format!("a second limit for `{}`", action.as_str()),
                )
                .label("limited again here")
                .related(first, "first limited here")
                .help("keep one limit per action"),
            );
        } else {
            self.limits.insert(action, l.span);
        }
    }

    fn exempt(&mut self, e: &Exempt) {
        if e.who.node.trim().is_empty() {
            self.report(
                Diag::error(Code::BadExemption, e.who.span, "an exemption must name someone")
                    .label("empty")
                    .help("name the user by id, username or email: exempt \"ana@example.org\" \"REASON\""),
            );
        }
        if e.reason.node.trim().is_empty() {
            self.report(
                Diag::error(Code::BadExemption, e.reason.span, "an exemption needs a reason")
                    .label("empty")
                    .help("say why this person is kept, so that an auditor can read it in the plan"),
            );
        }
        if let Some(until) = &e.until {
            self.exempt_until(until);
        }
        let key = e.who.node.to_lowercase();
        if let Some(first) = self.exempts.get(&key) {
            let first = *first;
            self.report(
                Diag::warning(
                    Code::DuplicateExemption,
                    e.who.span,
                    format!("`{}` is exempted twice", e.who.node),
                )
                .label("exempted again here")
                .related(first, "first exempted here")
                .help("keep one exemption per person; the first one is the one that applies"),
            );
        } else {
            self.exempts.insert(key, e.who.span);
        }
    }

    fn exempt_until(&mut self, until: &Spanned<Lit>) {
        match &until.node {
            Lit::Time(t) => {
                // `until DATE` holds through the end of that day (UTC).
                let day_end =
                    t.at.date_naive()
                        .checked_add_days(Days::new(1))
                        .and_then(|d| d.and_hms_opt(0, 0, 0));
                if day_end.is_some_and(|end| end.and_utc() <= self.options.as_of) {
                    self.report(
                        Diag::warning(Code::ExpiredExemption, until.span, "this exemption has expired")
                            .label(format!("ended before {}", self.options.as_of.format("%Y-%m-%d")))
                            .help("remove the exemption, or extend its date if the reason still holds"),
                    );
                }
            }
            Lit::Bad(text) => self.report(types::bad_literal(text, until.span)),
            other => self.report(
                Diag::error(Code::BadExemption, until.span, "`until` takes a date")
                    .label(format!("this is {}", types::lit_type(other)))
                    .help("write the last day the exemption holds, e.g. `until 2027-01-31`"),
            ),
        }
    }
}

#[cfg(test)]
mod tests;
