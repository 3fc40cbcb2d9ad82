//! The four function exports of the JS contract: refreshSession,
//! closeSession, and (feature `full`) createSession, refreshSessions. Each reads its options,
//! resolves the token, hands the call to the shell and converts the outcome.
//!
//! Each is a Rust `async fn` (the Rust callers' form) and, for JavaScript,
//! a synchronous export that hands its future to `shell::task::to_promise`: an `async
//! fn` export would instantiate js-sys's promise glue once per export.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::convert::{refreshed_to_js, to_js};
use super::options::read_session_call;
use crate::protocol::error::Error;
use crate::protocol::request::Request;
use crate::protocol::validate::check_session_id;
use crate::shell::action::{session_action, SessionAction};
use crate::shell::phases::{self, Phase};
use crate::shell::sys::now_ms;
use crate::shell::task::to_promise;
#[cfg(feature = "full")]
use {
    super::convert::session_info_to_js,
    super::options::{read_batch_call, read_call_from, read_create, Bag, Keys},
    crate::protocol::error::Code,
    crate::protocol::url::encode_workbook,
    crate::shell::action::Refreshed,
    crate::shell::batch::refresh_sessions,
    crate::shell::create::create_session,
};

async fn session_action_js(action: SessionAction, options: JsValue) -> Result<JsValue, JsValue> {
    phases::switch(Phase::Options);
    let started = now_ms();
    let run = async {
        let (c, session_id) = read_session_call(&options)?;
        check_session_id(&session_id)?;
        let url = match action {
            SessionAction::Refresh => Request::refresh_session(&c.call, &session_id).url,
            SessionAction::Close => Request::close_session(&c.call, &session_id).url,
        };
        phases::switch(Phase::Token);
        let token = c.token(&url).await?;
        session_action(
            action,
            &c.call,
            &session_id,
            &token,
            c.signal.as_deref(),
            started,
            Default::default(),
        )
        .await
        .map_err(Error::from)
    };
    let outcome = run.await;
    phases::switch(Phase::Result);
    let js = outcome
        .map(|r| refreshed_to_js(&r))
        .map_err(|e| to_js(&e, action.name()));
    phases::switch(Phase::Idle);
    js
}

/// Refreshes a workbook session so that it does not expire.
///
/// `POST {baseUrl}{workbook}/workbook/refreshSession` with the
/// `workbook-session-id` header; retries 429/503/504, network errors and
/// attempt timeouts. Resolves to `{ status, requestId, clientRequestId,
/// attempts, elapsedMs }`; rejects with a `GraphError`.
pub async fn refresh_session_js(options: JsValue) -> Result<JsValue, JsValue> {
    session_action_js(SessionAction::Refresh, options).await
}

/// Refreshes a workbook session so that it does not expire.
///
/// `POST {baseUrl}{workbook}/workbook/refreshSession` with the
/// `workbook-session-id` header; retries 429/503/504, network errors and
/// attempt timeouts. Resolves to `{ status, requestId, clientRequestId,
/// attempts, elapsedMs }`; rejects with a `GraphError`.
#[wasm_bindgen(js_name = refreshSession, unchecked_return_type = "Promise<RefreshResult>")]
pub fn refresh_session_export(#[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue) -> Promise {
    to_promise(Box::pin(session_action_js(SessionAction::Refresh, options)))
}

/// Closes a workbook session (`POST .../workbook/closeSession`).
pub async fn close_session_js(options: JsValue) -> Result<JsValue, JsValue> {
    session_action_js(SessionAction::Close, options).await
}

/// Closes a workbook session (`POST .../workbook/closeSession`).
#[wasm_bindgen(js_name = closeSession, unchecked_return_type = "Promise<RefreshResult>")]
pub fn close_session_export(#[wasm_bindgen(unchecked_param_type = "SessionOptions")] options: JsValue) -> Promise {
    to_promise(Box::pin(session_action_js(SessionAction::Close, options)))
}

/// Creates a workbook session: `POST .../workbook/createSession` with
/// `{"persistChanges"}`. Handles `201` and the `202` long-running operation
/// (polled until it succeeds, fails, or `createTimeoutMs` passes).
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = createSession, unchecked_return_type = "Promise<SessionInfo>")]
pub fn create_session_export(
    #[wasm_bindgen(unchecked_param_type = "CreateSessionOptions")] options: JsValue,
) -> Promise {
    to_promise(Box::pin(create_session_js(options)))
}

/// Creates a workbook session: `POST .../workbook/createSession` with
/// `{"persistChanges"}`. Handles `201` and the `202` long-running operation
/// (polled until it succeeds, fails, or `createTimeoutMs` passes).
#[cfg(feature = "full")]
pub async fn create_session_js(options: JsValue) -> Result<JsValue, JsValue> {
    let run = async {
        let mut o = Bag::read_list(&options, Keys::Create);
        let c = read_call_from(&mut o, true)?;
        let p = read_create(&mut o)?;
        let token = c
            .token(&Request::create_session(&c.call, p.persist_changes, p.prefer_async).url)
            .await?;
        create_session(&c.call, p, &token, c.signal.as_deref(), None).await
    };
    run.await
        .map(|i| session_info_to_js(&i))
        .map_err(|e| to_js(&e, "createSession"))
}

/// Refreshes many sessions through `POST {baseUrl}/$batch`, 20 per request.
/// Resolves to one entry per item, in order: a `RefreshResult` or a
/// `GraphError` (never rejects for a single item's failure).
#[cfg(feature = "full")]
#[wasm_bindgen(js_name = refreshSessions, unchecked_return_type = "Promise<Array<RefreshResult | GraphError>>")]
pub fn refresh_sessions_export(
    #[wasm_bindgen(unchecked_param_type = "BatchItem[]")] items: JsValue,
    #[wasm_bindgen(unchecked_param_type = "BatchOptions")] options: JsValue,
) -> Promise {
    to_promise(Box::pin(refresh_sessions_js(items, options)))
}

/// Refreshes many sessions through `POST {baseUrl}/$batch`, 20 per request.
/// Resolves to one entry per item, in order: a `RefreshResult` or a
/// `GraphError` (never rejects for a single item's failure).
#[cfg(feature = "full")]
pub async fn refresh_sessions_js(items: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let started = now_ms();
    let run = async {
        let c = read_batch_call(&options)?;
        if crate::shell::sys::is_array(&items) != Ok(true) {
            return Err(Error::local(
                Code::InvalidArgument,
                &["items must be an array of { workbook, sessionId }"],
            ));
        }
        // A Proxy's or an own iterator's throw is the caller's: refused, not thrown through.
        let items = crate::shell::sys::array_from(&items)
            .map_err(|_| Error::local(Code::InvalidArgument, &["items could not be read as an array"]))?;
        let items: Vec<Result<(String, String), Error>> = items
            .iter()
            .map(|item| {
                let mut o = Bag::read_list(&item, Keys::Item);
                let workbook = encode_workbook(&o.string("workbook")?)?;
                let session_id = o.string("sessionId")?;
                check_session_id(&session_id)?;
                Ok((workbook, session_id))
            })
            .collect();
        let token = c.token(&Request::batch(&c.call, String::new()).url).await?;
        let results = refresh_sessions(&c.call, items, &token, c.signal.as_deref(), started).await;
        Ok((results, c.call.client_request_id))
    };
    let (results, client_request_id) = run.await.map_err(|e| to_js(&e, "refreshSessions"))?;
    let out = js_sys::Array::new();
    for r in results {
        out.push(&match r {
            Ok(i) => refreshed_to_js(&Refreshed {
                status: i.status,
                request_id: i.request_id,
                client_request_id: client_request_id.clone(),
                attempts: i.attempts,
                elapsed_ms: i.elapsed_ms,
            }),
            Err(e) => to_js(&e, "refreshSessions"),
        });
    }
    Ok(out.into())
}

/// The TypeScript declarations of the options, results and errors
/// (`types.d.ts`), appended to wasm-bindgen's own.
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

/// WorkbookSession's declarations that wasm-bindgen cannot derive.
#[cfg(feature = "full")]
#[wasm_bindgen(typescript_custom_section)]
const TS_SESSION_TYPES: &'static str = include_str!("session.d.ts");
