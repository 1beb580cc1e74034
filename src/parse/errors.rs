//! Pest errors in words: "expected a comparison operator, found `=`" rather
//! than a list of grammar rule names.

use super::grammar::Rule;
use crate::diagnostic::{Code, Diag};
use crate::source::Span;
use pest::error::{Error, ErrorVariant, InputLocation};

/// What each user-facing rule is called in a message, in the order the
/// names are listed. Rules not named here are never reported on their own.
const NAMES: &[(Rule, &str)] = &[
    (Rule::cmp_op, "a comparison operator (==, !=, <, <=, >, >=)"),
    (Rule::kw_in, "`in`"),
    (Rule::kw_matches, "`matches`"),
    (Rule::op_and, "`and`"),
    (Rule::op_or, "`or`"),
    (Rule::arrow, "`->`"),
    (Rule::action, "an action: keep, notify, deactivate or delete"),
    (Rule::kw_after, "`after notice DURATION`"),
    (Rule::notice, "`after notice DURATION`"),
    (Rule::kw_notice, "`notice`"),
    (Rule::colon, "`:`"),
    (Rule::equals, "`=`"),
    (Rule::name, "a name"),
    (Rule::limit_amount, "a number or a percentage (50 or 5%)"),
    (Rule::number, "a number"),
    (Rule::percent, "`%`"),
    (Rule::kw_until, "`until DATE`"),
    (Rule::lbracket, "a list such as [admins, publishers]"),
    (Rule::list, "a list such as [admins, publishers]"),
    (Rule::comma, "`,`"),
    (Rule::rbracket, "`]`"),
    (Rule::rparen, "`)`"),
];

const VALUE: &[Rule] = &[
    Rule::time_lit,
    Rule::date_lit,
    Rule::duration_lit,
    Rule::number_lit,
    Rule::bad_literal,
    Rule::bool_lit,
    Rule::word,
];
const CONDITION: &[Rule] = &[
    Rule::op_not,
    Rule::lparen,
    Rule::field,
    Rule::expr,
    Rule::group,
    Rule::predicate,
];
const STATEMENT: &[Rule] = &[
    Rule::kw_let,
    Rule::kw_limit,
    Rule::kw_exempt,
    Rule::rule_label,
    Rule::let_stmt,
    Rule::limit_stmt,
    Rule::exempt_stmt,
    Rule::rule_stmt,
];

pub(super) fn syntax_error(text: &str, err: Error<Rule>) -> Diag {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let positives = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { message } => {
            // Pest's own guards ("stack limit reached", "call limit
            // reached"): the text nests or repeats beyond what the parser
            // can read. The scan refuses deep nesting before pest runs, so
            // this is a last resort.
            let (_, span) = token_at(text, pos);
            return Diag::error(
                Code::TooDeep,
                span,
                format!("the policy is too complex to read here ({message})"),
            )
            .label("the parser stopped here")
            .help(format!(
                "conditions nest at most {} deep (each `(` and each `not` is a level): write it flatter",
                crate::limits::MAX_NESTING
            ));
        }
    };
    let (found, span) = token_at(text, pos);
    let expected = describe(&positives);
    Diag::error(Code::Syntax, span, format!("expected {expected}, found {found}"))
        .label(format!("unexpected {found}"))
        .help_opt(hint(text.get(span.start..span.end).unwrap_or(""), &positives))
}

/// The expected things, collapsed into groups a person recognises.
fn describe(positives: &[Rule]) -> String {
    let has = |r: Rule| positives.contains(&r);
    let mut parts: Vec<&str> = Vec::new();
    for (rule, name) in NAMES {
        if has(*rule) && !parts.contains(name) {
            parts.push(name);
        }
    }
    if VALUE.iter().any(|r| has(*r)) {
        parts.push("a value (a word, \"text\", a number, a date or a duration)");
    } else if has(Rule::string) {
        parts.push("\"quoted text\"");
    }
    if STATEMENT.iter().any(|r| has(*r)) {
        parts.push("a new statement (`let`, `limit`, `exempt` or a rule)");
    } else if CONDITION.iter().any(|r| has(*r)) {
        parts.push("a condition (a field, a `let` name, `not` or `(`)");
    }
    if has(Rule::EOI) && parts.is_empty() {
        parts.push("end of file");
    }
    match parts.as_slice() {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at `pos` and its span, for "found ...".
fn token_at(text: &str, pos: usize) -> (String, Span) {
    let rest = text.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("end of file".to_string(), Span::new(pos, pos));
    };
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || "_-.:%@".contains(c)))
            .unwrap_or(rest.len())
    } else if ["->", "==", "!=", "<=", ">=", "&&", "||"]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        2
    } else {
        first.len_utf8()
    };
    let token = rest.get(..len).unwrap_or("");
    let shown: String = token
        .chars()
        .map(|c| if c.is_control() { char::REPLACEMENT_CHARACTER } else { c })
        .collect();
    (format!("`{shown}`"), Span::new(pos, pos + len))
}

/// A fix for the mistakes people make most.
fn hint(found: &str, positives: &[Rule]) -> Option<String> {
    let has = |r: Rule| positives.contains(&r);
    let hint = match found {
        "=" if has(Rule::cmp_op) => "use `==` to compare",
        "&&" => "write `and` instead of `&&`",
        "||" => "write `or` instead of `||`",
        "!" => "write `not CONDITION`, or `!=` to compare",
        "'" => "strings take double quotes: \"text\"",
        ":" => "rule names cannot be keywords (let, limit, exempt, until, and, or, not, in, matches, after, notice, true, false)",
        "->" if CONDITION.iter().any(|r| has(*r)) => "a rule needs a condition before `->`",
        _ if has(Rule::equals) => "a named condition reads `let NAME = CONDITION`",
        _ if has(Rule::lbracket) || has(Rule::list) => "`in` takes a list in brackets: `group in [admins, publishers]`",
        _ if has(Rule::action) => "a rule ends with `-> ACTION`, where ACTION is keep, notify, deactivate or delete",
        _ if has(Rule::kw_notice) => "a notice period reads `after notice 30d`",
        _ if has(Rule::number) || has(Rule::limit_amount) => "a limit reads `limit ACTION N` or `limit ACTION P%`",
        _ if has(Rule::kw_until) => "an exemption reads `exempt \"WHO\" [until DATE] \"REASON\"`",
        _ if has(Rule::string) && positives.len() == 1 => "`matches` takes a quoted pattern: `email matches \"*@example.org\"`",
        "" if has(Rule::arrow) => "every rule ends with `-> ACTION`",
        _ if found.contains('@') => "put text that contains spaces or symbols in double quotes: \"ana@example.org\"",
        _ if has(Rule::arrow) && found.starts_with(|c: char| c.is_alphabetic()) => {
            "join conditions with `and` or `or`, or end the rule with `-> ACTION`"
        }
        _ => return None,
    };
    Some(hint.to_string())
}
