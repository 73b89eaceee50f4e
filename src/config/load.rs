//! The entry points: reading a config file and parsing its text.

use std::io;
use std::path::Path;

use super::env::EnvOverrides;
use super::errors::{ConfigError, ConfigErrors};
use super::{raw, validate, Config};

/// Reads and validates the config file at `path`.
///
/// Fails with [`ConfigError::NotFound`] when the file does not exist, with
/// [`ConfigError::Unreadable`] when it cannot be read as UTF-8 text, and otherwise as
/// [`parse`] does.
pub fn load(path: &Path, env: &EnvOverrides) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|cause| {
        let path = path.to_owned();
        match cause.kind() {
            io::ErrorKind::NotFound => ConfigError::NotFound { path },
            _ => ConfigError::Unreadable { path, cause },
        }
    })?;

    parse(&text, env)
}

/// Parses and validates the text of a config file, with `env` overriding the `api` section.
///
/// Fails with every problem found: invalid JSON (the first syntax error only, since nothing
/// after it can be read), an empty document, a top level that is not an object, or any number
/// of invalid keys and values.
pub fn parse(text: &str, env: &EnvOverrides) -> Result<Config, ConfigErrors> {
    // Editors on Windows may save UTF-8 with a byte order mark, which JSON does not allow.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let root = raw::parse_document(text)?;
    validate::validate(text, &root, env)
}
