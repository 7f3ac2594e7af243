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
use sipgate_router::protocol::url::SelfUrl;

mod answers;
use answers::well_formed;

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
    for call in answers::calls(&rules) {
        let decision = rules.decide_call(&call.facts(), call.sipgate_number(), &base);
        well_formed(&decision.answer.xml());
        let read_back = stored.decide_call(&call.facts(), call.sipgate_number(), &base);
        assert_eq!(read_back.answer.xml(), decision.answer.xml(), "{text}");
        assert_eq!(read_back.trace.len(), decision.trace.len(), "{text}");
        // As answered when the journal watches calls: the router's callbacks added.
        well_formed(&decision.answer.watched(base.url().as_ref()).xml());
    }
    for state in answers::menu_states(&rules) {
        for digits in answers::DIGITS {
            let xml = rules.decide_digits(&state, digits, &base).answer.xml();
            well_formed(&xml);
            assert_eq!(stored.decide_digits(&state, digits, &base).answer.xml(), xml, "{text}");
        }
    }
});
