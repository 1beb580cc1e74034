//! `dormant.toml`: where the journal is and how to reach each connector
//! (SPEC section 5, "Connectors and enrichment"). Read once by `cmd`;
//! mistakes are reported at their span, like policy errors. Secrets are
//! never in the file: it names the environment variables that hold them.

pub use crate::connector::{Connector, Kind};
pub use crate::http::Limits;

use crate::diagnostic::{Code, Diag};
use crate::source::{Source, Span};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The default config file, looked for in the current folder.
pub const DEFAULT: &str = "dormant.toml";

/// The largest `page_size`: what public scripts ask of Bevy's list
/// endpoints (CONNECTORS.md, corrections for Bevy).
pub use crate::connector::bevy::MAX_PAGE_SIZE;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    journal: Option<String>,
    /// The policy `apply` enforces.
    policy: Option<String>,
    /// The environment variable holding the journal's HMAC key, if it is keyed.
    journal_key_env: Option<Spanned<String>>,
    #[serde(default)]
    connector: BTreeMap<String, Spanned<RawConnector>>,
    notify: Option<Spanned<NotifyConf>>,
}

/// `[notify]`: how `apply` sends notices, and what they say.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConf {
    /// The subject line; placeholders as in the template.
    pub subject: Option<String>,
    /// A file holding the message, relative to the config file's folder.
    pub template: Option<String>,
    pub smtp: Option<SmtpConf>,
    pub webhook: Option<WebhookConf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConf {
    pub host: String,
    pub port: Option<u16>,
    pub from: String,
    pub username: Option<String>,
    pub password_env: Option<String>,
    /// `starttls` (default), `tls`, or `none` (only on this machine).
    pub tls: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConf {
    pub url: String,
    pub token_env: Option<String>,
}

/// A `[connector.NAME]` table as written: every key any kind takes, checked
/// against its kind afterwards so that a key of another kind is named as such.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnector {
    kind: Spanned<String>,
    url: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    api_key_env: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
    application_id: Option<Spanned<String>>,
    application_key_env: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    client_secret_env: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    requests_per_second: Option<Spanned<f64>>,
    requests_per_day: Option<Spanned<u64>>,
    batch_size: Option<Spanned<u64>>,
    page_size: Option<Spanned<u64>>,
    concurrency: Option<Spanned<u64>>,
    timeout_seconds: Option<Spanned<f64>>,
    retries: Option<Spanned<u64>>,
    enrich: Option<Spanned<Vec<String>>>,
    deactivate: Option<Spanned<String>>,
    /// Gone (Huwise's `expires_at` is read-only): read only to say so.
    deactivate_via_expiry: Option<Spanned<toml::Value>>,
    enrollments: Option<Spanned<bool>>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The journal file (it may not exist yet).
    pub journal: PathBuf,
    /// `policy`: the policy `apply` enforces, relative to the config's folder.
    pub policy: Option<PathBuf>,
    /// The environment variable holding the journal's key (`journal_key_env`),
    /// for a keyed journal. The key itself is read only when needed.
    pub journal_key_env: Option<String>,
    pub connectors: Vec<Connector>,
    /// How notices are sent, if they are; `notify_dir` is where relative
    /// paths in it start.
    pub notify: Option<NotifyConf>,
    pub notify_dir: PathBuf,
    /// The config file, for messages.
    pub source: Source,
}

/// A config file that cannot be used: unreadable, or with a mistake at a span.
#[derive(Debug)]
pub enum ConfigError {
    Read(String),
    Invalid(Box<(Source, Diag)>),
}

impl Config {
    /// Reads the config. A missing default file is no config at all (commands
    /// that need none work without one); a missing file named with
    /// `--config` is an error.
    pub fn load(path: Option<&Path>) -> Result<Option<Config>, ConfigError> {
        let (path, explicit) = match path {
            Some(p) => (p, true),
            None => (Path::new(DEFAULT), false),
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
            Err(e) => return Err(ConfigError::Read(format!("cannot read `{}`: {e}", path.display()))),
        };
        let source = Source::new(path.display().to_string(), text);
        Config::parse(source, path.parent().unwrap_or(Path::new(""))).map(Some)
    }

    /// Reads a config's text; relative paths in it are taken from `dir`.
    pub fn parse(source: Source, dir: &Path) -> Result<Config, ConfigError> {
        let invalid = |diag: Diag| ConfigError::Invalid(Box::new((source.clone(), diag)));
        let file: File = toml::from_str(&source.text).map_err(|e| {
            let span = e.span().map_or(Span::default(), |r| Span::new(r.start, r.end));
            invalid(
                Diag::error(Code::Config, span, e.message().trim().to_string())
                    .label("here")
                    .help("see the README's \"Configuration\" section for the keys dormant.toml takes"),
            )
        })?;
        let journal = dir.join(file.journal.as_deref().unwrap_or("dormant-journal.jsonl"));
        let journal_key_env = file
            .journal_key_env
            .as_ref()
            .map(|v| env_name("journal_key_env", v, "DORMANT_JOURNAL_KEY"))
            .transpose()
            .map_err(invalid)?;
        let usage = journal.with_file_name("dormant-usage.json");
        let connectors = file
            .connector
            .into_iter()
            .map(|(name, raw)| {
                connector(name, raw, dir)
                    .map(|c| Connector {
                        usage: usage.clone(),
                        ..c
                    })
                    .map_err(invalid)
            })
            .collect::<Result<_, _>>()?;
        let notify = match file.notify {
            None => None,
            Some(n) => {
                let at = span(&n);
                let n = n.into_inner();
                let problem = match (&n.smtp, &n.webhook) {
                    (None, None) => Some("`[notify]` needs a channel: `[notify.smtp]` or `[notify.webhook]`"),
                    (Some(_), Some(_)) => {
                        Some("`[notify]` takes one channel: `[notify.smtp]` or `[notify.webhook]`, not both")
                    }
                    _ => None,
                };
                if let Some(message) = problem {
                    return Err(invalid(
                        Diag::error(Code::Config, at, message)
                            .label("here")
                            .help("see the README's \"Notices\" section"),
                    ));
                }
                Some(n)
            }
        };
        Ok(Config {
            policy: file.policy.as_deref().map(|p| dir.join(p)),
            journal,
            journal_key_env,
            connectors,
            notify,
            notify_dir: dir.to_path_buf(),
            source,
        })
    }

    /// The journal's key, if `journal_key_env` names one: read from the
    /// environment now, so that a missing key stops a command before it
    /// does anything.
    pub fn journal_key(&self) -> Result<Option<crate::journal::Key>, String> {
        self.journal_key_env
            .as_deref()
            .map(crate::journal::Key::from_env)
            .transpose()
    }

    /// The connector named `name`, or an error that lists those there are.
    pub fn connector(&self, name: &str) -> Result<&Connector, String> {
        self.connectors.iter().find(|c| c.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.connectors.iter().map(|c| c.name.as_str()).collect();
            let hint =
                crate::suggest::did_you_mean(name, names.iter().copied()).unwrap_or_else(|| match names.is_empty() {
                    true => format!("`{}` configures none: add a [connector.{name}] table", self.source.path),
                    false => format!("the connectors of `{}` are {}", self.source.path, names.join(", ")),
                });
            format!("no connector named `{name}`: {hint}")
        })
    }
}

fn span<T>(s: &Spanned<T>) -> Span {
    Span::new(s.span().start, s.span().end)
}

/// The value of a `KEY_env` key: the name of an environment variable, never
/// the secret itself. `example` is a name to show in the help.
fn env_name(key: &str, value: &Spanned<String>, example: &str) -> Result<String, Diag> {
    let var = value.get_ref();
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Diag::error(
            Code::Config,
            span(value),
            format!("`{key}` names an environment variable, not `{var}`"),
        )
        .label("not a variable name")
        .help(format!("write the variable's name, e.g. `{key} = \"{example}\"`, and export the secret in it; secrets are never written in dormant.toml")));
    }
    Ok(var.clone())
}

fn connector(name: String, raw: Spanned<RawConnector>, dir: &Path) -> Result<Connector, Diag> {
    let table = span(&raw);
    let raw = raw.into_inner();
    let kind = Kind::named(raw.kind.get_ref()).ok_or_else(|| {
        let names: Vec<&str> = crate::connector::PLATFORMS.iter().map(|p| p.kind()).collect();
        Diag::error(
            Code::Config,
            span(&raw.kind),
            format!("unknown connector kind `{}`", raw.kind.get_ref()),
        )
        .label("not a kind dormant knows")
        .help(
            crate::suggest::did_you_mean(raw.kind.get_ref(), names.iter().copied())
                .unwrap_or_else(|| format!("kinds are {}", names.join(", "))),
        )
    })?;
    let texts: [(&'static str, &Option<Spanned<String>>); 13] = [
        ("url", &raw.url),
        ("path", &raw.path),
        ("api_key_env", &raw.api_key_env),
        ("token_env", &raw.token_env),
        ("application_id", &raw.application_id),
        ("application_key_env", &raw.application_key_env),
        ("user", &raw.user),
        ("client_id", &raw.client_id),
        ("client_secret_env", &raw.client_secret_env),
        ("username", &raw.username),
        ("password_env", &raw.password_env),
        ("timezone", &raw.timezone),
        ("deactivate", &raw.deactivate),
    ];
    let others: [(&'static str, Option<Span>); 10] = [
        ("requests_per_second", raw.requests_per_second.as_ref().map(span)),
        ("requests_per_day", raw.requests_per_day.as_ref().map(span)),
        ("batch_size", raw.batch_size.as_ref().map(span)),
        ("page_size", raw.page_size.as_ref().map(span)),
        ("concurrency", raw.concurrency.as_ref().map(span)),
        ("timeout_seconds", raw.timeout_seconds.as_ref().map(span)),
        ("retries", raw.retries.as_ref().map(span)),
        ("enrich", raw.enrich.as_ref().map(span)),
        ("enrollments", raw.enrollments.as_ref().map(span)),
        ("kind", Some(span(&raw.kind))),
    ];
    let keys = kind.platform().keys();
    let (required, optional) = (keys.required, keys.optional());
    let present = texts
        .iter()
        .map(|(k, v)| (*k, v.as_ref().map(span)))
        .chain(others)
        .filter_map(|(k, s)| Some((k, s?)));
    for (key, at) in present {
        if key != "kind" && !required.contains(&key) && !optional.contains(&key) {
            return Err(Diag::error(
                Code::Config,
                at,
                format!("`{key}` is not a key of a `{}` connector", kind.as_str()),
            )
            .label("not for this kind")
            .help(format!(
                "a `{}` connector takes {}",
                kind.as_str(),
                required.iter().chain(&optional).copied().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    for key in required {
        if !texts.iter().any(|(k, v)| k == key && v.is_some()) {
            return Err(Diag::error(
                Code::Config,
                table,
                format!("connector `{name}` ({}) needs `{key}`", kind.as_str()),
            )
            .label("in this table")
            .help(key_help(key)));
        }
    }
    let text = |key: &str| texts.iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.as_ref());
    let mut secrets = BTreeMap::new();
    let mut settings = BTreeMap::new();
    for (key, value) in &texts {
        let Some(value) = value else { continue };
        if key.ends_with("_env") {
            secrets.insert(*key, env_name(key, value, "PORTAL_SECRET")?);
        } else if !matches!(*key, "url" | "path") {
            settings.insert(*key, value.get_ref().clone());
        }
    }
    if let Some(tz) = text("timezone") {
        if tz.get_ref().parse::<chrono_tz::Tz>().is_err() {
            return Err(Diag::error(
                Code::Config,
                span(tz),
                format!("`{}` is not a time zone dormant knows", tz.get_ref()),
            )
            .label("here")
            .help("write an IANA time zone, such as \"Europe/Rome\" or \"UTC\""));
        }
    }
    if let Some(old) = &raw.deactivate_via_expiry {
        return Err(Diag::error(
            Code::Config,
            span(old),
            "`deactivate_via_expiry` is gone: Huwise's `expires_at` is read-only, so an expiry set through the API changes nothing",
        )
        .label("remove this key")
        .help("write `deactivate = \"revoke\"` instead: a deactivate then takes the user's domain permissions and groups away, and undo gives them back"));
    }
    if let Some(d) = text("deactivate").filter(|d| d.get_ref() != "revoke") {
        return Err(Diag::error(
            Code::Config,
            span(d),
            format!("`deactivate` takes only \"revoke\", not `{}`", d.get_ref()),
        )
        .label("here")
        .help("Huwise has no deactivation: `deactivate = \"revoke\"` lets a policy's deactivate take the user's domain permissions and groups away (undo gives them back); leave the key out to refuse deactivate on this connector"));
    }
    let url = match text("url") {
        Some(u) => check_url(u)?,
        None => String::new(),
    };
    let positive = |v: &Option<Spanned<f64>>, key: &str| -> Result<Option<f64>, Diag> {
        match v {
            Some(s) if !(s.get_ref().is_finite() && *s.get_ref() > 0.0) => {
                Err(Diag::error(Code::Config, span(s), format!("`{key}` must be a number above 0")).label("here"))
            }
            other => Ok(other.as_ref().map(|s| *s.get_ref())),
        }
    };
    let count = |v: &Option<Spanned<u64>>, key: &str, min: u64| -> Result<Option<u64>, Diag> {
        match v {
            Some(s) if *s.get_ref() < min => {
                Err(Diag::error(Code::Config, span(s), format!("`{key}` must be at least {min}")).label("here"))
            }
            other => Ok(other.as_ref().map(|s| *s.get_ref())),
        }
    };
    let limits =
        Limits {
            requests_per_second: positive(&raw.requests_per_second, "requests_per_second")?,
            requests_per_day: count(&raw.requests_per_day, "requests_per_day", 1)?,
            batch_size: count(&raw.batch_size, "batch_size", 1)?,
            page_size: match &raw.page_size {
                Some(s) if !(1..=MAX_PAGE_SIZE).contains(s.get_ref()) => return Err(Diag::error(
                    Code::Config,
                    span(s),
                    format!("`page_size` must be between 1 and {MAX_PAGE_SIZE}"),
                )
                .label("here")
                .help(
                    "Bevy's public scripts ask for at most 1000 a page; larger pages save requests of the daily quota",
                )),
                other => other.as_ref().map(|s| *s.get_ref()),
            },
            concurrency: count(&raw.concurrency, "concurrency", 1)?,
            timeout_seconds: positive(&raw.timeout_seconds, "timeout_seconds")?,
            retries: count(&raw.retries, "retries", 0)?,
        };
    Ok(Connector {
        name,
        kind,
        url,
        path: text("path").map(|p| dir.join(p.get_ref())),
        secrets,
        settings,
        limits,
        enrich: raw
            .enrich
            .map(|e| e.into_inner().iter().map(|p| dir.join(p)).collect())
            .unwrap_or_default(),
        revoke: text("deactivate").is_some(),
        enrollments: raw.enrollments.is_some_and(|d| *d.get_ref()),
        usage: PathBuf::new(),
    })
}

fn key_help(key: &str) -> String {
    match key {
        "url" => "add `url = \"https://...\"`, the platform's address".to_string(),
        k if k.ends_with("_env") => format!("add `{k} = \"VARIABLE\"`, naming the environment variable that holds it"),
        k => format!("add `{k} = \"...\"`"),
    }
}

/// Whether a host is this machine: `localhost`, 127.0.0.0/8 or `::1`
/// (in brackets or not).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An address dormant may call: https anywhere, plain http only on this
/// machine (tests and local proxies), since a secret goes with every call.
fn check_url(u: &Spanned<String>) -> Result<String, Diag> {
    let text = u.get_ref().trim().trim_end_matches('/');
    let bad = |message: String, help: &str| {
        Diag::error(Code::Config, span(u), message)
            .label("here")
            .help(help.to_string())
    };
    let parsed = reqwest::Url::parse(text).map_err(|e| {
        bad(
            format!("`{text}` is not an address: {e}"),
            "write the platform's address, e.g. `url = \"https://data.example.org\"`",
        )
    })?;
    let loopback = is_loopback(parsed.host_str().unwrap_or(""));
    match parsed.scheme() {
        "https" => Ok(text.to_string()),
        "http" if loopback => Ok(text.to_string()),
        "http" => Err(bad(
            format!("plain http is refused for `{text}`: the secret would cross the network unencrypted"),
            "use https (plain http is allowed only on this machine: localhost, 127.0.0.0/8, ::1)",
        )),
        other => Err(bad(
            format!("`{other}` addresses are not supported"),
            "use an https address",
        )),
    }
}

#[cfg(test)]
mod tests;
