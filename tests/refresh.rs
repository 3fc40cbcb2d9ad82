//! refreshSession and closeSession against the emulator, in Node and in
//! headless Chromium (the same file; `cargo xtask test` runs both). In
//! Chromium every call is cross-origin, so each success also proves the CORS
//! preflight.
#![cfg(target_arch = "wasm32")]

mod support;

use graph_workbook_session::{close_session_js, refresh_session_js};
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn refresh_answers_204_with_request_id_and_one_attempt() {
    let wb = workbook("ok");
    let id = raw_create_session(&wb, true).await;
    let r = refresh_session_js(session_options(&wb, &id)).await.expect("refresh");
    assert_eq!(get_num(&r, "status"), 204.0);
    assert_eq!(get_num(&r, "attempts"), 1.0);
    assert!(get_str(&r, "requestId").is_some_and(|s| s.len() == 36));
    assert!(get_str(&r, "clientRequestId").is_some_and(|s| s.len() == 36 && &s[14..15] == "4"));
    assert!(get_num(&r, "elapsedMs") >= 0.0);
    let log = requests(&wb).await;
    let last = log.last().unwrap();
    assert_eq!(get_str(last, "operation").as_deref(), Some("refreshSession"));
    assert_eq!(get_str(last, "sessionId").as_deref(), Some(id.as_str()));
    assert_eq!(get_str(last, "clientRequestId"), get_str(&r, "clientRequestId"));
}

#[wasm_bindgen_test]
async fn path_form_with_spaces_and_unicode_reaches_the_same_item() {
    let wb = [
        "/me/drive/root:/My Folder ",
        &js_sys::Math::random().to_string()[2..8],
        "/Bücher 1.xlsx:",
    ]
    .concat();
    let id = raw_create_session(&wb.replace(' ', "%20").replace('ü', "%C3%BC"), true).await;
    let r = refresh_session_js(session_options(&wb, &id))
        .await
        .expect("refresh by path");
    assert_eq!(get_num(&r, "status"), 204.0);
}

#[wasm_bindgen_test]
async fn expired_session_is_recreatable() {
    let wb = workbook("expired");
    let id = raw_create_session(&wb, false).await;
    expire(&id).await;
    let e = refresh_session_js(session_options(&wb, &id)).await.unwrap_err();
    assert_graph_error(&e, EXPIRED);
    // Graph's plain 404 (resources/excel.md): no second-level code, yet
    // the session may be created anew.
    assert_eq!(get_str(&e, "innerCode"), None);
    assert_eq!(get(&e, "recreatable"), JsValue::TRUE);
    assert_eq!(get_num(&e, "status"), 404.0);
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert!(get_str(&e, "requestId").is_some());
}

#[wasm_bindgen_test]
async fn throttled_429_with_retry_after_then_success() {
    let wb = workbook("throttled");
    let id = raw_create_session(&wb, true).await;
    fault(
        &[
            r#"{"operation":"refreshSession","pathContains":""#,
            &wb,
            r#"","status":429,"retryAfter":"1","times":1}"#,
        ]
        .concat(),
    )
    .await;
    let r = refresh_session_js(session_options(&wb, &id))
        .await
        .expect("refresh after throttle");
    assert_eq!(get_num(&r, "attempts"), 2.0);
    assert!(
        get_num(&r, "elapsedMs") >= 1000.0,
        "waited {}",
        get_num(&r, "elapsedMs")
    );
}

#[wasm_bindgen_test]
async fn unavailable_every_time_uses_every_retry_with_one_client_request_id() {
    let wb = workbook("unavailable");
    let id = raw_create_session(&wb, true).await;
    fault(
        &[
            r#"{"pathContains":""#,
            &wb,
            r#"","status":503,"retryAfter":"0","times":0}"#,
        ]
        .concat(),
    )
    .await;
    let o = session_options(&wb, &id);
    set(&o, "maxRetries", 3);
    let e = refresh_session_js(o).await.unwrap_err();
    assert_graph_error(&e, "serviceUnavailable");
    assert_eq!(
        get_str(&e, "innerCode").as_deref(),
        Some("serviceUnavailableUncategorized")
    );
    assert_eq!(get_num(&e, "attempts"), 4.0);
    assert_eq!(get_num(&e, "status"), 503.0);
    assert_eq!(get_num(&e, "retryAfterMs"), 0.0);
    let log = requests(&wb).await;
    let sent: Vec<_> = log
        .iter()
        .filter(|r| get_str(r, "operation").as_deref() == Some("refreshSession"))
        .collect();
    assert_eq!(sent.len(), 4);
    let crid = get_str(&e, "clientRequestId").unwrap();
    for (i, r) in sent.iter().enumerate() {
        assert_eq!(get_str(r, "clientRequestId").as_deref(), Some(crid.as_str()));
        let attempt = get(r, "retryAttempt");
        if i == 0 {
            assert!(attempt.is_null() || attempt.is_undefined());
        } else {
            assert_eq!(attempt.as_string().as_deref(), Some(i.to_string().as_str()));
        }
    }
}

#[wasm_bindgen_test]
async fn server_errors_other_than_503_504_are_not_retried() {
    let wb = workbook("500");
    let id = raw_create_session(&wb, true).await;
    fault(&[r#"{"pathContains":""#, &wb, r#"","status":500,"times":0}"#].concat()).await;
    let e = refresh_session_js(session_options(&wb, &id)).await.unwrap_err();
    assert_graph_error(&e, "internalServerError");
    assert_eq!(
        get_str(&e, "innerCode").as_deref(),
        Some("internalServerErrorUncategorized")
    );
    assert_eq!(get_num(&e, "attempts"), 1.0);
}

#[wasm_bindgen_test]
async fn attempt_timeout_is_retried_then_reported() {
    let wb = workbook("slow");
    let id = raw_create_session(&wb, true).await;
    fault(&[r#"{"pathContains":""#, &wb, r#"","delayMs":3000,"times":0}"#].concat()).await;
    let o = session_options(&wb, &id);
    set(&o, "timeoutMs", 200);
    set(&o, "maxRetries", 1);
    let started = now();
    let e = refresh_session_js(o).await.unwrap_err();
    assert_graph_error(&e, "timeout");
    assert_eq!(get_num(&e, "attempts"), 2.0);
    assert_eq!(get_num(&e, "status"), 0.0);
    assert!(now() - started < 2900.0, "timeouts did not cut the attempts short");
}

#[wasm_bindgen_test]
async fn abort_during_a_backoff_wait_ends_the_call_at_once() {
    let wb = workbook("abort-wait");
    let id = raw_create_session(&wb, true).await;
    fault(
        &[
            r#"{"pathContains":""#,
            &wb,
            r#"","status":429,"retryAfter":"60","times":0}"#,
        ]
        .concat(),
    )
    .await;
    let o = session_options(&wb, &id);
    set(&o, "signal", abort_after(300));
    let started = now();
    let e = refresh_session_js(o).await.unwrap_err();
    assert_graph_error(&e, "aborted");
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert!(now() - started < 5000.0, "abort did not end the wait");
}

#[wasm_bindgen_test]
async fn abort_during_a_request_ends_the_call_at_once() {
    let wb = workbook("abort-request");
    let id = raw_create_session(&wb, true).await;
    fault(&[r#"{"pathContains":""#, &wb, r#"","delayMs":5000,"times":0}"#].concat()).await;
    let o = session_options(&wb, &id);
    set(&o, "signal", abort_after(200));
    let started = now();
    let e = refresh_session_js(o).await.unwrap_err();
    assert_graph_error(&e, "aborted");
    assert!(now() - started < 4000.0);
}

#[wasm_bindgen_test]
async fn token_providers_of_every_shape() {
    let wb = workbook("providers");
    let id = raw_create_session(&wb, true).await;
    let shapes = [
        js_sys::Function::new_with_args("", &["return '", TOKEN, "'"].concat()),
        js_sys::Function::new_with_args("", &["return Promise.resolve('", TOKEN, "')"].concat()),
    ];
    for f in shapes {
        let o = session_options(&wb, &id);
        set(&o, "accessToken", f);
        assert_eq!(
            get_num(&refresh_session_js(o).await.expect("function provider"), "status"),
            204.0
        );
    }
    let provider: JsValue = js_sys::Object::new().into();
    set(
        &provider,
        "getAccessToken",
        js_sys::Function::new_with_args("", &["return Promise.resolve('", TOKEN, "')"].concat()),
    );
    let o = session_options(&wb, &id);
    set(&o, "accessToken", provider);
    assert_eq!(
        get_num(&refresh_session_js(o).await.expect("getAccessToken provider"), "status"),
        204.0
    );
    for body in [
        "throw new Error('no token')",
        "return Promise.reject(new Error('x'))",
        "return 42",
        "return 'a\\nb'",
    ] {
        let o = session_options(&wb, &id);
        set(&o, "accessToken", js_sys::Function::new_no_args(body));
        let e = refresh_session_js(o).await.unwrap_err();
        assert_graph_error(&e, "tokenProvider");
        assert_eq!(get_num(&e, "attempts"), 0.0);
    }
}

#[wasm_bindgen_test]
async fn invalid_options_fail_before_any_request() {
    let wb = workbook("invalid");
    let cases: Vec<(&str, JsValue, &str)> = vec![
        ("sessionId", JsValue::from(5), "invalidArgument"),
        ("sessionId", JsValue::from_str(""), "invalidArgument"),
        ("sessionId", JsValue::from_str("a\r\nX-Evil: 1"), "invalidArgument"),
        ("sessionId", JsValue::UNDEFINED, "invalidArgument"),
        ("workbook", JsValue::from_str("me/drive/items/1"), "invalidArgument"),
        ("workbook", JsValue::from_str("/me/drive/items/../x"), "invalidArgument"),
        ("workbook", JsValue::from_str("/me/drive/items/1?x"), "invalidArgument"),
        ("accessToken", JsValue::NULL, "invalidArgument"),
        ("accessToken", JsValue::from_str("tok\nen"), "invalidArgument"),
        ("baseUrl", JsValue::from_str("not a url"), "invalidArgument"),
        ("baseUrl", JsValue::from_str("http://example.com/v1.0"), "insecureUrl"),
        (
            "baseUrl",
            JsValue::from_str("https://example.com/v1.0"),
            "hostNotAllowed",
        ),
        ("timeoutMs", JsValue::from(f64::NAN), "invalidArgument"),
        ("timeoutMs", JsValue::from_str("100"), "invalidArgument"),
        ("maxRetries", JsValue::from(-1), "invalidArgument"),
        ("maxRetries", JsValue::from(1.5), "invalidArgument"),
        ("clientRequestId", JsValue::from_str("x\0y"), "invalidArgument"),
        ("allowedHosts", JsValue::from_str("example.com"), "invalidArgument"),
        ("signal", JsValue::from_str("abort"), "invalidArgument"),
    ];
    for (key, value, code) in cases {
        let o = session_options(&wb, "cluster=EMU&session=none");
        set(&o, key, value);
        let e = refresh_session_js(o).await.unwrap_err();
        assert_graph_error(&e, code);
        assert_eq!(get_num(&e, "attempts"), 0.0, "{key}");
    }
    for not_an_object in [
        JsValue::NULL,
        JsValue::UNDEFINED,
        JsValue::from(1),
        js_sys::Array::new().into(),
    ] {
        assert_graph_error(&refresh_session_js(not_an_object).await.unwrap_err(), "invalidArgument");
    }
    assert!(requests(&wb).await.is_empty(), "a request was sent for invalid options");
}

#[wasm_bindgen_test]
async fn close_session_ends_the_session() {
    let wb = workbook("close");
    let id = raw_create_session(&wb, true).await;
    let r = close_session_js(session_options(&wb, &id)).await.expect("close");
    assert_eq!(get_num(&r, "status"), 204.0);
    let e = refresh_session_js(session_options(&wb, &id)).await.unwrap_err();
    assert_eq!(get(&e, "recreatable"), JsValue::TRUE);
}
