//! The token and the secrets in the panel's responses: where they may go and where they must
//! never appear.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use easypanel_standin::{Fault, PanelOptions, ServiceSpec, ServiceType};
use serde_json::{json, Value};

use crate::harness::{all_output, app, exit_code, stderr, stdout, Harness};

/// A server on 127.0.0.1 that responds to every request with a redirect to `location`, and
/// keeps the head of each request it received. It stops when dropped, or after a minute.
struct Redirector {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Redirector {
    fn start(status: u16, location: String) -> Redirector {
        const LIFETIME: Duration = Duration::from_secs(60);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the redirector");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));

        let thread_requests = Arc::clone(&requests);
        let thread_stop = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let started = Instant::now();
            while !thread_stop.load(Ordering::Relaxed) && started.elapsed() < LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let head = redirect(stream, status, &location);
                        thread_requests.lock().unwrap().push(head);
                    }
                    Err(error) if error.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        Redirector {
            address,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Redirector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request head (up to 64 KiB, for at most 2 s), responds with a redirect and
/// closes the connection. Returns the head as received.
fn redirect(mut stream: TcpStream, status: u16, location: &str) -> String {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut head = Vec::new();
    let mut buffer = [0; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let response = format!(
        "HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(response.as_bytes());
    String::from_utf8_lossy(&head).into_owned()
}

#[test]
fn redirects_never_carry_the_token() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    // Any connection to this listener would be the client following the redirect.
    let target = TcpListener::bind("127.0.0.1:0").expect("bind the redirect target");
    target.set_nonblocking(true).unwrap();
    let location = format!(
        "http://{}/api/trpc/projects.listProjectsAndServices",
        target.local_addr().unwrap()
    );

    for status in [301, 302, 303, 307, 308] {
        let redirector = Redirector::start(status, location.clone());
        harness.write_config(json!({"api": {"base_url": redirector.url()}}));

        let output = harness.run(&[]);

        let text = all_output(&output);
        assert_eq!(exit_code(&output), 2, "HTTP {status}: {text}");
        assert!(
            text.contains(&format!(
                "answered a redirect (HTTP {status}) to {location}"
            )),
            "HTTP {status}: {text}"
        );
        assert!(
            text.contains("set api.base_url to the panel's final address"),
            "{text}"
        );
        assert_eq!(
            redirector.requests().len(),
            1,
            "HTTP {status}: a redirect is not retried"
        );
        match target.accept() {
            Err(error) if error.kind() == ErrorKind::WouldBlock => {}
            Ok((_, peer)) => panic!("HTTP {status}: the client followed the redirect from {peer}"),
            Err(error) => panic!("HTTP {status}: the redirect target failed: {error}"),
        }
    }
    assert_eq!(harness.panel.request_count(), 0);
}

fn set_mode(path: &std::path::Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn readable_config_with_token_warns_with_chmod_fix() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({}),
    );
    let fix = format!("`chmod 600 {}`", harness.config_path.display());

    for (mode, readers) in [(0o644, "every user"), (0o640, "its group")] {
        set_mode(&harness.config_path, mode);

        let output = harness.run(&[]);

        let text = all_output(&output);
        assert_eq!(exit_code(&output), 0, "{text}");
        let warnings: Vec<&str> = text
            .lines()
            .filter(|line| line.contains("- WARNING -") && line.contains(&fix))
            .collect();
        assert_eq!(warnings.len(), 1, "mode {mode:o}: {text}");
        assert!(
            warnings[0].contains(&format!("readable by {readers} (mode {mode:03o})")),
            "{}",
            warnings[0]
        );
    }
}

#[test]
fn private_config_with_token_does_not_warn() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({}),
    );
    set_mode(&harness.config_path, 0o600);

    let output = harness.run(&[]);

    let text = all_output(&output);
    assert_eq!(exit_code(&output), 0, "{text}");
    assert!(!text.contains("chmod"), "{text}");
    assert!(!text.contains("contains the API token"), "{text}");
}

#[test]
fn token_only_in_environment_does_not_warn() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({}),
    );
    let mut config: Value =
        serde_json::from_str(&fs::read_to_string(&harness.config_path).unwrap()).unwrap();
    config["api"].as_object_mut().unwrap().remove("token");
    fs::write(&harness.config_path, config.to_string()).unwrap();
    set_mode(&harness.config_path, 0o644);

    let output = harness
        .command(&[])
        .env("EASYPANEL_API_TOKEN", &harness.panel.options().token)
        .output()
        .unwrap();

    let text = all_output(&output);
    assert_eq!(exit_code(&output), 0, "{text}");
    assert!(!text.contains("chmod"), "{text}");
}

#[test]
fn disabled_tls_verification_warns_every_run() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 2, 50.0)],
        json!({"api": {"verify_ssl": false}}),
    );

    for run in 1..=2 {
        let output = harness.run(&[]);

        let text = all_output(&output);
        assert_eq!(exit_code(&output), 0, "{text}");
        let warnings = text
            .lines()
            .filter(|line| {
                line.contains("- WARNING -") && line.contains("TLS certificate verification is off")
            })
            .count();
        assert_eq!(warnings, 1, "run {run}: {text}");
    }
}

/// Returns a fleet whose stored documents contain every kind of secret the panel keeps: app services
/// with each source kind, a database and a compose service.
fn secret_fleet() -> Vec<ServiceSpec> {
    vec![
        app("shop", "api", 1, 90.0).command("node server.js"),
        app("shop", "web", 1, 90.0),
        app("shop", "jobs", 3, 5.0),
        app("shop", "cache-ui", 2, 50.0).port(8080, 80),
        ServiceSpec::new("shop", "db").service_type(ServiceType::Postgres),
        ServiceSpec::new("shop", "stack").service_type(ServiceType::Compose),
    ]
}

/// Runs twice at DEBUG in `format` (the first run detects the panel, the second is a cron
/// run with a deployment) and asserts that no secret or token appears in stdout, stderr or
/// the log file.
fn assert_no_secret_in_output(format: &str) {
    let harness = Harness::new(
        PanelOptions::trpc(),
        secret_fleet(),
        json!({
            "logging": {"level": "DEBUG", "format": format},
            "global": {"apply": "deploy"}
        }),
    );
    let secrets = harness.panel.secrets();
    assert!(secrets.len() > 10, "the fleet holds secrets: {secrets:?}");
    assert!(secrets.contains(&harness.panel.options().token));

    let mut streams = Vec::new();
    for _ in 0..2 {
        let output = harness.run(&[]);
        assert!(exit_code(&output) <= 1, "{}", all_output(&output));
        streams.push(("stdout", stdout(&output)));
        streams.push(("stderr", stderr(&output)));
        harness.age_state(5);
    }
    let log = fs::read_to_string(harness.dir.path().join("autoscaler.log")).expect("log file");
    streams.push(("autoscaler.log", log));

    assert!(
        !harness.panel.calls("services.app.updateDeploy").is_empty(),
        "the runs scaled"
    );
    assert!(
        !harness.panel.calls("services.app.deployService").is_empty(),
        "the runs deployed"
    );
    assert!(
        streams[1].1.contains("API response body"),
        "response bodies were logged at DEBUG"
    );
    for (name, text) in &streams {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{format}: {name} contains the secret {secret:?}"
            );
        }
    }
}

#[test]
fn debug_text_output_holds_no_secret() {
    assert_no_secret_in_output("text");
}

#[test]
fn debug_json_output_holds_no_secret() {
    assert_no_secret_in_output("json");
}

#[test]
fn debug_api_raw_output_holds_no_secret() {
    for options in [PanelOptions::trpc(), PanelOptions::rpc()] {
        let harness = Harness::new(options, secret_fleet(), json!({}));
        let secrets = harness.panel.secrets();

        for service in ["shop_api", "shop_jobs", "shop_cache-ui"] {
            let output = harness.run(&["debug-api", "--raw", "--service", service]);

            let text = all_output(&output);
            assert!(
                text.contains("\"[redacted]\""),
                "{service}: the raw bodies were printed, redacted: {text}"
            );
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{service}: the output contains the secret {secret:?}"
                );
            }
        }
    }
}

#[test]
fn token_echoed_in_panel_error_is_redacted() {
    let harness = Harness::new(
        PanelOptions::trpc(),
        vec![app("shop", "api", 1, 90.0)],
        json!({}),
    );
    let token = harness.panel.options().token.clone();
    harness.panel.set_fault(
        "projects.listProjectsAndServices",
        Fault::status(500, &format!("invalid session for bearer {token}")),
    );

    let output = harness.run(&[]);

    let text = all_output(&output);
    assert_eq!(exit_code(&output), 2, "{text}");
    assert!(
        text.contains("invalid session for bearer [redacted]"),
        "{text}"
    );
    assert!(!text.contains(&token), "{text}");
    let log = fs::read_to_string(harness.dir.path().join("autoscaler.log")).unwrap();
    assert!(!log.contains(&token));
}
