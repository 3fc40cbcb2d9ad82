//! createSession: the 201 answer, or the 202 long-running operation polled
//! until it succeeds or fails, all under one whole-call deadline
//! (`createTimeoutMs`). Decisions (poll delays, status reading, where the
//! token may follow `Location`) are the core's.

#[allow(unused_imports)]
use crate::prelude::*;

use super::abort::{sleep, AttemptGuard};
use super::exchange::{aborted, execute, with_call};
use super::sys::{now_ms, AbortSignal};
use crate::protocol::error::{Code, Error};
use crate::protocol::operation::{parse_operation, parse_session_info, poll_delay_ms, OperationStatus, SessionInfo};
use crate::protocol::request::Request;
use crate::protocol::validate::Call;

/// What createSession asks for.
#[derive(Clone, Copy)]
pub struct CreateParams {
    pub persist_changes: bool,
    pub prefer_async: bool,
    pub create_timeout_ms: u32,
}

/// Creates a session; `caller` is the user's signal.
pub async fn create_session(
    call: &Call,
    p: CreateParams,
    token: &str,
    caller: Option<&AbortSignal>,
) -> Result<SessionInfo, Error> {
    // One controller ends everything at the deadline or on the caller's abort.
    let deadline = AttemptGuard::new(p.create_timeout_ms, caller)
        .map_err(|_| Error::local(Code::Network, &["AbortController is not available"]))?;
    let signal = deadline.signal();
    let result = run(call, p, token, &signal).await;
    match result {
        Err(e) if e.code == Code::Aborted && deadline.timed_out() => {
            let mut t = Error::local(Code::Timeout, &["createSession did not finish within options.createTimeoutMs"]);
            t.attempts = e.attempts;
            Err(with_call(t, call, token))
        }
        other => other,
    }
}

async fn run(call: &Call, p: CreateParams, token: &str, signal: &AbortSignal) -> Result<SessionInfo, Error> {
    let req = Request::create_session(call, p.persist_changes, p.prefer_async);
    let x = execute(call, &req, token, Some(signal)).await?;
    let invalid = |why: &str| with_call(Error::local(Code::InvalidResponse, &[why]), call, token);
    match x.answer.status {
        202 => {}
        200 | 201 => return parse_session_info(&x.answer.body, p.persist_changes).map_err(|e| with_call(e, call, token)),
        _ => return Err(invalid("createSession answered a success status other than 201 or 202")),
    }
    // 202 Accepted: poll the operation (even when respond-async was not asked).
    let location = x.answer.location.ok_or_else(|| invalid("createSession answered 202 without a Location"))?;
    let operation_url = call.base.follow(&location, &call.allowed_hosts).map_err(|e| with_call(e, call, token))?;
    let mut retry_after = x.answer.retry_after;
    let mut poll = 0u32;
    loop {
        poll += 1;
        let delay = poll_delay_ms(poll, retry_after.as_deref(), now_ms() as u64);
        if sleep(delay, Some(signal)).await.is_err() {
            return Err(with_call(aborted(0), call, token));
        }
        let op = execute(call, &Request::get(operation_url.clone()), token, Some(signal)).await?;
        match parse_operation(&op.answer.body).map_err(|e| with_call(e, call, token))? {
            OperationStatus::Running => retry_after = op.answer.retry_after,
            OperationStatus::Failed(mut e) => {
                e.attempts = op.attempts;
                if e.request_id.is_none() {
                    e.request_id = op.answer.request_id;
                }
                return Err(with_call(e, call, token));
            }
            OperationStatus::Succeeded { resource_location } => {
                let url = call.base.follow(&resource_location, &call.allowed_hosts).map_err(|e| with_call(e, call, token))?;
                let info = execute(call, &Request::get(url), token, Some(signal)).await?;
                return parse_session_info(&info.answer.body, p.persist_changes).map_err(|e| with_call(e, call, token));
            }
        }
    }
}
