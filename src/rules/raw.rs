//! A rules document as slices of its source: its top-level entries and
//! each number's rules unparsed ([`RawValue`]), so a document of 100,000
//! numbers — tens of MiB of JSON, ten to twenty times that as a tree of
//! values or typed rules — can be checked, sharded and compared in a
//! Worker's 128 MB isolate, one part at a time.
//!
//! ```text
//! {"timezone":"Europe/Berlin","lists":{…},"numbers":{"+4921…":[…],"4922…":[…]},"default":[…]}
//!  └─ entries: ("timezone", "\"Europe/Berlin\""), ("lists", "{…}"), ("default", "[…]")
//!     numbers: ("+4921…", "[…]"), ("4922…", "[…]")   sorted by key, as a parsed document
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::problem::{parse_json, DocumentError, Problem};
use super::spec::{DocumentSpec, RuleSpec};

/// A document's parts, borrowed from its source.
pub struct RawDocument<'s> {
    /// The top-level entries but `numbers`, in source order.
    pub entries: Vec<(Cow<'s, str>, &'s RawValue)>,
    /// Each number's rules, sorted by key as a parsed document holds them;
    /// of a key written twice, the last (as a parsed document keeps it).
    pub numbers: Vec<(Cow<'s, str>, &'s RawValue)>,
    /// Whether the document has a `numbers` entry at all.
    pub has_numbers: bool,
    /// Keys written more than once in `numbers`: JSON keeps the last, and
    /// the earlier rules are lost unread — almost always a mistake.
    pub written_twice: Vec<Cow<'s, str>>,
}

impl<'s> RawDocument<'s> {
    /// `None` when `source` is not a JSON object with each top-level key
    /// once and `numbers` (if any) an object: no document at all, which
    /// reading it whole ([`crate::rules::check::load`]) says why.
    pub fn parse(source: &'s str) -> Option<RawDocument<'s>> {
        let Entries(all) = serde_json::from_str(source).ok()?;
        let mut entries: Vec<(Cow<'s, str>, &'s RawValue)> = Vec::with_capacity(all.len());
        let mut numbers = None;
        for (key, value) in all {
            if key == "numbers" && numbers.is_none() {
                numbers = Some(serde_json::from_str::<Entries>(value.get()).ok()?.0);
            } else if key == "numbers" || entries.iter().any(|(other, _)| *other == key) {
                return None;
            } else {
                entries.push((key, value));
            }
        }
        let has_numbers = numbers.is_some();
        let mut numbers = numbers.unwrap_or_default();
        // A stable sort: of a key written twice, the later stays later.
        numbers.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut written_twice = Vec::new();
        numbers.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(later, earlier);
                if written_twice.last() != Some(&earlier.0) {
                    written_twice.push(earlier.0.clone());
                }
            }
            same
        });
        Some(RawDocument {
            entries,
            numbers,
            has_numbers,
            written_twice,
        })
    }

    /// A top-level entry.
    pub fn get(&self, key: &str) -> Option<&'s RawValue> {
        self.entries
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| *value)
    }

    /// Every rule's name — its id, or its place (`numbers.4921100000[1]`)
    /// — in the order of [`RuleSet::rule_ids`](super::model::RuleSet::rule_ids):
    /// global, numbers by their digits, default. Only the ids are read.
    pub fn rule_names(&self) -> Vec<String> {
        // Sorted by key, `+` before digits: the two runs merged are in
        // the order of their digits.
        let split = self
            .numbers
            .partition_point(|(number, _)| number.starts_with('+'));
        let (plus, plain) = self.numbers.split_at(split);
        let (mut plus, mut plain) = (plus.iter().peekable(), plain.iter().peekable());
        let numbers = std::iter::from_fn(|| match (plus.peek(), plain.peek()) {
            (Some(a), Some(b)) if a.0.get(1..) <= Some(b.0.as_ref()) => plus.next(),
            (Some(_), None) => plus.next(),
            _ => plain.next(),
        });
        let mut names = Vec::new();
        let mut add = |rules: Option<&RawValue>, place: &dyn Fn(usize) -> String| {
            for (index, id) in rule_ids(rules).into_iter().enumerate() {
                names.push(id.map_or_else(|| place(index), Cow::into_owned));
            }
        };
        add(self.get("global"), &|index| format!("global[{index}]"));
        for (number, rules) in numbers {
            add(Some(rules), &|index| format!("numbers.{number}[{index}]"));
        }
        add(self.get("default"), &|index| format!("default[{index}]"));
        names
    }

    /// The first shape error (a field unknown or of the wrong type), at its
    /// JSON path, reading one part at a time: everything but the numbers
    /// as a document, then each number's rules.
    pub fn check_shape(&self) -> Result<(), DocumentError> {
        let mut shared = String::from("{");
        for (index, (key, value)) in self.entries.iter().enumerate() {
            if index > 0 {
                shared.push(',');
            }
            push_key(&mut shared, key);
            shared.push(':');
            shared.push_str(value.get());
        }
        shared.push('}');
        parse_json::<DocumentSpec>(&shared)?;
        for (number, rules) in &self.numbers {
            parse_json::<Vec<RuleSpec>>(rules.get()).map_err(|error| match error {
                DocumentError::Syntax(problem) => DocumentError::Syntax(Problem {
                    path: format!("numbers.{number}{}", problem.path),
                    message: problem.message,
                }),
                other => other,
            })?;
        }
        Ok(())
    }
}

/// The ids of a list of rules (`None` for a rule without one); empty when
/// the list is not a list of objects (a check of its shape says why).
pub fn rule_ids(rules: Option<&RawValue>) -> Vec<Option<Cow<'_, str>>> {
    #[derive(Deserialize)]
    struct Rule<'a> {
        #[serde(borrow, default)]
        id: Option<Cow<'a, str>>,
    }
    rules
        .and_then(|rules| serde_json::from_str::<Vec<Rule<'_>>>(rules.get()).ok())
        .map(|rules| rules.into_iter().map(|rule| rule.id).collect())
        .unwrap_or_default()
}

/// A JSON object's entries, in order, the values unparsed.
struct Entries<'s>(Vec<(Cow<'s, str>, &'s RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Entries<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((Key(key), value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Object)
    }
}

/// A key, borrowed from the source unless it has escapes.
struct Key<'s>(Cow<'s, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// Writes `key` as a JSON string.
pub fn push_key(out: &mut String, key: &str) {
    if key
        .bytes()
        .all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\')
    {
        out.push('"');
        out.push_str(key);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(key).unwrap_or_default());
    }
}

/// Appends `json` (valid JSON) without the whitespace between its tokens.
pub fn push_minified(out: &mut String, json: &str) {
    let (mut start, mut in_string, mut escaped) = (0, false, false);
    for (at, byte) in json.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if byte == b'"' {
            in_string = true;
        } else if matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
            // ASCII: always a character boundary.
            out.push_str(&json[start..at]);
            start = at + 1;
        }
    }
    out.push_str(&json[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::check::load;

    const EXAMPLES: [&str; 2] = [
        include_str!("../../examples/office.json"),
        include_str!("../../examples/hotline.json"),
    ];

    #[test]
    fn rule_names_are_the_compiled_rules_ids() {
        let unnamed = r#"{"global": [{"then": {"proceed": {}}}],
            "numbers": {"+4921100009": [{"id": "x", "then": {"reject": {}}}, {"then": {"voicemail": {}}}],
                        "4921100001": [{"then": {"voicemail": {}}}]},
            "default": [{"then": {"proceed": {}}}]}"#;
        for source in EXAMPLES.into_iter().chain([unnamed]) {
            let compiled = load(source).unwrap().rules;
            assert_eq!(
                RawDocument::parse(source).unwrap().rule_names(),
                compiled.rule_ids(),
                "{source}"
            );
        }
    }

    #[test]
    fn a_shape_error_is_found_at_its_path_part_by_part() {
        for source in EXAMPLES {
            assert_eq!(RawDocument::parse(source).unwrap().check_shape(), Ok(()));
        }
        let rules = r#"{"lists": {}, "numbers": {"4921100000": [{"then": {"proceed": {}}}, {"then": {"dail": {}}}]}}"#;
        let problem = RawDocument::parse(rules)
            .unwrap()
            .check_shape()
            .unwrap_err()
            .problems()[0]
            .clone();
        assert_eq!(problem.path, "numbers.4921100000[1].then");
        assert!(
            problem.message.contains("unknown variant `dail`"),
            "{problem}"
        );
        let shared = r#"{"menus": {"m": {"prompt": 5}}, "numbers": {}}"#;
        let problem = RawDocument::parse(shared)
            .unwrap()
            .check_shape()
            .unwrap_err()
            .problems()[0]
            .clone();
        assert_eq!(problem.path, "menus.m.prompt");
    }

    #[test]
    fn parts_are_slices_of_the_source_and_keys_are_decoded() {
        let source =
            r#"{"timezone": "UTC", "numbers": {"4921100002": [], "\u0034921100001": [1]}}"#;
        let document = RawDocument::parse(source).unwrap();
        assert!(document.has_numbers);
        assert_eq!(document.get("timezone").unwrap().get(), r#""UTC""#);
        let keys: Vec<&str> = document
            .numbers
            .iter()
            .map(|(key, _)| key.as_ref())
            .collect();
        assert_eq!(keys, ["4921100001", "4921100002"]);
        assert!(matches!(document.numbers[1].0, Cow::Borrowed(_)));
        assert!(matches!(document.numbers[0].0, Cow::Owned(_)));
    }

    #[test]
    fn minifying_keeps_strings_whole() {
        let mut out = String::new();
        push_minified(
            &mut out,
            "{ \"a b\" : [ 1 ,\n\t\"c \\\" d\" ] , \"é\\\\\" : \" \" }",
        );
        assert_eq!(out, r#"{"a b":[1,"c \" d"],"é\\":" "}"#);
        let mut key = String::new();
        push_key(&mut key, "a\"b");
        assert_eq!(key, r#""a\"b""#);
    }
}
