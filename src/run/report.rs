//! The run's report to the operator: one line per service and one summary line.

use std::time::Duration;

use tracing::{debug, info};

use super::Candidate;
use crate::engine::{Action, Policy};

/// Counts of one run, logged as its last line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Every service in the inventory, of any type, readable or not.
    pub services_seen: usize,
    /// App services, the only ones the autoscaler may scale.
    pub candidates: usize,
    /// Services whose new count was stored.
    pub scaled: usize,
    /// Services a dry run would have scaled; 0 in a real run.
    pub would_scale: usize,
    pub held: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Services held because the panel did not provide their data, and inventory rows
    /// that could not be read.
    pub missing_data: usize,
    pub api_requests: u64,
    pub elapsed_ms: u64,
}

impl Summary {
    /// Counts the outcomes. `invalid_rows` inventory rows could not be read at all; they
    /// count as services held for lack of data.
    pub(super) fn new(
        services_seen: usize,
        invalid_rows: usize,
        candidates: &[Candidate],
        api_requests: u64,
        elapsed: Duration,
        dry_run: bool,
    ) -> Summary {
        let mut summary = Summary {
            services_seen,
            candidates: candidates.len(),
            scaled: 0,
            would_scale: 0,
            held: 0,
            skipped: 0,
            failed: 0,
            missing_data: invalid_rows,
            api_requests,
            elapsed_ms: elapsed.as_millis() as u64,
        };
        for candidate in candidates {
            let is_scale = matches!(candidate.decision.action, Action::Scale { .. });
            if candidate.failure.is_some() {
                summary.failed += 1;
            } else if candidate.applied {
                summary.scaled += 1;
            } else if dry_run && is_scale {
                summary.would_scale += 1;
            } else if candidate.decision.action == Action::Skip {
                summary.skipped += 1;
            } else {
                summary.held += 1;
            }
            if candidate.decision.reason.is_missing_data() {
                summary.missing_data += 1;
            }
        }
        summary
    }

    /// Returns true when the run should exit 1: a service failed, or was held for lack of
    /// data.
    pub fn has_failures(&self) -> bool {
        self.failed > 0 || self.missing_data > 0
    }

    pub(super) fn log(&self, dry_run: bool) {
        info!(
            services_seen = self.services_seen,
            candidates = self.candidates,
            scaled = self.scaled,
            would_scale = self.would_scale,
            held = self.held,
            skipped = self.skipped,
            failed = self.failed,
            missing_data = self.missing_data,
            api_requests = self.api_requests,
            elapsed_ms = self.elapsed_ms,
            dry_run,
            "run finished"
        );
    }
}

/// Logs the one line a service gets: its inputs, the decision and the reason.
pub(super) fn log_decision(candidate: &Candidate, policy: &Policy, dry_run: bool) {
    let observation = &candidate.observation;
    let decision = &candidate.decision;
    let outcome = match decision.action {
        Action::Scale { to, .. } if dry_run => format!("would scale to {to}"),
        Action::Scale { from, to } if to > from => format!("scale up to {to}"),
        Action::Scale { to, .. } => format!("scale down to {to}"),
        Action::Hold => "hold".to_owned(),
        Action::Skip => "skip".to_owned(),
    };
    let target = match decision.action {
        Action::Scale { to, .. } => Some(to),
        _ => None,
    };
    info!(
        service_name = %candidate.key,
        reason = %decision.reason,
        cpu_usage = observation.cpu.map(|cpu| round_2(cpu.percent)),
        replicas = observation.replicas,
        running_tasks = observation.tasks.map(|tasks| tasks.running),
        target_replicas = target,
        action = decision.action.name(),
        project_name = %candidate.project,
        min_replicas = policy.min,
        max_replicas = policy.max,
        up_threshold = policy.up,
        down_threshold = policy.down,
        trend = decision.trend.map(round_2),
        "{outcome}"
    );
}

/// Rounds a percent to two decimals for the log; decisions use the exact figure.
fn round_2(percent: f64) -> f64 {
    (percent * 100.0).round() / 100.0
}

/// Logs at DEBUG the policy a service is decided with, after `global` defaults.
pub(super) fn log_policy(key: &str, policy: &Policy) {
    debug!(
        service_name = %key,
        min_replicas = policy.min,
        max_replicas = policy.max,
        up_threshold = policy.up,
        down_threshold = policy.down,
        cooldown_up_seconds = policy.cooldown_up.as_secs(),
        cooldown_down_seconds = policy.cooldown_down.as_secs(),
        ignore = policy.ignore,
        ignore_exposed = policy.ignore_exposed,
        "policy applied"
    );
}
