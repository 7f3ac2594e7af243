//! Cloudflare Access: the JWT in `Cf-Access-Jwt-Assertion` that a request
//! bears once Access let its user through. The claims are checked here; the
//! RS256 signature (RSASSA-PKCS1-v1_5 over SHA-256, as sipgate's) by the
//! runtime's WebCrypto, with the team's key of the token's `kid`.
//!
//! ```text
//! Cf-Access-Jwt-Assertion: eyJhbGciOiJSUzI1NiIsImtpZCI6Ij…  (header.payload.signature, base64url)
//! header  {"alg":"RS256","kid":"5f3f…"}
//! payload {"aud":["<ACCESS_AUD>"],"iss":"https://<team>.cloudflareaccess.com","exp":1796029200,"email":"office@example.com",…}
//! keys    GET https://<team>.cloudflareaccess.com/cdn-cgi/access/certs → {"keys":[{"kid","kty":"RSA","n","e"},…]}
//! ```

use serde_json::{Map, Value};

use super::base64;
use super::der::rsa_spki;

/// Tokens a little past `exp` (clock skew between Access and the edge).
const LEEWAY_SECONDS: i64 = 60;

/// `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD`: whose tokens are admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    /// `https://<team>.cloudflareaccess.com`: the tokens' `iss`.
    pub issuer: String,
    /// The Access application's audience tag: one of the tokens' `aud`.
    pub audience: String,
}

impl AccessPolicy {
    /// From the two settings; both or neither.
    pub fn parse(
        team_domain: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Option<AccessPolicy>, String> {
        let team = team_domain.map(str::trim).filter(|value| !value.is_empty());
        let audience = audience.map(str::trim).filter(|value| !value.is_empty());
        let (team, audience) = match (team, audience) {
            (None, None) => return Ok(None),
            (Some(team), Some(audience)) => (team, audience),
            _ => {
                return Err(
                    "ACCESS_TEAM_DOMAIN and ACCESS_AUD go together: with one of them only, \
                            Cloudflare Access sign-in is off"
                        .to_owned(),
                )
            }
        };
        let host = team
            .strip_prefix("https://")
            .unwrap_or(team)
            .trim_end_matches('/');
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.');
        if !valid {
            return Err(format!(
                "ACCESS_TEAM_DOMAIN {} is not a host like myteam.cloudflareaccess.com: \
                 Cloudflare Access sign-in is off",
                crate::log::clip(team)
            ));
        }
        Ok(Some(AccessPolicy {
            issuer: format!("https://{}", host.to_ascii_lowercase()),
            audience: audience.to_owned(),
        }))
    }

    /// Where the team publishes its signing keys.
    pub fn certs_url(&self) -> String {
        format!("{}/cdn-cgi/access/certs", self.issuer)
    }
}

/// Why a token is not admitted (logged; the request is answered 404).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    Malformed(&'static str),
    /// Not RS256 (`none`, HS256, … are refused whatever they say).
    Algorithm,
    Issuer,
    Audience,
    Expired,
    NotYetValid,
    /// No key of the team has the token's `kid`.
    UnknownKey,
    /// The signature does not match.
    Signature,
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtError::Malformed(what) => write!(f, "the Access token is malformed: {what}"),
            JwtError::Algorithm => f.write_str("the Access token is not RS256"),
            JwtError::Issuer => f.write_str("the Access token is from another team (iss)"),
            JwtError::Audience => f.write_str("the Access token is for another application (aud)"),
            JwtError::Expired => f.write_str("the Access token has expired"),
            JwtError::NotYetValid => f.write_str("the Access token is not valid yet (nbf)"),
            JwtError::UnknownKey => f.write_str("no key of the team has the Access token's kid"),
            JwtError::Signature => f.write_str("the Access token's signature does not match"),
        }
    }
}

/// A token whose claims hold; its signature is still to be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub kid: String,
    /// `header.payload`: what the signature is over.
    pub signed: &'a str,
    pub signature: Vec<u8>,
    /// Who: the e-mail, else the subject (a service token's client id).
    pub identity: String,
}

/// base64url without padding, as JWTs have it.
fn base64url(text: &str) -> Option<Vec<u8>> {
    if text.contains(['+', '/', '=']) {
        return None;
    }
    let mut standard: String = text.replace('-', "+").replace('_', "/");
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    base64::decode(&standard)
}

/// A JSON object, base64url-encoded. Read as a JSON value, not into
/// structs: each derived struct reader is kilobytes of wasm, the value
/// reader is there anyway.
fn part(text: &str, what: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = base64url(text).ok_or(JwtError::Malformed(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(JwtError::Malformed(what)),
    }
}

fn text<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str)
}

/// Reads `assertion` and checks its claims against `policy` at `now` (s).
pub fn read<'a>(
    assertion: &'a str,
    policy: &AccessPolicy,
    now: i64,
) -> Result<Token<'a>, JwtError> {
    let assertion = assertion.trim();
    let mut parts = assertion.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("not three dot-separated parts"));
    };
    let header = part(header, "the header is not base64url JSON")?;
    if text(&header, "alg") != Some("RS256") {
        return Err(JwtError::Algorithm);
    }
    let claims = part(payload, "the payload is not base64url JSON")?;
    if text(&claims, "iss").map(|iss| iss.trim_end_matches('/')) != Some(policy.issuer.as_str()) {
        return Err(JwtError::Issuer);
    }
    // `aud`: a string or a list of strings.
    let audience_matches = match claims.get("aud") {
        Some(Value::String(aud)) => *aud == policy.audience,
        Some(Value::Array(auds)) => auds
            .iter()
            .any(|aud| aud.as_str() == Some(&policy.audience)),
        _ => false,
    };
    if !audience_matches {
        return Err(JwtError::Audience);
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if now <= exp.saturating_add(LEEWAY_SECONDS) => {}
        _ => return Err(JwtError::Expired),
    }
    if claims
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| now.saturating_add(LEEWAY_SECONDS) < nbf)
    {
        return Err(JwtError::NotYetValid);
    }
    let signature =
        base64url(signature).ok_or(JwtError::Malformed("the signature is not base64url"))?;
    let signed = assertion
        .rsplit_once('.')
        .map_or(assertion, |(signed, _)| signed);
    let identity = ["email", "common_name", "sub"]
        .into_iter()
        .find_map(|name| text(&claims, name))
        .unwrap_or("an Access identity")
        .to_owned();
    Ok(Token {
        kid: text(&header, "kid").unwrap_or_default().to_owned(),
        signed,
        signature,
        identity,
    })
}

/// The key with `kid` in a JWKS document, as a SubjectPublicKeyInfo for
/// WebCrypto; `None` when it has none (or only keys that are not RSA).
pub fn key(jwks: &str, kid: &str) -> Option<Vec<u8>> {
    let jwks: Value = serde_json::from_str(jwks).ok()?;
    let jwk = jwks.get("keys")?.as_array()?.iter().find(|jwk| {
        jwk.get("kid").and_then(Value::as_str) == Some(kid)
            && jwk.get("kty").and_then(Value::as_str) == Some("RSA")
    })?;
    let field = |name: &str| base64url(jwk.get(name)?.as_str()?);
    Some(rsa_spki(&field("n")?, &field("e")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::der::rsa_modulus_bits;

    fn policy() -> AccessPolicy {
        AccessPolicy::parse(Some("team.cloudflareaccess.com"), Some("aud-tag"))
            .unwrap()
            .unwrap()
    }

    fn encode(json: &str) -> String {
        base64::encode(json.as_bytes())
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    }

    fn token(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.{}",
            encode(header),
            encode(claims),
            encode("signature")
        )
    }

    const RS256: &str = r#"{"alg":"RS256","kid":"k1"}"#;

    #[test]
    fn the_settings_go_together_and_name_a_host() {
        assert_eq!(AccessPolicy::parse(None, None), Ok(None));
        assert!(AccessPolicy::parse(Some("team.cloudflareaccess.com"), None).is_err());
        assert!(AccessPolicy::parse(None, Some("aud")).is_err());
        assert!(AccessPolicy::parse(Some("https://team.example/path"), Some("aud")).is_err());
        let policy = AccessPolicy::parse(Some(" https://Team.cloudflareaccess.com/ "), Some("aud"))
            .unwrap()
            .unwrap();
        assert_eq!(policy.issuer, "https://team.cloudflareaccess.com");
        assert_eq!(
            policy.certs_url(),
            "https://team.cloudflareaccess.com/cdn-cgi/access/certs"
        );
    }

    #[test]
    fn a_token_with_the_right_claims_is_read_with_its_identity() {
        let claims = r#"{"iss":"https://team.cloudflareaccess.com","aud":["other","aud-tag"],"exp":1000,"email":"office@example.com"}"#;
        let assertion = token(RS256, claims);
        let read = read(&assertion, &policy(), 900).unwrap();
        assert_eq!(read.kid, "k1");
        assert_eq!(read.identity, "office@example.com");
        assert_eq!(read.signature, b"signature");
        assert_eq!(
            format!("{}.{}", read.signed, encode("signature")),
            assertion
        );
    }

    #[test]
    fn each_wrong_claim_is_refused_for_its_reason() {
        let claims = |iss: &str, aud: &str, exp: i64| {
            format!(r#"{{"iss":"{iss}","aud":{aud},"exp":{exp},"sub":"x"}}"#)
        };
        let good_iss = "https://team.cloudflareaccess.com";
        let cases = [
            (
                token(r#"{"alg":"none"}"#, &claims(good_iss, r#""aud-tag""#, 1000)),
                JwtError::Algorithm,
            ),
            (
                token(
                    r#"{"alg":"HS256","kid":"k1"}"#,
                    &claims(good_iss, r#""aud-tag""#, 1000),
                ),
                JwtError::Algorithm,
            ),
            (
                token(
                    RS256,
                    &claims("https://other.cloudflareaccess.com", r#""aud-tag""#, 1000),
                ),
                JwtError::Issuer,
            ),
            (
                token(RS256, &claims(good_iss, r#"["other"]"#, 1000)),
                JwtError::Audience,
            ),
            (
                token(RS256, &claims(good_iss, r#""aud-tag""#, 800)),
                JwtError::Expired,
            ),
            (
                token(
                    RS256,
                    r#"{"iss":"https://team.cloudflareaccess.com","aud":"aud-tag","exp":2000,"nbf":1000}"#,
                ),
                JwtError::NotYetValid,
            ),
            (
                "a.b".to_owned(),
                JwtError::Malformed("not three dot-separated parts"),
            ),
            (
                format!(
                    "{}.{}.x+y",
                    encode(RS256),
                    encode(&claims(good_iss, r#""aud-tag""#, 1000))
                ),
                JwtError::Malformed("the signature is not base64url"),
            ),
        ];
        for (assertion, expected) in cases {
            assert_eq!(
                read(&assertion, &policy(), 900),
                Err(expected),
                "{assertion}"
            );
        }
        // Within the minute of leeway after exp.
        assert!(read(
            &token(RS256, &claims(good_iss, r#""aud-tag""#, 850)),
            &policy(),
            900
        )
        .is_ok());
    }

    #[test]
    fn a_jwks_key_becomes_a_spki_of_its_size() {
        let n = encode(&"\u{7f}".repeat(256)); // 2048 bits, high bit clear
        let jwks = format!(
            r#"{{"keys":[{{"kid":"ec","kty":"EC"}},{{"kid":"k1","kty":"RSA","alg":"RS256","n":"{n}","e":"AQAB"}}]}}"#
        );
        let spki = key(&jwks, "k1").unwrap();
        assert_eq!(rsa_modulus_bits(&spki), Ok(2047));
        assert_eq!(key(&jwks, "ec"), None);
        assert_eq!(key(&jwks, "missing"), None);
        assert_eq!(key("not json", "k1"), None);
    }
}
