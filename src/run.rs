//! One run: discover → observe → decide → apply → record → summarize.
//!
//! # Contracts
//! - Nothing is written to the panel or the state folder in a dry run.
//! - A service's failure (a write the panel rejected, a state file that could not be saved)
//!   never stops the others. It is counted and turns the exit code to 1.
//! - Runs may be repeated or overlap: the lock makes the second one stop, and every write to
//!   the panel sets an absolute count after checking that the stored count is still the one
//!   the decision started from.

mod apply;
mod observe;
mod record;
mod report;

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{DateTime, Utc};
use thiserror::Error;
use tracing::{error, info, warn};

use crate::config::{AppPaths, Config, ProtocolChoice};
use crate::easypanel::{
    ApiError, Client, ClientSettings, Generation, GenerationChoice, ServiceRow,
};
use crate::engine::{self, Decision, Observation};
use crate::state::{Loaded, PanelMemory, ServiceState, StateError, StateStore, STATE_VERSION};

pub use report::Summary;

/// Options of one run that do not come from the config file.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Decide and log, but write nothing to the panel or the state folder.
    pub dry_run: bool,
}

/// The outcome of a run that could run at all.
#[derive(Debug)]
pub enum RunOutcome {
    Completed(Summary),
    /// Another run holds the lock; this one did nothing.
    AlreadyRunning,
}

/// The reason a run could not run.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("could not read the inventory: {0}")]
    Inventory(ApiError),
    #[error(
        "could not read the inventory: {error}; api.protocol is \"{protocol}\", but the panel \
         may speak the other API generation: set api.protocol to \"auto\""
    )]
    WrongProtocol {
        error: ApiError,
        protocol: &'static str,
    },
    #[error("could not set up the API client: {0}")]
    Client(ApiError),
}

/// One app service going through the run.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub key: String,
    pub project: String,
    pub name: String,
    pub observation: Observation,
    pub state: ServiceState,
    pub decision: Decision,
    /// Set when something about this service failed; the run then exits 1.
    pub failure: Option<String>,
    /// Set when the panel's write was made.
    pub applied: bool,
}

/// Runs once against the panel, at `now`.
///
/// Returns `Err` when the run could not run at all (state folder not writable, panel
/// unreachable or refusing the token, inventory unreadable). Per-service failures are
/// counted in the summary instead.
pub async fn run(
    config: &Config,
    paths: &AppPaths,
    options: RunOptions,
    now: DateTime<Utc>,
) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let deadline = started + config.global.max_run;

    // Lock: a dry run writes nothing, so it neither creates the folder nor takes the lock.
    let store = if options.dry_run {
        StateStore::read_only(&paths.state_dir)
    } else {
        StateStore::open(&paths.state_dir)?
    };
    let _lock = if options.dry_run {
        None
    } else {
        let Some(lock) = store.try_lock()? else {
            info!("another run is in progress (the state lock is held); nothing to do");
            return Ok(RunOutcome::AlreadyRunning);
        };
        let removed = store.prepare(&lock)?;
        if removed > 0 {
            info!("removed {removed} temporary state files left by an interrupted run");
        }
        Some(lock)
    };

    // Discover.
    // Facts remembered for another generation than the one forced by api.protocol do not
    // apply to this panel.
    let memory =
        store
            .load_panel(&config.api.base_url)
            .filter(|memory| match config.api.protocol {
                ProtocolChoice::Auto => true,
                ProtocolChoice::Trpc => memory.generation == Generation::Trpc,
                ProtocolChoice::Rpc => memory.generation == Generation::Rpc,
            });
    let client = Client::new(client_settings(config, memory.as_ref(), deadline))
        .map_err(RunError::Client)?;
    // With the generation and monitor router remembered, the monitor calls do not depend on
    // the inventory, so all three go out at once.
    let generation_before = client.generation();
    let (inventory, early_monitor) = if client.monitor_router().is_some() {
        let (inventory, monitor) = tokio::join!(client.inventory(), observe::read_monitor(&client));
        (inventory, Some(monitor))
    } else {
        (client.inventory().await, None)
    };
    let inventory = inventory.map_err(|error| inventory_error(config, error))?;
    if memory
        .as_ref()
        .is_some_and(|memory| memory.generation != client.generation())
    {
        info!(
            generation = client.generation().name(),
            "the panel's API generation changed since the last run; the new one is remembered"
        );
    }
    info!(
        version = env!("CARGO_PKG_VERSION"),
        panel_url = %config.api.base_url,
        generation = client.generation().name(),
        dry_run = options.dry_run,
        "run started"
    );
    for problem in &inventory.invalid_rows {
        error!(
            api_endpoint = "projects.listProjectsAndServices",
            "invalid inventory row left out: {problem}"
        );
    }
    warn_about_unknown_services(config, &inventory.services);

    let rows: Vec<_> = inventory
        .services
        .iter()
        .filter(|row| row.is_app())
        .collect();
    for row in &rows {
        for problem in &row.problems {
            error!(
                api_endpoint = "projects.listProjectsAndServices",
                service_name = %row.key(),
                "invalid field in the inventory: {problem}"
            );
        }
    }

    // Observe. Monitor data read under a generation that the inventory call then found
    // stale is read again.
    let monitor = match early_monitor {
        Some(monitor) if client.generation() == generation_before => monitor,
        Some(_) => {
            client.forget_monitor_router();
            observe::read_monitor(&client).await
        }
        None => observe::read_monitor(&client).await,
    };
    let mut observed = observe::observe(&client, config, &rows, monitor, now).await;
    // A remembered core count already bounded the client's CPU readings. One read only now
    // bounds them here.
    let host_cores = match &memory {
        Some(memory) if memory.generation == client.generation() => memory.host_cores,
        _ => {
            let cores = observe::host_cores(&client).await;
            if let Some(cores) = cores {
                observe::reject_above_host_cores(&mut observed.observations, &rows, cores);
            }
            cores
        }
    };
    if !options.dry_run {
        remember_panel(&store, config, &client, memory.as_ref(), host_cores, now);
    }

    // Decide.
    let mut candidates = decide_all(&store, config, &rows, observed.observations, now);
    for candidate in &candidates {
        report::log_decision(candidate, config.policy(&candidate.key), options.dry_run);
    }

    // Apply and record.
    if !options.dry_run {
        let held_writes = record::start_held(&store, &mut candidates, now);
        apply::apply(&client, config, &mut candidates, deadline).await;
        record::finish(&store, &mut candidates, now, held_writes).await;
    }

    // Summarize.
    let summary = Summary::new(
        inventory.services.len() + inventory.invalid_rows.len(),
        inventory.invalid_rows.len(),
        &candidates,
        client.request_count(),
        started.elapsed(),
        options.dry_run,
    );
    summary.log(options.dry_run);
    Ok(RunOutcome::Completed(summary))
}

/// Explains an inventory failure, pointing at `api.protocol` when a forced generation may
/// be the wrong one.
fn inventory_error(config: &Config, error: ApiError) -> RunError {
    let protocol = match config.api.protocol {
        ProtocolChoice::Auto => return RunError::Inventory(error),
        ProtocolChoice::Trpc => "trpc",
        ProtocolChoice::Rpc => "rpc",
    };
    if error.is_wrong_generation() {
        RunError::WrongProtocol { error, protocol }
    } else {
        RunError::Inventory(error)
    }
}

/// Loads each service's history and decides. A state file that cannot be read is reported
/// and the service decides with no history.
fn decide_all(
    store: &StateStore,
    config: &Config,
    rows: &[&ServiceRow],
    observations: Vec<Observation>,
    now: DateTime<Utc>,
) -> Vec<Candidate> {
    let mut candidates = Vec::with_capacity(rows.len());
    for (row, observation) in rows.iter().zip(observations) {
        let key = row.key();
        let loaded = match store.load(&key) {
            Ok(loaded) => loaded,
            Err(error) => {
                error!(service_name = %key, "state file could not be loaded: {error}");
                Loaded {
                    state: ServiceState::new(&key),
                    set_aside: None,
                }
            }
        };
        if let Some(set_aside) = &loaded.set_aside {
            match &set_aside.moved_to {
                Some(moved_to) => warn!(
                    service_name = %key,
                    "state file {}; it was moved to {} and the service starts with no history",
                    set_aside.problem,
                    moved_to.display()
                ),
                None => warn!(
                    service_name = %key,
                    "state file {}; this dry run leaves it in place and decides with no history",
                    set_aside.problem
                ),
            }
        }
        report::log_policy(&key, config.policy(&key));
        let decision = engine::decide(
            config.policy(&key),
            &observation,
            &loaded.state.history(),
            now,
        );
        candidates.push(Candidate {
            key,
            project: row.project.clone(),
            name: row.name.clone(),
            observation,
            state: loaded.state,
            decision,
            failure: None,
            applied: false,
        });
    }
    candidates
}

fn client_settings(
    config: &Config,
    memory: Option<&PanelMemory>,
    deadline: Instant,
) -> ClientSettings {
    let generation = match config.api.protocol {
        ProtocolChoice::Auto => GenerationChoice::Detect {
            remembered: memory.map(|memory| memory.generation),
        },
        ProtocolChoice::Trpc => GenerationChoice::Fixed(Generation::Trpc),
        ProtocolChoice::Rpc => GenerationChoice::Fixed(Generation::Rpc),
    };
    ClientSettings {
        base_url: config.api.base_url.clone(),
        token: config.api.token.expose().to_owned(),
        verify_ssl: config.api.verify_ssl,
        timeout: config.api.timeout,
        generation,
        monitor_router: memory.and_then(|memory| memory.monitor_router),
        deadline: Some(deadline),
        host_cores: memory.and_then(|memory| memory.host_cores),
    }
}

/// Warns once per run about each configured service the panel does not have as an app
/// service: it may be a typo, or a database the autoscaler never touches.
fn warn_about_unknown_services(config: &Config, services: &[ServiceRow]) {
    let app_keys: BTreeSet<String> = services
        .iter()
        .filter(|row| row.is_app())
        .map(|row| row.key())
        .collect();
    for key in config.services.keys() {
        if app_keys.contains(key) {
            continue;
        }
        match services.iter().find(|row| &row.key() == key) {
            Some(row) => warn!(
                service_name = %key,
                "configured service is a {} service; only app services are scaled",
                row.kind
            ),
            None => warn!(
                service_name = %key,
                "configured service not found in the panel; check the spelling (project_service)"
            ),
        }
    }
}

/// Stores what was detected about the panel when it differs from what was remembered.
fn remember_panel(
    store: &StateStore,
    config: &Config,
    client: &Client,
    memory: Option<&PanelMemory>,
    host_cores: Option<u32>,
    now: DateTime<Utc>,
) {
    let detected = PanelMemory {
        version: STATE_VERSION,
        base_url: config.api.base_url.clone(),
        generation: client.generation(),
        monitor_router: client.monitor_router(),
        host_cores,
        detected_at: now,
    };
    let unchanged = memory.is_some_and(|memory| {
        memory.generation == detected.generation
            && memory.monitor_router == detected.monitor_router
            && memory.host_cores == detected.host_cores
    });
    if unchanged {
        return;
    }
    if let Err(error) = store.save_panel(&detected) {
        warn!("could not remember the panel's API generation: {error}");
    }
}
