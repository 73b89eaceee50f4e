//! Scaling behaviour across runs, through the state files.

use easypanel_standin::{PanelOptions, ServiceSpec, ServiceType};
use serde_json::json;

use crate::harness::{all_output, app, exit_code, Harness};

#[test]
fn hot_service_scales_up_on_consecutive_runs() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );

    for expected in [2, 3, 4] {
        let output = harness.run(&[]);

        assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
        assert_eq!(harness.replicas("shop_api"), expected);
        harness.age_state(5);
    }
    harness.assert_no_violations();
}

#[test]
fn cooldown_holds_between_quick_runs() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );

    harness.run(&[]);
    let output = harness.run(&[]);

    assert_eq!(harness.replicas("shop_api"), 2);
    assert!(
        all_output(&output).contains("scale-up cooldown"),
        "{}",
        all_output(&output)
    );
}

#[test]
fn cold_service_scales_down_after_two_low_samples() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "worker", 3, 5.0)],
        json!({}),
    );

    let first = harness.run(&[]);
    assert_eq!(exit_code(&first), 0, "{}", all_output(&first));
    assert_eq!(
        harness.replicas("shop_worker"),
        3,
        "one quiet sample never removes capacity"
    );
    harness.age_state(5);

    harness.run(&[]);
    assert_eq!(harness.replicas("shop_worker"), 2);
    harness.assert_no_violations();
}

#[test]
fn max_is_never_passed() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 95.0)],
        json!({"shop_api": {"max": 3}}),
    );

    for _ in 0..3 {
        harness.run(&[]);
        harness.age_state(5);
    }

    assert_eq!(harness.replicas("shop_api"), 3);
}

#[test]
fn min_is_restored_and_kept() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "worker", 1, 1.0)],
        json!({"shop_worker": {"min": 2}}),
    );

    for _ in 0..3 {
        harness.run(&[]);
        harness.age_state(5);
    }

    assert_eq!(harness.replicas("shop_worker"), 2);
}

#[test]
fn services_left_alone_are_untouched() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![
            app("shop", "ignored", 1, 99.0),
            app("shop", "exposed", 1, 99.0).port(8080, 80),
            app("shop", "stopped", 1, 99.0).running(0).desired(0),
            app("shop", "disabled", 1, 99.0).enabled(false),
            ServiceSpec::new("shop", "db").service_type(ServiceType::Postgres),
        ],
        json!({
            "global": {"ignore_exposed": true},
            "shop_ignored": {"ignore": true},
            "shop_db": {"max": 5}
        }),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert_eq!(harness.write_calls(), 0, "{:?}", harness.procedures());
    for key in [
        "shop_ignored",
        "shop_exposed",
        "shop_stopped",
        "shop_disabled",
    ] {
        assert_eq!(harness.replicas(key), 1, "{key}");
    }
    let text = all_output(&output);
    assert!(text.contains("ignored by configuration"), "{text}");
    assert!(text.contains("has published ports"), "{text}");
    assert!(text.contains("stopped on purpose"), "{text}");
    assert!(text.contains("disabled in the panel"), "{text}");
    assert!(
        text.contains("configured service is a postgres service"),
        "{text}"
    );
}

#[test]
fn custom_start_command_survives_scaling() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0).command("node server.js --port 80")],
        json!({}),
    );

    harness.run(&[]);

    let service = harness.panel.service("shop_api").unwrap();
    assert_eq!(service.replicas(), Some(2));
    assert_eq!(service.command(), Some("node server.js --port 80"));
    let update = harness
        .panel
        .calls("services.app.updateDeploy")
        .pop()
        .expect("one updateDeploy call");
    assert_eq!(
        update.input["deploy"]["command"],
        "node server.js --port 80"
    );
    assert_eq!(update.input["deploy"]["replicas"], 2);
    harness.assert_no_violations();
}

#[test]
fn dry_run_writes_nothing() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );

    let output = harness.run(&["--dry-run"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("would scale to 2"),
        "{}",
        all_output(&output)
    );
    assert_eq!(harness.write_calls(), 0);
    assert_eq!(harness.replicas("shop_api"), 1);
    assert!(
        !harness.state_dir().exists(),
        "a dry run creates no state folder"
    );
}

#[test]
fn rpc_generation_scales() {
    let harness = Harness::new(
        PanelOptions::rpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert_eq!(harness.replicas("shop_api"), 2);
    harness.assert_no_violations();
}

#[test]
fn detected_generation_is_remembered() {
    let harness = Harness::new(
        PanelOptions::rpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({}),
    );

    harness.run(&[]);
    harness.panel.clear_requests();
    harness.run(&[]);

    let procedures = harness.procedures();
    assert_eq!(
        procedures.len(),
        3,
        "inventory, task counts and CPU only: {procedures:?}"
    );
    let paths: Vec<String> = harness
        .panel
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        paths.iter().all(|path| path.starts_with("/api/rpc/")),
        "{paths:?}"
    );
}

#[test]
fn forced_protocol_is_used() {
    let harness = Harness::new(
        PanelOptions::rpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({"api": {"protocol": "rpc"}}),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let paths: Vec<String> = harness
        .panel
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        paths.iter().all(|path| path.starts_with("/api/rpc/")),
        "{paths:?}"
    );
}

#[test]
fn env_overrides_file() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness
        .write_config(json!({"api": {"base_url": "http://127.0.0.1:9", "token": "wrong-token"}}));

    let output = harness
        .command(&[])
        .env("EASYPANEL_API_URL", harness.panel.url())
        .env("EASYPANEL_API_TOKEN", &harness.panel.options().token)
        .output()
        .unwrap();

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert_eq!(harness.replicas("shop_api"), 2);
}

#[test]
fn update_only_mode_never_deploys() {
    let mut options = PanelOptions::trpc();
    options.update_changes_desired = false;
    let harness = Harness::new(
        options,
        vec![app("shop", "api", 1, 90.0)],
        json!({"global": {"apply": "update"}}),
    );

    harness.run(&[]);

    assert_eq!(harness.replicas("shop_api"), 2);
    assert!(harness.panel.calls("services.app.deployService").is_empty());
}

#[test]
fn auto_mode_deploys_when_swarm_does_not_follow() {
    let mut options = PanelOptions::trpc();
    options.update_changes_desired = false;
    let harness = Harness::new(
        options,
        vec![app("shop", "api", 1, 90.0)],
        json!({"global": {"apply": "auto", "apply_wait_seconds": 1}}),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert_eq!(harness.panel.calls("services.app.deployService").len(), 1);
    assert_eq!(harness.panel.service("shop_api").unwrap().desired, 2);
}

#[test]
fn auto_mode_skips_deploy_when_swarm_follows() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );

    harness.run(&[]);

    assert!(harness.panel.calls("services.app.deployService").is_empty());
}

#[test]
fn deploy_mode_always_deploys() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"global": {"apply": "deploy"}}),
    );

    harness.run(&[]);

    assert_eq!(harness.panel.calls("services.app.deployService").len(), 1);
}

#[test]
fn count_changed_by_someone_else_is_not_overwritten() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 90.0)],
        json!({}),
    );
    // The inventory reports 2 replicas, but by the time the service is read again a user
    // has stored 5.
    harness.panel.set_fault(
        "services.app.inspectService",
        easypanel_standin::Fault::payload(json!({
            "projectName": "shop", "name": "api", "type": "app",
            "deploy": {"replicas": 5, "command": null, "zeroDowntime": true}
        })),
    );

    let output = harness.run(&[]);

    assert!(harness.panel.calls("services.app.updateDeploy").is_empty());
    assert!(
        all_output(&output).contains("by someone else"),
        "{}",
        all_output(&output)
    );
}

#[test]
fn state_file_records_scale_and_samples() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );

    harness.run(&[]);

    let state = harness.state("shop_api").expect("state file");
    assert_eq!(state["version"], 1);
    assert_eq!(state["last_scale"]["from"], 1);
    assert_eq!(state["last_scale"]["to"], 2);
    assert_eq!(state["last_scale"]["direction"], "up");
    assert_eq!(state["samples"].as_array().unwrap().len(), 1);
    assert_eq!(state["samples"][0]["cpu_percent"], 90.0);
}

#[test]
fn corrupt_state_file_is_set_aside_with_warning() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "worker", 3, 5.0)],
        json!({}),
    );
    std::fs::create_dir_all(harness.state_dir()).unwrap();
    std::fs::write(
        harness.state_dir().join("shop_worker.json"),
        "{\"version\": 1, \"serv",
    )
    .unwrap();

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("starts with no history"),
        "{}",
        all_output(&output)
    );
    let aside: Vec<_> = std::fs::read_dir(harness.state_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("shop_worker.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "the unreadable file is kept aside");
    assert_eq!(
        harness.replicas("shop_worker"),
        3,
        "no history, so no scale down"
    );
    assert_eq!(
        harness.state("shop_worker").unwrap()["samples"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn dry_run_leaves_corrupt_state_file_in_place() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "worker", 3, 5.0)],
        json!({}),
    );
    std::fs::create_dir_all(harness.state_dir()).unwrap();
    std::fs::write(harness.state_dir().join("shop_worker.json"), "garbage").unwrap();

    let output = harness.run(&["--dry-run"]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("leaves it in place"),
        "{}",
        all_output(&output)
    );
    assert_eq!(
        std::fs::read_to_string(harness.state_dir().join("shop_worker.json")).unwrap(),
        "garbage"
    );
}

#[test]
fn stale_remembered_generation_is_detected_again() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({}),
    );
    std::fs::create_dir_all(harness.state_dir()).unwrap();
    let remembered = json!({
        "version": 1,
        "base_url": harness.panel.url(),
        "generation": "rpc",
        "monitor_router": "monitorOld",
        "host_cores": 4,
        "detected_at": "2024-01-15T10:00:00Z"
    });
    std::fs::write(
        harness.state_dir().join("panel.json"),
        remembered.to_string(),
    )
    .unwrap();

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let panel: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(harness.state_dir().join("panel.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(panel["generation"], "trpc");
    assert_eq!(panel["monitor_router"], "monitor");
    harness.assert_no_violations();
}

#[test]
fn debug_log_shows_policy_per_service() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({"shop_api": {"max": 4, "cooldown_up_minutes": 2}}),
    );

    let output = harness.run(&[]);

    let text = all_output(&output);
    let line = text
        .lines()
        .find(|line| line.contains("[shop_api] policy applied"))
        .unwrap_or_else(|| panic!("no policy line: {text}"));
    assert!(line.contains(" - DEBUG - "), "{line}");
    assert!(line.contains("max_replicas=4"), "{line}");
    assert!(line.contains("cooldown_up_seconds=120"), "{line}");
    assert!(line.contains("cooldown_down_seconds=300"), "{line}");
}

#[test]
fn debug_write_requests_name_their_service() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0), app("shop", "web", 1, 90.0)],
        json!({}),
    );

    let output = harness.run(&[]);

    let text = all_output(&output);
    for key in ["shop_api", "shop_web"] {
        assert!(
            text.lines()
                .any(|line| line.contains(&format!("[{key}] API request"))
                    && line.contains("updateDeploy")),
            "the updateDeploy request line of {key} names it: {text}"
        );
    }
}

#[test]
fn dry_run_counts_would_scale_apart() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );

    let output = harness.run(&["--dry-run"]);

    let text = all_output(&output);
    let summary = text
        .lines()
        .find(|line| line.contains("run finished"))
        .unwrap_or_else(|| panic!("no summary: {text}"));
    assert!(summary.contains(" scaled=0 "), "{summary}");
    assert!(summary.contains(" would_scale=1 "), "{summary}");
}

#[test]
fn forced_wrong_protocol_points_at_setting() {
    let harness = Harness::new(
        PanelOptions::rpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"api": {"protocol": "trpc"}}),
    );

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 2, "{}", all_output(&output));
    assert!(
        all_output(&output).contains("set api.protocol to \"auto\""),
        "{}",
        all_output(&output)
    );
}
