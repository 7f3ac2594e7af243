//! The protocol reference, as tests: every XML example of the seed README
//! and of the full protocol description is produced by the response model
//! (compared as parsed XML, so indentation and `<X />` vs `<X/>` do not
//! matter), and every documented push parses.
//!
//! The examples are copied verbatim into `tests/fixtures/`.

use std::num::NonZeroU32;

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use sipgate_router::protocol::number::{Party, E164};
use sipgate_router::protocol::push::{Direction, HangupCause, Push};
use sipgate_router::protocol::response::{
    Action, Dial, DialNumbers, DialTarget, Gather, GatherKind, Play, Reject, RejectReason, Response,
};
use sipgate_router::protocol::url::HttpUrl;

/// An element with its attributes (sorted) and children; text is trimmed,
/// whitespace-only text, comments and the declaration are dropped.
#[derive(Debug, PartialEq)]
enum Node {
    Element {
        name: String,
        attributes: Vec<(String, String)>,
        children: Vec<Node>,
    },
    Text(String),
}

fn parse_xml(xml: &str) -> Node {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Node> = vec![Node::Element {
        name: String::new(),
        attributes: vec![],
        children: vec![],
    }];
    let mut declaration = None;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|error| panic!("not well-formed: {error}\n{xml}"));
        let element = |start: &quick_xml::events::BytesStart| {
            let mut attributes: Vec<(String, String)> = start
                .attributes()
                .map(|attribute| {
                    let attribute = attribute.unwrap();
                    (
                        attribute.key.as_ref().to_owned(),
                        attribute
                            .normalized_value(XmlVersion::Explicit1_0)
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect();
            attributes.sort();
            Node::Element {
                name: start.name().as_ref().to_owned(),
                attributes,
                children: vec![],
            }
        };
        match event {
            Event::Decl(decl) => {
                declaration = Some((
                    decl.version().unwrap().into_owned(),
                    decl.encoding()
                        .map(|encoding| encoding.unwrap().into_owned()),
                ))
            }
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => push_child(&mut stack, element(&start)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                push_child(&mut stack, done);
            }
            Event::Text(text) => {
                let text = text.xml10_content().trim().to_owned();
                if !text.is_empty() {
                    push_child(&mut stack, Node::Text(text));
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().unwrap() {
                    Some(character) => character.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&reference)
                        .unwrap_or_else(|| panic!("unknown entity &{};", &*reference))
                        .to_owned(),
                };
                push_child(&mut stack, Node::Text(resolved));
            }
            Event::Comment(_) => {}
            Event::Eof => break,
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    assert_eq!(
        declaration,
        Some(("1.0".to_owned(), Some("UTF-8".to_owned()))),
        "XML declaration missing or different in\n{xml}"
    );
    let Some(Node::Element { mut children, .. }) = stack.pop() else {
        unreachable!()
    };
    assert_eq!(children.len(), 1, "exactly one root element");
    children.pop().unwrap()
}

/// Adjacent text pieces (split around entity references) are joined.
fn push_child(stack: &mut [Node], child: Node) {
    let Some(Node::Element { children, .. }) = stack.last_mut() else {
        unreachable!()
    };
    match (children.last_mut(), child) {
        (Some(Node::Text(previous)), Node::Text(more)) => previous.push_str(&more),
        (_, child) => children.push(child),
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn number(digits: &str) -> E164 {
    E164::parse(digits).unwrap()
}

fn url(text: &str) -> HttpUrl {
    HttpUrl::parse(text).unwrap()
}

fn assert_produces(fixture_name: &str, response: Response) {
    let expected = fixture(&format!("xml/{fixture_name}"));
    let produced = response.to_xml();
    assert_eq!(
        parse_xml(&produced),
        parse_xml(&expected),
        "\nmodel wrote:\n{produced}\nreference:\n{expected}"
    );
}

#[test]
fn seed_dial_number() {
    assert_produces(
        "seed-dial-number.xml",
        Response::with_action(Action::Dial(Dial {
            caller_id: None,
            anonymous: None,
            target: DialTarget::Numbers(DialNumbers::new(vec![number("4915799912345")]).unwrap()),
        })),
    );
}

#[test]
fn seed_dial_voicemail() {
    assert_produces(
        "seed-dial-voicemail.xml",
        Response::with_action(Action::Dial(Dial {
            caller_id: None,
            anonymous: None,
            target: DialTarget::Voicemail,
        })),
    );
}

#[test]
fn seed_play() {
    assert_produces(
        "seed-play.xml",
        Response::with_action(Action::Play(Play {
            url: url("http://example.com/example.wav"),
        })),
    );
}

#[test]
fn seed_reject() {
    assert_produces(
        "seed-reject.xml",
        Response::with_action(Action::Reject(Reject::default())),
    );
    assert_produces(
        "seed-reject-busy.xml",
        Response::with_action(Action::Reject(Reject {
            reason: Some(RejectReason::Busy),
        })),
    );
}

#[test]
fn seed_hangup() {
    assert_produces("seed-hangup.xml", Response::with_action(Action::Hangup));
}

#[test]
fn protocol_response_with_event_urls() {
    assert_produces(
        "protocol-response-events.xml",
        Response {
            on_answer: Some(url("https://…/events")),
            on_hangup: Some(url("https://…/events")),
            action: None,
        },
    );
}

#[test]
fn protocol_empty_response() {
    assert_produces("protocol-response-empty.xml", Response::proceed());
}

#[test]
fn the_comparison_is_not_blind() {
    // A different model must not compare equal to a reference example.
    let busy = Response::with_action(Action::Reject(Reject {
        reason: Some(RejectReason::Rejected),
    }));
    assert_ne!(
        parse_xml(&busy.to_xml()),
        parse_xml(&fixture("xml/seed-reject-busy.xml"))
    );
    assert_ne!(
        parse_xml(&Response::proceed().to_xml()),
        parse_xml(&fixture("xml/seed-hangup.xml"))
    );
}

#[test]
fn every_verb_round_trips_through_a_real_xml_parser() {
    // A value with the characters a URL may carry that XML escapes (`<`, `>`
    // and `"` cannot pass URL validation), in every place a value goes.
    let tricky = url("https://example.com/a.wav?x=1&y='2'&z=]]&amp;");
    let response = Response {
        on_answer: Some(tricky.clone()),
        on_hangup: Some(url("https://example.com/h?a=1&b=2")),
        action: Some(Action::Gather(Gather {
            on_data: tricky.clone(),
            max_digits: NonZeroU32::new(3),
            timeout_ms: NonZeroU32::new(2000),
            kind: Some(GatherKind::Dtmf),
            prompt: Some(Play {
                url: tricky.clone(),
            }),
        })),
    };
    let Node::Element {
        attributes,
        children,
        ..
    } = parse_xml(&response.to_xml())
    else {
        unreachable!()
    };
    assert_eq!(
        attributes,
        [
            ("onAnswer".to_owned(), tricky.to_string()),
            (
                "onHangup".to_owned(),
                "https://example.com/h?a=1&b=2".to_owned()
            )
        ]
    );
    let [Node::Element {
        name,
        attributes,
        children,
    }] = &children[..]
    else {
        panic!()
    };
    assert_eq!(name, "Gather");
    assert!(attributes.contains(&("onData".to_owned(), tricky.to_string())));
    let [Node::Element { children: play, .. }] = &children[..] else {
        panic!()
    };
    let [Node::Element {
        children: url_text, ..
    }] = &play[..]
    else {
        panic!()
    };
    assert_eq!(url_text, &[Node::Text(tricky.to_string())]);
}

fn push(name: &str) -> Push {
    Push::parse(fixture(&format!("pushes/{name}.form")).as_bytes()).unwrap()
}

#[test]
fn every_documented_push_parses() {
    let Push::NewCall(seed) = push("new-call-seed") else {
        panic!()
    };
    assert_eq!(seed.to, Party::Number(number("4915791234567")));

    let Push::NewCall(group) = push("new-call-group") else {
        panic!()
    };
    assert_eq!(group.direction, Direction::In);
    assert_eq!(group.users.names, ["Alice", "Bob"]);
    assert_eq!(group.users.ids, ["w0", "w1"]);
    assert_eq!(group.users.full_ids, ["1234567w0", "1234567w1"]);
    assert_eq!(group.leg.call_id.as_deref(), Some("123456"));

    let Push::NewCall(anonymous) = push("new-call-anonymous") else {
        panic!()
    };
    assert_eq!(anonymous.from, Party::Anonymous);
    assert_eq!(anonymous.users.names, [""]);

    let Push::Answer(answer) = push("answer") else {
        panic!()
    };
    assert_eq!(
        answer.answering_number,
        Some(Party::Number(number("4915799912345")))
    );
    assert_eq!(answer.users.names, ["Alice"]);
    assert_eq!(
        answer.leg.diversion,
        Some(Party::Number(number("4921100099")))
    );

    let Push::Hangup(hangup) = push("hangup") else {
        panic!()
    };
    assert_eq!(hangup.cause, Some(HangupCause::NormalClearing));
    assert_eq!(hangup.leg.orig_call_id.as_deref(), Some("123456"));

    let Push::Dtmf(dtmf) = push("dtmf") else {
        panic!()
    };
    assert_eq!(dtmf.digits, "0815");
}
