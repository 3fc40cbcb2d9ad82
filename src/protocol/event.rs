//! What a call tells its `onEvent` listener, decided here from the same
//! values that decide the call (the request, the answer, [`judge`]'s
//! verdict), so the events are the core's decisions, reported: the shell
//! only turns them into objects and calls the listener. No event carries a
//! token, a header or a body: the URL (which never holds the token), the
//! method, the attempt, the status, Graph's `request-id`, timings, and why
//! a resend waits.
//!
//! [`judge`]: super::policy::judge

use super::attempts::Next;
use super::policy::Answered;

/// Why a request is sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryReason {
    /// The answer's `Retry-After`, never cut short.
    Cooldown,
    /// Exponential backoff with jitter (no `Retry-After`).
    Backoff,
    /// A 401 with a token source that renews: a fresh token, sent again at once.
    TokenRenewal,
}

impl RetryReason {
    /// The name the JS event carries.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryReason::Cooldown => "cooldown",
            RetryReason::Backoff => "backoff",
            RetryReason::TokenRenewal => "tokenRenewal",
        }
    }
}

/// One thing that happened to a call.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<'a> {
    /// Attempt `attempt` (1-based) of a request is being sent.
    Request {
        /// GET, POST, PATCH ...
        method: &'a str,
        /// The request's URL (no token: that goes in a header).
        url: &'a str,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// The attempt ended: an answer (`status`), or none (`status` 0 and `failure`).
    Response {
        /// As in [`Event::Request`].
        method: &'a str,
        /// As in [`Event::Request`].
        url: &'a str,
        /// As in [`Event::Request`].
        attempt: u32,
        /// The HTTP status; 0 when no answer came.
        status: u16,
        /// Graph's `request-id` header.
        request_id: Option<&'a str>,
        /// From sending to the answer's head.
        elapsed_ms: u64,
        /// Why no answer came: `network`, `timeout`, `redirect`, `aborted`.
        failure: Option<&'static str>,
    },
    /// The request goes again after `delay_ms`.
    Retry {
        /// As in [`Event::Request`].
        method: &'a str,
        /// As in [`Event::Request`].
        url: &'a str,
        /// The attempt that failed.
        attempt: u32,
        /// How long the resend waits.
        delay_ms: u64,
        /// Why it waits that long.
        reason: RetryReason,
    },
}

/// The resend a step schedules, as an event's `delay_ms` and `reason`:
/// a cooldown when the answer named one (the policy waits it out exactly),
/// backoff otherwise; `None` when the step sends nothing again.
pub fn resend(next: &Next, retry_after_ms: Option<u64>) -> Option<(u64, RetryReason)> {
    match *next {
        Next::Renew => Some((0, RetryReason::TokenRenewal)),
        Next::Resend { delay_ms } => Some((delay_ms, reason(retry_after_ms))),
        _ => None,
    }
}

/// Why a resend waits: the answer's cooldown, else backoff.
pub fn reason(retry_after_ms: Option<u64>) -> RetryReason {
    match retry_after_ms {
        Some(_) => RetryReason::Cooldown,
        None => RetryReason::Backoff,
    }
}

/// The `failure` of an attempt that got no answer.
pub fn failure(answered: Answered<'_>) -> Option<&'static str> {
    match answered {
        Answered::Timeout => Some("timeout"),
        Answered::Redirect => Some("redirect"),
        Answered::Network => Some("network"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_names_its_resend() {
        use crate::protocol::attempts::Failure;
        use crate::protocol::error::{Code, Error};
        let failed = || Next::Fail(Failure::plain(Error::local(Code::Network, &["x"])));
        let cases = [
            (Next::Renew, None, Some((0, RetryReason::TokenRenewal))),
            (
                Next::Resend { delay_ms: 3000 },
                Some(3000),
                Some((3000, RetryReason::Cooldown)),
            ),
            (
                Next::Resend { delay_ms: 1100 },
                None,
                Some((1100, RetryReason::Backoff)),
            ),
            (Next::Done, None, None),
            (failed(), Some(7000), None),
            (Next::Recreate, None, None),
        ];
        for (next, retry_after, expected) in cases {
            assert_eq!(resend(&next, retry_after), expected, "{next:?}");
        }
        assert_eq!(RetryReason::TokenRenewal.as_str(), "tokenRenewal");
    }
}
