//! Issue 21 point 6, in Node and headless Chromium: who may call. Graph
//! supports createSession, refreshSession and closeSession with delegated
//! work or school tokens only (their permission tables: Application and
//! personal Microsoft accounts "Not supported"), on the global, US
//! Government L4 and L5 clouds (not China operated by 21Vianet). A refusal
//! of an app-only token says a delegated one is needed; the default hosts
//! are the supported clouds, others only through `allowedHosts`.
#![cfg(target_arch = "wasm32")]

mod support;

use graph_workbook_session::{create_session_js, refresh_session_js};
use js_sys::{Array, Function};
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

/// An unsigned JWT with these claims (a JSON object's text).
fn jwt(claims: &str) -> String {
    Function::new_with_args(
        "c",
        "const b = (s) => btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');\
         return b('{\"alg\":\"RS256\",\"typ\":\"JWT\"}') + '.' + b(c) + '.c2lnbmF0dXJl';",
    )
    .call1(&JsValue::NULL, &claims.into())
    .unwrap()
    .as_string()
    .unwrap()
}

const HINT: &str = "Workbook sessions need a delegated token";

#[wasm_bindgen_test]
async fn a_refused_app_only_token_asks_for_a_delegated_one() {
    let cases = [
        (r#"{"roles":["Files.ReadWrite.All"],"appid":"a"}"#, 403, true),
        (r#"{"idtyp":"app"}"#, 401, true),
        (r#"{"scp":"Files.ReadWrite","idtyp":"user"}"#, 403, false),
        (r#"{"scp":"Files.ReadWrite","roles":["Admin"]}"#, 401, false),
    ];
    for (i, (claims, status, hinted)) in cases.into_iter().enumerate() {
        let wb = workbook(&["delegated-", &i.to_string()].concat());
        let spec = [
            r#"{"operation":"createSession","status":"#,
            &status.to_string(),
            r#","pathContains":""#,
            &wb,
            r#""}"#,
        ]
        .concat();
        fault(&spec).await;
        let token = jwt(claims);
        let o = options(&wb);
        set(&o, "accessToken", token.as_str());
        let e = create_session_js(o).await.unwrap_err();
        assert_eq!(get_num(&e, "status") as u16, status, "{claims}");
        let message = get_str(&e, "message").unwrap_or_default();
        assert_eq!(message.contains(HINT), hinted, "{claims}: {message}");
        assert!(!message.contains(&token), "the token is never in the message");
    }
}

#[wasm_bindgen_test]
async fn china_and_canary_only_through_allowed_hosts() {
    let sent = Array::new();
    let fetch = Function::new_with_args(
        "sent",
        "return (url) => { sent.push(new URL(url).host); return Promise.resolve(new Response(null, { status: 204 })); };",
    )
    .call1(&JsValue::NULL, &sent)
    .unwrap();
    for host in [
        "graph.microsoft.com",
        "graph.microsoft.us",
        "dod-graph.microsoft.us",
        "microsoftgraph.chinacloudapi.cn",
        "canary.graph.microsoft.com",
    ] {
        let supported = !matches!(host, "microsoftgraph.chinacloudapi.cn" | "canary.graph.microsoft.com");
        let o = session_options("/me/drive/items/HOSTS", "s");
        set(&o, "baseUrl", ["https://", host, "/v1.0"].concat());
        set(&o, "fetch", fetch.clone());
        let before = sent.length();
        match refresh_session_js(o.clone()).await {
            Ok(r) => assert!(supported, "{host} was allowed by default: {r:?}"),
            Err(e) => {
                assert!(!supported, "{host}: {:?}", get_str(&e, "message"));
                assert_graph_error(&e, "hostNotAllowed");
                assert_eq!(sent.length(), before, "nothing sent to {host}");
            }
        }
        set(&o, "allowedHosts", Array::of1(&host.into()));
        let r = refresh_session_js(o).await.expect("allowed through allowedHosts");
        assert_eq!(get_num(&r, "status"), 204.0, "{host}");
    }
    assert_eq!(sent.length(), 8);
}
