//! The plan's JSON for one decision (see the README's "dormant plan"): the
//! conditions, then every value they saw once, then the ages; and `Shapes`,
//! which writes the same bytes faster for a whole plan.

use super::{explained, rule_label, Entry, UserRef};
use crate::eval::{self, Decider, Decision};
use crate::fields::Field;
use crate::program::Program;
use crate::user::User;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (p, u, e) = (self.program, self.record, &self.explanation);
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("user", &self.user)?;
        map.serialize_entry("action", &self.action)?;
        map.serialize_entry("rule", &self.rule)?;
        if let Some(due) = self.decision.due {
            map.serialize_entry("due", crate::time::Rfc3339::new(due).as_str())?;
        }
        if let Some(at) = self.decision.notified {
            map.serialize_entry("notified", crate::time::Rfc3339::new(at).as_str())?;
        }
        let mut seen = Vec::new();
        match e.exempt {
            Some(x) => {
                map.serialize_entry("because", &[ExemptItem(x)])?;
                exempt_values(x, u, &mut seen);
            }
            None => map.serialize_entry("because", &Because(p, &e.because))?,
        }
        map.serialize_entry("passed", &PassedList(p, &e.passed))?;
        let mut ages = Vec::new();
        for item in e.because.iter().chain(e.passed.iter().flat_map(|r| &r.items)) {
            eval::values(p, item.cond, u, &mut seen);
            eval::ages(p, item.cond, u, &mut ages);
        }
        map.serialize_entry("values", &Values(&seen))?;
        if !ages.is_empty() {
            map.serialize_entry("age_days", &AgeDays(&ages))?;
        }
        map.end()
    }
}

struct Because<'a>(&'a Program, &'a [eval::Item<'a>]);

impl Serialize for Because<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for item in self.1 {
            seq.serialize_element(&BecauseItem(self.0, item))?;
        }
        seq.end()
    }
}

struct BecauseItem<'a>(&'a Program, &'a eval::Item<'a>);

impl Serialize for BecauseItem<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("condition", &CondJson(self.0, self.1.cond))?;
        if let Some(via) = self.1.via {
            map.serialize_entry("via", via)?;
        }
        map.serialize_entry("result", &self.1.result)?;
        map.end()
    }
}

struct ExemptItem<'a>(&'a crate::program::Exempt);

impl Serialize for ExemptItem<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("condition", &eval::explain_exempt_text(self.0))?;
        map.serialize_entry("result", &crate::value::Truth::True)?;
        map.end()
    }
}

/// The id, username or email an exemption named.
fn exempt_values<'a>(x: &crate::program::Exempt, u: &'a User, out: &mut Vec<eval::Seen<'a>>) {
    static ID: Field = Field::Id;
    static USERNAME: Field = Field::Username;
    static EMAIL: Field = Field::Email;
    let fields: [(&'static Field, Option<&'a str>); 3] = [
        (&ID, Some(&u.id)),
        (&USERNAME, u.username.as_deref()),
        (&EMAIL, u.email.as_deref()),
    ];
    if let Some((f, Some(v))) = fields
        .into_iter()
        .find(|(_, v)| v.is_some_and(|v| v.to_lowercase() == x.who.to_lowercase()))
    {
        out.push(eval::Seen {
            field: eval::FieldRef::Field(f),
            value: eval::Shown::Text(v),
        });
    }
}

struct PassedList<'a>(&'a Program, &'a [eval::Passed<'a>]);

impl Serialize for PassedList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for r in self.1 {
            seq.serialize_element(&PassedRule(self.0, r))?;
        }
        seq.end()
    }
}

struct PassedRule<'a>(&'a Program, &'a eval::Passed<'a>);

impl Serialize for PassedRule<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("rule", self.1.rule)?;
        map.serialize_entry("because", &Conditions(self.0, &self.1.items))?;
        map.end()
    }
}

/// The conditions of a rule that did not match: all false, so only named.
struct Conditions<'a>(&'a Program, &'a [eval::Item<'a>]);

impl Serialize for Conditions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for item in self.1 {
            seq.serialize_element(&CondJson(self.0, item.cond))?;
        }
        seq.end()
    }
}

/// Field → value, as one JSON object.
struct Values<'a>(&'a [eval::Seen<'a>]);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for v in self.0 {
            map.serialize_entry(&FieldName(v.field), &v.value)?;
        }
        map.end()
    }
}

/// Field → days before as-of, for the age comparisons shown.
struct AgeDays<'a>(&'a [eval::Age<'a>]);

impl Serialize for AgeDays<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for a in self.0 {
            map.serialize_entry(&FieldName(eval::FieldRef::Field(a.field)), &a.age_days)?;
        }
        map.end()
    }
}

/// A condition's text: a comparison's was escaped when the policy was
/// compiled; others (`not ...`, `let` names) are written as they go.
struct CondJson<'a>(&'a Program, &'a crate::program::Cond);

impl Serialize for CondJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            crate::program::Cond::Leaf(i) => match self.0.leaves.get(*i) {
                Some(l) => l.json.serialize(s),
                None => s.serialize_str(""),
            },
            other => s.collect_str(&eval::CondText(self.0, other)),
        }
    }
}

/// A field's name; those of the record are static strings.
struct FieldName<'a>(eval::FieldRef<'a>);

impl Serialize for FieldName<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            eval::FieldRef::Field(f) => match crate::fields::FIELDS.iter().find(|(_, x)| x == f) {
                Some((name, _)) => s.serialize_str(name),
                None => s.collect_str(f),
            },
            other => s.collect_str(&other),
        }
    }
}

impl Serialize for eval::Shown<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use eval::Shown;
        match self {
            Shown::Text(t) => s.serialize_str(t),
            Shown::Texts(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for item in v.iter() {
                    seq.serialize_element(item.as_str())?;
                }
                seq.end()
            }
            Shown::Number(n) => s.serialize_f64(*n),
            Shown::Bool(b) => s.serialize_bool(*b),
            Shown::Time(t) => s.serialize_str(crate::time::Rfc3339::new(*t).as_str()),
            Shown::Never => s.serialize_str("never"),
            Shown::Unknown => s.serialize_str("unknown"),
        }
    }
}

/// The JSON of decisions, made faster by what repeats: users decided by the
/// same rule with the same comparisons true, false and unknown get the same
/// conditions listed, so the `because` and `passed` of each such shape are
/// written once and copied; only the user's own values are written each
/// time. The bytes are those of `Entry`'s `Serialize` (a test holds them
/// to it).
#[derive(Default)]
pub struct Shapes<'p> {
    map: std::collections::HashMap<(Decider, eval::Truths), Shape<'p>>,
}

struct Shape<'p> {
    /// `"because":[...],"passed":[...]`
    json: Vec<u8>,
    /// The conditions listed, in order: their values are the user's own.
    conds: Vec<&'p crate::program::Cond>,
}

/// Policies with many unknowns could make many shapes; past this many, the
/// rest are written without being kept.
const MAX_SHAPES: usize = 4096;

impl<'p> Shapes<'p> {
    /// Appends one decision's JSON to `out`.
    pub fn write(&mut self, out: &mut Vec<u8>, p: &'p Program, u: &User, d: &Decision) -> serde_json::Result<()> {
        if matches!(d.decider, Decider::Exempt(_)) {
            return serde_json::to_writer(out, &explained(p, u, *d));
        }
        let key = (d.decider, eval::Truths::of(p, u));
        let fresh;
        let shape = match self.map.get(&key) {
            Some(shape) => shape,
            None => {
                let e = eval::explain_with(p, &key.1, d);
                let mut json = b"\"because\":".to_vec();
                serde_json::to_writer(&mut json, &Because(p, &e.because))?;
                json.extend_from_slice(b",\"passed\":");
                serde_json::to_writer(&mut json, &PassedList(p, &e.passed))?;
                let conds = e
                    .because
                    .iter()
                    .chain(e.passed.iter().flat_map(|r| &r.items))
                    .map(|i| i.cond)
                    .collect();
                fresh = Shape { json, conds };
                if self.map.len() < MAX_SHAPES {
                    self.map.entry(key).or_insert(fresh)
                } else {
                    &fresh
                }
            }
        };
        out.extend_from_slice(b"{\"user\":");
        serde_json::to_writer(&mut *out, &UserRef::of(u))?;
        out.extend_from_slice(b",\"action\":");
        serde_json::to_writer(&mut *out, &d.action)?;
        out.extend_from_slice(b",\"rule\":");
        serde_json::to_writer(&mut *out, &rule_label(p, d))?;
        if let Some(due) = d.due {
            out.extend_from_slice(b",\"due\":");
            serde_json::to_writer(&mut *out, crate::time::Rfc3339::new(due).as_str())?;
        }
        if let Some(at) = d.notified {
            out.extend_from_slice(b",\"notified\":");
            serde_json::to_writer(&mut *out, crate::time::Rfc3339::new(at).as_str())?;
        }
        out.push(b',');
        out.extend_from_slice(&shape.json);
        let (mut seen, mut ages) = (Vec::new(), Vec::new());
        for cond in &shape.conds {
            eval::values(p, cond, u, &mut seen);
            eval::ages(p, cond, u, &mut ages);
        }
        out.extend_from_slice(b",\"values\":");
        serde_json::to_writer(&mut *out, &Values(&seen))?;
        if !ages.is_empty() {
            out.extend_from_slice(b",\"age_days\":");
            serde_json::to_writer(&mut *out, &AgeDays(&ages))?;
        }
        out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check, Options};
    use crate::journal::Notices;
    use crate::source::Source;

    /// The fast JSON writer and `Entry`'s `Serialize` write the same bytes,
    /// for every example policy over the example users, at several dates.
    #[test]
    fn shapes_write_what_entries_serialize() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let users = crate::connector::file::load(&root.join("examples/users.csv"))
            .unwrap()
            .users;
        let mut notices = Notices::new();
        notices.add("u007", "dormant", crate::time::parse_time("2026-10-01").unwrap());
        for entry in std::fs::read_dir(root.join("policies")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "policy") {
                continue;
            }
            let source = Source::new(path.display().to_string(), std::fs::read_to_string(&path).unwrap());
            let policy = crate::parse::parse(&source).unwrap().policy;
            for day in ["2026-11-23", "2027-07-01", "2028-02-29"] {
                let as_of = crate::time::parse_time(day).unwrap();
                assert!(!check(&policy, &Options { as_of }).has_errors());
                let p = Program::compile(&policy, &source, as_of).unwrap();
                let mut shapes = Shapes::default();
                // Twice over, so that the second pass copies cached shapes.
                for u in users.iter().chain(users.iter()) {
                    let d = eval::decide(&p, u, &notices);
                    let mut fast = Vec::new();
                    shapes.write(&mut fast, &p, u, &d).unwrap();
                    let slow = serde_json::to_vec(&explained(&p, u, d)).unwrap();
                    assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(slow).unwrap());
                }
            }
        }
    }
}
