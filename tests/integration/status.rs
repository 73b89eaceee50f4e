//! `autoscaler status`: what it shows from the state folder, without contacting the panel.

use std::fs;

use chrono::DateTime;
use easypanel_standin::PanelOptions;
use serde_json::{json, Value};

use crate::harness::{all_output, app, exit_code, stdout, Harness};

/// Runs a hot service three times, six minutes apart, so that it scales 1 -> 2 -> 3 -> 4,
/// and returns the harness.
fn after_three_runs() -> Harness {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"shop_api": {"cooldown_up_minutes": 5, "cooldown_down_minutes": 10}}),
    );
    for _ in 0..2 {
        let output = harness.run(&[]);
        assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
        harness.age_state(6);
    }
    let output = harness.run(&[]);
    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert_eq!(harness.replicas("shop_api"), 4);
    harness
}

#[test]
fn empty_state_folder_says_no_run_yet() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );

    let output = harness.run(&["status"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(text.contains("No run has recorded state yet"), "{text}");
    assert!(
        text.contains(&harness.state_dir().display().to_string()),
        "{text}"
    );
    assert_eq!(
        harness.panel.request_count(),
        0,
        "status never calls the panel"
    );
}

#[test]
fn table_shows_samples_scale_and_cooldown() {
    let harness = after_three_runs();
    harness.panel.clear_requests();

    let output = harness.run(&["status"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    let header = text
        .lines()
        .find(|line| line.starts_with("SERVICE"))
        .expect("table header");
    for column in ["CPU%", "TREND", "LAST SCALE", "WHEN", "COOLDOWN"] {
        assert!(header.contains(column), "{header}");
    }
    let row = text
        .lines()
        .find(|line| line.starts_with("shop_api"))
        .expect("shop_api row");
    assert!(row.contains("90.0 ("), "{row}");
    assert!(row.contains("+0.0"), "{row}");
    assert!(row.contains("3 -> 4 (up)"), "{row}");
    assert!(row.contains("up 4m"), "{row}");
    assert!(row.contains("down 9m"), "{row}");
    assert!(
        text.contains("Panel: tRPC generation, monitor router monitor"),
        "{text}"
    );
    assert_eq!(
        harness.panel.request_count(),
        0,
        "status never calls the panel"
    );
}

#[test]
fn json_has_typed_fields() {
    let harness = after_three_runs();

    let output = harness.run(&["status", "--json"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).expect("status --json is JSON");
    let panel = &document["panel"];
    assert_eq!(panel["generation"], "trpc");
    assert_eq!(panel["monitor_router"], "monitor");
    assert_eq!(panel["host_cores"], 4);
    assert!(DateTime::parse_from_rfc3339(panel["detected_at"].as_str().unwrap()).is_ok());
    assert_eq!(document["config"]["loaded"], true);

    let services = document["services"].as_array().expect("services array");
    assert_eq!(services.len(), 1);
    let service = &services[0];
    assert_eq!(service["service"], "shop_api");
    assert_eq!(service["problem"], Value::Null);
    assert_eq!(service["cpu_percent"].as_f64(), Some(90.0));
    assert_eq!(service["trend"].as_f64(), Some(0.0));

    let samples = service["samples"].as_array().expect("samples array");
    assert_eq!(samples.len(), 3, "{samples:?}");
    let ages: Vec<u64> = samples
        .iter()
        .map(|sample| sample["age_seconds"].as_u64().unwrap())
        .collect();
    assert!(
        ages.windows(2).all(|pair| pair[0] < pair[1]),
        "newest first: {ages:?}"
    );
    for sample in samples {
        assert!(DateTime::parse_from_rfc3339(sample["at"].as_str().unwrap()).is_ok());
    }

    let scale = &service["last_scale"];
    assert_eq!(scale["from"], 3);
    assert_eq!(scale["to"], 4);
    assert_eq!(scale["direction"], "up");
    assert!(DateTime::parse_from_rfc3339(scale["at"].as_str().unwrap()).is_ok());

    let cooldown = &service["cooldown"];
    assert_eq!(cooldown["active"], true);
    assert_eq!(cooldown["up_minutes"].as_f64(), Some(5.0));
    assert_eq!(cooldown["down_minutes"].as_f64(), Some(10.0));
    let up_left = cooldown["up_remaining_seconds"].as_u64().unwrap();
    let down_left = cooldown["down_remaining_seconds"].as_u64().unwrap();
    assert!((240..=300).contains(&up_left), "{up_left}");
    assert!((540..=600).contains(&down_left), "{down_left}");
}

#[test]
fn corrupt_state_file_is_reported_and_kept() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.run(&[]);
    let path = harness.state_dir().join("shop_api.json");
    fs::write(&path, b"{\"version\": 1, \"serv").unwrap();

    let output = harness.run(&["status"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(text.contains("not valid state JSON"), "{text}");
    assert_eq!(
        fs::read(&path).unwrap(),
        b"{\"version\": 1, \"serv",
        "the file is left as it was"
    );
    let names: Vec<String> = fs::read_dir(harness.state_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|name| name.contains("corrupt")),
        "{names:?}"
    );
}

#[test]
fn missing_config_uses_default_cooldowns() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.run(&[]);
    fs::remove_file(&harness.config_path).unwrap();

    let output = harness.run(&["status"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(text.contains("Cooldowns: the defaults"), "{text}");
    assert!(text.contains("shop_api"), "{text}");
}

#[test]
fn config_without_token_still_gives_policies() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"shop_api": {"cooldown_minutes": 20}}),
    );
    harness.run(&[]);
    harness.write_config(json!({"api": {"token": ""}, "shop_api": {"cooldown_minutes": 20}}));

    let output = harness.run(&["status", "--json"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["config"]["loaded"], true, "{document}");
    assert_eq!(
        document["services"][0]["cooldown"]["up_minutes"].as_f64(),
        Some(20.0)
    );
}
