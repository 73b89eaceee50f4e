//! Builder for the services a stand-in panel starts with.

/// Easypanel service type, the `type` field of a service document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    App,
    Compose,
    Postgres,
    Mysql,
    Mariadb,
    Mongo,
    Redis,
    Box,
    Wordpress,
}

impl ServiceType {
    /// Returns the name Easypanel uses in the `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::App => "app",
            ServiceType::Compose => "compose",
            ServiceType::Postgres => "postgres",
            ServiceType::Mysql => "mysql",
            ServiceType::Mariadb => "mariadb",
            ServiceType::Mongo => "mongo",
            ServiceType::Redis => "redis",
            ServiceType::Box => "box",
            ServiceType::Wordpress => "wordpress",
        }
    }

    /// Reports whether the type is a database with its own `password` field.
    pub fn is_database(self) -> bool {
        matches!(
            self,
            ServiceType::Postgres
                | ServiceType::Mysql
                | ServiceType::Mariadb
                | ServiceType::Mongo
                | ServiceType::Redis
        )
    }
}

/// A published port: host port `published` forwards to container port `target` over TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedPort {
    pub published: u16,
    pub target: u16,
}

/// CPU percent of each container when a spec sets none.
pub const DEFAULT_CONTAINER_CPU: f64 = 10.0;

/// One service of the stand-in panel, built with chained setters.
///
/// The service's Swarm key is `<project>_<name>`. Unless set, the service has 1 replica,
/// runs one container per replica at [`DEFAULT_CONTAINER_CPU`] percent, and its running and
/// desired task counts equal its replicas (both 0 when the service is disabled).
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub(crate) project: String,
    pub(crate) name: String,
    pub(crate) service_type: ServiceType,
    pub(crate) enabled: bool,
    pub(crate) replicas: u32,
    pub(crate) command: Option<String>,
    pub(crate) ports: Vec<PublishedPort>,
    pub(crate) cpu: Option<Vec<f64>>,
    pub(crate) running: Option<u32>,
    pub(crate) desired: Option<u32>,
    pub(crate) cpu_limit: f64,
    pub(crate) memory_limit_mb: u64,
}

impl ServiceSpec {
    /// Starts the spec of an enabled `app` service.
    pub fn new(project: &str, name: &str) -> Self {
        ServiceSpec {
            project: project.to_string(),
            name: name.to_string(),
            service_type: ServiceType::App,
            enabled: true,
            replicas: 1,
            command: None,
            ports: Vec::new(),
            cpu: None,
            running: None,
            desired: None,
            cpu_limit: 0.0,
            memory_limit_mb: 0,
        }
    }

    /// Sets the service type.
    pub fn service_type(mut self, service_type: ServiceType) -> Self {
        self.service_type = service_type;
        self
    }

    /// Sets the `enabled` switch. A disabled service runs no tasks unless `running` and
    /// `desired` are set.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets `deploy.replicas`.
    pub fn replicas(mut self, replicas: u32) -> Self {
        self.replicas = replicas;
        self
    }

    /// Sets `deploy.command`, the user's start command.
    pub fn command(mut self, command: &str) -> Self {
        self.command = Some(command.to_string());
        self
    }

    /// Adds a published TCP port.
    pub fn port(mut self, published: u16, target: u16) -> Self {
        self.ports.push(PublishedPort { published, target });
        self
    }

    /// Sets the CPU percent of each running container, in container order (100 is one
    /// full core). Containers past the end of the list use its last value.
    pub fn cpu(mut self, per_container: Vec<f64>) -> Self {
        self.cpu = Some(per_container);
        self
    }

    /// Sets the number of running Swarm tasks (containers).
    pub fn running(mut self, running: u32) -> Self {
        self.running = Some(running);
        self
    }

    /// Sets the Swarm desired task count.
    pub fn desired(mut self, desired: u32) -> Self {
        self.desired = Some(desired);
        self
    }

    /// Sets `resources.cpuLimit` in cores; 0 means no limit.
    pub fn cpu_limit(mut self, cores: f64) -> Self {
        self.cpu_limit = cores;
        self
    }

    /// Sets `resources.memoryLimit` in MB; 0 means no limit.
    pub fn memory_limit(mut self, megabytes: u64) -> Self {
        self.memory_limit_mb = megabytes;
        self
    }

    /// Returns the Swarm service name `<project>_<name>`.
    pub fn key(&self) -> String {
        format!("{}_{}", self.project, self.name)
    }

    /// Returns the Swarm desired task count the service starts with.
    pub(crate) fn initial_desired(&self) -> u32 {
        let default = if self.enabled { self.replicas } else { 0 };
        self.desired.unwrap_or(default)
    }

    /// Returns the running task count the service starts with.
    pub(crate) fn initial_running(&self) -> u32 {
        self.running.unwrap_or(self.initial_desired())
    }
}
