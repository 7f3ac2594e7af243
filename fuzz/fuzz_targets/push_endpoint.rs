//! Any request a client can send — URL, content type, body, the headers the
//! router checks — to a router configured by any settings (the strings
//! behind `Config::from_settings`: access checks, allowlist, basic auth,
//! forwarding, the journal, PUBLIC_URL), through admission and answer with
//! the office example live: never a panic, never a 5xx, every 200 is
//! well-formed XML, no log line grows with its input, and the basic-auth
//! password is in nothing the journal or a receiver would get.
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sipgate_router::http::{admit, serve, Config, RequestHead, Runtime, Services};
use sipgate_router::journal::Entry;
use sipgate_router::journal::sql::Value as SqlValue;
use sipgate_router::store::layout::About;
use sipgate_router::store::shards::Sharded;
use sipgate_router::store::{plan_publish, Index, Kv, KvWrite, RulesCache, StoreError};

struct Published(HashMap<String, String>);

impl Kv for Published {
    async fn get(&self, key: &str, _cache_ttl: u32) -> Result<Option<String>, StoreError> {
        Ok(self.0.get(key).cloned())
    }
}

/// The published office rules, read-only: an admin write is a store error.
impl KvWrite for Published {
    async fn put(&self, _key: &str, _value: &str) -> Result<(), StoreError> {
        Err(StoreError("the fuzzed store is read-only".to_owned()))
    }
    async fn delete(&self, _key: &str) -> Result<(), StoreError> {
        Err(StoreError("the fuzzed store is read-only".to_owned()))
    }
}

impl Runtime for Published {
    async fn verify(&self, _key: &[u8], body: &[u8], signature: &[u8]) -> Result<bool, String> {
        Ok(signature == fake_signature(body))
    }
    async fn sleep(&self, _ms: u32) {
        std::future::pending::<()>().await
    }
    fn now_ms(&self) -> i64 {
        1_795_856_400_000
    }
    async fn journal_linked(&self, _call_ids: &[String]) -> Result<Vec<Entry>, String> {
        Ok(Vec::new())
    }
    async fn access_keys(&self, _url: &str, _refresh: bool) -> Result<String, String> {
        Err("no Access keys in the fuzzed runtime".to_owned())
    }
    async fn fetch_start(&self, _url: &str, _bytes: usize, _timeout_ms: u32) -> Result<(u16, Vec<u8>), String> {
        Err("no network in the fuzzed runtime".to_owned())
    }
    async fn journal_select(&self, _statement: &str, _values: Vec<SqlValue>) -> Result<String, String> {
        Ok("[]".to_owned())
    }
}

fn office() -> &'static Published {
    static OFFICE: OnceLock<Published> = OnceLock::new();
    OFFICE.get_or_init(|| {
        let source = include_str!("../../examples/office.json");
        let sharded = Sharded::parse(source).unwrap();
        let plan = plan_publish(source, &sharded, &Index::default(), None, About::default(), None);
        Published(plan.writes(&sharded).unwrap().into_iter().chain([plan.pointer]).collect())
    })
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the in-memory KV never waits"),
    }
}

const CONTENT_TYPES: [Option<&str>; 4] = [
    Some("application/x-www-form-urlencoded"),
    Some("application/x-www-form-urlencoded; charset=UTF-8"),
    Some("application/json"),
    None,
];

/// Every setting the router reads, with values that mean something to it
/// (the fuzzer also tries arbitrary text for each).
const SETTINGS: [(&str, &[&str]); 15] = [
    ("SIGNATURE_CHECK", &["on", "off", " OFF ", "maybe"]),
    ("SIPGATE_PUBLIC_KEY", &[SIPGATE_KEY, TEST_KEY_2048, TEST_KEY_512, "not a key"]),
    ("BASIC_AUTH_USER", &["sipgate", "sip:gate", ""]),
    ("BASIC_AUTH_PASSWORD", &["s3cret-password", "a:b@c/d", ""]),
    ("ALLOWED_SOURCES", &["212.9.46.32", "::ffff:212.9.46.32, 10.0.0.0/8", ", ,", "10.0.0.0/+8", "2001:db8::/32"]),
    ("ADMIN_TOKEN", &[ADMIN_TOKEN, "short", " "]),
    ("PUBLIC_URL", &["https://router.example/", "http://127.0.0.1:8787/x", "https://u:p@x/", "https://x/?q"]),
    ("RULES_CACHE_SECONDS", &["0", "10", "-1"]),
    ("KV_BUDGET_MS", &["1", "1000", "0", "x"]),
    ("FORWARD_URLS", &["https://crm.example/in", "http://127.0.0.1:9/x, ftp://x", "http://crm.example/"]),
    ("FORWARD_SECRET", &["fan-out-secret", ""]),
    ("FORWARD_TIMEOUT_MS", &["3000", "0"]),
    ("JOURNAL_RECORDING", &["on", "off", "of"]),
    ("JOURNAL_MASK_NUMBERS", &["on", "off"]),
    ("JOURNAL_RETENTION_DAYS", &["30", "0", "x"]),
];
const SIPGATE_KEY: &str = include_str!("../../src/trust/sipgate-push-public-key.pem");
const TEST_KEY_2048: &str = include_str!("../../tests/fixtures/keys/rsa-2048.pem");
const TEST_KEY_512: &str = include_str!("../../tests/fixtures/keys/rsa-512.pem");
const ADMIN_TOKEN: &str = "fuzz-admin-token-0123456789abcdef";

/// A setting's value: one that means something, or anything at all.
#[derive(Debug, Arbitrary)]
enum Value {
    Known(u8),
    Raw(String),
}

/// A request with the headers the router reads, to a router configured by
/// `settings` (indices into [`SETTINGS`]).
#[derive(Debug, Arbitrary)]
struct Input {
    choice: u8,
    path: String,
    body: Vec<u8>,
    settings: Vec<(u8, Value)>,
    journal_bound: bool,
    authorization: Option<Header>,
    signature: Option<Header>,
    client_ip: Option<String>,
    content_length: Option<String>,
}

/// A header: what the configuration expects, or anything.
#[derive(Debug, Arbitrary)]
enum Header {
    Expected,
    Raw(String),
}

fuzz_target!(|input: Input| {
    let mut configured: HashMap<&str, String> = HashMap::new();
    for (index, value) in &input.settings {
        let (name, known) = SETTINGS[usize::from(*index) % SETTINGS.len()];
        let value = match value {
            Value::Known(pick) => known[usize::from(*pick) % known.len()].to_owned(),
            Value::Raw(text) => text.clone(),
        };
        configured.insert(name, value);
    }
    let config = Config::from_settings(|name| configured.get(name).cloned(), input.journal_bound);
    let choice = input.choice;
    let url = format!("https://router.example/{}", input.path);
    let basic = match &config.access.basic {
        Some(credentials) => format!("{}:{}", credentials.user, credentials.password),
        None => "sipgate:s3cret-password".to_owned(),
    };
    let authorization = match &input.authorization {
        Some(Header::Expected) if input.path.starts_with("simulate") => format!("Bearer {ADMIN_TOKEN}"),
        Some(Header::Expected) => format!("Basic {}", sipgate_router::trust::base64::encode(basic.as_bytes())),
        Some(Header::Raw(text)) => text.clone(),
        None => String::new(),
    };
    let signature = match &input.signature {
        Some(Header::Expected) => sipgate_router::trust::base64::encode(&fake_signature(&input.body)),
        Some(Header::Raw(text)) => text.clone(),
        None => String::new(),
    };
    let head = RequestHead {
        method: if choice & 0x80 == 0 { "POST" } else { "GET" },
        url: &url,
        content_type: CONTENT_TYPES[usize::from(choice) % CONTENT_TYPES.len()],
        content_length: input.content_length.as_deref(),
        authorization: input.authorization.as_ref().map(|_| authorization.as_str()),
        client_ip: input.client_ip.as_deref(),
        signature: input.signature.as_ref().map(|_| signature.as_str()),
        ..RequestHead::default()
    };
    let reply = match admit(&head, &config) {
        Ok(endpoint) => {
            let cache = RefCell::new(RulesCache::default());
            let services = Services {
                runtime: office(),
                cache: &cache,
                now_ms: 1_795_856_400_000 + i64::from(choice) * 3_600_000,
                config: &config,
            };
            run(serve(&endpoint, &input.body, &services))
        }
        Err(refusal) => *refusal,
    };
    assert!(reply.status < 500, "{} for {url}", reply.status);
    assert!(reply.log.to_json().len() < 4096, "a log line of {} bytes", reply.log.to_json().len());
    if reply.status == 200 && reply.content_type() == Some("application/xml; charset=utf-8") {
        let mut reader = quick_xml::Reader::from_str(&reply.body);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(error) => panic!("not well-formed: {error}: {}", reply.body),
            }
        }
    }
    // The password is answered to sipgate only: never kept or passed on.
    if let (Some(record), Some(credentials)) = (&reply.record, &config.access.basic) {
        let secret = format!(
            "{}:{}@",
            sipgate_router::protocol::url::userinfo(&credentials.user),
            sipgate_router::protocol::url::userinfo(&credentials.password)
        );
        for entry in record.stored.iter().chain(record.forwarded.iter()) {
            let xml = entry.xml.as_deref().unwrap_or_default();
            assert!(!xml.contains(&secret), "the password is kept: {xml}");
        }
    }
});

/// The fake signature the fuzz runtime accepts: `sig:` followed by the body.
fn fake_signature(body: &[u8]) -> Vec<u8> {
    [b"sig:".as_slice(), body].concat()
}
