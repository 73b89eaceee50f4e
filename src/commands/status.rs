//! `autoscaler status`: what the state folder holds, without contacting the panel.

use super::Exit;
use crate::cli::StatusArgs;
use crate::config::AppPaths;

pub(super) fn status(_paths: &AppPaths, _args: StatusArgs) -> Exit {
    eprintln!("error: status is not built yet");
    Exit::CouldNotRun
}
