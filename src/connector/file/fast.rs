//! A fast path for the users files most runs read: flat JSON objects whose
//! strings have no escapes. It reads such an object straight into the user
//! record and gives up (`None`) on anything else (an escape, a nested
//! object, a value the record refuses), leaving it to the serde path,
//! which reads everything and words every error. Both fill the record
//! through `record::set`, so they read the same values the same way.

use super::json::Keys;
use crate::connector::record::{self, Cell};
use crate::fields::Field;
use crate::user::User;

/// Reads the object at the start of `text` into `u`, resolving keys through
/// `keys`, and returns where it ends; what follows it is not looked at, so
/// the caller can hand in the rest of a buffer. `None` means "not on the
/// fast path" (or not complete here): `u` is then in an unknown state and
/// the caller starts over.
pub(super) fn object(text: &str, u: &mut User, keys: &mut Keys) -> Option<usize> {
    let mut r = Reader {
        b: text.as_bytes(),
        t: text,
        i: 0,
    };
    r.expect(b'{')?;
    r.ws();
    let mut has_id = false;
    if r.peek() == Some(b'}') {
        r.i += 1;
    } else {
        let mut at = 0;
        loop {
            r.ws();
            let key = r.string()?;
            let field = keys.resolve(at, key).ok()?;
            at += 1;
            has_id |= *field == Field::Id;
            r.ws();
            r.expect(b':')?;
            r.ws();
            r.value(u, field)?;
            r.ws();
            match r.next()? {
                b',' => {}
                b'}' => break,
                _ => return None,
            }
        }
    }
    has_id.then_some(r.i)
}

struct Reader<'a> {
    b: &'a [u8],
    /// `b` as text: strings are sliced out of it, already known to be UTF-8.
    t: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    /// A string without escapes or control characters. A plain loop: the
    /// strings of a users file are short, shorter than a `memchr` call is
    /// worth.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.i;
        loop {
            match self.next()? {
                b'"' => return self.t.get(start..self.i - 1),
                b'\\' => return None,
                c if c < 0x20 => return None,
                _ => {}
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A number in JSON's own grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<f64> {
        let start = self.i;
        let digits = |r: &mut Self| {
            let from = r.i;
            while matches!(r.peek(), Some(b'0'..=b'9')) {
                r.i += 1;
            }
            r.i > from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else if !digits(self) {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        self.t.get(start..self.i)?.parse().ok().filter(|n: &f64| n.is_finite())
    }

    fn value(&mut self, u: &mut User, field: &Field) -> Option<()> {
        let cell = match self.peek()? {
            b'"' => Cell::Text(self.string()?),
            b't' => self.literal(b"true").map(|()| Cell::Bool(true))?,
            b'f' => self.literal(b"false").map(|()| Cell::Bool(false))?,
            b'n' => self.literal(b"null").map(|()| Cell::Null)?,
            b'[' => return self.list(u, field),
            b'-' | b'0'..=b'9' => Cell::Number(self.number()?),
            _ => return None,
        };
        record::set(u, field, cell).ok()
    }

    /// An array of strings, for a set field.
    fn list(&mut self, u: &mut User, field: &Field) -> Option<()> {
        if field.ty() != crate::fields::Type::Set {
            return None;
        }
        self.expect(b'[')?;
        record::empty_set(u, field);
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let item = self.string()?;
            record::push_set_item(u, field, item).ok()?;
            self.ws();
            match self.next()? {
                b',' => {}
                b']' => return Some(()),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(text: &str) -> Option<User> {
        let mut u = User::default();
        object(text, &mut u, &mut Keys::default())
            .filter(|end| *end == text.len())
            .map(|_| u)
    }

    fn serde(text: &str) -> Option<User> {
        super::super::json::serde_user(text.as_bytes())
    }

    #[test]
    fn reads_the_common_shape() {
        let text = r#"{"id":"u1","username":"ana","joined":"2024-01-31T10:00:00Z","last_login":null,"group":["a","b"],"group_name":["A team"],"deactivated":"2026-10-01","is_admin":false,"activity.posts":3,"attr.level":2.5e1}"#;
        let u = fast(text).unwrap();
        assert_eq!(u.group_name.as_deref(), Some(&["A team".into()][..]));
        assert!(u.deactivated.is_some());
        assert_eq!(Some(u), serde(text));
    }

    #[test]
    fn leaves_the_unusual_to_serde() {
        for text in [
            r#"{"id":"a\"b"}"#,
            r#"{"id":"u1","x":1}"#,
            r#"{"id":"u1","joined":"soon"}"#,
            r#"{"id":"u1","activity.posts":01}"#,
            r#"{"id":"u1","group":[1]}"#,
            r#"{"username":"ana"}"#,
            r#"{"id":"u1",}"#,
        ] {
            assert_eq!(fast(text), None, "{text}");
        }
    }

    /// Values a users file may hold, some valid and some not.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 @.;_-]{0,12}".prop_map(|s| format!("\"{s}\"")),
            Just("\"2024-01-31\"".to_string()),
            Just("\"2024-01-31T10:00:00Z\"".to_string()),
            Just("\"2024-01-31T10:00:00+02:00\"".to_string()),
            Just("\"never\"".to_string()),
            Just("\"a\\\"b\"".to_string()),
            Just("\"\\u00e9\"".to_string()),
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,2})?([eE][+-]?[0-9])?",
            Just("01".to_string()),
            Just("1.".to_string()),
            Just("[]".to_string()),
            Just("[\"a\", \"b\"]".to_string()),
            Just("[\"a\",1]".to_string()),
            Just("{}".to_string()),
        ]
    }

    fn key() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "id",
            "username",
            "email",
            "status",
            "joined",
            "last_login",
            "last_activity",
            "group",
            "group_name",
            "deactivated",
            "role",
            "is_admin",
            "is_service",
            "activity.posts",
            "attr.level",
            "nope",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Whenever the fast path reads an object, serde reads the same user.
        #[test]
        fn agrees_with_serde(pairs in proptest::collection::vec((key(), value()), 0..8), spaces in any::<bool>()) {
            let sep = if spaces { ", " } else { "," };
            let body: Vec<String> = std::iter::once("\"id\":\"u1\"".to_string())
                .chain(pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")))
                .collect();
            let text = format!("{{{}}}", body.join(sep));
            if let Some(u) = fast(&text) {
                prop_assert_eq!(Some(u), serde(&text), "{}", text);
            }
        }
    }
}
