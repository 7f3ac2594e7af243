//! A push: the question it asks, the rules that answer it, the decision,
//! and what the shell writes once the answer is sent.

use super::live::{load, Loaded};
use super::{Record, Reply, Runtime, Services};
use crate::journal::entry::event_id;
use crate::journal::{Entry, Masking};
use crate::protocol::push::Push;
use crate::protocol::url::{HttpUrl, SelfUrl};
use crate::rules::decision::{decide, Decision, Question};

/// Where sipgate sends a call's answer and hangup: back to us when calls
/// are watched (the journal or the fan-out is on), so a push and its
/// simulation carry the same callbacks.
pub(super) fn watch_url<R: Runtime>(services: &Services<'_, R>, base: &SelfUrl) -> Option<HttpUrl> {
    match services.config.journal.watches_calls() {
        true => base.url(),
        false => None,
    }
}

/// Answers a push (its signature, if checked, already verified).
pub(super) async fn answer_push<R: Runtime>(
    body: &[u8],
    base: &SelfUrl,
    query: &str,
    services: &Services<'_, R>,
) -> Reply {
    let push = match Push::parse(body) {
        Ok(push) => push,
        Err(error) => return Reply::refuse(400, error.to_string()),
    };
    let question = Question::of(&push, query, services.now_ms.div_euclid(1000));
    let loaded = match question.rules_needed() {
        Some(wanted) => load(services, wanted).await,
        None => Loaded::not_needed(),
    };
    let watch = watch_url(services, base);
    let draft_base = loaded.draft().map(|version| base.for_draft(version));
    let base = draft_base.as_ref().unwrap_or(base);
    let decision = decide(&question, loaded.found(), base, watch.as_ref());
    let xml = decision.answer.xml();
    let log = decision.log_line(&push);
    let record = journal_record(&push, &decision, &xml, body, services);
    Reply {
        record,
        ..Reply::xml(xml.into_owned(), log)
    }
}

/// What the journal and the receivers get about an answered push.
fn journal_record<R: Runtime>(
    push: &Push,
    decision: &Decision<'_>,
    xml: &str,
    body: &[u8],
    services: &Services<'_, R>,
) -> Option<Box<Record>> {
    let journal = &services.config.journal;
    if !journal.watches_calls() {
        return None;
    }
    let at_ms = services.now_ms;
    let decision_ms = services.runtime.now_ms().saturating_sub(at_ms).max(0);
    // The password in the answer's URLs is for sipgate only.
    let xml = match &services.config.access.basic {
        Some(credentials) => credentials.redact(xml),
        None => std::borrow::Cow::Borrowed(xml),
    };
    let id = event_id(body);
    let entry = |masking| Entry {
        decision_ms: Some(decision_ms),
        event_id: Some(id.clone()),
        ..Entry::new(push, decision, &xml, masking, at_ms)
    };
    Some(Box::new(Record {
        event_id: id.clone(),
        stored: journal.recording.then(|| entry(journal.masking)),
        forwarded: (!journal.forwarding.receivers.is_empty()).then(|| entry(Masking::Off)),
    }))
}
