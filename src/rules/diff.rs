//! What changed between two documents, path by path, compared as JSON
//! values so that formatting and key order are not changes.
//!
//! ```text
//! ~ numbers.4921100000[2].then.dial.numbers[1]: "4921100002" → "4921100012"
//! + menus.lunch-break: {"prompt":"https://…","retries":0,…}
//! - lists.blocked
//! ```
//!
//! As JSON (the admin API's `POST rules/diff`, `sipgate-rules diff --json`):
//! `{"op":"changed","path":"numbers.4921100000[2].then.dial.numbers[1]","before":"4921100002","after":"4921100012"}`.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::problem::{parse_json, DocumentError, Problem};
use super::raw::{push_minified, RawDocument};
use super::spec::DocumentSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Added,
    Removed,
    Changed,
}

/// One difference at a JSON path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub op: Op,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// A document read for comparing: its shape checked, its parts slices
/// of the source ([`RawDocument`]). Only parts whose text differs are
/// parsed into values, so two versions of 100,000 numbers that differ in
/// a few are compared in a few MiB, not the GiB their value trees take.
pub struct Document<'s>(RawDocument<'s>);

/// Reads `source` for [`diff`]: a shape error (a field unknown or of the
/// wrong type) is refused at its JSON path.
pub fn document(source: &str) -> Result<Document<'_>, DocumentError> {
    let Some(raw) = RawDocument::parse(source) else {
        return Err(parse_json::<DocumentSpec>(source).err().unwrap_or_else(|| {
            // serde reads a struct from an array too, field by field.
            DocumentError::Syntax(Problem {
                path: String::new(),
                message: "a rules document is a JSON object, each key written once".into(),
            })
        }));
    };
    raw.check_shape()?;
    Ok(Document(raw))
}

/// Every difference from `left` to `right`, in path order, as comparing
/// the two documents' JSON values finds them.
pub fn diff(left: &Document<'_>, right: &Document<'_>) -> Vec<Change> {
    diff_at_most(left, right, usize::MAX).changes
}

/// The differences found, the first `max` of them kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    pub changes: Vec<Change>,
    /// How many there are in all.
    pub total: usize,
    max: usize,
}

impl Changes {
    fn push(&mut self, change: Change) {
        self.total += 1;
        if self.changes.len() < self.max {
            self.changes.push(change);
        }
    }
}

/// The first `max` differences (in path order) and how many there are: a
/// new table against an old one of 100,000 numbers can differ everywhere,
/// and every change carries its values.
pub fn diff_at_most(left: &Document<'_>, right: &Document<'_>, max: usize) -> Changes {
    let (a, b) = (&left.0, &right.0);
    let mut changes = Changes {
        changes: Vec::new(),
        total: 0,
        max,
    };
    // A checked shape has no other keys; these are in path order.
    for key in TOP_LEVEL_KEYS {
        if key != "numbers" {
            raw_pair(key.to_owned(), a.get(key), b.get(key), &mut changes);
        } else if a.has_numbers && b.has_numbers {
            numbers(&a.numbers, &b.numbers, &mut changes);
        } else {
            let all = |document: &RawDocument<'_>| {
                let numbers = document
                    .numbers
                    .iter()
                    .map(|(number, rules)| (number.to_string(), value(rules)));
                document
                    .has_numbers
                    .then(|| Value::Object(numbers.collect()))
            };
            pair(
                key.to_owned(),
                all(a).as_ref(),
                all(b).as_ref(),
                &mut changes,
            );
        }
    }
    changes
}

/// Every key a rules document may have, sorted.
const TOP_LEVEL_KEYS: [&str; 9] = [
    "$schema",
    "calendars",
    "default",
    "expectations",
    "global",
    "lists",
    "menus",
    "numbers",
    "timezone",
];

/// Two sorted lists of numbers' rules, merged.
fn numbers(
    left: &[(Cow<'_, str>, &RawValue)],
    right: &[(Cow<'_, str>, &RawValue)],
    changes: &mut Changes,
) {
    let (mut a, mut b) = (left.iter().peekable(), right.iter().peekable());
    loop {
        let (x, y) = match (a.peek(), b.peek()) {
            (None, None) => return,
            (Some(x), Some(y)) if x.0 == y.0 => (a.next(), b.next()),
            (Some(x), Some(y)) if x.0 < y.0 => (a.next(), None),
            (Some(_), None) => (a.next(), None),
            _ => (None, b.next()),
        };
        let number = x
            .or(y)
            .map(|(number, _)| number.as_ref())
            .unwrap_or_default();
        raw_pair(
            format!("numbers.{number}"),
            x.map(|(_, rules)| *rules),
            y.map(|(_, rules)| *rules),
            changes,
        );
    }
}

/// Compares two parts, parsing them only when their texts differ
/// (ignoring whitespace between tokens).
fn raw_pair(
    path: String,
    left: Option<&RawValue>,
    right: Option<&RawValue>,
    changes: &mut Changes,
) {
    if let (Some(x), Some(y)) = (left, right) {
        if x.get() == y.get() || minified(x) == minified(y) {
            return;
        }
    }
    pair(
        path,
        left.map(value).as_ref(),
        right.map(value).as_ref(),
        changes,
    );
}

fn minified(raw: &RawValue) -> String {
    let mut text = String::with_capacity(raw.get().len());
    push_minified(&mut text, raw.get());
    text
}

/// A part as a value (it was read as JSON already, so it is one).
fn value(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

fn compare(path: String, left: &Value, right: &Value, changes: &mut Changes) {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (left, right) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                pair(at(key), a.get(key), b.get(key), changes);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for index in 0..a.len().max(b.len()) {
                pair(
                    format!("{path}[{index}]"),
                    a.get(index),
                    b.get(index),
                    changes,
                );
            }
        }
        (a, b) if a != b => changes.push(Change {
            op: Op::Changed,
            path,
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
        _ => {}
    }
}

fn pair(path: String, left: Option<&Value>, right: Option<&Value>, changes: &mut Changes) {
    match (left, right) {
        (Some(x), Some(y)) => compare(path, x, y, changes),
        (Some(x), None) => changes.push(Change {
            op: Op::Removed,
            path,
            before: Some(x.clone()),
            after: None,
        }),
        (None, Some(y)) => changes.push(Change {
            op: Op::Added,
            path,
            before: None,
            after: Some(y.clone()),
        }),
        (None, None) => {}
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |value: &Option<Value>| {
            let text = value.as_ref().map(Value::to_string).unwrap_or_default();
            if text.chars().count() > 100 {
                format!("{}…", text.chars().take(100).collect::<String>())
            } else {
                text
            }
        };
        match self.op {
            Op::Added => write!(f, "+ {}: {}", self.path, short(&self.after)),
            Op::Removed => write!(f, "- {}", self.path),
            Op::Changed => write!(
                f,
                "~ {}: {} → {}",
                self.path,
                short(&self.before),
                short(&self.after)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(a: &str, b: &str) -> Vec<Change> {
        diff(&document(a).unwrap(), &document(b).unwrap())
    }

    /// The same as comparing the two documents' whole JSON values.
    fn by_values(a: &str, b: &str) -> Vec<Change> {
        let (a, b): (Value, Value) = (
            serde_json::from_str(a).unwrap(),
            serde_json::from_str(b).unwrap(),
        );
        let mut changes = Changes {
            changes: Vec::new(),
            total: 0,
            max: usize::MAX,
        };
        compare(String::new(), &a, &b, &mut changes);
        changes.changes
    }

    #[test]
    fn only_documents_are_compared() {
        let error = document(r#"{"numbers": {"4921100000": [{"then": {"dail": {}}}]}}"#)
            .err()
            .unwrap();
        assert!(
            error.to_string().starts_with("numbers.4921100000[0].then"),
            "{error}"
        );
    }

    #[test]
    fn formatting_and_key_order_are_not_changes() {
        let a = r#"{"timezone": "Europe/Berlin", "numbers": {"4921100000": [{"id": "a", "then": {"voicemail": {}}}]}}"#;
        let b = "{\"numbers\":{\"4921100000\":[{\"then\":{\"voicemail\":{}},\"id\":\"a\"}]},\n \"timezone\":\"Europe/Berlin\"}";
        assert_eq!(changes(a, b), Vec::new());
        // Escapes are text, not values.
        let escaped = r#"{"timezone": "Europe/\u0042erlin", "numbers": {"4921100000": [{"id": "\u0061", "then": {"voicemail": {}}}]}}"#;
        assert_eq!(changes(a, escaped), Vec::new());
    }

    #[test]
    fn each_change_is_named_by_its_path() {
        let a = r#"{"numbers": {"4921100000": [{"id": "a", "then": {"dial": {"numbers": ["4915790000001"]}}}]}}"#;
        let b = r#"{"numbers": {"4921100000": [{"id": "a", "then": {"dial": {"numbers": ["4915790000002", "4915790000003"]}}}]}, "lists": {"vip": ["4930123"]}}"#;
        let lines: Vec<String> = changes(a, b).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "+ lists: {\"vip\":[\"4930123\"]}",
                "~ numbers.4921100000[0].then.dial.numbers[0]: \"4915790000001\" → \"4915790000002\"",
                "+ numbers.4921100000[0].then.dial.numbers[1]: \"4915790000003\"",
            ]
        );
        let back: Vec<Op> = changes(b, a).iter().map(|change| change.op).collect();
        assert_eq!(back, [Op::Removed, Op::Changed, Op::Removed]);
    }

    #[test]
    fn part_by_part_finds_what_the_whole_values_differ_in() {
        let rule =
            |id: &str, then: &str| format!(r#"[{{"id": "{id}", "then": {{"{then}": {{}}}}}}]"#);
        let documents = [
            "{}".to_owned(),
            r#"{"$schema": "a", "numbers": {}}"#.to_owned(),
            format!(
                r#"{{"numbers": {{"4921100000": {}, "4921100002": {}}}}}"#,
                rule("a", "voicemail"),
                rule("b", "proceed")
            ),
            format!(
                r#"{{"numbers": {{"4921100001": {}, "4921100002": {}}}, "default": {}}}"#,
                rule("a", "reject"),
                rule("b", "proceed"),
                rule("d", "proceed")
            ),
            format!(
                r#"{{"timezone": "UTC", "numbers": {{"4921100002": {}, "4921100009": {}}}}}"#,
                rule("c", "proceed"),
                rule("e", "voicemail")
            ),
            format!(
                r#"{{"$schema": "b", "lists": {{"x": ["49*"]}}, "numbers": {{"4921100000": {}}}}}"#,
                rule("a", "voicemail")
            ),
        ];
        for a in &documents {
            for b in &documents {
                assert_eq!(changes(a, b), by_values(a, b), "{a} → {b}");
            }
        }
    }

    #[test]
    fn only_rules_documents_are_compared() {
        assert!(document("[]").is_err());
        assert!(document(r#"{"default": [], "default": []}"#).is_err());
        let error = document(r#"{"timezone": 5}"#).err().unwrap();
        assert_eq!(error.problems()[0].path, "timezone");
    }
}
