//! Building responses: success and error bodies, faulty responses, and a body that drops
//! the connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::Response;
use http_body::Frame;
use serde_json::{json, Value};

use crate::envelope::{self, ApiError};
use crate::fault::FaultAction;
use crate::options::Generation;
use crate::procedures::Reply;
use crate::recording::Recording;

/// A response and the status to record for it (`None` when no complete response is sent).
pub(crate) struct ApiResponse {
    pub(crate) response: Response,
    pub(crate) status: Option<u16>,
}

impl ApiResponse {
    pub(crate) fn json(status: u16, body: &Value) -> Self {
        ApiResponse {
            response: json_response(status, body),
            status: Some(status),
        }
    }
}

/// Returns the procedure's payload in the success envelope, or its error.
pub(crate) fn success_response(
    generation: Generation,
    outcome: Result<Reply, ApiError>,
    recording: &mut Recording,
    procedure: &str,
) -> ApiResponse {
    match outcome {
        Ok(reply) => ApiResponse::json(
            200,
            &envelope::success(generation, reply.payload, &reply.dates),
        ),
        Err(error) => error_response(generation, error, recording, procedure),
    }
}

/// Returns the error body for `error`, recording the rule it broke if it broke one.
pub(crate) fn error_response(
    generation: Generation,
    error: ApiError,
    recording: &mut Recording,
    procedure: &str,
) -> ApiResponse {
    if let Some(violation) = &error.violation {
        recording.violate(violation);
    }
    ApiResponse::json(
        error.status,
        &envelope::error(generation, &error, procedure),
    )
}

/// Returns the response a fault puts in place of the normal one.
pub(crate) fn fault_response(
    generation: Generation,
    action: FaultAction,
    reply: Option<Reply>,
    procedure: &str,
) -> ApiResponse {
    let payload = reply.map_or(Value::Null, |reply| reply.payload);
    match action {
        FaultAction::Status { status, message } => {
            let error = ApiError::new(status, message);
            ApiResponse::json(status, &envelope::error(generation, &error, procedure))
        }
        FaultAction::MalformedJson => {
            let complete = envelope::success(generation, payload, &[]).to_string();
            let mut cut = complete.len() / 2;
            while !complete.is_char_boundary(cut) {
                cut -= 1;
            }
            raw_response(200, complete[..cut].to_string())
        }
        FaultAction::Payload(payload) => {
            ApiResponse::json(200, &envelope::success(generation, payload, &[]))
        }
        FaultAction::RawBody { status, body } => raw_response(status, body),
        FaultAction::HugeBody(bytes) => {
            let frame = envelope::success(generation, json!(""), &[]).to_string();
            let padding = "x".repeat(bytes.saturating_sub(frame.len()));
            let body = envelope::success(generation, json!(padding), &[]);
            ApiResponse::json(200, &body)
        }
        FaultAction::DropConnection => ApiResponse {
            response: Response::new(Body::new(DroppedBody)),
            status: None,
        },
        FaultAction::Delay(_) | FaultAction::WrongEnvelope => {
            unreachable!("these faults keep the normal response")
        }
    }
}

pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    raw_response(status, body.to_string()).response
}

fn raw_response(status: u16, body: String) -> ApiResponse {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    ApiResponse {
        response,
        status: Some(status),
    }
}

pub(crate) fn text_response(status: u16, body: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NOT_FOUND);
    response
}

/// A response body that fails at once, which makes the server close the connection without
/// a complete response.
struct DroppedBody;

impl http_body::Body for DroppedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let error = io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "fault: drop the connection",
        );
        Poll::Ready(Some(Err(error)))
    }
}
