//! The policies people copy from: every file in `policies/` and every
//! `policy` block of the README checks with no diagnostic at all and is
//! already in the canonical layout. Every policy in `policies/` also works
//! where it is aimed: it checks clean against the connector of its example
//! config (`examples/NAME.toml`), passes its cases with every rule reached,
//! and decides something other than review for most of its example users,
//! whose file holds only what that connector supplies. The policies are
//! found by listing the folder, so that a new one cannot be left out.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use chrono::{TimeZone, Utc};
use common::Run;
use dormant::check::{check, Options};
use dormant::config::{Config, Connector};
use dormant::diagnostic::render_human;
use dormant::fields::Field;
use dormant::parse::parse;
use dormant::source::Source;
use std::path::{Path, PathBuf};

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
    assert!(seen >= 6);
}

const AS_OF: &str = "2026-11-23";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The name (file stem) of every policy in `policies/`, sorted.
fn policy_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A policy's example config, `examples/NAME.toml`, and its one connector
/// (besides the identity providers its `logins_from` names).
fn example_connector(name: &str) -> (PathBuf, Connector) {
    let path = root().join("examples").join(format!("{name}.toml"));
    assert!(
        path.exists(),
        "policies/{name}.policy has no example config {}",
        path.display()
    );
    let config = Config::load(Some(&path))
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
        .unwrap();
    // Identity providers are there for the last logins of the one
    // connector the policy is aimed at, which names them all.
    let (providers, aimed): (Vec<&Connector>, Vec<&Connector>) = config
        .connectors
        .iter()
        .partition(|c| c.kind.platform().identity_provider());
    assert_eq!(aimed.len(), 1, "{}: one connector", path.display());
    let named: Vec<&str> = aimed[0].logins_from.iter().map(|c| c.name.as_str()).collect();
    for p in &providers {
        assert!(
            named.contains(&p.name.as_str()),
            "{}: `{}` unused",
            path.display(),
            p.name
        );
    }
    // The policy apply enforces is the one the config goes with.
    assert_eq!(
        config.policy.as_deref().map(|p| p.canonicalize().unwrap()),
        Some(
            root()
                .join("policies")
                .join(format!("{name}.policy"))
                .canonicalize()
                .unwrap()
        ),
        "{}",
        path.display()
    );
    (path, aimed[0].clone())
}

/// The example users of a policy: the `file` connector's own file, or
/// `examples/NAME-users.json`, in the shape `fetch` writes; that file too
/// for a connector whose last logins come from an identity provider (the
/// users as fetched, their last logins filled in: examples cannot reach
/// the identity provider).
fn example_users(name: &str, c: &Connector) -> PathBuf {
    match (c.kind.as_str(), &c.path) {
        ("file", Some(path)) if c.logins_from.is_empty() => path.clone(),
        _ => root().join("examples").join(format!("{name}-users.json")),
    }
}

/// The columns or keys a users file holds, with the user they are on.
fn users_keys(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|e| e == "csv") {
        let header = text.lines().next().unwrap();
        return header
            .split(',')
            .map(|k| ("header".to_string(), k.to_string()))
            .collect();
    }
    let users: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&text).unwrap();
    users
        .iter()
        .flat_map(|u| {
            let id = u["id"].as_str().unwrap().to_string();
            u.keys().map(move |k| (id.clone(), k.clone()))
        })
        .collect()
}

#[test]
fn every_example_policy_checks_clean_against_its_connector() {
    let names = policy_names();
    assert!(names.len() >= 6, "{names:?}");
    for name in &names {
        let (config, c) = example_connector(name);
        for format in ["human", "plain"] {
            let done = Run::new(&[
                "check",
                "--as-of",
                AS_OF,
                "--error-format",
                format,
                "--config",
                config.to_str().unwrap(),
                &format!("policies/{name}.policy"),
                "--connector",
                &c.name,
            ])
            .run();
            assert_eq!(
                (done.code, done.stdout.as_str(), done.stderr.as_str()),
                (0, "", ""),
                "{name}"
            );
        }
        let done = Run::new(&[
            "check",
            "--error-format",
            "json",
            "--as-of",
            AS_OF,
            "--config",
            config.to_str().unwrap(),
            &format!("policies/{name}.policy"),
            "--connector",
            &c.name,
        ])
        .run();
        assert_eq!((done.code, done.stdout.trim()), (0, "[]"), "{name}: {}", done.stderr);
    }
}

#[test]
fn every_example_policy_passes_its_cases_and_reaches_every_rule() {
    for name in policy_names() {
        let done = Run::new(&["test", &format!("policies/{name}.policy")]).run();
        assert_eq!(done.code, 0, "{name}:\n{}{}", done.stdout, done.stderr);
        assert!(done.stdout.ends_with(" 0 failed\n"), "{name}:\n{}", done.stdout);
        assert!(
            !done.stdout.contains("coverage"),
            "{name}: a rule no case reaches:\n{}",
            done.stdout
        );
    }
}

#[test]
fn example_users_hold_only_what_their_connector_supplies() {
    for name in policy_names() {
        let (_, c) = example_connector(&name);
        let mut enriched = Vec::new();
        for path in &c.enrich {
            enriched.extend(dormant::connector::enrich::columns(path).unwrap());
        }
        let users = example_users(&name, &c);
        let keys = users_keys(&users);
        assert!(!keys.is_empty(), "{}", users.display());
        for (user, key) in keys {
            let field = Field::lookup(&key).unwrap_or_else(|| panic!("{}: `{key}`", users.display()));
            let why = dormant::check::connector::never_supplied(&c, &field, &enriched);
            assert!(
                why.is_none(),
                "{}: user {user} has `{key}`, which connector `{}` never supplies: {}",
                users.display(),
                c.name,
                why.unwrap_or_default()
            );
        }
    }
}

#[test]
fn every_example_policy_decides_most_of_its_example_users() {
    for name in policy_names() {
        let (_, c) = example_connector(&name);
        let users = example_users(&name, &c);
        let done = Run::new(&[
            "plan",
            &format!("policies/{name}.policy"),
            "--users",
            users.to_str().unwrap(),
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ])
        .run();
        assert_eq!(done.code, 0, "{name}: {}", done.stderr);
        // Nothing to warn about: every value the policy names is one its
        // example users have.
        assert_eq!(done.stderr, "", "{name}");
        let plan: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
        let count = plan["users"]["count"].as_u64().unwrap();
        let review = plan["summary"]["review"].as_u64().unwrap();
        assert!(count >= 8, "{name}: {count} example users");
        assert!(
            review * 2 < count,
            "{name}: {review} of {count} example users go to review"
        );
        // Something is cleaned up, not only kept.
        let acted: u64 = ["notify", "deactivate", "delete"]
            .iter()
            .map(|a| plan["summary"][a].as_u64().unwrap())
            .sum();
        assert!(acted > 0, "{name}: nothing to clean up in {}", users.display());
    }
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
