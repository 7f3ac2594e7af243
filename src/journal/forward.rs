//! The fan-out: every push, with the router's decision, POSTed as JSON to
//! the receivers in `FORWARD_URLS` after the answer is sent.
//!
//! ```text
//! POST https://crm.example.com/sipgate-events
//! Content-Type: application/json
//! X-Router-Timestamp: 1796029200000
//! X-Router-Event-Id: 8f14e45fceea167a5a36dedd4bea2543
//! X-Router-Signature: v1=5d41402abc4b2a76b9719d911017c592…   (with FORWARD_SECRET)
//!
//! {"event":"newCall","atMs":1796029200000,"callId":"A1",…,"rule":"business-hours","answer":"dial",…,"eventId":"8f14e45fceea167a5a36dedd4bea2543"}
//! ```
//!
//! One push is delivered once while the journal is on (a push it already
//! holds, such as a replayed body, is not sent again). Without the journal
//! a repeated push is delivered again with the same `X-Router-Event-Id`
//! (signed as `eventId` in the body): receivers drop ids they have seen.
//!
//! The signature is HMAC-SHA256 with `FORWARD_SECRET` over
//! `{timestamp}.{body}`, hex: a receiver recomputes it, compares in
//! constant time, and refuses old timestamps (replays). The numbers are as
//! sipgate sent them — receivers are the customer's own systems (a CRM
//! looks the caller up) — which is why only HTTPS receivers are taken.

use crate::protocol::url::{authority, is_loopback, without_credentials, HttpUrl};
use crate::setting;

use super::Entry;

/// Var: the receivers, separated by commas or spaces.
pub const URLS: &str = "FORWARD_URLS";
/// Secret: the HMAC key that signs forwarded bodies.
pub const SECRET: &str = "FORWARD_SECRET";
/// Var: how long a receiver may take, in ms, 1 to 30000 (default 3000; 0 is the default too).
pub const TIMEOUT_MS: &str = "FORWARD_TIMEOUT_MS";
const DEFAULT_TIMEOUT_MS: u32 = 3000;

pub const TIMESTAMP_HEADER: &str = "X-Router-Timestamp";
/// The push's identity ([`super::entry::event_id`], also `eventId` in the
/// body): the same push delivered twice carries the same id.
pub const EVENT_ID_HEADER: &str = "X-Router-Event-Id";
pub const SIGNATURE_HEADER: &str = "X-Router-Signature";

/// Where pushes go, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    pub receivers: Vec<HttpUrl>,
    pub secret: Option<String>,
    pub timeout_ms: u32,
    /// Receivers that were not taken, and why: logged once, never fatal.
    pub problems: Vec<String>,
}

impl Forwarding {
    pub fn from_settings(
        urls: Option<&str>,
        secret: Option<&str>,
        timeout_ms: Option<&str>,
    ) -> Forwarding {
        let mut forwarding = Forwarding {
            secret: secret
                .filter(|secret| !secret.is_empty())
                .map(str::to_owned),
            ..Forwarding::default()
        };
        // waitUntil gives the work after the answer 30 s in all; 0 has
        // always meant the default.
        let timeout_ms = timeout_ms.filter(|ms| ms.trim() != "0");
        let (timeout_ms, problem) =
            setting::number(TIMEOUT_MS, timeout_ms, 1..=30_000, DEFAULT_TIMEOUT_MS);
        forwarding.timeout_ms = timeout_ms;
        forwarding.problems.extend(problem);
        let listed = urls.unwrap_or_default().split([',', ' ', '\n', '\t']);
        for text in listed.filter(|text| !text.is_empty()) {
            match receiver(text) {
                Ok(url) => forwarding.receivers.push(url),
                Err(problem) => forwarding.problems.push(format!(
                    "{URLS}: {:?} is not taken: {problem}",
                    crate::protocol::url::quotable(text)
                )),
            }
        }
        forwarding
    }
}

/// An HTTPS URL; plain HTTP only to this machine, for local testing.
fn receiver(text: &str) -> Result<HttpUrl, String> {
    let url = HttpUrl::parse(text).map_err(|error| error.to_string())?;
    if url.as_str().starts_with("https://") || is_loopback(authority(url.as_str())) {
        Ok(url)
    } else {
        Err("receivers must be https:// (http:// only on localhost)".to_owned())
    }
}

/// A receiver as logs show it: without credentials a URL may carry
/// (`https://user:secret@crm…` → `https://crm…`).
pub fn loggable(url: &HttpUrl) -> String {
    let text = url.as_str();
    let authority = authority(text);
    text.replacen(authority, without_credentials(authority), 1)
}

/// The JSON body sent to every receiver.
pub fn body(entry: &Entry) -> String {
    serde_json::to_string(entry).unwrap_or_default()
}

/// What the HMAC signs.
pub fn signing_input(timestamp_ms: i64, body: &str) -> String {
    format!("{timestamp_ms}.{body}")
}

/// The `X-Router-Signature` value for an HMAC-SHA256 digest.
pub fn signature_header(digest: &[u8]) -> String {
    let mut hex = String::with_capacity(3 + digest.len() * 2);
    hex.push_str("v1=");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_https_and_local_http_receivers_only() {
        let forwarding = Forwarding::from_settings(
            Some("https://crm.example.com/hook, http://127.0.0.1:9000/x http://localhost/y,http://[::1]:1/z ,http://crm.example.com/plain ftp://x /relative"),
            Some("s3cret"),
            Some("1500"),
        );
        let taken: Vec<&str> = forwarding.receivers.iter().map(HttpUrl::as_str).collect();
        assert_eq!(
            taken,
            [
                "https://crm.example.com/hook",
                "http://127.0.0.1:9000/x",
                "http://localhost/y",
                "http://[::1]:1/z"
            ]
        );
        assert_eq!(forwarding.problems.len(), 3, "{:?}", forwarding.problems);
        assert!(forwarding.problems[0].contains("http://crm.example.com/plain"));
        assert_eq!(forwarding.secret.as_deref(), Some("s3cret"));
        assert_eq!(forwarding.timeout_ms, 1500);
    }

    #[test]
    fn a_host_named_like_localhost_is_not_local() {
        let forwarding = Forwarding::from_settings(
            Some("http://localhost.evil.example/ http://user@127.0.0.1.evil.example/"),
            None,
            None,
        );
        assert!(forwarding.receivers.is_empty());
        assert_eq!(forwarding.timeout_ms, 3000);
    }

    #[test]
    fn nothing_configured_is_nothing_forwarded() {
        let forwarding = Forwarding::from_settings(None, Some(""), Some("0"));
        assert!(forwarding.receivers.is_empty() && forwarding.problems.is_empty());
        assert_eq!(forwarding.secret, None);
    }

    #[test]
    fn logs_show_receivers_without_credentials() {
        let forwarding = Forwarding::from_settings(
            Some("https://user:s3cret@crm.example.com/in?x=@y"),
            None,
            None,
        );
        assert_eq!(
            loggable(&forwarding.receivers[0]),
            "https://crm.example.com/in?x=@y"
        );
    }

    #[test]
    fn a_refused_receiver_is_named_without_its_credentials() {
        let forwarding =
            Forwarding::from_settings(Some("http://user:s3cret@crm.example.com/in"), None, None);
        assert_eq!(
            forwarding.problems,
            [
                "FORWARD_URLS: \"http://REDACTED@crm.example.com/in\" is not taken: \
              receivers must be https:// (http:// only on localhost)"
            ]
        );
    }

    #[test]
    fn signs_timestamp_and_body_as_hex() {
        assert_eq!(signing_input(17, "{}"), "17.{}");
        assert_eq!(signature_header(&[0x00, 0xab, 0xff]), "v1=00abff");
    }
}
