//! The push endpoint's HTTP behaviour, free of any runtime.
//!
//! ```text
//! POST /  Content-Type: application/x-www-form-urlencoded; charset=UTF-8
//! from=492111234567&to=4915791234567&direction=in
//!
//! 200  Content-Type: application/xml; charset=utf-8
//! <?xml version="1.0" encoding="UTF-8"?><Response/>
//! ```
//!
//! | request                                        | answer                        |
//! |------------------------------------------------|-------------------------------|
//! | not `POST`                                     | 405, `Allow: POST`            |
//! | body not `application/x-www-form-urlencoded`   | 415                           |
//! | body over 16 KiB                               | 413                           |
//! | not a push (`newCall` without `to`, …)         | 400, the reason in plain text |
//! | a push                                         | 200, XML — also when the store or a route fails |
//!
//! The edge shell calls [`admit`] before reading the body, reads at most
//! [`MAX_BODY_BYTES`], then calls [`answer`].

use crate::log::{Level, LogLine};
use crate::push::Push;
use crate::router::{decide, Outcome, RouteStore};
use crate::xml;

/// Largest body accepted; a real push is ~270 bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

const TEXT: &str = "text/plain; charset=utf-8";
const FORM: &str = "application/x-www-form-urlencoded";

/// What [`admit`] needs to know before the body is read.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    pub method: &'a str,
    pub content_type: Option<&'a str>,
    pub content_length: Option<&'a str>,
}

/// A complete HTTP answer plus the line to log about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub log: LogLine,
}

impl Reply {
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.as_str())
    }

    /// A plain-text refusal whose reason is both the body and the log line.
    fn refuse(status: u16, reason: String) -> Reply {
        let mut log = LogLine::new(Level::Warn, "refused", status);
        log.error = Some(reason.clone());
        Reply {
            status,
            headers: vec![("Content-Type", TEXT.to_owned())],
            body: reason + "\n",
            log,
        }
    }
}

/// Checks method, media type and declared length.
///
/// The refusal is boxed: it is the rare path, and keeps the `Ok` small.
pub fn admit(head: &RequestHead<'_>) -> Result<(), Box<Reply>> {
    if head.method != "POST" {
        let mut reply = Reply::refuse(
            405,
            format!(
                "method {} not allowed: sipgate.io pushes are POST requests",
                clip(head.method)
            ),
        );
        reply.headers.push(("Allow", "POST".to_owned()));
        return Err(Box::new(reply));
    }
    check_media_type(head.content_type).map_err(|reason| Box::new(Reply::refuse(415, reason)))?;
    if let Some(length) = head.content_length {
        match length.trim().parse::<u64>() {
            Ok(length) if length > MAX_BODY_BYTES as u64 => return Err(Box::new(body_too_large())),
            Ok(_) => {}
            Err(_) => {
                return Err(Box::new(Reply::refuse(
                    400,
                    "Content-Length is not a number".to_owned(),
                )))
            }
        }
    }
    Ok(())
}

/// The answer to a body longer than [`MAX_BODY_BYTES`].
pub fn body_too_large() -> Reply {
    Reply::refuse(
        413,
        format!("body larger than {MAX_BODY_BYTES} bytes: a push is a few hundred bytes"),
    )
}

/// The answer when the body cannot be read to its end (the client went away,
/// or sent less than it declared).
pub fn unreadable_body(reason: &str) -> Reply {
    Reply::refuse(400, format!("body could not be read: {}", clip(reason)))
}

/// `application/x-www-form-urlencoded`, optionally with `charset=UTF-8`.
fn check_media_type(content_type: Option<&str>) -> Result<(), String> {
    let Some(content_type) = content_type else {
        return Err(format!("missing Content-Type: a push is {FORM}"));
    };
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(FORM) {
        return Err(format!("Content-Type {} is not {FORM}", clip(essence)));
    }
    for parameter in parts {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !(value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8"))
        {
            return Err(format!(
                "charset {} is not supported: send UTF-8",
                clip(value)
            ));
        }
    }
    Ok(())
}

/// Answers a push body (already admitted and size-checked).
pub async fn answer(body: &[u8], store: &impl RouteStore) -> Reply {
    let push = match Push::parse(body) {
        Ok(push) => push,
        Err(error) => return Reply::refuse(400, error.to_string()),
    };
    let decision = decide(&push, store).await;
    let mut log = match decision.outcome {
        Outcome::Routed { key, rule_id } => {
            let mut log = LogLine::new(Level::Info, "routed", 200);
            log.key = Some(key);
            log.rule = rule_id;
            log
        }
        Outcome::NoRoute => LogLine::new(Level::Info, "no_route", 200),
        Outcome::NotRouted => LogLine::new(Level::Info, "not_routed", 200),
        Outcome::StoreFailed { key, error } => {
            let mut log = LogLine::new(Level::Error, "store_failed", 200);
            log.key = Some(key);
            log.error = Some(error.0);
            log
        }
        Outcome::BadRoute { key, error } => {
            let mut log = LogLine::new(Level::Error, "bad_route", 200);
            log.key = Some(key);
            log.error = Some(error.to_string());
            log
        }
    };
    log.event = Some(clip(push.event_name()));
    log.call_id = push.leg().call_id.as_deref().map(clip);
    log.answer = Some(decision.response.action_name());
    Reply {
        status: 200,
        headers: vec![("Content-Type", xml::CONTENT_TYPE.to_owned())],
        body: decision.response.to_xml(),
        log,
    }
}

/// Caller-supplied text echoed into a message or log, cut to a sane length.
fn clip(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut clipped: String = text.chars().take(MAX_CHARS).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::tests::{run, MemoryStore};
    use crate::router::DEFAULT_ROUTE_KEY;

    fn head<'a>(method: &'a str, content_type: Option<&'a str>) -> RequestHead<'a> {
        RequestHead {
            method,
            content_type,
            content_length: None,
        }
    }

    const FORM_UTF8: Option<&str> = Some("application/x-www-form-urlencoded; charset=UTF-8");

    #[test]
    fn only_post_is_allowed() {
        for method in ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "post"] {
            let reply = admit(&head(method, FORM_UTF8)).unwrap_err();
            assert_eq!(reply.status, 405, "{method}");
            assert!(reply.headers.contains(&("Allow", "POST".to_owned())));
            assert!(reply.body.contains("POST"));
        }
        assert!(admit(&head("POST", FORM_UTF8)).is_ok());
    }

    #[test]
    fn only_form_bodies_in_utf8_are_accepted() {
        for ok in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "Application/X-WWW-Form-Urlencoded;charset=\"utf-8\"",
            "application/x-www-form-urlencoded; boundary=ignored",
        ] {
            assert!(admit(&head("POST", Some(ok))).is_ok(), "{ok}");
        }
        for (bad, reason) in [
            (
                None,
                "missing Content-Type: a push is application/x-www-form-urlencoded",
            ),
            (
                Some("application/json"),
                "Content-Type application/json is not application/x-www-form-urlencoded",
            ),
            (
                Some("multipart/form-data; boundary=x"),
                "Content-Type multipart/form-data is not application/x-www-form-urlencoded",
            ),
            (
                Some("text/plain"),
                "Content-Type text/plain is not application/x-www-form-urlencoded",
            ),
            (
                Some("application/x-www-form-urlencoded; charset=ISO-8859-1"),
                "charset ISO-8859-1 is not supported: send UTF-8",
            ),
        ] {
            let reply = admit(&head("POST", bad)).unwrap_err();
            assert_eq!(reply.status, 415, "{bad:?}");
            assert_eq!(reply.body, format!("{reason}\n"));
            assert_eq!(reply.content_type(), Some(TEXT));
        }
    }

    #[test]
    fn declared_length_over_the_limit_is_refused_before_reading() {
        let mut request = head("POST", FORM_UTF8);
        request.content_length = Some("16384");
        assert!(admit(&request).is_ok());
        request.content_length = Some("16385");
        assert_eq!(admit(&request).unwrap_err().status, 413);
        request.content_length = Some("lots");
        assert_eq!(admit(&request).unwrap_err().status, 400);
    }

    #[test]
    fn a_push_is_answered_with_xml_and_one_log_line() {
        let store = MemoryStore::with(&[(
            DEFAULT_ROUTE_KEY,
            r#"{"id":"all","then":{"reject":{"reason":"busy"}}}"#,
        )]);
        let reply = run(answer(
            b"from=492111234567&to=4915791234567&direction=in&callId=abc",
            &store,
        ));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type(), Some("application/xml; charset=utf-8"));
        assert!(reply
            .body
            .ends_with("<Response><Reject reason=\"busy\"/></Response>"));
        assert_eq!(
            reply.log.to_json(),
            r#"{"level":"info","msg":"routed","status":200,"event":"newCall","callId":"abc","key":"route:default","rule":"all","answer":"reject"}"#
        );
    }

    #[test]
    fn an_unusable_push_gets_400_with_the_reason() {
        let reply = run(answer(
            b"from=492111234567&direction=in",
            &MemoryStore::default(),
        ));
        assert_eq!(reply.status, 400);
        assert_eq!(reply.body, "missing field `to`\n");
        assert_eq!(reply.log.level, Level::Warn);
    }

    #[test]
    fn store_failure_still_answers_200_xml_and_logs_an_error() {
        let store = MemoryStore {
            failing: Some("KV unavailable".into()),
            ..MemoryStore::default()
        };
        let reply = run(answer(b"to=4915791234567&direction=in", &store));
        assert_eq!(reply.status, 200);
        assert!(reply.body.ends_with("<Response/>"));
        assert_eq!(reply.log.level, Level::Error);
        assert_eq!(reply.log.msg, "store_failed");
        assert_eq!(reply.log.error.as_deref(), Some("KV unavailable"));
    }

    #[test]
    fn echoed_values_are_clipped() {
        let long = "x".repeat(500);
        let reply = admit(&head(&long, FORM_UTF8)).unwrap_err();
        assert!(reply.body.len() < 200);
    }
}
