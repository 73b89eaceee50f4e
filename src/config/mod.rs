//! Configuration: the raw `services.json` model, its validation into typed settings and
//! per-service policies, the environment overrides and the app-directory rules.
//!
//! Loading happens in two steps. The text is parsed into a raw model that keeps every key
//! as written, then converted into [`Config`], whose values are known to be valid. Every problem found is reported, not only
//! the first, and each message names the key path, the bad value and what is accepted.
//!
//! The file is one JSON object. `api`, `global` and `logging` are sections. Every other key
//! names a service as `project_service` and contains its policy keys (`min`, `max`, `up`,
//! `down`, `ignore`, `cooldown_minutes`, `cooldown_up_minutes`, `cooldown_down_minutes`).
//! `global` may set any policy key as the default for all services, and `policy.rs` gives the
//! precedence. [`ENV_API_URL`] and [`ENV_API_TOKEN`] override `api.base_url` and `api.token`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::engine::Policy;

mod describe;
mod env;
mod errors;
mod fields;
mod load;
mod paths;
mod permissions;
mod policy;
mod raw;
mod sections;
mod suggest;
mod validate;

#[cfg(test)]
mod tests;

pub use describe::describe;
pub use env::{EnvOverrides, ENV_API_TOKEN, ENV_API_URL};
pub use errors::{ConfigError, ConfigErrors, Origin, Sourced};
pub use load::{load, parse};
pub use paths::resolve_paths;
pub use permissions::token_permission_warning;

/// A validated configuration: everything a run needs before its first request.
#[derive(Debug, Clone)]
pub struct Config {
    pub api: ApiSettings,
    pub global: GlobalSettings,
    pub logging: LoggingSettings,
    /// Policies of the services named in the file, keyed `project_service`, with `global`
    /// defaults already applied.
    pub services: BTreeMap<String, Policy>,
    /// Policy of every service the file does not name.
    pub defaults: Policy,
}

impl Config {
    /// Returns the policy for a service key (`project_service`).
    pub fn policy(&self, key: &str) -> &Policy {
        self.services.get(key).unwrap_or(&self.defaults)
    }
}

/// The `api` section.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Panel URL without a trailing slash; may carry a path prefix for a reverse proxy.
    pub base_url: String,
    pub token: Token,
    pub token_source: TokenSource,
    pub verify_ssl: bool,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    pub protocol: ProtocolChoice,
    /// Upper bound on requests in flight at once.
    pub max_concurrency: usize,
}

/// Source of the API token in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `api.token` in the config file.
    File,
    /// The `EASYPANEL_API_TOKEN` environment variable; the file contains no token.
    Env,
    /// The `EASYPANEL_API_TOKEN` environment variable, overriding a token the file also contains.
    EnvOverFile,
}

impl TokenSource {
    /// Returns whether the config file contains a token, in use or overridden.
    pub fn has_file_token(self) -> bool {
        matches!(self, TokenSource::File | TokenSource::EnvOverFile)
    }
}

/// The transport generation the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolChoice {
    /// Detect it and remember the result in the state directory.
    Auto,
    /// `/api/trpc/<router>.<procedure>`, panels up to 2.30.
    Trpc,
    /// `/api/rpc/<router>/<procedure>`, panels from 2.31.
    Rpc,
}

/// The `global` section, less the per-service defaults it may carry.
#[derive(Debug, Clone)]
pub struct GlobalSettings {
    pub apply: ApplyMode,
    /// How long `ApplyMode::Auto` waits for Swarm to follow an update.
    pub apply_wait: Duration,
    /// Budget of a whole run; services not reached by then are skipped.
    pub max_run: Duration,
}

/// The step a run takes after it has stored a new replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode {
    /// Store the count with `updateDeploy` and stop there.
    Update,
    /// Store the count, then always run `deployService`.
    Deploy,
    /// Store the count, wait for Swarm's desired count to follow, deploy only if it did not.
    Auto,
}

/// The `logging` section.
#[derive(Debug, Clone)]
pub struct LoggingSettings {
    pub level: LogLevel,
    pub format: LogFormat,
    pub console: bool,
    /// Size in bytes past which `autoscaler.log` is rotated.
    pub max_size: u64,
    /// Number of rotated files kept (`autoscaler.log.1` ..).
    pub backup_count: u32,
}

impl Default for LoggingSettings {
    fn default() -> Self {
        LoggingSettings {
            level: LogLevel::Info,
            format: LogFormat::Text,
            console: true,
            max_size: 10 * 1024 * 1024,
            backup_count: 5,
        }
    }
}

/// Log levels as operators name them in the config file and read them in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The API token. Its `Debug` and `Display` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Token(value.into())
    }

    /// Returns the token itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The paths of a run's config file, state folder and log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    pub config_file: PathBuf,
    pub state_dir: PathBuf,
    pub log_file: PathBuf,
}
