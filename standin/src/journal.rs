//! The record of every request the stand-in received and every rule a request broke.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Maximum requests kept by the journal. Older ones are dropped first, and counts stay exact.
const MAX_RECORDED_REQUESTS: usize = 100_000;

/// Maximum violations kept by the journal. Later ones are counted but not kept.
const MAX_RECORDED_VIOLATIONS: usize = 10_000;

/// One request as the stand-in received it and responded to it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method, for example `GET`.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query string, when present.
    pub query: Option<String>,
    /// Procedure name such as `services.app.updateDeploy`, whatever the transport; `None`
    /// for paths that name no procedure (such as `/api/openapi.json`).
    pub procedure: Option<String>,
    /// Input taken out of the request's envelope as sent, before defaults; `Null` when the
    /// request carried none or its envelope could not be read.
    pub input: Value,
    /// HTTP status of the response. It is `None` while the response is pending and when no
    /// complete response was sent, because the client hung up or a fault dropped the
    /// connection.
    pub status: Option<u16>,
    /// When the request arrived.
    pub received_at: Instant,
    /// Time from arrival to the response, latency included; `None` when `status` is `None`.
    pub elapsed: Option<Duration>,
    /// Rules of the real API this request broke.
    pub violations: Vec<String>,
}

/// Requests, per-procedure counts and violations.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    next_id: u64,
    first_id: u64,
    requests: VecDeque<RecordedRequest>,
    total: u64,
    by_procedure: BTreeMap<String, u64>,
    violations: Vec<String>,
    violation_count: u64,
}

impl Journal {
    /// Records an arriving request and returns its id for [`Journal::finish`].
    pub(crate) fn begin(&mut self, request: RecordedRequest) -> u64 {
        let label = request
            .procedure
            .clone()
            .unwrap_or_else(|| request.path.clone());
        *self.by_procedure.entry(label).or_default() += 1;
        self.total += 1;

        if self.requests.len() == MAX_RECORDED_REQUESTS {
            self.requests.pop_front();
            self.first_id += 1;
        }
        self.requests.push_back(request);
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Stores the outcome of request `id`, if it is still kept.
    pub(crate) fn finish(
        &mut self,
        id: u64,
        input: Value,
        status: Option<u16>,
        violations: Vec<String>,
    ) {
        for violation in &violations {
            self.add_violation(violation.clone());
        }

        let Some(index) = id.checked_sub(self.first_id) else {
            return;
        };
        if let Some(request) = self.requests.get_mut(index as usize) {
            request.elapsed = status.map(|_| request.received_at.elapsed());
            request.input = input;
            request.status = status;
            request.violations = violations;
        }
    }

    fn add_violation(&mut self, violation: String) {
        self.violation_count += 1;
        if self.violations.len() < MAX_RECORDED_VIOLATIONS {
            self.violations.push(violation);
        }
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.iter().cloned().collect()
    }

    /// Forgets every request and resets the counts; violations stay.
    pub(crate) fn clear_requests(&mut self) {
        self.first_id = self.next_id;
        self.requests.clear();
        self.total = 0;
        self.by_procedure.clear();
    }

    pub(crate) fn clear_violations(&mut self) {
        self.violations.clear();
        self.violation_count = 0;
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    pub(crate) fn by_procedure(&self) -> &BTreeMap<String, u64> {
        &self.by_procedure
    }

    pub(crate) fn violations(&self) -> &[String] {
        &self.violations
    }

    pub(crate) fn violation_count(&self) -> u64 {
        self.violation_count
    }
}
