//! Notices: the message a user gets before their account is deactivated or
//! deleted (`ACTION after notice D`), or when a `notify` rule matches. Sent
//! by e-mail (SMTP) or to a webhook (a JSON POST), from a template that
//! names the user, the coming action and its date.

use crate::config::{NotifyConf, SmtpConf, WebhookConf};
use crate::http::{Client, Secret, Settings};
use crate::user::User;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

const SUBJECT: &str = "Your {platform} account: {action} on {date}";

const TEMPLATE: &str = "Hello {name},

Your account {username} on {platform} has not been used for a while. Unless you sign in
before {date}, it will be {done}.

If you still need it, signing in is enough. If you have questions, reply to this message.
";

/// What one notice says.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub user: &'a User,
    /// The action that follows the notice (`deactivate`, `delete`), or
    /// `notify` for a rule that only notifies.
    pub action: &'a str,
    /// When it becomes due (`YYYY-MM-DD`), if it does.
    pub date: Option<String>,
    pub rule: &'a str,
    /// The connector's name, as the platform is called in messages.
    pub platform: &'a str,
}

impl Notice<'_> {
    fn fill(&self, template: &str) -> String {
        let u = self.user;
        let name = u.name.as_deref().or(u.username.as_deref()).unwrap_or(&u.id);
        let done = match self.action {
            "deactivate" => "deactivated",
            "delete" => "deleted",
            _ => "reviewed",
        };
        template
            .replace("{name}", name)
            .replace("{username}", u.username.as_deref().unwrap_or(&u.id))
            .replace("{email}", u.email.as_deref().unwrap_or(""))
            .replace("{id}", &u.id)
            .replace("{action}", self.action)
            .replace("{done}", done)
            .replace("{date}", self.date.as_deref().unwrap_or("soon"))
            .replace("{rule}", self.rule)
            .replace("{platform}", self.platform)
    }
}

/// Why the `[notify]` channel cannot be set up: found before anything is
/// sent.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("cannot read the notice template `{path}`: {source}")]
    #[diagnostic(code(dormant::notify::template))]
    Template { path: String, source: std::io::Error },
    #[error("`[notify]` has no channel")]
    #[diagnostic(code(dormant::notify::config))]
    NoChannel,
    #[error("`[notify.{table}] {key}` is not an address: {detail}")]
    #[diagnostic(code(dormant::notify::config))]
    NotAnAddress {
        table: &'static str,
        key: &'static str,
        detail: String,
    },
    #[error("`[notify.smtp] tls = \"none\"` is refused for `{host}`: mail and passwords would cross the network unencrypted (allowed only on this machine)")]
    #[diagnostic(code(dormant::notify::unencrypted))]
    Unencrypted { host: String },
    #[error("`[notify.smtp] tls` is `starttls`, `tls` or `none`, not `{0}`")]
    #[diagnostic(code(dormant::notify::config))]
    Tls(String),
    #[error("cannot set up SMTP to `{host}`: {detail}")]
    #[diagnostic(code(dormant::notify::smtp))]
    Smtp { host: String, detail: String },
    #[error("`[notify.webhook] url` must be https (plain http only on this machine), not `{0}`")]
    #[diagnostic(code(dormant::notify::unencrypted))]
    NotHttps(String),
    /// Its secret, or its HTTP client.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setup(#[from] crate::http::SetupError),
}

/// Why one notice was not sent: recorded as that user's outcome.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the user has no e-mail address")]
    NoAddress,
    #[error("the user's e-mail address cannot be used: {0}")]
    BadAddress(String),
    #[error("cannot write the message: {0}")]
    Message(String),
    #[error("the SMTP server refused the message: {0}")]
    Refused(String),
    #[error(transparent)]
    Webhook(#[from] crate::http::HttpError),
}

enum Channel {
    Smtp {
        transport: Box<SmtpTransport>,
        from: Box<Mailbox>,
    },
    Webhook {
        client: Box<Client>,
    },
}

pub struct Notifier {
    channel: Channel,
    subject: String,
    template: String,
}

impl Notifier {
    /// A notifier as configured; secrets come from the variables named.
    pub fn new(conf: &NotifyConf, dir: &std::path::Path) -> Result<Notifier, Error> {
        let template = match &conf.template {
            Some(path) => std::fs::read_to_string(dir.join(path)).map_err(|source| Error::Template {
                path: path.clone(),
                source,
            })?,
            None => TEMPLATE.to_string(),
        };
        let channel = match (&conf.smtp, &conf.webhook) {
            (Some(smtp), _) => smtp_channel(smtp)?,
            (None, Some(hook)) => webhook_channel(hook)?,
            (None, None) => return Err(Error::NoChannel),
        };
        Ok(Notifier {
            channel,
            subject: conf.subject.clone().unwrap_or_else(|| SUBJECT.to_string()),
            template,
        })
    }

    /// Sends one notice.
    pub fn send(&self, notice: &Notice<'_>, rt: &tokio::runtime::Runtime) -> Result<(), SendError> {
        let subject = notice.fill(&self.subject);
        let body = notice.fill(&self.template);
        match &self.channel {
            Channel::Smtp { transport, from } => {
                let to: Mailbox = notice
                    .user
                    .email
                    .as_deref()
                    .ok_or(SendError::NoAddress)?
                    .parse()
                    .map_err(|e: lettre::address::AddressError| SendError::BadAddress(e.to_string()))?;
                let message = Message::builder()
                    .from((**from).clone())
                    .to(to)
                    .subject(subject)
                    .body(body)
                    .map_err(|e| SendError::Message(e.to_string()))?;
                transport
                    .send(&message)
                    .map(|_| ())
                    .map_err(|e| SendError::Refused(e.to_string()))
            }
            Channel::Webhook { client } => {
                let payload = serde_json::json!({
                    "user": {
                        "id": notice.user.id.as_str(),
                        "username": notice.user.username.as_deref(),
                        "email": notice.user.email.as_deref(),
                        "name": notice.user.name.as_deref(),
                    },
                    "action": notice.action,
                    "date": notice.date,
                    "rule": notice.rule,
                    "platform": notice.platform,
                    "subject": subject,
                    "message": body,
                });
                rt.block_on(client.send(reqwest::Method::POST, "", Some(&payload)))
                    .map(|_| ())
                    .map_err(SendError::from)
            }
        }
    }
}

fn smtp_channel(c: &SmtpConf) -> Result<Channel, Error> {
    let from: Mailbox = c
        .from
        .parse()
        .map_err(|e: lettre::address::AddressError| Error::NotAnAddress {
            table: "smtp",
            key: "from",
            detail: e.to_string(),
        })?;
    let loopback =
        c.host.eq_ignore_ascii_case("localhost") || c.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let builder = match c.tls.as_deref().unwrap_or("starttls") {
        "starttls" => SmtpTransport::starttls_relay(&c.host),
        "tls" => SmtpTransport::relay(&c.host),
        "none" if loopback => Ok(SmtpTransport::builder_dangerous(&c.host)),
        "none" => return Err(Error::Unencrypted { host: c.host.clone() }),
        other => return Err(Error::Tls(other.to_string())),
    }
    .map_err(|e| Error::Smtp {
        host: c.host.clone(),
        detail: e.to_string(),
    })?;
    let mut builder = builder.timeout(Some(Duration::from_secs(30)));
    if let Some(port) = c.port {
        builder = builder.port(port);
    }
    if let (Some(user), Some(var)) = (&c.username, &c.password_env) {
        let password = Secret::from_env(var, "password_env", "[notify.smtp]")?;
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
    }
    Ok(Channel::Smtp {
        transport: Box::new(builder.build()),
        from: Box::new(from),
    })
}

fn webhook_channel(c: &WebhookConf) -> Result<Channel, Error> {
    let url = reqwest::Url::parse(&c.url).map_err(|e| Error::NotAnAddress {
        table: "webhook",
        key: "url",
        detail: e.to_string(),
    })?;
    let loopback = crate::config::is_loopback(url.host_str().unwrap_or(""));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(Error::NotHttps(c.url.clone()));
    }
    let settings = Settings {
        requests_per_second: 5.0,
        requests_per_day: None,
        concurrency: 1,
        timeout: Duration::from_secs(30),
        retries: 4,
        backoff: Duration::from_millis(200),
        max_wait: Duration::from_secs(60),
    };
    let client = Client::new("webhook", &c.url, settings)?;
    if let Some(var) = &c.token_env {
        let token = Secret::from_env(var, "token_env", "[notify.webhook]")?;
        client.set_auth("authorization", &format!("Bearer {}", token.expose()), &token)?;
    }
    Ok(Channel::Webhook {
        client: Box::new(client),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_the_user_the_action_and_the_date() {
        let u = User {
            id: "u1".into(),
            username: Some("ana".into()),
            name: Some("Ana Lima".into()),
            ..User::default()
        };
        let n = Notice {
            user: &u,
            action: "delete",
            date: Some("2026-12-23".into()),
            rule: "idle",
            platform: "portal",
        };
        assert_eq!(n.fill(SUBJECT), "Your portal account: delete on 2026-12-23");
        let body = n.fill(TEMPLATE);
        assert!(body.starts_with("Hello Ana Lima,"), "{body}");
        assert!(body.contains("account ana on portal"));
        assert!(body.contains("before 2026-12-23, it will be deleted."));
    }
}
