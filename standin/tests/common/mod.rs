//! A minimal HTTP/1.1 client for the tests: one request per connection, loopback only.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use easypanel_standin::{Generation, StandIn};
use serde_json::{json, Value};

/// Maximum time a test waits for a connection, a write or a read.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A complete HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parses the body as JSON, panicking with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.text()))
    }
}

/// Sends one request to `address` and returns the response, or the I/O error when the
/// server closes the connection without a complete one.
pub fn send(
    address: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> io::Result<Reply> {
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;

    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or_default();
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes())?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> io::Result<Reply> {
    let broken = |what: &str| io::Error::new(io::ErrorKind::UnexpectedEof, what.to_string());

    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| broken("connection closed before the response head ended"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let rest = &raw[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| broken("response has no status code"))?;

    let header = |name: &str| {
        head.lines().find_map(|line| {
            line.strip_prefix(&format!("{name}:"))
                .map(|value| value.trim().to_string())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|value| value == "chunked") {
        dechunk(rest).ok_or_else(|| broken("chunked body ended early"))?
    } else {
        let length: usize = header("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(rest.len());
        if rest.len() < length {
            return Err(broken("body shorter than its Content-Length"));
        }
        rest[..length].to_vec()
    };
    Ok(Reply { status, body })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|window| window == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// Percent-encodes every byte outside RFC 3986's unreserved set.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Reports whether a procedure is a mutation; the rest are queries.
fn is_mutation(procedure: &str) -> bool {
    procedure.ends_with(".updateDeploy") || procedure.ends_with(".deployService")
}

/// Calls `procedure` the way a correct client of the panel's generation does, with the
/// panel's token. `input` `None` means the procedure takes none.
pub fn call(panel: &StandIn, procedure: &str, input: Option<Value>) -> Reply {
    let options = panel.options();
    let authorization = format!("Bearer {}", options.token);
    let headers = [
        ("Authorization", authorization.as_str()),
        ("Content-Type", "application/json"),
    ];

    let result = match options.generation {
        Generation::Trpc if is_mutation(procedure) => {
            let body = json!({"json": input}).to_string();
            send(
                panel.address(),
                "POST",
                &format!("/api/trpc/{procedure}"),
                &headers,
                Some(&body),
            )
        }
        Generation::Trpc => {
            let target = match input {
                Some(input) => {
                    let envelope = json!({"json": input}).to_string();
                    format!("/api/trpc/{procedure}?input={}", percent_encode(&envelope))
                }
                None => format!("/api/trpc/{procedure}"),
            };
            send(panel.address(), "GET", &target, &headers[..1], None)
        }
        Generation::Rpc => {
            let body = json!({"json": input}).to_string();
            let path = format!("/api/rpc/{}", procedure.replace('.', "/"));
            send(panel.address(), "POST", &path, &headers, Some(&body))
        }
    };
    result.unwrap_or_else(|error| panic!("calling {procedure} failed: {error}"))
}

/// Returns the payload of a success body of either generation.
pub fn payload(panel: &StandIn, reply: &Reply) -> Value {
    assert_eq!(
        reply.status,
        200,
        "unexpected status, body: {}",
        reply.text()
    );
    let body = reply.json();
    match panel.options().generation {
        Generation::Trpc => body["result"]["data"]["json"].clone(),
        Generation::Rpc => body["json"].clone(),
    }
}

/// Returns `{"projectName", "serviceName"}` for a Swarm key's parts.
pub fn service(project: &str, name: &str) -> Value {
    json!({"projectName": project, "serviceName": name})
}
