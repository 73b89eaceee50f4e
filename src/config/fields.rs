//! Typed reading of raw values. Each reader records a problem and returns `None` when the
//! value does not fit, so that one pass over the file finds every problem.

use super::errors::{ConfigError, Origin};
use super::raw::{line_of, Entry, Node, Spanned};
use super::suggest;

/// Reads values out of one parsed document and collects the problems found.
pub(super) struct Reader<'a> {
    document: &'a str,
    pub errors: Vec<ConfigError>,
}

/// An integer setting's accepted range.
#[derive(Clone, Copy)]
pub(super) struct IntegerRange {
    pub min: u64,
    pub max: u64,
}

/// A number setting's accepted range, with its unit for messages ("a number of seconds").
#[derive(Clone, Copy)]
pub(super) struct NumberRange {
    pub noun: &'static str,
    pub min: f64,
    /// Whether `min` itself is rejected, as for a timeout of zero.
    pub min_excluded: bool,
    pub max: f64,
}

impl IntegerRange {
    /// Describes the range. A maximum that is only the limit of the target type is left out
    /// unless `value` exceeds it.
    fn describe(&self, value: &Node<'_>) -> String {
        let is_type_limit = self.max == u64::from(u32::MAX) || self.max == u64::MAX;
        let is_above_max = matches!(value, Node::Integer(number) if *number > i128::from(self.max));

        if is_type_limit && !is_above_max {
            format!("an integer of at least {}", self.min)
        } else {
            format!("an integer from {} to {}", self.min, self.max)
        }
    }
}

impl NumberRange {
    fn describe(&self) -> String {
        if self.min_excluded {
            format!(
                "{} greater than {} and at most {}",
                self.noun, self.min, self.max
            )
        } else {
            format!("{} from {} to {}", self.noun, self.min, self.max)
        }
    }

    fn contains(&self, value: f64) -> bool {
        let above_min = if self.min_excluded {
            value > self.min
        } else {
            value >= self.min
        };
        above_min && value <= self.max
    }
}

/// An object of the config file and its dotted path.
pub(super) struct Section<'v, 'a> {
    pub path: String,
    pub entries: &'v [Entry<'a>],
}

impl<'v, 'a> Section<'v, 'a> {
    /// Returns the first value set for `key` and its dotted path. Later values of a repeated
    /// key are reported as duplicates elsewhere and otherwise ignored.
    pub fn get(&self, key: &str) -> Option<(String, &'v Spanned<'a>)> {
        self.entries
            .iter()
            .find(|entry| entry.key == key)
            .map(|entry| (key_path(&self.path, &entry.key), &entry.value))
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|entry| entry.key == key)
    }
}

/// Joins a key to its parent's path; a key that is not a plain word is quoted as in JSON.
pub(super) fn key_path(parent: &str, key: &str) -> String {
    let is_plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if is_plain {
        key.to_owned()
    } else {
        serde_json::to_string(key).unwrap_or_else(|_| key.to_owned())
    };

    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

impl<'a> Reader<'a> {
    pub fn new(document: &'a str) -> Self {
        Reader {
            document,
            errors: Vec::new(),
        }
    }

    pub fn push(&mut self, error: ConfigError) {
        self.errors.push(error);
    }

    /// Returns the origin of a value: its key path and the line it starts on.
    pub fn origin(&self, path: &str, value: &Spanned<'_>) -> Origin {
        Origin::Key {
            path: path.to_owned(),
            line: Some(self.line(value)),
        }
    }

    pub fn line(&self, value: &Spanned<'_>) -> usize {
        line_of(self.document, value.text)
    }

    /// Records that the value at `path` is not `expected`.
    pub fn invalid(&mut self, path: &str, value: &Spanned<'_>, expected: impl Into<String>) {
        let error = ConfigError::Invalid {
            at: self.origin(path, value),
            expected: expected.into(),
            found: value.shown(),
        };
        self.push(error);
    }

    /// Returns the entries of an object; `expected` describes it for the message.
    pub fn object<'v, 'd>(
        &mut self,
        path: &str,
        value: &'v Spanned<'d>,
        expected: &str,
    ) -> Option<Section<'v, 'd>> {
        match &value.node {
            Node::Object(entries) => Some(Section {
                path: path.to_owned(),
                entries,
            }),
            _ => {
                self.invalid(path, value, expected);
                None
            }
        }
    }

    pub fn boolean(&mut self, path: &str, value: &Spanned<'_>) -> Option<bool> {
        match value.node {
            Node::Bool(flag) => Some(flag),
            _ => {
                self.invalid(path, value, "true or false");
                None
            }
        }
    }

    pub fn integer(&mut self, path: &str, value: &Spanned<'_>, range: IntegerRange) -> Option<u64> {
        let accepted = match value.node {
            Node::Integer(number) => u64::try_from(number)
                .ok()
                .filter(|number| (range.min..=range.max).contains(number)),
            _ => None,
        };
        if accepted.is_none() {
            self.invalid(path, value, range.describe(&value.node));
        }
        accepted
    }

    /// Reads a JSON number, with or without a fraction, inside `range`.
    pub fn number(&mut self, path: &str, value: &Spanned<'_>, range: NumberRange) -> Option<f64> {
        let number = match value.node {
            Node::Integer(number) => Some(number as f64),
            Node::Float(number) => Some(number),
            _ => None,
        };
        let accepted = number.filter(|number| range.contains(*number));
        if accepted.is_none() {
            self.invalid(path, value, range.describe());
        }
        accepted
    }

    pub fn string<'v>(&mut self, path: &str, value: &'v Spanned<'_>) -> Option<&'v str> {
        match &value.node {
            Node::String(text) => Some(text),
            _ => {
                self.invalid(path, value, "a string");
                None
            }
        }
    }

    /// Reads one of a fixed set of words. With `ignore_case`, `info` and `Info` match `INFO`.
    pub fn word<T: Copy>(
        &mut self,
        path: &str,
        value: &Spanned<'_>,
        words: &[(&'static str, T)],
        ignore_case: bool,
    ) -> Option<T> {
        let matched = match &value.node {
            Node::String(text) => words
                .iter()
                .find(|(word, _)| {
                    if ignore_case {
                        word.eq_ignore_ascii_case(text)
                    } else {
                        word == text
                    }
                })
                .map(|(_, choice)| *choice),
            _ => None,
        };

        if matched.is_none() {
            let names: Vec<&str> = words.iter().map(|(word, _)| *word).collect();
            let any_case = if ignore_case { " (in any case)" } else { "" };
            let expected = format!("one of {}{any_case}", names.join(", "));
            self.invalid(path, value, expected);
        }
        matched
    }

    /// Reports every key of `section` that is not in `accepted`, once per key, with a
    /// suggestion when one is close. `note_for` may explain a key accepted elsewhere.
    pub fn check_keys(
        &mut self,
        section: &Section<'_, '_>,
        accepted: &'static [&'static str],
        note_for: impl Fn(&str) -> Option<&'static str>,
    ) {
        for (index, entry) in section.entries.iter().enumerate() {
            let is_repeat = section.entries[..index]
                .iter()
                .any(|earlier| earlier.key == entry.key);
            if accepted.contains(&entry.key.as_str()) || is_repeat {
                continue;
            }

            let note = note_for(&entry.key);
            let suggestion = if note.is_some() {
                None
            } else {
                suggest::closest(&entry.key, accepted)
            };
            let error = ConfigError::UnknownKey {
                at: self.origin(&key_path(&section.path, &entry.key), &entry.value),
                suggestion,
                note,
                accepted,
            };
            self.push(error);
        }
    }
}
