//! A tiny HTTP/1.1 client over a raw `TcpStream` (so tests can see dropped
//! and truncated answers), plus helpers around an in-process emulator.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use graph_workbook_emulator::{spawn, Config, EmulatorHandle};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const TOKEN: (&str, &str) = ("Authorization", "Bearer test-token");
pub const ITEM: &str = "/me/drive/items/01ABC";

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Debug)]
pub enum Got {
    /// A complete answer.
    Full(Resp),
    /// The connection closed before any byte came.
    Dropped,
    /// Status and headers came, then fewer body bytes than Content-Length.
    Truncated { resp: Resp, expected: usize },
}

impl Got {
    #[track_caller]
    pub fn full(self) -> Resp {
        match self {
            Got::Full(r) => r,
            other => panic!("expected a full response, got {other:?}"),
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The bound of a connect and of a request's write (issue 19: no test waits
/// forever on I/O).
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A fresh connection to `addr`, within IO_TIMEOUT.
pub async fn connect(addr: SocketAddr) -> TcpStream {
    tokio::time::timeout(IO_TIMEOUT, TcpStream::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect")
}

/// Sends one request on a fresh connection (`Connection: close`) and reads
/// until the server closes it.
pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Got {
    let mut stream = connect(addr).await;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    } else if method == "POST" {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    // The server may answer (413) and close before reading everything; a
    // server that neither reads nor closes gets IO_TIMEOUT, then its answer
    // is read (bounded too).
    let _ = tokio::time::timeout(IO_TIMEOUT, stream.write_all(&bytes)).await;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "timed out reading the answer to {method} {path}");
    parse(&buf)
}

/// Sends raw bytes on a fresh connection and reads until it closes.
pub async fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Got {
    let mut stream = connect(addr).await;
    let _ = tokio::time::timeout(IO_TIMEOUT, stream.write_all(bytes)).await;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "timed out");
    parse(&buf)
}

pub fn parse(buf: &[u8]) -> Got {
    if buf.is_empty() {
        return Got::Dropped;
    }
    let end = find(buf, b"\r\n\r\n").expect("no end of headers");
    let head = std::str::from_utf8(&buf[..end]).expect("utf8 head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let body = buf[end + 4..].to_vec();
    let resp = Resp { status, headers, body };
    if let Some(cl) = resp.header("content-length") {
        let expected: usize = cl.parse().unwrap();
        if resp.body.len() < expected {
            return Got::Truncated { resp, expected };
        }
    }
    assert!(
        resp.header("transfer-encoding").is_none(),
        "chunked answers are not expected"
    );
    Got::Full(resp)
}

pub struct Emu {
    pub base: String,
    pub addr: SocketAddr,
    pub handle: EmulatorHandle,
}

/// The item forms the tests use, held by every test emulator unless the
/// test seeds its own (the registry's own tests).
pub const TEST_PREFIXES: [&str; 5] = ["/me/drive/", "/drives/", "/sites/", "/users/", "/groups/"];

pub async fn start(mut config: Config) -> Emu {
    if config.workbooks.is_empty() && config.workbook_prefixes.is_empty() {
        config.workbook_prefixes = TEST_PREFIXES.iter().map(|p| p.to_string()).collect();
    }
    start_exact(config).await
}

/// Starts with `config` as given (no test prefixes).
pub async fn start_exact(config: Config) -> Emu {
    let (base, handle) = spawn(config).await.expect("spawn");
    Emu {
        addr: handle.addr(),
        base,
        handle,
    }
}

pub async fn start_default() -> Emu {
    start(Config::default()).await
}

pub fn wb(item: &str, op: &str) -> String {
    format!("/v1.0{item}/workbook/{op}")
}

impl Emu {
    pub async fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Got {
        send(self.addr, method, path, headers, body.map(str::as_bytes)).await
    }

    /// POST with the test token, and `Content-Type: application/json` with
    /// a body unless `headers` name another (as the library sends them).
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
        let mut h = vec![TOKEN];
        h.extend_from_slice(headers);
        if body.is_some() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            h.push(JSON);
        }
        self.req("POST", path, &h, body).await.full()
    }

    /// GET with the test token.
    pub async fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[TOKEN], None).await.full()
    }

    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let body = body.map(|v| v.to_string());
        let h: &[(&str, &str)] = if body.is_some() {
            &[("Content-Type", "application/json")]
        } else {
            &[]
        };
        self.req(method, &format!("/_emulator{path}"), h, body.as_deref())
            .await
            .full()
    }

    pub async fn fault(&self, spec: Value) -> String {
        let r = self.control("POST", "/faults", Some(spec)).await;
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_owned()
    }

    pub async fn create(&self, item: &str, persist: bool) -> String {
        let r = self
            .post(
                &wb(item, "createSession"),
                &[JSON],
                Some(&format!("{{\"persistChanges\":{persist}}}")),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_owned()
    }

    pub async fn refresh(&self, item: &str, session: &str) -> Resp {
        self.post(&wb(item, "refreshSession"), &[("workbook-session-id", session)], None)
            .await
    }

    /// Polls an operation until it is no longer `running` (10 s at most).
    pub async fn poll_operation(&self, path: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.get(path).await.json();
            if v["status"] != "running" {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "operation still running: {v}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn stats(&self) -> Value {
        self.control("GET", "/stats", None).await.json()
    }

    pub async fn sessions(&self) -> Vec<Value> {
        self.control("GET", "/sessions", None).await.json()["sessions"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// `Content-Type: application/json`.
pub const JSON: (&str, &str) = ("Content-Type", "application/json");

/// The plain 404 of an unknown or expired session (resources/excel.md
/// promises only the status), minus what varies.
#[track_caller]
pub fn assert_invalid_session(r: &Resp) {
    assert_eq!(r.status, 404, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"]["code"], "notFound");
    assert_eq!(v["error"]["message"], "The target session is invalid.");
    assert!(v["error"]["innerError"].get("code").is_none(), "{v}");
    assert_eq!(v["error"]["innerError"]["request-id"], r.header("request-id").unwrap());
    assert_eq!(
        v["error"]["innerError"]["client-request-id"],
        r.header("client-request-id").unwrap()
    );
    assert!(v["error"]["innerError"]["date"].is_string());
}

/// The same under `--recreatable-404`: the second-level code
/// `invalidSessionReCreatable` and its detail.
#[track_caller]
pub fn assert_recreatable_session(r: &Resp) {
    assert_eq!(r.status, 404, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"]["code"], "itemNotFound");
    assert_eq!(v["error"]["message"], "The target session is invalid.");
    assert_eq!(v["error"]["innerError"]["code"], "invalidSessionReCreatable");
    assert_eq!(
        v["error"]["innerError"]["innerError"]["code"],
        "InvalidOrTimedOutSession"
    );
    assert_eq!(v["error"]["innerError"]["request-id"], r.header("request-id").unwrap());
    assert_eq!(
        v["error"]["innerError"]["client-request-id"],
        r.header("client-request-id").unwrap()
    );
    assert!(v["error"]["innerError"]["date"].is_string());
}
