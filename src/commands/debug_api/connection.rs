//! Steps 1 to 3: the panel responds, accepts the token, and speaks a transport generation and
//! a monitor router the client supports.

use std::path::Path;

use serde_json::Value;

use super::network;
use super::report::{millis, Step};
use super::session::Session;
use crate::commands::table::columns;
use crate::config::{ProtocolChoice, TokenSource, ENV_API_TOKEN};
use crate::easypanel::probe::{MonitorCall, Probe};
use crate::easypanel::{ApiError, Generation, MonitorRouter};
use crate::state::StateStore;

/// The findings of steps 1 to 3 that the later steps use.
pub(super) struct Detected {
    pub generation: Generation,
    /// The inventory payload under `generation`.
    pub inventory: Value,
    /// The router whose `getDockerTaskStats` succeeded, with that call's payload.
    pub monitor: Option<(MonitorRouter, Payload)>,
}

/// The payload of a successful call, with the call's name and time.
pub(super) struct Payload {
    pub name: String,
    pub elapsed: std::time::Duration,
    pub value: Value,
}

impl Payload {
    /// Returns the payload of a probe, or `None` when the probe failed.
    pub fn of(probe: &Probe) -> Option<Payload> {
        let value = probe.outcome.as_ref().ok()?;
        Some(Payload {
            name: probe.name.clone(),
            elapsed: probe.elapsed,
            value: value.clone(),
        })
    }
}

/// Runs steps 1 to 3 and prints them. Returns `None` when a later step cannot run.
pub(super) async fn check(session: &mut Session<'_>, state_dir: &Path) -> Option<Detected> {
    let trpc = session.client.probe_inventory(Generation::Trpc).await;

    if !reach(session, &trpc) {
        session.keep(trpc);
        return None;
    }
    let rpc = session.client.probe_inventory(Generation::Rpc).await;
    if !token(session, &trpc, &rpc) {
        session.keep(trpc);
        session.keep(rpc);
        return None;
    }

    generation(session, trpc, rpc, state_dir).await
}

/// Step 1: an HTTP response arrived.
fn reach(session: &mut Session<'_>, first: &Probe) -> bool {
    let config = session.config;
    let url = &config.api.base_url;
    let mut step = Step::new(1, format!("Reach the panel at {url}"));

    match (&first.outcome, first.status) {
        (Err(error), None) => {
            let (summary, advice) = network::explain(error, config);
            step.fail(summary);
            step.line(format!("Cause: {error}"));
            for line in advice {
                step.advise(line);
            }
        }
        (
            Err(ApiError::Redirected {
                location, status, ..
            }),
            _,
        ) => {
            step.fail(format!(
                "The panel responded with a redirect (HTTP {status}) to {location}. The \
                 autoscaler never follows redirects, so the token goes only to the configured \
                 address."
            ));
            step.advise(
                "Set api.base_url to the address the redirect points to (often https:// \
                 instead of http://).",
            );
        }
        (_, Some(status)) => {
            let mut line = format!(
                "The panel responded with HTTP {status} on {} in {}.",
                first.path,
                millis(first.elapsed)
            );
            if !(200..300).contains(&status) {
                line.push_str(" Steps 2 and 3 explain this response.");
            }
            step.line(line);
        }
        (Ok(_), None) => step.line("The panel responded."),
    }
    if !step.is_failed() && !config.api.verify_ssl && url.starts_with("https://") {
        step.warn(
            "api.verify_ssl is false: the panel's certificate is not checked, so anyone who \
             can intercept the connection can read the API token.",
        );
        step.advise("Give the panel a trusted certificate and remove \"verify_ssl\": false.");
    }

    let is_reached = !step.is_failed();
    session.report(step);
    is_reached
}

/// Step 2: the token is accepted by one of the two inventory calls.
fn token(session: &mut Session<'_>, trpc: &Probe, rpc: &Probe) -> bool {
    let mut step = Step::new(2, "API token");
    let source = match session.config.api.token_source {
        TokenSource::File => "api.token in the config file".to_owned(),
        TokenSource::Env => ENV_API_TOKEN.to_owned(),
        TokenSource::EnvOverFile => format!("{ENV_API_TOKEN}, which overrides api.token"),
    };
    let rejected = [trpc, rpc]
        .into_iter()
        .find(|probe| matches!(probe.status, Some(401 | 403)));
    let accepted = [trpc, rpc].into_iter().find(|probe| probe.outcome.is_ok());

    match (rejected, accepted) {
        (_, Some(probe)) => step.line(format!(
            "Accepted: the inventory call {} succeeded with it. The token in use comes from \
             {source}.",
            probe.path
        )),
        (Some(probe), None) => {
            step.fail(format!(
                "The panel rejected the token: HTTP {} on {}. The token in use comes from \
                 {source}.",
                probe.status.unwrap_or_default(),
                probe.path
            ));
            step.advise("Create an API token in the panel under Settings → Users → API token.");
            step.advise(format!(
                "Put it in api.token in the config file, or in the environment variable \
                 {ENV_API_TOKEN}, which overrides the file."
            ));
            if session.config.api.token_source == TokenSource::EnvOverFile {
                step.advise(format!(
                    "{ENV_API_TOKEN} is set and overrides the file's token; unset it if the \
                     file's token is the right one."
                ));
            }
        }
        (None, None) => step.warn(format!(
            "Not confirmed, because no inventory call succeeded (see step 3). The token in use \
             comes from {source}."
        )),
    }

    let is_accepted = !step.is_failed();
    session.report(step);
    is_accepted
}

/// Step 3: which generation serves the inventory, the panel version, and which router
/// serves the monitor calls.
async fn generation(
    session: &mut Session<'_>,
    trpc: Probe,
    rpc: Probe,
    state_dir: &Path,
) -> Option<Detected> {
    let config = session.config;
    let mut step = Step::new(3, "API generation and monitor router");

    let mut rows = vec![header(&[
        "GENERATION",
        "METHOD",
        "PATH",
        "RESPONSE",
        "TIME",
        "",
    ])];
    for (label, probe) in [("tRPC (up to 2.30)", &trpc), ("RPC (2.31 and later)", &rpc)] {
        rows.push(probe_row(label, probe));
    }
    step.lines_from(columns(&rows));

    let works = |probe: &Probe| probe.outcome.is_ok();
    let generation = match (works(&trpc), works(&rpc), config.api.protocol) {
        (true, _, ProtocolChoice::Trpc) | (true, false, ProtocolChoice::Auto) => {
            Some(Generation::Trpc)
        }
        (_, true, ProtocolChoice::Rpc) | (false, true, ProtocolChoice::Auto) => {
            Some(Generation::Rpc)
        }
        (true, true, ProtocolChoice::Auto) => {
            step.line(
                "Both generations respond; a run with api.protocol auto uses the one it \
                 tries first.",
            );
            Some(Generation::Trpc)
        }
        (false, true, ProtocolChoice::Trpc) => {
            step.fail("api.protocol is trpc, but only the RPC generation responds.");
            step.advise("Set \"protocol\": \"rpc\" or \"auto\" in the api section.");
            None
        }
        (true, false, ProtocolChoice::Rpc) => {
            step.fail("api.protocol is rpc, but only the tRPC generation responds.");
            step.advise("Set \"protocol\": \"trpc\" or \"auto\" in the api section.");
            None
        }
        (false, false, _) => {
            explain_no_generation(&mut step, &trpc, &rpc);
            None
        }
    };
    let inventory = generation.and_then(|generation| {
        let probe = if generation == Generation::Trpc {
            &trpc
        } else {
            &rpc
        };
        probe.outcome.as_ref().ok().cloned()
    });
    session.keep(trpc);
    session.keep(rpc);

    version(session, &mut step, generation).await;
    if let Some(generation) = generation {
        remembered(session, &mut step, generation, state_dir);
    }
    let monitor = match generation {
        Some(generation) => monitor_router(session, &mut step, generation).await,
        None => None,
    };

    session.report(step);
    Some(Detected {
        generation: generation?,
        inventory: inventory?,
        monitor,
    })
}

/// Says why neither generation served the inventory.
fn explain_no_generation(step: &mut Step, trpc: &Probe, rpc: &Probe) {
    let not_served = |probe: &Probe| matches!(probe.status, Some(404 | 405));
    if not_served(trpc) && not_served(rpc) {
        step.fail(
            "Neither generation has the inventory procedure, so api.base_url does not lead \
             to the panel's API.",
        );
        step.advise(
            "Set api.base_url to the address you open the panel at, including any path \
             prefix of a reverse proxy, without /api.",
        );
        return;
    }
    step.fail("Neither generation returned a usable inventory.");
    for probe in [trpc, rpc] {
        if let Err(error) = &probe.outcome {
            if !not_served(probe) {
                step.line(format!("{}: {error}", probe.path));
            }
        }
    }
    step.advise(
        "If the response is not JSON, api.base_url points at something other than the panel's API.",
    );
    step.advise(
        "If the panel reports an error of its own, check the panel's logs; run again with \
         --raw to see the response.",
    );
}

/// Adds the panel version from `/api/openapi.json` and whether it fits the generation.
async fn version(session: &mut Session<'_>, step: &mut Step, generation: Option<Generation>) {
    let probe = session.client.probe_openapi().await;
    let version = match &probe.outcome {
        Ok(document) => document
            .pointer("/info/version")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Err(error) => {
            step.warn(format!("Panel version unknown: {error}."));
            session.keep(probe);
            return;
        }
    };
    let Some(version) = version else {
        step.warn("Panel version unknown: /api/openapi.json has no info.version.");
        session.keep(probe);
        return;
    };

    step.line(format!(
        "Panel version {version} (GET /api/openapi.json, {}).",
        millis(probe.elapsed)
    ));
    session.keep(probe);
    let expected = match minor_version(&version) {
        Some((2, minor)) if minor <= 30 => Generation::Trpc,
        Some((major, minor)) if (major, minor) >= (2, 31) => Generation::Rpc,
        _ => return,
    };
    if generation.is_some_and(|generation| generation != expected) {
        step.warn(format!(
            "A panel of version {version} is expected to speak {}, but it responds otherwise. The \
             generation that responds is the one a run uses.",
            generation_name(expected)
        ));
    }
}

/// Notes when `state/panel.json` remembers another generation than the one that responds.
fn remembered(session: &Session<'_>, step: &mut Step, generation: Generation, state_dir: &Path) {
    let config = session.config;
    if config.api.protocol != ProtocolChoice::Auto {
        return;
    }
    let Some(memory) = StateStore::read_only(state_dir).load_panel(&config.api.base_url) else {
        return;
    };
    if memory.generation != generation {
        step.warn(format!(
            "{} remembers the {} generation (detected {}), but the panel now responds to {}.",
            state_dir.join("panel.json").display(),
            generation_name(memory.generation),
            memory.detected_at.format("%Y-%m-%d %H:%M UTC"),
            generation_name(generation)
        ));
        step.advise("Delete that panel.json file, so the next run detects the generation again.");
    }
}

/// Tries `getDockerTaskStats` under both routers and returns the one that responds,
/// preferring the router usual for the generation when both do.
async fn monitor_router(
    session: &mut Session<'_>,
    step: &mut Step,
    generation: Generation,
) -> Option<(MonitorRouter, Payload)> {
    let usual = match generation {
        Generation::Trpc => MonitorRouter::Monitor,
        Generation::Rpc => MonitorRouter::MonitorOld,
    };
    let other = match usual {
        MonitorRouter::Monitor => MonitorRouter::MonitorOld,
        MonitorRouter::MonitorOld => MonitorRouter::Monitor,
    };

    let mut rows = vec![header(&[
        "ROUTER", "METHOD", "PATH", "RESPONSE", "TIME", "",
    ])];
    let mut found = None;
    for router in [usual, other] {
        let probe = session
            .client
            .probe_monitor(generation, router, MonitorCall::TaskStats)
            .await;
        rows.push(probe_row(router.name(), &probe));
        if found.is_none() {
            found = Payload::of(&probe).map(|payload| (router, payload));
        }
        session.keep(probe);
    }
    step.lines_from(columns(&rows));

    match &found {
        Some((router, _)) => step.line(format!(
            "A run uses the {} generation and the {} router.",
            generation_name(generation),
            router.name()
        )),
        None => {
            step.fail(
                "Neither monitor router serves getDockerTaskStats, so a run cannot read \
                 replica state or CPU and holds every service.",
            );
            step.advise(
                "Check that the panel's monitoring works in its web interface (the \
                 Monitor page); run again with --raw to see the responses.",
            );
        }
    }
    found
}

fn probe_row(label: &str, probe: &Probe) -> Vec<String> {
    let response = match probe.status {
        Some(status) => format!("HTTP {status}"),
        None => "no response".to_owned(),
    };
    let verdict = match (&probe.outcome, probe.status) {
        (Ok(_), _) => "works".to_owned(),
        (Err(_), Some(404)) => "not served".to_owned(),
        (Err(_), Some(405)) => "wrong method, not this generation".to_owned(),
        (Err(ApiError::Unauthorized { .. }), _) => "token rejected".to_owned(),
        (Err(ApiError::InvalidResponse { .. }), _) => "invalid response".to_owned(),
        (Err(_), _) => "failed".to_owned(),
    };
    vec![
        label.to_owned(),
        probe.method.to_string(),
        probe.path.clone(),
        response,
        millis(probe.elapsed),
        verdict,
    ]
}

fn header(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|cell| (*cell).to_owned()).collect()
}

pub(super) fn generation_name(generation: Generation) -> &'static str {
    match generation {
        Generation::Trpc => "tRPC",
        Generation::Rpc => "RPC",
    }
}

/// Returns the major and minor numbers of a version such as `2.19.0`.
fn minor_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_version_reads_major_and_minor() {
        assert_eq!(minor_version("2.19.0"), Some((2, 19)));
        assert_eq!(minor_version("v2.31.1"), Some((2, 31)));
        assert_eq!(minor_version("latest"), None);
    }
}
