//! The HTML report in a real browser: Debian's headless Chromium, driven
//! over WebDriver (`chromedriver`) by a client of our own (HTTP/1.1 on
//! 127.0.0.1, a few commands). Each state is kept as a screenshot, with the
//! report itself, under `target/browser-screenshots/`.
//!
//! Without `chromedriver` the tests say they were skipped, except under CI
//! (`CI` set), where they fail: `.ci/run` installs it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use common::Run;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const AS_OF: &str = "2026-11-23";
const POLICY: &str = "policies/example.policy";
const USERS: &str = "examples/users.csv";
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const ARROW_DOWN: &str = "\u{E015}";

/// Where screenshots and reports are kept: `target/browser-screenshots/`.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `chromedriver`, or None (a skip) where it is missing outside CI.
fn chromedriver() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("chromedriver"))
                .find(|p| p.is_file())
        })
        .unwrap_or_default();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver is missing: apt-get install -y chromium chromium-driver"
        );
        eprintln!("skipped: no chromedriver (apt-get install -y chromium chromium-driver)");
    }
    found
}

/// One browser, through chromedriver on a port of its own.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Browser {
    fn start(chromedriver: &Path) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut b = Browser {
            driver,
            port,
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while request(port, "GET", "/status", None).map(|v| v["value"]["ready"] == true) != Some(true) {
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let mut options = json!({"args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1280,1000", "--hide-scrollbars"
        ]});
        if let Some(path) = chromium {
            options["binary"] = json!(path);
        }
        let v = b.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}}),
        );
        b.session = v["sessionId"].as_str().expect("a session").to_string();
        b
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let body = (method == "POST").then_some(&body);
        let v = request(self.port, method, path, body).expect("chromedriver answers");
        assert!(v["value"]["error"].is_null(), "{method} {path}: {v}");
        v["value"].clone()
    }

    fn cmd(&self, method: &str, what: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}/{what}", self.session), body)
    }

    fn open(&self, file: &Path) {
        self.cmd("POST", "url", json!({"url": format!("file://{}", file.display())}));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    fn js(&self, script: &str) -> Value {
        self.cmd("POST", "execute/sync", json!({"script": script, "args": []}))
    }

    /// Presses keys, one after the other, as keyboard events.
    fn keys(&self, keys: &[&str]) {
        let actions: Vec<Value> = keys
            .iter()
            .flat_map(|k| {
                [
                    json!({"type": "keyDown", "value": k}),
                    json!({"type": "keyUp", "value": k}),
                ]
            })
            .collect();
        self.cmd(
            "POST",
            "actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        );
    }

    /// Types text as keyboard events.
    fn type_text(&self, text: &str) {
        let keys: Vec<String> = text.chars().map(String::from).collect();
        self.keys(&keys.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// Tabs until the focused element satisfies `test` (a JS expression
    /// on `e`), at most `n` times.
    fn tab_to(&self, test: &str, n: usize) {
        for _ in 0..n {
            self.keys(&[TAB]);
            let e = self.js(&format!("const e = document.activeElement; return !!(e && ({test}));"));
            if e == true {
                return;
            }
        }
        panic!("Tab never reached {test}");
    }

    fn screenshot(&self, name: &str) {
        let v = self.cmd("GET", "screenshot", Value::Null);
        let png = base64(v.as_str().expect("base64 text"));
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(self.port, "DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One HTTP/1.1 exchange with chromedriver: its JSON answer, or None when
/// it cannot be reached (yet). chromedriver keeps the connection open
/// whatever the request says: the answer is read by its Content-Length.
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> Option<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let (split, length) = loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())?;
            break (split + 4, length);
        }
    };
    while raw.len() < split + length {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    serde_json::from_slice(&raw[split..split + length]).ok()
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !matches!(c, b'=' | b'\n' | b'\r'))
        .map(value)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// `dormant ARGS` into the artifacts folder as `name`.
fn report(name: &str, args: &[&str]) -> PathBuf {
    let done = Run::new(args).run();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let path = artifacts().join(name);
    std::fs::write(&path, &done.stdout).unwrap();
    path
}

fn count_text(b: &Browser) -> String {
    b.js("return document.getElementById('f-count').textContent;")
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_example_report_filters_and_explains_by_keyboard() {
    let Some(driver) = chromedriver() else { return };
    let html = report(
        "example-plan.html",
        &["plan", POLICY, "--users", USERS, "--as-of", AS_OF, "--format", "html"],
    );
    let b = Browser::start(&driver);
    b.open(&html);
    assert_eq!(
        b.js("return document.title;"),
        "dormant plan as of 2026-11-23T00:00:00Z"
    );
    let headings = b.js("return [...document.querySelectorAll('h1, h2')].map(h => h.textContent);");
    for h in [
        "Summary",
        "Provenance",
        "Warnings",
        "Sent to review (2)",
        "Users not kept (7)",
    ] {
        assert!(headings.as_array().unwrap().iter().any(|x| x == h), "{h} in {headings}");
    }
    assert_eq!(
        b.js("return document.querySelectorAll('svg[role=img] title').length;"),
        2
    );
    // Every input has a label.
    assert_eq!(
        b.js("return [...document.querySelectorAll('input, select')].every(e => e.labels.length > 0);"),
        true
    );
    assert_eq!(count_text(&b), "Showing 1–7 of 7 matching users.");
    let prov = b.js("return document.querySelector('dl.prov').textContent;");
    assert!(prov.as_str().unwrap().contains("file:examples/users.csv"), "{prov}");
    b.screenshot("example-1-loaded");

    // The search box, reached and filled by keyboard.
    b.js("document.activeElement.blur(); window.scrollTo(0, 0); return 0;");
    b.tab_to("e.id === 'f-text'", 40);
    b.type_text("ivan");
    assert_eq!(count_text(&b), "Showing 1–1 of 1 matching users.");
    b.screenshot("example-2-filtered");

    // The explanation, opened by keyboard.
    b.tab_to("e.classList.contains('explain')", 10);
    b.keys(&[ENTER]);
    let shown = b.js("const b = document.querySelector('button.explain');\
         const x = document.querySelector('tr.explanation pre');\
         return [b.getAttribute('aria-expanded'), x ? x.textContent : ''];");
    assert_eq!(shown[0], "true");
    let text = shown[1].as_str().unwrap();
    assert!(text.starts_with("ivan <ivan@example.org> (u009)"), "{text}");
    assert!(
        text.contains("decision  review") && text.contains("last_login"),
        "{text}"
    );
    b.screenshot("example-3-explained");
    b.keys(&[ENTER]);
    assert_eq!(b.js("return document.querySelectorAll('tr.explanation').length;"), 0);

    // By action, by keyboard: the select, then the arrow keys to `delete`.
    // (Back to the search box, emptied: the select is the next Tab stop.)
    b.js("const q = document.getElementById('f-text'); q.value = ''; q.dispatchEvent(new Event('input')); q.focus(); return 0;");
    b.tab_to("e.id === 'f-action'", 10);
    for _ in 0..10 {
        if b.js("const s = document.getElementById('f-action'); return s.options[s.selectedIndex].text;") == "delete" {
            break;
        }
        b.keys(&[ARROW_DOWN]);
    }
    let badges = b.js("return [...document.querySelectorAll('#decisions-body .badge')].map(e => e.textContent);");
    assert!(!badges.as_array().unwrap().is_empty());
    assert!(badges.as_array().unwrap().iter().all(|a| a == "delete"), "{badges}");
    b.screenshot("example-4-by-action");

    // A kept user's explanation: a <details>, opened by keyboard.
    b.tab_to("e.tagName === 'SUMMARY'", 40);
    b.keys(&[ENTER]);
    assert_eq!(b.js("return document.querySelector('details.kept').open;"), true);
    let kept = b.js("return document.querySelector('details.kept pre').textContent;");
    assert!(kept.as_str().unwrap().contains("decision  keep"), "{kept}");
    b.screenshot("example-5-kept-explained");
}

#[test]
fn a_hostile_user_name_stays_text() {
    let Some(driver) = chromedriver() else { return };
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.csv");
    let name = "</script><script>window.pwned=1</script><!--<img src=x onerror=\"window.pwned=2\">";
    std::fs::write(
        &users,
        format!(
            "id,username,email,status,joined,last_login\n\
             u1,\"{}\",evil@example.org,invited,2020-01-01,\n\
             u2,kim,kim@example.org,active,2020-01-01,\n",
            name.replace('"', "\"\"")
        ),
    )
    .unwrap();
    let users = users.to_str().unwrap();
    let html = report(
        "hostile-plan.html",
        &["plan", POLICY, "--users", users, "--as-of", AS_OF, "--format", "html"],
    );
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(!text.contains("<script>window.pwned") && !text.contains("<img src=x"));
    let b = Browser::start(&driver);
    b.open(&html);
    assert_eq!(b.js("return window.pwned === undefined;"), true);
    assert_eq!(b.js("return document.querySelectorAll('img').length;"), 0);
    let rows = b.js("return document.getElementById('decisions-body').textContent;");
    assert!(rows.as_str().unwrap().contains(name), "{rows}");
    b.screenshot("hostile-1-loaded");
}

#[test]
fn a_report_of_100000_users_opens_and_filters() {
    let Some(driver) = chromedriver() else { return };
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.json");
    let gen = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_users.py");
    let ok = Command::new("python3")
        .arg(&gen)
        .arg("100000")
        .arg(&users)
        .status()
        .expect("python3 runs");
    assert!(ok.success());
    let users = users.to_str().unwrap();
    let html = artifacts().join("users-100000-plan.html");
    let out = html.to_str().unwrap();
    let done = Run::new(&[
        "plan", POLICY, "--users", users, "--as-of", AS_OF, "--format", "html", "--output", out,
    ])
    .run();
    assert!(done.code == 0 || done.code == 3, "{}", done.stderr);
    let size = std::fs::metadata(&html).unwrap().len();
    // A million users stay under 50 MB: the explanations stop at a budget.
    assert!(size < 25 << 20, "{size} bytes for 100,000 users");
    let b = Browser::start(&driver);
    let started = Instant::now();
    b.open(&html);
    let shown = count_text(&b);
    let took = started.elapsed();
    eprintln!("100,000 users: {size} bytes, shown in {took:?}: {shown}");
    assert!(shown.starts_with("Showing 1–100 of "), "{shown}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    b.screenshot("users-100000-1-loaded");
    b.js("document.activeElement.blur(); window.scrollTo(0, 0); return 0;");
    b.tab_to("e.id === 'f-text'", 40);
    b.type_text("vendor.example");
    let filtered = count_text(&b);
    assert!(
        filtered.starts_with("Showing 1–100 of ") && filtered != shown,
        "{filtered}"
    );
    b.screenshot("users-100000-2-filtered");
    b.tab_to("e.classList.contains('explain')", 10);
    b.keys(&[ENTER]);
    let x = b.js("const x = document.querySelector('tr.explanation pre'); return x ? x.textContent : '';");
    assert!(x.as_str().unwrap().contains("vendor.example"), "{x}");
    b.screenshot("users-100000-3-explained");
}

#[test]
fn the_forecast_timeline_opens() {
    let Some(driver) = chromedriver() else { return };
    let html = report(
        "example-forecast.html",
        &[
            "forecast", POLICY, "--users", USERS, "--as-of", AS_OF, "--days", "90", "--format", "html",
        ],
    );
    let b = Browser::start(&driver);
    b.open(&html);
    assert_eq!(
        b.js("return document.querySelector('h1').textContent;"),
        "dormant forecast from 2026-11-23T00:00:00Z for 90 days"
    );
    let weeks = b.js("return document.querySelectorAll('#chart-weeks ~ rect.bar, svg rect.bar').length;");
    assert_eq!(weeks, 13);
    let changes = b.js("return document.querySelectorAll('#changes tbody tr').length;");
    assert!(changes.as_u64().unwrap() > 0, "{changes}");
    b.screenshot("forecast-1-loaded");
}
