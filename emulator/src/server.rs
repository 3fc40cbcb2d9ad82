//! The thin hyper adapter: reads the request (bounded), takes the lock for
//! the pure handler only, sleeps outside it, then answers, drops the
//! connection, or cuts the body short.

use std::borrow::Cow;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, HOST, ORIGIN};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::clock::Now;
use crate::config::Config;
use crate::handler::{handle, resume};
use crate::request::Request;
use crate::response::{Action, Body, Response};
use crate::state::State;

struct Shared {
    state: Mutex<State>,
    max_body: usize,
    body_timeout: Duration,
    local: String,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault")
    }
}

impl std::error::Error for DropConnection {}

const WORKBOOK_SESSION_ID: HeaderName = HeaderName::from_static("workbook-session-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");
const RETRY_ATTEMPT: HeaderName = HeaderName::from_static("retry-attempt");
const PREFER: HeaderName = HeaderName::from_static("prefer");
const CONTENT_TYPE: HeaderName = HeaderName::from_static("content-type");
const REQUEST_PRIVATE_NETWORK: HeaderName = HeaderName::from_static("access-control-request-private-network");

static FILLER: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// The response body: bytes, streamed filler, or a deliberately truncated
/// body that fails after a short pause (so the partial bytes are flushed
/// before the connection closes).
pub struct EmuBody {
    data: Option<Bytes>,
    filler: u64,
    fail: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl EmuBody {
    fn new(body: Body) -> EmuBody {
        let (data, filler) = match body {
            Body::Empty => (None, 0),
            Body::Bytes(b) => (Some(Bytes::from(b)), 0),
            Body::Shared(b) => (Some(b), 0),
            Body::Filler(n) => (None, n),
            Body::Error(e) => (Some(Bytes::from(e.0.to_body(&e.1))), 0),
        };
        EmuBody {
            data: data.filter(|d| !d.is_empty()),
            filler,
            fail: None,
        }
    }

    fn truncated(body: Body) -> EmuBody {
        let mut b = match body {
            Body::Empty => EmuBody::new(Body::Empty),
            Body::Filler(n) => EmuBody::new(Body::Filler(n / 2)),
            other => {
                let v = Bytes::from(other.to_bytes().into_owned());
                let half = v.len() / 2;
                EmuBody::new(Body::Shared(v.slice(..half.max(1).min(v.len()))))
            }
        };
        b.fail = Some(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
        b
    }

    fn remaining(&self) -> u64 {
        self.data.as_ref().map_or(0, |d| d.len() as u64) + self.filler
    }
}

impl HttpBody for EmuBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(d) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        if self.filler > 0 {
            let n = self.filler.min(FILLER.len() as u64) as usize;
            self.filler -= n as u64;
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&FILLER[..n])))));
        }
        if let Some(sleep) = self.fail.as_mut() {
            return match sleep.as_mut().poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(()) => {
                    self.fail = None;
                    Poll::Ready(Some(Err(io::Error::other("response cut by fault"))))
                }
            };
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0 && self.fail.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        if self.fail.is_some() {
            SizeHint::default()
        } else {
            SizeHint::with_exact(self.remaining())
        }
    }
}

fn header_name(name: Cow<'static, str>) -> Option<HeaderName> {
    match name {
        // Static lowercase names (the common headers) need no parsing.
        Cow::Borrowed(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') => {
            Some(HeaderName::from_static(s))
        }
        other => HeaderName::from_bytes(other.as_bytes()).ok(),
    }
}

fn header_value(value: Cow<'static, str>) -> Option<HeaderValue> {
    match value {
        Cow::Borrowed(s) if s.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) => {
            Some(HeaderValue::from_static(s))
        }
        // Owned strings move into `Bytes` without a copy.
        other => HeaderValue::from_maybe_shared(Bytes::from(other.into_owned())).ok(),
    }
}

fn to_hyper(mut r: Response, cut: bool) -> hyper::Response<EmuBody> {
    // Error bodies are serialized here, with the state lock released.
    if let Body::Error(e) = &r.body {
        r.body = Body::Bytes(e.0.to_body(&e.1));
    }
    let total = r.body.len();
    let mut out = hyper::Response::new(if cut {
        EmuBody::truncated(r.body)
    } else {
        EmuBody::new(r.body)
    });
    *out.status_mut() = hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    headers.reserve(r.headers.len() + 1);
    for (name, value) in r.headers {
        let (Some(name), Some(value)) = (header_name(name), header_value(value)) else {
            continue;
        };
        headers.append(name, value);
    }
    if cut {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(total));
    }
    out
}

async fn serve_one(
    shared: Arc<Shared>,
    remote_peer: bool,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<EmuBody>, DropConnection> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (bytes, too_large) = if declared.is_some_and(|n| n > shared.max_body as u64) {
        (Bytes::new(), true)
    } else if body.is_end_stream() {
        (Bytes::new(), false)
    } else {
        // A slow body holds a task and its buffer: bounded in time too.
        match tokio::time::timeout(shared.body_timeout, Limited::new(body, shared.max_body).collect()).await {
            Ok(Ok(c)) => (c.to_bytes(), false),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => (Bytes::new(), true),
            Ok(Err(_)) => return Err(DropConnection),
            Err(_) => {
                let mut r = Response::error(
                    &crate::errors::GraphError::body_timeout(),
                    &shared.lock().stamp(Now::system(), None),
                );
                r.push_header("Connection", "close");
                return Ok(to_hyper(r, false));
            }
        }
    };
    let h = &parts.headers;
    let get = |name: &HeaderName| h.get(name).and_then(|v| v.to_str().ok());
    let request = Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        host: get(&HOST).unwrap_or(&shared.local),
        https: false,
        authorization: get(&AUTHORIZATION),
        session_id: get(&WORKBOOK_SESSION_ID),
        client_request_id: get(&CLIENT_REQUEST_ID),
        retry_attempt: get(&RETRY_ATTEMPT),
        prefer: get(&PREFER),
        content_type: get(&CONTENT_TYPE),
        origin: get(&ORIGIN),
        private_network: get(&REQUEST_PRIVATE_NETWORK).is_some_and(|v| v.eq_ignore_ascii_case("true")),
        body: &bytes,
        body_too_large: too_large,
        remote_peer,
    };
    let mut outcome = handle(&mut shared.lock(), Now::system(), &request);
    loop {
        if let Some(d) = outcome.delay.take() {
            tokio::time::sleep(d).await;
        }
        match outcome.action {
            Action::Resume => outcome = resume(&mut shared.lock(), Now::system(), &request),
            Action::Respond(r) => return Ok(to_hyper(r, false)),
            Action::DropMidResponse(r) => return Ok(to_hyper(r, true)),
            Action::Drop => return Err(DropConnection),
        }
    }
}

/// Serves the emulator on `listener` until `shutdown` completes, then stops
/// accepting and gives open connections up to 2 s to finish.
pub async fn serve(listener: TcpListener, config: Config, shutdown: impl Future<Output = ()>) {
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "127.0.0.1".into());
    let header_timeout = config.header_read_timeout;
    let shared = Arc::new(Shared {
        max_body: config.max_body_bytes,
        body_timeout: config.body_read_timeout,
        state: Mutex::new(State::new(config)),
        local,
    });
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(_) => {
                        // Out of descriptors or a reset during accept: back off a little.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let remote = !peer.ip().to_canonical().is_loopback();
                let service = service_fn(move |req| serve_one(shared.clone(), remote, req));
                // A peer that never finishes its head would hold the
                // connection for ever (issue 13): hyper times the head out.
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(2)) => {}
    }
}

/// A running in-process emulator; dropping it shuts the server down.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl EmulatorHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `127.0.0.1:0` and serves in a background task. Returns the base
/// URL (`http://127.0.0.1:PORT`) and the handle.
pub async fn spawn(config: Config) -> io::Result<(String, EmulatorHandle)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, config, async move {
        let _ = rx.await;
    }));
    let handle = EmulatorHandle {
        addr,
        stop: Some(tx),
        task: Some(task),
    };
    Ok((handle.url(), handle))
}
