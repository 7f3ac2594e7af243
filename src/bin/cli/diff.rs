//! `diff A B`: what changed between two documents, path by path (the core's
//! [`diff`](sipgate_router::rules::diff)); exit 1 when they differ, like diff(1).

use std::process::ExitCode;

use sipgate_router::rules::diff::{diff, document as parse_document};

use super::output::{Failure, Output};
use super::place::Place;

pub fn run(a: &str, b: &str, place: &Place, out: &Output) -> Result<ExitCode, Failure> {
    let (left, right) = (source(a, place)?, source(b, place)?);
    let read = |which: &str, source| {
        parse_document(source).map_err(|error| Failure::Failed(format!("{which}: {error}")))
    };
    let changes = diff(&read(a, &left)?, &read(b, &right)?);
    if out.json {
        out.json_pretty(&serde_json::json!({ "from": a, "to": b, "changes": changes }));
    } else if changes.is_empty() {
        println!("{a} and {b} route identically (no differences)");
    } else {
        for change in &changes {
            println!("{change}");
        }
    }
    Ok(if changes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The text of `live`, a kept version (`7`) or a file.
fn source(which: &str, place: &Place) -> Result<String, Failure> {
    Ok(if which == "live" {
        let version = place.live_version()?;
        if version == 0 {
            return Err(Failure::Failed(format!(
                "nothing is published in {}",
                place.describe()
            )));
        }
        place.source(version)?
    } else if let Ok(version) = which.parse::<u64>() {
        place.source(version)?
    } else {
        std::fs::read_to_string(which)
            .map_err(|error| Failure::Usage(format!("cannot read {which}: {error}")))?
    })
}
