//! One runtime timer for every keep-alive of the process: the deadlines sit
//! in [`Schedule`] (the protocol decides when the timer is armed), a
//! [`Sleep`] is a place in it, and one driver task awaits the timer's
//! promise and wakes whatever is due. A keep-alive tick costs a map entry
//! and a wake-up, not a `setTimeout`, a promise and an abort listener.
//!
//! The timer is cleared whenever nothing is scheduled, so a runtime with no
//! keep-alive left may exit, as with no `setTimeout` pending.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::abort::deferred;
use super::sys::{clear_timeout, now_ms, set_timeout};
use super::task::spawn;
use crate::protocol::schedule::{Entry, Schedule, Timer};

#[derive(Default)]
struct Wheel {
    schedule: Schedule<Waker>,
    /// The armed `setTimeout`'s id.
    timer: Option<JsValue>,
    /// Resolves the promise the driver awaits; `None` until the driver runs.
    resolve: Option<Function>,
    /// The driver task is spawned (at the first `Sleep`).
    started: bool,
}

// The wasm instance is single-threaded: one wheel per instance.
#[cfg(feature = "std")]
std::thread_local! {
    static WHEEL: RefCell<Wheel> = RefCell::new(Wheel::default());
}

/// The npm build has no `std` and so no `thread_local!`; a `static` needs
/// `Sync`. Without the `atomics` target feature a wasm instance has one
/// thread, the ground on which wasm-bindgen's own `ThreadLocalWrapper`
/// makes the same promise.
#[cfg(not(feature = "std"))]
struct OneThread(RefCell<Option<Wheel>>);
#[cfg(all(not(feature = "std"), not(target_feature = "atomics")))]
#[allow(unsafe_code)]
unsafe impl Sync for OneThread {}
#[cfg(not(feature = "std"))]
static WHEEL: OneThread = OneThread(RefCell::new(None));

fn with<R>(f: impl FnOnce(&mut Wheel) -> R) -> R {
    #[cfg(feature = "std")]
    {
        WHEEL.with(|w| f(&mut w.borrow_mut()))
    }
    #[cfg(not(feature = "std"))]
    {
        let mut w = WHEEL.0.borrow_mut();
        f(w.get_or_insert_with(Wheel::default))
    }
}

/// Applies the protocol's word on the timer; no JS is called with the
/// wheel borrowed except `setTimeout`/`clearTimeout`, which call nothing back.
fn apply(w: &mut Wheel, timer: Timer) {
    match timer {
        Timer::Keep => {}
        Timer::Clear => {
            if let Some(t) = w.timer.take() {
                clear_timeout(&t);
            }
        }
        Timer::Arm(at) => {
            if let Some(t) = w.timer.take() {
                clear_timeout(&t);
            }
            if let Some(resolve) = &w.resolve {
                let delay = (at as f64 - now_ms()).max(0.0);
                w.timer = Some(set_timeout(resolve, delay));
            }
        }
    }
}

/// A fresh promise for the driver to await, its `resolve` kept for the timer.
fn next_promise(w: &mut Wheel) -> Option<Promise> {
    let (promise, resolve) = deferred();
    w.resolve = Some(resolve?);
    Some(promise)
}

/// The one task that waits for the timer and wakes what is due.
async fn drive(mut promise: Promise) {
    loop {
        let _ = JsFuture::from(promise).await;
        let due = with(|w| {
            w.timer = None;
            let (due, timer) = w.schedule.fired(now_ms() as u64);
            let next = next_promise(w);
            // Armed after `resolve` is the new promise's.
            apply(w, timer);
            (due, next)
        });
        let (due, next) = due;
        for waker in due {
            waker.wake();
        }
        match next {
            Some(p) => promise = p,
            None => return,
        }
    }
}

fn insert(due: u64, waker: Waker) -> Entry {
    let start = with(|w| {
        let first = !w.started;
        let promise = if first {
            w.started = true;
            next_promise(w)
        } else {
            None
        };
        let (entry, timer) = w.schedule.insert(due, waker);
        apply(w, timer);
        (entry, promise)
    });
    if let Some(promise) = start.1 {
        spawn(Box::pin(drive(promise)));
    }
    start.0
}

/// Resolves `ms` from now (a slot later at most), on the one timer.
/// Dropped before, it leaves the schedule.
pub struct Sleep {
    due: u64,
    entry: Option<Entry>,
}

impl Sleep {
    pub fn new(ms: u64) -> Sleep {
        Sleep {
            due: (now_ms() as u64).saturating_add(ms),
            entry: None,
        }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.entry {
            None => {
                let due = self.due;
                self.entry = Some(insert(due, cx.waker().clone()));
                Poll::Pending
            }
            Some(entry) => {
                // A replaced waker is dropped outside the borrow: dropping
                // the last one of a task drops its future, which may hold
                // a `Sleep`.
                let (poll, _old) = with(|w| match w.schedule.get_mut(entry) {
                    None => (Poll::Ready(()), None),
                    Some(waker) if waker.will_wake(cx.waker()) => (Poll::Pending, None),
                    Some(waker) => (Poll::Pending, Some(core::mem::replace(waker, cx.waker().clone()))),
                });
                poll
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            // The waker is dropped outside the borrow.
            let _waker = with(|w| {
                let (waker, timer) = w.schedule.cancel(entry);
                apply(w, timer);
                waker
            });
        }
    }
}

/// Waits `ms` on the one timer, or less when `stop` resolves first
/// (`Err(())`). `stop` is the keep-alive's own: a promise resolved by its
/// stop signal, made once per keep-alive, not once per tick.
pub async fn sleep_or_stop(ms: u64, stop: &mut JsFuture) -> Result<(), ()> {
    Either {
        sleep: Sleep::new(ms),
        stop,
    }
    .await
}

struct Either<'a> {
    sleep: Sleep,
    stop: &'a mut JsFuture,
}

impl Future for Either<'_> {
    type Output = Result<(), ()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        if Pin::new(&mut *self.stop).poll(cx).is_ready() {
            return Poll::Ready(Err(()));
        }
        Pin::new(&mut self.sleep).poll(cx).map(Ok)
    }
}
