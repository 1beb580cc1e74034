//! The HTTP foundation on its own: tokens acquired when first needed and
//! renewed once on a 401, retries, and secrets kept out of errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::sim::{Reply, Sim};
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
