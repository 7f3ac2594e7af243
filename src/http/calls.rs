//! `GET /calls/{callId}`: a call's timeline from the journal.

use super::{Reply, Runtime, Services};
use crate::journal::timeline::{Expansion, Timeline};
use crate::log::{clip, Level, LogLine};

/// `GET /calls/{callId}`: every push of the call's legs, from the journal.
pub(super) async fn answer_call<R: Runtime>(call_id: &str, services: &Services<'_, R>) -> Reply {
    if !services.config.journal.bound {
        let mut reply = Reply::refuse(
            404,
            format!(
                "the journal is off: no D1 binding {}",
                crate::journal::sql::BINDING
            ),
        );
        reply.log.msg = "journal_off";
        return reply;
    }
    let mut expansion = Expansion::new(call_id);
    while let Some(call_ids) = expansion.next_query() {
        match services.runtime.journal_linked(&call_ids).await {
            Ok(entries) => expansion.add(entries),
            Err(error) => {
                let mut reply = Reply::refuse(503, format!("the journal cannot be read: {error}"));
                reply.log.level = Level::Error;
                reply.log.msg = "journal_unavailable";
                return reply;
            }
        }
    }
    let timeline: Timeline = expansion.finish(call_id);
    if timeline.is_empty() {
        return Reply::refuse(
            404,
            format!("no pushes recorded for call {}", clip(call_id)),
        );
    }
    let mut log = LogLine::new(Level::Info, "call", 200);
    log.call_id = Some(clip(call_id));
    Reply::json(
        serde_json::to_string_pretty(&timeline).unwrap_or_default() + "\n",
        log,
    )
}
