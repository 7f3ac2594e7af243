//! The XML writer: any response model, written and re-read by a real XML
//! parser, is well-formed and equal to the model — whatever characters its
//! URLs carry.
#![no_main]

use std::num::NonZeroU32;

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use sipgate_router::protocol::number::E164;
use sipgate_router::protocol::response::{
    Action, Dial, DialNumbers, DialTarget, Gather, GatherKind, Play, Reject, RejectReason, Response,
};
use sipgate_router::protocol::url::HttpUrl;

/// A valid URL with arbitrary (allowed) characters after the host.
fn url(u: &mut Unstructured) -> Result<HttpUrl> {
    const HOSTS: [&str; 4] = ["https://x.example", "http://user:pw@x.example:8080", "https://[2001:db8::1]", "https://bücher.example"];
    let host = HOSTS[usize::from(u8::arbitrary(u)?) % HOSTS.len()];
    let tail: String = String::arbitrary(u)?.chars().take(100).collect();
    Ok(HttpUrl::parse(&format!("{host}/{tail}")).or_else(|_| HttpUrl::parse(host)).expect("a valid base"))
}

fn number(u: &mut Unstructured) -> Result<E164> {
    let digits = u64::arbitrary(u)? % 1_000_000_000_000_000;
    Ok(E164::parse(&format!("4{digits}")).unwrap_or_else(|_| E164::parse("4915790000001").expect("valid")))
}

fn optional<T>(u: &mut Unstructured, make: impl FnOnce(&mut Unstructured) -> Result<T>) -> Result<Option<T>> {
    Ok(if bool::arbitrary(u)? { Some(make(u)?) } else { None })
}

fn play(u: &mut Unstructured) -> Result<Play> {
    Ok(Play { url: url(u)? })
}

fn response(u: &mut Unstructured) -> Result<Response> {
    let action = match u8::arbitrary(u)? % 6 {
        0 => None,
        1 => Some(Action::Dial(Dial {
            caller_id: optional(u, number)?,
            anonymous: optional(u, |u| bool::arbitrary(u))?,
            target: if bool::arbitrary(u)? {
                DialTarget::Voicemail
            } else {
                let count = 1 + usize::from(u8::arbitrary(u)? % 5);
                let numbers = (0..count).map(|_| number(u)).collect::<Result<Vec<_>>>()?;
                DialTarget::Numbers(DialNumbers::new(numbers).expect("1 to 5"))
            },
        })),
        2 => Some(Action::Play(play(u)?)),
        3 => Some(Action::Gather(Gather {
            on_data: url(u)?,
            max_digits: optional(u, |u| Ok(NonZeroU32::new(u32::arbitrary(u)?.max(1)).expect("not zero")))?,
            timeout_ms: optional(u, |u| Ok(NonZeroU32::new(u32::arbitrary(u)?.max(1)).expect("not zero")))?,
            kind: optional(u, |_| Ok(GatherKind::Dtmf))?,
            prompt: optional(u, play)?,
        })),
        4 => Some(Action::Reject(Reject {
            reason: optional(u, |u| Ok(if bool::arbitrary(u)? { RejectReason::Busy } else { RejectReason::Rejected }))?,
        })),
        _ => Some(Action::Hangup),
    };
    Ok(Response {
        on_answer: optional(u, url)?,
        on_hangup: optional(u, url)?,
        action,
    })
}

/// A parsed element: name, attributes, text, children.
#[derive(Debug)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

fn element(start: &BytesStart) -> Element {
    Element {
        name: start.name().as_ref().to_owned(),
        attributes: start
            .attributes()
            .map(|attribute| {
                let attribute = attribute.expect("well-formed attribute");
                let value = attribute.normalized_value(XmlVersion::Explicit1_0).expect("attribute value");
                (attribute.key.as_ref().to_owned(), value.into_owned())
            })
            .collect(),
        text: String::new(),
        children: Vec::new(),
    }
}

fn parse(xml: &str) -> Element {
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Element { name: String::new(), attributes: vec![], text: String::new(), children: vec![] }];
    loop {
        match reader.read_event().unwrap_or_else(|error| panic!("not well-formed: {error}: {xml}")) {
            Event::Decl(_) => {}
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => {
                let done = element(&start);
                stack.last_mut().expect("open").children.push(done);
            }
            Event::End(_) => {
                let done = stack.pop().expect("open");
                stack.last_mut().expect("parent").children.push(done);
            }
            Event::Text(text) => stack.last_mut().expect("open").text.push_str(&text.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().expect("character reference") {
                    Some(character) => character.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&reference).expect("known entity").to_owned(),
                };
                stack.last_mut().expect("open").text.push_str(&resolved);
            }
            Event::Eof => break,
            other => panic!("unexpected {other:?}: {xml}"),
        }
    }
    let mut root = stack.pop().expect("document");
    assert_eq!(root.children.len(), 1, "{xml}");
    root.children.pop().expect("root")
}

/// The model an element describes (panics on anything the writer cannot have written).
fn model(root: &Element) -> Response {
    assert_eq!(root.name, "Response");
    let attribute = |element: &Element, name: &str| {
        element.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
    };
    let url = |text: String| HttpUrl::parse(&text).expect("a URL");
    let play = |element: &Element| {
        assert_eq!(element.name, "Play");
        let [url_element] = &element.children[..] else { panic!("Play has one Url") };
        assert_eq!(url_element.name, "Url");
        Play { url: url(url_element.text.clone()) }
    };
    let action = root.children.first().map(|action| match action.name.as_str() {
        "Dial" => Action::Dial(Dial {
            caller_id: attribute(action, "callerId").map(|id| E164::parse(&id).expect("E.164")),
            anonymous: attribute(action, "anonymous").map(|value| value == "true"),
            target: match &action.children[..] {
                [voicemail] if voicemail.name == "Voicemail" => DialTarget::Voicemail,
                numbers => DialTarget::Numbers(
                    DialNumbers::new(numbers.iter().map(|number| E164::parse(&number.text).expect("E.164")).collect())
                        .expect("1 to 5"),
                ),
            },
        }),
        "Play" => Action::Play(play(action)),
        "Gather" => Action::Gather(Gather {
            on_data: url(attribute(action, "onData").expect("onData")),
            max_digits: attribute(action, "maxDigits").map(|n| n.parse().expect("a count")),
            timeout_ms: attribute(action, "timeout").map(|n| n.parse().expect("a count")),
            kind: attribute(action, "type").map(|_| GatherKind::Dtmf),
            prompt: action.children.first().map(play),
        }),
        "Reject" => Action::Reject(Reject {
            reason: attribute(action, "reason").map(|reason| if reason == "busy" { RejectReason::Busy } else { RejectReason::Rejected }),
        }),
        "Hangup" => Action::Hangup,
        other => panic!("unknown action {other}"),
    });
    Response {
        on_answer: attribute(root, "onAnswer").map(url),
        on_hangup: attribute(root, "onHangup").map(url),
        action,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(response) = response(&mut Unstructured::new(data)) else { return };
    let xml = response.to_xml();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_eq!(model(&parse(&xml)), response, "{xml}");
});
