//! Validation: a [`DocumentSpec`] becomes a compiled [`RuleSet`], or the
//! list of everything wrong with it, each at its JSON path. Warnings (rules
//! that can never match) do not stop a document.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use super::condition::{unknown_zone, Conditions, DateSet, Shared};
use super::model::{is_name, Menu, Outcome, Rule, RuleSet, DEFAULT_TIMEZONE};
use super::path::{Field, Index};
use super::pattern::PatternSet;
use super::problem::{parse_json, Checker, DocumentError, Problem};
use super::spec::{ActionSpec, DocumentSpec, GatherKindSpec, MenuSpec, RejectReasonSpec, RuleSpec};
use crate::protocol::number::E164;
use crate::protocol::response::{
    Action, Dial, DialNumbers, DialTarget, Gather, GatherKind, Play, Reject, RejectReason,
};
use crate::protocol::url::HttpUrl;
use crate::time::zone::Zone;

/// A document that passed: its rules, and what looked suspicious.
#[derive(Debug)]
pub struct Checked {
    pub rules: RuleSet,
    pub warnings: Vec<Problem>,
}

/// What a check found, as `sipgate-rules check --json` and the admin API's
/// `POST rules/check` answer it:
/// `{"errors":[{"path":…,"message":…}],"warnings":[…],"complete":true}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// False when a shape error (unknown field, wrong type) stopped the
    /// reading: the checks after it could not run.
    pub complete: bool,
    /// How each of the document's expectations went (run only when it has
    /// no errors): `[{"path","name","passed","expected","got","trace"}]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<super::expect::Outcome>,
}

impl Report {
    /// The expectations that failed.
    pub fn failed_expectations(&self) -> usize {
        self.expectations
            .iter()
            .filter(|outcome| !outcome.passed)
            .count()
    }
}

impl Report {
    pub fn of(result: &Result<Checked, DocumentError>) -> Report {
        match result {
            Ok(checked) => Report {
                errors: Vec::new(),
                warnings: checked.warnings.clone(),
                complete: true,
                expectations: Vec::new(),
            },
            Err(error) => Report {
                errors: error.problems().to_vec(),
                warnings: Vec::new(),
                complete: !matches!(error, DocumentError::Syntax(_)),
                expectations: Vec::new(),
            },
        }
    }
}

/// Reads, checks and compiles a document.
pub fn load(json: &str) -> Result<Checked, DocumentError> {
    load_with(json, UniqueIds::Checked)
}

/// Reads, checks and compiles one shard of a document that is checked
/// shard by shard (the store's `shards`): everything but the rule ids'
/// uniqueness, which only the whole document can tell.
pub fn load_shard(json: &str) -> Result<Checked, DocumentError> {
    load_with(json, UniqueIds::LeftToCaller)
}

fn load_with(json: &str, ids: UniqueIds) -> Result<Checked, DocumentError> {
    let spec = read_spec(json)?;
    compile_with(&spec, ids).map_err(DocumentError::Invalid)
}

/// A document's shape, read but not checked. Every reader of a whole
/// document in the worker goes through here: the document's deserializer is
/// its largest function, and must be in the wasm once.
#[inline(never)]
pub fn read_spec(json: &str) -> Result<DocumentSpec, DocumentError> {
    parse_json(json)
}

/// Whether [`compile_with`] checks that rule ids are unique.
#[derive(Clone, Copy, PartialEq)]
enum UniqueIds {
    Checked,
    LeftToCaller,
}

/// Checks and compiles a parsed document: all errors, or the rules.
pub fn compile(spec: &DocumentSpec) -> Result<Checked, Vec<Problem>> {
    compile_with(spec, UniqueIds::Checked)
}

fn compile_with(spec: &DocumentSpec, ids: UniqueIds) -> Result<Checked, Vec<Problem>> {
    let mut checker = Checker::default();
    let zone_name = spec.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE);
    let zone = Zone::find(zone_name).unwrap_or_else(|| {
        checker.error("timezone", unknown_zone(zone_name));
        Zone::utc()
    });
    let shared = shared_parts(spec, &zone, &mut checker);
    let mut context = Context {
        checker,
        menu_names: spec.menus.keys().map(String::as_str).collect(),
        shared,
    };
    let global = context.rules(&spec.global, &"global");
    let numbers = context.numbers(spec);
    let default = context.rules(&spec.default, &"default");
    if ids == UniqueIds::Checked {
        check_unique_ids(spec, &mut context.checker);
    }
    let menus = context.menus(spec);
    check_ways_out(&menus, &mut context.checker);
    super::expect::check_spec(&spec.expectations, &mut context.checker);
    warn_after_catch_all(&global, &numbers, &default, &mut context.checker);

    let Checker {
        errors,
        mut warnings,
    } = context.checker;
    if !errors.is_empty() {
        return Err(errors);
    }
    warnings.sort();
    Ok(Checked {
        rules: RuleSet {
            zone,
            global,
            numbers,
            default,
            menus,
        },
        warnings,
    })
}

/// The named lists and calendars every rule may refer to, and the zone.
fn shared_parts(spec: &DocumentSpec, zone: &Zone, checker: &mut Checker) -> Shared {
    let mut shared = Shared {
        zone: Some(zone.clone()),
        ..Shared::default()
    };
    for (name, patterns) in &spec.lists {
        let path = format!("lists.{name}");
        checker.name(&path, name);
        shared.lists.insert(
            name.clone(),
            Arc::new(PatternSet::compile(patterns, true, checker, &path)),
        );
    }
    for (name, dates) in &spec.calendars {
        let path = format!("calendars.{name}");
        checker.name(&path, name);
        shared.calendars.insert(
            name.clone(),
            Arc::new(DateSet::compile(dates, checker, &path)),
        );
    }
    shared
}

/// A global rule that matches every call hides the numbers' and the
/// default's rules: worth a warning, not an error.
fn warn_after_catch_all(
    global: &[Rule],
    numbers: &HashMap<String, Vec<Rule>>,
    default: &[Rule],
    checker: &mut Checker,
) {
    let Some(catch_all) = global.iter().find(|rule| rule.when.is_catch_all()) else {
        return;
    };
    let message = format!(
        "is never reached: the global rule {:?} matches every call first",
        catch_all.id
    );
    if !numbers.is_empty() {
        checker.warning("numbers", &message);
    }
    if !default.is_empty() {
        checker.warning("default", &message);
    }
}

/// Checks one action outside a document (the kill switch): menus cannot be
/// named, there are none.
pub fn compile_action(spec: &ActionSpec, path: &str) -> Result<Outcome, Vec<Problem>> {
    let mut context = Context {
        checker: Checker::default(),
        menu_names: HashSet::new(),
        shared: Shared::default(),
    };
    match context.outcome(spec, &path) {
        Some(outcome) if context.checker.errors.is_empty() => Ok(outcome),
        _ => Err(context.checker.errors),
    }
}

/// The checks only compiling needs; [`Checker`] itself collects problems
/// for every part of the document.
impl Checker {
    fn number(&mut self, path: impl fmt::Display, text: &str) -> Option<E164> {
        E164::parse(text)
            .map_err(|error| self.error(path, format_args!("{text:?} {error}")))
            .ok()
    }

    fn url(&mut self, path: impl fmt::Display, text: &str) -> Option<HttpUrl> {
        HttpUrl::parse(text)
            .map_err(|error| self.error(path, format_args!("{text:?} {error}")))
            .ok()
    }

    fn at_least_one(&mut self, path: impl fmt::Display, value: Option<u32>) -> Option<NonZeroU32> {
        let value = value?;
        let checked = NonZeroU32::new(value);
        if checked.is_none() {
            self.error(path, "must be at least 1");
        }
        checked
    }

    /// Names of lists, calendars and menus go into `@name` references and
    /// menu URLs: letters, digits, `-` and `_`.
    fn name(&mut self, path: impl fmt::Display, name: &str) {
        if !is_name(name) {
            self.error(
                path,
                format!("the name {name:?} must be 1–64 letters, digits, - or _"),
            );
        }
    }
}

/// Where a rule stands, written out only when it is reported.
#[derive(Clone, Copy)]
pub(crate) enum Place<'s> {
    Global(usize),
    Number(&'s str, usize),
    Default(usize),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Global(index) => write!(f, "global[{index}]"),
            Place::Number(number, index) => write!(f, "numbers.{number}[{index}]"),
            Place::Default(index) => write!(f, "default[{index}]"),
        }
    }
}

/// Rule ids must be unique: a trace names rules by them.
fn check_unique_ids(spec: &DocumentSpec, checker: &mut Checker) {
    let places = spec
        .global
        .iter()
        .enumerate()
        .map(|(index, rule)| (rule, Place::Global(index)))
        .chain(spec.numbers.iter().flat_map(|(number, rules)| {
            rules
                .iter()
                .enumerate()
                .map(move |(index, rule)| (rule, Place::Number(number, index)))
        }))
        .chain(
            spec.default
                .iter()
                .enumerate()
                .map(|(index, rule)| (rule, Place::Default(index))),
        );
    let mut seen: HashMap<&str, Place<'_>> = HashMap::new();
    for (rule, place) in places {
        let Some(id) = rule.id.as_deref() else {
            continue;
        };
        if let Some(first) = seen.insert(id, place) {
            duplicate_id(checker, id, place, first);
            seen.insert(id, first);
        }
    }
}

/// The error of a rule whose id an earlier rule (`first`) already has.
pub(crate) fn duplicate_id(checker: &mut Checker, id: &str, place: Place<'_>, first: Place<'_>) {
    checker.error(
        Field(&place, "id"),
        format!("{id:?} is already the id of {first}"),
    );
}

struct Context<'a> {
    checker: Checker,
    menu_names: HashSet<&'a str>,
    shared: Shared,
}

impl Context<'_> {
    /// Every number's rules, under the number as E.164 digits; a number
    /// written twice (`+49…` and `49…`) is an error.
    fn numbers(&mut self, spec: &DocumentSpec) -> HashMap<String, Vec<Rule>> {
        let mut numbers = HashMap::with_capacity(spec.numbers.len());
        for (number, rules) in &spec.numbers {
            let path = Field(&"numbers", number);
            match E164::parse(number) {
                Ok(parsed) => {
                    let compiled = self.rules(rules, &path);
                    if numbers
                        .insert(parsed.as_str().to_owned(), compiled)
                        .is_some()
                    {
                        self.checker.error(
                            path,
                            format!("is the number {parsed} again (written differently)"),
                        );
                    }
                }
                Err(error) => self
                    .checker
                    .error(path, format!("the key {number:?} {error}")),
            }
        }
        numbers
    }

    fn menus(&mut self, spec: &DocumentSpec) -> HashMap<String, Menu> {
        let mut menus = HashMap::with_capacity(spec.menus.len());
        for (name, menu) in &spec.menus {
            if let Some(menu) = self.menu(name, menu) {
                menus.insert(name.clone(), menu);
            }
        }
        menus
    }

    fn rules(&mut self, specs: &[RuleSpec], path: &dyn fmt::Display) -> Vec<Rule> {
        let mut rules: Vec<Rule> = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let path = Index(path, index);
            let id = match &spec.id {
                Some(id) => {
                    if id.is_empty() || id.len() > 64 {
                        self.checker
                            .error(Field(&path, "id"), "must be 1–64 characters");
                    }
                    id.clone()
                }
                None => path.to_string(),
            };
            let when = spec
                .when
                .as_ref()
                .map(|when| {
                    Conditions::compile(
                        when,
                        &self.shared,
                        &mut self.checker,
                        &format_args!("{path}.when"),
                    )
                })
                .unwrap_or_default();
            let on_answer = spec
                .on_answer
                .as_deref()
                .and_then(|url| self.checker.url(format_args!("{path}.onAnswer"), url));
            let on_hangup = spec
                .on_hangup
                .as_deref()
                .and_then(|url| self.checker.url(format_args!("{path}.onHangup"), url));
            let then = self.outcome(&spec.then, &format_args!("{path}.then"));
            if let Some(catch_all) = rules.iter().find(|rule| rule.when.is_catch_all()) {
                self.checker.warning(
                    path,
                    format!(
                        "never matches: the rule {:?} before it matches every call",
                        catch_all.id
                    ),
                );
            }
            rules.push(Rule::new(
                id,
                when,
                then.unwrap_or(Outcome::Respond(None)),
                on_answer,
                on_hangup,
            ));
        }
        rules
    }

    fn menu(&mut self, name: &str, spec: &MenuSpec) -> Option<Menu> {
        let path = format!("menus.{name}");
        self.checker.name(&path, name);
        let prompt = self
            .checker
            .url(format_args!("{path}.prompt"), &spec.prompt);
        let longest = spec
            .options
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(1)
            .max(1);
        let max_digits = match spec.max_digits {
            Some(max) => self
                .checker
                .at_least_one(format_args!("{path}.maxDigits"), Some(max)),
            None => NonZeroU32::new(u32::try_from(longest).unwrap_or(u32::MAX)),
        };
        let mut options = HashMap::with_capacity(spec.options.len());
        for (digits, action) in &spec.options {
            let option_path = format!("{path}.options.{digits}");
            if digits.is_empty()
                || !digits
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
            {
                self.checker.error(
                    &option_path,
                    format!("the key {digits:?} must be keypad digits (0-9, *, #)"),
                );
            } else if let Some(max) = max_digits {
                if digits.len() > max.get() as usize {
                    self.checker.error(
                        &option_path,
                        format!("the key {digits:?} has {} digits, but maxDigits is {max}: it can never be typed", digits.len()),
                    );
                }
            }
            if let Some(outcome) = self.outcome(action, &option_path) {
                options.insert(digits.clone(), outcome);
            }
        }
        let mut fallback = |action: &Option<ActionSpec>, field: &str| match action {
            Some(action) => self.outcome(action, &format_args!("{path}.{field}")),
            None => Some(Outcome::Respond(None)),
        };
        let no_input = fallback(&spec.no_input, "noInput");
        let invalid = fallback(&spec.invalid, "invalid");
        let timeout_ms = self
            .checker
            .at_least_one(format_args!("{path}.timeout"), spec.timeout);
        Some(Menu {
            name: name.to_owned(),
            prompt: prompt?,
            max_digits: max_digits?,
            timeout_ms,
            options,
            no_input: no_input?,
            invalid: invalid?,
            retries: spec.retries.unwrap_or(1),
        })
    }

    /// Checks an action; `None` after reporting why it cannot be used.
    fn outcome(&mut self, spec: &ActionSpec, path: &dyn fmt::Display) -> Option<Outcome> {
        let checker = &mut self.checker;
        let action = match spec {
            ActionSpec::Dial {
                numbers,
                caller_id,
                anonymous,
            } => dial(
                checker,
                numbers,
                caller_id.as_deref(),
                *anonymous,
                &Field(path, "dial"),
            )?,
            ActionSpec::Voicemail {} => Action::Dial(Dial {
                caller_id: None,
                anonymous: None,
                target: DialTarget::Voicemail,
            }),
            ActionSpec::Play { url } => Action::Play(Play {
                url: checker.url(format_args!("{path}.play.url"), url)?,
            }),
            ActionSpec::Gather { .. } => gather(checker, spec, &Field(path, "gather"))?,
            ActionSpec::Reject { reason } => Action::Reject(Reject {
                reason: reason.map(|reason| match reason {
                    RejectReasonSpec::Rejected => RejectReason::Rejected,
                    RejectReasonSpec::Busy => RejectReason::Busy,
                }),
            }),
            ActionSpec::Hangup {} => Action::Hangup,
            ActionSpec::Proceed {} => return Some(Outcome::Respond(None)),
            ActionSpec::Menu(name) => {
                if !self.menu_names.contains(name.as_str()) {
                    self.checker.error(
                        format_args!("{path}.menu"),
                        format!("{name:?} is not a menu in `menus`"),
                    );
                    return None;
                }
                return Some(Outcome::Menu(name.clone()));
            }
        };
        Some(Outcome::Respond(Some(action)))
    }
}

/// `dial`: one to five numbers, every one E.164, an optional callerId.
fn dial(
    checker: &mut Checker,
    numbers: &[String],
    caller_id: Option<&str>,
    anonymous: Option<bool>,
    path: &dyn fmt::Display,
) -> Option<Action> {
    let checked: Vec<Option<E164>> = numbers
        .iter()
        .enumerate()
        .map(|(index, number)| checker.number(format_args!("{path}.numbers[{index}]"), number))
        .collect();
    let caller_id = caller_id.map(|text| checker.number(format_args!("{path}.callerId"), text));
    // The count is checked even when some numbers are invalid, so one pass
    // reports everything.
    let count_ok = match DialNumbers::check_count(checked.len()) {
        Ok(()) => true,
        Err(error) => {
            checker.error(format_args!("{path}.numbers"), error);
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
    Some(Action::Dial(Dial {
        caller_id,
        anonymous,
        target: DialTarget::Numbers(DialNumbers::new(numbers).ok()?),
    }))
}

/// `gather`: an absolute onData URL, counts of at least 1, an optional prompt.
fn gather(checker: &mut Checker, spec: &ActionSpec, path: &dyn fmt::Display) -> Option<Action> {
    let ActionSpec::Gather {
        on_data,
        max_digits,
        timeout,
        kind,
        play,
    } = spec
    else {
        return None;
    };
    let on_data = checker.url(format_args!("{path}.onData"), on_data);
    let max_digits = checker.at_least_one(format_args!("{path}.maxDigits"), *max_digits);
    let timeout_ms = checker.at_least_one(format_args!("{path}.timeout"), *timeout);
    let prompt = match play {
        Some(play) => Some(Play {
            url: checker.url(format_args!("{path}.play.url"), &play.url)?,
        }),
        None => None,
    };
    Some(Action::Gather(Gather {
        on_data: on_data?,
        max_digits,
        timeout_ms,
        kind: kind.map(|GatherKindSpec::Dtmf| GatherKind::Dtmf),
        prompt,
    }))
}

/// Every menu must lead somewhere other than menus, through some option or
/// fallback, or a caller could be kept in menus forever.
fn check_ways_out(menus: &HashMap<String, Menu>, checker: &mut Checker) {
    let outcomes = |menu: &Menu| {
        let mut all: Vec<Outcome> = menu.options.values().cloned().collect();
        all.push(menu.no_input.clone());
        all.push(menu.invalid.clone());
        all
    };
    let mut has_exit: HashSet<&str> = menus
        .values()
        .filter(|menu| {
            outcomes(menu)
                .iter()
                .any(|outcome| matches!(outcome, Outcome::Respond(_)))
        })
        .map(|menu| menu.name.as_str())
        .collect();
    loop {
        let before = has_exit.len();
        for menu in menus.values() {
            let leads_out = outcomes(menu)
                .iter()
                .any(|outcome| matches!(outcome, Outcome::Menu(next) if has_exit.contains(next.as_str())));
            if leads_out {
                has_exit.insert(menu.name.as_str());
            }
        }
        if has_exit.len() == before {
            break;
        }
    }
    let mut trapped: Vec<&str> = menus
        .keys()
        .map(String::as_str)
        .filter(|name| !has_exit.contains(name))
        .collect();
    trapped.sort_unstable();
    for name in trapped {
        checker.error(
            format!("menus.{name}"),
            "has no way out: its options, noInput and invalid lead only to menus that never end the menu",
        );
    }
}
