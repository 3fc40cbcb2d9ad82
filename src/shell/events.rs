//! Calling the caller's listeners: `onEvent` with the protocol's
//! [`Event`]s, and keep-alive's callbacks. A listener that throws (or whose
//! promise rejects) is reported (`reportError`, else `console.error`) and
//! never breaks the call; listeners run with no `RefCell` borrow held.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::sys::{now_ms, set, set_str};
use super::task::spawn;
use crate::protocol::event::Event;

/// Calls a caller's callback. A throw (or a rejected promise from an async
/// callback) is not swallowed: it goes to the platform's `reportError` when
/// there is one, else to `console.error`.
pub fn notify(f: Option<Function>, args: &[&JsValue]) {
    let Some(f) = f else { return };
    let out = match args {
        [a] => f.call1(&JsValue::UNDEFINED, a),
        [a, b] => f.call2(&JsValue::UNDEFINED, a, b),
        _ => f.call0(&JsValue::UNDEFINED),
    };
    match out {
        Err(thrown) => report_error(&thrown),
        Ok(v) if v.is_instance_of::<Promise>() => {
            let p: Promise = v.unchecked_into();
            spawn(Box::pin(async move {
                if let Err(rejected) = JsFuture::from(p).await {
                    report_error(&rejected);
                }
            }));
        }
        Ok(_) => {}
    }
}

/// `globalThis.reportError(e)` (browsers, workers, Deno, workerd), else
/// `console.error(e)`; never throws.
pub fn report_error(e: &JsValue) {
    let global = js_sys::global();
    let call = |target: &JsValue, name: &str| -> bool {
        match Reflect::get(target, &JsValue::from_str(name)) {
            Ok(f) if f.is_function() => f.unchecked_into::<Function>().call1(target, e).is_ok(),
            _ => false,
        }
    };
    if !call(&global, "reportError") {
        if let Ok(console) = Reflect::get(&global, &JsValue::from_str("console")) {
            let _ = call(&console, "error");
        }
    }
}

/// One attempt as `onEvent` hears it: [`Event::Request`] when it leaves,
/// then [`Event::Response`] with the time since.
pub struct AttemptEvents<'a> {
    listener: Option<&'a Function>,
    method: &'a str,
    url: &'a str,
    attempt: u32,
    sent_at: f64,
}

impl<'a> AttemptEvents<'a> {
    /// Emits `request` and starts the attempt's clock.
    pub fn sent(listener: Option<&'a Function>, method: &'a str, url: &'a str, attempt: u32) -> Self {
        emit(listener, &Event::Request { method, url, attempt });
        AttemptEvents {
            listener,
            method,
            url,
            attempt,
            sent_at: now_ms(),
        }
    }

    /// Emits `response`: the answer's status and `request-id`, or status 0
    /// and why no answer came.
    pub fn answered(&self, status: u16, request_id: Option<&str>, failure: Option<&'static str>) {
        let event = Event::Response {
            method: self.method,
            url: self.url,
            attempt: self.attempt,
            status,
            request_id,
            elapsed_ms: (now_ms() - self.sent_at).max(0.0) as u64,
            failure,
        };
        emit(self.listener, &event);
    }
}

/// Hands `event` to `listener` as a plain object (`SessionEvent` in the
/// types), when there is one.
pub fn emit(listener: Option<&Function>, event: &Event<'_>) {
    let Some(listener) = listener else { return };
    let o = Object::new();
    let num = |o: &Object, k: &str, n: f64| set(o, k, &JsValue::from_f64(n));
    let head = |o: &Object, kind: &str, method: &str, url: &str, attempt: u32| {
        set_str(o, "type", kind);
        set_str(o, "method", method);
        set_str(o, "url", url);
        num(o, "attempt", f64::from(attempt));
    };
    match *event {
        Event::Request { method, url, attempt } => head(&o, "request", method, url, attempt),
        Event::Response {
            method,
            url,
            attempt,
            status,
            request_id,
            elapsed_ms,
            failure,
        } => {
            head(&o, "response", method, url, attempt);
            num(&o, "status", f64::from(status));
            set(&o, "requestId", &request_id.map_or(JsValue::NULL, JsValue::from_str));
            num(&o, "elapsedMs", elapsed_ms as f64);
            set(&o, "failure", &failure.map_or(JsValue::NULL, JsValue::from_str));
        }
        Event::Retry {
            method,
            url,
            attempt,
            delay_ms,
            reason,
        } => {
            head(&o, "retry", method, url, attempt);
            num(&o, "delayMs", delay_ms as f64);
            set_str(&o, "reason", reason.as_str());
        }
    }
    notify(Some(listener.clone()), &[&o.into()]);
}
