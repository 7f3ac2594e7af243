//! The ports a request is answered through: the runtime's services beyond
//! KV (WebCrypto, timers, the journal), and what one request is given.

use std::cell::RefCell;

use super::Config;
use crate::journal::sql::Value;
use crate::journal::Entry;
use crate::store::{KvWrite, RulesCache};

/// What the runtime provides beyond KV (read by pushes, written by the
/// admin API): WebCrypto, timers, the journal.
#[allow(async_fn_in_trait)] // Workers run single-threaded: no `Send` bound wanted.
pub trait Runtime: KvWrite {
    /// Verifies an RSASSA-PKCS1-v1_5 / SHA-256 `signature` of `body` with
    /// the key in `spki_der`; `Err` when the key cannot be used.
    async fn verify(&self, spki_der: &[u8], body: &[u8], signature: &[u8]) -> Result<bool, String>;
    /// Completes after `ms` milliseconds.
    async fn sleep(&self, ms: u32);
    /// Milliseconds since the epoch, now.
    fn now_ms(&self) -> i64;
    /// The journal's pushes whose `callId` or `origCallId` is one of `call_ids`.
    async fn journal_linked(&self, call_ids: &[String]) -> Result<Vec<Entry>, String>;
    /// The rows of one of the journal's `SELECT`s ([`crate::journal::sql`]),
    /// as a JSON array.
    async fn journal_select(&self, statement: &str, values: Vec<Value>) -> Result<String, String>;
    /// The JSON Web Key Set at `url` (Cloudflare Access's signing keys),
    /// cached in the isolate; `refresh` asks for a fresh copy (at most once
    /// a minute), for a key the cached set does not have.
    async fn access_keys(&self, url: &str, refresh: bool) -> Result<String, String>;
    /// The first `bytes` bytes of `url` (`Range: bytes=0-…`, redirects
    /// followed) and the final HTTP status, within `timeout_ms`; the rest
    /// of the body is not read.
    async fn fetch_start(
        &self,
        url: &str,
        bytes: usize,
        timeout_ms: u32,
    ) -> Result<(u16, Vec<u8>), String>;
}

/// Everything a request is answered with.
pub struct Services<'a, R: Runtime> {
    pub runtime: &'a R,
    pub cache: &'a RefCell<RulesCache>,
    /// Milliseconds since the epoch.
    pub now_ms: i64,
    pub config: &'a Config,
}
