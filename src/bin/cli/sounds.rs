//! `check --sounds`: fetches every sound a document makes sipgate play and
//! reads its first bytes (`protocol::wav`): a file sipgate cannot play is an
//! error (it would fail silently on a call), one that cannot be fetched a
//! warning (the network here may not be sipgate's).

use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;
use sipgate_router::protocol::wav::{check, read_format};
use sipgate_router::rules::sounds::sound_urls;
use sipgate_router::rules::spec::DocumentSpec;

/// At most this many fetches at once.
const CONCURRENT: usize = 4;
/// Per fetch: connecting, and the whole of it.
const CONNECT: Duration = Duration::from_secs(5);
const TIMEOUT: Duration = Duration::from_secs(10);
/// Only the first bytes are read: the format is named in them.
const FIRST_BYTES: u64 = 4096;

/// How one sound went.
#[derive(Debug, Clone, Serialize)]
pub struct Sound {
    pub path: String,
    pub url: String,
    /// `ok`, `unplayable` (an error) or `unreachable` (a warning).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Sound {
    pub fn is_error(&self) -> bool {
        self.status == "unplayable"
    }
}

/// Checks every sound of `spec`, `CONCURRENT` at a time, in document order.
pub fn check_sounds(spec: &DocumentSpec) -> Vec<Sound> {
    let urls = sound_urls(spec);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT)
        .timeout(TIMEOUT)
        .redirects(5)
        .build();
    let mut results: Vec<Option<Sound>> = vec![None; urls.len()];
    for batch in urls.chunks(CONCURRENT).enumerate() {
        let (number, batch) = batch;
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|scope| {
            for (offset, (path, url)) in batch.iter().enumerate() {
                let sender = sender.clone();
                let agent = agent.clone();
                scope.spawn(move || {
                    let _ = sender.send((number * CONCURRENT + offset, fetch(&agent, path, url)));
                });
            }
        });
        drop(sender);
        for (index, sound) in receiver {
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(sound);
            }
        }
    }
    results.into_iter().flatten().collect()
}

fn fetch(agent: &ureq::Agent, path: &str, url: &str) -> Sound {
    let sound = |status, message: Option<String>| Sound {
        path: path.to_owned(),
        url: url.to_owned(),
        status,
        message,
    };
    let response = match agent
        .get(url)
        .set("Range", &format!("bytes=0-{}", FIRST_BYTES - 1))
        .call()
    {
        Ok(response) => response,
        Err(ureq::Error::Status(code, _)) => {
            return sound("unreachable", Some(format!("answered {code}")))
        }
        Err(ureq::Error::Transport(transport)) => {
            let message = match transport.message() {
                Some(message) => format!("{}: {message}", transport.kind()),
                None => transport.kind().to_string(),
            };
            return sound("unreachable", Some(message));
        }
    };
    let mut bytes = Vec::new();
    if let Err(error) = response
        .into_reader()
        .take(FIRST_BYTES)
        .read_to_end(&mut bytes)
    {
        return sound(
            "unreachable",
            Some(format!("its body cannot be read: {error}")),
        );
    }
    match read_format(&bytes).and_then(check) {
        Ok(()) => sound("ok", None),
        Err(problem) => sound("unplayable", Some(problem.to_string())),
    }
}
