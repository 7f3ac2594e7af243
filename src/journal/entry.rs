//! One journal entry: a push, what the router answered, and why.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::protocol::number::Party;
use crate::protocol::push::{Direction, Leg, Push, Users};
use crate::rules::decision::Decision;

/// Whether the other party's number is stored as sent or masked.
///
/// The other party is the caller of an incoming call and the callee of an
/// outgoing one: someone else's personal data. The sipgate-side number (the
/// customer's own) stays readable, so calls can be found by it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Masking {
    /// `492111234567` → `49211*****67`.
    #[default]
    On,
    Off,
}

impl Masking {
    fn party(self, party: &Party) -> String {
        match (self, party) {
            (Masking::Off, party) | (Masking::On, party @ Party::Anonymous) => party.to_string(),
            (Masking::On, Party::Number(number)) => mask(number.as_str()),
            (Masking::On, Party::Other(text)) => mask(text),
        }
    }
}

/// Keeps the country and area prefix (up to 5 characters) and the last two;
/// stars for the rest, so `49211*****67` still tells Düsseldorf from a
/// mobile and one caller from another in a list, and no more.
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let length = chars.len();
    let suffix = if length >= 7 { 2 } else { 0 };
    let prefix = 5.min(length.saturating_sub(suffix + 4));
    chars
        .iter()
        .enumerate()
        .map(|(index, &c)| {
            if index < prefix || index >= length - suffix {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// A journal entry, as stored (one row of `pushes`) and as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Entry {
    pub event: String,
    /// When the push arrived, ms since the epoch.
    pub at_ms: i64,
    pub call_id: Option<String>,
    pub orig_call_id: Option<String>,
    pub xcid: Option<String>,
    /// `in` or `out`.
    pub direction: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub users: Names,
    pub user_ids: Names,
    pub full_user_ids: Names,
    pub diversion: Option<String>,
    pub answering_number: Option<String>,
    pub cause: Option<String>,
    pub dtmf: Option<String>,
    /// The rules version that decided.
    pub version: Option<u64>,
    /// The id of the rule that decided.
    pub rule: Option<String>,
    /// The menu a `dtmf` push answered, and what the digits did there.
    pub menu: Option<String>,
    pub step: Option<String>,
    /// The action answered, one word (`dial`, `proceed`, …).
    pub answer: Option<String>,
    /// The XML answered.
    pub xml: Option<String>,
    /// From the push's arrival to its answer, in ms, as the runtime's clock
    /// tells it: Workers advance the clock only while waiting for I/O, so
    /// this is the time spent reading rules from KV (0 on a warm isolate).
    pub decision_ms: Option<i64>,
    /// The push's identity, [`event_id`] of its body: the journal stores a
    /// push once under it, and receivers get it to tell a repeat.
    pub event_id: Option<String>,
}

impl Entry {
    /// The entry for `push`, decided as `decision` says and answered with
    /// `xml` (which may differ from the decision's own: redacted).
    pub fn new(
        push: &Push,
        decision: &Decision<'_>,
        xml: &str,
        masking: Masking,
        at_ms: i64,
    ) -> Entry {
        let mut entry = Entry {
            event: push.event_name().to_owned(),
            at_ms,
            version: decision.version,
            rule: decision.rule().map(str::to_owned),
            menu: decision.menu.as_ref().map(|(state, _)| state.menu.clone()),
            step: decision.step().map(str::to_owned),
            answer: Some(decision.answer.action_name().to_owned()),
            xml: Some(xml.to_owned()),
            ..Entry::default()
        };
        entry.set_leg(push.leg());
        match push {
            Push::NewCall(call) => {
                entry.set_parties(
                    Some(&call.from),
                    Some(&call.to),
                    Some(call.direction),
                    masking,
                );
                entry.set_users(&call.users);
            }
            Push::Answer(answer) => {
                let parties = &answer.parties;
                entry.set_parties(
                    parties.from.as_ref(),
                    parties.to.as_ref(),
                    parties.direction,
                    masking,
                );
                entry.set_users(&answer.users);
                entry.answering_number = answer.answering_number.as_ref().map(Party::to_string);
            }
            Push::Hangup(hangup) => {
                let parties = &hangup.parties;
                entry.set_parties(
                    parties.from.as_ref(),
                    parties.to.as_ref(),
                    parties.direction,
                    masking,
                );
                entry.answering_number = hangup.answering_number.as_ref().map(Party::to_string);
                entry.cause = hangup.cause.as_ref().map(|cause| cause.as_str().to_owned());
            }
            Push::Dtmf(dtmf) => entry.dtmf = Some(dtmf.digits.clone()),
            Push::Unknown(_) => {}
        }
        entry
    }

    fn set_leg(&mut self, leg: &Leg) {
        self.call_id = leg.call_id.clone();
        self.orig_call_id = leg.orig_call_id.clone();
        self.xcid = leg.xcid.clone();
        // The number originally dialed: the customer's own, as a rule.
        self.diversion = leg.diversion.as_ref().map(Party::to_string);
    }

    fn set_parties(
        &mut self,
        from: Option<&Party>,
        to: Option<&Party>,
        direction: Option<Direction>,
        masking: Masking,
    ) {
        // Without a direction either side may be the other party: mask both.
        let (mask_from, mask_to) = match direction {
            Some(Direction::In) => (masking, Masking::Off),
            Some(Direction::Out) => (Masking::Off, masking),
            None => (masking, masking),
        };
        self.direction = direction.map(|direction| direction.as_str().to_owned());
        self.from = from.map(|party| mask_from.party(party));
        self.to = to.map(|party| mask_to.party(party));
    }

    fn set_users(&mut self, users: &Users) {
        self.users = Names(users.names.clone());
        self.user_ids = Names(users.ids.clone());
        self.full_user_ids = Names(users.full_ids.clone());
    }
}

/// A push's identity: FNV-1a, 128 bits, hex, of its body — the body alone,
/// because it is all sipgate signs. The URL's query (a menu's name and
/// attempt) is not signed, so a body replayed under another query is the
/// same push: stored once, forwarded once. (Two real key presses of the
/// same digits in one call send the same body, and count once too.)
pub fn event_id(body: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = body.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    });
    // Two u64 halves: formatting a u128 would pull its own code into the wasm.
    format!("{:016x}{:016x}", (hash >> 64) as u64, hash as u64)
}

/// `user[]` and friends: a JSON list, stored as its JSON text in a column
/// (SQLite has no arrays), read back from either.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(pub Vec<String>);

impl Names {
    /// The JSON text stored in the column.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".to_owned())
    }
}

impl Serialize for Names {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for name in &self.0 {
            seq.serialize_element(name)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Names, D::Error> {
        struct NamesVisitor;
        impl<'de> Visitor<'de> for NamesVisitor {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings, or its JSON text")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Names, E> {
                serde_json::from_str(text).map(Names).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                Ok(Names(names))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Names, E> {
                Ok(Names::default())
            }
        }
        deserializer.deserialize_any(NamesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::number::E164;
    use crate::protocol::response::{Action, Dial, DialNumbers, DialTarget, Response};
    use crate::rules::decision::Verdict;
    use crate::rules::evaluate::{Answer, Scope};
    use crate::rules::{Outcome, Rule};

    fn push(body: &str) -> Push {
        Push::parse(body.as_bytes()).unwrap()
    }

    /// Rule `business-hours` of version 7, which dials.
    fn business_hours() -> Rule {
        let dial = Action::Dial(Dial {
            caller_id: None,
            anonymous: None,
            target: DialTarget::Numbers(
                DialNumbers::new(vec![E164::parse("4921100001").unwrap()]).unwrap(),
            ),
        });
        Rule::new(
            "business-hours".into(),
            Default::default(),
            Outcome::Respond(Some(dial)),
            None,
            None,
        )
    }

    fn decided(verdict: Verdict<'_>, response: Response) -> Decision<'_> {
        Decision {
            verdict,
            menu: None,
            trace: Vec::new(),
            answer: Answer::new(response),
            version: Some(7),
            draft: false,
            reads: None,
            note: None,
        }
    }

    fn routed(rule: &Rule) -> Decision<'_> {
        let Outcome::Respond(action) = &rule.then else {
            unreachable!()
        };
        decided(
            Verdict::Routed {
                rule,
                scope: Scope::Global,
            },
            Response {
                action: action.clone(),
                ..Response::default()
            },
        )
    }

    fn not_routed() -> Decision<'static> {
        Decision {
            version: None,
            ..decided(Verdict::NotRouted, Response::proceed())
        }
    }

    #[test]
    fn masks_all_but_the_prefix_and_the_last_two() {
        assert_eq!(mask("492111234567"), "49211*****67");
        assert_eq!(mask("4915791234567"), "49157******67");
        assert_eq!(mask("4921112"), "4****12");
        assert_eq!(mask("123456"), "12****");
        assert_eq!(mask("1234"), "****");
        assert_eq!(mask("e12"), "***");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn a_new_call_keeps_every_field_and_masks_the_caller() {
        let entry = Entry::new(
            &push("event=newCall&from=492111234567&to=4921100000&direction=in&callId=A1&origCallId=A0&xcid=x&diversion=4921100001&user[]=Alice&user[]=&userId[]=w0&userId[]=w1&fullUserId[]=1w0&fullUserId[]=1w1"),
            &routed(&business_hours()),
            "<Response/>",
            Masking::On,
            1_000,
        );
        assert_eq!(entry.event, "newCall");
        assert_eq!(entry.at_ms, 1_000);
        assert_eq!(entry.call_id.as_deref(), Some("A1"));
        assert_eq!(entry.orig_call_id.as_deref(), Some("A0"));
        assert_eq!(entry.xcid.as_deref(), Some("x"));
        assert_eq!(entry.direction.as_deref(), Some("in"));
        assert_eq!(entry.from.as_deref(), Some("49211*****67"));
        assert_eq!(entry.to.as_deref(), Some("4921100000"));
        assert_eq!(entry.diversion.as_deref(), Some("4921100001"));
        assert_eq!(entry.users, Names(vec!["Alice".into(), String::new()]));
        assert_eq!(entry.user_ids, Names(vec!["w0".into(), "w1".into()]));
        assert_eq!(entry.full_user_ids, Names(vec!["1w0".into(), "1w1".into()]));
        assert_eq!(entry.version, Some(7));
        assert_eq!(entry.rule.as_deref(), Some("business-hours"));
        assert_eq!(entry.answer.as_deref(), Some("dial"));
        assert_eq!(entry.xml.as_deref(), Some("<Response/>"));
    }

    #[test]
    fn an_outgoing_call_masks_the_callee_and_off_masks_nothing() {
        let body = "event=newCall&from=4921100000&to=4915791234567&direction=out";
        let masked = Entry::new(&push(body), &routed(&business_hours()), "", Masking::On, 0);
        assert_eq!(masked.from.as_deref(), Some("4921100000"));
        assert_eq!(masked.to.as_deref(), Some("49157******67"));
        let plain = Entry::new(&push(body), &routed(&business_hours()), "", Masking::Off, 0);
        assert_eq!(plain.to.as_deref(), Some("4915791234567"));
        let anonymous = Entry::new(
            &push("from=anonymous&to=4921100000&direction=in"),
            &routed(&business_hours()),
            "",
            Masking::On,
            0,
        );
        assert_eq!(anonymous.from.as_deref(), Some("anonymous"));
    }

    #[test]
    fn later_events_keep_their_own_fields() {
        let answer = Entry::new(
            &push("event=answer&callId=A1&user=Alice&from=492111234567&to=4921100000&direction=in&answeringNumber=4921100001"),
            &not_routed(),
            "<Response/>",
            Masking::On,
            0,
        );
        assert_eq!(answer.answering_number.as_deref(), Some("4921100001"));
        assert_eq!(answer.users, Names(vec!["Alice".into()]));
        let hangup = Entry::new(
            &push("event=hangup&cause=forwarded&callId=A1&from=492111234567&to=4921100000"),
            &not_routed(),
            "<Response/>",
            Masking::On,
            0,
        );
        assert_eq!(hangup.cause.as_deref(), Some("forwarded"));
        // No direction: both sides could be the other party.
        assert_eq!(hangup.to.as_deref(), Some("4921****00"));
        let dtmf = Entry::new(
            &push("event=dtmf&dtmf=0815&callId=A1"),
            &not_routed(),
            "",
            Masking::On,
            0,
        );
        assert_eq!(dtmf.dtmf.as_deref(), Some("0815"));
    }

    #[test]
    fn the_event_id_is_the_bodys_alone() {
        let body = b"event=dtmf&dtmf=&callId=1";
        assert_eq!(event_id(body), event_id(body));
        assert_eq!(event_id(body).len(), 32);
        assert_ne!(event_id(body), event_id(b"event=dtmf&dtmf=1&callId=1"));
        assert_ne!(event_id(b""), event_id(b"\0"));
        // FNV-1a 128's published test vector: the empty input is the offset basis.
        assert_eq!(event_id(b""), "6c62272e07bb014262b821756295c58d");
    }

    #[test]
    fn names_read_from_a_list_or_its_json_text() {
        let entry: Entry =
            serde_json::from_str(r#"{"event":"newCall","users":"[\"Alice\",\"Bob\"]","userIds":["w0"],"fullUserIds":null}"#)
                .unwrap();
        assert_eq!(entry.users, Names(vec!["Alice".into(), "Bob".into()]));
        assert_eq!(entry.user_ids, Names(vec!["w0".into()]));
        assert_eq!(entry.full_user_ids, Names::default());
        let json = serde_json::to_string(&entry).unwrap();
        assert!(json.contains(r#""users":["Alice","Bob"]"#), "{json}");
        assert_eq!(entry.users.to_json(), r#"["Alice","Bob"]"#);
    }
}
