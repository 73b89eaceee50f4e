//! Faults injected into one procedure's responses, to test how a client copes with a panel
//! that fails, stalls or sends something unexpected.

use std::time::Duration;

use serde_json::Value;

/// A fault for one procedure, set with [`crate::StandIn::set_fault`].
///
/// A fault applies to requests that pass the auth, verb and input checks. Unless noted, the
/// faulty response replaces the procedure, so a faulted mutation changes nothing. Call
/// [`Fault::after_handling`] to let the procedure run first, like a panel that made the
/// change but failed to respond.
#[derive(Debug, Clone)]
pub struct Fault {
    pub(crate) action: FaultAction,
    pub(crate) remaining: Option<u32>,
    pub(crate) after_handling: bool,
}

/// The change a fault makes to a response.
#[derive(Debug, Clone)]
pub(crate) enum FaultAction {
    Status { status: u16, message: String },
    Delay(Duration),
    MalformedJson,
    WrongEnvelope,
    Payload(Value),
    RawBody { status: u16, body: String },
    HugeBody(usize),
    DropConnection,
}

impl Fault {
    fn new(action: FaultAction) -> Self {
        Fault {
            action,
            remaining: None,
            after_handling: false,
        }
    }

    /// Responds with HTTP `status` and the generation's error body carrying `message`, for
    /// example `Fault::status(500, "Service not found.")`.
    pub fn status(status: u16, message: &str) -> Self {
        Fault::new(FaultAction::Status {
            status,
            message: message.to_string(),
        })
    }

    /// Waits `delay` (on top of the panel's latency), then responds normally.
    pub fn delay(delay: Duration) -> Self {
        Fault::new(FaultAction::Delay(delay))
    }

    /// Responds 200 with a body cut off in the middle of its JSON.
    pub fn malformed_json() -> Self {
        Fault::new(FaultAction::MalformedJson)
    }

    /// Runs the procedure and responds 200 with its payload in the other generation's
    /// success envelope.
    pub fn wrong_envelope() -> Self {
        Fault::new(FaultAction::WrongEnvelope)
    }

    /// Responds 200 with `payload` inside a correct success envelope, for example nulls,
    /// negative numbers, numbers as strings or missing fields.
    pub fn payload(payload: Value) -> Self {
        Fault::new(FaultAction::Payload(payload))
    }

    /// Responds HTTP `status` with `body` exactly as given, with no envelope.
    pub fn raw_body(status: u16, body: &str) -> Self {
        Fault::new(FaultAction::RawBody {
            status,
            body: body.to_string(),
        })
    }

    /// Responds 200 with a valid success envelope padded to `bytes` bytes.
    pub fn huge_body(bytes: usize) -> Self {
        Fault::new(FaultAction::HugeBody(bytes))
    }

    /// Closes the connection without a complete response.
    pub fn drop_connection() -> Self {
        Fault::new(FaultAction::DropConnection)
    }

    /// Limits the fault to the next `count` matching requests; later ones get the normal
    /// response.
    pub fn times(mut self, count: u32) -> Self {
        self.remaining = Some(count);
        self
    }

    /// Runs the procedure, with its side effects, before the fault replaces the response.
    pub fn after_handling(mut self) -> Self {
        self.after_handling = true;
        self
    }
}
