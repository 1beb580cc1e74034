//! `dormant diff` (two policies, the same users) and `dormant forecast`
//! (one policy, the days ahead).

use super::Failure;
use super::{as_of, compile, load_notices, load_policy, load_policy_warned, load_users, write_output, Output};
use crate::check::data::Summary;
use crate::cli::{DiffArgs, ForecastArgs, ForecastFormat, TextOrJson};
use crate::connector::file::sha256_hex;
use crate::plan::{self, PolicyRef, UserRef};
use crate::render::{diff_text, forecast_text, reason, Change, Changed, DiffReport, Forecast, Verdict};
use crate::Exit;

pub fn diff(args: &DiffArgs, out: &Output) -> Result<Exit, Failure> {
    let as_of = as_of(&args.as_of);
    let (old_src, old_policy) = load_policy(&args.old, out, as_of)?;
    let (new_src, new_policy) = load_policy(&args.new, out, as_of)?;
    let old = compile(&old_src, &old_policy, as_of)?;
    let new = compile(&new_src, &new_policy, as_of)?;
    let notices = load_notices(out)?;
    let mut users = load_users(&args.users, out)?;
    notices.fill_deactivated(&mut users.users);
    // The proposed policy is the one under review: its warnings are shown.
    super::data_warnings(&new_src, &new_policy, &Summary::of(&new_policy, &users.users), out);
    let mut changes: Vec<Change<'_>> = Vec::new();
    for u in &users.users {
        let (a, b) = (plan::entry(&old, u, &notices), plan::entry(&new, u, &notices));
        let (from, to) = (Verdict::of(&a), Verdict::of(&b));
        if from == to {
            continue;
        }
        let changed = Changed {
            user: UserRef::of(u),
            reason: reason(&b),
            old: a,
            new: b,
        };
        match changes.iter_mut().find(|c| c.from == from && c.to == to) {
            Some(c) => {
                c.count += 1;
                c.users.push(changed);
            }
            None => changes.push(Change {
                from,
                to,
                count: 1,
                users: vec![changed],
            }),
        }
    }
    changes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.from.text().cmp(&b.from.text())));
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
        users: users.source.clone(),
        count: users.users.len(),
        changed: changes.iter().map(|c| c.count).sum(),
        changes,
    };
    let text = match args.format {
        TextOrJson::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        TextOrJson::Text => diff_text(&report),
    };
    write_output(None, text.as_bytes())?;
    Ok(Exit::Ok)
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
