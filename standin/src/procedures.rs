//! The procedures the stand-in serves: names, kinds, input schemas and dispatch.

use serde_json::{json, Map, Value};

use crate::envelope::{ApiError, ProcedureKind};
use crate::options::{Generation, MonitorRouter, PanelOptions};
use crate::schema::{self, Schema};
use crate::server::Shared;
use crate::{monitor, services};

/// A served procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Procedure {
    ListProjectsAndServices,
    InspectService,
    UpdateDeploy,
    DeployService,
    GetDockerTaskStats,
    GetMonitorTableData,
    GetServiceStats,
    GetSystemStats,
}

/// A procedure's payload, with the paths inside it that hold dates.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) payload: Value,
    pub(crate) dates: Vec<Vec<Value>>,
}

impl Reply {
    pub(crate) fn new(payload: Value) -> Self {
        Reply {
            payload,
            dates: Vec::new(),
        }
    }
}

impl Procedure {
    const ALL: [Procedure; 8] = [
        Procedure::ListProjectsAndServices,
        Procedure::InspectService,
        Procedure::UpdateDeploy,
        Procedure::DeployService,
        Procedure::GetDockerTaskStats,
        Procedure::GetMonitorTableData,
        Procedure::GetServiceStats,
        Procedure::GetSystemStats,
    ];

    /// Returns the full name, with the monitor procedures under `monitor`.
    pub(crate) fn name(self, monitor: MonitorRouter) -> String {
        match self {
            Procedure::ListProjectsAndServices => "projects.listProjectsAndServices".to_string(),
            Procedure::InspectService => "services.app.inspectService".to_string(),
            Procedure::UpdateDeploy => "services.app.updateDeploy".to_string(),
            Procedure::DeployService => "services.app.deployService".to_string(),
            Procedure::GetDockerTaskStats => monitor.procedure("getDockerTaskStats"),
            Procedure::GetMonitorTableData => monitor.procedure("getMonitorTableData"),
            Procedure::GetServiceStats => monitor.procedure("getServiceStats"),
            Procedure::GetSystemStats => monitor.procedure("getSystemStats"),
        }
    }

    /// Returns the procedure called `name` on a panel whose monitor router is `monitor`.
    pub(crate) fn lookup(name: &str, monitor: MonitorRouter) -> Option<Procedure> {
        Procedure::ALL
            .into_iter()
            .find(|procedure| procedure.name(monitor) == name)
    }

    pub(crate) fn kind(self) -> ProcedureKind {
        match self {
            Procedure::UpdateDeploy | Procedure::DeployService => ProcedureKind::Mutation,
            _ => ProcedureKind::Query,
        }
    }

    /// Returns the input schema; `None` for procedures that take no input.
    pub(crate) fn input_schema(self) -> Option<Schema> {
        match self {
            Procedure::InspectService | Procedure::GetServiceStats => {
                Some(schema::service_reference())
            }
            Procedure::UpdateDeploy => Some(schema::update_deploy()),
            Procedure::DeployService => Some(schema::deploy_service()),
            _ => None,
        }
    }

    /// Runs the procedure on input that passed its schema, defaults filled in.
    pub(crate) async fn call(self, shared: &Shared, input: &Value) -> Result<Reply, ApiError> {
        match self {
            Procedure::ListProjectsAndServices => Ok(services::list_projects_and_services(shared)),
            Procedure::InspectService => services::inspect_service(shared, input),
            Procedure::UpdateDeploy => services::update_deploy(shared, input),
            Procedure::DeployService => services::deploy_service(shared, input).await,
            Procedure::GetDockerTaskStats => Ok(monitor::docker_task_stats(shared)),
            Procedure::GetMonitorTableData => Ok(monitor::monitor_table_data(shared)),
            Procedure::GetServiceStats => monitor::service_stats(shared, input),
            Procedure::GetSystemStats => Ok(monitor::system_stats(shared)),
        }
    }
}

/// Returns the path of `procedure` on the generation's transport.
pub(crate) fn path(generation: Generation, procedure: &str) -> String {
    match generation {
        Generation::Trpc => format!("/api/trpc/{procedure}"),
        Generation::Rpc => format!("/api/rpc/{}", procedure.replace('.', "/")),
    }
}

/// Returns the procedure name a path names on the generation's transport; `None` for a
/// path outside that transport.
pub(crate) fn name_from_path(generation: Generation, path: &str) -> Option<String> {
    match generation {
        Generation::Trpc => path
            .strip_prefix("/api/trpc/")
            .filter(|name| !name.is_empty())
            .map(str::to_string),
        Generation::Rpc => path
            .strip_prefix("/api/rpc/")
            .filter(|name| !name.is_empty())
            .map(|name| name.replace('/', ".")),
    }
}

/// Returns a short OpenAPI document listing the served procedures, like the one the panel
/// publishes at `/api/openapi.json` (whose `info.version` is the panel version).
pub(crate) fn openapi_document(options: &PanelOptions) -> Value {
    let monitor = options.monitor();
    let mut paths = Map::new();
    for procedure in Procedure::ALL {
        let name = procedure.name(monitor);
        let verb = match (options.generation, procedure.kind()) {
            (Generation::Trpc, ProcedureKind::Query) => "get",
            _ => "post",
        };
        let operation = json!({
            "operationId": name,
            "security": [{"bearerAuth": []}],
            "responses": {"200": {"description": ""}}
        });
        paths.insert(path(options.generation, &name), json!({ verb: operation }));
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Easypanel API", "version": options.version},
        "paths": paths
    })
}
