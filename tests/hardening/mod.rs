//! Helpers shared by the bad-input and fault matrices (`tests/bad_input.rs`,
//! `tests/faults.rs`): proof that nothing reached a listener, a deep scan of
//! every error (and console output) for the token, and a raw TCP listener
//! in Node. Declared next to `mod support;` in each matrix.
#![allow(dead_code)]

use std::cell::Cell;

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::support::{self, get, get_num, get_str, set, TOKEN};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &JsValue) -> Promise;
}

/// A closed loopback port (`cargo xtask test` binds one and lets it go).
pub fn closed_url() -> &'static str {
    option_env!("GRAPH_CLOSED_URL").unwrap_or("http://127.0.0.1:2")
}

/// The emulator's port.
pub fn emulator_port() -> String {
    support::emulator().rsplit(':').next().unwrap_or("1").to_string()
}

/// A fetch that never throws: `Ok((status, body text))` or `Err(reason)`.
pub async fn raw(url: &str, init: &JsValue) -> Result<(u16, String), String> {
    let resp = JsFuture::from(global_fetch(url, init))
        .await
        .map_err(|e| get_str(&e, "message").unwrap_or_else(|| "fetch failed".into()))?;
    let status = get_num(&resp, "status") as u16;
    let text: Function = get(&resp, "text").into();
    let body = JsFuture::from(Promise::from(text.call0(&resp).unwrap()))
        .await
        .unwrap_or(JsValue::NULL);
    Ok((status, body.as_string().unwrap_or_default()))
}

pub async fn raw_get(url: &str) -> Result<(u16, String), String> {
    raw(url, &Object::new().into()).await
}

async fn json_at(url: &str) -> JsValue {
    let (status, body) = raw_get(url).await.expect("emulator reachable");
    assert_eq!(status, 200, "{url}: {body}");
    JSON::parse(&body).unwrap()
}

/// Every Graph operation an emulator has answered so far (the sum of
/// `/_emulator/stats` counts: faulted, failed and `$batch` inner requests
/// included). Equal before and after a call proves the call sent nothing.
pub async fn graph_requests_at(origin: &str) -> f64 {
    let stats = json_at(&[origin, "/_emulator/stats"].concat()).await;
    let counts = get(&stats, "counts");
    Object::values(&Object::from(counts))
        .iter()
        .map(|v| v.as_f64().unwrap_or(0.0))
        .sum()
}

pub async fn graph_requests() -> f64 {
    graph_requests_at(support::emulator()).await
}

/// Requests an emulator logged for paths containing `needle`.
pub async fn logged_at(origin: &str, needle: &str) -> Vec<JsValue> {
    let url = [
        origin,
        "/_emulator/requests?pathContains=",
        &String::from(js_sys::encode_uri_component(needle)),
    ]
    .concat();
    Array::from(&get(&json_at(&url).await, "requests")).iter().collect()
}

/// A fault on the main emulator, built from `key=value` JSON fragments.
pub async fn fault_json(parts: &[&str]) {
    support::fault(&["{", &parts.join(","), "}"].concat()).await;
}

/// `"key":"value"` with the value JSON-escaped.
pub fn js(key: &str, value: &str) -> String {
    let v = JSON::stringify(&JsValue::from_str(value)).unwrap().as_string().unwrap();
    ["\"", key, "\":", &v].concat()
}

/// All text an error exposes: own properties (enumerable or not: `message`
/// and `stack` are not), and the same for its `cause` chain; except the
/// `cause` of a `tokenProvider` error, which is the provider's own error
/// passed through untouched (issue 14: MSAL's InteractionRequiredAuthError
/// reaches the caller intact), and may quote whatever the provider put in
/// it. tests/tokens.rs checks that it is that very object.
fn texts(v: &JsValue, depth: u32, out: &mut Vec<String>) {
    if let Some(s) = v.as_string() {
        out.push(s);
        return;
    }
    if depth > 4 || !(v.is_object() || v.is_function()) {
        return;
    }
    if let Ok(s) = JSON::stringify(v) {
        out.extend(s.as_string());
    }
    let providers_own = |k: &str| {
        k == "cause"
            && get_str(v, "name").as_deref() == Some("GraphError")
            && get_str(v, "code").as_deref() == Some("tokenProvider")
    };
    let names = Object::get_own_property_names(&Object::from(v.clone()));
    for name in names.iter() {
        if name.as_string().is_some_and(|n| providers_own(&n)) {
            continue;
        }
        let value = Reflect::get(v, &name).unwrap_or(JsValue::UNDEFINED);
        texts(&value, depth + 1, out);
    }
    for k in ["message", "stack", "cause", "name"] {
        if !providers_own(k) {
            texts(&get(v, k), depth + 1, out);
        }
    }
}

thread_local! {
    static CHECKED: Cell<u32> = const { Cell::new(0) };
}

/// How many errors were scanned for the token so far.
pub fn scanned() -> u32 {
    CHECKED.with(Cell::get)
}

/// A `GraphError` with `code` whose every field, message, stack and
/// `cause` (recursively) is free of the token, and which is not a wasm trap.
pub fn assert_clean(e: &JsValue, code: &str) {
    assert!(
        get_str(e, "name").as_deref() != Some("RuntimeError"),
        "wasm trapped (a panic): {e:?}"
    );
    support::assert_graph_error(e, code);
    assert_token_free(e);
}

pub fn assert_token_free(v: &JsValue) {
    CHECKED.with(|c| c.set(c.get() + 1));
    let mut all = Vec::new();
    texts(v, 0, &mut all);
    for t in all {
        assert!(!t.contains(TOKEN), "the token leaked into {t:?}");
        // Nor a piece of it (16 bytes: the shortest the scrubber takes for
        // an echo, `protocol::error::scrub`).
        for at in 0..=TOKEN.len() - 16 {
            let piece = &TOKEN[at..at + 16];
            assert!(!t.contains(piece), "a piece of the token, {piece:?}, leaked into {t:?}");
        }
    }
}

/// Wraps `console.log/info/warn/error/debug` (once) to keep what they print.
pub fn spy_console() {
    let f = Function::new_no_args(
        r#"const c = globalThis.console;
        if (c.__gwsSeen) return;
        c.__gwsSeen = [];
        for (const k of ["log", "info", "warn", "error", "debug", "trace"]) {
          const orig = c[k];
          c[k] = function (...args) {
            try {
              c.__gwsSeen.push(args.map((x) => {
                if (typeof x === "string") return x;
                try { return String(x && x.stack || "") + " " + JSON.stringify(x) + " " + String(x); } catch (_) { return String(x); }
              }).join(" "));
            } catch (_) {}
            return orig.apply(this, args);
          };
        }"#,
    );
    f.call0(&JsValue::UNDEFINED).unwrap();
}

/// Asserts nothing printed through the console since `spy_console` holds
/// the token; returns how many lines were checked.
pub fn assert_console_clean() -> u32 {
    let seen = get(&get(&js_sys::global(), "console"), "__gwsSeen");
    let lines = Array::from(&seen);
    for l in lines.iter() {
        let l = l.as_string().unwrap_or_default();
        assert!(!l.contains(TOKEN), "the token was printed: {l}");
    }
    lines.length()
}

/// True in Node (which has `process.versions.node`).
pub fn in_node() -> bool {
    let process = get(&js_sys::global(), "process");
    !process.is_undefined() && !get(&get(&process, "versions"), "node").is_undefined()
}

/// A raw TCP listener in Node (`node:net`) that records every byte it gets
/// and answers nothing: the "foreign host" of the security tests. `None`
/// outside Node.
pub struct Listener {
    handle: JsValue,
    pub port: u16,
}

impl Listener {
    pub async fn start(host: &str) -> Option<Listener> {
        if !in_node() {
            return None;
        }
        let f = Function::new_with_args(
            "host",
            r#"const net = process.getBuiltinModule("node:net");
            const state = { connections: 0, bytes: [], server: null };
            return new Promise((resolve, reject) => {
              const server = net.createServer((sock) => {
                state.connections++;
                sock.on("data", (d) => state.bytes.push(d.toString("latin1")));
                sock.on("error", () => {});
                setTimeout(() => sock.destroy(), 200);
              });
              server.on("error", reject);
              server.listen(0, host, () => { state.server = server; state.port = server.address().port; resolve(state); });
            });"#,
        );
        let p = Promise::from(f.call1(&JsValue::UNDEFINED, &host.into()).ok()?);
        let handle = JsFuture::from(p).await.ok()?;
        let port = get_num(&handle, "port") as u16;
        Some(Listener { handle, port })
    }

    pub fn connections(&self) -> u32 {
        get_num(&self.handle, "connections") as u32
    }

    /// Everything received, as Latin-1 text.
    pub fn received(&self) -> String {
        Array::from(&get(&self.handle, "bytes"))
            .iter()
            .filter_map(|b| b.as_string())
            .collect()
    }

    pub fn close(&self) {
        let server = get(&self.handle, "server");
        let close: Function = get(&server, "close").into();
        let _ = close.call0(&server);
    }
}

/// A non-loopback IPv4 address of this machine (Node only).
pub fn external_ipv4() -> Option<String> {
    if !in_node() {
        return None;
    }
    let f = Function::new_no_args(
        r#"const os = process.getBuiltinModule("node:os");
        for (const list of Object.values(os.networkInterfaces())) {
          for (const a of list || []) if (a.family === "IPv4" && !a.internal) return a.address;
        }
        return null;"#,
    );
    f.call0(&JsValue::UNDEFINED).ok()?.as_string()
}

/// Options against the main emulator with a unique item path and a short
/// per-attempt timeout; `extra` are (key, value) pairs set on top.
pub fn opts(workbook: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let o = support::options(workbook);
    for (k, v) in extra {
        set(&o, k, v.clone());
    }
    o
}
