//! Explains in words why the panel could not be reached, with the fix.
//!
//! The client reports a failed connection as [`ApiError::Unreachable`] whose `detail` is the
//! error's whole cause chain (reqwest, hyper, the OS, rustls), so the cause is found by the
//! words in that chain.

use crate::config::Config;
use crate::easypanel::ApiError;

/// The reason no HTTP response arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    Refused,
    Dns,
    /// The certificate is self-signed or signed by an authority the client does not trust.
    UntrustedCertificate,
    /// The certificate is expired, for another name, or otherwise invalid.
    InvalidCertificate,
    /// The TLS handshake failed, typically because the port speaks plain HTTP.
    Handshake,
    Reset,
    Timeout,
    Other,
}

/// Returns the cause named by an error that carries no HTTP response.
pub(super) fn cause(error: &ApiError) -> Cause {
    let detail = match error {
        ApiError::Timeout { .. } => return Cause::Timeout,
        ApiError::Unreachable { detail, .. } => detail.to_ascii_lowercase(),
        _ => return Cause::Other,
    };
    let has = |words: &[&str]| words.iter().any(|word| detail.contains(word));
    if has(&["connection refused", "refused"]) {
        Cause::Refused
    } else if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no address associated",
        "temporary failure in name resolution",
        "nodename nor servname",
    ]) {
        Cause::Dns
    } else if has(&[
        "unknownissuer",
        "unknown issuer",
        "self-signed",
        "self signed",
        // A self-signed certificate made with `openssl req -x509` is marked as a CA.
        "causedasendentity",
    ]) {
        Cause::UntrustedCertificate
    } else if has(&["certificate"]) {
        Cause::InvalidCertificate
    } else if has(&[
        "corrupt message",
        "invalidcontenttype",
        "wrong version number",
        "tls",
        "handshake",
    ]) {
        Cause::Handshake
    } else if has(&["timed out", "timeout"]) {
        Cause::Timeout
    } else if has(&[
        "reset",
        "connection closed",
        "broken pipe",
        "unexpected eof",
        "incomplete message",
    ]) {
        Cause::Reset
    } else {
        Cause::Other
    }
}

/// Returns a sentence saying what happened and the steps that fix it.
pub(super) fn explain(error: &ApiError, config: &Config) -> (String, Vec<String>) {
    let url = &config.api.base_url;
    let seconds = config.api.timeout.as_secs_f64();
    match cause(error) {
        Cause::Refused => (
            format!(
                "Could not reach the panel: nothing accepts connections at {url} (connection \
                 refused)."
            ),
            vec![
                "Check the host and port in api.base_url (or EASYPANEL_API_URL); Easypanel \
                 listens on port 3000 unless a proxy is in front."
                    .to_owned(),
                "Check that the panel is running on that host.".to_owned(),
            ],
        ),
        Cause::Dns => (
            format!(
                "Could not reach the panel: the host name in {url} could not be resolved (DNS \
                 failure)."
            ),
            vec![
                "Check the spelling of the host in api.base_url, or use the panel's IP address."
                    .to_owned(),
                "Check that this machine's DNS resolver works (for example with `getent hosts \
                 NAME`)."
                    .to_owned(),
            ],
        ),
        Cause::UntrustedCertificate => {
            (
                format!(
                    "Could not reach the panel: its TLS certificate at {url} is self-signed or \
                     from an unknown authority, so it is not trusted."
                ),
                vec![
                "Best: give the panel a certificate from a public authority (Easypanel can get \
                 one from Let's Encrypt for a domain), or use http://localhost:3000 when the \
                 autoscaler runs on the panel's host.".to_owned(),
                "Otherwise set \"verify_ssl\": false in the api section. Then the certificate is \
                 not checked, and anyone who can intercept the connection can read the API \
                 token.".to_owned(),
            ],
            )
        }
        Cause::InvalidCertificate => {
            (
                format!(
                    "Could not reach the panel: its TLS certificate at {url} is invalid (expired, \
                     or issued for another name)."
                ),
                vec![
                "Use the host name the certificate was issued for in api.base_url, or renew the \
                 certificate.".to_owned(),
                "\"verify_ssl\": false in the api section skips the check, but then anyone who \
                 can intercept the connection can read the API token.".to_owned(),
            ],
            )
        }
        Cause::Handshake => (
            format!("Could not reach the panel: the TLS handshake with {url} failed."),
            vec![
                "If the port speaks plain HTTP (Easypanel's port 3000 does), use http:// in \
                 api.base_url."
                    .to_owned(),
            ],
        ),
        Cause::Reset => (
            format!(
                "Could not reach the panel: the connection to {url} was closed before a \
                 response arrived."
            ),
            vec![
                "Check that api.base_url points at the panel and not at another service, and that \
                 no firewall or proxy cuts the connection."
                    .to_owned(),
            ],
        ),
        Cause::Timeout => (
            format!(
                "Could not reach the panel: no response from {url} within {seconds}s \
                 (api.timeout_seconds)."
            ),
            vec![
                "Check that a firewall does not drop the traffic and that the host and port are \
                 right."
                    .to_owned(),
                "If the panel is only slow, raise api.timeout_seconds.".to_owned(),
            ],
        ),
        Cause::Other => (
            format!("Could not reach the panel at {url}."),
            vec![
                "Check api.base_url and the network between this machine and the panel.".to_owned(),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn unreachable(detail: &str) -> ApiError {
        ApiError::Unreachable {
            url: "https://panel.test".to_owned(),
            detail: detail.to_owned(),
        }
    }

    #[test]
    fn causes_are_found_in_the_error_chain() {
        let cases = [
            ("error sending request for url (http://127.0.0.1:9/api/x): client error (Connect): \
              tcp connect error: Connection refused (os error 111)", Cause::Refused),
            ("error sending request: client error (Connect): dns error: failed to lookup address \
              information: Name or service not known", Cause::Dns),
            ("error sending request: client error (Connect): invalid peer certificate: \
              UnknownIssuer", Cause::UntrustedCertificate),
            ("error sending request: client error (Connect): invalid peer certificate: \
              Other(OtherError(CaUsedAsEndEntity))", Cause::UntrustedCertificate),
            ("error sending request: client error (Connect): invalid peer certificate: Expired", Cause::InvalidCertificate),
            ("error sending request: client error (Connect): received corrupt message of type \
              InvalidContentType", Cause::Handshake),
            ("error sending request: connection reset by peer", Cause::Reset),
            ("something else entirely", Cause::Other),
        ];

        for (detail, expected) in cases {
            assert_eq!(cause(&unreachable(detail)), expected, "{detail}");
        }
    }

    #[test]
    fn timeout_variant_is_a_timeout() {
        let error = ApiError::Timeout {
            endpoint: "/api/x".to_owned(),
            timeout: Duration::from_secs(30),
        };

        assert_eq!(cause(&error), Cause::Timeout);
    }
}
