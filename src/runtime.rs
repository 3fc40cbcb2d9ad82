//! The npm package is built without `std` (`--no-default-features`): its
//! panic machinery and `core::fmt` cost more bytes than the rest of the
//! library. A panic cannot happen by design (no input may panic); should one
//! happen anyway, it traps.

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

// SAFETY: wasm32-unknown-unknown without the atomics feature has one
// thread, which is what AssumeSingleThreaded requires.
#[allow(unsafe_code)]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
