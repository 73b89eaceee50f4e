//! `autoscaler validate`: checks the config file without contacting the panel.

use super::{load_config, Exit};
use crate::config::{self, AppPaths};

pub(super) fn validate(paths: &AppPaths) -> Exit {
    let config = match load_config(paths) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    println!("{} is valid", paths.config_file.display());
    for line in config::describe(&config) {
        println!("  {line}");
    }
    if let Some(warning) = config::token_permission_warning(&paths.config_file, &config) {
        eprintln!("warning: {warning}");
    }
    Exit::Success
}
