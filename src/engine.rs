//! The decision engine: a pure function from a service's policy, its observation, its history
//! and the current time to a decision with its reason.
//!
//! Vocabulary used across the crate:
//! - *service*: an Easypanel app service, keyed `project_service` (its Swarm service name).
//! - *replicas*: the count stored in the service's `deploy.replicas`.
//! - *observation*: what one run read from the panel about a service.
//! - *history*: what earlier runs kept in the state folder (last scale, CPU samples).
//! - *decision*: scale up, scale down, move to a bound, hold or skip, always with a reason.
//! - *cooldown*: the time after a scale during which no further scale happens.
//!
//! The engine does no I/O and reads no clock: `now` is an argument, so every rule is covered
//! by table tests below.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Runs that start this close to the end of a cooldown count as past it. Cron starts runs a
/// few seconds early or late, and a hot service must gain a replica on every five-minute run
/// under a five-minute cooldown, not on every other one.
const MAX_COOLDOWN_SLACK: Duration = Duration::from_secs(30);

/// Samples taken closer together than this describe one moment, so a second quick run cannot
/// confirm a low sample and remove capacity.
const MIN_SAMPLE_SPACING: Duration = Duration::from_secs(30);

/// Samples older than this are not kept, and cannot serve as the previous run's CPU.
pub const SAMPLE_RETENTION: Duration = Duration::from_secs(60 * 60);

/// The scaling rules of one service, after `global` defaults were applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub min: u32,
    pub max: u32,
    /// Scale up at or above this CPU percent (100 = one full core).
    pub up: f64,
    /// Scale down at or below this CPU percent.
    pub down: f64,
    pub ignore: bool,
    /// Leave services with host-published ports alone.
    pub ignore_exposed: bool,
    pub cooldown_up: Duration,
    pub cooldown_down: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min: 1,
            max: 10,
            up: 70.0,
            down: 30.0,
            ignore: false,
            ignore_exposed: false,
            cooldown_up: Duration::from_secs(5 * 60),
            cooldown_down: Duration::from_secs(5 * 60),
        }
    }
}

/// The data one run read about a service. `None` means the panel reported nothing usable,
/// and it is never read as zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The panel's `enabled` setting.
    pub enabled: Option<bool>,
    pub has_published_ports: bool,
    /// `deploy.replicas` as stored in the panel.
    pub replicas: Option<u32>,
    /// Swarm task counts of the service.
    pub tasks: Option<TaskCounts>,
    pub cpu: Option<CpuReading>,
}

/// Swarm task counts: `running` tasks out of `desired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCounts {
    pub running: u32,
    pub desired: u32,
}

/// A service's CPU load in percent of one core, as Easypanel reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuReading {
    pub percent: f64,
    /// Number of containers the figure covers, when the source reports it.
    pub containers: Option<u32>,
}

/// A CPU figure kept in the state folder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CpuSample {
    pub at: DateTime<Utc>,
    pub cpu_percent: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// A replica change made by an earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleEvent {
    pub at: DateTime<Utc>,
    pub from: u32,
    pub to: u32,
    pub direction: Direction,
}

/// The record earlier runs left for a service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub last_scale: Option<ScaleEvent>,
    /// CPU samples, oldest first.
    pub samples: Vec<CpuSample>,
}

impl History {
    /// Returns the newest sample that an earlier run took before `now`, within the retention
    /// window and far enough from `now` to be a separate observation.
    pub fn previous_sample(&self, now: DateTime<Utc>) -> Option<CpuSample> {
        self.samples
            .iter()
            .rev()
            .find(|sample| {
                let age = now.signed_duration_since(sample.at);
                age >= chrono_duration(MIN_SAMPLE_SPACING)
                    && age <= chrono_duration(SAMPLE_RETENTION)
            })
            .copied()
    }
}

/// The outcome for one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub action: Action,
    pub reason: Reason,
    /// CPU change in percentage points since the previous run's sample.
    pub trend: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Left alone on purpose: ignored, exposed or stopped.
    Skip,
    /// Looked at and kept as it is.
    Hold,
    Scale {
        from: u32,
        to: u32,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Skip => "skip",
            Action::Hold => "hold",
            Action::Scale { from, to } if to > from => "scale_up",
            Action::Scale { .. } => "scale_down",
        }
    }
}

/// The reason for a decision. `Display` gives the sentence shown in the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    Ignored,
    ExposedPorts,
    Disabled,
    StoppedInSwarm,
    ZeroReplicas,
    EnabledUnknown,
    ReplicasUnknown,
    TaskStateUnknown,
    CpuUnknown,
    TasksNotRunning {
        running: u32,
        desired: u32,
    },
    ChangePending {
        replicas: u32,
        desired: u32,
    },
    BelowMin {
        min: u32,
    },
    AboveMax {
        max: u32,
    },
    CpuHigh {
        up: f64,
    },
    CpuLow {
        down: f64,
        previous: f64,
    },
    AtMax {
        max: u32,
    },
    AtMin {
        min: u32,
    },
    CooldownUp {
        remaining: Duration,
    },
    CooldownDown {
        remaining: Duration,
    },
    NoPreviousSample,
    LowNotSustained {
        previous: f64,
    },
    PartialCpuData {
        containers: Option<u32>,
        running: u32,
    },
    WithinThresholds,
}

impl Reason {
    /// Returns true when the service was held because the panel did not provide its data.
    pub fn is_missing_data(&self) -> bool {
        matches!(
            self,
            Reason::EnabledUnknown
                | Reason::ReplicasUnknown
                | Reason::TaskStateUnknown
                | Reason::CpuUnknown
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Ignored => write!(f, "ignored by configuration"),
            Reason::ExposedPorts => write!(f, "has published ports and ignore_exposed is on"),
            Reason::Disabled => write!(f, "service is disabled in the panel"),
            Reason::StoppedInSwarm => write!(f, "stopped on purpose (Swarm desired count is 0)"),
            Reason::ZeroReplicas => write!(f, "stopped on purpose (deploy.replicas is 0)"),
            Reason::EnabledUnknown => {
                write!(f, "enabled setting unknown: the panel reported none or an invalid one")
            }
            Reason::ReplicasUnknown => write!(f, "replica count unknown: the panel reported none or an invalid one"),
            Reason::TaskStateUnknown => write!(f, "task state unknown: the panel reported none or an invalid one"),
            Reason::CpuUnknown => write!(f, "CPU unknown: no usable figure was read from the panel"),
            Reason::TasksNotRunning { running, desired } => write!(
                f,
                "{running} of {desired} tasks running (deploying, restarting or crash-looping)"
            ),
            Reason::ChangePending { replicas, desired } => write!(
                f,
                "stored replicas {replicas} differ from Swarm desired {desired}: a change is not deployed yet"
            ),
            Reason::BelowMin { min } => write!(f, "below min {min}"),
            Reason::AboveMax { max } => write!(f, "above max {max}"),
            Reason::CpuHigh { up } => write!(f, "CPU at or above up threshold {up}%"),
            Reason::CpuLow { down, previous } => write!(
                f,
                "CPU at or below down threshold {down}% on this run and the previous one ({previous:.1}%)"
            ),
            Reason::AtMax { max } => write!(f, "CPU high but already at max {max}"),
            Reason::AtMin { min } => write!(f, "CPU low but already at min {min}"),
            Reason::CooldownUp { remaining } => {
                write!(f, "CPU high but in scale-up cooldown for {}s more", remaining.as_secs())
            }
            Reason::CooldownDown { remaining } => {
                write!(f, "CPU low but in scale-down cooldown for {}s more", remaining.as_secs())
            }
            Reason::NoPreviousSample => {
                write!(f, "CPU low on one sample only: waiting for the next run to confirm")
            }
            Reason::LowNotSustained { previous } => {
                write!(f, "CPU low now but the previous run read {previous:.1}%")
            }
            Reason::PartialCpuData { containers, running } => match containers {
                Some(containers) => write!(
                    f,
                    "CPU low but the figure covers {containers} of {running} running tasks"
                ),
                None => write!(
                    f,
                    "CPU low but the figure's coverage of the {running} running tasks is unknown"
                ),
            },
            Reason::WithinThresholds => write!(f, "within thresholds"),
        }
    }
}

/// Decides what to do with one service.
///
/// The rules run in a fixed order and the first that applies wins. In order: skip ignored
/// and exposed services, leave stopped ones stopped, hold on missing data or unsettled tasks,
/// move to a bound, scale up on high CPU, scale down on CPU that stayed low, else hold.
pub fn decide(
    policy: &Policy,
    observation: &Observation,
    history: &History,
    now: DateTime<Utc>,
) -> Decision {
    let cpu = observation
        .cpu
        .filter(|cpu| cpu.percent.is_finite() && cpu.percent >= 0.0);
    let previous = history.previous_sample(now);
    let trend = match (cpu, previous) {
        (Some(cpu), Some(previous)) => Some(cpu.percent - previous.cpu_percent),
        _ => None,
    };
    let decision = |action, reason| Decision {
        action,
        reason,
        trend,
    };
    let skip = |reason| decision(Action::Skip, reason);
    let hold = |reason| decision(Action::Hold, reason);

    if policy.ignore {
        return skip(Reason::Ignored);
    }
    if policy.ignore_exposed && observation.has_published_ports {
        return skip(Reason::ExposedPorts);
    }

    if observation.enabled == Some(false) {
        return skip(Reason::Disabled);
    }
    if observation.tasks.is_some_and(|tasks| tasks.desired == 0) {
        return skip(Reason::StoppedInSwarm);
    }
    if observation.replicas == Some(0) {
        return skip(Reason::ZeroReplicas);
    }

    if observation.enabled.is_none() {
        return hold(Reason::EnabledUnknown);
    }
    let Some(replicas) = observation.replicas else {
        return hold(Reason::ReplicasUnknown);
    };
    let Some(tasks) = observation.tasks else {
        return hold(Reason::TaskStateUnknown);
    };
    let Some(cpu) = cpu else {
        return hold(Reason::CpuUnknown);
    };

    if tasks.running != tasks.desired {
        return hold(Reason::TasksNotRunning {
            running: tasks.running,
            desired: tasks.desired,
        });
    }
    if tasks.desired != replicas {
        return hold(Reason::ChangePending {
            replicas,
            desired: tasks.desired,
        });
    }

    let scale = |to, reason| decision(Action::Scale { from: replicas, to }, reason);
    if replicas < policy.min {
        return scale(policy.min, Reason::BelowMin { min: policy.min });
    }
    if replicas > policy.max {
        return scale(policy.max, Reason::AboveMax { max: policy.max });
    }

    if cpu.percent >= policy.up {
        if replicas >= policy.max {
            return hold(Reason::AtMax { max: policy.max });
        }
        if let Some(remaining) = cooldown_remaining(history, policy.cooldown_up, now) {
            return hold(Reason::CooldownUp { remaining });
        }
        return scale(replicas + 1, Reason::CpuHigh { up: policy.up });
    }

    if cpu.percent <= policy.down {
        if replicas <= policy.min {
            return hold(Reason::AtMin { min: policy.min });
        }
        let Some(previous) = previous else {
            return hold(Reason::NoPreviousSample);
        };
        if previous.cpu_percent > policy.down {
            return hold(Reason::LowNotSustained {
                previous: previous.cpu_percent,
            });
        }
        if cpu
            .containers
            .is_none_or(|containers| containers < tasks.running)
        {
            return hold(Reason::PartialCpuData {
                containers: cpu.containers,
                running: tasks.running,
            });
        }
        if let Some(remaining) = cooldown_remaining(history, policy.cooldown_down, now) {
            return hold(Reason::CooldownDown { remaining });
        }
        return scale(
            replicas - 1,
            Reason::CpuLow {
                down: policy.down,
                previous: previous.cpu_percent,
            },
        );
    }

    hold(Reason::WithinThresholds)
}

/// Returns how long the cooldown after the last scale still runs at `now`, or `None` when
/// it is over. A cooldown that ends within the slack counts as over. A last scale in the
/// future (the clock went back) counts as just now.
fn cooldown_remaining(
    history: &History,
    cooldown: Duration,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let last = history.last_scale?;
    let slack = MAX_COOLDOWN_SLACK.min(cooldown / 10);
    let elapsed = now
        .signed_duration_since(last.at)
        .to_std()
        .unwrap_or(Duration::ZERO);
    if elapsed + slack >= cooldown {
        return None;
    }
    Some(cooldown - elapsed)
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).expect("engine constants fit in chrono::Duration")
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
