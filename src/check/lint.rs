//! Warnings: rules that can never match, destructive rules that nothing
//! protects admins from, and `let` names never used. They run on the
//! conditions that checked clean, so a broken rule gives its error only.

use super::reach::{lit_key, Reach};
use super::LetInfo;
use crate::ast::{Action, CmpOp, Expr, ExprKind, Lit, Policy, Rule, Stmt, Unit};
use crate::diagnostic::{Code, Diag};
use crate::source::{Span, Spanned};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// `let` names and their conditions, for looking through names; and the
/// long lists of the policy as tables of their items, each made the first
/// time the list is compared with another.
pub(super) struct Lets<'p> {
    defs: HashMap<&'p str, &'p Expr>,
    /// By the address of a list (in the policy, which outlives this): its
    /// items' keys (`reach::lit_key`), sorted, each with the item's place.
    tables: RefCell<HashMap<usize, Rc<Table>>>,
}

/// A list's items' keys, sorted, each with the item's place in the list.
type Table = Vec<(u64, usize)>;

impl<'p> Lets<'p> {
    /// The first definition of each `let` name of the policy.
    pub(super) fn new(policy: &'p Policy) -> Self {
        let mut defs = HashMap::new();
        for stmt in &policy.statements {
            if let Stmt::Let(l) = stmt {
                defs.entry(l.name.node.as_str()).or_insert(&l.expr);
            }
        }
        Lets {
            defs,
            tables: RefCell::new(HashMap::new()),
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&'p Expr> {
        self.defs.get(name).copied()
    }

    fn table(&self, list: &[Spanned<Lit>]) -> Rc<Table> {
        let address = list.as_ptr() as usize;
        if let Some(t) = self.tables.borrow().get(&address) {
            return Rc::clone(t);
        }
        let mut keys: Table = list.iter().enumerate().map(|(i, b)| (lit_key(&b.node), i)).collect();
        keys.sort_unstable();
        let keys = Rc::new(keys);
        self.tables.borrow_mut().insert(address, Rc::clone(&keys));
        keys
    }
}

/// Deep enough for any real policy; it also ends a cycle that an erroneous
/// `let a = a` would otherwise make.
const MAX_DEPTH: usize = 64;

/// How many steps one question to `implies` may take. Two conditions that
/// each nest `and`s in `or`s can make the search take steps exponential in
/// their depth; past this many, the answer is "not sure", which is no.
/// Real conditions take a few dozen.
const MAX_STEPS: usize = 10_000;

pub(super) fn lint(policy: &Policy, lets: &HashMap<&str, LetInfo>, rules_ok: &[usize]) -> Vec<Diag> {
    let defs = Lets::new(policy);
    let mut ok = vec![false; policy.statements.len()];
    for &i in rules_ok {
        if let Some(slot) = ok.get_mut(i) {
            *slot = true;
        }
    }
    let ok = |i: usize| ok.get(i).copied().unwrap_or(false);
    let mut out: Vec<Diag> = unused(policy, lets);
    let rules: Vec<(usize, &Rule)> = policy
        .statements
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Stmt::Rule(r) => Some((i, r)),
            _ => None,
        })
        .collect();
    // The rules that checked clean; the others are neither reached nor reaching.
    let clean: Vec<Option<&Rule>> = rules.iter().map(|&(i, r)| ok(i).then_some(r)).collect();
    let reach = Reach::new(&clean, &defs);
    // The weaker relation differs only through `last_login`: not tried
    // again for policies that never compare it.
    let uses_last_login = policy.statements.iter().any(|s| match s {
        Stmt::Rule(r) => mentions(&r.cond, "last_login", 0),
        Stmt::Let(l) => mentions(&l.expr, "last_login", 0),
        _ => false,
    });
    for (n, rule) in clean.iter().enumerate() {
        let Some(rule) = rule else { continue };
        let winner = |rel| {
            reach
                .first_implied(&clean, n, rel)
                .and_then(|j| clean.get(j).copied().flatten())
        };
        if let Some(winner) = winner(Relation::Sound) {
            out.push(unreachable(rule, winner));
        } else if let Some(winner) = uses_last_login.then(|| winner(Relation::WhenTrue)).flatten() {
            out.push(unreachable_but_review(rule, winner));
        }
    }
    out.extend(unprotected(&rules, &defs, ok));
    out
}

/// The first rule before position `n` that rule `n` implies, trying each
/// in turn: what `Reach` finds through its index.
#[cfg(test)]
pub(super) fn first_implied_pairwise(clean: &[Option<&Rule>], n: usize, defs: &Lets<'_>) -> Option<usize> {
    let rule = clean.get(n).copied().flatten()?;
    (0..n).find(|&j| {
        clean
            .get(j)
            .copied()
            .flatten()
            .is_some_and(|e| implies(&rule.cond, &e.cond, defs))
    })
}

fn unused(policy: &Policy, lets: &HashMap<&str, LetInfo>) -> Vec<Diag> {
    policy
        .statements
        .iter()
        .filter_map(|s| match s {
            Stmt::Let(l) => Some(&l.name),
            _ => None,
        })
        .filter(|name| {
            lets.get(name.node.as_str())
                .is_some_and(|info| !info.used && info.span == name.span)
        })
        .map(|name| {
            Diag::warning(Code::UnusedLet, name.span, format!("`{}` is never used", name.node))
                .label("defined but not used by any rule")
                .help("use it in a rule's condition, or remove it")
        })
        .collect()
}

/// How a rule is pointed at: its name, or its condition when it has none.
fn rule_span(rule: &Rule) -> Span {
    rule.name.as_ref().map_or(rule.cond.span, |n| n.span)
}

fn rule_title(rule: &Rule, what: &str) -> String {
    match &rule.name {
        Some(name) => format!("{what} `{}`", name.node),
        None => format!("this {what}"),
    }
}

/// The message names the rule that wins first, so that every format says
/// which (the plain and JSON formats give its line through `related`).
fn unreachable(rule: &Rule, winner: &Rule) -> Diag {
    let first = wins_first(winner);
    Diag::warning(
        Code::UnreachableRule,
        rule_span(rule),
        format!("{} can never match: {first}", rule_title(rule, "rule")),
    )
    .label("whenever this condition is true, an earlier one is too")
    .related(rule_span(winner), first)
    .help("the first matching rule decides: move this rule above the wider one, narrow that one, or remove this one")
}

/// "rule `NAME` wins first": said in the message, so that every format
/// names the winner (the plain and JSON formats give its line too).
fn wins_first(winner: &Rule) -> String {
    match &winner.name {
        Some(name) => format!("rule `{}` wins first", name.node),
        None => "an earlier rule wins first".to_string(),
    }
}

/// A rule that never matches, but can still send to review the users an
/// earlier rule leaves: say both, and how to write what was meant.
fn unreachable_but_review(rule: &Rule, winner: &Rule) -> Diag {
    let first = wins_first(winner);
    Diag::warning(
        Code::UnreachableRule,
        rule_span(rule),
        format!(
            "{} can never match: {first}; it only sends to review the users whose last login is never or unknown",
            rule_title(rule, "rule")
        ),
    )
    .label("whenever this condition is true, an earlier one is too")
    .related(rule_span(winner), first)
    .help("`last_login` compared with a duration is unknown for a user who never logged in: write `inactive` (or `never_logged_in`) for what was meant, or remove this rule")
}

/// Whether a condition compares `field` anywhere (`let` names are looked
/// at where they are defined, as every statement is).
fn mentions(e: &Expr, field: &str, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        // Deeper than a condition that checks clean: say yes, which only
        // costs a second search.
        return true;
    }
    let d = depth + 1;
    match &e.kind {
        ExprKind::Cmp { field: f, .. } | ExprKind::In { field: f, .. } | ExprKind::Matches { field: f, .. } => {
            f.node == field
        }
        ExprKind::Not(inner) | ExprKind::Paren(inner) => mentions(inner, field, d),
        ExprKind::And(ops) | ExprKind::Or(ops) => ops.iter().any(|o| mentions(o, field, d)),
        _ => false,
    }
}

/// One warning for every destructive rule that admins reach: at the first
/// one, with the others labelled, since one missing `keep` is the cause.
fn unprotected(rules: &[(usize, &Rule)], defs: &Lets<'_>, ok: impl Fn(usize) -> bool) -> Option<Diag> {
    let is_admin = reference("is_admin");
    let not_admin = Expr {
        kind: ExprKind::Not(Box::new(reference("is_admin"))),
        span: Span::default(),
    };
    let mut kept = false;
    let mut exposed: Vec<&Rule> = Vec::new();
    for (i, rule) in rules {
        match Action::parse(&rule.action.node) {
            // A keep rule with errors might have been meant to protect them:
            // do not add a warning to its error.
            Some(Action::Keep) => kept |= !ok(*i) || implies(&is_admin, &rule.cond, defs),
            Some(a) if a.is_destructive() && !kept && ok(*i) && !implies(&rule.cond, &not_admin, defs) => {
                exposed.push(rule)
            }
            _ => {}
        }
    }
    let (first, rest) = exposed.split_first()?;
    let mut diag = Diag::warning(
        Code::UnprotectedAdmins,
        rule_span(first),
        format!("{} can {} admins", rule_title(first, "rule"), first.action.node),
    )
    .label("no earlier `keep` rule protects admins")
    .help("add `admins: is_admin -> keep` above it, or add `and not is_admin` to its condition");
    for other in rest {
        diag = diag.related(rule_span(other), "this rule too");
    }
    Some(diag)
}

fn reference(name: &str) -> Expr {
    Expr {
        kind: ExprKind::Ref(Spanned::new(name.to_string(), Span::default())),
        span: Span::default(),
    }
}

/// Without parentheses, and a `let` name replaced by its condition.
fn norm<'a>(e: &'a Expr, defs: &Lets<'a>, depth: usize) -> &'a Expr {
    match &e.kind {
        ExprKind::Paren(inner) if depth < MAX_DEPTH => norm(inner, defs, depth + 1),
        ExprKind::Ref(name) if depth < MAX_DEPTH => match defs.get(&name.node) {
            Some(def) => norm(def, defs, depth + 1),
            None => e,
        },
        _ => e,
    }
}

/// Whether `l` being true always makes `e` true. It is conservative
/// (false when unsure) and sound under three-valued logic: each rule below
/// keeps `l` at or below `e` in the order false < unknown < true.
pub(super) fn implies<'a>(l: &'a Expr, e: &'a Expr, defs: &Lets<'a>) -> bool {
    implies_as(Relation::Sound, l, e, defs)
}

/// How `l` must relate to `e` for an earlier rule `e` to shadow `l`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Relation {
    /// `l` is never above `e` in false < unknown < true: the later rule
    /// neither matches nor sends anyone to review.
    Sound,
    /// Only "`l` true makes `e` true": the later rule never matches, but
    /// may still be unknown (a review) where the earlier one is false.
    /// `last_login > 90d` after `inactive > 90d` is such a rule: for a
    /// user who never logged in it is unknown, `inactive` may be false.
    WhenTrue,
}

/// `implies`, or the weaker relation `rel`.
pub(super) fn implies_as<'a>(rel: Relation, l: &'a Expr, e: &'a Expr, defs: &Lets<'a>) -> bool {
    let mut steps = MAX_STEPS;
    implies_within(rel, l, e, defs, 0, &mut steps)
}

fn implies_within<'a>(
    rel: Relation,
    l: &'a Expr,
    e: &'a Expr,
    defs: &Lets<'a>,
    depth: usize,
    steps: &mut usize,
) -> bool {
    if depth > MAX_DEPTH || *steps == 0 {
        return false;
    }
    *steps -= 1;
    let mut implies_as =
        |rel: Relation, l: &'a Expr, e: &'a Expr, defs: &Lets<'a>, d: usize| implies_within(rel, l, e, defs, d, steps);
    let mut implies = |l: &'a Expr, e: &'a Expr, defs: &Lets<'a>, d: usize| implies_as(rel, l, e, defs, d);
    let (l, e) = (norm(l, defs, depth), norm(e, defs, depth));
    let d = depth + 1;
    if std::ptr::eq(l, e) || l == e {
        return true;
    }
    if let ExprKind::Or(ops) = &e.kind {
        if ops.iter().any(|o| implies(l, o, defs, d)) {
            return true;
        }
    }
    if let ExprKind::And(ops) = &l.kind {
        if ops.iter().any(|o| implies(o, e, defs, d)) {
            return true;
        }
    }
    if let ExprKind::Or(ops) = &l.kind {
        if ops.iter().all(|o| implies(o, e, defs, d)) {
            return true;
        }
    }
    if let ExprKind::And(ops) = &e.kind {
        if ops.iter().all(|o| implies(l, o, defs, d)) {
            return true;
        }
    }
    match (&l.kind, &e.kind) {
        // `not a` true makes `not b` true when `a` false makes `b` false:
        // that is the sound relation, whatever `rel` asks.
        (ExprKind::Not(a), ExprKind::Not(b)) => implies_as(Relation::Sound, b, a, defs, d),
        (
            ExprKind::Cmp {
                field: f1,
                op: o1,
                value: v1,
            },
            ExprKind::Cmp {
                field: f2,
                op: o2,
                value: v2,
            },
        ) => {
            (f1 == f2 && stricter(o1.node, &v1.node, o2.node, &v2.node))
                || (rel == Relation::WhenTrue && last_login_then_inactive(f1, o1.node, &v1.node, f2, o2.node, &v2.node))
        }
        (ExprKind::In { field: f1, list: l1 }, ExprKind::In { field: f2, list: l2 }) => {
            f1 == f2 && subset(&l1.node, &l2.node, defs)
        }
        (ExprKind::And(ops), ExprKind::Cmp { .. }) => never_then_joined(ops, e, defs, d),
        _ => false,
    }
}

/// `FIELD o1 v1` implies `FIELD o2 v2` by threshold (`> 24mo` implies
/// `> 12mo`, `> 400d` implies `> 12mo`): whatever the as-of, every value
/// past the first threshold is past the second.
pub(super) fn stricter(o1: CmpOp, v1: &Lit, o2: CmpOp, v2: &Lit) -> bool {
    let Some(((lo1, hi1), (lo2, hi2))) = comparable(v1, v2) else {
        return false;
    };
    use CmpOp::{Ge, Gt, Le, Lt};
    match (o1, o2) {
        // `>= a` implies `> b` only when a is surely above b.
        (Ge, Gt) => lo1 > hi2,
        (Gt | Ge, Gt | Ge) => lo1 >= hi2,
        (Le, Lt) => hi1 < lo2,
        (Lt | Le, Lt | Le) => hi1 <= lo2,
        _ => false,
    }
}

/// Two literals as intervals on one scale, if they have one. Numbers,
/// times and fixed durations (hours, days, weeks) are exact; calendar
/// months compare exactly with calendar months. A fixed duration and a
/// calendar one meet on the scale of hours, the calendar one as the range
/// of lengths it can have.
fn comparable(v1: &Lit, v2: &Lit) -> Option<((f64, f64), (f64, f64))> {
    let (Some(a), Some(b)) = (scale(v1), scale(v2)) else {
        return None;
    };
    match (a, b) {
        (Scale::Months(m1), Scale::Months(m2)) => Some(((m1, m1), (m2, m2))),
        (Scale::Exact(f1, x1), Scale::Exact(f2, x2)) => (f1 == f2).then_some(((x1, x1), (x2, x2))),
        (Scale::Exact(HOURS, x), Scale::Months(m)) => Some(((x, x), month_hours(m))),
        (Scale::Months(m), Scale::Exact(HOURS, x)) => Some((month_hours(m), (x, x))),
        _ => None,
    }
}

/// The family of fixed durations, in hours.
pub(super) const HOURS: u8 = 1;

/// A literal on a comparable scale.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scale {
    /// A family (numbers, hours, times) and the value on it.
    Exact(u8, f64),
    /// A number of calendar months.
    Months(f64),
}

pub(super) fn scale(lit: &Lit) -> Option<Scale> {
    match lit {
        Lit::Number(n) => Some(Scale::Exact(0, *n)),
        Lit::Duration(d) => Some(match d.unit {
            Unit::Hour => Scale::Exact(HOURS, f64::from(d.count)),
            Unit::Day => Scale::Exact(HOURS, f64::from(d.count) * 24.0),
            Unit::Week => Scale::Exact(HOURS, f64::from(d.count) * 168.0),
            Unit::Month => Scale::Months(f64::from(d.count)),
            Unit::Year => Scale::Months(f64::from(d.count) * 12.0),
        }),
        Lit::Time(t) => Some(Scale::Exact(3, t.at.timestamp() as f64)),
        _ => None,
    }
}

/// How many hours `m` calendar months back from some instant can span, at
/// least and at most. Any 12 months in a row have 365 or 366 days, any
/// month 28 to 31; a day clamped to a shorter month (March 31 less a month
/// is February 28) only lengthens the span, and by no more than the
/// months after the first can make up: the bounds hold for every as-of.
pub(super) fn month_hours(m: f64) -> (f64, f64) {
    let years = (m / 12.0).floor();
    let rest = m - years * 12.0;
    (
        (years * 365.0 + rest * 28.0) * 24.0,
        (years * 366.0 + rest * 31.0) * 24.0,
    )
}

/// `never_logged_in and joined > D'` implies `inactive > D` when `D'` is at
/// least `D` (and likewise with `<`): for someone who never logged in,
/// `inactive` counts from `joined`. `ops` are the operands of an `and`,
/// `e` the `inactive` comparison. Sound under three-valued logic: when
/// `never_logged_in` is unknown, `last_login` is unknown and so is
/// `inactive`; when `joined` is unknown, so is `inactive` for someone who
/// never logged in.
fn never_then_joined<'a>(ops: &'a [Expr], e: &'a Expr, defs: &Lets<'a>, depth: usize) -> bool {
    let ExprKind::Cmp { field, op, value } = &e.kind else {
        return false;
    };
    if field.node != "inactive" {
        return false;
    }
    let ops: Vec<&Expr> = ops.iter().map(|o| norm(o, defs, depth)).collect();
    let never = ops
        .iter()
        .any(|o| matches!(&o.kind, ExprKind::Ref(n) if n.node == "never_logged_in"));
    never
        && ops.iter().any(|o| match &o.kind {
            ExprKind::Cmp {
                field: f,
                op: o1,
                value: v1,
            } => f.node == "joined" && stricter(o1.node, &v1.node, op.node, &value.node),
            _ => false,
        })
}

/// `last_login > D'` true makes `inactive > D` true when `D'` is at least
/// `D` (likewise `<`): a last login that is a time is what `inactive`
/// counts from. Only when true: for a user who never logged in the first
/// is unknown while `inactive` counts from `joined`.
fn last_login_then_inactive(
    f1: &Spanned<String>,
    o1: CmpOp,
    v1: &Lit,
    f2: &Spanned<String>,
    o2: CmpOp,
    v2: &Lit,
) -> bool {
    f1.node == "last_login" && f2.node == "inactive" && matches!(v1, Lit::Duration(_)) && stricter(o1, v1, o2, v2)
}

/// Every item of `small` is in `large`. Long lists are compared through a
/// table of the items of `large` (made once per list), not each item with
/// each.
fn subset(small: &[Spanned<Lit>], large: &[Spanned<Lit>], defs: &Lets<'_>) -> bool {
    if small.len().saturating_mul(large.len()) <= 64 {
        return small.iter().all(|a| large.iter().any(|b| same_item(&a.node, &b.node)));
    }
    let table = defs.table(large);
    small.iter().all(|a| {
        let key = lit_key(&a.node);
        let from = table.partition_point(|&(k, _)| k < key);
        table
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&(k, _)| k == key)
            .any(|&(_, i)| large.get(i).is_some_and(|b| same_item(&a.node, &b.node)))
    })
}

fn same_item(a: &Lit, b: &Lit) -> bool {
    match (a, b) {
        (Lit::Str(x) | Lit::Word(x), Lit::Str(y) | Lit::Word(y)) => x.to_lowercase() == y.to_lowercase(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item() -> impl Strategy<Value = Lit> {
        prop_oneof![
            prop_oneof![
                Just("a"),
                Just("A"),
                Just("b"),
                Just("ǅ"),
                Just("ǆ"),
                Just("ß"),
                Just("SS")
            ]
            .prop_map(|s| Lit::Word(s.to_string())),
            prop_oneof![Just("a"), Just("B")].prop_map(|s| Lit::Str(s.to_string())),
            prop_oneof![Just(0.0), Just(-0.0), Just(1.0)].prop_map(Lit::Number),
            any::<bool>().prop_map(Lit::Bool),
        ]
    }

    fn list() -> impl Strategy<Value = Vec<Spanned<Lit>>> {
        proptest::collection::vec(item().prop_map(|l| Spanned::new(l, Span::default())), 0..24)
    }

    /// Whether the first rule's condition relates to the second's by `rel`.
    fn related(rel: Relation, l: &str, e: &str) -> bool {
        let text = format!("a: {l} -> keep\nb: {e} -> keep\n");
        let source = crate::source::Source::new("p.policy", text);
        let policy = crate::parse::parse(&source)
            .map(|p| p.policy)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let defs = Lets::new(&policy);
        let conds: Vec<&Expr> = policy
            .statements
            .iter()
            .filter_map(|s| match s {
                Stmt::Rule(r) => Some(&r.cond),
                _ => None,
            })
            .collect();
        implies_as(rel, conds[0], conds[1], &defs)
    }

    /// Whether the first rule's condition implies the second's.
    fn implied(l: &str, e: &str) -> bool {
        related(Relation::Sound, l, e)
    }

    #[test]
    fn days_and_calendar_months_compare_by_their_bounds() {
        assert!(implied("inactive > 400d", "inactive > 12mo"));
        assert!(implied("inactive > 367d", "inactive > 1y"));
        assert!(implied("inactive > 366d", "inactive > 12mo"));
        // A year can have 366 days.
        assert!(!implied("inactive > 365d", "inactive > 12mo"));
        assert!(!implied("inactive >= 366d", "inactive > 12mo"));
        assert!(implied("inactive > 12mo", "inactive > 365d"));
        assert!(!implied("inactive > 12mo", "inactive > 366d"));
        assert!(implied("inactive > 1mo", "inactive >= 28d"));
        assert!(!implied("inactive > 1mo", "inactive > 29d"));
        assert!(implied("inactive < 1mo", "inactive < 31d"));
        assert!(!implied("inactive < 1mo", "inactive < 30d"));
        assert!(implied("inactive > 13mo", "inactive > 1y"));
        assert!(!implied("inactive >= 12mo", "inactive > 1y"));
        assert!(!implied("inactive > 400d", "joined > 12mo"));
    }

    #[test]
    fn never_logged_in_and_joined_imply_inactive() {
        assert!(implied("never_logged_in and joined > 90d", "inactive > 90d"));
        assert!(implied(
            "never_logged_in and joined > 12mo and not is_admin",
            "inactive > 300d"
        ));
        assert!(implied(
            "(never_logged_in and joined > 400d) or inactive > 2y",
            "inactive > 12mo"
        ));
        assert!(!implied("never_logged_in and joined > 60d", "inactive > 90d"));
        assert!(!implied("joined > 90d", "inactive > 90d"));
        assert!(!implied("not never_logged_in and joined > 90d", "inactive > 90d"));
        assert!(!implied("inactive > 90d", "never_logged_in and joined > 90d"));
        // Unknown for a user who never logged in, where `inactive` may be
        // false: the later rule can still decide (review).
        assert!(!implied("last_login > 90d", "inactive > 90d"));
        assert!(implied(
            "not (inactive > 90d)",
            "not (never_logged_in and joined > 120d)"
        ));
    }

    /// Whether the first rule's condition, when true, makes the second's true.
    fn implied_when_true(l: &str, e: &str) -> bool {
        related(Relation::WhenTrue, l, e)
    }

    #[test]
    fn an_older_last_login_makes_inactive_true_only_when_true() {
        assert!(implied_when_true("last_login > 90d", "inactive > 90d"));
        assert!(implied_when_true("last_login >= 400d", "inactive > 12mo"));
        assert!(implied_when_true(
            "last_login > 180d and not is_admin",
            "inactive > 90d"
        ));
        assert!(implied_when_true("last_login < 7d", "inactive < 30d"));
        assert!(!implied_when_true("last_login > 30d", "inactive > 90d"));
        assert!(!implied_when_true("last_login > 2025-01-01", "inactive > 90d"));
        assert!(!implied_when_true("joined > 90d", "inactive > 90d"));
        // Under `not`, only the sound relation: `not (inactive > 90d)` is
        // false or unknown... and `not (last_login > 90d)` unknown for a
        // user who never logged in while `not inactive` may be true.
        assert!(!implied_when_true("not (inactive > 90d)", "not (last_login > 90d)"));
        // Never the sound relation.
        assert!(!implied("last_login > 90d", "inactive > 90d"));
    }

    #[test]
    fn month_bounds_hold_for_every_as_of() {
        use chrono::{Months, TimeZone, Utc};
        let start = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).single().unwrap();
        for day in 0..(366 * 5) {
            let as_of = start + chrono::TimeDelta::days(day);
            for m in 1..=40u32 {
                let gap = (as_of - as_of.checked_sub_months(Months::new(m)).unwrap()).num_hours() as f64;
                let (lo, hi) = month_hours(f64::from(m));
                assert!(
                    lo <= gap && gap <= hi,
                    "{as_of} less {m} months: {gap}h not in {lo}..{hi}"
                );
            }
        }
    }

    proptest! {
        /// Through the table or item by item, the same answer.
        #[test]
        fn a_long_list_is_compared_as_a_short_one(small in list(), large in list()) {
            let policy = Policy { statements: Vec::new() };
            let defs = Lets::new(&policy);
            let naive = small.iter().all(|a| large.iter().any(|b| same_item(&a.node, &b.node)));
            prop_assert_eq!(subset(&small, &large, &defs), naive);
        }
    }
}
