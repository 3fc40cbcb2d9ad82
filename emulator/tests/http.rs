//! HTTP-level behaviour: headers on every answer, CORS, auth, request
//! errors, concurrency.

mod common;

use std::collections::HashSet;

use common::*;
use graph_workbook_emulator::{Config, LOOPBACK_ORIGINS};
use serde_json::json;

#[track_caller]
fn assert_common_headers(r: &Resp) {
    let rid = r.header("request-id").expect("request-id");
    assert_eq!(rid.len(), 36);
    assert_eq!(&rid[14..15], "4", "uuid v4: {rid}");
    assert!(r.header("client-request-id").is_some());
    let date = r.header("date").expect("date");
    assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
    // The control API sends CORS headers to its own origins only.
    if r.header("access-control-allow-origin").is_none() {
        assert!(r.header("access-control-expose-headers").is_some());
    }
    let expose = r.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    for h in ["request-id", "client-request-id", "retry-after", "location"] {
        assert!(expose.contains(h), "{expose}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_has_ids_date_and_cors() {
    let emu = start(Config {
        control_origins: vec![LOOPBACK_ORIGINS.into()],
        ..Config::default()
    })
    .await;
    let id = emu.create(ITEM, true).await;
    let answers = vec![
        emu.refresh(ITEM, &id).await,
        emu.post(&wb(ITEM, "refreshSession"), &[], None).await,
        emu.req("POST", &wb(ITEM, "refreshSession"), &[], None).await.full(),
        emu.get("/v1.0/nothing/here").await,
        emu.get("/").await,
        emu.control("GET", "/health", None).await,
        emu.control("GET", "/nope", None).await,
        emu.req("OPTIONS", "/anything", &[], None).await.full(),
    ];
    let mut ids = HashSet::new();
    for r in &answers {
        assert_common_headers(r);
        assert!(
            ids.insert(r.header("request-id").unwrap().to_owned()),
            "request-id reused"
        );
    }
    // client-request-id is echoed.
    let r = emu
        .post(
            &wb(ITEM, "refreshSession"),
            &[("workbook-session-id", &id), ("client-request-id", "my-id-1")],
            None,
        )
        .await;
    assert_eq!(r.header("client-request-id"), Some("my-id-1"));
    let r = emu
        .post(&wb(ITEM, "refreshSession"), &[("client-request-id", "my-id-2")], None)
        .await;
    assert_eq!(r.json()["error"]["innerError"]["client-request-id"], "my-id-2");
    // Origin is echoed.
    let r = emu
        .post(
            &wb(ITEM, "refreshSession"),
            &[("workbook-session-id", &id), ("Origin", "http://localhost:8080")],
            None,
        )
        .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("http://localhost:8080"));
    // Any other page is not answered (issue 22); non-browser callers are.
    let r = emu
        .post(
            &wb(ITEM, "refreshSession"),
            &[("workbook-session-id", &id), ("Origin", "https://elsewhere.example")],
            None,
        )
        .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("vary"), Some("Origin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight() {
    let preflight = |emu: &Emu, origin: &'static str| {
        let path = wb("/me/drive/root:/Book%201.xlsx:", "refreshSession");
        let addr = emu.addr;
        async move {
            send(
                addr,
                "OPTIONS",
                &path,
                &[
                    ("Origin", origin),
                    ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Private-Network", "true"),
                ],
                None,
            )
            .await
            .full()
        }
    };
    // By default, browser pages of other origins are refused, and Private
    // Network Access is granted to the control origins only (issue 22).
    let emu = start(Config {
        control_origins: vec!["http://127.0.0.1:5173".into()],
        ..Config::default()
    })
    .await;
    let r = preflight(&emu, "https://contoso.example").await;
    assert_eq!((r.status, r.header("access-control-allow-origin")), (403, None));
    let r = preflight(&emu, "http://127.0.0.1:5173").await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-private-network"), Some("true"));
    let emu = start(Config {
        cors_any_origin: true,
        ..Config::default()
    })
    .await;
    let r = preflight(&emu, "https://contoso.example").await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-private-network"), None);
    let r = emu
        .req(
            "OPTIONS",
            &wb("/me/drive/root:/Book%201.xlsx:", "refreshSession"),
            &[
                ("Origin", "https://contoso.example"),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization, workbook-session-id"),
            ],
            None,
        )
        .await
        .full();
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://contoso.example"));
    let methods = r.header("access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "DELETE", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = r.header("access-control-allow-headers").unwrap();
    for h in [
        "authorization",
        "content-type",
        "workbook-session-id",
        "client-request-id",
        "prefer",
        "retry-attempt",
    ] {
        assert!(allowed.contains(h), "{allowed}");
    }
    assert!(r.header("access-control-max-age").is_some());
    // No auth needed, nothing logged.
    let log = emu.control("GET", "/requests", None).await.json();
    assert_eq!(log["requests"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_modes() {
    let emu = start_default().await;
    let path = wb(ITEM, "createSession");
    for headers in [
        vec![],
        vec![("Authorization", "Bearer")],
        vec![("Authorization", "Bearer   ")],
        vec![("Authorization", "Basic abc")],
    ] {
        let r = emu.req("POST", &path, &headers, Some("{}")).await.full();
        assert_eq!(r.status, 401, "{headers:?}");
        let v = r.json();
        assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
        assert_eq!(v["error"]["message"], "Access token is empty.");
        assert!(v["error"]["innerError"]["request-id"].is_string());
    }
    // Operations and batch need auth too.
    let r = emu.req("GET", &wb(ITEM, "operations/x"), &[], None).await.full();
    assert_eq!(r.status, 401);
    let r = emu.req("POST", "/v1.0/$batch", &[], Some("{}")).await.full();
    assert_eq!(r.status, 401);
    // Any token is fine without --token.
    assert_eq!(
        emu.req("POST", &path, &[("Authorization", "Bearer anything"), JSON], Some("{}"))
            .await
            .full()
            .status,
        201
    );

    let emu = start(Config {
        token: Some("s3cret".into()),
        ..Config::default()
    })
    .await;
    let r = emu
        .req("POST", &path, &[("Authorization", "Bearer other")], None)
        .await
        .full();
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "InvalidAuthenticationToken");
    let r = emu
        .req("POST", &path, &[("Authorization", "Bearer s3cret"), JSON], Some("{}"))
        .await
        .full();
    assert_eq!(r.status, 201);
    // The log never holds the token.
    let log = emu.control("GET", "/requests", None).await;
    assert!(!log.text().contains("s3cret") && !log.text().contains("other"));
    assert_eq!(log.json()["requests"][0]["hasAuthorization"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors() {
    let emu = start(Config {
        max_body_bytes: 1024,
        ..Config::default()
    })
    .await;
    // Malformed JSON.
    let r = emu
        .post(&wb(ITEM, "createSession"), &[], Some("{\"persistChanges\":"))
        .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (400, json!("invalidRequest"))
    );
    // Too large (declared length).
    let big = format!("{{\"persistChanges\":true,\"pad\":\"{}\"}}", "a".repeat(4096));
    let r = emu.post(&wb(ITEM, "createSession"), &[], Some(&big)).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "requestSizeExceeded");
    assert_eq!(r.json()["error"]["innerError"]["code"], "payloadTooLargeUncategorized");
    // Too large (chunked, no declared length).
    let raw = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n{}\r\n0\r\n\r\n",
        wb(ITEM, "createSession"),
        "b".repeat(4096)
    );
    let r = send_raw(emu.addr, raw.as_bytes()).await.full();
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "requestSizeExceeded");
    assert!(r.header("request-id").is_some());
    // Control API too.
    let r = emu.req("POST", "/_emulator/faults", &[], Some(&big)).await.full();
    assert_eq!(r.status, 413);
    // Wrong method on a known route.
    for (m, p) in [
        ("GET", wb(ITEM, "refreshSession")),
        ("DELETE", wb(ITEM, "createSession")),
        ("POST", wb(ITEM, "operations/abc")),
        ("PUT", "/v1.0/$batch".to_owned()),
    ] {
        let r = emu.req(m, &p, &[TOKEN], None).await.full();
        assert_eq!(r.status, 405, "{m} {p}");
        assert_eq!(r.json()["error"]["code"], "methodNotAllowed");
        assert!(r.header("allow").is_some());
    }
    let r = emu.control("DELETE", "/health", None).await;
    assert_eq!(r.status, 405);
    // Unknown routes.
    for p in [
        "/",
        "/v1.0",
        "/v1.0/me",
        "/v1.0/me/drive/items/1/workbook/charts",
        "/favicon.ico",
    ] {
        let r = emu.req("GET", p, &[TOKEN], None).await.full();
        assert_eq!(r.status, 404, "{p}");
        assert_eq!(r.json()["error"]["code"], "itemNotFound");
    }
    // Garbage never panics the server.
    for p in [
        "/v1.0/%",
        "/v1.0/%%%/workbook/createSession",
        "/v1.0/x/workbook/operations/%FF",
        "/_emulator/sessions/%FF/expire",
    ] {
        let r = emu.req("POST", p, &[TOKEN], Some("\u{0}\u{1}")).await.full();
        assert!(r.status >= 400, "{p}");
    }
    assert_eq!(emu.control("GET", "/health", None).await.json(), json!({"ok": true}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_refreshes() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let addr = emu.addr;
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let cid = format!("c-{i}");
            let r = send(
                addr,
                "POST",
                &wb(ITEM, "refreshSession"),
                &[TOKEN, ("workbook-session-id", &id), ("client-request-id", &cid)],
                None,
            )
            .await
            .full();
            assert_eq!(r.status, 204);
            assert_eq!(r.header("client-request-id"), Some(cid.as_str()));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = emu.sessions().await;
    assert_eq!(s[0]["refreshCount"], 1000);
    assert_eq!(emu.stats().await["counts"]["refreshSession"], 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_connections_work() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    let mut s = connect(emu.addr).await;
    let req = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nworkbook-session-id: {id}\r\nContent-Length: 0\r\n\r\n",
        wb(ITEM, "refreshSession")
    );
    for _ in 0..3 {
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), s.read(&mut buf))
            .await
            .expect("an answer within 30 s")
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 204"), "{text}");
    }
}
