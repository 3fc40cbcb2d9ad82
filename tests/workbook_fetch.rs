//! `session.fetch` against the emulator's workbook, in Node and headless
//! Chromium: the caller's own requests inside the session (relative and
//! absolute URLs, headers, JSON bodies), the Excel policy (cooldowns by
//! method, no resend of accessConflict, recreation of an expired persistent
//! session, stateLost for a non-persistent one), one request at a time per
//! session, keep-alive skipping refreshes after activity, abort and close.
#![cfg(target_arch = "wasm32")]

mod support;

use graph_workbook_session::WorkbookSession;
use js_sys::{Array, Function, Object, Promise, JSON};
use support::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

/// A session created with a single createSession (no `Prefer:
/// respond-async`, so no polls): these tests count the requests a
/// `session.fetch` sends, recreations included.
async fn create(wb: &str, persist: bool) -> WorkbookSession {
    let o = options(wb);
    set(&o, "persistChanges", persist);
    set(&o, "preferAsync", false);
    WorkbookSession::create(o).await.expect("create")
}

fn init(method: &str, body: Option<JsValue>) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "method", method);
    if let Some(b) = body {
        set(&o, "body", b);
    }
    o
}

fn values(rows: &str) -> JsValue {
    JSON::parse(&[r#"{"values":"#, rows, "}"].concat()).unwrap()
}

async fn body_json(resp: &JsValue) -> JsValue {
    let f: Function = get(resp, "json").into();
    JsFuture::from(Promise::from(f.call0(resp).unwrap())).await.unwrap()
}

fn range(address: &str) -> String {
    ["/worksheets('Sheet1')/range(address='", address, "')"].concat()
}

async fn read_values(s: &WorkbookSession, address: &str) -> String {
    let resp = settle(s.fetch(range(address).into(), JsValue::UNDEFINED))
        .await
        .expect("GET range");
    let json = body_json(&resp).await;
    JSON::stringify(&get(&json, "values")).unwrap().as_string().unwrap()
}

async fn write_values(s: &WorkbookSession, address: &str, rows: &str) -> Result<JsValue, JsValue> {
    settle(s.fetch(range(address).into(), init("PATCH", Some(values(rows))))).await
}

#[wasm_bindgen_test]
async fn relative_paths_read_worksheets_and_write_then_read_a_range() {
    let wb = workbook("fetchRelative");
    let s = create(&wb, true).await;
    let resp = settle(s.fetch("/worksheets".into(), JsValue::UNDEFINED))
        .await
        .expect("GET worksheets");
    assert_eq!(get_num(&resp, "status"), 200.0);
    // The platform's own Response, its body unread.
    assert!(resp.is_instance_of::<web_sys::Response>());
    assert_eq!(get(&resp, "bodyUsed"), JsValue::FALSE);
    let json = body_json(&resp).await;
    let first = Array::from(&get(&json, "value")).get(0);
    assert_eq!(get_str(&first, "name").as_deref(), Some("Sheet1"));

    let written = write_values(&s, "A1:B1", r#"[[42,"x"]]"#).await.expect("PATCH");
    assert_eq!(get_num(&written, "status"), 200.0);
    assert_eq!(read_values(&s, "A1:B1").await, r#"[[42,"x"]]"#);

    let log = requests(&wb).await;
    let own: Vec<&JsValue> = log
        .iter()
        .filter(|r| matches!(get_str(r, "operation").as_deref(), Some("worksheets" | "range")))
        .collect();
    assert_eq!(own.len(), 3);
    for r in own {
        assert_eq!(get_str(r, "sessionId"), Some(s.id()), "{r:?}");
        assert_eq!(get(r, "hasAuthorization"), JsValue::TRUE);
        assert!(get_str(r, "clientRequestId").is_some_and(|id| id.len() == 36));
        assert_eq!(get_num(r, "status"), 200.0);
    }
    assert!(get_str(&log[1], "path").unwrap().ends_with("/workbook/worksheets"));
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn absolute_urls_on_the_sessions_origin_only_and_nothing_sent_otherwise() {
    let wb = workbook("fetchAbsolute");
    let s = create(&wb, true).await;
    let url = [emulator(), "/v1.0", &wb, "/workbook/worksheets"].concat();
    let resp = settle(s.fetch(url.into(), JsValue::UNDEFINED))
        .await
        .expect("same origin");
    assert_eq!(get_num(&resp, "status"), 200.0);
    let before = requests(&wb).await.len();
    let port = emulator().rsplit(':').next().unwrap();
    let elsewhere = [
        ["http://127.0.0.2:", port, "/v1.0", &wb, "/workbook/worksheets"].concat(),
        ["https://127.0.0.1:", port, "/v1.0", &wb, "/workbook/worksheets"].concat(),
        ["//127.0.0.1:", port, "/v1.0", &wb].concat(),
        "worksheets".into(),
        "/../../../me".into(),
    ];
    for url in elsewhere {
        let e = settle(s.fetch(url.clone().into(), JsValue::UNDEFINED))
            .await
            .expect_err(&url);
        assert_graph_error(&e, "invalidArgument");
        assert_eq!(get_num(&e, "attempts"), 0.0);
        assert!(
            get_str(&e, "message").unwrap().starts_with("WorkbookSession.fetch: "),
            "{url}"
        );
    }
    // The session owns these headers.
    let o = init("GET", None);
    let h: JsValue = Object::new().into();
    set(&h, "Authorization", "Bearer other");
    set(&o, "headers", h);
    let e = settle(s.fetch("/worksheets".into(), o)).await.expect_err("own header");
    assert_graph_error(&e, "invalidArgument");
    assert_eq!(requests(&wb).await.len(), before, "nothing sent");
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn json_bodies_get_their_content_type() {
    let wb = workbook("fetchJson");
    let s = create(&wb, true).await;
    // A JSON string: the emulator, like Graph, refuses a PATCH without
    // Content-Type: application/json, so success shows the header was added.
    let r = settle(s.fetch(
        range("C3").into(),
        init("PATCH", Some(r#"{"values":[["from a string"]]}"#.into())),
    ))
    .await
    .expect("string JSON body");
    assert_eq!(get_num(&r, "status"), 200.0);
    assert_eq!(read_values(&s, "C3").await, r#"[["from a string"]]"#);
    // A caller's own Content-Type is kept: a wrong one gets Graph's 400.
    let o = init("PATCH", Some(values(r#"[["x"]]"#)));
    let h: JsValue = Object::new().into();
    set(&h, "content-type", "text/plain");
    set(&o, "headers", h);
    let e = settle(s.fetch(range("C3").into(), o)).await.expect_err("text/plain");
    assert_graph_error(&e, "invalidRequest");
    assert_eq!(get_num(&e, "status"), 400.0);
    assert_eq!(get_num(&e, "attempts"), 1.0);
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn throttling_is_resent_after_retry_after_for_a_patch_and_a_get() {
    let wb = workbook("fetch429");
    let s = create(&wb, true).await;
    for method in ["PATCH", "GET"] {
        fault(
            &[
                r#"{"operation":"range","pathContains":""#,
                &wb,
                r#"","status":429,"retryAfter":"1"}"#,
            ]
            .concat(),
        )
        .await;
        let started = now();
        let body = (method == "PATCH").then(|| values("[[7]]"));
        let r = settle(s.fetch(range("D4").into(), init(method, body)))
            .await
            .expect("resent after the cooldown");
        assert_eq!(get_num(&r, "status"), 200.0);
        assert!(now() - started >= 990.0, "{method}: waited {}", now() - started);
    }
    let log = logged(&wb, "range").await;
    let statuses: Vec<f64> = log.iter().map(|r| get_num(r, "status")).collect();
    assert_eq!(statuses, vec![429.0, 200.0, 429.0, 200.0]);
    assert_eq!(get_str(&log[1], "retryAttempt").as_deref(), Some("1"));
    assert_eq!(get_str(&log[0], "clientRequestId"), get_str(&log[1], "clientRequestId"));
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn access_conflict_is_not_resent() {
    let wb = workbook("fetchConflict");
    let s = create(&wb, true).await;
    fault(
        &[
            r#"{"operation":"range","pathContains":""#,
            &wb,
            r#"","status":409,"innerCode":"accessConflict"}"#,
        ]
        .concat(),
    )
    .await;
    let e = settle(s.fetch(range("A1").into(), JsValue::UNDEFINED))
        .await
        .expect_err("accessConflict");
    assert_graph_error(&e, "conflict");
    assert_eq!(get_str(&e, "innerCode").as_deref(), Some("accessConflict"));
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert_eq!(get(&e, "stateLost"), JsValue::FALSE);
    assert_eq!(logged(&wb, "range").await.len(), 1);
    assert_eq!(s.state(), "active");
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn an_expired_persistent_session_is_recreated_and_the_request_resent_once() {
    let wb = workbook("fetchRecreate");
    let s = create(&wb, true).await;
    let (on_recreated, seen) = recorder();
    let ka: JsValue = Object::new().into();
    set(&ka, "recreate", true);
    set(&ka, "intervalMs", 60_000);
    set(&ka, "onRecreated", on_recreated);
    s.keep_alive(ka).expect("keepAlive");
    write_values(&s, "A1", "[[1]]").await.expect("write");
    let first = s.id();
    expire(&first).await;
    let r = write_values(&s, "A2", "[[2]]").await.expect("recreated and resent");
    assert_eq!(get_num(&r, "status"), 200.0);
    assert_ne!(s.id(), first);
    assert_eq!(s.state(), "active");
    assert!(wait_for(1000, || seen.borrow().len() == 1).await);
    assert_eq!(get(&seen.borrow()[0], "stateLost"), JsValue::FALSE);
    let ops: Vec<(String, f64)> = requests(&wb)
        .await
        .iter()
        .map(|r| (get_str(r, "operation").unwrap_or_default(), get_num(r, "status")))
        .collect();
    let tail: Vec<(&str, f64)> = ops.iter().rev().take(3).rev().map(|(o, n)| (o.as_str(), *n)).collect();
    assert_eq!(tail, vec![("range", 404.0), ("createSession", 201.0), ("range", 200.0)]);
    // Persistent: the first write outlived the first session.
    assert_eq!(read_values(&s, "A1").await, "[[1]]");

    // Expired again, the new session too: recreated once per call, no more.
    let second = s.id();
    fault(
        &[
            r#"{"operation":"range","pathContains":""#,
            &wb,
            r#"","status":404,"innerCode":"invalidSessionReCreatable","times":2}"#,
        ]
        .concat(),
    )
    .await;
    let e = write_values(&s, "A3", "[[3]]").await.expect_err("expired twice");
    assert_graph_error(&e, "itemNotFound");
    assert_eq!(get(&e, "recreatable"), JsValue::TRUE);
    assert_eq!(get_num(&e, "attempts"), 2.0);
    assert_ne!(s.id(), second);
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn without_recreation_an_expired_session_rejects_recreatable() {
    let wb = workbook("fetchNoRecreate");
    let s = create(&wb, true).await;
    let id = s.id();
    expire(&id).await;
    let e = settle(s.fetch(range("A1").into(), JsValue::UNDEFINED))
        .await
        .expect_err("expired");
    assert_graph_error(&e, EXPIRED);
    assert_eq!(get(&e, "recreatable"), JsValue::TRUE);
    assert_eq!(get(&e, "stateLost"), JsValue::FALSE);
    assert_eq!(s.id(), id);
    assert!(logged(&wb, "createSession").await.len() == 1);
    // init.recreate turns it on for one call.
    let o: JsValue = Object::new().into();
    set(&o, "recreate", true);
    let r = settle(s.fetch(range("A1").into(), o))
        .await
        .expect("recreated for this call");
    assert_eq!(get_num(&r, "status"), 200.0);
    assert_ne!(s.id(), id);
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn a_non_persistent_sessions_expiry_rejects_with_state_lost() {
    let wb = workbook("fetchStateLost");
    let s = create(&wb, false).await;
    let ka: JsValue = Object::new().into();
    set(&ka, "recreate", true);
    set(&ka, "intervalMs", 60_000);
    s.keep_alive(ka).expect("keepAlive");
    write_values(&s, "B2", r#"[["draft"]]"#).await.expect("write");
    expire(&s.id()).await;
    let e = write_values(&s, "B3", r#"[["more"]]"#).await.expect_err("expired");
    assert_graph_error(&e, EXPIRED);
    assert_eq!(get(&e, "recreatable"), JsValue::TRUE);
    assert_eq!(get(&e, "stateLost"), JsValue::TRUE);
    assert_eq!(get_num(&e, "attempts"), 1.0);
    // Not resent on a fresh copy of the workbook.
    assert_eq!(logged(&wb, "createSession").await.len(), 1);
    s.stop();
    // The draft is gone: a new session reads the item's own workbook.
    let t = create(&wb, true).await;
    assert_eq!(read_values(&t, "B2").await, r#"[[""]]"#);
    settle(t.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn non_persistent_changes_vanish_at_close_persistent_ones_stay() {
    let wb = workbook("fetchPersist");
    for (persist, cell) in [(true, "A1"), (false, "A2")] {
        let s = create(&wb, persist).await;
        write_values(&s, cell, r#"[["written"]]"#).await.expect("write");
        assert_eq!(read_values(&s, cell).await, r#"[["written"]]"#);
        settle(s.close(JsValue::UNDEFINED)).await.expect("close");
    }
    let s = create(&wb, true).await;
    assert_eq!(read_values(&s, "A1:A2").await, r#"[["written"],[""]]"#);
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

async fn three_calls(s: &WorkbookSession, concurrent: bool) {
    let calls: Vec<Promise> = ["E1", "E2", "E3"]
        .iter()
        .map(|a| {
            let o: JsValue = Object::new().into();
            set(&o, "concurrent", concurrent);
            s.fetch(range(a).into(), o)
        })
        .collect();
    for c in calls {
        settle(c).await.expect("answered");
    }
}

/// The cells of the answered range requests on `wb`, in the emulator's order.
async fn answered_order(wb: &str) -> Vec<String> {
    logged(wb, "range")
        .await
        .iter()
        .filter(|r| get_num(r, "status") == 200.0)
        .filter_map(|r| get_str(r, "path"))
        .map(|p| {
            let after = p.rsplit("address=").next().unwrap_or_default().replace("%27", "'");
            after
                .trim_start_matches('\'')
                .split('\'')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[wasm_bindgen_test]
async fn one_request_at_a_time_in_call_order_unless_concurrent() {
    for concurrent in [false, true] {
        let wb = workbook(if concurrent { "fetchConcurrent" } else { "fetchSerial" });
        let s = create(&wb, true).await;
        // The first call's answer is slow: in line, the others wait for it.
        let slow = [&wb, "/workbook/worksheets('Sheet1')/range(address='E1')"].concat();
        fault(&[r#"{"pathContains":""#, &slow, r#"","delayMs":400}"#].concat()).await;
        three_calls(&s, concurrent).await;
        let order = answered_order(&wb).await;
        let first = order.first().cloned().unwrap_or_default();
        if concurrent {
            assert_ne!(first, "E1", "concurrent calls do not wait: {order:?}");
        } else {
            assert_eq!(order, vec!["E1", "E2", "E3"], "in call order");
        }
        settle(s.close(JsValue::UNDEFINED)).await.expect("close");
    }
}

#[wasm_bindgen_test]
async fn keep_alive_skips_refreshes_while_the_session_is_used() {
    let wb = workbook("fetchActivity");
    let s = create(&wb, true).await;
    let ka: JsValue = Object::new().into();
    set(&ka, "intervalMs", 500);
    s.keep_alive(ka).expect("keepAlive");
    let until = now() + 2500.0;
    while now() < until {
        settle(s.fetch("/worksheets".into(), JsValue::UNDEFINED))
            .await
            .expect("GET");
        sleep(150).await;
    }
    assert_eq!(logged(&wb, "refreshSession").await.len(), 0, "no refresh while in use");
    sleep(1200).await;
    assert!(
        !logged(&wb, "refreshSession").await.is_empty(),
        "refreshes resume when idle"
    );
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

#[wasm_bindgen_test]
async fn abort_and_close_send_nothing() {
    let wb = workbook("fetchAbort");
    let s = create(&wb, true).await;
    let before = requests(&wb).await.len();
    let o: JsValue = Object::new().into();
    set(&o, "signal", abort_after(0));
    sleep(20).await;
    let e = settle(s.fetch(range("A1").into(), o)).await.expect_err("aborted");
    assert_graph_error(&e, "aborted");
    assert_eq!(get_num(&e, "attempts"), 0.0);
    assert_eq!(requests(&wb).await.len(), before, "nothing sent");
    // Aborted while waiting in line behind a slow call: never sent.
    let slow = [&wb, "/workbook/worksheets('Sheet1')/range(address='F1')"].concat();
    fault(&[r#"{"pathContains":""#, &slow, r#"","delayMs":500}"#].concat()).await;
    let first = s.fetch(range("F1").into(), JsValue::UNDEFINED);
    let o: JsValue = Object::new().into();
    set(&o, "signal", abort_after(100));
    let e = settle(s.fetch(range("F2").into(), o))
        .await
        .expect_err("aborted in line");
    assert_graph_error(&e, "aborted");
    settle(first).await.expect("the slow one");
    assert!(requests(&wb)
        .await
        .iter()
        .all(|r| !get_str(r, "path").unwrap().contains("F2")));
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
    let after = requests(&wb).await.len();
    let e = settle(s.fetch("/worksheets".into(), JsValue::UNDEFINED))
        .await
        .expect_err("closed");
    assert_graph_error(&e, "invalidArgument");
    assert_eq!(requests(&wb).await.len(), after);
}

/// A 401 on `session.fetch` with a token source that renews: one fresh
/// token and one resend, not counted against `maxRetries` (0 here).
#[wasm_bindgen_test]
async fn a_401_gets_one_fresh_token_and_one_resend() {
    let wb = workbook("fetch-renew");
    let o = options(&wb);
    let provider = Function::new_with_args("t", "let n = 0; return () => t + '-' + (++n);")
        .call1(&JsValue::NULL, &TOKEN.into())
        .unwrap();
    set(&o, "accessToken", provider);
    let recorder = Function::new_no_args(
        "const seen = []; return [(url, init) => { seen.push(new Headers(init.headers).get('authorization')); return fetch(url, init); }, seen];",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let pair = Array::from(&recorder);
    set(&o, "fetch", pair.get(0));
    set(&o, "maxRetries", 0);
    // One createSession (no polls) so that the token list below is exact.
    set(&o, "preferAsync", false);
    let s = WorkbookSession::create(o).await.expect("create");
    fault(
        &[
            r#"{"operation":"range","status":401,"times":1,"pathContains":""#,
            &wb,
            r#""}"#,
        ]
        .concat(),
    )
    .await;
    let resp = settle(s.fetch(range("A1").into(), JsValue::UNDEFINED))
        .await
        .expect("resent with a fresh token");
    assert_eq!(get_num(&resp, "status"), 200.0);
    let seen: Vec<String> = Array::from(&pair.get(1))
        .iter()
        .map(|v| v.as_string().unwrap_or_default())
        .collect();
    let t = |n: &str| ["Bearer ", TOKEN, "-", n].concat();
    assert_eq!(seen, [t("1"), t("2"), t("3")], "createSession, the 401, the resend");
    assert_eq!(logged(&wb, "range").await.len(), 2);
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 23, point 6: `session.json` resolves to the parsed body, and
/// `init.json` (any JSON value) is the body with its Content-Type.
#[wasm_bindgen_test]
async fn session_json_resolves_to_the_parsed_body_and_init_json_is_sent_as_json() {
    let wb = workbook("fetch-json-method");
    let s = create(&wb, true).await;
    let o = init("PATCH", None);
    set(&o, "json", values(r#"[["from json", 7]]"#));
    // The emulator, as Graph, refuses a PATCH without
    // Content-Type: application/json: success shows it was set.
    let written = settle(s.json(range("A1:B1").into(), o)).await.expect("PATCH json");
    assert_eq!(
        JSON::stringify(&get(&written, "values")).unwrap().as_string().unwrap(),
        r#"[["from json",7]]"#
    );
    let read = settle(s.json(range("A1:B1").into(), JsValue::UNDEFINED))
        .await
        .expect("GET json");
    assert_eq!(
        JSON::stringify(&get(&read, "values")).unwrap().as_string().unwrap(),
        r#"[["from json",7]]"#
    );
    // The same through session.fetch.
    let o = init("PATCH", None);
    set(&o, "json", values(r#"[["via fetch"]]"#));
    let r = settle(s.fetch(range("C1").into(), o)).await.expect("fetch with json");
    assert_eq!(get_num(&r, "status"), 200.0);
    assert_eq!(read_values(&s, "C1").await, r#"[["via fetch"]]"#);
    // json and body together, or a value JSON cannot hold: refused, unsent.
    let before = requests(&wb).await.len();
    let both = init("PATCH", Some("{}".into()));
    set(&both, "json", values("[[1]]"));
    let no_json = init("PATCH", None);
    set(&no_json, "json", Function::new_no_args("return 1"));
    for (what, o) in [("json and body", both), ("a function as json", no_json)] {
        let e = settle(s.json(range("A1").into(), o)).await.expect_err(what);
        assert_graph_error(&e, "invalidArgument");
        assert_eq!(get_num(&e, "attempts"), 0.0, "{what}");
    }
    // A failure rejects as session.fetch does, named after json.
    let e = settle(s.json("/worksheets('Nope')".into(), JsValue::UNDEFINED))
        .await
        .expect_err("404");
    assert_eq!(get_num(&e, "status"), 404.0);
    assert!(get_str(&e, "message").unwrap().starts_with("WorkbookSession.json: "));
    assert_eq!(requests(&wb).await.len(), before + 1, "only the 404 was sent");
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 22, point 6: `init` holds the fields that make sense inside a
/// session; `mode: "no-cors"` (which would drop the token and hide the
/// answer), `credentials`, `redirect`, a typo ... are refused, nothing sent.
#[wasm_bindgen_test]
async fn init_fields_that_do_not_belong_in_a_session_are_refused_unsent() {
    let wb = workbook("fetch-init-fields");
    let s = create(&wb, true).await;
    let before = requests(&wb).await.len();
    for (field, value) in [
        ("mode", JsValue::from("no-cors")),
        ("credentials", "include".into()),
        ("redirect", "follow".into()),
        ("referrer", "https://evil.example/".into()),
        ("integrity", "sha256-x".into()),
        ("header", Object::new().into()),
    ] {
        let o = init("GET", None);
        set(&o, field, value);
        let e = settle(s.fetch(range("A1").into(), o)).await.expect_err(field);
        assert_graph_error(&e, "invalidArgument");
        assert_eq!(get_num(&e, "attempts"), 0.0, "{field}");
        assert!(get_str(&e, "message").unwrap().contains(field), "{field}");
    }
    assert_eq!(requests(&wb).await.len(), before, "nothing sent");
    // Fields set to undefined are absent; keepalive passes through.
    let o = init("GET", None);
    set(&o, "mode", JsValue::UNDEFINED);
    set(&o, "keepalive", false);
    let r = settle(s.fetch(range("A1").into(), o)).await.expect("allowed fields");
    assert_eq!(get_num(&r, "status"), 200.0);
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// Issue 22, point 4: a body is never copied into wasm memory to be
/// classified: an 8 MB body grows linear memory by less than 1 MB.
#[wasm_bindgen_test]
async fn an_8_mb_body_does_not_grow_wasm_memory() {
    let wb = workbook("fetch-8mb");
    let s = create(&wb, true).await;
    let big = |fill: &str| -> JsValue {
        let cells = js_sys::JsString::from(fill).repeat(8 * 1024 * 1024 / fill.len() as i32);
        js_sys::JsString::from(r#"{"values":[[""#)
            .concat(&cells)
            .concat(&r#""]]}"#.into())
            .into()
    };
    // The same calls once, small, so the paths' own allocations are made.
    let _ = settle(s.fetch(range("A1").into(), init("PATCH", Some(r#"{"values":[["x"]]}"#.into())))).await;
    let o = init("PATCH", None);
    set(&o, "json", values(r#"[["x"]]"#));
    let _ = settle(s.fetch(range("A1").into(), o)).await;
    let before = wasm_memory_bytes();
    // A JSON string (Content-Type added from its first character) and a
    // value through init.json; the emulator answers 413 (its 1 MiB
    // limit), or the connection ends: either way the body went to fetch.
    let string_body = big("abcdefgh");
    assert!(string_body.unchecked_ref::<js_sys::JsString>().length() > 8_000_000);
    let _ = settle(s.fetch(range("A1").into(), init("PATCH", Some(string_body)))).await;
    let o = init("PATCH", None);
    // Built in JS (the test copies nothing into wasm memory either).
    let cells = js_sys::JsString::from("ijklmnop").repeat(1024 * 1024);
    let json: JsValue = Object::new().into();
    set(&json, "values", Array::of1(&Array::of1(&cells)));
    set(&o, "json", json);
    let _ = settle(s.fetch(range("A1").into(), o)).await;
    let grown = wasm_memory_bytes() - before;
    assert!(
        grown < 1024.0 * 1024.0,
        "wasm memory grew by {grown} bytes for an 8 MB body"
    );
    settle(s.close(JsValue::UNDEFINED)).await.expect("close");
}

/// `session.json` on an answer without a body resolves to `null`; a 2xx
/// body that is not JSON rejects with `invalidResponse` and its status.
#[wasm_bindgen_test]
async fn session_json_gives_null_for_no_body_and_invalid_response_for_html() {
    let answers = Function::new_no_args(
        r#"let n = 0; return async () => [
              new Response(null, { status: 204 }),
              new Response("", { status: 200 }),
              new Response("<html>", { status: 200, headers: { "request-id": "r-html" } }),
            ][n++ % 3];"#,
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let o = session_options(&workbook("json-caller"), "s1");
    set(&o, "fetch", answers);
    let s = WorkbookSession::attach(o).expect("attach");
    for what in ["204", "empty 200"] {
        let v = settle(s.json(range("A1").into(), JsValue::UNDEFINED))
            .await
            .expect(what);
        assert!(v.is_null(), "{what}: {v:?}");
    }
    let e = settle(s.json(range("A1").into(), JsValue::UNDEFINED))
        .await
        .expect_err("html");
    assert_graph_error(&e, "invalidResponse");
    assert_eq!(get_num(&e, "status"), 200.0);
    assert_eq!(get_str(&e, "requestId").as_deref(), Some("r-html"));
    assert_eq!(get_num(&e, "attempts"), 1.0);
}
