//! The live rules for a push, within the KV time budget; when they cannot
//! be had, the isolate's last-known-good rules; when there are none either,
//! none (the call proceeds). What happened on the way is a [`Note`].

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use futures_util::future::{select, Either};

use super::{Runtime, Services};
use crate::log::Level;
use crate::rules::decision::{Found, Note, Wanted};
use crate::store::{last_known_good, load_live, Live, LoadError};

/// The rules as loaded for one request.
#[derive(Debug, Default)]
pub(super) struct Loaded {
    pub live: Option<Live>,
    /// The live rules came from KV or the cache (not the last-known-good).
    fresh: bool,
    pub note: Option<Note>,
}

impl Loaded {
    /// For a push that needs no rules.
    pub fn not_needed() -> Loaded {
        Loaded::default()
    }

    /// The draft answering, if one is: its menus name it in their URLs.
    pub fn draft(&self) -> Option<u64> {
        self.live
            .as_ref()
            .filter(|live| live.draft)
            .map(|live| live.version)
    }

    /// What was found, for the decision.
    pub fn found(&self) -> Found<'_> {
        let live = self.live.as_ref();
        Found {
            version: live.map(|live| live.version),
            draft: live.is_some_and(|live| live.draft),
            rules: live.and_then(|live| live.rules.as_deref()),
            kill: live.and_then(|live| live.kill.as_ref()),
            reads: live.filter(|_| self.fresh).map(|live| live.reads),
            note: self.note.clone(),
        }
    }
}

/// Loads the rules a push wants: its number's shard, of the live version
/// or of the draft.
pub(super) async fn load<R: Runtime>(services: &Services<'_, R>, wanted: Wanted<'_>) -> Loaded {
    match within_budget(services, wanted).await {
        Ok(live) => Loaded {
            note: live.warning.clone().map(|message| Note {
                level: Level::Error,
                key: None,
                message,
            }),
            live: Some(live),
            fresh: true,
        },
        Err(error) => {
            let live = last_known_good(services.cache, wanted);
            let message = match &live {
                Some(live) => format!(
                    "{error}; answered from the last-known-good rules (version {})",
                    live.version
                ),
                None => error.to_string(),
            };
            Loaded {
                live,
                fresh: false,
                note: Some(Note {
                    level: Level::Error,
                    key: error.key().map(str::to_owned),
                    message,
                }),
            }
        }
    }
}

/// [`load_live`] racing the KV time budget. A warm isolate answers without
/// waiting: no timer for it.
async fn within_budget<R: Runtime>(
    services: &Services<'_, R>,
    wanted: Wanted<'_>,
) -> Result<Live, LoadError> {
    let budget_ms = services.config.kv_budget_ms;
    let mut loading = pin!(load_live(
        services.cache,
        services.runtime,
        wanted,
        services.now_ms,
        services.config.cache_ms,
    ));
    match poll_fn(|context| Poll::Ready(loading.as_mut().poll(context))).await {
        Poll::Ready(result) => result,
        Poll::Pending => {
            let deadline = pin!(services.runtime.sleep(budget_ms));
            match select(loading, deadline).await {
                Either::Left((result, _)) => result,
                // The KV read is abandoned, not awaited: sipgate is answered now.
                Either::Right(((), _)) => Err(LoadError::TimedOut { budget_ms }),
            }
        }
    }
}
