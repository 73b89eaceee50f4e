//! Each exit code, and what a run leaves behind when it cannot run.

use std::fs;

use easypanel_standin::{Fault, PanelOptions};
use serde_json::json;

use crate::harness::{all_output, app, exit_code, Harness};

#[test]
fn completed_run_exits_0() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({}),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("run finished"),
        "{}",
        all_output(&output)
    );
}

#[test]
fn failed_update_exits_1_and_records_no_scale() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0), app("shop", "web", 1, 90.0)],
        json!({}),
    );
    harness.panel.set_fault(
        "services.app.updateDeploy",
        Fault::status(400, "Input validation failed").times(1),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 1, "{}", all_output(&output));
    let scaled: Vec<u64> = ["shop_api", "shop_web"]
        .iter()
        .map(|key| harness.replicas(key))
        .collect();
    assert_eq!(
        scaled.iter().filter(|&&replicas| replicas == 2).count(),
        1,
        "the other service still scales"
    );
    let unscaled = if scaled[0] == 1 {
        "shop_api"
    } else {
        "shop_web"
    };
    assert_eq!(
        harness.state(unscaled).unwrap()["last_scale"],
        serde_json::Value::Null
    );
}

#[test]
fn missing_cpu_data_holds_and_exits_1() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault("monitor.getMonitorTableData", Fault::status(500, "boom"));
    harness
        .panel
        .set_fault("monitor.getServiceStats", Fault::status(500, "boom"));

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 1, "{}", all_output(&output));
    assert_eq!(harness.replicas("shop_api"), 1);
    assert!(
        all_output(&output).contains("CPU unknown"),
        "{}",
        all_output(&output)
    );
}

#[test]
fn cpu_falls_back_to_service_stats() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault("monitor.getMonitorTableData", Fault::status(500, "boom"));

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert_eq!(harness.panel.calls("monitor.getServiceStats").len(), 1);
    assert_eq!(harness.replicas("shop_api"), 2);
}

#[test]
fn wrong_token_exits_2() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.write_config(json!({"api": {"token": "not-the-token"}}));

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("rejected the API token"),
        "{}",
        all_output(&output)
    );
    assert_eq!(
        harness.panel.request_count(),
        1,
        "a refused token is not retried"
    );
}

#[test]
fn closed_port_exits_2() {
    let harness = Harness::new(PanelOptions::trpc(), vec![], json!({}));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    harness.write_config(json!({"api": {"base_url": url}}));

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("could not reach the panel"),
        "{}",
        all_output(&output)
    );
}

#[test]
fn invalid_config_exits_2_without_requests_or_files() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.write_config(json!({"shop_api": {"max": "ten"}}));

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("shop_api.max"),
        "{}",
        all_output(&output)
    );
    assert_eq!(harness.panel.request_count(), 0);
    assert!(!harness.state_dir().exists());
    assert!(!harness.dir.path().join("autoscaler.log").exists());
}

#[test]
fn missing_config_file_names_path_and_flag() {
    let harness = Harness::new(PanelOptions::trpc(), vec![], json!({}));
    fs::remove_file(&harness.config_path).unwrap();

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 2);
    let text = all_output(&output);
    assert!(
        text.contains(harness.config_path.to_str().unwrap()),
        "{text}"
    );
    assert!(text.contains("--config"), "{text}");
}

#[test]
fn unwritable_state_folder_exits_2_before_any_write() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    let blocker = harness.dir.path().join("blocker");
    fs::write(&blocker, "a file, not a folder").unwrap();

    let output = harness.run(&["--state-dir", blocker.join("state").to_str().unwrap()]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("--state-dir"),
        "{}",
        all_output(&output)
    );
    assert_eq!(harness.panel.request_count(), 0);
}

#[test]
fn run_in_progress_exits_0_and_does_nothing() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    fs::create_dir_all(harness.state_dir()).unwrap();
    let lock = fs::File::create(harness.state_dir().join(".lock")).unwrap();
    lock.lock().unwrap();

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("another run is in progress"),
        "{}",
        all_output(&output)
    );
    assert_eq!(harness.panel.request_count(), 0);
    drop(lock);
}
