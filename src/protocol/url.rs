//! Absolute `http(s)` URLs, the only kind sipgate.io follows.
//!
//! sipgate fetches `<Play><Url>` itself and posts to `onAnswer`, `onHangup`
//! and `onData`; a relative URL or another scheme makes those verbs "do
//! nothing" on the call, which is one of the most reported sipgate.io
//! problems. So URLs are checked when an action is built, not discovered
//! broken during a call.
//!
//! A full WHATWG URL parser (the `url` crate) would add ~200 KB of wasm for
//! what is a structural check here: scheme, authority, and characters that
//! cannot stand unencoded in a URL (which also keeps every value we echo
//! into XML free of characters XML forbids).

use std::fmt;

/// Longest URL accepted; far above any sound-file or webhook URL.
const MAX_LEN: usize = 2048;

/// An absolute `http://` or `https://` URL with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    NotAbsolute,
    UnsupportedScheme,
    MissingHost,
    InvalidCharacter(char),
    TooLong,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::NotAbsolute => {
                f.write_str("is not an absolute URL (it must start with https:// or http://)")
            }
            UrlError::UnsupportedScheme => f.write_str("must use https:// or http://"),
            UrlError::MissingHost => f.write_str("has no host after the scheme"),
            UrlError::InvalidCharacter(c) => {
                write!(
                    f,
                    "contains {:?}, which must be percent-encoded in a URL",
                    c
                )
            }
            UrlError::TooLong => write!(f, "is longer than {MAX_LEN} bytes"),
        }
    }
}

impl std::error::Error for UrlError {}

impl HttpUrl {
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        if text.len() > MAX_LEN {
            return Err(UrlError::TooLong);
        }
        if let Some(bad) = text.chars().find(|c| !allowed_in_url(*c)) {
            return Err(UrlError::InvalidCharacter(bad));
        }
        let Some(Parts {
            scheme, authority, ..
        }) = parts(text)
        else {
            return Err(UrlError::NotAbsolute);
        };
        if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
            return Err(if scheme.contains(['/', '?', '#']) {
                UrlError::NotAbsolute
            } else {
                UrlError::UnsupportedScheme
            });
        }
        // user:password@ may precede the host (sipgate's own basic-auth style).
        if host(authority).is_empty() {
            return Err(UrlError::MissingHost);
        }
        Ok(HttpUrl(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The parts of an absolute URL, as written:
/// `scheme://authority/path?query#fragment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    pub scheme: &'a str,
    /// `user:pw@host:port`; the credentials and port included.
    pub authority: &'a str,
    /// From the first `/` after the authority; `/` when there is none.
    pub path: &'a str,
    /// After the `?`, without it; empty when there is none.
    pub query: &'a str,
}

/// The parts of `url`; `None` without `://`.
pub fn parts(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let rest = rest.split('#').next().unwrap_or_default();
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Some(Parts {
        scheme,
        authority,
        path: if path.is_empty() { "/" } else { path },
        query,
    })
}

/// The authority of an absolute URL (`user:pw@host:port`); empty when
/// there is no `://`.
pub fn authority(url: &str) -> &str {
    parts(url).map_or("", |parts| parts.authority)
}

/// A URL as a message may quote it: credentials in it replaced by
/// `REDACTED` (`https://REDACTED@host/x`), so a setting that is refused
/// never shows its password in a log line or `GET /admin/api/status`.
pub fn quotable(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://REDACTED@{host}{tail}"),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// An authority without the credentials it may carry (`host:port`).
pub fn without_credentials(authority: &str) -> &str {
    authority.rsplit('@').next().unwrap_or_default()
}

/// The host of an authority, without credentials, port or IPv6 brackets.
pub fn host(authority: &str) -> &str {
    let host_and_port = without_credentials(authority);
    match host_and_port.strip_prefix('[') {
        Some(ipv6) => ipv6.split(']').next().unwrap_or_default(),
        None => host_and_port.split(':').next().unwrap_or_default(),
    }
}

/// Whether the authority names this machine: plain `http://` is allowed
/// there, for local testing, and nowhere else.
pub fn is_loopback(authority: &str) -> bool {
    matches!(host(authority), "localhost" | "127.0.0.1" | "::1")
}

/// Where sipgate reaches the router: the push's URL without its query
/// (`https://router.example.workers.dev/sipgate`), and the draft version
/// answering, if one is: the menus it plays name it in their URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfUrl {
    url: String,
    /// The draft answering (`&draft=8` in menu URLs), when one is.
    draft: Option<u64>,
}

impl SelfUrl {
    /// From the URL a push was sent to; the query and fragment are dropped.
    pub fn from_request_url(url: &str) -> Option<SelfUrl> {
        let base = url.split(['?', '#']).next().unwrap_or_default();
        HttpUrl::parse(base).ok().map(|url| SelfUrl {
            url: url.as_str().to_owned(),
            draft: None,
        })
    }

    /// The same URL, for the answers of draft `version`: a menu's digits
    /// come back with `&draft=8`, and are answered by the draft too.
    pub fn for_draft(&self, version: u64) -> SelfUrl {
        SelfUrl {
            url: self.url.clone(),
            draft: Some(version),
        }
    }

    /// The same URL with basic-auth credentials in it
    /// (`https://user:password@host/…`): sipgate only knows the credentials
    /// of the URL the user entered, so the URLs the router hands it for
    /// menu digits must carry them.
    pub fn with_credentials(&self, user: &str, password: &str) -> Option<SelfUrl> {
        let Parts {
            scheme,
            authority,
            path,
            ..
        } = parts(&self.url)?;
        // Drop credentials the request URL may already show.
        let host_and_port = without_credentials(authority);
        let url = format!(
            "{scheme}://{}:{}@{host_and_port}{path}",
            userinfo(user),
            userinfo(password)
        );
        HttpUrl::parse(&url).ok().map(|url| SelfUrl {
            url: url.as_str().to_owned(),
            draft: self.draft,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The URL itself, for `onAnswer`/`onHangup` pointing back at the router.
    pub fn url(&self) -> Option<HttpUrl> {
        HttpUrl::parse(&self.url).ok()
    }

    /// The URL a menu's digits are posted to:
    /// `…/sipgate?menu=after-hours&try=0` (`&draft=8` for a draft's).
    pub fn for_menu(&self, menu: &str, attempt: u32) -> Option<HttpUrl> {
        let url = match self.draft {
            None => format!("{}?menu={menu}&try={attempt}", self.url),
            Some(draft) => format!("{}?menu={menu}&try={attempt}&draft={draft}", self.url),
        };
        HttpUrl::parse(&url).ok()
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, as a
/// URL's user or password must be.
pub fn userinfo(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Characters a URL may carry literally: no whitespace, no controls, none of
/// the characters RFC 3986 excludes, and no Unicode non-characters.
fn allowed_in_url(c: char) -> bool {
    !(c.is_whitespace()
        || c.is_control()
        || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}')
        || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_url_shows_no_credentials() {
        assert_eq!(
            quotable("http://user:s3cret@example.com/x?a=b"),
            "http://REDACTED@example.com/x?a=b"
        );
        assert_eq!(
            quotable("https://a:b@c@host:8443"),
            "https://REDACTED@host:8443"
        );
        assert_eq!(quotable("https://host/path@x"), "https://host/path@x");
        assert_eq!(quotable("not a url"), "not a url");
    }

    #[test]
    fn accepts_absolute_http_and_https() {
        for ok in [
            "https://example.com/example.wav",
            "http://example.com/example.wav",
            "HTTPS://Example.COM",
            "https://user:secret@example.com:8443/events?x=1#y",
            "https://[2001:db8::1]:8443/events",
            "https://bücher.example/ansage.wav",
            "https://…/events",
        ] {
            assert_eq!(HttpUrl::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn self_url_drops_query_and_fragment() {
        let base =
            SelfUrl::from_request_url("https://router.example/sipgate?menu=x&try=1#f").unwrap();
        assert_eq!(
            base.for_menu("main", 2).unwrap().as_str(),
            "https://router.example/sipgate?menu=main&try=2"
        );
        assert!(SelfUrl::from_request_url("/relative").is_none());
    }

    #[test]
    fn credentials_go_into_the_url() {
        let base = SelfUrl::from_request_url("https://router.example/sipgate").unwrap();
        let with = base.with_credentials("sipgate", "p@ss:w/rd ü").unwrap();
        assert_eq!(
            with.for_menu("main", 0).unwrap().as_str(),
            "https://sipgate:p%40ss%3Aw%2Frd%20%C3%BC@router.example/sipgate?menu=main&try=0"
        );
        let already = SelfUrl::from_request_url("https://old:creds@router.example/").unwrap();
        assert_eq!(
            already.with_credentials("u", "p").unwrap().as_str(),
            "https://u:p@router.example/"
        );
    }

    #[test]
    fn parts_as_written() {
        assert_eq!(
            parts("https://u:p@h:1/a/b?menu=x&try=1#f"),
            Some(Parts {
                scheme: "https",
                authority: "u:p@h:1",
                path: "/a/b",
                query: "menu=x&try=1"
            })
        );
        let bare = parts("http://h?q").unwrap();
        assert_eq!((bare.authority, bare.path, bare.query), ("h", "/", "q"));
        assert_eq!(parts("no scheme"), None);
    }

    #[test]
    fn authority_and_host() {
        let url = "https://user:p%40ss@router.example:8443/hook?x=1";
        assert_eq!(authority(url), "user:p%40ss@router.example:8443");
        assert_eq!(host(authority(url)), "router.example");
        assert_eq!(host(authority("http://[::1]:8787/")), "::1");
        assert_eq!(authority("no scheme"), "");
        for local in [
            "http://localhost:8787/",
            "http://127.0.0.1/",
            "http://u:p@[::1]:1/",
        ] {
            assert!(is_loopback(authority(local)), "{local}");
        }
        for remote in [
            "http://localhost.evil.example/",
            "http://127.0.0.2/",
            "http://example.com/",
        ] {
            assert!(!is_loopback(authority(remote)), "{remote}");
        }
    }

    #[test]
    fn refuses_relative_other_schemes_and_broken_urls() {
        assert_eq!(HttpUrl::parse("/sounds/a.wav"), Err(UrlError::NotAbsolute));
        assert_eq!(
            HttpUrl::parse("example.com/a.wav"),
            Err(UrlError::NotAbsolute)
        );
        assert_eq!(HttpUrl::parse("./a?x=://y"), Err(UrlError::NotAbsolute));
        assert_eq!(
            HttpUrl::parse("ftp://example.com/a.wav"),
            Err(UrlError::UnsupportedScheme)
        );
        assert_eq!(
            HttpUrl::parse("javascript://x"),
            Err(UrlError::UnsupportedScheme)
        );
        assert_eq!(HttpUrl::parse("https:///a.wav"), Err(UrlError::MissingHost));
        assert_eq!(
            HttpUrl::parse("https://user@:80/"),
            Err(UrlError::MissingHost)
        );
        assert_eq!(HttpUrl::parse("https://[]/"), Err(UrlError::MissingHost));
        assert_eq!(
            HttpUrl::parse("https://example.com/a b.wav"),
            Err(UrlError::InvalidCharacter(' '))
        );
        assert_eq!(
            HttpUrl::parse("https://example.com/\r\nX-Evil: 1"),
            Err(UrlError::InvalidCharacter('\r'))
        );
        assert_eq!(
            HttpUrl::parse("https://example.com/<Hangup/>"),
            Err(UrlError::InvalidCharacter('<'))
        );
        assert_eq!(
            HttpUrl::parse("https://example.com/\"onload"),
            Err(UrlError::InvalidCharacter('"'))
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_LEN));
        assert_eq!(HttpUrl::parse(&long), Err(UrlError::TooLong));
    }
}
