//! `diff A B`: what changed between two documents, path by path.
//!
//! ```text
//! ~ numbers.4921100000[2].then.dial.numbers[1]: "4921100002" → "4921100012"
//! + menus.lunch-break: {"prompt":"https://…","retries":0,…}
//! - lists.blocked
//! ```

use std::process::ExitCode;

use serde_json::Value;
use sipgate_router::rules::problem::parse_json;
use sipgate_router::rules::spec::DocumentSpec;
use sipgate_router::store::source_key;

use super::wrangler::Wrangler;

pub fn run(positional: &[String], kv: &Wrangler) -> Result<ExitCode, String> {
    let [a, b] = positional else {
        return Err(
            "diff takes two documents: version numbers or files (diff 3 4, diff 4 office.json)"
                .to_owned(),
        );
    };
    let (left, right) = (document(a, kv)?, document(b, kv)?);
    let mut changes = Vec::new();
    compare("", &left, &right, &mut changes);
    if changes.is_empty() {
        println!("{a} and {b} route identically (no differences)");
    }
    for change in &changes {
        println!("{change}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A version from KV (`7`) or a file, normalized through the document model
/// so that formatting and key order do not show up as changes.
fn document(which: &str, kv: &Wrangler) -> Result<Value, String> {
    let source = match which.parse::<u64>() {
        Ok(version) => {
            let chunks = super::index(kv)?
                .versions
                .iter()
                .find(|entry| entry.version == version)
                .map(|entry| entry.source_chunks)
                .ok_or(format!(
                    "version {version} is not kept in {}",
                    kv.describe()
                ))?;
            let mut source = String::new();
            for chunk in 0..chunks {
                source += &kv
                    .get(&source_key(version, chunk))?
                    .ok_or(format!("{} is missing", source_key(version, chunk)))?;
            }
            source
        }
        Err(_) => std::fs::read_to_string(which)
            .map_err(|error| format!("cannot read {which}: {error}"))?,
    };
    let spec: DocumentSpec = parse_json(&source).map_err(|error| format!("{which}: {error}"))?;
    serde_json::to_value(spec).map_err(|error| error.to_string())
}

fn compare(path: &str, left: &Value, right: &Value, changes: &mut Vec<String>) {
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
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => compare(&at(key), x, y, changes),
                    (Some(_), None) => changes.push(format!("- {}", at(key))),
                    (None, Some(y)) => changes.push(format!("+ {}: {}", at(key), short(y))),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for index in 0..a.len().max(b.len()) {
                let item = format!("{path}[{index}]");
                match (a.get(index), b.get(index)) {
                    (Some(x), Some(y)) => compare(&item, x, y, changes),
                    (Some(_), None) => changes.push(format!("- {item}")),
                    (None, Some(y)) => changes.push(format!("+ {item}: {}", short(y))),
                    (None, None) => {}
                }
            }
        }
        (a, b) if a != b => changes.push(format!("~ {path}: {} → {}", short(a), short(b))),
        _ => {}
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 100 {
        format!("{}…", text.chars().take(100).collect::<String>())
    } else {
        text
    }
}
