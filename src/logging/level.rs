//! Level words, the CRITICAL marker and the rule deciding which events are written.

use tracing::{Level, Metadata};

use crate::config::LogLevel;

/// Name of the bool field that raises an ERROR event to CRITICAL.
pub(crate) const CRITICAL_FIELD: &str = "critical";

/// Returns the word written for a level, as operators name levels in the config file.
pub(crate) fn level_word(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "DEBUG",
        LogLevel::Info => "INFO",
        LogLevel::Warning => "WARNING",
        LogLevel::Error => "ERROR",
        LogLevel::Critical => "CRITICAL",
    }
}

/// Returns the level an event is written at, or `None` for TRACE, which no setting shows.
///
/// `is_critical` is whether the event carries `critical = true`, and it only counts on ERROR
/// events.
pub(crate) fn event_level(level: &Level, is_critical: bool) -> Option<LogLevel> {
    match *level {
        Level::TRACE => None,
        Level::DEBUG => Some(LogLevel::Debug),
        Level::INFO => Some(LogLevel::Info),
        Level::WARN => Some(LogLevel::Warning),
        Level::ERROR if is_critical => Some(LogLevel::Critical),
        Level::ERROR => Some(LogLevel::Error),
    }
}

/// Returns whether a target belongs to this crate: the library and the binary are both named
/// `autoscaler`.
pub(crate) fn is_own_target(target: &str) -> bool {
    target == "autoscaler" || target.starts_with("autoscaler::")
}

/// Returns the lowest level written for events of `target`.
///
/// Dependencies (reqwest, hyper, rustls) are held at WARNING or above, so DEBUG shows this
/// crate's decisions and requests without the HTTP stack's internals.
pub(crate) fn threshold(configured: LogLevel, target: &str) -> LogLevel {
    if is_own_target(target) {
        configured
    } else {
        configured.max(LogLevel::Warning)
    }
}

/// Returns whether an event at `level` from `target` is written under `configured`.
pub(crate) fn is_written(configured: LogLevel, target: &str, level: LogLevel) -> bool {
    level >= threshold(configured, target)
}

/// Returns whether a callsite may produce output, before its field values are known.
///
/// An ERROR callsite passes at CRITICAL, because the marker is a field value and is checked
/// per event. This crate's spans pass from DEBUG up at every setting: their fields are added
/// to the events inside them, so an INFO line still shows the `service_name` of a DEBUG span.
pub(crate) fn is_callsite_enabled(configured: LogLevel, metadata: &Metadata<'_>) -> bool {
    let target = metadata.target();

    if metadata.is_span() {
        return is_own_target(target) && *metadata.level() != Level::TRACE;
    }

    match event_level(metadata.level(), true) {
        Some(highest) => is_written(configured, target, highest),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "autoscaler::engine";
    const DEPENDENCY: &str = "hyper::client";

    /// Returns the words of the levels written under `configured`, for events of `target`.
    fn written_words(configured: LogLevel, target: &str) -> Vec<&'static str> {
        let events = [
            (Level::TRACE, false),
            (Level::DEBUG, false),
            (Level::INFO, false),
            (Level::WARN, false),
            (Level::ERROR, false),
            (Level::ERROR, true),
        ];

        events
            .iter()
            .filter_map(|(level, is_critical)| event_level(level, *is_critical))
            .filter(|level| is_written(configured, target, *level))
            .map(level_word)
            .collect()
    }

    #[test]
    fn each_setting_writes_its_level_and_above() {
        let table = [
            (
                LogLevel::Debug,
                vec!["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
            ),
            (LogLevel::Info, vec!["INFO", "WARNING", "ERROR", "CRITICAL"]),
            (LogLevel::Warning, vec!["WARNING", "ERROR", "CRITICAL"]),
            (LogLevel::Error, vec!["ERROR", "CRITICAL"]),
            (LogLevel::Critical, vec!["CRITICAL"]),
        ];

        for (configured, expected) in table {
            assert_eq!(
                written_words(configured, OWN),
                expected,
                "at {configured:?}"
            );
        }
    }

    #[test]
    fn dependencies_stay_at_warning_or_above() {
        let table = [
            (LogLevel::Debug, vec!["WARNING", "ERROR", "CRITICAL"]),
            (LogLevel::Info, vec!["WARNING", "ERROR", "CRITICAL"]),
            (LogLevel::Warning, vec!["WARNING", "ERROR", "CRITICAL"]),
            (LogLevel::Error, vec!["ERROR", "CRITICAL"]),
            (LogLevel::Critical, vec!["CRITICAL"]),
        ];

        for (configured, expected) in table {
            assert_eq!(
                written_words(configured, DEPENDENCY),
                expected,
                "at {configured:?}"
            );
        }
    }

    #[test]
    fn critical_needs_error_level() {
        assert_eq!(event_level(&Level::ERROR, true), Some(LogLevel::Critical));
        assert_eq!(event_level(&Level::WARN, true), Some(LogLevel::Warning));
        assert_eq!(event_level(&Level::ERROR, false), Some(LogLevel::Error));
    }

    #[test]
    fn own_target_matches_crate_paths_only() {
        assert!(is_own_target("autoscaler"));
        assert!(is_own_target("autoscaler::easypanel::client"));
        assert!(!is_own_target("autoscaler_helper"));
        assert!(!is_own_target("reqwest::connect"));
        assert!(!is_own_target("log"));
    }
}
