//! "Did you mean" suggestions for misspelled keys.

/// Returns the candidate `word` most likely misspells: one that starts with `word`
/// (`cooldown_up` for `cooldown_up_minutes`), else the closest by edit distance within a third
/// of the candidate's length (rounded up).
pub(super) fn closest(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let word = word.to_lowercase();

    // Candidates that extend the word rank before the others, then by distance.
    candidates
        .iter()
        .map(|candidate| {
            let is_prefix = word.len() >= 3 && candidate.starts_with(word.as_str());
            (!is_prefix, edit_distance(&word, candidate), *candidate)
        })
        .filter(|(is_not_prefix, distance, candidate)| {
            !is_not_prefix || *distance <= candidate.len().div_ceil(3)
        })
        .min_by_key(|(is_not_prefix, distance, _)| (*is_not_prefix, *distance))
        .map(|(_, _, candidate)| candidate)
}

/// Returns the Levenshtein distance: the fewest single-character insertions, deletions and
/// substitutions that turn `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();

    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }

    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &[
        "min",
        "max",
        "up",
        "down",
        "cooldown_minutes",
        "cooldown_up_minutes",
    ];

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("max", "max"), 0);
        assert_eq!(edit_distance("maxx", "max"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "up"), 2);
    }

    #[test]
    fn typo_suggests_closest_key() {
        assert_eq!(closest("maxx", KEYS), Some("max"));
        assert_eq!(closest("Max", KEYS), Some("max"));
        assert_eq!(closest("dwon", KEYS), Some("down"));
    }

    #[test]
    fn prefix_suggests_longer_key() {
        assert_eq!(closest("cooldown", KEYS), Some("cooldown_minutes"));
        assert_eq!(closest("cooldown_up", KEYS), Some("cooldown_up_minutes"));
    }

    #[test]
    fn unrelated_word_suggests_nothing() {
        assert_eq!(closest("replicas", KEYS), None);
    }
}
