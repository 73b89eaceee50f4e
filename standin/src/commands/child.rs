//! Runs the autoscaler as a child process, and measures it.
//!
//! # Why measuring needs a helper process
//!
//! Linux reports a process's peak memory (`ru_maxrss`) as the largest resident set of any
//! address space it had, including the one it had before `exec`. A child spawned from the
//! benchmark starts in a copy of the benchmark's address space, or with `vfork` in that
//! address space itself. The benchmark's address space contains a whole stand-in panel, so
//! the child's reported peak would be the benchmark's. Therefore [`run_measured`] starts
//! this binary again as a small helper (the hidden `measure` subcommand). The helper spawns
//! the autoscaler from its own small address space, waits for it with `wait4` and prints
//! the figures.
//!
//! NOTE: a reported peak is never below the helper's own resident size at the spawn (about
//! 3.2 MiB for a release build on Linux 6.18), so a smaller program reads as that floor.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::workspace::AppDir;

/// Environment overrides of the panel URL and token. They are removed from every child: a
/// user who has them set for a real panel must not have the demo or the benchmark send
/// requests there.
const PANEL_OVERRIDES: [&str; 2] = ["EASYPANEL_API_URL", "EASYPANEL_API_TOKEN"];

/// Exit status, wall time and peak memory of one run of a program.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub status: ExitStatus,
    /// From just before the spawn to the moment the exit was collected.
    pub wall: Duration,
    /// The program's peak resident set size.
    pub peak_rss_bytes: u64,
}

/// Arguments of the hidden `measure` subcommand.
#[derive(Debug, clap::Args)]
pub struct MeasureArgs {
    /// File that receives the program's standard error; its standard output is discarded
    #[arg(long, value_name = "FILE")]
    stderr: PathBuf,

    /// The program and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    program: Vec<OsString>,
}

/// Returns a command that runs `binary` with the config in `app`.
pub fn autoscaler(binary: &Path, app: &AppDir) -> Command {
    let mut command = Command::new(binary);
    command.arg("--config").arg(app.config_file());
    for name in PANEL_OVERRIDES {
        command.env_remove(name);
    }
    command
}

/// Runs `program` with `arguments` through the `measure` helper and returns how it ended.
/// Its standard output is discarded and its standard error written to `stderr`.
///
/// Fails when the helper cannot be started or does not report.
pub fn run_measured(program: &Path, arguments: &[OsString], stderr: &Path) -> io::Result<Measured> {
    let mut helper = Command::new(std::env::current_exe()?);
    helper
        .arg("measure")
        .arg("--stderr")
        .arg(stderr)
        .arg("--")
        .arg(program)
        .args(arguments)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    for name in PANEL_OVERRIDES {
        helper.env_remove(name);
    }

    let output = helper.output()?;

    let report = String::from_utf8_lossy(&output.stdout);
    parse_report(report.trim()).ok_or_else(|| {
        io::Error::other(format!(
            "the measure helper ended with {} and reported {report:?}",
            output.status
        ))
    })
}

/// Runs the program named in `args` (the `measure` subcommand), then prints one line
/// `status=<wait status> wall_ns=<n> peak_rss_bytes=<n>`.
pub fn measure(args: MeasureArgs) -> Result<(), String> {
    let (program, arguments) = args.program.split_first().expect("clap requires a program");
    let stderr = File::create(&args.stderr)
        .map_err(|error| format!("could not create {}: {error}", args.stderr.display()))?;
    let mut command = Command::new(program);
    command
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);

    let started = Instant::now();
    let child = command
        .spawn()
        .map_err(|error| format!("could not run {}: {error}", Path::new(program).display()))?;
    let (status, peak_rss_bytes) =
        wait_with_peak_rss(child).map_err(|error| format!("wait4 failed: {error}"))?;
    let wall = started.elapsed();

    println!(
        "status={} wall_ns={} peak_rss_bytes={peak_rss_bytes}",
        status.into_raw(),
        wall.as_nanos()
    );
    Ok(())
}

/// Parses the helper's report line.
fn parse_report(line: &str) -> Option<Measured> {
    let mut status = None;
    let mut wall = None;
    let mut peak_rss_bytes = None;
    for field in line.split(' ') {
        let (name, value) = field.split_once('=')?;
        match name {
            "status" => status = Some(ExitStatus::from_raw(value.parse().ok()?)),
            "wall_ns" => wall = Some(Duration::from_nanos(value.parse().ok()?)),
            "peak_rss_bytes" => peak_rss_bytes = Some(value.parse().ok()?),
            _ => return None,
        }
    }
    Some(Measured {
        status: status?,
        wall: wall?,
        peak_rss_bytes: peak_rss_bytes?,
    })
}

/// Waits for `child` and returns its exit status and peak resident set size.
///
/// `Child::wait` does not report resource use, so this calls `wait4`, which returns the
/// usage of that one child (unlike `getrusage(RUSAGE_CHILDREN)`, whose peak covers every
/// child waited for so far). The handle is consumed because the child is reaped here.
#[allow(
    unsafe_code,
    reason = "wait4 has no safe wrapper in std; the call only writes to two locals"
)]
fn wait_with_peak_rss(child: Child) -> io::Result<(ExitStatus, u64)> {
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is a plain C struct of integers, for which all zeros is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is a child of this process that nothing else waits for, and both
        // pointers refer to live, writable locals of the types wait4 expects.
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if waited == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    // On Linux, ru_maxrss is in kibibytes.
    let peak_rss_bytes = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    Ok((ExitStatus::from_raw(status), peak_rss_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait4_reports_status_and_memory() {
        let child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();

        let (status, peak_rss_bytes) = wait_with_peak_rss(child).unwrap();

        assert_eq!(status.code(), Some(3));
        assert!(peak_rss_bytes > 0);
    }

    #[test]
    fn report_line_round_trips() {
        let measured = parse_report("status=256 wall_ns=1500000 peak_rss_bytes=4096").unwrap();

        assert_eq!(measured.status.code(), Some(1));
        assert_eq!(measured.wall, Duration::from_micros(1500));
        assert_eq!(measured.peak_rss_bytes, 4096);
    }

    #[test]
    fn incomplete_report_is_rejected() {
        assert!(parse_report("status=0 wall_ns=10").is_none());
        assert!(parse_report("").is_none());
        assert!(parse_report("status=zero wall_ns=1 peak_rss_bytes=1").is_none());
    }
}
