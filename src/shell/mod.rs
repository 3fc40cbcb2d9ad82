//! The shell: the runtime's `fetch`, `AbortController` and timers, driving
//! the requests the protocol decides. It sends what the protocol asks,
//! sleeps, and reports answers; no policy lives here.

pub mod abort;
pub mod action;
pub mod batch;
pub mod create;
pub mod exchange;
pub mod fetch;
pub mod sys;
pub mod token;
pub mod workbook_fetch;
