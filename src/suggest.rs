//! "Did you mean ...?": the closest candidate within a small edit distance.

/// Names longer than this (in characters) are never compared: no name of
/// the language is nearly so long, and the edit distance of two texts
/// costs the product of their lengths.
const LONGEST: usize = 128;

/// The candidate closest to `word`, if any is close enough to be a likely
/// misspelling (at most a third of the word's length, and at most 3 edits).
/// Only candidates of a plausible length are compared: the distance is at
/// least the difference in length.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut unbounded = usize::MAX;
    closest_within(word, candidates, &mut unbounded)
}

/// As [`closest`], comparing at most `budget` candidates (and counting
/// them off it); `None` if that is not enough.
pub fn closest_within<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    budget: &mut usize,
) -> Option<&'a str> {
    // Counting stops past the longest name: a huge word costs no more.
    let len = word.chars().take(LONGEST + 1).count();
    if len > LONGEST {
        return None;
    }
    let cap = (len / 3).clamp(1, 3);
    let word = word.to_lowercase();
    let word_len = word.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        // Its length lower-cased, without lower-casing plain ASCII.
        let n = if c.is_ascii() {
            c.len()
        } else if c.chars().nth(LONGEST).is_some() {
            continue;
        } else {
            c.to_lowercase().chars().count()
        };
        if n > LONGEST || n.abs_diff(word_len) > cap {
            continue;
        }
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let d = strsim::damerau_levenshtein(&word, &c.to_lowercase());
        if d <= cap && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean `x`?` for a help line.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["group", "joined", "last_login", "is_admin"];

    #[test]
    fn finds_a_misspelling() {
        assert_eq!(closest("grop", FIELDS.iter().copied()), Some("group"));
        assert_eq!(closest("last_logni", FIELDS.iter().copied()), Some("last_login"));
        assert_eq!(closest("Joined", FIELDS.iter().copied()), Some("joined"));
    }

    #[test]
    fn never_compares_huge_words() {
        let huge = "x".repeat(20 << 20);
        let t = std::time::Instant::now();
        assert_eq!(closest(&huge, FIELDS.iter().copied()), None);
        assert_eq!(closest("group", [huge.as_str(), "grop"]), Some("grop"));
        // Comparing 20 MB with itself would take hours.
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn offers_nothing_for_an_unrelated_word() {
        assert_eq!(closest("banana", FIELDS.iter().copied()), None);
        assert_eq!(closest("x", FIELDS.iter().copied()), None);
    }
}
