//! Rendering of one [`Record`] as a text or JSON line.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{Local, SecondsFormat};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::color::push_painted;
use super::level::level_word;
use super::record::{FieldValue, Record};
use crate::config::LogFormat;

/// Field shown in brackets before the message in text lines.
pub(crate) const SERVICE_FIELD: &str = "service_name";

/// Keys every JSON line starts with. A field of the same name is written as `field.<name>`,
/// so no key appears twice.
const RESERVED_KEYS: [&str; 3] = ["timestamp", "level", "message"];

/// Renders `record` as one line ending in `\n`. `color` paints the level word of text lines;
/// JSON lines are never colored, so they stay valid JSON.
pub(crate) fn render(record: &Record, format: LogFormat, color: bool) -> String {
    match format {
        LogFormat::Text => render_text(record, color),
        LogFormat::Json => render_json(record),
    }
}

/// Renders `2024-01-15 10:30:45 - INFO - [shop_api] Service status cpu_usage=75.2`: local time,
/// level word, the `service_name` field in brackets, the message, then the other fields as
/// `key=value`.
fn render_text(record: &Record, color: bool) -> String {
    let mut line = String::with_capacity(128);
    let local_time = record.time.with_timezone(&Local);
    let word = level_word(record.level);

    let _ = write!(line, "{} - ", local_time.format("%Y-%m-%d %H:%M:%S"));
    if color {
        push_painted(&mut line, record.level, word);
    } else {
        line.push_str(word);
    }
    line.push_str(" -");

    if let Some(service) = record.fields.get(SERVICE_FIELD) {
        let _ = write!(line, " [{service}]");
    }
    if !record.message.is_empty() {
        line.push(' ');
        push_escaped_message(&mut line, &record.message);
    }
    for (name, value) in record.fields.iter() {
        if name == SERVICE_FIELD {
            continue;
        }
        let _ = write!(line, " {name}=");
        push_text_value(&mut line, value);
    }

    line.push('\n');
    line
}

/// Appends a field value, quoting strings that would otherwise be read as several pairs.
fn push_text_value(line: &mut String, value: &FieldValue) {
    match value {
        FieldValue::Str(text) if needs_quotes(text) => {
            let _ = write!(line, "{text:?}");
        }
        other => {
            let _ = write!(line, "{other}");
        }
    }
}

fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=')
}

/// Renders one JSON object: `timestamp` (RFC 3339, UTC, microseconds), `level`, `message`,
/// then every field as a top-level key with its JSON type.
fn render_json(record: &Record) -> String {
    let mut line = serde_json::to_string(&JsonLine(record)).unwrap_or_else(|error| {
        // serde_json's map serializer fails only on non-string keys, and every key here is a
        // string. The fallback keeps a logging call from panicking all the same.
        format!(r#"{{"level":"ERROR","message":"failed to render log line: {error}"}}"#)
    });
    line.push('\n');
    line
}

struct JsonLine<'a>(&'a Record);

impl Serialize for JsonLine<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = self.0;
        let timestamp = record.time.to_rfc3339_opts(SecondsFormat::Micros, true);

        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("timestamp", &timestamp)?;
        map.serialize_entry("level", level_word(record.level))?;
        map.serialize_entry("message", &record.message)?;
        for (name, value) in record.fields.iter() {
            let key = if RESERVED_KEYS.contains(&name) {
                Cow::Owned(format!("field.{name}"))
            } else {
                Cow::Borrowed(name)
            };
            map.serialize_entry(&key, value)?;
        }
        map.end()
    }
}

/// Appends a message with control characters escaped (`\n` as the two characters `\` `n`),
/// so a multi-line error from the panel stays one log line and cannot pass as a record.
fn push_escaped_message(line: &mut String, message: &str) {
    for character in message.chars() {
        if character.is_control() {
            line.extend(character.escape_default());
        } else {
            line.push(character);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
    use serde_json::Value;

    use super::*;
    use crate::config::LogLevel;
    use crate::logging::record::Fields;

    fn status_record() -> Record {
        let mut fields = Fields::default();
        fields.set(SERVICE_FIELD, FieldValue::Str("shop_api".into()));
        fields.set("cpu_usage", FieldValue::F64(75.2));
        fields.set("replicas", FieldValue::U64(2));
        fields.set("action", FieldValue::Str("hold".into()));
        fields.set("reason", FieldValue::Str("within thresholds".into()));
        fields.set("trend", FieldValue::I64(-3));
        fields.set("max_replicas", FieldValue::U128(10));
        fields.set("up_threshold", FieldValue::F64(f64::NAN));
        fields.set("dry_run", FieldValue::Bool(false));

        Record {
            time: Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 45).unwrap()
                + chrono::Duration::microseconds(123_456),
            level: LogLevel::Info,
            message: "Service status - CPU: 75.2%, Replicas: 2".into(),
            fields,
        }
    }

    #[test]
    fn text_line_pieces() {
        let record = status_record();
        let line = render(&record, LogFormat::Text, false);

        let expected_time = record
            .time
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let (time, rest) = line.split_at(19);
        assert_eq!(time, expected_time);
        assert!(NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S").is_ok());
        assert_eq!(
            rest,
            " - INFO - [shop_api] Service status - CPU: 75.2%, Replicas: 2 cpu_usage=75.2 \
             replicas=2 action=hold reason=\"within thresholds\" trend=-3 max_replicas=10 \
             up_threshold=NaN dry_run=false\n"
        );
    }

    #[test]
    fn text_line_without_service_or_fields() {
        let record = Record {
            fields: Fields::default(),
            level: LogLevel::Warning,
            ..status_record()
        };

        let line = render(&record, LogFormat::Text, false);

        assert!(line.ends_with(" - WARNING - Service status - CPU: 75.2%, Replicas: 2\n"));
    }

    #[test]
    fn text_message_control_characters_are_escaped() {
        let record = Record {
            fields: Fields::default(),
            message: "scaling failed: line one\nline two\r\tend".into(),
            ..status_record()
        };

        let line = render(&record, LogFormat::Text, false);

        assert_eq!(line.matches('\n').count(), 1, "one line: {line:?}");
        assert!(
            line.ends_with(" - INFO - scaling failed: line one\\nline two\\r\\tend\n"),
            "{line:?}"
        );
    }

    #[test]
    fn text_quotes_ambiguous_strings() {
        let mut fields = Fields::default();
        fields.set("reason", FieldValue::Str(String::new()));
        fields.set("api_endpoint", FieldValue::Str("a=b".into()));
        fields.set("method", FieldValue::Str("say \"hi\"\n".into()));
        let record = Record {
            fields,
            message: String::new(),
            ..status_record()
        };

        let line = render(&record, LogFormat::Text, false);

        assert!(line.ends_with(
            " - INFO - reason=\"\" api_endpoint=\"a=b\" method=\"say \\\"hi\\\"\\n\"\n"
        ));
    }

    #[test]
    fn text_color_wraps_level_word_only() {
        let record = status_record();

        let colored = render(&record, LogFormat::Text, true);
        let plain = render(&record, LogFormat::Text, false);

        assert!(colored.contains(" - \x1b[32mINFO\x1b[0m - [shop_api] "));
        assert_eq!(colored.matches('\x1b').count(), 2);
        assert!(!plain.contains('\x1b'));
    }

    #[test]
    fn json_line_keeps_field_types() {
        let line = render(&status_record(), LogFormat::Json, true);

        assert!(line.ends_with("}\n"));
        assert_eq!(line.matches('\n').count(), 1);
        assert!(!line.contains('\x1b'));
        let object: Value = serde_json::from_str(&line).unwrap();
        let object = object.as_object().unwrap();
        assert_eq!(object["level"], "INFO");
        assert_eq!(
            object["message"],
            "Service status - CPU: 75.2%, Replicas: 2"
        );
        assert_eq!(object["service_name"], "shop_api");
        assert_eq!(object["cpu_usage"].as_f64(), Some(75.2));
        assert_eq!(object["replicas"].as_u64(), Some(2));
        assert_eq!(object["trend"].as_i64(), Some(-3));
        assert_eq!(object["max_replicas"].as_u64(), Some(10));
        assert_eq!(object["reason"], "within thresholds");
        assert_eq!(object["dry_run"], false);
        assert!(object["up_threshold"].is_null());
        assert!(!object.contains_key("fields"));
        assert!(!object.contains_key("spans"));
    }

    #[test]
    fn json_timestamp_is_utc_rfc3339_with_fraction() {
        let line = render(&status_record(), LogFormat::Json, false);
        let object: Value = serde_json::from_str(&line).unwrap();

        let timestamp = object["timestamp"].as_str().unwrap();

        assert_eq!(timestamp, "2024-01-15T10:30:45.123456Z");
        let parsed = DateTime::parse_from_rfc3339(timestamp).unwrap();
        assert_eq!(parsed.timestamp_subsec_micros(), 123_456);
    }

    #[test]
    fn json_keys_start_with_timestamp_level_message() {
        let line = render(&status_record(), LogFormat::Json, false);

        assert!(line.starts_with(r#"{"timestamp":"#));
        let level_at = line.find(r#""level":"#).unwrap();
        let message_at = line.find(r#""message":"#).unwrap();
        let service_at = line.find(r#""service_name":"#).unwrap();
        assert!(level_at < message_at);
        assert!(message_at < service_at);
    }

    #[test]
    fn json_renames_fields_named_like_reserved_keys() {
        let mut fields = Fields::default();
        fields.set("level", FieldValue::Str("deep".into()));
        let record = Record {
            fields,
            ..status_record()
        };

        let line = render(&record, LogFormat::Json, false);

        let object: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(object["level"], "INFO");
        assert_eq!(object["field.level"], "deep");
        assert_eq!(line.matches(r#""level":"#).count(), 1);
    }
}
