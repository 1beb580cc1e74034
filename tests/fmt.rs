//! `fmt` over every policy we have: the result parses to the same AST
//! (ignoring spans), formatting it again changes nothing, and every comment
//! survives.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use dormant::parse::{parse, Parsed};
use dormant::source::Source;
use std::path::{Path, PathBuf};

fn policies() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        "policies",
        "tests/corpus/check/err",
        "tests/corpus/check/warn",
        "tests/corpus/check/ok",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "policy") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(out.len() > 30);
    out
}

fn comments(text: &str, parsed: &Parsed) -> Vec<String> {
    parsed
        .comments
        .iter()
        .map(|c| text[c.span.start..c.span.end].trim_end().to_string())
        .collect()
}

#[test]
fn fmt_round_trips_and_is_idempotent() {
    let mut formatted_any = 0;
    for path in policies() {
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(parsed) = parse(&Source::new(path.display().to_string(), text.as_str())) else {
            continue; // syntax errors: fmt refuses them
        };
        let once = dormant::fmt::format(&text, &parsed);
        let reparsed = parse(&Source::new("formatted", once.as_str()))
            .unwrap_or_else(|d| panic!("{}: formatted text does not parse: {d:?}\n{once}", path.display()));
        assert_eq!(
            reparsed.policy,
            parsed.policy,
            "{}: AST changed\n{once}",
            path.display()
        );
        assert_eq!(
            comments(&once, &reparsed),
            comments(&text, &parsed),
            "{}: comments changed",
            path.display()
        );
        let twice = dormant::fmt::format(&once, &reparsed);
        assert_eq!(twice, once, "{}: not idempotent", path.display());
        formatted_any += 1;
    }
    assert!(formatted_any > 30);
}

#[test]
fn example_policies_are_already_formatted() {
    for path in policies()
        .iter()
        .filter(|p| p.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")))
    {
        let text = std::fs::read_to_string(path).unwrap();
        let parsed = parse(&Source::new("p", text.as_str())).unwrap();
        assert_eq!(
            dormant::fmt::format(&text, &parsed),
            text,
            "{} is not formatted",
            path.display()
        );
    }
}
