//! sipgate-router: an edge call router for sipgate.io.
//!
//! sipgate.io POSTs every call to a URL and reads back an XML document that
//! decides it. This crate is that URL, run as a Cloudflare Worker with its
//! routes in Workers KV.
//!
//! A push flows one way through the layers, each knowing only those below:
//!
//! ```text
//! request ─▶ http::admit ─▶ trust (allowlist, basic auth, signature)
//!         ─▶ protocol::form ─▶ protocol::push ─▶ rules::decision::Question
//!         ─▶ store (the live rules, within the KV budget) ─▶ rules::decide ─▶ Decision
//!         ─▶ protocol::response ─▶ protocol::xml ─▶ http::Reply
//!            └─ the log line, the journal entry and simulate's trace: read from the Decision
//! ```
//!
//! The core knows nothing of the Workers runtime and is tested on the host:
//!
//! * [`protocol`] — sipgate.io's wire format: form, numbers, URLs, pushes, the answer and its XML.
//! * [`time`] — civil dates and IANA time zones, for office hours.
//! * [`trust`] — who may send pushes: signatures, basic auth, the allowlist, the admin token.
//! * [`rules`] — the rules document: spec, checks, conditions, menus, evaluation, the decision, simulate.
//! * [`store`] — the rules in KV: the port, the key layout and publish plan, the isolate's cache.
//! * [`journal`] — the call journal in D1, call timelines, rule hits, the fan-out.
//! * [`http`] — the worker's HTTP behaviour: settings, admission, the endpoints, replies.
//! * [`log`], [`setting`] — the one structured log line per request; reading a setting.
//! * [`codec`] — the compact encoding stored compiled rules are written in.
//!
//! The edge shell, `edge` (wasm32 only), is the only module that knows the
//! `worker` crate: it turns a Workers request into calls of [`http`],
//! implements the [`store::Kv`] and [`http::Runtime`] ports, and writes the
//! journal after the answer. The CLI (`src/bin/sipgate-rules.rs`) checks,
//! simulates and publishes documents.

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

pub mod codec;
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

pub use http::{admit, serve, Config, Reply, RequestHead, Runtime};
pub use protocol::{push::Push, response::Response};
pub use rules::decision::{decide, Decision, Question};
pub use rules::{load, RuleSet};
pub use store::{load_live, Kv, RulesCache};
