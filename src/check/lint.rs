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
    for (n, rule) in clean.iter().enumerate() {
        let Some(rule) = rule else { continue };
        if let Some(winner) = reach
            .first_implied(&clean, n)
            .and_then(|j| clean.get(j).copied().flatten())
        {
            out.push(unreachable(rule, winner));
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

fn unreachable(rule: &Rule, winner: &Rule) -> Diag {
    Diag::warning(
        Code::UnreachableRule,
        rule_span(rule),
        format!("{} can never match", rule_title(rule, "rule")),
    )
    .label("whenever this condition is true, an earlier one is too")
    .related(rule_span(winner), "this rule wins first")
    .help("the first matching rule decides: move this rule above the wider one, narrow that one, or remove this one")
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
    let mut steps = MAX_STEPS;
    implies_within(l, e, defs, 0, &mut steps)
}

fn implies_within<'a>(l: &'a Expr, e: &'a Expr, defs: &Lets<'a>, depth: usize, steps: &mut usize) -> bool {
    if depth > MAX_DEPTH || *steps == 0 {
        return false;
    }
    *steps -= 1;
    let mut implies = |l: &'a Expr, e: &'a Expr, defs: &Lets<'a>, d: usize| implies_within(l, e, defs, d, steps);
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
        (ExprKind::Not(a), ExprKind::Not(b)) => implies(b, a, defs, d),
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
        ) => f1 == f2 && stricter(o1.node, &v1.node, o2.node, &v2.node),
        (ExprKind::In { field: f1, list: l1 }, ExprKind::In { field: f2, list: l2 }) => {
            f1 == f2 && subset(&l1.node, &l2.node, defs)
        }
        _ => false,
    }
}

/// `FIELD o1 v1` implies `FIELD o2 v2` by threshold (`> 24mo` implies `> 12mo`).
fn stricter(o1: CmpOp, v1: &Lit, o2: CmpOp, v2: &Lit) -> bool {
    let (Some((fam1, k1)), Some((fam2, k2))) = (key(v1), key(v2)) else {
        return false;
    };
    if fam1 != fam2 {
        return false;
    }
    use CmpOp::{Ge, Gt, Le, Lt};
    match (o1, o2) {
        (Gt | Ge, Gt | Ge) => k1 > k2 || (k1 == k2 && !(o1 == Ge && o2 == Gt)),
        (Lt | Le, Lt | Le) => k1 < k2 || (k1 == k2 && !(o1 == Le && o2 == Lt)),
        _ => false,
    }
}

/// A literal on one comparable scale. Hours and months are separate scales:
/// a calendar month has no fixed number of hours.
pub(super) fn key(lit: &Lit) -> Option<(u8, f64)> {
    match lit {
        Lit::Number(n) => Some((0, *n)),
        Lit::Duration(d) => Some(match d.unit {
            Unit::Hour => (1, f64::from(d.count)),
            Unit::Day => (1, f64::from(d.count) * 24.0),
            Unit::Week => (1, f64::from(d.count) * 168.0),
            Unit::Month => (2, f64::from(d.count)),
            Unit::Year => (2, f64::from(d.count) * 12.0),
        }),
        Lit::Time(t) => Some((3, t.at.timestamp() as f64)),
        _ => None,
    }
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
