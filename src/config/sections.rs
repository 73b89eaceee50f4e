//! The `api`, `global` and `logging` sections: their keys, defaults and accepted values.

use std::time::Duration;

use reqwest::Url;

use super::env::{EnvOverrides, ENV_API_TOKEN, ENV_API_URL};
use super::errors::{ConfigError, Origin, Sourced};
use super::fields::{IntegerRange, NumberRange, Reader, Section};
use super::policy::{PolicyLayer, SERVICE_KEYS};
use super::raw::Node;
use super::{
    ApiSettings, ApplyMode, GlobalSettings, LogFormat, LogLevel, LoggingSettings, ProtocolChoice,
    Token, TokenSource,
};

/// Top-level keys that are sections; every other top-level key is a service.
pub(super) const SECTION_NAMES: &[&str] = &["api", "global", "logging"];

const API_KEYS: &[&str] = &[
    "base_url",
    "token",
    "verify_ssl",
    "timeout_seconds",
    "protocol",
    "max_concurrency",
];

/// Keys of `global` that are not per-service defaults.
const GLOBAL_ONLY_KEYS: &[&str] = &[
    "ignore_exposed",
    "apply",
    "apply_wait_seconds",
    "max_run_seconds",
];

/// [`GLOBAL_ONLY_KEYS`] followed by the service keys, which `global` sets as defaults.
const GLOBAL_KEYS: &[&str] = &[
    "ignore_exposed",
    "apply",
    "apply_wait_seconds",
    "max_run_seconds",
    "min",
    "max",
    "up",
    "down",
    "ignore",
    "cooldown_minutes",
    "cooldown_up_minutes",
    "cooldown_down_minutes",
];

const LOGGING_KEYS: &[&str] = &["level", "format", "console", "max_size", "backup_count"];

const DEFAULT_BASE_URL: &str = "http://localhost:3000";

const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;

const DEFAULT_MAX_RUN_SECONDS: f64 = 240.0;

/// The token `services.example.json` ships with, which no panel accepts.
pub(super) const EXAMPLE_TOKEN: &str = "paste-an-api-token-from-settings-users";

const TIMEOUT: NumberRange = NumberRange {
    noun: "a number of seconds",
    min: 0.0,
    min_excluded: true,
    max: 3600.0,
};

const APPLY_WAIT: NumberRange = NumberRange {
    noun: "a number of seconds",
    min: 0.0,
    min_excluded: false,
    max: 3600.0,
};

const MAX_RUN: NumberRange = NumberRange {
    noun: "a number of seconds",
    min: 0.0,
    min_excluded: true,
    max: 86_400.0,
};

const MAX_CONCURRENCY: IntegerRange = IntegerRange { min: 1, max: 64 };

const MAX_SIZE: IntegerRange = IntegerRange {
    min: 1,
    max: u64::MAX,
};

const BACKUP_COUNT: IntegerRange = IntegerRange {
    min: 0,
    max: u32::MAX as u64,
};

const PROTOCOLS: &[(&str, ProtocolChoice)] = &[
    ("auto", ProtocolChoice::Auto),
    ("trpc", ProtocolChoice::Trpc),
    ("rpc", ProtocolChoice::Rpc),
];

const APPLY_MODES: &[(&str, ApplyMode)] = &[
    ("update", ApplyMode::Update),
    ("deploy", ApplyMode::Deploy),
    ("auto", ApplyMode::Auto),
];

const LEVELS: &[(&str, LogLevel)] = &[
    ("DEBUG", LogLevel::Debug),
    ("INFO", LogLevel::Info),
    ("WARNING", LogLevel::Warning),
    ("ERROR", LogLevel::Error),
    ("CRITICAL", LogLevel::Critical),
];

const FORMATS: &[(&str, LogFormat)] = &[("text", LogFormat::Text), ("json", LogFormat::Json)];

/// Explains an unknown key that another part of the file accepts.
pub(super) fn misplaced_note(key: &str) -> Option<&'static str> {
    if API_KEYS.contains(&key) {
        Some("this key belongs in the `api` section")
    } else if LOGGING_KEYS.contains(&key) {
        Some("this key belongs in the `logging` section")
    } else if GLOBAL_ONLY_KEYS.contains(&key) {
        Some("this key belongs in the `global` section")
    } else if SERVICE_KEYS.contains(&key) {
        Some("this key belongs in `global` or in a service object")
    } else {
        None
    }
}

/// The `api` section as read.
pub(super) struct ApiSection {
    /// `None` when no usable URL or token remains; the reason is then in the reader.
    pub settings: Option<ApiSettings>,
    /// `api.timeout_seconds` with where it was set; `None` when the file's value was rejected.
    pub timeout: Option<Sourced<f64>>,
}

/// Reads the `api` section (absent counts as empty) with the environment overrides applied.
pub(super) fn read_api(
    reader: &mut Reader<'_>,
    section: &Section<'_, '_>,
    env: &EnvOverrides,
) -> ApiSection {
    reader.check_keys(section, API_KEYS, misplaced_note);

    let base_url = read_base_url(reader, section, env);
    let token = read_token(reader, section, env);
    let verify_ssl = section
        .get("verify_ssl")
        .and_then(|(path, value)| reader.boolean(&path, value))
        .unwrap_or(true);
    let timeout = read_seconds(
        reader,
        section,
        "timeout_seconds",
        TIMEOUT,
        DEFAULT_TIMEOUT_SECONDS,
    );
    let protocol = section
        .get("protocol")
        .and_then(|(path, value)| reader.word(&path, value, PROTOCOLS, false))
        .unwrap_or(ProtocolChoice::Auto);
    let max_concurrency = section
        .get("max_concurrency")
        .and_then(|(path, value)| reader.integer(&path, value, MAX_CONCURRENCY))
        .map_or(8, |count| usize::try_from(count).unwrap_or(usize::MAX));

    let settings = match (base_url, token) {
        (Some(base_url), Some((token, token_source))) => Some(ApiSettings {
            base_url,
            token,
            token_source,
            verify_ssl,
            timeout: Duration::from_secs_f64(
                timeout
                    .as_ref()
                    .map_or(DEFAULT_TIMEOUT_SECONDS, |timeout| timeout.value),
            ),
            protocol,
            max_concurrency,
        }),
        _ => None,
    };
    ApiSection { settings, timeout }
}

/// Reads a number of seconds with where it was set: the default when `key` is absent, and
/// `None` when the file's value is rejected, which `reader` records.
fn read_seconds(
    reader: &mut Reader<'_>,
    section: &Section<'_, '_>,
    key: &str,
    range: NumberRange,
    default: f64,
) -> Option<Sourced<f64>> {
    let Some((path, value)) = section.get(key) else {
        return Some(Sourced {
            value: default,
            origin: None,
        });
    };

    let origin = reader.origin(&path, value);
    reader.number(&path, value, range).map(|seconds| Sourced {
        value: seconds,
        origin: Some(origin),
    })
}

/// Reports a request timeout that fills the run's budget. A run starts a write only while a
/// whole timeout is left of `global.max_run_seconds`, so no write could be sent. A value the
/// file sets but that was rejected (`None`) is not compared.
pub(super) fn check_run_budget(
    reader: &mut Reader<'_>,
    timeout: Option<&Sourced<f64>>,
    max_run: Option<&Sourced<f64>>,
) {
    let (Some(timeout), Some(max_run)) = (timeout, max_run) else {
        return;
    };
    if timeout.value >= max_run.value {
        reader.push(ConfigError::TimeoutNotBelowMaxRun {
            timeout: timeout.clone(),
            max_run: max_run.clone(),
        });
    }
}

/// Returns the panel URL: [`ENV_API_URL`] if set, else `api.base_url`, else the default.
/// Only the value in use is checked as a URL; an overridden file value need only be a string.
fn read_base_url(
    reader: &mut Reader<'_>,
    section: &Section<'_, '_>,
    env: &EnvOverrides,
) -> Option<String> {
    let file_value = section.get("base_url").and_then(|(path, value)| {
        let origin = reader.origin(&path, value);
        reader
            .string(&path, value)
            .map(|text| (origin, text.to_owned()))
    });
    if file_value.is_none() && section.has("base_url") && env.api_url.is_none() {
        return None;
    }

    let (origin, text) = match (&env.api_url, file_value) {
        (Some(url), _) => (Origin::Env(ENV_API_URL), url.clone()),
        (None, Some(from_file)) => from_file,
        (None, None) => return Some(DEFAULT_BASE_URL.to_owned()),
    };

    match checked_base_url(&text) {
        Ok(url) => Some(url),
        Err(reason) => {
            let found = serde_json::to_string(&text).unwrap_or(text);
            reader.push(ConfigError::InvalidUrl {
                at: origin,
                found,
                reason,
            });
            None
        }
    }
}

/// Returns the URL without surrounding whitespace and trailing slashes, or why it is not a
/// usable panel URL.
fn checked_base_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("it is empty".to_owned());
    }
    if !text.contains("://") {
        return Err("the scheme is missing".to_owned());
    }

    let url = Url::parse(text).map_err(|error| error.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme is {}, not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the host is missing".to_owned());
    }
    // The client sends the token in the Authorization header, which URL credentials would
    // replace, and the URL is printed by `validate`.
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it contains credentials; put the API token in api.token".to_owned());
    }
    if url.query().is_some() {
        return Err("it has a query (`?...`); the client appends its own paths".to_owned());
    }
    if url.fragment().is_some() {
        return Err("it has a fragment (`#...`)".to_owned());
    }

    Ok(text.trim_end_matches('/').to_owned())
}

/// Returns the token: [`ENV_API_TOKEN`] if set, else `api.token`.
///
/// A file token may be left empty, or at the example's placeholder, when the environment
/// supplies the token; without an override it must be valid. Messages describe the token,
/// never quote it.
fn read_token(
    reader: &mut Reader<'_>,
    section: &Section<'_, '_>,
    env: &EnvOverrides,
) -> Option<(Token, TokenSource)> {
    let file_token = section
        .get("token")
        .and_then(|(path, value)| match &value.node {
            Node::String(token) => Some((reader.origin(&path, value), token.clone())),
            other => {
                reader.push(ConfigError::Invalid {
                    at: reader.origin(&path, value),
                    expected: "a string".to_owned(),
                    found: other.kind().to_owned(),
                });
                None
            }
        });
    let file_has_token = file_token
        .as_ref()
        .is_some_and(|(_, token)| !token.trim().is_empty() && token != EXAMPLE_TOKEN);

    let (origin, token, source) = match (&env.api_token, file_token) {
        (Some(token), _) => {
            let source = if file_has_token {
                TokenSource::EnvOverFile
            } else {
                TokenSource::Env
            };
            (Origin::Env(ENV_API_TOKEN), token.clone(), source)
        }
        (None, Some((origin, token))) => (origin, token, TokenSource::File),
        (None, None) => {
            // A token of the wrong type was reported above.
            if !section.has("token") {
                reader.push(ConfigError::MissingToken);
            }
            return None;
        }
    };

    if let Err(reason) = check_token(&token) {
        reader.push(ConfigError::InvalidToken { at: origin, reason });
        return None;
    }
    Some((Token::new(token), source))
}

/// Returns why `token` cannot be an API token of the panel, in words that do not quote it.
fn check_token(token: &str) -> Result<(), &'static str> {
    if token.trim().is_empty() {
        return Err(
            "it is empty; create a token in the panel under Settings → Users and set it as \
             api.token or in the EASYPANEL_API_TOKEN environment variable",
        );
    }
    if token == EXAMPLE_TOKEN {
        return Err(
            "it is still the placeholder from services.example.json; create a token in the \
             panel under Settings → Users and set it as api.token or in the \
             EASYPANEL_API_TOKEN environment variable",
        );
    }
    // A token copied with its header scheme (`Authorization: Bearer <token>`) would be sent
    // with the scheme twice, because the client adds the prefix itself.
    let has_scheme = token
        .get(..7)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("bearer "));
    if has_scheme {
        return Err(
            "it starts with `Bearer `, which the client adds itself; keep only the token \
             after it",
        );
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(
            "it contains whitespace or characters other than printable ASCII, which an \
             Authorization header cannot carry; check for a stray space or line break",
        );
    }
    Ok(())
}

/// The `global` section as read: the run settings, `ignore_exposed` and the per-service
/// defaults it sets.
pub(super) struct GlobalSection {
    pub settings: GlobalSettings,
    /// `global.max_run_seconds` with where it was set; `None` when the file's value was
    /// rejected.
    pub max_run: Option<Sourced<f64>>,
    pub ignore_exposed: bool,
    pub defaults: PolicyLayer,
}

/// Reads the `global` section; an absent section counts as empty.
pub(super) fn read_global(reader: &mut Reader<'_>, section: &Section<'_, '_>) -> GlobalSection {
    reader.check_keys(section, GLOBAL_KEYS, misplaced_note);

    let ignore_exposed = section
        .get("ignore_exposed")
        .and_then(|(path, value)| reader.boolean(&path, value))
        .unwrap_or(false);
    let apply = section
        .get("apply")
        .and_then(|(path, value)| reader.word(&path, value, APPLY_MODES, false))
        .unwrap_or(ApplyMode::Auto);
    let apply_wait = section
        .get("apply_wait_seconds")
        .and_then(|(path, value)| reader.number(&path, value, APPLY_WAIT))
        .map_or(Duration::from_secs(15), Duration::from_secs_f64);
    let max_run = read_seconds(
        reader,
        section,
        "max_run_seconds",
        MAX_RUN,
        DEFAULT_MAX_RUN_SECONDS,
    );
    let defaults = PolicyLayer::read(reader, section);

    GlobalSection {
        settings: GlobalSettings {
            apply,
            apply_wait,
            max_run: Duration::from_secs_f64(
                max_run
                    .as_ref()
                    .map_or(DEFAULT_MAX_RUN_SECONDS, |max_run| max_run.value),
            ),
        },
        max_run,
        ignore_exposed,
        defaults,
    }
}

/// Reads the `logging` section; an absent section counts as empty.
pub(super) fn read_logging(reader: &mut Reader<'_>, section: &Section<'_, '_>) -> LoggingSettings {
    reader.check_keys(section, LOGGING_KEYS, misplaced_note);
    let defaults = LoggingSettings::default();

    LoggingSettings {
        level: section
            .get("level")
            .and_then(|(path, value)| reader.word(&path, value, LEVELS, true))
            .unwrap_or(defaults.level),
        format: section
            .get("format")
            .and_then(|(path, value)| reader.word(&path, value, FORMATS, false))
            .unwrap_or(defaults.format),
        console: section
            .get("console")
            .and_then(|(path, value)| reader.boolean(&path, value))
            .unwrap_or(defaults.console),
        max_size: section
            .get("max_size")
            .and_then(|(path, value)| reader.integer(&path, value, MAX_SIZE))
            .unwrap_or(defaults.max_size),
        backup_count: section
            .get("backup_count")
            .and_then(|(path, value)| reader.integer(&path, value, BACKUP_COUNT))
            .map_or(defaults.backup_count, |count| {
                u32::try_from(count).unwrap_or(u32::MAX)
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_keys_are_run_settings_and_service_keys() {
        let expected: Vec<&str> = GLOBAL_ONLY_KEYS
            .iter()
            .chain(SERVICE_KEYS)
            .copied()
            .collect();

        assert_eq!(GLOBAL_KEYS, expected.as_slice());
    }

    #[test]
    fn base_url_loses_trailing_slashes() {
        assert_eq!(
            checked_base_url("https://panel.example.com/easypanel//").as_deref(),
            Ok("https://panel.example.com/easypanel")
        );
    }
}
