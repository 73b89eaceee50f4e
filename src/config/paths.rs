//! Locations of a run's config file, state folder and log file.

use std::path::{Path, PathBuf};

use super::AppPaths;

const CONFIG_FILE_NAME: &str = "services.json";
const STATE_DIR_NAME: &str = "state";
const LOG_FILE_NAME: &str = "autoscaler.log";

/// Returns the paths a run uses, given the `--config` and `--state-dir` flags and the path
/// of the running executable (`std::env::current_exe()`).
///
/// The app directory is the parent of the folder holding the executable, so
/// `app/bin/autoscaler` uses `app/services.json`, `app/state/` and `app/autoscaler.log`.
/// `--config PATH` moves all three beside that file. `--state-dir` then moves only the state:
/// the log stays beside the config file.
pub fn resolve_paths(
    config_flag: Option<&Path>,
    state_dir_flag: Option<&Path>,
    executable: &Path,
) -> AppPaths {
    let (config_file, home) = match config_flag {
        Some(config_file) => {
            let home = config_file.parent().unwrap_or(Path::new(""));
            (config_file.to_owned(), home.to_owned())
        }
        None => {
            let home = app_dir(executable);
            (home.join(CONFIG_FILE_NAME), home)
        }
    };
    let state_dir = match state_dir_flag {
        Some(state_dir) => state_dir.to_owned(),
        None => home.join(STATE_DIR_NAME),
    };

    AppPaths {
        config_file,
        state_dir,
        log_file: home.join(LOG_FILE_NAME),
    }
}

/// Returns the parent of the executable's folder, or the folder itself when it is the root
/// (`/autoscaler`). An executable given by a bare relative name yields the empty path, that
/// is the working directory.
fn app_dir(executable: &Path) -> PathBuf {
    let bin = executable.parent().unwrap_or(Path::new(""));
    bin.parent().unwrap_or(bin).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXECUTABLE: &str = "/opt/app/bin/autoscaler";

    #[test]
    fn defaults_live_in_app_dir() {
        let paths = resolve_paths(None, None, Path::new(EXECUTABLE));

        assert_eq!(paths.config_file, Path::new("/opt/app/services.json"));
        assert_eq!(paths.state_dir, Path::new("/opt/app/state"));
        assert_eq!(paths.log_file, Path::new("/opt/app/autoscaler.log"));
    }

    #[test]
    fn config_flag_moves_state_and_log_beside_it() {
        let config = Path::new("/etc/autoscaler/prod.json");

        let paths = resolve_paths(Some(config), None, Path::new(EXECUTABLE));

        assert_eq!(paths.config_file, config);
        assert_eq!(paths.state_dir, Path::new("/etc/autoscaler/state"));
        assert_eq!(paths.log_file, Path::new("/etc/autoscaler/autoscaler.log"));
    }

    #[test]
    fn state_dir_flag_moves_only_state() {
        let state = Path::new("/var/lib/autoscaler");

        let paths = resolve_paths(None, Some(state), Path::new(EXECUTABLE));

        assert_eq!(paths.config_file, Path::new("/opt/app/services.json"));
        assert_eq!(paths.state_dir, state);
        assert_eq!(paths.log_file, Path::new("/opt/app/autoscaler.log"));
    }

    #[test]
    fn both_flags_keep_log_beside_config() {
        let config = Path::new("/etc/autoscaler/prod.json");
        let state = Path::new("/var/lib/autoscaler");

        let paths = resolve_paths(Some(config), Some(state), Path::new(EXECUTABLE));

        assert_eq!(paths.config_file, config);
        assert_eq!(paths.state_dir, state);
        assert_eq!(paths.log_file, Path::new("/etc/autoscaler/autoscaler.log"));
    }

    #[test]
    fn relative_config_keeps_relative_paths() {
        let paths = resolve_paths(
            Some(Path::new("services.json")),
            None,
            Path::new(EXECUTABLE),
        );

        assert_eq!(paths.config_file, Path::new("services.json"));
        assert_eq!(paths.state_dir, Path::new("state"));
        assert_eq!(paths.log_file, Path::new("autoscaler.log"));
    }

    #[test]
    fn executable_at_root_uses_root() {
        let paths = resolve_paths(None, None, Path::new("/autoscaler"));

        assert_eq!(paths.config_file, Path::new("/services.json"));
    }
}
