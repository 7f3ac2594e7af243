//! How rules live in Workers KV: versioned, sharded, switched by one pointer.
//!
//! ```text
//! rules:live          {"version":7,"shards":1,"kill":null}        the pointer, written last
//! rules:v7:s0         shard 0 of version 7 (a rules document)     immutable
//! rules:v7:source:0   the document as published (for diff), in    immutable
//!                     16 MiB chunks (KV values stop at 25 MiB)
//! rules:index         {"versions":[{"version":7,…},…],"retired":[…]}  the last 10 versions, keys still to delete
//! ```
//!
//! A shard is a complete rules document holding everything shared (lists,
//! calendars, menus, global and default rules) and the per-number rules of
//! the numbers that hash to it (FNV-1a). A push reads the pointer and one
//! shard: at most two keys, whatever the size of the table; a warm isolate
//! reads none (see [`RulesCache`]). Publishing writes the new version's keys
//! first and the pointer last, so a push never sees half a version; the
//! previous versions stay for `rollback`.
//!
//! The pointer also carries the kill switch: an action that, when set,
//! answers every call without looking at the rules.
//!
//! * [`kv`] — the port: read access to KV, as the worker and the tests have it.
//! * [`layout`] — keys, the pointer, shards, the version index, a publish's plan.
//! * [`shards`] — a document taken apart into shards and checked shard by shard, never built whole.
//! * [`admin`] — what an operator does: publish, roll back, the kill switch (CLI and admin API).
//! * [`cache`] — an isolate's rules: the cache, last-known-good, the live rules of a push.

pub mod admin;
pub mod cache;
pub mod kv;
pub mod layout;
pub mod shards;

pub use admin::{AdminError, KvWrite};
pub use cache::{last_known_good, load_live, Live, LoadError, RulesCache, UNPUBLISHED};
pub use kv::{Kv, StoreError, ROUTES_BINDING};
pub use layout::{
    plan_publish, shard_count, shard_key, shard_of, source_key, version_keys, Index, IndexEntry,
    Pointer, PublishPlan, INDEX_KEY, KEEP_VERSIONS, KV_OPERATIONS_PER_REQUEST, LIVE_KEY,
    MAX_POINTER_BYTES, MAX_SHARD_BYTES, NUMBERS_PER_SHARD, POINTER_CACHE_TTL, SHARD_CACHE_TTL,
    SOURCE_CHUNK_BYTES,
};
