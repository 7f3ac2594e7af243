//! Any text as a rules document: loading never panics; a document that
//! loads decides calls and menu digits into well-formed XML that the
//! protocol grammar allows (one root, at most one action).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipgate_router::rules::load;
use sipgate_router::rules::menu::MenuState;
use sipgate_router::protocol::url::SelfUrl;
use sipgate_router::rules::simulate::{Call, CallInput};

fn well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    let mut roots = 0;
    let mut actions = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                } else if depth == 1 {
                    actions += 1;
                }
                depth += 1;
            }
            Ok(quick_xml::events::Event::Empty(_)) => {
                if depth == 0 {
                    roots += 1;
                } else if depth == 1 {
                    actions += 1;
                }
            }
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!("not well-formed: {error}: {xml}"),
        }
    }
    assert_eq!((roots, depth), (1, 0), "{xml}");
    assert!(actions <= 1, "{xml}");
}

fuzz_target!(|text: &str| {
    let Ok(checked) = load(text) else { return };
    let rules = checked.rules;
    let base = SelfUrl::from_request_url("https://router.example/").unwrap();
    for (from, to, direction) in [
        ("492111234567", "4921100000", "in"),
        ("anonymous", "4930200000000", "in"),
        ("4921100000", "4915791234567", "out"),
    ] {
        for utc in [1_795_856_400, 1_796_029_200, 1_798_000_000] {
            let input = CallInput {
                from: from.into(),
                to: to.into(),
                direction: direction.into(),
                ..CallInput::default()
            };
            let call = Call::parse(&input, &rules.zone, utc).unwrap();
            let decision = rules.decide_call(&call.facts(), call.sipgate_number(), &base);
            well_formed(&decision.answer.xml());
            // As answered when the journal watches calls: the router's callbacks added.
            well_formed(&decision.answer.watched(base.url().as_ref()).xml());
        }
    }
    for menu in rules.menus.keys() {
        for digits in ["", "1", "2", "12", "#", "999"] {
            for attempt in 0..3 {
                let state = MenuState { menu: menu.clone(), attempt };
                well_formed(&rules.decide_digits(&state, digits, &base).answer.xml());
            }
        }
    }
});
