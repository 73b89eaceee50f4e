//! Stored service documents, shaped like the ones Easypanel returns, with unique secrets.
//!
//! Easypanel's inventory and `inspectService` return each service's whole stored
//! configuration, secrets in clear text included. The documents here carry the same kinds of
//! secrets (environment credentials, database passwords, the deploy token, source
//! credentials) so that tests can check a client never writes one to a log or a screen.
//! Every secret has the form `S3CRET-<project>-<name>-<slot>`, which makes it unique and easy
//! to search for.

use serde_json::{json, Value};

use crate::spec::{ServiceSpec, ServiceType};

/// Creation date written into every document and project, in the panel's ISO format.
pub(crate) const CREATED_AT: &str = "2024-05-01T10:00:00.000Z";

/// Returns the stored document of a service and the secrets it contains.
pub(crate) fn build(spec: &ServiceSpec) -> (Value, Vec<String>) {
    let mut secrets = SecretBook::new(spec);

    let mut document = match spec.service_type {
        ServiceType::App => app_fields(spec, &mut secrets),
        ServiceType::Compose => compose_fields(spec, &mut secrets),
        service_type if service_type.is_database() => database_fields(spec, &mut secrets),
        _ => generic_fields(spec, &mut secrets),
    };

    let fields = document
        .as_object_mut()
        .expect("documents are JSON objects");
    fields.insert("projectName".into(), json!(spec.project));
    fields.insert("name".into(), json!(spec.name));
    fields.insert("type".into(), json!(spec.service_type.as_str()));
    fields.insert("enabled".into(), json!(spec.enabled));
    fields.insert("createdAt".into(), json!(CREATED_AT));
    fields.insert("updatedAt".into(), json!(CREATED_AT));
    fields.insert("resources".into(), resources(spec));

    (document, secrets.issued)
}

/// Issues the secrets of one service and remembers each one it hands out.
struct SecretBook {
    prefix: String,
    issued: Vec<String>,
}

impl SecretBook {
    fn new(spec: &ServiceSpec) -> Self {
        SecretBook {
            prefix: format!("S3CRET-{}-{}", spec.project, spec.name),
            issued: Vec::new(),
        }
    }

    fn issue(&mut self, slot: &str) -> String {
        let secret = format!("{}-{slot}", self.prefix);
        self.issued.push(secret.clone());
        secret
    }
}

fn app_fields(spec: &ServiceSpec, secrets: &mut SecretBook) -> Value {
    let token = secrets.issue("deploy-token");
    let ports: Vec<Value> = spec
        .ports
        .iter()
        .map(|port| json!({"published": port.published, "target": port.target, "protocol": "tcp"}))
        .collect();

    json!({
        "token": token,
        "deploymentUrl": format!("http://127.0.0.1/api/deploy/{token}"),
        "source": app_source(spec, secrets),
        "build": {"type": "dockerfile", "file": "Dockerfile"},
        "env": app_env(spec, secrets),
        "deploy": {
            "replicas": spec.replicas,
            "command": spec.command,
            "zeroDowntime": true,
            "capAdd": [],
            "capDrop": [],
            "sysctls": {},
            "groups": [],
            "tiniInit": false
        },
        "domains": [{
            "host": format!("{}-{}.example.com", spec.name, spec.project),
            "https": true,
            "port": 3000,
            "path": "/",
            "middlewares": [],
            "certificateResolver": "",
            "wildcard": false
        }],
        "mounts": [
            {"type": "volume", "name": "data", "mountPath": "/app/data"},
            {"type": "file", "content": config_file(spec), "mountPath": "/app/config.yaml"}
        ],
        "ports": ports,
        "redirects": [],
        "basicAuth": [],
        "maintenance": {"enabled": false, "title": null, "subtitle": null, "customLogo": null},
        "healthcheck": {"enabled": false, "test": null, "interval": 30, "timeout": 30, "retries": 3}
    })
}

/// Picks one of the three source kinds by the service name, so a fleet contains all of them.
fn app_source(spec: &ServiceSpec, secrets: &mut SecretBook) -> Value {
    match spec.name.len() % 3 {
        0 => json!({
            "type": "github",
            "owner": spec.project,
            "repo": spec.name,
            "ref": "main",
            "path": "/",
            "autoDeploy": true
        }),
        1 => {
            let password = secrets.issue("git-password");
            json!({
                "type": "git",
                "repo": format!("https://deploy:{password}@git.example.com/{}/{}.git", spec.project, spec.name),
                "ref": "main",
                "path": "/"
            })
        }
        _ => {
            let password = secrets.issue("registry-password");
            json!({
                "type": "image",
                "image": format!("registry.example.com/{}/{}:latest", spec.project, spec.name),
                "username": spec.project,
                "password": password
            })
        }
    }
}

fn app_env(spec: &ServiceSpec, secrets: &mut SecretBook) -> String {
    let project = &spec.project;
    let mut lines = vec![
        "NODE_ENV=production".to_string(),
        "PORT=3000".to_string(),
        "LOG_LEVEL=info".to_string(),
        format!(
            "DATABASE_URL=postgres://app:{}@{project}_db:5432/{project}",
            secrets.issue("database-password")
        ),
        format!(
            "REDIS_URL=redis://default:{}@{project}_cache:6379/0",
            secrets.issue("redis-password")
        ),
        format!("API_KEY={}", secrets.issue("api-key")),
        format!("SESSION_SECRET={}", secrets.issue("session-secret")),
        "SMTP_HOST=smtp.example.com".to_string(),
        "SMTP_USER=mailer".to_string(),
        format!("SMTP_PASSWORD={}", secrets.issue("smtp-password")),
        format!("S3_BUCKET={project}-uploads"),
        "S3_ACCESS_KEY_ID=AKIASTANDINEXAMPLE".to_string(),
        format!("S3_SECRET_ACCESS_KEY={}", secrets.issue("s3-secret-key")),
        format!("PUBLIC_URL=https://{}-{project}.example.com", spec.name),
    ];
    for index in 1..=24 {
        lines.push(format!("FEATURE_FLAG_{index:02}={}", index % 2 == 0));
    }
    lines.join("\n")
}

/// Returns a mounted configuration file of about 1.5 KB, a common size for a real one.
fn config_file(spec: &ServiceSpec) -> String {
    let mut lines = vec![
        format!(
            "# Configuration of {} in project {}",
            spec.name, spec.project
        ),
        "server:".to_string(),
        "  listen: 0.0.0.0:3000".to_string(),
        "  request_timeout_seconds: 30".to_string(),
        "workers:".to_string(),
    ];
    for index in 1..=40 {
        lines.push(format!(
            "  - queue: jobs-{index:02}\n    concurrency: {}",
            index % 4 + 1
        ));
    }
    lines.join("\n")
}

fn compose_fields(spec: &ServiceSpec, secrets: &mut SecretBook) -> Value {
    let token = secrets.issue("deploy-token");
    let password = secrets.issue("git-password");
    json!({
        "token": token,
        "deploymentUrl": format!("http://127.0.0.1/api/compose/deploy/{token}"),
        "source": {
            "type": "git",
            "repo": format!("https://deploy:{password}@git.example.com/{}/{}.git", spec.project, spec.name),
            "ref": "main",
            "rootPath": "/",
            "composeFile": "docker-compose.yml"
        },
        "env": format!("STACK_SECRET={}", secrets.issue("stack-secret")),
        "domains": []
    })
}

fn database_fields(spec: &ServiceSpec, secrets: &mut SecretBook) -> Value {
    let image = match spec.service_type {
        ServiceType::Postgres => "postgres:16",
        ServiceType::Mysql => "mysql:8",
        ServiceType::Mariadb => "mariadb:11",
        ServiceType::Mongo => "mongo:7",
        _ => "redis:7",
    };
    let mut document = json!({
        "image": image,
        "password": secrets.issue("password"),
        "exposedPort": 0,
        "env": "",
        "command": null,
        "backup": {"enabled": false, "schedule": "0 3 * * *", "prefix": spec.name}
    });

    let fields = document
        .as_object_mut()
        .expect("documents are JSON objects");
    if spec.service_type != ServiceType::Redis {
        fields.insert("databaseName".into(), json!(spec.project));
        fields.insert("user".into(), json!(spec.project));
    }
    if matches!(spec.service_type, ServiceType::Mysql | ServiceType::Mariadb) {
        fields.insert("rootPassword".into(), json!(secrets.issue("root-password")));
    }
    document
}

fn generic_fields(spec: &ServiceSpec, secrets: &mut SecretBook) -> Value {
    json!({
        "token": secrets.issue("deploy-token"),
        "env": format!("ADMIN_PASSWORD={}", secrets.issue("admin-password")),
        "domains": [{"host": format!("{}-{}.example.com", spec.name, spec.project), "https": true, "port": 80, "path": "/"}]
    })
}

fn resources(spec: &ServiceSpec) -> Value {
    json!({
        "memoryReservation": 0,
        "memoryLimit": spec.memory_limit_mb,
        "cpuReservation": 0,
        "cpuLimit": number(spec.cpu_limit)
    })
}

/// Returns a JSON number the way JavaScript prints it: a whole value has no fraction part.
pub(crate) fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < MAX_SAFE_INTEGER {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// Largest integer JavaScript numbers hold exactly (`Number.MAX_SAFE_INTEGER` + 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;
