//! Problems found while loading a config, each naming the key or environment variable, the
//! bad value and what is accepted.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// Every problem found in one config. `Display` prints one problem per line, in file order.
#[derive(Debug, Error)]
#[error("{}", lines(.errors))]
pub struct ConfigErrors {
    errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// Collects problems and orders them by the line they point at; problems without a line
    /// (environment variables, a missing token) come last.
    pub(super) fn new(mut errors: Vec<ConfigError>) -> Self {
        errors.sort_by_key(|error| error.line().unwrap_or(usize::MAX));
        ConfigErrors { errors }
    }

    /// Returns the problems, in the order `Display` prints them.
    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors::new(vec![error])
    }
}

fn lines(errors: &[ConfigError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// One problem in a config file or in the environment overrides.
///
/// No variant prints the API token: token problems describe the value instead.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error(
        "config file {} not found; create it or pass --config PATH to use another file",
        .path.display()
    )]
    NotFound { path: PathBuf },

    /// The OS error is printed rather than kept as a source, because [`ConfigErrors`] prints
    /// its problems and not their chains.
    #[error("cannot read config file {}: {cause}", .path.display())]
    Unreadable {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },

    #[error(
        "config is empty or contains only whitespace; expected a JSON object such as \
         {{\"api\": {{\"token\": \"...\"}}}}"
    )]
    Empty,

    #[error("top level: expected a JSON object of sections and services, found {found}")]
    NotAnObject { found: String },

    /// A value of the wrong type or outside its range.
    #[error("{at}: expected {expected}, found {found}")]
    Invalid {
        at: Origin,
        expected: String,
        found: String,
    },

    #[error(
        "{at}: unknown key{} Accepted keys: {}",
        unknown_key_hint(.suggestion, .note),
        .accepted.join(", ")
    )]
    UnknownKey {
        at: Origin,
        suggestion: Option<&'static str>,
        /// Explanation for a key that another part of the file accepts.
        note: Option<&'static str>,
        accepted: &'static [&'static str],
    },

    #[error(
        "{at}: duplicate key, first set on line {first_line}; JSON parsers silently keep only \
         one of the values, so remove the other"
    )]
    DuplicateKey { at: Origin, first_line: usize },

    #[error(
        "{at}: invalid service key{} A service key is the Swarm service name \
         `project_service`: lowercase letters, digits, `-` and `_`, with an `_` between \
         project and service name and not at the start or end (for example `shop_api`); \
         the sections are `api`, `global` and `logging`",
        suggestion_hint(.suggestion)
    )]
    InvalidServiceKey {
        at: Origin,
        suggestion: Option<String>,
    },

    #[error(
        "{at}: invalid URL {found}: {reason}; expected an http:// or https:// URL such as \
         http://localhost:3000, optionally with a path prefix"
    )]
    InvalidUrl {
        at: Origin,
        found: String,
        reason: String,
    },

    #[error(
        "api.token: missing; set it in the config file or in the {} environment variable",
        super::ENV_API_TOKEN
    )]
    MissingToken,

    /// A token that cannot be the panel's API token; `reason` describes it without quoting it.
    #[error("{at}: invalid API token: {reason}")]
    InvalidToken { at: Origin, reason: &'static str },

    #[error("{scope}: min {min} is greater than max {max}; min must not exceed max")]
    MinAboveMax {
        scope: Origin,
        min: Sourced<u32>,
        max: Sourced<u32>,
    },

    #[error("{scope}: down {down} is not below up {up}; down must be less than up")]
    DownNotBelowUp {
        scope: Origin,
        down: Sourced<f64>,
        up: Sourced<f64>,
    },

    /// A run sends a write only while its whole timeout fits in the rest of the budget, so a
    /// timeout that fills the budget leaves no write possible.
    #[error(
        "api.timeout_seconds {} is not below global.max_run_seconds {}; a run starts a \
         write only while a whole timeout is left of its budget, so no write could ever be \
         sent. Lower api.timeout_seconds or raise global.max_run_seconds",
        set_at(.timeout),
        set_at(.max_run)
    )]
    TimeoutNotBelowMaxRun {
        timeout: Sourced<f64>,
        max_run: Sourced<f64>,
    },
}

impl ConfigError {
    /// Returns the line of the config file the problem points at, if it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Syntax { line, .. } => Some(*line),
            ConfigError::Invalid { at, .. }
            | ConfigError::UnknownKey { at, .. }
            | ConfigError::DuplicateKey { at, .. }
            | ConfigError::InvalidServiceKey { at, .. }
            | ConfigError::InvalidUrl { at, .. }
            | ConfigError::InvalidToken { at, .. } => at.line(),
            ConfigError::MinAboveMax { scope, .. } | ConfigError::DownNotBelowUp { scope, .. } => {
                scope.line()
            }
            ConfigError::TimeoutNotBelowMaxRun { timeout, max_run } => {
                let line = |value: &Sourced<f64>| value.origin.as_ref().and_then(Origin::line);
                line(timeout).into_iter().chain(line(max_run)).min()
            }
            ConfigError::NotFound { .. }
            | ConfigError::Unreadable { .. }
            | ConfigError::Empty
            | ConfigError::NotAnObject { .. }
            | ConfigError::MissingToken => None,
        }
    }

    /// Returns whether the problem is in an environment variable rather than the config file.
    pub fn is_from_env(&self) -> bool {
        let at = match self {
            ConfigError::Invalid { at, .. }
            | ConfigError::UnknownKey { at, .. }
            | ConfigError::DuplicateKey { at, .. }
            | ConfigError::InvalidServiceKey { at, .. }
            | ConfigError::InvalidUrl { at, .. }
            | ConfigError::InvalidToken { at, .. } => at,
            _ => return false,
        };
        matches!(at, Origin::Env(_))
    }
}

/// Prints a value of the file as `30 (line 2)`, or `30 (default)` when the file does not set it.
fn set_at(value: &Sourced<f64>) -> String {
    match &value.origin {
        Some(Origin::Key {
            line: Some(line), ..
        }) => format!("{} (line {line})", value.value),
        Some(Origin::Key { line: None, .. }) => value.value.to_string(),
        Some(Origin::Env(name)) => format!("{} ({name})", value.value),
        None => format!("{} (default)", value.value),
    }
}

/// Ends the first sentence of an unknown-key message: with the note, the suggestion or a
/// plain full stop.
fn unknown_key_hint(suggestion: &Option<&'static str>, note: &Option<&'static str>) -> String {
    match (note, suggestion) {
        (Some(note), _) => format!("; {note}."),
        (None, Some(word)) => format!("; did you mean `{word}`?"),
        (None, None) => ".".to_owned(),
    }
}

fn suggestion_hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(word) => format!("; did you mean `{word}`?"),
        None => ".".to_owned(),
    }
}

/// The source of a value: a key of the config file or an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A key: its dotted path (`myapp_web.max`) and the line its value starts on.
    Key { path: String, line: Option<usize> },
    /// An environment variable, by name.
    Env(&'static str),
}

impl Origin {
    pub fn line(&self) -> Option<usize> {
        match self {
            Origin::Key { line, .. } => *line,
            Origin::Env(_) => None,
        }
    }
}

/// Prints `line 4: myapp_web.max`, `api.token` or `EASYPANEL_API_URL`, the prefix of a
/// problem.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Key {
                path,
                line: Some(line),
            } => write!(f, "line {line}: {path}"),
            Origin::Key { path, line: None } => f.write_str(path),
            Origin::Env(name) => f.write_str(name),
        }
    }
}

/// A setting's value with where it came from; `origin` is `None` for a built-in default.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Option<Origin>,
}

/// Prints `3 (global.min on line 2)`, `3 (EASYPANEL_API_URL)` or `10 (default)`.
impl<T: fmt::Display> fmt::Display for Sourced<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.value)?;
        match &self.origin {
            Some(Origin::Key {
                path,
                line: Some(line),
            }) => write!(f, "({path} on line {line})"),
            Some(Origin::Key { path, line: None }) => write!(f, "({path})"),
            Some(Origin::Env(name)) => write!(f, "({name})"),
            None => f.write_str("(default)"),
        }
    }
}
