//! Logging through the real binary: level filtering, the text and JSON line formats, console
//! colors, `console: false`, size rotation of `autoscaler.log`, a log file that cannot be
//! opened, and secrets kept out of every output.
//!
//! Most checks compare the log file with stderr: with colors off, the console gets the same
//! lines as the file, so stderr is the record of every line a run wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, Timelike, Utc};
use easypanel_standin::{Fault, PanelOptions, ServiceSpec, ServiceType};
use serde_json::{json, Map, Value};

use crate::harness::{all_output, app, exit_code, stderr, stdout, Harness};

/// The level words, lowest first.
const LEVELS: [&str; 5] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

/// ANSI SGR color code of each level word on a terminal.
const LEVEL_COLORS: [(&str, &str); 5] = [
    ("DEBUG", "36"),
    ("INFO", "32"),
    ("WARNING", "33"),
    ("ERROR", "31"),
    ("CRITICAL", "35"),
];

/// Maximum time a run under `script` may take. A run that hangs fails its test.
const TERMINAL_RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Config of a service the stand-in panel does not have, which makes every run warn.
fn ghost_service() -> Value {
    json!({"min": 1})
}

fn log_path(harness: &Harness) -> PathBuf {
    harness.dir.path().join("autoscaler.log")
}

fn read_log(harness: &Harness) -> String {
    fs::read_to_string(log_path(harness)).expect("read autoscaler.log")
}

/// Returns the level word of a text line: `2024-01-15 10:30:45 - INFO - ...` gives `INFO`.
fn level_word(line: &str) -> &str {
    line.get(19..)
        .and_then(|rest| rest.strip_prefix(" - "))
        .and_then(|rest| rest.split(" - ").next())
        .unwrap_or_else(|| panic!("not a text log line: {line:?}"))
}

/// Parses the `key=value` fields at the end of a text line. Quoted values are unescaped.
fn text_fields(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut rest = text;

    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .unwrap_or_else(|| panic!("no `key=value` in {rest:?}"));
        let (value, remaining) = match after.strip_prefix('"') {
            Some(quoted) => unquote(quoted),
            None => {
                let (value, remaining) = after.split_once(' ').unwrap_or((after, ""));
                (value.to_string(), remaining)
            }
        };
        fields.insert(name.to_string(), value);
        rest = remaining.strip_prefix(' ').unwrap_or(remaining);
    }
    fields
}

/// Reads a quoted value up to its closing quote, given the text after the opening quote.
/// Returns the value and the text after the closing quote.
fn unquote(quoted: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = quoted.char_indices();

    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return (value, &quoted[at + 1..]),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, other)) => value.push(other),
                None => break,
            },
            other => value.push(other),
        }
    }
    panic!("unterminated quoted value: {quoted:?}")
}

/// Parses every line of `text` as one JSON object, naming `source` when one does not parse.
fn json_objects(text: &str, source: &str) -> Vec<Map<String, Value>> {
    text.lines()
        .map(|line| match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => object,
            other => panic!("{source}: line is not a JSON object ({other:?}): {line:?}"),
        })
        .collect()
}

/// Returns the first object whose `message` is `message` and whose fields include `with`.
fn find_line<'a>(
    objects: &'a [Map<String, Value>],
    message: &str,
    with: &[(&str, Value)],
) -> &'a Map<String, Value> {
    objects
        .iter()
        .find(|object| {
            object.get("message") == Some(&Value::from(message))
                && with
                    .iter()
                    .all(|(name, value)| object.get(*name) == Some(value))
        })
        .unwrap_or_else(|| panic!("no line `{message}` with {with:?} in {objects:#?}"))
}

fn count_lines(text: &str, fragment: &str) -> usize {
    text.lines().filter(|line| line.contains(fragment)).count()
}

// Levels

/// Events the level tests make happen, each a piece of the text line it writes.
const LEVEL_EVENTS: [(&str, &str); 6] = [
    (
        "DEBUG",
        " - DEBUG - API request method=GET \
         api_endpoint=/api/trpc/projects.listProjectsAndServices status_code=200 \
         response_time_ms=",
    ),
    ("INFO", " - INFO - [shop_api] scale up to 2 "),
    ("INFO", " - INFO - run finished services_seen=1 "),
    (
        "WARNING",
        " - WARNING - [shop_ghost] configured service not found in the panel",
    ),
    ("ERROR", " - ERROR - [shop_api] scaling failed: "),
    ("CRITICAL", " - CRITICAL - run failed: "),
];

/// Makes events of every level happen at the `configured` level, in two runs: a scaling run
/// whose update the panel rejects (DEBUG to ERROR), and a run with a wrong token (CRITICAL).
/// Checks that the file and stderr contain exactly the lines at `configured` and above, and
/// returns the file's text.
fn assert_level_filters(configured: &str) -> String {
    let entries = json!({"logging": {"level": configured}, "shop_ghost": ghost_service()});
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        entries.clone(),
    );
    harness
        .panel
        .set_fault("services.app.updateDeploy", Fault::status(500, "boom"));

    let scaling_run = harness.run(&[]);
    let mut rejected_entries = entries;
    rejected_entries["api"] = json!({"token": "not-the-token"});
    harness.write_config(rejected_entries);
    let rejected_run = harness.run(&[]);

    assert_eq!(exit_code(&scaling_run), 1, "{}", all_output(&scaling_run));
    assert_eq!(exit_code(&rejected_run), 2, "{}", all_output(&rejected_run));
    assert_eq!(stdout(&scaling_run), "");
    assert_eq!(stdout(&rejected_run), "");
    let log = read_log(&harness);
    let console = stderr(&scaling_run) + &stderr(&rejected_run);
    assert_eq!(
        console, log,
        "at {configured}: stderr and autoscaler.log differ"
    );

    let written: Vec<&str> = LEVELS
        .iter()
        .copied()
        .skip_while(|level| *level != configured)
        .collect();
    for line in log.lines() {
        let word = level_word(line);
        assert!(
            written.contains(&word),
            "at {configured}: line at {word} written: {line}"
        );
    }
    for (level, fragment) in LEVEL_EVENTS {
        let is_expected = written.contains(&level);
        assert_eq!(
            log.contains(fragment),
            is_expected,
            "at {configured}: {level} line `{fragment}` expected: {is_expected}\n{log}"
        );
    }
    log
}

#[test]
fn debug_level_writes_every_level() {
    assert_level_filters("DEBUG");
}

#[test]
fn info_level_hides_debug() {
    assert_level_filters("INFO");
}

#[test]
fn warning_level_hides_info() {
    assert_level_filters("WARNING");
}

#[test]
fn error_level_hides_warning() {
    assert_level_filters("ERROR");
}

#[test]
fn critical_level_writes_criticals_only() {
    let log = assert_level_filters("CRITICAL");

    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "only the failed run's CRITICAL line: {log}");
    assert!(lines[0].contains(" - CRITICAL - run failed: "), "{log}");
}

// Formats

#[test]
fn text_line_has_time_level_service_fields() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "INFO", "format": "text"}}),
    );

    let started = Local::now().naive_local().with_nanosecond(0).unwrap();
    let output = harness.run(&[]);
    let finished = Local::now().naive_local();

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let log = read_log(&harness);
    assert_eq!(stderr(&output), log);
    let service_line = log
        .lines()
        .find(|line| line.contains("[shop_api] scale up to 2"))
        .unwrap_or_else(|| panic!("no scale line in {log}"));

    let (time, rest) = service_line.split_at(19);
    let time = NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|error| panic!("time {time:?}: {error}"));
    assert!(
        started <= time && time <= finished,
        "local time {time} is not between {started} and {finished}"
    );
    let fields = rest
        .strip_prefix(" - INFO - [shop_api] scale up to 2 ")
        .unwrap_or_else(|| panic!("unexpected level, service or message: {service_line}"));
    assert!(
        format!(" {fields}").contains(r#" reason="CPU at or above up threshold 70%" "#),
        "a reason with spaces is quoted: {service_line}"
    );
    let fields = text_fields(fields);
    let expected = [
        ("reason", "CPU at or above up threshold 70%"),
        ("cpu_usage", "90"),
        ("replicas", "1"),
        ("target_replicas", "2"),
        ("action", "scale_up"),
        ("project_name", "shop"),
        ("min_replicas", "1"),
        ("max_replicas", "10"),
        ("up_threshold", "70"),
        ("down_threshold", "30"),
    ];
    for (name, value) in expected {
        assert_eq!(
            fields.get(name).map(String::as_str),
            Some(value),
            "field {name} in {service_line}"
        );
    }
    assert!(!fields.contains_key("service_name"), "{service_line}");

    let summary_line = log
        .lines()
        .find(|line| line.contains(" run finished "))
        .unwrap_or_else(|| panic!("no summary line in {log}"));
    let summary = summary_line
        .get(19..)
        .and_then(|rest| rest.strip_prefix(" - INFO - run finished "))
        .unwrap_or_else(|| panic!("unexpected level or message: {summary_line}"));
    let summary = text_fields(summary);
    for (name, value) in [
        ("services_seen", "1"),
        ("candidates", "1"),
        ("scaled", "1"),
        ("held", "0"),
        ("skipped", "0"),
        ("failed", "0"),
    ] {
        assert_eq!(
            summary.get(name).map(String::as_str),
            Some(value),
            "field {name} in {summary_line}"
        );
    }
    for name in ["api_requests", "elapsed_ms"] {
        let value = summary.get(name).map(|value| value.parse::<u64>());
        assert!(
            matches!(value, Some(Ok(_))),
            "{name} is a count: {summary_line}"
        );
    }
}

#[test]
fn text_time_follows_tz() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "INFO", "format": "text"}}),
    );
    // POSIX TZ for a zone 5 hours 30 minutes east of UTC, with no daylight saving time.
    let offset = chrono::Duration::minutes(5 * 60 + 30);

    let started = (Utc::now() + offset)
        .naive_utc()
        .with_nanosecond(0)
        .unwrap();
    let output = harness
        .command(&[])
        .env("TZ", "<+0530>-5:30")
        .output()
        .expect("run autoscaler");
    let finished = (Utc::now() + offset).naive_utc();

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let console = stderr(&output);
    let first_line = console.lines().next().expect("a log line");
    let time = NaiveDateTime::parse_from_str(&first_line[..19], "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|error| panic!("{first_line}: {error}"));
    assert!(
        started <= time && time <= finished,
        "time {time} is not the local time of TZ=<+0530>-5:30, between {started} and {finished}"
    );
}

/// Checks the keys every JSON line carries, naming `source` in failures.
fn assert_json_line_basics(object: &Map<String, Value>, source: &str) {
    let timestamp = object["timestamp"]
        .as_str()
        .unwrap_or_else(|| panic!("{source}: timestamp is not a string: {object:?}"));
    assert!(
        DateTime::parse_from_rfc3339(timestamp).is_ok(),
        "{source}: timestamp {timestamp} is not RFC 3339"
    );
    assert_eq!(
        timestamp.get(19..20),
        Some("."),
        "{source}: timestamp {timestamp} has no fraction of a second"
    );
    assert!(
        timestamp.ends_with('Z'),
        "{source}: timestamp {timestamp} is not in UTC"
    );
    let level = object["level"].as_str().unwrap_or_default();
    assert!(
        LEVELS.contains(&level),
        "{source}: level {level:?} is not a level word"
    );
    assert!(object["message"].is_string(), "{source}: {object:?}");
}

#[test]
fn json_lines_carry_typed_fields() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "DEBUG", "format": "json"}, "shop_ghost": ghost_service()}),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let log = read_log(&harness);
    assert_eq!(stderr(&output), log);
    let objects = json_objects(&log, "autoscaler.log");
    for object in &objects {
        assert_json_line_basics(object, "autoscaler.log");
    }

    let service = find_line(
        &objects,
        "scale up to 2",
        &[("service_name", json!("shop_api"))],
    );
    assert_eq!(service["level"], "INFO");
    assert_eq!(service["project_name"], "shop");
    assert!(service["cpu_usage"].is_number(), "{service:?}");
    assert_eq!(service["cpu_usage"].as_f64(), Some(90.0));
    assert_eq!(service["replicas"].as_u64(), Some(1));
    assert_eq!(service["target_replicas"].as_u64(), Some(2));
    assert_eq!(service["action"], "scale_up");
    assert_eq!(service["reason"], "CPU at or above up threshold 70%");
    assert_eq!(service["up_threshold"].as_f64(), Some(70.0));
    assert_eq!(service["down_threshold"].as_f64(), Some(30.0));
    assert_eq!(service["min_replicas"].as_u64(), Some(1));
    assert_eq!(service["max_replicas"].as_u64(), Some(10));

    let summary = find_line(&objects, "run finished", &[]);
    assert_eq!(summary["level"], "INFO");
    let counts = [
        ("services_seen", Some(1)),
        ("candidates", Some(1)),
        ("scaled", Some(1)),
        ("held", Some(0)),
        ("skipped", Some(0)),
        ("failed", Some(0)),
        ("api_requests", None),
        ("elapsed_ms", None),
    ];
    for (name, expected) in counts {
        let value = summary.get(name).and_then(Value::as_u64);
        assert!(value.is_some(), "{name} is a count: {summary:?}");
        if expected.is_some() {
            assert_eq!(value, expected, "{name} in {summary:?}");
        }
    }
    assert!(summary["api_requests"].as_u64() > Some(0), "{summary:?}");

    let request = find_line(
        &objects,
        "API request",
        &[(
            "api_endpoint",
            json!("/api/trpc/projects.listProjectsAndServices"),
        )],
    );
    assert_eq!(request["level"], "DEBUG");
    assert_eq!(request["status_code"].as_u64(), Some(200));
    assert!(request["response_time_ms"].is_u64(), "{request:?}");

    let warning = find_line(
        &objects,
        "configured service not found in the panel; check the spelling (project_service)",
        &[("service_name", json!("shop_ghost"))],
    );
    assert_eq!(warning["level"], "WARNING");
}

#[test]
fn multiline_panel_error_stays_one_line() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "INFO", "format": "text"}}),
    );
    harness.panel.set_fault(
        "services.app.updateDeploy",
        Fault::status(
            500,
            "update failed\nrpc error: code = Unknown desc = update out of sequence",
        ),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 1, "{}", all_output(&output));
    let log = read_log(&harness);
    assert_eq!(stderr(&output), log);
    for line in log.lines() {
        let time = line.get(..19).unwrap_or(line);
        assert!(
            NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S").is_ok(),
            "line does not start with a time: {line:?}\n{log}"
        );
        assert!(LEVELS.contains(&level_word(line)), "{line:?}");
    }
    assert_eq!(
        count_lines(&log, " - ERROR - [shop_api] scaling failed: "),
        1,
        "{log}"
    );
    assert_eq!(
        count_lines(&log, "update out of sequence"),
        count_lines(&log, " - ERROR - [shop_api] scaling failed: ")
            + count_lines(&log, " - WARNING - [shop_api] request failed; retrying "),
        "the panel's message stays on the lines that quote it\n{log}"
    );
}

// Console colors

/// Returns the shell form of `text`, single-quoted.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs the binary with stdin, stdout and stderr on a pseudo-terminal, through util-linux
/// `script`, with `NO_COLOR` set to `no_color` or unset. Returns the exit code and what the
/// terminal showed, with the terminal's `\r\n` line ends turned back into `\n`.
fn run_on_terminal(harness: &Harness, no_color: Option<&str>) -> (i32, String) {
    let command_line = format!(
        "{} --config {}",
        shell_quote(env!("CARGO_BIN_EXE_autoscaler")),
        shell_quote(harness.config_path.to_str().expect("UTF-8 config path")),
    );
    let mut command = assert_cmd::Command::new("script");
    command
        .args([
            "--quiet",
            "--return",
            "--command",
            &command_line,
            "/dev/null",
        ])
        .env_remove("EASYPANEL_API_URL")
        .env_remove("EASYPANEL_API_TOKEN")
        .env_remove("NO_COLOR")
        .timeout(TERMINAL_RUN_TIMEOUT);
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }

    let output = command
        .output()
        .expect("run `script` from util-linux, which puts the binary on a pseudo-terminal");
    let terminal_output = stdout(&output).replace("\r\n", "\n");
    (exit_code(&output), terminal_output)
}

/// Replaces each painted level word with the plain word.
fn strip_level_colors(text: &str) -> String {
    let mut plain = text.to_string();
    for (word, code) in LEVEL_COLORS {
        plain = plain.replace(&format!("\x1b[{code}m{word}\x1b[0m"), word);
    }
    plain
}

#[test]
fn console_on_terminal_is_colored() {
    // The binary treats an empty NO_COLOR as unset.
    for no_color in [None, Some("")] {
        let harness = Harness::new(
            PanelOptions::trpc(),
            vec![app("shop", "api", 1, 90.0)],
            json!({"logging": {"level": "DEBUG"}, "shop_ghost": ghost_service()}),
        );

        let (code, terminal_output) = run_on_terminal(&harness, no_color);

        assert_eq!(code, 0, "NO_COLOR={no_color:?}: {terminal_output}");
        for painted in [
            "\x1b[36mDEBUG\x1b[0m",
            "\x1b[32mINFO\x1b[0m",
            "\x1b[33mWARNING\x1b[0m",
        ] {
            assert!(
                terminal_output.contains(&format!(" - {painted} - ")),
                "NO_COLOR={no_color:?}: no {painted:?} in {terminal_output:?}"
            );
        }
        let log = read_log(&harness);
        assert!(!log.contains('\x1b'), "autoscaler.log is colored: {log:?}");
        assert_eq!(
            strip_level_colors(&terminal_output),
            log,
            "NO_COLOR={no_color:?}: the terminal shows other text than the file, or more color"
        );
    }
}

#[test]
fn no_color_on_terminal_is_plain() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "DEBUG"}}),
    );

    let (code, terminal_output) = run_on_terminal(&harness, Some("1"));

    assert_eq!(code, 0, "{terminal_output}");
    assert!(
        terminal_output.contains(" - INFO - [shop_api] scale up to 2 "),
        "{terminal_output}"
    );
    assert!(!terminal_output.contains('\x1b'), "{terminal_output:?}");
    assert_eq!(terminal_output, read_log(&harness));
}

#[test]
fn json_on_terminal_is_plain() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "DEBUG", "format": "json"}}),
    );

    let (code, terminal_output) = run_on_terminal(&harness, None);

    assert_eq!(code, 0, "{terminal_output}");
    assert!(!terminal_output.contains('\x1b'), "{terminal_output:?}");
    let objects = json_objects(&terminal_output, "terminal");
    assert!(!objects.is_empty());
    assert_eq!(terminal_output, read_log(&harness));
}

#[test]
fn console_in_pipe_is_plain() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "DEBUG"}, "shop_ghost": ghost_service()}),
    );

    let output = harness
        .command(&[])
        .env_remove("NO_COLOR")
        .output()
        .expect("run autoscaler");

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let console = stderr(&output);
    assert!(console.contains(" - WARNING - [shop_ghost] "), "{console}");
    assert!(!console.contains('\x1b'), "{console:?}");
    assert_eq!(console, read_log(&harness));
}

// Console off

#[test]
fn console_false_prints_nothing() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "DEBUG", "console": false}, "shop_ghost": ghost_service()}),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert_eq!(harness.replicas("shop_api"), 2);
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
    let log = read_log(&harness);
    for fragment in [
        " - DEBUG - API request ",
        " - INFO - [shop_api] scale up to 2 ",
        " - WARNING - [shop_ghost] ",
        " - INFO - run finished ",
    ] {
        assert!(log.contains(fragment), "no `{fragment}` in {log}");
    }
}

// Rotation

/// Settings of a run of the rotation tests.
struct Rotation {
    level: &'static str,
    max_size: u64,
    backup_count: u32,
    runs: usize,
}

/// A log file or backup, with its name and text.
struct LogFile {
    name: String,
    text: String,
}

/// Runs the binary `rotation.runs` times with JSON logs rotating by `rotation`. Returns the
/// harness and everything the runs printed on stderr, which is every line they logged.
fn run_rotating(rotation: &Rotation) -> (Harness, String) {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({
            "logging": {
                "level": rotation.level,
                "format": "json",
                "max_size": rotation.max_size,
                "backup_count": rotation.backup_count,
            },
            "shop_ghost": ghost_service(),
        }),
    );

    let mut console = String::new();
    for _ in 0..rotation.runs {
        let output = harness.run(&[]);
        assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
        console.push_str(&stderr(&output));
    }
    (harness, console)
}

/// Returns the names of the files in the app directory that start with `autoscaler.log`.
fn log_file_names(harness: &Harness) -> BTreeSet<String> {
    fs::read_dir(harness.dir.path())
        .expect("read the app directory")
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("autoscaler.log"))
        .collect()
}

/// Returns `autoscaler.log` and the backups `.1` to `.{backups}`.
fn expected_names(backups: u32) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = (1..=backups)
        .map(|number| format!("autoscaler.log.{number}"))
        .collect();
    names.insert("autoscaler.log".to_string());
    names
}

/// Reads the log file and its backups, oldest first, after checking that the backups are
/// numbered from 1 without a gap and that there are at most `backup_count` of them.
fn read_rotated(harness: &Harness, backup_count: u32) -> Vec<LogFile> {
    let names = log_file_names(harness);
    let backups = (names.len() - 1) as u32;
    assert_eq!(names, expected_names(backups), "backups numbered from 1");
    assert!(
        backups <= backup_count,
        "{backups} backups kept, at most {backup_count} allowed: {names:?}"
    );

    let mut ordered: Vec<String> = (1..=backups)
        .rev()
        .map(|number| format!("autoscaler.log.{number}"))
        .collect();
    ordered.push("autoscaler.log".to_string());
    ordered
        .into_iter()
        .map(|name| {
            let text = fs::read_to_string(harness.dir.path().join(&name)).unwrap();
            LogFile { name, text }
        })
        .collect()
}

/// Checks the rotation rules on `files`, oldest first. Each file contains whole JSON lines and
/// stays within `max_size` unless it contains a single longer line. Each rotation was needed,
/// and the files together are the newest part of `console`, with no line lost or changed.
fn assert_rotated(files: &[LogFile], console: &str, max_size: u64) {
    for file in files {
        assert!(
            file.text.ends_with('\n'),
            "{} ends inside a line: {:?}",
            file.name,
            file.text
        );
        json_objects(&file.text, &file.name);
        let size = file.text.len() as u64;
        let lines = file.text.lines().count();
        assert!(
            size <= max_size || lines == 1,
            "{} has {size} bytes in {lines} lines, past max_size {max_size}",
            file.name
        );
    }

    for pair in files.windows(2) {
        let (older, newer) = (&pair[0], &pair[1]);
        let first_line = newer.text.split_inclusive('\n').next().unwrap_or_default();
        assert!(
            (older.text.len() + first_line.len()) as u64 > max_size,
            "{} was rotated at {} bytes, though the next line of {} bytes fit in {max_size}",
            older.name,
            older.text.len(),
            first_line.len()
        );
    }

    let retained: String = files.iter().map(|file| file.text.as_str()).collect();
    assert!(
        console.ends_with(&retained),
        "the files are not the newest lines of the runs, in order\nfiles:\n{retained}\nstderr:\n{console}"
    );
}

#[test]
fn zero_backups_truncates_in_place() {
    let rotation = Rotation {
        level: "INFO",
        max_size: 1_000,
        backup_count: 0,
        runs: 3,
    };

    let (harness, console) = run_rotating(&rotation);

    let files = read_rotated(&harness, rotation.backup_count);
    assert_rotated(&files, &console, rotation.max_size);
    assert_eq!(log_file_names(&harness), expected_names(0));
    assert!(
        files[0].text.len() < console.len(),
        "the runs logged {} bytes, so the file was truncated at least once",
        console.len()
    );
}

#[test]
fn one_backup_keeps_previous_file() {
    let rotation = Rotation {
        level: "INFO",
        max_size: 1_000,
        backup_count: 1,
        runs: 3,
    };

    let (harness, console) = run_rotating(&rotation);

    let files = read_rotated(&harness, rotation.backup_count);
    assert_rotated(&files, &console, rotation.max_size);
    assert_eq!(log_file_names(&harness), expected_names(1));
}

#[test]
fn three_backups_number_up_to_three() {
    let rotation = Rotation {
        level: "INFO",
        max_size: 1_000,
        backup_count: 3,
        runs: 6,
    };

    let (harness, console) = run_rotating(&rotation);

    let files = read_rotated(&harness, rotation.backup_count);
    assert_rotated(&files, &console, rotation.max_size);
    assert_eq!(log_file_names(&harness), expected_names(3));
    let retained: usize = files.iter().map(|file| file.text.len()).sum();
    assert!(
        retained < console.len(),
        "the oldest lines of {} bytes were deleted",
        console.len()
    );
}

#[test]
fn rotation_loses_no_line() {
    let rotation = Rotation {
        level: "INFO",
        max_size: 1_000,
        backup_count: 20,
        runs: 5,
    };

    let (harness, console) = run_rotating(&rotation);

    let files = read_rotated(&harness, rotation.backup_count);
    assert_rotated(&files, &console, rotation.max_size);
    assert!(
        files.len() >= 4,
        "several rotations happened: {}",
        files.len()
    );
    let retained: String = files.iter().map(|file| file.text.as_str()).collect();
    assert_eq!(
        retained, console,
        "every line the runs logged is in the files"
    );
    let finished = json_objects(&retained, "log files")
        .iter()
        .filter(|object| object["message"] == "run finished")
        .count();
    assert_eq!(finished, rotation.runs);
}

#[test]
fn oversized_line_gets_own_file() {
    // At DEBUG the response body of the inventory request is one line of over a kilobyte.
    let rotation = Rotation {
        level: "DEBUG",
        max_size: 1_000,
        backup_count: 50,
        runs: 2,
    };

    let (harness, console) = run_rotating(&rotation);

    let files = read_rotated(&harness, rotation.backup_count);
    assert_rotated(&files, &console, rotation.max_size);
    assert!(
        files
            .iter()
            .any(|file| file.text.len() as u64 > rotation.max_size),
        "a line longer than max_size was logged"
    );
    let retained: String = files.iter().map(|file| file.text.as_str()).collect();
    assert_eq!(
        retained, console,
        "every line the runs logged is in the files"
    );
}

#[test]
fn next_run_rotates_full_file() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "INFO", "format": "json"}}),
    );
    let first = harness.run(&[]);
    let first_size = read_log(&harness).len();

    // The first run filled the file to exactly max_size, so the second run's first line
    // no longer fits and the file rotates before it.
    harness.write_config(json!({"logging": {
        "level": "INFO",
        "format": "json",
        "max_size": first_size,
        "backup_count": 1,
    }}));
    let second = harness.run(&[]);

    assert_eq!(exit_code(&first), 0, "{}", all_output(&first));
    assert_eq!(exit_code(&second), 0, "{}", all_output(&second));
    assert_eq!(log_file_names(&harness), expected_names(1));
    let backup = fs::read_to_string(harness.dir.path().join("autoscaler.log.1")).unwrap();
    assert_eq!(
        backup,
        stderr(&first),
        "the first run's file became the backup"
    );
    assert_eq!(
        read_log(&harness),
        stderr(&second),
        "the second run starts a fresh file"
    );
}

// Log file problems

#[test]
fn unopenable_log_file_does_not_stop_run() {
    for console in [true, false] {
        let harness = Harness::new(
            PanelOptions::trpc(),
            vec![app("shop", "api", 1, 90.0)],
            json!({"logging": {"level": "INFO", "console": console}}),
        );
        let path = log_path(&harness);
        fs::create_dir(&path).expect("make autoscaler.log a directory");

        let output = harness.run(&[]);

        assert_eq!(
            exit_code(&output),
            0,
            "console {console}: {}",
            all_output(&output)
        );
        assert_eq!(harness.replicas("shop_api"), 2, "console {console}");
        let console_text = stderr(&output);
        let notices: Vec<&str> = console_text
            .lines()
            .filter(|line| line.contains("log file"))
            .collect();
        assert_eq!(notices.len(), 1, "console {console}: {console_text}");
        let expected = format!(" - WARNING - failed to open log file {}: ", path.display());
        assert!(
            notices[0].contains(&expected),
            "console {console}: {}",
            notices[0]
        );
        assert!(
            notices[0].ends_with("; logging to the console only"),
            "console {console}: {}",
            notices[0]
        );
        assert_eq!(
            count_lines(&console_text, " - INFO - run finished "),
            1,
            "console {console}: the run's lines go to stderr instead\n{console_text}"
        );
        assert!(path.is_dir(), "console {console}");
    }
}

#[test]
fn unopenable_log_file_notice_is_json() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"logging": {"level": "INFO", "format": "json", "console": false}}),
    );
    let path = log_path(&harness);
    fs::create_dir(&path).expect("make autoscaler.log a directory");

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let console = stderr(&output);
    let objects = json_objects(&console, "stderr");
    let prefix = format!("failed to open log file {}: ", path.display());
    let notices: Vec<_> = objects
        .iter()
        .filter(|object| {
            object["message"]
                .as_str()
                .unwrap_or_default()
                .contains("log file")
        })
        .collect();
    assert_eq!(notices.len(), 1, "{console}");
    assert_eq!(notices[0]["level"], "WARNING");
    assert!(
        notices[0]["message"].as_str().unwrap().starts_with(&prefix),
        "{console}"
    );
    find_line(&objects, "run finished", &[]);
}

// Secrets

/// Runs a scaling run and a run with a rejected token at DEBUG in `format`, then checks that
/// no secret of the panel's documents and neither token appear in any output.
fn assert_no_secrets(format: &str) {
    let logging = json!({"level": "DEBUG", "format": format});
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![
            app("shop", "api", 1, 90.0),
            ServiceSpec::new("shop", "db").service_type(ServiceType::Postgres),
        ],
        json!({"logging": logging}),
    );
    let rejected_token = "rejected-token-7f3a9c";

    let scaling_run = harness.run(&[]);
    harness.write_config(json!({"logging": logging, "api": {"token": rejected_token}}));
    let rejected_run = harness.run(&[]);

    assert_eq!(exit_code(&scaling_run), 0, "{}", all_output(&scaling_run));
    assert_eq!(exit_code(&rejected_run), 2, "{}", all_output(&rejected_run));
    assert_eq!(harness.replicas("shop_api"), 2);
    let log = read_log(&harness);
    assert!(
        log.contains("API response body"),
        "response bodies are logged at DEBUG, so the check covers them"
    );
    let mut secrets = harness.panel.secrets();
    assert!(secrets.contains(&harness.panel.options().token));
    assert!(secrets.iter().any(|secret| secret.contains("-db-")));
    secrets.push(rejected_token.to_string());
    let outputs = [
        ("scaling run stdout", stdout(&scaling_run)),
        ("scaling run stderr", stderr(&scaling_run)),
        ("rejected run stdout", stdout(&rejected_run)),
        ("rejected run stderr", stderr(&rejected_run)),
        ("autoscaler.log", log),
    ];
    for (source, text) in &outputs {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{format}: {source} contains the secret {secret}"
            );
        }
    }
}

#[test]
fn debug_text_log_has_no_secrets() {
    assert_no_secrets("text");
}

#[test]
fn debug_json_log_has_no_secrets() {
    assert_no_secrets("json");
}
