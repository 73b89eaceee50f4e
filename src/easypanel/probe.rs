//! Single requests for `autoscaler debug-api`. Each sends exactly one request, under the
//! transport generation and monitor router the caller names, with no retry, no detection and
//! no run deadline. It returns the HTTP status, the raw body and the elapsed time beside the
//! outcome a run would see.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http::{describe_parse_error, read_limited};
use super::transport::{self, http_call, CallKind};
use super::{redact, ApiError, Client, Generation, MonitorRouter};

const INVENTORY: &str = "projects.listProjectsAndServices";
const OPENAPI_PATH: &str = "/api/openapi.json";

/// A monitor procedure the diagnosis calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorCall<'a> {
    /// `getDockerTaskStats`: Swarm task counts of every service.
    TaskStats,
    /// `getMonitorTableData`: one row per container on the panel's node.
    TableData,
    /// `getServiceStats`: CPU, memory and network of one service.
    ServiceStats { project: &'a str, service: &'a str },
    /// `getSystemStats`: the host's CPU use and core count.
    SystemStats,
}

impl MonitorCall<'_> {
    fn procedure(self) -> &'static str {
        match self {
            MonitorCall::TaskStats => "getDockerTaskStats",
            MonitorCall::TableData => "getMonitorTableData",
            MonitorCall::ServiceStats { .. } => "getServiceStats",
            MonitorCall::SystemStats => "getSystemStats",
        }
    }

    fn input(self) -> Option<Value> {
        match self {
            MonitorCall::ServiceStats { project, service } => {
                Some(json!({ "projectName": project, "serviceName": service }))
            }
            _ => None,
        }
    }
}

/// The outcome of one request: its status, body and time, and the payload or error.
#[derive(Debug)]
pub struct Probe {
    /// The procedure's name, such as `monitor.getDockerTaskStats`, or the path for a request
    /// that names no procedure.
    pub name: String,
    pub method: reqwest::Method,
    /// Path below the base URL, such as `/api/trpc/projects.listProjectsAndServices`.
    pub path: String,
    /// HTTP status, or `None` when no HTTP response arrived.
    pub status: Option<u16>,
    pub elapsed: Duration,
    /// The body as received. It may hold secrets: show it only through
    /// [`Client::redacted_body`].
    pub body: Vec<u8>,
    /// The payload taken out of the success envelope (`Value::Null` when the envelope carries
    /// none), or the error a run would report for this response.
    pub outcome: Result<Value, ApiError>,
}

impl Client {
    /// Reads the inventory under `generation`.
    pub async fn probe_inventory(&self, generation: Generation) -> Probe {
        self.probe_procedure(generation, INVENTORY.to_owned(), None)
            .await
    }

    /// Calls a monitor procedure under `generation` and `router`.
    pub async fn probe_monitor(
        &self,
        generation: Generation,
        router: MonitorRouter,
        call: MonitorCall<'_>,
    ) -> Probe {
        let name = format!("{}.{}", router.name(), call.procedure());
        self.probe_procedure(generation, name, call.input().as_ref())
            .await
    }

    /// Fetches the panel's OpenAPI document; the outcome is the whole document.
    pub async fn probe_openapi(&self) -> Probe {
        let mut probe = self
            .probe_request(reqwest::Method::GET, OPENAPI_PATH, None, None)
            .await;
        probe.outcome = probe.outcome.and_then(|_| {
            serde_json::from_slice(&probe.body).map_err(|error| ApiError::InvalidResponse {
                endpoint: OPENAPI_PATH.to_owned(),
                detail: describe_parse_error(&error, &probe.body),
            })
        });
        probe
    }

    /// Returns a probe's body with every secret replaced, the API token included, or a
    /// placeholder when the body is not JSON.
    pub fn redacted_body(&self, probe: &Probe) -> String {
        redact::redact_text(&redact::redact_body(&probe.body), &self.token)
    }

    async fn probe_procedure(
        &self,
        generation: Generation,
        name: String,
        input: Option<&Value>,
    ) -> Probe {
        let call = http_call(generation, &name, CallKind::Query, input);
        let mut probe = self
            .probe_request(
                call.method,
                &call.path,
                call.query_input.as_deref(),
                call.body,
            )
            .await;
        probe.outcome = probe.outcome.and_then(|_| {
            transport::payload::<Value>(generation, &probe.body)
                .map(Option::unwrap_or_default)
                .map_err(|error| ApiError::InvalidResponse {
                    endpoint: call.path.clone(),
                    detail: describe_parse_error(&error, &probe.body),
                })
        });
        probe.name = name;
        probe
    }

    /// Sends one request and keeps its body whatever the status. The outcome is
    /// `Ok(Value::Null)` for a 2xx response, which the caller then parses.
    async fn probe_request(
        &self,
        method: reqwest::Method,
        path: &str,
        query_input: Option<&str>,
        body: Option<String>,
    ) -> Probe {
        let request = self.request(method.clone(), path, query_input, body, self.timeout);

        let started = Instant::now();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut probe = Probe {
            name: path.to_owned(),
            method,
            path: path.to_owned(),
            status: None,
            elapsed: Duration::ZERO,
            body: Vec::new(),
            outcome: Ok(Value::Null),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                probe.elapsed = started.elapsed();
                probe.outcome = Err(self.transport_error(error, path, self.timeout));
                return probe;
            }
        };
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        probe.status = Some(status.as_u16());
        let body = read_limited(response, path).await;
        probe.elapsed = started.elapsed();

        match body {
            Ok(body) => {
                if !status.is_success() {
                    probe.outcome = Err(self.status_error(status, location, &body, path));
                }
                probe.body = body;
            }
            Err(error) => probe.outcome = Err(error),
        }
        probe
    }
}
