//! Issue 14, in Node and headless Chromium: every rejection is an instance
//! of the exported `GraphError` class, with `toJSON()` and the token
//! provider's own error as `cause`; every Graph token source (function,
//! AuthenticationProvider, TokenCredential with its scopes, Kiota with the
//! request URL); one fresh token and one resend after a 401; the caller's
//! `fetch` for every request of a call; `Symbol.asyncDispose`.
#![cfg(target_arch = "wasm32")]

mod support;

use graph_workbook_session::{
    close_session_js, create_session_js, graph_error_class, refresh_session_js, refresh_sessions_js, WorkbookSession,
};
use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

fn closed_url() -> String {
    [option_env!("GRAPH_CLOSED_URL").unwrap_or("http://127.0.0.1:2"), "/v1.0"].concat()
}

/// A JS value made by `body` (a function body with `t` = the test token).
fn js(body: &str) -> JsValue {
    Function::new_with_args("t", body)
        .call1(&JsValue::NULL, &TOKEN.into())
        .unwrap()
}

fn with(o: JsValue, k: &str, v: impl Into<JsValue>) -> JsValue {
    set(&o, k, v);
    o
}

/// Asserts `e` is an instance of the exported class (and of Error), and
/// carries no token.
fn assert_instance(e: &JsValue, code: &str, what: &str) {
    let class: Function = graph_error_class().unchecked_into();
    assert!(e.is_instance_of::<js_sys::Error>(), "{what}: not an Error: {e:?}");
    assert!(
        Reflect::get(&class, &"prototype".into())
            .map(|p| Object::from(p).is_prototype_of(e))
            .unwrap_or(false),
        "{what}: not instanceof GraphError: {e:?}"
    );
    assert_graph_error(e, code);
}

async fn rejection(p: Promise) -> JsValue {
    JsFuture::from(p).await.expect_err("must reject")
}

fn call_method(o: &JsValue, name: &str, args: &[&JsValue]) -> JsValue {
    let f: Function = get(o, name).unchecked_into();
    let a: Array = args.iter().copied().collect();
    Reflect::apply(&f, o, &a).unwrap()
}

#[wasm_bindgen_test]
async fn every_rejection_is_an_instance_of_graph_error() {
    let wb = workbook("instances");
    // invalidArgument, before any request: every export and constructor.
    let e = refresh_session_js(Object::new().into()).await.unwrap_err();
    assert_instance(&e, "invalidArgument", "refreshSession({})");
    let e = close_session_js(options(&wb)).await.unwrap_err();
    assert_instance(&e, "invalidArgument", "closeSession without sessionId");
    let e = create_session_js(JsValue::NULL).await.unwrap_err();
    assert_instance(&e, "invalidArgument", "createSession(null)");
    let e = refresh_sessions_js(JsValue::from(5), options(&wb)).await.unwrap_err();
    assert_instance(&e, "invalidArgument", "refreshSessions(5)");
    let e = WorkbookSession::create(JsValue::UNDEFINED).await.err().unwrap();
    assert_instance(&e, "invalidArgument", "WorkbookSession.create()");
    let e = WorkbookSession::attach(options(&wb)).err().unwrap();
    assert_instance(&e, "invalidArgument", "WorkbookSession.attach without sessionId");
    // Graph's own errors (an unknown session's plain 404), a refused
    // connection, a timeout, an aborted call, a failing provider.
    let e = refresh_session_js(session_options(&wb, "cluster=EMU&session=gone"))
        .await
        .unwrap_err();
    assert_instance(&e, EXPIRED, "refresh of an unknown session");
    let o = with(with(options(&wb), "baseUrl", closed_url()), "maxRetries", 0);
    let e = create_session_js(o).await.unwrap_err();
    assert_instance(&e, "network", "createSession to a closed port");
    fault(
        &[
            r#"{"operation":"refreshSession","delayMs":2000,"pathContains":""#,
            &wb,
            r#""}"#,
        ]
        .concat(),
    )
    .await;
    let o = with(with(session_options(&wb, "s"), "timeoutMs", 200), "maxRetries", 0);
    let e = refresh_session_js(o).await.unwrap_err();
    assert_instance(&e, "timeout", "a timed-out refresh");
    let o = with(
        session_options(&wb, "s"),
        "signal",
        js("const c = new AbortController(); c.abort(); return c.signal"),
    );
    let e = refresh_session_js(o).await.unwrap_err();
    assert_instance(&e, "aborted", "an aborted refresh");
    let o = with(
        session_options(&wb, "s"),
        "accessToken",
        js("return () => { throw new Error('no') }"),
    );
    let e = refresh_session_js(o).await.unwrap_err();
    assert_instance(&e, "tokenProvider", "a throwing provider");
    // refreshSessions' per-item errors.
    let items = js("return [{ workbook: '/me/drive/items/x', sessionId: 'cluster=EMU&session=gone' }]");
    let out = refresh_sessions_js(items, options(&wb)).await.unwrap();
    assert_instance(&Array::from(&out).get(0), EXPIRED, "a refreshSessions entry");
    // WorkbookSession's methods and callbacks.
    let id = raw_create_session(&wb, true).await;
    let session = WorkbookSession::attach_js(with(session_options(&wb, &id), "maxRetries", 0)).unwrap();
    let (on_error, errors) = recorder();
    fault(
        &[
            r#"{"operation":"refreshSession","status":503,"retryAfter":"","pathContains":""#,
            &wb,
            r#""}"#,
        ]
        .concat(),
    )
    .await;
    let ka = with(with(Object::new().into(), "intervalMs", 50), "onError", on_error);
    call_method(&session, "keepAlive", &[&ka]);
    assert!(
        wait_for(10_000, || !errors.borrow().is_empty()).await,
        "onError was not called"
    );
    assert_instance(&errors.borrow()[0], "serviceUnavailable", "onError's argument");
    call_method(&session, "stop", &[]);
    JsFuture::from(Promise::from(call_method(&session, "close", &[])))
        .await
        .unwrap();
    let e = rejection(call_method(&session, "refresh", &[]).into()).await;
    assert_instance(&e, "invalidArgument", "refresh() after close()");
    let e = rejection(call_method(&session, "close", &[&JsValue::from(3)]).into()).await;
    assert_instance(&e, "invalidArgument", "close(3)");
    let keep_alive: Function = get(&session, "keepAlive").unchecked_into();
    let thrown = Reflect::apply(&keep_alive, &session, &Array::new()).unwrap_err();
    assert_instance(&thrown, "invalidArgument", "keepAlive() after close()");
}

#[wasm_bindgen_test]
async fn to_json_gives_the_documented_fields_and_never_the_token() {
    let wb = workbook("tojson");
    fault(
        &[
            r#"{"operation":"refreshSession","status":429,"retryAfter":"7","pathContains":""#,
            &wb,
            r#""}"#,
        ]
        .concat(),
    )
    .await;
    let o = with(session_options(&wb, "s"), "maxRetryAfterMs", 0);
    let e = refresh_session_js(o).await.unwrap_err();
    assert_instance(&e, "tooManyRequests", "429");
    let json = call_method(&e, "toJSON", &[]);
    let keys: Vec<String> = Object::keys(&json.clone().into())
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "message",
            "code",
            "innerCode",
            "innerCodes",
            "status",
            "requestId",
            "clientRequestId",
            "retryAfterMs",
            "attempts",
            "recreatable",
            "date"
        ]
    );
    assert_eq!(get_str(&json, "name").as_deref(), Some("GraphError"));
    assert_eq!(get_str(&json, "message"), get_str(&e, "message"));
    assert_eq!(get_num(&json, "status"), 429.0);
    assert_eq!(get_num(&json, "retryAfterMs"), 7000.0);
    assert_eq!(get_num(&json, "attempts"), 1.0);
    assert_eq!(
        get_str(&json, "innerCode").as_deref(),
        Some("tooManyRequestsUncategorized")
    );
    assert!(get_str(&json, "requestId").is_some() && get_str(&json, "clientRequestId").is_some());
    assert!(!get(&json, "recreatable").is_truthy());
    // A provider whose error quotes the token: the cause is kept, as given,
    // but neither the message nor toJSON() carries the token.
    let o = with(
        session_options(&wb, "s"),
        "accessToken",
        js("return () => Promise.reject(new Error('expired: ' + t))"),
    );
    let e = refresh_session_js(o).await.unwrap_err();
    assert_instance(&e, "tokenProvider", "a rejecting provider");
    let text = JSON::stringify(&e).unwrap().as_string().unwrap();
    assert!(!text.contains(TOKEN) && !text.contains("cause"), "{text}");
    assert!(get_str(&get(&e, "cause"), "message").is_some_and(|m| m.contains(TOKEN)));
}

#[wasm_bindgen_test]
async fn cause_is_the_token_providers_own_error() {
    let wb = workbook("cause");
    let sources = js(
        "class InteractionRequiredAuthError extends Error { constructor() { super('interaction_required'); this.name = 'InteractionRequiredAuthError'; this.errorCode = 'interaction_required'; } }
         const mk = () => new InteractionRequiredAuthError();
         const cases = [];
         const add = (label, make) => { const err = mk(); cases.push([label, make(err), err]); };
         add('function throws', (err) => () => { throw err; });
         add('async function rejects', (err) => async () => { throw err; });
         add('getAccessToken rejects', (err) => ({ getAccessToken: () => Promise.reject(err) }));
         add('getToken rejects', (err) => ({ getToken: async () => { throw err; } }));
         add('getAuthorizationToken throws', (err) => ({ getAuthorizationToken() { throw err; } }));
         return cases;",
    );
    for case in Array::from(&sources).iter() {
        let case = Array::from(&case);
        let label = case.get(0).as_string().unwrap();
        let o = with(session_options(&wb, "s"), "accessToken", case.get(1));
        let e = refresh_session_js(o).await.unwrap_err();
        assert_instance(&e, "tokenProvider", &label);
        assert!(
            Object::is(&get(&e, "cause"), &case.get(2)),
            "{label}: cause is not the provider's error"
        );
        assert_eq!(
            get_str(&get(&e, "cause"), "name").as_deref(),
            Some("InteractionRequiredAuthError")
        );
        assert_eq!(get_num(&e, "attempts"), 0.0, "{label}");
    }
    // A thrown string may be the token itself: not kept.
    let o = with(session_options(&wb, "s"), "accessToken", js("return () => { throw t }"));
    let e = refresh_session_js(o).await.unwrap_err();
    assert_instance(&e, "tokenProvider", "throws a string");
    assert!(
        !Reflect::has(&e, &"cause".into()).unwrap(),
        "a thrown string became the cause"
    );
    // Errors without a provider have no cause.
    let e = refresh_session_js(session_options(&wb, "cluster=EMU&session=gone"))
        .await
        .unwrap_err();
    assert!(!Reflect::has(&e, &"cause".into()).unwrap());
}

/// A TokenCredential recording its arguments; `result` is what getToken gives.
fn credential(result: &str) -> (JsValue, JsValue) {
    let pair = js(&[
        "const calls = []; return [{ async getToken(scopes, options) { calls.push({ scopes, aborted: options.abortSignal.aborted }); return ",
        result,
        "; } }, calls];",
    ]
    .concat());
    let pair = Array::from(&pair);
    (pair.get(0), pair.get(1))
}

#[wasm_bindgen_test]
async fn token_credential_is_asked_for_graphs_default_scope_or_the_scopes_option() {
    let wb = workbook("credential");
    let id = raw_create_session(&wb, true).await;
    let (cred, calls) = credential("{ token: t, expiresOnTimestamp: Date.now() + 3600000 }");
    let r = refresh_session_js(with(session_options(&wb, &id), "accessToken", cred.clone()))
        .await
        .expect("refresh");
    assert_eq!(get_num(&r, "status"), 204.0);
    let seen = Array::from(&calls).get(0);
    // Loopback stands for Graph: Graph's default host.
    assert_eq!(
        JSON::stringify(&get(&seen, "scopes")).unwrap().as_string().unwrap(),
        r#"["https://graph.microsoft.com/.default"]"#
    );
    assert_eq!(
        get(&seen, "aborted").as_bool(),
        Some(false),
        "an AbortSignal was passed"
    );
    let o = with(session_options(&wb, &id), "accessToken", cred);
    set(&o, "scopes", js("return ['api://contoso/.default', 'Files.ReadWrite']"));
    refresh_session_js(o).await.expect("refresh with scopes");
    assert_eq!(
        JSON::stringify(&get(&Array::from(&calls).get(1), "scopes"))
            .unwrap()
            .as_string()
            .unwrap(),
        r#"["api://contoso/.default","Files.ReadWrite"]"#
    );
    // null is no token; wrong scopes are refused before any request.
    let (none, _) = credential("null");
    let e = refresh_session_js(with(session_options(&wb, &id), "accessToken", none))
        .await
        .unwrap_err();
    assert_instance(&e, "tokenProvider", "getToken gives null");
    let (bad, _) = credential("{ expiresOnTimestamp: 1 }");
    let e = refresh_session_js(with(session_options(&wb, &id), "accessToken", bad))
        .await
        .unwrap_err();
    assert_instance(&e, "tokenProvider", "getToken gives no token field");
    let before = requests(&wb).await.len();
    for scopes in [
        "return []",
        "return 'User.Read'",
        "return ['']",
        "return ['a b']",
        "return [7]",
    ] {
        let o = with(session_options(&wb, &id), "scopes", js(scopes));
        let e = refresh_session_js(o).await.unwrap_err();
        assert_instance(&e, "invalidArgument", scopes);
        assert!(get_str(&e, "message").unwrap().contains("scopes"), "{scopes}");
    }
    assert_eq!(requests(&wb).await.len(), before, "a request left with invalid scopes");
}

#[wasm_bindgen_test]
async fn kiota_provider_is_given_the_request_url() {
    let wb = workbook("kiota");
    let pair = Array::from(&js(
        "const urls = []; return [{ getAuthorizationToken: async (url) => { urls.push(url); return t; }, getAllowedHostsValidator() {} }, urls];",
    ));
    let (kiota, urls) = (pair.get(0), pair.get(1));
    let info = create_session_js(with(options(&wb), "accessToken", kiota.clone()))
        .await
        .expect("create");
    let id = get_str(&info, "id").unwrap();
    refresh_session_js(with(session_options(&wb, &id), "accessToken", kiota.clone()))
        .await
        .expect("refresh");
    let items = Array::of1(&js(
        &["return { workbook: '", &wb, "', sessionId: '", &id, "' }"].concat()
    ));
    let batch = with(Object::new().into(), "accessToken", kiota.clone());
    set(&batch, "baseUrl", base_url());
    refresh_sessions_js(items.into(), batch).await.expect("batch");
    let urls: Vec<String> = Array::from(&urls).iter().map(|u| u.as_string().unwrap()).collect();
    let at = |end: &str| [base_url(), wb.clone(), "/workbook/".into(), end.into()].concat();
    assert_eq!(
        urls,
        [
            at("createSession"),
            at("refreshSession"),
            [base_url(), "/$batch".into()].concat()
        ]
    );
}

/// A `fetch` that records each request's URL and Authorization header,
/// then sends it with the global `fetch`.
fn recording_fetch() -> (JsValue, JsValue) {
    let pair = Array::from(&js("const seen = []; return [(url, init) => { seen.push([url, init.headers.authorization ?? init.headers.Authorization]); return fetch(url, init); }, seen];"));
    (pair.get(0), pair.get(1))
}

fn seen_auth(seen: &JsValue) -> Vec<String> {
    Array::from(seen)
        .iter()
        .map(|s| Array::from(&s).get(1).as_string().unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn a_401_gets_one_fresh_token_and_one_resend() {
    let wb = workbook("renew");
    let id = raw_create_session(&wb, true).await;
    let provider = || js("let n = 0; return () => t + '-' + (++n);");
    let unauthorized = |times: u32| {
        [
            r#"{"operation":"refreshSession","status":401,"times":"#,
            &times.to_string(),
            r#","pathContains":""#,
            &wb,
            r#""}"#,
        ]
        .concat()
    };
    // One 401: a fresh token, one resend, not counted against maxRetries.
    fault(&unauthorized(1)).await;
    let (f, seen) = recording_fetch();
    let o = with(
        with(with(session_options(&wb, &id), "accessToken", provider()), "fetch", f),
        "maxRetries",
        0,
    );
    let r = refresh_session_js(o).await.expect("resent with a fresh token");
    assert_eq!(get_num(&r, "status"), 204.0);
    assert_eq!(get_num(&r, "attempts"), 2.0);
    let t = |n: &str| ["Bearer ", TOKEN, "-", n].concat();
    assert_eq!(seen_auth(&seen), [t("1"), t("2")]);
    // Two 401s: only one renewal; the second 401 ends the call, no token in it.
    fault(&unauthorized(2)).await;
    let (f, seen) = recording_fetch();
    let o = with(with(session_options(&wb, &id), "accessToken", provider()), "fetch", f);
    let e = refresh_session_js(o).await.unwrap_err();
    assert_instance(&e, "InvalidAuthenticationToken", "two 401s");
    assert_eq!(get_num(&e, "status"), 401.0);
    assert_eq!(get_num(&e, "attempts"), 2.0);
    assert_eq!(seen_auth(&seen), [t("1"), t("2")]);
    let text = JSON::stringify(&e).unwrap().as_string().unwrap();
    assert!(!text.contains(TOKEN), "{text}");
    // A string cannot be renewed: the 401 is final at once.
    fault(&unauthorized(1)).await;
    let e = refresh_session_js(session_options(&wb, &id)).await.unwrap_err();
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert_eq!(get_num(&e, "status"), 401.0);
    // A provider failing at the renewal: tokenProvider, with its cause.
    fault(&unauthorized(1)).await;
    let flaky =
        js("let n = 0; const err = new Error('gone'); return [() => { if (++n > 1) throw err; return t; }, err];");
    let flaky = Array::from(&flaky);
    let e = refresh_session_js(with(session_options(&wb, &id), "accessToken", flaky.get(0)))
        .await
        .unwrap_err();
    assert_instance(&e, "tokenProvider", "renewal fails");
    assert_eq!(get_num(&e, "attempts"), 1.0);
    assert!(Object::is(&get(&e, "cause"), &flaky.get(1)));
}

#[wasm_bindgen_test]
async fn keep_alive_treats_a_401_as_transient_with_a_renewable_token_only() {
    for (renewable, will_retry) in [(true, true), (false, false)] {
        let wb = workbook(if renewable { "ka401fn" } else { "ka401str" });
        let id = raw_create_session(&wb, true).await;
        // Two 401s: the refresh and its one resend with a fresh token.
        fault(
            &[
                r#"{"operation":"refreshSession","status":401,"times":2,"pathContains":""#,
                &wb,
                r#""}"#,
            ]
            .concat(),
        )
        .await;
        let o = session_options(&wb, &id);
        if renewable {
            set(&o, "accessToken", js("return async () => t"));
        }
        let session = WorkbookSession::attach_js(o).unwrap();
        let (on_error, seen) = recorder();
        let record_both = js("return (rec) => (e, next) => rec([e, next])").unchecked_into::<Function>();
        let cb = record_both.call1(&JsValue::NULL, &on_error).unwrap();
        let ka = with(with(Object::new().into(), "intervalMs", 50), "onError", cb);
        call_method(&session, "keepAlive", &[&ka]);
        assert!(
            wait_for(10_000, || !seen.borrow().is_empty()).await,
            "onError was not called"
        );
        let args = Array::from(&seen.borrow()[0]);
        assert_instance(&args.get(0), "InvalidAuthenticationToken", "keep-alive's 401");
        assert_eq!(
            get(&args.get(1), "willRetry").as_bool(),
            Some(will_retry),
            "renewable: {renewable}"
        );
        if renewable {
            // The next tick refreshes the session.
            let (on_refresh, ok) = recorder();
            let ka = with(with(Object::new().into(), "intervalMs", 50), "onRefresh", on_refresh);
            call_method(&session, "keepAlive", &[&ka]);
            assert!(
                wait_for(10_000, || !ok.borrow().is_empty()).await,
                "keep-alive did not go on"
            );
        }
        JsFuture::from(Promise::from(call_method(&session, "close", &[])))
            .await
            .unwrap();
    }
}

#[wasm_bindgen_test]
async fn the_fetch_option_sends_every_request_of_the_call() {
    let wb = workbook("fetchopt");
    let count = |seen: &JsValue| Array::from(seen).length() as usize;
    let logged = |wb: String| async move {
        requests(&wb)
            .await
            .iter()
            .filter(|q| !get(q, "batch").is_truthy())
            .count()
    };
    // createSession's 202 flow: the POST, each poll and the session info.
    let (f, seen) = recording_fetch();
    let o = with(with(options(&wb), "fetch", f.clone()), "preferAsync", true);
    let info = create_session_js(o).await.expect("create");
    let id = get_str(&info, "id").unwrap();
    assert!(count(&seen) >= 3, "the 202 flow: {}", count(&seen));
    assert_eq!(count(&seen), logged(wb.clone()).await);
    refresh_session_js(with(session_options(&wb, &id), "fetch", f.clone()))
        .await
        .expect("refresh");
    assert_eq!(count(&seen), logged(wb.clone()).await);
    let items = Array::of1(&js(
        &["return { workbook: '", &wb, "', sessionId: '", &id, "' }"].concat()
    ));
    let batch = with(Object::new().into(), "accessToken", TOKEN);
    set(&batch, "baseUrl", base_url());
    set(&batch, "fetch", f.clone());
    let before = count(&seen);
    refresh_sessions_js(items.into(), batch).await.expect("batch");
    assert_eq!(count(&seen), before + 1);
    assert!(Array::from(&seen)
        .get(before as u32)
        .dyn_into::<Array>()
        .unwrap()
        .get(0)
        .as_string()
        .unwrap()
        .ends_with("/$batch"));
    // A WorkbookSession keeps the caller's fetch for its later requests.
    let session = WorkbookSession::create_js(with(options(&wb), "fetch", f.clone()))
        .await
        .expect("session");
    JsFuture::from(Promise::from(call_method(&session, "refresh", &[])))
        .await
        .expect("session refresh");
    JsFuture::from(Promise::from(call_method(&session, "close", &[])))
        .await
        .expect("session close");
    close_session_js(with(session_options(&wb, &id), "fetch", f.clone()))
        .await
        .expect("close");
    assert_eq!(
        count(&seen),
        logged(wb.clone()).await + 1,
        "every request went through the caller's fetch"
    );
    // Checked before any request; a fetch that throws or answers no Response is a network error.
    let e = refresh_session_js(with(session_options(&wb, &id), "fetch", "https://proxy.example"))
        .await
        .unwrap_err();
    assert_instance(&e, "invalidArgument", "fetch: a string");
    for bad in [
        "return () => { throw new TypeError('down') }",
        "return async () => ({})",
        "return () => 5",
    ] {
        let o = with(with(session_options(&wb, &id), "fetch", js(bad)), "maxRetries", 0);
        let e = refresh_session_js(o).await.unwrap_err();
        assert_instance(&e, "network", bad);
    }
}

#[wasm_bindgen_test]
async fn symbol_async_dispose_closes_the_session_and_propagates_a_failed_close() {
    let wb = workbook("dispose");
    let session = WorkbookSession::create_js(options(&wb)).await.expect("create");
    let id = get_str(&session, "id").unwrap();
    let key = js("return Symbol.asyncDispose");
    if !key.is_symbol() {
        return; // a runtime without Symbol.asyncDispose (Node < 20.4)
    }
    let dispose: Function = Reflect::get(&session, &key).unwrap().unchecked_into();
    let out = JsFuture::from(Promise::from(dispose.call0(&session).unwrap()))
        .await
        .expect("disposed");
    assert!(out.is_undefined());
    assert_eq!(get_str(&session, "state").as_deref(), Some("closed"));
    assert!(!sessions()
        .await
        .iter()
        .any(|s| get_str(s, "id").as_deref() == Some(id.as_str())));
    // A close that fails rejects the disposal with its GraphError.
    let o = with(
        with(session_options(&wb, "s"), "baseUrl", closed_url()),
        "maxRetries",
        0,
    );
    let broken = WorkbookSession::attach_js(o).unwrap();
    let e = rejection(dispose.call0(&broken).unwrap().into()).await;
    assert_instance(&e, "network", "disposal of an unreachable session");
}
