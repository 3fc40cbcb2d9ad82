//! Retry decisions and `Retry-After`, as plain functions of their inputs.
//!
//! Resent: what the Excel policy ([`super::policy`]) says to resend after
//! the cooldown (429, 503, 504 and their codes, `transientFailure` ...),
//! network errors and attempt timeouts; never what it says not to resend,
//! whatever the status. A server's `Retry-After` is the cooldown, taken as
//! given (no jitter) and never cut short: one longer than the call's
//! `maxRetryAfterMs` ends the call with the error. Without one, exponential
//! backoff with jitter (about 1 s, 2 s, 4 s ..., at most [`MAX_DELAY_MS`]).

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{Code, Error};
use super::policy::{self, Rule};
use super::request::Answer;

/// The longest backoff step (a server's cooldown is never capped).
pub const MAX_DELAY_MS: u64 = 180_000;
/// `maxRetryAfterMs` when none is given: the longest cooldown a call waits.
pub const DEFAULT_MAX_RETRY_AFTER_MS: u32 = 180_000;
/// The largest `maxRetryAfterMs` accepted: a day.
pub const MAX_RETRY_AFTER_LIMIT_MS: u32 = 86_400_000;

/// The codes of an error answer, as Graph sent them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Codes<'a> {
    /// `error.code`.
    pub top: Option<&'a str>,
    /// `error.innerError.code`: the one that decides.
    pub second: Option<&'a str>,
}

impl<'a> Codes<'a> {
    /// The codes of `e`.
    pub fn of(e: &'a Error) -> Codes<'a> {
        Codes {
            top: match e.code() {
                Code::Graph(c) => Some(c.as_str()),
                _ => None,
            },
            second: e.inner_code(),
        }
    }
}

/// How far a call may go in resending.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Resends allowed after the first attempt (`maxRetries`).
    pub max_retries: u32,
    /// The longest cooldown the call waits (`maxRetryAfterMs`).
    pub max_retry_after_ms: u64,
}
/// The first backoff step.
pub const BASE_DELAY_MS: u64 = 1_000;

/// What one attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// An HTTP answer, with its raw `Retry-After` header.
    Answer {
        /// The status.
        status: u16,
        /// The `Retry-After` header, raw.
        retry_after: Option<&'a str>,
        /// The error body's codes (none for a success or an unreadable body).
        codes: Codes<'a>,
    },
    /// `fetch` rejected: no answer came.
    Network,
    /// Graph redirected (a 3xx, or an opaque redirect): not followed, as
    /// the token must not follow it; counts as no answer.
    Redirect,
    /// The per-attempt timer fired first.
    Timeout,
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Wait this long, then send again.
    Retry {
        /// Milliseconds to wait.
        delay_ms: u64,
    },
    /// Stop: the outcome is final (success, a non-retryable error, or retries spent).
    Stop,
}

/// Statuses that mean "try again later" when the body names no documented code.
pub fn is_retryable_status(status: u16) -> bool {
    policy::status_rule(status) == Rule::ResendAfterCooldown
}

/// Decides after attempt number `attempt` (1-based) of a call with
/// `limits`. `now_ms` is the wall clock (for HTTP-date `Retry-After`),
/// `random` is uniform in [0, 1) (for jitter).
pub fn decide(attempt: u32, limits: Limits, outcome: Outcome<'_>, now_ms: u64, random: f64) -> Decision {
    let retryable = match outcome {
        Outcome::Answer { status, .. } if (200..300).contains(&status) => false,
        Outcome::Answer { status, codes, .. } => {
            policy::rule(status, codes.top, codes.second) == Rule::ResendAfterCooldown
        }
        Outcome::Network | Outcome::Timeout => true,
        // Final: Graph would redirect the resend too, and the token must not follow.
        Outcome::Redirect => false,
    };
    if !retryable || attempt > limits.max_retries {
        return Decision::Stop;
    }
    let told = match outcome {
        Outcome::Answer {
            retry_after: Some(v), ..
        } => parse_retry_after(v, now_ms),
        _ => None,
    };
    match told {
        // The cooldown is never cut short; one longer than the call waits ends it.
        Some(ms) if ms > limits.max_retry_after_ms => Decision::Stop,
        Some(ms) => Decision::Retry { delay_ms: ms },
        None => Decision::Retry {
            delay_ms: backoff_ms(attempt, random),
        },
    }
}

/// Whether an answer with `status` is resent at once with a fresh token:
/// a 401 (an expired token, the usual cause hours into a session), when the
/// token came from a function, provider or credential (`renewable`; a
/// string cannot be renewed), once per request (`renewed`: already done).
/// Not counted against `maxRetries`, and no cooldown: the fault was ours.
pub fn renew_token(status: u16, renewable: bool, renewed: bool) -> bool {
    status == 401 && renewable && !renewed
}

/// A redirect is never followed: a 3xx, or status 0 (what `fetch` gives for
/// an opaque redirect with `redirect: "manual"`), is read as no answer.
pub fn is_redirect(status: u16) -> bool {
    status == 0 || (300..400).contains(&status)
}

/// The error a request's final attempt stands for, or `None` when it
/// succeeded (2xx). `answer` is the attempt's answer, when one came.
pub fn final_error(outcome: Outcome<'_>, answer: Option<&Answer>, attempts: u32, now_ms: u64) -> Option<Error> {
    let e = match (outcome, answer) {
        (Outcome::Answer { status, .. }, _) if (200..300).contains(&status) => return None,
        (
            Outcome::Answer {
                status, retry_after, ..
            },
            Some(a),
        ) => Error::from_response(status, &a.body, a.request_id.as_deref())
            .with_retry_after_ms(retry_after.and_then(|v| parse_retry_after(v, now_ms))),
        (Outcome::Timeout, _) => Error::local(Code::Timeout, &["every attempt timed out (options.timeoutMs)"]),
        (Outcome::Redirect, _) => Error::local(
            Code::Network,
            &["Graph redirected the request (3xx); redirects are not followed, so the token is not sent elsewhere"],
        ),
        _ => Error::local(
            Code::Network,
            &["no answer from Graph: the connection failed, was refused, redirected, or blocked by CORS"],
        ),
    };
    Some(e.with_attempts(attempts))
}

/// Backoff before retry number `retry` (1-based): 1 s, 2 s, 4 s ... times a
/// jitter factor in [0.8, 1.2), so that many callers throttled together do
/// not come back in lockstep; capped at [`MAX_DELAY_MS`].
pub fn backoff_ms(retry: u32, random: f64) -> u64 {
    let step = BASE_DELAY_MS.saturating_mul(1u64 << retry.saturating_sub(1).min(20));
    let random = if (0.0..=1.0).contains(&random) { random } else { 0.0 };
    let jitter = 0.8 + 0.4 * random;
    ((step as f64 * jitter) as u64).min(MAX_DELAY_MS)
}

/// `Retry-After` in milliseconds from `now_ms`: delta-seconds or an
/// HTTP-date (IMF-fixdate, RFC 850 or asctime). A date in the past gives 0;
/// anything unreadable gives `None` (the caller falls back to backoff).
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let v = value.trim();
    if let Some(secs) = super::text::parse_u64(v) {
        return Some(secs.saturating_mul(1000));
    }
    let at = parse_http_date(v)?;
    Some(at.saturating_sub(now_ms))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month(s: &str) -> Option<u32> {
    let i = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(s))?;
    Some(i as u32 + 1)
}

fn num(s: Option<&str>, max_len: usize) -> Option<u64> {
    let s = s?;
    if s.len() > max_len {
        return None;
    }
    super::text::parse_u64(s)
}

/// An HTTP-date as milliseconds since the Unix epoch.
pub fn parse_http_date(s: &str) -> Option<u64> {
    if s.len() > 64 {
        return None;
    }
    let mut t = s.split([' ', ',', '-', ':']).filter(|t| !t.is_empty());
    let weekday = t.next()?;
    if !weekday.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let first = t.next()?;
    let (day, mon, year, h, m, sec) = if let Some(mon) = month(first) {
        // asctime: "Sun Nov  6 08:49:37 1994"
        let day = num(t.next(), 2)?;
        let (h, m, sec) = (num(t.next(), 2)?, num(t.next(), 2)?, num(t.next(), 2)?);
        let year = num(t.next(), 4)?;
        (day, mon, year, h, m, sec)
    } else {
        // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" or RFC 850 "Sunday, 06-Nov-94 ..."
        let day = num(Some(first), 2)?;
        let mon = month(t.next()?)?;
        let year_text = t.next()?;
        let year = num(Some(year_text), 4)?;
        let year = match year_text.len() {
            2 if year < 70 => 2000 + year,
            2 => 1900 + year,
            4 => year,
            _ => return None,
        };
        let (h, m, sec) = (num(t.next(), 2)?, num(t.next(), 2)?, num(t.next(), 2)?);
        if !t.next()?.eq_ignore_ascii_case("GMT") {
            return None;
        }
        (day, mon, year, h, m, sec)
    };
    if t.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, mon as u64, day);
    Some((days * 86_400 + h * 3600 + m * 60 + sec) * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year >= 1970).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_renews_the_token_once_when_it_can() {
        for (status, renewable, renewed, want) in [
            (401, true, false, true),
            (401, true, true, false),
            (401, false, false, false),
            (401, false, true, false),
            (403, true, false, false),
            (400, true, false, false),
            (404, true, false, false),
            (429, true, false, false),
            (500, true, false, false),
            (200, true, false, false),
            (204, true, false, false),
            (0, true, false, false),
        ] {
            assert_eq!(
                renew_token(status, renewable, renewed),
                want,
                "{status} {renewable} {renewed}"
            );
        }
    }

    const NOW: u64 = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn http_dates_in_all_three_forms() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(NOW));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(NOW));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sat, 29 Feb 2020 23:59:59 GMT"),
            Some(1_583_020_799_000)
        );
        assert_eq!(
            parse_http_date("Fri, 27 Nov 2026 08:00:00 GMT"),
            Some(1_795_766_400_000)
        );
    }

    #[test]
    fn retry_after_seconds_future_past_and_garbage() {
        assert_eq!(parse_retry_after("1", NOW), Some(1000));
        assert_eq!(parse_retry_after(" 120 ", NOW), Some(120_000));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", NOW), Some(10_000));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:48:37 GMT", NOW), Some(0));
        for garbage in [
            "",
            "soon",
            "-1",
            "1.5",
            "0x10",
            "Sun, 06 Nov 1994 25:00:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "99999999999999999999999",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
        ] {
            assert_eq!(parse_retry_after(garbage, NOW), None, "{garbage:?}");
        }
        assert_eq!(parse_retry_after("18446744073709551615", NOW), Some(u64::MAX));
    }

    fn answer(status: u16, retry_after: Option<&str>) -> Outcome<'_> {
        Outcome::Answer {
            status,
            retry_after,
            codes: Codes::default(),
        }
    }

    fn coded<'a>(status: u16, retry_after: Option<&'a str>, top: &'a str, second: &'a str) -> Outcome<'a> {
        Outcome::Answer {
            status,
            retry_after,
            codes: Codes {
                top: Some(top),
                second: Some(second),
            },
        }
    }

    fn limits(max_retries: u32) -> Limits {
        Limits {
            max_retries,
            max_retry_after_ms: u64::from(DEFAULT_MAX_RETRY_AFTER_MS),
        }
    }

    #[test]
    fn only_throttling_unavailability_network_and_timeouts_are_retried() {
        for status in [200, 201, 202, 204, 301, 400, 401, 403, 404, 409, 500, 501, 502] {
            assert!(
                decide(1, limits(3), answer(status, None), NOW, 0.5) == Decision::Stop,
                "{status}"
            );
        }
        for o in [
            answer(429, None),
            answer(503, None),
            answer(504, None),
            Outcome::Network,
            Outcome::Timeout,
        ] {
            assert!(matches!(decide(1, limits(3), o, NOW, 0.5), Decision::Retry { .. }));
        }
    }

    #[test]
    fn the_policy_decides_over_the_status() {
        // "Do not resend" codes are sent once, even on a throttling status.
        for (status, top, second) in [
            (409, "conflict", "accessConflict"),
            (503, "serviceUnavailable", "AccessConflict"),
            (429, "tooManyRequests", "generalException"),
            (504, "gatewayTimeout", "requestAborted"),
            (500, "internalServerError", "internalServerErrorUncategorized"),
            (404, "itemNotFound", "invalidSessionReCreatable"),
            (503, "x", "invalidSessionUnexpected"),
        ] {
            assert!(
                decide(1, limits(3), coded(status, Some("1"), top, second), NOW, 0.5) == Decision::Stop,
                "{second} {status}"
            );
        }
        // "Resend after the cooldown" codes are resent, after it.
        for (status, top, second) in [
            (429, "tooManyRequests", "tooManyRequestsUncategorized"),
            (503, "serviceUnavailable", "ServiceUnavailableUncategorized"),
            (504, "gatewayTimeout", "gatewayTimeoutUncategorized"),
            (500, "internalServerError", "transientFailure"),
            (409, "x", "TRANSIENTFAILURE"),
        ] {
            assert!(
                decide(1, limits(3), coded(status, Some("2"), top, second), NOW, 0.5)
                    == Decision::Retry { delay_ms: 2000 },
                "{second} {status}"
            );
        }
        // An unknown second level: the top-level code, then the status.
        assert!(matches!(
            decide(1, limits(3), coded(409, None, "tooManyRequests", "new"), NOW, 0.5),
            Decision::Retry { .. }
        ));
        assert!(decide(1, limits(3), coded(503, None, "conflict", "new"), NOW, 0.5) == Decision::Stop);
        assert!(decide(1, limits(3), answer(204, None), NOW, 0.5) == Decision::Stop);
    }

    #[test]
    fn retries_stop_after_max_retries() {
        assert!(matches!(
            decide(3, limits(3), answer(503, None), NOW, 0.5),
            Decision::Retry { .. }
        ));
        assert!(decide(4, limits(3), answer(503, None), NOW, 0.5) == Decision::Stop);
        assert!(decide(1, limits(0), Outcome::Network, NOW, 0.5) == Decision::Stop);
    }

    #[test]
    fn retry_after_is_taken_as_given_and_never_cut_short() {
        assert!(decide(1, limits(3), answer(429, Some("1")), NOW, 0.99) == Decision::Retry { delay_ms: 1000 });
        assert!(decide(1, limits(3), answer(429, Some("0")), NOW, 0.99) == Decision::Retry { delay_ms: 0 });
        assert!(decide(1, limits(3), answer(429, Some("180")), NOW, 0.5) == Decision::Retry { delay_ms: 180_000 });
        // Longer than the call waits: it ends with the error, no early resend.
        assert!(decide(1, limits(3), answer(429, Some("181")), NOW, 0.5) == Decision::Stop);
        assert!(decide(1, limits(3), answer(429, Some("600")), NOW, 0.5) == Decision::Stop);
        let long = Limits {
            max_retries: 3,
            max_retry_after_ms: 3_600_000,
        };
        assert!(decide(1, long, answer(429, Some("600")), NOW, 0.5) == Decision::Retry { delay_ms: 600_000 });
        assert!(
            decide(
                1,
                limits(3),
                answer(503, Some("Sun, 06 Nov 1994 08:49:39 GMT")),
                NOW,
                0.5
            ) == Decision::Retry { delay_ms: 2000 }
        );
        // garbage falls back to backoff
        assert!(decide(2, limits(3), answer(429, Some("later")), NOW, 0.5) == Decision::Retry { delay_ms: 2000 });
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter_and_a_cap() {
        for (retry, base) in [(1u32, 1000u64), (2, 2000), (3, 4000), (4, 8000)] {
            let lo = backoff_ms(retry, 0.0);
            let hi = backoff_ms(retry, 0.999_999);
            assert_eq!(lo, base * 8 / 10);
            assert!(hi < base * 12 / 10 && hi > base * 11 / 10);
        }
        assert_eq!(backoff_ms(30, 0.5), MAX_DELAY_MS);
        assert_eq!(backoff_ms(u32::MAX, 1.0), MAX_DELAY_MS);
        assert_eq!(backoff_ms(1, f64::NAN), 800);
    }

    #[test]
    fn redirects_are_no_answer_and_final_errors_follow_the_outcome() {
        for s in [0, 301, 302, 307, 308, 399] {
            assert!(is_redirect(s), "{s}");
        }
        for s in [200, 204, 400, 404, 429, 500] {
            assert!(!is_redirect(s), "{s}");
        }
        let ok = Answer {
            status: 204,
            ..Answer::default()
        };
        assert!(final_error(answer(204, None), Some(&ok), 1, 0).is_none());
        let throttled = Answer {
            status: 429,
            retry_after: Some("9".into()),
            ..Answer::default()
        };
        let e = final_error(answer(429, Some("9")), Some(&throttled), 4, 0).unwrap();
        assert_eq!(
            (e.code().as_str(), e.retry_after_ms(), e.attempts()),
            ("tooManyRequests", Some(9000), 4)
        );
        let e = final_error(Outcome::Timeout, None, 2, 0).unwrap();
        assert_eq!(*e.code(), Code::Timeout);
        for outcome in [Outcome::Network, Outcome::Redirect] {
            assert_eq!(*final_error(outcome, None, 1, 0).unwrap().code(), Code::Network);
        }
    }

    #[test]
    fn a_redirect_is_final_and_says_so() {
        assert_eq!(decide(1, limits(3), Outcome::Redirect, 0, 0.5), Decision::Stop);
        let e = final_error(Outcome::Redirect, None, 1, 0).unwrap();
        assert_eq!(*e.code(), Code::Network);
        assert!(e.message().contains("redirected"), "{}", e.message());
    }
}
