//! `Retry-After` and the retry decision: `parse_retry_after`,
//! `parse_http_date`, the policy's `judge`, `backoff_ms`, `poll_delay_ms`.
//!
//! Oracles: nothing panics (no overflow: debug assertions are on); a
//! `Retry-After` is waited whole, never cut short, and one past
//! `maxRetryAfterMs` stops the call; backoff is capped; only 429/503/504,
//! network errors and timeouts are retried (no codes in the body), and never
//! past `maxRetries`; delta-seconds are read exactly; and,
//! against the `httpdate` crate, a date both read is read to the same
//! instant, and every date it formats is read back exactly, in all three
//! forms (IMF-fixdate, RFC 850, asctime).
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use graph_workbook_session::fuzzing::operation::{poll_delay_ms, MAX_POLL_MS, MAX_POLL_RETRY_AFTER_MS};
use graph_workbook_session::fuzzing::policy::{
    judge, status_rule, Answered, Attempt, Kind, Rule, Verdict, POLL_FLOOR_MS,
};
use graph_workbook_session::fuzzing::retry::{
    backoff_ms, parse_http_date, parse_retry_after, Limits, DEFAULT_MAX_RETRY_AFTER_MS, MAX_DELAY_MS,
};
use libfuzzer_sys::fuzz_target;

#[path = "../common/frame.rs"]
mod frame;

/// The input: a first line of numbers `NOW_MS ATTEMPT MAX_RETRIES STATUS
/// KIND RANDOM POLL DATE_SECS` (missing or unreadable ones are 0), then the
/// raw `Retry-After` value (escapes allowed, see `common/frame.rs`).
struct Input {
    value: String,
    now_ms: u64,
    attempt: u32,
    max_retries: u8,
    status: u16,
    kind: u8,
    random: f64,
    poll: u32,
    date_secs: u64,
}

fn input(data: &[u8]) -> Input {
    let text = frame::text(data);
    let (head, value) = frame::head_body(&text);
    let n: Vec<&str> = head.split_whitespace().collect();
    let get = |k: usize| n.get(k).copied().unwrap_or("0");
    Input {
        value: frame::unescape(value.strip_suffix('\n').unwrap_or(value)),
        now_ms: get(0).parse().unwrap_or(0),
        attempt: get(1).parse().unwrap_or(0),
        max_retries: get(2).parse().unwrap_or(0),
        status: get(3).parse().unwrap_or(0),
        kind: get(4).parse().unwrap_or(0),
        random: get(5).parse().unwrap_or(0.0),
        poll: get(6).parse().unwrap_or(0),
        date_secs: get(7).parse().unwrap_or(0),
    }
}

fn imf_to_other_forms(imf: &str) -> Option<(String, String)> {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    let p: Vec<&str> = imf.split(' ').collect();
    let (wd, day, mon, year, time) = (p[0].trim_end_matches(','), p[1], p[2], p[3], p[4]);
    let full = match wd {
        "Mon" => "Monday",
        "Tue" => "Tuesday",
        "Wed" => "Wednesday",
        "Thu" => "Thursday",
        "Fri" => "Friday",
        "Sat" => "Saturday",
        _ => "Sunday",
    };
    let y: u32 = year.parse().ok()?;
    let rfc850 = if (1970..2070).contains(&y) {
        Some([full, ", ", day, "-", mon, "-", &year[2..], " ", time, " GMT"].concat())
    } else {
        None
    };
    let d: u32 = day.parse().ok()?;
    let asctime = format!("{wd} {mon} {d:>2} {time} {year}");
    Some((rfc850.unwrap_or_else(|| imf.to_string()), asctime))
}

fuzz_target!(|data: &[u8]| {
    let i = input(data);
    let now = i.now_ms;
    let parsed = parse_retry_after(&i.value, now);
    // ASCII whitespace around the number is not part of it (fetch's
    // `Headers` strips HTTP whitespace already; a `$batch` item's headers
    // come from JSON). Since 2026-12-05 a vertical tab or a Unicode space
    // (U+00A0, U+0085) is not trimmed: the value is then unreadable, and
    // the call backs off instead (retry::tests).
    let trimmed = i.value.trim_ascii();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let exact = trimmed.parse::<u128>().ok().and_then(|s| s.checked_mul(1000));
        match exact {
            Some(ms) if ms <= u128::from(u64::MAX) => assert_eq!(parsed, Some(ms as u64), "{trimmed}"),
            _ => {}
        }
    }

    // Differential: when both read a date, they read the same instant.
    // (httpdate is laxer about separators, `06-Nov-94(08:49:37`, and we are
    // laxer about case and spacing; every canonical spelling must be read,
    // which the round trip below checks.)
    if let (Ok(t), Some(ours)) = (httpdate::parse_http_date(&i.value), parse_http_date(&i.value)) {
        if let Ok(d) = t.duration_since(UNIX_EPOCH) {
            assert_eq!(ours, d.as_secs() * 1000, "{:?}", i.value);
        }
    }
    // Round trip: a formatted date reads back exactly, in all three forms.
    let secs = i.date_secs % 253_402_300_800; // up to 9999-12-31
    let imf = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
    assert_eq!(parse_http_date(&imf), Some(secs * 1000), "{imf}");
    if let Some((rfc850, asctime)) = imf_to_other_forms(&imf) {
        assert_eq!(parse_http_date(&rfc850), Some(secs * 1000), "{rfc850}");
        assert_eq!(parse_http_date(&asctime), Some(secs * 1000), "{asctime}");
    }

    // The decision (a refresh outside a session object, no codes in the body).
    let is_retryable_status = |status: u16| status_rule(status) == Rule::ResendAfterCooldown;
    let answered = match i.kind % 3 {
        0 => Answered::Status {
            status: i.status,
            top: None,
            second: None,
        },
        1 => Answered::Network,
        _ => Answered::Timeout,
    };
    let max_retries = u32::from(i.max_retries % 11);
    let max_retry_after_ms = u64::from(DEFAULT_MAX_RETRY_AFTER_MS);
    let limits = Limits {
        max_retries,
        max_retry_after_ms,
    };
    let kind = if i.poll.is_multiple_of(2) {
        Kind::Refresh
    } else {
        Kind::OperationPoll
    };
    let resends = i.attempt.saturating_sub(1);
    let verdict = judge(&Attempt {
        kind,
        answered,
        retry_after_ms: parsed,
        sessionful: kind == Kind::Refresh,
        can_recreate: false,
        resends,
        limits,
        renewable: false,
        random: i.random,
    });
    match verdict {
        Verdict::Resend { after_ms } => {
            assert!(resends < max_retries, "retried past maxRetries");
            if kind == Kind::OperationPoll {
                assert!(after_ms >= POLL_FLOOR_MS, "polled under the floor");
            }
            match (answered, parsed) {
                (Answered::Status { status, .. }, Some(told)) => {
                    assert!(is_retryable_status(status), "retried status {status}");
                    assert_eq!(
                        after_ms,
                        told.max(if kind == Kind::OperationPoll { POLL_FLOOR_MS } else { 0 }),
                        "Retry-After not honoured whole"
                    );
                    assert!(told <= max_retry_after_ms, "waited past maxRetryAfterMs");
                }
                (Answered::Status { status, .. }, None) => {
                    assert!(is_retryable_status(status), "retried status {status}");
                    assert!(after_ms <= MAX_DELAY_MS);
                }
                _ => assert!(after_ms <= MAX_DELAY_MS),
            }
        }
        Verdict::Done => assert!(matches!(answered, Answered::Status { status, .. } if (200..300).contains(&status))),
        _ => {
            if let Answered::Status { status, .. } = answered {
                let too_long = parsed.is_some_and(|t| t > max_retry_after_ms);
                assert!(!is_retryable_status(status) || resends >= max_retries || too_long);
            } else {
                assert!(resends >= max_retries);
            }
        }
    }
    assert!(backoff_ms(i.attempt, i.random) <= MAX_DELAY_MS);
    let interval = u64::from(i.max_retries) * 1000;
    assert!(poll_delay_ms(i.poll, Some(&i.value), now, interval) <= MAX_POLL_RETRY_AFTER_MS);
    assert!(poll_delay_ms(i.poll, None, now, interval) <= MAX_POLL_MS);
    assert!(poll_delay_ms(i.poll, Some(&i.value), now, interval) >= POLL_FLOOR_MS);
});
