//! The call journal: every push, what was answered and why, kept in D1.
//!
//! One row per push (table `pushes`, `migrations/0001_journal.sql`),
//! written after the answer is sent; as JSON (`GET /calls/{callId}`, the
//! fan-out's body) an [`Entry`] reads:
//!
//! ```json
//! {"event":"newCall","atMs":1796029200000,"callId":"A1","origCallId":null,"xcid":"x1",
//!  "direction":"in","from":"49211*****67","to":"4921100000","users":["Alice"],
//!  "userIds":["w0"],"fullUserIds":["1234567w0"],"diversion":null,"answeringNumber":null,
//!  "cause":null,"dtmf":null,"version":7,"rule":"business-hours","menu":null,
//!  "step":null,"answer":"dial","xml":"<?xml …?><Response …>…</Response>","decisionMs":0,
//!  "eventId":"5f2c…"}
//! ```
//!
//! * [`entry`] — an [`Entry`] from a push and its answer; masking; the push's event id.
//! * [`timeline`] — the legs of a call across transfers and forwards, and rule hits.
//! * [`sql`] — the statements the worker and the CLI run.
//! * [`forward`] — the fan-out: receivers, body, signature.

pub mod entry;
pub mod forward;
pub mod sql;
pub mod timeline;

pub use entry::{Entry, Masking};
pub use forward::Forwarding;

use crate::setting;

/// Var: days the journal keeps pushes (default 30); the daily Cron Trigger
/// deletes older ones.
pub const RETENTION_DAYS: &str = "JOURNAL_RETENTION_DAYS";
const DEFAULT_RETENTION_DAYS: u32 = 30;
/// Ten years: the journal is for finding out what happened to calls, not an archive.
const MAX_RETENTION_DAYS: u32 = 3650;
/// Var: `off` stores the other party's number as sent (default: masked).
pub const MASK_NUMBERS: &str = "JOURNAL_MASK_NUMBERS";
/// Var: `off` pauses recording with the database still bound (what is
/// recorded stays readable); `on`, or not set, records.
pub const RECORDING: &str = "JOURNAL_RECORDING";

/// How the journal and the fan-out are configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalConfig {
    /// A D1 binding `JOURNAL` is configured: the journal can be read.
    pub bound: bool,
    /// Bound, and not paused by `JOURNAL_RECORDING=off`: pushes are recorded.
    pub recording: bool,
    pub masking: Masking,
    pub retention_days: u32,
    pub forwarding: Forwarding,
    /// Settings that were not taken, and why: logged once per isolate.
    pub problems: Vec<String>,
}

impl JournalConfig {
    /// From the vars (`None`: not set); problems with the forwarding
    /// settings are reported, and that part is off. A `JOURNAL_RECORDING`
    /// that is neither `on` nor `off` is reported and records: a typo must
    /// not silently lose the journal.
    pub fn from_settings(
        bound: bool,
        recording: Option<&str>,
        mask_numbers: Option<&str>,
        retention_days: Option<&str>,
        mut forwarding: Forwarding,
    ) -> JournalConfig {
        let mut problems = std::mem::take(&mut forwarding.problems);
        let paused = match recording.map(str::trim) {
            Some(value) if value.eq_ignore_ascii_case("off") => true,
            None | Some("") => false,
            Some(value) if value.eq_ignore_ascii_case("on") => false,
            Some(value) => {
                problems.push(format!(
                    "{RECORDING}={value:?} is neither on nor off: recording"
                ));
                false
            }
        };
        // 0 has always meant the default: keeping nothing is not a setting.
        let retention_days = retention_days.filter(|days| days.trim() != "0");
        let (retention_days, problem) = setting::number(
            RETENTION_DAYS,
            retention_days,
            1..=MAX_RETENTION_DAYS,
            DEFAULT_RETENTION_DAYS,
        );
        problems.extend(problem);
        JournalConfig {
            bound,
            recording: bound && !paused,
            masking: match mask_numbers.map(str::trim) {
                Some(value) if value.eq_ignore_ascii_case("off") => Masking::Off,
                _ => Masking::On,
            },
            retention_days,
            forwarding,
            problems,
        }
    }

    /// Whether pushes are seen by anyone: the journal or a receiver. Then
    /// every call the router answers gets `onAnswer`/`onHangup` pointing
    /// back at it (unless its rule sets them), so the whole call is seen.
    pub fn watches_calls(&self) -> bool {
        self.recording || !self.forwarding.receivers.is_empty()
    }

    /// Pushes recorded before this time (ms since the epoch) are deleted.
    pub fn retention_cutoff_ms(&self, now_ms: i64) -> i64 {
        now_ms - i64::from(self.retention_days) * 86_400_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(bound: bool, recording: Option<&str>) -> JournalConfig {
        JournalConfig::from_settings(bound, recording, None, None, Forwarding::default())
    }

    #[test]
    fn recording_needs_the_binding_and_can_be_paused() {
        let cases = [
            (false, None, false, false),
            (false, Some("on"), false, false),
            (true, None, true, true),
            (true, Some(""), true, true),
            (true, Some("on"), true, true),
            (true, Some("off"), true, false),
            (true, Some(" OFF "), true, false),
        ];
        for (bound, setting, readable, recording) in cases {
            let journal = settings(bound, setting);
            assert_eq!(
                (journal.bound, journal.recording, journal.watches_calls()),
                (readable, recording, recording),
                "bound {bound}, JOURNAL_RECORDING {setting:?}"
            );
            assert!(journal.problems.is_empty());
        }
    }

    #[test]
    fn a_recording_setting_not_understood_is_reported_and_records() {
        let journal = settings(true, Some("of"));
        assert!(journal.recording);
        assert_eq!(
            journal.problems,
            [r#"JOURNAL_RECORDING="of" is neither on nor off: recording"#]
        );
    }

    #[test]
    fn the_fan_outs_problems_are_the_journals_to_report() {
        let journal = JournalConfig::from_settings(
            false,
            Some("maybe"),
            None,
            None,
            Forwarding::from_settings(Some("ftp://crm.example"), None, None),
        );
        assert_eq!(journal.problems.len(), 2, "{:?}", journal.problems);
        assert!(journal.problems[0].contains("ftp://crm.example"));
        assert!(journal.forwarding.problems.is_empty());
    }
}
