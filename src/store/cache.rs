//! An isolate's rules: the live pointer for a while, the shards it has
//! read (or why one could not be used), the last-known-good version, and
//! [`load_live`], which finds the rules a push is decided by.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::kv::{Kv, StoreError};
use super::layout::{
    shard_key, shard_of, Draft, Pointer, RulesFormat, LIVE_KEY, MAX_POINTER_BYTES, MAX_SHARD_BYTES,
    POINTER_CACHE_TTL, SHARD_CACHE_TTL,
};
use crate::rules::decision::Wanted;
use crate::rules::pattern::PatternSet;
use crate::rules::problem::DocumentError;
use crate::rules::{compact, load, RuleSet};
use crate::rules::{compile_action, Outcome};

#[derive(Debug, Clone)]
pub struct Live {
    pub version: u64,
    /// The version is the draft, answering one of its test callers.
    pub draft: bool,
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
    /// The pointer names a version in a rules format this worker does not
    /// read: published by a newer `sipgate-rules` before its worker was
    /// deployed.
    UnknownFormat {
        version: u64,
        format: RulesFormat,
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
            LoadError::UnknownFormat { version, format } => write!(
                f,
                "{LIVE_KEY} names version {version} in rules format {format}, which this worker \
                 does not read (it reads formats {} and {}): deploy the worker before publishing \
                 with a newer sipgate-rules",
                RulesFormat::JSON,
                RulesFormat::COMPACT
            ),
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
            LoadError::UnknownFormat { .. } => Some(LIVE_KEY),
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

/// Cloned on every push (the cache is not borrowed across awaits): what
/// can be large — a draft's test callers — is shared, not copied.
#[derive(Debug, Clone)]
struct CachedPointer {
    pointer: Arc<Pointer>,
    kill: Option<Outcome>,
    /// A kill switch or draft that could not be used, and why (for the log).
    kill_problem: Option<String>,
    /// The draft's test callers, compiled once; `None` without a (usable) draft.
    test_callers: Option<Arc<PatternSet>>,
    /// `rules:live` was missing: nothing is published.
    unpublished: bool,
    fetched_at_ms: i64,
}

/// At most this many shards stay in an isolate (a few MB at most).
const MAX_CACHED_SHARDS: usize = 64;

/// The rules for a push, from the cache or KV: the shard of its number in
/// the live version, or in the draft for a test caller — the pointer and
/// one shard either way, at most two reads. The cache is borrowed only
/// between awaits: requests interleave in one isolate.
pub async fn load_live<'a>(
    cache: &RefCell<RulesCache>,
    kv: &impl Kv,
    wanted: impl Into<Wanted<'a>>,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<Live, LoadError> {
    let wanted = wanted.into();
    let mut reads = 0;
    // Each borrow of the cache ends before the next await.
    let fresh = cache.borrow().fresh_pointer(now_ms, ttl_ms)?;
    let cached = match fresh {
        Some(cached) => cached,
        None => {
            reads += 1;
            let read = kv.get(LIVE_KEY, POINTER_CACHE_TTL).await;
            cache.borrow_mut().take_pointer(read, now_ms)?
        }
    };
    let target = cached.target(&wanted);
    if cached.kill.is_some() || target.version == 0 || target.shards == 0 {
        return Ok(cache.borrow_mut().without_rules(cached, reads));
    }
    if !target.format.is_read() {
        // Not even read: its bytes mean something else to its publisher.
        return Err(LoadError::UnknownFormat {
            version: target.version,
            format: target.format,
        });
    }
    let shard = shard_of(wanted.number.unwrap_or_default(), target.shards);
    let slot = (target.version, shard);
    let existing = cache.borrow().shards.get(&slot).cloned();
    let rules = match existing {
        Some(known) => known?,
        None => {
            let key = shard_key(target.version, shard);
            reads += 1;
            let json = match kv.get(&key, SHARD_CACHE_TTL).await {
                Err(error) => return Err(LoadError::Store { key, error }),
                Ok(None) => return Err(LoadError::Missing { key }),
                Ok(Some(json)) => json,
            };
            let parsed = parse_shard(&key, &json, target.format).map(Arc::new);
            cache.borrow_mut().keep_shard(slot, parsed.clone());
            parsed?
        }
    };
    cache.borrow_mut().good = Some(cached.clone());
    Ok(Live {
        version: target.version,
        draft: target.draft,
        kill: None,
        rules: Some(rules),
        reads,
        warning: cached.kill_problem,
    })
}

impl RulesCache {
    /// The pointer, if the isolate's copy is still within the cache time;
    /// a broken pointer read within it is that error again.
    fn fresh_pointer(&self, now_ms: i64, ttl_ms: i64) -> Result<Option<CachedPointer>, LoadError> {
        let within_ttl = |fetched_at_ms: i64| {
            ttl_ms > 0 && now_ms - fetched_at_ms < ttl_ms && now_ms >= fetched_at_ms
        };
        if let Some((_, error)) = self.bad_pointer.as_ref().filter(|(at, _)| within_ttl(*at)) {
            return Err(error.clone());
        }
        Ok(self
            .pointer
            .clone()
            .filter(|cached| within_ttl(cached.fetched_at_ms)))
    }

    /// The pointer as KV answered it at `now_ms`, kept for the cache time.
    fn take_pointer(
        &mut self,
        read: Result<Option<String>, StoreError>,
        now_ms: i64,
    ) -> Result<CachedPointer, LoadError> {
        let pointer = match read {
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
                if self
                    .good
                    .as_ref()
                    .is_some_and(|good| good.pointer.version > 0) =>
            {
                return Err(LoadError::Missing {
                    key: LIVE_KEY.to_owned(),
                })
            }
            Ok(None) => None,
            Ok(Some(json)) => match parse_pointer(&json) {
                Ok(pointer) => Some(pointer),
                Err(error) => {
                    self.bad_pointer = Some((now_ms, error.clone()));
                    return Err(error);
                }
            },
        };
        let cached = CachedPointer::new(pointer, now_ms);
        self.pointer = Some(cached.clone());
        Ok(cached)
    }

    /// The answer when there are no rules to read: the kill switch, or
    /// nothing published — which an isolate says loudly once (routing
    /// silently off is the worst failure there is; every push would drown
    /// the logs).
    fn without_rules(&mut self, cached: CachedPointer, reads: u32) -> Live {
        let unannounced =
            cached.unpublished && !std::mem::replace(&mut self.announced_unpublished, true);
        self.good = Some(cached.clone());
        Live {
            version: cached.pointer.version,
            draft: false,
            kill: cached.kill,
            rules: None,
            reads,
            warning: cached
                .kill_problem
                .or_else(|| unannounced.then(|| UNPUBLISHED.to_owned())),
        }
    }

    /// Keeps a shard read (or why it cannot be used), making room first:
    /// shards of versions neither live nor last-known-good are useless;
    /// then any will do.
    fn keep_shard(&mut self, slot: (u64, u32), shard: Result<Arc<RuleSet>, LoadError>) {
        if self.shards.len() >= MAX_CACHED_SHARDS {
            let live_version = slot.0;
            let good_version = self.good.as_ref().map(|good| good.pointer.version);
            self.shards.retain(|(version, _), _| {
                *version == live_version || Some(*version) == good_version
            });
            if self.shards.len() >= MAX_CACHED_SHARDS {
                self.shards.clear();
            }
        }
        self.shards.insert(slot, shard);
    }
}

/// The version (and its shard count) a push is answered from.
#[derive(Debug, Clone, Copy)]
struct Target {
    version: u64,
    shards: u32,
    format: RulesFormat,
    draft: bool,
}

impl CachedPointer {
    /// The draft's version for its test callers and the menus of their
    /// calls (one hash lookup per prefix length of the callers); the live
    /// version for everyone else.
    fn target(&self, wanted: &Wanted<'_>) -> Target {
        let live = Target {
            version: self.pointer.version,
            shards: self.pointer.shards,
            format: self.pointer.format,
            draft: false,
        };
        let (Some(draft), Some(callers)) = (&self.pointer.draft, &self.test_callers) else {
            return live;
        };
        let tests = wanted.draft == Some(draft.version)
            || wanted.caller.is_some_and(|caller| callers.matches(caller));
        if tests && draft.version != self.pointer.version {
            Target {
                version: draft.version,
                shards: draft.shards,
                format: draft.format,
                draft: true,
            }
        } else {
            live
        }
    }

    /// The pointer read (`None`: nothing published), its kill switch and
    /// its draft's test callers, compiled once.
    fn new(pointer: Option<Pointer>, now_ms: i64) -> CachedPointer {
        let unpublished = pointer.is_none();
        let pointer = pointer.unwrap_or_default();
        let (test_callers, draft_problem) = match &pointer.draft {
            None => (None, None),
            Some(draft) => match Draft::test_callers(&draft.callers) {
                Ok(callers) => (Some(Arc::new(callers)), None),
                Err(_) => (
                    None,
                    Some(format!(
                        "draft {} ignored: its test callers are not usable",
                        draft.version
                    )),
                ),
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
        CachedPointer {
            pointer: Arc::new(pointer),
            kill,
            kill_problem: kill_problem.or(draft_problem),
            test_callers,
            unpublished,
            fetched_at_ms: now_ms,
        }
    }
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

/// A shard's rules, refused unread when larger than [`MAX_SHARD_BYTES`]:
/// decoded (format 2), or checked and compiled (format 1). The error is
/// capped (a parse error may quote the value).
fn parse_shard(key: &str, text: &str, format: RulesFormat) -> Result<RuleSet, LoadError> {
    let corrupt = |error: String| LoadError::Corrupt {
        key: key.to_owned(),
        error,
    };
    if text.len() > MAX_SHARD_BYTES {
        return Err(corrupt(format!(
            "{} bytes, more than the {MAX_SHARD_BYTES} a shard may have",
            text.len()
        )));
    }
    if format == RulesFormat::COMPACT {
        return compact::decode(text)
            .map_err(|error| corrupt(format!("not a compiled shard: {error}")));
    }
    load(text)
        .map(|checked| checked.rules)
        .map_err(|error| corrupt(crate::log::cap(&error.to_string())))
}

/// The rules of the last-known-good pointer for a push, if the isolate
/// still holds its shard — the draft's for a test caller, else (or when
/// the draft's is not held) the live version's; used when KV fails or
/// answers too late, or a new version is broken.
pub fn last_known_good<'a>(
    cache: &RefCell<RulesCache>,
    wanted: impl Into<Wanted<'a>>,
) -> Option<Live> {
    let wanted = wanted.into();
    let cache = cache.borrow();
    let good = cache.good.as_ref()?;
    let pointer = &good.pointer;
    let held = |target: Target| {
        cache
            .shards
            .get(&(
                target.version,
                shard_of(wanted.number.unwrap_or_default(), target.shards),
            ))
            .and_then(|shard| shard.as_ref().ok())
            .map(|rules| (target, rules.clone()))
    };
    let (target, rules) = if good.kill.is_some() || pointer.version == 0 || pointer.shards == 0 {
        (good.target(&Wanted::default()), None)
    } else {
        let (target, rules) = held(good.target(&wanted)).or_else(|| {
            held(good.target(&Wanted {
                number: wanted.number,
                ..Wanted::default()
            }))
        })?;
        (target, Some(rules))
    };
    Some(Live {
        version: target.version,
        draft: target.draft,
        kill: good.kill.clone(),
        rules,
        reads: 0,
        warning: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::number::Party;
    use crate::rules::problem::parse_json;
    use crate::rules::spec::{DocumentSpec, RuleSpec};
    use crate::store::layout::shard_of;
    use crate::testing::{publish_source as publish, run, MemoryKv};

    const OFFICE: &str = include_str!("../../examples/office.json");

    fn live(kv: &MemoryKv, cache: &RefCell<RulesCache>, number: &str, now_ms: i64) -> Live {
        run(load_live(cache, kv, Some(number), now_ms, 10_000)).unwrap()
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
        assert_eq!(
            plan.pointer.1,
            r#"{"version":1,"shards":782,"kill":null,"format":2}"#
        );
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

    /// Version 1 live, version 2 the draft of `callers`, both in format 2.
    fn with_draft(callers: &str) -> MemoryKv {
        with_draft_in(callers, 2)
    }

    /// As [`with_draft`], the draft's pointer naming rules format `format`.
    fn with_draft_in(callers: &str, format: u32) -> MemoryKv {
        let kv = MemoryKv::default();
        publish(&kv, OFFICE, "t");
        publish(&kv, OFFICE, "t");
        kv.put(
            LIVE_KEY,
            &format!(
                r#"{{"version":1,"shards":1,"kill":null,"format":2,"draft":{{"version":2,"shards":1,"base":1,"format":{format},"callers":{callers}}}}}"#
            ),
        );
        kv.take_reads();
        kv
    }

    fn load_for(kv: &MemoryKv, cache: &RefCell<RulesCache>, wanted: Wanted<'_>) -> Live {
        run(load_live(cache, kv, wanted, 0, 10_000)).unwrap()
    }

    #[test]
    fn a_test_caller_gets_the_draft_in_two_reads_everyone_else_the_live_version() {
        let kv = with_draft(r#"["4915790000123","4930*"]"#);
        let tester = Party::parse("4915790000123");
        let prefixed = Party::parse("+493012345678");
        let other = Party::parse("4915790000124");
        let call = |caller| Wanted {
            number: Some("4921100000"),
            caller: Some(caller),
            draft: None,
        };
        let cache = RefCell::new(RulesCache::default());
        let drafted = load_for(&kv, &cache, call(&tester));
        assert_eq!(
            (drafted.version, drafted.draft, drafted.reads),
            (2, true, 2)
        );
        assert_eq!(kv.take_reads(), [LIVE_KEY, "rules:v2:s0"]);
        assert_eq!(load_for(&kv, &cache, call(&prefixed)).version, 2);
        assert!(kv.take_reads().is_empty(), "warm: no reads");
        let cache = RefCell::new(RulesCache::default());
        let live = load_for(&kv, &cache, call(&other));
        assert_eq!((live.version, live.draft, live.reads), (1, false, 2));
        assert_eq!(kv.take_reads(), [LIVE_KEY, "rules:v1:s0"]);
        assert_eq!(load_for(&kv, &cache, call(&Party::Anonymous)).version, 1);
        // A menu of a call the draft began names it; an old draft's does not count.
        let menu = |draft| Wanted {
            number: None,
            caller: None,
            draft: Some(draft),
        };
        assert_eq!(load_for(&kv, &cache, menu(2)).version, 2);
        assert_eq!(load_for(&kv, &cache, menu(7)).version, 1);
        assert_eq!(load_for(&kv, &cache, Wanted::default()).version, 1);
    }

    #[test]
    fn a_draft_whose_callers_cannot_be_used_is_ignored_and_said_so() {
        let kv = with_draft(r#"["*"]"#);
        let cache = RefCell::new(RulesCache::default());
        let tester = Party::parse("4915790000123");
        let loaded = load_for(
            &kv,
            &cache,
            Wanted {
                number: Some("4921100000"),
                caller: Some(&tester),
                draft: None,
            },
        );
        assert_eq!((loaded.version, loaded.draft), (1, false));
        assert_eq!(
            loaded.warning.as_deref(),
            Some("draft 2 ignored: its test callers are not usable")
        );
    }

    #[test]
    fn when_kv_fails_a_test_caller_gets_the_draft_it_had_or_else_the_live_version() {
        let kv = with_draft(r#"["4915790000123"]"#);
        let cache = RefCell::new(RulesCache::default());
        let tester = Party::parse("4915790000123");
        let call = Wanted {
            number: Some("4921100000"),
            caller: Some(&tester),
            draft: None,
        };
        load_for(&kv, &cache, Some("4921100000").into());
        let fallback = last_known_good(&cache, call).unwrap();
        assert_eq!(
            (fallback.version, fallback.draft),
            (1, false),
            "the draft's shard is not held: the live version answers"
        );
        load_for(&kv, &cache, call);
        let fallback = last_known_good(&cache, call).unwrap();
        assert_eq!((fallback.version, fallback.draft), (2, true));
        assert_eq!(
            last_known_good(&cache, Some("4921100000")).unwrap().version,
            1
        );
    }

    /// Versions an older sipgate-rules published (format 1, each shard the
    /// document's JSON) are still read: a rollback may make one live.
    #[test]
    fn a_version_in_format_1_is_still_read_and_compiled() {
        let kv = MemoryKv::default();
        let json = crate::store::shards::Sharded::parse(OFFICE)
            .unwrap()
            .shard(0);
        assert!(json.starts_with('{'));
        kv.put("rules:v1:s0", &json);
        kv.put(LIVE_KEY, r#"{"version":1,"shards":1,"kill":null}"#);
        let cache = RefCell::new(RulesCache::default());
        let live = live(&kv, &cache, "4921100000", 0);
        assert_eq!((live.version, live.reads), (1, 2));
        assert!(live.rules.unwrap().menus.contains_key("after-hours"));
        // Read as format 2, the same JSON is a corrupt shard, said so.
        kv.put(
            LIVE_KEY,
            r#"{"version":1,"shards":1,"kill":null,"format":2}"#,
        );
        let error = run(load_live(
            &RefCell::new(RulesCache::default()),
            &kv,
            Some("4921100000"),
            0,
            10_000,
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "rules:v1:s0 is not usable: not a compiled shard: at byte 0: is not a shard in rules \
             format 2"
        );
    }

    /// A newer publisher wrote version 2 in a format this worker does not
    /// read (the mixed-version case of a publish before a deploy).
    #[test]
    fn a_version_in_an_unknown_rules_format_is_not_read_and_last_known_good_answers() {
        let kv = MemoryKv::default();
        publish(&kv, OFFICE, "t");
        let cache = RefCell::new(RulesCache::default());
        assert_eq!(live(&kv, &cache, "4921100000", 0).version, 1);
        kv.put("rules:v2:s0", "\u{3}a shard of the future");
        kv.put(
            LIVE_KEY,
            r#"{"version":2,"shards":1,"kill":null,"format":3}"#,
        );
        kv.take_reads();
        let error = run(load_live(&cache, &kv, Some("4921100000"), 20_000, 10_000)).unwrap_err();
        assert_eq!(
            error,
            LoadError::UnknownFormat {
                version: 2,
                format: RulesFormat(3)
            }
        );
        assert_eq!(
            error.to_string(),
            "rules:live names version 2 in rules format 3, which this worker does not read (it \
             reads formats 1 and 2): deploy the worker before publishing with a newer \
             sipgate-rules"
        );
        assert_eq!(kv.take_reads(), [LIVE_KEY], "its shard is not even read");
        let fallback = last_known_good(&cache, Some("4921100000")).unwrap();
        assert_eq!((fallback.version, fallback.reads), (1, 0));
        assert!(fallback.rules.is_some());
        // A draft in an unknown format leaves its test callers on the live version.
        let kv = with_draft_in(r#"["4915790000123"]"#, 3);
        let tester = Party::parse("4915790000123");
        let call = Wanted {
            number: Some("4921100000"),
            caller: Some(&tester),
            draft: None,
        };
        let cache = RefCell::new(RulesCache::default());
        load_for(&kv, &cache, Some("4921100000").into());
        let error = run(load_live(&cache, &kv, call, 0, 10_000)).unwrap_err();
        assert!(matches!(
            error,
            LoadError::UnknownFormat {
                version: 2,
                format: RulesFormat(3)
            }
        ));
        assert_eq!(last_known_good(&cache, call).unwrap().version, 1);
    }
}
