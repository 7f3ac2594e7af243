//! Any request a client can send — URL, content type, body — through the
//! worker's admission and answer, with the office example live: never a
//! panic, never a 5xx, and every 200 is well-formed XML — with the call
//! journal on and off.
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sipgate_router::http::{admit, serve, Config, RequestHead, Runtime, Services};
use sipgate_router::journal::{Entry, JournalConfig};
use sipgate_router::storage::{plan_publish, Index, Kv, RulesCache, StoreError};

struct Published(HashMap<String, String>);

impl Kv for Published {
    async fn get(&self, key: &str, _cache_ttl: u32) -> Result<Option<String>, StoreError> {
        Ok(self.0.get(key).cloned())
    }
}

impl Runtime for Published {
    async fn verify(&self, _key: &[u8], _body: &[u8], _signature: &[u8]) -> Result<bool, String> {
        Ok(false)
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
}

fn office() -> &'static Published {
    static OFFICE: OnceLock<Published> = OnceLock::new();
    OFFICE.get_or_init(|| {
        let source = include_str!("../../examples/office.json");
        let spec = sipgate_router::rules::problem::parse_json(source).unwrap();
        let plan = plan_publish(source, &spec, &Index::default(), None, "fuzz".into(), None);
        Published(plan.writes.into_iter().chain([plan.pointer]).collect())
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

fuzz_target!(|input: (u8, String, Vec<u8>)| {
    let (choice, path, body) = input;
    let url = format!("https://router.example/{path}");
    let head = RequestHead {
        method: if choice & 0x80 == 0 { "POST" } else { "GET" },
        url: &url,
        content_type: CONTENT_TYPES[usize::from(choice) % CONTENT_TYPES.len()],
        content_length: None,
        authorization: (choice & 0x40 != 0).then_some("Bearer fuzz-token"),
        client_ip: None,
        signature: None,
    };
    let config = Config {
        admin_token: Some("fuzz-token".into()),
        kv_budget_ms: 1000,
        // Half the inputs with the journal on: callbacks added, a record kept.
        journal: JournalConfig {
            bound: choice & 0x20 != 0,
            recording: choice & 0x20 != 0,
            ..JournalConfig::default()
        },
        ..Config::default()
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
            run(serve(&endpoint, &body, &services))
        }
        Err(refusal) => *refusal,
    };
    assert!(reply.status < 500, "{} for {url}", reply.status);
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
});
