//! The journal entry of a request while the server handles it.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{Method, Uri};
use serde_json::Value;

use crate::journal::RecordedRequest;
use crate::server::Shared;

/// The journal entry of one request in flight. Dropping it without [`Recording::finish`]
/// (the client hung up and the server dropped the handler) records the request with no
/// status.
pub(crate) struct Recording {
    shared: Option<Arc<Shared>>,
    id: u64,
    pub(crate) input: Value,
    violations: Vec<String>,
    label: String,
}

impl Recording {
    pub(crate) fn begin(
        shared: &Arc<Shared>,
        method: &Method,
        uri: &Uri,
        procedure: Option<String>,
    ) -> Self {
        let label = format!("{method} {}", uri.path());
        let request = RecordedRequest {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            procedure,
            input: Value::Null,
            status: None,
            received_at: Instant::now(),
            elapsed: None,
            violations: Vec::new(),
        };
        let id = shared.journal().begin(request);
        Recording {
            shared: Some(Arc::clone(shared)),
            id,
            input: Value::Null,
            violations: Vec::new(),
            label,
        }
    }

    pub(crate) fn violate(&mut self, rule: &str) {
        self.violations.push(format!("{}: {rule}", self.label));
    }

    pub(crate) fn finish(&mut self, status: Option<u16>) {
        if let Some(shared) = self.shared.take() {
            let input = std::mem::take(&mut self.input);
            let violations = std::mem::take(&mut self.violations);
            shared.journal().finish(self.id, input, status, violations);
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.finish(None);
    }
}
