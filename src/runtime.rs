//! The npm package is built without `std` (`--no-default-features`): its
//! panic machinery and `core::fmt` cost more bytes than the rest of the
//! library. A panic cannot happen by design (no input may panic); should one
//! happen anyway, it traps.

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// Talc: binned free lists with boundary tags, so freeing is O(1) and
/// allocating near it. It replaced `lol_alloc`'s first-fit list, whose
/// `dealloc` walks the sorted free list: with 10,000 kept-alive sessions
/// that walk was 17 % of the process's CPU (bench/README.md, row 6).
type Allocator = talc::wasm::WasmDynamicTalc;

#[cfg(not(feature = "alloc-count"))]
#[global_allocator]
static ALLOCATOR: Allocator = talc::wasm::new_wasm_dynamic_allocator();

/// `--features alloc-count` (benchmarks only, bench/crossings.mjs): the same
/// allocator, counting allocations; `__gws_alloc_count()` reads the count.
#[cfg(feature = "alloc-count")]
mod counting {
    use core::alloc::{GlobalAlloc, Layout};
    use core::sync::atomic::{AtomicU32, Ordering};

    pub struct Counting(super::Allocator, AtomicU32);

    // SAFETY: every call forwards to the allocator above, unchanged.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.alloc(l)
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            self.0.dealloc(p, l)
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.realloc(p, l, n)
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting(talc::wasm::new_wasm_dynamic_allocator(), AtomicU32::new(0));

    /// Allocations (and reallocations) so far.
    #[wasm_bindgen::prelude::wasm_bindgen(js_name = __gws_alloc_count)]
    pub fn alloc_count() -> u32 {
        ALLOCATOR.1.load(Ordering::Relaxed)
    }
}
