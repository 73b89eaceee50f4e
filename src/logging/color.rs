//! Console colors: when to use them and how the level word is painted.

use std::ffi::OsStr;

use crate::config::LogLevel;

/// Whether console output is colored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Color when stderr is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Returns whether to color, reading the terminal state and `NO_COLOR` only for `Auto`.
    pub(crate) fn resolve(self, is_terminal: impl FnOnce() -> bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                should_color(is_terminal(), std::env::var_os("NO_COLOR").as_deref())
            }
        }
    }
}

/// Returns whether a stream gets colors: only a terminal, and only while `NO_COLOR` is unset
/// or empty (no-color.org: any non-empty value turns colors off).
pub(crate) fn should_color(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    let is_no_color_set = no_color.is_some_and(|value| !value.is_empty());
    is_terminal && !is_no_color_set
}

/// Returns the ANSI SGR color code of a level word.
fn color_code(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "36",
        LogLevel::Info => "32",
        LogLevel::Warning => "33",
        LogLevel::Error => "31",
        LogLevel::Critical => "35",
    }
}

/// Appends `word` to `out`, wrapped in the color of `level`.
pub(crate) fn push_painted(out: &mut String, level: LogLevel, word: &str) {
    out.push_str("\x1b[");
    out.push_str(color_code(level));
    out.push('m');
    out.push_str(word);
    out.push_str("\x1b[0m");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_only_on_terminal_without_no_color() {
        let table: [(bool, Option<&str>, bool); 6] = [
            (true, None, true),
            (true, Some(""), true),
            (true, Some("1"), false),
            (true, Some("false"), false),
            (false, None, false),
            (false, Some("1"), false),
        ];

        for (is_terminal, no_color, expected) in table {
            assert_eq!(
                should_color(is_terminal, no_color.map(OsStr::new)),
                expected,
                "is_terminal={is_terminal} NO_COLOR={no_color:?}"
            );
        }
    }

    #[test]
    fn forced_choices_ignore_the_terminal() {
        assert!(ColorChoice::Always.resolve(|| false));
        assert!(!ColorChoice::Never.resolve(|| true));
    }

    #[test]
    fn painted_word_is_wrapped_in_its_color() {
        let mut out = String::new();

        push_painted(&mut out, LogLevel::Warning, "WARNING");

        assert_eq!(out, "\x1b[33mWARNING\x1b[0m");
    }
}
