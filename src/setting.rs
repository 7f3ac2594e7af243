//! A setting's value as the worker's environment gives it (a string, or
//! nothing), read the one way every setting is read: trimmed, blank is not
//! set, and a value that cannot be taken is a problem naming the setting,
//! with what is used instead.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::log::clip;

/// A whole number within `range`, or `default`: not set or blank silently,
/// anything else with a problem saying so.
pub fn number<T>(
    name: &str,
    value: Option<&str>,
    range: RangeInclusive<T>,
    default: T,
) -> (T, Option<String>)
where
    T: FromStr + PartialOrd + Display + Copy,
{
    let Some(text) = value.map(str::trim).filter(|text| !text.is_empty()) else {
        return (default, None);
    };
    match text.parse::<T>() {
        Ok(number) if range.contains(&number) => (number, None),
        _ => (
            default,
            Some(format!(
                "{name}={:?} is not a whole number from {} to {}: {default} is used",
                clip(text),
                range.start(),
                range.end()
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_within_their_range_or_the_default_with_a_problem() {
        assert_eq!(number("N", None, 1..=9, 5), (5, None));
        assert_eq!(number("N", Some("  "), 1..=9, 5), (5, None));
        assert_eq!(number("N", Some(" 7 "), 1..=9, 5), (7, None));
        for bad in ["0", "10", "-1", "x", "7.5", "99999999999999999999"] {
            let (value, problem) = number("N", Some(bad), 1u32..=9, 5);
            assert_eq!(value, 5, "{bad}");
            assert_eq!(
                problem.unwrap(),
                format!("N={bad:?} is not a whole number from 1 to 9: 5 is used")
            );
        }
    }
}
