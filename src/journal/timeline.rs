//! The story of a call, and how often each rule decided.
//!
//! A transferred or forwarded call is several legs: each later leg's
//! `newCall` names the first leg as `origCallId`. [`Expansion`] finds all
//! legs linked to a call id, whichever leg it is, by asking the store for
//! the pushes of the ids it knows until no new id turns up; the worker
//! (`GET /calls/{callId}`) and the CLI (`sipgate-rules call`) drive it with
//! their own store. [`Timeline`] orders what was found.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use super::Entry;
use crate::time::calendar::LocalDateTime;

/// At most this many rounds of queries, and call ids: a call with more
/// legs than that is shown in part rather than searched without end.
const MAX_ROUNDS: usize = 8;
const MAX_IDS: usize = 64;

/// Finds every push of the legs linked to one call id.
#[derive(Debug, Clone)]
pub struct Expansion {
    known: BTreeSet<String>,
    pending: Vec<String>,
    entries: Vec<Entry>,
    rounds: usize,
}

impl Expansion {
    pub fn new(call_id: &str) -> Expansion {
        Expansion {
            known: BTreeSet::from([call_id.to_owned()]),
            pending: vec![call_id.to_owned()],
            entries: Vec::new(),
            rounds: 0,
        }
    }

    /// The call ids to ask the store about next: the pushes whose `callId`
    /// or `origCallId` is one of them ([`super::sql::select_linked`]).
    /// `None` when the search is complete.
    pub fn next_query(&mut self) -> Option<Vec<String>> {
        if self.pending.is_empty() || self.rounds >= MAX_ROUNDS {
            return None;
        }
        self.rounds += 1;
        Some(std::mem::take(&mut self.pending))
    }

    /// What the store answered to the last query.
    pub fn add(&mut self, entries: Vec<Entry>) {
        for entry in entries {
            for id in [&entry.call_id, &entry.orig_call_id].into_iter().flatten() {
                if self.known.len() < MAX_IDS && self.known.insert(id.clone()) {
                    self.pending.push(id.clone());
                }
            }
            // Rows linked to two known ids come back twice.
            if !self.entries.contains(&entry) {
                self.entries.push(entry);
            }
        }
    }

    pub fn finish(self, call_id: &str) -> Timeline {
        Timeline::new(call_id, self.entries)
    }
}

/// The legs of a call, first leg first, each with its pushes in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// The call id asked about.
    pub call_id: String,
    pub legs: Vec<LegTimeline>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegTimeline {
    pub call_id: String,
    /// The leg this one was transferred or forwarded from.
    pub orig_call_id: Option<String>,
    pub pushes: Vec<Entry>,
}

impl Timeline {
    pub fn new(call_id: &str, mut entries: Vec<Entry>) -> Timeline {
        entries.sort_by_key(|entry| (entry.at_ms, event_order(&entry.event)));
        let mut legs: Vec<LegTimeline> = Vec::new();
        for entry in entries {
            let id = entry.call_id.clone().unwrap_or_default();
            match legs.iter_mut().find(|leg| leg.call_id == id) {
                Some(leg) => {
                    if leg.orig_call_id.is_none() {
                        leg.orig_call_id = entry.orig_call_id.clone();
                    }
                    leg.pushes.push(entry);
                }
                None => legs.push(LegTimeline {
                    call_id: id,
                    orig_call_id: entry.orig_call_id.clone(),
                    pushes: vec![entry],
                }),
            }
        }
        // A leg follows the leg it came from, also when their pushes share
        // a millisecond; otherwise legs keep the order of their first push.
        let depths: Vec<usize> = legs.iter().map(|leg| origin_depth(&legs, leg)).collect();
        let deepest = depths.iter().copied().max().unwrap_or(0);
        let mut ordered = Vec::with_capacity(legs.len());
        for level in 0..=deepest {
            for (leg, depth) in legs.iter().zip(&depths) {
                if *depth == level {
                    ordered.push(leg.clone());
                }
            }
        }
        Timeline {
            call_id: call_id.to_owned(),
            legs: ordered,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.legs.is_empty()
    }

    /// For the terminal (`sipgate-rules call`).
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let pushes: usize = self.legs.iter().map(|leg| leg.pushes.len()).sum();
        let _ = writeln!(
            text,
            "call {}: {} leg{}, {} push{}",
            self.call_id,
            self.legs.len(),
            if self.legs.len() == 1 { "" } else { "s" },
            pushes,
            if pushes == 1 { "" } else { "es" }
        );
        for leg in &self.legs {
            let _ = write!(text, "\nleg {}", leg.call_id);
            if let Some(origin) = &leg.orig_call_id {
                let _ = write!(text, " (transferred or forwarded from {origin})");
            }
            text.push('\n');
            for push in &leg.pushes {
                let _ = writeln!(
                    text,
                    "  {}  {:<8} {}",
                    utc_text(push.at_ms),
                    push.event,
                    describe(push)
                );
            }
        }
        text
    }
}

/// How many legs of `legs` lie between `leg` and its first leg.
fn origin_depth(legs: &[LegTimeline], leg: &LegTimeline) -> usize {
    let mut depth = 0;
    let mut origin = leg.orig_call_id.as_deref();
    while let Some(id) = origin {
        match legs.iter().find(|other| other.call_id == id) {
            // A cycle of ids (never sent by sipgate) ends at the leg count.
            Some(parent) if depth < legs.len() => {
                depth += 1;
                origin = parent.orig_call_id.as_deref();
            }
            _ => break,
        }
    }
    depth
}

/// `newCall` before `answer` before `dtmf` before `hangup` within one ms.
fn event_order(event: &str) -> u8 {
    match event {
        "newCall" => 0,
        "answer" => 1,
        "dtmf" => 2,
        "hangup" => 3,
        _ => 4,
    }
}

/// One push on one line: its facts, then what the router did.
fn describe(push: &Entry) -> String {
    let mut facts = Vec::new();
    if let (Some(from), Some(to)) = (&push.from, &push.to) {
        let direction = push.direction.as_deref().unwrap_or("?");
        facts.push(format!("{from} → {to} ({direction})"));
    }
    if !push.users.0.is_empty() {
        facts.push(format!("users {}", push.users.0.join(", ")));
    }
    if let Some(number) = &push.diversion {
        facts.push(format!("diverted from {number}"));
    }
    if let Some(number) = &push.answering_number {
        facts.push(format!("answered by {number}"));
    }
    if let Some(cause) = &push.cause {
        facts.push(format!("cause {cause}"));
    }
    if let Some(digits) = &push.dtmf {
        facts.push(if digits.is_empty() {
            "no digits".to_owned()
        } else {
            format!("digits {digits}")
        });
    }
    if let Some(menu) = &push.menu {
        let step = push.step.as_deref().unwrap_or("?");
        facts.push(format!("menu {menu}: {step}"));
    }
    let decided = match (&push.rule, push.version) {
        (Some(rule), Some(version)) => format!("rule {rule} (v{version})"),
        (Some(rule), None) => format!("rule {rule}"),
        (None, Some(version)) => format!("no rule (v{version})"),
        (None, None) => String::new(),
    };
    let answer = push.answer.as_deref().unwrap_or("proceed");
    let mut line = facts.join(", ");
    if push.event == "newCall" || push.event == "dtmf" {
        if !line.is_empty() {
            line.push_str("; ");
        }
        if decided.is_empty() {
            let _ = write!(line, "→ {answer}");
        } else {
            let _ = write!(line, "{decided} → {answer}");
        }
    }
    line
}

/// `2026-11-30 09:00:00.123Z`.
pub fn utc_text(at_ms: i64) -> String {
    let moment = LocalDateTime::from_seconds_since_epoch(at_ms.div_euclid(1000));
    format!(
        "{} {}:{:02}.{:03}Z",
        moment.date,
        moment.time,
        moment.second,
        at_ms.rem_euclid(1000)
    )
}

/// How often a rule decided in a period, from the journal
/// ([`super::sql::HITS`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCount {
    pub rule: String,
    pub hits: u64,
    pub last_at_ms: i64,
}

/// A rule of the live document with its hits; `never` when it decided no
/// call in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: String,
    pub hits: u64,
    pub last_at_ms: Option<i64>,
    /// Not in the live document (any more): a rule of an earlier version.
    pub retired: bool,
}

/// A [`Hit`] as the admin API's `GET hits` and `sipgate-rules hits --json`
/// write it: `{"rule":"office","hits":12,"lastAtMs":…,"neverMatched":false,"inLiveRules":true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HitRow {
    pub rule: String,
    pub hits: u64,
    pub last_at_ms: Option<i64>,
    pub never_matched: bool,
    pub in_live_rules: bool,
}

impl From<Hit> for HitRow {
    fn from(hit: Hit) -> HitRow {
        HitRow {
            rule: hit.rule,
            hits: hit.hits,
            last_at_ms: hit.last_at_ms,
            never_matched: hit.hits == 0,
            in_live_rules: !hit.retired,
        }
    }
}

impl From<HitRow> for Hit {
    fn from(row: HitRow) -> Hit {
        Hit {
            rule: row.rule,
            hits: row.hits,
            last_at_ms: row.last_at_ms,
            retired: !row.in_live_rules,
        }
    }
}

/// Every rule of the live document (in document order), then the rules
/// the journal counted that it no longer has.
pub fn hits(live_rules: Vec<String>, counted: &[RuleCount]) -> Vec<Hit> {
    // Keyed by rule, and marked once the live document names it: the
    // live rules of 100,000 numbers are 400,000.
    let mut counts: HashMap<&str, (&RuleCount, bool)> = counted
        .iter()
        .map(|count| (count.rule.as_str(), (count, false)))
        .collect();
    let mut rows: Vec<Hit> = live_rules
        .into_iter()
        .map(|rule| {
            let count = counts.get_mut(rule.as_str()).map(|(count, named)| {
                *named = true;
                *count
            });
            Hit {
                hits: count.map_or(0, |count| count.hits),
                last_at_ms: count.map(|count| count.last_at_ms),
                rule,
                retired: false,
            }
        })
        .collect();
    for count in counted {
        if counts
            .get(count.rule.as_str())
            .is_some_and(|(_, named)| !named)
        {
            rows.push(Hit {
                rule: count.rule.clone(),
                hits: count.hits,
                last_at_ms: Some(count.last_at_ms),
                retired: true,
            });
        }
    }
    rows
}

/// The hits as a table; rules that never decided are flagged.
pub struct HitsTable<'a>(pub &'a [Hit]);

impl fmt::Display for HitsTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .0
            .iter()
            .map(|hit| hit.rule.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(f, "{:<width$}  {:>6}  last match", "rule", "hits")?;
        for hit in self.0 {
            let last = hit
                .last_at_ms
                .map(utc_text)
                .unwrap_or_else(|| "–".to_owned());
            let flag = if hit.hits == 0 {
                "  ← never matched"
            } else if hit.retired {
                "  (not in the live rules)"
            } else {
                ""
            };
            writeln!(f, "{:<width$}  {:>6}  {last}{flag}", hit.rule, hit.hits)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event: &str, call_id: &str, orig: Option<&str>, at_ms: i64) -> Entry {
        Entry {
            event: event.into(),
            call_id: Some(call_id.into()),
            orig_call_id: orig.map(Into::into),
            at_ms,
            ..Entry::default()
        }
    }

    /// A store of entries answering as `select_linked` does.
    fn linked(store: &[Entry], ids: &[String]) -> Vec<Entry> {
        store
            .iter()
            .filter(|entry| {
                ids.iter().any(|id| {
                    entry.call_id.as_ref() == Some(id) || entry.orig_call_id.as_ref() == Some(id)
                })
            })
            .cloned()
            .collect()
    }

    fn transferred_call() -> Vec<Entry> {
        vec![
            entry("newCall", "A", None, 1_000),
            entry("answer", "A", None, 2_000),
            entry("newCall", "B", Some("A"), 3_000),
            entry("answer", "B", Some("A"), 4_000),
            entry("hangup", "A", None, 5_000),
            entry("hangup", "B", Some("A"), 6_000),
            entry("newCall", "C", Some("B"), 7_000),
            entry("newCall", "unrelated", None, 1_500),
        ]
    }

    fn leg_ids(timeline: &Timeline) -> Vec<&str> {
        timeline
            .legs
            .iter()
            .map(|leg| leg.call_id.as_str())
            .collect()
    }

    fn events(leg: &LegTimeline) -> Vec<&str> {
        leg.pushes.iter().map(|push| push.event.as_str()).collect()
    }

    fn search(store: &[Entry], call_id: &str) -> (Timeline, usize) {
        let mut expansion = Expansion::new(call_id);
        let mut queries = 0;
        while let Some(ids) = expansion.next_query() {
            queries += 1;
            expansion.add(linked(store, &ids));
        }
        (expansion.finish(call_id), queries)
    }

    #[test]
    fn finds_every_leg_from_any_leg() {
        let store = transferred_call();
        for start in ["A", "B", "C"] {
            let (timeline, _) = search(&store, start);
            assert_eq!(leg_ids(&timeline), ["A", "B", "C"], "from {start}");
            assert_eq!(timeline.legs[0].pushes.len(), 3);
            assert_eq!(timeline.legs[1].pushes.len(), 3);
            assert_eq!(timeline.legs[1].orig_call_id.as_deref(), Some("A"));
            assert_eq!(events(&timeline.legs[1]), ["newCall", "answer", "hangup"]);
        }
    }

    #[test]
    fn an_unknown_call_is_empty_after_one_query() {
        let (timeline, queries) = search(&transferred_call(), "nope");
        assert!(timeline.is_empty());
        assert_eq!(queries, 1);
    }

    #[test]
    fn a_cycle_of_ids_ends() {
        let store = vec![
            entry("newCall", "A", Some("B"), 1),
            entry("newCall", "B", Some("A"), 2),
        ];
        let (timeline, queries) = search(&store, "A");
        assert_eq!(timeline.legs.len(), 2);
        assert!(queries <= 3);
    }

    #[test]
    fn a_leg_follows_its_origin_even_within_one_millisecond() {
        let timeline = Timeline::new(
            "B",
            vec![
                entry("newCall", "C", Some("B"), 5),
                entry("newCall", "B", Some("A"), 5),
                entry("newCall", "A", None, 5),
            ],
        );
        assert_eq!(leg_ids(&timeline), ["A", "B", "C"]);
    }

    #[test]
    fn same_moment_pushes_keep_the_call_order() {
        let timeline = Timeline::new(
            "A",
            vec![
                entry("hangup", "A", None, 5),
                entry("answer", "A", None, 5),
                entry("newCall", "A", None, 5),
            ],
        );
        assert_eq!(events(&timeline.legs[0]), ["newCall", "answer", "hangup"]);
    }

    #[test]
    fn the_text_shows_each_leg_and_the_deciding_rule() {
        let mut store = transferred_call();
        store[0].rule = Some("business-hours".into());
        store[0].version = Some(3);
        store[0].answer = Some("dial".into());
        store[0].from = Some("49211*****67".into());
        store[0].to = Some("4921100000".into());
        store[0].direction = Some("in".into());
        store[4].cause = Some("forwarded".into());
        let (timeline, _) = search(&store, "B");
        let text = timeline.to_text();
        assert!(text.starts_with("call B: 3 legs, 7 pushes\n"), "{text}");
        assert!(text.contains("\nleg A\n"), "{text}");
        assert!(
            text.contains("\nleg B (transferred or forwarded from A)\n"),
            "{text}"
        );
        assert!(
            text.contains("1970-01-01 00:00:01.000Z  newCall  49211*****67 → 4921100000 (in); rule business-hours (v3) → dial"),
            "{text}"
        );
        assert!(text.contains("hangup   cause forwarded"), "{text}");
    }

    #[test]
    fn utc_text_is_iso_like() {
        assert_eq!(utc_text(1_796_029_200_123), "2026-11-30 09:00:00.123Z");
        assert_eq!(utc_text(0), "1970-01-01 00:00:00.000Z");
    }

    #[test]
    fn hits_flag_rules_that_never_matched_and_retired_ones() {
        let live = vec!["a".to_owned(), "b".to_owned()];
        let counted = vec![
            RuleCount {
                rule: "a".into(),
                hits: 3,
                last_at_ms: 1_000,
            },
            RuleCount {
                rule: "old".into(),
                hits: 1,
                last_at_ms: 500,
            },
        ];
        let rows = hits(live, &counted);
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].hits, rows[0].retired), (3, false));
        assert_eq!((rows[1].hits, rows[1].last_at_ms), (0, None));
        assert!(rows[2].retired);
        let table = HitsTable(&rows).to_string();
        assert!(
            table.contains("b          0  –  ← never matched"),
            "{table}"
        );
        assert!(
            table.contains("old        1  1970-01-01 00:00:00.500Z  (not in the live rules)"),
            "{table}"
        );
    }
}
