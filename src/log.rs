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
//! Lines never carry request bodies, credentials, or the caller's number.

use serde::Serialize;

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
    /// `simulated`, `refused`.
    pub msg: &'static str,
    /// The HTTP status answered.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// The rules version that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// KV reads this request made (0 when the isolate's cache served it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads: Option<u32>,
    /// The KV key that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The id of the rule that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The menu a `dtmf` push answered, and what the digits did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub menu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<&'static str>,
    /// The action answered (`dial`, `proceed`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
            reads: None,
            key: None,
            rule: None,
            menu: None,
            step: None,
            answer: None,
            error: None,
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
    /// `journal_failed`, `forward_failed`, `journal_retention`, `config`.
    pub msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// The receiver's HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Rows deleted by retention.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
