//! `autoscaler run`: one run against the panel.

use chrono::Utc;
use tracing::{error, warn};

use super::{load_config, Exit};
use crate::cli::RunArgs;
use crate::config::{self, AppPaths};
use crate::logging::{self, InitOptions};
use crate::run::{self, RunOptions, RunOutcome};

pub(super) fn run(paths: &AppPaths, args: RunArgs) -> Exit {
    let config = match load_config(paths) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let _guard = logging::init(&config.logging, &paths.log_file, InitOptions::default());
    if let Some(warning) = config::token_permission_warning(&paths.config_file, &config) {
        warn!("{warning}");
    }
    if !config.api.verify_ssl {
        if config.api.base_url.starts_with("https://") {
            warn!(
                panel_url = %config.api.base_url,
                "TLS certificate verification is off (api.verify_ssl: false); the token can be read by anyone who can intercept the connection"
            );
        } else {
            warn!(
                panel_url = %config.api.base_url,
                "TLS certificate verification is off (api.verify_ssl: false), which has no effect on an http:// URL: the token travels unencrypted, so use https:// for a panel on another host"
            );
        }
    }

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            error!(
                critical = true,
                "could not start the async runtime: {error}"
            );
            return Exit::CouldNotRun;
        }
    };
    let options = RunOptions {
        dry_run: args.dry_run,
    };
    match runtime.block_on(run::run(&config, paths, options, Utc::now())) {
        Ok(RunOutcome::Completed(summary)) if summary.has_failures() => Exit::ServiceFailures,
        Ok(_) => Exit::Success,
        Err(failure) => {
            error!(critical = true, "run failed: {failure}");
            Exit::CouldNotRun
        }
    }
}
