//! The catalogue of Graph errors. Every error body the emulator sends is built
//! here, so the shape and the wording match the real service in one place.
//!
//! Excel errors nest as Graph's do (`concepts/workbook-error-handling.md`): a
//! top-level code bound to the status, the **second-level** Excel code in
//! `error.innerError.code` (the one clients act on), and deeper detail levels
//! (`internalServerError` → `internalServerErrorUncategorized` →
//! `GenericFileOpenError` in `workbookoperation-get.md`). `request-id`,
//! `client-request-id` and `date` sit in the first `innerError`, next to the
//! second-level code. Gateway errors (401, `$batch` validation, unknown
//! routes, the control API) are flat: no Excel code.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

/// What varies per answer inside `innerError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The `request-id` header of this answer.
    pub request_id: String,
    /// The echoed (or freshly made) `client-request-id`.
    pub client_request_id: String,
    /// `innerError.date`, e.g. `2024-05-01T12:34:56`.
    pub date: String,
}

/// One nested `innerError` level: a code and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    /// `innerError.code` at this depth.
    pub code: Cow<'static, str>,
    /// `innerError.message` at this depth.
    pub message: Cow<'static, str>,
}

/// A Graph error: status, top-level code and message, and the nested levels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    /// HTTP status.
    pub status: u16,
    /// Top-level `error.code`.
    pub code: Cow<'static, str>,
    /// `error.message`.
    pub message: Cow<'static, str>,
    /// The `innerError` levels, outermost first: the second-level Excel code,
    /// then detail. Empty for a flat (gateway) error.
    pub inner: Vec<Level>,
}

/// The message of the real expired-session answer.
pub const INVALID_SESSION_MESSAGE: &str = "The target session is invalid.";

/// Longest code accepted from a fault spec.
pub const MAX_CODE_LEN: usize = 256;
/// Most nested levels accepted from a fault spec.
pub const MAX_LEVELS: usize = 8;

/// The second-level codes of `workbook-error-codes.md` ("Detailed error
/// codes") and `workbook-error-handling.md`, with the docs' messages.
const SECOND_LEVEL: &[(&str, &str)] = &[
    ("accessConflict", "The request failed due to conflicts with other clients that are accessing the workbook."),
    ("accessDenied", "You cannot perform the requested operation."),
    ("badRequestUncategorized", "The request is malformed or incorrect."),
    ("conflictUncategorized", "The current state conflicts with what the request expects."),
    ("filteredRangeConflict", "The operation failed because it conflicts with a filtered range."),
    ("forbiddenUncategorized", "The request is not allowed."),
    ("gatewayTimeoutUncategorized", "The service wasn't able to complete the request within the time limit."),
    ("generalException", "An internal error occurred while processing the request."),
    ("insertDeleteConflict", "The insert or delete operation attempted resulted in a conflict."),
    ("internalServerErrorUncategorized", "An unspecified error has occurred."),
    ("invalidArgument", "The argument is invalid or missing or has an incorrect format."),
    ("invalidReference", "This reference is not valid for the current operation."),
    (
        "invalidSessionAccessConflict",
        "The session specified in the request is invalid due to conflicts with other clients that are accessing the workbook.",
    ),
    ("invalidSessionAuthentication", "The session specified in the request is invalid due to an authentication error."),
    ("invalidSessionNotFound", "The session specified in the request is invalid because the workbook can't be found."),
    (
        "invalidSessionReCreatable",
        "The session specified in the request does not exist or is invalid due to a transient error.",
    ),
    (
        "invalidSessionRestricted",
        "The session specified in the request is invalid due to service configurations or restrictions.",
    ),
    ("invalidSessionUnexpected", "The session specified in the request is invalid due to an unexpected issue."),
    (
        "invalidSessionUnsupportedWorkbook",
        "The session specified in the request is invalid because the workbook contains unsupported features or exceeds the size limit.",
    ),
    ("itemAlreadyExists", "The resource being created already exists."),
    ("itemNotFound", "The requested resource doesn't exist."),
    ("methodNotAllowed", "The HTTP method specified in the request is not allowed on the resource."),
    ("methodNotAllowedUncategorized", "The HTTP method specified in the request is not allowed on the resource."),
    ("nonBlankCellOffSheet", "Can't insert new cells because it would push non-empty cells off the end of the worksheet."),
    ("notFoundUncategorized", "The requested resource cannot be found."),
    ("notImplementedUncategorized", "The requested feature is not currently implemented."),
    ("payloadTooLargeUncategorized", "The request payload exceeds the size limit."),
    ("rangeExceedsLimit", "The cell count in range has exceeded the maximum supported number."),
    ("requestAborted", "The request was aborted during run time."),
    ("serviceUnavailableUncategorized", "The service is temporarily unavailable or is overloaded. Please try your request again."),
    ("tooManyRequestsUncategorized", "The client app or user has been throttled. Please try your request again."),
    ("transientFailure", "The request failed due to a transient error. Please try your request again."),
    ("unauthorizedUncategorized", "Required authentication information for the resource is either missing or invalid."),
    ("unsupportedOperation", "The operation being attempted is not supported."),
    ("unsupportedWorkbook", "The request failed. The workbook contains unsupported features or exceeds the size limit."),
];

/// Detail (third-level) codes: Excel Services' own codes, under the
/// second-level code they explain. Detail only; clients never act on them.
const DETAIL: &[(&str, &str, &str)] = &[
    (
        "invalidSessionReCreatable",
        "InvalidOrTimedOutSession",
        "The session is no longer available on the server. Create a new session.",
    ),
    (
        "internalServerErrorUncategorized",
        "GenericFileOpenError",
        "The workbook cannot be opened.",
    ),
    (
        "tooManyRequestsUncategorized",
        "ActivityLimitReached",
        "Activity limit has been reached.",
    ),
    (
        "invalidArgument",
        "InvalidArgument",
        "The argument is invalid or missing or has an incorrect format.",
    ),
];

fn lookup(table: &'static [(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, m)| *m)
}

fn level(code: Cow<'static, str>) -> Level {
    let message = lookup(SECOND_LEVEL, &code)
        .or_else(|| {
            DETAIL
                .iter()
                .find(|(_, d, _)| d.eq_ignore_ascii_case(&code))
                .map(|(_, _, m)| *m)
        })
        .unwrap_or("The request failed.");
    Level {
        code,
        message: Cow::Borrowed(message),
    }
}

/// The second level `code` plus its catalogue detail, if any.
fn levels_for(code: Cow<'static, str>) -> Vec<Level> {
    let detail = DETAIL.iter().find(|(c, _, _)| c.eq_ignore_ascii_case(&code));
    let mut v = vec![level(code)];
    if let Some((_, d, m)) = detail {
        v.push(Level {
            code: Cow::Borrowed(d),
            message: Cow::Borrowed(m),
        });
    }
    v
}

fn is_invalid_session(code: &str) -> bool {
    code.len() >= 14 && code[..14].eq_ignore_ascii_case("invalidSession")
}

impl GraphError {
    fn flat(status: u16, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        GraphError {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            inner: Vec::new(),
        }
    }

    /// An Excel error: the top level, then `second` and its detail.
    fn excel(status: u16, code: &'static str, message: impl Into<Cow<'static, str>>, second: &'static str) -> Self {
        GraphError {
            inner: levels_for(Cow::Borrowed(second)),
            ..Self::flat(status, code, message)
        }
    }

    /// The second-level code, if any.
    pub fn inner_code(&self) -> Option<&str> {
        self.inner.first().map(|l| l.code.as_ref())
    }

    /// 400 `invalidRequest` (flat): malformed JSON, wrong types, missing
    /// header, control API input.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::flat(400, "invalidRequest", message)
    }

    /// 400 `BadRequest` (flat), the code of Graph's `$batch` validation.
    pub fn batch_invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::flat(400, "BadRequest", message)
    }

    /// 400 `invalidRequest` / `invalidArgument` / `InvalidArgument`: a bad
    /// range address or values.
    pub fn invalid_argument(message: impl Into<Cow<'static, str>>) -> Self {
        Self::excel(400, "invalidRequest", message, "invalidArgument")
    }

    /// 404 `itemNotFound` / `invalidSessionReCreatable` /
    /// `InvalidOrTimedOutSession`: the session is unknown, closed, expired
    /// or belongs to another item. The client should create a new session
    /// and go on.
    pub fn invalid_session() -> Self {
        Self::excel(
            404,
            "itemNotFound",
            INVALID_SESSION_MESSAGE,
            "invalidSessionReCreatable",
        )
    }

    /// The plain 404 of an unknown, closed or expired session: resources/excel.md
    /// promises only "a `404` HTTP error code … on the session", so by
    /// default no second-level code (the top-level code bound to 404 in
    /// workbook-error-codes.md).
    pub fn session_not_found() -> Self {
        Self::flat(404, "notFound", INVALID_SESSION_MESSAGE)
    }

    /// 404 `itemNotFound` (flat) for an item the emulator does not hold, as
    /// the drive answers before Excel is reached.
    pub fn unknown_item() -> Self {
        Self::flat(404, "itemNotFound", "The resource could not be found.")
    }

    /// 400 `BadRequest` (flat) for a version segment other than `v1.0` and
    /// `beta`.
    pub fn invalid_version(version: &str) -> Self {
        Self::flat(400, "BadRequest", format!("Invalid version: {version}"))
    }

    /// 424 `FailedDependency` (flat): a `$batch` request whose `dependsOn`
    /// request failed (json-batching.md).
    pub fn failed_dependency() -> Self {
        Self::flat(424, "FailedDependency", "The request depends on a request that failed.")
    }

    /// 503 when the emulator's global memory budget (cells or bytes) is
    /// spent: a write is refused until sessions end and free their copies.
    pub fn budget_spent(what: &'static str) -> Self {
        Self::excel(
            503,
            "serviceUnavailable",
            format!("The emulator's memory budget of {what} is spent; close sessions or raise --max-{what}."),
            "serviceUnavailableUncategorized",
        )
    }

    /// 404 `itemNotFound` / `itemNotFound`: a named item that does not exist.
    pub fn name_not_found(name: &str) -> Self {
        Self::excel(
            404,
            "itemNotFound",
            format!("The requested named item {name:?} doesn't exist."),
            "itemNotFound",
        )
    }

    /// 409 `conflict` / `itemAlreadyExists`: a name added twice.
    pub fn item_already_exists(message: impl Into<Cow<'static, str>>) -> Self {
        Self::excel(409, "conflict", message, "itemAlreadyExists")
    }

    /// 404 `itemNotFound` / `itemNotFound`: a worksheet that does not exist.
    pub fn sheet_not_found(name: &str) -> Self {
        let mut e = Self::excel(
            404,
            "itemNotFound",
            format!("The requested worksheet {name:?} doesn't exist."),
            "itemNotFound",
        );
        e.inner.push(Level {
            code: Cow::Borrowed("InvalidSheetName"),
            message: Cow::Borrowed("The worksheet that you requested does not exist in the workbook."),
        });
        e
    }

    /// 400 `invalidRequest` / `rangeExceedsLimit`: a range over the
    /// emulator's cell limits.
    pub fn range_exceeds_limit(cells: u64, limit: u64) -> Self {
        Self::excel(
            400,
            "invalidRequest",
            format!("The range holds {cells} cells; the emulator allows {limit}."),
            "rangeExceedsLimit",
        )
    }

    /// 501 `notImplemented` / `notImplementedUncategorized`: a Graph feature
    /// the emulator does not have.
    pub fn not_implemented(message: impl Into<Cow<'static, str>>) -> Self {
        Self::excel(501, "notImplemented", message, "notImplementedUncategorized")
    }

    /// 404 `itemNotFound` (flat) for an operation, session-info key or route
    /// that does not exist.
    pub fn item_not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::flat(404, "itemNotFound", message)
    }

    /// 401 without a bearer token (or with an empty one).
    pub fn token_empty() -> Self {
        Self::flat(401, "InvalidAuthenticationToken", "Access token is empty.")
    }

    /// 403 `accessDenied` (flat) for an app-only token on a workbook
    /// endpoint: the docs' permission tables say "Not supported" and name no
    /// status; 403 is the emulator's choice (see the fidelity table).
    pub fn app_only() -> Self {
        Self::flat(
            403,
            "accessDenied",
            "Application permissions are not supported here: workbook sessions need a delegated token.",
        )
    }

    /// 401 with a token other than the configured one.
    pub fn token_invalid() -> Self {
        Self::flat(401, "InvalidAuthenticationToken", "Access token validation failure.")
    }

    /// 403 `accessDenied` (flat): the control API refuses the caller.
    pub fn control_forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::flat(403, "accessDenied", message)
    }

    /// 405 on a known route with the wrong method.
    pub fn method_not_allowed() -> Self {
        Self::excel(
            405,
            "methodNotAllowed",
            "The HTTP method in the request is not allowed on the resource.",
            "methodNotAllowedUncategorized",
        )
    }

    /// 408 when the request body did not arrive in time.
    pub fn body_timeout() -> Self {
        Self::flat(408, "requestTimeout", "The request body was not received in time.")
    }

    /// 413 for a body over `max_body_bytes`.
    pub fn too_large() -> Self {
        Self::excel(
            413,
            "requestSizeExceeded",
            "The request size exceeds the maximum limit.",
            "payloadTooLargeUncategorized",
        )
    }

    /// 503 when the session table is full.
    pub fn table_full() -> Self {
        Self::excel(
            503,
            "serviceUnavailable",
            "The service is not available: too many open sessions. Please try your request again.",
            "serviceUnavailableUncategorized",
        )
    }

    /// The default error for a status (used by faults), with optional
    /// overrides: `code` (top level), `inner_codes` (every nested level,
    /// outermost first; `[]` = flat). A 404 whose second-level code is one
    /// of the `invalidSession*` codes reads like the real expired-session
    /// answer.
    pub fn for_status(status: u16, code: Option<&str>, inner_codes: Option<&[String]>) -> Self {
        let (top, message, second): (&'static str, &'static str, Option<&'static str>) = match status {
            400 => (
                "invalidRequest",
                "The request is malformed or incorrect.",
                Some("badRequestUncategorized"),
            ),
            401 => ("InvalidAuthenticationToken", "Access token validation failure.", None),
            403 => (
                "accessDenied",
                "The caller doesn't have permission to perform the action.",
                Some("forbiddenUncategorized"),
            ),
            404 => (
                "itemNotFound",
                "The resource could not be found.",
                Some("notFoundUncategorized"),
            ),
            405 => (
                "methodNotAllowed",
                "The HTTP method in the request is not allowed on the resource.",
                Some("methodNotAllowedUncategorized"),
            ),
            409 => (
                "conflict",
                "The current state conflicts with what the request expects.",
                Some("conflictUncategorized"),
            ),
            413 => (
                "requestSizeExceeded",
                "The request size exceeds the maximum limit.",
                Some("payloadTooLargeUncategorized"),
            ),
            429 => (
                "tooManyRequests",
                "The app or user has been throttled.",
                Some("tooManyRequestsUncategorized"),
            ),
            500 => (
                "internalServerError",
                "An internal server error occurred while processing the request.",
                Some("internalServerErrorUncategorized"),
            ),
            501 => (
                "notImplemented",
                "The requested feature isn't implemented.",
                Some("notImplementedUncategorized"),
            ),
            502 => ("badGateway", "Bad gateway.", None),
            503 => (
                "serviceUnavailable",
                "The service is not available. Please try your request again.",
                Some("serviceUnavailableUncategorized"),
            ),
            504 => (
                "gatewayTimeout",
                "The server, while acting as a proxy, did not receive a timely response from the upstream server.",
                Some("gatewayTimeoutUncategorized"),
            ),
            _ if (400..500).contains(&status) => (
                "invalidRequest",
                "The request is malformed or incorrect.",
                Some("badRequestUncategorized"),
            ),
            _ if (500..600).contains(&status) => (
                "internalServerError",
                "An internal server error occurred while processing the request.",
                Some("internalServerErrorUncategorized"),
            ),
            _ => ("unknownError", "Unknown error.", None),
        };
        let inner = match inner_codes {
            Some([]) => Vec::new(),
            Some([one]) => levels_for(Cow::Owned(one.clone())),
            Some(many) => many.iter().map(|c| level(Cow::Owned(c.clone()))).collect(),
            None => second.map(|s| levels_for(Cow::Borrowed(s))).unwrap_or_default(),
        };
        let message = match inner.first() {
            Some(l) if status == 404 && is_invalid_session(&l.code) => INVALID_SESSION_MESSAGE,
            _ => message,
        };
        GraphError {
            status,
            code: code.map_or(Cow::Borrowed(top), |c| Cow::Owned(c.to_owned())),
            message: Cow::Borrowed(message),
            inner,
        }
    }

    /// The nested levels as JSON, innermost last; `ids` go in the first
    /// `innerError` (HTTP answers), none in a failed operation.
    fn inner_value(&self, ids: Option<&Stamp>) -> Option<Value> {
        let mut deeper: Option<Map<String, Value>> = None;
        for l in self.inner.iter().skip(1).rev() {
            let mut m = Map::new();
            m.insert("code".into(), Value::from(l.code.as_ref()));
            m.insert("message".into(), Value::from(l.message.as_ref()));
            if let Some(d) = deeper.take() {
                m.insert("innerError".into(), Value::Object(d));
            }
            deeper = Some(m);
        }
        let mut first = Map::new();
        if let Some(l) = self.inner.first() {
            first.insert("code".into(), Value::from(l.code.as_ref()));
            first.insert("message".into(), Value::from(l.message.as_ref()));
        }
        if let Some(d) = deeper {
            first.insert("innerError".into(), Value::Object(d));
        }
        if let Some(s) = ids {
            first.insert("request-id".into(), Value::from(s.request_id.as_str()));
            first.insert("client-request-id".into(), Value::from(s.client_request_id.as_str()));
            first.insert("date".into(), Value::from(s.date.as_str()));
        }
        (!first.is_empty()).then_some(Value::Object(first))
    }

    /// The full response body: `{"error":{"code","message","innerError":{
    /// "code"?,"message"?,"innerError"?, "request-id","client-request-id",
    /// "date"}}}`.
    pub fn to_value(&self, stamp: &Stamp) -> Value {
        let inner = self.inner_value(Some(stamp)).unwrap_or_else(|| json!({}));
        json!({"error": {"code": self.code, "message": self.message, "innerError": inner}})
    }

    /// The body serialized.
    pub fn to_body(&self, stamp: &Stamp) -> Vec<u8> {
        serde_json::to_vec(&self.to_value(stamp)).unwrap_or_default()
    }

    /// The `error` member of a failed operation: `{"code","message",
    /// "innerError":{…}}` nested the same way, without request ids (it is
    /// not an HTTP answer).
    pub fn operation_error(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), Value::from(self.code.as_ref()));
        e.insert("message".into(), Value::from(self.message.as_ref()));
        if let Some(inner) = self.inner_value(None) {
            e.insert("innerError".into(), inner);
        }
        Value::Object(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp {
            request_id: "r".into(),
            client_request_id: "c".into(),
            date: "d".into(),
        }
    }

    fn codes(v: &Value) -> Vec<String> {
        let mut out = vec![];
        let mut e = &v["error"];
        while let Some(c) = e.get("code").and_then(Value::as_str) {
            out.push(c.to_owned());
            e = &e["innerError"];
        }
        out
    }

    #[test]
    fn fault_404_recreatable_is_the_real_answer() {
        let real = GraphError::invalid_session();
        let fault = GraphError::for_status(404, None, Some(&["invalidSessionReCreatable".to_owned()]));
        assert_eq!(real.to_body(&stamp()), fault.to_body(&stamp()));
        assert_eq!(
            codes(&real.to_value(&stamp())),
            ["itemNotFound", "invalidSessionReCreatable", "InvalidOrTimedOutSession"]
        );
    }

    #[test]
    fn three_levels_like_the_docs_example() {
        // workbookoperation-get.md's failed operation.
        let e = GraphError::for_status(500, None, None).operation_error();
        assert_eq!(e["code"], "internalServerError");
        assert_eq!(e["innerError"]["code"], "internalServerErrorUncategorized");
        assert_eq!(e["innerError"]["message"], "An unspecified error has occurred.");
        assert_eq!(e["innerError"]["innerError"]["code"], "GenericFileOpenError");
        assert!(e["innerError"].get("request-id").is_none());
        let v = GraphError::for_status(500, None, None).to_value(&stamp());
        assert_eq!(v["error"]["innerError"]["request-id"], "r");
        assert!(v["error"]["innerError"]["innerError"].get("request-id").is_none());
    }

    #[test]
    fn defaults_per_status() {
        for (s, c, i) in [
            (400, "invalidRequest", Some("badRequestUncategorized")),
            (401, "InvalidAuthenticationToken", None),
            (403, "accessDenied", Some("forbiddenUncategorized")),
            (404, "itemNotFound", Some("notFoundUncategorized")),
            (409, "conflict", Some("conflictUncategorized")),
            (413, "requestSizeExceeded", Some("payloadTooLargeUncategorized")),
            (429, "tooManyRequests", Some("tooManyRequestsUncategorized")),
            (500, "internalServerError", Some("internalServerErrorUncategorized")),
            (502, "badGateway", None),
            (503, "serviceUnavailable", Some("serviceUnavailableUncategorized")),
            (504, "gatewayTimeout", Some("gatewayTimeoutUncategorized")),
            (418, "invalidRequest", Some("badRequestUncategorized")),
            (599, "internalServerError", Some("internalServerErrorUncategorized")),
        ] {
            let e = GraphError::for_status(s, None, None);
            assert_eq!((e.code.as_ref(), e.inner_code()), (c, i), "{s}");
        }
        let o = GraphError::for_status(409, Some("x"), Some(&["accessConflict".to_owned()]));
        assert_eq!((o.code.as_ref(), o.inner_code()), ("x", Some("accessConflict")));
        assert_eq!(o.inner[0].message, lookup(SECOND_LEVEL, "accessConflict").unwrap());
    }

    #[test]
    fn chosen_nesting_keeps_casing() {
        let e = GraphError::for_status(
            404,
            Some("ItemNotFound"),
            Some(&["InvalidSessionReCreatable".to_owned(), "SessionGone".to_owned()]),
        );
        let v = e.to_value(&stamp());
        assert_eq!(codes(&v), ["ItemNotFound", "InvalidSessionReCreatable", "SessionGone"]);
        assert_eq!(v["error"]["message"], INVALID_SESSION_MESSAGE);
        let flat = GraphError::for_status(503, None, Some(&[])).to_value(&stamp());
        assert!(flat["error"]["innerError"].get("code").is_none());
        assert_eq!(flat["error"]["innerError"]["request-id"], "r");
    }

    #[test]
    fn body_shape() {
        let v = GraphError::token_empty().to_value(&stamp());
        assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
        assert_eq!(v["error"]["innerError"]["request-id"], "r");
        assert_eq!(v["error"]["innerError"]["client-request-id"], "c");
        assert_eq!(v["error"]["innerError"]["date"], "d");
        assert!(v["error"]["innerError"].get("code").is_none());
    }
}
