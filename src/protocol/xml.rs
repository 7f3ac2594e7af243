//! Writes a [`Response`] as the XML document sipgate.io reads.
//!
//! quick-xml's writer escapes every attribute value and text node, so no
//! value can break out of its element; the model guarantees the values are
//! valid in the first place. Output is compact (no indentation): sipgate does
//! not need it and it keeps answers small.

use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use crate::protocol::response::{
    Action, Dial, DialTarget, Gather, GatherKind, Play, Reject, Response,
};

/// The media type of every XML answer.
pub const CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// The answer written when writing fails, which writing into memory cannot:
/// kept so that the signature promises a document, not a `Result`.
const PROCEED_DOCUMENT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

impl Response {
    /// The complete XML document, declaration included.
    pub fn to_xml(&self) -> String {
        finish(write_document(
            self,
            self.action.as_ref().map(Inner::Action),
        ))
    }

    /// The complete document around `action_xml`, its action's element as
    /// [`Action::to_xml_element`] wrote it in advance: a rule's action is
    /// written once, while the `<Response>` around it may carry callbacks
    /// that depend on the request.
    pub fn to_xml_around(&self, action_xml: &str) -> String {
        finish(write_document(self, Some(Inner::Written(action_xml))))
    }
}

impl Action {
    /// The action's element alone (`<Dial>…</Dial>`), for
    /// [`Response::to_xml_around`].
    pub fn to_xml_element(&self) -> String {
        let mut writer = Writer::new(Vec::with_capacity(128));
        finish(write_action(&mut writer, self).map(|()| writer.into_inner()))
    }
}

fn finish(written: io::Result<Vec<u8>>) -> String {
    written
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| PROCEED_DOCUMENT.to_owned())
}

/// What goes inside `<Response>`: an action to write, or one written before.
#[derive(Clone, Copy)]
enum Inner<'a> {
    Action(&'a Action),
    Written(&'a str),
}

/// The declaration and `<Response>` with its callbacks around `inner`
/// (`<Response/>` without).
fn write_document(response: &Response, inner: Option<Inner<'_>>) -> io::Result<Vec<u8>> {
    let mut writer = Writer::new(Vec::with_capacity(256));
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut element = writer.create_element("Response");
    if let Some(url) = &response.on_answer {
        element = element.with_attribute(("onAnswer", url.as_str()));
    }
    if let Some(url) = &response.on_hangup {
        element = element.with_attribute(("onHangup", url.as_str()));
    }
    match inner {
        None => element.write_empty()?,
        Some(Inner::Action(action)) => {
            element.write_inner_content(|writer| write_action(writer, action))?
        }
        Some(Inner::Written(xml)) => element.write_inner_content(|writer| {
            writer.get_mut().extend_from_slice(xml.as_bytes());
            Ok(())
        })?,
    };
    Ok(writer.into_inner())
}

type XmlWriter = Writer<Vec<u8>>;

fn write_action(writer: &mut XmlWriter, action: &Action) -> io::Result<()> {
    match action {
        Action::Dial(dial) => write_dial(writer, dial),
        Action::Play(play) => write_play(writer, play),
        Action::Gather(gather) => write_gather(writer, gather),
        Action::Reject(reject) => write_reject(writer, reject),
        Action::Hangup => writer.create_element("Hangup").write_empty().map(drop),
    }
}

fn write_dial(writer: &mut XmlWriter, dial: &Dial) -> io::Result<()> {
    let mut element = writer.create_element("Dial");
    if let Some(caller_id) = &dial.caller_id {
        element = element.with_attribute(("callerId", caller_id.as_str()));
    }
    if let Some(anonymous) = dial.anonymous {
        element = element.with_attribute(("anonymous", if anonymous { "true" } else { "false" }));
    }
    element.write_inner_content(|writer| {
        match &dial.target {
            DialTarget::Voicemail => {
                writer.create_element("Voicemail").write_empty()?;
            }
            DialTarget::Numbers(numbers) => {
                for number in numbers.as_slice() {
                    writer
                        .create_element("Number")
                        .write_text_content(BytesText::new(number.as_str()))?;
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

fn write_play(writer: &mut XmlWriter, play: &Play) -> io::Result<()> {
    writer
        .create_element("Play")
        .write_inner_content(|writer| {
            writer
                .create_element("Url")
                .write_text_content(BytesText::new(play.url.as_str()))?;
            Ok(())
        })?;
    Ok(())
}

fn write_gather(writer: &mut XmlWriter, gather: &Gather) -> io::Result<()> {
    let max_digits = gather.max_digits.map(|digits| digits.to_string());
    let timeout = gather.timeout_ms.map(|ms| ms.to_string());
    let mut element = writer
        .create_element("Gather")
        .with_attribute(("onData", gather.on_data.as_str()));
    if let Some(max_digits) = &max_digits {
        element = element.with_attribute(("maxDigits", max_digits.as_str()));
    }
    if let Some(timeout) = &timeout {
        element = element.with_attribute(("timeout", timeout.as_str()));
    }
    if let Some(GatherKind::Dtmf) = gather.kind {
        element = element.with_attribute(("type", "dtmf"));
    }
    match &gather.prompt {
        None => element.write_empty()?,
        Some(play) => element.write_inner_content(|writer| write_play(writer, play))?,
    };
    Ok(())
}

fn write_reject(writer: &mut XmlWriter, reject: &Reject) -> io::Result<()> {
    let mut element = writer.create_element("Reject");
    if let Some(reason) = reject.reason {
        element = element.with_attribute(("reason", reason.as_str()));
    }
    element.write_empty()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;
    use crate::protocol::number::E164;
    use crate::protocol::response::{DialNumbers, RejectReason};
    use crate::protocol::url::HttpUrl;

    fn url(text: &str) -> HttpUrl {
        HttpUrl::parse(text).unwrap()
    }

    const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

    #[test]
    fn empty_response() {
        assert_eq!(Response::proceed().to_xml(), format!("{DECL}<Response/>"));
    }

    #[test]
    fn dial_with_every_attribute() {
        let response = Response {
            on_answer: Some(url("https://example.com/events")),
            on_hangup: Some(url("https://example.com/events")),
            action: Some(Action::Dial(Dial {
                caller_id: Some(E164::parse("492111234567").unwrap()),
                anonymous: Some(false),
                target: DialTarget::Numbers(
                    DialNumbers::new(vec![
                        E164::parse("4915799912345").unwrap(),
                        E164::parse("4921100000").unwrap(),
                    ])
                    .unwrap(),
                ),
            })),
        };
        assert_eq!(
            response.to_xml(),
            format!(
                "{DECL}<Response onAnswer=\"https://example.com/events\" onHangup=\"https://example.com/events\">\
                 <Dial callerId=\"492111234567\" anonymous=\"false\"><Number>4915799912345</Number><Number>4921100000</Number></Dial>\
                 </Response>"
            )
        );
    }

    #[test]
    fn gather_with_prompt_and_all_attributes() {
        let response = Response::with_action(Action::Gather(Gather {
            on_data: url("https://router.example/dtmf?menu=main&try=1"),
            max_digits: NonZeroU32::new(4),
            timeout_ms: NonZeroU32::new(3000),
            kind: Some(GatherKind::Dtmf),
            prompt: Some(Play {
                url: url("https://example.com/menu.wav"),
            }),
        }));
        assert_eq!(
            response.to_xml(),
            format!(
                "{DECL}<Response><Gather onData=\"https://router.example/dtmf?menu=main&amp;try=1\" maxDigits=\"4\" timeout=\"3000\" type=\"dtmf\">\
                 <Play><Url>https://example.com/menu.wav</Url></Play></Gather></Response>"
            )
        );
    }

    #[test]
    fn reject_hangup_voicemail() {
        let busy = Response::with_action(Action::Reject(Reject {
            reason: Some(RejectReason::Busy),
        }));
        assert_eq!(
            busy.to_xml(),
            format!("{DECL}<Response><Reject reason=\"busy\"/></Response>")
        );
        let plain = Response::with_action(Action::Reject(Reject::default()));
        assert_eq!(
            plain.to_xml(),
            format!("{DECL}<Response><Reject/></Response>")
        );
        let hangup = Response::with_action(Action::Hangup);
        assert_eq!(
            hangup.to_xml(),
            format!("{DECL}<Response><Hangup/></Response>")
        );
        let voicemail = Response::with_action(Action::Dial(Dial {
            caller_id: None,
            anonymous: Some(true),
            target: DialTarget::Voicemail,
        }));
        assert_eq!(
            voicemail.to_xml(),
            format!("{DECL}<Response><Dial anonymous=\"true\"><Voicemail/></Dial></Response>")
        );
    }

    #[test]
    fn an_action_written_in_advance_makes_the_same_document() {
        let dial = Action::Dial(Dial {
            caller_id: Some(E164::parse("492111234567").unwrap()),
            anonymous: None,
            target: DialTarget::Voicemail,
        });
        let element = dial.to_xml_element();
        assert_eq!(
            element,
            "<Dial callerId=\"492111234567\"><Voicemail/></Dial>"
        );
        for callbacks in [None, Some(url("https://u:p%26x@router.example/?a=1&b=2"))] {
            let response = Response {
                on_answer: callbacks.clone(),
                on_hangup: callbacks,
                action: Some(dial.clone()),
            };
            assert_eq!(response.to_xml_around(&element), response.to_xml());
        }
    }

    #[test]
    fn values_are_escaped() {
        let response = Response::with_action(Action::Play(Play {
            url: url("https://example.com/a.wav?x=1&y='2'"),
        }));
        assert_eq!(
            response.to_xml(),
            format!("{DECL}<Response><Play><Url>https://example.com/a.wav?x=1&amp;y=&apos;2&apos;</Url></Play></Response>")
        );
    }
}
