//! One attempt's pieces, which the driver (`shell::exchange`) puts
//! together: the `fetch` init of a lifecycle request, the dispatch through
//! the call's `fetch`, the answer read bounded and scrubbed of the token.
//! No policy here: what to do with the answer is the core's business.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Function, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::abort::AttemptGuard;
use super::sys::{
    cancel_stream, fetch, get, promise_resolve, read_body as sys_read_body, AbortSignal, ReadableStream, Response,
};
use crate::protocol::request::{Answer, Request};
use crate::protocol::retry::is_redirect;

/// The most of a body that is read: Graph's error and status bodies are a
/// few hundred bytes; a 10 MB error page is cut here, not buffered.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why no answer came.
pub enum NoAnswer {
    Network,
    Redirect,
    Timeout,
    Aborted,
    /// A header could not be set (the platform's `Headers` refused its
    /// value): nothing was sent, and sending again would fail the same way.
    HeaderRefused,
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/shell/init.js")]
extern "C" {
    /// `{ method, redirect: "manual", headers, body, signal }`, the headers
    /// from their text ([`header_text`]).
    #[wasm_bindgen(js_name = requestInit)]
    fn request_init(method: &str, headers: &str, body: Option<&str>, signal: &AbortSignal) -> Object;
}

/// Headers as `init.js` takes them: name and value, each followed by a line
/// feed. `None` when a value holds one (the checks keep every value
/// printable ASCII, so this is never expected).
pub fn header_text<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<String> {
    let mut text = String::with_capacity(256);
    for (name, value) in headers {
        if value.bytes().any(|b| b == b'\n') {
            return None;
        }
        for s in [name, "\n", value, "\n"] {
            text.push_str(s);
        }
    }
    Some(text)
}

/// The `fetch` init of attempt number `attempt`, its headers the protocol's
/// ([`Request::headers`]), built in one crossing (`init.js`).
/// `redirect: "manual"`, not `"error"`: workerd rejects `"error"`, and
/// [`dispatch`] treats an unfollowed redirect as no answer, so the token
/// never follows one.
pub fn fetch_init(
    req: &Request,
    token: &str,
    client_request_id: &str,
    attempt: u32,
    signal: &AbortSignal,
) -> Result<Object, NoAnswer> {
    let headers = req.headers(token, client_request_id, attempt);
    let text = header_text(headers.iter().map(|(k, v)| (*k, v.as_str()))).ok_or(NoAnswer::HeaderRefused)?;
    Ok(request_init(req.method.as_str(), &text, req.body.as_deref(), signal))
}

/// Why an attempt ended without an answer: the caller's abort, the
/// attempt's timer, or the network.
fn no_answer(guard: &AttemptGuard, caller: Option<&AbortSignal>) -> NoAnswer {
    if super::abort::caller_aborted(caller) {
        NoAnswer::Aborted
    } else if guard.timed_out() {
        NoAnswer::Timeout
    } else {
        NoAnswer::Network
    }
}

/// Hands `init` (its `signal` the attempt guard's) to the caller's `fetch`
/// (`via`) or the global one and waits for the answer's head. A redirect is
/// no answer (the token never follows one): its body is released unread.
pub async fn dispatch(
    url: &str,
    init: &Object,
    via: Option<&Function>,
    guard: &AttemptGuard,
    caller: Option<&AbortSignal>,
) -> Result<Head, NoAnswer> {
    let promise = match via {
        // Whatever the caller's fetch returns is awaited (a promise, a
        // thenable, a Response); a throw is a failed request.
        Some(f) => f
            .call2(&JsValue::UNDEFINED, &JsValue::from_str(url), init)
            .and_then(|v| promise_resolve(&v)),
        None => fetch(url, init.unchecked_ref()),
    };
    let promise = promise.map_err(|_| no_answer(guard, caller))?;
    // A caller's fetch may ignore the signal and never settle: the attempt's
    // timer (and the caller's abort) still ends the attempt. The global
    // fetch honours its signal itself.
    let answered = match via {
        Some(_) => super::abort::race_abort(promise, Some(&guard.signal()))
            .await
            .map_err(|_| ()),
        None => JsFuture::from(promise).await.map_err(|_| ()),
    };
    let head = match answered {
        Ok(r) if via.is_none() => Head::native(r.unchecked_into()),
        // Read once, through catching accessors: a caller's fetch may answer
        // with another realm's Response, a polyfill's, or an object whose
        // getters throw (issue 22).
        Ok(r) => Head::read(r).ok_or(NoAnswer::Network)?,
        Err(()) => return Err(no_answer(guard, caller)),
    };
    if is_redirect(head.status) {
        // Not read, so release the connection.
        if let Some(body) = &head.body {
            if let Ok(cancelled) = cancel_stream(body) {
                super::task::spawn(Box::pin(async move {
                    let _ = JsFuture::from(cancelled).await;
                }));
            }
        }
        return Err(match no_answer(guard, caller) {
            NoAnswer::Network => NoAnswer::Redirect,
            other => other,
        });
    }
    Ok(head)
}

/// An answer's head, read once: what every later step looks at.
pub struct Head {
    /// The answer itself (handed back to `session.fetch`'s caller on a 2xx).
    #[cfg_attr(not(feature = "full"), allow(dead_code))]
    pub response: Response,
    pub status: u16,
    headers: web_sys::Headers,
    body: Option<ReadableStream>,
}

impl Head {
    /// The runtime's own `Response`: its getters are the platform's.
    fn native(response: Response) -> Head {
        Head {
            status: response.status(),
            headers: response.headers(),
            body: response.body(),
            response,
        }
    }

    /// Anything a caller's `fetch` answered: a numeric `status`, and
    /// `headers` with a `get` (their `get` is called through a catching
    /// binding); `None` when it is not such a thing or one of those
    /// getters threw.
    fn read(v: JsValue) -> Option<Head> {
        if !v.is_object() {
            return None;
        }
        let status = get(&v, "status").ok()?.as_f64()?;
        let headers = get(&v, "headers").ok()?;
        if !get(&headers, "get").ok()?.is_function() || !(0.0..=999.0).contains(&status) {
            return None;
        }
        // A `body` that cannot be read is no body: the status decides.
        let body = get(&v, "body").ok().filter(JsValue::is_object);
        Some(Head {
            status: status as u16,
            headers: headers.unchecked_into(),
            body: body.map(JsCast::unchecked_into),
            response: v.unchecked_into(),
        })
    }

    /// A header's value; a `get` that throws is no value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }
}

/// The answer's status, headers and body (bounded, not read for a 204),
/// scrubbed of the token.
pub async fn read_answer(
    head: &Head,
    token: &str,
    guard: &AttemptGuard,
    caller: Option<&AbortSignal>,
) -> Result<Answer, NoAnswer> {
    let status = head.status;
    let mut answer = Answer {
        status,
        request_id: head.header("request-id"),
        retry_after: head.header("retry-after"),
        location: head.header("location"),
        body: String::new(),
    };
    let mut truncated = false;
    if status != 204 {
        match read_body(head.body.as_ref(), &guard.signal()).await {
            Ok((body, cut)) => {
                answer.body = body;
                truncated = cut;
            }
            // A body cut off mid-way still leaves the status, which is what
            // decides; but a caller abort or a timeout must end the attempt.
            Err(()) if super::abort::caller_aborted(caller) => return Err(NoAnswer::Aborted),
            Err(()) if guard.timed_out() => return Err(NoAnswer::Timeout),
            Err(()) => truncated = true,
        }
    }
    answer.scrub(token, truncated);
    Ok(answer)
}

/// The body up to [`MAX_BODY_BYTES`], and whether it was cut there; read
/// in one crossing (`body.js`).
async fn read_body(stream: Option<&ReadableStream>, signal: &AbortSignal) -> Result<(String, bool), ()> {
    let Some(stream) = stream else {
        return Ok((String::new(), false));
    };
    let bytes = JsFuture::from(sys_read_body(stream, MAX_BODY_BYTES as u32, signal))
        .await
        .map_err(|_| ())?;
    let bytes = bytes.unchecked_into::<Uint8Array>().to_vec();
    let cut = bytes.len() >= MAX_BODY_BYTES;
    Ok((utf8_prefix(bytes), cut))
}

/// The body as text, up to its first byte that is not UTF-8 (a body cut at
/// [`MAX_BODY_BYTES`] may end inside a character): Graph's bodies are
/// UTF-8 JSON, and a lossy decoding would link core's `Utf8Chunks` for
/// bodies no rule reads.
fn utf8_prefix(mut buf: Vec<u8>) -> String {
    if let Err(e) = core::str::from_utf8(&buf) {
        buf.truncate(e.valid_up_to());
    }
    String::from_utf8(buf).unwrap_or_default()
}
