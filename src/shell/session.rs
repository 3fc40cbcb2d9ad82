//! One `WorkbookSession`'s behaviour: its tasks and their I/O. The state
//! machine, the schedule and the line are `protocol::session` and
//! `protocol::line`; each request's attempts run in the one driver
//! (`exchange::drive`); this module keeps a session's refresh (single-flight),
//! keep-alive's loop, the recreation, `session.fetch`'s step, `close()`,
//! and the turns in the session's line and its workbook's queue. The JS
//! class (`surface::session`) reads the arguments and converts the results.
//!
//! Rules this module keeps (issue 13):
//! - No `RefCell` borrow is held while JavaScript runs: callbacks are called
//!   after the state is settled and the single-flight slot cleared, so a
//!   callback may call any method (refresh, stop, close, keepAlive) again.
//! - An active keep-alive holds its session, and its JS wrapper, strongly,
//!   as `setInterval` holds its callback: garbage collection does not end
//!   it; `stop()`, `close()`, `lost` or `free()` does.
//! - The create/attach `signal` governs that call only; `refresh`, `close`
//!   and `keepAlive` take their own.
//! - `refresh()` (keep-alive's too), `session.fetch` and `close()` take
//!   their turns in the session's line ([`Line`]), in call order; a
//!   recreation runs within the turn of the request that found the session
//!   gone (never waiting for a turn), so that a request queued behind it
//!   cannot hold it up. `close()` goes after the requests ahead of it, so
//!   that a recreation finishing late is closed too; no callback fires
//!   after `close()`.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use js_sys::{Function, JsString, Object, Promise, WeakRef};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::abort::{aborted, bound_abort, caller_aborted, deferred, race_abort, sleep, AbortLink, Signal};
use super::action::{session_action, InLine, Refreshed, SessionAction};
use super::create::{create_session, CreateParams};
use super::events::notify;
use super::exchange::{drive, listener, with_call, LineCell, Sent, Step, StepFuture};
use super::fetch::NoAnswer;
use super::order::{self, queue_for, WorkbookQueue};
use super::sys::{
    fresh_client_request_id, in_workerd, json_parse, now_ms, random, set, set_str, AbortController, AbortSignal,
    Response,
};
use super::task::{spawn, to_promise};
use super::timers::sleep_or_stop;
use super::token::TokenSource;
use super::workbook_fetch::{session_request_init, FetchInit, Outgoing};
use crate::protocol::attempts::Attempts;
use crate::protocol::error::{Code, Error};
use crate::protocol::line::{Line, Ticket};
use crate::protocol::request::Request;
use crate::protocol::session::{classify, AfterFailure, Begin, BeginRecreate, Fire, Session, State};
use crate::protocol::validate::Call;
use crate::protocol::workbook_request::target_url;

/// How results and errors become JS values: the surface's conversions,
/// handed in, for the callbacks and the promises a session's tasks settle.
pub struct Convert {
    /// The `GraphError` of an error, its message prefixed with the operation.
    pub error: fn(&Error, &str) -> JsValue,
    /// A refresh's or close's result.
    pub refreshed: fn(&Refreshed) -> JsValue,
}

/// keepAlive's callbacks.
#[derive(Default)]
pub struct Callbacks {
    pub on_refresh: Option<Function>,
    pub on_error: Option<Function>,
    pub on_lost: Option<Function>,
    pub on_recreated: Option<Function>,
}

/// The refresh in line (waiting for its turn, or sent).
struct InFlight {
    /// Its promise, for callers who join it.
    promise: Promise,
    /// Ends its refresh stage (token, refreshSession); not a recreation,
    /// whose createSession may already have reached Graph.
    abort: Option<AbortController>,
    /// Started by the keep-alive timer: `stop()` ends it too.
    by_keep_alive: bool,
}

/// One session's state, shared by its JS object and its tasks.
pub struct Inner {
    pub machine: Session,
    pub call: Call,
    /// `workbook` as the caller gave it (unencoded), for `toJSON()`.
    pub workbook: String,
    fixed_client_request_id: bool,
    token: TokenSource,
    create: CreateParams,
    callbacks: Callbacks,
    in_flight: Option<InFlight>,
    /// The recreation under way ([`Session::begin_recreate`]): requests
    /// that find the session gone meanwhile wait for it.
    recreation: Option<Promise>,
    /// When the loop should wake next, set by each finished refresh.
    rearm: Option<u64>,
    /// Aborting it ends the current keep-alive loop's sleep.
    keep_alive_stop: Option<AbortController>,
    /// The JS object wrapping this session, held weakly; keep-alive holds it
    /// strongly while it runs, so that the wrapper is not collected (and the
    /// session freed) under it.
    pub wrapper: Option<WeakRef>,
    /// The workbook's queue, shared with every session of this instance on
    /// the same workbook (`shell::order`): the requests in line go one at a
    /// time across all of them (Graph's best practice: one request at a time
    /// per workbook, the next after the current one answered).
    queue: WorkbookQueue,
    /// The session's line ([`Line`]: its decisions): the requests in it,
    /// and a cooldown from any answer on this session, which holds every
    /// request carrying its id (keep-alive, refresh, fetch, the recreation,
    /// close) until it passes.
    line: Rc<LineCell>,
    /// The turn `SessionPool` holds while the session's refresh is out in
    /// one of its `$batch` requests ([`claim_line`]).
    pool_turn: Option<Turn>,
    /// `close()` was called: the calls made after it are refused at once,
    /// before its task has run.
    close_called: bool,
    /// The surface's conversions, for the callbacks and shared promises.
    convert: &'static Convert,
}

impl Inner {
    /// The call for one request: a fresh `client-request-id` unless the
    /// caller fixed one.
    fn request_call(&self) -> Call {
        let mut call = self.call.clone();
        if !self.fixed_client_request_id {
            call.client_request_id = fresh_client_request_id();
        }
        call
    }

    /// Stops keep-alive and forgets its callbacks; returns what the caller
    /// must abort once the borrow is released (the loop's sleep, and the
    /// keep-alive's own refresh stage).
    pub fn stop_keep_alive(&mut self) -> Vec<AbortController> {
        self.machine.stop();
        self.callbacks = Callbacks::default();
        let mut out: Vec<AbortController> = self.keep_alive_stop.take().into_iter().collect();
        if let Some(f) = self.in_flight.as_mut().filter(|f| f.by_keep_alive) {
            out.extend(f.abort.take());
        }
        out
    }
}

pub fn abort_all(controllers: Vec<AbortController>) {
    for c in controllers {
        c.abort();
    }
}

/// A call refused because the session is `state` (lost or closed).
fn state_error(state: State) -> Error {
    Error::local(
        Code::InvalidArgument,
        &["the session is ", state.as_str(), "; create or attach a new one"],
    )
}

/// A new session's state: `machine` on `call`'s workbook, in its
/// workbook's queue (`shell::order`).
pub fn new_inner(
    machine: Session,
    workbook: String,
    call: Call,
    fixed_client_request_id: bool,
    token: TokenSource,
    mut create: CreateParams,
    convert: &'static Convert,
) -> Rc<RefCell<Inner>> {
    create.persist_changes = machine.persist_changes;
    // In workerd a request or Durable Object that ends leaves its promises
    // unsettled for good: a request of it in a shared queue would hold the
    // workbook for every later session of the isolate (a Durable Object
    // restarted during its refresh hung the next one). There, each session
    // orders only its own requests.
    let queue = match in_workerd() {
        true => WorkbookQueue::default(),
        false => queue_for(&call.base.origin, &call.workbook),
    };
    Rc::new(RefCell::new(Inner {
        machine,
        call,
        workbook,
        fixed_client_request_id,
        token,
        create,
        callbacks: Callbacks::default(),
        in_flight: None,
        recreation: None,
        rearm: None,
        keep_alive_stop: None,
        wrapper: None,
        queue,
        line: Rc::new(Cell::new(Line::default())),
        pool_turn: None,
        close_called: false,
        convert,
    }))
}

/// `refresh()`: starts a refresh in the session's line, or joins the one
/// in line; the joiner's `signal` ends its own wait, not the shared refresh.
pub fn refresh(rc: &Rc<RefCell<Inner>>, signal: Option<Signal>) -> Promise {
    let error = rc.borrow().convert.error;
    if caller_aborted(signal.as_deref()) {
        let e = with_call(aborted(0), &rc.borrow().call, "");
        return Promise::reject(&error(&e, "WorkbookSession.refresh"));
    }
    let close_called = rc.borrow().close_called;
    let begin = match close_called {
        true => Begin::Refuse(State::Closed),
        false => rc.borrow_mut().machine.begin_refresh(),
    };
    let joined = match begin {
        Begin::Start => return start_refresh(rc, signal, false),
        Begin::Join => rc.borrow().in_flight.as_ref().map(|f| f.promise.clone()),
        Begin::Refuse(state) => {
            let e = state_error(state);
            return Promise::reject(&error(&e, "WorkbookSession.refresh"));
        }
    };
    let Some(joined) = joined else {
        // The machine says in flight but no promise is recorded: the
        // keep-alive timer has just claimed it; start it here instead.
        return start_refresh(rc, signal, false);
    };
    match signal {
        None => joined,
        Some(signal) => {
            let call = rc.borrow().call.clone();
            to_promise(Box::pin(async move {
                match race_abort(joined, Some(&*signal)).await {
                    Ok(v) => Ok(v),
                    Err(Some(e)) => Err(e),
                    Err(None) => Err(error(&with_call(aborted(0), &call, ""), "WorkbookSession.refresh")),
                }
            }))
        }
    }
}

/// `close()`: refuses the calls made after it at once (`refresh()`,
/// `keepAlive()`; a `session.fetch` finds it in the line), then, in call
/// order with the calls made before it, stops keep-alive, ends a refresh
/// in line, and takes the next turn in the line, after the requests ahead
/// of it. Resolves to its result, or `null` when there was nothing to
/// close.
pub fn close(rc: Rc<RefCell<Inner>>, signal: Option<Signal>) -> Promise {
    rc.borrow_mut().close_called = true;
    to_promise(Box::pin(close_task(rc, signal)))
}

async fn close_task(rc: Rc<RefCell<Inner>>, signal: Option<Signal>) -> Result<JsValue, JsValue> {
    let started = now_ms();
    let (send, stop) = {
        let mut inner = rc.borrow_mut();
        let mut stop = inner.stop_keep_alive();
        if let Some(f) = inner.in_flight.as_mut() {
            stop.extend(f.abort.take());
        }
        (inner.machine.close(), stop)
    };
    // Joined before anything runs JavaScript: call order.
    let turn = send.then(|| join_line(&rc, true));
    abort_all(stop);
    let Some((previous, _turn)) = turn else {
        return Ok(JsValue::NULL);
    };
    let call = rc.borrow().request_call();
    let run = async {
        // The requests ahead end first (a recreation among them
        // too: its new session is the one to close).
        wait_turn(&rc, previous, signal.as_deref()).await?;
        let (token, id, line) = {
            let inner = rc.borrow();
            (inner.token.clone(), inner.machine.id.clone(), inner.line.clone())
        };
        let url = Request::close_session(&call, &id).url;
        let token = token.resolve(&url, signal.as_deref(), call.timeout_ms).await?;
        let in_line = InLine {
            line: Some(&line),
            can_recreate: false,
        };
        session_action(
            SessionAction::Close,
            &call,
            &id,
            &token,
            signal.as_deref(),
            started,
            in_line,
        )
        .await
        .map_err(Error::from)
    };
    let convert = rc.borrow().convert;
    run.await
        .map(|r| (convert.refreshed)(&r))
        .map_err(|e| (convert.error)(&with_call(e, &call, ""), "WorkbookSession.close"))
}

/// keepAlive's settings, read: `intervalMs`, `recreate`, the callbacks.
pub struct KeepAlive {
    pub interval: Option<u64>,
    pub recreate: bool,
    pub callbacks: Callbacks,
}

/// `keepAlive()`: replaces the keep-alive running (if any) and starts
/// `settings`' (nothing starts when `signal` has aborted, as
/// `addEventListener` with an aborted signal).
pub fn keep_alive(rc: &Rc<RefCell<Inner>>, settings: KeepAlive, signal: Option<Signal>) -> Result<(), Error> {
    let start = || {
        let stop = AbortController::new()
            .map_err(|_| Error::local(Code::InvalidArgument, &["AbortController is not available"]))?;
        let mut inner = rc.borrow_mut();
        if inner.close_called {
            return Err(state_error(State::Closed));
        }
        let old = inner.stop_keep_alive();
        if caller_aborted(signal.as_deref()) {
            return Ok::<_, Error>((old, None));
        }
        let delay = match inner.machine.keep_alive(settings.interval, settings.recreate, random()) {
            Some(d) => d,
            None => {
                let e = state_error(inner.machine.state);
                drop(inner);
                abort_all(old);
                return Err(e);
            }
        };
        let stop_signal = stop.signal();
        inner.keep_alive_stop = Some(stop.clone());
        inner.callbacks = settings.callbacks;
        let hold = inner.wrapper.as_ref().and_then(|w| w.deref()).map(JsValue::from);
        Ok((old, Some((delay, stop, stop_signal, hold))))
    };
    let (old, started) = start()?;
    abort_all(old);
    if let Some((delay, stop, stop_signal, hold)) = started {
        spawn(Box::pin(keep_alive_loop(
            rc.clone(),
            hold,
            delay,
            stop,
            stop_signal,
            signal,
        )));
    }
    Ok(())
}

/// `stop()`: ends keep-alive and a refresh it has in flight.
pub fn stop(rc: &Rc<RefCell<Inner>>) {
    let stop = rc.borrow_mut().stop_keep_alive();
    abort_all(stop);
}

/// `free()` or garbage collection of the JS object: ends keep-alive.
pub fn dropped(rc: &Rc<RefCell<Inner>>) {
    let stop = match rc.try_borrow_mut() {
        Ok(mut inner) => {
            inner.wrapper = None;
            inner.stop_keep_alive()
        }
        Err(_) => Vec::new(),
    };
    abort_all(stop);
}

/// `SessionPool` takes the session's line for a refresh it sends in a
/// `$batch`: only when the session is active, no refresh or recreation is
/// under way, its line is empty, not closing and not cooling down
/// ([`Line::claimable`]), and no request is in line on its workbook
/// (`shell::order`). `false` leaves the refresh to the session's own
/// `refresh()`, which waits its turn.
pub fn claim_line(rc: &Rc<RefCell<Inner>>) -> bool {
    let free = match rc.try_borrow() {
        Ok(inner) => {
            inner.machine.state == State::Active
                && inner.in_flight.is_none()
                && inner.recreation.is_none()
                && inner.pool_turn.is_none()
                && inner.line.get().claimable(now_ms() as u64)
                && order::idle(&inner.queue, now_ms() as u64)
        }
        Err(_) => false,
    };
    if !free {
        return false;
    }
    let (_, (turn, _)) = join_line(rc, false);
    rc.borrow_mut().pool_turn = Some(turn);
    true
}

/// The `$batch` answered the refresh taken with [`claim_line`];
/// `refreshed`: it succeeded; `retry_after_ms`: the item's cooldown, which
/// holds the session's line as any answer's. The requests waiting in the
/// line go on.
pub fn release_line(rc: &Rc<RefCell<Inner>>, refreshed: bool, retry_after_ms: Option<f64>) {
    let turn = {
        let Ok(mut inner) = rc.try_borrow_mut() else {
            return;
        };
        let now = now_ms() as u64;
        let cooldown = retry_after_ms
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| ms as u64);
        inner.line.set(inner.line.get().hold(now, cooldown));
        if refreshed {
            inner.machine.refreshed_at(now);
        }
        inner.pool_turn.take()
    };
    // Leaves the line and lets the next request go, no borrow held.
    drop(turn);
}

/// The body of a 2xx answer as JSON, read and parsed in JavaScript (never
/// copied into wasm memory); `null` when there is none.
pub async fn read_json(response: &Response) -> Result<JsValue, Error> {
    if matches!(response.status(), 204 | 205) {
        return Ok(JsValue::NULL);
    }
    let unreadable = |_| Error::local(Code::Network, &["the answer's body could not be read"]);
    let text = response.text().map_err(unreadable)?;
    let text: JsString = JsFuture::from(text).await.map_err(unreadable)?.unchecked_into();
    if text.length() == 0 {
        return Ok(JsValue::NULL);
    }
    json_parse(&text).map_err(|_| Error::local(Code::InvalidResponse, &["the answer's body is not JSON"]))
}

/// A request's turn in the session's line (`session.fetch`, a refresh,
/// `close()`) and in its workbook's queue: resolves its `done` and leaves
/// both when dropped (finished, failed, aborted), so the next in line goes.
struct Turn(Option<Function>, Rc<LineCell>, WorkbookQueue);

impl Drop for Turn {
    fn drop(&mut self) {
        self.1.set(self.1.get().leave());
        order::leave(&self.2, self.1.get().until_ms);
        if let Some(done) = self.0.take() {
            let _ = done.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Joins the session's line (`close`: as `close()`, [`Line::join_close`])
/// and its workbook's queue: returns what to wait for (the end of the
/// requests ahead on the workbook, this session's or another's; nothing
/// when none is), this request's turn and its ticket. Called before the
/// request's first `await`, so that requests join in call order.
fn join_line(rc: &Rc<RefCell<Inner>>, close: bool) -> (Option<Promise>, (Turn, Ticket)) {
    let (mine, done) = deferred();
    let inner = rc.borrow();
    let line = inner.line.clone();
    let (joined, ticket) = match close {
        true => (line.get().join_close().0, None),
        false => {
            let (l, _, t) = line.get().join(false);
            (l, t)
        }
    };
    line.set(joined);
    let previous = order::join(&inner.queue, &mine);
    (previous, (Turn(done, line, inner.queue.clone()), ticket))
}

/// Waits for this request's turn (the end of `previous`), then for a
/// recreation under way beside the line (a `concurrent` fetch's), so that
/// the request re-reads the current id; `Err` when the caller aborted.
async fn wait_turn(
    rc: &Rc<RefCell<Inner>>,
    previous: Option<Promise>,
    signal: Option<&AbortSignal>,
) -> Result<(), Error> {
    if caller_aborted(signal) {
        return Err(aborted(0));
    }
    if let Some(p) = previous {
        if race_abort(p, signal).await.is_err() {
            return Err(aborted(0));
        }
    }
    loop {
        let recreation = rc.borrow().recreation.clone();
        match recreation {
            Some(p) => {
                let _ = JsFuture::from(p).await;
            }
            None => {
                take_workbook_cooldown(rc);
                return Ok(());
            }
        }
    }
}

/// The workbook's cooldown (a `Retry-After` another of its sessions got)
/// holds this session's line too, from this request's turn on.
fn take_workbook_cooldown(rc: &Rc<RefCell<Inner>>) {
    let inner = rc.borrow();
    inner
        .line
        .set(inner.line.get().hold_until(order::until_ms(&inner.queue)));
}

/// A failure of `session.fetch`, and whether the session's changes are lost.
pub type FetchError = (Error, bool);

/// The `GraphError` of a failed `session.fetch`, with `stateLost`.
pub fn fetch_error_to_js(convert: &Convert, e: &Error, state_lost: bool, operation: &str) -> JsValue {
    let js = (convert.error)(e, operation);
    set(js.unchecked_ref(), "stateLost", &JsValue::from(state_lost));
    js
}

/// Replaces the session whose id `failed_id` Graph called expired, within
/// the turn of the request that found it (`ticket`), or joins the
/// replacement under way, or finds it already replaced; `Ok` when a live
/// replacement is current. Never waits for a turn or a refresh: the
/// request asking holds its turn, and what queued behind it waits for it.
async fn recreate_for(rc: &Rc<RefCell<Inner>>, failed_id: &str, ticket: Ticket) -> Result<(), Error> {
    let admitted = || rc.borrow().line.get().admits(ticket);
    loop {
        let ok = admitted();
        let begin = rc.borrow_mut().machine.begin_recreate(failed_id, ok);
        match begin {
            BeginRecreate::Replaced => return Ok(()),
            BeginRecreate::Refuse(_) => return Err(state_error(rc.borrow().machine.state)),
            BeginRecreate::Join => {
                let joined = rc.borrow().recreation.clone();
                match joined {
                    Some(p) => {
                        let _ = JsFuture::from(p).await;
                    }
                    None => {
                        let _ = sleep(0, None).await;
                    }
                }
            }
            BeginRecreate::Start => {
                let failure: Rc<RefCell<Option<Error>>> = Rc::new(RefCell::new(None));
                let (task_rc, task_failure) = (rc.clone(), failure.clone());
                // Recorded, so that the requests finding the session gone
                // meanwhile (and close(), at its turn) wait for it.
                let promise = to_promise(Box::pin(async move {
                    let (notice, error) = recreate_or_error(&task_rc).await;
                    *task_failure.borrow_mut() = error;
                    tell(notice);
                    Ok(JsValue::UNDEFINED)
                }));
                rc.borrow_mut().recreation = Some(promise.clone());
                let _ = JsFuture::from(promise).await;
                if let Some(e) = failure.borrow_mut().take() {
                    return Err(e);
                }
                let ok = admitted();
                let inner = rc.borrow();
                return if inner.machine.may_send(ok) && inner.machine.id != failed_id {
                    Ok(())
                } else {
                    Err(state_error(inner.machine.state))
                };
            }
        }
    }
}

/// `session.fetch`'s I/O for the one driver: each attempt goes out on the
/// session's current id, and an expired session is recreated for the line.
struct FetchStep<'a> {
    rc: &'a Rc<RefCell<Inner>>,
    outgoing: &'a Outgoing,
    url: &'a str,
    call: &'a Call,
    ticket: Ticket,
    /// The id the last attempt went out on.
    id: String,
}

impl Step for FetchStep<'_> {
    fn target(&self) -> (&str, &str) {
        (self.outgoing.method.as_str(), self.url)
    }

    /// No request once the session is lost, nor once it is closed but by
    /// those that joined the line before close() (also while waiting).
    fn admit(&mut self, attempts: u32) -> Result<(), Error> {
        let inner = self.rc.borrow();
        if !inner.machine.may_send(inner.line.get().admits(self.ticket)) {
            return Err(state_error(inner.machine.state).with_attempts(attempts));
        }
        self.id.clone_from(&inner.machine.id);
        Ok(())
    }

    fn init(&self, token: &str, attempt: u32, signal: &AbortSignal) -> Result<Object, NoAnswer> {
        session_request_init(
            self.outgoing,
            token,
            &self.id,
            &self.call.client_request_id,
            attempt,
            signal,
        )
    }

    fn unread_success(&self) -> bool {
        true
    }

    fn recreate(&mut self) -> Option<StepFuture<'_, Result<(), Error>>> {
        Some(Box::pin(recreate_for(self.rc, &self.id, self.ticket)))
    }
}

/// `session.fetch`: see the JS method.
pub async fn fetch(rc: Rc<RefCell<Inner>>, path: String, init: FetchInit) -> Result<(Response, u32), FetchError> {
    let plain = |e: Error| (e, false);
    let signal = init.signal.clone();
    let (url, mut call, source, persist, keep_alive_recreate) = {
        let inner = rc.borrow();
        if inner.machine.state != State::Active {
            return Err(plain(state_error(inner.machine.state)));
        }
        let url = target_url(&inner.call.base, &inner.call.workbook, &path).map_err(plain)?;
        let recreate = inner.machine.keep_alive.is_some_and(|k| k.recreate);
        (
            url,
            inner.request_call(),
            inner.token.clone(),
            inner.machine.persist_changes,
            recreate,
        )
    };
    if let Some(id) = &init.client_request_id {
        call.client_request_id = id.clone();
    }
    let line = rc.borrow().line.clone();
    let fail = |e: Error| (with_call(e, &call, ""), false);
    if caller_aborted(signal.as_deref()) {
        return Err(fail(aborted(0)));
    }
    // One at a time, in call order, unless the caller asked otherwise.
    let (_turn, ticket) = if init.concurrent {
        (None, None)
    } else {
        let (previous, (turn, ticket)) = join_line(&rc, false);
        if let Some(p) = previous {
            if race_abort(p, signal.as_deref()).await.is_err() {
                return Err(fail(aborted(0)));
            }
        }
        (Some(turn), ticket)
    };
    // `concurrent` skips the order, never a cooldown, the workbook's neither.
    take_workbook_cooldown(&rc);
    let mut machine = Attempts::workbook_fetch(
        &init.outgoing.method,
        call.limits(),
        persist,
        init.recreate.unwrap_or(keep_alive_recreate),
        source.renews(),
    );
    let mut step = FetchStep {
        rc: &rc,
        outgoing: &init.outgoing,
        url: &url,
        call: &call,
        ticket,
        id: String::new(),
    };
    // The session's cooldown holds every request on it, this one too
    // (`concurrent` skips the order, never a cooldown).
    let driven = drive(
        &call,
        &mut machine,
        &mut step as &mut dyn Step,
        None,
        Some(&source),
        signal.as_deref(),
        Some(&line),
    )
    .await;
    match driven {
        Ok((Sent::Head(head), attempts)) => {
            rc.borrow_mut().machine.activity(now_ms() as u64);
            Ok((head.response, attempts))
        }
        // The session's step hands back a 2xx unread, and only a 2xx ends well.
        Ok((Sent::Answer(_), attempts)) => Err(fail(
            Error::local(Code::InvalidResponse, &["no usable answer"]).with_attempts(attempts),
        )),
        Err(failed) => {
            if failed.session_lost {
                let convert = rc.borrow().convert;
                let js = fetch_error_to_js(convert, &failed.error, failed.state_lost, "WorkbookSession.fetch");
                lose(&rc, &step.id, js);
            }
            Err((failed.error, failed.state_lost))
        }
    }
}

/// Session `id` may not be used again and is not replaced: it turns lost
/// (keep-alive ends), and `onEvent` and `onLost` are told, once, with no
/// borrow held.
fn lose(rc: &Rc<RefCell<Inner>>, id: &str, error: JsValue) {
    let (notice, stop) = {
        let mut inner = rc.borrow_mut();
        if !inner.machine.gone(id) {
            return;
        }
        let notice = vec![
            session_event(&inner, "lost", &[("error", error.clone())]),
            (inner.callbacks.on_lost.clone(), vec![error]),
        ];
        inner.rearm = None;
        (notice, inner.stop_keep_alive())
    };
    abort_all(stop);
    tell(notice);
}

/// Starts a refresh (the machine already said Start or the timer fired) and
/// records it for joiners. Its refresh stage ends on the starter's `signal`,
/// and on `stop()` (when keep-alive started it) or `close()`.
fn start_refresh(rc: &Rc<RefCell<Inner>>, signal: Option<Signal>, by_keep_alive: bool) -> Promise {
    // A controller of its own, keep-alive's refresh too: the link to the
    // starter's signal is dropped when the refresh's request ends, so a
    // stop() during the recreation that follows does not cut it in the
    // middle (the keep-alive's own signal, used directly, did: the model
    // test once saw a session turned lost while its new id was alive).
    let abort = AbortController::new().ok();
    let own = abort.as_ref().map(AbortController::signal);
    let link = match (&abort, &signal) {
        (Some(c), Some(s)) => bound_abort(c).ok().map(|f| AbortLink::new(Some(s), &f)),
        _ => None,
    };
    let signal = own.map(Signal::own).or(signal);
    let promise = to_promise(Box::pin(refresh_task(rc.clone(), signal, link)));
    rc.borrow_mut().in_flight = Some(InFlight {
        promise: promise.clone(),
        abort,
        by_keep_alive,
    });
    promise
}

/// What to tell once the state is settled and no borrow is held.
type Notice = Vec<(Option<Function>, Vec<JsValue>)>;

/// Tells what `notice` holds, in order; no borrow may be held.
fn tell(notice: Notice) {
    for (cb, args) in notice {
        let refs: Vec<&JsValue> = args.iter().collect();
        notify(cb, &refs);
    }
}

/// The session's `onEvent` listener and a `{ type, ...fields }` event for it.
fn session_event(inner: &Inner, kind: &str, fields: &[(&str, JsValue)]) -> (Option<Function>, Vec<JsValue>) {
    let o = Object::new();
    set_str(&o, "type", kind);
    for (k, v) in fields {
        set(&o, k, v);
    }
    (listener(&inner.call).cloned(), vec![o.into()])
}

async fn refresh_task(
    rc: Rc<RefCell<Inner>>,
    signal: Option<Signal>,
    link: Option<AbortLink>,
) -> Result<JsValue, JsValue> {
    let started = now_ms();
    // Its turn in the line, joined before the first `await` (call order).
    let (previous, (turn, ticket)) = join_line(&rc, false);
    let (call, token, line) = {
        let inner = rc.borrow();
        (inner.request_call(), inner.token.clone(), inner.line.clone())
    };
    let signal = signal.as_deref();
    let waited = wait_turn(&rc, previous, signal).await;
    // The id, and whether keep-alive recreates, as they are at its turn (a
    // request ahead may have recreated the session, or lost it).
    let (id, can_recreate, usable) = {
        let inner = rc.borrow();
        let usable = match inner.machine.may_send(false) {
            true => Ok(()),
            false => Err(state_error(inner.machine.state)),
        };
        (
            inner.machine.id.clone(),
            inner.machine.keep_alive.is_some_and(|k| k.recreate),
            usable,
        )
    };
    let run = async {
        waited?;
        usable?;
        let url = Request::refresh_session(&call, &id).url;
        let token = token.resolve(&url, signal, call.timeout_ms).await?;
        let in_line = InLine {
            line: Some(&line),
            can_recreate,
        };
        session_action(SessionAction::Refresh, &call, &id, &token, signal, started, in_line)
            .await
            .map_err(Error::from)
    };
    let result = run.await.map_err(|e| {
        // Ended by close() (its refresh stage aborted), not by a signal of
        // the caller's: say so.
        let closed = *e.code() == Code::Aborted && rc.borrow().machine.state == State::Closed;
        let e = match closed {
            true => Error::local(Code::Aborted, &["the refresh was ended by close()"]).with_attempts(e.attempts()),
            false => e,
        };
        with_call(e, &call, "")
    });
    drop(link);
    let (out, notice): (Result<JsValue, JsValue>, Notice) = match result {
        Ok(r) => {
            let mut inner = rc.borrow_mut();
            let js = (inner.convert.refreshed)(&r);
            inner.rearm = inner.machine.refresh_succeeded(now_ms() as u64, random());
            inner.in_flight = None;
            let cb = inner.callbacks.on_refresh.clone();
            (Ok(js.clone()), vec![(cb, vec![js])])
        }
        Err(e) => {
            let js = (rc.borrow().convert.error)(&e, "WorkbookSession.refresh");
            let after = {
                let mut inner = rc.borrow_mut();
                let renewable = inner.token.renews();
                let after = inner
                    .machine
                    .refresh_failed(&id, classify(&e, renewable, can_recreate), random());
                // The refresh is over: a recreation is not ended by close()
                // (its createSession may reach Graph, and close() must then
                // close its session), nor joined by a later refresh().
                inner.in_flight = None;
                after
            };
            let notice = match after {
                // Within this refresh's turn: the requests behind it go on
                // with the new id. The recreation tells its own callbacks.
                AfterFailure::Recreate => {
                    let _ = recreate_for(&rc, &id, ticket).await;
                    Vec::new()
                }
                AfterFailure::Lost => {
                    let mut inner = rc.borrow_mut();
                    inner.rearm = None;
                    vec![
                        session_event(&inner, "lost", &[("error", js.clone())]),
                        (inner.callbacks.on_lost.clone(), vec![js.clone()]),
                    ]
                }
                AfterFailure::RetryIn(_) | AfterFailure::Halt | AfterFailure::Resume(_) => {
                    let mut inner = rc.borrow_mut();
                    inner.rearm = match after {
                        AfterFailure::RetryIn(ms) | AfterFailure::Resume(ms) => Some(ms),
                        _ => None,
                    };
                    after
                        .next_try()
                        .into_iter()
                        .map(|(will_retry, retry_in)| {
                            let next = Object::new();
                            set(&next, "willRetry", &JsValue::from(will_retry));
                            set(
                                &next,
                                "retryInMs",
                                &retry_in.map_or(JsValue::NULL, |ms| JsValue::from(ms as f64)),
                            );
                            (inner.callbacks.on_error.clone(), vec![js.clone(), next.into()])
                        })
                        .collect()
                }
            };
            (Err(js), notice)
        }
    };
    // Settled: the slot is clear and no borrow is held; callbacks may re-enter.
    tell(notice);
    drop(turn);
    out
}

/// Creates the replacement session (started by [`recreate_for`]); returns
/// what to tell once settled, and createSession's error when it failed.
async fn recreate_or_error(rc: &Rc<RefCell<Inner>>) -> (Notice, Option<Error>) {
    let (call, token, params, line) = {
        let inner = rc.borrow();
        (
            inner.request_call(),
            inner.token.clone(),
            inner.create,
            inner.line.clone(),
        )
    };
    let run = async {
        let url = Request::create_session(&call, params.persist_changes, params.prefer_async).url;
        let token = token.resolve(&url, None, call.timeout_ms).await?;
        // The replacement is created on the old session's line: its cooldown holds.
        create_session(&call, params, &token, None, Some(&line)).await
    };
    let result = run.await;
    let mut inner = rc.borrow_mut();
    inner.recreation = None;
    match result {
        Ok(info) => {
            let (previous, state_lost, rearm) =
                inner
                    .machine
                    .recreated(info.id.clone(), info.persist_changes, now_ms() as u64, random());
            inner.rearm = rearm;
            if inner.machine.state != State::Active {
                // close() is in line behind and closes the new id.
                return (Vec::new(), None);
            }
            let event = Object::new();
            set(&event, "previousId", &JsValue::from_str(&previous));
            set(&event, "id", &JsValue::from_str(&info.id));
            set(&event, "stateLost", &JsValue::from(state_lost));
            let told = session_event(
                &inner,
                "recreated",
                &[
                    ("previousId", JsValue::from_str(&previous)),
                    ("id", JsValue::from_str(&info.id)),
                    ("stateLost", JsValue::from(state_lost)),
                ],
            );
            (
                vec![told, (inner.callbacks.on_recreated.clone(), vec![event.into()])],
                None,
            )
        }
        Err(e) => {
            inner.machine.recreate_failed();
            inner.rearm = None;
            let js = (inner.convert.error)(&e, "WorkbookSession.keepAlive");
            let notice = vec![
                session_event(&inner, "lost", &[("error", js.clone())]),
                (inner.callbacks.on_lost.clone(), vec![js]),
            ];
            (notice, Some(e))
        }
    }
}

/// Sleeps, refreshes (or joins the refresh in flight), and sleeps again for
/// as long as the machine says. Holds the session and its JS wrapper
/// strongly until it ends (stop, close, lost, free, or `signal`).
async fn keep_alive_loop(
    rc: Rc<RefCell<Inner>>,
    hold: Option<JsValue>,
    mut delay: u64,
    stop: AbortController,
    stop_signal: AbortSignal,
    signal: Option<Signal>,
) {
    // The caller's keepAlive signal aborts our stop controller.
    let _link = bound_abort(&stop).ok().map(|f| AbortLink::new(signal.as_deref(), &f));
    // One listener on the stop signal for the whole keep-alive; the ticks
    // wait on the process's one timer (shell::timers), not a timer each.
    let (stopped, resolve) = deferred();
    let _stop_link = resolve.as_ref().map(|r| AbortLink::new(Some(&stop_signal), r));
    let mut stopped = JsFuture::from(stopped);
    'ticks: loop {
        if stop_signal.aborted() || sleep_or_stop(delay, &mut stopped).await.is_err() || stop_signal.aborted() {
            break;
        }
        // One line per session: keep-alive's refresh is claimed only when
        // the line is empty (it waits for the requests in it to end), then
        // takes its turn as any request.
        loop {
            let busy = {
                let inner = rc.borrow();
                match inner.line.get().keep_alive_may_go() {
                    true => None,
                    false => order::tail(&inner.queue),
                }
            };
            match busy {
                None => break,
                Some(tail) => {
                    if race_abort(tail, Some(&stop_signal)).await.is_err() {
                        break 'ticks;
                    }
                }
            }
        }
        let fire = rc.borrow_mut().machine.timer_fired_at(now_ms() as u64, random());
        if let Fire::Wait(ms) = fire {
            // The session was used since: no refresh needed yet.
            delay = ms;
            continue;
        }
        let promise = if fire == Fire::Refresh {
            // Ended with this keep-alive: stop(), its signal, a new keepAlive().
            start_refresh(&rc, Some(Signal::own(stop_signal.clone())), true)
        } else {
            // A refresh of the caller's, or a recreation, under way: its end.
            let inner = rc.borrow();
            let under_way = inner
                .in_flight
                .as_ref()
                .map(|f| &f.promise)
                .or(inner.recreation.as_ref());
            match (under_way, inner.machine.keep_alive.is_some()) {
                (Some(p), true) => p.clone(),
                _ => break,
            }
        };
        let _ = JsFuture::from(promise).await;
        if stop_signal.aborted() {
            break;
        }
        let next = rc.borrow_mut().rearm.take();
        match next {
            Some(d) => delay = d,
            None => break,
        }
    }
    // Ended by the caller's keepAlive signal: stop this keep-alive (not a
    // newer one that replaced it).
    if caller_aborted(signal.as_deref()) {
        let current = rc
            .borrow()
            .keep_alive_stop
            .as_ref()
            .is_some_and(|c| JsValue::from(c.clone()) == JsValue::from(stop.clone()));
        if current {
            let old = rc.borrow_mut().stop_keep_alive();
            abort_all(old);
        }
    }
    drop(hold);
}
