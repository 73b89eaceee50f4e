//! `easypanel-standin bench`: measures runs of the autoscaler against stand-in panels of
//! several sizes, and the startup of `--version` and `validate`.
//!
//! Per size: one panel with `fleet(size, hot_share)` and a response latency, one warm-up
//! run (a first run, which detects the panel), then measured runs. Before each measured run
//! the panel is started afresh on the same port and the state folder is emptied except
//! `panel.json`, so every run is a steady-state run that scales the same hot services.

mod report;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use easypanel_standin::{fleet, PanelOptions, ServiceSpec, StandIn};
use serde_json::{json, Value};

use super::child::{self, Measured};
use super::workspace::{autoscaler_binary, config_for, AppDir};
use report::{RunFigures, SizeReport, StartupReport};

/// The autoscaler's default `up` threshold: a service whose every container is at or above
/// it scales up.
const DEFAULT_UP_PERCENT: f64 = 70.0;

/// Runs of `--version` and of `validate`.
const STARTUP_RUNS: usize = 20;

/// Largest fleet the benchmark starts, to keep a typo from exhausting the machine.
const MAX_SERVICES: usize = 20_000;

/// Budget of one run of the autoscaler (`global.max_run_seconds`), so none runs long.
const MAX_RUN_SECONDS: u64 = 60;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// App services per panel, comma-separated; one table row each
    #[arg(long, value_delimiter = ',', default_values_t = [10, 100, 1000])]
    sizes: Vec<usize>,

    /// Delay the panel adds to every API response, in milliseconds
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=1000))]
    latency_ms: u64,

    /// Measured runs per size, after one warm-up run
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,

    /// Share of the app services that run hot, and so scale up on every run (0 to 1)
    #[arg(long, default_value_t = 0.05)]
    hot_share: f64,

    /// api.max_concurrency for the autoscaler [default: the autoscaler's own default]
    #[arg(long, value_name = "N")]
    max_concurrency: Option<u32>,

    /// The autoscaler binary [default: bin/autoscaler in this workspace, built by ./build.sh]
    #[arg(long, value_name = "PATH")]
    autoscaler: Option<PathBuf>,
}

/// Runs the benchmark and prints its tables as Markdown on stdout, progress on stderr.
/// Fails when an argument is out of range, the binary is missing, or a run does not
/// complete with exit code 0.
/// The autoscaler's default `api.max_concurrency`, used when `--max-concurrency` is not given.
const DEFAULT_MAX_CONCURRENCY: u32 = 8;

pub fn run(args: BenchArgs) -> Result<(), String> {
    if !(0.0..=1.0).contains(&args.hot_share) {
        return Err(format!(
            "invalid --hot-share {}: expected a share from 0 to 1",
            args.hot_share
        ));
    }
    if let Some(&size) = args
        .sizes
        .iter()
        .find(|&&size| size == 0 || size > MAX_SERVICES)
    {
        return Err(format!(
            "invalid size {size} in --sizes: expected 1 to {MAX_SERVICES}"
        ));
    }
    let binary = autoscaler_binary(args.autoscaler.as_deref())?;
    eprintln!("benchmarking {}", binary.display());

    let mut sizes = Vec::new();
    for &services in &args.sizes {
        sizes.push(bench_size(&binary, services, &args)?);
    }
    let startup = bench_startup(&binary)?;

    if let Some(concurrency) = args.max_concurrency {
        println!("api.max_concurrency: {concurrency}\n");
    }
    print!("{}", report::render(&sizes, &startup));
    Ok(())
}

fn bench_size(binary: &Path, services: usize, args: &BenchArgs) -> Result<SizeReport, String> {
    let latency = Duration::from_millis(args.latency_ms);
    let mut options = PanelOptions::trpc();
    options.latency = latency;
    let specs = fleet(services, args.hot_share);
    let mut panel = start_panel(0, &options, &specs)?;
    let port = panel.address().port();

    let app = AppDir::create("autoscaler-bench-").map_err(|error| error.to_string())?;
    app.write_config(&bench_config(&panel, args.max_concurrency))
        .map_err(|error| format!("could not write services.json: {error}"))?;
    let hot = hot_services(&panel, &specs);

    eprintln!("{services} app services ({hot} hot): warm-up run");
    let first_run = measured_run(binary, &app, &panel)?;
    let mut runs = Vec::new();
    for number in 1..=args.runs {
        eprintln!("{services} app services: run {number} of {}", args.runs);
        // A fresh panel, so the services scaled by the last run are back where they were.
        drop(panel);
        panel = start_panel(port, &options, &specs)?;
        app.forget_services()
            .map_err(|error| format!("could not empty the state folder: {error}"))?;
        settle_disk();
        let run = measured_run(binary, &app, &panel)?;
        if run.scaled != hot as u64 {
            eprintln!(
                "warning: run {number} scaled {} services, expected the {hot} hot ones",
                run.scaled
            );
        }
        runs.push(run);
    }
    Ok(SizeReport {
        services,
        latency,
        concurrency: args.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
        first_run,
        runs,
    })
}

/// Flushes the deletions of `forget_services` to disk and lets the file system finish
/// with them, so their journal and discard work does not land in the measured run. Seen
/// here: the same run took 0.06 s or 0.9 s of kernel time depending on that work.
fn settle_disk() {
    if let Err(error) = std::process::Command::new("sync").status() {
        eprintln!("warning: could not run sync: {error}; timings may include disk cleanup");
    }
    std::thread::sleep(Duration::from_millis(500));
}

fn start_panel(
    port: u16,
    options: &PanelOptions,
    specs: &[ServiceSpec],
) -> Result<StandIn, String> {
    StandIn::start_on(port, options.clone(), specs.to_vec())
        .map_err(|error| format!("the stand-in panel failed to start on 127.0.0.1:{port}: {error}"))
}

/// Returns the benchmark's `services.json`: defaults everywhere, except a bounded run
/// time and no console output, as under cron.
fn bench_config(panel: &StandIn, max_concurrency: Option<u32>) -> Value {
    let mut api = json!({});
    if let Some(concurrency) = max_concurrency {
        api["max_concurrency"] = json!(concurrency);
    }
    config_for(
        &panel.url(),
        &panel.options().token,
        json!({
            "api": api,
            "global": {"max_run_seconds": MAX_RUN_SECONDS},
            "logging": {"console": false},
        }),
    )
}

/// Counts the enabled app services whose every container is at or above the default `up`
/// threshold: the ones each run scales up.
fn hot_services(panel: &StandIn, specs: &[ServiceSpec]) -> usize {
    specs
        .iter()
        .filter_map(|spec| panel.service(&spec.key()))
        .filter(|snapshot| {
            snapshot.document["type"] == "app"
                && snapshot.document["enabled"] == true
                && !snapshot.cpu.is_empty()
                && snapshot
                    .cpu
                    .iter()
                    .all(|&percent| percent >= DEFAULT_UP_PERCENT)
        })
        .count()
}

/// Runs the autoscaler once against `panel`, which must have served no request yet, and
/// returns its figures. Fails unless the run exits 0.
fn measured_run(binary: &Path, app: &AppDir, panel: &StandIn) -> Result<RunFigures, String> {
    let arguments = [
        OsString::from("--config"),
        app.config_file().into_os_string(),
    ];
    let measured = measure(binary, &arguments, app, "run")?;
    Ok(RunFigures {
        wall: measured.wall,
        requests: panel.request_count(),
        scaled: panel.calls("services.app.updateDeploy").len() as u64,
        peak_rss_bytes: measured.peak_rss_bytes,
        panel_processing: panel_processing(panel),
    })
}

/// Returns the time the stand-in itself spent on the first two steps of the critical path,
/// latency excluded: building the inventory, then the slower of the task counts and the
/// CPU table. These responses grow with the fleet, so at 1000 services they take a share
/// of the wall time that a real panel would spend on its own hardware.
fn panel_processing(panel: &StandIn) -> Duration {
    let requests = panel.requests();
    let latency = panel.options().latency;
    let processing = |procedure: &str| {
        requests
            .iter()
            .find(|request| request.procedure.as_deref() == Some(procedure))
            .and_then(|request| request.elapsed)
            .map_or(Duration::ZERO, |elapsed| elapsed.saturating_sub(latency))
    };

    let inventory = processing("projects.listProjectsAndServices");
    let tasks = processing(&panel.monitor_procedure("getDockerTaskStats"));
    let cpu = processing(&panel.monitor_procedure("getMonitorTableData"));
    inventory + tasks.max(cpu)
}

/// Times `--version` and `validate`, each [`STARTUP_RUNS`] times.
fn bench_startup(binary: &Path) -> Result<Vec<StartupReport>, String> {
    let app = AppDir::create("autoscaler-bench-").map_err(|error| error.to_string())?;
    // validate reads the config only; nothing listens at this address.
    app.write_config(&config_for("http://127.0.0.1:9", "bench-token", json!({})))
        .map_err(|error| format!("could not write services.json: {error}"))?;
    let validate = [
        OsString::from("--config"),
        app.config_file().into_os_string(),
        OsString::from("validate"),
    ];

    let mut reports = Vec::new();
    for (name, arguments) in [
        ("autoscaler --version", &[OsString::from("--version")][..]),
        ("autoscaler validate", &validate[..]),
    ] {
        eprintln!("{name}: {STARTUP_RUNS} runs");
        let times = (0..STARTUP_RUNS)
            .map(|_| measure(binary, arguments, &app, name).map(|measured| measured.wall))
            .collect::<Result<Vec<_>, _>>()?;
        reports.push(StartupReport {
            command: name,
            times,
        });
    }
    Ok(reports)
}

/// Runs `binary` with `arguments` through the measure helper, its standard error going to
/// a file in `app`. Fails, with the end of that output, unless it exits 0.
fn measure(
    binary: &Path,
    arguments: &[OsString],
    app: &AppDir,
    label: &str,
) -> Result<Measured, String> {
    let stderr_path = app.path().join("stderr.txt");
    let measured = child::run_measured(binary, arguments, &stderr_path)
        .map_err(|error| format!("could not run {}: {error}", binary.display()))?;
    check_success(&measured, &stderr_path, label)?;
    Ok(measured)
}

fn check_success(measured: &Measured, stderr_path: &Path, label: &str) -> Result<(), String> {
    if measured.status.success() {
        return Ok(());
    }
    let stderr = std::fs::read_to_string(stderr_path).unwrap_or_default();
    let tail: Vec<&str> = stderr
        .lines()
        .rev()
        .take(10)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Err(format!(
        "{label} ended with {}; the benchmark needs runs that exit 0. Its last output:\n{}",
        measured.status,
        tail.join("\n")
    ))
}
