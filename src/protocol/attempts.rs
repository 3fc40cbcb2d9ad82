//! One request's attempts as a machine (sans-IO): the shell's one driver
//! (`shell::exchange::drive`) reports each attempt's answer through
//! [`Attempts::handle`] and does what [`Next`] says. What follows each
//! answer is [`judge`]'s verdict; this machine keeps what the verdict
//! depends on across attempts (the resends counted per session, the one
//! token renewal, the one recreation) and what a failure means for the
//! session.
//!
//! Two kinds of request run here:
//! - [`Attempts::workbook_fetch`]: a `session.fetch` call. An expired
//!   session is recreated by the driver and the request resent once in the
//!   new one (a persistent session's only: a non-persistent session's
//!   changes died with it, `stateLost`).
//! - [`Attempts::request`]: every other request (createSession, its polls
//!   and session info, refreshSession, closeSession, `$batch`). A verdict
//!   past a resend ends the request, and its caller decides what it means
//!   for the session (a refresh's [`super::session::Session`]).

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::Error;
use super::policy::{judge, second_level_rule, Answered, Attempt, Kind, Rule, Verdict};
use super::request::{answered, final_error, Answer};
use super::retry::Limits;

/// A request that ended without success, and what that means for its
/// session.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The error to reject with.
    pub error: Error,
    /// [`judge`]'s verdict on the last answer ([`Verdict::Fail`] when the
    /// request ended without one: aborted, refused before sending).
    pub verdict: Verdict,
    /// A non-persistent session ended: its changes are lost.
    pub state_lost: bool,
    /// The session may not be used again, but later work may go on in
    /// a new one (`internalServerErrorUncategorized` with recreation
    /// on): recreate it once for the line; this request is not resent.
    pub recreate_session: bool,
    /// The session may not be used again and is not replaced here: it
    /// turns lost (a dead session's `invalidSession*`, or
    /// `internalServerErrorUncategorized`, without recreation). An
    /// expiry (`invalidSessionReCreatable`, a plain 404) leaves it
    /// active: a later call's `init.recreate` may still replace it.
    pub session_lost: bool,
}

impl Failure {
    /// A failure that says nothing about the session.
    pub fn plain(error: Error) -> Failure {
        Failure {
            error,
            verdict: Verdict::Fail,
            state_lost: false,
            recreate_session: false,
            session_lost: false,
        }
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        f.error
    }
}

/// The next step of one request.
#[derive(Clone, Debug)]
pub enum Next {
    /// Success: hand the answer back.
    Done,
    /// A 401 with a token source that renews: get a fresh token and send
    /// again at once (not counted against `maxRetries`).
    Renew,
    /// Wait this long, then send again (same session id).
    Resend {
        /// Milliseconds to wait.
        delay_ms: u64,
    },
    /// Recreate the session, then send again once with the new id.
    Recreate,
    /// Fail (see [`Failure`]).
    Fail(Failure),
}

/// One request's attempts: see the module.
#[derive(Clone, Debug)]
pub struct Attempts {
    kind: Kind,
    limits: Limits,
    sessionful: bool,
    /// The driver recreates an expired session and resends (session.fetch).
    resend_in_new_session: bool,
    persist_changes: bool,
    /// [`judge`] may answer [`Verdict::Recreate`].
    can_recreate: bool,
    renewable: bool,
    recreated: bool,
    attempts: u32,
    /// Attempts since the last recreation (retry limits count per session).
    attempts_here: u32,
    /// The one resend with a fresh token after a 401 is spent.
    renewed: bool,
}

impl Attempts {
    /// A `session.fetch` call with `method` (normalized), the call's limits,
    /// the session's kind and recreation setting at the start, and whether
    /// its token source renews.
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    pub fn workbook_fetch(
        method: &str,
        limits: Limits,
        persist_changes: bool,
        recreate: bool,
        renewable: bool,
    ) -> Attempts {
        // GET and HEAD: safe to resend after no answer or a 504.
        let kind = if method == "GET" || method == "HEAD" {
            Kind::FetchRead
        } else {
            Kind::FetchWrite
        };
        let mut a = Attempts::request(kind, limits, true, recreate, renewable);
        a.resend_in_new_session = true;
        a.persist_changes = persist_changes;
        a
    }

    /// Any other request, judged as `kind`; `sessionful`: it carries a
    /// session id; `can_recreate`: that session can be recreated by the
    /// caller (a [`Verdict::Recreate`] ends the request and says so).
    pub fn request(kind: Kind, limits: Limits, sessionful: bool, can_recreate: bool, renewable: bool) -> Attempts {
        Attempts {
            kind,
            limits,
            sessionful,
            resend_in_new_session: false,
            persist_changes: true,
            can_recreate,
            renewable,
            recreated: false,
            attempts: 0,
            attempts_here: 0,
            renewed: false,
        }
    }

    /// The number of the attempt about to be sent (1-based), for
    /// `Retry-Attempt`; call once per attempt, before sending.
    pub fn begin_attempt(&mut self) -> u32 {
        self.attempts += 1;
        self.attempts_here += 1;
        self.attempts
    }

    /// Requests sent so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The attempt's answer (`answer` when one came, its body read only
    /// for a non-2xx status; else `no_answer`). `now_ms` for HTTP-date
    /// `Retry-After`, `random` for backoff jitter.
    pub fn handle(&mut self, answer: Option<&Answer>, no_answer: Answered<'_>, now_ms: u64, random: f64) -> Next {
        let error = final_error(answer, no_answer, self.attempts, now_ms);
        let verdict = judge(&Attempt {
            kind: self.kind,
            answered: answered(answer, error.as_ref(), no_answer),
            retry_after_ms: error.as_ref().and_then(Error::retry_after_ms),
            sessionful: self.sessionful,
            can_recreate: self.can_recreate && !self.recreated,
            resends: self.attempts_here.saturating_sub(1),
            limits: self.limits,
            renewable: self.renewable && !self.renewed,
            random,
        });
        let error = match (verdict, error) {
            (Verdict::Done, _) | (_, None) => return Next::Done,
            (_, Some(e)) => e.with_session_recreatable(verdict.recreatable()),
        };
        let fail = |error, state_lost, recreate_session| {
            Next::Fail(Failure {
                error,
                verdict,
                state_lost,
                recreate_session,
                session_lost: false,
            })
        };
        match verdict {
            Verdict::Done => Next::Done,
            Verdict::RenewToken => {
                self.renewed = true;
                self.attempts_here = self.attempts_here.saturating_sub(1);
                Next::Renew
            }
            Verdict::Resend { after_ms } => Next::Resend { delay_ms: after_ms },
            // Any other request: its caller decides about the session.
            _ if !self.resend_in_new_session => fail(error, false, false),
            // A non-persistent session's changes died with it: the request
            // is never resent on a fresh copy.
            Verdict::Recreate { resend: true } if !self.persist_changes => fail(error, true, false),
            Verdict::Recreate { resend: true } => {
                self.recreated = true;
                self.attempts_here = 0;
                Next::Recreate
            }
            Verdict::Recreate { resend: false } => fail(error, !self.persist_changes, true),
            Verdict::SessionGone { recreatable } => {
                let session_lost = matches!(
                    error.inner_code().and_then(second_level_rule),
                    Some(Rule::SessionDead | Rule::NotAgain)
                );
                Next::Fail(Failure {
                    state_lost: recreatable && !self.persist_changes,
                    error,
                    verdict,
                    recreate_session: false,
                    session_lost,
                })
            }
            Verdict::Fail => fail(error, false, false),
        }
    }

    /// The recreation failed with `error`: the call fails with it.
    pub fn recreate_failed(&self, error: Error) -> Failure {
        Failure::plain(error.with_attempts(self.attempts))
    }
}
