//! Where the CLI changes the rules: KV through wrangler (the local store or
//! `--remote`), running the core's [`store::admin`] itself, or a deployed
//! worker's admin API (`--url`), which runs the same core code there.

use std::io::Write;
use std::process::ExitCode;

use sipgate_router::rules::spec::ActionSpec;
use sipgate_router::store::admin::{
    self, AdminError, Promoted, Publication, Published, RolledBack,
};
use sipgate_router::store::layout::{Draft, RulesFormat};
use sipgate_router::store::{Index, Pointer};

use super::api::Api;
use super::output::{Failure, Output};
use super::wrangler::{block_on, Wrangler};

pub enum Place {
    Kv(Wrangler),
    Api(Api),
}

/// A store failure is exit code 3; anything the store holds that this
/// router did not write is 1.
impl From<AdminError> for Failure {
    fn from(error: AdminError) -> Failure {
        match error {
            AdminError::Store(error) => Failure::Unreachable(error.0),
            other => Failure::Failed(other.to_string()),
        }
    }
}

/// How `publish` publishes.
pub struct PublishOptions {
    pub if_match: Option<u64>,
    pub force_expectations: bool,
    /// As the draft, for these test callers.
    pub draft: Option<Vec<String>>,
    /// Through wrangler only: through the admin API the worker writes its own.
    pub format: RulesFormat,
}

/// Who publishes from this machine: `cli (user@host)`.
fn publisher() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty());
    match host {
        Some(host) => format!("cli ({user}@{host})"),
        None => format!("cli ({user})"),
    }
}

impl Place {
    pub fn describe(&self) -> String {
        match self {
            Place::Kv(kv) => kv.describe(),
            Place::Api(api) => api.describe(),
        }
    }

    pub fn describe_journal(&self) -> String {
        match self {
            Place::Kv(kv) => kv.describe_journal(),
            Place::Api(api) => format!("the journal of {}", api.describe()),
        }
    }

    pub fn status(&self, out: &Output) -> Result<ExitCode, Failure> {
        let status = match self {
            Place::Kv(kv) => serde_json::to_value(block_on(admin::status(kv))?)
                .map_err(|error| Failure::Failed(error.to_string()))?,
            Place::Api(api) => api.get_json("status")?,
        };
        if out.json {
            out.json_pretty(&status);
        } else {
            print!("{}", status_text(&status, &self.describe()));
        }
        Ok(ExitCode::SUCCESS)
    }

    pub fn versions(&self) -> Result<(Pointer, Index), Failure> {
        match self {
            Place::Kv(kv) => Ok((
                block_on(admin::pointer(kv))?.unwrap_or_default(),
                block_on(admin::index(kv))?,
            )),
            Place::Api(api) => {
                let json = api.get_json("rules/versions")?;
                let pointer = Pointer {
                    version: json["live"].as_u64().unwrap_or(0),
                    shards: 0,
                    kill: serde_json::from_value(json["kill"].clone()).unwrap_or(None),
                    draft: serde_json::from_value(json["draft"].clone()).unwrap_or(None),
                    ..Pointer::default()
                };
                let index = Index {
                    versions: serde_json::from_value(json["versions"].clone())
                        .map_err(|error| Failure::Failed(format!("unexpected answer: {error}")))?,
                    retired: Vec::new(),
                };
                Ok((pointer, index))
            }
        }
    }

    /// The document of a version as it was published.
    pub fn source(&self, version: u64) -> Result<String, Failure> {
        match self {
            Place::Kv(kv) => Ok(block_on(admin::source(kv, version))?),
            Place::Api(api) => api.get_text(&format!("rules/{version}")),
        }
    }

    pub fn live_version(&self) -> Result<u64, Failure> {
        Ok(self.versions()?.0.version)
    }

    pub fn publish(
        &self,
        source: &str,
        name: &str,
        options: &PublishOptions,
        out: &Output,
    ) -> Result<Published, AdminError> {
        match self {
            Place::Kv(kv) => {
                let show = out.progress();
                let publication = Publication {
                    source,
                    name: Some(name.to_owned()),
                    by: publisher(),
                    at: admin::published_at(super::now_seconds()),
                    if_match: options.if_match,
                    force_expectations: options.force_expectations,
                    draft: options.draft.clone(),
                    format: options.format,
                };
                let published = block_on(admin::publish(
                    kv,
                    publication,
                    admin::Budget::Unbounded,
                    |done, total| {
                        if show && total > 1 {
                            eprint!("\rwriting {done}/{total} keys");
                            let _ = std::io::stderr().flush();
                        }
                    },
                ));
                if show {
                    eprint!("\r\x1b[K");
                }
                published
            }
            // --rules-format conflicts with --url: the worker writes its own format.
            Place::Api(api) => api.publish(
                source,
                name,
                options.if_match,
                options.force_expectations,
                options.draft.as_deref(),
            ),
        }
    }

    pub fn rollback(&self, to: Option<u64>) -> Result<RolledBack, AdminError> {
        match self {
            Place::Kv(kv) => block_on(admin::rollback(kv, to)),
            Place::Api(api) => api.rollback(to),
        }
    }

    pub fn promote(&self, force: bool) -> Result<Promoted, AdminError> {
        match self {
            Place::Kv(kv) => block_on(admin::promote(kv, force)),
            Place::Api(api) => api.promote(force),
        }
    }

    pub fn discard(&self) -> Result<Draft, AdminError> {
        match self {
            Place::Kv(kv) => block_on(admin::discard(kv)),
            Place::Api(api) => api.discard(),
        }
    }

    pub fn kill(&self, action: Option<ActionSpec>) -> Result<Pointer, AdminError> {
        match self {
            Place::Kv(kv) => block_on(admin::set_kill(kv, action)),
            Place::Api(api) => api.kill(action),
        }
    }
}

/// `status` for people.
fn status_text(status: &serde_json::Value, place: &str) -> String {
    let mut text = format!("{place}\n");
    if status["rulesPublished"] == serde_json::Value::Bool(false) {
        text += "NO RULES PUBLISHED: every call proceeds as if the router were not there\n";
    } else {
        let live = &status["live"];
        let plural = |count: &serde_json::Value| if count == 1 { "" } else { "s" };
        text += &format!(
            "live: version {} — {} number{}, {} shard{} in rules format {}, published {}{}{}\n",
            status["liveVersion"],
            live["numbers"],
            plural(&live["numbers"]),
            live["shards"],
            plural(&live["shards"]),
            // Absent: format 1, the document's JSON (what a worker deployed
            // before format 2 reads).
            live["format"].as_u64().unwrap_or(1),
            live["publishedAt"].as_str().unwrap_or("?"),
            live["publishedBy"]
                .as_str()
                .map(|by| format!(" by {by}"))
                .unwrap_or_default(),
            live["source"]
                .as_str()
                .map(|source| format!(" from {source}"))
                .unwrap_or_default(),
        );
    }
    if let Some(draft) = status["draft"].as_object() {
        let callers: Vec<&str> = draft["callers"]
            .as_array()
            .map(|callers| {
                callers
                    .iter()
                    .filter_map(|caller| caller.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let base = match draft["base"].as_u64() {
            Some(0) | None => "when nothing was live".to_owned(),
            Some(version) => format!("on version {version}"),
        };
        text += &format!(
            "draft: version {} for test callers {} (published {base}{}{})\n",
            draft["version"],
            callers.join(", "),
            status["draftEntry"]["publishedAt"]
                .as_str()
                .map(|at| format!(", {at}"))
                .unwrap_or_default(),
            status["draftEntry"]["publishedBy"]
                .as_str()
                .map(|by| format!(" by {by}"))
                .unwrap_or_default(),
        );
        if draft["base"] != status["liveVersion"] {
            text += &format!(
                "  version {} went live since: `promote` is refused unless forced\n",
                status["liveVersion"]
            );
        }
    }
    text += &match &status["kill"] {
        serde_json::Value::Null => "kill switch: off\n".to_owned(),
        action => format!("kill switch SET: every call gets {action}\n"),
    };
    text += &format!("versions kept: {}\n", status["versionsKept"]);
    if let Some(journal) = status["journal"].as_bool() {
        text += &format!("journal: {}\n", if journal { "on" } else { "off" });
    }
    if let Some(problems) = status["configuration"].as_array() {
        if problems.is_empty() {
            text += "configuration: no problems\n";
        }
        for problem in problems {
            text += &format!(
                "configuration {}: {}\n",
                problem["level"].as_str().unwrap_or("problem"),
                problem["message"].as_str().unwrap_or_default()
            );
        }
    }
    text
}
