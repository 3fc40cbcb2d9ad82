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
//! order, kept as a chain of promises.

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
}

/// A workbook's queue, shared by its sessions.
pub type WorkbookQueue = Rc<RefCell<Queue>>;

/// Each workbook's key (origin and item path) and its queue, held weakly:
/// a list (an instance holds a few workbooks; a map's code would cost
/// kilobytes of the download).
type Queues = Vec<(String, Weak<RefCell<Queue>>)>;

#[cfg(feature = "std")]
std::thread_local! {
    static QUEUES: RefCell<Queues> = const { RefCell::new(Vec::new()) };
}

/// As `shell::timers`' wheel: the npm build has no `thread_local!`, and a
/// wasm instance without the `atomics` target feature has one thread.
#[cfg(not(feature = "std"))]
struct OneThread(RefCell<Queues>);
#[cfg(all(not(feature = "std"), not(target_feature = "atomics")))]
#[allow(unsafe_code)]
unsafe impl Sync for OneThread {}
#[cfg(not(feature = "std"))]
static QUEUES: OneThread = OneThread(RefCell::new(Vec::new()));

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
        // Workbooks whose sessions are all gone.
        queues.retain(|(_, q)| q.strong_count() > 0);
        if let Some(q) = queues.iter().find(|(k, _)| *k == key).and_then(|(_, q)| q.upgrade()) {
            return q;
        }
        let q = Rc::new(RefCell::new(Queue::default()));
        queues.push((key, Rc::downgrade(&q)));
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

/// A request in the queue ended (answered, failed or aborted).
pub fn leave(queue: &WorkbookQueue) {
    let mut q = queue.borrow_mut();
    q.in_line = q.in_line.saturating_sub(1);
    if q.in_line == 0 {
        q.tail = None;
    }
}

/// No request is in line on the workbook.
pub fn idle(queue: &WorkbookQueue) -> bool {
    queue.borrow().in_line == 0
}

/// Settles when the requests in line now have ended; `None` when idle.
pub fn tail(queue: &WorkbookQueue) -> Option<Promise> {
    queue.borrow().tail.clone()
}
