//! IANA time zones, by their current rule.
//!
//! A rules document names a zone (`"timezone": "Europe/Berlin"`); office
//! hours are read on that zone's wall clock. Each zone is kept as the POSIX
//! TZ rule that ends its tzdata file (`CET-1CEST,M3.5.0,M10.5.0/3`: one
//! hour east of UTC, daylight time from the last Sunday of March 02:00 to
//! the last Sunday of October 03:00), which is exact for the present and
//! the future the tzdata knows, in ~10 KB instead of a full database.
//! Dates before a zone's last rule change may be off by its old offsets.
//!
//! Converting an instant to wall-clock time is always unambiguous. The other
//! way (`simulate --at 2026-03-29T02:30`) meets the hour that does not exist
//! in spring and the hour that happens twice in autumn; [`Zone::from_local`]
//! says which case it met.

use std::fmt;

use crate::time::calendar::{days_in_month, is_leap_year, Date, LocalDateTime};
use crate::time::zones_table::{RULES, ZONES};

/// A time zone: a standard offset and, where observed, daylight saving time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    name: &'static str,
    /// Seconds east of UTC in standard time.
    standard: i32,
    dst: Option<Dst>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dst {
    /// Seconds east of UTC in daylight time.
    offset: i32,
    /// Given in local standard time.
    start: Transition,
    /// Given in local daylight time.
    end: Transition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transition {
    day: RuleDay,
    /// Seconds after local midnight; may be negative or past 24 h.
    time: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleDay {
    /// `Jn`: day 1..=365, February 29 never counted.
    JulianNoLeap(u16),
    /// `n`: day 0..=365, February 29 counted.
    JulianZero(u16),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    MonthWeekDay { month: u8, week: u8, weekday: u8 },
}

/// How a wall-clock reading maps to an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalResult {
    /// Exactly one instant.
    Single,
    /// The reading happens twice (autumn); the earlier instant was taken.
    Ambiguous,
    /// The reading does not exist (spring); it was read as if the clock had
    /// not yet been moved forward, i.e. the instant the gap's length later.
    Skipped,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC",
            standard: 0,
            dst: None,
        }
    }

    /// The zone of this IANA name (`Europe/Berlin`), if the table has it.
    pub fn find(name: &str) -> Option<Zone> {
        let index = ZONES.binary_search_by(|(zone, _)| (*zone).cmp(name)).ok()?;
        let (name, rule) = ZONES.get(index)?;
        let mut zone = parse_posix(RULES.get(usize::from(*rule))?)?;
        zone.name = name;
        Some(zone)
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Seconds east of UTC at the instant `utc` (seconds since the epoch).
    pub fn offset_at(&self, utc: i64) -> i32 {
        let Some(dst) = self.dst else {
            return self.standard;
        };
        let year = LocalDateTime::from_seconds_since_epoch(utc + i64::from(self.standard))
            .date
            .year;
        let start = transition_utc(year, dst.start, self.standard);
        let end = transition_utc(year, dst.end, dst.offset);
        let in_dst = if start < end {
            utc >= start && utc < end
        } else {
            // Southern hemisphere: daylight time spans the new year.
            utc < end || utc >= start
        };
        if in_dst {
            dst.offset
        } else {
            self.standard
        }
    }

    /// The wall-clock reading at the instant `utc`.
    pub fn to_local(&self, utc: i64) -> LocalDateTime {
        LocalDateTime::from_seconds_since_epoch(utc + i64::from(self.offset_at(utc)))
    }

    /// The instant of a wall-clock reading, and whether it was ambiguous or
    /// skipped (see [`LocalResult`]).
    pub fn from_local(&self, local: LocalDateTime) -> (i64, LocalResult) {
        let wall = local.seconds_since_epoch();
        let offsets = match self.dst {
            None => return (wall - i64::from(self.standard), LocalResult::Single),
            Some(dst) => [dst.offset, self.standard],
        };
        // Larger offset first: its instant is the earlier one.
        let (first, second) = if offsets[0] >= offsets[1] {
            (offsets[0], offsets[1])
        } else {
            (offsets[1], offsets[0])
        };
        let fits = |offset: i32| {
            let utc = wall - i64::from(offset);
            (self.offset_at(utc) == offset).then_some(utc)
        };
        match (fits(first), fits(second)) {
            (Some(earlier), Some(_)) => (earlier, LocalResult::Ambiguous),
            (Some(utc), None) | (None, Some(utc)) => (utc, LocalResult::Single),
            // In the gap: read with the offset in force before it.
            (None, None) => (wall - i64::from(second), LocalResult::Skipped),
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The instant (UTC seconds) of a transition in `year`, whose time is given
/// in the local time of `offset`.
fn transition_utc(year: i32, transition: Transition, offset: i32) -> i64 {
    let day_of_year = match transition.day {
        RuleDay::JulianNoLeap(day) => {
            let day = i64::from(day) - 1;
            if is_leap_year(year) && day >= 59 {
                day + 1
            } else {
                day
            }
        }
        RuleDay::JulianZero(day) => i64::from(day),
        RuleDay::MonthWeekDay {
            month,
            week,
            weekday,
        } => {
            let first = Date {
                year,
                month,
                day: 1,
            };
            let first_weekday = (first.days_since_epoch() + 4).rem_euclid(7); // 0 = Sunday
            let mut day =
                1 + (i64::from(weekday) - first_weekday).rem_euclid(7) + 7 * (i64::from(week) - 1);
            while day > i64::from(days_in_month(year, month)) {
                day -= 7;
            }
            Date {
                year,
                month,
                day: day as u8,
            }
            .days_since_epoch()
                - Date {
                    year,
                    month: 1,
                    day: 1,
                }
                .days_since_epoch()
        }
    };
    let jan_first = Date {
        year,
        month: 1,
        day: 1,
    }
    .days_since_epoch();
    (jan_first + day_of_year) * 86_400 + i64::from(transition.time) - i64::from(offset)
}

/// Parses a POSIX TZ rule (RFC 8536 §3.3): `std offset [dst [offset] [,start[/time],end[/time]]]`.
fn parse_posix(rule: &str) -> Option<Zone> {
    let mut rest = rule;
    skip_name(&mut rest)?;
    let standard = -parse_offset(&mut rest)?;
    if rest.is_empty() {
        return Some(Zone {
            name: "",
            standard,
            dst: None,
        });
    }
    skip_name(&mut rest)?;
    let offset = if rest.is_empty() || rest.starts_with(',') {
        standard + 3600
    } else {
        -parse_offset(&mut rest)?
    };
    let (start, end) = match rest.strip_prefix(',') {
        Some(rules) => {
            let (start, end) = rules.split_once(',')?;
            (parse_transition(start)?, parse_transition(end)?)
        }
        // POSIX leaves the default to the implementation; tzdata always
        // writes rules, so this is only for completeness (US rules).
        None => (parse_transition("M3.2.0")?, parse_transition("M11.1.0")?),
    };
    Some(Zone {
        name: "",
        standard,
        dst: Some(Dst { offset, start, end }),
    })
}

/// `CET` or `<+0330>`.
fn skip_name(rest: &mut &str) -> Option<()> {
    let end = if let Some(quoted) = rest.strip_prefix('<') {
        quoted.find('>')? + 2
    } else {
        rest.find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len())
    };
    if end < 3 {
        return None;
    }
    *rest = rest.get(end..)?;
    Some(())
}

/// `[+-]hh[:mm[:ss]]` in seconds, with POSIX's sign (positive west of UTC).
fn parse_offset(rest: &mut &str) -> Option<i32> {
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '+' | '-' | ':')))
        .unwrap_or(rest.len());
    let value = parse_hms(rest.get(..end)?)?;
    *rest = rest.get(end..)?;
    Some(value)
}

fn parse_hms(text: &str) -> Option<i32> {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(unsigned) => (-1, unsigned),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut parts = unsigned.split(':');
    let mut seconds = 0;
    for (index, scale) in [3600, 60, 1].into_iter().enumerate() {
        match parts.next() {
            Some(part)
                if !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_digit())
                    && part.len() <= 3 =>
            {
                seconds += part.parse::<i32>().ok()? * scale;
            }
            Some(_) => return None,
            None if index > 0 => break,
            None => return None,
        }
    }
    if parts.next().is_some() {
        return None;
    }
    Some(sign * seconds)
}

/// `M3.5.0/3`, `J60`, `59/-1`.
fn parse_transition(text: &str) -> Option<Transition> {
    let (day, time) = match text.split_once('/') {
        Some((day, time)) => (day, parse_hms(time)?),
        None => (text, 2 * 3600),
    };
    let day = if let Some(mwd) = day.strip_prefix('M') {
        let mut fields = mwd.split('.').map(|field| field.parse::<u8>().ok());
        let (month, week, weekday) = (fields.next()??, fields.next()??, fields.next()??);
        if fields.next().is_some()
            || !(1..=12).contains(&month)
            || !(1..=5).contains(&week)
            || weekday > 6
        {
            return None;
        }
        RuleDay::MonthWeekDay {
            month,
            week,
            weekday,
        }
    } else if let Some(julian) = day.strip_prefix('J') {
        let day = julian
            .parse::<u16>()
            .ok()
            .filter(|day| (1..=365).contains(day))?;
        RuleDay::JulianNoLeap(day)
    } else {
        RuleDay::JulianZero(day.parse::<u16>().ok().filter(|day| *day <= 365)?)
    };
    Some(Transition { day, time })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        Zone::utc()
            .from_local(LocalDateTime::parse(text).unwrap())
            .0
    }

    fn local(zone: &Zone, utc_text: &str) -> String {
        zone.to_local(utc(utc_text)).to_string()
    }

    #[test]
    fn every_table_rule_parses_and_names_are_sorted() {
        for (name, _) in ZONES {
            assert!(Zone::find(name).is_some(), "{name}");
        }
        assert!(ZONES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert!(Zone::find("Europe/Atlantis").is_none());
        assert!(Zone::find("europe/berlin").is_none());
    }

    #[test]
    fn berlin_standard_and_summer_time() {
        let berlin = Zone::find("Europe/Berlin").unwrap();
        assert_eq!(berlin.name(), "Europe/Berlin");
        assert_eq!(local(&berlin, "2026-01-15T12:00"), "2026-01-15T13:00:00");
        assert_eq!(local(&berlin, "2026-07-15T12:00"), "2026-07-15T14:00:00");
    }

    #[test]
    fn berlin_spring_forward_2026() {
        // Last Sunday of March 2026 is the 29th: 01:00 UTC, 02:00 CET → 03:00 CEST.
        let berlin = Zone::find("Europe/Berlin").unwrap();
        assert_eq!(local(&berlin, "2026-03-29T00:59:59"), "2026-03-29T01:59:59");
        assert_eq!(local(&berlin, "2026-03-29T01:00"), "2026-03-29T03:00:00");
        // 02:30 does not exist that night.
        let (instant, kind) = berlin.from_local(LocalDateTime::parse("2026-03-29T02:30").unwrap());
        assert_eq!(kind, LocalResult::Skipped);
        assert_eq!(local(&berlin, "2026-03-29T01:30"), "2026-03-29T03:30:00");
        assert_eq!(instant, utc("2026-03-29T01:30"));
        let (instant, kind) = berlin.from_local(LocalDateTime::parse("2026-03-29T03:00").unwrap());
        assert_eq!(
            (instant, kind),
            (utc("2026-03-29T01:00"), LocalResult::Single)
        );
    }

    #[test]
    fn berlin_fall_back_2026() {
        // Last Sunday of October 2026 is the 25th: 01:00 UTC, 03:00 CEST → 02:00 CET.
        let berlin = Zone::find("Europe/Berlin").unwrap();
        assert_eq!(local(&berlin, "2026-10-25T00:30"), "2026-10-25T02:30:00");
        assert_eq!(local(&berlin, "2026-10-25T01:30"), "2026-10-25T02:30:00");
        // 02:30 happens twice; the first one is taken.
        let (instant, kind) = berlin.from_local(LocalDateTime::parse("2026-10-25T02:30").unwrap());
        assert_eq!(
            (instant, kind),
            (utc("2026-10-25T00:30"), LocalResult::Ambiguous)
        );
        let (instant, kind) = berlin.from_local(LocalDateTime::parse("2026-10-25T03:30").unwrap());
        assert_eq!(
            (instant, kind),
            (utc("2026-10-25T02:30"), LocalResult::Single)
        );
    }

    #[test]
    fn other_rule_shapes() {
        // Southern hemisphere: Sydney is on daylight time in January.
        let sydney = Zone::find("Australia/Sydney").unwrap();
        assert_eq!(local(&sydney, "2026-01-15T00:00"), "2026-01-15T11:00:00");
        assert_eq!(local(&sydney, "2026-07-15T00:00"), "2026-07-15T10:00:00");
        // Half-hour offset without daylight time.
        let kolkata = Zone::find("Asia/Kolkata").unwrap();
        assert_eq!(local(&kolkata, "2026-06-01T00:00"), "2026-06-01T05:30:00");
        // Negative offsets, US rules: New York switches on 2026-03-08 at 07:00 UTC.
        let new_york = Zone::find("America/New_York").unwrap();
        assert_eq!(local(&new_york, "2026-03-08T06:59"), "2026-03-08T01:59:00");
        assert_eq!(local(&new_york, "2026-03-08T07:00"), "2026-03-08T03:00:00");
        // Transition times outside 0..24 h (America/Godthab/Nuuk: M3.5.0/-2).
        let nuuk = Zone::find("America/Nuuk").unwrap();
        assert!(nuuk.dst.is_some());
        assert_eq!(Zone::find("UTC").unwrap().offset_at(0), 0);
    }

    #[test]
    fn posix_parser_edge_cases() {
        let zone = parse_posix("<+0330>-3:30").unwrap();
        assert_eq!(zone.standard, 3 * 3600 + 1800);
        let zone = parse_posix("EST5EDT").unwrap();
        assert_eq!(zone.dst.unwrap().offset, -4 * 3600);
        let zone = parse_posix("XXX3YYY,J60/25,300").unwrap();
        assert_eq!(zone.dst.unwrap().start.time, 25 * 3600);
        for bad in [
            "",
            "CE-1",
            "CET",
            "CET-1CEST,M13.1.0,M10.5.0",
            "CET-1CEST,M3.5.0",
            "CET-1CEST,J0,J10",
            "CET-x",
        ] {
            assert_eq!(parse_posix(bad), None, "{bad}");
        }
    }
}

/// Against Python's zoneinfo reading the system tzdata (an independent
/// implementation): every offset change of 2026–2028, to the second.
#[cfg(test)]
mod cross_check {
    use super::Zone;

    #[test]
    fn offsets_agree_with_tzdata() {
        let fixture = include_str!("../../tests/fixtures/zone-offsets.tsv");
        let mut checked = 0;
        let mut wrong = Vec::new();
        for line in fixture.lines().filter(|line| !line.starts_with('#')) {
            let fields: Vec<&str> = line.split('\t').collect();
            let zone = Zone::find(fields[0]).unwrap();
            let (utc, expected): (i64, i32) =
                (fields[1].parse().unwrap(), fields[2].parse().unwrap());
            if zone.offset_at(utc) != expected {
                wrong.push(format!("{line}: got {}", zone.offset_at(utc)));
            }
            checked += 1;
        }
        assert!(checked > 800, "{checked}");
        assert!(
            wrong.is_empty(),
            "{} of {checked} wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}
