//! Runs the attempts of one request: wait for the session's line, send,
//! ask [`judge`] what follows, wait, send again; after a 401 with a token
//! source that renews, get a fresh token and resend once. The waiting and
//! sending are I/O; every decision, and the error an answer stands for, is
//! the protocol's.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::Cell;

use js_sys::Function;

use super::abort::{aborted, sleep};
use super::events::{emit, AttemptEvents};
use super::fetch::{send, NoAnswer};
use super::sys::{now_ms, random, AbortSignal};
use super::token::TokenSource;
use crate::protocol::error::{Code, Error};
use crate::protocol::event::{failure, resend, Event};
use crate::protocol::line::{Gate, Line};
use crate::protocol::policy::{judge, Answered, Attempt, Kind, Verdict};
use crate::protocol::request::{answered, final_error, Answer, Request};
use crate::protocol::retry::parse_retry_after;
use crate::protocol::validate::Call;

/// What a call carries for the shell ([`Call::transport`]): the caller's
/// `fetch`, and the token source to renew the token after a 401.
pub struct Transport {
    /// Used for every request of the call instead of the global `fetch`.
    pub fetch: Option<Function>,
    /// The call's token source.
    pub token: TokenSource,
    /// The caller's `onEvent` listener.
    pub on_event: Option<Function>,
}

/// The call's `onEvent` listener, when it has one.
#[cfg_attr(not(feature = "full"), allow(dead_code))]
pub fn listener(call: &Call) -> Option<&Function> {
    transport(call).and_then(|t| t.on_event.as_ref())
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

/// A request that ended without success: its error, and [`judge`]'s
/// verdict on its last answer (what it means for the session).
pub struct Failed {
    pub error: Error,
    pub verdict: Verdict,
}

impl From<Failed> for Error {
    fn from(f: Failed) -> Error {
        f.error
    }
}

/// Where a request stands in its session's line: the line's cooldown,
/// shared by every request carrying the session id.
pub type LineCell = Cell<Line>;

/// Sleeps `resend_after` (a resend's delay, when one is due), then waits
/// until the line lets a request go; `Err` when its cooldown is longer
/// than the call waits (nothing is sent) or the caller aborted. The attempt
/// loops' one sleep, so that each awaits it in one place.
pub async fn wait_for_line(
    line: Option<&LineCell>,
    call: &Call,
    signal: Option<&AbortSignal>,
    attempts: u32,
    resend_after: Option<u64>,
) -> Result<(), Error> {
    let mut pause = resend_after;
    loop {
        let ms = match (pause.take(), line) {
            (Some(ms), _) => ms,
            (None, None) => return Ok(()),
            (None, Some(line)) => match line.get().gate(now_ms() as u64, call.limits().max_retry_after_ms) {
                Gate::Go => return Ok(()),
                Gate::Wait(ms) => ms,
                Gate::TooLong(ms) => {
                    return Err(Error::local(
                        Code::Graph("tooManyRequests".into()),
                        &["the session is cooling down (Retry-After) for longer than options.maxRetryAfterMs; nothing was sent"],
                    )
                    .with_retry_after_ms(Some(ms))
                    .with_attempts(attempts))
                }
            },
        };
        if sleep(ms, signal).await.is_err() {
            return Err(aborted(attempts));
        }
    }
}

/// How a request is judged: its kind, whether it carries a session, and
/// whether that session can be recreated here.
#[derive(Clone, Copy)]
pub struct Judging {
    pub kind: Kind,
    pub sessionful: bool,
    pub can_recreate: bool,
}

impl Judging {
    /// A request outside any session.
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    pub fn plain(kind: Kind) -> Judging {
        Judging {
            kind,
            sessionful: false,
            can_recreate: false,
        }
    }
}

/// Sends `req` as [`judge`] says; a non-2xx final answer becomes a Graph
/// error. `line`: the session's line, waited for before every attempt and
/// held by every cooldown.
pub async fn execute(
    call: &Call,
    req: &Request,
    judging: Judging,
    token: &str,
    signal: Option<&AbortSignal>,
    line: Option<&LineCell>,
) -> Result<Exchange, Failed> {
    let transport = transport(call);
    let via = transport.and_then(|t| t.fetch.as_ref());
    let source = transport.map(|t| &t.token).filter(|s| s.renews());
    let on_event = transport.and_then(|t| t.on_event.as_ref());
    // The token after a 401: scrubbed from the error with the first one.
    let mut fresh: Option<String> = None;
    let mut renewals = 0u32;
    let mut attempt = 0u32;
    // A resend's delay, slept at the top of the next turn.
    let mut resend_after: Option<u64> = None;
    let finish = |e: Error, fresh: &Option<String>, verdict: Verdict| {
        let mut e = with_call(e, call, token).with_session_recreatable(verdict.recreatable());
        if let Some(f) = fresh {
            e.redact(f);
        }
        Failed { error: e, verdict }
    };
    loop {
        if let Err(e) = wait_for_line(line, call, signal, attempt, resend_after.take()).await {
            return Err(finish(e, &fresh, Verdict::Fail));
        }
        attempt += 1;
        let current = fresh.as_deref().unwrap_or(token);
        let method = req.method.as_str();
        let url = req.url.as_str();
        let events = AttemptEvents::sent(on_event, method, url, attempt);
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
        let now = now_ms() as u64;
        let no_answer = match &sent {
            Ok(a) => {
                events.answered(a.status, a.request_id.as_deref(), None);
                Answered::Network
            }
            Err(NoAnswer::Network) => Answered::Network,
            Err(NoAnswer::Redirect) => Answered::Redirect,
            Err(NoAnswer::Timeout) => Answered::Timeout,
            Err(NoAnswer::Aborted) => {
                events.answered(0, None, Some("aborted"));
                return Err(finish(aborted(attempt), &fresh, Verdict::Fail));
            }
            Err(NoAnswer::HeaderRefused) => return Err(finish(header_refused(attempt), &fresh, Verdict::Fail)),
        };
        if sent.is_err() {
            events.answered(0, None, failure(no_answer));
        }
        let answer = sent.ok();
        let retry_after_ms = answer
            .as_ref()
            .and_then(|a| a.retry_after.as_deref())
            .and_then(|v| parse_retry_after(v, now));
        if let Some(line) = line {
            line.set(line.get().hold(now, retry_after_ms));
        }
        // The error an unsuccessful answer stands for: its codes decide.
        let graph_error = final_error(answer.as_ref(), no_answer, attempt, now);
        let verdict = judge(&Attempt {
            kind: judging.kind,
            answered: answered(answer.as_ref(), graph_error.as_ref(), no_answer),
            retry_after_ms,
            sessionful: judging.sessionful,
            can_recreate: judging.can_recreate,
            resends: attempt - 1 - renewals,
            limits: call.limits(),
            renewable: source.is_some() && fresh.is_none(),
            random: random(),
        });
        if let Some((delay_ms, reason)) = resend(&verdict, retry_after_ms) {
            emit(
                on_event,
                &Event::Retry {
                    method,
                    url,
                    attempt,
                    delay_ms,
                    reason,
                },
            );
        }
        match (verdict, answer, graph_error) {
            (Verdict::Done, Some(answer), _) => {
                return Ok(Exchange {
                    answer,
                    attempts: attempt,
                })
            }
            (Verdict::RenewToken, _, _) => match source {
                Some(source) => match source.resolve(&req.url, signal, call.timeout_ms).await {
                    Ok(t) => {
                        fresh = Some(t);
                        renewals = 1;
                    }
                    Err(e) => return Err(finish(e.with_attempts(attempt), &fresh, Verdict::Fail)),
                },
                None => return Err(finish(aborted(attempt), &fresh, Verdict::Fail)),
            },
            (Verdict::Resend { after_ms }, _, _) => resend_after = Some(after_ms),
            (verdict, _, Some(e)) => return Err(finish(e, &fresh, verdict)),
            (verdict, _, None) => {
                let e = Error::local(Code::InvalidResponse, &["no usable answer"]).with_attempts(attempt);
                return Err(finish(e, &fresh, verdict));
            }
        }
    }
}

/// A header the platform refused to set: the call fails, nothing was sent.
pub fn header_refused(attempts: u32) -> Error {
    Error::local(
        Code::InvalidArgument,
        &["a request header could not be set (an invalid session id, token or client-request-id); nothing was sent"],
    )
    .with_attempts(attempts.saturating_sub(1))
}

/// Stamps the call's `client-request-id` and scrubs the token.
pub fn with_call(e: Error, call: &Call, token: &str) -> Error {
    let mut e = e.with_client_request_id(&call.client_request_id);
    e.redact(token);
    e
}
