//! `--features phases` (benchmarks only, `bench/phases.mjs`): where the time
//! of one call goes, phase by phase, timed with `performance.now()` inside
//! the call. A call moves through the phases with [`switch`]; the time since
//! the last switch is charged to the phase being left. Meaningful for calls
//! made one after another (the phases of concurrent calls interleave).
//! Without the feature, [`switch`] is empty and inlined away.

/// The phases of a call, in the order `__gws_phases()` reports them.
#[derive(Clone, Copy)]
#[allow(dead_code)]
pub enum Phase {
    /// Not in a call (or a call's futures glue around it): not counted.
    Idle = 0,
    /// Reading the JS options (crossings, strings copied into wasm).
    Options,
    /// Checking them: `Call::new` (URLs, ids, limits).
    Validate,
    /// Resolving the access token.
    Token,
    /// One attempt's set-up: the `AbortController`, its timer, the `fetch` init.
    Attempt,
    /// From handing the init to `fetch` until the answer's head is here.
    Fetch,
    /// Reading the answer: status, headers, body, scrubbing the token.
    Answer,
    /// Between attempts: the retry decision and what follows it.
    Decide,
    /// Turning the result (or error) into its JS value.
    Result,
}

#[cfg(feature = "phases")]
mod imp {
    #[allow(unused_imports)]
    use crate::prelude::*;

    use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    use wasm_bindgen::prelude::*;

    use super::Phase;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        fn now() -> f64;
    }

    const N: usize = Phase::Result as usize + 1;
    // f64 milliseconds as bits; atomics only because a `static` must be `Sync`.
    static TOTALS: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];
    static CURRENT: AtomicUsize = AtomicUsize::new(0);
    static SINCE: AtomicU64 = AtomicU64::new(0);

    pub fn switch(next: Phase) {
        let t = now();
        let current = CURRENT.swap(next as usize, Ordering::Relaxed);
        let since = f64::from_bits(SINCE.swap(t.to_bits(), Ordering::Relaxed));
        if current != Phase::Idle as usize {
            let total = &TOTALS[current];
            total.store(
                (f64::from_bits(total.load(Ordering::Relaxed)) + t - since).to_bits(),
                Ordering::Relaxed,
            );
        }
    }

    /// Milliseconds spent in each phase so far, in [`Phase`] order.
    #[wasm_bindgen(js_name = __gws_phases)]
    pub fn totals() -> Vec<f64> {
        TOTALS
            .iter()
            .map(|t| f64::from_bits(t.load(Ordering::Relaxed)))
            .collect()
    }
}

/// The call moves on to phase `next`.
#[cfg(feature = "phases")]
pub use imp::switch;

/// The call moves on to phase `next` (without the `phases` feature: nothing).
#[cfg(not(feature = "phases"))]
#[inline(always)]
pub fn switch(_next: Phase) {}
