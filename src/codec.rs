//! A compact encoding for values the worker writes once and reads back
//! many times without checking them again (rules format 2, see
//! `rules::compact`): unsigned and signed integers, booleans, counts and
//! strings, one after another, with no names and no punctuation.
//!
//! Outside strings every byte is below 0x80, so an encoded value is valid
//! UTF-8 as a whole: KV, a wrangler bulk file, the admin API's writes and
//! the store's `Kv` port carry it as text, unchanged, and reading
//! it costs no base64.
//!
//! ```text
//! uint   6 bits a byte, lowest first; 0x40 set: another byte follows
//!          5 → 05      300 = 0b100_101100 → 6c 04
//! int    zigzag, then uint: 0 → 00, -1 → 01, 1 → 02
//! bool   00 or 01
//! str    its length in bytes (uint), then its UTF-8
//! ```
//!
//! A [`Reader`] never panics and never allocates more than its input could
//! hold: a count is refused when fewer bytes are left than it counts.

use std::fmt;
use std::sync::Arc;

const MORE: u8 = 0x40;
const PAYLOAD: u8 = 0x3f;

/// What a reader met where it wanted something else; `at` is a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub at: usize,
    pub what: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.at, self.what)
    }
}

impl std::error::Error for DecodeError {}

/// Writes values one after another into a string.
#[derive(Debug, Default)]
pub struct Writer {
    text: String,
}

impl Writer {
    pub fn uint(&mut self, mut value: u64) {
        loop {
            let low = (value & u64::from(PAYLOAD)) as u8;
            value >>= 6;
            if value == 0 {
                self.text.push(char::from(low));
                return;
            }
            self.text.push(char::from(low | MORE));
        }
    }

    pub fn int(&mut self, value: i64) {
        self.uint(((value << 1) ^ (value >> 63)) as u64);
    }

    pub fn bool(&mut self, value: bool) {
        self.uint(u64::from(value));
    }

    /// The length of a list that follows.
    pub fn count(&mut self, count: usize) {
        self.uint(count as u64);
    }

    pub fn str(&mut self, value: &str) {
        self.count(value.len());
        self.text.push_str(value);
    }

    /// Everything `other` wrote, after what this one has.
    pub fn append(&mut self, other: Writer) {
        self.text.push_str(&other.text);
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// Values that several others refer to (a list many rules use), numbered
/// in the order they are first met, to be written once before them.
#[derive(Debug)]
pub struct Table<T> {
    items: Vec<Arc<T>>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table { items: Vec::new() }
    }
}

impl<T> Table<T> {
    /// The number of `item` (the same allocation, not an equal value).
    pub fn number(&mut self, item: &Arc<T>) -> usize {
        match self.items.iter().position(|known| Arc::ptr_eq(known, item)) {
            Some(number) => number,
            None => {
                self.items.push(item.clone());
                self.items.len() - 1
            }
        }
    }

    pub fn items(&self) -> &[Arc<T>] {
        &self.items
    }
}

/// Reads values in the order a [`Writer`] wrote them.
#[derive(Debug)]
pub struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader { text, at: 0 }
    }

    /// An error at the reader's position.
    pub fn error(&self, what: &'static str) -> DecodeError {
        DecodeError { at: self.at, what }
    }

    pub fn uint(&mut self) -> Result<u64, DecodeError> {
        let bytes = self.text.as_bytes();
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let Some(&byte) = bytes.get(self.at) else {
                return Err(self.error("ends inside a number"));
            };
            if byte >= 0x80 || (shift == 60 && byte > 0x0f) {
                return Err(self.error("a number is malformed or too large"));
            }
            self.at += 1;
            value |= u64::from(byte & PAYLOAD) << shift;
            if byte & MORE == 0 {
                return Ok(value);
            }
            shift += 6;
        }
    }

    pub fn int(&mut self) -> Result<i64, DecodeError> {
        let zigzag = self.uint()?;
        Ok((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64))
    }

    /// An unsigned number that must fit `T` (`u8`, `u16`, `u32`, …).
    pub fn small<T: TryFrom<u64>>(&mut self) -> Result<T, DecodeError> {
        let at = self.at;
        T::try_from(self.uint()?).map_err(|_| DecodeError {
            at,
            what: "a number is out of range",
        })
    }

    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.uint()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.error("a flag is neither 0 nor 1")),
        }
    }

    /// The length of a list that follows; every item takes at least a byte,
    /// so a count larger than what is left is refused before anything is
    /// allocated for it.
    pub fn count(&mut self) -> Result<usize, DecodeError> {
        let count = self.uint()?;
        if count > self.left() as u64 {
            return Err(self.error("a count is larger than what follows"));
        }
        Ok(count as usize)
    }

    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let length = self.count()?;
        let end = self.at + length;
        let text = self
            .text
            .get(self.at..end)
            .ok_or_else(|| self.error("a string is cut inside a character"))?;
        self.at = end;
        Ok(text)
    }

    /// One of `items`, by its number.
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> Result<T, DecodeError> {
        let at = self.at;
        let number: usize = self.small()?;
        items.get(number).cloned().ok_or(DecodeError {
            at,
            what: "refers to a shared value that is not there",
        })
    }

    fn left(&self) -> usize {
        self.text.len() - self.at
    }

    /// Refuses bytes after the last value.
    pub fn end(self) -> Result<(), DecodeError> {
        if self.left() == 0 {
            Ok(())
        } else {
            Err(self.error("more follows the last value"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_format() {
        let mut writer = Writer::default();
        writer.uint(5);
        writer.uint(300);
        writer.int(-1);
        writer.int(1);
        writer.bool(true);
        writer.str("Grüße");
        let text = writer.finish();
        assert_eq!(
            text.as_bytes(),
            [
                &[0x05, 0x6c, 0x04, 0x01, 0x02, 0x01, 0x07][..],
                "Grüße".as_bytes()
            ]
            .concat()
        );
        let mut reader = Reader::new(&text);
        assert_eq!(reader.uint(), Ok(5));
        assert_eq!(reader.small::<u16>(), Ok(300));
        assert_eq!(reader.int(), Ok(-1));
        assert_eq!(reader.int(), Ok(1));
        assert_eq!(reader.bool(), Ok(true));
        assert_eq!(reader.str(), Ok("Grüße"));
        assert_eq!(reader.end(), Ok(()));
    }

    #[test]
    fn bad_input_is_an_error_at_its_byte() {
        let error = |text: &str, read: fn(&mut Reader<'_>) -> Result<(), DecodeError>| {
            read(&mut Reader::new(text)).unwrap_err().to_string()
        };
        assert_eq!(
            error("\u{41}", |r| r.uint().map(drop)),
            "at byte 1: ends inside a number"
        );
        assert_eq!(
            error("é", |r| r.uint().map(drop)),
            "at byte 0: a number is malformed or too large"
        );
        // 11 bytes of payload: more than 64 bits.
        assert_eq!(
            error(&"\u{7f}".repeat(11), |r| r.uint().map(drop)),
            "at byte 10: a number is malformed or too large"
        );
        assert_eq!(
            error("\u{6c}\u{04}", |r| r.small::<u8>().map(drop)),
            "at byte 0: a number is out of range"
        );
        assert_eq!(
            error("\u{02}", |r| r.bool().map(drop)),
            "at byte 1: a flag is neither 0 nor 1"
        );
        assert_eq!(
            error("\u{3f}abc", |r| r.count().map(drop)),
            "at byte 1: a count is larger than what follows"
        );
        // Two bytes of "é" asked for one: a cut character.
        assert_eq!(
            error("\u{01}é", |r| r.str().map(drop)),
            "at byte 1: a string is cut inside a character"
        );
        let mut reader = Reader::new("\u{00}\u{00}");
        assert_eq!(reader.uint(), Ok(0));
        assert_eq!(
            reader.end().unwrap_err().to_string(),
            "at byte 1: more follows the last value"
        );
    }

    // proptest is a host-only dev-dependency.
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn what_is_written_reads_back_and_is_seven_bit_clean_outside_strings(
                uints in proptest::collection::vec(any::<u64>(), 0..8),
                ints in proptest::collection::vec(any::<i64>(), 0..8),
                text in ".*",
            ) {
                let mut writer = Writer::default();
                for &value in &uints {
                    writer.uint(value);
                }
                for &value in &ints {
                    writer.int(value);
                }
                let numbers_only = writer.finish();
                prop_assert!(numbers_only.bytes().all(|byte| byte < 0x80));
                let mut writer = Writer::default();
                for &value in &uints {
                    writer.uint(value);
                }
                for &value in &ints {
                    writer.int(value);
                }
                writer.str(&text);
                let encoded = writer.finish();
                let mut reader = Reader::new(&encoded);
                for &value in &uints {
                    prop_assert_eq!(reader.uint(), Ok(value));
                }
                for &value in &ints {
                    prop_assert_eq!(reader.int(), Ok(value));
                }
                prop_assert_eq!(reader.str(), Ok(text.as_str()));
                prop_assert_eq!(reader.end(), Ok(()));
            }
        }
    }
}
