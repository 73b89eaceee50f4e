//! Logging: one `tracing` subscriber writing to the console and a size-rotated log file.
//!
//! The program calls [`init`] once at start and keeps the returned [`LoggingGuard`] until it
//! exits. Before the config is read, [`init_console_fallback`] logs config errors at INFO, as
//! text, to the console only. A later [`init`] replaces that setup in place.
//!
//! ```no_run
//! use std::path::Path;
//!
//! use autoscaler::config::LoggingSettings;
//! use autoscaler::logging::{self, InitOptions};
//!
//! let settings = LoggingSettings::default();
//! let _guard = logging::init(&settings, Path::new("autoscaler.log"), InitOptions::default());
//! tracing::info!(service_name = "shop_api", cpu_usage = 75.2, replicas = 2, "Service status");
//! tracing::error!(critical = true, "state folder is not writable");
//! ```
//!
//! # Levels
//!
//! `DEBUG`, `INFO`, `WARNING`, `ERROR` and `CRITICAL`, written as these words. A setting writes
//! its level and the ones above it. `tracing` has no CRITICAL level, so an event is CRITICAL
//! when it is logged at error level with the bool field `critical = true`:
//! `tracing::error!(critical = true, ...)`. The marker field is not written. At `CRITICAL`
//! only such events are written, and at `ERROR` errors and criticals are. TRACE events are
//! never written.
//!
//! Only events of this crate (targets `autoscaler` and `autoscaler::*`) are written below
//! WARNING. Dependencies such as reqwest, hyper and rustls stay at WARNING or above, so DEBUG
//! shows this crate's decisions and requests, not the HTTP stack's internals. Records of
//! dependencies that log through the `log` crate arrive through `tracing-log`, with the
//! record's target (by default its module path) in a `log.target` field.
//!
//! # Formats
//!
//! The file and the console use the same format.
//!
//! `text`: local time, level word, then the `service_name` field in brackets, the message and
//! the other fields as `key=value`. Strings that are empty or contain spaces, quotes, `=` or
//! control characters are quoted with Rust escapes:
//!
//! ```text
//! 2024-01-15 10:30:45 - INFO - [shop_api] Service status cpu_usage=75.2 replicas=2
//! ```
//!
//! `json`: one object per line with `timestamp` (RFC 3339, UTC, microseconds), `level` and
//! `message`, then every field as a top-level key with its JSON type. Numbers stay numbers and
//! bools stay bools, and a NaN or infinite f64 becomes `null`. A field named `timestamp`,
//! `level` or `message` is written as `field.<name>`.
//!
//! ```text
//! {"timestamp":"2024-01-15T10:30:45.123456Z","level":"INFO","message":"Service status","service_name":"shop_api","cpu_usage":75.2,"replicas":2}
//! ```
//!
//! Fields of the enclosing spans of this crate are added to each event, outermost span
//! first, and the event's own fields win over span fields of the same name.
//!
//! # Field names
//!
//! The rest of the crate logs values under these names, with the units given:
//!
//! - service: `service_name` (the service key, `project_service`), `project_name`
//! - observation and decision: `cpu_usage` (percent of one core, f64), `replicas`,
//!   `target_replicas`, `action`, `reason`, `up_threshold` and `down_threshold` (percent),
//!   `min_replicas`, `max_replicas`, `trend`
//! - requests: `api_endpoint`, `method`, `status_code`, `response_time_ms`
//! - run summary (counts): `services_seen`, `candidates`, `scaled`, `held`, `skipped`,
//!   `failed`, `api_requests`, and `elapsed_ms`
//!
//! # Console
//!
//! All console output goes to stderr, as most CLI tools do with logs, which keeps stdout for
//! command output. Cron mails whatever a job prints on either stream, so a cron job sets
//! `console: false` or redirects stderr. The level word is colored (DEBUG cyan, INFO green,
//! WARNING yellow, ERROR red, CRITICAL magenta) when stderr is a terminal and `NO_COLOR` is
//! unset or empty, unless [`InitOptions::color`] forces colors on or off. JSON lines and the
//! file are never colored.
//!
//! # Log file
//!
//! The file rotates by size: see [`SizeRotatingWriter`] for the rules. A file that cannot be
//! opened or created does not stop the run. A WARNING line naming the path and the OS error is
//! printed on stderr, and logging goes on to the console only, even with `console: false`, so
//! the run still leaves a record. A later write failure, such as a full disk, is reported once
//! on stderr, not once per line.

mod color;
mod format;
mod layer;
mod level;
mod record;
mod rotation;
mod sink;

#[cfg(test)]
mod tests;

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, Registry};

use crate::config::LoggingSettings;
use layer::render_notice;
use sink::Sink;

pub use color::ColorChoice;
pub use layer::LogLayer;
pub use rotation::SizeRotatingWriter;

/// Choices made by the command line rather than the config file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InitOptions {
    pub color: ColorChoice,
}

/// Flushes the console and the log file when dropped.
///
/// Each line is written when its event happens, without buffering, so the guard holds nothing
/// back. The subscriber stays installed after the guard is dropped.
#[must_use = "keep the guard until the program exits; dropping it flushes the log"]
pub struct LoggingGuard {
    sinks: Vec<Arc<Sink>>,
}

impl Drop for LoggingGuard {
    fn drop(&mut self) {
        for sink in &self.sinks {
            sink.flush();
        }
    }
}

/// The installed subscriber's handle, set by the first successful install.
static INSTALLED: Mutex<Option<reload::Handle<LogLayer, Registry>>> = Mutex::new(None);

/// Installs the global subscriber for `settings`, writing to `log_file` and, when
/// `settings.console` is set, to stderr.
///
/// A second call, for example after [`init_console_fallback`], replaces the first setup.
/// Problems never stop the program: a log file that cannot be opened is reported on stderr and
/// logging goes on to the console only, and a subscriber installed by other code is reported
/// on stderr and left in place.
pub fn init(settings: &LoggingSettings, log_file: &Path, options: InitOptions) -> LoggingGuard {
    install(settings, Some(log_file), options)
}

/// Installs console-only logging at INFO in text format, for the time before the config file
/// is read.
pub fn init_console_fallback() -> LoggingGuard {
    install(&LoggingSettings::default(), None, InitOptions::default())
}

/// Builds a layer that writes to `writer` instead of stderr and the log file, for tests.
///
/// Level and format come from `settings`; `console`, `max_size` and `backup_count` are not
/// used. `color` paints the level word of text lines.
pub fn layer_for_writer<W>(settings: &LoggingSettings, writer: W, color: bool) -> LogLayer
where
    W: Write + Send + 'static,
{
    let sink = Sink::stream(Box::new(writer), color);
    LogLayer::new(settings.level, settings.format, vec![Arc::new(sink)], color)
}

fn install(
    settings: &LoggingSettings,
    log_file: Option<&Path>,
    options: InitOptions,
) -> LoggingGuard {
    let color = options.color.resolve(|| io::stderr().is_terminal());
    let layer = build_layer(settings, log_file, Box::new(io::stderr()), color);
    let guard = LoggingGuard {
        sinks: layer.sinks().to_vec(),
    };

    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    let result = match installed.as_ref() {
        // Fails only once the subscriber is dropped, which a global default never is.
        Some(handle) => handle.reload(layer).map_err(|error| error.to_string()),
        None => {
            let (reloadable, handle) = reload::Layer::new(layer);
            let result = Registry::default().with(reloadable).try_init();
            if result.is_ok() {
                *installed = Some(handle);
            }
            result.map_err(|error| error.to_string())
        }
    };

    if let Err(error) = result {
        let message = format!("logging setup ignored: {error}");
        let notice = render_notice(settings.format, color, message);
        let _ = io::stderr().write_all(notice.as_bytes());
    }
    guard
}

/// Builds the layer for `settings`: a file sink when `log_file` is given and opens, and a
/// console sink on `console` when `settings.console` is set or the file could not be opened.
fn build_layer(
    settings: &LoggingSettings,
    log_file: Option<&Path>,
    mut console: Box<dyn Write + Send>,
    color: bool,
) -> LogLayer {
    let mut sinks = Vec::new();
    let mut is_console_on = settings.console;

    if let Some(path) = log_file {
        match SizeRotatingWriter::open(path, settings.max_size, settings.backup_count) {
            Ok(writer) => sinks.push(Arc::new(Sink::file(writer))),
            Err(error) => {
                let message = format!(
                    "failed to open log file {}: {error}; logging to the console only",
                    path.display()
                );
                let notice = render_notice(settings.format, color, message);
                let _ = console.write_all(notice.as_bytes());
                is_console_on = true;
            }
        }
    }
    if is_console_on {
        sinks.push(Arc::new(Sink::stream(console, color)));
    }

    LogLayer::new(settings.level, settings.format, sinks, color)
}
