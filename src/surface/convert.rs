//! Results and errors on their way into JavaScript. Errors cross as
//! instances of the JS class `GraphError` (`graph_error.js`, `extends
//! Error`, `name === "GraphError"`), their fields as one JSON string;
//! results are built as JSON and parsed in one crossing.

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::prelude::*;

use crate::protocol::error::Error;
use crate::protocol::json::write_string;
use crate::protocol::text::push_decimal;
use crate::shell::action::Refreshed;
#[cfg(feature = "full")]
use {crate::protocol::operation::SessionInfo, crate::shell::sys::set, js_sys::Object};

#[wasm_bindgen(module = "/src/surface/graph_error.js")]
extern "C" {
    /// `new GraphError(message, JSON.parse(fields), { cause })`.
    #[wasm_bindgen(js_name = graphError)]
    fn graph_error(message: &str, fields: &str, cause: &JsValue) -> JsValue;
    /// Puts `Symbol.asyncDispose` (close) on WorkbookSession's prototype.
    #[cfg(feature = "full")]
    #[wasm_bindgen(js_name = addAsyncDispose)]
    pub fn add_async_dispose(proto: &JsValue);
    /// The class itself.
    #[wasm_bindgen(thread_local_v2, js_name = GraphError)]
    static GRAPH_ERROR: JsValue;
}

/// The JS `GraphError` class every rejection is an instance of (the
/// package exports it; the wasm tests check `instanceof` against it).
#[doc(hidden)]
pub fn graph_error_class() -> JsValue {
    GRAPH_ERROR.with(JsValue::clone)
}

fn push_opt_str(out: &mut String, key: &str, v: Option<&str>) {
    out.push_str(key);
    match v {
        Some(s) => write_string(out, s),
        None => out.push_str("null"),
    }
}

/// The JS `GraphError` for `e`, its message prefixed with the operation;
/// its `cause` is the token provider's own error, when `e` carries one.
pub fn to_js(e: &Error, operation: &str) -> JsValue {
    let mut message = String::with_capacity(operation.len() + 2 + e.message().len());
    message.push_str(operation);
    message.push_str(": ");
    message.push_str(e.message());
    let mut f = String::with_capacity(256);
    f.push_str("{\"code\":");
    write_string(&mut f, e.code().as_str());
    push_opt_str(&mut f, ",\"innerCode\":", e.inner_code());
    f.push_str(",\"innerCodes\":[");
    for (i, c) in e.inner_codes().iter().enumerate() {
        if i > 0 {
            f.push(',');
        }
        write_string(&mut f, c);
    }
    f.push_str("],\"status\":");
    push_decimal(&mut f, u64::from(e.status()));
    push_opt_str(&mut f, ",\"requestId\":", e.request_id());
    push_opt_str(&mut f, ",\"clientRequestId\":", e.client_request_id());
    f.push_str(",\"retryAfterMs\":");
    match e.retry_after_ms() {
        Some(ms) => push_decimal(&mut f, ms),
        None => f.push_str("null"),
    }
    f.push_str(",\"attempts\":");
    push_decimal(&mut f, u64::from(e.attempts()));
    f.push_str(if e.recreatable() {
        ",\"recreatable\":true"
    } else {
        ",\"recreatable\":false"
    });
    push_opt_str(&mut f, ",\"date\":", e.date());
    f.push('}');
    let cause = e
        .cause()
        .and_then(|c| c.downcast_ref::<JsValue>())
        .cloned()
        .unwrap_or(JsValue::UNDEFINED);
    graph_error(&message, &f, &cause)
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
#[cfg(feature = "full")]
pub fn session_info_to_js(info: &SessionInfo) -> JsValue {
    let o = Object::new();
    set(&o, "id", &JsValue::from_str(&info.id));
    set(&o, "persistChanges", &JsValue::from(info.persist_changes));
    o.into()
}
