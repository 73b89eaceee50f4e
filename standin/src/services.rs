//! The inventory and the `services.app.*` procedures.
//!
//! `updateDeploy` stores the `deploy` object exactly as it comes out of the schema check, so
//! the panel's defaults replace every field a client left out: sending only `replicas`
//! resets the user's `command` to null. Whether the running Swarm service follows a stored
//! replica count at once is set by `PanelOptions::update_changes_desired`; a
//! `deployService` always applies it.

use serde_json::{json, Value};

use crate::envelope::ApiError;
use crate::procedures::Reply;
use crate::server::Shared;

/// Returns every project and every service document, as two flat arrays.
pub(crate) fn list_projects_and_services(shared: &Shared) -> Reply {
    let panel = shared.panel();

    let projects: Vec<Value> = panel
        .projects()
        .into_iter()
        .map(|name| json!({"name": name, "createdAt": crate::document::CREATED_AT}))
        .collect();
    let services: Vec<Value> = panel
        .services
        .iter()
        .map(|service| service.document.clone())
        .collect();

    let mut dates = Vec::new();
    for index in 0..projects.len() {
        dates.push(vec![json!("projects"), json!(index), json!("createdAt")]);
    }
    for index in 0..services.len() {
        dates.push(vec![json!("services"), json!(index), json!("createdAt")]);
        dates.push(vec![json!("services"), json!(index), json!("updatedAt")]);
    }

    let payload = json!({"projects": projects, "services": services});
    Reply { payload, dates }
}

/// Returns the stored document of one app service.
pub(crate) fn inspect_service(shared: &Shared, input: &Value) -> Result<Reply, ApiError> {
    let (project, name) = service_names(input);
    let mut panel = shared.panel();
    let service = panel
        .app_mut(project, name)
        .ok_or_else(ApiError::service_not_found)?;

    let dates = vec![vec![json!("createdAt")], vec![json!("updatedAt")]];
    Ok(Reply {
        payload: service.document.clone(),
        dates,
    })
}

/// Stores a new `deploy` object and, when `update_changes_desired` is set, sets the Swarm
/// task count.
pub(crate) fn update_deploy(shared: &Shared, input: &Value) -> Result<Reply, ApiError> {
    let (project, name) = service_names(input);
    let deploy = input["deploy"].clone();
    let replicas = task_count(&deploy["replicas"]);
    let mut panel = shared.panel();
    let service = panel
        .app_mut(project, name)
        .ok_or_else(ApiError::service_not_found)?;
    let replicas = replicas?;

    service.document["deploy"] = deploy;

    if shared.options.update_changes_desired && service.is_enabled() {
        service.converge(replicas);
    }
    Ok(Reply::new(Value::Null))
}

/// Blocks for the configured deploy time, then runs the stored replica count.
pub(crate) async fn deploy_service(shared: &Shared, input: &Value) -> Result<Reply, ApiError> {
    let (project, name) = service_names(input);
    if shared.panel().app_mut(project, name).is_none() {
        return Err(ApiError::service_not_found());
    }

    tokio::time::sleep(shared.options.deploy_duration).await;

    let mut panel = shared.panel();
    let service = panel
        .app_mut(project, name)
        .ok_or_else(ApiError::service_not_found)?;
    if service.is_enabled() {
        let replicas = service.replicas().unwrap_or(1);
        service.converge(replicas);
    }
    Ok(Reply::new(Value::Null))
}

/// Returns `projectName` and `serviceName` of an input that passed its schema.
fn service_names(input: &Value) -> (&str, &str) {
    let project = input["projectName"].as_str().unwrap_or_default();
    let name = input["serviceName"].as_str().unwrap_or_default();
    (project, name)
}

/// Returns `replicas` as a Swarm task count.
///
/// The panel's schema accepts any number, but Docker takes only a whole number of 0 or more.
// NOTE: the real panel's response to `replicas: -1` or `2.5` has not been observed. The
// stand-in returns 500 with a message of its own and records a violation.
fn task_count(replicas: &Value) -> Result<u32, ApiError> {
    replicas
        .as_u64()
        .and_then(|count| u32::try_from(count).ok())
        .ok_or_else(|| {
            ApiError::rejected(
                500,
                "replicas must be a whole number of 0 or more",
                format!("deploy.replicas is {replicas}, which Docker rejects"),
            )
        })
}
