//! `dormant diff` (two policies, the same users: whose verdict or due date
//! changes) and `dormant forecast` (one policy, the days ahead).

use super::Failure;
use super::{as_of, compile, load_notices, load_policy, load_policy_warned, load_users, write_output, Output};
use crate::check::data::Summary;
use crate::cli::{DiffArgs, DiffFormat, ForecastArgs, ForecastFormat};
use crate::connector::file::sha256_hex;
use crate::eval;
use crate::journal::Notices;
use crate::plan::{self, PolicyRef, UserRef, UsersRef};
use crate::program::Program;
use crate::render::{
    diff_markdown, diff_text, forecast_text, reason, Change, Changed, DiffReport, Forecast, Moved, Verdict,
};
use crate::user::User;
use crate::Exit;

pub fn diff(args: &DiffArgs, out: &Output) -> Result<Exit, Failure> {
    let as_of = as_of(&args.as_of);
    let (old_src, old_policy) = load_policy(&args.old, out, as_of)?;
    let (new_src, new_policy) = load_policy(&args.new, out, as_of)?;
    let mut old = compile(&old_src, &old_policy, as_of)?;
    let mut new = compile(&new_src, &new_policy, as_of)?;
    let notices = load_notices(out)?;
    let mut users = load_users(&args.users, out)?;
    notices.fill_deactivated(&mut users.users);
    // The proposed policy is the one under review: its warnings are shown.
    super::data_warnings(&new_src, &new_policy, &Summary::of(&new_policy, &users.users), out);
    // On Huwise a deactivation is a revoke: both sides decide and say so.
    let revoke = match &args.users.connector {
        Some(name) => super::connector_named(name, out)?.kind.revokes(),
        None => false,
    };
    (old.revoke, new.revoke) = (revoke, revoke);
    // Markdown lists only each change's first users: only they are kept,
    // so that a change of 100,000 users costs no 100,000 explanations.
    let keep = match args.format {
        DiffFormat::Markdown => args.max_users,
        DiffFormat::Text | DiffFormat::Json => usize::MAX,
    };
    let changes = changes(&old, &new, &users.users, &notices, keep);
    let report = DiffReport {
        as_of,
        old: PolicyRef {
            path: old_src.path.clone(),
            sha256: sha256_hex(old_src.text.as_bytes()),
        },
        new: PolicyRef {
            path: new_src.path.clone(),
            sha256: sha256_hex(new_src.text.as_bytes()),
        },
        users: UsersRef {
            source: users.source.clone(),
            count: users.users.len(),
            sha256: users.sha256.clone(),
        },
        changed: changes.iter().map(|c| c.count).sum(),
        changes,
    };
    let text = match args.format {
        DiffFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        DiffFormat::Text => diff_text(&report),
        DiffFormat::Markdown => diff_markdown(&report, args.max_users, revoke),
    };
    write_output(None, text.as_bytes())?;
    Ok(Exit::Ok)
}

/// The users whose verdict or dates differ between the two programs,
/// grouped by (old, new) verdict: the largest group first, users in the
/// order of the users file, the first `keep` of each group kept (all are
/// counted).
fn changes<'u>(
    old: &'u Program,
    new: &'u Program,
    users: &'u [User],
    notices: &Notices,
    keep: usize,
) -> Vec<Change<'u>> {
    let mut changes: Vec<Change<'u>> = Vec::new();
    for u in users {
        let (a, b) = (eval::decide(old, u, notices), eval::decide(new, u, notices));
        let (from, to) = (Verdict::decided(old, &a), Verdict::decided(new, &b));
        // The same action a fortnight sooner is a change a reviewer must see.
        let moved = Moved::between(&a, &b, from == to);
        if from == to && moved.is_empty() {
            continue;
        }
        let c = match changes.iter().position(|c| c.from == from && c.to == to) {
            Some(i) => changes.get_mut(i),
            None => {
                changes.push(Change {
                    from,
                    to,
                    count: 0,
                    users: Vec::new(),
                });
                changes.last_mut()
            }
        };
        let Some(c) = c else { continue };
        c.count += 1;
        // Only the users listed are explained: most of a large change is
        // only counted.
        if c.users.len() < keep {
            let (old, new) = (plan::explained(old, u, a), plan::explained(new, u, b));
            c.users.push(Changed {
                user: UserRef::of(u),
                reason: reason(&new),
                moved,
                old,
                new,
            });
        }
    }
    changes.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.from.text().cmp(&b.from.text()))
            .then_with(|| a.to.text().cmp(&b.to.text()))
    });
    changes
}

pub fn forecast(args: &ForecastArgs, out: &Output) -> Result<Exit, Failure> {
    let as_of = as_of(&args.as_of);
    let (source, policy, mut warnings) = load_policy_warned(&args.policy, out, as_of)?;
    let notices = load_notices(out)?;
    let mut users = load_users(&args.users, out)?;
    notices.fill_deactivated(&mut users.users);
    warnings.extend(super::data_warnings(
        &source,
        &policy,
        &Summary::of(&policy, &users.users),
        out,
    ));
    let mut programs = Vec::new();
    for day in 0..=args.days {
        let at = as_of + chrono::TimeDelta::days(i64::from(day));
        programs.push((at, compile(&source, &policy, at)?));
    }
    let Some(((_, today), ahead)) = programs.split_first() else {
        return Ok(Exit::Ok);
    };
    let mut found: Vec<Forecast<'_>> = Vec::new();
    for u in &users.users {
        let now = plan::entry(today, u, &notices);
        let from = Verdict::of(&now);
        let change = ahead.iter().find_map(|(at, p)| {
            let later = plan::entry(p, u, &notices);
            (Verdict::of(&later) != from).then_some((at, later))
        });
        if let Some((at, later)) = change {
            found.push(Forecast {
                user: UserRef::of(u),
                date: at.format("%Y-%m-%d").to_string(),
                from: from.clone(),
                to: Verdict::of(&later),
                reason: reason(&later),
            });
        }
    }
    found.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.user.id.cmp(b.user.id)));
    let text = match args.format {
        ForecastFormat::Json => serde_json::to_string_pretty(&found).unwrap_or_default() + "\n",
        ForecastFormat::Text => forecast_text(as_of, args.days, &found, users.users.len()),
        ForecastFormat::Html => crate::render::html::forecast_html(as_of, args.days, &found, users.users.len()),
    };
    write_output(None, text.as_bytes())?;
    super::denied(args.deny_warnings, warnings.len(), "exit status 1")?;
    Ok(Exit::Ok)
}
