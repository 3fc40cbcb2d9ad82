//! JavaScript scenarios for the wasm tests: the inside of an async
//! function, run through `new Function` with a prelude of helpers, driving
//! the JS `WorkbookSession` class and the function exports as callers hold
//! them (their objects, callbacks and signals).

use graph_workbook_session::{
    close_session_js, create_session_js, refresh_session_js, refresh_sessions_js, WorkbookSession,
};
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::*;

/// Helpers every scenario gets: `sleep`, `fault`, `requests`, `sessions`,
/// `until`, `gc`, `assert`, `opts` (call options for a fresh workbook), the
/// `WorkbookSession` class and the function exports.
const PRELUDE: &str = r#"
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const control = async (method, path, body) => {
  const r = await fetch(EMU + path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const t = await r.text();
  return t ? JSON.parse(t) : null;
};
const fault = (spec) => control("POST", "/_emulator/faults", spec);
const requests = async (needle) => (await control("GET", "/_emulator/requests?pathContains=" + encodeURIComponent(needle))).requests;
const ops = async (needle, op) => (await requests(needle)).filter((r) => r.operation === op);
const sessions = async (needle) => (await control("GET", "/_emulator/sessions")).sessions.filter((s) => s.item.includes(needle));
const until = async (ms, cond) => { const end = Date.now() + ms; while (!(await cond())) { if (Date.now() > end) return false; await sleep(25); } return true; };
const assert = (c, why) => { if (!c) throw new Error("assertion failed: " + why); };
const gc = async () => {
  if (typeof globalThis.gc === "function") { globalThis.gc(); return true; }
  if (typeof process !== "undefined" && process.versions && process.versions.node) {
    const v8 = await import("node:v8"); const vm = await import("node:vm");
    v8.setFlagsFromString("--expose-gc");
    vm.runInNewContext("gc")(); return true;
  }
  let junk = []; for (let i = 0; i < 64; i++) junk.push(new ArrayBuffer(4 << 20)); junk = null; return false;
};
const collect = async () => { for (let i = 0; i < 4; i++) { await gc(); await sleep(50); } };
const opts = (name, extra) => ({ workbook: "/me/drive/items/" + name + "-" + Math.random().toString(36).slice(2, 10), accessToken: TOKEN, baseUrl: EMU + "/v1.0", ...extra });
"#;

fn class_and_exports() -> JsValue {
    let s = WorkbookSession::attach_js(session_options(
        "/me/drive/items/classprobe",
        "cluster=EMU&session=probe",
    ))
    .expect("attach");
    let class = get(&s, "constructor");
    let o: JsValue = Object::new().into();
    set(&o, "WorkbookSession", class);
    o
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Function, variadic)]
    fn make_function(args: &[JsValue]) -> Function;
}

/// Runs `body` (the inside of an async function) with the prelude; resolves
/// to its value, or fails the test with its error.
pub async fn scenario(body: &str) -> JsValue {
    let exports = class_and_exports();
    let fns: JsValue = Object::new().into();
    set(
        &fns,
        "refreshSession",
        Closure::<dyn Fn(JsValue) -> Promise>::new(|o| wasm_bindgen_futures::future_to_promise(refresh_session_js(o)))
            .into_js_value(),
    );
    set(
        &fns,
        "closeSession",
        Closure::<dyn Fn(JsValue) -> Promise>::new(|o| wasm_bindgen_futures::future_to_promise(close_session_js(o)))
            .into_js_value(),
    );
    set(
        &fns,
        "createSession",
        Closure::<dyn Fn(JsValue) -> Promise>::new(|o| wasm_bindgen_futures::future_to_promise(create_session_js(o)))
            .into_js_value(),
    );
    set(
        &fns,
        "refreshSessions",
        Closure::<dyn Fn(JsValue, JsValue) -> Promise>::new(|i, o| {
            wasm_bindgen_futures::future_to_promise(refresh_sessions_js(i, o))
        })
        .into_js_value(),
    );
    let src = [
        PRELUDE,
        "const { refreshSession, closeSession, createSession, refreshSessions } = FNS;\n",
        "return (async () => {\n",
        body,
        "\n})();",
    ]
    .concat();
    let f = make_function(&[
        "EMU".into(),
        "TOKEN".into(),
        "WorkbookSession".into(),
        "FNS".into(),
        "GraphErrorCheck".into(),
        src.into(),
    ]);
    let args = Array::of5(
        &emulator().into(),
        &TOKEN.into(),
        &get(&exports, "WorkbookSession"),
        &fns,
        &JsValue::UNDEFINED,
    );
    let p: Promise = Reflect::apply(&f, &JsValue::UNDEFINED, &args)
        .expect("scenario compiles")
        .into();
    match JsFuture::from(p).await {
        Ok(v) => v,
        Err(e) => panic!(
            "scenario failed: {}\n{}",
            get_str(&e, "message").unwrap_or_else(|| format!("{e:?}")),
            get_str(&e, "stack").unwrap_or_default()
        ),
    }
}
