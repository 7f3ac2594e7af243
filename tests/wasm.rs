//! The edge shell on wasm32, under node: real requests (made with
//! `worker::Request`, handed over as the runtime's `Request`) through
//! [`sipgate_router::edge::handle`] with a mock `Env` whose `ROUTES` binding
//! is a JS object with an async `get`, as Workers KV has.
//!
//! Run with `cargo test --target wasm32-unknown-unknown` and
//! `wasm-bindgen-test-runner` as the cargo runner (`npm test` sets it up).
#![cfg(target_arch = "wasm32")]

use sipgate_router::edge::{forget_rules, handle};
use sipgate_router::store;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use worker::js_sys::{Function, Object, Reflect};
use worker::wasm_bindgen_futures;
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
    let sharded = store::shards::Sharded::parse(document).unwrap();
    let current = store::Pointer {
        version: version - 1,
        ..store::Pointer::default()
    };
    let plan = store::plan_publish(
        document,
        &sharded,
        &store::Index::default(),
        Some(&current),
        store::layout::About::default(),
        None,
    );
    plan.writes(&sharded)
        .expect("a checked document's shards compile")
        .into_iter()
        .chain([plan.pointer])
        .collect()
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
            SIGNATURE_CHECK: "off",
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

/// The edge handler, with the response wrapped for the tests' convenience;
/// the work after the answer (journal, fan-out) is done before it returns.
async fn answer(request: Request, env: &Env) -> Response {
    // Clone the handle, not the JS Request (its own clone() would tee the body).
    let handled = handle(Clone::clone(request.inner()), env).await;
    if let Some(after) = handled.after {
        after.await;
    }
    Response::from(handled.response)
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
    forget_rules();
    let response = answer(push(SEED), &mock_env(&[], None)).await;
    assert_eq!(response.status_code(), 200);
    assert_eq!(content_type(&response), "application/xml; charset=utf-8");
    assert_eq!(
        text(response).await,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
    );
}

#[wasm_bindgen_test]
async fn the_numbers_rules_answer() {
    let response = answer(push(SEED), &mock_env(&published(RULES), None)).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response)
        .await
        .ends_with("<Response><Dial><Number>4915799912345</Number></Dial></Response>"));
}

#[wasm_bindgen_test]
async fn other_numbers_take_the_default() {
    let response = answer(
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
    forget_rules();
    let failing = mock_env(&[], Some("KV GET failed: 503"));
    let response = answer(push(SEED), &failing).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.ends_with("<Response/>"));

    let mut corrupt = published_as(RULES, 900);
    for (key, value) in &mut corrupt {
        if key.ends_with(":s0") {
            *value = "{\"numbers\":".to_owned();
        }
    }
    forget_rules();
    let response = answer(push(SEED), &mock_env(&corrupt, None)).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.ends_with("<Response/>"));
}

#[wasm_bindgen_test]
async fn a_warm_isolate_answers_from_its_last_known_good_rules_when_kv_fails() {
    forget_rules();
    let warm = answer(push(SEED), &mock_env(&published_as(RULES, 500), None)).await;
    assert!(text(warm).await.contains("4915799912345"));
    let response = answer(push(SEED), &mock_env(&[], Some("KV GET failed: 503"))).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.contains("4915799912345"));
}

#[wasm_bindgen_test]
async fn a_missing_binding_still_answers_200_proceed() {
    forget_rules();
    let env = Object::new();
    Reflect::set(&env, &"RULES_CACHE_SECONDS".into(), &"0".into()).unwrap();
    Reflect::set(&env, &"SIGNATURE_CHECK".into(), &"off".into()).unwrap();
    let env: Env = JsValue::from(env).unchecked_into();
    let response = answer(push(SEED), &env).await;
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
        let response = answer(push(body), &mock_env(&published(RULES), None)).await;
        assert_eq!(response.status_code(), 200, "{body}");
        assert!(text(response).await.ends_with("<Response/>"), "{body}");
    }
}

#[wasm_bindgen_test]
async fn bad_requests_get_specific_errors() {
    let env = mock_env(&[], None);

    let response = answer(request(Method::Get, None, None), &env).await;
    assert_eq!(response.status_code(), 405);
    assert_eq!(
        response.headers().get("allow").unwrap().as_deref(),
        Some("POST")
    );

    let response = answer(
        request(Method::Post, Some("application/json"), Some("{}")),
        &env,
    )
    .await;
    assert_eq!(response.status_code(), 415);

    // No Content-Length here: the cap while reading is what refuses it.
    let big = format!("{SEED}&pad={}", "x".repeat(16 * 1024));
    let response = answer(push(&big), &env).await;
    assert_eq!(response.status_code(), 413);

    let response = answer(push("from=492111234567&direction=in"), &env).await;
    assert_eq!(response.status_code(), 400);
    assert_eq!(content_type(&response), "text/plain; charset=utf-8");
    assert_eq!(text(response).await, "missing field `to`\n");
}

/// A key pair made with node's WebCrypto: the public key as PEM, and a
/// function that signs a body (base64 RSASSA-PKCS1-v1_5 SHA-256).
async fn test_key_pair() -> (String, Function) {
    let make = Function::new_no_args(
        r#"
        return (async () => {
            const subtle = globalThis.crypto.subtle;
            const pair = await subtle.generateKey(
                { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
                true, ["sign", "verify"]);
            const spki = new Uint8Array(await subtle.exportKey("spki", pair.publicKey));
            const base64 = (bytes) => btoa(String.fromCharCode(...bytes));
            const pem = "-----BEGIN PUBLIC KEY-----\n" + base64(spki).match(/.{1,64}/g).join("\n") + "\n-----END PUBLIC KEY-----\n";
            const sign = async (body) => base64(new Uint8Array(
                await subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, new TextEncoder().encode(body))));
            return [pem, sign];
        })();
        "#,
    );
    let promise: worker::js_sys::Promise = make.call0(&JsValue::NULL).unwrap().unchecked_into();
    let pair: worker::js_sys::Array = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .unchecked_into();
    (
        pair.get(0).as_string().unwrap(),
        pair.get(1).unchecked_into(),
    )
}

async fn sign(signer: &Function, body: &str) -> String {
    let promise: worker::js_sys::Promise = signer
        .call1(&JsValue::NULL, &body.into())
        .unwrap()
        .unchecked_into();
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .as_string()
        .unwrap()
}

fn signed_push(body: &str, signature: Option<&str>) -> Request {
    let headers = Headers::new();
    headers.set("Content-Type", FORM).unwrap();
    if let Some(signature) = signature {
        headers.set("X-Sipgate-Signature", signature).unwrap();
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(body)));
    Request::new_with_init("https://router.example/", &init).unwrap()
}

#[wasm_bindgen_test]
async fn webcrypto_verifies_signatures_with_a_configured_key() {
    let (pem, signer) = test_key_pair().await;
    let env = mock_env(&published(RULES), None);
    let env_object: &Object = env.unchecked_ref();
    Reflect::set(env_object, &"SIGNATURE_CHECK".into(), &"on".into()).unwrap();
    Reflect::set(env_object, &"SIPGATE_PUBLIC_KEY".into(), &pem.into()).unwrap();

    let signature = sign(&signer, SEED).await;
    let response = answer(signed_push(SEED, Some(&signature)), &env).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.contains("4915799912345"));

    let changed = SEED.replace("direction=in", "direction=in&x=1");
    let response = answer(signed_push(&changed, Some(&signature)), &env).await;
    assert_eq!(response.status_code(), 403);
    assert_eq!(
        text(response).await,
        "forbidden: X-Sipgate-Signature does not match the body\n"
    );

    let response = answer(signed_push(SEED, None), &env).await;
    assert_eq!(response.status_code(), 403);
}

#[wasm_bindgen_test]
async fn sipgates_own_key_is_the_default_and_refuses_our_signatures() {
    let (_, signer) = test_key_pair().await;
    let env = mock_env(&published(RULES), None);
    Reflect::set(env.unchecked_ref(), &"SIGNATURE_CHECK".into(), &"on".into()).unwrap();
    let signature = sign(&signer, SEED).await;
    let response = answer(signed_push(SEED, Some(&signature)), &env).await;
    assert_eq!(response.status_code(), 403);
    assert_eq!(
        text(response).await,
        "forbidden: X-Sipgate-Signature does not match the body\n"
    );
}

/// A D1 binding in memory: a `D1Database` (the worker crate checks the
/// class name) that logs every statement with its values, and answers
/// `all()` with `rows`.
fn mock_d1(rows: &str) -> Object {
    let make = Function::new_with_args(
        "rows",
        r#"
        class D1Database {
            constructor() { this.statements = []; }
            prepare(sql) {
                const database = this;
                const statement = {
                    sql, values: [],
                    bind(...values) { statement.values = values; return statement; },
                    async run() { database.statements.push(statement); return { success: true, meta: { changes: 1 }, results: [] }; },
                    async all() { database.statements.push(statement); return { success: true, meta: {}, results: JSON.parse(rows) }; },
                };
                return statement;
            }
        }
        return new D1Database();
        "#,
    );
    make.call1(&JsValue::NULL, &rows.into())
        .unwrap()
        .unchecked_into()
}

fn statements(database: &Object) -> Vec<(String, Vec<JsValue>)> {
    let list: worker::js_sys::Array = Reflect::get(database, &"statements".into())
        .unwrap()
        .unchecked_into();
    list.iter()
        .map(|statement| {
            let sql = Reflect::get(&statement, &"sql".into())
                .unwrap()
                .as_string()
                .unwrap();
            let values: worker::js_sys::Array = Reflect::get(&statement, &"values".into())
                .unwrap()
                .unchecked_into();
            (sql, values.iter().collect())
        })
        .collect()
}

#[wasm_bindgen_test]
async fn with_a_journal_the_push_is_stored_after_the_answer_and_the_call_comes_back() {
    forget_rules();
    let env = mock_env(&published_as(RULES, 600), None);
    let database = mock_d1("[]");
    Reflect::set(env.unchecked_ref(), &"JOURNAL".into(), &database).unwrap();
    let body = "event=newCall&from=492111234567&to=4915791234567&direction=in&callId=J1";
    let response = answer(push(body), &env).await;
    assert_eq!(response.status_code(), 200);
    assert!(text(response).await.contains(
        r#"<Response onAnswer="https://router.example/" onHangup="https://router.example/"><Dial>"#
    ));
    let stored = statements(&database);
    assert_eq!(stored.len(), 1);
    let (sql, values) = &stored[0];
    assert!(sql.starts_with("INSERT INTO pushes"), "{sql}");
    assert_eq!(values.len(), 23);
    assert_eq!(values[2].as_string().as_deref(), Some("newCall"));
    assert_eq!(values[3].as_string().as_deref(), Some("J1"));
    assert_eq!(values[7].as_string().as_deref(), Some("49211*****67"));
    assert_eq!(values[17].as_string().as_deref(), Some("mobile"));
}

#[wasm_bindgen_test]
async fn the_calls_endpoint_reads_the_journal() {
    forget_rules();
    let env = mock_env(&[], None);
    Reflect::set(
        env.unchecked_ref(),
        &"ADMIN_TOKEN".into(),
        &"t0ken-t0ken-t0ken-t0ken-t0ken-t0ken".into(),
    )
    .unwrap();
    let rows = r#"[{"event":"newCall","atMs":1000,"callId":"J1","origCallId":null,"users":"[\"Alice\"]","userIds":"[]","fullUserIds":"[]","version":3,"rule":"mobile","answer":"dial","decisionMs":0}]"#;
    let database = mock_d1(rows);
    Reflect::set(env.unchecked_ref(), &"JOURNAL".into(), &database).unwrap();
    let headers = Headers::new();
    headers
        .set(
            "Authorization",
            "Bearer t0ken-t0ken-t0ken-t0ken-t0ken-t0ken",
        )
        .unwrap();
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init("https://router.example/calls/J1", &init).unwrap();
    let response = answer(request, &env).await;
    assert_eq!(response.status_code(), 200);
    let body = text(response).await;
    assert!(
        body.contains(
            r#""users": [
            "Alice"
          ]"#
        ),
        "{body}"
    );
    assert!(body.contains(r#""rule": "mobile""#), "{body}");
    let (sql, values) = &statements(&database)[0];
    assert!(sql.starts_with("SELECT"), "{sql}");
    assert_eq!(values[0].as_string().as_deref(), Some("J1"));
}

/// A `Context` whose `waitUntil` keeps what it is given, in `kept`.
fn mock_context() -> (worker::worker_sys::Context, worker::js_sys::Array) {
    let kept = worker::js_sys::Array::new();
    let make = Function::new_with_args(
        "kept",
        "return { waitUntil: (promise) => { kept.push(promise); }, passThroughOnException() {} };",
    );
    let context = make.call1(&JsValue::NULL, &kept).unwrap().unchecked_into();
    (context, kept)
}

/// The wasm export the runtime calls, as the runtime calls it: a promise of
/// the response, the work after the answer handed to `waitUntil`.
#[wasm_bindgen_test]
async fn the_fetch_export_answers_through_its_promise_and_hands_the_journal_to_wait_until() {
    forget_rules();
    let env = mock_env(&published_as(RULES, 601), None);
    let database = mock_d1("[]");
    Reflect::set(env.unchecked_ref(), &"JOURNAL".into(), &database).unwrap();
    // The rules stay cached between the two pushes.
    Reflect::set(
        env.unchecked_ref(),
        &"RULES_CACHE_SECONDS".into(),
        &"60".into(),
    )
    .unwrap();
    let body = "event=newCall&from=492111234567&to=4915791234567&direction=in&callId=E1";
    // Cold (KV is read, asynchronously), then warm (only the body is awaited).
    for round in ["cold", "warm"] {
        let (context, kept) = mock_context();
        let request = Clone::clone(push(body).inner());
        let promise = sipgate_router::edge::fetch(request, env.clone(), context);
        let response: worker::web_sys::Response = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .unwrap()
            .unchecked_into();
        let response = Response::from(response);
        assert_eq!(response.status_code(), 200, "{round}");
        assert!(text(response).await.contains("<Dial>"), "{round}");
        assert_eq!(
            kept.length(),
            1,
            "{round}: the journal's write waits after the answer"
        );
        wasm_bindgen_futures::JsFuture::from(worker::js_sys::Promise::from(kept.get(0)))
            .await
            .unwrap();
    }
    assert_eq!(statements(&database).len(), 2);
    // Refused before anything is read: answered within the call.
    let (context, _) = mock_context();
    let get = Clone::clone(request(Method::Get, None, None).inner());
    let alive = sipgate_router::edge::drive::alive();
    let promise = sipgate_router::edge::fetch(get, env.clone(), context);
    assert_eq!(
        sipgate_router::edge::drive::alive(),
        alive,
        "nothing left waiting"
    );
    let response: worker::web_sys::Response = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .unchecked_into();
    assert_eq!(response.status(), 405);
}

mod drive {
    use super::*;
    use sipgate_router::edge::drive::{alive, to_promise};
    use std::cell::Cell;
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::task::{Context, Poll};
    use worker::js_sys::Promise;

    /// The promise's value; a promise that never settles (a lost wake-up)
    /// fails the test instead of hanging the suite. (The timer outlives a
    /// settled promise by its 5 s, once, in the last test.)
    async fn settled(promise: Promise) -> JsValue {
        let race = Function::new_with_args(
            "promise",
            r#"return Promise.race([promise, new Promise((_, reject) => {
                setTimeout(() => reject(new Error("the promise never settled")), 5000);
            })]);"#,
        );
        let raced: Promise = race
            .call1(&JsValue::NULL, &promise)
            .unwrap()
            .unchecked_into();
        wasm_bindgen_futures::JsFuture::from(raced).await.unwrap()
    }

    /// Pending `times` polls, waking itself from inside each of them.
    struct WakesItself {
        times: u32,
    }

    impl Future for WakesItself {
        type Output = u32;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            if self.times == 0 {
                return Poll::Ready(7);
            }
            self.times -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// Says when it is dropped: a future is dropped once its task is done.
    struct DropFlag(Rc<Cell<bool>>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }

    // Counts of alive tasks are compared within one synchronous stretch:
    // other tests' tasks (held by a KV budget's timer) end in between.

    #[wasm_bindgen_test]
    async fn a_future_that_needs_nothing_is_answered_at_once() {
        let before = alive();
        let promise = to_promise(async { JsValue::from(1) });
        assert_eq!(alive(), before, "nothing left to wake");
        assert_eq!(settled(promise).await, 1);
    }

    #[wasm_bindgen_test]
    async fn a_future_waits_for_each_promise_in_turn() {
        let dropped = Rc::new(Cell::new(false));
        let flag = DropFlag(dropped.clone());
        let before = alive();
        let promise = to_promise(async move {
            let _flag = flag;
            let mut sum = 0.0;
            for value in 1..=3 {
                let promise = Promise::resolve(&JsValue::from(value));
                sum += wasm_bindgen_futures::JsFuture::from(promise)
                    .await
                    .unwrap()
                    .as_f64()
                    .unwrap();
            }
            JsValue::from(sum)
        });
        assert_eq!(alive(), before + 1, "held by the first promise's callback");
        assert!(!dropped.get());
        assert_eq!(settled(promise).await, 6);
        assert!(dropped.get(), "the future is dropped once done");
    }

    #[wasm_bindgen_test]
    async fn a_future_woken_from_its_own_poll_is_polled_again_not_lost() {
        let promise = to_promise(async { JsValue::from(WakesItself { times: 3 }.await) });
        assert_eq!(settled(promise).await, 7);
        let promise = to_promise(async {
            let first = Promise::resolve(&JsValue::from(1));
            wasm_bindgen_futures::JsFuture::from(first).await.unwrap();
            JsValue::from(WakesItself { times: 2 }.await)
        });
        assert_eq!(settled(promise).await, 7);
    }

    #[wasm_bindgen_test]
    async fn a_rejected_promise_is_the_future_s_to_handle() {
        let promise = to_promise(async {
            let failing = Promise::reject(&JsValue::from_str("no"));
            match wasm_bindgen_futures::JsFuture::from(failing).await {
                Ok(_) => JsValue::from_str("resolved"),
                Err(error) => error,
            }
        });
        assert_eq!(settled(promise).await, JsValue::from_str("no"));
    }
}
