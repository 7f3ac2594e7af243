//! Expectations: what a document says its calls must get, checked with it
//! — unit tests that live beside the rules they test. `check` runs them;
//! a publish refuses a document whose expectations fail unless forced.
//!
//! ```json
//! "expectations": [
//!   { "name": "a weekday morning rings the office",
//!     "call": { "from": "492111234567", "to": "4921100000", "direction": "in", "at": "2026-12-07T10:00" },
//!     "expect": { "rule": "business-hours", "action": "dial 4921100001" } },
//!   { "name": "1 in the after-hours menu reaches the on-call phone",
//!     "call": { "from": "492111234567", "to": "4921100000", "direction": "in", "at": "2026-12-07T20:00",
//!               "menu": "after-hours", "dtmf": "1" },
//!     "expect": { "action": "dial 4915790000099" } }
//! ]
//! ```
//!
//! `call` is a [simulated call](super::simulate::CallInput), with its time
//! required (an expectation that depended on when it runs would pass at
//! 10:00 and fail at 18:00). `expect` names the deciding `rule` (`null`:
//! none matched), the `action`, or both. An action is its verb and, as
//! many as matter, its details — `dial 4921100001` holds when that number
//! is among those dialled; `menu after-hours`, `reject busy`, `voicemail`,
//! `proceed`, `hangup`, `play https://…`.

use serde::{Deserialize, Serialize};

use super::path::{Field, Index};
use super::problem::{Checker, Problem};
use super::simulate::{simulate_with, Against, CallInput, Trace};
use super::RuleSet;
use crate::protocol::response::{Action, DialTarget, RejectReason, Response};
use crate::protocol::url::SelfUrl;

/// One expectation as written.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectationSpec {
    /// What it is about, for people: named in its report.
    pub name: String,
    pub call: CallInput,
    pub expect: ExpectSpec,
}

/// What must happen. `rule: null` (written out): no rule matched.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub rule: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// `"rule": null` as `Some(None)`, telling it from no `rule` at all.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// How an expectation went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Its place: `expectations[2]`.
    pub path: String,
    pub name: String,
    pub passed: bool,
    /// What it expected, and what the call got: `rule business-hours, dial 4921100001`.
    pub expected: String,
    pub got: String,
    /// When it failed: the simulation's trace (as `POST simulate` answers
    /// it; not read back from an answer of the API).
    #[serde(default, skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub trace: Option<Trace>,
}

/// Problems of an expectation that make it impossible to run (reported as
/// errors at their paths, like any other problem of the document).
pub fn check_spec(specs: &[ExpectationSpec], checker: &mut Checker) {
    for (index, spec) in specs.iter().enumerate() {
        let path = Index(&"expectations", index);
        if spec.call.at.is_none() {
            checker.error(
                Field(&Field(&path, "call"), "at"),
                "is missing: an expectation needs the time of its call (2026-12-07T10:00), or it would pass or fail by when it runs",
            );
        }
        if spec.expect.rule.is_none() && spec.expect.action.is_none() {
            checker.error(
                Field(&path, "expect"),
                "names neither a rule nor an action: it would expect nothing",
            );
        }
        if let Some(action) = &spec.expect.action {
            if !VERBS.contains(&action.split_whitespace().next().unwrap_or_default()) {
                checker.error(
                    Field(&Field(&path, "expect"), "action"),
                    format!(
                        "{action:?} does not start with an action: {}",
                        VERBS.join(", ")
                    ),
                );
            }
        }
    }
}

const VERBS: [&str; 7] = [
    "dial",
    "voicemail",
    "play",
    "menu",
    "reject",
    "hangup",
    "proceed",
];

/// Runs the expectation at `index` against `rules` (the shard of its
/// call's number). `base` stands for the router's address in menu URLs,
/// which no expectation can know.
pub fn run(index: usize, spec: &ExpectationSpec, rules: &RuleSet, base: &SelfUrl) -> Outcome {
    let path = format!("expectations[{index}]");
    let expected = describe_expected(&spec.expect);
    let ran = simulate_with(
        &Against::document(rules, base),
        &spec.call,
        0,
        |decision, call| {
            let words = action_words(decision.answer.response());
            let rule = decision.rule().map(str::to_owned);
            let passed = holds(&spec.expect, rule.as_deref(), &words);
            let got = format!(
                "rule {}, {}",
                rule.as_deref().unwrap_or("(none)"),
                words.join(" ")
            );
            let trace = (!passed).then(|| Trace::of(decision, call, None));
            (passed, got, trace)
        },
    );
    match ran {
        Ok((passed, got, trace)) => Outcome {
            path,
            name: spec.name.clone(),
            passed,
            expected,
            got,
            trace,
        },
        Err(error) => Outcome {
            path,
            name: spec.name.clone(),
            passed: false,
            expected,
            got: format!("the call cannot be simulated: {error}"),
            trace: None,
        },
    }
}

/// The problems of a document whose expectations failed, at their paths.
pub fn failures(outcomes: &[Outcome]) -> Vec<Problem> {
    outcomes
        .iter()
        .filter(|outcome| !outcome.passed)
        .map(|outcome| Problem {
            path: outcome.path.clone(),
            message: format!(
                "{:?} expected {}, got {}",
                outcome.name, outcome.expected, outcome.got
            ),
        })
        .collect()
}

fn describe_expected(expect: &ExpectSpec) -> String {
    let rule = expect
        .rule
        .as_ref()
        .map(|rule| format!("rule {}", rule.as_deref().unwrap_or("(none)")));
    [rule, expect.action.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

fn holds(expect: &ExpectSpec, rule: Option<&str>, words: &[String]) -> bool {
    let rule_holds = expect
        .rule
        .as_ref()
        .is_none_or(|expected| expected.as_deref() == rule);
    let action_holds = expect.action.as_ref().is_none_or(|action| {
        let mut expected = action.split_whitespace();
        expected.next() == words.first().map(String::as_str)
            && expected.all(|detail| words.iter().skip(1).any(|word| word == detail))
    });
    rule_holds && action_holds
}

/// An answer in words: its verb, then its details (`dial 4921100001
/// 4921100002`, `menu after-hours`, `reject busy`).
pub fn action_words(response: &Response) -> Vec<String> {
    let Some(action) = &response.action else {
        return vec!["proceed".to_owned()];
    };
    match action {
        Action::Dial(dial) => match &dial.target {
            DialTarget::Voicemail => vec!["voicemail".to_owned()],
            DialTarget::Numbers(numbers) => std::iter::once("dial".to_owned())
                .chain(
                    numbers
                        .as_slice()
                        .iter()
                        .map(|number| number.as_str().to_owned()),
                )
                .collect(),
        },
        Action::Play(play) => vec!["play".to_owned(), play.url.as_str().to_owned()],
        Action::Gather(gather) => {
            // One of ours names its menu in its URL (`?menu=after-hours&try=0`).
            let menu = gather
                .on_data
                .as_str()
                .split_once("?menu=")
                .map(|(_, rest)| rest.split('&').next().unwrap_or_default().to_owned());
            match menu {
                Some(name) => vec!["menu".to_owned(), name],
                None => vec!["gather".to_owned()],
            }
        }
        Action::Reject(reject) => match reject.reason {
            Some(RejectReason::Busy) => vec!["reject".to_owned(), "busy".to_owned()],
            Some(RejectReason::Rejected) => vec!["reject".to_owned(), "rejected".to_owned()],
            None => vec!["reject".to_owned()],
        },
        Action::Hangup => vec!["hangup".to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::load;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn an_action_holds_by_its_verb_and_the_details_it_names() {
        let expect = |action: &str| ExpectSpec {
            rule: None,
            action: Some(action.to_owned()),
        };
        let dial = words("dial 4921100001 4921100002");
        assert!(holds(&expect("dial"), None, &dial));
        assert!(holds(&expect("dial 4921100002"), None, &dial));
        assert!(holds(&expect("dial 4921100002 4921100001"), None, &dial));
        assert!(!holds(&expect("dial 4921100003"), None, &dial));
        assert!(!holds(&expect("voicemail"), None, &dial));
        assert!(holds(&expect("reject"), None, &words("reject busy")));
        assert!(!holds(&expect("reject busy"), None, &words("reject")));
        // `rule: null`: no rule matched.
        let none = ExpectSpec {
            rule: Some(None),
            action: None,
        };
        assert!(holds(&none, None, &words("proceed")));
        assert!(!holds(&none, Some("office"), &words("proceed")));
    }

    #[test]
    fn an_expectation_that_cannot_run_is_an_error_at_its_path() {
        let document = r#"{"numbers": {"4921100000": [{"id": "office", "then": {"voicemail": {}}}]},
            "expectations": [
              {"name": "no time", "call": {"from": "1", "to": "4921100000", "direction": "in"}, "expect": {"rule": "office"}},
              {"name": "nothing", "call": {"from": "1", "to": "4921100000", "direction": "in", "at": "2026-12-07T10:00"}, "expect": {}},
              {"name": "ring", "call": {"from": "1", "to": "4921100000", "direction": "in", "at": "2026-12-07T10:00"}, "expect": {"action": "ring 1"}}
            ]}"#;
        let problems = load(document).expect_err("refused").problems().to_vec();
        let sharded = crate::store::shards::check_source(document).report.errors;
        assert_eq!(
            problems, sharded,
            "the whole check and the shard-by-shard check agree"
        );
        let paths: Vec<&str> = problems
            .iter()
            .map(|problem| problem.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "expectations[0].call.at",
                "expectations[1].expect",
                "expectations[2].expect.action"
            ]
        );
    }

    #[test]
    fn a_failure_reports_what_happened_instead_with_the_trace() {
        let rules =
            load(r#"{"numbers": {"4921100000": [{"id": "office", "then": {"voicemail": {}}}]}}"#)
                .expect("valid")
                .rules;
        let spec: ExpectationSpec = serde_json::from_str(
            r#"{"name": "rings Alice", "call": {"from": "1", "to": "4921100000", "direction": "in", "at": "2026-12-07T10:00"},
                "expect": {"rule": "office", "action": "dial 4921100001"}}"#,
        )
        .expect("an expectation");
        let base = SelfUrl::from_request_url("https://router.invalid/").expect("a URL");
        let outcome = run(3, &spec, &rules, &base);
        assert!(!outcome.passed);
        assert_eq!(outcome.path, "expectations[3]");
        assert_eq!(outcome.expected, "rule office, dial 4921100001");
        assert_eq!(outcome.got, "rule office, voicemail");
        let trace = outcome.trace.as_ref().expect("a trace");
        assert_eq!(trace.matched.as_deref(), Some("office"));
        assert!(trace.to_text().contains("✓ office"));
        assert_eq!(
            failures(&[outcome])[0].message,
            r#""rings Alice" expected rule office, dial 4921100001, got rule office, voicemail"#
        );
    }
}
