//! `check --sounds`: fetches every sound a document makes sipgate play and
//! reads its first bytes (`protocol::wav`): a file sipgate cannot play is an
//! error (it would fail silently on a call), one that cannot be fetched a
//! warning (the network here may not be sipgate's).

use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

use sipgate_router::rules::sounds::{
    judge, sound_urls, Sound, CONCURRENT, FIRST_BYTES, TIMEOUT_MS,
};
use sipgate_router::rules::spec::DocumentSpec;

/// Connecting, within the whole fetch's time.
const CONNECT: Duration = Duration::from_secs(5);

/// Checks every sound of `spec`, `CONCURRENT` at a time, in document order.
pub fn check_sounds(spec: &DocumentSpec) -> Vec<Sound> {
    let urls = sound_urls(spec);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT)
        .timeout(Duration::from_millis(u64::from(TIMEOUT_MS)))
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
    let response = match agent
        .get(url)
        .set("Range", &format!("bytes=0-{}", FIRST_BYTES - 1))
        .call()
    {
        Ok(response) => response,
        Err(ureq::Error::Status(code, _)) => return judge(path, url, Ok((code, &[]))),
        Err(ureq::Error::Transport(transport)) => {
            let message = match transport.message() {
                Some(message) => format!("{}: {message}", transport.kind()),
                None => transport.kind().to_string(),
            };
            return judge(path, url, Err(message));
        }
    };
    let status = response.status();
    let mut bytes = Vec::new();
    if let Err(error) = response
        .into_reader()
        .take(FIRST_BYTES as u64)
        .read_to_end(&mut bytes)
    {
        return judge(path, url, Err(format!("its body cannot be read: {error}")));
    }
    judge(path, url, Ok((status, &bytes)))
}
