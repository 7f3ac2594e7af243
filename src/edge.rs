//! The edge shell: Workers request in, Workers response out.
//!
//! Everything that decides anything lives in the core ([`crate::http`]);
//! this module only moves bytes between the Workers runtime and it:
//! headers and a size-capped body in, the [`Reply`] out, its log line to
//! the console, and routes read from the KV binding [`ROUTES_BINDING`].

use futures_util::StreamExt;
use worker::{
    console_error, console_log, console_warn, event, Context, Env, Headers, Request, Response,
};

use crate::http::{self, Reply, RequestHead, MAX_BODY_BYTES};
use crate::log::{Level, LogLine};
use crate::router::{RouteStore, StoreError};

/// The KV namespace binding that holds the routes (part of the public interface).
pub const ROUTES_BINDING: &str = "ROUTES";

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
    let headers = req.headers();
    let content_type = header(headers, "content-type");
    let content_length = header(headers, "content-length");
    let method = req.method();
    let head = RequestHead {
        method: method.as_ref(),
        content_type: content_type.as_deref(),
        content_length: content_length.as_deref(),
    };
    if let Err(refusal) = http::admit(&head) {
        return *refusal;
    }
    let body = match read_body(req).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return http::body_too_large(),
        Err(BodyError::Unreadable(reason)) => return http::unreadable_body(&reason),
    };
    http::answer(&body, &KvRoutes::new(env)).await
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

/// Routes in Workers KV. A missing binding is a store failure on every read,
/// so a misconfigured deployment still answers every call.
struct KvRoutes {
    store: Result<worker::kv::KvStore, String>,
}

impl KvRoutes {
    fn new(env: &Env) -> KvRoutes {
        KvRoutes {
            store: env
                .kv(ROUTES_BINDING)
                .map_err(|error| format!("KV binding {ROUTES_BINDING} is not usable: {error}")),
        }
    }
}

impl RouteStore for KvRoutes {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let store = self
            .store
            .as_ref()
            .map_err(|error| StoreError(error.clone()))?;
        store
            .get(key)
            .text()
            .await
            .map_err(|error| StoreError(format!("KV get failed: {error}")))
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
