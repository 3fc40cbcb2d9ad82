//! The Rust API, for Rust wasm crates (workers-rs, Leptos, Yew ...): the
//! same calls as the JS exports, with Rust types in and out.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::protocol::error::{Code, Error};
use crate::protocol::validate::{check_session_id, check_token, Call, CallInput};
use crate::shell::abort::caller_aborted;
use crate::shell::abort::{aborted, Signal};
use crate::shell::action::{session_action, Refreshed, SessionAction};
use crate::shell::exchange::with_call;
use crate::shell::sys::{fresh_client_request_id, now_ms, AbortSignal};

/// The options every call shares (the JS `CallOptions`).
///
/// With the `serde` feature they serialize under the JS option names
/// (`workbook`, `baseUrl`, `timeoutMs` ...), for a workers-rs app that keeps
/// them in KV or Durable Object storage, with two fields left out: `signal`
/// (a live JS object) and `accessToken`. The token is a secret that expires
/// within the hour, so it is never written; it is read when present, so an
/// app that chooses to store one adds `accessToken` to what it stores
/// itself. Without one, a call fails with `invalidArgument` before any
/// request: set [`Options::access_token`] after loading.
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct Options {
    /// The item path, unencoded: `/me/drive/items/{id}`, `/me/drive/root:/Folder/Book 1.xlsx:` ...
    pub workbook: String,
    /// The bearer token for Graph; never serialized (see above).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing))]
    pub access_token: String,
    /// Defaults to `https://graph.microsoft.com/v1.0`.
    pub base_url: Option<String>,
    /// Per-attempt timeout; default 30 000.
    pub timeout_ms: Option<u32>,
    /// Retries after the first attempt, 0..=10; default 3.
    pub max_retries: Option<u32>,
    /// The longest `Retry-After` cooldown a call waits, 0..=86 400 000;
    /// default 180 000. A longer one ends the call with the error (its
    /// `retry_after_ms` as Graph sent it); a cooldown is never cut short.
    pub max_retry_after_ms: Option<u32>,
    /// Defaults to a fresh UUID v4 per call, the same on its retries.
    pub client_request_id: Option<String>,
    /// Hosts besides Graph's and loopback that may receive the token.
    #[cfg_attr(feature = "serde", serde(default))]
    pub allowed_hosts: Vec<String>,
    /// Cancels the call, including a backoff wait; never serialized.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub signal: Option<AbortSignal>,
}

/// Shows every option but the token, which is `[redacted]`.
impl core::fmt::Debug for Options {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Options")
            .field("workbook", &self.workbook)
            .field("access_token", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("max_retry_after_ms", &self.max_retry_after_ms)
            .field("client_request_id", &self.client_request_id)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("signal", &self.signal.as_ref().map(|_| "AbortSignal"))
            .finish()
    }
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
            max_retry_after_ms: None,
            client_request_id: None,
            allowed_hosts: Vec::new(),
            signal: None,
        }
    }

    fn call(&self) -> Result<Call, Error> {
        check_token(&self.access_token, Code::InvalidArgument)?;
        Call::new(
            &CallInput {
                workbook: Some(&self.workbook),
                base_url: self.base_url.as_deref(),
                timeout_ms: self.timeout_ms.map(f64::from),
                max_retries: self.max_retries.map(f64::from),
                max_retry_after_ms: self.max_retry_after_ms.map(f64::from),
                client_request_id: self.client_request_id.as_deref(),
                allowed_hosts: &self.allowed_hosts,
            },
            fresh_client_request_id,
        )
    }
}

/// Options of [`refresh_session`] and [`close_session`]; with the `serde`
/// feature, `{"options":{...},"sessionId":"..."}`. Not flattened into one
/// object as in JS: serde's `flatten` goes through a map, which
/// serde-wasm-bindgen's default serializer turns into a JS `Map`, and
/// `JSON.stringify` of a `Map` is `{}`.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct RefreshOptions {
    /// The shared options.
    pub options: Options,
    /// The `workbook-session-id`.
    pub session_id: String,
}

async fn run(action: SessionAction, o: &RefreshOptions) -> Result<Refreshed, Error> {
    let started = now_ms();
    let call = o.options.call()?;
    check_session_id(&o.session_id)?;
    // Linked once, as a JS caller's signal is (`Signal::link`).
    let linked = match &o.options.signal {
        Some(s) => Some(
            Signal::link(s.as_ref())
                .map_err(|_| Error::local(Code::InvalidArgument, &["options.signal could not be read"]))?,
        ),
        None => None,
    };
    let signal = linked.as_deref();
    if caller_aborted(signal) {
        return Err(with_call(aborted(0), &call, &o.options.access_token));
    }
    session_action(
        action,
        &call,
        &o.session_id,
        &o.options.access_token,
        signal,
        started,
        Default::default(),
    )
    .await
    .map_err(Error::from)
}

/// `POST {baseUrl}{workbook}/workbook/refreshSession`, with retries.
pub async fn refresh_session(o: &RefreshOptions) -> Result<Refreshed, Error> {
    run(SessionAction::Refresh, o).await
}

/// `POST {baseUrl}{workbook}/workbook/closeSession`, with retries.
pub async fn close_session(o: &RefreshOptions) -> Result<Refreshed, Error> {
    run(SessionAction::Close, o).await
}
