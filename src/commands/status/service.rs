//! The status of one service at a given moment, from its state file: its newest CPU samples,
//! the trend, the last scale and the cooldown left.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::{CpuSample, Policy, ScaleEvent};
use crate::state::ServiceState;

/// Samples shown per service, newest first.
const SHOWN_SAMPLES: usize = 3;

/// One service's line of the status.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ServiceStatus {
    pub key: String,
    /// The problem that makes the state file unusable; the other fields are then empty.
    pub problem: Option<String>,
    /// Up to three samples, newest first.
    pub samples: Vec<CpuSample>,
    /// The newest sample minus the one before it, in percentage points.
    pub trend: Option<f64>,
    pub last_scale: Option<ScaleEvent>,
    pub cooldown: Cooldown,
}

/// The cooldowns of the service's policy and how much of each is left after its last scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cooldown {
    pub up: Duration,
    pub down: Duration,
    /// Time until a scale up may follow the last scale; zero when it may now.
    pub up_left: Duration,
    /// Time until a scale down may follow the last scale; zero when it may now.
    pub down_left: Duration,
}

impl Cooldown {
    pub fn is_active(&self) -> bool {
        !self.up_left.is_zero() || !self.down_left.is_zero()
    }
}

impl ServiceStatus {
    /// Builds the status of a service from its state and policy at `now`.
    pub fn new(state: &ServiceState, policy: &Policy, now: DateTime<Utc>) -> ServiceStatus {
        let samples: Vec<CpuSample> = state
            .samples
            .iter()
            .rev()
            .take(SHOWN_SAMPLES)
            .copied()
            .collect();
        let trend = match samples.as_slice() {
            [newest, previous, ..] => Some(newest.cpu_percent - previous.cpu_percent),
            _ => None,
        };
        ServiceStatus {
            key: state.service.clone(),
            problem: None,
            samples,
            trend,
            last_scale: state.last_scale,
            cooldown: cooldown(policy, state.last_scale, now),
        }
    }

    /// Builds the status of a service whose state file cannot be used.
    pub fn unusable(key: &str, problem: String, policy: &Policy) -> ServiceStatus {
        ServiceStatus {
            key: key.to_owned(),
            problem: Some(problem),
            samples: Vec::new(),
            trend: None,
            last_scale: None,
            cooldown: Cooldown {
                up: policy.cooldown_up,
                down: policy.cooldown_down,
                up_left: Duration::ZERO,
                down_left: Duration::ZERO,
            },
        }
    }
}

/// Returns the cooldowns left at `now`. A last scale in the future (the clock went back)
/// counts as just now, as the decision engine counts it.
fn cooldown(policy: &Policy, last_scale: Option<ScaleEvent>, now: DateTime<Utc>) -> Cooldown {
    let elapsed = last_scale.map(|last| {
        now.signed_duration_since(last.at)
            .to_std()
            .unwrap_or(Duration::ZERO)
    });
    let left = |cooldown: Duration| match elapsed {
        Some(elapsed) => cooldown.saturating_sub(elapsed),
        None => Duration::ZERO,
    };
    Cooldown {
        up: policy.cooldown_up,
        down: policy.cooldown_down,
        up_left: left(policy.cooldown_up),
        down_left: left(policy.cooldown_down),
    }
}

/// Formats a duration as `45s`, `12m`, `3h 5m` or `2d 4h`, rounded down.
pub(super) fn short_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => {
            let rest = seconds % 60;
            if rest == 0 {
                format!("{}m", seconds / 60)
            } else {
                format!("{}m {rest}s", seconds / 60)
            }
        }
        3600..86_400 => format!("{}h {}m", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{}d {}h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

/// Returns how long ago `at` was; a time in the future counts as now.
pub(super) fn age(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    now.signed_duration_since(at)
        .to_std()
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Direction;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 15, 10, minute, 0).unwrap()
    }

    fn state(samples: &[(u32, f64)], last_scale: Option<ScaleEvent>) -> ServiceState {
        let mut state = ServiceState::new("shop_api");
        state.samples = samples
            .iter()
            .map(|&(minute, cpu_percent)| CpuSample {
                at: at(minute),
                cpu_percent,
            })
            .collect();
        state.last_scale = last_scale;
        state
    }

    #[test]
    fn newest_three_samples_come_first() {
        let state = state(&[(0, 10.0), (5, 20.0), (10, 30.0), (15, 45.5)], None);

        let status = ServiceStatus::new(&state, &Policy::default(), at(16));

        let shown: Vec<f64> = status
            .samples
            .iter()
            .map(|sample| sample.cpu_percent)
            .collect();
        assert_eq!(shown, vec![45.5, 30.0, 20.0]);
        assert_eq!(status.trend, Some(15.5));
    }

    #[test]
    fn one_sample_has_no_trend() {
        let status = ServiceStatus::new(&state(&[(0, 10.0)], None), &Policy::default(), at(1));

        assert_eq!(status.trend, None);
    }

    #[test]
    fn cooldown_counts_down_per_direction() {
        let scale = ScaleEvent {
            at: at(10),
            from: 1,
            to: 2,
            direction: Direction::Up,
        };
        let policy = Policy {
            cooldown_up: Duration::from_secs(5 * 60),
            cooldown_down: Duration::from_secs(10 * 60),
            ..Policy::default()
        };

        let status = ServiceStatus::new(&state(&[], Some(scale)), &policy, at(13));

        assert_eq!(status.cooldown.up_left, Duration::from_secs(2 * 60));
        assert_eq!(status.cooldown.down_left, Duration::from_secs(7 * 60));
        assert!(status.cooldown.is_active());
    }

    #[test]
    fn cooldown_is_over_after_its_length() {
        let scale = ScaleEvent {
            at: at(0),
            from: 2,
            to: 1,
            direction: Direction::Down,
        };

        let status = ServiceStatus::new(&state(&[], Some(scale)), &Policy::default(), at(6));

        assert!(!status.cooldown.is_active());
    }

    #[test]
    fn scale_in_the_future_counts_as_now() {
        let scale = ScaleEvent {
            at: at(20),
            from: 1,
            to: 2,
            direction: Direction::Up,
        };

        let status = ServiceStatus::new(&state(&[], Some(scale)), &Policy::default(), at(10));

        assert_eq!(status.cooldown.up_left, Duration::from_secs(5 * 60));
    }

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(Duration::from_secs(45)), "45s");
        assert_eq!(short_duration(Duration::from_secs(12 * 60)), "12m");
        assert_eq!(short_duration(Duration::from_secs(3 * 60 + 20)), "3m 20s");
        assert_eq!(
            short_duration(Duration::from_secs(3 * 3600 + 5 * 60)),
            "3h 5m"
        );
        assert_eq!(
            short_duration(Duration::from_secs(2 * 86_400 + 4 * 3600)),
            "2d 4h"
        );
    }
}
