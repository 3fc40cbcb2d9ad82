//! # graph-workbook-session
//!
//! Keeps Microsoft Graph Excel workbook sessions alive, from any JavaScript
//! runtime (through the npm package) or from Rust wasm code (workers-rs ...).
//!
//! ```text
//!             JS options / Rust Options
//!                        │
//!   surface ─────────────┼──────────────────────────────── GraphError / results
//!   (exports, options,   ▼                                        ▲
//!    WorkbookSession)  read ──► protocol::validate ──► Call        │
//!                                                      │           │
//!   shell                token ◄── TokenSource         ▼           │
//!   (fetch, timers,      send ──► fetch (global) ──► answer ───────┤
//!    abort)               ▲                            │           │
//!                         │     wait ◄── policy::judge ◄┘          │
//!   protocol              └── line / session / operation / batch ──┘
//!   (sans-IO)                 machines: plain values in and out
//! ```
//!
//! * `protocol` is sans-IO: validation, URLs, headers, error bodies, the
//!   Excel error policy and the one decision function over it (`judge`),
//!   `Retry-After`, a session's line, and the flows as state machines. Plain values in and out, `now` and randomness passed
//!   in; tested natively and fuzzed.
//! * `shell` is the thin I/O layer: the global `fetch`, `AbortController`,
//!   `setTimeout`; it sends what the protocol asks, sleeps, and reports.
//! * `surface` is what callers hold: the `#[wasm_bindgen]` exports of the JS
//!   contract and [`WorkbookSession`], and the same calls for Rust
//!   ([`refresh_session`], [`close_session`]).
//!
//! Rust quick start (inside a wasm32 crate):
//! ```no_run
//! # async fn demo() -> Result<(), graph_workbook_session::Error> {
//! use graph_workbook_session::{refresh_session, Options, RefreshOptions};
//! let o = RefreshOptions {
//!     options: Options::new("/me/drive/items/01ABC", "eyJ0eXAi..."),
//!     session_id: "cluster=PS1&session=...".into(),
//! };
//! let refreshed = refresh_session(&o).await?;
//! assert_eq!(refreshed.status, 204);
//! # Ok(()) }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
// Unsafe code is denied everywhere but the global allocator of the npm
// build, which must be declared with `unsafe`, and the `Sync` promise of
// the keep-alive timer's one-thread static there (`shell::timers`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

/// The `alloc` names every module uses, so the crate builds with and
/// without `std`.
#[allow(unused_imports)]
pub(crate) mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

#[cfg(all(not(feature = "std"), target_arch = "wasm32"))]
mod runtime;

mod protocol;
mod shell;
mod surface;

pub use crate::protocol::error::{Code, Error};
pub use crate::shell::action::Refreshed;
#[doc(hidden)]
pub use crate::surface::convert::graph_error_class;
pub use crate::surface::exports::{close_session_js, refresh_session_js};
#[cfg(feature = "full")]
pub use crate::surface::exports::{create_session_js, refresh_sessions_js};
pub use crate::surface::rust::{close_session, refresh_session, Options, RefreshOptions};
#[cfg(feature = "full")]
pub use crate::surface::session::WorkbookSession;
/// The platform's `AbortSignal`, web-sys's type: pass your own to cancel a call.
pub use web_sys::AbortSignal;

/// The protocol's internals, for the fuzz targets (`fuzz/`) only: not part
/// of the API, and free to change in any release.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::protocol::{
        batch, error, json, line, operation, policy, request, retry, session, text, url, validate, workbook_request,
    };
}
