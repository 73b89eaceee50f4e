//! Step 5: the replica state and the CPU of one app service, from each source a run reads,
//! with the time each call took, and the decision a run takes for it.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::connection::{Detected, Payload};
use super::decision::{self, Readings};
use super::report::{millis, Step};
use super::session::Session;
use crate::commands::table::columns;
use crate::easypanel::models::{self, Lenient, RawContainer};
use crate::easypanel::probe::MonitorCall;
use crate::easypanel::{Generation, Inventory, MonitorRouter, ServiceRow};
use crate::engine::{CpuReading, TaskCounts};

/// The plausibility bound a first run uses for a CPU figure, before it has the host's
/// cores: 100 per core of a 256-core host. Step 6 checks the figures against the real
/// core count.
const FIRST_RUN_MAX_CPU_PERCENT: f64 = 100.0 * 256.0;

/// Runs step 5 and prints it. Returns the container table's payload for step 6, when the
/// call succeeded.
///
/// A `--service` that names no app service of the panel is a wrong argument, not a problem
/// of the runs. The step then lists the app services and checks only the calls that cover
/// every service, and the session records the argument instead of a failed step.
pub(super) async fn check(
    session: &mut Session<'_>,
    detected: &Detected,
    inventory: &Inventory,
    requested: Option<&str>,
    state_dir: &Path,
) -> Option<Payload> {
    let picked = pick(inventory, requested);
    let target = picked.as_ref().ok().copied().flatten();
    let title = match target {
        Some(row) => format!("Replica state and CPU of {}", row.key()),
        None => "Replica state and CPU".to_owned(),
    };
    let mut step = Step::new(5, title);

    match (&picked, requested) {
        (Ok(Some(_)), None) => {
            step.line("The first enabled app service; pick another with --service PROJECT_SERVICE.")
        }
        (Ok(None), _) => step.line(
            "No app service to inspect; only the calls that cover every service are checked.",
        ),
        (Ok(Some(_)), Some(_)) => {}
        (Err(problem), _) => {
            step.warn(format!(
                "{problem}, so only the calls that cover every service are checked."
            ));
            step.line(app_list(inventory));
            step.advise(
                "Only app services are scaled; pass --service with one of these keys \
                 (project_service).",
            );
            session.reject_argument(problem.clone());
        }
    }
    let Some((router, tasks)) = &detected.monitor else {
        step.fail("Not checked: no monitor router responded (step 3).");
        session.report(step);
        return None;
    };

    let counts = replica_state(&mut step, tasks, target);
    let table = cpu_from_table(
        session,
        &mut step,
        detected.generation,
        *router,
        target,
        counts,
    )
    .await;
    let service_stats_cpu = match target {
        Some(row) => {
            cpu_from_service_stats(session, &mut step, detected.generation, *router, row).await
        }
        None => None,
    };

    if let Some(row) = target {
        let readings = Readings {
            tasks: counts,
            table_cpu: table.as_ref().and_then(|(_, reading)| *reading),
            service_stats_cpu,
        };
        let policy = session.config.policy(&row.key());
        decision::report(&mut step, row, policy, &readings, state_dir);
    }

    session.report(step);
    table.map(|(payload, _)| payload)
}

/// Returns the service to inspect: the one named, or the first enabled app service with
/// replicas, or the first app service. `Err` contains the reason the named one cannot be
/// inspected, as a clause without a full stop.
fn pick<'a>(
    inventory: &'a Inventory,
    requested: Option<&str>,
) -> Result<Option<&'a ServiceRow>, String> {
    let apps = app_services(inventory);

    let Some(requested) = requested else {
        let running = apps.iter().find(|row| {
            row.enabled == Some(true) && row.replicas.is_some_and(|replicas| replicas > 0)
        });
        return Ok(running.or(apps.first()).copied());
    };
    if let Some(row) = apps.iter().find(|row| row.key() == requested) {
        return Ok(Some(row));
    }
    match inventory.services.iter().find(|row| row.key() == requested) {
        Some(row) => Err(format!(
            "--service {requested} names a {} service, not an app service",
            row.kind
        )),
        None => Err(format!(
            "--service {requested} names no service of the panel"
        )),
    }
}

/// Returns the panel's app services, sorted by key.
fn app_services(inventory: &Inventory) -> Vec<&ServiceRow> {
    let mut apps: Vec<&ServiceRow> = inventory
        .services
        .iter()
        .filter(|row| row.is_app())
        .collect();
    apps.sort_by_key(|row| row.key());
    apps
}

/// Returns `App services of the panel: blog_web, shop_api.`, or a sentence stating that
/// there are none.
fn app_list(inventory: &Inventory) -> String {
    let keys: Vec<String> = app_services(inventory)
        .iter()
        .map(|row| row.key())
        .collect();
    if keys.is_empty() {
        "The panel has no app services.".to_owned()
    } else {
        format!("App services of the panel: {}.", keys.join(", "))
    }
}

/// Adds the replica state from `getDockerTaskStats` and returns the service's counts.
fn replica_state(
    step: &mut Step,
    tasks: &Payload,
    target: Option<&ServiceRow>,
) -> Option<TaskCounts> {
    let source = format!("{}, {}", tasks.name, millis(tasks.elapsed));
    let entries: HashMap<String, Value> = match serde_json::from_value(tasks.value.clone()) {
        Ok(entries) => entries,
        Err(error) => {
            step.fail(format!(
                "Replica state ({source}): not a map from service to task counts: {error}."
            ));
            return None;
        }
    };
    let (counts, invalid) = models::task_counts(entries);
    if invalid > 0 {
        step.warn(format!(
            "Replica state ({source}): {invalid} entries without valid actual and \
             desired counts were left out."
        ));
    }

    let Some(row) = target else {
        step.line(format!(
            "Replica state ({source}): task counts of {} services.",
            counts.len()
        ));
        return None;
    };
    let key = row.key();
    let stored = row
        .replicas
        .map_or("unknown".to_owned(), |replicas| replicas.to_string());
    let Some(found) = counts.get(&key).copied() else {
        step.line(format!(
            "Replica state ({source}): no entry for {key}; deploy.replicas is {stored}."
        ));
        return None;
    };

    step.line(format!(
        "Replica state ({source}): deploy.replicas {stored}, Swarm runs {} of {} desired tasks.",
        found.running, found.desired
    ));
    Some(found)
}

/// Adds the CPU from `getMonitorTableData`: the service's containers and their mean. Returns
/// the call's payload and the service's reading, or `None` when the call failed.
async fn cpu_from_table(
    session: &mut Session<'_>,
    step: &mut Step,
    generation: Generation,
    router: MonitorRouter,
    target: Option<&ServiceRow>,
    counts: Option<TaskCounts>,
) -> Option<(Payload, Option<CpuReading>)> {
    let probe = session
        .client
        .probe_monitor(generation, router, MonitorCall::TableData)
        .await;
    let payload = Payload::of(&probe);
    if let Err(error) = &probe.outcome {
        step.fail(format!(
            "CPU from {} ({}): failed: {error}.",
            probe.name,
            millis(probe.elapsed)
        ));
        step.advise(
            "A run reads every service's CPU from this call; without it, it falls back to \
             one getServiceStats call per service, whose figure cannot justify a scale-down. Check \
             the panel's Monitor page and its logs.",
        );
    }
    session.keep(probe);
    let payload = payload?;
    let source = format!("{}, {}", payload.name, millis(payload.elapsed));

    let rows: Vec<Lenient<RawContainer>> = match serde_json::from_value(payload.value.clone()) {
        Ok(rows) => rows,
        Err(error) => {
            step.fail(format!(
                "CPU from {source}: not a list of containers: {error}."
            ));
            return Some((payload, None));
        }
    };
    let table = models::cpu_table(rows, FIRST_RUN_MAX_CPU_PERCENT);
    if table.invalid_figures > 0 {
        step.warn(format!(
            "CPU from {source}: {} container figures are missing, negative or not numbers; a run \
             leaves them out.",
            table.invalid_figures
        ));
    }

    let Some(row) = target else {
        let count = payload.value.as_array().map_or(0, Vec::len);
        step.line(format!(
            "CPU from {source}: {count} containers, field stats.cpu.percent."
        ));
        return Some((payload, None));
    };
    let key = row.key();
    let containers = service_containers(&payload.value, row);
    if containers.is_empty() {
        let text = format!("CPU from {source}: no container of {key} in the table.");
        if is_stopped(row, counts) {
            step.line(format!("{text} The service is not running."));
        } else {
            step.warn(format!(
                "{text} The table lists only the containers on the node the panel \
                 runs on, so a service on other nodes has none there; a run then uses \
                 getServiceStats."
            ));
        }
        return Some((payload, None));
    }

    step.line(format!(
        "CPU from {source}, field stats.cpu.percent of each container:"
    ));
    let mut lines: Vec<Vec<String>> = containers
        .iter()
        .map(|(name, figure)| vec![format!("  {name}"), figure.clone()])
        .collect();
    let reading = table.by_service.get(&key);
    if let Some(reading) = reading {
        let covered = reading.containers.unwrap_or(0);
        lines.push(vec![
            "  mean".to_owned(),
            format!(
                "{:.1}  over {covered} {}, the figure a run uses",
                reading.percent,
                if covered == 1 {
                    "container"
                } else {
                    "containers"
                }
            ),
        ]);
    }
    step.lines_from(columns(&lines));

    match (reading.and_then(|reading| reading.containers), counts) {
        (Some(covered), Some(tasks)) if covered < tasks.running => step.warn(format!(
            "The figure covers {covered} of {} running tasks, so a run will not scale {key} down \
             on it.",
            tasks.running
        )),
        (None, _) => step.warn(format!(
            "No valid figure for {key} in the table; a run then uses \
             getServiceStats."
        )),
        _ => {}
    }
    Some((payload, reading.copied()))
}

/// Adds the CPU from `getServiceStats` and returns its reading.
async fn cpu_from_service_stats(
    session: &mut Session<'_>,
    step: &mut Step,
    generation: Generation,
    router: MonitorRouter,
    row: &ServiceRow,
) -> Option<CpuReading> {
    let call = MonitorCall::ServiceStats {
        project: &row.project,
        service: &row.name,
    };
    let probe = session.client.probe_monitor(generation, router, call).await;
    let source = format!("{}, {}", probe.name, millis(probe.elapsed));
    let figure = match &probe.outcome {
        Ok(payload) => match models::service_cpu(payload, FIRST_RUN_MAX_CPU_PERCENT) {
            Some(reading) => {
                step.line(format!(
                    "CPU from {source}, field cpu.percent: {:.1}. A run uses it only for a \
                     service the table has no figure for; whether the panel sums or averages \
                     the replicas here is not known.",
                    reading.percent
                ));
                Some(reading)
            }
            None => {
                step.warn(format!(
                    "CPU from {source}: no usable cpu.percent in the response."
                ));
                None
            }
        },
        Err(error) => {
            step.warn(format!(
                "CPU from {source}: failed: {error}. A run needs this call only \
                 when the table has no figure for a service."
            ));
            None
        }
    };
    session.keep(probe);
    figure
}

/// Returns the service's rows of the container table as (container name, CPU figure as
/// sent), matched the way a run matches them: by `projectName` and `serviceName`, or by the
/// Swarm task name `<project>_<service>.<slot>.<id>` in `containerName`.
fn service_containers(table: &Value, row: &ServiceRow) -> Vec<(String, String)> {
    let key = row.key();
    let prefix = format!("{key}.");
    let text =
        |item: &Value, field: &str| item.get(field).and_then(Value::as_str).map(str::to_owned);
    let Some(items) = table.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter(
            |item| match (text(item, "projectName"), text(item, "serviceName")) {
                (Some(project), Some(service)) if !project.is_empty() && !service.is_empty() => {
                    project == row.project && service == row.name
                }
                _ => text(item, "containerName").is_some_and(|name| name.starts_with(&prefix)),
            },
        )
        .map(|item| {
            let name = text(item, "containerName")
                .or_else(|| text(item, "id"))
                .unwrap_or_else(|| "(unnamed)".to_owned());
            let figure = match item.pointer("/stats/cpu/percent") {
                Some(Value::Number(number)) => number.to_string(),
                Some(other) => format!("not a number: {other}"),
                None => "missing".to_owned(),
            };
            (name, figure)
        })
        .collect()
}

/// Returns true when the service is meant to run no task: disabled, 0 replicas, or 0
/// desired tasks in Swarm. Used only to word the CPU findings; the decision comes from the
/// engine.
fn is_stopped(row: &ServiceRow, counts: Option<TaskCounts>) -> bool {
    row.enabled == Some(false)
        || row.replicas == Some(0)
        || counts.is_some_and(|counts| counts.desired == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(project: &str, name: &str, enabled: bool, replicas: u32) -> ServiceRow {
        ServiceRow {
            project: project.to_owned(),
            name: name.to_owned(),
            kind: "app".to_owned(),
            enabled: Some(enabled),
            deploy: None,
            replicas: Some(replicas),
            has_published_ports: Some(false),
            problems: Vec::new(),
        }
    }

    #[test]
    fn first_enabled_service_is_picked() {
        let inventory = Inventory {
            project_count: 1,
            services: vec![app("shop", "web", true, 1), app("shop", "admin", false, 1)],
            invalid_rows: Vec::new(),
        };

        let picked = pick(&inventory, None).unwrap().unwrap();

        assert_eq!(picked.key(), "shop_web");
    }

    #[test]
    fn unknown_service_is_an_error() {
        let inventory = Inventory::default();

        let problem = pick(&inventory, Some("shop_nope")).unwrap_err();

        assert!(
            problem.contains("--service shop_nope names no service of the panel"),
            "{problem}"
        );
    }

    #[test]
    fn database_is_not_an_app_service() {
        let mut database = app("blog", "db", true, 1);
        database.kind = "postgres".to_owned();
        let inventory = Inventory {
            project_count: 1,
            services: vec![app("blog", "web", true, 1), database],
            invalid_rows: Vec::new(),
        };

        let problem = pick(&inventory, Some("blog_db")).unwrap_err();

        assert!(
            problem.contains("--service blog_db names a postgres service, not an app service"),
            "{problem}"
        );
        assert_eq!(app_list(&inventory), "App services of the panel: blog_web.");
    }

    #[test]
    fn containers_match_by_names_or_task_name() {
        let table = json!([
            {"projectName": "shop", "serviceName": "api", "containerName": "shop_api.1.a", "stats": {"cpu": {"percent": 90.5}}},
            {"containerName": "shop_api.2.b", "stats": {"cpu": {"percent": "12"}}},
            {"projectName": "shop", "serviceName": "web", "containerName": "shop_web.1.c", "stats": {"cpu": {"percent": 1}}},
            {"projectName": null, "serviceName": null, "containerName": "traefik.1.d", "stats": {}}
        ]);

        let containers = service_containers(&table, &app("shop", "api", true, 2));

        assert_eq!(
            containers,
            vec![
                ("shop_api.1.a".to_owned(), "90.5".to_owned()),
                ("shop_api.2.b".to_owned(), "not a number: \"12\"".to_owned()),
            ]
        );
    }
}
