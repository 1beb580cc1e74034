//! One function per subcommand: read the inputs, run the pure stages,
//! print, and return the exit status.

use crate::ast::Policy;
use crate::check::{self as checker, Options};
use crate::cli::{AsOfArg, Cli, Command, UsersArg};
use crate::config::{Config, ConfigError};
use crate::connector::file::{self, UsersFile};
use crate::diagnostic::{self, Diag, ErrorFormat};
use crate::journal::Notices;
use crate::program::Program;
use crate::source::Source;
use crate::time::Time;
use crate::Exit;
pub use failure::Failure;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

mod apply;
mod check;
mod diff;
mod evidence;
mod failure;
mod fetch;
mod fmt;
mod journal;
mod plan;
mod test;
mod undo;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Exit {
    let out = Output::new(cli.error_format, cli.config);
    let result = match cli.command {
        Command::Check(args) => Ok(check::run(&args, &out)),
        Command::Fmt(args) => Ok(fmt::run(&args, &out)),
        Command::Plan(args) => plan::plan(&args, &out),
        Command::Explain(args) => plan::explain(&args, &out),
        Command::Test(args) => test::run(&args, &out),
        Command::Diff(args) => diff::diff(&args, &out),
        Command::Forecast(args) => diff::forecast(&args, &out),
        Command::Fetch(args) => fetch::run(&args, &out),
        Command::Journal(args) => journal::run(&args, &out),
        Command::Evidence(args) => evidence::run(&args, &out),
        Command::Apply(args) => apply::run(&args, &out),
        Command::Undo(args) => undo::run(&args, &out),
    };
    result.unwrap_or_else(|failure| out.fail(&failure))
}

/// Where and how diagnostics and errors are printed, and the options every
/// command shares.
pub struct Output {
    pub format: ErrorFormat,
    /// Colour only on a terminal, and never when NO_COLOR is set.
    pub color: bool,
    /// `--config`
    pub config: Option<PathBuf>,
}

impl Output {
    pub fn new(format: ErrorFormat, config: Option<PathBuf>) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            format,
            color: !no_color && std::io::stderr().is_terminal(),
            config,
        }
    }

    /// Prints diagnostics outside `check` (which gathers its JSON itself):
    /// as JSON lines on stderr in the JSON format.
    pub fn report(&self, source: &Source, diags: &[Diag]) {
        if self.format == ErrorFormat::Json {
            for d in diagnostic::to_json(source, diags) {
                eprintln!("{}", serde_json::to_string(&d).unwrap_or_default());
            }
        } else {
            self.diagnostics(source, diags);
        }
    }

    /// Prints the diagnostics of one file (JSON is collected by the caller).
    pub fn diagnostics(&self, source: &Source, diags: &[Diag]) {
        match self.format {
            ErrorFormat::Human => eprint!("{}", diagnostic::render_human(source, diags, self.color)),
            ErrorFormat::Plain => eprint!("{}", diagnostic::render_plain(source, diags)),
            ErrorFormat::Json => {}
        }
    }

    /// Prints why a command stopped, once, and gives its exit status. A
    /// config's mistake is a diagnostic at its span; diagnostics already
    /// printed are not printed again.
    pub fn fail(&self, failure: &Failure) -> Exit {
        match failure {
            Failure::Reported => {}
            Failure::Config(ConfigError::Invalid(bad))
            | Failure::Apply(crate::apply::Error::Config(ConfigError::Invalid(bad))) => {
                let (source, diag) = &**bad;
                self.report(source, std::slice::from_ref(diag));
            }
            other => self.error(other),
        }
        failure.exit()
    }

    /// An error that is not about a span of a policy (a file that cannot be
    /// read), with its code in the JSON format.
    pub fn error(&self, e: &dyn miette::Diagnostic) {
        match self.format {
            ErrorFormat::Json => {
                let code = e.code().map_or_else(|| "dormant::error".to_string(), |c| c.to_string());
                let value = serde_json::json!({ "severity": "error", "code": code, "message": e.to_string() });
                eprintln!("{value}");
            }
            _ => eprintln!("error: {e}"),
        }
    }

    /// A warning that is not about a span of a policy (a connector's `user`
    /// that names nobody), under its stable code.
    pub fn warning(&self, code: &str, message: &str) {
        match self.format {
            ErrorFormat::Json => {
                let value = serde_json::json!({ "severity": "warning", "code": code, "message": message });
                eprintln!("{value}");
            }
            _ => eprintln!("warning: {message}"),
        }
    }
}

pub use crate::files::read_text;

/// Reads a file as a `Source`, with an error that names it.
pub fn read_source(path: &Path) -> Result<Source, crate::files::Error> {
    read_text(path).map(|text| Source::new(path.display().to_string(), text))
}

/// `--as-of`, defaulting to now, to the second: the instant a plan is
/// made for. Deciding never reads the clock (see `eval`); it is read here,
/// where `check` and `test` default their own instant, and where applying
/// stamps what it does.
pub fn as_of(arg: &AsOfArg) -> Time {
    arg.as_of.unwrap_or_else(|| {
        let now = chrono::Utc::now();
        now - chrono::TimeDelta::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
    })
}

/// The variable that fixes the time plans say they were written at
/// (`generated_at`), for snapshot tests and reproducible runs.
pub const GENERATED_AT_VAR: &str = "DORMANT_GENERATED_AT";

/// When an output is written, to the second: the clock, or
/// `DORMANT_GENERATED_AT` (a date or an RFC 3339 time) when set. Read here,
/// as as-of is, never while deciding.
pub fn generated_at() -> Result<Time, Failure> {
    match std::env::var(GENERATED_AT_VAR) {
        Ok(text) if !text.trim().is_empty() => {
            crate::cli::parse_instant(text.trim()).map_err(|problem| Failure::GeneratedAt { problem })
        }
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(as_of(&AsOfArg { as_of: None })),
        Err(std::env::VarError::NotUnicode(_)) => Err(Failure::GeneratedAt {
            problem: crate::cli::BadInstant::NotUtf8,
        }),
    }
}

/// A policy, parsed and checked. Errors are printed and end the command;
/// warnings are printed and the command goes on.
pub fn load_policy(path: &Path, out: &Output, as_of: Time) -> Result<(Source, Policy), Failure> {
    load_policy_warned(path, out, as_of).map(|(source, policy, _)| (source, policy))
}

/// As [`load_policy`], with the check's warnings (already printed), for
/// the outputs that carry them.
pub fn load_policy_warned(path: &Path, out: &Output, as_of: Time) -> Result<(Source, Policy, Vec<Diag>), Failure> {
    let source = read_source(path)?;
    let policy = match crate::parse::parse(&source) {
        Ok(parsed) => parsed.policy,
        Err(d) => {
            out.report(&source, &[d]);
            return Err(Failure::Reported);
        }
    };
    let report = checker::check(&policy, &Options { as_of });
    out.report(&source, &report.diagnostics);
    if report.has_errors() {
        return Err(Failure::Reported);
    }
    Ok((source, policy, report.diagnostics))
}

/// The warnings that look at the users (`check::data`), printed, and returned
/// for the outputs that carry them.
pub fn data_warnings(source: &Source, policy: &Policy, summary: &checker::data::Summary, out: &Output) -> Vec<Diag> {
    let diags = checker::data::warnings(policy, summary);
    out.report(source, &diags);
    diags
}

/// With `--deny-warnings`, any warning fails the command; `outcome` says
/// what became of its output.
pub fn denied(deny: bool, count: usize, outcome: &'static str) -> Result<(), Failure> {
    match deny && count > 0 {
        true => Err(Failure::Denied { count, outcome }),
        false => Ok(()),
    }
}

/// A checked policy, compiled for one instant.
pub fn compile(source: &Source, policy: &Policy, as_of: Time) -> Result<Program, Failure> {
    Program::compile(policy, source, as_of).map_err(|e| Failure::Compile {
        path: source.path.clone(),
        at: e.0.start,
    })
}

/// The users of a users file, or fetched from a connector.
pub fn load_users(from: &UsersArg, out: &Output) -> Result<UsersFile, Failure> {
    match (&from.users, &from.connector) {
        (None, Some(name)) => fetch_users(name, out),
        // clap takes exactly one of the two.
        (path, _) => file::load(path.as_deref().unwrap_or(Path::new(""))).map_err(Failure::UsersFile),
    }
}

/// The config, which must exist for commands that need a connector.
pub fn load_config(out: &Output) -> Result<Option<Config>, ConfigError> {
    Config::load(out.config.as_deref())
}

/// The connector of the config named `name`.
pub fn connector_named(name: &str, out: &Output) -> Result<crate::config::Connector, ConfigError> {
    let config = load_config(out)?.ok_or_else(|| ConfigError::NoConfigFor { name: name.to_string() })?;
    config.connector(name).cloned()
}

/// The fields a connector's enrich files supply (their columns).
pub fn enriched_fields(c: &crate::config::Connector) -> Result<Vec<crate::fields::Field>, Failure> {
    let mut fields = Vec::new();
    for path in &c.enrich {
        fields.extend(crate::connector::enrich::columns(path)?);
    }
    Ok(fields)
}

/// What a policy asks of a connector that it cannot give, as diagnostics.
/// Outside `check` they are printed as warnings: a plan can still be read.
/// They are returned for the outputs that carry them.
pub fn connector_warnings(
    source: &Source,
    policy: &Policy,
    connector: &crate::config::Connector,
    out: &Output,
) -> Result<Vec<Diag>, Failure> {
    let enriched = enriched_fields(connector)?;
    let diags: Vec<Diag> = checker::connector::against(policy, connector, &enriched)
        .into_iter()
        .map(|mut d| {
            d.severity = diagnostic::Severity::Warning;
            d
        })
        .collect();
    out.report(source, &diags);
    Ok(diags)
}

/// Every user of a connector named in the config, with the SHA-256 of their snapshot.
pub fn fetch_users(name: &str, out: &Output) -> Result<UsersFile, Failure> {
    fetch_from(&connector_named(name, out)?, out)
}

/// Every user of a connector, with the SHA-256 of their snapshot.
pub fn fetch_from(connector: &crate::config::Connector, out: &Output) -> Result<UsersFile, Failure> {
    let progress = crate::progress::Progress::new("users fetched");
    let fetched = crate::connector::fetch(connector, &progress).map_err(|e| {
        progress.finish();
        Failure::Fetch(e)
    })?;
    for w in &fetched.warnings {
        out.warning(w.code, &w.message);
    }
    let users = fetched.users;
    let sha256 = crate::digest::sha256_hex(&crate::connector::snapshot::write(&users));
    Ok(UsersFile {
        users,
        source: format!("connector:{}", connector.name),
        sha256,
    })
}

/// The notices of the journal named in the config, if there is one.
pub fn load_notices(out: &Output) -> Result<Notices, Failure> {
    load_notices_at_head(out).map(|(notices, _)| notices)
}

/// As [`load_notices`], with the journal read and its head, when one was,
/// for the provenance of a plan.
pub fn load_notices_at_head(out: &Output) -> Result<(Notices, Option<crate::plan::JournalRef>), Failure> {
    match load_config(out)? {
        Some(c) if c.journal.exists() => {
            let key = c.journal_key()?;
            let (notices, head) = Notices::read_at_head(&c.journal, key.as_ref())?;
            let path = c.journal.display().to_string();
            Ok((notices, Some(crate::plan::JournalRef { path, head })))
        }
        _ => Ok((Notices::new(), None)),
    }
}

/// Writes a file meant to be shared (a plan, a formatted policy) through a
/// temporary file and a rename, so that a crash never leaves half of it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), crate::files::Error> {
    crate::files::write_atomically(path, bytes, crate::files::Mode::Shared)
        .map_err(|e| crate::files::Error::write(path, e))
}

/// Writes a whole output: to a file through a temporary beside it and a
/// rename, so that a reader never sees half of it; or to stdout.
pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<(), crate::files::Error> {
    match path {
        Some(p) => write_atomically(p, bytes),
        None => std::io::Write::write_all(&mut std::io::stdout().lock(), bytes).map_err(crate::files::Error::Stdout),
    }
}
