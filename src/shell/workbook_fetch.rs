//! `session.fetch`'s I/O: reading the caller's `RequestInit`, and each
//! attempt's `fetch` init. The decisions (where the request
//! may go, its headers, resends, recreation) are
//! `protocol::workbook_request`'s and `protocol::attempts`'; the attempts
//! are run by the one driver (`shell::exchange::drive`) through the
//! session's step (`shell::session`), which owns the session id.
//!
//! A successful (2xx) answer is handed back as the platform's own
//! `Response`, its body unread ([`Sent::Head`](super::exchange::Sent)). An
//! error answer's body is read (bounded, the token scrubbed) to build the
//! `GraphError`.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Object;
use wasm_bindgen::JsValue;

use super::abort::Signal;
use super::fetch::{header_text, NoAnswer};
use super::sys::AbortSignal;

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/shell/init.js")]
extern "C" {
    /// A copy of `base` with `method`, `headers` (a copy of `caller` with
    /// the headers of `headers`, see [`header_text`]), `body` unless
    /// undefined, `redirect: "manual"` and `signal`; `Err` when the
    /// platform's `Headers` refuses a value.
    #[wasm_bindgen(catch, js_name = sessionInit)]
    fn session_init(
        base: &Object,
        caller: &web_sys::Headers,
        method: &str,
        headers: &str,
        body: &JsValue,
        signal: &AbortSignal,
    ) -> Result<Object, JsValue>;
}

/// The caller's `init`, read.
pub struct FetchInit {
    /// What goes out on every attempt.
    pub outgoing: Outgoing,
    /// `init.concurrent`: skip the session's one-at-a-time order.
    pub concurrent: bool,
    /// `init.recreate`: overrides keep-alive's `recreate` for this call.
    pub recreate: Option<bool>,
    /// `init.signal`.
    pub signal: Option<Signal>,
    /// The caller's own `client-request-id` header, kept on every attempt.
    pub client_request_id: Option<String>,
}

/// The request as the caller gave it, checked (see `surface::fetch_init`).
pub struct Outgoing {
    /// The caller's fields passed to `fetch` as given (`cache`,
    /// `priority`, `keepalive`); the others are set per attempt.
    pub base: Object,
    /// The caller's headers, with `Content-Type` added for JSON.
    pub headers: web_sys::Headers,
    /// The body to send on every attempt (JSON already serialized).
    pub body: JsValue,
    /// GET, PATCH ... (normalized).
    pub method: String,
}

/// The `fetch` init of attempt `attempt` (1-based) in session
/// `session_id`: the caller's request with the session's headers, its
/// signal the attempt's.
pub fn session_request_init(
    p: &Outgoing,
    token: &str,
    session_id: &str,
    client_request_id: &str,
    attempt: u32,
    signal: &AbortSignal,
) -> Result<Object, NoAnswer> {
    let mut auth = String::with_capacity(token.len() + 7);
    auth.push_str("Bearer ");
    auth.push_str(token);
    let retry = (attempt > 1).then(|| {
        let mut n = String::new();
        crate::protocol::text::push_decimal(&mut n, u64::from(attempt - 1));
        n
    });
    let ours = [
        ("authorization", auth.as_str()),
        ("workbook-session-id", session_id),
        ("client-request-id", client_request_id),
    ];
    let retry = retry.as_deref().map(|n| ("retry-attempt", n));
    // A header that cannot be set fails the call: never a request without
    // its token, session id or client-request-id.
    let text = header_text(ours.into_iter().chain(retry)).ok_or(NoAnswer::HeaderRefused)?;
    // The token never follows a redirect (see `shell::fetch::fetch_init`).
    session_init(&p.base, &p.headers, &p.method, &text, &p.body, signal).map_err(|_| NoAnswer::HeaderRefused)
}
