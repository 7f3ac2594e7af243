//! Phone numbers as sipgate.io writes them.
//!
//! On the wire a number is E.164 without the `+`: `492111234567`. A caller
//! that withholds its number is sent as `from=anonymous`.

use std::fmt;

/// The longest number E.164 allows (country code included).
const MAX_DIGITS: usize = 15;
/// Shorter strings are not dialable international numbers.
const MIN_DIGITS: usize = 3;

/// An international number in E.164 form, stored as its digits without `+`.
///
/// This is the only kind of number the router ever writes into a `<Dial>`
/// (`<Number>4915799912345</Number>`, `callerId="492111234567"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// Why a string is not an E.164 number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    Empty,
    NotDigits,
    LeadingZero,
    TooShort,
    TooLong,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self {
            NumberError::Empty => "is empty",
            NumberError::NotDigits => "must be digits only (E.164 without `+`, e.g. 4915791234567)",
            NumberError::LeadingZero => {
                "starts with 0: write it internationally, country code first (0211… → 49211…)"
            }
            NumberError::TooShort => "is too short for an E.164 number",
            NumberError::TooLong => "is longer than the 15 digits E.164 allows",
        };
        f.write_str(why)
    }
}

impl std::error::Error for NumberError {}

impl E164 {
    /// Parses `4915791234567` (a leading `+` is accepted and dropped).
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let digits = text.strip_prefix('+').unwrap_or(text);
        if digits.is_empty() {
            return Err(NumberError::Empty);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NumberError::NotDigits);
        }
        if digits.starts_with('0') {
            return Err(NumberError::LeadingZero);
        }
        if digits.len() < MIN_DIGITS {
            return Err(NumberError::TooShort);
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooLong);
        }
        Ok(E164(digits.to_owned()))
    }

    /// The digits, without `+`, exactly as sipgate expects them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits, as [`E164::as_str`], kept without a copy.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One end of a call as it appears in a push (`from`, `to`, `diversion`,
/// `answeringNumber`).
///
/// Parsing is lenient on purpose: a push from sipgate must never be refused
/// because a number looks unusual, so anything that is neither `anonymous`
/// nor E.164 is kept verbatim as [`Party::Other`] (it simply matches no
/// per-number route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// `from=anonymous`: the caller withheld its number.
    Anonymous,
    Number(E164),
    /// Anything else sipgate might send (an extension, a national number, …).
    Other(String),
}

impl Party {
    pub fn parse(text: &str) -> Party {
        if text.eq_ignore_ascii_case("anonymous") {
            return Party::Anonymous;
        }
        match E164::parse(text) {
            Ok(number) => Party::Number(number),
            Err(_) => Party::Other(text.to_owned()),
        }
    }

    pub fn number(&self) -> Option<&E164> {
        match self {
            Party::Number(number) => Some(number),
            _ => None,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Anonymous => f.write_str("anonymous"),
            Party::Number(number) => number.fmt(f),
            Party::Other(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164_digits_with_or_without_plus() {
        assert_eq!(
            E164::parse("4915791234567").unwrap().as_str(),
            "4915791234567"
        );
        assert_eq!(
            E164::parse("+492111234567").unwrap().as_str(),
            "492111234567"
        );
        assert_eq!(
            E164::parse("123456789012345").unwrap().as_str(),
            "123456789012345"
        );
    }

    #[test]
    fn refuses_what_sipgate_cannot_dial() {
        assert_eq!(E164::parse(""), Err(NumberError::Empty));
        assert_eq!(E164::parse("+"), Err(NumberError::Empty));
        assert_eq!(E164::parse("0211123456"), Err(NumberError::LeadingZero));
        assert_eq!(E164::parse("49 211 123"), Err(NumberError::NotDigits));
        assert_eq!(E164::parse("49211-123"), Err(NumberError::NotDigits));
        assert_eq!(E164::parse("４９２１１"), Err(NumberError::NotDigits));
        assert_eq!(E164::parse("49"), Err(NumberError::TooShort));
        assert_eq!(E164::parse("1234567890123456"), Err(NumberError::TooLong));
        assert_eq!(E164::parse("++49211"), Err(NumberError::NotDigits));
    }

    #[test]
    fn party_keeps_anonymous_numbers_and_anything_else() {
        assert_eq!(Party::parse("anonymous"), Party::Anonymous);
        assert_eq!(Party::parse("Anonymous"), Party::Anonymous);
        assert_eq!(
            Party::parse("492111234567"),
            Party::Number(E164::parse("492111234567").unwrap())
        );
        assert_eq!(Party::parse("e12"), Party::Other("e12".into()));
        assert_eq!(Party::parse("02111234"), Party::Other("02111234".into()));
        assert_eq!(Party::parse("e12").to_string(), "e12");
    }
}
