//! CPU time of the decision phase: `engine::decide` over 10,000 synthetic services, each
//! with an hour of CPU samples, as a steady-state run would see them.
//!
//! Run with `cargo bench --bench decide`. Prints the median of several repetitions; it
//! asserts nothing, because timings depend on the machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use autoscaler::engine::{
    self, CpuReading, CpuSample, Direction, History, Observation, Policy, ScaleEvent, TaskCounts,
};
use chrono::{DateTime, TimeDelta, Utc};

const SERVICES: usize = 10_000;
const REPETITIONS: usize = 15;

/// Time the whole phase may take for [`SERVICES`] services.
const TARGET: Duration = Duration::from_millis(50);

/// One service's inputs to the engine.
struct Input {
    policy: Policy,
    observation: Observation,
    history: History,
}

fn main() {
    let now = Utc::now();
    let inputs: Vec<Input> = (0..SERVICES).map(|index| input(index, now)).collect();

    // One pass first, so page faults and cold caches stay out of the figures.
    let scaling = decide_all(&inputs, now);
    let mut times: Vec<Duration> = (0..REPETITIONS)
        .map(|_| {
            let started = Instant::now();
            black_box(decide_all(black_box(&inputs), now));
            started.elapsed()
        })
        .collect();
    times.sort();

    let median = times[REPETITIONS / 2];
    println!(
        "decide: {SERVICES} services, {scaling} of them scaling: median {:.2} ms of {REPETITIONS} repetitions (fastest {:.2} ms, slowest {:.2} ms), {:.0} ns per service",
        millis(median),
        millis(times[0]),
        millis(times[REPETITIONS - 1]),
        median.as_nanos() as f64 / SERVICES as f64
    );
    println!(
        "target: under {} ms: {}",
        TARGET.as_millis(),
        if median < TARGET { "PASS" } else { "FAIL" }
    );
}

/// Decides every service and returns how many decisions scale.
fn decide_all(inputs: &[Input], now: DateTime<Utc>) -> usize {
    inputs
        .iter()
        .map(|input| engine::decide(&input.policy, &input.observation, &input.history, now))
        .filter(|decision| matches!(decision.action, engine::Action::Scale { .. }))
        .count()
}

/// Builds service `index`. One in twenty is hot, about a third cold, the rest moderate.
/// One in fifty lacks a CPU figure and one in fifty is mid-update. Each has twelve samples
/// taken five minutes apart, and one in ten scaled ten minutes ago.
fn input(index: usize, now: DateTime<Utc>) -> Input {
    let replicas = 1 + (index % 4) as u32;
    let cpu_percent = match index % 20 {
        0 => 88.0,
        1..=7 => 8.0 + (index % 5) as f64,
        _ => 35.0 + (index % 30) as f64,
    };
    let running = if index % 50 == 3 {
        replicas - 1
    } else {
        replicas
    };
    let cpu = (index % 50 != 7).then_some(CpuReading {
        percent: cpu_percent,
        containers: Some(running),
    });
    let samples = (1..=12)
        .rev()
        .map(|step| CpuSample {
            at: now - TimeDelta::minutes(5 * step),
            cpu_percent,
        })
        .collect();
    let last_scale = (index % 10 == 5).then(|| ScaleEvent {
        at: now - TimeDelta::minutes(10),
        from: replicas,
        to: replicas + 1,
        direction: Direction::Up,
    });
    Input {
        policy: Policy {
            max: 8,
            ..Policy::default()
        },
        observation: Observation {
            enabled: Some(true),
            has_published_ports: index.is_multiple_of(25),
            replicas: Some(replicas),
            tasks: Some(TaskCounts {
                running,
                desired: replicas,
            }),
            cpu,
        },
        history: History {
            last_scale,
            samples,
        },
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
