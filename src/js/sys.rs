//! Bindings to the runtime's globals. `fetch`, `setTimeout` and `crypto` are
//! bound as globals, never through `window`, so one build runs in pages,
//! workers, Node, Deno, Bun and workerd.
#![allow(missing_docs)]

#[allow(unused_imports)]
use crate::prelude::*;

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

    pub type Reader;
    #[wasm_bindgen(method)]
    pub fn read(this: &Reader) -> Promise;
    #[wasm_bindgen(method)]
    pub fn cancel(this: &Reader) -> Promise;
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Uniform in [0, 1): jitter only, never secrets.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// 16 bytes from `crypto.getRandomValues`, falling back to `Math.random`
/// where a runtime has no Web Crypto (ids need uniqueness, not secrecy).
pub fn random_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    if get_random_values(&mut b).is_err() {
        for x in b.iter_mut() {
            *x = (random() * 256.0) as u8;
        }
    }
    b
}
