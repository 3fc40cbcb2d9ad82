//! What the pure core answers: plain data, turned into HTTP by the adapter.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::errors::{GraphError, Stamp};

/// A response body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// No body.
    Empty,
    /// These bytes.
    Bytes(Vec<u8>),
    /// Shared bytes (a fault's body, made once when it was armed).
    Shared(Bytes),
    /// This many filler bytes (`x`), streamed without holding them.
    Filler(u64),
    /// A Graph error, serialized by the adapter after the state lock is
    /// released.
    Error(Box<(GraphError, Stamp)>),
}

impl Body {
    /// Length in bytes (serializes an [`Body::Error`]).
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::Shared(b) => b.len() as u64,
            Body::Filler(n) => *n,
            Body::Error(e) => e.0.to_body(&e.1).len() as u64,
        }
    }

    /// The bytes (filler made up in memory: for tests and `$batch`).
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Body::Empty => Cow::Borrowed(&[]),
            Body::Bytes(b) => Cow::Borrowed(b),
            Body::Shared(b) => Cow::Borrowed(b),
            Body::Filler(n) => Cow::Owned(vec![b'x'; usize::try_from(*n).unwrap_or(0)]),
            Body::Error(e) => Cow::Owned(e.0.to_body(&e.1)),
        }
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A response: status, headers (names as written, compared
/// case-insensitively) and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    /// Body.
    pub body: Body,
}

impl Response {
    /// A response without headers or body.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &Value) -> Response {
        Response {
            status,
            headers: vec![(Cow::Borrowed("Content-Type"), Cow::Borrowed("application/json"))],
            body: Body::Bytes(serde_json::to_vec(value).unwrap_or_default()),
        }
    }

    /// A Graph error from the catalogue (its body serialized later, by the
    /// adapter, outside the state lock).
    pub fn error(err: &GraphError, stamp: &Stamp) -> Response {
        Response {
            status: err.status,
            headers: vec![(Cow::Borrowed("Content-Type"), Cow::Borrowed("application/json"))],
            body: Body::Error(Box::new((err.clone(), stamp.clone()))),
        }
    }

    /// Adds a header, replacing any of the same name.
    pub fn set_header(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Cow<'static, str>>) {
        let name = name.into();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
    }

    /// Adds a header.
    pub fn push_header(&mut self, name: &'static str, value: impl Into<Cow<'static, str>>) {
        self.headers.push((Cow::Borrowed(name), value.into()));
    }

    /// The first header of that name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

/// What the adapter must do with a request.
#[derive(Debug)]
pub enum Action {
    /// Send this response.
    Respond(Response),
    /// Send the status, headers and half the body of this response, then
    /// close the connection.
    DropMidResponse(Response),
    /// Close the connection without any response.
    Drop,
    /// Call [`crate::resume`] (after the delay): a delay-only fault fired.
    Resume,
}

/// The core's decision: an action, possibly after a delay the adapter
/// sleeps outside the lock.
#[derive(Debug)]
pub struct Outcome {
    /// Wait this long first.
    pub delay: Option<Duration>,
    /// Then do this.
    pub action: Action,
}

impl Outcome {
    /// Respond at once.
    pub fn respond(r: Response) -> Outcome {
        Outcome {
            delay: None,
            action: Action::Respond(r),
        }
    }
}
