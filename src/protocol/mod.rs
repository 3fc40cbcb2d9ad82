//! The sans-IO protocol: every decision of the library as plain functions of
//! plain values and as state machines. No wasm-bindgen, js-sys or web-sys
//! here; time and randomness come in as arguments, so each rule is a table
//! test run natively (`cargo test`) and fuzzed natively.
//!
//! * [`validate`], [`url`]: options, the host policy, item paths.
//! * [`request`]: the requests (URL, method, headers, body) Graph expects.
//! * [`error`], [`policy`], [`retry`]: error bodies; the Excel error policy
//!   table and [`policy::judge`], the one function that decides what follows
//!   every answer of every request; `Retry-After`, backoff and limits.
//! * [`attempts`]: one request's attempts as a machine around that judge
//!   (resends per session, the one token renewal, the one recreation), the
//!   machine the shell's one driver runs for every request.
//! * [`line`]: a session's line, whose cooldown holds every request
//!   carrying the session's id.
//! * [`session`], [`operation`], [`batch`]: the flows as machines: a
//!   session's life and keep-alive schedule, createSession's 201/202/poll,
//!   `$batch` rounds; [`schedule`]: the keep-alive deadlines of every
//!   session of a process, served by one timer.
//! * [`event`]: what a call reports to its `onEvent` listener.
//! * [`delegated`]: who may call (delegated tokens only), to word a refusal.
//! * [`json`], [`text`]: the small readers and writers the others share.

pub mod attempts;
pub mod batch;
pub mod delegated;
pub mod error;
pub mod event;
pub mod json;
pub mod line;
pub mod operation;
pub mod policy;
pub mod request;
pub mod retry;
#[cfg_attr(not(feature = "full"), allow(dead_code))]
pub mod schedule;
pub mod session;
pub mod text;
pub mod url;
pub mod validate;
pub mod workbook_request;
