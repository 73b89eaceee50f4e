//! The `tracing` layer: filters events, renders them and writes them to the sinks.

use std::io::{self, Write};
use std::sync::Arc;

use chrono::Utc;
use tracing::span::{Attributes, Id, Record as SpanValues};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::format::render;
use super::level::{event_level, is_callsite_enabled, is_written, CRITICAL_FIELD};
use super::record::{FieldValue, FieldVisitor, Fields, Record, MESSAGE_FIELD};
use super::sink::Sink;
use crate::config::{LogFormat, LogLevel};

/// Writes the events that pass the configured level to every sink, in the configured format.
///
/// Built by [`init`](super::init) or, for tests, by [`layer_for_writer`](super::layer_for_writer).
pub struct LogLayer {
    level: LogLevel,
    format: LogFormat,
    sinks: Vec<Arc<Sink>>,
    /// Whether notices written straight to stderr (a failing log file) are colored.
    is_notice_colored: bool,
}

/// Fields of a span of this crate, stored in the span's extensions.
struct SpanFields(Fields);

impl LogLayer {
    pub(crate) fn new(
        level: LogLevel,
        format: LogFormat,
        sinks: Vec<Arc<Sink>>,
        is_notice_colored: bool,
    ) -> Self {
        LogLayer {
            level,
            format,
            sinks,
            is_notice_colored,
        }
    }

    pub(crate) fn sinks(&self) -> &[Arc<Sink>] {
        &self.sinks
    }

    /// Renders `record` at most twice, plain and colored, and writes it to every sink.
    fn write(&self, record: &Record) {
        let mut plain = None;
        let mut colored = None;

        for sink in &self.sinks {
            let slot = if sink.is_colored() {
                &mut colored
            } else {
                &mut plain
            };
            let line = slot.get_or_insert_with(|| render(record, self.format, sink.is_colored()));

            if let Some(notice) = sink.write(line.as_bytes()) {
                let notice = render_notice(self.format, self.is_notice_colored, notice);
                let _ = io::stderr().write_all(notice.as_bytes());
            }
        }
    }
}

/// Renders a problem with logging itself as a WARNING line, in the same format as the log so
/// a console read as JSON stays JSON. Such notices bypass the level filter.
pub(crate) fn render_notice(format: LogFormat, color: bool, message: String) -> String {
    let record = Record {
        time: Utc::now(),
        level: LogLevel::Warning,
        message,
        fields: Fields::default(),
    };
    render(&record, format, color)
}

impl<S> Layer<S> for LogLayer
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        is_callsite_enabled(self.level, metadata)
    }

    /// DEBUG at every setting, because this crate's DEBUG spans stay enabled for their fields.
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::DEBUG)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };

        let mut fields = Fields::default();
        attrs.record(&mut FieldVisitor::new(&mut fields));
        span.extensions_mut().replace(SpanFields(fields));
    }

    fn on_record(&self, id: &Id, values: &SpanValues<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };

        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(SpanFields(fields)) => values.record(&mut FieldVisitor::new(fields)),
            None => {
                let mut fields = Fields::default();
                values.record(&mut FieldVisitor::new(&mut fields));
                extensions.insert(SpanFields(fields));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let mut event_fields = Fields::default();
        event.record(&mut FieldVisitor::new(&mut event_fields));

        // Step 1: the level, now that the `critical` marker can be read.
        let is_critical = event_fields.get(CRITICAL_FIELD) == Some(&FieldValue::Bool(true));
        let Some(level) = event_level(metadata.level(), is_critical) else {
            return;
        };
        if !is_written(self.level, metadata.target(), level) {
            return;
        }
        if level == LogLevel::Critical {
            event_fields.remove(CRITICAL_FIELD);
        }

        // Step 2: span fields from the outermost span in, then the event's own, which win.
        let message = event_fields
            .remove(MESSAGE_FIELD)
            .map(|value| value.to_string())
            .unwrap_or_default();
        let mut fields = Fields::default();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.clone());
                }
            }
        }
        fields.extend(event_fields);

        // Step 3: render and write.
        let record = Record {
            time: Utc::now(),
            level,
            message,
            fields,
        };
        self.write(&record);
    }
}
