//! Dry runs against the live rules, as JSON: `POST /simulate` (one call,
//! its trace) and `POST /admin/api/schedule` (a number's outcomes over
//! days). Both read the shard of one number and decide with the core.
//!
//! One function for both, so the wasm holds one copy of the shard read's
//! state machine (a second `load().await` cost 11 KiB).

use super::live::load;
use super::{Reply, Runtime, Services, TEXT};
use crate::log::{Level, LogLine};
use crate::protocol::url::SelfUrl;
use crate::rules::problem::parse_json;
use crate::rules::schedule::{schedule, ScheduleInput};
use crate::rules::simulate::{simulate, Against, CallInput};

/// Which dry run a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DryRun {
    /// `POST /simulate`: one call → [`Trace`](crate::rules::simulate::Trace).
    Call,
    /// `POST /admin/api/schedule` → [`Schedule`](crate::rules::schedule::Schedule).
    Schedule,
}

/// A dry run's input, read.
enum Input {
    Call(CallInput),
    Schedule(ScheduleInput),
}

impl DryRun {
    fn read(self, body: &[u8]) -> Result<Input, String> {
        let json = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
        let read = match self {
            DryRun::Call => parse_json(json).map(Input::Call),
            DryRun::Schedule => parse_json(json).map(Input::Schedule),
        };
        read.map_err(|error| error.to_string())
    }

    /// A refusal as this route answers them: plain text for `/simulate`
    /// (as it always has), `{"error"}` for the admin API's schedule.
    fn refuse(self, status: u16, reason: String) -> Reply {
        match self {
            DryRun::Call => Reply::refuse(status, reason),
            DryRun::Schedule => super::admin::refuse(status, reason),
        }
    }
}

pub(super) async fn answer_dry_run<R: Runtime>(
    asked: DryRun,
    body: &[u8],
    base: &SelfUrl,
    services: &Services<'_, R>,
) -> Reply {
    let input = match asked.read(body) {
        Ok(input) => input,
        Err(reason) => return asked.refuse(400, reason),
    };
    let number = match &input {
        Input::Call(call) => call.sipgate_number(),
        Input::Schedule(chart) => chart.sipgate_number(),
    };
    let now_utc = services.now_ms.div_euclid(1000);
    // The shard of the number the call would be routed on.
    let loaded = load(services, number.as_deref().into()).await;
    let msg = match asked {
        DryRun::Call => "simulated",
        DryRun::Schedule => "admin_read",
    };
    let mut log = LogLine::new(Level::Info, msg, 200);
    loaded.found().annotate(&mut log);
    let Some(live) = &loaded.live else {
        let reason = format!(
            "rules unavailable: {}",
            log.error.clone().unwrap_or_default()
        );
        if asked == DryRun::Schedule {
            return asked.refuse(503, reason);
        }
        log.status = 503;
        return Reply {
            status: 503,
            headers: vec![("Content-Type", TEXT.to_owned())],
            body: reason + "\n",
            log,
            record: None,
        };
    };
    let watch = super::push::watch_url(services, base);
    decided(asked, &input, live, base, watch.as_ref(), now_utc, log)
}

/// The dry run, once its shard is read.
fn decided(
    asked: DryRun,
    input: &Input,
    live: &crate::store::Live,
    base: &SelfUrl,
    watch: Option<&crate::protocol::url::HttpUrl>,
    now_utc: i64,
    log: LogLine,
) -> Reply {
    let against = Against {
        rules: live.rules.as_deref(),
        kill: live.kill.as_ref(),
        version: Some(live.version),
        base,
        watch,
    };
    let answered = match input {
        Input::Call(call) => {
            simulate(&against, call, now_utc).map(|trace| serde_json::to_string_pretty(&trace))
        }
        Input::Schedule(chart) => {
            schedule(&against, chart, now_utc).map(|chart| serde_json::to_string(&chart))
        }
    };
    match answered {
        Ok(json) => Reply::json(json.unwrap_or_default() + "\n", log),
        Err(error) => asked.refuse(400, error.0),
    }
}
