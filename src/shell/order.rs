//! One request at a time per workbook, across the sessions of a process.
//!
//! workbook-best-practice.md, "Throttling and concurrency": "for each
//! workbook, only send the next request after receiving a successful
//! response to the current request"; concurrent requests to one workbook
//! cause throttling, timeouts and, "when concurrent sessions are
//! involved", merge conflicts. So every `WorkbookSession` of a wasm
//! instance on the same workbook (the same origin and item path) shares one
//! queue: the requests that join a session's line (`session.fetch`,
//! `refresh()`, keep-alive's refresh, `close()`) go one after another
//! across all of them, in call order, each after the answer of the one
//! ahead. A `concurrent` fetch skips the queue as it skips its session's
//! order. The session's own line (its cooldown, `close()`'s admission) is
//! the protocol's [`Line`](crate::protocol::line::Line); this is only the
//! order, kept as a chain of promises, and the workbook's cooldown: a
//! `Retry-After` one session got holds the others of its workbook too
//! (workbook-error-handling.md, "Error recovery cooldown": no "follow-up
//! requests before the specified duration passes"; workbook-best-practice.md:
//! "delaying similar requests would help the client recover from
//! throttling"). In workerd the sessions do not share it (see
//! `shell::session::new_inner`): an ended request's promises never settle
//! there, and its turn would hold the workbook for good.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use js_sys::{Array, Promise};

/// The requests in line on one workbook.
#[derive(Default)]
pub struct Queue {
    /// Settles when the last request in line has ended.
    tail: Option<Promise>,
    /// Requests in line (waiting or out).
    in_line: u32,
    /// Wall-clock ms before which nothing goes to the workbook: the
    /// longest cooldown a request on it left (0: none).
    until_ms: u64,
}

/// A workbook's queue, shared by its sessions.
pub type WorkbookQueue = Rc<RefCell<Queue>>;

/// Each workbook's key (origin and item path) and its queue, held weakly,
/// sorted by key (binary search: a `BTreeMap`'s code would cost kilobytes
/// of the download); and the length after the last sweep of the queues
/// whose sessions are all gone.
#[derive(Default)]
struct Queues {
    sorted: Vec<(String, Weak<RefCell<Queue>>)>,
    swept: usize,
}

#[cfg(feature = "std")]
std::thread_local! {
    static QUEUES: RefCell<Queues> = const { RefCell::new(Queues { sorted: Vec::new(), swept: 0 }) };
}

/// As `shell::timers`' wheel: the npm build has no `thread_local!`, and a
/// wasm instance without the `atomics` target feature has one thread.
#[cfg(not(feature = "std"))]
struct OneThread(RefCell<Queues>);
#[cfg(all(not(feature = "std"), not(target_feature = "atomics")))]
#[allow(unsafe_code)]
unsafe impl Sync for OneThread {}
#[cfg(not(feature = "std"))]
static QUEUES: OneThread = OneThread(RefCell::new(Queues {
    sorted: Vec::new(),
    swept: 0,
}));

fn with<R>(f: impl FnOnce(&mut Queues) -> R) -> R {
    #[cfg(feature = "std")]
    {
        QUEUES.with(|q| f(&mut q.borrow_mut()))
    }
    #[cfg(not(feature = "std"))]
    {
        f(&mut QUEUES.0.borrow_mut())
    }
}

/// The queue of the workbook at `origin` + `workbook` (the item path as
/// the session sends it), shared with every live session on it.
pub fn queue_for(origin: &str, workbook: &str) -> WorkbookQueue {
    let key = [origin, workbook].concat();
    with(|queues| {
        // Workbooks whose sessions are all gone, swept once the list has
        // doubled since the last sweep: a session made costs a search, not
        // a pass over every workbook the instance has held.
        if queues.sorted.len() >= 2 * queues.swept.max(16) {
            queues.sorted.retain(|(_, q)| q.strong_count() > 0);
            queues.swept = queues.sorted.len();
        }
        let at = queues.sorted.binary_search_by(|(k, _)| k.as_str().cmp(&key));
        if let Ok(i) = at {
            if let Some(q) = queues.sorted[i].1.upgrade() {
                return q;
            }
        }
        let q = Rc::new(RefCell::new(Queue::default()));
        match at {
            Ok(i) => queues.sorted[i].1 = Rc::downgrade(&q),
            Err(i) => queues.sorted.insert(i, (key, Rc::downgrade(&q))),
        }
        q
    })
}

/// A request joins the workbook's queue; `mine` settles when it ends.
/// Returns what to wait for first: the end of the requests ahead, `None`
/// when there is none.
pub fn join(queue: &WorkbookQueue, mine: &Promise) -> Option<Promise> {
    let mut q = queue.borrow_mut();
    let previous = if q.in_line == 0 { None } else { q.tail.clone() };
    q.in_line = q.in_line.saturating_add(1);
    // Never rejects: both are resolve-only.
    q.tail = Some(match &previous {
        Some(p) => Promise::all(&Array::of2(p, mine)),
        None => mine.clone(),
    });
    previous
}

/// A request in the queue ended (answered, failed or aborted), leaving
/// its session's cooldown, which ends at `until_ms`, to the workbook.
pub fn leave(queue: &WorkbookQueue, until_ms: u64) {
    let mut q = queue.borrow_mut();
    q.until_ms = q.until_ms.max(until_ms);
    q.in_line = q.in_line.saturating_sub(1);
    if q.in_line == 0 {
        q.tail = None;
    }
}

/// No request is in line on the workbook, and no cooldown holds it at `now`.
pub fn idle(queue: &WorkbookQueue, now: u64) -> bool {
    let q = queue.borrow();
    q.in_line == 0 && q.until_ms <= now
}

/// When the workbook's cooldown ends (wall-clock ms; 0: none).
pub fn until_ms(queue: &WorkbookQueue) -> u64 {
    queue.borrow().until_ms
}

/// Settles when the requests in line now have ended; `None` when idle.
pub fn tail(queue: &WorkbookQueue) -> Option<Promise> {
    queue.borrow().tail.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_queue_per_workbook_while_a_session_holds_it() {
        let a = queue_for("https://graph.microsoft.com", "/me/drive/items/A");
        let again = queue_for("https://graph.microsoft.com", "/me/drive/items/A");
        assert!(Rc::ptr_eq(&a, &again), "the same workbook shares one queue");
        let other = queue_for("https://graph.microsoft.com", "/me/drive/items/B");
        assert!(!Rc::ptr_eq(&a, &other));
        let elsewhere = queue_for("http://127.0.0.1:8080", "/me/drive/items/A");
        assert!(!Rc::ptr_eq(&a, &elsewhere), "another origin is another workbook");
        // Many workbooks made and let go: each found again while held, and
        // the list swept of the others.
        let held: Vec<WorkbookQueue> = (0..200).map(|i| queue_for("o", &i.to_string())).collect();
        for round in 0..5 {
            for i in 200..400 {
                drop(queue_for("o", &[round.to_string(), i.to_string()].concat()));
            }
        }
        for (i, q) in held.iter().enumerate() {
            assert!(Rc::ptr_eq(q, &queue_for("o", &i.to_string())));
        }
        let len = with(|q| q.sorted.len());
        assert!(len < 200 + 5 * 200, "swept: {len} entries");
        drop((a, again));
        let fresh = queue_for("https://graph.microsoft.com", "/me/drive/items/A");
        assert!(
            Rc::strong_count(&fresh) == 1,
            "a workbook with no session left gets a new queue"
        );
    }
}
