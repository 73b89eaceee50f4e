//! The HTTP side: routing, the request checks, fault injection and the response.
//!
//! Every `/api` request goes through the same steps:
//!
//! 1. record it and wait the configured latency;
//! 2. find the procedure, then check auth, verb, envelope and input;
//! 3. apply a fault if one is set;
//! 4. run the procedure and wrap its payload in the generation's envelope.
//!
//! A request that breaks a rule of the real API gets the response the panel gives and is
//! also recorded as a violation. Paths outside `/api/` return a plain 404 and are not
//! recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::checks::{self, Call, Request};
use crate::envelope;
use crate::fault::{Fault, FaultAction};
use crate::journal::Journal;
use crate::options::PanelOptions;
use crate::panel::Panel;
use crate::procedures;
use crate::recording::Recording;
use crate::response::{
    error_response, fault_response, json_response, success_response, text_response, ApiResponse,
};

/// State shared by the server and the [`crate::StandIn`] handle.
pub(crate) struct Shared {
    pub(crate) options: PanelOptions,
    pub(crate) secrets: Vec<String>,
    panel: Mutex<Panel>,
    journal: Mutex<Journal>,
    faults: Mutex<HashMap<String, Fault>>,
}

impl Shared {
    pub(crate) fn new(options: PanelOptions, panel: Panel, secrets: Vec<String>) -> Self {
        Shared {
            options,
            secrets,
            panel: Mutex::new(panel),
            journal: Mutex::new(Journal::default()),
            faults: Mutex::new(HashMap::new()),
        }
    }

    // A panic while a lock is held (a failed assertion in a test, say) leaves the data
    // consistent, so a poisoned lock is used as it is.
    pub(crate) fn panel(&self) -> MutexGuard<'_, Panel> {
        self.panel.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn journal(&self) -> MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, HashMap<String, Fault>> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns the fault set for `procedure`, counting this use against its limit.
    fn take_fault(&self, procedure: &str) -> Option<Fault> {
        let mut faults = self.faults();
        let fault = faults.get_mut(procedure)?;
        if fault.remaining == Some(0) {
            faults.remove(procedure);
            return None;
        }
        let applied = fault.clone();
        if let Some(remaining) = fault.remaining.as_mut() {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                faults.remove(procedure);
            }
        }
        Some(applied)
    }
}

/// Returns the router: `/_standin/stats` plus everything else through [`handle`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_standin/stats", get(stats))
        .fallback(handle)
        .with_state(shared)
}

/// Returns request counts and violations for a client in another process. A real panel has
/// no such path, so it needs no token and adds no latency.
async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let journal = shared.journal();
    let body = json!({
        "requests": journal.total(),
        "by_procedure": journal.by_procedure(),
        "violations": journal.violations(),
        "violation_count": journal.violation_count(),
    });
    json_response(200, &body)
}

/// Handles every request outside `/_standin/`.
async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !uri.path().starts_with("/api/") {
        return text_response(404, "Not Found");
    }

    let procedure = procedures::name_from_path(shared.options.generation, uri.path());
    let mut recording = Recording::begin(&shared, &method, &uri, procedure.clone());

    tokio::time::sleep(shared.options.latency).await;

    let request = Request {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    let response = respond(&shared, &request, procedure.as_deref(), &mut recording).await;
    recording.finish(response.status);
    response.response
}

/// Returns the response to an `/api` request whose path names the procedure `name`.
async fn respond(
    shared: &Shared,
    request: &Request<'_>,
    name: Option<&str>,
    recording: &mut Recording,
) -> ApiResponse {
    let options = &shared.options;
    let generation = options.generation;
    let label = name.unwrap_or(request.uri.path());

    if request.uri.path() == "/api/openapi.json" {
        return match checks::check_auth(request.headers, &options.token) {
            Ok(()) => ApiResponse::json(200, &procedures::openapi_document(options)),
            Err(error) => error_response(generation, error, recording, label),
        };
    }

    match checks::admit(options, request, name, recording) {
        Ok(call) => run(shared, call, recording, label).await,
        Err(error) => error_response(generation, error, recording, label),
    }
}

/// Runs an admitted call, with the fault set for its procedure if there is one.
async fn run(
    shared: &Shared,
    call: Call<'_>,
    recording: &mut Recording,
    label: &str,
) -> ApiResponse {
    let generation = shared.options.generation;
    let Call {
        name,
        procedure,
        input,
    } = call;

    let Some(fault) = shared.take_fault(name) else {
        let outcome = procedure.call(shared, &input).await;
        return success_response(generation, outcome, recording, label);
    };
    match fault.action {
        FaultAction::Delay(delay) => {
            tokio::time::sleep(delay).await;
            let outcome = procedure.call(shared, &input).await;
            success_response(generation, outcome, recording, label)
        }
        FaultAction::WrongEnvelope => match procedure.call(shared, &input).await {
            Ok(reply) => {
                ApiResponse::json(200, &envelope::wrong_envelope(generation, reply.payload))
            }
            Err(error) => error_response(generation, error, recording, label),
        },
        action => {
            let reply = if fault.after_handling {
                procedure.call(shared, &input).await.ok()
            } else {
                None
            };
            fault_response(generation, action, reply, label)
        }
    }
}
