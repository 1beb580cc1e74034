//! The policies people copy from: every file in `policies/` and every
//! `policy` block of the README checks with no diagnostic at all and is
//! already in the canonical layout.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use chrono::{TimeZone, Utc};
use dormant::check::{check, Options};
use dormant::diagnostic::render_human;
use dormant::parse::parse;
use dormant::source::Source;
use std::path::Path;

fn assert_clean(name: &str, text: &str) {
    let source = Source::new(name, text);
    let parsed = parse(&source).unwrap_or_else(|d| panic!("{}", render_human(&source, &[d], false)));
    let options = Options {
        as_of: Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap(),
    };
    let report = check(&parsed.policy, &options);
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render_human(&source, &report.diagnostics, false)
    );
    assert_eq!(
        dormant::fmt::format(text, &parsed),
        text,
        "{name} is not in the canonical layout"
    );
}

#[test]
fn example_policies_are_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "policy") {
            assert_clean(&path.display().to_string(), &std::fs::read_to_string(&path).unwrap());
            seen += 1;
        }
    }
    assert!(seen >= 4);
}

#[test]
fn readme_policies_are_clean() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```policy\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 2);
    for (i, block) in blocks.iter().enumerate() {
        assert_clean(&format!("README.md policy block {}", i + 1), block);
    }
}
