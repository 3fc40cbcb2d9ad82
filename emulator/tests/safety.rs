//! The emulator as a safe tool (issue 13): the control API for loopback and
//! its own origins only, read timeouts.

mod common;

use std::time::{Duration, Instant};

use common::*;
use graph_workbook_emulator::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_refuses_foreign_origins_and_hosts() {
    let emu = start(Config {
        control_origins: vec!["http://127.0.0.1:5555".into()],
        ..Config::default()
    })
    .await;
    // No Origin (curl, tests): allowed, no CORS headers.
    let r = emu.req("GET", "/_emulator/health", &[], None).await.full();
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
    // The demo's origin: allowed, with CORS.
    let r = emu
        .req("POST", "/_emulator/reset", &[("Origin", "http://127.0.0.1:5555")], None)
        .await
        .full();
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://127.0.0.1:5555"));
    let r = emu
        .req(
            "OPTIONS",
            "/_emulator/faults",
            &[
                ("Origin", "http://127.0.0.1:5555"),
                ("Access-Control-Request-Method", "POST"),
            ],
            None,
        )
        .await
        .full();
    assert_eq!(r.status, 204);
    assert!(r.header("access-control-allow-methods").is_some());
    // Any other page: refused, no CORS, nothing changed.
    emu.create(ITEM, true).await;
    for origin in ["http://evil.example", "http://127.0.0.1:5556", "null"] {
        let r = emu
            .req("POST", "/_emulator/reset", &[("Origin", origin)], None)
            .await
            .full();
        assert_eq!(r.status, 403, "{origin}");
        assert_eq!(r.json()["error"]["code"], "accessDenied");
        assert!(r.header("access-control-allow-origin").is_none());
        let r = emu
            .req("OPTIONS", "/_emulator/reset", &[("Origin", origin)], None)
            .await
            .full();
        assert_eq!(r.status, 403);
        assert!(r.header("access-control-allow-origin").is_none());
    }
    assert_eq!(emu.sessions().await.len(), 1);
    // A DNS-rebound name as Host.
    let raw = format!(
        "GET /_emulator/sessions HTTP/1.1\r\nHost: evil.example:{}\r\nConnection: close\r\n\r\n",
        emu.addr.port()
    );
    assert_eq!(send_raw(emu.addr, raw.as_bytes()).await.full().status, 403);
    // Graph endpoints answer a foreign page only under --cors-any-origin
    // (issue 22); a plain fetch without Origin is answered.
    let r = emu
        .req(
            "POST",
            &wb(ITEM, "refreshSession"),
            &[("Origin", "http://evil.example")],
            None,
        )
        .await
        .full();
    assert_eq!((r.status, r.header("access-control-allow-origin")), (401, None));
    let emu = start(Config {
        cors_any_origin: true,
        ..Config::default()
    })
    .await;
    let r = emu
        .req(
            "POST",
            &wb(ITEM, "refreshSession"),
            &[("Origin", "http://evil.example")],
            None,
        )
        .await
        .full();
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (401, Some("http://evil.example"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_and_bodies_time_out() {
    let emu = start(Config {
        header_read_timeout: Duration::from_millis(300),
        body_read_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    // A head that never ends: the connection closes.
    let mut s = TcpStream::connect(emu.addr).await.unwrap();
    s.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let t0 = Instant::now();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("closed");
    assert!(t0.elapsed() < Duration::from_secs(5));
    // A body that never arrives: 408.
    let mut s = TcpStream::connect(emu.addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 100\r\n\r\n{{",
        wb(ITEM, "createSession")
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("answered");
    let r = parse(&buf).full();
    assert_eq!(r.status, 408);
    assert_eq!(r.json()["error"]["code"], "requestTimeout");
}
