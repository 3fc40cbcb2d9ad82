//! Runs the attempts of one request as the protocol decides: send, ask
//! `retry::decide`, wait, send again. The waiting and sending are I/O; every
//! decision, and the error an answer stands for, is the protocol's.

#[allow(unused_imports)]
use crate::prelude::*;

use super::abort::sleep;
use super::fetch::{send, NoAnswer};
use super::sys::{now_ms, random, AbortSignal};
use crate::protocol::error::{Code, Error};
use crate::protocol::request::{Answer, Request};
use crate::protocol::retry::{decide, final_error, Codes, Decision, Outcome};
use crate::protocol::validate::Call;

/// A successful (2xx) answer and how many attempts it took.
pub struct Exchange {
    pub answer: Answer,
    pub attempts: u32,
}

/// The caller's signal ended the call after `attempts` requests.
pub fn aborted(attempts: u32) -> Error {
    Error::local(Code::Aborted, &["the call was aborted by its AbortSignal"]).with_attempts(attempts)
}

/// Sends `req` with retries; a non-2xx final answer becomes a Graph error.
pub async fn execute(call: &Call, req: &Request, token: &str, signal: Option<&AbortSignal>) -> Result<Exchange, Error> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let sent = send(req, token, &call.client_request_id, attempt, call.timeout_ms, signal).await;
        // The error an unsuccessful answer stands for: its codes decide (the policy).
        let graph_error = match &sent {
            Ok(a) if !(200..300).contains(&a.status) => {
                Some(Error::from_response(a.status, &a.body, a.request_id.as_deref()))
            }
            _ => None,
        };
        let outcome = match &sent {
            Ok(a) => Outcome::Answer {
                status: a.status,
                retry_after: a.retry_after.as_deref(),
                codes: graph_error.as_ref().map(Codes::of).unwrap_or_default(),
            },
            Err(NoAnswer::Network) => Outcome::Network,
            Err(NoAnswer::Redirect) => Outcome::Redirect,
            Err(NoAnswer::Timeout) => Outcome::Timeout,
            Err(NoAnswer::Aborted) => return Err(with_call(aborted(attempt), call, token)),
        };
        let now = now_ms() as u64;
        match decide(attempt, call.limits(), outcome, now, random()) {
            Decision::Retry { delay_ms } => {
                if sleep(delay_ms, signal).await.is_err() {
                    return Err(with_call(aborted(attempt), call, token));
                }
            }
            Decision::Stop => {
                if let Some(e) = final_error(outcome, sent.as_ref().ok(), attempt, now) {
                    return Err(with_call(e, call, token));
                }
                return match sent {
                    Ok(answer) => Ok(Exchange {
                        answer,
                        attempts: attempt,
                    }),
                    Err(_) => Err(with_call(
                        final_error(Outcome::Network, None, attempt, now).unwrap_or_else(|| aborted(attempt)),
                        call,
                        token,
                    )),
                };
            }
        }
    }
}

/// Stamps the call's `client-request-id` and scrubs the token.
pub fn with_call(e: Error, call: &Call, token: &str) -> Error {
    let mut e = e.with_client_request_id(&call.client_request_id);
    e.redact(token);
    e
}
