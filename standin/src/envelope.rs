//! Request and response envelopes of the two transports, and their error bodies.
//!
//! tRPC (panels up to 2.30) reads a query's input from `?input=<URL-encoded {"json": INPUT}>`
//! and a mutation's from the `POST` body `{"json": INPUT}`, and responds with
//! `{"result":{"data":{"json": PAYLOAD}}}` or `{"error":{"json":{...}}}`. RPC (from 2.31)
//! takes every call as a `POST` with body `{"json": INPUT}` and responds with
//! `{"json": PAYLOAD, "meta": [...]}`, or `{"json":{"code","status","message","data"}}` for an
//! error. Both carry type hints for dates in `meta`: superjson's `{"values":{path:["Date"]}}`
//! on tRPC and oRPC's `[[1, ...path]]` on RPC (1 is oRPC's type code for a date).

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{Method, Uri};
use serde_json::{json, Map, Value};

use crate::options::Generation;
use crate::schema::Issue;

/// Whether a procedure reads (query) or writes (mutation); tRPC picks the verb by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProcedureKind {
    Query,
    Mutation,
}

/// An error response: HTTP status, message, the validation issues behind a 400, and the
/// rule of the real API the request broke, if it broke one.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) issues: Vec<Issue>,
    pub(crate) violation: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            issues: Vec::new(),
            violation: None,
        }
    }

    /// Returns an error for a request that broke a rule of the real API.
    pub(crate) fn rejected(status: u16, message: &str, violation: String) -> Self {
        ApiError {
            violation: Some(violation),
            ..ApiError::new(status, message)
        }
    }

    /// Returns the error the panel gives for a project or service that does not exist.
    pub(crate) fn service_not_found() -> Self {
        ApiError::new(500, "Service not found.")
    }

    /// Returns a 400 for input that failed its schema.
    pub(crate) fn validation(issues: Vec<Issue>) -> Self {
        let described: Vec<String> = issues.iter().map(Issue::describe).collect();
        ApiError {
            issues,
            ..ApiError::rejected(
                400,
                "Input validation failed",
                format!("input does not match the schema: {}", described.join("; ")),
            )
        }
    }
}

/// Checks the HTTP verb for a procedure of `kind`.
pub(crate) fn check_verb(
    generation: Generation,
    kind: ProcedureKind,
    method: &Method,
    procedure: &str,
) -> Result<(), ApiError> {
    let expected = match (generation, kind) {
        (Generation::Trpc, ProcedureKind::Query) => Method::GET,
        _ => Method::POST,
    };
    if *method == expected {
        return Ok(());
    }

    let message = match generation {
        Generation::Trpc => {
            let kind = match kind {
                ProcedureKind::Query => "query",
                ProcedureKind::Mutation => "mutation",
            };
            format!("Unsupported {method}-request to {kind} procedure at path \"{procedure}\"")
        }
        Generation::Rpc => "Method not allowed".to_string(),
    };
    let violation = format!("wrong HTTP method {method}, expected {expected}");
    Err(ApiError::rejected(405, &message, violation))
}

/// Decodes a request's input from its envelope: `Ok(None)` when the request carried no
/// input (JavaScript's `undefined`).
pub(crate) fn decode_input(
    generation: Generation,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<Option<Value>, ApiError> {
    match (generation, *method == Method::GET) {
        (Generation::Trpc, true) => decode_query_parameter(uri),
        (Generation::Trpc, false) if body.is_empty() => Ok(None),
        (Generation::Trpc, false) => decode_body(body),
        (Generation::Rpc, _) if body.is_empty() => Err(ApiError::rejected(
            400,
            "Malformed request",
            "empty request body, expected {\"json\": INPUT}".to_string(),
        )),
        (Generation::Rpc, _) => decode_body(body).map(|input| Some(input.unwrap_or(Value::Null))),
    }
}

fn decode_query_parameter(uri: &Uri) -> Result<Option<Value>, ApiError> {
    let parameters = Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|query| query.0)
        .unwrap_or_default();
    let Some(input) = parameters.get("input") else {
        return Ok(None);
    };

    let envelope: Value = serde_json::from_str(input).map_err(|error| {
        let violation = format!("`input` query parameter is not JSON: {error}");
        ApiError::rejected(400, "Unable to parse input", violation)
    })?;
    unwrap_envelope(envelope)
}

fn decode_body(body: &[u8]) -> Result<Option<Value>, ApiError> {
    let envelope: Value = serde_json::from_slice(body).map_err(|error| {
        let violation = format!("request body is not JSON: {error}");
        ApiError::rejected(400, "Unable to parse input", violation)
    })?;
    unwrap_envelope(envelope)
}

/// Returns `INPUT` out of `{"json": INPUT}`; a superjson or oRPC `meta` beside it is allowed.
fn unwrap_envelope(envelope: Value) -> Result<Option<Value>, ApiError> {
    let bad_envelope = |found: &str| {
        let violation = format!("input envelope is {found}, expected {{\"json\": INPUT}}");
        ApiError::rejected(400, "Input validation failed", violation)
    };

    let Value::Object(mut fields) = envelope else {
        return Err(bad_envelope("not an object"));
    };
    let unknown: Vec<&String> = fields
        .keys()
        .filter(|key| *key != "json" && *key != "meta")
        .collect();
    if !unknown.is_empty() {
        return Err(bad_envelope(&format!(
            "an object with unknown keys {unknown:?}"
        )));
    }
    match fields.remove("json") {
        Some(input) => Ok(Some(input)),
        None => Err(bad_envelope("an object without a `json` key")),
    }
}

/// Returns the success body carrying `payload`, with a date hint for each path in `dates`.
pub(crate) fn success(generation: Generation, payload: Value, dates: &[Vec<Value>]) -> Value {
    match generation {
        Generation::Trpc => {
            let mut data = Map::new();
            data.insert("json".into(), payload);
            if !dates.is_empty() {
                let values: Map<String, Value> = dates
                    .iter()
                    .map(|path| (dotted(path), json!(["Date"])))
                    .collect();
                data.insert("meta".into(), json!({"values": values}));
            }
            json!({"result": {"data": data}})
        }
        Generation::Rpc => {
            let meta: Vec<Value> = dates
                .iter()
                .map(|path| {
                    let mut item = vec![json!(1)];
                    item.extend(path.iter().cloned());
                    Value::Array(item)
                })
                .collect();
            json!({"json": payload, "meta": meta})
        }
    }
}

/// Returns `payload` in the other generation's success envelope, which a client of this
/// generation must reject.
pub(crate) fn wrong_envelope(generation: Generation, payload: Value) -> Value {
    match generation {
        Generation::Trpc => success(Generation::Rpc, payload, &[]),
        Generation::Rpc => success(Generation::Trpc, payload, &[]),
    }
}

/// Returns the error body for `error` raised by `procedure`.
pub(crate) fn error(generation: Generation, error: &ApiError, procedure: &str) -> Value {
    let code = code_name(error.status);
    match generation {
        Generation::Trpc => {
            let (message, zod_errors) = if error.issues.is_empty() {
                (error.message.clone(), Value::Null)
            } else {
                // tRPC passes zod's error through: its message is the issue list as JSON.
                let issues: Vec<Value> = error.issues.iter().map(Issue::to_json).collect();
                let message = serde_json::to_string_pretty(&issues).unwrap_or_default();
                (message, flatten(&error.issues))
            };
            json!({"error": {"json": {
                "message": message,
                "code": trpc_code(code),
                "data": {
                    "code": code,
                    "httpStatus": error.status,
                    "path": procedure,
                    "zodErrors": zod_errors
                }
            }}})
        }
        Generation::Rpc => json!({"json": {
            "code": code,
            "status": error.status,
            "message": error.message,
            "data": {}
        }}),
    }
}

/// Returns zod's flattened form of `issues`, which tRPC sends as `zodErrors`.
fn flatten(issues: &[Issue]) -> Value {
    let mut form_errors = Vec::new();
    let mut field_errors: Map<String, Value> = Map::new();
    for issue in issues {
        match issue.path.first() {
            Some(Value::String(field)) => {
                let messages = field_errors
                    .entry(field.clone())
                    .or_insert_with(|| json!([]));
                if let Value::Array(list) = messages {
                    list.push(json!(issue.message));
                }
            }
            _ => form_errors.push(json!(issue.message)),
        }
    }
    json!({"formErrors": form_errors, "fieldErrors": field_errors})
}

fn dotted(path: &[Value]) -> String {
    let segments: Vec<String> = path
        .iter()
        .map(|segment| match segment {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect();
    segments.join(".")
}

/// Returns the error code name that tRPC and oRPC both use for an HTTP status.
fn code_name(status: u16) -> &'static str {
    match status {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_SUPPORTED",
        408 => "TIMEOUT",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        429 => "TOO_MANY_REQUESTS",
        501 => "NOT_IMPLEMENTED",
        502 => "BAD_GATEWAY",
        503 => "SERVICE_UNAVAILABLE",
        504 => "GATEWAY_TIMEOUT",
        _ => "INTERNAL_SERVER_ERROR",
    }
}

/// Returns tRPC's JSON-RPC error number for a code name.
fn trpc_code(code: &str) -> i64 {
    match code {
        "BAD_REQUEST" => -32600,
        "UNAUTHORIZED" => -32001,
        "FORBIDDEN" => -32003,
        "NOT_FOUND" => -32004,
        "METHOD_NOT_SUPPORTED" => -32005,
        "TIMEOUT" => -32008,
        "CONFLICT" => -32009,
        "PAYLOAD_TOO_LARGE" => -32013,
        "TOO_MANY_REQUESTS" => -32029,
        _ => -32603,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trpc_success_carries_date_hints() {
        let dates = vec![vec![json!("projects"), json!(0), json!("createdAt")]];

        let body = success(Generation::Trpc, json!({"projects": []}), &dates);

        assert_eq!(
            body["result"]["data"]["meta"],
            json!({"values": {"projects.0.createdAt": ["Date"]}})
        );
    }

    #[test]
    fn rpc_success_carries_date_hints() {
        let dates = vec![vec![json!("createdAt")]];

        let body = success(Generation::Rpc, json!({}), &dates);

        assert_eq!(body["meta"], json!([[1, "createdAt"]]));
    }

    #[test]
    fn trpc_error_has_code_numbers() {
        let body = error(
            Generation::Trpc,
            &ApiError::new(401, "Unauthorized"),
            "projects.x",
        );

        assert_eq!(body["error"]["json"]["code"], json!(-32001));
        assert_eq!(body["error"]["json"]["data"]["code"], json!("UNAUTHORIZED"));
        assert_eq!(body["error"]["json"]["data"]["httpStatus"], json!(401));
        assert_eq!(body["error"]["json"]["data"]["path"], json!("projects.x"));
    }

    #[test]
    fn rpc_error_shape() {
        let body = error(
            Generation::Rpc,
            &ApiError::service_not_found(),
            "services.app.x",
        );

        assert_eq!(
            body,
            json!({"json": {"code": "INTERNAL_SERVER_ERROR", "status": 500, "message": "Service not found.", "data": {}}})
        );
    }

    #[test]
    fn envelope_without_json_key_is_rejected() {
        let error = unwrap_envelope(json!({"projectName": "shop"})).unwrap_err();

        assert_eq!(error.status, 400);
        assert!(error.violation.is_some());
    }

    #[test]
    fn envelope_with_meta_is_accepted() {
        let input = unwrap_envelope(json!({"json": 1, "meta": {"values": {}}})).unwrap();

        assert_eq!(input, Some(json!(1)));
    }
}
