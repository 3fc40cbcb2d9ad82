//! createSession: drives `protocol::operation::CreateFlow` (the 201 answer,
//! or the 202 long-running operation polled until it succeeds or fails)
//! under one whole-call deadline (`createTimeoutMs`). Every decision is the
//! flow's; this file sends, sleeps and reports.

#[allow(unused_imports)]
use crate::prelude::*;

use super::abort::{sleep, AttemptGuard};
use super::exchange::{aborted, execute, with_call, Exchange};
use super::sys::{now_ms, random, AbortSignal};
use crate::protocol::error::{Code, Error};
pub use crate::protocol::operation::CreateParams;
use crate::protocol::operation::{resend_create, CreateFlow, CreateStep, SessionInfo};
use crate::protocol::request::Request;
use crate::protocol::validate::Call;

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
        Err(e) if *e.code() == Code::Aborted && deadline.timed_out() => {
            let t = Error::local(
                Code::Timeout,
                &["createSession did not finish within options.createTimeoutMs"],
            );
            Err(with_call(t.with_attempts(e.attempts()), call, token))
        }
        other => other,
    }
}

async fn run(call: &Call, p: CreateParams, token: &str, signal: &AbortSignal) -> Result<SessionInfo, Error> {
    let mut flow = CreateFlow::new(call, p);
    loop {
        match flow.poll() {
            CreateStep::Send(req) if flow.awaiting_creation() => match send_create(call, &req, token, signal).await {
                Ok(x) => flow.handle_answer(call, &x.answer, x.attempts, now_ms() as u64),
                Err(e) => flow.handle_error(e),
            },
            CreateStep::Send(req) => match execute(call, &req, token, Some(signal)).await {
                Ok(x) => flow.handle_answer(call, &x.answer, x.attempts, now_ms() as u64),
                Err(e) => flow.handle_error(e),
            },
            CreateStep::Wait(ms) => {
                if sleep(ms, Some(signal)).await.is_err() {
                    return Err(with_call(aborted(0), call, token));
                }
            }
            CreateStep::Done(result) => return result.map_err(|e| with_call(e, call, token)),
        }
    }
}

/// createSession itself, resent only as `resend_create` says (issue 13,
/// point 9: never after an ambiguous failure, which may have created it).
async fn send_create(call: &Call, req: &Request, token: &str, signal: &AbortSignal) -> Result<Exchange, Error> {
    let mut once = call.clone();
    once.max_retries = 0;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match execute(&once, req, token, Some(signal)).await {
            Ok(x) => {
                return Ok(Exchange {
                    answer: x.answer,
                    attempts: attempt,
                })
            }
            Err(e) => match resend_create(&e, attempt, call.max_retries, random()) {
                Some(ms) => {
                    if sleep(ms, Some(signal)).await.is_err() {
                        return Err(with_call(aborted(attempt), call, token));
                    }
                }
                None => return Err(e.with_attempts(attempt)),
            },
        }
    }
}
