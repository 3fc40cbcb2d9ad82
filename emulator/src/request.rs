//! What the pipeline passes around: the request as the emulator sees it,
//! how it is being handled, and the error answer of a refused one. Every
//! module that handles requests (handler, graph, batch, control) depends on
//! this one, never on each other's internals.

use serde_json::Value;

use crate::errors::GraphError;

/// The parts of an HTTP request the emulator looks at, borrowed.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// Raw (percent-encoded) path, no query.
    pub path: &'a str,
    /// Raw query, without `?`.
    pub query: Option<&'a str>,
    /// `Host` header, used to build absolute `Location` URLs.
    pub host: &'a str,
    /// The request came over https (absolute URLs the emulator builds
    /// use its scheme; the socket server speaks http only).
    pub https: bool,
    /// `Authorization` header.
    pub authorization: Option<&'a str>,
    /// `workbook-session-id` header.
    pub session_id: Option<&'a str>,
    /// `client-request-id` header.
    pub client_request_id: Option<&'a str>,
    /// `Retry-Attempt` header.
    pub retry_attempt: Option<&'a str>,
    /// `Prefer` header.
    pub prefer: Option<&'a str>,
    /// `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// `Origin` header (CORS).
    pub origin: Option<&'a str>,
    /// `Access-Control-Request-Private-Network: true` was sent.
    pub private_network: bool,
    /// The TCP peer is not a loopback address (the control API refuses it).
    pub remote_peer: bool,
    /// The body (empty when too large).
    pub body: &'a [u8],
    /// The body was over `max_body_bytes`.
    pub body_too_large: bool,
}

/// How a Graph request is being handled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    /// A delay-only fault already fired for it.
    pub skip_faults: bool,
    /// It is an inner request of a `$batch`.
    pub in_batch: bool,
}

/// An error answer, with an optional `Retry-After`.
pub(crate) type Refusal = (GraphError, Option<&'static str>);

/// Parses a JSON body; an empty (or blank) body is `None`.
pub(crate) fn json_body(body: &[u8]) -> Result<Option<Value>, GraphError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|_| GraphError::invalid_request("The request body is not valid JSON."))
}

/// Whether a `Content-Type` names JSON (`application/json`, any parameters).
pub(crate) fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}
