//! Deciding fast: what [`eval::decide`](crate::eval::decide) and the
//! explanations' table of comparisons ([`crate::eval::Truths`]) run, the
//! rules compiled once more. `eval.rs` is the definition; `tests/fast_path.rs`
//! holds this to it on every policy of the project. It sits beside the
//! program it is compiled with, below `eval`: a comparison the kernels do
//! not specialise is handed back to the caller (`other`, the definition's
//! [`crate::eval::leaf`]).
//!
//! Each rule's condition becomes a flat sequence of steps in postfix order:
//! comparisons specialised for the field and test they join ([`kernel`]: a
//! set against a prepared list, a time against a cut-off), then the
//! connectives over their results.
//!
//! Most rules are one comparison, or comparisons joined by a single `and`
//! or `or`: those are a plain list, run cheapest first and stopped at the
//! first comparison that settles the rule (false for `and`, true for
//! `or`), with no stack. Others run every step in postfix order. Neither
//! order nor stopping early changes an answer, since comparisons are pure
//! and `and`/`or` are the least/greatest of their operands.
//!
//! The lists' comparisons of one small field (a bool, the status, a time)
//! and their `in` tests of sets (which a set's summary answers without a
//! look at its values, for nearly every user) are worked out first, all
//! together, as bits ([`facts`]); from those alone most rules are seen to be
//! false for a user, and deciding visits only the rules left
//! ([`Flat::candidates`]).

mod facts;
mod kernel;

use super::{Cond, Leaf};
use crate::user::User;
use crate::value::Truth;
pub use facts::{Candidates, Facts};
use facts::{Cheap, Table};
use kernel::{cost, kernel, specialise, truth, Kernel, FALSE, T, TRUE, UNKNOWN};

/// How deep a condition's postfix stack may grow here; deeper ones (never
/// written by hand) are left to the definition, [`crate::eval::eval`].
const DEPTH: usize = 32;

/// The rules of a program, flattened; `None` for a rule left to `eval`.
#[derive(Debug, Clone, Default)]
pub struct Flat {
    rules: Vec<Option<Rule>>,
    /// Each comparison of the program on its own, by leaf index, for the
    /// explanations, which ask for all of them.
    leaves: Vec<Kernel>,
    /// The cheap comparisons, for [`Flat::facts`].
    table: Table,
    /// For each of the first 64 rules, what rules it out for a user on
    /// the cheap comparisons alone: `(mask, true)`, any of the mask's
    /// comparisons false (an `and`); `(mask, false)`, all of them false
    /// (an `or` of cheap comparisons only). `(0, true)` never does.
    ruled_out: Vec<(u64, bool)>,
}

#[derive(Debug, Clone)]
enum Rule {
    /// Comparisons joined by `and` (or just one), or by `or`. One loop
    /// serves both, since `a or b` is `not (not a and not b)`: `flip` is
    /// FALSE for `and`, and TRUE for `or`, where each value is mirrored
    /// (`TRUE - v`, written `v.abs_diff(TRUE)`) on the way in and out.
    /// `cheap` has the bits of its comparisons among the program's
    /// [`Cheap`] ones; `kernels` are the others.
    List { flip: T, cheap: u64, kernels: Vec<Kernel> },
    /// Anything else, in postfix order.
    Steps(Vec<Step>),
}

impl Rule {
    #[cfg(test)]
    fn kernels(&self) -> Vec<&Kernel> {
        match self {
            Rule::List { kernels, .. } => kernels.iter().collect(),
            Rule::Steps(steps) => steps
                .iter()
                .filter_map(|s| match s {
                    Step::Leaf(k) => Some(k),
                    _ => None,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Leaf(Kernel),
    Not,
    And(usize),
    Or(usize),
}

impl Flat {
    /// The rules' conditions `conds`, over the program's `leaves`,
    /// compiled for deciding fast.
    pub fn compile<'a>(conds: impl IntoIterator<Item = &'a Cond>, leaves: &[Leaf]) -> Flat {
        let mut cheap = Cheap::default();
        let rules: Vec<Option<Rule>> = conds
            .into_iter()
            .map(|c| {
                if let Some(rule) = list(c, leaves, &mut cheap) {
                    return Some(rule);
                }
                let mut steps = Vec::new();
                let depth = flatten(c, leaves, &mut steps);
                (depth <= DEPTH).then_some(Rule::Steps(steps))
            })
            .collect();
        let leaves = leaves.iter().enumerate().map(|(i, l)| specialise(l, i)).collect();
        let ruled_out = rules
            .iter()
            .take(64)
            .map(|r| match r {
                Some(Rule::List { flip: FALSE, cheap, .. }) => (*cheap, true),
                Some(Rule::List { cheap, kernels, .. }) if kernels.is_empty() => (*cheap, false),
                _ => (0, true),
            })
            .collect();
        Flat {
            rules,
            leaves,
            table: Table::new(cheap),
            ruled_out,
        }
    }

    /// The indices of the rules that may not be false for `u`, in order:
    /// every rule but those its cheap comparisons show to be false. Worked
    /// out for all rules at once, so that deciding goes straight to the
    /// few rules with anything left to compare, rather than through a
    /// branch per rule that the processor cannot foresee.
    #[inline]
    pub fn candidates(&self, facts: &Facts, rules: usize) -> Candidates {
        Candidates::new(&self.ruled_out, facts, rules)
    }

    /// The cheap comparisons' values for `u`, for [`Flat::rule`].
    #[inline]
    pub fn facts(&self, u: &User) -> Facts {
        self.table.facts(u)
    }

    /// Every comparison's value for `u`, by leaf index: what
    /// [`crate::eval::leaf`] says of each, for the explanations' table; `other`
    /// answers the comparisons no kernel specialises.
    pub fn leaf_truths<'a>(
        &'a self,
        leaves: &'a [Leaf],
        u: &'a User,
        other: impl Fn(&Leaf, &User) -> Truth + Copy + 'a,
    ) -> impl Iterator<Item = Truth> + 'a {
        self.leaves.iter().map(move |k| truth(kernel(k, leaves, u, other)))
    }

    /// Rule `i`'s condition for `u`, as [`crate::eval::eval`] would find it;
    /// `None` when that rule is not flattened. `facts` are [`Flat::facts`]
    /// of the same user.
    #[inline]
    pub fn rule(
        &self,
        i: usize,
        leaves: &[Leaf],
        u: &User,
        facts: &Facts,
        other: impl Fn(&Leaf, &User) -> Truth + Copy,
    ) -> Option<Truth> {
        let steps = match self.rules.get(i)?.as_ref()? {
            Rule::List { flip, cheap, kernels } => {
                // The cheap comparisons first, all at once: the rule is
                // settled (false for `and`, true for `or`) by any that
                // settles it, and otherwise unknown if any is unknown.
                let settles = if *flip == FALSE { facts.f } else { facts.t };
                let mut acc = if cheap & settles != 0 {
                    FALSE
                } else if cheap & !(facts.f | facts.t) != 0 {
                    UNKNOWN
                } else {
                    TRUE
                };
                for k in kernels {
                    if acc == FALSE {
                        break;
                    }
                    acc = acc.min(kernel(k, leaves, u, other).abs_diff(*flip));
                }
                return Some(truth(acc.abs_diff(*flip)));
            }
            Rule::Steps(steps) => steps,
        };
        let mut stack = [FALSE; DEPTH];
        let mut sp = 0;
        for step in steps {
            let value = match step {
                Step::Leaf(k) => kernel(k, leaves, u, other),
                Step::Not => TRUE - pop(&stack, &mut sp),
                Step::And(n) => fold(&stack, &mut sp, *n, TRUE, T::min),
                Step::Or(n) => fold(&stack, &mut sp, *n, FALSE, T::max),
            };
            if let Some(slot) = stack.get_mut(sp) {
                *slot = value;
            }
            sp += 1;
        }
        Some(truth(stack.first().copied().unwrap_or(UNKNOWN)))
    }
}

/// `c` as a list of comparisons under one `and` or `or`, its cheap ones
/// as slots of `cheap` and the others cheapest first; `None` for any
/// other shape.
fn list(c: &Cond, leaves: &[Leaf], cheap: &mut Cheap) -> Option<Rule> {
    let (flip, cs) = match unlet(c) {
        Cond::Leaf(_) => (FALSE, std::slice::from_ref(unlet(c))),
        Cond::And(cs) => (FALSE, cs.as_slice()),
        Cond::Or(cs) => (TRUE, cs.as_slice()),
        _ => return None,
    };
    let mut kernels = cs
        .iter()
        .map(|c| match unlet(c) {
            Cond::Leaf(i) => Some(leaves.get(*i).map_or(Kernel::Other(*i), |l| specialise(l, *i))),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    // Slots are given out only once the whole rule is known to be a list.
    let mut mask = 0;
    kernels.retain(|k| match cheap.slot(k) {
        Some(slot) => {
            mask |= 1 << slot;
            false
        }
        None => true,
    });
    kernels.sort_by_key(cost);
    Some(Rule::List {
        flip,
        cheap: mask,
        kernels,
    })
}

/// What a `let` names, seen through.
fn unlet(c: &Cond) -> &Cond {
    match c {
        Cond::Let(_, inner) => unlet(inner),
        other => other,
    }
}

fn pop(stack: &[T; DEPTH], sp: &mut usize) -> T {
    *sp = sp.saturating_sub(1);
    stack.get(*sp).copied().unwrap_or(UNKNOWN)
}

fn fold(stack: &[T; DEPTH], sp: &mut usize, n: usize, start: T, f: fn(T, T) -> T) -> T {
    let from = sp.saturating_sub(n);
    let value = stack
        .get(from..*sp)
        .map_or(UNKNOWN, |s| s.iter().copied().fold(start, f));
    *sp = from;
    value
}

/// Appends `c` in postfix order and returns the stack depth it needs.
fn flatten(c: &Cond, leaves: &[Leaf], steps: &mut Vec<Step>) -> usize {
    match c {
        Cond::Leaf(i) => {
            steps.push(Step::Leaf(
                leaves.get(*i).map_or(Kernel::Other(*i), |l| specialise(l, *i)),
            ));
            1
        }
        Cond::Not(inner) | Cond::Let(_, inner) => {
            let depth = flatten(inner, leaves, steps);
            if matches!(c, Cond::Not(_)) {
                steps.push(Step::Not);
            }
            depth
        }
        Cond::And(cs) | Cond::Or(cs) => {
            let depth = cs
                .iter()
                .enumerate()
                .map(|(k, c)| k + flatten(c, leaves, steps))
                .max()
                .unwrap_or(0);
            steps.push(match c {
                Cond::And(_) => Step::And(cs.len()),
                _ => Step::Or(cs.len()),
            });
            depth.max(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::facts::SLOTS;
    use super::*;
    use crate::check::{check, Options};
    use crate::eval::PlanAction;
    use crate::parse::parse;
    use crate::program::Program;
    use crate::source::Source;
    use crate::time::parse_time;

    /// Every kind of comparison, each connective, a `let` and comparisons
    /// left to the definition (`attr.*`, `matches` on a status); the same
    /// policy is held to the definition in `tests/fast_path.rs`.
    const POLICY: &str = r#"
let staff = group in [admins, "Équipe", k] or group_name in [ana, "hr-1"] or permission in [edit_domain] or is_admin
a: staff and not is_service -> keep
b: status == invited and joined > 90d -> delete
c: status != active or status in [disabled, pending_delete] -> notify
d: never_logged_in == false and has_activity != true -> notify
e: inactive > 12mo or last_login < 2025-01-01 or last_activity >= 2026-01-01T00:00:00Z or deactivated > 30d -> deactivate
f: email matches "*@vendor.example" and not (username == Ana or name != "K") -> delete
g: id in [u1, "İ"] or source matches "h?r*" or role matches "*ad*" -> notify
h: activity.posts >= 3 and activity.posts != 7 -> delete
i: attr.level > 2 or attr.team == "x" or status matches "inv*" -> notify
j: staff == false and (joined <= 2024-02-29 or not (is_service or never_logged_in)) -> keep
"#;

    fn program() -> Program {
        compile(POLICY)
    }

    fn compile(text: &str) -> Program {
        let as_of = parse_time("2026-11-23").unwrap();
        let source = Source::new("t.policy", text);
        let parsed = parse(&source).unwrap();
        let report = check(&parsed.policy, &Options { as_of });
        assert!(!report.has_errors(), "{:?}", report.diagnostics);
        Program::compile(&parsed.policy, &source, as_of).unwrap()
    }

    #[test]
    fn every_rule_is_flattened_and_most_comparisons_specialised() {
        let p = program();
        assert!(p.flat.rules.iter().all(Option::is_some));
        let others = p
            .flat
            .rules
            .iter()
            .flatten()
            .flat_map(Rule::kernels)
            .filter(|k| matches!(k, Kernel::Other(_)))
            .count();
        // Lists where the rule is one, otherwise steps.
        let kinds: Vec<&str> = p
            .flat
            .rules
            .iter()
            .flatten()
            .map(|r| match r {
                Rule::List { flip: FALSE, .. } => "all",
                Rule::List { .. } => "any",
                Rule::Steps(_) => "steps",
            })
            .collect();
        assert_eq!(
            kinds,
            ["steps", "all", "any", "all", "any", "steps", "any", "all", "any", "steps"]
        );
        // attr.level, attr.team, `status matches`.
        assert_eq!(others, 3);
    }

    /// More cheap comparisons than a `Facts` has bits, and more rules than
    /// `candidates` has bits: the rest are compared one by one.
    #[test]
    fn past_sixty_four_comparisons_and_rules() {
        use crate::eval::{decide, Decider};
        use crate::journal::Notices;
        let policy: String = (0..70)
            .map(|k| format!("r{k}: joined > {}d -> delete\n", 1000 - k))
            .collect();
        let p = compile(&policy);
        assert_eq!(p.flat.table.slots(), SLOTS);
        assert_eq!(p.flat.ruled_out.len(), 64);
        let as_of = parse_time("2026-11-23").unwrap();
        let decider = |days: Option<i64>| {
            let u = User {
                id: "u".into(),
                joined: days.map(|d| as_of - chrono::Duration::days(d)),
                ..User::default()
            };
            let d = decide(&p, &u, &Notices::new());
            (d.decider, d.action)
        };
        // joined > (1000 - k) days first holds at k = 51 for 950 days, and
        // at k = 66 (past the 64th rule and slot) for 935 days.
        assert_eq!(decider(Some(950)), (Decider::Rule(51), PlanAction::Delete));
        assert_eq!(decider(Some(935)), (Decider::Rule(66), PlanAction::Delete));
        assert_eq!(decider(Some(10)), (Decider::Nobody, PlanAction::Keep));
        assert_eq!(decider(None), (Decider::Rule(0), PlanAction::Review));
    }
}
