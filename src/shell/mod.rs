//! The shell: the runtime's `fetch`, `AbortController` and timers, driving
//! the requests the protocol decides. It sends what the protocol asks,
//! sleeps, and reports answers; no policy lives here.

pub mod abort;
pub mod action;
#[cfg(feature = "full")]
pub mod batch;
#[cfg(feature = "full")]
pub mod create;
pub mod events;
pub mod exchange;
pub mod fetch;
#[cfg(feature = "full")]
pub mod order;
pub mod phases;
#[cfg(feature = "full")]
pub mod session;
pub mod sys;
pub mod task;
#[cfg(feature = "full")]
pub mod timers;
pub mod token;
#[cfg(feature = "full")]
pub mod workbook_fetch;
