//! Transport rules: envelopes, auth, verbs, unknown paths, the OpenAPI document and the
//! stats endpoint, on both generations.

mod common;

use std::time::{Duration, Instant};

use common::{call, payload, percent_encode, send, service};
use easypanel_standin::{demo_fleet, Generation, MonitorRouter, PanelOptions, StandIn};
use serde_json::{json, Value};

fn both_generations() -> [PanelOptions; 2] {
    [PanelOptions::trpc(), PanelOptions::rpc()]
}

const INVENTORY: &str = "projects.listProjectsAndServices";

#[test]
fn inventory_on_both_generations() {
    for options in both_generations() {
        let panel = StandIn::start(options, demo_fleet());

        let reply = call(&panel, INVENTORY, None);

        let inventory = payload(&panel, &reply);
        let names: Vec<&str> = inventory["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["api", "worker", "web", "db", "admin", "cron"]);
        assert_eq!(
            inventory["projects"][0],
            json!({"name": "shop", "createdAt": "2024-05-01T10:00:00.000Z"})
        );
        assert!(panel.violations().is_empty(), "{:?}", panel.violations());
    }
}

#[test]
fn inventory_carries_date_hints() {
    let trpc = StandIn::start(PanelOptions::trpc(), demo_fleet());
    let rpc = StandIn::start(PanelOptions::rpc(), demo_fleet());

    let trpc_body = call(&trpc, INVENTORY, None).json();
    let rpc_body = call(&rpc, INVENTORY, None).json();

    assert_eq!(
        trpc_body["result"]["data"]["meta"]["values"]["projects.0.createdAt"],
        json!(["Date"])
    );
    assert!(rpc_body["meta"]
        .as_array()
        .unwrap()
        .contains(&json!([1, "projects", 0, "createdAt"])));
}

#[test]
fn mutation_without_result() {
    for options in both_generations() {
        let panel = StandIn::start(options, demo_fleet());
        let input = json!({"projectName": "blog", "serviceName": "web", "deploy": {"replicas": 1}});

        let body = call(&panel, "services.app.updateDeploy", Some(input)).json();

        let expected = match panel.options().generation {
            Generation::Trpc => json!({"result": {"data": {"json": null}}}),
            Generation::Rpc => json!({"json": null, "meta": []}),
        };
        assert_eq!(body, expected);
    }
}

#[test]
fn other_generation_returns_404() {
    let trpc = StandIn::start(PanelOptions::trpc(), demo_fleet());
    let rpc = StandIn::start(PanelOptions::rpc(), demo_fleet());
    let auth = [
        ("Authorization", "Bearer test-token"),
        ("Content-Type", "application/json"),
    ];

    let on_trpc = send(
        trpc.address(),
        "POST",
        "/api/rpc/projects/listProjectsAndServices",
        &auth,
        Some("{\"json\":null}"),
    )
    .unwrap();
    let on_rpc = send(
        rpc.address(),
        "GET",
        "/api/trpc/projects.listProjectsAndServices",
        &auth[..1],
        None,
    )
    .unwrap();

    assert_eq!(on_trpc.status, 404);
    assert_eq!(on_rpc.status, 404);
    assert_eq!(on_rpc.json()["json"]["code"], json!("NOT_FOUND"));
    assert!(trpc.violations().is_empty());
    assert!(rpc.violations().is_empty());
}

#[test]
fn wrong_token_returns_401() {
    for options in both_generations() {
        let panel = StandIn::start(options, demo_fleet());
        let path = match panel.options().generation {
            Generation::Trpc => "/api/trpc/projects.listProjectsAndServices",
            Generation::Rpc => "/api/rpc/projects/listProjectsAndServices",
        };
        let method = match panel.options().generation {
            Generation::Trpc => "GET",
            Generation::Rpc => "POST",
        };
        let json_body = [("Content-Type", "application/json")];

        let wrong = send(
            panel.address(),
            method,
            path,
            &[("Authorization", "Bearer not-the-token"), json_body[0]],
            Some("{\"json\":null}"),
        )
        .unwrap();
        let missing = send(
            panel.address(),
            method,
            path,
            &json_body,
            Some("{\"json\":null}"),
        )
        .unwrap();

        assert_eq!(wrong.status, 401);
        assert_eq!(missing.status, 401);
        let body = wrong.json();
        match panel.options().generation {
            Generation::Trpc => {
                assert_eq!(body["error"]["json"]["data"]["code"], json!("UNAUTHORIZED"));
                assert_eq!(body["error"]["json"]["data"]["httpStatus"], json!(401));
            }
            Generation::Rpc => assert_eq!(body["json"]["status"], json!(401)),
        }
        assert_eq!(panel.violations().len(), 2, "{:?}", panel.violations());
        assert!(!panel.violations().join("\n").contains("not-the-token"));
    }
}

#[test]
fn wrong_verb_returns_405() {
    let trpc = StandIn::start(PanelOptions::trpc(), demo_fleet());
    let rpc = StandIn::start(PanelOptions::rpc(), demo_fleet());
    let headers = [
        ("Authorization", "Bearer test-token"),
        ("Content-Type", "application/json"),
    ];

    let query_by_post = send(
        trpc.address(),
        "POST",
        "/api/trpc/projects.listProjectsAndServices",
        &headers,
        Some("{\"json\":null}"),
    )
    .unwrap();
    let mutation_by_get = send(
        trpc.address(),
        "GET",
        "/api/trpc/services.app.updateDeploy",
        &headers[..1],
        None,
    )
    .unwrap();
    let rpc_by_get = send(
        rpc.address(),
        "GET",
        "/api/rpc/projects/listProjectsAndServices",
        &headers[..1],
        None,
    )
    .unwrap();

    assert_eq!(query_by_post.status, 405);
    assert_eq!(mutation_by_get.status, 405);
    assert_eq!(rpc_by_get.status, 405);
    assert_eq!(
        query_by_post.json()["error"]["json"]["data"]["code"],
        json!("METHOD_NOT_SUPPORTED")
    );
    assert_eq!(trpc.violations().len(), 2);
    assert_eq!(rpc.violations().len(), 1);
}

#[test]
fn rpc_empty_body_returns_400() {
    let panel = StandIn::start(PanelOptions::rpc(), demo_fleet());
    let headers = [
        ("Authorization", "Bearer test-token"),
        ("Content-Type", "application/json"),
    ];

    let reply = send(
        panel.address(),
        "POST",
        "/api/rpc/projects/listProjectsAndServices",
        &headers,
        None,
    )
    .unwrap();

    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["json"]["code"], json!("BAD_REQUEST"));
    assert_eq!(panel.violations().len(), 1);
}

#[test]
fn envelope_without_json_key_returns_400() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    let input = percent_encode(&service("shop", "api").to_string());

    let reply = send(
        panel.address(),
        "GET",
        &format!("/api/trpc/services.app.inspectService?input={input}"),
        &[("Authorization", "Bearer test-token")],
        None,
    )
    .unwrap();

    assert_eq!(reply.status, 400);
    assert!(
        panel.violations()[0].contains("expected {\"json\": INPUT}"),
        "{:?}",
        panel.violations()
    );
}

#[test]
fn unknown_input_field_returns_400() {
    for options in both_generations() {
        let panel = StandIn::start(options, demo_fleet());
        let input = json!({"projectName": "shop", "serviceName": "api", "replicas": 3});

        let reply = call(&panel, "services.app.updateDeploy", Some(input));

        assert_eq!(reply.status, 400);
        let violations = panel.violations();
        assert_eq!(violations.len(), 1);
        assert!(
            violations[0].contains("Unrecognized key(s) in object: 'replicas'"),
            "{violations:?}"
        );
        assert_eq!(panel.service("shop_api").unwrap().replicas(), Some(2));
        let recorded = panel.calls("services.app.updateDeploy");
        assert_eq!(recorded[0].violations.len(), 1);
        assert_eq!(recorded[0].status, Some(400));
    }
}

#[test]
fn trpc_validation_error_lists_issues() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    let reply = call(
        &panel,
        "services.app.inspectService",
        Some(service("Shop", "api")),
    );

    assert_eq!(reply.status, 400);
    let error = &reply.json()["error"]["json"];
    assert_eq!(
        error["data"]["zodErrors"]["fieldErrors"]["projectName"],
        json!(["Invalid"])
    );
    let issues: Value = serde_json::from_str(error["message"].as_str().unwrap()).unwrap();
    assert_eq!(issues[0]["code"], json!("invalid_string"));
}

#[test]
fn input_to_inputless_procedure_is_violation() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    let reply = call(&panel, INVENTORY, Some(json!({"all": true})));

    assert_eq!(reply.status, 200);
    assert_eq!(panel.violations().len(), 1);
}

#[test]
fn post_without_json_content_type_is_violation() {
    let panel = StandIn::start(PanelOptions::rpc(), demo_fleet());

    let reply = send(
        panel.address(),
        "POST",
        "/api/rpc/projects/listProjectsAndServices",
        &[("Authorization", "Bearer test-token")],
        Some("{\"json\":null}"),
    )
    .unwrap();

    assert_eq!(reply.status, 200);
    assert!(panel.violations()[0].contains("Content-Type"));
}

#[test]
fn monitor_router_option() {
    let options = PanelOptions {
        monitor_router: Some(MonitorRouter::MonitorOld),
        ..PanelOptions::trpc()
    };
    let panel = StandIn::start(options, demo_fleet());

    let old = call(&panel, "monitorOld.getDockerTaskStats", None);
    let current = call(&panel, "monitor.getDockerTaskStats", None);

    assert_eq!(old.status, 200);
    assert_eq!(current.status, 404);
    assert_eq!(
        panel.monitor_procedure("getDockerTaskStats"),
        "monitorOld.getDockerTaskStats"
    );
}

#[test]
fn default_monitor_router_by_generation() {
    let rpc = StandIn::start(PanelOptions::rpc(), demo_fleet());

    assert_eq!(call(&rpc, "monitorOld.getSystemStats", None).status, 200);
    assert_eq!(call(&rpc, "monitor.getSystemStats", None).status, 404);
}

#[test]
fn openapi_reports_version() {
    for options in both_generations() {
        let panel = StandIn::start(options, demo_fleet());
        let version = panel.options().version.clone();

        let unauthorized = send(panel.address(), "GET", "/api/openapi.json", &[], None).unwrap();
        let document = send(
            panel.address(),
            "GET",
            "/api/openapi.json",
            &[("Authorization", "Bearer test-token")],
            None,
        )
        .unwrap()
        .json();

        assert_eq!(unauthorized.status, 401);
        assert_eq!(document["info"]["version"], json!(version));
        let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
        let prefix = match panel.options().generation {
            Generation::Trpc => "/api/trpc/",
            Generation::Rpc => "/api/rpc/",
        };
        assert!(
            paths.iter().all(|path| path.starts_with(prefix)),
            "{paths:?}"
        );
    }
}

#[test]
fn stats_endpoint_counts() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    call(&panel, INVENTORY, None);
    call(&panel, INVENTORY, None);
    call(&panel, "monitor.getDockerTaskStats", None);
    send(
        panel.address(),
        "GET",
        "/api/trpc/monitor.getSystemStats",
        &[],
        None,
    )
    .unwrap();

    let stats = send(panel.address(), "GET", "/_standin/stats", &[], None)
        .unwrap()
        .json();

    assert_eq!(stats["requests"], json!(4));
    assert_eq!(stats["by_procedure"][INVENTORY], json!(2));
    assert_eq!(
        stats["by_procedure"]["monitor.getDockerTaskStats"],
        json!(1)
    );
    assert_eq!(stats["violations"].as_array().unwrap().len(), 1);
    assert_eq!(panel.request_count(), 4);
}

#[test]
fn clear_requests_resets_counts() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    call(&panel, INVENTORY, None);
    send(
        panel.address(),
        "GET",
        "/api/trpc/monitor.getSystemStats",
        &[],
        None,
    )
    .unwrap();

    panel.clear_requests();

    assert_eq!(panel.request_count(), 0);
    assert!(panel.requests().is_empty());
    assert_eq!(panel.violations().len(), 1);
    panel.clear_violations();
    assert!(panel.violations().is_empty());
}

#[test]
fn requests_are_recorded() {
    let panel = StandIn::start(PanelOptions::rpc(), demo_fleet());
    let input = json!({"projectName": "blog", "serviceName": "web", "deploy": {"replicas": 2}});

    call(&panel, "services.app.updateDeploy", Some(input.clone()));

    let requests = panel.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/api/rpc/services/app/updateDeploy");
    assert_eq!(
        requests[0].procedure.as_deref(),
        Some("services.app.updateDeploy")
    );
    assert_eq!(requests[0].input, input);
    assert_eq!(requests[0].status, Some(200));
    assert!(requests[0].elapsed.is_some());
}

#[test]
fn latency_delays_responses() {
    let options = PanelOptions {
        latency: Duration::from_millis(200),
        ..PanelOptions::trpc()
    };
    let panel = StandIn::start(options, demo_fleet());
    let started = Instant::now();

    call(&panel, INVENTORY, None);

    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn paths_outside_api_return_404() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    let reply = send(panel.address(), "GET", "/", &[], None).unwrap();

    assert_eq!(reply.status, 404);
    assert_eq!(panel.request_count(), 0);
}
