//! refreshSession and closeSession: one session-scoped request each, sent
//! with retries; shared by the JS exports, `WorkbookSession` and the Rust API.

#[allow(unused_imports)]
use crate::prelude::*;

use super::exchange::{execute, Failed, Judging, LineCell};
use super::sys::{now_ms, AbortSignal};
use crate::protocol::policy::Kind;
use crate::protocol::request::Request;
use crate::protocol::session::close_already_done;
use crate::protocol::validate::Call;

/// Which session-scoped request.
#[derive(Clone, Copy)]
pub enum SessionAction {
    /// `POST .../workbook/refreshSession`.
    Refresh,
    /// `POST .../workbook/closeSession`.
    Close,
}

impl SessionAction {
    /// The operation's name, as error messages start.
    pub fn name(self) -> &'static str {
        match self {
            SessionAction::Refresh => "refreshSession",
            SessionAction::Close => "closeSession",
        }
    }
}

/// A successful refresh or close (the JS `RefreshResult`; with the `serde`
/// feature, serialized under its field names).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
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

/// Where a session-scoped request runs: the session's line (its
/// cooldown), and whether the session can be recreated there.
#[derive(Clone, Copy, Default)]
pub struct InLine<'a> {
    pub line: Option<&'a LineCell>,
    pub can_recreate: bool,
}

/// Sends `action` for `session_id`; `started` is when the caller's call began.
pub async fn session_action(
    action: SessionAction,
    call: &Call,
    session_id: &str,
    token: &str,
    signal: Option<&AbortSignal>,
    started: f64,
    in_line: InLine<'_>,
) -> Result<Refreshed, Failed> {
    let (req, kind) = match action {
        SessionAction::Refresh => (Request::refresh_session(call, session_id), Kind::Refresh),
        SessionAction::Close => (Request::close_session(call, session_id), Kind::Close),
    };
    let judging = Judging {
        kind,
        sessionful: true,
        can_recreate: in_line.can_recreate,
    };
    let (status, request_id, attempts) = match execute(call, &req, judging, token, signal, in_line.line).await {
        Ok(x) => (x.answer.status, x.answer.request_id, x.attempts),
        Err(f) if matches!(action, SessionAction::Close) && close_already_done(&f.error) => (
            f.error.status(),
            f.error.request_id().map(String::from),
            f.error.attempts(),
        ),
        Err(f) => return Err(f),
    };
    Ok(Refreshed {
        status,
        request_id,
        client_request_id: call.client_request_id.clone(),
        attempts,
        elapsed_ms: now_ms() - started,
    })
}
