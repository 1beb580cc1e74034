//! Deciding fast. Each rule's condition is compiled once more, into a flat
//! sequence of steps in postfix order: comparisons specialised for the
//! field and test they join (a set against a prepared list, a time against
//! a cut-off), then the connectives over their results.
//!
//! Most rules are one comparison, or comparisons joined by a single `and`
//! or `or`: those are a plain list, run cheapest first and stopped at the
//! first comparison that settles the rule (false for `and`, true for
//! `or`), with no stack. Others run every step in postfix order. Neither
//! order nor stopping early changes an answer, since comparisons are pure
//! and `and`/`or` are the least/greatest of their operands.
//! `eval::eval` stays the reference that explanations use; a property test
//! holds the two equal.

use crate::ast::CmpOp;
use crate::fields::Field;
use crate::program::{Cond, Leaf, Operand, Test};
use crate::time::{self, Time};
use crate::user::{Known, Set, Status, User};
use crate::value::{Folded, Glob, Truth};

/// A truth value as a number, so that the connectives are arithmetic:
/// `and` is the least, `or` the greatest, `not` the mirror image.
type T = u8;
const FALSE: T = 0;
const UNKNOWN: T = 1;
const TRUE: T = 2;

/// How deep a condition's postfix stack may grow here; deeper ones (never
/// written by hand) are left to the reference evaluator.
const DEPTH: usize = 32;

/// The rules of a program, flattened; `None` for a rule left to `eval`.
#[derive(Debug, Clone, Default)]
pub struct Flat {
    rules: Vec<Option<Rule>>,
    /// Each comparison of the program on its own, by leaf index, for the
    /// explanations, which ask for all of them.
    leaves: Vec<Kernel>,
}

#[derive(Debug, Clone)]
enum Rule {
    /// Comparisons joined by `and` (or just one), or by `or`. One loop
    /// serves both, since `a or b` is `not (not a and not b)`: `flip` is
    /// FALSE for `and`, and TRUE for `or`, where each value is mirrored
    /// (`TRUE - v`, written `v.abs_diff(TRUE)`) on the way in and out.
    List { flip: T, kernels: Vec<Kernel> },
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

/// One comparison, specialised. Each mirrors what `eval::leaf` does for
/// its field and test, and only those; everything else is `Other`.
#[derive(Debug, Clone)]
enum Kernel {
    /// A bool field equal to `want`.
    Bool(BoolField, bool),
    /// `status` among the statuses of a mask (bit `Status as u8`), or not.
    Status {
        mask: u8,
        negate: bool,
    },
    /// A time field compared with an instant (an age's cut-off, or a time).
    Time(TimeField, CmpOp, Time),
    SetIn(SetField, Folded),
    SetMatches(SetField, Glob),
    /// `==`, `!=` (negated) or `in` on a text field.
    TextIn {
        field: TextField,
        list: Folded,
        negate: bool,
    },
    TextMatches(TextField, Glob),
    Activity(String, CmpOp, f64),
    /// The reference comparison of the leaf at this index.
    Other(usize),
}

#[derive(Debug, Clone, Copy)]
enum BoolField {
    IsAdmin,
    IsService,
    NeverLoggedIn,
    HasActivity,
}

#[derive(Debug, Clone, Copy)]
enum TimeField {
    Joined,
    LastLogin,
    LastActivity,
    Inactive,
}

#[derive(Debug, Clone, Copy)]
enum SetField {
    Group,
    Role,
    Permission,
}

#[derive(Debug, Clone, Copy)]
enum TextField {
    Id,
    Username,
    Email,
    Name,
    Source,
}

impl Flat {
    pub fn compile<'a>(conds: impl IntoIterator<Item = &'a Cond>, leaves: &[Leaf]) -> Flat {
        let rules = conds
            .into_iter()
            .map(|c| {
                if let Some(rule) = list(c, leaves) {
                    return Some(rule);
                }
                let mut steps = Vec::new();
                let depth = flatten(c, leaves, &mut steps);
                (depth <= DEPTH).then_some(Rule::Steps(steps))
            })
            .collect();
        let leaves = leaves.iter().enumerate().map(|(i, l)| specialise(l, i)).collect();
        Flat { rules, leaves }
    }

    /// Every comparison's value for `u`, by leaf index.
    pub fn leaf_truths<'a>(&'a self, leaves: &'a [Leaf], u: &'a User) -> impl Iterator<Item = Truth> + 'a {
        self.leaves.iter().map(move |k| truth(kernel(k, leaves, u)))
    }

    /// Rule `i`'s condition for `u`; `None` when that rule is not flattened.
    #[inline]
    pub fn rule(&self, i: usize, leaves: &[Leaf], u: &User) -> Option<Truth> {
        let steps = match self.rules.get(i)?.as_ref()? {
            Rule::List { flip, kernels } => {
                let mut acc = TRUE;
                for k in kernels {
                    acc = acc.min(kernel(k, leaves, u).abs_diff(*flip));
                    if acc == FALSE {
                        break;
                    }
                }
                return Some(truth(acc.abs_diff(*flip)));
            }
            Rule::Steps(steps) => steps,
        };
        let mut stack = [FALSE; DEPTH];
        let mut sp = 0;
        for step in steps {
            let value = match step {
                Step::Leaf(k) => kernel(k, leaves, u),
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

fn truth(t: T) -> Truth {
    match t {
        FALSE => Truth::False,
        TRUE => Truth::True,
        _ => Truth::Unknown,
    }
}

/// `c` as a list of comparisons under one `and` or `or`, cheapest first;
/// `None` for any other shape.
fn list(c: &Cond, leaves: &[Leaf]) -> Option<Rule> {
    let kernel = |c: &Cond| match unlet(c) {
        Cond::Leaf(i) => Some(leaves.get(*i).map_or(Kernel::Other(*i), |l| specialise(l, *i))),
        _ => None,
    };
    let kernels = |cs: &[Cond]| {
        let mut ks = cs.iter().map(kernel).collect::<Option<Vec<_>>>()?;
        ks.sort_by_key(cost);
        Some(ks)
    };
    match unlet(c) {
        Cond::Leaf(_) => Some(Rule::List {
            flip: FALSE,
            kernels: vec![kernel(c)?],
        }),
        Cond::And(cs) => Some(Rule::List {
            flip: FALSE,
            kernels: kernels(cs)?,
        }),
        Cond::Or(cs) => Some(Rule::List {
            flip: TRUE,
            kernels: kernels(cs)?,
        }),
        _ => None,
    }
}

/// What a `let` names, seen through.
fn unlet(c: &Cond) -> &Cond {
    match c {
        Cond::Let(_, inner) => unlet(inner),
        other => other,
    }
}

/// A comparison's rough cost, to run the cheap ones first.
fn cost(k: &Kernel) -> u8 {
    match k {
        Kernel::Bool(..) | Kernel::Status { .. } => 0,
        Kernel::Time(..) => 1,
        Kernel::Activity(..) => 2,
        Kernel::TextIn { .. } => 3,
        Kernel::SetIn(..) => 4,
        Kernel::TextMatches(..) | Kernel::SetMatches(..) => 5,
        Kernel::Other(_) => 6,
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

fn specialise(l: &Leaf, index: usize) -> Kernel {
    let other = Kernel::Other(index);
    let bool_field = match l.field {
        Field::IsAdmin => Some(BoolField::IsAdmin),
        Field::IsService => Some(BoolField::IsService),
        Field::NeverLoggedIn => Some(BoolField::NeverLoggedIn),
        Field::HasActivity => Some(BoolField::HasActivity),
        _ => None,
    };
    let time_field = match l.field {
        Field::Joined => Some(TimeField::Joined),
        Field::LastLogin => Some(TimeField::LastLogin),
        Field::LastActivity => Some(TimeField::LastActivity),
        Field::Inactive => Some(TimeField::Inactive),
        _ => None,
    };
    let set_field = match l.field {
        Field::Group => Some(SetField::Group),
        Field::Role => Some(SetField::Role),
        Field::Permission => Some(SetField::Permission),
        _ => None,
    };
    let text_field = match l.field {
        Field::Id => Some(TextField::Id),
        Field::Username => Some(TextField::Username),
        Field::Email => Some(TextField::Email),
        Field::Name => Some(TextField::Name),
        Field::Source => Some(TextField::Source),
        _ => None,
    };
    let eq_ne = |op: CmpOp| matches!(op, CmpOp::Eq | CmpOp::Ne).then_some(op == CmpOp::Ne);
    match (&l.field, &l.test) {
        (_, Test::IsTrue) => bool_field.map_or(other, |f| Kernel::Bool(f, true)),
        (_, Test::Cmp(op, Operand::Bool(b))) => match (bool_field, eq_ne(*op)) {
            (Some(f), Some(negate)) => Kernel::Bool(f, *b != negate),
            _ => other,
        },
        (_, Test::Age { op, cutoff, .. }) | (_, Test::Cmp(op, Operand::Time(cutoff))) => {
            time_field.map_or(other, |f| Kernel::Time(f, *op, *cutoff))
        }
        (Field::Status, Test::Cmp(op, Operand::Text(lit))) => match eq_ne(*op) {
            Some(negate) => Kernel::Status {
                mask: status_mask(|s| s == lit),
                negate,
            },
            None => other,
        },
        (Field::Status, Test::In(_, list)) => Kernel::Status {
            mask: status_mask(|s| list.contains(s)),
            negate: false,
        },
        (_, Test::In(_, list)) => match (set_field, text_field) {
            (Some(f), _) => Kernel::SetIn(f, list.clone()),
            (_, Some(field)) => Kernel::TextIn {
                field,
                list: list.clone(),
                negate: false,
            },
            _ => other,
        },
        (_, Test::Cmp(op, Operand::Text(lit))) => match (text_field, eq_ne(*op)) {
            (Some(field), Some(negate)) => Kernel::TextIn {
                field,
                list: Folded::new([lit.as_str()]),
                negate,
            },
            _ => other,
        },
        (_, Test::Matches(glob)) => match (set_field, text_field) {
            (Some(f), _) => Kernel::SetMatches(f, glob.clone()),
            (_, Some(f)) => Kernel::TextMatches(f, glob.clone()),
            _ => other,
        },
        (Field::Activity(name), Test::Cmp(op, Operand::Number(n))) => Kernel::Activity(name.clone(), *op, *n),
        _ => other,
    }
}

fn status_mask(f: impl Fn(&str) -> bool) -> u8 {
    Status::ALL
        .into_iter()
        .filter(|s| f(s.as_str()))
        .fold(0, |mask, s| mask | 1 << s as u8)
}

fn of(b: bool) -> T {
    if b {
        TRUE
    } else {
        FALSE
    }
}

fn known(b: Option<bool>) -> T {
    b.map_or(UNKNOWN, of)
}

#[inline(always)]
fn kernel(k: &Kernel, leaves: &[Leaf], u: &User) -> T {
    match k {
        Kernel::Bool(f, want) => {
            let v = match f {
                BoolField::IsAdmin => u.is_admin,
                BoolField::IsService => u.is_service,
                BoolField::NeverLoggedIn => u.never_logged_in(),
                BoolField::HasActivity => u.has_activity(),
            };
            known(v.map(|v| v == *want))
        }
        Kernel::Status { mask, negate } => known(u.status.map(|s| ((mask >> s as u8) & 1 == 1) != *negate)),
        Kernel::Time(f, op, at) => {
            let known_time = |k: Known<Time>| k.value();
            let t = match f {
                TimeField::Joined => u.joined,
                TimeField::LastLogin => known_time(u.last_login),
                TimeField::LastActivity => known_time(u.last_activity),
                TimeField::Inactive => u.inactive_since(),
            };
            known(t.map(|t| time::compare(&t, *op, at)))
        }
        Kernel::SetIn(f, list) => known(set(u, *f).map(|s| s.iter().any(|v| list.contains(v)))),
        Kernel::SetMatches(f, glob) => known(set(u, *f).map(|s| s.iter().any(|v| glob.matches(v)))),
        Kernel::TextIn { field, list, negate } => known(text(u, *field).map(|v| list.contains(v) != *negate)),
        Kernel::TextMatches(f, glob) => known(text(u, *f).map(|v| glob.matches(v))),
        Kernel::Activity(name, op, n) => known(u.activity(name).map(|v| time::compare(&v, *op, n))),
        Kernel::Other(i) => match leaves.get(*i).map(|l| super::leaf(l, u)) {
            Some(Truth::True) => TRUE,
            Some(Truth::False) => FALSE,
            _ => UNKNOWN,
        },
    }
}

fn set(u: &User, f: SetField) -> Option<&Set> {
    match f {
        SetField::Group => u.group.as_ref(),
        SetField::Role => u.role.as_ref(),
        SetField::Permission => u.permission.as_ref(),
    }
}

fn text(u: &User, f: TextField) -> Option<&str> {
    match f {
        TextField::Id => Some(&u.id),
        TextField::Username => u.username.as_deref(),
        TextField::Email => u.email.as_deref(),
        TextField::Name => u.name.as_deref(),
        TextField::Source => u.source.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check, Options};
    use crate::parse::parse;
    use crate::program::Program;
    use crate::source::Source;
    use crate::time::parse_time;
    use crate::user::Attr;
    use proptest::prelude::*;

    /// Every kind of comparison, each connective, a `let` and comparisons
    /// left to the reference evaluator (`attr.*`, `matches` on a status).
    const POLICY: &str = r#"
let staff = group in [admins, "Équipe", k] or permission in [edit_domain] or is_admin
a: staff and not is_service -> keep
b: status == invited and joined > 90d -> delete
c: status != active or status in [disabled, pending_delete] -> notify
d: never_logged_in == false and has_activity != true -> notify
e: inactive > 12mo or last_login < 2025-01-01 or last_activity >= 2026-01-01T00:00:00Z -> deactivate
f: email matches "*@vendor.example" and not (username == Ana or name != "K") -> delete
g: id in [u1, "İ"] or source matches "h?r*" or role matches "*ad*" -> notify
h: activity.posts >= 3 and activity.posts != 7 -> delete
i: attr.level > 2 or attr.team == "x" or status matches "inv*" -> notify
j: staff == false and (joined <= 2024-02-29 or not (is_service or never_logged_in)) -> keep
"#;

    fn program() -> Program {
        let as_of = parse_time("2026-11-23").unwrap();
        let source = Source::new("t.policy", POLICY);
        let parsed = parse(&source).unwrap();
        let report = check(&parsed.policy, &Options { as_of });
        assert!(!report.has_errors(), "{:?}", report.diagnostics);
        Program::compile(&parsed.policy, &source, as_of).unwrap()
    }

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("admins".to_string()),
            Just("ÉQUIPE".to_string()),
            Just("\u{212A}".to_string()),
            Just("ana".to_string()),
            Just("K".to_string()),
            Just("u1".to_string()),
            Just("\u{130}".to_string()),
            Just("hr-1".to_string()),
            Just("bob@Vendor.Example".to_string()),
            Just("edit_domain".to_string()),
            Just("lead".to_string()),
            "[a-zA-Z\u{130}\u{212A}@.-]{0,6}",
        ]
    }

    fn time() -> impl Strategy<Value = Time> {
        // 2023-11-01 .. 2026-12-31, with a bias to the policy's boundaries.
        prop_oneof![
            (1_698_796_800_i64..1_798_675_200).prop_map(|s| Time::from_timestamp(s, 0).unwrap()),
            Just(parse_time("2025-01-01").unwrap()),
            Just(parse_time("2025-11-23").unwrap()),
            Just(parse_time("2026-01-01").unwrap()),
            Just(parse_time("2024-02-29").unwrap()),
        ]
    }

    fn known_time() -> impl Strategy<Value = Known<Time>> {
        prop_oneof![time().prop_map(Known::Value), Just(Known::Never), Just(Known::Unknown)]
    }

    fn set() -> impl Strategy<Value = Option<Set>> {
        proptest::option::of(
            proptest::collection::vec(word(), 0..6).prop_map(|v| v.into_iter().map(Into::into).collect()),
        )
    }

    fn text() -> impl Strategy<Value = Option<crate::user::Text>> {
        proptest::option::of(word().prop_map(Into::into))
    }

    prop_compose! {
        fn user()(
            id in word(),
            (username, email, name, source) in (text(), text(), text(), text()),
            status in proptest::option::of(proptest::sample::select(Status::ALL.to_vec())),
            joined in proptest::option::of(time()),
            (last_login, last_activity) in (known_time(), known_time()),
            (group, role, permission) in (set(), set(), set()),
            (is_admin, is_service) in (proptest::option::of(any::<bool>()), proptest::option::of(any::<bool>())),
            posts in proptest::option::of(prop_oneof![Just(0.0), Just(3.0), Just(7.0), 0.0..10.0_f64]),
            level in proptest::option::of(prop_oneof![
                Just(Attr::Number(3.0)),
                Just(Attr::Text("1".into())),
                Just(Attr::Text("x".into())),
                Just(Attr::Bool(true)),
            ]),
        ) -> User {
            User {
                id: if id.is_empty() { "u".into() } else { id.into() },
                username, email, name, source, status, joined, last_login, last_activity,
                group, role, permission, is_admin, is_service,
                activity: posts.map(|n| ("posts".into(), n)).into_iter().collect(),
                attr: level.map(|a| vec![("level".into(), a.clone()), ("team".into(), a)]).unwrap_or_default(),
            }
        }
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn flat_comparisons_agree_with_the_reference(u in user()) {
            let p = program();
            let flat: Vec<Truth> = p.flat.leaf_truths(&p.leaves, &u).collect();
            let reference: Vec<Truth> = p.leaves.iter().map(|l| super::super::leaf(l, &u)).collect();
            prop_assert_eq!(flat, reference);
        }

        #[test]
        fn flat_rules_agree_with_the_reference(u in user()) {
            let p = program();
            for (i, rule) in p.rules.iter().enumerate() {
                let flat = p.flat.rule(i, &p.leaves, &u);
                prop_assert_eq!(flat, Some(super::super::eval(&p, &rule.cond, &u)), "rule {}", rule.name);
            }
        }
    }
}
