//! Bindings to the runtime's globals. `fetch`, `setTimeout` and `crypto` are
//! bound as globals, never through `window`, so one build runs in pages,
//! workers, Node, Deno, Bun and workerd.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::prelude::*;

use core::sync::atomic::{AtomicU64, Ordering};

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    pub fn fetch(url: &str, init: &Object) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &Function, ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);

    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]) -> Result<JsValue, JsValue>;

    /// The platform's `AbortController`.
    #[derive(Clone)]
    pub type AbortController;
    #[wasm_bindgen(catch, constructor)]
    pub fn new() -> Result<AbortController, JsValue>;
    #[wasm_bindgen(method, getter)]
    pub fn signal(this: &AbortController) -> AbortSignal;
    #[wasm_bindgen(method)]
    pub fn abort(this: &AbortController);

    /// The platform's `AbortSignal`: pass one to cancel a call.
    #[derive(Clone)]
    pub type AbortSignal;
    #[wasm_bindgen(method, getter)]
    pub fn aborted(this: &AbortSignal) -> bool;
    #[wasm_bindgen(method, js_name = addEventListener)]
    pub fn add_event_listener(this: &AbortSignal, kind: &str, listener: &Function);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    pub fn remove_event_listener(this: &AbortSignal, kind: &str, listener: &Function);

    pub type Response;
    #[wasm_bindgen(method, getter)]
    pub fn status(this: &Response) -> u16;
    #[wasm_bindgen(method, getter)]
    pub fn headers(this: &Response) -> Headers;
    #[wasm_bindgen(method, getter)]
    pub fn body(this: &Response) -> Option<ReadableStream>;

    pub type Headers;
    #[wasm_bindgen(method)]
    pub fn get(this: &Headers, name: &str) -> Option<String>;

    pub type ReadableStream;
    #[wasm_bindgen(catch, method, js_name = getReader)]
    pub fn get_reader(this: &ReadableStream) -> Result<Reader, JsValue>;
    #[wasm_bindgen(method, js_name = cancel)]
    pub fn cancel_stream(this: &ReadableStream) -> Promise;

    pub type Reader;
    #[wasm_bindgen(method)]
    pub fn read(this: &Reader) -> Promise;
    #[wasm_bindgen(method)]
    pub fn cancel(this: &Reader) -> Promise;
}

/// `o[k] = v`; a throwing setter is ignored (the objects set here are our own).
pub fn set(o: &Object, k: &str, v: &JsValue) {
    let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), v);
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Uniform in [0, 1): jitter only, never secrets.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// Two SplitMix64 streams, seeded once from `crypto.getRandomValues`: one
/// crossing into JS per process instead of one per call (Node's
/// `getRandomValues` costs microseconds). Ids need uniqueness, not secrecy:
/// 128 bits of seed keep them apart across processes. Atomics only because a
/// `static` must be `Sync`; wasm32 without threads runs them as plain loads
/// and stores.
static STREAMS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

fn seed() {
    let mut b = [0u8; 16];
    if get_random_values(&mut b).is_err() {
        for x in b.iter_mut() {
            *x = (random() * 256.0) as u8;
        }
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
