//! The subcommands, each a function from parsed arguments to an [`Exit`].

mod debug_api;
mod run;
mod status;
mod table;
mod validate;

use crate::cli::{Cli, Command};
use crate::config::{self, AppPaths, Config, ConfigError, EnvOverrides};

/// The exit codes, one table for every subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done, or nothing to do (including another run in progress).
    Success,
    /// 1: the run completed, but a service failed or was held for lack of data.
    ServiceFailures,
    /// 2: could not run: bad config, missing token, panel unreachable or refusing the
    /// token, state folder not writable.
    CouldNotRun,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::ServiceFailures => 1,
            Exit::CouldNotRun => 2,
        }
    }
}

/// Runs the command the arguments name.
pub fn execute(cli: Cli) -> Exit {
    let paths = match app_paths(&cli) {
        Ok(paths) => paths,
        Err(message) => {
            eprintln!("error: {message}");
            return Exit::CouldNotRun;
        }
    };
    let command = match cli.command() {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}");
            return Exit::CouldNotRun;
        }
    };
    match command {
        Command::Run(args) => run::run(&paths, args),
        Command::Validate => validate::validate(&paths),
        Command::DebugApi(args) => debug_api::debug_api(&paths, &args),
        Command::Status(args) => status::status(&paths, args),
    }
}

fn app_paths(cli: &Cli) -> Result<AppPaths, String> {
    let executable = std::env::current_exe().map_err(|error| {
        format!("could not find the executable's own path: {error}; pass --config PATH")
    })?;
    Ok(config::resolve_paths(
        cli.config.as_deref(),
        cli.state_dir.as_deref(),
        &executable,
    ))
}

/// Loads the config file with the environment overrides, printing every problem on stderr.
fn load_config(paths: &AppPaths) -> Result<Config, Exit> {
    config::load(&paths.config_file, &EnvOverrides::from_env()).map_err(|errors| {
        print_config_errors(&paths.config_file, errors.errors());
        Exit::CouldNotRun
    })
}

/// Prints the problems under a header that names where they are: the config file, the
/// environment variables that override it, or both. Each problem names its key or variable.
fn print_config_errors(path: &std::path::Path, errors: &[ConfigError]) {
    let from_env = errors.iter().filter(|error| error.is_from_env()).count();
    let source = if from_env == 0 {
        format!("invalid config file {}", path.display())
    } else if from_env == errors.len() {
        let plural = if from_env == 1 { "" } else { "s" };
        format!(
            "invalid environment variable{plural} (the config file {} has no problems)",
            path.display()
        )
    } else {
        format!(
            "invalid config file {} and environment variables",
            path.display()
        )
    };

    match errors {
        // These already name the file.
        [error @ (ConfigError::NotFound { .. } | ConfigError::Unreadable { .. })] => {
            eprintln!("error: {error}");
        }
        [error] => eprintln!("error: {source}: {error}"),
        errors => {
            eprintln!("error: {source} ({} problems):", errors.len());
            for error in errors {
                eprintln!("  {error}");
            }
        }
    }
}
