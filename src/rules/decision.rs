//! The decision on one push, and why — one value the log line, the journal
//! entry and `simulate`'s trace are all read from:
//!
//! ```text
//! push ─▶ Question ─┐
//!                   ├─ decide ─▶ Decision ─┬─▶ answer XML (prepared where it can be)
//! rules ─▶ Found ───┘                      ├─▶ log line   {"msg":"routed","rule":"business-hours",…}
//!                                          ├─▶ journal entry / forwarded body
//!                                          └─▶ simulate's trace
//! ```

use super::condition::CallFacts;
use super::evaluate::{Answer, Considered, Scope};
use super::menu::{MenuState, MenuStep};
use super::model::{Outcome, Rule, RuleSet};
use crate::log::{clip, Level, LogLine};
use crate::protocol::number::Party;
use crate::protocol::push::{NewCall, Push};
use crate::protocol::response::Response;
use crate::protocol::url::{HttpUrl, SelfUrl};

/// What a push asks the rules.
#[derive(Debug, Clone)]
pub enum Question<'a> {
    /// A `newCall` at `utc` (seconds since the epoch): which rule decides it?
    Call { call: &'a NewCall, utc: i64 },
    /// Digits typed into a `<Gather>`; `state` names our menu, if it is one.
    Digits {
        state: Option<MenuState>,
        digits: &'a str,
    },
    /// Nothing to decide: `answer`, `hangup`, events we do not know.
    Nothing,
}

impl<'a> Question<'a> {
    /// The question of `push`, posted to a URL with `query` at `utc`.
    pub fn of(push: &'a Push, query: &str, utc: i64) -> Question<'a> {
        match push {
            Push::NewCall(call) => Question::Call { call, utc },
            Push::Dtmf(dtmf) => Question::Digits {
                state: MenuState::from_query(query),
                digits: &dtmf.digits,
            },
            Push::Answer(_) | Push::Hangup(_) | Push::Unknown(_) => Question::Nothing,
        }
    }

    /// Whether the rules are needed to answer, and if so which.
    pub fn rules_needed(&self) -> Option<Wanted<'a>> {
        match self {
            Question::Call { call, .. } => Some(Wanted {
                number: call.sipgate_number().number().map(|number| number.as_str()),
                caller: Some(&call.from),
                draft: None,
            }),
            Question::Digits {
                state: Some(state), ..
            } => Some(Wanted {
                number: None,
                caller: None,
                draft: state.draft,
            }),
            Question::Digits { state: None, .. } | Question::Nothing => None,
        }
    }
}

/// The rules a push needs: the shard of its sipgate number, from the live
/// version — or from the draft, for a test caller or a menu of a call the
/// draft began.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted<'a> {
    /// The sipgate number whose shard holds the rules (`None`: any shard
    /// will do, as for menus).
    pub number: Option<&'a str>,
    /// The caller (`from`), matched against a draft's test callers.
    pub caller: Option<&'a Party>,
    /// The draft a menu's URL names (`…&draft=8`): the digits of a call the
    /// draft began are answered by it while it is the draft.
    pub draft: Option<u64>,
}

/// Any caller's rules for `number` (tests, and callers that are no test caller).
impl<'a> From<Option<&'a str>> for Wanted<'a> {
    fn from(number: Option<&'a str>) -> Wanted<'a> {
        Wanted {
            number,
            ..Wanted::default()
        }
    }
}

/// The rules a push is decided by, as the store found them.
#[derive(Debug, Clone, Default)]
pub struct Found<'r> {
    /// The version answered from; `None` when none could be had.
    pub version: Option<u64>,
    /// The version is the draft, answering one of its test callers.
    pub draft: bool,
    /// `None` when nothing is published, or none could be had.
    pub rules: Option<&'r RuleSet>,
    /// The kill switch's outcome, when it is set.
    pub kill: Option<&'r Outcome>,
    /// KV reads it took (0 from the isolate's cache); `None` when not read.
    pub reads: Option<u32>,
    /// What went wrong on the way, if anything.
    pub note: Option<Note>,
}

impl Found<'_> {
    /// Writes into `log` what the rules were (version, KV reads) and what
    /// went wrong on the way to them (level, key, error).
    pub fn annotate(&self, log: &mut LogLine) {
        log.version = self.version;
        log.draft = self.draft;
        log.reads = self.reads;
        if let Some(note) = &self.note {
            log.level = note.level;
            log.key = note.key.clone();
            log.error = Some(note.message.clone());
        }
    }
}

/// Something wrong that did not stop the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub level: Level,
    /// The KV key that failed.
    pub key: Option<String>,
    pub message: String,
}

/// What was decided, in the words of the log (`msg`).
#[derive(Debug, Clone)]
pub enum Verdict<'r> {
    /// A rule matched (`routed`).
    Routed { rule: &'r Rule, scope: Scope<'r> },
    /// Rules were there, none matched: the call proceeds (`no_match`).
    NoMatch,
    /// Nothing is published: the call proceeds (`no_rules`).
    NoRules,
    /// The kill switch answered (`killed`).
    Killed,
    /// Digits typed into one of our menus (`menu`; `unknown_menu` when the
    /// menu is not in the rules, `step` then `None`).
    Menu { step: Option<MenuStep<'r>> },
    /// No rules could be had, not even the isolate's last-known-good
    /// (`rules_unavailable`).
    RulesUnavailable,
    /// Nothing to decide (`not_routed`).
    NotRouted,
}

impl Verdict<'_> {
    /// The log line's `msg`.
    pub fn msg(&self) -> &'static str {
        match self {
            Verdict::Routed { .. } => "routed",
            Verdict::NoMatch => "no_match",
            Verdict::NoRules => "no_rules",
            Verdict::Killed => "killed",
            Verdict::Menu { step: Some(_), .. } => "menu",
            Verdict::Menu { step: None, .. } => "unknown_menu",
            Verdict::RulesUnavailable => "rules_unavailable",
            Verdict::NotRouted => "not_routed",
        }
    }
}

/// The decision on one push.
#[derive(Debug, Clone)]
pub struct Decision<'r> {
    pub verdict: Verdict<'r>,
    /// The menu and attempt digits were typed into (from the push's URL),
    /// and the digits.
    pub menu: Option<(MenuState, String)>,
    /// Every rule looked at for a call, in order, up to the one that matched.
    pub trace: Vec<Considered<'r>>,
    pub answer: Answer<'r>,
    /// The version decided by, and what happened on the way to it.
    pub version: Option<u64>,
    /// The version is the draft, answering one of its test callers.
    pub draft: bool,
    pub reads: Option<u32>,
    pub note: Option<Note>,
}

/// Decides `question` with what was `found`. `base` is where sipgate
/// reaches the router (for menus); with `watch`, the answer asks sipgate to
/// send the call's answer and hangup there too (unless the rule names its
/// own URLs).
pub fn decide<'r>(
    question: &Question<'_>,
    found: Found<'r>,
    base: &SelfUrl,
    watch: Option<&HttpUrl>,
) -> Decision<'r> {
    let (verdict, trace, answer) = match question {
        Question::Nothing | Question::Digits { state: None, .. } => (
            Verdict::NotRouted,
            Vec::new(),
            Answer::new(Response::proceed()),
        ),
        Question::Call { call, utc } => decide_call(call, *utc, &found, base),
        Question::Digits {
            state: Some(state),
            digits,
        } => {
            let (verdict, answer) = decide_digits(state, digits, &found, base);
            (verdict, Vec::new(), answer)
        }
    };
    // Every call answered comes back when watched — digits for a Gather not
    // ours too; sipgate ignores the answer to answer and hangup pushes.
    let answer = match question {
        Question::Nothing => answer,
        _ => answer.watched(watch),
    };
    let menu = match question {
        Question::Digits {
            state: Some(state),
            digits,
        } => Some((state.clone(), (*digits).to_owned())),
        _ => None,
    };
    Decision {
        verdict,
        menu,
        trace,
        answer,
        version: found.version,
        draft: found.draft,
        reads: found.reads,
        note: found.note,
    }
}

type Decided<'r> = (Verdict<'r>, Vec<Considered<'r>>, Answer<'r>);

fn decide_call<'r>(call: &NewCall, utc: i64, found: &Found<'r>, base: &SelfUrl) -> Decided<'r> {
    if let Some(kill) = found.kill {
        return (Verdict::Killed, Vec::new(), kill_answer(kill));
    }
    let Some(rules) = found.rules else {
        return (
            unanswered(found),
            Vec::new(),
            Answer::new(Response::proceed()),
        );
    };
    let number = call.sipgate_number().number().map(|number| number.as_str());
    let decision = rules.decide_call(&CallFacts::of(call, utc), number, base);
    let verdict = match decision.matched {
        Some((rule, scope)) => Verdict::Routed { rule, scope },
        None => Verdict::NoMatch,
    };
    (verdict, decision.trace, decision.answer)
}

fn decide_digits<'r>(
    state: &MenuState,
    digits: &str,
    found: &Found<'r>,
    base: &SelfUrl,
) -> (Verdict<'r>, Answer<'r>) {
    if let Some(kill) = found.kill {
        return (Verdict::Killed, kill_answer(kill));
    }
    let Some(rules) = found.rules else {
        return (unanswered(found), Answer::new(Response::proceed()));
    };
    let decision = rules.decide_digits(state, digits, base);
    (
        Verdict::Menu {
            step: decision.step,
        },
        decision.answer,
    )
}

/// Why there are no rules to decide by: nothing published, or none to be had.
fn unanswered<'r>(found: &Found<'r>) -> Verdict<'r> {
    match found.version {
        Some(_) => Verdict::NoRules,
        None => Verdict::RulesUnavailable,
    }
}

/// The kill switch's answer; it is compiled without menus, so it never
/// names one.
fn kill_answer<'r>(kill: &Outcome) -> Answer<'r> {
    match kill {
        Outcome::Respond(action) => Answer::new(Response {
            action: action.clone(),
            ..Response::default()
        }),
        Outcome::Menu(_) => Answer::new(Response::proceed()),
    }
}

impl Decision<'_> {
    /// The id of the rule that decided, if one did.
    pub fn rule(&self) -> Option<&str> {
        match &self.verdict {
            Verdict::Routed { rule, .. } => Some(rule.id.as_str()),
            _ => None,
        }
    }

    /// What the digits did in their menu (`option`, `no input`, …).
    pub fn step(&self) -> Option<&'static str> {
        match &self.verdict {
            Verdict::Menu { step: Some(step) } => Some(step.reason().as_str()),
            _ => None,
        }
    }

    /// The one log line about the push this decides.
    pub fn log_line(&self, push: &Push) -> LogLine {
        let level = match (&self.note, &self.verdict) {
            (Some(note), _) => note.level,
            (None, Verdict::Menu { step: None, .. }) => Level::Warn,
            (None, _) => Level::Info,
        };
        let mut log = LogLine::new(level, self.verdict.msg(), 200);
        log.event = Some(clip(push.event_name()));
        log.call_id = push.leg().call_id.as_deref().map(clip);
        log.version = self.version;
        log.draft = self.draft;
        log.reads = self.reads;
        log.rule = self.rule().map(str::to_owned);
        log.menu = self.menu.as_ref().map(|(state, _)| state.menu.clone());
        log.step = self.step();
        if let Some(note) = &self.note {
            log.key = note.key.clone();
            log.error = Some(note.message.clone());
        }
        log.answer = Some(self.answer.action_name());
        log
    }
}
