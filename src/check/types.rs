//! Type rules for conditions: which field can be compared with which value,
//! with which operator; and the explanation of malformed literals.

use super::Checker;
use crate::ast::{CmpOp, Duration, Expr, ExprKind, Lit, Unit};
use crate::diagnostic::{Code, Diag};
use crate::fields::{Field, Type, PREFIXES, STATUSES};
use crate::limits::MAX_DURATION_YEARS;
use crate::source::{Span, Spanned};
use crate::suggest;

impl<'p> Checker<'p> {
    /// Checks an expression used as a condition. Conditions nest up to
    /// `limits::MAX_NESTING` levels, so the recursive part is kept to the
    /// connectives, whose frames are small; comparisons are checked apart.
    pub(super) fn condition(&mut self, e: &'p Expr) {
        match &e.kind {
            ExprKind::Or(ops) | ExprKind::And(ops) => {
                for op in ops {
                    self.condition(op);
                }
            }
            ExprKind::Not(inner) | ExprKind::Paren(inner) => self.condition(inner),
            _ => self.comparison(e),
        }
    }

    /// A comparison, a bool field or a `let` name.
    fn comparison(&mut self, e: &'p Expr) {
        match &e.kind {
            ExprKind::Or(_) | ExprKind::And(_) | ExprKind::Not(_) | ExprKind::Paren(_) => self.condition(e),
            ExprKind::Ref(name) => {
                if let Some(ty) = self.resolve(name) {
                    if !matches!(ty, Type::Bool | Type::Any) {
                        self.report(not_a_condition(name, ty));
                    }
                }
            }
            ExprKind::Cmp { field, op, value } => {
                if let Lit::Bad(text) = &value.node {
                    self.resolve(field);
                    self.report(bad_literal(text, value.span));
                } else if let Some(ty) = self.resolve(field) {
                    match compare(field, ty, op, value) {
                        Err(d) => self.report(d),
                        Ok(()) => {
                            if let Some(d) = age_of_never(field, op, value) {
                                self.report(d);
                            }
                        }
                    }
                }
            }
            ExprKind::In { field, list } => {
                let ty = self.resolve(field);
                // SPEC section 3: an empty list is an error. It is never
                // true, so a rule with it under `and` never matches and a
                // protection written with it protects nobody.
                if list.node.is_empty() {
                    self.report(
                        Diag::error(
                            Code::EmptyList,
                            list.span,
                            format!("`{} in []` is never true: the list is empty", field.node),
                        )
                        .label("an empty list")
                        .help("write the values to look for, e.g. `group in [admins, publishers]`, or remove the comparison"),
                    );
                }
                for item in &list.node {
                    if let Lit::Bad(text) = &item.node {
                        self.report(bad_literal(text, item.span));
                    }
                }
                if let Some(ty) = ty {
                    if let Err(d) = membership(field, ty, list) {
                        self.report(d);
                    }
                }
            }
            ExprKind::Matches { field, .. } => {
                if let Some(ty) = self.resolve(field) {
                    if !matches!(ty, Type::Text | Type::Status | Type::Set | Type::Any) {
                        self.report(
                            Diag::error(
                                Code::TypeMismatch,
                                field.span,
                                format!("`matches` compares text, but `{}` is {}", field.node, ty.describe()),
                            )
                            .label(ty.describe())
                            .help(type_help(&field.node, ty)),
                        );
                    }
                }
            }
        }
    }

    /// The type of a name used in a condition: a field, or a `let` defined
    /// above. Reports unknown and not-yet-defined names.
    fn resolve(&mut self, name: &Spanned<String>) -> Option<Type> {
        let current = self.current;
        if let Some(info) = self.lets.get_mut(name.node.as_str()) {
            // Used, if wrongly: an "unused" warning would only repeat the error.
            info.used = true;
            if info.index < current {
                self.tainted |= info.broken;
                return Some(Type::Bool);
            }
            let defined = info.span;
            let message = if info.index == current {
                format!("`{}` refers to itself", name.node)
            } else {
                format!("`{}` is used before it is defined", name.node)
            };
            self.report(
                Diag::error(Code::UsedBeforeDefinition, name.span, message)
                    .label("used here")
                    .related(defined, "defined here")
                    .help("a `let` can only use fields and the `let` names defined above it; move its definition up"),
            );
            return None;
        }
        if let Some(field) = Field::lookup(&name.node) {
            return Some(field.ty());
        }
        let help = self.unknown_name_help(&name.node);
        // The misspelt name most likely meant a `let`: it is used, in intent.
        if let Some(info) = help
            .strip_prefix("did you mean `")
            .and_then(|h| h.strip_suffix("`?"))
            .and_then(|n| self.lets.get_mut(n))
        {
            info.used = true;
        }
        self.report(
            Diag::error(Code::UnknownField, name.span, format!("unknown field `{}`", name.node))
                .label("not a field or a `let` name")
                .help(help),
        );
        None
    }

    fn unknown_name_help(&mut self, name: &str) -> String {
        if PREFIXES.contains(&name) {
            return format!(
                "name the counter or attribute: `{name}.NAME`, e.g. `activity.courses_completed` or `attr.department`"
            );
        }
        if let Some((prefix, rest)) = name.split_once('.') {
            return match suggest::closest(prefix, PREFIXES.iter().copied()) {
                Some(p) if !rest.is_empty() => format!("did you mean `{p}.{rest}`?"),
                _ => "only `activity.NAME` and `attr.NAME` have a dot; the other fields are plain names".to_string(),
            };
        }
        let current = self.current;
        let candidates = self
            .names
            .iter()
            .filter(|(_, index)| index.is_none_or(|i| i < current))
            .map(|(n, _)| *n);
        suggest::closest_within(name, candidates, &mut self.suggestions_left)
            .map(|c| format!("did you mean `{c}`?"))
            .unwrap_or_else(|| {
                "fields are those of the user record (id, username, email, status, joined, last_login, group, ...), \
             `activity.NAME`, `attr.NAME`, or a `let` defined above"
                    .to_string()
            })
    }
}

/// `FIELD op VALUE`
fn compare(field: &Spanned<String>, ty: Type, op: &Spanned<CmpOp>, value: &Spanned<Lit>) -> Result<(), Diag> {
    let lit = &value.node;
    let equality = matches!(op.node, CmpOp::Eq | CmpOp::Ne);
    let fits = match (ty, lit) {
        (Type::Any, _) => true,
        (Type::Text | Type::Status, Lit::Str(_) | Lit::Word(_)) => {
            return if equality {
                status_value(ty, value)
            } else {
                Err(operator_error(
                    field,
                    ty,
                    op,
                    "text is compared only with `==` and `!=`; use `matches` for patterns",
                ))
            };
        }
        (Type::Bool, Lit::Bool(_)) => {
            return if equality {
                Ok(())
            } else {
                Err(operator_error(
                    field,
                    ty,
                    op,
                    "true and false are compared only with `==` and `!=`",
                ))
            };
        }
        (Type::Time, Lit::Time(_)) | (Type::Number, Lit::Number(_)) => true,
        (Type::Time | Type::Duration, Lit::Duration(_)) => true,
        (Type::Set, _) => {
            return Err(Diag::error(
                Code::TypeMismatch,
                op.span,
                format!("`{}` does not compare sets", op.node.as_str()),
            )
            .label(format!("`{}` is a set of words", field.node))
            .help(format!(
                "test membership with `in`: `{} in [{}]`",
                field.node,
                set_item(lit)
            )));
        }
        _ => false,
    };
    if !fits {
        return Err(mismatch(field, ty, value));
    }
    if let (false, Lit::Duration(d)) = (equality, lit) {
        duration_range(*d, value.span)?;
    }
    if equality && matches!(lit, Lit::Duration(_)) {
        return Err(Diag::error(
            Code::TypeMismatch,
            op.span,
            format!("`{}` cannot compare an age with a duration", op.node.as_str()),
        )
        .label("an age is never exactly a duration")
        .help(format!(
            "compare ages with `<`, `<=`, `>` or `>=`: `{} > {}`",
            field.node,
            lit_text(lit)
        )));
    }
    Ok(())
}

/// `last_login > 90d`: a user who never logged in has no login to be old,
/// so the comparison is unknown for them and they get `review`, where the
/// writer most likely meant them to match. `inactive` counts from `joined`
/// for them; `never_logged_in` names them.
fn age_of_never(field: &Spanned<String>, op: &Spanned<CmpOp>, value: &Spanned<Lit>) -> Option<Diag> {
    let Lit::Duration(d) = &value.node else { return None };
    let (who, instead) = match Field::lookup(&field.node)? {
        Field::LastLogin => (
            "never logged in",
            format!(
                "write `inactive {} {d}` (since the last login, or since joining for those who never logged in), \
             or name them with `never_logged_in`",
                op.node.as_str()
            ),
        ),
        Field::LastActivity => (
            "have no activity",
            "write `not has_activity` for users with no activity at all, or compare `last_activity` with a date"
                .to_string(),
        ),
        _ => return None,
    };
    let span = Span::new(field.span.start, value.span.end);
    Some(
        Diag::warning(
            Code::TimeVsNever,
            span,
            format!(
                "`{}` compared with a duration is unknown for users who {who}: their `{}` is never, which has no age",
                field.node, field.node
            ),
        )
        .label(format!("users who {who} get `review` here, not this rule"))
        .help(instead),
    )
}

/// `FIELD in [A, B, ...]`
fn membership(field: &Spanned<String>, ty: Type, list: &Spanned<Vec<Spanned<Lit>>>) -> Result<(), Diag> {
    let item_fits = |lit: &Lit| match ty {
        Type::Any => true,
        Type::Text | Type::Status | Type::Set => matches!(lit, Lit::Str(_) | Lit::Word(_)),
        Type::Number => matches!(lit, Lit::Number(_)),
        Type::Time | Type::Duration | Type::Bool => false,
    };
    if matches!(ty, Type::Time | Type::Duration | Type::Bool) {
        return Err(Diag::error(
            Code::TypeMismatch,
            field.span,
            format!("`in` does not apply to `{}`, which is {}", field.node, ty.describe()),
        )
        .label(ty.describe())
        .help(type_help(&field.node, ty)));
    }
    for item in &list.node {
        if matches!(item.node, Lit::Bad(_)) {
            continue;
        }
        if !item_fits(&item.node) {
            return Err(mismatch(field, ty, item));
        }
        status_value(ty, item)?;
    }
    Ok(())
}

/// A status compared with a word must name a real status.
fn status_value(ty: Type, value: &Spanned<Lit>) -> Result<(), Diag> {
    let (Type::Status, Lit::Str(s) | Lit::Word(s)) = (ty, &value.node) else {
        return Ok(());
    };
    if STATUSES.iter().any(|k| k.eq_ignore_ascii_case(s)) {
        return Ok(());
    }
    Err(
        Diag::error(Code::UnknownStatus, value.span, format!("`{s}` is not a status"))
            .label("no user has this status")
            .help(
                suggest::did_you_mean(s, STATUSES.iter().copied())
                    .unwrap_or_else(|| format!("a status is one of: {}", STATUSES.join(", "))),
            ),
    )
}

fn operator_error(field: &Spanned<String>, ty: Type, op: &Spanned<CmpOp>, help: &str) -> Diag {
    Diag::error(
        Code::TypeMismatch,
        op.span,
        format!(
            "`{}` does not apply to `{}`, which is {}",
            op.node.as_str(),
            field.node,
            ty.describe()
        ),
    )
    .label("not an operator for this field")
    .help(help)
}

fn mismatch(field: &Spanned<String>, ty: Type, value: &Spanned<Lit>) -> Diag {
    let lit = &value.node;
    let mut help = type_help(&field.node, ty);
    if let Lit::Word(w) = lit {
        if Field::lookup(w).is_some() {
            help = format!("`{w}` is read as a word here, since a field can only be compared with a value; {help}");
        }
    } else if let (
        Type::Text | Type::Status | Type::Set,
        Lit::Number(_) | Lit::Bool(_) | Lit::Time(_) | Lit::Duration(_),
    ) = (ty, lit)
    {
        help = format!("to compare with the text, quote it: \"{}\"", lit_text(lit));
    }
    Diag::error(
        Code::TypeMismatch,
        value.span,
        format!(
            "type mismatch: `{}` is {}, but `{}` is {}",
            field.node,
            ty.describe(),
            lit_text(lit),
            lit_type(lit)
        ),
    )
    .label(lit_type(lit))
    .help(help)
}

fn not_a_condition(name: &Spanned<String>, ty: Type) -> Diag {
    Diag::error(
        Code::NotACondition,
        name.span,
        format!("`{}` is {}, not a condition", name.node, ty.describe()),
    )
    .label("needs a comparison")
    .help(type_help(&name.node, ty))
}

/// How to use a field of this type, as a help line.
fn type_help(name: &str, ty: Type) -> String {
    match ty {
        Type::Text => format!("compare text with `==`, `in` or `matches`: `{name} matches \"*@example.org\"`"),
        Type::Status => {
            format!("compare it with a status: `{name} == invited` (active, invited, disabled, pending_delete)")
        }
        Type::Time => format!(
            "compare a time with a duration (`{name} > 90d`: more than 90 days ago) or a date (`{name} < 2024-01-01`)"
        ),
        Type::Set => format!("test membership with `in`: `{name} in [admins, publishers]`"),
        Type::Bool => format!("use it alone (`{name}`), negated (`not {name}`), or compare it with true or false"),
        Type::Number => format!("compare a counter with a number: `{name} > 0`"),
        Type::Duration => format!("compare it with a duration: `{name} > 12mo`"),
        Type::Any => format!("compare it with a value: `{name} == \"x\"`"),
    }
}

/// How a message names the type of a literal.
pub(super) fn lit_type(lit: &Lit) -> &'static str {
    match lit {
        Lit::Number(_) => "a number",
        Lit::Str(_) | Lit::Word(_) => "text",
        Lit::Bool(_) => "true or false",
        Lit::Time(_) => "a date",
        Lit::Duration(_) => "a duration",
        Lit::Bad(_) => "not a valid value",
    }
}

/// A literal as a list item: text that is not a plain word is quoted.
fn set_item(lit: &Lit) -> String {
    let text = lit_text(lit);
    match lit {
        Lit::Word(_) => text,
        _ => format!("\"{text}\""),
    }
}

fn lit_text(lit: &Lit) -> String {
    match lit {
        Lit::Number(n) => n.to_string(),
        Lit::Str(s) | Lit::Word(s) | Lit::Bad(s) => s.clone(),
        Lit::Bool(b) => b.to_string(),
        Lit::Time(t) if t.date_only => t.at.format("%Y-%m-%d").to_string(),
        Lit::Time(t) => t.at.to_rfc3339(),
        Lit::Duration(d) => d.to_string(),
    }
}

const UNITS_HELP: &str = "a duration is a whole number and a unit: h (hours), d (days), w (weeks), mo (calendar months) or y (calendar years), e.g. `90d`";

/// Explains a literal that starts like a number but is not one of the forms.
pub(super) fn bad_literal(text: &str, span: Span) -> Diag {
    let unsigned = text.trim_start_matches('-');
    let digits = unsigned
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(unsigned.len());
    let (number, rest) = unsigned.split_at_checked(digits).unwrap_or((unsigned, ""));
    let looks_like_date =
        text.len() >= 8 && text.chars().take(4).all(|c| c.is_ascii_digit()) && text.get(4..5) == Some("-");
    let (message, label, help) = if looks_like_date {
        (
            format!("invalid date or time `{text}`"),
            "not a real date or time",
            "write a date as YYYY-MM-DD (a day that exists), or an RFC 3339 time such as 2024-01-31T08:00:00Z"
                .to_string(),
        )
    } else if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphabetic()) && !number.is_empty() {
        let message = if number.contains('.') {
            format!("a duration takes a whole number, not `{number}`")
        } else if crate::ast::Unit::parse(rest).is_some() {
            format!("duration `{text}` is too large")
        } else {
            format!("unknown duration unit `{rest}`")
        };
        let help = match rest {
            "m" | "min" | "mon" | "month" | "months" => format!("{UNITS_HELP}; months are `mo`"),
            _ => UNITS_HELP.to_string(),
        };
        (message, "not a valid duration", help)
    } else {
        (
            format!("`{text}` is not a valid number, date or duration"),
            "not a value",
            format!("if it is text, quote it: \"{text}\""),
        )
    };
    Diag::error(Code::BadLiteral, span, message).label(label).help(help)
}

/// The longest duration of each unit: `limits::MAX_DURATION_YEARS`, in it.
fn longest(unit: Unit) -> u32 {
    let years = MAX_DURATION_YEARS;
    match unit {
        // A year of 365.25 days.
        Unit::Hour => years.saturating_mul(8766),
        Unit::Day => years.saturating_mul(36525) / 100,
        Unit::Week => years.saturating_mul(36525) / 700,
        Unit::Month => years.saturating_mul(12),
        Unit::Year => years,
    }
}

/// A duration too long to be worked out as a time: ages and notices are
/// cut-off instants, which must stay within the calendar.
pub(super) fn duration_range(d: Duration, span: Span) -> Result<(), Diag> {
    if d.count <= longest(d.unit) {
        return Ok(());
    }
    let all: Vec<String> = Unit::ALL
        .iter()
        .map(|(suffix, unit)| format!("{}{suffix}", longest(*unit)))
        .collect();
    Err(
        Diag::error(Code::BadLiteral, span, format!("duration `{d}` is too long"))
            .label(format!("more than {MAX_DURATION_YEARS} years"))
            .help(format!(
                "durations go up to {MAX_DURATION_YEARS} years: {}",
                all.join(", ")
            )),
    )
}
