//! Snapshot tests over folders of policies, one `insta::glob!` per kind:
//! `tests/corpus/check/err` must give errors, `warn` only warnings, `ok`
//! nothing at all. Each snapshot is the diagnostic exactly as a person sees
//! it (without colour), so the underlined text and line:column are checked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use chrono::{TimeZone, Utc};
use dormant::check::{self, Options};
use dormant::diagnostic::{render_human, Diag};
use dormant::parse;
use dormant::source::Source;
use std::path::Path;

/// Snapshots in `tests/snapshots/check/`, named after the policy file.
macro_rules! snapshot {
    ($value:expr) => {
        insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false, snapshot_path => "snapshots/check" }, {
            insta::assert_snapshot!($value);
        })
    };
}

fn diagnose(path: &Path) -> (Source, Vec<Diag>) {
    let text = std::fs::read_to_string(path).expect("readable corpus file");
    let name = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path);
    let source = Source::new(name.display().to_string(), text);
    let options = Options {
        as_of: Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap(),
    };
    let diags = match parse::parse(&source) {
        Ok(parsed) => check::check(&parsed.policy, &options).diagnostics,
        Err(d) => vec![d],
    };
    (source, diags)
}

#[test]
fn bad_policies_give_errors() {
    insta::glob!("corpus/check/err/*.policy", |path| {
        let (source, diags) = diagnose(path);
        assert!(diags.iter().any(Diag::is_error), "{} gave no error", path.display());
        snapshot!(render_human(&source, &diags, false));
    });
}

#[test]
fn questionable_policies_give_warnings_only() {
    insta::glob!("corpus/check/warn/*.policy", |path| {
        let (source, diags) = diagnose(path);
        assert!(!diags.is_empty(), "{} gave no warning", path.display());
        assert!(!diags.iter().any(Diag::is_error), "{} gave an error", path.display());
        snapshot!(render_human(&source, &diags, false));
    });
}

#[test]
fn good_policies_give_nothing() {
    insta::glob!("corpus/check/ok/*.policy", |path| {
        let (source, diags) = diagnose(path);
        assert!(diags.is_empty(), "{}", render_human(&source, &diags, false));
    });
}

#[test]
fn every_diagnostic_code_is_covered_by_the_corpus() {
    use std::collections::BTreeSet;
    let mut seen = BTreeSet::new();
    for kind in ["err", "warn"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/check")
            .join(kind);
        for entry in std::fs::read_dir(dir).unwrap() {
            let (_, diags) = diagnose(&entry.unwrap().path());
            seen.extend(diags.iter().map(|d| d.code.as_str()));
        }
    }
    let src = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnostic.rs")).unwrap();
    let all: BTreeSet<&str> = src
        .split('"')
        .filter(|s| s.starts_with("dormant::") && !s.contains(' '))
        // dormant.toml's own diagnostic, tested with the config, and those
        // of `check --connector`, tested with the connectors.
        .filter(|s| {
            !matches!(
                *s,
                "dormant::config"
                    | "dormant::unsupplied_field"
                    | "dormant::unsupported_action"
                    | "dormant::partial_action"
                    // The warnings that look at the users, tested with them
                    // (src/check/data.rs, tests/warnings.rs).
                    | "dormant::exemption_names_nobody"
                    | "dormant::no_such_value"
                    | "dormant::group_name_not_id"
                    | "dormant::pattern_matches_nobody"
                    | "dormant::pattern_looks_like_regex"
            )
        })
        .collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "no corpus policy produces {missing:?}");
}
