//! Conditions (`when`): compiled once, then checked per call without allocating.
//!
//! ```json
//! "when": {
//!   "direction": "in",
//!   "caller": ["@blocked", "anonymous"],
//!   "called": "4921100000",
//!   "diversion": true,
//!   "user": "Alice",
//!   "userId": ["w0", "1234567w1"],
//!   "time": { "weekdays": "mon-fri", "hours": ["08:00-12:00", "13:00-17:00"],
//!             "dates": "@holidays", "timezone": "Europe/Berlin" }
//! }
//! ```
//!
//! All given conditions must hold; a list means any of its values; `time`
//! may be a list of windows (any of them).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::path::{Field, Item};
use super::pattern::{written, PartyMatcher, PatternSet};
use super::problem::Checker;
use super::spec::{DiversionSpec, OneOrMany, TimeSpec, WhenSpec};
use crate::codec::{DecodeError, Reader, Table, Writer};
use crate::protocol::number::Party;
use crate::protocol::push::{Direction, NewCall, Users};
use crate::time::calendar::{Date, LocalDateTime, MonthDay, TimeOfDay, Weekday};
use crate::time::zone::Zone;

/// What a rule is checked against: one call at one instant.
#[derive(Debug, Clone, Copy)]
pub struct CallFacts<'a> {
    pub direction: Direction,
    pub from: &'a Party,
    pub to: &'a Party,
    pub diversion: Option<&'a Party>,
    pub users: &'a Users,
    /// The instant of the call, seconds since the epoch (UTC).
    pub utc: i64,
}

impl<'a> CallFacts<'a> {
    /// The facts of a `newCall` at `utc` (seconds since the epoch).
    pub fn of(call: &'a NewCall, utc: i64) -> CallFacts<'a> {
        CallFacts {
            direction: call.direction,
            from: &call.from,
            to: &call.to,
            diversion: call.leg.diversion.as_ref(),
            users: &call.users,
            utc,
        }
    }
}

/// Named lists and calendars, shared by every rule that refers to them.
#[derive(Debug, Default)]
pub struct Shared {
    pub lists: HashMap<String, Arc<PatternSet>>,
    pub calendars: HashMap<String, Arc<DateSet>>,
    pub zone: Option<Zone>,
}

/// What a stored shard's conditions refer to, read before them: its lists
/// and calendars (by number) and the document's zone.
pub struct Decoded<'a> {
    pub lists: &'a [Arc<PatternSet>],
    pub calendars: &'a [Arc<DateSet>],
    pub zone: &'a Zone,
}

/// The compiled `when` of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    direction: Option<Direction>,
    caller: Option<PartyMatcher>,
    called: Option<PartyMatcher>,
    diversion: Option<DiversionCondition>,
    user: Option<Vec<String>>,
    user_id: Option<Vec<String>>,
    time: Option<Vec<TimeWindow>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DiversionCondition {
    Present(bool),
    From(PartyMatcher),
}

/// Why a rule did not match: the first condition that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
/// Borrows from the rule, so checking a call allocates nothing.
pub enum Mismatch<'r> {
    Direction {
        expected: Direction,
    },
    Caller {
        patterns: &'r str,
    },
    Called {
        patterns: &'r str,
    },
    Diverted {
        expected: bool,
    },
    DivertedFrom {
        patterns: &'r str,
    },
    User {
        expected: &'r [String],
    },
    UserId {
        expected: &'r [String],
    },
    Time {
        local: LocalDateTime,
        zone: &'static str,
        windows: usize,
    },
}

impl Mismatch<'_> {
    /// A sentence for traces, with the call's own values.
    pub fn explain(&self, call: &CallFacts<'_>) -> String {
        match self {
            Mismatch::Direction { expected } => {
                format!(
                    "direction is {}, the rule wants {}",
                    call.direction.as_str(),
                    expected.as_str()
                )
            }
            Mismatch::Caller { patterns } => {
                format!("caller {} does not match {patterns}", call.from)
            }
            Mismatch::Called { patterns } => {
                format!("called number {} does not match {patterns}", call.to)
            }
            Mismatch::Diverted { expected: true } => "the call was not diverted".to_owned(),
            Mismatch::Diverted { expected: false } => "the call was diverted".to_owned(),
            Mismatch::DivertedFrom { patterns } => match call.diversion {
                Some(from) => format!("diverted from {from}, which does not match {patterns}"),
                None => format!(
                    "the call was not diverted (the rule wants a diversion from {patterns})"
                ),
            },
            Mismatch::User { expected } => {
                format!("users {:?} include none of {expected:?}", call.users.names)
            }
            Mismatch::UserId { expected } => format!(
                "user ids {:?} include none of {expected:?}",
                call.users
                    .ids
                    .iter()
                    .chain(&call.users.full_ids)
                    .collect::<Vec<_>>()
            ),
            Mismatch::Time {
                local,
                zone,
                windows,
            } => {
                let weekday = local.date.weekday();
                let what = if *windows == 1 {
                    "the time window"
                } else {
                    "any of the time windows"
                };
                format!(
                    "{weekday} {} {} {zone} is outside {what}",
                    local.date, local.time
                )
            }
        }
    }
}

impl Conditions {
    /// The `time` windows (empty without a `time` condition): the only
    /// conditions that change while the other facts of a call stay.
    pub fn time_windows(&self) -> &[TimeWindow] {
        self.time.as_deref().unwrap_or_default()
    }

    /// Compiles `when`, reporting problems under `path` (`…when`).
    pub fn compile(
        spec: &WhenSpec,
        shared: &Shared,
        checker: &mut Checker,
        path: &dyn fmt::Display,
    ) -> Conditions {
        let lists = |name: &str| shared.lists.get(name).cloned();
        let party = |values: &OneOrMany<String>, checker: &mut Checker, field: &str| {
            PartyMatcher::compile(
                values.as_slice(),
                values.is_list(),
                &lists,
                checker,
                &format_args!("{path}.{field}"),
            )
        };
        Conditions {
            direction: spec
                .direction
                .as_ref()
                .and_then(|values| direction(values, checker, &format_args!("{path}.direction"))),
            caller: spec
                .caller
                .as_ref()
                .map(|values| party(values, checker, "caller")),
            called: spec
                .called
                .as_ref()
                .map(|values| party(values, checker, "called")),
            diversion: spec.diversion.as_ref().map(|diversion| match diversion {
                DiversionSpec::Present(present) => DiversionCondition::Present(*present),
                DiversionSpec::From(values) => {
                    DiversionCondition::From(party(values, checker, "diversion"))
                }
            }),
            user: spec
                .user
                .as_ref()
                .map(|values| names(values, checker, &format_args!("{path}.user"))),
            user_id: spec
                .user_id
                .as_ref()
                .map(|values| names(values, checker, &format_args!("{path}.userId"))),
            time: spec.time.as_ref().map(|windows| {
                let time_path = Field(path, "time");
                if windows.as_slice().is_empty() {
                    checker.error(time_path, "is an empty list, which no call matches");
                }
                windows
                    .as_slice()
                    .iter()
                    .enumerate()
                    .map(|(index, window)| {
                        let path = Item {
                            parent: &time_path,
                            listed: windows.is_list(),
                            index,
                        };
                        TimeWindow::compile(window, shared, checker, &path)
                    })
                    .collect()
            }),
        }
    }

    /// Whether every condition holds, or the first that does not.
    pub fn check(&self, call: &CallFacts<'_>) -> Result<(), Mismatch<'_>> {
        if let Some(expected) = self.direction {
            if call.direction != expected {
                return Err(Mismatch::Direction { expected });
            }
        }
        if let Some(caller) = &self.caller {
            if !caller.matches(call.from) {
                return Err(Mismatch::Caller {
                    patterns: caller.written(),
                });
            }
        }
        if let Some(called) = &self.called {
            if !called.matches(call.to) {
                return Err(Mismatch::Called {
                    patterns: called.written(),
                });
            }
        }
        match (&self.diversion, call.diversion) {
            (None, _) => {}
            (Some(DiversionCondition::Present(expected)), actual) => {
                if actual.is_some() != *expected {
                    return Err(Mismatch::Diverted {
                        expected: *expected,
                    });
                }
            }
            (Some(DiversionCondition::From(patterns)), actual) => {
                if !actual.is_some_and(|from| patterns.matches(from)) {
                    return Err(Mismatch::DivertedFrom {
                        patterns: patterns.written(),
                    });
                }
            }
        }
        if let Some(expected) = &self.user {
            if !call.users.names.iter().any(|name| expected.contains(name)) {
                return Err(Mismatch::User { expected });
            }
        }
        if let Some(expected) = &self.user_id {
            let mut ids = call.users.ids.iter().chain(&call.users.full_ids);
            if !ids.any(|id| expected.contains(id)) {
                return Err(Mismatch::UserId { expected });
            }
        }
        if let Some(windows) = &self.time {
            if !windows.iter().any(|window| window.contains(call.utc)) {
                let zone = windows.first().map(|window| &window.zone);
                return Err(Mismatch::Time {
                    local: zone.map_or_else(
                        || Zone::utc().to_local(call.utc),
                        |zone| zone.to_local(call.utc),
                    ),
                    zone: zone.map_or("UTC", Zone::name),
                    windows: windows.len(),
                });
            }
        }
        Ok(())
    }

    /// No condition at all: the rule matches every call.
    pub fn is_catch_all(&self) -> bool {
        *self == Conditions::default()
    }
    /// A bit for each condition given (direction first), then each given
    /// one; lists and calendars by their numbers in the shard's tables:
    ///
    /// ```text
    /// 0b0000_0011  out  caller         direction "out", a caller
    /// ```
    pub fn encode(
        &self,
        out: &mut Writer,
        lists: &mut Table<PatternSet>,
        calendars: &mut Table<DateSet>,
    ) {
        let given = [
            self.direction.is_some(),
            self.caller.is_some(),
            self.called.is_some(),
            self.diversion.is_some(),
            self.user.is_some(),
            self.user_id.is_some(),
            self.time.is_some(),
        ];
        out.uint(
            given
                .iter()
                .rev()
                .fold(0, |bits, &set| bits << 1 | u64::from(set)),
        );
        if let Some(direction) = self.direction {
            out.bool(direction == Direction::Out);
        }
        for party in [&self.caller, &self.called].into_iter().flatten() {
            party.encode(out, lists);
        }
        match &self.diversion {
            None => {}
            Some(DiversionCondition::Present(present)) => out.uint(u64::from(*present)),
            Some(DiversionCondition::From(from)) => {
                out.uint(2);
                from.encode(out, lists);
            }
        }
        for names in [&self.user, &self.user_id].into_iter().flatten() {
            out.count(names.len());
            for name in names {
                out.str(name);
            }
        }
        if let Some(windows) = &self.time {
            out.count(windows.len());
            for window in windows {
                window.encode(out, calendars);
            }
        }
    }

    pub fn decode(input: &mut Reader<'_>, shared: &Decoded<'_>) -> Result<Conditions, DecodeError> {
        let given: u8 = input.small()?;
        if given >= 1 << 7 {
            return Err(input.error("names a condition this worker does not know"));
        }
        let has = |bit: u8| given & (1 << bit) != 0;
        let names = |input: &mut Reader<'_>| -> Result<Vec<String>, DecodeError> {
            let count = input.count()?;
            let mut names = Vec::with_capacity(count);
            for _ in 0..count {
                names.push(input.str()?.to_owned());
            }
            Ok(names)
        };
        let mut conditions = Conditions::default();
        if has(0) {
            conditions.direction = Some(match input.bool()? {
                false => Direction::In,
                true => Direction::Out,
            });
        }
        if has(1) {
            conditions.caller = Some(PartyMatcher::decode(input, shared.lists)?);
        }
        if has(2) {
            conditions.called = Some(PartyMatcher::decode(input, shared.lists)?);
        }
        if has(3) {
            conditions.diversion = Some(match input.uint()? {
                0 => DiversionCondition::Present(false),
                1 => DiversionCondition::Present(true),
                2 => DiversionCondition::From(PartyMatcher::decode(input, shared.lists)?),
                _ => return Err(input.error("a diversion condition of no known kind")),
            });
        }
        if has(4) {
            conditions.user = Some(names(input)?);
        }
        if has(5) {
            conditions.user_id = Some(names(input)?);
        }
        if has(6) {
            let count = input.count()?;
            let mut windows = Vec::with_capacity(count);
            for _ in 0..count {
                windows.push(TimeWindow::decode(input, shared)?);
            }
            conditions.time = Some(windows);
        }
        Ok(conditions)
    }
}

fn direction(
    values: &OneOrMany<String>,
    checker: &mut Checker,
    path: &dyn fmt::Display,
) -> Option<Direction> {
    let mut wanted = (false, false);
    for (index, value) in values.as_slice().iter().enumerate() {
        match Direction::parse(value) {
            Some(Direction::In) => wanted.0 = true,
            Some(Direction::Out) => wanted.1 = true,
            None => {
                let other = value;
                let path = Item {
                    parent: path,
                    listed: values.is_list(),
                    index,
                };
                checker.error(path, format!("{other:?} is not a direction (in or out)"));
            }
        }
    }
    match wanted {
        (true, false) => Some(Direction::In),
        (false, true) => Some(Direction::Out),
        // Both directions: no condition at all. Neither: reported above or empty.
        (true, true) => None,
        (false, false) => {
            if values.as_slice().is_empty() {
                checker.error(path, "is an empty list, which no call matches");
            }
            None
        }
    }
}

fn names(
    values: &OneOrMany<String>,
    checker: &mut Checker,
    path: &dyn fmt::Display,
) -> Vec<String> {
    if values.as_slice().is_empty() {
        checker.error(path, "is an empty list, which no call matches");
    }
    values.as_slice().to_vec()
}

/// A time window: weekdays, hours and dates on one zone's wall clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeWindow {
    zone: Zone,
    /// Bit `i` set: weekday `i` (Monday = 0) is in. All set when not given.
    weekdays: u8,
    /// Minute ranges `[start, end)`; a range with start > end spans midnight.
    hours: Option<Vec<(TimeOfDay, TimeOfDay)>>,
    dates: Option<DateMatcher>,
}

/// `weekdays`: bit `i` set for weekday `i` (Monday = 0).
fn weekday_bits(values: &OneOrMany<String>, checker: &mut Checker, path: &dyn fmt::Display) -> u8 {
    let mut bits = 0u8;
    for (index, value) in values.as_slice().iter().enumerate() {
        let item = Item {
            parent: path,
            listed: values.is_list(),
            index,
        };
        match parse_weekdays(value) {
            Some(days) => bits |= days,
            None => checker.error(
                item,
                format!("{value:?} is not a weekday or range (mon, mon-fri, sat-sun)"),
            ),
        }
    }
    if values.as_slice().is_empty() {
        checker.error(path, "is an empty list, which no call matches");
    }
    bits
}

/// `hours`: the ranges of the day, each `HH:MM-HH:MM`.
fn hour_ranges(
    values: &OneOrMany<String>,
    checker: &mut Checker,
    path: &dyn fmt::Display,
) -> Vec<(TimeOfDay, TimeOfDay)> {
    if values.as_slice().is_empty() {
        checker.error(path, "is an empty list, which no call matches");
    }
    values
        .as_slice()
        .iter()
        .enumerate()
        .filter_map(|(index, value)| {
            let item = Item {
                parent: path,
                listed: values.is_list(),
                index,
            };
            parse_hours(value)
                .map_err(|message| checker.error(item, format!("{value:?} {message}")))
                .ok()
        })
        .collect()
}

/// `dates`: dates and ranges of the rule's own, and `@calendar` references.
fn date_matcher(
    values: &OneOrMany<String>,
    shared: &Shared,
    checker: &mut Checker,
    path: &dyn fmt::Display,
) -> DateMatcher {
    let mut own = DateSet::default();
    let mut calendars = Vec::new();
    if values.as_slice().is_empty() {
        checker.error(path, "is an empty list, which no call matches");
    }
    for (index, value) in values.as_slice().iter().enumerate() {
        let item = Item {
            parent: path,
            listed: values.is_list(),
            index,
        };
        match value.strip_prefix('@') {
            Some(name) => match shared.calendars.get(name) {
                Some(calendar) => calendars.push(calendar.clone()),
                None => checker.error(item, format!("{value:?} names no calendar in `calendars`")),
            },
            None => {
                if let Err(message) = own.add(value) {
                    checker.error(item, format!("{value:?} {message}"));
                }
            }
        }
    }
    DateMatcher {
        own,
        calendars,
        written: written(values.as_slice()),
    }
}

impl TimeWindow {
    fn compile(
        spec: &TimeSpec,
        shared: &Shared,
        checker: &mut Checker,
        path: &dyn fmt::Display,
    ) -> TimeWindow {
        let zone = match &spec.timezone {
            Some(name) => Zone::find(name).unwrap_or_else(|| {
                checker.error(format_args!("{path}.timezone"), unknown_zone(name));
                Zone::utc()
            }),
            None => shared.zone.clone().unwrap_or_else(Zone::utc),
        };
        TimeWindow {
            zone,
            weekdays: spec.weekdays.as_ref().map_or(0b111_1111, |values| {
                weekday_bits(values, checker, &Field(path, "weekdays"))
            }),
            hours: spec
                .hours
                .as_ref()
                .map(|values| hour_ranges(values, checker, &Field(path, "hours"))),
            dates: spec
                .dates
                .as_ref()
                .map(|values| date_matcher(values, shared, checker, &Field(path, "dates"))),
        }
    }

    /// The zone whose wall clock the window reads.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// ```text
    /// "Europe/Berlin"  0b001_1111  hours?  count start end …  dates?  own count calendar… written
    /// ```
    fn encode(&self, out: &mut Writer, calendars: &mut Table<DateSet>) {
        out.str(self.zone.name());
        out.uint(u64::from(self.weekdays));
        out.bool(self.hours.is_some());
        if let Some(ranges) = &self.hours {
            out.count(ranges.len());
            for (start, end) in ranges {
                out.uint(u64::from(start.minutes()));
                out.uint(u64::from(end.minutes()));
            }
        }
        out.bool(self.dates.is_some());
        if let Some(dates) = &self.dates {
            dates.own.encode(out);
            out.count(dates.calendars.len());
            for calendar in &dates.calendars {
                out.count(calendars.number(calendar));
            }
            out.str(&dates.written);
        }
    }

    fn decode(input: &mut Reader<'_>, shared: &Decoded<'_>) -> Result<TimeWindow, DecodeError> {
        let name = input.str()?;
        // Mostly the document's own: found (and its rule parsed) once.
        let zone = match shared.zone.name() == name {
            true => shared.zone.clone(),
            false => Zone::find(name)
                .ok_or_else(|| input.error("names a time zone this worker does not know"))?,
        };
        let weekdays: u8 = input.small()?;
        if weekdays >= 1 << 7 {
            return Err(input.error("a weekday that is not one"));
        }
        let hours = match input.bool()? {
            false => None,
            true => {
                let count = input.count()?;
                let mut ranges = Vec::with_capacity(count);
                for _ in 0..count {
                    let mut time = || -> Result<TimeOfDay, DecodeError> {
                        match input.small()? {
                            minutes @ 0..=1440 => Ok(TimeOfDay::from_minutes(minutes)),
                            _ => Err(input.error("a time of day past 24:00")),
                        }
                    };
                    ranges.push((time()?, time()?));
                }
                Some(ranges)
            }
        };
        let dates = match input.bool()? {
            false => None,
            true => {
                let own = DateSet::decode(input)?;
                let count = input.count()?;
                let mut referenced = Vec::with_capacity(count);
                for _ in 0..count {
                    referenced.push(input.pick(shared.calendars)?);
                }
                Some(DateMatcher {
                    own,
                    calendars: referenced,
                    written: input.str()?.to_owned(),
                })
            }
        };
        Ok(TimeWindow {
            zone,
            weekdays,
            hours,
            dates,
        })
    }

    /// The times of day at which the window can open or close (midnight
    /// aside, when weekday and date change).
    pub fn boundaries(&self) -> impl Iterator<Item = TimeOfDay> + '_ {
        self.hours
            .iter()
            .flatten()
            .flat_map(|(start, end)| [*start, *end])
    }

    pub fn contains(&self, utc: i64) -> bool {
        let local = self.zone.to_local(utc);
        let weekday_bit = 1u8 << local.date.weekday().index();
        if self.weekdays & weekday_bit == 0 {
            return false;
        }
        if let Some(ranges) = &self.hours {
            let now = local.time;
            let inside = ranges.iter().any(|(start, end)| {
                if start < end {
                    *start <= now && now < *end
                } else {
                    now >= *start || now < *end
                }
            });
            if !inside {
                return false;
            }
        }
        self.dates
            .as_ref()
            .is_none_or(|dates| dates.contains(local.date))
    }
}

pub fn unknown_zone(name: &str) -> String {
    format!("{name:?} is not a known IANA time zone (e.g. Europe/Berlin, Europe/Vienna, America/New_York)")
}

/// `mon`, `mon-fri`, `fri-mon` (wrapping) as weekday bits.
fn parse_weekdays(text: &str) -> Option<u8> {
    match text.split_once('-') {
        None => Weekday::parse(text).map(|day| 1 << day.index()),
        Some((first, last)) => {
            let (first, last) = (
                Weekday::parse(first)?.index(),
                Weekday::parse(last)?.index(),
            );
            let mut bits = 0u8;
            let mut day = first;
            loop {
                bits |= 1 << day;
                if day == last {
                    break Some(bits);
                }
                day = (day + 1) % 7;
            }
        }
    }
}

/// `08:00-12:00` (end excluded); `22:00-06:00` spans midnight; `00:00-24:00` is all day.
fn parse_hours(text: &str) -> Result<(TimeOfDay, TimeOfDay), &'static str> {
    let (start, end) = text
        .split_once('-')
        .ok_or("is not a time range (HH:MM-HH:MM, e.g. 08:00-17:00)")?;
    let start =
        TimeOfDay::parse(start).ok_or("has a start that is not a time of day (00:00 to 23:59)")?;
    let end =
        TimeOfDay::parse(end).ok_or("has an end that is not a time of day (00:00 to 24:00)")?;
    if start == TimeOfDay::END_OF_DAY {
        return Err("starts at 24:00, which ends a day (use 00:00)");
    }
    if start == end {
        return Err("is empty: start and end are the same");
    }
    Ok((start, end))
}

/// Dates: single days, ranges, yearly days and yearly ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateSet {
    /// Inclusive ranges of full dates (a single day is a range of one).
    ranges: Vec<(Date, Date)>,
    /// Inclusive ranges of yearly days; start > end wraps the new year.
    yearly: Vec<(MonthDay, MonthDay)>,
}

impl DateSet {
    /// Compiles a calendar (`calendars.name`).
    pub fn compile(values: &[String], checker: &mut Checker, path: &dyn fmt::Display) -> DateSet {
        let mut set = DateSet::default();
        for (index, value) in values.iter().enumerate() {
            if let Err(message) = set.add(value) {
                checker.error(
                    format_args!("{path}[{index}]"),
                    format!("{value:?} {message}"),
                );
            }
        }
        set
    }

    fn add(&mut self, text: &str) -> Result<(), &'static str> {
        const FORMS: &str = "is not a date (2026-12-24), a range (2026-12-24..2027-01-06), \
                             a yearly date (12-25) or a yearly range (12-24..12-26)";
        if text.starts_with('@') {
            return Err("refers to a calendar, but calendars cannot contain other calendars");
        }
        let (first, last) = text.split_once("..").unwrap_or((text, text));
        if let (Some(first), Some(last)) = (Date::parse(first), Date::parse(last)) {
            if first > last {
                return Err("ends before it starts");
            }
            self.ranges.push((first, last));
            return Ok(());
        }
        if let (Some(first), Some(last)) = (MonthDay::parse(first), MonthDay::parse(last)) {
            self.yearly.push((first, last));
            return Ok(());
        }
        Err(FORMS)
    }

    /// Written as the dates it was compiled from, read back through
    /// `DateSet::add`, which keeps its checks:
    ///
    /// ```text
    /// count  "2026-12-24..2026-12-24" "12-25..12-26"
    /// ```
    pub fn encode(&self, out: &mut Writer) {
        out.count(self.ranges.len() + self.yearly.len());
        for (first, last) in &self.ranges {
            out.str(&format!("{first}..{last}"));
        }
        for (first, last) in &self.yearly {
            out.str(&format!("{first}..{last}"));
        }
    }

    pub fn decode(input: &mut Reader<'_>) -> Result<DateSet, DecodeError> {
        let mut set = DateSet::default();
        for _ in 0..input.count()? {
            let text = input.str()?;
            set.add(text)
                .map_err(|_| input.error("a date or range that is not valid"))?;
        }
        Ok(set)
    }

    pub fn contains(&self, date: Date) -> bool {
        let day = date.month_day();
        self.ranges
            .iter()
            .any(|(first, last)| *first <= date && date <= *last)
            || self.yearly.iter().any(|(first, last)| {
                if first <= last {
                    *first <= day && day <= *last
                } else {
                    day >= *first || day <= *last
                }
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct DateMatcher {
    own: DateSet,
    calendars: Vec<Arc<DateSet>>,
    written: String,
}

impl DateMatcher {
    fn contains(&self, date: Date) -> bool {
        self.own.contains(date)
            || self
                .calendars
                .iter()
                .any(|calendar| calendar.contains(date))
    }
}
