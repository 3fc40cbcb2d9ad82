//! Runs the attempts of one request as the protocol decides: send, ask
//! `retry::decide`, wait, send again; after a 401, ask
//! `retry::renew_token`, get a fresh token and resend once. The waiting and
//! sending are I/O; every decision, and the error an answer stands for, is
//! the protocol's.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Function;

use super::abort::sleep;
use super::fetch::{send, NoAnswer};
use super::sys::{now_ms, random, AbortSignal};
use super::token::TokenSource;
use crate::protocol::error::{Code, Error};
use crate::protocol::request::{Answer, Request};
use crate::protocol::retry::{decide, final_error, renew_token, Codes, Decision, Outcome};
use crate::protocol::validate::Call;

/// What a call carries for the shell ([`Call::transport`]): the caller's
/// `fetch`, and the token source to renew the token after a 401.
pub struct Transport {
    /// Used for every request of the call instead of the global `fetch`.
    pub fetch: Option<Function>,
    /// The call's token source.
    pub token: TokenSource,
}

/// The call's [`Transport`], when the surface gave it one.
pub fn transport(call: &Call) -> Option<&Transport> {
    call.transport.as_ref()?.downcast_ref::<Transport>()
}

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
    let transport = transport(call);
    let via = transport.and_then(|t| t.fetch.as_ref());
    let source = transport.map(|t| &t.token).filter(|s| s.renews());
    // The token after a 401, and the attempts it took (not counted as retries).
    let mut fresh: Option<String> = None;
    let mut renewals = 0u32;
    let mut attempt = 0u32;
    let finish = |e: Error, fresh: &Option<String>| {
        let mut e = with_call(e, call, token);
        if let Some(f) = fresh {
            e.redact(f);
        }
        e
    };
    loop {
        attempt += 1;
        let current = fresh.as_deref().unwrap_or(token);
        let sent = send(
            req,
            current,
            &call.client_request_id,
            attempt,
            call.timeout_ms,
            signal,
            via,
        )
        .await;
        if let (Ok(a), Some(source)) = (&sent, source) {
            if renew_token(a.status, true, fresh.is_some()) {
                match source.resolve(&req.url, signal, call.timeout_ms).await {
                    Ok(t) => {
                        fresh = Some(t);
                        renewals = 1;
                        continue;
                    }
                    Err(e) => return Err(finish(e.with_attempts(attempt), &fresh)),
                }
            }
        }
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
            Err(NoAnswer::Aborted) => return Err(finish(aborted(attempt), &fresh)),
        };
        let now = now_ms() as u64;
        match decide(attempt - renewals, call.limits(), outcome, now, random()) {
            Decision::Retry { delay_ms } => {
                if sleep(delay_ms, signal).await.is_err() {
                    return Err(finish(aborted(attempt), &fresh));
                }
            }
            Decision::Stop => {
                if let Some(e) = final_error(outcome, sent.as_ref().ok(), attempt, now) {
                    return Err(finish(e, &fresh));
                }
                return match sent {
                    Ok(answer) => Ok(Exchange {
                        answer,
                        attempts: attempt,
                    }),
                    Err(_) => Err(finish(
                        final_error(Outcome::Network, None, attempt, now).unwrap_or_else(|| aborted(attempt)),
                        &fresh,
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
