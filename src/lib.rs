//! # graph-workbook-session
//!
//! Keeps Microsoft Graph Excel workbook sessions alive, from any JavaScript
//! runtime (through the npm package) or from Rust wasm code (workers-rs ...).
//!
//! ```text
//!  JS options ──► surface (lib.rs) ──► core::validate ──► core::request
//!                    │                                        │
//!                    ▼                                        ▼
//!               GraphError ◄── core::error ◄── js::exchange ──► fetch (global)
//!                                   ▲            │  ▲
//!                                   └── core::retry::decide ◄┘
//! ```
//!
//! * [`core`] is sans-IO: validation, URLs, headers, error bodies,
//!   `Retry-After`, retry decisions. Plain values in and out; tested natively.
//! * `js` is the thin shell: the global `fetch`, `AbortController`,
//!   `setTimeout`; it runs the attempts the core decides.
//! * This file is the surface: the `#[wasm_bindgen]` exports of the JS
//!   contract (DESIGN.md) and the same calls for Rust.
//!
//! Rust quick start (inside a wasm32 crate):
//! ```no_run
//! # async fn demo() -> Result<(), graph_workbook_session::Error> {
//! use graph_workbook_session::{refresh_session, Options, RefreshOptions};
//! let o = RefreshOptions {
//!     options: Options::new("/me/drive/items/01ABC", "eyJ0eXAi..."),
//!     session_id: "cluster=PS1&session=...".into(),
//! };
//! let refreshed = refresh_session(&o).await?;
//! assert_eq!(refreshed.status, 204);
//! # Ok(()) }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
// Unsafe code is denied everywhere but the global allocator of the npm
// build, which must be declared with `unsafe`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// The `alloc` names every module uses, so the crate builds with and
/// without `std`.
#[allow(unused_imports)]
pub(crate) mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}
#[allow(unused_imports)]
use crate::prelude::*;

/// The npm package is built without `std` (`--no-default-features`): its
/// panic machinery and `core::fmt` cost more bytes than the rest of the
/// library. A panic cannot happen by design (no input may panic); should one
/// happen anyway, it traps.
#[cfg(all(not(feature = "std"), target_arch = "wasm32"))]
mod no_std_runtime {
    #[panic_handler]
    fn panic(_: &::core::panic::PanicInfo<'_>) -> ! {
        ::core::arch::wasm32::unreachable()
    }

    // SAFETY: wasm32-unknown-unknown without the atomics feature has one
    // thread, which is what AssumeSingleThreaded requires.
    #[allow(unsafe_code)]
    #[global_allocator]
    static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
        unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
}

pub mod core;
mod js;
mod workbook_session;

pub use crate::workbook_session::WorkbookSession;

use js_sys::Object;
use wasm_bindgen::prelude::*;

pub use crate::core::error::{Code, Error, ErrorDetails};
use crate::core::request::Request;
use crate::core::session::close_already_done;
use crate::core::validate::{check_session_id, check_token, uuid_v4, Call, CallOptions};
use crate::js::exchange::{execute, with_call};
use crate::js::graph_error::to_js;
use crate::js::options::Opts;
pub use crate::js::sys::AbortSignal;
use crate::js::sys::{now_ms, random_bytes, set};
use crate::core::operation::{SessionInfo, DEFAULT_CREATE_TIMEOUT_MS, MAX_CREATE_TIMEOUT_MS};
use crate::js::create::{create_session, CreateParams};
use crate::js::token::TokenSource;

/// The options every call shares (the JS `CallOptions`).
#[derive(Clone)]
pub struct Options {
    /// The item path, unencoded: `/me/drive/items/{id}`, `/me/drive/root:/Folder/Book 1.xlsx:` ...
    pub workbook: String,
    /// The bearer token for Graph.
    pub access_token: String,
    /// Defaults to `https://graph.microsoft.com/v1.0`.
    pub base_url: Option<String>,
    /// Per-attempt timeout; default 30 000.
    pub timeout_ms: Option<u32>,
    /// Retries after the first attempt, 0..=10; default 3.
    pub max_retries: Option<u32>,
    /// Defaults to a fresh UUID v4 per call, the same on its retries.
    pub client_request_id: Option<String>,
    /// Hosts besides Graph's and loopback that may receive the token.
    pub allowed_hosts: Vec<String>,
    /// Cancels the call, including a backoff wait.
    pub signal: Option<AbortSignal>,
}

impl Options {
    /// Options with every default.
    pub fn new(workbook: &str, access_token: &str) -> Options {
        Options {
            workbook: workbook.into(),
            access_token: access_token.into(),
            base_url: None,
            timeout_ms: None,
            max_retries: None,
            client_request_id: None,
            allowed_hosts: Vec::new(),
            signal: None,
        }
    }

    fn call(&self) -> Result<Call, Error> {
        check_token(&self.access_token, Code::InvalidArgument)?;
        Call::new(
            &CallOptions {
                workbook: Some(&self.workbook),
                base_url: self.base_url.as_deref(),
                timeout_ms: self.timeout_ms.map(f64::from),
                max_retries: self.max_retries.map(f64::from),
                client_request_id: self.client_request_id.as_deref(),
                allowed_hosts: &self.allowed_hosts,
            },
            fresh_request_id,
        )
    }
}

/// Options of `refresh_session` and `close_session`.
#[derive(Clone)]
pub struct RefreshOptions {
    /// The shared options.
    pub options: Options,
    /// The `workbook-session-id`.
    pub session_id: String,
}

/// A successful refresh or close (the JS `RefreshResult`).
#[derive(Clone, Debug)]
pub struct Refreshed {
    /// The HTTP status: 204, or 404 when a closeSession retry found the
    /// session already closed by an attempt whose answer was lost.
    pub status: u16,
    /// Graph's `request-id`.
    pub request_id: Option<String>,
    /// The call's `client-request-id`.
    pub client_request_id: String,
    /// Requests sent, retries included.
    pub attempts: u32,
    /// Wall time of the whole call.
    pub elapsed_ms: f64,
}

fn fresh_request_id() -> String {
    uuid_v4(random_bytes())
}

#[derive(Clone, Copy)]
enum SessionAction {
    Refresh,
    Close,
}

impl SessionAction {
    fn name(self) -> &'static str {
        match self {
            SessionAction::Refresh => "refreshSession",
            SessionAction::Close => "closeSession",
        }
    }
}

async fn session_action(
    action: SessionAction,
    call: &Call,
    session_id: &str,
    token: &str,
    signal: Option<&AbortSignal>,
    started: f64,
) -> Result<Refreshed, Error> {
    let req = match action {
        SessionAction::Refresh => Request::refresh_session(call, session_id),
        SessionAction::Close => Request::close_session(call, session_id),
    };
    let (status, request_id, attempts) = match execute(call, &req, token, signal).await {
        Ok(x) => (x.answer.status, x.answer.request_id, x.attempts),
        Err(e) if matches!(action, SessionAction::Close) && close_already_done(&e) => {
            (e.status, e.request_id.clone(), e.attempts)
        }
        Err(e) => return Err(e),
    };
    Ok(Refreshed {
        status,
        request_id,
        client_request_id: call.client_request_id.clone(),
        attempts,
        elapsed_ms: now_ms() - started,
    })
}

async fn session_action_rust(action: SessionAction, o: &RefreshOptions) -> Result<Refreshed, Error> {
    let started = now_ms();
    let call = o.options.call()?;
    check_session_id(&o.session_id)?;
    let signal = o.options.signal.as_ref();
    if js::abort::caller_aborted(signal) {
        return Err(with_call(js::exchange::aborted(0), &call, &o.options.access_token));
    }
    session_action(action, &call, &o.session_id, &o.options.access_token, signal, started).await
}

/// `POST {baseUrl}{workbook}/workbook/refreshSession`, with retries.
pub async fn refresh_session(o: &RefreshOptions) -> Result<Refreshed, Error> {
    session_action_rust(SessionAction::Refresh, o).await
}

/// `POST {baseUrl}{workbook}/workbook/closeSession`, with retries.
pub async fn close_session(o: &RefreshOptions) -> Result<Refreshed, Error> {
    session_action_rust(SessionAction::Close, o).await
}

// ---- the JavaScript surface -------------------------------------------------

/// A JS call's options once read: the checked call, its token source and signal.
struct JsCall {
    call: Call,
    token: TokenSource,
    signal: Option<AbortSignal>,
}

fn read_call(o: &Opts<'_>, with_workbook: bool) -> Result<JsCall, Error> {
    let workbook = if with_workbook { Some(o.string("workbook")?) } else { None };
    let token = TokenSource::from_js(&o.get("accessToken")?)?;
    let base_url = o.opt_string("baseUrl")?;
    let timeout_ms = o.opt_number("timeoutMs")?;
    let max_retries = o.opt_number("maxRetries")?;
    let client_request_id = o.opt_string("clientRequestId")?;
    let allowed_hosts = o.string_array("allowedHosts")?;
    let signal = o.signal()?;
    let call = Call::new(
        &CallOptions {
            workbook: workbook.as_deref(),
            base_url: base_url.as_deref(),
            timeout_ms,
            max_retries,
            client_request_id: client_request_id.as_deref(),
            allowed_hosts: &allowed_hosts,
        },
        fresh_request_id,
    )?;
    Ok(JsCall { call, token, signal })
}

impl JsCall {
    /// Resolves the token; an already-aborted signal ends the call first.
    async fn token(&self) -> Result<String, Error> {
        if js::abort::caller_aborted(self.signal.as_ref()) {
            return Err(with_call(js::exchange::aborted(0), &self.call, ""));
        }
        self.token
            .resolve(self.signal.as_ref())
            .await
            .map_err(|e| with_call(e, &self.call, ""))
    }
}


/// The JS `RefreshResult`, built as JSON and parsed in one crossing.
fn refreshed_to_js(r: &Refreshed) -> JsValue {
    use crate::core::json::{push_decimal, write_string};
    let mut out = String::with_capacity(160);
    out.push_str("{\"status\":");
    push_decimal(&mut out, u64::from(r.status));
    out.push_str(",\"requestId\":");
    match &r.request_id {
        Some(id) => write_string(&mut out, id),
        None => out.push_str("null"),
    }
    out.push_str(",\"clientRequestId\":");
    write_string(&mut out, &r.client_request_id);
    out.push_str(",\"attempts\":");
    push_decimal(&mut out, u64::from(r.attempts));
    out.push_str(",\"elapsedMs\":");
    // Date.now() differences are whole milliseconds.
    push_decimal(&mut out, r.elapsed_ms.max(0.0) as u64);
    out.push('}');
    js_sys::JSON::parse(&out).unwrap_or(JsValue::NULL)
}

async fn session_action_js(action: SessionAction, options: JsValue) -> Result<JsValue, JsValue> {
    let started = now_ms();
    let run = async {
        let o = Opts::new(&options)?;
        let c = read_call(&o, true)?;
        let session_id = o.string("sessionId")?;
        check_session_id(&session_id)?;
        let token = c.token().await?;
        session_action(action, &c.call, &session_id, &token, c.signal.as_ref(), started).await
    };
    run.await.map(|r| refreshed_to_js(&r)).map_err(|e| to_js(&e, action.name()))
}

/// Refreshes a workbook session so that it does not expire.
///
/// `POST {baseUrl}{workbook}/workbook/refreshSession` with the
/// `workbook-session-id` header; retries 429/503/504, network errors and
/// attempt timeouts. Resolves to `{ status, requestId, clientRequestId,
/// attempts, elapsedMs }`; rejects with a `GraphError`.
#[wasm_bindgen(js_name = refreshSession, unchecked_return_type = "RefreshResult")]
pub async fn refresh_session_js(
    #[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    session_action_js(SessionAction::Refresh, options).await
}

/// Closes a workbook session (`POST .../workbook/closeSession`).
#[wasm_bindgen(js_name = closeSession, unchecked_return_type = "RefreshResult")]
pub async fn close_session_js(
    #[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    session_action_js(SessionAction::Close, options).await
}

/// Reads createSession's own options (besides the shared ones).
fn read_create(o: &Opts<'_>) -> Result<CreateParams, Error> {
    Ok(CreateParams {
        persist_changes: o.opt_bool("persistChanges")?.unwrap_or(true),
        prefer_async: o.opt_bool("preferAsync")?.unwrap_or(false),
        create_timeout_ms: crate::core::validate::integer(
            "createTimeoutMs",
            o.opt_number("createTimeoutMs")?,
            1,
            MAX_CREATE_TIMEOUT_MS,
            DEFAULT_CREATE_TIMEOUT_MS,
        )?,
    })
}

fn session_info_to_js(info: &SessionInfo) -> JsValue {
    let o = Object::new();
    set(&o, "id", &JsValue::from_str(&info.id));
    set(&o, "persistChanges", &JsValue::from(info.persist_changes));
    o.into()
}

/// Creates a workbook session: `POST .../workbook/createSession` with
/// `{"persistChanges"}`. Handles `201` and the `202` long-running operation
/// (polled until it succeeds, fails, or `createTimeoutMs` passes).
#[wasm_bindgen(js_name = createSession, unchecked_return_type = "SessionInfo")]
pub async fn create_session_js(
    #[wasm_bindgen(unchecked_param_type = "CreateSessionOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let run = async {
        let o = Opts::new(&options)?;
        let c = read_call(&o, true)?;
        let p = read_create(&o)?;
        let token = c.token().await?;
        create_session(&c.call, p, &token, c.signal.as_ref()).await
    };
    run.await.map(|i| session_info_to_js(&i)).map_err(|e| to_js(&e, "createSession"))
}

/// Refreshes many sessions through `POST {baseUrl}/$batch`, 20 per request.
/// Resolves to one entry per item, in order: a `RefreshResult` or a
/// `GraphError` (never rejects for a single item's failure).
#[wasm_bindgen(js_name = refreshSessions, unchecked_return_type = "Array<RefreshResult | GraphError>")]
pub async fn refresh_sessions_js(
    #[wasm_bindgen(unchecked_param_type = "BatchItem[]")] items: JsValue,
    #[wasm_bindgen(unchecked_param_type = "BatchOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let started = now_ms();
    let run = async {
        let o = Opts::new(&options)?;
        let c = read_call(&o, false)?;
        if !js_sys::Array::is_array(&items) {
            return Err(Error::local(Code::InvalidArgument, &["items must be an array of { workbook, sessionId }"]));
        }
        let items: Vec<Result<(String, String), Error>> = js_sys::Array::from(&items)
            .iter()
            .map(|item| {
                let o = Opts::new(&item)?;
                let workbook = crate::core::url::encode_workbook(&o.string("workbook")?)?;
                let session_id = o.string("sessionId")?;
                check_session_id(&session_id)?;
                Ok((workbook, session_id))
            })
            .collect();
        let token = c.token().await?;
        let results = js::batch::refresh_sessions(&c.call, items, &token, c.signal.as_ref(), started).await;
        Ok((results, c.call.client_request_id))
    };
    let (results, client_request_id) = run.await.map_err(|e| to_js(&e, "refreshSessions"))?;
    let out = js_sys::Array::new();
    for r in results {
        out.push(&match r {
            Ok(i) => refreshed_to_js(&Refreshed {
                status: i.status,
                request_id: i.request_id,
                client_request_id: client_request_id.clone(),
                attempts: i.attempts,
                elapsed_ms: i.elapsed_ms,
            }),
            Err(e) => to_js(&e, "refreshSessions"),
        });
    }
    Ok(out.into())
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** An access token, or where to get one for each call. */
export type AccessToken =
  | string
  | (() => string | Promise<string>)
  | { getAccessToken(): Promise<string> };

/** Options every call shares. */
export interface CallOptions {
  /** Item path, unencoded: "/me/drive/items/{id}", "/me/drive/root:/Folder/Book 1.xlsx:" ... */
  workbook: string;
  /** A token, a function returning one (or a promise of one), or a Graph SDK AuthenticationProvider. */
  accessToken: AccessToken;
  /** Default "https://graph.microsoft.com/v1.0". http only to loopback. */
  baseUrl?: string;
  /** Cancels the call at once, including a backoff wait. */
  signal?: AbortSignal;
  /** Per attempt, integer 1..600000, default 30000. */
  timeoutMs?: number;
  /** Retries of 429/503/504, network errors and timeouts; integer 0..10, default 3. */
  maxRetries?: number;
  /** Default: a fresh UUID v4 per call, the same on its retries. */
  clientRequestId?: string;
  /** Hosts besides Graph's and loopback that may receive the token. */
  allowedHosts?: string[];
}

/** Options of refreshSession and closeSession. */
export interface SessionOptions extends CallOptions {
  /** The workbook-session-id. */
  sessionId: string;
}

/** A successful refreshSession or closeSession. */
export interface RefreshResult {
  /** 204; or 404 when a closeSession retry found the session already closed by an attempt whose answer was lost. */
  status: number;
  requestId: string | null;
  clientRequestId: string;
  attempts: number;
  elapsedMs: number;
}

/** The codes this library raises itself; Graph's own codes pass through. */
export type LocalErrorCode =
  | "invalidArgument" | "hostNotAllowed" | "insecureUrl" | "timeout"
  | "aborted" | "network" | "tokenProvider" | "invalidResponse";

/** createSession options. */
export interface CreateSessionOptions extends CallOptions {
  /** Default true. */
  persistChanges?: boolean;
  /** Send "Prefer: respond-async" (Graph may then answer 202 and a long-running operation). Default false. */
  preferAsync?: boolean;
  /** Deadline of the whole call, polling included; integer 1..1800000, default 240000. */
  createTimeoutMs?: number;
}

/** A session as Graph describes it. */
export interface SessionInfo {
  id: string;
  persistChanges: boolean;
}

/** WorkbookSession.attach options. */
export interface AttachSessionOptions extends CreateSessionOptions {
  sessionId: string;
  /** Default true. */
  persistChanges?: boolean;
}

export type SessionState = "active" | "lost" | "closed";

/** Passed to onRecreated. stateLost is true when the old session was non-persistent: its uncommitted changes are gone. */
export interface RecreatedEvent {
  previousId: string;
  id: string;
  stateLost: boolean;
}

/** WorkbookSession.keepAlive options. */
export interface KeepAliveOptions {
  /** Mean ms between refreshes (±10 % jitter); integer 50..86400000; default 180000 (persistent) or 240000. */
  intervalMs?: number;
  /** Recreate the session on invalidSessionReCreatable. Default false: the session turns "lost". */
  recreate?: boolean;
  onRefresh?: (result: RefreshResult) => void;
  /** A refresh failed and the session is still active (keep-alive goes on after transient errors, stops after others). */
  onError?: (error: GraphError) => void;
  onLost?: (error: GraphError) => void;
  onRecreated?: (event: RecreatedEvent) => void;
}

/** One session of a refreshSessions batch. */
export interface BatchItem {
  workbook: string;
  sessionId: string;
}

/** refreshSessions options: the shared ones, without workbook (each item has its own). */
export type BatchOptions = Omit<CallOptions, "workbook">;

/** Every rejection: an Error with name "GraphError". Check `e.name === "GraphError"`. */
export interface GraphError extends Error {
  name: "GraphError";
  /** Graph's top-level code (e.g. "itemNotFound") or a LocalErrorCode. */
  code: LocalErrorCode | (string & {});
  /** The deepest innerError code, e.g. "invalidSessionReCreatable". */
  innerCode: string | null;
  /** HTTP status, 0 when no answer came. */
  status: number;
  requestId: string | null;
  clientRequestId: string | null;
  /** The server's Retry-After in ms, when it sent one. */
  retryAfterMs: number | null;
  /** Requests sent (0 when the call failed before sending). */
  attempts: number;
  /** True for invalidSessionReCreatable: create a new session and go on. */
  recreatable: boolean;
  /** Graph's innerError.date, when given. */
  date: string | null;
}
"#;
