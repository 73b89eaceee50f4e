//! Secret redaction for anything the client shows: debug logs, `debug-api --raw` output,
//! error messages that quote a response.
//!
//! Inventory rows and service documents carry a service's whole stored configuration, with
//! environment variables, database passwords, deploy tokens and source credentials in clear
//! text. Every response is passed through [`redact_json`] before it is shown.

use serde_json::Value;

/// The text that replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Parts of field names whose values are replaced whole, compared case-insensitively.
const SECRET_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "cookie",
    "session",
    "private",
    "cert",
];
/// Whole field names whose values are replaced, compared case-insensitively. `env` contains
/// every environment variable of a service, `deploymentUrl` embeds the deploy webhook's
/// secret, `content` is the text of a file mount (a mounted `.env`, say), and `command`
/// and `args` may carry a password given on the command line.
const SECRET_KEYS: &[&str] = &[
    "env",
    "deploymenturl",
    "buildargs",
    "connectionstring",
    "dsn",
    "content",
    "command",
    "args",
];

/// Replaces every secret in a JSON value in place: values of secret-named fields, and
/// credentials embedded in URLs anywhere else.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if is_secret_key(key) && !field.is_null() {
                    *field = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(text) => {
            if let Some(clean) = redact_url_credentials(text) {
                *text = clean;
            }
        }
        _ => {}
    }
}

/// Returns the response body as redacted JSON text, or a placeholder when it is not JSON
/// (a body that cannot be parsed cannot be redacted field by field, so it is not shown).
pub fn redact_body(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            redact_json(&mut value);
            value.to_string()
        }
        Err(_) => format!("<{} bytes, not JSON, not shown>", body.len()),
    }
}

/// Replaces `secret` wherever it occurs in `text`. Used on error messages and free text
/// that may echo the API token.
pub fn redact_text(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    text.replace(secret, REDACTED)
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str()) || SECRET_KEY_PARTS.iter().any(|part| key.contains(part))
}

/// Returns the text with the password of every `scheme://user:password@host` replaced, or
/// `None` when it contains no such URL.
fn redact_url_credentials(text: &str) -> Option<String> {
    if !text.contains("://") || !text.contains('@') {
        return None;
    }
    let mut output = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        output.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let user = authority[..at].split(':').next().unwrap_or("");
                output.push_str(user);
                output.push(':');
                output.push_str(REDACTED);
                output.push_str(&authority[at..]);
                changed = true;
            }
            None => output.push_str(authority),
        }
        rest = &rest[authority_end..];
    }
    output.push_str(rest);
    changed.then_some(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_fields_are_replaced() {
        let mut value = json!({
            "name": "api",
            "env": "DATABASE_URL=postgres://app:hunter2@db/app\nAPI_KEY=abc",
            "password": "pw1",
            "rootPassword": "pw2",
            "token": "deploy-token",
            "deploymentUrl": "http://panel/api/deploy/xyz",
            "source": {"type": "git", "repo": "https://user:gitpass@example.test/r.git", "sshKey": "KEY"},
            "deploy": {"replicas": 2, "command": "node server.js --db-password hunter3"},
            "mounts": [{"type": "file", "content": "DB_PASSWORD=hunter4", "mountPath": "/app/.env"}]
        });

        redact_json(&mut value);
        let text = value.to_string();

        for secret in [
            "hunter2",
            "abc",
            "pw1",
            "pw2",
            "deploy-token",
            "xyz",
            "gitpass",
            "KEY",
        ] {
            assert!(!text.contains(secret), "{secret} still in {text}");
        }
        assert_eq!(value["name"], "api");
        assert_eq!(value["deploy"]["replicas"], 2);
        assert_eq!(value["mounts"][0]["mountPath"], "/app/.env");
    }

    #[test]
    fn url_credentials_are_replaced_in_free_text() {
        let clean =
            redact_url_credentials("see postgres://app:s3cret@db:5432/x and https://ok.test/")
                .expect("has credentials");

        assert_eq!(
            clean,
            "see postgres://app:[redacted]@db:5432/x and https://ok.test/"
        );
    }

    #[test]
    fn urls_without_credentials_are_kept() {
        assert_eq!(redact_url_credentials("https://panel.test/api"), None);
    }

    #[test]
    fn null_secret_fields_stay_null() {
        let mut value = json!({"password": null});

        redact_json(&mut value);

        assert_eq!(value["password"], Value::Null);
    }

    #[test]
    fn body_that_is_not_json_is_not_shown() {
        assert_eq!(redact_body(b"token=abc"), "<9 bytes, not JSON, not shown>");
    }

    #[test]
    fn token_is_replaced_in_text() {
        assert_eq!(redact_text("Bearer t0k", "t0k"), "Bearer [redacted]");
    }
}
