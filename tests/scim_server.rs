//! The SCIM connector against the real scim2-server 0.8.3 (the server
//! `docs/evidence/scim2-server.md` probes): users and groups seeded through
//! its own API, then fetched, planned, applied (killed and resumed) and
//! undone through the dormant binary, and the server's state read back.
//!
//! `.ci/run` installs the server into `target/scim2-venv`; elsewhere the
//! test looks for `SCIM2_SERVER` (the path of the `scim2-server` script),
//! then `scim2-venv/bin/scim2-server` under `CARGO_TARGET_DIR` or
//! `target/`, then `scim2-server` on the `PATH`. Without it the test fails
//! under CI (`CI` set) and says it was skipped otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::Run;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "scim2-server-token-3c9d41";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The `scim2-server` script, if installed where the test looks.
fn installed() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = |target: PathBuf| target.join("scim2-venv/bin/scim2-server");
    let candidates = [
        std::env::var_os("SCIM2_SERVER").map(PathBuf::from),
        std::env::var_os("CARGO_TARGET_DIR").map(|t| venv(PathBuf::from(t))),
        Some(venv(root.join("target"))),
    ];
    let on_path = || {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("scim2-server"))
                .find(|f| f.is_file())
        })
    };
    candidates.into_iter().flatten().find(|p| p.is_file()).or_else(on_path)
}

/// The server, or `None` (the test skipped) when it is not installed.
fn server_or_skip() -> Option<PathBuf> {
    match installed() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!(
            "scim2-server is not installed: `python3 -m venv target/scim2-venv && target/scim2-venv/bin/pip install scim2-server==0.8.3` (.ci/run does)"
        ),
        None => {
            eprintln!(
                "skipped: scim2-server is not installed (python3 -m venv target/scim2-venv && target/scim2-venv/bin/pip install scim2-server==0.8.3, or set SCIM2_SERVER)"
            );
            None
        }
    }
}

/// A running scim2-server, killed when dropped. Its request log (stderr,
/// one line a request) is kept in `log`.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts it on a free port, with `config` as its ServiceProviderConfig
    /// when given, and waits (at most 30 s) until it answers.
    fn start(bin: &Path, dir: &Path, config: Option<Value>) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("scim2-server.log");
        let mut cmd = Command::new(bin);
        cmd.args([
            "--hostname",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--bearer-token",
            TOKEN,
        ]);
        if let Some(config) = config {
            let file = dir.join("spc.json");
            std::fs::write(&file, config.to_string()).unwrap();
            cmd.arg("--service-provider-config").arg(file);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", bin.display()));
        let mut server = Server { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if server.try_call("GET", "/v2/ServiceProviderConfig", None).is_some() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("scim2-server ended ({status}): {}", server.requests());
            }
            assert!(Instant::now() < deadline, "scim2-server did not answer within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }

    /// One request over a connection of its own (the server closes each).
    fn try_call(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(body.as_bytes()).ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).ok()?;
        let text = String::from_utf8_lossy(&answer);
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.try_call(method, path, body)
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    fn create(&self, what: &str, body: Value) -> String {
        let (status, created) = self.call("POST", &format!("/v2/{what}"), Some(&body));
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().unwrap().to_string()
    }

    /// Every user, by id, read page by page.
    fn users(&self) -> BTreeMap<String, Value> {
        let mut all = BTreeMap::new();
        let mut start = 1;
        loop {
            let (status, page) = self.call("GET", &format!("/v2/Users?startIndex={start}&count=1000"), None);
            assert_eq!(status, 200, "{page}");
            let resources = page["Resources"].as_array().cloned().unwrap_or_default();
            if resources.is_empty() {
                return all;
            }
            start += resources.len();
            for u in resources {
                all.insert(u["id"].as_str().unwrap().to_string(), u);
            }
        }
    }

    /// The server's request log so far.
    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many `method` requests each user's address was sent.
    fn sent(&self, method: &str) -> BTreeMap<String, usize> {
        let mut n = BTreeMap::new();
        let prefix = format!("\"{method} /v2/Users/");
        for line in self.requests().lines() {
            if let Some(rest) = line.split_once(&prefix).map(|(_, r)| r) {
                let id = rest.split([' ', '?']).next().unwrap_or("").to_string();
                *n.entry(id).or_insert(0) += 1;
            }
        }
        n
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seeds `n` users: `user{i}`, disabled when `i` is a multiple of 5,
/// without `active` when of 7, enterprise department `Contractors` when
/// of 6; and the group `admins` of users 1 and 2. Their ids, by `i`.
fn seed(server: &Server, n: usize) -> BTreeMap<usize, String> {
    let mut ids = BTreeMap::new();
    for i in 1..=n {
        let mut u = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "userName": format!("user{i}"),
            "name": {"givenName": "User", "familyName": format!("{i}")},
            "emails": [{"value": format!("user{i}@example.org"), "primary": true}],
            ENTERPRISE: {"department": if i.is_multiple_of(6) { "Contractors" } else { "Eng" }, "employeeNumber": format!("{i}")},
        });
        if !i.is_multiple_of(7) {
            u["active"] = json!(!i.is_multiple_of(5));
        }
        ids.insert(i, server.create("Users", u));
    }
    let members: Vec<Value> = [1, 2].iter().map(|i| json!({"value": ids[i]})).collect();
    server.create(
        "Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "admins", "members": members}),
    );
    ids
}

const POLICY: &str =
    "left: status == disabled -> delete\ncontractors: attr.department == \"Contractors\" -> deactivate\n";

fn configure(dir: &Path, server: &Server, extra: &str) {
    let keys = format!("token_env = \"SCIM_TOKEN\"\nbatch_size = 2\n{extra}");
    common::write_config(dir, &common::connector_config("idp", "scim", &server.url(), &keys));
    std::fs::write(dir.join("p.policy"), POLICY).unwrap();
}

fn dormant(dir: &Path, args: &[&str]) -> common::Done {
    Run::new(args).in_dir(dir).secret("SCIM_TOKEN", TOKEN).run()
}

fn plan(dir: &Path) {
    let out = dormant(
        dir,
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
    assert!(matches!(out.code, 0 | 3), "{}\n{}", out.stdout, out.stderr);
}

/// What the policy does to user `i` of [`seed`]'s: deleted (disabled),
/// deactivated (an active contractor), or nothing (a user without
/// `active` is reviewed).
fn planned(i: usize) -> Option<&'static str> {
    match (i.is_multiple_of(7), i.is_multiple_of(5), i.is_multiple_of(6)) {
        (true, _, _) => None,
        (false, true, _) => Some("delete"),
        (false, false, true) => Some("deactivate"),
        _ => None,
    }
}

#[test]
fn fetch_plan_apply_killed_and_resumed_against_scim2_server() {
    let Some(bin) = server_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Pages of at most 7: 30 users take five.
    let config = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true}, "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": 7}, "changePassword": {"supported": false},
        "sort": {"supported": false}, "etag": {"supported": true},
    });
    let server = Server::start(&bin, dir.path(), Some(config));
    let ids = seed(&server, 30);
    configure(dir.path(), &server, "");

    // Every seeded user, once, as SCIM has them.
    let out = dormant(dir.path(), &["fetch", "--connector", "idp"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let users: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let fetched: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(fetched.len(), 30);
    let unique: BTreeSet<&str> = fetched.iter().copied().collect();
    let seeded: BTreeSet<&str> = ids.values().map(String::as_str).collect();
    assert_eq!(unique, seeded);
    let one = users.iter().find(|u| u["id"] == ids[&1]).unwrap();
    assert_eq!(one["group_name"], json!(["admins"]), "{one}");
    assert_eq!(one["email"], "user1@example.org");
    assert_eq!(one["attr.employeeNumber"], "1");
    let seven = users.iter().find(|u| u["id"] == ids[&7]).unwrap();
    assert!(seven.get("status").is_none(), "no `active`: unknown ({seven})");

    plan(dir.path());
    let before = server.users();
    // Killed once two users have changed: slowed down so that it is
    // caught in the middle.
    configure(dir.path(), &server, "requests_per_second = 2\n");
    Run::new(&["apply", "plan.json", "--yes"])
        .in_dir(dir.path())
        .secret("SCIM_TOKEN", TOKEN)
        .kill_when(|| server.sent("DELETE").len() + server.sent("PATCH").len() >= 2);
    let sent = server.sent("DELETE").len() + server.sent("PATCH").len();
    assert!(
        sent < 10,
        "the first apply was to be killed before it ended ({sent} sent)"
    );
    configure(dir.path(), &server, "");
    let out = dormant(dir.path(), &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    // Exactly the planned users changed, each acted on once.
    let after = server.users();
    for (i, id) in &ids {
        match planned(*i) {
            Some("delete") => assert!(!after.contains_key(id), "user{i} deleted"),
            Some(_) => {
                assert_eq!(after[id]["active"], false, "user{i} deactivated");
                assert_eq!(after[id][ENTERPRISE], before[id][ENTERPRISE]);
            }
            None => assert_eq!(after[id], before[id], "user{i} untouched"),
        }
    }
    let (deletes, patches) = (server.sent("DELETE"), server.sent("PATCH"));
    assert_eq!(deletes.len(), 6, "{deletes:?}");
    assert_eq!(patches.len(), 4, "{patches:?}");
    assert!(
        deletes.values().chain(patches.values()).all(|&n| n == 1),
        "{deletes:?} {patches:?}"
    );
    assert!(server.sent("PUT").is_empty());

    // Undo puts the deactivated back; the deleted are gone for good.
    let out = dormant(dir.path(), &["undo", "dormant-journal.jsonl", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let undone = server.users();
    for (i, id) in &ids {
        if planned(*i) == Some("deactivate") {
            assert_eq!(undone[id]["active"], true, "user{i} reactivated");
        }
    }
}

#[test]
fn without_patch_or_etags_the_whole_user_is_put_back() {
    let Some(bin) = server_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The restricted configuration of the evidence (section 2.13): PATCH
    // answers 501, no ETags, pages of 5.
    let config = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": false}, "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": 5}, "changePassword": {"supported": false},
        "sort": {"supported": false}, "etag": {"supported": false},
    });
    let server = Server::start(&bin, dir.path(), Some(config));
    let ids = seed(&server, 13);
    configure(dir.path(), &server, "");
    plan(dir.path());
    let before = server.users();
    let out = dormant(dir.path(), &["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let after = server.users();
    for (i, id) in &ids {
        match planned(*i) {
            Some("delete") => assert!(!after.contains_key(id), "user{i} deleted"),
            Some(_) => {
                let (a, b) = (&after[id], &before[id]);
                assert_eq!(a["active"], false, "user{i} deactivated");
                // The PUT kept everything else (a PUT drops what it leaves out).
                for key in ["userName", "name", "emails", ENTERPRISE] {
                    assert_eq!(a[key], b[key], "user{i}: {key}");
                }
            }
            None => assert_eq!(after[id], before[id], "user{i} untouched"),
        }
    }
    assert!(server.sent("PATCH").is_empty(), "the config says no PATCH");
    assert_eq!(server.sent("PUT").len(), 2, "user6 and user12");
    let out = dormant(dir.path(), &["undo", "dormant-journal.jsonl", "--yes"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(server.users()[&ids[&6]]["active"], true);
}

/// The server dormant is tested against is itself held to the RFCs:
/// scim2-tester's checks (installed beside it by `.ci/run`) find no
/// requirement broken, on a server of their own (they create and delete
/// users).
#[test]
fn scim2_tester_finds_the_server_conformant() {
    let Some(bin) = server_or_skip() else { return };
    let python = bin.with_file_name("python");
    let has_tester = Command::new(&python)
        .args(["-c", "import scim2_tester, httpx2"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_tester {
        assert!(
            std::env::var_os("CI").is_none(),
            "scim2-tester is not installed beside scim2-server (`pip install 'scim2-tester[httpx2]==0.5.2'`, as .ci/run does)"
        );
        eprintln!("skipped: scim2-tester is not installed beside scim2-server");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&bin, dir.path(), None);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scim_conformance.py");
    let out = Command::new(&python)
        .arg(script)
        .args([server.url().as_str(), TOKEN])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.starts_with("checks "), "{said}");
}
