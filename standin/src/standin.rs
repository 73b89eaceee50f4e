//! [`StandIn`], the handle that starts a stand-in panel on its own thread and inspects it.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};

use tokio::sync::oneshot;

use crate::fault::Fault;
use crate::journal::RecordedRequest;
use crate::options::PanelOptions;
use crate::panel::{Panel, Service, ServiceSnapshot};
use crate::schema::is_name;
use crate::server::{self, Shared};
use crate::spec::ServiceSpec;

/// A running stand-in panel on `127.0.0.1`. Dropping it stops the server.
///
/// The server runs on its own thread with its own tokio runtime, so the handle works from
/// plain `#[test]` functions as well as from async code. Every method locks briefly and
/// returns at once.
pub struct StandIn {
    shared: Arc<Shared>,
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Starts a panel on a free loopback port with the given services.
    ///
    /// # Panics
    ///
    /// Panics when a service spec is invalid (see [`StandIn::start_on`]) or the server cannot
    /// start, which in a test is a broken setup.
    pub fn start(options: PanelOptions, services: Vec<ServiceSpec>) -> StandIn {
        StandIn::start_on(0, options, services)
            .unwrap_or_else(|error| panic!("the stand-in panel failed to start: {error}"))
    }

    /// Starts a panel on `127.0.0.1:port` (0 picks a free port) and returns once it listens.
    ///
    /// # Errors
    ///
    /// Returns `InvalidInput` when a project or service name does not match
    /// `^[a-z0-9-_]+$` or two services share a key, and the I/O error when the runtime or the
    /// listener cannot be created.
    pub fn start_on(
        port: u16,
        options: PanelOptions,
        services: Vec<ServiceSpec>,
    ) -> io::Result<StandIn> {
        let (panel, mut secrets) = build_panel(&services)?;
        secrets.push(options.token.clone());
        let shared = Arc::new(Shared::new(options, panel, secrets));

        let (ready_sender, ready) = mpsc::channel();
        let (shutdown, shutdown_signal) = oneshot::channel();
        let server_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(format!("easypanel-standin-{port}"))
            .spawn(move || serve(port, server_shared, ready_sender, shutdown_signal))?;

        let address = ready
            .recv()
            .map_err(|_| io::Error::other("the stand-in server thread ended before listening"))??;
        Ok(StandIn {
            shared,
            address,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Returns the base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Returns the listening address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns the options the panel runs with.
    pub fn options(&self) -> &PanelOptions {
        &self.shared.options
    }

    /// Returns the full name of a monitor procedure under the router in effect, for example
    /// `monitorOld.getMonitorTableData` for `getMonitorTableData` on an RPC panel.
    pub fn monitor_procedure(&self, name: &str) -> String {
        self.shared.options.monitor().procedure(name)
    }

    /// Returns the requests recorded since the start or the last
    /// [`StandIn::clear_requests`], oldest first. At most the latest 100,000 are kept.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.journal().requests()
    }

    /// Returns the recorded requests to `procedure`, such as `services.app.updateDeploy`.
    pub fn calls(&self, procedure: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.procedure.as_deref() == Some(procedure))
            .collect()
    }

    /// Forgets the recorded requests and resets the counts; violations stay.
    pub fn clear_requests(&self) {
        self.shared.journal().clear_requests();
    }

    /// Returns the number of `/api` requests since the start or the last clear.
    pub fn request_count(&self) -> u64 {
        self.shared.journal().total()
    }

    /// Returns one line per broken rule of the real API, such as
    /// `POST /api/trpc/services.app.updateDeploy: input does not match the schema: ...`.
    /// At most the first 10,000 are kept.
    pub fn violations(&self) -> Vec<String> {
        self.shared.journal().violations().to_vec()
    }

    /// Forgets the recorded violations.
    pub fn clear_violations(&self) {
        self.shared.journal().clear_violations();
    }

    /// Returns every secret in the stored documents, and the API token.
    pub fn secrets(&self) -> Vec<String> {
        self.shared.secrets.clone()
    }

    /// Returns the state of the service with Swarm key `<project>_<name>`.
    pub fn service(&self, key: &str) -> Option<ServiceSnapshot> {
        self.shared.panel().find(key).map(Service::snapshot)
    }

    /// Sets the CPU percent of each running container, in container order; containers past
    /// the end of the list use its last value.
    ///
    /// # Panics
    ///
    /// Panics when no service has the key `key`.
    pub fn set_cpu(&self, key: &str, per_container: Vec<f64>) {
        self.with_service(key, |service| service.cpu = per_container);
    }

    /// Sets the running and desired Swarm task counts, as if Swarm were mid-update or a task
    /// had crashed.
    ///
    /// # Panics
    ///
    /// Panics when no service has the key `key`.
    pub fn set_tasks(&self, key: &str, running: u32, desired: u32) {
        self.with_service(key, |service| {
            service.running = running;
            service.desired = desired;
        });
    }

    /// Sets `deploy.replicas` and both task counts to `replicas`, as a user who changed the
    /// replicas and deployed would.
    ///
    /// # Panics
    ///
    /// Panics when no service has the key `key` or the service has no `deploy` object.
    pub fn set_replicas(&self, key: &str, replicas: u32) {
        self.with_service(key, |service| {
            let deploy = service
                .document
                .get_mut("deploy")
                .and_then(|deploy| deploy.as_object_mut())
                .unwrap_or_else(|| panic!("service `{key}` has no deploy object"));
            deploy.insert("replicas".into(), replicas.into());
            service.converge(replicas);
        });
    }

    /// Sets a fault on `procedure` (its full name, such as `monitor.getMonitorTableData`),
    /// replacing any fault it had.
    pub fn set_fault(&self, procedure: &str, fault: Fault) {
        self.shared.faults().insert(procedure.to_string(), fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    fn with_service(&self, key: &str, change: impl FnOnce(&mut Service)) {
        let mut panel = self.shared.panel();
        let service = panel
            .find_mut(key)
            .unwrap_or_else(|| panic!("the stand-in panel has no service `{key}`"));
        change(service);
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // An error means the server thread has already ended.
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Returns the panel built from `specs` and the secrets in its documents.
fn build_panel(specs: &[ServiceSpec]) -> io::Result<(Panel, Vec<String>)> {
    let mut panel = Panel::default();
    let mut secrets = Vec::new();
    for spec in specs {
        for (field, value) in [("project", &spec.project), ("service name", &spec.name)] {
            if !is_name(value) {
                let message = format!("{field} `{value}` does not match ^[a-z0-9-_]+$");
                return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
            }
        }
        if panel.find(&spec.key()).is_some() {
            let message = format!("two services have the key `{}`", spec.key());
            return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        }

        let (service, service_secrets) = Service::from_spec(spec);
        panel.services.push(service);
        secrets.extend(service_secrets);
    }
    Ok((panel, secrets))
}

/// Runs the server until `shutdown` fires; reports the bound address or the error on `ready`.
fn serve(
    port: u16,
    shared: Arc<Shared>,
    ready: mpsc::Sender<io::Result<SocketAddr>>,
    shutdown: oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("easypanel-standin-worker")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };

    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(listener) => listener,
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        let _ = ready.send(listener.local_addr());

        // Connections in flight (a long deployService, say) are cut when the handle is
        // dropped: a test's server has no client worth waiting for.
        tokio::select! {
            result = axum::serve(listener, server::router(shared)) => {
                if let Err(error) = result {
                    eprintln!("easypanel-standin: server stopped: {error}");
                }
            }
            _ = shutdown => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handle_is_send_and_sync() {
        assert_send_sync::<StandIn>();
    }

    #[test]
    fn drop_stops_server() {
        let panel = StandIn::start(PanelOptions::default(), Vec::new());
        let address = panel.address();

        drop(panel);

        assert!(std::net::TcpStream::connect(address).is_err());
    }
}
