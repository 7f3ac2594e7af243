//! `doctor --url URL`: checks a deployed worker end to end through its admin
//! API and its webhook, one line per check with the fix for what is wrong:
//!
//! ```text
//! ✓ admin API        https://router.example.com answers (signed in with $SIPGATE_ROUTER_TOKEN)
//! ✗ signature check  SIGNATURE_CHECK is off: anyone who finds the URL can route your calls
//!                    fix: SIGNATURE_CHECK = "on" in wrangler.toml [vars], then npm run deploy
//! ⚠ basic auth       off
//!                    fix: set BASIC_AUTH_USER and BASIC_AUTH_PASSWORD together (docs/deploy.md, step 4)
//! ```
//!
//! A failure exits 1 (3 when the worker does not answer at all); warnings
//! alone exit 0. Nothing is changed: every request reads, and the test push
//! is one the worker must refuse.

use std::process::ExitCode;

use serde::Serialize;
use serde_json::Value;
use sipgate_router::rules::expect;
use sipgate_router::store::shards::check_source;

use super::api::Api;
use super::output::{Failure, Output};
use super::wrangler::{block_on, Wrangler};
use sipgate_router::store::admin;

/// How one check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(
    name: &'static str,
    verdict: Verdict,
    detail: impl Into<String>,
    fix: Option<&str>,
) -> Check {
    Check {
        name,
        verdict,
        detail: detail.into(),
        fix: fix.map(str::to_owned),
    }
}

/// Runs every check against the worker behind `api`.
pub fn doctor(api: &Api, token_env: &str, out: &Output) -> Result<ExitCode, Failure> {
    let mut checks = Vec::new();
    let status = match api.raw("GET", "/admin/api/status", None, true) {
        Err(message) => return Err(Failure::Unreachable(message)),
        Ok((200, body)) => serde_json::from_str::<Value>(&body)
            .map_err(|error| Failure::Failed(format!("the status is not JSON: {error}")))?,
        Ok((404, _)) => {
            checks.push(check(
                "admin API",
                Verdict::Fail,
                format!("{} answers 404 to the admin token", api.origin()),
                Some(&format!(
                    "put the worker's ADMIN_TOKEN in ${token_env}; if the worker has none (or one shorter than \
                     32 characters): openssl rand -hex 32 | npx wrangler secret put ADMIN_TOKEN"
                )),
            ));
            return Ok(report(&checks, out));
        }
        Ok((code, body)) => {
            return Err(Failure::Unreachable(format!(
                "{} answered {code} to GET /admin/api/status: {}",
                api.origin(),
                body.trim()
            )))
        }
    };
    checks.push(check(
        "admin API",
        Verdict::Ok,
        format!("{} answers (signed in with ${token_env})", api.origin()),
        None,
    ));
    configuration(&status, &mut checks);
    pushes(&status, &mut checks);
    let live_source = || match api.raw("GET", "/admin/api/rules", None, true) {
        Ok((200, source)) => Ok(source),
        Ok((code, body)) => Err(format!("{code} {}", body.trim())),
        Err(message) => Err(message),
    };
    let number = store(&live_source, &status, &mut checks);
    journal(api, &status, &mut checks);
    if let Some(number) = number {
        routing(api, &number, &mut checks);
    }
    // Last: the worker refuses this push before reading its body and may
    // close the connection, and a request after it on the same pooled
    // connection was reset (a clean test run failed on it).
    webhook(api, &status, &mut checks);
    Ok(report(&checks, out))
}

/// Runs the checks that need no running worker, through wrangler: the
/// configuration file, the login and the secrets (`--remote`), the
/// journal's migrations, and the rules in the store.
pub fn doctor_store(kv: &Wrangler, out: &Output) -> Result<ExitCode, Failure> {
    let mut checks = Vec::new();
    let config = kv.config_text().map_err(Failure::Failed)?;
    configuration_file(&config, kv.is_remote(), &mut checks);
    if kv.is_remote() {
        let login = kv
            .wrangler(&["whoami", "--json"], false)
            .unwrap_or_default();
        let logged_in =
            serde_json::from_str::<Value>(login.get(login.find('{').unwrap_or(0)..).unwrap_or(""))
                .ok()
                .and_then(|answer| answer["loggedIn"].as_bool())
                == Some(true);
        if !logged_in {
            checks.push(check(
                "login",
                Verdict::Fail,
                "wrangler is not logged in to Cloudflare",
                Some("npx wrangler login"),
            ));
            return Ok(report(&checks, out));
        }
        checks.push(check("login", Verdict::Ok, "wrangler is logged in", None));
        secrets(kv, &mut checks);
    }
    if config.contains("binding = \"JOURNAL\"") {
        let flag = if kv.is_remote() {
            "--remote"
        } else {
            "--local"
        };
        checks.push(
            match kv.wrangler(&["d1", "migrations", "list", "JOURNAL"], true) {
                Ok(said) if said.contains("No migrations to apply") => {
                    check("journal", Verdict::Ok, "every migration applied", None)
                }
                Ok(_) => check(
                    "journal",
                    Verdict::Fail,
                    "migrations not applied: the journal's writes fail",
                    Some(&format!("npx wrangler d1 migrations apply JOURNAL {flag}")),
                ),
                Err(message) => check("journal", Verdict::Fail, message, None),
            },
        );
    }
    let status = serde_json::to_value(block_on(admin::status(kv)).map_err(Failure::from)?)
        .unwrap_or_default();
    let live_source = || {
        block_on(admin::source(
            kv,
            status["liveVersion"].as_u64().unwrap_or(0),
        ))
        .map_err(|error| error.to_string())
    };
    store(&live_source, &status, &mut checks);
    let code = report(&checks, out);
    if !out.json {
        println!("(the deployed worker itself — the settings it took, its webhook, a call routed: doctor --url URL)");
    }
    Ok(code)
}

/// `wrangler.toml`: the bindings, the signature check, Workers Logs.
fn configuration_file(config: &str, remote: bool, checks: &mut Vec<Check>) {
    let routes = config.contains("binding = \"ROUTES\"");
    checks.push(if !routes {
        check(
            "wrangler.toml",
            Verdict::Fail,
            "no KV binding ROUTES: the worker has no rules",
            Some("[[kv_namespaces]] binding = \"ROUTES\" (git checkout wrangler.toml)"),
        )
    } else if remote
        && !config
            .lines()
            .any(|line| line.trim_start().starts_with("id ="))
    {
        check(
            "wrangler.toml",
            Verdict::Warn,
            "the KV namespace has no id yet: nothing was deployed from here",
            Some("npm run setup (the first deploy creates it and writes its id)"),
        )
    } else {
        check(
            "wrangler.toml",
            Verdict::Ok,
            "bindings ROUTES and JOURNAL",
            None,
        )
    });
    if config.contains("SIGNATURE_CHECK = \"off\"") {
        checks.push(check(
            "signature check",
            Verdict::Fail,
            "SIGNATURE_CHECK = \"off\" in wrangler.toml: anyone who finds the URL can route your calls",
            Some("SIGNATURE_CHECK = \"on\" in wrangler.toml [vars], then npm run deploy"),
        ));
    }
    if !config.contains("[observability]") {
        checks.push(check(
            "logs",
            Verdict::Warn,
            "no [observability] block: Workers Logs keep nothing",
            Some("[observability] enabled = true in wrangler.toml"),
        ));
    }
}

/// The deployed worker's secrets, by name (`wrangler secret list`).
fn secrets(kv: &Wrangler, checks: &mut Vec<Check>) {
    let listed = match kv.wrangler(&["secret", "list", "--format", "json"], false) {
        Ok(text) => serde_json::from_str::<Vec<Value>>(
            text.get(text.find('[').unwrap_or(0)..).unwrap_or(""),
        )
        .unwrap_or_default(),
        Err(message) => {
            checks.push(check(
                "secrets",
                Verdict::Fail,
                message,
                Some("npm run setup (deploys the worker with its secrets)"),
            ));
            return;
        }
    };
    let has = |name: &str| listed.iter().any(|secret| secret["name"] == name);
    checks.push(match (has("BASIC_AUTH_USER"), has("BASIC_AUTH_PASSWORD")) {
        (true, true) => check(
            "basic auth",
            Verdict::Ok,
            "BASIC_AUTH_USER and BASIC_AUTH_PASSWORD set",
            None,
        ),
        (false, false) => check(
            "basic auth",
            Verdict::Warn,
            "off",
            Some("npm run setup makes the pair"),
        ),
        (user, _) => check(
            "basic auth",
            Verdict::Fail,
            format!(
                "{} is set without {}: every push is refused (403)",
                if user {
                    "BASIC_AUTH_USER"
                } else {
                    "BASIC_AUTH_PASSWORD"
                },
                if user {
                    "BASIC_AUTH_PASSWORD"
                } else {
                    "BASIC_AUTH_USER"
                }
            ),
            Some("npm run setup sets both again"),
        ),
    });
    checks.push(if has("ADMIN_TOKEN") {
        check(
            "admin token",
            Verdict::Ok,
            "ADMIN_TOKEN set (its length: doctor --url)",
            None,
        )
    } else {
        check(
            "admin token",
            Verdict::Warn,
            "no ADMIN_TOKEN: the console and --url are off",
            Some("npm run setup makes one"),
        )
    });
}

/// The settings the worker did not take (its `config` lines).
fn configuration(status: &Value, checks: &mut Vec<Check>) {
    let problems = status["configuration"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if problems.is_empty() {
        checks.push(check(
            "configuration",
            Verdict::Ok,
            "every setting taken",
            None,
        ));
    }
    for problem in problems {
        let message = problem["message"].as_str().unwrap_or_default().to_owned();
        let verdict = match problem["level"].as_str() {
            Some("error") => Verdict::Fail,
            _ => Verdict::Warn,
        };
        checks.push(check(
            "configuration",
            verdict,
            message,
            Some("correct the setting (docs/configuration.md), then npm run deploy (a secret: npx wrangler secret put NAME)"),
        ));
    }
}

/// How pushes are protected.
fn pushes(status: &Value, checks: &mut Vec<Check>) {
    let pushes = &status["pushes"];
    if pushes.is_null() {
        checks.push(check(
            "worker version",
            Verdict::Fail,
            "the worker does not say how it protects pushes: it is older than this CLI",
            Some("npm run deploy"),
        ));
        return;
    }
    checks.push(match pushes["signatureCheck"].as_bool() {
        Some(true) => check(
            "signature check",
            Verdict::Ok,
            "on: only pushes signed by sipgate are answered",
            None,
        ),
        _ => check(
            "signature check",
            Verdict::Fail,
            "SIGNATURE_CHECK is off: anyone who finds the URL can route your calls",
            Some("SIGNATURE_CHECK = \"on\" in wrangler.toml [vars], then npm run deploy"),
        ),
    });
    checks.push(match pushes["basicAuth"].as_bool() {
        Some(true) => check(
            "basic auth",
            Verdict::Ok,
            "on (the URL at sipgate carries the credentials)",
            None,
        ),
        _ => check(
            "basic auth",
            Verdict::Warn,
            "off",
            Some("set BASIC_AUTH_USER and BASIC_AUTH_PASSWORD together (docs/deploy.md, step 4)"),
        ),
    });
    checks.push(match pushes["publicUrl"].as_str() {
        Some(url) => check("public URL", Verdict::Ok, url.to_owned(), None),
        None => check(
            "public URL",
            Verdict::Warn,
            "PUBLIC_URL is not set: menu and callback URLs follow each request's Host header",
            Some("PUBLIC_URL = \"https://…/\" in wrangler.toml [vars], then npm run deploy"),
        ),
    });
}

/// The rules: published, valid, their expectations; the kill switch; a
/// draft. The first number the live rules route, for [`routing`].
fn store(
    live_source: &dyn Fn() -> Result<String, String>,
    status: &Value,
    checks: &mut Vec<Check>,
) -> Option<String> {
    let mut first_number = None;
    if let Some(error) = status["storeError"].as_str() {
        checks.push(check(
            "rules store",
            Verdict::Fail,
            error.to_owned(),
            Some("the KV binding ROUTES must be in wrangler.toml ([[kv_namespaces]]), then npm run deploy"),
        ));
        return None;
    }
    if status["rulesPublished"].as_bool() != Some(true) {
        checks.push(check(
            "rules",
            Verdict::Fail,
            "no rules published: every call proceeds unrouted",
            Some("npm run rules -- publish my-rules.json --url URL (or --remote)"),
        ));
    } else {
        let version = status["liveVersion"].as_u64().unwrap_or(0);
        match live_source() {
            Ok(source) => {
                first_number = serde_json::from_str::<Value>(&source)
                    .ok()
                    .and_then(|document| document["numbers"].as_object()?.keys().next().cloned());
                let report = check_source(&source).report;
                let failed: Vec<&expect::Outcome> = report
                    .expectations
                    .iter()
                    .filter(|outcome| !outcome.passed)
                    .collect();
                checks.push(if !report.errors.is_empty() {
                    check(
                        "rules",
                        Verdict::Fail,
                        format!("version {version} has {} errors, first: {}", report.errors.len(), report.errors[0]),
                        Some("npm run rules -- check FILE, correct it, publish it"),
                    )
                } else if !failed.is_empty() {
                    check(
                        "rules",
                        Verdict::Warn,
                        format!(
                            "version {version}: {} of its {} expectations fail, first: {:?}",
                            failed.len(),
                            report.expectations.len(),
                            failed[0].name
                        ),
                        Some("npm run rules -- diff live FILE, check FILE: see what changed"),
                    )
                } else {
                    let numbers = status["live"]["numbers"].as_u64().unwrap_or(0);
                    check(
                        "rules",
                        Verdict::Ok,
                        format!(
                            "version {version}: {numbers} number{}, no errors, {} expectations hold",
                            if numbers == 1 { "" } else { "s" },
                            report.expectations.len()
                        ),
                        None,
                    )
                });
            }
            Err(message) => checks.push(check(
                "rules",
                Verdict::Fail,
                format!("version {version} cannot be read: {message}"),
                Some("npm run rules -- rollback, or publish again"),
            )),
        }
    }
    checks.push(match &status["kill"] {
        Value::Null => check("kill switch", Verdict::Ok, "off", None),
        action => check(
            "kill switch",
            Verdict::Warn,
            format!("SET: every call gets {action}, whatever the rules say"),
            Some("npm run rules -- kill --off --url URL"),
        ),
    });
    if let Some(draft) = status["draft"].as_object() {
        checks.push(check(
            "draft",
            Verdict::Ok,
            format!(
                "version {} live for its test callers {}",
                draft["version"], draft["callers"]
            ),
            None,
        ));
    }
    first_number
}

/// A call to the first number of the rules, decided by the worker now
/// (simulate: the same decision a push gets — a push signed by sipgate can
/// only come from sipgate).
fn routing(api: &Api, number: &str, checks: &mut Vec<Check>) {
    let call =
        serde_json::json!({ "from": "4915790000000", "to": number, "direction": "in" }).to_string();
    checks.push(match api.raw_json("POST", "/admin/api/simulate", &call) {
        Ok((200, body)) => {
            let trace: Value = serde_json::from_str(&body).unwrap_or_default();
            let decided = match trace["matched"].as_str() {
                Some(rule) => format!("rule {rule}"),
                None => "no rule".to_owned(),
            };
            check(
                "routing",
                Verdict::Ok,
                format!(
                    "a call to {number} now: {decided}, {} (version {})",
                    trace["answer"].as_str().unwrap_or("?"),
                    trace["version"]
                ),
                None,
            )
        }
        Ok((code, body)) => check(
            "routing",
            Verdict::Fail,
            format!(
                "a call to {number} could not be decided: {code} {}",
                body.trim()
            ),
            Some("npx wrangler tail shows the error line"),
        ),
        Err(message) => check("routing", Verdict::Fail, message, None),
    });
}

/// The journal: bound, and its table created.
fn journal(api: &Api, status: &Value, checks: &mut Vec<Check>) {
    if status["journal"].as_bool() != Some(true) {
        checks.push(check(
            "journal",
            Verdict::Warn,
            "no D1 binding JOURNAL: calls are not recorded",
            Some("keep [[d1_databases]] JOURNAL in wrangler.toml, npm run deploy, then npx wrangler d1 migrations apply JOURNAL --remote"),
        ));
        return;
    }
    checks.push(match api.raw("GET", "/admin/api/calls?limit=1", None, true) {
        Ok((200, _)) => check("journal", Verdict::Ok, "bound, its table created", None),
        Ok((_, body)) if body.contains("no such table") => check(
            "journal",
            Verdict::Fail,
            "its table does not exist: the migrations were not applied, and every call's journal write fails",
            Some("npx wrangler d1 migrations apply JOURNAL --remote"),
        ),
        Ok((code, body)) => check("journal", Verdict::Fail, format!("cannot be read: {code} {}", body.trim()), None),
        Err(message) => check("journal", Verdict::Fail, message, None),
    });
}

/// The webhook: a push that is not sipgate's must be refused.
fn webhook(api: &Api, status: &Value, checks: &mut Vec<Check>) {
    let body = "event=newCall&from=4915790000000&to=4921100000&direction=in&callId=doctor";
    let protected = status["pushes"]["signatureCheck"].as_bool() == Some(true)
        || status["pushes"]["basicAuth"].as_bool() == Some(true);
    checks.push(match api.raw("POST", "/", Some(body), false) {
        Ok((401 | 403, _)) if protected => check(
            "webhook",
            Verdict::Ok,
            "answers, and refuses a push not from sipgate",
            None,
        ),
        Ok((200, answer)) if answer.contains("<Response") => check(
            "webhook",
            if protected {
                Verdict::Fail
            } else {
                Verdict::Warn
            },
            "answered a push not signed by sipgate, without credentials",
            Some("turn the signature check on (and basic auth): docs/deploy.md"),
        ),
        Ok((code, answer)) => check(
            "webhook",
            Verdict::Fail,
            format!(
                "answered {code} to a push: {}",
                answer.trim().chars().take(200).collect::<String>()
            ),
            Some("npx wrangler tail shows the reason in the refused line"),
        ),
        Err(message) => check("webhook", Verdict::Fail, message, None),
    });
}

fn report(checks: &[Check], out: &Output) -> ExitCode {
    let failed = checks.iter().any(|check| check.verdict == Verdict::Fail);
    if out.json {
        out.json_pretty(&serde_json::json!({ "ok": !failed, "checks": checks }));
    } else {
        for check in checks {
            let mark = match check.verdict {
                Verdict::Ok => "✓",
                Verdict::Warn => "⚠",
                Verdict::Fail => "✗",
            };
            println!("{mark} {:<16} {}", check.name, check.detail);
            if let (Some(fix), true) = (&check.fix, check.verdict != Verdict::Ok) {
                println!("  {:<16} fix: {fix}", "");
            }
        }
        let (fails, warns) = (
            checks
                .iter()
                .filter(|check| check.verdict == Verdict::Fail)
                .count(),
            checks
                .iter()
                .filter(|check| check.verdict == Verdict::Warn)
                .count(),
        );
        println!(
            "{}",
            match (fails, warns) {
                (0, 0) => "all checks passed".to_owned(),
                (0, warns) => format!(
                    "no failures, {warns} warning{}",
                    if warns == 1 { "" } else { "s" }
                ),
                (fails, _) => format!("{fails} check{} failed", if fails == 1 { "" } else { "s" }),
            }
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
