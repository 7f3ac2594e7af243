//! The admin API as the core answers it: Cloudflare Access sign-in through
//! `authorize` (a fake signature scheme stands in for WebCrypto), and
//! inputs a caller controls that must not panic.
use super::tests::{head, published, MONDAY_10};
use super::*;
use crate::journal::{Forwarding, JournalConfig};
use crate::testing::{fake_signature, run, MemoryKv};
use crate::trust::base64;
use crate::trust::jwt::AccessPolicy;

const TEAM: &str = "team.cloudflareaccess.com";
const AUD: &str = "aud-tag";
/// A JWKS whose key `k1` the memory runtime accepts (its fake verifier
/// needs only a key that is not empty).
const JWKS: &str = r#"{"keys":[{"kid":"k1","kty":"RSA","n":"AQAB","e":"AQAB"}]}"#;

fn access_config() -> Config {
    Config {
        access_sign_in: AccessPolicy::parse(Some(TEAM), Some(AUD)).unwrap(),
        ..Config::default()
    }
}

fn base64url(bytes: &[u8]) -> String {
    base64::encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// A token signed the memory runtime's way, valid at MONDAY_10.
fn assertion(email: &str) -> String {
    let header = base64url(br#"{"alg":"RS256","kid":"k1"}"#);
    let claims = format!(
        r#"{{"iss":"https://{TEAM}","aud":["{AUD}"],"exp":{},"email":"{email}"}}"#,
        MONDAY_10 / 1000 + 600
    );
    let signed = format!("{header}.{}", base64url(claims.as_bytes()));
    format!("{signed}.{}", base64url(&fake_signature(signed.as_bytes())))
}

fn status(kv: &MemoryKv, config: &Config, assertion: &str) -> Reply {
    let mut request = head("GET", "https://r.example/admin/api/status", None);
    request.access_assertion = Some(assertion);
    crate::testing::request(kv, config, MONDAY_10, request, "")
}

#[test]
fn an_access_token_signed_with_the_team_s_key_signs_in() {
    let kv = published();
    *kv.access_keys.borrow_mut() = Some(JWKS.to_owned());
    let reply = status(&kv, &access_config(), &assertion("office@example.com"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains(r#""rulesPublished": true"#),
        "{}",
        reply.body
    );
}

#[test]
fn a_token_the_team_s_key_did_not_sign_is_not_found() {
    let kv = published();
    *kv.access_keys.borrow_mut() = Some(JWKS.to_owned());
    let good = assertion("office@example.com");
    let forged = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        base64url(b"forged")
    );
    let reply = status(&kv, &access_config(), &forged);
    assert_eq!((reply.status, reply.log.msg), (404, "access_denied"));
    assert_eq!(reply.body, "not found\n");
}

#[test]
fn serving_an_access_request_that_was_never_authorized_is_not_found() {
    // The edge shell authorizes before it reads the body; a caller that
    // skips that step must not get an answer anyway.
    let kv = published();
    let config = access_config();
    let mut request = head("GET", "https://r.example/admin/api/status", None);
    let token = assertion("office@example.com");
    request.access_assertion = Some(&token);
    let endpoint = admit(&request, &config).unwrap();
    let cache = std::cell::RefCell::new(crate::store::RulesCache::default());
    let services = Services {
        runtime: &kv,
        cache: &cache,
        now_ms: MONDAY_10,
        config: &config,
    };
    let reply = run(serve(&endpoint, b"", &services));
    assert_eq!((reply.status, reply.body.as_str()), (404, "not found\n"));
}

#[test]
fn any_number_of_ms_in_since_and_until_is_answered_without_a_panic() {
    let kv = published();
    let config = Config {
        admin_token: crate::testing::admin_token("s3cret-token-for-tests-0123456789"),
        journal: JournalConfig::from_settings(true, None, None, None, Forwarding::default()),
        ..Config::default()
    };
    for query in [
        "until=-9223372036854775808",
        "since=9223372036854775807&until=-9223372036854775808",
        "until=9223372036854775807",
    ] {
        for route in ["calls", "hits"] {
            let url = format!("https://r.example/admin/api/{route}?{query}");
            let mut request = head("GET", &url, None);
            request.authorization = Some("Bearer s3cret-token-for-tests-0123456789");
            let reply = crate::testing::request(&kv, &config, MONDAY_10, request, "");
            // The memory journal cannot answer these statements: 503, not a panic.
            assert_eq!(reply.status, 503, "{route}?{query}: {}", reply.body);
        }
    }
}

#[test]
fn drafts_are_published_shown_promoted_and_discarded_through_the_api() {
    let kv = published();
    let config = Config {
        admin_token: crate::testing::admin_token("s3cret-token-for-tests-0123456789"),
        ..Config::default()
    };
    let call = |method: &str, route: &str, body: &str| {
        let url = format!("https://r.example/admin/api/{route}");
        let mut request = head(method, &url, (!body.is_empty()).then_some(JSON));
        request.authorization = Some("Bearer s3cret-token-for-tests-0123456789");
        crate::testing::request(&kv, &config, MONDAY_10, request, body)
    };
    let office = include_str!("../../examples/office.json");
    let missing = call("PUT", "draft", office);
    assert_eq!(missing.status, 400);
    assert!(
        missing.body.contains("a draft needs its test callers"),
        "{}",
        missing.body
    );
    let everyone = call("PUT", "draft?callers=*", office);
    assert_eq!(everyone.status, 422, "{}", everyone.body);
    assert!(
        everyone.body.contains(r#""path":"callers[0]""#),
        "{}",
        everyone.body
    );
    assert_eq!(call("GET", "draft", "").status, 404);
    // `+` percent-encoded, as the CLI sends it; a plain `+` would be a space.
    let drafted = call("PUT", "draft?callers=%2B4915790000123,4930*", office);
    assert_eq!(drafted.status, 200, "{}", drafted.body);
    assert_eq!(
        (drafted.log.step, drafted.log.version),
        (Some("draft"), Some(2))
    );
    let shown = call("GET", "draft", "");
    assert!(shown.body.contains(r#""callers": ["#), "{}", shown.body);
    assert!(shown.body.contains(r#""+4915790000123""#), "{}", shown.body);
    let status = call("GET", "status", "");
    assert!(
        status.body.contains(r#""liveVersion": 1"#),
        "{}",
        status.body
    );
    assert!(status.body.contains(r#""base": 1"#), "{}", status.body);
    let versions = call("GET", "rules/versions", "");
    assert!(versions.body.contains(r#""draft": {"#), "{}", versions.body);
    // Someone publishes: promote is refused, then forced.
    assert_eq!(call("PUT", "rules", office).status, 200);
    let behind = call("POST", "draft/promote", "{}");
    assert_eq!(behind.status, 409, "{}", behind.body);
    assert!(behind.body.contains(r#""base":1"#), "{}", behind.body);
    assert_eq!(
        call("POST", "draft/promote", r#"{"sure":true}"#).status,
        400
    );
    let forced = call("POST", "draft/promote", r#"{"force":true}"#);
    assert_eq!(forced.status, 200, "{}", forced.body);
    assert_eq!(
        (forced.log.step, forced.log.version),
        (Some("promote_forced"), Some(2))
    );
    assert_eq!(call("DELETE", "draft", "").status, 400, "no draft left");
    assert_eq!(
        call("PUT", "draft?callers=4915790000123", office).status,
        200
    );
    let discarded = call("DELETE", "draft", "");
    assert_eq!(
        (discarded.status, discarded.log.step),
        (200, Some("discard"))
    );
    assert_eq!(call("GET", "draft", "").status, 404);
}

/// The first bytes of a WAV file of `rate` Hz, `channels` channels, 16-bit PCM.
fn wav(rate: u32, channels: u16) -> Vec<u8> {
    let mut bytes = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00".to_vec();
    bytes.extend(channels.to_le_bytes());
    bytes.extend(rate.to_le_bytes());
    bytes.extend((rate * u32::from(channels) * 2).to_le_bytes());
    bytes.extend((channels * 2).to_le_bytes());
    bytes.extend(16u16.to_le_bytes());
    bytes.extend(b"data\x00\x00\x00\x00");
    bytes
}

#[test]
fn the_sounds_route_fetches_every_sound_and_says_which_sipgate_cannot_play() {
    let kv = published();
    let config = Config {
        admin_token: crate::testing::admin_token("s3cret-token-for-tests-0123456789"),
        ..Config::default()
    };
    kv.web.borrow_mut().extend([
        ("https://s.example/ok.wav".to_owned(), (206, wav(8000, 1))),
        ("https://s.example/cd.wav".to_owned(), (200, wav(44_100, 2))),
        (
            "https://s.example/song.wav".to_owned(),
            (200, b"ID3\x04\x00".to_vec()),
        ),
        ("https://s.example/gone.wav".to_owned(), (404, Vec::new())),
    ]);
    let document = r#"{"menus": {"main": {"prompt": "https://s.example/ok.wav",
        "options": {"1": {"play": {"url": "https://s.example/cd.wav"}}, "2": {"play": {"url": "https://s.example/song.wav"}},
                    "3": {"play": {"url": "https://s.example/gone.wav"}}, "4": {"play": {"url": "https://nowhere.example/x.wav"}}}}},
        "numbers": {"4921100000": [{"id": "m", "then": {"menu": "main"}}]}}"#;
    let sounds = |body: &str| {
        let mut request = head(
            "POST",
            "https://r.example/admin/api/rules/sounds",
            Some(JSON),
        );
        request.authorization = Some("Bearer s3cret-token-for-tests-0123456789");
        crate::testing::request(&kv, &config, MONDAY_10, request, body)
    };
    let reply = sounds(document);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let verdicts: Vec<(&str, &str)> = answer["sounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sound| {
            (
                sound["path"].as_str().unwrap(),
                sound["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("menus.main.prompt", "ok"),
            ("menus.main.options.1.play.url", "unplayable"),
            ("menus.main.options.2.play.url", "unplayable"),
            ("menus.main.options.3.play.url", "unreachable"),
            ("menus.main.options.4.play.url", "unreachable"),
        ]
    );
    assert_eq!(
        (answer["errors"].as_u64(), answer["warnings"].as_u64()),
        (Some(2), Some(2))
    );
    let messages: Vec<&str> = answer["sounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|sound| sound["message"].as_str())
        .collect();
    assert!(messages[0].contains("44,100 Hz stereo"), "{messages:?}");
    assert!(
        messages[0].contains("sox in.wav -r 8000 -c 1 -b 16 out.wav"),
        "{messages:?}"
    );
    assert!(messages[1].contains("an MP3"), "{messages:?}");
    assert_eq!(messages[2], "answered 404");
    assert_eq!(messages[3], "no such host");
    // More sounds than a request may fetch: the rest listed, not fetched.
    let many: Vec<String> = (0..45)
        .map(|n| format!(r#""{n}": {{"play": {{"url": "https://s.example/{n}.wav"}}}}"#))
        .collect();
    kv.fetched.borrow_mut().clear();
    let reply = sounds(&format!(
        r#"{{"menus": {{"main": {{"prompt": "https://s.example/ok.wav", "maxDigits": 2, "options": {{{}}}}}}}}}"#,
        many.join(",")
    ));
    let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        answer["sounds"].as_array().unwrap().len(),
        sounds::MAX_SOUNDS
    );
    assert_eq!(
        answer["unchecked"].as_array().unwrap().len(),
        46 - sounds::MAX_SOUNDS
    );
    assert_eq!(kv.fetched.borrow().len(), sounds::MAX_SOUNDS);
    // Not a document: its error, nothing fetched.
    kv.fetched.borrow_mut().clear();
    let broken = sounds("{\"menus\": 3}");
    assert_eq!(broken.status, 422, "{}", broken.body);
    assert!(kv.fetched.borrow().is_empty());
}
