//! Rules, end to end inside the core: documents in, decisions and XML out.

use super::condition::CallFacts;
use super::menu::MenuState;
use super::*;
use crate::protocol::number::Party;
use crate::protocol::push::{Direction, Leg, NewCall, Users};
use crate::protocol::url::{HttpUrl, SelfUrl};
use crate::time::calendar::LocalDateTime;
use crate::time::zone::Zone;

const OFFICE: &str = include_str!("../../examples/office.json");
const HOTLINE: &str = include_str!("../../examples/hotline.json");

fn rules(json: &str) -> RuleSet {
    match load(json) {
        Ok(checked) => checked.rules,
        Err(error) => panic!("{error}"),
    }
}

fn base() -> SelfUrl {
    SelfUrl::from_request_url("https://router.example/").unwrap()
}

/// A call, with everything a condition can look at.
struct Call {
    call: NewCall,
    utc: i64,
}

impl Call {
    fn new(from: &str, to: &str, direction: &str, berlin_time: &str) -> Call {
        let local = LocalDateTime::parse(berlin_time).unwrap();
        Call {
            call: NewCall {
                from: Party::parse(from),
                to: Party::parse(to),
                direction: Direction::parse(direction).unwrap(),
                users: Users::default(),
                leg: Leg::default(),
            },
            utc: Zone::find("Europe/Berlin").unwrap().from_local(local).0,
        }
    }

    fn facts(&self) -> CallFacts<'_> {
        CallFacts::of(&self.call, self.utc)
    }

    fn sipgate_number(&self) -> Option<&str> {
        self.call
            .sipgate_number()
            .number()
            .map(|number| number.as_str())
    }

    /// The id of the deciding rule (`-` for none) and the XML answered.
    fn decide(&self, rules: &RuleSet) -> (String, String) {
        let decision = rules.decide_call(&self.facts(), self.sipgate_number(), &base());
        let id = decision
            .matched
            .map_or("-".to_owned(), |(rule, _)| rule.id.clone());
        (id, body(&decision.answer.response().to_xml()))
    }
}

/// The XML without its declaration.
fn body(xml: &str) -> String {
    xml.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .to_owned()
}

fn decided(rules: &RuleSet, from: &str, to: &str, direction: &str, at: &str) -> String {
    Call::new(from, to, direction, at).decide(rules).0
}

// 2026-11-30 is a Monday, 2026-11-28 a Saturday.
const MONDAY_10: &str = "2026-11-30T10:00";
const SATURDAY_10: &str = "2026-11-28T10:00";

#[test]
fn office_business_hours_ring_three_phones_with_caller_id() {
    let office = rules(OFFICE);
    let (id, xml) = Call::new("492111234567", "4921100000", "in", MONDAY_10).decide(&office);
    assert_eq!(id, "business-hours");
    assert_eq!(
        xml,
        "<Response onAnswer=\"https://crm.example.com/sipgate/events\" onHangup=\"https://crm.example.com/sipgate/events\">\
         <Dial callerId=\"4921100000\"><Number>4921100001</Number><Number>4921100002</Number><Number>4921100003</Number></Dial></Response>"
    );
}

#[test]
fn a_watched_call_keeps_the_rules_prepared_answer() {
    // The journal on: the router's callbacks go around the action the rule
    // wrote at its first match — nothing is written again but the envelope.
    let office = rules(OFFICE);
    let watch = HttpUrl::parse("https://router.example/").unwrap();
    let other = Call::new("492111234567", "4930123456", "in", MONDAY_10);
    let plain = office.decide_call(&other.facts(), other.sipgate_number(), &base());
    assert!(
        plain.answer.is_prepared(),
        "the default's proceed is prepared"
    );
    let watched = plain.answer.clone().watched(Some(&watch));
    assert_eq!(
        body(&watched.xml()),
        r#"<Response onAnswer="https://router.example/" onHangup="https://router.example/"/>"#
    );
    let office_call = Call::new("492111234567", "4921100000", "in", MONDAY_10);
    let dial = office.decide_call(&office_call.facts(), office_call.sipgate_number(), &base());
    assert!(dial.answer.is_prepared());
    // business-hours names its own callbacks: nothing to add, the whole prepared document.
    assert!(matches!(
        dial.answer.clone().watched(Some(&watch)).xml(),
        std::borrow::Cow::Borrowed(_)
    ));
    let blocked = Call::new("4930123456789", "4921100000", "in", MONDAY_10);
    let reject = office.decide_call(&blocked.facts(), blocked.sipgate_number(), &base());
    let watched = reject.answer.clone().watched(Some(&watch));
    assert!(
        watched.is_prepared(),
        "the prepared <Reject/> inside new callbacks"
    );
    assert_eq!(
        watched.xml(),
        watched.response().to_xml(),
        "the same as written whole"
    );
    assert_eq!(
        body(&watched.xml()),
        r#"<Response onAnswer="https://router.example/" onHangup="https://router.example/"><Reject/></Response>"#
    );
}

#[test]
fn office_lunch_break_plays_a_message_then_voicemail() {
    let office = rules(OFFICE);
    let (id, xml) =
        Call::new("492111234567", "4921100000", "in", "2026-11-30T12:30").decide(&office);
    assert_eq!(id, "lunch-break");
    assert_eq!(
        xml,
        "<Response><Gather onData=\"https://router.example/?menu=lunch-break&amp;try=0\" maxDigits=\"1\" timeout=\"1\">\
         <Play><Url>https://sounds.example.com/office/lunch-break.wav</Url></Play></Gather></Response>"
    );
    // The message ends without input: voicemail.
    let state = MenuState::from_query("menu=lunch-break&try=0").unwrap();
    let after = office.decide_digits(&state, "", &base());
    assert_eq!(
        body(&after.answer.response().to_xml()),
        "<Response><Dial><Voicemail/></Dial></Response>"
    );
}

#[test]
fn office_after_hours_weekends_and_holidays_go_to_the_menu() {
    let office = rules(OFFICE);
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2026-11-30T17:00"
        ),
        "after-hours"
    );
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2026-11-30T07:59"
        ),
        "after-hours"
    );
    assert_eq!(
        decided(&office, "492111234567", "4921100000", "in", SATURDAY_10),
        "after-hours"
    );
    // A weekday that is a public holiday (Christmas 2026 is a Friday), and the closure.
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2026-12-25T10:00"
        ),
        "holidays"
    );
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2026-12-29T10:00"
        ),
        "holidays"
    );
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2027-01-04T10:00"
        ),
        "business-hours"
    );
    let (_, xml) = Call::new("492111234567", "4921100000", "in", SATURDAY_10).decide(&office);
    assert!(xml.contains("onData=\"https://router.example/?menu=after-hours&amp;try=0\" maxDigits=\"1\" timeout=\"5000\""));
}

#[test]
fn office_after_hours_menu_digits() {
    let office = rules(OFFICE);
    let digits = |query: &str, digits: &str| {
        let state = MenuState::from_query(query).unwrap();
        body(
            &office
                .decide_digits(&state, digits, &base())
                .answer
                .response()
                .to_xml(),
        )
    };
    assert_eq!(
        digits("menu=after-hours&try=0", "1"),
        "<Response><Dial callerId=\"4921100000\"><Number>4915790000099</Number></Dial></Response>"
    );
    assert_eq!(
        digits("menu=after-hours&try=0", "2"),
        "<Response><Dial><Voicemail/></Dial></Response>"
    );
    // Wrong digit or nothing: the menu again, counting the attempt …
    assert!(digits("menu=after-hours&try=0", "7").contains("?menu=after-hours&amp;try=1"));
    assert!(digits("menu=after-hours&try=1", "").contains("?menu=after-hours&amp;try=2"));
    // … until the retries (2) are used up.
    assert_eq!(
        digits("menu=after-hours&try=2", "7"),
        "<Response><Dial><Voicemail/></Dial></Response>"
    );
    assert_eq!(
        digits("menu=after-hours&try=2", ""),
        "<Response><Dial><Voicemail/></Dial></Response>"
    );
    // A menu that does not exist (any more): proceed.
    let gone = office.decide_digits(&MenuState::from_query("menu=gone").unwrap(), "1", &base());
    assert!(gone.step.is_none());
    assert_eq!(body(&gone.answer.response().to_xml()), "<Response/>");
}

#[test]
fn office_global_rules_come_first() {
    let office = rules(OFFICE);
    assert_eq!(
        decided(&office, "anonymous", "4921100000", "in", MONDAY_10),
        "anonymous-busy"
    );
    assert_eq!(
        decided(&office, "4990012345", "4921100000", "in", MONDAY_10),
        "block-list"
    );
    assert_eq!(
        decided(&office, "4930123456789", "4921100000", "in", MONDAY_10),
        "block-list"
    );
    assert_eq!(
        decided(&office, "4921100000", "492111234567", "out", MONDAY_10),
        "outgoing"
    );
    assert_eq!(
        decided(&office, "492111234567", "4921199999", "in", MONDAY_10),
        "other-numbers"
    );
    let (_, xml) = Call::new("anonymous", "4921100000", "in", MONDAY_10).decide(&office);
    assert_eq!(xml, "<Response><Reject reason=\"busy\"/></Response>");
}

#[test]
fn the_trace_says_why_earlier_rules_did_not_match() {
    let office = rules(OFFICE);
    let call = Call::new("492111234567", "4921100000", "in", SATURDAY_10);
    let decision = office.decide_call(&call.facts(), call.sipgate_number(), &base());
    let lines: Vec<String> = decision
        .trace
        .iter()
        .map(|step| {
            let why = step
                .mismatch
                .as_ref()
                .map_or("matched".to_owned(), |m| m.explain(&call.facts()));
            format!("{} {}: {why}", step.scope, step.rule.id)
        })
        .collect();
    assert_eq!(
        lines,
        [
            "global outgoing: direction is in, the rule wants out",
            "global block-list: caller 492111234567 does not match \"@blocked\"",
            "global anonymous-busy: caller 492111234567 does not match \"anonymous\"",
            "numbers.4921100000 holidays: sat 2026-11-28 10:00 Europe/Berlin is outside the time window",
            "numbers.4921100000 lunch-break: sat 2026-11-28 10:00 Europe/Berlin is outside the time window",
            "numbers.4921100000 business-hours: sat 2026-11-28 10:00 Europe/Berlin is outside the time window",
            "numbers.4921100000 after-hours: matched",
        ]
    );
}

#[test]
fn hotline_two_level_menu() {
    let hotline = rules(HOTLINE);
    let (id, xml) = Call::new("492111234567", "4930200000000", "in", MONDAY_10).decide(&hotline);
    assert_eq!(id, "hotline-open");
    assert!(xml.contains("?menu=main&amp;try=0"));
    let digits = |menu: &str, digits: &str| {
        let state = MenuState::from_query(&format!("menu={menu}")).unwrap();
        body(
            &hotline
                .decide_digits(&state, digits, &base())
                .answer
                .response()
                .to_xml(),
        )
    };
    assert!(digits("main", "2").contains("?menu=support&amp;try=0\" maxDigits=\"2\""));
    assert_eq!(
        digits("support", "42"),
        "<Response><Dial><Number>4915790000042</Number></Dial></Response>"
    );
    assert!(digits("support", "9").contains("?menu=main&amp;try=0"));
    assert!(
        digits("sales", "").contains("?menu=sales&amp;try=1"),
        "no input: sales once more (retries 1)"
    );
    assert!(
        digits("sales&try=1", "").contains("?menu=main&amp;try=0"),
        "then back to main"
    );
    assert_eq!(
        decided(
            &hotline,
            "492111234567",
            "4930200000000",
            "in",
            "2026-11-29T10:00"
        ),
        "hotline-closed"
    );
}

fn condition_rules(when: &str) -> RuleSet {
    rules(&format!(
        r#"{{"lists": {{"vip": ["4917012345", "49151*"]}},
            "calendars": {{"xmas": ["12-24..12-26"]}},
            "global": [{{"id": "hit", "when": {when}, "then": {{"hangup": {{}}}}}}]}}"#
    ))
}

fn hits(rules: &RuleSet, call: &Call) -> bool {
    call.decide(rules).0 == "hit"
}

#[test]
fn every_condition_type() {
    let call = |from: &str, to: &str, direction: &str| Call::new(from, to, direction, MONDAY_10);
    let plain = call("4917012345", "4921100000", "in");

    let direction = condition_rules(r#"{"direction": "out"}"#);
    assert!(!hits(&direction, &plain));
    assert!(hits(&direction, &call("4921100000", "4917012345", "out")));
    assert!(hits(
        &condition_rules(r#"{"direction": ["in", "out"]}"#),
        &plain
    ));

    let caller = condition_rules(r#"{"caller": ["@vip", "anonymous"]}"#);
    assert!(hits(&caller, &plain));
    assert!(hits(&caller, &call("4915112345678", "4921100000", "in")));
    assert!(hits(&caller, &call("anonymous", "4921100000", "in")));
    assert!(!hits(&caller, &call("4930123", "4921100000", "in")));
    assert!(hits(&condition_rules(r#"{"caller": "4917*"}"#), &plain));
    assert!(hits(&condition_rules(r#"{"caller": "*"}"#), &plain));
    assert!(!hits(
        &condition_rules(r#"{"caller": "*"}"#),
        &call("anonymous", "4921100000", "in")
    ));

    let called = condition_rules(r#"{"called": "49211*"}"#);
    assert!(hits(&called, &plain));
    assert!(!hits(&called, &call("4917012345", "4930100000", "in")));

    let mut diverted = call("4917012345", "4921100000", "in");
    diverted.call.leg.diversion = Some(Party::parse("4921100099"));
    assert!(hits(&condition_rules(r#"{"diversion": true}"#), &diverted));
    assert!(!hits(&condition_rules(r#"{"diversion": true}"#), &plain));
    assert!(hits(&condition_rules(r#"{"diversion": false}"#), &plain));
    assert!(hits(
        &condition_rules(r#"{"diversion": "492110009*"}"#),
        &diverted
    ));
    assert!(!hits(
        &condition_rules(r#"{"diversion": ["4930*"]}"#),
        &diverted
    ));
    assert!(!hits(
        &condition_rules(r#"{"diversion": "4921100099"}"#),
        &plain
    ));

    let mut group = call("4917012345", "4921100000", "in");
    group.call.users = Users {
        names: vec!["Alice".into(), "Bob".into()],
        ids: vec!["w0".into(), "w1".into()],
        full_ids: vec!["1234567w0".into(), "1234567w1".into()],
    };
    assert!(hits(&condition_rules(r#"{"user": "Bob"}"#), &group));
    assert!(!hits(&condition_rules(r#"{"user": ["Carol"]}"#), &group));
    assert!(hits(&condition_rules(r#"{"userId": "w1"}"#), &group));
    assert!(hits(&condition_rules(r#"{"userId": "1234567w0"}"#), &group));
    assert!(!hits(&condition_rules(r#"{"userId": "w2"}"#), &group));
    assert!(!hits(&condition_rules(r#"{"user": "Alice"}"#), &plain));

    // All conditions must hold.
    assert!(!hits(
        &condition_rules(r#"{"caller": "@vip", "direction": "out"}"#),
        &plain
    ));
}

#[test]
fn time_conditions() {
    let at = |berlin: &str| Call::new("4917012345", "4921100000", "in", berlin);
    let weekdays = condition_rules(r#"{"time": {"weekdays": ["mon-wed", "fri"]}}"#);
    assert!(hits(&weekdays, &at("2026-11-30T10:00")));
    assert!(!hits(&weekdays, &at("2026-12-03T10:00"))); // Thursday
    assert!(hits(&weekdays, &at("2026-12-04T10:00")));
    let wrapping = condition_rules(r#"{"time": {"weekdays": "sat-mon"}}"#);
    assert!(hits(&wrapping, &at("2026-11-29T10:00")));
    assert!(!hits(&wrapping, &at("2026-12-01T10:00")));

    let hours = condition_rules(r#"{"time": {"hours": ["08:00-12:00", "22:00-06:00"]}}"#);
    assert!(hits(&hours, &at("2026-11-30T08:00")));
    assert!(!hits(&hours, &at("2026-11-30T12:00")));
    assert!(hits(&hours, &at("2026-11-30T23:30")));
    assert!(hits(&hours, &at("2026-11-30T05:59")));
    assert!(!hits(&hours, &at("2026-11-30T06:00")));
    assert!(hits(
        &condition_rules(r#"{"time": {"hours": "17:00-24:00"}}"#),
        &at("2026-11-30T23:59")
    ));

    let dates = condition_rules(
        r#"{"time": {"dates": ["2026-12-31", "2027-01-05..2027-01-06", "@xmas", "02-29"]}}"#,
    );
    assert!(hits(&dates, &at("2026-12-31T10:00")));
    assert!(hits(&dates, &at("2027-01-06T23:59")));
    assert!(!hits(&dates, &at("2027-01-07T00:00")));
    assert!(hits(&dates, &at("2030-12-25T10:00")));
    assert!(hits(&dates, &at("2028-02-29T10:00")));
    assert!(!hits(&dates, &at("2026-12-23T10:00")));
    let new_year = condition_rules(r#"{"time": {"dates": "12-31..01-01"}}"#);
    assert!(hits(&new_year, &at("2026-12-31T10:00")));
    assert!(hits(&new_year, &at("2027-01-01T10:00")));
    assert!(!hits(&new_year, &at("2027-01-02T10:00")));

    // Any of several windows; each window's parts all together.
    let windows = condition_rules(
        r#"{"time": [{"weekdays": "sat", "hours": "10:00-12:00"}, {"dates": "2026-12-01"}]}"#,
    );
    assert!(hits(&windows, &at("2026-11-28T11:00")));
    assert!(!hits(&windows, &at("2026-11-28T12:00")));
    assert!(hits(&windows, &at("2026-12-01T20:00")));

    // Another zone: 10:00 in Berlin is 04:00 in New York.
    let new_york =
        condition_rules(r#"{"time": {"hours": "04:00-05:00", "timezone": "America/New_York"}}"#);
    assert!(hits(&new_york, &at("2026-11-30T10:00")));
    let document_zone = rules(
        r#"{"timezone": "Asia/Tokyo", "global": [{"id": "hit", "when": {"time": {"hours": "18:00-19:00"}}, "then": {"hangup": {}}}]}"#,
    );
    assert!(hits(&document_zone, &at("2026-11-30T10:00")));
}

#[test]
fn daylight_saving_switches_in_berlin() {
    let night = condition_rules(r#"{"time": {"hours": "02:00-03:00"}}"#);
    let utc = |text: &str| {
        let mut call = Call::new("4917012345", "4921100000", "in", "2026-01-01T00:00");
        call.utc = Zone::utc()
            .from_local(LocalDateTime::parse(text).unwrap())
            .0;
        call
    };
    // 2026-03-29: 02:00–03:00 does not exist in Berlin; the clock jumps at 01:00 UTC.
    assert!(!hits(&night, &utc("2026-03-29T00:59")));
    assert!(!hits(&night, &utc("2026-03-29T01:00")));
    assert!(!hits(&night, &utc("2026-03-29T01:30")));
    assert!(
        hits(&night, &utc("2026-03-30T00:30")),
        "02:30 CEST the next night"
    );
    // 2026-10-25: 02:00–03:00 happens twice, 00:00–02:00 UTC: both match.
    assert!(!hits(&night, &utc("2026-10-24T23:59")));
    assert!(hits(&night, &utc("2026-10-25T00:00")));
    assert!(hits(&night, &utc("2026-10-25T00:59")));
    assert!(hits(&night, &utc("2026-10-25T01:00")));
    assert!(hits(&night, &utc("2026-10-25T01:59")));
    assert!(!hits(&night, &utc("2026-10-25T02:00")));
    // Office hours follow the wall clock across the switch.
    let office = rules(OFFICE);
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2026-03-27T16:59"
        ),
        "business-hours"
    );
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2026-03-30T08:00"
        ),
        "business-hours"
    );
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2026-10-26T07:59"
        ),
        "after-hours"
    );
    assert_eq!(
        decided(
            &office,
            "492111234567",
            "4921100000",
            "in",
            "2026-10-26T08:00"
        ),
        "business-hours"
    );
}

#[test]
fn every_action() {
    let xml = |then: &str| {
        let rules = rules(&format!(
            r#"{{"menus": {{"m": {{"prompt": "https://x.example/m.wav"}}}}, "default": [{{"then": {then}}}]}}"#
        ));
        Call::new("492111234567", "4921100000", "in", MONDAY_10)
            .decide(&rules)
            .1
    };
    assert_eq!(
        xml(r#"{"dial": {"numbers": ["4915799912345"], "anonymous": true}}"#),
        "<Response><Dial anonymous=\"true\"><Number>4915799912345</Number></Dial></Response>"
    );
    assert_eq!(
        xml(r#"{"voicemail": {}}"#),
        "<Response><Dial><Voicemail/></Dial></Response>"
    );
    assert_eq!(
        xml(r#"{"play": {"url": "https://x.example/a.wav"}}"#),
        "<Response><Play><Url>https://x.example/a.wav</Url></Play></Response>"
    );
    assert_eq!(
        xml(r#"{"gather": {"onData": "https://ivr.example/d", "maxDigits": 2}}"#),
        "<Response><Gather onData=\"https://ivr.example/d\" maxDigits=\"2\"/></Response>"
    );
    assert_eq!(
        xml(r#"{"reject": {"reason": "rejected"}}"#),
        "<Response><Reject reason=\"rejected\"/></Response>"
    );
    assert_eq!(xml(r#"{"hangup": {}}"#), "<Response><Hangup/></Response>");
    assert_eq!(xml(r#"{"proceed": {}}"#), "<Response/>");
    assert_eq!(
        xml(r#"{"menu": "m"}"#),
        "<Response><Gather onData=\"https://router.example/?menu=m&amp;try=0\" maxDigits=\"1\"><Play><Url>https://x.example/m.wav</Url></Play></Gather></Response>"
    );
    // No rule matches at all: proceed.
    let empty = rules("{}");
    assert_eq!(
        Call::new("492111234567", "4921100000", "in", MONDAY_10).decide(&empty),
        ("-".to_owned(), "<Response/>".to_owned())
    );
}

fn errors(json: &str) -> Vec<String> {
    match load(json) {
        Err(error) => error.problems().iter().map(ToString::to_string).collect(),
        Ok(_) => panic!("expected errors for {json}"),
    }
}

#[test]
fn validation_errors_name_their_paths() {
    assert_eq!(
        errors(
            r#"{"default": [{"then": {"dial": {"numbers": ["4911", "4912", "4913", "4914", "4915", "4916"]}}}]}"#
        ),
        ["default[0].then.dial.numbers: has 6 numbers, but sipgate rings at most 5 in parallel"]
    );
    assert_eq!(
        errors(r#"{"global": [{"then": {"play": {"url": "sounds/a.wav"}}}]}"#),
        ["global[0].then.play.url: \"sounds/a.wav\" is not an absolute URL (it must start with https:// or http://)"]
    );
    assert_eq!(
        errors(r#"{"numbers": {"4921100000": [{"then": {"menu": "missing"}}]}}"#),
        ["numbers.4921100000[0].then.menu: \"missing\" is not a menu in `menus`"]
    );
    assert_eq!(errors(r#"{"timezone": "Europe/Atlantis"}"#), ["timezone: \"Europe/Atlantis\" is not a known IANA time zone (e.g. Europe/Berlin, Europe/Vienna, America/New_York)"]);
    assert_eq!(
        errors(r#"{"global": [{"when": {"time": {"hours": ["08:00-08:00", "8-17", "09:00-25:00"], "weekdays": "mon-fry", "dates": ["2026-12-31..2026-12-01", "2026-02-30", "@nope"]}}, "then": {"hangup": {}}}]}"#),
        [
            "global[0].when.time.weekdays: \"mon-fry\" is not a weekday or range (mon, mon-fri, sat-sun)",
            "global[0].when.time.hours[0]: \"08:00-08:00\" is empty: start and end are the same",
            "global[0].when.time.hours[1]: \"8-17\" has a start that is not a time of day (00:00 to 23:59)",
            "global[0].when.time.hours[2]: \"09:00-25:00\" has an end that is not a time of day (00:00 to 24:00)",
            "global[0].when.time.dates[0]: \"2026-12-31..2026-12-01\" ends before it starts",
            "global[0].when.time.dates[1]: \"2026-02-30\" is not a date (2026-12-24), a range (2026-12-24..2027-01-06), a yearly date (12-25) or a yearly range (12-24..12-26)",
            "global[0].when.time.dates[2]: \"@nope\" names no calendar in `calendars`",
        ]
    );
    assert_eq!(
        errors(r#"{"numbers": {"0211123456": [], "+4921100000": [], "4921100000": []}}"#),
        [
            "numbers.0211123456: the key \"0211123456\" starts with 0: write it internationally, country code first (0211… → 49211…)",
            "numbers.4921100000: is the number 4921100000 again (written differently)",
        ]
    );
    assert_eq!(
        errors(
            r#"{"global": [{"id": "x", "when": {"caller": "@vip", "direction": "sideways"}, "then": {"hangup": {}}}, {"id": "x", "then": {"hangup": {}}}]}"#
        ),
        [
            "global[0].when.direction: \"sideways\" is not a direction (in or out)",
            "global[0].when.caller: \"@vip\" names no list in `lists`",
            "global[1].id: \"x\" is already the id of global[0]",
        ]
    );
    assert_eq!(
        errors(r#"{"menus": {"a": {"prompt": "https://x.example/a.wav", "options": {"1": {"menu": "b"}, "12": {"hangup": {}}, "x": {"hangup": {}}}, "maxDigits": 1}}}"#),
        [
            "menus.a.options.1.menu: \"b\" is not a menu in `menus`",
            "menus.a.options.12: the key \"12\" has 2 digits, but maxDigits is 1: it can never be typed",
            "menus.a.options.x: the key \"x\" must be keypad digits (0-9, *, #)",
        ]
    );
}

#[test]
fn menus_need_a_way_out() {
    let trapped = r#"{"menus": {
        "a": {"prompt": "https://x.example/a.wav", "options": {"1": {"menu": "b"}}, "noInput": {"menu": "a"}, "invalid": {"menu": "b"}},
        "b": {"prompt": "https://x.example/b.wav", "options": {"1": {"menu": "a"}}, "noInput": {"menu": "a"}, "invalid": {"menu": "a"}},
        "c": {"prompt": "https://x.example/c.wav", "options": {"1": {"menu": "a"}}, "noInput": {"menu": "c"}, "invalid": {"menu": "c"}}
    }}"#;
    assert_eq!(
        errors(trapped),
        [
            "menus.a: has no way out: its options, noInput and invalid lead only to menus that never end the menu",
            "menus.b: has no way out: its options, noInput and invalid lead only to menus that never end the menu",
            "menus.c: has no way out: its options, noInput and invalid lead only to menus that never end the menu",
        ]
    );
    // A way out through another menu is enough; fallbacks default to proceed.
    load(r#"{"menus": {"a": {"prompt": "https://x.example/a.wav", "options": {"1": {"menu": "b"}}, "noInput": {"menu": "b"}, "invalid": {"menu": "a"}},
                       "b": {"prompt": "https://x.example/b.wav"}}}"#)
    .unwrap();
}

#[test]
fn shadowed_rules_are_warnings() {
    let checked = load(
        r#"{"global": [{"id": "everyone", "then": {"proceed": {}}}, {"id": "late", "when": {"caller": "anonymous"}, "then": {"hangup": {}}}],
            "numbers": {"4921100000": [{"then": {"hangup": {}}}]},
            "default": [{"id": "d1", "then": {"hangup": {}}}, {"id": "d2", "then": {"hangup": {}}}]}"#,
    )
    .unwrap();
    let warnings: Vec<String> = checked.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "default: is never reached: the global rule \"everyone\" matches every call first",
            "default[1]: never matches: the rule \"d1\" before it matches every call",
            "global[1]: never matches: the rule \"everyone\" before it matches every call",
            "numbers: is never reached: the global rule \"everyone\" matches every call first",
        ]
    );
    assert!(load(OFFICE).unwrap().warnings.is_empty());
    assert!(load(HOTLINE).unwrap().warnings.is_empty());
}

#[test]
fn structure_errors_name_their_paths() {
    let syntax = |json: &str| match load(json) {
        Err(DocumentError::Syntax(problem)) => problem.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(
        syntax(r#"{"numbers": {"4921100000": [{"then": {"dail": {}}}]}}"#)
            .starts_with("numbers.4921100000[0].then: unknown variant `dail`")
    );
    assert!(
        syntax(r#"{"global": [{"when": {"calller": "1"}, "then": {"hangup": {}}}]}"#)
            .starts_with("global[0].when.calller: unknown field `calller`")
    );
    assert!(syntax(r#"{"global": [{"when": {"time": {"hours": 8}}, "then": {"hangup": {}}}]}"#)
        .starts_with("global[0].when.time.hours: invalid type: integer `8`, expected a value or a list of values"));
    assert!(syntax(
        r#"{"menus": {"m": {"prompt": "https://x.example/a.wav", "options": {"1": {"menu": 1}}}}}"#
    )
    .starts_with("menus.m.options.1.menu: invalid type: integer `1`"));
    assert!(
        syntax(r#"{"global": {}}"#).starts_with("global: invalid type: map, expected a sequence")
    );
}
