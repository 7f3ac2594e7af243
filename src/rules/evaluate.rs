//! Evaluating a call: global rules, then the number's rules, then the
//! default; the first rule whose conditions all hold decides. The trace
//! says why each earlier rule did not match. Typed digits are routed by the
//! menu they were typed into.

use std::borrow::Cow;
use std::fmt;

use super::condition::{CallFacts, Mismatch};
use super::menu::{MenuState, MenuStep, StepReason};
use super::model::{Outcome, Prepared, Rule, RuleSet};
use crate::protocol::response::Response;
use crate::protocol::url::{HttpUrl, SelfUrl};

/// Which list of the document a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    Global,
    /// The rules of this sipgate number.
    Number(&'a str),
    Default,
}

impl fmt::Display for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("global"),
            Scope::Number(number) => write!(f, "numbers.{number}"),
            Scope::Default => f.write_str("default"),
        }
    }
}

/// One rule looked at, in order.
#[derive(Debug, Clone)]
pub struct Considered<'r> {
    pub rule: &'r Rule,
    pub scope: Scope<'r>,
    /// `None`: the rule matched (the last entry of a decided trace).
    pub mismatch: Option<Mismatch<'r>>,
}

/// The answer to a push, ready to be written: the response, and — when a
/// rule's answer was prepared at its first match — the XML written then.
#[derive(Debug, Clone)]
pub struct Answer<'r> {
    response: Cow<'r, Response>,
    prepared: Option<&'r Prepared>,
}

impl<'r> Answer<'r> {
    pub fn new(response: Response) -> Answer<'r> {
        Answer {
            response: Cow::Owned(response),
            prepared: None,
        }
    }

    fn prepared(prepared: &'r Prepared) -> Answer<'r> {
        Answer {
            response: Cow::Borrowed(&prepared.response),
            prepared: Some(prepared),
        }
    }

    /// The same answer, with `onAnswer`/`onHangup` pointing at `callbacks`
    /// where it names none (a rule's own are kept): the router watches the
    /// call, and sipgate sends answer and hangup only if the latest answer
    /// asked for them. Decided before anything is written, so a prepared
    /// answer keeps its prepared action.
    pub fn watched(self, callbacks: Option<&HttpUrl>) -> Answer<'r> {
        let Some(url) = callbacks else {
            return self;
        };
        if self.response.on_answer.is_some() && self.response.on_hangup.is_some() {
            return self;
        }
        let mut response = self.response.into_owned();
        response.on_answer.get_or_insert_with(|| url.clone());
        response.on_hangup.get_or_insert_with(|| url.clone());
        Answer {
            response: Cow::Owned(response),
            prepared: self.prepared,
        }
    }

    pub fn response(&self) -> &Response {
        &self.response
    }

    /// Whether the XML comes from what the rule wrote in advance: whole, or
    /// its action's element inside a `<Response>` with new callbacks.
    pub fn is_prepared(&self) -> bool {
        match (self.prepared, &self.response) {
            (Some(_), Cow::Borrowed(_)) => true,
            (Some(prepared), Cow::Owned(_)) => prepared.action_xml.is_some(),
            (None, _) => false,
        }
    }

    /// The action, one word (`dial`, `proceed`, …).
    pub fn action_name(&self) -> &'static str {
        self.response.action_name()
    }

    /// The XML document: the prepared one as it is, or the prepared action
    /// in a `<Response>` with the callbacks it gained, or written whole.
    pub fn xml(&self) -> Cow<'r, str> {
        match (self.prepared, &self.response) {
            (Some(prepared), Cow::Borrowed(_)) => Cow::Borrowed(prepared.xml.as_str()),
            (
                Some(Prepared {
                    action_xml: Some(element),
                    ..
                }),
                watched,
            ) => Cow::Owned(watched.to_xml_around(element)),
            (_, response) => Cow::Owned(response.to_xml()),
        }
    }
}

/// The decision on a `newCall`.
#[derive(Debug, Clone)]
pub struct CallDecision<'r> {
    /// The rule that decided, if any rule matched.
    pub matched: Option<(&'r Rule, Scope<'r>)>,
    pub trace: Vec<Considered<'r>>,
    pub answer: Answer<'r>,
}

/// The decision on a `dtmf` push.
#[derive(Debug, Clone)]
pub struct DigitsDecision<'r> {
    /// `None` when the menu of the URL is not in the rules (anymore).
    pub step: Option<MenuStep<'r>>,
    pub answer: Answer<'r>,
}

impl RuleSet {
    /// Decides a call. `base` is where the router is reached (for menus).
    pub fn decide_call<'r>(
        &'r self,
        call: &CallFacts<'_>,
        sipgate_number: Option<&str>,
        base: &SelfUrl,
    ) -> CallDecision<'r> {
        let mut trace = Vec::with_capacity(8);
        for (scope, rules) in self.lists_for(sipgate_number) {
            for rule in rules {
                let mismatch = rule.when.check(call).err();
                let matched = mismatch.is_none();
                trace.push(Considered {
                    rule,
                    scope,
                    mismatch,
                });
                if matched {
                    return CallDecision {
                        matched: Some((rule, scope)),
                        trace,
                        answer: self.rule_answer(rule, base),
                    };
                }
            }
        }
        CallDecision {
            matched: None,
            trace,
            answer: Answer::new(Response::proceed()),
        }
    }

    /// The rule lists a call on `sipgate_number` meets, in order.
    fn lists_for<'r>(
        &'r self,
        sipgate_number: Option<&str>,
    ) -> impl Iterator<Item = (Scope<'r>, &'r [Rule])> {
        let number_rules = sipgate_number
            .and_then(|number| self.numbers.get_key_value(number))
            .map(|(number, rules)| (Scope::Number(number.as_str()), rules.as_slice()));
        std::iter::once((Scope::Global, self.global.as_slice()))
            .chain(number_rules)
            .chain(std::iter::once((Scope::Default, self.default.as_slice())))
    }

    /// A matched rule's answer: prepared, unless it plays a menu (whose
    /// URL depends on the request).
    fn rule_answer<'r>(&'r self, rule: &'r Rule, base: &SelfUrl) -> Answer<'r> {
        match rule.prepared() {
            Some(prepared) => Answer::prepared(prepared),
            None => Answer::new(Response {
                on_answer: rule.on_answer.clone(),
                on_hangup: rule.on_hangup.clone(),
                ..self.outcome_response(&rule.then, base)
            }),
        }
    }

    /// Decides the digits typed into the menu named by `state`.
    pub fn decide_digits<'r>(
        &'r self,
        state: &MenuState,
        digits: &str,
        base: &SelfUrl,
    ) -> DigitsDecision<'r> {
        let Some(menu) = self.menus.get(&state.menu) else {
            return DigitsDecision {
                step: None,
                answer: Answer::new(Response::proceed()),
            };
        };
        let step = menu.step(digits, state.attempt);
        let response = match &step {
            MenuStep::Outcome { outcome, .. } => self.outcome_response(outcome, base),
            MenuStep::Replay { attempt, .. } => Response {
                action: menu.gather(base, *attempt),
                ..Response::default()
            },
        };
        DigitsDecision {
            step: Some(step),
            answer: Answer::new(response),
        }
    }

    fn outcome_response(&self, outcome: &Outcome, base: &SelfUrl) -> Response {
        let action = match outcome {
            Outcome::Respond(action) => action.clone(),
            Outcome::Menu(name) => self.menus.get(name).and_then(|menu| menu.gather(base, 0)),
        };
        Response {
            action,
            ..Response::default()
        }
    }
}

impl MenuStep<'_> {
    pub fn reason(&self) -> StepReason {
        match self {
            MenuStep::Outcome { reason, .. } | MenuStep::Replay { reason, .. } => *reason,
        }
    }
}
