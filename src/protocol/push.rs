//! The pushes sipgate.io sends, typed.
//!
//! Every push is a form-encoded POST. The `event` parameter says which one
//! (the oldest pushes have none: they are `newCall`):
//!
//! ```text
//! event=newCall&from=492111234567&to=4915791234567&direction=in&callId=123456
//!     &user[]=Alice&user[]=Bob&userId[]=w0&userId[]=w1&fullUserId[]=1234567w0&fullUserId[]=1234567w1
//! event=answer&callId=123456&user=Alice&from=…&to=…&direction=in&answeringNumber=4921100000
//! event=hangup&cause=normalClearing&callId=123456&from=…&to=…&direction=in
//! event=dtmf&dtmf=0815&callId=123456
//! ```
//!
//! Parsing is strict where a wrong value would route a call wrongly
//! (`direction`, conflicting repeats of one field) and lenient everywhere
//! else: unknown parameters are ignored, unknown events and hangup causes are
//! kept, numbers that are not E.164 are kept verbatim.

use std::fmt;

use crate::protocol::form::{self, FormError};
use crate::protocol::number::Party;

/// `direction=in` or `direction=out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    /// `in` or `out`, exactly as sipgate writes them; anything else is not a direction.
    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    /// Of a call's two numbers, the one on the sipgate side, whose routing
    /// applies: the called number of an incoming call, the calling number
    /// of an outgoing one. The other is the other party.
    pub fn sipgate_side<'a, T: ?Sized>(self, from: &'a T, to: &'a T) -> &'a T {
        match self {
            Direction::In => to,
            Direction::Out => from,
        }
    }
}

/// `cause=…` of a hangup push. Unknown causes are kept, not refused: sipgate
/// may add causes, and a hangup push only informs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HangupCause {
    /// A participant hung up after the call was established.
    NormalClearing,
    /// The called party was busy.
    Busy,
    /// The caller hung up before anyone picked up.
    Cancel,
    /// The called party rejected the call (e.g. do-not-disturb).
    NoAnswer,
    /// The called party could not be reached.
    Congestion,
    /// The number does not exist or the party is offline.
    NotFound,
    /// The call was forwarded; a new `newCall` follows.
    Forwarded,
    Other(String),
}

impl HangupCause {
    pub fn parse(text: &str) -> HangupCause {
        match text {
            "normalClearing" => HangupCause::NormalClearing,
            "busy" => HangupCause::Busy,
            "cancel" => HangupCause::Cancel,
            "noAnswer" => HangupCause::NoAnswer,
            "congestion" => HangupCause::Congestion,
            "notFound" => HangupCause::NotFound,
            "forwarded" => HangupCause::Forwarded,
            other => HangupCause::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            HangupCause::NormalClearing => "normalClearing",
            HangupCause::Busy => "busy",
            HangupCause::Cancel => "cancel",
            HangupCause::NoAnswer => "noAnswer",
            HangupCause::Congestion => "congestion",
            HangupCause::NotFound => "notFound",
            HangupCause::Forwarded => "forwarded",
            HangupCause::Other(other) => other,
        }
    }
}

/// Identifiers of the call leg and where it came from; any push may carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leg {
    /// `callId`: this call leg.
    pub call_id: Option<String>,
    /// `origCallId`: the first leg when this one came from a transfer or forward.
    pub orig_call_id: Option<String>,
    /// `xcid`: cross-call id.
    pub xcid: Option<String>,
    /// `diversion`: the number originally dialed, when the call was diverted.
    pub diversion: Option<Party>,
}

/// The sipgate users involved: `user[]`, `userId[]`, `fullUserId[]`, each
/// repeated once per user (or sent once without `[]` in `answer`). Values
/// may be empty; they are kept as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Users {
    pub names: Vec<String>,
    pub ids: Vec<String>,
    pub full_ids: Vec<String>,
}

/// `newCall`: a call needs a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    /// The caller; [`Party::Anonymous`] when withheld (or not sent at all).
    pub from: Party,
    pub to: Party,
    pub direction: Direction,
    pub users: Users,
    pub leg: Leg,
}

impl NewCall {
    /// The number on the sipgate side, whose routing applies.
    pub fn sipgate_number(&self) -> &Party {
        self.direction.sipgate_side(&self.from, &self.to)
    }
}

/// The numbers and direction of a call as the later pushes repeat them;
/// optional there because sipgate ignores our answer to those pushes anyway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parties {
    pub from: Option<Party>,
    pub to: Option<Party>,
    pub direction: Option<Direction>,
}

/// `answer`: someone picked up (only sent when `onAnswer` was set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub parties: Parties,
    pub users: Users,
    /// Which `<Dial>` target answered.
    pub answering_number: Option<Party>,
    pub leg: Leg,
}

/// `hangup`: the call ended (only sent when `onHangup` was set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hangup {
    pub cause: Option<HangupCause>,
    pub parties: Parties,
    pub answering_number: Option<Party>,
    pub leg: Leg,
}

/// `dtmf`: the digits typed into a `<Gather>`, sent to its `onData` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dtmf {
    /// The digits exactly as typed (`0815` keeps its zero); empty when the
    /// caller typed nothing before the timeout.
    pub digits: String,
    pub leg: Leg,
}

impl Dtmf {
    pub fn no_input(&self) -> bool {
        self.digits.is_empty()
    }
}

/// A push with an `event` this router does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent {
    pub event: String,
    pub leg: Leg,
}

/// One push from sipgate.io.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    NewCall(NewCall),
    Answer(Answer),
    Hangup(Hangup),
    Dtmf(Dtmf),
    Unknown(UnknownEvent),
}

impl Push {
    /// The `event` name as sipgate spells it.
    pub fn event_name(&self) -> &str {
        match self {
            Push::NewCall(_) => "newCall",
            Push::Answer(_) => "answer",
            Push::Hangup(_) => "hangup",
            Push::Dtmf(_) => "dtmf",
            Push::Unknown(unknown) => &unknown.event,
        }
    }

    pub fn leg(&self) -> &Leg {
        match self {
            Push::NewCall(push) => &push.leg,
            Push::Answer(push) => &push.leg,
            Push::Hangup(push) => &push.leg,
            Push::Dtmf(push) => &push.leg,
            Push::Unknown(push) => &push.leg,
        }
    }
}

/// Why a body is not a push we can act on. Shown to the sender as the
/// plain-text reason of a `400`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    Form(FormError),
    MissingField(&'static str),
    EmptyField(&'static str),
    InvalidDirection(String),
    /// One field sent twice with different values: which one would we route on?
    ConflictingField(&'static str),
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Form(error) => error.fmt(f),
            PushError::MissingField(field) => write!(f, "missing field `{field}`"),
            PushError::EmptyField(field) => write!(f, "field `{field}` is empty"),
            PushError::InvalidDirection(value) => write!(
                f,
                "field `direction` must be `in` or `out`, not {:?}",
                value.chars().take(32).collect::<String>()
            ),
            PushError::ConflictingField(field) => {
                write!(
                    f,
                    "field `{field}` is sent more than once with different values"
                )
            }
        }
    }
}

impl std::error::Error for PushError {}

impl From<FormError> for PushError {
    fn from(error: FormError) -> Self {
        PushError::Form(error)
    }
}

impl Push {
    /// Parses a form-encoded push body.
    pub fn parse(body: &[u8]) -> Result<Push, PushError> {
        Fields::fold(form::decode(body)?)?.into_push()
    }
}

/// The parameters of one push, folded from the pair list.
#[derive(Default)]
struct Fields {
    event: Option<String>,
    from: Option<String>,
    to: Option<String>,
    direction: Option<String>,
    call_id: Option<String>,
    orig_call_id: Option<String>,
    xcid: Option<String>,
    diversion: Option<String>,
    answering_number: Option<String>,
    cause: Option<String>,
    dtmf: Option<String>,
    users: Users,
}

impl Fields {
    fn fold(pairs: Vec<form::Pair<'_>>) -> Result<Fields, PushError> {
        let mut fields = Fields::default();
        for (key, value) in pairs {
            let (slot, name) = match key.as_ref() {
                "user[]" | "user" => {
                    fields.users.names.push(value.into_owned());
                    continue;
                }
                "userId[]" | "userId" => {
                    fields.users.ids.push(value.into_owned());
                    continue;
                }
                "fullUserId[]" | "fullUserId" => {
                    fields.users.full_ids.push(value.into_owned());
                    continue;
                }
                "event" => (&mut fields.event, "event"),
                "from" => (&mut fields.from, "from"),
                "to" => (&mut fields.to, "to"),
                "direction" => (&mut fields.direction, "direction"),
                "callId" => (&mut fields.call_id, "callId"),
                "origCallId" => (&mut fields.orig_call_id, "origCallId"),
                "xcid" => (&mut fields.xcid, "xcid"),
                "diversion" => (&mut fields.diversion, "diversion"),
                "answeringNumber" => (&mut fields.answering_number, "answeringNumber"),
                "cause" => (&mut fields.cause, "cause"),
                "dtmf" => (&mut fields.dtmf, "dtmf"),
                // Unknown parameters are ignored: sipgate adds some over time.
                _ => continue,
            };
            match slot {
                Some(earlier) if *earlier != value => {
                    return Err(PushError::ConflictingField(name))
                }
                Some(_) => {}
                None => *slot = Some(value.into_owned()),
            }
        }
        Ok(fields)
    }

    fn into_push(self) -> Result<Push, PushError> {
        let leg = Leg {
            call_id: non_empty(self.call_id),
            orig_call_id: non_empty(self.orig_call_id),
            xcid: non_empty(self.xcid),
            diversion: non_empty(self.diversion).map(|text| Party::parse(&text)),
        };
        let direction = match non_empty(self.direction) {
            None => None,
            Some(text) => Some(Direction::parse(&text).ok_or(PushError::InvalidDirection(text))?),
        };
        let parties = Parties {
            from: non_empty(self.from).map(|text| Party::parse(&text)),
            to: non_empty(self.to).map(|text| Party::parse(&text)),
            direction,
        };
        let answering_number = non_empty(self.answering_number).map(|text| Party::parse(&text));

        let push = match non_empty(self.event).as_deref() {
            None | Some("newCall") => Push::NewCall(NewCall {
                to: parties.to.ok_or(PushError::MissingField("to"))?,
                direction: parties
                    .direction
                    .ok_or(PushError::MissingField("direction"))?,
                from: parties.from.unwrap_or(Party::Anonymous),
                users: self.users,
                leg,
            }),
            Some("answer") => Push::Answer(Answer {
                parties,
                users: self.users,
                answering_number,
                leg,
            }),
            Some("hangup") => Push::Hangup(Hangup {
                cause: non_empty(self.cause).map(|text| HangupCause::parse(&text)),
                parties,
                answering_number,
                leg,
            }),
            Some("dtmf") => Push::Dtmf(Dtmf {
                digits: self.dtmf.unwrap_or_default(),
                leg,
            }),
            Some(other) => Push::Unknown(UnknownEvent {
                event: other.to_owned(),
                leg,
            }),
        };
        Ok(push)
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::number::E164;

    fn parse(body: &str) -> Result<Push, PushError> {
        Push::parse(body.as_bytes())
    }

    fn number(digits: &str) -> Party {
        Party::Number(E164::parse(digits).unwrap())
    }

    #[test]
    fn seed_request_without_event_is_a_new_call() {
        let Push::NewCall(call) = parse("from=492111234567&to=4915791234567&direction=in").unwrap()
        else {
            panic!("not a newCall")
        };
        assert_eq!(call.from, number("492111234567"));
        assert_eq!(call.to, number("4915791234567"));
        assert_eq!(call.direction, Direction::In);
        assert_eq!(call.sipgate_number(), &number("4915791234567"));
        assert_eq!(call.users, Users::default());
        assert_eq!(call.leg, Leg::default());
    }

    #[test]
    fn documented_new_call_with_a_group_of_users() {
        let body = "event=newCall&from=492111234567&to=4915791234567&direction=in&callId=123456\
            &user[]=Alice&user[]=Bob&userId[]=w0&userId[]=w1&fullUserId[]=1234567w0&fullUserId[]=1234567w1\
            &xcid=abc123&origCallId=123456&diversion=4921100001";
        let Push::NewCall(call) = parse(body).unwrap() else {
            panic!("not a newCall")
        };
        assert_eq!(call.users.names, ["Alice", "Bob"]);
        assert_eq!(call.users.ids, ["w0", "w1"]);
        assert_eq!(call.users.full_ids, ["1234567w0", "1234567w1"]);
        assert_eq!(call.leg.call_id.as_deref(), Some("123456"));
        assert_eq!(call.leg.orig_call_id.as_deref(), Some("123456"));
        assert_eq!(call.leg.xcid.as_deref(), Some("abc123"));
        assert_eq!(call.leg.diversion, Some(number("4921100001")));
    }

    #[test]
    fn outgoing_call_routes_on_the_calling_number() {
        let Push::NewCall(call) =
            parse("from=4915791234567&to=492111234567&direction=out").unwrap()
        else {
            panic!("not a newCall")
        };
        assert_eq!(call.sipgate_number(), &number("4915791234567"));
    }

    #[test]
    fn anonymous_and_missing_callers() {
        let Push::NewCall(call) = parse("from=anonymous&to=4915791234567&direction=in").unwrap()
        else {
            panic!()
        };
        assert_eq!(call.from, Party::Anonymous);
        let Push::NewCall(call) = parse("to=4915791234567&direction=in").unwrap() else {
            panic!()
        };
        assert_eq!(call.from, Party::Anonymous);
    }

    #[test]
    fn empty_user_values_are_kept() {
        let Push::NewCall(call) =
            parse("to=4915791234567&direction=in&user%5B%5D=&userId%5B%5D=").unwrap()
        else {
            panic!()
        };
        assert_eq!(call.users.names, [""]);
        assert_eq!(call.users.ids, [""]);
        assert!(call.users.full_ids.is_empty());
    }

    #[test]
    fn answer_push_with_singular_user_fields() {
        let body = "event=answer&callId=123456&origCallId=123456&user=Alice&userId=w0&fullUserId=1234567w0\
            &from=492111234567&to=4915791234567&direction=in&answeringNumber=4921100000&xcid=ff00";
        let Push::Answer(answer) = parse(body).unwrap() else {
            panic!("not an answer")
        };
        assert_eq!(answer.users.names, ["Alice"]);
        assert_eq!(answer.users.ids, ["w0"]);
        assert_eq!(answer.users.full_ids, ["1234567w0"]);
        assert_eq!(answer.answering_number, Some(number("4921100000")));
        assert_eq!(answer.parties.direction, Some(Direction::In));
        assert_eq!(answer.parties.from, Some(number("492111234567")));
        assert_eq!(answer.leg.xcid.as_deref(), Some("ff00"));
    }

    #[test]
    fn hangup_push_with_every_documented_cause_and_an_unknown_one() {
        for cause in [
            "normalClearing",
            "busy",
            "cancel",
            "noAnswer",
            "congestion",
            "notFound",
            "forwarded",
            "somethingNew",
        ] {
            let body = format!(
                "event=hangup&cause={cause}&callId=123456&from=492111234567&to=4915791234567&direction=in&answeringNumber=4921100000"
            );
            let Push::Hangup(hangup) = parse(&body).unwrap() else {
                panic!("not a hangup")
            };
            let parsed = hangup.cause.unwrap();
            assert_eq!(parsed.as_str(), cause);
            assert_eq!(
                matches!(parsed, HangupCause::Other(_)),
                cause == "somethingNew"
            );
        }
    }

    #[test]
    fn dtmf_keeps_leading_zeros_and_treats_empty_or_missing_as_no_input() {
        let Push::Dtmf(dtmf) =
            parse("event=dtmf&dtmf=0815&callId=123456&origCallId=123456").unwrap()
        else {
            panic!()
        };
        assert_eq!(dtmf.digits, "0815");
        assert!(!dtmf.no_input());
        for body in ["event=dtmf&dtmf=&callId=1", "event=dtmf&callId=1"] {
            let Push::Dtmf(dtmf) = parse(body).unwrap() else {
                panic!()
            };
            assert!(dtmf.no_input(), "{body}");
        }
    }

    #[test]
    fn unknown_events_and_parameters_are_kept_or_ignored_not_refused() {
        let push = parse("event=dataAnswer&callId=9&foo=bar").unwrap();
        assert_eq!(push.event_name(), "dataAnswer");
        assert!(matches!(push, Push::Unknown(_)));
        assert!(parse("from=1&to=4915791234567&direction=in&whatever=1&x").is_ok());
    }

    #[test]
    fn new_call_without_to_or_direction_names_the_field() {
        assert_eq!(
            parse("from=492111234567&direction=in"),
            Err(PushError::MissingField("to"))
        );
        assert_eq!(
            parse("from=492111234567&to=4915791234567"),
            Err(PushError::MissingField("direction"))
        );
        assert_eq!(
            parse("to=&direction=in"),
            Err(PushError::MissingField("to"))
        );
        assert_eq!(parse(""), Err(PushError::MissingField("to")));
        assert_eq!(
            parse("from=492111234567&direction=in")
                .unwrap_err()
                .to_string(),
            "missing field `to`"
        );
    }

    #[test]
    fn invalid_direction_is_refused_in_every_event() {
        assert_eq!(
            parse("to=4915791234567&direction=sideways"),
            Err(PushError::InvalidDirection("sideways".into()))
        );
        assert!(parse("event=hangup&direction=IN").is_err());
    }

    #[test]
    fn conflicting_repeats_are_refused_identical_repeats_accepted() {
        assert_eq!(
            parse("to=4915791234567&to=4915790000000&direction=in"),
            Err(PushError::ConflictingField("to"))
        );
        assert_eq!(
            parse("to=4915791234567&direction=in&direction=out"),
            Err(PushError::ConflictingField("direction"))
        );
        assert!(parse("to=4915791234567&to=4915791234567&direction=in").is_ok());
    }

    #[test]
    fn form_errors_surface_with_the_field() {
        assert_eq!(
            parse("to=49%zz&direction=in").unwrap_err().to_string(),
            "malformed percent-encoding in field `to` (a % must be followed by two hex digits)"
        );
    }

    #[test]
    fn thousands_of_users_are_fine() {
        let body = format!("to=4915791234567&direction=in{}", "&user[]=x".repeat(3000));
        let Push::NewCall(call) = parse(&body).unwrap() else {
            panic!()
        };
        assert_eq!(call.users.names.len(), 3000);
    }
}
