//! A deployed worker's admin API (`--url`): the same operations, run by the
//! worker on its own KV binding — no wrangler login, no account token.
//!
//! ```text
//! GET  {url}/admin/api/status                 Authorization: Bearer $SIPGATE_ROUTER_TOKEN
//! PUT  {url}/admin/api/rules   If-Match: "7"  X-Rules-Source: office.json   (the document)
//! ```

use std::time::Duration;

use serde_json::Value;
use sipgate_router::protocol::url::userinfo;
use sipgate_router::rules::problem::Problem;
use sipgate_router::rules::spec::ActionSpec;
use sipgate_router::store::admin::{AdminError, Promoted, Published, RolledBack};
use sipgate_router::store::layout::Draft;
use sipgate_router::store::{Pointer, StoreError};

use super::output::Failure;

/// The variable `--token-env` names by default.
pub const TOKEN_ENV: &str = "SIPGATE_ROUTER_TOKEN";

pub struct Api {
    /// `https://router.example.com`, without a trailing slash.
    origin: String,
    token: String,
    agent: ureq::Agent,
}

/// What the API answered when it was not 2xx.
struct Refusal {
    status: u16,
    body: Value,
}

impl Api {
    pub fn new(url: &str, token_env: &str) -> Result<Api, Failure> {
        let origin = url.trim_end_matches('/').to_owned();
        if !(origin.starts_with("https://") || origin.starts_with("http://")) {
            return Err(Failure::Usage(format!(
                "--url takes the worker's address, e.g. https://router.example.com, not {url:?}"
            )));
        }
        let token = std::env::var(token_env)
            .ok()
            .map(|token| token.trim().to_owned())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "{token_env} is not set: put the worker's ADMIN_TOKEN in it (--token-env names another variable)"
                ))
            })?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirects(0)
            .build();
        Ok(Api {
            origin,
            token,
            agent,
        })
    }

    pub fn describe(&self) -> String {
        format!("the worker at {}", self.origin)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Any request to the worker (`path` from its origin: `/admin/api/…`, or
    /// `/` for the webhook), with the admin token or without (`auth`), a
    /// form body when given: its status and body, whatever the status.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        auth: bool,
    ) -> Result<(u16, String), String> {
        let mut request = self
            .agent
            .request(method, &format!("{}{path}", self.origin));
        if auth {
            request = request.set("Authorization", &format!("Bearer {}", self.token));
        }
        self.exchange(
            request,
            body.map(|body| ("application/x-www-form-urlencoded", body)),
        )
    }

    /// A JSON request to the admin API, with the token: its status and body.
    pub fn raw_json(&self, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
        let request = self
            .agent
            .request(method, &format!("{}{path}", self.origin))
            .set("Authorization", &format!("Bearer {}", self.token));
        self.exchange(request, Some(("application/json", body)))
    }

    fn exchange(
        &self,
        request: ureq::Request,
        body: Option<(&str, &str)>,
    ) -> Result<(u16, String), String> {
        let result = match body {
            Some((content_type, body)) => {
                request.set("Content-Type", content_type).send_string(body)
            }
            None => request.call(),
        };
        match result {
            Ok(response) => {
                let status = response.status();
                Ok((status, response.into_string().unwrap_or_default()))
            }
            Err(ureq::Error::Status(status, response)) => {
                Ok((status, response.into_string().unwrap_or_default()))
            }
            Err(error) => Err(format!("{} did not answer: {error}", self.origin)),
        }
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        self.agent
            .request(method, &format!("{}/admin/api/{path}", self.origin))
            .set("Authorization", &format!("Bearer {}", self.token))
    }

    /// The body of a 2xx answer; a refusal with its JSON; `Err` when the
    /// worker did not answer at all.
    fn send(
        &self,
        request: ureq::Request,
        body: Option<&str>,
    ) -> Result<Result<String, Refusal>, String> {
        let result = match body {
            Some(body) => request.send_string(body),
            None => request.call(),
        };
        match result {
            Ok(response) => response
                .into_string()
                .map(Ok)
                .map_err(|error| format!("the answer could not be read: {error}")),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                let body = serde_json::from_str(&text)
                    .unwrap_or_else(|_| serde_json::json!({ "error": text.trim() }));
                Ok(Err(Refusal { status, body }))
            }
            Err(error) => Err(format!("{} did not answer: {error}", self.origin)),
        }
    }

    fn refusal_text(&self, refusal: &Refusal) -> String {
        if refusal.status == 404 && refusal.body["error"] == "not found" {
            return format!(
                "{} answered 404: the token is wrong, or the worker has no ADMIN_TOKEN",
                self.origin
            );
        }
        format!(
            "{} answered {}: {}",
            self.origin,
            refusal.status,
            refusal.body["error"]
                .as_str()
                .unwrap_or("(no reason given)")
        )
    }

    /// A read: its body, or why not.
    fn read(&self, path: &str) -> Result<String, Failure> {
        match self.send(self.request("GET", path), None) {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(refusal)) if refusal.status >= 500 => {
                Err(Failure::Unreachable(self.refusal_text(&refusal)))
            }
            Ok(Err(refusal)) => Err(Failure::Failed(self.refusal_text(&refusal))),
            Err(message) => Err(Failure::Unreachable(message)),
        }
    }

    pub fn get_json(&self, path: &str) -> Result<Value, Failure> {
        serde_json::from_str(&self.read(path)?)
            .map_err(|error| Failure::Failed(format!("the answer is not JSON: {error}")))
    }

    pub fn get_text(&self, path: &str) -> Result<String, Failure> {
        self.read(path)
    }

    /// A change: the answer as `T`, or the refusal as the core's error.
    fn change<T: serde::de::DeserializeOwned>(
        &self,
        request: ureq::Request,
        body: Option<&str>,
    ) -> Result<T, AdminError> {
        match self.send(request, body) {
            Ok(Ok(text)) => serde_json::from_str(&text)
                .map_err(|error| AdminError::Corrupt(format!("unexpected answer: {error}"))),
            Ok(Err(refusal)) => Err(self.admin_error(refusal)),
            Err(message) => Err(AdminError::Store(StoreError(message))),
        }
    }

    fn admin_error(&self, refusal: Refusal) -> AdminError {
        match refusal.status {
            422 if refusal.body.get("expectations").is_some() => AdminError::ExpectationsFailed(
                serde_json::from_value(refusal.body["expectations"].clone()).unwrap_or_default(),
            ),
            422 => AdminError::Invalid(
                serde_json::from_value::<Vec<Problem>>(refusal.body["errors"].clone())
                    .unwrap_or_default(),
            ),
            409 if refusal.body.get("draft").is_some() => AdminError::DraftBehind {
                draft: refusal.body["draft"].as_u64().unwrap_or(0),
                base: refusal.body["base"].as_u64().unwrap_or(0),
                live: refusal.body["live"].as_u64().unwrap_or(0),
            },
            409 => AdminError::Conflict {
                expected: refusal.body["expected"].as_u64().unwrap_or(0),
                live: refusal.body["live"].as_u64().unwrap_or(0),
            },
            status if status >= 500 => AdminError::Store(StoreError(self.refusal_text(&refusal))),
            _ => AdminError::Refused(self.refusal_text(&refusal)),
        }
    }

    pub fn publish(
        &self,
        source: &str,
        name: &str,
        if_match: Option<u64>,
        force_expectations: bool,
        draft: Option<&[String]>,
    ) -> Result<Published, AdminError> {
        let mut path = match draft {
            // `+` would be a space in a query: every caller percent-encoded.
            Some(callers) => format!(
                "draft?callers={}",
                callers
                    .iter()
                    .map(|caller| userinfo(caller))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            None => "rules".to_owned(),
        };
        if force_expectations {
            path += if draft.is_some() {
                "&force=expectations"
            } else {
                "?force=expectations"
            };
        }
        let mut request = self
            .request("PUT", &path)
            .set("Content-Type", "application/json")
            .set("X-Rules-Source", name);
        if let Some(version) = if_match {
            request = request.set("If-Match", &format!("\"{version}\""));
        }
        self.change(request, Some(source))
    }

    pub fn rollback(&self, to: Option<u64>) -> Result<RolledBack, AdminError> {
        let body = serde_json::json!({ "to": to }).to_string();
        self.change(
            self.request("POST", "rules/rollback")
                .set("Content-Type", "application/json"),
            Some(&body),
        )
    }

    pub fn promote(&self, force: bool) -> Result<Promoted, AdminError> {
        let body = serde_json::json!({ "force": force }).to_string();
        self.change(
            self.request("POST", "draft/promote")
                .set("Content-Type", "application/json"),
            Some(&body),
        )
    }

    pub fn discard(&self) -> Result<Draft, AdminError> {
        let answer: Value = self.change(self.request("DELETE", "draft"), None)?;
        serde_json::from_value(answer["discarded"].clone())
            .map_err(|error| AdminError::Corrupt(format!("unexpected answer: {error}")))
    }

    pub fn kill(&self, action: Option<ActionSpec>) -> Result<Pointer, AdminError> {
        let answer: Value = match action {
            Some(action) => {
                let body = serde_json::to_string(&action).unwrap_or_default();
                self.change(
                    self.request("PUT", "kill")
                        .set("Content-Type", "application/json"),
                    Some(&body),
                )?
            }
            None => self.change(self.request("DELETE", "kill"), None)?,
        };
        Ok(Pointer {
            version: answer["version"].as_u64().unwrap_or(0),
            shards: 0,
            kill: serde_json::from_value(answer["kill"].clone()).unwrap_or(None),
            ..Pointer::default()
        })
    }
}
