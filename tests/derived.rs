//! Derived fields (`inactive`, `never_logged_in`, `has_activity`) are never
//! columns: every message that meets one where a column is expected, or a
//! connector that cannot supply one, names the columns that feed it, and
//! none asks for the derived column itself.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::Run;
use std::path::Path;

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false, snapshot_path => "snapshots/derived" }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

const BEVY: &str = "[connector.events]\nkind = \"bevy\"\nurl = \"https://events.example.com\"\ntoken_env = \"BEVY_TOKEN\"\nuser = \"ana@example.com\"\n";

const POLICY: &str = "staff: is_admin or is_service -> keep\nnever_used: never_logged_in -> delete\ndormant: inactive > 24mo -> delete\n";

fn setup(config: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dormant.toml"), config).unwrap();
    std::fs::write(dir.path().join("p.policy"), POLICY).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn check(dir: &Path, format: &str) -> common::Done {
    Run::new(&["check", "p.policy", "--connector", "events", "--error-format", format])
        .in_dir(dir)
        .run()
}

/// Never an invitation to write a derived column.
fn asks_for_no_derived_column(text: &str) {
    for derived in ["inactive", "never_logged_in", "has_activity"] {
        assert!(!text.contains(&format!("a `{derived}` column")), "{text}");
        assert!(!text.contains(&format!("`{derived}` column to")), "{text}");
    }
}

#[test]
fn check_names_the_columns_that_feed_an_unsupplied_derived_field() {
    let dir = setup(BEVY, &[]);
    let human = check(dir.path(), "human");
    assert_eq!(human.code, 0, "{}", human.stderr);
    snapshot!("check_connector_derived_human", &human.stderr);
    let plain = check(dir.path(), "plain");
    snapshot!("check_connector_derived_plain", &plain.stderr);
    let json = check(dir.path(), "json");
    let diags: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let helps: Vec<&str> = diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["help"].as_str().unwrap())
        .collect();
    assert_eq!(helps.len(), 2, "{helps:?}");
    for help in helps {
        assert!(
            help.contains("with a `last_login` column to connector `events`"),
            "{help}"
        );
        asks_for_no_derived_column(help);
    }
    asks_for_no_derived_column(&human.stderr);
    asks_for_no_derived_column(&plain.stderr);
}

#[test]
fn an_enrich_file_with_the_feeding_column_supplies_the_derived_field() {
    let config = format!("{BEVY}enrich = [\"logins.csv\"]\n");
    let dir = setup(
        &config,
        &[("logins.csv", "email,last_login\nben@example.com,2024-01-01\n")],
    );
    let done = check(dir.path(), "plain");
    assert_eq!((done.code, done.stderr.as_str()), (0, ""));
}

#[test]
fn a_derived_column_in_an_enrich_file_names_the_columns_that_feed_it() {
    let config = format!("{BEVY}enrich = [\"logins.csv\"]\n");
    let dir = setup(&config, &[("logins.csv", "email,inactive\nben@example.com,400\n")]);
    let done = check(dir.path(), "plain");
    assert_eq!(done.code, 1, "{}", done.stderr);
    snapshot!("enrich_derived_column", &done.stderr);
}

#[test]
fn a_derived_column_in_a_users_file_names_the_columns_that_feed_it() {
    let dir = setup(
        "",
        &[(
            "users.csv",
            "id,email,never_logged_in,has_activity\nu1,ana@example.com,true,false\n",
        )],
    );
    let done = Run::new(&["plan", "p.policy", "--users", "users.csv", "--as-of", "2026-11-23"])
        .in_dir(dir.path())
        .run();
    assert_eq!(done.code, 1, "{}", done.stderr);
    snapshot!("users_file_derived_column", &done.stderr);
    asks_for_no_derived_column(&done.stderr);
}

#[test]
fn a_derived_field_in_a_test_case_names_the_fields_that_feed_it() {
    let dir = setup(
        "",
        &[(
            "p.tests.toml",
            "as_of = \"2026-11-23\"\n\n[[case]]\nname = \"idle\"\nexpect = \"delete\"\nuser = { is_admin = false, is_service = false, inactive = \"800d\" }\n",
        )],
    );
    let done = Run::new(&["test", "p.policy"]).in_dir(dir.path()).run();
    assert_eq!(done.code, 1, "{}{}", done.stdout, done.stderr);
    snapshot!("test_case_derived_field", format!("{}{}", done.stdout, done.stderr));
}
