//! What a platform says about itself. Each platform's file implements
//! [`Platform`] (what its `dormant.toml` table takes, the fields it supplies,
//! the actions it can take, how to connect) and [`Connection`] (what a
//! connection does: fetch, act, read back, reactivate, what undo says about a
//! deletion). `connector::PLATFORMS` lists them: nothing else names a
//! platform. The methods that matter have no default, so that the compiler
//! asks a new platform for each of them.

use super::{Acted, Connector, Error, Fetched, Step, Warning};
use crate::ast::{Expr, ExprKind, Rule};
use crate::decision::PlanAction;
use crate::diagnostic::{Code, Diag};
use crate::fields::Field;
use crate::http::{Client, HttpError, Limits};
use crate::progress::Progress;
use crate::source::Span;
use crate::time::Time;
use crate::user::User;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A platform dormant knows: one per file, listed in `connector::PLATFORMS`.
pub trait Platform: Sync {
    /// The `kind` that names it in `dormant.toml`.
    fn kind(&self) -> &'static str;

    /// Its name in messages ("Metric Insights").
    fn name(&self) -> &'static str;

    /// The keys its `[connector.NAME]` table requires and those it may have.
    fn keys(&self) -> Keys;

    /// Whether deactivating here is a revoke of permissions and groups
    /// (plans and prompts then say "revoke").
    fn revokes(&self) -> bool;

    /// Checks what its own keys say (the mistakes the types of [`Keys`]
    /// cannot catch, each at its span) and reads them into its own serde
    /// struct ([`Table::own`]), which it returns for `c` to hold; it may
    /// also set what they set among the keys every platform shares (a page
    /// size in `c.limits`).
    fn configure(&self, c: &mut Connector, table: &Table) -> Result<Own, Diag>;

    /// A connection that acts, or why there cannot be one.
    fn connect(&self, c: &Connector) -> Result<Box<dyn Connection>, Error>;

    /// Every user of connector `c`, with what the fetch warns about.
    /// Platforms read them through a connection; the built-in `file` reads
    /// its file.
    fn fetch(&self, c: &Connector, progress: &Progress) -> Result<Fetched, Error> {
        super::Live::connect(c)?.fetch(progress)
    }

    /// Whether dormant can act on its users (listed when one cannot).
    fn acts(&self) -> bool;

    /// Whether it is an identity provider, whose users' last logins another
    /// connector's `logins_from` may take (`connector::logins`). False but
    /// for Okta and Microsoft Graph: a default, as only they say otherwise.
    fn identity_provider(&self) -> bool {
        false
    }

    /// The `attr.*` names it supplies.
    fn attrs(&self) -> &'static [&'static str];

    /// Whether it supplies `field`, before the rules every platform shares
    /// (`Supply::Usual`). `own` says whether connector `c` supplies another
    /// field, its enrich files included.
    fn supplies(&self, c: &Connector, field: &Field, own: &dyn Fn(&Field) -> bool) -> Supply;

    /// What `check --connector` says about one rule's action here.
    fn check_rule(&self, c: &Connector, rule: &RuleCheck<'_>) -> Vec<Diag>;

    /// What an unsupplied field does to a rule, where it is not the usual
    /// "unknown for every user".
    fn unsupplied_label(&self, _c: &Connector, _field: &Field, _rule: &str) -> Option<String> {
        None
    }

    /// How to supply a derived field, where it is not the usual enrich file.
    fn supply_help(&self, _c: &Connector, _field: &Field) -> Option<String> {
        None
    }

    /// Why `apply` must refuse to take `action` on `count` users through
    /// this connector as configured, before anything is sent; `None` when
    /// it can.
    fn refuses(&self, _c: &Connector, _action: PlanAction, _count: usize) -> Option<String> {
        None
    }
}

/// Acts on each of `items` in turn, one request at a time, answers in
/// their order: for platforms whose API takes one user a request.
pub async fn in_turn<'a, T, F, Fut>(items: &'a [T], act: F) -> Vec<Acted>
where
    F: Fn(&'a T) -> Fut,
    Fut: std::future::Future<Output = Acted>,
{
    let mut acted = Vec::with_capacity(items.len());
    for item in items {
        acted.push(act(item).await);
    }
    acted
}

/// What an identity provider's user list supplies: who people are and when
/// they last signed in, nothing of an application's groups, roles or rights.
pub fn identity_provider_supplies(name: &str, field: &Field) -> Supply {
    match field {
        Field::LastActivity => Supply::Never(format!("{name}'s user list has no last activity")),
        Field::Group | Field::GroupName | Field::Role | Field::Permission | Field::IsAdmin => {
            Supply::Never(format!("{name}'s user list has no `{field}`"))
        }
        _ => Supply::Usual,
    }
}

/// The keys of a platform's `[connector.NAME]` table, besides `kind`.
pub struct Keys {
    /// Text keys it cannot do without (`url`, `api_key_env`).
    pub required: &'static [&'static str],
    /// Its own optional keys, with their types.
    pub own: &'static [Key],
    /// Keys it no longer takes: accepted here so that `configure` can say
    /// what to write instead.
    pub retired: &'static [&'static str],
    /// Whether it takes the request limits (`requests_per_second`, …).
    pub limits: bool,
}

impl Keys {
    /// The keys a table may have besides the required ones and `kind`.
    pub fn optional(&self) -> Vec<&'static str> {
        let own = self.own.iter().map(|k| k.name);
        own.chain(self.shared().iter().map(|k| k.name)).collect()
    }

    /// The keys every platform of its sort takes.
    pub fn shared(&self) -> &'static [Key] {
        match self.limits {
            true => &SHARED,
            false => &ENRICH,
        }
    }

    /// The type of key `name` here, if it is one of its keys.
    pub fn of(&self, name: &str) -> Option<KeyType> {
        let known = self.own.iter().chain(self.shared());
        let required = self.required.contains(&name).then_some(KeyType::Text);
        required.or_else(|| known.into_iter().find(|k| k.name == name).map(|k| k.kind))
    }
}

/// The keys that set request limits, and `enrich` last (the one key the
/// built-in `file` shares).
const SHARED: [Key; 7] = [
    Key::new("requests_per_second", KeyType::Number),
    Key::new("requests_per_day", KeyType::Count),
    Key::new("batch_size", KeyType::Count),
    Key::new("concurrency", KeyType::Count),
    Key::new("timeout_seconds", KeyType::Number),
    Key::new("retries", KeyType::Count),
    Key::new("enrich", KeyType::Texts),
];

/// The one shared key of a connector that makes no requests.
const ENRICH: [Key; 1] = [Key::new("enrich", KeyType::Texts)];

/// Whether `name` is a key every platform of its sort reads alike, held
/// by `Connector` itself (`url`, `path`, the request limits, `enrich`),
/// not by a platform's own keys.
fn is_shared(name: &str) -> bool {
    matches!(name, "url" | "path") || SHARED.iter().any(|k| k.name == name)
}

/// One key of a connector table.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub kind: KeyType,
}

impl Key {
    pub const fn new(name: &'static str, kind: KeyType) -> Key {
        Key { name, kind }
    }

    /// A text key; one ending in `_env` names an environment variable.
    pub const fn text(name: &'static str) -> Key {
        Key::new(name, KeyType::Text)
    }
}

/// What a key's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Text,
    /// `true` or `false`.
    Flag,
    /// A whole number, 0 or more.
    Count,
    /// A number, whole or not.
    Number,
    /// A list of texts.
    Texts,
    /// Any value: a retired key, read only to say so.
    Any,
}

/// A `[connector.NAME]` table as written, its values typed and spanned, for
/// a platform's [`Platform::configure`].
pub struct Table {
    /// The whole table.
    pub span: Span,
    pub values: BTreeMap<String, (Span, toml::Value)>,
}

impl Table {
    /// A text key's value and where it is written.
    pub fn text(&self, key: &str) -> Option<(&str, Span)> {
        self.values.get(key).and_then(|(at, v)| Some((v.as_str()?, *at)))
    }

    pub fn flag(&self, key: &str) -> Option<bool> {
        self.values.get(key).and_then(|(_, v)| v.as_bool())
    }

    pub fn count(&self, key: &str) -> Option<(u64, Span)> {
        self.values
            .get(key)
            .and_then(|(at, v)| Some((u64::try_from(v.as_integer()?).ok()?, *at)))
    }

    /// Where key `key` is written, whatever its value.
    pub fn span(&self, key: &str) -> Option<Span> {
        self.values.get(key).map(|(at, _)| *at)
    }

    /// The platform's own keys, read into its serde struct `T`: every
    /// value but those of the keys all platforms share, each already of
    /// the type its [`Keys`] give it. What serde still refuses (a key `T`
    /// lacks, a value it cannot take) is a mistake at the key's value, or
    /// at the table for a key missing.
    pub fn own<T: serde::de::DeserializeOwned>(&self) -> Result<T, Diag> {
        let values: toml::Table = self
            .values
            .iter()
            .filter(|(key, _)| !is_shared(key))
            .map(|(key, (_, v))| (key.clone(), v.clone()))
            .collect();
        T::deserialize(toml::Value::Table(values)).map_err(|e| {
            let at = refused_key(&e).and_then(|key| self.span(&key)).unwrap_or(self.span);
            Diag::error(crate::diagnostic::Code::Config, at, e.message().trim().to_string())
                .label("here")
                .help("see the README's \"Configuration\" section for the keys dormant.toml takes")
        })
    }
}

/// The key a serde error is about: the one whose value it refused (toml
/// names it on a last line, "in `KEY`"), or the one it does not know.
fn refused_key(e: &toml::de::Error) -> Option<String> {
    let shown = e.to_string();
    let within = shown
        .lines()
        .find_map(|l| l.strip_prefix("in `")?.strip_suffix('`').map(str::to_string));
    let unknown = || {
        let rest = e.message().strip_prefix("unknown field `")?;
        rest.split('`').next().map(str::to_string)
    };
    within
        .map(|path| path.split('.').next().unwrap_or_default().to_string())
        .or_else(unknown)
}

/// Whether a host is this machine: `localhost`, 127.0.0.0/8 or `::1`
/// (in brackets or not).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An address dormant may call: https anywhere, plain http only on this
/// machine (tests and local proxies), since a secret goes with every call.
pub fn check_url(u: &str, at: Span) -> Result<String, Diag> {
    let text = u.trim().trim_end_matches('/');
    let bad = |message: String, help: &str| {
        Diag::error(Code::Config, at, message)
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

/// A platform's own keys as its [`Platform::configure`] read them (its
/// serde struct), held by the `Connector` without naming their type: only
/// the platform's file reads them, with `Connector::own`.
#[derive(Clone, Debug)]
pub struct Own(Arc<dyn OwnKeys>);

/// What [`Own`] holds: any struct of keys.
trait OwnKeys: Any + Send + Sync + std::fmt::Debug {}

impl<T: Any + Send + Sync + std::fmt::Debug> OwnKeys for T {}

impl Own {
    pub fn new<T: Any + Send + Sync + std::fmt::Debug>(keys: T) -> Own {
        Own(Arc::new(keys))
    }

    /// No keys: a connector not configured yet.
    pub fn none() -> Own {
        Own::new(())
    }

    /// The keys, if they are a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        let keys: &dyn Any = &*self.0;
        keys.downcast_ref()
    }
}

/// Whether a platform supplies a field.
pub enum Supply {
    Supplied,
    /// Never, and why.
    Never(String),
    /// As the rules every platform shares say (service flags, counters,
    /// `attr.*`, fields derived from others).
    Usual,
}

/// One rule, for [`Platform::check_rule`].
pub struct RuleCheck<'a> {
    pub rule: &'a Rule,
    /// "rule `NAME`", or "this rule".
    pub name: &'a str,
    /// The policy's `let` names.
    pub lets: &'a HashMap<&'a str, &'a Expr>,
}

/// A connection to one platform: what `Live` asks of it. Async methods run
/// on `Live`'s runtime.
pub trait Connection {
    /// Its name in messages.
    fn name(&self) -> &'static str;

    /// The HTTP client, for its request count and its secrets.
    fn client(&self) -> &Client;

    /// Users acted on in one request.
    fn batch(&self, limits: &Limits) -> usize;

    /// Every user, fresh, with what the fetch warns about.
    fn fetch<'a>(&'a self, progress: &'a Progress) -> LocalBoxFuture<'a, Result<Fetched, HttpError>>;

    /// One user as the platform has them now; `None` when not there.
    fn read<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>>;

    /// A user read back after an action, where reading by id is not enough.
    fn read_back<'a>(&'a self, u: &'a User) -> LocalBoxFuture<'a, Result<Option<User>, HttpError>> {
        self.read(&u.id)
    }

    /// What acting through connector `connector` warns about, once: asked
    /// before each batch is sent, it answers the first time only.
    fn acting_warning(&self, _connector: &str) -> Option<Warning> {
        None
    }

    /// Sends the requests of one batch for connector `connector`: what each
    /// answer said (`Acted::Accepted` is read back by `Live`).
    fn send<'a>(&'a self, action: PlanAction, users: &'a [User], connector: &'a str) -> LocalBoxFuture<'a, Vec<Acted>>;

    /// What an action is about to take away that undo must give back, read
    /// just before the action's intent is journaled.
    fn before<'a>(&'a self, _action: PlanAction, _u: &'a User) -> LocalBoxFuture<'a, Result<Option<Value>, HttpError>> {
        Box::pin(async { Ok(None) })
    }

    /// An action this platform takes in two steps, recorded between them.
    fn two_steps(&self, action: PlanAction) -> Option<TwoSteps>;

    /// The second step of a two-step action, for the users whose first
    /// step is recorded.
    fn second_step<'a>(&'a self, users: &'a [&'a User]) -> LocalBoxFuture<'a, Vec<Acted>> {
        let failed = users
            .iter()
            .map(|_| Acted::Failed("this platform takes no second step".into()))
            .collect();
        Box::pin(async { failed })
    }

    /// Undoes deactivations, by user id, with what each took away
    /// (`before`, from the journal).
    fn reactivate<'a>(&'a self, ids: &'a [String], before: &'a [Option<Value>]) -> LocalBoxFuture<'a, Vec<Acted>>;

    /// Whether a user read back shows a reactivation done.
    fn restored(&self, _before: Option<&Value>, u: &User) -> bool {
        u.status == Some(crate::user::Status::Active)
    }

    /// What a deletion made at `at` means now, for `undo` to say, and
    /// whether it can still be cancelled.
    fn deletion(&self, at: Option<Time>, now: Time) -> (bool, String);
}

/// The two steps of an action: the first, sent and confirmed as its own
/// action, recorded as `step`, then the second.
pub struct TwoSteps {
    pub first: PlanAction,
    pub step: Step,
    /// What the first step is called, for an unconfirmed first step.
    pub first_is: &'static str,
}

/// Reads a user back after a request that did not say what it did.
pub async fn confirm(conn: &dyn Connection, revokes: bool, action: PlanAction, u: &User) -> Acted {
    let platform = conn.name();
    match conn.read_back(u).await {
        Ok(fresh) if super::shows_done(revokes, action, fresh.as_ref()) => Acted::Done,
        Ok(_) => Acted::Unconfirmed(format!(
            "{platform} accepted the request, but the user read back afterwards is not {}",
            match action {
                PlanAction::Delete => "deleted",
                _ if revokes => "without permissions and groups",
                _ => "deactivated",
            }
        )),
        Err(e) => Acted::Unconfirmed(format!(
            "{platform} accepted the request, and reading the user back failed: {e}"
        )),
    }
}

/// The error of a platform dormant does not act on.
pub fn cannot_act(c: &Connector) -> Error {
    let acting: Vec<&str> = super::PLATFORMS.iter().filter(|p| p.acts()).map(|p| p.kind()).collect();
    let list = match acting.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => acting.join(", "),
    };
    Error::CannotAct {
        connector: c.name.clone(),
        kind: c.kind.as_str(),
        acting: list,
    }
}

/// A connector's platform, as `dormant.toml` names it.
#[derive(Clone, Copy)]
pub struct Kind(&'static dyn Platform);

impl Kind {
    /// The platform whose `kind` is `name`.
    pub fn named(name: &str) -> Option<Kind> {
        super::PLATFORMS.iter().find(|p| p.kind() == name).map(|p| Kind(*p))
    }

    pub fn platform(self) -> &'static dyn Platform {
        self.0
    }

    pub fn as_str(self) -> &'static str {
        self.0.kind()
    }

    /// Whether deactivating on this platform is a revoke of permissions and
    /// groups: plans and prompts say "revoke".
    pub fn revokes(self) -> bool {
        self.0.revokes()
    }
}

impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Kind {}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a condition is false for every user with `attr.ATTR` true: one
/// of its `and` terms is `not attr.ATTR` (or `attr.ATTR == false`, `!=
/// true`), through `let` names and parentheses. A policy checked here may
/// have errors, `let` names deeper than the nesting limit among them: the
/// walk keeps its own stack rather than recursing.
pub fn leaves_out(e: &Expr, lets: &HashMap<&str, &Expr>, attr: &str) -> bool {
    let is_attr = |f: &str| Field::lookup(f) == Some(Field::Attr(attr.into()));
    let mut seen = HashSet::new();
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        let found = match &e.kind {
            ExprKind::And(es) => {
                todo.extend(es.iter().rev());
                false
            }
            ExprKind::Paren(e) => {
                todo.push(e);
                false
            }
            ExprKind::Not(inner) => matches!(&without_parens(inner).kind, ExprKind::Ref(n) if is_attr(&n.node)),
            ExprKind::Cmp { field, op, value } if is_attr(&field.node) => matches!(
                (op.node, &value.node),
                (crate::ast::CmpOp::Eq, crate::ast::Lit::Bool(false))
                    | (crate::ast::CmpOp::Ne, crate::ast::Lit::Bool(true))
            ),
            ExprKind::Ref(n) => {
                if let Some(inner) = lets.get(n.node.as_str()).filter(|_| seen.insert(n.node.clone())) {
                    todo.push(inner);
                }
                false
            }
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

fn without_parens(mut e: &Expr) -> &Expr {
    while let ExprKind::Paren(inner) = &e.kind {
        e = inner;
    }
    e
}
