//! The state store: one JSON file per service under the state folder, a file that remembers
//! what was detected about the panel, and the lock that keeps two runs from acting at once.
//!
//! # Contracts
//! - Every write is atomic: the new content goes to a temporary file in the same folder,
//!   then is renamed over the old file. A process killed at any instant leaves either the
//!   old or the new file, never a torn one.
//! - A [`Durability::Synced`] write is also flushed to disk before the rename, so it
//!   survives a power loss. Runs use it for scale events, which guard the cooldown. CPU
//!   samples are not synced, because one `fsync` per service made runs over large fleets
//!   take seconds, and a sample lost to a power cut only delays the next scale down.
//! - A file that cannot be read or parsed is renamed aside (`*.corrupt-<time>`), never
//!   deleted, and the service starts with no history.
//! - The lock is an OS file lock on `state/.lock`, released by the OS when the process
//!   ends, so a killed run never blocks the next one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::easypanel::{Generation, MonitorRouter};
use crate::engine::{CpuSample, History, ScaleEvent, SAMPLE_RETENTION};

/// Format version of the service state files this build writes and reads.
pub const STATE_VERSION: u32 = 1;

const LOCK_FILE: &str = ".lock";
const PANEL_FILE: &str = "panel.json";

#[derive(Debug, Error)]
pub enum StateError {
    #[error(
        "state folder {path} cannot be created or written: {cause}; check its owner and \
         permissions, or pick another folder with --state-dir"
    )]
    FolderNotWritable { path: PathBuf, cause: io::Error },

    #[error("could not write state file {path}: {cause}; the previous file is unchanged")]
    Write { path: PathBuf, cause: io::Error },

    #[error("could not take the run lock {path}: {cause}")]
    Lock { path: PathBuf, cause: io::Error },

    #[error("{key:?} is not a valid service name for a state file (expected [a-z0-9_-])")]
    InvalidKey { key: String },
}

/// The state kept about one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceState {
    pub version: u32,
    pub service: String,
    pub last_scale: Option<ScaleEvent>,
    /// CPU samples of the last hour, oldest first.
    #[serde(default)]
    pub samples: Vec<CpuSample>,
}

impl ServiceState {
    pub fn new(service: &str) -> ServiceState {
        ServiceState {
            version: STATE_VERSION,
            service: service.to_owned(),
            last_scale: None,
            samples: Vec::new(),
        }
    }

    pub fn history(&self) -> History {
        History {
            last_scale: self.last_scale,
            samples: self.samples.clone(),
        }
    }

    /// Adds a CPU sample and drops those older than the retention window.
    pub fn record_sample(&mut self, at: DateTime<Utc>, cpu_percent: f64) {
        self.samples.push(CpuSample { at, cpu_percent });
        self.samples.sort_by_key(|sample| sample.at);
        let retention = chrono::Duration::from_std(SAMPLE_RETENTION).unwrap_or_default();
        self.samples
            .retain(|sample| at.signed_duration_since(sample.at) <= retention);
    }
}

/// Facts detected about the panel, kept so later runs need not probe again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelMemory {
    pub version: u32,
    /// The panel this was detected on; a different `api.base_url` detects again.
    pub base_url: String,
    pub generation: Generation,
    pub monitor_router: Option<MonitorRouter>,
    pub host_cores: Option<u32>,
    pub detected_at: DateTime<Utc>,
}

/// A service's state as loaded, with what had to be done to load it.
#[derive(Debug)]
pub struct Loaded {
    pub state: ServiceState,
    /// The problem of an unreadable file, and where it was moved.
    pub set_aside: Option<SetAside>,
}

#[derive(Debug)]
pub struct SetAside {
    /// The path the file was moved to; `None` for a read-only store, which moves nothing.
    pub moved_to: Option<PathBuf>,
    pub problem: String,
}

/// The lock held for the length of a run. Dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
    writable: bool,
}

impl StateStore {
    /// Opens the state folder, creating it if needed. Whether it can be written is checked
    /// by [`StateStore::prepare`], once the run holds the lock.
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        fs::create_dir_all(dir).map_err(|source| StateError::FolderNotWritable {
            path: dir.to_owned(),
            cause: source,
        })?;
        Ok(StateStore {
            dir: dir.to_owned(),
            writable: true,
        })
    }

    /// Checks that the folder can be written and removes the temporary files that killed
    /// runs left behind. Only the lock holder writes temporary files, so while `_lock` is
    /// held every temporary file found is stale. Returns how many were removed.
    pub fn prepare(&self, _lock: &RunLock) -> Result<usize, StateError> {
        let not_writable = |source| StateError::FolderNotWritable {
            path: self.dir.clone(),
            cause: source,
        };
        let probe = self
            .dir
            .join(format!(".write-check-{}.tmp", std::process::id()));
        File::create(&probe).map_err(not_writable)?;
        fs::remove_file(&probe).map_err(not_writable)?;

        let mut removed = 0;
        for entry in fs::read_dir(&self.dir).map_err(not_writable)? {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let is_temporary = name
                .to_str()
                .is_some_and(|name| name.starts_with('.') && name.ends_with(".tmp"));
            if is_temporary && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Opens a state folder for reading only; it need not exist. Such a store never
    /// writes, and leaves unreadable files where they are.
    pub fn read_only(dir: &Path) -> StateStore {
        StateStore {
            dir: dir.to_owned(),
            writable: false,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes the run lock. Returns `Ok(None)` when another run holds it.
    pub fn try_lock(&self) -> Result<Option<RunLock>, StateError> {
        let path = self.dir.join(LOCK_FILE);
        let lock_error = |source| StateError::Lock {
            path: path.clone(),
            cause: source,
        };
        // A lock file that cannot be created or opened for writing means the folder cannot
        // be written.
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StateError::FolderNotWritable {
                path: self.dir.clone(),
                cause: source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(source)) => Err(lock_error(source)),
        }
    }

    /// Loads a service's state. A missing file is a service without history; an unreadable
    /// or invalid one is reported in [`Loaded::set_aside`] and, unless the store is
    /// read-only, renamed aside.
    pub fn load(&self, key: &str) -> Result<Loaded, StateError> {
        let path = self.service_path(key)?;
        let fresh = |set_aside| Loaded {
            state: ServiceState::new(key),
            set_aside,
        };
        let problem = match fs::read(&path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(fresh(None)),
            Err(error) => format!("could not be read: {error}"),
            Ok(bytes) => match parse_service_state(&bytes, key) {
                Ok(state) => {
                    return Ok(Loaded {
                        state,
                        set_aside: None,
                    })
                }
                Err(problem) => problem,
            },
        };
        let moved_to = if self.writable {
            Some(self.set_aside(&path)?)
        } else {
            None
        };
        Ok(fresh(Some(SetAside { moved_to, problem })))
    }

    /// Writes a service's state atomically, its content flushed to disk for
    /// [`Durability::Synced`]. Call [`StateStore::sync_folder`] after a batch of writes.
    pub fn save(&self, state: &ServiceState, durability: Durability) -> Result<(), StateError> {
        let path = self.service_path(&state.service)?;
        write_json_atomically(&path, state, durability)
    }

    /// Flushes the folder itself to disk, which makes the renames of earlier writes
    /// durable. One call after a batch of writes serves them all.
    pub fn sync_folder(&self) -> Result<(), StateError> {
        File::open(&self.dir)
            .and_then(|folder| folder.sync_all())
            .map_err(|source| StateError::Write {
                path: self.dir.clone(),
                cause: source,
            })
    }

    /// Returns the remembered panel facts, if they were detected on `base_url`. A file
    /// that cannot be read is ignored: the panel is simply detected again.
    pub fn load_panel(&self, base_url: &str) -> Option<PanelMemory> {
        let bytes = fs::read(self.dir.join(PANEL_FILE)).ok()?;
        let memory: PanelMemory = serde_json::from_slice(&bytes).ok()?;
        (memory.version == STATE_VERSION && memory.base_url == base_url).then_some(memory)
    }

    pub fn save_panel(&self, memory: &PanelMemory) -> Result<(), StateError> {
        write_json_atomically(&self.dir.join(PANEL_FILE), memory, Durability::Synced)?;
        self.sync_folder()
    }

    /// Lists the service keys that have a state file, sorted.
    pub fn service_keys(&self) -> io::Result<Vec<String>> {
        let mut keys = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(keys),
            result => result?,
        };
        for entry in entries {
            let name = entry?.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(key) = name.strip_suffix(".json") {
                if is_valid_key(key) && key.contains('_') {
                    keys.push(key.to_owned());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn service_path(&self, key: &str) -> Result<PathBuf, StateError> {
        if !is_valid_key(key) {
            return Err(StateError::InvalidKey {
                key: key.to_owned(),
            });
        }
        Ok(self.dir.join(format!("{key}.json")))
    }

    fn set_aside(&self, path: &Path) -> Result<PathBuf, StateError> {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let mut moved_to = path.as_os_str().to_owned();
        moved_to.push(format!(".corrupt-{stamp}"));
        let moved_to = PathBuf::from(moved_to);
        fs::rename(path, &moved_to).map_err(|source| StateError::Write {
            path: path.to_owned(),
            cause: source,
        })?;
        Ok(moved_to)
    }
}

fn parse_service_state(bytes: &[u8], key: &str) -> Result<ServiceState, String> {
    let state: ServiceState = serde_json::from_slice(bytes)
        .map_err(|error| format!("is not valid state JSON: {error}"))?;
    if state.version != STATE_VERSION {
        return Err(format!(
            "has format version {}, but this build reads version {STATE_VERSION}",
            state.version
        ));
    }
    if state.service != key {
        return Err(format!(
            "belongs to service {:?}, not {key:?}",
            state.service
        ));
    }
    if state
        .samples
        .iter()
        .any(|sample| !sample.cpu_percent.is_finite() || sample.cpu_percent < 0.0)
    {
        return Err("has a CPU sample that is negative or not a number".to_owned());
    }
    Ok(state)
}

fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_' || byte == b'-'
        })
}

/// Whether a write must survive a power loss, or only a killed process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Atomic against a killed process; the OS writes it to disk in its own time.
    Atomic,
    /// Atomic, with the content flushed to disk before the rename. The rename itself is
    /// durable once the folder is synced: [`StateStore::sync_folder`] does that for a
    /// whole batch of writes, because each folder sync costs a journal commit.
    Synced,
}

/// Writes `value` as JSON to a temporary file beside `path` and renames it over `path`,
/// flushing the content to disk first for [`Durability::Synced`]. On any failure the
/// temporary file is removed and `path` is unchanged.
fn write_json_atomically<T: Serialize>(
    path: &Path,
    value: &T,
    durability: Durability,
) -> Result<(), StateError> {
    let write_error = |source| StateError::Write {
        path: path.to_owned(),
        cause: source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("state");
    let temporary = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        fastrand::u32(..)
    ));

    let mut text = serde_json::to_vec_pretty(value).map_err(|error| write_error(error.into()))?;
    text.push(b'\n');
    let result = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(&text)?;
        if durability == Durability::Synced {
            file.sync_all()?;
        }
        fs::rename(&temporary, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result.map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Direction;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 15, 10, minute, 0).unwrap()
    }

    #[test]
    fn prepare_removes_stale_temporary_files() {
        let (_dir, store) = store();
        fs::write(store.dir().join(".shop_api.json.123.456.tmp"), b"{").unwrap();
        fs::write(store.dir().join(".write-check-99.tmp"), b"").unwrap();
        store
            .save(&ServiceState::new("shop_api"), Durability::Atomic)
            .unwrap();
        let lock = store.try_lock().unwrap().unwrap();

        let removed = store.prepare(&lock).unwrap();

        assert_eq!(removed, 2);
        assert_eq!(store.service_keys().unwrap(), vec!["shop_api"]);
        assert!(!store.dir().join(".shop_api.json.123.456.tmp").exists());
    }

    fn store() -> (tempfile::TempDir, StateStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(&dir.path().join("state")).unwrap();
        (dir, store)
    }

    #[test]
    fn missing_file_is_empty_history() {
        let (_dir, store) = store();

        let loaded = store.load("shop_api").unwrap();

        assert_eq!(loaded.state, ServiceState::new("shop_api"));
        assert!(loaded.set_aside.is_none());
    }

    #[test]
    fn saved_state_loads_back() {
        let (_dir, store) = store();
        let mut state = ServiceState::new("shop_api");
        state.record_sample(at(0), 55.5);
        state.last_scale = Some(ScaleEvent {
            at: at(0),
            from: 1,
            to: 2,
            direction: Direction::Up,
        });

        store.save(&state, Durability::Synced).unwrap();
        let loaded = store.load("shop_api").unwrap();

        assert_eq!(loaded.state, state);
        let text = fs::read_to_string(store.dir().join("shop_api.json")).unwrap();
        assert!(text.contains("\"version\": 1"));
        assert!(text.contains("\"direction\": \"up\""));
    }

    #[test]
    fn save_leaves_no_temporary_files() {
        let (_dir, store) = store();

        store
            .save(&ServiceState::new("shop_api"), Durability::Atomic)
            .unwrap();

        let names: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["shop_api.json"]);
    }

    #[test]
    fn corrupt_file_is_set_aside() {
        let (_dir, store) = store();
        fs::write(
            store.dir().join("shop_api.json"),
            b"{\"version\": 1, \"serv",
        )
        .unwrap();

        let loaded = store.load("shop_api").unwrap();

        let set_aside = loaded.set_aside.expect("set aside");
        assert!(
            set_aside.problem.contains("not valid state JSON"),
            "{}",
            set_aside.problem
        );
        let moved_to = set_aside.moved_to.expect("moved aside");
        assert!(moved_to
            .to_str()
            .unwrap()
            .contains("shop_api.json.corrupt-"));
        assert_eq!(fs::read(&moved_to).unwrap(), b"{\"version\": 1, \"serv");
        assert!(!store.dir().join("shop_api.json").exists());
        assert_eq!(loaded.state, ServiceState::new("shop_api"));
    }

    #[test]
    fn read_only_store_leaves_corrupt_file_in_place() {
        let (_dir, store) = store();
        fs::write(store.dir().join("shop_api.json"), b"not json").unwrap();
        let read_only = StateStore::read_only(store.dir());

        let loaded = read_only.load("shop_api").unwrap();

        assert!(loaded.set_aside.unwrap().moved_to.is_none());
        assert_eq!(
            fs::read(store.dir().join("shop_api.json")).unwrap(),
            b"not json"
        );
    }

    #[test]
    fn newer_format_is_set_aside_not_overwritten() {
        let (_dir, store) = store();
        let text = r#"{"version": 2, "service": "shop_api", "last_scale": null}"#;
        fs::write(store.dir().join("shop_api.json"), text).unwrap();

        let loaded = store.load("shop_api").unwrap();

        let set_aside = loaded.set_aside.expect("set aside");
        assert!(set_aside.problem.contains("format version 2"));
        assert_eq!(
            fs::read_to_string(set_aside.moved_to.unwrap()).unwrap(),
            text
        );
    }

    #[test]
    fn file_of_another_service_is_set_aside() {
        let (_dir, store) = store();
        fs::write(
            store.dir().join("shop_api.json"),
            r#"{"version": 1, "service": "shop_web", "last_scale": null}"#,
        )
        .unwrap();

        let loaded = store.load("shop_api").unwrap();

        assert!(loaded
            .set_aside
            .unwrap()
            .problem
            .contains("belongs to service"));
    }

    #[test]
    fn negative_sample_is_set_aside() {
        let (_dir, store) = store();
        fs::write(
            store.dir().join("shop_api.json"),
            r#"{"version":1,"service":"shop_api","last_scale":null,"samples":[{"at":"2024-01-15T10:00:00Z","cpu_percent":-3}]}"#,
        )
        .unwrap();

        assert!(store.load("shop_api").unwrap().set_aside.is_some());
    }

    #[test]
    fn path_like_keys_are_rejected() {
        let (_dir, store) = store();

        assert!(matches!(
            store.load("../etc"),
            Err(StateError::InvalidKey { .. })
        ));
        assert!(matches!(
            store.load("Shop_Api"),
            Err(StateError::InvalidKey { .. })
        ));
    }

    #[test]
    fn samples_older_than_an_hour_are_dropped() {
        let mut state = ServiceState::new("shop_api");
        state.record_sample(at(0), 10.0);
        state.record_sample(at(30), 20.0);

        state.record_sample(at(0) + chrono::Duration::minutes(61), 30.0);

        let kept: Vec<f64> = state
            .samples
            .iter()
            .map(|sample| sample.cpu_percent)
            .collect();
        assert_eq!(kept, vec![20.0, 30.0]);
    }

    #[test]
    fn second_lock_is_refused_until_first_drops() {
        let (_dir, store) = store();

        let first = store.try_lock().unwrap();
        assert!(first.is_some());
        assert!(store.try_lock().unwrap().is_none());
        drop(first);
        assert!(store.try_lock().unwrap().is_some());
    }

    #[test]
    fn unwritable_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        fs::write(&file, b"").unwrap();

        let error = StateStore::open(&file.join("state")).unwrap_err();

        assert!(error.to_string().contains("--state-dir"), "{error}");
    }

    #[test]
    fn panel_memory_is_tied_to_base_url() {
        let (_dir, store) = store();
        let memory = PanelMemory {
            version: STATE_VERSION,
            base_url: "http://panel:3000".to_owned(),
            generation: Generation::Rpc,
            monitor_router: Some(MonitorRouter::MonitorOld),
            host_cores: Some(4),
            detected_at: at(0),
        };

        store.save_panel(&memory).unwrap();

        assert_eq!(store.load_panel("http://panel:3000"), Some(memory));
        assert_eq!(store.load_panel("http://other:3000"), None);
    }

    #[test]
    fn service_keys_skip_other_files() {
        let (_dir, store) = store();
        store
            .save(&ServiceState::new("shop_api"), Durability::Atomic)
            .unwrap();
        fs::write(store.dir().join("panel.json"), b"{}").unwrap();
        fs::write(store.dir().join("shop_web.json.corrupt-1"), b"").unwrap();

        assert_eq!(store.service_keys().unwrap(), vec!["shop_api"]);
    }
}
