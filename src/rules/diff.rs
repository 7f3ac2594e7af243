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

use super::problem::{parse_json, DocumentError};
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

/// A document's JSON value, once it has the shape of a rules document.
///
/// The value, not the typed document: turning the typed document back into
/// a value would put a copy of every spec type's code into the wasm.
pub fn document(source: &str) -> Result<Value, DocumentError> {
    parse_json::<DocumentSpec>(source)?;
    parse_json(source)
}

/// Every difference from `left` to `right` (see [`document`]), in path order.
pub fn diff(left: &Value, right: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    compare(String::new(), left, right, &mut changes);
    changes
}

fn compare(path: String, left: &Value, right: &Value, changes: &mut Vec<Change>) {
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

fn pair(path: String, left: Option<&Value>, right: Option<&Value>, changes: &mut Vec<Change>) {
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

    fn spec(json: &str) -> Value {
        document(json).unwrap()
    }

    #[test]
    fn only_documents_are_compared() {
        let error =
            document(r#"{"numbers": {"4921100000": [{"then": {"dail": {}}}]}}"#).unwrap_err();
        assert!(
            error.to_string().starts_with("numbers.4921100000[0].then"),
            "{error}"
        );
    }

    #[test]
    fn formatting_and_key_order_are_not_changes() {
        let a = spec(
            r#"{"timezone": "Europe/Berlin", "numbers": {"4921100000": [{"id": "a", "then": {"voicemail": {}}}]}}"#,
        );
        let b = spec("{\"numbers\":{\"4921100000\":[{\"then\":{\"voicemail\":{}},\"id\":\"a\"}]},\n \"timezone\":\"Europe/Berlin\"}");
        assert_eq!(diff(&a, &b), Vec::new());
    }

    #[test]
    fn each_change_is_named_by_its_path() {
        let a = spec(
            r#"{"numbers": {"4921100000": [{"id": "a", "then": {"dial": {"numbers": ["4915790000001"]}}}]}}"#,
        );
        let b = spec(
            r#"{"numbers": {"4921100000": [{"id": "a", "then": {"dial": {"numbers": ["4915790000002", "4915790000003"]}}}]}, "lists": {"vip": ["4930123"]}}"#,
        );
        let lines: Vec<String> = diff(&a, &b).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "+ lists: {\"vip\":[\"4930123\"]}",
                "~ numbers.4921100000[0].then.dial.numbers[0]: \"4915790000001\" → \"4915790000002\"",
                "+ numbers.4921100000[0].then.dial.numbers[1]: \"4915790000003\"",
            ]
        );
        let back: Vec<Op> = diff(&b, &a).iter().map(|change| change.op).collect();
        assert_eq!(back, [Op::Removed, Op::Changed, Op::Removed]);
    }
}
