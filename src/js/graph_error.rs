//! Errors cross into JavaScript as `Error` objects with `name === "GraphError"`
//! and the contract's fields; checks by name work across realms.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::core::error::Error;
use crate::js::sys::set;


fn opt_str(v: &Option<String>) -> JsValue {
    match v {
        Some(s) => JsValue::from_str(s),
        None => JsValue::NULL,
    }
}

/// The JS `GraphError` for `e`, its message prefixed with the operation.
pub fn to_js(e: &Error, operation: &str) -> JsValue {
    let mut message = String::with_capacity(operation.len() + 2 + e.message.len());
    message.push_str(operation);
    message.push_str(": ");
    message.push_str(&e.message);
    let err = js_sys::Error::new(&message);
    err.set_name("GraphError");
    let o: &Object = err.as_ref();
    set(o, "code", &JsValue::from_str(e.code.as_str()));
    set(o, "innerCode", &opt_str(&e.inner_code));
    set(o, "status", &JsValue::from(e.status));
    set(o, "requestId", &opt_str(&e.request_id));
    set(o, "clientRequestId", &opt_str(&e.client_request_id));
    set(o, "retryAfterMs", &e.retry_after_ms.map_or(JsValue::NULL, |ms| JsValue::from(ms as f64)));
    set(o, "attempts", &JsValue::from(e.attempts));
    set(o, "recreatable", &JsValue::from(e.recreatable()));
    set(o, "date", &opt_str(&e.date));
    err.into()
}
