//! The KV layout of published rules: keys, the live pointer (and kill
//! switch), shards, the index of versions, and the plan of a publish —
//! its writes in order, the pointer last.

use serde::{Deserialize, Serialize};

use super::shards::Sharded;
use crate::rules::pattern::PatternSet;
use crate::rules::problem::{parse_json, Checker, DocumentError, Problem};
use crate::rules::spec::ActionSpec;

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

/// How many keys hold `source` once published.
pub fn source_chunks(source: &str) -> usize {
    chunks(source, SOURCE_CHUNK_BYTES).len()
}

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

/// How a version's shards are encoded. The pointer names it (absent: 1),
/// so that a worker never decodes shards it does not understand: one that
/// meets a format it does not read answers from its last-known-good rules
/// and logs an error — a newer publisher ran before its worker was
/// deployed (docs/deploy.md, "Updating": deploy first, then publish).
///
/// ```text
/// {"version":7,"shards":1,"kill":null}              format 1: the checked document's JSON, per shard
/// {"version":8,"shards":1,"kill":null,"format":2}   format 2: the compiled rules (rules::compact)
/// {"version":9,"shards":1,"kill":null,"format":3}   a format this worker does not read
/// ```
///
/// Format 1 is written without the field, so workers older than formats
/// (which refuse fields they do not know) read pointers to it; they cannot
/// read format 2, which this build publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RulesFormat(pub u32);

impl RulesFormat {
    /// Each shard a complete rules document in JSON, checked and compiled
    /// by the push that reads it. Read; written only when asked
    /// (`publish --rules-format 1`, for workers deployed before format 2).
    pub const JSON: RulesFormat = RulesFormat(1);
    /// Each shard its compiled rules, only decoded by a push.
    pub const COMPACT: RulesFormat = RulesFormat(2);
    /// The format this build publishes.
    pub const WRITTEN: RulesFormat = RulesFormat::COMPACT;

    /// Whether this build reads shards of this format.
    pub fn is_read(&self) -> bool {
        matches!(*self, RulesFormat::JSON | RulesFormat::COMPACT)
    }

    /// Format 1, which a pointer says by not naming a format.
    pub fn is_json(&self) -> bool {
        *self == RulesFormat::JSON
    }
}

impl Default for RulesFormat {
    fn default() -> Self {
        RulesFormat::JSON
    }
}

impl std::fmt::Display for RulesFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The live pointer (and kill switch, and the draft with its test callers):
///
/// ```text
/// {"version":7,"shards":1,"kill":null}
/// {"version":7,"shards":1,"kill":null,"draft":{"version":8,"shards":1,"callers":["4915790000123"],"base":7}}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pointer {
    /// The live version; 0 when nothing is published.
    pub version: u64,
    pub shards: u32,
    /// When set, every call gets this action and the rules are not read.
    #[serde(default)]
    pub kill: Option<ActionSpec>,
    /// A version published as a draft: its test callers get its answers,
    /// everyone else the live version's. In the pointer, not beside it, so
    /// that a push still reads at most the pointer and one shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<Draft>,
    /// How the live version's shards are encoded.
    #[serde(default, skip_serializing_if = "RulesFormat::is_json")]
    pub format: RulesFormat,
}

/// A version stored like any other but live only for its test callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub version: u64,
    pub shards: u32,
    /// The callers (`from`) who get the draft: numbers or prefixes
    /// (`4915790000123`, `49157900001*`), as the rules' caller patterns.
    pub callers: Vec<String>,
    /// The version live when the draft was published: `promote` refuses
    /// (unless forced) when another has gone live since.
    pub base: u64,
    /// How the draft's shards are encoded.
    #[serde(default, skip_serializing_if = "RulesFormat::is_json")]
    pub format: RulesFormat,
}

/// The most test callers a draft may have: the pointer is read by every
/// push and stays small.
pub const MAX_TEST_CALLERS: usize = 100;

impl Draft {
    /// The test callers compiled as the rules compile caller patterns (one
    /// mechanism, so what a publish accepts is what a push can use), or
    /// every problem with its path (`callers[1]`). Beyond the patterns'
    /// own rules, a draft takes only numbers and prefixes: one for everyone
    /// (`*`), for withheld numbers or for a list is a publish, not a test.
    pub fn test_callers(callers: &[String]) -> Result<PatternSet, Vec<Problem>> {
        if callers.is_empty() {
            return Err(vec![Problem {
                path: "callers".to_owned(),
                message:
                    "a draft needs at least one test caller (a number, or a prefix ending in *)"
                        .to_owned(),
            }]);
        }
        if callers.len() > MAX_TEST_CALLERS {
            return Err(vec![Problem {
                path: "callers".to_owned(),
                message: format!(
                    "{} test callers, more than the {MAX_TEST_CALLERS} a draft may have",
                    callers.len()
                ),
            }]);
        }
        let mut checker = Checker::default();
        for (index, caller) in callers.iter().enumerate() {
            let path = format!("callers[{index}]");
            if matches!(caller.as_str(), "*" | "+*") {
                checker.error(
                    path,
                    format!("{caller:?} is everyone: publish the version instead of drafting it"),
                );
            } else if caller.starts_with('@') || caller.eq_ignore_ascii_case("anonymous") {
                checker.error(
                    path,
                    format!(
                        "{caller:?} is not a number or a prefix (e.g. 4915790000123, 4930123*)"
                    ),
                );
            }
        }
        if !checker.errors.is_empty() {
            return Err(checker.errors);
        }
        let set = PatternSet::compile(callers, true, &mut checker, &"callers");
        match checker.errors.is_empty() {
            true => Ok(set),
            false => Err(checker.errors),
        }
    }
}

impl Pointer {
    pub fn parse(json: &str) -> Result<Pointer, DocumentError> {
        parse_json(json)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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

/// The list of published versions, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub versions: Vec<IndexEntry>,
    /// Keys of versions no longer kept that are still to be deleted: a
    /// Worker request may make only [`KV_OPERATIONS_PER_REQUEST`], so the
    /// admin API deletes what its budget allows and leaves the rest to the
    /// next publish.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<String>,
}

/// KV operations one Worker invocation may make (reads, writes and
/// deletes together; Cloudflare's limit on every plan).
pub const KV_OPERATIONS_PER_REQUEST: usize = 1000;

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
    /// Who or what published it: `cli (user@host)`, `admin API (token)`,
    /// the e-mail of a Cloudflare Access identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_by: Option<String>,
    /// Published although this many of its expectations failed: forced,
    /// and recorded so (`--force-expectations`, `?force=expectations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectations_failed: Option<usize>,
    /// Published as a draft (for test callers), whether or not it was
    /// promoted later.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
    /// How its shards are encoded (a rollback names it in the pointer).
    #[serde(default, skip_serializing_if = "RulesFormat::is_json")]
    pub format: RulesFormat,
    /// How many `rules:vN:source:K` keys hold the document.
    #[serde(default = "one")]
    pub source_chunks: u32,
    /// The document's size in bytes (not known of versions published
    /// before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
}

fn one() -> u32 {
    1
}

/// What the index says of a version being published.
#[derive(Debug, Clone)]
pub struct About {
    /// RFC 3339, UTC.
    pub published_at: String,
    /// Where the document came from (a file name), for people.
    pub source: Option<String>,
    /// Who or what published it.
    pub published_by: Option<String>,
    /// Published although this many of its expectations failed (forced).
    pub expectations_failed: Option<usize>,
    /// Published as a draft for these test callers (checked), not live.
    pub draft: Option<Vec<String>>,
    /// The format its shards are written in.
    pub format: RulesFormat,
}

impl Default for About {
    fn default() -> Self {
        About {
            published_at: String::new(),
            source: None,
            published_by: None,
            expectations_failed: None,
            draft: None,
            format: RulesFormat::WRITTEN,
        }
    }
}

/// The KV writes of one publish, in the order they must happen: the
/// shards (written out from the [`Sharded`] document one batch at a time,
/// never all at once), the source's chunks, the index, then the pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishPlan<'s> {
    pub version: u64,
    pub shards: u32,
    pub numbers: usize,
    /// The document as published, in chunks under their keys.
    pub source: Vec<(String, &'s str)>,
    pub index: (String, String),
    /// The pointer: written last, switching to the new version.
    pub pointer: (String, String),
    /// Keys of versions no longer kept: deleted after the switch.
    pub deletes: Vec<String>,
    /// The format the shards are written in.
    pub format: RulesFormat,
}

/// Plans the publishing of `source` (checked; `sharded` is it taken
/// apart) after `index`, keeping the kill switch of `current`. With a
/// budget of deletes, keys beyond it stay in the index's `retired` list
/// for the next publish.
pub fn plan_publish<'s>(
    source: &'s str,
    sharded: &Sharded<'_>,
    index: &Index,
    current: Option<&Pointer>,
    about: About,
    max_deletes: Option<usize>,
) -> PublishPlan<'s> {
    let version = index
        .versions
        .iter()
        .map(|entry| entry.version)
        .chain(current.map(|pointer| pointer.version))
        .max()
        .unwrap_or(0)
        + 1;
    let shards = sharded.shards();
    let bytes = source.len();
    let source: Vec<(String, &str)> = chunks(source, SOURCE_CHUNK_BYTES)
        .into_iter()
        .enumerate()
        .map(|(chunk, piece)| (source_key(version, chunk as u32), piece))
        .collect();
    let mut versions = vec![IndexEntry {
        version,
        shards,
        published_at: about.published_at,
        numbers: sharded.numbers(),
        source: about.source,
        published_by: about.published_by,
        expectations_failed: about.expectations_failed,
        draft: about.draft.is_some(),
        format: about.format,
        source_chunks: source.len() as u32,
        bytes: Some(bytes),
    }];
    versions.extend(index.versions.iter().cloned());
    // What stays pointed at after this publish is kept whatever its age (a
    // rollback makes an old version live): the live version when this is a
    // draft, else the draft. The oldest others go.
    let still_pointed_at = match &about.draft {
        Some(_) => current.map(|pointer| pointer.version),
        None => current
            .and_then(|pointer| pointer.draft.as_ref())
            .map(|draft| draft.version),
    };
    let (mut kept, mut dropped) = (Vec::new(), Vec::new());
    for entry in versions {
        if kept.len() < KEEP_VERSIONS || Some(entry.version) == still_pointed_at {
            kept.push(entry);
        } else {
            dropped.push(entry);
        }
    }
    let versions = kept;
    let mut deletes: Vec<String> = index
        .retired
        .iter()
        .cloned()
        .chain(dropped.iter().flat_map(version_keys))
        .collect();
    let retired = deletes.split_off(max_deletes.unwrap_or(usize::MAX).min(deletes.len()));
    let index = Index { versions, retired };
    let kill = current.and_then(|pointer| pointer.kill.clone());
    let pointer = match about.draft {
        // A draft leaves the live version (and the kill switch) as it is.
        Some(callers) => Pointer {
            draft: Some(Draft {
                version,
                shards,
                callers,
                base: current.map_or(0, |pointer| pointer.version),
                format: about.format,
            }),
            ..current.cloned().unwrap_or_default()
        },
        // A publish keeps the draft: its test callers go on testing it, and
        // `promote` then says that the live version changed under it.
        None => Pointer {
            version,
            shards,
            kill,
            draft: current.and_then(|pointer| pointer.draft.clone()),
            format: about.format,
        },
    };
    PublishPlan {
        version,
        shards,
        numbers: sharded.numbers(),
        source,
        index: (
            INDEX_KEY.to_owned(),
            serde_json::to_string(&index).unwrap_or_default(),
        ),
        pointer: (LIVE_KEY.to_owned(), pointer.to_json()),
        deletes,
        format: about.format,
    }
}

impl PublishPlan<'_> {
    /// The KV operations of the publish: its writes and deletes.
    pub fn operations(&self) -> usize {
        self.shards as usize + self.source.len() + 2 + self.deletes.len()
    }

    /// Every write before the pointer, in order, written out at once: for
    /// tests and small documents (a publish writes shards batch by batch).
    pub fn writes(&self, sharded: &Sharded<'_>) -> Result<Vec<(String, String)>, DocumentError> {
        let mut writes = Vec::new();
        for shard in 0..self.shards {
            writes.push((
                shard_key(self.version, shard),
                sharded.stored(shard, self.format)?,
            ));
        }
        writes.extend(
            self.source
                .iter()
                .map(|(key, piece)| (key.clone(), (*piece).to_owned())),
        );
        writes.push(self.index.clone());
        Ok(writes)
    }
}

/// Why the worker could not use a shard of `bytes` bytes; `None` when it can.
pub fn too_large(shard: u32, bytes: usize) -> Option<String> {
    (bytes > MAX_SHARD_BYTES).then(|| {
        format!(
            "shard {shard} would be {bytes} bytes, more than the {MAX_SHARD_BYTES} a push may parse: \
             move what every number shares (lists, calendars, menus) into fewer, smaller entries"
        )
    })
}

/// Every key of a published version.
pub fn version_keys(entry: &IndexEntry) -> Vec<String> {
    (0..entry.shards)
        .map(|shard| shard_key(entry.version, shard))
        .chain((0..entry.source_chunks).map(|chunk| source_key(entry.version, chunk)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{publish_source as publish, MemoryKv};

    #[test]
    fn the_rules_format_is_named_only_when_not_format_1() {
        let pointer = Pointer {
            version: 7,
            shards: 1,
            ..Pointer::default()
        };
        assert_eq!(pointer.to_json(), r#"{"version":7,"shards":1,"kill":null}"#);
        assert_eq!(
            Pointer::parse(&pointer.to_json()).unwrap().format,
            RulesFormat(1)
        );
        let newer = Pointer::parse(r#"{"version":8,"shards":1,"kill":null,"format":2}"#).unwrap();
        assert_eq!(newer.format, RulesFormat(2));
        assert_eq!(
            newer.to_json(),
            r#"{"version":8,"shards":1,"kill":null,"format":2}"#
        );
    }

    const OFFICE: &str = include_str!("../../examples/office.json");

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
                r#"{"version":1,"shards":1,"kill":null,"format":2}"#.to_owned()
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
    fn publishing_refuses_a_shard_the_worker_would_refuse() {
        let mut spec: serde_json::Value = parse_json(OFFICE).unwrap();
        spec["lists"]["huge"] = (0..200_000).map(|n| format!("4930{n:08}")).collect();
        // Used: a list no rule names is not stored.
        spec["global"][0]["when"]["caller"] = "@huge".into();
        let source = serde_json::to_string(&spec).unwrap();
        let (shard, bytes) = Sharded::parse(&source).unwrap().check().largest;
        let problem = too_large(shard, bytes).unwrap();
        assert!(problem.starts_with("shard 0 would be "), "{problem}");
        assert!(problem.contains("bytes, more than the"), "{problem}");
        let (shard, bytes) = Sharded::parse(OFFICE).unwrap().check().largest;
        assert_eq!(too_large(shard, bytes), None);
    }

    #[test]
    fn deletes_beyond_the_budget_wait_in_the_index_for_the_next_publish() {
        let sharded = Sharded::parse(OFFICE).unwrap();
        let old = |version| IndexEntry {
            version,
            shards: 3,
            published_at: "t".into(),
            numbers: 300,
            source: None,
            published_by: None,
            expectations_failed: None,
            draft: false,
            format: RulesFormat::WRITTEN,
            source_chunks: 1,
            bytes: None,
        };
        let index = Index {
            versions: (1..=KEEP_VERSIONS as u64).rev().map(old).collect(),
            retired: vec!["rules:v0:s0".into()],
        };
        let plan = plan_publish(OFFICE, &sharded, &index, None, About::default(), Some(2));
        assert_eq!(plan.deletes, ["rules:v0:s0", "rules:v1:s0"]);
        let written: Index = serde_json::from_str(&plan.index.1).unwrap();
        assert_eq!(
            written.retired,
            ["rules:v1:s1", "rules:v1:s2", "rules:v1:source:0"]
        );
        assert_eq!(written.versions.len(), KEEP_VERSIONS);
        assert_eq!(plan.operations(), 1 + 1 + 2 + 2);
        let unbounded = plan_publish(OFFICE, &sharded, &index, None, About::default(), None);
        assert_eq!(unbounded.deletes.len(), 5);
        assert!(!unbounded.index.1.contains("retired"));
    }

    #[test]
    fn large_documents_are_stored_in_chunks() {
        let text = "é".repeat(10) + "abc";
        let pieces = chunks(&text, 5);
        assert!(pieces.iter().all(|piece| piece.len() <= 5));
        assert_eq!(pieces.concat(), text);
        assert_eq!(chunks("", 5), [""]);
    }
}
