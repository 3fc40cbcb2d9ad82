//! Runs the attempts of one request as the core decides: send, ask
//! `retry::decide`, wait, send again. The waiting and sending are I/O; every
//! decision is the core's.

#[allow(unused_imports)]
use crate::prelude::*;

use super::abort::sleep;
use super::fetch::{send, Answer, NoAnswer};
use super::sys::{now_ms, random, AbortSignal};
use crate::protocol::error::{Code, Error};
use crate::protocol::request::Request;
use crate::protocol::retry::{decide, parse_retry_after, Decision, Outcome};
use crate::protocol::validate::Call;

/// A successful (2xx) answer and how many attempts it took.
pub struct Exchange {
    pub answer: Answer,
    pub attempts: u32,
}

pub fn aborted(attempts: u32) -> Error {
    let mut e = Error::local(Code::Aborted, &["the call was aborted by its AbortSignal"]);
    e.attempts = attempts;
    e
}

/// Sends `req` with retries; a non-2xx final answer becomes a Graph error.
pub async fn execute(call: &Call, req: &Request, token: &str, signal: Option<&AbortSignal>) -> Result<Exchange, Error> {
    let mut attempt = 0u32;
    let mut result = loop {
        attempt += 1;
        let sent = send(req, token, &call.client_request_id, attempt, call.timeout_ms, signal).await;
        let outcome = match &sent {
            Ok(a) => Outcome::Answer { status: a.status, retry_after: a.retry_after.as_deref() },
            Err(NoAnswer::Network) => Outcome::Network,
            Err(NoAnswer::Timeout) => Outcome::Timeout,
            Err(NoAnswer::Aborted) => return Err(with_call(aborted(attempt), call, token)),
        };
        match decide(attempt, call.max_retries, outcome, now_ms() as u64, random()) {
            Decision::Retry { delay_ms } => {
                if sleep(delay_ms, signal).await.is_err() {
                    return Err(with_call(aborted(attempt), call, token));
                }
            }
            Decision::Stop => break sent,
        }
    };
    match result {
        Ok(answer) if (200..300).contains(&answer.status) => Ok(Exchange { answer, attempts: attempt }),
        Ok(ref mut answer) => {
            let mut e = Error::from_response(answer.status, &answer.body, answer.request_id.as_deref());
            e.retry_after_ms = answer
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, now_ms() as u64));
            e.attempts = attempt;
            Err(with_call(e, call, token))
        }
        Err(NoAnswer::Timeout) => {
            let mut e = Error::local(Code::Timeout, &["every attempt timed out (options.timeoutMs)"]);
            e.attempts = attempt;
            Err(with_call(e, call, token))
        }
        Err(_) => {
            let mut e = Error::local(
                Code::Network,
                &["no answer from Graph: the connection failed, was refused, redirected, or blocked by CORS"],
            );
            e.attempts = attempt;
            Err(with_call(e, call, token))
        }
    }
}

/// Stamps the call's `client-request-id` and scrubs the token.
pub fn with_call(mut e: Error, call: &Call, token: &str) -> Error {
    e.client_request_id = Some(call.client_request_id.clone());
    e.redact(token);
    e
}
