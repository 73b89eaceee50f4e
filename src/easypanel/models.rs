//! Typed models of the panel's responses, parsed leniently item by item.
//!
//! The panel is closed source and its responses have no published schema, so a malformed
//! item never fails the whole response. It becomes missing data for that item (a service
//! held, a container not counted), and the problem is reported once with the endpoint.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::engine::{CpuReading, TaskCounts};

/// The inventory: every service of every project, flattened.
#[derive(Debug, Default)]
pub struct Inventory {
    pub project_count: usize,
    pub services: Vec<ServiceRow>,
    /// One description per row that could not be read (no name, not an object).
    pub invalid_rows: Vec<String>,
}

/// One service of the inventory, reduced to what the autoscaler uses.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub project: String,
    pub name: String,
    /// `app`, `compose`, `postgres`, ...; only `app` services can be scaled.
    pub kind: String,
    pub enabled: Option<bool>,
    /// The whole stored `deploy` object, kept to send back unchanged but for `replicas`.
    pub deploy: Option<Map<String, Value>>,
    /// `deploy.replicas`, when it is a non-negative integer.
    pub replicas: Option<u32>,
    /// Whether `ports` lists a host-published port; `None` when `ports` is missing or invalid.
    pub has_published_ports: Option<bool>,
    /// Fields that were missing or of the wrong type; each left the matching value unknown.
    pub problems: Vec<String>,
}

impl ServiceRow {
    /// Returns the Swarm service name, `<project>_<service>`, which keys the config file,
    /// the state files and the monitor data.
    pub fn key(&self) -> String {
        service_key(&self.project, &self.name)
    }

    pub fn is_app(&self) -> bool {
        self.kind == "app"
    }
}

pub fn service_key(project: &str, service: &str) -> String {
    format!("{project}_{service}")
}

/// A service document from `inspectService`, reduced to its `deploy` object.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDeploy {
    pub deploy: Map<String, Value>,
    pub replicas: Option<u32>,
}

/// Per-container CPU figures grouped by service.
#[derive(Debug, Default)]
pub struct CpuTable {
    pub by_service: HashMap<String, CpuReading>,
    /// Containers whose CPU figure was missing, negative, not a number or absurdly high.
    pub invalid_figures: usize,
}

/// Host figures from `getSystemStats`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SystemStats {
    pub cpu_used_percent: Option<f64>,
    pub cpu_count: Option<u32>,
}

/// A row of the inventory as sent, before validation. Unknown fields are skipped while
/// parsing, so the secrets and bulky settings of a row are never held in memory.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRow {
    project_name: Option<Value>,
    name: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<Value>,
    enabled: Option<Value>,
    deploy: Option<Value>,
    ports: Option<Value>,
}

/// A list item that may not even be an object.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Lenient<T> {
    Valid(T),
    Invalid(Value),
}

#[derive(Deserialize)]
pub(crate) struct RawInventory {
    #[serde(default)]
    projects: Vec<serde::de::IgnoredAny>,
    services: Vec<Lenient<RawRow>>,
}

impl RawInventory {
    pub(crate) fn into_inventory(self) -> Inventory {
        let mut inventory = Inventory {
            project_count: self.projects.len(),
            ..Inventory::default()
        };
        for (index, row) in self.services.into_iter().enumerate() {
            match row {
                Lenient::Valid(row) => match validate_row(row) {
                    Ok(row) => inventory.services.push(row),
                    Err(problem) => inventory
                        .invalid_rows
                        .push(format!("services[{index}]: {problem}")),
                },
                Lenient::Invalid(value) => inventory.invalid_rows.push(format!(
                    "services[{index}]: expected an object, found {}",
                    kind_of(&value)
                )),
            }
        }
        inventory
    }
}

fn validate_row(row: RawRow) -> Result<ServiceRow, String> {
    let project = required_string(row.project_name, "projectName")?;
    let name = required_string(row.name, "name")?;
    let kind = required_string(row.kind, "type")?;
    let mut problems = Vec::new();

    let enabled = match &row.enabled {
        Some(Value::Bool(enabled)) => Some(*enabled),
        other => {
            problems.push(format!(
                "enabled: expected a boolean, found {}",
                shown_kind(other)
            ));
            None
        }
    };
    let has_published_ports = row.ports.as_ref().and_then(has_published_ports);
    if has_published_ports.is_none() {
        problems.push(format!(
            "ports: expected an array, found {}",
            shown_kind(&row.ports)
        ));
    }
    let deploy = match row.deploy {
        Some(Value::Object(deploy)) => Some(deploy),
        other => {
            if kind == "app" {
                problems.push(format!(
                    "deploy: expected an object, found {}",
                    shown_kind(&other)
                ));
            }
            None
        }
    };
    let replicas = deploy.as_ref().and_then(replicas_of);
    if let (Some(deploy), None) = (&deploy, replicas) {
        problems.push(format!(
            "deploy.replicas: expected a whole number of 0 or more, found {}",
            deploy
                .get("replicas")
                .map_or("nothing".to_owned(), Value::to_string)
        ));
    }

    Ok(ServiceRow {
        project,
        name,
        kind,
        enabled,
        deploy,
        replicas,
        has_published_ports,
        problems,
    })
}

fn shown_kind(value: &Option<Value>) -> &'static str {
    value.as_ref().map_or("nothing", kind_of)
}

fn required_string(value: Option<Value>, field: &str) -> Result<String, String> {
    match value {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(other) => Err(format!(
            "{field}: expected a non-empty string, found {}",
            kind_of(&other)
        )),
        None => Err(format!("{field}: missing")),
    }
}

/// Reads `replicas` as a non-negative integer; `2.0` counts, `2.5`, `-1` and `"2"` do not.
pub(crate) fn replicas_of(deploy: &Map<String, Value>) -> Option<u32> {
    let replicas = deploy.get("replicas")?;
    if let Some(whole) = replicas.as_u64() {
        return u32::try_from(whole).ok();
    }
    let float = replicas.as_f64()?;
    (float.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&float)).then_some(float as u32)
}

fn has_published_ports(ports: &Value) -> Option<bool> {
    let ports = ports.as_array()?;
    Some(ports.iter().any(|port| {
        port.get("published")
            .and_then(Value::as_f64)
            .is_some_and(|published| published > 0.0)
    }))
}

/// Parses `getDockerTaskStats`: a map from Swarm service name to `{actual, desired}`.
/// Entries with a missing or invalid count are left out and counted.
pub(crate) fn task_counts(payload: HashMap<String, Value>) -> (HashMap<String, TaskCounts>, usize) {
    let mut counts = HashMap::with_capacity(payload.len());
    let mut invalid = 0;
    for (key, entry) in payload {
        let count = |field: &str| {
            entry
                .get(field)
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
        };
        match (count("actual"), count("desired")) {
            (Some(running), Some(desired)) => {
                counts.insert(key, TaskCounts { running, desired });
            }
            _ => invalid += 1,
        }
    }
    (counts, invalid)
}

/// A row of `getMonitorTableData`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawContainer {
    project_name: Option<Value>,
    service_name: Option<Value>,
    container_name: Option<Value>,
    stats: Option<Value>,
}

/// Groups container rows by service: a service's CPU is the mean of its containers'
/// `stats.cpu.percent`, and the reading records how many containers it covers.
///
/// A figure that is missing, negative, not a finite number or above `max_percent` is left
/// out, so the reading covers fewer containers than are running and cannot justify a
/// scale down. Containers that belong to no Easypanel service are ignored.
pub(crate) fn cpu_table(rows: Vec<Lenient<RawContainer>>, max_percent: f64) -> CpuTable {
    let mut sums: HashMap<String, (f64, u32)> = HashMap::new();
    let mut table = CpuTable::default();
    for row in rows {
        let Lenient::Valid(row) = row else {
            table.invalid_figures += 1;
            continue;
        };
        let Some(key) = container_service_key(&row) else {
            continue;
        };
        let percent = row
            .stats
            .as_ref()
            .and_then(|stats| stats.get("cpu"))
            .and_then(|cpu| cpu.get("percent"))
            .and_then(Value::as_f64)
            .filter(|percent| is_plausible_cpu(*percent, max_percent));
        match percent {
            Some(percent) => {
                let entry = sums.entry(key).or_insert((0.0, 0));
                entry.0 += percent;
                entry.1 += 1;
            }
            None => {
                sums.entry(key).or_insert((0.0, 0));
                table.invalid_figures += 1;
            }
        }
    }
    table.by_service = sums
        .into_iter()
        .filter(|(_, (_, count))| *count > 0)
        .map(|(key, (sum, count))| {
            (
                key,
                CpuReading {
                    percent: sum / f64::from(count),
                    containers: Some(count),
                },
            )
        })
        .collect();
    table
}

/// Returns the service a container belongs to: from `projectName` and `serviceName`, or
/// else from the Swarm task name in `containerName` (`<project>_<service>.<slot>.<id>`).
fn container_service_key(row: &RawContainer) -> Option<String> {
    fn text(value: &Option<Value>) -> Option<&str> {
        value
            .as_ref()
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    }
    if let (Some(project), Some(service)) = (text(&row.project_name), text(&row.service_name)) {
        return Some(service_key(project, service));
    }
    let container = text(&row.container_name)?;
    let (swarm_service, _) = container.split_once('.')?;
    swarm_service
        .contains('_')
        .then(|| swarm_service.to_owned())
}

/// Returns true for a CPU percent that can be real: finite, not negative, and at most
/// `max_percent` (100 per core of the host).
pub(crate) fn is_plausible_cpu(percent: f64, max_percent: f64) -> bool {
    percent.is_finite() && percent >= 0.0 && percent <= max_percent
}

/// Parses `getServiceStats`: `{"cpu":{"percent":x}, ...}`. Whether the figure sums or
/// averages the replicas is not known, so the reading claims no container coverage.
pub(crate) fn service_cpu(payload: &Value, max_percent: f64) -> Option<CpuReading> {
    let percent = payload.get("cpu")?.get("percent")?.as_f64()?;
    is_plausible_cpu(percent, max_percent).then_some(CpuReading {
        percent,
        containers: None,
    })
}

/// Parses `getSystemStats`; either figure may be missing.
pub(crate) fn system_stats(payload: &Value) -> SystemStats {
    let cpu_info = payload.get("cpuInfo");
    SystemStats {
        cpu_used_percent: cpu_info
            .and_then(|info| info.get("usedPercentage"))
            .and_then(Value::as_f64)
            .filter(|percent| percent.is_finite()),
        cpu_count: cpu_info
            .and_then(|info| info.get("count"))
            .and_then(Value::as_u64)
            .and_then(|count| u32::try_from(count).ok())
            .filter(|count| *count > 0),
    }
}

pub(crate) fn service_deploy(payload: &Value) -> Result<ServiceDeploy, String> {
    let deploy = payload
        .get("deploy")
        .and_then(Value::as_object)
        .ok_or("the service document has no deploy object")?
        .clone();
    Ok(ServiceDeploy {
        replicas: replicas_of(&deploy),
        deploy,
    })
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
