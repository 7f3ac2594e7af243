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
//! A waiting task is owned by its wakers alone, as `wasm-bindgen-futures`'
//! tasks are, and freed when the last of them is dropped — no table of
//! tasks, no ids. As there, a task and the promises it waits on hold each
//! other (the future holds a `JsFuture`, which holds the task's waker until
//! its promise settles): a promise that never settles keeps its task. KV
//! reads are raced against the KV budget and fetches have timeouts, so a
//! task that is done keeps at most its empty shell until the loser settles.
//!
//! A wake-up during the task's own poll (a future that wakes itself) is not
//! polled re-entrantly: the running poll polls again when it returns. A
//! wake-up from inside *another* task's poll would poll this one nested in
//! it; nothing a request runs does that — its wake-ups come from promise
//! callbacks, on an empty stack.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use worker::js_sys::{Function, Promise};
use worker::wasm_bindgen::JsValue;

#[cfg(target_feature = "atomics")]
compile_error!("src/edge/drive.rs assumes one thread: its wakers hold an Rc");

type Answer = Pin<Box<dyn Future<Output = JsValue>>>;

/// A future, and the `resolve` of the promise of its value.
struct Task {
    /// `None` while it is being polled, and once it is done.
    future: RefCell<Option<Answer>>,
    resolve: RefCell<Option<Function>>,
    woken_while_polled: Cell<bool>,
}

thread_local! {
    /// Tasks not yet dropped.
    static ALIVE: Cell<usize> = const { Cell::new(0) };
}

impl Task {
    fn new(future: Answer) -> Rc<Task> {
        ALIVE.with(|alive| alive.set(alive.get() + 1));
        Rc::new(Task {
            future: RefCell::new(Some(future)),
            resolve: RefCell::new(None),
            woken_while_polled: Cell::new(false),
        })
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        ALIVE.with(|alive| alive.set(alive.get() - 1));
    }
}

/// How many tasks are alive: waiting to be woken, or being polled (for
/// tests: none once all are done).
pub fn alive() -> usize {
    ALIVE.with(Cell::get)
}

/// A task's waker.
struct Wakeup(Rc<Task>);

// SAFETY: wasm32 without atomics (the compile_error above) has one thread,
// so a waker is never sent to, nor shared with, another one.
unsafe impl Send for Wakeup {}
unsafe impl Sync for Wakeup {}

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some((value, Some(resolve))) = poll(&self.0) {
            // Our own function, called with our own value: it cannot throw.
            let _ = resolve.call1(&JsValue::UNDEFINED, &value);
        }
    }
}

/// Polls `future` now; a promise of its value, already resolved if it
/// needed nothing asynchronous.
pub fn to_promise(future: impl Future<Output = JsValue> + 'static) -> Promise {
    let task = Task::new(Box::pin(future));
    if let Some((value, _)) = poll(&task) {
        return Promise::resolve(&value);
    }
    let promise = Promise::new(&mut |resolve, _reject| {
        *task.resolve.borrow_mut() = Some(resolve);
    });
    promise
}

/// Polls `task`, again while it was woken during its own poll; its value
/// and its promise's `resolve` when it is done. Nothing is borrowed while
/// the future runs.
fn poll(task: &Rc<Task>) -> Option<(JsValue, Option<Function>)> {
    loop {
        let Some(mut future) = task.future.borrow_mut().take() else {
            // Woken from inside its own poll (which goes on), or done.
            task.woken_while_polled.set(true);
            return None;
        };
        let waker = Waker::from(Arc::new(Wakeup(task.clone())));
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(value) => return Some((value, task.resolve.borrow_mut().take())),
            Poll::Pending => {
                *task.future.borrow_mut() = Some(future);
                if !task.woken_while_polled.replace(false) {
                    return None;
                }
            }
        }
    }
}
