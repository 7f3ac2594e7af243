//! Runs a request's future on the stack that calls into the wasm, not on
//! `wasm-bindgen-futures`' microtask queue.
//!
//! `future_to_promise` first polls a future in a microtask it queues, and
//! polls it again in another microtask after every wake-up. A warm push
//! waits on one thing only, its body: so the queue cost it two hops of the
//! runtime's microtask loop and the queue's own bookkeeping, more than the
//! router's decision itself. Here the future is polled at once, in the
//! runtime's call to `fetch`, and again right inside the callback that
//! wakes it (the body's promise settling): a warm push is two calls into
//! the wasm and nothing queued. Only what must wait (KV, WebCrypto, D1)
//! waits, as before.
//!
//! Single-threaded like the isolate: a task lives in a thread-local table
//! under a number, and its waker holds only that number, so it is `Send`
//! and `Sync` without `unsafe`. A wake-up during the task's own poll (a
//! future that wakes itself) is not polled re-entrantly: the running poll
//! polls again when it returns. A wake-up from inside *another* task's poll
//! would poll this one nested in it; nothing a request runs does that —
//! its wake-ups come from promise callbacks, on an empty stack.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use worker::js_sys::{Function, Promise};
use worker::wasm_bindgen::JsValue;

type Answer = Pin<Box<dyn Future<Output = JsValue>>>;

/// A future waiting to be woken, and the promise's `resolve` to call with
/// its value. `future` is `None` while the task is being polled.
struct Task {
    future: Option<Answer>,
    resolve: Option<Function>,
    woken_while_polled: bool,
}

thread_local! {
    static TASKS: RefCell<HashMap<u64, Task>> = RefCell::new(HashMap::new());
    /// Never reused, so a stale waker (a promise that settles after its
    /// task ended) finds nothing and does nothing.
    static NEXT_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many tasks wait to be woken (for tests: none once all are done).
pub fn in_flight() -> usize {
    TASKS.with(|tasks| tasks.borrow().len())
}

/// The waker of task `0`.
struct Wakeup(u64);

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        run(self.0);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        run(self.0);
    }
}

/// Polls `future` now; a promise of its value, already resolved if it
/// needed nothing asynchronous.
pub fn to_promise(future: impl Future<Output = JsValue> + 'static) -> Promise {
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id + 1);
        id
    });
    let task = Task {
        future: Some(Box::pin(future)),
        resolve: None,
        woken_while_polled: false,
    };
    TASKS.with(|tasks| tasks.borrow_mut().insert(id, task));
    if let Some((value, _)) = poll(id) {
        return Promise::resolve(&value);
    }
    let mut resolve = None;
    let promise = Promise::new(&mut |resolve_with, _reject| resolve = Some(resolve_with));
    TASKS.with(|tasks| {
        if let Some(task) = tasks.borrow_mut().get_mut(&id) {
            task.resolve = resolve;
        }
    });
    promise
}

/// A wake-up of task `id`: polls it, and resolves its promise when done.
fn run(id: u64) {
    if let Some((value, Some(resolve))) = poll(id) {
        // Our own function, called with our own value: it cannot throw.
        let _ = resolve.call1(&JsValue::UNDEFINED, &value);
    }
}

/// Polls task `id`, again while it was woken during its own poll. When it
/// is done, removes it and gives its value and its promise's `resolve`.
/// Nothing is borrowed while the future runs.
fn poll(id: u64) -> Option<(JsValue, Option<Function>)> {
    loop {
        let mut future = TASKS.with(|tasks| {
            let mut tasks = tasks.borrow_mut();
            let task = tasks.get_mut(&id)?;
            let future = task.future.take();
            // None: woken from inside its own poll, which goes on.
            task.woken_while_polled |= future.is_none();
            future
        })?;
        let waker = Waker::from(Arc::new(Wakeup(id)));
        let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
        let value = match polled {
            Poll::Ready(value) => value,
            Poll::Pending => {
                let woken = TASKS.with(|tasks| {
                    let mut tasks = tasks.borrow_mut();
                    let task = tasks.get_mut(&id)?;
                    task.future = Some(future);
                    Some(std::mem::take(&mut task.woken_while_polled))
                });
                if woken == Some(true) {
                    continue;
                }
                return None;
            }
        };
        let resolve = TASKS.with(|tasks| tasks.borrow_mut().remove(&id)?.resolve);
        return Some((value, resolve));
    }
}
