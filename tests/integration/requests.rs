//! Exact request counts of a run. The counts are deterministic, so each test states the
//! formula it checks:
//!
//! - a run with the protocol remembered makes 3 requests to observe: the inventory, the
//!   Swarm task counts and the CPU table;
//! - each service it scales adds 2 (read the service again, store the new count), and the
//!   run adds 1 replica-state read, shared by every service it stored, when Swarm follows;
//! - a first run also reads `getSystemStats` once, for the host's core count, and on an RPC
//!   panel it first requests the inventory over tRPC and receives a 404.

use easypanel_standin::{MonitorRouter, PanelOptions, ServiceSpec};
use serde_json::json;

use crate::harness::{all_output, app, exit_code, Harness};

/// `count` app services at 50 percent CPU on 2 replicas: between the thresholds, so no run
/// ever scales them.
fn steady_services(count: usize) -> Vec<ServiceSpec> {
    (0..count)
        .map(|index| app("shop", &format!("steady-{index}"), 2, 50.0))
        .collect()
}

/// `count` app services at 90 percent CPU on 1 replica: each scales up on every run past
/// its cooldown.
fn hot_services(count: usize) -> Vec<ServiceSpec> {
    (0..count)
        .map(|index| app("shop", &format!("hot-{index}"), 1, 90.0))
        .collect()
}

/// Runs once to detect the panel, moves the state five minutes back and clears the
/// recorded requests, so the next run is a steady-state cron run.
fn after_first_run(harness: &Harness) {
    let output = harness.run(&[]);
    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    harness.age_state(5);
    harness.panel.clear_requests();
}

/// Runs once, checks that it completed, and returns the paths the panel received, in the
/// order they arrived.
fn run_and_list_paths(harness: &Harness) -> Vec<String> {
    let output = harness.run(&[]);
    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let requests = harness.panel.request_count();
    assert!(
        all_output(&output).contains(&format!("api_requests={requests}")),
        "the summary line reports the {requests} requests the panel received: {}",
        all_output(&output)
    );
    harness.assert_no_violations();
    harness
        .panel
        .requests()
        .into_iter()
        .map(|request| request.path)
        .collect()
}

/// Returns `paths` sorted: requests sent together may arrive in either order.
fn sorted(mut paths: Vec<String>) -> Vec<String> {
    paths.sort();
    paths
}

fn assert_steady_run_costs_three_requests(services: usize) {
    let harness = Harness::new(PanelOptions::trpc(), steady_services(services), json!({}));
    after_first_run(&harness);

    let paths = run_and_list_paths(&harness);

    assert_eq!(
        sorted(paths),
        [
            "/api/trpc/monitor.getDockerTaskStats",
            "/api/trpc/monitor.getMonitorTableData",
            "/api/trpc/projects.listProjectsAndServices",
        ]
    );
}

#[test]
fn steady_run_on_10_services_makes_3_requests() {
    assert_steady_run_costs_three_requests(10);
}

#[test]
fn steady_run_on_200_services_makes_3_requests() {
    assert_steady_run_costs_three_requests(200);
}

#[test]
fn steady_run_on_rpc_panel_makes_3_requests() {
    let harness = Harness::new(PanelOptions::rpc(), steady_services(10), json!({}));
    after_first_run(&harness);

    let paths = run_and_list_paths(&harness);

    assert_eq!(
        sorted(paths),
        [
            "/api/rpc/monitorOld/getDockerTaskStats",
            "/api/rpc/monitorOld/getMonitorTableData",
            "/api/rpc/projects/listProjectsAndServices",
        ]
    );
}

/// Checks 3 + 2k + 1 for a steady-state run that scales `hot` of `hot + 10` services.
fn assert_scaling_run_cost(hot: usize) {
    let mut services = steady_services(10);
    services.extend(hot_services(hot));
    let harness = Harness::new(PanelOptions::trpc(), services, json!({}));
    after_first_run(&harness);

    let paths = run_and_list_paths(&harness);

    let count = |suffix: &str| paths.iter().filter(|path| path.ends_with(suffix)).count();
    assert_eq!(paths.len(), 3 + 2 * hot + 1, "{paths:?}");
    assert_eq!(
        count("inspectService"),
        hot,
        "one re-read per scaled service"
    );
    assert_eq!(count("updateDeploy"), hot, "one write per scaled service");
    assert_eq!(
        count("getDockerTaskStats"),
        2,
        "observe, then one shared check"
    );
    assert_eq!(
        count("deployService"),
        0,
        "Swarm followed, so nothing is deployed"
    );
    for index in 0..hot {
        assert_eq!(harness.replicas(&format!("shop_hot-{index}")), 3);
    }
}

#[test]
fn scaling_one_service_adds_3_requests() {
    assert_scaling_run_cost(1);
}

#[test]
fn scaling_three_services_adds_7_requests() {
    assert_scaling_run_cost(3);
}

#[test]
fn swarm_check_shared_beyond_concurrency() {
    // api.max_concurrency is 8 by default; 12 writes go out in more than one batch, and
    // still share one replica-state check.
    assert_scaling_run_cost(12);
}

#[test]
fn first_trpc_run_adds_system_stats() {
    let harness = Harness::new(PanelOptions::trpc(), steady_services(10), json!({}));

    let paths = run_and_list_paths(&harness);

    // No monitor router is known yet. The task-count call finds it and the CPU call
    // follows, so the order is fixed. The core count is read after both.
    assert_eq!(
        paths,
        [
            "/api/trpc/projects.listProjectsAndServices",
            "/api/trpc/monitor.getDockerTaskStats",
            "/api/trpc/monitor.getMonitorTableData",
            "/api/trpc/monitor.getSystemStats",
        ]
    );
}

#[test]
fn first_rpc_run_adds_404_probe() {
    let harness = Harness::new(PanelOptions::rpc(), steady_services(10), json!({}));

    let paths = run_and_list_paths(&harness);

    assert_eq!(
        paths,
        [
            "/api/trpc/projects.listProjectsAndServices",
            "/api/rpc/projects/listProjectsAndServices",
            "/api/rpc/monitorOld/getDockerTaskStats",
            "/api/rpc/monitorOld/getMonitorTableData",
            "/api/rpc/monitorOld/getSystemStats",
        ]
    );
    let statuses: Vec<Option<u16>> = harness
        .panel
        .requests()
        .into_iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses[0], Some(404));
}

#[test]
fn first_run_on_monitor_old_adds_404_probe() {
    // Panels of version 2.30 speak tRPC but moved the monitor procedures to monitorOld.
    let mut options = PanelOptions::trpc();
    options.monitor_router = Some(MonitorRouter::MonitorOld);
    let harness = Harness::new(options, steady_services(10), json!({}));

    let paths = run_and_list_paths(&harness);

    assert_eq!(
        paths,
        [
            "/api/trpc/projects.listProjectsAndServices",
            "/api/trpc/monitor.getDockerTaskStats",
            "/api/trpc/monitorOld.getDockerTaskStats",
            "/api/trpc/monitorOld.getMonitorTableData",
            "/api/trpc/monitorOld.getSystemStats",
        ]
    );
}

#[test]
fn steady_run_with_fixed_protocol_makes_3_requests() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        steady_services(10),
        json!({"api": {"protocol": "trpc"}}),
    );
    after_first_run(&harness);

    let paths = run_and_list_paths(&harness);

    assert_eq!(
        sorted(paths),
        [
            "/api/trpc/monitor.getDockerTaskStats",
            "/api/trpc/monitor.getMonitorTableData",
            "/api/trpc/projects.listProjectsAndServices",
        ]
    );
}

#[test]
fn steady_run_observes_in_one_round_trip() {
    let mut options = PanelOptions::trpc();
    options.latency = std::time::Duration::from_millis(300);
    let harness = Harness::new(options, steady_services(5), json!({}));
    after_first_run(&harness);

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let arrivals: Vec<std::time::Instant> = harness
        .panel
        .requests()
        .iter()
        .map(|request| request.received_at)
        .collect();
    assert_eq!(arrivals.len(), 3, "{:?}", harness.procedures());
    let first = *arrivals.iter().min().unwrap();
    let last = *arrivals.iter().max().unwrap();
    assert!(
        last - first < std::time::Duration::from_millis(150),
        "the inventory, task counts and CPU go out together, not one 300 ms answer after another: {:?}",
        last - first
    );
}

#[test]
fn stale_remembered_router_is_found_again() {
    let harness = Harness::new(PanelOptions::trpc(), steady_services(3), json!({}));
    after_first_run(&harness);
    let panel_file = harness.state_dir().join("panel.json");
    let mut memory: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&panel_file).unwrap()).unwrap();
    memory["monitor_router"] = json!("monitorOld");
    std::fs::write(&panel_file, memory.to_string()).unwrap();
    harness.panel.clear_requests();

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let memory: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&panel_file).unwrap()).unwrap();
    assert_eq!(memory["monitor_router"], "monitor");
    let procedures = harness.procedures();
    assert!(
        procedures.contains(&"monitor.getMonitorTableData".to_owned()),
        "{procedures:?}"
    );
}
