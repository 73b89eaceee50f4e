//! Procedure behaviour: stored documents, replica changes, deployments and the monitor.

mod common;

use std::time::{Duration, Instant};

use common::{call, payload, service};
use easypanel_standin::{demo_fleet, fleet, PanelOptions, ServiceSpec, ServiceType, StandIn};
use serde_json::{json, Value};

const UPDATE: &str = "services.app.updateDeploy";
const DEPLOY: &str = "services.app.deployService";

fn replicas_only(project: &str, name: &str, replicas: u32) -> Value {
    json!({"projectName": project, "serviceName": name, "deploy": {"replicas": replicas}})
}

#[test]
fn update_without_command_wipes_command() {
    let panel = StandIn::start(PanelOptions::rpc(), demo_fleet());
    assert_eq!(
        panel.service("shop_worker").unwrap().command(),
        Some("node dist/worker.js")
    );

    let reply = call(&panel, UPDATE, Some(replicas_only("shop", "worker", 4)));

    assert_eq!(reply.status, 200);
    let deploy = panel.service("shop_worker").unwrap().deploy.unwrap();
    assert_eq!(
        deploy,
        json!({"replicas": 4, "command": null, "zeroDowntime": true})
    );
    assert!(panel.violations().is_empty());
}

#[test]
fn update_without_deploy_resets_replicas() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    call(&panel, UPDATE, Some(service("shop", "worker")));

    let snapshot = panel.service("shop_worker").unwrap();
    assert_eq!(snapshot.replicas(), Some(1));
    assert_eq!(snapshot.command(), None);
}

#[test]
fn update_with_whole_deploy_keeps_command() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    let inspected = payload(
        &panel,
        &call(
            &panel,
            "services.app.inspectService",
            Some(service("shop", "worker")),
        ),
    );
    let mut deploy = inspected["deploy"].clone();
    deploy["replicas"] = json!(5);

    let input = json!({"projectName": "shop", "serviceName": "worker", "deploy": deploy});
    call(&panel, UPDATE, Some(input));

    let stored = panel.service("shop_worker").unwrap().deploy.unwrap();
    assert_eq!(stored, deploy);
}

#[test]
fn update_changes_desired_by_default() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    call(&panel, UPDATE, Some(replicas_only("shop", "api", 3)));

    let snapshot = panel.service("shop_api").unwrap();
    assert_eq!(snapshot.desired, 3);
    assert_eq!(snapshot.running, 3);
    assert_eq!(snapshot.cpu, vec![91.0, 88.5, 88.5]);
    let tasks = payload(&panel, &call(&panel, "monitor.getDockerTaskStats", None));
    assert_eq!(tasks["shop_api"], json!({"actual": 3, "desired": 3}));
}

#[test]
fn update_only_saves_when_option_off() {
    let options = PanelOptions {
        update_changes_desired: false,
        ..PanelOptions::rpc()
    };
    let panel = StandIn::start(options, demo_fleet());

    call(&panel, UPDATE, Some(replicas_only("shop", "api", 3)));

    let saved = panel.service("shop_api").unwrap();
    assert_eq!(saved.replicas(), Some(3));
    assert_eq!(saved.desired, 2);
    assert_eq!(saved.running, 2);

    call(&panel, DEPLOY, Some(service("shop", "api")));

    let deployed = panel.service("shop_api").unwrap();
    assert_eq!(deployed.desired, 3);
    assert_eq!(deployed.running, 3);
}

#[test]
fn update_keeps_disabled_service_stopped() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    call(&panel, UPDATE, Some(replicas_only("shop", "cron", 2)));

    let snapshot = panel.service("shop_cron").unwrap();
    assert_eq!(snapshot.replicas(), Some(2));
    assert_eq!(snapshot.desired, 0);
}

#[test]
fn fractional_replicas_are_violation() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
    let input = json!({"projectName": "shop", "serviceName": "api", "deploy": {"replicas": 2.5}});

    let reply = call(&panel, UPDATE, Some(input));

    assert_eq!(reply.status, 500);
    assert_eq!(panel.violations().len(), 1);
    assert_eq!(panel.service("shop_api").unwrap().replicas(), Some(2));
}

#[test]
fn deploy_blocks_for_deploy_duration() {
    let options = PanelOptions {
        deploy_duration: Duration::from_millis(300),
        ..PanelOptions::trpc()
    };
    let panel = StandIn::start(options, demo_fleet());
    panel.set_tasks("blog_web", 0, 1);
    let started = Instant::now();

    let reply = call(
        &panel,
        DEPLOY,
        Some(json!({"projectName": "blog", "serviceName": "web", "forceRebuild": false})),
    );

    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(panel.service("blog_web").unwrap().running, 1);
}

#[test]
fn missing_service_returns_500() {
    for options in [PanelOptions::trpc(), PanelOptions::rpc()] {
        let panel = StandIn::start(options, demo_fleet());

        let reply = call(
            &panel,
            "services.app.inspectService",
            Some(service("shop", "nothing")),
        );
        let database = call(&panel, UPDATE, Some(replicas_only("blog", "db", 2)));

        assert_eq!(reply.status, 500);
        assert_eq!(database.status, 500);
        assert!(reply.text().contains("Service not found."));
        assert!(panel.violations().is_empty());
    }
}

#[test]
fn trpc_not_found_is_internal_error() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    let reply = call(
        &panel,
        "services.app.inspectService",
        Some(service("shop", "nothing")),
    );

    let error = &reply.json()["error"]["json"];
    assert_eq!(error["message"], json!("Service not found."));
    assert_eq!(error["data"]["code"], json!("INTERNAL_SERVER_ERROR"));
}

#[test]
fn inspect_returns_stored_document() {
    let panel = StandIn::start(PanelOptions::rpc(), demo_fleet());

    let document = payload(
        &panel,
        &call(
            &panel,
            "services.app.inspectService",
            Some(service("tools", "admin")),
        ),
    );

    assert_eq!(document, panel.service("tools_admin").unwrap().document);
    assert_eq!(
        document["ports"],
        json!([{"published": 8081, "target": 80, "protocol": "tcp"}])
    );
    assert_eq!(document["resources"]["cpuLimit"], json!(0));
    assert!(document["deploymentUrl"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1/api/deploy/"));
}

#[test]
fn secrets_appear_in_inventory() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    let body = call(&panel, "projects.listProjectsAndServices", None).text();

    let secrets = panel.secrets();
    assert!(secrets.contains(&"test-token".to_string()));
    assert!(secrets.contains(&"S3CRET-blog-db-password".to_string()));
    let mut unique = secrets.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), secrets.len());
    for secret in secrets
        .iter()
        .filter(|secret| secret.starts_with("S3CRET-"))
    {
        assert!(
            body.contains(secret.as_str()),
            "{secret} is missing from the inventory"
        );
    }
}

#[test]
fn database_documents_have_passwords() {
    let panel = StandIn::start(
        PanelOptions::trpc(),
        vec![ServiceSpec::new("data", "main").service_type(ServiceType::Mysql)],
    );

    let document = panel.service("data_main").unwrap().document;

    assert_eq!(document["password"], json!("S3CRET-data-main-password"));
    assert_eq!(
        document["rootPassword"],
        json!("S3CRET-data-main-root-password")
    );
    assert_eq!(panel.service("data_main").unwrap().deploy, None);
}

#[test]
fn fleet_documents_are_several_kilobytes() {
    let panel = StandIn::start(PanelOptions::trpc(), fleet(50, 0.1));

    let body = call(&panel, "projects.listProjectsAndServices", None).text();

    assert!(
        body.len() > 50 * 3000,
        "inventory is only {} bytes",
        body.len()
    );
}

#[test]
fn monitor_table_lists_each_container() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    let rows = payload(&panel, &call(&panel, "monitor.getMonitorTableData", None));

    let rows = rows.as_array().unwrap();
    let api: Vec<&Value> = rows
        .iter()
        .filter(|row| row["serviceName"] == json!("api"))
        .collect();
    assert_eq!(api.len(), 2);
    assert_eq!(api[0]["stats"]["cpu"]["percent"], json!(91));
    assert!(api[0]["containerName"]
        .as_str()
        .unwrap()
        .starts_with("shop_api.1."));
    // 2 + 3 + 1 + 1 + 1 managed containers, shop_cron stopped, plus traefik and easypanel.
    assert_eq!(rows.len(), 10);
    let unmanaged = rows
        .iter()
        .filter(|row| !row["projectName"].is_string())
        .count();
    assert_eq!(unmanaged, 2);
}

#[test]
fn task_stats_include_stopped_services() {
    let panel = StandIn::start(PanelOptions::rpc(), demo_fleet());

    let tasks = payload(&panel, &call(&panel, "monitorOld.getDockerTaskStats", None));

    assert_eq!(tasks["shop_cron"], json!({"actual": 0, "desired": 0}));
    assert_eq!(tasks["shop_worker"], json!({"actual": 3, "desired": 3}));
}

#[test]
fn service_stats_sum_containers() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    let stats = payload(
        &panel,
        &call(
            &panel,
            "monitor.getServiceStats",
            Some(service("shop", "api")),
        ),
    );

    assert_eq!(stats["cpu"]["percent"], json!(179.5));
    assert!(stats["memory"]["usage"].as_u64().unwrap() > 0);
}

#[test]
fn system_stats_report_host_cpu() {
    let options = PanelOptions {
        cpu_count: 8,
        ..PanelOptions::trpc()
    };
    let panel = StandIn::start(
        options,
        vec![ServiceSpec::new("shop", "api").replicas(2).cpu(vec![100.0])],
    );

    let stats = payload(&panel, &call(&panel, "monitor.getSystemStats", None));

    // 200 percent of containers plus 4.5 of unmanaged ones, over 8 cores.
    assert_eq!(stats["cpuInfo"]["usedPercentage"], json!(25.56));
    assert_eq!(stats["cpuInfo"]["count"], json!(8));
}

#[test]
fn setters_change_monitor_figures() {
    let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());

    panel.set_cpu("blog_web", vec![77.0]);
    panel.set_tasks("shop_api", 1, 2);
    panel.set_replicas("shop_worker", 1);

    let blog = payload(
        &panel,
        &call(
            &panel,
            "monitor.getServiceStats",
            Some(service("blog", "web")),
        ),
    );
    assert_eq!(blog["cpu"]["percent"], json!(77));
    let tasks = payload(&panel, &call(&panel, "monitor.getDockerTaskStats", None));
    assert_eq!(tasks["shop_api"], json!({"actual": 1, "desired": 2}));
    assert_eq!(tasks["shop_worker"], json!({"actual": 1, "desired": 1}));
    assert_eq!(panel.service("shop_worker").unwrap().replicas(), Some(1));
}

#[test]
fn invalid_service_name_is_rejected() {
    let result = StandIn::start_on(
        0,
        PanelOptions::trpc(),
        vec![ServiceSpec::new("Shop", "api")],
    );

    let error = result
        .err()
        .expect("an upper-case project name should be rejected");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn duplicate_service_is_rejected() {
    let services = vec![
        ServiceSpec::new("shop", "api"),
        ServiceSpec::new("shop", "api"),
    ];

    let result = StandIn::start_on(0, PanelOptions::trpc(), services);

    assert!(result.is_err());
}
