//! The platform registry holds together: each platform dormant acts on has
//! its simulator, its test file and its README section, and no two
//! platforms share a `kind`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use dormant::connector::PLATFORMS;
use std::path::Path;

#[test]
fn every_platform_has_a_simulator_tests_and_a_readme_section() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for p in PLATFORMS.iter().filter(|p| p.acts()) {
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
