//! After the answer: the push into D1 (`JOURNAL`) and to the receivers of
//! `FORWARD_URLS`; on schedule, the retention run. Nothing here can change
//! an answer: it runs once the answer is sent, and failures are logged.

use std::rc::Rc;

use futures_util::future::join_all;
use worker::js_sys::{Reflect, JSON};
use worker::wasm_bindgen::JsValue;
use worker::{console_error, console_log, console_warn, D1Database, D1PreparedStatement, Env};

use super::web::{self, describe, settle, sleep};
use crate::http::{Config, Record};
use crate::journal::sql::{self, Value};
use crate::journal::{forward, Entry, Forwarding};
use crate::log::{Level, TaskLine};

/// How long the journal and the fan-out wait after the answer.
const AFTER_ANSWER_DELAY_MS: u32 = 10;

/// Stores and forwards one answered push; logs what fails. A push the
/// journal already holds (a replay, or sipgate sending it again) is not
/// forwarded again; without the journal, receivers tell repeats by
/// `X-Router-Event-Id`.
pub(super) async fn after_answer(env: Env, config: Rc<Config>, record: Record) {
    // Let the runtime send the answer first: begun at once, the writes run
    // ahead of it on the isolate's thread (bench, local D1: +1.3 ms at the
    // median; after a yield to the event loop still +0.4 ms; after a short
    // timer, within noise). Costs no CPU, and waitUntil allows 30 s.
    sleep(AFTER_ANSWER_DELAY_MS).await;
    if let Some(entry) = &record.stored {
        match insert(&env, &record.event_id, entry).await {
            Ok(Stored::New) => {}
            Ok(Stored::Repeat) => {
                let line = about(Level::Info, "duplicate_push", entry);
                console_log!("{}", line.to_json());
                return;
            }
            // Unknown whether it is new: deliver it (receivers can tell by its id).
            Err(error) => {
                let mut line = about(Level::Error, "journal_failed", entry);
                line.error = Some(error);
                console_error!("{}", line.to_json());
            }
        }
    }
    if let Some(entry) = &record.forwarded {
        forward_to_all(&config.journal.forwarding, &record.event_id, entry).await;
    }
}

fn about(level: Level, msg: &'static str, entry: &Entry) -> TaskLine {
    let mut line = TaskLine::new(level, msg);
    line.call_id = entry.call_id.clone();
    line.event = Some(entry.event.clone());
    line
}

pub(super) fn database(env: &Env) -> Result<D1Database, String> {
    env.d1(sql::BINDING)
        .map_err(|error| format!("no D1 binding {}: {error}", sql::BINDING))
}

fn js_values(values: Vec<Value>) -> Vec<JsValue> {
    values
        .into_iter()
        .map(|value| match value {
            Value::Null => JsValue::NULL,
            // ms timestamps and versions are far below 2^53.
            Value::Integer(number) => JsValue::from_f64(number as f64),
            Value::Text(text) => JsValue::from_str(&text),
        })
        .collect()
}

fn statement(
    database: &D1Database,
    sql: impl Into<String>,
    values: Vec<Value>,
) -> Result<D1PreparedStatement, String> {
    database
        .prepare(sql)
        .bind(&js_values(values))
        .map_err(|error| error.to_string())
}

/// Whether an insert stored the push or found it there already.
enum Stored {
    New,
    Repeat,
}

/// Stores the push unless its event id is there already.
async fn insert(env: &Env, event_id: &str, entry: &Entry) -> Result<Stored, String> {
    let insert = statement(
        &database(env)?,
        sql::INSERT,
        sql::insert_values(event_id, entry),
    )?;
    let result = settle(insert.inner().run()).await?;
    let changes = Reflect::get(&result, &"meta".into())
        .and_then(|meta| Reflect::get(&meta, &"changes".into()))
        .ok()
        .and_then(|changes| changes.as_f64());
    Ok(match changes {
        Some(changes) if changes < 1.0 => Stored::Repeat,
        _ => Stored::New,
    })
}

/// The pushes whose `callId` or `origCallId` is one of `call_ids`.
///
/// The rows go through JSON rather than serde-wasm-bindgen: serde_json is
/// in the worker anyway, a second deserializer would only add size.
pub(super) async fn linked(
    database: &D1Database,
    call_ids: &[String],
) -> Result<Vec<Entry>, String> {
    let values = call_ids.iter().cloned().map(Value::Text).collect();
    let json = select(database, &sql::select_linked(call_ids.len()), values).await?;
    serde_json::from_str(&json).map_err(|error| format!("unexpected rows: {error}"))
}

/// The rows of a `SELECT`, as a JSON array.
pub(super) async fn select(
    database: &D1Database,
    sql: &str,
    values: Vec<Value>,
) -> Result<String, String> {
    let select = statement(database, sql, values)?;
    let result = settle(select.inner().all()).await?;
    let rows = Reflect::get(&result, &"results".into()).map_err(describe)?;
    Ok(JSON::stringify(&rows)
        .map_err(describe)?
        .as_string()
        .unwrap_or_default())
}

/// Deletes what is older than the retention period, and says how much.
pub(super) async fn apply_retention(env: &Env, config: &Config) {
    let Ok(database) = database(env) else { return };
    let cutoff = config
        .journal
        .retention_cutoff_ms(worker::js_sys::Date::now() as i64);
    let result = async {
        let delete = statement(&database, sql::DELETE_BEFORE, vec![Value::Integer(cutoff)])?;
        settle(delete.inner().run()).await
    }
    .await;
    match result {
        Ok(result) => {
            let mut line = TaskLine::new(Level::Info, "journal_retention");
            let changes = Reflect::get(&result, &"meta".into())
                .and_then(|meta| Reflect::get(&meta, &"changes".into()))
                .ok()
                .and_then(|changes| changes.as_f64());
            line.deleted = Some(changes.unwrap_or(0.0) as u64);
            console_log!("{}", line.to_json());
        }
        Err(error) => {
            let mut line = TaskLine::new(Level::Error, "journal_retention");
            line.error = Some(error);
            console_error!("{}", line.to_json());
        }
    }
}

/// POSTs the entry to every receiver at once, each within the timeout.
async fn forward_to_all(forwarding: &Forwarding, event_id: &str, entry: &Entry) {
    let body = forward::body(entry);
    let timestamp = worker::js_sys::Date::now() as i64;
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        (forward::TIMESTAMP_HEADER, timestamp.to_string()),
        (forward::EVENT_ID_HEADER, event_id.to_owned()),
    ];
    if let Some(secret) = &forwarding.secret {
        match web::hmac_sha256(secret, &forward::signing_input(timestamp, &body)).await {
            Ok(digest) => headers.push((
                forward::SIGNATURE_HEADER,
                forward::signature_header(&digest),
            )),
            Err(error) => {
                // Unsigned bodies would be refused by a receiver that checks: send none.
                let mut line = about(Level::Error, "forward_failed", entry);
                line.error = Some(format!("cannot sign: {error}"));
                console_error!("{}", line.to_json());
                return;
            }
        }
    }
    let sends = forwarding.receivers.iter().map(|receiver| async {
        let outcome = web::post(receiver.as_str(), &headers, &body, forwarding.timeout_ms).await;
        let (status, error) = match outcome {
            Ok(status) if (200..300).contains(&status) => return,
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(error)),
        };
        let mut line = about(Level::Warn, "forward_failed", entry);
        line.receiver = Some(forward::loggable(receiver));
        line.status = status;
        line.error = error;
        console_warn!("{}", line.to_json());
    });
    join_all(sends).await;
}
