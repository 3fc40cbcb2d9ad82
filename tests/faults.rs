//! The fault matrix, in Node and headless Chromium, against the emulator's
//! fault injection: refused and dropped connections, answers cut short,
//! headers that never come, throttling with every kind of `Retry-After`,
//! 5xx sequences, 401, redirects, HTML and truncated bodies, a 10 MB error
//! body, broken createSession flows and `$batch` faults. Each case lists its
//! expected outcome in `tests/FAULTS.md`; every error is scanned for the
//! token (fields, message, stack, `cause`) and console output too.
#![cfg(target_arch = "wasm32")]

mod hardening;
mod support;

use graph_workbook_session::{create_session_js, refresh_session_js, refresh_sessions_js};
use hardening::*;
use js_sys::{Array, Object};
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

/// `{"pathContains":wb, ...parts}` on the main emulator.
async fn fault_on(wb: &str, parts: &[&str]) {
    let mut all = vec![js("pathContains", wb)];
    all.extend(parts.iter().map(|p| p.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    fault_json(&refs).await;
}

/// A live session on a fresh item; returns (workbook, session id).
async fn live(name: &str) -> (String, String) {
    let wb = workbook(&["fault-", name].concat());
    let id = raw_create_session(&wb, true).await;
    (wb, id)
}

fn with(o: JsValue, pairs: &[(&str, JsValue)]) -> JsValue {
    for (k, v) in pairs {
        set(&o, k, v.clone());
    }
    o
}

/// Refreshes; on success checks 204 and returns the attempts and elapsed ms.
async fn refresh_ok(label: &str, o: JsValue) -> (f64, f64) {
    let started = now();
    let r = refresh_session_js(o)
        .await
        .unwrap_or_else(|e| panic!("{label}: {:?} {:?}", get_str(&e, "code"), get_str(&e, "message")));
    assert_eq!(get_num(&r, "status"), 204.0, "{label}");
    assert_token_free(&r);
    (get_num(&r, "attempts"), now() - started)
}

/// Refreshes; expects a clean GraphError with `code`; returns it and the elapsed ms.
async fn refresh_err(label: &str, o: JsValue, code: &str) -> (JsValue, f64) {
    let started = now();
    let e = match refresh_session_js(o).await {
        Err(e) => e,
        Ok(r) => panic!("{label}: resolved {r:?}"),
    };
    assert_eq!(
        get_str(&e, "code").as_deref(),
        Some(code),
        "{label}: {:?}",
        get_str(&e, "message")
    );
    assert_clean(&e, code);
    (e, now() - started)
}

fn survived(group: &str, n: u32) {
    let lines = assert_console_clean();
    console_log!(
        "fault matrix, {group}: {n} faults survived; {} errors scanned, {lines} console lines clean",
        scanned()
    );
}

/// An IMF-fixdate `ms_from_now` from now (`Date.prototype.toUTCString`).
fn http_date(ms_from_now: f64) -> String {
    js_sys::Date::new(&JsValue::from(now() + ms_from_now))
        .to_utc_string()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
async fn transport_faults() {
    spy_console();
    // Connection refused: a closed loopback port; retried, then `network`.
    let o = with(
        session_options(&workbook("refused"), "cluster=EMU&session=x"),
        &[
            ("baseUrl", [closed_url(), "/v1.0"].concat().into()),
            ("maxRetries", 1.into()),
        ],
    );
    let (e, ms) = refresh_err("connection refused", o, "network").await;
    assert_eq!(get_num(&e, "attempts"), 2.0);
    assert_eq!(get_num(&e, "status"), 0.0);
    assert!(ms < 15_000.0, "refused took {ms} ms");

    // Dropped without an answer, once: retried, then success.
    let (wb, id) = live("drop-once").await;
    fault_on(&wb, &[r#""operation":"refreshSession","drop":true,"times":1"#]).await;
    let (attempts, _) = refresh_ok("dropped once", session_options(&wb, &id)).await;
    // Chromium itself resends a request once when a reused keep-alive
    // connection closes without an answer, so the library may see 1 attempt.
    assert!(attempts == 2.0 || attempts == 1.0, "{attempts}");
    assert!(
        requests(&wb)
            .await
            .iter()
            .filter(|r| get_str(r, "operation").as_deref() == Some("refreshSession"))
            .count()
            >= 2
    );

    // Dropped every time: `network` after every retry.
    let (wb, id) = live("drop-always").await;
    fault_on(&wb, &[r#""drop":true,"times":0"#]).await;
    let (e, _) = refresh_err(
        "dropped always",
        with(session_options(&wb, &id), &[("maxRetries", 1.into())]),
        "network",
    )
    .await;
    assert_eq!(get_num(&e, "attempts"), 2.0);
    let dropped = requests(&wb)
        .await
        .iter()
        .filter(|r| get_num(r, "status") == 0.0)
        .count();
    assert!(
        dropped >= 2,
        "both attempts reached the emulator and were dropped ({dropped})"
    );

    // Dropped mid-response (status and half the body), once: the 503 decides, retried.
    let (wb, id) = live("midrop-once").await;
    fault_on(
        &wb,
        &[r#""status":503,"dropMidResponse":true,"retryAfter":"0","times":1"#],
    )
    .await;
    let (attempts, _) = refresh_ok("dropped mid-response once", session_options(&wb, &id)).await;
    assert_eq!(attempts, 2.0);

    // Dropped mid-response on a final 404: the status decides; the cut body is not trusted.
    let (wb, id) = live("midrop-404").await;
    fault_on(
        &wb,
        &[r#""status":404,"innerCode":"invalidSessionReCreatable","dropMidResponse":true,"times":0"#],
    )
    .await;
    let (e, _) = refresh_err("dropped mid-response, 404", session_options(&wb, &id), "notFound").await;
    assert_eq!(get_num(&e, "status"), 404.0);
    assert_eq!(get_num(&e, "attempts"), 1.0);

    // Headers that never come: each attempt ends at timeoutMs; `timeout` at the end.
    let (wb, id) = live("no-headers").await;
    fault_on(&wb, &[r#""delayMs":8000,"times":0"#]).await;
    let o = with(
        session_options(&wb, &id),
        &[("timeoutMs", 300.into()), ("maxRetries", 1.into())],
    );
    let (e, ms) = refresh_err("headers never come", o, "timeout").await;
    assert_eq!(get_num(&e, "attempts"), 2.0);
    assert_eq!(get_num(&e, "status"), 0.0);
    assert!(ms < 6_000.0, "timeouts did not cut the attempts short: {ms} ms");
    survived("transport", 6);
}

#[wasm_bindgen_test]
async fn throttling_with_every_kind_of_retry_after() {
    spy_console();
    // 429 + Retry-After in seconds: waited, then success.
    let (wb, id) = live("429-seconds").await;
    fault_on(&wb, &[r#""status":429,"retryAfter":"1","times":1"#]).await;
    let (attempts, ms) = refresh_ok("429 Retry-After: 1", session_options(&wb, &id)).await;
    assert_eq!(attempts, 2.0);
    assert!(ms >= 900.0, "Retry-After: 1 not honoured ({ms} ms)");

    // 429 + Retry-After as an HTTP-date a few seconds ahead (whole seconds:
    // the wait is 3 to 4 s, less whatever passes before the request).
    let (wb, id) = live("429-date").await;
    let date = http_date(4000.0);
    fault_on(&wb, &[r#""status":429,"times":1"#, &js("retryAfter", &date)]).await;
    let (attempts, ms) = refresh_ok("429 Retry-After: HTTP-date", session_options(&wb, &id)).await;
    assert_eq!(attempts, 2.0);
    assert!(
        (1_000.0..15_000.0).contains(&ms),
        "HTTP-date {date} gave a wait of {ms} ms"
    );

    // 429 + an HTTP-date in the past: retried at once.
    let (wb, id) = live("429-past").await;
    fault_on(
        &wb,
        &[r#""status":429,"times":1,"retryAfter":"Thu, 01 Jan 1970 00:00:00 GMT""#],
    )
    .await;
    let (attempts, ms) = refresh_ok("429 Retry-After in the past", session_options(&wb, &id)).await;
    assert_eq!(attempts, 2.0);
    assert!(ms < 5_000.0, "a past date should not wait ({ms} ms)");

    // 429 + garbage Retry-After: exponential backoff (about 1 s) instead.
    let (wb, id) = live("429-garbage").await;
    fault_on(&wb, &[r#""status":429,"retryAfter":"soon, maybe","times":1"#]).await;
    let (attempts, ms) = refresh_ok("429 garbage Retry-After", session_options(&wb, &id)).await;
    assert_eq!(attempts, 2.0);
    assert!(ms >= 600.0, "garbage Retry-After should fall back to backoff ({ms} ms)");

    // Throttled for good: tooManyRequests with Graph's inner code; no retryAfterMs from garbage.
    let (wb, id) = live("429-final").await;
    fault_on(&wb, &[r#""status":429,"retryAfter":"-1","times":0"#]).await;
    let (e, _) = refresh_err(
        "429 for good",
        with(session_options(&wb, &id), &[("maxRetries", 0.into())]),
        "tooManyRequests",
    )
    .await;
    // The second level decides; the third is detail.
    assert_eq!(
        get_str(&e, "innerCode").as_deref(),
        Some("tooManyRequestsUncategorized")
    );
    let codes: Vec<_> = js_sys::Array::from(&get(&e, "innerCodes"))
        .iter()
        .filter_map(|c| c.as_string())
        .collect();
    assert_eq!(codes, ["tooManyRequestsUncategorized", "ActivityLimitReached"]);
    assert!(get(&e, "retryAfterMs").is_null());
    assert_eq!(get_num(&e, "status"), 429.0);

    // ... and with a readable Retry-After, the caller learns it.
    let (wb, id) = live("429-final-told").await;
    fault_on(&wb, &[r#""status":429,"retryAfter":"7","times":0"#]).await;
    let (e, _) = refresh_err(
        "429 for good, Retry-After: 7",
        with(session_options(&wb, &id), &[("maxRetries", 0.into())]),
        "tooManyRequests",
    )
    .await;
    assert_eq!(get_num(&e, "retryAfterMs"), 7000.0);
    survived("throttling", 6);
}

#[wasm_bindgen_test]
async fn server_errors_and_sequences() {
    spy_console();
    // 503, 504, 503, then success: every retry used, one client-request-id.
    let (wb, id) = live("5xx-then-ok").await;
    for status in ["503", "504", "503"] {
        fault_on(
            &wb,
            &[&["\"status\":", status, r#","retryAfter":"0","times":1"#].concat()],
        )
        .await;
    }
    let (attempts, _) = refresh_ok(
        "503/504/503 then 204",
        with(session_options(&wb, &id), &[("maxRetries", 3.into())]),
    )
    .await;
    assert_eq!(attempts, 4.0);
    let crids: Vec<_> = requests(&wb)
        .await
        .iter()
        .filter(|r| get_str(r, "operation").as_deref() == Some("refreshSession"))
        .map(|r| get_str(r, "clientRequestId"))
        .collect();
    assert_eq!(crids.len(), 4);
    assert!(crids.windows(2).all(|w| w[0] == w[1]), "{crids:?}");

    // 504 that never ends: gatewayTimeout after maxRetries.
    let (wb, id) = live("504-forever").await;
    fault_on(&wb, &[r#""status":504,"retryAfter":"0","times":0"#]).await;
    let (e, _) = refresh_err(
        "504 forever",
        with(session_options(&wb, &id), &[("maxRetries", 2.into())]),
        "gatewayTimeout",
    )
    .await;
    assert_eq!(get_num(&e, "attempts"), 3.0);
    assert_eq!(get_num(&e, "status"), 504.0);

    // 503 that never ends, with a Retry-After that would wait long: the caller's signal ends it.
    let (wb, id) = live("503-forever").await;
    fault_on(&wb, &[r#""status":503,"retryAfter":"120","times":0"#]).await;
    let (e, ms) = refresh_err(
        "503 forever, aborted in the wait",
        with(session_options(&wb, &id), &[("signal", abort_after(500))]),
        "aborted",
    )
    .await;
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert!(ms < 10_000.0);

    // 500 and 502 are not retried.
    for (status, code) in [("500", "internalServerError"), ("502", "badGateway")] {
        let (wb, id) = live(&["status-", status].concat()).await;
        fault_on(&wb, &[&["\"status\":", status, r#","times":0"#].concat()]).await;
        let (e, _) = refresh_err(&[status, " not retried"].concat(), session_options(&wb, &id), code).await;
        assert_eq!(get_num(&e, "attempts"), 1.0, "{status}");
        assert_eq!(
            requests(&wb)
                .await
                .iter()
                .filter(|r| get_str(r, "operation").as_deref() == Some("refreshSession"))
                .count(),
            1
        );
    }
    survived("server errors", 5);
}

#[wasm_bindgen_test]
async fn unauthorized_and_redirects() {
    spy_console();
    // 401: not retried, Graph's code, no token anywhere.
    let (wb, id) = live("401").await;
    fault_on(&wb, &[r#""status":401,"times":0"#]).await;
    let (e, _) = refresh_err("401", session_options(&wb, &id), "InvalidAuthenticationToken").await;
    assert_eq!(get_num(&e, "status"), 401.0);
    assert_eq!(get_num(&e, "attempts"), 1.0);

    // A redirect to another origin (the second emulator, whose request log is
    // the listener). Control: followed by a plain fetch, it lands there.
    let foreign = short_ttl_emulator();
    let marker = ["redirect-target-", &js_sys::Math::random().to_string()[2..10]].concat();
    let control_src = workbook("redirect-control");
    let control_dst = ["/v1.0/me/drive/items/", &marker, "-control/workbook/refreshSession"].concat();
    fault_on(
        &control_src,
        &[
            r#""status":302,"times":1"#,
            &["\"headers\":{", &js("location", &[foreign, &control_dst].concat()), "}"].concat(),
        ],
    )
    .await;
    let control = raw_get(&[emulator(), "/v1.0", &control_src, "/workbook/refreshSession"].concat()).await;
    assert!(control.is_ok(), "control fetch failed: {control:?}");
    assert_eq!(
        logged_at(foreign, &[marker.as_str(), "-control"].concat()).await.len(),
        1,
        "the control redirect did not reach the foreign listener"
    );

    // The library refuses to follow: `network`, and the target saw nothing.
    let (wb, id) = live("redirect").await;
    let target = ["/v1.0/me/drive/items/", &marker, "/workbook/refreshSession"].concat();
    for status in ["302", "307", "308", "301"] {
        fault_on(
            &wb,
            &[
                &["\"status\":", status, r#","times":1"#].concat(),
                &["\"headers\":{", &js("location", &[foreign, &target].concat()), "}"].concat(),
            ],
        )
        .await;
        let (e, _) = refresh_err(
            &["redirect ", status].concat(),
            with(session_options(&wb, &id), &[("maxRetries", 0.into())]),
            "network",
        )
        .await;
        assert_eq!(get_num(&e, "attempts"), 1.0);
    }
    // Same origin, another path: not followed either.
    let same_target = [
        emulator(),
        "/v1.0/me/drive/items/",
        &marker,
        "-same/workbook/refreshSession",
    ]
    .concat();
    fault_on(
        &wb,
        &[
            r#""status":307,"times":1"#,
            &["\"headers\":{", &js("location", &same_target), "}"].concat(),
        ],
    )
    .await;
    refresh_err(
        "redirect 307, same origin",
        with(session_options(&wb, &id), &[("maxRetries", 0.into())]),
        "network",
    )
    .await;
    // To a foreign https host.
    fault_on(
        &wb,
        &[r#""status":301,"times":1,"headers":{"location":"https://evil.example/steal"}"#],
    )
    .await;
    refresh_err(
        "redirect 301 to https://evil.example",
        with(session_options(&wb, &id), &[("maxRetries", 0.into())]),
        "network",
    )
    .await;
    assert!(
        logged_at(foreign, &marker)
            .await
            .iter()
            .all(|r| get_str(r, "path").is_some_and(|p| p.contains("-control"))),
        "a redirect target received a request"
    );
    assert!(
        requests(&[marker.as_str(), "-same"].concat()).await.is_empty(),
        "the same-origin redirect target received a request"
    );
    // The session is untouched: the next refresh works.
    refresh_ok("after the redirects", session_options(&wb, &id)).await;
    survived("401 and redirects", 7);
}

#[wasm_bindgen_test]
async fn odd_bodies() {
    spy_console();
    // An HTML error page (a proxy's), final.
    let (wb, id) = live("html-502").await;
    fault_on(&wb, &[r#""status":502,"contentType":"text/html","body":"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>","times":0"#]).await;
    let (e, _) = refresh_err("HTML 502", session_options(&wb, &id), "badGateway").await;
    assert_eq!(get_num(&e, "status"), 502.0);
    assert!(get(&e, "innerCode").is_null());

    // An HTML 503 page once, then success.
    let (wb, id) = live("html-503").await;
    fault_on(
        &wb,
        &[r#""status":503,"retryAfter":"0","contentType":"text/html","body":"<html>busy</html>","times":1"#],
    )
    .await;
    let (attempts, _) = refresh_ok("HTML 503 then 204", session_options(&wb, &id)).await;
    assert_eq!(attempts, 2.0);

    // Truncated JSON bodies: the status names the error.
    let (wb, id) = live("truncated-400").await;
    fault_on(
        &wb,
        &[r#""status":400,"body":"{\"error\":{\"code\":\"tooMany","times":0"#],
    )
    .await;
    refresh_err("truncated JSON 400", session_options(&wb, &id), "badRequest").await;
    let (wb, id) = live("truncated-404").await;
    fault_on(&wb, &[r#""status":404,"body":"{\"error\":{\"code\":\"itemNotFound\",\"innerError\":{\"code\":\"invalidSessionReCreat","times":0"#]).await;
    let (e, _) = refresh_err("truncated JSON 404", session_options(&wb, &id), "notFound").await;
    assert_eq!(get_num(&e, "status"), 404.0);

    // An empty 429 without a content type.
    let (wb, id) = live("empty-429").await;
    fault_on(&wb, &[r#""status":429,"body":"","contentType":"","times":0"#]).await;
    refresh_err(
        "empty 429",
        with(session_options(&wb, &id), &[("maxRetries", 0.into())]),
        "tooManyRequests",
    )
    .await;

    // A 10 MB error body: read bounded, the status decides, the call ends promptly.
    let (wb, id) = live("10mb").await;
    fault_on(&wb, &[r#""status":500,"bodyBytes":10485760,"times":0"#]).await;
    let memory = wasm_memory_bytes();
    let (e, ms) = refresh_err("10 MB error body", session_options(&wb, &id), "internalServerError").await;
    assert_eq!(get_num(&e, "status"), 500.0);
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert!(ms < 15_000.0, "10 MB body: {ms} ms");
    let grown = wasm_memory_bytes() - memory;
    assert!(
        grown < 4.0 * 1024.0 * 1024.0,
        "wasm memory grew by {grown} bytes: the body was not read bounded"
    );

    // A 10 MB success body for createSession: bounded, then invalidResponse.
    let wb = workbook("fault-10mb-create");
    fault_on(
        &wb,
        &[r#""operation":"createSession","status":201,"bodyBytes":10485760,"times":0"#],
    )
    .await;
    let started = now();
    let e = create_session_js(support::options(&wb)).await.unwrap_err();
    assert_clean(&e, "invalidResponse");
    assert!(now() - started < 15_000.0);

    // A 200 with HTML where JSON belongs (createSession).
    let wb = workbook("fault-html-create");
    fault_on(
        &wb,
        &[r#""operation":"createSession","status":201,"contentType":"text/html","body":"<html>ok</html>","times":0"#],
    )
    .await;
    assert_clean(
        &create_session_js(support::options(&wb)).await.unwrap_err(),
        "invalidResponse",
    );
    survived("odd bodies", 8);
}

#[wasm_bindgen_test]
async fn broken_create_session_flows() {
    spy_console();
    let port = emulator_port();
    let create = |wb: &str| {
        let o = support::options(wb);
        set(&o, "preferAsync", true);
        set(&o, "createTimeoutMs", 20_000);
        o
    };
    // 202 without a Location.
    let wb = workbook("fault-202-nolocation");
    fault_on(
        &wb,
        &[r#""operation":"createSession","status":202,"body":"","times":0"#],
    )
    .await;
    assert_clean(&create_session_js(create(&wb)).await.unwrap_err(), "invalidResponse");

    // 202 whose Location points elsewhere: the token does not follow.
    let marker = ["op-elsewhere-", &js_sys::Math::random().to_string()[2..10]].concat();
    for (location, code) in [
        (
            [
                "http://127.1:",
                &port,
                "/v1.0/me/drive/items/",
                &marker,
                "/workbook/operations/x",
            ]
            .concat(),
            "insecureUrl",
        ),
        (
            [
                "http://2130706433:",
                &port,
                "/v1.0/me/drive/items/",
                &marker,
                "/workbook/operations/x",
            ]
            .concat(),
            "insecureUrl",
        ),
        (
            "https://evil.example/v1.0/me/drive/items/x/workbook/operations/x".to_string(),
            "hostNotAllowed",
        ),
        (
            [
                "//127.0.0.1:",
                &port,
                "/v1.0/me/drive/items/",
                &marker,
                "/workbook/operations/x",
            ]
            .concat(),
            "invalidResponse",
        ),
    ] {
        let wb = workbook("fault-202-elsewhere");
        fault_on(
            &wb,
            &[
                r#""operation":"createSession","status":202,"body":"","times":0"#,
                &["\"headers\":{", &js("location", &location), "}"].concat(),
            ],
        )
        .await;
        let e = create_session_js(create(&wb)).await.unwrap_err();
        assert_clean(&e, code);
    }
    assert!(
        requests(&marker).await.is_empty(),
        "an operation URL outside the policy was requested"
    );

    // The operation succeeds with a resourceLocation elsewhere: not fetched.
    let wb = workbook("fault-resource-elsewhere");
    let resource = [
        "http://127.1:",
        &port,
        "/v1.0/me/drive/items/",
        &marker,
        "-res/workbook/sessionInfoResource(key='k')",
    ]
    .concat();
    let body = ["{\"status\":\"succeeded\",", &js("resourceLocation", &resource), "}"].concat();
    fault_on(
        &wb,
        &[r#""operation":"operation","status":200,"times":0"#, &js("body", &body)],
    )
    .await;
    assert_clean(&create_session_js(create(&wb)).await.unwrap_err(), "insecureUrl");
    assert!(
        requests(&[marker.as_str(), "-res"].concat()).await.is_empty(),
        "a resourceLocation outside the policy was requested"
    );

    // The operation answers HTML.
    let wb = workbook("fault-op-html");
    fault_on(
        &wb,
        &[r#""operation":"operation","status":200,"contentType":"text/html","body":"<html>?</html>","times":0"#],
    )
    .await;
    assert_clean(&create_session_js(create(&wb)).await.unwrap_err(), "invalidResponse");

    // The operation is throttled once, then the flow completes.
    let wb = workbook("fault-op-429");
    fault_on(
        &wb,
        &[r#""operation":"operation","status":429,"retryAfter":"0","times":1"#],
    )
    .await;
    let s = create_session_js(create(&wb))
        .await
        .expect("create after a throttled poll");
    assert!(get_str(&s, "id").is_some());

    // The operation fails, every time, with a code that says to resend:
    // createSession is sent again within maxRetries, then the error is final.
    let wb = workbook("fault-op-fails");
    fault_on(
        &wb,
        &[r#""operation":"createSession","operationFails":true,"status":503,"times":0"#],
    )
    .await;
    let o = create(&wb);
    set(&o, "maxRetries", 1);
    let e = create_session_js(o).await.unwrap_err();
    assert_clean(&e, "serviceUnavailable");
    assert_eq!(
        get_str(&e, "innerCode").as_deref(),
        Some("serviceUnavailableUncategorized")
    );
    assert_eq!(logged(&wb, "createSession").await.len(), 2);
    survived("createSession flows", 9);
}

#[wasm_bindgen_test]
async fn a_server_that_echoes_the_token() {
    spy_console();
    let t = TOKEN;
    // Everywhere in an error body, whole and in pieces, and as the
    // request-id header.
    let (wb, id) = live("echo").await;
    let body = [
        "{\"error\":{",
        &js("code", t),
        ",",
        &js(
            "message",
            &["token ", t, " is bad; it began ", &t[..18], "…, and ended ", &t[4..]].concat(),
        ),
        ",\"innerError\":{",
        &js("code", t),
        ",",
        &js("request-id", t),
        ",",
        &js("client-request-id", t),
        ",",
        &js("date", t),
        ",\"innerError\":{",
        &js("code", &["x", t, "y"].concat()),
        "}}}}",
    ]
    .concat();
    fault_on(
        &wb,
        &[
            r#""status":401,"times":0"#,
            &js("body", &body),
            &["\"headers\":{", &js("request-id", t), "}"].concat(),
        ],
    )
    .await;
    let started = now();
    let e = refresh_session_js(session_options(&wb, &id)).await.unwrap_err();
    assert_eq!(get_num(&e, "status"), 401.0);
    assert_token_free(&e);
    assert!(now() - started < 10_000.0);

    // In a failed createSession operation.
    let wb = workbook("fault-echo-op");
    let op_body = [
        "{\"status\":\"failed\",\"error\":{",
        &js("code", t),
        ",",
        &js("message", &[t, "; it began ", &t[..18], "…"].concat()),
        "}}",
    ]
    .concat();
    fault_on(
        &wb,
        &[
            r#""operation":"operation","status":200,"times":0"#,
            &js("body", &op_body),
        ],
    )
    .await;
    let o = support::options(&wb);
    set(&o, "preferAsync", true);
    let e = create_session_js(o).await.unwrap_err();
    assert_token_free(&e);

    // In a $batch item's answer.
    let (wb, id) = live("echo-batch").await;
    fault_on(
        &wb,
        &[
            r#""operation":"refreshSession","status":403,"times":0"#,
            &js("code", t),
            &js("innerCode", t),
        ],
    )
    .await;
    let item: JsValue = Object::new().into();
    set(&item, "workbook", wb.as_str());
    set(&item, "sessionId", id.as_str());
    let o = support::options("/unused");
    let out = Array::from(&refresh_sessions_js(Array::of1(&item).into(), o).await.expect("batch"));
    assert_eq!(get_num(&out.get(0), "status"), 403.0);
    assert_token_free(&out.get(0));
    survived("token echo", 3);
}

#[wasm_bindgen_test]
async fn batch_faults() {
    spy_console();
    let mut items_of = Vec::new();
    for n in 0..3 {
        items_of.push(live(&["batch-", &n.to_string()].concat()).await);
    }
    let items = || {
        let a = Array::new();
        for (wb, id) in &items_of {
            let item: JsValue = Object::new().into();
            set(&item, "workbook", wb.as_str());
            set(&item, "sessionId", id.as_str());
            a.push(&item);
        }
        JsValue::from(a)
    };
    // A version prefix of its own, so the outer $batch faults match only
    // this test's batches (the emulator serves any version).
    let version = ["/v-batch-", &js_sys::Math::random().to_string()[2..10]].concat();
    let opts = |retries: u32| {
        let o = support::options("/unused");
        set(&o, "maxRetries", retries);
        set(&o, "baseUrl", [emulator(), &version].concat());
        o
    };
    let on_batch = |rest: &'static str| {
        [
            js("pathContains", &[version.as_str(), "/$batch"].concat()),
            r#","operation":"batch","#.into(),
            rest.into(),
        ]
        .concat()
    };
    // The outer $batch answers 503 once: the whole batch is sent again.
    fault_json(&[&on_batch(r#""status":503,"retryAfter":"0","times":1"#)]).await;
    let out = Array::from(&refresh_sessions_js(items(), opts(3)).await.expect("batch"));
    assert!(out.iter().all(|r| get_num(&r, "status") == 204.0), "{out:?}");

    // One inner item throttled once: only it is sent again.
    fault_on(
        &items_of[1].0,
        &[r#""operation":"refreshSession","status":429,"retryAfter":"0","times":1"#],
    )
    .await;
    let out = Array::from(&refresh_sessions_js(items(), opts(3)).await.expect("batch"));
    assert_eq!(get_num(&out.get(1), "attempts"), 2.0);
    assert_eq!(get_num(&out.get(0), "attempts"), 1.0);
    assert!(out.iter().all(|r| get_num(&r, "status") == 204.0));

    // The batch connection dropped every time: every item a clean `network` error.
    fault_json(&[&on_batch(r#""drop":true,"times":0"#)]).await;
    let out = Array::from(&refresh_sessions_js(items(), opts(0)).await.expect("batch resolves"));
    for r in out.iter() {
        assert_clean(&r, "network");
    }

    // The batch answers HTML with 200: every item invalidResponse.
    let version = ["/v-batch-html-", &js_sys::Math::random().to_string()[2..10]].concat();
    let o = opts(0);
    set(&o, "baseUrl", [emulator(), &version].concat());
    fault_json(&[
        &js("pathContains", &version),
        r#""operation":"batch","status":200,"contentType":"text/html","body":"<html>?</html>","times":0"#,
    ])
    .await;
    let out = Array::from(&refresh_sessions_js(items(), o).await.expect("batch resolves"));
    for r in out.iter() {
        assert_clean(&r, "invalidResponse");
    }
    survived("$batch", 4);
}
