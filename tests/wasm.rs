//! The edge shell on wasm32, under node: real `worker::Request`s handed to
//! [`sipgate_router::edge::handle`] with a mock `Env` whose `ROUTES` binding
//! is a JS object with an async `get`, as Workers KV has.
//!
//! Run with `cargo test --target wasm32-unknown-unknown` and
//! `wasm-bindgen-test-runner` as the cargo runner (`npm test` sets it up).
#![cfg(target_arch = "wasm32")]

use sipgate_router::edge::handle;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use worker::js_sys::{Function, Object, Reflect};
use worker::{Env, Headers, Method, Request, RequestInit, Response};

const FORM: &str = "application/x-www-form-urlencoded; charset=UTF-8";
const SEED: &str = "from=492111234567&to=4915791234567&direction=in";

/// An `Env` whose `ROUTES.get` answers from `entries`, or throws when
/// `failure` is set. The KV methods the handler never calls exist so that
/// binding the store succeeds, as it does in workerd.
fn mock_env(entries: &[(&str, &str)], failure: Option<&str>) -> Env {
    let values = Object::new();
    for (key, value) in entries {
        Reflect::set(&values, &JsValue::from_str(key), &JsValue::from_str(value)).unwrap();
    }
    let make = Function::new_with_args(
        "values, failure",
        r#"
        const unused = async () => { throw new Error("not used by the router"); };
        return { ROUTES: {
            get: async (key) => {
                if (failure) throw new Error(failure);
                return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : null;
            },
            getWithMetadata: unused, put: unused, list: unused, delete: unused,
        } };
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
async fn seed_request_without_routes_proceeds() {
    let response = handle(push(SEED), &mock_env(&[], None)).await;
    assert_eq!(response.status_code(), 200);
    assert_eq!(content_type(&response), "application/xml; charset=utf-8");
    assert_eq!(
        text(response).await,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
    );
}

#[wasm_bindgen_test]
async fn the_numbers_route_answers() {
    let env = mock_env(
        &[
            (
                "route:4915791234567",
                r#"{"then":{"dial":{"numbers":["4915799912345"]}}}"#,
            ),
            ("route:default", r#"{"then":{"voicemail":{}}}"#),
        ],
        None,
    );
    let response = handle(push(SEED), &env).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response)
        .await
        .ends_with("<Response><Dial><Number>4915799912345</Number></Dial></Response>"));
}

#[wasm_bindgen_test]
async fn a_miss_takes_the_default_route() {
    let env = mock_env(
        &[("route:default", r#"{"then":{"reject":{"reason":"busy"}}}"#)],
        None,
    );
    let response = handle(push(SEED), &env).await;
    assert!(text(response)
        .await
        .ends_with(r#"<Response><Reject reason="busy"/></Response>"#));
}

#[wasm_bindgen_test]
async fn kv_failure_and_corrupt_routes_still_answer_200_proceed() {
    let failing = mock_env(&[], Some("KV GET failed: 503"));
    let response = handle(push(SEED), &failing).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.ends_with("<Response/>"));

    let corrupt = mock_env(&[("route:4915791234567", "{\"then\":")], None);
    let response = handle(push(SEED), &corrupt).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.ends_with("<Response/>"));
}

#[wasm_bindgen_test]
async fn a_missing_binding_still_answers_200_proceed() {
    let env: Env = JsValue::from(Object::new()).unchecked_into();
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
        let env = mock_env(&[("route:default", r#"{"then":{"hangup":{}}}"#)], None);
        let response = handle(push(body), &env).await;
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
