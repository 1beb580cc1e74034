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
//!
//! The lists' comparisons of one small field (a bool, the status, a time)
//! and their `in` tests of sets (which a set's summary answers without a
//! look at its values, for nearly every user) are worked out first, all
//! together, as bits ([`Facts`]); from those
//! alone most rules are seen to be false for a user, and deciding visits
//! only the rules left ([`Flat::candidates`]).
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
    /// The cheap comparisons, for [`Flat::facts`].
    table: Table,
    /// For each of the first 64 rules, what rules it out for a user on
    /// the cheap comparisons alone: `(mask, true)`, any of the mask's
    /// comparisons false (an `and`); `(mask, false)`, all of them false
    /// (an `or` of cheap comparisons only). `(0, true)` never does.
    ruled_out: Vec<(u64, bool)>,
}

/// The comparisons of the lists that read one small field (a bool, the
/// status, a time) or test a set with `in`, gathered while the rules are
/// compiled, each once however many rules repeat it. Each has its slot:
/// its bit in a [`Facts`]. They are worked out together for a user before
/// any rule, from a [`Table`], with no jump per comparison: a mispredicted
/// jump to the comparison's code cost more than most comparisons
/// themselves.
#[derive(Debug, Clone, Default)]
struct Cheap {
    bools: Vec<(u8, BoolField, bool)>,
    /// A status mask as in `Kernel::Status`, and whether it is negated.
    statuses: Vec<(u8, u8, bool)>,
    /// A time field, the orderings against the instant that make the
    /// comparison true (bit 0 less, bit 1 equal, bit 2 greater), the
    /// instant.
    times: Vec<(u8, TimeField, u8, Time)>,
    /// A set field and the list it is tested against with `in`.
    sets: Vec<(u8, SetField, Folded)>,
}

/// The cheap comparisons' values for one user, one bit per slot: set in
/// `f` when the comparison is false, in `t` when it is true, in neither
/// when it is unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    f: u64,
    t: u64,
}

impl Facts {
    /// Comparison `slot` known to be `v`.
    fn one(slot: u8, v: bool) -> Facts {
        let b = 1u64 << slot;
        if v {
            Facts { f: 0, t: b }
        } else {
            Facts { f: b, t: 0 }
        }
    }
}

impl std::ops::BitOrAssign for Facts {
    #[inline]
    fn bitor_assign(&mut self, other: Facts) {
        self.f |= other.f;
        self.t |= other.t;
    }
}

/// The cheap comparisons as tables of their bits, by what a user's field
/// holds: a field's value picks one entry, which has the bit of every
/// comparison of that field, true or false, so that all of them take a
/// look-up and an `or`, whatever their number. The tables have a place
/// for every field, empty for those no comparison reads: looking one up
/// costs less than a loop that skips it.
#[derive(Debug, Clone, Default)]
struct Table {
    /// By `BoolField`, the bits for its value unknown, false and true.
    bools: [[Facts; 3]; 4],
    /// The bits for the status unknown, then for each `Status` by number.
    status: [Facts; 1 + Status::ALL.len()],
    /// By `TimeField`, the instants it is compared with, in order, and the
    /// bits for each region they cut the timeline into: before the first
    /// instant, at it, between it and the next, ..., after the last; then
    /// for the field unknown.
    times: [(Vec<Time>, Vec<Facts>); 5],
    /// Each `in` test of a set, with its slot: a set's summary bits rule
    /// most lists out at once, and the values are compared only when not.
    sets: Vec<(u8, SetField, Folded)>,
    /// Whether a comparison reads `has_activity`, which costs a look at
    /// every counter.
    has_activity: bool,
}

impl Table {
    fn new(c: Cheap) -> Table {
        let bit = Facts::one;
        let mut t = Table {
            has_activity: c.bools.iter().any(|b| b.1 == BoolField::HasActivity),
            ..Table::default()
        };
        for &(slot, field, want) in &c.bools {
            if let Some(by_value) = t.bools.get_mut(field as usize) {
                for (value, entry) in [false, true].into_iter().zip(by_value.iter_mut().skip(1)) {
                    *entry |= bit(slot, value == want);
                }
            }
        }
        for (s, entry) in Status::ALL.into_iter().zip(t.status.iter_mut().skip(1)) {
            for &(slot, mask, negate) in &c.statuses {
                *entry |= bit(slot, ((mask >> s as u8) & 1 == 1) != negate);
            }
        }
        for (k, (cuts, regions)) in t.times.iter_mut().enumerate() {
            let of_field = || c.times.iter().filter(|x| x.1 as usize == k);
            *cuts = of_field().map(|x| x.3).collect();
            cuts.sort_unstable();
            cuts.dedup();
            *regions = vec![Facts::default(); 2 * cuts.len() + 2];
            for (r, entry) in regions.iter_mut().take(2 * cuts.len() + 1).enumerate() {
                for &(slot, _, orderings, at) in of_field() {
                    let j = cuts.partition_point(|c| *c < at);
                    // Region `2j + 1` is the instant itself; those before
                    // it are earlier, those after later.
                    let at_region = 2 * j + 1;
                    let ordering = u8::from(r >= at_region) + u8::from(r > at_region);
                    *entry |= bit(slot, (orderings >> ordering) & 1 == 1);
                }
            }
        }
        t.sets = c.sets;
        t
    }

    /// How many slots the tables fill.
    #[cfg(test)]
    fn slots(&self) -> usize {
        let entries = self.bools.iter().flatten().chain(&self.status);
        let entries = entries.chain(self.times.iter().flat_map(|t| t.1.iter()));
        let sets = self.sets.iter().fold(0u64, |all, s| all | 1 << s.0);
        entries.fold(sets, |all, e| all | e.f | e.t).count_ones() as usize
    }
}

/// Rule indices, from [`Flat::candidates`].
pub struct Candidates {
    bits: u64,
    /// Rules past the 64th, each a candidate.
    rest: std::ops::Range<usize>,
}

impl Iterator for Candidates {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.bits == 0 {
            return self.rest.next();
        }
        let i = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(i)
    }
}

/// At most this many cheap comparisons per program; any more are
/// compared one by one like the others.
const SLOTS: usize = 64;

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

#[derive(Debug, Clone, Copy, PartialEq)]
enum BoolField {
    IsAdmin,
    IsService,
    NeverLoggedIn,
    HasActivity,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeField {
    Joined,
    LastLogin,
    LastActivity,
    Inactive,
    Deactivated,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SetField {
    Group,
    GroupName,
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
        let mut bits = 0u64;
        for (i, (mask, and)) in self.ruled_out.iter().enumerate() {
            let out = if *and {
                mask & facts.f != 0
            } else {
                mask & !facts.f == 0
            };
            bits |= u64::from(!out) << i;
        }
        Candidates {
            bits,
            rest: self.ruled_out.len()..rules,
        }
    }

    /// The cheap comparisons' values for `u`, for [`Flat::rule`].
    #[inline]
    pub fn facts(&self, u: &User) -> Facts {
        let tb = &self.table;
        let pick = |entries: &[Facts], i: usize| entries.get(i).copied().unwrap_or_default();
        let state = |v: Option<bool>| v.map_or(0, |v| 1 + usize::from(v));
        // In the order of `BoolField` and `TimeField`, which index them.
        let has_activity = if tb.has_activity { u.has_activity() } else { None };
        let bools = [u.is_admin, u.is_service, u.never_logged_in(), has_activity];
        let mut facts = pick(&tb.status, u.status.map_or(0, |s| 1 + s as usize));
        for (v, by_value) in bools.into_iter().zip(&tb.bools) {
            facts |= pick(by_value, state(v));
        }
        let times = [
            u.joined,
            u.last_login.value(),
            u.last_activity.value(),
            u.inactive_since(),
            u.deactivated_at(),
        ];
        for (v, (cuts, regions)) in times.into_iter().zip(&tb.times) {
            let region = match v {
                // Two for each instant before the value, one for an equal one.
                Some(v) => cuts.iter().map(|c| (1 - c.cmp(&v) as i8) as usize).sum(),
                None => regions.len().saturating_sub(1),
            };
            facts |= pick(regions, region);
        }
        for (slot, field, list) in &tb.sets {
            if let Some(v) = set_in(u, *field, list) {
                facts |= Facts::one(*slot, v);
            }
        }
        facts
    }

    /// Every comparison's value for `u`, by leaf index.
    pub fn leaf_truths<'a>(&'a self, leaves: &'a [Leaf], u: &'a User) -> impl Iterator<Item = Truth> + 'a {
        self.leaves.iter().map(move |k| truth(kernel(k, leaves, u)))
    }

    /// Rule `i`'s condition for `u`; `None` when that rule is not flattened.
    #[inline]
    pub fn rule(&self, i: usize, leaves: &[Leaf], u: &User, facts: &Facts) -> Option<Truth> {
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
                    acc = acc.min(kernel(k, leaves, u).abs_diff(*flip));
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

impl Cheap {
    fn len(&self) -> usize {
        self.bools.len() + self.statuses.len() + self.times.len() + self.sets.len()
    }

    /// The slot of `k`, a new one unless an equal comparison has one;
    /// `None` when `k` is not cheap or every slot is taken.
    fn slot(&mut self, k: &Kernel) -> Option<usize> {
        let next = u8::try_from(self.len()).ok().filter(|n| usize::from(*n) < SLOTS);
        let slot = match *k {
            Kernel::Bool(field, want) => match self.bools.iter().find(|b| (b.1, b.2) == (field, want)) {
                Some(b) => b.0,
                None => {
                    self.bools.push((next?, field, want));
                    next?
                }
            },
            Kernel::Status { mask, negate } => match self.statuses.iter().find(|s| (s.1, s.2) == (mask, negate)) {
                Some(s) => s.0,
                None => {
                    self.statuses.push((next?, mask, negate));
                    next?
                }
            },
            Kernel::Time(field, op, at) => {
                let orderings = orderings(op);
                match self.times.iter().find(|t| (t.1, t.2, t.3) == (field, orderings, at)) {
                    Some(t) => t.0,
                    None => {
                        self.times.push((next?, field, orderings, at));
                        next?
                    }
                }
            }
            Kernel::SetIn(field, ref list) => match self.sets.iter().find(|s| s.1 == field && s.2 == *list) {
                Some(s) => s.0,
                None => {
                    self.sets.push((next?, field, list.clone()));
                    next?
                }
            },
            _ => return None,
        };
        Some(usize::from(slot))
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
        Field::Deactivated => Some(TimeField::Deactivated),
        _ => None,
    };
    let set_field = match l.field {
        Field::Group => Some(SetField::Group),
        Field::GroupName => Some(SetField::GroupName),
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

/// The orderings of a value against another for which `op` holds: bit 0
/// less, bit 1 equal, bit 2 greater.
fn orderings(op: CmpOp) -> u8 {
    match op {
        CmpOp::Lt => 0b001,
        CmpOp::Le => 0b011,
        CmpOp::Eq => 0b010,
        CmpOp::Ne => 0b101,
        CmpOp::Ge => 0b110,
        CmpOp::Gt => 0b100,
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
                TimeField::Deactivated => u.deactivated_at(),
            };
            known(t.map(|t| time::compare(&t, *op, at)))
        }
        Kernel::SetIn(f, list) => known(set_in(u, *f, list)),
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

/// `f in list`: unknown when the set is.
#[inline]
fn set_in(u: &User, f: SetField, list: &Folded) -> Option<bool> {
    set(u, f).map(|s| list.may_hold_any(s.bits()) && holds_any(s, list))
}

/// Whether `list` holds a value of `s`, once their bits could not tell:
/// out of line, so that the common case stays small enough to inline.
#[inline(never)]
fn holds_any(s: &Set, list: &Folded) -> bool {
    s.iter().any(|v| list.contains(v))
}

fn set(u: &User, f: SetField) -> Option<&Set> {
    match f {
        SetField::Group => u.group.as_ref(),
        SetField::GroupName => u.group_name.as_ref(),
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
