//! Webhook deliveries: the event as JSON, POSTed to the site's URL and
//! signed with the site's secret.
//!
//! Headers: `X-Colloquy-Event` (`comment.held` / `comment.published`),
//! `X-Colloquy-Delivery` (the delivery id, the same on every retry, for
//! de-duplication), `X-Colloquy-Timestamp` (Unix seconds of this attempt)
//! and `X-Colloquy-Signature: sha256=<hex>`, the HMAC-SHA-256 under the
//! secret of `<timestamp>.<raw body>`. Signing the timestamp with the body
//! lets receivers refuse old replayed requests.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// How long one POST may take before it counts as failed.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The JSON body of a webhook call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Payload {
    /// `comment.held` or `comment.published`.
    pub event: String,
    /// The audit event's id.
    pub event_id: i64,
    /// When the event happened (RFC 3339).
    pub occurred: String,
    /// `post` (the rules decided) or the moderator's action.
    pub action: String,
    /// Site id.
    pub site: String,
    /// Thread key.
    pub thread: String,
    /// Comment id.
    pub comment_id: i64,
    /// The comment replied to.
    pub parent: Option<i64>,
    /// Status after the event.
    pub status: String,
    /// Author name.
    pub author: Option<String>,
    /// The rendered, safe HTML.
    pub html: String,
    /// Why the rules decided as they did.
    pub reasons: Vec<String>,
    /// When the comment was written (RFC 3339).
    pub created: String,
}

/// The signature header's value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The HTTP client for webhooks: a timeout, no redirects (a receiver that
/// moved must be reconfigured, not followed blindly), rustls.
///
/// # Errors
/// The TLS backend cannot be set up.
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("colloquy/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("webhook client: {e}"))
}

/// POSTs one delivery. Any 2xx answer is success; anything else, or no
/// answer within [`TIMEOUT`], is an error worth retrying.
///
/// # Errors
/// The status or transport error, for `last_error`.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    delivery_id: i64,
    event: &str,
    body: &str,
    now_ms: i64,
) -> Result<(), String> {
    let timestamp = now_ms / 1000;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-colloquy-event", event)
        .header("x-colloquy-delivery", delivery_id.to_string())
        .header("x-colloquy-timestamp", timestamp.to_string())
        .header(
            "x-colloquy-signature",
            signature(secret, timestamp, body.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| format!("POST {url}: {}", error_chain(&e)))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("POST {url}: HTTP {status}"))
    }
}

/// The error with its causes ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        let a = signature("secret", 1_700_000_000, b"{\"a\":1}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64, "{a}");
        assert_ne!(a, signature("secret", 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(a, signature("secret", 1_700_000_000, b"{\"a\":2}"));
        assert_ne!(a, signature("secreT", 1_700_000_000, b"{\"a\":1}"));
        assert_eq!(a, signature("secret", 1_700_000_000, b"{\"a\":1}"));
    }
}
