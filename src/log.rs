//! One structured log line per request.
//!
//! Workers Logs and `wrangler tail` index JSON lines, so every request writes
//! exactly one, e.g.
//!
//! ```json
//! {"level":"info","msg":"routed","status":200,"event":"newCall","callId":"123456","key":"route:4915791234567","rule":"office","answer":"dial"}
//! {"level":"error","msg":"store_failed","status":200,"event":"newCall","key":"route:4915791234567","answer":"proceed","error":"KV GET failed"}
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
    /// What happened, one word: `routed`, `no_route`, `not_routed`,
    /// `store_failed`, `bad_route`, `refused`.
    pub msg: &'static str,
    /// The HTTP status answered.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// The store key that decided or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The id of the rule that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
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
            key: None,
            rule: None,
            answer: None,
            error: None,
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail; keep a line anyway.
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"msg\":\"{}\"}}", self.msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_json_object_without_empty_fields() {
        let mut line = LogLine::new(Level::Error, "store_failed", 200);
        line.key = Some("route:49157".into());
        line.error = Some("timeout \"x\"".into());
        assert_eq!(
            line.to_json(),
            r#"{"level":"error","msg":"store_failed","status":200,"key":"route:49157","error":"timeout \"x\""}"#
        );
    }
}
