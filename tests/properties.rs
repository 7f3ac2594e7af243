//! Properties of the rules engine, on generated documents and calls:
//!
//! * loading any text never panics; generated documents compile or are
//!   refused, never panic;
//! * evaluation is deterministic (the same call decides the same twice);
//! * every decision — calls and menu digits — renders to XML that the
//!   sipgate.io protocol allows (checked by a real XML parser against the
//!   protocol's grammar).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use proptest::prelude::*;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use sipgate_router::protocol::push::Push;
use sipgate_router::protocol::url::HttpUrl;
use sipgate_router::protocol::url::SelfUrl;
use sipgate_router::rules::menu::MenuState;
use sipgate_router::rules::simulate::{Call, CallInput};
use sipgate_router::rules::spec::{
    ActionSpec, DocumentSpec, MenuSpec, OneOrMany, RuleSpec, TimeSpec, WhenSpec,
};
use sipgate_router::rules::{compile, load, RuleSet};
use sipgate_router::time::zone::Zone;

const OFFICE: &str = include_str!("../examples/office.json");
const HOTLINE: &str = include_str!("../examples/hotline.json");

// ---------------------------------------------------------------------------
// The protocol's grammar for answers.

fn attributes(start: &BytesStart) -> Vec<(String, String)> {
    start
        .attributes()
        .map(|attribute| {
            let attribute = attribute.expect("well-formed attribute");
            (
                attribute.key.as_ref().to_owned(),
                attribute
                    .normalized_value(XmlVersion::Explicit1_0)
                    .expect("attribute value")
                    .into_owned(),
            )
        })
        .collect()
}

#[derive(Debug)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

fn parse(xml: &str) -> Element {
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Element {
        name: String::new(),
        attributes: vec![],
        children: vec![],
        text: String::new(),
    }];
    let mut declared = false;
    loop {
        let element = |start: &BytesStart| Element {
            name: start.name().as_ref().to_owned(),
            attributes: attributes(start),
            children: vec![],
            text: String::new(),
        };
        match reader
            .read_event()
            .unwrap_or_else(|error| panic!("not well-formed: {error}: {xml}"))
        {
            Event::Decl(decl) => {
                assert_eq!(decl.version().unwrap(), "1.0");
                assert_eq!(decl.encoding().unwrap().unwrap(), "UTF-8");
                declared = true;
            }
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => {
                let done = element(&start);
                stack.last_mut().unwrap().children.push(done);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(text) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&text.xml10_content()),
            Event::GeneralRef(reference) => {
                let character = match reference.resolve_char_ref().unwrap() {
                    Some(character) => character.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&reference)
                        .unwrap()
                        .to_owned(),
                };
                stack.last_mut().unwrap().text.push_str(&character);
            }
            Event::Eof => break,
            other => panic!("unexpected {other:?} in {xml}"),
        }
    }
    assert!(declared, "no XML declaration: {xml}");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root: {xml}");
    document.children.pop().unwrap()
}

fn is_e164(text: &str) -> bool {
    (3..=15).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
        && !text.starts_with('0')
}

fn is_url(text: &str) -> bool {
    HttpUrl::parse(text).is_ok()
}

fn is_count(text: &str) -> bool {
    text.parse::<u32>().is_ok_and(|n| n >= 1)
}

/// Panics unless `xml` is an answer sipgate.io accepts.
fn assert_protocol(xml: &str) {
    let root = parse(xml);
    assert_eq!(root.name, "Response", "{xml}");
    for (name, value) in &root.attributes {
        assert!(
            matches!(name.as_str(), "onAnswer" | "onHangup"),
            "{name} on Response: {xml}"
        );
        assert!(is_url(value), "{name}={value}: {xml}");
    }
    assert!(root.children.len() <= 1, "more than one action: {xml}");
    let Some(action) = root.children.first() else {
        return;
    };
    let attr = |name: &str| {
        action
            .attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let only = |allowed: &[&str]| {
        for (name, _) in &action.attributes {
            assert!(
                allowed.contains(&name.as_str()),
                "{name} on {}: {xml}",
                action.name
            );
        }
    };
    match action.name.as_str() {
        "Dial" => {
            only(&["callerId", "anonymous"]);
            assert!(attr("callerId").is_none_or(is_e164), "{xml}");
            assert!(
                attr("anonymous").is_none_or(|a| a == "true" || a == "false"),
                "{xml}"
            );
            let names: Vec<&str> = action
                .children
                .iter()
                .map(|child| child.name.as_str())
                .collect();
            if names == ["Voicemail"] {
                assert!(
                    action.children[0].children.is_empty()
                        && action.children[0].attributes.is_empty()
                );
            } else {
                assert!((1..=5).contains(&names.len()), "{xml}");
                for number in &action.children {
                    assert_eq!(number.name, "Number", "{xml}");
                    assert!(is_e164(&number.text), "{xml}");
                }
            }
        }
        "Play" => {
            only(&[]);
            assert_play(action, xml);
        }
        "Gather" => {
            only(&["onData", "maxDigits", "timeout", "type"]);
            assert!(attr("onData").is_some_and(is_url), "{xml}");
            assert!(attr("maxDigits").is_none_or(is_count), "{xml}");
            assert!(attr("timeout").is_none_or(is_count), "{xml}");
            assert!(attr("type").is_none_or(|kind| kind == "dtmf"), "{xml}");
            assert!(action.children.len() <= 1, "{xml}");
            for play in &action.children {
                assert_eq!(play.name, "Play", "only Play inside Gather: {xml}");
                assert_play(play, xml);
            }
        }
        "Reject" => {
            only(&["reason"]);
            assert!(
                attr("reason").is_none_or(|r| r == "rejected" || r == "busy"),
                "{xml}"
            );
            assert!(action.children.is_empty());
        }
        "Hangup" => {
            only(&[]);
            assert!(action.children.is_empty());
        }
        other => panic!("{other} is not a sipgate.io action: {xml}"),
    }
}

fn assert_play(play: &Element, xml: &str) {
    assert_eq!(play.children.len(), 1, "{xml}");
    assert_eq!(play.children[0].name, "Url", "{xml}");
    assert!(is_url(&play.children[0].text), "{xml}");
}

// ---------------------------------------------------------------------------
// Generators. Values come from small pools of valid and invalid ones, so
// generated documents hit both compilation paths.

fn pick<T: Clone + std::fmt::Debug + 'static>(values: &[T]) -> impl Strategy<Value = T> {
    proptest::sample::select(values.to_vec())
}

/// Mostly valid values, sometimes an invalid one (1 in 20).
fn mostly(
    valid: &'static [&'static str],
    invalid: &'static [&'static str],
) -> BoxedStrategy<String> {
    prop_oneof![19 => pick(valid), 1 => pick(invalid)]
        .prop_map(str::to_owned)
        .boxed()
}

fn strings(
    valid: &'static [&'static str],
    invalid: &'static [&'static str],
) -> impl Strategy<Value = OneOrMany<String>> {
    prop_oneof![
        3 => mostly(valid, invalid).prop_map(OneOrMany::One),
        2 => prop::collection::vec(mostly(valid, invalid), 1..3).prop_map(OneOrMany::Many),
        1 => prop::collection::vec(mostly(valid, invalid), 0..1).prop_map(OneOrMany::Many),
    ]
}

const NUMBERS: (&[&str], &[&str]) = (
    &[
        "4921100000",
        "4930200000000",
        "4915799912345",
        "492111234567",
    ],
    &["0211", "49 1", "1"],
);
const PATTERNS: (&[&str], &[&str]) = (
    &[
        "4921*",
        "*",
        "anonymous",
        "@blocked",
        "492111234567",
        "4990*",
    ],
    &["@nope", "0*", "x"],
);
const URLS: (&[&str], &[&str]) = (
    &["https://x.example/a.wav", "http://x.example/b?c=1&d=2"],
    &["relative.wav", "ftp://x.example/a"],
);
const HOURS: (&[&str], &[&str]) = (
    &["08:00-17:00", "22:00-06:00", "00:00-24:00", "12:00-13:00"],
    &["12:00-12:00", "8-17"],
);
const WEEKDAYS: (&[&str], &[&str]) = (
    &["mon-fri", "sat", "sun-mon", "wednesday"],
    &["mon-fry", "Mon"],
);
const DATES: (&[&str], &[&str]) = (
    &[
        "12-25",
        "2026-12-24..2026-12-31",
        "@holidays",
        "12-24..01-06",
    ],
    &["2026-02-30", "@nope"],
);
const ZONES: (&[&str], &[&str]) = (
    &[
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
    ],
    &["Mars/Olympus"],
);
const MENUS: (&[&str], &[&str]) = (&["main", "sub"], &["missing"]);

fn action() -> impl Strategy<Value = ActionSpec> {
    prop_oneof![
        prop_oneof![9 => prop::collection::vec(mostly(NUMBERS.0, NUMBERS.1), 1..6), 1 => prop::collection::vec(mostly(NUMBERS.0, NUMBERS.1), 0..8)].prop_map(|numbers| ActionSpec::Dial {
            numbers,
            caller_id: None,
            anonymous: Some(true)
        }),
        Just(ActionSpec::Voicemail {}),
        mostly(URLS.0, URLS.1).prop_map(|url| ActionSpec::Play { url }),
        (mostly(URLS.0, URLS.1), 0u32..4, 0u32..3000).prop_map(|(url, digits, timeout)| ActionSpec::Gather {
            on_data: url,
            max_digits: Some(digits.max(u32::from(digits > 0 || timeout % 20 != 0))),
            timeout: Some(timeout.max(u32::from(timeout % 20 != 0))),
            kind: None,
            play: None,
        }),
        Just(ActionSpec::Reject { reason: None }),
        Just(ActionSpec::Hangup {}),
        Just(ActionSpec::Proceed {}),
        mostly(MENUS.0, MENUS.1).prop_map(ActionSpec::Menu),
    ]
}

fn time() -> impl Strategy<Value = TimeSpec> {
    (
        proptest::option::of(strings(WEEKDAYS.0, WEEKDAYS.1)),
        proptest::option::of(strings(HOURS.0, HOURS.1)),
        proptest::option::of(strings(DATES.0, DATES.1)),
        proptest::option::of(mostly(ZONES.0, ZONES.1)),
    )
        .prop_map(|(weekdays, hours, dates, timezone)| TimeSpec {
            weekdays,
            hours,
            dates,
            timezone,
        })
}

fn when() -> impl Strategy<Value = WhenSpec> {
    (
        proptest::option::of(strings(&["in", "out"], &["up"])),
        proptest::option::of(strings(PATTERNS.0, PATTERNS.1)),
        proptest::option::of(strings(PATTERNS.0, PATTERNS.1)),
        proptest::option::of(strings(&["Alice", "w0"], &["nobody"])),
        proptest::option::of(prop_oneof![
            time().prop_map(OneOrMany::One),
            prop::collection::vec(time(), 0..3).prop_map(OneOrMany::Many)
        ]),
    )
        .prop_map(|(direction, caller, called, user, time)| WhenSpec {
            direction,
            caller,
            called,
            user,
            time,
            ..WhenSpec::default()
        })
}

fn rule() -> impl Strategy<Value = RuleSpec> {
    (
        proptest::option::of(when()),
        action(),
        proptest::option::of(mostly(URLS.0, URLS.1)),
    )
        .prop_map(|(when, then, on_answer)| RuleSpec {
            id: None,
            when,
            then,
            on_answer,
            on_hangup: None,
        })
}

fn menu() -> impl Strategy<Value = MenuSpec> {
    (
        mostly(URLS.0, URLS.1),
        prop::collection::btree_map(mostly(&["1", "2", "12", "*", "#"], &["x"]), action(), 0..4),
        proptest::option::of(action()),
        proptest::option::of(action()),
        proptest::option::of(0u32..3),
        proptest::option::of(0u32..3),
    )
        .prop_map(
            |(prompt, options, no_input, invalid, retries, max_digits)| MenuSpec {
                prompt,
                max_digits: max_digits.map(|digits| digits + 1),
                timeout: Some(2000),
                options,
                no_input,
                invalid,
                retries,
            },
        )
}

fn document() -> impl Strategy<Value = DocumentSpec> {
    (
        proptest::option::of(mostly(ZONES.0, ZONES.1)),
        prop::collection::vec(rule(), 0..3),
        prop::collection::btree_map(
            mostly(NUMBERS.0, NUMBERS.1),
            prop::collection::vec(rule(), 0..4),
            0..3,
        ),
        prop::collection::vec(rule(), 0..2),
        prop::collection::btree_map(pick(&["main", "sub"]).prop_map(str::to_owned), menu(), 0..3),
    )
        .prop_map(|(timezone, global, numbers, default, menus)| DocumentSpec {
            timezone,
            lists: BTreeMap::from([(
                "blocked".to_owned(),
                vec!["4990*".to_owned(), "anonymous".to_owned()],
            )]),
            calendars: BTreeMap::from([("holidays".to_owned(), vec!["12-24..12-26".to_owned()])]),
            menus,
            global,
            numbers,
            default,
            ..DocumentSpec::default()
        })
}

fn call() -> impl Strategy<Value = CallInput> {
    (
        pick(&[
            "anonymous",
            "492111234567",
            "4990123456",
            "4921100000",
            "e12",
            "",
        ]),
        pick(&[
            "4921100000",
            "4930200000000",
            "4915791234567",
            "492111234567",
            "x",
        ]),
        pick(&["in", "out"]),
        prop::collection::vec(pick(&["Alice", "Bob", ""]).prop_map(str::to_owned), 0..3),
        proptest::option::of(pick(&["4921100099", "anonymous"]).prop_map(str::to_owned)),
    )
        .prop_map(|(from, to, direction, users, diversion)| CallInput {
            from: from.to_owned(),
            to: to.to_owned(),
            direction: direction.to_owned(),
            users,
            diversion,
            ..CallInput::default()
        })
}

fn base() -> SelfUrl {
    SelfUrl::from_request_url("https://router.example/sipgate").unwrap()
}

/// Decides `input` at `utc` twice; both must agree and render valid XML.
fn decide_deterministically(rules: &RuleSet, input: &CallInput, utc: i64) {
    let call = Call::parse(input, &rules.zone, utc).expect("valid call input");
    let decide = || {
        let decision = rules.decide_call(&call.facts(), call.sipgate_number(), &base());
        let trace: Vec<(String, bool)> = decision
            .trace
            .iter()
            .map(|step| (step.rule.id.clone(), step.mismatch.is_none()))
            .collect();
        (
            decision.matched.map(|(rule, _)| rule.id.clone()),
            trace,
            decision.answer.response().to_xml(),
        )
    };
    let first = decide();
    assert_eq!(first, decide(), "not deterministic");
    assert_protocol(&first.2);
}

fn digits_valid(rules: &RuleSet, menu: &str, digits: &str, attempt: u32) {
    let state = MenuState {
        menu: menu.to_owned(),
        attempt,
        draft: None,
    };
    let xml = rules
        .decide_digits(&state, digits, &base())
        .answer
        .response()
        .to_xml();
    assert_eq!(
        xml,
        rules
            .decide_digits(&state, digits, &base())
            .answer
            .response()
            .to_xml()
    );
    assert_protocol(&xml);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    // Instants from 2020-01-01 to 2036-01-01, by the second.
    #[test]
    fn the_examples_decide_every_call_deterministically_and_validly(
        input in call(),
        utc in 1_577_836_800i64..2_082_758_400,
        menu in pick(&["after-hours", "lunch-break", "main", "sales", "support", "gone"]),
        digits in "[0-9*#]{0,3}",
        attempt in 0u32..4,
    ) {
        for source in [OFFICE, HOTLINE] {
            let rules = load(source).unwrap().rules;
            decide_deterministically(&rules, &input, utc);
            digits_valid(&rules, menu, &digits, attempt);
        }
    }

    #[test]
    fn generated_documents_compile_or_are_refused_and_decide_validly(
        document in document(),
        input in call(),
        utc in 1_577_836_800i64..2_082_758_400,
        digits in "[0-9*#]{0,3}",
    ) {
        if let Ok(checked) = compile(&document) {
            decide_deterministically(&checked.rules, &input, utc);
            for menu in checked.rules.menus.keys() {
                for attempt in 0..3 {
                    digits_valid(&checked.rules, menu, &digits, attempt);
                }
            }
        }
    }

    #[test]
    fn loading_any_text_never_panics(text in ".{0,300}") {
        let _ = load(&text);
    }

    #[test]
    fn loading_mutated_examples_never_panics(position in 0usize..4000, byte in any::<u8>(), cut in 0usize..4000) {
        let mut bytes = OFFICE.as_bytes().to_vec();
        let position = position % bytes.len();
        bytes[position] = byte;
        bytes.truncate(cut.max(position + 1));
        if let Ok(text) = String::from_utf8(bytes) {
            if let Ok(checked) = load(&text) {
                decide_deterministically(&checked.rules, &CallInput {
                    from: "492111234567".into(), to: "4921100000".into(), direction: "in".into(), ..CallInput::default()
                }, 1_800_000_000);
            }
        }
    }

    #[test]
    fn parsing_any_push_never_panics(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Push::parse(&body);
    }

    #[test]
    fn wall_clock_round_trips_in_every_zone(utc in -2_000_000_000i64..4_000_000_000, zone in pick(&["Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu", "Pacific/Chatham", "UTC"])) {
        let zone = Zone::find(zone).unwrap();
        let local = zone.to_local(utc);
        let (back, _) = zone.from_local(local);
        // A repeated hour maps back to its first occurrence.
        prop_assert!(back == utc || zone.to_local(back) == local, "{} {local} {utc} {back}", zone.name());
    }
}

/// The generators are not vacuous: documents both compile and are refused,
/// and calls are decided by rules as well as by no rule.
#[test]
fn generated_documents_cover_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut compiled, mut refused, mut matched) = (0, 0, 0);
    for _ in 0..500 {
        let document = document().new_tree(&mut runner).unwrap().current();
        match compile(&document) {
            Ok(checked) => {
                compiled += 1;
                let input = call().new_tree(&mut runner).unwrap().current();
                let call = Call::parse(&input, &checked.rules.zone, 1_800_000_000).unwrap();
                if checked
                    .rules
                    .decide_call(&call.facts(), call.sipgate_number(), &base())
                    .matched
                    .is_some()
                {
                    matched += 1;
                }
            }
            Err(_) => refused += 1,
        }
    }
    eprintln!("compiled {compiled}, refused {refused}, matched {matched}");
    assert!(
        compiled >= 50 && refused >= 50 && matched >= 20,
        "compiled {compiled}, refused {refused}, matched {matched}"
    );
}
