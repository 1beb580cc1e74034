//! A set field's values (groups, roles, permissions), with a summary of
//! them that answers most `in` tests without a look at any value.

use crate::user::Text;
use crate::value::folded_bit;
use std::fmt;
use std::ops::Deref;

/// The values, inline up to four, in the order the source gave them.
///
/// `bits` has, for each value, the bit [`folded_bit`] picks for it. Two
/// texts equal ignoring case have the same bit, so a list of literals
/// none of whose bits the set has holds none of its values: over a
/// million users, `group in [admins, publishers]` is then one `and` for
/// nearly everyone, where comparing each value with each literal cost
/// more than the rest of the rule. The values can be read but not changed
/// in place, which keeps `bits` true to them.
// `bits` first, beside the `Option`'s tag in the record: deciding reads
// both, and seldom the values after them.
#[derive(Clone, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Set {
    bits: u64,
    values: smallvec::SmallVec<[Text; 4]>,
}

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    /// Adds `value` after the others.
    pub fn push(&mut self, value: Text) {
        self.bits |= folded_bit(&value);
        self.values.push(value);
    }

    /// The union of the values' bits.
    #[inline]
    pub fn bits(&self) -> u64 {
        self.bits
    }

    pub fn as_slice(&self) -> &[Text] {
        &self.values
    }
}

impl Deref for Set {
    type Target = [Text];

    fn deref(&self) -> &[Text] {
        &self.values
    }
}

impl fmt::Debug for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.values.iter()).finish()
    }
}

impl<T: Into<Text>> FromIterator<T> for Set {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Set {
        let mut set = Set::new();
        set.extend(values);
        set
    }
}

impl<T: Into<Text>> Extend<T> for Set {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        for v in values {
            self.push(v.into());
        }
    }
}

impl<'a> IntoIterator for &'a Set {
    type Item = &'a Text;
    type IntoIter = std::slice::Iter<'a, Text>;

    fn into_iter(self) -> Self::IntoIter {
        self.values.iter()
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Set {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.values.len() == N && self.values.iter().zip(other).all(|(a, b)| a == b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Folded;
    use proptest::prelude::*;

    #[test]
    fn keeps_values_in_order_with_their_bits() {
        let set: Set = ["Admins", "readers"].into_iter().collect();
        assert_eq!(set, ["Admins", "readers"]);
        assert_eq!(set.len(), 2);
        assert_eq!(set.bits(), folded_bit("admins") | folded_bit("READERS"));
        assert_eq!(Set::new().bits(), 0);
        assert_eq!(format!("{set:?}"), r#"["Admins", "readers"]"#);
    }

    /// The bits spread: similar names of every length mostly get bits of
    /// their own, or the summary would rule nothing out.
    #[test]
    fn bits_spread_over_similar_names() {
        for stem in ["t", "team-", "department-of-"] {
            let bits = (0..64).fold(0u64, |all, k| all | folded_bit(&format!("{stem}{k}")));
            assert!(bits.count_ones() >= 32, "{stem}: {bits:064b}");
        }
    }

    proptest! {
        /// Whenever a list holds one of the values, their bits meet: the
        /// summary never rules out a set that the list matches. The set's
        /// values are the literals with their case changed at random, so
        /// that matches are the rule, not the exception.
        #[test]
        fn bits_never_rule_out_a_match(
            words in proptest::collection::vec("[a-zA-Z0-9\u{130}\u{212A}\u{17F}é_-]{0,20}", 1..6),
            flips in proptest::collection::vec(any::<u64>(), 6),
            literals in 0..4usize,
            others in proptest::collection::vec("[a-zA-Z\u{130}\u{212A}é]{0,10}", 0..3),
        ) {
            let recase = |w: &String, flips: u64| -> String {
                w.chars()
                    .enumerate()
                    .map(|(k, c)| if flips >> (k % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                    .collect()
            };
            let set: Set = words.iter().zip(&flips).map(|(w, f)| recase(w, *f)).collect();
            let folded: Vec<String> = words.iter().take(literals).map(|w| w.to_lowercase()).chain(others).collect();
            let list = Folded::new(folded.iter().map(String::as_str));
            let held = set.iter().any(|v| list.contains(v));
            prop_assert!(held || literals == 0);
            if held {
                prop_assert!(list.may_hold_any(set.bits()));
            }
        }
    }
}
