//! A readable summary of a validated config, for the `validate` command.

use std::time::Duration;

use super::env::ENV_API_TOKEN;
use super::{ApplyMode, Config, LogFormat, LogLevel, ProtocolChoice, TokenSource};
use crate::engine::Policy;

/// Returns one line each for the API settings, the run settings, the logging settings and the
/// default policy, then one line per configured service in key order. The token itself is
/// never included, only where it came from.
pub fn describe(config: &Config) -> Vec<String> {
    let api = &config.api;
    let global = &config.global;
    let logging = &config.logging;

    let token_source = match api.token_source {
        TokenSource::File => "token from the config file".to_owned(),
        TokenSource::Env => format!("token from {ENV_API_TOKEN}"),
        TokenSource::EnvOverFile => {
            format!("token from {ENV_API_TOKEN}, overriding the config file's")
        }
    };
    let mut lines = vec![
        format!(
            "api: {}, protocol {}, verify_ssl {}, timeout {}, max_concurrency {}, {token_source}",
            api.base_url,
            protocol_name(api.protocol),
            api.verify_ssl,
            seconds(api.timeout),
            api.max_concurrency,
        ),
        format!(
            "global: apply {}, apply wait {}, max run {}, ignore_exposed {}",
            apply_name(global.apply),
            seconds(global.apply_wait),
            seconds(global.max_run),
            config.defaults.ignore_exposed,
        ),
        format!(
            "logging: level {}, format {}, console {}, max_size {} bytes, backup_count {}",
            level_name(logging.level),
            format_name(logging.format),
            logging.console,
            logging.max_size,
            logging.backup_count,
        ),
        format!("defaults: {}", describe_policy(&config.defaults)),
    ];

    for (key, policy) in &config.services {
        lines.push(format!("{key}: {}", describe_policy(policy)));
    }
    lines
}

/// Describes a policy as `min 2, max 8, up 75%, down 25%, cooldown up 3m / down 10m`, or as
/// `ignored`.
fn describe_policy(policy: &Policy) -> String {
    if policy.ignore {
        return "ignored".to_owned();
    }

    format!(
        "min {}, max {}, up {}%, down {}%, cooldown up {} / down {}",
        policy.min,
        policy.max,
        policy.up,
        policy.down,
        minutes(policy.cooldown_up),
        minutes(policy.cooldown_down),
    )
}

/// Formats whole minutes as `5m` and anything else in seconds (`90s`, `1.5s`).
fn minutes(duration: Duration) -> String {
    let is_whole_minutes = duration.subsec_nanos() == 0 && duration.as_secs().is_multiple_of(60);
    if is_whole_minutes {
        format!("{}m", duration.as_secs() / 60)
    } else {
        seconds(duration)
    }
}

fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}

fn protocol_name(protocol: ProtocolChoice) -> &'static str {
    match protocol {
        ProtocolChoice::Auto => "auto",
        ProtocolChoice::Trpc => "trpc",
        ProtocolChoice::Rpc => "rpc",
    }
}

fn apply_name(apply: ApplyMode) -> &'static str {
    match apply {
        ApplyMode::Update => "update",
        ApplyMode::Deploy => "deploy",
        ApplyMode::Auto => "auto",
    }
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Debug => "DEBUG",
        LogLevel::Info => "INFO",
        LogLevel::Warning => "WARNING",
        LogLevel::Error => "ERROR",
        LogLevel::Critical => "CRITICAL",
    }
}

fn format_name(format: LogFormat) -> &'static str {
    match format {
        LogFormat::Text => "text",
        LogFormat::Json => "json",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, EnvOverrides};

    fn described(text: &str) -> Vec<String> {
        let config = parse(text, &EnvOverrides::default()).unwrap();
        describe(&config)
    }

    #[test]
    fn service_line_shows_thresholds_and_cooldowns() {
        let lines = described(
            r#"{"api": {"token": "secret"},
                "shop_api": {"min": 2, "max": 8, "up": 75, "down": 25,
                             "cooldown_up_minutes": 3, "cooldown_down_minutes": 10}}"#,
        );

        assert!(
            lines.contains(
                &"shop_api: min 2, max 8, up 75%, down 25%, cooldown up 3m / down 10m".to_owned()
            ),
            "{lines:#?}"
        );
    }

    #[test]
    fn ignored_service_says_ignored() {
        let lines = described(r#"{"api": {"token": "secret"}, "shop_worker": {"ignore": true}}"#);

        assert_eq!(lines.last().unwrap(), "shop_worker: ignored");
    }

    #[test]
    fn defaults_line_shows_global_values() {
        let lines = described(
            r#"{"api": {"token": "secret"}, "global": {"min": 2, "cooldown_minutes": 1.5}}"#,
        );

        assert!(
            lines.contains(
                &"defaults: min 2, max 10, up 70%, down 30%, cooldown up 90s / down 90s".to_owned()
            ),
            "{lines:#?}"
        );
    }

    #[test]
    fn api_line_names_url_and_token_source() {
        let lines = described(
            r#"{"api": {"token": "secret", "base_url": "https://panel.example.com/", "protocol": "rpc"}}"#,
        );

        assert_eq!(
            lines[0],
            "api: https://panel.example.com, protocol rpc, verify_ssl true, timeout 30s, \
             max_concurrency 8, token from the config file"
        );
    }

    #[test]
    fn token_never_appears() {
        let lines = described(r#"{"api": {"token": "very-secret-token"}, "shop_api": {}}"#);

        assert!(
            lines.iter().all(|line| !line.contains("very-secret-token")),
            "{lines:#?}"
        );
    }
}
