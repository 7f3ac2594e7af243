//! Every sound a document makes sipgate play — menu prompts, `play`
//! actions, `gather` prompts — with its JSON path, and what fetching one
//! tells ([`judge`]): the same verdict for `check --sounds` (the CLI
//! fetches) and the admin API's `POST rules/sounds` (the worker fetches).
//!
//! ```json
//! {"path":"menus.after-hours.prompt","url":"https://…/after-hours.wav","status":"unplayable",
//!  "message":"44,100 Hz stereo: convert it with `sox in.wav -r 8000 -c 1 -b 16 out.wav`"}
//! ```

use serde::Serialize;

use super::spec::{ActionSpec, DocumentSpec, RuleSpec};
use crate::protocol::wav::{check, read_format};

/// At most this many fetches at once.
pub const CONCURRENT: usize = 4;
/// Per fetch, all of it.
pub const TIMEOUT_MS: u32 = 10_000;
/// Only the first bytes are read (`Range: bytes=0-4095`): the format is
/// named in them.
pub const FIRST_BYTES: usize = 4096;

/// How one sound went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sound {
    pub path: String,
    pub url: String,
    /// `ok`, `unplayable` (an error) or `unreachable` (a warning: the
    /// network of whoever checks may not be sipgate's).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Sound {
    pub fn is_error(&self) -> bool {
        self.status == "unplayable"
    }
}

/// The verdict on the sound at `url` from what fetching it gave: the HTTP
/// status (after redirects) and the first bytes, or why nothing came.
pub fn judge(path: &str, url: &str, fetched: Result<(u16, &[u8]), String>) -> Sound {
    let sound = |status, message: Option<String>| Sound {
        path: path.to_owned(),
        url: url.to_owned(),
        status,
        message,
    };
    match fetched {
        Err(why) => sound("unreachable", Some(why)),
        Ok((200 | 206, bytes)) => match read_format(bytes).and_then(check) {
            Ok(()) => sound("ok", None),
            Err(problem) => sound("unplayable", Some(problem.to_string())),
        },
        Ok((status, _)) => sound("unreachable", Some(format!("answered {status}"))),
    }
}

/// `(path, url)` of every sound of `spec`, in document order; a URL used
/// in several places is named at its first.
pub fn sound_urls(spec: &DocumentSpec) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut add = |path: String, url: &str| {
        if !found.iter().any(|(_, known)| known == url) {
            found.push((path, url.to_owned()));
        }
    };
    let action = |path: String, action: &ActionSpec, add: &mut dyn FnMut(String, &str)| match action
    {
        ActionSpec::Play { url } => add(format!("{path}.play.url"), url),
        ActionSpec::Gather {
            play: Some(play), ..
        } => add(format!("{path}.gather.play.url"), &play.url),
        _ => {}
    };
    for (name, menu) in &spec.menus {
        add(format!("menus.{name}.prompt"), &menu.prompt);
        for (digits, option) in &menu.options {
            action(format!("menus.{name}.options.{digits}"), option, &mut add);
        }
        for (field, fallback) in [("noInput", &menu.no_input), ("invalid", &menu.invalid)] {
            if let Some(fallback) = fallback {
                action(format!("menus.{name}.{field}"), fallback, &mut add);
            }
        }
    }
    let rules = |place: String, list: &[RuleSpec], add: &mut dyn FnMut(String, &str)| {
        for (index, rule) in list.iter().enumerate() {
            action(format!("{place}[{index}].then"), &rule.then, add);
        }
    };
    rules("global".to_owned(), &spec.global, &mut add);
    for (number, list) in &spec.numbers {
        rules(format!("numbers.{number}"), list, &mut add);
    }
    rules("default".to_owned(), &spec.default, &mut add);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::problem::parse_json;

    #[test]
    fn prompts_plays_and_gathers_each_once_with_their_paths() {
        let spec: DocumentSpec = parse_json(
            r#"{"menus": {"main": {"prompt": "https://s.example/main.wav",
                                   "options": {"1": {"play": {"url": "https://s.example/one.wav"}}},
                                   "noInput": {"play": {"url": "https://s.example/main.wav"}}}},
                "numbers": {"4921100000": [{"then": {"gather": {"onData": "https://crm.example/d",
                                                                 "play": {"url": "https://s.example/g.wav"}}}}]},
                "default": [{"then": {"play": {"url": "https://s.example/bye.wav"}}}]}"#,
        )
        .unwrap();
        assert_eq!(
            sound_urls(&spec),
            [
                (
                    "menus.main.prompt".to_owned(),
                    "https://s.example/main.wav".to_owned()
                ),
                (
                    "menus.main.options.1.play.url".to_owned(),
                    "https://s.example/one.wav".to_owned()
                ),
                (
                    "numbers.4921100000[0].then.gather.play.url".to_owned(),
                    "https://s.example/g.wav".to_owned()
                ),
                (
                    "default[0].then.play.url".to_owned(),
                    "https://s.example/bye.wav".to_owned()
                ),
            ]
        );
    }
}
