//! How deep and how large a condition is once every `let` name in it is
//! written out as its condition, which is how the program compiles and
//! evaluates it (`limits::MAX_NESTING`, `limits::MAX_EXPANDED`). The
//! parser bounds what is written; a `let` name stands for its whole
//! condition, so names used inside names can nest deeper, and grow larger,
//! than any one statement shows.

use super::Checker;
use crate::ast::{Expr, ExprKind};
use crate::diagnostic::{Code, Diag};
use crate::limits::{MAX_EXPANDED, MAX_NESTING};
use crate::source::Spanned;

/// A condition's depth in levels (`(`, `not`, a `let` name) and its size in
/// parts, with `let` names written out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Measure {
    pub nesting: usize,
    pub size: usize,
}

impl<'p> Checker<'p> {
    /// The measure of a `let` defined above the statement being checked
    /// and free of errors; `None` for anything else (a field).
    fn let_measure(&self, name: &str) -> Option<Measure> {
        self.lets
            .get(name)
            .filter(|info| info.index < self.current && !info.broken)
            .and_then(|info| info.measure)
    }

    pub(super) fn measure(&self, e: &Expr) -> Measure {
        let leaf = Measure { nesting: 0, size: 1 };
        // A `let` name: one level and one part more than its condition;
        // compared with true or false, one more of each for the `not`.
        let named = |name: &Spanned<String>, extra: usize| {
            self.let_measure(&name.node).map_or(leaf, |m| Measure {
                nesting: m.nesting.saturating_add(1 + extra),
                size: m.size.saturating_add(1 + extra),
            })
        };
        match &e.kind {
            ExprKind::Or(ops) | ExprKind::And(ops) => ops.iter().fold(Measure { nesting: 0, size: 1 }, |acc, op| {
                let m = self.measure(op);
                Measure {
                    nesting: acc.nesting.max(m.nesting),
                    size: acc.size.saturating_add(m.size),
                }
            }),
            ExprKind::Not(inner) => {
                let m = self.measure(inner);
                Measure {
                    nesting: m.nesting.saturating_add(1),
                    size: m.size.saturating_add(1),
                }
            }
            ExprKind::Paren(inner) => {
                let m = self.measure(inner);
                Measure {
                    nesting: m.nesting.saturating_add(1),
                    size: m.size,
                }
            }
            ExprKind::Ref(name) => named(name, 0),
            ExprKind::Cmp { field, .. } => named(field, 1),
            ExprKind::In { .. } | ExprKind::Matches { .. } => leaf,
        }
    }

    /// Measures a condition that checked clean, and reports it if it is
    /// too deep, or if it takes the policy past its size. Returns the
    /// measure, or `None` when it reported.
    pub(super) fn limits(&mut self, e: &Expr) -> Option<Measure> {
        let m = self.measure(e);
        if m.nesting > MAX_NESTING {
            let diag = match self.too_deep_at(e, 0) {
                Some((name, depth)) => {
                    let d = Diag::error(
                        Code::TooDeep,
                        name.span,
                        format!(
                            "this condition nests more than {MAX_NESTING} deep once `{}` is written out",
                            name.node
                        ),
                    )
                    .label(format!("`{}` stands for a condition {depth} levels deep", name.node));
                    match self.lets.get(name.node.as_str()) {
                        Some(info) => d.related(info.span, "defined here"),
                        None => d,
                    }
                }
                None => Diag::error(
                    Code::TooDeep,
                    e.span,
                    format!("this condition nests more than {MAX_NESTING} deep"),
                )
                .label("too deep"),
            };
            self.report(diag.help(format!(
                "each `(`, each `not` and each use of a `let` name opens a level, and a `let` name counts the levels \
                 of its condition too; conditions nest at most {MAX_NESTING} deep: write them flatter"
            )));
            return None;
        }
        self.expanded = self.expanded.saturating_add(m.size);
        if self.expanded > MAX_EXPANDED && !self.too_large {
            self.too_large = true;
            let (span, label) = match self.largest_name(e) {
                Some((name, size)) => (name.span, format!("`{}` alone stands for {size} parts", name.node)),
                None => (e.span, "the policy passes the limit here".to_string()),
            };
            self.report(
                Diag::error(
                    Code::TooLarge,
                    span,
                    format!(
                        "the policy is too large: with every `let` name written out as its condition, its \
                         conditions have more than {MAX_EXPANDED} parts"
                    ),
                )
                .label(label)
                .help(
                    "conditions are compiled with every `let` name written out; a `let` that uses another one \
                     several times multiplies its size: use each name once, or simplify the conditions",
                ),
            );
            return None;
        }
        Some(m)
    }

    /// The first `let` name in `e` (which sits `base` levels deep) whose
    /// condition takes it past the nesting limit, and the depth it stands for.
    fn too_deep_at<'e>(&self, e: &'e Expr, base: usize) -> Option<(&'e Spanned<String>, usize)> {
        let named = |name: &'e Spanned<String>, extra: usize| {
            let m = self.let_measure(&name.node)?;
            let depth = m.nesting.saturating_add(1 + extra);
            (base.saturating_add(depth) > MAX_NESTING).then_some((name, depth))
        };
        match &e.kind {
            ExprKind::Or(ops) | ExprKind::And(ops) => ops.iter().find_map(|op| self.too_deep_at(op, base)),
            ExprKind::Not(inner) | ExprKind::Paren(inner) => self.too_deep_at(inner, base + 1),
            ExprKind::Ref(name) => named(name, 0),
            ExprKind::Cmp { field, .. } => named(field, 1),
            ExprKind::In { .. } | ExprKind::Matches { .. } => None,
        }
    }

    /// The `let` name in `e` that stands for the largest condition.
    fn largest_name<'e>(&self, e: &'e Expr) -> Option<(&'e Spanned<String>, usize)> {
        let named = |name: &'e Spanned<String>| Some((name, self.let_measure(&name.node)?.size));
        match &e.kind {
            ExprKind::Or(ops) | ExprKind::And(ops) => ops.iter().filter_map(|op| self.largest_name(op)).fold(
                None,
                |best: Option<(&Spanned<String>, usize)>, x| match best {
                    Some(b) if b.1 >= x.1 => Some(b),
                    _ => Some(x),
                },
            ),
            ExprKind::Not(inner) | ExprKind::Paren(inner) => self.largest_name(inner),
            ExprKind::Ref(name) | ExprKind::Cmp { field: name, .. } => named(name),
            ExprKind::In { .. } | ExprKind::Matches { .. } => None,
        }
    }
}
