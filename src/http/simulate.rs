//! `POST /simulate`: a dry run against the live rules, as JSON.

use super::live::load;
use super::{Reply, Runtime, Services, TEXT};
use crate::log::{Level, LogLine};
use crate::protocol::url::SelfUrl;
use crate::rules::problem::parse_json;
use crate::rules::simulate::{simulate, CallInput};

pub(super) async fn answer_simulation<R: Runtime>(
    body: &[u8],
    base: &SelfUrl,
    services: &Services<'_, R>,
) -> Reply {
    let input: CallInput = match std::str::from_utf8(body)
        .map_err(|_| "the body is not UTF-8".to_owned())
        .and_then(|json| parse_json(json).map_err(|error| error.to_string()))
    {
        Ok(input) => input,
        Err(reason) => return Reply::refuse(400, reason),
    };
    let now_utc = services.now_ms.div_euclid(1000);
    // The shard of the number the call would be routed on.
    let loaded = load(services, input.sipgate_number().as_deref()).await;
    let mut log = LogLine::new(Level::Info, "simulated", 200);
    loaded.found().annotate(&mut log);
    let Some(live) = &loaded.live else {
        log.status = 503;
        return Reply {
            status: 503,
            headers: vec![("Content-Type", TEXT.to_owned())],
            body: format!(
                "rules unavailable: {}\n",
                log.error.clone().unwrap_or_default()
            ),
            log,
            record: None,
        };
    };
    let watch = super::push::watch_url(services, base);
    match simulate(
        live.rules.as_deref(),
        live.kill.as_ref(),
        Some(live.version),
        &input,
        base,
        watch.as_ref(),
        now_utc,
    ) {
        Ok(trace) => Reply::json(
            serde_json::to_string_pretty(&trace).unwrap_or_default() + "\n",
            log,
        ),
        Err(error) => Reply::refuse(400, error.0),
    }
}
