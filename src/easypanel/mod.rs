//! The Easypanel API client. Nothing outside this module knows a URL, a transport envelope
//! or a procedure name.
//!
//! # Assumptions
//! - Auth is `Authorization: Bearer <token>` with a permanent API token.
//! - The monitor procedures live under `monitor.` on panels up to 2.28 and under
//!   `monitorOld.` from 2.30; the client tries one and falls back to the other on a 404.
//! - A project or service that does not exist answers an error whose message contains
//!   "not found", often with HTTP 500.
//!
//! # Caveats
//! Every request counts toward [`Client::request_count`], retries included, so a run can
//! report exactly how much it cost the panel.

mod error;
pub mod models;
pub mod probe;
pub mod redact;
mod transport;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tracing::{debug, warn};

pub use error::ApiError;
pub use models::{CpuTable, Inventory, ServiceDeploy, ServiceRow, SystemStats};
pub use transport::Generation;
use transport::{http_call, CallKind};

use crate::engine::{CpuReading, TaskCounts};

/// Responses larger than this are rejected: even a panel with thousands of services answers
/// well below it, so a larger body is a fault, not data.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Attempts of a retried call, the first included.
const MAX_ATTEMPTS: u32 = 3;

/// First retry delay; each further retry doubles it, with up to 50% random jitter.
const RETRY_BASE_DELAY: Duration = Duration::from_millis(250);

/// Assumed host size when the panel did not report its core count: a CPU figure above
/// 100 per core of this many cores is rejected as absurd.
const FALLBACK_CORE_COUNT: u32 = 256;

/// The router that holds the monitor procedures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MonitorRouter {
    #[serde(rename = "monitor")]
    Monitor,
    #[serde(rename = "monitorOld")]
    MonitorOld,
}

impl MonitorRouter {
    pub fn name(self) -> &'static str {
        match self {
            MonitorRouter::Monitor => "monitor",
            MonitorRouter::MonitorOld => "monitorOld",
        }
    }

    fn other(self) -> MonitorRouter {
        match self {
            MonitorRouter::Monitor => MonitorRouter::MonitorOld,
            MonitorRouter::MonitorOld => MonitorRouter::Monitor,
        }
    }

    /// Returns the router a panel of this generation most likely has.
    fn likely_for(generation: Generation) -> MonitorRouter {
        match generation {
            Generation::Trpc => MonitorRouter::Monitor,
            Generation::Rpc => MonitorRouter::MonitorOld,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            MonitorRouter::Monitor => 1,
            MonitorRouter::MonitorOld => 2,
        }
    }

    fn from_u8(value: u8) -> Option<MonitorRouter> {
        match value {
            1 => Some(MonitorRouter::Monitor),
            2 => Some(MonitorRouter::MonitorOld),
            _ => None,
        }
    }
}

/// How the client picks its transport generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationChoice {
    /// Use this one only.
    Fixed(Generation),
    /// Start with the remembered generation, or tRPC, and switch when the panel answers
    /// 404 or 405 for the inventory.
    Detect { remembered: Option<Generation> },
}

/// Everything the client needs to talk to one panel.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub base_url: String,
    pub token: String,
    pub verify_ssl: bool,
    pub timeout: Duration,
    pub generation: GenerationChoice,
    pub monitor_router: Option<MonitorRouter>,
    /// No request is sent or retried after this instant.
    pub deadline: Option<Instant>,
    /// Host cores used to reject absurd CPU figures, if known.
    pub host_cores: Option<u32>,
}

/// What a `deployService` call came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployOutcome {
    Finished,
    /// The call outlasted the timeout. The panel keeps deploying: dropping the connection
    /// does not cancel a deployment.
    StillRunning,
}

pub struct Client {
    http: reqwest::Client,
    base_url: String,
    token: String,
    timeout: Duration,
    /// The generation in use: [`Generation::to_u8`], so a detection can change it while
    /// other calls share the client.
    generation: AtomicU8,
    choice: GenerationChoice,
    monitor_router: AtomicU8,
    deadline: Option<Instant>,
    max_cpu_percent: f64,
    requests: AtomicU64,
}

impl Client {
    /// Builds a client. Fails only when the TLS backend cannot be set up.
    pub fn new(settings: ClientSettings) -> Result<Client, ApiError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("easypanel-autoscaler/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(!settings.verify_ssl)
            // A redirect is reported, never followed, so the token goes to the configured
            // panel and nowhere else.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|error| ApiError::Unreachable {
                url: settings.base_url.clone(),
                detail: format!("could not set up the HTTP client: {error}"),
            })?;
        let generation = match settings.generation {
            GenerationChoice::Fixed(generation) => generation,
            GenerationChoice::Detect { remembered } => remembered.unwrap_or(Generation::Trpc),
        };
        let cores = settings.host_cores.unwrap_or(FALLBACK_CORE_COUNT);
        Ok(Client {
            http,
            base_url: settings.base_url,
            token: settings.token,
            timeout: settings.timeout,
            generation: AtomicU8::new(generation.to_u8()),
            choice: settings.generation,
            monitor_router: AtomicU8::new(settings.monitor_router.map_or(0, MonitorRouter::to_u8)),
            deadline: settings.deadline,
            max_cpu_percent: 100.0 * f64::from(cores),
            requests: AtomicU64::new(0),
        })
    }

    /// Returns the number of HTTP requests sent so far, retries included.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn generation(&self) -> Generation {
        Generation::from_u8(self.generation.load(Ordering::Relaxed))
    }

    /// Returns the monitor router once a monitor call has succeeded or it was given.
    pub fn monitor_router(&self) -> Option<MonitorRouter> {
        MonitorRouter::from_u8(self.monitor_router.load(Ordering::Relaxed))
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Reads the inventory of projects and services.
    ///
    /// When the generation is detected, a 404 or 405 switches to the other generation once,
    /// so a remembered choice that stopped working is detected again.
    pub async fn inventory(&self) -> Result<Inventory, ApiError> {
        const PROCEDURE: &str = "projects.listProjectsAndServices";
        let first = self.query::<models::RawInventory>(PROCEDURE, None).await;
        let raw = match (first, self.choice) {
            (Err(error), GenerationChoice::Detect { .. }) if error.is_wrong_generation() => {
                let tried = self.generation();
                self.generation
                    .store(tried.other().to_u8(), Ordering::Relaxed);
                debug!(
                    tried = tried.name(),
                    next = tried.other().name(),
                    "inventory not found under this transport generation; trying the other"
                );
                self.monitor_router.store(0, Ordering::Relaxed);
                self.query::<models::RawInventory>(PROCEDURE, None).await?
            }
            (result, _) => result?,
        };
        Ok(raw.into_inventory())
    }

    /// Reads the Swarm task counts of every service, keyed `project_service`. Also returns
    /// how many entries were invalid and left out.
    pub async fn task_counts(&self) -> Result<(HashMap<String, TaskCounts>, usize), ApiError> {
        let payload: HashMap<String, Value> =
            self.monitor_query("getDockerTaskStats", None).await?;
        Ok(models::task_counts(payload))
    }

    /// Reads the per-container CPU table and groups it by service.
    pub async fn cpu_table(&self) -> Result<CpuTable, ApiError> {
        let rows: Vec<models::Lenient<models::RawContainer>> =
            self.monitor_query("getMonitorTableData", None).await?;
        Ok(models::cpu_table(rows, self.max_cpu_percent))
    }

    /// Reads one service's CPU from `getServiceStats`. `Ok(None)` means the panel answered
    /// without a usable figure.
    pub async fn service_cpu(
        &self,
        project: &str,
        service: &str,
    ) -> Result<Option<CpuReading>, ApiError> {
        let input = json!({ "projectName": project, "serviceName": service });
        let payload: Value = self.monitor_query("getServiceStats", Some(&input)).await?;
        Ok(models::service_cpu(&payload, self.max_cpu_percent))
    }

    /// Reads the host's CPU use and core count.
    pub async fn system_stats(&self) -> Result<SystemStats, ApiError> {
        let payload: Value = self.monitor_query("getSystemStats", None).await?;
        Ok(models::system_stats(&payload))
    }

    /// Reads a service's stored `deploy` object.
    pub async fn inspect_service(
        &self,
        project: &str,
        service: &str,
    ) -> Result<ServiceDeploy, ApiError> {
        const PROCEDURE: &str = "services.app.inspectService";
        let input = json!({ "projectName": project, "serviceName": service });
        let payload: Value = self.query(PROCEDURE, Some(&input)).await?;
        models::service_deploy(&payload).map_err(|detail| ApiError::InvalidResponse {
            endpoint: self.endpoint(PROCEDURE),
            detail: detail.to_owned(),
        })
    }

    /// Stores a new replica count. `deploy` is the service's whole current deploy object:
    /// the panel fills defaults into every missing field, so sending `replicas` alone would
    /// wipe the start command and other settings.
    pub async fn update_replicas(
        &self,
        project: &str,
        service: &str,
        deploy: &Map<String, Value>,
        replicas: u32,
    ) -> Result<(), ApiError> {
        let mut deploy = deploy.clone();
        deploy.insert("replicas".to_owned(), json!(replicas));
        let input = json!({ "projectName": project, "serviceName": service, "deploy": deploy });
        // Setting an absolute count is idempotent, so a failed attempt may be retried.
        self.call_with_retry::<serde::de::IgnoredAny>(
            "services.app.updateDeploy",
            CallKind::Mutation,
            Some(&input),
            true,
            self.timeout,
        )
        .await
        .map(drop)
    }

    /// Runs a deployment of the service. It is never retried: a deployment rebuilds or
    /// pulls the image, and a second one would repeat that work.
    pub async fn deploy_service(
        &self,
        project: &str,
        service: &str,
    ) -> Result<DeployOutcome, ApiError> {
        let input =
            json!({ "projectName": project, "serviceName": service, "forceRebuild": false });
        let result = self
            .call_with_retry::<serde::de::IgnoredAny>(
                "services.app.deployService",
                CallKind::Mutation,
                Some(&input),
                false,
                self.timeout,
            )
            .await;
        match result {
            Ok(_) => Ok(DeployOutcome::Finished),
            Err(ApiError::Timeout { .. }) => Ok(DeployOutcome::StillRunning),
            Err(error) => Err(error),
        }
    }

    /// Fetches the panel's own OpenAPI document and returns its `info.version`.
    pub async fn panel_version(&self) -> Result<Option<String>, ApiError> {
        let body = self
            .send(
                reqwest::Method::GET,
                "/api/openapi.json",
                None,
                None,
                self.timeout,
            )
            .await?;
        let value: Value =
            serde_json::from_slice(&body).map_err(|error| ApiError::InvalidResponse {
                endpoint: "/api/openapi.json".to_owned(),
                detail: error.to_string(),
            })?;
        Ok(value
            .pointer("/info/version")
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// Calls a monitor procedure under the known router, or finds the router: the likely
    /// one for this generation first, then the other on a 404.
    async fn monitor_query<T: DeserializeOwned>(
        &self,
        procedure: &str,
        input: Option<&Value>,
    ) -> Result<T, ApiError> {
        // A known router is tried first; a remembered one that stopped working (the panel was
        // upgraded) falls back to the other like an unknown one.
        let first = self
            .monitor_router()
            .unwrap_or_else(|| MonitorRouter::likely_for(self.generation()));
        let result = match self
            .query(&format!("{}.{procedure}", first.name()), input)
            .await
        {
            Err(ApiError::ProcedureNotFound { .. }) => {
                let other = first.other();
                let result = self
                    .query(&format!("{}.{procedure}", other.name()), input)
                    .await;
                result.map(|payload| (payload, other))
            }
            result => result.map(|payload| (payload, first)),
        };
        let (payload, router) = result?;
        self.monitor_router.store(router.to_u8(), Ordering::Relaxed);
        Ok(payload)
    }

    /// Forgets the monitor router, so the next monitor call finds it again.
    pub fn forget_monitor_router(&self) {
        self.monitor_router.store(0, Ordering::Relaxed);
    }

    async fn query<T: DeserializeOwned>(
        &self,
        procedure: &str,
        input: Option<&Value>,
    ) -> Result<T, ApiError> {
        let payload = self
            .call_with_retry(procedure, CallKind::Query, input, true, self.timeout)
            .await?;
        payload.ok_or_else(|| ApiError::InvalidResponse {
            endpoint: self.endpoint(procedure),
            detail: "the response envelope has no payload".to_owned(),
        })
    }

    /// Calls a procedure, retrying transient failures when `retry` is set: at most
    /// [`MAX_ATTEMPTS`] tries with jittered exponential backoff, never past the deadline.
    async fn call_with_retry<T: DeserializeOwned>(
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

    async fn call_once<T: DeserializeOwned>(
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
        if kind == CallKind::Mutation && budget_left.is_some_and(|left| left < timeout) {
            return Err(ApiError::BudgetSpent {
                endpoint: call.path,
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

    /// Sends one HTTP request and returns the body of a 2xx answer. Every other answer
    /// becomes the matching [`ApiError`].
    async fn send(
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
    fn request(
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

    fn status_error(
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

    fn transport_error(&self, error: reqwest::Error, path: &str, timeout: Duration) -> ApiError {
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

    fn endpoint(&self, procedure: &str) -> String {
        self.generation().path(procedure)
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
async fn read_limited(mut response: reqwest::Response, path: &str) -> Result<Vec<u8>, ApiError> {
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

fn describe_parse_error(error: &serde_json::Error, body: &[u8]) -> String {
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
    fn missing_service_404_is_told_from_unknown_procedure() {
        assert!(is_missing_service_message("Service not found."));
        assert!(is_missing_service_message("Project not found"));
        assert!(!is_missing_service_message(
            r#"No "mutation"-procedure on path "/api/rpc/projects/listProjectsAndServices""#
        ));
        assert!(!is_missing_service_message("Not found"));
        assert!(!is_missing_service_message("no error message (0 bytes)"));
    }
}
