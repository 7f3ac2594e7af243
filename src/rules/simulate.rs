//! Dry runs: a call (or typed digits) in, the decision with its trace out,
//! with no side effects. The CLI's `simulate` and the worker's
//! `POST /simulate` both answer with [`Trace`].
//!
//! ```json
//! {"from": "492111234567", "to": "4921100000", "direction": "in", "at": "2026-11-28T10:00"}
//! {"from": "492111234567", "to": "4921100000", "direction": "in", "menu": "after-hours", "dtmf": "1"}
//! ```

use serde::{Deserialize, Serialize};

use crate::protocol::number::Party;
use crate::protocol::push::{Direction, Leg, NewCall, Users};
use crate::protocol::url::{HttpUrl, SelfUrl};
use crate::rules::condition::CallFacts;
use crate::rules::decision::{decide, Decision, Found, Question, Verdict};
use crate::rules::evaluate::Scope;
use crate::rules::menu::{MenuState, MenuStep};
use crate::rules::model::DEFAULT_TIMEZONE;
use crate::rules::{Outcome, RuleSet};
use crate::time::calendar::LocalDateTime;
use crate::time::zone::{LocalResult, Zone};

/// A simulated call.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallInput {
    pub from: String,
    pub to: String,
    pub direction: String,
    /// Wall-clock time in the document's zone (`2026-12-24T18:30`), or UTC
    /// with a `Z` (`2026-12-24T17:30Z`). Default: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diversion: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_ids: Vec<String>,
    /// Simulate the digits typed into `menu` instead of the call itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf: Option<String>,
    /// The menu's attempt (0 the first time it plays).
    #[serde(default, rename = "try", skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
}

impl CallInput {
    /// The digits of the number whose rules apply (`to` in, `from` out),
    /// which names the shard to read.
    pub fn sipgate_number(&self) -> Option<String> {
        let direction = Direction::parse(&self.direction).unwrap_or(Direction::In);
        Party::parse(direction.sipgate_side(&self.from, &self.to))
            .number()
            .map(|number| number.as_str().to_owned())
    }
}

/// The decision and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    /// The published version simulated against (absent for a file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub at: TimeInfo,
    /// Set when the kill switch answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill: Option<String>,
    /// Every rule looked at, in order, up to the one that matched.
    pub rules: Vec<RuleStep>,
    /// The deciding rule's id.
    pub matched: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub menu: Option<MenuInfo>,
    /// What the action is, one word.
    pub answer: &'static str,
    /// The exact XML the router answers.
    pub xml: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeInfo {
    pub utc: String,
    pub local: String,
    pub weekday: String,
    pub timezone: &'static str,
    /// When the given wall-clock time is skipped or repeated by a DST switch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleStep {
    pub rule: String,
    pub scope: String,
    pub matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MenuInfo {
    pub name: String,
    pub attempt: u32,
    pub digits: String,
    /// `option`, `no input` or `invalid input`, or `unknown menu`.
    pub step: String,
    /// `true` when the menu is played again.
    pub replay: bool,
}

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A simulated call, parsed: the `newCall` it stands for, at its time.
pub struct Call {
    pub call: NewCall,
    pub utc: i64,
    pub time: TimeInfo,
}

impl Call {
    /// Parses the input; wall-clock times are read in `zone`.
    pub fn parse(input: &CallInput, zone: &Zone, now_utc: i64) -> Result<Call, InputError> {
        let direction = Direction::parse(&input.direction).ok_or_else(|| {
            InputError(format!(
                "direction must be in or out, not {:?}",
                input.direction
            ))
        })?;
        let (utc, note) = match input.at.as_deref() {
            None => (now_utc, None),
            Some(text) => parse_at(text, zone)?,
        };
        let local = zone.to_local(utc);
        Ok(Call {
            call: NewCall {
                from: Party::parse(&input.from),
                to: Party::parse(&input.to),
                direction,
                users: Users {
                    names: input.users.clone(),
                    ids: input.user_ids.clone(),
                    full_ids: Vec::new(),
                },
                leg: Leg {
                    diversion: input.diversion.as_deref().map(Party::parse),
                    ..Leg::default()
                },
            },
            utc,
            time: TimeInfo {
                utc: format!("{}Z", LocalDateTime::from_seconds_since_epoch(utc)),
                local: local.to_string(),
                weekday: local.date.weekday().to_string(),
                timezone: zone.name(),
                note,
            },
        })
    }

    pub fn facts(&self) -> CallFacts<'_> {
        CallFacts::of(&self.call, self.utc)
    }

    /// The number whose rules apply: `to` for incoming calls, `from` for outgoing.
    pub fn sipgate_number(&self) -> Option<&str> {
        self.call
            .sipgate_number()
            .number()
            .map(|number| number.as_str())
    }
}

fn parse_at(text: &str, zone: &Zone) -> Result<(i64, Option<String>), InputError> {
    let bad = || {
        InputError(format!(
            "at must be a time like 2026-12-24T18:30 (or 2026-12-24T17:30Z for UTC), not {text:?}"
        ))
    };
    if let Some(utc) = text.strip_suffix('Z') {
        let local = LocalDateTime::parse(utc).ok_or_else(bad)?;
        return Ok((Zone::utc().from_local(local).0, None));
    }
    let local = LocalDateTime::parse(text).ok_or_else(bad)?;
    let (utc, kind) = zone.from_local(local);
    let note = match kind {
        LocalResult::Single => None,
        LocalResult::Ambiguous => Some(format!(
            "{local} happens twice in {zone} (the clocks go back); the first one is taken"
        )),
        LocalResult::Skipped => Some(format!(
            "{local} does not exist in {zone} (the clocks go forward); read as {}",
            zone.to_local(utc)
        )),
    };
    Ok((utc, note))
}

/// What a dry run is decided against, as a push would be: the rules (none:
/// nothing is published), the kill switch, the version, where sipgate
/// reaches the router (`base`, for menus) and, with the journal on, where
/// it reports answers and hangups (`watch`) — so the XML is the push's
/// byte for byte.
#[derive(Clone, Copy)]
pub struct Against<'r> {
    pub rules: Option<&'r RuleSet>,
    pub kill: Option<&'r Outcome>,
    pub version: Option<u64>,
    pub base: &'r SelfUrl,
    pub watch: Option<&'r HttpUrl>,
}

impl<'r> Against<'r> {
    /// A document alone, as the CLI simulates a file.
    pub fn document(rules: &'r RuleSet, base: &'r SelfUrl) -> Against<'r> {
        Against {
            rules: Some(rules),
            kill: None,
            version: None,
            base,
            watch: None,
        }
    }

    /// The zone wall-clock times are read in: the document's, or the
    /// default when there is none.
    pub fn zone(&self) -> Zone {
        self.rules.map_or_else(
            || Zone::find(DEFAULT_TIMEZONE).unwrap_or_else(Zone::utc),
            |rules| rules.zone.clone(),
        )
    }

    /// Decides `question` as a push is decided.
    pub fn decide(&self, question: &Question<'_>) -> Decision<'r> {
        let found = Found {
            version: self.version.or(Some(0)),
            rules: self.rules,
            kill: self.kill,
            ..Found::default()
        };
        decide(question, found, self.base, self.watch)
    }
}

/// Simulates `input` against `against`: the same decision a push would
/// get, with its trace.
pub fn simulate(
    against: &Against<'_>,
    input: &CallInput,
    now_utc: i64,
) -> Result<Trace, InputError> {
    simulate_with(against, input, now_utc, |decision, call| {
        Trace::of(decision, call, against.version)
    })
}

/// Simulates `input` and reads the decision with `read`.
pub fn simulate_with<T>(
    against: &Against<'_>,
    input: &CallInput,
    now_utc: i64,
    read: impl FnOnce(&Decision<'_>, &Call) -> T,
) -> Result<T, InputError> {
    let call = Call::parse(input, &against.zone(), now_utc)?;
    let digits = input.dtmf.clone().unwrap_or_default();
    let question = match &input.menu {
        Some(menu) => Question::Digits {
            state: Some(MenuState {
                menu: menu.clone(),
                attempt: input.attempt.unwrap_or(0),
                draft: None,
            }),
            digits: &digits,
        },
        None => Question::Call {
            call: &call.call,
            utc: call.utc,
        },
    };
    let decision = against.decide(&question);
    Ok(read(&decision, &call))
}

impl Trace {
    /// What `decision` on the simulated `call` was, and why.
    pub fn of(decision: &Decision<'_>, call: &Call, version: Option<u64>) -> Trace {
        let facts = call.facts();
        Trace {
            version,
            at: call.time.clone(),
            kill: matches!(decision.verdict, Verdict::Killed)
                .then(|| "the kill switch is set: every call gets its action".to_owned()),
            rules: decision
                .trace
                .iter()
                .map(|step| RuleStep {
                    rule: step.rule.id.clone(),
                    scope: scope_name(step.scope),
                    matched: step.mismatch.is_none(),
                    why: step
                        .mismatch
                        .as_ref()
                        .map(|mismatch| mismatch.explain(&facts)),
                })
                .collect(),
            matched: decision.rule().map(str::to_owned),
            menu: decision
                .menu
                .as_ref()
                .filter(|_| matches!(decision.verdict, Verdict::Menu { .. }))
                .map(|(state, digits)| MenuInfo {
                    name: state.menu.clone(),
                    attempt: state.attempt,
                    digits: digits.clone(),
                    step: decision.step().unwrap_or("unknown menu").to_owned(),
                    replay: matches!(
                        decision.verdict,
                        Verdict::Menu {
                            step: Some(MenuStep::Replay { .. })
                        }
                    ),
                }),
            answer: decision.answer.action_name(),
            xml: decision.answer.xml().into_owned(),
        }
    }
}

fn scope_name(scope: Scope<'_>) -> String {
    scope.to_string()
}

impl Trace {
    /// The trace for people: one line per rule, then the XML.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        if let Some(version) = self.version {
            text.push_str(&format!("rules version {version}\n"));
        }
        text.push_str(&format!(
            "at {} {} {} ({})\n",
            self.at.weekday, self.at.local, self.at.timezone, self.at.utc
        ));
        if let Some(note) = &self.at.note {
            text.push_str(&format!("note: {note}\n"));
        }
        if let Some(kill) = &self.kill {
            text.push_str(&format!("{kill}\n"));
        }
        for step in &self.rules {
            match &step.why {
                None => text.push_str(&format!("  ✓ {} [{}] matched\n", step.rule, step.scope)),
                Some(why) => text.push_str(&format!("  ✗ {} [{}] {why}\n", step.rule, step.scope)),
            }
        }
        if let Some(menu) = &self.menu {
            let digits = if menu.digits.is_empty() {
                "(none)"
            } else {
                &menu.digits
            };
            text.push_str(&format!(
                "menu {} attempt {}: digits {digits} → {}{}\n",
                menu.name,
                menu.attempt,
                menu.step,
                if menu.replay {
                    ", the menu plays again"
                } else {
                    ""
                }
            ));
        }
        match &self.matched {
            Some(rule) => text.push_str(&format!("decided by {rule}: {}\n", self.answer)),
            None if self.menu.is_none() && self.kill.is_none() => {
                text.push_str(&format!("no rule matched: {}\n", self.answer))
            }
            None => text.push_str(&format!("answer: {}\n", self.answer)),
        }
        text.push_str(&self.xml);
        text.push('\n');
        text
    }
}
