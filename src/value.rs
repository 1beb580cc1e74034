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

/// A `matches` pattern, prepared once: the common shapes (`*@domain`,
/// `prefix*`, `*part*`, no wildcard at all) are plain comparisons.
#[derive(Debug, Clone, PartialEq)]
pub enum Glob {
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
        let p = pattern.to_lowercase();
        let inner = |s: &str| !s.contains(['*', '?']);
        let (starts, ends) = (p.starts_with('*'), p.ends_with('*') && p.len() > 1);
        let core = p.trim_start_matches('*').trim_end_matches('*');
        // Only ASCII literal parts: lower-casing other text can change its
        // length, which the byte comparisons below assume it does not.
        if !core.is_ascii() || !inner(core) || core.is_empty() {
            return Glob::Wild(p.chars().collect());
        }
        let stars = |s: &str, side: &str| s.len() - s.trim_start_matches('*').len() <= 1 && !side.is_empty();
        match (starts, ends) {
            (false, false) => Glob::Exact(core.to_string()),
            (false, true) if p.matches('*').count() == 1 => Glob::Prefix(core.to_string()),
            (true, false) if stars(&p, core) => Glob::Suffix(core.to_string()),
            (true, true) if p.matches('*').count() == 2 => Glob::Contains(core.to_string()),
            _ => Glob::Wild(p.chars().collect()),
        }
    }

    /// Whole-text match, ignoring case.
    pub fn matches(&self, text: &str) -> bool {
        let ascii_ci = |a: &[u8], b: &[u8]| a.eq_ignore_ascii_case(b);
        let t = text.as_bytes();
        match self {
            // Non-ASCII text may lower-case to other lengths: the general
            // matcher handles it.
            _ if !text.is_ascii() => glob_match(text, &self.chars()),
            Glob::Exact(p) => ascii_ci(t, p.as_bytes()),
            Glob::Prefix(p) => t.get(..p.len()).is_some_and(|h| ascii_ci(h, p.as_bytes())),
            Glob::Suffix(p) => {
                t.len() >= p.len() && t.get(t.len() - p.len()..).is_some_and(|h| ascii_ci(h, p.as_bytes()))
            }
            Glob::Contains(p) => t.windows(p.len()).any(|w| ascii_ci(w, p.as_bytes())),
            Glob::Wild(p) => glob_match(text, p),
        }
    }

    fn chars(&self) -> Vec<char> {
        match self {
            Glob::Exact(p) => p.chars().collect(),
            Glob::Prefix(p) => p.chars().chain(['*']).collect(),
            Glob::Suffix(p) => ['*'].into_iter().chain(p.chars()).collect(),
            Glob::Contains(p) => ['*'].into_iter().chain(p.chars()).chain(['*']).collect(),
            Glob::Wild(p) => p.clone(),
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
        ];
        for p in patterns {
            let glob = Glob::new(p);
            let chars: Vec<char> = p.to_lowercase().chars().collect();
            for t in texts {
                assert_eq!(glob.matches(t), glob_match(t, &chars), "{p:?} on {t:?} ({glob:?})");
            }
        }
        assert!(matches!(Glob::new("*@Vendor.example"), Glob::Suffix(_)));
    }

    #[test]
    fn folded_equality() {
        assert!(eq_folded("Admins", "admins"));
        assert!(eq_folded("ÉQUIPE", "équipe"));
        assert!(!eq_folded("admin", "admins"));
    }
}
