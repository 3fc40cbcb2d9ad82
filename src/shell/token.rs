//! The `accessToken` option: a string, a function returning a string or a
//! promise of one, or an object with `getAccessToken()` (the Graph JS SDK's
//! `AuthenticationProvider` shape). Resolved once per call, after the other
//! options are checked and before the first request, within the call's
//! `timeoutMs`: a provider that never settles ends the call with `timeout`
//! instead of wedging it.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::abort::{race_abort, AttemptGuard};
use super::exchange::aborted;
use super::sys::AbortSignal;
use crate::protocol::error::{Code, Error};
use crate::protocol::validate::check_token;

/// Where the token comes from.
#[derive(Clone)]
pub enum TokenSource {
    Static(String),
    Function(Function),
    Provider(JsValue, Function),
}

impl TokenSource {
    /// Reads the option; a wrong shape is `invalidArgument`.
    pub fn from_js(v: &JsValue) -> Result<TokenSource, Error> {
        if let Some(s) = v.as_string() {
            check_token(&s, Code::InvalidArgument)?;
            return Ok(TokenSource::Static(s));
        }
        if let Some(f) = v.dyn_ref::<Function>() {
            return Ok(TokenSource::Function(f.clone()));
        }
        if v.is_object() {
            if let Ok(get) = Reflect::get(v, &JsValue::from_str("getAccessToken")) {
                if let Some(f) = get.dyn_ref::<Function>() {
                    return Ok(TokenSource::Provider(v.clone(), f.clone()));
                }
            }
        }
        let why = if v.is_undefined() {
            " is required"
        } else {
            " must be a string, a function, or an object with getAccessToken()"
        };
        Err(Error::local(Code::InvalidArgument, &["options.accessToken", why]))
    }

    /// The token for this call; a provider that throws, rejects or gives
    /// anything but a usable string is `tokenProvider`; one that has not
    /// settled after `timeout_ms` is `timeout`; the caller's signal ends the
    /// wait at once (`aborted`).
    pub async fn resolve(&self, signal: Option<&AbortSignal>, timeout_ms: u32) -> Result<String, Error> {
        let called = match self {
            TokenSource::Static(s) => return Ok(s.clone()),
            TokenSource::Function(f) => f.call0(&JsValue::UNDEFINED),
            TokenSource::Provider(this, f) => f.call0(this),
        };
        // The provider's own error is not attached: it is the caller's code
        // and could quote anything, the token included.
        let failed = || Error::local(Code::TokenProvider, &["the accessToken provider threw or rejected"]);
        let value = match called {
            Ok(v) => v,
            Err(_) => return Err(failed()),
        };
        let bound = AttemptGuard::new(timeout_ms, signal).map_err(|_| failed())?;
        let value = match race_abort(Promise::resolve(&value), Some(&bound.signal())).await {
            Ok(v) => v,
            Err(None) if bound.timed_out() => {
                return Err(Error::local(
                    Code::Timeout,
                    &["the accessToken provider did not answer within options.timeoutMs"],
                ))
            }
            Err(None) => return Err(aborted(0)),
            Err(Some(_)) => return Err(failed()),
        };
        match value.as_string() {
            Some(token) => {
                check_token(&token, Code::TokenProvider)?;
                Ok(token)
            }
            None => Err(Error::local(
                Code::TokenProvider,
                &["the accessToken provider returned something other than a string"],
            )),
        }
    }
}
