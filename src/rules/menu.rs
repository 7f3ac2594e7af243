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
use crate::protocol::url::{userinfo, HttpUrl};

use super::check::{is_name, Menu, Outcome};

/// Where sipgate reaches the router: the push's URL without its query
/// (`https://router.example.workers.dev/sipgate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfUrl(String);

impl SelfUrl {
    /// From the URL a push was sent to; the query and fragment are dropped.
    pub fn from_request_url(url: &str) -> Option<SelfUrl> {
        let base = url.split(['?', '#']).next().unwrap_or_default();
        HttpUrl::parse(base)
            .ok()
            .map(|url| SelfUrl(url.as_str().to_owned()))
    }

    /// The same URL with basic-auth credentials in it
    /// (`https://user:password@host/…`): sipgate only knows the credentials
    /// of the URL the user entered, so the URLs the router hands it for
    /// menu digits must carry them.
    pub fn with_credentials(&self, user: &str, password: &str) -> Option<SelfUrl> {
        let (scheme, rest) = self.0.split_once("://")?;
        // Drop credentials the request URL may already show.
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.rsplit('@').next().unwrap_or(authority);
        let url = format!(
            "{scheme}://{}:{}@{host}{path}",
            userinfo(user),
            userinfo(password)
        );
        HttpUrl::parse(&url)
            .ok()
            .map(|url| SelfUrl(url.as_str().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL itself, for `onAnswer`/`onHangup` pointing back at the router.
    pub fn url(&self) -> Option<HttpUrl> {
        HttpUrl::parse(&self.0).ok()
    }

    /// The URL a menu's digits are posted to.
    fn for_menu(&self, menu: &str, attempt: u32) -> Option<HttpUrl> {
        HttpUrl::parse(&format!("{}?menu={menu}&try={attempt}", self.0)).ok()
    }
}

/// Which menu a `dtmf` push answers, read from the query of its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuState {
    pub menu: String,
    /// 0 the first time the menu is played, then 1, 2, … on retries.
    pub attempt: u32,
}

impl MenuState {
    /// `menu=after-hours&try=1`; `None` when the query names no (valid) menu.
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
        is_name(menu).then(|| MenuState {
            menu: menu.to_string(),
            attempt,
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
    fn self_url_drops_query_and_fragment() {
        let base =
            SelfUrl::from_request_url("https://router.example/sipgate?menu=x&try=1#f").unwrap();
        assert_eq!(
            base.for_menu("main", 2).unwrap().as_str(),
            "https://router.example/sipgate?menu=main&try=2"
        );
        assert!(SelfUrl::from_request_url("/relative").is_none());
    }

    #[test]
    fn credentials_go_into_the_url() {
        let base = SelfUrl::from_request_url("https://router.example/sipgate").unwrap();
        let with = base.with_credentials("sipgate", "p@ss:w/rd ü").unwrap();
        assert_eq!(
            with.for_menu("main", 0).unwrap().as_str(),
            "https://sipgate:p%40ss%3Aw%2Frd%20%C3%BC@router.example/sipgate?menu=main&try=0"
        );
        let already = SelfUrl::from_request_url("https://old:creds@router.example/").unwrap();
        assert_eq!(
            already.with_credentials("u", "p").unwrap().0,
            "https://u:p@router.example/"
        );
    }

    #[test]
    fn menu_state_from_query() {
        assert_eq!(
            MenuState::from_query("menu=after-hours&try=2"),
            Some(MenuState {
                menu: "after-hours".into(),
                attempt: 2
            })
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
