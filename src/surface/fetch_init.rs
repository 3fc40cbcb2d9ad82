//! `session.fetch`'s `init` (a `RequestInit` plus `concurrent` and
//! `recreate`), read and checked once per call, before anything is sent.
//! The rules are `protocol::workbook_request`'s.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::options::JsOptions;
use crate::protocol::error::{Code, Error};
use crate::protocol::validate::check_header_value;
use crate::protocol::workbook_request::{
    adds_json_content_type, check_body, check_caller_header, normalize_method, string_body, Body, OWN_HEADERS,
};
use crate::shell::abort::Signal;
use crate::shell::sys::{assign, is_array, prototype_of, with_string};
use crate::shell::workbook_fetch::Outgoing;

/// The caller's `init`, read.
pub struct FetchInit {
    /// What goes out on every attempt.
    pub outgoing: Outgoing,
    /// `init.concurrent`: skip the session's one-at-a-time order.
    pub concurrent: bool,
    /// `init.recreate`: overrides keep-alive's `recreate` for this call.
    pub recreate: Option<bool>,
    /// `init.signal`.
    pub signal: Option<Signal>,
    /// The caller's own `client-request-id` header, kept on every attempt.
    pub client_request_id: Option<String>,
}

fn bad(why: &str) -> Error {
    Error::local(Code::InvalidArgument, &[why])
}

/// A plain object (`{}`, `Object.create(null)`) or an array: sent as JSON.
fn is_plain_object_or_array(v: &JsValue) -> bool {
    if is_array(v) == Ok(true) {
        return true;
    }
    if !v.is_object() || v.is_function() {
        return false;
    }
    match prototype_of(v) {
        Ok(proto) => proto.is_null() || proto == JsValue::from(Object::get_prototype_of(&Object::new())),
        Err(_) => false,
    }
}

/// Reads `init` (`undefined` is a GET with no options).
pub fn read_fetch_init(init: &JsValue) -> Result<FetchInit, Error> {
    let empty = JsValue::from(Object::new());
    let init = if init.is_undefined() || init.is_null() {
        &empty
    } else {
        init
    };
    let o = JsOptions::new(init).map_err(|_| bad("init must be an object"))?;
    let method = normalize_method(o.opt_string("method")?.as_deref())?;
    let headers = web_sys::Headers::new_with_str_sequence_sequence(&o.get("headers")?)
        .map_err(|_| bad("init.headers is not a valid HeadersInit"))?;
    for name in OWN_HEADERS {
        if headers.has(name).unwrap_or(false) {
            check_caller_header(name)?;
        }
    }
    let raw = o.get("body")?;
    let (kind, body) = if raw.is_undefined() || raw.is_null() {
        (Body::None, JsValue::UNDEFINED)
    } else if let Some(s) = raw.as_string() {
        (string_body(&s), raw)
    } else if raw.is_instance_of::<web_sys::ReadableStream>() {
        (Body::Stream, raw)
    } else if is_plain_object_or_array(&raw) {
        let json = js_sys::JSON::stringify(&raw).map_err(|_| bad("init.body could not be serialized as JSON"))?;
        (Body::Json, json.into())
    } else {
        (Body::Other, raw)
    };
    check_body(&method, kind)?;
    let has_content_type = headers.has("content-type").unwrap_or(false);
    if adds_json_content_type(kind, has_content_type) {
        let _ = headers.set("content-type", "application/json");
    }
    let client_request_id = headers.get("client-request-id").ok().flatten();
    if let Some(id) = &client_request_id {
        check_header_value("client-request-id", id, 1024)?;
    }
    let base = assign(&Object::new(), init).map_err(|_| bad("init could not be read (a getter threw)"))?;
    for k in [
        "concurrent",
        "recreate",
        "signal",
        "headers",
        "body",
        "method",
        "redirect",
    ] {
        with_string(k, |k| {
            let _ = Reflect::delete_property(&base, k);
        });
    }
    Ok(FetchInit {
        outgoing: Outgoing {
            base,
            headers,
            body,
            method,
        },
        concurrent: o.opt_bool("concurrent")?.unwrap_or(false),
        recreate: o.opt_bool("recreate")?,
        signal: o.signal()?,
        client_request_id,
    })
}
