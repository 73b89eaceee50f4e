//! The panel's state: stored service documents and the Swarm tasks that run them.
//!
//! Each service has a stored document (what the panel returns) and Swarm task counts:
//! `desired`, the count Swarm is set to run, and `running`, the tasks that run now. Every
//! running task is one container with its own CPU percent. Compose services have no Swarm
//! service of their own here, so the monitor procedures leave them out.

use serde_json::{json, Value};

use crate::document;
use crate::spec::{ServiceSpec, ServiceType, DEFAULT_CONTAINER_CPU};

/// Memory of the simulated host, in bytes.
pub(crate) const HOST_MEMORY_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// A copy of one service's state, returned by [`crate::StandIn::service`].
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSnapshot {
    /// The stored service document, as `inspectService` returns it.
    pub document: Value,
    /// The stored `deploy` object; `None` for types without one.
    pub deploy: Option<Value>,
    /// Swarm desired task count.
    pub desired: u32,
    /// Running Swarm tasks (containers).
    pub running: u32,
    /// CPU percent of each running container, in container order.
    pub cpu: Vec<f64>,
}

impl ServiceSnapshot {
    /// Returns `deploy.replicas` when it is a whole number of 0 or more.
    pub fn replicas(&self) -> Option<u64> {
        self.deploy.as_ref()?.get("replicas")?.as_u64()
    }

    /// Returns `deploy.command`; `None` when it is null or missing.
    pub fn command(&self) -> Option<&str> {
        self.deploy.as_ref()?.get("command")?.as_str()
    }
}

/// One container of a running task.
#[derive(Debug, Clone)]
pub(crate) struct Container {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) cpu_percent: f64,
    pub(crate) memory_bytes: u64,
    pub(crate) network_in: u64,
    pub(crate) network_out: u64,
}

/// One service: its stored document and its Swarm tasks.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) key: String,
    pub(crate) project: String,
    pub(crate) name: String,
    pub(crate) service_type: ServiceType,
    pub(crate) document: Value,
    pub(crate) cpu: Vec<f64>,
    pub(crate) running: u32,
    pub(crate) desired: u32,
}

impl Service {
    /// Returns the service built from `spec` and the secrets its document contains.
    pub(crate) fn from_spec(spec: &ServiceSpec) -> (Service, Vec<String>) {
        let (document, secrets) = document::build(spec);
        let running = spec.initial_running();
        let cpu = spec
            .cpu
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_CONTAINER_CPU; running as usize]);
        let service = Service {
            key: spec.key(),
            project: spec.project.clone(),
            name: spec.name.clone(),
            service_type: spec.service_type,
            document,
            cpu,
            running,
            desired: spec.initial_desired(),
        };
        (service, secrets)
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.document["enabled"].as_bool().unwrap_or(true)
    }

    /// Reports whether the service runs as a Swarm service that the monitor reports on.
    pub(crate) fn is_swarm(&self) -> bool {
        self.service_type != ServiceType::Compose
    }

    /// Returns `deploy.replicas` when it is a whole number that fits a task count.
    pub(crate) fn replicas(&self) -> Option<u32> {
        let replicas = self.document.get("deploy")?.get("replicas")?.as_u64()?;
        u32::try_from(replicas).ok()
    }

    /// Sets desired and running tasks to `count`, as a finished Swarm update would. New
    /// containers use the CPU percent of the last one.
    pub(crate) fn converge(&mut self, count: u32) {
        self.desired = count;
        self.running = count;
    }

    /// Returns the CPU percent of the container at `index` (0-based).
    fn container_cpu(&self, index: usize) -> f64 {
        self.cpu
            .get(index)
            .or(self.cpu.last())
            .copied()
            .unwrap_or(DEFAULT_CONTAINER_CPU)
    }

    /// Returns the running containers, named `<project>_<name>.<slot>.<task id>` as Swarm
    /// names them.
    pub(crate) fn containers(&self) -> Vec<Container> {
        (0..self.running as usize)
            .map(|index| {
                let slot = index + 1;
                let cpu_percent = self.container_cpu(index);
                let task_id = base36(fingerprint(&[&self.key, "task", &slot.to_string()]), 25);
                Container {
                    id: container_id(&self.key, slot),
                    name: format!("{}.{slot}.{task_id}", self.key),
                    cpu_percent,
                    memory_bytes: container_memory(cpu_percent),
                    network_in: 1_048_576 * slot as u64,
                    network_out: 2_097_152 * slot as u64,
                }
            })
            .collect()
    }

    pub(crate) fn snapshot(&self) -> ServiceSnapshot {
        ServiceSnapshot {
            document: self.document.clone(),
            deploy: self.document.get("deploy").cloned(),
            desired: self.desired,
            running: self.running,
            cpu: (0..self.running as usize)
                .map(|index| self.container_cpu(index))
                .collect(),
        }
    }
}

/// Returns a plausible memory use: 120 MiB plus 1.5 MiB per CPU percent.
pub(crate) fn container_memory(cpu_percent: f64) -> u64 {
    let extra = (cpu_percent.max(0.0) * 1.5 * 1024.0 * 1024.0) as u64;
    120 * 1024 * 1024 + extra
}

/// Returns `bytes` as a percent of the host's memory.
pub(crate) fn memory_percent(bytes: u64) -> f64 {
    let percent = bytes as f64 / HOST_MEMORY_BYTES as f64 * 100.0;
    (percent * 100.0).round() / 100.0
}

/// Returns a stable 64-hex-digit container id for the task in `slot`.
pub(crate) fn container_id(key: &str, slot: usize) -> String {
    let slot = slot.to_string();
    (0..4)
        .map(|round| {
            format!(
                "{:016x}",
                fingerprint(&[key, "container", &slot, &round.to_string()])
            )
        })
        .collect()
}

/// Returns a stable 64-bit hash of `parts`: FNV-1a over the parts, each ended by a zero
/// byte so that ("ab", "c") and ("a", "bc") differ, then SplitMix64's finalizer so that
/// similar inputs give unrelated outputs.
pub(crate) fn fingerprint(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// Returns `width` base-36 digits derived from `seed`, like a Swarm task id.
fn base36(seed: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut value = seed;
    let mut text = String::with_capacity(width);
    for position in 0..width {
        // A u64 has room for 12 base-36 digits, so later digits come from a fresh hash.
        if position > 0 && position % 12 == 0 {
            value = fingerprint(&[&seed.to_string(), &position.to_string()]);
        }
        text.push(char::from(DIGITS[(value % 36) as usize]));
        value /= 36;
    }
    text
}

/// All services of the panel, in the order they were given.
#[derive(Debug, Default)]
pub(crate) struct Panel {
    pub(crate) services: Vec<Service>,
}

impl Panel {
    pub(crate) fn find(&self, key: &str) -> Option<&Service> {
        self.services.iter().find(|service| service.key == key)
    }

    pub(crate) fn find_mut(&mut self, key: &str) -> Option<&mut Service> {
        self.services.iter_mut().find(|service| service.key == key)
    }

    /// Returns the app service `project`/`name`; other types count as not found, as they do
    /// for the panel's `services.app.*` procedures.
    pub(crate) fn app_mut(&mut self, project: &str, name: &str) -> Option<&mut Service> {
        self.services.iter_mut().find(|service| {
            service.project == project
                && service.name == name
                && service.service_type == ServiceType::App
        })
    }

    pub(crate) fn named(&self, project: &str, name: &str) -> Option<&Service> {
        self.services
            .iter()
            .find(|service| service.project == project && service.name == name)
    }

    /// Returns the project names in order of first appearance.
    pub(crate) fn projects(&self) -> Vec<&str> {
        let mut projects: Vec<&str> = Vec::new();
        for service in &self.services {
            if !projects.contains(&service.project.as_str()) {
                projects.push(&service.project);
            }
        }
        projects
    }
}

/// Returns `{"usage","percent"}` for a memory figure in bytes.
pub(crate) fn memory_json(bytes: u64) -> Value {
    json!({"usage": bytes, "percent": memory_percent(bytes)})
}
