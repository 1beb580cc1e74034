//! Stage 1: policy text → AST. Pest stays inside this module: pairs become
//! AST nodes right away, and pest errors become a `Diag` that says in words
//! what was expected.

use crate::ast::{
    CmpOp, Duration, Exempt, Expr, ExprKind, Let, Limit, Lit, Policy, Rule as RuleStmt, Stmt, TimeLit, Unit,
};
use crate::diagnostic::{Code, Diag};
use crate::source::{Source, Span, Spanned};
use chrono::{DateTime, NaiveDate, Utc};
use pest::iterators::{Pair, Pairs};
use pest::Parser as _;

mod errors;
mod scan;

pub use scan::Comment;

mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/dormant.pest"]
    pub struct Grammar;
}
use grammar::{Grammar, Rule};

/// A parsed policy with the comments the grammar skips (the formatter keeps them).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub policy: Policy,
    pub comments: Vec<Comment>,
}

/// Parses a policy file. A syntax error is one diagnostic: the parser stops
/// there, because everything after it would be guesswork.
pub fn parse(source: &Source) -> Result<Parsed, Diag> {
    let unmarked;
    let text: &str = match source.text.strip_prefix(crate::source::BOM) {
        // A byte order mark is read as white space of its length, so that
        // every span is still a span of the file's text.
        Some(rest) => {
            unmarked = format!("{}{rest}", " ".repeat(crate::source::BOM.len_utf8()));
            &unmarked
        }
        None => &source.text,
    };
    let comments = scan::scan(text)?;
    let mut pairs = Grammar::parse(Rule::policy, text).map_err(|e| errors::syntax_error(text, e))?;
    let root = pairs.next().ok_or_else(|| internal(Span::default()))?;
    let cx = &Cx {
        text,
        comments: &comments,
    };
    let mut statements = Vec::new();
    for pair in root.into_inner() {
        match pair.as_rule() {
            Rule::let_stmt => statements.push(Stmt::Let(let_stmt(cx, pair)?)),
            Rule::limit_stmt => statements.push(Stmt::Limit(limit_stmt(cx, pair)?)),
            Rule::exempt_stmt => statements.push(Stmt::Exempt(exempt_stmt(cx, pair)?)),
            Rule::rule_stmt => statements.push(Stmt::Rule(rule_stmt(cx, pair)?)),
            _ => {}
        }
    }
    Ok(Parsed {
        policy: Policy { statements },
        comments,
    })
}

/// What span computations need: pest's span of a non-atomic rule runs on
/// over the whitespace and comments skipped after its last token, which
/// would put them under diagnostics' underlines and inside statements.
struct Cx<'t> {
    text: &'t str,
    comments: &'t [Comment],
}

impl Cx<'_> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let mut end = s.end();
        loop {
            let trimmed = self.text.get(s.start()..end).map_or(0, |t| t.trim_end().len());
            end = s.start() + trimmed;
            // Comments are in source order and do not overlap: their ends
            // increase, and the one ending here is found by bisection.
            let at = self.comments.partition_point(|c| c.span.end < end);
            match self
                .comments
                .get(at)
                .filter(|c| c.span.end == end && c.span.start >= s.start())
            {
                Some(c) => end = c.span.start,
                None => break,
            }
        }
        Span::new(s.start(), end)
    }

    fn spanned_str(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(pair.as_str().trim_end().to_string(), self.span(pair))
    }
}

/// The grammar guarantees the shapes this module reads; a mismatch is a bug,
/// reported as an error rather than a panic.
fn internal(span: Span) -> Diag {
    Diag::error(Code::Syntax, span, "internal parser error: unexpected parse tree")
        .help("please report this policy as a bug")
}

/// Children of a pair, skipping punctuation that only matters to the grammar.
fn children<'a>(pair: Pair<'a, Rule>) -> impl Iterator<Item = Pair<'a, Rule>> {
    pair.into_inner().filter(|p| {
        !matches!(
            p.as_rule(),
            Rule::kw_let
                | Rule::kw_limit
                | Rule::kw_exempt
                | Rule::kw_until
                | Rule::kw_after
                | Rule::kw_notice
                | Rule::kw_in
                | Rule::kw_matches
                | Rule::equals
                | Rule::colon
                | Rule::arrow
                | Rule::comma
                | Rule::lparen
                | Rule::rparen
                | Rule::lbracket
                | Rule::rbracket
        )
    })
}

fn next<'a>(it: &mut impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Result<Pair<'a, Rule>, Diag> {
    it.next().ok_or_else(|| internal(span))
}

fn let_stmt(cx: &Cx<'_>, pair: Pair<'_, Rule>) -> Result<Let, Diag> {
    let span = cx.span(&pair);
    let mut it = children(pair);
    let name = cx.spanned_str(&next(&mut it, span)?);
    let expr = expr(cx, next(&mut it, span)?.into_inner())?;
    Ok(Let { name, expr, span })
}

fn limit_stmt(cx: &Cx<'_>, pair: Pair<'_, Rule>) -> Result<Limit, Diag> {
    let span = cx.span(&pair);
    let mut it = children(pair);
    let action = cx.spanned_str(&next(&mut it, span)?);
    let amount_pair = next(&mut it, span)?;
    let amount_span = cx.span(&amount_pair);
    let mut parts = amount_pair.into_inner();
    let number = next(&mut parts, span)?;
    let amount = number.as_str().parse::<f64>().map_err(|_| internal(amount_span))?;
    let percent = parts.next().is_some();
    Ok(Limit {
        action,
        amount: Spanned::new(amount, cx.span(&number)),
        percent,
        span,
    })
}

fn exempt_stmt(cx: &Cx<'_>, pair: Pair<'_, Rule>) -> Result<Exempt, Diag> {
    let span = cx.span(&pair);
    let items: Vec<Pair<'_, Rule>> = children(pair).collect();
    let (who, until, reason) = match items.as_slice() {
        [who, reason] => (who, None, reason),
        [who, until, reason] => (who, Some(value(cx, until)), reason),
        _ => return Err(internal(span)),
    };
    Ok(Exempt {
        who: string(cx, who),
        until,
        reason: string(cx, reason),
        span,
    })
}

fn rule_stmt(cx: &Cx<'_>, pair: Pair<'_, Rule>) -> Result<RuleStmt, Diag> {
    let span = cx.span(&pair);
    let mut it = children(pair).peekable();
    let name = match it.peek() {
        Some(p) if p.as_rule() == Rule::rule_label => {
            let label = next(&mut it, span)?;
            Some(cx.spanned_str(&next(&mut children(label), span)?))
        }
        _ => None,
    };
    let cond = expr(cx, next(&mut it, span)?.into_inner())?;
    let action = cx.spanned_str(&next(&mut it, span)?);
    let notice = match it.next() {
        Some(notice) => Some(value(cx, &next(&mut children(notice), span)?)),
        None => None,
    };
    Ok(RuleStmt {
        name,
        cond,
        action,
        notice,
        span,
    })
}

/// A condition: `not` binds tighter than `and`, `and` tighter than `or`,
/// and chains of one operator are flat (`a or b or c` is one `Or`). Built
/// in one pass over the operands, recursing only into parentheses: a
/// condition nests up to `limits::MAX_NESTING` deep, and each level costs
/// stack.
fn expr(cx: &Cx<'_>, pairs: Pairs<'_, Rule>) -> Result<Expr, Diag> {
    let mut ors: Vec<Expr> = Vec::new();
    let mut ands: Vec<Expr> = Vec::new();
    let mut nots: Vec<Span> = Vec::new();
    let mut last = Span::default();
    for pair in pairs {
        match pair.as_rule() {
            Rule::op_not => nots.push(cx.span(&pair)),
            Rule::op_and => {}
            Rule::op_or => ors.extend(chain(std::mem::take(&mut ands), ExprKind::And)),
            _ => {
                last = cx.span(&pair);
                let mut e = primary(cx, pair)?;
                while let Some(op) = nots.pop() {
                    let span = op.to(e.span);
                    e = Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span,
                    };
                }
                ands.push(e);
            }
        }
    }
    ors.extend(chain(ands, ExprKind::And));
    chain(ors, ExprKind::Or).ok_or_else(|| internal(last))
}

/// One operand alone, or the chain of them.
fn chain(mut operands: Vec<Expr>, kind: fn(Vec<Expr>) -> ExprKind) -> Option<Expr> {
    if operands.len() <= 1 {
        return operands.pop();
    }
    let span = match (operands.first(), operands.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => Span::default(),
    };
    Some(Expr {
        kind: kind(operands),
        span,
    })
}

fn primary(cx: &Cx<'_>, pair: Pair<'_, Rule>) -> Result<Expr, Diag> {
    let span = cx.span(&pair);
    match pair.as_rule() {
        Rule::group => {
            let inner = next(&mut children(pair), span)?;
            Ok(Expr {
                kind: ExprKind::Paren(Box::new(expr(cx, inner.into_inner())?)),
                span,
            })
        }
        Rule::predicate => predicate(cx, pair),
        _ => Err(internal(span)),
    }
}

fn predicate(cx: &Cx<'_>, pair: Pair<'_, Rule>) -> Result<Expr, Diag> {
    let span = cx.span(&pair);
    let mut inner = pair.into_inner();
    let field = cx.spanned_str(&next(&mut inner, span)?);
    let Some(op) = inner.next() else {
        return Ok(Expr {
            kind: ExprKind::Ref(field),
            span,
        });
    };
    let rhs = next(&mut inner, span)?;
    let kind = match op.as_rule() {
        Rule::cmp_op => ExprKind::Cmp {
            field,
            op: Spanned::new(cmp_op(op.as_str()).ok_or_else(|| internal(span))?, cx.span(&op)),
            value: value(cx, &rhs),
        },
        Rule::kw_in => {
            let list_span = cx.span(&rhs);
            let items = children(rhs).map(|p| value(cx, &p)).collect();
            ExprKind::In {
                field,
                list: Spanned::new(items, list_span),
            }
        }
        Rule::kw_matches => ExprKind::Matches {
            field,
            pattern: string(cx, &rhs),
        },
        _ => return Err(internal(span)),
    };
    Ok(Expr { kind, span })
}

fn cmp_op(s: &str) -> Option<CmpOp> {
    Some(match s {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        _ => return None,
    })
}

/// A quoted string, unescaped (`\"` and `\\`; any other backslash stays).
fn string(cx: &Cx<'_>, pair: &Pair<'_, Rule>) -> Spanned<String> {
    let body = pair.clone().into_inner().next().map_or("", |p| p.as_str());
    Spanned::new(unescape(body), cx.span(pair))
}

fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn value(cx: &Cx<'_>, pair: &Pair<'_, Rule>) -> Spanned<Lit> {
    let text = pair.as_str();
    let bad = || Lit::Bad(text.to_string());
    let lit = match pair.as_rule() {
        Rule::time_lit => DateTime::parse_from_rfc3339(text).map_or_else(
            |_| bad(),
            |t| {
                Lit::Time(TimeLit {
                    at: t.with_timezone(&Utc),
                    date_only: false,
                })
            },
        ),
        Rule::date_lit => parse_date(text).map_or_else(bad, |at| Lit::Time(TimeLit { at, date_only: true })),
        Rule::duration_lit => parse_duration(text).map_or_else(bad, Lit::Duration),
        Rule::number_lit => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map_or_else(bad, Lit::Number),
        Rule::string => Lit::Str(string(cx, pair).node),
        Rule::bool_lit => Lit::Bool(text == "true"),
        Rule::word => Lit::Word(text.to_string()),
        _ => bad(),
    };
    Spanned::new(lit, cx.span(pair))
}

/// `YYYY-MM-DD` as 00:00 UTC of that day.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

fn parse_duration(text: &str) -> Option<Duration> {
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    let (count, unit) = text.split_at_checked(digits)?;
    Some(Duration {
        count: count.parse().ok()?,
        unit: Unit::parse(unit)?,
    })
}

#[cfg(test)]
mod tests;
