//! Step 6: whether the containers' CPU figures use the unit the thresholds assume, percent
//! of one core (100 = one full core), judged against the host's own CPU use.
//!
//! The sum of every container's figure should be roughly the host's used percentage times
//! its core count, less whatever runs outside containers. Figures that are all at most 1.0
//! on a visibly busy host suggest 0..1 fractions, and figures that add up to about one core
//! count's share of the host suggest percent of the whole host.

use serde_json::Value;

use super::connection::{Detected, Payload};
use super::report::{millis, Step};
use super::session::Session;
use crate::easypanel::models;
use crate::easypanel::probe::MonitorCall;
use crate::easypanel::SystemStats;

/// Host load, in percent of one core, from which the host counts as visibly busy.
const BUSY_LOAD: f64 = 25.0;

/// Below this load on both sides, in percent of one core, the units cannot be distinguished.
const IDLE_LOAD: f64 = 10.0;

/// The two totals count as comparable within this factor either way, plus [`SLACK`]: the
/// calls sample at different moments, and the host also runs processes outside containers.
const FACTOR: f64 = 1.5;
const SLACK: f64 = 10.0;

/// The unit the container figures appear to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    PercentOfOneCore,
    Fractions,
    PercentOfHost,
    Unclear,
    TooLittleData,
}

/// A verdict with the one line of reasoning behind it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Judgement {
    pub unit: Unit,
    pub reason: String,
}

/// Runs step 6 and prints it.
pub(super) async fn check(session: &mut Session<'_>, detected: &Detected, table: Option<&Payload>) {
    let mut step = Step::new(6, "CPU scale");
    let (Some((router, _)), Some(table)) = (&detected.monitor, table) else {
        step.warn("Not checked: the container table could not be read (step 5).");
        session.report(step);
        return;
    };

    let probe = session
        .client
        .probe_monitor(detected.generation, *router, MonitorCall::SystemStats)
        .await;
    let host = match &probe.outcome {
        Ok(payload) => {
            let host = models::system_stats(payload);
            step.line(format!(
                "Host ({}, {}): cpuInfo.usedPercentage {}, cpuInfo.count {}.",
                probe.name,
                millis(probe.elapsed),
                host.cpu_used_percent
                    .map_or("missing".to_owned(), |used| format!("{used:.1}")),
                host.cpu_count
                    .map_or("missing".to_owned(), |count| count.to_string()),
            ));
            host
        }
        Err(error) => {
            step.line(format!("Host ({}): failed: {error}.", probe.name));
            SystemStats {
                cpu_used_percent: None,
                cpu_count: None,
            }
        }
    };
    session.keep(probe);

    let figures = container_figures(&table.value);
    let sum: f64 = figures.iter().sum();
    step.line(format!(
        "Containers ({}): {} figures of stats.cpu.percent adding up to {sum:.1}.",
        table.name,
        figures.len()
    ));
    if let Some(cores) = host.cpu_count {
        let bound = 100.0 * f64::from(cores);
        let implausible = figures.iter().filter(|figure| **figure > bound).count();
        if implausible > 0 {
            step.warn(format!(
                "{implausible} container figures exceed {bound:.0} (100 per core of {cores} \
                 cores); a run that has the core count leaves them out as implausible."
            ));
        }
    }

    let judgement = judge(&figures, host);
    match judgement.unit {
        Unit::PercentOfOneCore => step.line(format!(
            "Verdict: percent of one core. {}",
            judgement.reason
        )),
        Unit::Fractions => {
            step.warn(format!(
                "WARNING: the panel seems to report 0..1 fractions, not percent. {}",
                judgement.reason
            ));
            step.advise(
                "Do not let the autoscaler scale from cron until this is explained: with \
                 fractions, no service ever reaches up, and every service is scaled down to min.",
            );
            step.advise(
                "Compare the figures with the panel's Monitor page and with `docker \
                 stats` on the host.",
            );
        }
        Unit::PercentOfHost => {
            step.warn(format!(
                "Verdict: the figures look like percent of the whole host. {}",
                judgement.reason
            ));
            step.advise(
                "Compare the figures with `docker stats` on the host, and lower up and \
                 down accordingly if they are confirmed.",
            );
        }
        Unit::Unclear => step.warn(format!("Verdict: unclear. {}", judgement.reason)),
        Unit::TooLittleData => step.warn(format!("Verdict: too little data. {}", judgement.reason)),
    }
    session.report(step);
}

/// Returns every container's CPU figure that is a finite, non-negative number, unmanaged
/// containers included, since the host's figure includes them too.
fn container_figures(table: &Value) -> Vec<f64> {
    table
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|row| row.pointer("/stats/cpu/percent").and_then(Value::as_f64))
                .filter(|figure| figure.is_finite() && *figure >= 0.0)
                .collect()
        })
        .unwrap_or_default()
}

/// Judges the unit of the container figures from their values and the host's CPU use.
pub(super) fn judge(figures: &[f64], host: SystemStats) -> Judgement {
    let verdict = |unit, reason: String| Judgement { unit, reason };
    if figures.is_empty() {
        return verdict(
            Unit::TooLittleData,
            "The table has no container figures to judge.".to_owned(),
        );
    }
    let (Some(used), Some(cores)) = (host.cpu_used_percent, host.cpu_count) else {
        return verdict(
            Unit::TooLittleData,
            "getSystemStats gave no usedPercentage or count, so there is nothing to compare the \
             figures with."
                .to_owned(),
        );
    };
    let sum: f64 = figures.iter().sum();
    let host_load = used * f64::from(cores);
    let host_text =
        format!("the host uses {used:.1}% of {cores} cores, {host_load:.1} with 100 per core");

    if figures.iter().all(|figure| *figure <= 1.0) && host_load >= BUSY_LOAD {
        return verdict(
            Unit::Fractions,
            format!(
                "All {} container figures are at most 1.0 while {host_text}, so every threshold \
                 would be off by a factor of 100.",
                figures.len()
            ),
        );
    }
    if sum < IDLE_LOAD && host_load < IDLE_LOAD {
        return verdict(
            Unit::TooLittleData,
            format!(
                "Containers add up to {sum:.1} and {host_text}: too little load to tell the \
                 unit. Run debug-api again while the services are busy."
            ),
        );
    }
    if is_comparable(sum, host_load) {
        return verdict(
            Unit::PercentOfOneCore,
            format!(
                "Containers add up to {sum:.1} and {host_text}; the two agree, so 100 means \
                 one core, as the thresholds assume."
            ),
        );
    }
    if cores > 1 && is_comparable(sum * f64::from(cores), host_load) {
        return verdict(
            Unit::PercentOfHost,
            format!(
                "Containers add up to {sum:.1}, about 1/{cores} of the host's load \
                 ({host_text}), so the thresholds would be {cores} times too high."
            ),
        );
    }
    if sum < host_load {
        return verdict(
            Unit::Unclear,
            format!(
                "Containers add up to {sum:.1}, much less than the host's load ({host_text}); \
                 the rest may be processes outside containers, so the unit cannot be confirmed."
            ),
        );
    }
    verdict(
        Unit::Unclear,
        format!(
            "Containers add up to {sum:.1}, more than the whole host uses ({host_text}), so \
             the unit cannot be confirmed."
        ),
    )
}

fn is_comparable(sum: f64, host_load: f64) -> bool {
    sum >= host_load / FACTOR - SLACK && sum <= host_load * FACTOR + SLACK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(used: f64, cores: u32) -> SystemStats {
        SystemStats {
            cpu_used_percent: Some(used),
            cpu_count: Some(cores),
        }
    }

    #[test]
    fn units_are_distinguished() {
        let cases: [(&[f64], SystemStats, Unit); 8] = [
            (&[90.0, 85.0, 4.5], host(44.9, 4), Unit::PercentOfOneCore),
            (&[0.9, 0.85, 0.05], host(44.9, 4), Unit::Fractions),
            (&[22.5, 21.0, 1.2], host(44.9, 4), Unit::PercentOfHost),
            (&[1.0, 2.0], host(0.5, 4), Unit::TooLittleData),
            (&[0.2, 0.1], host(1.0, 4), Unit::TooLittleData),
            (&[5.0, 5.0], host(60.0, 8), Unit::Unclear),
            (&[300.0, 300.0], host(10.0, 2), Unit::Unclear),
            (&[], host(44.9, 4), Unit::TooLittleData),
        ];

        for (figures, host, expected) in cases {
            let judgement = judge(figures, host);
            assert_eq!(
                judgement.unit, expected,
                "{figures:?}: {}",
                judgement.reason
            );
        }
    }

    #[test]
    fn missing_host_figures_are_too_little_data() {
        let host = SystemStats {
            cpu_used_percent: None,
            cpu_count: Some(4),
        };

        assert_eq!(judge(&[50.0], host).unit, Unit::TooLittleData);
    }

    #[test]
    fn fraction_verdict_names_the_factor() {
        let judgement = judge(&[0.5, 0.7], host(50.0, 2));

        assert!(
            judgement.reason.contains("factor of 100"),
            "{}",
            judgement.reason
        );
    }
}
