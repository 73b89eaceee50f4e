//! The app directory the autoscaler runs in, and where its binary is.
//!
//! An app directory contains `services.json`, the `state/` folder and `autoscaler.log`, as an
//! installed autoscaler's does; here it lives in a temporary folder.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration};
use serde_json::{json, Value};

/// Path of the release binary that `./build.sh` writes, relative to the workspace root.
const BUILT_BINARY: &str = "bin/autoscaler";

/// Panel memory in the state folder; the benchmark keeps it between runs.
pub const PANEL_FILE: &str = "panel.json";

/// Returns the autoscaler binary to run: `explicit` when given, else `bin/autoscaler` in
/// the workspace this crate was built from.
///
/// Fails when the file does not exist, with a message that names `./build.sh`.
pub fn autoscaler_binary(explicit: Option<&Path>) -> Result<PathBuf, String> {
    locate_binary(explicit, &workspace_root())
}

fn locate_binary(explicit: Option<&Path>, root: &Path) -> Result<PathBuf, String> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None => root.join(BUILT_BINARY),
    };
    if path.is_file() {
        return Ok(path);
    }
    Err(match explicit {
        Some(_) => format!("the autoscaler binary {} does not exist", path.display()),
        None => format!(
            "the autoscaler binary {} does not exist; run ./build.sh in {} first, or pass --autoscaler PATH",
            path.display(),
            root.display()
        ),
    })
}

/// Returns the workspace root: the parent of this crate's folder.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_owned()
}

/// A temporary app directory. It is removed when dropped, unless [`AppDir::keep`] was called.
pub struct AppDir {
    dir: tempfile::TempDir,
}

impl AppDir {
    /// Creates an empty app directory in the system's temporary folder, its name starting
    /// with `prefix`.
    pub fn create(prefix: &str) -> io::Result<AppDir> {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
        Ok(AppDir { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_file(&self) -> PathBuf {
        self.path().join("services.json")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.path().join("state")
    }

    /// Writes `config` to `services.json`, readable by the owner only, as the README
    /// recommends for a file that contains a token.
    pub fn write_config(&self, config: &Value) -> io::Result<()> {
        let text = serde_json::to_string_pretty(config).map_err(io::Error::other)?;
        fs::write(self.config_file(), text + "\n")?;
        restrict_to_owner(&self.config_file())
    }

    /// Moves every time in the state files `minutes` into the past, as if the runs that
    /// wrote them had happened that much earlier. Returns how many files it changed.
    pub fn age_state(&self, minutes: i64) -> io::Result<usize> {
        let mut changed = 0;
        for path in json_files(&self.state_dir())? {
            let text = fs::read_to_string(&path)?;
            let mut value: Value = serde_json::from_str(&text).map_err(|error| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {error}", path.display()),
                )
            })?;
            if shift_times(&mut value, Duration::minutes(minutes)) > 0 {
                fs::write(
                    &path,
                    serde_json::to_string_pretty(&value).map_err(io::Error::other)?,
                )?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Removes every file in the state folder except the panel memory, so the next run
    /// reuses the detected panel but has no history of any service.
    pub fn forget_services(&self) -> io::Result<()> {
        for entry in fs::read_dir(self.state_dir())? {
            let entry = entry?;
            if entry.file_name() != PANEL_FILE && entry.file_type()?.is_file() {
                fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }

    /// Keeps the folder on disk and returns its path.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }
}

/// Returns the config an autoscaler needs to reach `panel_url` with `token`, with the
/// given sections merged over it: an object entry such as `global` is merged key by key,
/// any other replaces.
pub fn config_for(panel_url: &str, token: &str, extra: Value) -> Value {
    let mut config = json!({
        "api": {"base_url": panel_url, "token": token},
    });
    let Value::Object(extra) = extra else {
        return config;
    };
    for (key, value) in extra {
        match (config.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
            (_, value) => {
                config[key.as_str()] = value;
            }
        }
    }
    config
}

/// Moves every RFC 3339 string under a key `at` or `detected_at` back by `by`, at any
/// depth. Returns how many times it moved.
fn shift_times(value: &mut Value, by: Duration) -> usize {
    match value {
        Value::Object(map) => map
            .iter_mut()
            .map(|(key, field)| match field {
                Value::String(text) if key == "at" || key == "detected_at" => {
                    match DateTime::parse_from_rfc3339(text) {
                        Ok(time) => {
                            *text = (time - by).to_rfc3339();
                            1
                        }
                        Err(_) => 0,
                    }
                }
                _ => shift_times(field, by),
            })
            .sum(),
        Value::Array(items) => items.iter_mut().map(|item| shift_times(item, by)).sum(),
        _ => 0,
    }
}

fn json_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn restrict_to_owner(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_times_moves_scale_and_sample_times() {
        let mut state = json!({
            "version": 1,
            "service": "shop_api",
            "last_scale": {"at": "2025-01-15T10:30:00+00:00", "from": 2, "to": 3, "direction": "up"},
            "samples": [
                {"at": "2025-01-15T10:25:00Z", "cpu_percent": 90.0},
                {"at": "2025-01-15T10:30:00Z", "cpu_percent": 91.5}
            ]
        });

        let moved = shift_times(&mut state, Duration::minutes(5));

        assert_eq!(moved, 3);
        assert_eq!(state["last_scale"]["at"], "2025-01-15T10:25:00+00:00");
        assert_eq!(state["samples"][0]["at"], "2025-01-15T10:20:00+00:00");
        assert_eq!(state["samples"][1]["at"], "2025-01-15T10:25:00+00:00");
        assert_eq!(state["samples"][1]["cpu_percent"], 91.5);
        assert_eq!(state["last_scale"]["to"], 3);
    }

    #[test]
    fn shift_times_moves_detection_time() {
        let mut panel = json!({"generation": "trpc", "detected_at": "2025-01-15T10:30:00.5+00:00"});

        shift_times(&mut panel, Duration::minutes(5));

        assert_eq!(panel["detected_at"], "2025-01-15T10:25:00.500+00:00");
    }

    #[test]
    fn shift_times_leaves_other_strings_alone() {
        let mut value = json!({"service": "at", "note": {"at": "not a time"}, "created": "2025-01-15T10:30:00Z"});
        let before = value.clone();

        let moved = shift_times(&mut value, Duration::minutes(5));

        assert_eq!(moved, 0);
        assert_eq!(value, before);
    }

    #[test]
    fn age_state_rewrites_state_files() {
        let app = AppDir::create("standin-test-").unwrap();
        fs::create_dir(app.state_dir()).unwrap();
        let file = app.state_dir().join("shop_api.json");
        fs::write(
            &file,
            r#"{"samples": [{"at": "2025-01-15T10:30:00Z", "cpu_percent": 5.0}]}"#,
        )
        .unwrap();
        fs::write(app.state_dir().join(".lock"), "").unwrap();

        let changed = app.age_state(5).unwrap();

        let value: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(changed, 1);
        assert_eq!(value["samples"][0]["at"], "2025-01-15T10:25:00+00:00");
    }

    #[test]
    fn forget_services_keeps_panel_memory() {
        let app = AppDir::create("standin-test-").unwrap();
        fs::create_dir(app.state_dir()).unwrap();
        for name in [PANEL_FILE, "shop_api.json", ".lock"] {
            fs::write(app.state_dir().join(name), "{}").unwrap();
        }

        app.forget_services().unwrap();

        let mut left: Vec<String> = fs::read_dir(app.state_dir())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [PANEL_FILE]);
    }

    #[test]
    fn config_merges_sections() {
        let config = config_for(
            "http://127.0.0.1:3000",
            "secret",
            json!({"api": {"max_concurrency": 16}, "global": {"ignore_exposed": true}}),
        );

        assert_eq!(
            config,
            json!({
                "api": {"base_url": "http://127.0.0.1:3000", "token": "secret", "max_concurrency": 16},
                "global": {"ignore_exposed": true}
            })
        );
    }

    #[test]
    fn written_config_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let app = AppDir::create("standin-test-").unwrap();

        app.write_config(&json!({"api": {}})).unwrap();

        let mode = fs::metadata(app.config_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn missing_built_binary_names_the_build_script() {
        let root = tempfile::tempdir().unwrap();

        let error = locate_binary(None, root.path()).unwrap_err();

        assert!(
            error.contains("bin/autoscaler does not exist; run ./build.sh"),
            "{error}"
        );
    }

    #[test]
    fn missing_explicit_binary_is_named() {
        let error =
            locate_binary(Some(Path::new("/nonexistent/autoscaler")), Path::new("/")).unwrap_err();

        assert_eq!(
            error,
            "the autoscaler binary /nonexistent/autoscaler does not exist"
        );
    }

    #[test]
    fn built_binary_is_found_under_bin() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("bin")).unwrap();
        fs::write(root.path().join("bin/autoscaler"), "").unwrap();

        let path = locate_binary(None, root.path()).unwrap();

        assert_eq!(path, root.path().join("bin/autoscaler"));
    }
}
