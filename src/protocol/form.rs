//! `application/x-www-form-urlencoded` bodies, decoded strictly.
//!
//! sipgate sends `from=492111234567&to=4915791234567&direction=in&user%5B%5D=Alice&user%5B%5D=Bob`.
//! Keys repeat (`user[]`), so the body becomes an ordered list of pairs that
//! [`crate::protocol::push`] folds into a typed push.
//!
//! Why not the lenient WHATWG decoding that `serde_urlencoded` does: it turns
//! `%zz` into a literal and invalid UTF-8 into U+FFFD, so a garbled request
//! would be routed on a value nobody sent. Here such a body is refused with
//! the field and the reason.

use std::borrow::Cow;
use std::fmt;

/// One decoded `key=value` pair, in body order; borrowed from the body
/// unless it had escapes to decode (most pushes have none).
pub type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// A `%` not followed by two hex digits; `field` is the key when known.
    BadPercentEncoding { field: String },
    /// Percent-decoding produced bytes that are not UTF-8.
    NotUtf8 { field: String },
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::BadPercentEncoding { field } => write!(
                f,
                "malformed percent-encoding in field `{field}` (a % must be followed by two hex digits)"
            ),
            FormError::NotUtf8 { field } => write!(f, "field `{field}` is not valid UTF-8"),
        }
    }
}

impl std::error::Error for FormError {}

/// Decodes a whole body into pairs. Empty segments (`a=1&&b=2`, a trailing
/// `&`) are skipped as browsers do; a segment without `=` is a key with an
/// empty value.
pub fn decode(body: &[u8]) -> Result<Vec<Pair<'_>>, FormError> {
    body.split(|byte| *byte == b'&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (raw_key, raw_value) = match segment.iter().position(|byte| *byte == b'=') {
                Some(at) => (segment.get(..at), segment.get(at + 1..)),
                None => (Some(segment), Some(&[][..])),
            };
            let raw_key = raw_key.unwrap_or_default();
            let raw_value = raw_value.unwrap_or_default();
            // Name the field in errors even when the key itself is broken.
            let key = decode_component(raw_key).map_err(|error| error.in_field(raw_key))?;
            let value =
                decode_component(raw_value).map_err(|error| error.in_field(key.as_bytes()))?;
            Ok((key, value))
        })
        .collect()
}

/// Percent-decodes a URL path segment, where `+` is itself, not a space.
pub fn decode_path_segment(raw: &str) -> Option<String> {
    let escaped = raw.replace('+', "%2B");
    decode_component(escaped.as_bytes())
        .ok()
        .map(Cow::into_owned)
}

enum ComponentError {
    BadPercent,
    NotUtf8,
}

impl ComponentError {
    fn in_field(self, raw_key: &[u8]) -> FormError {
        let field = String::from_utf8_lossy(raw_key).chars().take(64).collect();
        match self {
            ComponentError::BadPercent => FormError::BadPercentEncoding { field },
            ComponentError::NotUtf8 => FormError::NotUtf8 { field },
        }
    }
}

fn decode_component(raw: &[u8]) -> Result<Cow<'_, str>, ComponentError> {
    if !raw.iter().any(|byte| matches!(byte, b'%' | b'+')) {
        return std::str::from_utf8(raw)
            .map(Cow::Borrowed)
            .map_err(|_| ComponentError::NotUtf8);
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let (high, low) = match rest {
                    [high, low, ..] => (hex_value(*high), hex_value(*low)),
                    _ => (None, None),
                };
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(ComponentError::BadPercent);
                };
                bytes.push(high << 4 | low);
                rest = rest.get(2..).unwrap_or_default();
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|_| ComponentError::NotUtf8)
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(body: &str) -> Vec<(String, String)> {
        decode(body.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect()
    }

    #[test]
    fn decodes_the_seed_request() {
        assert_eq!(
            decoded("from=492111234567&to=4915791234567&direction=in"),
            vec![
                ("from".into(), "492111234567".into()),
                ("to".into(), "4915791234567".into()),
                ("direction".into(), "in".into()),
            ]
        );
    }

    #[test]
    fn keeps_repeated_keys_in_order_and_decodes_brackets() {
        assert_eq!(
            decoded("user%5B%5D=Alice&user[]=Bob+Smith&user%5b%5d="),
            vec![
                ("user[]".into(), "Alice".into()),
                ("user[]".into(), "Bob Smith".into()),
                ("user[]".into(), "".into()),
            ]
        );
    }

    #[test]
    fn skips_empty_segments_and_accepts_bare_keys() {
        assert_eq!(
            decoded("&a=1&&b&=x&"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "".into()),
                ("".into(), "x".into())
            ]
        );
        assert!(decoded("").is_empty());
    }

    #[test]
    fn decodes_utf8_and_reserved_characters() {
        assert_eq!(
            decoded("user%5B%5D=J%C3%BCrgen&x=a%26b%3Dc%25"),
            vec![
                ("user[]".into(), "Jürgen".into()),
                ("x".into(), "a&b=c%".into())
            ]
        );
    }

    #[test]
    fn refuses_bad_percent_encoding_naming_the_field() {
        for body in ["to=49%zz", "to=49%4", "to=%", "to=%G0"] {
            assert_eq!(
                decode(body.as_bytes()),
                Err(FormError::BadPercentEncoding { field: "to".into() }),
                "{body}"
            );
        }
        assert_eq!(
            decode(b"t%o=1"),
            Err(FormError::BadPercentEncoding {
                field: "t%o".into()
            })
        );
    }

    #[test]
    fn refuses_invalid_utf8_naming_the_field() {
        assert_eq!(
            decode(b"from=%FF%FE"),
            Err(FormError::NotUtf8 {
                field: "from".into()
            })
        );
        assert_eq!(
            decode(b"from=\xff"),
            Err(FormError::NotUtf8 {
                field: "from".into()
            })
        );
        assert!(matches!(decode(b"\xff=1"), Err(FormError::NotUtf8 { .. })));
    }
}
