//! One schedule for the keep-alive timers of every session in a process:
//! deadlines in slots of [`SLOT_MS`], kept in order, and the one runtime
//! timer that serves them all. The shell arms that timer where
//! [`Schedule::insert`] and [`Schedule::fired`] say and wakes what is due;
//! the deadlines and when to re-arm are decided here, with `now` passed in.
//!
//! Why one timer: a `setTimeout` per session and per tick (bench/README.md,
//! row 6) costs the runtime a timer, a promise and an abort listener per
//! refresh; 10,000 sessions refreshed every 10 s are 1,000 of each a second.
//! One timer a slot fires everything due in it.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

/// Deadlines are rounded up to a multiple of this: everything due within
/// one slot fires together, at most this late and never early. Keep-alive
/// intervals are seconds long with ±10 % jitter, so a slot is noise.
pub const SLOT_MS: u64 = 10;

/// At most this many items are woken per firing; when more are due (the
/// runtime was busy and the timer fired late), the rest go at the next
/// turn of the event loop. Woken at once, a backlog of thousands sends
/// thousands of requests before any answer is read, and the runtime's
/// `fetch` opens a connection for each (bench/README.md, row 6: 2,655
/// connections after a 3 s stall): each refresh then costs more, and the
/// process stays behind. 10,000 sessions every 10 s are 10 per slot.
pub const MAX_PER_FIRING: usize = 32;

/// A place in the schedule, to cancel it or to ask whether it fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    index: usize,
    generation: u64,
}

/// What the shell does with its one timer after a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// Leave it as it is.
    Keep,
    /// (Re-)arm it to fire at this time (clearing the one armed before).
    Arm(u64),
    /// Clear it: nothing is scheduled (a runtime may exit, as it would
    /// with no `setTimeout` pending).
    Clear,
}

/// Items (wakers, in the shell) due at given times, and the time the one
/// timer is armed for. A min-heap of deadlines over a slab of items: a
/// cancelled entry leaves its slab place at once and its heap place when
/// it comes due (a binary heap, not a tree map: a fraction of the bytes).
pub struct Schedule<T> {
    /// (slot, slab index, generation), earliest first.
    heap: BinaryHeap<Reverse<(u64, usize, u64)>>,
    slab: Vec<Option<(u64, T)>>,
    free: Vec<usize>,
    live: usize,
    generation: u64,
    armed: Option<u64>,
}

impl<T> Default for Schedule<T> {
    fn default() -> Self {
        Schedule {
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            live: 0,
            generation: 0,
            armed: None,
        }
    }
}

/// `due` rounded up to its slot's end, so nothing fires before it is due.
fn slot_of(due: u64) -> u64 {
    due.div_ceil(SLOT_MS).saturating_mul(SLOT_MS)
}

impl<T> Schedule<T> {
    /// Schedules `item` for `due` (ms, the clock `fired` is given).
    pub fn insert(&mut self, due: u64, item: T) -> (Entry, Timer) {
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        let index = match self.free.pop() {
            Some(i) => {
                self.slab[i] = Some((generation, item));
                i
            }
            None => {
                self.slab.push(Some((generation, item)));
                self.slab.len() - 1
            }
        };
        self.live += 1;
        let slot = slot_of(due);
        self.heap.push(Reverse((slot, index, generation)));
        let timer = match self.armed {
            Some(at) if at <= slot => Timer::Keep,
            _ => {
                self.armed = Some(slot);
                Timer::Arm(slot)
            }
        };
        (Entry { index, generation }, timer)
    }

    fn take(&mut self, entry: Entry) -> Option<T> {
        let place = self.slab.get_mut(entry.index)?;
        if !matches!(place, Some((g, _)) if *g == entry.generation) {
            return None;
        }
        let (_, item) = place.take()?;
        self.free.push(entry.index);
        self.live -= 1;
        Some(item)
    }

    /// Whether `entry` is still waiting (not fired, not cancelled).
    #[cfg(test)]
    pub fn pending(&self, entry: Entry) -> bool {
        matches!(self.slab.get(entry.index), Some(Some((g, _))) if *g == entry.generation)
    }

    /// The item of a waiting entry, to replace it (a new waker).
    pub fn get_mut(&mut self, entry: Entry) -> Option<&mut T> {
        match self.slab.get_mut(entry.index) {
            Some(Some((g, item))) if *g == entry.generation => Some(item),
            _ => None,
        }
    }

    /// Takes `entry` out before it fires. The timer stays armed for a
    /// later entry (one spare wake-up is cheaper than re-arming), and is
    /// cleared when nothing is left.
    pub fn cancel(&mut self, entry: Entry) -> (Option<T>, Timer) {
        let item = self.take(entry);
        if self.live == 0 && self.armed.is_some() {
            self.armed = None;
            self.heap.clear();
            return (item, Timer::Clear);
        }
        (item, Timer::Keep)
    }

    /// The timer fired at `now`: the items due by then, in deadline order
    /// ([`MAX_PER_FIRING`] at most), and where the timer goes next.
    pub fn fired(&mut self, now: u64) -> (Vec<T>, Timer) {
        let mut due = Vec::new();
        while let Some(&Reverse((slot, index, generation))) = self.heap.peek() {
            let dead = !matches!(self.slab.get(index), Some(Some((g, _))) if *g == generation);
            if !dead && (slot > now || due.len() == MAX_PER_FIRING) {
                break;
            }
            self.heap.pop();
            if let Some(item) = self.take(Entry { index, generation }) {
                due.push(item);
            }
        }
        self.armed = self.heap.peek().map(|Reverse((slot, _, _))| *slot);
        let timer = match self.armed {
            Some(at) => Timer::Arm(at),
            None => Timer::Clear,
        };
        (due, timer)
    }

    /// Scheduled entries.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.live
    }

    /// Nothing is scheduled.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_their_slot_and_never_fire_early() {
        let mut s = Schedule::default();
        let (a, t) = s.insert(1_001, 'a');
        assert_eq!(t, Timer::Arm(1_010));
        let (_, t) = s.insert(1_010, 'b');
        assert_eq!(t, Timer::Keep, "same slot: the armed timer serves it");
        let (out, t) = s.fired(1_009);
        assert!(out.is_empty(), "a timer that fires early wakes nothing");
        assert_eq!(t, Timer::Arm(1_010));
        assert!(s.pending(a));
        let (out, t) = s.fired(1_010);
        assert_eq!(out, ['a', 'b']);
        assert_eq!(t, Timer::Clear);
        assert!(!s.pending(a));
    }

    #[test]
    fn one_timer_serves_all_and_is_re_armed_only_for_an_earlier_slot() {
        let mut s = Schedule::default();
        assert_eq!(s.insert(5_000, 1).1, Timer::Arm(5_000));
        assert_eq!(s.insert(9_000, 2).1, Timer::Keep);
        assert_eq!(s.insert(4_995, 3).1, Timer::Keep, "same slot as the armed one");
        assert_eq!(s.insert(3_000, 4).1, Timer::Arm(3_000));
        let (out, t) = s.fired(3_000);
        assert_eq!(out, [4]);
        assert_eq!(t, Timer::Arm(5_000));
        let (out, t) = s.fired(7_000);
        assert_eq!(out, [1, 3], "late: everything due by now, in order");
        assert_eq!(t, Timer::Arm(9_000));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_backlog_is_woken_in_batches_one_turn_apart() {
        let mut s = Schedule::default();
        for i in 0..(2 * MAX_PER_FIRING + 5) {
            s.insert(1_000 + i as u64, i);
        }
        let (out, t) = s.fired(60_000);
        assert_eq!(out, (0..MAX_PER_FIRING).collect::<Vec<_>>(), "the earliest first");
        assert!(matches!(t, Timer::Arm(at) if at <= 60_000), "the rest at once: {t:?}");
        assert_eq!(s.fired(60_000).0.len(), MAX_PER_FIRING);
        let (out, t) = s.fired(60_000);
        assert_eq!(out.len(), 5);
        assert_eq!(t, Timer::Clear);
    }

    #[test]
    fn cancelling_the_last_entry_clears_the_timer() {
        let mut s = Schedule::default();
        let (a, _) = s.insert(100, 'a');
        let (b, _) = s.insert(200, 'b');
        assert_eq!(s.cancel(a), (Some('a'), Timer::Keep));
        assert_eq!(s.cancel(a), (None, Timer::Keep), "twice is harmless");
        assert_eq!(s.cancel(b), (Some('b'), Timer::Clear));
        assert!(s.is_empty());
        // The spare wake-up of a cancelled entry finds nothing.
        assert_eq!(s.fired(100), (Vec::new(), Timer::Clear));
        assert_eq!(s.insert(300, 'c').1, Timer::Arm(300));
    }

    #[test]
    fn huge_deadlines_saturate() {
        let mut s = Schedule::default();
        let (e, t) = s.insert(u64::MAX, ());
        assert!(matches!(t, Timer::Arm(_)));
        assert!(s.fired(u64::MAX - SLOT_MS).0.is_empty());
        assert!(s.pending(e));
        assert_eq!(s.fired(u64::MAX).0.len(), 1);
    }
}
