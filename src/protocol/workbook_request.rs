//! `session.fetch`: the caller's own workbook requests inside a session, as
//! plain decisions (sans-IO). The shell asks here where a request may go,
//! which headers it carries, whether its body is JSON, whether an answer is
//! resent, and what a final failure means for the session; it only sends,
//! sleeps and reports.
//!
//! Decisions (also in the TypeScript declarations and the README):
//! - `path` is either relative to the workbook (`/worksheets('Sheet1')`,
//!   must start with `/`, may carry a query) or an absolute `http(s)` URL on
//!   the session's origin (scheme, host and port, default ports equal)
//!   under `/{any version}{workbook}/workbook` (excel-manage-sessions.md: a
//!   sessionful request is one on the workbook the session was created
//!   on). The lifecycle paths the session owns (`createSession`,
//!   `refreshSession`, `closeSession`, `operations`, `sessionInfoResource`)
//!   are refused. Any other form, a `.`/`..` segment, a backslash or a
//!   control character is refused before anything is sent
//!   (`invalidArgument`).
//! - The caller's headers are kept, except `Authorization`,
//!   `workbook-session-id` and `Retry-Attempt`, which the session owns:
//!   setting them is refused (`invalidArgument`), never silently replaced.
//! - `init` holds only fields that make sense for a request inside the
//!   session ([`init_field`]): the session's (`method`, `headers`, `body`,
//!   `json`, `signal`, `concurrent`, `recreate`) and three passed to
//!   `fetch` (`cache`, `priority`, `keepalive`); any other (`mode`,
//!   `credentials`, `redirect`, `referrer`, `integrity` ...) is refused
//!   before sending (`invalidArgument`): `mode: "no-cors"` would drop the
//!   token and hide the answer.
//! - A JSON body (`init.json`, serialized; a plain object or array as
//!   `body`, serialized; a string whose first non-space character is `{`
//!   or `[`) gets `Content-Type: application/json` unless the caller set a
//!   `Content-Type`. A string body is judged by that first character, read
//!   in place ([`json_start`]): a body is never copied into wasm memory to
//!   be inspected.
//! - Resends follow [`super::policy::judge`]: 429 and 503 were not
//!   processed, so any method is resent after the cooldown; the other
//!   resend-after-cooldown codes (504, `transientFailure` ...), network
//!   errors and timeouts only for GET and HEAD, as a write may have been
//!   applied.
//! - `invalidSessionReCreatable`, a plain 404 (an expired session) or a
//!   502/503 without a listed code, of a persistent session with recreation
//!   on: recreate the session and resend once (a write is not resent after
//!   a 502). A non-persistent session's changes died with it: the call
//!   fails with `stateLost`, never resent on a fresh copy.
//! - `internalServerErrorUncategorized`: never resent; the session is not
//!   used again (recreated for later work when recreation is on).

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{Code, Error};
use super::text;
use super::url::{default_port_stripped, BaseUrl};

/// The longest `path` accepted.
pub const MAX_PATH_LEN: usize = 16 * 1024;

/// Headers the session sets itself; a caller that sets one is refused.
pub const OWN_HEADERS: [&str; 3] = ["authorization", "workbook-session-id", "retry-attempt"];

/// What a field of `session.fetch`'s `init` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitField {
    /// Read by the session itself (`method`, `headers`, `body`, `json`,
    /// `signal`, `concurrent`, `recreate`).
    Own,
    /// Passed to `fetch` as given (`cache`, `priority`, `keepalive`).
    PassThrough,
}

/// The fields the session reads, then those passed to `fetch`.
pub const OWN_INIT_FIELDS: [&str; 7] = ["method", "headers", "body", "json", "signal", "concurrent", "recreate"];
/// Passed to `fetch` untouched: they change caching, scheduling and
/// whether the request may outlive the page, never where it goes or what
/// it carries.
pub const PASS_THROUGH_INIT_FIELDS: [&str; 3] = ["cache", "priority", "keepalive"];
/// Most fields an `init` may have (more is refused, unread).
pub const MAX_INIT_FIELDS: usize = 32;

/// Judges one (own, enumerable) field of `init` whose value is not
/// `undefined`. Refused: `mode` (`no-cors` drops the `Authorization` header
/// and hides the answer), `credentials` (Graph takes the bearer token, not
/// cookies), `redirect` (never followed: the token must not go elsewhere),
/// `referrer`, `referrerPolicy`, `integrity`, `window`, `duplex` (streams
/// are refused) and anything unknown (a typo such as `header` would
/// otherwise be ignored). Runtime-specific extras (undici's `dispatcher`,
/// Workers' `cf`) belong in the call's own `fetch` option.
pub fn init_field(name: &str) -> Result<InitField, Error> {
    if OWN_INIT_FIELDS.contains(&name) {
        Ok(InitField::Own)
    } else if PASS_THROUGH_INIT_FIELDS.contains(&name) {
        Ok(InitField::PassThrough)
    } else {
        let shown = if name.len() <= 64 && name.bytes().all(|b| b.is_ascii_graphic()) {
            name
        } else {
            "(a field)"
        };
        Err(bad(&[
            "init.",
            shown,
            " is not supported by session.fetch (it takes method, headers, body, json, signal, \
             concurrent, recreate, cache, priority, keepalive)",
        ]))
    }
}

/// Longest run of leading whitespace [`json_start`] looks through.
pub const MAX_JSON_SNIFF: u32 = 1024;

/// Whether a string body is JSON, from its first characters only (UTF-16
/// code units, as `charCodeAt` gives them, `None` past the end): skips JSON
/// whitespace (at most [`MAX_JSON_SNIFF`] characters), then JSON when the
/// first other character is `{` or `[`, the only bodies Graph's workbook
/// API takes. The caller reads one character at a time, so the body is
/// never copied.
pub fn json_start(mut char_at: impl FnMut(u32) -> Option<u16>) -> Body {
    for i in 0..MAX_JSON_SNIFF {
        match char_at(i) {
            Some(0x20 | 0x09 | 0x0a | 0x0d) => continue,
            Some(0x7b | 0x5b) => return Body::Json,
            _ => return Body::Other,
        }
    }
    Body::Other
}

/// The JS surface prefixes the message with `WorkbookSession.fetch: `.
fn bad(parts: &[&str]) -> Error {
    Error::local(Code::InvalidArgument, parts)
}

/// The absolute URL `path` stands for, on `base`'s origin. `workbook` is
/// the percent-encoded item path (`/me/drive/items/01ABC`).
pub fn target_url(base: &BaseUrl, workbook: &str, path: &str) -> Result<String, Error> {
    if path.is_empty() {
        return Err(bad(&["path must not be empty"]));
    }
    if path.len() > MAX_PATH_LEN {
        return Err(bad(&["path is too long"]));
    }
    if path.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err(bad(&["path must not contain control characters"]));
    }
    if text::find_any(path, b"\\").is_some() {
        return Err(bad(&["path must not contain a backslash"]));
    }
    // URL parsers strip them, which would turn a final ".. " into "..".
    if path.starts_with(' ') || path.ends_with(' ') {
        return Err(bad(&["path must not start or end with a space"]));
    }
    // `text::find` and byte positions, not `str::find`: core's searchers
    // link `core::fmt` through their panic paths (bench/README.md, "Size
    // steps").
    let scheme_end = text::find(path, "://");
    let relative = path.starts_with('/') && !path.starts_with("//");
    let (full, path_part) = if relative {
        let mut url = base.root();
        url.push_str(workbook);
        url.push_str("/workbook");
        let at = url.len();
        url.push_str(path);
        (url, at)
    } else if let Some(i) = scheme_end.filter(|&i| {
        let scheme = path.get(..i).unwrap_or_default();
        scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")
    }) {
        let after = i + 3;
        // The positions are of ASCII bytes, so `get` always succeeds; it has
        // no panic path (which would link `core::fmt`).
        let end = text::find_any(path.get(after..).unwrap_or_default(), b"/?#").map_or(path.len(), |j| after + j);
        let (origin, tail) = (path.get(..end).unwrap_or_default(), path.get(end..).unwrap_or_default());
        let other = BaseUrl::parse(origin, &[]).ok().map(|b| b.origin);
        let same = other.as_deref().map(default_port_stripped) == Some(default_port_stripped(&base.origin));
        if !same {
            return Err(bad(&[
                "an absolute URL must be on the session's origin (",
                &base.origin,
                "); the access token is not sent elsewhere",
            ]));
        }
        if !tail.starts_with('/') {
            return Err(bad(&["an absolute URL needs a path"]));
        }
        // The origin as the session spells it (lower case), the rest verbatim.
        let mut url = base.origin.clone();
        let at = url.len();
        url.push_str(tail);
        (url, at)
    } else {
        return Err(bad(&[
            "path must start with '/' (relative to the workbook) or be an absolute URL on the session's origin",
        ]));
    };
    let rest = full.get(path_part..).unwrap_or_default();
    let only_path = text::find_any(rest, b"?#").map_or(rest, |i| rest.get(..i).unwrap_or_default());
    if text::split_any(only_path, b"/").any(is_dot_segment) {
        return Err(bad(&["path must not contain '.' or '..' segments"]));
    }
    // The part under `{workbook}/workbook`: a relative path is all of it;
    // an absolute URL must point there, on any version segment
    // (excel-manage-sessions.md: a sessionful request is one on the
    // workbook the session was created on).
    let under = if relative {
        only_path
    } else {
        match under_workbook(only_path, workbook) {
            Some(u) => u,
            None => {
                return Err(bad(&[
                    "an absolute URL must point under this session's workbook ({version}",
                    workbook,
                    "/workbook); the session's id is not sent to another item",
                ]))
            }
        }
    };
    if let Some(own) = lifecycle(under) {
        return Err(bad(&[
            "path must not be the session's own ",
            own,
            " request: use the WorkbookSession's methods (refresh, close)",
        ]));
    }
    Ok(full)
}

/// The rest of `path` (no query) after `/{version}{workbook}/workbook`, or
/// `None` when it points elsewhere. Compared ASCII-case-insensitively.
fn under_workbook<'a>(path: &'a str, workbook: &str) -> Option<&'a str> {
    let after_version = path.strip_prefix('/')?;
    let slash = after_version.bytes().position(|b| b == b'/')?;
    let item = after_version.get(slash..)?;
    let head = item.get(..workbook.len())?;
    if !head.eq_ignore_ascii_case(workbook) {
        return None;
    }
    let tail = item.get(workbook.len()..)?;
    let rest = tail.get(..9).filter(|w| w.eq_ignore_ascii_case("/workbook"))?;
    let rest = tail.get(rest.len()..)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// The lifecycle request the session owns that `under` (the path below
/// `/workbook`) names, if any: those go through its methods, never
/// `session.fetch` (a closeSession behind the object's back would leave
/// it `active`).
fn lifecycle(under: &str) -> Option<&'static str> {
    const OWN: [&str; 5] = [
        "createSession",
        "refreshSession",
        "closeSession",
        "operations",
        "sessionInfoResource",
    ];
    let first = text::trim_start_byte(under, b'/');
    let first = text::split_any(first, b"/(?#").next().unwrap_or_default();
    OWN.iter().copied().find(|own| own.eq_ignore_ascii_case(first))
}

/// `.`, `..` and their percent-encoded forms, which URL parsers resolve.
fn is_dot_segment(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let decoded = text::replace(&lower, "%2e", ".");
    decoded == "." || decoded == ".."
}

/// Refuses a caller header the session owns.
pub fn check_caller_header(name: &str) -> Result<(), Error> {
    if OWN_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name.trim_ascii())) {
        return Err(bad(&[
            "init.headers must not set ",
            name,
            ": the session sets it (the token source, the current session id, resends)",
        ]));
    }
    Ok(())
}

/// The request's method, upper-cased when it is a standard one (as `fetch`
/// normalizes them); `None` is GET.
pub fn normalize_method(method: Option<&str>) -> Result<String, Error> {
    let m = method.unwrap_or("GET");
    if m.is_empty() || m.len() > 32 || !m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(bad(&["init.method is not a valid HTTP method"]));
    }
    const STANDARD: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    Ok(match STANDARD.iter().find(|s| s.eq_ignore_ascii_case(m)) {
        Some(s) => (*s).into(),
        None => m.into(),
    })
}

/// What the caller's body is, as far as headers and resends care.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Body {
    /// No body.
    None,
    /// `init.json` or a plain object or array (serialized), or a string
    /// starting with `{` or `[` ([`json_start`]).
    Json,
    /// Any other string, or a `Blob`, `ArrayBuffer`, typed array,
    /// `URLSearchParams`, `FormData`: resendable as is, sent as given.
    Other,
    /// A `ReadableStream`: it can be read once only, so it cannot be resent.
    Stream,
}

/// Refuses the combinations `fetch` would refuse (a GET or HEAD with a
/// body) and what the session cannot resend (a stream).
pub fn check_body(method: &str, body: Body) -> Result<(), Error> {
    match body {
        Body::None => Ok(()),
        _ if method == "GET" || method == "HEAD" => Err(bad(&["a ", method, " request cannot have a body"])),
        Body::Stream => Err(bad(&[
            "init.body must not be a ReadableStream: a request may be resent, and a stream is read once",
        ])),
        _ => Ok(()),
    }
}

/// Whether to add `Content-Type: application/json`.
pub fn adds_json_content_type(body: Body, caller_set_content_type: bool) -> bool {
    body == Body::Json && !caller_set_content_type
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::attempts::{Attempts, Failure, Next};
    use crate::protocol::policy::Answered;
    use crate::protocol::request::Answer;
    use crate::protocol::retry::Limits;

    fn base() -> BaseUrl {
        BaseUrl::parse("http://127.0.0.1:8080/v1.0", &[]).unwrap()
    }

    #[test]
    fn target_urls() {
        let wb = "/me/drive/items/01ABC";
        let ok: &[(&str, &str)] = &[
            (
                "/worksheets('Sheet1')/range(address='A1')",
                "http://127.0.0.1:8080/v1.0/me/drive/items/01ABC/workbook/worksheets('Sheet1')/range(address='A1')",
            ),
            (
                "/worksheets?$select=name",
                "http://127.0.0.1:8080/v1.0/me/drive/items/01ABC/workbook/worksheets?$select=name",
            ),
            (
                "/worksheets('My Sheet')/range(address='A1:B2')",
                "http://127.0.0.1:8080/v1.0/me/drive/items/01ABC/workbook/worksheets('My Sheet')/range(address='A1:B2')",
            ),
            (
                "http://127.0.0.1:8080/beta/me/drive/items/01ABC/workbook/worksheets",
                "http://127.0.0.1:8080/beta/me/drive/items/01ABC/workbook/worksheets",
            ),
            (
                "HTTP://127.0.0.1:8080/v1.0/me/drive/items/01abc/workbook",
                "http://127.0.0.1:8080/v1.0/me/drive/items/01abc/workbook",
            ),
            (
                "/tables('closeSessions')/rows",
                "http://127.0.0.1:8080/v1.0/me/drive/items/01ABC/workbook/tables('closeSessions')/rows",
            ),
            // A query may hold dots.
            ("/names?$filter=a/../b", "http://127.0.0.1:8080/v1.0/me/drive/items/01ABC/workbook/names?$filter=a/../b"),
        ];
        for (path, want) in ok {
            assert_eq!(target_url(&base(), wb, path).ok().as_deref(), Some(*want), "{path}");
        }
        let refused = [
            "",
            "worksheets",
            "//evil.example/x",
            "https://127.0.0.1:8080/v1.0/me",
            "http://127.0.0.1:8081/v1.0/me",
            "http://localhost:8080/v1.0/me",
            "http://evil.example/v1.0/me",
            "http://127.0.0.1:8080@evil.example/",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080?x",
            "ftp://127.0.0.1:8080/x",
            "javascript:alert(1)",
            "/../../users/x",
            "/worksheets/%2E%2e/x",
            "/a\\b",
            "/a\nb",
            "/a\u{7f}",
            // Another item, or nothing under the workbook (issue 21, point 4).
            "http://127.0.0.1:8080/beta/me/drive/items/X/workbook/worksheets",
            "http://127.0.0.1:8080/v1.0/me/drive/items/01ABCD/workbook/worksheets",
            "http://127.0.0.1:8080/v1.0/me/drive/items/01ABC/workbookX",
            "http://127.0.0.1:8080/v1.0/me/drive/items/01ABC",
            "http://127.0.0.1:8080/v1.0/me",
            "http://127.0.0.1:8080/me/drive/items/01ABC/workbook",
            // The lifecycle requests the session owns.
            "/closeSession",
            "/CLOSESESSION",
            "/refreshSession",
            "/createSession",
            "/operations/abc",
            "/sessionInfoResource(key='k')",
            "/closeSession?x=1",
            "http://127.0.0.1:8080/beta/me/drive/items/01ABC/workbook/closeSession",
            // Found by fuzz/fuzz_targets/workbook_path.rs: `fetch` strips the
            // trailing space and resolves the "..".
            "/.. ",
            " /worksheets",
        ];
        for path in refused {
            let e = target_url(&base(), wb, path).expect_err(path);
            assert_eq!(*e.code(), Code::InvalidArgument, "{path}");
        }
        let https = BaseUrl::parse("https://graph.microsoft.com/v1.0", &[]).unwrap();
        let ours = "/v1.0/me/drive/items/01ABC/workbook/names";
        assert!(target_url(&https, wb, &["https://graph.microsoft.com:443", ours].concat()).is_ok());
        assert!(target_url(&https, wb, &["https://graph.microsoft.us", ours].concat()).is_err());
        assert!(target_url(&https, wb, &["http://graph.microsoft.com", ours].concat()).is_err());
        let long = ["/", &"a".repeat(MAX_PATH_LEN)].concat();
        assert!(target_url(&base(), wb, &long).is_err());
    }

    #[test]
    fn headers_bodies_methods() {
        for h in ["Authorization", "workbook-session-id", " Retry-Attempt"] {
            assert!(check_caller_header(h).is_err(), "{h}");
        }
        for h in ["content-type", "prefer", "client-request-id", "if-match"] {
            assert!(check_caller_header(h).is_ok(), "{h}");
        }
        assert_eq!(normalize_method(None).unwrap(), "GET");
        assert_eq!(normalize_method(Some("patch")).unwrap(), "PATCH");
        assert_eq!(normalize_method(Some("MKCOL")).unwrap(), "MKCOL");
        assert!(normalize_method(Some("GE T")).is_err());
        assert!(normalize_method(Some("")).is_err());
        let sniff = |s: &str| {
            let units: Vec<u16> = s.encode_utf16().collect();
            json_start(|i| units.get(i as usize).copied())
        };
        for (body, want) in [
            ("{\"values\":[[1]]}", Body::Json),
            ("[1,2]", Body::Json),
            (" \r\n\t{}", Body::Json),
            ("hello", Body::Other),
            ("", Body::Other),
            ("   ", Body::Other),
            ("\u{a0}{}", Body::Other),
        ] {
            assert_eq!(sniff(body), want, "{body:?}");
        }
        // Looks no further than its bound: the rest of a body is never read.
        let mut read = 0;
        let long = json_start(|_| {
            read += 1;
            Some(0x20)
        });
        assert_eq!((long, read), (Body::Other, MAX_JSON_SNIFF));
        for f in ["method", "headers", "body", "json", "signal", "concurrent", "recreate"] {
            assert_eq!(init_field(f).unwrap(), InitField::Own, "{f}");
        }
        for f in ["cache", "priority", "keepalive"] {
            assert_eq!(init_field(f).unwrap(), InitField::PassThrough, "{f}");
        }
        for f in [
            "mode",
            "credentials",
            "redirect",
            "referrer",
            "integrity",
            "window",
            "duplex",
            "header",
            "cf",
        ] {
            let e = init_field(f).unwrap_err();
            assert_eq!(e.code(), &Code::InvalidArgument, "{f}");
            assert!(e.message().contains(f), "{f}: {}", e.message());
        }
        assert!(check_body("GET", Body::Json).is_err());
        assert!(check_body("HEAD", Body::Other).is_err());
        assert!(check_body("PATCH", Body::Stream).is_err());
        assert!(check_body("PATCH", Body::Json).is_ok());
        assert!(check_body("GET", Body::None).is_ok());
        let table = [
            (Body::Json, false, true),
            (Body::Json, true, false),
            (Body::Other, false, false),
            (Body::None, false, false),
        ];
        for (body, set, want) in table {
            assert_eq!(adds_json_content_type(body, set), want, "{body:?} {set}");
        }
    }

    const LIMITS: Limits = Limits {
        max_retries: 3,
        max_retry_after_ms: 180_000,
    };

    fn answer(status: u16, inner: &str, retry_after: Option<&str>) -> Answer {
        let body = if inner.is_empty() {
            String::new()
        } else {
            [r#"{"error":{"code":"x","innerError":{"code":""#, inner, r#""}}}"#].concat()
        };
        Answer {
            status,
            body,
            retry_after: retry_after.map(String::from),
            ..Answer::default()
        }
    }

    fn run(m: &mut Attempts, status: u16, inner: &str, retry_after: Option<&str>) -> Next {
        m.begin_attempt();
        m.handle(Some(&answer(status, inner, retry_after)), Answered::Network, 0, 0.5)
    }

    fn new(method: &str, persist: bool, recreate: bool) -> Attempts {
        Attempts::workbook_fetch(method, LIMITS, persist, recreate, false)
    }

    #[test]
    fn resends_by_method_and_policy() {
        // (method, status, second-level code, Retry-After, resent?)
        let table: &[(&str, u16, &str, Option<&str>, bool)] = &[
            ("GET", 429, "tooManyRequestsUncategorized", Some("2"), true),
            ("PATCH", 429, "tooManyRequestsUncategorized", Some("2"), true),
            ("POST", 503, "serviceUnavailableUncategorized", None, true),
            ("GET", 504, "gatewayTimeoutUncategorized", None, true),
            ("PATCH", 504, "gatewayTimeoutUncategorized", None, false),
            ("GET", 500, "transientFailure", None, true),
            ("PATCH", 500, "transientFailure", None, false),
            ("GET", 409, "accessConflict", None, false),
            ("GET", 503, "accessConflict", None, false),
            ("GET", 400, "invalidArgument", None, false),
            ("GET", 429, "tooManyRequestsUncategorized", Some("600"), false),
            // Never resent, whatever the method (workbook-error-handling.md).
            ("PATCH", 500, "internalServerErrorUncategorized", None, false),
            ("GET", 500, "internalServerErrorUncategorized", None, false),
        ];
        for &(method, status, inner, ra, resent) in table {
            let mut m = new(method, true, false);
            let next = run(&mut m, status, inner, ra);
            assert_eq!(
                matches!(next, Next::Resend { .. }),
                resent,
                "{method} {status} {inner}: {next:?}"
            );
        }
        let mut m = new("PATCH", true, false);
        assert!(matches!(
            run(&mut m, 429, "tooManyRequestsUncategorized", Some("2")),
            Next::Resend { delay_ms: 2000 }
        ));
        assert!(matches!(run(&mut m, 200, "", None), Next::Done));
        // No answer: only GET and HEAD are resent.
        for (method, resent) in [("GET", true), ("HEAD", true), ("PATCH", false), ("POST", false)] {
            for no in [Answered::Network, Answered::Timeout] {
                let mut m = new(method, true, false);
                m.begin_attempt();
                let next = m.handle(None, no, 0, 0.5);
                assert_eq!(matches!(next, Next::Resend { .. }), resent, "{method} {no:?}");
            }
        }
        // Redirects are final.
        let mut m = new("GET", true, false);
        m.begin_attempt();
        assert!(matches!(
            m.handle(None, Answered::Redirect, 0, 0.5),
            Next::Fail(Failure { .. })
        ));
    }

    #[test]
    fn retries_are_bounded() {
        let mut m = new("PATCH", true, false);
        for _ in 0..3 {
            assert!(matches!(
                run(&mut m, 429, "tooManyRequestsUncategorized", None),
                Next::Resend { .. }
            ));
        }
        match run(&mut m, 429, "tooManyRequestsUncategorized", None) {
            Next::Fail(Failure { error, state_lost, .. }) => {
                assert_eq!(error.attempts(), 4);
                assert!(!state_lost);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn expiry_recreates_a_persistent_session_once_and_fails_a_non_persistent_one() {
        // (persistent, recreate on, what the expired answer leads to)
        for (persist, recreate) in [(true, true), (true, false), (false, true), (false, false)] {
            let mut m = new("PATCH", persist, recreate);
            let next = run(&mut m, 404, "invalidSessionReCreatable", None);
            match (persist, recreate) {
                (true, true) => {
                    assert!(matches!(next, Next::Recreate));
                    // The resend with the new session expires too: no second recreation.
                    match run(&mut m, 404, "InvalidSessionReCreatable", None) {
                        Next::Fail(Failure { error, state_lost, .. }) => {
                            assert!(error.recreatable() && !state_lost);
                            assert_eq!(error.attempts(), 2);
                        }
                        other => panic!("{other:?}"),
                    }
                }
                (true, false) => {
                    assert!(
                        matches!(next, Next::Fail(Failure { ref error, state_lost: false, .. }) if error.recreatable())
                    )
                }
                (false, _) => {
                    assert!(
                        matches!(next, Next::Fail(Failure { ref error, state_lost: true, .. }) if error.recreatable())
                    )
                }
            }
        }
        // A plain 404 (resources/excel.md: an expired session) and a 502/503
        // without a listed code (the special cases) recreate too.
        for (method, status, want_recreate) in [
            ("GET", 404, true),
            ("PATCH", 404, true),
            ("GET", 503, true),
            ("PATCH", 503, true),
            ("GET", 502, true),
            // A write answered 502 may have been applied: not resent.
            ("PATCH", 502, false),
        ] {
            let mut m = new(method, true, true);
            let next = run(&mut m, status, "", None);
            assert_eq!(
                matches!(next, Next::Recreate),
                want_recreate,
                "{method} {status}: {next:?}"
            );
        }
        // Without recreation, a plain 503 is resent and a plain 404 fails.
        assert!(matches!(
            run(&mut new("GET", true, false), 503, "", None),
            Next::Resend { .. }
        ));
        assert!(matches!(
            run(&mut new("GET", true, false), 404, "", None),
            Next::Fail(Failure { state_lost: false, .. })
        ));
        // A listed second-level code on a 404 (a missing worksheet) is the caller's.
        assert!(matches!(
            run(&mut new("GET", true, true), 404, "itemNotFound", None),
            Next::Fail(Failure {
                state_lost: false,
                recreate_session: false,
                ..
            })
        ));
        // internalServerErrorUncategorized: not resent; the session is not
        // used again (recreated for later work when recreation is on).
        let mut m = new("PATCH", true, true);
        match run(&mut m, 500, "internalServerErrorUncategorized", None) {
            Next::Fail(Failure {
                error,
                recreate_session,
                ..
            }) => {
                assert!(recreate_session);
                assert_eq!(error.attempts(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            run(
                &mut new("PATCH", true, false),
                500,
                "internalServerErrorUncategorized",
                None
            ),
            Next::Fail(Failure {
                recreate_session: false,
                session_lost: true,
                ..
            })
        ));
        // Without recreation: a dead session turns lost; an expiry does not
        // (a later call's init.recreate may replace it); a missing item is
        // the caller's.
        for (status, code, lost) in [
            (404, "invalidSessionNotFound", true),
            (401, "invalidSessionAuthentication", true),
            (404, "invalidSessionReCreatable", false),
            (404, "", false),
            (404, "itemNotFound", false),
            (500, "internalServerErrorUncategorized", true),
        ] {
            match run(&mut new("GET", true, false), status, code, None) {
                Next::Fail(Failure { session_lost, .. }) => assert_eq!(session_lost, lost, "{status} {code}"),
                other => panic!("{status} {code}: {other:?}"),
            }
        }
        // A session that is gone for good is not recreated.
        let mut m = new("GET", true, true);
        assert!(matches!(
            run(&mut m, 404, "invalidSessionNotFound", None),
            Next::Fail(Failure { state_lost: false, .. })
        ));
        // After a recreation, the retry budget starts again.
        let mut m = new("GET", true, true);
        assert!(matches!(
            run(&mut m, 404, "invalidSessionReCreatable", None),
            Next::Recreate
        ));
        for _ in 0..3 {
            assert!(matches!(run(&mut m, 429, "", Some("0")), Next::Resend { .. }));
        }
        let failed = m.recreate_failed(Error::local(Code::Network, &["x"]));
        assert_eq!(failed.error.attempts(), 4);
    }

    #[test]
    fn a_401_is_resent_once_with_a_fresh_token_and_not_counted() {
        let limits = Limits {
            max_retries: 0,
            max_retry_after_ms: 180_000,
        };
        let mut string_token = Attempts::workbook_fetch("PATCH", limits, true, false, false);
        assert!(
            matches!(run(&mut string_token, 401, "", None), Next::Fail(Failure { .. })),
            "a string token cannot be renewed"
        );
        let mut m = Attempts::workbook_fetch("PATCH", limits, true, false, true);
        assert!(
            matches!(run(&mut m, 403, "", None), Next::Fail(Failure { .. })),
            "only a 401"
        );
        let mut m = Attempts::workbook_fetch("PATCH", limits, true, false, true);
        assert!(matches!(run(&mut m, 401, "", None), Next::Renew));
        assert!(
            matches!(run(&mut m, 401, "", None), Next::Fail(Failure { .. })),
            "once per call"
        );
        assert_eq!(m.attempts(), 2, "Retry-Attempt still counts the request");
        // The renewal was not counted: a 429 may still be resent once the
        // budget allows it; with maxRetries 0 it is not.
        let mut m = Attempts::workbook_fetch("PATCH", limits, true, false, true);
        assert!(matches!(run(&mut m, 401, "", None), Next::Renew));
        assert!(matches!(run(&mut m, 429, "", Some("1")), Next::Fail(Failure { .. })));
        let limits = Limits {
            max_retries: 1,
            max_retry_after_ms: 180_000,
        };
        let mut m = Attempts::workbook_fetch("GET", limits, true, false, true);
        assert!(matches!(run(&mut m, 401, "", None), Next::Renew));
        assert!(matches!(
            run(&mut m, 429, "", Some("1")),
            Next::Resend { delay_ms: 1000 }
        ));
    }
}
