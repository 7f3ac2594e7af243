//! Evaluating a call: global rules, then the number's rules, then the
//! default; the first rule whose conditions all hold decides. The trace
//! says why each earlier rule did not match.

use std::borrow::Cow;
use std::fmt;

use super::condition::{CallFacts, Mismatch};
use super::menu::{MenuState, MenuStep, StepReason};
use super::model::{Outcome, Rule, RuleSet};
use crate::protocol::response::Response;
use crate::protocol::url::SelfUrl;

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

/// The decision on a `newCall`.
#[derive(Debug, Clone)]
pub struct CallDecision<'r> {
    /// The rule that decided, if any rule matched.
    pub matched: Option<(&'r Rule, Scope<'r>)>,
    pub trace: Vec<Considered<'r>>,
    /// Borrowed from the rule when it was prepared at compile time.
    pub response: Cow<'r, Response>,
    /// The XML, when prepared at compile time.
    prepared_xml: Option<&'r str>,
}

impl CallDecision<'_> {
    /// The XML document to answer.
    pub fn xml(&self) -> Cow<'_, str> {
        match self.prepared_xml {
            Some(xml) => Cow::Borrowed(xml),
            None => Cow::Owned(self.response.to_xml()),
        }
    }
}

/// The decision on a `dtmf` push.
#[derive(Debug, Clone)]
pub struct DigitsDecision<'r> {
    /// `None` when the menu of the URL is not in the rules (anymore).
    pub step: Option<MenuStep<'r>>,
    pub response: Response,
}

impl RuleSet {
    /// Decides a call. `base` is where the router is reached (for menus).
    pub fn decide_call<'r>(
        &'r self,
        call: &CallFacts<'_>,
        sipgate_number: Option<&str>,
        base: &SelfUrl,
    ) -> CallDecision<'r> {
        let number_rules = sipgate_number
            .and_then(|number| self.numbers.get_key_value(number))
            .map(|(number, rules)| (Scope::Number(number.as_str()), rules.as_slice()));
        let lists = std::iter::once((Scope::Global, self.global.as_slice()))
            .chain(number_rules)
            .chain(std::iter::once((Scope::Default, self.default.as_slice())));
        let mut trace = Vec::with_capacity(8);
        for (scope, rules) in lists {
            for rule in rules {
                match rule.when.check(call) {
                    Ok(()) => {
                        trace.push(Considered {
                            rule,
                            scope,
                            mismatch: None,
                        });
                        let (response, prepared_xml) = match rule.prepared() {
                            Some(prepared) => (
                                Cow::Borrowed(&prepared.response),
                                Some(prepared.xml.as_str()),
                            ),
                            None => (Cow::Owned(self.respond(rule, base)), None),
                        };
                        return CallDecision {
                            matched: Some((rule, scope)),
                            trace,
                            response,
                            prepared_xml,
                        };
                    }
                    Err(mismatch) => trace.push(Considered {
                        rule,
                        scope,
                        mismatch: Some(mismatch),
                    }),
                }
            }
        }
        CallDecision {
            matched: None,
            trace,
            response: Cow::Owned(Response::proceed()),
            prepared_xml: None,
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
                response: Response::proceed(),
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
            response,
        }
    }

    fn respond(&self, rule: &Rule, base: &SelfUrl) -> Response {
        Response {
            on_answer: rule.on_answer.clone(),
            on_hangup: rule.on_hangup.clone(),
            ..self.outcome_response(&rule.then, base)
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
