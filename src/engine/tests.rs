use super::*;

use chrono::TimeZone;

fn at(minute: i64, second: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 15, 10, 0, 0).unwrap()
        + chrono::Duration::minutes(minute)
        + chrono::Duration::seconds(second)
}

fn running(replicas: u32, cpu: f64) -> Observation {
    Observation {
        enabled: Some(true),
        has_published_ports: false,
        replicas: Some(replicas),
        tasks: Some(TaskCounts {
            running: replicas,
            desired: replicas,
        }),
        cpu: Some(CpuReading {
            percent: cpu,
            containers: Some(replicas),
        }),
    }
}

fn sample(minute: i64, cpu_percent: f64) -> CpuSample {
    CpuSample {
        at: at(minute, 0),
        cpu_percent,
    }
}

fn scaled(minute: i64, from: u32, to: u32) -> ScaleEvent {
    let direction = if to > from {
        Direction::Up
    } else {
        Direction::Down
    };
    ScaleEvent {
        at: at(minute, 0),
        from,
        to,
        direction,
    }
}

fn history(last_scale: Option<ScaleEvent>, samples: &[CpuSample]) -> History {
    History {
        last_scale,
        samples: samples.to_vec(),
    }
}

/// One row of the rule table: a name, the inputs and the expected action and reason.
struct Case {
    name: &'static str,
    policy: Policy,
    observation: Observation,
    history: History,
    now: DateTime<Utc>,
    action: Action,
    reason: Reason,
}

fn policy() -> Policy {
    Policy {
        min: 1,
        max: 5,
        ..Policy::default()
    }
}

fn cases() -> Vec<Case> {
    let quiet = history(None, &[sample(-5, 10.0)]);
    vec![
        Case {
            name: "ignored service is skipped even when hot",
            policy: Policy {
                ignore: true,
                ..policy()
            },
            observation: running(2, 95.0),
            history: History::default(),
            now: at(0, 0),
            action: Action::Skip,
            reason: Reason::Ignored,
        },
        Case {
            name: "exposed service is skipped when ignore_exposed is on",
            policy: Policy {
                ignore_exposed: true,
                ..policy()
            },
            observation: Observation {
                has_published_ports: true,
                ..running(2, 95.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Skip,
            reason: Reason::ExposedPorts,
        },
        Case {
            name: "exposed service scales when ignore_exposed is off",
            policy: policy(),
            observation: Observation {
                has_published_ports: true,
                ..running(2, 95.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Scale { from: 2, to: 3 },
            reason: Reason::CpuHigh { up: 70.0 },
        },
        Case {
            name: "disabled service is never started",
            policy: Policy { min: 2, ..policy() },
            observation: Observation {
                enabled: Some(false),
                ..running(0, 0.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Skip,
            reason: Reason::Disabled,
        },
        Case {
            name: "service stopped in Swarm stays stopped below min",
            policy: Policy { min: 2, ..policy() },
            observation: Observation {
                tasks: Some(TaskCounts {
                    running: 0,
                    desired: 0,
                }),
                ..running(1, 0.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Skip,
            reason: Reason::StoppedInSwarm,
        },
        Case {
            name: "service with zero stored replicas stays stopped",
            policy: Policy { min: 2, ..policy() },
            observation: Observation {
                replicas: Some(0),
                tasks: None,
                cpu: None,
                ..running(0, 0.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Skip,
            reason: Reason::ZeroReplicas,
        },
        Case {
            name: "unknown enabled setting holds",
            policy: policy(),
            observation: Observation {
                enabled: None,
                ..running(2, 95.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::EnabledUnknown,
        },
        Case {
            name: "unknown replicas hold",
            policy: policy(),
            observation: Observation {
                replicas: None,
                ..running(2, 95.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::ReplicasUnknown,
        },
        Case {
            name: "unknown task state holds",
            policy: policy(),
            observation: Observation {
                tasks: None,
                ..running(2, 95.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::TaskStateUnknown,
        },
        Case {
            name: "unknown cpu holds and is not read as zero",
            policy: policy(),
            observation: Observation {
                cpu: None,
                ..running(3, 0.0)
            },
            history: quiet.clone(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::CpuUnknown,
        },
        Case {
            name: "negative cpu counts as unknown",
            policy: policy(),
            observation: running(3, -4.0),
            history: quiet.clone(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::CpuUnknown,
        },
        Case {
            name: "nan cpu counts as unknown",
            policy: policy(),
            observation: running(3, f64::NAN),
            history: quiet.clone(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::CpuUnknown,
        },
        Case {
            name: "missing data holds even below min",
            policy: Policy { min: 3, ..policy() },
            observation: Observation {
                cpu: None,
                ..running(1, 0.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::CpuUnknown,
        },
        Case {
            name: "crash looping service holds",
            policy: policy(),
            observation: Observation {
                tasks: Some(TaskCounts {
                    running: 1,
                    desired: 3,
                }),
                ..running(3, 95.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::TasksNotRunning {
                running: 1,
                desired: 3,
            },
        },
        Case {
            name: "extra tasks still stopping hold",
            policy: policy(),
            observation: Observation {
                tasks: Some(TaskCounts {
                    running: 4,
                    desired: 3,
                }),
                ..running(3, 5.0)
            },
            history: quiet.clone(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::TasksNotRunning {
                running: 4,
                desired: 3,
            },
        },
        Case {
            name: "stored count not yet deployed holds",
            policy: policy(),
            observation: Observation {
                tasks: Some(TaskCounts {
                    running: 2,
                    desired: 2,
                }),
                ..running(3, 95.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::ChangePending {
                replicas: 3,
                desired: 2,
            },
        },
        Case {
            name: "below min moves to min whatever the cpu",
            policy: Policy { min: 3, ..policy() },
            observation: running(1, 5.0),
            history: history(Some(scaled(-1, 2, 1)), &[]),
            now: at(0, 0),
            action: Action::Scale { from: 1, to: 3 },
            reason: Reason::BelowMin { min: 3 },
        },
        Case {
            name: "above max moves to max even when hot",
            policy: Policy { max: 4, ..policy() },
            observation: running(7, 99.0),
            history: History::default(),
            now: at(0, 0),
            action: Action::Scale { from: 7, to: 4 },
            reason: Reason::AboveMax { max: 4 },
        },
        Case {
            name: "hot service gains one replica",
            policy: policy(),
            observation: running(2, 70.0),
            history: History::default(),
            now: at(0, 0),
            action: Action::Scale { from: 2, to: 3 },
            reason: Reason::CpuHigh { up: 70.0 },
        },
        Case {
            name: "up threshold above one core works",
            policy: Policy {
                up: 150.0,
                down: 40.0,
                ..policy()
            },
            observation: running(2, 120.0),
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::WithinThresholds,
        },
        Case {
            name: "hot service at max holds",
            policy: policy(),
            observation: running(5, 99.0),
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::AtMax { max: 5 },
        },
        Case {
            name: "hot service in up cooldown holds",
            policy: policy(),
            observation: running(2, 90.0),
            history: history(Some(scaled(-2, 1, 2)), &[]),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::CooldownUp {
                remaining: Duration::from_secs(3 * 60),
            },
        },
        Case {
            name: "hot service scales when cron starts early",
            policy: policy(),
            observation: running(2, 90.0),
            history: history(Some(scaled(-5, 1, 2)), &[]),
            now: at(0, -7),
            action: Action::Scale { from: 2, to: 3 },
            reason: Reason::CpuHigh { up: 70.0 },
        },
        Case {
            name: "up cooldown counts from a scale down too",
            policy: policy(),
            observation: running(2, 90.0),
            history: history(Some(scaled(-1, 3, 2)), &[]),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::CooldownUp {
                remaining: Duration::from_secs(4 * 60),
            },
        },
        Case {
            name: "zero cooldown never holds",
            policy: Policy {
                cooldown_up: Duration::ZERO,
                ..policy()
            },
            observation: running(2, 90.0),
            history: history(Some(scaled(0, 1, 2)), &[]),
            now: at(0, 1),
            action: Action::Scale { from: 2, to: 3 },
            reason: Reason::CpuHigh { up: 70.0 },
        },
        Case {
            name: "last scale in the future counts as now",
            policy: policy(),
            observation: running(2, 90.0),
            history: history(Some(scaled(10, 1, 2)), &[]),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::CooldownUp {
                remaining: Duration::from_secs(5 * 60),
            },
        },
        Case {
            name: "one quiet sample never removes capacity",
            policy: policy(),
            observation: running(3, 10.0),
            history: History::default(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::NoPreviousSample,
        },
        Case {
            name: "quiet after busy holds",
            policy: policy(),
            observation: running(3, 10.0),
            history: history(None, &[sample(-5, 55.0)]),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::LowNotSustained { previous: 55.0 },
        },
        Case {
            name: "two quiet samples remove one replica",
            policy: policy(),
            observation: running(3, 10.0),
            history: quiet.clone(),
            now: at(0, 0),
            action: Action::Scale { from: 3, to: 2 },
            reason: Reason::CpuLow {
                down: 30.0,
                previous: 10.0,
            },
        },
        Case {
            name: "cpu equal to down counts as low",
            policy: policy(),
            observation: running(3, 30.0),
            history: history(None, &[sample(-5, 30.0)]),
            now: at(0, 0),
            action: Action::Scale { from: 3, to: 2 },
            reason: Reason::CpuLow {
                down: 30.0,
                previous: 30.0,
            },
        },
        Case {
            name: "sample seconds old does not confirm",
            policy: policy(),
            observation: running(3, 10.0),
            history: history(
                None,
                &[CpuSample {
                    at: at(0, -10),
                    cpu_percent: 5.0,
                }],
            ),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::NoPreviousSample,
        },
        Case {
            name: "sample over an hour old does not confirm",
            policy: policy(),
            observation: running(3, 10.0),
            history: history(None, &[sample(-61, 5.0)]),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::NoPreviousSample,
        },
        Case {
            name: "newest earlier sample is the previous one",
            policy: policy(),
            observation: running(3, 10.0),
            history: history(None, &[sample(-10, 5.0), sample(-5, 60.0)]),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::LowNotSustained { previous: 60.0 },
        },
        Case {
            name: "partial cpu data never scales down",
            policy: policy(),
            observation: Observation {
                cpu: Some(CpuReading {
                    percent: 5.0,
                    containers: Some(2),
                }),
                ..running(3, 5.0)
            },
            history: quiet.clone(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::PartialCpuData {
                containers: Some(2),
                running: 3,
            },
        },
        Case {
            name: "unknown cpu coverage never scales down",
            policy: policy(),
            observation: Observation {
                cpu: Some(CpuReading {
                    percent: 5.0,
                    containers: None,
                }),
                ..running(3, 5.0)
            },
            history: quiet.clone(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::PartialCpuData {
                containers: None,
                running: 3,
            },
        },
        Case {
            name: "partial cpu data may still scale up",
            policy: policy(),
            observation: Observation {
                cpu: Some(CpuReading {
                    percent: 95.0,
                    containers: Some(1),
                }),
                ..running(3, 95.0)
            },
            history: History::default(),
            now: at(0, 0),
            action: Action::Scale { from: 3, to: 4 },
            reason: Reason::CpuHigh { up: 70.0 },
        },
        Case {
            name: "quiet service in down cooldown holds",
            policy: Policy {
                cooldown_down: Duration::from_secs(10 * 60),
                ..policy()
            },
            observation: running(3, 10.0),
            history: history(Some(scaled(-5, 4, 3)), &[sample(-5, 10.0)]),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::CooldownDown {
                remaining: Duration::from_secs(5 * 60),
            },
        },
        Case {
            name: "quiet service at min holds",
            policy: Policy { min: 3, ..policy() },
            observation: running(3, 1.0),
            history: quiet.clone(),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::AtMin { min: 3 },
        },
        Case {
            name: "moderate cpu holds within thresholds",
            policy: policy(),
            observation: running(2, 50.0),
            history: history(None, &[sample(-5, 40.0)]),
            now: at(0, 0),
            action: Action::Hold,
            reason: Reason::WithinThresholds,
        },
    ]
}

#[test]
fn rule_table() {
    for case in cases() {
        let decision = decide(&case.policy, &case.observation, &case.history, case.now);
        assert_eq!(
            decision.action, case.action,
            "action of case: {}",
            case.name
        );
        assert_eq!(
            decision.reason, case.reason,
            "reason of case: {}",
            case.name
        );
    }
}

#[test]
fn trend_is_change_since_previous_sample() {
    let decision = decide(
        &policy(),
        &running(2, 50.0),
        &history(None, &[sample(-5, 40.0)]),
        at(0, 0),
    );

    assert_eq!(decision.trend, Some(10.0));
}

#[test]
fn trend_is_unknown_without_previous_sample() {
    let decision = decide(&policy(), &running(2, 50.0), &History::default(), at(0, 0));

    assert_eq!(decision.trend, None);
}

/// Simulates cron every five minutes, each run starting up to 20 seconds early or late,
/// with the five-minute default cooldown: a service that stays hot gains a replica on every
/// run until it reaches max.
#[test]
fn hot_service_scales_on_every_cron_run() {
    let policy = Policy {
        max: 7,
        ..Policy::default()
    };
    let jitter_seconds = [0, -15, 15, -3, 15, -12];
    let mut replicas = 1;
    let mut history = History::default();

    for (run, jitter) in jitter_seconds.iter().enumerate() {
        let now = at(5 * run as i64, *jitter);
        let decision = decide(&policy, &running(replicas, 95.0), &history, now);

        assert_eq!(
            decision.action,
            Action::Scale {
                from: replicas,
                to: replicas + 1
            },
            "run {run} at {now}"
        );
        history.last_scale = Some(ScaleEvent {
            at: now,
            from: replicas,
            to: replicas + 1,
            direction: Direction::Up,
        });
        replicas += 1;
    }

    assert_eq!(replicas, 7);
}

/// A cold service loses one replica per run once two quiet samples exist, and stops at min.
#[test]
fn cold_service_scales_down_to_min() {
    let policy = Policy {
        min: 2,
        ..Policy::default()
    };
    let mut replicas = 4;
    let mut history = History::default();
    let mut actions = Vec::new();

    for run in 0..5 {
        let now = at(5 * run, 0);
        let decision = decide(&policy, &running(replicas, 3.0), &history, now);
        if let Action::Scale { from, to } = decision.action {
            history.last_scale = Some(ScaleEvent {
                at: now,
                from,
                to,
                direction: Direction::Down,
            });
            replicas = to;
        }
        history.samples.push(CpuSample {
            at: now,
            cpu_percent: 3.0,
        });
        actions.push(decision.action);
    }

    assert_eq!(actions[0], Action::Hold, "first run has one sample only");
    assert_eq!(actions[1], Action::Scale { from: 4, to: 3 });
    assert_eq!(actions[2], Action::Scale { from: 3, to: 2 });
    assert_eq!(actions[3], Action::Hold, "at min");
    assert_eq!(replicas, 2);
}

#[test]
fn action_names() {
    assert_eq!(Action::Scale { from: 1, to: 2 }.name(), "scale_up");
    assert_eq!(Action::Scale { from: 2, to: 1 }.name(), "scale_down");
    assert_eq!(Action::Hold.name(), "hold");
    assert_eq!(Action::Skip.name(), "skip");
}

#[test]
fn missing_data_reasons() {
    assert!(Reason::CpuUnknown.is_missing_data());
    assert!(Reason::TaskStateUnknown.is_missing_data());
    assert!(Reason::ReplicasUnknown.is_missing_data());
    assert!(!Reason::WithinThresholds.is_missing_data());
}
