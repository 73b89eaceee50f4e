//! Tests of the whole layer, fed by `tracing` macros under a scoped subscriber.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;
use tempfile::TempDir;
use tracing::dispatcher::{self, Dispatch};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Registry;

use super::*;
use crate::config::{LogFormat, LogLevel, LoggingSettings};

/// A writer whose bytes the test reads back after logging.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn settings(level: LogLevel, format: LogFormat) -> LoggingSettings {
    LoggingSettings {
        level,
        format,
        ..LoggingSettings::default()
    }
}

/// Runs `emit` under a subscriber holding only `layer`.
fn with_layer(layer: LogLayer, emit: impl FnOnce()) {
    let dispatch = Dispatch::new(Registry::default().with(layer));
    dispatcher::with_default(&dispatch, emit);
}

/// Returns what `emit` logs under `settings`, with colors on or off.
fn capture(settings: &LoggingSettings, color: bool, emit: impl FnOnce()) -> String {
    let buffer = SharedBuffer::default();
    with_layer(layer_for_writer(settings, buffer.clone(), color), emit);
    buffer.text()
}

/// Returns the level word of each text line.
fn level_words(output: &str) -> Vec<String> {
    output
        .lines()
        .map(|line| line.split(" - ").nth(1).unwrap().to_string())
        .collect()
}

fn emit_one_of_each_level() {
    tracing::trace!("trace event");
    tracing::debug!("debug event");
    tracing::info!("info event");
    tracing::warn!("warning event");
    tracing::error!("error event");
    tracing::error!(critical = true, "critical event");
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

    for (level, expected) in table {
        let output = capture(
            &settings(level, LogFormat::Text),
            false,
            emit_one_of_each_level,
        );

        assert_eq!(level_words(&output), expected, "at {level:?}");
    }
}

#[test]
fn dependency_debug_hidden_at_debug() {
    let output = capture(&settings(LogLevel::Debug, LogFormat::Text), false, || {
        tracing::debug!(target: "reqwest::connect", "starting new connection");
        tracing::info!(target: "hyper::client", "pooling idle connection");
        tracing::warn!(target: "rustls::conn", "sent fatal alert");
        tracing::debug!("own debug event");
    });

    assert_eq!(level_words(&output), ["WARNING", "DEBUG"]);
    assert!(output.contains("sent fatal alert"));
    assert!(!output.contains("starting new connection"));
    assert!(!output.contains("pooling idle connection"));
}

#[test]
fn critical_marker_is_not_written() {
    let text = capture(&settings(LogLevel::Info, LogFormat::Text), false, || {
        tracing::error!(critical = true, service_name = "shop_api", "state lost");
    });
    let json = capture(&settings(LogLevel::Info, LogFormat::Json), false, || {
        tracing::error!(critical = true, "state lost");
    });

    assert!(
        text.contains(" - CRITICAL - [shop_api] state lost\n"),
        "{text}"
    );
    assert!(!text.contains("critical"));
    let object: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(object["level"], "CRITICAL");
    assert!(object.get("critical").is_none());
}

#[test]
fn critical_field_elsewhere_is_plain_field() {
    let output = capture(&settings(LogLevel::Debug, LogFormat::Text), false, || {
        tracing::error!(critical = false, "not critical");
        tracing::warn!(critical = true, "warning only");
    });

    let lines: Vec<_> = output.lines().collect();
    assert!(lines[0].ends_with(" - ERROR - not critical critical=false"));
    assert!(lines[1].ends_with(" - WARNING - warning only critical=true"));
}

#[test]
fn text_line_from_macro() {
    let output = capture(&settings(LogLevel::Info, LogFormat::Text), false, || {
        tracing::info!(
            service_name = "shop_api",
            cpu_usage = 75.2,
            replicas = 2u32,
            action = "hold",
            "Service status - CPU: {:.1}%, Replicas: {}",
            75.2,
            2
        );
    });

    let (time, rest) = output.split_at(19);
    assert!(
        NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{time}"
    );
    assert_eq!(
        rest,
        " - INFO - [shop_api] Service status - CPU: 75.2%, Replicas: 2 cpu_usage=75.2 \
         replicas=2 action=hold\n"
    );
}

#[test]
fn json_line_from_macro_keeps_types() {
    let output = capture(&settings(LogLevel::Info, LogFormat::Json), false, || {
        let error = io::Error::other("connection reset");
        tracing::info!(
            service_name = "shop_api",
            cpu_usage = 75.0,
            replicas = 2u32,
            trend = -1i64,
            status_code = 200u16,
            response_time_ms = 12u64,
            dry_run = true,
            method = %"POST",
            error = &error as &dyn std::error::Error,
            "Service status"
        );
    });

    assert_eq!(output.lines().count(), 1);
    let object: Value = serde_json::from_str(&output).unwrap();
    let timestamp = object["timestamp"].as_str().unwrap();
    assert!(timestamp.ends_with('Z'), "{timestamp}");
    assert!(timestamp.contains('.'), "{timestamp}");
    assert!(
        DateTime::parse_from_rfc3339(timestamp).is_ok(),
        "{timestamp}"
    );
    assert_eq!(object["level"], "INFO");
    assert_eq!(object["message"], "Service status");
    assert_eq!(object["service_name"], "shop_api");
    assert!(object["cpu_usage"].is_f64());
    assert_eq!(object["cpu_usage"].as_f64(), Some(75.0));
    assert_eq!(object["replicas"].as_u64(), Some(2));
    assert_eq!(object["trend"].as_i64(), Some(-1));
    assert_eq!(object["status_code"].as_u64(), Some(200));
    assert_eq!(object["response_time_ms"].as_u64(), Some(12));
    assert_eq!(object["dry_run"], true);
    assert_eq!(object["method"], "POST");
    assert_eq!(object["error"], "connection reset");
}

#[test]
fn json_non_finite_cpu_is_null() {
    let output = capture(&settings(LogLevel::Info, LogFormat::Json), false, || {
        tracing::info!(cpu_usage = f64::NAN, "no samples");
    });

    let object: Value = serde_json::from_str(&output).unwrap();
    assert!(object["cpu_usage"].is_null());
}

#[test]
fn span_fields_reach_events_inside() {
    let output = capture(&settings(LogLevel::Info, LogFormat::Text), false, || {
        let span = tracing::debug_span!("service", service_name = "shop_api", replicas = 1u32);
        let _entered = span.enter();
        tracing::info!(replicas = 2u32, "scaled up");
    });

    assert!(
        output.ends_with(" - INFO - [shop_api] scaled up replicas=2\n"),
        "{output}"
    );
}

#[test]
fn span_fields_recorded_later_are_kept() {
    let output = capture(&settings(LogLevel::Info, LogFormat::Json), false, || {
        let span = tracing::info_span!("run", scaled = tracing::field::Empty);
        let _entered = span.enter();
        span.record("scaled", 3u64);
        tracing::info!("run finished");
    });

    let object: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(object["scaled"].as_u64(), Some(3));
}

#[test]
fn color_only_when_forced_on() {
    let text = settings(LogLevel::Debug, LogFormat::Text);
    let json = settings(LogLevel::Debug, LogFormat::Json);

    let colored = capture(&text, true, emit_one_of_each_level);
    let plain = capture(&text, false, emit_one_of_each_level);
    let json_colored = capture(&json, true, emit_one_of_each_level);

    let codes = [
        "36mDEBUG",
        "32mINFO",
        "33mWARNING",
        "31mERROR",
        "35mCRITICAL",
    ];
    for (line, code) in colored.lines().zip(codes) {
        assert!(
            line.contains(&format!(" - \x1b[{code}\x1b[0m - ")),
            "{line:?}"
        );
    }
    assert!(!plain.contains('\x1b'));
    assert!(!json_colored.contains('\x1b'));
}

#[test]
fn unopenable_file_falls_back_to_console() {
    let dir = TempDir::new().unwrap();
    let not_writable = [
        dir.path().to_path_buf(),
        dir.path().join("missing").join("autoscaler.log"),
    ];

    for path in not_writable {
        let console = SharedBuffer::default();
        let settings = LoggingSettings {
            console: false,
            ..LoggingSettings::default()
        };

        let layer = build_layer(&settings, Some(&path), Box::new(console.clone()), false);
        with_layer(layer, || tracing::info!("still logged"));

        let output = console.text();
        let lines: Vec<_> = output.lines().collect();
        assert_eq!(lines.len(), 2, "{output}");
        let expected = format!(" - WARNING - failed to open log file {}: ", path.display());
        assert!(lines[0].contains(&expected), "{output}");
        assert!(lines[0].contains("(os error "), "{output}");
        assert!(
            lines[0].ends_with("; logging to the console only"),
            "{output}"
        );
        assert!(lines[1].ends_with(" - INFO - still logged"), "{output}");
    }
}

#[test]
fn file_gets_lines_without_colors() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("autoscaler.log");
    let console = SharedBuffer::default();
    let settings = settings(LogLevel::Info, LogFormat::Text);

    let layer = build_layer(&settings, Some(&path), Box::new(console.clone()), true);
    with_layer(layer, || {
        tracing::warn!(service_name = "shop_api", "panel slow")
    });

    let file_text = fs::read_to_string(&path).unwrap();
    assert!(
        file_text.ends_with(" - WARNING - [shop_api] panel slow\n"),
        "{file_text}"
    );
    assert!(!file_text.contains('\x1b'));
    assert!(console.text().contains("\x1b[33mWARNING\x1b[0m"));
}

#[test]
fn console_off_writes_file_only() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("autoscaler.log");
    let console = SharedBuffer::default();
    let settings = LoggingSettings {
        console: false,
        ..LoggingSettings::default()
    };

    let layer = build_layer(&settings, Some(&path), Box::new(console.clone()), false);
    with_layer(layer, || tracing::info!("file only"));

    assert_eq!(console.text(), "");
    assert!(fs::read_to_string(&path)
        .unwrap()
        .ends_with(" - INFO - file only\n"));
}

/// Returns the lines of `path` and its backups, oldest first.
fn read_rotated(path: &Path, backup_count: u32) -> Vec<String> {
    let mut lines = Vec::new();
    for number in (1..=backup_count).rev() {
        let backup = format!("{}.{number}", path.display());
        if let Ok(text) = fs::read_to_string(backup) {
            lines.extend(text.lines().map(str::to_string));
        }
    }
    lines.extend(
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string),
    );
    lines
}

#[test]
fn concurrent_events_rotate_as_whole_lines() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("autoscaler.log");
    let settings = LoggingSettings {
        format: LogFormat::Json,
        console: false,
        max_size: 2_000,
        backup_count: 50,
        ..LoggingSettings::default()
    };
    let layer = build_layer(&settings, Some(&path), Box::new(io::sink()), false);
    let dispatch = Dispatch::new(Registry::default().with(layer));

    let workers: Vec<_> = (0..4u64)
        .map(|worker| {
            let dispatch = dispatch.clone();
            thread::spawn(move || {
                dispatcher::with_default(&dispatch, || {
                    for sequence in 0..100u64 {
                        tracing::info!(worker, sequence, "event");
                    }
                });
            })
        })
        .collect();
    for handle in workers {
        handle.join().unwrap();
    }

    let lines = read_rotated(&path, settings.backup_count);
    assert_eq!(lines.len(), 400);
    assert!(fs::metadata(format!("{}.1", path.display())).is_ok());
    let mut seen = Vec::new();
    for line in &lines {
        let object: Value = serde_json::from_str(line).unwrap();
        seen.push((
            object["worker"].as_u64().unwrap(),
            object["sequence"].as_u64().unwrap(),
        ));
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 400);
}
