//! The journal and the fan-out as the HTTP behaviour shows them: callbacks
//! added to answers, what a push's [`Record`] holds, `GET /calls/{callId}`.
use super::tests::{head, published, FORM_UTF8, MONDAY_10, SATURDAY_10};
use super::*;
use crate::journal::{Forwarding, JournalConfig};
use crate::testing::MemoryKv;
use crate::trust::access::Access;

const TOKEN: &str = "Bearer s3cret-token-for-tests-0123456789";
/// The office number on a Monday at 10:00: rule `business-hours`, which
/// sets its own onAnswer/onHangup (the CRM's).
const OFFICE_CALL: &str =
    "event=newCall&from=492111234567&to=4921100000&direction=in&callId=A1&user[]=Alice";
/// A number without rules: the default proceeds.
const OTHER_CALL: &str = "event=newCall&from=492111234567&to=4930123456&direction=in&callId=B1";

fn config(recording: bool, receivers: Option<&str>) -> Config {
    Config {
        admin_token: crate::testing::admin_token("s3cret-token-for-tests-0123456789"),
        kv_budget_ms: 1000,
        journal: JournalConfig::from_settings(
            recording,
            None,
            None,
            None,
            Forwarding::from_settings(receivers, None, None),
        ),
        ..Config::default()
    }
}

fn request(kv: &MemoryKv, config: &Config, head: RequestHead<'_>, body: &str) -> Reply {
    crate::testing::request(kv, config, MONDAY_10, head, body)
}

fn push(kv: &MemoryKv, config: &Config, body: &str) -> Reply {
    request(
        kv,
        config,
        head("POST", "https://r.example/hook", FORM_UTF8),
        body,
    )
}

#[test]
fn without_journal_or_receivers_nothing_is_recorded_or_added() {
    let kv = published();
    let reply = push(&kv, &config(false, None), OTHER_CALL);
    assert_eq!(
        reply.body,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
    );
    assert_eq!(reply.record, None);
}

#[test]
fn a_paused_journal_records_nothing_and_stays_readable() {
    let kv = published();
    let mut paused = config(true, None);
    paused.journal =
        JournalConfig::from_settings(true, Some("off"), None, None, Forwarding::default());
    let reply = push(&kv, &paused, OTHER_CALL);
    assert_eq!(
        reply.body,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
    );
    assert_eq!(reply.record, None);
    kv.journal.borrow_mut().push(Entry {
        event: "newCall".into(),
        call_id: Some("B1".into()),
        ..Entry::default()
    });
    assert_eq!(
        calls(&kv, &paused, "GET", "/calls/B1", Some(TOKEN)).status,
        200
    );
}

#[test]
fn a_watched_call_comes_back_to_the_router_unless_its_rule_says_otherwise() {
    let kv = published();
    let config = config(true, None);
    let reply = push(&kv, &config, OTHER_CALL);
    assert_eq!(
        reply.body,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response onAnswer="https://r.example/hook" onHangup="https://r.example/hook"/>"#
    );
    // business-hours names the CRM for both: kept.
    let reply = push(&kv, &config, OFFICE_CALL);
    assert!(
        reply
            .body
            .contains(r#"onAnswer="https://crm.example.com/sipgate/events""#),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("r.example"), "{}", reply.body);
}

#[test]
fn answers_to_menu_digits_keep_the_call_watched() {
    // sipgate sends hangup only if the latest answer set onHangup: a menu's
    // answer without it would hide the rest of the call from the journal.
    let kv = published();
    let menu = |config: &Config, query: &str, digits: &str| {
        request(
            &kv,
            config,
            head("POST", &format!("https://r.example/hook{query}"), FORM_UTF8),
            &format!("event=dtmf&dtmf={digits}&callId=A1"),
        )
        .body
    };
    let watched = config(true, None);
    let ours = r#"<Response onAnswer="https://r.example/hook" onHangup="https://r.example/hook""#;
    // An option that dials, an invalid digit that plays the menu again, and
    // digits for a Gather that is not ours.
    for (query, digits) in [
        ("?menu=after-hours&try=0", "1"),
        ("?menu=after-hours&try=0", "7"),
        ("", "1"),
    ] {
        let body = menu(&watched, query, digits);
        assert!(body.contains(ours), "{query} {digits}: {body}");
    }
    // The menu's own Gather still sends its digits to the menu.
    let again = menu(&watched, "?menu=after-hours&try=0", "7");
    assert!(again.contains("menu=after-hours&amp;try=1"), "{again}");
    // Not watched: unchanged.
    let plain = menu(&config(false, None), "?menu=after-hours&try=0", "1");
    assert!(plain.contains("<Response><Dial"), "{plain}");
}

#[test]
fn the_callbacks_carry_basic_auth_credentials_as_menus_do() {
    let kv = published();
    let mut config = config(true, None);
    config.access = Access::from_settings(&crate::trust::access::Settings {
        signature_check: Some("off"),
        basic_user: Some("sipgate"),
        basic_password: Some("pw"),
        ..crate::trust::access::Settings::default()
    });
    let mut authorized = head("POST", "https://r.example/hook", FORM_UTF8);
    authorized.authorization = Some("Basic c2lwZ2F0ZTpwdw==");
    let reply = request(&kv, &config, authorized, OTHER_CALL);
    assert!(
        reply
            .body
            .contains(r#"onAnswer="https://sipgate:pw@r.example/hook""#),
        "{}",
        reply.body
    );
}

#[test]
fn the_record_holds_the_push_the_decision_and_its_event_id() {
    let kv = published();
    kv.clock_ms.set(MONDAY_10 + 7);
    let reply = push(&kv, &config(true, None), OFFICE_CALL);
    let record = reply.record.expect("recorded");
    let stored = record.stored.expect("journal on");
    assert_eq!(record.forwarded, None);
    let id = crate::journal::entry::event_id(OFFICE_CALL.as_bytes());
    assert_eq!(record.event_id, id);
    assert_eq!(stored.event_id.as_deref(), Some(id.as_str()));
    assert_eq!(stored.event, "newCall");
    assert_eq!(stored.at_ms, MONDAY_10);
    assert_eq!(stored.decision_ms, Some(7));
    assert_eq!(stored.call_id.as_deref(), Some("A1"));
    assert_eq!(stored.from.as_deref(), Some("49211*****67"));
    assert_eq!(stored.rule.as_deref(), Some("business-hours"));
    assert_eq!(stored.version, Some(1));
    assert_eq!(stored.answer.as_deref(), Some("dial"));
    // Without basic auth the answer holds no secret: stored as answered.
    assert_eq!(stored.xml.as_deref(), Some(reply.body.as_str()));
}

#[test]
fn the_basic_auth_password_is_answered_to_sipgate_and_stored_and_forwarded_redacted() {
    let kv = published();
    let mut config = config(true, Some("https://crm.example.com/in"));
    config.access = Access::from_settings(&crate::trust::access::Settings {
        signature_check: Some("off"),
        basic_user: Some("sipgate"),
        basic_password: Some("pa:ss/w@rd&<x>"),
        ..crate::trust::access::Settings::default()
    });
    let authorization = format!(
        "Basic {}",
        crate::trust::base64::encode(b"sipgate:pa:ss/w@rd&<x>")
    );
    for (url, body) in [
        ("https://r.example/hook", OTHER_CALL),
        // Saturday: the office's after-hours menu, whose onData URL carries them too.
        ("https://r.example/hook", OFFICE_CALL),
        (
            "https://r.example/hook?menu=after-hours&try=0",
            "event=dtmf&dtmf=9&callId=A1",
        ),
    ] {
        let mut authorized = head("POST", url, FORM_UTF8);
        authorized.authorization = Some(&authorization);
        let reply = crate::testing::request(&kv, &config, SATURDAY_10, authorized, body);
        let secret = "pa%3Ass%2Fw%40rd%26%3Cx%3E";
        assert!(
            reply.body.contains(&format!("sipgate:{secret}@r.example")),
            "sipgate needs them: {}",
            reply.body
        );
        let record = reply.record.unwrap();
        for entry in [record.stored.unwrap(), record.forwarded.unwrap()] {
            let xml = entry.xml.unwrap();
            assert!(!xml.contains(secret) && !xml.contains("pa:ss"), "{xml}");
            assert_eq!(
                xml,
                reply.body.replace(secret, "REDACTED"),
                "redacted, nothing else changed"
            );
        }
    }
}

#[test]
fn receivers_get_the_numbers_as_sent_and_the_journal_masked_ones() {
    let kv = published();
    let reply = push(
        &kv,
        &config(true, Some("https://crm.example.com/in")),
        OFFICE_CALL,
    );
    let record = reply.record.unwrap();
    assert_eq!(record.stored.unwrap().from.as_deref(), Some("49211*****67"));
    assert_eq!(
        record.forwarded.unwrap().from.as_deref(),
        Some("492111234567")
    );
    // Forwarding alone: nothing stored, the calls still come back.
    let reply = push(
        &kv,
        &config(false, Some("https://crm.example.com/in")),
        OTHER_CALL,
    );
    assert!(reply.body.contains("onHangup"));
    let record = reply.record.unwrap();
    assert!(record.stored.is_none() && record.forwarded.is_some());
}

#[test]
fn answer_hangup_and_menu_digits_are_recorded_too() {
    let kv = published();
    let config = config(true, None);
    for (url, body, event) in [
        ("https://r.example/hook", "event=answer&callId=A1&from=492111234567&to=4921100000&direction=in&answeringNumber=4921100001", "answer"),
        ("https://r.example/hook", "event=hangup&cause=normalClearing&callId=A1&from=492111234567&to=4921100000&direction=in", "hangup"),
        ("https://r.example/hook?menu=after-hours&try=0", "event=dtmf&dtmf=1&callId=A1", "dtmf"),
    ] {
        let reply = request(&kv, &config, head("POST", url, FORM_UTF8), body);
        let stored = reply.record.unwrap().stored.unwrap();
        assert_eq!(stored.event, event);
        assert_eq!(stored.call_id.as_deref(), Some("A1"));
    }
    let reply = request(
        &kv,
        &config,
        head(
            "POST",
            "https://r.example/hook?menu=after-hours&try=0",
            FORM_UTF8,
        ),
        "event=dtmf&dtmf=1&callId=A1",
    );
    let stored = reply.record.unwrap().stored.unwrap();
    assert_eq!(
        (stored.menu.as_deref(), stored.step.as_deref()),
        (Some("after-hours"), Some("option"))
    );
}

#[test]
fn a_body_replayed_under_another_query_is_the_same_push() {
    // sipgate signs the body only: nothing in the query may make a push new.
    let kv = published();
    let config = config(true, Some("https://crm.example.com/in"));
    let hangup =
        "event=hangup&cause=normalClearing&callId=A1&from=492111234567&to=4921100000&direction=in";
    let dtmf = "event=dtmf&dtmf=1&callId=A1";
    for body in [hangup, dtmf] {
        let ids: Vec<String> = [
            "",
            "?replay=1",
            "?menu=after-hours&try=0",
            "?menu=after-hours&try=1",
        ]
        .iter()
        .map(|query| {
            let url = format!("https://r.example/hook{query}");
            let reply = request(&kv, &config, head("POST", &url, FORM_UTF8), body);
            let record = reply.record.unwrap();
            assert_eq!(
                record.forwarded.unwrap().event_id.as_ref(),
                Some(&record.event_id)
            );
            record.event_id
        })
        .collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{body}: {ids:?}");
    }
}

#[test]
fn refused_pushes_are_not_recorded() {
    let kv = published();
    let reply = push(&kv, &config(true, None), "from=492111234567&direction=in");
    assert_eq!(reply.status, 400);
    assert_eq!(reply.record, None);
}

fn calls(
    kv: &MemoryKv,
    config: &Config,
    method: &str,
    path: &str,
    authorization: Option<&str>,
) -> Reply {
    let url = format!("https://r.example{path}");
    let mut head = head(method, &url, None);
    head.authorization = authorization;
    request(kv, config, head, "")
}

#[test]
fn a_call_is_read_back_with_all_its_legs() {
    let kv = published();
    let config = config(true, None);
    let entry = |event: &str, call_id: &str, orig: Option<&str>, at_ms: i64| Entry {
        event: event.into(),
        call_id: Some(call_id.into()),
        orig_call_id: orig.map(Into::into),
        at_ms,
        ..Entry::default()
    };
    kv.journal.borrow_mut().extend([
        entry("newCall", "A1", None, 1),
        entry("newCall", "B1", Some("A1"), 2),
        entry("hangup", "B1", Some("A1"), 3),
        entry("newCall", "Z9", None, 4),
    ]);
    let reply = calls(&kv, &config, "GET", "/calls/B1", Some(TOKEN));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.content_type(),
        Some("application/json; charset=utf-8")
    );
    let timeline: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(timeline["callId"], "B1");
    assert_eq!(timeline["legs"][0]["callId"], "A1");
    assert_eq!(timeline["legs"][1]["origCallId"], "A1");
    assert_eq!(timeline["legs"][1]["pushes"].as_array().unwrap().len(), 2);
    assert_eq!(timeline["legs"].as_array().unwrap().len(), 2);
}

#[test]
fn the_calls_endpoint_is_guarded_and_says_what_is_wrong() {
    let kv = published();
    let on = config(true, None);
    // Without the token it does not exist.
    assert_eq!(calls(&kv, &on, "GET", "/calls/A1", None).status, 404);
    assert_eq!(
        calls(&kv, &on, "GET", "/calls/A1", Some("Bearer wrong")).status,
        404
    );
    let post = calls(&kv, &on, "POST", "/calls/A1", Some(TOKEN));
    assert_eq!(post.status, 405);
    assert!(post.headers.contains(&("Allow", "GET".to_owned())));
    assert_eq!(calls(&kv, &on, "GET", "/calls/", Some(TOKEN)).status, 400);
    assert_eq!(
        calls(&kv, &on, "GET", "/calls/a%ZZ", Some(TOKEN)).status,
        400
    );
    let unknown = calls(&kv, &on, "GET", "/calls/nope", Some(TOKEN));
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (404, "no pushes recorded for call nope\n")
    );
    let off = calls(&kv, &config(false, None), "GET", "/calls/A1", Some(TOKEN));
    assert_eq!(
        (off.status, off.body.as_str()),
        (404, "the journal is off: no D1 binding JOURNAL\n")
    );
    let failing = MemoryKv {
        failing: Some("D1_ERROR: no such table: pushes".into()),
        ..MemoryKv::default()
    };
    let reply = calls(&failing, &on, "GET", "/calls/A1", Some(TOKEN));
    assert_eq!(reply.status, 503);
    assert_eq!(reply.log.msg, "journal_unavailable");
}
