//! `dormant apply PLAN.json [--yes] [--canary N] [--max N]`.

use super::{compile, load_config, load_policy, read_text, Output};
use crate::apply::{self, Outcome, PlanFile, PlannedDecision};
use crate::cli::ApplyArgs;
use crate::connector::{Acted, Live};
use crate::eval::PlanAction;
use crate::journal::{Journal, Record};
use crate::Exit;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

pub fn run(args: &ApplyArgs, out: &Output) -> Result<Exit, Exit> {
    let fail = |m: String| {
        out.error(&m);
        Exit::Errors
    };
    let text = read_text(&args.plan).map_err(fail)?;
    let plan: PlanFile = serde_json::from_str(&text)
        .map_err(|e| fail(format!("`{}` is not a dormant plan: {e}", args.plan.display())))?;
    drop(text);
    plan.check_whole().map_err(fail)?;
    // The journal knows a plan by its content: a copy is the same plan.
    let plan_sha = plan.identity();
    let name = plan.connector().map_err(|m| fail(m.to_string()))?.to_string();
    let config = load_config(out)?.ok_or_else(|| {
        fail(format!(
            "apply needs `{}`: the connector and the journal",
            crate::config::DEFAULT
        ))
    })?;

    // The policy apply enforces is the admin's, never the plan's word for
    // it: `--policy`, or dormant.toml's `policy`. The plan must have been
    // made under that file, as it is now.
    let policy_path = args.policy.clone().or_else(|| config.policy.clone()).ok_or_else(|| {
        fail(format!(
            "apply needs the policy it enforces: add --policy FILE, or `policy = \"FILE\"` to `{}`; nothing was done",
            config.source.path
        ))
    })?;
    let same_file = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_file(&policy_path, Path::new(&plan.policy.path)) {
        return Err(fail(format!(
            "the plan was made under `{}`, and apply enforces `{}` ({}): plan with that policy; nothing was done",
            plan.policy.path,
            policy_path.display(),
            if args.policy.is_some() {
                "--policy"
            } else {
                "dormant.toml's `policy`"
            }
        )));
    }
    let policy_text = read_text(&policy_path).map_err(fail)?;
    let sha = crate::connector::file::sha256_hex(policy_text.as_bytes());
    if sha != plan.policy.sha256 {
        return Err(fail(format!(
            "`{}` changed since the plan was made (sha256 {} then, {} now): plan again and review the new plan",
            policy_path.display(),
            short(&plan.policy.sha256),
            short(&sha)
        )));
    }
    let now = super::as_of(&crate::cli::AsOfArg { as_of: None });
    let connector = config.connector(&name).map_err(fail)?.clone();
    let (source, policy) = load_policy(&policy_path, out, now)?;
    let mut program = compile(&source, &policy, now, out)?;
    // Decided again as the plan was: where deactivating is a revoke, a
    // disabled account is not already done.
    program.revoke = connector.kind.revokes();
    let over_limits = |users: usize| -> Result<(), Exit> {
        let over = plan.over_limits(&program, users);
        if over.is_empty() {
            return Ok(());
        }
        out.error(&format!(
            "the plan is over its limits: {}; nothing was done (raise the limit in the policy, or narrow the rules, and plan again)",
            over.join(", ")
        ));
        Err(Exit::OverLimit)
    };
    // As the plan counts them first; against the users there are, once fetched.
    over_limits(plan.decisions.len())?;
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
    let deactivations = targets.iter().filter(|d| d.action == PlanAction::Deactivate).count();
    if connector.kind.revokes() && !connector.revoke && deactivations > 0 {
        return Err(fail(format!(
            "the plan deactivates {deactivations} users, and Huwise has no deactivation: set `deactivate = \"revoke\"` on connector `{name}` to take their domain permissions and groups away instead (undo gives them back), or plan with `delete`; nothing was done"
        )));
    }
    let notices_planned = targets.iter().filter(|d| d.action == PlanAction::Notify).count();
    let notifier = match (&config.notify, notices_planned) {
        (_, 0) => None,
        (Some(n), _) => Some(crate::notify::Notifier::new(n, &config.notify_dir).map_err(fail)?),
        (None, n) => {
            return Err(fail(format!(
                "the plan has {n} notices to send and `{}` has no `[notify]` channel: add one (see the README's \"Notices\"); nothing was done",
                config.source.path
            )))
        }
    };
    // A keyed journal's key, read before anything is asked or done.
    let key = config
        .journal_key()
        .map_err(|e| fail(format!("{e}; nothing was done")))?;
    // On Huwise a deactivation is a revoke: people read that word.
    let revoke = connector.kind.revokes();
    if !args.yes && !confirm(&targets, &name, args.canary.is_some(), args.max, revoke).map_err(fail)? {
        println!("nothing was done");
        return Ok(Exit::Ok);
    }

    // Ctrl-C lets the request in flight finish and be journaled, then stops.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
    let stopped = || stop.load(std::sync::atomic::Ordering::SeqCst);
    let (mut journal, records) = Journal::open(&config.journal, wait(args.wait), key).map_err(fail)?;
    let progress = apply::progress(&records, &plan_sha);
    let notices =
        crate::journal::Notices::from_records(&config.journal.display().to_string(), &records).map_err(fail)?;
    let live = Live::connect(&connector).map_err(fail)?;
    let mut fresh = live
        .fetch(&crate::progress::Progress::new("users fetched again"))
        .map_err(|m| fail(format!("{m}\nnothing was done")))?;
    // Decided again as the plan was: with the journal's deactivation times.
    notices.fill_deactivated(&mut fresh);
    over_limits(fresh.len())?;
    let (mut work, skipped) = apply::recheck(&targets, &fresh, &program, &notices, &progress, |a, u| live.shows(a, u));
    // `--max`: the first N still to do, in plan order; the rest are left
    // for the next run of the same plan, which skips what this one did.
    let left = match args.max.and_then(|n| usize::try_from(n).ok()) {
        Some(n) if work.len() > n => work.split_off(n).len(),
        _ => 0,
    };
    if left > 0 {
        let max = args.max.unwrap_or_default();
        let record = Record::deferred(&plan_sha, &name, chrono::Utc::now(), max, work.len(), left);
        journal.append(&record).map_err(fail)?;
    }

    let mut results: Vec<(&PlannedDecision, Outcome)> = Vec::new();
    for (d, outcome) in skipped {
        // What an earlier run finished has its outcome in the journal already.
        if !progress
            .finished
            .contains(&(d.user.id.clone(), d.action.as_str().to_string()))
        {
            apply::journal_outcome(&mut journal, &plan_sha, &name, d, &outcome).map_err(fail)?;
        }
        results.push((d, outcome));
    }
    let mut out_of_quota: Option<String> = None;
    let bar = crate::progress::Progress::new("users acted on");
    bar.set_total(work.len() as u64);
    for action in [PlanAction::Notify, PlanAction::Deactivate, PlanAction::Delete] {
        let these: Vec<&apply::Work> = work.iter().filter(|w| w.planned.action == action).collect();
        for batch in these.chunks(live.batch()) {
            if stopped() || out_of_quota.is_some() {
                break;
            }
            // What each action takes away that undo must give back, read
            // just before, goes into its intent; a user it cannot be read
            // for is not acted on.
            let mut ready = Vec::with_capacity(batch.len());
            for w in batch {
                let before = match w.fresh.as_ref().map(|u| live.before(action, u)).transpose() {
                    Ok(b) => b.flatten(),
                    Err(e) => {
                        if matches!(e, crate::http::HttpError::Quota { .. }) {
                            out_of_quota = Some(e.to_string());
                        }
                        let outcome = Outcome::NotSent(live.redact(&format!("reading the user first failed: {e}")));
                        apply::journal_outcome(&mut journal, &plan_sha, &name, w.planned, &outcome).map_err(fail)?;
                        results.push((w.planned, outcome));
                        continue;
                    }
                };
                let intent = Record::intent(&plan_sha, &name, chrono::Utc::now(), apply::subject(w.planned), before);
                journal.append(&intent).map_err(fail)?;
                ready.push(*w);
            }
            let batch = ready;
            let users: Vec<crate::user::User> = batch.iter().filter_map(|w| w.fresh.clone()).collect();
            let acted = match (action, &notifier) {
                (PlanAction::Notify, Some(n)) => batch
                    .iter()
                    .zip(&users)
                    .map(|(w, u)| notice(n, &program, w.planned, u, &live))
                    .collect(),
                _ => {
                    // Each first step of a two-step action is journaled
                    // before the second is sent; a journal that cannot be
                    // written stops the run once the batch is accounted for.
                    let mut broken: Option<String> = None;
                    let mut step = |u: &crate::user::User, s: crate::connector::Step| -> bool {
                        let Some(w) = batch.iter().find(|w| w.planned.user.id == u.id.as_str()) else {
                            return false;
                        };
                        let s = match s {
                            crate::connector::Step::Deactivated => crate::journal::Step::Deactivated,
                        };
                        let record = Record::step(&plan_sha, &name, chrono::Utc::now(), apply::subject(w.planned), s);
                        match journal.append(&record) {
                            Ok(()) => true,
                            Err(e) => {
                                broken.get_or_insert(e);
                                false
                            }
                        }
                    };
                    let acted = live.act(action, &users, &mut step);
                    if let Some(e) = broken {
                        return Err(fail(e));
                    }
                    acted
                }
            };
            for (w, a) in batch.iter().zip(acted) {
                let outcome = match a {
                    Acted::Done => Outcome::Done,
                    // `Live::act` reads back whatever was only accepted.
                    Acted::Accepted => {
                        Outcome::Unconfirmed("the platform took the request without saying what it did".into())
                    }
                    Acted::Unconfirmed(why) => Outcome::Unconfirmed(why),
                    Acted::Skipped(why) => Outcome::Skipped(why),
                    Acted::Failed(why) => Outcome::failed(why),
                    Acted::OutOfQuota(why) => {
                        out_of_quota = Some(why.clone());
                        Outcome::NotSent(why)
                    }
                };
                apply::journal_outcome(&mut journal, &plan_sha, &name, w.planned, &outcome).map_err(fail)?;
                results.push((w.planned, outcome));
            }
            bar.inc(batch.len() as u64);
        }
    }
    bar.finish();
    let exit = summary(&results, revoke);
    if already > 0 {
        println!(
            "{already} already done when planned (the accounts were already disabled or pending deletion): nothing sent"
        );
    }
    if left > 0 {
        println!(
            "{} acted on, {left} left for the next run of this plan (--max {}): run apply on the same plan again to go on",
            work.len(),
            args.max.unwrap_or_default()
        );
    }
    if let Some(why) = out_of_quota {
        let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).date_naive();
        let unsent = |o: &Outcome| matches!(o, Outcome::NotSent(_));
        let settled = results.iter().filter(|(_, o)| !unsent(o)).count();
        println!(
            "stopped: {why}; {} users were not acted on: run apply again on the same plan from {tomorrow} 00:00 UTC to go on",
            targets.len().saturating_sub(settled)
        );
        return Ok(Exit::Errors);
    }
    if stopped() {
        println!(
            "stopped on Ctrl-C once the requests in flight were journaled; {} users were not acted on: run apply again on the same plan to finish",
            targets.len().saturating_sub(results.len())
        );
        return Ok(Exit::Errors);
    }
    Ok(exit)
}

/// Sends one notice: the rule's coming action and its date.
fn notice(
    n: &crate::notify::Notifier,
    program: &crate::program::Program,
    d: &PlannedDecision,
    u: &crate::user::User,
    live: &Live,
) -> Acted {
    let rule = d.rule.as_deref().unwrap_or("");
    let coming = program
        .rules
        .iter()
        .find(|r| r.name == rule && r.notice.is_some())
        .map_or("notify", |r| r.action.as_str());
    let notice = crate::notify::Notice {
        user: u,
        action: coming,
        date: d.due.as_deref().map(|t| t.get(..10).unwrap_or(t).to_string()),
        rule,
        platform: live.name(),
    };
    match n.send(&notice, live.runtime()) {
        Ok(()) => Acted::Done,
        Err(e) => Acted::Failed(format!("notice not sent: {e}")),
    }
}

/// `--wait`, for the journal's lock.
pub fn wait(yes: bool) -> crate::files::Wait {
    if yes {
        crate::files::Wait::Yes
    } else {
        crate::files::Wait::No
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
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
) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "apply asks before acting, and there is no terminal to ask on: add --yes to act without asking".into(),
        );
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
        .map_err(|e| e.to_string())?;
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
