//! The canonical layout of a policy (`dormant fmt`): one statement per line
//! (long conditions wrapped at their top-level `and`/`or`), rule names of a
//! block aligned, single spaces, at most one blank line, and every comment
//! kept on the line it was on. Formatting is idempotent, and the formatted
//! text parses to the same AST.

use crate::ast::{Exempt, Expr, ExprKind, Limit, Lit, Rule, Stmt};
use crate::parse::{Comment, Parsed};
use chrono::SecondsFormat;

/// Lines longer than this are wrapped where the condition allows it.
pub const WIDTH: usize = 100;

/// Formats a parsed policy. `text` is the source it was parsed from (for comments).
pub fn format(text: &str, parsed: &Parsed) -> String {
    let items = items(text, parsed);
    let widths = label_widths(&items);
    let mut out = String::new();
    for (item, width) in items.iter().zip(widths) {
        match item {
            Item::Blank => out.push('\n'),
            Item::Comment(c) => {
                out.push_str(comment_text(text, c));
                out.push('\n');
            }
            Item::Stmt(stmt, comments) => {
                let first_comment = comments.iter().map(|c| c.span.start).min();
                for line in attach(statement_lines(stmt, width, first_comment), comments, text) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// A top-level piece of the file, in source order.
enum Item<'a> {
    Stmt(&'a Stmt, Vec<&'a Comment>),
    Comment(&'a Comment),
    Blank,
}

fn items<'a>(text: &str, parsed: &'a Parsed) -> Vec<Item<'a>> {
    let stmts = &parsed.policy.statements;
    let mut attached: Vec<Vec<&Comment>> = vec![Vec::new(); stmts.len()];
    let mut pieces: Vec<(usize, usize, Option<usize>)> = Vec::new(); // (start, end, statement index)
    let mut standalone = Vec::new();
    // Statements are in source order and do not overlap: their starts and
    // ends both increase, and a comment finds its statement by bisection.
    for c in &parsed.comments {
        let before = stmts.partition_point(|s| s.span().start <= c.span.start);
        let inside = before
            .checked_sub(1)
            .filter(|&i| stmts.get(i).is_some_and(|s| c.span.start < s.span().end));
        // A comment after a statement on the same line belongs to it.
        let trailing = || {
            (!c.own_line)
                .then(|| stmts.partition_point(|s| s.span().end <= c.span.start).checked_sub(1))
                .flatten()
        };
        match inside.or_else(trailing) {
            Some(i) => attached.get_mut(i).into_iter().for_each(|v| v.push(c)),
            None => standalone.push(c),
        }
    }
    for (i, s) in stmts.iter().enumerate() {
        let end = attached
            .get(i)
            .and_then(|v| v.iter().map(|c| c.span.end).max())
            .unwrap_or(0);
        pieces.push((s.span().start, s.span().end.max(end), Some(i)));
    }
    pieces.extend(standalone.iter().map(|c| (c.span.start, c.span.end, None)));
    pieces.sort_by_key(|p| p.0);

    let mut comments_by_stmt = attached.into_iter();
    let mut stmt_iter = stmts.iter();
    let mut standalone_iter = standalone.into_iter();
    let mut out = Vec::new();
    let mut prev_end: Option<usize> = None;
    for (start, end, stmt) in pieces {
        if let Some(prev) = prev_end {
            let gap = text.get(prev..start).unwrap_or("");
            if gap.matches('\n').count() >= 2 {
                out.push(Item::Blank);
            }
        }
        prev_end = Some(end);
        match stmt {
            Some(_) => {
                if let (Some(s), Some(cs)) = (stmt_iter.next(), comments_by_stmt.next()) {
                    out.push(Item::Stmt(s, cs));
                }
            }
            None => out.extend(standalone_iter.next().map(Item::Comment)),
        }
    }
    out
}

/// For each item, the width of the rule labels of its alignment block: the
/// run of rules not broken by a blank line or another kind of statement.
fn label_widths(items: &[Item<'_>]) -> Vec<usize> {
    let mut widths = vec![0; items.len()];
    let mut block: Vec<usize> = Vec::new();
    let flush = |block: &mut Vec<usize>, widths: &mut Vec<usize>| {
        let width = block
            .iter()
            .filter_map(|&i| match items.get(i) {
                Some(Item::Stmt(Stmt::Rule(r), _)) => r.name.as_ref().map(|n| n.node.chars().count() + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        for &i in block.iter() {
            if let Some(w) = widths.get_mut(i) {
                *w = width;
            }
        }
        block.clear();
    };
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Stmt(Stmt::Rule(_), _) => block.push(i),
            Item::Comment(_) => {}
            _ => flush(&mut block, &mut widths),
        }
    }
    flush(&mut block, &mut widths);
    widths
}

/// One output line: its text, and where in the source its first token was
/// (so that comments go back to the line they were on).
struct Line {
    text: String,
    from: usize,
}

/// `first_comment`: where the statement's first comment starts, if it has one.
fn statement_lines(stmt: &Stmt, label_width: usize, first_comment: Option<usize>) -> Vec<Line> {
    match stmt {
        Stmt::Let(l) => condition_lines(
            format!("let {} = ", l.name.node),
            &l.expr,
            String::new(),
            l.span.start,
            first_comment,
        ),
        Stmt::Rule(r) => rule_lines(r, label_width, first_comment),
        Stmt::Limit(l) => vec![Line {
            text: limit_text(l),
            from: l.span.start,
        }],
        Stmt::Exempt(e) => vec![Line {
            text: exempt_text(e),
            from: e.span.start,
        }],
    }
}

fn rule_lines(r: &Rule, label_width: usize, first_comment: Option<usize>) -> Vec<Line> {
    let header = match (&r.name, label_width) {
        (Some(name), w) => format!("{:<w$} ", format!("{}:", name.node)),
        (None, 0) => String::new(),
        (None, w) => " ".repeat(w + 1),
    };
    let mut tail = format!(" -> {}", r.action.node);
    if let Some(notice) = &r.notice {
        tail.push_str(&format!(" after notice {}", lit(&notice.node)));
    }
    condition_lines(header, &r.cond, tail, r.span.start, first_comment)
}

/// `header` + condition + `tail`, on one line when it fits and otherwise one
/// top-level operand per line, operands aligned after the header and the
/// operator hanging to their left (as in `let staff = a\n         or b`).
/// A comment before the last operand also wraps the condition, so that the
/// comment stays on its operand's line.
fn condition_lines(header: String, cond: &Expr, tail: String, from: usize, first_comment: Option<usize>) -> Vec<Line> {
    let one_line = format!("{header}{}{tail}", expr(cond));
    let (op, operands) = match &cond.kind {
        ExprKind::Or(ops) => ("or", ops),
        ExprKind::And(ops) => ("and", ops),
        _ => return vec![Line { text: one_line, from }],
    };
    let last_start = operands.last().map_or(from, |o| o.span.start);
    let wrap = first_comment.is_some_and(|c| c < last_start);
    if !wrap && one_line.chars().count() <= WIDTH {
        return vec![Line { text: one_line, from }];
    }
    // Operands start where the first one did; the operator hangs to their
    // left, so a header too short to hold it is padded.
    let col = header.chars().count().max(op.len() + 1);
    let header = format!("{header:<col$}");
    let lead = format!("{:>w$} ", op, w = col - 1);
    let mut lines: Vec<Line> = operands
        .iter()
        .enumerate()
        .map(|(i, operand)| Line {
            text: format!("{}{}", if i == 0 { &header } else { &lead }, expr(operand)),
            from: if i == 0 { from } else { operand.span.start },
        })
        .collect();
    if let Some(last) = lines.last_mut() {
        last.text.push_str(&tail);
    }
    lines
}

/// Puts each comment at the end of the line that holds the token before it.
fn attach(lines: Vec<Line>, comments: &[&Comment], text: &str) -> Vec<String> {
    let mut notes: Vec<Vec<&str>> = vec![Vec::new(); lines.len()];
    for c in comments {
        let at = lines.iter().rposition(|l| l.from <= c.span.start).unwrap_or(0);
        if let Some(v) = notes.get_mut(at) {
            v.push(comment_text(text, c));
        }
    }
    lines
        .into_iter()
        .zip(notes)
        .map(|(line, notes)| {
            if notes.is_empty() {
                line.text
            } else {
                format!("{}  {}", line.text, notes.join(" "))
            }
        })
        .collect()
}

fn comment_text<'t>(text: &'t str, c: &Comment) -> &'t str {
    text.get(c.span.start..c.span.end).unwrap_or("#").trim_end()
}

/// A condition on one line.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Or(ops) => ops.iter().map(expr).collect::<Vec<_>>().join(" or "),
        ExprKind::And(ops) => ops.iter().map(expr).collect::<Vec<_>>().join(" and "),
        ExprKind::Not(inner) => format!("not {}", expr(inner)),
        ExprKind::Paren(inner) => format!("({})", expr(inner)),
        ExprKind::Cmp { field, op, value } => format!("{} {} {}", field.node, op.node.as_str(), lit(&value.node)),
        ExprKind::In { field, list } => {
            let items: Vec<String> = list.node.iter().map(|i| lit(&i.node)).collect();
            format!("{} in [{}]", field.node, items.join(", "))
        }
        ExprKind::Matches { field, pattern } => format!("{} matches {}", field.node, quote(&pattern.node)),
        ExprKind::Ref(name) => name.node.clone(),
    }
}

/// A literal as the grammar reads it back.
pub fn lit(l: &Lit) -> String {
    match l {
        Lit::Number(n) => n.to_string(),
        Lit::Str(s) => quote(s),
        Lit::Word(w) | Lit::Bad(w) => w.clone(),
        Lit::Bool(b) => b.to_string(),
        Lit::Time(t) if t.date_only => t.at.format("%Y-%m-%d").to_string(),
        Lit::Time(t) => t.at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        Lit::Duration(d) => d.to_string(),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn limit_text(l: &Limit) -> String {
    format!(
        "limit {} {}{}",
        l.action.node,
        l.amount.node,
        if l.percent { "%" } else { "" }
    )
}

fn exempt_text(e: &Exempt) -> String {
    let until = e
        .until
        .as_ref()
        .map(|u| format!(" until {}", lit(&u.node)))
        .unwrap_or_default();
    format!("exempt {}{until} {}", quote(&e.who.node), quote(&e.reason.node))
}

#[cfg(test)]
mod tests;
