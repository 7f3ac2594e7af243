//! What the rules targets ask of any rules they get: the sample calls and
//! menu digits they decide, and the grammar every answer must keep.

use sipgate_router::rules::menu::MenuState;
use sipgate_router::rules::simulate::{Call, CallInput};
use sipgate_router::rules::RuleSet;

/// Digits typed into each menu.
pub const DIGITS: [&str; 6] = ["", "1", "2", "12", "#", "999"];

/// An incoming call to a number, an anonymous one, an outgoing one, each at
/// three instants (a weekday morning, a weekend, a holiday season day).
pub fn calls(rules: &RuleSet) -> Vec<Call> {
    let mut calls = Vec::new();
    for (from, to, direction) in [
        ("492111234567", "4921100000", "in"),
        ("anonymous", "4930200000000", "in"),
        ("4921100000", "4915791234567", "out"),
    ] {
        for utc in [1_795_856_400, 1_796_029_200, 1_798_000_000] {
            let input = CallInput {
                from: from.into(),
                to: to.into(),
                direction: direction.into(),
                ..CallInput::default()
            };
            calls.push(Call::parse(&input, &rules.zone, utc).unwrap());
        }
    }
    calls
}

/// Every menu of `rules` at its first three attempts.
pub fn menu_states(rules: &RuleSet) -> Vec<MenuState> {
    let mut states = Vec::new();
    for menu in rules.menus.keys() {
        for attempt in 0..3 {
            states.push(MenuState { menu: menu.clone(), attempt, draft: None });
        }
    }
    states
}

/// Well-formed XML the protocol grammar allows: one root, at most one action.
pub fn well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    let mut roots = 0;
    let mut actions = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                } else if depth == 1 {
                    actions += 1;
                }
                depth += 1;
            }
            Ok(quick_xml::events::Event::Empty(_)) => {
                if depth == 0 {
                    roots += 1;
                } else if depth == 1 {
                    actions += 1;
                }
            }
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!("not well-formed: {error}: {xml}"),
        }
    }
    assert_eq!((roots, depth), (1, 0), "{xml}");
    assert!(actions <= 1, "{xml}");
}
