//! `POST /admin/api/rules/sounds`: the worker fetches the first bytes of
//! every sound a document makes sipgate play and says which it cannot
//! play — the verdict of `check --sounds` ([`rules::sounds::judge`]), from
//! the edge instead of the operator's machine.
//!
//! ```text
//! POST /admin/api/rules/sounds   (a rules document)
//! {"sounds":[{"path":"menus.after-hours.prompt","url":"https://…","status":"ok"},…],
//!  "errors":0,"warnings":1,"unchecked":[]}
//! ```
//!
//! Bounded like the CLI: 4 fetches at a time, 10 s each, 4 KiB each; and at
//! most [`MAX_SOUNDS`] per request (a Worker's subrequests are limited: 50
//! on the free plan). Sounds beyond it are listed as unchecked.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

use serde::Serialize;

use super::admin::{ok, text};
use super::{Reply, Runtime, Services};
use crate::rules::check::read_spec;
use crate::rules::problem::DocumentError;
use crate::rules::sounds::{judge, sound_urls, Sound, CONCURRENT, FIRST_BYTES, TIMEOUT_MS};
use crate::rules::spec::DocumentSpec;

/// The most sounds one request fetches (of a Worker's 50 subrequests on
/// the free plan; the rest are for the request's own needs).
pub const MAX_SOUNDS: usize = 40;

/// What `POST rules/sounds` answers.
#[derive(Debug, Serialize)]
pub struct SoundsReport {
    pub sounds: Vec<Sound>,
    /// Unplayable sounds.
    pub errors: usize,
    /// Sounds that could not be fetched.
    pub warnings: usize,
    /// `{"path","url"}` of sounds beyond [`MAX_SOUNDS`]: `check --sounds`
    /// fetches them all.
    pub unchecked: Vec<Unchecked>,
}

#[derive(Debug, Serialize)]
pub struct Unchecked {
    pub path: String,
    pub url: String,
}

/// Checks the sounds of `spec` through the runtime's `fetch`.
pub async fn check_sounds<R: Runtime>(spec: &DocumentSpec, runtime: &R) -> SoundsReport {
    let mut urls = sound_urls(spec);
    let beyond = urls.split_off(MAX_SOUNDS.min(urls.len()));
    let mut sounds = Vec::with_capacity(urls.len());
    for batch in urls.chunks(CONCURRENT) {
        let fetched = all(batch
            .iter()
            .map(|(_, url)| runtime.fetch_start(url, FIRST_BYTES, TIMEOUT_MS))
            .collect())
        .await;
        for ((path, url), result) in batch.iter().zip(fetched) {
            sounds.push(judge(
                path,
                url,
                result
                    .as_ref()
                    .map(|(status, bytes)| (*status, bytes.as_slice()))
                    .map_err(Clone::clone),
            ));
        }
    }
    SoundsReport {
        errors: sounds.iter().filter(|sound| sound.is_error()).count(),
        warnings: sounds
            .iter()
            .filter(|sound| sound.status == "unreachable")
            .count(),
        sounds,
        unchecked: beyond
            .into_iter()
            .map(|(path, url)| Unchecked { path, url })
            .collect(),
    }
}

/// Every future of `futures` run together, their outputs in order: a batch
/// of a few fetches (futures-util's `join_all` costs 2 KiB more of wasm for
/// what it does with many).
async fn all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut running: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = running.iter().map(|_| None).collect();
    poll_fn(|context| {
        for (future, output) in running.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                if let Poll::Ready(value) = future.as_mut().poll(context) {
                    *output = Some(value);
                }
            }
        }
        match outputs.iter().all(Option::is_some) {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Answers `POST rules/sounds`: boxed as a `dyn` future, so that the admin
/// API's own future does not carry this one's state inline (12 KB of wasm).
pub(super) fn answer<'a, R: Runtime>(
    body: &'a [u8],
    services: &'a Services<'a, R>,
) -> Pin<Box<dyn Future<Output = Reply> + 'a>> {
    Box::pin(answer_sounds(body, services))
}

async fn answer_sounds<R: Runtime>(body: &[u8], services: &Services<'_, R>) -> Reply {
    let source = match text(body) {
        Ok(source) => source,
        Err(reply) => return *reply,
    };
    let spec = match read_spec(source) {
        Ok(spec) => spec,
        Err(error) => return super::admin::document_error(&error as &DocumentError),
    };
    let report = check_sounds(&spec, services.runtime).await;
    ok(
        serde_json::to_value(report).unwrap_or_default(),
        "admin_read",
    )
}
