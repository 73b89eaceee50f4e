//! The record step: each service's new CPU sample and scale event go to its state file.
//!
//! Services that are held do not depend on the apply step, so their files are written on a
//! blocking thread while the applies wait on the panel. On a large fleet the file writes
//! would otherwise add to the run's length. Services that scale are written once the apply
//! step has found out whether the panel took the new count.

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;
use tracing::{error, warn};

use super::Candidate;
use crate::engine::{Action, Direction, ScaleEvent};
use crate::state::{Durability, ServiceState, StateError, StateStore};

/// Writes still running on the blocking thread: the services whose write failed, with
/// the error.
pub(super) type PendingWrites = JoinHandle<Vec<(String, StateError)>>;

/// Records the sample of every held service and starts writing their files.
pub(super) fn start_held(
    store: &StateStore,
    candidates: &mut [Candidate],
    now: DateTime<Utc>,
) -> PendingWrites {
    let mut states = Vec::new();
    for candidate in candidates.iter_mut() {
        if candidate.decision.action == Action::Hold && update_state(candidate, now) {
            states.push(candidate.state.clone());
        }
    }
    let store = store.clone();
    tokio::task::spawn_blocking(move || save_all(&store, &states))
}

/// Records the services that were to scale, waits for the held services' writes and makes
/// every rename durable. A write that failed marks its service as failed.
pub(super) async fn finish(
    store: &StateStore,
    candidates: &mut [Candidate],
    now: DateTime<Utc>,
    pending: PendingWrites,
) {
    for candidate in candidates.iter_mut() {
        if !matches!(candidate.decision.action, Action::Scale { .. })
            || !update_state(candidate, now)
        {
            continue;
        }
        // Only a scale event must survive a power loss: it guards the cooldown.
        let durability = if candidate.applied {
            Durability::Synced
        } else {
            Durability::Atomic
        };
        if let Err(error) = store.save(&candidate.state, durability) {
            fail(candidate, &error);
        }
    }

    let failures = pending.await.unwrap_or_else(|join_error| {
        error!("state writes stopped unexpectedly: {join_error}");
        Vec::new()
    });
    for (key, error) in failures {
        if let Some(candidate) = candidates.iter_mut().find(|candidate| candidate.key == key) {
            fail(candidate, &error);
        }
    }
    if let Err(error) = store.sync_folder() {
        warn!("{error}");
    }
}

/// Adds this run's CPU sample and, when the panel took the new count, the scale event.
/// Returns whether the state changed.
fn update_state(candidate: &mut Candidate, now: DateTime<Utc>) -> bool {
    let mut changed = false;
    if let Some(cpu) = candidate.observation.cpu {
        if cpu.percent.is_finite() && cpu.percent >= 0.0 {
            candidate.state.record_sample(now, cpu.percent);
            changed = true;
        }
    }
    if let (true, Action::Scale { from, to }) = (candidate.applied, candidate.decision.action) {
        let direction = if to > from {
            Direction::Up
        } else {
            Direction::Down
        };
        candidate.state.last_scale = Some(ScaleEvent {
            at: now,
            from,
            to,
            direction,
        });
        changed = true;
    }
    changed
}

fn save_all(store: &StateStore, states: &[ServiceState]) -> Vec<(String, StateError)> {
    states
        .iter()
        .filter_map(|state| {
            let result = store.save(state, Durability::Atomic);
            result.err().map(|error| (state.service.clone(), error))
        })
        .collect()
}

fn fail(candidate: &mut Candidate, error: &StateError) {
    error!(service_name = %candidate.key, "{error}");
    candidate.failure.get_or_insert_with(|| error.to_string());
}
