//! One journal line, typed. Every record dormant writes is built here, and
//! every record it reads is read here.
//!
//! The chain is over the bytes as written (`verify` links the raw lines and
//! never re-serialises them), so old journals verify whatever this type
//! says. To keep what a record reads the same, it is written as it always
//! was: an object of its fields in sorted key order (serde_json's `Map`),
//! empty fields left out, `rule` written as `null` by apply and left out by
//! undo, `detail` only when there is one. `tests/journal_fixtures.rs` holds
//! it to journals written before this type.

use crate::time::{self, Time};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One journal record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// When it was written (RFC 3339, seconds); `None` if the line has no
    /// time dormant can read, which only the readers that need one refuse.
    pub at: Option<Time>,
    /// The identity of the plan it belongs to, or `undo`.
    pub plan: String,
    /// The connector the request went through.
    pub connector: String,
    pub event: Event,
}

/// What a record says happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A request about to go out, flushed before it does; `before` is what
    /// the action takes away that undo must give back (a revoke's
    /// permissions and groups).
    Intent { subject: Subject, before: Option<Value> },
    /// The first step of a two-step action done (DocSpace: Terminated).
    Step { subject: Subject, step: Step },
    /// What came of a request, or why none was sent.
    Outcome { subject: Subject, outcome: Outcome },
    /// A run under `--max` acts on `acting` users and leaves `count`.
    Deferred { max: u64, acting: u64, count: u64 },
    /// A kind of record this dormant does not write: read past.
    Other,
}

/// The user and action a record is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub user: String,
    pub username: Option<String>,
    pub action: Action,
    /// Apply's records name the rule (`null` for none); undo's have no rule.
    pub rule: Option<Option<String>>,
}

/// An action as the journal names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    Notify,
    Deactivate,
    Delete,
    Reactivate,
    /// A word this dormant does not write, kept as it is.
    Other(String),
}

/// A step of a two-step action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Disabled, on the way to deletion.
    Deactivated,
}

/// What happened to one planned user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Not acted on, and why (decision changed, protected, already done).
    Skipped(String),
    /// Sent by an earlier run without a confirmed outcome, and found done
    /// on the platform now: how it stands there.
    Settled(String),
    Failed(String),
    /// Never sent, and why (the quota, or the user could not be read first).
    NotSent(String),
    /// Sent, but neither the answer nor a read of the user showed it done.
    Unconfirmed(String),
}

impl Action {
    pub fn as_str(&self) -> &str {
        match self {
            Action::Notify => "notify",
            Action::Deactivate => "deactivate",
            Action::Delete => "delete",
            Action::Reactivate => "reactivate",
            Action::Other(a) => a,
        }
    }

    pub fn parse(text: &str) -> Action {
        match text {
            "notify" => Action::Notify,
            "deactivate" => Action::Deactivate,
            "delete" => Action::Delete,
            "reactivate" => Action::Reactivate,
            other => Action::Other(other.to_string()),
        }
    }
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Deactivated => "deactivated",
        }
    }
}

impl Outcome {
    /// The journal's `status` word.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Skipped(_) => "skipped",
            Outcome::Settled(_) => "settled",
            Outcome::Failed(_) | Outcome::NotSent(_) => "failed",
            Outcome::Unconfirmed(_) => "unconfirmed",
        }
    }

    /// The reason as printed and journaled (`detail`): what makes settled
    /// and unsent outcomes plain to a reader of either.
    pub fn detail(&self) -> String {
        match self {
            Outcome::Done => String::new(),
            Outcome::Settled(why) => format!("settled: {why}"),
            Outcome::NotSent(why) if why.is_empty() => "not sent".to_string(),
            Outcome::NotSent(why) => format!("not sent: {why}"),
            Outcome::Skipped(why) | Outcome::Failed(why) | Outcome::Unconfirmed(why) => why.clone(),
        }
    }

    /// The platform is known to be as the action left it.
    pub fn confirmed(&self) -> bool {
        matches!(self, Outcome::Done | Outcome::Settled(_))
    }

    /// Nothing is left to do for the user under this plan.
    pub fn finishes(&self) -> bool {
        matches!(self, Outcome::Done | Outcome::Skipped(_) | Outcome::Settled(_))
    }

    /// A failure as the connector words it: one it says was never sent
    /// (`not sent…`, the only way its answer can say so) is `NotSent`.
    pub fn failed(why: String) -> Outcome {
        let unsent = match why.strip_prefix("not sent") {
            Some("") => Some(""),
            Some(rest) => rest.strip_prefix(": "),
            None => None,
        };
        match unsent {
            Some(rest) => Outcome::NotSent(rest.to_string()),
            None => Outcome::Failed(why),
        }
    }

    fn read(status: &str, detail: String) -> Result<Outcome, String> {
        let strip = |prefix: &str| detail.strip_prefix(prefix).unwrap_or(&detail).to_string();
        Ok(match status {
            "done" => Outcome::Done,
            "skipped" => Outcome::Skipped(detail),
            "settled" => Outcome::Settled(strip("settled: ")),
            "failed" => Outcome::failed(detail),
            "unconfirmed" => Outcome::Unconfirmed(detail),
            other => return Err(format!("`status` is `{other}`, which dormant does not write")),
        })
    }
}

impl Subject {
    pub fn new(user: &str, username: Option<&str>, action: Action, rule: Option<Option<&str>>) -> Subject {
        Subject {
            user: user.to_string(),
            username: username.map(str::to_string),
            action,
            rule: rule.map(|r| r.map(str::to_string)),
        }
    }

    /// The (user, action) pair progress is kept by.
    pub fn key(&self) -> (String, String) {
        (self.user.clone(), self.action.as_str().to_string())
    }
}

impl Record {
    fn about(plan: &str, connector: &str, at: Time, event: Event) -> Record {
        Record {
            at: Some(at),
            plan: plan.to_string(),
            connector: connector.to_string(),
            event,
        }
    }

    pub fn intent(plan: &str, connector: &str, at: Time, subject: Subject, before: Option<Value>) -> Record {
        Record::about(plan, connector, at, Event::Intent { subject, before })
    }

    pub fn step(plan: &str, connector: &str, at: Time, subject: Subject, step: Step) -> Record {
        Record::about(plan, connector, at, Event::Step { subject, step })
    }

    pub fn outcome(plan: &str, connector: &str, at: Time, subject: Subject, outcome: Outcome) -> Record {
        Record::about(plan, connector, at, Event::Outcome { subject, outcome })
    }

    /// A run under `--max N`: no user is named, since those left have no
    /// record of the plan yet, which is what makes the next run take them.
    pub fn deferred(plan: &str, connector: &str, at: Time, max: u64, acting: usize, count: usize) -> Record {
        let event = Event::Deferred {
            max,
            acting: acting as u64,
            count: count as u64,
        };
        Record::about(plan, connector, at, event)
    }

    /// The user and action it is about, if it is about one.
    pub fn subject(&self) -> Option<&Subject> {
        match &self.event {
            Event::Intent { subject, .. } | Event::Step { subject, .. } | Event::Outcome { subject, .. } => {
                Some(subject)
            }
            Event::Deferred { .. } | Event::Other => None,
        }
    }

    /// Its fields as written, in the order written (sorted).
    pub fn to_map(&self) -> Map<String, Value> {
        let line = Line::from(self);
        match serde_json::to_value(line) {
            Ok(Value::Object(m)) => m,
            // A struct of strings, numbers and values is always an object.
            _ => Map::new(),
        }
    }

    /// A record read from a verified line; the error says what is wrong.
    pub fn from_value(value: &Value) -> Result<Record, BadRecord> {
        let line: Line = serde_json::from_value(value.clone()).map_err(|e| BadRecord(e.to_string()))?;
        line.into_record().map_err(BadRecord)
    }

    /// The records of a verified journal, the first being line 1.
    pub fn read_all(name: &str, values: &[Value]) -> Result<Vec<Record>, super::Error> {
        (1..)
            .zip(values)
            .map(|(line, v)| {
                Record::from_value(v).map_err(|e| super::Error::Damaged {
                    path: name.to_string(),
                    line,
                    damage: super::Damage::NotARecord(e.0),
                })
            })
            .collect()
    }
}

/// Why a verified line is not a record dormant writes: serde's word on its
/// shape, or the field whose value dormant does not write.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadRecord(String);

/// A record's fields as they stand in a line (without `seq`, `mac` and
/// `prev`, which the journal adds).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Line {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<String>,
    /// `null` and absent differ: apply writes `null`, undo nothing.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    rule: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acting: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
}

/// A field that is there, `null` or not.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl From<&Record> for Line {
    fn from(r: &Record) -> Line {
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let mut line = Line {
            at: r
                .at
                .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
            plan: nonempty(&r.plan),
            connector: nonempty(&r.connector),
            ..Line::default()
        };
        let subject = |line: &mut Line, s: &Subject| {
            line.user = Some(s.user.clone());
            line.username = s.username.clone();
            line.action = Some(s.action.as_str().to_string());
            line.rule = s.rule.clone();
        };
        let event = match &r.event {
            Event::Intent { subject: s, before } => {
                subject(&mut line, s);
                line.before = before.clone();
                "intent"
            }
            Event::Step { subject: s, step } => {
                subject(&mut line, s);
                line.step = Some(step.as_str().to_string());
                "step"
            }
            Event::Outcome { subject: s, outcome } => {
                subject(&mut line, s);
                line.status = Some(outcome.status().to_string());
                line.detail = nonempty(&outcome.detail());
                "outcome"
            }
            Event::Deferred { max, acting, count } => {
                (line.max, line.acting, line.count) = (Some(*max), Some(*acting), Some(*count));
                "deferred"
            }
            Event::Other => return line,
        };
        line.event = Some(event.to_string());
        line
    }
}

impl Line {
    fn into_record(self) -> Result<Record, String> {
        let at = self.at.as_ref().and_then(Value::as_str).and_then(time::parse_time);
        // Read as leniently as before the type: a missing user or action
        // is empty, and only the readers that need one refuse it.
        let subject = || Subject {
            user: self.user.clone().unwrap_or_default(),
            username: self.username.clone(),
            action: Action::parse(self.action.as_deref().unwrap_or_default()),
            rule: self.rule.clone(),
        };
        let event = match self.event.as_deref() {
            Some("intent") => Event::Intent {
                subject: subject(),
                before: self.before.clone().filter(|b| !b.is_null()),
            },
            Some("step") => Event::Step {
                subject: subject(),
                step: match self.step.as_deref() {
                    Some("deactivated") => Step::Deactivated,
                    other => return Err(format!("`step` is {other:?}, which dormant does not write")),
                },
            },
            Some("outcome") => Event::Outcome {
                subject: subject(),
                outcome: Outcome::read(
                    self.status.as_deref().unwrap_or_default(),
                    self.detail.clone().unwrap_or_default(),
                )?,
            },
            Some("deferred") => Event::Deferred {
                max: self.max.unwrap_or_default(),
                acting: self.acting.unwrap_or_default(),
                count: self.count.unwrap_or_default(),
            },
            _ => Event::Other,
        };
        Ok(Record {
            at,
            plan: self.plan.unwrap_or_default(),
            connector: self.connector.unwrap_or_default(),
            event,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> Time {
        time::parse_time("2026-11-23T10:00:00Z").unwrap()
    }

    fn again(r: &Record) -> Record {
        Record::from_value(&Value::Object(r.to_map())).unwrap()
    }

    #[test]
    fn every_event_reads_back_as_written() {
        let apply = Subject::new("u1", Some("ana"), Action::Delete, Some(None));
        let undo = Subject::new("u1", None, Action::Reactivate, None);
        let records = [
            Record::intent("p", "c", at(), apply.clone(), Some(json!({"groups": ["g1"]}))),
            Record::step("p", "c", at(), apply.clone(), Step::Deactivated),
            Record::outcome(
                "p",
                "c",
                at(),
                apply.clone(),
                Outcome::Settled("the user is gone".into()),
            ),
            Record::outcome(
                "p",
                "c",
                at(),
                apply.clone(),
                Outcome::NotSent("the quota is used up".into()),
            ),
            Record::outcome("p", "c", at(), apply, Outcome::Failed("500".into())),
            Record::outcome("undo", "c", at(), undo, Outcome::Unconfirmed(String::new())),
            Record::deferred("p", "c", at(), 3, 3, 4),
        ];
        for r in &records {
            assert_eq!(&again(r), r);
        }
    }

    #[test]
    fn written_as_the_journal_always_wrote_them() {
        let apply = Subject::new("u1", None, Action::Deactivate, Some(None));
        let m = Record::outcome("p", "c", at(), apply, Outcome::NotSent("quota".into())).to_map();
        assert_eq!(m["status"], "failed");
        assert_eq!(m["detail"], "not sent: quota");
        // Apply names no rule with `null`; undo names none at all, and an
        // outcome without a reason has no `detail`.
        assert_eq!(m["rule"], Value::Null);
        let undo = Subject::new("u1", None, Action::Reactivate, None);
        let m = Record::outcome("undo", "c", at(), undo, Outcome::Unconfirmed(String::new())).to_map();
        assert!(!m.contains_key("rule") && !m.contains_key("detail"), "{m:?}");
        let m = Record::outcome(
            "p",
            "c",
            at(),
            Subject::new("u", None, Action::Delete, Some(None)),
            Outcome::Settled("gone".into()),
        )
        .to_map();
        assert_eq!(
            (&m["status"], &m["detail"]),
            (&json!("settled"), &json!("settled: gone"))
        );
    }

    #[test]
    fn a_failure_the_connector_says_was_never_sent_is_not_sent() {
        assert_eq!(Outcome::failed("not sent: x".into()), Outcome::NotSent("x".into()));
        assert_eq!(Outcome::failed("not sent".into()), Outcome::NotSent(String::new()));
        assert_eq!(Outcome::NotSent(String::new()).detail(), "not sent");
        assert_eq!(
            Outcome::failed("notice not sent: x".into()),
            Outcome::Failed("notice not sent: x".into())
        );
        assert_eq!(
            Outcome::failed("not sentinel".into()),
            Outcome::Failed("not sentinel".into())
        );
    }

    #[test]
    fn what_is_not_dormant_s_is_read_past_or_refused() {
        let other = Record::from_value(&json!({"event": "note", "text": "hello"})).unwrap();
        assert_eq!(other.event, Event::Other);
        assert!(
            Record::from_value(&json!({"event": "outcome", "user": "u", "action": "delete", "status": "maybe"}))
                .is_err()
        );
        let e = Record::read_all("j", &[json!({"event": "step", "user": "u", "step": "half"})])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("j:1: not a journal record"), "{e}");
        // A time that cannot be read is no time, for the readers that need one to refuse.
        let r = Record::from_value(&json!({"event": "intent", "user": "u", "action": "delete", "at": "soon"})).unwrap();
        assert_eq!(r.at, None);
    }
}
