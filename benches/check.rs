//! `dormant check` on policies of 10,000 rules, of the shapes a generator
//! writes: each rule its own group, thresholds that widen or narrow from
//! rule to rule, a mix of every kind of comparison, the same condition
//! over and over. Parsing and checking are timed together, best of 5.
//!
//! cargo bench --bench check [-- RULES]

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

use dormant::check::{check, Options};
use dormant::parse::parse;
use dormant::source::Source;
use std::fmt::Write as _;
use std::time::Instant;

/// Writes the rule at a position.
type Rule = Box<dyn Fn(usize) -> String>;

/// A policy of `n` rules after an admins rule, each written by `rule`.
fn policy(n: usize, rule: impl Fn(usize) -> String) -> String {
    let mut text =
        String::from("let staff = group in [admins, publishers] or is_admin or is_service\nadmins: staff -> keep\n");
    for i in 0..n {
        let _ = writeln!(text, "r{i}: {}", rule(i));
    }
    text
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let as_of = dormant::time::parse_time("2026-11-23T00:00:00Z").unwrap();
    let kinds: [(&str, Rule); 5] = [
        (
            "own group",
            Box::new(|i| format!("group in [g{i}] and inactive > {}d -> delete", i % 365 + 1)),
        ),
        (
            "narrowing",
            Box::new(move |i| format!("inactive > {}d -> deactivate", n - i)),
        ),
        ("widening", Box::new(|i| format!("inactive > {}d -> deactivate", i + 1))),
        (
            "mixed",
            Box::new(|i| {
                let cond = match i % 5 {
                    0 => format!("email matches \"*@vendor{i}.example\" and inactive > {}d", i % 90 + 1),
                    1 => format!(
                        "status == invited and joined > {}d and not group in [t{i}]",
                        i % 400 + 1
                    ),
                    2 => format!(
                        "(role in [r{i}, x{i}] or permission in [p{i}]) and inactive > {}mo",
                        i % 24 + 1
                    ),
                    3 => format!("activity.c{} > {i} and last_login < 2024-01-{:02}", i % 50, i % 28 + 1),
                    _ => format!("not staff and attr.dept == \"d{i}\""),
                };
                let action = match i % 3 {
                    0 => "notify",
                    1 => "deactivate",
                    _ => "delete",
                };
                format!("{cond} -> {action}")
            }),
        ),
        ("same", Box::new(|_| "inactive > 30d -> delete".to_string())),
    ];
    for (name, rule) in kinds {
        let text = policy(n, rule);
        let source = Source::new("bench.policy", text.as_str());
        let mut warnings = 0;
        let best = (0..5)
            .map(|_| {
                let t = Instant::now();
                let parsed = parse(&source).unwrap();
                let report = check(&parsed.policy, &Options { as_of });
                assert!(!report.has_errors(), "{name}");
                warnings = report.diagnostics.len();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        println!("{{\"policy\": \"{name}\", \"rules\": {n}, \"warnings\": {warnings}, \"check_seconds\": {best:.3}}}");
    }
}
