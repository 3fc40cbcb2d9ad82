//! The one driver ([`drive`]) of every request the library sends: wait for
//! the session's line, send, ask the request's [`Attempts`] machine what
//! follows, wait, send again; after a 401 with a token source that renews,
//! get a fresh token and resend once; recreate the session when the machine
//! says so. The waiting and sending are I/O, behind a [`Step`] per kind of
//! request ([`execute`]'s for the lifecycle requests and `$batch`,
//! `session.fetch`'s in the surface); every decision, and the error an
//! answer stands for, is the protocol's.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;

use js_sys::{Function, Object};

use super::abort::{aborted, caller_aborted, sleep, AttemptGuard};
use super::events::{emit, AttemptEvents};
use super::fetch::{dispatch, fetch_init, read_answer, Head, NoAnswer};
use super::phases::{self, Phase};
use super::sys::{now_ms, random, AbortSignal};
use super::token::TokenSource;
use crate::protocol::attempts::{Attempts, Failure, Next};
use crate::protocol::error::{Code, Error};
use crate::protocol::event::{failure, resend, Event};
use crate::protocol::line::{Gate, Line};
use crate::protocol::policy::{Answered, Kind};
use crate::protocol::request::{Answer, Request};
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

/// A request that ended without success, and what it means for its
/// session (the protocol's [`Failure`]).
pub type Failed = Failure;

/// Where a request stands in its session's line: the line's cooldown,
/// shared by every request carrying the session id.
pub type LineCell = Cell<Line>;

/// Sleeps `resend_after` (a resend's delay, when one is due), then waits
/// until the line lets a request go; `Err` when its cooldown is longer
/// than the call waits (nothing is sent) or the caller aborted. The attempt
/// loops' one sleep, so that each awaits it in one place.
async fn wait_for_line(
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
                        &["the session or its workbook is cooling down (Retry-After) for longer than options.maxRetryAfterMs; nothing was sent"],
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

/// What one attempt came to.
pub enum Sent {
    /// A 2xx whose body is the caller's to read (`session.fetch`): the
    /// answer's head, the body unread.
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    Head(Head),
    /// An answer with its body read (bounded) and the token scrubbed.
    Answer(Answer),
}

/// A boxed future of a [`Step`].
pub type StepFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The I/O of one request, as [`drive`] runs it: what goes out on each
/// attempt, and the recreation of its session. No decision here: what
/// follows each answer is the request's [`Attempts`] machine.
pub trait Step {
    /// The method and URL, as `onEvent` reports them; the URL is sent to.
    fn target(&self) -> (&str, &str);
    /// Just before each attempt, once the line lets it go: `Err` ends the
    /// request unsent (the session was lost or closed meanwhile).
    fn admit(&mut self, attempts: u32) -> Result<(), Error> {
        let _ = attempts;
        Ok(())
    }
    /// The `fetch` init of attempt number `attempt` with `token`, its
    /// `signal` the attempt's; `Err` when a header cannot be set.
    fn init(&self, token: &str, attempt: u32, signal: &AbortSignal) -> Result<Object, NoAnswer>;
    /// A 2xx is handed back unread ([`Sent::Head`], `session.fetch`)
    /// rather than read whole.
    fn unread_success(&self) -> bool {
        false
    }
    /// Recreates the request's session ([`Next::Recreate`], or a failure
    /// that asks for it); `None`: the request has no session to recreate
    /// here. Only `session.fetch`'s machine asks.
    fn recreate(&mut self) -> Option<StepFuture<'_, Result<(), Error>>> {
        None
    }
}

/// One attempt: the attempt's bound (`timeoutMs`, the caller's signal),
/// the step's init, the call's `fetch`, the answer (read whole, or its
/// head alone for a success the step hands back unread). Nothing is sent
/// once the caller's signal has aborted.
async fn attempt<S: Step + ?Sized>(
    step: &S,
    call: &Call,
    token: &str,
    number: u32,
    caller: Option<&AbortSignal>,
) -> Result<Sent, NoAnswer> {
    if caller_aborted(caller) {
        return Err(NoAnswer::Aborted);
    }
    phases::switch(Phase::Attempt);
    let guard = AttemptGuard::new(call.timeout_ms, caller).map_err(|_| NoAnswer::Network)?;
    let init = step.init(token, number, &guard.signal())?;
    let via = transport(call).and_then(|t| t.fetch.as_ref());
    phases::switch(Phase::Fetch);
    let head = dispatch(step.target().1, &init, via, &guard, caller).await?;
    phases::switch(Phase::Answer);
    if step.unread_success() && (200..300).contains(&head.status) {
        // `timeoutMs` bounds the wait for the answer's head; the caller
        // reads the body at its own pace.
        return Ok(Sent::Head(head));
    }
    let answer = read_answer(&head, token, &guard, caller).await;
    phases::switch(Phase::Decide);
    answer.map(Sent::Answer)
}

/// The one driver: runs `machine`'s attempts of one request through `step`.
/// Before every attempt it waits for the session's `line` (its cooldown,
/// held by every answer); it sends, reports the attempt (`onEvent`), and
/// does what the machine says: resend after a delay, renew the token once,
/// recreate the session, or end. `token`: the call's token when the caller
/// resolved it; else the first one comes from `source`, which also renews
/// it after a 401. Every token the request used is scrubbed from its
/// error, which carries the call's `client-request-id`.
#[allow(clippy::too_many_arguments)]
pub async fn drive<S: Step + ?Sized>(
    call: &Call,
    machine: &mut Attempts,
    step: &mut S,
    token: Option<&str>,
    source: Option<&TokenSource>,
    signal: Option<&AbortSignal>,
    line: Option<&LineCell>,
) -> Result<(Sent, u32), Failed> {
    let on_event = listener(call);
    // The tokens this request got from `source`: the first (when the caller
    // gave none) and a renewal's.
    let mut got: Vec<String> = Vec::new();
    let finish = |mut f: Failed, got: &[String]| {
        f.error = with_call(f.error, call, token.unwrap_or(""));
        for t in got {
            f.error.redact(t);
        }
        f
    };
    let plain = |e: Error, got: &[String]| finish(Failed::plain(e), got);
    let mut resolve = token.is_none();
    // A resend's delay, slept at the top of the next turn.
    let mut resend_after: Option<u64> = None;
    loop {
        if resolve {
            let (_, url) = step.target();
            let fresh = match source {
                Some(s) => s.resolve(url, signal, call.timeout_ms).await,
                None => Err(aborted(machine.attempts())),
            };
            match fresh {
                Ok(t) => got.push(t),
                Err(e) => return Err(plain(e.with_attempts(machine.attempts()), &got)),
            }
            resolve = false;
        }
        // The session's cooldown holds every request on it.
        if let Err(e) = wait_for_line(line, call, signal, machine.attempts(), resend_after.take()).await {
            return Err(plain(e, &got));
        }
        if let Err(e) = step.admit(machine.attempts()) {
            return Err(plain(e, &got));
        }
        let attempt = machine.begin_attempt();
        let current = got.last().map(String::as_str).or(token).unwrap_or("");
        let sent = {
            let (method, url) = step.target();
            let events = AttemptEvents::sent(on_event, method, url, attempt);
            let sent = self::attempt(&*step, call, current, attempt, signal).await;
            attempt_ended(sent, &events, attempt)
        };
        let now = now_ms() as u64;
        // Any answer's cooldown holds the session's line.
        let retry_after = match &sent {
            Ok(Sent::Head(head)) => head.header("retry-after"),
            Ok(Sent::Answer(a)) => a.retry_after.clone(),
            Err(_) => None,
        };
        let cooldown = retry_after.and_then(|v| parse_retry_after(&v, now));
        if let Some(line) = line {
            line.set(line.get().hold(now, cooldown));
        }
        let (answer, no_answer) = match sent {
            Ok(Sent::Head(head)) => return Ok((Sent::Head(head), attempt)),
            Ok(Sent::Answer(a)) => (Some(a), Answered::Network),
            Err(Ended::Failed(e)) => return Err(plain(e, &got)),
            Err(Ended::NoAnswer(no)) => (None, no),
        };
        let next = machine.handle(answer.as_ref(), no_answer, now, random());
        if let Some((delay_ms, reason)) = resend(&next, cooldown) {
            let (method, url) = step.target();
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
        match next {
            Next::Done => {
                return match answer {
                    Some(answer) => Ok((Sent::Answer(answer), attempt)),
                    None => Err(plain(
                        Error::local(Code::InvalidResponse, &["no usable answer"]).with_attempts(attempt),
                        &got,
                    )),
                }
            }
            Next::Renew => resolve = true,
            Next::Resend { delay_ms } => resend_after = Some(delay_ms),
            Next::Recreate => {
                if let Some(Err(e)) = recreate(step).await {
                    return Err(finish(machine.recreate_failed(e), &got));
                }
            }
            // Not resent; the session is replaced for the work after it.
            Next::Fail(f) => {
                if f.recreate_session {
                    let _ = recreate(step).await;
                }
                return Err(finish(f, &got));
            }
        }
    }
}

/// The step's recreation, awaited; `None` when it has none.
async fn recreate<S: Step + ?Sized>(step: &mut S) -> Option<Result<(), Error>> {
    match step.recreate() {
        Some(f) => Some(f.await),
        None => None,
    }
}

/// How an attempt ended when it did not bring an answer back.
enum Ended {
    /// The request ends with this error (aborted, a header refused).
    Failed(Error),
    /// No answer; the machine judges it.
    NoAnswer(Answered<'static>),
}

/// One attempt's end, reported to `onEvent` (`events`); plain code,
/// outside the driver's state machine.
fn attempt_ended(sent: Result<Sent, NoAnswer>, events: &AttemptEvents<'_>, attempt: u32) -> Result<Sent, Ended> {
    let no_answer = match sent {
        Ok(sent) => {
            match &sent {
                Sent::Head(head) => events.answered(head.status, head.header("request-id").as_deref(), None),
                Sent::Answer(a) => events.answered(a.status, a.request_id.as_deref(), None),
            }
            return Ok(sent);
        }
        Err(NoAnswer::Aborted) => {
            events.answered(0, None, Some("aborted"));
            return Err(Ended::Failed(aborted(attempt)));
        }
        Err(NoAnswer::HeaderRefused) => return Err(Ended::Failed(header_refused(attempt))),
        Err(NoAnswer::Network) => Answered::Network,
        Err(NoAnswer::Redirect) => Answered::Redirect,
        Err(NoAnswer::Timeout) => Answered::Timeout,
    };
    events.answered(0, None, failure(no_answer));
    Err(Ended::NoAnswer(no_answer))
}

/// A request outside `session.fetch`: `req`, its answers read whole.
struct Plain<'a> {
    call: &'a Call,
    req: &'a Request,
}

impl Step for Plain<'_> {
    fn target(&self) -> (&str, &str) {
        (self.req.method.as_str(), self.req.url.as_str())
    }

    fn init(&self, token: &str, attempt: u32, signal: &AbortSignal) -> Result<Object, NoAnswer> {
        fetch_init(self.req, token, &self.call.client_request_id, attempt, signal)
    }
}

/// Sends `req` (its token already resolved) as its [`Attempts`] machine
/// says, through [`drive`]; a non-2xx final answer becomes a Graph error.
/// `line`: the session's line, waited for before every attempt and held by
/// every cooldown.
pub async fn execute(
    call: &Call,
    req: &Request,
    judging: Judging,
    token: &str,
    signal: Option<&AbortSignal>,
    line: Option<&LineCell>,
) -> Result<Exchange, Failed> {
    let source = transport(call).map(|t| &t.token).filter(|s| s.renews());
    let mut machine = Attempts::request(
        judging.kind,
        call.limits(),
        judging.sessionful,
        judging.can_recreate,
        source.is_some(),
    );
    let mut step = Plain { call, req };
    // One driver in the package: with `session.fetch`'s step beside this
    // one, both go through `dyn Step` (one copy of the driver); the
    // refresh-only build has this step alone and drives it directly.
    #[cfg(feature = "full")]
    let step: &mut dyn Step = &mut step;
    #[cfg(not(feature = "full"))]
    let step = &mut step;
    match drive(call, &mut machine, step, Some(token), source, signal, line).await? {
        (Sent::Answer(answer), attempts) => Ok(Exchange { answer, attempts }),
        // `Plain` reads every answer whole.
        (Sent::Head(_), attempts) => Err(Failed::plain(with_call(
            Error::local(Code::InvalidResponse, &["no usable answer"]).with_attempts(attempts),
            call,
            token,
        ))),
    }
}

/// A header the platform refused to set: the call fails, nothing was sent.
fn header_refused(attempts: u32) -> Error {
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
