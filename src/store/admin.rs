//! What an operator does to the published rules — publish, roll back, set
//! or clear the kill switch, read a version back — written once, for the
//! CLI (through wrangler) and the admin API (through the binding), so the
//! two write the same keys in the same order and can never disagree.
//!
//! Every change follows the failure policy of [`layout`](super::layout):
//! a version's keys first, the pointer last, old versions deleted after
//! the switch; a document with errors, a conflict or a version that is
//! not kept writes nothing.

use serde::{Deserialize, Serialize};

use super::kv::{Kv, StoreError};
use super::layout::{
    plan_publish, shard_key, source_chunks, source_key, too_large, About, Draft, Index, IndexEntry,
    Pointer, RulesFormat, INDEX_KEY, KV_OPERATIONS_PER_REQUEST, LIVE_KEY, POINTER_CACHE_TTL,
};
use super::shards::{check_source, Sharded, ShardedReport};
use crate::rules::check::compile_action;
use crate::rules::expect;
use crate::rules::problem::{parse_json, Problem};
use crate::rules::raw::RawDocument;
use crate::rules::spec::ActionSpec;

/// Write access to KV, as the admin API and the CLI have it (pushes never
/// write).
#[allow(async_fn_in_trait)] // Workers run single-threaded: no `Send` bound wanted.
pub trait KvWrite: Kv {
    async fn put(&self, key: &str, value: &str) -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Writes all `entries` (wrangler sends them in one bulk request).
    async fn put_many(&self, entries: &[(String, String)]) -> Result<(), StoreError> {
        for (key, value) in entries {
            self.put(key, value).await?;
        }
        Ok(())
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        for key in keys {
            self.delete(key).await?;
        }
        Ok(())
    }
}

/// Why a change was not made; nothing was written.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminError {
    /// The document (or the kill switch's action) has errors: all of them.
    Invalid(Vec<Problem>),
    /// The caller expected another live version (`If-Match`).
    Conflict {
        expected: u64,
        live: u64,
    },
    /// Another version went live after the draft was published: promoting
    /// it would silently drop that version's changes.
    DraftBehind {
        draft: u64,
        base: u64,
        live: u64,
    },
    /// The change cannot be made as asked (a version not kept, nothing to
    /// roll back to, a version too large for the worker).
    Refused(String),
    /// Expectations of the document fail: how each went.
    ExpectationsFailed(Vec<expect::Outcome>),
    /// A key of the store holds something this router did not write.
    Corrupt(String),
    Store(StoreError),
}

impl AdminError {
    /// The HTTP status the admin API answers with.
    pub fn status(&self) -> u16 {
        match self {
            AdminError::Invalid(_) | AdminError::ExpectationsFailed(_) => 422,
            AdminError::Conflict { .. } | AdminError::DraftBehind { .. } => 409,
            AdminError::Refused(_) => 400,
            AdminError::Corrupt(_) => 500,
            AdminError::Store(_) => 503,
        }
    }
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminError::Invalid(problems) => {
                write!(f, "the document has {} errors", problems.len())?;
                for problem in problems.iter().take(3) {
                    write!(f, "; {problem}")?;
                }
                Ok(())
            }
            AdminError::ExpectationsFailed(outcomes) => {
                let failed: Vec<&expect::Outcome> =
                    outcomes.iter().filter(|outcome| !outcome.passed).collect();
                write!(
                    f,
                    "{} of the document's {} expectations fail",
                    failed.len(),
                    outcomes.len()
                )?;
                for outcome in failed.iter().take(3) {
                    write!(
                        f,
                        "; {:?}: expected {}, got {}",
                        outcome.name, outcome.expected, outcome.got
                    )?;
                }
                f.write_str(" (to publish it anyway, force it: it is recorded)")
            }
            AdminError::Conflict { expected, live } => write!(
                f,
                "version {live} is live, not {expected}: someone published meanwhile (look at it, then try again)"
            ),
            AdminError::DraftBehind { draft, base, live } => {
                write!(f, "version {live} went live after draft {draft} was published ")?;
                match base {
                    0 => f.write_str("when nothing was live")?,
                    base => write!(f, "on version {base}")?,
                }
                write!(
                    f,
                    ": promoting the draft would drop what version {live} changed (compare them, \
                     publish a new draft, or force the promotion)"
                )
            }
            AdminError::Refused(reason) | AdminError::Corrupt(reason) => f.write_str(reason),
            AdminError::Store(error) => write!(f, "the store cannot be reached: {}", error.0),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> AdminError {
        AdminError::Store(error)
    }
}

/// `published_at` of the index: RFC 3339, UTC, to the second.
pub fn published_at(seconds_since_epoch: i64) -> String {
    let at = crate::time::calendar::LocalDateTime::from_seconds_since_epoch(seconds_since_epoch);
    format!("{}T{}:{:02}Z", at.date, at.time, at.second)
}

/// The live pointer; `None` when nothing was ever published.
pub async fn pointer<S: Kv>(store: &S) -> Result<Option<Pointer>, AdminError> {
    store
        .get(LIVE_KEY, POINTER_CACHE_TTL)
        .await?
        .map(|json| {
            Pointer::parse(&json)
                .map_err(|error| AdminError::Corrupt(format!("{LIVE_KEY} is corrupt: {error}")))
        })
        .transpose()
}

/// The kept versions, newest first.
pub async fn index<S: Kv>(store: &S) -> Result<Index, AdminError> {
    match store.get(INDEX_KEY, POINTER_CACHE_TTL).await? {
        None => Ok(Index::default()),
        Some(json) => parse_json(&json)
            .map_err(|error| AdminError::Corrupt(format!("{INDEX_KEY} is corrupt: {error}"))),
    }
}

/// A kept version's entry in the index.
pub async fn version<S: Kv>(store: &S, version: u64) -> Result<IndexEntry, AdminError> {
    index(store)
        .await?
        .versions
        .into_iter()
        .find(|entry| entry.version == version)
        .ok_or_else(|| {
            AdminError::Refused(format!("version {version} is not among the kept versions"))
        })
}

/// The document of a kept version, as it was published.
pub async fn source<S: Kv>(store: &S, version: u64) -> Result<String, AdminError> {
    let entry = self::version(store, version).await?;
    let mut source = String::new();
    for chunk in 0..entry.source_chunks {
        let key = source_key(version, chunk);
        let piece = store
            .get(&key, POINTER_CACHE_TTL)
            .await?
            .ok_or_else(|| AdminError::Corrupt(format!("{key} is missing")))?;
        if chunk == 0 {
            // Every chunk but the last is as long as the first: reserved
            // once, not grown (a document of tens of MiB would be copied at
            // each doubling, and held about twice).
            source.reserve(piece.len() * entry.source_chunks as usize);
        }
        source += &piece;
    }
    Ok(source)
}

/// What is published, as the admin API's `GET status` and the CLI's
/// `status` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreStatus {
    /// False until the first publish: every push is then answered without
    /// routing (the `error` line "no rules published").
    pub rules_published: bool,
    /// 0 when nothing is published.
    pub live_version: u64,
    /// The live version's index entry: when, by whom, how many numbers.
    pub live: Option<IndexEntry>,
    /// When set, every call gets this action and the rules are not read.
    pub kill: Option<ActionSpec>,
    /// The draft, when there is one: its version, test callers, and the
    /// version live when it was published.
    pub draft: Option<Draft>,
    /// The draft's index entry.
    pub draft_entry: Option<IndexEntry>,
    pub versions_kept: usize,
}

pub async fn status<S: Kv>(store: &S) -> Result<StoreStatus, AdminError> {
    let pointer = pointer(store).await?.unwrap_or_default();
    let index = index(store).await?;
    Ok(StoreStatus {
        rules_published: pointer.version > 0,
        live_version: pointer.version,
        live: index
            .versions
            .iter()
            .find(|entry| entry.version == pointer.version && pointer.version > 0)
            .cloned(),
        kill: pointer.kill,
        draft_entry: pointer.draft.as_ref().and_then(|draft| {
            index
                .versions
                .iter()
                .find(|entry| entry.version == draft.version)
                .cloned()
        }),
        draft: pointer.draft,
        versions_kept: index.versions.len(),
    })
}

/// The ids of the live document's rules (none when nothing is published),
/// for the rule hits.
pub async fn live_rule_ids<S: Kv>(store: &S) -> Result<Vec<String>, AdminError> {
    let live = pointer(store).await?.unwrap_or_default();
    if live.version == 0 {
        return Ok(Vec::new());
    }
    let source = source(store, live.version).await?;
    // The ids alone: compiling 100,000 numbers' rules would not fit an isolate.
    RawDocument::parse(&source)
        .map(|document| document.rule_names())
        .ok_or_else(|| {
            AdminError::Corrupt(format!("version {} is not a rules document", live.version))
        })
}

/// What to publish, and what the index says of it.
#[derive(Debug, Clone)]
pub struct Publication<'a> {
    pub source: &'a str,
    /// Where the document came from (a file name), for people.
    pub name: Option<String>,
    /// Who or what published it (`cli`, `admin API (token)`, an Access e-mail).
    pub by: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// Publish only if this version is live (`If-Match`); 0: nothing is.
    pub if_match: Option<u64>,
    /// Publish even if expectations of the document fail (recorded in the
    /// index with how many did).
    pub force_expectations: bool,
    /// Publish as a draft for these test callers: stored like any version,
    /// live only for them. `None`: live for everyone.
    pub draft: Option<Vec<String>>,
    /// The format the shards are written in: [`RulesFormat::WRITTEN`], or
    /// 1 for workers deployed before format 2 (the CLI's `--rules-format`).
    pub format: RulesFormat,
}

/// A publish that happened:
/// `{"version":8,"numbers":12,"shards":1,"previous":7,"removedKeys":0,"warnings":[]}`
/// (a draft's: `"draft":["4915790000123"]`, and `previous` is the version
/// that stays live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub version: u64,
    pub numbers: usize,
    pub shards: u32,
    /// The version that was live before, kept for rollback.
    pub previous: Option<u64>,
    /// Keys of versions beyond the kept ones, deleted.
    pub removed_keys: usize,
    pub warnings: Vec<Problem>,
    /// Published although this many expectations failed (forced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectations_failed: Option<usize>,
    /// Published as a draft for these test callers; not live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<Vec<String>>,
}

/// How many KV operations a publish may make, its two reads included:
/// unbounded through wrangler (the CLI), [`Budget::WORKER_REQUEST`] in a
/// Worker (the admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Unbounded,
    Operations(usize),
}

impl Budget {
    pub const WORKER_REQUEST: Budget = Budget::Operations(KV_OPERATIONS_PER_REQUEST);
}

/// Checks and publishes a document: its shards, its source, then the
/// index, then the pointer; `progress(written, total)` after each batch.
///
/// The document is never built whole (see [`shards`](super::shards)): the
/// source, the numbers' places in it and one batch of shards are what a
/// publish of 100,000 numbers holds in memory.
pub async fn publish<S: KvWrite>(
    store: &S,
    publication: Publication<'_>,
    budget: Budget,
    mut progress: impl FnMut(usize, usize),
) -> Result<Published, AdminError> {
    if let Some(callers) = &publication.draft {
        Draft::test_callers(callers).map_err(AdminError::Invalid)?;
    }
    let Some(sharded) = Sharded::parse(publication.source) else {
        let report = check_source(publication.source).report;
        return Err(AdminError::Invalid(report.errors));
    };
    let ShardedReport { report, largest } = sharded.check();
    if !report.errors.is_empty() {
        return Err(AdminError::Invalid(report.errors));
    }
    let failed = report.failed_expectations();
    if failed > 0 && !publication.force_expectations {
        return Err(AdminError::ExpectationsFailed(report.expectations));
    }
    if let Some(problem) = too_large(largest.0, largest.1) {
        return Err(AdminError::Refused(problem));
    }
    let current = pointer(store).await?;
    let live = current.as_ref().map_or(0, |pointer| pointer.version);
    if let Some(expected) = publication.if_match {
        if expected != live {
            return Err(AdminError::Conflict { expected, live });
        }
    }
    let index = index(store).await?;
    // The reads above, the writes, and what is left for deletes.
    let reads = 2;
    let writes = sharded.shards() as usize + source_chunks(publication.source) + 2;
    let max_deletes = match budget {
        Budget::Unbounded => None,
        Budget::Operations(operations) if reads + writes > operations => {
            return Err(AdminError::Refused(format!(
                "this version needs {writes} KV writes, and a Worker request may make \
                 {operations} KV operations: publish it with the CLI \
                 (`npm run rules -- publish FILE --remote`)"
            )));
        }
        Budget::Operations(operations) => Some(operations - reads - writes),
    };
    let about = About {
        published_at: publication.at,
        source: publication.name,
        published_by: Some(publication.by),
        expectations_failed: (failed > 0).then_some(failed),
        draft: publication.draft.clone(),
        format: publication.format,
    };
    let plan = plan_publish(
        publication.source,
        &sharded,
        &index,
        current.as_ref(),
        about,
        max_deletes,
    );
    // Shards in batches, each written out only now and dropped once
    // written; wrangler writes each batch in one bulk request.
    const BATCH: u32 = 100;
    let mut written = 0;
    for first in (0..plan.shards).step_by(BATCH as usize) {
        let mut entries = Vec::with_capacity(BATCH as usize);
        for shard in first..plan.shards.min(first + BATCH) {
            // Compiled again, not kept from the check: 100,000 numbers'
            // rules are never in memory at once.
            let stored = sharded
                .stored(shard, plan.format)
                .map_err(|error| AdminError::Invalid(error.problems().to_vec()))?;
            entries.push((shard_key(plan.version, shard), stored));
        }
        store.put_many(&entries).await?;
        written += entries.len();
        progress(written, writes);
    }
    for (key, piece) in &plan.source {
        store.put(key, piece).await?;
        written += 1;
        progress(written, writes);
    }
    store.put(&plan.index.0, &plan.index.1).await?;
    store.put(&plan.pointer.0, &plan.pointer.1).await?;
    progress(writes, writes);
    store.delete_many(&plan.deletes).await?;
    Ok(Published {
        version: plan.version,
        numbers: plan.numbers,
        shards: plan.shards,
        previous: current
            .map(|pointer| pointer.version)
            .filter(|version| *version > 0),
        removed_keys: plan.deletes.len(),
        warnings: report.warnings,
        expectations_failed: (failed > 0).then_some(failed),
        draft: publication.draft,
    })
}

/// A rollback that happened: `{"from":8,"to":{"version":7,…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolledBack {
    pub from: u64,
    pub to: IndexEntry,
}

/// Points the pointer at a kept version: `to`, or the newest older than
/// the live one. The kill switch stays as it is.
pub async fn rollback<S: KvWrite>(store: &S, to: Option<u64>) -> Result<RolledBack, AdminError> {
    let live = pointer(store)
        .await?
        .filter(|pointer| pointer.version > 0)
        .ok_or_else(|| {
            AdminError::Refused("nothing is published: there is nothing to roll back".to_owned())
        })?;
    let index = index(store).await?;
    let target = match to {
        Some(version) => index
            .versions
            .into_iter()
            .find(|entry| entry.version == version)
            .ok_or_else(|| {
                AdminError::Refused(format!("version {version} is not among the kept versions"))
            })?,
        None => index
            .versions
            .into_iter()
            .find(|entry| entry.version < live.version)
            .ok_or_else(|| {
                AdminError::Refused(format!(
                    "no version older than the live {} is kept",
                    live.version
                ))
            })?,
    };
    let first_shard = shard_key(target.version, 0);
    if store.get(&first_shard, POINTER_CACHE_TTL).await?.is_none() {
        return Err(AdminError::Corrupt(format!(
            "{first_shard} is missing: version {} cannot be restored",
            target.version
        )));
    }
    let pointer = Pointer {
        version: target.version,
        shards: target.shards,
        format: target.format,
        ..live.clone()
    };
    store.put(LIVE_KEY, &pointer.to_json()).await?;
    Ok(RolledBack {
        from: live.version,
        to: target,
    })
}

/// A draft made live: `{"from":7,"to":{"version":8,…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promoted {
    pub from: u64,
    pub to: IndexEntry,
    /// Promoted although this version had gone live after the draft was
    /// published (`force`): the draft replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<u64>,
}

/// Makes the draft live for everyone — one write of the pointer, as a
/// publish switches. Refused when another version went live after the
/// draft was published (the draft was tested against what was live then)
/// unless `force`. The kill switch stays as it is.
pub async fn promote<S: KvWrite>(store: &S, force: bool) -> Result<Promoted, AdminError> {
    let live = pointer(store).await?.unwrap_or_default();
    let Some(draft) = live.draft.clone() else {
        return Err(AdminError::Refused(
            "there is no draft to promote".to_owned(),
        ));
    };
    if live.version != draft.base && !force {
        return Err(AdminError::DraftBehind {
            draft: draft.version,
            base: draft.base,
            live: live.version,
        });
    }
    let entry = version(store, draft.version).await?;
    let pointer = Pointer {
        version: draft.version,
        shards: draft.shards,
        kill: live.kill.clone(),
        draft: None,
        format: draft.format,
    };
    store.put(LIVE_KEY, &pointer.to_json()).await?;
    Ok(Promoted {
        from: live.version,
        to: entry,
        replaced: (live.version != draft.base).then_some(live.version),
    })
}

/// Drops the draft: its test callers get the live version again. Its
/// version stays among the kept ones (to look at, or publish again).
pub async fn discard<S: KvWrite>(store: &S) -> Result<Draft, AdminError> {
    let mut live = pointer(store).await?.unwrap_or_default();
    let Some(draft) = live.draft.take() else {
        return Err(AdminError::Refused(
            "there is no draft to discard".to_owned(),
        ));
    };
    store.put(LIVE_KEY, &live.to_json()).await?;
    Ok(draft)
}

/// Sets (`Some`) or clears (`None`) the kill switch; the new pointer.
pub async fn set_kill<S: KvWrite>(
    store: &S,
    action: Option<ActionSpec>,
) -> Result<Pointer, AdminError> {
    if let Some(action) = &action {
        compile_action(action, "kill").map_err(AdminError::Invalid)?;
    }
    let mut pointer = pointer(store).await?.unwrap_or_default();
    pointer.kill = action;
    store.put(LIVE_KEY, &pointer.to_json()).await?;
    Ok(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::layout::RulesFormat;
    use crate::store::KEEP_VERSIONS;
    use crate::testing::{run, MemoryKv};

    const OFFICE: &str = include_str!("../../examples/office.json");
    const SMALL: &str = r#"{"numbers": {"4921100000": [{"id": "dial", "then": {"dial": {"numbers": ["4915790000001"]}}}]}}"#;

    fn publication(source: &str, if_match: Option<u64>) -> Publication<'_> {
        Publication {
            source,
            name: Some("office.json".to_owned()),
            by: "test".to_owned(),
            at: "2026-11-30T10:00:00Z".to_owned(),
            if_match,
            force_expectations: false,
            draft: None,
            format: RulesFormat::WRITTEN,
        }
    }

    /// `--rules-format 1`: what a worker deployed before format 2 reads.
    #[test]
    fn a_publish_in_format_1_writes_the_documents_json_and_names_no_format() {
        let kv = MemoryKv::default();
        let older = Publication {
            format: RulesFormat::JSON,
            ..publication(OFFICE, None)
        };
        run(publish(&kv, older, Budget::Unbounded, |_, _| {})).unwrap();
        let values = kv.values.borrow().clone();
        assert_eq!(values[LIVE_KEY], r#"{"version":1,"shards":1,"kill":null}"#);
        let shard = &values["rules:v1:s0"];
        assert!(crate::rules::load(shard).is_ok(), "{shard}");
        assert!(
            !values[INDEX_KEY].contains("format"),
            "{}",
            values[INDEX_KEY]
        );
        // The next publish, in the format this build writes, says so.
        run(publish(
            &kv,
            publication(OFFICE, None),
            Budget::Unbounded,
            |_, _| {},
        ))
        .unwrap();
        assert_eq!(
            kv.values.borrow()[LIVE_KEY],
            r#"{"version":2,"shards":1,"kill":null,"format":2}"#
        );
        assert!(crate::rules::compact::decode(&kv.values.borrow()["rules:v2:s0"]).is_ok());
    }

    /// A publish through the admin API's budget, without progress.
    fn api_publish(
        kv: &MemoryKv,
        source: &str,
        if_match: Option<u64>,
    ) -> Result<Published, AdminError> {
        run(publish(
            kv,
            publication(source, if_match),
            Budget::WORKER_REQUEST,
            |_, _| {},
        ))
    }

    fn snapshot(kv: &MemoryKv) -> Vec<(String, String)> {
        let mut entries: Vec<_> = kv.values.borrow().clone().into_iter().collect();
        entries.sort();
        entries
    }

    #[test]
    fn publishing_writes_what_the_plan_says_pointer_last() {
        let kv = MemoryKv::default();
        let mut steps = Vec::new();
        let published = run(publish(
            &kv,
            publication(OFFICE, None),
            Budget::WORKER_REQUEST,
            |done, total| steps.push((done, total)),
        ))
        .unwrap();
        assert_eq!(published.version, 1);
        assert_eq!(published.previous, None);
        let pointer = Pointer::parse(&kv.values.borrow()[LIVE_KEY]).unwrap();
        assert_eq!(pointer.version, 1);
        assert_eq!(
            steps.last(),
            Some(&(steps[0].1, steps[0].1)),
            "progress ends at the total"
        );
        let entry = run(version(&kv, 1)).unwrap();
        assert_eq!(entry.published_by.as_deref(), Some("test"));
        assert_eq!(run(source(&kv, 1)).unwrap(), OFFICE);
        let second = api_publish(&kv, SMALL, Some(1)).unwrap();
        assert_eq!((second.version, second.previous), (2, Some(1)));
    }

    #[test]
    fn failing_expectations_refuse_a_publish_unless_forced_and_a_forced_one_is_recorded() {
        let kv = MemoryKv::default();
        let failing = OFFICE.replace("\"dial 4921100001\"", "\"dial 4921100009\"");
        assert_ne!(
            failing, OFFICE,
            "the office example expects dial 4921100001"
        );
        let Err(AdminError::ExpectationsFailed(outcomes)) = api_publish(&kv, &failing, None) else {
            panic!("a document whose expectation fails was published");
        };
        assert_eq!(outcomes.iter().filter(|outcome| !outcome.passed).count(), 1);
        let failed = outcomes.iter().find(|outcome| !outcome.passed).unwrap();
        assert_eq!(failed.path, "expectations[0]");
        assert!(failed.got.contains("dial 4921100001"), "{}", failed.got);
        assert!(failed
            .trace
            .as_ref()
            .unwrap()
            .to_text()
            .contains("✓ business-hours"));
        assert!(snapshot(&kv).is_empty(), "a refused publish wrote");
        let forced = Publication {
            force_expectations: true,
            ..publication(&failing, None)
        };
        let published = run(publish(&kv, forced, Budget::WORKER_REQUEST, |_, _| {})).unwrap();
        assert_eq!(published.expectations_failed, Some(1));
        assert_eq!(run(version(&kv, 1)).unwrap().expectations_failed, Some(1));
        // A document whose expectations pass records nothing.
        let passing = api_publish(&kv, OFFICE, Some(1)).unwrap();
        assert_eq!(passing.expectations_failed, None);
        assert_eq!(run(version(&kv, 2)).unwrap().expectations_failed, None);
    }

    #[test]
    fn a_worker_publish_stays_within_its_kv_operations_and_deletes_the_rest_later() {
        let kv = MemoryKv::default();
        let publish_with = |budget| run(publish(&kv, publication(SMALL, None), budget, |_, _| {}));
        for _ in 0..KEEP_VERSIONS {
            publish_with(Budget::Unbounded).unwrap();
        }
        // 2 reads, 1 shard, 1 source chunk, index, pointer: 1 delete left
        // of version 1's 2 keys.
        let published = publish_with(Budget::Operations(7)).unwrap();
        assert_eq!((published.version, published.removed_keys), (11, 1));
        let kept = run(index(&kv)).unwrap();
        assert_eq!(kept.retired, ["rules:v1:source:0"]);
        assert!(kv.values.borrow().contains_key("rules:v1:source:0"));
        assert!(!kv.values.borrow().contains_key("rules:v1:s0"));
        // The next publish deletes what waited, and the version it drops.
        let published = publish_with(Budget::Unbounded).unwrap();
        assert_eq!(published.removed_keys, 3);
        assert!(run(index(&kv)).unwrap().retired.is_empty());
        let keys: Vec<String> = kv.values.borrow().keys().cloned().collect();
        assert!(
            keys.iter()
                .all(|key| !key.starts_with("rules:v1:") && !key.starts_with("rules:v2:")),
            "{keys:?}"
        );
        // Writes alone over the budget: refused, nothing written.
        let before = snapshot(&kv);
        let Err(AdminError::Refused(reason)) = publish_with(Budget::Operations(5)) else {
            panic!("published beyond the budget");
        };
        assert!(
            reason.starts_with("this version needs 4 KV writes, and a Worker request may make 5"),
            "{reason}"
        );
        assert_eq!(snapshot(&kv), before);
    }

    #[test]
    fn an_invalid_document_writes_nothing_and_names_every_problem() {
        let kv = MemoryKv::default();
        api_publish(&kv, SMALL, None).unwrap();
        let before = snapshot(&kv);
        let bad = r#"{"numbers": {"4921100000": [{"id": "a", "then": {"dial": {"numbers": []}}}, {"id": "a", "then": {"voicemail": {}}}]}}"#;
        let Err(AdminError::Invalid(problems)) = api_publish(&kv, bad, None) else {
            panic!("an invalid document was published");
        };
        assert!(problems.len() >= 2, "{problems:?}");
        assert!(
            problems
                .iter()
                .all(|problem| problem.path.starts_with("numbers.4921100000")),
            "{problems:?}"
        );
        assert_eq!(snapshot(&kv), before);
    }

    #[test]
    fn if_match_refuses_when_another_version_is_live() {
        let kv = MemoryKv::default();
        assert_eq!(
            run(publish(
                &kv,
                publication(SMALL, Some(3)),
                Budget::WORKER_REQUEST,
                |_, _| {}
            )),
            Err(AdminError::Conflict {
                expected: 3,
                live: 0
            })
        );
        assert!(snapshot(&kv).is_empty());
        api_publish(&kv, SMALL, Some(0)).unwrap();
        let before = snapshot(&kv);
        let conflict = api_publish(&kv, OFFICE, Some(0)).unwrap_err();
        assert_eq!(
            conflict,
            AdminError::Conflict {
                expected: 0,
                live: 1
            }
        );
        assert_eq!(conflict.status(), 409);
        assert_eq!(snapshot(&kv), before);
    }

    #[test]
    fn rollback_keeps_the_kill_switch_and_refuses_unknown_versions() {
        let kv = MemoryKv::default();
        assert!(matches!(
            run(rollback(&kv, None)),
            Err(AdminError::Refused(_))
        ));
        api_publish(&kv, SMALL, None).unwrap();
        api_publish(&kv, OFFICE, None).unwrap();
        run(set_kill(&kv, Some(ActionSpec::Voicemail {}))).unwrap();
        let before = snapshot(&kv);
        assert!(matches!(
            run(rollback(&kv, Some(9))),
            Err(AdminError::Refused(_))
        ));
        assert_eq!(snapshot(&kv), before);
        let back = run(rollback(&kv, None)).unwrap();
        assert_eq!((back.from, back.to.version), (2, 1));
        let pointer = run(pointer(&kv)).unwrap().unwrap();
        assert_eq!(pointer.version, 1);
        assert_eq!(pointer.kill, Some(ActionSpec::Voicemail {}));
    }

    #[test]
    fn status_says_when_nothing_is_published() {
        let kv = MemoryKv::default();
        let empty = run(status(&kv)).unwrap();
        assert!(!empty.rules_published);
        assert_eq!(
            (empty.live_version, empty.live, empty.versions_kept),
            (0, None, 0)
        );
        run(set_kill(&kv, Some(ActionSpec::Proceed {}))).unwrap();
        assert!(
            !run(status(&kv)).unwrap().rules_published,
            "a kill switch is not rules"
        );
        api_publish(&kv, SMALL, None).unwrap();
        let live = run(status(&kv)).unwrap();
        assert!(live.rules_published);
        assert_eq!(live.live.unwrap().published_by.as_deref(), Some("test"));
        assert_eq!(live.kill, Some(ActionSpec::Proceed {}));
    }

    #[test]
    fn a_kill_action_with_errors_is_refused() {
        let kv = MemoryKv::default();
        let empty_dial = ActionSpec::Dial {
            numbers: Vec::new(),
            caller_id: None,
            anonymous: None,
        };
        assert!(matches!(
            run(set_kill(&kv, Some(empty_dial))),
            Err(AdminError::Invalid(_))
        ));
        assert!(snapshot(&kv).is_empty());
        let cleared = run(set_kill(&kv, None)).unwrap();
        assert_eq!(cleared.kill, None);
    }

    #[test]
    fn a_store_that_fails_is_a_store_error_not_a_conflict() {
        let kv = MemoryKv {
            failing: Some("KV is down".to_owned()),
            ..MemoryKv::default()
        };
        let error = api_publish(&kv, SMALL, Some(0)).unwrap_err();
        assert_eq!(error.status(), 503);
    }

    fn draft_publication<'a>(source: &'a str, callers: &[&str]) -> Publication<'a> {
        Publication {
            draft: Some(callers.iter().map(|caller| (*caller).to_owned()).collect()),
            ..publication(source, None)
        }
    }

    /// Publishes `source` as the draft of `callers`, through the admin API's budget.
    fn draft(kv: &MemoryKv, source: &str, callers: &[&str]) -> Result<Published, AdminError> {
        run(publish(
            kv,
            draft_publication(source, callers),
            Budget::WORKER_REQUEST,
            |_, _| {},
        ))
    }

    fn live_pointer(kv: &MemoryKv) -> Pointer {
        Pointer::parse(&kv.values.borrow()[LIVE_KEY]).unwrap()
    }

    #[test]
    fn a_draft_is_stored_like_a_version_but_only_named_in_the_pointer() {
        let kv = MemoryKv::default();
        api_publish(&kv, SMALL, None).unwrap();
        let drafted = draft(&kv, OFFICE, &["4915790000123", "+49301*"]).unwrap();
        assert_eq!((drafted.version, drafted.previous), (2, Some(1)));
        assert_eq!(drafted.draft.as_ref().unwrap().len(), 2);
        let pointer = live_pointer(&kv);
        assert_eq!(pointer.version, 1, "the live version stays");
        assert_eq!(
            pointer.draft,
            Some(Draft {
                version: 2,
                shards: 1,
                callers: vec!["4915790000123".into(), "+49301*".into()],
                base: 1,
                format: RulesFormat::COMPACT,
            })
        );
        assert!(kv.values.borrow().contains_key("rules:v2:s0"));
        assert!(run(version(&kv, 2)).unwrap().draft);
        assert!(!run(version(&kv, 1)).unwrap().draft);
        let status = run(status(&kv)).unwrap();
        assert_eq!(status.live_version, 1);
        assert_eq!(status.draft.as_ref().map(|draft| draft.version), Some(2));
        assert_eq!(status.draft_entry.map(|entry| entry.version), Some(2));
        // The kill switch and a rollback leave the draft as it is.
        run(set_kill(&kv, Some(ActionSpec::Voicemail {}))).unwrap();
        run(set_kill(&kv, None)).unwrap();
        assert_eq!(live_pointer(&kv).draft, pointer.draft);
        // A second draft replaces the first.
        draft(&kv, SMALL, &["4915790000999"]).unwrap();
        let draft = live_pointer(&kv).draft.unwrap();
        assert_eq!((draft.version, draft.callers.len()), (3, 1));
        assert_eq!(live_pointer(&kv).version, 1);
    }

    #[test]
    fn promote_switches_to_the_draft_unless_live_changed_since_and_discard_drops_it() {
        let kv = MemoryKv::default();
        assert_eq!(
            run(promote(&kv, false)),
            Err(AdminError::Refused("there is no draft to promote".into()))
        );
        api_publish(&kv, SMALL, None).unwrap();
        draft(&kv, OFFICE, &["4915790000123"]).unwrap();
        // Someone publishes meanwhile: the draft was tested against version 1.
        let published = api_publish(&kv, SMALL, None).unwrap();
        assert_eq!(published.version, 3);
        assert_eq!(
            live_pointer(&kv).draft.map(|draft| draft.version),
            Some(2),
            "a publish keeps the draft"
        );
        let before = snapshot(&kv);
        let refused = run(promote(&kv, false)).unwrap_err();
        assert_eq!(
            refused,
            AdminError::DraftBehind {
                draft: 2,
                base: 1,
                live: 3
            }
        );
        assert_eq!(refused.status(), 409);
        assert!(refused
            .to_string()
            .starts_with("version 3 went live after draft 2 was published on version 1"));
        assert_eq!(snapshot(&kv), before, "a refused promote writes nothing");
        let promoted = run(promote(&kv, true)).unwrap();
        assert_eq!(
            (promoted.from, promoted.to.version, promoted.replaced),
            (3, 2, Some(3))
        );
        let pointer = live_pointer(&kv);
        assert_eq!((pointer.version, pointer.draft), (2, None));
        // A draft on the live version promotes without force; discard drops one.
        draft(&kv, SMALL, &["4915790000123"]).unwrap();
        let discarded = run(discard(&kv)).unwrap();
        assert_eq!(discarded.version, 4);
        assert_eq!(live_pointer(&kv).draft, None);
        assert_eq!(live_pointer(&kv).version, 2);
        assert!(run(version(&kv, 4)).is_ok(), "a discarded draft stays kept");
        assert_eq!(
            run(discard(&kv)),
            Err(AdminError::Refused("there is no draft to discard".into()))
        );
        draft(&kv, OFFICE, &["4915790000123"]).unwrap();
        let promoted = run(promote(&kv, false)).unwrap();
        assert_eq!(
            (promoted.from, promoted.to.version, promoted.replaced),
            (2, 5, None)
        );
    }

    #[test]
    fn a_draft_without_usable_test_callers_writes_nothing() {
        let kv = MemoryKv::default();
        api_publish(&kv, SMALL, None).unwrap();
        let before = snapshot(&kv);
        for (callers, path, message) in [
            (&[][..], "callers", "a draft needs at least one test caller"),
            (&["*"][..], "callers[0]", "\"*\" is everyone"),
            (
                &["4915790000123", "@team"][..],
                "callers[1]",
                "\"@team\" is not a number or a prefix",
            ),
            (
                &["anonymous"][..],
                "callers[0]",
                "\"anonymous\" is not a number",
            ),
            // What the rules' caller patterns refuse, a draft refuses too:
            // a push could not use it.
            (
                &["4915790000123", "0211*"][..],
                "callers[1]",
                "\"0211*\" starts with 0",
            ),
        ] {
            let Err(AdminError::Invalid(problems)) = draft(&kv, OFFICE, callers) else {
                panic!("{callers:?} made a draft");
            };
            assert_eq!(problems[0].path, path, "{callers:?}");
            assert!(problems[0].message.starts_with(message), "{problems:?}");
        }
        assert_eq!(snapshot(&kv), before);
    }

    #[test]
    fn the_draft_and_the_live_version_are_kept_whatever_their_age() {
        let kv = MemoryKv::default();
        api_publish(&kv, SMALL, None).unwrap();
        draft(&kv, SMALL, &["4915790000123"]).unwrap();
        for _ in 0..KEEP_VERSIONS + 2 {
            api_publish(&kv, SMALL, None).unwrap();
        }
        let kept: Vec<u64> = run(index(&kv))
            .unwrap()
            .versions
            .iter()
            .map(|entry| entry.version)
            .collect();
        assert!(kept.contains(&2), "the draft was dropped: {kept:?}");
        assert!(!kept.contains(&1), "{kept:?}");
        assert!(kv.values.borrow().contains_key("rules:v2:s0"));
        // Rolled back to an old version, a draft published: the live one stays.
        run(rollback(&kv, Some(5))).unwrap();
        run(discard(&kv)).unwrap();
        for _ in 0..KEEP_VERSIONS + 2 {
            draft(&kv, SMALL, &["4915790000123"]).unwrap();
        }
        assert_eq!(live_pointer(&kv).version, 5);
        assert!(run(version(&kv, 5)).is_ok(), "the live version was dropped");
        assert!(kv.values.borrow().contains_key("rules:v5:s0"));
    }
}
