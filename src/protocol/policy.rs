//! The Excel error policy: what Graph's documentation tells a client to do
//! after each error, as one table, and [`judge`]: the one function that
//! decides what follows every answer of every request the library sends.
//!
//! Sources, in microsoftgraph/microsoft-graph-docs-contrib (current
//! revisions, read 2026-12-03):
//! `concepts/workbook-error-handling.md` (the instruction per second-level
//! code, and the order: second-level code, then the top-level code, then the
//! HTTP status; codes are case-insensitive; a `Retry-After` cooldown is
//! honoured before any follow-up request; "Special case handling" for
//! 502/503 on sessionful requests), `concepts/workbook-error-codes.md` (the
//! top-level codes bound to their statuses, and the second-level list;
//! `gatewayTimeoutUncategorized` no longer carries a cooldown sentence) and
//! `api-reference/v1.0/resources/excel.md` (an expired session answers 404:
//! "you can choose to create a new session and continue").
//!
//! The **second-level** code (`error.innerError.code`) decides; deeper levels
//! are detail. A code the table does not know falls back to the top-level
//! code's rule, then to the status's rule.

#[allow(unused_imports)]
use crate::prelude::*;

/// The doc's instruction for an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// "Not expected to resend the failed request until the specified
    /// cooldown duration passes": resend, after `Retry-After` when given.
    ResendAfterCooldown,
    /// "Not expected to resend the failed request": the same request would
    /// fail the same way (or needs a person to resolve a conflict).
    DoNotResend,
    /// "Further access to the session ... is not expected", and recreating
    /// it with the same createSession is not expected either: the session is
    /// lost.
    SessionDead,
    /// The session must not be used again, but a new one may be created
    /// and the work resumed, the failed request included
    /// (`invalidSessionReCreatable`: "create a new session and continue").
    Recreatable,
    /// "Not expected to resend the failed request. If a session is
    /// specified in the failed request, further access to the session is
    /// not expected either" (`internalServerErrorUncategorized`): the
    /// request is never sent again (a write would be applied twice); later
    /// work may go on in a new session.
    NotAgain,
}

use Rule::*;

/// One row per documented second-level code (workbook-error-handling.md,
/// step 2), in the doc's order. Compared case-insensitively.
pub const SECOND_LEVEL: &[(&str, Rule)] = &[
    ("accessConflict", DoNotResend),
    ("accessDenied", DoNotResend),
    ("badRequestUncategorized", DoNotResend),
    ("conflictUncategorized", DoNotResend),
    ("filteredRangeConflict", DoNotResend),
    ("forbiddenUncategorized", DoNotResend),
    // workbook-error-codes.md (current revision): the row lost its cooldown
    // sentence; a gateway timeout is still resent as its status says (504).
    ("gatewayTimeoutUncategorized", ResendAfterCooldown),
    ("generalException", DoNotResend),
    ("insertDeleteConflict", DoNotResend),
    ("internalServerErrorUncategorized", NotAgain),
    ("invalidArgument", DoNotResend),
    ("invalidReference", DoNotResend),
    ("invalidSessionAccessConflict", SessionDead),
    ("invalidSessionAuthentication", SessionDead),
    ("invalidSessionNotFound", SessionDead),
    ("invalidSessionReCreatable", Recreatable),
    ("invalidSessionRestricted", SessionDead),
    ("invalidSessionUnexpected", SessionDead),
    ("invalidSessionUnsupportedWorkbook", SessionDead),
    ("itemAlreadyExists", DoNotResend),
    ("itemNotFound", DoNotResend),
    ("methodNotAllowed", DoNotResend),
    ("methodNotAllowedUncategorized", DoNotResend),
    ("nonBlankCellOffSheet", DoNotResend),
    ("notFoundUncategorized", DoNotResend),
    ("notImplementedUncategorized", DoNotResend),
    ("payloadTooLargeUncategorized", DoNotResend),
    // "can try to send a request with smaller range size": not the same one.
    ("rangeExceedsLimit", DoNotResend),
    ("requestAborted", DoNotResend),
    ("serviceUnavailableUncategorized", ResendAfterCooldown),
    ("tooManyRequestsUncategorized", ResendAfterCooldown),
    ("transientFailure", ResendAfterCooldown),
    ("unauthorizedUncategorized", DoNotResend),
    ("unsupportedOperation", DoNotResend),
    ("unsupportedWorkbook", DoNotResend),
];

/// The top-level codes as workbook-error-codes.md names them now (current
/// revision, read 2026-12-03), each "bound to" its status: 400 `badRequest`,
/// 401 `unauthorized`, 403 `forbidden`, 404 `notFound`, 405
/// `methodNotAllowed`, 409 `conflict`, 413 `payloadTooLarge`, 429
/// `tooManyRequests`, 500 `internalServerError`, 501 `notImplemented`, 502
/// `badGateway`, 503 `serviceUnavailable`, 504 `gatewayTimeout`. The names
/// of older revisions (and of Graph's general errors) follow, read the same
/// way.
pub const TOP_LEVEL: &[(&str, Rule)] = &[
    ("badRequest", DoNotResend),
    ("unauthorized", DoNotResend),
    ("forbidden", DoNotResend),
    ("notFound", DoNotResend),
    ("methodNotAllowed", DoNotResend),
    ("conflict", DoNotResend),
    ("payloadTooLarge", DoNotResend),
    ("tooManyRequests", ResendAfterCooldown),
    ("internalServerError", DoNotResend),
    ("notImplemented", DoNotResend),
    // "A temporary error", but the request may have been applied: a
    // sessionful 502 recreates the session (see `judge`), others are final.
    ("badGateway", DoNotResend),
    ("serviceUnavailable", ResendAfterCooldown),
    ("gatewayTimeout", ResendAfterCooldown),
    // Older revisions' names.
    ("invalidRequest", DoNotResend),
    ("unauthenticated", DoNotResend),
    ("accessDenied", DoNotResend),
    ("resourceNotFound", DoNotResend),
    ("itemNotFound", DoNotResend),
    ("requestSizeExceeded", DoNotResend),
];

fn lookup(table: &[(&str, Rule)], code: &str) -> Option<Rule> {
    table
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|&(_, r)| r)
}

/// The rule of a second-level code, if the doc lists it.
pub fn second_level_rule(code: &str) -> Option<Rule> {
    lookup(SECOND_LEVEL, code)
}

/// The rule of a top-level code, if the docs list it (either list: a body
/// that carries an Excel code at the top is read the same way).
pub fn top_level_rule(code: &str) -> Option<Rule> {
    lookup(TOP_LEVEL, code).or_else(|| lookup(SECOND_LEVEL, code))
}

/// The rule of an HTTP status: 429, 503 and 504 are resent after the
/// cooldown; everything else is not resent.
pub fn status_rule(status: u16) -> Rule {
    match status {
        429 | 503 | 504 => ResendAfterCooldown,
        _ => DoNotResend,
    }
}

/// The rule the codes give, when the docs know one of them: the
/// second-level code first, then the top-level one.
pub fn codes_rule(top: Option<&str>, second: Option<&str>) -> Option<Rule> {
    second
        .and_then(second_level_rule)
        .or_else(|| top.and_then(top_level_rule))
}

/// The rule for an answer: second-level code, else top-level code, else status.
pub fn rule(status: u16, top: Option<&str>, second: Option<&str>) -> Rule {
    codes_rule(top, second).unwrap_or_else(|| status_rule(status))
}

/// Which request an answer belongs to: each kind is judged by the same
/// rules, with what differs between them written here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `POST createSession`: not idempotent (issue 13, point 9): resent
    /// only after an answer that says nothing was created.
    CreateSession,
    /// `GET workbook/operations/{id}`: a safe read.
    OperationPoll,
    /// `GET sessionInfoResource(...)`: a safe read.
    SessionInfo,
    /// `POST refreshSession`.
    Refresh,
    /// `POST closeSession`.
    Close,
    /// One refreshSession inside `$batch`.
    BatchItem,
    /// `session.fetch` with a GET or HEAD: safe to send again.
    FetchRead,
    /// `session.fetch` with any other method: a write may have been
    /// applied, so it is resent only when Graph says it was not processed
    /// (429, 503).
    FetchWrite,
}

/// What came back for one attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answered<'a> {
    /// An HTTP answer, with its error body's codes (none for a success or
    /// an unreadable body).
    Status {
        /// The status.
        status: u16,
        /// `error.code`.
        top: Option<&'a str>,
        /// `error.innerError.code`: the one that decides.
        second: Option<&'a str>,
    },
    /// `fetch` rejected: no answer came.
    Network,
    /// The per-attempt timer fired first.
    Timeout,
    /// Graph redirected: never followed (the token must not follow it).
    Redirect,
    /// createSession's long-running operation answered `failed`, with its
    /// `error`'s codes (workbook-error-handling.md: "For both the
    /// long-running operation pattern and the regular pattern, the client
    /// should first parse required second-level error codes"; "the failed
    /// request is the one that triggers the failed operation": the
    /// createSession). There is no error status: the codes decide alone.
    OperationFailed {
        /// `error.code`.
        top: Option<&'a str>,
        /// `error.innerError.code`.
        second: Option<&'a str>,
    },
}

/// Everything [`judge`] reads about one attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attempt<'a> {
    /// The request's kind.
    pub kind: Kind,
    /// What came back.
    pub answered: Answered<'a>,
    /// `Retry-After`, in ms from now, when Graph sent a readable one.
    pub retry_after_ms: Option<u64>,
    /// The request carries a `workbook-session-id`.
    pub sessionful: bool,
    /// The session can be recreated here (a `WorkbookSession` with
    /// recreation on); the special cases recreate only then.
    pub can_recreate: bool,
    /// Resends already spent on this request (0 after the first attempt).
    pub resends: u32,
    /// `maxRetries` and `maxRetryAfterMs`.
    pub limits: super::retry::Limits,
    /// A 401 may be answered with a fresh token (a token source that renews,
    /// not yet renewed for this request).
    pub renewable: bool,
    /// Uniform in [0, 1), for backoff jitter.
    pub random: f64,
}

/// What follows an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A success: hand it back.
    Done,
    /// A 401 with a token source that renews: get a fresh token and send
    /// again at once (not counted against `maxRetries`; the fault was ours).
    RenewToken,
    /// Send the same request again after this many ms (the cooldown, never
    /// cut short, or backoff).
    Resend {
        /// Milliseconds to wait.
        after_ms: u64,
    },
    /// The session is over but a new one may be made: recreate it once for
    /// the whole line; `resend`: send this request again in the new session
    /// (false after `internalServerErrorUncategorized`: never resent).
    Recreate {
        /// Send the failed request again in the new session.
        resend: bool,
    },
    /// The session is over for good, or may not be recreated here
    /// (`recreatable`: the doc would allow a new one).
    SessionGone {
        /// Graph allows a new session (`invalidSessionReCreatable`,
        /// `internalServerErrorUncategorized`, an expired 404).
        recreatable: bool,
    },
    /// The request failed; the error is final.
    Fail,
}

impl Verdict {
    /// The session is gone and Graph allows a new one: the error that
    /// reports this verdict says so (`GraphError.recreatable`), also for a
    /// plain `404` without `invalidSessionReCreatable`.
    pub fn recreatable(&self) -> bool {
        matches!(
            self,
            Verdict::Recreate { .. } | Verdict::SessionGone { recreatable: true }
        )
    }
}

/// The operation is never polled less than 1 s apart, whatever
/// `Retry-After` says (a `running` answer with `Retry-After: 0` must not
/// turn into a loop carrying the token).
pub const POLL_FLOOR_MS: u64 = 1_000;

fn floor(kind: Kind, ms: u64) -> u64 {
    match kind {
        Kind::OperationPoll => ms.max(POLL_FLOOR_MS),
        _ => ms,
    }
}

/// The one decision: what follows `a`. Every answer of every request goes
/// through here (createSession, its polls and session info, refreshSession,
/// closeSession, each `$batch` item, `session.fetch`); no other code decides
/// a resend.
///
/// Order: a success; a 401 with a renewable token; no answer (resent when
/// the kind is safe to send again); then the policy: a listed second-level
/// code's rule; on a sessionful request that can recreate its session, the
/// special cases (workbook-error-handling.md, "Special case handling": a
/// 502/503 without a listed second-level code recreates the session;
/// resources/excel.md: a 404 without one is an expired session, recreated);
/// then the top-level code's rule, then the status's. A resend needs a
/// budget (`maxRetries`) and a cooldown within `maxRetryAfterMs` (a longer
/// one ends the call: never cut short).
pub fn judge(a: &Attempt<'_>) -> Verdict {
    use super::retry::backoff_ms;
    let resend = |after: Option<u64>| -> Verdict {
        if a.resends >= a.limits.max_retries {
            return Verdict::Fail;
        }
        match after {
            Some(ms) if ms > a.limits.max_retry_after_ms => Verdict::Fail,
            Some(ms) => Verdict::Resend {
                after_ms: floor(a.kind, ms),
            },
            None => Verdict::Resend {
                after_ms: floor(a.kind, backoff_ms(a.resends.saturating_add(1), a.random)),
            },
        }
    };
    let (status, top, second) = match a.answered {
        Answered::Status { status, .. } if (200..300).contains(&status) => return Verdict::Done,
        Answered::Status { status, top, second } => (status, top, second),
        Answered::Redirect => return Verdict::Fail,
        // Nothing was created: the request that failed is sent again when
        // its codes say so, as after an error status.
        Answered::OperationFailed { top, second } => {
            return match codes_rule(top, second) {
                Some(ResendAfterCooldown) => resend(a.retry_after_ms),
                _ => Verdict::Fail,
            }
        }
        // No answer: Graph may have applied it. createSession may have
        // created a session nobody would close; a write may be applied twice.
        Answered::Network | Answered::Timeout => {
            return match a.kind {
                Kind::CreateSession | Kind::FetchWrite => Verdict::Fail,
                _ => resend(None),
            }
        }
    };
    if status == 401 && a.renewable {
        return Verdict::RenewToken;
    }
    // An undocumented `invalidSession*` code still says the session is dead.
    let listed = second.and_then(|c| {
        second_level_rule(c).or_else(|| {
            c.get(..14)
                .is_some_and(|p| p.eq_ignore_ascii_case("invalidSession"))
                .then_some(SessionDead)
        })
    });
    let rule = match listed {
        Some(r) => r,
        // Special case handling (workbook-error-handling.md).
        None if a.sessionful && a.can_recreate && matches!(status, 502 | 503) => {
            return Verdict::Recreate {
                resend: a.kind != Kind::FetchWrite || status == 503,
            }
        }
        // An expired session answers a plain 404 (resources/excel.md: "you
        // can choose to create a new session and continue").
        None if a.sessionful && status == 404 => {
            return if a.can_recreate {
                Verdict::Recreate { resend: true }
            } else {
                Verdict::SessionGone { recreatable: true }
            };
        }
        None => top.and_then(top_level_rule).unwrap_or_else(|| status_rule(status)),
    };
    let gone = |recreatable: bool| -> Verdict {
        match (a.sessionful, recreatable && a.can_recreate) {
            (false, _) => Verdict::Fail,
            (true, true) => Verdict::Recreate {
                resend: rule == Recreatable,
            },
            (true, false) => Verdict::SessionGone { recreatable },
        }
    };
    match rule {
        ResendAfterCooldown => {
            // A write is resent only when Graph did not process it.
            if a.kind == Kind::FetchWrite && !matches!(status, 429 | 503) {
                return Verdict::Fail;
            }
            resend(a.retry_after_ms)
        }
        Recreatable | NotAgain => gone(true),
        SessionDead => gone(false),
        // The session's own requests: a 404 or 410 means the session (or
        // its item) is gone; a caller's request may name something else.
        DoNotResend if matches!(a.kind, Kind::Refresh | Kind::Close) && matches!(status, 404 | 410) => {
            gone(listed.is_none() && status == 404)
        }
        DoNotResend => Verdict::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every documented second-level code, with the doc's instruction as
    /// this table test states it (a second copy, so a slip in the table shows).
    #[test]
    fn every_documented_second_level_code_has_the_docs_rule() {
        let expected: &[(&str, Rule)] = &[
            ("accessConflict", DoNotResend),
            ("accessDenied", DoNotResend),
            ("badRequestUncategorized", DoNotResend),
            ("conflictUncategorized", DoNotResend),
            ("filteredRangeConflict", DoNotResend),
            ("forbiddenUncategorized", DoNotResend),
            ("gatewayTimeoutUncategorized", ResendAfterCooldown),
            ("generalException", DoNotResend),
            ("insertDeleteConflict", DoNotResend),
            ("internalServerErrorUncategorized", NotAgain),
            ("invalidArgument", DoNotResend),
            ("invalidReference", DoNotResend),
            ("invalidSessionAccessConflict", SessionDead),
            ("invalidSessionAuthentication", SessionDead),
            ("invalidSessionNotFound", SessionDead),
            ("invalidSessionReCreatable", Recreatable),
            ("invalidSessionRestricted", SessionDead),
            ("invalidSessionUnexpected", SessionDead),
            ("invalidSessionUnsupportedWorkbook", SessionDead),
            ("itemAlreadyExists", DoNotResend),
            ("itemNotFound", DoNotResend),
            ("methodNotAllowed", DoNotResend),
            ("methodNotAllowedUncategorized", DoNotResend),
            ("nonBlankCellOffSheet", DoNotResend),
            ("notFoundUncategorized", DoNotResend),
            ("notImplementedUncategorized", DoNotResend),
            ("payloadTooLargeUncategorized", DoNotResend),
            ("rangeExceedsLimit", DoNotResend),
            ("requestAborted", DoNotResend),
            ("serviceUnavailableUncategorized", ResendAfterCooldown),
            ("tooManyRequestsUncategorized", ResendAfterCooldown),
            ("transientFailure", ResendAfterCooldown),
            ("unauthorizedUncategorized", DoNotResend),
            ("unsupportedOperation", DoNotResend),
            ("unsupportedWorkbook", DoNotResend),
        ];
        assert_eq!(SECOND_LEVEL.len(), expected.len());
        for &(code, want) in expected {
            assert_eq!(second_level_rule(code), Some(want), "{code}");
            assert_eq!(
                second_level_rule(&code.to_ascii_uppercase()),
                Some(want),
                "{code} upper"
            );
            assert_eq!(
                second_level_rule(&code.to_ascii_lowercase()),
                Some(want),
                "{code} lower"
            );
            // The second-level code wins over any top-level code and status.
            for status in [400, 409, 429, 500, 503, 504] {
                assert_eq!(
                    rule(status, Some("tooManyRequests"), Some(code)),
                    want,
                    "{code} {status}"
                );
            }
        }
    }

    #[test]
    fn unknown_second_level_falls_back_to_the_top_level_then_the_status() {
        assert_eq!(
            rule(409, Some("tooManyRequests"), Some("madeUpCode")),
            ResendAfterCooldown
        );
        assert_eq!(rule(503, Some("Conflict"), Some("madeUpCode")), DoNotResend);
        assert_eq!(rule(404, Some("ItemNotFound"), None), DoNotResend);
        assert_eq!(rule(404, Some("InvalidSessionReCreatable"), None), Recreatable);
        assert_eq!(rule(503, Some("madeUp"), Some("alsoMadeUp")), ResendAfterCooldown);
        assert_eq!(rule(500, Some("madeUp"), None), DoNotResend);
        for status in [429, 503, 504] {
            assert_eq!(rule(status, None, None), ResendAfterCooldown, "{status}");
        }
        for status in [400, 401, 403, 404, 405, 409, 413, 500, 501, 502] {
            assert_eq!(rule(status, None, None), DoNotResend, "{status}");
        }
        for (top, want) in TOP_LEVEL {
            assert_eq!(top_level_rule(&top.to_ascii_uppercase()), Some(*want), "{top}");
        }
    }

    use super::super::retry::Limits;

    const KINDS: [Kind; 8] = [
        Kind::CreateSession,
        Kind::OperationPoll,
        Kind::SessionInfo,
        Kind::Refresh,
        Kind::Close,
        Kind::BatchItem,
        Kind::FetchRead,
        Kind::FetchWrite,
    ];

    fn sessionful(kind: Kind) -> bool {
        matches!(
            kind,
            Kind::Refresh | Kind::Close | Kind::BatchItem | Kind::FetchRead | Kind::FetchWrite
        )
    }

    fn attempt<'a>(kind: Kind, status: u16, top: Option<&'a str>, second: Option<&'a str>) -> Attempt<'a> {
        Attempt {
            kind,
            answered: Answered::Status { status, top, second },
            retry_after_ms: None,
            sessionful: sessionful(kind),
            can_recreate: false,
            resends: 0,
            limits: Limits {
                max_retries: 3,
                max_retry_after_ms: 180_000,
            },
            renewable: false,
            random: 0.5,
        }
    }

    /// Every row of the second-level table, for every kind of request, with
    /// and without a session that can be recreated.
    #[test]
    fn every_policy_row_for_every_request_kind() {
        for &(code, rule) in SECOND_LEVEL {
            for kind in KINDS {
                for can_recreate in [false, true] {
                    for status in [400, 404, 409, 429, 500, 502, 503, 504] {
                        let mut a = attempt(kind, status, Some("whatever"), Some(code));
                        a.retry_after_ms = Some(2000);
                        a.can_recreate = can_recreate && sessionful(kind);
                        let v = judge(&a);
                        let want = match rule {
                            ResendAfterCooldown if kind == Kind::FetchWrite && !matches!(status, 429 | 503) => {
                                Verdict::Fail
                            }
                            ResendAfterCooldown if kind == Kind::OperationPoll => Verdict::Resend { after_ms: 2000 },
                            ResendAfterCooldown => Verdict::Resend { after_ms: 2000 },
                            DoNotResend if matches!(kind, Kind::Refresh | Kind::Close) && status == 404 => {
                                Verdict::SessionGone { recreatable: false }
                            }
                            DoNotResend => Verdict::Fail,
                            _ if !sessionful(kind) => Verdict::Fail,
                            SessionDead => Verdict::SessionGone { recreatable: false },
                            Recreatable | NotAgain if a.can_recreate => Verdict::Recreate {
                                resend: rule == Recreatable,
                            },
                            Recreatable | NotAgain => Verdict::SessionGone { recreatable: true },
                        };
                        assert_eq!(v, want, "{code} {kind:?} {status} recreate={can_recreate}");
                    }
                }
            }
        }
    }

    #[test]
    fn issue_21_special_cases_expired_sessions_and_uncategorized_errors() {
        // (kind, status, second, can recreate, verdict)
        let table: &[(Kind, u16, Option<&str>, bool, Verdict)] = &[
            // 500 internalServerErrorUncategorized: never resent, the session not used again.
            (
                Kind::FetchWrite,
                500,
                Some("internalServerErrorUncategorized"),
                true,
                Verdict::Recreate { resend: false },
            ),
            (
                Kind::FetchWrite,
                500,
                Some("internalServerErrorUncategorized"),
                false,
                Verdict::SessionGone { recreatable: true },
            ),
            (
                Kind::Refresh,
                500,
                Some("internalServerErrorUncategorized"),
                true,
                Verdict::Recreate { resend: false },
            ),
            (
                Kind::CreateSession,
                500,
                Some("internalServerErrorUncategorized"),
                false,
                Verdict::Fail,
            ),
            // 502/503 without a listed second-level code on a sessionful request: recreate.
            (Kind::Refresh, 503, None, true, Verdict::Recreate { resend: true }),
            (
                Kind::Refresh,
                503,
                Some("somethingNew"),
                true,
                Verdict::Recreate { resend: true },
            ),
            (Kind::Refresh, 502, None, true, Verdict::Recreate { resend: true }),
            (Kind::FetchRead, 502, None, true, Verdict::Recreate { resend: true }),
            (Kind::FetchWrite, 502, None, true, Verdict::Recreate { resend: false }),
            (Kind::FetchWrite, 503, None, true, Verdict::Recreate { resend: true }),
            // ... with a listed code: that code's rule.
            (
                Kind::Refresh,
                503,
                Some("serviceUnavailableUncategorized"),
                true,
                Verdict::Resend { after_ms: 1000 },
            ),
            (Kind::Refresh, 503, Some("accessConflict"), true, Verdict::Fail),
            // ... where the session cannot be recreated: the status's rule.
            (Kind::Refresh, 503, None, false, Verdict::Resend { after_ms: 1000 }),
            (Kind::BatchItem, 503, None, false, Verdict::Resend { after_ms: 1000 }),
            (Kind::Refresh, 502, None, false, Verdict::Fail),
            // Not sessionful: never a recreation.
            (
                Kind::CreateSession,
                503,
                None,
                false,
                Verdict::Resend { after_ms: 1000 },
            ),
            (
                Kind::OperationPoll,
                503,
                None,
                false,
                Verdict::Resend { after_ms: 1000 },
            ),
            // A plain 404 on a sessionful request: an expired session.
            (Kind::Refresh, 404, None, true, Verdict::Recreate { resend: true }),
            (Kind::FetchWrite, 404, None, true, Verdict::Recreate { resend: true }),
            (
                Kind::Refresh,
                404,
                None,
                false,
                Verdict::SessionGone { recreatable: true },
            ),
            (
                Kind::Close,
                404,
                None,
                false,
                Verdict::SessionGone { recreatable: true },
            ),
            (
                Kind::FetchRead,
                404,
                None,
                false,
                Verdict::SessionGone { recreatable: true },
            ),
            (
                Kind::BatchItem,
                404,
                None,
                false,
                Verdict::SessionGone { recreatable: true },
            ),
            // A listed code on a 404 is that code's: a missing worksheet is the caller's.
            (Kind::FetchRead, 404, Some("itemNotFound"), true, Verdict::Fail),
            (
                Kind::Refresh,
                404,
                Some("invalidSessionReCreatable"),
                true,
                Verdict::Recreate { resend: true },
            ),
            // An undocumented invalidSession* code: dead.
            (
                Kind::Refresh,
                400,
                Some("invalidSessionSomethingNew"),
                true,
                Verdict::SessionGone { recreatable: false },
            ),
            // createSession under the same policy (issue 20).
            (Kind::CreateSession, 504, Some("requestAborted"), false, Verdict::Fail),
            (
                Kind::CreateSession,
                504,
                None,
                false,
                Verdict::Resend { after_ms: 1000 },
            ),
            (
                Kind::CreateSession,
                500,
                Some("transientFailure"),
                false,
                Verdict::Resend { after_ms: 1000 },
            ),
            (Kind::CreateSession, 500, None, false, Verdict::Fail),
            (
                Kind::CreateSession,
                429,
                Some("tooManyRequestsUncategorized"),
                false,
                Verdict::Resend { after_ms: 1000 },
            ),
        ];
        for &(kind, status, second, can_recreate, want) in table {
            let mut a = attempt(kind, status, None, second);
            a.can_recreate = can_recreate;
            assert_eq!(judge(&a), want, "{kind:?} {status} {second:?} {can_recreate}");
        }
    }

    #[test]
    fn cooldowns_budgets_no_answer_renewal_and_the_poll_floor() {
        let limits = |max_retries| Limits {
            max_retries,
            max_retry_after_ms: 180_000,
        };
        // createSession 429 + Retry-After: 300 with maxRetryAfterMs 180 s: ends
        // at once (the cooldown is never cut short), whatever the budget.
        let mut a = attempt(Kind::CreateSession, 429, Some("tooManyRequests"), None);
        a.retry_after_ms = Some(300_000);
        assert_eq!(judge(&a), Verdict::Fail);
        a.retry_after_ms = Some(180_000);
        assert_eq!(judge(&a), Verdict::Resend { after_ms: 180_000 });
        // 500 transientFailure + Retry-After: 1: resent after the cooldown.
        let mut a = attempt(
            Kind::CreateSession,
            500,
            Some("internalServerError"),
            Some("transientFailure"),
        );
        a.retry_after_ms = Some(1000);
        assert_eq!(judge(&a), Verdict::Resend { after_ms: 1000 });
        // The budget.
        for kind in KINDS {
            let mut a = attempt(kind, 429, None, None);
            a.limits = limits(2);
            a.resends = 1;
            assert!(matches!(judge(&a), Verdict::Resend { .. }), "{kind:?}");
            a.resends = 2;
            assert_eq!(judge(&a), Verdict::Fail, "{kind:?}");
            a.limits = limits(0);
            a.resends = 0;
            assert_eq!(judge(&a), Verdict::Fail, "{kind:?}");
        }
        // No answer: resent only where sending again is safe.
        for kind in KINDS {
            for no in [Answered::Network, Answered::Timeout, Answered::Redirect] {
                let mut a = attempt(kind, 0, None, None);
                a.answered = no;
                let resent = matches!(judge(&a), Verdict::Resend { .. });
                let want = no != Answered::Redirect && !matches!(kind, Kind::CreateSession | Kind::FetchWrite);
                assert_eq!(resent, want, "{kind:?} {no:?}");
            }
        }
        // A 401 is renewed once when the source renews; else final.
        for kind in KINDS {
            let mut a = attempt(kind, 401, Some("InvalidAuthenticationToken"), None);
            assert_eq!(judge(&a), Verdict::Fail, "{kind:?}");
            a.renewable = true;
            assert_eq!(judge(&a), Verdict::RenewToken, "{kind:?}");
        }
        // Success.
        for kind in KINDS {
            for status in [200, 201, 202, 204] {
                assert_eq!(judge(&attempt(kind, status, None, None)), Verdict::Done);
            }
        }
        // The operation is never polled less than 1 s apart.
        for ra in [Some(0), Some(1), Some(999), None] {
            let mut a = attempt(Kind::OperationPoll, 429, None, None);
            a.retry_after_ms = ra;
            a.random = 0.0;
            match judge(&a) {
                Verdict::Resend { after_ms } => assert!(after_ms >= POLL_FLOOR_MS, "{ra:?}: {after_ms}"),
                other => panic!("{other:?}"),
            }
        }
        let mut a = attempt(Kind::Refresh, 429, None, None);
        a.retry_after_ms = Some(0);
        assert_eq!(judge(&a), Verdict::Resend { after_ms: 0 }, "only the poll has a floor");
    }

    #[test]
    fn the_current_top_level_codes_are_bound_to_their_statuses() {
        for (code, status, want) in [
            ("badRequest", 400, DoNotResend),
            ("unauthorized", 401, DoNotResend),
            ("forbidden", 403, DoNotResend),
            ("notFound", 404, DoNotResend),
            ("methodNotAllowed", 405, DoNotResend),
            ("conflict", 409, DoNotResend),
            ("payloadTooLarge", 413, DoNotResend),
            ("tooManyRequests", 429, ResendAfterCooldown),
            ("internalServerError", 500, DoNotResend),
            ("notImplemented", 501, DoNotResend),
            ("badGateway", 502, DoNotResend),
            ("serviceUnavailable", 503, ResendAfterCooldown),
            ("gatewayTimeout", 504, ResendAfterCooldown),
        ] {
            assert_eq!(top_level_rule(code), Some(want), "{code}");
            assert_eq!(status_rule(status), want, "{status}");
        }
    }
}
