//! Property tests: no input makes parse, check or fmt panic, and whatever
//! parses formats to text that parses back to the same policy.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use chrono::{TimeZone, Utc};
use dormant::check::{check, Options};
use dormant::parse::parse;
use dormant::source::Source;
use proptest::prelude::*;

const POLICIES: &[&str] = &[
    include_str!("../policies/example.policy"),
    include_str!("../policies/huwise.policy"),
    include_str!("../policies/docspace.policy"),
    include_str!("../policies/bevy.policy"),
    include_str!("../policies/metric-insights.policy"),
    include_str!("../policies/docebo.policy"),
    include_str!("corpus/check/ok/every_form.policy"),
];

/// Pieces of the language, so that mutations stay near valid text.
const TOKENS: &[&str] = &[
    " ",
    "\n",
    "#",
    "\"",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "->",
    "==",
    "=",
    "!=",
    "<",
    ">=",
    "%",
    "and",
    "or",
    "not",
    "in",
    "matches",
    "let",
    "limit",
    "exempt",
    "until",
    "after",
    "notice",
    "keep",
    "delete",
    "90d",
    "12mo",
    "2024-02-30",
    "2024-01-31",
    "2024-01-31T10:00:00Z",
    "3.5",
    "-1",
    "group",
    "activity.x",
    "attr.",
    "is_admin",
    "é",
    "\\",
    "*",
];

fn run_all(text: &str) {
    let source = Source::new("prop.policy", text);
    let options = Options {
        as_of: Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap(),
    };
    let Ok(parsed) = parse(&source) else { return };
    let report = check(&parsed.policy, &options);
    let _ = dormant::diagnostic::render_human(&source, &report.diagnostics, false);
    let once = dormant::fmt::format(text, &parsed);
    let reparsed = parse(&Source::new("formatted", once.as_str()))
        .unwrap_or_else(|d| panic!("formatted text does not parse: {d:?}\n--- input\n{text}\n--- formatted\n{once}"));
    assert_eq!(
        reparsed.policy, parsed.policy,
        "AST changed\n--- input\n{text}\n--- formatted\n{once}"
    );
    assert_eq!(
        dormant::fmt::format(&once, &reparsed),
        once,
        "not idempotent\n--- input\n{text}"
    );
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), proptest::sample::select(TOKENS)).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), 0usize..60).prop_map(|(at, len)| Edit::Duplicate(at, len)),
    ]
}

/// Applies an edit at char boundaries, wherever the offsets land.
fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().max(1);
    match *edit {
        Edit::Delete(at, len) => {
            let at = at % n;
            let end = (at + len).min(chars.len());
            chars[..at.min(chars.len())].iter().chain(&chars[end..]).collect()
        }
        Edit::Insert(at, token) => {
            let at = (at % n).min(chars.len());
            chars[..at].iter().collect::<String>() + token + &chars[at..].iter().collect::<String>()
        }
        Edit::Duplicate(at, len) => {
            let at = (at % n).min(chars.len());
            let end = (at + len).min(chars.len());
            let piece: String = chars[at..end].iter().collect();
            chars[..end].iter().collect::<String>() + &piece + &chars[end..].iter().collect::<String>()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        run_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_token_soup_never_panics(tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..60)) {
        run_all(&tokens.concat());
    }

    #[test]
    fn mutated_policies_never_panic(which in 0..POLICIES.len(), edits in proptest::collection::vec(edit(), 1..6)) {
        let mut text = POLICIES[which].to_string();
        for e in &edits {
            text = apply(&text, e);
        }
        run_all(&text);
    }
}
