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

    /// The config file (connectors, journal). Default: dormant.toml, if present.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

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

    /// Decide for every user and write the plan; exit 3 when a limit is exceeded.
    #[command(after_help = "Examples:\n  \
        dormant plan policies/example.policy --users examples/users.csv --as-of 2026-11-23\n  \
        dormant plan policies/example.policy --users users.json --output plan.json   # JSON, from the extension\n  \
        dormant plan policies/example.policy --users users.csv --format markdown   # for a pull request")]
    Plan(PlanArgs),

    /// Explain the decision for one user: every condition, its value and what it saw.
    #[command(after_help = "Examples:\n  \
        dormant explain policies/example.policy --users examples/users.csv ana@example.org --as-of 2026-11-23\n  \
        dormant explain policies/example.policy --users examples/users.csv u0007 --format json")]
    Explain(ExplainArgs),

    /// Run the test cases in POLICY's NAME.tests.toml; exit 1 on any failure.
    #[command(after_help = "Examples:\n  \
        dormant test policies/*.policy\n\n\
        NAME.tests.toml, with [defaults]: the user fields every case starts from (a case's own win):\n  \
        as_of = \"2026-11-23\"\n  \
        [defaults]\n  \
        status = \"active\"\n  \
        joined = \"2020-01-01\"\n\n  \
        [[case]]\n  \
        name = \"admins are kept\"\n  \
        expect = \"keep\"\n  \
        rule = \"staff\"                # optional\n  \
        as_of = \"2026-11-23\"          # optional: the one at the top is the default\n  \
        user = { id = \"u1\", is_admin = true, last_login = \"never\" }\n\n\
        Every problem of a tests file is reported at once, at its line; a file with problems runs no case.")]
    Test(TestArgs),

    /// Compare two policies over the same users: who changes, from what to
    /// what, and whose due date moves.
    #[command(after_help = "Examples:\n  \
        dormant diff old.policy new.policy --users examples/users.csv --as-of 2026-11-23\n  \
        git show main:policies/portal.policy > /tmp/old.policy && \\\n    \
        dormant diff /tmp/old.policy policies/portal.policy --users users.csv --format json\n\n\
        For a pull request comment (counts, then up to 50 users per change, each with both explanations):\n  \
        git show origin/main:policies/portal.policy > base.policy && \\\n    \
        dormant diff base.policy policies/portal.policy --users users.json --format markdown > diff.md\n  \
        gh pr comment \"$PR\" --body-file diff.md")]
    Diff(DiffArgs),

    /// Users whose decision will change within N days, with the day and the new action.
    #[command(after_help = "Examples:\n  \
        dormant forecast policies/example.policy --users examples/users.csv --days 30 --as-of 2026-11-23")]
    Forecast(ForecastArgs),

    /// Fetch every user of a connector, normalized, as a users file (a JSON array).
    #[command(after_help = "Examples:\n  \
        dormant fetch --connector portal --output users.json\n  \
        dormant plan policies/example.policy --users users.json   # plan the snapshot, offline")]
    Fetch(FetchArgs),

    /// Check the journal: every line intact, in order, none removed, inserted or edited.
    #[command(after_help = "Examples:\n  \
        dormant journal verify                      # the journal named in dormant.toml\n  \
        dormant journal verify audit/dormant-journal.jsonl\n  \
        dormant journal verify --head 42:HASH       # against the head printed (and kept) earlier")]
    Journal(JournalArgs),

    /// Keep a plan and what it rests on in one archive an auditor can check.
    #[command(after_help = "Examples:\n  \
        dormant plan p.policy --users users.json --as-of 2026-11-23 -o plan.json\n  \
        dormant plan p.policy --users users.json --as-of 2026-11-23 -o plan.html\n  \
        dormant evidence plan.json -o evidence.tar.gz          # keeps plan.html too\n  \
        dormant evidence plan.json --policy old.policy --users users.json --journal audit/j.jsonl -o evidence.tar.gz\n  \
        dormant evidence verify evidence.tar.gz\n  \
        tar -xzf evidence.tar.gz && sha256sum -c SHA256SUMS   # without dormant\n\n\
        The archive holds the plan, the policy (its sha256 checked against the plan's), the users\n\
        snapshot (or only its hash when it is not at hand), the journal with what verifying it\n\
        found, the HTML report, manifest.json and SHA256SUMS.")]
    Evidence(EvidenceArgs),

    /// Carry out a reviewed plan through the connector it was made from, journaling every request.
    #[command(after_help = "Examples:\n  \
        dormant plan policies/portal.policy --connector portal --format json --output plan.json\n  \
        dormant apply plan.json --canary 1        # one user first\n  \
        dormant apply plan.json --yes             # the rest, without a prompt (cron, CI)\n  \
        dormant apply plan.json --yes --wait      # after any run that holds the journal\n  \
        dormant apply plan.json --yes --max 250   # at most 250 users a run; run again for the rest\n  \
        dormant apply plan.json --policy policies/portal.policy   # when dormant.toml names none\n  \
        dormant journal verify")]
    Apply(ApplyArgs),

    /// Undo what apply did: reactivate deactivated users, and say which deletions cannot be undone.
    #[command(after_help = "Examples:\n  \
        dormant undo dormant-journal.jsonl\n  \
        dormant undo dormant-journal.jsonl --since 2026-11-23 --yes")]
    Undo(UndoArgs),
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The journal apply wrote.
    #[arg(value_name = "JOURNAL")]
    pub journal: PathBuf,
    /// Only what was done at or after this instant (a date or an RFC 3339 time).
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    pub since: Option<DateTime<Utc>>,
    /// Act without asking.
    #[arg(long)]
    pub yes: bool,
    /// If another run holds the journal, wait for it rather than stop.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan (`dormant plan --format json --output PLAN.json`).
    #[arg(value_name = "PLAN.json")]
    pub plan: PathBuf,
    /// Act without asking.
    #[arg(long)]
    pub yes: bool,
    /// Act on the first N users of the plan only.
    #[arg(long, value_name = "N")]
    pub canary: Option<usize>,
    /// Act on at most N users this run: the first N of the plan that are
    /// still to do; the rest wait for the next run of the same plan (exit 0).
    /// The policy's `limit` stays the hard stop for the whole plan.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max: Option<u64>,
    /// The policy apply enforces (default: dormant.toml's `policy`); the plan
    /// must have been made under it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    /// If another run holds the journal (an overlapping cron job), wait for
    /// it to finish rather than stop.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct JournalArgs {
    #[command(subcommand)]
    pub command: JournalCommand,
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Verify the hash chain and the head; exit 1 naming the first bad line.
    Verify {
        /// The journal (default: the one dormant.toml names).
        journal: Option<PathBuf>,
        /// A head kept apart from the journal, as an earlier `journal verify`
        /// printed it (LINES:HASH, or the hash alone): the journal must still
        /// hold that line with that hash, so a rewritten chain fails.
        #[arg(long, value_name = "LINES:HASH")]
        head: Option<crate::journal::KeptHead>,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub command: Option<EvidenceCommand>,
    /// The plan (`plan --format json`) to keep.
    #[arg(required = true)]
    pub plan: Option<PathBuf>,
    /// The policy the plan was made under (default: the path the plan names); its
    /// sha256 must be the plan's.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The users the plan was made from, e.g. a `fetch` snapshot (default: the
    /// plan's users file, if it is still as it was); without them, only their hash.
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// The journal to keep (default: the one dormant.toml names, if it exists).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// The plan's HTML report (`plan --format html`, same policy, users and as-of;
    /// default: PLAN.html beside the plan, if it is there).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Where to write the archive (a .tar.gz).
    #[arg(long, short, value_name = "FILE", required = true)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Check an archive: every file against the manifest, the policy and users
    /// against the plan, the journal's chain; exit 1 naming the first that fails.
    Verify {
        /// The archive `dormant evidence` wrote.
        archive: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The connector of dormant.toml to fetch from.
    #[arg(long, value_name = "NAME")]
    pub connector: String,
    /// Write the users here (atomically) rather than to stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Where users come from: a users file, or a connector of dormant.toml.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct UsersArg {
    /// A users file: CSV, a JSON array (also the output of `fetch`) or JSON lines; `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// Fetch the users from this connector of dormant.toml.
    #[arg(long, value_name = "NAME")]
    pub connector: Option<String>,
}

/// The instant of evaluation.
#[derive(Debug, Args)]
pub struct AsOfArg {
    /// Evaluate as of this instant (default: now). A date (midnight UTC) or an RFC 3339 time.
    #[arg(long, value_name = "T", value_parser = parse_instant)]
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The policy file.
    pub policy: PathBuf,
    #[command(flatten)]
    pub users: UsersArg,
    #[command(flatten)]
    pub as_of: AsOfArg,
    /// Output format. Default: from --output's extension (.json, .csv,
    /// .md), else table.
    #[arg(long, value_enum)]
    pub format: Option<crate::render::Format>,
    /// Write the plan to this file (written whole or not at all) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the plan's provenance (who wrote it, when, from which
    /// policy, users, connector and journal, the warnings) to this file, as
    /// CSV `key,value` rows. Every format carries it too (a CSV plan in
    /// `#KEY,VALUE` rows above its header row).
    #[arg(long, value_name = "FILE")]
    pub provenance: Option<PathBuf>,
    /// Any warning (about the policy, the connector or the users) is an
    /// error: the plan is not written, to --output or stdout, and plan
    /// exits 1, so that CI cannot go on with a plan that has warnings.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The policy file.
    pub policy: PathBuf,
    /// The user: an id, a username or an email.
    pub user: String,
    #[command(flatten)]
    pub users: UsersArg,
    #[command(flatten)]
    pub as_of: AsOfArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    /// Exit 1 if there is any warning (the explanation is still printed).
    #[arg(long)]
    pub deny_warnings: bool,
}

/// `--format` of commands that print text for people or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy files; each runs the cases of NAME.tests.toml beside it.
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The policy as it is.
    pub old: PathBuf,
    /// The policy as proposed.
    pub new: PathBuf,
    #[command(flatten)]
    pub users: UsersArg,
    #[command(flatten)]
    pub as_of: AsOfArg,
    /// Output format: text, json (every user, both explanations) or
    /// markdown (for a pull request comment).
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Markdown: list at most N users per change (the counts are always
    /// complete; `--format json` lists every user).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub max_users: usize,
}

/// `--format` of `dormant diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Markdown,
}

/// `forecast --format`
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForecastFormat {
    Text,
    Json,
    /// A self-contained page with a week-by-week timeline.
    Html,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// The policy file.
    pub policy: PathBuf,
    #[command(flatten)]
    pub users: UsersArg,
    #[command(flatten)]
    pub as_of: AsOfArg,
    /// How many days ahead to look.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: u32,
    /// Output format (`html`: a timeline of who crosses which threshold).
    #[arg(long, value_enum, default_value_t = ForecastFormat::Text)]
    pub format: ForecastFormat,
    /// Exit 1 if there is any warning (the forecast is still printed).
    #[arg(long)]
    pub deny_warnings: bool,
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

    /// Also report what the policy asks of this connector of dormant.toml
    /// that it cannot give: fields it never supplies, actions it cannot take.
    #[arg(long, value_name = "NAME")]
    pub connector: Option<String>,

    /// Exit 1 on warnings too, not only on errors.
    #[arg(long)]
    pub deny_warnings: bool,
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

/// A text that is not an instant.
#[derive(Debug, thiserror::Error)]
pub enum BadInstant {
    #[error("`{0}` is not a date (2026-11-23) or an RFC 3339 time (2026-11-23T08:00:00Z)")]
    Text(String),
    #[error("not UTF-8")]
    NotUtf8,
}

/// `--as-of`: a date (00:00 UTC) or an RFC 3339 time.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, BadInstant> {
    if let Some(at) = crate::parse::parse_date(text) {
        return Ok(at);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| BadInstant::Text(text.to_string()))
}
