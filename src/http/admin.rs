//! The admin API: the deployed worker checks, simulates, publishes and rolls
//! back rules itself, through the core's [`store::admin`] — the code the CLI
//! runs — so the two write the same keys and can never disagree.
//!
//! Every route answers JSON; every refusal is `{"error": "…"}` (and
//! `"errors": [{"path","message"}]` for a document with errors). Without
//! `Authorization: Bearer $ADMIN_TOKEN` none of them exists: 404.
//!
//! ```text
//! GET    /admin/api/status            live version, who/when, kill switch, configuration problems
//! GET    /admin/api/rules             the live document             (ETag: "7")
//! PUT    /admin/api/rules             publish a document            (If-Match: "7", X-Rules-Source: office.json)
//!        /admin/api/rules?force=expectations   … even if its expectations fail (recorded)
//! GET    /admin/api/rules/versions    the kept versions
//! GET    /admin/api/rules/{version}   a kept version's document
//! POST   /admin/api/rules/check       {"errors":[…],"warnings":[…],"complete":true}
//! POST   /admin/api/rules/diff        a document against ?against=live|{version}
//! POST   /admin/api/rules/sounds      fetch every sound of a document: {"sounds":[{"path","url","status"}],…}
//! POST   /admin/api/rules/rollback    {"to": 6} or {} (the newest older than live)
//! PUT    /admin/api/draft?callers=4915790000123,49301*   publish a document as the draft:
//!                                     live for these test callers only (If-Match, force=expectations)
//! GET    /admin/api/draft             the draft and its test callers
//! POST   /admin/api/draft/promote     make the draft live: {} or {"force": true} (when live changed since)
//! DELETE /admin/api/draft             drop the draft
//! PUT    /admin/api/kill              an action: {"dial":{"numbers":["4915…"]}}
//! DELETE /admin/api/kill
//! POST   /admin/api/simulate          as POST /simulate (an alias)
//! POST   /admin/api/schedule          a number's outcomes slice by slice: {"from","to","since","days"}
//! GET    /admin/api/calls/{callId}    as GET /calls/{callId} (an alias)
//! GET    /admin/api/calls?since=…&until=…&number=…&limit=…
//! GET    /admin/api/hits?since=…&until=…
//! ```

use serde::Deserialize;
use serde_json::json;

use super::simulate::{answer_dry_run, DryRun};
use super::{Reply, Runtime, Services};
use crate::journal::sql::{self, Value};
use crate::journal::timeline::{hits as rule_hits, HitRow, RuleCount};
use crate::journal::Entry;
use crate::log::{clip, Level, LogLine};
use crate::protocol::url::SelfUrl;
use crate::rules::diff::{diff_at_most, document};
use crate::rules::problem::{parse_json, DocumentError};
use crate::rules::spec::ActionSpec;
use crate::store::admin::{self as store_admin, AdminError, Publication};
use crate::store::layout::RulesFormat;
use crate::store::shards::check_source;
use crate::store::SOURCE_CHUNK_BYTES;
use crate::time::calendar::{Date, LocalDateTime};
use crate::trust::jwt::{self, JwtError};

/// Where the admin API lives.
pub const PREFIX: &str = "/admin/api/";

/// The most changes `POST rules/diff` lists (`total` says how many there
/// are): each carries its values, and two tables can differ everywhere.
pub const MAX_CHANGES: usize = 1000;

/// The most two documents compared by `POST rules/diff` may have together:
/// both are held (as text, and the parts that differ as values) in an
/// isolate of 128 MB. Two tables of about 70,000 numbers with rich rules.
pub const MAX_DIFF_BYTES: usize = 64 * 1024 * 1024;

/// The largest admin body: a document of 100,000 numbers with rich rules
/// is some tens of MiB (Workers accept 100 MB on every plan).
pub const MAX_ADMIN_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The default and largest `limit` of `GET calls`.
const CALLS_LIMIT: u32 = 50;
const CALLS_LIMIT_MAX: u32 = 1000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Status,
    LiveRules,
    /// `force_expectations`: `?force=expectations`; `draft`: the test
    /// callers of `PUT draft?callers=…`.
    Publish {
        force_expectations: bool,
        draft: Option<Vec<String>>,
    },
    Draft,
    Promote,
    Discard,
    Versions,
    Version(u64),
    Check,
    Sounds,
    /// `None`: against the live version.
    Diff {
        against: Option<u64>,
    },
    Rollback,
    SetKill,
    ClearKill,
    Simulate,
    Schedule,
    Calls {
        period: Period,
        number: Option<String>,
        limit: u32,
    },
    Call(String),
    Hits(Period),
}

/// `since`/`until` in ms as asked: the last 7 days unless given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    since: Option<i64>,
    until: Option<i64>,
}

impl Period {
    fn resolve(self, now_ms: i64) -> (i64, i64) {
        // Saturating: `until` may be any number of ms a caller sends.
        let until = self.until.unwrap_or(now_ms.saturating_add(1));
        (
            self.since.unwrap_or(until.saturating_sub(7 * DAY_MS)),
            until,
        )
    }
}

/// Who the index and the `admin` line name for a request with the token.
pub const TOKEN_IDENTITY: &str = "admin API (token)";

/// How an admin request signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// `Authorization: Bearer $ADMIN_TOKEN` (checked on admission).
    Token,
    /// A `Cf-Access-Jwt-Assertion`, still to be checked ([`sign_in`]).
    Access(String),
    /// An Access token that was checked.
    Checked,
}

/// An admitted admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRequest {
    pub sign_in: SignIn,
    pub route: Route,
    /// Where sipgate posts pushes: simulated answers carry it (with the
    /// basic-auth password redacted).
    pub base: SelfUrl,
    /// `If-Match` of a publish: the version the caller saw live.
    pub if_match: Option<u64>,
    /// `X-Rules-Source`: where the document came from, for the index.
    pub source_name: Option<String>,
    /// Who is asking, for the index and the `admin` log line.
    pub by: String,
}

impl AdminRequest {
    /// The media type of the body, if the route takes one.
    pub fn body_type(&self) -> Option<&'static str> {
        match self.route {
            Route::Publish { .. }
            | Route::Check
            | Route::Sounds
            | Route::Diff { .. }
            | Route::Rollback
            | Route::Promote
            | Route::SetKill
            | Route::Simulate
            | Route::Schedule => Some(super::JSON),
            _ => None,
        }
    }
}

/// A JSON refusal: `{"error": reason}`.
pub fn refuse(status: u16, reason: impl Into<String>) -> Reply {
    let reason = reason.into();
    let mut log = LogLine::new(Level::Warn, "refused", status);
    log.error = Some(clip(&reason));
    Reply::json(json!({ "error": reason }).to_string() + "\n", log)
}

/// Finds the route of `method` `path` (below `/admin/api/`).
pub fn route(method: &str, path: &str, query: &str) -> Result<Route, Box<Reply>> {
    let methods: &[&str] = match path {
        "status" | "rules/versions" | "calls" | "hits" => &["GET"],
        "rules" => &["GET", "PUT"],
        "rules/check" | "rules/sounds" | "rules/diff" | "rules/rollback" | "simulate"
        | "schedule" => &["POST"],
        "kill" => &["PUT", "DELETE"],
        "draft" => &["GET", "PUT", "DELETE"],
        "draft/promote" => &["POST"],
        _ if path.starts_with("calls/") => &["GET"],
        _ if path
            .strip_prefix("rules/")
            .is_some_and(|v| v.parse::<u64>().is_ok()) =>
        {
            &["GET"]
        }
        _ => {
            return Err(Box::new(refuse(
                404,
                format!("no admin route {}: see docs/admin-api.md", clip(path)),
            )))
        }
    };
    if !methods.contains(&method) {
        let mut reply = refuse(
            405,
            format!(
                "{} is not allowed on {}: use {}",
                clip(method),
                clip(path),
                methods.join(", ")
            ),
        );
        reply.headers.push(("Allow", methods.join(", ")));
        return Err(Box::new(reply));
    }
    let query = Query::parse(query).map_err(|reason| Box::new(refuse(400, reason)))?;
    Ok(match (method, path) {
        ("GET", "status") => Route::Status,
        ("GET", "rules") => Route::LiveRules,
        ("PUT", "rules") => Route::Publish {
            force_expectations: query.force_expectations()?,
            draft: None,
        },
        ("PUT", "draft") => {
            Route::Publish {
                force_expectations: query.force_expectations()?,
                draft: Some(match query.get("callers") {
                    Some(callers) => callers
                        .split(',')
                        .map(|caller| caller.trim().to_owned())
                        .filter(|caller| !caller.is_empty())
                        .collect(),
                    None => return Err(Box::new(refuse(
                        400,
                        "a draft needs its test callers: PUT draft?callers=4915790000123,49301*",
                    ))),
                }),
            }
        }
        ("GET", "draft") => Route::Draft,
        ("DELETE", "draft") => Route::Discard,
        (_, "draft/promote") => Route::Promote,
        ("GET", "rules/versions") => Route::Versions,
        (_, "rules/check") => Route::Check,
        (_, "rules/sounds") => Route::Sounds,
        (_, "rules/diff") => Route::Diff {
            against: match query.get("against") {
                None | Some("live") => None,
                Some(version) => Some(version.parse().map_err(|_| {
                    Box::new(refuse(
                        400,
                        format!("against={} is not live or a version", clip(version)),
                    ))
                })?),
            },
        },
        (_, "rules/rollback") => Route::Rollback,
        ("PUT", "kill") => Route::SetKill,
        ("DELETE", "kill") => Route::ClearKill,
        (_, "simulate") => Route::Simulate,
        (_, "schedule") => Route::Schedule,
        (_, "calls") => Route::Calls {
            period: query.period()?,
            number: query.get("number").map(str::to_owned),
            limit: match query.get("limit") {
                None => CALLS_LIMIT,
                Some(limit) => limit
                    .parse()
                    .ok()
                    .filter(|limit| (1..=CALLS_LIMIT_MAX).contains(limit))
                    .ok_or_else(|| {
                        Box::new(refuse(
                            400,
                            format!("limit takes 1 to {CALLS_LIMIT_MAX}, not {}", clip(limit)),
                        ))
                    })?,
            },
        },
        (_, "hits") => Route::Hits(query.period()?),
        (_, path) => match path.strip_prefix("calls/") {
            Some(call_id) => Route::Call(call_id_of(call_id)?),
            None => Route::Version(
                path.strip_prefix("rules/")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            ),
        },
    })
}

/// A call id as sipgate sends it (percent-decoded).
pub fn call_id_of(segment: &str) -> Result<String, Box<Reply>> {
    crate::protocol::form::decode_path_segment(segment)
        .filter(|id| !id.is_empty() && id.len() <= 128 && !id.contains('/'))
        .ok_or_else(|| Box::new(refuse(400, "not a call id")))
}

/// `If-Match: "7"` (or `7`, `W/"7"`); `*` matches anything.
pub fn if_match(header: Option<&str>) -> Result<Option<u64>, Box<Reply>> {
    let Some(value) = header.map(str::trim) else {
        return Ok(None);
    };
    if value == "*" {
        return Ok(None);
    }
    let tag = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
    tag.parse().map(Some).map_err(|_| {
        Box::new(refuse(
            400,
            format!(
                "If-Match {} is not a version: send the ETag of GET rules, e.g. \"7\"",
                clip(value)
            ),
        ))
    })
}

/// A query string's parameters (decoded), each at most once.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Result<Query, String> {
        let pairs = crate::protocol::form::decode(query.as_bytes())
            .map_err(|error| format!("the query is not readable: {error}"))?;
        Ok(Query(
            pairs
                .into_iter()
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect(),
        ))
    }

    /// `force=expectations`: publish although expectations fail.
    fn force_expectations(&self) -> Result<bool, Box<Reply>> {
        match self.get("force") {
            None => Ok(false),
            Some("expectations") => Ok(true),
            Some(other) => Err(Box::new(refuse(
                400,
                format!("force={} is not known: force=expectations publishes a document whose expectations fail", clip(other)),
            ))),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `since`/`until`: `2026-11-30`, `2026-11-30T09:00` (UTC) or ms.
    fn period(&self) -> Result<Period, Box<Reply>> {
        let moment = |name: &str| -> Result<Option<i64>, Box<Reply>> {
            let Some(text) = self.get(name) else {
                return Ok(None);
            };
            text.parse::<i64>()
                .ok()
                .or_else(|| LocalDateTime::parse(text).map(|at| at.seconds_since_epoch() * 1000))
                .or_else(|| Date::parse(text).map(|date| date.days_since_epoch() * DAY_MS))
                .map(Some)
                .ok_or_else(|| {
                    Box::new(refuse(
                        400,
                        format!(
                            "{name} takes 2026-11-30, 2026-11-30T09:00 (UTC) or ms, not {}",
                            clip(text)
                        ),
                    ))
                })
        };
        Ok(Period {
            since: moment("since")?,
            until: moment("until")?,
        })
    }
}

/// What every admin path answers to a request that is not signed in.
pub fn not_found() -> Reply {
    Reply::refuse(404, "not found".to_owned())
}

/// Checks a Cloudflare Access token: its claims, then its RS256 signature
/// with the team's key of its `kid` (the keys are fetched once and cached
/// by the runtime; fetched again once when a token names a key not among
/// them, as after a rotation). The identity becomes `by`.
pub async fn sign_in<R: Runtime>(
    request: &mut AdminRequest,
    services: &Services<'_, R>,
) -> Result<(), Reply> {
    let SignIn::Access(assertion) = &request.sign_in else {
        return Ok(());
    };
    let Some(policy) = &services.config.access_sign_in else {
        return Err(not_found());
    };
    let denied = |reason: String| {
        let mut reply = not_found();
        reply.log.msg = "access_denied";
        reply.log.error = Some(clip(&reason));
        reply
    };
    let token = jwt::read(assertion, policy, services.now_ms.div_euclid(1000))
        .map_err(|error| denied(error.to_string()))?;
    let url = policy.certs_url();
    let mut key = None;
    for refresh in [false, true] {
        let keys = services
            .runtime
            .access_keys(&url, refresh)
            .await
            .map_err(|error| {
                denied(format!(
                    "the team's keys cannot be read from {url}: {error}"
                ))
            })?;
        key = jwt::key(&keys, &token.kid);
        if key.is_some() {
            break;
        }
    }
    let key = key.ok_or_else(|| denied(JwtError::UnknownKey.to_string()))?;
    match services
        .runtime
        .verify(&key, token.signed.as_bytes(), &token.signature)
        .await
    {
        Ok(true) => {}
        Ok(false) => return Err(denied(JwtError::Signature.to_string())),
        Err(problem) => return Err(denied(format!("the team's key cannot be used: {problem}"))),
    }
    request.by = token.identity;
    request.sign_in = SignIn::Checked;
    Ok(())
}

pub(super) fn ok(body: serde_json::Value, msg: &'static str) -> Reply {
    Reply::json(
        serde_json::to_string_pretty(&body).unwrap_or_default() + "\n",
        LogLine::new(Level::Info, msg, 200),
    )
}

pub(super) fn failed(error: &AdminError) -> Reply {
    let status = error.status();
    let body = match error {
        AdminError::Invalid(problems) => json!({ "error": error.to_string(), "errors": problems }),
        AdminError::Conflict { expected, live } => {
            json!({ "error": error.to_string(), "expected": expected, "live": live })
        }
        AdminError::DraftBehind { draft, base, live } => {
            json!({ "error": error.to_string(), "draft": draft, "base": base, "live": live })
        }
        AdminError::ExpectationsFailed(outcomes) => {
            json!({ "error": error.to_string(), "expectations": outcomes })
        }
        other => json!({ "error": other.to_string() }),
    };
    let mut log = LogLine::new(
        if status >= 500 {
            Level::Error
        } else {
            Level::Warn
        },
        "admin_refused",
        status,
    );
    log.error = Some(clip(&error.to_string()));
    Reply::json(body.to_string() + "\n", log)
}

/// The line every admin write logs: who, what, which version; never the
/// document or a secret.
pub(super) fn written(
    body: serde_json::Value,
    action: &'static str,
    by: &str,
    version: u64,
) -> Reply {
    let mut reply = ok(body, "admin");
    reply.log.step = Some(action);
    reply.log.by = Some(clip(by));
    reply.log.version = Some(version);
    reply
}

pub(super) fn text(body: &[u8]) -> Result<&str, Box<Reply>> {
    std::str::from_utf8(body).map_err(|_| Box::new(refuse(400, "the body is not UTF-8")))
}

pub(super) fn document_error(error: &DocumentError) -> Reply {
    failed(&AdminError::Invalid(error.problems().to_vec()))
}

/// Answers an admitted admin request.
pub async fn answer<R: Runtime>(
    request: &AdminRequest,
    body: &[u8],
    services: &Services<'_, R>,
) -> Reply {
    // An Access sign-in not checked by [`sign_in`] (a caller that skipped
    // `http::authorize`) is no sign-in.
    if let SignIn::Access(_) = request.sign_in {
        return not_found();
    }
    match respond(request, body, services).await {
        Ok(reply) | Err(reply) => reply,
    }
}

async fn respond<R: Runtime>(
    request: &AdminRequest,
    body: &[u8],
    services: &Services<'_, R>,
) -> Result<Reply, Reply> {
    let store = services.runtime;
    let fail = |error: AdminError| failed(&error);
    Ok(match &request.route {
        Route::Status => status(services).await,
        Route::LiveRules => {
            let live = store_admin::pointer(store)
                .await
                .map_err(fail)?
                .unwrap_or_default();
            if live.version == 0 {
                return Err(refuse(404, "no rules published"));
            }
            let source = store_admin::source(store, live.version)
                .await
                .map_err(fail)?;
            document_reply(source, live.version)
        }
        Route::Version(version) => {
            let source =
                store_admin::source(store, *version)
                    .await
                    .map_err(|error| match error {
                        AdminError::Refused(reason) => refuse(404, reason),
                        other => failed(&other),
                    })?;
            document_reply(source, *version)
        }
        Route::Versions => {
            let live = store_admin::pointer(store)
                .await
                .map_err(fail)?
                .unwrap_or_default();
            let index = store_admin::index(store).await.map_err(fail)?;
            ok(
                json!({ "live": live.version, "kill": live.kill, "draft": live.draft, "versions": index.versions }),
                "admin_read",
            )
        }
        Route::Check => {
            let report = check_source(text(body).map_err(|reply| *reply)?).report;
            ok(
                serde_json::to_value(report).unwrap_or_default(),
                "admin_read",
            )
        }
        Route::Sounds => super::sounds::answer(body, services).await,
        Route::Diff { against } => {
            let draft = document(text(body).map_err(|reply| *reply)?)
                .map_err(|error| document_error(&error))?;
            let version = match against {
                Some(version) => *version,
                None => {
                    store_admin::pointer(store)
                        .await
                        .map_err(fail)?
                        .unwrap_or_default()
                        .version
                }
            };
            if version == 0 {
                return Err(refuse(404, "no rules published: nothing to compare with"));
            }
            let entry = store_admin::version(store, version).await.map_err(fail)?;
            let live_bytes = entry
                .bytes
                .unwrap_or(entry.source_chunks as usize * SOURCE_CHUNK_BYTES);
            if body.len() + live_bytes > MAX_DIFF_BYTES {
                return Err(refuse(
                    413,
                    format!(
                        "the two documents are {} bytes together, more than the {MAX_DIFF_BYTES} a Worker \
                         can hold to compare: compare them with the CLI \
                         (`npm run rules -- diff {version} FILE --remote`)",
                        body.len() + live_bytes
                    ),
                ));
            }
            let source = store_admin::source(store, version).await.map_err(fail)?;
            let published = document(&source).map_err(|error| {
                failed(&AdminError::Corrupt(format!("version {version}: {error}")))
            })?;
            let found = diff_at_most(&published, &draft, MAX_CHANGES);
            ok(
                json!({ "from": version, "to": "the document", "changes": found.changes, "total": found.total }),
                "admin_read",
            )
        }
        Route::Publish {
            force_expectations,
            draft,
        } => {
            let publication = Publication {
                source: text(body).map_err(|reply| *reply)?,
                name: request.source_name.clone(),
                by: request.by.clone(),
                at: store_admin::published_at(services.now_ms.div_euclid(1000)),
                if_match: request.if_match,
                force_expectations: *force_expectations,
                draft: draft.clone(),
                // The worker writes what it reads best.
                format: RulesFormat::WRITTEN,
            };
            let published = store_admin::publish(
                store,
                publication,
                store_admin::Budget::WORKER_REQUEST,
                |_, _| {},
            )
            .await
            .map_err(fail)?;
            let version = published.version;
            // A forced publish says so in the line every write logs.
            let action = match (draft.is_some(), published.expectations_failed.is_some()) {
                (false, false) => "publish",
                (false, true) => "publish_forced",
                (true, false) => "draft",
                (true, true) => "draft_forced",
            };
            written(
                serde_json::to_value(published).unwrap_or_default(),
                action,
                &request.by,
                version,
            )
        }
        Route::Rollback => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Rollback {
                to: Option<u64>,
            }
            let text = text(body).map_err(|reply| *reply)?;
            let asked: Rollback = if text.trim().is_empty() {
                Rollback { to: None }
            } else {
                parse_json(text).map_err(|error| refuse(400, error.to_string()))?
            };
            let done = store_admin::rollback(store, asked.to).await.map_err(fail)?;
            let version = done.to.version;
            written(
                serde_json::to_value(done).unwrap_or_default(),
                "rollback",
                &request.by,
                version,
            )
        }
        Route::Draft | Route::Promote | Route::Discard => {
            super::draft::answer(request, body, services).await?
        }
        Route::SetKill | Route::ClearKill => {
            let action = if request.route == Route::SetKill {
                Some(
                    parse_json::<ActionSpec>(text(body).map_err(|reply| *reply)?)
                        .map_err(|error| document_error(&error))?,
                )
            } else {
                None
            };
            let step = if action.is_some() {
                "kill_set"
            } else {
                "kill_off"
            };
            let pointer = store_admin::set_kill(store, action).await.map_err(fail)?;
            written(
                json!({ "version": pointer.version, "kill": pointer.kill }),
                step,
                &request.by,
                pointer.version,
            )
        }
        Route::Simulate | Route::Schedule => {
            let asked = if request.route == Route::Schedule {
                DryRun::Schedule
            } else {
                DryRun::Call
            };
            answer_dry_run(asked, body, &request.base, services).await
        }
        Route::Call(call_id) => super::calls::answer_call(call_id, services).await,
        Route::Calls {
            period,
            number,
            limit,
        } => {
            let (since, until) = period.resolve(services.now_ms);
            let mut values = vec![
                Value::Integer(since),
                Value::Integer(until),
                Value::Integer(i64::from(*limit)),
            ];
            values.extend(number.clone().map(Value::Text));
            let calls: Vec<Entry> =
                journal_rows(services, &sql::select_calls(number.is_some()), values).await?;
            ok(
                json!({ "since": since, "until": until, "calls": calls }),
                "admin_read",
            )
        }
        Route::Hits(period) => {
            let (since, until) = period.resolve(services.now_ms);
            let counted: Vec<RuleCount> = journal_rows(
                services,
                sql::HITS,
                vec![Value::Integer(since), Value::Integer(until)],
            )
            .await?;
            // Rules the live document cannot name are still listed, as retired.
            let live = store_admin::live_rule_ids(services.runtime)
                .await
                .unwrap_or_default();
            let hits: Vec<HitRow> = rule_hits(live, &counted)
                .into_iter()
                .map(HitRow::from)
                .collect();
            #[derive(serde::Serialize)]
            struct Answer<'a> {
                since: i64,
                until: i64,
                hits: &'a [HitRow],
            }
            // Compact, not pretty, and written into a buffer of about its
            // size: 100,000 numbers have 400,000 rules, tens of MiB of JSON
            // that a growing buffer would hold twice while it grows.
            let size: usize = hits.iter().map(|hit| hit.rule.len() + 96).sum();
            let mut body = Vec::with_capacity(size + 64);
            let answer = Answer {
                since,
                until,
                hits: &hits,
            };
            if serde_json::to_writer(&mut body, &answer).is_err() {
                body.clear();
            }
            body.push(b'\n');
            Reply::json(
                String::from_utf8(body).unwrap_or_default(),
                LogLine::new(Level::Info, "admin_read", 200),
            )
        }
    })
}

/// A document as stored, with its version as the ETag for `If-Match`.
fn document_reply(source: String, version: u64) -> Reply {
    let mut log = LogLine::new(Level::Info, "admin_read", 200);
    log.version = Some(version);
    let mut reply = Reply::json(source, log);
    reply.headers.push(("ETag", format!("\"{version}\"")));
    reply
}

async fn status<R: Runtime>(services: &Services<'_, R>) -> Reply {
    let configuration: Vec<serde_json::Value> = services
        .config
        .problems
        .iter()
        .map(|problem| json!({ "level": problem.level, "message": problem.message }))
        .collect();
    // How pushes are protected — which checks are on, never their secrets:
    // what `doctor` reads.
    let access = &services.config.access;
    let mut body = json!({
        "configuration": configuration,
        "journal": services.config.journal.bound,
        "pushes": {
            "signatureCheck": access.signature_key.is_some(),
            "basicAuth": access.basic.is_some(),
            "allowedSources": !access.sources.is_empty(),
            "publicUrl": services.config.public_url.as_ref().map(SelfUrl::as_str),
            "refused": access.misconfigured.is_some(),
        },
    });
    match store_admin::status(services.runtime).await {
        Ok(status) => {
            if let (Ok(serde_json::Value::Object(store)), Some(object)) =
                (serde_json::to_value(status), body.as_object_mut())
            {
                object.extend(store);
            }
        }
        Err(error) => {
            if let Some(object) = body.as_object_mut() {
                object.insert("storeError".to_owned(), json!(error.to_string()));
            }
        }
    }
    ok(body, "admin_read")
}

async fn journal_rows<R: Runtime, T: serde::de::DeserializeOwned>(
    services: &Services<'_, R>,
    statement: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, Reply> {
    if !services.config.journal.bound {
        return Err(refuse(
            404,
            format!("the journal is off: no D1 binding {}", sql::BINDING),
        ));
    }
    let json = services
        .runtime
        .journal_select(statement, values)
        .await
        .map_err(|error| refuse(503, format!("the journal cannot be read: {error}")))?;
    serde_json::from_str(&json).map_err(|error| refuse(500, format!("unexpected rows: {error}")))
}
