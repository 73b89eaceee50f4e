//! The Easypanel API client. Nothing outside this module deals with a URL, a transport
//! envelope or a procedure name.
//!
//! # Assumptions
//! - Auth is `Authorization: Bearer <token>` with a permanent API token.
//! - The monitor procedures live under `monitor.` on panels up to 2.28 and under
//!   `monitorOld.` from 2.30; the client tries one and falls back to the other on a 404.
//! - A request naming a project or service that does not exist fails with a message that
//!   contains "not found", often with HTTP 500.
//!
//! # Caveats
//! Every request counts toward [`Client::request_count`], retries included, so a run can
//! report exactly how much it cost the panel.

mod error;
mod http;
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
use tracing::debug;

pub use error::ApiError;
pub use models::{CpuTable, Inventory, ServiceDeploy, ServiceRow, SystemStats};
use transport::CallKind;
pub use transport::Generation;

use crate::engine::{CpuReading, TaskCounts};

/// Responses larger than this are rejected. The inventory of 1000 services is about 4 MB in
/// the stand-in panel, so a larger body is a fault, not data.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// Assumed host size when the panel did not report its core count: a CPU figure above
/// 100 per core of this many cores is rejected as absurd.
const FALLBACK_CORE_COUNT: u32 = 256;

/// The router under which a panel serves the monitor procedures.
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

/// The client's way of picking its transport generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationChoice {
    /// Use this one only.
    Fixed(Generation),
    /// Start with the remembered generation, or tRPC, and switch when the panel responds
    /// with 404 or 405 to the inventory request.
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

/// The outcome of a `deployService` call.
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

    /// Reads one service's CPU from `getServiceStats`. `Ok(None)` means the panel responded
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

    fn endpoint(&self, procedure: &str) -> String {
        self.generation().path(procedure)
    }
}
