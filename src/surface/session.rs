//! `WorkbookSession`: one session's whole life for JavaScript callers:
//! create or attach, refresh (single-flight), keep alive with recreation,
//! stop, close. The state machine and the schedule are
//! `protocol::session`; this file does the I/O they ask for.
//!
//! Keep-alive is a loop of abortable sleeps that holds only a weak reference
//! to the session between refreshes, so `stop()`, `close()` and `free()`
//! (or the wrapper being garbage-collected) end it and release its timer.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};

use super::convert::{refreshed_to_js, to_js};
use super::options::{read_call, read_create, JsOptions};
use crate::protocol::error::{Code, Error};
use crate::protocol::session::{classify, AfterFailure, Begin, Session, MAX_INTERVAL_MS, MIN_INTERVAL_MS};
use crate::protocol::validate::{check_session_id, integer, Call};
use crate::shell::abort::sleep;
use crate::shell::action::{session_action, SessionAction};
use crate::shell::create::{create_session, CreateParams};
use crate::shell::sys::{fresh_client_request_id, now_ms, random, set, AbortController, AbortSignal};
use crate::shell::token::TokenSource;

#[derive(Default)]
struct Callbacks {
    on_refresh: Option<Function>,
    on_error: Option<Function>,
    on_lost: Option<Function>,
    on_recreated: Option<Function>,
}

fn notify(f: &Option<Function>, arg: &JsValue) {
    if let Some(f) = f {
        // A throwing callback must not stop keep-alive.
        let _ = f.call1(&JsValue::UNDEFINED, arg);
    }
}

struct Inner {
    machine: Session,
    call: Call,
    fixed_client_request_id: bool,
    token: TokenSource,
    signal: Option<AbortSignal>,
    create: CreateParams,
    callbacks: Callbacks,
    /// The refresh in flight, for callers who join it.
    in_flight: Option<Promise>,
    /// When the loop should wake next, set by each finished refresh.
    rearm: Option<u64>,
    /// Aborting it ends the current keep-alive loop's sleep.
    keep_alive_stop: Option<AbortController>,
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

    fn stop_keep_alive(&mut self) {
        self.machine.stop();
        if let Some(c) = self.keep_alive_stop.take() {
            c.abort();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(c) = self.keep_alive_stop.take() {
            c.abort();
        }
    }
}

/// A workbook session kept by this library. Create one with
/// `WorkbookSession.create(options)` or `WorkbookSession.attach(options)`.
#[wasm_bindgen]
pub struct WorkbookSession {
    inner: Rc<RefCell<Inner>>,
}

fn state_error(s: &Session) -> Error {
    Error::local(
        Code::InvalidArgument,
        &["the session is ", s.state.as_str(), "; create or attach a new one"],
    )
}

#[wasm_bindgen]
impl WorkbookSession {
    /// Creates a session (`createSession`, 201 or 202) and returns it.
    #[wasm_bindgen(unchecked_return_type = "WorkbookSession")]
    pub async fn create(
        #[wasm_bindgen(unchecked_param_type = "CreateSessionOptions")] options: JsValue,
    ) -> Result<WorkbookSession, JsValue> {
        let run = async {
            let o = JsOptions::new(&options)?;
            let c = read_call(&o, true)?;
            let fixed = o.opt_string("clientRequestId")?.is_some();
            let p = read_create(&o)?;
            let token = c.token().await?;
            let info = create_session(&c.call, p, &token, c.signal.as_ref()).await?;
            Ok::<_, Error>(WorkbookSession::new(
                Session::new(info.id, info.persist_changes, Some(now_ms() as u64)),
                c.call,
                fixed,
                c.token,
                c.signal,
                p,
            ))
        };
        run.await.map_err(|e| to_js(&e, "WorkbookSession.create"))
    }

    /// Wraps an existing session (`sessionId`, `persistChanges`, default true).
    pub fn attach(
        #[wasm_bindgen(unchecked_param_type = "AttachSessionOptions")] options: JsValue,
    ) -> Result<WorkbookSession, JsValue> {
        let run = || {
            let o = JsOptions::new(&options)?;
            let c = read_call(&o, true)?;
            let fixed = o.opt_string("clientRequestId")?.is_some();
            let session_id = o.string("sessionId")?;
            check_session_id(&session_id)?;
            let persist = o.opt_bool("persistChanges")?.unwrap_or(true);
            let p = read_create(&o)?;
            Ok::<_, Error>(WorkbookSession::new(
                Session::new(session_id, persist, None),
                c.call,
                fixed,
                c.token,
                c.signal,
                p,
            ))
        };
        run().map_err(|e| to_js(&e, "WorkbookSession.attach"))
    }

    fn new(
        machine: Session,
        call: Call,
        fixed_client_request_id: bool,
        token: TokenSource,
        signal: Option<AbortSignal>,
        mut create: CreateParams,
    ) -> WorkbookSession {
        create.persist_changes = machine.persist_changes;
        WorkbookSession {
            inner: Rc::new(RefCell::new(Inner {
                machine,
                call,
                fixed_client_request_id,
                token,
                signal,
                create,
                callbacks: Callbacks::default(),
                in_flight: None,
                rearm: None,
                keep_alive_stop: None,
            })),
        }
    }

    /// The current `workbook-session-id` (changes when the session is recreated).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.borrow().machine.id.clone()
    }

    /// Whether the session persists changes.
    #[wasm_bindgen(getter, js_name = persistChanges)]
    pub fn persist_changes(&self) -> bool {
        self.inner.borrow().machine.persist_changes
    }

    /// `"active" | "lost" | "closed"`.
    #[wasm_bindgen(getter, unchecked_return_type = "SessionState")]
    pub fn state(&self) -> String {
        self.inner.borrow().machine.state.as_str().into()
    }

    /// Epoch milliseconds of the last successful refresh (or creation);
    /// `undefined` for an attached session not yet refreshed.
    #[wasm_bindgen(getter, js_name = lastRefreshedAt)]
    pub fn last_refreshed_at(&self) -> Option<f64> {
        self.inner.borrow().machine.last_refreshed_at.map(|t| t as f64)
    }

    /// Refreshes now. While a refresh is in flight, joins it instead of
    /// sending another.
    #[wasm_bindgen(unchecked_return_type = "Promise<RefreshResult>")]
    pub fn refresh(&self) -> Promise {
        let begin = self.inner.borrow_mut().machine.begin_refresh();
        match begin {
            Begin::Start => start_refresh(&self.inner),
            Begin::Join => self
                .inner
                .borrow()
                .in_flight
                .clone()
                .unwrap_or_else(|| start_refresh(&self.inner)),
            Begin::Refuse(_) => {
                let e = state_error(&self.inner.borrow().machine);
                Promise::reject(&to_js(&e, "WorkbookSession.refresh"))
            }
        }
    }

    /// Keeps the session alive: refreshes every `intervalMs` (default about
    /// 3 minutes for persistent sessions, 4 for non-persistent, ±10 %
    /// jitter). With `recreate: true`, an `invalidSessionReCreatable` answer
    /// creates a replacement session (`onRecreated`); otherwise the session
    /// turns `lost` (`onLost`). Calling it again replaces the settings.
    #[wasm_bindgen(js_name = keepAlive)]
    pub fn keep_alive(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "KeepAliveOptions")] options: JsValue,
    ) -> Result<(), JsValue> {
        let read = || {
            let (interval, recreate, callbacks) = if options.is_undefined() {
                (None, false, Callbacks::default())
            } else {
                let o = JsOptions::new(&options)?;
                let interval = match o.opt_number("intervalMs")? {
                    None => None,
                    some => Some(u64::from(integer(
                        "intervalMs",
                        some,
                        MIN_INTERVAL_MS as u32,
                        MAX_INTERVAL_MS as u32,
                        0,
                    )?)),
                };
                let callbacks = Callbacks {
                    on_refresh: o.opt_function("onRefresh")?,
                    on_error: o.opt_function("onError")?,
                    on_lost: o.opt_function("onLost")?,
                    on_recreated: o.opt_function("onRecreated")?,
                };
                (interval, o.opt_bool("recreate")?.unwrap_or(false), callbacks)
            };
            let mut inner = self.inner.borrow_mut();
            inner.stop_keep_alive();
            let delay = inner
                .machine
                .keep_alive(interval, recreate, random())
                .ok_or_else(|| state_error(&inner.machine))?;
            let stop = AbortController::new()
                .map_err(|_| Error::local(Code::InvalidArgument, &["AbortController is not available"]))?;
            let stop_signal = stop.signal();
            inner.keep_alive_stop = Some(stop);
            inner.callbacks = callbacks;
            Ok::<_, Error>((delay, stop_signal))
        };
        let (delay, stop_signal) = read().map_err(|e| to_js(&e, "WorkbookSession.keepAlive"))?;
        spawn_local(keep_alive_loop(Rc::downgrade(&self.inner), delay, stop_signal));
        Ok(())
    }

    /// Stops keep-alive and releases its timer. Safe to call at any time.
    pub fn stop(&self) {
        self.inner.borrow_mut().stop_keep_alive();
    }

    /// Stops keep-alive and closes the session (`closeSession`). Resolves to
    /// the close result, or `null` when there was nothing to close (already
    /// closed, or lost). Safe to call twice.
    #[wasm_bindgen(unchecked_return_type = "Promise<RefreshResult | null>")]
    pub fn close(&self) -> Promise {
        let rc = self.inner.clone();
        future_to_promise(async move {
            let started = now_ms();
            let (send, call, token, signal, id) = {
                let mut inner = rc.borrow_mut();
                inner.stop_keep_alive();
                let send = inner.machine.close();
                (
                    send,
                    inner.request_call(),
                    inner.token.clone(),
                    inner.signal.clone(),
                    inner.machine.id.clone(),
                )
            };
            if !send {
                return Ok(JsValue::NULL);
            }
            let run = async {
                let token = token.resolve(signal.as_ref()).await?;
                session_action(SessionAction::Close, &call, &id, &token, signal.as_ref(), started).await
            };
            run.await
                .map(|r| refreshed_to_js(&r))
                .map_err(|e| to_js(&e, "WorkbookSession.close"))
        })
    }
}

/// Starts a refresh (the machine already said Start or the timer fired) and
/// records it for joiners.
fn start_refresh(rc: &Rc<RefCell<Inner>>) -> Promise {
    let promise = future_to_promise(refresh_task(rc.clone()));
    rc.borrow_mut().in_flight = Some(promise.clone());
    promise
}

async fn refresh_task(rc: Rc<RefCell<Inner>>) -> Result<JsValue, JsValue> {
    let started = now_ms();
    let (call, token, signal, id) = {
        let inner = rc.borrow();
        (
            inner.request_call(),
            inner.token.clone(),
            inner.signal.clone(),
            inner.machine.id.clone(),
        )
    };
    let run = async {
        let token = token.resolve(signal.as_ref()).await?;
        session_action(SessionAction::Refresh, &call, &id, &token, signal.as_ref(), started).await
    };
    let result = run.await;
    let out = match result {
        Ok(r) => {
            let js = refreshed_to_js(&r);
            let rearm = rc.borrow_mut().machine.refresh_succeeded(now_ms() as u64, random());
            rc.borrow_mut().rearm = rearm;
            let cb = rc.borrow().callbacks.on_refresh.clone();
            notify(&cb, &js);
            Ok(js)
        }
        Err(e) => {
            let js = to_js(&e, "WorkbookSession.refresh");
            let after = rc.borrow_mut().machine.refresh_failed(classify(&e), random());
            match after {
                AfterFailure::Recreate => recreate(&rc).await,
                AfterFailure::Lost => {
                    rc.borrow_mut().rearm = None;
                    let cb = rc.borrow().callbacks.on_lost.clone();
                    notify(&cb, &js);
                }
                AfterFailure::RetryIn(ms) => {
                    rc.borrow_mut().rearm = Some(ms);
                    let cb = rc.borrow().callbacks.on_error.clone();
                    notify(&cb, &js);
                }
                AfterFailure::Halt => {
                    rc.borrow_mut().rearm = None;
                    let cb = rc.borrow().callbacks.on_error.clone();
                    notify(&cb, &js);
                }
            }
            Err(js)
        }
    };
    rc.borrow_mut().in_flight = None;
    out
}

/// Creates the replacement session after `invalidSessionReCreatable`.
async fn recreate(rc: &Rc<RefCell<Inner>>) {
    let (call, token, signal, params) = {
        let inner = rc.borrow();
        (
            inner.request_call(),
            inner.token.clone(),
            inner.signal.clone(),
            inner.create,
        )
    };
    let run = async {
        let token = token.resolve(signal.as_ref()).await?;
        create_session(&call, params, &token, signal.as_ref()).await
    };
    match run.await {
        Ok(info) => {
            let (previous, state_lost, rearm) =
                rc.borrow_mut()
                    .machine
                    .recreated(info.id.clone(), info.persist_changes, now_ms() as u64, random());
            rc.borrow_mut().rearm = rearm;
            let event = Object::new();
            set(&event, "previousId", &JsValue::from_str(&previous));
            set(&event, "id", &JsValue::from_str(&info.id));
            set(&event, "stateLost", &JsValue::from(state_lost));
            let cb = rc.borrow().callbacks.on_recreated.clone();
            notify(&cb, &event);
        }
        Err(e) => {
            {
                let mut inner = rc.borrow_mut();
                inner.machine.recreate_failed();
                inner.rearm = None;
            }
            let cb = rc.borrow().callbacks.on_lost.clone();
            notify(&cb, &to_js(&e, "WorkbookSession.keepAlive"));
        }
    }
}

/// Sleeps, refreshes (or joins the refresh in flight), and sleeps again for
/// as long as the machine says; holds the session only weakly while asleep.
async fn keep_alive_loop(weak: Weak<RefCell<Inner>>, mut delay: u64, stop: AbortSignal) {
    loop {
        if sleep(delay, Some(&stop)).await.is_err() {
            return;
        }
        let Some(rc) = weak.upgrade() else { return };
        let fired = rc.borrow_mut().machine.timer_fired();
        let promise = if fired {
            start_refresh(&rc)
        } else {
            match rc.borrow().in_flight.clone() {
                Some(p) if rc.borrow().machine.keep_alive.is_some() => p,
                _ => return,
            }
        };
        drop(rc);
        let _ = JsFuture::from(promise).await;
        if stop.aborted() {
            return;
        }
        let Some(rc) = weak.upgrade() else { return };
        let next = rc.borrow_mut().rearm.take();
        match next {
            Some(d) => delay = d,
            None => return,
        }
    }
}
