//! What the emulator saw: a bounded ring of recent Graph requests (never the
//! token) and per-operation counters.

use std::collections::VecDeque;

use serde_json::{json, Value};

use crate::routes::{percent_decode, Operation};

/// How many requests the log keeps.
pub const LOG_CAPACITY: usize = 10_000;

/// One logged Graph request.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Position since the last reset, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Raw path (no query).
    pub path: String,
    /// Which endpoint, when known.
    pub operation: Option<Operation>,
    /// `workbook-session-id`.
    pub session_id: Option<String>,
    /// `client-request-id` as sent.
    pub client_request_id: Option<String>,
    /// `Retry-Attempt` as sent.
    pub retry_attempt: Option<String>,
    /// `Prefer` as sent.
    pub prefer: Option<String>,
    /// Whether an `Authorization` header came (its value is never kept).
    pub has_authorization: bool,
    /// The status answered (0 when the connection was dropped).
    pub status: u16,
    /// Whether this was an inner request of a `$batch`.
    pub batch: bool,
    /// The fault that fired, if one did.
    pub fault: Option<String>,
    /// When it was handled (ms since the epoch).
    pub time_ms: u64,
}

impl Entry {
    fn to_json(&self) -> Value {
        json!({
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "operation": self.operation.map(Operation::as_str),
            "sessionId": self.session_id,
            "clientRequestId": self.client_request_id,
            "retryAttempt": self.retry_attempt,
            "prefer": self.prefer,
            "hasAuthorization": self.has_authorization,
            "status": self.status,
            "batch": self.batch,
            "fault": self.fault,
            "timeMs": self.time_ms,
        })
    }
}

/// The request log and counters.
#[derive(Debug, Default)]
pub struct Journal {
    entries: VecDeque<Entry>,
    seq: u64,
    counts: [u64; Operation::ALL.len()],
}

impl Journal {
    /// Appends an entry (its `seq` is assigned here), dropping the oldest
    /// beyond [`LOG_CAPACITY`], and counts its operation.
    pub fn record(&mut self, mut entry: Entry) {
        self.seq += 1;
        entry.seq = self.seq;
        if let Some(op) = entry.operation {
            self.counts[op.index()] += 1;
        }
        if self.entries.len() >= LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// Forgets the log (not the counters).
    pub fn clear_log(&mut self) {
        self.entries.clear();
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Journal::default();
    }

    /// `{"requests":[…]}`, filtered by a substring of the raw or decoded
    /// path.
    pub fn requests_json(&self, path_contains: Option<&str>) -> Value {
        let list: Vec<Value> = self
            .entries
            .iter()
            .filter(|e| match path_contains {
                None => true,
                Some(n) => {
                    e.path.contains(n) || percent_decode(&e.path).is_some_and(|d| d.contains(n))
                }
            })
            .map(Entry::to_json)
            .collect();
        json!({ "requests": list })
    }

    /// `{"createSession":n,…}`
    pub fn counts_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for op in Operation::ALL {
            m.insert(op.as_str().into(), Value::from(self.counts[op.index()]));
        }
        Value::Object(m)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}
