//! The platform registry holds together: each platform dormant acts on or
//! takes last logins from has its simulator, its test file and its README
//! section, and no two platforms share a `kind`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use dormant::config::{Config, ConfigError};
use dormant::connector::platform::KeyType;
use dormant::connector::PLATFORMS;
use dormant::source::Source;
use std::path::Path;

#[test]
fn every_platform_has_a_simulator_tests_and_a_readme_section() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    // The platforms dormant acts on, and the identity providers it reads.
    for p in PLATFORMS.iter().filter(|p| p.acts() || p.identity_provider()) {
        let kind = p.kind();
        let sim = root.join(format!("tests/common/sim/{kind}.rs"));
        assert!(sim.is_file(), "`{kind}` has no simulator: add {}", sim.display());
        let tests = root.join(format!("tests/{kind}.rs"));
        assert!(tests.is_file(), "`{kind}` has no tests: add {}", tests.display());
        assert!(
            readme.contains(&format!("kind = \"{kind}\"")),
            "the README shows no `kind = \"{kind}\"` connector"
        );
    }
}

#[test]
fn kinds_are_unique_and_keys_are_their_own() {
    let mut kinds: Vec<&str> = PLATFORMS.iter().map(|p| p.kind()).collect();
    kinds.sort_unstable();
    let before = kinds.len();
    kinds.dedup();
    assert_eq!(kinds.len(), before, "two platforms share a kind");
    for p in PLATFORMS {
        let keys = p.keys();
        let optional = keys.optional();
        for key in keys.required {
            assert!(
                !optional.contains(key),
                "`{}` lists `{key}` as required and optional",
                p.kind()
            );
        }
    }
}

/// A table with every key a platform's `keys()` lists configures: its
/// serde struct of its own keys takes each of them (it denies a key it
/// lacks), so that the two cannot drift apart. Each key gets a sample of
/// its type; a text refused at its value (a URL, a time zone, a word a key
/// takes) is tried again with the next sample.
#[test]
fn every_key_a_platform_lists_configures() {
    const TEXTS: [&str; 3] = ["UTC", "revoke", "https://example.org"];
    for p in PLATFORMS {
        let keys = p.keys();
        let mut listed: Vec<(&str, KeyType)> = keys.required.iter().map(|k| (*k, KeyType::Text)).collect();
        listed.extend(keys.own.iter().chain(keys.shared()).map(|k| (k.name, k.kind)));
        let mut text = vec![0; listed.len()];
        loop {
            let mut toml = format!("[connector.c]\nkind = \"{}\"\n", p.kind());
            let mut spans = Vec::new();
            for (i, (key, kind)) in listed.iter().enumerate() {
                let value = match kind {
                    KeyType::Text => format!("{:?}", TEXTS[text[i]]),
                    KeyType::Flag => "true".to_string(),
                    KeyType::Count | KeyType::Number => "1".to_string(),
                    KeyType::Texts => "[\"a.csv\"]".to_string(),
                    KeyType::Any => unreachable!("`{key}` of `{}`: only retired keys take any value", p.kind()),
                };
                toml.push_str(&format!("{key} = "));
                spans.push(toml.len());
                toml.push_str(&format!("{value}\n"));
            }
            let diag = match Config::parse(Source::new("dormant.toml", toml.clone()), Path::new("")) {
                Ok(c) => {
                    assert_eq!(c.connectors.len(), 1);
                    break;
                }
                Err(ConfigError::Invalid(b)) => b.1,
                Err(e) => panic!("{}: {e}", p.kind()),
            };
            let refused = spans.iter().position(|s| *s == diag.span.start);
            match refused {
                Some(i) if listed[i].1 == KeyType::Text && text[i] + 1 < TEXTS.len() => text[i] += 1,
                _ => panic!(
                    "a `{}` table with every key its keys() lists does not configure: {}\n{toml}",
                    p.kind(),
                    diag.message
                ),
            }
        }
    }
}
