//! The HTTP foundation every platform connector stands on: timeouts,
//! retries with exponential backoff and jitter on 429, 5xx and failed
//! connections (honouring `Retry-After`), a request-rate limiter, a daily
//! quota, bounded concurrency, and errors that name the platform, the
//! endpoint and the status, and never a secret (see `redact`). It follows no
//! redirects.

mod redact;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Semaphore;

pub use redact::Redactor;

/// The most characters of a platform's message an error quotes.
const MESSAGE: usize = 200;

/// What an error says in place of a text that could not be redacted.
const WITHHELD: &str = "(not shown: the secrets to blank out of it could not be read)";

/// A secret read from the environment. It never prints: `Debug` shows a
/// placeholder and there is no `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// The secret in environment variable `var`; the error names the
    /// variable and the connector key that named it.
    pub fn from_env(var: &str, key: &str, connector: &str) -> Result<Secret, SetupError> {
        let (var, key, connector) = (var.to_string(), key.to_string(), connector.to_string());
        match std::env::var(&var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
            Ok(_) => Err(SetupError::SecretEmpty { var, key, connector }),
            Err(_) => Err(SetupError::SecretNotSet { var, key, connector }),
        }
    }

    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Limits the admin set; `None` means the platform's default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    pub requests_per_second: Option<f64>,
    pub requests_per_day: Option<u64>,
    pub batch_size: Option<u64>,
    /// Users asked for a page, where the platform lets the admin choose.
    pub page_size: Option<u64>,
    pub concurrency: Option<u64>,
    pub timeout_seconds: Option<f64>,
    pub retries: Option<u64>,
}

/// Limits in force for one connector: the admin's, else the platform's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub requests_per_second: f64,
    pub requests_per_day: Option<u64>,
    pub concurrency: usize,
    pub timeout: Duration,
    pub retries: usize,
    /// The first backoff delay; it doubles (with jitter) on each retry.
    pub backoff: Duration,
    /// The longest wait a `Retry-After` may ask for before dormant gives up.
    pub max_wait: Duration,
}

impl Settings {
    /// A platform's defaults, overridden by what dormant.toml sets.
    pub fn new(defaults: Settings, set: &Limits) -> Settings {
        Settings {
            requests_per_second: set.requests_per_second.unwrap_or(defaults.requests_per_second),
            requests_per_day: set.requests_per_day.or(defaults.requests_per_day),
            concurrency: set
                .concurrency
                .and_then(|c| usize::try_from(c).ok())
                .unwrap_or(defaults.concurrency),
            timeout: set.timeout_seconds.map_or(defaults.timeout, Duration::from_secs_f64),
            retries: set
                .retries
                .and_then(|r| usize::try_from(r).ok())
                .unwrap_or(defaults.retries),
            ..defaults
        }
    }
}

/// What keeps a client from being set up, before any request: a secret
/// missing from the environment, a credential no header can carry, a
/// runtime or an HTTP stack that would not start.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum SetupError {
    #[error("environment variable `{var}` (`{key}` of connector `{connector}`) is not set: export the secret in it")]
    #[diagnostic(code(dormant::http::secret_not_set))]
    SecretNotSet {
        var: String,
        key: String,
        /// The connector, or the notifier table (`[notify.smtp]`).
        connector: String,
    },
    #[error("environment variable `{var}` (`{key}` of connector `{connector}`) is empty: export the secret in it")]
    #[diagnostic(code(dormant::http::secret_empty))]
    SecretEmpty {
        var: String,
        key: String,
        connector: String,
    },
    #[error("{platform}: the credential holds characters a header cannot carry")]
    #[diagnostic(
        code(dormant::http::credential_not_a_header),
        help("check the secret for line breaks or characters outside ASCII")
    )]
    CredentialNotAHeader { platform: &'static str },
    #[error("{platform}: cannot set up HTTP: {cause}")]
    #[diagnostic(code(dormant::http::setup))]
    Http { platform: &'static str, cause: String },
    #[error("{platform}: requests_per_second is out of range")]
    #[diagnostic(
        code(dormant::http::rate_out_of_range),
        help("set `requests_per_second` to a positive number")
    )]
    RateOutOfRange { platform: &'static str },
    #[error("cannot start the network runtime: {cause}")]
    #[diagnostic(code(dormant::http::runtime))]
    Runtime { cause: String },
}

impl SetupError {
    /// The runtime that would not start.
    pub fn runtime(e: &std::io::Error) -> SetupError {
        SetupError::Runtime { cause: e.to_string() }
    }
}

/// An HTTP failure, worded for an admin: which platform, which call, what
/// came back.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum HttpError {
    #[error("{platform}: {method} {endpoint} answered {status}: {message}")]
    #[diagnostic(code(dormant::http::status))]
    Status {
        platform: &'static str,
        method: String,
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("{platform}: {method} {endpoint} failed {attempts} times, last: {cause}")]
    #[diagnostic(code(dormant::http::gave_up))]
    GaveUp {
        platform: &'static str,
        method: String,
        endpoint: String,
        attempts: usize,
        cause: String,
    },
    #[error(
        "{platform}: the daily quota of {quota} requests is used up; run again tomorrow or raise `requests_per_day`"
    )]
    #[diagnostic(code(dormant::http::quota))]
    Quota { platform: &'static str, quota: u64 },
    #[error(
        "{platform}: {method} {endpoint} answered {status} from {location}: dormant follows no redirects, so that no credential and no request goes anywhere but the connector's `url`; set `url` to the address the platform answers on"
    )]
    #[diagnostic(code(dormant::http::redirected))]
    Redirected {
        platform: &'static str,
        method: String,
        endpoint: String,
        status: u16,
        /// Where the answer sent dormant (or came from): an origin, no path.
        location: String,
    },
    #[error("{platform}: {endpoint} answered something that is not what dormant expects: {detail}")]
    #[diagnostic(code(dormant::http::shape))]
    Shape {
        platform: &'static str,
        endpoint: String,
        detail: String,
    },
}

impl HttpError {
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A short-lived credential.
pub struct Token {
    /// The header it goes in (`authorization`, or a platform's own, lower case).
    pub header: &'static str,
    /// The header's value.
    pub value: String,
    /// The secret in it, kept out of every message.
    pub secret: Secret,
    /// How long it lasts, if the platform says: it is renewed before then.
    pub lifetime: Option<Duration>,
}

/// A token being acquired.
pub type TokenFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Token, HttpError>> + Send + 'a>>;

/// Where a connector's short-lived tokens come from (OAuth2, a login call):
/// asked before the first request, before the last one runs out, and again,
/// once, when an answer says it expired. It makes its own calls with
/// `Client::send_unauthenticated`.
pub trait Tokens: Send + Sync {
    /// The secrets the token calls send (client secret, password), so that
    /// no error repeats them.
    fn secrets(&self) -> Vec<Secret>;

    fn acquire<'a>(&'a self, client: &'a Client) -> TokenFuture<'a>;

    /// Whether an answer with this status means the token expired.
    fn expired(&self, status: u16) -> bool {
        status == 401
    }
}

/// A request body.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    Json(&'a serde_json::Value),
    /// `application/x-www-form-urlencoded` (OAuth2 token calls).
    Form(&'a [(&'a str, &'a str)]),
}

/// How a request authenticates: a header set on every call, which a
/// connector may renew (a token that expired) through `Client::set_auth`,
/// or which `Tokens` acquires and renews.
pub struct Client {
    pub platform: &'static str,
    base: String,
    http: reqwest::Client,
    auth: Mutex<Option<(HeaderName, HeaderValue)>>,
    /// Secrets to blank out of any text that reaches an error.
    redactor: Mutex<Redactor>,
    limiter: DefaultDirectRateLimiter,
    /// Requests counted against the daily quota: earlier runs' today, and this one's.
    used_today: AtomicU64,
    /// Requests this client made.
    made: AtomicU64,
    permits: Semaphore,
    settings: Settings,
    tokens: Option<Box<dyn Tokens>>,
    /// Serialises token renewals, so that concurrent 401s renew once.
    renewing: tokio::sync::Mutex<u64>,
    /// When the current token should be renewed, before it runs out.
    renew_at: Mutex<Option<std::time::Instant>>,
    /// Headers every request carries, the token calls included.
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// What a request carries besides its body.
#[derive(Debug, Clone, Copy)]
enum Auth<'a> {
    /// Nothing: the calls that get a token.
    None,
    /// The credential, and `If-Match` with this tag when there is one.
    Credential(Option<&'a str>),
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// The `Date` header: when the server answered, by its own clock.
    pub date: Option<String>,
    /// Every header of the answer: paging links (Okta's `Link`) and rate
    /// limits (`X-Rate-Limit-Remaining`) that a platform reads itself.
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// A header's value, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Answer {
    pub fn json(&self, platform: &'static str, endpoint: &str) -> Result<serde_json::Value, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Shape {
            platform,
            endpoint: endpoint.to_string(),
            detail: format!("the body is not JSON ({e}); was it cut off?"),
        })
    }
}

/// What one attempt came to.
enum Attempt {
    Done(Answer),
    /// Worth trying again, after at least this long (`Retry-After`).
    Again(String, Option<Duration>),
    Failed(HttpError),
}

impl Client {
    pub fn new(platform: &'static str, base: &str, settings: Settings) -> Result<Client, SetupError> {
        // No redirect is followed, even to the same origin. Following one
        // re-sends the request elsewhere: reqwest drops `Authorization` on a
        // cross-host hop but not a platform's own header (Metric Insights'
        // `Token`); a 307 or 308 re-posts a token request's body (Docebo's
        // client secret and password), to whatever scheme the `Location`
        // names, past the https check of dormant.toml; and a list read from
        // elsewhere would be taken as the platform's. Same-origin only is no
        // safer to allow: the credential could not go along, so the hop
        // would answer 401 or, worse, an anonymous partial list. The APIs
        // dormant calls answer in place at the paths it uses, so a redirect
        // means a wrong `url` (or a hostile server), and says so.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("dormant/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SetupError::Http {
                platform,
                cause: e.to_string(),
            })?;
        let period = Duration::from_secs_f64(1.0 / settings.requests_per_second.max(1e-3));
        let quota = Quota::with_period(period).ok_or(SetupError::RateOutOfRange { platform })?;
        Ok(Client {
            platform,
            base: base.trim_end_matches('/').to_string(),
            http,
            auth: Mutex::new(None),
            redactor: Mutex::new(Redactor::default()),
            limiter: RateLimiter::direct(quota),
            used_today: AtomicU64::new(0),
            made: AtomicU64::new(0),
            permits: Semaphore::new(settings.concurrency.max(1)),
            settings,
            tokens: None,
            renewing: tokio::sync::Mutex::new(0),
            renew_at: Mutex::new(None),
            headers: Vec::new(),
        })
    }

    /// Sends these headers (lower-case names) with every request, the
    /// token calls included: a platform's `Accept`, say. A body's own
    /// `Content-Type` takes the place of one set here.
    pub fn with_headers(mut self, headers: &[(&'static str, &'static str)]) -> Client {
        self.headers = headers
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect();
        self
    }

    /// Authenticates with tokens from `tokens`, acquired when first needed.
    pub fn with_tokens(mut self, tokens: Box<dyn Tokens>) -> Client {
        for s in tokens.secrets() {
            self.register(&s);
        }
        self.tokens = Some(tokens);
        self
    }

    /// Keeps a secret out of every error this client words.
    pub fn register(&self, secret: &Secret) {
        if let Ok(mut r) = self.redactor.lock() {
            r.add(secret.expose());
        }
    }

    fn has_auth(&self) -> bool {
        self.auth.lock().is_ok_and(|a| a.is_some())
    }

    /// Acquires a token, unless another task renewed it since `seen`
    /// renewals: returns the count of renewals now.
    async fn renew(&self, seen: u64) -> Result<u64, HttpError> {
        let Some(tokens) = &self.tokens else { return Ok(seen) };
        let mut count = self.renewing.lock().await;
        if *count == seen {
            let token = tokens.acquire(self).await?;
            self.set_auth(token.header, &token.value, &token.secret)
                .map_err(|e| HttpError::Shape {
                    platform: self.platform,
                    endpoint: "(token)".to_string(),
                    detail: e.to_string(),
                })?;
            // Renewed when nine tenths of its life have passed.
            let at = token.lifetime.map(|l| std::time::Instant::now() + l.mul_f64(0.9));
            if let Ok(mut r) = self.renew_at.lock() {
                *r = at;
            }
            *count += 1;
        }
        Ok(*count)
    }

    fn token_due(&self) -> bool {
        !self.has_auth()
            || self
                .renew_at
                .lock()
                .is_ok_and(|r| r.is_some_and(|at| std::time::Instant::now() >= at))
    }

    /// Sets (or renews) the header that authenticates every request.
    pub fn set_auth(&self, name: &'static str, value: &str, secret: &Secret) -> Result<(), SetupError> {
        let mut v = HeaderValue::from_str(value).map_err(|_| SetupError::CredentialNotAHeader {
            platform: self.platform,
        })?;
        v.set_sensitive(true);
        if let Ok(mut auth) = self.auth.lock() {
            *auth = Some((HeaderName::from_static(name), v));
        }
        if let Ok(mut r) = self.redactor.lock() {
            r.add(secret.expose());
            // The whole value only when it does not hold the secret: the
            // runs of `Bearer ` and a key's first bytes would blank words.
            if !value.contains(secret.expose()) {
                r.add(value);
            }
        }
        Ok(())
    }

    /// An error with every secret of this client blanked out of its texts:
    /// for errors made outside the HTTP layer (a connector quoting a value
    /// it could not read, which a hostile platform could have filled with a
    /// key).
    pub fn redact_error(&self, e: HttpError) -> HttpError {
        let r = |s: String| self.redact(&s);
        match e {
            HttpError::Status {
                platform,
                method,
                endpoint,
                status,
                message,
            } => HttpError::Status {
                platform,
                method: r(method),
                endpoint: r(endpoint),
                status,
                message: r(message),
            },
            HttpError::GaveUp {
                platform,
                method,
                endpoint,
                attempts,
                cause,
            } => HttpError::GaveUp {
                platform,
                method: r(method),
                endpoint: r(endpoint),
                attempts,
                cause: r(cause),
            },
            HttpError::Redirected {
                platform,
                method,
                endpoint,
                status,
                location,
            } => HttpError::Redirected {
                platform,
                method: r(method),
                endpoint: r(endpoint),
                status,
                location: r(location),
            },
            HttpError::Shape {
                platform,
                endpoint,
                detail,
            } => HttpError::Shape {
                platform,
                endpoint: r(endpoint),
                detail: r(detail),
            },
            quota @ HttpError::Quota { .. } => quota,
        }
    }

    /// Requests this client made.
    pub fn requests(&self) -> u64 {
        self.made.load(Ordering::Relaxed)
    }

    /// The path (and query) of an address under this client's base, for
    /// a next-page link a platform gives in full (Okta's `Link`, Graph's
    /// `@odata.nextLink`); `None` for one elsewhere, which is never
    /// followed: the credential would go along.
    pub fn path_of<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(self.base.as_str()).filter(|p| p.starts_with('/'))
    }

    /// Counts requests that earlier runs made today against the daily quota.
    pub fn used_earlier(&self, n: u64) {
        self.used_today.fetch_add(n, Ordering::Relaxed);
    }

    pub async fn get(&self, path: &str) -> Result<Answer, HttpError> {
        self.send(Method::GET, path, None).await
    }

    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, HttpError> {
        self.get(path).await?.json(self.platform, path)
    }

    /// One resource, or `None` when the platform answers 404: how a read
    /// of one user tells that the user is gone.
    pub async fn get_json_if_there(&self, path: &str) -> Result<Option<serde_json::Value>, HttpError> {
        match self.get_json(path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends a request, retrying what may succeed on another try. A request
    /// that changes something is retried too: the connectors only send ones
    /// that do the same when repeated (set a status, delete a user).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, HttpError> {
        self.send_if_match(method, path, body, None).await
    }

    /// Sends a request as [`Client::send`] does, with `If-Match: TAG` when
    /// `tag` is given: a change the platform refuses (412) if the resource
    /// changed since it was read at that version.
    pub async fn send_if_match(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        tag: Option<&str>,
    ) -> Result<Answer, HttpError> {
        let body = body.map(Body::Json);
        let auth = Auth::Credential(tag);
        let Some(tokens) = &self.tokens else {
            return self.send_with(method, path, body, auth).await;
        };
        let mut renewals = *self.renewing.lock().await;
        if self.token_due() {
            renewals = self.renew(renewals).await?;
        }
        match self.send_with(method.clone(), path, body, auth).await {
            // A token that expired early: renew it once and try again.
            Err(e) if e.status().is_some_and(|s| tokens.expired(s)) => {
                self.renew(renewals).await?;
                self.send_with(method, path, body, auth).await
            }
            other => other,
        }
    }

    /// Sends without the credential header: for the calls that get a token.
    pub async fn send_unauthenticated(
        &self,
        method: Method,
        path: &str,
        body: Option<Body<'_>>,
    ) -> Result<Answer, HttpError> {
        self.send_with(method, path, body, Auth::None).await
    }

    async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Body<'_>>,
        auth: Auth<'_>,
    ) -> Result<Answer, HttpError> {
        let delays = backon::BackoffBuilder::build(
            backon::ExponentialBuilder::default()
                .with_min_delay(self.settings.backoff)
                .with_max_delay(self.settings.max_wait)
                .with_jitter()
                .with_max_times(self.settings.retries),
        );
        let mut delays = delays;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let cause = match self.attempt(&method, path, body, auth).await {
                Attempt::Done(a) => return Ok(a),
                Attempt::Failed(e) => return Err(e),
                Attempt::Again(cause, retry_after) => match (delays.next(), retry_after) {
                    (Some(_), Some(wait)) if wait > self.settings.max_wait => {
                        format!(
                            "{cause}; it asked to wait {} s, longer than dormant waits",
                            wait.as_secs()
                        )
                    }
                    (Some(delay), wait) => {
                        tokio::time::sleep(wait.map_or(delay, |w| w.max(delay))).await;
                        continue;
                    }
                    (None, _) => cause,
                },
            };
            return Err(HttpError::GaveUp {
                platform: self.platform,
                method: method.to_string(),
                endpoint: self.redact(path),
                attempts,
                cause: self.redact(&cause),
            });
        }
    }

    async fn attempt(&self, method: &Method, path: &str, body: Option<Body<'_>>, auth: Auth<'_>) -> Attempt {
        let Ok(_permit) = self.permits.acquire().await else {
            return Attempt::Failed(self.status_error(method, path, 0, "the client was shut down".to_string()));
        };
        self.limiter.until_ready().await;
        let used = self.used_today.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(quota) = self.settings.requests_per_day {
            if used > quota {
                self.used_today.fetch_sub(1, Ordering::Relaxed);
                return Attempt::Failed(HttpError::Quota {
                    platform: self.platform,
                    quota,
                });
            }
        }
        self.made.fetch_add(1, Ordering::Relaxed);
        let target = format!("{}{}", self.base, path);
        let requested = reqwest::Url::parse(&target).ok();
        let mut request = self.http.request(method.clone(), target);
        // One value per name: the client's own headers, then the
        // credential, then the body's type in place of any set before.
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        if let Ok(credential) = self.auth.lock() {
            if let Some((name, value)) = credential.as_ref().filter(|_| matches!(auth, Auth::Credential(_))) {
                headers.insert(name.clone(), value.clone());
            }
        }
        if let Auth::Credential(Some(tag)) = auth {
            // A tag the platform sent is a header value; one that is not
            // cannot be matched, and is left out rather than mangled.
            if let Ok(value) = HeaderValue::from_str(tag) {
                headers.insert(reqwest::header::IF_MATCH, value);
            }
        }
        match body {
            Some(Body::Json(v)) => {
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                request = request.body(v.to_string());
            }
            Some(Body::Form(fields)) => {
                let encoded: String = fields
                    .iter()
                    .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                request = request.body(encoded);
            }
            None => {}
        }
        request = request.headers(headers);
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Again(describe(&e), None),
        };
        let status = response.status();
        // With no redirect followed, an answer always comes from where the
        // request went; checked all the same, so that no change of policy
        // can let a list from elsewhere pass for the platform's.
        let elsewhere = requested
            .as_ref()
            .is_some_and(|r| r.origin() != response.url().origin());
        if status.is_redirection() || elsewhere {
            let location = if elsewhere {
                origin(requested.as_ref(), response.url())
            } else {
                location(requested.as_ref(), &response)
            };
            return Attempt::Failed(HttpError::Redirected {
                platform: self.platform,
                method: method.to_string(),
                endpoint: self.redact(path),
                status: status.as_u16(),
                location: self.redact(&location),
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after)
            .or_else(|| rate_limit_reset(response.headers()));
        let headers = response.headers().clone();
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // A body cut short (the connection dropped, or fewer bytes than
        // Content-Length said) is an error here, never a short answer.
        let bytes = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return Attempt::Again(format!("the answer was cut off ({})", describe(&e)), None),
        };
        // 501 Not Implemented is the server's lasting word that it does not
        // do this (a SCIM server without PATCH), not a passing failure.
        let lasting = status == StatusCode::NOT_IMPLEMENTED;
        if status == StatusCode::TOO_MANY_REQUESTS || (status.is_server_error() && !lasting) {
            return Attempt::Again(format!("{} {}", status.as_u16(), self.summary(&bytes)), retry_after);
        }
        if !status.is_success() {
            let message = self.summary(&bytes);
            return Attempt::Failed(self.status_error(method, path, status.as_u16(), message));
        }
        Attempt::Done(Answer {
            status: status.as_u16(),
            body: bytes,
            date,
            headers,
        })
    }

    fn status_error(&self, method: &Method, path: &str, status: u16, message: String) -> HttpError {
        HttpError::Status {
            platform: self.platform,
            method: method.to_string(),
            endpoint: self.redact(path),
            status,
            message,
        }
    }

    /// Blanks out every secret this client holds, in every form `Redactor`
    /// knows. Should the lock be poisoned, nothing of the text is shown.
    pub fn redact(&self, text: &str) -> String {
        match self.redactor.lock() {
            Ok(r) => r.redact(text),
            Err(_) => WITHHELD.to_string(),
        }
    }

    /// An error body's gist, redacted whole before it is cut to length, so
    /// that no cut can fall inside a secret and leave part of it.
    fn summary(&self, body: &[u8]) -> String {
        match self.redactor.lock() {
            Ok(r) => summary(body, &r),
            Err(_) => WITHHELD.to_string(),
        }
    }
}

/// Where a redirect points: the origin of its `Location`, read against the
/// address asked.
fn location(requested: Option<&reqwest::Url>, response: &reqwest::Response) -> String {
    let Some(text) = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    else {
        return "nowhere (it has no `Location`)".to_string();
    };
    let to = match requested {
        Some(r) => r.join(&text),
        None => reqwest::Url::parse(&text),
    };
    match to {
        Ok(to) => origin(requested, &to),
        Err(_) => "an address dormant cannot read".to_string(),
    }
}

/// A URL's origin, for an error: scheme, host and port, never a path, a
/// query or a user (which may hold credentials); said to be the platform's
/// own when it is.
fn origin(requested: Option<&reqwest::Url>, to: &reqwest::Url) -> String {
    let o = to.origin();
    if requested.is_some_and(|r| r.origin() == o) {
        format!("{} (its own address, another path)", o.ascii_serialization())
    } else {
        o.ascii_serialization()
    }
}

/// `application/x-www-form-urlencoded` encoding of one key or value.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The wait a 429 without `Retry-After` asks for through
/// `X-Rate-Limit-Reset`, the epoch second its limit resets (Okta's
/// [S: developer.okta.com/docs/reference/rl-best-practices]); `None` when
/// it has no such header.
fn rate_limit_reset(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let reset: i64 = headers.get("x-rate-limit-reset")?.to_str().ok()?.trim().parse().ok()?;
    let wait = reset - chrono::Utc::now().timestamp();
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}

/// A reqwest error without its URL (which is named separately).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the body could not be read"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// The gist of an error body: a platform's message where there is one.
/// Every secret is blanked out of the whole body first, then out of the
/// message (JSON decoding may have put one together), and only then is the
/// message cut.
fn summary(body: &[u8], redactor: &Redactor) -> String {
    let text = redactor.redact(&String::from_utf8_lossy(body));
    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let message = json.as_ref().and_then(|j| {
        ["message", "detail", "error_description", "error"]
            .iter()
            .find_map(|k| match j.get(k) {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Object(o)) => o.get("message").and_then(|m| m.as_str()).map(str::to_string),
                _ => None,
            })
    });
    // A SCIM error says what kind of mistake it was apart from its detail
    // (RFC 7644 section 3.12): both are shown.
    let kind = json.as_ref().and_then(|j| j.get("scimType")).and_then(|t| t.as_str());
    let message = match (message, kind) {
        (Some(m), Some(kind)) => Some(format!("{m} (scimType {kind})")),
        (m, _) => m,
    };
    let text = match message {
        Some(m) => redactor.redact(&m),
        None => text.trim().to_string(),
    };
    let mut short: String = text.chars().take(MESSAGE).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    if short.is_empty() {
        "(no message)".to_string()
    } else {
        short
    }
}

/// Runs a future to completion on a runtime of its own: commands are
/// synchronous, and only connectors need one.
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, SetupError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SetupError::runtime(&e))?;
    Ok(rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(…)");
    }

    #[test]
    fn retry_after_in_seconds_or_a_date() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn error_bodies_are_summed_up() {
        let none = Redactor::default();
        assert_eq!(summary(br#"{"error_code": "x", "message": "Nope"}"#, &none), "Nope");
        assert_eq!(summary(br#"{"error": {"message": "Bad", "type": "t"}}"#, &none), "Bad");
        assert_eq!(summary(b"", &none), "(no message)");
        assert_eq!(summary(&[b'a'; 300], &none).chars().count(), 201);
    }

    #[test]
    fn a_secret_is_blanked_before_the_message_is_cut() {
        let key = "k-0123456789abcdefghijklmnopqrs";
        let mut r = Redactor::default();
        r.add(key);
        let (pad, tail) = ("x".repeat(170), "y".repeat(100));
        let cut = format!("{pad}[secret]{}…", &tail[..22]);
        assert_eq!(summary(format!("{pad}{key}{tail}").as_bytes(), &r), cut);
        let json = serde_json::json!({ "message": format!("{pad}{key}{tail}") }).to_string();
        assert_eq!(summary(json.as_bytes(), &r), cut);
    }

    #[test]
    fn missing_variables_are_named() {
        let e = Secret::from_env("DORMANT_TEST_SURELY_UNSET", "api_key_env", "portal").unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable `DORMANT_TEST_SURELY_UNSET` (`api_key_env` of connector `portal`) is not set: export the secret in it"
        );
    }
}
