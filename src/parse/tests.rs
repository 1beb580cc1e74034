use super::*;

fn p(text: &str) -> Policy {
    match parse(&Source::new("t.policy", text)) {
        Ok(parsed) => parsed.policy,
        Err(d) => unreachable!("parse failed: {d:?}"),
    }
}

fn err(text: &str) -> Diag {
    match parse(&Source::new("t.policy", text)) {
        Ok(parsed) => unreachable!("parsed: {:?}", parsed.policy),
        Err(d) => d,
    }
}

fn cond(text: &str) -> ExprKind {
    match p(&format!("{text} -> keep")).statements.into_iter().next() {
        Some(Stmt::Rule(r)) => r.cond.kind,
        other => unreachable!("{other:?}"),
    }
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let k = cond("a or b and not c");
    let ExprKind::Or(ops) = k else { unreachable!() };
    assert_eq!(ops.len(), 2);
    let ExprKind::And(and) = &ops[1].kind else {
        unreachable!()
    };
    assert!(matches!(and[1].kind, ExprKind::Not(_)));
}

#[test]
fn not_applies_to_the_whole_comparison() {
    let ExprKind::Not(inner) = cond("not group in [admins]") else {
        unreachable!()
    };
    assert!(matches!(inner.kind, ExprKind::In { .. }));
}

#[test]
fn chains_are_flat_but_parentheses_are_kept() {
    let ExprKind::Or(ops) = cond("a or b or c") else {
        unreachable!()
    };
    assert_eq!(ops.len(), 3);
    let ExprKind::Or(ops) = cond("(a or b) or c") else {
        unreachable!()
    };
    assert!(matches!(ops[0].kind, ExprKind::Paren(_)));
}

#[test]
fn literals() {
    let lit = |s: &str| match cond(&format!("x == {s}")) {
        ExprKind::Cmp { value, .. } => value.node,
        other => unreachable!("{other:?}"),
    };
    assert_eq!(lit("3"), Lit::Number(3.0));
    assert_eq!(lit("-2.5"), Lit::Number(-2.5));
    assert_eq!(lit("\"a \\\"b\\\"\""), Lit::Str("a \"b\"".into()));
    assert_eq!(lit("data-stewards"), Lit::Word("data-stewards".into()));
    assert_eq!(lit("true"), Lit::Bool(true));
    assert_eq!(
        lit("12mo"),
        Lit::Duration(Duration {
            count: 12,
            unit: Unit::Month
        })
    );
    assert_eq!(lit("90days"), Lit::Bad("90days".into()));
    assert_eq!(lit("2024-02-30"), Lit::Bad("2024-02-30".into()));
    let Lit::Time(t) = lit("2024-01-31") else {
        unreachable!()
    };
    assert!(t.date_only);
    assert_eq!(t.at.to_rfc3339(), "2024-01-31T00:00:00+00:00");
    let Lit::Time(t) = lit("2024-01-31T10:00:00+02:00") else {
        unreachable!()
    };
    assert_eq!(t.at.to_rfc3339(), "2024-01-31T08:00:00+00:00");
}

#[test]
fn statements() {
    let policy = p(
        "let s = is_admin\nlimit delete 5%\nexempt \"ana\" until 2027-01-01 \"leave\"\n\
                    r1: s -> keep\nx > 3d -> delete after notice 30d\n",
    );
    assert_eq!(policy.statements.len(), 5);
    let Stmt::Limit(l) = &policy.statements[1] else {
        unreachable!()
    };
    assert!(l.percent);
    let Stmt::Rule(r) = &policy.statements[4] else {
        unreachable!()
    };
    assert!(r.name.is_none());
    assert_eq!(r.action.node, "delete");
    assert!(r.notice.is_some());
}

#[test]
fn arrow_right_after_a_name_or_literal() {
    let policy = p("is_admin->keep\njoined > 90d->delete");
    assert_eq!(policy.statements.len(), 2);
}

#[test]
fn errors_say_what_was_expected_in_words() {
    let d = err("r: status = invited -> delete");
    assert!(d.message.starts_with("expected a comparison operator"), "{}", d.message);
    assert_eq!(d.help.as_deref(), Some("use `==` to compare"));
    let d = err("r: is_admin -> ");
    assert_eq!(
        d.message,
        "expected an action: keep, notify, deactivate or delete, found end of file"
    );
    let d = err("r: status == \"invited -> delete\n");
    assert_eq!(d.code, Code::UnterminatedString);
    let d = err("r: (a or b -> keep");
    assert_eq!(d.code, Code::UnclosedDelimiter);
    assert_eq!(d.span, Span::new(3, 4));
}

#[test]
fn comments_are_collected() {
    let parsed = parse(&Source::new("t", "# a\nr: x -> keep # b \"q\"\n")).ok();
    let comments = parsed.map(|p| p.comments).unwrap_or_default();
    assert_eq!(comments.len(), 2);
    assert!(comments[0].own_line && !comments[1].own_line);
}
