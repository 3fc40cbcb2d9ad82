//! The emulator against hostile clients: random bytes, mutated requests,
//! malformed HTTP, huge request lines, headers and bodies, malformed and
//! hostile JSON on every endpoint, and absurd control values. Nothing may
//! panic (a panic hook counts panics in any thread of this process, the
//! emulator's tasks included), every answer that comes is well-formed HTTP
//! and never a 500, and afterwards the same server still works.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use common::*;
use graph_workbook_emulator::Config;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// What one raw exchange came to.
#[derive(Debug)]
enum Seen {
    /// The server closed the connection without a byte.
    Closed,
    /// Nothing within the read deadline (the server waits for more input).
    Waiting,
    /// An HTTP answer with this status.
    Status(u16),
}

/// Writes `bytes` on a fresh connection, reads until close or `wait`.
async fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Seen {
    let mut s = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => panic!("the emulator stopped accepting connections: {e}"),
    };
    let _ = s.write_all(bytes).await;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > 64 * 1024 {
                    break;
                }
            }
            Err(_) => {
                if buf.is_empty() {
                    return Seen::Waiting;
                }
                break;
            }
        }
    }
    if buf.is_empty() {
        return Seen::Closed;
    }
    assert!(
        buf.starts_with(b"HTTP/1.1 "),
        "not an HTTP answer: {:?}",
        String::from_utf8_lossy(&buf[..buf.len().min(80)])
    );
    let status = std::str::from_utf8(&buf[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    Seen::Status(status)
}

fn assert_sane(what: &str, seen: &Seen) {
    if let Seen::Status(s) = seen {
        assert!(*s != 500, "{what}: 500 from the emulator");
        assert!((100..600).contains(s), "{what}: status {s}");
    }
}

/// The server still does its job: health, a session's whole life, stats.
async fn still_works(emu: &Emu) {
    let health = emu.control("GET", "/health", None).await;
    assert_eq!(health.status, 200);
    let item = format!("/me/drive/items/after-garbage-{}", fastrand::u32(..));
    let id = emu.create(&item, true).await;
    assert_eq!(emu.refresh(&item, &id).await.status, 204);
    let closed = emu
        .post(&wb(&item, "closeSession"), &[("workbook-session-id", &id)], None)
        .await;
    assert_eq!(closed.status, 204);
    assert!(emu.stats().await["counts"].is_object());
}

const AUTH: &str = "Authorization: Bearer garbage-test\r\n";

/// Valid requests of every kind, as raw bytes (the seeds of the mutations).
fn valid_requests(host: &str) -> Vec<Vec<u8>> {
    let req = |method: &str, path: &str, headers: &str, body: &str| {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let batch = r#"{"requests":[{"id":"1","method":"POST","url":"/me/drive/items/g/workbook/refreshSession","headers":{"workbook-session-id":"cluster=EMU&session=x"}}]}"#;
    vec![
        req(
            "POST",
            "/v1.0/me/drive/items/g/workbook/createSession",
            &[AUTH, "Content-Type: application/json\r\n"].concat(),
            r#"{"persistChanges":true}"#,
        ),
        req(
            "POST",
            "/v1.0/me/drive/items/g/workbook/createSession",
            &[AUTH, "Prefer: respond-async\r\n"].concat(),
            r#"{"persistChanges":false}"#,
        ),
        req(
            "POST",
            "/v1.0/me/drive/items/g/workbook/refreshSession",
            &[AUTH, "workbook-session-id: cluster=EMU&session=x\r\n"].concat(),
            "",
        ),
        req(
            "POST",
            "/v1.0/me/drive/root:/A%20b.xlsx:/workbook/closeSession",
            &[AUTH, "workbook-session-id: s\r\n"].concat(),
            "",
        ),
        req("GET", "/v1.0/me/drive/items/g/workbook/operations/op-1", AUTH, ""),
        req(
            "GET",
            "/v1.0/me/drive/items/g/workbook/sessionInfoResource(key='k')",
            AUTH,
            "",
        ),
        req(
            "POST",
            "/v1.0/$batch",
            &[AUTH, "Content-Type: application/json\r\n"].concat(),
            batch,
        ),
        req(
            "POST",
            "/_emulator/faults",
            "",
            r#"{"pathContains":"/never/matches/garbage","status":429,"retryAfter":"1","times":1}"#,
        ),
        req("POST", "/_emulator/config", "", r#"{"operationDelayMs":300}"#),
        req("GET", "/_emulator/requests?pathContains=g", "", ""),
        req(
            "OPTIONS",
            "/v1.0/me/drive/items/g/workbook/refreshSession",
            "Origin: http://x\r\nAccess-Control-Request-Method: POST\r\n",
            "",
        ),
    ]
}

/// Random edits of a valid request: flipped, inserted, deleted and
/// duplicated bytes, and splices of interesting tokens.
fn mutate(seed: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    const TOKENS: [&[u8]; 16] = [
        b"\r\n",
        b"\n",
        b"\0",
        b":",
        b"%",
        b"%ff",
        b"{",
        b"}",
        b"[",
        b"\"",
        b"\\u0000",
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 99999999999999999999\r\n",
        b" ",
        b"\xff\xfe",
        b"/workbook/",
    ];
    let mut v = seed.to_vec();
    for _ in 0..rng.usize(1..8) {
        let at = rng.usize(0..=v.len());
        match rng.u8(0..5) {
            0 if !v.is_empty() => {
                let i = rng.usize(0..v.len());
                v[i] = rng.u8(..);
            }
            1 => v.insert(at.min(v.len()), rng.u8(..)),
            2 if !v.is_empty() => {
                let end = (at + rng.usize(0..16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 => {
                let t = TOKENS[rng.usize(0..TOKENS.len())];
                let at = at.min(v.len());
                v.splice(at..at, t.iter().copied());
            }
            _ => {
                let at = at.min(v.len());
                let end = (at + rng.usize(0..32)).min(v.len());
                let dup: Vec<u8> = v[at..end].to_vec();
                v.splice(at..at, dup);
            }
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_bytes_and_mutated_requests() {
    count_panics();
    let emu = start(Config {
        max_body_bytes: 64 * 1024,
        ..Config::default()
    })
    .await;
    let host = emu.addr.to_string();
    let seeds = valid_requests(&host);
    // Each seed is valid to begin with.
    for s in &seeds {
        let seen = exchange(emu.addr, s, Duration::from_secs(10)).await;
        assert!(
            matches!(seen, Seen::Status(st) if st < 500),
            "a valid request failed: {seen:?} {}",
            String::from_utf8_lossy(s)
        );
    }
    let mut rng = fastrand::Rng::with_seed(0x6772_6170_6821);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for _ in 0..300 {
        let len = rng.usize(1..4096);
        inputs.push((0..len).map(|_| rng.u8(..)).collect());
    }
    for _ in 0..1500 {
        let s = &seeds[rng.usize(0..seeds.len())];
        inputs.push(mutate(s, &mut rng));
    }
    let total = inputs.len();
    let mut tally = [0usize; 3];
    for chunk in inputs.chunks(200) {
        let mut tasks = Vec::new();
        for input in chunk {
            let input = input.clone();
            let addr = emu.addr;
            tasks.push(tokio::spawn(async move {
                let seen = exchange(addr, &input, Duration::from_millis(1500)).await;
                assert_sane(
                    &format!("{:?}", String::from_utf8_lossy(&input[..input.len().min(120)])),
                    &seen,
                );
                seen
            }));
        }
        for t in tasks {
            match t.await.expect("exchange task") {
                Seen::Closed => tally[0] += 1,
                Seen::Waiting => tally[1] += 1,
                Seen::Status(_) => tally[2] += 1,
            }
        }
    }
    println!(
        "{total} hostile inputs: {} answered, {} closed, {} left waiting",
        tally[2], tally[0], tally[1]
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the emulator panicked");
    still_works(&emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http_and_huge_parts() {
    count_panics();
    let emu = start(Config {
        max_body_bytes: 64 * 1024,
        ..Config::default()
    })
    .await;
    let h = emu.addr.to_string();
    let refresh = "/v1.0/me/drive/items/m/workbook/refreshSession";
    let huge = "a".repeat(1 << 20);
    let many_headers: String = (0..20_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty line", b"\r\n\r\n".to_vec()),
        ("request line only", b"GET\r\n\r\n".to_vec()),
        ("HTTP/0.9", b"GET /\n".to_vec()),
        ("unknown version", format!("GET / HTTP/9.9\r\nHost: {h}\r\n\r\n").into_bytes()),
        ("lowercase method", format!("get /_emulator/health HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n\r\n").into_bytes()),
        ("bare LF line ends", format!("GET /_emulator/health HTTP/1.1\nHost: {h}\nConnection: close\n\n").into_bytes()),
        ("header without colon", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nnot a header\r\n\r\n").into_bytes()),
        ("space in header name", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nBad Name: x\r\n\r\n").into_bytes()),
        ("NUL in path", format!("POST /v1.0/me\0/workbook/refreshSession HTTP/1.1\r\nHost: {h}\r\n\r\n").into_bytes()),
        ("non-UTF-8 path", [b"POST /v1.0/me/drive/items/\xff\xfe/workbook/refreshSession HTTP/1.1\r\nHost: ".as_slice(), h.as_bytes(), b"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"].concat()),
        ("bad percent-encoding", format!("POST /v1.0/me/drive/items/%ff%fe%/workbook/refreshSession HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n{AUTH}workbook-session-id: s\r\nContent-Length: 0\r\n\r\n").into_bytes()),
        ("non-UTF-8 session header", [format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n{AUTH}workbook-session-id: ").as_bytes(), b"\xff\xfe\x80", b"\r\nContent-Length: 0\r\n\r\n"].concat()),
        ("negative Content-Length", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nContent-Length: -1\r\n\r\n").into_bytes()),
        ("overflowing Content-Length", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 99999999999999999999999\r\n\r\n").into_bytes()),
        ("two Content-Lengths", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").into_bytes()),
        ("Content-Length and chunked", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into_bytes()),
        ("bad chunk size", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n").into_bytes()),
        ("huge chunk size", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n").into_bytes()),
        ("unknown transfer coding", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: gzip\r\n\r\n").into_bytes()),
        ("body over the limit (declared)", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\n{AUTH}Content-Length: 10485760\r\n\r\n").into_bytes()),
        ("body over the limit (chunked)", [format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\n{AUTH}Transfer-Encoding: chunked\r\n\r\n").into_bytes(), (0..40).flat_map(|_| format!("1000\r\n{}\r\n", "x".repeat(0x1000)).into_bytes()).collect(), b"0\r\n\r\n".to_vec()].concat()),
        ("1 MB request target", format!("GET /{huge} HTTP/1.1\r\nHost: {h}\r\n\r\n").into_bytes()),
        ("1 MB header value", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nworkbook-session-id: {huge}\r\n\r\n").into_bytes()),
        ("20,000 headers", format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\n{many_headers}\r\n").into_bytes()),
        ("pipelined garbage after a valid request", format!("GET /_emulator/health HTTP/1.1\r\nHost: {h}\r\n\r\n\x16\x03\x01garbage\r\n\r\n").into_bytes()),
        ("TLS ClientHello", [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".as_slice(), &[0x41u8; 500]].concat()),
        ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()),
        ("CONNECT", b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n".to_vec()),
        ("absolute-form target", format!("GET http://evil.example/_emulator/health HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n\r\n").into_bytes()),
        ("half a request line", b"POST /v1.0/me/dri".to_vec()),
    ];
    let n = cases.len();
    for (name, bytes) in cases {
        let seen = exchange(emu.addr, &bytes, Duration::from_secs(3)).await;
        assert_sane(name, &seen);
        println!("{name}: {seen:?}");
    }
    // A slow client that sends a header byte by byte and then goes away.
    let mut slow = TcpStream::connect(emu.addr).await.unwrap();
    for b in format!("POST {refresh} HTTP/1.1\r\nHost: {h}\r\nX-Slow: ").bytes() {
        let _ = slow.write_all(&[b]).await;
    }
    drop(slow);
    // Hundreds of connections opened and dropped at once.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(emu.addr).await.expect("accepts many connections"));
    }
    drop(idle);
    println!("{n} malformed requests, a slow client, 300 idle connections");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the emulator panicked");
    still_works(&emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_hostile_json_everywhere() {
    count_panics();
    let emu = start(Config {
        max_body_bytes: 256 * 1024,
        max_sessions: 100,
        ..Config::default()
    })
    .await;
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let bodies: Vec<String> = vec![
        "".into(),
        "{".into(),
        "}".into(),
        "null".into(),
        "[]".into(),
        "\"string\"".into(),
        "1e999999".into(),
        "{\"persistChanges\":\"yes\"}".into(),
        "{\"persistChanges\":true,\"persistChanges\":false}".into(),
        "{\"persistChanges\":true}trailing".into(),
        "{\"a\":\"\\ud800\"}".into(),
        "{\"a\":\"\u{1}\"}".into(),
        String::from_utf8_lossy(b"{\"a\":\"\xff\xfe\"}").into_owned(),
        deep_array.clone(),
        deep_object.clone(),
        format!("{{\"requests\":[{}]}}", vec!["{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/x\"}"; 21].join(",")),
        "{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/$batch\"}]}".into(),
        "{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/me/drive/items/x/workbook/refreshSession\",\"headers\":{\"workbook-session-id\":\"a\\r\\nb\"},\"body\":{\"x\":[[[[]]]]}}]}".into(),
        "{\"requests\":[{\"id\":\"1\",\"method\":\"\\u0000\",\"url\":\"\\u0000\"}]}".into(),
        "{\"requests\":[{\"id\":1,\"method\":2,\"url\":3}]}".into(),
        "{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"//evil.example/x\"},{\"id\":\"1\",\"method\":\"GET\",\"url\":\"?x\"}]}".into(),
    ];
    let targets = [
        ("POST", "/v1.0/me/drive/items/j/workbook/createSession"),
        ("POST", "/v1.0/me/drive/items/j/workbook/refreshSession"),
        ("POST", "/v1.0/$batch"),
        ("POST", "/_emulator/faults"),
        ("POST", "/_emulator/config"),
        ("POST", "/_emulator/sessions/x/expire"),
        ("POST", "/_emulator/reset-nope"),
    ];
    let mut tried = 0;
    for (method, path) in targets {
        for body in &bodies {
            tried += 1;
            let headers = [
                TOKEN,
                ("Content-Type", "application/json"),
                ("workbook-session-id", "s"),
            ];
            let got = send(emu.addr, method, path, &headers, Some(body.as_bytes())).await;
            match got {
                Got::Full(r) => {
                    assert!(
                        r.status != 500 && r.status < 600,
                        "{method} {path} {:?}: {}",
                        &body[..body.len().min(60)],
                        r.status
                    );
                    if r.status >= 400 {
                        assert!(r.json()["error"]["code"].is_string(), "not Graph-shaped: {}", r.text());
                    }
                }
                other => panic!("{method} {path}: {other:?}"),
            }
        }
    }
    // Absurd control values: accepted or refused, never a crash.
    let absurd = [
        json!({"persistentTtlMs": u64::MAX, "nonPersistentTtlMs": u64::MAX, "operationDelayMs": u64::MAX}),
        json!({"persistentTtlMs": 0, "nonPersistentTtlMs": 0}),
        json!({"maxSessions": u64::MAX}),
        json!({"maxSessions": 0}),
        json!({"persistentTtlMs": -1}),
        json!({"persistentTtlMs": 1.5}),
        json!({"persistentTtlMs": "5"}),
        json!({"unknown": true}),
    ];
    for patch in &absurd {
        let r = emu.control("POST", "/config", Some(patch.clone())).await;
        assert!(r.status == 200 || r.status == 400, "config {patch}: {}", r.status);
        // A session made and refreshed under that config.
        let item = format!("/me/drive/items/absurd-{}", fastrand::u32(..));
        let created = emu.post(&wb(&item, "createSession"), &[], Some("{}")).await;
        assert!(
            created.status == 201 || created.status == 503,
            "{patch}: create {}",
            created.status
        );
        let _ = emu.control("GET", "/sessions", None).await;
        let _ = emu.stats().await;
    }
    assert_eq!(emu.control("POST", "/reset", None).await.status, 204);
    let faults = [
        json!({"delayMs": u64::MAX, "pathContains": "/never-sent", "times": 0}),
        json!({"bodyBytes": u64::MAX, "pathContains": "/never-sent"}),
        json!({"status": 0, "pathContains": "/never-sent"}),
        json!({"status": 1000, "pathContains": "/never-sent"}),
        json!({"times": -1, "pathContains": "/never-sent"}),
        json!({"headers": {"bad header": "x"}, "pathContains": "/hdr-bad-name"}),
        json!({"headers": {"x-bad-value": "a\r\nb"}, "pathContains": "/hdr-bad-value"}),
        json!({"status": 302, "headers": {"location": "\u{0}"}, "pathContains": "/hdr-nul"}),
        json!({"retryAfter": "\r\nSet-Cookie: x=1", "status": 429, "pathContains": "/ra-crlf"}),
        json!({"code": "x".repeat(100_000), "status": 400, "pathContains": "/long-code"}),
        json!({"contentType": "\u{7f}", "status": 400, "pathContains": "/ct-del"}),
    ];
    let mut armed = 0;
    for f in &faults {
        let r = emu.control("POST", "/faults", Some(f.clone())).await;
        assert!(r.status == 201 || r.status == 400, "fault {f}: {}", r.status);
        armed += usize::from(r.status == 201);
    }
    // Fire the armed ones that have a path.
    for p in [
        "/hdr-bad-name",
        "/hdr-bad-value",
        "/hdr-nul",
        "/ra-crlf",
        "/long-code",
        "/ct-del",
    ] {
        let item = format!("/me/drive/items{p}");
        let got = emu
            .req(
                "POST",
                &wb(&item, "refreshSession"),
                &[TOKEN, ("workbook-session-id", "s")],
                None,
            )
            .await;
        if let Got::Full(r) = &got {
            assert!(r.status != 500, "{p}: 500");
            assert!(r.header("set-cookie").is_none(), "{p}: a header was injected");
        }
    }
    println!(
        "{tried} malformed JSON bodies, {} absurd configs, {} absurd faults ({armed} accepted)",
        absurd.len(),
        faults.len()
    );
    let _ = emu.control("DELETE", "/faults", None).await;
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the emulator panicked");
    still_works(&emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_table_is_bounded() {
    count_panics();
    let emu = start(Config {
        max_sessions: 100,
        ..Config::default()
    })
    .await;
    let (mut made, mut refused) = (0, 0);
    for i in 0..150 {
        let r = emu
            .post(
                &wb(&format!("/me/drive/items/bound-{i}"), "createSession"),
                &[],
                Some("{}"),
            )
            .await;
        match r.status {
            201 => made += 1,
            503 => {
                refused += 1;
                assert!(r.header("retry-after").is_some());
            }
            s => panic!("createSession {s}"),
        }
    }
    assert_eq!((made, refused), (100, 50));
    assert_eq!(emu.sessions().await.len(), 100);
    assert_eq!(PANICS.load(Ordering::SeqCst), 0);
}
