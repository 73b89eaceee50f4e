//! The status as text: a few lines of context, then one aligned row per service.

use crate::commands::table::columns;
use std::time::Duration;

use super::service::{age, short_duration, Cooldown, ServiceStatus};
use super::{PanelFacts, Status};
use crate::easypanel::Generation;
use crate::engine::{Direction, Policy};

/// Returns the text status, one line per entry of [`lines`].
pub(super) fn render(status: &Status) -> String {
    let mut text = lines(status).join("\n");
    text.push('\n');
    text
}

/// Returns the lines of the text status.
pub(super) fn lines(status: &Status) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(line) = panel_line(status) {
        lines.push(line);
    }

    if status.services.is_empty() {
        let place = if status.does_state_dir_exist {
            format!("no service state files in {}", status.state_dir.display())
        } else {
            format!("{} does not exist", status.state_dir.display())
        };
        lines.push(format!(
            "No run has recorded state yet: {place}. Each run (but not a dry run) records the \
             services it observes there."
        ));
        return lines;
    }

    lines.push(format!("State folder: {}", status.state_dir.display()));
    lines.push(match &status.config_problem {
        None => format!("Cooldowns: from {}.", status.config_file.display()),
        Some(problem) => {
            let defaults = Policy::default();
            format!(
                "Cooldowns: the defaults ({} up, {} down), because the config file could not be \
                 loaded: {problem}",
                short_duration(defaults.cooldown_up),
                short_duration(defaults.cooldown_down)
            )
        }
    });
    lines.push(String::new());

    let mut rows = vec![
        ["SERVICE", "CPU%", "TREND", "LAST SCALE", "WHEN", "COOLDOWN"]
            .map(str::to_owned)
            .to_vec(),
    ];
    rows.extend(status.services.iter().map(|service| row(service, status)));
    lines.extend(columns(&rows));
    lines.push(String::new());
    lines.push(
        "CPU%: the newest samples first, each with its age. TREND: the newest minus the \
         one before, in percentage points."
            .to_owned(),
    );

    for service in &status.services {
        if let Some(problem) = &service.problem {
            lines.push(format!(
                "{}: the state file {} {problem}. A run moves it aside and starts the service \
                 with no history.",
                service.key,
                status
                    .state_dir
                    .join(format!("{}.json", service.key))
                    .display()
            ));
        }
    }
    if status.set_aside_files > 0 {
        lines.push(format!(
            "{} state files were set aside by earlier runs as unreadable (*.json.corrupt-*); they \
             are kept for inspection and may be deleted.",
            status.set_aside_files
        ));
    }
    lines
}

/// Returns the line about `panel.json`, or `None` when there is none to show.
fn panel_line(status: &Status) -> Option<String> {
    let path = status.state_dir.join(super::PANEL_FILE);
    match &status.panel {
        PanelFacts::Missing => None,
        PanelFacts::Unreadable(problem) => Some(format!(
            "Panel: {} {problem}; the next run detects the panel again.",
            path.display()
        )),
        PanelFacts::Remembered(memory) => {
            let generation = match memory.generation {
                Generation::Trpc => "tRPC",
                Generation::Rpc => "RPC",
            };
            let router = memory
                .monitor_router
                .map_or("not known yet".to_owned(), |router| {
                    router.name().to_owned()
                });
            let cores = memory
                .host_cores
                .map_or("unknown".to_owned(), |cores| cores.to_string());
            let mut line = format!(
                "Panel: {generation} generation, monitor router {router}, {cores} host cores, \
                 detected {} ({} ago) at {}.",
                memory.detected_at.format("%Y-%m-%d %H:%M UTC"),
                short_duration(age(memory.detected_at, status.now)),
                memory.base_url
            );
            if let Some(configured) = &status.configured_base_url {
                if configured != &memory.base_url {
                    line.push_str(&format!(
                        " The config now names {configured}, so the next run detects the panel \
                         again."
                    ));
                }
            }
            Some(line)
        }
    }
}

fn row(service: &ServiceStatus, status: &Status) -> Vec<String> {
    if service.problem.is_some() {
        return vec![
            service.key.clone(),
            "unusable state file (see below)".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
        ];
    }

    let samples: Vec<String> = service
        .samples
        .iter()
        .map(|sample| {
            format!(
                "{:.1} ({})",
                sample.cpu_percent,
                short_duration(age(sample.at, status.now))
            )
        })
        .collect();
    let (last_scale, when) = match &service.last_scale {
        Some(scale) => {
            let direction = match scale.direction {
                Direction::Up => "up",
                Direction::Down => "down",
            };
            (
                format!("{} -> {} ({direction})", scale.from, scale.to),
                format!("{} ago", short_duration(age(scale.at, status.now))),
            )
        }
        None => ("never".to_owned(), "-".to_owned()),
    };
    vec![
        service.key.clone(),
        if samples.is_empty() {
            "no samples".to_owned()
        } else {
            samples.join(", ")
        },
        service
            .trend
            .map_or("-".to_owned(), |trend| format!("{trend:+.1}")),
        last_scale,
        when,
        cooldown_text(service.last_scale.is_some(), &service.cooldown),
    ]
}

/// Describes the cooldown left: one figure when both directions end together, else each.
fn cooldown_text(has_scaled: bool, cooldown: &Cooldown) -> String {
    if !has_scaled {
        return "-".to_owned();
    }
    if !cooldown.is_active() {
        return "over".to_owned();
    }
    if cooldown.up_left == cooldown.down_left {
        return format!("{} left", short_duration(cooldown.up_left));
    }
    let left = |duration: Duration| {
        if duration.is_zero() {
            "over".to_owned()
        } else {
            format!("{} left", short_duration(duration))
        }
    };
    format!(
        "up {}, down {}",
        left(cooldown.up_left),
        left(cooldown.down_left)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cooldown(up_left: u64, down_left: u64) -> Cooldown {
        Cooldown {
            up: Duration::from_secs(300),
            down: Duration::from_secs(600),
            up_left: Duration::from_secs(up_left),
            down_left: Duration::from_secs(down_left),
        }
    }

    #[test]
    fn cooldown_shows_both_directions_when_they_differ() {
        assert_eq!(
            cooldown_text(true, &cooldown(120, 420)),
            "up 2m left, down 7m left"
        );
        assert_eq!(
            cooldown_text(true, &cooldown(0, 60)),
            "up over, down 1m left"
        );
        assert_eq!(cooldown_text(true, &cooldown(90, 90)), "1m 30s left");
        assert_eq!(cooldown_text(true, &cooldown(0, 0)), "over");
        assert_eq!(cooldown_text(false, &cooldown(0, 0)), "-");
    }
}
