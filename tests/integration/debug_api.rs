//! `autoscaler debug-api`: the step-by-step report on the connection to the panel.

use std::net::TcpListener;
use std::time::Duration;

use easypanel_standin::{Fault, PanelOptions, ServiceSpec};
use serde_json::json;

use crate::harness::{all_output, app, exit_code, stderr, stdout, Harness};

fn fleet() -> Vec<ServiceSpec> {
    vec![
        app("shop", "api", 2, 90.0),
        app("shop", "worker", 1, 5.0),
        ServiceSpec::new("shop", "db").service_type(easypanel_standin::ServiceType::Postgres),
    ]
}

#[test]
fn healthy_trpc_panel_exits_0() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));

    let output = harness.run(&["debug-api"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("A run uses the tRPC generation and the monitor router"),
        "{text}"
    );
    assert!(text.contains("Panel version 2.19.0"), "{text}");
    assert!(text.contains("Verdict: percent of one core"), "{text}");
    assert!(
        text.contains("Result: everything a run needs works"),
        "{text}"
    );
    assert!(!text.contains("FAILED"), "{text}");
    assert_eq!(harness.write_calls(), 0);
    assert!(!harness.state_dir().exists(), "debug-api writes no state");
    assert!(
        !harness.dir.path().join("autoscaler.log").exists(),
        "debug-api writes no log"
    );
    harness.assert_no_violations();
}

#[test]
fn healthy_rpc_panel_exits_0() {
    let harness = Harness::new(PanelOptions::rpc(), fleet(), json!({}));

    let output = harness.run(&["debug-api"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("A run uses the RPC generation and the monitorOld router"),
        "{text}"
    );
    assert!(text.contains("Panel version 2.32.2"), "{text}");
    assert!(
        text.contains("Result: everything a run needs works"),
        "{text}"
    );
    harness.assert_no_violations();
}

#[test]
fn inventory_lists_candidates_and_unknown_services() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        fleet(),
        json!({"shop_api": {"max": 4}, "shop_typo": {"max": 2}, "shop_db": {"max": 2}}),
    );

    let output = harness.run(&["debug-api"]);

    let text = stdout(&output);
    let row = text
        .lines()
        .find(|line| line.trim_start().starts_with("shop_api "))
        .expect("shop_api row");
    assert!(row.contains("scales it by CPU"), "{row}");
    assert!(
        text.contains("shop_typo is configured, but the panel has no such service"),
        "{text}"
    );
    assert!(
        text.contains("shop_db is configured, but it is a postgres service"),
        "{text}"
    );
    assert!(text.contains("warning  4. Inventory"), "{text}");
}

#[test]
fn rejected_token_exits_2_with_advice() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));
    harness.write_config(json!({"api": {"token": "not-the-token"}}));

    let output = harness.run(&["debug-api"]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(text.contains("FAILED   2. API token"), "{text}");
    assert!(text.contains("Settings → Users → API token"), "{text}");
    assert!(text.contains("EASYPANEL_API_TOKEN"), "{text}");
    assert!(
        !all_output(&output).contains("not-the-token"),
        "the token is never printed"
    );
}

#[test]
fn closed_port_exits_2_with_reach_advice() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    harness.write_config(json!({"api": {"base_url": url}}));

    let output = harness.run(&["debug-api"]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(text.contains("FAILED   1. Reach the panel"), "{text}");
    assert!(text.contains("Could not reach the panel"), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(text.contains("Steps 2 to 6 were not run"), "{text}");
}

#[test]
fn slow_panel_times_out_at_step_1() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));
    harness.write_config(json!({"api": {"timeout_seconds": 1}}));
    let delay = Fault::delay(Duration::from_secs(3));
    harness
        .panel
        .set_fault("projects.listProjectsAndServices", delay);

    let output = harness.run(&["debug-api"]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(text.contains("FAILED   1. Reach the panel"), "{text}");
    assert!(text.contains("no response from"), "{text}");
    assert!(text.contains("raise api.timeout_seconds"), "{text}");
}

#[test]
fn raw_output_shows_bodies_without_secrets() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));

    let output = harness.run(&["debug-api", "--raw"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(text.contains("Raw responses (secrets redacted)"), "{text}");
    assert!(
        text.contains("Structure of the payload: object with 2 keys"),
        "{text}"
    );
    assert!(text.contains("[redacted]"), "{text}");
    let secrets = harness.panel.secrets();
    assert!(
        secrets.contains(&harness.panel.options().token),
        "the list includes the token"
    );
    for secret in secrets {
        assert!(
            !stdout(&output).contains(&secret),
            "stdout shows a secret: {secret}"
        );
        assert!(
            !stderr(&output).contains(&secret),
            "stderr shows a secret: {secret}"
        );
    }
}

#[test]
fn service_flag_picks_that_service() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));

    let output = harness.run(&["debug-api", "--service", "shop_worker"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("5. Replica state and CPU of shop_worker"),
        "{text}"
    );
    assert!(text.contains("shop_worker.1."), "{text}");
    let stats = harness.panel.calls("monitor.getServiceStats");
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].input["serviceName"], "worker");
}

#[test]
fn unknown_service_flag_exits_2_for_argument() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));

    let output = harness.run(&["debug-api", "--service", "shop_nope"]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("warning  5. Replica state and CPU\n"),
        "{text}"
    );
    assert!(
        text.contains("--service shop_nope names no service of the panel"),
        "{text}"
    );
    assert!(
        text.contains("App services of the panel: shop_api, shop_worker."),
        "{text}"
    );
    assert!(!text.contains("FAILED"), "{text}");
    assert!(
        text.contains("Result: everything a run needs works.\n"),
        "{text}"
    );
    assert!(
        text.contains("Exit code 2 only because --service shop_nope names no service"),
        "{text}"
    );
}

#[test]
fn database_service_flag_exits_2_for_argument() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));

    let output = harness.run(&["debug-api", "--service", "shop_db"]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("--service shop_db names a postgres service, not an app service"),
        "{text}"
    );
    assert!(
        text.contains("App services of the panel: shop_api, shop_worker."),
        "{text}"
    );
    assert!(!text.contains("FAILED"), "{text}");
    assert!(
        text.contains("Result: everything a run needs works.\n"),
        "{text}"
    );
    assert!(
        text.contains("Exit code 2 only because --service shop_db"),
        "{text}"
    );
}

#[test]
fn disabled_service_is_reported_as_skipped() {
    let mut services = fleet();
    services.push(ServiceSpec::new("shop", "cron").enabled(false));
    let harness = Harness::new(PanelOptions::trpc(), services, json!({}));

    let output = harness.run(&["debug-api", "--service", "shop_cron"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("ok       5. Replica state and CPU of shop_cron"),
        "{text}"
    );
    assert!(
        text.contains("A run now skips shop_cron: service is disabled in the panel."),
        "{text}"
    );
    assert!(!text.contains("A run now holds"), "{text}");
}

#[test]
fn hot_service_is_reported_as_scaled_up() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));

    let output = harness.run(&["debug-api", "--service", "shop_api"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("no scale recorded, 0 CPU samples from the last hour."),
        "{text}"
    );
    assert!(
        text.contains(
            "A run now scales shop_api from 2 to 3 replicas: CPU at or above up threshold 70%."
        ),
        "{text}"
    );
    assert_eq!(harness.write_calls(), 0);
}

#[test]
fn decision_uses_history_without_changing_it() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));
    let run = harness.run(&[]);
    assert_eq!(exit_code(&run), 0, "{}", all_output(&run));
    let state_before = harness.state("shop_api").expect("state of shop_api");
    let writes_before = harness.write_calls();

    let output = harness.run(&["debug-api", "--service", "shop_api"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(text.contains("last scale 2 to 3 at"), "{text}");
    assert!(
        text.contains("A run now holds shop_api: CPU high but in scale-up cooldown"),
        "{text}"
    );
    assert_eq!(harness.state("shop_api"), Some(state_before));
    assert_eq!(harness.write_calls(), writes_before);
}

#[test]
fn pending_change_is_reported_as_held() {
    let mut services = fleet();
    services.push(
        app("shop", "mailer", 2, 50.0)
            .running(1)
            .desired(1)
            .cpu(vec![50.0]),
    );
    let harness = Harness::new(PanelOptions::trpc(), services, json!({}));

    let output = harness.run(&["debug-api", "--service", "shop_mailer"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("deploy.replicas 2, Swarm runs 1 of 1 desired tasks."),
        "{text}"
    );
    assert!(
        text.contains("A run now holds shop_mailer: stored replicas 2 differ from Swarm desired 1"),
        "{text}"
    );
}

#[test]
fn env_url_error_names_environment() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));

    let output = harness
        .command(&["debug-api"])
        .env("EASYPANEL_API_URL", "localhost:1")
        .output()
        .expect("run autoscaler");

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: invalid environment variable (the config file "),
        "{text}"
    );
    assert!(
        text.contains(r#"EASYPANEL_API_URL: invalid URL "localhost:1": the scheme is missing"#),
        "{text}"
    );
    assert!(!text.contains("invalid config file"), "{text}");
    assert_eq!(harness.panel.requests().len(), 0);
}

#[test]
fn env_and_file_errors_name_both_sources() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));
    harness.write_config(json!({"shop_api": {"min": 0}}));

    let output = harness
        .command(&["debug-api"])
        .env("EASYPANEL_API_TOKEN", "Bearer abc123")
        .output()
        .expect("run autoscaler");

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stderr(&output);
    assert!(
        text.contains("and environment variables (2 problems):"),
        "{text}"
    );
    assert!(
        text.contains("EASYPANEL_API_TOKEN: invalid API token: it starts with `Bearer `"),
        "{text}"
    );
    assert!(text.contains("shop_api.min: expected"), "{text}");
    assert!(!text.contains("abc123"), "the token is never printed");
}

#[test]
fn failing_cpu_call_marks_step_failed() {
    let harness = Harness::new(PanelOptions::trpc(), fleet(), json!({}));
    harness
        .panel
        .set_fault("monitor.getMonitorTableData", Fault::status(500, "boom"));

    let output = harness.run(&["debug-api"]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("FAILED   5. Replica state and CPU of shop_api"),
        "{text}"
    );
    assert!(text.contains("monitor.getMonitorTableData"), "{text}");
    assert!(text.contains("boom"), "{text}");
    assert!(text.contains("fix step 5 first"), "{text}");
    assert_eq!(
        harness.panel.calls("monitor.getMonitorTableData").len(),
        1,
        "no retries"
    );
}

#[test]
fn fixed_protocol_of_wrong_generation_fails() {
    let harness = Harness::new(
        PanelOptions::rpc(),
        fleet(),
        json!({"api": {"protocol": "trpc"}}),
    );

    let output = harness.run(&["debug-api"]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    let text = stdout(&output);
    assert!(
        text.contains("api.protocol is trpc, but only the RPC generation responds"),
        "{text}"
    );
}
