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
    hits as rule_hits, utc_text, Expansion, HitsTable, RuleCount,
};
use sipgate_router::journal::Entry;
use sipgate_router::rules::load;
use sipgate_router::store::admin;
use sipgate_router::time::calendar::{Date, LocalDateTime};

use super::now_seconds;
use super::output::{Failure, Output};
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

pub fn calls(
    d1: &Wrangler,
    number: Option<String>,
    (since, until): (i64, i64),
    limit: u32,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let mut values = vec![
        Value::Integer(since),
        Value::Integer(until),
        Value::Integer(i64::from(limit)),
    ];
    values.extend(number.clone().map(Value::Text));
    let calls: Vec<Entry> = query(d1, &sql::select_calls(number.is_some()), &values)?;
    if out.json {
        out.json_pretty(&calls);
        return Ok(ExitCode::SUCCESS);
    }
    if calls.is_empty() {
        println!(
            "no calls from {} to {} in {}",
            utc_text(since),
            utc_text(until),
            d1.describe_journal()
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

pub fn call(d1: &Wrangler, call_id: &str, out: &Output) -> Result<ExitCode, Failure> {
    let mut expansion = Expansion::new(call_id);
    while let Some(call_ids) = expansion.next_query() {
        let values: Vec<Value> = call_ids.into_iter().map(Value::Text).collect();
        expansion.add(query(d1, &sql::select_linked(values.len()), &values)?);
    }
    let timeline = expansion.finish(call_id);
    if timeline.is_empty() {
        return Err(Failure::Failed(format!(
            "no pushes recorded for call {call_id} in {}",
            d1.describe_journal()
        )));
    }
    if out.json {
        out.json_pretty(&timeline);
    } else {
        print!("{}", timeline.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn hits(
    store: &Wrangler,
    (since, until): (i64, i64),
    out: &Output,
) -> Result<ExitCode, Failure> {
    let counted: Vec<RuleCount> = query(
        store,
        sql::HITS,
        &[Value::Integer(since), Value::Integer(until)],
    )?;
    let live_rules = live_rule_ids(store)?;
    let rows = rule_hits(&live_rules, &counted);
    if out.json {
        let json: Vec<serde_json::Value> = rows
            .iter()
            .map(|hit| {
                serde_json::json!({
                    "rule": hit.rule, "hits": hit.hits, "lastAtMs": hit.last_at_ms,
                    "neverMatched": hit.hits == 0, "inLiveRules": !hit.retired,
                })
            })
            .collect();
        out.json_pretty(&json);
    } else {
        println!("rule hits from {} to {}:", utc_text(since), utc_text(until));
        print!("{}", HitsTable(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// The ids of the live document's rules (none when nothing is published).
fn live_rule_ids(kv: &Wrangler) -> Result<Vec<String>, Failure> {
    let live = block_on(admin::pointer(kv))?.unwrap_or_default();
    if live.version == 0 {
        return Ok(Vec::new());
    }
    let source = block_on(admin::source(kv, live.version))?;
    let checked = load(&source)
        .map_err(|error| Failure::Failed(format!("the live rules do not load: {error}")))?;
    Ok(checked
        .rules
        .rule_ids()
        .into_iter()
        .map(str::to_owned)
        .collect())
}
