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
//! - `session.fetch`, `refresh()` (keep-alive's too) and `close()` go one
//!   at a time in call order, each after the requests ahead of it ended (a
//!   `concurrent` fetch skips the order, never the cooldown); keep-alive's
//!   refresh is claimed only when the line is empty.
//! - `close()` takes the next turn: the requests that joined before it
//!   still go, before it ([`Line::admits`]); none that comes after it.
//! - One recreation for the whole line is the session machine's
//!   ([`super::session::Session::begin_recreate`]): it runs within the turn
//!   of the request that found the session gone and never waits for a
//!   turn, so a request queued behind (a `refresh()`) cannot hold it up;
//!   every request re-reads the session's id and state when its turn comes.
//!
//! The clock is the wall clock in ms, passed in; [`Line`] is a plain value
//! the shell keeps in a `Cell` shared by every request of the session.

/// A session's line: its cooldown, and the requests in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// Wall-clock ms before which nothing is sent (0: none).
    pub until_ms: u64,
    /// Requests in line (waiting for their turn or sending): `session.fetch`
    /// calls (`concurrent` ones excluded), refreshes and `close()`.
    pub in_line: usize,
    /// Turns handed out so far: the next request to join gets this number.
    pub turns: u64,
    /// The turn `close()` took, once called.
    pub close_turn: Option<u64>,
}

/// A request's place in the line: its turn's number, `None` for a
/// `concurrent` fetch (which has no turn).
pub type Ticket = Option<u64>;

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

    /// A cooldown another session of the same workbook got, which ends at
    /// `until_ms`, holds this line too (never shortening a longer one).
    pub fn hold_until(self, until_ms: u64) -> Line {
        Line {
            until_ms: self.until_ms.max(until_ms),
            ..self
        }
    }

    /// A request joins the line: a `session.fetch` or a refresh
    /// (`refresh()` or keep-alive's), in call order; a `concurrent` fetch
    /// skips the order, never the cooldown, and does not join (no ticket).
    pub fn join(self, concurrent: bool) -> (Line, Join, Ticket) {
        if concurrent {
            return (self, Join::Go, None);
        }
        let ahead = self.in_line;
        let line = Line {
            in_line: ahead.saturating_add(1),
            turns: self.turns.saturating_add(1),
            ..self
        };
        (line, if ahead == 0 { Join::Go } else { Join::After }, Some(self.turns))
    }

    /// `close()` joins the line: it goes after the requests ahead of it
    /// ended; from now on the line admits only those ([`Line::admits`]).
    pub fn join_close(self) -> (Line, Join) {
        let (line, join, ticket) = self.join(false);
        let close_turn = self.close_turn.or(ticket);
        (Line { close_turn, ..line }, join)
    }

    /// May a request holding `ticket` still be sent? Always, until
    /// `close()` joined; then only those that joined before it (they are
    /// ahead of it, in call order), never a `concurrent` fetch.
    pub fn admits(self, ticket: Ticket) -> bool {
        match (self.close_turn, ticket) {
            (None, _) => true,
            (Some(close), Some(t)) => t < close,
            (Some(_), None) => false,
        }
    }

    /// A request in line ended (answered, failed or aborted): the next goes.
    pub fn leave(self) -> Line {
        Line {
            in_line: self.in_line.saturating_sub(1),
            ..self
        }
    }

    /// May keep-alive's refresh be claimed now? Only when the line is
    /// empty: it waits for the requests in it to end (then a successful
    /// `session.fetch` has made the refresh unnecessary for a while), then
    /// takes its turn as any request; the cooldown holds it too.
    pub fn keep_alive_may_go(self) -> bool {
        self.in_line == 0
    }

    /// May a refresh sent outside the session's own calls (`SessionPool`'s
    /// `$batch`, which cannot wait inside a batch) take the line at `now`?
    /// Only when it is empty, `close()` has not joined, and no cooldown
    /// holds it; it then joins as any request ([`Line::join`]), so the
    /// requests that come while it is out wait for it.
    pub fn claimable(self, now: u64) -> bool {
        self.in_line == 0 && self.close_turn.is_none() && self.until_ms <= now
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
    #[test]
    fn a_batch_refresh_claims_only_an_idle_line() {
        let idle = Line::default();
        assert!(idle.claimable(0));
        let (busy, _, _) = idle.join(false);
        assert!(!busy.claimable(0), "a request is in line");
        assert!(busy.leave().claimable(0), "it ended");
        let cooling = idle.hold(1_000, Some(3_000));
        // A workbook's cooldown carried in holds the line as its own would,
        // and never shortens a longer one.
        assert_eq!(idle.hold_until(4_000), cooling);
        assert_eq!(cooling.hold_until(2_000), cooling);
        assert_eq!(cooling.hold_until(9_000).until_ms, 9_000);
        assert!(!cooling.claimable(3_999), "the cooldown holds it");
        assert!(cooling.claimable(4_000));
        let (closing, _) = idle.join_close();
        assert!(!closing.leave().claimable(0), "close() joined");
        let (line, _, _) = idle.join(true);
        assert!(line.claimable(0), "a concurrent fetch does not join");
    }

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
                        let (next, got, _) = line.join(concurrent);
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

    /// `refresh()`, `session.fetch` and `close()` with the session machine:
    /// which request goes when, what the session lets each one send.
    mod with_the_session {
        use super::super::*;
        use crate::protocol::session::{AfterFailure, Begin, BeginRecreate, Failure, Fire, Session, State};

        fn join(line: &mut Line) -> (Join, Ticket) {
            let (next, join, ticket) = line.join(false);
            *line = next;
            (join, ticket)
        }

        #[test]
        fn refresh_and_close_take_their_turns_in_call_order_with_fetches() {
            let mut line = Line::default();
            let mut s = Session::new("s1".into(), true, Some(0));
            s.keep_alive(Some(1000), false, 0.5);
            // A session.fetch in flight.
            let (a_join, a) = join(&mut line);
            assert_eq!(a_join, Join::Go);
            // refresh(): after it, not beside it; a second refresh() joins
            // the first and takes no turn of its own.
            assert_eq!(s.begin_refresh(), Begin::Start);
            let (r_join, r) = join(&mut line);
            assert_eq!(r_join, Join::After);
            assert_eq!(s.begin_refresh(), Begin::Join);
            // Keep-alive's timer: the line is not empty, it is not claimed.
            assert!(!line.keep_alive_may_go());
            // Another fetch, then close(): each after the one before.
            let (b_join, b) = join(&mut line);
            assert_eq!(b_join, Join::After);
            assert!(s.close(), "close() sends closeSession at its turn");
            let (next, c_join) = line.join_close();
            line = next;
            assert_eq!(c_join, Join::After);
            assert_eq!(s.state, State::Closed, "refused to every later call at once");
            // The fetches that joined before close() still go, before it;
            // the refresh, which close() ends, is refused at its turn;
            // neither a concurrent fetch nor anything joining later goes.
            assert!(s.may_send(line.admits(a)));
            assert!(s.may_send(line.admits(b)));
            assert!(!s.may_send(false), "the refresh is not sent after close()");
            assert!(!s.may_send(line.admits(None)));
            let (_, late) = join(&mut line);
            assert!(!line.admits(late));
            assert_eq!(s.begin_refresh(), Begin::Refuse(State::Closed));
            assert!(!s.close(), "a second close() sends nothing");
            assert_eq!((a, r, b), (Some(0), Some(1), Some(2)), "turns in call order");
            // Each ends; the line empties.
            for _ in 0..5 {
                line = line.leave();
            }
            assert!(line.keep_alive_may_go());
        }

        /// The deadlock a single "refresh or recreation in flight" flag
        /// made: a fetch holding its turn finds the session expired and
        /// waits on the in-flight promise, which is a `refresh()` waiting
        /// for that fetch's turn to end. The recreation runs within the
        /// fetch's turn instead; the refresh behind goes on the new id.
        #[test]
        fn a_fetch_recreates_within_its_turn_while_a_refresh_waits_behind_it() {
            let mut line = Line::default();
            let mut s = Session::new("s1".into(), true, Some(0));
            let (_, f) = join(&mut line);
            assert_eq!(s.begin_refresh(), Begin::Start);
            let (r_join, _) = join(&mut line);
            assert_eq!(r_join, Join::After, "the refresh waits for the fetch's turn");
            // The fetch's answer: the session expired.
            assert_eq!(
                s.begin_recreate("s1", line.admits(f)),
                BeginRecreate::Start,
                "not Join: nothing the fetch would wait for waits on its turn"
            );
            // A concurrent fetch finding it gone too joins that recreation,
            // which waits for no turn.
            assert_eq!(s.begin_recreate("s1", line.admits(None)), BeginRecreate::Join);
            assert_eq!(s.timer_fired_at(5000, 0.5), Fire::Nothing);
            s.recreated("s2".into(), true, 10, 0.5);
            assert_eq!(s.begin_recreate("s1", line.admits(None)), BeginRecreate::Replaced);
            // The fetch resends on s2 and ends: the refresh's turn, on s2.
            line = line.leave();
            assert!(s.may_send(false));
            assert_eq!(s.id, "s2");
            assert_eq!(s.refresh_succeeded(20, 0.5), None);
            line = line.leave();
            assert!(line.keep_alive_may_go());
        }

        #[test]
        fn one_recreation_for_many_waiters() {
            let mut line = Line::default();
            let mut s = Session::new("s1".into(), false, Some(0));
            s.keep_alive(Some(1000), true, 0.5);
            // Keep-alive's refresh claims the empty line and takes its turn.
            assert!(line.keep_alive_may_go());
            assert_eq!(s.timer_fired_at(1000, 0.5), Fire::Refresh);
            let (k_join, k) = join(&mut line);
            assert_eq!(k_join, Join::Go);
            // Fetches queue behind it; a refresh() joins it.
            let (_, f1) = join(&mut line);
            let (_, f2) = join(&mut line);
            assert_eq!(s.begin_refresh(), Begin::Join);
            // Its answer: recreatable. Its turn creates the replacement.
            assert_eq!(
                s.refresh_failed(&s.id.clone(), Failure::Recreatable, 0.5),
                AfterFailure::Recreate
            );
            assert_eq!(s.begin_recreate("s1", line.admits(k)), BeginRecreate::Start);
            let concurrent = (0..3)
                .map(|_| s.begin_recreate("s1", line.admits(None)))
                .collect::<Vec<_>>();
            assert_eq!(concurrent, [BeginRecreate::Join; 3]);
            let (previous, state_lost, rearm) = s.recreated("s2".into(), false, 1100, 0.5);
            assert_eq!((previous.as_str(), state_lost, rearm), ("s1", true, Some(1000)));
            line = line.leave();
            // The fetches behind, at their turns, send on s2; one that was
            // sent on s1 before (concurrent) finds it replaced: no second
            // recreation.
            for t in [f1, f2] {
                assert!(s.may_send(line.admits(t)));
                assert_eq!(s.id, "s2");
                assert_eq!(s.begin_recreate("s1", line.admits(t)), BeginRecreate::Replaced);
                line = line.leave();
            }
            assert!(line.keep_alive_may_go());
        }

        #[test]
        fn close_while_requests_wait_goes_after_them_and_closes_the_new_id() {
            let mut line = Line::default();
            let mut s = Session::new("s1".into(), true, Some(0));
            s.keep_alive(Some(1000), true, 0.5);
            let (_, f) = join(&mut line);
            // A refresh() waits behind the fetch; close() comes next.
            assert_eq!(s.begin_refresh(), Begin::Start);
            let (_, _r) = join(&mut line);
            // The fetch's answer: expired; its recreation starts.
            assert_eq!(s.begin_recreate("s1", line.admits(f)), BeginRecreate::Start);
            assert!(s.close());
            let (next, close_join) = line.join_close();
            line = next;
            assert_eq!(close_join, Join::After);
            assert_eq!(s.keep_alive, None, "close() stops keep-alive");
            // The recreation finishes after close(): its new id is kept for
            // close() to end, and keep-alive is not re-armed.
            let (_, _, rearm) = s.recreated("s2".into(), true, 50, 0.5);
            assert_eq!(rearm, None);
            // The fetch joined before close(): it resends on s2.
            assert!(s.may_send(line.admits(f)));
            assert_eq!(s.begin_recreate("s1", line.admits(f)), BeginRecreate::Replaced);
            line = line.leave();
            // The refresh, ended by close(), is refused unsent at its turn.
            assert!(!s.may_send(false));
            assert_eq!(
                s.refresh_failed(&s.id.clone(), Failure::Aborted, 0.5),
                AfterFailure::Halt
            );
            line = line.leave();
            // close()'s turn: s2 is the session it closes.
            assert_eq!(s.id, "s2");
            line = line.leave();
            assert!(line.keep_alive_may_go());
            // A fetch that joined after close(), finding the session gone,
            // starts no recreation.
            let (_, late) = join(&mut line);
            assert_eq!(
                s.begin_recreate("s2", line.admits(late)),
                BeginRecreate::Refuse(State::Closed)
            );
        }

        #[test]
        fn a_lost_session_refuses_what_waits_in_line() {
            let mut line = Line::default();
            let mut s = Session::new("s1".into(), true, Some(0));
            let (_, f) = join(&mut line);
            assert_eq!(s.begin_refresh(), Begin::Start);
            let (_, r) = join(&mut line);
            // The fetch learns the session is dead (no recreation).
            assert!(s.gone("s1"));
            line = line.leave();
            assert!(!s.may_send(line.admits(r)), "the refresh is refused unsent");
            assert!(!s.may_send(line.admits(f)));
            assert_eq!(s.refresh_failed(&s.id.clone(), Failure::Fatal, 0.5), AfterFailure::Halt);
            assert_eq!(s.begin_refresh(), Begin::Refuse(State::Lost));
        }
    }
}
