//! The session lifecycle against the emulator, in Node and headless
//! Chromium: createSession (201, 202 + polling, failed operation),
//! WorkbookSession (keep-alive across 3× the idle lifetime, expiry without
//! it, recreation, lost, single-flight, memory over many cycles) and
//! refreshSessions through `$batch`.
#![cfg(target_arch = "wasm32")]

mod support;

use graph_workbook_session::{create_session_js, refresh_session_js, refresh_sessions_js, WorkbookSession};
use js_sys::{Array, Promise};
use support::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

#[wasm_bindgen_test]
async fn create_session_201_gives_an_id_graph_knows() {
    let wb = workbook("create201");
    let o = options(&wb);
    set(&o, "persistChanges", false);
    let s = create_session_js(o).await.expect("createSession");
    let id = get_str(&s, "id").unwrap();
    assert_eq!(get(&s, "persistChanges"), JsValue::FALSE);
    let r = refresh_session_js(session_options(&wb, &id))
        .await
        .expect("the new session refreshes");
    assert_eq!(get_num(&r, "status"), 204.0);
    let log = requests(&wb).await;
    assert_eq!(get_str(&log[0], "operation").as_deref(), Some("createSession"));
}

#[wasm_bindgen_test]
async fn create_session_202_polls_the_operation() {
    let wb = workbook("create202");
    let o = options(&wb);
    set(&o, "preferAsync", true);
    let s = create_session_js(o).await.expect("createSession 202");
    let id = get_str(&s, "id").unwrap();
    assert_eq!(get(&s, "persistChanges"), JsValue::TRUE);
    let ops: Vec<String> = requests(&wb)
        .await
        .iter()
        .filter_map(|r| get_str(r, "operation"))
        .collect();
    assert_eq!(ops.first().map(String::as_str), Some("createSession"));
    assert!(ops.iter().any(|o| o == "operation"), "polled: {ops:?}");
    assert_eq!(ops.last().map(String::as_str), Some("sessionInfo"));
    assert_eq!(
        get_str(&requests(&wb).await[0], "prefer").as_deref(),
        Some("respond-async")
    );
    refresh_session_js(session_options(&wb, &id))
        .await
        .expect("the polled session is live");
}

#[wasm_bindgen_test]
async fn a_202_is_handled_even_when_not_asked_for() {
    let wb = workbook("create202unasked");
    let location = raw_create_async(&wb).await;
    let spec = [
        r#"{"operation":"createSession","pathContains":""#,
        &wb,
        r#"","status":202,"body":"","headers":{"location":""#,
        &location,
        r#""}}"#,
    ]
    .concat();
    fault(&spec).await;
    let s = create_session_js(options(&wb))
        .await
        .expect("createSession answered 202");
    assert!(get_str(&s, "id").is_some());
    assert_eq!(
        get_str(requests(&wb).await.last().unwrap(), "operation").as_deref(),
        Some("sessionInfo")
    );
}

/// createSession with `preferAsync` on `wb`, whose operation the emulator
/// fails with the fault fields `rest` (`"status":...,"innerCode":...`).
async fn create_with_failed_operation(wb: &str, rest: &str) -> Result<JsValue, JsValue> {
    fault(
        &[
            r#"{"operation":"createSession","pathContains":""#,
            wb,
            r#"","operationFails":true,"#,
            rest,
            "}",
        ]
        .concat(),
    )
    .await;
    let o = options(wb);
    set(&o, "preferAsync", true);
    create_session_js(o).await
}

#[wasm_bindgen_test]
async fn a_failed_operation_becomes_a_graph_error() {
    let wb = workbook("createfail");
    let e = create_with_failed_operation(
        &wb,
        r#""code":"internalServerError","innerCode":"sessionCreationFailed""#,
    )
    .await
    .unwrap_err();
    assert_graph_error(&e, "internalServerError");
    assert_eq!(get_str(&e, "innerCode").as_deref(), Some("sessionCreationFailed"));
    assert_eq!(get(&e, "recreatable"), JsValue::FALSE);
}

/// workbook-error-handling.md: "For both the long-running operation
/// pattern and the regular pattern", the second-level code decides, and
/// "the failed request is the one that triggers the failed operation": an
/// operation that fails with `transientFailure` sends createSession again
/// after the cooldown (it was final before, while the same code on a 500
/// was resent).
#[wasm_bindgen_test]
async fn a_failed_operation_with_a_transient_code_sends_create_session_again() {
    let wb = workbook("createtransient");
    let s = create_with_failed_operation(
        &wb,
        r#""status":500,"innerCode":"transientFailure","retryAfter":"1","times":1"#,
    )
    .await
    .expect("created on the second createSession");
    assert!(get_str(&s, "id").is_some());
    assert_eq!(
        logged(&wb, "createSession").await.len(),
        2,
        "createSession sent once again"
    );

    // A code that says not to resend is final after one createSession.
    let wb = workbook("createconflict");
    let e = create_with_failed_operation(&wb, r#""status":409,"innerCode":"accessConflict","times":1"#)
        .await
        .unwrap_err();
    assert_eq!(get_str(&e, "innerCode").as_deref(), Some("accessConflict"));
    assert_eq!(logged(&wb, "createSession").await.len(), 1);
}

#[wasm_bindgen_test]
async fn create_timeout_ends_a_slow_operation() {
    let wb = workbook("createslow");
    fault(
        &[
            r#"{"operation":"operation","pathContains":""#,
            &wb,
            r#"","delayMs":5000,"times":0}"#,
        ]
        .concat(),
    )
    .await;
    let o = options(&wb);
    set(&o, "preferAsync", true);
    set(&o, "createTimeoutMs", 1500);
    let started = now();
    let e = create_session_js(o).await.unwrap_err();
    assert_graph_error(&e, "timeout");
    assert!(now() - started < 4000.0);
}

#[wasm_bindgen_test]
async fn kept_alive_session_outlives_three_idle_lifetimes() {
    let wb = workbook("keepalive");
    let s = WorkbookSession::create(short_options(&wb)).await.expect("create");
    let (on_refresh, refreshes) = recorder();
    let ka: JsValue = js_sys::Object::new().into();
    set(&ka, "intervalMs", 400);
    set(&ka, "onRefresh", on_refresh);
    s.keep_alive(ka).expect("keepAlive");
    sleep(SHORT_TTL_MS * 3).await;
    assert_eq!(s.state(), "active");
    assert!(
        refreshes.borrow().len() >= 5,
        "only {} refreshes",
        refreshes.borrow().len()
    );
    assert!(short_sessions()
        .await
        .iter()
        .any(|x| get_str(x, "id").as_deref() == Some(s.id().as_str())));
    let r = settle(s.refresh(JsValue::UNDEFINED))
        .await
        .expect("still valid after 3x the TTL");
    assert_eq!(get_num(&r, "status"), 204.0);
    assert!(s.last_refreshed_at().is_some());
    let closed = settle(s.close(JsValue::UNDEFINED)).await.expect("close");
    assert_eq!(get_num(&closed, "status"), 204.0);
    assert_eq!(s.state(), "closed");
    assert_eq!(
        settle(s.close(JsValue::UNDEFINED)).await.expect("second close"),
        JsValue::NULL
    );
    let n = refreshes.borrow().len();
    sleep(1000).await;
    assert_eq!(refreshes.borrow().len(), n, "keep-alive went on after close");
}

#[wasm_bindgen_test]
async fn without_keep_alive_the_session_expires_and_is_lost() {
    let wb = workbook("expires");
    let s = WorkbookSession::create(short_options(&wb)).await.expect("create");
    sleep(SHORT_TTL_MS + 800).await;
    let e = settle(s.refresh(JsValue::UNDEFINED)).await.unwrap_err();
    assert_graph_error(&e, EXPIRED);
    assert_eq!(get(&e, "recreatable"), JsValue::TRUE);
    assert_eq!(s.state(), "lost");
    assert_graph_error(
        &settle(s.refresh(JsValue::UNDEFINED)).await.unwrap_err(),
        "invalidArgument",
    );
    assert_eq!(
        settle(s.close(JsValue::UNDEFINED))
            .await
            .expect("close of a lost session"),
        JsValue::NULL
    );
}

async fn recreation_case(persist: bool) {
    let wb = workbook(if persist { "recreate-p" } else { "recreate-np" });
    let o = options(&wb);
    set(&o, "persistChanges", persist);
    let s = WorkbookSession::create(o).await.expect("create");
    let old = s.id();
    let (on_recreated, events) = recorder();
    let ka: JsValue = js_sys::Object::new().into();
    set(&ka, "intervalMs", 200);
    set(&ka, "recreate", true);
    set(&ka, "onRecreated", on_recreated);
    s.keep_alive(ka).unwrap();
    fault(
        &[
            r#"{"operation":"refreshSession","pathContains":""#,
            &wb,
            r#"","status":404,"innerCode":"invalidSessionReCreatable"}"#,
        ]
        .concat(),
    )
    .await;
    assert!(wait_for(5000, || !events.borrow().is_empty()).await, "no recreation");
    let event = events.borrow()[0].clone();
    assert_eq!(get_str(&event, "previousId"), Some(old.clone()));
    assert_eq!(get_str(&event, "id"), Some(s.id()));
    assert_ne!(s.id(), old);
    assert_eq!(get(&event, "stateLost"), JsValue::from(!persist));
    assert_eq!(s.state(), "active");
    settle(s.refresh(JsValue::UNDEFINED))
        .await
        .expect("the recreated session refreshes");
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn recreatable_error_recreates_a_non_persistent_session_with_state_lost() {
    recreation_case(false).await;
}

#[wasm_bindgen_test]
async fn recreatable_error_recreates_a_persistent_session_keeping_state() {
    recreation_case(true).await;
}

#[wasm_bindgen_test]
async fn without_recreate_the_session_turns_lost() {
    let wb = workbook("lost");
    let s = WorkbookSession::create(options(&wb)).await.expect("create");
    let (on_lost, lost) = recorder();
    let ka: JsValue = js_sys::Object::new().into();
    set(&ka, "intervalMs", 200);
    set(&ka, "onLost", on_lost);
    s.keep_alive(ka).unwrap();
    expire(&s.id()).await;
    assert!(wait_for(5000, || !lost.borrow().is_empty()).await, "onLost never fired");
    assert_graph_error(&lost.borrow()[0], EXPIRED);
    assert_eq!(s.state(), "lost");
    let n = requests(&wb).await.len();
    sleep(800).await;
    assert_eq!(requests(&wb).await.len(), n, "a lost session kept refreshing");
}

#[wasm_bindgen_test]
async fn refresh_is_single_flight() {
    let wb = workbook("singleflight");
    let s = WorkbookSession::create(options(&wb)).await.expect("create");
    let p1 = s.refresh(JsValue::UNDEFINED);
    let p2 = s.refresh(JsValue::UNDEFINED);
    assert!(
        JsValue::from(p1.clone()) == JsValue::from(p2.clone()),
        "a second refresh did not join the first"
    );
    settle(p1).await.unwrap();
    settle(p2).await.unwrap();
    let refreshes = requests(&wb)
        .await
        .iter()
        .filter(|r| get_str(r, "operation").as_deref() == Some("refreshSession"))
        .count();
    assert_eq!(refreshes, 1);
    settle(s.close(JsValue::UNDEFINED)).await.unwrap();
}

#[wasm_bindgen_test]
async fn invalid_keep_alive_options_throw_graph_errors() {
    let s = WorkbookSession::attach(session_options(&workbook("kaopts"), "cluster=EMU&session=x")).unwrap();
    for (k, v) in [
        ("intervalMs", JsValue::from(-5)),
        ("intervalMs", JsValue::from(0.5)),
        ("recreate", JsValue::from(1)),
        ("onLost", JsValue::from_str("f")),
    ] {
        let o: JsValue = js_sys::Object::new().into();
        set(&o, k, v);
        assert_graph_error(&s.keep_alive(o).unwrap_err(), "invalidArgument");
    }
    s.stop();
    s.stop();
}

#[wasm_bindgen_test]
async fn wasm_memory_stays_flat_over_many_create_close_cycles() {
    let wb = workbook("memory");
    let cycle = || async {
        // One createSession per cycle (no polls): 330 cycles stay quick.
        let o = options(&wb);
        set(&o, "preferAsync", false);
        let s = WorkbookSession::create(o).await.expect("create");
        let ka: JsValue = js_sys::Object::new().into();
        set(&ka, "intervalMs", 60_000);
        s.keep_alive(ka).unwrap();
        settle(s.close(JsValue::UNDEFINED)).await.expect("close");
        drop(s); // free()
    };
    for _ in 0..30 {
        cycle().await;
    }
    let before = wasm_memory_bytes();
    for _ in 0..300 {
        cycle().await;
    }
    let after = wasm_memory_bytes();
    assert!(
        after - before <= 65536.0,
        "wasm memory grew {} bytes over 300 cycles",
        after - before
    );
    assert!(sessions()
        .await
        .iter()
        .all(|x| !get_str(x, "item").unwrap_or_default().contains("memory")));
}

fn batch_items(sessions: &[(String, String)]) -> JsValue {
    let arr = Array::new();
    for (wb, id) in sessions {
        let item: JsValue = js_sys::Object::new().into();
        set(&item, "workbook", wb.as_str());
        set(&item, "sessionId", id.as_str());
        arr.push(&item);
    }
    arr.into()
}

fn batch_options() -> JsValue {
    let o: JsValue = js_sys::Object::new().into();
    set(&o, "accessToken", TOKEN);
    set(&o, "baseUrl", base_url());
    o
}

async fn batch_requests() -> usize {
    requests("$batch")
        .await
        .iter()
        .filter(|r| get_str(r, "operation").as_deref() == Some("batch"))
        .count()
}

#[wasm_bindgen_test]
async fn refresh_sessions_batches_45_in_3_requests_and_retries_a_throttled_item() {
    let tag = workbook("batch");
    let mut items = Vec::new();
    for i in 0..45 {
        let wb = [tag.as_str(), "-", &i.to_string()].concat();
        let id = raw_create_session(&wb, true).await;
        items.push((wb, id));
    }
    let before = batch_requests().await;
    let out = Array::from(
        &refresh_sessions_js(batch_items(&items), batch_options())
            .await
            .expect("batch"),
    );
    assert_eq!(out.length(), 45);
    for r in out.iter() {
        assert_eq!(get_num(&r, "status"), 204.0, "{:?}", get_str(&r, "message"));
    }
    assert_eq!(
        batch_requests().await - before,
        3,
        "45 refreshes must take 3 $batch requests"
    );

    let throttled = [items[7].0.as_str(), "/"].concat();
    fault(
        &[
            r#"{"operation":"refreshSession","pathContains":""#,
            &throttled,
            r#"","status":429,"retryAfter":"1","times":1}"#,
        ]
        .concat(),
    )
    .await;
    items[44].1 = "cluster=EMU&session=unknown".into();
    let before = batch_requests().await;
    let out = Array::from(
        &refresh_sessions_js(batch_items(&items), batch_options())
            .await
            .expect("batch"),
    );
    assert_eq!(get_num(&out.get(7), "status"), 204.0);
    assert_eq!(get_num(&out.get(7), "attempts"), 2.0);
    assert_eq!(get_num(&out.get(8), "attempts"), 1.0);
    assert_graph_error(&out.get(44), EXPIRED);
    assert_eq!(get(&out.get(44), "recreatable"), JsValue::TRUE);
    assert_eq!(
        batch_requests().await - before,
        4,
        "3 batches and one retry of the throttled item"
    );
}

#[wasm_bindgen_test]
async fn refresh_sessions_reports_bad_items_in_place_without_sending_them() {
    let wb = workbook("batchbad");
    let id = raw_create_session(&wb, true).await;
    let items = batch_items(&[
        (wb.clone(), id),
        ("relative/path".into(), "s".into()),
        (wb.clone(), "bad\nid".into()),
    ]);
    let out = Array::from(&refresh_sessions_js(items, batch_options()).await.expect("batch"));
    assert_eq!(get_num(&out.get(0), "status"), 204.0);
    assert_graph_error(&out.get(1), "invalidArgument");
    assert_graph_error(&out.get(2), "invalidArgument");
    assert_graph_error(
        &refresh_sessions_js(JsValue::from(3), batch_options())
            .await
            .unwrap_err(),
        "invalidArgument",
    );
}

#[wasm_bindgen_test]
async fn a_close_retry_that_finds_the_session_gone_resolves() {
    use graph_workbook_session::close_session_js;
    let wb = workbook("closeretry");
    let id = raw_create_session(&wb, true).await;
    // The first attempt's answer is "lost" (a 503 stands in for a timeout
    // after the server closed the session); the retry finds it gone.
    close_session_js(session_options(&wb, &id)).await.expect("first close");
    fault(
        &[
            r#"{"operation":"closeSession","pathContains":""#,
            &wb,
            r#"","status":503,"retryAfter":"0","times":1}"#,
        ]
        .concat(),
    )
    .await;
    let r = close_session_js(session_options(&wb, &id))
        .await
        .expect("the retry's 404 means closed");
    assert_eq!(get_num(&r, "status"), 404.0);
    assert_eq!(get_num(&r, "attempts"), 2.0);
    // Without a retry, a 404 is an expired session: an error.
    let e = close_session_js(session_options(&wb, &id)).await.unwrap_err();
    assert_graph_error(&e, EXPIRED);
}

/// Issue 23, point 3: `JSON.stringify(session)` gives what `attach` needs
/// (never the token, never wasm-bindgen's pointer); the resumed session
/// refreshes the same Graph session.
#[wasm_bindgen_test]
async fn a_saved_session_resumes_through_json_and_attach_on_the_same_graph_session() {
    let dir = ["saved-", &js_sys::Math::random().to_string()[2..10]].concat();
    // A path form with a space: saved as given, not percent-encoded.
    let wb = ["/me/drive/root:/", &dir, "/Budget 2026.xlsx:"].concat();
    let o = options(&wb);
    set(&o, "persistChanges", false);
    set(&o, "preferAsync", false);
    let s = WorkbookSession::create_js(o).await.expect("create");
    let id = get_str(&s, "id").unwrap();
    assert_eq!(get_str(&s, "workbook").as_deref(), Some(wb.as_str()));
    assert_eq!(get_str(&s, "baseUrl"), Some(base_url()));
    let text = String::from(js_sys::JSON::stringify(&s).unwrap());
    assert!(!text.contains(TOKEN) && !text.contains("__wbg_ptr"), "{text}");
    let saved = js_sys::JSON::parse(&text).unwrap();
    let keys: Vec<String> = js_sys::Object::keys(saved.unchecked_ref::<js_sys::Object>())
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    assert_eq!(keys, ["workbook", "sessionId", "persistChanges", "baseUrl"], "{text}");
    assert_eq!(get_str(&saved, "workbook").as_deref(), Some(wb.as_str()));
    assert_eq!(get_str(&saved, "sessionId").as_deref(), Some(id.as_str()));
    assert_eq!(get(&saved, "persistChanges"), JsValue::FALSE);
    assert_eq!(get_str(&saved, "baseUrl"), Some(base_url()));

    // `WorkbookSession.attach({ ...saved, accessToken })`.
    let resume = js_sys::Object::assign(&js_sys::Object::new(), saved.unchecked_ref());
    set(&resume, "accessToken", TOKEN);
    let resumed = WorkbookSession::attach_js(resume.into()).expect("attach");
    assert_eq!(get_str(&resumed, "id").as_deref(), Some(id.as_str()));
    assert_eq!(get(&resumed, "persistChanges"), JsValue::FALSE);
    assert_eq!(
        String::from(js_sys::JSON::stringify(&resumed).unwrap()),
        text,
        "the resumed session saves the same"
    );
    let refresh: js_sys::Function = get(&resumed, "refresh").into();
    let r = settle(refresh.call0(&resumed).unwrap().into())
        .await
        .expect("the resumed session refreshes");
    assert_eq!(get_num(&r, "status"), 204.0);
    let refreshes = logged(&dir, "refreshSession").await;
    assert_eq!(refreshes.len(), 1);
    assert_eq!(get_str(&refreshes[0], "sessionId").as_deref(), Some(id.as_str()));
    assert_eq!(logged(&dir, "createSession").await.len(), 1, "no second session");
    let close: js_sys::Function = get(&resumed, "close").into();
    settle(close.call0(&resumed).unwrap().into()).await.expect("close");
    // A saved id that is no header value is refused by attach, nothing sent.
    let bad = js_sys::Object::assign(&js_sys::Object::new(), saved.unchecked_ref());
    set(&bad, "accessToken", TOKEN);
    set(&bad, "sessionId", "abc\u{100}def");
    let e = WorkbookSession::attach_js(bad.into()).expect_err("refused");
    assert_graph_error(&e, "invalidArgument");
    assert_eq!(logged(&dir, "refreshSession").await.len(), 1, "nothing sent");
}

/// Issue 23, point 5: no synchronous disposer that frees a session without
/// closing it: `Symbol.dispose` is absent (a `using` declaration throws a
/// TypeError, and is a type error), `Symbol.asyncDispose` closes.
#[wasm_bindgen_test]
async fn a_session_has_no_synchronous_dispose_and_its_async_dispose_closes() {
    let wb = workbook("no-sync-dispose");
    let s = WorkbookSession::create_js(options(&wb)).await.expect("create");
    let has = |key: &str| -> Option<bool> {
        let symbol = js_sys::Function::new_no_args(&["return Symbol.", key].concat())
            .call0(&JsValue::NULL)
            .ok()?;
        symbol.is_symbol().then(|| js_sys::Reflect::has(&s, &symbol).unwrap())
    };
    if let Some(has_dispose) = has("dispose") {
        assert!(!has_dispose, "a WorkbookSession must not have Symbol.dispose");
    }
    if let Some(has_async) = has("asyncDispose") {
        assert!(has_async, "await using closes the session");
    }
    let id = get_str(&s, "id").unwrap();
    let close: js_sys::Function = get(&s, "close").into();
    settle(close.call0(&s).unwrap().into()).await.expect("close");
    assert_eq!(logged(&wb, "closeSession").await.len(), 1);
    assert!(!sessions()
        .await
        .iter()
        .any(|x| get_str(x, "id").as_deref() == Some(id.as_str())));
}

/// Issue 22, point 6: a `$batch` answer whose id is past every item
/// (`"4294967296"`, which `as usize` made item 0 on wasm32) answers no
/// item: item 0 has no answer and is `invalidResponse`, not refreshed.
#[wasm_bindgen_test]
async fn a_batch_answer_id_past_the_items_is_not_credited_to_item_0() {
    let answers = js_sys::Function::new_no_args(
        r#"return async () => new Response(JSON.stringify({ responses: [
              { id: "4294967296", status: 204, headers: {} },
              { id: "18446744073709551616", status: 204, headers: {} } ] }),
            { status: 200, headers: { "content-type": "application/json" } });"#,
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let o = batch_options();
    set(&o, "fetch", answers);
    set(&o, "maxRetries", 0);
    let items = batch_items(&[(workbook("batch-ids"), "s0".into())]);
    let out = Array::from(&refresh_sessions_js(items, o).await.expect("batch"));
    assert_eq!(out.length(), 1);
    let first = out.get(0);
    assert_eq!(get_str(&first, "name").as_deref(), Some("GraphError"), "{first:?}");
    assert_graph_error(&first, "invalidResponse");
}
