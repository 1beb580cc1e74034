//! A SCIM application whose last logins come from Okta (`logins_from`):
//! SCIM has no last login, the identity provider does, and each value the
//! plan and explain show says where it came from.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::sim::{okta, scim};
use common::Run;
use serde_json::Value;

const POLICY: &str = "admins: is_admin -> keep\ndormant: inactive > 90d -> deactivate\n";

/// Okta's user for SCIM user `i`, joined by the SCIM user's primary email.
fn okta_user(i: u64, last_login: Option<&str>) -> Value {
    let mut u = okta::user(i, last_login);
    u["profile"]["email"] = Value::from(format!("member{i}@example.org"));
    u["profile"]["login"] = Value::from(format!("member{i}@example.org"));
    u
}

#[test]
fn a_plan_over_a_scim_app_explains_each_last_login_with_its_source() {
    let app = scim::Site::new(3);
    let app_sim = scim::start(&app);
    // Member 1 signed in lately, member 2 long ago; member 3 is not in Okta.
    let idp = okta::Site::new(vec![
        okta_user(1, Some("2026-11-01T08:00:00.000Z")),
        okta_user(2, Some("2025-01-05T09:30:00.000Z")),
    ]);
    let idp_sim = okta::start(&idp);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.policy"), POLICY).unwrap();
    let config = format!(
        "[connector.app]\nkind = \"scim\"\nurl = \"{}/v2\"\ntoken_env = \"SCIM_TOKEN\"\nrequests_per_second = 1000\nlogins_from = [\"okta\"]\n\n\
         [connector.okta]\nkind = \"okta\"\nurl = \"{}\"\ntoken_env = \"OKTA_TOKEN\"\nrequests_per_second = 1000\n",
        app_sim.url(),
        idp_sim.url()
    );
    common::write_config(dir.path(), &config);
    let run = |args: &[&str]| {
        Run::new(args)
            .in_dir(dir.path())
            .secret("SCIM_TOKEN", scim::TOKEN)
            .secret("OKTA_TOKEN", okta::TOKEN)
            .run()
    };
    let plan = run(&[
        "plan",
        "p.policy",
        "--connector",
        "app",
        "--as-of",
        "2026-11-23",
        "--format",
        "json",
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let json: Value = serde_json::from_str(&plan.stdout).unwrap();
    let decision = |id: &str| {
        json["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["user"]["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no decision for {id}: {json}"))
    };
    let (one, two, three) = (decision(&scim::id(1)), decision(&scim::id(2)), decision(&scim::id(3)));
    assert_eq!(one["action"], "keep", "{one}");
    assert_eq!(one["sources"]["last_login"], "okta", "{one}");
    assert_eq!(two["action"], "deactivate", "{two}");
    assert_eq!(two["values"]["last_login"], "2025-01-05T09:30:00Z", "{two}");
    assert_eq!(two["sources"]["last_login"], "okta", "{two}");
    // Not in Okta, and SCIM has no last login: unknown, so review.
    assert_eq!(three["action"], "review", "{three}");
    assert!(three.get("sources").is_none(), "{three}");
    assert_eq!(json["connector"]["kind"], "scim");

    let why = run(&[
        "explain",
        "p.policy",
        "--connector",
        "app",
        "--as-of",
        "2026-11-23",
        "member2",
    ]);
    assert_eq!(why.code, 0, "{}", why.stderr);
    assert!(
        why.stdout.contains("last_login 2025-01-05T09:30:00Z (from okta)"),
        "{}",
        why.stdout
    );
    // check --connector: SCIM's missing last login is supplied by Okta.
    let check = run(&["check", "p.policy", "--connector", "app", "--as-of", "2026-11-23"]);
    assert_eq!((check.code, check.stderr.as_str()), (0, ""), "{}", check.stdout);
}
