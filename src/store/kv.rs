//! The port to Workers KV: what the rules are read through. The edge
//! implements it with the `ROUTES` binding, the tests with a map.

/// The KV namespace binding that holds the rules (part of the public interface).
pub const ROUTES_BINDING: &str = "ROUTES";

/// A failure of KV itself (network, timeout, binding missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

/// Read access to KV with an edge-cache time (`cacheTtl`, seconds), as the
/// worker has it; a map in tests.
#[allow(async_fn_in_trait)] // Workers run single-threaded: no `Send` bound wanted.
pub trait Kv {
    async fn get(&self, key: &str, cache_ttl: u32) -> Result<Option<String>, StoreError>;
}
