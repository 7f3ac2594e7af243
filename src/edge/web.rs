//! The runtime's web APIs the router uses, through typed `web-sys`
//! bindings: WebCrypto (verifying sipgate's signature, signing forwarded
//! bodies), `fetch` with a timeout, and a timer for the KV budget. Keys are
//! imported once per isolate.

use std::cell::RefCell;
use std::thread::LocalKey;

use futures_util::future::{select, Either};
use worker::js_sys::{self, Array, Function, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{
    AbortController, Algorithm, CryptoKey, Headers, HmacImportParams, RequestInit, RequestRedirect,
    Response, RsaHashedImportParams, SubtleCrypto, WorkerGlobalScope,
};

thread_local! {
    /// The verifying key, imported into WebCrypto once per isolate.
    static VERIFYING_KEY: RefCell<Option<(Vec<u8>, CryptoKey)>> = const { RefCell::new(None) };
    /// The HMAC key for forwarded bodies, imported once.
    static SIGNING_KEY: RefCell<Option<(String, CryptoKey)>> = const { RefCell::new(None) };
}

const RSA: &str = "RSASSA-PKCS1-v1_5";

fn global() -> WorkerGlobalScope {
    // workerd's global scope is a worker's, under another class name.
    js_sys::global().unchecked_into()
}

fn subtle() -> Result<SubtleCrypto, String> {
    Ok(global().crypto().map_err(describe)?.subtle())
}

/// A promise, awaited; its rejection described in one line.
pub(super) async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, String> {
    JsFuture::from(promise.map_err(describe)?)
        .await
        .map_err(describe)
}

/// Verifies an RSASSA-PKCS1-v1_5 / SHA-256 `signature` of `body` with the
/// SubjectPublicKeyInfo `spki_der`.
pub(super) async fn verify(spki_der: &[u8], body: &[u8], signature: &[u8]) -> Result<bool, String> {
    let key = verifying_key(spki_der).await?;
    let verified =
        settle(subtle()?.verify_with_str_and_u8_array_and_u8_array(RSA, &key, signature, body))
            .await?;
    Ok(verified.as_bool() == Some(true))
}

/// Keys are imported once per isolate, and again only when what they are
/// made of (the PEM's DER, the secret) changes.
type KeySlot<K> = LocalKey<RefCell<Option<(K, CryptoKey)>>>;

fn cached<K: PartialEq + ?Sized, O: std::borrow::Borrow<K>>(
    slot: &'static KeySlot<O>,
    made_of: &K,
) -> Option<CryptoKey> {
    slot.with(|slot| {
        slot.borrow()
            .as_ref()
            .filter(|(known, _)| known.borrow() == made_of)
            .map(|(_, key)| key.clone())
    })
}

async fn verifying_key(spki_der: &[u8]) -> Result<CryptoKey, String> {
    if let Some(key) = cached(&VERIFYING_KEY, spki_der) {
        return Ok(key);
    }
    // Its binding lacks `name` (inherited from Algorithm in the IDL).
    let algorithm = RsaHashedImportParams::new_with_str("SHA-256");
    algorithm.unchecked_ref::<Algorithm>().set_name(RSA);
    let imported = settle(subtle()?.import_key_with_object(
        "spki",
        &Uint8Array::from(spki_der),
        &algorithm,
        false,
        &Array::of1(&"verify".into()),
    ))
    .await
    .map_err(|error| format!("the verifying key cannot be imported: {error}"))?;
    let key: CryptoKey = imported.unchecked_into();
    VERIFYING_KEY.with(|slot| *slot.borrow_mut() = Some((spki_der.to_vec(), key.clone())));
    Ok(key)
}

/// HMAC-SHA256 of `data` under `secret`.
pub(super) async fn hmac_sha256(secret: &str, data: &str) -> Result<Vec<u8>, String> {
    let key = signing_key(secret).await?;
    let digest =
        settle(subtle()?.sign_with_str_and_u8_array("HMAC", &key, data.as_bytes())).await?;
    Ok(Uint8Array::new(&digest).to_vec())
}

async fn signing_key(secret: &str) -> Result<CryptoKey, String> {
    if let Some(key) = cached(&SIGNING_KEY, secret) {
        return Ok(key);
    }
    let algorithm = HmacImportParams::new_with_str("HMAC", "SHA-256");
    let imported = settle(subtle()?.import_key_with_object(
        "raw",
        &Uint8Array::from(secret.as_bytes()),
        &algorithm,
        false,
        &Array::of1(&"sign".into()),
    ))
    .await?;
    let key: CryptoKey = imported.unchecked_into();
    SIGNING_KEY.with(|slot| *slot.borrow_mut() = Some((secret.to_owned(), key.clone())));
    Ok(key)
}

/// One POST of `body` with `headers` to `url`, within `timeout_ms`: the
/// status it answered, or why there is none. Redirects are not followed
/// (a 3xx is what is answered): they would re-send the body to a host the
/// caller never named.
pub(super) async fn post(
    url: &str,
    headers: &[(&str, String)],
    body: &str,
    timeout_ms: u32,
) -> Result<u16, String> {
    let controller = AbortController::new().map_err(describe)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_redirect(RequestRedirect::Manual);
    let fields = Headers::new().map_err(describe)?;
    for (name, value) in headers {
        fields.append(name, value).map_err(describe)?;
    }
    init.set_headers(&fields);
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(&controller.signal()));
    let sending = settle(Ok(global().fetch_with_str_and_init(url, &init)));
    match select(Box::pin(sending), Box::pin(sleep(timeout_ms))).await {
        Either::Left((Ok(answered), _)) => {
            let response: Response = answered.unchecked_into();
            // Let the runtime drop the receiver's body rather than keep it.
            if let Some(body) = response.body() {
                let _ = body.cancel();
            }
            Ok(response.status())
        }
        Either::Left((Err(error), _)) => Err(error),
        Either::Right(((), _)) => {
            controller.abort();
            Err(format!("no answer within {timeout_ms} ms"))
        }
    }
}

/// One GET of `url` within `timeout_ms`: its body when it answered 200.
pub(super) async fn get_text(url: &str, timeout_ms: u32) -> Result<String, String> {
    let controller = AbortController::new().map_err(describe)?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_redirect(RequestRedirect::Manual);
    init.set_signal(Some(&controller.signal()));
    let request = global().fetch_with_str_and_init(url, &init);
    let fetching = async move {
        let answered = settle(Ok(request)).await?;
        let response: Response = answered.unchecked_into();
        if response.status() != 200 {
            return Err(format!("it answered {}", response.status()));
        }
        let text = settle(response.text()).await?;
        Ok(text.as_string().unwrap_or_default())
    };
    match select(Box::pin(fetching), Box::pin(sleep(timeout_ms))).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => {
            controller.abort();
            Err(format!("no answer within {timeout_ms} ms"))
        }
    }
}

/// The first `max_bytes` of `url` and its status (redirects followed), within
/// `timeout_ms`: asked for with `Range`, read chunk by chunk, and the rest
/// abandoned (a server that ignores `Range` may send megabytes).
pub(super) async fn get_start(
    url: &str,
    max_bytes: usize,
    timeout_ms: u32,
) -> Result<(u16, Vec<u8>), String> {
    let controller = AbortController::new().map_err(describe)?;
    let headers = Headers::new().map_err(describe)?;
    headers
        .set("range", &format!("bytes=0-{}", max_bytes.saturating_sub(1)))
        .map_err(describe)?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_redirect(RequestRedirect::Follow);
    init.set_signal(Some(&controller.signal()));
    let request = global().fetch_with_str_and_init(url, &init);
    let fetching = async {
        let response: Response = settle(Ok(request)).await?.unchecked_into();
        let status = response.status();
        let mut bytes = Vec::new();
        let body = Reflect::get(&response, &"body".into()).map_err(describe)?;
        if body.is_null() || body.is_undefined() {
            return Ok((status, bytes));
        }
        let reader = function(body.unchecked_ref(), "getReader")?
            .call0(&body)
            .map_err(describe)?;
        let read = function(reader.unchecked_ref(), "read")?;
        while bytes.len() < max_bytes {
            let chunk = settle(read.call0(&reader).map(|promise| promise.unchecked_into())).await?;
            if Reflect::get(&chunk, &"done".into())
                .map_err(describe)?
                .is_truthy()
            {
                break;
            }
            let value = Reflect::get(&chunk, &"value".into()).map_err(describe)?;
            bytes.extend(Uint8Array::new(&value).to_vec());
        }
        bytes.truncate(max_bytes);
        Ok((status, bytes))
    };
    let result = match select(Box::pin(fetching), Box::pin(sleep(timeout_ms))).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(format!("no answer within {timeout_ms} ms")),
    };
    // What was not read is not wanted.
    controller.abort();
    result
}

/// A `setTimeout` promise, cleared when the sleep is dropped (the KV read
/// won the race), so no timer outlives the request. Untyped on purpose:
/// `setTimeout` returns a number in workerd but an object under node (where
/// the wasm tests run), and the typed binding takes only the number.
pub(super) async fn sleep(ms: u32) {
    let scope = js_sys::global();
    let Ok(set_timeout) = function(&scope, "setTimeout") else {
        return; // no timers: no budget either, answer at once
    };
    let mut timer = JsValue::UNDEFINED;
    let promise = Promise::new(&mut |resolve, _reject| {
        timer = set_timeout
            .call2(&scope, &resolve, &JsValue::from(ms))
            .unwrap_or(JsValue::UNDEFINED);
    });
    let _clear = ClearTimer(timer);
    let _ = JsFuture::from(promise).await;
}

/// Clears a `setTimeout` timer when dropped.
struct ClearTimer(JsValue);

impl Drop for ClearTimer {
    fn drop(&mut self) {
        let scope = js_sys::global();
        if let Ok(clear) = function(&scope, "clearTimeout") {
            let _ = clear.call1(&scope, &self.0);
        }
    }
}

fn function(object: &Object, name: &str) -> Result<Function, String> {
    Reflect::get(object, &name.into())
        .map_err(describe)?
        .dyn_into::<Function>()
        .map_err(|_| format!("{name} is not a function"))
}

/// A JS error's message, in one line.
pub(super) fn describe(error: JsValue) -> String {
    let message = error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"));
    first_line(&message)
}

/// A JS error's message without its stack trace, for one-line logs.
pub(super) fn first_line(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}
