//! `dormant apply PLAN.json [--yes] [--canary N] [--max N]`.

use super::Failure;
use super::{compile, load_config, load_policy, read_text, Output};
use crate::apply::{self, Outcome, PlanFile, PlannedDecision};
use crate::cli::ApplyArgs;
use crate::config::{Config, Connector};
use crate::decision::PlanAction;
use crate::notify::Notifier;
use crate::program::Program;
use crate::Exit;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

pub fn run(args: &ApplyArgs, out: &Output) -> Result<Exit, Failure> {
    let Checked {
        plan,
        config,
        connector,
        program,
    } = checked(args, out)?;
    let name = connector.name.clone();
    // As the plan counts them first; against the users there are, once fetched.
    over_limits(plan.over_limits(&program, plan.decisions.len()))?;
    let mut targets = plan.targets();
    if let Some(n) = args.canary {
        targets.truncate(n);
    }
    let already = plan.already_done();
    if targets.is_empty() {
        println!(
            "nothing to do: the plan has no notify, deactivate or delete decisions{}",
            already_note(already)
        );
        return Ok(Exit::Ok);
    }
    can_act(&connector, &targets)?;
    let notifier = notifier(&config, &targets)?;
    // A keyed journal's key, read before anything is asked or done.
    let key = config.journal_key().map_err(apply::Error::JournalKey)?;
    // On Huwise a deactivation is a revoke: people read that word.
    let revoke = connector.kind.revokes();
    if !args.yes && !confirm(&targets, &name, args.canary.is_some(), args.max, revoke)? {
        println!("nothing was done");
        return Ok(Exit::Ok);
    }
    let request = apply::Request {
        plan: &plan,
        plan_id: &plan.identity(),
        targets: &targets,
        program: &program,
        connector: &connector,
        journal: &config.journal,
        wait: wait(args.wait),
        key,
        notifier: notifier.as_ref(),
        max: args.max,
        warn: &|w| out.warning(w.code, &w.message),
    };
    let report = apply::run(request)?;
    Ok(report_on(&report, targets.len(), already, args.max, revoke))
}

/// A plan checked against the policy it was made under, and what applying
/// it goes through.
struct Checked {
    plan: PlanFile,
    config: Config,
    connector: Connector,
    program: Program,
}

/// Reads the plan, and checks it was made from a connector under the
/// policy apply enforces, as that policy is now.
fn checked(args: &ApplyArgs, out: &Output) -> Result<Checked, Failure> {
    let text = read_text(&args.plan)?;
    let plan: PlanFile = serde_json::from_str(&text).map_err(|e| apply::Error::NotAPlan {
        path: args.plan.clone(),
        detail: e.to_string(),
    })?;
    drop(text);
    plan.check_whole()?;
    let name = plan.connector()?.to_string();
    let config = load_config(out)?.ok_or(crate::config::ConfigError::NoConfigToApply)?;
    let policy_path = enforced_policy(args, &config, &plan)?;
    let now = super::as_of(&crate::cli::AsOfArg { as_of: None });
    let connector = config.connector(&name)?.clone();
    let (source, policy) = load_policy(&policy_path, out, now)?;
    let mut program = compile(&source, &policy, now)?;
    // Decided again as the plan was: where deactivating is a revoke, a
    // disabled account is not already done.
    program.revoke = connector.kind.revokes();
    Ok(Checked {
        plan,
        config,
        connector,
        program,
    })
}

/// The policy apply enforces: the admin's, never the plan's word for it
/// (`--policy`, or dormant.toml's `policy`). The plan must have been made
/// under that file, as it is now.
fn enforced_policy(args: &ApplyArgs, config: &Config, plan: &PlanFile) -> Result<PathBuf, apply::Error> {
    let policy_path = args
        .policy
        .clone()
        .or_else(|| config.policy.clone())
        .ok_or_else(|| apply::Error::NoPolicy {
            config: config.source.path.clone(),
        })?;
    let by = if args.policy.is_some() {
        "--policy"
    } else {
        "dormant.toml's `policy`"
    };
    plan.made_under(&policy_path, by)?;
    let policy_text = read_text(&policy_path)?;
    plan.same_policy(&policy_path, &policy_text)?;
    Ok(policy_path)
}

/// Stops on the actions over a limit of the policy, if there are any.
fn over_limits(over: Vec<String>) -> Result<(), apply::Error> {
    match over.is_empty() {
        true => Ok(()),
        false => Err(apply::Error::OverLimit { over }),
    }
}

/// What the platform, as this connector is configured, cannot do (Huwise
/// deactivates only as a revoke, which its connector must allow): refused
/// before anything is sent.
fn can_act(connector: &Connector, targets: &[&PlannedDecision]) -> Result<(), apply::Error> {
    for action in [PlanAction::Notify, PlanAction::Deactivate, PlanAction::Delete] {
        let count = targets.iter().filter(|d| d.action == action).count();
        if let Some(why) = connector.kind.platform().refuses(connector, action, count) {
            return Err(apply::Error::Refused { why });
        }
    }
    Ok(())
}

/// The channel notices go out on, if the plan has any to send.
fn notifier(config: &Config, targets: &[&PlannedDecision]) -> Result<Option<Notifier>, apply::Error> {
    let notices_planned = targets.iter().filter(|d| d.action == PlanAction::Notify).count();
    match (&config.notify, notices_planned) {
        (_, 0) => Ok(None),
        (Some(n), _) => Ok(Some(Notifier::new(n, &config.notify_dir)?)),
        (None, notices) => Err(apply::Error::NoChannel {
            notices,
            config: config.source.path.clone(),
        }),
    }
}

/// Prints what a run did and what is left, and gives its exit status.
fn report_on(report: &apply::Report, targets: usize, already: usize, max: Option<u64>, revoke: bool) -> Exit {
    let exit = summary(&report.results, revoke);
    if already > 0 {
        println!(
            "{already} already done when planned (the accounts were already disabled or pending deletion): nothing sent"
        );
    }
    if report.left > 0 {
        println!(
            "{} acted on, {} left for the next run of this plan (--max {}): run apply on the same plan again to go on",
            report.acting,
            report.left,
            max.unwrap_or_default()
        );
    }
    if let Some(why) = &report.out_of_quota {
        let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).date_naive();
        let settled = report
            .results
            .iter()
            .filter(|(_, o)| !matches!(o, Outcome::NotSent(_)))
            .count();
        println!(
            "stopped: {why}; {} users were not acted on: run apply again on the same plan from {tomorrow} 00:00 UTC to go on",
            targets.saturating_sub(settled)
        );
        return Exit::Errors;
    }
    if report.stopped {
        println!(
            "stopped on Ctrl-C once the requests in flight were journaled; {} users were not acted on: run apply again on the same plan to finish",
            targets.saturating_sub(report.results.len())
        );
        return Exit::Errors;
    }
    exit
}

/// `--wait`, for the journal's lock.
pub fn wait(yes: bool) -> crate::files::Wait {
    if yes {
        crate::files::Wait::Yes
    } else {
        crate::files::Wait::No
    }
}

/// ` (3 already done ...)`, or nothing.
fn already_note(already: usize) -> String {
    if already == 0 {
        return String::new();
    }
    format!(" to send ({already} already done: the accounts are already disabled or pending deletion)")
}

/// Shows what will be done and asks; only on a terminal.
fn confirm(
    targets: &[&PlannedDecision],
    connector: &str,
    canary: bool,
    max: Option<u64>,
    revoke: bool,
) -> Result<bool, apply::Error> {
    if !std::io::stdin().is_terminal() {
        return Err(apply::Error::NoTerminal);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{}{} users through connector `{connector}`:",
        if canary { "canary: " } else { "" },
        targets.len()
    );
    for action in [PlanAction::Notify, PlanAction::Deactivate, PlanAction::Delete] {
        let these: Vec<&&PlannedDecision> = targets.iter().filter(|d| d.action == action).collect();
        if these.is_empty() {
            continue;
        }
        let first: Vec<String> = these.iter().take(5).map(|d| who(d)).collect();
        let more = these.len().saturating_sub(first.len());
        let _ = writeln!(
            err,
            "  {:<10} {:>6}  {}{}",
            action.word(revoke),
            these.len(),
            first.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    if let Some(n) = max {
        let _ = writeln!(
            err,
            "  at most {n} of them this run (--max), the first still to do; the rest on the next run"
        );
    }
    let _ = write!(err, "Apply? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(apply::Error::Answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

fn who(d: &PlannedDecision) -> String {
    match (&d.user.username, &d.user.email) {
        (Some(u), _) if u != &d.user.id => format!("{} ({u})", d.user.id),
        (_, Some(e)) => format!("{} ({e})", d.user.id),
        _ => d.user.id.clone(),
    }
}

/// Prints what happened; exit 1 if anything failed.
fn summary(results: &[(&PlannedDecision, Outcome)], revoke: bool) -> Exit {
    let count = |f: fn(&Outcome) -> bool| results.iter().filter(|(_, o)| f(o)).count();
    let done = count(|o| matches!(o, Outcome::Done));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_) | Outcome::Settled(_)));
    let failed = count(|o| matches!(o, Outcome::Failed(_) | Outcome::NotSent(_)));
    let unconfirmed = count(|o| matches!(o, Outcome::Unconfirmed(_)));
    for (d, o) in results {
        match o {
            Outcome::Done => {}
            Outcome::Skipped(_) | Outcome::Settled(_) => {
                println!("skipped {} {}: {}", d.action.word(revoke), who(d), o.detail())
            }
            Outcome::Failed(_) | Outcome::NotSent(_) => {
                println!("FAILED  {} {}: {}", d.action.word(revoke), who(d), o.detail())
            }
            Outcome::Unconfirmed(why) => println!("UNCONFIRMED {} {}: {why}", d.action.word(revoke), who(d)),
        }
    }
    if unconfirmed > 0 {
        println!("{done} done, {skipped} skipped, {failed} failed, {unconfirmed} unconfirmed: run apply again on the same plan to settle the unconfirmed by reading the platform");
    } else {
        println!("{done} done, {skipped} skipped, {failed} failed");
    }
    if failed + unconfirmed > 0 {
        Exit::Errors
    } else {
        Exit::Ok
    }
}
