//! The Excel error policy: what Graph's documentation tells a client to do
//! after each error, as one table.
//!
//! Sources, in microsoftgraph/microsoft-graph-docs-contrib:
//! `concepts/workbook-error-handling.md` (the instruction per second-level
//! code, and the order: second-level code, then the top-level code, then the
//! HTTP status; codes are case-insensitive; a `Retry-After` cooldown is
//! honoured before any follow-up request) and `concepts/workbook-error-codes.md`
//! (the top-level and second-level code lists).
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
    /// and the work resumed (`invalidSessionReCreatable`; and
    /// `internalServerErrorUncategorized` on a session request, whose row
    /// forbids resending and further access to the session, not a new one).
    Recreatable,
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
    ("gatewayTimeoutUncategorized", ResendAfterCooldown),
    ("generalException", DoNotResend),
    ("insertDeleteConflict", DoNotResend),
    ("internalServerErrorUncategorized", Recreatable),
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

/// The documented top-level codes (workbook-error-codes.md), whose
/// instructions "are bound to the status code".
pub const TOP_LEVEL: &[(&str, Rule)] = &[
    ("invalidRequest", DoNotResend),
    ("unauthenticated", DoNotResend),
    ("accessDenied", DoNotResend),
    ("resourceNotFound", DoNotResend),
    ("itemNotFound", DoNotResend),
    ("methodNotAllowed", DoNotResend),
    ("conflict", DoNotResend),
    ("requestSizeExceeded", DoNotResend),
    ("tooManyRequests", ResendAfterCooldown),
    ("internalServerError", DoNotResend),
    ("notImplemented", DoNotResend),
    ("serviceUnavailable", ResendAfterCooldown),
    ("gatewayTimeout", ResendAfterCooldown),
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
            ("internalServerErrorUncategorized", Recreatable),
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
}
