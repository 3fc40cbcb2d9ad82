//! The Excel error policy and Graph's documented shapes against the strict
//! emulator, in Node and in headless Chromium: `$batch` write requests with
//! body and Content-Type, a 202 createSession through a `resourceLocation`
//! with a query and another version segment, errors read at the second
//! level, cooldowns never cut short, and the codes the doc says not to
//! resend sent once.
#![cfg(target_arch = "wasm32")]

mod support;

use graph_workbook_session::{create_session_js, refresh_session_js, refresh_sessions_js, WorkbookSession};
use js_sys::{Array, Object};
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

fn item(workbook: &str, session_id: &str) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "workbook", workbook);
    set(&o, "sessionId", session_id);
    o
}

fn batch_options() -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "accessToken", TOKEN);
    set(&o, "baseUrl", base_url());
    o
}

fn sent(log: &[JsValue], operation: &str) -> usize {
    log.iter()
        .filter(|r| get_str(r, "operation").as_deref() == Some(operation))
        .count()
}

fn inner_codes(e: &JsValue) -> Vec<String> {
    Array::from(&get(e, "innerCodes"))
        .iter()
        .map(|c| c.as_string().expect("a string code"))
        .collect()
}

#[wasm_bindgen_test]
async fn refresh_sessions_of_three_items_with_one_gone() {
    let (a, b, c) = (workbook("batch-a"), workbook("batch-b"), workbook("batch-c"));
    let id_a = raw_create_session(&a, true).await;
    let id_b = raw_create_session(&b, true).await;
    let id_c = raw_create_session(&c, false).await;
    expire(&id_b).await;
    let items = Array::new();
    for (wb, id) in [(&a, &id_a), (&b, &id_b), (&c, &id_c)] {
        items.push(&item(wb, id));
    }
    let out = Array::from(&refresh_sessions_js(items.into(), batch_options()).await.expect("batch"));
    assert_eq!(out.length(), 3);
    // The strict emulator fails the whole batch with 400 when a write
    // sub-request lacks body or Content-Type: two 204s prove both are sent.
    assert_eq!(get_num(&out.get(0), "status"), 204.0);
    assert_eq!(get_num(&out.get(2), "status"), 204.0);
    let gone = out.get(1);
    assert_graph_error(&gone, EXPIRED);
    assert_eq!(get_num(&gone, "status"), 404.0);
    assert_eq!(get_str(&gone, "innerCode"), None, "the plain 404 of an expired session");
    assert!(get(&gone, "recreatable").as_bool().unwrap());
    assert_eq!(get_num(&gone, "attempts"), 1.0, "a gone session is not resent");
}

#[wasm_bindgen_test]
async fn create_session_202_follows_a_resource_location_with_a_query() {
    let wb = workbook("async-query");
    let o = options(&wb);
    set(&o, "preferAsync", true);
    let s = create_session_js(o).await.expect("202 createSession");
    let id = get_str(&s, "id").expect("id");
    let log = requests(&wb).await;
    let info: Vec<_> = log
        .iter()
        .filter(|r| get_str(r, "path").is_some_and(|p| p.contains("sessionInfoResource")))
        .collect();
    assert_eq!(info.len(), 1, "the resourceLocation was read once");
    assert_eq!(
        get_num(info[0], "status"),
        200.0,
        "sessionInfoResource refuses a URL without ?sessionId="
    );
    assert!(sent(&log, "operation") >= 1, "the operation was polled");
    let r = refresh_session_js(session_options(&wb, &id))
        .await
        .expect("the created session is live");
    assert_eq!(get_num(&r, "status"), 204.0);
}

#[wasm_bindgen_test]
async fn a_three_level_mixed_case_recreatable_error() {
    let wb = workbook("three-levels");
    let id = raw_create_session(&wb, true).await;
    fault(
        &[
            r#"{"pathContains":""#,
            &wb,
            r#"","status":404,"code":"ItemNotFound","innerCodes":["InvalidSessionReCreatable","InvalidOrTimedOutSession"],"times":1}"#,
        ]
        .concat(),
    )
    .await;
    let e = refresh_session_js(session_options(&wb, &id)).await.unwrap_err();
    assert_graph_error(&e, "ItemNotFound");
    assert_eq!(get_str(&e, "innerCode").as_deref(), Some("InvalidSessionReCreatable"));
    assert_eq!(
        inner_codes(&e),
        ["InvalidSessionReCreatable", "InvalidOrTimedOutSession"]
    );
    assert_eq!(get(&e, "recreatable").as_bool(), Some(true));
    assert_eq!(get_num(&e, "attempts"), 1.0);
}

#[wasm_bindgen_test]
async fn a_cooldown_longer_than_max_retry_after_ms_is_reported_whole_without_a_resend() {
    let wb = workbook("cooldown-600");
    let id = raw_create_session(&wb, true).await;
    fault(
        &[
            r#"{"pathContains":""#,
            &wb,
            r#"","status":429,"retryAfter":"600","times":0}"#,
        ]
        .concat(),
    )
    .await;
    let started = now();
    let e = refresh_session_js(session_options(&wb, &id)).await.unwrap_err();
    let ms = now() - started;
    assert_graph_error(&e, "tooManyRequests");
    assert_eq!(
        get_str(&e, "innerCode").as_deref(),
        Some("tooManyRequestsUncategorized")
    );
    assert_eq!(get_num(&e, "retryAfterMs"), 600_000.0, "as Graph sent it, not capped");
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert!(ms < 5_000.0, "ended at once ({ms} ms)");
    assert_eq!(
        sent(&requests(&wb).await, "refreshSession"),
        1,
        "no resend before the cooldown"
    );

    // A caller who will wait that long says so; a short cooldown is waited whole.
    let wb = workbook("cooldown-1");
    let id = raw_create_session(&wb, true).await;
    fault(
        &[
            r#"{"pathContains":""#,
            &wb,
            r#"","status":429,"retryAfter":"1","times":1}"#,
        ]
        .concat(),
    )
    .await;
    let o = session_options(&wb, &id);
    set(&o, "maxRetryAfterMs", 1000);
    let started = now();
    let r = refresh_session_js(o).await.expect("resent after the cooldown");
    assert_eq!(get_num(&r, "attempts"), 2.0);
    assert!(now() - started >= 950.0, "the cooldown was cut short");
}

#[wasm_bindgen_test]
async fn internal_server_error_uncategorized_ends_the_session() {
    let wb = workbook("ise-uncategorized");
    let id = raw_create_session(&wb, true).await;
    fault(
        &[
            r#"{"pathContains":""#,
            &wb,
            r#"","operation":"refreshSession","status":500,"endSession":true,"times":1}"#,
        ]
        .concat(),
    )
    .await;
    let o = session_options(&wb, &id);
    let s = WorkbookSession::attach(o).expect("attach");
    let e = JsFuture::from(s.refresh(JsValue::UNDEFINED)).await.unwrap_err();
    assert_graph_error(&e, "internalServerError");
    assert_eq!(
        get_str(&e, "innerCode").as_deref(),
        Some("internalServerErrorUncategorized")
    );
    assert_eq!(get_num(&e, "attempts"), 1.0, "not resent");
    assert_eq!(s.state(), "lost", "the session is not used again");
    let again = JsFuture::from(s.refresh(JsValue::UNDEFINED)).await.unwrap_err();
    assert_eq!(get_str(&again, "name").as_deref(), Some("GraphError"));
    assert_eq!(
        sent(&requests(&wb).await, "refreshSession"),
        1,
        "nothing sent on a lost session"
    );
}

#[wasm_bindgen_test]
async fn access_conflict_is_sent_once_even_on_a_throttling_status() {
    for (label, status) in [("access-conflict-409", "409"), ("access-conflict-503", "503")] {
        let wb = workbook(label);
        let id = raw_create_session(&wb, true).await;
        fault(
            &[
                r#"{"pathContains":""#,
                &wb,
                r#"","status":"#,
                status,
                r#","code":"conflict","innerCode":"accessConflict","retryAfter":"0","times":0}"#,
            ]
            .concat(),
        )
        .await;
        let o = session_options(&wb, &id);
        set(&o, "maxRetries", 3);
        let e = refresh_session_js(o).await.unwrap_err();
        assert_eq!(get_str(&e, "innerCode").as_deref(), Some("accessConflict"), "{label}");
        assert_eq!(get_num(&e, "attempts"), 1.0, "{label}");
        assert_eq!(sent(&requests(&wb).await, "refreshSession"), 1, "{label}: resent");
    }
}

/// Keep-alive schedules its next refresh no sooner than Graph's cooldown:
/// a 429 with `Retry-After: 2` on a 200 ms keep-alive (retries off, so the
/// call itself does not wait) leaves two seconds between the two refreshes.
#[wasm_bindgen_test]
async fn keep_alive_waits_out_a_cooldown_before_its_next_refresh() {
    let wb = workbook("keepalive-cooldown");
    let id = raw_create_session(&wb, true).await;
    fault(
        &[
            r#"{"operation":"refreshSession","pathContains":""#,
            &wb,
            r#"","status":429,"retryAfter":"2","times":1}"#,
        ]
        .concat(),
    )
    .await;
    let o = session_options(&wb, &id);
    set(&o, "maxRetries", 0);
    let s = WorkbookSession::attach(o).expect("attach");
    let (on_error, errors) = recorder();
    let (on_refresh, refreshes) = recorder();
    let ka: JsValue = Object::new().into();
    set(&ka, "intervalMs", 200);
    set(&ka, "onError", on_error);
    set(&ka, "onRefresh", on_refresh);
    s.keep_alive(ka).expect("keepAlive");
    assert!(
        wait_for(6_000, || !refreshes.borrow().is_empty()).await,
        "no refresh after the cooldown"
    );
    s.stop();
    assert_eq!(errors.borrow().len(), 1, "the throttle is reported once");
    assert_eq!(get_num(&errors.borrow()[0], "retryAfterMs"), 2_000.0);
    let times: Vec<f64> = requests(&wb)
        .await
        .iter()
        .filter(|r| get_str(r, "operation").as_deref() == Some("refreshSession"))
        .map(|r| get_num(r, "timeMs"))
        .collect();
    assert!(times.len() >= 2, "{times:?}");
    assert!(
        times[1] - times[0] >= 1_950.0,
        "the next refresh came {} ms after the throttle",
        times[1] - times[0]
    );
    assert_eq!(s.state(), "active");
}
