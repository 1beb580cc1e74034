//! The fact tables: the cheap comparisons of a program (a bool, the status,
//! a time, a set's `in`), each given a bit, and tables from a user's field
//! values to the bits of every comparison of that field, so that all of
//! them are worked out for a user at once, before any rule.

use super::kernel::{set_in, BoolField, Kernel, SetField, TimeField};
use crate::ast::CmpOp;
use crate::time::Time;
use crate::user::{Status, User};
use crate::value::Folded;

/// The comparisons of the lists that read one small field (a bool, the
/// status, a time) or test a set with `in`, gathered while the rules are
/// compiled, each once however many rules repeat it. Each has its slot:
/// its bit in a [`Facts`]. They are worked out together for a user before
/// any rule, from a [`Table`], with no jump per comparison: a mispredicted
/// jump to the comparison's code cost more than most comparisons
/// themselves.
#[derive(Debug, Clone, Default)]
pub(super) struct Cheap {
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
    pub(super) f: u64,
    pub(super) t: u64,
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
pub(super) struct Table {
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
    pub(super) fn new(c: Cheap) -> Table {
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
    pub(super) fn slots(&self) -> usize {
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
pub(super) const SLOTS: usize = 64;

impl Cheap {
    fn len(&self) -> usize {
        self.bools.len() + self.statuses.len() + self.times.len() + self.sets.len()
    }

    /// The slot of `k`, a new one unless an equal comparison has one;
    /// `None` when `k` is not cheap or every slot is taken.
    pub(super) fn slot(&mut self, k: &Kernel) -> Option<usize> {
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

/// The orderings of a value against another for which `op` holds: bit 0
/// less, bit 1 equal, bit 2 greater.
pub(super) fn orderings(op: CmpOp) -> u8 {
    match op {
        CmpOp::Lt => 0b001,
        CmpOp::Le => 0b011,
        CmpOp::Eq => 0b010,
        CmpOp::Ne => 0b101,
        CmpOp::Ge => 0b110,
        CmpOp::Gt => 0b100,
    }
}

impl Candidates {
    /// The rules not ruled out by `facts` (see `Flat::candidates`):
    /// `ruled_out` has, for each of the first 64 rules, the mask of its
    /// cheap comparisons and whether any of them false rules it out (an
    /// `and`) rather than all of them (an `or`).
    #[inline]
    pub(super) fn new(ruled_out: &[(u64, bool)], facts: &Facts, rules: usize) -> Candidates {
        let mut bits = 0u64;
        for (i, (mask, and)) in ruled_out.iter().enumerate() {
            let out = if *and {
                mask & facts.f != 0
            } else {
                mask & !facts.f == 0
            };
            bits |= u64::from(!out) << i;
        }
        Candidates {
            bits,
            rest: ruled_out.len()..rules,
        }
    }
}

impl Table {
    /// The cheap comparisons' values for `u`, each a look-up.
    #[inline]
    pub(super) fn facts(&self, u: &User) -> Facts {
        let tb = self;
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
}
