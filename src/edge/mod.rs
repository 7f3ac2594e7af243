//! The edge shell: Workers request in, Workers response out.
//!
//! Everything that decides anything lives in the core ([`crate::http`]);
//! this module only moves bytes between the Workers runtime and it:
//! headers and a size-capped body in, the [`Reply`] out, its log line to
//! the console, rules read from the KV binding [`ROUTES_BINDING`], the
//! clock and timers, WebCrypto for sipgate's signatures, the vars and
//! secrets, and the isolate's caches (rules, imported key). [`journal`]
//! does the work after the answer (D1, the fan-out) and the retention run;
//! [`drive`] runs a request's future on the runtime's own calls.

#[doc(hidden)] // public for the wasm tests
pub mod drive;
mod journal;
mod web;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::StreamExt;
use worker::js_sys::{self, Function, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{self, prelude::wasm_bindgen, JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Headers, Request, Response, ResponseInit};
use worker::{console_error, console_log, console_warn, event, ByteStream, Context, Env};

use crate::http::{self, Config, Reply, RequestHead, Runtime, Services};
use crate::journal::Entry;
use crate::log::{Level, LogLine, TaskLine};
use crate::store::{Kv, KvWrite, RulesCache, StoreError, ROUTES_BINDING};

thread_local! {
    /// Lives as long as the isolate (leaked once, on purpose): warm pushes
    /// read no KV at all.
    static RULES_CACHE: &'static RefCell<RulesCache> = Box::leak(Box::default());
    /// The configuration read from the env, and the env it was read from:
    /// vars and secrets do not change within an isolate, and reading them
    /// is a dozen calls into JavaScript per request.
    static CONFIG: RefCell<Option<(JsValue, Rc<Config>)>> = const { RefCell::new(None) };
    /// Cloudflare Access's signing keys: (URL, JWKS, fetched at ms).
    static ACCESS_KEYS: RefCell<Option<(String, String, f64)>> = const { RefCell::new(None) };
}

/// How long the Access keys are trusted, and how soon a token with an
/// unknown `kid` may fetch them again (Access rotates its keys every six
/// weeks, announcing the next key in advance).
const ACCESS_KEYS_TTL_MS: f64 = 3_600_000.0;
const ACCESS_KEYS_REFRESH_MS: f64 = 60_000.0;
const ACCESS_KEYS_TIMEOUT_MS: u32 = 5_000;

/// Forgets the isolate's rules (cache and last-known-good), as a fresh
/// isolate has none. For tests, which share one isolate.
#[doc(hidden)]
pub fn forget_rules() {
    RULES_CACHE.with(|cache| *cache.borrow_mut() = RulesCache::default());
}

/// The runtime's own `Request` and `Response`, not `worker::Request`: its
/// conversion reads `request.cf`, which workerd builds on first access — a
/// tenth of a warm push's CPU time, for fields the router never reads.
///
/// Our own export, not `#[event(fetch)]`: the macro's glue runs the answer
/// on `wasm-bindgen-futures`' microtask queue, [`drive`] on the runtime's
/// own call and on the callback that settles what the answer waits for (a
/// warm push: this call, then its body's). worker-build's entry class calls
/// the wasm export named `fetch`, and the router's entry module
/// (`src/edge/entry.js`) calls that class's `fetch` without constructing it.
///
/// Infallible: every outcome is a deliberate answer, so there is no error
/// path (a 500 with `worker::Error`'s formatting) to carry.
#[wasm_bindgen(js_name = fetch)]
pub fn fetch(req: Request, env: Env, ctx: worker::worker_sys::Context) -> Promise {
    let ctx = Context::new(ctx);
    drive::to_promise(async move {
        let handled = handle(req, &env).await;
        if let Some(after) = handled.after {
            // The journal and the fan-out never delay the answer.
            ctx.wait_until(after);
        }
        handled.response.into()
    })
}

/// Deletes the journal's pushes older than `JOURNAL_RETENTION_DAYS`
/// (the Cron Trigger in wrangler.toml runs it daily).
#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    journal::apply_retention(&env, &cached_config(&env)).await;
}

/// The answer to a request, and the work to do once it is sent.
pub struct Handled {
    pub response: Response,
    pub after: Option<Pin<Box<dyn Future<Output = ()>>>>,
}

/// Answers one request. Never fails: every outcome is a deliberate [`Reply`].
pub async fn handle(req: Request, env: &Env) -> Handled {
    let (mut reply, refused) = reply(&req, env).await;
    if reply.log.msg.starts_with("admin") {
        // How close an admin request (a publish of a large table) came to
        // the isolate's 128 MB: the wasm's memory only ever grows.
        let pages = core::arch::wasm32::memory_size(0);
        reply.log.memory_mib = u32::try_from(pages / 16).ok();
    }
    write_log(&reply.log);
    let after = match (reply.record.take(), refused) {
        (Some(record), _) => {
            let work = journal::after_answer(env.clone(), cached_config(env), *record);
            Some(Box::pin(work) as Pin<Box<dyn Future<Output = ()>>>)
        }
        // Answered before its body was read: read it after the answer, so
        // the client gets the refusal, not a reset, and a client that
        // declares more than it sends holds no answer back.
        (None, Refused::BeforeBody) => {
            Some(Box::pin(async move { drain(&req).await }) as Pin<Box<dyn Future<Output = ()>>>)
        }
        (None, Refused::No) => None,
    };
    Handled {
        response: into_response(reply),
        after,
    }
}

/// Whether a request was answered without its body being read.
enum Refused {
    BeforeBody,
    No,
}

async fn reply(req: &Request, env: &Env) -> (Reply, Refused) {
    let config = cached_config(env);
    let headers = req.headers();
    let content_type = header(&headers, "content-type");
    let content_length = header(&headers, "content-length");
    let authorization = header(&headers, "authorization");
    let client_ip = header(&headers, "cf-connecting-ip");
    let signature = header(&headers, "x-sipgate-signature");
    let if_match = header(&headers, "if-match");
    let rules_source = header(&headers, "x-rules-source");
    let access_assertion = header(&headers, "cf-access-jwt-assertion");
    let method = req.method();
    let url = req.url();
    let head = RequestHead {
        method: &method,
        url: &url,
        content_type: content_type.as_deref(),
        content_length: content_length.as_deref(),
        authorization: authorization.as_deref(),
        client_ip: client_ip.as_deref(),
        signature: signature.as_deref(),
        if_match: if_match.as_deref(),
        rules_source: rules_source.as_deref(),
        access_assertion: access_assertion.as_deref(),
    };
    let mut endpoint = match http::admit(&head, &config) {
        Ok(endpoint) => endpoint,
        Err(refusal) => return (*refusal, Refused::BeforeBody),
    };
    let runtime = Edge {
        kv: KvRules::new(env),
        env,
    };
    // Shared by every request of the isolate; the core borrows it only
    // between awaits, so interleaved requests never collide.
    let cache = RULES_CACHE.with(|cache| *cache);
    let services = Services {
        runtime: &runtime,
        cache,
        now_ms: js_sys::Date::now() as i64,
        config: &config,
    };
    if let Err(refusal) = http::authorize(&mut endpoint, &services).await {
        return (*refusal, Refused::BeforeBody);
    }
    let max_bytes = endpoint.max_body_bytes();
    let declared = head
        .content_length
        .and_then(|length| length.trim().parse::<usize>().ok());
    let body = match read_body(req, declared, max_bytes).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return (http::body_too_large(max_bytes), Refused::No),
        Err(BodyError::LengthRequired) => {
            return (http::length_required(READ_WHOLE_BYTES), Refused::No)
        }
        Err(BodyError::Unreadable(reason)) => return (http::unreadable_body(&reason), Refused::No),
    };
    (http::serve(&endpoint, &body, &services).await, Refused::No)
}

/// The configuration for `env`, read once per isolate (and again only for
/// another env object, as tests hand the handler).
fn cached_config(env: &Env) -> Rc<Config> {
    let cached = CONFIG.with(|slot| {
        slot.borrow()
            .as_ref()
            .filter(|(seen, _)| Object::is(seen, env))
            .map(|(_, config)| config.clone())
    });
    cached.unwrap_or_else(|| {
        let config = Rc::new(config(env));
        CONFIG.with(|slot| *slot.borrow_mut() = Some((env.clone().into(), config.clone())));
        config
    })
}

fn config(env: &Env) -> Config {
    // Vars and secrets are both strings in the environment.
    // Vars and secrets are plain strings on the env object; a binding is
    // an object there.
    let setting = |name: &str| Reflect::get(env, &name.into()).ok();
    let config = Config::from_settings(
        |name| setting(name).and_then(|value| value.as_string()),
        setting(crate::journal::sql::BINDING).is_some_and(|binding| binding.is_object()),
    );
    // Once per isolate: a setting that is not taken is loud from the first
    // push on, not only a `denied` line per refused request.
    for problem in &config.problems {
        let mut line = TaskLine::new(problem.level, "config");
        line.error = Some(problem.message.clone());
        match problem.level {
            Level::Error => console_error!("{}", line.to_json()),
            _ => console_warn!("{}", line.to_json()),
        }
    }
    config
}

fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

fn describe_error(error: JsValue) -> BodyError {
    BodyError::Unreadable(web::describe(error))
}

enum BodyError {
    TooLarge,
    /// Over [`READ_WHOLE_BYTES`] without a declared length.
    LengthRequired,
    Unreadable(String),
}

/// Bodies up to this size are read in one piece (a push's is under a
/// KiB); larger ones are streamed.
const READ_WHOLE_BYTES: usize = 1024 * 1024;

/// Reads the body. A small one with a declared length (already checked
/// against `max_bytes`, and the runtime holds the body to it) in one piece;
/// otherwise streamed, stopping as soon as it exceeds the limit.
///
/// A large body streams into a buffer reserved once for its declared
/// length: read whole, it would be in memory twice (in JavaScript, then
/// copied into the wasm), and a buffer that grows copies itself as it
/// grows — for a 46 MiB document of 100,000 numbers either is most of an
/// isolate's 128 MB. So a body without a declared length stops at
/// [`READ_WHOLE_BYTES`].
async fn read_body(
    req: &Request,
    declared_length: Option<usize>,
    max_bytes: usize,
) -> Result<Vec<u8>, BodyError> {
    if declared_length.is_some_and(|length| length <= READ_WHOLE_BYTES) {
        let buffer = JsFuture::from(req.array_buffer().map_err(describe_error)?)
            .await
            .map_err(describe_error)?;
        let body = Uint8Array::new(&buffer);
        return if body.length() as usize > max_bytes {
            Err(BodyError::TooLarge)
        } else {
            Ok(body.to_vec())
        };
    }
    let Some(mut stream) = req.body().map(ByteStream::from) else {
        return Ok(Vec::new()); // no body at all
    };
    let mut body = Vec::with_capacity(declared_length.unwrap_or(0).min(max_bytes));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| BodyError::Unreadable(error.to_string()))?;
        if body.len() + chunk.len() > max_bytes {
            drain_stream(&mut stream, body.len() + chunk.len()).await;
            return Err(BodyError::TooLarge);
        }
        if declared_length.is_none() && body.len() + chunk.len() > READ_WHOLE_BYTES {
            drain_stream(&mut stream, body.len() + chunk.len()).await;
            return Err(BodyError::LengthRequired);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads and drops up to this many bytes of a refused request's body, so the
/// client gets the refusal instead of a connection reset while it is still
/// sending; an abusive client sending more simply loses the answer.
const DRAIN_LIMIT: usize = 1024 * 1024;

async fn drain(req: &Request) {
    if let Some(stream) = req.body() {
        drain_stream(&mut ByteStream::from(stream), 0).await;
    }
}

async fn drain_stream(stream: &mut ByteStream, mut drained: usize) {
    while let Some(Ok(chunk)) = stream.next().await {
        drained += chunk.len();
        if drained > DRAIN_LIMIT {
            break;
        }
    }
}

/// What the Workers runtime provides the core: KV, WebCrypto, timers, D1.
struct Edge<'a> {
    kv: KvRules,
    /// For the journal's binding, looked up only by `GET /calls/…`: a push
    /// never needs it, and the lookup is several calls into JavaScript.
    env: &'a Env,
}

impl Kv for Edge<'_> {
    async fn get(&self, key: &str, cache_ttl: u32) -> Result<Option<String>, StoreError> {
        self.kv.get(key, cache_ttl).await
    }
}

impl KvWrite for Edge<'_> {
    async fn put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.kv
            .call("put", [(key.into(), value.into())].into_iter())
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv
            .call("delete", [(key.into(), JsValue::UNDEFINED)].into_iter())
            .await
    }

    /// A batch's writes in flight together: one after another, the 782
    /// shards of 100,000 numbers would wait out 782 KV round trips.
    async fn put_many(&self, entries: &[(String, String)]) -> Result<(), StoreError> {
        let pairs = entries
            .iter()
            .map(|(key, value)| (key.into(), value.into()));
        self.kv.call("put", pairs).await
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        let pairs = keys.iter().map(|key| (key.into(), JsValue::UNDEFINED));
        self.kv.call("delete", pairs).await
    }
}

impl Runtime for Edge<'_> {
    async fn verify(&self, spki_der: &[u8], body: &[u8], signature: &[u8]) -> Result<bool, String> {
        web::verify(spki_der, body, signature).await
    }

    async fn sleep(&self, ms: u32) {
        web::sleep(ms).await;
    }

    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }

    async fn journal_linked(&self, call_ids: &[String]) -> Result<Vec<Entry>, String> {
        journal::linked(&journal::database(self.env)?, call_ids).await
    }

    async fn access_keys(&self, url: &str, refresh: bool) -> Result<String, String> {
        let now = js_sys::Date::now();
        let cached = ACCESS_KEYS.with(|slot| {
            slot.borrow().as_ref().and_then(|(cached_url, keys, at)| {
                let age = now - at;
                let fresh = if refresh {
                    age < ACCESS_KEYS_REFRESH_MS
                } else {
                    age < ACCESS_KEYS_TTL_MS
                };
                (cached_url == url && fresh).then(|| keys.clone())
            })
        });
        if let Some(keys) = cached {
            return Ok(keys);
        }
        let keys = web::get_text(url, ACCESS_KEYS_TIMEOUT_MS).await?;
        ACCESS_KEYS.with(|slot| *slot.borrow_mut() = Some((url.to_owned(), keys.clone(), now)));
        Ok(keys)
    }

    async fn fetch_start(
        &self,
        url: &str,
        bytes: usize,
        timeout_ms: u32,
    ) -> Result<(u16, Vec<u8>), String> {
        web::get_start(url, bytes, timeout_ms).await
    }

    async fn journal_select(
        &self,
        statement: &str,
        values: Vec<crate::journal::sql::Value>,
    ) -> Result<String, String> {
        journal::select(&journal::database(self.env)?, statement, values).await
    }
}

/// Rules in Workers KV. A missing binding is a store failure on every read,
/// so a misconfigured deployment still answers every call.
///
/// The binding's own `get(key, {type: "text", cacheTtl})`, called directly:
/// `worker::kv`'s builder serializes the same two options through
/// serde-wasm-bindgen, 2 KiB of wasm for an object of two fields.
struct KvRules {
    namespace: Result<(Object, Function), String>,
}

impl KvRules {
    fn new(env: &Env) -> KvRules {
        let namespace = Reflect::get(env, &ROUTES_BINDING.into())
            .ok()
            .filter(JsValue::is_object)
            .and_then(|binding| {
                let get = Reflect::get(&binding, &"get".into())
                    .ok()?
                    .dyn_into()
                    .ok()?;
                Some((binding.unchecked_into(), get))
            })
            .ok_or_else(|| format!("KV binding {ROUTES_BINDING} is not usable: it is not bound"));
        KvRules { namespace }
    }

    /// The binding's `put(key, value)` or `delete(key)` (the admin API's
    /// writes) for each pair, all in flight together (`Promise.all`; the
    /// runtime queues what exceeds its connections).
    async fn call(
        &self,
        method: &str,
        pairs: impl Iterator<Item = (JsValue, JsValue)>,
    ) -> Result<(), StoreError> {
        let (binding, _) = self
            .namespace
            .as_ref()
            .map_err(|error| StoreError(error.clone()))?;
        let failed =
            |error: JsValue| StoreError(format!("KV {method} failed: {}", web::describe(error)));
        let function: Function = Reflect::get(binding, &method.into())
            .map_err(failed)?
            .dyn_into()
            .map_err(failed)?;
        let promises = js_sys::Array::new();
        for (key, value) in pairs {
            promises.push(&function.call2(binding, &key, &value).map_err(failed)?);
        }
        JsFuture::from(Promise::all(&promises))
            .await
            .map(drop)
            .map_err(failed)
    }

    async fn get(&self, key: &str, cache_ttl: u32) -> Result<Option<String>, StoreError> {
        let (binding, get) = self
            .namespace
            .as_ref()
            .map_err(|error| StoreError(error.clone()))?;
        let failed =
            |error: JsValue| StoreError(format!("KV get failed: {}", web::describe(error)));
        let options = Object::new();
        Reflect::set(&options, &"type".into(), &"text".into()).map_err(failed)?;
        Reflect::set(&options, &"cacheTtl".into(), &cache_ttl.into()).map_err(failed)?;
        let promise = get.call2(binding, &key.into(), &options).map_err(failed)?;
        let value = JsFuture::from(Promise::from(promise))
            .await
            .map_err(failed)?;
        Ok(value.as_string())
    }
}

fn write_log(line: &LogLine) {
    let json = line.to_json();
    match line.level {
        Level::Info => console_log!("{json}"),
        Level::Warn => console_warn!("{json}"),
        Level::Error => console_error!("{json}"),
    }
}

fn into_response(reply: Reply) -> Response {
    let init = ResponseInit::new();
    init.set_status(reply.status);
    if let Ok(headers) = Headers::new() {
        for (name, value) in &reply.headers {
            // Names and values are our own; set cannot fail on them.
            let _ = headers.set(name, value);
        }
        init.set_headers(&headers);
    }
    let mut body = reply.body.into_bytes();
    // Building a Response from our own bytes and status cannot fail; if the
    // runtime ever refused, an empty 200 still lets the call proceed.
    Response::new_with_opt_u8_array_and_init(Some(&mut body), &init)
        .or_else(|_| Response::new())
        .unwrap_or_else(|_| JsValue::UNDEFINED.unchecked_into())
}
