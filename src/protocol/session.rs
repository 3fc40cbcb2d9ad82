//! A workbook session's life as a state machine, and its keep-alive schedule.
//!
//! Graph expires an idle persistent session after about 5 minutes and a
//! non-persistent one after about 7. Keep-alive refreshes well inside that
//! (3 and 4 minutes by default), with ±10 % jitter so that many sessions do
//! not refresh in lockstep. The shell owns the timer and the requests; this
//! machine says when to arm the timer, when to refresh, when to recreate and
//! when the session is lost. Time and randomness come in as arguments.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{Code, Error};
use super::policy::{self, Verdict};

/// Default keep-alive interval of a persistent session (idle lifetime ~5 min).
pub const PERSISTENT_INTERVAL_MS: u64 = 180_000;
/// Default keep-alive interval of a non-persistent session (idle lifetime ~7 min).
pub const NON_PERSISTENT_INTERVAL_MS: u64 = 240_000;
/// The shortest `intervalMs` accepted.
pub const MIN_INTERVAL_MS: u64 = 50;
/// The longest `intervalMs` accepted (a day: far past any idle lifetime).
pub const MAX_INTERVAL_MS: u64 = 86_400_000;
/// After a transient failure (network, timeout, 5xx once retries are
/// spent), the next try comes sooner than a full interval, but not sooner
/// than this fraction of it, so failures never spin.
const TRANSIENT_RETRY_FRACTION: f64 = 0.25;

/// `"active" | "lost" | "closed"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum State {
    /// Usable; refreshes go out.
    Active,
    /// Graph no longer knows it and it was not (or could not be) recreated.
    Lost,
    /// `close()` was called.
    Closed,
}

impl State {
    /// The JS string.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Lost => "lost",
            State::Closed => "closed",
        }
    }
}

/// What a failed refresh means for the session.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Failure {
    /// `invalidSessionReCreatable`, or `internalServerErrorUncategorized`
    /// on this session: it is not used again; create a new session and go
    /// on (when `recreate` is on; else it is lost).
    Recreatable,
    /// The session (or its item) is gone for good: the other documented
    /// `invalidSession*` codes, 404, 410.
    Gone,
    /// Worth another try later: no answer, timeout, 408, 429, 5xx, and the
    /// codes the policy resends after a cooldown. The next refresh goes out
    /// no sooner than `cooldown_ms` (Graph's `Retry-After`).
    Transient {
        /// The error's cooldown, when Graph gave one.
        cooldown_ms: Option<u64>,
    },
    /// Trying again would fail the same way (400, 401, 403, aborted, the
    /// codes the doc says not to resend ...): keep-alive stops rather than loop.
    Fatal,
    /// The refresh was ended on purpose (its caller's signal, `stop()`,
    /// `close()`): nothing is wrong with the session; keep-alive, if it
    /// still runs, goes on without reporting an error.
    Aborted,
}

/// Sorts a refresh's final error into a [`Failure`] by
/// [`policy::judge`]: what it would say of the same refresh sent again
/// (keep-alive's next refresh is a new request, so its budget is not
/// spent). `renewable_token`: the token comes from a function, provider or
/// credential, so a 401 may pass next time (the call already renewed once;
/// a string token, which cannot change, stays fatal). `can_recreate`:
/// keep-alive recreates the session (`recreate: true`).
pub fn classify(e: &Error, renewable_token: bool, can_recreate: bool) -> Failure {
    let transient = Failure::Transient {
        cooldown_ms: e.retry_after_ms(),
    };
    let top = match e.code() {
        Code::Aborted => return Failure::Aborted,
        // A token provider that failed or hung may answer next time (an
        // identity service's outage, a refresh token being renewed).
        Code::Network | Code::Timeout | Code::TokenProvider => return transient,
        Code::Graph(c) => c.as_str(),
        _ => return Failure::Fatal,
    };
    // A cooldown that ended the call before anything was sent.
    if e.status() == 0 {
        return transient;
    }
    let verdict = policy::judge(&policy::Attempt {
        kind: policy::Kind::Refresh,
        answered: policy::Answered::Status {
            status: e.status(),
            top: Some(top),
            second: e.inner_code(),
        },
        retry_after_ms: None,
        sessionful: true,
        can_recreate,
        resends: 0,
        limits: super::retry::Limits {
            max_retries: 1,
            max_retry_after_ms: u64::MAX,
        },
        renewable: false,
        random: 0.5,
    });
    match verdict {
        Verdict::Resend { .. } => transient,
        Verdict::Recreate { .. } => Failure::Recreatable,
        Verdict::SessionGone { .. } => Failure::Gone,
        Verdict::Done | Verdict::RenewToken | Verdict::Fail => {
            let listed = e.inner_code().and_then(policy::second_level_rule).is_some();
            // Not resent now, but keep-alive's next refresh, a new request,
            // may pass: a token renewed by then, a server error without a
            // documented code.
            if (renewable_token && e.status() == 401) || e.status() == 408 || (e.status() >= 500 && !listed) {
                transient
            } else {
                Failure::Fatal
            }
        }
    }
}

/// closeSession's goal is a closed session. When a retry finds the session
/// gone (404, plain or `invalidSessionReCreatable`), an earlier attempt
/// closed it and only its answer was lost (a timeout, a dropped
/// connection): the call succeeded. A first attempt's 404 means the session
/// had expired, and is an error.
pub fn close_already_done(e: &Error) -> bool {
    e.attempts() > 1 && e.status() == 404 && (e.recreatable() || e.inner_code().is_none())
}

/// The default interval for a session.
pub fn default_interval_ms(persist_changes: bool) -> u64 {
    if persist_changes {
        PERSISTENT_INTERVAL_MS
    } else {
        NON_PERSISTENT_INTERVAL_MS
    }
}

/// `interval` with ±10 % jitter; `random` uniform in [0, 1).
pub fn jittered(interval_ms: u64, random: f64) -> u64 {
    let random = if (0.0..=1.0).contains(&random) { random } else { 0.5 };
    ((interval_ms as f64) * (0.9 + 0.2 * random)) as u64
}

/// Keep-alive settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeepAlive {
    /// Mean time between refreshes.
    pub interval_ms: u64,
    /// Recreate the session on `invalidSessionReCreatable`.
    pub recreate: bool,
}

/// What a manual `refresh()` should do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Begin {
    /// Send a refresh.
    Start,
    /// One is in flight: wait for it instead of sending another.
    Join,
    /// The session is lost or closed: fail without sending.
    Refuse(State),
}

/// What a `session.fetch` that found its session expired should do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BeginRecreate {
    /// Create the replacement (then [`Session::recreated`] or
    /// [`Session::recreate_failed`]).
    Start,
    /// Someone already replaced it: resend with the current id.
    Replaced,
    /// A refresh or recreation is in flight: wait for it, then ask again.
    Join,
    /// The session is lost or closed.
    Refuse(State),
}

/// What the shell must do after a refresh failed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AfterFailure {
    /// Create a replacement session (then call [`Session::recreated`] or
    /// [`Session::recreate_failed`]).
    Recreate,
    /// The session turned lost: tell `onLost`; the timer stays disarmed.
    Lost,
    /// Arm the timer for this many ms and try again.
    RetryIn(u64),
    /// Keep-alive stopped (fatal error), or was not running: nothing to arm.
    Halt,
    /// Arm the timer for this many ms without reporting anything: the
    /// refresh was aborted on purpose and keep-alive still runs.
    Resume(u64),
}

impl AfterFailure {
    /// What `onError`'s second argument says: whether keep-alive will try
    /// again, and in how many ms. `None` when `onError` is not the callback
    /// to tell (the session was lost, is being recreated, or nothing failed).
    pub fn next_try(self) -> Option<(bool, Option<u64>)> {
        match self {
            AfterFailure::RetryIn(ms) => Some((true, Some(ms))),
            AfterFailure::Halt => Some((false, None)),
            AfterFailure::Recreate | AfterFailure::Lost | AfterFailure::Resume(_) => None,
        }
    }
}

/// A session's state as the keep-alive machinery sees it.
#[derive(Clone, Debug)]
pub struct Session {
    /// The current `workbook-session-id` (changes on recreation).
    pub id: String,
    /// Whether changes are persisted.
    pub persist_changes: bool,
    /// Active, lost or closed.
    pub state: State,
    /// Wall-clock ms of the last successful refresh or creation.
    pub last_refreshed_at: Option<u64>,
    /// Keep-alive settings while it runs.
    pub keep_alive: Option<KeepAlive>,
    /// Wall-clock ms of the last successful request of the caller's own
    /// (`session.fetch`): Graph counts it as activity, as a refresh.
    pub last_activity_at: Option<u64>,
    /// A refresh (`refresh()` or keep-alive's) is in the line, waiting for
    /// its turn or sent: a second `refresh()` joins it.
    refreshing: bool,
    /// A replacement session is being created (within the turn of the
    /// request that found the session gone, or beside the line for a
    /// `concurrent` fetch): every other request that finds the session
    /// gone joins it.
    recreating: bool,
}

/// What the keep-alive timer's firing means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fire {
    /// Send a refresh now.
    Refresh,
    /// The session was used recently: no refresh is needed yet; arm the
    /// timer again for this many ms.
    Wait(u64),
    /// Nothing to do here (not active, keep-alive off, or a refresh or
    /// recreation in flight: join it).
    Nothing,
}

impl Session {
    /// A session known to be active (just created, or attached).
    pub fn new(id: String, persist_changes: bool, created_at: Option<u64>) -> Session {
        Session {
            id,
            persist_changes,
            state: State::Active,
            last_refreshed_at: created_at,
            keep_alive: None,
            last_activity_at: None,
            refreshing: false,
            recreating: false,
        }
    }

    /// A request in the session succeeded at `now` (Graph resets the idle
    /// timer on it, as on a refresh).
    pub fn activity(&mut self, now: u64) {
        if self.state == State::Active {
            self.last_activity_at = Some(self.last_activity_at.map_or(now, |t| t.max(now)));
        }
    }

    /// The keep-alive timer fired at `now`. A refresh is skipped when the
    /// session's last activity is newer than its last refresh and a
    /// (jittered) interval has not passed since it: the timer waits out the
    /// rest of that interval instead, so the session is never idle longer
    /// than a keep-alive interval.
    pub fn timer_fired_at(&mut self, now: u64, random: f64) -> Fire {
        if self.state != State::Active || self.in_flight() {
            return Fire::Nothing;
        }
        let Some(k) = self.keep_alive else {
            return Fire::Nothing;
        };
        if let Some(active) = self.last_activity_at {
            if !matches!(self.last_refreshed_at, Some(r) if r >= active) {
                let due = active.saturating_add(jittered(k.interval_ms, random));
                if due > now {
                    return Fire::Wait((due - now).max(MIN_INTERVAL_MS));
                }
            }
        }
        self.refreshing = true;
        Fire::Refresh
    }

    /// True while a refresh or a recreation is outstanding.
    pub fn in_flight(&self) -> bool {
        self.refreshing || self.recreating
    }

    /// True while a replacement session is being created.
    pub fn recreating(&self) -> bool {
        self.recreating
    }

    /// May a request go out now (at its turn, and before each resend)?
    /// While the session is active; once `close()` was called, only a
    /// request the line still admits (it joined before `close()`, so it
    /// goes before it: [`super::line::Line::admits`]); never once lost.
    pub fn may_send(&self, admitted: bool) -> bool {
        match self.state {
            State::Active => true,
            State::Closed => admitted,
            State::Lost => false,
        }
    }

    /// Starts (or reconfigures) keep-alive; returns the delay to arm the
    /// timer with, or `None` when the session is not active.
    pub fn keep_alive(&mut self, interval_ms: Option<u64>, recreate: bool, random: f64) -> Option<u64> {
        if self.state != State::Active {
            return None;
        }
        let interval_ms = interval_ms.unwrap_or_else(|| default_interval_ms(self.persist_changes));
        self.keep_alive = Some(KeepAlive { interval_ms, recreate });
        Some(jittered(interval_ms, random))
    }

    /// Stops keep-alive; the shell disarms its timer. Idempotent.
    pub fn stop(&mut self) {
        self.keep_alive = None;
    }

    /// The keep-alive timer fired: `true` means send a refresh now (the
    /// schedule without activity; see [`Session::timer_fired_at`]).
    pub fn timer_fired(&mut self) -> bool {
        if self.state != State::Active || self.keep_alive.is_none() || self.in_flight() {
            return false;
        }
        self.refreshing = true;
        true
    }

    /// A request (`session.fetch`, or a refresh after
    /// [`AfterFailure::Recreate`]) found the session `failed_id` expired and
    /// would recreate it; `admitted`: the line still admits it
    /// ([`Session::may_send`]). Only a recreation under way is joined,
    /// never a refresh: a refresh waiting in line behind the request that
    /// asks would wait for that request's turn to end, and the request for
    /// the recreation (a deadlock). The recreation runs within the asking
    /// request's turn instead, and the refresh, when its turn comes, goes
    /// with the new id.
    pub fn begin_recreate(&mut self, failed_id: &str, admitted: bool) -> BeginRecreate {
        if !self.may_send(admitted) {
            return BeginRecreate::Refuse(self.state);
        }
        if self.id != failed_id {
            return BeginRecreate::Replaced;
        }
        if self.recreating {
            return BeginRecreate::Join;
        }
        self.recreating = true;
        BeginRecreate::Start
    }

    /// A caller asked for a refresh.
    pub fn begin_refresh(&mut self) -> Begin {
        if self.state != State::Active {
            return Begin::Refuse(self.state);
        }
        if self.refreshing {
            return Begin::Join;
        }
        self.refreshing = true;
        Begin::Start
    }

    /// The refresh succeeded at `now`; returns the delay to re-arm the
    /// keep-alive timer with, if it runs.
    pub fn refresh_succeeded(&mut self, now: u64, random: f64) -> Option<u64> {
        self.refreshing = false;
        if self.state != State::Active {
            return None;
        }
        self.last_refreshed_at = Some(now);
        self.keep_alive.map(|k| jittered(k.interval_ms, random))
    }

    /// A refresh sent outside the session's own calls (`SessionPool`'s
    /// `$batch`) succeeded at `now`.
    pub fn refreshed_at(&mut self, now: u64) {
        if self.state == State::Active {
            self.last_refreshed_at = Some(now);
        }
    }

    /// The refresh sent on `sent_on` failed with `failure`. The refresh is
    /// over (a second `refresh()` no longer joins it); after
    /// [`AfterFailure::Recreate`] its turn goes on with
    /// [`Session::begin_recreate`]. When Graph says `sent_on` is gone but
    /// another request's recreation (a `concurrent` `session.fetch` goes
    /// beside the line) replaced it meanwhile, or is replacing it, the
    /// session is not lost: [`AfterFailure::Recreate`], whose
    /// `begin_recreate` finds the replacement or joins it.
    pub fn refresh_failed(&mut self, sent_on: &str, failure: Failure, random: f64) -> AfterFailure {
        self.refreshing = false;
        if self.state != State::Active {
            return AfterFailure::Halt;
        }
        let replaced = self.id != sent_on || self.recreating;
        match failure {
            Failure::Recreatable | Failure::Gone if replaced => AfterFailure::Recreate,
            Failure::Recreatable if self.keep_alive.is_some_and(|k| k.recreate) => AfterFailure::Recreate,
            Failure::Recreatable | Failure::Gone => {
                self.lose();
                AfterFailure::Lost
            }
            Failure::Transient { cooldown_ms } => match self.keep_alive {
                Some(k) => {
                    let retry = (k.interval_ms as f64 * TRANSIENT_RETRY_FRACTION) as u64;
                    let backoff = jittered(retry.max(MIN_INTERVAL_MS), random);
                    // Graph's cooldown is never cut short.
                    AfterFailure::RetryIn(backoff.max(cooldown_ms.unwrap_or(0)))
                }
                None => AfterFailure::Halt,
            },
            Failure::Fatal => {
                self.keep_alive = None;
                AfterFailure::Halt
            }
            Failure::Aborted => match self.keep_alive {
                Some(k) => {
                    let retry = (k.interval_ms as f64 * TRANSIENT_RETRY_FRACTION) as u64;
                    AfterFailure::Resume(jittered(retry.max(MIN_INTERVAL_MS), random))
                }
                None => AfterFailure::Halt,
            },
        }
    }

    /// A replacement session exists. Returns `(previous id, state lost?,
    /// delay to re-arm)`: a non-persistent session's uncommitted changes
    /// died with it.
    pub fn recreated(
        &mut self,
        id: String,
        persist_changes: bool,
        now: u64,
        random: f64,
    ) -> (String, bool, Option<u64>) {
        self.recreating = false;
        let previous = core::mem::replace(&mut self.id, id);
        let state_lost = !self.persist_changes;
        self.persist_changes = persist_changes;
        if self.state != State::Active {
            return (previous, state_lost, None);
        }
        self.last_refreshed_at = Some(now);
        (
            previous,
            state_lost,
            self.keep_alive.map(|k| jittered(k.interval_ms, random)),
        )
    }

    /// The replacement could not be created: the session is lost.
    pub fn recreate_failed(&mut self) {
        self.recreating = false;
        if self.state == State::Active {
            self.lose();
        }
    }

    /// A request on session `id` was told the session may not be used
    /// again, and it is not replaced here (`session.fetch` without
    /// recreation): it turns lost. False when `id` is no longer the current
    /// id (already replaced), is being replaced by another request's
    /// recreation, or the session is not active.
    pub fn gone(&mut self, id: &str) -> bool {
        if self.state == State::Active && self.id == id && !self.recreating {
            self.lose();
            true
        } else {
            false
        }
    }

    fn lose(&mut self) {
        self.state = State::Lost;
        self.keep_alive = None;
    }

    /// `close()`: returns true when a closeSession request should be sent
    /// (the session was active). Idempotent.
    pub fn close(&mut self) -> bool {
        let was_active = self.state == State::Active;
        self.state = State::Closed;
        self.keep_alive = None;
        was_active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_error(status: u16, code: &str, inner: Option<&str>) -> Error {
        Error::local(Code::Graph(code.into()), &[])
            .with_status(status)
            .with_inner_code(inner)
    }

    /// A fake clock driving the machine the way the shell does: each armed
    /// delay is added to `now`, each refresh answered by `answer`.
    struct Harness {
        s: Session,
        now: u64,
        refreshes: Vec<u64>,
    }

    impl Harness {
        fn new(persist: bool) -> Harness {
            Harness {
                s: Session::new("s1".into(), persist, Some(0)),
                now: 0,
                refreshes: Vec::new(),
            }
        }
        fn run(&mut self, mut delay: Option<u64>, until: u64, random: impl Fn(u64) -> f64) {
            while let Some(d) = delay {
                self.now += d;
                if self.now > until {
                    break;
                }
                assert!(self.s.timer_fired());
                self.refreshes.push(self.now);
                delay = self.s.refresh_succeeded(self.now, random(self.now));
            }
        }
    }

    #[test]
    fn default_schedule_refreshes_well_inside_the_idle_lifetime() {
        for (persist, lifetime) in [(true, 300_000u64), (false, 420_000)] {
            let mut h = Harness::new(persist);
            let first = h.s.keep_alive(None, false, 0.999);
            h.run(first, 3_600_000, |t| ((t / 7) % 1000) as f64 / 1000.0);
            let mut last = 0;
            for t in &h.refreshes {
                assert!(
                    t - last < lifetime * 9 / 10,
                    "gap {} too close to the {lifetime} ms lifetime",
                    t - last
                );
                last = *t;
            }
            assert!(h.refreshes.len() >= 13, "{} refreshes in an hour", h.refreshes.len());
        }
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_spreads_sessions() {
        assert_eq!(jittered(1000, 0.0), 900);
        assert_eq!(jittered(1000, 0.5), 1000);
        assert!(jittered(1000, 0.999_999) <= 1100);
        assert_eq!(jittered(1000, f64::NAN), 1000);
        let delays: std::collections::BTreeSet<u64> = (0..100).map(|i| jittered(180_000, i as f64 / 100.0)).collect();
        assert!(delays.len() > 90, "sessions would refresh in lockstep");
    }

    #[test]
    fn custom_interval_is_used_and_rearmed_after_each_refresh() {
        let mut s = Session::new("s".into(), true, None);
        assert_eq!(s.keep_alive(Some(2000), false, 0.5), Some(2000));
        assert!(s.timer_fired());
        assert_eq!(s.refresh_succeeded(2000, 0.0), Some(1800));
        assert_eq!(s.last_refreshed_at, Some(2000));
    }

    #[test]
    fn single_flight_manual_refresh_joins_the_keep_alive_one() {
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(1000), false, 0.5);
        assert!(s.timer_fired());
        assert_eq!(s.begin_refresh(), Begin::Join);
        assert!(!s.timer_fired(), "a second refresh must not start");
        s.refresh_succeeded(1000, 0.5);
        assert_eq!(s.begin_refresh(), Begin::Start);
        assert_eq!(s.begin_refresh(), Begin::Join);
    }

    #[test]
    fn recreatable_error_recreates_only_when_asked() {
        let e = graph_error(404, "itemNotFound", Some("invalidSessionReCreatable"));
        let mut s = Session::new("old".into(), false, None);
        s.keep_alive(Some(1000), true, 0.5);
        assert!(s.timer_fired());
        assert_eq!(
            s.refresh_failed(&s.id.clone(), classify(&e, false, true), 0.5),
            AfterFailure::Recreate
        );
        // The refresh's turn goes on with the one recreation of the line.
        assert_eq!(s.begin_recreate("old", false), BeginRecreate::Start);
        assert!(s.in_flight());
        assert_eq!(s.timer_fired_at(99, 0.5), Fire::Nothing, "keep-alive waits for it");
        // A refresh() called now takes its turn after it, on the new id.
        assert_eq!(s.begin_refresh(), Begin::Start);
        let (previous, state_lost, rearm) = s.recreated("new".into(), false, 5000, 0.5);
        assert_eq!((previous.as_str(), state_lost, rearm), ("old", true, Some(1000)));
        assert_eq!(s.id, "new");
        assert_eq!(s.state, State::Active);

        let mut p = Session::new("old".into(), true, None);
        p.keep_alive(Some(1000), true, 0.5);
        assert!(p.timer_fired());
        p.refresh_failed(&p.id.clone(), Failure::Recreatable, 0.5);
        assert!(
            !p.recreated("new".into(), true, 1, 0.5).1,
            "persistent sessions keep their state"
        );

        let mut n = Session::new("old".into(), true, None);
        n.keep_alive(Some(1000), false, 0.5);
        assert!(n.timer_fired());
        assert_eq!(
            n.refresh_failed(&n.id.clone(), classify(&e, false, true), 0.5),
            AfterFailure::Lost
        );
        assert_eq!(n.state, State::Lost);
        assert_eq!(n.keep_alive, None);
        assert!(!n.timer_fired());
        assert_eq!(n.begin_refresh(), Begin::Refuse(State::Lost));
    }

    /// The model test's "lost, but the new id is alive": a refresh on `old`
    /// without recreation of its own is answered "gone" after a concurrent
    /// fetch's recreation replaced `old` (or while it replaces it). The
    /// session is not lost: the refresh's turn finds or joins the replacement.
    #[test]
    fn a_refresh_answered_gone_after_another_request_replaced_the_id_does_not_lose_it() {
        // Replaced before the refresh's answer came.
        let mut s = Session::new("old".into(), false, None);
        assert_eq!(s.begin_refresh(), Begin::Start);
        assert_eq!(s.begin_recreate("old", false), BeginRecreate::Start);
        s.recreated("new".into(), false, 10, 0.5);
        assert_eq!(
            s.refresh_failed("old", Failure::Recreatable, 0.5),
            AfterFailure::Recreate
        );
        assert_eq!(s.begin_recreate("old", false), BeginRecreate::Replaced);
        assert_eq!((s.state, s.id.as_str()), (State::Active, "new"));
        assert_eq!(s.begin_refresh(), Begin::Start, "the refresh is over");

        // Being replaced when the answer came: joined, and gone() is no loss either.
        let mut r = Session::new("old".into(), false, None);
        assert_eq!(r.begin_refresh(), Begin::Start);
        assert_eq!(r.begin_recreate("old", false), BeginRecreate::Start);
        assert_eq!(r.refresh_failed("old", Failure::Gone, 0.5), AfterFailure::Recreate);
        assert_eq!(r.begin_recreate("old", false), BeginRecreate::Join);
        assert!(!r.gone("old"), "a recreation under way replaces it");
        r.recreated("new".into(), false, 10, 0.5);
        assert_eq!((r.state, r.id.as_str()), (State::Active, "new"));

        // The current id, nothing replacing it: lost, as before.
        let mut n = Session::new("old".into(), false, None);
        assert_eq!(n.begin_refresh(), Begin::Start);
        assert_eq!(n.refresh_failed("old", Failure::Recreatable, 0.5), AfterFailure::Lost);
        assert_eq!(n.state, State::Lost);
        // Not a "gone" failure: the replaced id changes nothing.
        let mut t = Session::new("new".into(), false, None);
        t.keep_alive(Some(1000), false, 0.5);
        assert!(t.timer_fired());
        assert!(matches!(
            t.refresh_failed("old", Failure::Transient { cooldown_ms: None }, 0.5),
            AfterFailure::RetryIn(_)
        ));
    }

    #[test]
    fn failed_recreation_loses_the_session() {
        let mut s = Session::new("old".into(), true, None);
        s.keep_alive(Some(1000), true, 0.5);
        assert!(s.timer_fired());
        s.refresh_failed(&s.id.clone(), Failure::Recreatable, 0.5);
        assert_eq!(s.begin_recreate("old", false), BeginRecreate::Start);
        s.recreate_failed();
        assert_eq!(s.state, State::Lost);
        assert!(!s.in_flight());
    }

    #[test]
    fn errors_without_a_documented_second_level_code_are_classified_by_code_and_status() {
        let cases = [
            (
                graph_error(404, "itemNotFound", Some("invalidSessionReCreatable")),
                Failure::Recreatable,
            ),
            (
                graph_error(400, "badRequest", Some("invalidSessionNotFound")),
                Failure::Gone,
            ),
            (
                graph_error(403, "accessDenied", Some("invalidSessionAccessDenied")),
                Failure::Gone,
            ),
            // An expired session's plain 404 (resources/excel.md), and a 503
            // without a listed code (workbook-error-handling.md, special
            // cases): recreated when keep-alive recreates.
            (graph_error(404, "itemNotFound", None), Failure::Recreatable),
            (
                graph_error(429, "tooManyRequests", None),
                Failure::Transient { cooldown_ms: None },
            ),
            (graph_error(503, "serviceNotAvailable", None), Failure::Recreatable),
            (graph_error(502, "badGateway", None), Failure::Recreatable),
            (
                graph_error(500, "generalException", None),
                Failure::Transient { cooldown_ms: None },
            ),
            (
                Error::local(Code::Network, &[]),
                Failure::Transient { cooldown_ms: None },
            ),
            (
                Error::local(Code::Timeout, &[]),
                Failure::Transient { cooldown_ms: None },
            ),
            (graph_error(401, "InvalidAuthenticationToken", None), Failure::Fatal),
            (graph_error(400, "invalidRequest", None), Failure::Fatal),
            (Error::local(Code::Aborted, &[]), Failure::Aborted),
            (
                Error::local(Code::TokenProvider, &[]),
                Failure::Transient { cooldown_ms: None },
            ),
        ];
        for (e, want) in cases {
            assert_eq!(classify(&e, false, true), want, "{e:?}");
        }
        // Without recreation: the special cases fall back to the codes and statuses.
        for (e, want) in [
            (graph_error(404, "itemNotFound", None), Failure::Gone),
            (
                graph_error(404, "itemNotFound", Some("invalidSessionReCreatable")),
                Failure::Gone,
            ),
            (
                graph_error(503, "serviceNotAvailable", None),
                Failure::Transient { cooldown_ms: None },
            ),
            (
                graph_error(502, "badGateway", None),
                Failure::Transient { cooldown_ms: None },
            ),
            (
                graph_error(500, "internalServerError", Some("internalServerErrorUncategorized")),
                Failure::Gone,
            ),
        ] {
            assert_eq!(classify(&e, false, false), want, "{e:?}");
        }
    }

    #[test]
    fn a_401_is_transient_only_with_a_renewable_token() {
        let unauthorized = graph_error(401, "InvalidAuthenticationToken", None);
        let transient = Failure::Transient { cooldown_ms: None };
        for (e, renewable, want) in [
            (unauthorized.clone(), true, transient),
            (unauthorized, false, Failure::Fatal),
            (graph_error(403, "accessDenied", None), true, Failure::Fatal),
            (
                graph_error(404, "itemNotFound", Some("invalidSessionReCreatable")),
                true,
                Failure::Recreatable,
            ),
            (
                graph_error(503, "serviceUnavailable", Some("serviceUnavailableUncategorized")),
                false,
                transient,
            ),
        ] {
            assert_eq!(classify(&e, renewable, true), want, "{e:?} {renewable}");
        }
    }

    #[test]
    fn errors_are_classified_by_the_excel_policy_at_the_second_level() {
        let dead = [
            "invalidSessionAccessConflict",
            "InvalidSessionAuthentication",
            "invalidSessionNotFound",
            "invalidSessionRestricted",
            "INVALIDSESSIONUNEXPECTED",
            "invalidSessionUnsupportedWorkbook",
        ];
        for code in dead {
            assert_eq!(
                classify(&graph_error(400, "badRequest", Some(code)), false, true),
                Failure::Gone,
                "{code}"
            );
            assert_eq!(
                classify(&graph_error(503, "x", Some(code)), false, true),
                Failure::Gone,
                "{code}"
            );
        }
        for (e, want) in [
            (
                graph_error(404, "ItemNotFound", Some("InvalidSessionReCreatable")),
                Failure::Recreatable,
            ),
            (
                graph_error(500, "internalServerError", Some("internalServerErrorUncategorized")),
                Failure::Recreatable,
            ),
            (graph_error(409, "conflict", Some("accessConflict")), Failure::Fatal),
            (
                graph_error(500, "internalServerError", Some("generalException")),
                Failure::Fatal,
            ),
            (graph_error(404, "itemNotFound", Some("itemNotFound")), Failure::Gone),
            (
                graph_error(429, "tooManyRequests", Some("tooManyRequestsUncategorized"))
                    .with_retry_after_ms(Some(9000)),
                Failure::Transient {
                    cooldown_ms: Some(9000),
                },
            ),
            (
                graph_error(409, "x", Some("transientFailure")),
                Failure::Transient { cooldown_ms: None },
            ),
            // An undocumented second level on a 502/503: the special case,
            // recreated (workbook-error-handling.md); on a 500, tried again later.
            (
                graph_error(502, "badGateway", Some("somethingNew")),
                Failure::Recreatable,
            ),
            (
                graph_error(500, "internalServerError", Some("somethingNew")),
                Failure::Transient { cooldown_ms: None },
            ),
        ] {
            assert_eq!(classify(&e, false, true), want, "{e:?}");
        }
    }

    #[test]
    fn internal_server_error_uncategorized_ends_the_session_or_recreates_it_once() {
        let e = graph_error(500, "internalServerError", Some("internalServerErrorUncategorized"));
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(1000), false, 0.5);
        assert!(s.timer_fired());
        assert_eq!(
            s.refresh_failed(&s.id.clone(), classify(&e, false, true), 0.5),
            AfterFailure::Lost
        );
        assert_eq!(s.state, State::Lost);
        let mut r = Session::new("s".into(), true, None);
        r.keep_alive(Some(1000), true, 0.5);
        assert!(r.timer_fired());
        assert_eq!(
            r.refresh_failed(&r.id.clone(), classify(&e, false, true), 0.5),
            AfterFailure::Recreate
        );
        r.recreate_failed();
        assert_eq!(r.state, State::Lost, "one recreation, then lost");
    }

    #[test]
    fn keep_alive_waits_out_graphs_cooldown() {
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(180_000), false, 0.5);
        assert!(s.timer_fired());
        // Shorter than the backoff: the backoff.
        let short = Failure::Transient {
            cooldown_ms: Some(1_000),
        };
        assert_eq!(
            s.refresh_failed(&s.id.clone(), short, 0.5),
            AfterFailure::RetryIn(45_000)
        );
        assert!(s.timer_fired());
        // Longer: the cooldown, whole (600 s, past the interval itself).
        let long = Failure::Transient {
            cooldown_ms: Some(600_000),
        };
        assert_eq!(
            s.refresh_failed(&s.id.clone(), long, 0.0),
            AfterFailure::RetryIn(600_000)
        );
        let e = graph_error(429, "tooManyRequests", Some("tooManyRequestsUncategorized"))
            .with_retry_after_ms(Some(120_000));
        assert!(s.timer_fired());
        assert_eq!(
            s.refresh_failed(&s.id.clone(), classify(&e, false, true), 0.99),
            AfterFailure::RetryIn(120_000)
        );
    }

    #[test]
    fn non_recoverable_errors_never_loop() {
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(1000), true, 0.5);
        assert!(s.timer_fired());
        assert_eq!(s.refresh_failed(&s.id.clone(), Failure::Fatal, 0.5), AfterFailure::Halt);
        assert_eq!(s.keep_alive, None);
        assert!(!s.timer_fired());
        assert_eq!(
            s.state,
            State::Active,
            "the session may still be valid; the caller decides"
        );
    }

    #[test]
    fn transient_errors_retry_sooner_but_never_spin() {
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(180_000), false, 0.5);
        assert!(s.timer_fired());
        match s.refresh_failed(&s.id.clone(), Failure::Transient { cooldown_ms: None }, 0.5) {
            AfterFailure::RetryIn(ms) => assert_eq!(ms, 45_000),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.state, State::Active);
        let mut tiny = Session::new("s".into(), true, None);
        tiny.keep_alive(Some(60), false, 0.5);
        assert!(tiny.timer_fired());
        assert_eq!(
            tiny.refresh_failed(&tiny.id.clone(), Failure::Transient { cooldown_ms: None }, 0.5),
            AfterFailure::RetryIn(MIN_INTERVAL_MS)
        );
        let mut manual = Session::new("s".into(), true, None);
        assert_eq!(manual.begin_refresh(), Begin::Start);
        assert_eq!(
            manual.refresh_failed(&manual.id.clone(), Failure::Transient { cooldown_ms: None }, 0.5),
            AfterFailure::Halt
        );
    }

    #[test]
    fn a_close_retry_that_finds_the_session_gone_has_closed_it() {
        let e = graph_error(404, "itemNotFound", Some("invalidSessionReCreatable"));
        assert!(!close_already_done(&e), "a first attempt's 404 is an expired session");
        assert!(close_already_done(&e.with_attempts(2)));
        let plain = graph_error(404, "itemNotFound", None).with_attempts(2);
        assert!(close_already_done(&plain), "an expired session answers a plain 404 too");
        let other = graph_error(404, "itemNotFound", Some("itemNotFound")).with_attempts(2);
        assert!(!close_already_done(&other));
        let throttled = graph_error(429, "tooManyRequests", None).with_attempts(4);
        assert!(!close_already_done(&throttled));
    }

    #[test]
    fn stop_and_close_are_idempotent() {
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(1000), false, 0.5);
        s.stop();
        s.stop();
        assert!(!s.timer_fired());
        assert!(s.close(), "first close sends closeSession");
        assert!(!s.close(), "second close sends nothing");
        assert_eq!(s.state, State::Closed);
        assert_eq!(s.keep_alive(Some(1000), false, 0.5), None);
        assert_eq!(s.begin_refresh(), Begin::Refuse(State::Closed));
        let mut lost = Session::new("s".into(), true, None);
        lost.begin_refresh();
        lost.refresh_failed(&lost.id.clone(), Failure::Gone, 0.5);
        assert!(!lost.close(), "a lost session needs no closeSession");
    }

    #[test]
    fn a_refresh_landing_after_close_changes_nothing() {
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(1000), true, 0.5);
        assert!(s.timer_fired());
        s.close();
        assert_eq!(s.refresh_succeeded(99, 0.5), None);
        assert_eq!(s.state, State::Closed);
        assert_eq!(
            s.refresh_failed(&s.id.clone(), Failure::Recreatable, 0.5),
            AfterFailure::Halt
        );
    }

    #[test]
    fn token_provider_failures_are_transient_during_keep_alive() {
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(1000), false, 0.5);
        assert!(s.timer_fired());
        let e = Error::local(Code::TokenProvider, &[]);
        let after = s.refresh_failed(&s.id.clone(), classify(&e, false, true), 0.5);
        assert_eq!(after, AfterFailure::RetryIn(250));
        assert_eq!(after.next_try(), Some((true, Some(250))));
        assert_eq!(s.state, State::Active);
        assert!(s.keep_alive.is_some(), "a token outage does not stop keep-alive");
        let timeout = Error::local(Code::Timeout, &[]);
        assert!(s.timer_fired());
        assert!(matches!(
            s.refresh_failed(&s.id.clone(), classify(&timeout, false, true), 0.5),
            AfterFailure::RetryIn(_)
        ));
    }

    #[test]
    fn an_aborted_refresh_resumes_keep_alive_silently() {
        let mut s = Session::new("s".into(), true, None);
        s.keep_alive(Some(1000), false, 0.5);
        assert_eq!(s.begin_refresh(), Begin::Start);
        let after = s.refresh_failed(
            &s.id.clone(),
            classify(&Error::local(Code::Aborted, &[]), false, true),
            0.5,
        );
        assert_eq!(after, AfterFailure::Resume(250));
        assert_eq!(after.next_try(), None, "no onError for an abort");
        assert!(s.keep_alive.is_some());
        let mut manual = Session::new("s".into(), true, None);
        manual.begin_refresh();
        assert_eq!(
            manual.refresh_failed(&manual.id.clone(), Failure::Aborted, 0.5),
            AfterFailure::Halt
        );
        assert_eq!(AfterFailure::Halt.next_try(), Some((false, None)));
    }

    #[test]
    fn a_recreation_finishing_after_close_keeps_the_new_id_for_close_to_end() {
        let mut s = Session::new("old".into(), true, None);
        s.keep_alive(Some(1000), true, 0.5);
        assert!(s.timer_fired());
        assert_eq!(
            s.refresh_failed(&s.id.clone(), Failure::Recreatable, 0.5),
            AfterFailure::Recreate
        );
        assert!(s.close());
        let (previous, _, rearm) = s.recreated("new".into(), true, 9, 0.5);
        assert_eq!((previous.as_str(), rearm), ("old", None));
        assert_eq!(s.id, "new", "close() closes the session just created");
        assert_eq!(s.state, State::Closed);
    }

    #[test]
    fn activity_skips_refreshes_the_session_does_not_need() {
        // (last refresh, last activity, timer fires at, what it means); interval 1000, no jitter (random 0.5).
        let table: &[(Option<u64>, Option<u64>, u64, Fire)] = &[
            (Some(0), None, 1000, Fire::Refresh),
            (Some(0), Some(900), 1000, Fire::Wait(900)),
            (Some(0), Some(999), 1000, Fire::Wait(999)),
            (Some(0), Some(980), 1950, Fire::Wait(50)),
            (Some(0), Some(900), 1900, Fire::Refresh),
            (Some(0), Some(900), 2500, Fire::Refresh),
            // A refresh after the activity is the newer proof of life: the normal schedule.
            (Some(950), Some(900), 1950, Fire::Refresh),
            (None, Some(500), 1000, Fire::Wait(500)),
            (None, None, 1000, Fire::Refresh),
        ];
        for &(refreshed, active, now, want) in table {
            let mut s = Session::new("s".into(), true, refreshed);
            s.keep_alive(Some(1000), false, 0.5);
            if let Some(a) = active {
                s.activity(a);
            }
            assert_eq!(s.timer_fired_at(now, 0.5), want, "{refreshed:?} {active:?} {now}");
            assert_eq!(s.in_flight(), want == Fire::Refresh);
        }
        // Not active, keep-alive off, or a refresh in flight: nothing.
        let mut s = Session::new("s".into(), true, Some(0));
        assert_eq!(s.timer_fired_at(5000, 0.5), Fire::Nothing);
        s.keep_alive(Some(1000), false, 0.5);
        assert_eq!(s.begin_refresh(), Begin::Start);
        assert_eq!(s.timer_fired_at(5000, 0.5), Fire::Nothing);
        s.close();
        s.activity(6000);
        assert_eq!(s.last_activity_at, None);
        assert_eq!(s.timer_fired_at(7000, 0.5), Fire::Nothing);
    }

    #[test]
    fn steady_activity_means_no_refresh_and_never_a_long_idle_gap() {
        // A caller using the session every 700 ms: keep-alive (1000 ms) never refreshes;
        // once the caller stops, refreshes resume within one interval.
        let mut s = Session::new("s".into(), true, Some(0));
        let mut timer = s.keep_alive(Some(1000), false, 0.0).unwrap();
        let mut refreshes = Vec::new();
        let mut last_proof = 0u64;
        let mut now = 0u64;
        let mut next_use = 700u64;
        while now < 20_000 {
            now = timer.min(next_use);
            if now == next_use {
                if now < 10_000 {
                    s.activity(now);
                    last_proof = now;
                }
                next_use += 700;
                continue;
            }
            match s.timer_fired_at(now, 0.0) {
                Fire::Refresh => {
                    refreshes.push(now);
                    assert!(now - last_proof <= 1000, "idle {} ms at {now}", now - last_proof);
                    last_proof = now;
                    timer = now + s.refresh_succeeded(now, 0.0).unwrap();
                }
                Fire::Wait(ms) => timer = now + ms,
                Fire::Nothing => unreachable!(),
            }
        }
        assert!(refreshes.iter().all(|&t| t > 10_000), "{refreshes:?}");
        assert!(refreshes.len() >= 9, "{refreshes:?}");
    }

    #[test]
    fn a_fetch_recreation_starts_once_and_joins_or_follows_others() {
        let mut s = Session::new("s1".into(), true, Some(0));
        assert_eq!(s.begin_recreate("s1", false), BeginRecreate::Start);
        assert_eq!(s.begin_recreate("s1", false), BeginRecreate::Join);
        // A refresh() is not the recreation: it takes its own turn.
        assert_eq!(s.begin_refresh(), Begin::Start);
        assert_eq!(s.begin_recreate("s1", false), BeginRecreate::Join);
        s.recreated("s2".into(), true, 10, 0.5);
        assert_eq!(s.begin_recreate("s1", false), BeginRecreate::Replaced);
        assert_eq!(s.begin_recreate("s2", false), BeginRecreate::Start);
        s.recreate_failed();
        assert_eq!(s.begin_recreate("s2", true), BeginRecreate::Refuse(State::Lost));
    }

    #[test]
    fn a_gone_session_turns_lost_once_and_only_for_its_current_id() {
        let mut s = Session::new("a".into(), true, Some(0));
        s.keep_alive(Some(60_000), false, 0.5);
        assert!(!s.gone("old"), "an id already replaced");
        assert_eq!(s.state, State::Active);
        assert!(s.gone("a"));
        assert_eq!(s.state, State::Lost);
        assert!(s.keep_alive.is_none(), "keep-alive ends with it");
        assert!(!s.gone("a"), "once");
    }
}
