//! Cancellation and timers. One RAII guard per attempt owns the
//! `AbortController`, its timer and the link to the caller's signal, and
//! clears all of them on drop, as reqwest's wasm backend does; a timeout is
//! told apart from the caller's abort by reading the caller's signal, not by
//! matching error strings.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use alloc::rc::Rc;

use super::sys::{clear_timeout, get, off_abort, on_abort, set_timeout, with_string, AbortController, AbortSignal};

/// Aborts its controller after `timeout_ms` or when the caller's signal
/// fires, whichever comes first; both links are undone on drop.
pub struct AttemptGuard {
    controller: AbortController,
    abort: Function,
    timer: JsValue,
    caller: Option<AbortSignal>,
}

impl AttemptGuard {
    pub fn new(timeout_ms: u32, caller: Option<&AbortSignal>) -> Result<AttemptGuard, JsValue> {
        let controller = AbortController::new()?;
        let abort = bound_abort(&controller)?;
        let timer = set_timeout(&abort, f64::from(timeout_ms));
        if let Some(signal) = caller {
            // The call's signal is ours ([`Signal::link`]): a caller's
            // signal never reaches here.
            on_abort(signal, &abort);
        }
        Ok(AttemptGuard {
            controller,
            abort,
            timer,
            caller: caller.cloned(),
        })
    }

    /// The signal to hand to `fetch`.
    pub fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }

    /// The attempt was ended by its own timer, not by the caller.
    pub fn timed_out(&self) -> bool {
        self.controller.signal().aborted() && !caller_aborted(self.caller.as_ref())
    }
}

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        clear_timeout(&self.timer);
        if let Some(signal) = &self.caller {
            off_abort(signal, &self.abort);
        }
    }
}

/// `controller.abort` bound to its controller, as an event listener or a
/// timer's callback; `"abort"` is an interned string (`sys::with_string`).
pub fn bound_abort(controller: &AbortController) -> Result<Function, JsValue> {
    let abort: Function = with_string("abort", |k| Reflect::get(controller, k))?.dyn_into()?;
    Ok(abort.bind0(controller))
}

/// A caller's `AbortSignal`, linked once to a controller of ours whose
/// signal is the only one read afterwards: a caller's signal is read
/// through catching accessors, at the boundary, once (`aborted`,
/// `addEventListener`, `removeEventListener`), so a getter that throws on
/// its Nth read, or that calls back into the session, never runs inside a
/// call (issue 22). Clones share the link; the last one dropped removes the
/// listener from the caller's signal.
#[derive(Clone)]
pub struct Signal {
    own: AbortSignal,
    _link: Option<Rc<Link>>,
}

struct Link {
    caller: JsValue,
    remove: Function,
    listener: Function,
}

impl Drop for Link {
    fn drop(&mut self) {
        // A throwing removeEventListener is the caller's; ours is undone.
        let _ = with_string("abort", |k| self.remove.call2(&self.caller, k, &self.listener));
    }
}

impl core::ops::Deref for Signal {
    type Target = AbortSignal;
    fn deref(&self) -> &AbortSignal {
        &self.own
    }
}

impl Signal {
    /// Links `caller`: anything shaped like an `AbortSignal` (checked by
    /// shape, not `instanceof`, so signals from another realm work). `Err`
    /// when it is not one, or when reading it throws.
    pub fn link(caller: &JsValue) -> Result<Signal, ()> {
        if !caller.is_object() {
            return Err(());
        }
        let method = |k: &str| -> Result<Function, ()> {
            get(caller, k).map_err(|_| ())?.dyn_into::<Function>().map_err(|_| ())
        };
        let aborted = get(caller, "aborted").map_err(|_| ())?.as_bool().ok_or(())?;
        let add = method("addEventListener")?;
        let remove = method("removeEventListener")?;
        let controller = AbortController::new().map_err(|_| ())?;
        let own = controller.signal();
        if aborted {
            controller.abort();
            return Ok(Signal { own, _link: None });
        }
        let listener = bound_abort(&controller).map_err(|_| ())?;
        with_string("abort", |k| add.call2(caller, k, &listener)).map_err(|_| ())?;
        let link = Link {
            caller: caller.clone(),
            remove,
            listener,
        };
        Ok(Signal {
            own,
            _link: Some(Rc::new(link)),
        })
    }

    /// A signal of ours, with no caller behind it.
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    pub fn own(own: AbortSignal) -> Signal {
        Signal { own, _link: None }
    }
}

pub fn caller_aborted(signal: Option<&AbortSignal>) -> bool {
    signal.is_some_and(|s| s.aborted())
}

/// A pending promise and its `resolve`, created without a Rust closure.
pub fn deferred() -> (Promise, Option<Function>) {
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
    (promise, resolve)
}

/// Resolves `resolve` when the caller's signal fires; undone on drop.
pub struct AbortLink {
    signal: Option<AbortSignal>,
    resolve: Function,
}

impl AbortLink {
    pub fn new(signal: Option<&AbortSignal>, resolve: &Function) -> AbortLink {
        if let Some(s) = signal {
            on_abort(s, resolve);
        }
        AbortLink {
            signal: signal.cloned(),
            resolve: resolve.clone(),
        }
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        if let Some(s) = &self.signal {
            off_abort(s, &self.resolve);
        }
    }
}

struct Timer(JsValue);

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.0);
    }
}

/// Waits `ms`, or less if the caller's signal fires; `Err(())` when it did.
pub async fn sleep(ms: u64, signal: Option<&AbortSignal>) -> Result<(), ()> {
    if caller_aborted(signal) {
        return Err(());
    }
    let (promise, resolve) = deferred();
    let Some(resolve) = resolve else { return Ok(()) };
    let _timer = Timer(set_timeout(&resolve, ms as f64));
    let _link = AbortLink::new(signal, &resolve);
    let _ = JsFuture::from(promise).await;
    if caller_aborted(signal) {
        Err(())
    } else {
        Ok(())
    }
}

/// Awaits `promise` unless the caller's signal fires first (`Err(None)`);
/// a rejection gives `Err(Some(reason))`.
pub async fn race_abort(promise: Promise, signal: Option<&AbortSignal>) -> Result<JsValue, Option<JsValue>> {
    if caller_aborted(signal) {
        return Err(None);
    }
    let (stop, resolve) = deferred();
    let Some(resolve) = resolve else { return Err(None) };
    let _link = AbortLink::new(signal, &resolve);
    let both = js_sys::Array::of2(&promise, &stop);
    let out = JsFuture::from(Promise::race(&both)).await;
    if caller_aborted(signal) {
        return Err(None);
    }
    out.map_err(Some)
}

/// The caller's signal ended the call after `attempts` requests.
pub fn aborted(attempts: u32) -> crate::protocol::error::Error {
    use crate::protocol::error::{Code, Error};
    Error::local(Code::Aborted, &["the call was aborted by its AbortSignal"]).with_attempts(attempts)
}
