//! The catalogue of Graph errors. Every error body the emulator sends is built
//! here, so the shape (`{"error":{"code","message","innerError":{…}}}`) and the
//! wording match the real service in one place.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

/// What varies per answer inside `innerError`.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// The `request-id` header of this answer.
    pub request_id: String,
    /// The echoed (or freshly made) `client-request-id`.
    pub client_request_id: String,
    /// `innerError.date`, e.g. `2024-05-01T12:34:56`.
    pub date: String,
}

/// A Graph error: status, top-level code, message and optional inner code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphError {
    /// HTTP status.
    pub status: u16,
    /// Top-level `error.code`.
    pub code: Cow<'static, str>,
    /// `error.message`.
    pub message: Cow<'static, str>,
    /// `error.innerError.code`, the most detailed code.
    pub inner_code: Option<Cow<'static, str>>,
}

/// The message of the real expired-session answer.
pub const INVALID_SESSION_MESSAGE: &str = "The target session is invalid.";

impl GraphError {
    fn new(status: u16, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        GraphError {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            inner_code: None,
        }
    }

    fn with_inner(mut self, inner: &'static str) -> Self {
        self.inner_code = Some(Cow::Borrowed(inner));
        self
    }

    /// 400 `invalidRequest`: malformed JSON, wrong types, missing header.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, "invalidRequest", message)
    }

    /// 404 `itemNotFound` / `invalidSessionReCreatable`: the session is
    /// unknown, closed, expired or belongs to another item. The client
    /// should create a new session and go on.
    pub fn invalid_session() -> Self {
        Self::new(404, "itemNotFound", INVALID_SESSION_MESSAGE)
            .with_inner("invalidSessionReCreatable")
    }

    /// 404 `itemNotFound` for an operation, session-info key or route that
    /// does not exist.
    pub fn item_not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(404, "itemNotFound", message)
    }

    /// 401 without a bearer token (or with an empty one).
    pub fn token_empty() -> Self {
        Self::new(401, "InvalidAuthenticationToken", "Access token is empty.")
    }

    /// 401 with a token other than the configured one.
    pub fn token_invalid() -> Self {
        Self::new(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure.",
        )
    }

    /// 405 on a known route with the wrong method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "methodNotAllowed",
            "The HTTP method is not allowed for this resource.",
        )
    }

    /// 413 for a body over `max_body_bytes`.
    pub fn too_large() -> Self {
        Self::new(
            413,
            "requestEntityTooLarge",
            "The request body is too large.",
        )
    }

    /// 503 when the session table is full.
    pub fn table_full() -> Self {
        Self::new(
            503,
            "serviceNotAvailable",
            "The service is temporarily unavailable: too many open sessions. Please try again later.",
        )
    }

    /// The default error for a status (used by faults), with optional
    /// overrides of the top-level and inner code. A 404 whose inner code is
    /// one of the `invalidSession*` codes reads exactly like the real
    /// expired-session answer.
    pub fn for_status(status: u16, code: Option<&str>, inner: Option<&str>) -> Self {
        let (def_code, def_message, def_inner): (&'static str, &'static str, Option<&'static str>) =
            match status {
                400 => ("invalidRequest", "Invalid request.", None),
                401 => ("InvalidAuthenticationToken", "Access token validation failure.", None),
                403 => (
                    "accessDenied",
                    "Access denied. You do not have permission to perform this action or access this resource.",
                    None,
                ),
                404 => ("itemNotFound", "The resource could not be found.", None),
                405 => ("methodNotAllowed", "The HTTP method is not allowed for this resource.", None),
                409 => ("conflict", "The request conflicts with the current state of the resource.", None),
                413 => ("requestEntityTooLarge", "The request body is too large.", None),
                429 => (
                    "tooManyRequests",
                    "Too many requests. Please try again later.",
                    Some("activityLimitReached"),
                ),
                500 => ("generalException", "General exception while processing.", None),
                502 => ("badGateway", "Bad gateway.", None),
                503 => (
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Please try again later.",
                    None,
                ),
                504 => ("gatewayTimeout", "Gateway timeout.", None),
                _ if (400..500).contains(&status) => ("invalidRequest", "The request failed.", None),
                _ if (500..600).contains(&status) => ("generalException", "General exception while processing.", None),
                _ => ("unknownError", "Unknown error.", None),
            };
        let inner: Option<Cow<'static, str>> = match inner {
            Some(i) => Some(Cow::Owned(i.to_owned())),
            None => def_inner.map(Cow::Borrowed),
        };
        let message = match inner.as_deref() {
            Some(i) if status == 404 && i.starts_with("invalidSession") => INVALID_SESSION_MESSAGE,
            _ => def_message,
        };
        GraphError {
            status,
            code: code.map_or(Cow::Borrowed(def_code), |c| Cow::Owned(c.to_owned())),
            message: Cow::Borrowed(message),
            inner_code: inner,
        }
    }

    /// The full response body: `{"error":{…,"innerError":{code?, request-id,
    /// client-request-id, date}}}`.
    pub fn to_value(&self, stamp: &Stamp) -> Value {
        let mut inner = Map::new();
        if let Some(c) = &self.inner_code {
            inner.insert("code".into(), Value::from(c.as_ref()));
        }
        inner.insert("request-id".into(), Value::from(stamp.request_id.as_str()));
        inner.insert(
            "client-request-id".into(),
            Value::from(stamp.client_request_id.as_str()),
        );
        inner.insert("date".into(), Value::from(stamp.date.as_str()));
        json!({"error": {"code": self.code, "message": self.message, "innerError": inner}})
    }

    /// The body serialized.
    pub fn to_body(&self, stamp: &Stamp) -> Vec<u8> {
        serde_json::to_vec(&self.to_value(stamp)).unwrap_or_default()
    }

    /// The `error` member of a failed operation: `{"code","message",
    /// "innerError":{"code"}}` (no request ids: it is not an HTTP answer).
    pub fn operation_error(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), Value::from(self.code.as_ref()));
        e.insert("message".into(), Value::from(self.message.as_ref()));
        if let Some(c) = &self.inner_code {
            e.insert("innerError".into(), json!({ "code": c }));
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

    #[test]
    fn fault_404_recreatable_is_the_real_answer() {
        let real = GraphError::invalid_session();
        let fault = GraphError::for_status(404, None, Some("invalidSessionReCreatable"));
        assert_eq!(real.to_body(&stamp()), fault.to_body(&stamp()));
    }

    #[test]
    fn defaults_per_status() {
        for (s, c) in [
            (400, "invalidRequest"),
            (401, "InvalidAuthenticationToken"),
            (403, "accessDenied"),
            (404, "itemNotFound"),
            (409, "conflict"),
            (429, "tooManyRequests"),
            (500, "generalException"),
            (502, "badGateway"),
            (503, "serviceNotAvailable"),
            (504, "gatewayTimeout"),
            (418, "invalidRequest"),
            (599, "generalException"),
        ] {
            assert_eq!(GraphError::for_status(s, None, None).code, c, "{s}");
        }
        assert_eq!(
            GraphError::for_status(429, None, None)
                .inner_code
                .as_deref(),
            Some("activityLimitReached")
        );
        let o = GraphError::for_status(503, Some("x"), Some("y"));
        assert_eq!((o.code.as_ref(), o.inner_code.as_deref()), ("x", Some("y")));
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
