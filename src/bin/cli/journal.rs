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
use sipgate_router::store::source_key;
use sipgate_router::time::calendar::{Date, LocalDateTime};

use super::wrangler::Wrangler;
use super::{index, now_seconds, pointer, Args};

const DAY_MS: i64 = 86_400_000;

/// Rows as `T`, from what `wrangler d1 execute --json` printed.
fn query<T: serde::de::DeserializeOwned>(
    d1: &Wrangler,
    statement: &str,
    values: &[Value],
) -> Result<Vec<T>, String> {
    let rows = d1.d1_query(&sql::inline(statement, values)?)?;
    rows.into_iter()
        .map(|row| serde_json::from_value(row).map_err(|error| format!("unexpected row: {error}")))
        .collect()
}

/// `--since`/`--until`: `2026-11-30` or `2026-11-30T09:00` (UTC), as ms.
fn moment(args: &Args, name: &str, default_ms: i64) -> Result<i64, String> {
    let Some(text) = args.one(name) else {
        return Ok(default_ms);
    };
    let seconds = LocalDateTime::parse(&text)
        .map(LocalDateTime::seconds_since_epoch)
        .or_else(|| Date::parse(&text).map(|date| date.days_since_epoch() * 86_400))
        .ok_or_else(|| {
            format!("--{name} takes 2026-11-30 or 2026-11-30T09:00 (UTC), not {text:?}")
        })?;
    Ok(seconds * 1000)
}

/// `since`, `until` (ms): the last 7 days unless given.
fn period(args: &Args) -> Result<(i64, i64), String> {
    let now_ms = now_seconds() * 1000;
    let until = moment(args, "until", now_ms + 1)?;
    let since = moment(args, "since", until - 7 * DAY_MS)?;
    Ok((since, until))
}

pub fn calls(args: &Args) -> Result<ExitCode, String> {
    let d1 = args.kv();
    let (since, until) = period(args)?;
    let limit: i64 = args
        .one("limit")
        .map(|limit| {
            limit
                .parse()
                .map_err(|_| format!("--limit must be a number, not {limit:?}"))
        })
        .transpose()?
        .unwrap_or(50);
    let number = args.one("number");
    let mut values = vec![
        Value::Integer(since),
        Value::Integer(until),
        Value::Integer(limit),
    ];
    values.extend(number.clone().map(Value::Text));
    let calls: Vec<Entry> = query(&d1, &sql::select_calls(number.is_some()), &values)?;
    if args.has("json") {
        println!(
            "{}",
            serde_json::to_string_pretty(&calls).map_err(|error| error.to_string())?
        );
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

pub fn call(args: &Args) -> Result<ExitCode, String> {
    let call_id = args
        .positional
        .first()
        .ok_or("call takes a call id: sipgate-rules call CALLID")?;
    let d1 = args.kv();
    let mut expansion = Expansion::new(call_id);
    while let Some(call_ids) = expansion.next_query() {
        let values: Vec<Value> = call_ids.into_iter().map(Value::Text).collect();
        expansion.add(query(&d1, &sql::select_linked(values.len()), &values)?);
    }
    let timeline = expansion.finish(call_id);
    if timeline.is_empty() {
        eprintln!(
            "no pushes recorded for call {call_id} in {}",
            d1.describe_journal()
        );
        return Ok(ExitCode::FAILURE);
    }
    if args.has("json") {
        println!(
            "{}",
            serde_json::to_string_pretty(&timeline).map_err(|error| error.to_string())?
        );
    } else {
        print!("{}", timeline.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn hits(args: &Args) -> Result<ExitCode, String> {
    let store = args.kv();
    let (since, until) = period(args)?;
    let counted: Vec<RuleCount> = query(
        &store,
        sql::HITS,
        &[Value::Integer(since), Value::Integer(until)],
    )?;
    let live_rules = live_rule_ids(&store)?;
    let rows = rule_hits(&live_rules, &counted);
    if args.has("json") {
        let json: Vec<serde_json::Value> = rows
            .iter()
            .map(|hit| {
                serde_json::json!({
                    "rule": hit.rule, "hits": hit.hits, "lastAtMs": hit.last_at_ms,
                    "neverMatched": hit.hits == 0, "inLiveRules": !hit.retired,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json).map_err(|error| error.to_string())?
        );
    } else {
        println!("rule hits from {} to {}:", utc_text(since), utc_text(until));
        print!("{}", HitsTable(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// The ids of the live document's rules (none when nothing is published).
fn live_rule_ids(kv: &Wrangler) -> Result<Vec<String>, String> {
    let Some(live) = pointer(kv)? else {
        return Ok(Vec::new());
    };
    let Some(entry) = index(kv)?
        .versions
        .into_iter()
        .find(|entry| entry.version == live.version)
    else {
        return Ok(Vec::new());
    };
    let mut source = String::new();
    for chunk in 0..entry.source_chunks {
        let key = source_key(live.version, chunk);
        source += &kv.get(&key)?.ok_or(format!("{key} is missing"))?;
    }
    let checked = load(&source).map_err(|error| format!("the live rules do not load: {error}"))?;
    Ok(checked
        .rules
        .rule_ids()
        .into_iter()
        .map(str::to_owned)
        .collect())
}
