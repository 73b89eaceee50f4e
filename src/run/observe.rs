//! The observe step: one replica-state call and one CPU call for every service, and the
//! per-service CPU fallback only for the services that still lack a figure.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tracing::{debug, error, warn, Instrument};

use crate::config::Config;
use crate::easypanel::{ApiError, Client, CpuTable, ServiceRow};
use crate::engine::{self, CpuReading, History, Observation, Reason, TaskCounts};

pub(crate) struct Observed {
    /// One observation per row, in the order of the rows.
    pub observations: Vec<Observation>,
}

/// The results of the two bulk monitor calls.
pub(crate) struct MonitorData {
    tasks: Result<(HashMap<String, TaskCounts>, usize), ApiError>,
    cpu: Result<CpuTable, ApiError>,
}

/// Reads the task counts and the per-container CPU of every service. The two calls run
/// together once the monitor router is known; otherwise the task-count call finds the
/// router and the CPU call follows it.
pub(crate) async fn read_monitor(client: &Client) -> MonitorData {
    let (tasks, cpu) = if client.monitor_router().is_some() {
        tokio::join!(client.task_counts(), client.cpu_table())
    } else {
        let tasks = client.task_counts().await;
        (tasks, client.cpu_table().await)
    };
    MonitorData { tasks, cpu }
}

/// Builds the observations of `rows` (app services) from the monitor data, asking
/// `getServiceStats` for the services that still lack a CPU figure. A failed bulk call is
/// logged once with its endpoint, and the services it would have described lack that data.
pub(crate) async fn observe(
    client: &Client,
    config: &Config,
    rows: &[&ServiceRow],
    monitor: MonitorData,
    now: DateTime<Utc>,
) -> Observed {
    let MonitorData { tasks, cpu } = monitor;
    let tasks = match tasks {
        Ok((counts, invalid)) => {
            if invalid > 0 {
                error!(
                    api_endpoint = "getDockerTaskStats",
                    "{invalid} task-count entries were invalid and left out; those services are held"
                );
            }
            counts
        }
        Err(error) => {
            log_missing("replica state", &error);
            HashMap::new()
        }
    };
    let cpu = match cpu {
        Ok(table) => {
            if table.invalid_figures > 0 {
                warn!(
                    api_endpoint = "getMonitorTableData",
                    "{} container CPU figures were missing, negative, not a number or implausibly high and were left out",
                    table.invalid_figures
                );
            }
            table
        }
        Err(error) => {
            log_missing("per-container CPU", &error);
            CpuTable::default()
        }
    };

    let mut observations: Vec<Observation> = rows
        .iter()
        .map(|row| observation(row, &tasks, &cpu))
        .collect();
    fill_cpu_from_service_stats(client, config, rows, &mut observations, now).await;
    Observed { observations }
}

/// Reads the host's core count, which bounds a plausible CPU figure. Costs one request,
/// so it runs only when the panel is detected, and the count is remembered.
pub(crate) async fn host_cores(client: &Client) -> Option<u32> {
    match client.system_stats().await {
        Ok(stats) => stats.cpu_count,
        Err(error) => {
            warn!("could not read the host's core count from getSystemStats: {error}");
            None
        }
    }
}

/// Drops CPU readings above 100 percent per core of the host: no container can use more
/// than every core. Runs after the host's core count is known, which on a first run is
/// after the CPU was read.
pub(crate) fn reject_above_host_cores(
    observations: &mut [Observation],
    rows: &[&ServiceRow],
    cores: u32,
) {
    let limit = 100.0 * f64::from(cores);
    for (observation, row) in observations.iter_mut().zip(rows) {
        if let Some(cpu) = observation.cpu.filter(|cpu| cpu.percent > limit) {
            warn!(
                service_name = %row.key(),
                cpu_usage = cpu.percent,
                "CPU figure above {limit}% is impossible on a {cores}-core host and is ignored; the service is held"
            );
            observation.cpu = None;
        }
    }
}

fn observation(
    row: &ServiceRow,
    tasks: &HashMap<String, TaskCounts>,
    cpu: &CpuTable,
) -> Observation {
    let key = row.key();
    Observation {
        enabled: row.enabled,
        // A service whose ports cannot be read counts as exposed: with ignore_exposed on,
        // leaving it alone is the safe side.
        has_published_ports: row.has_published_ports.unwrap_or(true),
        replicas: row.replicas,
        tasks: tasks.get(&key).copied(),
        cpu: cpu.by_service.get(&key).copied(),
    }
}

/// Asks `getServiceStats` for the CPU of each service that lacks a figure and whose
/// decision depends on one. The calls run concurrently, bounded by `api.max_concurrency`.
async fn fill_cpu_from_service_stats(
    client: &Client,
    config: &Config,
    rows: &[&ServiceRow],
    observations: &mut [Observation],
    now: DateTime<Utc>,
) {
    let needed: Vec<usize> = (0..rows.len())
        .filter(|&index| {
            let policy = config.policy(&rows[index].key());
            let decision = engine::decide(policy, &observations[index], &History::default(), now);
            decision.reason == Reason::CpuUnknown
        })
        .collect();
    if needed.is_empty() {
        return;
    }

    let readings: Vec<(usize, Result<Option<CpuReading>, ApiError>)> = stream::iter(needed)
        .map(|index| {
            let reading = client.service_cpu(&rows[index].project, &rows[index].name);
            async move { (index, reading.await) }
                .instrument(super::apply::service_span(&rows[index].key()))
        })
        .buffer_unordered(config.api.max_concurrency)
        .collect()
        .await;
    for (index, reading) in readings {
        let key = rows[index].key();
        match reading {
            Ok(Some(reading)) => {
                let running = observations[index]
                    .tasks
                    .map_or(1, |tasks| tasks.running.max(1));
                let lower_bound = per_container_lower_bound(reading, running);
                debug!(
                    service_name = %key,
                    api_endpoint = "getServiceStats",
                    cpu_usage = lower_bound.percent,
                    running_tasks = running,
                    "CPU from getServiceStats is {:.2}% for {running} running tasks; {:.2}% is used",
                    reading.percent,
                    lower_bound.percent
                );
                observations[index].cpu = Some(lower_bound);
            }
            Ok(None) => warn!(
                service_name = %key,
                api_endpoint = "getServiceStats",
                "no usable CPU figure (missing, negative, not a number or implausibly high); the service is held"
            ),
            Err(error) => error!(
                service_name = %key,
                api_endpoint = "getServiceStats",
                "CPU fallback failed: {error}; the service is held"
            ),
        }
    }
}

/// Turns a service-level figure into one a per-container threshold can be compared with.
///
/// Whether `getServiceStats` sums its containers or averages them is not known. Divided by
/// the running tasks, the figure is the per-container mean if the panel sums, and below it
/// if the panel averages, so it never overstates the load: a scale up on it is justified
/// either way. Its coverage stays unknown, which rules out a scale down on it.
fn per_container_lower_bound(reading: CpuReading, running: u32) -> CpuReading {
    CpuReading {
        percent: reading.percent / f64::from(running.max(1)),
        containers: None,
    }
}

fn log_missing(what: &str, error: &ApiError) {
    if matches!(error, ApiError::BudgetSpent { .. }) {
        error!("{what} not read: {error}");
        return;
    }
    error!("could not read the {what}: {error}; services lacking it are held");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_figure_is_divided_by_running_tasks() {
        let reading = CpuReading {
            percent: 270.0,
            containers: None,
        };

        let bound = per_container_lower_bound(reading, 3);

        assert_eq!(bound.percent, 90.0);
        assert_eq!(bound.containers, None, "coverage stays unknown");
    }

    #[test]
    fn zero_running_tasks_divides_by_one() {
        let reading = CpuReading {
            percent: 40.0,
            containers: None,
        };

        assert_eq!(per_container_lower_bound(reading, 0).percent, 40.0);
    }
}
