//! Fault injection: each kind of fault, its limit, and whether the procedure ran.

mod common;

use std::time::{Duration, Instant};

use common::{call, payload, send};
use easypanel_standin::{demo_fleet, Fault, PanelOptions, StandIn};
use serde_json::json;

const TABLE: &str = "monitor.getMonitorTableData";

#[test]
fn status_fault_expires_after_count() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::status(500, "Service not found.").times(2));

    let first = call(&panel, TABLE, None);
    let second = call(&panel, TABLE, None);
    let third = call(&panel, TABLE, None);

    assert_eq!(first.status, 500);
    assert_eq!(
        first.json()["error"]["json"]["message"],
        json!("Service not found.")
    );
    assert_eq!(second.status, 500);
    assert_eq!(third.status, 200);
    assert!(panel.violations().is_empty());
}

#[test]
fn rpc_status_fault_body() {
    let panel = StandIn::start(PanelOptions::rpc(), demo_fleet());
    panel.set_fault("monitorOld.getDockerTaskStats", Fault::status(503, "busy"));

    let reply = call(&panel, "monitorOld.getDockerTaskStats", None);

    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.json(),
        json!({"json": {"code": "SERVICE_UNAVAILABLE", "status": 503, "message": "busy", "data": {}}})
    );
}

#[test]
fn fault_applies_only_to_its_procedure() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::status(500, "boom"));

    let other = call(&panel, "monitor.getDockerTaskStats", None);

    assert_eq!(other.status, 200);
}

#[test]
fn clear_faults_restores_responses() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::status(500, "boom"));

    panel.clear_faults();

    assert_eq!(call(&panel, TABLE, None).status, 200);
}

#[test]
fn zero_times_never_applies() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::status(500, "boom").times(0));

    assert_eq!(call(&panel, TABLE, None).status, 200);
}

#[test]
fn delay_fault_adds_time() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::delay(Duration::from_millis(300)).times(1));
    let started = Instant::now();

    let reply = call(&panel, TABLE, None);

    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn malformed_json_fault() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::malformed_json());

    let reply = call(&panel, TABLE, None);

    assert_eq!(reply.status, 200);
    assert!(!reply.body.is_empty());
    assert!(serde_json::from_slice::<serde_json::Value>(&reply.body).is_err());
}

#[test]
fn wrong_envelope_fault() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::wrong_envelope());

    let body = call(&panel, TABLE, None).json();

    assert!(body.get("result").is_none());
    assert!(body["json"].is_array());
}

#[test]
fn payload_fault_keeps_envelope() {
    let panel = StandIn::start(PanelOptions::rpc(), demo_fleet());
    let odd =
        json!({"shop_api": {"actual": null, "desired": -1}, "shop_worker": {"actual": "NaN"}});
    panel.set_fault("monitorOld.getDockerTaskStats", Fault::payload(odd.clone()));

    let reply = call(&panel, "monitorOld.getDockerTaskStats", None);

    assert_eq!(payload(&panel, &reply), odd);
}

#[test]
fn raw_body_fault() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::raw_body(502, "<html>Bad Gateway</html>"));

    let reply = call(&panel, TABLE, None);

    assert_eq!(reply.status, 502);
    assert_eq!(reply.text(), "<html>Bad Gateway</html>");
}

#[test]
fn huge_body_fault() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::huge_body(3_000_000));

    let reply = call(&panel, TABLE, None);

    assert_eq!(reply.body.len(), 3_000_000);
    assert!(payload(&panel, &reply).is_string());
}

#[test]
fn drop_connection_fault() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::drop_connection().times(1));

    let dropped = send(
        panel.address(),
        "GET",
        &format!("/api/trpc/{TABLE}"),
        &[("Authorization", "Bearer test-token")],
        None,
    );
    let next = call(&panel, TABLE, None);

    assert!(
        dropped.is_err(),
        "expected a broken response, got {dropped:?}"
    );
    assert_eq!(next.status, 200);
    assert_eq!(panel.requests()[0].status, None);
}

#[test]
fn faulted_mutation_changes_nothing() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault("services.app.updateDeploy", Fault::status(500, "boom"));
    let input = json!({"projectName": "shop", "serviceName": "api", "deploy": {"replicas": 4}});

    call(&panel, "services.app.updateDeploy", Some(input));

    assert_eq!(panel.service("shop_api").unwrap().replicas(), Some(2));
}

#[test]
fn fault_after_handling_applies_change() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(
        "services.app.updateDeploy",
        Fault::drop_connection().after_handling(),
    );
    let input = json!({"projectName": "shop", "serviceName": "api", "deploy": {"replicas": 4}});
    let body = json!({"json": input}).to_string();

    let reply = send(
        panel.address(),
        "POST",
        "/api/trpc/services.app.updateDeploy",
        &[
            ("Authorization", "Bearer test-token"),
            ("Content-Type", "application/json"),
        ],
        Some(&body),
    );

    assert!(reply.is_err());
    assert_eq!(panel.service("shop_api").unwrap().replicas(), Some(4));
}

#[test]
fn invalid_request_skips_fault() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    panel.set_fault(TABLE, Fault::status(500, "boom").times(1));

    let unauthorized = send(
        panel.address(),
        "GET",
        &format!("/api/trpc/{TABLE}"),
        &[],
        None,
    )
    .unwrap();
    let faulted = call(&panel, TABLE, None);

    assert_eq!(unauthorized.status, 401);
    assert_eq!(faulted.status, 500);
}
