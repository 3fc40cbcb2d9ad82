//! What the emulator saw: a bounded ring of recent Graph requests (never the
//! token) and per-operation counters.

use std::collections::VecDeque;

use serde_json::{json, Value};

use crate::routes::{percent_decode, Operation};

/// How many requests the log keeps.
pub const LOG_CAPACITY: usize = 10_000;
/// How many bytes of request data the log keeps (estimated per entry).
pub const LOG_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Longest string kept per field; longer ones are cut (marked with `…`).
pub const FIELD_MAX: usize = 2048;

/// `s` cut to [`FIELD_MAX`] bytes at a character boundary.
pub fn bounded(s: &str) -> String {
    if s.len() <= FIELD_MAX {
        return s.to_owned();
    }
    let mut end = FIELD_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

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
    /// Bytes this entry holds, roughly.
    fn weight(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        std::mem::size_of::<Entry>()
            + self.method.len()
            + self.path.len()
            + opt(&self.session_id)
            + opt(&self.client_request_id)
            + opt(&self.retry_attempt)
            + opt(&self.prefer)
            + opt(&self.fault)
    }

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
    bytes: usize,
    seq: u64,
    counts: [u64; Operation::ALL.len()],
}

impl Journal {
    /// Appends an entry (its `seq` is assigned here, its strings cut to
    /// [`FIELD_MAX`]), dropping the oldest beyond [`LOG_CAPACITY`] entries
    /// or [`LOG_MAX_BYTES`], and counts its operation.
    pub fn record(&mut self, mut entry: Entry) {
        self.seq += 1;
        entry.seq = self.seq;
        if let Some(op) = entry.operation {
            self.counts[op.index()] += 1;
        }
        for s in [&mut entry.method, &mut entry.path] {
            if s.len() > FIELD_MAX {
                *s = bounded(s);
            }
        }
        for s in [
            &mut entry.session_id,
            &mut entry.client_request_id,
            &mut entry.retry_attempt,
            &mut entry.prefer,
        ]
        .into_iter()
        .flatten()
        {
            if s.len() > FIELD_MAX {
                *s = bounded(s);
            }
        }
        let weight = entry.weight();
        while !self.entries.is_empty() && (self.entries.len() >= LOG_CAPACITY || self.bytes + weight > LOG_MAX_BYTES) {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.weight();
            }
        }
        self.bytes += weight;
        self.entries.push_back(entry);
    }

    /// Bytes the log holds (estimated).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Forgets the log (not the counters).
    pub fn clear_log(&mut self) {
        self.entries.clear();
        self.bytes = 0;
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
                Some(n) => e.path.contains(n) || percent_decode(&e.path).is_some_and(|d| d.contains(n)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: String) -> Entry {
        Entry {
            seq: 0,
            method: "POST".into(),
            path,
            operation: None,
            session_id: Some("s".repeat(10_000)),
            client_request_id: None,
            retry_attempt: None,
            prefer: None,
            has_authorization: true,
            status: 204,
            batch: false,
            fault: None,
            time_ms: 0,
        }
    }

    #[test]
    fn bounded_in_entries_and_bytes() {
        let mut j = Journal::default();
        for _ in 0..LOG_CAPACITY + 5 {
            j.record(entry("/x".into()));
        }
        // Each entry holds two cut strings (~4 KiB): the byte bound binds first.
        assert!(j.bytes() <= LOG_MAX_BYTES, "{}", j.bytes());
        assert!(j.len() < LOG_CAPACITY);
        let last = j.entries.back().unwrap();
        assert!(last.session_id.as_ref().unwrap().len() <= FIELD_MAX + 3);
        j.clear_log();
        assert_eq!((j.len(), j.bytes()), (0, 0));
        for _ in 0..LOG_CAPACITY + 5 {
            let mut e = entry("/y".into());
            e.session_id = None;
            j.record(e);
        }
        assert_eq!(j.len(), LOG_CAPACITY);
        assert_eq!(bounded("é".repeat(2000).as_str()).len(), FIELD_MAX + "…".len());
    }
}
