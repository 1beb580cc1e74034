//! The Microsoft Graph connector against a simulator of Graph's user list
//! and the Microsoft identity platform's token endpoint (CONNECTORS.md
//! section 6.4): the client credentials grant, pages along
//! `@odata.nextLink`, 429 with `Retry-After`, the later of the two sign-in
//! times, and no recorded sign-in as *unknown*; and Graph as the source of
//! an application's last logins (`logins_from`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::graph::*;
use common::sim::{Fault, Sim};
use common::Run;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::Ordering;

type Out = common::Done;

/// The Graph connector `corp` (Graph and its token endpoint both the
/// simulator), with `extra` lines, and any more tables in `more`.
fn config(sim: &Sim, extra: &str, more: &str) -> String {
    format!(
        "policy = \"p.policy\"\n{more}\n[connector.corp]\nkind = \"graph\"\nurl = \"{url}\"\nlogin_url = \"{url}\"\ntenant = \"{TENANT}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_env = \"GRAPH_SECRET\"\nrequests_per_second = 1000\ntimeout_seconds = 2\nretries = 4\n{extra}",
        url = sim.url()
    )
}

fn run(dir: &Path, config: &str, args: &[&str]) -> Out {
    common::write_config(dir, config);
    Run::new(args).in_dir(dir).secret("GRAPH_SECRET", SECRET).run()
}

#[test]
fn fetches_every_user_along_next_links_through_throttling() {
    let site = Site::new(vec![
        user(1, Some((Some("2026-01-02T00:00:00Z"), Some("2026-03-04T05:06:07Z")))),
        user(2, Some((Some("2026-05-01T00:00:00Z"), None))),
        // Never recorded: unknown, not never.
        user(3, None),
        user(4, Some((None, None))),
        user(5, Some((None, Some("2025-12-24T18:00:00Z")))),
    ]);
    // The token, then a 429 with `Retry-After` and a server error on pages.
    site.faults.at([(1, Fault::TooMany(1)), (3, Fault::ServerError)]);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &config(&sim, "page_size = 2\n", ""),
        &["fetch", "--connector", "corp"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let ids: Vec<&str> = got.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a01", "a02", "a03", "a04", "a05"]);
    assert_eq!(got[0]["last_login"], "2026-03-04T05:06:07Z", "the later of the two");
    assert_eq!(got[1]["last_login"], "2026-05-01T00:00:00Z");
    assert!(got[2].get("last_login").is_none(), "no signInActivity: unknown");
    assert!(got[3].get("last_login").is_none(), "no time recorded: unknown");
    assert_eq!(got[4]["last_login"], "2025-12-24T18:00:00Z");
    assert_eq!(got[0]["username"], "user1@example.org");
    assert_eq!(got[0]["status"], "active");
    assert_eq!(site.tokens.load(Ordering::SeqCst), 1, "one token for the whole list");
    let lists: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/v1.0/users")
        .collect();
    assert!(
        lists.iter().all(|r| r.query("$top").as_deref() == Some("2")),
        "{lists:?}"
    );
}

#[test]
fn a_bad_secret_fails_at_the_token_and_never_shows() {
    let site = Site::new(vec![user(1, None)]);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    common::write_config(dir.path(), &config(&sim, "", ""));
    let out = Run::new(&["fetch", "--connector", "corp"])
        .in_dir(dir.path())
        .secret("GRAPH_SECRET", "not-the-secret-9")
        .run();
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("401"), "{}", out.stderr);
}

#[test]
fn the_tenant_and_the_login_url_are_checked() {
    let sim = start(&Site::new(Vec::new()));
    let dir = tempfile::tempdir().unwrap();
    let bad_tenant = config(&sim, "", "").replace(TENANT, "a/b?c");
    let out = run(dir.path(), &bad_tenant, &["fetch", "--connector", "corp"]);
    assert!(out.stderr.contains("`a/b?c` is not a tenant"), "{}", out.stderr);
    let plain = config(&sim, "", "").replace(
        &format!("login_url = \"{}\"", sim.url()),
        "login_url = \"http://login.example.org\"",
    );
    let out = run(dir.path(), &plain, &["fetch", "--connector", "corp"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("login.example.org"), "{}", out.stderr);
}

#[test]
fn an_application_takes_its_last_logins_from_graph_and_says_so() {
    let site = Site::new(vec![
        user(1, Some((Some("2026-10-01T08:00:00Z"), None))),
        user(2, Some((None, Some("2025-01-05T09:30:00Z")))),
        user(3, None),
    ]);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.csv"),
        "id,username,email,is_admin,joined\n1,ana,user1@example.org,false,2020-01-01\n2,bo,user2@EXAMPLE.org,false,2020-01-01\n3,cy,user3@example.org,false,2020-01-01\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("p.policy"),
        "admins: is_admin -> keep\nstale:  inactive > 90d -> deactivate\n",
    )
    .unwrap();
    let app = "[connector.app]\nkind = \"file\"\npath = \"app.csv\"\nlogins_from = [\"corp\"]\n";
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
    let d = &json["decisions"];
    assert_eq!(
        (d[0]["action"].as_str(), d[0]["sources"]["last_login"].as_str()),
        (Some("keep"), Some("corp"))
    );
    assert_eq!(
        (d[1]["action"].as_str(), d[1]["sources"]["last_login"].as_str()),
        (Some("deactivate"), Some("corp"))
    );
    // Known to Graph, with no sign-in recorded: unknown, to review.
    assert_eq!(d[2]["action"], "review");
    assert_eq!(d[2]["values"]["last_login"], "unknown");
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
    assert!(
        why.stdout.contains("2025-01-05T09:30:00Z (from corp)"),
        "{}",
        why.stdout
    );
}
