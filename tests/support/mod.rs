//! Helpers for the wasm tests: the emulator's URL (set by `cargo xtask test`
//! at compile time), its control API over the runtime's own `fetch`, and
//! option objects built the way JavaScript callers build them.
#![allow(dead_code)]

#[cfg(target_arch = "wasm32")]
pub mod scenario;

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A distinctive token: every error is scanned for it.
pub const TOKEN: &str = "test-token-7f3a9c-SECRET";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn raw_fetch(url: &str, init: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: f64) -> JsValue;
}

/// The emulator's origin, e.g. `http://127.0.0.1:41234`.
pub fn emulator() -> &'static str {
    option_env!("GRAPH_EMULATOR_URL").unwrap_or("http://127.0.0.1:1")
}

/// `{emulator}/v1.0`.
pub fn base_url() -> String {
    [emulator(), "/v1.0"].concat()
}

pub fn set(o: &JsValue, k: &str, v: impl Into<JsValue>) {
    Reflect::set(o, &JsValue::from_str(k), &v.into()).unwrap();
}

pub fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap()
}

pub fn get_str(o: &JsValue, k: &str) -> Option<String> {
    get(o, k).as_string()
}

pub fn get_num(o: &JsValue, k: &str) -> f64 {
    get(o, k).as_f64().unwrap_or(f64::NAN)
}

/// A unique item path per test, so faults and request logs never mix.
pub fn workbook(test: &str) -> String {
    [
        "/me/drive/items/",
        test,
        "-",
        &js_sys::Math::random().to_string()[2..10],
    ]
    .concat()
}

/// Call options as a JS object: workbook, token, the emulator's base URL.
pub fn options(workbook: &str) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "workbook", workbook);
    set(&o, "accessToken", TOKEN);
    set(&o, "baseUrl", base_url());
    o
}

pub fn session_options(workbook: &str, session_id: &str) -> JsValue {
    let o = options(workbook);
    set(&o, "sessionId", session_id);
    o
}

async fn http(method: &str, path: &str, body: Option<&str>, auth: bool) -> (u16, JsValue) {
    let init: JsValue = Object::new().into();
    set(&init, "method", method);
    let headers: JsValue = Object::new().into();
    if auth {
        set(&headers, "authorization", ["Bearer ", TOKEN].concat());
    }
    if let Some(b) = body {
        set(&headers, "content-type", "application/json");
        set(&init, "body", b);
    }
    set(&init, "headers", headers);
    let url = [emulator(), path].concat();
    let resp = JsFuture::from(raw_fetch(&url, &init))
        .await
        .expect("emulator reachable");
    let status = get_num(&resp, "status") as u16;
    let text_fn: Function = get(&resp, "text").into();
    let text = JsFuture::from(Promise::from(text_fn.call0(&resp).unwrap()))
        .await
        .unwrap();
    let text = text.as_string().unwrap_or_default();
    let json = if text.is_empty() {
        JsValue::NULL
    } else {
        JSON::parse(&text).unwrap_or(JsValue::NULL)
    };
    (status, json)
}

/// Adds a fault through `POST /_emulator/faults`; `spec` is JSON.
pub async fn fault(spec: &str) {
    let (status, _) = http("POST", "/_emulator/faults", Some(spec), false).await;
    assert_eq!(status, 201, "fault not accepted: {spec}");
}

/// The requests the emulator logged for paths containing `needle`.
pub async fn requests(needle: &str) -> Vec<JsValue> {
    let path = [
        "/_emulator/requests?pathContains=",
        &String::from(js_sys::encode_uri_component(needle)),
    ]
    .concat();
    let (status, json) = http("GET", &path, None, false).await;
    assert_eq!(status, 200);
    Array::from(&get(&json, "requests")).iter().collect()
}

/// The emulator's log of `operation` requests on `wb`, in order.
pub async fn logged(wb: &str, operation: &str) -> Vec<JsValue> {
    requests(wb)
        .await
        .into_iter()
        .filter(|r| get_str(r, "operation").as_deref() == Some(operation))
        .collect()
}

/// Creates a session on `workbook` with a raw Graph call; returns its id.
pub async fn raw_create_session(workbook: &str, persist: bool) -> String {
    let path = ["/v1.0", workbook, "/workbook/createSession"].concat();
    let body = if persist {
        r#"{"persistChanges":true}"#
    } else {
        r#"{"persistChanges":false}"#
    };
    let (status, json) = http("POST", &path, Some(body), true).await;
    assert_eq!(status, 201, "createSession");
    get_str(&json, "id").expect("session id")
}

/// Expires a session through the control API.
pub async fn expire(session_id: &str) {
    let path = [
        "/_emulator/sessions/",
        &String::from(js_sys::encode_uri_component(session_id)),
        "/expire",
    ]
    .concat();
    let (status, _) = http("POST", &path, None, false).await;
    assert_eq!(status, 204);
}

/// The emulator's view of live sessions.
pub async fn sessions() -> Vec<JsValue> {
    let (_, json) = http("GET", "/_emulator/sessions", None, false).await;
    Array::from(&get(&json, "sessions")).iter().collect()
}

pub async fn sleep(ms: u32) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, f64::from(ms));
    });
    JsFuture::from(p).await.unwrap();
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

/// The top-level code of the plain `404` that an expired or unknown session
/// answers (resources/excel.md: "If the session id has expired, a `404` HTTP
/// error code is returned"; the emulator's default, without
/// `--recreatable-404`).
pub const EXPIRED: &str = "notFound";

/// Asserts `e` is a GraphError with `code`, and that the token appears in
/// none of its fields, its message or its stack.
pub fn assert_graph_error(e: &JsValue, code: &str) {
    assert_eq!(
        get_str(e, "name").as_deref(),
        Some("GraphError"),
        "not a GraphError: {e:?}"
    );
    assert_eq!(get_str(e, "code").as_deref(), Some(code), "{:?}", get_str(e, "message"));
    assert_no_token(e);
}

pub fn assert_no_token(e: &JsValue) {
    let mut texts = vec![get_str(e, "message"), get_str(e, "stack"), get_str(e, "cause")];
    for k in js_sys::Object::keys(&Object::from(e.clone())).iter() {
        texts.push(get(e, &k.as_string().unwrap()).as_string());
    }
    texts.push(JSON::stringify(e).ok().and_then(|s| s.as_string()));
    for t in texts.into_iter().flatten() {
        assert!(!t.contains(TOKEN), "token leaked into {t}");
    }
}

/// An `AbortController` and a function that aborts it after `ms`.
pub fn abort_after(ms: u32) -> JsValue {
    let ctor: Function = Reflect::get(&js_sys::global(), &"AbortController".into())
        .unwrap()
        .into();
    let controller = Reflect::construct(&ctor, &Array::new()).unwrap();
    let abort: Function = get(&controller, "abort").into();
    set_timeout(&abort.bind0(&controller), f64::from(ms));
    get(&controller, "signal")
}

/// A second emulator whose sessions expire after 1.5 s (persistent) and 2 s
/// (non-persistent), for keep-alive tests.
pub fn short_ttl_emulator() -> &'static str {
    option_env!("GRAPH_EMULATOR_SHORT_TTL_URL").unwrap_or("http://127.0.0.1:1")
}

pub const SHORT_TTL_MS: u32 = 1500;

/// Options against the short-TTL emulator.
pub fn short_options(workbook: &str) -> JsValue {
    let o = options(workbook);
    set(&o, "baseUrl", [short_ttl_emulator(), "/v1.0"].concat());
    o
}

/// Live sessions of the short-TTL emulator.
pub async fn short_sessions() -> Vec<JsValue> {
    let init: JsValue = Object::new().into();
    let url = [short_ttl_emulator(), "/_emulator/sessions"].concat();
    let resp = JsFuture::from(raw_fetch(&url, &init)).await.unwrap();
    let json_fn: Function = get(&resp, "json").into();
    let json = JsFuture::from(Promise::from(json_fn.call0(&resp).unwrap()))
        .await
        .unwrap();
    Array::from(&get(&json, "sessions")).iter().collect()
}

/// A JS function that records its argument; read the records with the Rc.
pub fn recorder() -> (Function, std::rc::Rc<std::cell::RefCell<Vec<JsValue>>>) {
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let s = seen.clone();
    let f = Closure::<dyn FnMut(JsValue)>::new(move |v: JsValue| s.borrow_mut().push(v));
    let func: Function = f.as_ref().unchecked_ref::<Function>().clone();
    f.forget();
    (func, seen)
}

/// Waits up to `ms` for `cond`.
pub async fn wait_for(ms: u32, mut cond: impl FnMut() -> bool) -> bool {
    let mut waited = 0;
    while !cond() {
        if waited >= ms {
            return false;
        }
        sleep(50).await;
        waited += 50;
    }
    true
}

/// Bytes of this instance's wasm linear memory.
pub fn wasm_memory_bytes() -> f64 {
    get_num(&get(&wasm_bindgen::memory(), "buffer"), "byteLength")
}

/// POST createSession with `Prefer: respond-async`; returns the `Location`.
pub async fn raw_create_async(workbook: &str) -> String {
    let init: JsValue = Object::new().into();
    set(&init, "method", "POST");
    let headers: JsValue = Object::new().into();
    set(&headers, "authorization", ["Bearer ", TOKEN].concat());
    set(&headers, "prefer", "respond-async");
    set(&headers, "content-type", "application/json");
    set(&init, "headers", headers);
    set(&init, "body", r#"{"persistChanges":true}"#);
    let url = [emulator(), "/v1.0", workbook, "/workbook/createSession"].concat();
    let resp = JsFuture::from(raw_fetch(&url, &init)).await.unwrap();
    assert_eq!(get_num(&resp, "status"), 202.0);
    let headers = get(&resp, "headers");
    let get_fn: Function = get(&headers, "get").into();
    get_fn
        .call1(&headers, &"location".into())
        .unwrap()
        .as_string()
        .expect("Location")
}
