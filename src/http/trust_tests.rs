//! Access checks and failure handling, with a cache shared across requests.

use super::*;
use std::cell::RefCell;

use crate::store::{RulesCache, LIVE_KEY};
use crate::testing::{fake_signature, run, MemoryKv};
use crate::trust::access::{Access, Settings};
use crate::trust::base64;

const FORM_UTF8: Option<&str> = Some("application/x-www-form-urlencoded");
const SEED: &str = "from=492111234567&to=4921100000&direction=in";
const MONDAY_10: i64 = 1_796_029_200_000;
const DIAL: &str = r#"{"numbers": {"4921100000": [{"id": "dial", "then": {"dial": {"numbers": ["4915790000001"]}}}]}}"#;

fn publish(kv: &MemoryKv, document: &str) {
    crate::testing::publish_source(kv, document, "t");
}

struct Request<'a> {
    path: &'a str,
    content_type: Option<&'a str>,
    authorization: Option<String>,
    client_ip: Option<&'a str>,
    signature: Option<String>,
    body: &'a str,
}

fn push(body: &str) -> Request<'_> {
    Request {
        path: "/",
        content_type: FORM_UTF8,
        authorization: None,
        client_ip: None,
        signature: None,
        body,
    }
}

fn send(
    kv: &MemoryKv,
    cache: &RefCell<RulesCache>,
    config: &Config,
    request: &Request<'_>,
) -> Reply {
    let url = format!("https://r.example{}", request.path);
    let head = RequestHead {
        method: "POST",
        url: &url,
        content_type: request.content_type,
        content_length: None,
        authorization: request.authorization.as_deref(),
        client_ip: request.client_ip,
        signature: request.signature.as_deref(),
        ..RequestHead::default()
    };
    let endpoint = match admit(&head, config) {
        Ok(endpoint) => endpoint,
        Err(refusal) => return *refusal,
    };
    let services = Services {
        runtime: kv,
        cache,
        now_ms: MONDAY_10,
        config,
    };
    run(serve(&endpoint, request.body.as_bytes(), &services))
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::encode(format!("{user}:{password}").as_bytes())
    )
}

fn signature(body: &str) -> String {
    base64::encode(&fake_signature(body.as_bytes()))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Given {
    Off,
    Right,
    Wrong,
    Missing,
}

/// Signature × basic auth × allowlist, each off or on with right, wrong
/// or missing credentials: a push gets through exactly when every check
/// that is on passes, and a refused push reads nothing.
#[test]
fn the_auth_matrix_has_no_bypass() {
    let kv = MemoryKv::default();
    publish(&kv, DIAL);
    let mut cases = 0;
    for signature_given in [Given::Off, Given::Right, Given::Wrong, Given::Missing] {
        for basic_given in [Given::Off, Given::Right, Given::Wrong, Given::Missing] {
            for source_given in [Given::Off, Given::Right, Given::Wrong, Given::Missing] {
                let access = Access::from_settings(&Settings {
                    signature_check: Some(if signature_given == Given::Off {
                        "off"
                    } else {
                        "on"
                    }),
                    basic_user: (basic_given != Given::Off).then_some("sipgate"),
                    basic_password: (basic_given != Given::Off).then_some("s3cret"),
                    allowed_sources: (source_given != Given::Off)
                        .then_some("217.116.118.254, 212.9.46.32"),
                    ..Settings::default()
                });
                let config = Config {
                    access,
                    kv_budget_ms: 1000,
                    ..Config::default()
                };
                let request = Request {
                    authorization: match basic_given {
                        Given::Right => Some(basic("sipgate", "s3cret")),
                        Given::Wrong => Some(basic("sipgate", "guess")),
                        Given::Off | Given::Missing => None,
                    },
                    client_ip: match source_given {
                        Given::Right => Some("212.9.46.32"),
                        Given::Wrong => Some("198.51.100.7"),
                        Given::Off | Given::Missing => None,
                    },
                    signature: match signature_given {
                        Given::Right => Some(signature(SEED)),
                        Given::Wrong => Some(signature("from=1&to=4921100000&direction=in")),
                        Given::Off | Given::Missing => None,
                    },
                    ..push(SEED)
                };
                kv.take_reads();
                // The real signature check needs a real key: give the fake runtime one.
                let reply = send(&kv, &RefCell::new(RulesCache::default()), &config, &request);
                let passes = |given: Given| matches!(given, Given::Off | Given::Right);
                let expected = if !passes(source_given) {
                    403
                } else if !passes(basic_given) {
                    401
                } else if !passes(signature_given) {
                    403
                } else {
                    200
                };
                let case = format!(
                    "signature {signature_given:?}, basic {basic_given:?}, source {source_given:?}"
                );
                assert_eq!(reply.status, expected, "{case}: {}", reply.body);
                if expected == 200 {
                    assert!(
                        reply.body.contains("<Number>4915790000001</Number>"),
                        "{case}"
                    );
                } else {
                    assert!(kv.take_reads().is_empty(), "{case}: a refused push read KV");
                    assert_eq!(reply.log.msg, "denied", "{case}");
                }
                if expected == 401 {
                    assert!(reply.headers.contains(&(
                        "WWW-Authenticate",
                        "Basic realm=\"sipgate-router\", charset=\"UTF-8\"".to_owned()
                    )));
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 64);
}

#[test]
fn the_admin_token_matrix() {
    let kv = MemoryKv::default();
    publish(&kv, DIAL);
    const TOKEN: &str = "admin-token-0123456789abcdef-0123";
    for configured in [None, Some(TOKEN)] {
        for bearer in [
            None,
            Some(TOKEN),
            Some("admin-tokeN-0123456789abcdef-0123"),
            Some(""),
        ] {
            let config = Config {
                admin_token: configured.and_then(crate::testing::admin_token),
                kv_budget_ms: 1000,
                // Push checks do not apply to the admin endpoint.
                access: Access::from_settings(&Settings::default()),
                ..Config::default()
            };
            let request = Request {
                path: "/simulate",
                content_type: Some("application/json"),
                authorization: bearer.map(|token| format!("Bearer {token}")),
                ..push(r#"{"from":"492111234567","to":"4921100000","direction":"in"}"#)
            };
            let reply = send(&kv, &RefCell::new(RulesCache::default()), &config, &request);
            let expected = if configured.is_some() && bearer == configured {
                200
            } else {
                404
            };
            assert_eq!(
                reply.status, expected,
                "configured {configured:?}, bearer {bearer:?}"
            );
        }
    }
}

#[test]
fn any_one_byte_change_to_a_signed_body_is_refused() {
    let kv = MemoryKv::default();
    publish(&kv, DIAL);
    let config = Config {
        kv_budget_ms: 1000,
        access: Access::from_settings(&Settings::default()),
        ..Config::default()
    };
    let cache = RefCell::new(RulesCache::default());
    let signed = signature(SEED);
    let accepted = send(
        &kv,
        &cache,
        &config,
        &Request {
            signature: Some(signed.clone()),
            ..push(SEED)
        },
    );
    assert_eq!(accepted.status, 200);
    for position in 0..SEED.len() {
        let mut changed = SEED.as_bytes().to_vec();
        changed[position] ^= 0x01;
        let changed = String::from_utf8(changed).unwrap();
        let reply = send(
            &kv,
            &cache,
            &config,
            &Request {
                signature: Some(signed.clone()),
                ..push(&changed)
            },
        );
        assert_eq!(reply.status, 403, "byte {position}");
        assert_eq!(
            reply.body,
            "forbidden: X-Sipgate-Signature does not match the body\n"
        );
    }
    let malformed = send(
        &kv,
        &cache,
        &config,
        &Request {
            signature: Some("not base64!".into()),
            ..push(SEED)
        },
    );
    assert_eq!(
        malformed.body,
        "forbidden: X-Sipgate-Signature is not base64\n"
    );
}

#[test]
fn a_misconfiguration_fails_closed_and_says_why_in_the_log_only() {
    let kv = MemoryKv::default();
    let config = Config {
        access: Access::from_settings(&Settings {
            basic_user: Some("sipgate"),
            ..Settings::default()
        }),
        ..Config::default()
    };
    let reply = send(
        &kv,
        &RefCell::new(RulesCache::default()),
        &config,
        &push(SEED),
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (
            403,
            "forbidden: the router's access configuration is invalid\n"
        )
    );
    assert_eq!(reply.log.level, Level::Error);
    assert_eq!(
        reply.log.error.as_deref(),
        Some("BASIC_AUTH_USER is set but the secret BASIC_AUTH_PASSWORD is not")
    );
}

#[test]
fn with_basic_auth_menu_urls_carry_the_credentials() {
    let kv = MemoryKv::default();
    publish(
        &kv,
        r#"{"menus": {"m": {"prompt": "https://x.example/m.wav"}}, "default": [{"then": {"menu": "m"}}]}"#,
    );
    let config = Config {
        kv_budget_ms: 1000,
        access: Access::from_settings(&Settings {
            signature_check: Some("off"),
            basic_user: Some("sipgate"),
            basic_password: Some("s3cret"),
            ..Settings::default()
        }),
        ..Config::default()
    };
    let request = Request {
        authorization: Some(basic("sipgate", "s3cret")),
        ..push(SEED)
    };
    let reply = send(&kv, &RefCell::new(RulesCache::default()), &config, &request);
    assert!(
        reply
            .body
            .contains("onData=\"https://sipgate:s3cret@r.example/?menu=m&amp;try=0\""),
        "{}",
        reply.body
    );
}

fn open_config() -> Config {
    Config {
        kv_budget_ms: 1000,
        ..Config::default()
    }
}

#[test]
fn kv_past_its_budget_answers_from_the_last_known_good_rules() {
    let mut kv = MemoryKv::default();
    publish(&kv, DIAL);
    let cache = RefCell::new(RulesCache::default());
    let config = open_config();
    assert!(send(&kv, &cache, &config, &push(SEED))
        .body
        .contains("4915790000001"));
    kv.hanging = true;
    let reply = send(&kv, &cache, &config, &push(SEED));
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("4915790000001"), "{}", reply.body);
    assert_eq!(reply.log.level, Level::Error);
    assert_eq!(
        reply.log.error.as_deref(),
        Some(
            "KV did not answer within 1000 ms; answered from the last-known-good rules (version 1)"
        )
    );
    // A cold isolate has nothing to fall back on: proceed.
    let cold = send(
        &kv,
        &RefCell::new(RulesCache::default()),
        &config,
        &push(SEED),
    );
    assert!(cold.body.ends_with("<Response/>"));
    assert_eq!(cold.log.msg, "rules_unavailable");
}

#[test]
fn a_broken_new_version_or_a_lost_key_answers_from_the_last_known_good_rules() {
    let kv = MemoryKv::default();
    publish(&kv, DIAL);
    let cache = RefCell::new(RulesCache::default());
    let config = open_config();
    assert!(send(&kv, &cache, &config, &push(SEED))
        .body
        .contains("4915790000001"));
    // Version 2's shard is garbage.
    kv.put(LIVE_KEY, r#"{"version":2,"shards":1}"#);
    kv.put("rules:v2:s0", "\u{0}\u{1}garbage");
    let reply = send(&kv, &cache, &config, &push(SEED));
    assert!(reply.body.contains("4915790000001"));
    assert!(reply
        .log
        .error
        .as_deref()
        .unwrap()
        .starts_with("rules:v2:s0 is not usable"));
    // Shards are immutable: the broken one is remembered, not read again.
    kv.take_reads();
    let reply = send(&kv, &cache, &config, &push(SEED));
    assert!(reply.body.contains("4915790000001"));
    assert_eq!(kv.take_reads(), [LIVE_KEY]);
    // Version 3's shard is lost.
    kv.put(LIVE_KEY, r#"{"version":3,"shards":1}"#);
    let reply = send(&kv, &cache, &config, &push(SEED));
    assert!(reply.body.contains("4915790000001"));
    assert!(reply
        .log
        .error
        .as_deref()
        .unwrap()
        .starts_with("rules:v3:s0 is missing"));
    // The pointer disappears: a fault, not "nothing published".
    kv.remove(LIVE_KEY);
    let reply = send(&kv, &cache, &config, &push(SEED));
    assert!(reply.body.contains("4915790000001"));
    assert!(reply
        .log
        .error
        .as_deref()
        .unwrap()
        .starts_with("rules:live is missing"));
    // KV fails outright.
    let failing = MemoryKv {
        failing: Some("503".into()),
        ..MemoryKv::default()
    };
    publish(&kv, DIAL);
    let cache = RefCell::new(RulesCache::default());
    assert!(send(&kv, &cache, &config, &push(SEED))
        .body
        .contains("4915790000001"));
    let reply = send(&failing, &cache, &config, &push(SEED));
    assert!(reply.body.contains("4915790000001"));
    assert!(reply
        .log
        .error
        .as_deref()
        .unwrap()
        .starts_with("reading rules:live failed: 503"));
}
