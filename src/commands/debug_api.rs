//! `autoscaler debug-api`: diagnoses the connection to the panel step by step.

use super::Exit;
use crate::cli::DebugApiArgs;
use crate::config::AppPaths;

pub(super) fn debug_api(_paths: &AppPaths, _args: &DebugApiArgs) -> Exit {
    eprintln!("error: debug-api is not built yet");
    Exit::CouldNotRun
}
