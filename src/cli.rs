//! The command line, as clap derive types. Nothing here reads files or the
//! environment: `cmd` does that with what these types hold.

use crate::diagnostic::ErrorFormat;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "dormant",
    version,
    about = "Find dormant user accounts and clean them up under a policy kept in git",
    after_help = "Exit status: 0 success, 1 errors, 2 bad usage, 3 a plan over a limit.\n\
                  Colour is used only on a terminal and never when NO_COLOR is set."
)]
pub struct Cli {
    /// How diagnostics are printed.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check policies; exit 1 on any error.
    #[command(after_help = "Examples:\n  \
        dormant check policies/*.policy\n  \
        dormant check --error-format json policies/example.policy\n  \
        dormant check --as-of 2026-11-23 policies/portal.policy   # judge exemption dates as of that day")]
    Check(CheckArgs),

    /// Rewrite policies in the canonical layout.
    #[command(after_help = "Examples:\n  \
        dormant fmt policies/*.policy\n  \
        dormant fmt --check policies/*.policy   # in CI: list files that would change, exit 1")]
    Fmt(FmtArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files.
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,

    /// The instant expired exemptions are judged against (default: now).
    /// A date (2026-11-23, midnight UTC) or an RFC 3339 time.
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Change nothing: list the files that would change, and exit 1 if any would.
    #[arg(long)]
    pub check: bool,

    /// Policy files.
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
}

/// `--as-of`: a date (00:00 UTC) or an RFC 3339 time.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Some(at) = crate::parse::parse_date(text) {
        return Ok(at);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("`{text}` is not a date (2026-11-23) or an RFC 3339 time (2026-11-23T08:00:00Z)"))
}
