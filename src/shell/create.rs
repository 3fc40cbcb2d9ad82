//! createSession: drives `protocol::operation::CreateFlow` (the 201 answer,
//! or the 202 long-running operation polled until it succeeds or fails)
//! under one whole-call deadline (`createTimeoutMs`). Every decision is the
//! flow's and [`crate::protocol::policy::judge`]'s; this file sends, sleeps
//! and reports.

#[allow(unused_imports)]
use crate::prelude::*;

use super::abort::{aborted, sleep, AttemptGuard};
use super::exchange::{execute, with_call, Judging, LineCell};
use super::sys::{now_ms, random, AbortSignal};
use crate::protocol::error::{Code, Error};
pub use crate::protocol::operation::CreateParams;
use crate::protocol::operation::{CreateFlow, CreateStep, SessionInfo};
use crate::protocol::validate::Call;

/// Creates a session; `caller` is the user's signal; `line`: the line of
/// the session this one replaces (a recreation), whose cooldown it keeps.
pub async fn create_session(
    call: &Call,
    p: CreateParams,
    token: &str,
    caller: Option<&AbortSignal>,
    line: Option<&LineCell>,
) -> Result<SessionInfo, Error> {
    // One controller ends everything at the deadline or on the caller's abort.
    let deadline = AttemptGuard::new(p.create_timeout_ms, caller)
        .map_err(|_| Error::local(Code::Network, &["AbortController is not available"]))?;
    let signal = deadline.signal();
    let result = run(call, p, token, &signal, line).await;
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

async fn run(
    call: &Call,
    p: CreateParams,
    token: &str,
    signal: &AbortSignal,
    line: Option<&LineCell>,
) -> Result<SessionInfo, Error> {
    let mut flow = CreateFlow::new(call, p);
    loop {
        let kind = flow.kind();
        match flow.poll() {
            CreateStep::Send(req) => match execute(call, &req, Judging::plain(kind), token, Some(signal), line).await {
                Ok(x) => flow.handle_answer(call, &x.answer, x.attempts, now_ms() as u64, random()),
                Err(f) => flow.handle_error(f.error),
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
