use std::time::Duration;

use super::*;

const TOKEN_ONLY: &str = r#"{"api": {"token": "secret"}}"#;

fn no_env() -> EnvOverrides {
    EnvOverrides::default()
}

fn env_token(token: &str) -> EnvOverrides {
    EnvOverrides {
        api_token: Some(token.to_owned()),
        ..EnvOverrides::default()
    }
}

fn valid(text: &str) -> Config {
    match parse(text, &no_env()) {
        Ok(config) => config,
        Err(errors) => panic!("expected a valid config, got:\n{errors}"),
    }
}

fn problems(text: &str, env: &EnvOverrides) -> String {
    match parse(text, env) {
        Ok(config) => panic!("expected problems, got {config:#?}"),
        Err(errors) => errors.to_string(),
    }
}

fn minutes(minutes: u64) -> Duration {
    Duration::from_secs(minutes * 60)
}

/// Broken configs, each with the parts its message must contain: the key path, the bad value
/// and what is accepted. Every config contains a token unless the case is about the token.
const BROKEN: &[(&str, &str, &[&str])] = &[
    (
        "trailing comma",
        "{\"api\": {\"token\": \"secret\"},\n \"myapp_web\": {\"min\": 1,}}",
        &["invalid JSON at line 2, column 25: trailing comma"],
    ),
    (
        "missing comma",
        r#"{"api": {"token": "secret"} "myapp_web": {}}"#,
        &["invalid JSON at line 1, column 29: expected `,` or `}`"],
    ),
    (
        "unterminated object",
        "{\"api\": {\"token\": \"secret\"}\n",
        &["invalid JSON at line 2, column 0: EOF while parsing an object"],
    ),
    (
        "string for integer",
        r#"{"api": {"token": "secret"}, "myapp_web": {"max": "ten"}}"#,
        &[r#"line 1: myapp_web.max: expected an integer of at least 1, found "ten""#],
    ),
    (
        "fraction for min",
        r#"{"api": {"token": "secret"}, "myapp_web": {"min": 1.5}}"#,
        &["myapp_web.min: expected an integer of at least 1, found 1.5"],
    ),
    (
        "float notation for min",
        r#"{"api": {"token": "secret"}, "myapp_web": {"min": 2.0}}"#,
        &["myapp_web.min: expected an integer of at least 1, found 2.0"],
    ),
    (
        "boolean for up",
        r#"{"api": {"token": "secret"}, "myapp_web": {"up": true}}"#,
        &["myapp_web.up: expected a CPU percent (100 = one full core) from 0 to 102400, found true"],
    ),
    (
        "string for api section",
        r#"{"api": "http://panel:3000"}"#,
        &[
            r#"api: expected an object, found "http://panel:3000""#,
            "api.token: missing",
        ],
    ),
    (
        "object for base_url",
        r#"{"api": {"token": "secret", "base_url": {}}}"#,
        &["api.base_url: expected a string, found an object"],
    ),
    (
        "number for service",
        r#"{"api": {"token": "secret"}, "myapp_web": 3}"#,
        &["myapp_web: expected an object of service settings, found 3"],
    ),
    (
        "string for boolean",
        r#"{"api": {"token": "secret", "verify_ssl": "yes"}}"#,
        &[r#"api.verify_ssl: expected true or false, found "yes""#],
    ),
    (
        "null for ignore",
        r#"{"api": {"token": "secret"}, "myapp_web": {"ignore": null}}"#,
        &["myapp_web.ignore: expected true or false, found null"],
    ),
    (
        "min above max",
        "{\"api\": {\"token\": \"secret\"},\n \"myapp_web\": {\"min\": 5,\n \"max\": 3}}",
        &["line 2: myapp_web: min 5 (myapp_web.min on line 2) is greater than max 3 (myapp_web.max on line 3); min must not exceed max"],
    ),
    (
        "down equal to up",
        r#"{"api": {"token": "secret"}, "myapp_web": {"up": 60, "down": 60}}"#,
        &["myapp_web: down 60 (myapp_web.down on line 1) is not below up 60 (myapp_web.up on line 1); down must be less than up"],
    ),
    (
        "down above default up",
        r#"{"api": {"token": "secret"}, "myapp_web": {"down": 80}}"#,
        &["myapp_web: down 80 (myapp_web.down on line 1) is not below up 70 (default)"],
    ),
    (
        "negative down",
        r#"{"api": {"token": "secret"}, "myapp_web": {"down": -5}}"#,
        &["myapp_web.down: expected a CPU percent (100 = one full core) from 0 to 102400, found -5"],
    ),
    (
        "absurd up",
        r#"{"api": {"token": "secret"}, "myapp_web": {"up": 200000}}"#,
        &["myapp_web.up: expected a CPU percent (100 = one full core) from 0 to 102400, found 200000"],
    ),
    (
        "negative cooldown",
        r#"{"api": {"token": "secret"}, "myapp_web": {"cooldown_minutes": -1}}"#,
        &["myapp_web.cooldown_minutes: expected a number of minutes from 0 to 525600, found -1"],
    ),
    (
        "min zero",
        r#"{"api": {"token": "secret"}, "myapp_web": {"min": 0}}"#,
        &["myapp_web.min: expected an integer of at least 1, found 0"],
    ),
    (
        "max beyond u32",
        r#"{"api": {"token": "secret"}, "myapp_web": {"max": 4294967296}}"#,
        &["myapp_web.max: expected an integer from 1 to 4294967295, found 4294967296"],
    ),
    (
        "negative max",
        r#"{"api": {"token": "secret"}, "myapp_web": {"max": -2}}"#,
        &["myapp_web.max: expected an integer of at least 1, found -2"],
    ),
    (
        "misspelled service key",
        r#"{"api": {"token": "secret"}, "myapp_web": {"maxx": 4}}"#,
        &["myapp_web.maxx: unknown key; did you mean `max`? Accepted keys: min, max, up, down"],
    ),
    (
        "unrelated service key",
        r#"{"api": {"token": "secret"}, "myapp_web": {"replicas": 4}}"#,
        &["myapp_web.replicas: unknown key. Accepted keys: min, max, up, down"],
    ),
    (
        "misspelled api key",
        r#"{"api": {"tokn": "secret"}}"#,
        &["api.tokn: unknown key; did you mean `token`?", "api.token: missing"],
    ),
    (
        "misspelled global key",
        r#"{"api": {"token": "secret"}, "global": {"aply": "auto"}}"#,
        &["global.aply: unknown key; did you mean `apply`?"],
    ),
    (
        "misspelled logging key",
        r#"{"api": {"token": "secret"}, "logging": {"levl": "INFO"}}"#,
        &["logging.levl: unknown key; did you mean `level`? Accepted keys: level, format, console"],
    ),
    (
        "global key in service",
        r#"{"api": {"token": "secret"}, "myapp_web": {"ignore_exposed": true}}"#,
        &["myapp_web.ignore_exposed: unknown key; this key belongs in the `global` section. Accepted keys: min"],
    ),
    (
        "empty token",
        r#"{"api": {"token": ""}}"#,
        &["line 1: api.token: invalid API token: it is empty; create a token in the panel under Settings → Users and set it as api.token or in the EASYPANEL_API_TOKEN environment variable"],
    ),
    (
        "example placeholder token",
        r#"{"api": {"token": "paste-an-api-token-from-settings-users"}}"#,
        &["line 1: api.token: invalid API token: it is still the placeholder from services.example.json; create a token in the panel under Settings → Users"],
    ),
    (
        "token with bearer prefix",
        r#"{"api": {"token": "Bearer abc123"}}"#,
        &["api.token: invalid API token: it starts with `Bearer `, which the client adds itself; keep only the token after it"],
    ),
    (
        "token with lowercase bearer prefix",
        r#"{"api": {"token": "bearer abc123"}}"#,
        &["api.token: invalid API token: it starts with `Bearer `"],
    ),
    (
        "token with space",
        r#"{"api": {"token": "abc def"}}"#,
        &["api.token: invalid API token: it contains whitespace"],
    ),
    (
        "number for token",
        r#"{"api": {"token": 12345}}"#,
        &["api.token: expected a string, found an integer"],
    ),
    (
        "missing token",
        "{}",
        &["api.token: missing; set it in the config file or in the EASYPANEL_API_TOKEN environment variable"],
    ),
    (
        "url without scheme",
        r#"{"api": {"token": "secret", "base_url": "localhost:3000"}}"#,
        &[r#"api.base_url: invalid URL "localhost:3000": the scheme is missing; expected an http:// or https:// URL"#],
    ),
    (
        "ftp url",
        r#"{"api": {"token": "secret", "base_url": "ftp://panel"}}"#,
        &[r#"api.base_url: invalid URL "ftp://panel": the scheme is ftp, not http or https"#],
    ),
    (
        "url with query",
        r#"{"api": {"token": "secret", "base_url": "http://panel:3000/?x=1"}}"#,
        &[r#"api.base_url: invalid URL "http://panel:3000/?x=1": it has a query"#],
    ),
    (
        "url with fragment",
        r#"{"api": {"token": "secret", "base_url": "http://panel:3000/#top"}}"#,
        &["it has a fragment"],
    ),
    (
        "url with credentials",
        r#"{"api": {"token": "secret", "base_url": "http://admin:pw@panel:3000"}}"#,
        &["it contains credentials"],
    ),
    (
        "url with bad port",
        r#"{"api": {"token": "secret", "base_url": "http://panel:99999"}}"#,
        &[r#"invalid URL "http://panel:99999": invalid port number"#],
    ),
    (
        "service key without underscore",
        r#"{"api": {"token": "secret"}, "myapp": {}}"#,
        &["line 1: myapp: invalid service key. A service key is the Swarm service name `project_service`"],
    ),
    (
        "uppercase service key",
        r#"{"api": {"token": "secret"}, "MyApp_Web": {}}"#,
        &["MyApp_Web: invalid service key; did you mean `myapp_web`?"],
    ),
    (
        "service key with space",
        r#"{"api": {"token": "secret"}, "my app_web": {}}"#,
        &[r#""my app_web": invalid service key. A service key"#],
    ),
    (
        "service key ending in underscore",
        r#"{"api": {"token": "secret"}, "myapp_": {}}"#,
        &["myapp_: invalid service key"],
    ),
    (
        "misspelled section",
        r#"{"api": {"token": "secret"}, "loging": {}}"#,
        &["loging: invalid service key; did you mean `logging`?"],
    ),
    (
        "duplicate top-level key",
        "{\"api\": {\"token\": \"secret\"},\n\"myapp_web\": {\"max\": 4},\n\"myapp_web\": {\"max\": 6}}",
        &["line 3: myapp_web: duplicate key, first set on line 2"],
    ),
    (
        "duplicate key in service",
        "{\"api\": {\"token\": \"secret\"},\n\"myapp_web\": {\n  \"max\": 4,\n  \"max\": 6}}",
        &["line 4: myapp_web.max: duplicate key, first set on line 3"],
    ),
    (
        "duplicate section",
        "{\"api\": {\"token\": \"secret\"},\n\"api\": {\"token\": \"other\"}}",
        &["line 2: api: duplicate key, first set on line 1"],
    ),
    (
        "empty file",
        "",
        &["config is empty or contains only whitespace; expected a JSON object"],
    ),
    (
        "whitespace-only file",
        " \n\t\r\n",
        &["config is empty or contains only whitespace"],
    ),
    (
        "top-level array",
        r#"[{"api": {"token": "secret"}}]"#,
        &["top level: expected a JSON object of sections and services, found an array"],
    ),
    (
        "top-level number",
        "42",
        &["top level: expected a JSON object of sections and services, found 42"],
    ),
    (
        "top-level string",
        r#""services""#,
        &[r#"top level: expected a JSON object of sections and services, found "services""#],
    ),
    (
        "bad protocol",
        r#"{"api": {"token": "secret", "protocol": "grpc"}}"#,
        &[r#"api.protocol: expected one of auto, trpc, rpc, found "grpc""#],
    ),
    (
        "protocol in upper case",
        r#"{"api": {"token": "secret", "protocol": "RPC"}}"#,
        &[r#"api.protocol: expected one of auto, trpc, rpc, found "RPC""#],
    ),
    (
        "bad apply mode",
        r#"{"api": {"token": "secret"}, "global": {"apply": "restart"}}"#,
        &[r#"global.apply: expected one of update, deploy, auto, found "restart""#],
    ),
    (
        "warn log level",
        r#"{"api": {"token": "secret"}, "logging": {"level": "WARN"}}"#,
        &[r#"logging.level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL (in any case), found "WARN""#],
    ),
    (
        "bad log format",
        r#"{"api": {"token": "secret"}, "logging": {"format": "yaml"}}"#,
        &[r#"logging.format: expected one of text, json, found "yaml""#],
    ),
    (
        "max_concurrency zero",
        r#"{"api": {"token": "secret", "max_concurrency": 0}}"#,
        &["api.max_concurrency: expected an integer from 1 to 64, found 0"],
    ),
    (
        "max_concurrency too high",
        r#"{"api": {"token": "secret", "max_concurrency": 65}}"#,
        &["api.max_concurrency: expected an integer from 1 to 64, found 65"],
    ),
    (
        "timeout zero",
        r#"{"api": {"token": "secret", "timeout_seconds": 0}}"#,
        &["api.timeout_seconds: expected a number of seconds greater than 0 and at most 3600, found 0"],
    ),
    (
        "timeout equal to max_run",
        "{\"api\": {\"token\": \"secret\", \"timeout_seconds\": 60},\n\"global\": {\"max_run_seconds\": 60}}",
        &["api.timeout_seconds 60 (line 1) is not below global.max_run_seconds 60 (line 2); a run starts a write only while a whole timeout is left of its budget, so no write could ever be sent. Lower api.timeout_seconds or raise global.max_run_seconds"],
    ),
    (
        "default timeout above max_run",
        r#"{"api": {"token": "secret"}, "global": {"max_run_seconds": 20}}"#,
        &["api.timeout_seconds 30 (default) is not below global.max_run_seconds 20 (line 1)"],
    ),
    (
        "timeout above default max_run",
        r#"{"api": {"token": "secret", "timeout_seconds": 300}}"#,
        &["api.timeout_seconds 300 (line 1) is not below global.max_run_seconds 240 (default)"],
    ),
    (
        "max_run zero",
        r#"{"api": {"token": "secret"}, "global": {"max_run_seconds": 0}}"#,
        &["global.max_run_seconds: expected a number of seconds greater than 0 and at most 86400, found 0"],
    ),
    (
        "negative apply wait",
        r#"{"api": {"token": "secret"}, "global": {"apply_wait_seconds": -1}}"#,
        &["global.apply_wait_seconds: expected a number of seconds from 0 to 3600, found -1"],
    ),
    (
        "max_size zero",
        r#"{"api": {"token": "secret"}, "logging": {"max_size": 0}}"#,
        &["logging.max_size: expected an integer of at least 1, found 0"],
    ),
    (
        "fractional backup count",
        r#"{"api": {"token": "secret"}, "logging": {"backup_count": 2.5}}"#,
        &["logging.backup_count: expected an integer of at least 0, found 2.5"],
    ),
    (
        "global min above service max",
        "{\"api\": {\"token\": \"secret\"},\n\"global\": {\"min\": 3},\n\"myapp_web\": {\"max\": 2}}",
        &["line 3: myapp_web: min 3 (global.min on line 2) is greater than max 2 (myapp_web.max on line 3)"],
    ),
    (
        "global min above default max",
        r#"{"api": {"token": "secret"}, "global": {"min": 12}}"#,
        &["global: min 12 (global.min on line 1) is greater than max 10 (default)"],
    ),
];

#[test]
fn broken_configs_name_key_value_and_accepted() {
    let mut failures = Vec::new();

    for (case, text, expected) in BROKEN {
        let message = match parse(text, &no_env()) {
            Ok(_) => {
                failures.push(format!("{case}: accepted, expected an error"));
                continue;
            }
            Err(errors) => errors.to_string(),
        };
        for part in *expected {
            if !message.contains(part) {
                failures.push(format!(
                    "{case}:\n  expected: {part}\n  got:      {message}"
                ));
            }
        }
    }

    assert!(BROKEN.len() >= 30);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = r#"{
  "api": {"token": "secret", "protocol": "grpc"},
  "global": {"apply": "later"},
  "myapp_web": {"min": 0,
                "maxx": 3},
  "Shop": {},
  "myapp_worker": {"up": 20, "down": 40}
}"#;

    let errors = parse(text, &no_env()).unwrap_err();
    let lines: Vec<String> = errors.to_string().lines().map(str::to_owned).collect();

    assert_eq!(errors.errors().len(), 6, "{lines:#?}");
    assert_eq!(lines.len(), 6, "{lines:#?}");
    assert!(lines[0].starts_with("line 2: api.protocol:"), "{lines:#?}");
    assert!(lines[1].starts_with("line 3: global.apply:"), "{lines:#?}");
    assert!(lines[2].starts_with("line 4: myapp_web.min:"), "{lines:#?}");
    assert!(
        lines[3].starts_with("line 5: myapp_web.maxx:"),
        "{lines:#?}"
    );
    assert!(lines[4].starts_with("line 6: Shop:"), "{lines:#?}");
    assert!(
        lines[5].starts_with("line 7: myapp_worker: down 40"),
        "{lines:#?}"
    );
}

#[test]
fn rejected_value_causes_no_conflict() {
    let text = r#"{"api": {"token": "secret"}, "myapp_web": {"min": 12, "max": "ten"}}"#;

    let errors = parse(text, &no_env()).unwrap_err();

    assert_eq!(errors.errors().len(), 1, "{errors}");
}

#[test]
fn rejected_timeout_causes_no_budget_conflict() {
    let text = r#"{"api": {"token": "secret", "timeout_seconds": "ten"},
                   "global": {"max_run_seconds": 20}}"#;

    let errors = parse(text, &no_env()).unwrap_err();

    assert_eq!(errors.errors().len(), 1, "{errors}");
    assert!(
        errors.to_string().contains("api.timeout_seconds: expected"),
        "{errors}"
    );
}

#[test]
fn timeout_below_max_run_is_accepted() {
    let text = r#"{"api": {"token": "secret", "timeout_seconds": 19.5},
                   "global": {"max_run_seconds": 20}}"#;

    let config = valid(text);

    assert_eq!(config.api.timeout, Duration::from_millis(19_500));
    assert_eq!(config.global.max_run, Duration::from_secs(20));
}

#[test]
fn global_conflict_is_reported_once() {
    let text = r#"{"api": {"token": "secret"}, "global": {"down": 90},
                   "a_web": {}, "b_web": {"min": 2}}"#;

    let errors = parse(text, &no_env()).unwrap_err();

    assert_eq!(errors.errors().len(), 1, "{errors}");
    assert!(
        errors.to_string().starts_with("line 1: global: down 90"),
        "{errors}"
    );
}

#[test]
fn token_value_never_appears_in_errors() {
    let cases = [
        (r#"{"api": {"token": "sekrit value"}}"#, no_env()),
        (r#"{"api": {"token": 987654}}"#, no_env()),
        ("{}", env_token("sekrit value")),
        ("{}", env_token("sekrit\n")),
    ];

    for (text, env) in cases {
        let message = problems(text, &env);
        assert!(!message.contains("sekrit"), "{message}");
        assert!(!message.contains("987654"), "{message}");
    }
}

#[test]
fn invalid_env_url_names_variable() {
    let env = EnvOverrides {
        api_url: Some("ftp://panel".to_owned()),
        ..EnvOverrides::default()
    };

    let message = problems(TOKEN_ONLY, &env);

    assert!(
        message.contains(r#"EASYPANEL_API_URL: invalid URL "ftp://panel": the scheme is ftp"#),
        "{message}"
    );
}

#[test]
fn invalid_env_token_names_variable() {
    let message = problems(TOKEN_ONLY, &env_token("two words"));

    assert!(
        message.contains("EASYPANEL_API_TOKEN: invalid API token: it contains whitespace"),
        "{message}"
    );
}

#[test]
fn env_token_with_bearer_prefix_gets_hint() {
    let message = problems(TOKEN_ONLY, &env_token("Bearer abc123"));

    assert!(
        message.contains(
            "EASYPANEL_API_TOKEN: invalid API token: it starts with `Bearer `, which the client \
             adds itself"
        ),
        "{message}"
    );
    assert!(!message.contains("abc123"), "{message}");
}

#[test]
fn env_problems_are_marked_as_env() {
    let env = EnvOverrides {
        api_url: Some("localhost:1".to_owned()),
        ..EnvOverrides::default()
    };
    let text = r#"{"api": {"token": "secret"}, "myapp_web": {"min": 0}}"#;

    let errors = parse(text, &env).unwrap_err();
    let from_env: Vec<bool> = errors
        .errors()
        .iter()
        .map(ConfigError::is_from_env)
        .collect();

    assert_eq!(from_env, vec![false, true], "{errors}");
}

#[test]
fn example_token_is_rejected_without_env() {
    let example = include_str!("../../services.example.json");

    let message = problems(example, &no_env());

    assert!(
        message.contains("api.token: invalid API token: it is still the placeholder"),
        "{message}"
    );
    assert!(message.contains("Settings → Users"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn example_token_is_overridden_by_env() {
    let example = include_str!("../../services.example.json");

    let config = parse(example, &env_token("from-env")).unwrap();

    assert_eq!(config.api.token.expose(), "from-env");
    assert_eq!(
        config.api.token_source,
        TokenSource::Env,
        "the placeholder does not count as a token in the file"
    );
    assert_eq!(config.api.max_concurrency, 8);
}

#[test]
fn empty_env_token_is_rejected_by_parse() {
    let message = problems(TOKEN_ONLY, &env_token(""));

    assert!(
        message.contains("EASYPANEL_API_TOKEN: invalid API token: it is empty"),
        "{message}"
    );
}

#[test]
fn minimal_file_gets_defaults() {
    let config = valid(TOKEN_ONLY);

    assert_eq!(config.api.base_url, "http://localhost:3000");
    assert_eq!(config.api.token.expose(), "secret");
    assert_eq!(config.api.token_source, TokenSource::File);
    assert!(config.api.verify_ssl);
    assert_eq!(config.api.timeout, Duration::from_secs(30));
    assert_eq!(config.api.protocol, ProtocolChoice::Auto);
    assert_eq!(config.api.max_concurrency, 8);
    assert_eq!(config.global.apply, ApplyMode::Auto);
    assert_eq!(config.global.apply_wait, Duration::from_secs(15));
    assert_eq!(config.global.max_run, Duration::from_secs(240));
    assert_eq!(config.logging.level, LogLevel::Info);
    assert_eq!(config.logging.format, LogFormat::Text);
    assert!(config.logging.console);
    assert_eq!(config.logging.max_size, 10 * 1024 * 1024);
    assert_eq!(config.logging.backup_count, 5);
    assert!(config.services.is_empty());
    assert_eq!(config.defaults, Policy::default());
}

#[test]
fn full_file_sets_every_value() {
    let text = r#"{
      "api": {"base_url": "https://panel.example.com", "token": "secret", "verify_ssl": false,
              "timeout_seconds": 12.5, "protocol": "trpc", "max_concurrency": 4},
      "global": {"ignore_exposed": true, "apply": "deploy", "apply_wait_seconds": 0,
                 "max_run_seconds": 100, "min": 2, "max": 6},
      "logging": {"level": "DEBUG", "format": "json", "console": false, "max_size": 1024,
                  "backup_count": 0},
      "myproject_web": {"min": 2, "max": 8, "up": 75, "down": 25, "ignore": false,
                        "cooldown_minutes": 5, "cooldown_up_minutes": 3,
                        "cooldown_down_minutes": 10}
    }"#;

    let config = valid(text);

    assert_eq!(config.api.base_url, "https://panel.example.com");
    assert!(!config.api.verify_ssl);
    assert_eq!(config.api.timeout, Duration::from_millis(12_500));
    assert_eq!(config.api.protocol, ProtocolChoice::Trpc);
    assert_eq!(config.api.max_concurrency, 4);
    assert_eq!(config.global.apply, ApplyMode::Deploy);
    assert_eq!(config.global.apply_wait, Duration::ZERO);
    assert_eq!(config.global.max_run, Duration::from_secs(100));
    assert_eq!(config.logging.level, LogLevel::Debug);
    assert_eq!(config.logging.format, LogFormat::Json);
    assert!(!config.logging.console);
    assert_eq!(config.logging.max_size, 1024);
    assert_eq!(config.logging.backup_count, 0);
    assert_eq!(
        config.policy("myproject_web"),
        &Policy {
            min: 2,
            max: 8,
            up: 75.0,
            down: 25.0,
            ignore: false,
            ignore_exposed: true,
            cooldown_up: minutes(3),
            cooldown_down: minutes(10),
        }
    );
}

#[test]
fn env_overrides_url_and_token() {
    let text = r#"{"api": {"base_url": "http://old:3000", "token": "from-file"}}"#;
    let env = EnvOverrides {
        api_url: Some("https://new.example.com/".to_owned()),
        api_token: Some("from-env".to_owned()),
    };

    let config = parse(text, &env).unwrap();

    assert_eq!(config.api.base_url, "https://new.example.com");
    assert_eq!(config.api.token.expose(), "from-env");
    assert_eq!(config.api.token_source, TokenSource::EnvOverFile);
}

#[test]
fn env_token_alone_suffices() {
    let config = parse("{}", &env_token("from-env")).unwrap();

    assert_eq!(config.api.token.expose(), "from-env");
    assert_eq!(config.api.token_source, TokenSource::Env);
}

#[test]
fn empty_file_token_is_placeholder_under_env() {
    let config = parse(r#"{"api": {"token": ""}}"#, &env_token("from-env")).unwrap();

    assert_eq!(config.api.token_source, TokenSource::Env);
}

#[test]
fn overridden_file_url_is_not_checked_as_url() {
    let env = EnvOverrides {
        api_url: Some("http://panel:3000".to_owned()),
        ..EnvOverrides::default()
    };

    let config = parse(
        r#"{"api": {"token": "secret", "base_url": "ftp://old"}}"#,
        &env,
    )
    .unwrap();

    assert_eq!(config.api.base_url, "http://panel:3000");
}

#[test]
fn trailing_slash_is_trimmed() {
    let config = valid(r#"{"api": {"token": "secret", "base_url": "http://panel:3000/"}}"#);

    assert_eq!(config.api.base_url, "http://panel:3000");
}

#[test]
fn path_prefix_is_kept() {
    let config =
        valid(r#"{"api": {"token": "secret", "base_url": "https://example.com/easypanel/"}}"#);

    assert_eq!(config.api.base_url, "https://example.com/easypanel");
}

#[test]
fn log_level_ignores_case() {
    for (word, level) in [
        ("debug", LogLevel::Debug),
        ("Info", LogLevel::Info),
        ("warning", LogLevel::Warning),
        ("ERROR", LogLevel::Error),
        ("critical", LogLevel::Critical),
    ] {
        let text = format!(r#"{{"api": {{"token": "secret"}}, "logging": {{"level": "{word}"}}}}"#);

        assert_eq!(valid(&text).logging.level, level, "{word}");
    }
}

#[test]
fn most_specific_cooldown_wins() {
    let text = r#"{
      "api": {"token": "secret"},
      "global": {"cooldown_minutes": 7, "cooldown_up_minutes": 2},
      "a_web": {},
      "b_web": {"cooldown_minutes": 4},
      "c_web": {"cooldown_minutes": 4, "cooldown_down_minutes": 9},
      "d_web": {"cooldown_up_minutes": 1}
    }"#;

    let config = valid(text);
    let cooldowns = |key: &str| {
        let policy = config.policy(key);
        (policy.cooldown_up, policy.cooldown_down)
    };

    assert_eq!(cooldowns("a_web"), (minutes(2), minutes(7)));
    assert_eq!(cooldowns("b_web"), (minutes(4), minutes(4)));
    assert_eq!(cooldowns("c_web"), (minutes(4), minutes(9)));
    assert_eq!(cooldowns("d_web"), (minutes(1), minutes(7)));
    assert_eq!(cooldowns("unlisted_web"), (minutes(2), minutes(7)));
}

#[test]
fn cooldown_defaults_to_five_minutes() {
    let config = valid(r#"{"api": {"token": "secret"}, "a_web": {}}"#);

    assert_eq!(config.policy("a_web").cooldown_up, minutes(5));
    assert_eq!(config.policy("a_web").cooldown_down, minutes(5));
}

#[test]
fn fractional_cooldown_is_kept() {
    let config = valid(r#"{"api": {"token": "secret"}, "a_web": {"cooldown_minutes": 0.5}}"#);

    assert_eq!(config.policy("a_web").cooldown_up, Duration::from_secs(30));
}

#[test]
fn global_defaults_apply_to_services() {
    let text = r#"{
      "api": {"token": "secret"},
      "global": {"min": 2, "max": 6, "up": 80, "down": 20, "ignore": true, "ignore_exposed": true},
      "shop_api": {"min": 3, "ignore": false}
    }"#;

    let config = valid(text);
    let service = config.policy("shop_api");
    let unlisted = config.policy("shop_worker");

    assert_eq!(service.min, 3);
    assert_eq!(service.max, 6);
    assert_eq!(service.up, 80.0);
    assert_eq!(service.down, 20.0);
    assert!(!service.ignore);
    assert!(service.ignore_exposed);
    assert_eq!(unlisted.min, 2);
    assert!(unlisted.ignore);
    assert!(unlisted.ignore_exposed);
}

#[test]
fn up_may_exceed_one_core() {
    let config = valid(r#"{"api": {"token": "secret"}, "a_web": {"up": 250, "down": 120}}"#);

    assert_eq!(config.policy("a_web").up, 250.0);
}

#[test]
fn service_keys_may_hold_underscores_and_dashes() {
    let config = valid(r#"{"api": {"token": "secret"}, "my-shop_web_v2": {}}"#);

    assert!(config.services.contains_key("my-shop_web_v2"));
}

#[test]
fn byte_order_mark_is_accepted() {
    let config = valid("\u{feff}{\"api\": {\"token\": \"secret\"}}");

    assert_eq!(config.api.token.expose(), "secret");
}

#[test]
fn missing_file_names_path_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("services.json");

    let message = load(&path, &no_env()).unwrap_err().to_string();

    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("not found"), "{message}");
    assert!(message.contains("--config PATH"), "{message}");
}

#[test]
fn unreadable_file_names_os_error() {
    let dir = tempfile::tempdir().unwrap();

    let message = load(dir.path(), &no_env()).unwrap_err().to_string();

    assert!(message.starts_with("cannot read config file"), "{message}");
    assert!(message.contains("os error"), "{message}");
}

#[test]
fn load_reads_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("services.json");
    std::fs::write(
        &path,
        r#"{"api": {"token": "secret"}, "shop_api": {"max": 3}}"#,
    )
    .unwrap();

    let config = load(&path, &no_env()).unwrap();

    assert_eq!(config.policy("shop_api").max, 3);
}

#[test]
fn token_debug_output_is_redacted() {
    let config = valid(r#"{"api": {"token": "sekrit"}}"#);

    assert!(!format!("{config:?}").contains("sekrit"));
    assert!(!config.api.token.to_string().contains("sekrit"));
}
