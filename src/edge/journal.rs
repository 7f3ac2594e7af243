//! After the answer: the push into D1 (`JOURNAL`) and to the receivers of
//! `FORWARD_URLS`; on schedule, the retention run. Nothing here can change
//! an answer: it runs once the answer is sent, and failures are logged.

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::{join_all, select, Either};
use worker::js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, console_log, console_warn, D1Database, D1PreparedStatement, Env};

use super::{call_async, describe, method, sleep, subtle};
use crate::http::{Config, Record};
use crate::journal::sql::{self, Value};
use crate::journal::{forward, Entry, Forwarding};
use crate::log::{Level, TaskLine};

/// How long the journal and the fan-out wait after the answer.
const AFTER_ANSWER_DELAY_MS: u32 = 10;

thread_local! {
    /// The HMAC key for forwarded bodies, imported into WebCrypto once.
    static HMAC_KEY: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

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

/// A statement's promise (`run()` or `all()`), awaited.
async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, String> {
    JsFuture::from(promise.map_err(describe)?)
        .await
        .map_err(describe)
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
    let select = statement(database, sql::select_linked(call_ids.len()), values)?;
    let result = settle(select.inner().all()).await?;
    let rows = Reflect::get(&result, &"results".into()).map_err(describe)?;
    let json = JSON::stringify(&rows)
        .map_err(describe)?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&json).map_err(|error| format!("unexpected rows: {error}"))
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
    let signature = match &forwarding.secret {
        None => None,
        Some(secret) => {
            match hmac_sha256(secret, &forward::signing_input(timestamp, &body)).await {
                Ok(digest) => Some(forward::signature_header(&digest)),
                Err(error) => {
                    // Unsigned bodies would be refused by a receiver that checks: send none.
                    let mut line = about(Level::Error, "forward_failed", entry);
                    line.error = Some(format!("cannot sign: {error}"));
                    console_error!("{}", line.to_json());
                    return;
                }
            }
        }
    };
    let delivery = Delivery {
        body: &body,
        timestamp,
        signature: signature.as_deref(),
        event_id,
    };
    let sends = forwarding.receivers.iter().map(|receiver| async {
        let outcome = send(receiver.as_str(), &delivery, forwarding.timeout_ms).await;
        if let Err((status, error)) = outcome {
            let mut line = about(Level::Warn, "forward_failed", entry);
            line.receiver = Some(forward::loggable(receiver));
            line.status = status;
            line.error = error;
            console_warn!("{}", line.to_json());
        }
    });
    join_all(sends).await;
}

/// What every receiver of one push gets.
struct Delivery<'a> {
    body: &'a str,
    timestamp: i64,
    signature: Option<&'a str>,
    event_id: &'a str,
}

/// One POST with the global `fetch`; `Err` with the status or the reason
/// when it did not take. An `AbortController` ends it at the timeout.
async fn send(
    url: &str,
    delivery: &Delivery<'_>,
    timeout_ms: u32,
) -> Result<(), (Option<u16>, Option<String>)> {
    let failed = |error: String| (None, Some(error));
    let global = worker::js_sys::global();
    let controller = Reflect::get(&global, &"AbortController".into())
        .and_then(|class| Reflect::construct(class.unchecked_ref::<Function>(), &Array::new()))
        .map_err(|error| failed(describe(error)))?;
    let headers = Object::new();
    let mut fields = vec![
        ("content-type", "application/json".to_owned()),
        (forward::TIMESTAMP_HEADER, delivery.timestamp.to_string()),
        (forward::EVENT_ID_HEADER, delivery.event_id.to_owned()),
    ];
    if let Some(signature) = delivery.signature {
        fields.push((forward::SIGNATURE_HEADER, signature.to_owned()));
    }
    let init = Object::new();
    let setup = || -> Result<(), JsValue> {
        for (name, value) in &fields {
            Reflect::set(&headers, &(*name).into(), &value.into())?;
        }
        Reflect::set(&init, &"method".into(), &"POST".into())?;
        // A redirect would re-send the signed body to a host FORWARD_URLS
        // never named (and perhaps over plain http): a 3xx is a failed delivery.
        Reflect::set(&init, &"redirect".into(), &"manual".into())?;
        Reflect::set(&init, &"headers".into(), &headers)?;
        Reflect::set(&init, &"body".into(), &delivery.body.into())?;
        Reflect::set(
            &init,
            &"signal".into(),
            &Reflect::get(&controller, &"signal".into())?,
        )?;
        Ok(())
    };
    setup().map_err(|error| failed(describe(error)))?;
    let fetch = method(&global, "fetch").map_err(failed)?;
    let arguments = Array::of2(&url.into(), &init);
    let sending = call_async(&fetch, &global, &arguments);
    let outcome = select(Box::pin(sending), Box::pin(sleep(timeout_ms))).await;
    match outcome {
        Either::Left((Ok(response), _)) => {
            let status = Reflect::get(&response, &"status".into())
                .ok()
                .and_then(|status| status.as_f64())
                .unwrap_or(0.0) as u16;
            // Let the runtime drop the receiver's body rather than keep it.
            if let Ok(body) = Reflect::get(&response, &"body".into()) {
                if let Ok(cancel) = method(&body, "cancel") {
                    let _ = cancel.call0(&body);
                }
            }
            if (200..300).contains(&status) {
                Ok(())
            } else {
                Err((Some(status), None))
            }
        }
        Either::Left((Err(error), _)) => Err(failed(error)),
        Either::Right(((), _)) => {
            if let Ok(abort) = method(&controller, "abort") {
                let _ = abort.call0(&controller);
            }
            Err(failed(format!("no answer within {timeout_ms} ms")))
        }
    }
}

/// HMAC-SHA256 of `data` under `secret`, with WebCrypto.
async fn hmac_sha256(secret: &str, data: &str) -> Result<Vec<u8>, String> {
    let key = hmac_key(secret).await?;
    let subtle = subtle()?;
    let arguments = Array::of3(
        &"HMAC".into(),
        &key,
        &Uint8Array::from(data.as_bytes()).into(),
    );
    let digest = call_async(&method(&subtle, "sign")?, &subtle, &arguments).await?;
    Ok(Uint8Array::new(&digest).to_vec())
}

async fn hmac_key(secret: &str) -> Result<JsValue, String> {
    let cached = HMAC_KEY.with(|slot| {
        slot.borrow()
            .as_ref()
            .filter(|(known, _)| known == secret)
            .map(|(_, key)| key.clone())
    });
    if let Some(key) = cached {
        return Ok(key);
    }
    let subtle = subtle()?;
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"HMAC".into()).map_err(describe)?;
    Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into()).map_err(describe)?;
    let arguments = Array::of5(
        &"raw".into(),
        &Uint8Array::from(secret.as_bytes()).into(),
        &algorithm,
        &JsValue::FALSE,
        &Array::of1(&"sign".into()),
    );
    let key = call_async(&method(&subtle, "importKey")?, &subtle, &arguments).await?;
    HMAC_KEY.with(|slot| *slot.borrow_mut() = Some((secret.to_owned(), key.clone())));
    Ok(key)
}
