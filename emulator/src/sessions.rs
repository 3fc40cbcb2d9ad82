//! The session table and the pending `createSession` operations.
//!
//! Memory stays proportional to live sessions: every session has exactly one
//! entry in a deadline index (`BTreeMap<(deadline, serial), id>`), moved on
//! refresh, so a sweep pops only what has expired (O(expired · log n)).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::clock::Instant;

use crate::clock::{epoch_ms, later};
use crate::errors::GraphError;
use crate::workbook::Book;

/// One live workbook session.
#[derive(Clone, Debug)]
pub struct Session {
    /// `cluster=EMU&session=…`
    pub id: Arc<str>,
    /// The decoded item path the session was opened on.
    pub item: String,
    /// `persistChanges` as requested.
    pub persist_changes: bool,
    /// When the session came to exist (ms since the epoch).
    pub created_at_ms: u64,
    /// Creation or last refresh (ms since the epoch).
    pub last_refreshed_at_ms: u64,
    /// Creation, last refresh or last session-scoped request (ms since the
    /// epoch): the idle timer runs from here.
    pub last_active_at_ms: u64,
    /// The idle time-to-live fixed at creation or last refresh.
    pub ttl: Duration,
    /// Successful refreshes so far.
    pub refresh_count: u64,
    /// A `persistChanges: false` session's workbook: shared with the item
    /// until either side writes, then its own copy (copy-on-write).
    pub(crate) copy: Option<Arc<Book>>,
    deadline: (Instant, u64),
}

impl Session {
    /// When the session expires unless refreshed (ms since the epoch).
    pub fn expires_at_ms(&self) -> u64 {
        self.last_active_at_ms
            .saturating_add(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX))
    }

    fn serial(&self) -> u64 {
        self.deadline.1
    }
}

/// The live sessions and their expiry index.
#[derive(Default, Debug)]
pub struct Sessions {
    by_id: HashMap<Arc<str>, Session>,
    deadlines: BTreeMap<(Instant, u64), Arc<str>>,
    serial: u64,
}

/// A session lookup failed (unknown, closed, expired or another item's):
/// all of these answer the same 404, plain or recreatable by configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid;

impl Sessions {
    /// Live sessions (after the last sweep).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Entries in the expiry index (equals `len()`; exposed to prove it).
    pub fn index_len(&self) -> usize {
        self.deadlines.len()
    }

    /// Drops every session whose deadline is at or before `now`.
    pub fn sweep(&mut self, now: Instant) -> usize {
        let mut n = 0;
        while let Some(entry) = self.deadlines.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let id = entry.remove();
            self.by_id.remove(&id);
            n += 1;
        }
        n
    }

    /// Opens a session that started at `start` (mono) / `start_wall`;
    /// `copy` is a non-persistent session's workbook (shared until written).
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        &mut self,
        id: String,
        item: String,
        persist_changes: bool,
        ttl: Duration,
        start: Instant,
        start_wall: SystemTime,
        copy: Option<Arc<Book>>,
    ) {
        self.serial += 1;
        let id: Arc<str> = Arc::from(id);
        let deadline = (later(start, ttl), self.serial);
        let ms = epoch_ms(start_wall);
        self.deadlines.insert(deadline, id.clone());
        self.by_id.insert(
            id.clone(),
            Session {
                id,
                item,
                persist_changes,
                created_at_ms: ms,
                last_refreshed_at_ms: ms,
                last_active_at_ms: ms,
                ttl,
                refresh_count: 0,
                copy,
                deadline,
            },
        );
    }

    pub(crate) fn live(&mut self, id: &str, item: &str, now: Instant) -> Result<&mut Session, Invalid> {
        match self.by_id.get_mut(id) {
            Some(s) if s.deadline.0 > now && s.item == item => Ok(s),
            _ => Err(Invalid),
        }
    }

    /// Resets the idle timer (with the TTL now configured for its kind).
    pub fn refresh(
        &mut self,
        id: &str,
        item: &str,
        ttl: impl Fn(bool) -> Duration,
        now: Instant,
        now_wall: SystemTime,
    ) -> Result<(), Invalid> {
        let s = self.touch(id, item, ttl, now, now_wall)?;
        s.last_refreshed_at_ms = s.last_active_at_ms;
        s.refresh_count += 1;
        Ok(())
    }

    /// Any session-scoped request is activity: it resets the idle timer as a
    /// refresh does (the docs speak of expiry after "inactivity",
    /// `resources/excel.md`), without counting as a refresh.
    pub fn touch(
        &mut self,
        id: &str,
        item: &str,
        ttl: impl Fn(bool) -> Duration,
        now: Instant,
        now_wall: SystemTime,
    ) -> Result<&mut Session, Invalid> {
        let s = self.by_id.get_mut(id).filter(|s| s.deadline.0 > now && s.item == item);
        let Some(s) = s else {
            return Err(Invalid);
        };
        let old = s.deadline;
        s.ttl = ttl(s.persist_changes);
        s.deadline = (later(now, s.ttl), s.serial());
        s.last_active_at_ms = epoch_ms(now_wall);
        let new = s.deadline;
        if let Some(key) = self.deadlines.remove(&old) {
            self.deadlines.insert(new, key);
        }
        Ok(s)
    }

    /// Closes a session opened on `item`.
    pub fn close(&mut self, id: &str, item: &str, now: Instant) -> Result<(), Invalid> {
        self.live(id, item, now)?;
        self.remove(id);
        Ok(())
    }

    /// Removes a session whatever its item (control API `expire`).
    pub fn remove(&mut self, id: &str) -> bool {
        match self.by_id.remove(id) {
            Some(s) => {
                self.deadlines.remove(&s.deadline);
                true
            }
            None => false,
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.by_id.clear();
        self.deadlines.clear();
    }

    /// Live sessions in creation order.
    pub fn list(&self) -> Vec<&Session> {
        let mut v: Vec<&Session> = self.by_id.values().collect();
        v.sort_by_key(|s| s.serial());
        v
    }
}

/// How a `createSession` operation ends (decided when it is created).
#[derive(Clone, Debug)]
pub enum OpState {
    /// Still running until its ready time.
    Running {
        /// `Some` when a fault scripted the failure.
        fails_with: Option<GraphError>,
    },
    /// The session exists.
    Succeeded {
        /// The session created.
        session_id: String,
    },
    /// The operation failed.
    Failed(GraphError),
}

/// A `createSession` started with `Prefer: respond-async`.
#[derive(Clone, Debug)]
pub struct AsyncOp {
    /// The operation id (also the `sessionInfoResource` key).
    pub id: String,
    /// Decoded item path.
    pub item: String,
    /// Item path as received, for `resourceLocation`.
    pub item_raw: String,
    /// Requested `persistChanges`.
    pub persist_changes: bool,
    /// `createdDateTime`.
    pub created_wall: SystemTime,
    /// When it stops running (mono).
    pub ready_at: Instant,
    /// When it ends (wall), for the session's creation time.
    pub ready_wall: SystemTime,
    /// Progress.
    pub state: OpState,
}

/// How long a finished operation stays pollable.
pub const OPERATION_RETENTION: Duration = Duration::from_secs(600);

/// Pending and recently finished operations.
#[derive(Default, Debug)]
pub struct Operations {
    by_id: HashMap<String, AsyncOp>,
    ready: BTreeMap<(Instant, u64), String>,
    retire: BTreeMap<(Instant, u64), String>,
    serial: u64,
}

impl Operations {
    /// Operations still running (they hold a slot in the session table).
    pub fn pending(&self) -> usize {
        self.ready.len()
    }

    /// All operations held (running and retained).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Starts tracking a running operation.
    pub fn start(&mut self, op: AsyncOp) {
        self.serial += 1;
        self.ready.insert((op.ready_at, self.serial), op.id.clone());
        self.by_id.insert(op.id.clone(), op);
    }

    /// Takes the next operation whose ready time is at or before `now`;
    /// the caller settles it and hands it back with [`Operations::finish`].
    pub fn next_ready(&mut self, now: Instant) -> Option<AsyncOp> {
        let entry = self.ready.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        let id = entry.remove();
        self.by_id.remove(&id)
    }

    /// Stores a settled operation for [`OPERATION_RETENTION`].
    pub fn finish(&mut self, op: AsyncOp) {
        self.serial += 1;
        self.retire
            .insert((later(op.ready_at, OPERATION_RETENTION), self.serial), op.id.clone());
        self.by_id.insert(op.id.clone(), op);
    }

    /// Forgets finished operations past their retention.
    pub fn sweep(&mut self, now: Instant) {
        while let Some(entry) = self.retire.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let id = entry.remove();
            self.by_id.remove(&id);
        }
    }

    /// Looks an operation up.
    pub fn get(&self, id: &str) -> Option<&AsyncOp> {
        self.by_id.get(id)
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.by_id.clear();
        self.ready.clear();
        self.retire.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_refresh_and_index() {
        let t0 = Instant::now();
        let w0 = SystemTime::now();
        let ttl = Duration::from_secs(10);
        let mut s = Sessions::default();
        s.open("a".into(), "/i".into(), true, ttl, t0, w0, None);
        s.open("b".into(), "/i".into(), false, ttl, t0, w0, None);
        assert_eq!((s.len(), s.index_len()), (2, 2));
        // Refresh moves the deadline, not adds one.
        let t5 = t0 + Duration::from_secs(5);
        s.refresh("a", "/i", |_| ttl, t5, w0).unwrap();
        assert_eq!(s.index_len(), 2);
        assert!(s.refresh("a", "/other", |_| ttl, t5, w0).is_err());
        assert!(s.refresh("zz", "/i", |_| ttl, t5, w0).is_err());
        assert_eq!(s.sweep(t0 + Duration::from_secs(10)), 1);
        assert!(s.refresh("b", "/i", |_| ttl, t0 + ttl, w0).is_err());
        assert_eq!(s.sweep(t5 + ttl), 1);
        assert_eq!((s.len(), s.index_len()), (0, 0));
    }

    #[test]
    fn close_and_remove() {
        let t0 = Instant::now();
        let mut s = Sessions::default();
        s.open(
            "a".into(),
            "/i".into(),
            true,
            Duration::from_secs(1),
            t0,
            SystemTime::now(),
            None,
        );
        assert!(s.close("a", "/j", t0).is_err());
        assert!(s.close("a", "/i", t0).is_ok());
        assert!(s.close("a", "/i", t0).is_err());
        assert!(!s.remove("a"));
        assert_eq!(s.index_len(), 0);
    }
}
