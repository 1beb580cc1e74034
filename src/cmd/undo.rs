//! `dormant undo JOURNAL [--since T] [--yes]`: reactivates the users apply
//! deactivated (those not reactivated since), journaling each request like
//! apply does, and says plainly what cannot be undone.

use super::{load_config, Output};
use crate::cli::UndoArgs;
use crate::connector::{Acted, Live};
use crate::journal::Journal;
use crate::Exit;
use serde_json::{Map, Value};
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

pub fn run(args: &UndoArgs, out: &Output) -> Result<Exit, Exit> {
    let fail = |m: String| {
        out.error(&m);
        Exit::Errors
    };
    // A mistyped path during an incident must not read as "all is well".
    if !args.journal.exists() {
        return Err(fail(format!(
            "no journal at `{}`: name the journal apply wrote (dormant.toml's `journal`); nothing was undone",
            args.journal.display()
        )));
    }
    // Read first for the journal's key, if dormant.toml keys it.
    let config = load_config(out)?;
    let key = match &config {
        Some(c) => c.journal_key().map_err(|e| fail(format!("{e}\nnothing was undone")))?,
        None => None,
    };
    let (mut journal, records) = Journal::open(&args.journal, super::apply::wait(args.wait), key)
        .map_err(|e| fail(format!("{e}\nnothing was undone")))?;
    let since = args.since;
    let text = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    // The last word on each (connector, user): deactivated, reactivated or deleted.
    type Last = (String, Option<String>, Option<crate::time::Time>);
    let mut last: BTreeMap<(String, String), Last> = BTreeMap::new();
    // What the deactivations since a user's last reactivation took away,
    // all of them: a revoke cut in half and run again, or a second plan,
    // records less than the user had, and the first record holds the rest.
    let mut before: BTreeMap<(String, String), Value> = BTreeMap::new();
    for r in &records {
        let key = (text(r, "connector"), text(r, "user"));
        let done = r["event"] == "outcome" && matches!(r["status"].as_str(), Some("done" | "settled"));
        if r["event"] == "intent" && r["action"] == "deactivate" {
            if let Some(b) = r.get("before").filter(|b| !b.is_null()) {
                merge(before.entry(key.clone()).or_insert(Value::Null), b);
            }
        }
        if done && r["action"] == "reactivate" {
            before.remove(&key);
        }
        let recent = since.is_none_or(|s| {
            r["at"]
                .as_str()
                .and_then(crate::time::parse_time)
                .is_some_and(|at| at >= s)
        });
        let mut action = text(r, "action");
        // The first step of a delete (DocSpace: Terminated) done, and no
        // delete after it: the user is deactivated, and undo reactivates them.
        let half_done = r["event"] == "step" && r["step"] == "deactivated";
        if half_done {
            action = "deactivate".into();
        }
        if (done || half_done) && recent && matches!(action.as_str(), "deactivate" | "delete" | "reactivate") {
            let username = r.get("username").and_then(Value::as_str).map(str::to_string);
            let at = r["at"].as_str().and_then(crate::time::parse_time);
            last.insert((text(r, "connector"), text(r, "user")), (action, username, at));
        }
    }
    let pick = |what: &str| -> Vec<Done> {
        last.iter()
            .filter(|(_, (a, _, _))| a == what)
            .map(|((c, u), (_, name, at))| Done {
                connector: c.clone(),
                user: u.clone(),
                username: name.clone(),
                at: *at,
                before: before.get(&(c.clone(), u.clone())).cloned(),
            })
            .collect()
    };
    let (deactivated, deleted) = (pick("deactivate"), pick("delete"));
    if deactivated.is_empty() && deleted.is_empty() {
        println!("nothing to undo in `{}`", args.journal.display());
        return Ok(Exit::Ok);
    }
    let config = config.ok_or_else(|| fail(format!("undo needs `{}`: the connectors", crate::config::DEFAULT)))?;
    if !deactivated.is_empty() && !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(fail(format!(
                "undo would reactivate {} users, and there is no terminal to ask on: add --yes",
                deactivated.len()
            )));
        }
        eprint!("Reactivate {} users? [y/N] ", deactivated.len());
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("nothing was undone");
            return Ok(Exit::Ok);
        }
    }
    let mut failed = 0;
    let mut pending = 0;
    let mut by_connector: BTreeMap<&str, Vec<&Done>> = BTreeMap::new();
    for d in deactivated.iter().chain(&deleted) {
        by_connector.entry(d.connector.as_str()).or_default().push(d);
    }
    for (name, users) in by_connector {
        let connector = config.connector(name).map_err(fail)?;
        let live = Live::connect(connector).map_err(fail)?;
        for d in users
            .iter()
            .filter(|d| deleted.iter().any(|x| x.user == d.user && x.connector == d.connector))
        {
            match live.deletion(d.at, chrono::Utc::now()) {
                (true, what) => {
                    pending += 1;
                    println!("can still be cancelled: {} {what}", who(d));
                }
                (false, what) => println!("cannot undo: {} {what}", who(d)),
            }
        }
        let these: Vec<&&Done> = users
            .iter()
            .filter(|d| {
                deactivated
                    .iter()
                    .any(|x| x.user == d.user && x.connector == d.connector)
            })
            .collect();
        for d in &these {
            journal.append(entry("intent", d, None)).map_err(fail)?;
        }
        let ids: Vec<String> = these.iter().map(|d| d.user.clone()).collect();
        let taken: Vec<Option<Value>> = these.iter().map(|d| d.before.clone()).collect();
        for (d, acted) in these.iter().zip(live.reactivate(&ids, &taken)) {
            let (status, detail) = match acted {
                Acted::Done => {
                    println!("reactivated {}", who(d));
                    ("done", String::new())
                }
                Acted::Skipped(why) => ("skipped", why),
                Acted::Accepted => {
                    failed += 1;
                    println!("UNCONFIRMED reactivation of {}: the platform did not say", who(d));
                    ("unconfirmed", String::new())
                }
                Acted::Unconfirmed(why) => {
                    failed += 1;
                    println!("UNCONFIRMED reactivation of {}: {why}", who(d));
                    ("unconfirmed", why)
                }
                Acted::Failed(why) | Acted::OutOfQuota(why) => {
                    failed += 1;
                    println!("FAILED to reactivate {}: {why}", who(d));
                    ("failed", why)
                }
            };
            journal
                .append(entry("outcome", d, Some((status, &detail))))
                .map_err(fail)?;
        }
    }
    println!(
        "{} reactivated, {} deletions that cannot be undone, {pending} still pending and cancellable, {failed} failed",
        deactivated.len() - failed,
        deleted.len() - pending
    );
    Ok(if failed > 0 { Exit::Errors } else { Exit::Ok })
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

fn entry(event: &str, d: &Done, status: Option<(&str, &str)>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "at".into(),
        Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    );
    m.insert("event".into(), Value::from(event));
    m.insert("plan".into(), Value::from("undo"));
    m.insert("connector".into(), Value::from(d.connector.as_str()));
    m.insert("user".into(), Value::from(d.user.as_str()));
    if let Some(u) = &d.username {
        m.insert("username".into(), Value::from(u.as_str()));
    }
    m.insert("action".into(), Value::from("reactivate"));
    if let Some((s, detail)) = status {
        m.insert("status".into(), Value::from(s));
        if !detail.is_empty() {
            m.insert("detail".into(), Value::from(detail));
        }
    }
    m
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
