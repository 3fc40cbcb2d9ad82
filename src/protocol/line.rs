//! A session's line: the rules every request carrying one session id
//! follows together, whoever sends it (keep-alive, `refresh()`,
//! `session.fetch`, the recreation's createSession, `close()`).
//!
//! - A cooldown (`Retry-After`) from any answer on the line holds the whole
//!   line until it passes: "not expected to resend the failed request until
//!   the specified cooldown duration passes", and no other request of the
//!   session goes out meanwhile (concepts/workbook-error-handling.md, step 5;
//!   workbook-best-practice.md: one request at a time per workbook).
//! - A cooldown longer than what the request may wait (`maxRetryAfterMs`)
//!   ends that request without sending it; the cooldown is never cut short.
//!
//! The clock is the wall clock in ms, passed in; [`Line`] is a plain value
//! the shell keeps in a `Cell` shared by every request of the session.

/// The line's cooldown: no request on it before `until_ms`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// Wall-clock ms before which nothing is sent (0: none).
    pub until_ms: u64,
}

/// What a request about to be sent on the line does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Send now.
    Go,
    /// Wait this long, then ask again (a later answer may extend it).
    Wait(u64),
    /// The cooldown is longer than the request may wait: it ends unsent.
    TooLong(u64),
}

impl Line {
    /// An answer on the line at `now` carried a cooldown of `retry_after_ms`:
    /// the line is held until it passes (a shorter one never shortens an
    /// earlier, longer one).
    pub fn hold(self, now: u64, retry_after_ms: Option<u64>) -> Line {
        match retry_after_ms {
            Some(ms) => Line {
                until_ms: self.until_ms.max(now.saturating_add(ms)),
            },
            None => self,
        }
    }

    /// May a request go at `now`, when it may wait at most `max_wait_ms`?
    pub fn gate(self, now: u64, max_wait_ms: u64) -> Gate {
        match self.until_ms.saturating_sub(now) {
            0 => Gate::Go,
            ms if ms > max_wait_ms => Gate::TooLong(ms),
            ms => Gate::Wait(ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cooldowns as (answered at, Retry-After ms), asked at, max wait, gate.
    type Row = (&'static [(u64, Option<u64>)], u64, u64, Gate);

    #[test]
    fn a_cooldown_holds_every_request_on_the_line_until_it_passes() {
        let table: &[Row] = &[
            (&[], 0, 1000, Gate::Go),
            (&[(0, None)], 10, 1000, Gate::Go),
            (&[(0, Some(3000))], 14, 180_000, Gate::Wait(2986)),
            (&[(0, Some(3000))], 3000, 180_000, Gate::Go),
            (&[(0, Some(3000))], 5000, 180_000, Gate::Go),
            // A later, shorter cooldown does not cut the first short.
            (&[(0, Some(3000)), (100, Some(1000))], 1200, 180_000, Gate::Wait(1800)),
            // A later, longer one extends it.
            (&[(0, Some(1000)), (500, Some(2000))], 1000, 180_000, Gate::Wait(1500)),
            // Longer than the request may wait: it ends unsent.
            (&[(0, Some(300_000))], 0, 180_000, Gate::TooLong(300_000)),
            (&[(0, Some(300_000))], 150_000, 180_000, Gate::Wait(150_000)),
            (&[(0, Some(u64::MAX))], 1, 180_000, Gate::TooLong(u64::MAX - 1)),
        ];
        for (i, &(holds, at, max, want)) in table.iter().enumerate() {
            let line = holds.iter().fold(Line::default(), |l, &(now, ra)| l.hold(now, ra));
            assert_eq!(line.gate(at, max), want, "row {i}");
        }
    }
}
