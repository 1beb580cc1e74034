//! Which earlier rule, if any, wins first whenever a rule's condition is
//! true, found through an index rather than by trying every earlier rule:
//! `check` stays near-linear in the number of rules.
//!
//! `lint::implies(l, e)` holds only through comparisons that the two
//! conditions share: the same comparison, a stricter threshold on the
//! same field (`> 24mo` implies `> 12mo`), a list inside another, the
//! same name. So each condition is reduced to *atoms*, one per comparison
//! (for a list, one per item), keyed by what must match (field, operator
//! family, item, name, and whether it sits under an odd number of `not`s),
//! and carrying the threshold where there is one. A rule is tried against
//! an earlier one only when an atom of the one meets an atom of the other
//! with the same key and a threshold that can imply (strict enough).
//!
//! Which atoms: `implies(l, e)` needs *all* of `l`'s `or` operands to imply
//! `e`, and `l` to imply *all* of `e`'s `and` operands (the roles swap
//! under `not`). So only one of those operands need be indexed, and the
//! rarest is: the one whose atoms the fewest rules share. Likewise each
//! item of `l`'s list must be in `e`'s: `l` looks up its rarest item only. Every way
//! `implies` can hold passes through the atoms kept, so the index finds
//! every rule that the pairwise search found, and the first one first; a
//! property test holds the two equal.

use super::lint::{implies_as, month_hours, scale, Lets, Relation, Scale, HOURS};
use crate::ast::{CmpOp, Expr, ExprKind, Lit, Rule};
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};

/// One comparison as the index sees it: its key, and for a threshold, the
/// value an implying atom must reach (`Some`), oriented so that `l`'s atom
/// can imply `e`'s when `l.value >= e.value`.
#[derive(Debug, Clone, Copy)]
struct Atom {
    key: u64,
    value: Option<f64>,
}

/// An atom's key, and its value if it has one (the atoms of one key in a
/// rule merged).
type Keyed = (u64, Option<f64>);

/// The conditions of a list of rules, indexed.
pub(super) struct Reach<'a> {
    defs: &'a Lets<'a>,
    /// For each key, the rules (their position in the list) with an atom
    /// of that key, in order, and the atoms' least values.
    postings: FxHashMap<u64, Postings>,
    /// For each rule, the atoms it looks up as the rule that implies, and
    /// whether one is missing (an empty list, which implies any list): such
    /// a rule is tried against every rule before it.
    queries: Vec<(Vec<Keyed>, bool)>,
    /// The rules with an atom missing as the rule implied: tried by every
    /// rule after them.
    always: Vec<usize>,
}

/// Roles: `l`, which implies, or `e`, which is implied.
const IMPLIES: bool = true;
const IMPLIED: bool = false;

impl<'a> Reach<'a> {
    /// Indexes `rules` (`None` for a rule not to be indexed: one with errors).
    pub(super) fn new(rules: &[Option<&'a Rule>], defs: &'a Lets<'a>) -> Reach<'a> {
        let mut w = Walker {
            defs,
            counts: FxHashMap::default(),
            costs: FxHashMap::default(),
        };
        for rule in rules.iter().flatten() {
            let mut all = Vec::new();
            w.atoms(&rule.cond, None, false, &mut all, &mut false, 0);
            for atom in all {
                *w.counts.entry(atom.key).or_default() += 1;
            }
        }
        let mut lists: FxHashMap<u64, (Vec<usize>, Vec<f64>)> = FxHashMap::default();
        let mut always = Vec::new();
        let mut queries = Vec::with_capacity(rules.len());
        for (n, rule) in rules.iter().enumerate() {
            let Some(rule) = rule else {
                queries.push((Vec::new(), false));
                continue;
            };
            let (atoms, wild) = w.indexed(&rule.cond, IMPLIED);
            if wild {
                always.push(n);
            } else {
                for (key, value) in merge(atoms, f64::min) {
                    let (ns, values) = lists.entry(key).or_default();
                    ns.push(n);
                    values.push(value.unwrap_or(f64::NEG_INFINITY));
                }
            }
            let (atoms, wild) = w.indexed(&rule.cond, IMPLIES);
            queries.push((merge(atoms, f64::max), wild));
        }
        let postings = lists
            .into_iter()
            .map(|(key, (rules, values))| {
                (
                    key,
                    Postings {
                        rules,
                        least: MinTree::new(&values),
                    },
                )
            })
            .collect();
        Reach {
            defs,
            postings,
            queries,
            always,
        }
    }

    /// The first of `rules` before position `n` whose condition is true
    /// whenever the condition of rule `n` is, by `lint::implies_as(rel)`.
    pub(super) fn first_implied(&self, rules: &[Option<&'a Rule>], n: usize, rel: Relation) -> Option<usize> {
        let rule = rules.get(n).copied().flatten()?;
        let (atoms, wild) = self.queries.get(n)?;
        let tries = |j: usize| {
            rules
                .get(j)
                .copied()
                .flatten()
                .is_some_and(|e| implies_as(rel, &rule.cond, &e.cond, self.defs))
        };
        if *wild {
            return (0..n).find(|&j| tries(j));
        }
        let streams: Vec<(&Postings, f64)> = atoms
            .iter()
            .filter_map(|(key, value)| Some((self.postings.get(key)?, value.unwrap_or(f64::INFINITY))))
            .collect();
        let mut from = 0;
        loop {
            let always = self.always.get(self.always.partition_point(|&j| j < from)).copied();
            let next = streams
                .iter()
                .filter_map(|(p, at_most)| p.next(from, *at_most))
                .chain(always)
                .min()
                .filter(|&j| j < n)?;
            if tries(next) {
                return Some(next);
            }
            from = next + 1;
        }
    }
}

/// Walks conditions into atoms, `let` names written out.
struct Walker<'a> {
    defs: &'a Lets<'a>,
    /// How many atoms of all the rules have each key.
    counts: FxHashMap<u64, u64>,
    /// What indexing an expression in a role (and under a `not` or not)
    /// costs: the atoms it would add, each weighed by how common its key is.
    costs: FxHashMap<(usize, bool, bool), u64>,
}

/// Deeper than any condition that checked clean (`limits::MAX_NESTING`
/// levels, each at most a parenthesis, an `or` and an `and`); past it a
/// rule is not indexed but tried against every other.
const MAX_WALK: usize = 4 * crate::limits::MAX_NESTING + 16;

impl<'a> Walker<'a> {
    /// The atoms of `e` to index in a role, and whether one is missing.
    fn indexed(&mut self, e: &'a Expr, role: bool) -> (Vec<Atom>, bool) {
        let mut out = Vec::new();
        let mut wild = false;
        self.atoms(e, Some(role), false, &mut out, &mut wild, 0);
        (out, wild)
    }

    /// Adds the atoms of `e` to `out`: in a role, only those that every way
    /// of implying goes through; with no role, all of them. `neg`: under an
    /// odd number of `not`s.
    fn atoms(
        &mut self,
        e: &'a Expr,
        role: Option<bool>,
        neg: bool,
        out: &mut Vec<Atom>,
        wild: &mut bool,
        depth: usize,
    ) {
        if depth > MAX_WALK {
            *wild = true;
            return;
        }
        let d = depth + 1;
        match &e.kind {
            ExprKind::Paren(inner) => self.atoms(inner, role, neg, out, wild, d),
            ExprKind::Not(inner) => self.atoms(inner, role.map(|r| !r), !neg, out, wild, d),
            ExprKind::Ref(name) => {
                out.push(Atom {
                    key: hash((neg, 0u8, name.node.as_str())),
                    value: None,
                });
                if let Some(def) = self.defs.get(&name.node) {
                    self.atoms(def, role, neg, out, wild, d);
                }
            }
            ExprKind::Or(ops) | ExprKind::And(ops) => match role {
                Some(r) if choose(&e.kind, r) => {
                    let mut best: Option<(u64, &'a Expr)> = None;
                    for op in ops {
                        let c = self.cost(op, r, neg, d);
                        if best.is_none_or(|(b, _)| c < b) {
                            best = Some((c, op));
                        }
                    }
                    if let Some((_, op)) = best {
                        self.atoms(op, role, neg, out, wild, d);
                    }
                }
                _ => {
                    for op in ops {
                        self.atoms(op, role, neg, out, wild, d);
                    }
                }
            },
            ExprKind::Cmp { .. } | ExprKind::In { .. } | ExprKind::Matches { .. } => {
                let from = out.len();
                leaf_atoms(e, role, neg, out, wild);
                // A list implies another only if each of its items is in
                // the other: the implying rule's rarest item is enough.
                if let (Some(IMPLIES), ExprKind::In { .. }) = (role, &e.kind) {
                    let rarest = out
                        .get(from..)
                        .and_then(|atoms| atoms.iter().min_by_key(|a| self.count(a.key)).copied());
                    out.truncate(from);
                    out.extend(rarest);
                }
            }
        }
    }

    /// What indexing `e` in a role costs.
    fn cost(&mut self, e: &'a Expr, role: bool, neg: bool, depth: usize) -> u64 {
        if depth > MAX_WALK {
            return 0;
        }
        let memo = (std::ptr::from_ref(e) as usize, role, neg);
        if let Some(c) = self.costs.get(&memo) {
            return *c;
        }
        let d = depth + 1;
        let c = match &e.kind {
            ExprKind::Paren(inner) => self.cost(inner, role, neg, d),
            ExprKind::Not(inner) => self.cost(inner, !role, !neg, d),
            ExprKind::Ref(name) => {
                let own = self.count(hash((neg, 0u8, name.node.as_str())));
                let def = self
                    .defs
                    .get(name.node.as_str())
                    .map_or(0, |def| self.cost(def, role, neg, d));
                own.saturating_add(def)
            }
            ExprKind::Or(ops) | ExprKind::And(ops) => {
                let costs = ops.iter().map(|op| self.cost(op, role, neg, d)).collect::<Vec<_>>();
                if choose(&e.kind, role) {
                    costs.into_iter().min().unwrap_or(0)
                } else {
                    costs.into_iter().fold(0, u64::saturating_add)
                }
            }
            ExprKind::Cmp { .. } | ExprKind::In { .. } | ExprKind::Matches { .. } => {
                let mut atoms = Vec::new();
                leaf_atoms(e, None, neg, &mut atoms, &mut false);
                let counts = atoms.iter().map(|a| self.count(a.key));
                if role == IMPLIES && matches!(e.kind, ExprKind::In { .. }) {
                    counts.min().unwrap_or(0)
                } else {
                    counts.fold(0, u64::saturating_add)
                }
            }
        };
        self.costs.insert(memo, c);
        c
    }

    fn count(&self, key: u64) -> u64 {
        self.counts.get(&key).copied().unwrap_or(0)
    }
}

/// Whether one operand of this connective is enough to index in a role:
/// the implying rule's `or` (each operand must imply), the implied rule's
/// `and` (each operand must be implied).
fn choose(kind: &ExprKind, role: bool) -> bool {
    matches!((kind, role), (ExprKind::Or(_), IMPLIES) | (ExprKind::And(_), IMPLIED))
}

/// A threshold on the index's scales: its family and the range of its
/// value (durations in hours, a calendar duration as the hours it can span).
fn interval(lit: &Lit) -> Option<(u8, f64, f64)> {
    Some(match scale(lit)? {
        Scale::Exact(family, x) => (family, x, x),
        Scale::Months(m) => {
            let (lo, hi) = month_hours(m);
            (HOURS, lo, hi)
        }
    })
}

/// The atoms of one comparison, in a role (`None`: only their keys count).
fn leaf_atoms(e: &Expr, role: Option<bool>, neg: bool, out: &mut Vec<Atom>, wild: &mut bool) {
    match &e.kind {
        ExprKind::Cmp { field, op, value } => {
            let up = match op.node {
                CmpOp::Gt | CmpOp::Ge => Some(true),
                CmpOp::Lt | CmpOp::Le => Some(false),
                CmpOp::Eq | CmpOp::Ne => None,
            };
            let Some((up, (family, lo, hi))) = up.and_then(|up| Some((up, interval(&value.node)?))) else {
                out.push(Atom {
                    key: hash((neg, 2u8, field.node.as_str(), op.node, lit_key(&value.node))),
                    value: None,
                });
                return;
            };
            // `> 24mo` implies `> 12mo`; under a `not`, the other way. A
            // calendar duration is a range of hours, so that whatever
            // `lint::stricter` accepts the index finds.
            let forward = up != neg;
            // The index tries a rule when its query's value is at least the
            // posting's: the query side (the rule's own role, before the
            // `not`s flipped it) takes the end of the range that makes its
            // value largest, the posting side the end that makes it least.
            let query = role.map(|r| r != neg) == Some(IMPLIES);
            let k = if query == forward { hi } else { lo };
            let atom = |name: &str| Atom {
                key: hash((neg, 1u8, name, up, family)),
                value: Some(if forward { k } else { -k }),
            };
            out.push(atom(field.node.as_str()));
            // `never_logged_in and joined > D` implies `inactive > D`.
            // A last login that is a time: `last_login > D` true makes
            // `inactive > D` true (`lint::Relation::WhenTrue`).
            if role == Some(IMPLIES) && (field.node == "joined" || field.node == "last_login") {
                out.push(atom("inactive"));
            }
        }
        ExprKind::In { field, list } => {
            // A list inside another shares an item with it, unless it is empty.
            *wild |= list.node.is_empty();
            out.extend(list.node.iter().map(|item| Atom {
                key: hash((neg, 3u8, field.node.as_str(), lit_key(&item.node))),
                value: None,
            }));
        }
        ExprKind::Matches { field, pattern } => out.push(Atom {
            key: hash((neg, 4u8, field.node.as_str(), pattern.node.as_str())),
            value: None,
        }),
        _ => {}
    }
}

/// A literal as `lint`'s comparisons see it: text whatever its case (the
/// whole text lower-cased, as they compare it), numbers whatever their sign
/// of zero.
pub(super) fn lit_key(lit: &Lit) -> u64 {
    match lit {
        Lit::Str(s) | Lit::Word(s) => hash((0u8, s.to_lowercase())),
        Lit::Number(n) => hash((1u8, (n + 0.0).to_bits())),
        Lit::Bool(b) => hash((2u8, *b)),
        Lit::Time(t) => hash((3u8, t.at, t.date_only)),
        Lit::Duration(d) => hash((4u8, d.count, d.unit)),
        Lit::Bad(s) => hash((5u8, s.as_str())),
    }
}

fn hash(x: impl Hash) -> u64 {
    let mut h = FxHasher::default();
    x.hash(&mut h);
    h.finish()
}

/// The atoms of one key merged into one, with the most permissive value.
fn merge(mut atoms: Vec<Atom>, pick: fn(f64, f64) -> f64) -> Vec<Keyed> {
    atoms.sort_unstable_by_key(|a| a.key);
    let mut out: Vec<Keyed> = Vec::with_capacity(atoms.len());
    for a in atoms {
        match out.last_mut() {
            Some((key, value)) if *key == a.key => {
                *value = match (*value, a.value) {
                    (Some(x), Some(y)) => Some(pick(x, y)),
                    _ => None,
                }
            }
            _ => out.push((a.key, a.value)),
        }
    }
    out
}

/// The rules with atoms of one key.
struct Postings {
    /// Positions of the rules, increasing.
    rules: Vec<usize>,
    /// Each one's least value.
    least: MinTree,
}

impl Postings {
    /// The first rule at position `from` or later whose value is at most `at_most`.
    fn next(&self, from: usize, at_most: f64) -> Option<usize> {
        let start = self.rules.partition_point(|&j| j < from);
        let i = self.least.first_at_most(start, at_most)?;
        self.rules.get(i).copied()
    }
}

/// A segment tree of minima: the first value at or after a position that
/// is at most a bound, in logarithmic time.
struct MinTree {
    size: usize,
    tree: Vec<f64>,
}

impl MinTree {
    fn new(values: &[f64]) -> MinTree {
        let size = values.len().next_power_of_two().max(1);
        let mut tree = vec![f64::INFINITY; 2 * size];
        for (slot, v) in tree.iter_mut().skip(size).zip(values) {
            *slot = *v;
        }
        for i in (1..size).rev() {
            let (l, r) = (tree.get(2 * i).copied(), tree.get(2 * i + 1).copied());
            if let (Some(l), Some(r), Some(slot)) = (l, r, tree.get_mut(i)) {
                *slot = l.min(r);
            }
        }
        MinTree { size, tree }
    }

    fn first_at_most(&self, start: usize, bound: f64) -> Option<usize> {
        self.descend(1, 0, self.size, start, bound)
    }

    fn descend(&self, node: usize, lo: usize, hi: usize, start: usize, bound: f64) -> Option<usize> {
        if hi <= start || self.tree.get(node).is_none_or(|m| *m > bound) {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = (lo + hi) / 2;
        self.descend(2 * node, lo, mid, start, bound)
            .or_else(|| self.descend(2 * node + 1, mid, hi, start, bound))
    }
}

#[cfg(test)]
mod tests {
    use super::super::lint::first_implied_pairwise;
    use super::*;
    use crate::ast::{Policy, Stmt};
    use crate::parse::parse;
    use crate::source::Source;
    use proptest::prelude::*;

    fn comparison() -> impl Strategy<Value = String> {
        let item = prop_oneof![Just("a"), Just("b"), Just("B"), Just("c")];
        let items = proptest::collection::vec(item, 0..3).prop_map(|v| v.join(", "));
        let age = prop_oneof![
            Just("1d"),
            Just("2d"),
            Just("24h"),
            Just("1w"),
            Just("1mo"),
            Just("12mo"),
            Just("1y"),
            Just("400d"),
            Just("13mo"),
            Just("366d"),
            Just("2024-01-01")
        ];
        let op = prop_oneof![Just(">"), Just(">="), Just("<"), Just("<="), Just("=="), Just("!=")];
        prop_oneof![
            (prop_oneof![Just("group"), Just("role")], items).prop_map(|(f, i)| format!("{f} in [{i}]")),
            (prop_oneof![Just("inactive"), Just("joined")], op.clone(), age)
                .prop_map(|(f, o, a)| format!("{f} {o} {a}")),
            (op, 0..3i32, any::<bool>()).prop_map(|(o, n, neg)| format!("activity.x {o} {}", if neg { -n } else { n })),
            prop_oneof![Just("\"*a\""), Just("\"*b\"")].prop_map(|p| format!("email matches {p}")),
            prop_oneof![Just("invited"), Just("active"), Just("Invited")].prop_map(|s| format!("status == {s}")),
            prop_oneof![
                Just("is_admin"),
                Just("is_service"),
                Just("never_logged_in"),
                Just("s1"),
                Just("s2")
            ]
            .prop_map(str::to_string),
        ]
    }

    fn condition() -> impl Strategy<Value = String> {
        comparison().prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" and ")),
                proptest::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" or ")),
                inner.clone().prop_map(|c| format!("not ({c})")),
                inner.prop_map(|c| format!("({c})")),
            ]
        })
    }

    fn policy() -> impl Strategy<Value = String> {
        (comparison(), condition(), proptest::collection::vec(condition(), 1..14)).prop_map(|(s1, s2, rules)| {
            // `s2` may use `s1`; the rules may use both.
            let s1 = s1.replace("s1", "is_admin").replace("s2", "is_service");
            let s2 = s2.replace("s2", "s1");
            let mut text = format!("let s1 = {s1}\nlet s2 = {s2}\n");
            for (i, r) in rules.iter().enumerate() {
                text.push_str(&format!("r{i}: {r} -> keep\n"));
            }
            text
        })
    }

    fn both(text: &str) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
        let source = Source::new("p.policy", text);
        let Ok(parsed) = parse(&source) else {
            return (Vec::new(), Vec::new());
        };
        let Policy { statements } = &parsed.policy;
        let defs = Lets::new(&parsed.policy);
        let rules: Vec<Option<&Rule>> = statements
            .iter()
            .filter_map(|s| match s {
                Stmt::Rule(r) => Some(Some(r)),
                _ => None,
            })
            .collect();
        let reach = Reach::new(&rules, &defs);
        (0..rules.len())
            .map(|n| {
                (
                    reach.first_implied(&rules, n, Relation::Sound),
                    first_implied_pairwise(&rules, n, &defs),
                )
            })
            .unzip()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        /// The index finds the rule the pairwise search finds, for every rule.
        #[test]
        fn finds_what_the_pairwise_search_finds(text in policy()) {
            let (indexed, pairwise) = both(&text);
            prop_assert_eq!(indexed, pairwise, "{}", text);
        }
    }

    #[test]
    fn finds_winners_through_calendar_ranges_and_derived_fields() {
        let text = "a: not (group in [x] and inactive > 400d) -> keep\n\
                    b: inactive > 12mo -> keep\n\
                    c: not (inactive > 12mo) -> keep\n\
                    d: inactive > 400d -> keep\n\
                    e: never_logged_in and joined > 13mo -> keep\n\
                    f: never_logged_in and joined > 300d -> keep\n";
        let (indexed, pairwise) = both(text);
        assert_eq!(indexed, pairwise);
        assert_eq!(indexed, vec![None, None, Some(0), Some(1), Some(1), None]);
    }

    #[test]
    fn finds_the_first_winner_of_many() {
        let text = "a: inactive > 30d -> keep\n\
                    b: group in [x] -> keep\n\
                    c: inactive > 10d -> keep\n\
                    d: inactive > 40d and group in [x, y] -> keep\n\
                    e: not (inactive > 20d) -> keep\n\
                    f: not (inactive > 5d) -> keep\n\
                    g: group in [] or is_service -> keep\n\
                    h: is_service -> keep\n\
                    i: group in [] -> keep\n";
        let (indexed, pairwise) = both(text);
        assert_eq!(indexed, pairwise);
        assert_eq!(
            indexed,
            vec![None, None, None, Some(0), None, Some(4), None, Some(6), Some(1)]
        );
    }
}
