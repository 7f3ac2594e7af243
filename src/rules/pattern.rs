//! Number patterns: which callers, called numbers or diversions a condition means.
//!
//! | pattern        | matches                                   |
//! |----------------|-------------------------------------------|
//! | `492111234567` | exactly this number (a leading `+` is dropped) |
//! | `4930*`        | every number starting with `4930`        |
//! | `*`            | every number (not `anonymous`)            |
//! | `anonymous`    | a caller that withheld its number         |
//! | `@blocked`     | the patterns of the list `blocked` in `lists` |
//!
//! Matching costs at most one hash lookup per distinct prefix length, so a
//! block list of thousands of numbers is as fast as one of three.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use super::path::Item;
use super::problem::Checker;
use crate::codec::{DecodeError, Reader, Table, Writer};
use crate::protocol::number::{Party, E164};

/// Compiled plain patterns (no list references).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PatternSet {
    exact: HashSet<String>,
    prefixes: HashSet<String>,
    /// Bit `n` set: some prefix has `n` digits.
    prefix_lengths: u32,
    any_number: bool,
    anonymous: bool,
}

impl PatternSet {
    /// Compiles `patterns`, reporting bad ones under `path[i]` (or `path` for
    /// a single value). `@name` is refused here: lists do not nest.
    pub fn compile(
        patterns: &[String],
        listed: bool,
        checker: &mut Checker,
        path: &dyn fmt::Display,
    ) -> PatternSet {
        let mut set = PatternSet::default();
        for (index, pattern) in patterns.iter().enumerate() {
            let path = Item {
                parent: path,
                listed,
                index,
            };
            if let Err(message) = set.add(pattern) {
                checker.error(path, format!("{pattern:?} {message}"));
            }
        }
        set
    }

    fn add(&mut self, pattern: &str) -> Result<(), String> {
        if pattern.eq_ignore_ascii_case("anonymous") {
            self.anonymous = true;
        } else if pattern == "*" {
            self.any_number = true;
        } else if pattern.starts_with('@') {
            return Err("refers to a list, but lists cannot contain other lists".into());
        } else if let Some(prefix) = pattern.strip_suffix('*') {
            let digits = prefix.strip_prefix('+').unwrap_or(prefix);
            if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err("is not a number prefix (digits followed by *, e.g. 4930*)".into());
            }
            if digits.starts_with('0') {
                return Err(
                    "starts with 0: write it internationally, country code first (0211* → 49211*)"
                        .into(),
                );
            }
            self.prefix_lengths |= 1 << digits.len();
            self.prefixes.insert(digits.to_owned());
        } else {
            let number = E164::parse(pattern).map_err(|error| error.to_string())?;
            self.exact.insert(number.into_string());
        }
        Ok(())
    }

    /// Written as the patterns it was compiled from, in a fixed order
    /// (numbers, prefixes, `*`, `anonymous`), and read back through the
    /// compiler's own `PatternSet::add`, which keeps its checks:
    ///
    /// ```text
    /// count  "4930666" "4990*" "anonymous"
    /// ```
    pub fn encode(&self, out: &mut Writer) {
        let mut exact: Vec<(&str, usize)> = self.exact.iter().map(|n| (n.as_str(), 0)).collect();
        let mut prefixes: Vec<(&str, usize)> =
            self.prefixes.iter().map(|p| (p.as_str(), 0)).collect();
        // The sort the shard's maps use (`(&str, usize)`): one in the wasm.
        exact.sort_unstable();
        prefixes.sort_unstable();
        out.count(
            exact.len()
                + prefixes.len()
                + usize::from(self.any_number)
                + usize::from(self.anonymous),
        );
        for (number, _) in exact {
            out.str(number);
        }
        for (prefix, _) in prefixes {
            out.str(&format!("{prefix}*"));
        }
        if self.any_number {
            out.str("*");
        }
        if self.anonymous {
            out.str("anonymous");
        }
    }

    pub fn decode(input: &mut Reader<'_>) -> Result<PatternSet, DecodeError> {
        let count = input.count()?;
        let mut set = PatternSet::default();
        // Mostly numbers: a block list of thousands grows its set once.
        set.exact.reserve(count);
        for _ in 0..count {
            let pattern = input.str()?;
            set.add(pattern)
                .map_err(|_| input.error("a number pattern is not valid"))?;
        }
        Ok(set)
    }

    pub fn matches(&self, party: &Party) -> bool {
        match party {
            Party::Anonymous => self.anonymous,
            Party::Number(number) => {
                let digits = number.as_str();
                self.any_number
                    || self.exact.contains(digits)
                    || (1..=digits.len())
                        .filter(|length| self.prefix_lengths & (1 << length) != 0)
                        .any(|length| {
                            digits
                                .get(..length)
                                .is_some_and(|prefix| self.prefixes.contains(prefix))
                        })
            }
            Party::Other(_) => false,
        }
    }
}

/// The patterns of one condition: written ones plus referenced lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyMatcher {
    own: PatternSet,
    lists: Vec<Arc<PatternSet>>,
    /// The patterns as written, for traces: `["@blocked", "4930*"]`.
    written: String,
}

impl PartyMatcher {
    /// Compiles a condition's patterns; `@name` must be in `lists`.
    pub fn compile(
        patterns: &[String],
        listed: bool,
        lists: &dyn Fn(&str) -> Option<Arc<PatternSet>>,
        checker: &mut Checker,
        path: &dyn fmt::Display,
    ) -> PartyMatcher {
        let mut own = Vec::new();
        let mut referenced = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            match pattern.strip_prefix('@') {
                Some(name) => match lists(name) {
                    Some(list) => referenced.push(list),
                    None => {
                        let path = Item {
                            parent: path,
                            listed,
                            index,
                        };
                        checker.error(path, format!("{pattern:?} names no list in `lists`"));
                    }
                },
                None => own.push((index, pattern.clone())),
            }
        }
        if patterns.is_empty() {
            checker.error(path, "is an empty list, which no call matches");
        }
        let mut set = PatternSet::default();
        for (index, pattern) in own {
            if let Err(message) = set.add(&pattern) {
                let path = Item {
                    parent: path,
                    listed,
                    index,
                };
                checker.error(path, format!("{pattern:?} {message}"));
            }
        }
        PartyMatcher {
            own: set,
            lists: referenced,
            written: written(patterns),
        }
    }

    pub fn matches(&self, party: &Party) -> bool {
        self.own.matches(party) || self.lists.iter().any(|list| list.matches(party))
    }

    pub fn written(&self) -> &str {
        &self.written
    }

    /// `own` patterns, the numbers of the lists in `lists`, as written:
    ///
    /// ```text
    /// own  count list…  written
    /// ```
    pub fn encode(&self, out: &mut Writer, lists: &mut Table<PatternSet>) {
        self.own.encode(out);
        out.count(self.lists.len());
        for list in &self.lists {
            out.count(lists.number(list));
        }
        out.str(&self.written);
    }

    pub fn decode(
        input: &mut Reader<'_>,
        lists: &[Arc<PatternSet>],
    ) -> Result<PartyMatcher, DecodeError> {
        let own = PatternSet::decode(input)?;
        let count = input.count()?;
        let mut referenced = Vec::with_capacity(count);
        for _ in 0..count {
            referenced.push(input.pick(lists)?);
        }
        Ok(PartyMatcher {
            own,
            lists: referenced,
            written: input.str()?.to_owned(),
        })
    }
}

/// `"4930*"` or `["@blocked", "anonymous"]`, for traces.
pub fn written(values: &[String]) -> String {
    match values {
        [one] => format!("{one:?}"),
        many => format!("{many:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(patterns: &[&str]) -> PatternSet {
        let mut checker = Checker::default();
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        let set = PatternSet::compile(&patterns, true, &mut checker, &"lists.x");
        assert!(checker.errors.is_empty(), "{:?}", checker.errors);
        set
    }

    fn party(text: &str) -> Party {
        Party::parse(text)
    }

    #[test]
    fn exact_prefix_any_and_anonymous() {
        let patterns = set(&["492111234567", "+4930*", "49157*"]);
        assert!(patterns.matches(&party("492111234567")));
        assert!(!patterns.matches(&party("492111234568")));
        assert!(patterns.matches(&party("4930123456")));
        assert!(patterns.matches(&party("4915791234567")));
        assert!(!patterns.matches(&party("4989123456")));
        assert!(!patterns.matches(&party("anonymous")));
        assert!(!patterns.matches(&party("e12")));
        let any = set(&["*"]);
        assert!(any.matches(&party("4989123456")));
        assert!(!any.matches(&party("anonymous")));
        assert!(set(&["anonymous"]).matches(&party("anonymous")));
        // A prefix as long as the number matches it.
        assert!(set(&["4930123*"]).matches(&party("4930123")));
    }

    #[test]
    fn bad_patterns_are_reported_with_their_index() {
        let mut checker = Checker::default();
        let patterns: Vec<String> = ["4930*", "0211*", "49 30", "*49", "@other"]
            .iter()
            .map(|p| p.to_string())
            .collect();
        PatternSet::compile(&patterns, true, &mut checker, &"lists.blocked");
        let messages: Vec<String> = checker.errors.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "lists.blocked[1]: \"0211*\" starts with 0: write it internationally, country code first (0211* → 49211*)",
                "lists.blocked[2]: \"49 30\" must be digits only (E.164 without `+`, e.g. 4915791234567)",
                "lists.blocked[3]: \"*49\" must be digits only (E.164 without `+`, e.g. 4915791234567)",
                "lists.blocked[4]: \"@other\" refers to a list, but lists cannot contain other lists",
            ]
        );
    }

    #[test]
    fn matchers_combine_lists_and_own_patterns() {
        let blocked = Arc::new(set(&["4990*", "4930666"]));
        let lists = |name: &str| (name == "blocked").then(|| blocked.clone());
        let mut checker = Checker::default();
        let patterns = vec!["@blocked".to_owned(), "anonymous".to_owned()];
        let matcher = PartyMatcher::compile(&patterns, true, &lists, &mut checker, &"when.caller");
        assert!(checker.errors.is_empty());
        assert!(matcher.matches(&party("4990123")));
        assert!(matcher.matches(&party("anonymous")));
        assert!(!matcher.matches(&party("4930667")));
        assert_eq!(matcher.written(), "[\"@blocked\", \"anonymous\"]");

        let unknown = vec!["@vip".to_owned()];
        PartyMatcher::compile(&unknown, false, &lists, &mut checker, &"when.caller");
        PartyMatcher::compile(&[], true, &lists, &mut checker, &"when.called");
        let messages: Vec<String> = checker.errors.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "when.caller: \"@vip\" names no list in `lists`",
                "when.called: is an empty list, which no call matches"
            ]
        );
    }
}
