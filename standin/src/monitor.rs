//! The monitor procedures: Swarm task counts and per-container CPU, memory and network.
//!
//! CPU is a percent as `docker stats` reports it: 100 is one full core, so a container using
//! two cores reads 200. `getServiceStats` sums over the service's containers.
// NOTE: whether the real `getServiceStats` sums or averages over replicas is not known; a
// client should not rely on either.

use serde_json::{json, Map, Value};

use crate::document::number;
use crate::envelope::ApiError;
use crate::panel::{container_id, container_memory, memory_json, Container, HOST_MEMORY_BYTES};
use crate::procedures::Reply;
use crate::server::Shared;

/// Containers on the node that Easypanel does not manage, as (Swarm service, CPU percent).
/// The table lists them with no project: `traefik` with null names, `easypanel` without
/// the name fields at all, since the real shape of such rows is not documented.
const UNMANAGED: [(&str, f64); 2] = [("traefik", 1.5), ("easypanel", 3.0)];

/// Returns `{"<project>_<service>": {"actual", "desired"}}` for every Swarm service,
/// stopped ones (desired 0) included.
pub(crate) fn docker_task_stats(shared: &Shared) -> Reply {
    let panel = shared.panel();
    let stats: Map<String, Value> = panel
        .services
        .iter()
        .filter(|service| service.is_swarm())
        .map(|service| {
            let counts = json!({"actual": service.running, "desired": service.desired});
            (service.key.clone(), counts)
        })
        .collect();
    Reply::new(Value::Object(stats))
}

/// Returns one row per running container on the node, unmanaged containers included.
pub(crate) fn monitor_table_data(shared: &Shared) -> Reply {
    let panel = shared.panel();
    let mut rows = Vec::new();

    for service in panel.services.iter().filter(|service| service.is_swarm()) {
        for container in service.containers() {
            let mut row = container_row(&container);
            row["projectName"] = json!(service.project);
            row["serviceName"] = json!(service.name);
            rows.push(row);
        }
    }

    for (name, cpu_percent) in UNMANAGED {
        let container = unmanaged_container(name, cpu_percent);
        let mut row = container_row(&container);
        if name == "traefik" {
            row["projectName"] = Value::Null;
            row["serviceName"] = Value::Null;
        }
        rows.push(row);
    }

    Reply::new(Value::Array(rows))
}

/// Returns CPU, memory and network of one service, summed over its running containers.
pub(crate) fn service_stats(shared: &Shared, input: &Value) -> Result<Reply, ApiError> {
    let project = input["projectName"].as_str().unwrap_or_default();
    let name = input["serviceName"].as_str().unwrap_or_default();
    let panel = shared.panel();
    let service = panel
        .named(project, name)
        .ok_or_else(ApiError::service_not_found)?;

    let containers = service.containers();
    let cpu: f64 = containers
        .iter()
        .map(|container| container.cpu_percent)
        .sum();
    let memory: u64 = containers
        .iter()
        .map(|container| container.memory_bytes)
        .sum();
    let network_in: u64 = containers
        .iter()
        .map(|container| container.network_in)
        .sum();
    let network_out: u64 = containers
        .iter()
        .map(|container| container.network_out)
        .sum();

    Ok(Reply::new(json!({
        "cpu": {"percent": round(cpu)},
        "memory": memory_json(memory),
        "network": {"in": network_in, "out": network_out}
    })))
}

/// Returns host CPU, memory and disk figures; host CPU is the containers' total spread over
/// the host's cores, at most 100.
pub(crate) fn system_stats(shared: &Shared) -> Reply {
    let panel = shared.panel();
    let cores = shared.options.cpu_count.max(1);

    let managed: f64 = panel
        .services
        .iter()
        .flat_map(|service| service.containers())
        .map(|container| container.cpu_percent)
        .sum();
    let unmanaged: f64 = UNMANAGED.iter().map(|(_, cpu_percent)| cpu_percent).sum();
    let used_percent = ((managed + unmanaged) / f64::from(cores)).clamp(0.0, 100.0);
    let load = used_percent / 100.0 * f64::from(cores);

    let total_mb = HOST_MEMORY_BYTES / (1024 * 1024);
    let used_mb = total_mb / 4;
    Reply::new(json!({
        "uptime": 864_000,
        "cpuInfo": {
            "usedPercentage": round(used_percent),
            "count": cores,
            "loadavg": [round(load), round(load * 0.9), round(load * 0.8)]
        },
        "memInfo": {
            "totalMemMb": total_mb,
            "usedMemMb": used_mb,
            "freeMemMb": total_mb - used_mb,
            "usedMemPercentage": 25,
            "freeMemPercentage": 75
        },
        "diskInfo": {
            "totalGb": "80.0",
            "usedGb": "32.0",
            "freeGb": "48.0",
            "usedPercentage": "40.0",
            "freePercentage": "60.0"
        }
    }))
}

fn container_row(container: &Container) -> Value {
    json!({
        "id": container.id,
        "containerName": container.name,
        "stats": {
            "cpu": {"percent": round(container.cpu_percent)},
            "memory": memory_json(container.memory_bytes),
            "network": {"in": container.network_in, "out": container.network_out}
        }
    })
}

fn unmanaged_container(name: &str, cpu_percent: f64) -> Container {
    Container {
        id: container_id(name, 1),
        name: format!("{name}.1.{}", &container_id(name, 2)[..25]),
        cpu_percent,
        memory_bytes: container_memory(cpu_percent),
        network_in: 4_194_304,
        network_out: 8_388_608,
    }
}

/// Rounds to two decimals.
fn round(value: f64) -> Value {
    number((value * 100.0).round() / 100.0)
}
