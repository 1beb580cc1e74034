//! The HTTP foundation on its own: tokens acquired when first needed and
//! renewed once on a 401, retries, and secrets kept out of errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::{Reply, Sim};
use common::Run;
use dormant::http::{Body, Client, Secret, Settings, Token, TokenFuture, Tokens};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const CLIENT_SECRET: &str = "cs-very-secret-81f0";

fn settings() -> Settings {
    Settings {
        requests_per_second: 1000.0,
        requests_per_day: None,
        concurrency: 2,
        timeout: Duration::from_secs(2),
        retries: 2,
        backoff: Duration::from_millis(10),
        max_wait: Duration::from_secs(5),
    }
}

/// An OAuth2-style token endpoint (client_credentials, a form body); its
/// tokens last `lifetime` when it says.
struct OAuth {
    secret: Secret,
    lifetime: Option<Duration>,
}

impl OAuth {
    fn new(secret: &str, lifetime: Option<Duration>) -> Box<OAuth> {
        Box::new(OAuth {
            secret: Secret::new(secret),
            lifetime,
        })
    }
}

impl Tokens for OAuth {
    fn secrets(&self) -> Vec<Secret> {
        vec![self.secret.clone()]
    }

    fn acquire<'a>(&'a self, client: &'a Client) -> TokenFuture<'a> {
        Box::pin(async move {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_secret", self.secret.expose()),
            ];
            let answer = client
                .send_unauthenticated(reqwest::Method::POST, "/oauth2/token", Some(Body::Form(&form)))
                .await?;
            let token = answer.json(client.platform, "/oauth2/token")?["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            Ok(Token {
                header: "authorization",
                value: format!("Bearer {token}"),
                secret: Secret::new(token),
                lifetime: self.lifetime,
            })
        })
    }
}

/// Tokens `tok-1`, `tok-2`, ...; only the newest is accepted, and the first
/// expires after two calls.
fn server() -> (Sim, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let i = issued.clone();
    let sim = Sim::start(move |r| match r.path() {
        "/oauth2/token" => {
            assert!(r.header("authorization").is_none(), "no old token on a token call");
            let n = i.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::Json(200, json!({"access_token": format!("tok-{n}"), "expires_in": 3600}))
        }
        _ => {
            let newest = format!("Bearer tok-{}", i.load(Ordering::SeqCst));
            let call = calls.fetch_add(1, Ordering::SeqCst);
            if r.header("authorization") == Some(newest.as_str()) && !(call == 2 && newest.ends_with("-1")) {
                Reply::Json(200, json!({"ok": true}))
            } else {
                Reply::Json(
                    401,
                    json!({"error": "invalid_token", "error_description": "The access token expired"}),
                )
            }
        }
    });
    (sim, issued)
}

#[test]
fn tokens_are_acquired_then_renewed_once_on_401() {
    let (sim, issued) = server();
    let client = Client::new("Test", &sim.url(), settings())
        .unwrap()
        .with_tokens(OAuth::new(CLIENT_SECRET, None));
    dormant::http::block_on(async {
        for _ in 0..4 {
            client.get_json("/data").await.unwrap();
        }
    })
    .unwrap();
    // One token at first, one more when the first expired on the third call.
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    let log = sim.requests();
    assert_eq!(log.iter().filter(|r| r.path() == "/oauth2/token").count(), 2);
    assert_eq!(log.last().unwrap().header("authorization"), Some("Bearer tok-2"));
}

#[test]
fn a_refused_token_is_an_error_without_the_secret() {
    let sim = Sim::start(|r| match r.path() {
        "/oauth2/token" => Reply::Json(
            401,
            json!({"error": "invalid_client", "error_description": format!("bad secret {CLIENT_SECRET}")}),
        ),
        _ => Reply::Json(200, json!({})),
    });
    let client = Client::new("Test", &sim.url(), settings())
        .unwrap()
        .with_tokens(OAuth::new(CLIENT_SECRET, None));
    let e = dormant::http::block_on(client.get_json("/data")).unwrap().unwrap_err();
    let text = e.to_string();
    // The platform echoed the secret back; the error does not.
    assert_eq!(text, "Test: POST /oauth2/token answered 401: bad secret [secret]");
}

#[test]
fn a_token_is_renewed_before_it_runs_out_and_form_bodies_are_encoded() {
    let (sim, issued) = server();
    let client = Client::new("Test", &sim.url(), settings())
        .unwrap()
        .with_tokens(OAuth::new("s3cret &=+", Some(Duration::from_millis(200))));
    dormant::http::block_on(async {
        client.get_json("/data").await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        client.get_json("/data").await.unwrap();
    })
    .unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    let log = sim.requests();
    // No request was refused: the second token came before the first ran out.
    assert_eq!(log.iter().filter(|r| r.path() == "/data").count(), 2);
    let token_call = log.iter().find(|r| r.path() == "/oauth2/token").unwrap();
    assert_eq!(
        token_call.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        token_call.body,
        "grant_type=client_credentials&client_secret=s3cret+%26%3D%2B"
    );
}

// Secrets that cannot leak: an echoed key in any form, redacted before the
// message is cut; redirects refused, the other server never reached.

/// A key with characters that every encoding writes differently (`+`, `/`,
/// `=`, a space), 31 characters long.
const KEY: &str = "dk_live+7Fq/2x=Vb9 pL3mZ8wR4tY0";

/// What a platform writes before it echoes the key: the cut fell 30
/// characters into the key when it was cut before being redacted.
fn padding() -> String {
    "p".repeat(170)
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for k in 0..4 {
            out.push(if k <= chunk.len() {
                A[(n >> (18 - 6 * k)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}

/// Percent-encoding of every byte but letters, digits and `keep`.
fn percent(text: &str, keep: &str, lower: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) => char::from(b).to_string(),
            b if lower => format!("%{b:02x}"),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// Every form the echo server writes the key in, by name: the text that
/// stands for the key, and the runs of it that must not show (the text
/// itself, or for a blob, the characters that encode the key).
fn echoes() -> Vec<(&'static str, String, String)> {
    let basic = b64(format!("root:{KEY}").as_bytes());
    // "root:" takes 40 bits: characters 7 on encode the key's bytes alone.
    let basic_key = basic[7..basic.len() - 2].to_string();
    let escaped = serde_json::to_string(KEY).unwrap().replace('/', "\\/");
    let unicode: String = KEY.chars().map(|c| format!("\\u{:04X}", c as u32)).collect();
    vec![
        ("plain", KEY.to_string(), KEY.to_string()),
        ("percent", percent(KEY, "", false), percent(KEY, "", false)),
        ("percent-lower", percent(KEY, "", true), percent(KEY, "", true)),
        (
            "percent-some",
            percent(KEY, "-_.~+/", false),
            percent(KEY, "-_.~+/", false),
        ),
        (
            "form",
            percent(KEY, "", false).replace("%20", "+"),
            percent(KEY, "", false).replace("%20", "+"),
        ),
        ("base64", b64(KEY.as_bytes()), b64(KEY.as_bytes())),
        (
            "base64-url",
            b64(KEY.as_bytes())
                .trim_end_matches('=')
                .replace('+', "-")
                .replace('/', "_"),
            b64(KEY.as_bytes())
                .trim_end_matches('=')
                .replace('+', "-")
                .replace('/', "_"),
        ),
        ("basic", format!("Basic {basic}"), basic_key),
        // Inside a JSON string: the platform's message, decoded by dormant.
        ("json", escaped.trim_matches('"').to_string(), escaped.clone()),
        ("unicode", unicode.clone(), unicode),
    ]
}

/// Whether `text` holds a run of 8 characters of `secret`.
fn holds_part(text: &str, secret: &str) -> Option<String> {
    let s: Vec<char> = secret.chars().collect();
    s.windows(8)
        .map(|w| w.iter().collect::<String>())
        .find(|w| text.contains(w.as_str()))
}

fn assert_no_part(text: &str, form: &str, encoded: &str) {
    for secret in [KEY, encoded] {
        if let Some(part) = holds_part(text, secret) {
            panic!("`{part}` of the key ({form}) shows in: {text}");
        }
    }
}

/// Answers `/echo/NAME` (and `/fail/NAME`, 500) with 170 characters, the
/// key in form NAME, and more text, as a bare text or a JSON message.
fn echo_server() -> Sim {
    let forms = echoes();
    Sim::start(move |r| {
        let (status, name) = match r.path().split('/').collect::<Vec<_>>()[..] {
            ["", "echo", name] => (400, name),
            ["", "fail", name] => (500, name),
            _ => return Reply::Json(404, json!({})),
        };
        let Some((_, text, _)) = forms.iter().find(|(n, ..)| *n == name) else {
            return Reply::Json(404, json!({}));
        };
        let said = format!("{}{text} is not a key this server knows, and that is all", padding());
        if name == "json" || name == "unicode" {
            Reply::Raw(status, format!("{{\"message\": \"{said}\"}}"))
        } else {
            Reply::Raw(status, said)
        }
    })
}

#[test]
fn an_echoed_key_is_redacted_in_every_form_before_the_message_is_cut() {
    let sim = echo_server();
    let client = Client::new("Test", &sim.url(), settings()).unwrap();
    client
        .set_auth("authorization", &format!("Apikey {KEY}"), &Secret::new(KEY))
        .unwrap();
    dormant::http::block_on(async {
        for (name, _, encoded) in echoes() {
            for path in [format!("/echo/{name}"), format!("/fail/{name}")] {
                let e = client.get(&path).await.unwrap_err().to_string();
                assert_no_part(&e, name, &encoded);
                // The message is still the platform's, cut after the mark.
                let message = &e[e.find(&padding()).unwrap_or_else(|| panic!("{name}: {e}"))..];
                assert!(message.contains("[secret]") && message.ends_with('…'), "{name}: {e}");
            }
        }
    })
    .unwrap();
}

/// A server that records what reaches it and answers as a platform would.
fn elsewhere() -> Sim {
    Sim::start(|r| match r.path() {
        p if p.ends_with("token") || p.ends_with("get_token/") => {
            Reply::Json(200, json!({"access_token": "stolen", "token": "stolen"}))
        }
        _ => Reply::Json(200, json!({"users": [], "data": {"items": []}})),
    })
}

/// Redirects every request to the same path on `to`.
fn redirecting(status: u16, to: String) -> Sim {
    Sim::start(move |r| Reply::Redirect(status, format!("{to}{}", r.target)))
}

#[test]
fn a_redirect_is_an_error_and_the_other_server_receives_nothing() {
    let other = elsewhere();
    for status in [301, 302, 303, 307, 308] {
        let sim = redirecting(status, other.url());
        // A platform's own header (Metric Insights' `Token`), which reqwest
        // would carry along to another host.
        let client = Client::new("Test", &sim.url(), settings()).unwrap();
        client.set_auth("token", KEY, &Secret::new(KEY)).unwrap();
        let (read, wrote) = dormant::http::block_on(async {
            (
                client.get("/users?page=1").await,
                client
                    .send(reqwest::Method::PUT, "/users/7", Some(&json!({"enabled": "N"})))
                    .await,
            )
        })
        .unwrap();
        let from = format!("from {} (its own", other.url());
        for (e, call) in [(read, "GET /users?page=1"), (wrote, "PUT /users/7")] {
            let e = e.unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("Test: {call} answered {status} from {}: ", other.url()))
                    && !e.contains(&from)
                    && e.contains("follows no redirects"),
                "{e}"
            );
        }
        // Each asked once: a redirect is not retried either.
        assert_eq!(sim.requests().len(), 2, "{status}");
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[test]
fn a_redirect_on_the_same_address_is_named_and_not_followed() {
    let sim = Sim::start(|r| match r.path() {
        "/users" => Reply::Redirect(301, format!("/users/?{}", r.target.split_once('?').unwrap().1)),
        _ => Reply::Json(200, json!({"users": []})),
    });
    let client = Client::new("Test", &sim.url(), settings()).unwrap();
    let e = dormant::http::block_on(client.get("/users?page=1"))
        .unwrap()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "Test: GET /users?page=1 answered 301 from {} (its own address, another path): dormant follows no redirects, so that no credential and no request goes anywhere but the connector's `url`; set `url` to the address the platform answers on",
            sim.url()
        )
    );
    assert_eq!(sim.requests().len(), 1);
}

#[test]
fn a_token_request_is_never_sent_again_after_a_redirect() {
    let other = elsewhere();
    for status in [302, 307, 308] {
        let sim = redirecting(status, other.url());
        let client = Client::new("Test", &sim.url(), settings())
            .unwrap()
            .with_tokens(OAuth::new(CLIENT_SECRET, None));
        let e = dormant::http::block_on(client.get_json("/data")).unwrap().unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "Test: POST /oauth2/token answered {status} from {}",
                other.url()
            )),
            "{e}"
        );
        let log = sim.requests();
        assert_eq!(log.len(), 1, "only the token request, once");
        assert_eq!(log[0].path(), "/oauth2/token");
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

/// Writes dormant.toml with `connector`, in a new directory.
fn configured(connector: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dormant.toml"), connector).unwrap();
    dir
}

#[test]
fn docebos_token_request_redirected_goes_nowhere_and_fetch_fails() {
    let other = elsewhere();
    for status in [302, 307, 308] {
        let sim = redirecting(status, other.url());
        let dir = configured(&format!(
            "[connector.lms]\nkind = \"docebo\"\nurl = \"{}\"\nclient_id = \"dormant\"\nclient_secret_env = \"DOCEBO_SECRET\"\nusername = \"api.bot\"\npassword_env = \"DOCEBO_PASSWORD\"\nrequests_per_second = 1000\nretries = 2\n",
            sim.url()
        ));
        let out = Run::new(&["fetch", "--connector", "lms"])
            .in_dir(dir.path())
            .secret("DOCEBO_SECRET", CLIENT_SECRET)
            .secret("DOCEBO_PASSWORD", KEY)
            .run();
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "Docebo: POST /oauth2/token answered {status} from {}: dormant follows no redirects",
                other.url()
            )),
            "{}",
            out.stderr
        );
        assert_eq!(sim.requests().len(), 1, "the token request, once");
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[test]
fn metric_insights_token_and_the_calls_that_carry_it_are_never_redirected() {
    let other = elsewhere();
    // The token request redirected; then the user list, which carries the
    // `Token` header.
    for redirected in ["/api/get_token/", "/api/user"] {
        let to = other.url();
        let sim = Sim::start(move |r| match r.path() {
            p if p == redirected => Reply::Redirect(307, format!("{to}{}", r.target)),
            "/api/get_token/" => Reply::Json(
                200,
                json!({"token": "mi-token-5d1e9a3c7b", "expires": "2999-01-01 00:00:00"}),
            ),
            _ => Reply::Json(200, json!({"users": []})),
        });
        let dir = configured(&format!(
            "[connector.bi]\nkind = \"metric_insights\"\nurl = \"{}\"\napplication_id = \"dormant\"\napplication_key_env = \"MI_KEY\"\nuser = \"dormant.app\"\nrequests_per_second = 1000\nretries = 2\n",
            sim.url()
        ));
        let out = Run::new(&["fetch", "--connector", "bi"])
            .in_dir(dir.path())
            .secret("MI_KEY", KEY)
            .never_shows("mi-token-5d1e9a3c7b")
            .run();
        assert_eq!(out.code, 1, "{}", out.stderr);
        let call = if redirected == "/api/user" {
            "GET /user"
        } else {
            "POST /get_token/"
        };
        assert!(
            out.stderr.contains(&format!(
                "Metric Insights: {call} answered 307 from {}: dormant follows no redirects",
                other.url()
            )),
            "{}",
            out.stderr
        );
        let log = sim.requests();
        let last = log.last().unwrap();
        assert_eq!(last.path(), redirected, "nothing after the redirect");
        if redirected == "/api/user" {
            assert_eq!(last.header("token"), Some("mi-token-5d1e9a3c7b"));
        }
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

/// A Bevy site of three users, each deletion refused with the key echoed
/// after 170 characters: plain, percent-encoded, in base64.
fn echoing_bevy() -> Sim {
    Sim::start(|r| {
        if r.header("authorization") != Some(&format!("Token {KEY}")) {
            return Reply::Json(403, json!({"detail": "Invalid token."}));
        }
        let user = |id: u64| {
            json!({"id": id, "username": format!("member{id}"), "email": format!("member{id}@example.org"),
                   "date_joined": "2020-01-10T09:00:00Z", "is_active": true, "is_hq_admin": false,
                   "pending_deletion": false})
        };
        match (r.method.as_str(), r.path()) {
            ("GET", "/api/user/") => Reply::Json(
                200,
                json!({"count": 3, "next": null, "previous": null, "results": [user(11), user(12), user(13)]}),
            ),
            ("DELETE", p) => {
                let echo = match p {
                    "/api/user/11/" => KEY.to_string(),
                    "/api/user/12/" => percent(KEY, "", false),
                    _ => b64(KEY.as_bytes()),
                };
                Reply::Raw(400, format!("{}{echo} cannot delete this member", padding()))
            }
            _ => Reply::Json(404, json!({"detail": "Not found."})),
        }
    })
}

#[test]
fn apply_keeps_an_echoed_key_out_of_its_output_and_its_journal() {
    let sim = echoing_bevy();
    let dir = configured(&format!(
        "policy = \"p.policy\"\n[connector.events]\nkind = \"bevy\"\nurl = \"{}\"\ntoken_env = \"BEVY_TOKEN\"\nuser = \"owner@example.org\"\nrequests_per_second = 1000\nretries = 0\n",
        sim.url()
    ));
    std::fs::write(dir.path().join("p.policy"), "gone: joined > 90d -> delete\n").unwrap();
    let run = |args: &[&str]| Run::new(args).in_dir(dir.path()).secret("BEVY_TOKEN", KEY).run();
    let plan = run(&[
        "plan",
        "p.policy",
        "--connector",
        "events",
        "--format",
        "json",
        "--output",
        "plan.json",
    ]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let out = run(&["apply", "plan.json", "--yes"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let journal = std::fs::read_to_string(dir.path().join("dormant-journal.jsonl")).unwrap();
    let failures: Vec<String> = journal
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["event"] == "outcome")
        .map(|r| r["detail"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(failures.len(), 3, "{journal}");
    for detail in &failures {
        assert!(detail.contains(&format!("{}[secret]", padding())), "{detail}");
    }
    for text in [&out.stdout, &out.stderr, &journal] {
        for encoded in [KEY.to_string(), percent(KEY, "", false), b64(KEY.as_bytes())] {
            assert_no_part(text, "apply", &encoded);
        }
    }
}
