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
//! * [`access`], [`sources`], [`der`] — who may send pushes: signatures, basic auth, the allowlist.
//! * [`form`] — strict `application/x-www-form-urlencoded` decoding.
//! * [`push`] — the pushes sipgate sends: `newCall`, `answer`, `hangup`, `dtmf`.
//! * [`response`] — the typed answer: `Dial`, `Play`, `Gather`, `Reject`, `Hangup`.
//! * [`xml`] — writes a [`response::Response`] as sipgate's XML.
//! * [`calendar`], [`zone`] — civil dates and IANA time zones for office hours.
//! * [`rules`] — the rules document: conditions, menus, validation, evaluation.
//! * [`storage`] — the KV layout: versions, shards, the live pointer, the isolate cache.
//! * [`simulate`] — dry runs with a trace, for the CLI and `POST /simulate`.
//! * [`journal`] — the call journal in D1, call timelines, rule hits, the fan-out.
//! * [`config`] — the settings (vars and secrets), each problem named.
//! * [`http`] — the worker's HTTP behaviour (endpoints, status codes, limits).
//! * [`log`] — the one structured log line per request.
//!
//! The edge shell, `edge` (wasm32 only), turns a Workers request into calls
//! of [`http`] and reads rules from the KV binding `ROUTES`. The CLI
//! (`src/bin/sipgate-rules.rs`) checks, simulates and publishes documents.

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

pub mod http;
pub mod journal;
pub mod log;
pub mod protocol;
pub mod rules;
pub mod setting;
pub mod store;
#[cfg(test)]
mod testing;
pub mod time;
pub mod trust;

#[cfg(target_arch = "wasm32")]
pub mod edge;
