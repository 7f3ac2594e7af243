//! Who may talk to the router: sipgate's signature, HTTP basic auth, the
//! source allowlist, the admin token.
//!
//! * [`access`] — the checks a push passes, from the settings; the admin token.
//! * [`sources`] — the source-address allowlist (`ALLOWED_SOURCES`).
//! * [`der`] — the size of an RSA key, read from its DER; a key written from a JWK.
//! * [`jwt`] — Cloudflare Access tokens for the admin API.
//! * [`base64`] — standard base64, for signatures and credentials.

pub mod access;
pub mod base64;
pub mod der;
pub mod jwt;
pub mod sources;
