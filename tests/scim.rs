//! The SCIM 2.0 connector against a simulator of a SCIM server, shaped as
//! `docs/evidence/scim2-server.md` records scim2-server 0.8.3: the
//! ServiceProviderConfig read first, pages capped by the server and
//! advanced by what arrived, membership from `/Groups`, deactivation by
//! PATCH or by GET and PUT with If-Match, deletion read back, undo, and
//! apply killed and resumed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::scim::*;
use common::sim::{Fault, Sim};
use common::Run;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

type Out = common::Done;

fn dormant(dir: &Path, sim: &Sim, extra: &str, args: &[&str]) -> Out {
    run_with(dir, sim, extra, TOKEN, args)
}

fn config(dir: &Path, sim: &Sim, extra: &str) {
    let keys = format!(
        "token_env = \"SCIM_TOKEN\"\nrequests_per_second = 1000\ntimeout_seconds = 1\nretries = 4\nbatch_size = 2\n{extra}"
    );
    let url = format!("{}/v2", sim.url());
    common::write_config(dir, &common::connector_config("idp", "scim", &url, &keys));
}

fn run_with(dir: &Path, sim: &Sim, extra: &str, token: &str, args: &[&str]) -> Out {
    config(dir, sim, extra);
    Run::new(args).in_dir(dir).secret("SCIM_TOKEN", token).run()
}

fn fetched(out: &Out) -> Vec<Value> {
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

fn ids(out: &Out) -> Vec<String> {
    fetched(out)
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

fn fetch(dir: &Path, sim: &Sim, extra: &str) -> Out {
    dormant(dir, sim, extra, &["fetch", "--connector", "idp"])
}

/// The `startIndex` and `count` of each `/Users` request, in order.
fn pages(sim: &Sim) -> Vec<(String, String)> {
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path() == "/v2/Users")
        .map(|r| {
            (
                r.query("startIndex").unwrap_or_default(),
                r.query("count").unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn fetches_every_user_once_at_every_pagination_edge_and_fault() {
    for n in [0, 1, 2, 3, 4, 5] {
        let site = Site::new(n);
        *site.max_results.lock().unwrap() = Some(2);
        let sim = start(&site);
        let dir = tempfile::tempdir().unwrap();
        let expected: Vec<String> = (1..=n).map(id).collect();
        assert_eq!(ids(&fetch(dir.path(), &sim, "")), expected, "{n} users");
        // The count asked is the announced maximum, never more.
        assert!(pages(&sim).iter().all(|(_, c)| c == "2"), "{:?}", pages(&sim));
        assert_eq!(sim.requests()[0].path(), "/v2/ServiceProviderConfig", "asked first");
    }
    let site = Site::new(5);
    *site.max_results.lock().unwrap() = Some(2);
    site.faults.at([
        (1, Fault::TooMany(1)),
        (3, Fault::Truncate),
        (4, Fault::ServerError),
        (6, Fault::Drop),
        (7, Fault::Slow(1500)),
    ]);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let expected: Vec<String> = (1..=5).map(id).collect();
    assert_eq!(ids(&fetch(dir.path(), &sim, "")), expected);
}

#[test]
fn a_page_shorter_than_asked_does_not_end_the_list() {
    // No maxResults announced, and a server that gives 3 whatever is asked
    // [E §2.10]: dormant asks for 100 and advances by what arrived.
    let site = Site::new(10);
    *site.max_results.lock().unwrap() = None;
    *site.cap.lock().unwrap() = 3;
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let expected: Vec<String> = (1..=10).map(id).collect();
    assert_eq!(ids(&fetch(dir.path(), &sim, "")), expected);
    let starts: Vec<String> = pages(&sim).into_iter().map(|(s, _)| s).collect();
    assert_eq!(starts, ["1", "4", "7", "10"]);
    assert!(pages(&sim).iter().all(|(_, c)| c == "100"));
}

/// A server whose `totalResults` claims more users than it lists: the
/// empty page past the last user ends the reading, and the fetch fails, as
/// every platform's does, rather than plan from a list that may miss users.
#[test]
fn a_total_larger_than_the_list_ends_on_the_empty_page_and_fails() {
    let site = Site::new(5);
    *site.max_results.lock().unwrap() = Some(2);
    site.overcount.store(3, Ordering::SeqCst);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let out = fetch(dir.path(), &sim, "");
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("nothing was fetched"), "{}", out.stderr);
    let starts: Vec<String> = pages(&sim).into_iter().map(|(s, _)| s).collect();
    assert_eq!(starts, ["1", "3", "5", "6"], "stops at the first empty page");
}

#[test]
fn what_a_scim_user_becomes() {
    let site = Site::new(6);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let users = fetched(&fetch(dir.path(), &sim, ""));
    let two = &users[1];
    assert_eq!(two["username"], "member2");
    assert_eq!(two["email"], "member2@example.org", "the primary email");
    assert_eq!(two["name"], "Member 2");
    assert_eq!(two["status"], "active");
    assert_eq!(two["group"], json!(["g-admins", "g-all"]), "{two}");
    assert_eq!(two["group_name"], json!(["admins", "all"]));
    assert_eq!(two["attr.department"], "Eng", "{two}");
    assert!(two["joined"].as_str().unwrap().starts_with("2022-01-10T09:00:00"));
    assert!(two.get("last_login").is_none(), "SCIM has no last login: unknown");
    // `active` never set: unknown, not disabled [E §2.3].
    assert!(users[3].get("status").is_none(), "{}", users[3]);
    assert_eq!(users[2]["group"], json!(["g-all"]));
    // No /Groups: membership unknown, and said.
    site.no_groups.store(true, Ordering::SeqCst);
    let out = fetch(dir.path(), &sim, "");
    assert!(fetched(&out)[1].get("group").is_none());
    assert!(out.stderr.contains("group membership is unknown"), "{}", out.stderr);
}

#[test]
fn a_bad_token_a_filter_and_what_check_says() {
    let site = Site::new(6);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    let out = run_with(
        dir.path(),
        &sim,
        "",
        "wrong-token-123",
        &["fetch", "--connector", "idp"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("answered 401: Authorization failure. The authorization header is invalid or missing"),
        "{}",
        out.stderr
    );
    // The filter goes to the server as written, encoded.
    let out = fetch(dir.path(), &sim, "filter = 'active eq true'\n");
    assert_eq!(ids(&out), [id(1), id(2), id(3), id(5), id(6)]);
    let last = pages(&sim).len();
    let asked = sim
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/v2/Users")
        .nth(last - 1)
        .unwrap();
    assert_eq!(asked.query("filter").as_deref(), Some("active%20eq%20true"));
    // The server's refusal, with its scimType.
    let out = fetch(dir.path(), &sim, "filter = 'nonsense'\n");
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("invalid syntax at column 10 (scimType invalidFilter)"),
        "{}",
        out.stderr
    );
    std::fs::write(dir.path().join("p.policy"), "idle: last_login > 365d -> delete\n").unwrap();
    let out = dormant(
        dir.path(),
        &sim,
        "",
        &["check", "p.policy", "--connector", "idp", "--error-format", "plain"],
    );
    assert!(out.stderr.contains("SCIM has no last login"), "{}", out.stderr);
    assert!(out.stderr.contains("enrich"), "{}", out.stderr);
}

const POLICY: &str =
    "left: status == disabled -> delete\ncontractors: attr.department == \"Contractors\" -> deactivate\n";

/// A plan of `POLICY`: member 6 deactivated (a contractor), 3 and 5
/// (disabled) deleted; 12, a contractor without `active`, goes to review.
fn planned(dir: &Path, sim: &Sim, site: &Site, extra: &str) {
    for i in [3, 5] {
        let mut users = site.users.lock().unwrap();
        let u = users.iter_mut().find(|u| u["id"] == id(i)).unwrap();
        u["active"] = json!(false);
    }
    std::fs::write(dir.join("p.policy"), POLICY).unwrap();
    let out = dormant(
        dir,
        sim,
        extra,
        &[
            "plan",
            "p.policy",
            "--connector",
            "idp",
            "--format",
            "json",
            "--output",
            "plan.json",
        ],
    );
    assert!(matches!(out.code, 0 | 3), "{}", out.stderr);
}

fn requests(sim: &Sim, method: &str) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for r in sim.requests().iter().filter(|r| r.method == method) {
        *n.entry(r.path().to_string()).or_insert(0) += 1;
    }
    n
}

fn path(i: u64) -> String {
    format!("/v2/Users/{}", id(i))
}

#[test]
fn deactivates_by_patch_deletes_reads_back_and_undo_reactivates() {
    let site = Site::new(12);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, &site, "");
    let out = dormant(dir.path(), &sim, "", &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("3 done"), "{}", out.stdout);
    let patches = requests(&sim, "PATCH");
    assert_eq!(patches.keys().collect::<Vec<_>>(), [&path(6)]);
    let patch = sim.requests().into_iter().find(|r| r.method == "PATCH").unwrap();
    let body: Value = serde_json::from_str(&patch.body).unwrap();
    assert_eq!(
        body["Operations"],
        json!([{"op": "replace", "path": "active", "value": false}])
    );
    assert_eq!(site.get(&id(6)).unwrap()["active"], false);
    assert!(
        site.get(&id(12)).unwrap().get("active").is_none(),
        "reviewed, untouched"
    );
    assert!(site.get(&id(3)).is_none() && site.get(&id(5)).is_none());
    assert_eq!(requests(&sim, "DELETE").len(), 2);
    assert!(requests(&sim, "PUT").is_empty());
    // Nobody else was touched.
    assert_eq!(site.users.lock().unwrap().len(), 10);
    let out = dormant(dir.path(), &sim, "", &["undo", "dormant-journal.jsonl", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(site.get(&id(6)).unwrap()["active"], true);
    assert!(out.stdout.contains("deleted for good"), "{}", out.stdout);
}

#[test]
fn without_patch_the_whole_user_is_put_back_with_if_match() {
    for (announced, answers_501) in [(false, false), (true, true)] {
        let site = Site::new(12);
        site.patch.store(announced, Ordering::SeqCst);
        let sim = start(&site);
        let dir = tempfile::tempdir().unwrap();
        planned(dir.path(), &sim, &site, "");
        site.patch_501.store(answers_501, Ordering::SeqCst);
        let version = site.get(&id(6)).unwrap()["meta"]["version"].clone();
        let out = dormant(dir.path(), &sim, "", &["apply", "plan.json", "--yes"]);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("3 done"), "{}", out.stdout);
        // A 501 is the server's last word: one PATCH, then PUTs [E §2.13].
        assert_eq!(requests(&sim, "PATCH").len(), usize::from(answers_501));
        let put = sim
            .requests()
            .into_iter()
            .find(|r| r.method == "PUT" && r.path() == path(6))
            .unwrap();
        assert_eq!(put.header("if-match"), version.as_str());
        let six = site.get(&id(6)).unwrap();
        assert_eq!(six["active"], false);
        assert_eq!(
            six[ENTERPRISE]["department"], "Contractors",
            "the rest put back as it was"
        );
        assert_eq!(six["emails"].as_array().unwrap().len(), 2);
    }
    // Without ETags, no If-Match: the server would refuse any [E §2.13].
    let site = Site::new(12);
    site.patch.store(false, Ordering::SeqCst);
    site.etag.store(false, Ordering::SeqCst);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, &site, "");
    let out = dormant(dir.path(), &sim, "", &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(sim
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .all(|r| r.header("if-match").is_none()));
    assert_eq!(site.get(&id(6)).unwrap()["active"], false);
}

#[test]
fn a_user_gone_already_is_left_alone_and_a_changed_one_is_not_overwritten() {
    let site = Site::new(12);
    site.patch.store(false, Ordering::SeqCst);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, &site, "");
    // Member 3 deleted by someone else since the plan: left alone.
    site.users.lock().unwrap().retain(|u| u["id"] != id(3));
    let out = dormant(dir.path(), &sim, "", &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("2 done, 1 skipped"), "{}", out.stdout);
    assert!(out.stdout.contains("no longer on the platform"), "{}", out.stdout);
    // Someone changes each user between dormant's read and its PUT: the
    // server refuses the PUT (412), and dormant does not overwrite them.
    let site = Site::new(12);
    site.patch.store(false, Ordering::SeqCst);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, &site, "");
    site.race.store(true, Ordering::SeqCst);
    let out = dormant(dir.path(), &sim, "", &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("answered 412: Failed to update. Resource has changed on the server"),
        "{}",
        out.stdout
    );
    assert_eq!(site.get(&id(6)).unwrap()["active"], true);
}

#[test]
fn killed_in_the_middle_then_resumed_acts_once_on_each() {
    let site = Site::new(12);
    let sim = start(&site);
    let dir = tempfile::tempdir().unwrap();
    planned(dir.path(), &sim, &site, "");
    *site.slow_writes.lock().unwrap() = Some(Duration::from_millis(300));
    config(dir.path(), &sim, "");
    Run::new(&["apply", "plan.json", "--yes"])
        .in_dir(dir.path())
        .secret("SCIM_TOKEN", TOKEN)
        .kill_when(|| requests(&sim, "PATCH").len() + requests(&sim, "DELETE").len() >= 2);
    *site.slow_writes.lock().unwrap() = None;
    let out = dormant(dir.path(), &sim, "", &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let (p, d) = (requests(&sim, "PATCH"), requests(&sim, "DELETE"));
    assert_eq!((p.len(), d.len()), (1, 2), "{p:?} {d:?}");
    assert!(d.values().chain(p.values()).all(|&n| n == 1), "{p:?} {d:?}");
    assert!(site.get(&id(3)).is_none() && site.get(&id(5)).is_none());
    assert_eq!(site.get(&id(6)).unwrap()["active"], false);
    assert_eq!(site.users.lock().unwrap().len(), 10);
}
