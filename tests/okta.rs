//! The Okta connector against a simulator of its Users API (CONNECTORS.md
//! section 6.3): `SSWS` tokens, pages along the `Link` header, rate-limit
//! headers and 429s honoured; and Okta as the source of an application's
//! last logins (`logins_from`), shown with its name in plans and
//! explanations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::okta::*;
use common::sim::{Fault, Sim};
use common::Run;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::Ordering;

type Out = common::Done;

/// The Okta connector `okta`, with `extra` lines, and any more tables in `more`.
fn config(sim: &Sim, extra: &str, more: &str) -> String {
    format!(
        "policy = \"p.policy\"\n{more}\n[connector.okta]\nkind = \"okta\"\nurl = \"{}\"\ntoken_env = \"OKTA_TOKEN\"\nrequests_per_second = 1000\ntimeout_seconds = 2\nretries = 4\n{extra}",
        sim.url()
    )
}

fn run(dir: &Path, config: &str, args: &[&str]) -> Out {
    common::write_config(dir, config);
    Run::new(args).in_dir(dir).secret("OKTA_TOKEN", TOKEN).run()
}

fn users(out: &Out) -> Vec<Value> {
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn fetches_every_user_along_the_link_header_through_rate_limits() {
    let logins = [Some("2026-10-01T08:00:00.000Z"), None, Some("2025-01-05T09:30:00.000Z")];
    let site = Site::new((1..=5).map(|i| user(i, logins[(i as usize) % 3])).collect());
    // A 429 with `Retry-After`, a server error, then one with only
    // `X-Rate-Limit-Reset`; every answer says no request remains.
    site.faults.at([(0, Fault::TooMany(1)), (2, Fault::ServerError)]);
    site.limited_once.store(true, Ordering::SeqCst);
    site.exhausted.store(true, Ordering::SeqCst);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &config(&sim, "page_size = 2\n", ""),
        &["fetch", "--connector", "okta"],
    );
    let got = users(&out);
    let ids: Vec<&str> = got.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["00u1", "00u2", "00u3", "00u4", "00u5"]);
    let mut pages: Vec<String> = sim.requests().iter().map(|r| r.target.clone()).collect();
    pages.dedup();
    assert_eq!(pages.len(), 3, "three pages of 2: {pages:?}");
    assert_eq!(got[0]["username"], "user1@example.org");
    assert_eq!(got[0]["status"], "active");
    assert_eq!(got[0]["joined"], "2024-02-01T10:00:00Z");
    // `lastLogin` null: never (null in the users-file shape, unlike a missing key).
    assert_eq!(got[0].get("last_login"), Some(&Value::Null));
    assert_eq!(got[1]["last_login"], "2025-01-05T09:30:00Z");
    assert_eq!(got[2]["last_login"], "2026-10-01T08:00:00Z");
    for r in sim.requests() {
        assert_eq!(r.header("authorization"), Some(format!("SSWS {TOKEN}").as_str()));
    }
}

#[test]
fn no_request_remaining_waits_for_the_reset() {
    let site = Site::new((1..=4).map(|i| user(i, None)).collect());
    site.exhausted.store(true, Ordering::SeqCst);
    site.reset_in.store(2, Ordering::SeqCst);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &config(&sim, "page_size = 2\n", ""),
        &["fetch", "--connector", "okta"],
    );
    assert_eq!(users(&out).len(), 4);
    let at: Vec<_> = sim.requests().iter().map(|r| r.at).collect();
    // The reset is 2 s away in whole epoch seconds: at least 1 s later.
    assert!(
        at[1] - at[0] >= std::time::Duration::from_millis(900),
        "{:?}",
        at[1] - at[0]
    );
}

#[test]
fn a_bad_token_or_a_link_elsewhere_fails_the_fetch() {
    let site = Site::new(vec![user(1, None)]);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    common::write_config(dir.path(), &config(&sim, "", ""));
    let out = Run::new(&["fetch", "--connector", "okta"])
        .in_dir(dir.path())
        .secret("OKTA_TOKEN", "wrong-token-1")
        .run();
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("401"), "{}", out.stderr);

    let site = Site::new((1..=3).map(|i| user(i, None)).collect());
    site.foreign_link.store(true, Ordering::SeqCst);
    let sim = start(&site);
    let out = run(
        dir.path(),
        &config(&sim, "page_size = 2\n", ""),
        &["fetch", "--connector", "okta"],
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("okta.example.net"), "{}", out.stderr);
    assert_eq!(sim.requests().len(), 1, "the link elsewhere is not followed");
}

/// The application's users: a `file` connector whose file has no last login.
const APP: &str = "id,username,email,status,joined,is_admin\n\
1,ana,user1@example.org,active,2020-01-01,false\n\
2,bo,USER2@example.org,active,2020-01-01,false\n\
3,user3@example.org,,active,2020-01-01,false\n\
4,ghost,ghost@example.org,active,2020-01-01,false\n";

const POLICY: &str = "admins: is_admin -> keep\nstale:  inactive > 90d -> deactivate\n";

#[test]
fn an_application_takes_its_last_logins_from_okta_and_says_so() {
    let site = Site::new(vec![
        user(1, Some("2026-10-01T08:00:00.000Z")),
        user(2, Some("2025-01-05T09:30:00.000Z")),
        user(3, None),
    ]);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.csv"), APP).unwrap();
    std::fs::write(dir.path().join("p.policy"), POLICY).unwrap();
    let app = "[connector.app]\nkind = \"file\"\npath = \"app.csv\"\nlogins_from = [\"okta\"]\n";
    let config = config(&sim, "", app);
    let plan = run(
        dir.path(),
        &config,
        &[
            "plan",
            "p.policy",
            "--connector",
            "app",
            "--as-of",
            "2026-11-23",
            "--format",
            "json",
        ],
    );
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
    assert_eq!(decision("1")["action"], "keep");
    assert_eq!(decision("1")["values"]["last_login"], "2026-10-01T08:00:00Z");
    assert_eq!(decision("1")["sources"]["last_login"], "okta");
    assert_eq!(decision("2")["action"], "deactivate");
    assert_eq!(decision("2")["sources"]["last_login"], "okta");
    // Never signed in to Okta: inactive since joining the application.
    assert_eq!(decision("3")["action"], "deactivate");
    assert_eq!(decision("3")["values"]["last_login"], "never");
    assert_eq!(decision("3")["sources"]["last_login"], "okta");
    // Not an Okta user: unknown, to review.
    assert_eq!(decision("4")["action"], "review");
    assert!(decision("4").get("sources").is_none(), "{}", decision("4"));
    assert!(
        plan.stderr
            .contains("1 users of connector `app` with no last login of their own are not users of connector `okta`"),
        "{}",
        plan.stderr
    );

    let why = run(
        dir.path(),
        &config,
        &[
            "explain",
            "p.policy",
            "--connector",
            "app",
            "--as-of",
            "2026-11-23",
            "bo",
        ],
    );
    assert_eq!(why.code, 0, "{}", why.stderr);
    assert!(
        why.stdout.contains("2025-01-05T09:30:00Z (from okta)"),
        "{}",
        why.stdout
    );
    let never = run(
        dir.path(),
        &config,
        &[
            "explain",
            "p.policy",
            "--connector",
            "app",
            "--as-of",
            "2026-11-23",
            "3",
        ],
    );
    assert!(never.stdout.contains("never (from okta)"), "{}", never.stdout);

    // check --connector: the last login comes from Okta, so no warning.
    let check = run(
        dir.path(),
        &config,
        &["check", "p.policy", "--connector", "app", "--as-of", "2026-11-23"],
    );
    assert_eq!((check.code, check.stderr.as_str()), (0, ""), "{}", check.stdout);
}

#[test]
fn logins_from_names_an_identity_provider_of_this_file() {
    let site = Site::new(Vec::new());
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.csv"), APP).unwrap();
    std::fs::write(dir.path().join("p.policy"), POLICY).unwrap();
    for (app, says) in [
        ("logins_from = [\"otka\"]", "no connector `otka` to take logins from"),
        (
            "logins_from = [\"app\"]",
            "connector `app` is of kind `file`, not an identity provider",
        ),
        ("logins_from = \"okta\"", "expected a list of strings"),
    ] {
        let more = format!("[connector.app]\nkind = \"file\"\npath = \"app.csv\"\n{app}\n");
        let out = run(
            dir.path(),
            &config(&sim, "", &more),
            &["check", "p.policy", "--connector", "app"],
        );
        assert_ne!(out.code, 0, "{app}");
        assert!(out.stderr.contains(says), "{app}: {}", out.stderr);
    }
    let out = run(
        dir.path(),
        &config(&sim, "logins_from = [\"okta\"]\n", ""),
        &["check", "p.policy", "--connector", "okta"],
    );
    assert!(
        out.stderr
            .contains("is an identity provider: it takes no `logins_from`"),
        "{}",
        out.stderr
    );
}
