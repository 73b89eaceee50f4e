//! The `easypanel-standin serve` binary: start, announce the address, serve.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use common::send;
use serde_json::json;

/// Kills the child process when dropped, so a failed assertion leaves no server behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(arguments: &[&str]) -> (Server, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_easypanel-standin"))
        .arg("serve")
        .args(arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary should start");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);

    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    (server, address)
}

#[test]
fn serve_demo_over_rpc() {
    let (_server, address) = start(&["--demo", "--generation", "rpc", "--token", "demo-token"]);
    let headers = [
        ("Authorization", "Bearer demo-token"),
        ("Content-Type", "application/json"),
    ];

    let reply = send(
        address,
        "POST",
        "/api/rpc/monitorOld/getDockerTaskStats",
        &headers,
        Some("{\"json\":null}"),
    )
    .unwrap();
    let stats = send(address, "GET", "/_standin/stats", &[], None)
        .unwrap()
        .json();

    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["json"]["shop_api"],
        json!({"actual": 2, "desired": 2})
    );
    assert_eq!(stats["requests"], json!(1));
    assert_eq!(stats["violations"], json!([]));
}

#[test]
fn serve_generated_fleet() {
    let (_server, address) = start(&["--services", "40", "--hot-share", "0.1"]);

    let reply = send(
        address,
        "GET",
        "/api/trpc/projects.listProjectsAndServices",
        &[("Authorization", "Bearer test-token")],
        None,
    )
    .unwrap();

    let services = reply.json()["result"]["data"]["json"]["services"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(services, 44);
}

#[test]
fn invalid_hot_share_fails() {
    let output = Command::new(env!("CARGO_BIN_EXE_easypanel-standin"))
        .args(["serve", "--hot-share", "1.5"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid --hot-share 1.5"));
}
