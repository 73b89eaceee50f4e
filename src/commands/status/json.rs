//! The status as one JSON document for scripts: numbers as numbers, times in RFC 3339.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::service::{age, ServiceStatus};
use super::{PanelFacts, Status};

/// Returns the JSON document as pretty-printed text with a final newline.
pub(super) fn render(status: &Status) -> String {
    let mut text =
        serde_json::to_string_pretty(&document(status)).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// Returns `{"state_dir", "config", "panel", "services"}`; `panel` is null when
/// `panel.json` is missing or unreadable.
pub(super) fn document(status: &Status) -> Value {
    let panel = match &status.panel {
        PanelFacts::Remembered(memory) => json!({
            "base_url": memory.base_url,
            "generation": memory.generation,
            "monitor_router": memory.monitor_router,
            "host_cores": memory.host_cores,
            "detected_at": time(memory.detected_at),
        }),
        PanelFacts::Missing | PanelFacts::Unreadable(_) => Value::Null,
    };
    json!({
        "state_dir": status.state_dir.display().to_string(),
        "config": {
            "path": status.config_file.display().to_string(),
            "loaded": status.config_problem.is_none(),
            "problem": status.config_problem,
        },
        "panel": panel,
        "services": status
            .services
            .iter()
            .map(|service| service_json(service, status.now))
            .collect::<Vec<_>>(),
    })
}

fn service_json(service: &ServiceStatus, now: DateTime<Utc>) -> Value {
    let samples: Vec<Value> = service
        .samples
        .iter()
        .map(|sample| {
            json!({
                "at": time(sample.at),
                "cpu_percent": sample.cpu_percent,
                "age_seconds": age(sample.at, now).as_secs(),
            })
        })
        .collect();
    let last_scale = service.last_scale.map(|scale| {
        json!({
            "at": time(scale.at),
            "from": scale.from,
            "to": scale.to,
            "direction": scale.direction,
            "age_seconds": age(scale.at, now).as_secs(),
        })
    });
    let cooldown = &service.cooldown;
    json!({
        "service": service.key,
        "problem": service.problem,
        "cpu_percent": service.samples.first().map(|sample| sample.cpu_percent),
        "samples": samples,
        "trend": service.trend,
        "last_scale": last_scale,
        "cooldown": {
            "active": cooldown.is_active(),
            "up_minutes": cooldown.up.as_secs_f64() / 60.0,
            "down_minutes": cooldown.down.as_secs_f64() / 60.0,
            "up_remaining_seconds": cooldown.up_left.as_secs(),
            "down_remaining_seconds": cooldown.down_left.as_secs(),
        },
    })
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
