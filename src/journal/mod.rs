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
//!  "step":null,"answer":"dial","xml":"<?xml …?><Response …>…</Response>","decisionMs":0}
//! ```
//!
//! * [`entry`] — an [`Entry`] from a push and its answer; masking; the dedup key.
//! * [`timeline`] — the legs of a call across transfers and forwards, and rule hits.
//! * [`sql`] — the statements the worker and the CLI run.
//! * [`forward`] — the fan-out: receivers, body, signature.

pub mod entry;
pub mod forward;
pub mod sql;
pub mod timeline;

pub use entry::{Entry, Masking};
pub use forward::Forwarding;

/// Var: days the journal keeps pushes (default 30); the daily Cron Trigger
/// deletes older ones.
pub const RETENTION_DAYS: &str = "JOURNAL_RETENTION_DAYS";
const DEFAULT_RETENTION_DAYS: u32 = 30;
/// Var: `off` stores the other party's number as sent (default: masked).
pub const MASK_NUMBERS: &str = "JOURNAL_MASK_NUMBERS";

/// How the journal and the fan-out are configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalConfig {
    /// A D1 binding `JOURNAL` is configured: pushes are recorded.
    pub recording: bool,
    pub masking: Masking,
    pub retention_days: u32,
    pub forwarding: Forwarding,
}

impl JournalConfig {
    /// From the vars (`None`: not set); problems with the forwarding
    /// settings are reported, and that part is off.
    pub fn from_settings(
        recording: bool,
        mask_numbers: Option<&str>,
        retention_days: Option<&str>,
        forwarding: Forwarding,
    ) -> JournalConfig {
        JournalConfig {
            recording,
            masking: match mask_numbers.map(str::trim) {
                Some(value) if value.eq_ignore_ascii_case("off") => Masking::Off,
                _ => Masking::On,
            },
            retention_days: retention_days
                .and_then(|days| days.trim().parse::<u32>().ok())
                .filter(|days| *days > 0)
                .unwrap_or(DEFAULT_RETENTION_DAYS),
            forwarding,
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
