//! `dormant.toml`: where the journal is and how to reach each connector
//! (SPEC section 5, "Connectors and enrichment"). Read once by `cmd`;
//! mistakes are reported at their span, like policy errors. Secrets are
//! never in the file: it names the environment variables that hold them.

pub use crate::connector::{Connector, Kind};
pub use crate::http::Limits;

pub use crate::connector::platform::is_loopback;
use crate::connector::platform::{check_url, KeyType, Keys, Own, Table};

use crate::diagnostic::{Code, Diag};
use crate::source::{Source, Span};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The default config file, looked for in the current folder.
pub const DEFAULT: &str = "dormant.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    journal: Option<String>,
    /// The policy `apply` enforces.
    policy: Option<String>,
    /// The environment variable holding the journal's HMAC key, if it is keyed.
    journal_key_env: Option<Spanned<String>>,
    #[serde(default)]
    connector: BTreeMap<String, Spanned<RawTable>>,
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

/// A `[connector.NAME]` table as written: its keys and values with their
/// spans, checked against its kind's keys afterwards, so that a key of
/// another kind is named as such.
type RawTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

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

/// A config file that cannot be used: unreadable, with a mistake at a span
/// (printed as a diagnostic, with its source), or without what a command
/// asks of it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Read(#[from] crate::files::Error),
    #[error("{}: {}", .0.0.path, .0.1.message)]
    #[diagnostic(code(dormant::config))]
    Invalid(Box<(Source, Diag)>),
    #[error("no connector named `{name}`: {hint}")]
    #[diagnostic(code(dormant::config::connector))]
    NoConnector { name: String, hint: String },
    /// `--connector NAME` without a config.
    #[error("--connector {name} needs a config: no `{DEFAULT}` here (or name one with --config)")]
    #[diagnostic(code(dormant::config::missing))]
    NoConfigFor { name: String },
    #[error("apply needs `{DEFAULT}`: the connector and the journal")]
    #[diagnostic(code(dormant::config::missing))]
    NoConfigToApply,
    #[error("undo needs `{DEFAULT}`: the connectors")]
    #[diagnostic(code(dormant::config::missing))]
    NoConfigToUndo,
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
            Err(e) => return Err(crate::files::Error::read(path, e).into()),
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
                let logins = logins_from(&raw)?;
                connector(name, raw, dir).map(|c| {
                    let c = Connector {
                        usage: usage.clone(),
                        ..c
                    };
                    (c, logins)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .and_then(resolve_logins)
            .map_err(invalid)?;
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
    pub fn journal_key(&self) -> Result<Option<crate::journal::Key>, crate::journal::Error> {
        self.journal_key_env
            .as_deref()
            .map(crate::journal::Key::from_env)
            .transpose()
    }

    /// The connector named `name`, or an error that lists those there are.
    pub fn connector(&self, name: &str) -> Result<&Connector, ConfigError> {
        self.connectors.iter().find(|c| c.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.connectors.iter().map(|c| c.name.as_str()).collect();
            let hint =
                crate::suggest::did_you_mean(name, names.iter().copied()).unwrap_or_else(|| match names.is_empty() {
                    true => format!("`{}` configures none: add a [connector.{name}] table", self.source.path),
                    false => format!("the connectors of `{}` are {}", self.source.path, names.join(", ")),
                });
            ConfigError::NoConnector {
                name: name.to_string(),
                hint,
            }
        })
    }
}

fn span<T>(s: &Spanned<T>) -> Span {
    Span::new(s.span().start, s.span().end)
}

/// The value of a `KEY_env` key: the name of an environment variable, never
/// the secret itself. `example` is a name to show in the help.
fn env_name(key: &str, value: &Spanned<String>, example: &str) -> Result<String, Diag> {
    env_name_at(key, value.get_ref(), span(value), example)
}

/// As `env_name`, for a value written at `at`.
fn env_name_at(key: &str, var: &str, at: Span, example: &str) -> Result<String, Diag> {
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Diag::error(
            Code::Config,
            at,
            format!("`{key}` names an environment variable, not `{var}`"),
        )
        .label("not a variable name")
        .help(format!("write the variable's name, e.g. `{key} = \"{example}\"`, and export the secret in it; secrets are never written in dormant.toml")));
    }
    Ok(var.to_string())
}

fn connector(name: String, raw: Spanned<RawTable>, dir: &Path) -> Result<Connector, Diag> {
    let table = span(&raw);
    let raw = raw.into_inner();
    let kind = kind_of(&raw, table)?;
    let keys = kind.platform().keys();
    let values = typed(&raw, &keys, kind)?;
    for key in keys.required {
        if !values.contains_key(*key) {
            return Err(Diag::error(
                Code::Config,
                table,
                format!("connector `{name}` ({}) needs `{key}`", kind.as_str()),
            )
            .label("in this table")
            .help(key_help(key)));
        }
    }
    let table = Table { span: table, values };
    // Secrets are named, never written: each `*_env` key names a variable.
    for key in keys.required.iter().copied().chain(keys.own.iter().map(|k| k.name)) {
        if let Some((text, at)) = table.text(key).filter(|_| key.ends_with("_env")) {
            env_name_at(key, text, at, "PORTAL_SECRET")?;
        }
    }
    let mut c = Connector {
        name,
        kind,
        url: String::new(),
        path: table.text("path").map(|(p, _)| dir.join(p)),
        limits: limits(&table)?,
        enrich: table
            .values
            .get("enrich")
            .and_then(|(_, v)| v.as_array())
            .map(|e| e.iter().filter_map(toml::Value::as_str).map(|p| dir.join(p)).collect())
            .unwrap_or_default(),
        own: Own::none(),
        usage: PathBuf::new(),
        logins_from: Vec::new(),
    };
    c.own = kind.platform().configure(&mut c, &table)?;
    if let Some((u, at)) = table.text("url") {
        c.url = check_url(u, at)?;
    }
    Ok(c)
}

/// The connectors a table's `logins_from` names, each with where the list
/// is written: empty when it has none.
fn logins_from(raw: &Spanned<RawTable>) -> Result<Vec<(String, Span)>, Diag> {
    let Some(value) = raw.get_ref().get("logins_from") else {
        return Ok(Vec::new());
    };
    let at = span(value);
    let names = value
        .get_ref()
        .as_array()
        .filter(|a| a.iter().all(toml::Value::is_str))
        .ok_or_else(|| mistyped(value.get_ref(), at, KeyType::Texts))?;
    Ok(names
        .iter()
        .filter_map(toml::Value::as_str)
        .map(|n| (n.to_string(), at))
        .collect())
}

/// Gives each connector the identity providers its `logins_from` names,
/// checked: each is a connector of this config and of an identity
/// provider's kind, and no identity provider takes its logins from another
/// (so that no fetch waits on itself).
fn resolve_logins(connectors: Vec<(Connector, Vec<(String, Span)>)>) -> Result<Vec<Connector>, Diag> {
    let all: Vec<Connector> = connectors.iter().map(|(c, _)| c.clone()).collect();
    let providers: Vec<&str> = crate::connector::PLATFORMS
        .iter()
        .filter(|p| p.identity_provider())
        .map(|p| p.kind())
        .collect();
    let mut resolved = Vec::with_capacity(connectors.len());
    for (mut c, names) in connectors {
        for (name, at) in names {
            if c.kind.platform().identity_provider() {
                return Err(Diag::error(
                    Code::Config,
                    at,
                    format!(
                        "connector `{}` is an identity provider: it takes no `logins_from`",
                        c.name
                    ),
                )
                .label("here")
                .help("name the identity provider in the `logins_from` of the application's connector"));
            }
            let Some(idp) = all.iter().find(|o| o.name == name) else {
                let names = all.iter().map(|o| o.name.as_str());
                return Err(
                    Diag::error(Code::Config, at, format!("no connector `{name}` to take logins from"))
                        .label("not a connector of this file")
                        .help(crate::suggest::did_you_mean(&name, names).unwrap_or_else(|| {
                            format!("add a `[connector.{name}]` table of kind {}", providers.join(" or "))
                        })),
                );
            };
            if !idp.kind.platform().identity_provider() {
                return Err(Diag::error(
                    Code::Config,
                    at,
                    format!(
                        "connector `{name}` is of kind `{}`, not an identity provider",
                        idp.kind.as_str()
                    ),
                )
                .label("not an identity provider")
                .help(format!(
                    "`logins_from` names connectors of kind {}",
                    providers.join(" or ")
                )));
            }
            c.logins_from.push(idp.clone());
        }
        resolved.push(c);
    }
    Ok(resolved)
}

/// The platform a table's `kind` names.
fn kind_of(raw: &RawTable, table: Span) -> Result<Kind, Diag> {
    let Some(kind) = raw.get("kind") else {
        return Err(Diag::error(Code::Config, table, "missing field `kind`").label("here"));
    };
    let at = span(kind);
    let Some(written) = kind.get_ref().as_str() else {
        return Err(mistyped(kind.get_ref(), at, KeyType::Text));
    };
    Kind::named(written).ok_or_else(|| {
        let names: Vec<&str> = crate::connector::PLATFORMS.iter().map(|p| p.kind()).collect();
        Diag::error(Code::Config, at, format!("unknown connector kind `{written}`"))
            .label("not a kind dormant knows")
            .help(
                crate::suggest::did_you_mean(written, names.iter().copied())
                    .unwrap_or_else(|| format!("kinds are {}", names.join(", "))),
            )
    })
}

/// The table's values, each of a key its kind takes and of that key's type.
/// A key no kind takes is unknown; a key of another kind is named as such.
fn typed(raw: &RawTable, keys: &Keys, kind: Kind) -> Result<BTreeMap<String, (Span, toml::Value)>, Diag> {
    let mut values = BTreeMap::new();
    for (key, value) in raw {
        let name = key.get_ref().as_str();
        // Read apart: `logins_from` names other connectors (`logins_from`).
        if name == "kind" || name == "logins_from" {
            continue;
        }
        let Some(ty) = keys
            .of(name)
            .or_else(|| keys.retired.contains(&name).then_some(KeyType::Any))
        else {
            return Err(not_a_key(key, span(value), keys, kind));
        };
        if !fits(value.get_ref(), ty) {
            return Err(mistyped(value.get_ref(), span(value), ty));
        }
        values.insert(name.to_string(), (span(value), value.get_ref().clone()));
    }
    Ok(values)
}

/// A key this kind does not take: another kind's, underlined at its value
/// `at`, or no kind's, at the key.
fn not_a_key(key: &Spanned<String>, at: Span, keys: &Keys, kind: Kind) -> Diag {
    let name = key.get_ref();
    let all: Vec<&str> = crate::connector::PLATFORMS
        .iter()
        .flat_map(|p| {
            let k = p.keys();
            let mut names = vec!["kind"];
            names.extend(
                k.required
                    .iter()
                    .copied()
                    .chain(k.optional())
                    .chain(k.retired.iter().copied()),
            );
            names
        })
        .fold(Vec::new(), |mut seen, k| {
            if !seen.contains(&k) {
                seen.push(k);
            }
            seen
        });
    if !all.contains(&name.as_str()) {
        let expected = all.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        return Diag::error(
            Code::Config,
            span(key),
            format!("unknown field `{name}`, expected one of {expected}"),
        )
        .label("here")
        .help("see the README's \"Configuration\" section for the keys dormant.toml takes");
    }
    let optional = keys.optional();
    Diag::error(
        Code::Config,
        at,
        format!("`{name}` is not a key of a `{}` connector", kind.as_str()),
    )
    .label("not for this kind")
    .help(format!(
        "a `{}` connector takes {}",
        kind.as_str(),
        keys.required
            .iter()
            .chain(&optional)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Whether a value is of a key's type.
fn fits(v: &toml::Value, ty: KeyType) -> bool {
    match ty {
        KeyType::Text => v.is_str(),
        KeyType::Flag => v.is_bool(),
        KeyType::Count => v.as_integer().is_some_and(|n| n >= 0),
        KeyType::Number => v.is_float() || v.is_integer(),
        KeyType::Texts => v.as_array().is_some_and(|a| a.iter().all(toml::Value::is_str)),
        KeyType::Any => true,
    }
}

/// A value not of its key's type, in serde's words.
fn mistyped(v: &toml::Value, at: Span, ty: KeyType) -> Diag {
    let expected = match ty {
        KeyType::Text => "a string",
        KeyType::Flag => "a boolean",
        KeyType::Count => "a whole number, 0 or more",
        KeyType::Number => "a number",
        KeyType::Texts => "a list of strings",
        KeyType::Any => "any value",
    };
    let found = match v {
        toml::Value::String(s) => format!("string {s:?}"),
        toml::Value::Integer(n) => format!("integer `{n}`"),
        toml::Value::Float(f) => format!("floating point `{f}`"),
        toml::Value::Boolean(b) => format!("boolean `{b}`"),
        toml::Value::Datetime(d) => format!("datetime `{d}`"),
        toml::Value::Array(_) => "sequence".to_string(),
        toml::Value::Table(_) => "map".to_string(),
    };
    Diag::error(Code::Config, at, format!("invalid type: {found}, expected {expected}")).label("here")
}

/// The request limits the table sets, each in its range.
fn limits(table: &Table) -> Result<Limits, Diag> {
    let positive = |key: &str| -> Result<Option<f64>, Diag> {
        let Some((at, v)) = table.values.get(key) else {
            return Ok(None);
        };
        let n = v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).unwrap_or(0.0);
        match n.is_finite() && n > 0.0 {
            true => Ok(Some(n)),
            false => Err(Diag::error(Code::Config, *at, format!("`{key}` must be a number above 0")).label("here")),
        }
    };
    let count = |key: &str, min: u64| -> Result<Option<u64>, Diag> {
        match table.count(key) {
            Some((n, at)) if n < min => {
                Err(Diag::error(Code::Config, at, format!("`{key}` must be at least {min}")).label("here"))
            }
            other => Ok(other.map(|(n, _)| n)),
        }
    };
    Ok(Limits {
        requests_per_second: positive("requests_per_second")?,
        requests_per_day: count("requests_per_day", 1)?,
        batch_size: count("batch_size", 1)?,
        page_size: None,
        concurrency: count("concurrency", 1)?,
        timeout_seconds: positive("timeout_seconds")?,
        retries: count("retries", 0)?,
    })
}

fn key_help(key: &str) -> String {
    match key {
        "url" => "add `url = \"https://...\"`, the platform's address".to_string(),
        k if k.ends_with("_env") => format!("add `{k} = \"VARIABLE\"`, naming the environment variable that holds it"),
        k => format!("add `{k} = \"...\"`"),
    }
}

#[cfg(test)]
mod tests;
