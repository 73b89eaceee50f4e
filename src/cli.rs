//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Scales Easypanel app services by CPU load. Run it from cron every five minutes.
///
/// Exit codes: 0 the run completed (also when another run was in progress), 1 the run
/// completed but a service failed or lacked data, 2 the run could not run.
#[derive(Debug, Parser)]
#[command(name = "autoscaler", version)]
pub struct Cli {
    /// Config file [default: services.json in the app directory, the parent of the folder
    /// holding the executable]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Folder for state files [default: state/ beside the config file]
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Top-level `--dry-run`, for `autoscaler --dry-run` without a subcommand.
    #[command(flatten)]
    pub run: RunArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Do one run: discover, observe, decide, apply, record (the default)
    Run(RunArgs),
    /// Check the config file and the environment overrides without contacting the panel
    Validate,
    /// Diagnose the connection to the panel step by step
    DebugApi(DebugApiArgs),
    /// Show what the state folder records about each service, without contacting the panel
    Status(StatusArgs),
}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct RunArgs {
    /// Decide and log "would scale", but send no write to the panel and change no state
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct DebugApiArgs {
    /// Service to inspect in detail, as project_service [default: the first app service]
    #[arg(long, value_name = "PROJECT_SERVICE")]
    pub service: Option<String>,

    /// Print each response body (secrets redacted) and a summary of its structure
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Clone, Copy, Default, Args)]
pub struct StatusArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

impl Cli {
    /// Returns the command to run; no subcommand means `run` with the top-level flags.
    ///
    /// Fails when `--dry-run` is given before a subcommand other than `run`.
    pub fn command(&self) -> Result<Command, String> {
        let command = match &self.command {
            Some(Command::Run(args)) => {
                return Ok(Command::Run(RunArgs {
                    dry_run: args.dry_run || self.run.dry_run,
                }))
            }
            Some(Command::Validate) => Command::Validate,
            Some(Command::DebugApi(args)) => Command::DebugApi(args.clone()),
            Some(Command::Status(args)) => Command::Status(*args),
            None => return Ok(Command::Run(self.run)),
        };
        if self.run.dry_run {
            return Err(
                "--dry-run applies to `run` only; remove it or use `autoscaler run --dry-run`"
                    .to_owned(),
            );
        }
        Ok(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("autoscaler").chain(args.iter().copied()))
    }

    #[test]
    fn definition_is_valid() {
        <Cli as CommandFactory>::command().debug_assert();
    }

    #[test]
    fn no_subcommand_runs() {
        let cli = parse(&["--dry-run"]).unwrap();

        assert!(matches!(
            cli.command(),
            Ok(Command::Run(RunArgs { dry_run: true }))
        ));
    }

    #[test]
    fn global_flags_work_after_subcommand() {
        let cli = parse(&[
            "status",
            "--config",
            "/x/services.json",
            "--state-dir",
            "/y",
        ])
        .unwrap();

        assert_eq!(cli.config, Some(PathBuf::from("/x/services.json")));
        assert_eq!(cli.state_dir, Some(PathBuf::from("/y")));
    }

    #[test]
    fn global_flags_work_before_subcommand() {
        let cli = parse(&["--config", "/x/services.json", "run", "--dry-run"]).unwrap();

        assert_eq!(cli.config, Some(PathBuf::from("/x/services.json")));
        assert!(matches!(
            cli.command(),
            Ok(Command::Run(RunArgs { dry_run: true }))
        ));
    }

    #[test]
    fn dry_run_before_other_subcommand_is_rejected() {
        let cli = parse(&["--dry-run", "status"]).unwrap();

        assert!(cli
            .command()
            .unwrap_err()
            .contains("--dry-run applies to `run` only"));
    }

    #[test]
    fn unknown_flag_is_rejected() {
        assert!(parse(&["--dryrun"]).is_err());
    }
}
