//! The core's cost per push, native: parse the form, evaluate the rules,
//! write the XML — on tables of 10, 1,000 and 100,000 numbers with global
//! rules (a 1,000-entry block list) and time conditions on every number.
//!
//! `cargo bench --bench core` (bench/run.mjs runs it and records the
//! figures in bench/RESULTS.md). The goal: ≤ 2 µs per push end to end on
//! 1,000 routes.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    divan::main();
}

// The benchmarks are native only (clippy also checks the wasm32 build).
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod benchmarks {
    use std::hint::black_box;
    use std::sync::OnceLock;

    use serde_json::json;
    use sipgate_router::protocol::push::Push;
    use sipgate_router::protocol::url::{HttpUrl, SelfUrl};
    use sipgate_router::rules::decision::{decide, Found, Question};
    use sipgate_router::rules::menu::MenuState;
    use sipgate_router::rules::schedule::{schedule, ScheduleInput};
    use sipgate_router::rules::simulate::{Against, Call, CallInput};
    use sipgate_router::rules::{load, RuleSet};
    use sipgate_router::store::shards::Sharded;
    use sipgate_router::store::{shard_of, Kv, RulesCache, StoreError};

    /// A document like the office example, with `numbers` numbers.
    fn document(numbers: usize) -> String {
        let blocked: Vec<String> = (0..1000)
            .map(|n| format!("4930666{n:05}"))
            .chain(["49900*".into(), "49137*".into()])
            .collect();
        let mut table = serde_json::Map::new();
        for n in 0..numbers {
            table.insert(
                format!("4921{n:07}"),
                json!([
                    {"id": format!("holidays-{n}"), "when": {"time": {"dates": ["@holidays", "2026-12-24..2026-12-31"]}}, "then": {"menu": "after-hours"}},
                    {"id": format!("lunch-{n}"), "when": {"time": {"weekdays": "mon-fri", "hours": "12:00-13:00"}}, "then": {"voicemail": {}}},
                    {"id": format!("office-{n}"), "when": {"time": {"weekdays": "mon-fri", "hours": ["08:00-12:00", "13:00-17:00"]}},
                     "then": {"dial": {"numbers": ["4921100001", "4921100002", "4921100003"], "callerId": "4921100000"}}},
                    {"id": format!("after-{n}"), "then": {"menu": "after-hours"}}
                ]),
            );
        }
        json!({
            "timezone": "Europe/Berlin",
            "lists": {"blocked": blocked},
            "calendars": {"holidays": ["01-01", "05-01", "10-03", "12-25", "12-26", "2026-04-03", "2026-04-06"]},
            "menus": {"after-hours": {"prompt": "https://sounds.example.com/a.wav", "maxDigits": 1, "timeout": 5000,
                                      "options": {"1": {"dial": {"numbers": ["4915790000099"]}}, "2": {"voicemail": {}}},
                                      "noInput": {"voicemail": {}}, "invalid": {"voicemail": {}}}},
            "global": [
                {"id": "outgoing", "when": {"direction": "out"}, "then": {"proceed": {}}},
                {"id": "block-list", "when": {"caller": "@blocked"}, "then": {"reject": {}}},
                {"id": "anonymous", "when": {"caller": "anonymous"}, "then": {"reject": {"reason": "busy"}}}
            ],
            "numbers": table,
            "default": [{"id": "default", "then": {"proceed": {}}}]
        })
        .to_string()
    }

    /// The rules a worker holds for a number: the shard it lives in.
    fn shard(numbers: usize) -> &'static (String, RuleSet) {
        static SHARDS: [OnceLock<(String, RuleSet)>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = match numbers {
            10 => 0,
            1_000 => 1,
            _ => 2,
        };
        SHARDS[slot].get_or_init(|| {
            let source = document(numbers);
            let sharded = Sharded::parse(&source).unwrap();
            let json = sharded.shard(shard_of("49210000007", sharded.shards()));
            let rules = load(&json).unwrap().rules;
            (json, rules)
        })
    }

    const PUSH: &str = "event=newCall&from=492111234567&to=49210000007&direction=in&callId=123456\
                        &user[]=Alice&user[]=Bob&userId[]=w0&userId[]=w1&fullUserId[]=1234567w0&fullUserId[]=1234567w1";
    const MONDAY_10: i64 = 1_796_029_200;

    fn base() -> SelfUrl {
        SelfUrl::from_request_url("https://router.example/").unwrap()
    }

    #[divan::bench]
    fn parse_push() -> Push {
        Push::parse(black_box(PUSH.as_bytes())).unwrap()
    }

    /// An incoming call to a number with time rules, on a Monday at 10:00.
    fn office_call(rules: &RuleSet) -> Call {
        let input = CallInput {
            from: "492111234567".into(),
            to: "49210000007".into(),
            direction: "in".into(),
            ..CallInput::default()
        };
        Call::parse(&input, &rules.zone, MONDAY_10).unwrap()
    }

    #[divan::bench(args = [10, 1_000, 100_000])]
    fn evaluate(bencher: divan::Bencher, numbers: usize) {
        let (_, rules) = shard(numbers);
        let call = office_call(rules);
        let base = base();
        bencher.bench_local(|| {
            let decision = rules.decide_call(black_box(&call.facts()), Some("49210000007"), &base);
            black_box(decision.matched.map(|(rule, _)| rule.id.len()))
        });
    }

    /// The week view's chart of a number (1,000-number shard): decided only
    /// where a time window can change …
    #[divan::bench(sample_count = 20)]
    fn schedule_week(bencher: divan::Bencher) {
        let (_, rules) = shard(1_000);
        let base = base();
        let input = ScheduleInput {
            from: "492111234567".into(),
            to: "49210000007".into(),
            since: Some("2026-11-23".into()),
            days: Some(7),
            ..ScheduleInput::default()
        };
        bencher.bench(|| schedule(&Against::document(rules, &base), black_box(&input), 0).unwrap());
    }

    /// … against deciding every minute of the week, the obvious way.
    #[divan::bench(sample_count = 20)]
    fn schedule_week_every_minute(bencher: divan::Bencher) {
        let (_, rules) = shard(1_000);
        let base = base();
        let call = office_call(rules);
        let monday = 1_795_388_400; // 2026-11-23T00:00 in Berlin
        bencher.bench(|| {
            let against = Against::document(rules, &base);
            (0..7 * 24 * 60)
                .filter(|minute| {
                    let question = Question::Call {
                        call: &call.call,
                        utc: monday + minute * 60,
                    };
                    against.decide(&question).rule().is_some()
                })
                .count()
        });
    }

    #[divan::bench]
    fn write_xml(bencher: divan::Bencher) {
        let (_, rules) = shard(1_000);
        let call = office_call(rules);
        let response = rules
            .decide_call(&call.facts(), Some("49210000007"), &base())
            .answer
            .response()
            .clone();
        bencher.bench_local(|| black_box(&response).to_xml());
    }

    /// Form in, XML out: what the core does for every push once the rules are
    /// in the isolate.
    #[divan::bench(args = [10, 1_000, 100_000])]
    fn push_end_to_end(bencher: divan::Bencher, numbers: usize) {
        let (_, rules) = shard(numbers);
        let base = base();
        bencher.bench_local(|| answer(rules, &base, None));
    }

    /// The same with the journal on: the answer gains the router's
    /// callbacks around the rule's prepared action.
    #[divan::bench]
    fn push_end_to_end_watched(bencher: divan::Bencher) {
        let (_, rules) = shard(1_000);
        let base = base();
        let watch = base.url();
        bencher.bench_local(|| answer(rules, &base, watch.as_ref()));
    }

    /// Form in, XML out, as the worker answers a push.
    fn answer(rules: &RuleSet, base: &SelfUrl, watch: Option<&HttpUrl>) -> String {
        let push = Push::parse(black_box(PUSH.as_bytes())).unwrap();
        let question = Question::of(&push, "", MONDAY_10);
        let found = Found {
            version: Some(1),
            rules: Some(rules),
            ..Found::default()
        };
        decide(&question, found, base, watch)
            .answer
            .xml()
            .into_owned()
    }

    #[divan::bench]
    fn menu_digits(bencher: divan::Bencher) {
        let (_, rules) = shard(1_000);
        let state = MenuState {
            menu: "after-hours".into(),
            attempt: 0,
            draft: None,
        };
        let base = base();
        bencher.bench_local(|| {
            rules
                .decide_digits(black_box(&state), "1", &base)
                .answer
                .response()
                .to_xml()
        });
    }

    /// A cold isolate's work on the rules in format 1: parse and compile the
    /// shard it needs (128 numbers at most; 1,000 numbers make 8 shards).
    #[divan::bench(args = [10, 1_000, 100_000], sample_count = 20)]
    fn load_shard(bencher: divan::Bencher, numbers: usize) {
        let (json, _) = shard(numbers);
        bencher.bench_local(|| load(black_box(json)).unwrap().rules.numbers.len());
    }

    /// What a cold isolate does with the same shard stored compiled (rules
    /// format 2, what `publish` writes): decode it.
    #[divan::bench(args = [10, 1_000, 100_000], sample_count = 20)]
    fn decode_shard(bencher: divan::Bencher, numbers: usize) {
        let (_, rules) = shard(numbers);
        let stored = sipgate_router::rules::compact::encode(rules);
        bencher.bench_local(|| {
            sipgate_router::rules::compact::decode(black_box(&stored))
                .unwrap()
                .numbers
                .len()
        });
    }

    /// The two halves of `load_shard`: reading the JSON …
    #[divan::bench(args = [1_000], sample_count = 20)]
    fn load_shard_parse_json(bencher: divan::Bencher, numbers: usize) {
        let (json, _) = shard(numbers);
        bencher.bench_local(|| {
            let spec: sipgate_router::rules::spec::DocumentSpec =
                sipgate_router::rules::problem::parse_json(black_box(json)).unwrap();
            spec.numbers.len()
        });
    }

    /// … and compiling it into rules.
    #[divan::bench(args = [1_000], sample_count = 20)]
    fn load_shard_compile(bencher: divan::Bencher, numbers: usize) {
        let (json, _) = shard(numbers);
        let spec: sipgate_router::rules::spec::DocumentSpec =
            sipgate_router::rules::problem::parse_json(json).unwrap();
        bencher.bench_local(|| {
            sipgate_router::rules::compile(black_box(&spec))
                .unwrap()
                .rules
                .numbers
                .len()
        });
    }

    /// KV as a map: every read answers at once.
    struct MapKv(std::collections::HashMap<String, String>);

    impl Kv for MapKv {
        async fn get(&self, key: &str, _cache_ttl: u32) -> Result<Option<String>, StoreError> {
            Ok(self.0.get(key).cloned())
        }
    }

    /// Runs a future that never waits (the map answers at once).
    fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => unreachable!("the map KV never waits"),
        }
    }

    /// What a draft costs a caller who is not one of its test callers, on
    /// a warm isolate (pointer and shard cached): the draft's callers are
    /// matched (a hash lookup per prefix length) before the live shard is
    /// taken from the cache. The largest draft: 100 test callers.
    #[divan::bench(args = ["no draft", "a draft of 100 test callers"])]
    fn warm_rules_of_a_caller_not_testing(bencher: divan::Bencher, draft: &str) {
        let (json, _) = shard(1_000);
        let callers: Vec<String> = (0..100)
            .map(|n| match n % 2 {
                0 => format!("49157900{n:05}"),
                _ => format!("4930777{n:03}*"),
            })
            .collect();
        let pointer = match draft {
            "no draft" => json!({"version": 1, "shards": 1, "kill": null}),
            _ => json!({"version": 1, "shards": 1, "kill": null,
                        "draft": {"version": 2, "shards": 1, "callers": callers, "base": 1}}),
        };
        let kv = MapKv(
            [
                ("rules:live".to_owned(), pointer.to_string()),
                ("rules:v1:s0".to_owned(), json.clone()),
                ("rules:v2:s0".to_owned(), json.clone()),
            ]
            .into(),
        );
        let cache = std::cell::RefCell::new(RulesCache::default());
        let push = Push::parse(PUSH.as_bytes()).unwrap();
        let Push::NewCall(call) = &push else {
            unreachable!()
        };
        let wanted = Question::Call {
            call,
            utc: MONDAY_10,
        }
        .rules_needed()
        .unwrap();
        let load = || {
            ready(sipgate_router::load_live(
                &cache,
                &kv,
                black_box(wanted),
                0,
                i64::MAX,
            ))
            .unwrap()
        };
        assert_eq!((load().version, load().reads), (1, 0));
        bencher.bench_local(|| load().version);
    }
}
