//! `Retry-After`, backoff and the limits of resending, as plain functions of
//! their inputs; what is resent is [`super::policy::judge`]'s decision.
//!
//! A server's `Retry-After` is the cooldown, taken as given (no jitter) and
//! never cut short: one longer than the call's `maxRetryAfterMs` ends the
//! call with the error. Without one, exponential backoff with jitter (about
//! 1 s, 2 s, 4 s ..., at most [`MAX_DELAY_MS`]).

#[allow(unused_imports)]
use crate::prelude::*;

/// The longest backoff step (a server's cooldown is never capped).
pub const MAX_DELAY_MS: u64 = 180_000;
/// `maxRetryAfterMs` when none is given: the longest cooldown a call waits.
pub const DEFAULT_MAX_RETRY_AFTER_MS: u32 = 180_000;
/// The largest `maxRetryAfterMs` accepted: a day.
pub const MAX_RETRY_AFTER_LIMIT_MS: u32 = 86_400_000;

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

/// A redirect is never followed: a 3xx, or status 0 (what `fetch` gives for
/// an opaque redirect with `redirect: "manual"`), is read as no answer.
pub fn is_redirect(status: u16) -> bool {
    status == 0 || (300..400).contains(&status)
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
/// HTTP-date (IMF-fixdate, RFC 850 or asctime), ASCII whitespace around it
/// ignored. A date in the past gives 0;
/// anything unreadable gives `None` (the caller falls back to backoff).
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let v = value.trim_ascii();
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
    let mut t = super::text::split_any(s, b" ,-:").filter(|t| !t.is_empty());
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

    const NOW: u64 = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT

    /// Fuzz regression (`retry_after`, 2026-12-05): the value is trimmed of
    /// ASCII whitespace only (HTTP's, and CR, LF, FF), not of a vertical tab
    /// or a Unicode space, which leave it unreadable (backoff, not a
    /// cooldown read from garbage).
    #[test]
    fn delta_seconds_trimmed_of_ascii_whitespace_only() {
        assert_eq!(parse_retry_after(" \t10\r\n", 0), Some(10_000));
        assert_eq!(parse_retry_after("\x0b\n10\n ", 0), None);
        assert_eq!(parse_retry_after("\u{a0}10", 0), None);
    }

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
    fn redirects_are_no_answer() {
        for s in [0, 301, 302, 307, 308, 399] {
            assert!(is_redirect(s), "{s}");
        }
        for s in [200, 204, 400, 404, 429, 500] {
            assert!(!is_redirect(s), "{s}");
        }
    }
}
