//! `autoscaler status`: what the state folder records about each service, without
//! contacting the panel.
//!
//! # Contracts
//! - Reads only: no request to the panel, and nothing in the state folder is created, moved
//!   or changed. A state file a run would set aside is reported and left where it is.
//! - Needs no token. The config file is read only for the cooldowns of each service's
//!   policy. When it cannot be loaded, the built-in defaults apply and the output states it.
//! - The state folder is the one a run uses (`--state-dir`, or `state/` beside the config
//!   file), which does not depend on the config file's content.

mod json;
mod service;
mod text;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::Exit;
use crate::cli::StatusArgs;
use crate::config::{self, AppPaths, Config, EnvOverrides};
use crate::engine::Policy;
use crate::state::{PanelMemory, StateStore, STATE_VERSION};
use service::ServiceStatus;

/// The file in which a run remembers what it detected about the panel.
const PANEL_FILE: &str = "panel.json";

/// Stands in for the API token while the config file is loaded for its policies only, so
/// that a missing or invalid token does not hide them.
const PLACEHOLDER_TOKEN: &str = "status-reads-no-token";

/// Everything the status shows, gathered before anything is printed.
#[derive(Debug)]
struct Status {
    pub state_dir: PathBuf,
    pub does_state_dir_exist: bool,
    pub config_file: PathBuf,
    /// The problem that kept the config file from loading; the cooldowns are then the
    /// defaults.
    pub config_problem: Option<String>,
    pub panel: PanelFacts,
    /// Set when the remembered panel facts belong to another URL than the configured one.
    pub configured_base_url: Option<String>,
    pub services: Vec<ServiceStatus>,
    /// Files that earlier runs set aside as unreadable (`*.json.corrupt-*`).
    pub set_aside_files: usize,
    pub now: DateTime<Utc>,
}

/// The content of `state/panel.json`.
#[derive(Debug)]
enum PanelFacts {
    Missing,
    Unreadable(String),
    Remembered(PanelMemory),
}

pub(super) fn status(paths: &AppPaths, args: StatusArgs) -> Exit {
    let now = Utc::now();
    let (config, config_problem) = match load_policies(&paths.config_file) {
        Ok(config) => (Some(config), None),
        Err(problem) => (None, Some(problem)),
    };
    let policy = |key: &str| match &config {
        Some(config) => config.policy(key).clone(),
        None => Policy::default(),
    };

    let store = StateStore::read_only(&paths.state_dir);
    let keys = match store.service_keys() {
        Ok(keys) => keys,
        Err(error) => {
            eprintln!(
                "error: could not list the state folder {}: {error}; check its permissions, or \
                 pick another folder with --state-dir",
                paths.state_dir.display()
            );
            return Exit::CouldNotRun;
        }
    };
    let services = keys
        .iter()
        .map(|key| {
            let policy = policy(key);
            match store.load(key) {
                Ok(loaded) => match loaded.set_aside {
                    Some(set_aside) => ServiceStatus::unusable(key, set_aside.problem, &policy),
                    None => ServiceStatus::new(&loaded.state, &policy, now),
                },
                Err(error) => ServiceStatus::unusable(key, error.to_string(), &policy),
            }
        })
        .collect();

    let status = Status {
        state_dir: absolute(&paths.state_dir),
        does_state_dir_exist: paths.state_dir.is_dir(),
        config_file: absolute(&paths.config_file),
        config_problem,
        panel: read_panel(&paths.state_dir),
        configured_base_url: config.map(|config| config.api.base_url),
        services,
        set_aside_files: count_set_aside(&paths.state_dir),
        now,
    };
    let output = if args.json {
        json::render(&status)
    } else {
        text::render(&status)
    };
    // A closed stdout (the reader quit early, as `| head` does) is not an error of status.
    let _ = io::stdout().lock().write_all(output.as_bytes());
    Exit::Success
}

/// Returns the path made absolute for display, so the output shows where it looked
/// whatever the working directory was.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Loads the config file for its policies, with a placeholder token. Returns the first
/// problem, and how many more there are, when it cannot be loaded.
fn load_policies(config_file: &Path) -> Result<Config, String> {
    let env = EnvOverrides {
        api_token: Some(PLACEHOLDER_TOKEN.to_owned()),
        ..EnvOverrides::from_env()
    };
    config::load(config_file, &env).map_err(|errors| {
        let first = errors
            .errors()
            .first()
            .map_or_else(|| errors.to_string(), ToString::to_string);
        match errors.errors().len() {
            0 | 1 => first,
            count => format!(
                "{first} (and {} more problems; `autoscaler validate` lists them)",
                count - 1
            ),
        }
    })
}

/// Reads `panel.json` without judging whether it fits the configured URL.
fn read_panel(state_dir: &Path) -> PanelFacts {
    let path = state_dir.join(PANEL_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return PanelFacts::Missing,
        Err(error) => return PanelFacts::Unreadable(format!("could not be read: {error}")),
    };
    match serde_json::from_slice::<PanelMemory>(&bytes) {
        Ok(memory) if memory.version == STATE_VERSION => PanelFacts::Remembered(memory),
        Ok(memory) => PanelFacts::Unreadable(format!(
            "has format version {}, but this build reads version {STATE_VERSION}",
            memory.version
        )),
        Err(error) => PanelFacts::Unreadable(format!("is not valid JSON of panel facts: {error}")),
    }
}

/// Counts the files earlier runs set aside; an unreadable folder counts none.
fn count_set_aside(state_dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(state_dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .contains(".json.corrupt-")
        })
        .count()
}
