//! Property tests: invariants that hold for every input, not only the table's rows.

use proptest::prelude::*;

use super::*;
use chrono::TimeZone;

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 15, 10, 0, 0).unwrap()
}

fn policy_strategy() -> impl Strategy<Value = Policy> {
    (
        1u32..20,
        0u32..20,
        0.0f64..500.0,
        0.1f64..500.0,
        any::<bool>(),
        any::<bool>(),
        0u64..3600,
        0u64..3600,
    )
        .prop_map(
            |(min, extra, down, gap, ignore, ignore_exposed, up_secs, down_secs)| Policy {
                min,
                max: min + extra,
                up: down + gap,
                down,
                ignore,
                ignore_exposed,
                cooldown_up: Duration::from_secs(up_secs),
                cooldown_down: Duration::from_secs(down_secs),
            },
        )
}

fn cpu_strategy() -> impl Strategy<Value = Option<CpuReading>> {
    let percent = prop_oneof![
        -50.0f64..1000.0,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(0.0),
    ];
    proptest::option::of((percent, proptest::option::of(0u32..30))).prop_map(|reading| {
        reading.map(|(percent, containers)| CpuReading {
            percent,
            containers,
        })
    })
}

fn observation_strategy() -> impl Strategy<Value = Observation> {
    (
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        proptest::option::of(0u32..30),
        proptest::option::of((0u32..30, 0u32..30)),
        cpu_strategy(),
    )
        .prop_map(
            |(enabled, has_published_ports, replicas, tasks, cpu)| Observation {
                enabled,
                has_published_ports,
                replicas,
                tasks: tasks.map(|(running, desired)| TaskCounts { running, desired }),
                cpu,
            },
        )
}

fn history_strategy() -> impl Strategy<Value = History> {
    (
        proptest::option::of((-7200i64..600, 0u32..30, 0u32..30)),
        proptest::collection::vec((-7200i64..600, 0.0f64..1000.0), 0..8),
    )
        .prop_map(|(last_scale, samples)| History {
            last_scale: last_scale.map(|(offset, from, to)| ScaleEvent {
                at: base_time() + chrono::Duration::seconds(offset),
                from,
                to,
                direction: if to >= from {
                    Direction::Up
                } else {
                    Direction::Down
                },
            }),
            samples: samples
                .into_iter()
                .map(|(offset, cpu_percent)| CpuSample {
                    at: base_time() + chrono::Duration::seconds(offset),
                    cpu_percent,
                })
                .collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn target_stays_within_bounds(
        policy in policy_strategy(),
        observation in observation_strategy(),
        history in history_strategy(),
    ) {
        let decision = decide(&policy, &observation, &history, base_time());

        if let Action::Scale { from, to } = decision.action {
            prop_assert!(to >= policy.min && to <= policy.max, "{from} -> {to} outside [{}, {}]", policy.min, policy.max);
            prop_assert_ne!(from, to);
            prop_assert_eq!(Some(from), observation.replicas);
        }
    }

    #[test]
    fn stopped_or_ignored_services_never_scale(
        policy in policy_strategy(),
        observation in observation_strategy(),
        history in history_strategy(),
    ) {
        let decision = decide(&policy, &observation, &history, base_time());
        let is_stopped = observation.enabled == Some(false)
            || observation.replicas == Some(0)
            || observation.tasks.is_some_and(|tasks| tasks.desired == 0);
        let is_ignored = policy.ignore || (policy.ignore_exposed && observation.has_published_ports);

        if is_stopped || is_ignored {
            prop_assert_eq!(decision.action, Action::Skip);
        }
    }

    #[test]
    fn no_scale_on_missing_data(
        policy in policy_strategy(),
        observation in observation_strategy(),
        history in history_strategy(),
    ) {
        let decision = decide(&policy, &observation, &history, base_time());
        let cpu_usable = observation.cpu.is_some_and(|cpu| cpu.percent.is_finite() && cpu.percent >= 0.0);
        let data_complete = observation.enabled.is_some()
            && observation.replicas.is_some()
            && observation.tasks.is_some()
            && cpu_usable;

        if !data_complete {
            prop_assert!(!matches!(decision.action, Action::Scale { .. }), "{decision:?}");
        }
    }

    #[test]
    fn no_scale_down_on_incomplete_cpu_data(
        policy in policy_strategy(),
        observation in observation_strategy(),
        history in history_strategy(),
    ) {
        let decision = decide(&policy, &observation, &history, base_time());
        let covered = match (observation.cpu, observation.tasks) {
            (Some(cpu), Some(tasks)) => cpu.containers.is_some_and(|containers| containers >= tasks.running),
            _ => false,
        };

        if let (Action::Scale { from, to }, Reason::CpuLow { .. }) = (decision.action, &decision.reason) {
            prop_assert!(to < from);
            prop_assert!(covered, "scaled down on partial data: {observation:?}");
            prop_assert!(history.previous_sample(base_time()).is_some_and(|sample| sample.cpu_percent <= policy.down));
        }
    }
}
