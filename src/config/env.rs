//! Environment variables that override the `api` section, so that the token can stay out of
//! the config file.

use std::ffi::OsString;

/// Overrides `api.base_url`.
pub const ENV_API_URL: &str = "EASYPANEL_API_URL";
/// Overrides `api.token`.
pub const ENV_API_TOKEN: &str = "EASYPANEL_API_TOKEN";

/// Values read from the environment that take precedence over the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvOverrides {
    pub api_url: Option<String>,
    pub api_token: Option<String>,
}

impl EnvOverrides {
    /// Reads [`ENV_API_URL`] and [`ENV_API_TOKEN`] from the process environment.
    ///
    /// A variable set to the empty string counts as unset, because cron tables, env files and
    /// `docker run -e NAME=$NAME` leave a variable empty when its source is missing, and the
    /// file's value is then the one meant. A value that is not valid Unicode is kept, with
    /// U+FFFD in place of the bad bytes, rather than dropped; the token check rejects it.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// Builds the overrides from any variable lookup, with the rules of [`Self::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Self {
        let read = |name: &str| {
            lookup(name)
                .filter(|value| !value.is_empty())
                .map(|value| value.to_string_lossy().into_owned())
        };

        EnvOverrides {
            api_url: read(ENV_API_URL),
            api_token: read(ENV_API_TOKEN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_variable_counts_as_unset() {
        let overrides = EnvOverrides::from_lookup(|name| match name {
            ENV_API_URL => Some(OsString::new()),
            ENV_API_TOKEN => Some(OsString::from("secret")),
            _ => None,
        });

        assert_eq!(overrides.api_url, None);
        assert_eq!(overrides.api_token.as_deref(), Some("secret"));
    }

    #[test]
    fn unset_variables_give_no_overrides() {
        let overrides = EnvOverrides::from_lookup(|_| None);

        assert_eq!(overrides, EnvOverrides::default());
    }
}
