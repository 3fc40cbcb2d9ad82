//! Reading JavaScript option objects into the protocol's plain values. Types are checked here (a number where
//! a string belongs, a `Symbol`, `null` ...); values are checked by the core.
//! A getter that throws or a Proxy trap becomes `invalidArgument`, never a
//! panic.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;

use js_sys::{Function, JsString, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::protocol::error::{Code, Error};
use crate::protocol::validate::{check_scopes, default_scopes, Call, CallInput};
use crate::shell::abort::{aborted, Signal};
use crate::shell::exchange::{with_call, Transport};
use crate::shell::phases::{self, Phase};
use crate::shell::sys::{fresh_client_request_id, is_array};
use crate::shell::token::TokenSource;
#[cfg(feature = "full")]
use {
    crate::protocol::operation::{
        DEFAULT_CREATE_TIMEOUT_MS, DEFAULT_POLL_INTERVAL_MS, MAX_CREATE_TIMEOUT_MS, MIN_POLL_INTERVAL_MS,
    },
    crate::protocol::validate::integer,
    crate::shell::create::CreateParams,
};

fn invalid(key: &str, why: &str) -> Error {
    Error::local(Code::InvalidArgument, &["options.", key, why])
}

// The keys every call reads, as JS strings made once: a key decoded from
// UTF-8 per read was most of the reader's time (bench/README.md). rustfmt
// would drop the initializers.
#[rustfmt::skip]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, static_string)]
    static WORKBOOK: JsString = "workbook";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static ACCESS_TOKEN: JsString = "accessToken";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static SCOPES: JsString = "scopes";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static FETCH: JsString = "fetch";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static BASE_URL: JsString = "baseUrl";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static TIMEOUT_MS: JsString = "timeoutMs";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static MAX_RETRIES: JsString = "maxRetries";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static MAX_RETRY_AFTER_MS: JsString = "maxRetryAfterMs";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static CLIENT_REQUEST_ID: JsString = "clientRequestId";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static ALLOWED_HOSTS: JsString = "allowedHosts";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static SIGNAL: JsString = "signal";
    #[wasm_bindgen(thread_local_v2, static_string)]
    static SESSION_ID: JsString = "sessionId";
}

/// `f` with `key` as a JS string: one made once for the keys of every
/// call, a fresh one for the others.
fn with_key<R>(key: &str, f: impl FnOnce(&JsValue) -> R) -> R {
    let interned = match key {
        "workbook" => &WORKBOOK,
        "accessToken" => &ACCESS_TOKEN,
        "scopes" => &SCOPES,
        "fetch" => &FETCH,
        "baseUrl" => &BASE_URL,
        "timeoutMs" => &TIMEOUT_MS,
        "maxRetries" => &MAX_RETRIES,
        "maxRetryAfterMs" => &MAX_RETRY_AFTER_MS,
        "clientRequestId" => &CLIENT_REQUEST_ID,
        "allowedHosts" => &ALLOWED_HOSTS,
        "signal" => &SIGNAL,
        "sessionId" => &SESSION_ID,
        _ => return f(&JsValue::from_str(key)),
    };
    interned.with(|k| f(k))
}

/// A JS options object.
pub struct JsOptions<'a>(pub &'a JsValue);

impl JsOptions<'_> {
    /// Checks that the options are an object at all.
    pub fn new(v: &JsValue) -> Result<JsOptions<'_>, Error> {
        if v.is_object() && is_array(v) == Ok(false) {
            Ok(JsOptions(v))
        } else {
            Err(Error::local(Code::InvalidArgument, &["options must be an object"]))
        }
    }

    pub fn get(&self, key: &str) -> Result<JsValue, Error> {
        with_key(key, |k| Reflect::get(self.0, k)).map_err(|_| invalid(key, " could not be read"))
    }

    pub fn string(&self, key: &str) -> Result<String, Error> {
        self.opt_string(key)?.ok_or_else(|| invalid(key, " is required"))
    }

    pub fn opt_string(&self, key: &str) -> Result<Option<String>, Error> {
        let v = self.get(key)?;
        if v.is_undefined() {
            return Ok(None);
        }
        v.as_string().map(Some).ok_or_else(|| invalid(key, " must be a string"))
    }

    pub fn opt_number(&self, key: &str) -> Result<Option<f64>, Error> {
        let v = self.get(key)?;
        if v.is_undefined() {
            return Ok(None);
        }
        v.as_f64().map(Some).ok_or_else(|| invalid(key, " must be a number"))
    }

    #[cfg(feature = "full")]
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, Error> {
        let v = self.get(key)?;
        if v.is_undefined() {
            return Ok(None);
        }
        v.as_bool().map(Some).ok_or_else(|| invalid(key, " must be a boolean"))
    }

    pub fn opt_function(&self, key: &str) -> Result<Option<Function>, Error> {
        let v = self.get(key)?;
        if v.is_undefined() {
            return Ok(None);
        }
        v.dyn_into::<Function>()
            .map(Some)
            .map_err(|_| invalid(key, " must be a function"))
    }

    pub fn string_array(&self, key: &str) -> Result<Vec<String>, Error> {
        let v = self.get(key)?;
        if v.is_undefined() {
            return Ok(Vec::new());
        }
        let not_strings = || invalid(key, " must be an array of strings");
        if is_array(&v) != Ok(true) {
            return Err(not_strings());
        }
        // Read through catching accessors: the array may be a Proxy.
        let len = Reflect::get(&v, &JsValue::from_str("length"))
            .ok()
            .and_then(|l| l.as_f64())
            .ok_or_else(not_strings)?;
        if len > 1000.0 {
            return Err(not_strings());
        }
        (0..len as u32)
            .map(|i| {
                Reflect::get_u32(&v, i)
                    .ok()
                    .and_then(|x| x.as_string())
                    .ok_or_else(not_strings)
            })
            .collect()
    }

    /// `signal`: anything shaped like an `AbortSignal` (checked by shape,
    /// not `instanceof`, so signals from another realm work), read once and
    /// linked to a signal of ours ([`Signal::link`]), the only one read later.
    pub fn signal(&self) -> Result<Option<Signal>, Error> {
        let v = self.get("signal")?;
        if v.is_undefined() {
            return Ok(None);
        }
        Signal::link(&v)
            .map(Some)
            .map_err(|_| invalid("signal", " must be an AbortSignal"))
    }
}

/// A JS call's options once read: the checked call, its token source and signal.
pub struct JsCall {
    pub call: Call,
    /// `workbook` as the caller gave it (unencoded); `None` for `$batch`
    /// calls. Kept by a `WorkbookSession` (`toJSON()`).
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    pub workbook: Option<String>,
    pub token: TokenSource,
    pub signal: Option<Signal>,
}

/// Reads the options every call shares; `with_workbook` is false for
/// `$batch` calls, whose items carry their own.
pub fn read_call(o: &JsOptions<'_>, with_workbook: bool) -> Result<JsCall, Error> {
    let workbook = if with_workbook {
        Some(o.string("workbook")?)
    } else {
        None
    };
    let token = TokenSource::from_js(&o.get("accessToken")?)?;
    let scopes = match o.get("scopes")?.is_undefined() {
        true => None,
        false => Some(o.string_array("scopes")?),
    };
    if let Some(s) = &scopes {
        check_scopes(s)?;
    }
    let fetch = o.opt_function("fetch")?;
    let on_event = o.opt_function("onEvent")?;
    let base_url = o.opt_string("baseUrl")?;
    let timeout_ms = o.opt_number("timeoutMs")?;
    let max_retries = o.opt_number("maxRetries")?;
    let max_retry_after_ms = o.opt_number("maxRetryAfterMs")?;
    let client_request_id = o.opt_string("clientRequestId")?;
    let allowed_hosts = o.string_array("allowedHosts")?;
    let signal = o.signal()?;
    phases::switch(Phase::Validate);
    let mut call = Call::new(
        &CallInput {
            workbook: workbook.as_deref(),
            base_url: base_url.as_deref(),
            timeout_ms,
            max_retries,
            max_retry_after_ms,
            client_request_id: client_request_id.as_deref(),
            allowed_hosts: &allowed_hosts,
        },
        fresh_client_request_id,
    )?;
    phases::switch(Phase::Options);
    let token = token.with_scopes(scopes.unwrap_or_else(|| default_scopes(&call.base)));
    if fetch.is_some() || token.renews() || on_event.is_some() {
        call.transport = Some(Rc::new(Transport {
            fetch,
            token: token.clone(),
            on_event,
        }));
    }
    Ok(JsCall {
        call,
        workbook,
        token,
        signal,
    })
}

impl JsCall {
    /// Resolves the token for the call's first request (to `url`); an
    /// already-aborted signal ends the call first.
    pub async fn token(&self, url: &str) -> Result<String, Error> {
        if crate::shell::abort::caller_aborted(self.signal.as_deref()) {
            return Err(with_call(aborted(0), &self.call, ""));
        }
        self.token
            .resolve(url, self.signal.as_deref(), self.call.timeout_ms)
            .await
            .map_err(|e| with_call(e, &self.call, ""))
    }
}

#[cfg(feature = "full")]
/// Reads createSession's own options (besides the shared ones).
pub fn read_create(o: &JsOptions<'_>) -> Result<CreateParams, Error> {
    Ok(CreateParams {
        persist_changes: o.opt_bool("persistChanges")?.unwrap_or(true),
        // workbook-best-practice.md: createSession with `Prefer: respond-async`.
        prefer_async: o.opt_bool("preferAsync")?.unwrap_or(true),
        create_timeout_ms: integer(
            "createTimeoutMs",
            o.opt_number("createTimeoutMs")?,
            1,
            MAX_CREATE_TIMEOUT_MS,
            DEFAULT_CREATE_TIMEOUT_MS,
        )?,
        poll_interval_ms: integer(
            "pollIntervalMs",
            o.opt_number("pollIntervalMs")?,
            MIN_POLL_INTERVAL_MS,
            MAX_CREATE_TIMEOUT_MS,
            DEFAULT_POLL_INTERVAL_MS,
        )?,
    })
}
