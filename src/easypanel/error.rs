//! Errors of the API client. "Could not reach the panel" and "the panel answered with an
//! error" are separate variants, because the first is about the network and the second about
//! the request or the panel itself.

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    /// No HTTP answer: connection refused, DNS failure, TLS failure, connection reset.
    #[error("could not reach the panel at {url}: {detail}")]
    Unreachable { url: String, detail: String },

    #[error("{endpoint} timed out after {}", seconds(*timeout))]
    Timeout { endpoint: String, timeout: Duration },

    #[error(
        "the panel rejected the API token (HTTP {status} on {endpoint}); create a token under \
         Settings > Users in the panel and set it as api.token or EASYPANEL_API_TOKEN"
    )]
    Unauthorized { endpoint: String, status: u16 },

    /// The procedure does not exist under this transport generation or router name.
    #[error("{endpoint} not found (HTTP 404): the panel does not have this procedure")]
    ProcedureNotFound { endpoint: String },

    #[error("{endpoint} answered HTTP 405: wrong method for this transport generation")]
    MethodNotAllowed { endpoint: String },

    #[error(
        "{endpoint} answered a redirect (HTTP {status}) to {location}; set api.base_url to the \
         panel's final address"
    )]
    Redirected {
        endpoint: String,
        status: u16,
        location: String,
    },

    /// An error response from the panel itself.
    #[error("{endpoint} failed with HTTP {status}: {message}")]
    Panel {
        endpoint: String,
        status: u16,
        message: String,
    },

    /// A response that arrived but is not what the procedure returns.
    #[error("{endpoint} returned an invalid response: {detail}")]
    InvalidResponse { endpoint: String, detail: String },

    #[error("{endpoint} returned more than {limit_bytes} bytes; the response was rejected")]
    TooLarge { endpoint: String, limit_bytes: u64 },

    /// A write not started because less than its timeout is left in the run's budget. A
    /// write cut short may still be applied by the panel without the run learning of it.
    #[error(
        "{endpoint} was not sent: {:.1}s of the run's budget (global.max_run_seconds) is left, \
         less than api.timeout_seconds ({}s) that a write may need",
        left.as_secs_f64(),
        timeout.as_secs()
    )]
    WriteBudget {
        endpoint: String,
        left: Duration,
        timeout: Duration,
    },

    /// The run's time budget ran out before the request could be sent or retried.
    #[error("{endpoint} was not sent: the run's time budget (global.max_run_seconds) is spent")]
    BudgetSpent { endpoint: String },
}

impl ApiError {
    /// Returns true when trying the same request again may succeed: timeouts, dropped
    /// connections and server errors other than "not found".
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Timeout { .. } => true,
            ApiError::Unreachable { detail, .. } => !is_permanent_network_error(detail),
            ApiError::Panel {
                status, message, ..
            } => *status >= 500 && !is_not_found(message),
            _ => false,
        }
    }

    /// Returns true when the error reports that a project or service does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            ApiError::Panel { message, .. } => is_not_found(message),
            _ => false,
        }
    }

    /// Returns true when the error suggests another transport generation or router name.
    pub fn is_wrong_generation(&self) -> bool {
        matches!(
            self,
            ApiError::ProcedureNotFound { .. } | ApiError::MethodNotAllowed { .. }
        )
    }
}

/// Formats a duration in seconds, whole when it is whole (`30s`), else to a tenth (`0.9s`).
fn seconds(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// Checks the message, because the panel reports a missing project or service as an error
/// whose message contains "not found", often with HTTP 500.
fn is_not_found(message: &str) -> bool {
    message.to_ascii_lowercase().contains("not found")
}

/// Refused connections, DNS and TLS failures do not heal within a run.
fn is_permanent_network_error(detail: &str) -> bool {
    let detail = detail.to_ascii_lowercase();
    [
        "refused",
        "dns",
        "resolve",
        "certificate",
        "tls",
        "invalid url",
        "builder error",
    ]
    .iter()
    .any(|word| detail.contains(word))
}
