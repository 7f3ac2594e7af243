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
//! | `POST /simulate` with `Authorization: Bearer $ADMIN_TOKEN` | 200, the JSON [`Trace`](crate::rules::simulate::Trace) |
//! | `/simulate` without `ADMIN_TOKEN` configured, or without it as bearer | 404 |
//! | `GET /calls/{callId}` with `Authorization: Bearer $ADMIN_TOKEN` | 200, the call's [`Timeline`] as JSON; 404 when nothing is recorded |
//!
//! Every other path takes pushes (`?menu=…&try=…` marks the digits of a
//! menu). The edge shell calls [`admit`] before reading the body, reads at
//! most [`MAX_BODY_BYTES`], then calls [`serve`]; a push's [`Reply`] may
//! carry a [`Record`] for the journal and the fan-out, which the shell
//! writes after answering.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use futures_util::future::{select, Either};

use crate::trust::access::{signature_bytes, Denied, REALM};
pub mod config;

use crate::journal::timeline::{Expansion, Timeline};
use crate::journal::{entry::event_id, Entry, Masking};
use crate::log::{clip, Level, LogLine};
use crate::protocol::push::Push;
use crate::protocol::response::Response;
use crate::protocol::url::HttpUrl;
use crate::protocol::url::SelfUrl;
use crate::protocol::xml;
use crate::rules::menu::MenuState;
use crate::rules::problem::parse_json;
use crate::rules::simulate::{simulate, CallInput};
use crate::rules::Outcome;
use crate::store::{last_known_good, load_live, Kv, Live, LoadError, RulesCache};
pub use config::Config;

/// Largest body accepted; a real push is ~270 bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

const TEXT: &str = "text/plain; charset=utf-8";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// What [`admit`] needs to know before the body is read.
#[derive(Debug, Clone, Copy)]
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
}

/// What the runtime provides beyond KV: WebCrypto, timers, the journal.
#[allow(async_fn_in_trait)] // Workers run single-threaded: no `Send` bound wanted.
pub trait Runtime: Kv {
    /// Verifies an RSASSA-PKCS1-v1_5 / SHA-256 `signature` of `body` with
    /// the key in `spki_der`; `Err` when the key cannot be used.
    async fn verify(&self, spki_der: &[u8], body: &[u8], signature: &[u8]) -> Result<bool, String>;
    /// Completes after `ms` milliseconds.
    async fn sleep(&self, ms: u32);
    /// Milliseconds since the epoch, now.
    fn now_ms(&self) -> i64;
    /// The journal's pushes whose `callId` or `origCallId` is one of `call_ids`.
    async fn journal_linked(&self, call_ids: &[String]) -> Result<Vec<Entry>, String>;
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
    Simulate {
        base: SelfUrl,
    },
    /// `GET /calls/{callId}`.
    Call {
        call_id: String,
    },
}

/// Everything a request is answered with.
pub struct Services<'a, R: Runtime> {
    pub runtime: &'a R,
    pub cache: &'a RefCell<RulesCache>,
    /// Milliseconds since the epoch.
    pub now_ms: i64,
    pub config: &'a Config,
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
    /// The push's identity ([`event_id`] of its body): stored once under
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
    // Where sipgate reaches the router: PUBLIC_URL when set, whatever the
    // request's Host header says.
    let base = config.public_url.clone().unwrap_or(request_base);
    let admin = path == "/simulate" || path.starts_with("/calls/");
    if admin && !admin_authorized(head, config) {
        // Without the token the admin endpoints do not exist, to anyone.
        return Err(Box::new(Reply::refuse(404, "not found".to_owned())));
    }
    if let Some(call_id) = path.strip_prefix("/calls/") {
        return admit_call(head.method, call_id);
    }
    let (endpoint, media_type) = if path == "/simulate" {
        (Endpoint::Simulate { base }, JSON)
    } else {
        if let Err(denied) = config.access.check_head(head.client_ip, head.authorization) {
            return Err(Box::new(deny(&denied)));
        }
        let signature = head.signature.map(str::to_owned);
        // Menu URLs must carry the credentials sipgate needs to post to them.
        let base = match &config.access.basic {
            Some(credentials) => base
                .with_credentials(&credentials.user, &credentials.password)
                .unwrap_or(base),
            None => base,
        };
        (
            Endpoint::Push {
                base,
                query,
                signature,
            },
            FORM,
        )
    };
    if head.method != "POST" {
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
    if let Some(length) = head.content_length {
        match length.trim().parse::<u64>() {
            Ok(length) if length > MAX_BODY_BYTES as u64 => return Err(Box::new(body_too_large())),
            Ok(_) => {}
            Err(_) => {
                return Err(Box::new(Reply::refuse(
                    400,
                    "Content-Length is not a number".to_owned(),
                )))
            }
        }
    }
    Ok(endpoint)
}

fn admin_authorized(head: &RequestHead<'_>, config: &Config) -> bool {
    config
        .admin_token
        .as_ref()
        .is_some_and(|token| token.admits(head.authorization))
}

/// `GET /calls/{callId}`: the id as sipgate sends it (percent-decoded).
fn admit_call(method: &str, call_id: &str) -> Result<Endpoint, Box<Reply>> {
    if method != "GET" {
        let mut reply = Reply::refuse(405, format!("method {} not allowed here", clip(method)));
        reply.headers.push(("Allow", "GET".to_owned()));
        return Err(Box::new(reply));
    }
    let call_id = crate::protocol::form::decode_path_segment(call_id)
        .filter(|id| !id.is_empty() && id.len() <= 128 && !id.contains('/'))
        .ok_or_else(|| Box::new(Reply::refuse(400, "not a call id".to_owned())))?;
    Ok(Endpoint::Call { call_id })
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
    let without_fragment = url.split('#').next().unwrap_or_default();
    let (before_query, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let after_scheme = before_query.split_once("://").map_or("", |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .and_then(|at| after_scheme.get(at..))
        .unwrap_or("/");
    Some((base, path, query.to_owned()))
}

/// The answer to a body longer than [`MAX_BODY_BYTES`].
pub fn body_too_large() -> Reply {
    Reply::refuse(
        413,
        format!("body larger than {MAX_BODY_BYTES} bytes: a push is a few hundred bytes"),
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
            answer_push(body, base, query, services).await
        }
        Endpoint::Simulate { base } => answer_simulation(body, base, services).await,
        Endpoint::Call { call_id } => answer_call(call_id, services).await,
    }
}

async fn answer_push<R: Runtime>(
    body: &[u8],
    base: &SelfUrl,
    query: &str,
    services: &Services<'_, R>,
) -> Reply {
    let push = match Push::parse(body) {
        Ok(push) => push,
        Err(error) => return Reply::refuse(400, error.to_string()),
    };
    let mut log = LogLine::new(Level::Info, "not_routed", 200);
    log.event = Some(clip(push.event_name()));
    log.call_id = push.leg().call_id.as_deref().map(clip);
    // When calls are watched, every call answered comes back to us — to
    // menu digits too: sipgate sends answer and hangup only if the *latest*
    // answer asked for them.
    let callbacks = match services.config.journal.watches_calls() {
        true => base.url(),
        false => None,
    };
    let call_answer = |response: &Response| match with_callbacks(response, callbacks.as_ref()) {
        Some(watched) => written(&watched),
        None => written(response),
    };

    // The action, one word, and the XML document.
    let (answer, xml) = match &push {
        Push::NewCall(call) => {
            let number = call.sipgate_number().number().map(|number| number.as_str());
            match load(services, number, &mut log).await {
                Some(Live {
                    kill: Some(kill), ..
                }) => call_answer(&respond_kill(&kill, &mut log)),
                Some(Live {
                    rules: Some(rules), ..
                }) => {
                    let facts = crate::rules::condition::CallFacts {
                        direction: call.direction,
                        from: &call.from,
                        to: &call.to,
                        diversion: call.leg.diversion.as_ref(),
                        users: &call.users,
                        utc: services.now_ms.div_euclid(1000),
                    };
                    let decision = rules.decide_call(&facts, number, base);
                    match decision.matched {
                        Some((rule, _)) => {
                            log.msg = "routed";
                            log.rule = Some(rule.id.clone());
                        }
                        None => log.msg = "no_match",
                    }
                    match with_callbacks(&decision.response, callbacks.as_ref()) {
                        Some(watched) => written(&watched),
                        None => (decision.response.action_name(), decision.xml().into_owned()),
                    }
                }
                Some(_) => {
                    log.msg = "no_rules";
                    call_answer(&Response::proceed())
                }
                None => call_answer(&Response::proceed()),
            }
        }
        Push::Dtmf(dtmf) => match MenuState::from_query(query) {
            // Digits for a Gather of the user's own: nothing of ours to decide.
            None => call_answer(&Response::proceed()),
            Some(state) => {
                log.menu = Some(state.menu.clone());
                match load(services, None, &mut log).await {
                    Some(Live {
                        kill: Some(kill), ..
                    }) => call_answer(&respond_kill(&kill, &mut log)),
                    Some(Live {
                        rules: Some(rules), ..
                    }) => {
                        let decision = rules.decide_digits(&state, &dtmf.digits, base);
                        match decision.step {
                            Some(step) => {
                                log.msg = "menu";
                                log.step = Some(step.reason().as_str());
                            }
                            None => {
                                log.level = Level::Warn;
                                log.msg = "unknown_menu";
                            }
                        }
                        call_answer(&decision.response)
                    }
                    Some(_) => {
                        log.msg = "no_rules";
                        call_answer(&Response::proceed())
                    }
                    None => call_answer(&Response::proceed()),
                }
            }
        },
        // sipgate ignores the answer to answer and hangup; unknown events proceed.
        Push::Answer(_) | Push::Hangup(_) | Push::Unknown(_) => written(&Response::proceed()),
    };
    log.answer = Some(answer);
    let record = journal_record(&push, &log, &xml, body, services);
    Reply {
        record,
        ..Reply::xml(xml, log)
    }
}

fn written(response: &Response) -> (&'static str, String) {
    (response.action_name(), response.to_xml())
}

/// `response` with `onAnswer`/`onHangup` set to `callbacks` where it has
/// none (a rule's own are kept); `None` when nothing changes.
fn with_callbacks(response: &Response, callbacks: Option<&HttpUrl>) -> Option<Response> {
    let url = callbacks?;
    if response.on_answer.is_some() && response.on_hangup.is_some() {
        return None;
    }
    Some(Response {
        on_answer: response.on_answer.clone().or_else(|| Some(url.clone())),
        on_hangup: response.on_hangup.clone().or_else(|| Some(url.clone())),
        action: response.action.clone(),
    })
}

/// What the journal and the receivers get about an answered push.
fn journal_record<R: Runtime>(
    push: &Push,
    log: &LogLine,
    xml: &str,
    body: &[u8],
    services: &Services<'_, R>,
) -> Option<Box<Record>> {
    let journal = &services.config.journal;
    if !journal.watches_calls() {
        return None;
    }
    let at_ms = services.now_ms;
    let decision_ms = services.runtime.now_ms().saturating_sub(at_ms).max(0);
    // The password in the answer's URLs is for sipgate only.
    let xml = match &services.config.access.basic {
        Some(credentials) => credentials.redact(xml),
        None => std::borrow::Cow::Borrowed(xml),
    };
    let id = event_id(body);
    let entry = |masking| Entry {
        decision_ms: Some(decision_ms),
        event_id: Some(id.clone()),
        ..Entry::new(push, log, &xml, masking, at_ms)
    };
    Some(Box::new(Record {
        event_id: id.clone(),
        stored: journal.recording.then(|| entry(journal.masking)),
        forwarded: (!journal.forwarding.receivers.is_empty()).then(|| entry(Masking::Off)),
    }))
}

/// `GET /calls/{callId}`: every push of the call's legs, from the journal.
async fn answer_call<R: Runtime>(call_id: &str, services: &Services<'_, R>) -> Reply {
    if !services.config.journal.bound {
        let mut reply = Reply::refuse(
            404,
            format!(
                "the journal is off: no D1 binding {}",
                crate::journal::sql::BINDING
            ),
        );
        reply.log.msg = "journal_off";
        return reply;
    }
    let mut expansion = Expansion::new(call_id);
    while let Some(call_ids) = expansion.next_query() {
        match services.runtime.journal_linked(&call_ids).await {
            Ok(entries) => expansion.add(entries),
            Err(error) => {
                let mut reply = Reply::refuse(503, format!("the journal cannot be read: {error}"));
                reply.log.level = Level::Error;
                reply.log.msg = "journal_unavailable";
                return reply;
            }
        }
    }
    let timeline: Timeline = expansion.finish(call_id);
    if timeline.is_empty() {
        return Reply::refuse(
            404,
            format!("no pushes recorded for call {}", clip(call_id)),
        );
    }
    let mut log = LogLine::new(Level::Info, "call", 200);
    log.call_id = Some(clip(call_id));
    Reply::json(
        serde_json::to_string_pretty(&timeline).unwrap_or_default() + "\n",
        log,
    )
}

/// The live rules, within the KV time budget; when they cannot be had, the
/// isolate's last-known-good rules; `None` (proceed) when there are none
/// either. Notes in `log` what happened.
async fn load<R: Runtime>(
    services: &Services<'_, R>,
    number: Option<&str>,
    log: &mut LogLine,
) -> Option<Live> {
    let budget_ms = services.config.kv_budget_ms;
    let mut loading = pin!(load_live(
        services.cache,
        services.runtime,
        number,
        services.now_ms,
        services.config.cache_ms,
    ));
    // A warm isolate answers without waiting: no timer for it.
    let first = poll_fn(|context| Poll::Ready(loading.as_mut().poll(context))).await;
    let result = match first {
        Poll::Ready(result) => result,
        Poll::Pending => {
            let deadline = pin!(services.runtime.sleep(budget_ms));
            match select(loading, deadline).await {
                Either::Left((result, _)) => result,
                // The KV read is abandoned, not awaited: sipgate is answered now.
                Either::Right(((), _)) => Err(LoadError::TimedOut { budget_ms }),
            }
        }
    };
    match result {
        Ok(live) => {
            log.version = Some(live.version);
            log.reads = Some(live.reads);
            if let Some(warning) = &live.warning {
                log.level = Level::Error;
                log.error = Some(warning.clone());
            }
            Some(live)
        }
        Err(error) => {
            log.level = Level::Error;
            log.key = error.key().map(str::to_owned);
            match last_known_good(services.cache, number) {
                Some(live) => {
                    log.version = Some(live.version);
                    log.error = Some(format!(
                        "{error}; answered from the last-known-good rules (version {})",
                        live.version
                    ));
                    Some(live)
                }
                None => {
                    log.msg = "rules_unavailable";
                    log.error = Some(error.to_string());
                    None
                }
            }
        }
    }
}

fn respond_kill(kill: &Outcome, log: &mut LogLine) -> Response {
    log.msg = "killed";
    match kill {
        Outcome::Respond(action) => Response {
            action: action.clone(),
            ..Response::default()
        },
        // The kill switch is compiled without menus: it cannot name one.
        Outcome::Menu(_) => Response::proceed(),
    }
}

async fn answer_simulation<R: Runtime>(
    body: &[u8],
    base: &SelfUrl,
    services: &Services<'_, R>,
) -> Reply {
    let input: CallInput = match std::str::from_utf8(body)
        .map_err(|_| "the body is not UTF-8".to_owned())
        .and_then(|json| parse_json(json).map_err(|error| error.to_string()))
    {
        Ok(input) => input,
        Err(reason) => return Reply::refuse(400, reason),
    };
    let mut log = LogLine::new(Level::Info, "simulated", 200);
    let now_utc = services.now_ms.div_euclid(1000);
    // The shard of the number the call would be routed on.
    let Some(live) = load(services, input.sipgate_number().as_deref(), &mut log).await else {
        log.status = 503;
        return Reply {
            status: 503,
            headers: vec![("Content-Type", TEXT.to_owned())],
            body: format!(
                "rules unavailable: {}\n",
                log.error.clone().unwrap_or_default()
            ),
            log,
            record: None,
        };
    };
    match simulate(
        live.rules.as_deref(),
        live.kill.as_ref(),
        Some(live.version),
        &input,
        base,
        now_utc,
    ) {
        Ok(trace) => Reply::json(
            serde_json::to_string_pretty(&trace).unwrap_or_default() + "\n",
            log,
        ),
        Err(error) => Reply::refuse(400, error.0),
    }
}

#[cfg(test)]
mod journal_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{plan_publish, Index, LIVE_KEY};
    use crate::testing::MemoryKv;

    const OFFICE: &str = include_str!("../../examples/office.json");
    pub(super) const FORM_UTF8: Option<&str> =
        Some("application/x-www-form-urlencoded; charset=UTF-8");
    // 2026-11-30 10:00 Berlin (a Monday), and the Saturday before.
    pub(super) const MONDAY_10: i64 = 1_796_029_200_000;
    pub(super) const SATURDAY_10: i64 = 1_795_856_400_000;

    pub(super) fn head<'a>(
        method: &'a str,
        url: &'a str,
        content_type: Option<&'a str>,
    ) -> RequestHead<'a> {
        RequestHead {
            method,
            url,
            content_type,
            content_length: None,
            authorization: None,
            client_ip: None,
            signature: None,
        }
    }

    pub(super) fn published() -> MemoryKv {
        let kv = MemoryKv::default();
        let spec = parse_json(OFFICE).unwrap();
        let plan = plan_publish(OFFICE, &spec, &Index::default(), None, "t".into(), None);
        for (key, value) in plan.writes.iter().chain([&plan.pointer]) {
            kv.put(key, value);
        }
        kv
    }

    fn config() -> Config {
        Config {
            admin_token: crate::testing::admin_token("s3cret-token-for-tests-0123456789"),
            kv_budget_ms: 1000,
            ..Config::default()
        }
    }

    /// Admits and serves one request, as the edge shell does.
    fn request(kv: &MemoryKv, now_ms: i64, head: RequestHead<'_>, body: &str) -> Reply {
        crate::testing::request(kv, &config(), now_ms, head, body)
    }

    fn push(kv: &MemoryKv, now_ms: i64, url: &str, body: &str) -> Reply {
        request(kv, now_ms, head("POST", url, FORM_UTF8), body)
    }

    #[test]
    fn only_post_is_allowed() {
        for method in ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "post"] {
            let reply =
                *admit(&head(method, "https://r.example/", FORM_UTF8), &config()).unwrap_err();
            assert_eq!(reply.status, 405, "{method}");
            assert!(reply.headers.contains(&("Allow", "POST".to_owned())));
        }
    }

    #[test]
    fn only_form_bodies_in_utf8_are_accepted_as_pushes() {
        for ok in [
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-Urlencoded;charset=\"utf-8\"",
            "application/x-www-form-urlencoded; boundary=ignored",
        ] {
            assert!(
                admit(&head("POST", "https://r.example/", Some(ok)), &config()).is_ok(),
                "{ok}"
            );
        }
        for (bad, reason) in [
            (
                None,
                "missing Content-Type: send application/x-www-form-urlencoded",
            ),
            (
                Some("application/json"),
                "Content-Type application/json is not application/x-www-form-urlencoded",
            ),
            (
                Some("text/plain"),
                "Content-Type text/plain is not application/x-www-form-urlencoded",
            ),
            (
                Some("application/x-www-form-urlencoded; charset=ISO-8859-1"),
                "charset ISO-8859-1 is not supported: send UTF-8",
            ),
        ] {
            let reply = *admit(&head("POST", "https://r.example/", bad), &config()).unwrap_err();
            assert_eq!(reply.status, 415, "{bad:?}");
            assert_eq!(reply.body, format!("{reason}\n"));
            assert_eq!(reply.content_type(), Some(TEXT));
        }
    }

    #[test]
    fn declared_length_over_the_limit_is_refused_before_reading() {
        let mut request = head("POST", "https://r.example/", FORM_UTF8);
        request.content_length = Some("16384");
        assert!(admit(&request, &config()).is_ok());
        request.content_length = Some("16385");
        assert_eq!(admit(&request, &config()).unwrap_err().status, 413);
        request.content_length = Some("lots");
        assert_eq!(admit(&request, &config()).unwrap_err().status, 400);
    }

    #[test]
    fn simulate_exists_only_for_the_admin_token() {
        let json = Some("application/json");
        let with = |token: Option<&str>, authorization: Option<&str>| {
            let mut request = head("POST", "https://r.example/simulate", json);
            request.authorization = authorization;
            let config = Config {
                admin_token: token.and_then(crate::testing::admin_token),
                ..Config::default()
            };
            admit(&request, &config).map_err(|reply| reply.status)
        };
        assert_eq!(with(None, None), Err(404));
        assert_eq!(with(None, Some("Bearer anything")), Err(404));
        assert_eq!(
            with(Some("s3cret-token-for-tests-0123456789"), None),
            Err(404)
        );
        assert_eq!(
            with(
                Some("s3cret-token-for-tests-0123456789"),
                Some("Bearer s3cret-tokeN")
            ),
            Err(404)
        );
        assert_eq!(
            with(
                Some("s3cret-token-for-tests-0123456789"),
                Some("Bearer s3cret-token-for-tests-0123456789-and-more")
            ),
            Err(404)
        );
        assert_eq!(
            with(
                Some("s3cret-token-for-tests-0123456789"),
                Some("Basic s3cret-token-for-tests-0123456789")
            ),
            Err(404)
        );
        assert!(matches!(
            with(
                Some("s3cret-token-for-tests-0123456789"),
                Some("Bearer s3cret-token-for-tests-0123456789")
            ),
            Ok(Endpoint::Simulate { .. })
        ));
        // Any other path takes pushes, including paths below /simulate.
        let push = admit(
            &head("POST", "https://r.example/simulate/x?y", FORM_UTF8),
            &config(),
        );
        assert!(matches!(push, Ok(Endpoint::Push { .. })));
    }

    #[test]
    fn a_new_call_is_routed_by_the_live_rules_with_one_log_line() {
        let kv = published();
        let reply = push(
            &kv,
            MONDAY_10,
            "https://r.example/",
            "from=492111234567&to=4921100000&direction=in&callId=abc",
        );
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type(), Some("application/xml; charset=utf-8"));
        assert!(reply.body.contains(
            "<Number>4921100001</Number><Number>4921100002</Number><Number>4921100003</Number>"
        ));
        assert_eq!(
            reply.log.to_json(),
            r#"{"level":"info","msg":"routed","status":200,"event":"newCall","callId":"abc","version":1,"reads":2,"rule":"business-hours","answer":"dial"}"#
        );
    }

    #[test]
    fn menus_round_trip_through_their_url() {
        let kv = published();
        let reply = push(
            &kv,
            SATURDAY_10,
            "https://r.example/sipgate",
            "from=492111234567&to=4921100000&direction=in",
        );
        assert!(reply
            .body
            .contains("onData=\"https://r.example/sipgate?menu=after-hours&amp;try=0\""));
        let digits = push(
            &kv,
            SATURDAY_10,
            "https://r.example/sipgate?menu=after-hours&try=0",
            "event=dtmf&dtmf=2&callId=abc",
        );
        assert!(digits
            .body
            .ends_with("<Response><Dial><Voicemail/></Dial></Response>"));
        assert_eq!(digits.log.msg, "menu");
        assert_eq!(digits.log.menu.as_deref(), Some("after-hours"));
        assert_eq!(digits.log.step, Some("option"));
        let unknown = push(
            &kv,
            SATURDAY_10,
            "https://r.example/?menu=gone",
            "event=dtmf&dtmf=2",
        );
        assert!(unknown.body.ends_with("<Response/>"));
        assert_eq!(unknown.log.msg, "unknown_menu");
        // Digits for a Gather that is not ours: proceed, rules not even read.
        kv.take_reads();
        let foreign = push(&kv, SATURDAY_10, "https://r.example/", "event=dtmf&dtmf=2");
        assert!(foreign.body.ends_with("<Response/>"));
        assert!(kv.take_reads().is_empty());
    }

    #[test]
    fn the_kill_switch_answers_every_call_and_every_menu() {
        let kv = published();
        kv.put(
            LIVE_KEY,
            r#"{"version":1,"shards":1,"kill":{"dial":{"numbers":["4915790000001"]}}}"#,
        );
        for (url, body) in [
            (
                "https://r.example/",
                "from=492111234567&to=4921100000&direction=in",
            ),
            (
                "https://r.example/",
                "from=anonymous&to=4999999999&direction=in",
            ),
            ("https://r.example/?menu=after-hours", "event=dtmf&dtmf=1"),
        ] {
            let reply = push(&kv, MONDAY_10, url, body);
            assert!(
                reply
                    .body
                    .ends_with("<Response><Dial><Number>4915790000001</Number></Dial></Response>"),
                "{body}"
            );
            assert_eq!(reply.log.msg, "killed");
        }
        kv.put(
            LIVE_KEY,
            r#"{"version":1,"shards":1,"kill":{"proceed":{}}}"#,
        );
        let reply = push(
            &kv,
            MONDAY_10,
            "https://r.example/",
            "from=anonymous&to=4921100000&direction=in",
        );
        assert!(reply.body.ends_with("<Response/>"));
    }

    #[test]
    fn failures_answer_200_proceed_and_log_an_error() {
        let failing = MemoryKv {
            failing: Some("KV unavailable".into()),
            ..MemoryKv::default()
        };
        let reply = push(
            &failing,
            MONDAY_10,
            "https://r.example/",
            "to=4921100000&direction=in",
        );
        assert_eq!(reply.status, 200);
        assert!(reply.body.ends_with("<Response/>"));
        assert_eq!(reply.log.level, Level::Error);
        assert_eq!(reply.log.msg, "rules_unavailable");
        assert_eq!(
            reply.log.error.as_deref(),
            Some("reading rules:live failed: KV unavailable")
        );

        let nothing = push(
            &MemoryKv::default(),
            MONDAY_10,
            "https://r.example/",
            "to=4921100000&direction=in",
        );
        assert!(nothing.body.ends_with("<Response/>"));
        assert_eq!(nothing.log.msg, "no_rules");
        // A fresh isolate's first push: routing is off, and the log says so loudly.
        assert_eq!(nothing.log.level, Level::Error);
        assert_eq!(
            nothing.log.error.as_deref(),
            Some(crate::store::UNPUBLISHED)
        );
    }

    #[test]
    fn unusable_pushes_get_400_and_other_events_proceed() {
        let kv = published();
        let reply = push(
            &kv,
            MONDAY_10,
            "https://r.example/",
            "from=492111234567&direction=in",
        );
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (400, "missing field `to`\n")
        );
        assert_eq!(reply.log.level, Level::Warn);
        for body in [
            "event=answer&callId=1",
            "event=hangup&cause=busy&callId=1",
            "event=fancyNew&callId=1",
        ] {
            let reply = push(&kv, MONDAY_10, "https://r.example/", body);
            assert!(reply.body.ends_with("<Response/>"), "{body}");
            assert_eq!(reply.log.msg, "not_routed");
        }
    }

    #[test]
    fn simulate_answers_the_trace_as_json() {
        let kv = published();
        let mut simulate = head(
            "POST",
            "https://r.example/simulate",
            Some("application/json"),
        );
        simulate.authorization = Some("Bearer s3cret-token-for-tests-0123456789");
        let reply = request(
            &kv,
            MONDAY_10,
            simulate,
            r#"{"from":"492111234567","to":"4921100000","direction":"in","at":"2026-11-28T10:00"}"#,
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.content_type(),
            Some("application/json; charset=utf-8")
        );
        let trace: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(trace["version"], 1);
        assert_eq!(trace["matched"], "after-hours");
        assert_eq!(trace["at"]["local"], "2026-11-28T10:00:00");
        assert_eq!(
            trace["rules"][3]["why"],
            "sat 2026-11-28 10:00 Europe/Berlin is outside the time window"
        );
        let bad = request(
            &kv,
            MONDAY_10,
            simulate,
            r#"{"from":"1","to":"2","direction":"up"}"#,
        );
        assert_eq!(
            (bad.status, bad.body.as_str()),
            (400, "direction must be in or out, not \"up\"\n")
        );
        let unknown_field = request(&kv, MONDAY_10, simulate, r#"{"form":"1"}"#);
        assert_eq!(unknown_field.status, 400);
        assert!(unknown_field.body.starts_with("form: unknown field `form`"));
    }

    #[test]
    fn echoed_values_are_clipped() {
        let long = "x".repeat(500);
        let reply = admit(&head(&long, "https://r.example/", FORM_UTF8), &config()).unwrap_err();
        assert!(reply.body.len() < 200);
    }
}

/// Access checks and failure handling, with a cache shared across requests.
#[cfg(test)]
mod trust_tests {
    use super::*;
    use crate::store::{plan_publish, Index, LIVE_KEY};
    use crate::testing::{fake_signature, run, MemoryKv};
    use crate::trust::access::{Access, Settings};
    use crate::trust::base64;

    const FORM_UTF8: Option<&str> = Some("application/x-www-form-urlencoded");
    const SEED: &str = "from=492111234567&to=4921100000&direction=in";
    const MONDAY_10: i64 = 1_796_029_200_000;
    const DIAL: &str = r#"{"numbers": {"4921100000": [{"id": "dial", "then": {"dial": {"numbers": ["4915790000001"]}}}]}}"#;

    fn publish(kv: &MemoryKv, document: &str) {
        let spec = parse_json(document).unwrap();
        let current = kv
            .values
            .borrow()
            .get(LIVE_KEY)
            .map(|json| crate::store::Pointer::parse(json).unwrap());
        let plan = plan_publish(
            document,
            &spec,
            &Index::default(),
            current.as_ref(),
            "t".into(),
            None,
        );
        for (key, value) in plan.writes.iter().chain([&plan.pointer]) {
            kv.put(key, value);
        }
    }

    struct Request<'a> {
        path: &'a str,
        content_type: Option<&'a str>,
        authorization: Option<String>,
        client_ip: Option<&'a str>,
        signature: Option<String>,
        body: &'a str,
    }

    fn push(body: &str) -> Request<'_> {
        Request {
            path: "/",
            content_type: FORM_UTF8,
            authorization: None,
            client_ip: None,
            signature: None,
            body,
        }
    }

    fn send(
        kv: &MemoryKv,
        cache: &RefCell<RulesCache>,
        config: &Config,
        request: &Request<'_>,
    ) -> Reply {
        let url = format!("https://r.example{}", request.path);
        let head = RequestHead {
            method: "POST",
            url: &url,
            content_type: request.content_type,
            content_length: None,
            authorization: request.authorization.as_deref(),
            client_ip: request.client_ip,
            signature: request.signature.as_deref(),
        };
        let endpoint = match admit(&head, config) {
            Ok(endpoint) => endpoint,
            Err(refusal) => return *refusal,
        };
        let services = Services {
            runtime: kv,
            cache,
            now_ms: MONDAY_10,
            config,
        };
        run(serve(&endpoint, request.body.as_bytes(), &services))
    }

    fn basic(user: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::encode(format!("{user}:{password}").as_bytes())
        )
    }

    fn signature(body: &str) -> String {
        base64::encode(&fake_signature(body.as_bytes()))
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Given {
        Off,
        Right,
        Wrong,
        Missing,
    }

    /// Signature × basic auth × allowlist, each off or on with right, wrong
    /// or missing credentials: a push gets through exactly when every check
    /// that is on passes, and a refused push reads nothing.
    #[test]
    fn the_auth_matrix_has_no_bypass() {
        let kv = MemoryKv::default();
        publish(&kv, DIAL);
        let mut cases = 0;
        for signature_given in [Given::Off, Given::Right, Given::Wrong, Given::Missing] {
            for basic_given in [Given::Off, Given::Right, Given::Wrong, Given::Missing] {
                for source_given in [Given::Off, Given::Right, Given::Wrong, Given::Missing] {
                    let access = Access::from_settings(&Settings {
                        signature_check: Some(if signature_given == Given::Off {
                            "off"
                        } else {
                            "on"
                        }),
                        basic_user: (basic_given != Given::Off).then_some("sipgate"),
                        basic_password: (basic_given != Given::Off).then_some("s3cret"),
                        allowed_sources: (source_given != Given::Off)
                            .then_some("217.116.118.254, 212.9.46.32"),
                        ..Settings::default()
                    });
                    let config = Config {
                        access,
                        kv_budget_ms: 1000,
                        ..Config::default()
                    };
                    let request = Request {
                        authorization: match basic_given {
                            Given::Right => Some(basic("sipgate", "s3cret")),
                            Given::Wrong => Some(basic("sipgate", "guess")),
                            Given::Off | Given::Missing => None,
                        },
                        client_ip: match source_given {
                            Given::Right => Some("212.9.46.32"),
                            Given::Wrong => Some("198.51.100.7"),
                            Given::Off | Given::Missing => None,
                        },
                        signature: match signature_given {
                            Given::Right => Some(signature(SEED)),
                            Given::Wrong => Some(signature("from=1&to=4921100000&direction=in")),
                            Given::Off | Given::Missing => None,
                        },
                        ..push(SEED)
                    };
                    kv.take_reads();
                    // The real signature check needs a real key: give the fake runtime one.
                    let reply = send(&kv, &RefCell::new(RulesCache::default()), &config, &request);
                    let passes = |given: Given| matches!(given, Given::Off | Given::Right);
                    let expected = if !passes(source_given) {
                        403
                    } else if !passes(basic_given) {
                        401
                    } else if !passes(signature_given) {
                        403
                    } else {
                        200
                    };
                    let case = format!("signature {signature_given:?}, basic {basic_given:?}, source {source_given:?}");
                    assert_eq!(reply.status, expected, "{case}: {}", reply.body);
                    if expected == 200 {
                        assert!(
                            reply.body.contains("<Number>4915790000001</Number>"),
                            "{case}"
                        );
                    } else {
                        assert!(kv.take_reads().is_empty(), "{case}: a refused push read KV");
                        assert_eq!(reply.log.msg, "denied", "{case}");
                    }
                    if expected == 401 {
                        assert!(reply.headers.contains(&(
                            "WWW-Authenticate",
                            "Basic realm=\"sipgate-router\", charset=\"UTF-8\"".to_owned()
                        )));
                    }
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 64);
    }

    #[test]
    fn the_admin_token_matrix() {
        let kv = MemoryKv::default();
        publish(&kv, DIAL);
        const TOKEN: &str = "admin-token-0123456789abcdef-0123";
        for configured in [None, Some(TOKEN)] {
            for bearer in [
                None,
                Some(TOKEN),
                Some("admin-tokeN-0123456789abcdef-0123"),
                Some(""),
            ] {
                let config = Config {
                    admin_token: configured.and_then(crate::testing::admin_token),
                    kv_budget_ms: 1000,
                    // Push checks do not apply to the admin endpoint.
                    access: Access::from_settings(&Settings::default()),
                    ..Config::default()
                };
                let request = Request {
                    path: "/simulate",
                    content_type: Some("application/json"),
                    authorization: bearer.map(|token| format!("Bearer {token}")),
                    ..push(r#"{"from":"492111234567","to":"4921100000","direction":"in"}"#)
                };
                let reply = send(&kv, &RefCell::new(RulesCache::default()), &config, &request);
                let expected = if configured.is_some() && bearer == configured {
                    200
                } else {
                    404
                };
                assert_eq!(
                    reply.status, expected,
                    "configured {configured:?}, bearer {bearer:?}"
                );
            }
        }
    }

    #[test]
    fn any_one_byte_change_to_a_signed_body_is_refused() {
        let kv = MemoryKv::default();
        publish(&kv, DIAL);
        let config = Config {
            kv_budget_ms: 1000,
            access: Access::from_settings(&Settings::default()),
            ..Config::default()
        };
        let cache = RefCell::new(RulesCache::default());
        let signed = signature(SEED);
        let accepted = send(
            &kv,
            &cache,
            &config,
            &Request {
                signature: Some(signed.clone()),
                ..push(SEED)
            },
        );
        assert_eq!(accepted.status, 200);
        for position in 0..SEED.len() {
            let mut changed = SEED.as_bytes().to_vec();
            changed[position] ^= 0x01;
            let changed = String::from_utf8(changed).unwrap();
            let reply = send(
                &kv,
                &cache,
                &config,
                &Request {
                    signature: Some(signed.clone()),
                    ..push(&changed)
                },
            );
            assert_eq!(reply.status, 403, "byte {position}");
            assert_eq!(
                reply.body,
                "forbidden: X-Sipgate-Signature does not match the body\n"
            );
        }
        let malformed = send(
            &kv,
            &cache,
            &config,
            &Request {
                signature: Some("not base64!".into()),
                ..push(SEED)
            },
        );
        assert_eq!(
            malformed.body,
            "forbidden: X-Sipgate-Signature is not base64\n"
        );
    }

    #[test]
    fn a_misconfiguration_fails_closed_and_says_why_in_the_log_only() {
        let kv = MemoryKv::default();
        let config = Config {
            access: Access::from_settings(&Settings {
                basic_user: Some("sipgate"),
                ..Settings::default()
            }),
            ..Config::default()
        };
        let reply = send(
            &kv,
            &RefCell::new(RulesCache::default()),
            &config,
            &push(SEED),
        );
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (
                403,
                "forbidden: the router's access configuration is invalid\n"
            )
        );
        assert_eq!(reply.log.level, Level::Error);
        assert_eq!(
            reply.log.error.as_deref(),
            Some("BASIC_AUTH_USER is set but the secret BASIC_AUTH_PASSWORD is not")
        );
    }

    #[test]
    fn with_basic_auth_menu_urls_carry_the_credentials() {
        let kv = MemoryKv::default();
        publish(
            &kv,
            r#"{"menus": {"m": {"prompt": "https://x.example/m.wav"}}, "default": [{"then": {"menu": "m"}}]}"#,
        );
        let config = Config {
            kv_budget_ms: 1000,
            access: Access::from_settings(&Settings {
                signature_check: Some("off"),
                basic_user: Some("sipgate"),
                basic_password: Some("s3cret"),
                ..Settings::default()
            }),
            ..Config::default()
        };
        let request = Request {
            authorization: Some(basic("sipgate", "s3cret")),
            ..push(SEED)
        };
        let reply = send(&kv, &RefCell::new(RulesCache::default()), &config, &request);
        assert!(
            reply
                .body
                .contains("onData=\"https://sipgate:s3cret@r.example/?menu=m&amp;try=0\""),
            "{}",
            reply.body
        );
    }

    fn open_config() -> Config {
        Config {
            kv_budget_ms: 1000,
            ..Config::default()
        }
    }

    #[test]
    fn kv_past_its_budget_answers_from_the_last_known_good_rules() {
        let mut kv = MemoryKv::default();
        publish(&kv, DIAL);
        let cache = RefCell::new(RulesCache::default());
        let config = open_config();
        assert!(send(&kv, &cache, &config, &push(SEED))
            .body
            .contains("4915790000001"));
        kv.hanging = true;
        let reply = send(&kv, &cache, &config, &push(SEED));
        assert_eq!(reply.status, 200);
        assert!(reply.body.contains("4915790000001"), "{}", reply.body);
        assert_eq!(reply.log.level, Level::Error);
        assert_eq!(
            reply.log.error.as_deref(),
            Some("KV did not answer within 1000 ms; answered from the last-known-good rules (version 1)")
        );
        // A cold isolate has nothing to fall back on: proceed.
        let cold = send(
            &kv,
            &RefCell::new(RulesCache::default()),
            &config,
            &push(SEED),
        );
        assert!(cold.body.ends_with("<Response/>"));
        assert_eq!(cold.log.msg, "rules_unavailable");
    }

    #[test]
    fn a_broken_new_version_or_a_lost_key_answers_from_the_last_known_good_rules() {
        let kv = MemoryKv::default();
        publish(&kv, DIAL);
        let cache = RefCell::new(RulesCache::default());
        let config = open_config();
        assert!(send(&kv, &cache, &config, &push(SEED))
            .body
            .contains("4915790000001"));
        // Version 2's shard is garbage.
        kv.put(LIVE_KEY, r#"{"version":2,"shards":1}"#);
        kv.put("rules:v2:s0", "\u{0}\u{1}garbage");
        let reply = send(&kv, &cache, &config, &push(SEED));
        assert!(reply.body.contains("4915790000001"));
        assert!(reply
            .log
            .error
            .as_deref()
            .unwrap()
            .starts_with("rules:v2:s0 is not usable"));
        // Shards are immutable: the broken one is remembered, not read again.
        kv.take_reads();
        let reply = send(&kv, &cache, &config, &push(SEED));
        assert!(reply.body.contains("4915790000001"));
        assert_eq!(kv.take_reads(), [LIVE_KEY]);
        // Version 3's shard is lost.
        kv.put(LIVE_KEY, r#"{"version":3,"shards":1}"#);
        let reply = send(&kv, &cache, &config, &push(SEED));
        assert!(reply.body.contains("4915790000001"));
        assert!(reply
            .log
            .error
            .as_deref()
            .unwrap()
            .starts_with("rules:v3:s0 is missing"));
        // The pointer disappears: a fault, not "nothing published".
        kv.remove(LIVE_KEY);
        let reply = send(&kv, &cache, &config, &push(SEED));
        assert!(reply.body.contains("4915790000001"));
        assert!(reply
            .log
            .error
            .as_deref()
            .unwrap()
            .starts_with("rules:live is missing"));
        // KV fails outright.
        let failing = MemoryKv {
            failing: Some("503".into()),
            ..MemoryKv::default()
        };
        publish(&kv, DIAL);
        let cache = RefCell::new(RulesCache::default());
        assert!(send(&kv, &cache, &config, &push(SEED))
            .body
            .contains("4915790000001"));
        let reply = send(&failing, &cache, &config, &push(SEED));
        assert!(reply.body.contains("4915790000001"));
        assert!(reply
            .log
            .error
            .as_deref()
            .unwrap()
            .starts_with("reading rules:live failed: 503"));
    }
}
