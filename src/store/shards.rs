//! A document taken apart into the shards the worker reads — and checked
//! shard by shard — without ever being built whole.
//!
//! A Worker's isolate has 128 MB. A document of 100,000 numbers is tens of
//! MiB of JSON, and as a tree of values or typed rules it is ten to twenty
//! times that. So the document's top-level entries and each number's rules
//! stay slices of the source ([`RawValue`]); a shard is written out from
//! them when it is needed, checked or stored, and dropped:
//!
//! ```text
//! source  {"timezone":"Europe/Berlin","lists":{…},"numbers":{"+4921…":[…],"4922…":[…]},"global":[…]}
//! shard 3 {"timezone":"Europe/Berlin","lists":{…},"global":[…],"numbers":{"+4921…":[…]}}
//! ```
//!
//! Each shard is a complete document: everything shared, and the numbers
//! that hash to it (FNV-1a of the digits) under their keys as written, in
//! the order a parsed document has them. Whitespace outside strings is
//! dropped. Checking every shard checks every part of the document the
//! worker will use — at the same JSON paths — except that rule ids are
//! unique across shards, which [`Sharded::check`] does in one pass of its
//! own over the ids alone.

use std::borrow::Cow;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::value::RawValue;

use super::layout::{shard_count, shard_of, RulesFormat};
use crate::protocol::url::SelfUrl;
use crate::rules::check::{duplicate_id, load_shard, Place, Report};
use crate::rules::expect::{self, ExpectationSpec};
use crate::rules::problem::{Checker, DocumentError, Problem};
use crate::rules::raw::{push_key, push_minified, rule_ids, RawDocument};
use crate::rules::{compact, RuleSet};

/// A document's parts, borrowed from its source, grouped by shard.
pub struct Sharded<'s> {
    /// Read whole only for the worker's report of a shape error.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    source: &'s str,
    raw: RawDocument<'s>,
    /// The top-level entries but `numbers` and `$schema`, written out once:
    /// `"timezone":"Europe/Berlin","lists":{…}`.
    shared: String,
    /// (shard, index into the numbers), sorted: shard after shard. The
    /// same type as the rule ids' (hash, place): one sort in the wasm.
    order: Vec<(u64, u64)>,
    shards: u32,
}

/// What checking a document shard by shard found.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardedReport {
    pub report: Report,
    /// The largest shard: its number and size in bytes.
    pub largest: (u32, usize),
}

impl<'s> Sharded<'s> {
    /// Takes `source` apart; `None` when it is not a JSON object with each
    /// top-level key once and `numbers` (if any) an object — a document no
    /// check can pass, which [`check_source`] reads whole to say why.
    pub fn parse(source: &'s str) -> Option<Sharded<'s>> {
        let raw = RawDocument::parse(source)?;
        let mut shared = String::new();
        // `$schema` and the expectations: a push has no use for them.
        let pushes_need = |key: &str| key != "$schema" && key != "expectations";
        for (key, value) in raw.entries.iter().filter(|(key, _)| pushes_need(key)) {
            if !shared.is_empty() {
                shared.push(',');
            }
            push_key(&mut shared, key);
            shared.push(':');
            push_minified(&mut shared, value.get());
        }
        let count = shard_count(raw.numbers.len());
        // Sorted by shard, and within a shard by entry: in key order.
        let mut order: Vec<(u64, u64)> = raw
            .numbers
            .iter()
            .enumerate()
            .map(|(entry, (number, _))| {
                let digits = number.strip_prefix('+').unwrap_or(number);
                (u64::from(shard_of(digits, count)), entry as u64)
            })
            .collect();
        order.sort_unstable();
        Some(Sharded {
            source,
            raw,
            shared,
            order,
            shards: count,
        })
    }

    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// How many numbers have rules.
    pub fn numbers(&self) -> usize {
        self.raw.numbers.len()
    }

    /// Shard `shard` as it is stored: a complete, compact document.
    pub fn shard(&self, shard: u32) -> String {
        let size: usize = self
            .numbers_of(shard)
            .map(|(number, rules)| number.len() + rules.get().len() + 4)
            .sum();
        let mut text = String::with_capacity(self.shared.len() + size + 16);
        text.push('{');
        text.push_str(&self.shared);
        if !self.shared.is_empty() {
            text.push(',');
        }
        text.push_str("\"numbers\":{");
        for (n, (number, rules)) in self.numbers_of(shard).enumerate() {
            if n > 0 {
                text.push(',');
            }
            push_key(&mut text, number);
            text.push(':');
            push_minified(&mut text, rules.get());
        }
        text.push_str("}}");
        text
    }

    /// Shard `shard` as publish stores it in `format`: its rules compiled,
    /// in [`compact`]'s encoding (format 2), or its JSON (format 1). `Err`
    /// only for a document that does not pass [`Sharded::check`].
    pub fn stored(&self, shard: u32, format: RulesFormat) -> Result<String, DocumentError> {
        if format == RulesFormat::JSON {
            return Ok(self.shard(shard));
        }
        load_shard(&self.shard(shard)).map(|checked| compact::encode(&checked.rules))
    }

    /// The numbers of shard `shard`, in key order.
    fn numbers_of(&self, shard: u32) -> impl Iterator<Item = &(Cow<'s, str>, &'s RawValue)> {
        let shard = u64::from(shard);
        let start = self.order.partition_point(|(of, _)| *of < shard);
        let end = self.order.partition_point(|(of, _)| *of <= shard);
        self.order
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .filter_map(|(_, entry)| self.raw.numbers.get(*entry as usize))
    }

    /// Checks every shard as the worker will load it, and the rule ids
    /// across them: every problem (sorted by path, each once), and the
    /// size of the largest shard as stored, in either format.
    pub fn check(&self) -> ShardedReport {
        let (mut errors, mut warnings, mut shape) = (Vec::new(), Vec::new(), Vec::new());
        let mut largest = (0, 0);
        for shard in 0..self.shards() {
            let text = self.shard(shard);
            if text.len() > largest.1 {
                largest = (shard, text.len());
            }
            match load_shard(&text) {
                Ok(checked) => {
                    let compiled = compact::encode(&checked.rules).len();
                    if compiled > largest.1 {
                        largest = (shard, compiled);
                    }
                    warnings.extend(checked.warnings);
                }
                Err(DocumentError::Invalid(problems)) => errors.extend(problems),
                Err(DocumentError::Syntax(problem)) => shape.push(Problem {
                    // The line and column are the shard's, which nobody has
                    // seen; the path says where it is in the document.
                    message: without_position(&problem.message).to_owned(),
                    path: problem.path,
                }),
            }
        }
        for number in &self.raw.written_twice {
            shape.push(Problem {
                path: format!("numbers.{number}"),
                message: "is written more than once: JSON keeps only the last, and the rules \
                          before it were not read"
                    .into(),
            });
        }
        // `$schema` is left out of the shards (a push has no use for it):
        // its shape is checked here.
        if let Some(schema) = self.raw.get("$schema") {
            if let Err(error) = serde_json::from_str::<String>(schema.get()) {
                shape.push(Problem {
                    path: "$schema".into(),
                    message: without_position(&error.to_string()).to_owned(),
                });
            }
        }
        let complete = shape.is_empty();
        // The worker's parser names no JSON path, only a line and column —
        // of the shard, which nobody has seen: there, the document's own
        // first shape error (reading it whole, on this failing path only).
        #[cfg(target_arch = "wasm32")]
        if !complete {
            if let Err(DocumentError::Syntax(problem)) = crate::rules::check::load(self.source) {
                shape = vec![problem];
            }
        }
        let expectations = self.expectations(&mut shape);
        errors.extend(shape);
        let mut checker = Checker::default();
        self.check_unique_ids(&mut checker, hash);
        expect::check_spec(&expectations, &mut checker);
        errors.extend(checker.errors);
        for problems in [&mut errors, &mut warnings] {
            problems.sort();
            problems.dedup();
        }
        // Run only on a document without errors: they are about its rules.
        let expectations = if errors.is_empty() {
            self.run_expectations(&expectations)
        } else {
            Vec::new()
        };
        ShardedReport {
            report: Report {
                errors,
                warnings,
                complete,
                expectations,
            },
            largest,
        }
    }

    /// The document's expectations, read; a shape problem of theirs goes
    /// to `shape` (they are not in the shards, which checked the rest).
    fn expectations(&self, shape: &mut Vec<Problem>) -> Vec<ExpectationSpec> {
        let Some(raw) = self.raw.get("expectations") else {
            return Vec::new();
        };
        match crate::rules::problem::parse_json::<Vec<ExpectationSpec>>(raw.get()) {
            Ok(specs) => specs,
            Err(error) => {
                shape.extend(error.problems().iter().map(|problem| Problem {
                    path: if problem.path.is_empty() {
                        "expectations".to_owned()
                    } else {
                        format!("expectations{}", in_list(&problem.path))
                    },
                    message: without_position(&problem.message).to_owned(),
                }));
                Vec::new()
            }
        }
    }

    /// Runs each expectation against the shard of its call's number,
    /// compiling each shard needed once.
    fn run_expectations(&self, specs: &[ExpectationSpec]) -> Vec<expect::Outcome> {
        let Some(base) = SelfUrl::from_request_url("https://router.invalid/") else {
            return Vec::new();
        };
        let mut compiled: Vec<(u32, Option<RuleSet>)> = Vec::new();
        specs
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let number = spec.call.sipgate_number().unwrap_or_default();
                let shard = shard_of(&number, self.shards());
                if !compiled.iter().any(|(known, _)| *known == shard) {
                    let rules = load_shard(&self.shard(shard))
                        .ok()
                        .map(|checked| checked.rules);
                    compiled.push((shard, rules));
                }
                match compiled.iter().find(|(known, _)| *known == shard) {
                    Some((_, Some(rules))) => expect::run(index, spec, rules, &base),
                    _ => expect::Outcome {
                        path: format!("expectations[{index}]"),
                        name: spec.name.clone(),
                        passed: false,
                        expected: String::new(),
                        got: "its number's rules cannot be read".to_owned(),
                        trace: None,
                    },
                }
            })
            .collect()
    }

    /// Rule ids are unique in the whole document (a trace names rules by
    /// them). A map of every id would be tens of MiB for 100,000 numbers;
    /// this sorts a hash and a place per rule (16 bytes), and reads ids
    /// back from the source only where hashes are equal — each duplicate
    /// named against its id's first place in document order (global,
    /// numbers, default), as a parsed document's check names it.
    fn check_unique_ids(&self, checker: &mut Checker, hash: fn(&str) -> u64) {
        let global = rule_ids(self.raw.get("global"));
        let default = rule_ids(self.raw.get("default"));
        let mut seen: Vec<(u64, u64)> = Vec::new();
        let mut add = |ids: &[Option<Cow<'_, str>>], place: &dyn Fn(usize) -> RulePlace| {
            for (index, id) in ids.iter().enumerate() {
                if let Some(id) = id {
                    seen.push((hash(id), place(index).0));
                }
            }
        };
        add(&global, &RulePlace::global);
        for (entry, (_, rules)) in self.raw.numbers.iter().enumerate() {
            add(&rule_ids(Some(rules)), &|index| {
                RulePlace::number(entry, index)
            });
        }
        add(&default, &RulePlace::default);
        seen.sort_unstable();
        for same_hash in seen
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|group| group.len() > 1)
        {
            // In document order: each id's first place, then its repeats.
            let mut firsts: Vec<(Cow<'_, str>, RulePlace)> = Vec::new();
            for (_, place) in same_hash {
                let place = &RulePlace(*place);
                let ids = match place.unpack() {
                    Unpacked::Global(_) => Cow::Borrowed(&global),
                    Unpacked::Default(_) => Cow::Borrowed(&default),
                    Unpacked::Number(entry, _) => Cow::Owned(rule_ids(
                        self.raw.numbers.get(entry).map(|(_, rules)| *rules),
                    )),
                };
                let Some(Some(id)) = ids.get(place.index()).cloned() else {
                    continue;
                };
                match firsts.iter().find(|(other, _)| *other == id) {
                    Some((_, first)) => {
                        duplicate_id(checker, &id, self.place(*place), self.place(*first))
                    }
                    None => firsts.push((id, *place)),
                }
            }
        }
    }

    fn place(&self, place: RulePlace) -> Place<'_> {
        match place.unpack() {
            Unpacked::Global(index) => Place::Global(index),
            Unpacked::Number(entry, index) => {
                let number = self.raw.numbers.get(entry).map_or("", |(number, _)| number);
                Place::Number(number, index)
            }
            Unpacked::Default(index) => Place::Default(index),
        }
    }
}

/// Checks a document as the worker will load it, shard by shard: what
/// `check`, `POST rules/check` and every publish report.
pub fn check_source(source: &str) -> ShardedReport {
    if let Some(sharded) = Sharded::parse(source) {
        return sharded.check();
    }
    let mut report = Report::of(&crate::rules::check::load(source));
    if report.errors.is_empty() {
        // serde reads a struct from an array too, field by field.
        report.errors.push(Problem {
            path: String::new(),
            message: "a rules document is a JSON object, each key written once".into(),
        });
        report.warnings.clear();
    }
    ShardedReport {
        report,
        largest: (0, source.len()),
    }
}

/// A path inside the expectations list as a continuation of `expectations`.
fn in_list(path: &str) -> String {
    if path.starts_with('[') {
        path.to_owned()
    } else {
        format!(".{path}")
    }
}

/// serde_json's message without its ` at line 1 column 42`.
fn without_position(message: &str) -> &str {
    match message.rsplit_once(" at line ") {
        Some((text, position))
            if position
                .split_once(" column ")
                .is_some_and(|(line, column)| {
                    [line, column]
                        .iter()
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                }) =>
        {
            text
        }
        _ => message,
    }
}

/// A rule's place in 8 bytes, ordered as the document is read: global,
/// numbers (by their index in [`RawDocument::numbers`]), default.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RulePlace(u64);

enum Unpacked {
    Global(usize),
    Number(usize, usize),
    Default(usize),
}

impl RulePlace {
    const NUMBER: u64 = 1 << 62;
    const DEFAULT: u64 = 2 << 62;
    /// Bits of a rule's index in its number's list (a rule takes more
    /// than 4 bytes of JSON, so a list in a document of under 64 GiB fits).
    const INDEX_BITS: u32 = 24;

    fn global(index: usize) -> RulePlace {
        RulePlace(index as u64)
    }

    fn number(entry: usize, index: usize) -> RulePlace {
        RulePlace(Self::NUMBER | (entry as u64) << Self::INDEX_BITS | index as u64)
    }

    fn default(index: usize) -> RulePlace {
        RulePlace(Self::DEFAULT | index as u64)
    }

    fn index(self) -> usize {
        match self.unpack() {
            Unpacked::Global(index) | Unpacked::Number(_, index) | Unpacked::Default(index) => {
                index
            }
        }
    }

    fn unpack(self) -> Unpacked {
        let value = self.0 & !(3 << 62);
        match self.0 >> 62 {
            0 => Unpacked::Global(value as usize),
            1 => Unpacked::Number(
                (value >> Self::INDEX_BITS) as usize,
                (value & ((1 << Self::INDEX_BITS) - 1)) as usize,
            ),
            _ => Unpacked::Default(value as usize),
        }
    }
}

/// SipHash with fixed keys: the same in every run, which a map's random
/// state is not (and need not be here).
fn hash(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::check::load;
    use crate::store::layout::NUMBERS_PER_SHARD;

    const OFFICE: &str = include_str!("../../examples/office.json");

    /// `numbers` numbers, each with a rule whose id is `rule-N`.
    fn table(numbers: usize) -> String {
        let entries: Vec<String> = (0..numbers)
            .map(|n| {
                format!(
                    r#""+4921{n:07}": [ {{ "id": "rule-{n}", "then": {{ "proceed": {{}} }} }} ]"#
                )
            })
            .collect();
        format!(
            "{{\n  \"$schema\": \"x\",\n  \"numbers\": {{ {} }},\n  \"default\": [ {{ \"id\": \"default\", \"then\": {{ \"proceed\": {{}} }} }} ]\n}}",
            entries.join(",\n    ")
        )
    }

    #[test]
    fn every_number_is_in_the_shard_it_hashes_to_and_every_shard_loads() {
        let source = table(1000);
        let sharded = Sharded::parse(&source).unwrap();
        assert_eq!(sharded.numbers(), 1000);
        assert_eq!(sharded.shards(), shard_count(1000));
        let mut seen = 0;
        for shard in 0..sharded.shards() {
            let text = sharded.shard(shard);
            assert!(
                !text.contains(' ') && !text.contains('\n'),
                "compact: {text}"
            );
            assert!(!text.contains("$schema"));
            let rules = load(&text).unwrap().rules;
            assert!(rules.numbers.len() <= NUMBERS_PER_SHARD * 2);
            for number in rules.numbers.keys() {
                assert_eq!(shard_of(number, sharded.shards()), shard);
            }
            seen += rules.numbers.len();
        }
        assert_eq!(seen, 1000);
    }

    #[test]
    fn a_valid_document_checks_as_its_whole_check_does() {
        let mut report = check_source(OFFICE).report;
        // The expectations are run by this check only (they need the
        // compiled shard of each call's number).
        let expectations = std::mem::take(&mut report.expectations);
        assert_eq!(report, Report::of(&load(OFFICE)));
        assert!(report.errors.is_empty());
        assert_eq!(expectations.len(), 13);
        assert!(expectations.iter().all(|outcome| outcome.passed));
        // No shard carries them: a push has no use for them.
        let sharded = Sharded::parse(OFFICE).unwrap();
        assert!((0..sharded.shards()).all(|shard| !sharded.shard(shard).contains("expectations")));
    }

    #[test]
    fn problems_are_reported_once_at_the_documents_paths() {
        let mut document: serde_json::Value = serde_json::from_str(&table(400)).unwrap();
        document["timezone"] = "Mars/Olympus".into();
        document["numbers"]["+49210000007"][0]["then"] =
            serde_json::json!({ "dial": { "numbers": ["0"] } });
        let report = check_source(&document.to_string()).report;
        let paths: Vec<&str> = report
            .errors
            .iter()
            .map(|problem| problem.path.as_str())
            .collect();
        assert_eq!(
            paths,
            ["numbers.+49210000007[0].then.dial.numbers[0]", "timezone"],
            "{report:?}"
        );
        assert!(report.complete);
    }

    #[test]
    fn shape_errors_of_several_shards_are_all_reported() {
        let mut document: serde_json::Value = serde_json::from_str(&table(400)).unwrap();
        let numbers = [
            "+49210000001",
            "+49210000002",
            "+49210000003",
            "+49210000399",
        ];
        for number in numbers {
            document["numbers"][number][0]["tehn"] = serde_json::json!({});
        }
        let report = check_source(&document.to_string()).report;
        assert!(!report.complete);
        let shards: std::collections::HashSet<u32> = numbers
            .iter()
            .map(|number| shard_of(&number[1..], shard_count(400)))
            .collect();
        // One shape error per shard it stops (a shard's parser stops at its first).
        assert_eq!(report.errors.len(), shards.len(), "{report:?}");
        assert!(report
            .errors
            .iter()
            .all(|problem| problem.message.contains("unknown field `tehn`")));
    }

    #[test]
    fn rule_ids_are_unique_across_shards() {
        let mut document: serde_json::Value = serde_json::from_str(&table(1000)).unwrap();
        document["numbers"]["+49210000999"][0]["id"] = "rule-3".into();
        document["default"][0]["id"] = "rule-5".into();
        let report = check_source(&document.to_string()).report;
        let whole = Report::of(&load(&document.to_string()));
        let mut expected = whole.errors.clone();
        expected.sort();
        assert_eq!(report.errors, expected);
        assert_eq!(
            report.errors,
            [
                Problem {
                    path: "default[0].id".into(),
                    message: "\"rule-5\" is already the id of numbers.+49210000005[0]".into()
                },
                Problem {
                    path: "numbers.+49210000999[0].id".into(),
                    message: "\"rule-3\" is already the id of numbers.+49210000003[0]".into()
                },
            ]
        );
    }

    #[test]
    fn ids_whose_hashes_meet_are_told_apart() {
        // Every id the same hash: distinct ids are not duplicates, and the
        // duplicates are still found, against their first place.
        let mut document: serde_json::Value = serde_json::from_str(&table(300)).unwrap();
        document["numbers"]["+49210000299"][0]["id"] = "rule-7".into();
        document["numbers"]["+49210000298"][0]["id"] = "rule-7".into();
        document["default"][0]["id"] = "rule-0".into();
        let source = document.to_string();
        let sharded = Sharded::parse(&source).unwrap();
        let (mut same, mut real) = (Checker::default(), Checker::default());
        sharded.check_unique_ids(&mut same, |_| 7);
        sharded.check_unique_ids(&mut real, hash);
        same.errors.sort();
        real.errors.sort();
        assert_eq!(same.errors, real.errors);
        let messages: Vec<String> = real.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "default[0].id: \"rule-0\" is already the id of numbers.+49210000000[0]",
                "numbers.+49210000298[0].id: \"rule-7\" is already the id of numbers.+49210000007[0]",
                "numbers.+49210000299[0].id: \"rule-7\" is already the id of numbers.+49210000007[0]",
            ]
        );
    }

    #[test]
    fn the_schema_left_out_of_the_shards_is_still_checked() {
        let source = r#"{"$schema": {"x": 1}, "default": [{"then": {"proceed": {}}}]}"#;
        assert!(load(source).is_err());
        let report = check_source(source).report;
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert_eq!(report.errors[0].path, "$schema");
        assert_eq!(
            report.errors[0].message,
            "invalid type: map, expected a string"
        );
        assert!(!report.complete);
        assert!(check_source(r#"{"$schema": "x.json"}"#)
            .report
            .errors
            .is_empty());
    }

    #[test]
    fn a_number_written_twice_is_an_error_parsing_alone_would_hide() {
        let source = r#"{"numbers":{"+4921100000":[{"id":"a","then":{"rejekt":{}}}],"+4921100000":[{"id":"b","then":{"proceed":{}}}]}}"#;
        // serde keeps the last, and the typo before it goes unread.
        assert!(
            load(source).is_err(),
            "serde reads every value, even one it drops"
        );
        let sharded = Sharded::parse(source).unwrap();
        assert_eq!(sharded.numbers(), 1);
        assert!(sharded.shard(0).contains(r#""id":"b""#));
        let report = sharded.check().report;
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert_eq!(report.errors[0].path, "numbers.+4921100000");
        assert!(report.errors[0]
            .message
            .starts_with("is written more than once"));
        assert!(!report.complete);
    }

    #[test]
    fn what_cannot_be_taken_apart_is_checked_whole() {
        for source in ["{", r#"{"numbers":[]}"#, r#"{"default":[],"default":[]}"#] {
            assert!(Sharded::parse(source).is_none(), "{source}");
            let report = check_source(source).report;
            assert_eq!(report, Report::of(&load(source)), "{source}");
            assert!(!report.errors.is_empty(), "{source}: {report:?}");
        }
        // Parsing alone would take an array for the document, field by field.
        assert!(load("[]").is_ok());
        let report = check_source("[]").report;
        assert_eq!(
            report.errors[0].message,
            "a rules document is a JSON object, each key written once"
        );
    }
}
