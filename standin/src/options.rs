//! Panel options: which Easypanel generation the stand-in speaks and how it behaves.

use std::time::Duration;

/// Transport generation of the Easypanel API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// tRPC transport of panels up to 2.30: `/api/trpc/<router>.<procedure>`, queries with
    /// `GET ?input=`, mutations with `POST`.
    Trpc,
    /// RPC transport of panels from 2.31: `/api/rpc/<router>/<procedure>`, every call a `POST`.
    Rpc,
}

/// Router that carries the monitor procedures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorRouter {
    /// `monitor.<procedure>`, panels up to 2.28.
    Monitor,
    /// `monitorOld.<procedure>`, panels from 2.30.
    MonitorOld,
}

impl MonitorRouter {
    /// Returns the router's name as it appears in procedure names.
    pub fn name(self) -> &'static str {
        match self {
            MonitorRouter::Monitor => "monitor",
            MonitorRouter::MonitorOld => "monitorOld",
        }
    }

    /// Returns the full procedure name, for example `monitorOld.getDockerTaskStats`.
    pub fn procedure(self, name: &str) -> String {
        format!("{}.{name}", self.name())
    }
}

/// Settings of a stand-in panel.
#[derive(Debug, Clone)]
pub struct PanelOptions {
    /// Transport generation.
    pub generation: Generation,
    /// Router of the monitor procedures; `None` picks the generation's usual one (`monitor`
    /// for tRPC, `monitorOld` for RPC). The other router returns 404.
    pub monitor_router: Option<MonitorRouter>,
    /// API token that every `/api` request must carry as `Authorization: Bearer <token>`.
    pub token: String,
    /// Delay added to every `/api` response.
    pub latency: Duration,
    /// Whether `services.app.updateDeploy` also sets the Swarm desired task count. When
    /// false, only `services.app.deployService` applies a new replica count.
    pub update_changes_desired: bool,
    /// Time that `services.app.deployService` blocks before it returns.
    pub deploy_duration: Duration,
    /// Panel version reported by `/api/openapi.json`.
    pub version: String,
    /// CPU cores of the simulated host, reported by `getSystemStats`.
    pub cpu_count: u32,
}

impl PanelOptions {
    /// Returns options for a 2.19.0 panel on the tRPC transport.
    pub fn trpc() -> Self {
        PanelOptions {
            generation: Generation::Trpc,
            monitor_router: None,
            token: "test-token".to_string(),
            latency: Duration::ZERO,
            update_changes_desired: true,
            deploy_duration: Duration::ZERO,
            version: "2.19.0".to_string(),
            cpu_count: 4,
        }
    }

    /// Returns options for a 2.32.2 panel on the RPC transport.
    pub fn rpc() -> Self {
        PanelOptions {
            generation: Generation::Rpc,
            version: "2.32.2".to_string(),
            ..PanelOptions::trpc()
        }
    }

    /// Returns the monitor router in effect, resolving `None` by generation.
    pub fn monitor(&self) -> MonitorRouter {
        self.monitor_router.unwrap_or(match self.generation {
            Generation::Trpc => MonitorRouter::Monitor,
            Generation::Rpc => MonitorRouter::MonitorOld,
        })
    }
}

impl Default for PanelOptions {
    fn default() -> Self {
        PanelOptions::trpc()
    }
}
