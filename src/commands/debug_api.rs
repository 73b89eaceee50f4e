//! `autoscaler debug-api`: diagnoses the connection to the panel step by step, for a user
//! whose runs find no services or no CPU data.
//!
//! It loads the config as `run` does and prints a report on stdout, one marker per step
//! (`ok`, `warning` or `FAILED`) and what to do about each problem:
//!
//! 1. the base URL responds;
//! 2. the token is accepted;
//! 3. which transport generation serves the inventory, the panel version, and which monitor
//!    router serves the monitor calls;
//! 4. the inventory, the app services a run would consider with their policies, and the
//!    configured services the panel lacks;
//! 5. the replica state and CPU of one app service, from each source, with timings, and the
//!    decision a run takes for it, from the engine itself and the service's history;
//! 6. whether the CPU figures are percent of one core, judged against the host's CPU use.
//!
//! `--raw` adds every response body, redacted, with a summary of its structure.
//!
//! # Contracts
//! - Each request is sent once, without retries, and only reads: no write procedure is
//!   called, and nothing is written to the state folder or the log file.
//! - Neither the token nor an unredacted body is printed.
//! - Exits 0 when everything a run needs works (no step `FAILED`), 2 otherwise. It also exits
//!   2 when `--service` names no app service of the panel, and the last line then names the
//!   argument, not the panel, as the cause.

mod connection;
mod decision;
mod inventory;
mod network;
mod raw;
mod report;
mod scale;
mod service;
mod session;

use super::{load_config, Exit};
use crate::cli::DebugApiArgs;
use crate::config::{AppPaths, Config};
use crate::easypanel::{Client, ClientSettings, Generation, GenerationChoice};
use report::{emit, Step};
use session::Session;

/// The number of the last step.
const LAST_STEP: u8 = 6;

pub(super) fn debug_api(paths: &AppPaths, args: &DebugApiArgs) -> Exit {
    let config = match load_config(paths) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return Exit::CouldNotRun;
        }
    };

    if runtime.block_on(diagnose(&config, paths, args)) {
        Exit::Success
    } else {
        Exit::CouldNotRun
    }
}

/// Runs the steps, prints the report and returns true when everything a run needs works.
async fn diagnose(config: &Config, paths: &AppPaths, args: &DebugApiArgs) -> bool {
    emit(format_args!(
        "autoscaler {} debug-api: config {}, panel {}\n\n",
        env!("CARGO_PKG_VERSION"),
        std::path::absolute(&paths.config_file)
            .unwrap_or_else(|_| paths.config_file.clone())
            .display(),
        config.api.base_url
    ));

    let client = match Client::new(client_settings(config)) {
        Ok(client) => client,
        Err(error) => {
            let mut step = Step::new(1, format!("Reach the panel at {}", config.api.base_url));
            step.fail(error.to_string());
            emit(format_args!("{step}\n"));
            conclude(&[1], 1, None);
            return false;
        }
    };
    let mut session = Session::new(client, config);

    let last_step = run_steps(&mut session, paths, args).await;
    if args.raw {
        raw::print(&session);
    }
    conclude(
        session.failed_steps(),
        last_step,
        session.argument_problem(),
    )
}

/// Runs the steps in order, each printed when done, and returns the number of the last one
/// that ran: a step whose failure leaves nothing for the next ends the report.
async fn run_steps(session: &mut Session<'_>, paths: &AppPaths, args: &DebugApiArgs) -> u8 {
    let Some(detected) = connection::check(session, &paths.state_dir).await else {
        return session.failed_steps().first().copied().unwrap_or(3);
    };
    let Some(inventory) = inventory::check(session, &detected) else {
        return 4;
    };
    let table = service::check(
        session,
        &detected,
        &inventory,
        args.service.as_deref(),
        &paths.state_dir,
    )
    .await;
    scale::check(session, &detected, table.as_ref()).await;
    LAST_STEP
}

/// Prints the closing lines and returns true when no step failed, every step ran and no
/// argument was rejected.
fn conclude(failed_steps: &[u8], last_step: u8, argument_problem: Option<&str>) -> bool {
    if last_step < LAST_STEP {
        emit(format_args!(
            "Steps {} to {LAST_STEP} were not run, because step {last_step} failed.\n",
            last_step + 1
        ));
    }
    let runs_work = match failed_steps.first() {
        None if last_step == LAST_STEP => {
            emit("Result: everything a run needs works.\n");
            true
        }
        None => false,
        Some(first) => {
            let list: Vec<String> = failed_steps.iter().map(u8::to_string).collect();
            emit(format_args!(
                "Result: a run would not work. FAILED steps: {}; fix step {first} first.\n",
                list.join(", ")
            ));
            false
        }
    };

    let Some(problem) = argument_problem else {
        return runs_work;
    };
    let lead = if runs_work {
        "Exit code 2 only because"
    } else {
        "Also,"
    };
    emit(format_args!(
        "{lead} {problem}; pass one of the app services listed in step 5.\n"
    ));
    false
}

/// Builds the client settings. The generation and router given here do not matter, since
/// every probe names its own; there is no deadline, because each request has its timeout.
fn client_settings(config: &Config) -> ClientSettings {
    ClientSettings {
        base_url: config.api.base_url.clone(),
        token: config.api.token.expose().to_owned(),
        verify_ssl: config.api.verify_ssl,
        timeout: config.api.timeout,
        generation: GenerationChoice::Fixed(Generation::Trpc),
        monitor_router: None,
        deadline: None,
        host_cores: None,
    }
}
