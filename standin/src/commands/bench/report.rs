//! The benchmark's targets and its Markdown tables.

use std::fmt::Write as _;
use std::time::Duration;

/// A run may take this many times its critical path, plus [`WALL_SLACK`].
const WALL_FACTOR: f64 = 1.5;

/// Fixed allowance for starting the process, reading the config and writing state files.
const WALL_SLACK: Duration = Duration::from_millis(50);

/// Peak resident memory a run may reach.
pub const MAX_PEAK_RSS_BYTES: u64 = 30 * 1024 * 1024;

/// Time `autoscaler --version` and `autoscaler validate` may take.
pub const MAX_STARTUP: Duration = Duration::from_millis(10);

/// Costs of one run of the autoscaler.
#[derive(Debug, Clone, Copy)]
pub struct RunFigures {
    pub wall: Duration,
    pub requests: u64,
    pub scaled: u64,
    pub peak_rss_bytes: u64,
    /// Time the stand-in spent building the inventory and the observe responses, latency
    /// excluded.
    pub panel_processing: Duration,
}

/// The runs of one fleet size.
#[derive(Debug, Clone)]
pub struct SizeReport {
    pub services: usize,
    pub latency: Duration,
    /// `api.max_concurrency` of the runs.
    pub concurrency: u32,
    pub first_run: RunFigures,
    pub runs: Vec<RunFigures>,
}

/// Median and maximum of `runs` startup times of one command.
#[derive(Debug, Clone)]
pub struct StartupReport {
    pub command: &'static str,
    pub times: Vec<Duration>,
}

/// Requests of a run that remembers the panel and scales `scaled` services: 3 to observe,
/// then per scaled service a re-read and an update, and one replica-state check shared by
/// all of them.
pub fn expected_requests(scaled: u64) -> u64 {
    if scaled == 0 {
        3
    } else {
        3 + 2 * scaled + 1
    }
}

/// Requests a run may make: 3 to observe and at most 3 per scaled service.
pub fn request_limit(scaled: u64) -> u64 {
    3 + 3 * scaled
}

/// Returns the round trips that must happen one after another once the panel is
/// remembered. The inventory, task counts and CPU go together. When something scales, a
/// re-read and an update follow per service, at most `concurrency` services at a time, and
/// then one replica-state check.
pub fn critical_round_trips(scaled: u64, concurrency: u32) -> u32 {
    if scaled == 0 {
        return 1;
    }
    let waves = scaled.div_ceil(u64::from(concurrency.max(1)));
    1 + 2 * u32::try_from(waves).unwrap_or(u32::MAX / 4) + 1
}

/// Returns the wall time a run may take: 1.5 times its critical path, plus 50 ms. The
/// critical path is the round trips times the latency, plus `panel_processing`, the time the
/// panel itself spent on the requests of that path.
pub fn wall_bound(
    scaled: u64,
    concurrency: u32,
    latency: Duration,
    panel_processing: Duration,
) -> Duration {
    let critical_path = latency * critical_round_trips(scaled, concurrency) + panel_processing;
    critical_path.mul_f64(WALL_FACTOR) + WALL_SLACK
}

/// Returns the median; of an even count, the mean of the middle two.
///
/// # Panics
///
/// Panics when `values` is empty.
pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2
    }
}

impl SizeReport {
    fn walls(&self) -> Vec<Duration> {
        self.runs.iter().map(|run| run.wall).collect()
    }

    /// Returns the scaled count when every measured run scaled the same number of services.
    fn scaled(&self) -> Option<u64> {
        let first = self.runs.first()?.scaled;
        self.runs
            .iter()
            .all(|run| run.scaled == first)
            .then_some(first)
    }

    fn peak_rss(&self) -> u64 {
        self.runs
            .iter()
            .map(|run| run.peak_rss_bytes)
            .max()
            .unwrap_or(0)
    }
}

/// Renders the per-size table, the first-run table and the startup table as Markdown.
pub fn render(sizes: &[SizeReport], startup: &[StartupReport]) -> String {
    let mut text = String::new();
    if let Some(first) = sizes.first() {
        let _ = writeln!(
            text,
            "Steady-state runs ({} per size, panel remembered, fresh service state), {} ms added to every response:\n",
            first.runs.len(),
            first.latency.as_millis()
        );
    }
    text.push_str(
        "| app services | scaled | wall median ms | wall max ms | stand-in ms | bound, latency only, ms | bound ms | wall | requests | expected | limit | requests | peak RSS MiB | RSS |\n",
    );
    text.push_str("|---:|---:|---:|---:|---:|---:|---:|:--|---:|---:|---:|:--|---:|:--|\n");
    for size in sizes {
        text.push_str(&size_row(size));
    }
    text.push_str(
        "\nbound: 1.5 x the critical path + 50 ms. The critical path is 1 round trip when nothing \
         scales, and 2 + 2 x ceil(k / api.max_concurrency) when k services scale (a re-read and an \
         update each, at most max_concurrency at once), times the latency, plus stand-in ms: the \
         stand-in's own time for the inventory and the slower observe response, which runs on \
         the same cores and is part of those round trips. The latency-only bound leaves that \
         time out. expected: 3 + 2k + 1 requests for k scaled services (3 when k is 0). limit: \
         3 + 3k.\n",
    );

    text.push_str("\nFirst runs (the warm-up before the runs above; they detect the panel):\n\n");
    text.push_str("| app services | scaled | wall ms | requests | of which detection |\n");
    text.push_str("|---:|---:|---:|---:|---:|\n");
    for size in sizes {
        let run = size.first_run;
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} |",
            size.services,
            run.scaled,
            millis(run.wall),
            run.requests,
            run.requests as i64 - expected_requests(run.scaled) as i64
        );
    }

    text.push_str("\nStartup (no panel contacted):\n\n");
    text.push_str("| command | runs | median ms | max ms | bound ms | result |\n");
    text.push_str("|:--|---:|---:|---:|---:|:--|\n");
    for command in startup {
        let median = median(&command.times);
        let max = command.times.iter().max().copied().unwrap_or_default();
        let _ = writeln!(
            text,
            "| `{}` | {} | {} | {} | {} | {} |",
            command.command,
            command.times.len(),
            millis(median),
            millis(max),
            millis(MAX_STARTUP),
            verdict(median <= MAX_STARTUP)
        );
    }
    text
}

fn size_row(size: &SizeReport) -> String {
    let walls = size.walls();
    let wall_median = median(&walls);
    let max = walls.iter().max().copied().unwrap_or_default();
    let Some(scaled) = size.scaled() else {
        let counts: Vec<String> = size.runs.iter().map(|run| run.scaled.to_string()).collect();
        return format!(
            "| {} | varied: {} | {} | {} | | | | FAIL | | | | | | |\n",
            size.services,
            counts.join(","),
            millis(wall_median),
            millis(max)
        );
    };
    let processing: Vec<Duration> = size.runs.iter().map(|run| run.panel_processing).collect();
    let panel_processing = median(&processing);
    let latency_bound = wall_bound(scaled, size.concurrency, size.latency, Duration::ZERO);
    let bound = wall_bound(scaled, size.concurrency, size.latency, panel_processing);
    let max_requests = size.runs.iter().map(|run| run.requests).max().unwrap_or(0);
    let min_requests = size.runs.iter().map(|run| run.requests).min().unwrap_or(0);
    let requests = if max_requests == min_requests {
        max_requests.to_string()
    } else {
        format!("{min_requests}-{max_requests}")
    };
    let peak_rss = size.peak_rss();
    format!(
        "| {} | {scaled} | {} | {} | {} | {} | {} | {} | {requests} | {} | {} | {} | {:.1} | {} |\n",
        size.services,
        millis(wall_median),
        millis(max),
        millis(panel_processing),
        millis(latency_bound),
        millis(bound),
        verdict(wall_median <= bound),
        expected_requests(scaled),
        request_limit(scaled),
        verdict(max_requests <= request_limit(scaled)),
        peak_rss as f64 / (1024.0 * 1024.0),
        verdict(peak_rss <= MAX_PEAK_RSS_BYTES),
    )
}

fn millis(duration: Duration) -> String {
    let millis = duration.as_secs_f64() * 1000.0;
    if millis < 20.0 {
        format!("{millis:.1}")
    } else {
        format!("{millis:.0}")
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "FAIL"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn expected_requests_follow_the_formula() {
        assert_eq!(expected_requests(0), 3);
        assert_eq!(expected_requests(1), 6);
        assert_eq!(expected_requests(50), 104);
    }

    #[test]
    fn request_limit_allows_three_per_scaled_service() {
        assert_eq!(request_limit(0), 3);
        assert_eq!(request_limit(50), 153);
    }

    #[test]
    fn wall_bound_counts_round_trips() {
        assert_eq!(wall_bound(0, 8, ms(20), ms(0)), ms(80));
        assert_eq!(wall_bound(5, 8, ms(20), ms(0)), ms(170));
        assert_eq!(wall_bound(50, 8, ms(20), ms(0)), ms(530));
        assert_eq!(wall_bound(50, 64, ms(20), ms(0)), ms(170));
        assert_eq!(wall_bound(50, 8, ms(20), ms(80)), ms(650));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[ms(9), ms(1), ms(5)]), ms(5));
        assert_eq!(median(&[ms(4), ms(1), ms(2), ms(9)]), ms(3));
    }

    #[test]
    fn row_fails_when_runs_scale_different_counts() {
        let run = |scaled| RunFigures {
            wall: ms(100),
            requests: 3,
            scaled,
            peak_rss_bytes: 0,
            panel_processing: ms(0),
        };
        let size = SizeReport {
            services: 100,
            latency: ms(20),
            concurrency: 8,
            first_run: run(5),
            runs: vec![run(5), run(4)],
        };

        assert!(size_row(&size).contains("varied: 5,4"));
    }

    #[test]
    fn row_reports_targets() {
        let run = RunFigures {
            wall: ms(150),
            requests: 14,
            scaled: 5,
            peak_rss_bytes: 8 * 1024 * 1024,
            panel_processing: ms(12),
        };
        let size = SizeReport {
            services: 100,
            latency: ms(20),
            concurrency: 8,
            first_run: run,
            runs: vec![run; 3],
        };

        assert_eq!(
            size_row(&size),
            "| 100 | 5 | 150 | 150 | 12.0 | 170 | 188 | PASS | 14 | 14 | 18 | PASS | 8.0 | PASS |\n"
        );
    }
}
