//! Who may send pushes: sipgate's signature, HTTP basic auth, and the source
//! allowlist. Each is configured by vars and secrets whose names are part of
//! the public interface:
//!
//! | name | kind | check |
//! |---|---|---|
//! | `SIGNATURE_CHECK` | var, `on` (default) / `off` | `X-Sipgate-Signature`: base64 RSA PKCS#1 v1.5 SHA-256 over the raw body → else 403 |
//! | `SIPGATE_PUBLIC_KEY` | var or secret, PEM | the verifying key; default: sipgate's key, compiled in |
//! | `BASIC_AUTH_USER` + `BASIC_AUTH_PASSWORD` | var + secret | `Authorization: Basic …` → else 401 with a challenge |
//! | `ALLOWED_SOURCES` | var, IPs/CIDRs | `CF-Connecting-IP` → else 403 |
//! | `ADMIN_TOKEN` | secret, ≥ 32 characters | `Authorization: Bearer …` on admin endpoints → else 404 |
//!
//! A configuration that cannot be understood fails closed (403 for every
//! push, logged): sipgate then connects calls as if there were no webhook,
//! which is safe, where an open router lets anyone have calls dialled.
//! Authorization schemes (`Basic`, `Bearer`) are case-insensitive.

use crate::trust::base64;
use crate::trust::der::rsa_modulus_bits;
use crate::trust::sources::Allowlist;

/// The weakest verifying key accepted, in bits of RSA modulus.
pub const MIN_KEY_BITS: usize = 2048;

/// The shortest `ADMIN_TOKEN` accepted: 32 characters of a random string
/// (`openssl rand -hex 32` gives 64) leave nothing to guess.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

/// sipgate's push-signing key (4096-bit RSA, SubjectPublicKeyInfo).
pub const SIPGATE_PUBLIC_KEY: &str = include_str!("sipgate-push-public-key.pem");

/// The realm of the basic-auth challenge.
pub const REALM: &str = "sipgate-router";

/// How pushes are checked. The default checks nothing (tests, and what
/// `from_settings` never returns: it defaults to the signature check).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The SPKI DER of the verifying key; `None` when the check is off.
    pub signature_key: Option<Vec<u8>>,
    pub basic: Option<Credentials>,
    pub sources: Allowlist,
    /// Why the configuration cannot be used, if it cannot: every problem,
    /// each naming its setting, joined.
    pub misconfigured: Option<String>,
    /// The same problems, one by one (logged once per isolate).
    pub problems: Vec<String>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

/// What stands for the password wherever an answer is kept or passed on.
pub const REDACTED: &str = "REDACTED";

impl Credentials {
    /// `text` (an answer's XML) with the password of every router URL in it
    /// (`https://user:password@host/…`, percent-encoded as the router writes
    /// it) replaced by [`REDACTED`]. Only the HTTP answer to sipgate may
    /// carry the password; what the journal stores and receivers get is this.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let user = crate::protocol::url::userinfo(&self.user);
        let secret = format!("{user}:{}@", crate::protocol::url::userinfo(&self.password));
        if text.contains(&secret) {
            std::borrow::Cow::Owned(text.replace(&secret, &format!("{user}:{REDACTED}@")))
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"…")
            .finish()
    }
}

/// The raw settings, as read from the environment.
#[derive(Debug, Clone, Default)]
pub struct Settings<'a> {
    pub signature_check: Option<&'a str>,
    pub public_key: Option<&'a str>,
    pub basic_user: Option<&'a str>,
    pub basic_password: Option<&'a str>,
    pub allowed_sources: Option<&'a str>,
}

/// Why a push is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// 403: the client address is not allowed.
    Source,
    /// 401: credentials missing or wrong (answered with the challenge).
    Credentials,
    /// 403: the signature is missing, malformed or does not match.
    Signature(&'static str),
    /// 403: the access configuration cannot be used.
    Misconfigured(String),
}

impl Denied {
    pub fn status(&self) -> u16 {
        match self {
            Denied::Credentials => 401,
            _ => 403,
        }
    }

    /// The plain-text reason; never echoes secrets or request values.
    pub fn reason(&self) -> String {
        match self {
            Denied::Source => "forbidden: the client address is not in ALLOWED_SOURCES".to_owned(),
            Denied::Credentials => "unauthorized: basic auth credentials required".to_owned(),
            Denied::Signature(why) => format!("forbidden: {why}"),
            Denied::Misconfigured(_) => {
                "forbidden: the router's access configuration is invalid".to_owned()
            }
        }
    }
}

impl Access {
    /// Access from settings; problems make it fail closed.
    pub fn from_settings(settings: &Settings<'_>) -> Access {
        let mut problems = Vec::new();
        let signature_key = taken(signature_key(settings), &mut problems).flatten();
        let basic = taken(
            basic_credentials(settings.basic_user, settings.basic_password),
            &mut problems,
        )
        .flatten();
        let sources = taken(
            Allowlist::parse(settings.allowed_sources.unwrap_or_default())
                .map_err(|error| format!("ALLOWED_SOURCES: {error}")),
            &mut problems,
        )
        .unwrap_or_default();
        Access {
            signature_key,
            basic,
            sources,
            misconfigured: (!problems.is_empty()).then(|| problems.join("; ")),
            problems,
        }
    }

    /// Refuses every push for `problem` (a setting elsewhere that cannot be
    /// understood, such as `PUBLIC_URL`).
    pub fn fail_closed(&mut self, problem: String) {
        self.problems.push(problem);
        self.misconfigured = Some(self.problems.join("; "));
    }

    /// Everything a push may be refused for before its body is read.
    pub fn check_head(
        &self,
        client_ip: Option<&str>,
        authorization: Option<&str>,
    ) -> Result<(), Denied> {
        if let Some(problem) = &self.misconfigured {
            return Err(Denied::Misconfigured(problem.clone()));
        }
        if !self.sources.is_empty() && !self.sources.allows(client_ip) {
            return Err(Denied::Source);
        }
        if let Some(expected) = &self.basic {
            if !basic_matches(expected, authorization) {
                return Err(Denied::Credentials);
            }
        }
        Ok(())
    }
}

/// The verifying key's DER when the signature check is on (the default),
/// `None` when it is off.
fn signature_key(settings: &Settings<'_>) -> Result<Option<Vec<u8>>, String> {
    let check = settings.signature_check.map(str::trim).unwrap_or("on");
    match check.to_ascii_lowercase().as_str() {
        "off" => Ok(None),
        "on" => {
            let pem = settings
                .public_key
                .filter(|pem| !pem.trim().is_empty())
                .unwrap_or(SIPGATE_PUBLIC_KEY);
            verifying_key(pem)
                .map(Some)
                .map_err(|error| format!("SIPGATE_PUBLIC_KEY: {error}"))
        }
        other => Err(format!("SIGNATURE_CHECK must be on or off, not {other:?}")),
    }
}

/// The value, or `None` with the problem noted.
fn taken<T>(result: Result<T, String>, problems: &mut Vec<String>) -> Option<T> {
    result.map_err(|problem| problems.push(problem)).ok()
}

/// Basic auth's credentials: both settings, or neither.
fn basic_credentials(
    user: Option<&str>,
    password: Option<&str>,
) -> Result<Option<Credentials>, String> {
    let nonempty = |value: Option<&str>| value.filter(|value| !value.is_empty()).map(str::to_owned);
    match (nonempty(user), nonempty(password)) {
        // user:password is split at the first colon: a user name with one
        // could never match.
        (Some(user), Some(_)) if user.contains(':') => Err(
            "BASIC_AUTH_USER contains ':', which basic auth cannot carry in a user name".to_owned(),
        ),
        (Some(user), Some(password)) => Ok(Some(Credentials { user, password })),
        (None, None) => Ok(None),
        (Some(_), None) => {
            Err("BASIC_AUTH_USER is set but the secret BASIC_AUTH_PASSWORD is not".to_owned())
        }
        (None, Some(_)) => Err("BASIC_AUTH_PASSWORD is set but BASIC_AUTH_USER is not".to_owned()),
    }
}

/// The credentials of an `Authorization` header in `scheme`
/// (`Basic dXNlcjpwdw==`, `bearer …`): schemes are case-insensitive
/// (RFC 9110), spaces around the credentials do not count.
fn credentials<'a>(authorization: Option<&'a str>, scheme: &str) -> Option<&'a str> {
    let (given, token) = authorization?.trim().split_once([' ', '\t'])?;
    given.eq_ignore_ascii_case(scheme).then(|| token.trim())
}

/// `Authorization: Basic base64(user:password)`, compared in constant time
/// (both parts, always, so the time says nothing about which was wrong).
fn basic_matches(expected: &Credentials, authorization: Option<&str>) -> bool {
    let given = credentials(authorization, "basic")
        .and_then(base64::decode)
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let (user, password) = given
        .as_deref()
        .and_then(|pair| pair.split_once(':'))
        .unwrap_or(("", ""));
    let user_ok = constant_time_eq(user.as_bytes(), expected.user.as_bytes());
    let password_ok = constant_time_eq(password.as_bytes(), expected.password.as_bytes());
    given.is_some() && user_ok & password_ok
}

/// `ADMIN_TOKEN`: the bearer token of the admin endpoints. Its only
/// constructor refuses a token too short to be secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(…)") // never the secret, not even in a panic
    }
}

impl AdminToken {
    /// The token, trimmed (a pasted secret often ends in a line break);
    /// `Ok(None)` when not set, `Err` (naming no part of it) when too short.
    pub fn parse(setting: Option<&str>) -> Result<Option<AdminToken>, String> {
        let token = setting.map(str::trim).unwrap_or_default();
        let length = token.chars().count();
        match length {
            0 => Ok(None),
            n if n < MIN_ADMIN_TOKEN_CHARS => Err(format!(
                "ADMIN_TOKEN has {n} characters, fewer than the {MIN_ADMIN_TOKEN_CHARS} required: the admin endpoints are off (openssl rand -hex 32 makes one)"
            )),
            _ => Ok(Some(AdminToken(token.to_owned()))),
        }
    }

    /// Whether `authorization` is `Bearer <this token>`, compared in constant time.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        credentials(authorization, "bearer")
            .is_some_and(|given| constant_time_eq(given.as_bytes(), self.0.as_bytes()))
    }
}

/// Compares secrets without an early exit on the first differing byte.
pub fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != expected.len());
    for (index, expected_byte) in expected.iter().enumerate() {
        difference |= given.get(index).copied().unwrap_or(0) ^ expected_byte;
    }
    difference == 0
}

/// The DER of a PEM key sipgate's signatures can be trusted with: RSA, at
/// least [`MIN_KEY_BITS`].
fn verifying_key(pem: &str) -> Result<Vec<u8>, String> {
    let der = spki_der(pem)?;
    let bits = rsa_modulus_bits(&der).map_err(|error| error.to_string())?;
    if bits < MIN_KEY_BITS {
        return Err(format!(
            "a {bits}-bit RSA key is too weak to trust: at least {MIN_KEY_BITS} bits"
        ));
    }
    Ok(der)
}

/// The bytes of `X-Sipgate-Signature`, or why there are none.
pub fn signature_bytes(header: Option<&str>) -> Result<Vec<u8>, Denied> {
    let header = header.ok_or(Denied::Signature("missing X-Sipgate-Signature"))?;
    base64::decode(header.trim()).ok_or(Denied::Signature("X-Sipgate-Signature is not base64"))
}

/// The DER of a `-----BEGIN PUBLIC KEY-----` PEM. Literal `\n` sequences
/// count as line breaks, as keys pasted into one-line settings have them.
pub fn spki_der(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
    const END: &str = "-----END PUBLIC KEY-----";
    let pem = pem.replace("\\n", "\n");
    let body = pem
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(body, _)| body)
        .ok_or("not a PEM public key (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----)")?;
    let base64: String = body.split_whitespace().collect();
    let der = base64::decode(&base64).ok_or("the PEM body is not base64")?;
    // An SPKI is a DER SEQUENCE; WebCrypto checks the rest when importing.
    if der.first() != Some(&0x30) {
        return Err("the PEM body is not a DER SubjectPublicKeyInfo".to_owned());
    }
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::encode(format!("{user}:{password}").as_bytes())
        )
    }

    fn access(settings: Settings<'_>) -> Access {
        Access::from_settings(&settings)
    }

    #[test]
    fn defaults_to_checking_sipgates_signature() {
        let default = access(Settings::default());
        assert_eq!(default.misconfigured, None);
        let der = default.signature_key.unwrap();
        assert_eq!(der.len(), 550, "a 4096-bit RSA SPKI");
        assert_eq!(
            access(Settings {
                signature_check: Some("off"),
                ..Settings::default()
            })
            .signature_key,
            None
        );
        assert_eq!(
            access(Settings {
                signature_check: Some(" ON "),
                ..Settings::default()
            })
            .signature_key
            .map(|k| k.len()),
            Some(550)
        );
    }

    #[test]
    fn bad_configuration_fails_closed() {
        for settings in [
            Settings {
                signature_check: Some("maybe"),
                ..Settings::default()
            },
            Settings {
                public_key: Some("not a key"),
                ..Settings::default()
            },
            Settings {
                basic_user: Some("sipgate"),
                ..Settings::default()
            },
            Settings {
                basic_password: Some("secret"),
                ..Settings::default()
            },
            Settings {
                allowed_sources: Some("217.116.118.254, nonsense"),
                ..Settings::default()
            },
            Settings {
                allowed_sources: Some(", ,"),
                ..Settings::default()
            },
            Settings {
                basic_user: Some("sip:gate"),
                basic_password: Some("secret"),
                ..Settings::default()
            },
            Settings {
                public_key: Some(crate::testing::keys::RSA_512),
                ..Settings::default()
            },
            Settings {
                public_key: Some(crate::testing::keys::RSA_2047),
                ..Settings::default()
            },
            Settings {
                public_key: Some(crate::testing::keys::EC_P256),
                ..Settings::default()
            },
        ] {
            let access = access(settings.clone());
            assert!(access.misconfigured.is_some(), "{settings:?}");
            assert!(matches!(
                access.check_head(Some("217.116.118.254"), None),
                Err(Denied::Misconfigured(_))
            ));
        }
    }

    #[test]
    fn every_problem_names_its_setting() {
        let access = access(Settings {
            public_key: Some(crate::testing::keys::RSA_512),
            basic_user: Some("sip:gate"),
            basic_password: Some("secret"),
            allowed_sources: Some(", ,"),
            ..Settings::default()
        });
        assert_eq!(
            access.problems,
            [
                "SIPGATE_PUBLIC_KEY: a 512-bit RSA key is too weak to trust: at least 2048 bits",
                "BASIC_AUTH_USER contains ':', which basic auth cannot carry in a user name",
                "ALLOWED_SOURCES: lists no address: leave it empty to turn the check off",
            ]
        );
        assert_eq!(
            access.misconfigured.as_deref(),
            Some(access.problems.join("; ").as_str())
        );
        let strong = self::access(Settings {
            public_key: Some(crate::testing::keys::RSA_2048),
            ..Settings::default()
        });
        assert_eq!(strong.problems, Vec::<String>::new());
        assert!(strong.signature_key.is_some());
    }

    #[test]
    fn the_admin_token_is_long_trimmed_and_a_bearer_in_any_case() {
        let token = "0123456789abcdef0123456789abcdef";
        assert_eq!(AdminToken::parse(None), Ok(None));
        assert_eq!(AdminToken::parse(Some("  \n")), Ok(None));
        let short = AdminToken::parse(Some("x")).unwrap_err();
        assert_eq!(
            short,
            "ADMIN_TOKEN has 1 characters, fewer than the 32 required: the admin endpoints are off (openssl rand -hex 32 makes one)"
        );
        assert!(AdminToken::parse(Some(&token[1..])).is_err());
        let admin = AdminToken::parse(Some(&format!(" {token}\n")))
            .unwrap()
            .unwrap();
        assert_eq!(format!("{admin:?}"), "AdminToken(…)");
        for accepted in [
            format!("Bearer {token}"),
            format!("bearer {token}"),
            format!("BEARER  {token} "),
        ] {
            assert!(admin.admits(Some(&accepted)), "{accepted}");
        }
        for refused in [
            None,
            Some(format!("Bearer {}", &token[1..])),
            Some(format!("Bearer {token}x")),
            Some(format!("Basic {token}")),
            Some(token.to_owned()),
            Some("Bearer ".to_owned()),
        ] {
            assert!(!admin.admits(refused.as_deref()), "{refused:?}");
        }
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"", b"abc"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
    }

    #[test]
    fn basic_auth() {
        let access = access(Settings {
            basic_user: Some("sipgate"),
            basic_password: Some("s3cret"),
            ..Settings::default()
        });
        assert_eq!(
            access.check_head(None, Some(&basic("sipgate", "s3cret"))),
            Ok(())
        );
        for scheme in ["basic ", "BASIC ", "bAsIc\t", "Basic   "] {
            let header = format!("{scheme}{}", base64::encode(b"sipgate:s3cret"));
            assert_eq!(access.check_head(None, Some(&header)), Ok(()), "{header}");
        }
        for wrong in [
            None,
            Some(basic("sipgate", "s3creT")),
            Some(basic("Sipgate", "s3cret")),
            Some(basic("sipgate", "")),
            Some(basic("", "")),
            Some("Basic".to_owned()),
            Some("Basic !!!".to_owned()),
            Some("Bearer s3cret".to_owned()),
            Some(format!("Basic {}", base64::encode(b"sipgates3cret"))),
            // Credentials that are not UTF-8 match nothing.
            Some(format!("Basic {}", base64::encode(b"sipgate:s3cret\xff"))),
            Some(format!("Basic {}", base64::encode(b"\xffsipgate:s3cret"))),
        ] {
            assert_eq!(
                access.check_head(None, wrong.as_deref()),
                Err(Denied::Credentials),
                "{wrong:?}"
            );
        }
        assert_eq!(Denied::Credentials.status(), 401);
        // The password may contain colons.
        let colon = self::access(Settings {
            basic_user: Some("u"),
            basic_password: Some("a:b"),
            ..Settings::default()
        });
        assert_eq!(colon.check_head(None, Some(&basic("u", "a:b"))), Ok(()));
    }

    #[test]
    fn source_allowlist() {
        let access = access(Settings {
            allowed_sources: Some("217.116.118.254, 212.9.46.32"),
            ..Settings::default()
        });
        assert_eq!(access.check_head(Some("212.9.46.32"), None), Ok(()));
        assert_eq!(
            access.check_head(Some("203.0.113.7"), None),
            Err(Denied::Source)
        );
        assert_eq!(access.check_head(None, None), Err(Denied::Source));
        let open = self::access(Settings::default());
        assert_eq!(open.check_head(None, None), Ok(()));
    }

    #[test]
    fn signature_header() {
        assert_eq!(
            signature_bytes(None),
            Err(Denied::Signature("missing X-Sipgate-Signature"))
        );
        assert_eq!(
            signature_bytes(Some("%%%")),
            Err(Denied::Signature("X-Sipgate-Signature is not base64"))
        );
        assert_eq!(signature_bytes(Some(" AAEC ")).unwrap(), [0, 1, 2]);
    }

    #[test]
    fn pem_keys() {
        let der = spki_der(SIPGATE_PUBLIC_KEY).unwrap();
        let one_line = SIPGATE_PUBLIC_KEY.replace('\n', "\\n");
        assert_eq!(spki_der(&one_line).unwrap(), der);
        assert!(spki_der("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----").is_err());
        assert!(spki_der("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
        assert!(
            spki_der("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----")
                .is_err()
        );
    }
}
