//! `easypanel-standin demo`: runs the autoscaler three times against a stand-in panel with
//! the demo services, five simulated minutes apart, and shows what each run changed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use easypanel_standin::{demo_fleet, PanelOptions, ServiceSnapshot, StandIn};
use serde_json::{json, Value};

use super::child;
use super::workspace::{autoscaler_binary, config_for, AppDir};

/// Runs of the autoscaler; three show a scale-up, a confirmed scale-down and a bound.
const RUNS: usize = 3;

/// Time between two runs, as cron would space them.
const MINUTES_BETWEEN_RUNS: i64 = 5;

const TOKEN: &str = "demo-token";

/// Per-service settings the demo writes, each with what it means.
const SERVICE_SETTINGS: [(&str, &str, &str); 2] = [
    ("shop_api", r#"{"max": 4}"#, "at most 4 replicas"),
    (
        "shop_worker",
        r#"{"down": 20, "cooldown_down_minutes": 10}"#,
        "scale down at 20% CPU or less, at most once in 10 minutes",
    ),
];

/// Header note of each run: the behaviour to look for in its output.
const RUN_NOTES: [&str; RUNS] = [
    "the first run detects the panel's API and takes each service's first CPU sample",
    "the scale-up cooldown from run 1 is over, and a second low CPU sample allows a scale-down",
    "bounds and cooldowns start to hold services",
];

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The autoscaler binary [default: bin/autoscaler in this workspace, built by ./build.sh]
    #[arg(long, value_name = "PATH")]
    autoscaler: Option<PathBuf>,

    /// Remove the app directory at the end instead of keeping it for a look
    #[arg(long)]
    clean: bool,
}

/// Runs the demo. Fails when the binary is missing, the panel or the app directory
/// cannot be set up, or the autoscaler cannot be started.
pub fn run(args: DemoArgs) -> Result<(), String> {
    let binary = autoscaler_binary(args.autoscaler.as_deref())?;
    let mut options = PanelOptions::trpc();
    options.token = TOKEN.to_owned();
    let panel = StandIn::start_on(0, options, demo_fleet())
        .map_err(|error| format!("the stand-in panel failed to start: {error}"))?;
    let app = AppDir::create("autoscaler-demo-")
        .map_err(|error| format!("could not create the app directory: {error}"))?;
    app.write_config(&demo_config(&panel.url()))
        .map_err(|error| format!("could not write services.json: {error}"))?;

    let apps = app_services(&panel);
    print_setup(&panel, &apps, &app, &binary);
    let mut before = replicas(&panel, &apps);
    for run in 1..=RUNS {
        if run > 1 {
            app.age_state(MINUTES_BETWEEN_RUNS)
                .map_err(|error| format!("could not age the state files: {error}"))?;
            println!(
                "\n({MINUTES_BETWEEN_RUNS} minutes later: the times in state/ were moved \
                 {MINUTES_BETWEEN_RUNS} minutes into the past, as if cron had waited)"
            );
        }
        println!("\n=== Run {run} of {RUNS}: {} ===\n", RUN_NOTES[run - 1]);

        let status = child::autoscaler(&binary, &app)
            .status()
            .map_err(|error| format!("could not run {}: {error}", binary.display()))?;

        println!("\nautoscaler {}", describe_exit(status.code()));
        let after = replicas(&panel, &apps);
        println!("Replicas in the panel after run {run}:");
        for line in replica_lines(&before, &after) {
            println!("  {line}");
        }
        before = after;
    }

    print_ending(app, args.clean);
    Ok(())
}

/// Returns the demo's `services.json`: the panel's URL and token, exposed services left
/// alone, console text at INFO, and [`SERVICE_SETTINGS`].
fn demo_config(panel_url: &str) -> Value {
    let mut sections = json!({
        "global": {"ignore_exposed": true, "apply_wait_seconds": 5},
        "logging": {"level": "INFO", "format": "text", "console": true},
    });
    for (key, settings, _) in SERVICE_SETTINGS {
        sections[key] = serde_json::from_str(settings).expect("the demo's settings are JSON");
    }
    config_for(panel_url, TOKEN, sections)
}

/// Returns the snapshots of the panel's app services, keyed and sorted by service key.
fn app_services(panel: &StandIn) -> BTreeMap<String, ServiceSnapshot> {
    demo_fleet()
        .iter()
        .filter_map(|spec| Some((spec.key(), panel.service(&spec.key())?)))
        .filter(|(_, snapshot)| snapshot.document["type"] == "app")
        .collect()
}

fn replicas(panel: &StandIn, apps: &BTreeMap<String, ServiceSnapshot>) -> BTreeMap<String, u64> {
    apps.keys()
        .filter_map(|key| Some((key.clone(), panel.service(key)?.replicas()?)))
        .collect()
}

fn print_setup(
    panel: &StandIn,
    apps: &BTreeMap<String, ServiceSnapshot>,
    app: &AppDir,
    binary: &std::path::Path,
) {
    println!(
        "A stand-in Easypanel panel (tRPC API, as on panels up to 2.30) listens on {}.",
        panel.url()
    );
    println!("Its app services:");
    for (key, snapshot) in apps {
        println!("  {key:<12} {}", describe_service(snapshot));
    }
    println!("It also has blog_db, a postgres service; the autoscaler scales app services only.");
    println!();
    println!("App directory: {}", app.path().display());
    println!("Its services.json points at the panel and sets:");
    println!(
        "  {:<12} services that publish host ports are left alone (ignore_exposed)",
        "global"
    );
    for (key, _, meaning) in SERVICE_SETTINGS {
        println!("  {key:<12} {meaning}");
    }
    println!("Other services get the defaults: scale up at 70% CPU, down at 30%, 1 to 10 replicas, 5-minute cooldowns.");
    println!("Autoscaler: {}", binary.display());
}

/// Returns a one-line description of a service for the setup listing.
fn describe_service(snapshot: &ServiceSnapshot) -> String {
    if snapshot.document["enabled"] == false {
        return "switched off in the panel".to_owned();
    }
    let replicas = snapshot.replicas().unwrap_or(0);
    let cpu: Vec<String> = snapshot
        .cpu
        .iter()
        .map(|percent| format!("{percent}%"))
        .collect();
    let mut text = format!(
        "{replicas} replica{}, CPU {}",
        if replicas == 1 { "" } else { "s" },
        cpu.join(" ")
    );
    let ports = snapshot.document["ports"].as_array().map_or(0, Vec::len);
    if ports > 0 {
        text.push_str(", publishes a host port");
    }
    text
}

/// Returns one line per service: `key  3` when unchanged, `key  2 -> 3` when it changed.
fn replica_lines(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> Vec<String> {
    after
        .iter()
        .map(|(key, &count)| match before.get(key) {
            Some(&previous) if previous != count => format!("{key:<12} {previous} -> {count}"),
            _ => format!("{key:<12} {count}"),
        })
        .collect()
}

fn describe_exit(code: Option<i32>) -> String {
    match code {
        Some(0) => "exited with 0: the run completed".to_owned(),
        Some(1) => {
            "exited with 1: the run completed, but a service failed or lacked data".to_owned()
        }
        Some(2) => "exited with 2: the run could not run".to_owned(),
        Some(code) => format!("exited with {code}"),
        None => "was ended by a signal".to_owned(),
    }
}

fn print_ending(app: AppDir, clean: bool) {
    println!();
    if clean {
        let path = app.path().to_owned();
        drop(app);
        println!("Removed the app directory {}.", path.display());
        return;
    }
    let path = app.keep();
    println!("The app directory is kept at {}:", path.display());
    println!("  services.json   the config of these runs");
    println!("  state/          what the runs remember: panel.json, and per service a JSON file");
    println!("                  with its CPU samples and its last scale");
    println!("  autoscaler.log  every line the runs logged");
    println!(
        "Remove it with `rm -r {}`, or pass --clean next time.",
        path.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_points_at_panel() {
        let config = demo_config("http://127.0.0.1:4000");

        assert_eq!(config["api"]["base_url"], "http://127.0.0.1:4000");
        assert_eq!(config["api"]["token"], TOKEN);
        assert_eq!(config["global"]["ignore_exposed"], true);
        assert_eq!(
            config["logging"],
            json!({"level": "INFO", "format": "text", "console": true})
        );
    }

    #[test]
    fn config_has_service_settings() {
        let config = demo_config("http://127.0.0.1:4000");

        assert_eq!(config["shop_api"], json!({"max": 4}));
        assert_eq!(
            config["shop_worker"],
            json!({"down": 20, "cooldown_down_minutes": 10})
        );
    }

    #[test]
    fn configured_services_are_apps() {
        let panel = StandIn::start(PanelOptions::trpc(), demo_fleet());
        let apps = app_services(&panel);

        for (key, _, _) in SERVICE_SETTINGS {
            assert!(
                apps.contains_key(key),
                "{key} is not an app of the demo panel"
            );
        }
        assert!(!apps.contains_key("blog_db"));
    }

    #[test]
    fn replica_lines_show_changes() {
        let before = BTreeMap::from([("shop_api".to_owned(), 2), ("blog_web".to_owned(), 1)]);
        let after = BTreeMap::from([("shop_api".to_owned(), 3), ("blog_web".to_owned(), 1)]);

        assert_eq!(
            replica_lines(&before, &after),
            ["blog_web     1", "shop_api     2 -> 3"]
        );
    }
}
