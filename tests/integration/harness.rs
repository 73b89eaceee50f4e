//! Helpers shared by the integration tests: a stand-in panel, an app directory in a
//! temporary folder, and the real `autoscaler` binary run against them.

use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use easypanel_standin::{PanelOptions, ServiceSpec, StandIn};
use serde_json::{json, Value};

/// No run of the binary may take longer than this; a hung run fails its test.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A stand-in panel and an app directory holding `services.json` and `state/`.
pub struct Harness {
    pub panel: StandIn,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl Harness {
    /// Starts a panel with `services` and writes a config whose service entries are
    /// `services_config`, pointing at the panel with its token.
    pub fn new(
        options: PanelOptions,
        services: Vec<ServiceSpec>,
        services_config: Value,
    ) -> Harness {
        let panel = StandIn::start(options, services);
        let dir = tempfile::tempdir().expect("temporary folder");
        let config_path = dir.path().join("services.json");
        let harness = Harness {
            panel,
            dir,
            config_path,
        };
        harness.write_config(services_config);
        harness
    }

    /// Writes `services.json` with the panel's URL and token, fast apply settings, and
    /// the given top-level entries merged in (a `global` entry is merged into the
    /// defaults).
    pub fn write_config(&self, entries: Value) {
        let mut config = json!({
            "api": {"base_url": self.panel.url(), "token": self.panel.options().token, "timeout_seconds": 10},
            "global": {"apply_wait_seconds": 2},
            "logging": {"level": "DEBUG"}
        });
        for (key, value) in entries.as_object().expect("config entries are an object") {
            match (config.get_mut(key), value) {
                (Some(Value::Object(existing)), Value::Object(extra)) => {
                    existing.extend(extra.clone());
                }
                _ => {
                    config[key] = value.clone();
                }
            }
        }
        fs::write(
            &self.config_path,
            serde_json::to_string_pretty(&config).unwrap(),
        )
        .expect("write services.json");
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Runs the binary with `--config` and `args`, without the environment overrides.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run autoscaler")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::cargo_bin("autoscaler").expect("autoscaler binary");
        command
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .env_remove("EASYPANEL_API_URL")
            .env_remove("EASYPANEL_API_TOKEN")
            .env("NO_COLOR", "1")
            .timeout(RUN_TIMEOUT);
        command
    }

    /// Returns a service's state file as JSON, if it exists.
    pub fn state(&self, key: &str) -> Option<Value> {
        let text = fs::read_to_string(self.state_dir().join(format!("{key}.json"))).ok()?;
        Some(serde_json::from_str(&text).expect("state file is JSON"))
    }

    /// Moves every time in the state files `minutes` into the past, as if the runs had
    /// happened that long ago. This lets tests cross a cooldown without waiting.
    pub fn age_state(&self, minutes: i64) {
        for entry in fs::read_dir(self.state_dir()).expect("state folder") {
            let path = entry.unwrap().path();
            if path.extension().and_then(|ext| ext.to_str()) != Some("json") {
                continue;
            }
            let mut value: Value =
                serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
            shift_times(&mut value, minutes);
            fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
        }
    }

    /// Returns the replicas stored in the panel for a service.
    pub fn replicas(&self, key: &str) -> u64 {
        self.panel
            .service(key)
            .expect("service exists")
            .replicas()
            .expect("replicas")
    }

    /// Returns the procedures the panel received, in order.
    pub fn procedures(&self) -> Vec<String> {
        self.panel
            .requests()
            .into_iter()
            .filter_map(|request| request.procedure)
            .collect()
    }

    pub fn write_calls(&self) -> usize {
        self.procedures()
            .iter()
            .filter(|name| name.ends_with("updateDeploy") || name.ends_with("deployService"))
            .count()
    }

    /// Asserts that every request the panel received followed the API's rules.
    pub fn assert_no_violations(&self) {
        let violations = self.panel.violations();
        assert!(
            violations.is_empty(),
            "requests broke the API's rules: {violations:#?}"
        );
    }
}

fn shift_times(value: &mut Value, minutes: i64) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if key == "at" || key == "detected_at" {
                    if let Some(text) = field.as_str() {
                        let time =
                            chrono::DateTime::parse_from_rfc3339(text).expect("RFC 3339 time");
                        let shifted = time - chrono::Duration::minutes(minutes);
                        *field = Value::String(shifted.to_rfc3339());
                    }
                } else {
                    shift_times(field, minutes);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| shift_times(item, minutes)),
        _ => {}
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Returns stdout and stderr together, for checks that do not care which stream.
pub fn all_output(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

pub fn exit_code(output: &Output) -> i32 {
    output.status.code().expect("exit code, not a signal")
}

/// Builds an app service with `replicas` containers, each at `cpu` percent.
pub fn app(project: &str, name: &str, replicas: u32, cpu: f64) -> ServiceSpec {
    ServiceSpec::new(project, name)
        .replicas(replicas)
        .cpu(vec![cpu; replicas as usize])
}
