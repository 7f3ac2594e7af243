//! The compiled rules: what a checked document becomes, ready to decide
//! calls. Only [`super::check`] builds these; everything else reads them.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::OnceLock;

use super::condition::Conditions;
use crate::protocol::response::{Action, Response};
use crate::protocol::url::HttpUrl;
use crate::time::zone::Zone;

/// The zone time conditions use when the document names none.
pub const DEFAULT_TIMEZONE: &str = "Europe/Berlin";

/// A checked, compiled document, ready to evaluate calls.
#[derive(Debug)]
pub struct RuleSet {
    pub zone: Zone,
    pub global: Vec<Rule>,
    pub numbers: HashMap<String, Vec<Rule>>,
    pub default: Vec<Rule>,
    pub menus: HashMap<String, Menu>,
}

impl RuleSet {
    /// Every rule's id in the order calls meet them: global, the numbers'
    /// (numbers in order), default.
    pub fn rule_ids(&self) -> Vec<&str> {
        let mut numbers: Vec<(&String, &Vec<Rule>)> = self.numbers.iter().collect();
        numbers.sort_by_key(|(number, _)| *number);
        self.global
            .iter()
            .chain(numbers.into_iter().flat_map(|(_, rules)| rules))
            .chain(&self.default)
            .map(|rule| rule.id.as_str())
            .collect()
    }
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// The rule's `id`, or its place (`numbers.4921100000[1]`).
    pub id: String,
    pub when: Conditions,
    pub then: Outcome,
    pub on_answer: Option<HttpUrl>,
    pub on_hangup: Option<HttpUrl>,
    /// The whole answer, written the first time the rule matches, when it
    /// does not depend on the request (every outcome but a menu, whose URL
    /// does): later pushes cost no XML writing, and compiling a shard for a
    /// cold isolate writes none.
    prepared: OnceLock<Option<Prepared>>,
}

impl Rule {
    pub fn new(
        id: String,
        when: Conditions,
        then: Outcome,
        on_answer: Option<HttpUrl>,
        on_hangup: Option<HttpUrl>,
    ) -> Rule {
        Rule {
            id,
            when,
            then,
            on_answer,
            on_hangup,
            prepared: OnceLock::new(),
        }
    }

    /// The prepared answer, for outcomes that do not depend on the request.
    pub fn prepared(&self) -> Option<&Prepared> {
        self.prepared
            .get_or_init(|| match &self.then {
                Outcome::Respond(action) => {
                    let response = Response {
                        on_answer: self.on_answer.clone(),
                        on_hangup: self.on_hangup.clone(),
                        action: action.clone(),
                    };
                    let xml = response.to_xml();
                    let action_xml = action.as_ref().map(Action::to_xml_element);
                    Some(Prepared {
                        response,
                        xml,
                        action_xml,
                    })
                }
                Outcome::Menu(_) => None,
            })
            .as_ref()
    }
}

/// An answer built and written in advance: the whole document for a push
/// answered as the rule says, and the action's element alone for one whose
/// `<Response>` gains the router's callbacks (the call is watched).
#[derive(Debug)]
pub struct Prepared {
    pub response: Response,
    pub xml: String,
    /// `None` when the rule proceeds (`<Response/>` has no element).
    pub action_xml: Option<String>,
}

/// What a rule, a menu option or a menu's fallback does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answer with this action; `None` is `<Response/>` (proceed).
    Respond(Option<Action>),
    /// Play the menu of this name and gather digits.
    Menu(String),
}

/// A compiled IVR menu.
#[derive(Debug)]
pub struct Menu {
    pub name: String,
    pub prompt: HttpUrl,
    pub max_digits: NonZeroU32,
    pub timeout_ms: Option<NonZeroU32>,
    pub options: HashMap<String, Outcome>,
    pub no_input: Outcome,
    pub invalid: Outcome,
    pub retries: u32,
}

/// Names of lists, calendars and menus go into `@name` references and
/// menu URLs: letters, digits, `-` and `_`, at most 64.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
