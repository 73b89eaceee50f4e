//! The apply step: store each new replica count, then make Swarm follow it as
//! `global.apply` sets.
//!
//! Every write reads the service again first. It skips the service when the stored count is
//! no longer the one the decision started from, because someone else changed it. Otherwise
//! it sends the whole current `deploy` object with only `replicas` changed.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use tracing::{error, info, warn, Instrument};

use super::Candidate;
use crate::config::{ApplyMode, Config};
use crate::easypanel::{ApiError, Client, DeployOutcome};
use crate::engine::Action;

/// The first wait between two checks of Swarm's desired counts; it doubles up to
/// [`MAX_POLL_DELAY`].
const FIRST_POLL_DELAY: Duration = Duration::from_millis(500);
const MAX_POLL_DELAY: Duration = Duration::from_secs(2);

enum Stored {
    Done,
    /// The stored count changed since the decision was taken.
    ChangedMeanwhile {
        found: Option<u32>,
    },
}

/// Applies every scale decision in `candidates`, marking each as applied or failed.
pub(super) async fn apply(
    client: &Client,
    config: &Config,
    candidates: &mut [Candidate],
    deadline: Instant,
) {
    let scaling: Vec<usize> = (0..candidates.len())
        .filter(|&index| scale_of(&candidates[index]).is_some())
        .collect();
    if scaling.is_empty() {
        return;
    }

    // Store the new counts.
    let shared: &[Candidate] = candidates;
    let results: Vec<(usize, Result<Stored, ApiError>)> = stream::iter(scaling)
        .map(|index| {
            let stored = store_replicas(client, &shared[index]);
            async move { (index, stored.await) }.instrument(service_span(&shared[index].key))
        })
        .buffer_unordered(config.api.max_concurrency)
        .collect()
        .await;
    let mut stored = Vec::new();
    for (index, result) in results {
        let candidate = &mut candidates[index];
        let Some((from, to)) = scale_of(candidate) else {
            continue;
        };
        match result {
            Ok(Stored::Done) => {
                info!(
                    service_name = %candidate.key,
                    replicas = from,
                    target_replicas = to,
                    action = candidate.decision.action.name(),
                    "stored new replica count {from} -> {to}"
                );
                candidate.applied = true;
                stored.push(index);
            }
            Ok(Stored::ChangedMeanwhile { found }) => {
                let found = found.map_or("unknown".to_owned(), |found| found.to_string());
                warn!(
                    service_name = %candidate.key,
                    replicas = from,
                    "replicas changed to {found} by someone else since this run read {from}; not scaled"
                );
            }
            Err(error) => {
                error!(service_name = %candidate.key, target_replicas = to, "scaling failed: {error}");
                candidate.failure = Some(error.to_string());
            }
        }
    }
    stored.sort_unstable();

    // Make Swarm follow.
    let to_deploy = match config.global.apply {
        ApplyMode::Update => {
            for &index in &stored {
                info!(
                    service_name = %candidates[index].key,
                    "apply mode is update: Swarm takes the new count when the panel applies it"
                );
            }
            Vec::new()
        }
        ApplyMode::Deploy => stored,
        ApplyMode::Auto => {
            wait_for_swarm(
                client,
                candidates,
                stored,
                config.global.apply_wait,
                deadline,
            )
            .await
        }
    };
    deploy(client, config, candidates, to_deploy).await;
}

/// Reads the service again and stores the new count if the stored one is unchanged.
async fn store_replicas(client: &Client, candidate: &Candidate) -> Result<Stored, ApiError> {
    let Some((from, to)) = scale_of(candidate) else {
        return Ok(Stored::ChangedMeanwhile {
            found: candidate.observation.replicas,
        });
    };
    let current = client
        .inspect_service(&candidate.project, &candidate.name)
        .await?;
    if current.replicas != Some(from) {
        return Ok(Stored::ChangedMeanwhile {
            found: current.replicas,
        });
    }
    client
        .update_replicas(&candidate.project, &candidate.name, &current.deploy, to)
        .await?;
    Ok(Stored::Done)
}

/// Checks Swarm's desired counts until every stored service follows or `wait` runs out.
/// One task-count read covers every service of the wave. Returns the services that did
/// not follow, which then need a deployment.
async fn wait_for_swarm(
    client: &Client,
    candidates: &[Candidate],
    mut pending: Vec<usize>,
    wait: Duration,
    deadline: Instant,
) -> Vec<usize> {
    let wait_until = (Instant::now() + wait).min(deadline);
    let mut delay = FIRST_POLL_DELAY;
    while !pending.is_empty() {
        match client.task_counts().await {
            Ok((counts, _)) => pending.retain(|&index| {
                let target = scale_of(&candidates[index]).map(|(_, to)| to);
                counts
                    .get(&candidates[index].key)
                    .map(|tasks| tasks.desired)
                    != target
            }),
            Err(error) => warn!("could not check whether Swarm took the new counts: {error}"),
        }
        if pending.is_empty() || Instant::now() + delay > wait_until {
            break;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_POLL_DELAY);
    }
    for &index in &pending {
        info!(
            service_name = %candidates[index].key,
            "Swarm did not take the new count within {}s; deploying the service",
            wait.as_secs()
        );
    }
    pending
}

async fn deploy(
    client: &Client,
    config: &Config,
    candidates: &mut [Candidate],
    indices: Vec<usize>,
) {
    if indices.is_empty() {
        return;
    }
    let shared: &[Candidate] = candidates;
    let results: Vec<(usize, Result<DeployOutcome, ApiError>)> = stream::iter(indices)
        .map(|index| {
            let candidate = &shared[index];
            let deployed = client.deploy_service(&candidate.project, &candidate.name);
            async move { (index, deployed.await) }.instrument(service_span(&candidate.key))
        })
        .buffer_unordered(config.api.max_concurrency)
        .collect()
        .await;
    for (index, result) in results {
        let candidate = &mut candidates[index];
        match result {
            Ok(DeployOutcome::Finished) => {
                info!(service_name = %candidate.key, "deployment finished");
            }
            Ok(DeployOutcome::StillRunning) => info!(
                service_name = %candidate.key,
                "deployment still running after {}s; the panel carries it on",
                config.api.timeout.as_secs()
            ),
            Err(error) => {
                error!(service_name = %candidate.key, "deployment failed: {error}");
                candidate.failure = Some(format!("deployment failed: {error}"));
            }
        }
    }
}

/// Returns the span that names the service in the API request lines logged inside it.
pub(super) fn service_span(key: &str) -> tracing::Span {
    tracing::debug_span!("service", service_name = %key)
}

/// Returns the `(from, to)` counts of a scale decision.
fn scale_of(candidate: &Candidate) -> Option<(u32, u32)> {
    match candidate.decision.action {
        Action::Scale { from, to } => Some((from, to)),
        _ => None,
    }
}
