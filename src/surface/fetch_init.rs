//! `session.fetch`'s `init` (`method`, `headers`, `body` or `json`,
//! `signal`, `concurrent`, `recreate`, and `cache`, `priority`,
//! `keepalive` for `fetch`), read and checked once per call, before
//! anything is sent. A body is never copied into wasm memory.
//! The rules are `protocol::workbook_request`'s.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{JsString, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::options::{Bag, Keys};
use crate::protocol::error::{Code, Error};
use crate::protocol::validate::check_header_value;
use crate::protocol::workbook_request::{
    adds_json_content_type, check_body, check_caller_header, init_field, json_start, normalize_method, Body, InitField,
    MAX_INIT_FIELDS, OWN_HEADERS,
};
use crate::shell::sys::{is_array, object_keys, prototype_of};
use crate::shell::workbook_fetch::{FetchInit, Outgoing};

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

/// Whether a string body is JSON, read in place one character at a time
/// (`charCodeAt`): the body is never copied into wasm memory.
fn string_is_json(s: &JsString) -> Body {
    let len = s.length();
    json_start(|i| if i < len { Some(s.char_code_at(i) as u16) } else { None })
}

/// The own enumerable fields of `init` whose value is not `undefined`,
/// each judged ([`init_field`]); those passed to `fetch` are copied to
/// `base`. More than [`MAX_INIT_FIELDS`] is refused unread.
fn check_fields(init: &JsValue, base: &Object) -> Result<(), Error> {
    let keys = object_keys(init).map_err(|_| bad("init could not be read"))?;
    if keys.length() as usize > MAX_INIT_FIELDS {
        return Err(bad("init has too many fields"));
    }
    for key in keys.iter() {
        let value = Reflect::get(init, &key).map_err(|_| bad("init could not be read"))?;
        if value.is_undefined() {
            continue;
        }
        let name = key.as_string().unwrap_or_default();
        if init_field(&name)? == InitField::PassThrough {
            let _ = Reflect::set(base, &key, &value);
        }
    }
    Ok(())
}

/// Reads `init` (`undefined` is a GET with no options).
pub fn read_fetch_init(init: &JsValue) -> Result<FetchInit, Error> {
    if init.is_undefined() || init.is_null() {
        // No options: a GET with none of the caller's fields or headers,
        // nothing to read (row 8's call: bench/README.md, "Call overhead:
        // the options in one crossing").
        return Ok(FetchInit {
            outgoing: Outgoing {
                base: Object::new(),
                headers: web_sys::Headers::new().map_err(|_| bad("init.headers is not a valid HeadersInit"))?,
                body: JsValue::UNDEFINED,
                method: normalize_method(None)?,
            },
            concurrent: false,
            recreate: None,
            signal: None,
            client_request_id: None,
        });
    }
    if !init.is_object() || is_array(init) != Ok(false) {
        return Err(bad("init must be an object"));
    }
    let base = Object::new();
    check_fields(init, &base)?;
    // Each key read once, in one crossing; the values are judged here in
    // this order (a key `readOptions` refused is reported at its place).
    let mut o = Bag::read_list(init, Keys::FetchInit);
    let method = normalize_method(o.opt_string()?.as_deref())?;
    let headers = web_sys::Headers::new_with_str_sequence_sequence(&o.value()?)
        .map_err(|_| bad("init.headers is not a valid HeadersInit"))?;
    for name in OWN_HEADERS {
        if headers.has(name).unwrap_or(false) {
            check_caller_header(name)?;
        }
    }
    let raw = o.value()?;
    let json = o.value()?;
    let (kind, body) = if !json.is_undefined() {
        if !(raw.is_undefined() || raw.is_null()) {
            return Err(bad("init.json and init.body cannot both be set"));
        }
        // JSON.stringify runs in JS: the serialized body stays a JS string.
        let s = js_sys::JSON::stringify(&json).map_err(|_| bad("init.json could not be serialized as JSON"))?;
        let s: JsValue = s.into();
        if !s.is_string() {
            return Err(bad("init.json is not a JSON value"));
        }
        (Body::Json, s)
    } else if raw.is_undefined() || raw.is_null() {
        (Body::None, JsValue::UNDEFINED)
    } else if let Some(s) = raw.dyn_ref::<JsString>() {
        (string_is_json(s), raw)
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
        headers
            .set("content-type", "application/json")
            .map_err(|_| bad("init.headers could not take a Content-Type"))?;
    }
    let client_request_id = headers.get("client-request-id").ok().flatten();
    if let Some(id) = &client_request_id {
        check_header_value("client-request-id", id, 1024)?;
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
