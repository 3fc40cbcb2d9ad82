//! `WorkbookSession`, the JS class: reads each method's arguments, hands
//! them to the session's behaviour (`shell::session`: its tasks, its line,
//! keep-alive, the recreation; the decisions are `protocol::session`'s and
//! `protocol::line`'s), and converts what comes back.
//!
//! No synchronous disposer: wasm-bindgen's `Symbol.dispose` (`free()`,
//! which frees without closing) is taken off the class (xtask's build, and
//! `addAsyncDispose` for unbundled glue); `Symbol.asyncDispose` closes.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::RefCell;

use js_sys::{Object, Promise, Reflect, WeakRef};
use wasm_bindgen::prelude::*;

use super::convert::{add_async_dispose, refreshed_to_js, to_js};
use super::fetch_init::read_fetch_init;
use super::options::{read_call_from, read_create, Bag, Keys};
use crate::protocol::error::{Code, Error};
use crate::protocol::request::Request;
use crate::protocol::session::{Session, MAX_INTERVAL_MS, MIN_INTERVAL_MS};
use crate::protocol::validate::{check_session_id, integer};
use crate::shell::abort::Signal;
use crate::shell::create::create_session;
use crate::shell::exchange::with_call;
use crate::shell::session::{
    self, fetch_error_to_js, new_inner, read_json, Callbacks, Convert, FetchError, Inner, KeepAlive,
};
use crate::shell::sys::{now_ms, set};
use crate::shell::task::to_promise;
use crate::shell::workbook_fetch::FetchInit;

/// The conversions the session's tasks use (`shell::session::Convert`).
static CONVERT: Convert = Convert {
    error: to_js,
    refreshed: refreshed_to_js,
};

/// A workbook session kept by this library. Create one with
/// `WorkbookSession.create(options)` or `WorkbookSession.attach(options)`.
///
/// An active keep-alive keeps the session (and this object) alive, as
/// `setInterval` does, until `stop()`, `close()` or the session is lost;
/// `free()` ends it too (and releases the object without closing the
/// Graph session: use `close()` or `await using` to close it).
#[wasm_bindgen]
pub struct WorkbookSession {
    inner: Rc<RefCell<Inner>>,
}

impl Drop for WorkbookSession {
    /// `free()`: ends keep-alive. Reached only through `free()` while
    /// keep-alive runs (keep-alive holds the wrapper), or by garbage
    /// collection once nothing runs.
    fn drop(&mut self) {
        session::dropped(&self.inner);
    }
}

/// Reads `{ signal? }` of refresh() and close(); `undefined` is no options.
fn read_signal(options: &JsValue) -> Result<Option<Signal>, Error> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    Bag::read_list(options, Keys::Signal).signal()
}

impl WorkbookSession {
    /// Creates a session (`createSession`, 201 or 202); the options' `signal`
    /// governs the creation only.
    pub async fn create(options: JsValue) -> Result<WorkbookSession, JsValue> {
        let run = async {
            let mut o = Bag::read_list(&options, Keys::Create);
            let c = read_call_from(&mut o, true)?;
            let p = read_create(&mut o)?;
            let token = c
                .token(&Request::create_session(&c.call, p.persist_changes, p.prefer_async).url)
                .await?;
            let info = create_session(&c.call, p, &token, c.signal.as_deref(), None).await?;
            Ok::<_, Error>(WorkbookSession::new(
                Session::new(info.id, info.persist_changes, Some(now_ms() as u64)),
                c.workbook.unwrap_or_default(),
                c.call,
                c.fixed_client_request_id,
                c.token,
                p,
            ))
        };
        run.await.map_err(|e| to_js(&e, "WorkbookSession.create"))
    }

    /// Creates a session (`createSession`, 201 or 202) and returns its JS
    /// object, as JavaScript's `WorkbookSession.create` does (a synchronous
    /// export hands this future to `shell::task::to_promise`). The options' `signal`
    /// governs the creation only.
    pub async fn create_js(options: JsValue) -> Result<JsValue, JsValue> {
        WorkbookSession::create(options).await.map(WorkbookSession::into_js)
    }

    /// Wraps an existing session (`sessionId`, `persistChanges`, default true).
    pub fn attach(options: JsValue) -> Result<WorkbookSession, JsValue> {
        let run = || {
            let mut o = Bag::read_list(&options, Keys::Attach);
            let c = read_call_from(&mut o, true)?;
            let session_id = o.string("sessionId")?;
            check_session_id(&session_id)?;
            let p = read_create(&mut o)?;
            let persist = p.persist_changes;
            Ok::<_, Error>(WorkbookSession::new(
                Session::new(session_id, persist, None),
                c.workbook.unwrap_or_default(),
                c.call,
                c.fixed_client_request_id,
                c.token,
                p,
            ))
        };
        run().map_err(|e| to_js(&e, "WorkbookSession.attach"))
    }

    fn new(
        machine: Session,
        workbook: String,
        call: crate::protocol::validate::Call,
        fixed_client_request_id: bool,
        token: crate::shell::token::TokenSource,
        create: crate::shell::create::CreateParams,
    ) -> WorkbookSession {
        WorkbookSession {
            inner: new_inner(
                machine,
                workbook,
                call,
                fixed_client_request_id,
                token,
                create,
                &CONVERT,
            ),
        }
    }

    /// The JS object for this session, remembered weakly so that
    /// keep-alive can hold it.
    fn into_js(self) -> JsValue {
        let inner = self.inner.clone();
        let js = JsValue::from(self);
        add_async_dispose_once(&js);
        let has_weak_ref =
            Reflect::get(&js_sys::global(), &JsValue::from_str("WeakRef")).is_ok_and(|f| f.is_function());
        if has_weak_ref {
            if let Ok(mut i) = inner.try_borrow_mut() {
                i.wrapper = Some(WeakRef::new(js.unchecked_ref()));
            }
        }
        js
    }

    /// Refreshes now (see the JS `refresh`).
    pub fn refresh_with(&self, signal: Option<Signal>) -> Promise {
        session::refresh(&self.inner, signal)
    }

    /// Closes the session (see the JS `close`).
    pub fn close_with(&self, signal: Option<Signal>) -> Promise {
        session::close(self.inner.clone(), signal)
    }
}

#[wasm_bindgen]
impl WorkbookSession {
    /// Creates a session (`createSession`, 201 or 202) and returns it. The
    /// options' `signal` governs the creation only.
    #[wasm_bindgen(js_name = create, unchecked_return_type = "Promise<WorkbookSession>")]
    #[doc(hidden)]
    pub fn create_promise(#[wasm_bindgen(unchecked_param_type = "CreateSessionOptions")] options: JsValue) -> Promise {
        to_promise(Box::pin(WorkbookSession::create_js(options)))
    }

    /// Wraps an existing session (`sessionId`, `persistChanges`, default true).
    #[wasm_bindgen(js_name = attach, unchecked_return_type = "WorkbookSession")]
    pub fn attach_js(
        #[wasm_bindgen(unchecked_param_type = "AttachSessionOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        WorkbookSession::attach(options).map(WorkbookSession::into_js)
    }

    /// The current `workbook-session-id` (changes when the session is recreated).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.borrow().machine.id.clone()
    }

    /// The item path, as given to `create` or `attach`.
    #[wasm_bindgen(getter)]
    pub fn workbook(&self) -> String {
        self.inner.borrow().workbook.clone()
    }

    /// The Graph root the session's requests go to (`https://graph.microsoft.com/v1.0`
    /// by default), as checked: lower-case origin, no trailing slash.
    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.inner.borrow().call.base.root()
    }

    /// What `WorkbookSession.attach` needs to resume this session later
    /// (after a page reload, in another process): `{ workbook, sessionId,
    /// persistChanges, baseUrl }`, never the token. `JSON.stringify(session)`
    /// calls it. Resume with `WorkbookSession.attach({ ...saved, accessToken })`
    /// (and the other options, `allowedHosts` and `fetch` included, again).
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "SavedSession")]
    pub fn to_json(&self) -> JsValue {
        let inner = self.inner.borrow();
        let out = Object::new();
        set(&out, "workbook", &JsValue::from_str(&inner.workbook));
        set(&out, "sessionId", &JsValue::from_str(&inner.machine.id));
        set(&out, "persistChanges", &JsValue::from(inner.machine.persist_changes));
        set(&out, "baseUrl", &JsValue::from_str(&inner.call.base.root()));
        out.into()
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

    /// Refreshes the session, in its turn in the session's line: after the
    /// requests called before it (`session.fetch`, `close()`) have their
    /// answers, with the session's id as it is then. While a refresh is in
    /// line, joins it instead of sending another. `options.signal` ends
    /// this call (and the refresh, when this call started it).
    #[wasm_bindgen(unchecked_return_type = "Promise<RefreshResult>")]
    pub fn refresh(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "{ signal?: AbortSignal }")] options: JsValue,
    ) -> Promise {
        match read_signal(&options) {
            Ok(signal) => self.refresh_with(signal),
            Err(e) => Promise::reject(&to_js(&e, "WorkbookSession.refresh")),
        }
    }

    /// Keeps the session alive: refreshes every `intervalMs` (default about
    /// 3 minutes for persistent sessions, 4 for non-persistent, ±10 %
    /// jitter). With `recreate: true`, an `invalidSessionReCreatable` answer
    /// creates a replacement session (`onRecreated`); otherwise the session
    /// turns `lost` (`onLost`). `onError(error, { willRetry, retryInMs })`
    /// reports failures that do not end the session; a token provider's
    /// failure is one (retried at the next tick). `signal` stops it. Calling
    /// it again replaces the settings. An active keep-alive keeps the session
    /// alive (as `setInterval` does) until `stop()`, `close()`, `lost` or
    /// `free()`.
    #[wasm_bindgen(js_name = keepAlive)]
    pub fn keep_alive(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "KeepAliveOptions")] options: JsValue,
    ) -> Result<(), JsValue> {
        let read = || {
            let (interval, recreate, callbacks, signal) = if options.is_undefined() {
                (None, false, Callbacks::default(), None)
            } else {
                let mut o = Bag::read_list(&options, Keys::KeepAlive);
                let interval = match o.opt_number()? {
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
                    on_refresh: o.opt_function()?,
                    on_error: o.opt_function()?,
                    on_lost: o.opt_function()?,
                    on_recreated: o.opt_function()?,
                };
                let recreate = o.opt_bool("recreate")?.unwrap_or(false);
                (interval, recreate, callbacks, o.signal()?)
            };
            let settings = KeepAlive {
                interval,
                recreate,
                callbacks,
            };
            session::keep_alive(&self.inner, settings, signal)
        };
        read().map_err(|e| to_js(&e, "WorkbookSession.keepAlive"))
    }

    /// Sends a request of your own inside the session, as `fetch` does,
    /// and resolves to the `Response` (a 2xx, its body unread).
    ///
    /// `path` is relative to the workbook (`"/worksheets('Sheet1')/range(address='A1')"`
    /// → `{baseUrl}{workbook}/workbook/worksheets('Sheet1')/range(address='A1')`)
    /// or an absolute URL under the same workbook on the session's origin
    /// (any version segment); the session's own lifecycle paths
    /// (`closeSession` ...) and anything else are refused before sending
    /// (`invalidArgument`). The session adds `Authorization`
    /// (its token source, resolved per call), `workbook-session-id` (the
    /// current id), `client-request-id` (yours when set in `init.headers`)
    /// and, for a JSON body (`init.json` or a plain object or array, which
    /// it serializes; a string starting with `{` or `[`),
    /// `Content-Type: application/json`. `init` takes `method`, `headers`,
    /// `body`, `json`, `signal`, `concurrent`, `recreate`, `cache`,
    /// `priority` and `keepalive`; any other field is refused
    /// (`invalidArgument`). The body is never copied into wasm memory. Setting
    /// `Authorization`, `workbook-session-id` or `Retry-Attempt` yourself is
    /// refused. Redirects are not followed.
    ///
    /// The Excel error policy applies: 429 and 503 are resent after the
    /// cooldown (`Retry-After`, within `maxRetryAfterMs` and `maxRetries`)
    /// whatever the method; the other resend-after-cooldown errors, network
    /// errors and timeouts only for GET and HEAD. An expired persistent
    /// session (`invalidSessionReCreatable`, a plain 404, a 502/503 without
    /// a listed code) with recreation on (`keepAlive({ recreate: true })`,
    /// or `init.recreate`) is recreated and the request resent once (not a
    /// write answered 502, nor `internalServerErrorUncategorized`); an
    /// expired non-persistent session rejects with `recreatable` and
    /// `stateLost: true` (its changes are gone). Without recreation, a dead
    /// session (`invalidSessionNotFound` ...) or
    /// `internalServerErrorUncategorized` turns the session `lost`
    /// (`onLost`); an expiry leaves it active for a later call's
    /// `init.recreate`. Any other non-2xx answer rejects with a
    /// `GraphError`, as every other call does.
    ///
    /// Calls go one at a time, in call order with `refresh()` and `close()`
    /// (Graph's best practice for a workbook), unless `init.concurrent` is
    /// true; a `Retry-After` cooldown
    /// on the session holds every call until it passes. A successful call counts
    /// as activity: keep-alive skips the refreshes it makes unnecessary.
    /// `init.signal` ends the call (and its place in line); `timeoutMs`
    /// bounds each attempt until the answer's head arrives.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SessionFetchInit")] init: JsValue,
    ) -> Promise {
        let rc = self.inner.clone();
        to_promise(Box::pin(async move {
            let failed =
                |(e, state_lost): FetchError| fetch_error_to_js(&CONVERT, &e, state_lost, "WorkbookSession.fetch");
            let (path, init) = read_fetch_args(&path, &init).map_err(failed)?;
            session::fetch(rc, path, init)
                .await
                .map(|(response, _)| response.into())
                .map_err(failed)
        }))
    }

    /// `session.fetch`, then the answer's body parsed as JSON: resolves to
    /// the value (`null` for an answer without a body, such as a `204`).
    /// `init.json` (any JSON value) is serialized as the body with
    /// `Content-Type: application/json`. A body that is not JSON rejects
    /// with `invalidResponse`. Declared in `session.d.ts` (generic).
    #[wasm_bindgen(skip_typescript)]
    pub fn json(&self, path: JsValue, init: JsValue) -> Promise {
        let rc = self.inner.clone();
        to_promise(Box::pin(async move {
            let op = "WorkbookSession.json";
            let failed = |(e, state_lost): FetchError| fetch_error_to_js(&CONVERT, &e, state_lost, op);
            let (path, init) = read_fetch_args(&path, &init).map_err(failed)?;
            let (response, attempts) = session::fetch(rc.clone(), path, init).await.map_err(failed)?;
            read_json(&response).await.map_err(|e| {
                let call = rc.borrow().call.clone();
                let e = e
                    .with_status(response.status())
                    .with_request_id(response.headers().get("request-id").ok().flatten().as_deref())
                    .with_attempts(attempts);
                fetch_error_to_js(&CONVERT, &with_call(e, &call, ""), false, op)
            })
        }))
    }

    /// For `SessionPool` (`npm/pool.js`), not part of the typed API: takes
    /// the session's line for a refresh the pool sends in a `$batch`, which
    /// cannot wait inside the batch. Only when the session is active, no
    /// refresh or recreation is under way, its line is empty, not closing
    /// and not cooling down (`Line::claimable`), and no request is in
    /// line on its workbook (`shell::order`); `false` leaves
    /// the refresh to the session's own `refresh()`, which waits its turn.
    /// The requests that come meanwhile (`session.fetch`, `close()`) wait
    /// for [`WorkbookSession::release_line`].
    #[wasm_bindgen(js_name = __claimLine, skip_typescript)]
    pub fn claim_line(&self) -> bool {
        session::claim_line(&self.inner)
    }

    /// For `SessionPool`: the `$batch` answered the refresh taken with
    /// [`WorkbookSession::claim_line`]; `refreshed`: it succeeded;
    /// `retry_after_ms`: the item's cooldown, which holds the session's
    /// line as any answer's. The requests waiting in the line go on.
    #[wasm_bindgen(js_name = __releaseLine, skip_typescript)]
    pub fn release_line(&self, refreshed: bool, retry_after_ms: Option<f64>) {
        session::release_line(&self.inner, refreshed, retry_after_ms);
    }

    /// Stops keep-alive (and a refresh it has in flight) and releases its
    /// timer. Safe to call at any time, from any callback.
    pub fn stop(&self) {
        session::stop(&self.inner);
    }

    /// Stops keep-alive, ends a refresh in flight or in line, and closes the
    /// session (`closeSession`) in its turn in the session's line: after the
    /// requests called before it have ended (a recreation finishing now is
    /// closed too); the calls made after it are refused, unsent. Resolves
    /// to the close result, or `null` when there was nothing to close
    /// (already closed, or lost). Safe to call twice. No callback fires
    /// after it. `options.signal` ends this call.
    #[wasm_bindgen(unchecked_return_type = "Promise<RefreshResult | null>")]
    pub fn close(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "{ signal?: AbortSignal }")] options: JsValue,
    ) -> Promise {
        match read_signal(&options) {
            Ok(signal) => self.close_with(signal),
            Err(e) => Promise::reject(&to_js(&e, "WorkbookSession.close")),
        }
    }
}

/// Puts `Symbol.asyncDispose` on the class's prototype, once.
fn add_async_dispose_once(session: &JsValue) {
    static DONE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !DONE.swap(true, core::sync::atomic::Ordering::Relaxed) {
        add_async_dispose(&Object::get_prototype_of(session));
    }
}

/// `session.fetch`'s arguments read: `path` a string, `init` checked.
fn read_fetch_args(path: &JsValue, init: &JsValue) -> Result<(String, FetchInit), FetchError> {
    let plain = |e: Error| (e, false);
    let path = path
        .as_string()
        .ok_or_else(|| plain(Error::local(Code::InvalidArgument, &["path must be a string"])))?;
    let init = read_fetch_init(init).map_err(plain)?;
    Ok((path, init))
}
