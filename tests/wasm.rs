//! The edge shell on wasm32, under node: real `worker::Request`s handed to
//! [`sipgate_router::edge::handle`] with a mock `Env` whose `ROUTES` binding
//! is a JS object with an async `get`, as Workers KV has.
//!
//! Run with `cargo test --target wasm32-unknown-unknown` and
//! `wasm-bindgen-test-runner` as the cargo runner (`npm test` sets it up).
#![cfg(target_arch = "wasm32")]

use sipgate_router::edge::handle;
use sipgate_router::storage;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use worker::js_sys::{Function, Object, Reflect};
use worker::{Env, Headers, Method, Request, RequestInit, Response};

const FORM: &str = "application/x-www-form-urlencoded; charset=UTF-8";
const SEED: &str = "from=492111234567&to=4915791234567&direction=in";

/// A rules document as the KV entries of published version 1 (the
/// pointer and one shard).
fn published(document: &str) -> Vec<(String, String)> {
    published_as(document, 1)
}

/// The same as version `version`: shards of a version the isolate has not
/// cached yet (tests share one isolate, and shards are immutable).
fn published_as(document: &str, version: u64) -> Vec<(String, String)> {
    let spec = sipgate_router::rules::problem::parse_json(document).unwrap();
    let current = storage::Pointer {
        version: version - 1,
        ..storage::Pointer::default()
    };
    let plan = storage::plan_publish(
        document,
        &spec,
        &storage::Index::default(),
        Some(&current),
        "t".into(),
        None,
    );
    plan.writes.into_iter().chain([plan.pointer]).collect()
}

const RULES: &str = r#"{
    "numbers": {"4915791234567": [{"id": "mobile", "then": {"dial": {"numbers": ["4915799912345"]}}}]},
    "default": [{"id": "fallback", "then": {"reject": {"reason": "busy"}}}]
}"#;

/// An `Env` whose `ROUTES.get` answers from `entries`, or throws when
/// `failure` is set; with `RULES_CACHE_SECONDS` 0, so no test sees another's
/// rules through the isolate cache. The KV methods the handler never calls
/// exist so that binding the store succeeds, as it does in workerd.
fn mock_env(entries: &[(String, String)], failure: Option<&str>) -> Env {
    let values = Object::new();
    for (key, value) in entries {
        Reflect::set(&values, &JsValue::from_str(key), &JsValue::from_str(value)).unwrap();
    }
    let make = Function::new_with_args(
        "values, failure",
        r#"
        const unused = async () => { throw new Error("not used by the router"); };
        return {
            RULES_CACHE_SECONDS: "0",
            ROUTES: {
                get: async (key, options) => {
                    if (failure) throw new Error(failure);
                    if (!(options && options.cacheTtl >= 30)) throw new Error("cacheTtl below KV's minimum of 30");
                    return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : null;
                },
                getWithMetadata: unused, put: unused, list: unused, delete: unused,
            },
        };
        "#,
    );
    let failure = failure.map(JsValue::from_str).unwrap_or(JsValue::NULL);
    make.call2(&JsValue::NULL, &values, &failure)
        .unwrap()
        .unchecked_into()
}

fn request(method: Method, content_type: Option<&str>, body: Option<&str>) -> Request {
    let headers = Headers::new();
    if let Some(content_type) = content_type {
        headers.set("Content-Type", content_type).unwrap();
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_body(body.map(JsValue::from_str));
    Request::new_with_init("https://router.example/", &init).unwrap()
}

fn push(body: &str) -> Request {
    request(Method::Post, Some(FORM), Some(body))
}

async fn text(mut response: Response) -> String {
    response.text().await.unwrap()
}

fn content_type(response: &Response) -> String {
    response
        .headers()
        .get("content-type")
        .unwrap()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn nothing_published_proceeds() {
    let response = handle(push(SEED), &mock_env(&[], None)).await;
    assert_eq!(response.status_code(), 200);
    assert_eq!(content_type(&response), "application/xml; charset=utf-8");
    assert_eq!(
        text(response).await,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
    );
}

#[wasm_bindgen_test]
async fn the_numbers_rules_answer() {
    let response = handle(push(SEED), &mock_env(&published(RULES), None)).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response)
        .await
        .ends_with("<Response><Dial><Number>4915799912345</Number></Dial></Response>"));
}

#[wasm_bindgen_test]
async fn other_numbers_take_the_default() {
    let response = handle(
        push("from=492111234567&to=4930123456&direction=in"),
        &mock_env(&published(RULES), None),
    )
    .await;
    assert!(text(response)
        .await
        .ends_with(r#"<Response><Reject reason="busy"/></Response>"#));
}

#[wasm_bindgen_test]
async fn kv_failure_and_corrupt_rules_still_answer_200_proceed() {
    let failing = mock_env(&[], Some("KV GET failed: 503"));
    let response = handle(push(SEED), &failing).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.ends_with("<Response/>"));

    let mut corrupt = published_as(RULES, 900);
    for (key, value) in &mut corrupt {
        if key.ends_with(":s0") {
            *value = "{\"numbers\":".to_owned();
        }
    }
    let response = handle(push(SEED), &mock_env(&corrupt, None)).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.ends_with("<Response/>"));
}

#[wasm_bindgen_test]
async fn a_missing_binding_still_answers_200_proceed() {
    let env = Object::new();
    Reflect::set(&env, &"RULES_CACHE_SECONDS".into(), &"0".into()).unwrap();
    let env: Env = JsValue::from(env).unchecked_into();
    let response = handle(push(SEED), &env).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.ends_with("<Response/>"));
}

#[wasm_bindgen_test]
async fn later_events_are_answered_empty() {
    for body in [
        "event=answer&callId=1&from=492111234567&to=4915791234567&direction=in&answeringNumber=4921100000",
        "event=hangup&cause=normalClearing&callId=1&from=492111234567&to=4915791234567&direction=in",
        "event=dtmf&dtmf=0815&callId=1",
    ] {
        let response = handle(push(body), &mock_env(&published(RULES), None)).await;
        assert_eq!(response.status_code(), 200, "{body}");
        assert!(text(response).await.ends_with("<Response/>"), "{body}");
    }
}

#[wasm_bindgen_test]
async fn bad_requests_get_specific_errors() {
    let env = mock_env(&[], None);

    let response = handle(request(Method::Get, None, None), &env).await;
    assert_eq!(response.status_code(), 405);
    assert_eq!(
        response.headers().get("allow").unwrap().as_deref(),
        Some("POST")
    );

    let response = handle(
        request(Method::Post, Some("application/json"), Some("{}")),
        &env,
    )
    .await;
    assert_eq!(response.status_code(), 415);

    // No Content-Length here: the cap while reading is what refuses it.
    let big = format!("{SEED}&pad={}", "x".repeat(16 * 1024));
    let response = handle(push(&big), &env).await;
    assert_eq!(response.status_code(), 413);

    let response = handle(push("from=492111234567&direction=in"), &env).await;
    assert_eq!(response.status_code(), 400);
    assert_eq!(content_type(&response), "text/plain; charset=utf-8");
    assert_eq!(text(response).await, "missing field `to`\n");
}
