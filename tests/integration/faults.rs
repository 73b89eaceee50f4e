//! The fault table: each test injects one fault into the stand-in panel's responses and checks
//! what the run does about it. Every test also checks that the state files left behind are
//! complete and that nothing was scaled on bad data.
//!
//! | fault | outcome |
//! |---|---|
//! | panel unreachable (connection refused, TLS failure) | exit 2, the message names the cause |
//! | token refused (401, 403) | exit 2 after exactly one request |
//! | inventory 5xx, timeout or dropped connection | 3 tries with backoff, then exit 2 |
//! | replica-state or CPU call fails | the services lacking data are held, exit 1 |
//! | malformed, wrongly wrapped or mistyped data | that item is held, one log line names the endpoint |
//! | CPU negative, not a number or above 100 per host core | missing data |
//! | response over 64 MiB | rejected, exit 2 |
//! | `updateDeploy` fails | that service failed, its state records no scale, exit 1 |
//! | `deployService` fails or outlasts the timeout | sent once; a slow one is not a failure |
//! | slow panel past `global.max_run_seconds` | the services not reached fail, exit 1 |

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use autoscaler::state::{PanelMemory, ServiceState, STATE_VERSION};
use easypanel_standin::{Fault, PanelOptions, ServiceSpec};
use serde_json::{json, Value};

use crate::harness::{all_output, app, exit_code, Harness};

const INVENTORY: &str = "projects.listProjectsAndServices";
const TASK_COUNTS: &str = "monitor.getDockerTaskStats";
const CPU_TABLE: &str = "monitor.getMonitorTableData";
const SERVICE_STATS: &str = "monitor.getServiceStats";
const UPDATE: &str = "services.app.updateDeploy";
const DEPLOY: &str = "services.app.deployService";

/// The files of a state folder after a run, sorted by kind.
#[derive(Debug, Default)]
pub(crate) struct StateFolder {
    /// Service state files and `panel.json`, each parsed and checked.
    pub checked: usize,
    /// Temporary files of an atomic write (`.<file>.<pid>.<n>.tmp`).
    pub temporary: Vec<String>,
    /// Write probes of `StateStore::prepare` (`.write-check-<pid>.tmp`).
    pub write_checks: Vec<String>,
    /// Files set aside as unreadable (`<file>.corrupt-<time>`).
    pub corrupt: Vec<String>,
}

/// Reads every file in `dir` and panics unless each state file is complete: `panel.json`
/// must parse as panel memory and every `<service>.json` as that service's state in the
/// current format. Temporary, probe and set-aside files are listed, not parsed.
pub(crate) fn inspect_state_folder(dir: &Path) -> StateFolder {
    let mut folder = StateFolder::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return folder;
    };
    for entry in entries {
        let entry = entry.expect("state folder entry");
        let name = entry.file_name().into_string().expect("UTF-8 file name");
        let path = entry.path();
        if name == ".lock" {
            continue;
        }
        if name.contains(".corrupt-") {
            folder.corrupt.push(name);
        } else if name.starts_with(".write-check-") {
            folder.write_checks.push(name);
        } else if name.starts_with('.') && name.ends_with(".tmp") {
            folder.temporary.push(name);
        } else if name == "panel.json" {
            let bytes = fs::read(&path).expect("read panel.json");
            let memory: PanelMemory = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                panic!(
                    "panel.json is not valid panel memory ({error}): {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert_eq!(memory.version, STATE_VERSION, "panel.json format version");
            folder.checked += 1;
        } else if let Some(key) = name.strip_suffix(".json") {
            let bytes = fs::read(&path).expect("read state file");
            let state: ServiceState = serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                panic!(
                    "{name} is not a valid state file ({error}): {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            assert_eq!(state.version, STATE_VERSION, "{name}: format version");
            assert_eq!(state.service, key, "{name}: service name");
            folder.checked += 1;
        } else {
            panic!("unexpected file in the state folder: {name}");
        }
    }
    folder
}

/// Checks the state folder after a run that was not killed: every file complete, nothing
/// set aside, no temporary file left.
fn assert_state_files_complete(harness: &Harness) {
    let folder = inspect_state_folder(&harness.state_dir());

    assert!(folder.corrupt.is_empty(), "set aside: {:?}", folder.corrupt);
    assert!(
        folder.temporary.is_empty(),
        "temporary files left: {:?}",
        folder.temporary
    );
    assert!(
        folder.write_checks.is_empty(),
        "write probes left: {:?}",
        folder.write_checks
    );
}

/// Asserts that the run left no service state file: nothing about any service was recorded.
fn assert_no_service_state(harness: &Harness) {
    let folder = inspect_state_folder(&harness.state_dir());
    let names: Vec<String> = fs::read_dir(harness.state_dir())
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .filter(|name| name != ".lock")
                .collect()
        })
        .unwrap_or_default();

    assert_eq!(folder.checked, 0, "state files written: {names:?}");
    assert!(
        names.is_empty(),
        "files left in the state folder: {names:?}"
    );
}

/// Returns the service keys (`project_service`) that `updateDeploy` was called for.
fn updated_services(harness: &Harness) -> BTreeSet<String> {
    harness
        .panel
        .calls(UPDATE)
        .into_iter()
        .map(|call| {
            format!(
                "{}_{}",
                call.input["projectName"].as_str().unwrap_or_default(),
                call.input["serviceName"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// Asserts that the panel received no write at all.
fn assert_nothing_written(harness: &Harness) {
    assert_eq!(harness.write_calls(), 0, "{:?}", harness.procedures());
}

/// Returns the WARNING, ERROR and CRITICAL lines of the text log that contain every one of
/// `needles`, leaving out the warnings of single retries (see [`retry_lines`]).
fn problem_lines<'a>(text: &'a str, needles: &[&str]) -> Vec<&'a str> {
    text.lines()
        .filter(|line| {
            line.contains("- WARNING -")
                || line.contains("- ERROR -")
                || line.contains("- CRITICAL -")
        })
        .filter(|line| !line.contains("request failed; retrying"))
        .filter(|line| needles.iter().all(|needle| line.contains(needle)))
        .collect()
}

/// Returns the warnings logged for each retry of a request to an endpoint containing
/// `endpoint`.
fn retry_lines<'a>(text: &'a str, endpoint: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| line.contains("- WARNING - request failed; retrying"))
        .filter(|line| line.contains(endpoint))
        .collect()
}

/// Asserts the run exited with `code`, printing its output otherwise, and that it did not
/// panic.
fn assert_exit(output: &Output, code: i32) {
    let text = all_output(output);

    assert!(!text.contains("panicked"), "the run panicked: {text}");
    assert_eq!(exit_code(output), code, "{text}");
}

/// Returns a loopback URL on which nothing listens.
fn closed_port_url(scheme: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("{scheme}://{address}")
}

/// Returns the gap between the arrivals of consecutive calls to `procedure`.
fn arrival_gaps(harness: &Harness, procedure: &str) -> Vec<Duration> {
    let arrivals: Vec<Instant> = harness
        .panel
        .calls(procedure)
        .into_iter()
        .map(|call| call.received_at)
        .collect();
    arrivals
        .windows(2)
        .map(|pair| pair[1].duration_since(pair[0]))
        .collect()
}

/// Returns an inventory row of an app service as the panel stores it, with the given `deploy`.
fn inventory_row(project: &str, name: &str, deploy: Value) -> Value {
    json!({
        "projectName": project,
        "name": name,
        "type": "app",
        "enabled": true,
        "deploy": deploy,
        "ports": []
    })
}

/// Returns a `deploy` object with every field the panel stores, at `replicas`.
fn deploy_object(replicas: Value) -> Value {
    json!({
        "replicas": replicas,
        "command": null,
        "zeroDowntime": true,
        "capAdd": [],
        "capDrop": [],
        "sysctls": {},
        "groups": [],
        "tiniInit": false
    })
}

/// Returns a row of the per-container CPU table with `stats` as given.
fn container_row(project: &str, name: &str, stats: Value) -> Value {
    json!({
        "id": format!("{project}-{name}-1"),
        "projectName": project,
        "serviceName": name,
        "containerName": format!("{project}_{name}.1.abcdefghijklmnopqrstuvwxy"),
        "stats": stats
    })
}

fn cpu_stats(percent: Value) -> Value {
    json!({"cpu": {"percent": percent}, "memory": {"usage": 1000, "percent": 1.0}, "network": {"in": 1, "out": 1}})
}

// The panel cannot be reached or rejects the token.

#[test]
fn refused_connection_exits_2_naming_cause() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.write_config(json!({"api": {"base_url": closed_port_url("http")}}));

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(text.contains("could not reach the panel"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection refused"),
        "{text}"
    );
    assert_no_service_state(&harness);
}

/// Points the config at the stand-in panel over `https://`, which it does not serve.
fn harness_with_https_to_plain_http() -> Harness {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    let url = harness.panel.url().replace("http://", "https://");
    harness.write_config(json!({"api": {"base_url": url}}));
    harness
}

#[test]
fn tls_failure_exits_2() {
    let harness = harness_with_https_to_plain_http();

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(text.contains("could not reach the panel"), "{text}");
    assert_eq!(
        harness.panel.request_count(),
        0,
        "no HTTP request got through"
    );
    assert_no_service_state(&harness);
}

#[test]
fn tls_failure_names_tls_and_is_not_retried() {
    let harness = harness_with_https_to_plain_http();

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(
        problem_lines(&text, &["could not reach the panel"])
            .iter()
            .any(|line| line.contains("TLS")),
        "the message names TLS as the cause: {text}"
    );
    assert!(
        retry_lines(&text, INVENTORY).is_empty(),
        "a TLS failure does not heal within a run: {text}"
    );
}

#[test]
fn token_rejected_with_401_is_not_retried() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.write_config(json!({"api": {"token": "not-the-token"}}));

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(text.contains("rejected the API token (HTTP 401"), "{text}");
    assert!(text.contains("Settings > Users"), "{text}");
    assert_eq!(harness.panel.request_count(), 1);
    assert_no_service_state(&harness);
}

#[test]
fn token_rejected_with_403_is_not_retried() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault(INVENTORY, Fault::status(403, "Forbidden"));

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(text.contains("rejected the API token (HTTP 403"), "{text}");
    assert_eq!(harness.panel.request_count(), 1);
    assert_no_service_state(&harness);
}

// Transient failures of the inventory are retried, at most 3 tries in all.

#[test]
fn inventory_5xx_twice_then_ok_completes() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault(INVENTORY, Fault::status(502, "Bad Gateway").times(2));

    let output = harness.run(&[]);

    assert_exit(&output, 0);
    assert_eq!(harness.panel.calls(INVENTORY).len(), 3);
    let gaps = arrival_gaps(&harness, INVENTORY);
    assert!(
        gaps[0] >= Duration::from_millis(250),
        "first backoff {gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_millis(500),
        "second backoff doubles: {gaps:?}"
    );
    assert_eq!(
        retry_lines(&all_output(&output), INVENTORY).len(),
        2,
        "each retry is logged"
    );
    assert_eq!(harness.replicas("shop_api"), 2);
    assert_state_files_complete(&harness);
}

#[test]
fn inventory_always_5xx_exits_2_after_3_tries() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault(INVENTORY, Fault::status(500, "Internal Server Error"));

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(text.contains("could not read the inventory"), "{text}");
    assert!(text.contains("HTTP 500"), "{text}");
    assert_eq!(harness.panel.request_count(), 3);
    assert_no_service_state(&harness);
}

#[test]
fn inventory_timeout_twice_then_ok_completes() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"api": {"timeout_seconds": 1}}),
    );
    harness
        .panel
        .set_fault(INVENTORY, Fault::delay(Duration::from_secs(3)).times(2));

    let output = harness.run(&[]);

    assert_exit(&output, 0);
    assert_eq!(harness.panel.calls(INVENTORY).len(), 3);
    let text = all_output(&output);
    let retries = retry_lines(&text, INVENTORY);
    assert_eq!(retries.len(), 2, "{text}");
    assert!(
        retries
            .iter()
            .all(|line| line.contains("timed out after 1s")),
        "{retries:?}"
    );
    assert_eq!(harness.replicas("shop_api"), 2);
    assert_state_files_complete(&harness);
}

#[test]
fn inventory_timeout_exits_2_after_3_tries() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"api": {"timeout_seconds": 1}}),
    );
    harness
        .panel
        .set_fault(INVENTORY, Fault::delay(Duration::from_secs(5)));
    let started = Instant::now();

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(text.contains("timed out after 1s"), "{text}");
    assert_eq!(harness.panel.request_count(), 3);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "three 1 s tries and two backoffs, not three 5 s waits: {:?}",
        started.elapsed()
    );
    assert_no_service_state(&harness);
}

#[test]
fn inventory_dropped_connections_exit_2_after_3_tries() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.panel.set_fault(INVENTORY, Fault::drop_connection());

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    assert!(
        all_output(&output).contains("could not read the inventory"),
        "{}",
        all_output(&output)
    );
    assert_eq!(harness.panel.request_count(), 3);
    assert_no_service_state(&harness);
}

#[test]
fn response_over_64_mib_is_rejected() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault(INVENTORY, Fault::huge_body(65 << 20));

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(
        text.contains("returned more than 67108864 bytes; the response was rejected"),
        "{text}"
    );
    assert_eq!(
        harness.panel.request_count(),
        1,
        "a rejected size is not retried"
    );
    assert_no_service_state(&harness);
}

// The inventory arrives but cannot be read.

#[test]
fn malformed_inventory_exits_2_naming_endpoint() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.panel.set_fault(INVENTORY, Fault::malformed_json());

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert_eq!(
        problem_lines(&text, &["listProjectsAndServices", "invalid response"]).len(),
        1,
        "{text}"
    );
    assert_nothing_written(&harness);
    assert_no_service_state(&harness);
}

#[test]
fn wrongly_wrapped_inventory_exits_2_naming_endpoint() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.panel.set_fault(INVENTORY, Fault::wrong_envelope());

    let output = harness.run(&[]);

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert_eq!(
        problem_lines(&text, &["listProjectsAndServices", "invalid response"]).len(),
        1,
        "{text}"
    );
    assert_nothing_written(&harness);
    assert_no_service_state(&harness);
}

/// Starts two hot services and makes the inventory send the first one without its name.
fn harness_with_nameless_row() -> Harness {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0), app("shop", "web", 1, 90.0)],
        json!({}),
    );
    let mut nameless = inventory_row("shop", "api", deploy_object(json!(1)));
    nameless.as_object_mut().unwrap().remove("name");
    harness.panel.set_fault(
        INVENTORY,
        Fault::payload(json!({
            "projects": [{"name": "shop"}],
            "services": [nameless, inventory_row("shop", "web", deploy_object(json!(1)))]
        })),
    );
    harness
}

#[test]
fn inventory_row_without_name_is_left_out() {
    let harness = harness_with_nameless_row();

    let output = harness.run(&[]);

    let text = all_output(&output);
    assert!(!text.contains("panicked"), "{text}");
    assert_eq!(
        problem_lines(&text, &["listProjectsAndServices", "services[0]", "name"]).len(),
        1,
        "{text}"
    );
    assert_eq!(
        harness.replicas("shop_api"),
        1,
        "the unreadable row is not scaled"
    );
    assert_eq!(
        harness.replicas("shop_web"),
        2,
        "the other service still scales"
    );
    assert_state_files_complete(&harness);
}

#[test]
fn inventory_row_without_name_exits_1() {
    let harness = harness_with_nameless_row();

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    assert!(
        all_output(&output).contains("missing_data=1"),
        "{}",
        all_output(&output)
    );
}

/// Starts three hot services and makes the inventory send the replica count of the first
/// as the string "1" and of the second as null.
fn harness_with_bad_replicas() -> Harness {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![
            app("shop", "api", 1, 90.0),
            app("shop", "web", 1, 90.0),
            app("shop", "worker", 1, 90.0),
        ],
        json!({}),
    );
    harness.panel.set_fault(
        INVENTORY,
        Fault::payload(json!({
            "projects": [{"name": "shop"}],
            "services": [
                inventory_row("shop", "api", deploy_object(json!("1"))),
                inventory_row("shop", "web", deploy_object(Value::Null)),
                inventory_row("shop", "worker", deploy_object(json!(1)))
            ]
        })),
    );

    harness
}

#[test]
fn mistyped_or_null_replicas_are_held() {
    let harness = harness_with_bad_replicas();

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert_eq!(
        updated_services(&harness),
        BTreeSet::from(["shop_worker".to_owned()]),
        "only the service with a readable count is scaled"
    );
    assert_eq!(text.matches("replica count unknown").count(), 2, "{text}");
    for key in ["shop_api", "shop_web"] {
        assert_eq!(harness.replicas(key), 1, "{key}");
    }
    assert_state_files_complete(&harness);
}

#[test]
fn mistyped_or_null_replicas_are_logged_with_endpoint() {
    let harness = harness_with_bad_replicas();

    let output = harness.run(&[]);

    let text = all_output(&output);
    for key in ["shop_api", "shop_web"] {
        assert_eq!(
            problem_lines(&text, &["listProjectsAndServices", key]).len(),
            1,
            "one warning names the endpoint and {key}: {text}"
        );
    }
}

// Replica state and CPU cannot be read, in whole or for some services.

#[test]
fn failed_task_counts_hold_every_service() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0), app("shop", "web", 3, 5.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault(TASK_COUNTS, Fault::status(500, "docker socket timeout"));

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert_eq!(text.matches("task state unknown").count(), 2, "{text}");
    assert_eq!(
        harness.panel.calls(TASK_COUNTS).len(),
        3,
        "retried, bounded"
    );
    assert_eq!(
        problem_lines(
            &text,
            &["could not read the replica state", "getDockerTaskStats"]
        )
        .len(),
        1,
        "{text}"
    );
    assert_nothing_written(&harness);
    assert_state_files_complete(&harness);
}

#[test]
fn failed_cpu_reads_hold_every_service() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0), app("shop", "web", 3, 5.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault(CPU_TABLE, Fault::status(500, "docker socket timeout"));
    harness
        .panel
        .set_fault(SERVICE_STATS, Fault::status(500, "docker socket timeout"));

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert_eq!(text.matches("CPU unknown").count(), 2, "{text}");
    assert_eq!(
        problem_lines(&text, &["getMonitorTableData"]).len(),
        1,
        "{text}"
    );
    for key in ["shop_api", "shop_web"] {
        assert_eq!(
            problem_lines(&text, &["getServiceStats", key]).len(),
            1,
            "{text}"
        );
    }
    assert_nothing_written(&harness);
    assert_state_files_complete(&harness);
}

#[test]
fn malformed_task_counts_hold_every_service() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness
        .panel
        .set_fault(TASK_COUNTS, Fault::malformed_json());

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert!(text.contains("task state unknown"), "{text}");
    assert_eq!(
        problem_lines(&text, &["getDockerTaskStats", "invalid response"]).len(),
        1,
        "{text}"
    );
    assert_eq!(
        harness.panel.calls(TASK_COUNTS).len(),
        1,
        "invalid data is not retried"
    );
    assert_nothing_written(&harness);
    assert_state_files_complete(&harness);
}

#[test]
fn wrongly_wrapped_cpu_data_holds_service() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.panel.set_fault(CPU_TABLE, Fault::wrong_envelope());
    harness
        .panel
        .set_fault(SERVICE_STATS, Fault::wrong_envelope());

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert!(text.contains("CPU unknown"), "{text}");
    assert_eq!(
        problem_lines(&text, &["getMonitorTableData", "invalid response"]).len(),
        1,
        "{text}"
    );
    assert_eq!(
        problem_lines(&text, &["getServiceStats", "shop_api", "invalid response"]).len(),
        1,
        "{text}"
    );
    assert_nothing_written(&harness);
    assert_state_files_complete(&harness);
}

#[test]
fn null_or_mistyped_task_counts_hold_those_services() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![
            app("shop", "api", 1, 90.0),
            app("shop", "web", 1, 90.0),
            app("shop", "worker", 1, 90.0),
        ],
        json!({}),
    );
    // Only the first read is faulty, so the check that Swarm took the new count is not.
    harness.panel.set_fault(
        TASK_COUNTS,
        Fault::payload(json!({
            "shop_api": {"actual": null, "desired": 1},
            "shop_web": {"actual": "1", "desired": 1},
            "shop_worker": {"actual": 1, "desired": 1}
        }))
        .times(1),
    );

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert_eq!(text.matches("task state unknown").count(), 2, "{text}");
    assert_eq!(
        problem_lines(
            &text,
            &["getDockerTaskStats", "2 task-count entries were invalid"]
        )
        .len(),
        1,
        "{text}"
    );
    assert_eq!(
        updated_services(&harness),
        BTreeSet::from(["shop_worker".to_owned()])
    );
    assert_state_files_complete(&harness);
}

#[test]
fn null_or_missing_container_cpu_holds_those_services() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![
            app("shop", "api", 1, 90.0),
            app("shop", "web", 1, 90.0),
            app("shop", "worker", 1, 90.0),
        ],
        json!({}),
    );
    let mut without_cpu = cpu_stats(json!(0));
    without_cpu.as_object_mut().unwrap().remove("cpu");
    harness.panel.set_fault(
        CPU_TABLE,
        Fault::payload(json!([
            container_row("shop", "api", cpu_stats(Value::Null)),
            container_row("shop", "web", without_cpu),
            container_row("shop", "worker", cpu_stats(json!(90)))
        ])),
    );
    harness
        .panel
        .set_fault(SERVICE_STATS, Fault::payload(cpu_stats(Value::Null)));

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert_eq!(text.matches("CPU unknown").count(), 2, "{text}");
    assert_eq!(
        problem_lines(&text, &["getMonitorTableData", "2 container CPU figures"]).len(),
        1,
        "{text}"
    );
    for key in ["shop_api", "shop_web"] {
        assert_eq!(
            problem_lines(&text, &["getServiceStats", key]).len(),
            1,
            "{text}"
        );
    }
    assert_eq!(
        updated_services(&harness),
        BTreeSet::from(["shop_worker".to_owned()])
    );
    assert_state_files_complete(&harness);
}

// Implausible CPU figures count as missing data.

/// Runs once against services at `cpu` percent per container and checks that each was
/// held for missing CPU data and nothing was written.
fn assert_cpu_figure_is_missing_data(cpu: f64) {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, cpu), app("shop", "web", 2, cpu)],
        json!({}),
    );

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert_eq!(text.matches("CPU unknown").count(), 2, "{text}");
    assert_nothing_written(&harness);
    assert_eq!(harness.replicas("shop_api"), 1);
    assert_eq!(harness.replicas("shop_web"), 2);
    assert_state_files_complete(&harness);
    for key in ["shop_api", "shop_web"] {
        let samples = harness.state(key).map(|state| state["samples"].clone());
        assert!(
            samples.is_none() || samples == Some(json!([])),
            "no sample of an implausible figure is kept: {samples:?}"
        );
    }
}

#[test]
fn negative_cpu_is_missing_data() {
    assert_cpu_figure_is_missing_data(-5.0);
}

#[test]
fn cpu_above_host_cores_is_missing_data() {
    // The stand-in's host has 4 cores, so no figure above 400 is real.
    assert_cpu_figure_is_missing_data(1000.0);
}

#[test]
fn cpu_above_host_cores_later_is_missing_data() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({}),
    );
    let first = harness.run(&[]);
    assert_exit(&first, 0);
    harness.age_state(5);
    harness.panel.set_cpu("shop_api", vec![1000.0]);

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    assert!(
        all_output(&output).contains("CPU unknown"),
        "{}",
        all_output(&output)
    );
    assert_nothing_written(&harness);
    assert_state_files_complete(&harness);
}

#[test]
fn nan_string_cpu_is_missing_data() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    harness.panel.set_fault(
        CPU_TABLE,
        Fault::payload(json!([container_row(
            "shop",
            "api",
            cpu_stats(json!("NaN"))
        )])),
    );
    harness
        .panel
        .set_fault(SERVICE_STATS, Fault::payload(cpu_stats(json!("NaN"))));

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    assert!(
        all_output(&output).contains("CPU unknown"),
        "{}",
        all_output(&output)
    );
    assert_nothing_written(&harness);
    assert_state_files_complete(&harness);
}

// Writes to the panel fail or are slow.

#[test]
fn failed_update_fails_only_that_service() {
    // One write at a time, so the first service's three tries take the three faults.
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0), app("shop", "web", 1, 90.0)],
        json!({"api": {"max_concurrency": 1}}),
    );
    harness
        .panel
        .set_fault(UPDATE, Fault::status(500, "Internal Server Error").times(3));

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert_eq!(
        harness.panel.calls(UPDATE).len(),
        4,
        "3 tries for api, 1 for web"
    );
    assert_eq!(harness.replicas("shop_api"), 1);
    assert_eq!(
        harness.replicas("shop_web"),
        2,
        "the other service still scales"
    );
    assert_eq!(
        problem_lines(&text, &["shop_api", "scaling failed"]).len(),
        1,
        "{text}"
    );
    assert_eq!(
        harness.state("shop_api").unwrap()["last_scale"],
        Value::Null
    );
    assert_eq!(harness.state("shop_web").unwrap()["last_scale"]["to"], 2);
    assert_state_files_complete(&harness);
}

#[test]
fn failed_deployment_is_sent_once() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({"global": {"apply": "deploy"}}),
    );
    harness
        .panel
        .set_fault(DEPLOY, Fault::status(500, "Internal Server Error"));

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    let text = all_output(&output);
    assert_eq!(
        harness.panel.calls(DEPLOY).len(),
        1,
        "a deployment is never repeated"
    );
    assert_eq!(
        problem_lines(&text, &["shop_api", "deployment failed"]).len(),
        1,
        "{text}"
    );
    assert_state_files_complete(&harness);
}

#[test]
fn slow_deployment_is_still_running() {
    let mut options = PanelOptions::trpc();
    options.deploy_duration = Duration::from_secs(3);
    let harness = Harness::new(
        options,
        vec![app("shop", "api", 1, 90.0)],
        json!({"api": {"timeout_seconds": 1}, "global": {"apply": "deploy"}}),
    );

    let output = harness.run(&[]);

    assert_exit(&output, 0);
    let text = all_output(&output);
    assert!(text.contains("deployment still running after 1s"), "{text}");
    assert_eq!(
        harness.panel.calls(DEPLOY).len(),
        1,
        "a deployment is never repeated"
    );
    let state = harness.state("shop_api").expect("state file");
    assert_eq!(state["last_scale"]["from"], 1);
    assert_eq!(state["last_scale"]["to"], 2);
    assert_state_files_complete(&harness);
}

#[test]
fn slow_panel_past_run_budget_fails_the_rest() {
    const SERVICES: usize = 8;
    const BUDGET: Duration = Duration::from_millis(2500);
    let mut options = PanelOptions::trpc();
    options.latency = Duration::from_millis(300);
    let services: Vec<ServiceSpec> = (0..SERVICES)
        .map(|index| app("shop", &format!("hot-{index}"), 1, 90.0))
        .collect();
    let harness = Harness::new(
        options,
        services,
        json!({
            "api": {"max_concurrency": 1, "timeout_seconds": 1},
            "global": {"max_run_seconds": BUDGET.as_secs_f64(), "apply": "update"}
        }),
    );
    let started = Instant::now();

    let output = harness.run(&[]);

    let elapsed = started.elapsed();
    assert_exit(&output, 1);
    let text = all_output(&output);
    assert!(
        text.contains("was not sent") && text.contains("budget (global.max_run_seconds)"),
        "the services not reached fail with the budget as the reason: {text}"
    );
    assert!(
        elapsed < BUDGET + Duration::from_secs(2),
        "the run ends near its budget: {elapsed:?}"
    );
    let last_arrival = harness
        .panel
        .requests()
        .into_iter()
        .map(|request| request.received_at)
        .max()
        .unwrap();
    // The run's budget starts when the process does, a little after `started`.
    assert!(
        last_arrival.duration_since(started) < BUDGET + Duration::from_millis(500),
        "no request is sent after the budget is spent"
    );

    let updated = updated_services(&harness);
    assert!(
        updated.len() < SERVICES,
        "some services were not reached: {updated:?}"
    );
    let mut failed = 0;
    for index in 0..SERVICES {
        let key = format!("shop_hot-{index}");
        if updated.contains(&key) {
            continue;
        }
        failed += 1;
        assert_eq!(harness.replicas(&key), 1, "{key}");
        let last_scale = harness.state(&key).map(|state| state["last_scale"].clone());
        assert!(
            matches!(last_scale, None | Some(Value::Null)),
            "{key}: {last_scale:?}"
        );
    }
    assert!(
        text.contains(&format!("failed={failed}")),
        "every service not reached counts as failed: {text}"
    );
    assert_state_files_complete(&harness);
}

// One service's failure never stops the others.

#[test]
fn write_failures_never_stop_other_services() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![
            app("shop", "api", 1, 90.0),
            app("shop", "web", 1, 90.0),
            app("shop", "worker", 1, 90.0),
        ],
        json!({"api": {"max_concurrency": 1}, "global": {"apply": "deploy"}}),
    );
    // The first deployment fails; the other two must still be sent.
    harness
        .panel
        .set_fault(DEPLOY, Fault::status(500, "Internal Server Error").times(1));

    let output = harness.run(&[]);

    assert_exit(&output, 1);
    assert_eq!(harness.panel.calls(DEPLOY).len(), 3);
    for key in ["shop_api", "shop_web", "shop_worker"] {
        assert_eq!(harness.replicas(key), 2, "{key}");
    }
    assert!(
        all_output(&output).contains("failed=1"),
        "{}",
        all_output(&output)
    );
    assert_state_files_complete(&harness);
}

/// The binary runs in a network namespace of its own, where the only interface is a
/// loopback that is down: the name lookup fails on this machine and no query leaves it.
#[test]
fn dns_failure_exits_2() {
    let harness = Harness::new(PanelOptions::trpc(), vec![], json!({}));
    harness.write_config(json!({"api": {"base_url": "http://panel.invalid:3000"}}));
    let isolated = std::process::Command::new("unshare")
        .args(["--net", "true"])
        .status();
    if !isolated.is_ok_and(|status| status.success()) {
        eprintln!("skipped: `unshare --net` is not possible here (it needs root)");
        return;
    }

    let output = assert_cmd::Command::new("unshare")
        .arg("--net")
        .arg(assert_cmd::cargo::cargo_bin("autoscaler"))
        .arg("--config")
        .arg(&harness.config_path)
        .env_remove("EASYPANEL_API_URL")
        .env_remove("EASYPANEL_API_TOKEN")
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("run autoscaler in its own network namespace");

    assert_exit(&output, 2);
    let text = all_output(&output);
    assert!(
        problem_lines(&text, &["could not reach the panel"])
            .iter()
            .any(|line| line.contains("panel.invalid")),
        "the message names the panel that could not be reached: {text}"
    );
    assert!(
        retry_lines(&text, INVENTORY).is_empty(),
        "a failed lookup is not retried: {text}"
    );
    assert_no_service_state(&harness);
}
