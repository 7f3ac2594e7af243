//! The HTTP behaviour: endpoints, status codes, limits, routing a push.

use super::*;
use crate::store::LIVE_KEY;
use crate::testing::MemoryKv;

const OFFICE: &str = include_str!("../../examples/office.json");
pub(super) const FORM_UTF8: Option<&str> = Some("application/x-www-form-urlencoded; charset=UTF-8");
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
        ..RequestHead::default()
    }
}

pub(super) fn published() -> MemoryKv {
    let kv = MemoryKv::default();
    crate::testing::publish_source(&kv, OFFICE, "t");
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
        let reply = *admit(&head(method, "https://r.example/", FORM_UTF8), &config()).unwrap_err();
        assert_eq!(reply.status, 405, "{method}");
        assert!(reply.headers.contains(&("Allow", "POST".to_owned())));
    }
}

#[test]
fn the_console_without_its_slash_is_redirected_and_a_post_there_is_a_push() {
    for method in ["GET", "HEAD"] {
        let reply = *admit(&head(method, "https://r.example/admin", None), &config()).unwrap_err();
        assert_eq!(reply.status, 308);
        assert_eq!(reply.log.msg, "redirected");
        assert!(reply.headers.contains(&("Location", "/admin/".to_owned())));
    }
    assert!(matches!(
        admit(
            &head("POST", "https://r.example/admin", FORM_UTF8),
            &config()
        ),
        Ok(Endpoint::Push { .. })
    ));
    // Below it, the pages are assets the worker never sees; a GET there is no push.
    let below = *admit(&head("GET", "https://r.example/admin/x", None), &config()).unwrap_err();
    assert_eq!(below.status, 405);
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
        Ok(Endpoint::Admin(request)) if request.route == crate::http::admin::Route::Simulate
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

/// Version 1 the office, version 2 its draft for one test caller: the
/// draft rings 4921100009 instead of 4921100001, and its menu's 2 dials
/// 4915790000098 instead of going to voicemail.
fn with_draft() -> MemoryKv {
    let kv = published();
    let draft = OFFICE.replace("4921100001", "4921100009").replace(
        r#""2": { "voicemail": {} }"#,
        r#""2": { "dial": { "numbers": ["4915790000098"] } }"#,
    );
    crate::testing::publish_source(&kv, &draft, "t");
    kv.put(
        LIVE_KEY,
        r#"{"version":1,"shards":1,"kill":null,"format":2,"draft":{"version":2,"shards":1,"callers":["4915790000123"],"base":1,"format":2}}"#,
    );
    kv.take_reads();
    kv
}

#[test]
fn a_test_caller_is_answered_by_the_draft_and_logged_so_everyone_else_by_live() {
    let kv = with_draft();
    let tester = push(
        &kv,
        MONDAY_10,
        "https://r.example/",
        "from=4915790000123&to=4921100000&direction=in&callId=t1",
    );
    assert!(
        tester.body.contains("<Number>4921100009</Number>"),
        "{}",
        tester.body
    );
    assert_eq!(
        tester.log.to_json(),
        r#"{"level":"info","msg":"routed","status":200,"event":"newCall","callId":"t1","version":2,"draft":true,"reads":2,"rule":"business-hours","answer":"dial"}"#
    );
    assert_eq!(kv.take_reads(), ["rules:live", "rules:v2:s0"]);
    let other = push(
        &kv,
        MONDAY_10,
        "https://r.example/",
        "from=492111234567&to=4921100000&direction=in&callId=o1",
    );
    assert!(
        other.body.contains("<Number>4921100001</Number>"),
        "{}",
        other.body
    );
    assert_eq!(other.log.version, Some(1));
    assert!(!other.log.draft);
    assert!(!other.log.to_json().contains("draft"));
    // Each request here meets a cold isolate: two reads either way.
    assert_eq!(kv.take_reads(), ["rules:live", "rules:v1:s0"]);
}

#[test]
fn the_menu_of_a_call_the_draft_began_is_answered_by_the_draft() {
    let kv = with_draft();
    let tester = push(
        &kv,
        SATURDAY_10,
        "https://r.example/sipgate",
        "from=4915790000123&to=4921100000&direction=in",
    );
    assert!(
        tester.body.contains(
            "onData=\"https://r.example/sipgate?menu=after-hours&amp;try=0&amp;draft=2\""
        ),
        "{}",
        tester.body
    );
    let digits = push(
        &kv,
        SATURDAY_10,
        "https://r.example/sipgate?menu=after-hours&try=0&draft=2",
        "event=dtmf&dtmf=2&callId=t1",
    );
    assert!(
        digits.body.contains("<Number>4915790000098</Number>"),
        "{}",
        digits.body
    );
    assert_eq!((digits.log.version, digits.log.draft), (Some(2), true));
    // The live version's menu, and a draft's once discarded, answer as live.
    for url in [
        "https://r.example/sipgate?menu=after-hours&try=0",
        "https://r.example/sipgate?menu=after-hours&try=0&draft=7",
    ] {
        let digits = push(&kv, SATURDAY_10, url, "event=dtmf&dtmf=2&callId=o1");
        assert!(
            digits
                .body
                .ends_with("<Response><Dial><Voicemail/></Dial></Response>"),
            "{url}"
        );
        assert_eq!((digits.log.version, digits.log.draft), (Some(1), false));
    }
}
