//! One structured log line per request.
//!
//! Workers Logs and `wrangler tail` index JSON lines, so every request writes
//! exactly one, e.g.
//!
//! ```json
//! {"level":"info","msg":"routed","status":200,"event":"newCall","callId":"123456","version":7,"reads":0,"rule":"business-hours","answer":"dial"}
//! {"level":"info","msg":"menu","status":200,"event":"dtmf","callId":"123456","version":7,"reads":1,"menu":"after-hours","step":"option","answer":"voicemail"}
//! {"level":"error","msg":"rules_unavailable","status":200,"event":"newCall","key":"rules:live","answer":"proceed","error":"reading rules:live failed: …"}
//! {"level":"warn","msg":"refused","status":400,"error":"missing field `to`"}
//! ```
//!
//! Lines never carry request bodies, credentials, or the caller's number,
//! and no value in a line is longer than [`MAX_VALUE_CHARS`]: an error
//! message may quote what it could not read (a corrupt KV value), and one
//! line must never grow with it.

use serde::{Serialize, Serializer};

/// The longest text value a log line carries; longer ones end in `…`.
pub const MAX_VALUE_CHARS: usize = 300;

/// Caller-supplied text echoed into a message or a log line, cut to 64
/// characters.
pub fn clip(text: &str) -> String {
    cut(text, 64)
}

/// Text that may quote what it could not read (a corrupt KV value), cut
/// to [`MAX_VALUE_CHARS`] where it is made, so no copy of it grows.
pub fn cap(text: &str) -> String {
    cut(text, MAX_VALUE_CHARS)
}

/// `text` cut to at most `max` characters (plus `…` when cut).
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
    }
}

/// Serializes an optional text value cut to [`MAX_VALUE_CHARS`].
fn capped<S: Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(text) => serializer.serialize_str(&cut(text, MAX_VALUE_CHARS)),
        None => serializer.serialize_none(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    pub level: Level,
    /// What happened, one word: `routed`, `no_match`, `no_rules`, `menu`,
    /// `unknown_menu`, `killed`, `not_routed`, `rules_unavailable`,
    /// `simulated`, `refused`, `redirected`.
    pub msg: &'static str,
    /// The HTTP status answered.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub call_id: Option<String>,
    /// The rules version that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The version is a draft, answering one of its test callers.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
    /// KV reads this request made (0 when the isolate's cache served it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads: Option<u32>,
    /// The KV key that failed.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub key: Option<String>,
    /// The id of the rule that decided.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub rule: Option<String>,
    /// The menu a `dtmf` push answered, and what the digits did.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub menu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<&'static str>,
    /// The action answered (`dial`, `proceed`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub error: Option<String>,
    /// Who changed the rules (an `admin` line: `step` says what).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub by: Option<String>,
    /// The isolate's wasm memory after an admin request, in MiB (of the
    /// isolate's 128 MB; it only grows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u32>,
}

impl LogLine {
    pub fn new(level: Level, msg: &'static str, status: u16) -> LogLine {
        LogLine {
            level,
            msg,
            status,
            event: None,
            call_id: None,
            version: None,
            draft: false,
            reads: None,
            key: None,
            rule: None,
            menu: None,
            step: None,
            answer: None,
            error: None,
            by: None,
            memory_mib: None,
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail; keep a line anyway.
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"msg\":\"{}\"}}", self.msg))
    }
}

/// A line about work done after the answer — the journal, the fan-out — or
/// on a schedule (retention):
///
/// ```json
/// {"level":"warn","msg":"forward_failed","callId":"123456","event":"newCall","receiver":"https://crm.example.com/in","status":502}
/// {"level":"error","msg":"journal_failed","callId":"123456","event":"hangup","error":"D1_ERROR: no such table: pushes"}
/// {"level":"info","msg":"journal_retention","deleted":1200}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskLine {
    pub level: Level,
    /// `journal_failed`, `forward_failed`, `duplicate_push`, `journal_retention`, `config`.
    pub msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub call_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub receiver: Option<String>,
    /// The receiver's HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Rows deleted by retention.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "capped")]
    pub error: Option<String>,
}

impl TaskLine {
    pub fn new(level: Level, msg: &'static str) -> TaskLine {
        TaskLine {
            level,
            msg,
            call_id: None,
            event: None,
            receiver: None,
            status: None,
            deleted: None,
            error: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"msg\":\"{}\"}}", self.msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_json_object_without_empty_fields() {
        let mut line = LogLine::new(Level::Error, "rules_unavailable", 200);
        line.key = Some("rules:live".into());
        line.error = Some("timeout \"x\"".into());
        assert_eq!(
            line.to_json(),
            r#"{"level":"error","msg":"rules_unavailable","status":200,"key":"rules:live","error":"timeout \"x\""}"#
        );
    }

    #[test]
    fn no_value_grows_a_line_past_its_cap() {
        let huge = "x".repeat(1 << 20);
        let mut line = LogLine::new(Level::Error, "rules_unavailable", 200);
        line.key = Some(huge.clone());
        line.error = Some(huge.clone());
        line.call_id = Some(huge.clone());
        line.rule = Some(huge.clone());
        line.menu = Some(huge.clone());
        line.event = Some(huge.clone());
        assert!(
            line.to_json().len() < 7 * (MAX_VALUE_CHARS + 10),
            "{}",
            line.to_json().len()
        );
        let mut task = TaskLine::new(Level::Error, "journal_failed");
        task.error = Some(huge.clone());
        task.receiver = Some(huge.clone());
        task.call_id = Some(huge.clone());
        task.event = Some(huge);
        assert!(task.to_json().len() < 5 * (MAX_VALUE_CHARS + 10));
        let mut short = TaskLine::new(Level::Warn, "config");
        short.error = Some("é".repeat(MAX_VALUE_CHARS));
        assert!(
            short.to_json().contains(&"é".repeat(MAX_VALUE_CHARS)),
            "a value at the cap is whole"
        );
        short.error = Some("é".repeat(MAX_VALUE_CHARS + 1));
        assert!(short
            .to_json()
            .contains(&format!("{}…", "é".repeat(MAX_VALUE_CHARS))));
    }

    #[test]
    fn clip_cuts_at_characters() {
        assert_eq!(clip("short"), "short");
        assert_eq!(clip(&"ü".repeat(64)), "ü".repeat(64));
        assert_eq!(clip(&"ü".repeat(65)), format!("{}…", "ü".repeat(64)));
    }

    #[test]
    fn task_lines_leave_out_what_they_do_not_know() {
        let mut line = TaskLine::new(Level::Warn, "forward_failed");
        line.receiver = Some("https://crm.example.com/in".into());
        line.status = Some(502);
        assert_eq!(
            line.to_json(),
            r#"{"level":"warn","msg":"forward_failed","receiver":"https://crm.example.com/in","status":502}"#
        );
    }
}
