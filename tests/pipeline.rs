//! The pipeline (issues 20 and 21), in Node and headless Chromium against
//! the emulator: one decision function for every request kind, one line per
//! session whose cooldown holds every request on it, one request at a time
//! per workbook across its sessions, createSession under
//! the same policy, the poll floor, one set of tokens per call, and the
//! special cases of workbook-error-handling.md and resources/excel.md.
#![cfg(target_arch = "wasm32")]

mod hardening;
mod support;

use graph_workbook_session::{create_session_js, refresh_session_js, WorkbookSession};
use hardening::*;
use js_sys::{Function, Object, Promise};
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

/// `{"pathContains":wb, ...parts}`.
async fn fault_on(wb: &str, parts: &[&str]) {
    let mut all = vec![js("pathContains", wb)];
    all.extend(parts.iter().map(|p| p.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    fault_json(&refs).await;
}

/// A session made with one createSession (no polls), its options tweaked.
async fn session(wb: &str, tweak: &[(&str, JsValue)]) -> WorkbookSession {
    let o = options(wb);
    set(&o, "preferAsync", false);
    for (k, v) in tweak {
        set(&o, k, v.clone());
    }
    WorkbookSession::create(o).await.expect("create")
}

fn keep_alive(s: &WorkbookSession, interval_ms: u32, recreate: bool) -> std::rc::Rc<std::cell::RefCell<Vec<JsValue>>> {
    let (on_recreated, seen) = recorder();
    let ka: JsValue = Object::new().into();
    set(&ka, "intervalMs", interval_ms);
    set(&ka, "recreate", recreate);
    set(&ka, "onRecreated", on_recreated);
    s.keep_alive(ka).expect("keepAlive");
    seen
}

fn range(address: &str) -> String {
    ["/worksheets('Sheet1')/range(address='", address, "')"].concat()
}

fn patch(values: &str) -> JsValue {
    let init: JsValue = Object::new().into();
    set(&init, "method", "PATCH");
    set(&init, "body", ["{\"values\":", values, "}"].concat());
    init
}

/// workbook-best-practice.md, "Throttling and concurrency": for each
/// workbook, the next request only after the current one answered, also
/// across sessions (concurrent sessions cause merge conflicts). Two
/// sessions on one workbook share its queue; a `concurrent` fetch skips it.
#[wasm_bindgen_test]
async fn two_sessions_on_one_workbook_send_one_request_at_a_time() {
    let wb = workbook("one-per-workbook");
    let a = session(&wb, &[]).await;
    let b = session(&wb, &[]).await;
    // The first request alone is slow, whichever reaches the emulator first
    // (in Chromium each goes after a CORS preflight of its own).
    let first = [wb.as_str(), "/workbook", &range("B2")].concat();
    fault_json(&[
        &js("pathContains", &first),
        r#""operation":"range","delayMs":800,"times":1"#,
    ])
    .await;
    let slow = a.fetch(range("B2").into(), JsValue::UNDEFINED);
    let next = b.fetch(range("C3").into(), JsValue::UNDEFINED);
    let init: JsValue = Object::new().into();
    set(&init, "concurrent", true);
    let beside = b.fetch(range("D4").into(), init);
    for p in [slow, next, beside] {
        assert_eq!(get_num(&settle(p).await.expect("answered"), "status"), 200.0);
    }
    let ranges = logged(&wb, "range").await;
    let at = |cell: &str| {
        let r = ranges
            .iter()
            .find(|r| get_str(r, "path").is_some_and(|p| p.contains(cell)))
            .unwrap_or_else(|| panic!("{cell} was sent"));
        get_num(r, "timeMs")
    };
    // The delayed request is logged when it is answered.
    let (answered, next, beside) = (at("B2"), at("C3"), at("D4"));
    assert!(
        next >= answered,
        "the other session's fetch went out {} ms before the first was answered",
        answered - next
    );
    assert!(
        beside < answered - 400.0,
        "a concurrent fetch is not held ({} ms before)",
        answered - beside
    );
}

/// workbook-error-handling.md, "Error recovery cooldown": no follow-up
/// requests before the cooldown passes; workbook-best-practice.md:
/// "delaying similar requests". A `Retry-After` one session got holds the
/// other sessions of its workbook too, also once the call that got it has
/// ended (its cooldown longer than it may wait): before, the other
/// session's fetch went out at once.
#[wasm_bindgen_test]
async fn a_cooldown_one_session_got_holds_the_other_sessions_of_its_workbook() {
    let wb = workbook("workbook-cooldown");
    let a = session(&wb, &[("maxRetries", 0.into()), ("maxRetryAfterMs", 1000.into())]).await;
    let b = session(&wb, &[]).await;
    fault_on(&wb, &[r#""operation":"range","status":429,"retryAfter":"2","times":1"#]).await;
    let e = settle(a.fetch(range("A1").into(), JsValue::UNDEFINED))
        .await
        .expect_err("429, longer than a may wait");
    assert_clean(&e, "tooManyRequests");
    let r = settle(b.fetch(range("B1").into(), JsValue::UNDEFINED))
        .await
        .expect("b's fetch, after the workbook's cooldown");
    assert_eq!(get_num(&r, "status"), 200.0);
    let ranges = logged(&wb, "range").await;
    assert_eq!(ranges.len(), 2);
    let waited = get_num(&ranges[1], "timeMs") - get_num(&ranges[0], "timeMs");
    assert!(
        waited >= 1900.0,
        "b's fetch went {waited} ms after a 2 s cooldown on its workbook"
    );
    // Another workbook is not held.
    let other = workbook("workbook-cooldown-other");
    let c = session(&other, &[]).await;
    let started = now();
    settle(c.fetch(range("C1").into(), JsValue::UNDEFINED))
        .await
        .expect("c");
    assert!(now() - started < 1500.0, "another workbook's session is not held");
    for s in [a, b, c] {
        settle(s.close(JsValue::UNDEFINED)).await.expect("close");
    }
}

/// Issue 20, first bullet: a `Retry-After` on one `session.fetch` holds
/// the next one too (and keep-alive): no follow-up before it passes.
#[wasm_bindgen_test]
async fn a_cooldown_from_one_fetch_holds_the_next_fetch_and_keep_alive() {
    let wb = workbook("line-cooldown");
    let s = session(&wb, &[("maxRetries", 0.into())]).await;
    fault_on(&wb, &[r#""operation":"range","status":429,"retryAfter":"3","times":1"#]).await;
    let first = s.fetch(range("A1").into(), JsValue::UNDEFINED);
    let second = s.fetch(range("A2").into(), JsValue::UNDEFINED);
    // Keep-alive would refresh every 100 ms: the cooldown holds it too.
    keep_alive(&s, 100, false);
    let e = settle(first).await.expect_err("429, maxRetries 0");
    assert_clean(&e, "tooManyRequests");
    assert_eq!(get_num(&e, "retryAfterMs"), 3000.0);
    let r = settle(second).await.expect("sent after the cooldown");
    assert_eq!(get_num(&r, "status"), 200.0);
    let ranges = logged(&wb, "range").await;
    assert_eq!(ranges.len(), 2, "each fetch sent once");
    let throttled_at = get_num(&ranges[0], "timeMs");
    let next_at = get_num(&ranges[1], "timeMs");
    assert!(
        next_at - throttled_at >= 2900.0,
        "the second fetch went {} ms after a 3 s cooldown",
        next_at - throttled_at
    );
    let early_refreshes = logged(&wb, "refreshSession")
        .await
        .iter()
        .filter(|r| get_num(r, "timeMs") < throttled_at + 2900.0)
        .count();
    assert_eq!(early_refreshes, 0, "keep-alive waited out the cooldown");
    s.stop();
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// A cooldown longer than `maxRetryAfterMs` ends the next request unsent.
#[wasm_bindgen_test]
async fn a_cooldown_longer_than_max_retry_after_fails_the_next_fetch_unsent() {
    let wb = workbook("line-too-long");
    let s = session(&wb, &[("maxRetries", 0.into()), ("maxRetryAfterMs", 1000.into())]).await;
    fault_on(&wb, &[r#""operation":"range","status":429,"retryAfter":"5","times":1"#]).await;
    let e = settle(s.fetch(range("A1").into(), JsValue::UNDEFINED))
        .await
        .expect_err("429");
    assert_clean(&e, "tooManyRequests");
    let started = now();
    let e = settle(s.fetch(range("A2").into(), JsValue::UNDEFINED))
        .await
        .expect_err("held longer than it may wait");
    assert_clean(&e, "tooManyRequests");
    assert!(now() - started < 1000.0, "failed at once");
    assert_eq!(get_num(&e, "attempts"), 0.0, "nothing sent");
    assert!(get_num(&e, "retryAfterMs") > 3000.0);
    assert_eq!(logged(&wb, "range").await.len(), 1);
    // close() waits for the line too: once the cooldown has passed it goes.
    sleep(4200).await;
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
    let closes = logged(&wb, "closeSession").await;
    let ranges = logged(&wb, "range").await;
    assert!(get_num(&closes[0], "timeMs") - get_num(&ranges[0], "timeMs") >= 4900.0);
}

/// Issue 20, second bullet: createSession under the Excel policy.
#[wasm_bindgen_test]
async fn create_session_429_with_a_long_retry_after_is_rejected_at_once() {
    let wb = workbook("create-429");
    fault_on(
        &wb,
        &[r#""operation":"createSession","status":429,"retryAfter":"300","times":1"#],
    )
    .await;
    let started = now();
    let e = create_session_js(options(&wb)).await.expect_err("429");
    assert_clean(&e, "tooManyRequests");
    assert!(now() - started < 5000.0, "rejected at once, not waited out");
    assert_eq!(get_num(&e, "retryAfterMs"), 300_000.0, "as Graph sent it");
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert_eq!(logged(&wb, "createSession").await.len(), 1);
}

#[wasm_bindgen_test]
async fn create_session_504_request_aborted_is_sent_once() {
    let wb = workbook("create-504");
    fault_on(
        &wb,
        &[r#""operation":"createSession","status":504,"innerCode":"requestAborted","times":0"#],
    )
    .await;
    let e = create_session_js(options(&wb)).await.expect_err("504");
    assert_clean(&e, "gatewayTimeout");
    assert_eq!(get_str(&e, "innerCode").as_deref(), Some("requestAborted"));
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert_eq!(logged(&wb, "createSession").await.len(), 1);
}

#[wasm_bindgen_test]
async fn create_session_500_transient_failure_is_resent_after_its_cooldown() {
    let wb = workbook("create-500");
    fault_on(
        &wb,
        &[r#""operation":"createSession","status":500,"innerCode":"transientFailure","retryAfter":"1","times":1"#],
    )
    .await;
    let r = create_session_js(options(&wb)).await.expect("resent");
    assert!(get_str(&r, "id").is_some());
    let creates = logged(&wb, "createSession").await;
    assert_eq!(creates.len(), 2);
    let gap = get_num(&creates[1], "timeMs") - get_num(&creates[0], "timeMs");
    assert!(gap >= 1000.0, "resent {gap} ms after a 1 s cooldown");
    assert_eq!(get_str(&creates[1], "retryAttempt").as_deref(), Some("1"));
}

/// Issue 20, third bullet: the poll floor.
#[wasm_bindgen_test]
async fn a_running_operation_with_retry_after_0_is_polled_at_most_once_a_second() {
    let wb = workbook("poll-floor");
    fault_on(
        &wb,
        &[
            r#""operation":"operation","status":200,"retryAfter":"0","times":0"#,
            &js("body", r#"{"id":"op","status":"running"}"#),
        ],
    )
    .await;
    let o = options(&wb);
    set(&o, "createTimeoutMs", 3000);
    let started = now();
    let e = create_session_js(o).await.expect_err("never finishes");
    assert_clean(&e, "timeout");
    let elapsed = now() - started;
    let polls = logged(&wb, "operation").await;
    assert!(
        !polls.is_empty() && polls.len() <= 4,
        "{} polls in {elapsed} ms",
        polls.len()
    );
    let prefer = get_str(&logged(&wb, "createSession").await[0], "prefer");
    assert_eq!(prefer.as_deref(), Some("respond-async"), "preferAsync is the default");
}

/// Issue 21, point 7: the cadence without Retry-After is `pollIntervalMs`.
#[wasm_bindgen_test]
async fn poll_interval_ms_paces_the_polls_without_retry_after() {
    let wb = workbook("poll-interval");
    fault_on(
        &wb,
        &[
            r#""operation":"operation","status":200,"times":0"#,
            &js("body", r#"{"id":"op","status":"running"}"#),
        ],
    )
    .await;
    let o = options(&wb);
    set(&o, "createTimeoutMs", 4500);
    set(&o, "pollIntervalMs", 1000);
    let e = create_session_js(o).await.expect_err("never finishes");
    assert_clean(&e, "timeout");
    let polls = logged(&wb, "operation").await;
    assert!((3..=5).contains(&polls.len()), "{} polls in 4.5 s", polls.len());
    for w in polls.windows(2) {
        let gap = get_num(&w[1], "timeMs") - get_num(&w[0], "timeMs");
        assert!(gap >= 950.0, "polled {gap} ms apart");
    }
    // An invalid pollIntervalMs fails before anything is sent.
    let o = options(&wb);
    set(&o, "pollIntervalMs", 10);
    let e = create_session_js(o).await.expect_err("below the floor");
    assert_clean(&e, "invalidArgument");
}

/// Issue 20, fourth bullet: every token a call used is scrubbed.
#[wasm_bindgen_test]
async fn neither_token_reaches_the_error_after_a_renewal() {
    let wb = workbook("tokens-both");
    let provider = Function::new_with_args("t", "let n = 0; return () => t + '-' + (++n);")
        .call1(&JsValue::NULL, &TOKEN.into())
        .unwrap();
    let s = session(&wb, &[("accessToken", provider)]).await;
    let first = [TOKEN, "-2"].concat();
    let second = [TOKEN, "-3"].concat();
    fault_on(&wb, &[r#""operation":"range","status":401,"times":1"#]).await;
    let echo = [
        r#"{"error":{"code":"badRequest","message":"got "#,
        &first,
        " then ",
        &second,
        r#"","innerError":{"code":"invalidArgument"}}}"#,
    ]
    .concat();
    fault_on(
        &wb,
        &[r#""operation":"range","status":400,"times":1"#, &js("body", &echo)],
    )
    .await;
    let e = settle(s.fetch(range("A1").into(), JsValue::UNDEFINED))
        .await
        .expect_err("400 after the renewal");
    assert_clean(&e, "badRequest");
    assert_eq!(get_num(&e, "attempts"), 2.0);
    let message = get_str(&e, "message").unwrap_or_default();
    assert!(!message.contains(&first) && !message.contains(&second), "{message}");
    assert!(message.contains("got "), "the rest of Graph's message stays: {message}");
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 21, point 1: a write answered `internalServerErrorUncategorized`
/// is sent once; the session is not used again (recreated for later work).
#[wasm_bindgen_test]
async fn a_patch_answered_500_uncategorized_is_sent_once_and_the_session_replaced() {
    let wb = workbook("uncategorized");
    let s = session(&wb, &[]).await;
    let recreated = keep_alive(&s, 60_000, true);
    let first_id = s.id();
    fault_on(
        &wb,
        &[r#""operation":"range","status":500,"innerCode":"internalServerErrorUncategorized","endSession":true,"times":1"#],
    )
    .await;
    let e = settle(s.fetch(range("A1").into(), patch("[[1]]")))
        .await
        .expect_err("500");
    assert_clean(&e, "internalServerError");
    assert_eq!(
        get_str(&e, "innerCode").as_deref(),
        Some("internalServerErrorUncategorized")
    );
    assert_eq!(get_num(&e, "attempts"), 1.0);
    let patches: Vec<JsValue> = logged(&wb, "range")
        .await
        .into_iter()
        .filter(|r| get_str(r, "method").as_deref() == Some("PATCH"))
        .collect();
    assert_eq!(patches.len(), 1, "the write was sent once");
    assert!(wait_for(3000, || recreated.borrow().len() == 1).await);
    assert_ne!(s.id(), first_id, "later work goes on in a new session");
    let r = settle(s.fetch(range("A1").into(), JsValue::UNDEFINED))
        .await
        .expect("the new session works");
    assert_eq!(get_num(&r, "status"), 200.0);
    s.stop();
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 21, point 2: keep-alive's refresh answered 503 without a listed
/// second-level code recreates the session (Special case handling).
#[wasm_bindgen_test]
async fn keep_alive_503_without_a_listed_code_recreates_the_session() {
    let wb = workbook("special-503");
    let s = session(&wb, &[]).await;
    let first_id = s.id();
    fault_on(
        &wb,
        &[r#""operation":"refreshSession","status":503,"innerCodes":[],"times":1"#],
    )
    .await;
    let recreated = keep_alive(&s, 200, true);
    assert!(wait_for(5000, || recreated.borrow().len() == 1).await, "onRecreated");
    let refreshes = logged(&wb, "refreshSession").await;
    assert_eq!(get_num(&refreshes[0], "status"), 503.0);
    assert_eq!(get_str(&refreshes[0], "sessionId"), Some(first_id.clone()));
    assert!(
        refreshes
            .iter()
            .filter(|r| get_str(r, "sessionId").as_deref() == Some(&first_id))
            .count()
            == 1,
        "not retried on the dead id"
    );
    assert_eq!(logged(&wb, "createSession").await.len(), 2, "createSession sent");
    assert_ne!(s.id(), first_id);
    assert_eq!(s.state(), "active");
    s.stop();
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 21, point 3: an expired session's plain 404 recreates it.
#[wasm_bindgen_test]
async fn keep_alive_with_recreate_on_a_plain_404_recreates_the_session() {
    let wb = workbook("plain-404");
    let s = session(&wb, &[]).await;
    let first_id = s.id();
    fault_on(
        &wb,
        &[r#""operation":"refreshSession","status":404,"innerCodes":[],"endSession":true,"times":1"#],
    )
    .await;
    let recreated = keep_alive(&s, 200, true);
    assert!(wait_for(5000, || recreated.borrow().len() == 1).await, "onRecreated");
    let event = recreated.borrow()[0].clone();
    assert_eq!(get_str(&event, "previousId"), Some(first_id.clone()));
    assert_eq!(get(&event, "stateLost"), JsValue::FALSE);
    assert_eq!(logged(&wb, "createSession").await.len(), 2);
    assert_eq!(s.state(), "active");
    // Without recreation the same answer loses the session.
    let wb2 = workbook("plain-404-lost");
    let t = session(&wb2, &[]).await;
    fault_on(
        &wb2,
        &[r#""operation":"refreshSession","status":404,"innerCodes":[],"endSession":true,"times":1"#],
    )
    .await;
    keep_alive(&t, 200, false);
    assert!(wait_for(5000, || t.state() == "lost").await);
    assert_eq!(logged(&wb2, "createSession").await.len(), 1);
    s.stop();
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 21, point 4: `session.fetch` stays inside its workbook and never
/// sends the lifecycle requests the object owns.
#[wasm_bindgen_test]
async fn session_fetch_is_confined_to_its_workbook_and_refuses_lifecycle_paths() {
    let wb = workbook("confined");
    let other = workbook("confined-other");
    let s = session(&wb, &[]).await;
    let ours = [emulator(), "/beta", &wb, "/workbook/worksheets"].concat();
    let r = settle(s.fetch(ours.into(), JsValue::UNDEFINED))
        .await
        .expect("the same workbook, another version segment");
    assert_eq!(get_num(&r, "status"), 200.0);
    let before = requests(&wb).await.len();
    let post: JsValue = Object::new().into();
    set(&post, "method", "POST");
    for path in [
        [emulator(), "/v1.0", &other, "/workbook/worksheets"].concat(),
        [emulator(), "/v1.0/me/drive/root/children"].concat(),
        "/closeSession".into(),
        "/refreshSession".into(),
        "/createSession".into(),
        "/operations/op1".into(),
        "/sessionInfoResource(key='k')".into(),
        [emulator(), "/v1.0", &wb, "/workbook/closeSession"].concat(),
    ] {
        let e = settle(s.fetch(path.clone().into(), post.clone()))
            .await
            .expect_err(&path);
        assert_clean(&e, "invalidArgument");
        assert_eq!(get_num(&e, "attempts"), 0.0, "{path}");
    }
    assert_eq!(requests(&wb).await.len(), before, "nothing sent");
    assert!(requests(&other).await.is_empty(), "nothing sent to the other item");
    assert_eq!(s.state(), "active");
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 22, point 1: a session id Graph hands over is checked as a header
/// value before any use (a CR/LF would split the header).
#[wasm_bindgen_test]
async fn a_session_id_from_graph_that_is_no_header_value_is_refused() {
    let wb = workbook("bad-id");
    fault_on(
        &wb,
        &[
            r#""operation":"createSession","status":201,"times":1"#,
            &js("body", r#"{"id":"cluster=A\r\nx-evil: 1","persistChanges":true}"#),
        ],
    )
    .await;
    let o = options(&wb);
    set(&o, "preferAsync", false);
    let e = create_session_js(o).await.expect_err("refused");
    assert_clean(&e, "invalidResponse");
    assert_eq!(requests(&wb).await.len(), 1, "nothing sent with it");
}

/// Issue 22, point 1: an id with a character a header cannot hold
/// (`\u0100`, which `Headers.set` throws on), from createSession's 201,
/// from the operation's session info, or from a caller's `fetch`, is
/// `invalidResponse`; the session never exists, so no request goes out
/// without its `workbook-session-id`.
#[wasm_bindgen_test]
async fn a_session_id_that_is_no_header_value_is_refused_wherever_graph_hands_it_over() {
    let bad_info = r#"{"id":"abc\u0100def","persistChanges":false}"#;
    // createSession's 201.
    let wb = workbook("bad-id-201");
    fault_on(
        &wb,
        &[
            r#""operation":"createSession","status":201,"times":1"#,
            &js("body", bad_info),
        ],
    )
    .await;
    let o = options(&wb);
    set(&o, "preferAsync", false);
    set(&o, "persistChanges", false);
    let e = WorkbookSession::create(o).await.err().expect("refused");
    assert_clean(&e, "invalidResponse");
    assert_eq!(requests(&wb).await.len(), 1, "nothing sent with it");
    // The operation's session info (202, poll, sessionInfoResource).
    let wb = workbook("bad-id-info");
    fault_on(
        &wb,
        &[
            r#""operation":"sessionInfo","status":200,"times":1"#,
            &js("body", bad_info),
        ],
    )
    .await;
    let o = options(&wb);
    set(&o, "persistChanges", false);
    let e = WorkbookSession::create(o).await.err().expect("refused");
    assert_clean(&e, "invalidResponse");
    let log = requests(&wb).await;
    assert_eq!(
        get_str(log.last().unwrap(), "operation").as_deref(),
        Some("sessionInfo"),
        "nothing sent after the session info"
    );
    // A caller's fetch answering createSession with such an id.
    let caller = Function::new_no_args(
        r#"return async () => new Response('{"id":"abcĀdef"}',
            { status: 201, headers: { "content-type": "application/json" } });"#,
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let o = options(&workbook("bad-id-caller"));
    set(&o, "preferAsync", false);
    set(&o, "fetch", caller);
    let e = WorkbookSession::create(o.clone()).await.err().expect("refused");
    assert_clean(&e, "invalidResponse");
    let e = create_session_js(o).await.expect_err("createSession refuses it too");
    assert_clean(&e, "invalidResponse");
}

/// Issue 20, first bullet: keep-alive goes through the session's line, so
/// its refresh is not sent while a `session.fetch` is in it.
#[wasm_bindgen_test]
async fn keep_alive_waits_for_the_fetches_in_line() {
    let wb = workbook("line-order");
    let s = session(&wb, &[]).await;
    fault_on(&wb, &[r#""operation":"worksheets","delayMs":1500,"times":2"#]).await;
    let first = s.fetch("/worksheets".into(), JsValue::UNDEFINED);
    let second = s.fetch("/worksheets".into(), JsValue::UNDEFINED);
    let started = now();
    keep_alive(&s, 100, false);
    settle(first).await.expect("first");
    settle(second).await.expect("second");
    let done = now();
    assert!(done - started >= 2900.0, "two slow answers, one after the other");
    // The line was busy for ~3 s; keep-alive (every 100 ms) waited for it,
    // and after two successful fetches (activity) has no refresh to send yet.
    let early: Vec<f64> = logged(&wb, "refreshSession")
        .await
        .iter()
        .map(|r| get_num(r, "timeMs") - started)
        .filter(|&t| t < done - started - 100.0)
        .collect();
    assert!(
        early.is_empty(),
        "keep-alive refreshed while fetches were in line: {early:?}"
    );
    // Once the line is idle, keep-alive refreshes again.
    sleep(800).await;
    assert!(
        !logged(&wb, "refreshSession").await.is_empty(),
        "keep-alive resumed after the line emptied"
    );
    s.stop();
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 22, point 3: `timeoutMs` bounds the attempt even when the caller's
/// `fetch` ignores the signal and never answers.
#[wasm_bindgen_test]
async fn timeout_ms_ends_an_attempt_whose_caller_fetch_never_answers() {
    let wb = workbook("hung-fetch");
    let hung = Function::new_no_args("return () => new Promise(() => {});")
        .call0(&JsValue::NULL)
        .unwrap();
    let o = session_options(&wb, "cluster=EMU&session=x");
    set(&o, "fetch", hung);
    set(&o, "timeoutMs", 300);
    set(&o, "maxRetries", 0);
    let started = now();
    let e = refresh_session_js(o).await.expect_err("timeout");
    assert_clean(&e, "timeout");
    assert!(now() - started < 3000.0, "ended by timeoutMs, not hung");
    assert_eq!(get_num(&e, "attempts"), 1.0);
}

/// `p`'s outcome, or `None` when it has not settled within `ms` (a hang).
async fn within(ms: u32, p: Promise) -> Option<Result<JsValue, JsValue>> {
    let timer = wasm_bindgen_futures::future_to_promise(async move {
        sleep(ms).await;
        Ok(JsValue::NULL)
    });
    let settled = wasm_bindgen_futures::future_to_promise(async move {
        let out = JsFuture::from(p).await;
        let o: JsValue = Object::new().into();
        set(&o, "ok", out.is_ok());
        set(&o, "value", out.unwrap_or_else(|e| e));
        Ok(o)
    });
    let first = JsFuture::from(Promise::race(&js_sys::Array::of2(&settled, &timer)))
        .await
        .ok()?;
    if first.is_null() {
        return None;
    }
    let value = get(&first, "value");
    Some(if get(&first, "ok").as_bool() == Some(true) {
        Ok(value)
    } else {
        Err(value)
    })
}

/// The session line (issue 20): `refresh()` called while a `session.fetch`
/// is in flight takes its turn after it: its refreshSession is sent only
/// after the fetch's answer, never beside it.
#[wasm_bindgen_test]
async fn a_refresh_during_a_fetch_is_sent_after_its_answer() {
    let wb = workbook("line-refresh-after-fetch");
    let s = session(&wb, &[]).await;
    fault_on(&wb, &[r#""operation":"range","delayMs":800,"times":1"#]).await;
    let fetched = s.fetch(range("A1").into(), JsValue::UNDEFINED);
    let started = now();
    let refreshed = s.refresh(JsValue::UNDEFINED);
    let r = within(20_000, refreshed).await.expect("settled").expect("refresh");
    assert_eq!(get_num(&r, "status"), 204.0);
    assert!(now() - started >= 700.0, "the refresh waited for the slow fetch");
    let f = within(20_000, fetched).await.expect("settled").expect("fetch");
    assert_eq!(get_num(&f, "status"), 200.0);
    let ranges = logged(&wb, "range").await;
    let refreshes = logged(&wb, "refreshSession").await;
    assert_eq!((ranges.len(), refreshes.len()), (1, 1));
    // The delayed fetch is logged when it answers: the refresh after it.
    assert!(
        get_num(&refreshes[0], "timeMs") >= get_num(&ranges[0], "timeMs"),
        "refreshSession logged {} ms before the fetch's answer",
        get_num(&ranges[0], "timeMs") - get_num(&refreshes[0], "timeMs")
    );
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// `close()` called while a `session.fetch` is in flight goes after it:
/// the fetch (called first) is answered, closeSession is sent after that
/// answer, and a fetch called after `close()` is refused unsent.
#[wasm_bindgen_test]
async fn a_close_during_a_fetch_is_sent_after_its_answer() {
    let wb = workbook("line-close-after-fetch");
    let s = session(&wb, &[]).await;
    fault_on(&wb, &[r#""operation":"range","delayMs":800,"times":1"#]).await;
    let fetched = s.fetch(range("A1").into(), JsValue::UNDEFINED);
    let closed = s.close(JsValue::UNDEFINED);
    let late = s.fetch(range("A2").into(), JsValue::UNDEFINED);
    let e = within(20_000, late).await.expect("settled").expect_err("closed");
    assert_graph_error(&e, "invalidArgument");
    let c = within(20_000, closed).await.expect("settled").expect("close");
    assert_eq!(get_num(&c, "status"), 204.0);
    let f = within(20_000, fetched).await.expect("settled").expect("fetch");
    assert_eq!(get_num(&f, "status"), 200.0, "the fetch called before close() went");
    let ranges = logged(&wb, "range").await;
    let closes = logged(&wb, "closeSession").await;
    assert_eq!((ranges.len(), closes.len()), (1, 1), "A2 never sent");
    assert!(
        get_num(&closes[0], "timeMs") >= get_num(&ranges[0], "timeMs"),
        "closeSession logged {} ms before the fetch's answer",
        get_num(&ranges[0], "timeMs") - get_num(&closes[0], "timeMs")
    );
    assert_eq!(s.state(), "closed");
}

/// The deadlock a naive line had: a `session.fetch` that finds the session
/// expired recreates it while a `refresh()` waits in line behind it. The
/// recreation runs within the fetch's turn: both complete (bounded here),
/// with one recreation, and the refresh goes on the new id.
#[wasm_bindgen_test]
async fn a_fetch_recreating_the_session_while_a_refresh_waits_completes() {
    let wb = workbook("line-recreate-refresh");
    let s = session(&wb, &[("persistChanges", true.into())]).await;
    let old = s.id();
    expire(&old).await;
    let init: JsValue = Object::new().into();
    set(&init, "recreate", true);
    let fetched = s.fetch(range("A1").into(), init);
    let refreshed = s.refresh(JsValue::UNDEFINED);
    let f = within(20_000, fetched)
        .await
        .expect("the fetch hung behind the refresh")
        .expect("fetch, after the recreation");
    assert_eq!(get_num(&f, "status"), 200.0);
    let r = within(20_000, refreshed)
        .await
        .expect("the refresh hung")
        .expect("refresh");
    assert_eq!(get_num(&r, "status"), 204.0);
    let new = s.id();
    assert_ne!(new, old);
    assert_eq!(logged(&wb, "createSession").await.len(), 2, "one recreation");
    let refreshes = logged(&wb, "refreshSession").await;
    assert_eq!(refreshes.len(), 1);
    assert_eq!(get_str(&refreshes[0], "sessionId").as_deref(), Some(new.as_str()));
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// The model test's "lost, but the new id is alive in the emulator": a
/// `refresh()` (no keep-alive, so no recreation of its own) is in flight on
/// the first id when a `concurrent` fetch finds that id expired and
/// replaces the session. The refresh's 404 is about the replaced id: it
/// rejects, and the session stays active on the new, live id.
#[wasm_bindgen_test]
async fn a_refresh_answered_gone_after_a_concurrent_fetch_replaced_the_session_does_not_lose_it() {
    let wb = workbook("replaced-under-refresh");
    let s = session(&wb, &[]).await;
    let first = s.id();
    // The refresh is received at once and answered 800 ms later, by then
    // on an expired id.
    fault_on(&wb, &[r#""operation":"refreshSession","delayMs":800,"times":1"#]).await;
    let refresh = s.refresh(JsValue::UNDEFINED);
    sleep(100).await;
    expire(&first).await;
    let init: JsValue = Object::new().into();
    set(&init, "concurrent", true);
    set(&init, "recreate", true);
    let r = settle(s.fetch(range("A1").into(), init))
        .await
        .expect("recreated and resent");
    assert_eq!(get_num(&r, "status"), 200.0);
    let second = s.id();
    assert_ne!(second, first, "the fetch replaced the session");
    let e = settle(refresh).await.expect_err("the refresh's id is gone");
    assert_eq!(get_num(&e, "status"), 404.0);
    assert_eq!(s.state(), "active", "not lost: it was replaced");
    assert_eq!(s.id(), second);
    let live = sessions().await;
    assert!(
        live.iter()
            .any(|x| get_str(x, "id").as_deref() == Some(second.as_str())),
        "the new id is alive"
    );
    assert_eq!(logged(&wb, "createSession").await.len(), 2, "one recreation");
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
    assert!(
        !sessions()
            .await
            .iter()
            .any(|x| get_str(x, "id").as_deref() == Some(second.as_str())),
        "closed"
    );
}
