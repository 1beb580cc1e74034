//! The plan's JSON for one decision (see the README's "dormant plan"): the
//! conditions, then every value they saw once, then the ages; and `EntryCache`,
//! which writes the same bytes faster for a whole plan.

use super::{exempt_text, CondText};
use crate::decision::{Decider, Decision};
use crate::eval;
use crate::fields::Field;
use crate::plan::{explained, rule_label, Entry};
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
        if let Some(state) = self.decision.already {
            map.serialize_entry("already", state.as_str())?;
        }
        map.serialize_entry("rule", &self.rule)?;
        if let Some(state) = self.decision.cannot_notify {
            map.serialize_entry("cannot_notify", state.as_str())?;
        }
        if let Some(due) = self.decision.due {
            map.serialize_entry("due", crate::time::Rfc3339::new(due).as_str())?;
        }
        if let Some(at) = self.decision.notified {
            map.serialize_entry("notified", crate::time::Rfc3339::new(at).as_str())?;
        }
        let mut seen = eval::Seens::new();
        match e.exempt {
            Some(x) => {
                map.serialize_entry("because", &[ExemptItem(x)])?;
                exempt_values(x, u, &mut seen);
            }
            None => map.serialize_entry("because", &Because(p, &e.because))?,
        }
        map.serialize_entry("passed", &PassedList(p, &e.passed))?;
        let mut ages = eval::Ages::new();
        for item in e.because.iter().chain(e.passed.iter().flat_map(|r| &r.items)) {
            eval::values(p, item.cond, u, &mut seen);
            eval::ages(p, item.cond, u, &mut ages);
        }
        map.serialize_entry("values", &Values(&seen))?;
        if !ages.is_empty() {
            map.serialize_entry("age_days", &AgeDays(&ages))?;
        }
        if seen.iter().any(|v| v.value.origin().is_some()) {
            map.serialize_entry("sources", &Sources(&seen))?;
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
        map.serialize_entry("condition", &exempt_text(self.0))?;
        map.serialize_entry("result", &crate::value::Truth::True)?;
        map.end()
    }
}

/// The id, username or email an exemption named.
fn exempt_values<'a>(x: &crate::program::Exempt, u: &'a User, out: &mut eval::Seens<'a>) {
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
            value: eval::Val::Text(v),
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

/// Field → where its value came from, for the values that say
/// (`deactivated`: the platform's connector, a users file, or the journal).
struct Sources<'a>(&'a [eval::Seen<'a>]);

impl Serialize for Sources<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for v in self.0 {
            if let Some(from) = v.value.origin() {
                map.serialize_entry(&FieldName(v.field), from)?;
            }
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
            other => s.collect_str(&CondText(self.0, other)),
        }
    }
}

/// A field's name; those of the record are static strings.
struct FieldName<'a>(eval::FieldRef<'a>);

impl Serialize for FieldName<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            eval::FieldRef::Field(f) => match f.plain_name() {
                Some(name) => s.serialize_str(name),
                None => s.collect_str(f),
            },
            other => s.collect_str(&other),
        }
    }
}

impl Serialize for eval::Val<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use eval::Val;
        match self {
            Val::Text(t) => s.serialize_str(t),
            Val::Texts(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for item in v.iter() {
                    seq.serialize_element(item.as_str())?;
                }
                seq.end()
            }
            Val::Number(n) => s.serialize_f64(*n),
            Val::Bool(b) => s.serialize_bool(*b),
            // The time alone, for machines; the reason's text says where it came from.
            Val::Time(t) | Val::TimeFrom(t, _) => s.serialize_str(crate::time::Rfc3339::new(*t).as_str()),
            Val::Never | Val::NeverFrom(_) => s.serialize_str("never"),
            Val::Unknown => s.serialize_str("unknown"),
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
pub struct EntryCache<'p> {
    map: rustc_hash::FxHashMap<(Decider, eval::Truths), CachedEntry<'p>>,
}

struct CachedEntry<'p> {
    /// `"because":[...],"passed":[...]`
    json: Vec<u8>,
    /// The conditions listed, in order: their values are the user's own.
    conds: Vec<&'p crate::program::Cond>,
}

/// Policies with many unknowns could make many cached entries; past this many, the
/// rest are written without being kept.
const MAX_CACHED: usize = 4096;

impl<'p> EntryCache<'p> {
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
                fresh = CachedEntry { json, conds };
                if self.map.len() < MAX_CACHED {
                    self.map.entry(key).or_insert(fresh)
                } else {
                    &fresh
                }
            }
        };
        out.extend_from_slice(b"{\"user\":{\"id\":");
        put::str(out, &u.id);
        out.extend_from_slice(b",\"username\":");
        put::opt_str(out, u.username.as_deref());
        out.extend_from_slice(b",\"email\":");
        put::opt_str(out, u.email.as_deref());
        out.extend_from_slice(b"},\"action\":\"");
        out.extend_from_slice(d.action.as_str().as_bytes());
        out.push(b'"');
        if let Some(state) = d.already {
            out.extend_from_slice(b",\"already\":");
            put::plain_str(out, state.as_str());
        }
        out.extend_from_slice(b",\"rule\":");
        put::opt_str(out, rule_label(p, d));
        if let Some(state) = d.cannot_notify {
            out.extend_from_slice(b",\"cannot_notify\":");
            put::plain_str(out, state.as_str());
        }
        if let Some(due) = d.due {
            out.extend_from_slice(b",\"due\":");
            put::plain_str(out, crate::time::Rfc3339::new(due).as_str());
        }
        if let Some(at) = d.notified {
            out.extend_from_slice(b",\"notified\":");
            put::plain_str(out, crate::time::Rfc3339::new(at).as_str());
        }
        out.push(b',');
        out.extend_from_slice(&shape.json);
        let (mut seen, mut ages) = (eval::Seens::new(), eval::Ages::new());
        for cond in &shape.conds {
            eval::values(p, cond, u, &mut seen);
            eval::ages(p, cond, u, &mut ages);
        }
        out.extend_from_slice(b",\"values\":{");
        for (k, v) in seen.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            put::field(out, v.field);
            out.push(b':');
            put::val(out, &v.value)?;
        }
        out.push(b'}');
        if !ages.is_empty() {
            out.extend_from_slice(b",\"age_days\":{");
            for (k, a) in ages.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                put::field(out, eval::FieldRef::Field(a.field));
                out.push(b':');
                out.extend_from_slice(itoa::Buffer::new().format(a.age_days).as_bytes());
            }
            out.push(b'}');
        }
        let mut sources = seen
            .iter()
            .filter_map(|v| Some((v.field, v.value.origin()?)))
            .peekable();
        if sources.peek().is_some() {
            out.extend_from_slice(b",\"sources\":{");
            for (k, (field, from)) in sources.enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                put::field(out, field);
                out.push(b':');
                put::str(out, from);
            }
            out.push(b'}');
        }
        out.push(b'}');
        Ok(())
    }
}

/// The pieces of a decision's JSON written straight into the buffer: the
/// bytes serde_json writes for the same values (the test below holds them
/// equal), without its general machinery, which costs more than the
/// writing itself at millions of users.
mod put {
    use crate::eval::{FieldRef, Val};

    /// A JSON string. Most strings of a users file need no escape; those
    /// that do go through serde_json.
    pub fn str(out: &mut Vec<u8>, s: &str) {
        if plain(s) {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        } else {
            // Writing to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, s);
        }
    }

    /// Whether `s` is written as it is between quotes: no control
    /// character, quote or backslash. Eight bytes at a time: a byte below
    /// `n` (n ≤ 128) sets the high bit of `v - n·0x0101…` where `v` had it
    /// clear, exactly when some byte is below `n` (a quote or a backslash is
    /// a zero byte after `xor`).
    pub(super) fn plain(s: &str) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH != 0;
        let mut words = s.as_bytes().chunks_exact(8);
        for w in &mut words {
            // Always eight bytes; a zero word would only send `s` the slow way.
            let v = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
            if below(v, 0x20) || below(v ^ (ONES * u64::from(b'"')), 1) || below(v ^ (ONES * u64::from(b'\\')), 1) {
                return false;
            }
        }
        words.remainder().iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
    }

    /// A string known to need no escape (a time in plan form).
    pub fn plain_str(out: &mut Vec<u8>, s: &str) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }

    pub fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => str(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }

    /// A field's name as a key.
    pub fn field(out: &mut Vec<u8>, f: FieldRef<'_>) {
        match f {
            FieldRef::Activity(name) if plain(name) => {
                out.extend_from_slice(b"\"activity.");
                out.extend_from_slice(name.as_bytes());
                out.push(b'"');
            }
            FieldRef::Activity(name) => str(out, &format!("activity.{name}")),
            FieldRef::Field(f) => match f.plain_name() {
                Some(name) => str(out, name),
                None => str(out, &f.to_string()),
            },
        }
    }

    pub fn val(out: &mut Vec<u8>, v: &Val<'_>) -> serde_json::Result<()> {
        match v {
            Val::Text(t) => str(out, t),
            Val::Texts(items) => {
                out.push(b'[');
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    str(out, item);
                }
                out.push(b']');
            }
            Val::Number(n) => serde_json::to_writer(&mut *out, n)?,
            Val::Bool(true) => out.extend_from_slice(b"true"),
            Val::Bool(false) => out.extend_from_slice(b"false"),
            Val::Time(t) | Val::TimeFrom(t, _) => plain_str(out, crate::time::Rfc3339::new(*t).as_str()),
            Val::Never | Val::NeverFrom(_) => out.extend_from_slice(b"\"never\""),
            Val::Unknown => out.extend_from_slice(b"\"unknown\""),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A string is written as serde_json writes it, escaped or not.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(s in "[ -~\\x00-\\x1f\"\\\\é\u{7f}\u{2028}]{0,40}") {
            let mut out = Vec::new();
            put::str(&mut out, &s);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
            proptest::prop_assert_eq!(put::plain(&s), s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'));
        }
    }
}
