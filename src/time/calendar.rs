//! Civil dates and times: the arithmetic the time conditions need, without
//! a date-time crate.
//!
//! Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian
//! calendar; the conversions are Howard Hinnant's `days_from_civil` /
//! `civil_from_days`, exact for every `i32` year.

use std::fmt;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    /// 1..=12
    pub month: u8,
    /// 1..=31
    pub day: u8,
}

/// Monday first, as ISO 8601 and European office hours count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// `mon`, `tue`, … or `monday`, `tuesday`, … (lowercase, as the JSON
    /// Schema says).
    pub fn parse(text: &str) -> Option<Weekday> {
        Weekday::ALL
            .into_iter()
            .find(|day| text == day.short() || text == day.long())
    }

    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn short(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    fn long(self) -> &'static str {
        match self {
            Weekday::Mon => "monday",
            Weekday::Tue => "tuesday",
            Weekday::Wed => "wednesday",
            Weekday::Thu => "thursday",
            Weekday::Fri => "friday",
            Weekday::Sat => "saturday",
            Weekday::Sun => "sunday",
        }
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

pub fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A valid date, or `None` (`2026-02-30`).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// `2026-12-24`.
    pub fn parse(text: &str) -> Option<Date> {
        let (year, rest) = text.split_once('-')?;
        let (month, day) = rest.split_once('-')?;
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        Date::new(
            digits(year)? as i32,
            digits(month)? as u8,
            digits(day)? as u8,
        )
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(self.day)
            - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
        let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u8;
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Date {
            year: year as i32,
            month,
            day,
        }
    }

    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday (index 3).
        let index = (self.days_since_epoch() + 3).rem_euclid(7);
        Weekday::ALL
            .get(index as usize)
            .copied()
            .unwrap_or(Weekday::Mon)
    }

    /// The month and day, for yearly dates (`12-25`).
    pub fn month_day(self) -> MonthDay {
        MonthDay {
            month: self.month,
            day: self.day,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A day of every year: `12-25`. February 29 is allowed (it matches in leap years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthDay {
    pub month: u8,
    pub day: u8,
}

impl MonthDay {
    /// `12-25`.
    pub fn parse(text: &str) -> Option<MonthDay> {
        let (month, day) = text.split_once('-')?;
        if month.len() != 2 || day.len() != 2 {
            return None;
        }
        let (month, day) = (digits(month)? as u8, digits(day)? as u8);
        // 2000 is a leap year: Feb 29 is a valid yearly date.
        Date::new(2000, month, day).map(|_| MonthDay { month, day })
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

/// A time of day in minutes after midnight, 0..=1440 (`24:00` ends a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    /// `08:30`; `24:00` is accepted as the end of the day.
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let (hours, minutes) = text.split_once(':')?;
        if hours.len() != 2 || minutes.len() != 2 {
            return None;
        }
        let (hours, minutes) = (digits(hours)?, digits(minutes)?);
        match (hours, minutes) {
            (24, 0) => Some(TimeOfDay::END_OF_DAY),
            (0..=23, 0..=59) => Some(TimeOfDay((hours * 60 + minutes) as u16)),
            _ => None,
        }
    }

    pub fn from_minutes(minutes: u16) -> TimeOfDay {
        TimeOfDay(minutes.min(24 * 60))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// A wall-clock reading: date, time and second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalDateTime {
    pub date: Date,
    pub time: TimeOfDay,
    pub second: u8,
}

impl LocalDateTime {
    /// Seconds since 1970-01-01T00:00 of this wall-clock reading, as if it were UTC.
    pub fn seconds_since_epoch(self) -> i64 {
        self.date.days_since_epoch() * 86_400
            + i64::from(self.time.minutes()) * 60
            + i64::from(self.second)
    }

    pub fn from_seconds_since_epoch(seconds: i64) -> LocalDateTime {
        let days = seconds.div_euclid(86_400);
        let second_of_day = seconds.rem_euclid(86_400);
        LocalDateTime {
            date: Date::from_days_since_epoch(days),
            time: TimeOfDay((second_of_day / 60) as u16),
            second: (second_of_day % 60) as u8,
        }
    }

    /// `2026-12-24T18:30` or `2026-12-24T18:30:15`.
    pub fn parse(text: &str) -> Option<LocalDateTime> {
        let (date, time) = text.split_once('T')?;
        let (hours_minutes, second) = match time.split_at_checked(5) {
            Some((hours_minutes, "")) => (hours_minutes, 0),
            Some((hours_minutes, seconds)) => {
                let seconds = seconds.strip_prefix(':').filter(|s| s.len() == 2)?;
                (hours_minutes, digits(seconds).filter(|s| *s < 60)?)
            }
            None => return None,
        };
        let time = TimeOfDay::parse(hours_minutes).filter(|time| *time != TimeOfDay::END_OF_DAY)?;
        Some(LocalDateTime {
            date: Date::parse(date)?,
            time,
            second: second as u8,
        })
    }
}

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{}:{:02}", self.date, self.time, self.second)
    }
}

/// ASCII digits as a number (no sign, no spaces).
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_across_centuries() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().days_since_epoch(), 11_017);
        assert_eq!(Date::new(1969, 12, 31).unwrap().days_since_epoch(), -1);
        for days in (-800_000..800_000).step_by(997) {
            let date = Date::from_days_since_epoch(days);
            assert_eq!(date.days_since_epoch(), days, "{date}");
            assert!(Date::new(date.year, date.month, date.day).is_some());
        }
    }

    #[test]
    fn weekdays() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().weekday(), Weekday::Thu);
        assert_eq!(Date::new(2026, 11, 30).unwrap().weekday(), Weekday::Mon);
        assert_eq!(Date::new(2026, 11, 28).unwrap().weekday(), Weekday::Sat);
        assert_eq!(Date::new(2026, 12, 24).unwrap().weekday(), Weekday::Thu);
        assert_eq!(Date::new(1969, 12, 28).unwrap().weekday(), Weekday::Sun);
        assert_eq!(Weekday::parse("friday"), Some(Weekday::Fri));
        assert_eq!(Weekday::parse("Friday"), None);
        assert_eq!(Weekday::parse("fr"), None);
    }

    #[test]
    fn parsing_dates_times_and_yearly_days() {
        assert_eq!(Date::parse("2026-12-24"), Date::new(2026, 12, 24));
        assert_eq!(Date::parse("2028-02-29"), Date::new(2028, 2, 29));
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "2026/01/01",
            "+026-01-01",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert_eq!(
            MonthDay::parse("02-29"),
            Some(MonthDay { month: 2, day: 29 })
        );
        assert_eq!(MonthDay::parse("04-31"), None);
        assert_eq!(TimeOfDay::parse("08:30").unwrap().minutes(), 510);
        assert_eq!(TimeOfDay::parse("24:00"), Some(TimeOfDay::END_OF_DAY));
        for bad in ["24:01", "25:00", "8:30", "08:60", "0830", "-1:00"] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
        let at = LocalDateTime::parse("2026-12-24T18:30").unwrap();
        assert_eq!(at.to_string(), "2026-12-24T18:30:00");
        assert_eq!(
            LocalDateTime::parse("2026-12-24T18:30:15").unwrap().second,
            15
        );
        for bad in [
            "2026-12-24 18:30",
            "2026-12-24T24:00",
            "2026-12-24T18:30:60",
            "2026-12-24T18",
        ] {
            assert_eq!(LocalDateTime::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn wall_clock_seconds_round_trip() {
        let at = LocalDateTime::parse("2026-03-29T02:30:59").unwrap();
        assert_eq!(
            LocalDateTime::from_seconds_since_epoch(at.seconds_since_epoch()),
            at
        );
        let before_epoch = LocalDateTime::from_seconds_since_epoch(-1);
        assert_eq!(before_epoch.to_string(), "1969-12-31T23:59:59");
    }
}
