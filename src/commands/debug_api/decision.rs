//! The end of step 5: what a run decides for the inspected service, computed by the engine
//! itself from what the step read and from the service's history in the state folder.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

use super::report::Step;
use crate::easypanel::ServiceRow;
use crate::engine::{self, Action, CpuReading, Decision, History, Observation, Reason, TaskCounts};
use crate::state::StateStore;

/// The replica state and CPU readings of the inspected service, from step 5.
pub(super) struct Readings {
    pub tasks: Option<TaskCounts>,
    /// The container table's figure, which a run prefers.
    pub table_cpu: Option<CpuReading>,
    /// The `getServiceStats` figure, which a run uses only when the table has none.
    pub service_stats_cpu: Option<CpuReading>,
}

/// Adds the service's history and the decision a run would take now, with its reason. A
/// decision held for missing data marks the step `FAILED`, because the run then exits 1.
///
/// NOTE: a run also drops a CPU figure above 100 per host core. This step bounds figures by
/// a 256-core host only, so a figure a run drops may still decide here; step 6 checks the
/// figures against the real core count.
pub(super) fn report(
    step: &mut Step,
    row: &ServiceRow,
    policy: &engine::Policy,
    readings: &Readings,
    state_dir: &Path,
) {
    let key = row.key();
    let now = Utc::now();
    let observation = Observation {
        enabled: row.enabled,
        // As in a run: unreadable ports count as published, the safe side for ignore_exposed.
        has_published_ports: row.has_published_ports.unwrap_or(true),
        replicas: row.replicas,
        tasks: readings.tasks,
        cpu: readings.table_cpu.or(readings.service_stats_cpu),
    };

    let history = load_history(step, state_dir, &key, now);
    let decision = engine::decide(policy, &observation, &history, now);

    let sentence = format!(
        "A run now {}: {}.",
        action(&decision, &key),
        decision.reason
    );
    if decision.reason.is_missing_data() {
        step.fail(format!("{sentence} The run then exits 1."));
        step.advise(missing_data_advice(&decision.reason));
    } else {
        step.line(sentence);
    }
}

/// Loads the service's history read-only, as a run would, and adds one line about it.
/// A state file that cannot be read counts as no history, which is also what a run does.
fn load_history(step: &mut Step, state_dir: &Path, key: &str, now: DateTime<Utc>) -> History {
    let store = StateStore::read_only(state_dir);
    let loaded = match store.load(key) {
        Ok(loaded) => loaded,
        Err(error) => {
            step.warn(format!(
                "History: {error}; the decision below uses no history."
            ));
            return History::default();
        }
    };
    if let Some(set_aside) = &loaded.set_aside {
        step.warn(format!(
            "History: the state file {}; a run moves it aside and decides with no history, \
             as below.",
            set_aside.problem
        ));
        return History::default();
    }

    let history = loaded.state.history();
    step.line(history_line(&history, state_dir, now));
    history
}

/// Describes the history the decision uses: the last scale and the CPU samples of the last
/// hour.
fn history_line(history: &History, state_dir: &Path, now: DateTime<Utc>) -> String {
    let retention = chrono::Duration::from_std(engine::SAMPLE_RETENTION).unwrap_or_default();
    let samples = history
        .samples
        .iter()
        .filter(|sample| now.signed_duration_since(sample.at) <= retention)
        .count();
    let last_scale = match history.last_scale {
        Some(event) => format!(
            "last scale {} to {} at {}",
            event.from,
            event.to,
            event.at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ),
        None => "no scale recorded".to_owned(),
    };
    let state_dir = std::path::absolute(state_dir).unwrap_or_else(|_| state_dir.to_owned());
    format!(
        "History in the state folder {}: {last_scale}, {samples} CPU {} from the last hour.",
        state_dir.display(),
        if samples == 1 { "sample" } else { "samples" }
    )
}

/// Returns what a run does with the service: `skips shop_api`, `holds shop_api` or
/// `scales shop_api from 2 to 3 replicas`.
fn action(decision: &Decision, key: &str) -> String {
    match decision.action {
        Action::Skip => format!("skips {key}"),
        Action::Hold => format!("holds {key}"),
        Action::Scale { from, to } => format!("scales {key} from {from} to {to} replicas"),
    }
}

fn missing_data_advice(reason: &Reason) -> &'static str {
    match reason {
        Reason::CpuUnknown => {
            "Check the service's Monitor page in the panel; run again with --raw to see the \
             responses."
        }
        Reason::TaskStateUnknown => {
            "Check that the service is deployed in the panel (Swarm service name \
             project_service); run again with --raw to see the task counts."
        }
        _ => "Step 4 names the inventory field that was missing or invalid; run again with --raw to see it.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{CpuSample, Direction, ScaleEvent};

    #[test]
    fn scale_names_both_counts() {
        let decision = Decision {
            action: Action::Scale { from: 2, to: 3 },
            reason: Reason::CpuHigh { up: 70.0 },
            trend: None,
        };

        assert_eq!(
            action(&decision, "shop_api"),
            "scales shop_api from 2 to 3 replicas"
        );
    }

    #[test]
    fn history_line_counts_recent_samples() {
        let now = Utc::now();
        let history = History {
            last_scale: Some(ScaleEvent {
                at: DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc),
                from: 1,
                to: 2,
                direction: Direction::Up,
            }),
            samples: vec![
                CpuSample {
                    at: now - chrono::Duration::hours(2),
                    cpu_percent: 10.0,
                },
                CpuSample {
                    at: now - chrono::Duration::minutes(5),
                    cpu_percent: 20.0,
                },
            ],
        };

        let line = history_line(&history, Path::new("/opt/app/state"), now);

        assert_eq!(
            line,
            "History in the state folder /opt/app/state: last scale 1 to 2 at 2024-05-01T10:00:00Z, 1 CPU \
             sample from the last hour."
        );
    }
}
