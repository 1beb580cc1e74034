//! Warnings that look at the users: a policy can be well formed and still
//! name a group nobody is in, or exempt a misspelt address, and then
//! protect nobody. Plan, explain and forecast gather a [`Summary`] of the
//! users' values in the pass they already make over them (a [`Collector`]
//! fed one user at a time, its memory bounded whatever the number of
//! users), and [`warnings`] compares the policy's literals with it. Both
//! are pure: no I/O, no clock.

use crate::ast::{CmpOp, Expr, ExprKind, Lit, Policy, Stmt};
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use crate::source::Span;
use crate::suggest;
use crate::user::{Set, Text, User};
use crate::value::{folded_bit, Glob};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeSet, HashMap, HashSet};

/// How many distinct values of one field are kept for suggestions. Groups,
/// roles and permissions are far fewer on every platform; past this the
/// suggestions draw from the first ones seen.
const MAX_VALUES: usize = 10_000;

/// How many (name, exemption) pairs the search for an exemption's closest
/// name looks at, over all the users: about a tenth of a second.
const MAX_NEAR: usize = 20_000_000;

/// How many values the "did you mean"s of one policy compare, at most.
const MAX_SUGGESTIONS: usize = 1_000_000;

/// How many values a "the users' groups are ..." help line lists.
const LISTED: usize = 8;

/// How many patterns are tried on every user: a policy of thousands of
/// patterns has the rest unchecked (never wrongly warned about).
const MAX_PATTERNS: usize = 256;

/// The fields whose literals are compared with the users' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Valued {
    Status,
    Group,
    GroupName,
    Role,
    Permission,
}

impl Valued {
    fn of(field: &Field) -> Option<Valued> {
        Some(match field {
            Field::Status => Valued::Status,
            Field::Group => Valued::Group,
            Field::GroupName => Valued::GroupName,
            Field::Role => Valued::Role,
            Field::Permission => Valued::Permission,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Valued::Status => "status",
            Valued::Group => "group",
            Valued::GroupName => "group_name",
            Valued::Role => "role",
            Valued::Permission => "permission",
        }
    }

    /// The user's set of this field, for the set fields.
    fn set(self, u: &User) -> Option<&Set> {
        match self {
            Valued::Status => None,
            Valued::Group => u.group.as_ref(),
            Valued::GroupName => u.group_name.as_ref(),
            Valued::Role => u.role.as_ref(),
            Valued::Permission => u.permission.as_ref(),
        }
    }
}

/// What the users hold, as far as the policy's literals are concerned.
#[derive(Debug, Default)]
pub struct Summary {
    /// How many users were seen.
    pub users: usize,
    /// For each field, its distinct values (the first spelling seen), at
    /// most `MAX_VALUES`; present when some user's value is known.
    values: HashMap<Valued, BTreeSet<String>>,
    /// The policy's literals (lower-cased) that some user has, by field.
    seen: HashSet<(Valued, String)>,
    /// The exemptions' names (lower-cased) that name some user.
    named: HashSet<String>,
    /// For an exemption's name (lower-cased) that names nobody: the
    /// closest id, username or email of all the users, if one is close.
    near: HashMap<String, String>,
    /// For each pattern (field and pattern as written): whether some user
    /// matched it, and whether some user's value of the field was known.
    patterns: HashMap<(String, String), Probed>,
    /// The policy's `group` literals (lower-cased) that are a group's
    /// display name (in some user's `group_name`), with the ids that can
    /// be that group's.
    named_groups: HashMap<String, Vec<String>>,
}

/// What trying a pattern on the users found.
#[derive(Debug, Clone, Default)]
struct Probed {
    matched: bool,
    known: bool,
    /// For a `*@DOMAIN` pattern that matched nobody yet: the domains seen.
    domains: BTreeSet<String>,
}

/// A pattern to try on every user.
struct Probe {
    field: Field,
    key: (String, String),
    glob: Glob,
    /// `*@DOMAIN`: the domains of the values are gathered for a suggestion.
    domain: bool,
    probed: Probed,
}

/// The literals of one field, and what the users showed of them.
#[derive(Default)]
struct Wanted {
    /// Lower-cased, in the policy's order, each with whether a user has it.
    lits: Vec<(String, bool)>,
    /// Where each literal is in `lits`.
    index: FxHashMap<String, usize>,
    /// How many literals not seen yet have each [`folded_bit`]; `wild`,
    /// how many may equal a value of any bit.
    counts: Vec<u32>,
    wild: u32,
    /// The bits of the literals no user has shown yet: a value none of
    /// whose bits these are is none of them, and is passed over quickly.
    unseen: u64,
    /// The distinct values, at most `MAX_VALUES`.
    distinct: FxHashSet<Text>,
    known: bool,
    /// Scratch space for lower-casing a value.
    scratch: String,
}

impl Wanted {
    fn add(&mut self, folded: String) {
        if self.index.contains_key(&folded) {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; 64];
        }
        match bit_index(&folded) {
            Some(b) => {
                if let Some(n) = self.counts.get_mut(b) {
                    *n += 1;
                }
                self.unseen |= 1 << b;
            }
            None => {
                self.wild += 1;
                self.unseen = u64::MAX;
            }
        }
        self.index.insert(folded.clone(), self.lits.len());
        self.lits.push((folded, false));
    }

    /// The literal `value` is, ignoring case, if any is.
    fn find(&mut self, value: &str) -> Option<usize> {
        if self.unseen & folded_bit(value) == 0 && self.wild == 0 {
            return None;
        }
        self.scratch.clear();
        self.scratch.extend(value.chars().flat_map(char::to_lowercase));
        self.index.get(self.scratch.as_str()).copied()
    }

    /// Marks literal `i` seen; its name, the first time.
    fn see(&mut self, i: usize) -> Option<&str> {
        let (lit, seen) = self.lits.get_mut(i)?;
        if *seen {
            return None;
        }
        *seen = true;
        match bit_index(lit) {
            Some(b) => {
                if let Some(n) = self.counts.get_mut(b) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.unseen &= !(1 << b);
                    }
                }
            }
            None => self.wild = self.wild.saturating_sub(1),
        }
        if self.wild == 0 {
            self.unseen = self
                .counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .fold(0, |bits, (b, _)| bits | 1 << b);
        }
        Some(lit.as_str())
    }
}

/// Which [`folded_bit`] a literal has, as `value::Folded` decides: text that
/// is not ASCII, or has a `k` (the Kelvin sign lower-cases to it), can equal
/// a value of other bytes, so it has none (`None`: any value may be it).
fn bit_index(folded: &str) -> Option<usize> {
    (folded.is_ascii() && !folded.contains('k')).then(|| folded_bit(folded).trailing_zeros() as usize)
}

/// Which `group` ids go with a display name, found without relying on
/// the order of `group` and `group_name` (sources do not promise one): the
/// group's id is in the `group` of everyone who has the name, and, names
/// being given consistently, of nobody who lacks it.
#[derive(Default)]
struct NameIds {
    /// How many users have the name.
    carriers: usize,
    /// The last user counted (by number), so that a name twice counts once.
    last: usize,
    /// How many of them have each id (at most `MAX_VALUES` ids).
    with: FxHashMap<Text, usize>,
}

/// Gathers a [`Summary`] in one pass over the users. Its cost per user is
/// a few comparisons of bits and hashes of the set values; text is
/// lower-cased only where a literal may be found.
pub struct Collector {
    summary: Summary,
    wanted: Vec<(Valued, Wanted)>,
    /// The exemptions' names not yet found, by their lower-cased text.
    exempts: FxHashMap<String, Unfound>,
    /// How many more names the search for a close name may compare: a
    /// policy of many stale exemptions gets no more suggestions past it.
    near_left: usize,
    /// Scratch space for lower-casing a name.
    scratch: String,
    probes: Vec<Probe>,
    /// For each `group` literal: the ids of the users with it as a name.
    name_ids: Vec<NameIds>,
    /// How many users (whose `group_name` is known) have each group id.
    id_users: FxHashMap<Text, usize>,
}

impl Collector {
    pub fn new(policy: &Policy) -> Collector {
        let mut c = Collector {
            summary: Summary::default(),
            wanted: Vec::new(),
            exempts: FxHashMap::default(),
            near_left: MAX_NEAR,
            scratch: String::new(),
            probes: Vec::new(),
            name_ids: Vec::new(),
            id_users: FxHashMap::default(),
        };
        for stmt in &policy.statements {
            match stmt {
                Stmt::Exempt(e) => {
                    let who = e.who.node.trim().to_lowercase();
                    if !who.is_empty() && !c.exempts.contains_key(&who) {
                        c.exempts.insert(who.clone(), Unfound::new(who));
                    }
                }
                Stmt::Let(l) => c.expr(&l.expr),
                Stmt::Rule(r) => c.expr(&r.cond),
                Stmt::Limit(_) => {}
            }
        }
        if let Some((_, w)) = c.wanted.iter().find(|(v, _)| *v == Valued::Group) {
            c.name_ids = w.lits.iter().map(|_| NameIds::default()).collect();
        }
        c
    }

    fn expr(&mut self, e: &Expr) {
        for_each_leaf(e, |leaf| match leaf_of(leaf) {
            Some(Leaf::Values(v, lits)) => {
                let at = match self.wanted.iter().position(|(w, _)| *w == v) {
                    Some(at) => at,
                    None => {
                        self.wanted.push((v, Wanted::default()));
                        self.wanted.len() - 1
                    }
                };
                if let Some((_, wanted)) = self.wanted.get_mut(at) {
                    for (text, _) in lits {
                        wanted.add(text.to_lowercase());
                    }
                }
            }
            Some(Leaf::Pattern(field, pattern, _)) => {
                let key = (field.name(), pattern.to_string());
                if self.probes.len() < MAX_PATTERNS && !self.probes.iter().any(|p| p.key == key) {
                    self.probes.push(Probe {
                        domain: domain_of(pattern).is_some(),
                        glob: Glob::new(pattern),
                        field,
                        key,
                        probed: Probed::default(),
                    });
                }
            }
            None => {}
        });
    }

    /// Takes one user into the summary.
    pub fn add(&mut self, u: &User) {
        self.summary.users += 1;
        for (v, wanted) in &mut self.wanted {
            values(*v, u, wanted, &mut self.summary.seen);
        }
        if !self.exempts.is_empty() {
            self.names(u);
        }
        // Group names matter only for a `group` literal no user has.
        let group_unseen = self.wanted.iter().any(|(v, w)| *v == Valued::Group && w.unseen != 0);
        if group_unseen && !self.name_ids.is_empty() {
            self.group_names(u);
        }
        for probe in &mut self.probes {
            if !probe.probed.matched {
                try_pattern(probe, u);
            }
        }
    }

    /// For each `group` literal that is one of this user's group names:
    /// the user's ids, counted.
    fn group_names(&mut self, u: &User) {
        let Some(names) = &u.group_name else { return };
        let ids = u.group.as_deref().unwrap_or(&[]);
        for id in ids {
            count(&mut self.id_users, id);
        }
        let Some((_, wanted)) = self.wanted.iter_mut().find(|(v, _)| *v == Valued::Group) else {
            return;
        };
        let user = self.summary.users;
        for name in names.iter() {
            let Some(slot) = wanted.find(name).and_then(|i| self.name_ids.get_mut(i)) else {
                continue;
            };
            if slot.last == user {
                continue;
            }
            slot.last = user;
            slot.carriers += 1;
            for id in ids {
                count(&mut slot.with, id);
            }
        }
    }

    /// Exemptions match a user's id, username or email, ignoring case.
    /// Each name not found yet keeps the closest name seen, for its
    /// "did you mean".
    fn names(&mut self, u: &User) {
        let names = [Some(u.id.as_str()), u.username.as_deref(), u.email.as_deref()];
        for name in names.into_iter().flatten() {
            self.scratch.clear();
            self.scratch.extend(name.chars().flat_map(char::to_lowercase));
            if let Some(found) = self.exempts.remove(self.scratch.as_str()) {
                self.summary.named.insert(found.who);
                continue;
            }
            if self.near_left == 0 {
                continue;
            }
            let ascii = name.is_ascii();
            let n = self.scratch.chars().count();
            let mut sketched = None;
            for e in self.exempts.values_mut() {
                self.near_left = self.near_left.saturating_sub(1);
                if e.chars.abs_diff(n) > e.cap {
                    continue;
                }
                // Each edit moves at most two counts of a sketch: a name
                // whose sketch is further away cannot be close enough.
                if ascii && e.ascii {
                    let s = sketched.get_or_insert_with(|| sketch(name));
                    if distance(s, &e.sketch) > 2 * e.cap {
                        continue;
                    }
                }
                e.consider(&self.scratch, name);
            }
        }
    }

    pub fn finish(mut self) -> Summary {
        for (_, e) in std::mem::take(&mut self.exempts) {
            if let Some((_, near)) = e.best {
                self.summary.near.insert(e.who, near);
            }
        }
        for p in std::mem::take(&mut self.probes) {
            self.summary.patterns.insert(p.key, p.probed);
        }
        for (v, wanted) in std::mem::take(&mut self.wanted) {
            if wanted.known {
                let distinct = wanted.distinct.iter().map(|t| t.to_string()).collect();
                self.summary.values.insert(v, distinct);
            }
            if v != Valued::Group {
                continue;
            }
            for ((lit, _), slot) in wanted.lits.into_iter().zip(&self.name_ids) {
                if slot.carriers > 0 {
                    let ids = group_ids(slot, &self.id_users);
                    self.summary.named_groups.insert(lit, ids);
                }
            }
        }
        self.summary
    }
}

/// An exemption's name that no user has shown yet.
struct Unfound {
    /// Lower-cased.
    who: String,
    ascii: bool,
    chars: usize,
    /// How many edits away a name may be to be suggested (as `suggest`).
    cap: usize,
    sketch: [u8; 32],
    /// The closest name so far, and how far.
    best: Option<(usize, String)>,
}

impl Unfound {
    fn new(who: String) -> Unfound {
        let chars = who.chars().count();
        Unfound {
            ascii: who.is_ascii(),
            chars,
            cap: (chars / 3).clamp(1, 3),
            sketch: sketch(&who),
            who,
            best: None,
        }
    }

    /// `name`, lower-cased as `folded`, if it is the closest yet.
    fn consider(&mut self, folded: &str, name: &str) {
        let d = strsim::damerau_levenshtein(&self.who, folded);
        if d <= self.cap && self.best.as_ref().is_none_or(|(b, _)| d < *b) {
            self.best = Some((d, name.to_string()));
        }
    }
}

/// How many of a text's bytes (lower-cased) fall in each of 32 buckets.
fn sketch(text: &str) -> [u8; 32] {
    let mut s = [0u8; 32];
    for b in text.bytes() {
        if let Some(slot) = s.get_mut(usize::from(b.to_ascii_lowercase() & 31)) {
            *slot = slot.saturating_add(1);
        }
    }
    s
}

fn distance(a: &[u8; 32], b: &[u8; 32]) -> usize {
    a.iter().zip(b).map(|(x, y)| usize::from(x.abs_diff(*y))).sum()
}

/// One user's values of a field: which literals they show, and the
/// distinct values.
fn values(v: Valued, u: &User, wanted: &mut Wanted, seen: &mut HashSet<(Valued, String)>) {
    // Once every literal has been seen, nothing about this field can be
    // warned about, and the values (only ever needed to suggest for a
    // literal nobody has) no longer matter: the rest of the pass skips it.
    if wanted.known && wanted.unseen == 0 {
        return;
    }
    let mut saw = |value: &str, wanted: &mut Wanted| {
        if wanted.distinct.len() < MAX_VALUES && !wanted.distinct.contains(value) {
            wanted.distinct.insert(value.into());
        }
        if let Some(lit) = wanted.find(value).and_then(|i| wanted.see(i)) {
            seen.insert((v, lit.to_string()));
        }
    };
    if v == Valued::Status {
        if let Some(s) = u.status {
            wanted.known = true;
            saw(s.as_str(), wanted);
        }
        return;
    }
    let Some(set) = v.set(u) else { return };
    wanted.known = true;
    if wanted.distinct.len() >= MAX_VALUES && set.bits() & wanted.unseen == 0 {
        return;
    }
    for value in set.iter() {
        saw(value, wanted);
    }
}

fn count(counts: &mut FxHashMap<Text, usize>, id: &Text) {
    if let Some(n) = counts.get_mut(id) {
        *n += 1;
    } else if counts.len() < MAX_VALUES {
        counts.insert(id.clone(), 1);
    }
}

/// The ids a group name can be: those every user with the name has and
/// nobody else has; those every user with it has if that leaves none.
fn group_ids(slot: &NameIds, id_users: &FxHashMap<Text, usize>) -> Vec<String> {
    let mut common: Vec<(&Text, usize)> = slot
        .with
        .iter()
        .filter(|(_, n)| **n == slot.carriers)
        .map(|(id, n)| (id, *n))
        .collect();
    common.sort();
    let only: Vec<String> = common
        .iter()
        .filter(|(id, n)| id_users.get(*id) == Some(n))
        .map(|(id, _)| id.to_string())
        .collect();
    if only.is_empty() {
        common.iter().map(|(id, _)| id.to_string()).collect()
    } else {
        only
    }
}

/// Tries a pattern on one user's values, as the evaluator reads them.
fn try_pattern(probe: &mut Probe, u: &User) {
    let Probe {
        glob, domain, probed, ..
    } = probe;
    let mut one = |text: &str| {
        probed.known = true;
        if glob.matches(text) {
            probed.matched = true;
            probed.domains.clear();
            return true;
        }
        if *domain && probed.domains.len() < MAX_VALUES {
            if let Some((_, domain)) = text.rsplit_once('@') {
                if !probed.domains.contains(domain) {
                    probed.domains.insert(domain.to_lowercase());
                }
            }
        }
        false
    };
    match crate::eval::value(&probe.field, u) {
        crate::eval::Val::Text(s) => {
            one(s);
        }
        crate::eval::Val::Texts(values) => {
            values.iter().any(|v| one(v));
        }
        _ => {}
    }
}

impl Summary {
    /// The summary of `users` for `policy`, in one pass.
    pub fn of<'u>(policy: &Policy, users: impl IntoIterator<Item = &'u User>) -> Summary {
        let mut c = Collector::new(policy);
        for u in users {
            c.add(u);
        }
        c.finish()
    }
}

/// A comparison the data is compared with.
enum Leaf<'a> {
    /// Literals on a set or status field, each with its span.
    Values(Valued, Vec<(&'a str, Span)>),
    /// `FIELD matches "PATTERN"`, and the pattern's span.
    Pattern(Field, &'a str, Span),
}

fn leaf_of(e: &Expr) -> Option<Leaf<'_>> {
    match &e.kind {
        ExprKind::In { field, list } => {
            let v = Valued::of(&Field::lookup(&field.node)?)?;
            let lits = list
                .node
                .iter()
                .filter_map(|l| Some((text(&l.node)?, l.span)))
                .collect();
            Some(Leaf::Values(v, lits))
        }
        ExprKind::Cmp { field, op, value } if matches!(op.node, CmpOp::Eq | CmpOp::Ne) => {
            let v = Valued::of(&Field::lookup(&field.node)?)?;
            Some(Leaf::Values(v, vec![(text(&value.node)?, value.span)]))
        }
        ExprKind::Matches { field, pattern } => {
            Some(Leaf::Pattern(Field::lookup(&field.node)?, &pattern.node, pattern.span))
        }
        _ => None,
    }
}

/// The text of a word or string literal.
fn text(lit: &Lit) -> Option<&str> {
    match lit {
        Lit::Str(s) | Lit::Word(s) => Some(s.as_str()),
        _ => None,
    }
}

/// Calls `f` on every comparison of `e`, without recursion (conditions
/// may nest deeply).
fn for_each_leaf<'a>(e: &'a Expr, mut f: impl FnMut(&'a Expr)) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Or(ops) | ExprKind::And(ops) => stack.extend(ops.iter().rev()),
            ExprKind::Not(inner) | ExprKind::Paren(inner) => stack.push(inner),
            _ => f(e),
        }
    }
}

/// `*@DOMAIN` with no other wildcard: the domain.
fn domain_of(pattern: &str) -> Option<&str> {
    pattern
        .strip_prefix("*@")
        .filter(|d| !d.is_empty() && !d.contains(['*', '?']))
}

/// The warnings of `policy` against what the users hold. Nothing is said
/// about a field no user has a known value of (the connector's warnings
/// say that), nor when there are no users.
pub fn warnings(policy: &Policy, summary: &Summary) -> Vec<Diag> {
    let mut out = Vec::new();
    if summary.users == 0 {
        return out;
    }
    let mut done: HashSet<Span> = HashSet::new();
    // How many values the suggestions may compare in all: a policy of
    // thousands of misspelt values gets no more.
    let mut budget = MAX_SUGGESTIONS;
    for stmt in &policy.statements {
        match stmt {
            Stmt::Exempt(e) => {
                let who = e.who.node.trim();
                if !who.is_empty() && !summary.named.contains(&who.to_lowercase()) {
                    out.push(exemption(who, e.who.span, summary));
                }
            }
            Stmt::Let(l) => leaves(&l.expr, summary, &mut done, &mut budget, &mut out),
            Stmt::Rule(r) => leaves(&r.cond, summary, &mut done, &mut budget, &mut out),
            Stmt::Limit(_) => {}
        }
    }
    out.sort_by_key(|d| (d.span.start, d.span.end));
    out
}

fn leaves(e: &Expr, summary: &Summary, done: &mut HashSet<Span>, budget: &mut usize, out: &mut Vec<Diag>) {
    for_each_leaf(e, |leaf| match leaf_of(leaf) {
        Some(Leaf::Values(v, lits)) => {
            let Some(values) = summary.values.get(&v) else { return };
            for (lit, span) in lits {
                let folded = lit.to_lowercase();
                if !done.insert(span) || summary.seen.contains(&(v, folded.clone())) {
                    continue;
                }
                match summary.named_groups.get(&folded) {
                    Some(ids) if v == Valued::Group => out.push(group_name_not_id(lit, span, ids)),
                    _ => out.push(no_such_value(v, lit, span, values, budget)),
                }
            }
        }
        Some(Leaf::Pattern(field, pattern, span)) => {
            if !done.insert(span) {
                return;
            }
            if looks_like_regex(pattern) {
                out.push(regex_pattern(&field, pattern, span));
                return;
            }
            let probed = summary.patterns.get(&(field.name(), pattern.to_string()));
            if let Some(p) = probed.filter(|p| p.known && !p.matched) {
                out.push(pattern_matches_nobody(&field, pattern, span, p, summary.users));
            }
        }
        None => {}
    });
}

fn exemption(who: &str, span: Span, summary: &Summary) -> Diag {
    let help = match summary.near.get(&who.to_lowercase()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "an exemption names a user by id, username or email (ignoring case); \
                 correct the name, or remove the exemption if the person has left"
            .to_string(),
    };
    Diag::warning(
        Code::ExemptionNamesNobody,
        span,
        format!("the exemption of `{who}` names none of the {} users", summary.users),
    )
    .label("no user has this id, username or email")
    .help(help)
}

fn no_such_value(v: Valued, lit: &str, span: Span, values: &BTreeSet<String>, budget: &mut usize) -> Diag {
    let field = v.name();
    let help = match suggest::closest_within(lit, values.iter().map(String::as_str), budget) {
        Some(near) => format!("did you mean `{near}`?"),
        None => {
            let listed: Vec<&str> = values.iter().take(LISTED).map(String::as_str).collect();
            let more = if values.len() > LISTED { ", ..." } else { "" };
            format!("the users' values of `{field}` are: {}{more}", listed.join(", "))
        }
    };
    Diag::warning(Code::NoSuchValue, span, format!("no user has `{lit}` in `{field}`"))
        .label(format!("no user's `{field}` holds this"))
        .help(help)
}

fn group_name_not_id(lit: &str, span: Span, ids: &[String]) -> Diag {
    let quoted: Vec<String> = ids.iter().take(LISTED).map(|id| format!("`{id}`")).collect();
    let more = if ids.len() > LISTED { ", ..." } else { "" };
    let by_name = format!("match the name with `group_name in [{lit}]`");
    let help = match ids {
        [] => by_name,
        [id] => format!("its id is `{id}`: write `group in [{id}]`, or {by_name}"),
        _ => format!(
            "its id is one of {}{more} (the ids its members share): write that id, or {by_name}",
            quoted.join(", ")
        ),
    };
    Diag::warning(
        Code::GroupNameNotId,
        span,
        format!("`{lit}` is the display name of a group, but `group` holds group ids"),
    )
    .label("a group's name, not its id: no user's `group` holds this")
    .help(help)
}

fn pattern_matches_nobody(field: &Field, pattern: &str, span: Span, p: &Probed, users: usize) -> Diag {
    let near = domain_of(pattern)
        .and_then(|d| suggest::closest(d, p.domains.iter().map(String::as_str)))
        .map(|d| format!("did you mean \"*@{d}\"?"));
    Diag::warning(
        Code::PatternMatchesNobody,
        span,
        format!("\"{pattern}\" matches the `{field}` of none of the {users} users"),
    )
    .label("matches nobody")
    .help(near.unwrap_or_else(|| {
        "`matches` compares the whole text, ignoring case; `*` is any run of characters and `?` one character"
            .to_string()
    }))
}

fn regex_pattern(field: &Field, pattern: &str, span: Span) -> Diag {
    let help = match glob_form(pattern) {
        Some(glob) => format!(
            "`matches` takes a glob (`*` any run of characters, `?` one character): `{field} matches \"{glob}\"`"
        ),
        None => "`matches` takes a glob: `*` is any run of characters, `?` one character; \
                 classes and alternatives have no glob form: list the values with `in`, or use several `matches`"
            .to_string(),
    };
    Diag::warning(
        Code::PatternLooksLikeRegex,
        span,
        format!("\"{pattern}\" looks like a regular expression, but `matches` takes a glob"),
    )
    .label("read as a glob, where only `*` and `?` are special")
    .help(help)
}

/// Whether a pattern reads as a regular expression: `.*`, `.+`, a
/// backslash escape, `^` at the start, `$` at the end, a `[...]` class, a
/// `(a|b)` group or a `{n}` count. A lone `.` is an ordinary character
/// of a glob (`*@vendor.example`), so it does not count.
pub fn looks_like_regex(p: &str) -> bool {
    p.contains(".*")
        || p.contains(".+")
        || p.contains('\\')
        || p.starts_with('^')
        || (p.ends_with('$') && p.len() > 1)
        || (p.contains('[') && p.contains(']'))
        || (p.contains('(') && p.contains('|') && p.contains(')'))
        || (p.contains('{') && p.contains('}') && p.chars().any(|c| c.is_ascii_digit()))
}

/// The glob a regular expression means, when it has one: anchors dropped,
/// `.*` as `*`, `.+` as `?*`, `\.` as `.`, a lone `.` as `?`.
pub fn glob_form(p: &str) -> Option<String> {
    let p = p.strip_prefix('^').unwrap_or(p);
    let p = p.strip_suffix('$').unwrap_or(p);
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if !e.is_ascii_alphanumeric() => out.push(e),
                _ => return None,
            },
            '.' => match chars.peek() {
                Some('*') => {
                    chars.next();
                    out.push('*');
                }
                Some('+') => {
                    chars.next();
                    out.push_str("?*");
                }
                _ => out.push('?'),
            },
            '[' | ']' | '(' | ')' | '|' | '{' | '}' | '+' | '^' | '$' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::source::Source;
    use crate::user::Status;

    fn policy(text: &str) -> (Source, Policy) {
        let source = Source::new("p.policy", text);
        let policy = parse(&source).map(|p| p.policy).unwrap_or_else(|e| panic!("{e:?}"));
        (source, policy)
    }

    fn user(id: &str, email: &str, groups: &[&str]) -> User {
        User {
            id: id.into(),
            email: Some(email.into()),
            group: Some(groups.iter().copied().collect::<Set>()),
            status: Some(Status::Active),
            ..User::default()
        }
    }

    /// Users whose `group` holds ids and `group_name` the names, in no
    /// particular order.
    fn named() -> Vec<User> {
        let mut a = user("u1", "a@x.example", &["g-7", "g-1"]);
        a.group_name = Some(["Staff", "Contractors"].into_iter().collect());
        let mut b = user("u2", "b@x.example", &["g-1", "g-2"]);
        b.group_name = Some(["contractors", "Readers"].into_iter().collect());
        let mut c = user("u3", "c@x.example", &["g-2", "g-7"]);
        c.group_name = Some(["Readers", "Staff"].into_iter().collect());
        vec![a, b, c]
    }

    #[test]
    fn a_group_s_name_is_told_apart_and_offered_its_id() {
        let w = run("group in [contractors] -> keep\n", &named());
        assert_eq!(
            w,
            [
                "dormant::group_name_not_id at \"contractors\": its id is `g-1`: write `group in [g-1]`, \
              or match the name with `group_name in [contractors]`"
            ]
        );
        // One user with the name and nobody without it: every id they have.
        let lone = &named()[..1];
        let w = run("group in [contractors] -> keep\n", lone);
        assert!(w[0].contains("its id is one of `g-1`, `g-7`"), "{w:?}");
        // A name on `group_name` itself is no mistake; a misspelt one is.
        assert!(run("group_name in [contractors] -> keep\n", &named()).is_empty());
        let w = run("group_name in [contractor] -> keep\n", &named());
        assert_eq!(
            w,
            ["dormant::no_such_value at \"contractor\": did you mean `Contractors`?"]
        );
    }

    fn users() -> Vec<User> {
        vec![
            user("u1", "hugo@city.example", &["publishers"]),
            user("u2", "ana@city.example", &["admins", "publishers"]),
        ]
    }

    /// Each warning as `code at "underlined text": help`.
    fn run(text: &str, users: &[User]) -> Vec<String> {
        let (source, p) = policy(text);
        warnings(&p, &Summary::of(&p, users))
            .iter()
            .map(|d| {
                format!(
                    "{} at {:?}: {}",
                    d.code.as_str(),
                    source.text.get(d.span.start..d.span.end).unwrap_or(""),
                    d.help.as_deref().unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn an_exemption_that_names_nobody_gets_the_closest_name() {
        let w = run(
            "exempt \"hugo@city.exmple\" \"sabbatical\"\nis_admin -> keep\n",
            &users(),
        );
        assert_eq!(
            w,
            ["dormant::exemption_names_nobody at \"\\\"hugo@city.exmple\\\"\": did you mean `hugo@city.example`?"]
        );
    }

    #[test]
    fn the_closest_name_of_all_the_users_is_offered() {
        let mut us: Vec<User> = (0..500)
            .map(|i| user(&format!("u{i}"), &format!("hugo{i}@city.example"), &[]))
            .collect();
        us.push(user("u-last", "hugo@city.example", &[]));
        let w = run("exempt \"HUGO@city.exmple\" \"x\"\nis_admin -> keep\n", &us);
        assert_eq!(
            w,
            ["dormant::exemption_names_nobody at \"\\\"HUGO@city.exmple\\\"\": did you mean `hugo@city.example`?"]
        );
    }

    proptest::proptest! {
        /// The sketch passes over no name that is close enough.
        #[test]
        fn a_close_name_always_passes_the_sketch(a in "[a-z@.]{0,12}", b in "[a-zA-Z@.]{0,12}") {
            let d = strsim::damerau_levenshtein(&a, &b.to_lowercase());
            proptest::prop_assert!(distance(&sketch(&a), &sketch(&b)) <= 2 * d);
        }
    }

    #[test]
    fn an_exemption_matches_ignoring_case_and_by_id() {
        let text = "exempt \"HUGO@city.example\" \"x\"\nexempt \"U2\" \"y\"\nis_admin -> keep\n";
        assert!(run(text, &users()).is_empty());
    }

    #[test]
    fn a_value_no_user_has_gets_the_closest_value() {
        let w = run("group in [publisher, Admins] -> keep\n", &users());
        assert_eq!(
            w,
            ["dormant::no_such_value at \"publisher\": did you mean `publishers`?"]
        );
    }

    #[test]
    fn a_value_with_nothing_near_lists_the_values() {
        let w = run("role in [owner] -> keep\ngroup in [contractors] -> keep\n", &users());
        assert_eq!(
            w,
            ["dormant::no_such_value at \"contractors\": the users' values of `group` are: admins, publishers"]
        );
    }

    #[test]
    fn case_is_ignored_as_the_evaluator_ignores_it() {
        let us = [user("u1", "a@x.example", &["\u{212A}ilo", "ÉQUIPE", "Admins"])];
        assert!(run("group in [kilo, \"équipe\", ADMINS] -> keep\n", &us).is_empty());
        assert_eq!(run("group in [kilos] -> keep\n", &us).len(), 1);
    }

    #[test]
    fn a_long_list_is_looked_up_not_scanned() {
        let names: Vec<String> = (0..2000).map(|i| format!("g{i}")).collect();
        let us: Vec<User> = names
            .chunks(3)
            .enumerate()
            .map(|(i, c)| {
                let c: Vec<&str> = c.iter().map(String::as_str).collect();
                user(&format!("u{i}"), "x@x.example", &c)
            })
            .collect();
        let text = format!("group in [{}, G1999, g1999x] -> keep\n", names.join(", "));
        let w = run(&text, &us);
        assert_eq!(w, ["dormant::no_such_value at \"g1999x\": did you mean `g1999`?"]);
    }

    #[test]
    fn status_is_compared_too() {
        let w = run("status == invited -> keep\nstatus != active -> keep\n", &users());
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("dormant::no_such_value at \"invited\""), "{w:?}");
    }

    #[test]
    fn a_field_nobody_knows_is_not_warned_about() {
        let mut us = users();
        for u in &mut us {
            u.group = None;
        }
        assert!(run("group in [nothing] -> keep\n", &us).is_empty());
        assert!(run("group in [nothing] -> keep\n", &[]).is_empty());
    }

    #[test]
    fn a_pattern_that_matches_nobody_gets_the_closest_domain() {
        let w = run(
            "email matches \"*@city.exmple\" -> keep\nemail matches \"ana*\" -> keep\n",
            &users(),
        );
        assert_eq!(
            w,
            ["dormant::pattern_matches_nobody at \"\\\"*@city.exmple\\\"\": did you mean \"*@city.example\"?"]
        );
    }

    #[test]
    fn a_regular_expression_is_offered_its_glob() {
        let w = run("email matches \".*@city\\\\.example\" -> keep\n", &users());
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("dormant::pattern_looks_like_regex"), "{w:?}");
        assert!(w[0].ends_with("`email matches \"*@city.example\"`"), "{w:?}");
    }

    #[test]
    fn regex_shapes_and_globs_told_apart() {
        for regex in [".*@x", "^ana", "ana$", "a\\.b", "[a-z]*", "(a|b)", "a.+"] {
            assert!(looks_like_regex(regex), "{regex}");
        }
        for glob in ["*@vendor.example", "ana*", "a?c", "$", "x.y"] {
            assert!(!looks_like_regex(glob), "{glob}");
        }
        assert_eq!(glob_form("^.*@vendor\\.example$").as_deref(), Some("*@vendor.example"));
        assert_eq!(glob_form("a.b").as_deref(), Some("a?b"));
        assert_eq!(glob_form("[a-z]+"), None);
    }

    #[test]
    fn lets_are_looked_at_once() {
        let w = run(
            "let staff = group in [publisher]\nstaff -> keep\nnot staff -> keep\n",
            &users(),
        );
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
