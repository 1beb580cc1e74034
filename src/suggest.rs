//! "Did you mean ...?": the closest candidate within a small edit distance.

/// The candidate closest to `word`, if any is close enough to be a likely
/// misspelling (at most a third of the word's length, and at most 3 edits).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    let cap = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&word_lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= cap)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
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
    fn offers_nothing_for_an_unrelated_word() {
        assert_eq!(closest("banana", FIELDS.iter().copied()), None);
        assert_eq!(closest("x", FIELDS.iter().copied()), None);
    }
}
