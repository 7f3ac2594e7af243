//! The draft's routes of the admin API: what it is, promote, discard
//! (publishing one is `PUT draft`, the publish route with test callers).
//!
//! ```text
//! GET    /admin/api/draft             {"live":7,"draft":{"version":8,"shards":1,"callers":["4915790000123"],"base":7},"entry":{…}}
//! POST   /admin/api/draft/promote     {} or {"force":true}  →  {"from":7,"to":{"version":8,…}}
//! DELETE /admin/api/draft             {"discarded":{"version":8,…}}
//! ```

use serde::Deserialize;
use serde_json::json;

use super::admin::{failed, ok, refuse, text, written, AdminRequest, Route};
use super::{Reply, Runtime, Services};
use crate::rules::problem::parse_json;
use crate::store::admin::{self as store_admin, AdminError};

/// Answers `GET draft`, `POST draft/promote` and `DELETE draft`.
pub(super) async fn answer<R: Runtime>(
    request: &AdminRequest,
    body: &[u8],
    services: &Services<'_, R>,
) -> Result<Reply, Reply> {
    let store = services.runtime;
    let fail = |error: AdminError| failed(&error);
    Ok(match &request.route {
        Route::Draft => {
            let status = store_admin::status(store).await.map_err(fail)?;
            match status.draft {
                None => return Err(refuse(404, "there is no draft")),
                Some(draft) => ok(
                    json!({ "live": status.live_version, "draft": draft, "entry": status.draft_entry }),
                    "admin_read",
                ),
            }
        }
        Route::Promote => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Promote {
                #[serde(default)]
                force: bool,
            }
            let text = text(body).map_err(|reply| *reply)?;
            let asked: Promote = if text.trim().is_empty() {
                Promote { force: false }
            } else {
                parse_json(text).map_err(|error| refuse(400, error.to_string()))?
            };
            let done = store_admin::promote(store, asked.force)
                .await
                .map_err(fail)?;
            let version = done.to.version;
            let step = if done.replaced.is_some() {
                "promote_forced"
            } else {
                "promote"
            };
            written(
                serde_json::to_value(done).unwrap_or_default(),
                step,
                &request.by,
                version,
            )
        }
        Route::Discard => {
            let draft = store_admin::discard(store).await.map_err(fail)?;
            let version = draft.version;
            written(
                json!({ "discarded": draft }),
                "discard",
                &request.by,
                version,
            )
        }
        _ => return Err(refuse(404, "not a draft route")),
    })
}
