//! sipgate-router: an edge call router for sipgate.io.
//!
//! sipgate.io POSTs every call to a URL and reads back an XML document that
//! decides it. This crate is that URL, run as a Cloudflare Worker with its
//! routes in Workers KV.
//!
//! The core knows nothing of the Workers runtime and is tested on the host:
//!
//! * [`number`] — E.164 numbers and call parties (`anonymous`).
//! * [`url`] — absolute `http(s)` URLs, checked before sipgate sees them.
//! * [`form`] — strict `application/x-www-form-urlencoded` decoding.
//! * [`push`] — the pushes sipgate sends: `newCall`, `answer`, `hangup`, `dtmf`.
//! * [`response`] — the typed answer: `Dial`, `Play`, `Gather`, `Reject`, `Hangup`.
//! * [`xml`] — writes a [`response::Response`] as sipgate's XML.
//! * [`route`] — the JSON route format and its validation.
//! * [`router`] — which stored route decides a push.
//! * [`http`] — the endpoint's HTTP behaviour (status codes, media types, limits).
//! * [`log`] — the one structured log line per request.
//!
//! The edge shell, `edge` (wasm32 only), turns a Workers request into calls
//! of [`http`] and reads routes from the KV binding `ROUTES`.

// Input-derived data must never reach a panic: no unwrap/expect/indexing
// outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod calendar;
pub mod form;
pub mod http;
pub mod log;
pub mod number;
pub mod push;
pub mod response;
pub mod route;
pub mod router;
pub mod rules;
pub mod url;
pub mod xml;
pub mod zone;
mod zones_table;

#[cfg(target_arch = "wasm32")]
pub mod edge;
