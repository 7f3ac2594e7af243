//! The route format: how a user writes, in JSON, what happens to a call.
//!
//! A route is a rule whose `then` is one action, in the shape "verb: details":
//!
//! ```json
//! {
//!   "id": "office-hours",
//!   "then": { "dial": { "numbers": ["4921100001", "4921100002"], "callerId": "492111234567" } },
//!   "onAnswer": "https://crm.example/sipgate",
//!   "onHangup": "https://crm.example/sipgate"
//! }
//! ```
//!
//! Actions: `dial` {numbers, callerId?, anonymous?}, `voicemail` {},
//! `play` {url}, `gather` {onData, maxDigits?, timeout?, type?, play?},
//! `reject` {reason?: "rejected" | "busy"}, `hangup` {}, `proceed` {}.
//!
//! Loading happens in two steps: serde reads the JSON into the `*Spec`
//! types (wrong shape, unknown fields and typos are errors with their JSON
//! path), then [`RuleSpec::validate`] turns the spec into the checked
//! [`Rule`], collecting every problem with its path.

use std::fmt;
use std::num::NonZeroU32;

use serde::Deserialize;

use crate::number::E164;
use crate::response::{
    Action, Dial, DialNumbers, DialTarget, Gather, GatherKind, Play, Reject, RejectReason, Response,
};
use crate::url::HttpUrl;

/// A route as written in JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    /// A name for the rule, shown in logs and traces.
    #[serde(default)]
    pub id: Option<String>,
    pub then: ActionSpec,
    #[serde(default)]
    pub on_answer: Option<String>,
    #[serde(default)]
    pub on_hangup: Option<String>,
}

/// An action as written in JSON: `{"verb": {details}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ActionSpec {
    Dial {
        numbers: Vec<String>,
        #[serde(default)]
        caller_id: Option<String>,
        #[serde(default)]
        anonymous: Option<bool>,
    },
    Voicemail {},
    Play {
        url: String,
    },
    Gather {
        on_data: String,
        #[serde(default)]
        max_digits: Option<u32>,
        /// Milliseconds.
        #[serde(default)]
        timeout: Option<u32>,
        #[serde(default, rename = "type")]
        kind: Option<GatherKindSpec>,
        #[serde(default)]
        play: Option<PlaySpec>,
    },
    Reject {
        #[serde(default)]
        reason: Option<RejectReasonSpec>,
    },
    Hangup {},
    /// Let the call proceed normally (`<Response/>`).
    Proceed {},
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaySpec {
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GatherKindSpec {
    Dtmf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RejectReasonSpec {
    Rejected,
    Busy,
}

/// A checked route: what to answer, and under which name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: Option<String>,
    pub response: Response,
}

/// One thing wrong with a document, at a JSON path such as `then.dial.numbers[2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// Why a stored route cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Not JSON, or JSON of the wrong shape.
    Syntax(Problem),
    /// Well-formed, but with values sipgate would not accept.
    Invalid(Vec<Problem>),
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::Syntax(problem) => problem.fmt(f),
            RouteError::Invalid(problems) => {
                let mut first = true;
                for problem in problems {
                    if !first {
                        f.write_str("; ")?;
                    }
                    first = false;
                    problem.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for RouteError {}

impl Rule {
    /// Reads and checks a route stored as JSON.
    pub fn from_json(json: &str) -> Result<Rule, RouteError> {
        let spec: RuleSpec = parse_json(json)?;
        spec.validate().map_err(RouteError::Invalid)
    }
}

/// Deserializes with the JSON path of the first mismatch in the error.
pub fn parse_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, RouteError> {
    let syntax = |path: String, message: String| {
        RouteError::Syntax(Problem {
            // serde_path_to_error writes the root as `.` and an unknown spot as `?`.
            path: if path == "." || path == "?" {
                String::new()
            } else {
                path
            },
            message,
        })
    };
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        syntax(path, error.into_inner().to_string())
    })?;
    deserializer
        .end()
        .map_err(|error| syntax(String::new(), error.to_string()))?;
    Ok(value)
}

/// Collects problems under a growing JSON path.
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn report(&mut self, path: &str, message: impl fmt::Display) {
        self.problems.push(Problem {
            path: path.to_owned(),
            message: message.to_string(),
        });
    }

    fn number(&mut self, path: &str, text: &str) -> Option<E164> {
        E164::parse(text)
            .map_err(|error| self.report(path, format_args!("{text:?} {error}")))
            .ok()
    }

    fn url(&mut self, path: &str, text: &str) -> Option<HttpUrl> {
        HttpUrl::parse(text)
            .map_err(|error| self.report(path, format_args!("{text:?} {error}")))
            .ok()
    }

    fn at_least_one(&mut self, path: &str, value: Option<u32>) -> Option<NonZeroU32> {
        let value = value?;
        let checked = NonZeroU32::new(value);
        if checked.is_none() {
            self.report(path, "must be at least 1");
        }
        checked
    }
}

impl RuleSpec {
    /// Checks every value, reporting all problems at once.
    pub fn validate(&self) -> Result<Rule, Vec<Problem>> {
        let mut checker = Checker {
            problems: Vec::new(),
        };
        let on_answer = self
            .on_answer
            .as_deref()
            .and_then(|url| checker.url("onAnswer", url));
        let on_hangup = self
            .on_hangup
            .as_deref()
            .and_then(|url| checker.url("onHangup", url));
        let action = self.then.check(&mut checker, "then");
        match action {
            Some(action) if checker.problems.is_empty() => Ok(Rule {
                id: self.id.clone(),
                response: Response {
                    on_answer,
                    on_hangup,
                    action,
                },
            }),
            _ => Err(checker.problems),
        }
    }
}

impl ActionSpec {
    /// The checked action (`Some(None)` is "proceed"), or `None` after
    /// reporting why not.
    fn check(&self, checker: &mut Checker, path: &str) -> Option<Option<Action>> {
        let action = match self {
            ActionSpec::Dial {
                numbers,
                caller_id,
                anonymous,
            } => {
                let path = format!("{path}.dial");
                let checked: Vec<Option<E164>> = numbers
                    .iter()
                    .enumerate()
                    .map(|(index, number)| {
                        checker.number(&format!("{path}.numbers[{index}]"), number)
                    })
                    .collect();
                let caller_id = caller_id
                    .as_deref()
                    .map(|text| checker.number(&format!("{path}.callerId"), text));
                // The count is checked even when some numbers are invalid, so
                // one pass reports everything.
                let count_ok = match DialNumbers::check_count(checked.len()) {
                    Ok(()) => true,
                    Err(error) => {
                        checker.report(&format!("{path}.numbers"), error);
                        false
                    }
                };
                let numbers: Vec<E164> = checked.into_iter().collect::<Option<_>>()?;
                let caller_id = match caller_id {
                    Some(checked) => Some(checked?),
                    None => None,
                };
                if !count_ok {
                    return None;
                }
                Action::Dial(Dial {
                    caller_id,
                    anonymous: *anonymous,
                    target: DialTarget::Numbers(DialNumbers::new(numbers).ok()?),
                })
            }
            ActionSpec::Voicemail {} => Action::Dial(Dial {
                caller_id: None,
                anonymous: None,
                target: DialTarget::Voicemail,
            }),
            ActionSpec::Play { url } => Action::Play(Play {
                url: checker.url(&format!("{path}.play.url"), url)?,
            }),
            ActionSpec::Gather {
                on_data,
                max_digits,
                timeout,
                kind,
                play,
            } => {
                let path = format!("{path}.gather");
                let on_data = checker.url(&format!("{path}.onData"), on_data);
                let max_digits = checker.at_least_one(&format!("{path}.maxDigits"), *max_digits);
                let timeout_ms = checker.at_least_one(&format!("{path}.timeout"), *timeout);
                let prompt = match play {
                    Some(play) => Some(Play {
                        url: checker.url(&format!("{path}.play.url"), &play.url)?,
                    }),
                    None => None,
                };
                Action::Gather(Gather {
                    on_data: on_data?,
                    max_digits,
                    timeout_ms,
                    kind: kind.map(|GatherKindSpec::Dtmf| GatherKind::Dtmf),
                    prompt,
                })
            }
            ActionSpec::Reject { reason } => Action::Reject(Reject {
                reason: reason.map(|reason| match reason {
                    RejectReasonSpec::Rejected => RejectReason::Rejected,
                    RejectReasonSpec::Busy => RejectReason::Busy,
                }),
            }),
            ActionSpec::Hangup {} => Action::Hangup,
            ActionSpec::Proceed {} => return Some(None),
        };
        Some(Some(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> Rule {
        Rule::from_json(json).unwrap()
    }

    fn problems(json: &str) -> Vec<String> {
        match Rule::from_json(json) {
            Err(RouteError::Invalid(problems)) => problems.iter().map(|p| p.to_string()).collect(),
            other => panic!("expected validation problems, got {other:?}"),
        }
    }

    fn syntax(json: &str) -> String {
        match Rule::from_json(json) {
            Err(error @ RouteError::Syntax(_)) => error.to_string(),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn every_action_loads() {
        let xml = |json: &str| rule(json).response.to_xml();
        assert!(xml(r#"{"then":{"dial":{"numbers":["4915799912345"]}}}"#)
            .ends_with("<Response><Dial><Number>4915799912345</Number></Dial></Response>"));
        assert!(xml(r#"{"then":{"voicemail":{}}}"#)
            .ends_with("<Response><Dial><Voicemail/></Dial></Response>"));
        assert!(
            xml(r#"{"then":{"play":{"url":"https://example.com/a.wav"}}}"#).ends_with(
                "<Response><Play><Url>https://example.com/a.wav</Url></Play></Response>"
            )
        );
        assert!(xml(r#"{"then":{"gather":{"onData":"https://example.com/d","maxDigits":3,"timeout":5000,"type":"dtmf","play":{"url":"https://example.com/m.wav"}}}}"#)
            .ends_with("<Response><Gather onData=\"https://example.com/d\" maxDigits=\"3\" timeout=\"5000\" type=\"dtmf\"><Play><Url>https://example.com/m.wav</Url></Play></Gather></Response>"));
        assert!(xml(r#"{"then":{"reject":{"reason":"busy"}}}"#)
            .ends_with("<Response><Reject reason=\"busy\"/></Response>"));
        assert!(xml(r#"{"then":{"reject":{}}}"#).ends_with("<Response><Reject/></Response>"));
        assert!(xml(r#"{"then":{"hangup":{}}}"#).ends_with("<Response><Hangup/></Response>"));
        assert!(xml(r#"{"then":{"proceed":{}}}"#).ends_with("<Response/>"));
    }

    #[test]
    fn id_and_event_subscriptions_are_kept() {
        let rule = rule(
            r#"{"id":"office","then":{"dial":{"numbers":["4921100001"],"callerId":"492111234567","anonymous":true}},
                "onAnswer":"https://crm.example/e","onHangup":"https://crm.example/e"}"#,
        );
        assert_eq!(rule.id.as_deref(), Some("office"));
        assert!(rule.response.to_xml().ends_with(
            "<Response onAnswer=\"https://crm.example/e\" onHangup=\"https://crm.example/e\">\
             <Dial callerId=\"492111234567\" anonymous=\"true\"><Number>4921100001</Number></Dial></Response>"
        ));
    }

    #[test]
    fn invalid_values_are_reported_with_their_paths_all_at_once() {
        assert_eq!(
            problems(
                r#"{"then":{"dial":{"numbers":["4915799912345","0211123","49 1"],"callerId":"abc"}},
                    "onAnswer":"/events"}"#
            ),
            [
                "onAnswer: \"/events\" is not an absolute URL (it must start with https:// or http://)",
                "then.dial.numbers[1]: \"0211123\" starts with 0: write it internationally, country code first (0211… → 49211…)",
                "then.dial.numbers[2]: \"49 1\" must be digits only (E.164 without `+`, e.g. 4915791234567)",
                "then.dial.callerId: \"abc\" must be digits only (E.164 without `+`, e.g. 4915791234567)",
            ]
        );
        assert_eq!(
            problems(r#"{"then":{"dial":{"numbers":["491","492","493","494","495","496"]}}}"#),
            ["then.dial.numbers: has 6 numbers, but sipgate rings at most 5 in parallel"]
        );
        assert_eq!(
            problems(r#"{"then":{"dial":{"numbers":[]}}}"#),
            ["then.dial.numbers: needs at least one number to dial"]
        );
        assert_eq!(
            problems(r#"{"then":{"gather":{"onData":"ftp://x/y","maxDigits":0,"timeout":0,"play":{"url":"a.wav"}}}}"#),
            [
                "then.gather.onData: \"ftp://x/y\" must use https:// or http://",
                "then.gather.maxDigits: must be at least 1",
                "then.gather.timeout: must be at least 1",
                "then.gather.play.url: \"a.wav\" is not an absolute URL (it must start with https:// or http://)",
            ]
        );
        assert_eq!(
            problems(r#"{"then":{"play":{"url":"sounds/a.wav"}}}"#),
            ["then.play.url: \"sounds/a.wav\" is not an absolute URL (it must start with https:// or http://)"]
        );
    }

    #[test]
    fn shape_errors_name_the_path() {
        assert!(syntax(r#"{"then":{"dail":{}}}"#).starts_with("then: unknown variant `dail`"));
        assert!(syntax(r#"{"then":{"dial":{"numbers":["1"],"calerId":"2"}}}"#)
            .starts_with("then.dial.calerId: unknown field `calerId`, expected one of `numbers`, `callerId`, `anonymous`"));
        assert!(
            syntax(r#"{"then":{"gather":{"onData":"https://x.example","maxDigits":-1}}}"#)
                .starts_with("then.gather.maxDigits: invalid value")
        );
        assert!(syntax(r#"{"then":{"reject":{"reason":"later"}}}"#)
            .starts_with("then.reject.reason: unknown variant `later`"));
        assert!(
            syntax(r#"{"then":{"hangup":{}},"when":{}}"#).starts_with("when: unknown field `when`")
        );
        assert!(syntax(r#"{"id":"x"}"#).starts_with("(document): missing field `then`"));
        assert!(syntax("{").starts_with("(document): EOF while parsing"));
        assert!(syntax(r#"{"then":{"hangup":{}}} trailing"#)
            .starts_with("(document): trailing characters"));
        // Only <Play> may stand inside <Gather>.
        assert!(syntax(
            r#"{"then":{"gather":{"onData":"https://x.example","dial":{"numbers":["491"]}}}}"#
        )
        .starts_with("then.gather.dial: unknown field `dial`"));
    }
}
