//! The rules document as written in JSON: shapes only, no meaning yet.
//!
//! serde reads a document into these types; a wrong shape, an unknown field
//! or a typo (`calerId`) is an error with its JSON path. [`super::check`]
//! then gives the values their meaning and reports every problem at once.
//! `schema/rules.schema.json` describes the same shapes for editors.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer, StrDeserializer};
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A whole rules document.
///
/// ```json
/// {
///   "timezone": "Europe/Berlin",
///   "lists": { "blocked": ["4930123456", "49900*"] },
///   "calendars": { "holidays": ["12-25", "2026-12-24..2026-12-26"] },
///   "menus": { "after-hours": { "prompt": "https://…/menu.wav", "options": { "1": { "voicemail": {} } } } },
///   "global": [ { "id": "block-list", "when": { "caller": "@blocked" }, "then": { "reject": {} } } ],
///   "numbers": { "4921100000": [ { "id": "office", "then": { "dial": { "numbers": ["4921100001"] } } } ] },
///   "default": [ { "then": { "proceed": {} } } ]
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DocumentSpec {
    /// For editors (`"$schema": "../schema/rules.schema.json"`); ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// IANA zone for time conditions; default `Europe/Berlin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Named lists of number patterns, used as `"@name"` in conditions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lists: BTreeMap<String, Vec<String>>,
    /// Named lists of dates, used as `"@name"` in `time.dates`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub calendars: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub menus: BTreeMap<String, MenuSpec>,
    /// Evaluated first, for every number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub global: Vec<RuleSpec>,
    /// Per sipgate number (E.164 digits): evaluated after `global`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub numbers: BTreeMap<String, Vec<RuleSpec>>,
    /// Evaluated last, when no earlier rule matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default: Vec<RuleSpec>,
    /// Calls and what they must get ([`super::expect`]): checked here, run
    /// by the check a publish runs (`store::shards`). No shard carries
    /// them: a push never reads them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<super::expect::ExpectationSpec>,
}

/// One rule: when all conditions hold, do `then`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    /// A name for traces and logs; unique in the document. Without one, the
    /// rule is named by its place (`numbers.4921100000[1]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// No `when`: the rule always matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<WhenSpec>,
    pub then: ActionSpec,
    /// Where sipgate sends this call's `answer` push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_answer: Option<String>,
    /// Where sipgate sends this call's `hangup` push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_hangup: Option<String>,
}

/// Conditions: all given ones must hold; a list means any of its values.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WhenSpec {
    /// `"in"`, `"out"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<OneOrMany<String>>,
    /// The calling number (`from`): `"492111234567"`, `"4930*"`, `"anonymous"`, `"@list"`, `"*"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<OneOrMany<String>>,
    /// The called number (`to`), same patterns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called: Option<OneOrMany<String>>,
    /// `true`: the call was diverted; `false`: it was not; patterns: diverted from a matching number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diversion: Option<DiversionSpec>,
    /// A sipgate user name (`user[]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<OneOrMany<String>>,
    /// A sipgate user id (`userId[]` such as `w0`, or `fullUserId[]` such as `1234567w0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<OneOrMany<String>>,
    /// Time windows; the call matches if it falls in any of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<OneOrMany<TimeSpec>>,
}

/// A time window on a zone's wall clock; all given parts must hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimeSpec {
    /// `"mon"`, `"mon-fri"`, `"sat"`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<OneOrMany<String>>,
    /// `"08:00-12:00"` (start included, end not); `"22:00-06:00"` spans midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<OneOrMany<String>>,
    /// `"2026-12-24"`, `"2026-12-24..2027-01-06"`, yearly `"12-25"` or `"12-24..12-26"`, `"@calendar"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dates: Option<OneOrMany<String>>,
    /// IANA zone; default: the document's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// `"diversion": true`, `false`, or number patterns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DiversionSpec {
    Present(bool),
    From(OneOrMany<String>),
}

impl<'de> Deserialize<'de> for DiversionSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DiversionVisitor;
        impl<'de> Visitor<'de> for DiversionVisitor {
            type Value = DiversionSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, a number pattern or a list of them")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<DiversionSpec, E> {
                Ok(DiversionSpec::Present(value))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<DiversionSpec, E> {
                Ok(DiversionSpec::From(OneOrMany::One(value.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<DiversionSpec, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq))
                    .map(|many| DiversionSpec::From(OneOrMany::Many(many)))
            }
        }
        deserializer.deserialize_any(DiversionVisitor)
    }
}

/// One value or a list of them (`"in"` or `["in", "out"]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(value) => std::slice::from_ref(value),
            OneOrMany::Many(values) => values,
        }
    }

    /// Whether the values are written as a list (paths then carry `[i]`).
    pub fn is_list(&self) -> bool {
        matches!(self, OneOrMany::Many(_))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<OneOrMany<T>, E> {
                let deserializer: StrDeserializer<'_, E> = value.into_deserializer();
                T::deserialize(deserializer).map(OneOrMany::One)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OneOrMany<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(OneOrMany::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrMany<T>, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrMany::Many)
            }
        }
        deserializer.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}

/// An action: `{"verb": {details}}`, or `{"menu": "name"}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ActionSpec {
    /// Ring 1–5 numbers in parallel.
    Dial {
        numbers: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        anonymous: Option<bool>,
    },
    Voicemail {},
    /// Play a sound; afterwards the call continues as without it.
    Play {
        url: String,
    },
    /// Collect digits and send them to your own `onData` URL.
    Gather {
        on_data: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_digits: Option<u32>,
        /// Milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout: Option<u32>,
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        kind: Option<GatherKindSpec>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        play: Option<PlaySpec>,
    },
    Reject {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<RejectReasonSpec>,
    },
    Hangup {},
    /// Let the call proceed normally (`<Response/>`).
    Proceed {},
    /// Go to a menu of the document (the router answers its digits itself).
    Menu(String),
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlaySpec {
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum GatherKindSpec {
    Dtmf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RejectReasonSpec {
    Rejected,
    Busy,
}

/// An IVR menu: a prompt, then digits choose an action or another menu.
///
/// ```json
/// {
///   "prompt": "https://sounds.example.com/menu.wav",
///   "maxDigits": 1, "timeout": 5000, "retries": 2,
///   "options": { "1": { "dial": { "numbers": ["4915790000001"] } }, "9": { "menu": "more" } },
///   "noInput": { "voicemail": {} },
///   "invalid": { "voicemail": {} }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MenuSpec {
    /// The WAV file played while waiting for digits.
    pub prompt: String,
    /// Digits to collect; default: the longest option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_digits: Option<u32>,
    /// Milliseconds to wait after the prompt; sipgate's default is 2000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// What each digit string does.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, ActionSpec>,
    /// After no input and the retries: default `proceed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_input: Option<ActionSpec>,
    /// After a wrong input and the retries: default `proceed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<ActionSpec>,
    /// How often the menu is played again after no or wrong input; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}
