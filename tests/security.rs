//! The token stays where it belongs, proven at the receiving end, in Node
//! and headless Chromium: listeners on addresses outside the policy receive
//! nothing, and the same listener receives the token only under a name the
//! policy allows.
//!
//! What each runtime can prove (see tests/FAULTS.md, "Security"):
//! * Both: the emulator's request log is a listener on loopback, reachable
//!   under names the policy does not treat as loopback (`127.1`,
//!   `2130706433`, `0x7f000001`, and in Chromium `*.localhost`). A control
//!   fetch shows each name reaches it; the library's call then leaves no
//!   entry. With `allowedHosts` naming it, https is attempted and fails (the
//!   emulator speaks plain http), still with no entry.
//! * Node also: a raw TCP listener (`node:net`) counts connections and keeps
//!   every byte: on a non-loopback address of the machine (http refused: no
//!   connection at all), and on loopback under a non-policy name over https
//!   (refused: no connection; with `allowedHosts`: a TLS handshake arrives,
//!   never the token in clear). Chromium has no raw sockets, so there a
//!   TLS attempt is only seen in the library's own `attempts`.
#![cfg(target_arch = "wasm32")]

mod hardening;
mod support;

use graph_workbook_session::{create_session_js, refresh_session_js};
use hardening::*;
use js_sys::Array;
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

fn opts_at(base: &str, wb: &str, id: &str, allowed: Option<&str>) -> JsValue {
    let o = session_options(wb, id);
    set(&o, "baseUrl", base);
    set(&o, "maxRetries", 0);
    set(&o, "timeoutMs", 3000);
    if let Some(h) = allowed {
        set(&o, "allowedHosts", Array::of1(&h.into()));
    }
    o
}

/// The same listener (the emulator) gets the token under `127.0.0.1` and
/// `localhost`, and nothing under the other names of the same address.
#[wasm_bindgen_test]
async fn one_listener_many_names() {
    spy_console();
    let port = emulator_port();
    let wb = workbook("names");
    let id = raw_create_session(&wb, true).await;
    for host in ["127.0.0.1", "localhost"] {
        let base = ["http://", host, ":", &port, "/v1.0"].concat();
        let r = refresh_session_js(opts_at(&base, &wb, &id, None))
            .await
            .expect("policy name");
        assert_eq!(get_num(&r, "status"), 204.0);
    }
    let log = requests(&wb).await;
    assert!(
        log.iter()
            .filter(|r| get(r, "hasAuthorization") == JsValue::TRUE)
            .count()
            >= 3,
        "the listener did get the token under policy names"
    );
    let before = log.len();
    let mut proven = Vec::new();
    for host in [
        "127.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.0.1",
        "foo.localhost",
        "[::ffff:127.0.0.1]",
    ] {
        let origin = ["http://", host, ":", &port].concat();
        let reaches = raw_get(&[origin.as_str(), "/_emulator/health"].concat())
            .await
            .map(|(s, _)| s == 200)
            .unwrap_or(false);
        let graph_before = graph_requests().await;
        for allowed in [None, Some(host)] {
            let e = refresh_session_js(opts_at(&[origin.as_str(), "/v1.0"].concat(), &wb, &id, allowed))
                .await
                .unwrap_err();
            assert_clean(&e, "insecureUrl");
            assert_eq!(get_num(&e, "attempts"), 0.0);
        }
        // https under the same name: refused, unless allowedHosts names it;
        // then TLS is attempted against a plain-http listener and fails.
        let https = ["https://", host, ":", &port, "/v1.0"].concat();
        let e = refresh_session_js(opts_at(&https, &wb, &id, None)).await.unwrap_err();
        assert_clean(&e, "hostNotAllowed");
        let e = refresh_session_js(opts_at(&https, &wb, &id, Some(host)))
            .await
            .unwrap_err();
        assert_clean(&e, "network");
        assert_eq!(
            get_num(&e, "attempts"),
            1.0,
            "{host}: allowedHosts opens the door (over https only)"
        );
        assert_eq!(
            graph_requests().await,
            graph_before,
            "{host}: a Graph request reached the listener"
        );
        if reaches {
            proven.push(host);
        }
    }
    assert_eq!(
        requests(&wb).await.len(),
        before,
        "the listener logged a request under a non-policy name"
    );
    assert!(proven.len() >= 3, "too few aliases reach the listener here: {proven:?}");
    console_log!("names that reach the emulator here and were refused: {proven:?}");
    assert_console_clean();
}

/// Node: a raw listener on a non-loopback address of this machine gets no
/// connection over http, with or without allowedHosts.
#[wasm_bindgen_test]
async fn http_to_a_non_loopback_address_reaches_nobody() {
    let (Some(ip), Some(listener)) = (external_ipv4(), Listener::start("0.0.0.0").await) else {
        console_log!("skipped: needs Node and a non-loopback IPv4 address (Chromium has no raw sockets)");
        return;
    };
    let origin = ["http://", &ip, ":", &listener.port.to_string()].concat();
    // Control: the address reaches the listener.
    let o: JsValue = js_sys::Object::new().into();
    set(&o, "signal", abort_after(1000));
    let _ = raw(&[origin.as_str(), "/control"].concat(), &o).await;
    assert!(
        wait_for(3000, || listener.connections() >= 1).await,
        "control: {origin} does not reach the listener"
    );
    let control = listener.connections();
    for allowed in [None, Some(ip.as_str())] {
        let e = refresh_session_js(opts_at(
            &[origin.as_str(), "/v1.0"].concat(),
            &workbook("lan"),
            "cluster=X&session=Y",
            allowed,
        ))
        .await
        .unwrap_err();
        assert_clean(&e, "insecureUrl");
        let c = create_session_js(opts_at(
            &[origin.as_str(), "/v1.0"].concat(),
            &workbook("lan"),
            "s",
            allowed,
        ))
        .await
        .unwrap_err();
        assert_clean(&c, "insecureUrl");
    }
    sleep(300).await;
    assert_eq!(
        listener.connections(),
        control,
        "the token's request reached a non-loopback listener"
    );
    assert!(!listener.received().contains(TOKEN));
    listener.close();
    console_log!("http to {origin}: refused; listener saw only the control connection");
}

/// Node: a raw listener on loopback under a name outside the policy, over
/// https: no connection; with allowedHosts, a TLS handshake, never the token.
#[wasm_bindgen_test]
async fn https_outside_the_policy_reaches_nobody() {
    let Some(listener) = Listener::start("127.0.0.1").await else {
        console_log!("skipped: needs Node (Chromium has no raw sockets; see one_listener_many_names)");
        return;
    };
    let https = ["https://127.1:", &listener.port.to_string(), "/v1.0"].concat();
    let e = refresh_session_js(opts_at(&https, &workbook("tls"), "cluster=X&session=Y", None))
        .await
        .unwrap_err();
    assert_clean(&e, "hostNotAllowed");
    let e = create_session_js(opts_at(&https, &workbook("tls"), "s", None))
        .await
        .unwrap_err();
    assert_clean(&e, "hostNotAllowed");
    sleep(300).await;
    assert_eq!(listener.connections(), 0, "a refused host got a connection");
    // With allowedHosts the library does connect, over TLS only.
    let e = refresh_session_js(opts_at(&https, &workbook("tls"), "cluster=X&session=Y", Some("127.1")))
        .await
        .unwrap_err();
    assert_clean(&e, "network");
    assert!(
        listener.connections() >= 1,
        "allowedHosts should let the https attempt through"
    );
    let got = listener.received();
    assert!(
        got.as_bytes().first() == Some(&0x16),
        "expected a TLS handshake, got {:?}",
        &got.get(..got.len().min(40))
    );
    assert!(
        !got.contains(TOKEN) && !got.contains("Bearer"),
        "the token crossed in clear"
    );
    listener.close();
    console_log!(
        "https://127.1: refused without allowedHosts (0 connections); with it, TLS only ({} bytes, no token)",
        got.len()
    );
}

/// A redirect target on a raw listener (Node) or the second emulator
/// (both): the refresh is refused and the target sees nothing.
#[wasm_bindgen_test]
async fn redirects_never_carry_the_token() {
    spy_console();
    let wb = workbook("redirect-listener");
    let id = raw_create_session(&wb, true).await;
    let listener = Listener::start("127.0.0.1").await;
    let mut targets = vec![[
        short_ttl_emulator(),
        "/v1.0/me/drive/items/redirect-listener/workbook/refreshSession",
    ]
    .concat()];
    if let Some(l) = &listener {
        targets.push(["http://127.0.0.1:", &l.port.to_string(), "/v1.0/steal"].concat());
    }
    let foreign_before = graph_requests_at(short_ttl_emulator()).await;
    for target in &targets {
        for status in ["301", "302", "303", "307", "308"] {
            fault(
                &[
                    "{",
                    &js("pathContains", &wb),
                    ",\"status\":",
                    status,
                    ",\"times\":1,\"headers\":{",
                    &js("location", target),
                    "}}",
                ]
                .concat(),
            )
            .await;
            let e = refresh_session_js(opts_at(&base_url(), &wb, &id, None))
                .await
                .unwrap_err();
            assert_clean(&e, "network");
        }
    }
    sleep(300).await;
    assert_eq!(
        graph_requests_at(short_ttl_emulator()).await,
        foreign_before,
        "the redirect target got a request"
    );
    if let Some(l) = &listener {
        assert_eq!(l.connections(), 0, "the redirect target got a connection");
        l.close();
    }
    refresh_session_js(opts_at(&base_url(), &wb, &id, None))
        .await
        .expect("the session is untouched");
    assert_console_clean();
}
