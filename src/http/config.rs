//! The router's settings: the worker's vars and secrets, read once per
//! isolate into a [`Config`]. Every setting that is not taken is a
//! [`Problem`] naming the setting; the edge logs each as one `config` line
//! when the isolate reads its configuration (its first request):
//!
//! ```json
//! {"level":"error","msg":"config","error":"BASIC_AUTH_PASSWORD is set but BASIC_AUTH_USER is not: every push is refused (403)"}
//! {"level":"warn","msg":"config","error":"KV_BUDGET_MS=\"soon\" is not a whole number above 0: 1000 is used"}
//! ```
//!
//! | name | kind | default | not understood |
//! |---|---|---|---|
//! | `SIGNATURE_CHECK`, `SIPGATE_PUBLIC_KEY`, `BASIC_AUTH_USER`, `BASIC_AUTH_PASSWORD`, `ALLOWED_SOURCES` | see [`crate::trust::access`] | | error: every push refused (403) |
//! | `PUBLIC_URL` | var, `https://host/path` | the request's URL | error: every push refused (403) |
//! | `ADMIN_TOKEN` | secret, ≥ 32 characters | off | error: admin endpoints off (404) |
//! | `ACCESS_TEAM_DOMAIN`, `ACCESS_AUD` | both or neither | off | error: Access sign-in off |
//! | `RULES_CACHE_SECONDS` | var, whole seconds, 0 to 3600 | 10 | warning: the default |
//! | `KV_BUDGET_MS` | var, whole ms, 1 to 9000 | 1000 | warning: the default |
//! | `JOURNAL_*`, `FORWARD_*` | see [`crate::journal`] | | warning |

use crate::journal::{forward, Forwarding, JournalConfig, MASK_NUMBERS, RECORDING, RETENTION_DAYS};
use crate::log::Level;
use crate::protocol::url::SelfUrl;
use crate::setting;
use crate::trust::access::{Access, AdminToken, Settings};
use crate::trust::jwt::AccessPolicy;

/// Secret enabling the admin endpoints for requests that bear it.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
pub const ACCESS_TEAM_DOMAIN: &str = "ACCESS_TEAM_DOMAIN";
pub const ACCESS_AUD: &str = "ACCESS_AUD";
/// Var: the router's public URL, which every callback and menu URL is built from.
pub const PUBLIC_URL: &str = "PUBLIC_URL";
/// Var: seconds an isolate trusts its copy of the live pointer.
pub const RULES_CACHE_SECONDS: &str = "RULES_CACHE_SECONDS";
const DEFAULT_CACHE_SECONDS: i64 = 10;
/// An hour: a publish would take that long to reach an isolate; more is a mistake.
const MAX_CACHE_SECONDS: i64 = 3600;
/// Var: milliseconds a push waits for KV before it is answered from the
/// last-known-good rules (sipgate waits about 10 s).
pub const KV_BUDGET_MS: &str = "KV_BUDGET_MS";
const DEFAULT_KV_BUDGET_MS: u32 = 1000;
/// sipgate gives up after about 10 s: a budget past that never answers in time.
const MAX_KV_BUDGET_MS: u32 = 9000;

/// Settings from the worker's vars and secrets.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `ADMIN_TOKEN`: enables the admin API for requests bearing it.
    pub admin_token: Option<AdminToken>,
    /// `ACCESS_TEAM_DOMAIN` + `ACCESS_AUD`: enables the admin API for
    /// requests bearing a valid Cloudflare Access token.
    pub access_sign_in: Option<AccessPolicy>,
    /// `PUBLIC_URL`: where sipgate reaches the router. When set, callback
    /// and menu URLs are built from it, whatever the request's `Host` says.
    pub public_url: Option<SelfUrl>,
    /// `RULES_CACHE_SECONDS`, in ms: how long an isolate trusts its copy of the pointer.
    pub cache_ms: i64,
    /// `KV_BUDGET_MS`: how long a push waits for KV before it is answered
    /// from the last-known-good rules (or proceeds).
    pub kv_budget_ms: u32,
    /// Signature, basic auth and source checks for pushes.
    pub access: Access,
    /// The call journal and the fan-out.
    pub journal: JournalConfig,
    /// Settings not taken, and why.
    pub problems: Vec<Problem>,
}

/// A setting that was not taken: an error where the router fails closed,
/// a warning where it goes on with a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub level: Level,
    pub message: String,
}

impl Problem {
    fn warning(message: String) -> Problem {
        Problem {
            level: Level::Warn,
            message,
        }
    }

    fn error(message: String) -> Problem {
        Problem {
            level: Level::Error,
            message,
        }
    }
}

impl Config {
    /// The configuration from the settings `lookup` finds by name (`None`:
    /// not set); `journal_bound` says whether the D1 binding exists.
    pub fn from_settings(lookup: impl Fn(&str) -> Option<String>, journal_bound: bool) -> Config {
        let (cache_seconds, cache_problem) = setting::number(
            RULES_CACHE_SECONDS,
            lookup(RULES_CACHE_SECONDS).as_deref(),
            0..=MAX_CACHE_SECONDS,
            DEFAULT_CACHE_SECONDS,
        );
        let (kv_budget_ms, budget_problem) = setting::number(
            KV_BUDGET_MS,
            lookup(KV_BUDGET_MS).as_deref(),
            1..=MAX_KV_BUDGET_MS,
            DEFAULT_KV_BUDGET_MS,
        );
        let mut problems: Vec<Problem> = [cache_problem, budget_problem]
            .into_iter()
            .flatten()
            .map(Problem::warning)
            .collect();
        let journal = journal(&lookup, journal_bound);
        problems.extend(journal.problems.iter().cloned().map(Problem::warning));
        let (access, public_url) = access(&lookup);
        for problem in &access.problems {
            problems.push(Problem::error(format!(
                "{problem}: every push is refused (403)"
            )));
        }
        let admin_token =
            AdminToken::parse(lookup(ADMIN_TOKEN).as_deref()).unwrap_or_else(|problem| {
                problems.push(Problem::error(problem));
                None
            });
        let access_sign_in = AccessPolicy::parse(
            lookup(ACCESS_TEAM_DOMAIN).as_deref(),
            lookup(ACCESS_AUD).as_deref(),
        )
        .unwrap_or_else(|problem| {
            problems.push(Problem::error(problem));
            None
        });
        Config {
            admin_token,
            access_sign_in,
            public_url,
            cache_ms: cache_seconds * 1000,
            kv_budget_ms,
            access,
            journal,
            problems,
        }
    }
}

/// The journal and the fan-out; their problems are in `problems`.
fn journal(lookup: &impl Fn(&str) -> Option<String>, bound: bool) -> JournalConfig {
    let forwarding = Forwarding::from_settings(
        lookup(forward::URLS).as_deref(),
        lookup(forward::SECRET).as_deref(),
        lookup(forward::TIMEOUT_MS).as_deref(),
    );
    JournalConfig::from_settings(
        bound,
        lookup(RECORDING).as_deref(),
        lookup(MASK_NUMBERS).as_deref(),
        lookup(RETENTION_DAYS).as_deref(),
        forwarding,
    )
}

/// The access checks, and `PUBLIC_URL` (which fails closed with them).
fn access(lookup: &impl Fn(&str) -> Option<String>) -> (Access, Option<SelfUrl>) {
    let (signature_check, public_key) = (lookup("SIGNATURE_CHECK"), lookup("SIPGATE_PUBLIC_KEY"));
    let (basic_user, basic_password) = (lookup("BASIC_AUTH_USER"), lookup("BASIC_AUTH_PASSWORD"));
    let allowed_sources = lookup("ALLOWED_SOURCES");
    let mut access = Access::from_settings(&Settings {
        signature_check: signature_check.as_deref(),
        public_key: public_key.as_deref(),
        basic_user: basic_user.as_deref(),
        basic_password: basic_password.as_deref(),
        allowed_sources: allowed_sources.as_deref(),
    });
    let public_url = parse_public_url(lookup(PUBLIC_URL).as_deref()).unwrap_or_else(|problem| {
        access.fail_closed(problem);
        None
    });
    (access, public_url)
}

/// `PUBLIC_URL`: an absolute `https://` URL without query, fragment or
/// credentials (basic-auth credentials come from their own settings);
/// `http://` only for this machine, for local testing.
fn parse_public_url(setting: Option<&str>) -> Result<Option<SelfUrl>, String> {
    let Some(text) = setting.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let refuse = |why: &str| {
        let quoted = crate::protocol::url::quotable(text);
        Err(format!(
            "{PUBLIC_URL}={:?} {why}",
            crate::log::clip(&quoted)
        ))
    };
    if text.contains(['?', '#']) {
        return refuse("must not have a query or fragment: the router adds its own");
    }
    let Some(url) = SelfUrl::from_request_url(text) else {
        return refuse("is not an absolute https:// URL");
    };
    let authority = crate::protocol::url::authority(url.as_str());
    if authority.contains('@') {
        return refuse("must not carry credentials: set BASIC_AUTH_USER and BASIC_AUTH_PASSWORD");
    }
    let secure = url
        .as_str()
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if !secure && !crate::protocol::url::is_loopback(authority) {
        return refuse("must be https:// (http:// only on this machine)");
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(settings: &[(&str, &str)]) -> Config {
        let settings: HashMap<String, String> = settings
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Config::from_settings(|name| settings.get(name).cloned(), false)
    }

    fn messages(config: &Config) -> Vec<(Level, &str)> {
        config
            .problems
            .iter()
            .map(|problem| (problem.level, problem.message.as_str()))
            .collect()
    }

    #[test]
    fn nothing_set_is_the_defaults_without_problems() {
        let config = config(&[]);
        assert_eq!(config.cache_ms, 10_000);
        assert_eq!(config.kv_budget_ms, 1000);
        assert!(config.admin_token.is_none() && config.public_url.is_none());
        assert!(
            config.access.signature_key.is_some(),
            "sipgate's signature is checked"
        );
        assert_eq!(messages(&config), []);
    }

    #[test]
    fn numbers_not_understood_are_reported_and_defaulted() {
        let config = config(&[(RULES_CACHE_SECONDS, "-1"), (KV_BUDGET_MS, "soon")]);
        assert_eq!((config.cache_ms, config.kv_budget_ms), (10_000, 1000));
        assert_eq!(
            messages(&config),
            [
                (
                    Level::Warn,
                    r#"RULES_CACHE_SECONDS="-1" is not a whole number from 0 to 3600: 10 is used"#
                ),
                (
                    Level::Warn,
                    r#"KV_BUDGET_MS="soon" is not a whole number from 1 to 9000: 1000 is used"#
                ),
            ]
        );
        let zero = self::config(&[(RULES_CACHE_SECONDS, " 0 "), (KV_BUDGET_MS, "0")]);
        assert_eq!((zero.cache_ms, zero.kv_budget_ms), (0, 1000));
        assert_eq!(zero.problems.len(), 1);
        // Found by fuzzing: seconds that overflowed when turned into ms.
        let huge = self::config(&[
            (RULES_CACHE_SECONDS, "8991356044281235228"),
            (KV_BUDGET_MS, "4294967295"),
        ]);
        assert_eq!((huge.cache_ms, huge.kv_budget_ms), (10_000, 1000));
        assert_eq!(huge.problems.len(), 2);
    }

    #[test]
    fn a_fail_closed_setting_is_an_error_naming_it() {
        // The README's old Deploy steps: the password set, the user forgotten.
        let config = config(&[("BASIC_AUTH_PASSWORD", "s3cret")]);
        assert_eq!(
            messages(&config),
            [(Level::Error, "BASIC_AUTH_PASSWORD is set but BASIC_AUTH_USER is not: every push is refused (403)")]
        );
        assert!(config.access.misconfigured.is_some());
        let both = self::config(&[
            ("BASIC_AUTH_USER", "sipgate"),
            ("BASIC_AUTH_PASSWORD", "s3cret"),
        ]);
        assert_eq!(both.problems, []);
        assert!(
            !format!("{both:?}").contains("s3cret"),
            "no secret in Debug"
        );
    }

    #[test]
    fn a_short_admin_token_turns_the_admin_endpoints_off_loudly() {
        let config = config(&[(ADMIN_TOKEN, "1")]);
        assert!(config.admin_token.is_none());
        assert_eq!(config.problems.len(), 1);
        assert_eq!(config.problems[0].level, Level::Error);
        assert!(config.problems[0]
            .message
            .starts_with("ADMIN_TOKEN has 1 characters"));
        let long = self::config(&[(ADMIN_TOKEN, " 0123456789abcdef0123456789abcdef\n")]);
        assert!(long.admin_token.is_some());
        assert_eq!(long.problems, []);
    }

    #[test]
    fn public_url() {
        for (setting, expected) in [
            ("https://router.example.com/", "https://router.example.com/"),
            (
                " https://router.example.com/sipgate ",
                "https://router.example.com/sipgate",
            ),
            ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/"),
            ("http://localhost:8787/", "http://localhost:8787/"),
        ] {
            let config = config(&[(PUBLIC_URL, setting)]);
            assert_eq!(config.problems, [], "{setting}");
            assert_eq!(config.public_url.unwrap().as_str(), expected);
        }
        for (setting, why) in [
            ("router.example.com", "is not an absolute https:// URL"),
            (
                "http://router.example.com/",
                "must be https:// (http:// only on this machine)",
            ),
            (
                "https://router.example.com/?menu=x",
                "must not have a query or fragment: the router adds its own",
            ),
            (
                "https://u:p@router.example.com/",
                "must not carry credentials: set BASIC_AUTH_USER and BASIC_AUTH_PASSWORD",
            ),
        ] {
            let config = config(&[(PUBLIC_URL, setting)]);
            assert!(config.public_url.is_none());
            // Quoted as given, but for credentials (REDACTED).
            let quoted = crate::protocol::url::quotable(setting);
            assert_eq!(
                config.access.problems,
                [format!("PUBLIC_URL={quoted:?} {why}")],
                "{setting}"
            );
            assert!(!config.access.problems[0].contains(":p@"), "{setting}");
            assert!(
                config.access.misconfigured.is_some(),
                "fails closed: {setting}"
            );
        }
        assert!(config(&[(PUBLIC_URL, " ")]).public_url.is_none());
    }
}
