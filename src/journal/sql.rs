//! The journal's SQL (D1 is SQLite), shared by the worker (with bound
//! parameters) and the CLI (through `wrangler d1 execute`, which takes no
//! parameters: [`inline`] quotes them in).
//!
//! The table is created by `migrations/0001_journal.sql`.

use super::Entry;

/// The D1 binding that turns the journal on.
pub const BINDING: &str = "JOURNAL";

/// A parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Integer(i64),
    Text(String),
}

impl From<Option<String>> for Value {
    fn from(text: Option<String>) -> Value {
        text.map_or(Value::Null, Value::Text)
    }
}

/// Stores a push once: a repeat (same event id, in the `dedup` column) is
/// ignored, and the result's `meta.changes` is 0.
pub const INSERT: &str = "INSERT INTO pushes (dedup, at_ms, event, call_id, orig_call_id, xcid, \
direction, from_number, to_number, users, user_ids, full_user_ids, diversion, answering_number, \
cause, dtmf, version, rule, menu, step, answer, xml, decision_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23) \
ON CONFLICT (dedup) DO NOTHING";

/// The parameters of [`INSERT`], in order.
pub fn insert_values(event_id: &str, entry: &Entry) -> Vec<Value> {
    let integer = |value: Option<i64>| value.map_or(Value::Null, Value::Integer);
    vec![
        Value::Text(event_id.to_owned()),
        Value::Integer(entry.at_ms),
        Value::Text(entry.event.clone()),
        entry.call_id.clone().into(),
        entry.orig_call_id.clone().into(),
        entry.xcid.clone().into(),
        entry.direction.clone().into(),
        entry.from.clone().into(),
        entry.to.clone().into(),
        Value::Text(entry.users.to_json()),
        Value::Text(entry.user_ids.to_json()),
        Value::Text(entry.full_user_ids.to_json()),
        entry.diversion.clone().into(),
        entry.answering_number.clone().into(),
        entry.cause.clone().into(),
        entry.dtmf.clone().into(),
        integer(
            entry
                .version
                .and_then(|version| i64::try_from(version).ok()),
        ),
        entry.rule.clone().into(),
        entry.menu.clone().into(),
        entry.step.clone().into(),
        entry.answer.clone().into(),
        entry.xml.clone().into(),
        integer(entry.decision_ms),
    ]
}

/// The columns as an [`Entry`] reads them.
const COLUMNS: &str = "event, at_ms AS atMs, call_id AS callId, orig_call_id AS origCallId, xcid, \
direction, from_number AS \"from\", to_number AS \"to\", users, user_ids AS userIds, \
full_user_ids AS fullUserIds, diversion, answering_number AS answeringNumber, cause, dtmf, \
version, rule, menu, step, answer, xml, decision_ms AS decisionMs, dedup AS eventId";

/// The pushes whose `callId` or `origCallId` is one of `count` ids,
/// bound as `?1` … `?count`.
pub fn select_linked(count: usize) -> String {
    let list = (1..=count.max(1))
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {COLUMNS} FROM pushes WHERE call_id IN ({list}) OR orig_call_id IN ({list}) \
         ORDER BY at_ms, id"
    )
}

/// The latest calls (their `newCall` pushes) from `?1` to `?2` (ms), at
/// most `?3`, with how each ended; `number` filters on either side or the
/// diversion (`?4`).
pub fn select_calls(with_number: bool) -> String {
    let filter = if with_number {
        " AND (from_number = ?4 OR to_number = ?4 OR diversion = ?4)"
    } else {
        ""
    };
    format!(
        "SELECT {COLUMNS_OF_CALL} FROM pushes AS p WHERE event = 'newCall' AND at_ms >= ?1 \
         AND at_ms < ?2{filter} ORDER BY at_ms DESC, id DESC LIMIT ?3",
        COLUMNS_OF_CALL = COLUMNS
            .replace("cause,", "(SELECT h.cause FROM pushes AS h WHERE h.call_id = p.call_id AND h.event = 'hangup' LIMIT 1) AS cause,")
    )
}

/// Per rule: how many calls it decided from `?1` to `?2` (ms), and when last.
pub const HITS: &str = "SELECT rule, COUNT(*) AS hits, MAX(at_ms) AS lastAtMs FROM pushes \
WHERE event = 'newCall' AND rule IS NOT NULL AND at_ms >= ?1 AND at_ms < ?2 GROUP BY rule";

/// Retention: deletes the pushes recorded before `?1` (ms).
pub const DELETE_BEFORE: &str = "DELETE FROM pushes WHERE at_ms < ?1";

/// `sql` with its `?N` parameters replaced by SQL literals, for tools that
/// take no parameters. Text is quoted with `'` doubled; NUL, which SQLite
/// text cannot hold reliably, is refused.
pub fn inline(sql: &str, values: &[Value]) -> Result<String, String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(position) = rest.find('?') {
        out.push_str(&rest[..position]);
        let after = &rest[position + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let index: usize = after[..digits]
            .parse()
            .map_err(|_| format!("a bare ? in {sql:?}"))?;
        let value = index
            .checked_sub(1)
            .and_then(|index| values.get(index))
            .ok_or_else(|| format!("no value for ?{index}"))?;
        match value {
            Value::Null => out.push_str("NULL"),
            Value::Integer(number) => out.push_str(&number.to_string()),
            Value::Text(text) if text.contains('\0') => {
                return Err("text with a NUL character".to_owned())
            }
            Value::Text(text) => {
                out.push('\'');
                out.push_str(&text.replace('\'', "''"));
                out.push('\'');
            }
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_binds_one_value_per_placeholder() {
        let placeholders = INSERT.matches('?').count();
        assert_eq!(insert_values("k", &Entry::default()).len(), placeholders);
        let columns = INSERT
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(columns, _)| columns.split(',').count());
        assert_eq!(columns, Some(placeholders));
    }

    #[test]
    fn linked_lists_each_id_once_and_uses_it_twice() {
        let sql = select_linked(2);
        assert!(
            sql.contains("call_id IN (?1, ?2) OR orig_call_id IN (?1, ?2)"),
            "{sql}"
        );
    }

    #[test]
    fn inline_quotes_text_and_refuses_what_it_cannot() {
        let values = [Value::Text("it's".into()), Value::Integer(-5), Value::Null];
        assert_eq!(
            inline("SELECT ?1, ?2, ?3, ?1", &values).unwrap(),
            "SELECT 'it''s', -5, NULL, 'it''s'"
        );
        assert!(inline("SELECT ?4", &values).is_err());
        assert!(inline("SELECT ?", &values).is_err());
        assert!(inline("SELECT ?1", &[Value::Text("a\0b".into())]).is_err());
        let injected = inline(&select_linked(1), &[Value::Text("x') OR 1=1 --".into())]).unwrap();
        assert!(injected.contains("IN ('x'') OR 1=1 --')"), "{injected}");
    }

    #[test]
    fn calls_filter_by_number_on_either_side() {
        assert!(select_calls(true).contains("from_number = ?4 OR to_number = ?4"));
        assert!(!select_calls(false).contains("?4"));
        assert!(select_calls(false).contains("AS cause,"));
    }
}
