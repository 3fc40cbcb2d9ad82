//! The `serde` feature: the Rust API's options and results round-trip
//! through `JsValue` with serde-wasm-bindgen, and through a JSON string (what
//! KV and Durable Object storage hold), under the JS option names; the token
//! and the signal are never written. In Node (`cargo xtask test`, with
//! `--features serde`), against the emulator.
#![cfg(all(feature = "serde", target_arch = "wasm32"))]

mod support;

use graph_workbook_session::{refresh_session, AbortSignal, Options, RefreshOptions, Refreshed};
use js_sys::{Object, JSON};
use serde::Serialize as _;
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

fn full_options() -> Options {
    let signal: AbortSignal = web_sys::AbortController::new().expect("AbortController").signal();
    Options {
        workbook: "/me/drive/root:/Folder/Book 1.xlsx:".into(),
        access_token: TOKEN.into(),
        base_url: Some("https://graph.microsoft.com/beta".into()),
        timeout_ms: Some(5_000),
        max_retries: Some(0),
        max_retry_after_ms: Some(60_000),
        client_request_id: Some("1b4e28ba-2fa1-41d2-883f-0016d3cca427".into()),
        allowed_hosts: vec!["graph.example.test".into()],
        signal: Some(signal),
    }
}

fn keys(v: &JsValue) -> Vec<String> {
    let mut k: Vec<String> = Object::keys(&Object::from(v.clone()))
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    k.sort();
    k
}

/// To a JSON string and back, as a value kept in KV storage.
fn through_json(v: &JsValue) -> JsValue {
    let stored = JSON::stringify(v).expect("stringify");
    JSON::parse(&String::from(stored)).expect("parse")
}

#[wasm_bindgen_test]
fn options_use_the_js_names_and_leave_out_the_token_and_the_signal() {
    let v = serde_wasm_bindgen::to_value(&full_options()).expect("serialize");
    assert_eq!(
        keys(&v),
        [
            "allowedHosts",
            "baseUrl",
            "clientRequestId",
            "maxRetries",
            "maxRetryAfterMs",
            "timeoutMs",
            "workbook"
        ]
    );
    let text = String::from(JSON::stringify(&v).unwrap());
    assert!(!text.contains(TOKEN), "the token was serialized: {text}");

    let back: Options = serde_wasm_bindgen::from_value(through_json(&v)).expect("deserialize");
    let o = full_options();
    assert_eq!(back.workbook, o.workbook);
    assert_eq!(back.base_url, o.base_url);
    assert_eq!(back.timeout_ms, o.timeout_ms);
    assert_eq!(back.max_retries, o.max_retries);
    assert_eq!(back.max_retry_after_ms, o.max_retry_after_ms);
    assert_eq!(back.client_request_id, o.client_request_id);
    assert_eq!(back.allowed_hosts, o.allowed_hosts);
    assert_eq!(back.access_token, "");
    assert!(back.signal.is_none());
}

#[wasm_bindgen_test]
fn a_stored_token_is_read_when_the_app_chose_to_store_it() {
    let v = serde_wasm_bindgen::to_value(&Options::new("/me/drive/items/01ABC", TOKEN)).unwrap();
    set(&v, "accessToken", TOKEN);
    let back: Options = serde_wasm_bindgen::from_value(v).expect("deserialize");
    assert_eq!(back.access_token, TOKEN);
    // Only the workbook is required; every other field has its default.
    let minimal = JSON::parse(r#"{"workbook":"/me/drive/items/01ABC"}"#).unwrap();
    let back: Options = serde_wasm_bindgen::from_value(minimal).expect("deserialize minimal");
    assert_eq!(back.workbook, "/me/drive/items/01ABC");
    assert!(back.allowed_hosts.is_empty() && back.base_url.is_none() && back.access_token.is_empty());
}

#[wasm_bindgen_test]
fn refreshed_round_trips_as_the_js_refresh_result() {
    for request_id in [Some("5e8b6c1a-0000-4000-8000-000000000001".to_string()), None] {
        let r = Refreshed {
            status: 204,
            request_id: request_id.clone(),
            client_request_id: "1b4e28ba-2fa1-41d2-883f-0016d3cca427".into(),
            attempts: 2,
            elapsed_ms: 12.5,
        };
        // json_compatible: `None` becomes `null`, as in the JS RefreshResult.
        let v = r.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap();
        assert_eq!(
            keys(&v),
            ["attempts", "clientRequestId", "elapsedMs", "requestId", "status"]
        );
        let back: Refreshed = serde_wasm_bindgen::from_value(through_json(&v)).expect("deserialize");
        assert_eq!(back.status, 204);
        assert_eq!(back.request_id, request_id);
        assert_eq!(back.client_request_id, r.client_request_id);
        assert_eq!(back.attempts, 2);
        assert_eq!(back.elapsed_ms, 12.5);
    }
}

#[wasm_bindgen_test]
async fn stored_refresh_options_refresh_once_the_token_is_set_again() {
    let wb = workbook("serde");
    let id = raw_create_session(&wb, true).await;
    let mut o = Options::new(&wb, TOKEN);
    o.base_url = Some(base_url());
    let stored = serde_wasm_bindgen::to_value(&RefreshOptions {
        options: o,
        session_id: id.clone(),
    })
    .unwrap();
    assert_eq!(keys(&stored), ["options", "sessionId"]);
    assert_eq!(get_str(&stored, "sessionId").as_deref(), Some(id.as_str()));
    assert_eq!(
        get_str(&get(&stored, "options"), "workbook").as_deref(),
        Some(wb.as_str())
    );

    let mut loaded: RefreshOptions = serde_wasm_bindgen::from_value(through_json(&stored)).expect("deserialize");
    assert_eq!(loaded.session_id, id);
    // Without its token, the call fails before any request.
    let e = refresh_session(&loaded).await.expect_err("no token");
    assert_eq!(e.code().as_str(), "invalidArgument");
    assert_eq!(e.attempts(), 0);

    loaded.options.access_token = TOKEN.into();
    let r = refresh_session(&loaded).await.expect("refresh");
    assert_eq!(r.status, 204);
    assert_eq!(r.attempts, 1);
}
