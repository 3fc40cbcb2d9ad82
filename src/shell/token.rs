//! The `accessToken` option, every token source Graph users have:
//! - a string;
//! - a function returning a string or a promise of one;
//! - a Graph JS SDK `AuthenticationProvider`: `getAccessToken()`;
//! - an `@azure/identity` `TokenCredential`: `getToken(scopes, { abortSignal })`
//!   resolving to `{ token, expiresOnTimestamp }` (or `null`);
//! - a Kiota `AccessTokenProvider`: `getAuthorizationToken(url)`, given
//!   the request's URL.
//!
//! Resolved once per call, after the other options are checked and before
//! the first request, within the call's `timeoutMs`: a provider that never
//! settles ends the call with `timeout` instead of wedging it; again, once,
//! after a 401 (see `exchange`). A provider that throws or rejects with an
//! object is `tokenProvider` with that object as the error's `cause`, so
//! MSAL's `InteractionRequiredAuthError` reaches the caller intact; the
//! message never quotes it (it is the caller's code and could quote anything,
//! the token included), and a thrown primitive (which may be the token
//! itself) is not kept.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::abort::aborted;
use super::abort::{race_abort, AttemptGuard};
use super::sys::{set, AbortSignal};
use crate::protocol::error::{Code, Error};
use crate::protocol::validate::check_token;

/// Where the token comes from.
#[derive(Clone)]
pub enum TokenSource {
    Static(String),
    Function(Function),
    /// Graph SDK `AuthenticationProvider`: `this`, `getAccessToken`.
    Provider(JsValue, Function),
    /// `TokenCredential`: `this`, `getToken`, the scopes to ask for.
    Credential(JsValue, Function, Rc<[String]>),
    /// Kiota `AccessTokenProvider`: `this`, `getAuthorizationToken`.
    Kiota(JsValue, Function),
}

/// `v[name]` when it is a function; reading it is the caller's code (a
/// getter, a Proxy trap), and a throw there is `invalidArgument` naming the
/// member, not a wrong shape.
fn method(v: &JsValue, name: &str) -> Result<Option<Function>, Error> {
    match Reflect::get(v, &JsValue::from_str(name)) {
        Ok(f) => Ok(f.dyn_into::<Function>().ok()),
        Err(_) => Err(Error::local(
            Code::InvalidArgument,
            &["options.accessToken.", name, " could not be read"],
        )),
    }
}

impl TokenSource {
    /// Reads the option; a wrong shape is `invalidArgument`. A
    /// `TokenCredential` gets its scopes from [`TokenSource::with_scopes`].
    pub fn from_js(v: &JsValue) -> Result<TokenSource, Error> {
        if let Some(s) = v.as_string() {
            check_token(&s, Code::InvalidArgument)?;
            return Ok(TokenSource::Static(s));
        }
        if let Some(f) = v.dyn_ref::<Function>() {
            return Ok(TokenSource::Function(f.clone()));
        }
        if v.is_object() {
            if let Some(f) = method(v, "getAccessToken")? {
                return Ok(TokenSource::Provider(v.clone(), f));
            }
            if let Some(f) = method(v, "getToken")? {
                return Ok(TokenSource::Credential(v.clone(), f, Rc::from([])));
            }
            if let Some(f) = method(v, "getAuthorizationToken")? {
                return Ok(TokenSource::Kiota(v.clone(), f));
            }
        }
        let why = if v.is_undefined() {
            " is required"
        } else {
            " must be a string, a function, or an object with getAccessToken(), getToken(scopes) or getAuthorizationToken(url)"
        };
        Err(Error::local(Code::InvalidArgument, &["options.accessToken", why]))
    }

    /// The scopes a `TokenCredential` asks for (other sources ignore them).
    pub fn with_scopes(self, scopes: Vec<String>) -> TokenSource {
        match self {
            TokenSource::Credential(this, f, _) => TokenSource::Credential(this, f, scopes.into()),
            other => other,
        }
    }

    /// Whether a fresh token may differ from the last: anything but a string.
    pub fn renews(&self) -> bool {
        !matches!(self, TokenSource::Static(_))
    }

    /// The token for a request to `url` (Kiota's provider is given it); a
    /// provider that throws, rejects or gives anything but a usable string
    /// is `tokenProvider`; one that has not settled after `timeout_ms` is
    /// `timeout`; the caller's signal ends the wait at once (`aborted`).
    pub async fn resolve(&self, url: &str, signal: Option<&AbortSignal>, timeout_ms: u32) -> Result<String, Error> {
        if let TokenSource::Static(s) = self {
            return Ok(s.clone());
        }
        let bound = AttemptGuard::new(timeout_ms, signal).map_err(|_| failed(JsValue::UNDEFINED))?;
        let called = match self {
            TokenSource::Static(s) => return Ok(s.clone()),
            TokenSource::Function(f) => f.call0(&JsValue::UNDEFINED),
            TokenSource::Provider(this, f) => f.call0(this),
            TokenSource::Credential(this, f, scopes) => {
                let list: Array = scopes.iter().map(|s| JsValue::from_str(s)).collect();
                let options = Object::new();
                set(&options, "abortSignal", &bound.signal());
                f.call2(this, &list, &options)
            }
            TokenSource::Kiota(this, f) => f.call1(this, &JsValue::from_str(url)),
        };
        let value = match called {
            Ok(v) => v,
            Err(thrown) => return Err(failed(thrown)),
        };
        let value = match race_abort(Promise::resolve(&value), Some(&bound.signal())).await {
            Ok(v) => v,
            Err(None) if bound.timed_out() => {
                return Err(Error::local(
                    Code::Timeout,
                    &["the accessToken provider did not answer within options.timeoutMs"],
                ))
            }
            Err(None) => return Err(aborted(0)),
            Err(Some(rejected)) => return Err(failed(rejected)),
        };
        let value = match self {
            // `{ token, expiresOnTimestamp }`, or null when it has none.
            TokenSource::Credential(..) if value.is_object() => {
                Reflect::get(&value, &JsValue::from_str("token")).unwrap_or(JsValue::UNDEFINED)
            }
            TokenSource::Credential(..) => {
                return Err(Error::local(
                    Code::TokenProvider,
                    &["the TokenCredential's getToken() gave no token (null)"],
                ))
            }
            _ => value,
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

/// `tokenProvider`, with what the provider threw or rejected with as the
/// cause when it is an object (an `Error`); never in the message.
fn failed(thrown: JsValue) -> Error {
    let e = Error::local(Code::TokenProvider, &["the accessToken provider threw or rejected"]);
    if thrown.is_object() || thrown.is_function() {
        e.with_cause(Rc::new(thrown))
    } else {
        e
    }
}
