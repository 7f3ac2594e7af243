//! Any text as a stored shard in rules format 2 (what a push decodes
//! instead of parsing JSON): decoding never panics; rules it yields decide
//! calls and menu digits into well-formed XML, and write the same text
//! again when encoded (every field read is a field written).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipgate_router::protocol::url::SelfUrl;
use sipgate_router::rules::compact::{decode, encode};

mod answers;
use answers::well_formed;

fuzz_target!(|text: &str| {
    let Ok(rules) = decode(text) else { return };
    let encoded = encode(&rules);
    let again = decode(&encoded).expect("what encode writes decodes");
    assert_eq!(encode(&again), encoded);
    let base = SelfUrl::from_request_url("https://router.example/").unwrap();
    for call in answers::calls(&rules) {
        let decision = rules.decide_call(&call.facts(), call.sipgate_number(), &base);
        well_formed(&decision.answer.xml());
        well_formed(&decision.answer.watched(base.url().as_ref()).xml());
    }
    for state in answers::menu_states(&rules) {
        for digits in answers::DIGITS {
            well_formed(&rules.decide_digits(&state, digits, &base).answer.xml());
        }
    }
});
