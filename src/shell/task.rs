//! The one place a Rust future becomes a JS promise or a spawned task.
//! js-sys's `future_to_promise` and `spawn_local` are generic: each
//! future type given to them gets its own copy of the promise executor,
//! the spawn and the wrapper state machine. Here every future is boxed
//! first, so each of them is instantiated once for the whole crate.

#[allow(unused_imports)]
use crate::prelude::*;

use core::future::Future;
use core::pin::Pin;

use js_sys::Promise;
use wasm_bindgen::JsValue;

/// A future that settles a promise: `Ok` resolves it, `Err` rejects it.
pub type Task = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// The promise of `task`, which starts on the next microtask (as an
/// `async fn` export's body does).
pub fn to_promise(task: Task) -> Promise {
    let mut task = Some(task);
    Promise::new(&mut |resolve, reject| {
        // The executor runs once, synchronously, inside `new Promise`.
        let Some(task) = task.take() else { return };
        spawn(Box::pin(async move {
            let _ = match task.await {
                Ok(v) => resolve.call1(&JsValue::UNDEFINED, &v),
                Err(e) => reject.call1(&JsValue::UNDEFINED, &e),
            };
        }));
    })
}

/// Runs `task` to its end in the background.
pub fn spawn(task: Pin<Box<dyn Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(task)
}
