//! Deciding a call: which stored route answers a push.
//!
//! Routes live in a key-value store (Workers KV, binding `ROUTES`):
//!
//! ```text
//! route:4915791234567   {"id":"office","then":{"dial":{"numbers":["4921100001"]}}}
//! route:default         {"then":{"voicemail":{}}}
//! ```
//!
//! A `newCall` is decided by the route of its sipgate-side number (`to` for
//! `direction=in`, `from` for `direction=out`); without one, by
//! `route:default`; without that, `<Response/>` lets the call proceed as if
//! there were no webhook. Other pushes are answered `<Response/>`: sipgate
//! ignores the answer to `answer` and `hangup`.
//!
//! Whatever fails — the store, a route that is not valid JSON or not a valid
//! action — the answer is `<Response/>` and the [`Decision`] says why, so the
//! edge can log it. A broken route never loses a call.

use crate::number::{Party, E164};
use crate::push::Push;
use crate::response::Response;
use crate::route::{RouteError, Rule};

/// Key of the route used when a number has none.
pub const DEFAULT_ROUTE_KEY: &str = "route:default";

/// Key of the route of one sipgate number.
pub fn route_key(number: &E164) -> String {
    format!("route:{number}")
}

/// A failure of the store itself (network, timeout, binding missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

/// Read access to stored routes. Workers KV at the edge; a map in tests.
#[allow(async_fn_in_trait)] // Workers run single-threaded: no `Send` bound wanted.
pub trait RouteStore {
    /// The value under `key`, `None` if there is none.
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
}

/// What decided the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The route under `key` decided.
    Routed {
        key: String,
        rule_id: Option<String>,
    },
    /// Neither the number nor the default has a route.
    NoRoute,
    /// The push is not a `newCall`; routing does not decide it.
    NotRouted,
    /// Reading the route under `key` failed.
    StoreFailed { key: String, error: StoreError },
    /// The route under `key` cannot be used.
    BadRoute { key: String, error: RouteError },
}

/// The answer to a push and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub response: Response,
    pub outcome: Outcome,
}

impl Decision {
    fn proceed(outcome: Outcome) -> Decision {
        Decision {
            response: Response::proceed(),
            outcome,
        }
    }
}

/// Decides a push from the routes in `store`.
pub async fn decide(push: &Push, store: &impl RouteStore) -> Decision {
    let Push::NewCall(call) = push else {
        return Decision::proceed(Outcome::NotRouted);
    };
    let number_key = match call.sipgate_number() {
        Party::Number(number) => Some(route_key(number)),
        Party::Anonymous | Party::Other(_) => None,
    };
    let candidates = number_key
        .into_iter()
        .chain(Some(DEFAULT_ROUTE_KEY.to_owned()));
    for key in candidates {
        match store.get(&key).await {
            Ok(None) => continue,
            Ok(Some(json)) => {
                return match Rule::from_json(&json) {
                    Ok(rule) => Decision {
                        response: rule.response,
                        outcome: Outcome::Routed {
                            key,
                            rule_id: rule.id,
                        },
                    },
                    Err(error) => Decision::proceed(Outcome::BadRoute { key, error }),
                }
            }
            Err(error) => return Decision::proceed(Outcome::StoreFailed { key, error }),
        }
    }
    Decision::proceed(Outcome::NoRoute)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    /// A store in memory that counts reads and can be told to fail.
    #[derive(Default)]
    pub(crate) struct MemoryStore {
        pub values: HashMap<String, String>,
        pub failing: Option<String>,
        pub reads: RefCell<Vec<String>>,
    }

    impl MemoryStore {
        pub fn with(entries: &[(&str, &str)]) -> MemoryStore {
            MemoryStore {
                values: entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..MemoryStore::default()
            }
        }
    }

    impl RouteStore for MemoryStore {
        async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
            self.reads.borrow_mut().push(key.to_owned());
            if let Some(message) = &self.failing {
                return Err(StoreError(message.clone()));
            }
            Ok(self.values.get(key).cloned())
        }
    }

    /// Runs a future that never waits (the memory store answers at once).
    pub(crate) fn run<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the memory store never waits"),
        }
    }

    fn decide_body(body: &str, store: &MemoryStore) -> Decision {
        run(decide(&Push::parse(body.as_bytes()).unwrap(), store))
    }

    const DIAL: &str = r#"{"id":"office","then":{"dial":{"numbers":["4921100001"]}}}"#;
    const VOICEMAIL: &str = r#"{"id":"fallback","then":{"voicemail":{}}}"#;
    const SEED: &str = "from=492111234567&to=4915791234567&direction=in";

    #[test]
    fn the_numbers_route_decides() {
        let store = MemoryStore::with(&[
            ("route:4915791234567", DIAL),
            (DEFAULT_ROUTE_KEY, VOICEMAIL),
        ]);
        let decision = decide_body(SEED, &store);
        assert_eq!(
            decision.outcome,
            Outcome::Routed {
                key: "route:4915791234567".into(),
                rule_id: Some("office".into())
            }
        );
        assert!(decision
            .response
            .to_xml()
            .contains("<Number>4921100001</Number>"));
        assert_eq!(*store.reads.borrow(), ["route:4915791234567"]);
    }

    #[test]
    fn outgoing_calls_use_the_calling_number() {
        let store = MemoryStore::with(&[("route:4915791234567", DIAL)]);
        let decision = decide_body("from=4915791234567&to=492111234567&direction=out", &store);
        assert!(matches!(decision.outcome, Outcome::Routed { .. }));
    }

    #[test]
    fn no_route_falls_back_to_the_default_then_to_proceed() {
        let store = MemoryStore::with(&[(DEFAULT_ROUTE_KEY, VOICEMAIL)]);
        let decision = decide_body(SEED, &store);
        assert_eq!(
            decision.outcome,
            Outcome::Routed {
                key: DEFAULT_ROUTE_KEY.into(),
                rule_id: Some("fallback".into())
            }
        );
        assert_eq!(
            *store.reads.borrow(),
            ["route:4915791234567", DEFAULT_ROUTE_KEY]
        );

        let empty = MemoryStore::default();
        let decision = decide_body(SEED, &empty);
        assert_eq!(decision.outcome, Outcome::NoRoute);
        assert_eq!(decision.response, Response::proceed());
    }

    #[test]
    fn a_number_that_is_not_e164_goes_straight_to_the_default() {
        let store = MemoryStore::with(&[(DEFAULT_ROUTE_KEY, VOICEMAIL)]);
        let decision = decide_body("from=492111234567&to=e12&direction=in", &store);
        assert!(
            matches!(decision.outcome, Outcome::Routed { ref key, .. } if key == DEFAULT_ROUTE_KEY)
        );
        assert_eq!(*store.reads.borrow(), [DEFAULT_ROUTE_KEY]);
    }

    #[test]
    fn a_broken_route_proceeds_and_says_why() {
        let store = MemoryStore::with(&[
            ("route:4915791234567", "{not json"),
            (DEFAULT_ROUTE_KEY, VOICEMAIL),
        ]);
        let decision = decide_body(SEED, &store);
        assert_eq!(decision.response, Response::proceed());
        assert!(
            matches!(decision.outcome, Outcome::BadRoute { ref key, .. } if key == "route:4915791234567")
        );

        let invalid = r#"{"then":{"dial":{"numbers":["1","2","3","4","5","6"]}}}"#;
        let store = MemoryStore::with(&[("route:4915791234567", invalid)]);
        let decision = decide_body(SEED, &store);
        assert!(matches!(
            decision.outcome,
            Outcome::BadRoute {
                error: RouteError::Invalid(_),
                ..
            }
        ));
    }

    #[test]
    fn a_failing_store_proceeds_and_says_why() {
        let store = MemoryStore {
            failing: Some("KV GET failed: 503".into()),
            ..MemoryStore::default()
        };
        let decision = decide_body(SEED, &store);
        assert_eq!(decision.response, Response::proceed());
        assert_eq!(
            decision.outcome,
            Outcome::StoreFailed {
                key: "route:4915791234567".into(),
                error: StoreError("KV GET failed: 503".into())
            }
        );
    }

    #[test]
    fn answer_hangup_and_dtmf_are_not_routed_and_read_nothing() {
        let store = MemoryStore::with(&[(DEFAULT_ROUTE_KEY, VOICEMAIL)]);
        for body in [
            "event=answer&callId=1&from=492111234567&to=4915791234567&direction=in",
            "event=hangup&cause=normalClearing&callId=1",
            "event=dtmf&dtmf=1&callId=1",
            "event=somethingNew&callId=1",
        ] {
            let decision = decide_body(body, &store);
            assert_eq!(decision.outcome, Outcome::NotRouted, "{body}");
            assert_eq!(decision.response, Response::proceed());
        }
        assert!(store.reads.borrow().is_empty());
    }
}
