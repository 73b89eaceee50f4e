//! `--raw`: every response body of the diagnosis, secrets redacted and long bodies cut,
//! each with a short summary of its structure.

use serde_json::Value;

use super::report::{emit, millis};
use super::session::Session;
use crate::easypanel::probe::Probe;
use crate::easypanel::redact;

/// Characters of a body shown before it is cut.
const MAX_BODY_CHARS: usize = 4000;

/// Keys listed for one object before the rest are only counted.
const MAX_KEYS: usize = 30;

/// Prints every request of the session in the order it was made.
pub(super) fn print(session: &Session<'_>) {
    emit("Raw responses (secrets redacted)\n\n");
    for probe in session.probes() {
        emit(format_args!(
            "{}\n",
            render(probe, session.client.redacted_body(probe))
        ));
    }
}

/// Renders one request: its line, the structure of its payload and its redacted body.
fn render(probe: &Probe, redacted: String) -> String {
    let response = match probe.status {
        Some(status) => format!("HTTP {status}"),
        None => "no response".to_owned(),
    };
    let mut text = format!(
        "--- {} {}: {response}, {}, {} bytes\n",
        probe.method,
        probe.path,
        millis(probe.elapsed),
        probe.body.len()
    );

    // The payload inside the envelope is what a run reads; an error's body is summarized
    // as sent. Both are redacted before their keys are listed.
    let summarized = match &probe.outcome {
        Ok(payload) if !payload.is_null() => Some(("payload", payload.clone())),
        _ => serde_json::from_slice::<Value>(&probe.body)
            .ok()
            .map(|body| ("body", body)),
    };
    if let Some((what, mut value)) = summarized {
        redact::redact_json(&mut value);
        text.push_str(&format!(
            "Structure of the {what}: {}\n",
            structure(&value).join("\n  ")
        ));
    }
    if let Err(error) = &probe.outcome {
        text.push_str(&format!("Error: {error}\n"));
    }

    let body = pretty(&redacted);
    let total = body.chars().count();
    if total > MAX_BODY_CHARS {
        let cut: String = body.chars().take(MAX_BODY_CHARS).collect();
        text.push_str(&format!(
            "Body, first {MAX_BODY_CHARS} of {total} characters:\n{cut}\n[... cut]\n"
        ));
    } else if total > 0 {
        text.push_str(&format!("Body:\n{body}\n"));
    }
    text
}

/// Pretty-prints redacted JSON text; a placeholder for a body that is not JSON stays as is.
fn pretty(redacted: &str) -> String {
    match serde_json::from_str::<Value>(redacted) {
        Ok(value) => serde_json::to_string_pretty(&value).unwrap_or_else(|_| redacted.to_owned()),
        Err(_) => redacted.to_owned(),
    }
}

/// Describes a value's top level: the keys of an object with their types, or the length
/// of an array and the keys of its first item. The first line is the summary, and any
/// further line is one key.
fn structure(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => {
            let mut lines = vec![format!("object with {} keys", map.len())];
            for (key, field) in map.iter().take(MAX_KEYS) {
                lines.push(format!("{key}: {}", describe(field)));
            }
            if map.len() > MAX_KEYS {
                lines.push(format!("... and {} more keys", map.len() - MAX_KEYS));
            }
            lines
        }
        other => vec![describe(other)],
    }
}

/// Describes one value in a phrase: its type, and for containers their size and keys.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "boolean".to_owned(),
        Value::Number(_) => "number".to_owned(),
        Value::String(_) => "string".to_owned(),
        Value::Array(items) => match items.first() {
            Some(Value::Object(first)) => format!(
                "array of {}, first item an object with keys {}",
                items.len(),
                key_list(first)
            ),
            Some(first) => format!("array of {}, first item {}", items.len(), describe(first)),
            None => "array of 0".to_owned(),
        },
        Value::Object(map) => format!("object with keys {}", key_list(map)),
    }
}

fn key_list(map: &serde_json::Map<String, Value>) -> String {
    if map.is_empty() {
        return "(none)".to_owned();
    }
    let mut keys: Vec<&str> = map.keys().take(MAX_KEYS).map(String::as_str).collect();
    let more = map.len().saturating_sub(MAX_KEYS);
    let more_text = format!("and {more} more");
    if more > 0 {
        keys.push(&more_text);
    }
    keys.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_structure_lists_keys_and_types() {
        let value = json!({
            "projects": [{"name": "shop", "createdAt": "2024-05-01"}],
            "services": [],
            "count": 2
        });

        assert_eq!(
            structure(&value),
            vec![
                "object with 3 keys",
                "count: number",
                "projects: array of 1, first item an object with keys createdAt, name",
                "services: array of 0",
            ]
        );
    }

    #[test]
    fn array_structure_gives_length_and_first_keys() {
        let value = json!([{"id": "a", "stats": {"cpu": {"percent": 1}}}, {"id": "b"}]);

        assert_eq!(
            structure(&value),
            vec!["array of 2, first item an object with keys id, stats"]
        );
    }

    #[test]
    fn long_body_is_cut_with_a_note() {
        let probe = Probe {
            name: "x".to_owned(),
            method: reqwest::Method::GET,
            path: "/api/x".to_owned(),
            status: Some(200),
            elapsed: std::time::Duration::from_millis(3),
            body: Vec::new(),
            outcome: Ok(Value::Null),
        };
        let long = serde_json::to_string(&"é".repeat(5000)).unwrap();

        let text = render(&probe, long);

        assert!(text.contains("first 4000 of 5002 characters"), "{text}");
        assert!(text.ends_with("[... cut]\n"));
    }
}
