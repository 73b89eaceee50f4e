//! The disk and the process: runs killed at random points, runs that overlap, and a state
//! folder that is read-only or full.
//!
//! The read-only and full-disk tests mount a small tmpfs in a private mount namespace
//! (`unshare --mount`), which needs root. Where that is not possible they print why and
//! return without checking anything.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use autoscaler::engine::CpuSample;
use autoscaler::state::{ServiceState, STATE_VERSION};
use easypanel_standin::{PanelOptions, ServiceSpec};
use serde_json::json;

use crate::faults::inspect_state_folder;
use crate::harness::{all_output, app, exit_code, stdout, Harness};

const BINARY: &str = env!("CARGO_BIN_EXE_autoscaler");

/// Starts the binary on the harness's config without waiting for it, its output discarded.
fn spawn_run(harness: &Harness) -> Child {
    Command::new(BINARY)
        .arg("--config")
        .arg(&harness.config_path)
        .env_remove("EASYPANEL_API_URL")
        .env_remove("EASYPANEL_API_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start autoscaler")
}

/// Returns the process id in a leftover file name: `.<file>.<pid>.<n>.tmp` for a temporary
/// file of an atomic write, `.write-check-<pid>.tmp` for a write probe.
fn leftover_pid(name: &str) -> Option<u32> {
    if let Some(rest) = name.strip_prefix(".write-check-") {
        return rest.strip_suffix(".tmp")?.parse().ok();
    }
    let stem = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = stem.rsplitn(3, '.');
    let _random = parts.next()?;
    parts.next()?.parse().ok()
}

#[test]
fn killed_runs_leave_only_complete_state_files() {
    const MAX_RUNS: usize = 200;
    const TIME_LIMIT: Duration = Duration::from_secs(60);

    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut random = fastrand::Rng::with_seed(seed);
    // Kills spread evenly over the length of a whole run, measured below, so they land in
    // every phase, the state writes at the end included, however fast this machine is.
    let mut options = PanelOptions::trpc();
    options.latency = Duration::from_millis(5);
    let mut services: Vec<ServiceSpec> = (0..3)
        .map(|index| app("shop", &format!("hot-{index}"), 1, 90.0))
        .collect();
    services.extend((0..3).map(|index| app("shop", &format!("cold-{index}"), 5, 5.0)));
    services.extend((0..2).map(|index| app("shop", &format!("steady-{index}"), 2, 50.0)));
    // No cooldown, so the hot services scale on every run that gets that far.
    let harness = Harness::new(
        options,
        services,
        json!({"global": {"cooldown_minutes": 0, "apply_wait_seconds": 1}}),
    );

    let run_length = (0..3)
        .map(|_| {
            let started = Instant::now();
            let output = harness.run(&[]);
            assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
            started.elapsed()
        })
        .max()
        .expect("three runs");
    let max_kill_delay_ms = (run_length.as_millis() as u64).max(20);

    let started = Instant::now();
    let mut runs = 0;
    let mut killed = BTreeSet::new();
    let mut files_checked = 0;
    while runs < MAX_RUNS && started.elapsed() < TIME_LIMIT {
        if runs % 10 == 0 {
            for index in 0..3 {
                harness.panel.set_replicas(&format!("shop_hot-{index}"), 1);
            }
        }
        let mut child = spawn_run(&harness);
        thread::sleep(Duration::from_millis(random.u64(0..=max_kill_delay_ms)));

        if child.try_wait().expect("poll the run").is_none() {
            child.kill().expect("SIGKILL the run");
            killed.insert(child.id());
        }
        child.wait().expect("reap the run");
        runs += 1;

        let folder = inspect_state_folder(&harness.state_dir());
        files_checked += folder.checked;
        assert!(
            folder.corrupt.is_empty(),
            "run {runs} (seed {seed}) left a torn file that was set aside: {:?}",
            folder.corrupt
        );
    }

    let before_clean_run = inspect_state_folder(&harness.state_dir());
    let output = harness.run(&[]);
    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    let folder = inspect_state_folder(&harness.state_dir());
    files_checked += folder.checked;
    let leftovers: Vec<&String> = folder
        .temporary
        .iter()
        .chain(&folder.write_checks)
        .collect();
    eprintln!(
        "kill -9 test: seed={seed} runs={runs} killed={} finished_before_kill={} \
         files_checked={files_checked} temporary_files_left={} write_probes_left={} \
         max_kill_delay_ms={max_kill_delay_ms} elapsed_ms={}",
        killed.len(),
        runs - killed.len(),
        folder.temporary.len(),
        folder.write_checks.len(),
        started.elapsed().as_millis()
    );

    assert!(runs >= 50, "too few runs within {TIME_LIMIT:?}: {runs}");
    assert!(
        killed.len() >= runs / 4,
        "at least a quarter of the runs are killed mid-way: {} of {runs}",
        killed.len()
    );
    assert!(folder.corrupt.is_empty(), "{:?}", folder.corrupt);
    assert!(folder.checked >= 8, "every service has a state file");
    for name in &leftovers {
        let pid = leftover_pid(name).unwrap_or_else(|| panic!("unexpected leftover {name}"));
        assert!(
            killed.contains(&pid),
            "{name} belongs to no killed run (seed {seed})"
        );
    }
    assert!(
        folder.temporary.len() <= before_clean_run.temporary.len(),
        "a clean run adds no temporary file"
    );
}

#[test]
fn stale_temporary_files_are_removed_by_next_run() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({}),
    );
    let first = harness.run(&[]);
    assert_eq!(exit_code(&first), 0, "{}", all_output(&first));
    let mut finished = Command::new("true").spawn().expect("start true");
    let dead_pid = finished.id();
    finished.wait().expect("reap true");
    let temporary = harness
        .state_dir()
        .join(format!(".shop_api.json.{dead_pid}.12345.tmp"));
    let probe = harness
        .state_dir()
        .join(format!(".write-check-{dead_pid}.tmp"));
    fs::write(&temporary, b"{\"version\": 1, \"serv").unwrap();
    fs::write(&probe, b"").unwrap();
    harness.age_state(5);

    let output = harness.run(&[]);

    assert_eq!(exit_code(&output), 0, "{}", all_output(&output));
    assert!(!temporary.exists(), "{} is left", temporary.display());
    assert!(!probe.exists(), "{} is left", probe.display());
}

#[test]
fn overlapping_runs_let_exactly_one_act() {
    // Each request takes 300 ms, so the first run holds the lock for over a second.
    let mut options = PanelOptions::trpc();
    options.latency = Duration::from_millis(300);
    let harness = Harness::new(options, vec![app("shop", "api", 1, 90.0)], json!({}));

    let outputs: Vec<Output> = thread::scope(|scope| {
        let runs: Vec<_> = (0..2).map(|_| scope.spawn(|| harness.run(&[]))).collect();
        runs.into_iter()
            .map(|run| run.join().expect("run thread"))
            .collect()
    });

    for output in &outputs {
        assert_eq!(exit_code(output), 0, "{}", all_output(output));
    }
    let waiting: Vec<&Output> = outputs
        .iter()
        .filter(|output| all_output(output).contains("another run is in progress"))
        .collect();
    assert_eq!(waiting.len(), 1, "exactly one run found the lock held");
    assert!(
        !all_output(waiting[0]).contains("run started"),
        "the run that found the lock did nothing"
    );
    assert_eq!(
        harness
            .panel
            .calls("projects.listProjectsAndServices")
            .len(),
        1,
        "one run read the panel"
    );
    assert_eq!(harness.panel.calls("services.app.updateDeploy").len(), 1);
    assert_eq!(harness.replicas("shop_api"), 2);
    let folder = inspect_state_folder(&harness.state_dir());
    assert!(folder.temporary.is_empty(), "{:?}", folder.temporary);
}

#[test]
fn killed_run_releases_lock() {
    let mut options = PanelOptions::trpc();
    options.latency = Duration::from_millis(300);
    let harness = Harness::new(options, vec![app("shop", "api", 1, 90.0)], json!({}));
    let mut child = spawn_run(&harness);

    // The run takes the lock before its first request, so a request means the lock is held.
    let deadline = Instant::now() + Duration::from_secs(10);
    while harness.panel.request_count() == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(
        harness.panel.request_count() > 0,
        "the first run reached the panel"
    );
    child.kill().expect("SIGKILL the run");
    child.wait().expect("reap the run");
    assert!(harness.state_dir().join(".lock").exists());

    let output = harness.run(&[]);

    let text = all_output(&output);
    assert_eq!(exit_code(&output), 0, "{text}");
    assert!(!text.contains("another run is in progress"), "{text}");
    assert_eq!(harness.replicas("shop_api"), 2);
    let folder = inspect_state_folder(&harness.state_dir());
    assert!(folder.corrupt.is_empty(), "{:?}", folder.corrupt);
}

#[test]
fn state_path_that_is_a_file_exits_2() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    fs::write(harness.state_dir(), "a file where the state folder belongs").unwrap();

    let output = harness.run(&[]);

    let text = all_output(&output);
    assert_eq!(exit_code(&output), 2, "{text}");
    assert!(text.contains("cannot be created or written"), "{text}");
    assert_eq!(harness.panel.request_count(), 0, "no request at all");
}

/// Runs `script` with `sh` in a private mount namespace, so the mounts it makes are seen by
/// nothing outside it and vanish with it. `$1` in the script is `mount_point`. Returns
/// `None`, after printing why, where this machine cannot do that (no `unshare`, not root).
fn run_in_private_mount_namespace(
    script: &str,
    mount_point: &Path,
    env: &[(&str, &OsStr)],
) -> Option<Output> {
    let probe = Command::new("unshare")
        .args([
            "--mount",
            "sh",
            "-c",
            "mount -t tmpfs -o size=16k tmpfs \"$1\"",
            "sh",
        ])
        .arg(mount_point)
        .output();
    match probe {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            eprintln!(
                "skipped: `unshare --mount` cannot mount a tmpfs here: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            return None;
        }
        Err(error) => {
            eprintln!("skipped: `unshare` cannot be started: {error}");
            return None;
        }
    }

    let mut command = assert_cmd::Command::new("unshare");
    command
        .args(["--mount", "sh", "-c", script, "sh"])
        .arg(mount_point)
        .env_remove("EASYPANEL_API_URL")
        .env_remove("EASYPANEL_API_TOKEN")
        .env("NO_COLOR", "1")
        .env("BIN", BINARY)
        .timeout(Duration::from_secs(60));
    for (name, value) in env {
        command.env(name, value);
    }
    Some(command.output().expect("run unshare"))
}

/// Returns the value after `name=` on its own line of the script's stdout.
fn reported(output: &Output, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    stdout(output)
        .lines()
        .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
}

#[test]
fn read_only_state_folder_exits_2() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    let state = harness.state_dir();
    fs::create_dir_all(&state).unwrap();
    let script = r#"
        mount -t tmpfs -o ro,size=16k tmpfs "$1" || exit 100
        "$BIN" --config "$CONFIG" --state-dir "$1"
        echo "exit=$?"
    "#;

    let Some(output) = run_in_private_mount_namespace(
        script,
        &state,
        &[("CONFIG", harness.config_path.as_os_str())],
    ) else {
        return;
    };

    let text = all_output(&output);
    assert_eq!(reported(&output, "exit").as_deref(), Some("2"), "{text}");
    assert!(text.contains("cannot be created or written"), "{text}");
    assert!(text.contains("--state-dir"), "{text}");
    assert_eq!(harness.panel.request_count(), 0, "no request at all");
}

#[test]
fn full_disk_keeps_previous_state_file() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    let state = harness.state_dir();
    fs::create_dir_all(&state).unwrap();
    let mut previous = ServiceState::new("shop_api");
    previous.samples.push(CpuSample {
        at: chrono::Utc::now() - chrono::Duration::minutes(5),
        cpu_percent: 88.5,
    });
    let previous_bytes = serde_json::to_vec_pretty(&previous).unwrap();
    let previous_path = harness.dir.path().join("previous.json");
    fs::write(&previous_path, &previous_bytes).unwrap();
    // Fill the 64 KiB tmpfs after copying the previous file in, then run.
    let script = r#"
        mount -t tmpfs -o size=64k tmpfs "$1" || exit 100
        cp "$PREVIOUS" "$1/shop_api.json" || exit 101
        dd if=/dev/zero of="$1/filler" bs=1k 2>/dev/null
        "$BIN" --config "$CONFIG" --state-dir "$1"
        echo "exit=$?"
        echo "files=$(ls -A "$1" | tr '\n' ' ')"
        echo "--- shop_api.json ---"
        cat "$1/shop_api.json"
    "#;

    let Some(output) = run_in_private_mount_namespace(
        script,
        &state,
        &[
            ("CONFIG", harness.config_path.as_os_str()),
            ("PREVIOUS", previous_path.as_os_str()),
        ],
    ) else {
        return;
    };

    let text = all_output(&output);
    assert_eq!(reported(&output, "exit").as_deref(), Some("1"), "{text}");
    assert!(text.contains("could not write state file"), "{text}");
    assert!(text.contains("No space left on device"), "{text}");
    let files = reported(&output, "files").unwrap_or_default();
    assert!(
        !files.contains(".tmp"),
        "the failed write removed its temporary file: {files}"
    );
    let state_text = stdout(&output)
        .split_once("--- shop_api.json ---\n")
        .map(|(_, state)| state.to_owned())
        .unwrap_or_default();
    assert_eq!(
        state_text.as_bytes(),
        previous_bytes.as_slice(),
        "the previous state file is intact: {text}"
    );
    let parsed: ServiceState = serde_json::from_str(&state_text).unwrap();
    assert_eq!(parsed.version, STATE_VERSION);
}
