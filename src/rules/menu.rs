//! IVR menus without server-side state.
//!
//! A menu is answered with a `<Gather>` whose `onData` points back at the
//! router, carrying the menu and the attempt in its query:
//!
//! ```xml
//! <Gather onData="https://router.example/?menu=after-hours&amp;try=0" maxDigits="1" timeout="5000">
//!   <Play><Url>https://sounds.example.com/after-hours.wav</Url></Play>
//! </Gather>
//! ```
//!
//! sipgate then posts `event=dtmf&dtmf=1` to that URL, and the digits are
//! routed by the menu named there: an option, or after no or a wrong input
//! the menu again (up to `retries` times), then `noInput` / `invalid`.

use crate::protocol::form;
use crate::protocol::response::{Action, Gather, Play};
use crate::protocol::url::SelfUrl;

use super::model::{is_name, Menu, Outcome};

/// Which menu a `dtmf` push answers, read from the query of its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuState {
    pub menu: String,
    /// 0 the first time the menu is played, then 1, 2, … on retries.
    pub attempt: u32,
    /// The draft version that played the menu (`&draft=8`), when the call
    /// is a draft's test caller's.
    pub draft: Option<u64>,
}

impl MenuState {
    /// `menu=after-hours&try=1` (`&draft=8`); `None` when the query names no (valid) menu.
    pub fn from_query(query: &str) -> Option<MenuState> {
        let pairs = form::decode(query.as_bytes()).ok()?;
        let menu = pairs
            .iter()
            .find(|(key, _)| key == "menu")
            .map(|(_, value)| value)?;
        let attempt = pairs
            .iter()
            .find(|(key, _)| key == "try")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);
        let draft = pairs
            .iter()
            .find(|(key, _)| key == "draft")
            .and_then(|(_, value)| value.parse().ok());
        is_name(menu).then(|| MenuState {
            menu: menu.to_string(),
            attempt,
            draft,
        })
    }
}

/// What typed digits lead to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuStep<'m> {
    /// An option, or `noInput` / `invalid` after the retries.
    Outcome {
        outcome: &'m Outcome,
        reason: StepReason,
    },
    /// Play the menu again.
    Replay { attempt: u32, reason: StepReason },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepReason {
    Option,
    NoInput,
    Invalid,
}

impl StepReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StepReason::Option => "option",
            StepReason::NoInput => "no input",
            StepReason::Invalid => "invalid input",
        }
    }
}

impl Menu {
    /// The `<Gather>` that plays this menu; `None` only if the router's own
    /// URL cannot carry the menu (never for a URL that reached us).
    pub fn gather(&self, base: &SelfUrl, attempt: u32) -> Option<Action> {
        Some(Action::Gather(Gather {
            on_data: base.for_menu(&self.name, attempt)?,
            max_digits: Some(self.max_digits),
            timeout_ms: self.timeout_ms,
            kind: None,
            prompt: Some(Play {
                url: self.prompt.clone(),
            }),
        }))
    }

    /// Routes the digits of attempt `attempt` (empty: no input).
    pub fn step(&self, digits: &str, attempt: u32) -> MenuStep<'_> {
        if let Some(outcome) = self.options.get(digits) {
            return MenuStep::Outcome {
                outcome,
                reason: StepReason::Option,
            };
        }
        let (reason, fallback) = if digits.is_empty() {
            (StepReason::NoInput, &self.no_input)
        } else {
            (StepReason::Invalid, &self.invalid)
        };
        if attempt < self.retries {
            MenuStep::Replay {
                attempt: attempt + 1,
                reason,
            }
        } else {
            MenuStep::Outcome {
                outcome: fallback,
                reason,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_state_from_query() {
        assert_eq!(
            MenuState::from_query("menu=after-hours&try=2"),
            Some(MenuState {
                menu: "after-hours".into(),
                attempt: 2,
                draft: None,
            })
        );
        assert_eq!(
            MenuState::from_query("menu=main&try=1&draft=8")
                .unwrap()
                .draft,
            Some(8)
        );
        assert_eq!(MenuState::from_query("menu=main").unwrap().attempt, 0);
        assert_eq!(
            MenuState::from_query("menu=main&try=lots").unwrap().attempt,
            0
        );
        assert_eq!(MenuState::from_query("try=1"), None);
        assert_eq!(MenuState::from_query("menu=../admin"), None);
        assert_eq!(MenuState::from_query("menu=%ZZ"), None);
        assert_eq!(
            MenuState::from_query(&format!("menu={}", "m".repeat(65))),
            None
        );
    }
}
