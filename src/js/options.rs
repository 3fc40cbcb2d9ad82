//! Reading JavaScript option objects. Types are checked here (a number where
//! a string belongs, a `Symbol`, `null` ...); values are checked by the core.
//! A getter that throws or a Proxy trap becomes `invalidArgument`, never a
//! panic.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::sys::AbortSignal;
use crate::core::error::{Code, Error};

fn invalid(key: &str, why: &str) -> Error {
    Error::local(Code::InvalidArgument, &["options.", key, why])
}

/// A JS options object.
pub struct Opts<'a>(pub &'a JsValue);

impl Opts<'_> {
    /// Checks that the options are an object at all.
    pub fn new(v: &JsValue) -> Result<Opts<'_>, Error> {
        if v.is_object() && !Array::is_array(v) {
            Ok(Opts(v))
        } else {
            Err(Error::local(Code::InvalidArgument, &["options must be an object"]))
        }
    }

    pub fn get(&self, key: &str) -> Result<JsValue, Error> {
        Reflect::get(self.0, &JsValue::from_str(key)).map_err(|_| invalid(key, " could not be read"))
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
        v.dyn_into::<Function>().map(Some).map_err(|_| invalid(key, " must be a function"))
    }

    pub fn string_array(&self, key: &str) -> Result<Vec<String>, Error> {
        let v = self.get(key)?;
        if v.is_undefined() {
            return Ok(Vec::new());
        }
        let not_strings = || invalid(key, " must be an array of strings");
        if !Array::is_array(&v) {
            return Err(not_strings());
        }
        let arr: Array = v.unchecked_into();
        if arr.length() > 1000 {
            return Err(not_strings());
        }
        arr.iter().map(|x| x.as_string().ok_or_else(not_strings)).collect()
    }

    /// `signal`: anything shaped like an `AbortSignal` (checked by shape,
    /// not `instanceof`, so signals from another realm work).
    pub fn signal(&self) -> Result<Option<AbortSignal>, Error> {
        let v = self.get("signal")?;
        if v.is_undefined() {
            return Ok(None);
        }
        let is_fn = |k: &str| Reflect::get(&v, &JsValue::from_str(k)).is_ok_and(|f| f.is_function());
        let shaped = v.is_object()
            && Reflect::get(&v, &JsValue::from_str("aborted")).is_ok_and(|a| a.as_bool().is_some())
            && is_fn("addEventListener")
            && is_fn("removeEventListener");
        if shaped {
            Ok(Some(v.unchecked_into()))
        } else {
            Err(invalid("signal", " must be an AbortSignal"))
        }
    }
}
