//! A stand-in for the HTTP API of an Easypanel panel, for the autoscaler's tests, its demo
//! and its benchmark.
//!
//! # What it emulates
//!
//! - Both transports: tRPC (`/api/trpc/<router>.<procedure>`, panels up to 2.30) and RPC
//!   (`/api/rpc/<router>/<procedure>`, panels from 2.31), with their envelopes, error bodies
//!   and status codes. The other transport's paths return 404, as on a real panel.
//! - Auth by `Authorization: Bearer <token>` (401 otherwise), the HTTP verb per procedure
//!   (405 otherwise), and the 2.19.0 input schemas of the served procedures, including
//!   zod's default filling and its rejection of unknown fields (400).
//! - The procedures the autoscaler calls: `projects.listProjectsAndServices`,
//!   `services.app.inspectService`, `services.app.updateDeploy`,
//!   `services.app.deployService`, and `getDockerTaskStats`, `getMonitorTableData`,
//!   `getServiceStats` and `getSystemStats` under `monitor` or `monitorOld`; plus
//!   `GET /api/openapi.json`.
//! - Service documents with realistic sizes and secrets in clear text
//!   ([`StandIn::secrets`] lists them), Swarm desired and running task counts, and
//!   per-container CPU percents (100 is one core).
//! - Faults per procedure ([`Fault`]): error statuses, delays, malformed or wrongly wrapped
//!   bodies, odd payloads, huge bodies and dropped connections.
//!
//! # What it does not emulate
//!
//! - Any other procedure (each returns 404), tRPC batching (`?batch=1`), the flat `/api/...`
//!   names of 2.33 and later, and `metrics.getAllServicesStats`.
//! - Docker itself: no images, builds or rolling updates. A new task count takes effect at
//!   once, or after `deploy_duration` for `deployService`.
//! - Load balancing: an added container uses the CPU percent of the last one, so scaling up
//!   does not lower the per-container figures.
//! - More than one node, login sessions, and rate limits.
//!
//! # Violations
//!
//! Every `/api` request is recorded ([`StandIn::requests`]). A request that breaks a rule of
//! the real API gets the response the panel gives and is also recorded as a violation
//! ([`StandIn::violations`]). These rules are checked:
//!
//! - the token is present and right;
//! - the verb fits the procedure;
//! - the envelope is `{"json": INPUT}`, and the input passes the procedure's schema;
//! - a procedure that takes no input gets none;
//! - a `POST` body is declared as JSON;
//! - a replica count is one Docker accepts.
//!
//! A 404 is not a violation, because clients probe paths to detect the generation.
//!
//! # Example
//!
//! ```
//! use easypanel_standin::{PanelOptions, ServiceSpec, StandIn};
//!
//! let panel = StandIn::start(
//!     PanelOptions::rpc(),
//!     vec![ServiceSpec::new("shop", "api").replicas(2).cpu(vec![90.0, 85.0])],
//! );
//! // Point the client at panel.url() with the token "test-token", run it, then:
//! assert!(panel.violations().is_empty());
//! assert_eq!(panel.service("shop_api").unwrap().replicas(), Some(2));
//! ```

mod checks;
mod document;
mod envelope;
mod fault;
mod fleet;
mod journal;
mod monitor;
mod options;
mod panel;
mod procedures;
mod recording;
mod response;
mod schema;
mod server;
mod services;
mod spec;
mod standin;

pub use fault::Fault;
pub use fleet::{demo_fleet, fleet};
pub use journal::RecordedRequest;
pub use options::{Generation, MonitorRouter, PanelOptions};
pub use panel::ServiceSnapshot;
pub use spec::{PublishedPort, ServiceSpec, ServiceType, DEFAULT_CONTAINER_CPU};
pub use standin::StandIn;
