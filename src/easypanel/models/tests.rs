use super::*;
use serde_json::json;

fn inventory(payload: Value) -> Inventory {
    serde_json::from_value::<RawInventory>(payload)
        .expect("inventory shape")
        .into_inventory()
}

fn containers(rows: Value) -> CpuTable {
    cpu_table(serde_json::from_value(rows).expect("array"), 400.0)
}

#[test]
fn inventory_rows_are_read() {
    let inventory = inventory(json!({
        "projects": [{"name": "shop", "createdAt": "2024-05-01T10:00:00.000Z"}],
        "services": [{
            "projectName": "shop", "name": "api", "type": "app", "enabled": true,
            "deploy": {"replicas": 2, "command": "node x.js", "zeroDowntime": true},
            "ports": [{"published": 8080, "target": 80, "protocol": "tcp"}],
            "env": "SECRET=1"
        }]
    }));

    assert_eq!(inventory.project_count, 1);
    assert!(inventory.invalid_rows.is_empty());
    let row = &inventory.services[0];
    assert_eq!(row.key(), "shop_api");
    assert!(row.is_app());
    assert_eq!(row.enabled, Some(true));
    assert_eq!(row.replicas, Some(2));
    assert_eq!(row.has_published_ports, Some(true));
    assert_eq!(row.deploy.as_ref().unwrap()["command"], "node x.js");
    assert!(row.problems.is_empty(), "{:?}", row.problems);
}

#[test]
fn malformed_rows_are_reported_not_fatal() {
    let inventory = inventory(json!({
        "projects": [],
        "services": [
            "not an object",
            {"projectName": "shop", "type": "app"},
            {"projectName": "shop", "name": 7, "type": "app"},
            {"projectName": "shop", "name": "ok", "type": "app", "enabled": "yes",
             "deploy": {"replicas": null}, "ports": "none"}
        ]
    }));

    assert_eq!(inventory.invalid_rows.len(), 3);
    assert!(inventory.invalid_rows[0].contains("services[0]: expected an object"));
    assert!(inventory.invalid_rows[1].contains("name: missing"));
    assert!(inventory.invalid_rows[2].contains("name: expected a non-empty string, found a number"));
    let row = &inventory.services[0];
    assert_eq!(row.enabled, None);
    assert_eq!(row.replicas, None);
    assert_eq!(row.has_published_ports, None);
    assert_eq!(
        row.problems,
        vec![
            "enabled: expected a boolean, found a string",
            "ports: expected an array, found a string",
            "deploy.replicas: expected a whole number of 0 or more, found null",
        ]
    );
}

#[test]
fn app_row_without_deploy_is_a_problem() {
    let inventory = inventory(json!({"services": [
        {"projectName": "a", "name": "b", "type": "app", "enabled": true, "ports": []},
        {"projectName": "a", "name": "db", "type": "postgres", "enabled": true, "ports": []}
    ]}));

    assert_eq!(
        inventory.services[0].problems,
        vec!["deploy: expected an object, found nothing"]
    );
    assert!(
        inventory.services[1].problems.is_empty(),
        "only apps need a deploy object"
    );
}

#[test]
fn replicas_must_be_whole_and_non_negative() {
    let replicas = |value: Value| replicas_of(json!({ "replicas": value }).as_object().unwrap());

    assert_eq!(replicas(json!(3)), Some(3));
    assert_eq!(replicas(json!(3.0)), Some(3));
    assert_eq!(replicas(json!(2.5)), None);
    assert_eq!(replicas(json!(-1)), None);
    assert_eq!(replicas(json!("2")), None);
    assert_eq!(replicas(json!(null)), None);
}

#[test]
fn unpublished_ports_do_not_count() {
    let inventory = inventory(json!({"services": [
        {"projectName": "a", "name": "b", "type": "app", "ports": []},
        {"projectName": "a", "name": "c", "type": "app", "ports": [{"published": 0, "target": 80}]}
    ]}));

    assert_eq!(inventory.services[0].has_published_ports, Some(false));
    assert_eq!(inventory.services[1].has_published_ports, Some(false));
}

#[test]
fn task_counts_skip_invalid_entries() {
    let payload = serde_json::from_value(json!({
        "shop_api": {"actual": 2, "desired": 2},
        "shop_worker": {"actual": null, "desired": 1},
        "shop_cron": {"actual": -1, "desired": 1},
        "shop_web": "running"
    }))
    .unwrap();

    let (counts, invalid) = task_counts(payload);

    assert_eq!(
        counts["shop_api"],
        TaskCounts {
            running: 2,
            desired: 2
        }
    );
    assert_eq!(counts.len(), 1);
    assert_eq!(invalid, 3);
}

#[test]
fn cpu_is_mean_of_containers() {
    let table = containers(json!([
        {"projectName": "shop", "serviceName": "api", "containerName": "shop_api.1.a", "stats": {"cpu": {"percent": 80.0}}},
        {"projectName": "shop", "serviceName": "api", "containerName": "shop_api.2.b", "stats": {"cpu": {"percent": 40.0}}},
        {"id": "x", "containerName": "traefik.1.c", "stats": {"cpu": {"percent": 3.0}}}
    ]));

    let reading = table.by_service["shop_api"];
    assert_eq!(reading.percent, 60.0);
    assert_eq!(reading.containers, Some(2));
    assert_eq!(table.by_service.len(), 1);
    assert_eq!(table.invalid_figures, 0);
}

#[test]
fn container_name_identifies_service_without_fields() {
    let table = containers(json!([
        {"containerName": "shop_api.1.a", "stats": {"cpu": {"percent": 10.0}}}
    ]));

    assert_eq!(table.by_service["shop_api"].percent, 10.0);
}

#[test]
fn implausible_cpu_figures_are_left_out() {
    let table = containers(json!([
        {"projectName": "s", "serviceName": "a", "stats": {"cpu": {"percent": 50.0}}},
        {"projectName": "s", "serviceName": "a", "stats": {"cpu": {"percent": -5.0}}},
        {"projectName": "s", "serviceName": "a", "stats": {"cpu": {"percent": 401.0}}},
        {"projectName": "s", "serviceName": "a", "stats": {"cpu": {"percent": "NaN"}}},
        {"projectName": "s", "serviceName": "a", "stats": {"cpu": {"percent": null}}},
        {"projectName": "s", "serviceName": "a", "stats": null},
        {"projectName": "s", "serviceName": "b", "stats": {"cpu": {}}},
        "garbage"
    ]));

    assert_eq!(table.by_service["s_a"].percent, 50.0);
    assert_eq!(table.by_service["s_a"].containers, Some(1));
    assert!(
        !table.by_service.contains_key("s_b"),
        "no valid figure, no reading"
    );
    assert_eq!(table.invalid_figures, 7);
}

#[test]
fn service_cpu_has_unknown_coverage() {
    let reading = service_cpu(&json!({"cpu": {"percent": 4.26}}), 400.0).unwrap();

    assert_eq!(reading.percent, 4.26);
    assert_eq!(reading.containers, None);
    assert_eq!(service_cpu(&json!({"cpu": {"percent": -1}}), 400.0), None);
    assert_eq!(service_cpu(&json!({}), 400.0), None);
}

#[test]
fn system_stats_fields_are_optional() {
    let stats = system_stats(&json!({"cpuInfo": {"usedPercentage": 12.5, "count": 4}}));
    let empty = system_stats(&json!({}));

    assert_eq!(stats.cpu_used_percent, Some(12.5));
    assert_eq!(stats.cpu_count, Some(4));
    assert_eq!(
        empty,
        SystemStats {
            cpu_used_percent: None,
            cpu_count: None
        }
    );
}

#[test]
fn service_deploy_requires_deploy_object() {
    let deploy = service_deploy(&json!({"deploy": {"replicas": 2, "command": "x"}})).unwrap();

    assert_eq!(deploy.replicas, Some(2));
    assert!(service_deploy(&json!({"name": "api"})).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary JSON, biased toward the field names the parsers look for.
    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("services".to_owned()),
            Just("projects".to_owned()),
            Just("projectName".to_owned()),
            Just("serviceName".to_owned()),
            Just("containerName".to_owned()),
            Just("name".to_owned()),
            Just("type".to_owned()),
            Just("deploy".to_owned()),
            Just("replicas".to_owned()),
            Just("ports".to_owned()),
            Just("published".to_owned()),
            Just("stats".to_owned()),
            Just("cpu".to_owned()),
            Just("percent".to_owned()),
            Just("actual".to_owned()),
            Just("desired".to_owned()),
            Just("cpuInfo".to_owned()),
            Just("count".to_owned()),
            "[a-z]{1,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z_.]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn parsers_never_panic(value in json_value()) {
            if let Ok(raw) = serde_json::from_value::<RawInventory>(value.clone()) {
                let inventory = raw.into_inventory();
                for row in &inventory.services {
                    prop_assert!(!row.project.is_empty() && !row.name.is_empty());
                }
            }
            if let Ok(rows) = serde_json::from_value(value.clone()) {
                let table = cpu_table(rows, 400.0);
                for reading in table.by_service.values() {
                    prop_assert!(is_plausible_cpu(reading.percent, 400.0));
                    prop_assert!(reading.containers.unwrap_or(0) > 0);
                }
            }
            if let Ok(map) = serde_json::from_value(value.clone()) {
                let _ = task_counts(map);
            }
            if let Some(reading) = service_cpu(&value, 400.0) {
                prop_assert!(is_plausible_cpu(reading.percent, 400.0));
            }
            let _ = system_stats(&value);
            let _ = service_deploy(&value);
        }

        #[test]
        fn envelopes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256), value in json_value()) {
            use crate::easypanel::transport::{error_message, payload, Generation};
            let text = value.to_string();
            for generation in [Generation::Trpc, Generation::Rpc] {
                let _ = payload::<Value>(generation, &bytes);
                let _ = payload::<Value>(generation, text.as_bytes());
            }
            let _ = error_message(&bytes);
            let _ = error_message(text.as_bytes());
        }
    }
}
