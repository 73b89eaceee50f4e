//! One event as the renderers see it: level, message and typed fields.

use std::error::Error;
use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use tracing::field::{Field, Visit};

use crate::config::LogLevel;

/// Name of the field `tracing` stores an event's message in.
pub(crate) const MESSAGE_FIELD: &str = "message";

/// Fields `tracing-log` adds to records bridged from the `log` crate. They locate the call in
/// the dependency's source, which an operator has no use for. `log.target` is kept: it names
/// the dependency that logged.
const DROPPED_FIELDS: [&str; 3] = ["log.module_path", "log.file", "log.line"];

/// One event ready to render.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub time: DateTime<Utc>,
    pub level: LogLevel,
    pub message: String,
    pub fields: Fields,
}

/// A field value with the type it was recorded with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldValue {
    Bool(bool),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    /// Strings, and values recorded through `Display` (`%value`) or `Debug` (`?value`).
    Str(String),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Bool(value) => value.fmt(f),
            FieldValue::I64(value) => value.fmt(f),
            FieldValue::U64(value) => value.fmt(f),
            FieldValue::I128(value) => value.fmt(f),
            FieldValue::U128(value) => value.fmt(f),
            FieldValue::F64(value) => value.fmt(f),
            FieldValue::Str(value) => value.fmt(f),
        }
    }
}

impl Serialize for FieldValue {
    /// Serializes the value as its JSON type. `serde_json` writes a NaN or infinite f64 as
    /// `null`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Bool(value) => serializer.serialize_bool(*value),
            FieldValue::I64(value) => serializer.serialize_i64(*value),
            FieldValue::U64(value) => serializer.serialize_u64(*value),
            FieldValue::I128(value) => serializer.serialize_i128(*value),
            FieldValue::U128(value) => serializer.serialize_u128(*value),
            FieldValue::F64(value) => serializer.serialize_f64(*value),
            FieldValue::Str(value) => serializer.serialize_str(value),
        }
    }
}

/// Named field values in the order they were first recorded. A name appears once: setting it
/// again replaces the value in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fields {
    entries: Vec<(&'static str, FieldValue)>,
}

impl Fields {
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.entries
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }

    /// Sets `name` to `value`, replacing an earlier value of the same name.
    pub fn set(&mut self, name: &'static str, value: FieldValue) {
        match self.entries.iter_mut().find(|(key, _)| *key == name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// Removes `name` and returns its value, if it was set.
    pub fn remove(&mut self, name: &str) -> Option<FieldValue> {
        let index = self.entries.iter().position(|(key, _)| *key == name)?;
        Some(self.entries.remove(index).1)
    }

    /// Sets every field of `other`, so its values win over values of the same name.
    pub fn extend(&mut self, other: Fields) {
        for (name, value) in other.entries {
            self.set(name, value);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &FieldValue)> {
        self.entries.iter().map(|(name, value)| (*name, value))
    }
}

/// Collects the fields of an event or span into [`Fields`], keeping their types.
pub(crate) struct FieldVisitor<'a> {
    fields: &'a mut Fields,
}

impl<'a> FieldVisitor<'a> {
    pub fn new(fields: &'a mut Fields) -> Self {
        FieldVisitor { fields }
    }

    fn set(&mut self, field: &Field, value: FieldValue) {
        if DROPPED_FIELDS.contains(&field.name()) {
            return;
        }
        self.fields.set(field.name(), value);
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field, FieldValue::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field, FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field, FieldValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.set(field, FieldValue::I128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.set(field, FieldValue::U128(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field, FieldValue::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, FieldValue::Str(value.to_owned()));
    }

    /// Records the error with its sources, joined by `: ` as `anyhow` prints them with `{:#}`,
    /// so the cause of a failed request is not lost.
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            let _ = write!(text, ": {cause}");
            source = cause.source();
        }
        self.set(field, FieldValue::Str(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field, FieldValue::Str(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_in_place() {
        let mut fields = Fields::default();
        fields.set("replicas", FieldValue::U64(2));
        fields.set("action", FieldValue::Str("hold".into()));
        fields.set("replicas", FieldValue::U64(3));

        let names: Vec<_> = fields.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["replicas", "action"]);
        assert_eq!(fields.get("replicas"), Some(&FieldValue::U64(3)));
    }

    #[test]
    fn extend_lets_newer_values_win() {
        let mut span_fields = Fields::default();
        span_fields.set("service_name", FieldValue::Str("shop_api".into()));
        span_fields.set("replicas", FieldValue::U64(1));
        let mut event_fields = Fields::default();
        event_fields.set("replicas", FieldValue::U64(2));
        event_fields.set("cpu_usage", FieldValue::F64(75.2));

        span_fields.extend(event_fields);

        let names: Vec<_> = span_fields.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["service_name", "replicas", "cpu_usage"]);
        assert_eq!(span_fields.get("replicas"), Some(&FieldValue::U64(2)));
    }

    #[test]
    fn non_finite_float_serializes_as_null() {
        let json = serde_json::to_string(&[
            FieldValue::F64(f64::NAN),
            FieldValue::F64(f64::INFINITY),
            FieldValue::F64(1.5),
        ])
        .unwrap();

        assert_eq!(json, "[null,null,1.5]");
    }
}
