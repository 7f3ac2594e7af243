//! A compiled [`RuleSet`] in rules format 2: what `publish` stores for each
//! shard, so that a cold isolate decodes the rules of its call instead of
//! parsing a document's JSON and checking and compiling it — no
//! serde_json, no checker, no JSON paths on a push (docs/performance.md).
//!
//! The values are [`crate::codec`]'s, in this order:
//!
//! ```text
//! shard   2  zone  lists  calendars  menus  global  numbers  default
//! zone    "Europe/Berlin"
//! lists   count pattern-set…        referred to by number from conditions
//! calendars count date-set…         the same, from time windows
//! menus   count menu…               in name order
//! global  count rule…               default the same; numbers: count (number rules)…
//! rule    id  conditions  outcome  on-answer?  on-hangup?
//! outcome 0 proceed | 1 action | 2 "menu name"
//! action  0 dial | 1 play | 2 gather | 3 reject | 4 hangup, then its fields
//! ```
//!
//! Only [`encode`] writes it, from rules the checker built; [`decode`]
//! still builds every value through its checked constructor (URLs, numbers,
//! patterns, dates, zones), so a damaged shard is an error, never an answer
//! sipgate cannot read. Maps are written in key order: one document always
//! encodes to the same text.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use super::condition::{Conditions, DateSet, Decoded};
use super::model::{is_name, Menu, Outcome, Rule, RuleSet};
use super::pattern::PatternSet;
use crate::codec::{DecodeError, Reader, Table, Writer};
use crate::protocol::number::E164;
use crate::protocol::response::{
    Action, Dial, DialNumbers, DialTarget, Gather, GatherKind, Play, Reject, RejectReason,
};
use crate::protocol::url::HttpUrl;
use crate::time::zone::Zone;

/// The first value of every shard in this format.
const MARK: u64 = 2;

/// The shard's text in format 2.
pub fn encode(rules: &RuleSet) -> String {
    let mut lists = Table::default();
    let mut calendars = Table::default();
    let mut body = Writer::default();
    let menus = rules.menus.values().map(|menu| (menu.name.as_str(), menu));
    body.count(rules.menus.len());
    for (_, menu) in in_key_order(menus) {
        encode_menu(menu, &mut body);
    }
    encode_rules(&rules.global, &mut body, &mut lists, &mut calendars);
    encode_map(&rules.numbers, &mut body, |list, body| {
        encode_rules(list, body, &mut lists, &mut calendars);
    });
    encode_rules(&rules.default, &mut body, &mut lists, &mut calendars);

    let mut out = Writer::default();
    out.uint(MARK);
    out.str(rules.zone.name());
    out.count(lists.items().len());
    for list in lists.items() {
        list.encode(&mut out);
    }
    out.count(calendars.items().len());
    for calendar in calendars.items() {
        calendar.encode(&mut out);
    }
    out.append(body);
    out.finish()
}

/// The rules of a shard written by [`encode`].
pub fn decode(text: &str) -> Result<RuleSet, DecodeError> {
    let mut input = Reader::new(text);
    if input.uint() != Ok(MARK) {
        return Err(DecodeError {
            at: 0,
            what: "is not a shard in rules format 2",
        });
    }
    let zone = zone(&mut input)?;
    let count = input.count()?;
    let mut lists = Vec::with_capacity(count);
    for _ in 0..count {
        lists.push(Arc::new(PatternSet::decode(&mut input)?));
    }
    let count = input.count()?;
    let mut calendars = Vec::with_capacity(count);
    for _ in 0..count {
        calendars.push(Arc::new(DateSet::decode(&mut input)?));
    }
    let shared = Decoded {
        lists: &lists,
        calendars: &calendars,
        zone: &zone,
    };
    let count = input.count()?;
    let mut menus = HashMap::with_capacity(count);
    for _ in 0..count {
        let menu = decode_menu(&mut input)?;
        menus.insert(menu.name.clone(), menu);
    }
    let global = decode_rules(&mut input, &shared)?;
    let count = input.count()?;
    let mut numbers = HashMap::with_capacity(count);
    for _ in 0..count {
        let number = input.str()?.to_owned();
        numbers.insert(number, decode_rules(&mut input, &shared)?);
    }
    let default = decode_rules(&mut input, &shared)?;
    input.end()?;
    Ok(RuleSet {
        zone,
        global,
        numbers,
        default,
        menus,
    })
}

/// `count (key value)…`, in key order.
fn encode_map<T>(
    map: &HashMap<String, T>,
    out: &mut Writer,
    mut value: impl FnMut(&T, &mut Writer),
) {
    out.count(map.len());
    let entries = map.iter().map(|(key, entry)| (key.as_str(), entry));
    for (key, entry) in in_key_order(entries) {
        out.str(key);
        value(entry, out);
    }
}

/// A map's entries sorted by key, so that a document always encodes to the
/// same text. One sort of `(&str, index)` for every map: one copy of the
/// sort in the wasm.
fn in_key_order<'m, T>(entries: impl Iterator<Item = (&'m str, T)>) -> Vec<(&'m str, T)> {
    let entries: Vec<(&str, T)> = entries.collect();
    let mut order: Vec<(&str, usize)> = entries
        .iter()
        .enumerate()
        .map(|(index, (key, _))| (*key, index))
        .collect();
    order.sort_unstable();
    let mut slots: Vec<Option<(&str, T)>> = entries.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|(_, index)| slots.get_mut(index).and_then(Option::take))
        .collect()
}

fn zone(input: &mut Reader<'_>) -> Result<Zone, DecodeError> {
    let name = input.str()?;
    Zone::find(name).ok_or_else(|| input.error("names a time zone this worker does not know"))
}

fn encode_rules(
    rules: &[Rule],
    out: &mut Writer,
    lists: &mut Table<PatternSet>,
    calendars: &mut Table<DateSet>,
) {
    out.count(rules.len());
    for rule in rules {
        out.str(&rule.id);
        rule.when.encode(out, lists, calendars);
        encode_outcome(&rule.then, out);
        encode_url(rule.on_answer.as_ref(), out);
        encode_url(rule.on_hangup.as_ref(), out);
    }
}

fn decode_rules(input: &mut Reader<'_>, shared: &Decoded<'_>) -> Result<Vec<Rule>, DecodeError> {
    let count = input.count()?;
    let mut rules = Vec::with_capacity(count);
    for _ in 0..count {
        let id = input.str()?.to_owned();
        let when = Conditions::decode(input, shared)?;
        let then = decode_outcome(input)?;
        let on_answer = decode_url(input)?;
        let on_hangup = decode_url(input)?;
        rules.push(Rule::new(id, when, then, on_answer, on_hangup));
    }
    Ok(rules)
}

/// ```text
/// "main"  "https://…/welcome.wav"  max-digits  timeout-ms|0  count ("1" outcome)…  no-input  invalid  retries
/// ```
fn encode_menu(menu: &Menu, out: &mut Writer) {
    out.str(&menu.name);
    out.str(menu.prompt.as_str());
    out.uint(u64::from(menu.max_digits.get()));
    out.uint(u64::from(menu.timeout_ms.map_or(0, NonZeroU32::get)));
    encode_map(&menu.options, out, encode_outcome);
    encode_outcome(&menu.no_input, out);
    encode_outcome(&menu.invalid, out);
    out.uint(u64::from(menu.retries));
}

fn decode_menu(input: &mut Reader<'_>) -> Result<Menu, DecodeError> {
    let name = menu_name(input)?;
    let prompt = url(input)?;
    let max_digits = NonZeroU32::new(input.small()?)
        .ok_or_else(|| input.error("a menu that takes no digits"))?;
    let timeout_ms = NonZeroU32::new(input.small()?);
    let count = input.count()?;
    let mut options = HashMap::with_capacity(count);
    for _ in 0..count {
        let digits = input.str()?.to_owned();
        options.insert(digits, decode_outcome(input)?);
    }
    Ok(Menu {
        name,
        prompt,
        max_digits,
        timeout_ms,
        options,
        no_input: decode_outcome(input)?,
        invalid: decode_outcome(input)?,
        retries: input.small()?,
    })
}

fn encode_outcome(outcome: &Outcome, out: &mut Writer) {
    match outcome {
        Outcome::Respond(None) => out.uint(0),
        Outcome::Respond(Some(action)) => {
            out.uint(1);
            encode_action(action, out);
        }
        Outcome::Menu(name) => {
            out.uint(2);
            out.str(name);
        }
    }
}

fn decode_outcome(input: &mut Reader<'_>) -> Result<Outcome, DecodeError> {
    match input.uint()? {
        0 => Ok(Outcome::Respond(None)),
        1 => Ok(Outcome::Respond(Some(decode_action(input)?))),
        2 => Ok(Outcome::Menu(menu_name(input)?)),
        _ => Err(input.error("an outcome of no known kind")),
    }
}

/// ```text
/// 0 dial     caller-id?  anonymous (0 unset, 1 false, 2 true)  count number… (0: voicemail)
/// 1 play     url
/// 2 gather   on-data  max-digits|0  timeout-ms|0  dtmf?  prompt?
/// 3 reject   reason (0 unset, 1 rejected, 2 busy)
/// 4 hangup
/// ```
fn encode_action(action: &Action, out: &mut Writer) {
    match action {
        Action::Dial(dial) => {
            out.uint(0);
            out.bool(dial.caller_id.is_some());
            if let Some(number) = &dial.caller_id {
                out.str(number.as_str());
            }
            out.uint(
                dial.anonymous
                    .map_or(0, |anonymous| 1 + u64::from(anonymous)),
            );
            match &dial.target {
                DialTarget::Voicemail => out.count(0),
                DialTarget::Numbers(numbers) => {
                    out.count(numbers.as_slice().len());
                    for number in numbers.as_slice() {
                        out.str(number.as_str());
                    }
                }
            }
        }
        Action::Play(play) => {
            out.uint(1);
            out.str(play.url.as_str());
        }
        Action::Gather(gather) => {
            out.uint(2);
            out.str(gather.on_data.as_str());
            out.uint(u64::from(gather.max_digits.map_or(0, NonZeroU32::get)));
            out.uint(u64::from(gather.timeout_ms.map_or(0, NonZeroU32::get)));
            out.bool(gather.kind == Some(GatherKind::Dtmf));
            encode_url(gather.prompt.as_ref().map(|prompt| &prompt.url), out);
        }
        Action::Reject(reject) => {
            out.uint(3);
            out.uint(match reject.reason {
                None => 0,
                Some(RejectReason::Rejected) => 1,
                Some(RejectReason::Busy) => 2,
            });
        }
        Action::Hangup => out.uint(4),
    }
}

fn decode_action(input: &mut Reader<'_>) -> Result<Action, DecodeError> {
    Ok(match input.uint()? {
        0 => {
            let caller_id = match input.bool()? {
                false => None,
                true => Some(number(input)?),
            };
            let anonymous = match input.uint()? {
                0 => None,
                1 => Some(false),
                2 => Some(true),
                _ => return Err(input.error("`anonymous` is neither unset, false nor true")),
            };
            let target =
                match input.count()? {
                    0 => DialTarget::Voicemail,
                    count => {
                        let mut numbers = Vec::with_capacity(count);
                        for _ in 0..count {
                            numbers.push(number(input)?);
                        }
                        DialTarget::Numbers(DialNumbers::new(numbers).map_err(|_| {
                            input.error("a dial of more numbers than sipgate rings")
                        })?)
                    }
                };
            Action::Dial(Dial {
                caller_id,
                anonymous,
                target,
            })
        }
        1 => Action::Play(Play { url: url(input)? }),
        2 => Action::Gather(Gather {
            on_data: url(input)?,
            max_digits: NonZeroU32::new(input.small()?),
            timeout_ms: NonZeroU32::new(input.small()?),
            kind: input.bool()?.then_some(GatherKind::Dtmf),
            prompt: decode_url(input)?.map(|url| Play { url }),
        }),
        3 => Action::Reject(Reject {
            reason: match input.uint()? {
                0 => None,
                1 => Some(RejectReason::Rejected),
                2 => Some(RejectReason::Busy),
                _ => return Err(input.error("a reject reason of no known kind")),
            },
        }),
        4 => Action::Hangup,
        _ => return Err(input.error("an action of no known kind")),
    })
}

/// An optional URL: its text, or an empty string for none (no URL is empty).
fn encode_url(url: Option<&HttpUrl>, out: &mut Writer) {
    out.str(url.map_or("", HttpUrl::as_str));
}

fn decode_url(input: &mut Reader<'_>) -> Result<Option<HttpUrl>, DecodeError> {
    let text = input.str()?;
    if text.is_empty() {
        return Ok(None);
    }
    HttpUrl::parse(text)
        .map(Some)
        .map_err(|_| input.error("a URL that is not an absolute http(s) URL"))
}

fn url(input: &mut Reader<'_>) -> Result<HttpUrl, DecodeError> {
    decode_url(input)?.ok_or_else(|| input.error("an empty URL where one is needed"))
}

/// A menu's name goes into the `onData` URL the router answers itself.
fn menu_name(input: &mut Reader<'_>) -> Result<String, DecodeError> {
    let name = input.str()?;
    if !is_name(name) {
        return Err(input.error("a menu name that is not one (letters, digits, - and _)"));
    }
    Ok(name.to_owned())
}

fn number(input: &mut Reader<'_>) -> Result<E164, DecodeError> {
    let text = input.str()?;
    E164::parse(text).map_err(|_| input.error("a number that is not E.164"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::url::SelfUrl;
    use crate::rules::load;
    use crate::rules::menu::MenuState;
    use crate::rules::simulate::{Call, CallInput};

    const OFFICE: &str = include_str!("../../examples/office.json");
    const HOTLINE: &str = include_str!("../../examples/hotline.json");

    /// Every kind of condition, action and outcome the format has.
    const EVERYTHING: &str = r#"{
      "timezone": "America/New_York",
      "lists": { "vip": ["4915790000001", "4930*", "*"], "unused": ["4989*"], "nobody": ["anonymous"] },
      "calendars": { "holidays": ["12-24..12-26", "2026-12-31..2027-01-01", "02-29"] },
      "menus": {
        "main": { "prompt": "https://s.example/main.wav", "maxDigits": 2, "timeout": 3000, "retries": 0,
                  "options": { "1": { "menu": "sub" }, "22": { "hangup": {} }, "3": { "proceed": {} } },
                  "noInput": { "reject": { "reason": "rejected" } }, "invalid": { "menu": "main" } },
        "sub": { "prompt": "http://user:pw@s.example/sub.wav", "noInput": { "voicemail": {} } }
      },
      "global": [
        { "id": "out", "when": { "direction": ["out"], "caller": ["@vip", "anonymous"] }, "then": { "proceed": {} } },
        { "id": "div", "when": { "diversion": ["@nobody", "4940*"], "called": "4921100000" },
          "then": { "dial": { "numbers": ["4915790000001", "4915790000002"], "callerId": "4921100000", "anonymous": true } },
          "onAnswer": "https://hooks.example/answer", "onHangup": "https://hooks.example/hangup" },
        { "id": "not-diverted", "when": { "diversion": false, "user": ["Alice", "Bob"] }, "then": { "dial": { "numbers": ["4915790000003"], "anonymous": false } } },
        { "id": "diverted", "when": { "diversion": true, "userId": "w0" }, "then": { "voicemail": {} } }
      ],
      "numbers": {
        "4921100000": [
          { "id": "hours", "when": { "time": [
              { "weekdays": ["mon-fri", "sun"], "hours": ["08:00-12:00", "22:00-06:00", "13:00-24:00"] },
              { "dates": ["@holidays", "2026-07-04"], "timezone": "Europe/Berlin" } ] },
            "then": { "gather": { "onData": "https://hooks.example/digits", "maxDigits": 4, "timeout": 2000,
                                  "type": "dtmf", "play": { "url": "https://s.example/enter.wav" } } } },
          { "then": { "gather": { "onData": "https://hooks.example/plain" } } }
        ],
        "+4930200000000": [ { "id": "play", "when": { "caller": "@vip" }, "then": { "play": { "url": "https://s.example/closed.wav" } } } ]
      },
      "default": [
        { "id": "busy", "when": { "caller": "4917*" }, "then": { "reject": { "reason": "busy" } } },
        { "id": "reject", "when": { "caller": "4918*" }, "then": { "reject": {} } },
        { "id": "menu", "then": { "menu": "main" } }
      ]
    }"#;

    fn compiled(json: &str) -> RuleSet {
        load(json).unwrap_or_else(|error| panic!("{error}")).rules
    }

    /// Every answer the rules give to a set of calls and menu digits.
    fn answers(rules: &RuleSet) -> Vec<String> {
        let base = SelfUrl::from_request_url("https://router.example/").unwrap();
        let mut answers = Vec::new();
        for (from, to, direction) in [
            ("4915790000001", "4921100000", "out"),
            ("anonymous", "4921100000", "in"),
            ("4917612345", "4989123", "in"),
            ("4918612345", "4989123", "in"),
            ("4940123", "4930200000000", "in"),
            ("4940123", "4921100000", "in"),
            ("4989123", "4921100000", "in"),
        ] {
            // A Friday morning, a Saturday night, Christmas Eve, a leap day.
            for utc in [1_795_856_400, 1_796_029_200, 1_798_095_600, 1_898_000_000] {
                for (users, diversion) in [("", ""), ("Alice", ""), ("", "4940555")] {
                    let input = CallInput {
                        from: from.into(),
                        to: to.into(),
                        direction: direction.into(),
                        users: users
                            .split(',')
                            .filter(|u| !u.is_empty())
                            .map(Into::into)
                            .collect(),
                        user_ids: if diversion.is_empty() {
                            vec![]
                        } else {
                            vec!["w0".into()]
                        },
                        diversion: (!diversion.is_empty()).then(|| diversion.into()),
                        ..CallInput::default()
                    };
                    let call = Call::parse(&input, &rules.zone, utc).unwrap();
                    let facts = call.facts();
                    let decision = rules.decide_call(&facts, call.sipgate_number(), &base);
                    // The trace too: each rule met, and why it did not match.
                    for considered in &decision.trace {
                        let why = considered.mismatch.as_ref().map(|m| m.explain(&facts));
                        answers.push(format!("{} {why:?}", considered.rule.id));
                    }
                    answers.push(decision.answer.xml().into_owned());
                }
            }
        }
        let mut menus: Vec<&String> = rules.menus.keys().collect();
        menus.sort();
        for menu in menus {
            for digits in ["", "1", "22", "3", "9"] {
                for attempt in 0..2 {
                    let state = MenuState {
                        menu: menu.clone(),
                        attempt,
                        draft: None,
                    };
                    answers.push(
                        rules
                            .decide_digits(&state, digits, &base)
                            .answer
                            .xml()
                            .into_owned(),
                    );
                }
            }
        }
        answers
    }

    #[test]
    fn a_decoded_shard_answers_every_call_as_the_compiled_document() {
        for document in [OFFICE, HOTLINE, EVERYTHING] {
            let rules = compiled(document);
            let encoded = encode(&rules);
            let decoded = decode(&encoded).unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(answers(&decoded), answers(&rules));
            assert_eq!(decoded.rule_ids(), rules.rule_ids());
            // Every field is written: what is read back writes the same text.
            assert_eq!(encode(&decoded), encoded);
            // Maps in key order: compiling again writes the same text.
            assert_eq!(encode(&compiled(document)), encoded);
        }
    }

    #[test]
    fn a_list_many_rules_use_is_written_once_and_shared_when_read() {
        let rules = compiled(EVERYTHING);
        let encoded = encode(&rules);
        // Once in the list `vip`, which two rules use, and once in a dial.
        assert_eq!(encoded.matches("4915790000001").count(), 2, "{encoded:?}");
        assert!(!encoded.contains("4989*"), "an unused list is not written");
        let decoded = decode(&encoded).unwrap();
        assert_eq!(answers(&decoded), answers(&rules));
    }

    #[test]
    fn the_shard_begins_with_its_format_and_zone() {
        let encoded = encode(&compiled(r#"{"timezone":"Europe/Berlin"}"#));
        // 2, "Europe/Berlin", no lists, calendars, menus, global, numbers, default.
        assert_eq!(encoded, "\u{2}\u{d}Europe/Berlin\0\0\0\0\0\0");
    }

    #[test]
    fn damaged_shards_are_errors_never_answers() {
        let encoded = encode(&compiled(EVERYTHING));
        assert_eq!(
            decode(r#"{"timezone":"Europe/Berlin"}"#)
                .unwrap_err()
                .to_string(),
            "at byte 0: is not a shard in rules format 2"
        );
        // Cut anywhere: an error.
        for end in 0..encoded.len() {
            if let Some(cut) = encoded.get(..end) {
                assert!(decode(cut).is_err(), "cut at {end}");
            }
        }
        assert_eq!(
            decode(&format!("{encoded}\0")).unwrap_err().to_string(),
            format!("at byte {}: more follows the last value", encoded.len())
        );
        // Any one byte changed: an error or rules, never a panic.
        let mut bytes = encoded.clone().into_bytes();
        for at in 0..bytes.len() {
            let kept = bytes[at];
            for changed in [0, 1, 2, 5, 0x3f, 0x40, 0x7f, b'*', b'@'] {
                bytes[at] = changed;
                if let Ok(text) = std::str::from_utf8(&bytes) {
                    if let Ok(rules) = decode(text) {
                        answers(&rules);
                    }
                }
            }
            bytes[at] = kept;
        }
        // What the constructors refuse is refused.
        let swapped = |from: &str, to: &str| {
            let mut writer = Writer::default();
            writer.str(from);
            let from = writer.finish();
            let mut writer = Writer::default();
            writer.str(to);
            let to = writer.finish();
            assert!(encoded.contains(&from), "{from:?}");
            decode(&encoded.replacen(&from, &to, 1)).unwrap_err().what
        };
        assert_eq!(
            swapped("America/New_York", "Mars/Olympus_Mons"),
            "names a time zone this worker does not know"
        );
        assert_eq!(
            swapped("https://s.example/closed.wav", "ftp://s.example/closed.wav"),
            "a URL that is not an absolute http(s) URL"
        );
        assert_eq!(swapped("4930*", "0211*"), "a number pattern is not valid");
        assert_eq!(
            swapped("02-29..02-29", "02-30..02-30"),
            "a date or range that is not valid"
        );
        assert_eq!(
            swapped("4915790000003", "49 157"),
            "a number that is not E.164"
        );
        assert_eq!(
            swapped("sub", "s\"u>b"),
            "a menu name that is not one (letters, digits, - and _)"
        );
    }
}
