//! Ready-made sets of services: a generated fleet for benchmarks and a small demo panel.

use crate::panel::fingerprint;
use crate::spec::{ServiceSpec, ServiceType};

const PROJECTS: [&str; 5] = ["shop", "blog", "crm", "analytics", "edge"];

const APP_NAMES: [&str; 12] = [
    "api", "web", "worker", "cron", "admin", "gateway", "search", "mailer", "auth", "billing",
    "media", "queue",
];

/// Returns `count` app services spread over five projects, plus four services of other
/// types (postgres, redis, mysql, compose).
///
/// A `hot_share` (0 to 1, clamped) of the apps, spread evenly through the list, runs every
/// container at 75 to 95 percent CPU; the others alternate between moderate (30 to 60) and
/// low (2 to 15). Apps have 1 to 3 replicas, and some have a start command or a published
/// port. The output is the same for the same arguments.
pub fn fleet(count: usize, hot_share: f64) -> Vec<ServiceSpec> {
    let hot_share = hot_share.clamp(0.0, 1.0);
    let mut services = Vec::with_capacity(count + 4);

    for index in 0..count {
        let project = PROJECTS[index % PROJECTS.len()];
        let base = APP_NAMES[index % APP_NAMES.len()];
        let round = index / APP_NAMES.len();
        let name = if round == 0 {
            base.to_string()
        } else {
            format!("{base}-{round}")
        };
        let seed = fingerprint(&[project, &name]);

        // Service `index` is hot when the running total of hot services steps up at it, which
        // spreads the hot ones evenly.
        let is_hot = ((index + 1) as f64 * hot_share).floor() > (index as f64 * hot_share).floor();
        let (low, high) = match (is_hot, index % 2) {
            (true, _) => (75.0, 95.0),
            (false, 0) => (30.0, 60.0),
            (false, _) => (2.0, 15.0),
        };
        let replicas = 1 + (seed % 3) as u32;
        let cpu = (0..replicas)
            .map(|container| {
                let step = fingerprint(&[&seed.to_string(), &container.to_string()]) % 1000;
                let percent = low + (high - low) * step as f64 / 1000.0;
                (percent * 10.0).round() / 10.0
            })
            .collect();

        let mut spec = ServiceSpec::new(project, &name)
            .replicas(replicas)
            .cpu(cpu)
            .cpu_limit(1.0)
            .memory_limit(512);
        if seed.is_multiple_of(4) {
            spec = spec.command("node dist/server.js");
        }
        if seed.is_multiple_of(10) {
            spec = spec.port(8000 + (index % 1000) as u16, 3000);
        }
        services.push(spec);
    }

    services.extend([
        ServiceSpec::new("shop", "db").service_type(ServiceType::Postgres),
        ServiceSpec::new("shop", "cache").service_type(ServiceType::Redis),
        ServiceSpec::new("blog", "mysql").service_type(ServiceType::Mysql),
        ServiceSpec::new("crm", "stack").service_type(ServiceType::Compose),
    ]);
    services
}

/// Returns the demo panel's services:
///
/// - `shop_api`: hot, 2 replicas at about 90 percent CPU each;
/// - `shop_worker`: cold, 3 replicas at about 5 percent, with a start command;
/// - `blog_web`: moderate, 1 replica at 40 percent;
/// - `blog_db`: a postgres database;
/// - `tools_admin`: an app that publishes host port 8081;
/// - `shop_cron`: an app switched off (`enabled: false`), with no running tasks.
pub fn demo_fleet() -> Vec<ServiceSpec> {
    vec![
        ServiceSpec::new("shop", "api")
            .replicas(2)
            .cpu(vec![91.0, 88.5])
            .cpu_limit(1.0),
        ServiceSpec::new("shop", "worker")
            .replicas(3)
            .cpu(vec![5.2, 4.8, 5.0])
            .command("node dist/worker.js"),
        ServiceSpec::new("blog", "web").cpu(vec![40.0]),
        ServiceSpec::new("blog", "db")
            .service_type(ServiceType::Postgres)
            .cpu(vec![6.0]),
        ServiceSpec::new("tools", "admin")
            .port(8081, 80)
            .cpu(vec![12.0]),
        ServiceSpec::new("shop", "cron").enabled(false),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_has_requested_size() {
        let services = fleet(100, 0.1);

        let apps = services
            .iter()
            .filter(|spec| spec.service_type == ServiceType::App)
            .count();
        assert_eq!(apps, 100);
        assert_eq!(services.len(), 104);
    }

    #[test]
    fn fleet_hot_share() {
        let services = fleet(200, 0.05);

        let hot = services
            .iter()
            .filter(|spec| {
                spec.cpu
                    .as_ref()
                    .is_some_and(|cpu| cpu.iter().all(|percent| *percent > 70.0))
            })
            .count();
        assert_eq!(hot, 10);
    }

    #[test]
    fn fleet_keys_are_unique() {
        let services = fleet(500, 0.05);

        let mut keys: Vec<String> = services.iter().map(ServiceSpec::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), services.len());
    }
}
