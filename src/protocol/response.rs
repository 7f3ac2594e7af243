//! The answer to a push: a typed model of sipgate.io's XML.
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <Response onAnswer="https://…/events" onHangup="https://…/events">
//!   <Dial callerId="492111234567" anonymous="false"><Number>4915799912345</Number></Dial>
//! </Response>
//! ```
//!
//! A `<Response>` holds at most one action. Every value in the model is
//! already valid — numbers are [`E164`], URLs are absolute [`HttpUrl`]s,
//! counts are non-zero, at most five dial targets, only `<Play>` inside
//! `<Gather>` — so an invalid action cannot be built, let alone sent.
//! [`crate::protocol::xml`] writes the model out.

use std::fmt;
use std::num::NonZeroU32;

use crate::protocol::number::E164;
use crate::protocol::url::HttpUrl;

/// The whole answer to one push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// `onAnswer`: where sipgate sends the `answer` push for this call.
    pub on_answer: Option<HttpUrl>,
    /// `onHangup`: where sipgate sends the `hangup` push for this call.
    pub on_hangup: Option<HttpUrl>,
    /// `None` is `<Response/>`: the call proceeds as if there were no webhook.
    pub action: Option<Action>,
}

impl Response {
    /// `<Response/>`: let the call proceed normally.
    pub fn proceed() -> Response {
        Response::default()
    }

    pub fn with_action(action: Action) -> Response {
        Response {
            action: Some(action),
            ..Response::default()
        }
    }

    /// A one-word summary for logs: `dial`, `voicemail`, `play`, `gather`,
    /// `reject`, `hangup` or `proceed`.
    pub fn action_name(&self) -> &'static str {
        match &self.action {
            None => "proceed",
            Some(Action::Dial(Dial {
                target: DialTarget::Voicemail,
                ..
            })) => "voicemail",
            Some(Action::Dial(_)) => "dial",
            Some(Action::Play(_)) => "play",
            Some(Action::Gather(_)) => "gather",
            Some(Action::Reject(_)) => "reject",
            Some(Action::Hangup) => "hangup",
        }
    }
}

/// The one thing sipgate should do with the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Dial(Dial),
    Play(Play),
    Gather(Gather),
    Reject(Reject),
    /// `<Hangup/>`
    Hangup,
}

/// `<Dial callerId="…" anonymous="true|false">` with numbers or a voicemail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    /// Number shown to the called party; sipgate's account setting if absent.
    pub caller_id: Option<E164>,
    /// Suppress the caller's number.
    pub anonymous: Option<bool>,
    pub target: DialTarget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// `<Number>` elements, rung in parallel.
    Numbers(DialNumbers),
    /// `<Voicemail/>`
    Voicemail,
}

/// One to five numbers: sipgate rings at most five targets in parallel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialNumbers(Vec<E164>);

/// The most `<Number>` targets one `<Dial>` may ring.
pub const MAX_DIAL_TARGETS: usize = 5;

impl DialNumbers {
    pub fn new(numbers: Vec<E164>) -> Result<DialNumbers, ActionError> {
        DialNumbers::check_count(numbers.len())?;
        Ok(DialNumbers(numbers))
    }

    /// Whether `count` targets make a valid `<Dial>`.
    pub fn check_count(count: usize) -> Result<(), ActionError> {
        match count {
            0 => Err(ActionError::NoDialTargets),
            count if count > MAX_DIAL_TARGETS => Err(ActionError::TooManyDialTargets(count)),
            _ => Ok(()),
        }
    }

    pub fn as_slice(&self) -> &[E164] {
        &self.0
    }
}

/// `<Play><Url>…</Url></Play>`: a mono 16-bit 8 kHz PCM WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Play {
    pub url: HttpUrl,
}

/// `<Gather onData="…" maxDigits="…" timeout="…" type="dtmf">`, optionally
/// with a `<Play>` prompt (the only element allowed inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gather {
    /// Where sipgate posts the `dtmf` push with the digits.
    pub on_data: HttpUrl,
    /// Stop after this many digits (sipgate's default: 1).
    pub max_digits: Option<NonZeroU32>,
    /// Milliseconds to wait after the prompt ends (sipgate's default: 2000).
    pub timeout_ms: Option<NonZeroU32>,
    /// `type`: `dtmf` is the only kind sipgate knows; written when set.
    pub kind: Option<GatherKind>,
    pub prompt: Option<Play>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatherKind {
    Dtmf,
}

/// `<Reject reason="rejected|busy"/>`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reject {
    /// sipgate's default is `rejected`; `None` writes no attribute.
    pub reason: Option<RejectReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    Rejected,
    Busy,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Rejected => "rejected",
            RejectReason::Busy => "busy",
        }
    }
}

/// Why an action cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionError {
    NoDialTargets,
    TooManyDialTargets(usize),
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionError::NoDialTargets => f.write_str("needs at least one number to dial"),
            ActionError::TooManyDialTargets(count) => write!(
                f,
                "has {count} numbers, but sipgate rings at most {MAX_DIAL_TARGETS} in parallel"
            ),
        }
    }
}

impl std::error::Error for ActionError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(count: usize) -> Vec<E164> {
        (0..count)
            .map(|n| E164::parse(&format!("4915790000{n:03}")).unwrap())
            .collect()
    }

    #[test]
    fn dial_takes_one_to_five_numbers() {
        assert_eq!(
            DialNumbers::new(numbers(0)),
            Err(ActionError::NoDialTargets)
        );
        for count in 1..=5 {
            assert_eq!(
                DialNumbers::new(numbers(count)).unwrap().as_slice().len(),
                count
            );
        }
        assert_eq!(
            DialNumbers::new(numbers(6)),
            Err(ActionError::TooManyDialTargets(6))
        );
    }
}
