//! Step 4: the inventory as a run reads it, the app services it would consider with the
//! policy each gets, and the configured services the panel lacks.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::connection::Detected;
use super::report::Step;
use super::session::Session;
use crate::commands::table::columns;
use crate::config::Config;
use crate::easypanel::models::RawInventory;
use crate::easypanel::{Inventory, ServiceRow};
use crate::engine::Policy;

/// Invalid rows listed one by one before the rest are only counted.
const MAX_LISTED_PROBLEMS: usize = 10;

/// Runs step 4 and prints it. Returns `None` when the inventory cannot be read.
pub(super) fn check(session: &mut Session<'_>, detected: &Detected) -> Option<Inventory> {
    let config = session.config;
    let mut step = Step::new(4, "Inventory");

    let inventory = match serde_json::from_value::<RawInventory>(detected.inventory.clone()) {
        Ok(raw) => raw.into_inventory(),
        Err(error) => {
            step.fail(format!(
                "The inventory does not have the shape a run reads ({{\"projects\": [...], \
                 \"services\": [...]}}): {error}."
            ));
            step.advise(
                "Run again with --raw to see the response, and report it with the panel version.",
            );
            session.report(step);
            return None;
        }
    };

    step.line(count_line(&inventory));
    for problem in inventory.invalid_rows.iter().take(MAX_LISTED_PROBLEMS) {
        step.warn(format!("Row left out: {problem}."));
    }
    if inventory.invalid_rows.len() > MAX_LISTED_PROBLEMS {
        step.line(format!(
            "... and {} more rows left out.",
            inventory.invalid_rows.len() - MAX_LISTED_PROBLEMS
        ));
    }

    let mut apps: Vec<&ServiceRow> = inventory
        .services
        .iter()
        .filter(|row| row.is_app())
        .collect();
    apps.sort_by_key(|row| row.key());
    if apps.is_empty() {
        step.warn(
            "The panel has no app services, so a run has nothing to scale. Only services of \
             type app can be scaled; databases and compose services are left alone.",
        );
        step.advise(
            "Create the service as an app service in the panel, or check that \
             api.base_url and the token belong to the panel you mean.",
        );
    } else {
        step.line(format!(
            "App services a run would consider ({}):",
            apps.len()
        ));
        let mut rows = vec![[
            "SERVICE",
            "REPLICAS",
            "MIN",
            "MAX",
            "UP%",
            "DOWN%",
            "COOLDOWN UP/DOWN",
            "IGNORE",
            "ENABLED",
            "PUBLISHED PORTS",
            "A RUN",
        ]
        .map(str::to_owned)
        .to_vec()];
        rows.extend(
            apps.iter()
                .map(|row| app_row(row, config.policy(&row.key()))),
        );
        step.lines_from(columns(&rows).into_iter().map(|line| format!("  {line}")));
    }

    let field_problems: Vec<String> = apps
        .iter()
        .flat_map(|row| {
            let key = row.key();
            row.problems
                .iter()
                .map(move |problem| format!("{key}: {problem}; a run treats the value as unknown."))
        })
        .collect();
    for problem in field_problems.iter().take(MAX_LISTED_PROBLEMS) {
        step.warn(problem.clone());
    }
    if field_problems.len() > MAX_LISTED_PROBLEMS {
        step.line(format!(
            "... and {} more field problems.",
            field_problems.len() - MAX_LISTED_PROBLEMS
        ));
    }

    for line in unknown_services(config, &inventory) {
        step.warn(line);
    }

    session.report(step);
    Some(inventory)
}

/// Returns `2 projects, 5 services: app 3, postgres 1, redis 1.`
fn count_line(inventory: &Inventory) -> String {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &inventory.services {
        *by_type.entry(row.kind.as_str()).or_default() += 1;
    }
    let types: Vec<String> = by_type
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    let mut line = format!(
        "{} {}, {} {}",
        inventory.project_count,
        plural(inventory.project_count, "project", "projects"),
        inventory.services.len(),
        plural(inventory.services.len(), "service", "services"),
    );
    if !types.is_empty() {
        line.push_str(": ");
        line.push_str(&types.join(", "));
    }
    line.push('.');
    line
}

fn app_row(row: &ServiceRow, policy: &Policy) -> Vec<String> {
    let yes_no = |value: Option<bool>| match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    vec![
        row.key(),
        row.replicas
            .map_or("unknown".to_owned(), |replicas| replicas.to_string()),
        policy.min.to_string(),
        policy.max.to_string(),
        number(policy.up),
        number(policy.down),
        format!(
            "{}/{}",
            minutes(policy.cooldown_up),
            minutes(policy.cooldown_down)
        ),
        yes_no(Some(policy.ignore)).to_owned(),
        yes_no(row.enabled).to_owned(),
        yes_no(row.has_published_ports).to_owned(),
        run_treatment(row, policy).to_owned(),
    ]
}

/// Says how a run treats the service before looking at its replica state and CPU, by the
/// decision rules that need only the inventory and the policy.
fn run_treatment(row: &ServiceRow, policy: &Policy) -> &'static str {
    if policy.ignore {
        return "skips it: ignore";
    }
    // A run counts unreadable ports as published, to stay on the safe side.
    if policy.ignore_exposed && row.has_published_ports.unwrap_or(true) {
        return "skips it: published ports";
    }
    match (row.enabled, row.replicas) {
        (Some(false), _) => "skips it: disabled",
        (_, Some(0)) => "skips it: 0 replicas",
        (None, _) => "holds it: enabled unknown",
        (_, None) => "holds it: replicas unknown",
        _ => "scales it by CPU",
    }
}

/// Returns one line per configured service that is not an app service of the panel.
fn unknown_services(config: &Config, inventory: &Inventory) -> Vec<String> {
    let app_keys: BTreeSet<String> = inventory
        .services
        .iter()
        .filter(|row| row.is_app())
        .map(ServiceRow::key)
        .collect();
    config
        .services
        .keys()
        .filter(|key| !app_keys.contains(*key))
        .map(
            |key| match inventory.services.iter().find(|row| &row.key() == key) {
                Some(row) => format!(
                    "{key} is configured, but it is a {} service; only app services are scaled.",
                    row.kind
                ),
                None => format!(
                    "{key} is configured, but the panel has no such service; check the spelling \
                     (project_service, as in the table above)."
                ),
            },
        )
        .collect()
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 {
        one
    } else {
        many
    }
}

/// Formats a threshold without a trailing `.0`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// Formats a cooldown as `5m`, `2.5m` or `30s`.
fn minutes(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.0}s")
    } else {
        format!("{}m", number((seconds / 60.0 * 10.0).round() / 10.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(enabled: Option<bool>, replicas: Option<u32>, ports: Option<bool>) -> ServiceRow {
        ServiceRow {
            project: "shop".to_owned(),
            name: "api".to_owned(),
            kind: "app".to_owned(),
            enabled,
            deploy: None,
            replicas,
            has_published_ports: ports,
            problems: Vec::new(),
        }
    }

    #[test]
    fn treatment_follows_the_skip_rules() {
        let policy = Policy::default();
        let exposed_off = Policy {
            ignore_exposed: true,
            ..Policy::default()
        };
        let ignored = Policy {
            ignore: true,
            ..Policy::default()
        };

        let cases = [
            (
                row(Some(true), Some(2), Some(false)),
                &policy,
                "scales it by CPU",
            ),
            (
                row(Some(false), Some(2), Some(false)),
                &policy,
                "skips it: disabled",
            ),
            (
                row(Some(true), Some(0), Some(false)),
                &policy,
                "skips it: 0 replicas",
            ),
            (
                row(None, Some(2), Some(false)),
                &policy,
                "holds it: enabled unknown",
            ),
            (
                row(Some(true), None, Some(false)),
                &policy,
                "holds it: replicas unknown",
            ),
            (
                row(Some(true), Some(2), None),
                &exposed_off,
                "skips it: published ports",
            ),
            (
                row(Some(true), Some(2), Some(true)),
                &policy,
                "scales it by CPU",
            ),
            (
                row(Some(true), Some(2), Some(false)),
                &ignored,
                "skips it: ignore",
            ),
        ];

        for (row, policy, expected) in cases {
            assert_eq!(run_treatment(&row, policy), expected, "{row:?}");
        }
    }

    #[test]
    fn cooldowns_read_as_minutes() {
        assert_eq!(minutes(Duration::from_secs(300)), "5m");
        assert_eq!(minutes(Duration::from_secs(150)), "2.5m");
        assert_eq!(minutes(Duration::from_secs(30)), "30s");
    }

    #[test]
    fn counts_name_each_type() {
        let inventory = Inventory {
            project_count: 1,
            services: vec![row(Some(true), Some(1), Some(false))],
            invalid_rows: Vec::new(),
        };

        assert_eq!(count_line(&inventory), "1 project, 1 service: app 1.");
    }
}
