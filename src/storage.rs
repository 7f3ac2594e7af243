//! How rules live in Workers KV: versioned, sharded, switched by one pointer.
//!
//! ```text
//! rules:live          {"version":7,"shards":1,"kill":null}        the pointer, written last
//! rules:v7:s0         shard 0 of version 7 (a rules document)     immutable
//! rules:v7:source:0   the document as published (for diff), in    immutable
//!                     16 MiB chunks (KV values stop at 25 MiB)
//! rules:index         {"versions":[{"version":7,…},{"version":6,…}]}  the last 10 versions
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

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::rules::check::{compile_action, Outcome};
use crate::rules::problem::{parse_json, DocumentError};
use crate::rules::spec::{ActionSpec, DocumentSpec};
use crate::rules::{load, RuleSet};

pub const LIVE_KEY: &str = "rules:live";
pub const INDEX_KEY: &str = "rules:index";
/// How many published versions are kept for rollback.
pub const KEEP_VERSIONS: usize = 10;
/// Per-number rule lists per shard. A cold isolate parses and compiles the
/// whole shard of the number it answers, so this bounds the first push's
/// CPU (about 1.3 ms natively for 128 numbers with four timed rules each,
/// see bench/RESULTS.md); 100,000 numbers make 782 shards.
pub const NUMBERS_PER_SHARD: usize = 128;

/// The largest shard a push parses. Parsing is CPU work the KV time budget
/// cannot interrupt (Workers stop the clock while code runs), so a larger
/// value is refused before it is parsed; `publish` never writes one.
pub const MAX_SHARD_BYTES: usize = 2 * 1024 * 1024;
/// The largest live pointer a push parses (a real one is under 1 KiB).
pub const MAX_POINTER_BYTES: usize = 64 * 1024;

/// KV's shortest edge-cache time; the pointer is read with it.
pub const POINTER_CACHE_TTL: u32 = 30;
/// Shards never change once written: cache them at the edge for a day.
pub const SHARD_CACHE_TTL: u32 = 86_400;

pub fn shard_key(version: u64, shard: u32) -> String {
    format!("rules:v{version}:s{shard}")
}

/// Key of chunk `chunk` of the published document: KV values are limited
/// to 25 MiB, and a document of 100,000 numbers with rich rules is larger.
pub fn source_key(version: u64, chunk: u32) -> String {
    format!("rules:v{version}:source:{chunk}")
}

/// The published document is stored in chunks of at most this many bytes.
pub const SOURCE_CHUNK_BYTES: usize = 16 * 1024 * 1024;

/// `text` in pieces of at most `max` bytes, cut at character boundaries.
fn chunks(text: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

/// The live pointer (and kill switch).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pointer {
    /// The live version; 0 when nothing is published.
    pub version: u64,
    pub shards: u32,
    /// When set, every call gets this action and the rules are not read.
    #[serde(default)]
    pub kill: Option<ActionSpec>,
}

impl Pointer {
    pub fn parse(json: &str) -> Result<Pointer, DocumentError> {
        parse_json(json)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The shard holding `number`'s rules (any shard holds everything else).
    pub fn shard_of(&self, number: Option<&str>) -> u32 {
        shard_of(number.unwrap_or_default(), self.shards)
    }
}

/// FNV-1a: stable across builds and platforms, unlike std's hasher.
pub fn shard_of(number: &str, shards: u32) -> u32 {
    if shards <= 1 {
        return 0;
    }
    let hash = number.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash % shards
}

pub fn shard_count(numbers: usize) -> u32 {
    u32::try_from(numbers.div_ceil(NUMBERS_PER_SHARD).max(1)).unwrap_or(u32::MAX)
}

/// Splits a (valid) document into shard documents.
pub fn split(spec: &DocumentSpec) -> Vec<DocumentSpec> {
    let shards = shard_count(spec.numbers.len());
    let shared = DocumentSpec {
        numbers: BTreeMap::new(),
        schema: None,
        ..spec.clone()
    };
    let mut parts = vec![shared; shards as usize];
    for (number, rules) in &spec.numbers {
        // Keys are validated E.164; the shard is chosen on the digits.
        let digits = number.strip_prefix('+').unwrap_or(number);
        if let Some(part) = parts.get_mut(shard_of(digits, shards) as usize) {
            part.numbers.insert(digits.to_owned(), rules.clone());
        }
    }
    parts
}

/// The list of published versions, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub versions: Vec<IndexEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub version: u64,
    pub shards: u32,
    /// RFC 3339, UTC.
    pub published_at: String,
    pub numbers: usize,
    /// Where the document came from (a file name), for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How many `rules:vN:source:K` keys hold the document.
    #[serde(default = "one")]
    pub source_chunks: u32,
}

fn one() -> u32 {
    1
}

/// The KV writes of one publish, in the order they must happen.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishPlan {
    pub version: u64,
    /// Shards, source and index: written first.
    pub writes: Vec<(String, String)>,
    /// The pointer: written last, switching to the new version.
    pub pointer: (String, String),
    /// Keys of versions no longer kept: deleted after the switch.
    pub deletes: Vec<String>,
}

/// Plans the publishing of `source` (already checked) after `index`,
/// keeping the kill switch of `current`.
pub fn plan_publish(
    source: &str,
    spec: &DocumentSpec,
    index: &Index,
    current: Option<&Pointer>,
    published_at: String,
    source_name: Option<String>,
) -> PublishPlan {
    let version = index
        .versions
        .iter()
        .map(|entry| entry.version)
        .chain(current.map(|pointer| pointer.version))
        .max()
        .unwrap_or(0)
        + 1;
    let shards = split(spec);
    let mut writes: Vec<(String, String)> = shards
        .iter()
        .enumerate()
        .map(|(shard, part)| {
            (
                shard_key(version, shard as u32),
                serde_json::to_string(part).unwrap_or_default(),
            )
        })
        .collect();
    let source_chunks = chunks(source, SOURCE_CHUNK_BYTES);
    let source_chunk_count = source_chunks.len() as u32;
    for (chunk, piece) in source_chunks.into_iter().enumerate() {
        writes.push((source_key(version, chunk as u32), piece.to_owned()));
    }
    let mut versions = vec![IndexEntry {
        version,
        shards: shards.len() as u32,
        published_at,
        numbers: spec.numbers.len(),
        source: source_name,
        source_chunks: source_chunk_count,
    }];
    versions.extend(index.versions.iter().cloned());
    let dropped = versions.split_off(KEEP_VERSIONS.min(versions.len()));
    let deletes = dropped.iter().flat_map(version_keys).collect();
    writes.push((
        INDEX_KEY.to_owned(),
        serde_json::to_string(&Index { versions }).unwrap_or_default(),
    ));
    let pointer = Pointer {
        version,
        shards: shards.len() as u32,
        kill: current.and_then(|pointer| pointer.kill.clone()),
    };
    PublishPlan {
        version,
        writes,
        pointer: (LIVE_KEY.to_owned(), pointer.to_json()),
        deletes,
    }
}

impl PublishPlan {
    /// Why the worker could not use this version (a shard over
    /// [`MAX_SHARD_BYTES`]); `None` when it can.
    pub fn too_large(&self) -> Option<String> {
        self.writes.iter().find_map(|(key, value)| {
            let shard = key.rsplit_once(":s")?.1.parse::<u32>().ok()?;
            (value.len() > MAX_SHARD_BYTES).then(|| {
                format!(
                    "shard {shard} would be {} bytes, more than the {MAX_SHARD_BYTES} a push may parse: \
                     move what every number shares (lists, calendars, menus) into fewer, smaller entries",
                    value.len()
                )
            })
        })
    }

    /// How many shards the new version has.
    pub fn pointer_shards(&self) -> u32 {
        Pointer::parse(&self.pointer.1).map_or(0, |pointer| pointer.shards)
    }
}

/// Every key of a published version.
pub fn version_keys(entry: &IndexEntry) -> Vec<String> {
    (0..entry.shards)
        .map(|shard| shard_key(entry.version, shard))
        .chain((0..entry.source_chunks).map(|chunk| source_key(entry.version, chunk)))
        .collect()
}

/// A failure of KV itself (network, timeout, binding missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

/// Read access to KV with an edge-cache time (`cacheTtl`, seconds), as the
/// worker has it; a map in tests.
#[allow(async_fn_in_trait)] // Workers run single-threaded: no `Send` bound wanted.
pub trait Kv {
    async fn get(&self, key: &str, cache_ttl: u32) -> Result<Option<String>, StoreError>;
}

/// The rules a push is decided by.
#[derive(Debug, Clone)]
pub struct Live {
    pub version: u64,
    /// The kill switch's outcome, when set (and valid).
    pub kill: Option<Outcome>,
    /// `None` when nothing is published (or the kill switch is set).
    pub rules: Option<Arc<RuleSet>>,
    /// KV reads this push needed (0 on a warm isolate).
    pub reads: u32,
    /// Something wrong that did not stop the answer, for the log.
    pub warning: Option<String>,
}

/// Why the rules could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Store {
        key: String,
        error: StoreError,
    },
    /// KV did not answer within the time budget.
    TimedOut {
        budget_ms: u32,
    },
    /// The pointer or a shard is not a valid document.
    Corrupt {
        key: String,
        error: String,
    },
    /// The pointer names a version whose shard is gone.
    Missing {
        key: String,
    },
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Store { key, error } => write!(f, "reading {key} failed: {}", error.0),
            LoadError::TimedOut { budget_ms } => {
                write!(f, "KV did not answer within {budget_ms} ms")
            }
            LoadError::Corrupt { key, error } => write!(f, "{key} is not usable: {error}"),
            LoadError::Missing { key } => write!(f, "{key} is missing"),
        }
    }
}

impl LoadError {
    /// The key that failed, when one did.
    pub fn key(&self) -> Option<&str> {
        match self {
            LoadError::Store { key, .. }
            | LoadError::Corrupt { key, .. }
            | LoadError::Missing { key } => Some(key),
            LoadError::TimedOut { .. } => None,
        }
    }
}

/// A warm isolate's copy of the pointer (for `ttl_ms`) and of the shards
/// it has used (immutable, so kept until evicted), and the last-known-good
/// pointer: the last one a push was completely answered from, whose shards
/// answer while KV fails or a new version turns out broken.
#[derive(Debug, Default)]
pub struct RulesCache {
    pointer: Option<CachedPointer>,
    good: Option<CachedPointer>,
    /// The shards read, or why one could not be used: shards are immutable,
    /// so a broken one is never read (or parsed) again either.
    shards: HashMap<(u64, u32), Result<Arc<RuleSet>, LoadError>>,
    /// A pointer that could not be used, when it was read, and why: read
    /// again only after the cache time, like a good one.
    bad_pointer: Option<(i64, LoadError)>,
    /// "No rules published" has been logged as an error by this isolate.
    announced_unpublished: bool,
}

#[derive(Debug, Clone)]
struct CachedPointer {
    pointer: Pointer,
    kill: Option<Outcome>,
    kill_problem: Option<String>,
    fetched_at_ms: i64,
}

/// At most this many shards stay in an isolate (a few MB at most).
const MAX_CACHED_SHARDS: usize = 64;

/// The rules for a push on `number`, from the cache or KV. The cache is
/// borrowed only between awaits: requests interleave in one isolate.
pub async fn load_live(
    cache: &RefCell<RulesCache>,
    kv: &impl Kv,
    number: Option<&str>,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<Live, LoadError> {
    let mut reads = 0;
    let within_ttl = |fetched_at_ms: i64| {
        ttl_ms > 0 && now_ms - fetched_at_ms < ttl_ms && now_ms >= fetched_at_ms
    };
    if let Some((_, error)) = cache
        .borrow()
        .bad_pointer
        .as_ref()
        .filter(|(at, _)| within_ttl(*at))
    {
        return Err(error.clone());
    }
    let fresh = cache
        .borrow()
        .pointer
        .clone()
        .filter(|cached| within_ttl(cached.fetched_at_ms));
    let mut unpublished = false;
    let cached = match fresh {
        Some(cached) => cached,
        None => {
            reads += 1;
            let pointer = match kv.get(LIVE_KEY, POINTER_CACHE_TTL).await {
                Err(error) => {
                    return Err(LoadError::Store {
                        key: LIVE_KEY.to_owned(),
                        error,
                    })
                }
                // Nothing published - unless this isolate has seen a version
                // live: a pointer that vanishes is a fault, not a decision
                // (the kill switch is the way to stop routing).
                Ok(None)
                    if cache
                        .borrow()
                        .good
                        .as_ref()
                        .is_some_and(|good| good.pointer.version > 0) =>
                {
                    return Err(LoadError::Missing {
                        key: LIVE_KEY.to_owned(),
                    })
                }
                Ok(None) => {
                    unpublished = true;
                    Pointer::default()
                }
                Ok(Some(json)) => match parse_pointer(&json) {
                    Ok(pointer) => pointer,
                    Err(error) => {
                        cache.borrow_mut().bad_pointer = Some((now_ms, error.clone()));
                        return Err(error);
                    }
                },
            };
            let (kill, kill_problem) = match &pointer.kill {
                None => (None, None),
                Some(action) => match compile_action(action, "kill") {
                    Ok(outcome) => (Some(outcome), None),
                    Err(problems) => (
                        None,
                        Some(format!(
                            "kill switch ignored: {}",
                            DocumentError::Invalid(problems)
                        )),
                    ),
                },
            };
            let cached = CachedPointer {
                pointer,
                kill,
                kill_problem,
                fetched_at_ms: now_ms,
            };
            cache.borrow_mut().pointer = Some(cached.clone());
            cached
        }
    };
    let pointer = &cached.pointer;
    if cached.kill.is_some() || pointer.version == 0 || pointer.shards == 0 {
        let mut cache = cache.borrow_mut();
        cache.good = Some(cached.clone());
        // Routing silently off is the worst failure there is: say it loudly,
        // once per isolate (every push would drown the logs).
        let unannounced = unpublished && !std::mem::replace(&mut cache.announced_unpublished, true);
        return Ok(Live {
            version: pointer.version,
            kill: cached.kill,
            rules: None,
            reads,
            warning: cached
                .kill_problem
                .or_else(|| unannounced.then(|| UNPUBLISHED.to_owned())),
        });
    }
    let shard = pointer.shard_of(number);
    let slot = (pointer.version, shard);
    let existing = cache.borrow().shards.get(&slot).cloned();
    let rules = match existing {
        Some(known) => known?,
        None => {
            let key = shard_key(pointer.version, shard);
            reads += 1;
            let json = match kv.get(&key, SHARD_CACHE_TTL).await {
                Err(error) => return Err(LoadError::Store { key, error }),
                Ok(None) => return Err(LoadError::Missing { key }),
                Ok(Some(json)) => json,
            };
            let parsed = parse_shard(&key, &json).map(Arc::new);
            let mut cache = cache.borrow_mut();
            if cache.shards.len() >= MAX_CACHED_SHARDS {
                // Shards of versions neither live nor last-known-good are
                // useless; then any will do.
                let live_version = pointer.version;
                let good_version = cache.good.as_ref().map(|good| good.pointer.version);
                cache.shards.retain(|(version, _), _| {
                    *version == live_version || Some(*version) == good_version
                });
                if cache.shards.len() >= MAX_CACHED_SHARDS {
                    cache.shards.clear();
                }
            }
            cache.shards.insert(slot, parsed.clone());
            parsed?
        }
    };
    cache.borrow_mut().good = Some(cached.clone());
    Ok(Live {
        version: pointer.version,
        kill: None,
        rules: Some(rules),
        reads,
        warning: cached.kill_problem,
    })
}

/// What a push logs, once per isolate, when nothing is published.
pub const UNPUBLISHED: &str = "no rules published: rules:live is missing in the KV namespace ROUTES, so every call proceeds unrouted (sipgate-rules publish)";

/// The live pointer, refused unparsed when it is absurdly large.
fn parse_pointer(json: &str) -> Result<Pointer, LoadError> {
    let corrupt = |error: String| LoadError::Corrupt {
        key: LIVE_KEY.to_owned(),
        error,
    };
    if json.len() > MAX_POINTER_BYTES {
        return Err(corrupt(format!(
            "{} bytes, more than the {MAX_POINTER_BYTES} a pointer may have",
            json.len()
        )));
    }
    Pointer::parse(json).map_err(|error| corrupt(crate::log::cap(&error.to_string())))
}

/// A shard's rules, refused unparsed when larger than [`MAX_SHARD_BYTES`];
/// the error is capped (a parse error may quote the value).
fn parse_shard(key: &str, json: &str) -> Result<RuleSet, LoadError> {
    let corrupt = |error: String| LoadError::Corrupt {
        key: key.to_owned(),
        error,
    };
    if json.len() > MAX_SHARD_BYTES {
        return Err(corrupt(format!(
            "{} bytes, more than the {MAX_SHARD_BYTES} a shard may have",
            json.len()
        )));
    }
    load(json)
        .map(|checked| checked.rules)
        .map_err(|error| corrupt(crate::log::cap(&error.to_string())))
}

/// The rules of the last-known-good pointer for `number`, if the isolate
/// still holds its shard; used when KV fails or answers too late, or a new
/// version is broken.
pub fn last_known_good(cache: &RefCell<RulesCache>, number: Option<&str>) -> Option<Live> {
    let cache = cache.borrow();
    let good = cache.good.as_ref()?;
    let pointer = &good.pointer;
    let rules = if good.kill.is_some() || pointer.version == 0 || pointer.shards == 0 {
        None
    } else {
        Some(
            cache
                .shards
                .get(&(pointer.version, pointer.shard_of(number)))?
                .as_ref()
                .ok()?
                .clone(),
        )
    };
    Some(Live {
        version: pointer.version,
        kill: good.kill.clone(),
        rules,
        reads: 0,
        warning: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::spec::RuleSpec;
    use crate::testing::{run, MemoryKv};

    const OFFICE: &str = include_str!("../examples/office.json");

    fn publish(kv: &MemoryKv, source: &str, at: &str) -> PublishPlan {
        let spec: DocumentSpec = parse_json(source).unwrap();
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
        let plan = plan_publish(source, &spec, &index, current.as_ref(), at.to_owned(), None);
        for (key, value) in &plan.writes {
            kv.put(key, value);
        }
        kv.put(&plan.pointer.0, &plan.pointer.1);
        for key in &plan.deletes {
            kv.remove(key);
        }
        plan
    }

    fn live(kv: &MemoryKv, cache: &RefCell<RulesCache>, number: &str, now_ms: i64) -> Live {
        run(load_live(cache, kv, Some(number), now_ms, 10_000)).unwrap()
    }

    #[test]
    fn shard_choice_is_stable_and_spread() {
        assert_eq!(shard_of("4921100000", 1), 0);
        // FNV-1a of the digits: fixed forever, or published shards would be misread.
        assert_eq!(shard_of("4921100000", 1000), 0x6eab_aaee_u32 % 1000); // computed independently (Python)
        let mut counts = [0usize; 8];
        for n in 0..8000 {
            counts[shard_of(&format!("4930{n:07}"), 8) as usize] += 1;
        }
        assert!(
            counts.iter().all(|count| (800..1200).contains(count)),
            "{counts:?}"
        );
        assert_eq!(shard_count(0), 1);
        assert_eq!(shard_count(128), 1);
        assert_eq!(shard_count(129), 2);
        assert_eq!(shard_count(100_000), 782);
    }

    #[test]
    fn publishing_writes_the_version_then_switches_the_pointer() {
        let kv = MemoryKv::default();
        let first = publish(&kv, OFFICE, "2026-11-26T10:00:00Z");
        assert_eq!(first.version, 1);
        let keys: Vec<&str> = first.writes.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["rules:v1:s0", "rules:v1:source:0", "rules:index"]);
        assert_eq!(
            first.pointer,
            (
                LIVE_KEY.to_owned(),
                r#"{"version":1,"shards":1,"kill":null}"#.to_owned()
            )
        );
        let second = publish(&kv, OFFICE, "2026-11-26T11:00:00Z");
        assert_eq!(second.version, 2);
        let index: Index = serde_json::from_str(&kv.values.borrow()[INDEX_KEY]).unwrap();
        assert_eq!(
            index
                .versions
                .iter()
                .map(|entry| entry.version)
                .collect::<Vec<_>>(),
            [2, 1]
        );
    }

    #[test]
    fn only_the_last_versions_are_kept_and_the_kill_switch_survives_a_publish() {
        let kv = MemoryKv::default();
        for n in 1..=KEEP_VERSIONS as u64 {
            assert!(publish(&kv, OFFICE, "t").deletes.is_empty(), "version {n}");
        }
        kv.put(
            LIVE_KEY,
            &format!(r#"{{"version":{KEEP_VERSIONS},"shards":1,"kill":{{"proceed":{{}}}}}}"#),
        );
        let plan = publish(&kv, OFFICE, "t");
        assert_eq!(plan.deletes, ["rules:v1:s0", "rules:v1:source:0"]);
        assert!(!kv.values.borrow().contains_key("rules:v1:s0"));
        assert!(kv.values.borrow().contains_key("rules:v2:s0"));
        assert!(plan.pointer.1.contains(r#""kill":{"proceed":{}}"#));
    }

    #[test]
    fn a_cold_push_reads_two_keys_a_warm_one_none() {
        let kv = MemoryKv::default();
        publish(&kv, OFFICE, "t");
        let cache = RefCell::new(RulesCache::default());
        let cold = live(&kv, &cache, "4921100000", 0);
        assert_eq!(cold.reads, 2);
        assert_eq!(kv.take_reads(), [LIVE_KEY, "rules:v1:s0"]);
        assert_eq!(cold.version, 1);
        assert!(cold.rules.is_some());
        assert_eq!(live(&kv, &cache, "4921100000", 5_000).reads, 0);
        assert!(kv.take_reads().is_empty());
        // After the TTL the pointer is read again; the shard is still cached.
        assert_eq!(live(&kv, &cache, "4921100000", 10_000).reads, 1);
        assert_eq!(kv.take_reads(), [LIVE_KEY]);
        // A new version: pointer and its shard.
        publish(&kv, OFFICE, "t");
        let switched = live(&kv, &cache, "4921100000", 20_001);
        assert_eq!((switched.version, switched.reads), (2, 2));
        // A clock that goes backwards does not keep a stale pointer forever.
        assert_eq!(live(&kv, &cache, "4921100000", 0).reads, 1);
        // Without a cache TTL every push reads the pointer.
        let uncached = run(load_live(&cache, &kv, Some("4921100000"), 20_002, 0)).unwrap();
        assert_eq!(uncached.reads, 1);
    }

    #[test]
    fn nothing_published_kill_switch_and_failures() {
        let cache = RefCell::new(RulesCache::default());
        let empty = MemoryKv::default();
        let nothing = live(&empty, &cache, "4921100000", 0);
        assert_eq!((nothing.version, nothing.reads), (0, 1));
        assert!(nothing.rules.is_none() && nothing.kill.is_none());

        let killed = MemoryKv::with(&[(
            LIVE_KEY,
            r#"{"version":3,"shards":1,"kill":{"dial":{"numbers":["4915790000001"]}}}"#,
        )]);
        let cache = RefCell::new(RulesCache::default());
        let live_killed = live(&killed, &cache, "4921100000", 0);
        assert_eq!(live_killed.reads, 1, "the kill switch needs no shard");
        assert!(matches!(live_killed.kill, Some(Outcome::Respond(Some(_)))));

        let bad_kill =
            MemoryKv::with(&[(LIVE_KEY, r#"{"version":0,"shards":0,"kill":{"menu":"x"}}"#)]);
        let ignored = live(
            &bad_kill,
            &RefCell::new(RulesCache::default()),
            "4921100000",
            0,
        );
        assert!(ignored.kill.is_none());
        assert!(ignored
            .warning
            .unwrap()
            .starts_with("kill switch ignored: kill.menu"));

        let load = |kv: &MemoryKv| {
            run(load_live(
                &RefCell::new(RulesCache::default()),
                kv,
                Some("4921100000"),
                0,
                1000,
            ))
        };
        let failing = MemoryKv {
            failing: Some("KV down".into()),
            ..MemoryKv::default()
        };
        assert_eq!(
            load(&failing).unwrap_err(),
            LoadError::Store {
                key: LIVE_KEY.into(),
                error: StoreError("KV down".into())
            }
        );
        let corrupt_pointer = MemoryKv::with(&[(LIVE_KEY, "{\"version\":")]);
        assert!(
            matches!(load(&corrupt_pointer).unwrap_err(), LoadError::Corrupt { key, .. } if key == LIVE_KEY)
        );
        let lost_shard = MemoryKv::with(&[(LIVE_KEY, r#"{"version":4,"shards":1}"#)]);
        assert_eq!(
            load(&lost_shard).unwrap_err(),
            LoadError::Missing {
                key: "rules:v4:s0".into()
            }
        );
        let corrupt_shard = MemoryKv::with(&[
            (LIVE_KEY, r#"{"version":4,"shards":1}"#),
            ("rules:v4:s0", r#"{"timezone":"Mars/Olympus"}"#),
        ]);
        assert!(
            matches!(load(&corrupt_shard).unwrap_err(), LoadError::Corrupt { key, .. } if key == "rules:v4:s0")
        );
    }

    #[test]
    fn a_corrupt_shard_is_read_once_per_isolate_and_its_error_stays_short() {
        // Shards never change once written: one that cannot be used now
        // never can, and reading and parsing it on every push only costs.
        let value = format!(r#"{{"timezone":"{}"}}"#, "x".repeat(1 << 20));
        let kv = MemoryKv::with(&[
            (LIVE_KEY, r#"{"version":4,"shards":1}"#),
            ("rules:v4:s0", &value),
        ]);
        let cache = RefCell::new(RulesCache::default());
        let load = || run(load_live(&cache, &kv, Some("4921100000"), 0, 0));
        let first = load().unwrap_err();
        assert!(matches!(&first, LoadError::Corrupt { key, .. } if key == "rules:v4:s0"));
        assert!(
            first.to_string().len() < 1000,
            "{} bytes",
            first.to_string().len()
        );
        assert_eq!(kv.take_reads(), [LIVE_KEY, "rules:v4:s0"]);
        for _ in 0..3 {
            assert_eq!(load().unwrap_err(), first, "the same error, remembered");
            assert_eq!(kv.take_reads(), [LIVE_KEY], "the shard is not read again");
        }
    }

    #[test]
    fn oversized_values_are_refused_before_they_are_parsed() {
        let huge_shard = " ".repeat(MAX_SHARD_BYTES + 1);
        let kv = MemoryKv::with(&[
            (LIVE_KEY, r#"{"version":4,"shards":1}"#),
            ("rules:v4:s0", &huge_shard),
        ]);
        let error = run(load_live(
            &RefCell::new(RulesCache::default()),
            &kv,
            None,
            0,
            0,
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("rules:v4:s0 is not usable: {} bytes, more than the {MAX_SHARD_BYTES} a shard may have", MAX_SHARD_BYTES + 1)
        );
        let huge_pointer = format!(
            r#"{{"version":4,"shards":1{}}}"#,
            " ".repeat(MAX_POINTER_BYTES)
        );
        let kv = MemoryKv::with(&[(LIVE_KEY, &huge_pointer)]);
        let error = run(load_live(
            &RefCell::new(RulesCache::default()),
            &kv,
            None,
            0,
            0,
        ))
        .unwrap_err();
        assert!(
            error.to_string().ends_with(&format!(
                "more than the {MAX_POINTER_BYTES} a pointer may have"
            )),
            "{error}"
        );
    }

    #[test]
    fn a_corrupt_pointer_is_read_again_only_after_the_cache_time() {
        let kv = MemoryKv::with(&[(LIVE_KEY, "{\"version\":")]);
        let cache = RefCell::new(RulesCache::default());
        let load = |now_ms| run(load_live(&cache, &kv, None, now_ms, 10_000));
        assert!(matches!(load(0), Err(LoadError::Corrupt { .. })));
        assert!(matches!(load(5_000), Err(LoadError::Corrupt { .. })));
        assert_eq!(kv.take_reads(), [LIVE_KEY], "within the TTL: remembered");
        kv.put(LIVE_KEY, r#"{"version":0,"shards":0}"#);
        assert!(load(10_000).is_ok(), "mended, and read again after the TTL");
    }

    #[test]
    fn publishing_refuses_a_shard_the_worker_would_refuse() {
        let mut spec: DocumentSpec = parse_json(OFFICE).unwrap();
        spec.lists.insert(
            "huge".into(),
            (0..200_000).map(|n| format!("4930{n:08}")).collect(),
        );
        let source = serde_json::to_string(&spec).unwrap();
        let plan = plan_publish(&source, &spec, &Index::default(), None, "t".into(), None);
        let problem = plan.too_large().unwrap();
        assert!(problem.starts_with("shard 0 would be "), "{problem}");
        assert!(problem.contains("bytes, more than the"), "{problem}");
        let small: DocumentSpec = parse_json(OFFICE).unwrap();
        assert_eq!(
            plan_publish(OFFICE, &small, &Index::default(), None, "t".into(), None).too_large(),
            None
        );
    }

    #[test]
    fn nothing_published_is_announced_once_per_isolate() {
        let empty = MemoryKv::default();
        let cache = RefCell::new(RulesCache::default());
        let first = live(&empty, &cache, "4921100000", 0);
        assert_eq!(
            first.warning.as_deref(),
            Some("no rules published: rules:live is missing in the KV namespace ROUTES, so every call proceeds unrouted (sipgate-rules publish)")
        );
        assert_eq!(live(&empty, &cache, "4921100000", 20_000).warning, None);
        // Another isolate says it again.
        let fresh = live(
            &empty,
            &RefCell::new(RulesCache::default()),
            "4921100000",
            0,
        );
        assert!(fresh.warning.is_some());
    }

    #[test]
    fn large_documents_are_stored_in_chunks() {
        let text = "é".repeat(10) + "abc";
        let pieces = chunks(&text, 5);
        assert!(pieces.iter().all(|piece| piece.len() <= 5));
        assert_eq!(pieces.concat(), text);
        assert_eq!(chunks("", 5), [""]);
    }

    /// A table of 100,000 numbers: every push still reads at most two keys
    /// and finds its own number's rules.
    #[test]
    fn a_hundred_thousand_numbers() {
        let mut spec: DocumentSpec = parse_json(OFFICE).unwrap();
        let office_rules = spec.numbers.values().next().unwrap().clone();
        for n in 0..100_000u32 {
            let rules: Vec<RuleSpec> = vec![RuleSpec {
                id: Some(format!("n{n}")),
                ..office_rules.last().unwrap().clone()
            }];
            spec.numbers.insert(format!("4930{n:07}"), rules);
        }
        let source = serde_json::to_string(&spec).unwrap();
        let kv = MemoryKv::default();
        let plan = publish(&kv, &source, "t");
        assert_eq!(plan.pointer.1, r#"{"version":1,"shards":782,"kill":null}"#);
        for n in [0u32, 1, 4_242, 55_555, 99_999] {
            let number = format!("4930{n:07}");
            let cache = RefCell::new(RulesCache::default());
            let live = live(&kv, &cache, &number, 0);
            assert_eq!(live.reads, 2, "{number}");
            assert_eq!(
                kv.take_reads(),
                [LIVE_KEY.to_owned(), shard_key(1, shard_of(&number, 782))]
            );
            let rules = live.rules.unwrap();
            assert_eq!(rules.numbers[&number][0].id, format!("n{n}"));
            assert!(
                rules.menus.contains_key("after-hours"),
                "shared parts are in every shard"
            );
        }
    }
}
