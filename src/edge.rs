//! The edge shell: Workers request in, Workers response out.
//!
//! Everything that decides anything lives in the core ([`crate::http`]);
//! this module only moves bytes between the Workers runtime and it:
//! headers and a size-capped body in, the [`Reply`] out, its log line to
//! the console, rules read from the KV binding [`ROUTES_BINDING`], the
//! clock, the vars and secrets, and the isolate's rules cache.

use std::cell::RefCell;

use futures_util::StreamExt;
use worker::{
    console_error, console_log, console_warn, event, Context, Env, Headers, Request, Response,
};

use crate::http::{self, Config, Reply, RequestHead, Services, MAX_BODY_BYTES};
use crate::log::{Level, LogLine};
use crate::storage::{Kv, RulesCache, StoreError};

/// The KV namespace binding that holds the rules (part of the public interface).
pub const ROUTES_BINDING: &str = "ROUTES";
/// Secret enabling `POST /simulate` for requests that bear it.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// Var: seconds an isolate trusts its copy of the live pointer (default 10).
pub const RULES_CACHE_SECONDS: &str = "RULES_CACHE_SECONDS";
const DEFAULT_CACHE_SECONDS: i64 = 10;

thread_local! {
    /// Lives as long as the isolate (leaked once, on purpose): warm pushes
    /// read no KV at all.
    static RULES_CACHE: &'static RefCell<RulesCache> = Box::leak(Box::default());
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    Ok(handle(req, &env).await)
}

/// Answers one request. Never fails: every outcome is a deliberate [`Reply`].
pub async fn handle(mut req: Request, env: &Env) -> Response {
    let reply = reply(&mut req, env).await;
    write_log(&reply.log);
    into_response(reply)
}

async fn reply(req: &mut Request, env: &Env) -> Reply {
    let config = config(env);
    let headers = req.headers();
    let content_type = header(headers, "content-type");
    let content_length = header(headers, "content-length");
    let authorization = header(headers, "authorization");
    let method = req.method();
    let url = req.inner().url();
    let head = RequestHead {
        method: method.as_ref(),
        url: &url,
        content_type: content_type.as_deref(),
        content_length: content_length.as_deref(),
        authorization: authorization.as_deref(),
    };
    let endpoint = match http::admit(&head, &config) {
        Ok(endpoint) => endpoint,
        Err(refusal) => return *refusal,
    };
    let body = match read_body(req).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return http::body_too_large(),
        Err(BodyError::Unreadable(reason)) => return http::unreadable_body(&reason),
    };
    let kv = KvRules::new(env);
    // Shared by every request of the isolate; the core borrows it only
    // between awaits, so interleaved requests never collide.
    let cache = RULES_CACHE.with(|cache| *cache);
    let services = Services {
        kv: &kv,
        cache,
        now_ms: worker::js_sys::Date::now() as i64,
        config: &config,
    };
    http::serve(&endpoint, &body, &services).await
}

fn config(env: &Env) -> Config {
    let text = |name: &str| env.var(name).ok().map(|value| value.to_string());
    let cache_seconds = text(RULES_CACHE_SECONDS)
        .and_then(|seconds| seconds.trim().parse::<i64>().ok())
        .filter(|seconds| *seconds >= 0)
        .unwrap_or(DEFAULT_CACHE_SECONDS);
    Config {
        admin_token: env
            .secret(ADMIN_TOKEN)
            .ok()
            .map(|secret| secret.to_string())
            .filter(|token| !token.is_empty()),
        cache_ms: cache_seconds * 1000,
    }
}

fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

enum BodyError {
    TooLarge,
    Unreadable(String),
}

/// Reads the body, stopping as soon as it exceeds [`MAX_BODY_BYTES`] (a
/// chunked upload declares no length, so the declared length is not enough).
async fn read_body(req: &mut Request) -> Result<Vec<u8>, BodyError> {
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new()); // no body at all
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| BodyError::Unreadable(error.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Rules in Workers KV. A missing binding is a store failure on every read,
/// so a misconfigured deployment still answers every call.
struct KvRules {
    store: Result<worker::kv::KvStore, String>,
}

impl KvRules {
    fn new(env: &Env) -> KvRules {
        KvRules {
            store: env
                .kv(ROUTES_BINDING)
                .map_err(|error| format!("KV binding {ROUTES_BINDING} is not usable: {error}")),
        }
    }
}

impl Kv for KvRules {
    async fn get(&self, key: &str, cache_ttl: u32) -> Result<Option<String>, StoreError> {
        let store = self
            .store
            .as_ref()
            .map_err(|error| StoreError(error.clone()))?;
        store
            .get(key)
            .cache_ttl(u64::from(cache_ttl))
            .text()
            .await
            .map_err(|error| {
                StoreError(format!("KV get failed: {}", first_line(&error.to_string())))
            })
    }
}

/// A JS error's message without its stack trace, for one-line logs.
fn first_line(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
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
    let headers = Headers::new();
    for (name, value) in &reply.headers {
        // Names and values are our own constants; set cannot fail on them.
        let _ = headers.set(name, value);
    }
    Response::builder()
        .with_status(reply.status)
        .with_headers(headers)
        .fixed(reply.body.into_bytes())
}
