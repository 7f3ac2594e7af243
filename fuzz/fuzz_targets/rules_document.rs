//! Any text as a rules document: loading never panics; a document that
//! loads decides calls and menu digits into well-formed XML that the
//! protocol grammar allows (one root, at most one action). Checked shard
//! by shard (as a publish checks it), it has exactly the errors of the
//! whole check, and compared with itself, no differences. Stored compiled
//! (rules format 2) and read back, it answers every call and digit the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipgate_router::rules::diff::{diff, document};
use sipgate_router::rules::load;
use sipgate_router::rules::compact;
use sipgate_router::rules::problem::DocumentError;
use sipgate_router::store::shards::{check_source, Sharded};
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

/// The shard-by-shard check agrees with reading the document whole.
fn same_as_the_whole_check(text: &str) {
    let Some(sharded) = Sharded::parse(text) else {
        // No object of distinct keys: no document, whatever serde reads.
        assert!(!check_source(text).report.errors.is_empty(), "{text}");
        return;
    };
    let report = sharded.check().report;
    // Stricter than the whole check in one way: a number written twice
    // (which serde reads, then replaces) is a shape error of its own.
    let twice = !report.errors.is_empty()
        && report.errors.iter().any(|error| error.message.starts_with("is written more than once"));
    match load(text) {
        _ if twice => assert!(!report.complete, "{text}: {report:?}"),
        Ok(_) => assert!(report.errors.is_empty(), "{text}: {report:?}"),
        Err(DocumentError::Invalid(mut errors)) => {
            errors.sort();
            errors.dedup();
            assert_eq!(report.errors, errors, "{text}");
        }
        Err(DocumentError::Syntax(_)) => {
            assert!(!report.errors.is_empty() && !report.complete, "{text}: {report:?}");
        }
    }
    if let Ok(document) = document(text) {
        assert!(diff(&document, &document).is_empty(), "{text}");
    }
}

fuzz_target!(|text: &str| {
    same_as_the_whole_check(text);
    let Ok(checked) = load(text) else { return };
    let rules = checked.rules;
    let encoded = compact::encode(&rules);
    let stored = compact::decode(&encoded).expect("a compiled document decodes");
    assert_eq!(compact::encode(&stored), encoded);
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
            let read_back = stored.decide_call(&call.facts(), call.sipgate_number(), &base);
            assert_eq!(read_back.answer.xml(), decision.answer.xml(), "{text}");
            assert_eq!(read_back.trace.len(), decision.trace.len(), "{text}");
            // As answered when the journal watches calls: the router's callbacks added.
            well_formed(&decision.answer.watched(base.url().as_ref()).xml());
        }
    }
    for menu in rules.menus.keys() {
        for digits in ["", "1", "2", "12", "#", "999"] {
            for attempt in 0..3 {
                let state = MenuState { menu: menu.clone(), attempt, draft: None };
                let xml = rules.decide_digits(&state, digits, &base).answer.xml();
                well_formed(&xml);
                assert_eq!(stored.decide_digits(&state, digits, &base).answer.xml(), xml, "{text}");
            }
        }
    }
});
