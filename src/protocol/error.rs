//! The one error type, and the reading of Graph's error bodies.
//!
//! Graph's body is `{"error":{"code","message","innerError":{"code"?,
//! "request-id","client-request-id","date","innerError"?}}}`. The
//! **second-level** code (`error.innerError.code`) decides what a caller
//! should do (see [`super::policy`]); deeper levels are detail, kept in
//! [`Error::inner_codes`]. Codes compare case-insensitively.

#[allow(unused_imports)]
use crate::prelude::*;

use super::json::{self, Value};
use super::text;

/// What went wrong, as the stable `code` string JavaScript callers switch on.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Code {
    /// An option is missing, of the wrong type or out of range; nothing was sent.
    InvalidArgument,
    /// The base URL's host is not a Graph host, loopback or in `allowedHosts`;
    /// nothing was sent. Add the host to `allowedHosts` if it is yours.
    HostNotAllowed,
    /// The base URL uses http to a host that is not loopback; nothing was sent.
    InsecureUrl,
    /// Every attempt timed out (`timeoutMs`), or `createTimeoutMs` passed.
    Timeout,
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// `fetch` failed without an answer (refused, reset, DNS, CORS, redirect).
    Network,
    /// The `accessToken` provider threw, rejected or gave no usable string.
    TokenProvider,
    /// Graph answered something this library cannot read (e.g. a 202
    /// without `Location`, an operation without `resourceLocation`).
    InvalidResponse,
    /// Graph's own top-level code (`itemNotFound`, `tooManyRequests`, ...), or
    /// the status's name (`badRequest` ... `gatewayTimeout`) when the body had none.
    Graph(String),
}

impl Code {
    /// The code as JavaScript sees it.
    pub fn as_str(&self) -> &str {
        match self {
            Code::InvalidArgument => "invalidArgument",
            Code::HostNotAllowed => "hostNotAllowed",
            Code::InsecureUrl => "insecureUrl",
            Code::Timeout => "timeout",
            Code::Aborted => "aborted",
            Code::Network => "network",
            Code::TokenProvider => "tokenProvider",
            Code::InvalidResponse => "invalidResponse",
            Code::Graph(code) => code,
        }
    }
}

/// The inner code that means "create a new session and go on".
pub const RECREATABLE: &str = "invalidSessionReCreatable";

/// Most nested codes an error keeps (Graph sends two or three).
const MAX_INNER_CODES: usize = 16;
/// Longest message an error keeps once redacted.
const MAX_MESSAGE: usize = 1024;
/// Longest Graph message read from a body. Above the body cap (64 KiB) plus
/// a token's longest length: nothing is cut before redaction, so a token
/// echoed anywhere, up to the 64 KiB accepted, is recognised whole and
/// removed; the cut to [`MAX_MESSAGE`] comes after.
const MAX_RAW_MESSAGE: usize = 128 * 1024;

/// A failed call, with the fields of the JS `GraphError` behind getters.
/// Boxed because results are moved through every layer and async state
/// machine: an 8-byte error keeps that code small.
#[derive(Clone, Debug)]
pub struct Error(Box<Details>);

#[derive(Clone, Debug)]
struct Details {
    code: Code,
    message: String,
    inner_code: Option<String>,
    inner_codes: Vec<String>,
    status: u16,
    request_id: Option<String>,
    client_request_id: Option<String>,
    retry_after_ms: Option<u64>,
    attempts: u32,
    date: Option<String>,
    /// The token provider's own error (a JS value in the shell), opaque here.
    cause: Option<Cause>,
    /// Judged a session that is gone but may be created anew, whatever
    /// the codes say (a plain `404` on a sessionful request: resources/excel.md).
    session_recreatable: bool,
}

/// What the caller's own code failed with (the JS `GraphError.cause`):
/// carried, never read or printed by the protocol.
pub type Cause = alloc::rc::Rc<dyn core::any::Any>;

/// The message, after the code for errors raised here (Graph's own errors
/// carry their code in the message already).
impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0.status == 0 {
            f.write_str(self.0.code.as_str())?;
            f.write_str(": ")?;
        }
        f.write_str(&self.0.message)
    }
}

impl core::error::Error for Error {}

/// Getters: every field maps to the JS `GraphError` property of the same
/// name (camelCase there).
impl Error {
    /// The stable code.
    pub fn code(&self) -> &Code {
        &self.0.code
    }
    /// A sentence for people; never contains the access token.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// The second-level code (`error.innerError.code`) as Graph sent it, if any.
    pub fn inner_code(&self) -> Option<&str> {
        self.0.inner_code.as_deref()
    }
    /// Every nested code, outermost first, as Graph sent them (the
    /// top-level code excluded; the first is [`Error::inner_code`] when the
    /// second level has one).
    pub fn inner_codes(&self) -> &[String] {
        &self.0.inner_codes
    }
    /// What Graph's docs say to do after this error ([`super::policy::rule`]);
    /// errors raised here (status 0) are read by their status rule.
    pub fn rule(&self) -> super::policy::Rule {
        let top = match &self.0.code {
            Code::Graph(c) => Some(c.as_str()),
            _ => None,
        };
        super::policy::rule(self.0.status, top, self.0.inner_code.as_deref())
    }
    /// The HTTP status, or 0 when no answer came.
    pub fn status(&self) -> u16 {
        self.0.status
    }
    /// Graph's `request-id` (header first, then body).
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// The call's `client-request-id`.
    pub fn client_request_id(&self) -> Option<&str> {
        self.0.client_request_id.as_deref()
    }
    /// The server's `Retry-After`, in milliseconds, when it sent one.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.0.retry_after_ms
    }
    /// Requests sent for this call (0 when it failed before sending).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }
    /// Graph's `innerError.date`, if any.
    pub fn date(&self) -> Option<&str> {
        self.0.date.as_deref()
    }
    /// The token provider's own error, for `tokenProvider` errors.
    pub fn cause(&self) -> Option<&Cause> {
        self.0.cause.as_ref()
    }
}

/// Builders, for the layers that learn more about an error on its way out.
impl Error {
    /// Sets the code.
    pub fn with_code(mut self, code: Code) -> Error {
        self.0.code = code;
        self
    }
    /// Sets the message.
    pub fn with_message(mut self, message: &str) -> Error {
        self.0.message = message.into();
        self
    }
    /// Sets the second-level `innerError.code` (and the nested codes to it alone).
    pub fn with_inner_code(mut self, inner_code: Option<&str>) -> Error {
        self.0.inner_code = inner_code.map(String::from);
        self.0.inner_codes = inner_code.map(String::from).into_iter().collect();
        self
    }
    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Error {
        self.0.status = status;
        self
    }
    /// Sets Graph's `request-id`.
    pub fn with_request_id(mut self, request_id: Option<&str>) -> Error {
        self.0.request_id = request_id.map(String::from);
        self
    }
    /// Sets the call's `client-request-id`.
    pub fn with_client_request_id(mut self, client_request_id: &str) -> Error {
        self.0.client_request_id = Some(client_request_id.into());
        self
    }
    /// Sets the cooldown Graph asked for.
    pub fn with_retry_after_ms(mut self, retry_after_ms: Option<u64>) -> Error {
        self.0.retry_after_ms = retry_after_ms;
        self
    }
    /// Marks the error as a session gone that may be created anew (the
    /// decision function's verdict, [`super::policy::Verdict::recreatable`]).
    pub fn with_session_recreatable(mut self, recreatable: bool) -> Error {
        self.0.session_recreatable |= recreatable;
        self
    }
    /// Sets the number of requests sent.
    pub fn with_attempts(mut self, attempts: u32) -> Error {
        self.0.attempts = attempts;
        self
    }
    /// Attaches what the caller's own code failed with.
    pub fn with_cause(mut self, cause: Cause) -> Error {
        self.0.cause = Some(cause);
        self
    }
}

impl Error {
    /// An error raised here, not by Graph; `parts` are concatenated.
    pub fn local(code: Code, parts: &[&str]) -> Error {
        Error(Box::new(Details {
            code,
            message: super::text::concat(parts),
            inner_code: None,
            inner_codes: Vec::new(),
            status: 0,
            request_id: None,
            client_request_id: None,
            retry_after_ms: None,
            attempts: 0,
            date: None,
            cause: None,
            session_recreatable: false,
        }))
    }

    /// True when Graph said the session is gone but a new one may be
    /// created: the second-level code (the top-level one when there is no
    /// second level) is `invalidSessionReCreatable`, in any case, or the
    /// decision function judged it so (a plain `404` on a request in the
    /// session: an expired session, resources/excel.md).
    pub fn recreatable(&self) -> bool {
        self.0.session_recreatable
            || self
                .0
                .inner_code
                .as_deref()
                .unwrap_or(self.0.code.as_str())
                .eq_ignore_ascii_case(RECREATABLE)
    }

    /// Builds the error for a non-success answer. `body` may be anything:
    /// JSON, HTML, truncated, empty.
    pub fn from_response(status: u16, body: &str, request_id: Option<&str>) -> Error {
        let parsed = json::parse(body);
        let error = parsed
            .as_ref()
            .and_then(|v| v.get("error"))
            .filter(|v| matches!(v, Value::Object(_)));
        let mut e = match error {
            Some(err) => from_graph_error(err),
            None => Error::local(Code::Graph(status_code_name(status).into()), &[]),
        };
        e.0.status = status;
        if let Some(id) = request_id.filter(|s| !s.is_empty()) {
            e.0.request_id = Some(id.into());
        }
        let mut prefix = String::from("Graph answered ");
        text::push_decimal(&mut prefix, u64::from(status));
        prefix.push(' ');
        e.headline(&prefix);
        e
    }

    /// Rewrites the message as `{prefix}{code} ({innerCode}): {Graph's message}`,
    /// the one shape of every error Graph itself reported.
    pub(crate) fn headline(&mut self, prefix: &str) {
        let mut m = String::with_capacity(prefix.len() + 64 + self.0.message.len());
        m.push_str(prefix);
        m.push_str(self.0.code.as_str());
        if let Some(inner) = &self.0.inner_code {
            m.push_str(" (");
            m.push_str(inner);
            m.push(')');
        }
        if !self.0.message.is_empty() {
            m.push_str(": ");
            m.push_str(&self.0.message);
        }
        self.0.message = m;
    }

    /// Removes every occurrence of `secret`, and every piece of it
    /// (`scrub`), from the text fields, so an access token that a hostile
    /// or buggy server echoes, whole or in part, never reaches the caller's
    /// logs; then bounds the message to 1 KiB (after, so that a token across
    /// the cut is still seen whole). Secrets shorter than 4 bytes are not
    /// searched for: they would shred ordinary words. When Graph refused
    /// (401/403) and `secret` is an app-only token, the message says
    /// workbook sessions need a delegated one (`protocol::delegated`).
    pub fn redact(&mut self, secret: &str) {
        let d = &mut *self.0;
        if secret.len() >= 4 {
            let code = match &mut d.code {
                Code::Graph(c) => Some(c),
                _ => None,
            };
            for field in [Some(&mut d.message), code, d.inner_code.as_mut()]
                .into_iter()
                .flatten()
                .chain(d.inner_codes.iter_mut())
                .chain(
                    [d.request_id.as_mut(), d.client_request_id.as_mut(), d.date.as_mut()]
                        .into_iter()
                        .flatten(),
                )
            {
                scrub(field, secret, true);
            }
        }
        truncate(&mut d.message, MAX_MESSAGE);
        // Every token meets every error here, so this is where a refusal of
        // an app-only token learns why (delegated.rs).
        if let Some(hint) = super::delegated::hint(d.status, secret) {
            if !d.message.ends_with(hint) {
                truncate(&mut d.message, MAX_MESSAGE - hint.len());
                d.message.push_str(hint);
            }
        }
    }
}

/// Cuts `s` to at most `max` bytes, on a char boundary.
fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// `s` with `secret` replaced by `[redacted]`. The marker and the text
/// around it can spell the secret again (secret `cted`, or `ed]x` before an
/// `x`): such leftovers are removed until none is left (found by fuzzing).
fn redacted(s: &str, secret: &str) -> String {
    let mut out = text::replace(s, secret, "[redacted]");
    while text::find(&out, secret).is_some() {
        out = text::replace(&out, secret, "");
    }
    out
}

/// The shortest piece of a token that [`scrub`] takes for an echo of it.
const PIECE: usize = 16;

/// Removes `secret` from `field` ([`redacted`]), and every piece of it a
/// server may echo: a token cut short (`eyJ0eXAi…`), its payload or its
/// signature alone, split at its dots. A piece is a run of token
/// characters (letters, digits, `-_+/=~`; anything else, `.` included,
/// ends a run) that shares [`PIECE`] bytes with the secret at either end, or
/// `PIECE * 3 / 2` bytes anywhere; the whole run becomes `[redacted]`.
/// UUIDs (Graph's request ids) are not searched: a token holds none, and
/// every answer carries one. Secrets shorter than 4 bytes are left alone,
/// as by [`Error::redact`].
///
/// `pieces: false` removes the whole secret only: for a success's body,
/// which holds no message to quote the token in, and where the search
/// would cost the most (a `$batch` answer's every `application/json` and
/// `client-request-id` is a run to search: 13 µs an item natively with a
/// 2 KB token).
pub(crate) fn scrub(field: &mut String, secret: &str, pieces: bool) {
    if secret.len() < 4 {
        return;
    }
    // Each pass that changes the text shortens it (a run of 16 bytes or
    // more, or the secret, becomes a 10-byte marker, or goes): it ends.
    loop {
        if text::find(field, secret).is_some() {
            *field = redacted(field, secret);
        }
        match without_pieces(field, secret).filter(|_| pieces) {
            Some(out) => *field = out,
            None => return,
        }
    }
}

fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'=' | b'~')
}

/// `s` with its runs that hold a piece of `secret` replaced by
/// `[redacted]`; `None` when it has none.
fn without_pieces(s: &str, secret: &str) -> Option<String> {
    if secret.len() < PIECE {
        return None;
    }
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    let mut kept = 0;
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && token_byte(b[i]) {
            i += 1;
        }
        if i == start {
            i += 1;
        } else if echoes(s.get(start..i).unwrap_or(""), secret) {
            let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
            o.push_str(s.get(kept..start).unwrap_or(""));
            o.push_str("[redacted]");
            kept = i;
        }
    }
    out.map(|mut o| {
        o.push_str(s.get(kept..).unwrap_or(""));
        o
    })
}

/// A run of token characters holds a piece of `secret`: one of its windows
/// of [`PIECE`] bytes, taken every `PIECE / 2` bytes and at its end, occurs
/// in the secret. A UUID's shape (36 bytes, four of them dashes) is not
/// searched.
fn echoes(run: &str, secret: &str) -> bool {
    if run.len() < PIECE || run.len() == 36 && run.bytes().filter(|&c| c == b'-').count() == 4 {
        return false;
    }
    let last = run.len() - PIECE;
    let mut at = 0;
    loop {
        // A run is ASCII: every position is a char boundary.
        let from = at.min(last);
        if run
            .get(from..from + PIECE)
            .is_some_and(|w| text::find(secret, w).is_some())
        {
            return true;
        }
        if at >= last {
            return false;
        }
        at += PIECE / 2;
    }
}

/// Reads Graph's `error` object (also used for a failed operation's `error`).
pub fn from_graph_error(err: &Value) -> Error {
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let mut e = Error::local(
        Code::Graph(text(err, "code").unwrap_or_else(|| "unknownError".into())),
        &[],
    );
    let mut message = text(err, "message").unwrap_or_default();
    truncate(&mut message, MAX_RAW_MESSAGE);
    e.0.message = message;
    let mut inner = err.get_ignore_case("innerError");
    let mut depth = 0usize;
    while let Some(i) = inner {
        depth += 1;
        if let Some(code) = text(i, "code") {
            if depth == 1 {
                e.0.inner_code = Some(code.clone());
            }
            if e.0.inner_codes.len() < MAX_INNER_CODES {
                e.0.inner_codes.push(code);
            }
        }
        e.0.request_id = text(i, "request-id").or(e.0.request_id.take());
        e.0.client_request_id = text(i, "client-request-id").or(e.0.client_request_id.take());
        e.0.date = text(i, "date").or(e.0.date.take());
        inner = i.get_ignore_case("innerError");
    }
    e
}

/// The top-level code used when a non-success answer has no readable body:
/// the names of workbook-error-codes.md (`unauthorized`, `forbidden`,
/// `notFound`, `payloadTooLarge` ...), then the status's own.
pub fn status_code_name(status: u16) -> &'static str {
    match status {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "notFound",
        405 => "methodNotAllowed",
        406 => "notAcceptable",
        409 => "conflict",
        410 => "gone",
        411 => "lengthRequired",
        412 => "preconditionFailed",
        413 => "payloadTooLarge",
        415 => "unsupportedMediaType",
        416 => "rangeNotSatisfiable",
        422 => "unprocessableEntity",
        423 => "locked",
        429 => "tooManyRequests",
        500 => "internalServerError",
        501 => "notImplemented",
        502 => "badGateway",
        503 => "serviceUnavailable",
        504 => "gatewayTimeout",
        507 => "insufficientStorage",
        509 => "bandwidthLimitExceeded",
        _ if status < 400 => "unexpectedRedirect",
        _ if status < 500 => "clientError",
        _ => "serverError",
    }
}

/// The codes of an error answer, as Graph sent them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Codes<'a> {
    /// `error.code`.
    pub top: Option<&'a str>,
    /// `error.innerError.code`: the one that decides.
    pub second: Option<&'a str>,
}

impl<'a> Codes<'a> {
    /// The codes of `e`.
    pub fn of(e: &'a Error) -> Codes<'a> {
        Codes {
            top: match e.code() {
                Code::Graph(c) => Some(c.as_str()),
                _ => None,
            },
            second: e.inner_code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_body_gives_codes_ids_and_the_second_level_code() {
        let body = r#"{"error":{"code":"ItemNotFound","message":"The target session is invalid.",
            "innerError":{"code":"InvalidSessionReCreatable","request-id":"r-body","client-request-id":"c1","date":"2026-11-27T08:00:00",
            "innerError":{"code":"InvalidOrTimedOutSession"}}}}"#;
        let e = Error::from_response(404, body, None);
        assert_eq!(e.code().as_str(), "ItemNotFound");
        assert_eq!(
            e.inner_code(),
            Some("InvalidSessionReCreatable"),
            "the second level, as sent"
        );
        assert_eq!(
            e.inner_codes(),
            ["InvalidSessionReCreatable", "InvalidOrTimedOutSession"]
        );
        assert!(e.recreatable(), "codes compare case-insensitively");
        assert_eq!(e.rule(), crate::protocol::policy::Rule::Recreatable);
        assert_eq!(e.request_id(), Some("r-body"));
        assert_eq!(e.client_request_id(), Some("c1"));
        assert_eq!(e.date(), Some("2026-11-27T08:00:00"));
        assert_eq!(e.status(), 404);
        assert_eq!(
            e.message(),
            "Graph answered 404 ItemNotFound (InvalidSessionReCreatable): The target session is invalid."
        );
    }

    #[test]
    fn deeper_levels_are_detail_not_the_decision() {
        let body = r#"{"error":{"code":"internalServerError","innerError":{"code":"internalServerErrorUncategorized",
            "innerError":{"code":"GenericFileOpenError","innerError":{"message":"no code here"}}}}}"#;
        let e = Error::from_response(500, body, None);
        assert_eq!(e.inner_code(), Some("internalServerErrorUncategorized"));
        assert_eq!(
            e.inner_codes(),
            ["internalServerErrorUncategorized", "GenericFileOpenError"]
        );
        // A recreatable code below the second level does not make the error recreatable.
        let body = r#"{"error":{"code":"badRequest","innerError":{"code":"invalidSession",
            "innerError":{"code":"invalidSessionReCreatable"}}}}"#;
        let e = Error::from_response(400, body, None);
        assert_eq!(e.inner_code(), Some("invalidSession"));
        assert!(!e.recreatable());
        // A second level without a code: innerCode is null, deeper codes still listed.
        let body = r#"{"error":{"code":"x","innerError":{"request-id":"r","innerError":{"code":"deep"}}}}"#;
        let e = Error::from_response(409, body, None);
        assert_eq!(e.inner_code(), None);
        assert_eq!(e.inner_codes(), ["deep"]);
    }

    #[test]
    fn header_request_id_wins_over_the_body() {
        let body = r#"{"error":{"code":"x","innerError":{"request-id":"r-body"}}}"#;
        assert_eq!(
            Error::from_response(500, body, Some("r-head")).request_id(),
            Some("r-head")
        );
        assert_eq!(Error::from_response(500, body, Some("")).request_id(), Some("r-body"));
    }

    #[test]
    fn other_invalid_session_codes_are_not_recreatable() {
        for inner in ["invalidSessionNotFound", "invalidSessionAccessDenied", "invalidSession"] {
            let body = [
                "{\"error\":{\"code\":\"badRequest\",\"innerError\":{\"code\":\"",
                inner,
                "\"}}}",
            ]
            .concat();
            let e = Error::from_response(400, &body, None);
            assert_eq!(e.inner_code(), Some(inner));
            assert!(!e.recreatable());
        }
    }

    #[test]
    fn unreadable_bodies_keep_the_status_and_name_it() {
        for (status, body, code) in [
            (400, "", "badRequest"),
            (404, "<html><body>Not Found</body></html>", "notFound"),
            (401, "", "unauthorized"),
            (403, "", "forbidden"),
            (413, "", "payloadTooLarge"),
            (429, "{\"error\":{\"code\":\"tooMany", "tooManyRequests"),
            (500, "null", "internalServerError"),
            (502, "{\"error\":\"flat string\"}", "badGateway"),
            (503, "[]", "serviceUnavailable"),
            (504, "{}", "gatewayTimeout"),
            (418, "teapot", "clientError"),
            (302, "", "unexpectedRedirect"),
        ] {
            let e = Error::from_response(status, body, None);
            assert_eq!(e.code().as_str(), code, "{status} {body}");
            assert_eq!(e.status(), status);
            assert_eq!(e.inner_code(), None);
            assert!(!e.recreatable());
        }
    }

    #[test]
    fn missing_fields_and_lowercase_innererror() {
        let e = Error::from_response(409, r#"{"error":{"innererror":{"code":"conflictDeep"}}}"#, None);
        assert_eq!(e.code().as_str(), "unknownError");
        assert_eq!(e.inner_code(), Some("conflictDeep"));
        assert_eq!(e.message(), "Graph answered 409 unknownError (conflictDeep)");
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let body = ["{\"error\":{\"code\":\"x\",\"message\":\"", &"é".repeat(5000), "\"}}"].concat();
        let mut e = Error::from_response(500, &body, None);
        e.redact("");
        assert!(e.message().len() <= 1024);
        assert!(e.message().is_char_boundary(e.message().len()));
    }

    #[test]
    fn redaction_removes_an_echoed_token_everywhere() {
        let token = "eyJ0eXAiOiJKV1Qi.secret.sig";
        let body = [
            "{\"error\":{\"code\":\"",
            token,
            "\",\"message\":\"bad token ",
            token,
            "\",\"innerError\":{\"code\":\"",
            token,
            "\"}}}",
        ]
        .concat();
        let mut e = Error::from_response(401, &body, Some(token));
        e.redact(token);
        for s in [
            e.code().as_str(),
            e.message(),
            e.inner_code().unwrap_or(""),
            e.request_id().unwrap_or(""),
        ] {
            assert!(!s.contains(token), "{s}");
        }
        assert!(e.message().contains("[redacted]"));
    }

    #[test]
    fn a_token_echoed_across_the_message_cut_is_removed_whole() {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOi.payload.signature";
        let message = ["x".repeat(1000), token.to_string()].concat();
        let body = [
            "{\"error\":{\"code\":\"InvalidAuthenticationToken\",\"message\":\"",
            &message,
            "\"}}",
        ]
        .concat();
        let mut e = Error::from_response(401, &body, None);
        e.redact(token);
        assert!(e.message().len() <= 1024);
        for n in 8..token.len() {
            assert!(
                !e.message().contains(&token[..n]),
                "a {n}-byte prefix of the token survived"
            );
        }
    }

    /// A server that echoes part of the token: cut short, its payload or
    /// its signature alone, without its signature, glued to a word.
    #[test]
    fn redaction_removes_an_echoed_piece_of_the_token() {
        let header = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9";
        let payload = "eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJvaWQiOiI0MiJ9";
        let signature = "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1xeXo_-A";
        let token = [header, ".", payload, ".", signature].concat();
        let echoes = [
            ["token '", &token[..60], "…' expired"].concat(),
            ["token ", &token[..token.len() - 20], "... is bad"].concat(),
            ["claims ", payload, " rejected"].concat(),
            ["signature:", signature].concat(),
            [header, ".", payload].concat(),
            ["xx", &payload[10..40], "yy"].concat(),
        ];
        for echo in &echoes {
            let body = [
                "{\"error\":{\"code\":\"InvalidAuthenticationToken\",\"message\":\"",
                echo,
                "\"}}",
            ]
            .concat();
            let mut e = Error::from_response(401, &body, None);
            e.redact(&token);
            let m = e.message();
            assert!(m.contains("[redacted]"), "{m}");
            for n in [16, 20] {
                for at in 0..token.len().saturating_sub(n) {
                    let piece = &token[at..at + n];
                    assert!(
                        !piece.contains('.') && !m.contains(piece) || piece.contains('.'),
                        "{piece:?} of the token survived in {m:?}"
                    );
                }
            }
        }
        // What is not the token stays: words, a UUID, short runs, another
        // text of token characters.
        let mut field =
            String::from("request 5e8b6c1a-0000-4000-8000-000000000001 failed: InvalidAuthenticationToken, eyJ0eXAi");
        let before = field.clone();
        scrub(&mut field, &token, true);
        assert_eq!(field, before);
        // The marker and a piece's neighbours cannot spell a piece again.
        let mut field = [&payload[..20], "[redacted]", &payload[20..40]].concat();
        scrub(&mut field, &token, true);
        assert!(
            !field.contains(&payload[..16]) && !field.contains(&payload[24..40]),
            "{field}"
        );
    }

    /// Fuzz regression (`cargo xtask fuzz error_body`): the marker
    /// `[redacted]`, or the marker and its neighbours, spelled the secret
    /// again (`unexpe[redacted]Redirect` for the secret `cted`).
    #[test]
    fn fuzz_regression_redaction_marker_spells_the_secret() {
        for (secret, body) in [
            ("cted", "{\"error\":{\"code\":\"unexpected\",\"message\":\"cted\"}}"),
            (
                "ed]x",
                "{\"error\":{\"code\":\"ed]xx\",\"message\":\"[redact ed]xx ed]ed]xx\"}}",
            ),
            (
                "[redacted]",
                "{\"error\":{\"code\":\"[redacted]\",\"message\":\"[red[redacted]acted]\"}}",
            ),
        ] {
            let mut e = Error::from_response(401, body, Some(secret));
            e.redact(secret);
            for f in [e.code().as_str(), e.message(), e.request_id().unwrap_or("")] {
                assert!(!f.contains(secret), "{secret:?} left in {f:?}");
            }
        }
        let mut e = Error::from_response(302, "", None);
        e.redact("cted");
        assert!(
            !e.message().contains("cted") && !e.code().as_str().contains("cted"),
            "{}",
            e.message()
        );
    }
}
