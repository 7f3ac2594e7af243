//! Any text as a stored shard in rules format 2 (what a push decodes
//! instead of parsing JSON): decoding never panics; rules it yields decide
//! calls and menu digits into well-formed XML, and write the same text
//! again when encoded (every field read is a field written).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipgate_router::protocol::url::SelfUrl;
use sipgate_router::rules::compact::{decode, encode};
use sipgate_router::rules::menu::MenuState;
use sipgate_router::rules::simulate::{Call, CallInput};

fn well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    let mut roots = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => {
                roots += usize::from(depth == 0);
                depth += 1;
            }
            Ok(quick_xml::events::Event::Empty(_)) => roots += usize::from(depth == 0),
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!("not well-formed: {error}: {xml}"),
        }
    }
    assert_eq!((roots, depth), (1, 0), "{xml}");
}

fuzz_target!(|text: &str| {
    let Ok(rules) = decode(text) else { return };
    let encoded = encode(&rules);
    let again = decode(&encoded).expect("what encode writes decodes");
    assert_eq!(encode(&again), encoded);
    let base = SelfUrl::from_request_url("https://router.example/").unwrap();
    for (from, to, direction) in [
        ("492111234567", "4921100000", "in"),
        ("anonymous", "4930200000000", "in"),
        ("4921100000", "4915791234567", "out"),
    ] {
        for utc in [1_795_856_400, 1_798_000_000] {
            let input = CallInput {
                from: from.into(),
                to: to.into(),
                direction: direction.into(),
                ..CallInput::default()
            };
            let call = Call::parse(&input, &rules.zone, utc).unwrap();
            let decision = rules.decide_call(&call.facts(), call.sipgate_number(), &base);
            well_formed(&decision.answer.xml());
            well_formed(&decision.answer.watched(base.url().as_ref()).xml());
        }
    }
    for menu in rules.menus.keys() {
        for digits in ["", "1", "12", "#"] {
            let state = MenuState { menu: menu.clone(), attempt: 0, draft: None };
            well_formed(&rules.decide_digits(&state, digits, &base).answer.xml());
        }
    }
});
