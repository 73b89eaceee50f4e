use std::process::ExitCode;

use clap::Parser;

use autoscaler::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = autoscaler::commands::execute(cli);
    ExitCode::from(exit.code())
}
