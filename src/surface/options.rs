//! Reading JavaScript option objects into the protocol's plain values.
//! Every bag is read in one crossing by `options.js` ([`Bag`]), which
//! checks the types (a number where a string belongs, a `Symbol`, `null`
//! ...) but the booleans' ([`Bag::opt_bool`]); values are checked here
//! and by the core, each at its key's place in the list. A getter that throws or a Proxy trap
//! becomes `invalidArgument`, never a panic.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;

use js_sys::{Function, JsString};
use wasm_bindgen::{JsCast, JsValue};

use crate::protocol::error::{Code, Error};
use crate::protocol::validate::{check_scopes, check_token, default_scopes, Call, CallInput};
use crate::shell::abort::{aborted, Signal};
use crate::shell::exchange::{with_call, Transport};
use crate::shell::phases::{self, Phase};
use crate::shell::sys::fresh_client_request_id;
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

/// The key lists a [`Bag`] reads, each key once and in this order, with
/// the type `options.js` checks (`s` a string, `n` a number, `f` a
/// function, `l` an array of strings, `o` an object, `t` a token, `a`
/// anything, the booleans included, checked by [`Bag::opt_bool`]): as JS
/// strings made once. Read in this order by [`read_call_from`] and the
/// readers after it.
#[rustfmt::skip]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, static_string)]
    static SESSION_CALL_KEYS: JsString = "sworkbook taccessToken lscopes ffetch fonEvent sbaseUrl ntimeoutMs nmaxRetries nmaxRetryAfterMs sclientRequestId lallowedHosts osignal ssessionId";
    #[cfg(feature = "full")]
    #[wasm_bindgen(thread_local_v2, static_string)]
    static BATCH_CALL_KEYS: JsString = "taccessToken lscopes ffetch fonEvent sbaseUrl ntimeoutMs nmaxRetries nmaxRetryAfterMs sclientRequestId lallowedHosts osignal";
    #[cfg(feature = "full")]
    #[wasm_bindgen(thread_local_v2, static_string)]
    static CREATE_KEYS: JsString = "sworkbook taccessToken lscopes ffetch fonEvent sbaseUrl ntimeoutMs nmaxRetries nmaxRetryAfterMs sclientRequestId lallowedHosts osignal apersistChanges apreferAsync ncreateTimeoutMs npollIntervalMs";
    #[cfg(feature = "full")]
    #[wasm_bindgen(thread_local_v2, static_string)]
    static ATTACH_KEYS: JsString = "sworkbook taccessToken lscopes ffetch fonEvent sbaseUrl ntimeoutMs nmaxRetries nmaxRetryAfterMs sclientRequestId lallowedHosts osignal ssessionId apersistChanges apreferAsync ncreateTimeoutMs npollIntervalMs";
    #[cfg(feature = "full")]
    #[wasm_bindgen(thread_local_v2, static_string)]
    static ITEM_KEYS: JsString = "sworkbook ssessionId";
    #[cfg(feature = "full")]
    #[wasm_bindgen(thread_local_v2, static_string)]
    static SIGNAL_KEYS: JsString = "osignal";
    #[cfg(feature = "full")]
    #[wasm_bindgen(thread_local_v2, static_string)]
    static KEEP_ALIVE_KEYS: JsString = "nintervalMs fonRefresh fonError fonLost fonRecreated arecreate osignal";
    #[cfg(feature = "full")]
    #[wasm_bindgen(thread_local_v2, static_string)]
    static FETCH_INIT_KEYS: JsString = "smethod aheaders abody ajson aconcurrent arecreate osignal";
}

/// The key lists of [`Bag::read_list`].
#[cfg(feature = "full")]
#[derive(Clone, Copy)]
pub enum Keys {
    /// `createSession`'s and `WorkbookSession.create`'s: the call's, then
    /// [`read_create`]'s.
    Create,
    /// `WorkbookSession.attach`'s: the call's, `sessionId`, then [`read_create`]'s.
    Attach,
    /// A `$batch` item: `workbook`, `sessionId`.
    Item,
    /// `{ signal }` of a session's `refresh()` and `close()`.
    Signal,
    /// `keepAlive`'s: `intervalMs`, `onRefresh`, `onError`, `onLost`,
    /// `onRecreated`, `recreate`, `signal`.
    KeepAlive,
    /// `session.fetch`'s init: `method`, `headers`, `body`, `json`,
    /// `concurrent`, `recreate`, `signal`.
    FetchInit,
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/surface/options.js")]
extern "C" {
    /// Reads every key of `keys` from `options` (src/surface/options.js).
    #[wasm_bindgen(catch, js_name = readOptions)]
    fn read_options(options: &JsValue, keys: &JsString) -> Result<String, JsValue>;
    /// The `i`th value the last [`read_options`] kept.
    #[wasm_bindgen(js_name = optionValue)]
    fn option_value(i: u32) -> JsValue;
}

/// An option bag read in one crossing (`options.js`, which checks the
/// types), then taken key by key in its list's order.
pub struct Bag {
    text: String,
    at: usize,
    /// The functions, objects and numbers, taken out of JS before any
    /// caller code runs again (a getter that re-enters would replace JS's
    /// list).
    kept: alloc::vec::IntoIter<JsValue>,
}

impl Bag {
    fn read(options: &JsValue, keys: &'static wasm_bindgen::JsThreadLocal<JsString>) -> Bag {
        let text = keys.with(|k| read_options(options, k)).unwrap_or_default();
        let mut bag = Bag {
            text,
            at: 0,
            kept: Vec::new().into_iter(),
        };
        let kept: Vec<JsValue> = (0..bag.count() as u32).map(option_value).collect();
        bag.kept = kept.into_iter();
        bag
    }

    fn byte(&mut self) -> u8 {
        let b = self.text.as_bytes().get(self.at).copied().unwrap_or(b'!');
        self.at += 1;
        b
    }

    /// Digits up to a comma.
    fn count(&mut self) -> usize {
        let mut n: usize = 0;
        loop {
            match self.byte() {
                d @ b'0'..=b'9' => n = n.saturating_mul(10).saturating_add((d - b'0') as usize),
                _ => return n,
            }
        }
    }

    /// A string: its length in UTF-16 units, a comma, and itself.
    fn text_string(&mut self) -> String {
        let len = self.count();
        let rest = self.text.get(self.at..).unwrap_or_default();
        let mut units = 0;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                let done = units >= len;
                units += c.len_utf16();
                done
            })
            .map_or(rest.len(), |(i, _)| i);
        self.at += end;
        rest.get(..end).unwrap_or_default().into()
    }

    /// The next key: `None` when undefined, else its mark (`1` a string,
    /// `2` kept); the message `options.js` gave when it refused the key.
    fn next(&mut self) -> Result<Option<u8>, Error> {
        match self.byte() {
            b'0' => Ok(None),
            b'!' => Err(Error::local(
                Code::InvalidArgument,
                &[self.text.get(self.at..).unwrap_or("options could not be read")],
            )),
            b => Ok(Some(b)),
        }
    }

    /// Reads one of the lists besides the call's.
    #[cfg(feature = "full")]
    pub fn read_list(options: &JsValue, keys: Keys) -> Bag {
        Bag::read(
            options,
            match keys {
                Keys::Create => &CREATE_KEYS,
                Keys::Attach => &ATTACH_KEYS,
                Keys::Item => &ITEM_KEYS,
                Keys::Signal => &SIGNAL_KEYS,
                Keys::KeepAlive => &KEEP_ALIVE_KEYS,
                Keys::FetchInit => &FETCH_INIT_KEYS,
            },
        )
    }

    fn kept(&mut self) -> JsValue {
        self.kept.next().unwrap_or(JsValue::UNDEFINED)
    }

    pub fn string(&mut self, key: &str) -> Result<String, Error> {
        self.opt_string()?.ok_or_else(|| invalid(key, " is required"))
    }

    pub fn opt_string(&mut self) -> Result<Option<String>, Error> {
        Ok(self.next()?.map(|_| self.text_string()))
    }

    pub fn opt_number(&mut self) -> Result<Option<f64>, Error> {
        Ok(self.next()?.map(|_| self.kept().as_f64().unwrap_or(f64::NAN)))
    }

    pub fn opt_function(&mut self) -> Result<Option<Function>, Error> {
        Ok(self.next()?.map(|_| self.kept().unchecked_into()))
    }

    #[cfg(feature = "full")]
    /// A boolean, read as `a` (anything) and checked here.
    pub fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, Error> {
        match self.next()? {
            Some(_) => self
                .kept()
                .as_bool()
                .map(Some)
                .ok_or_else(|| invalid(key, " must be a boolean")),
            None => Ok(None),
        }
    }

    /// Any value (`undefined` when absent), unchecked.
    #[cfg(feature = "full")]
    pub fn value(&mut self) -> Result<JsValue, Error> {
        Ok(match self.next()? {
            Some(_) => self.kept(),
            None => JsValue::UNDEFINED,
        })
    }

    /// An array of strings; `None` when undefined.
    pub fn opt_strings(&mut self) -> Result<Option<Vec<String>>, Error> {
        Ok(self
            .next()?
            .map(|_| (0..self.count()).map(|_| self.text_string()).collect()))
    }

    /// `accessToken`, as [`TokenSource::from_js`] reads it.
    pub fn token(&mut self) -> Result<TokenSource, Error> {
        let v = match self.next()? {
            Some(b'1') => {
                let s = self.text_string();
                check_token(&s, Code::InvalidArgument)?;
                return Ok(TokenSource::Static(s));
            }
            Some(_) => self.kept(),
            None => JsValue::UNDEFINED,
        };
        TokenSource::from_js(&v)
    }

    /// `signal`: anything shaped like an `AbortSignal` (checked by shape,
    /// not `instanceof`, so signals from another realm work), read once and
    /// linked to a signal of ours ([`Signal::link`]), the only one read later.
    pub fn signal(&mut self) -> Result<Option<Signal>, Error> {
        match self.next()? {
            Some(_) => Signal::link(&self.kept())
                .map(Some)
                .map_err(|_| invalid("signal", " must be an AbortSignal")),
            None => Ok(None),
        }
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
    /// Whether the caller gave `clientRequestId`.
    #[cfg(feature = "full")]
    pub fixed_client_request_id: bool,
}

#[cfg(feature = "full")]
/// Reads a `$batch` call's options: the shared ones but `workbook` (its
/// items carry their own). One crossing ([`Bag`]).
pub fn read_batch_call(options: &JsValue) -> Result<JsCall, Error> {
    read_call_from(&mut Bag::read(options, &BATCH_CALL_KEYS), false)
}

/// Reads a refreshSession's or closeSession's options: the shared ones
/// and `sessionId`, in one crossing.
pub fn read_session_call(options: &JsValue) -> Result<(JsCall, String), Error> {
    let mut bag = Bag::read(options, &SESSION_CALL_KEYS);
    let c = read_call_from(&mut bag, true)?;
    Ok((c, bag.string("sessionId")?))
}

/// Reads the options every call shares, the start of `o`'s list;
/// `with_workbook` is false for `$batch` calls.
pub fn read_call_from(o: &mut Bag, with_workbook: bool) -> Result<JsCall, Error> {
    let workbook = if with_workbook {
        Some(o.string("workbook")?)
    } else {
        None
    };
    let token = o.token()?;
    let scopes = o.opt_strings()?;
    if let Some(s) = &scopes {
        check_scopes(s)?;
    }
    let fetch = o.opt_function()?;
    let on_event = o.opt_function()?;
    let base_url = o.opt_string()?;
    let timeout_ms = o.opt_number()?;
    let max_retries = o.opt_number()?;
    let max_retry_after_ms = o.opt_number()?;
    let client_request_id = o.opt_string()?;
    #[cfg(feature = "full")]
    let fixed_client_request_id = client_request_id.is_some();
    let allowed_hosts = o.opt_strings()?.unwrap_or_default();
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
        #[cfg(feature = "full")]
        fixed_client_request_id,
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
/// Reads createSession's own options (besides the shared ones), the end
/// of [`Keys::Create`] and [`Keys::Attach`].
pub fn read_create(o: &mut Bag) -> Result<CreateParams, Error> {
    Ok(CreateParams {
        persist_changes: o.opt_bool("persistChanges")?.unwrap_or(true),
        // workbook-best-practice.md: createSession with `Prefer: respond-async`.
        prefer_async: o.opt_bool("preferAsync")?.unwrap_or(true),
        create_timeout_ms: integer(
            "createTimeoutMs",
            o.opt_number()?,
            1,
            MAX_CREATE_TIMEOUT_MS,
            DEFAULT_CREATE_TIMEOUT_MS,
        )?,
        poll_interval_ms: integer(
            "pollIntervalMs",
            o.opt_number()?,
            MIN_POLL_INTERVAL_MS,
            MAX_CREATE_TIMEOUT_MS,
            DEFAULT_POLL_INTERVAL_MS,
        )?,
    })
}
