//! Three-valued logic and the comparisons it is built from: case-insensitive
//! text and `*`/`?` globs.

use serde::Serialize;

/// The value of a condition: true, false, or unknown (the data to decide was
/// missing). Unknown is never silently turned into false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    /// `and`: false wins over unknown.
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    /// `or`: true wins over unknown.
    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    /// `not unknown` is unknown.
    #[allow(clippy::should_implement_trait, reason = "reads as the policy's `not`")]
    pub fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    /// A known boolean, or unknown when there is none.
    pub fn known(value: Option<bool>) -> Truth {
        match value {
            Some(true) => Truth::True,
            Some(false) => Truth::False,
            None => Truth::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Truth::True => "true",
            Truth::False => "false",
            Truth::Unknown => "unknown",
        }
    }
}

impl From<bool> for Truth {
    fn from(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// Case-insensitive equality of a value and an already lower-cased literal.
pub fn eq_folded(value: &str, folded: &str) -> bool {
    if value.len() == folded.len() && value.eq_ignore_ascii_case(folded) {
        return true;
    }
    // ASCII lower-casing keeps the length, so an ASCII value of another
    // length cannot match; only other text needs the full lower-casing.
    !value.is_ascii() && value.to_lowercase() == folded
}

/// Whether lower-casing any text that is not ASCII could give exactly
/// `folded` (already lower-cased), so that comparing bytes, ignoring ASCII
/// case, would not be enough. Of every character outside ASCII, only the
/// Kelvin sign lower-cases to ASCII alone (`k`), and only the dotted capital
/// I lower-cases to something that starts with ASCII (`i` and a combining
/// dot): a test below holds Unicode to that. So ASCII without `k` compares
/// as bytes, and when it may end where the dotted I's `i` would, the
/// caller asks with `open_end`.
fn needs_unicode(folded: &str, open_end: bool) -> bool {
    !folded.is_ascii() || folded.contains('k') || (open_end && folded.ends_with('i'))
}

/// A list of lower-cased literals that text is compared with, ignoring
/// case, prepared once: most values are told apart by their length alone,
/// with no look at their characters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Folded {
    /// Bit `n` is set when a literal in `bytes` is `n` bytes long.
    lengths: u64,
    /// Literals compared as bytes (see `needs_unicode`), all under 64 bytes.
    bytes: Vec<String>,
    /// The others, compared with `eq_folded`.
    unicode: Vec<String>,
    /// The [`folded_bit`]s of `bytes`; all bits when `unicode` has any.
    bits: u64,
}

impl Folded {
    pub fn new<'a>(literals: impl IntoIterator<Item = &'a str>) -> Folded {
        let mut f = Folded::default();
        for lit in literals {
            match u32::try_from(lit.len()) {
                Ok(n) if n < 64 && !needs_unicode(lit, false) => {
                    f.lengths |= 1 << n;
                    f.bits |= folded_bit(lit);
                    f.bytes.push(lit.to_string());
                }
                _ => {
                    f.bits = u64::MAX;
                    f.unicode.push(lit.to_string());
                }
            }
        }
        f
    }

    /// Whether a set whose values' [`folded_bit`]s are `bits` may hold one
    /// of the literals; when not, none of its values is among them.
    #[inline]
    pub fn may_hold_any(&self, bits: u64) -> bool {
        self.bits & bits != 0
    }

    /// Whether `value` equals one of the literals, ignoring case; the same
    /// answer as `eq_folded` with each.
    #[inline]
    pub fn contains(&self, value: &str) -> bool {
        let n = value.len();
        let by_length = n < 64 && (self.lengths >> n) & 1 == 1;
        (by_length
            && self
                .bytes
                .iter()
                .any(|lit| lit.len() == n && value.eq_ignore_ascii_case(lit)))
            || self.unicode.iter().any(|lit| eq_folded(value, lit))
    }
}

/// One of 64 bits for `text`, the same for every text equal to it ignoring
/// ASCII case: a hash of its bytes with `A`–`Z` lowered. A text equals a
/// literal compared as bytes (see [`Folded`]) only when it equals it
/// ignoring ASCII case, so the two always have the same bit.
pub fn folded_bit(text: &str) -> u64 {
    const MIX: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes = text.as_bytes();
    let n = bytes.len();
    let byte = |at: usize| u64::from(bytes.get(at).copied().unwrap_or_default());
    let mut h = n as u64;
    let mut mix = |x: u64| h = (h ^ lower_ascii(x)).wrapping_mul(MIX).rotate_left(29);
    // Every byte is read, some of them twice where the pieces overlap;
    // which bytes go where depends on the length alone, so texts equal
    // but for case make the same words.
    match n {
        0 => {}
        1..=3 => mix(byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16),
        4..=8 => mix(le::<4>(bytes, 0) | le::<4>(bytes, n - 4) << 32),
        _ => {
            let mut at = 0;
            while at + 8 < n {
                mix(le::<8>(bytes, at));
                at += 8;
            }
            mix(le::<8>(bytes, n - 8));
        }
    }
    1 << (h.wrapping_mul(MIX) >> 58)
}

/// The `N` (at most 8) bytes of `bytes` from `at`, little-endian; 0 if
/// there are fewer.
fn le<const N: usize>(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    if let (Some(to), Some(from)) = (word.get_mut(..N), bytes.get(at..at + N)) {
        to.copy_from_slice(from);
    }
    u64::from_le_bytes(word)
}

/// `x`'s eight bytes with `A`..=`Z` lowered, all at once: a byte of
/// `A`..=`Z` (high bit clear, at least 0x41, at most 0x5A) gains 0x20; no
/// sum carries into the next byte, as each is at most 0x7F + 0x3F.
fn lower_ascii(x: u64) -> u64 {
    const LOW: u64 = 0x0101_0101_0101_0101;
    let seven = x & (0x7F * LOW);
    let from_a = seven + 0x3F * LOW;
    let past_z = seven + 0x25 * LOW;
    let upper = from_a & !past_z & !x & (0x80 * LOW);
    x | upper >> 2
}

/// A `matches` pattern, prepared once: the common forms (`*@domain`,
/// `prefix*`, `*part*`, no wildcard at all) are plain comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    shape: GlobForm,
    /// The shape's literal compares as bytes even with text that is not
    /// ASCII (see `needs_unicode`).
    on_bytes: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum GlobForm {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Anything with `?` or inner `*`.
    Wild(Vec<char>),
}

impl Glob {
    /// Prepares a pattern as written (it is lower-cased here).
    pub fn new(pattern: &str) -> Glob {
        let shape = GlobForm::new(pattern);
        let on_bytes = match &shape {
            GlobForm::Exact(p) | GlobForm::Suffix(p) => !needs_unicode(p, false),
            GlobForm::Prefix(p) | GlobForm::Contains(p) => !needs_unicode(p, true),
            GlobForm::Wild(_) => false,
        };
        Glob { shape, on_bytes }
    }

    /// Whole-text match, ignoring case.
    pub fn matches(&self, text: &str) -> bool {
        let ascii_ci = |a: &[u8], b: &[u8]| a.eq_ignore_ascii_case(b);
        let t = text.as_bytes();
        match &self.shape {
            // Lower-casing text that is not ASCII may change its length,
            // unless the literal rules that out: the general matcher.
            _ if !self.on_bytes && !text.is_ascii() => glob_match(text, &self.chars()),
            GlobForm::Exact(p) => ascii_ci(t, p.as_bytes()),
            GlobForm::Prefix(p) => t.get(..p.len()).is_some_and(|h| ascii_ci(h, p.as_bytes())),
            GlobForm::Suffix(p) => {
                t.len() >= p.len() && t.get(t.len() - p.len()..).is_some_and(|h| ascii_ci(h, p.as_bytes()))
            }
            GlobForm::Contains(p) => t.windows(p.len()).any(|w| ascii_ci(w, p.as_bytes())),
            GlobForm::Wild(p) => glob_match(text, p),
        }
    }

    fn chars(&self) -> Vec<char> {
        match &self.shape {
            GlobForm::Exact(p) => p.chars().collect(),
            GlobForm::Prefix(p) => p.chars().chain(['*']).collect(),
            GlobForm::Suffix(p) => ['*'].into_iter().chain(p.chars()).collect(),
            GlobForm::Contains(p) => ['*'].into_iter().chain(p.chars()).chain(['*']).collect(),
            GlobForm::Wild(p) => p.clone(),
        }
    }
}

impl GlobForm {
    fn new(pattern: &str) -> GlobForm {
        let p = pattern.to_lowercase();
        let inner = |s: &str| !s.contains(['*', '?']);
        let (starts, ends) = (p.starts_with('*'), p.ends_with('*') && p.len() > 1);
        let core = p.trim_start_matches('*').trim_end_matches('*');
        // Only ASCII literal parts: lower-casing other text can change its
        // length, which the byte comparisons assume it does not.
        if !core.is_ascii() || !inner(core) || core.is_empty() {
            return GlobForm::Wild(p.chars().collect());
        }
        let stars = |s: &str, side: &str| s.len() - s.trim_start_matches('*').len() <= 1 && !side.is_empty();
        match (starts, ends) {
            (false, false) => GlobForm::Exact(core.to_string()),
            (false, true) if p.matches('*').count() == 1 => GlobForm::Prefix(core.to_string()),
            (true, false) if stars(&p, core) => GlobForm::Suffix(core.to_string()),
            (true, true) if p.matches('*').count() == 2 => GlobForm::Contains(core.to_string()),
            _ => GlobForm::Wild(p.chars().collect()),
        }
    }
}

/// Whole-text glob match, ignoring case: `*` is any run of characters, `?`
/// one character. `pattern` is already lower-cased.
pub fn glob_match(text: &str, pattern: &[char]) -> bool {
    if text.is_ascii() && pattern.iter().all(char::is_ascii) {
        // The common case, without lower-casing into a new buffer.
        return wildcard(text.as_bytes(), pattern, |b, c| {
            c == '?' || char::from(b.to_ascii_lowercase()) == c
        });
    }
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    wildcard(&text, pattern, |t, c| c == '?' || t == c)
}

/// Greedy wildcard matching with one backtrack point: linear for one `*`,
/// and never exponential.
fn wildcard<T: Copy>(text: &[T], pattern: &[char], matches: impl Fn(T, char) -> bool) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = text.get(t) {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if matches(tc, c) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Truth::{False as F, True as T, Unknown as U};

    #[test]
    fn truth_tables() {
        let all = [T, F, U];
        let and = [[T, F, U], [F, F, F], [U, F, U]];
        let or = [[T, T, T], [T, F, U], [T, U, U]];
        for (i, a) in all.iter().enumerate() {
            for (j, b) in all.iter().enumerate() {
                assert_eq!(a.and(*b), and[i][j], "{a:?} and {b:?}");
                assert_eq!(a.or(*b), or[i][j], "{a:?} or {b:?}");
            }
        }
        assert_eq!((T.not(), F.not(), U.not()), (F, T, U));
    }

    #[test]
    fn globs_match_whole_text_ignoring_case() {
        let g = |p: &str| p.to_lowercase().chars().collect::<Vec<_>>();
        assert!(glob_match("Ana@Vendor.Example", &g("*@vendor.example")));
        assert!(!glob_match("ana@vendor.example.org", &g("*@vendor.example")));
        assert!(glob_match("ext-42-bob", &g("ext-??-*")));
        assert!(!glob_match("ext-4-bob", &g("ext-??-*")));
        assert!(glob_match("", &g("*")));
        assert!(!glob_match("a", &g("")));
        assert!(glob_match("abcabcabd", &g("*abd")));
        assert!(glob_match("ÉLÈVE", &g("élève")));
        assert!(glob_match("a*b", &g("a*b")));
    }

    #[test]
    fn prepared_globs_match_as_the_general_matcher_does() {
        let patterns = [
            "*@vendor.example",
            "ext-*",
            "*admin*",
            "exact",
            "*",
            "**",
            "a*b",
            "?x*",
            "*É*",
            "",
            "x**",
            "**x",
            "i*",
            "*ai*",
            "*k",
            "k*",
        ];
        let texts = [
            "ana@vendor.example",
            "ANA@VENDOR.EXAMPLE",
            "ext-7",
            "EXT-",
            "superAdmins",
            "exact",
            "Exact",
            "x",
            "",
            "ÉLÈVE",
            "axb",
            "xx",
            "ab",
            "\u{130}",
            "A\u{130}B",
            "\u{212A}",
        ];
        for p in patterns {
            let glob = Glob::new(p);
            let chars: Vec<char> = p.to_lowercase().chars().collect();
            for t in texts {
                assert_eq!(glob.matches(t), glob_match(t, &chars), "{p:?} on {t:?} ({glob:?})");
            }
        }
        assert!(matches!(Glob::new("*@Vendor.example").shape, GlobForm::Suffix(_)));
    }

    #[test]
    fn folded_equality() {
        assert!(eq_folded("Admins", "admins"));
        assert!(eq_folded("ÉQUIPE", "équipe"));
        assert!(!eq_folded("admin", "admins"));
        let list = Folded::new(["admins", "k"]);
        assert!(list.contains("ADMINS") && list.contains("\u{212A}") && !list.contains("admin"));
    }

    /// `needs_unicode` rests on these facts of Unicode's lower-casing.
    #[test]
    fn only_two_characters_outside_ascii_lower_case_into_it() {
        let into_ascii: Vec<(char, String)> = (0x80..=0x10FFFF_u32)
            .filter_map(char::from_u32)
            .map(|c| (c, c.to_lowercase().collect::<String>()))
            .filter(|(_, l)| l.chars().any(|c| c.is_ascii()))
            .collect();
        let expected = vec![('\u{130}', "i\u{307}".to_string()), ('\u{212A}', "k".to_string())];
        assert_eq!(into_ascii, expected);
    }

    /// Text made of the characters that make case-folding hard.
    fn tricky() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::string::string_regex("[aikAIK\u{130}\u{212A}\u{307}\u{C9}\u{E9}@.*?]{0,6}").unwrap()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        #[test]
        fn folded_lists_agree_with_folded_equality(
            lits in proptest::collection::vec(tricky(), 0..4),
            value in tricky(),
            listed in proptest::bool::ANY,
        ) {
            // Half the time the value is listed, lower-cased: most random
            // pairs would not be equal at all.
            let listed = listed.then(|| value.to_lowercase());
            let lits: Vec<String> = lits.iter().map(|l| l.to_lowercase()).chain(listed).collect();
            let list = Folded::new(lits.iter().map(String::as_str));
            let expected = lits.iter().any(|l| eq_folded(&value, l));
            proptest::prop_assert_eq!(list.contains(&value), expected, "{:?} in {:?}", value, lits);
        }

        #[test]
        fn prepared_globs_agree_with_the_general_matcher(
            pattern in tricky(),
            text in tricky(),
            around in "[*]?[a@]?[*]?",
            from in 0..8_usize,
            to in 0..8_usize,
        ) {
            // As often as not, a pattern made of a piece of the text
            // lower-cased, which it may match and which may end inside
            // what a character lower-cases to.
            let piece: String = text.to_lowercase().chars().skip(from).take(to).collect();
            let pattern = if around.is_empty() { pattern } else { around.replacen('a', &piece, 1) };
            let chars: Vec<char> = pattern.to_lowercase().chars().collect();
            let glob = Glob::new(&pattern);
            proptest::prop_assert_eq!(glob.matches(&text), glob_match(&text, &chars), "{:?} on {:?} ({:?})", pattern, text, glob);
        }
    }
}
