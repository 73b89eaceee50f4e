//! The HTTP side of the client: sending one request, retries, size limits, and turning
//! statuses and transport failures into [`ApiError`] values.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::{debug, warn};

use super::transport::{self, http_call, CallKind};
use super::{redact, ApiError, Client, MAX_RESPONSE_BYTES};

/// Attempts of a retried call, the first included.
const MAX_ATTEMPTS: u32 = 3;

/// First retry delay; each further retry doubles it, with up to 50% random jitter.
const RETRY_BASE_DELAY: Duration = Duration::from_millis(250);

impl Client {
    /// Calls a procedure, retrying transient failures when `retry` is set: at most
    /// [`MAX_ATTEMPTS`] tries with jittered exponential backoff, never past the deadline.
    pub(super) async fn call_with_retry<T: DeserializeOwned>(
        &self,
        procedure: &str,
        kind: CallKind,
        input: Option<&Value>,
        retry: bool,
        timeout: Duration,
    ) -> Result<Option<T>, ApiError> {
        let mut attempt = 1;
        loop {
            let result = self.call_once(procedure, kind, input, timeout).await;
            match result {
                Err(error) if retry && attempt < MAX_ATTEMPTS && error.is_transient() => {
                    let delay = backoff(attempt);
                    if self
                        .deadline
                        .is_some_and(|deadline| Instant::now() + delay >= deadline)
                    {
                        return Err(error);
                    }
                    warn!(
                        api_endpoint = %self.endpoint(procedure),
                        attempt,
                        retry_in_ms = delay.as_millis() as u64,
                        error = %error,
                        "request failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    pub(super) async fn call_once<T: DeserializeOwned>(
        &self,
        procedure: &str,
        kind: CallKind,
        input: Option<&Value>,
        timeout: Duration,
    ) -> Result<Option<T>, ApiError> {
        let call = http_call(self.generation(), procedure, kind, input);
        // A write cut short by the budget may still be applied by the panel without the run
        // knowing, so a write starts only with its whole timeout left.
        let budget_left = self
            .deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()));
        if let Some(left) = budget_left.filter(|left| kind == CallKind::Mutation && *left < timeout)
        {
            return Err(ApiError::WriteBudget {
                endpoint: call.path,
                left,
                timeout,
            });
        }
        let body = self
            .send(
                call.method,
                &call.path,
                call.query_input.as_deref(),
                call.body,
                timeout,
            )
            .await?;
        transport::payload(self.generation(), &body).map_err(|error| ApiError::InvalidResponse {
            endpoint: call.path,
            detail: describe_parse_error(&error, &body),
        })
    }

    /// Sends one HTTP request and returns the body of a 2xx response. Every other
    /// response becomes the matching [`ApiError`].
    pub(super) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query_input: Option<&str>,
        body: Option<String>,
        timeout: Duration,
    ) -> Result<Vec<u8>, ApiError> {
        let timeout = match self.deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ApiError::BudgetSpent {
                        endpoint: path.to_owned(),
                    });
                }
                timeout.min(left)
            }
            None => timeout,
        };
        let request = self.request(method.clone(), path, query_input, body, timeout);

        let started = Instant::now();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                read_limited(response, path)
                    .await
                    .map(|body| (status, location, body))
            }
            Err(error) => Err(self.transport_error(error, path, timeout)),
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;

        let (status, location, body) = match result {
            Ok(answer) => answer,
            Err(error) => {
                debug!(method = %method, api_endpoint = path, response_time_ms = elapsed_ms, error = %error, "API request failed");
                return Err(error);
            }
        };
        debug!(
            method = %method,
            api_endpoint = path,
            status_code = status.as_u16(),
            response_time_ms = elapsed_ms,
            response_bytes = body.len() as u64,
            "API request"
        );
        if tracing::enabled!(tracing::Level::DEBUG) {
            let shown = redact::redact_text(&redact::redact_body(&body), &self.token);
            debug!(api_endpoint = path, body = %shown, "API response body (secrets redacted)");
        }

        if status.is_success() {
            return Ok(body);
        }
        Err(self.status_error(status, location, &body, path))
    }

    /// Builds an authenticated request for `path` under the panel's base URL.
    pub(super) fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        query_input: Option<&str>,
        body: Option<String>,
        timeout: Duration,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout);
        if let Some(input) = query_input {
            request = request.query(&[("input", input)]);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        request
    }

    pub(super) fn status_error(
        &self,
        status: reqwest::StatusCode,
        location: Option<String>,
        body: &[u8],
        path: &str,
    ) -> ApiError {
        let endpoint = path.to_owned();
        let message = transport::error_message(body)
            .map(|message| redact::redact_text(&message, &self.token))
            .unwrap_or_else(|| format!("no error message ({} bytes)", body.len()));
        match status.as_u16() {
            401 | 403 => ApiError::Unauthorized {
                endpoint,
                status: status.as_u16(),
            },
            404 if is_missing_service_message(&message) => ApiError::Panel {
                endpoint,
                status: 404,
                message,
            },
            404 => ApiError::ProcedureNotFound { endpoint },
            405 => ApiError::MethodNotAllowed { endpoint },
            300..=399 => ApiError::Redirected {
                endpoint,
                status: status.as_u16(),
                location: location.unwrap_or_else(|| "an unnamed location".to_owned()),
            },
            code => ApiError::Panel {
                endpoint,
                status: code,
                message,
            },
        }
    }

    pub(super) fn transport_error(
        &self,
        error: reqwest::Error,
        path: &str,
        timeout: Duration,
    ) -> ApiError {
        if error.is_timeout() {
            return ApiError::Timeout {
                endpoint: path.to_owned(),
                timeout,
            };
        }
        let chain = redact::redact_text(&error_chain(&error), &self.token);
        let lowered = chain.to_ascii_lowercase();
        // rustls words a handshake with a plain-HTTP server as "received corrupt message",
        // which names neither TLS nor the fix.
        let is_tls_failure = self.base_url.starts_with("https://")
            && error.is_connect()
            && !["refused", "dns", "resolve", "reset", "unreachable"]
                .iter()
                .any(|word| lowered.contains(word));
        let detail = if is_tls_failure && !lowered.contains("certificate") {
            format!(
                "TLS handshake failed ({chain}); if the panel serves plain HTTP, use an http:// URL"
            )
        } else if is_tls_failure {
            format!(
                "TLS handshake failed ({chain}); for a self-signed certificate set api.verify_ssl to false"
            )
        } else {
            chain
        };
        ApiError::Unreachable {
            url: self.base_url.clone(),
            detail,
        }
    }
}

/// Tells a 404 for a missing project or service ("Service not found.") from a 404 for an
/// unknown procedure, which tRPC words as `No "query"-procedure on path "..."` and RPC as
/// "Not found". The path in the message may itself name projects, so it is not enough that
/// "project" or "service" appears.
fn is_missing_service_message(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("not found")
        && !message.contains("procedure")
        && (message.contains("service") || message.contains("project"))
}

/// Reads a body up to [`MAX_RESPONSE_BYTES`].
pub(super) async fn read_limited(
    mut response: reqwest::Response,
    path: &str,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::TooLarge {
        endpoint: path.to_owned(),
        limit_bytes: MAX_RESPONSE_BYTES,
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > MAX_RESPONSE_BYTES {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) if error.is_timeout() => {
                return Err(ApiError::Timeout {
                    endpoint: path.to_owned(),
                    timeout: Duration::ZERO,
                })
            }
            Err(error) => {
                return Err(ApiError::InvalidResponse {
                    endpoint: path.to_owned(),
                    detail: format!(
                        "the response body could not be read: {}",
                        error_chain(&error)
                    ),
                })
            }
        }
    }
}

/// Joins an error and its sources, so "error sending request" shows its cause
/// ("Connection refused", "dns error", "invalid peer certificate").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(super) fn describe_parse_error(error: &serde_json::Error, body: &[u8]) -> String {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        let start = String::from_utf8_lossy(&body[..body.len().min(15)]).into_owned();
        return format!(
            "not JSON ({error}); it starts with {start:?}, so api.base_url may not point at an Easypanel panel"
        );
    }
    format!("unexpected shape: {error}")
}

fn backoff(attempt: u32) -> Duration {
    let base = RETRY_BASE_DELAY * 2u32.pow(attempt - 1);
    base + base.mul_f64(fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::is_missing_service_message;

    #[test]
    pub(super) fn missing_service_404_is_told_from_unknown_procedure() {
        assert!(is_missing_service_message("Service not found."));
        assert!(is_missing_service_message("Project not found"));
        assert!(!is_missing_service_message(
            r#"No "mutation"-procedure on path "/api/rpc/projects/listProjectsAndServices""#
        ));
        assert!(!is_missing_service_message("Not found"));
        assert!(!is_missing_service_message("no error message (0 bytes)"));
    }
}
