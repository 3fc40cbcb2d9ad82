//! Results and errors on their way into JavaScript. Errors cross as `Error`
//! objects with `name === "GraphError"` and the contract's fields (checks by
//! name work across realms); results are built as JSON and parsed in one
//! crossing.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::protocol::error::Error;
use crate::protocol::json::write_string;
use crate::protocol::operation::SessionInfo;
use crate::protocol::text::push_decimal;
use crate::shell::action::Refreshed;
use crate::shell::sys::set;

fn opt_str(v: Option<&str>) -> JsValue {
    match v {
        Some(s) => JsValue::from_str(s),
        None => JsValue::NULL,
    }
}

/// The JS `GraphError` for `e`, its message prefixed with the operation.
pub fn to_js(e: &Error, operation: &str) -> JsValue {
    let mut message = String::with_capacity(operation.len() + 2 + e.message().len());
    message.push_str(operation);
    message.push_str(": ");
    message.push_str(e.message());
    let err = js_sys::Error::new(&message);
    err.set_name("GraphError");
    let o: &Object = err.as_ref();
    set(o, "code", &JsValue::from_str(e.code().as_str()));
    set(o, "innerCode", &opt_str(e.inner_code()));
    set(
        o,
        "innerCodes",
        &e.inner_codes().iter().map(JsValue::from).collect::<js_sys::Array>(),
    );
    set(o, "status", &JsValue::from(e.status()));
    set(o, "requestId", &opt_str(e.request_id()));
    set(o, "clientRequestId", &opt_str(e.client_request_id()));
    set(
        o,
        "retryAfterMs",
        &e.retry_after_ms().map_or(JsValue::NULL, |ms| JsValue::from(ms as f64)),
    );
    set(o, "attempts", &JsValue::from(e.attempts()));
    set(o, "recreatable", &JsValue::from(e.recreatable()));
    set(o, "date", &opt_str(e.date()));
    err.into()
}

/// The JS `RefreshResult`, built as JSON and parsed in one crossing.
pub fn refreshed_to_js(r: &Refreshed) -> JsValue {
    let mut out = String::with_capacity(160);
    out.push_str("{\"status\":");
    push_decimal(&mut out, u64::from(r.status));
    out.push_str(",\"requestId\":");
    match &r.request_id {
        Some(id) => write_string(&mut out, id),
        None => out.push_str("null"),
    }
    out.push_str(",\"clientRequestId\":");
    write_string(&mut out, &r.client_request_id);
    out.push_str(",\"attempts\":");
    push_decimal(&mut out, u64::from(r.attempts));
    out.push_str(",\"elapsedMs\":");
    // Date.now() differences are whole milliseconds.
    push_decimal(&mut out, r.elapsed_ms.max(0.0) as u64);
    out.push('}');
    js_sys::JSON::parse(&out).unwrap_or(JsValue::NULL)
}

/// The JS `SessionInfo`.
pub fn session_info_to_js(info: &SessionInfo) -> JsValue {
    let o = Object::new();
    set(&o, "id", &JsValue::from_str(&info.id));
    set(&o, "persistChanges", &JsValue::from(info.persist_changes));
    o.into()
}
