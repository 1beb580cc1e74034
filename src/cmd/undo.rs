//! `dormant undo JOURNAL [--since T] [--yes]`: reactivates the users apply
//! deactivated (those not reactivated since), journaling each request like
//! apply does, and says plainly what cannot be undone.

use super::Failure;
use super::{load_config, Output};
use crate::cli::UndoArgs;
use crate::config::Config;
use crate::connector::{Acted, Live};
use crate::journal::{Action, Event, Journal, Outcome, Record, Subject};
use crate::Exit;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::IsTerminal;

/// One user an undo is about.
struct Done {
    connector: String,
    user: String,
    username: Option<String>,
    /// When it was done.
    at: Option<crate::time::Time>,
    /// What the action took away, as its intent record says (a revoke's
    /// permissions and groups), for undo to give back.
    before: Option<Value>,
}

/// What the journal leaves to undo: the users deactivated and deleted.
#[derive(Default)]
struct ToUndo {
    deactivated: Vec<Done>,
    deleted: Vec<Done>,
}

/// What an undo did, for its last line.
#[derive(Default)]
struct Tally {
    failed: usize,
    pending: usize,
}

pub fn run(args: &UndoArgs, out: &Output) -> Result<Exit, Failure> {
    // A mistyped path during an incident must not read as "all is well".
    if !args.journal.exists() {
        return Err(Failure::NoJournalToUndo {
            path: args.journal.clone(),
        });
    }
    // Read first for the journal's key, if dormant.toml keys it.
    let config = load_config(out)?;
    let key = match &config {
        Some(c) => c.journal_key().map_err(Failure::NothingUndone)?,
        None => None,
    };
    let (mut journal, records) =
        Journal::open(&args.journal, super::apply::wait(args.wait), key).map_err(Failure::NothingUndone)?;
    let todo = to_undo(&records, args.since);
    if todo.deactivated.is_empty() && todo.deleted.is_empty() {
        println!("nothing to undo in `{}`", args.journal.display());
        return Ok(Exit::Ok);
    }
    let config = config.ok_or(crate::config::ConfigError::NoConfigToUndo)?;
    if !todo.deactivated.is_empty() && !args.yes && !ask(todo.deactivated.len())? {
        println!("nothing was undone");
        return Ok(Exit::Ok);
    }
    let tally = undo_all(&todo, &config, &mut journal)?;
    println!(
        "{} reactivated, {} deletions that cannot be undone, {} still pending and cancellable, {} failed",
        todo.deactivated.len() - tally.failed,
        todo.deleted.len() - tally.pending,
        tally.pending,
        tally.failed
    );
    Ok(if tally.failed > 0 { Exit::Errors } else { Exit::Ok })
}

/// Asks before reactivating; only on a terminal.
fn ask(count: usize) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::NoTerminalToUndo { count });
    }
    let n = count;
    eprint!("Reactivate {n} users? [y/N] ");
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// The last word on each (connector, user) since `since`: deactivated,
/// reactivated or deleted.
fn to_undo(records: &[Record], since: Option<crate::time::Time>) -> ToUndo {
    type Last = (Action, Option<String>, Option<crate::time::Time>);
    let mut last: BTreeMap<(String, String), Last> = BTreeMap::new();
    // What the deactivations since a user's last reactivation took away,
    // all of them: a revoke cut in half and run again, or a second plan,
    // records less than the user had, and the first record holds the rest.
    let mut before: BTreeMap<(String, String), Value> = BTreeMap::new();
    for r in records {
        let Some(subject) = r.subject() else { continue };
        let key = (r.connector.clone(), subject.user.clone());
        let done = matches!(&r.event, Event::Outcome { outcome, .. } if outcome.confirmed());
        if let (Event::Intent { before: Some(b), .. }, Action::Deactivate) = (&r.event, &subject.action) {
            merge(before.entry(key.clone()).or_insert(Value::Null), b);
        }
        if done && subject.action == Action::Reactivate {
            before.remove(&key);
        }
        let recent = since.is_none_or(|s| r.at.is_some_and(|at| at >= s));
        // The first step of a delete (DocSpace: Terminated) done, and no
        // delete after it: the user is deactivated, and undo reactivates them.
        let half_done = matches!(r.event, Event::Step { .. });
        let action = if half_done {
            Action::Deactivate
        } else {
            subject.action.clone()
        };
        let undoable = matches!(action, Action::Deactivate | Action::Delete | Action::Reactivate);
        if (done || half_done) && recent && undoable {
            last.insert(key, (action, subject.username.clone(), r.at));
        }
    }
    let pick = |what: Action| -> Vec<Done> {
        last.iter()
            .filter(|(_, (a, _, _))| *a == what)
            .map(|((c, u), (_, name, at))| Done {
                connector: c.clone(),
                user: u.clone(),
                username: name.clone(),
                at: *at,
                before: before.get(&(c.clone(), u.clone())).cloned(),
            })
            .collect()
    };
    ToUndo {
        deactivated: pick(Action::Deactivate),
        deleted: pick(Action::Delete),
    }
}

/// Undoes what can be, connector by connector.
fn undo_all(todo: &ToUndo, config: &Config, journal: &mut Journal) -> Result<Tally, Failure> {
    let mut tally = Tally::default();
    let mut by_connector: BTreeMap<&str, (Vec<&Done>, Vec<&Done>)> = BTreeMap::new();
    for d in &todo.deactivated {
        by_connector.entry(d.connector.as_str()).or_default().0.push(d);
    }
    for d in &todo.deleted {
        by_connector.entry(d.connector.as_str()).or_default().1.push(d);
    }
    for (name, (deactivated, deleted)) in by_connector {
        let live = Live::connect(config.connector(name)?)?;
        for d in deleted {
            match live.deletion(d.at, chrono::Utc::now()) {
                (true, what) => {
                    tally.pending += 1;
                    println!("can still be cancelled: {} {what}", who(d));
                }
                (false, what) => println!("cannot undo: {} {what}", who(d)),
            }
        }
        reactivate(&live, &deactivated, journal, &mut tally)?;
    }
    Ok(tally)
}

/// Reactivates the users of one connector, each request journaled.
fn reactivate(
    live: &Live,
    these: &[&Done],
    journal: &mut Journal,
    tally: &mut Tally,
) -> Result<(), crate::journal::Error> {
    for d in these {
        journal.append(&Record::intent(
            "undo",
            &d.connector,
            chrono::Utc::now(),
            subject(d),
            None,
        ))?;
    }
    let ids: Vec<String> = these.iter().map(|d| d.user.clone()).collect();
    let taken: Vec<Option<Value>> = these.iter().map(|d| d.before.clone()).collect();
    for (d, acted) in these.iter().zip(live.reactivate(&ids, &taken)) {
        let outcome = match acted {
            Acted::Done => {
                println!("reactivated {}", who(d));
                Outcome::Done
            }
            Acted::Skipped(why) => Outcome::Skipped(why),
            Acted::Accepted => {
                println!("UNCONFIRMED reactivation of {}: the platform did not say", who(d));
                Outcome::Unconfirmed(String::new())
            }
            Acted::Unconfirmed(why) => {
                println!("UNCONFIRMED reactivation of {}: {why}", who(d));
                Outcome::Unconfirmed(why)
            }
            Acted::Failed(why) | Acted::OutOfQuota(why) => {
                println!("FAILED to reactivate {}: {why}", who(d));
                Outcome::Failed(why)
            }
        };
        if !matches!(outcome, Outcome::Done | Outcome::Skipped(_)) {
            tally.failed += 1;
        }
        journal.append(&Record::outcome(
            "undo",
            &d.connector,
            chrono::Utc::now(),
            subject(d),
            outcome,
        ))?;
    }
    Ok(())
}

/// A reactivation as the journal names it: undo's records have no rule.
fn subject(d: &Done) -> Subject {
    Subject::new(&d.user, d.username.as_deref(), Action::Reactivate, None)
}

/// Adds `more` to what `into` records as taken away: lists are joined
/// without repeats, anything else is taken as it is.
fn merge(into: &mut Value, more: &Value) {
    match (into, more) {
        (Value::Object(have), Value::Object(add)) => {
            for (k, v) in add {
                match (have.get_mut(k), v) {
                    (Some(Value::Array(list)), Value::Array(extra)) => {
                        for x in extra {
                            if !list.contains(x) {
                                list.push(x.clone());
                            }
                        }
                    }
                    _ => {
                        have.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (into, more) => *into = more.clone(),
    }
}

fn who(d: &Done) -> String {
    match &d.username {
        Some(u) if u != &d.user => format!("{} ({u}) on `{}`", d.user, d.connector),
        _ => format!("{} on `{}`", d.user, d.connector),
    }
}

#[cfg(test)]
mod tests {
    use super::merge;
    use serde_json::json;

    #[test]
    fn records_of_what_was_taken_away_are_joined() {
        let mut have = serde_json::Value::Null;
        merge(
            &mut have,
            &json!({"permissions": ["edit_dataset"], "groups": ["g1", "g2"]}),
        );
        // A second revoke of the same user found less to take.
        merge(&mut have, &json!({"permissions": [], "groups": ["g2", "g3"]}));
        assert_eq!(
            have,
            json!({"permissions": ["edit_dataset"], "groups": ["g1", "g2", "g3"]})
        );
    }
}

#[cfg(test)]
mod undo_tests {
    use super::to_undo;
    use crate::journal::Record;
    use serde_json::json;

    #[test]
    fn what_each_user_had_taken_away_is_given_back_once_reactivated() {
        let line = |v: serde_json::Value| Record::from_value(&v).unwrap();
        let r = |event: &str, user: &str, action: &str, extra: serde_json::Value| {
            let mut v = json!({"event": event, "user": user, "action": action, "connector": "c", "plan": "p", "at": "2026-11-23T10:00:00Z"});
            if let (Some(m), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
                m.extend(more);
            }
            line(v)
        };
        let records = [
            r("intent", "a", "deactivate", json!({"before": {"groups": ["g1"]}})),
            r("outcome", "a", "deactivate", json!({"status": "done"})),
            // Revoked again by a second plan: less to take, and both kept.
            r("intent", "a", "deactivate", json!({"before": {"groups": ["g2"]}})),
            r(
                "outcome",
                "a",
                "deactivate",
                json!({"status": "settled", "detail": "settled: gone"}),
            ),
            // Reactivated since: what was taken before is given back already.
            r("intent", "b", "deactivate", json!({"before": {"groups": ["g9"]}})),
            r("outcome", "b", "deactivate", json!({"status": "done"})),
            r("outcome", "b", "reactivate", json!({"status": "done"})),
            r("outcome", "b", "deactivate", json!({"status": "done"})),
            r("outcome", "d", "delete", json!({"status": "done"})),
            r("outcome", "e", "deactivate", json!({"status": "unconfirmed"})),
        ];
        let todo = to_undo(&records, None);
        let got: Vec<(&str, Option<&serde_json::Value>)> = todo
            .deactivated
            .iter()
            .map(|d| (d.user.as_str(), d.before.as_ref()))
            .collect();
        assert_eq!(got, [("a", Some(&json!({"groups": ["g1", "g2"]}))), ("b", None)]);
        let deleted: Vec<&str> = todo.deleted.iter().map(|d| d.user.as_str()).collect();
        assert_eq!(deleted, ["d"]);
        // Only what was done since: nothing, after the last record.
        let later = crate::time::parse_time("2026-11-24").unwrap();
        assert!(to_undo(&records, Some(later)).deactivated.is_empty());
    }
}
