//! The two transport generations of the panel's API: how a procedure call becomes an HTTP
//! request, and how the answer's envelope is taken apart.
//!
//! - tRPC, panels up to 2.30: `/api/trpc/<router>.<procedure>`. Queries are `GET` with
//!   `?input=<{"json": INPUT}>`, mutations `POST` with body `{"json": INPUT}`. A success is
//!   `{"result":{"data":{"json": PAYLOAD}}}`.
//! - RPC, panels from 2.31: `/api/rpc/<router>/<procedure>`, every call a `POST` with body
//!   `{"json": INPUT}` (`{"json":null}` without input). A success is `{"json": PAYLOAD}`.
//!
//! Both may add a `meta` sibling with type hints, which is ignored.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The transport generation a panel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    Trpc,
    Rpc,
}

impl Generation {
    pub fn name(self) -> &'static str {
        match self {
            Generation::Trpc => "trpc",
            Generation::Rpc => "rpc",
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Generation::Trpc => 1,
            Generation::Rpc => 2,
        }
    }

    /// Reads [`Generation::to_u8`] back; any other value reads as tRPC.
    pub(crate) fn from_u8(value: u8) -> Generation {
        match value {
            2 => Generation::Rpc,
            _ => Generation::Trpc,
        }
    }

    pub fn other(self) -> Generation {
        match self {
            Generation::Trpc => Generation::Rpc,
            Generation::Rpc => Generation::Trpc,
        }
    }

    /// Returns the path of a procedure named `router.procedure` (routers may be nested, as
    /// in `services.app.updateDeploy`).
    pub fn path(self, procedure: &str) -> String {
        match self {
            Generation::Trpc => format!("/api/trpc/{procedure}"),
            Generation::Rpc => format!("/api/rpc/{}", procedure.replace('.', "/")),
        }
    }
}

/// Whether a procedure reads or changes the panel; tRPC sends them with different verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Query,
    Mutation,
}

/// The parts of an HTTP request for one procedure call.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    pub method: reqwest::Method,
    pub path: String,
    /// The `input` query parameter of a tRPC query.
    pub query_input: Option<String>,
    pub body: Option<String>,
}

/// Builds the HTTP request for a call under a generation.
pub fn http_call(
    generation: Generation,
    procedure: &str,
    kind: CallKind,
    input: Option<&Value>,
) -> HttpCall {
    let path = generation.path(procedure);
    let envelope = |input: Option<&Value>| serde_json::json!({ "json": input }).to_string();
    match (generation, kind) {
        (Generation::Trpc, CallKind::Query) => HttpCall {
            method: reqwest::Method::GET,
            path,
            query_input: input.map(|input| envelope(Some(input))),
            body: None,
        },
        (Generation::Trpc, CallKind::Mutation) | (Generation::Rpc, _) => HttpCall {
            method: reqwest::Method::POST,
            path,
            query_input: None,
            body: Some(envelope(input)),
        },
    }
}

#[derive(Deserialize)]
struct TrpcSuccess<T> {
    result: TrpcResult<T>,
}

#[derive(Deserialize)]
struct TrpcResult<T> {
    data: Option<RpcSuccess<T>>,
}

#[derive(Deserialize)]
struct RpcSuccess<T> {
    #[serde(default = "Option::default")]
    json: Option<T>,
}

/// Takes the payload out of a success envelope. `Ok(None)` means the envelope is right but
/// carries no payload, which is how a mutation that returns nothing responds.
pub fn payload<T: DeserializeOwned>(
    generation: Generation,
    body: &[u8],
) -> Result<Option<T>, serde_json::Error> {
    match generation {
        Generation::Trpc => {
            let success: TrpcSuccess<T> = serde_json::from_slice(body)?;
            Ok(success.result.data.and_then(|data| data.json))
        }
        Generation::Rpc => {
            let success: RpcSuccess<T> = serde_json::from_slice(body)?;
            Ok(success.json)
        }
    }
}

/// Returns the message of an error envelope of either generation, if the body is one.
pub fn error_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = value
        .pointer("/error/json/message")
        .or_else(|| value.pointer("/error/message"))
        .or_else(|| value.pointer("/json/message"))
        .or_else(|| value.pointer("/message"))?;
    message.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trpc_query_carries_input_in_url() {
        let call = http_call(
            Generation::Trpc,
            "services.app.inspectService",
            CallKind::Query,
            Some(&json!({"projectName": "shop", "serviceName": "api"})),
        );

        assert_eq!(call.method, reqwest::Method::GET);
        assert_eq!(call.path, "/api/trpc/services.app.inspectService");
        assert_eq!(
            call.query_input.as_deref(),
            Some(r#"{"json":{"projectName":"shop","serviceName":"api"}}"#)
        );
        assert_eq!(call.body, None);
    }

    #[test]
    fn trpc_query_without_input_has_no_input_parameter() {
        let call = http_call(
            Generation::Trpc,
            "monitor.getDockerTaskStats",
            CallKind::Query,
            None,
        );

        assert_eq!(call.query_input, None);
    }

    #[test]
    fn trpc_mutation_is_post_with_envelope() {
        let call = http_call(
            Generation::Trpc,
            "services.app.deployService",
            CallKind::Mutation,
            Some(&json!({"projectName": "shop"})),
        );

        assert_eq!(call.method, reqwest::Method::POST);
        assert_eq!(
            call.body.as_deref(),
            Some(r#"{"json":{"projectName":"shop"}}"#)
        );
    }

    #[test]
    fn rpc_query_without_input_posts_json_null() {
        let call = http_call(
            Generation::Rpc,
            "projects.listProjectsAndServices",
            CallKind::Query,
            None,
        );

        assert_eq!(call.method, reqwest::Method::POST);
        assert_eq!(call.path, "/api/rpc/projects/listProjectsAndServices");
        assert_eq!(call.body.as_deref(), Some(r#"{"json":null}"#));
    }

    #[test]
    fn trpc_payload_ignores_meta() {
        let body = br#"{"result":{"data":{"json":{"a":1},"meta":{"values":{}}}}}"#;

        let value: Option<Value> = payload(Generation::Trpc, body).unwrap();

        assert_eq!(value, Some(json!({"a": 1})));
    }

    #[test]
    fn rpc_payload_ignores_meta() {
        let value: Option<Value> = payload(Generation::Rpc, br#"{"json":[1],"meta":[]}"#).unwrap();

        assert_eq!(value, Some(json!([1])));
    }

    #[test]
    fn empty_mutation_answer_has_no_payload() {
        let trpc: Option<Value> = payload(Generation::Trpc, br#"{"result":{"data":{}}}"#).unwrap();
        let trpc_no_data: Option<Value> = payload(Generation::Trpc, br#"{"result":{}}"#).unwrap();
        let rpc: Option<Value> = payload(Generation::Rpc, br#"{}"#).unwrap();

        assert_eq!(trpc, None);
        assert_eq!(trpc_no_data, None);
        assert_eq!(rpc, None);
    }

    #[test]
    fn wrong_envelope_is_an_error() {
        assert!(payload::<Value>(Generation::Trpc, br#"{"json":{"a":1}}"#).is_err());
        assert!(payload::<Value>(Generation::Rpc, br#"[1,2]"#).is_err());
    }

    #[test]
    fn error_messages_of_both_generations() {
        let trpc = br#"{"error":{"json":{"message":"Service not found.","code":-32004}}}"#;
        let rpc =
            br#"{"json":{"code":"BAD_REQUEST","status":400,"message":"Input validation failed"}}"#;

        assert_eq!(error_message(trpc).as_deref(), Some("Service not found."));
        assert_eq!(
            error_message(rpc).as_deref(),
            Some("Input validation failed")
        );
        assert_eq!(error_message(b"<html>"), None);
    }
}
