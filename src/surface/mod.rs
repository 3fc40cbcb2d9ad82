//! The surface: what callers hold. The `#[wasm_bindgen]` exports of the JS
//! contract (DESIGN.md) with their option reading, conversions and
//! TypeScript declarations, and the same calls for Rust.
//!
//! * [`exports`]: refreshSession, closeSession, createSession, refreshSessions.
//! * `session`: the `WorkbookSession` class (feature `full`); `fetch_init` reads its `fetch`'s `init`.
//! * [`options`]: JS option objects read into the protocol's plain values.
//! * [`convert`]: results and `GraphError`s on their way into JS.
//! * [`rust`]: the Rust API.
//! * `types.d.ts`: the TypeScript declarations wasm-bindgen cannot derive.

pub(crate) mod convert;
pub mod exports;
#[cfg(feature = "full")]
pub(crate) mod fetch_init;
pub(crate) mod options;
pub mod rust;
#[cfg(feature = "full")]
pub mod session;
