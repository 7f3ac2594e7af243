//! The worker's HTTP behaviour, free of any runtime.
//!
//! ```text
//! POST /  Content-Type: application/x-www-form-urlencoded; charset=UTF-8
//! from=492111234567&to=4915791234567&direction=in
//!
//! 200  Content-Type: application/xml; charset=utf-8
//! <?xml version="1.0" encoding="UTF-8"?><Response/>
//! ```
//!
//! | request                                        | answer                        |
//! |------------------------------------------------|-------------------------------|
//! | not `POST`                                     | 405, `Allow: POST`            |
//! | body not `application/x-www-form-urlencoded`   | 415                           |
//! | body over 16 KiB                               | 413                           |
//! | not a push (`newCall` without `to`, …)         | 400, the reason in plain text |
//! | a push                                         | 200, XML — also when KV or the rules fail |
//! | `/admin/api/…` with `Authorization: Bearer $ADMIN_TOKEN` | the [`admin`] API: JSON |
//! | `POST /simulate` (an alias of `POST /admin/api/simulate`) | 200, the JSON [`Trace`](crate::rules::simulate::Trace) |
//! | `GET /calls/{callId}` (an alias of `GET /admin/api/calls/{callId}`) | 200, the call's [`Timeline`](crate::journal::timeline::Timeline) as JSON; 404 when nothing is recorded |
//! | any of these without `ADMIN_TOKEN` configured, or without it as bearer | 404 |
//! | `GET /admin` (the console, without its slash) | 308 to `/admin/` |
//!
//! The console's pages below `/admin/` are static assets: Cloudflare serves
//! them before the worker runs, which sees no such path. Every other path
//! takes pushes (`?menu=…&try=…` marks the digits of a
//! menu). The edge shell calls [`admit`] before reading the body, reads at
//! most [`MAX_BODY_BYTES`], then calls [`serve`]; a push's [`Reply`] may
//! carry a [`Record`] for the journal and the fan-out, which the shell
//! writes after answering.

pub mod admin;
mod calls;
pub mod config;
mod draft;
mod live;
mod push;
mod runtime;
mod simulate;
pub mod sounds;

use std::future::Future;
use std::pin::Pin;

use crate::journal::Entry;
use crate::log::{clip, Level, LogLine};
use crate::protocol::url::SelfUrl;
use crate::protocol::xml;
use crate::trust::access::{signature_bytes, Denied, REALM};

pub use config::Config;
pub use runtime::{Runtime, Services};

/// Largest body accepted; a real push is ~270 bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

const TEXT: &str = "text/plain; charset=utf-8";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// What [`admit`] needs to know before the body is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestHead<'a> {
    pub method: &'a str,
    /// The full URL the request was sent to.
    pub url: &'a str,
    pub content_type: Option<&'a str>,
    pub content_length: Option<&'a str>,
    pub authorization: Option<&'a str>,
    /// `CF-Connecting-IP`: the client address as Cloudflare saw it.
    pub client_ip: Option<&'a str>,
    /// `X-Sipgate-Signature`.
    pub signature: Option<&'a str>,
    /// `If-Match` (admin API: publish only over this version).
    pub if_match: Option<&'a str>,
    /// `X-Rules-Source` (admin API: where a published document came from).
    pub rules_source: Option<&'a str>,
    /// `Cf-Access-Jwt-Assertion` (admin API: a Cloudflare Access sign-in).
    pub access_assertion: Option<&'a str>,
}

/// What a request is for, once admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A push; `query` carries a menu's state.
    Push {
        base: SelfUrl,
        query: String,
        /// `X-Sipgate-Signature`, checked against the body once it is read.
        signature: Option<String>,
    },
    /// The admin API (and its aliases `/simulate`, `/calls/{callId}`).
    Admin(Box<admin::AdminRequest>),
}

impl Endpoint {
    /// The largest body the endpoint reads.
    pub fn max_body_bytes(&self) -> usize {
        match self {
            Endpoint::Push { .. } => MAX_BODY_BYTES,
            Endpoint::Admin(_) => admin::MAX_ADMIN_BODY_BYTES,
        }
    }
}

/// A complete HTTP answer plus the line to log about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub log: LogLine,
    /// For the journal and the fan-out, once the answer is sent.
    pub record: Option<Box<Record>>,
}

/// What the shell writes after answering a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The push's identity ([`event_id`](crate::journal::entry::event_id) of its body): stored once under
    /// it, forwarded once, and sent to receivers as `X-Router-Event-Id`.
    pub event_id: String,
    /// For the journal (numbers masked as configured); `None` when it is off.
    pub stored: Option<Entry>,
    /// For the receivers (numbers as sent); `None` when there are none.
    pub forwarded: Option<Entry>,
}

impl Reply {
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.as_str())
    }

    /// A plain-text refusal whose reason is both the body and the log line.
    fn refuse(status: u16, reason: String) -> Reply {
        let mut log = LogLine::new(Level::Warn, "refused", status);
        log.error = Some(reason.clone());
        Reply {
            status,
            headers: vec![("Content-Type", TEXT.to_owned())],
            body: reason + "\n",
            log,
            record: None,
        }
    }

    fn xml(document: String, log: LogLine) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type", xml::CONTENT_TYPE.to_owned())],
            body: document,
            log,
            record: None,
        }
    }

    fn json(body: String, log: LogLine) -> Reply {
        Reply {
            status: log.status,
            headers: vec![("Content-Type", format!("{JSON}; charset=utf-8"))],
            body,
            log,
            record: None,
        }
    }
}

/// Where the console is, without its trailing slash.
const CONSOLE_DOOR: &str = "/admin";

/// Checks path, method, media type and declared length; admin endpoints
/// also the bearer token.
///
/// The refusal is boxed: it is the rare path, and keeps the `Ok` small.
pub fn admit(head: &RequestHead<'_>, config: &Config) -> Result<Endpoint, Box<Reply>> {
    let (request_base, path, query) = split_url(head.url).ok_or_else(|| {
        Box::new(Reply::refuse(
            400,
            "the request URL is not absolute http(s)".to_owned(),
        ))
    })?;
    // The console's door without its slash: its pages are static assets
    // under /admin/ (wrangler.toml), and the worker runs first for every
    // path above that, so that a POST to /admin stays a push.
    if path == CONSOLE_DOOR && matches!(head.method, "GET" | "HEAD") {
        let mut reply = Reply::refuse(308, format!("the console is at {CONSOLE_DOOR}/"));
        reply.log = LogLine::new(Level::Info, "redirected", 308);
        reply.headers.push(("Location", format!("{CONSOLE_DOOR}/")));
        return Err(Box::new(reply));
    }
    let admin_path = match path.strip_prefix(admin::PREFIX) {
        Some(route) => Some(route),
        None if path == "/simulate" => Some("simulate"),
        None => path
            .strip_prefix('/')
            .filter(|route| route.starts_with("calls/")),
    };
    if let Some(route) = admin_path {
        let sign_in = if admin_authorized(head, config) {
            admin::SignIn::Token
        } else {
            match (&config.access_sign_in, head.access_assertion) {
                // Checked before the body is read (see [`authorize`]).
                (Some(_), Some(assertion)) => admin::SignIn::Access(assertion.to_owned()),
                // Without the token the admin endpoints do not exist, to anyone.
                _ => return Err(Box::new(admin::not_found())),
            }
        };
        return admit_admin(head, config, route, &query, request_base, sign_in);
    }
    // Where sipgate reaches the router: PUBLIC_URL when set, whatever the
    // request's Host header says.
    let base = config.public_url.clone().unwrap_or(request_base);
    let endpoint = admit_push(head, config, base, query)?;
    check_body_head(head, FORM, MAX_BODY_BYTES)?;
    Ok(endpoint)
}

/// An admin request: its route, and its body's media type and length.
fn admit_admin(
    head: &RequestHead<'_>,
    config: &Config,
    route: &str,
    query: &str,
    request_base: SelfUrl,
    sign_in: admin::SignIn,
) -> Result<Endpoint, Box<Reply>> {
    let request = admin::AdminRequest {
        sign_in,
        route: admin::route(head.method, route, query)?,
        base: push_url(head.url, request_base, config),
        if_match: admin::if_match(head.if_match)?,
        source_name: head.rules_source.map(clip),
        by: admin::TOKEN_IDENTITY.to_owned(),
    };
    if let Some(media_type) = request.body_type() {
        check_body_head(head, media_type, admin::MAX_ADMIN_BODY_BYTES).map_err(|reply| {
            // Admin refusals are JSON, like every admin answer.
            Box::new(admin::refuse(reply.status, reply.body.trim_end()))
        })?;
    }
    Ok(Endpoint::Admin(Box::new(request)))
}

/// The URL sipgate posts pushes to, as a simulated answer carries it:
/// PUBLIC_URL, or the request's origin; with basic auth, its user and the
/// password redacted (the admin API shows no secret).
fn push_url(request_url: &str, request_base: SelfUrl, config: &Config) -> SelfUrl {
    let origin = crate::protocol::url::parts(request_url).and_then(|parts| {
        SelfUrl::from_request_url(&format!("{}://{}/", parts.scheme, parts.authority))
    });
    let base = config.public_url.clone().or(origin).unwrap_or(request_base);
    match &config.access.basic {
        Some(credentials) => base
            .with_credentials(&credentials.user, crate::trust::access::REDACTED)
            .unwrap_or(base),
        None => base,
    }
}

/// A push, if it passes the access checks that need no body; its menu and
/// callback URLs carry the credentials sipgate needs to post to them.
fn admit_push(
    head: &RequestHead<'_>,
    config: &Config,
    base: SelfUrl,
    query: String,
) -> Result<Endpoint, Box<Reply>> {
    if let Err(denied) = config.access.check_head(head.client_ip, head.authorization) {
        return Err(Box::new(deny(&denied)));
    }
    let base = match &config.access.basic {
        Some(credentials) => base
            .with_credentials(&credentials.user, &credentials.password)
            .unwrap_or(base),
        None => base,
    };
    Ok(Endpoint::Push {
        base,
        query,
        signature: head.signature.map(str::to_owned),
    })
}

/// A POST (PUT for the admin API) of `media_type` that declares no more
/// than `max_bytes`.
fn check_body_head(
    head: &RequestHead<'_>,
    media_type: &str,
    max_bytes: usize,
) -> Result<(), Box<Reply>> {
    if head.method != "POST" && !(media_type == JSON && head.method == "PUT") {
        let mut reply = Reply::refuse(
            405,
            format!(
                "method {} not allowed: sipgate.io pushes are POST requests",
                clip(head.method)
            ),
        );
        reply.headers.push(("Allow", "POST".to_owned()));
        return Err(Box::new(reply));
    }
    check_media_type(head.content_type, media_type)
        .map_err(|reason| Box::new(Reply::refuse(415, reason)))?;
    match head
        .content_length
        .map(|length| length.trim().parse::<u64>())
    {
        Some(Ok(length)) if length > max_bytes as u64 => Err(Box::new(body_too_large(max_bytes))),
        Some(Err(_)) => Err(Box::new(Reply::refuse(
            400,
            "Content-Length is not a number".to_owned(),
        ))),
        _ => Ok(()),
    }
}

fn admin_authorized(head: &RequestHead<'_>, config: &Config) -> bool {
    config
        .admin_token
        .as_ref()
        .is_some_and(|token| token.admits(head.authorization))
}

/// The refusal of a push that fails an access check; the log says why
/// (never with secrets or the body), the sender gets no more than needed.
fn deny(denied: &Denied) -> Reply {
    let mut reply = Reply::refuse(denied.status(), denied.reason());
    reply.log.msg = "denied";
    if let Denied::Misconfigured(problem) = denied {
        reply.log.level = Level::Error;
        reply.log.error = Some(problem.clone());
    }
    if let Denied::Credentials = denied {
        reply.headers.push((
            "WWW-Authenticate",
            format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
        ));
    }
    reply
}

/// Checks `X-Sipgate-Signature` over the raw body, before anything parses it.
async fn verify<R: Runtime>(
    runtime: &R,
    key: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), Denied> {
    let signature = signature_bytes(header)?;
    match runtime.verify(key, body, &signature).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Denied::Signature(
            "X-Sipgate-Signature does not match the body",
        )),
        Err(problem) => Err(Denied::Misconfigured(format!(
            "cannot verify signatures: {problem}"
        ))),
    }
}

/// The router's own URL (without query), the path, and the query.
fn split_url(url: &str) -> Option<(SelfUrl, &str, String)> {
    let base = SelfUrl::from_request_url(url)?;
    let parts = crate::protocol::url::parts(url)?;
    Some((base, parts.path, parts.query.to_owned()))
}

/// The answer to a body longer than the endpoint reads ([`MAX_BODY_BYTES`] for a push).
pub fn body_too_large(max_bytes: usize) -> Reply {
    if max_bytes == MAX_BODY_BYTES {
        Reply::refuse(
            413,
            format!("body larger than {MAX_BODY_BYTES} bytes: a push is a few hundred bytes"),
        )
    } else {
        admin::refuse(413, format!("body larger than {max_bytes} bytes"))
    }
}

/// The answer to a large body sent without a `Content-Length`: read into
/// a buffer that grows, it would be in memory twice over while it grows.
pub fn length_required(read_bytes: usize) -> Reply {
    admin::refuse(
        411,
        format!(
            "a body over {read_bytes} bytes needs a Content-Length (curl --data-binary @FILE sends one)"
        ),
    )
}

/// The answer when the body cannot be read to its end (the client went away,
/// or sent less than it declared).
pub fn unreadable_body(reason: &str) -> Reply {
    Reply::refuse(400, format!("body could not be read: {}", clip(reason)))
}

/// `wanted` (e.g. `application/x-www-form-urlencoded`), optionally with `charset=UTF-8`.
fn check_media_type(content_type: Option<&str>, wanted: &str) -> Result<(), String> {
    let Some(content_type) = content_type else {
        return Err(format!("missing Content-Type: send {wanted}"));
    };
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(wanted) {
        return Err(format!("Content-Type {} is not {wanted}", clip(essence)));
    }
    for parameter in parts {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !(value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8"))
        {
            return Err(format!(
                "charset {} is not supported: send UTF-8",
                clip(value)
            ));
        }
    }
    Ok(())
}

/// Completes an admin request's sign-in, before its body is read: a
/// Cloudflare Access token is checked against the team's keys (404 when it
/// fails, as without any). Everything else passes as admitted.
pub async fn authorize<R: Runtime>(
    endpoint: &mut Endpoint,
    services: &Services<'_, R>,
) -> Result<(), Box<Reply>> {
    match endpoint {
        Endpoint::Admin(request) => {
            let signing_in: Pin<Box<dyn Future<Output = _> + '_>> =
                Box::pin(admin::sign_in(request, services));
            signing_in.await.map_err(Box::new)
        }
        Endpoint::Push { .. } => Ok(()),
    }
}

/// Answers an admitted request whose body has been read.
pub async fn serve<R: Runtime>(
    endpoint: &Endpoint,
    body: &[u8],
    services: &Services<'_, R>,
) -> Reply {
    match endpoint {
        Endpoint::Push {
            base,
            query,
            signature,
        } => {
            if let Some(key) = &services.config.access.signature_key {
                if let Err(denied) = verify(services.runtime, key, body, signature.as_deref()).await
                {
                    return deny(&denied);
                }
            }
            push::answer_push(body, base, query, services).await
        }
        Endpoint::Admin(request) => {
            // Its own future behind a pointer, never inlined into the
            // push's: a cold isolate compiles each wasm function the first
            // time it runs, and a push then compiles none of the admin
            // API (bench/RESULTS.md, cold start).
            let answering: Pin<Box<dyn Future<Output = Reply> + '_>> =
                Box::pin(admin::answer(request, body, services));
            answering.await
        }
    }
}

#[cfg(test)]
mod admin_tests;
#[cfg(test)]
mod journal_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trust_tests;
