//! `calls`, `call CALLID`, `hits`: the journal (D1 binding `JOURNAL`) read
//! through `wrangler d1 execute`, locally or `--remote`.
//!
//! ```text
//! $ sipgate-rules call A1
//! call A1: 2 legs, 5 pushes
//!
//! leg A1
//!   2026-11-30 09:00:00.120Z  newCall  49211*****67 → 4921100000 (in); rule business-hours (v7) → dial
//!   2026-11-30 09:00:04.410Z  answer   answered by 4921100001
//! …
//! ```

use std::process::ExitCode;

use sipgate_router::journal::sql::{self, Value};
use sipgate_router::journal::timeline::{
    hits as rule_hits, utc_text, Expansion, Hit, HitRow, HitsTable, RuleCount,
};
use sipgate_router::journal::Entry;
use sipgate_router::store::admin;
use sipgate_router::time::calendar::{Date, LocalDateTime};

use super::now_seconds;
use super::output::{Failure, Output};
use super::place::Place;
use super::wrangler::{block_on, Wrangler};

const DAY_MS: i64 = 86_400_000;

/// Rows as `T`, from what `wrangler d1 execute --json` printed.
fn query<T: serde::de::DeserializeOwned>(
    d1: &Wrangler,
    statement: &str,
    values: &[Value],
) -> Result<Vec<T>, Failure> {
    let rows = d1.d1_query(&sql::inline(statement, values).map_err(Failure::Usage)?)?;
    rows.into_iter()
        .map(|row| {
            serde_json::from_value(row)
                .map_err(|error| Failure::Failed(format!("unexpected row: {error}")))
        })
        .collect()
}

/// `--since`/`--until`: `2026-11-30` or `2026-11-30T09:00` (UTC), as ms.
fn moment(text: Option<&str>, name: &str, default_ms: i64) -> Result<i64, Failure> {
    let Some(text) = text else {
        return Ok(default_ms);
    };
    let seconds = LocalDateTime::parse(text)
        .map(LocalDateTime::seconds_since_epoch)
        .or_else(|| Date::parse(text).map(|date| date.days_since_epoch() * 86_400))
        .ok_or_else(|| {
            Failure::Usage(format!(
                "--{name} takes 2026-11-30 or 2026-11-30T09:00 (UTC), not {text:?}"
            ))
        })?;
    Ok(seconds * 1000)
}

/// `since`, `until` (ms): the last 7 days unless given.
pub fn period(since: Option<&str>, until: Option<&str>) -> Result<(i64, i64), Failure> {
    let now_ms = now_seconds() * 1000;
    let until = moment(until, "until", now_ms + 1)?;
    let since = moment(since, "since", until - 7 * DAY_MS)?;
    Ok((since, until))
}

/// What the worker's admin API answered under `key`, as `T`.
fn answered<T: serde::de::DeserializeOwned>(
    json: serde_json::Value,
    key: &str,
) -> Result<T, Failure> {
    serde_json::from_value(json.get(key).cloned().unwrap_or_default())
        .map_err(|error| Failure::Failed(format!("unexpected answer: {error}")))
}

pub fn calls(
    place: &Place,
    number: Option<String>,
    (since, until): (i64, i64),
    limit: u32,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let calls: Vec<Entry> = match place {
        Place::Kv(d1) => {
            let mut values = vec![
                Value::Integer(since),
                Value::Integer(until),
                Value::Integer(i64::from(limit)),
            ];
            values.extend(number.clone().map(Value::Text));
            query(d1, &sql::select_calls(number.is_some()), &values)?
        }
        Place::Api(api) => {
            let mut path = format!("calls?since={since}&until={until}&limit={limit}");
            if let Some(number) = &number {
                path += &format!("&number={}", percent_encode(number));
            }
            answered(api.get_json(&path)?, "calls")?
        }
    };
    if out.json {
        out.json_pretty(&calls);
        return Ok(ExitCode::SUCCESS);
    }
    if calls.is_empty() {
        println!(
            "no calls from {} to {} in {}",
            utc_text(since),
            utc_text(until),
            place.describe_journal()
        );
    }
    for call in &calls {
        println!(
            "{}  {:<14} {} → {} ({})  {} → {}{}",
            utc_text(call.at_ms),
            call.call_id.as_deref().unwrap_or("-"),
            call.from.as_deref().unwrap_or("?"),
            call.to.as_deref().unwrap_or("?"),
            call.direction.as_deref().unwrap_or("?"),
            call.rule.as_deref().unwrap_or("no rule"),
            call.answer.as_deref().unwrap_or("proceed"),
            call.cause
                .as_deref()
                .map(|cause| format!(", ended: {cause}"))
                .unwrap_or_default(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn call(place: &Place, call_id: &str, out: &Output) -> Result<ExitCode, Failure> {
    let timeline = match place {
        Place::Kv(d1) => {
            let mut expansion = Expansion::new(call_id);
            while let Some(call_ids) = expansion.next_query() {
                let values: Vec<Value> = call_ids.into_iter().map(Value::Text).collect();
                expansion.add(query(d1, &sql::select_linked(values.len()), &values)?);
            }
            expansion.finish(call_id)
        }
        Place::Api(api) => match api.get_json(&format!("calls/{}", percent_encode(call_id))) {
            Ok(json) => serde_json::from_value(json)
                .map_err(|error| Failure::Failed(format!("unexpected answer: {error}")))?,
            // The worker says 404 when nothing is recorded: the same as an empty timeline.
            Err(Failure::Failed(message)) if message.contains("no pushes recorded") => {
                sipgate_router::journal::timeline::Timeline::new(call_id, Vec::new())
            }
            Err(other) => return Err(other),
        },
    };
    if timeline.is_empty() {
        return Err(Failure::Failed(format!(
            "no pushes recorded for call {call_id} in {}",
            place.describe_journal()
        )));
    }
    if out.json {
        out.json_pretty(&timeline);
    } else {
        print!("{}", timeline.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn hits(place: &Place, (since, until): (i64, i64), out: &Output) -> Result<ExitCode, Failure> {
    let rows = match place {
        Place::Kv(store) => {
            let counted: Vec<RuleCount> = query(
                store,
                sql::HITS,
                &[Value::Integer(since), Value::Integer(until)],
            )?;
            rule_hits(block_on(admin::live_rule_ids(store))?, &counted)
        }
        Place::Api(api) => {
            let rows: Vec<HitRow> = answered(
                api.get_json(&format!("hits?since={since}&until={until}"))?,
                "hits",
            )?;
            rows.into_iter().map(Hit::from).collect()
        }
    };
    if out.json {
        let json: Vec<HitRow> = rows.into_iter().map(HitRow::from).collect();
        out.json_pretty(&json);
    } else {
        println!("rule hits from {} to {}:", utc_text(since), utc_text(until));
        print!("{}", HitsTable(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// `text` for a query string or a path segment: everything but
/// unreserved characters percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
