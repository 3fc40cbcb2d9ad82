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
//! - `session.fetch` calls go one at a time in call order (`concurrent`
//!   skips the order, never the cooldown); keep-alive's refresh is claimed
//!   only when none is in line.
//! - One recreation for the whole line, and closing while requests wait,
//!   are the session machine's ([`super::session::Session::begin_recreate`],
//!   [`super::session::Session::close`]): every request re-reads the
//!   session's id and state when its turn comes.
//!
//! The clock is the wall clock in ms, passed in; [`Line`] is a plain value
//! the shell keeps in a `Cell` shared by every request of the session.

/// A session's line: its cooldown, and the `session.fetch` calls in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// Wall-clock ms before which nothing is sent (0: none).
    pub until_ms: u64,
    /// `session.fetch` calls in line (waiting for their turn or sending),
    /// `concurrent` ones excluded.
    pub in_line: usize,
}

/// Where a request joining the line stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Join {
    /// The line is empty: go at once (after the cooldown).
    Go,
    /// Wait for the calls ahead to end, then go (after the cooldown).
    After,
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
                ..self
            },
            None => self,
        }
    }

    /// A `session.fetch` joins the line (in call order; a `concurrent` one
    /// skips the order, never the cooldown, and does not join).
    pub fn join(self, concurrent: bool) -> (Line, Join) {
        if concurrent {
            return (self, Join::Go);
        }
        let ahead = self.in_line;
        let line = Line {
            in_line: ahead.saturating_add(1),
            ..self
        };
        (line, if ahead == 0 { Join::Go } else { Join::After })
    }

    /// A call in line ended (answered, failed or aborted): the next goes.
    pub fn leave(self) -> Line {
        Line {
            in_line: self.in_line.saturating_sub(1),
            ..self
        }
    }

    /// May keep-alive's refresh be claimed now? Only when no
    /// `session.fetch` is in line: it waits for them to end (then a
    /// successful one has made the refresh unnecessary for a while), so a
    /// fetch that needs the session recreated never waits on a refresh
    /// queued behind it. The cooldown then holds the refresh as any request.
    pub fn keep_alive_may_go(self) -> bool {
        self.in_line == 0
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

    #[derive(Clone, Copy, Debug)]
    enum Ev {
        /// A fetch joins (concurrent?): expect Go or After.
        Fetch(bool, Join),
        /// A fetch in line ends.
        Leave,
        /// An answer at `now` with a cooldown.
        Answer(u64, Option<u64>),
        /// Keep-alive's timer fires: may it be claimed?
        KeepAlive(bool),
        /// A request asks to go at `now` (waiting at most 180 s).
        Ask(u64, Gate),
    }

    /// The line over sequences of requests of every kind.
    #[test]
    fn fetches_keep_alive_and_cooldowns_in_one_line() {
        use Ev::*;
        let scripts: &[&[Ev]] = &[
            // One at a time in call order; keep-alive waits for the line to empty.
            &[
                Fetch(false, Join::Go),
                Fetch(false, Join::After),
                KeepAlive(false),
                Leave,
                KeepAlive(false),
                Fetch(false, Join::After),
                Leave,
                Leave,
                KeepAlive(true),
            ],
            // A concurrent fetch skips the order and does not hold keep-alive.
            &[
                Fetch(true, Join::Go),
                KeepAlive(true),
                Fetch(false, Join::Go),
                Fetch(true, Join::Go),
                KeepAlive(false),
                Leave,
                KeepAlive(true),
            ],
            // A cooldown from a fetch's answer holds the next fetch, the
            // keep-alive refresh and a concurrent fetch alike.
            &[
                Fetch(false, Join::Go),
                Answer(0, Some(3000)),
                Fetch(false, Join::After),
                Leave,
                Ask(14, Gate::Wait(2986)),
                Leave,
                KeepAlive(true),
                Ask(1000, Gate::Wait(2000)),
                Fetch(true, Join::Go),
                Ask(2999, Gate::Wait(1)),
                Ask(3000, Gate::Go),
            ],
            // A cooldown from keep-alive's refresh (or close's, or the
            // recreation's createSession) holds the fetches too.
            &[
                KeepAlive(true),
                Answer(500, Some(1000)),
                Fetch(false, Join::Go),
                Ask(600, Gate::Wait(900)),
                Answer(600, Some(300_000)),
                Ask(700, Gate::TooLong(299_900)),
                Leave,
            ],
            // Leaving more than joined never underflows.
            &[Leave, Leave, KeepAlive(true), Fetch(false, Join::Go)],
        ];
        for (n, script) in scripts.iter().enumerate() {
            let mut line = Line::default();
            for (k, ev) in script.iter().enumerate() {
                match *ev {
                    Fetch(concurrent, want) => {
                        let (next, got) = line.join(concurrent);
                        assert_eq!(got, want, "script {n} step {k}");
                        line = next;
                    }
                    Leave => line = line.leave(),
                    Answer(now, ra) => line = line.hold(now, ra),
                    KeepAlive(want) => assert_eq!(line.keep_alive_may_go(), want, "script {n} step {k}"),
                    Ask(now, want) => assert_eq!(line.gate(now, 180_000), want, "script {n} step {k}"),
                }
            }
        }
    }
}
