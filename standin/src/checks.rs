//! The checks a request passes before its procedure runs: path, auth, verb, envelope and
//! input. Each failed check is an error response, and a broken rule of the real API is also
//! a violation.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, Method, Uri};
use serde_json::Value;

use crate::envelope::{self, ApiError};
use crate::options::{Generation, PanelOptions};
use crate::procedures::Procedure;
use crate::recording::Recording;

/// The parts of a request the checks read.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a Bytes,
}

/// A request that passed every check: its procedure and its input with defaults filled in.
pub(crate) struct Call<'a> {
    pub(crate) name: &'a str,
    pub(crate) procedure: Procedure,
    pub(crate) input: Value,
}

/// Checks a request to the procedure `name` and returns the call to make, or the error to
/// respond with.
pub(crate) fn admit<'a>(
    options: &PanelOptions,
    request: &Request<'_>,
    name: Option<&'a str>,
    recording: &mut Recording,
) -> Result<Call<'a>, ApiError> {
    let generation = options.generation;
    let auth = check_auth(request.headers, &options.token);

    // Auth is checked on every path so a client that forgets the token is caught, but an
    // unknown path still returns 404, which clients use to detect the generation.
    let known = name.and_then(|name| Some((name, Procedure::lookup(name, options.monitor())?)));
    let Some((name, procedure)) = known else {
        if let Err(error) = &auth {
            recording.violate(error.violation.as_deref().unwrap_or_default());
        }
        let label = name.unwrap_or(request.uri.path());
        return Err(not_found(generation, request.method, label));
    };
    auth?;
    envelope::check_verb(generation, procedure.kind(), request.method, name)?;

    let input = envelope::decode_input(generation, request.method, request.uri, request.body)?;
    recording.input = input.clone().unwrap_or(Value::Null);
    check_content_type(request, recording);

    let input = match (procedure.input_schema(), input) {
        (Some(schema), input) => schema.check(input.as_ref()).map_err(ApiError::validation)?,
        (None, Some(input)) if !input.is_null() => {
            recording.violate("input sent to a procedure that takes none");
            Value::Null
        }
        (None, _) => Value::Null,
    };
    Ok(Call {
        name,
        procedure,
        input,
    })
}

/// Checks `Authorization: Bearer <token>`.
pub(crate) fn check_auth(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        let violation = "missing Authorization header".to_string();
        return Err(ApiError::rejected(401, "Unauthorized", violation));
    };
    if value.as_bytes() == format!("Bearer {token}").as_bytes() {
        return Ok(());
    }
    // The header's value is left out of the violation because it may hold a real token.
    let violation = "Authorization header is not `Bearer <the panel's token>`".to_string();
    Err(ApiError::rejected(401, "Unauthorized", violation))
}

/// Records a violation for a `POST` whose body is not declared as JSON. The panel's response
/// to such a request is not known, so the stand-in still runs the procedure.
fn check_content_type(request: &Request<'_>, recording: &mut Recording) {
    if *request.method != Method::POST {
        return;
    }
    let content_type = request
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/json") {
        recording.violate("POST without `Content-Type: application/json`");
    }
}

fn not_found(generation: Generation, method: &Method, procedure: &str) -> ApiError {
    let message = match generation {
        Generation::Trpc => {
            let kind = if *method == Method::GET {
                "query"
            } else {
                "mutation"
            };
            format!("No \"{kind}\"-procedure on path \"{procedure}\"")
        }
        Generation::Rpc => "Not found".to_string(),
    };
    ApiError::new(404, message)
}
