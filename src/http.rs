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
//! | `POST /simulate` with `Authorization: Bearer $ADMIN_TOKEN` | 200, the JSON [`Trace`](crate::simulate::Trace) |
//! | `/simulate` without `ADMIN_TOKEN` configured, or without it as bearer | 404 |
//!
//! Every path but `/simulate` takes pushes (`?menu=…&try=…` marks the
//! digits of a menu). The edge shell calls [`admit`] before reading the
//! body, reads at most [`MAX_BODY_BYTES`], then calls [`serve`].

use std::cell::RefCell;

use crate::log::{Level, LogLine};
use crate::push::Push;
use crate::response::Response;
use crate::rules::menu::{MenuState, SelfUrl};
use crate::rules::problem::parse_json;
use crate::rules::Outcome;
use crate::simulate::{simulate, Call, CallInput};
use crate::storage::{load_live, Kv, Live, RulesCache};
use crate::xml;

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
}

/// Settings from the worker's vars and secrets.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `ADMIN_TOKEN`: enables `/simulate` for requests bearing it.
    pub admin_token: Option<String>,
    /// `RULES_CACHE_SECONDS`, in ms: how long an isolate trusts its copy of the pointer.
    pub cache_ms: i64,
}

/// What a request is for, once admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A push; `query` carries a menu's state.
    Push {
        base: SelfUrl,
        query: String,
    },
    Simulate {
        base: SelfUrl,
    },
}

/// Everything a request is answered with.
pub struct Services<'a, K: Kv> {
    pub kv: &'a K,
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
        }
    }

    fn xml(response: &Response, log: LogLine) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type", xml::CONTENT_TYPE.to_owned())],
            body: response.to_xml(),
            log,
        }
    }
}

/// Checks path, method, media type and declared length; admin endpoints
/// also the bearer token.
///
/// The refusal is boxed: it is the rare path, and keeps the `Ok` small.
pub fn admit(head: &RequestHead<'_>, config: &Config) -> Result<Endpoint, Box<Reply>> {
    let (base, path, query) = split_url(head.url).ok_or_else(|| {
        Box::new(Reply::refuse(
            400,
            "the request URL is not absolute http(s)".to_owned(),
        ))
    })?;
    let (endpoint, media_type) = if path == "/simulate" {
        let authorized = match (&config.admin_token, head.authorization) {
            (Some(token), Some(authorization)) => authorization
                .strip_prefix("Bearer ")
                .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), token.as_bytes())),
            _ => false,
        };
        if !authorized {
            // Without the token the endpoint does not exist, to anyone.
            return Err(Box::new(Reply::refuse(404, "not found".to_owned())));
        }
        (Endpoint::Simulate { base }, JSON)
    } else {
        (Endpoint::Push { base, query }, FORM)
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

/// Compares secrets without an early exit on the first differing byte.
pub fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != expected.len());
    for (index, expected_byte) in expected.iter().enumerate() {
        difference |= given.get(index).copied().unwrap_or(0) ^ expected_byte;
    }
    difference == 0
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
pub async fn serve<K: Kv>(endpoint: &Endpoint, body: &[u8], services: &Services<'_, K>) -> Reply {
    match endpoint {
        Endpoint::Push { base, query } => answer_push(body, base, query, services).await,
        Endpoint::Simulate { base } => answer_simulation(body, base, services).await,
    }
}

async fn answer_push<K: Kv>(
    body: &[u8],
    base: &SelfUrl,
    query: &str,
    services: &Services<'_, K>,
) -> Reply {
    let push = match Push::parse(body) {
        Ok(push) => push,
        Err(error) => return Reply::refuse(400, error.to_string()),
    };
    let mut log = LogLine::new(Level::Info, "not_routed", 200);
    log.event = Some(clip(push.event_name()));
    log.call_id = push.leg().call_id.as_deref().map(clip);

    let response = match &push {
        Push::NewCall(call) => {
            let number = call.sipgate_number().number().map(|number| number.as_str());
            match load(services, number, &mut log).await {
                Some(Live {
                    kill: Some(kill), ..
                }) => respond_kill(&kill, &mut log),
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
                    decision.response
                }
                Some(_) => {
                    log.msg = "no_rules";
                    Response::proceed()
                }
                None => Response::proceed(),
            }
        }
        Push::Dtmf(dtmf) => match MenuState::from_query(query) {
            // Digits for a Gather of the user's own: nothing of ours to decide.
            None => Response::proceed(),
            Some(state) => {
                log.menu = Some(state.menu.clone());
                match load(services, None, &mut log).await {
                    Some(Live {
                        kill: Some(kill), ..
                    }) => respond_kill(&kill, &mut log),
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
                        decision.response
                    }
                    Some(_) => {
                        log.msg = "no_rules";
                        Response::proceed()
                    }
                    None => Response::proceed(),
                }
            }
        },
        // sipgate ignores the answer to answer and hangup; unknown events proceed.
        Push::Answer(_) | Push::Hangup(_) | Push::Unknown(_) => Response::proceed(),
    };
    log.answer = Some(response.action_name());
    Reply::xml(&response, log)
}

/// The live rules, or `None` after noting in `log` why they could not be had.
async fn load<K: Kv>(
    services: &Services<'_, K>,
    number: Option<&str>,
    log: &mut LogLine,
) -> Option<Live> {
    match load_live(
        services.cache,
        services.kv,
        number,
        services.now_ms,
        services.config.cache_ms,
    )
    .await
    {
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
            log.msg = "rules_unavailable";
            log.key = Some(error.key().to_owned());
            log.error = Some(error.to_string());
            None
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

async fn answer_simulation<K: Kv>(
    body: &[u8],
    base: &SelfUrl,
    services: &Services<'_, K>,
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
    // Which shard: the number the call would be routed on.
    let zone_free = Call::parse(&input, &crate::zone::Zone::utc(), now_utc);
    let number = zone_free
        .as_ref()
        .ok()
        .and_then(|call| call.sipgate_number().map(str::to_owned));
    let Some(live) = load(services, number.as_deref(), &mut log).await else {
        log.status = 503;
        return Reply {
            status: 503,
            headers: vec![("Content-Type", TEXT.to_owned())],
            body: format!(
                "rules unavailable: {}\n",
                log.error.clone().unwrap_or_default()
            ),
            log,
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
        Ok(trace) => Reply {
            status: 200,
            headers: vec![("Content-Type", format!("{JSON}; charset=utf-8"))],
            body: serde_json::to_string_pretty(&trace).unwrap_or_default() + "\n",
            log,
        },
        Err(error) => Reply::refuse(400, error.0),
    }
}

/// Caller-supplied text echoed into a message or log, cut to a sane length.
fn clip(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut clipped: String = text.chars().take(MAX_CHARS).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{plan_publish, Index, LIVE_KEY};
    use crate::testing::{run, MemoryKv};

    const OFFICE: &str = include_str!("../examples/office.json");
    const FORM_UTF8: Option<&str> = Some("application/x-www-form-urlencoded; charset=UTF-8");
    // 2026-11-30 10:00 Berlin (a Monday), and the Saturday before.
    const MONDAY_10: i64 = 1_796_029_200_000;
    const SATURDAY_10: i64 = 1_795_856_400_000;

    fn head<'a>(method: &'a str, url: &'a str, content_type: Option<&'a str>) -> RequestHead<'a> {
        RequestHead {
            method,
            url,
            content_type,
            content_length: None,
            authorization: None,
        }
    }

    fn published() -> MemoryKv {
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
            admin_token: Some("s3cret-token".into()),
            cache_ms: 0,
        }
    }

    /// Admits and serves one request, as the edge shell does.
    fn request(kv: &MemoryKv, now_ms: i64, head: RequestHead<'_>, body: &str) -> Reply {
        let config = config();
        let endpoint = match admit(&head, &config) {
            Ok(endpoint) => endpoint,
            Err(refusal) => return *refusal,
        };
        let cache = RefCell::new(RulesCache::default());
        let services = Services {
            kv,
            cache: &cache,
            now_ms,
            config: &config,
        };
        run(serve(&endpoint, body.as_bytes(), &services))
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
                admin_token: token.map(str::to_owned),
                cache_ms: 0,
            };
            admit(&request, &config).map_err(|reply| reply.status)
        };
        assert_eq!(with(None, None), Err(404));
        assert_eq!(with(None, Some("Bearer anything")), Err(404));
        assert_eq!(with(Some("s3cret-token"), None), Err(404));
        assert_eq!(
            with(Some("s3cret-token"), Some("Bearer s3cret-tokeN")),
            Err(404)
        );
        assert_eq!(
            with(Some("s3cret-token"), Some("Bearer s3cret-token-and-more")),
            Err(404)
        );
        assert_eq!(
            with(Some("s3cret-token"), Some("Basic s3cret-token")),
            Err(404)
        );
        assert!(matches!(
            with(Some("s3cret-token"), Some("Bearer s3cret-token")),
            Ok(Endpoint::Simulate { .. })
        ));
        // Any other path takes pushes, including paths below /simulate.
        let push = admit(
            &head("POST", "https://r.example/simulate/x?y", FORM_UTF8),
            &config(),
        );
        assert!(matches!(push, Ok(Endpoint::Push { .. })));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"", b"abc"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
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
        simulate.authorization = Some("Bearer s3cret-token");
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
