//! A number's schedule: what a call to it gets over a stretch of days,
//! as slices of time with one outcome each — the console's week view.
//! Every slice is decided by [`simulate`](super::simulate)'s own
//! evaluation, at its first instant.
//!
//! ```json
//! {"from": "492111234567", "to": "4921100000", "since": "2026-12-21", "days": 7}
//! ```
//! answers
//! ```json
//! {"timezone": "Europe/Berlin", "since": "2026-12-21T00:00:00", "until": "2026-12-28T00:00:00",
//!  "slices": [{"start": "2026-12-21T00:00:00", "end": "2026-12-21T08:00:00",
//!              "startUtc": "2026-12-20T23:00:00Z", "minutes": 480,
//!              "rule": "after-hours", "answer": "menu", "xml": "…"}, …]}
//! ```
//!
//! Only `time` conditions change while the rest of a call stays, and they
//! read a wall clock in minutes: a window opens or closes only when its
//! zone's clock reaches one of its hours, passes midnight (weekday and
//! date), or is moved by a DST switch. Those instants are the only ones
//! evaluated — about ten a day instead of 1,440 — and the slices are
//! exactly what a call in each minute would get (a test compares them
//! with a minute-by-minute evaluation).

use serde::{Deserialize, Serialize};

use super::decision::Question;
use super::simulate::{Against, Call, CallInput, InputError};
use super::Rule;
use crate::time::calendar::{Date, LocalDateTime, TimeOfDay};
use crate::time::zone::{LocalResult, Zone};

/// The longest schedule asked for at once: a month, e.g. the holidays.
pub const MAX_DAYS: u32 = 31;
const DEFAULT_DAYS: u32 = 7;
const DAY: i64 = 86_400;

/// What to chart: a call (as [`CallInput`], without a time) and the days.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScheduleInput {
    pub from: String,
    pub to: String,
    /// `in` (the default) or `out`.
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub diversion: Option<String>,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub user_ids: Vec<String>,
    /// The first day (`2026-12-21`) or instant (`2026-12-21T12:00`) on the
    /// document's wall clock. Default: today, from midnight.
    #[serde(default)]
    pub since: Option<String>,
    /// How many days, 1 to [`MAX_DAYS`]. Default: 7.
    #[serde(default)]
    pub days: Option<u32>,
}

impl ScheduleInput {
    fn call(&self) -> CallInput {
        CallInput {
            from: self.from.clone(),
            to: self.to.clone(),
            direction: self.direction.clone().unwrap_or_else(|| "in".to_owned()),
            diversion: self.diversion.clone(),
            users: self.users.clone(),
            user_ids: self.user_ids.clone(),
            ..CallInput::default()
        }
    }

    /// The digits of the number whose rules apply, which name the shard.
    pub fn sipgate_number(&self) -> Option<String> {
        self.call().sipgate_number()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// The published version charted (absent for a file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The document's zone: every local time below is on its clock.
    pub timezone: &'static str,
    pub since: String,
    pub until: String,
    pub slices: Vec<Slice>,
}

/// A stretch of time in which every call gets the same answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Slice {
    /// Local wall-clock time, `2026-12-21T08:00:00`.
    pub start: String,
    pub end: String,
    pub start_utc: String,
    pub minutes: i64,
    /// The deciding rule's id (none: the kill switch, or no rule matched).
    pub rule: Option<String>,
    /// What the action is, one word (`dial`, `menu`, …).
    pub answer: &'static str,
    /// Set when the kill switch answered.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub kill: bool,
    /// The exact XML a call in this slice gets.
    pub xml: String,
}

/// Charts `input` against `against` from `since` on.
pub fn schedule(
    against: &Against<'_>,
    input: &ScheduleInput,
    now_utc: i64,
) -> Result<Schedule, InputError> {
    let zone = against.zone();
    let days = input.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(InputError(format!(
            "days takes 1 to {MAX_DAYS}, not {days}"
        )));
    }
    let since_local = match input.since.as_deref() {
        None => LocalDateTime {
            time: TimeOfDay::MIDNIGHT,
            second: 0,
            ..zone.to_local(now_utc)
        },
        Some(text) => LocalDateTime::parse(text)
            .or_else(|| {
                Date::parse(text).map(|date| LocalDateTime {
                    date,
                    time: TimeOfDay::MIDNIGHT,
                    second: 0,
                })
            })
            .ok_or_else(|| {
                InputError(format!(
                    "since must be a day like 2026-12-21 or a time like 2026-12-21T08:00, not {text:?}"
                ))
            })?,
    };
    let until_local = LocalDateTime::from_seconds_since_epoch(
        since_local.seconds_since_epoch() + i64::from(days) * DAY,
    );
    let start = zone.from_local(since_local).0;
    let end = zone.from_local(until_local).0;

    let call_input = input.call();
    let number = call_input.sipgate_number();
    let applying: Vec<&Rule> = against
        .rules
        .map(|rules| {
            let own = number
                .as_deref()
                .and_then(|number| rules.numbers.get(number));
            rules
                .global
                .iter()
                .chain(own.into_iter().flatten())
                .chain(&rules.default)
                .collect()
        })
        .unwrap_or_default();

    let mut slices: Vec<Slice> = Vec::new();
    let instants = change_points(&applying, &zone, start, end);
    for (index, &at) in instants.iter().enumerate() {
        let until = instants.get(index + 1).copied().unwrap_or(end);
        let call = Call::parse(&call_input, &zone, at)?;
        let question = Question::Call {
            call: &call.call,
            utc: call.utc,
        };
        let decision = against.decide(&question);
        let rule = decision.rule().map(str::to_owned);
        let xml = decision.answer.xml();
        match slices.last_mut() {
            Some(last) if last.rule == rule && last.xml == xml => {
                last.end = zone.to_local(until).to_string();
                last.minutes += (until - at) / 60;
            }
            _ => slices.push(Slice {
                start: zone.to_local(at).to_string(),
                end: zone.to_local(until).to_string(),
                start_utc: format!("{}Z", LocalDateTime::from_seconds_since_epoch(at)),
                minutes: (until - at) / 60,
                rule,
                answer: decision.answer.action_name(),
                kill: against.kill.is_some(),
                xml: xml.into_owned(),
            }),
        }
    }
    Ok(Schedule {
        version: against.version,
        timezone: zone.name(),
        since: since_local.to_string(),
        until: until_local.to_string(),
        slices,
    })
}

/// Every instant in `[start, end)` at which one of `rules`' time windows
/// may open or close, with `start` first: its zone's clock reaching one of
/// its hours (both times, when the clocks go back) or midnight, and its
/// zone's DST switches. Between two of them no window changes.
fn change_points(rules: &[&Rule], zone: &Zone, start: i64, end: i64) -> Vec<i64> {
    // The zones read, each with the minutes of the day that matter (a
    // bit per minute, 00:00 to 24:00: in order and each once, unsorted).
    let mut clocks: Vec<(Zone, Minutes)> = vec![(zone.clone(), Minutes::default())];
    for window in rules.iter().flat_map(|rule| rule.when.time_windows()) {
        if !clocks.iter().any(|(known, _)| known == window.zone()) {
            clocks.push((window.zone().clone(), Minutes::default()));
        }
        if let Some((_, minutes)) = clocks.iter_mut().find(|(known, _)| known == window.zone()) {
            window.boundaries().for_each(|time| minutes.insert(time));
        }
    }
    // Sorted as (seconds after `floor`, 0): the pairs the shards' order
    // sorts, so the wasm holds one sort for both.
    let floor = start - 2 * DAY;
    let mut instants: Vec<(u64, u64)> = vec![(2 * DAY as u64, 0)];
    let mut add = |at: i64| {
        if start <= at && at < end {
            instants.push(((at - floor) as u64, 0));
        }
    };
    for (zone, minutes) in clocks {
        // A day either side: a clock ahead of or behind UTC.
        let first = zone.to_local(start).date.days_since_epoch() - 1;
        let last = zone.to_local(end).date.days_since_epoch() + 1;
        for day in first..=last {
            let date = Date::from_days_since_epoch(day);
            let times = (0..=24 * 60u16)
                .map(TimeOfDay::from_minutes)
                .filter(|&time| time == TimeOfDay::MIDNIGHT || minutes.contains(time));
            for time in times {
                let local = LocalDateTime {
                    date,
                    time,
                    second: 0,
                };
                let (utc, kind) = zone.from_local(local);
                add(utc);
                if kind == LocalResult::Ambiguous {
                    // The same reading once more, after the clocks went back.
                    let later = utc + i64::from(zone.offset_at(utc) - zone.offset_at(utc + DAY));
                    if zone.to_local(later) == local {
                        add(later);
                    }
                }
            }
            // A DST switch during the day (local midnight to midnight).
            let (from, to) = (day * DAY - 14 * 3600, (day + 1) * DAY + 14 * 3600);
            if zone.offset_at(from) != zone.offset_at(to) {
                add(switch_between(&zone, from, to));
            }
        }
    }
    instants.sort_unstable();
    instants.dedup();
    instants
        .into_iter()
        .map(|(after, _)| floor + after as i64)
        .collect()
}

/// A set of times of day: a bit per minute, 00:00 to 24:00.
#[derive(Default)]
struct Minutes([u64; 23]);

impl Minutes {
    fn insert(&mut self, time: TimeOfDay) {
        let minute = usize::from(time.minutes());
        if let Some(word) = self.0.get_mut(minute / 64) {
            *word |= 1 << (minute % 64);
        }
    }

    fn contains(&self, time: TimeOfDay) -> bool {
        let minute = usize::from(time.minutes());
        self.0
            .get(minute / 64)
            .is_some_and(|word| word >> (minute % 64) & 1 == 1)
    }
}

/// The first second at which `zone`'s offset differs from the one at
/// `from`, found by halving `[from, to]` (the offsets at its ends differ).
fn switch_between(zone: &Zone, mut from: i64, mut to: i64) -> i64 {
    let before = zone.offset_at(from);
    while to - from > 1 {
        let middle = from + (to - from) / 2;
        if zone.offset_at(middle) == before {
            from = middle;
        } else {
            to = middle;
        }
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::url::SelfUrl;
    use crate::rules::load;
    use crate::rules::RuleSet;

    fn rules(json: &str) -> RuleSet {
        load(json).expect("a valid document").rules
    }

    fn base() -> SelfUrl {
        SelfUrl::from_request_url("https://router.example.com/").expect("a URL")
    }

    /// Charts `input` against a document alone.
    fn chart(rules: &RuleSet, input: &ScheduleInput, now: i64) -> Result<Schedule, InputError> {
        schedule(&Against::document(rules, &base()), input, now)
    }

    fn utc(text: &str) -> i64 {
        Zone::utc()
            .from_local(LocalDateTime::parse(text).expect("a time"))
            .0
    }

    fn input(since: &str, days: u32) -> ScheduleInput {
        ScheduleInput {
            from: "492111234567".to_owned(),
            to: "4921100000".to_owned(),
            since: Some(since.to_owned()),
            days: Some(days),
            ..ScheduleInput::default()
        }
    }

    /// What a call in each minute gets, evaluated one minute at a time.
    fn minute_by_minute(rules: &RuleSet, input: &ScheduleInput) -> Vec<(i64, Option<String>)> {
        let chart = chart(rules, input, 0).expect("charted");
        let start = utc(chart.slices[0].start_utc.trim_end_matches('Z'));
        let minutes: i64 = chart.slices.iter().map(|slice| slice.minutes).sum();
        let call = input.call();
        (0..minutes)
            .map(|minute| {
                let at = start + minute * 60;
                let call = Call::parse(&call, &rules.zone, at).expect("a call");
                let question = Question::Call {
                    call: &call.call,
                    utc: at,
                };
                let base = base();
                let decision = Against::document(rules, &base).decide(&question);
                (at, decision.rule().map(str::to_owned))
            })
            .collect()
    }

    /// The slices, expanded to one entry per minute.
    fn expanded(rules: &RuleSet, input: &ScheduleInput) -> Vec<(i64, Option<String>)> {
        let chart = chart(rules, input, 0).expect("charted");
        chart
            .slices
            .iter()
            .flat_map(|slice| {
                let start = utc(slice.start_utc.trim_end_matches('Z'));
                (0..slice.minutes).map(move |minute| (start + minute * 60, slice.rule.clone()))
            })
            .collect()
    }

    fn office() -> RuleSet {
        rules(include_str!("../../examples/office.json"))
    }

    #[test]
    fn a_week_of_the_office_is_its_hours_lunch_and_evenings() {
        let chart = chart(&office(), &input("2026-12-14", 7), 0).expect("charted");
        assert_eq!(chart.timezone, "Europe/Berlin");
        assert_eq!(chart.since, "2026-12-14T00:00:00");
        assert_eq!(chart.until, "2026-12-21T00:00:00");
        let monday: Vec<(&str, &str, Option<&str>)> = chart
            .slices
            .iter()
            .take(5)
            .map(|slice| {
                (
                    slice.start.as_str(),
                    slice.end.as_str(),
                    slice.rule.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            monday,
            [
                (
                    "2026-12-14T00:00:00",
                    "2026-12-14T08:00:00",
                    Some("after-hours")
                ),
                (
                    "2026-12-14T08:00:00",
                    "2026-12-14T12:00:00",
                    Some("business-hours")
                ),
                (
                    "2026-12-14T12:00:00",
                    "2026-12-14T13:00:00",
                    Some("lunch-break")
                ),
                (
                    "2026-12-14T13:00:00",
                    "2026-12-14T17:00:00",
                    Some("business-hours")
                ),
                (
                    "2026-12-14T17:00:00",
                    "2026-12-15T08:00:00",
                    Some("after-hours")
                ),
            ]
        );
        assert_eq!(chart.slices[0].start_utc, "2026-12-13T23:00:00Z");
        assert_eq!(chart.slices[1].answer, "dial");
        assert!(chart.slices[1].xml.contains("4921100001"));
        // Friday evening to Monday morning is one slice, to the end of the chart.
        let last = chart.slices.last().expect("slices");
        assert_eq!(
            (last.start.as_str(), last.end.as_str(), last.minutes),
            ("2026-12-18T17:00:00", "2026-12-21T00:00:00", 55 * 60)
        );
        assert_eq!(chart.slices.len(), 5 * 4 + 1);
    }

    #[test]
    fn holidays_are_one_slice() {
        let chart = chart(&office(), &input("2026-12-23", 10), 0).expect("charted");
        let holidays: Vec<_> = chart
            .slices
            .iter()
            .filter(|slice| slice.rule.as_deref() == Some("holidays"))
            .map(|slice| (slice.start.as_str(), slice.end.as_str()))
            .collect();
        assert_eq!(holidays, [("2026-12-24T00:00:00", "2027-01-02T00:00:00")]);
    }

    #[test]
    fn the_slices_are_what_each_minute_gets_across_dst_switches() {
        let office = office();
        for (since, days) in [("2027-03-22", 7), ("2026-10-19", 7), ("2026-12-28", 8)] {
            let input = input(since, days);
            assert_eq!(
                expanded(&office, &input),
                minute_by_minute(&office, &input),
                "{since}"
            );
        }
        // Windows on another zone's clock, hours inside the hour repeated
        // when the clocks go back, and a window the clocks jump into.
        let night = rules(
            r#"{"timezone": "Europe/Berlin", "numbers": {"4921100000": [
                {"id": "new-york", "when": {"time": {"hours": "09:00-09:30", "timezone": "America/New_York"}}, "then": {"reject": {}}},
                {"id": "repeated", "when": {"time": {"hours": ["02:30-02:45", "23:59-00:01"]}}, "then": {"voicemail": {}}},
                {"id": "skipped", "when": {"time": {"hours": "02:40-03:30"}}, "then": {"reject": {"reason": "busy"}}},
                {"id": "else", "then": {"proceed": {}}}
            ]}}"#,
        );
        for (since, days) in [
            ("2026-10-23", 3),
            ("2027-03-26", 3),
            ("2026-11-01", 1),
            ("2027-03-12", 3),
        ] {
            let input = input(since, days);
            assert_eq!(
                expanded(&night, &input),
                minute_by_minute(&night, &input),
                "{since}"
            );
        }
        let twice = chart(&night, &input("2026-10-25", 1), 0).expect("charted");
        let repeated: Vec<&str> = twice
            .slices
            .iter()
            .filter(|slice| slice.rule.as_deref() == Some("repeated"))
            .map(|slice| slice.start_utc.as_str())
            .collect();
        // The minute after midnight, 02:30 CEST, 02:30 CET, and the minute
        // before the next midnight.
        assert_eq!(
            repeated,
            [
                "2026-10-24T22:00:00Z",
                "2026-10-25T00:30:00Z",
                "2026-10-25T01:30:00Z",
                "2026-10-25T22:59:00Z"
            ]
        );
    }

    #[test]
    fn the_kill_switch_is_one_slice() {
        let spec =
            serde_json::from_str(r#"{"dial": {"numbers": ["4915790000099"]}}"#).expect("JSON");
        let kill = crate::rules::compile_action(&spec, "kill").expect("an action");
        let office = office();
        let base = base();
        let against = Against {
            kill: Some(&kill),
            version: Some(3),
            ..Against::document(&office, &base)
        };
        let chart = schedule(&against, &input("2026-12-14", 2), 0).expect("charted");
        assert_eq!(chart.slices.len(), 1);
        assert!(chart.slices[0].kill && chart.slices[0].rule.is_none());
        assert_eq!(chart.slices[0].minutes, 2 * 24 * 60);
    }

    #[test]
    fn the_default_is_the_coming_week_from_today() {
        let mut input = input("", 7);
        input.since = None;
        input.days = None;
        let now = utc("2026-12-16T15:04:05");
        let chart = chart(&office(), &input, now).expect("charted");
        assert_eq!(
            (chart.since.as_str(), chart.until.as_str()),
            ("2026-12-16T00:00:00", "2026-12-23T00:00:00")
        );
    }

    #[test]
    fn bad_ranges_are_refused_with_what_is_accepted() {
        let office = office();
        let refused = |input: &ScheduleInput| chart(&office, input, 0).expect_err("refused").0;
        assert_eq!(
            refused(&input("2026-12-14", 0)),
            "days takes 1 to 31, not 0"
        );
        assert_eq!(
            refused(&input("2026-12-14", 32)),
            "days takes 1 to 31, not 32"
        );
        assert!(
            refused(&input("next monday", 7)).starts_with("since must be a day like 2026-12-21")
        );
        let mut out = input("2026-12-14", 1);
        out.direction = Some("sideways".to_owned());
        assert!(refused(&out).starts_with("direction must be in or out"));
    }
}
