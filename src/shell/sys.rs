//! Bindings to the runtime's globals. `fetch` and `setTimeout` are
//! bound as globals, never through `window`, so one build runs in pages,
//! workers, Node, Deno, Bun and workerd.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::prelude::*;

use core::sync::atomic::{AtomicU64, Ordering};

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;

/// The platform classes are web-sys's, the types every Rust wasm crate
/// holds, so a workers-rs or gloo caller passes its own signal.
pub use web_sys::{AbortController, AbortSignal, ReadableStream, Response};

#[wasm_bindgen]
extern "C" {
    // The globals, bound by hand: web-sys reaches them only through
    // `window`, which workers, Deno, workerd and Node lack.
    #[wasm_bindgen(catch, js_name = fetch)]
    pub fn fetch(url: &str, init: &web_sys::RequestInit) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &Function, ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);

    // `JSON.parse` of a JS string: js-sys's takes a `&str`, which would
    // copy a whole answer body into wasm memory first.
    #[cfg(feature = "full")]
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = parse)]
    pub fn json_parse(text: &js_sys::JsString) -> Result<JsValue, JsValue>;

    // web-sys binds `cancel` without `catch`, and a caller's stream may
    // throw: a view of the stream with a catching `cancel`.
    type BodyStream;
}

#[wasm_bindgen(module = "/src/shell/body.js")]
extern "C" {
    /// The body's bytes, at most `max` of them (the rest cancelled); rejects
    /// when the stream cannot be read.
    #[wasm_bindgen(js_name = readBody)]
    pub fn read_body(body: &ReadableStream, max: u32, signal: &AbortSignal) -> Promise;
}

// Catching forms of the calls made on values a caller handed over (a
// Proxy, a getter that throws): an `Err`, never a throw through Rust frames
// (issue 22).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub fn is_array(v: &JsValue) -> Result<bool, JsValue>;
    /// A copy of a caller's array (its iterator, `length` and items read once).
    #[cfg(feature = "full")]
    #[wasm_bindgen(catch, js_namespace = Array, js_name = from)]
    pub fn array_from(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = getPrototypeOf)]
    pub fn prototype_of(v: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    pub fn object_keys(v: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = assign)]
    pub fn assign(target: &Object, source: &JsValue) -> Result<Object, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Promise, js_name = resolve)]
    pub fn promise_resolve(v: &JsValue) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, method, js_name = cancel)]
    fn cancel_stream(this: &BodyStream) -> Result<Promise, JsValue>;

    // web-sys's listener methods take the event type as a `&str`, decoded
    // into a fresh JS string at every call; these take the interned
    // `"abort"` ([`on_abort`], [`off_abort`]).
    type Listened;
    #[wasm_bindgen(catch, method, js_name = addEventListener)]
    fn add_listener(this: &Listened, kind: &JsValue, listener: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, method, js_name = removeEventListener)]
    fn remove_listener(this: &Listened, kind: &JsValue, listener: &Function) -> Result<(), JsValue>;
}

/// `signal.addEventListener("abort", listener)`; a throw is ignored (the
/// signals listened to are our own).
pub fn on_abort(signal: &AbortSignal, listener: &Function) {
    with_string("abort", |k| {
        let _ = signal.unchecked_ref::<Listened>().add_listener(k, listener);
    });
}

/// `signal.removeEventListener("abort", listener)`; a throw is ignored.
pub fn off_abort(signal: &AbortSignal, listener: &Function) {
    with_string("abort", |k| {
        let _ = signal.unchecked_ref::<Listened>().remove_listener(k, listener);
    });
}

/// `o[k]` through a catching accessor.
pub fn get(o: &JsValue, k: &str) -> Result<JsValue, JsValue> {
    with_string(k, |k| js_sys::Reflect::get(o, k))
}

/// The runtime is workerd (Cloudflare Workers, Miniflare):
/// `navigator.userAgent` is `"Cloudflare-Workers"`
/// (developers.cloudflare.com, "Navigator"). There, the promises of a
/// request or a Durable Object that ends (a client gone, `ctx.abort()`, an
/// eviction) never settle.
#[cfg(feature = "full")]
pub fn in_workerd() -> bool {
    get(&js_sys::global(), "navigator")
        .and_then(|n| get(&n, "userAgent"))
        .ok()
        .and_then(|u| u.as_string())
        .is_some_and(|u| u == "Cloudflare-Workers")
}

/// `stream.cancel()`; a throw is an `Err`.
pub fn cancel_stream(stream: &ReadableStream) -> Result<Promise, JsValue> {
    stream.unchecked_ref::<BodyStream>().cancel_stream()
}

/// `o[k] = v`; a throwing setter is ignored (the objects set here are our own).
pub fn set(o: &Object, k: &str, v: &JsValue) {
    with_string(k, |k| {
        let _ = js_sys::Reflect::set(o, k, v);
    });
}

/// `o[k] = s`, `s` made once when it is one of the fixed strings below.
pub fn set_str(o: &Object, k: &str, s: &str) {
    with_string(s, |v| set(o, k, v));
}

// The property names and fixed values of every request's `fetch` init, as
// JS strings made once. The init is built field by field: undici reads an
// init (its headers above all) that came from `JSON.parse` more slowly than
// one built this way (bench/README.md, "Call overhead"). rustfmt would drop
// the initializers.
#[rustfmt::skip]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, static_string)]
    static METHOD: js_sys::JsString = "method";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static REDIRECT: js_sys::JsString = "redirect";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static HEADERS: js_sys::JsString = "headers";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static BODY: js_sys::JsString = "body";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static SIGNAL: js_sys::JsString = "signal";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static MANUAL: js_sys::JsString = "manual";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static GET: js_sys::JsString = "GET";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static POST: js_sys::JsString = "POST";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static AUTHORIZATION: js_sys::JsString = "authorization";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static CLIENT_REQUEST_ID: js_sys::JsString = "client-request-id";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static WORKBOOK_SESSION_ID: js_sys::JsString = "workbook-session-id";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static CONTENT_TYPE: js_sys::JsString = "content-type";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static APPLICATION_JSON: js_sys::JsString = "application/json";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static STATUS: js_sys::JsString = "status";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static ABORT: js_sys::JsString = "abort";
}

/// `f` with `s` as a JS string: one made once for the strings above, a
/// fresh one for any other.
pub fn with_string<R>(s: &str, f: impl FnOnce(&JsValue) -> R) -> R {
    let interned = match s {
        "method" => &METHOD,
        "redirect" => &REDIRECT,
        "headers" => &HEADERS,
        "body" => &BODY,
        "signal" => &SIGNAL,
        "manual" => &MANUAL,
        "GET" => &GET,
        "POST" => &POST,
        "authorization" => &AUTHORIZATION,
        "client-request-id" => &CLIENT_REQUEST_ID,
        "workbook-session-id" => &WORKBOOK_SESSION_ID,
        "content-type" => &CONTENT_TYPE,
        "application/json" => &APPLICATION_JSON,
        "status" => &STATUS,
        "abort" => &ABORT,
        _ => return f(&JsValue::from_str(s)),
    };
    interned.with(|k| f(k))
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Uniform in [0, 1): jitter only, never secrets.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// Two SplitMix64 streams, seeded once from `Math.random` (four draws, 32
/// bits each): ids need uniqueness, not secrecy, and every engine seeds
/// `Math.random` per instance from the system's entropy. Not `crypto`: the
/// first touch of `crypto` loads Node's whole WebCrypto (3.7 ms of a
/// 68 ms start-up, bench/README.md, row 5). Atomics only because a `static`
/// must be `Sync`; wasm32 without threads runs them as plain loads and
/// stores.
static STREAMS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn seed() {
    let mut b = [0u8; 16];
    for chunk in b.chunks_mut(4) {
        chunk.copy_from_slice(&((random() * 4_294_967_296.0) as u32).to_le_bytes());
    }
    let (lo, hi) = b.split_at(8);
    for (stream, half) in STREAMS.iter().zip([lo, hi]) {
        let mut word = [0u8; 8];
        word.copy_from_slice(half);
        // Never zero: zero means "not seeded yet".
        stream.store(u64::from_le_bytes(word) | 1, Ordering::Relaxed);
    }
}

fn split_mix(stream: &AtomicU64) -> u64 {
    let mut z = stream
        .fetch_add(GOLDEN_GAMMA, Ordering::Relaxed)
        .wrapping_add(GOLDEN_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 16 fresh bytes for a client-request-id.
pub fn random_bytes() -> [u8; 16] {
    if STREAMS[0].load(Ordering::Relaxed) == 0 {
        seed();
    }
    let mut b = [0u8; 16];
    let (lo, hi) = b.split_at_mut(8);
    lo.copy_from_slice(&split_mix(&STREAMS[0]).to_le_bytes());
    hi.copy_from_slice(&split_mix(&STREAMS[1]).to_le_bytes());
    b
}

/// A fresh UUID v4 `client-request-id`.
pub fn fresh_client_request_id() -> String {
    crate::protocol::validate::uuid_v4(random_bytes())
}
