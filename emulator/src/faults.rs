//! Scripted faults: answers that replace (or delay) the normal handling of
//! the Graph requests they match, each with a remaining count, like
//! wiremock's mocks. The oldest matching fault fires first.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::errors::{GraphError, Stamp};
use crate::response::{Body, Response};
use crate::routes::{percent_decode, Operation};

/// A fault as posted to `POST /_emulator/faults` (field names are the
/// contract).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    /// Match only this operation (`createSession`, `refreshSession`,
    /// `closeSession`, `operation`, `sessionInfo`, `batch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Match only paths containing this (raw or percent-decoded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
    /// Answer with this status (default 503; 200 for `dropMidResponse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Override the catalogue's top-level code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Override the catalogue's second-level code (its catalogue detail
    /// level, if any, follows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_code: Option<String>,
    /// Every nested `innerError` code, outermost first, sent as written
    /// (`[]` = no Excel code). Excludes `innerCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_codes: Option<Vec<String>>,
    /// A redirect: this `Location` header (status defaults to 302).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The session named by the request's `workbook-session-id` ends when
    /// the fault fires (as Graph's `internalServerErrorUncategorized` and
    /// `invalidSession*` codes say: no further access to it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_session: Option<bool>,
    /// Raw `Retry-After` value (`""` sends none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
    /// Wait this long before answering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Close the connection without a response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop: Option<bool>,
    /// Send status, headers and half the body, then close.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_mid_response: Option<bool>,
    /// Raw body instead of the Graph error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `Content-Type` of the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A body of this many filler bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<u64>,
    /// Extra response headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Make the `createSession` operation end `failed` (202 flow), or fail a
    /// synchronous `createSession` with the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_fails: Option<bool>,
    /// How many requests it applies to (default 1; 0 = forever).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// Largest `bodyBytes` (1 GiB, streamed: never held in memory).
pub const MAX_FILLER: u64 = 1 << 30;
/// Largest `body` (held in memory while the fault is armed).
pub const MAX_BODY: usize = 64 * 1024;
/// Most extra `headers` per fault.
pub const MAX_HEADERS: usize = 32;
/// Longest header value or `pathContains`.
pub const MAX_VALUE: usize = 8 * 1024;
/// Most faults armed at once.
pub const MAX_FAULTS: usize = 1000;

/// What a fired fault makes the handler do.
#[derive(Debug)]
pub enum Plan {
    /// Wait, then handle the request normally.
    DelayThenNormal(Duration),
    /// Wait, then close the connection without a response.
    Drop(Option<Duration>),
    /// Wait, then send this (cut in half when `mid_drop`).
    Respond {
        /// Wait first.
        delay: Option<Duration>,
        /// The answer.
        response: Response,
        /// Cut the body and close.
        mid_drop: bool,
    },
    /// Handle `createSession` normally, but its operation fails with this
    /// error (a synchronous create answers it directly).
    FailOperation {
        /// Wait first.
        delay: Option<Duration>,
        /// The operation's error.
        error: GraphError,
    },
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_header_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

impl FaultSpec {
    /// Checks the spec; the error explains what is wrong.
    pub fn validate(&self) -> Result<Option<Operation>, String> {
        let op = match &self.operation {
            Some(name) => Some(Operation::from_name(name).ok_or_else(|| {
                format!(
                    "unknown operation {name:?}; expected one of createSession, refreshSession, \
                     closeSession, operation, sessionInfo, batch, worksheets, range"
                )
            })?),
            None => None,
        };
        if let Some(s) = self.status {
            if !(200..=599).contains(&s) {
                return Err(format!("status {s} is outside 200..=599"));
            }
        }
        if self.body_bytes.is_some_and(|n| n > MAX_FILLER) {
            return Err(format!("bodyBytes is limited to {MAX_FILLER}"));
        }
        if self.body.as_ref().is_some_and(|b| b.len() > MAX_BODY) {
            return Err(format!(
                "body is limited to {MAX_BODY} bytes (bodyBytes streams larger bodies)"
            ));
        }
        if self.headers.as_ref().is_some_and(|h| h.len() > MAX_HEADERS) {
            return Err(format!("headers is limited to {MAX_HEADERS} entries"));
        }
        if self.inner_code.is_some() && self.inner_codes.is_some() {
            return Err("innerCode and innerCodes are exclusive".into());
        }
        let codes = self
            .code
            .iter()
            .chain(&self.inner_code)
            .chain(self.inner_codes.iter().flatten());
        for c in codes {
            if c.len() > crate::errors::MAX_CODE_LEN {
                return Err(format!("codes are limited to {} bytes", crate::errors::MAX_CODE_LEN));
            }
        }
        if self
            .inner_codes
            .as_ref()
            .is_some_and(|v| v.len() > crate::errors::MAX_LEVELS)
        {
            return Err(format!("innerCodes is limited to {} levels", crate::errors::MAX_LEVELS));
        }
        if self.path_contains.as_ref().is_some_and(|p| p.len() > MAX_VALUE) {
            return Err(format!("pathContains is limited to {MAX_VALUE} bytes"));
        }
        if self.body.is_some() && self.body_bytes.is_some() {
            return Err("body and bodyBytes are exclusive".into());
        }
        if self.drop == Some(true) && self.drop_mid_response == Some(true) {
            return Err("drop and dropMidResponse are exclusive".into());
        }
        for (what, v) in [
            ("retryAfter", &self.retry_after),
            ("contentType", &self.content_type),
            ("location", &self.location),
        ] {
            if let Some(v) = v {
                if !is_header_value(v) || v.len() > MAX_VALUE {
                    return Err(format!("{what} is not a valid header value"));
                }
            }
        }
        for (k, v) in self.headers.iter().flatten() {
            if !is_token(k) {
                return Err(format!("header name {k:?} is not valid"));
            }
            if !is_header_value(v) || v.len() > MAX_VALUE {
                return Err(format!("header {k:?} has an invalid value"));
            }
        }
        Ok(op)
    }

    fn delay(&self) -> Option<Duration> {
        self.delay_ms.filter(|&d| d > 0).map(Duration::from_millis)
    }

    fn scripts_answer(&self) -> bool {
        self.status.is_some()
            || self.code.is_some()
            || self.inner_code.is_some()
            || self.inner_codes.is_some()
            || self.location.is_some()
            || self.retry_after.is_some()
            || self.body.is_some()
            || self.body_bytes.is_some()
            || self.content_type.is_some()
            || self.headers.is_some()
    }

    fn error(&self, default_status: u16) -> GraphError {
        let one;
        let inner = match (&self.inner_code, &self.inner_codes) {
            (Some(c), _) => {
                one = [c.clone()];
                Some(&one[..])
            }
            (None, Some(v)) => Some(&v[..]),
            (None, None) => None,
        };
        GraphError::for_status(self.status.unwrap_or(default_status), self.code.as_deref(), inner)
    }
}

/// An armed fault's spec with its body made once, shared by every firing.
#[derive(Debug)]
pub struct Armed {
    /// The spec as posted.
    pub spec: FaultSpec,
    body: Option<Bytes>,
}

impl Armed {
    fn new(spec: FaultSpec) -> Armed {
        let body = spec.body.as_ref().map(|b| Bytes::from(b.clone().into_bytes()));
        Armed { spec, body }
    }

    /// What this fault does to a request; `stamp` fills the error body,
    /// which the adapter serializes after the lock is released.
    pub fn plan(&self, stamp: &Stamp) -> Plan {
        let spec = &self.spec;
        spec.plan_with(self.body.clone(), stamp)
    }
}

impl FaultSpec {
    /// What this fault does to a request (tests; armed faults use
    /// [`Armed::plan`]).
    pub fn plan(&self, stamp: &Stamp) -> Plan {
        Armed::new(self.clone()).plan(stamp)
    }

    fn plan_with(&self, shared_body: Option<Bytes>, stamp: &Stamp) -> Plan {
        let delay = self.delay();
        if self.drop == Some(true) {
            return Plan::Drop(delay);
        }
        let mid_drop = self.drop_mid_response == Some(true);
        if self.operation_fails == Some(true) && !mid_drop {
            return Plan::FailOperation {
                delay,
                error: self.error(500),
            };
        }
        if !mid_drop && !self.scripts_answer() && delay.is_some() {
            return Plan::DelayThenNormal(delay.unwrap_or_default());
        }
        let default_status = if mid_drop {
            200
        } else if self.location.is_some() {
            302
        } else {
            503
        };
        let status = self.status.unwrap_or(default_status);
        let (body, json) = if let Some(b) = shared_body {
            (Body::Shared(b), true)
        } else if let Some(n) = self.body_bytes {
            (Body::Filler(n), true)
        } else if status >= 400 {
            (Body::Error(Box::new((self.error(status), stamp.clone()))), true)
        } else if mid_drop {
            (Body::Filler(2048), true)
        } else {
            (Body::Empty, false)
        };
        let mut response = Response {
            status,
            headers: Vec::new(),
            body,
        };
        if let Some(ct) = &self.content_type {
            response.set_header("Content-Type", ct.clone());
        } else if json {
            response.set_header("Content-Type", "application/json");
        }
        match self.retry_after.as_deref() {
            Some("") | None => {}
            Some(ra) => response.set_header("Retry-After", ra.to_owned()),
        }
        if let Some(l) = &self.location {
            response.set_header("Location", l.clone());
        }
        for (k, v) in self.headers.iter().flatten() {
            response.set_header(Cow::Owned(k.clone()), v.clone());
        }
        Plan::Respond {
            delay,
            response,
            mid_drop,
        }
    }
}

#[derive(Debug)]
struct Fault {
    id: String,
    armed: Arc<Armed>,
    operation: Option<Operation>,
    remaining: Option<u32>,
    fired: u64,
}

/// The faults still armed, oldest first.
#[derive(Debug, Default)]
pub struct Faults {
    list: Vec<Fault>,
    next_id: u64,
}

impl Faults {
    /// Arms a fault; returns its id or why the spec is invalid.
    pub fn add(&mut self, spec: FaultSpec) -> Result<String, String> {
        let operation = spec.validate()?;
        if self.list.len() >= MAX_FAULTS {
            return Err(format!(
                "at most {MAX_FAULTS} faults can be armed; DELETE /_emulator/faults first"
            ));
        }
        self.next_id += 1;
        let id = format!("fault-{}", self.next_id);
        let remaining = match spec.times.unwrap_or(1) {
            0 => None,
            n => Some(n),
        };
        self.list.push(Fault {
            id: id.clone(),
            armed: Arc::new(Armed::new(spec)),
            operation,
            remaining,
            fired: 0,
        });
        Ok(id)
    }

    /// Fires the oldest fault matching this request, if any: its count drops
    /// and a spent fault is removed. Returns the fault id and spec.
    pub fn take(&mut self, op: Option<Operation>, path: &str) -> Option<(String, Arc<Armed>)> {
        if self.list.is_empty() {
            return None;
        }
        let decoded = percent_decode(path);
        let index = self.list.iter().position(|f| {
            let spec = &f.armed.spec;
            (f.operation.is_none() || f.operation == op)
                && (spec.operation_fails != Some(true) || op == Some(Operation::CreateSession))
                && spec.path_contains.as_deref().is_none_or(|needle| {
                    path.contains(needle) || decoded.as_deref().is_some_and(|d| d.contains(needle))
                })
        })?;
        let fault = &mut self.list[index];
        fault.fired += 1;
        let fired = (fault.id.clone(), fault.armed.clone());
        if let Some(n) = &mut fault.remaining {
            *n -= 1;
            if *n == 0 {
                self.list.remove(index);
            }
        }
        Some(fired)
    }

    /// Removes one fault.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.list.len();
        self.list.retain(|f| f.id != id);
        self.list.len() != before
    }

    /// Disarms everything.
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// Faults still armed.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Armed faults as JSON: the spec plus `id`, `remaining` (null =
    /// forever) and `fired`.
    pub fn to_json(&self) -> Value {
        let faults: Vec<Value> = self
            .list
            .iter()
            .map(|f| {
                let mut v = serde_json::to_value(&f.armed.spec).unwrap_or_else(|_| json!({}));
                if let Value::Object(m) = &mut v {
                    m.insert("id".into(), Value::from(f.id.as_str()));
                    m.insert("remaining".into(), f.remaining.map_or(Value::Null, Value::from));
                    m.insert("fired".into(), Value::from(f.fired));
                }
                v
            })
            .collect();
        json!({ "faults": faults })
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

    fn spec(v: Value) -> FaultSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn matching_order_and_counts() {
        let mut f = Faults::default();
        f.add(spec(json!({"operation":"refreshSession","times":2}))).unwrap();
        f.add(spec(json!({"pathContains":"Book 1"}))).unwrap();
        assert!(f.take(Some(Operation::CloseSession), "/v1.0/x").is_none());
        let (id, _) = f
            .take(Some(Operation::CloseSession), "/v1.0/root:/Book%201:/w")
            .unwrap();
        assert_eq!(id, "fault-2");
        assert_eq!(f.take(Some(Operation::RefreshSession), "/").unwrap().0, "fault-1");
        assert_eq!(f.take(Some(Operation::RefreshSession), "/").unwrap().0, "fault-1");
        assert!(f.take(Some(Operation::RefreshSession), "/").is_none());
        f.add(spec(json!({"times":0}))).unwrap();
        for _ in 0..5 {
            assert!(f.take(None, "/").is_some());
        }
        f.add(spec(json!({"operationFails":true}))).unwrap();
        f.clear();
        f.add(spec(json!({"operationFails":true}))).unwrap();
        assert!(f.take(Some(Operation::RefreshSession), "/").is_none());
        assert!(f.take(Some(Operation::CreateSession), "/").is_some());
    }

    #[test]
    fn validation() {
        let mut f = Faults::default();
        for bad in [
            json!({"operation":"nope"}),
            json!({"status":99}),
            json!({"status":600}),
            json!({"body":"a","bodyBytes":1}),
            json!({"headers":{"bad name":"x"}}),
            json!({"retryAfter":"a\r\nb"}),
            json!({"body": "x".repeat(MAX_BODY + 1)}),
            json!({"innerCode":"a","innerCodes":["b"]}),
            json!({"innerCodes":["a","b","c","d","e","f","g","h","i"]}),
            json!({"code": "c".repeat(300)}),
        ] {
            assert!(f.add(spec(bad.clone())).is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<FaultSpec>(json!({"stauts":500})).is_err());
    }

    #[test]
    fn plans() {
        let s = stamp();
        match spec(json!({})).plan(&s) {
            Plan::Respond { response, .. } => assert_eq!(response.status, 503),
            p => panic!("{p:?}"),
        }
        assert!(matches!(spec(json!({"delayMs":5})).plan(&s), Plan::DelayThenNormal(_)));
        assert!(matches!(spec(json!({"drop":true})).plan(&s), Plan::Drop(None)));
        match spec(json!({"status":429,"retryAfter":"2"})).plan(&s) {
            Plan::Respond { response, .. } => {
                assert_eq!(response.header("retry-after"), Some("2"));
                let v: Value = serde_json::from_slice(&response.body.to_bytes()).unwrap();
                assert_eq!(v["error"]["code"], "tooManyRequests");
                assert_eq!(v["error"]["innerError"]["code"], "tooManyRequestsUncategorized");
                assert_eq!(v["error"]["innerError"]["innerError"]["code"], "ActivityLimitReached");
            }
            p => panic!("{p:?}"),
        }
        match spec(json!({"dropMidResponse":true})).plan(&s) {
            Plan::Respond { response, mid_drop, .. } => {
                assert!(mid_drop);
                assert_eq!(response.status, 200);
                assert!(!response.body.is_empty());
            }
            p => panic!("{p:?}"),
        }
        match spec(json!({"status":302,"headers":{"location":"/x"}})).plan(&s) {
            Plan::Respond { response, .. } => {
                assert_eq!(response.header("Location"), Some("/x"));
                assert_eq!(response.body, Body::Empty);
            }
            p => panic!("{p:?}"),
        }
        match spec(json!({"location":"https://elsewhere.example/x"})).plan(&s) {
            Plan::Respond { response, .. } => {
                assert_eq!(response.status, 302);
                assert_eq!(response.header("location"), Some("https://elsewhere.example/x"));
            }
            p => panic!("{p:?}"),
        }
        match spec(json!({"status":429,"retryAfter":""})).plan(&s) {
            Plan::Respond { response, .. } => assert_eq!(response.header("retry-after"), None),
            p => panic!("{p:?}"),
        }
        match spec(json!({"operationFails":true,"code":"x"})).plan(&s) {
            Plan::FailOperation { error, .. } => assert_eq!(error.code, "x"),
            p => panic!("{p:?}"),
        }
    }
}
