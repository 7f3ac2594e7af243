//! Test doubles for the core: a runtime in memory (KV, a fake signature
//! scheme, timers), and a way to run its futures.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::http::{admit, authorize, serve, Config, Reply, RequestHead, Runtime, Services};
use crate::journal::Entry;
use crate::store::{Kv, KvWrite, RulesCache, StoreError};
use crate::trust::access::AdminToken;

/// A KV in memory that counts reads and can be told to fail or to hang.
#[derive(Default)]
pub struct MemoryKv {
    pub values: RefCell<HashMap<String, String>>,
    pub failing: Option<String>,
    /// Reads never complete; the time budget runs out at once.
    pub hanging: bool,
    pub reads: RefCell<Vec<String>>,
    /// The journal's pushes, as `journal_linked` finds them.
    pub journal: RefCell<Vec<Entry>>,
    /// What `access_keys` answers (a JWKS document); `None`: an error.
    pub access_keys: RefCell<Option<String>>,
    /// The clock after the decision (`now_ms`); 0 leaves it unset.
    pub clock_ms: std::cell::Cell<i64>,
    /// What `fetch_start` answers per URL (status and body); a URL not
    /// here cannot be reached. The URLs fetched, in order.
    pub web: RefCell<HashMap<String, (u16, Vec<u8>)>>,
    pub fetched: RefCell<Vec<String>>,
}

/// The fake signature of `body`: `sig:` followed by the body.
pub fn fake_signature(body: &[u8]) -> Vec<u8> {
    [b"sig:".as_slice(), body].concat()
}

impl MemoryKv {
    pub fn with(entries: &[(&str, &str)]) -> MemoryKv {
        let kv = MemoryKv::default();
        for (key, value) in entries {
            kv.put(key, value);
        }
        kv
    }

    pub fn put(&self, key: &str, value: &str) {
        self.values
            .borrow_mut()
            .insert(key.to_owned(), value.to_owned());
    }

    pub fn remove(&self, key: &str) {
        self.values.borrow_mut().remove(key);
    }

    /// Reads since the last call.
    pub fn take_reads(&self) -> Vec<String> {
        std::mem::take(&mut self.reads.borrow_mut())
    }
}

impl Kv for MemoryKv {
    async fn get(&self, key: &str, _cache_ttl: u32) -> Result<Option<String>, StoreError> {
        self.reads.borrow_mut().push(key.to_owned());
        if self.hanging {
            std::future::pending::<()>().await;
        }
        if let Some(message) = &self.failing {
            return Err(StoreError(message.clone()));
        }
        Ok(self.values.borrow().get(key).cloned())
    }
}

impl KvWrite for MemoryKv {
    async fn put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        if let Some(message) = &self.failing {
            return Err(StoreError(message.clone()));
        }
        MemoryKv::put(self, key, value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        if let Some(message) = &self.failing {
            return Err(StoreError(message.clone()));
        }
        self.remove(key);
        Ok(())
    }
}

impl Runtime for MemoryKv {
    async fn verify(&self, spki_der: &[u8], body: &[u8], signature: &[u8]) -> Result<bool, String> {
        if spki_der.is_empty() {
            return Err("empty key".to_owned());
        }
        Ok(signature == fake_signature(body))
    }

    async fn sleep(&self, _ms: u32) {
        if !self.hanging {
            std::future::pending::<()>().await;
        }
    }

    fn now_ms(&self) -> i64 {
        self.clock_ms.get()
    }

    async fn access_keys(&self, _url: &str, _refresh: bool) -> Result<String, String> {
        self.access_keys
            .borrow()
            .clone()
            .ok_or_else(|| "no keys in memory".to_owned())
    }

    async fn fetch_start(
        &self,
        url: &str,
        bytes: usize,
        _timeout_ms: u32,
    ) -> Result<(u16, Vec<u8>), String> {
        self.fetched.borrow_mut().push(url.to_owned());
        match self.web.borrow().get(url) {
            Some((status, body)) => Ok((*status, body[..bytes.min(body.len())].to_vec())),
            None => Err("no such host".to_owned()),
        }
    }

    async fn journal_select(
        &self,
        _statement: &str,
        _values: Vec<crate::journal::sql::Value>,
    ) -> Result<String, String> {
        Err("the memory journal answers only journal_linked".to_owned())
    }

    async fn journal_linked(&self, call_ids: &[String]) -> Result<Vec<Entry>, String> {
        if let Some(message) = &self.failing {
            return Err(message.clone());
        }
        Ok(self
            .journal
            .borrow()
            .iter()
            .filter(|entry| {
                [&entry.call_id, &entry.orig_call_id]
                    .into_iter()
                    .flatten()
                    .any(|id| call_ids.contains(id))
            })
            .cloned()
            .collect())
    }
}

/// Runs a future that never waits (the memory KV answers at once).
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the memory KV never waits"),
    }
}

/// Admits, signs in and serves one request with a fresh rules cache, as
/// the edge shell does for a cold isolate.
pub fn request(
    kv: &MemoryKv,
    config: &Config,
    now_ms: i64,
    head: RequestHead<'_>,
    body: &str,
) -> Reply {
    let mut endpoint = match admit(&head, config) {
        Ok(endpoint) => endpoint,
        Err(refusal) => return *refusal,
    };
    let cache = RefCell::new(RulesCache::default());
    let services = Services {
        runtime: kv,
        cache: &cache,
        now_ms,
        config,
    };
    if let Err(refusal) = run(authorize(&mut endpoint, &services)) {
        return *refusal;
    }
    run(serve(&endpoint, body.as_bytes(), &services))
}

/// An admin token for tests (at least 32 characters, as the router requires).
pub fn admin_token(token: &str) -> Option<AdminToken> {
    AdminToken::parse(Some(token)).expect("test tokens have 32 characters or more")
}

/// Public keys made with openssl for the tests (their private halves discarded).
pub mod keys {
    pub const RSA_2048: &str = include_str!("../tests/fixtures/keys/rsa-2048.pem");
    pub const RSA_2047: &str = include_str!("../tests/fixtures/keys/rsa-2047.pem");
    pub const RSA_512: &str = include_str!("../tests/fixtures/keys/rsa-512.pem");
    pub const EC_P256: &str = include_str!("../tests/fixtures/keys/ec-p256.pem");
}

/// What [`publish_source`] did.
#[derive(Debug)]
pub struct Wrote {
    pub version: u64,
    /// Every write before the pointer, in order.
    pub writes: Vec<(String, String)>,
    pub pointer: (String, String),
    pub deletes: Vec<String>,
}

/// Publishes `source` into the memory KV as the CLI does (version after
/// the current one, pointer last, old versions deleted); what it wrote.
pub fn publish_source(kv: &MemoryKv, source: &str, at: &str) -> Wrote {
    use crate::store::layout::About;
    use crate::store::shards::Sharded;
    use crate::store::{plan_publish, Pointer, INDEX_KEY, LIVE_KEY};
    let sharded = Sharded::parse(source).unwrap();
    let index = kv
        .values
        .borrow()
        .get(INDEX_KEY)
        .map(|json| serde_json::from_str(json).unwrap())
        .unwrap_or_default();
    let current = kv
        .values
        .borrow()
        .get(LIVE_KEY)
        .map(|json| Pointer::parse(json).unwrap());
    let about = About {
        published_at: at.to_owned(),
        ..About::default()
    };
    let plan = plan_publish(source, &sharded, &index, current.as_ref(), about, None);
    let writes = plan.writes(&sharded).unwrap();
    for (key, value) in &writes {
        kv.put(key, value);
    }
    kv.put(&plan.pointer.0, &plan.pointer.1);
    for key in &plan.deletes {
        kv.remove(key);
    }
    Wrote {
        version: plan.version,
        writes,
        pointer: plan.pointer,
        deletes: plan.deletes,
    }
}
