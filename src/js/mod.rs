//! The fetch shell: the runtime's `fetch`, `AbortController` and timers,
//! driving the attempts the core decides. No policy lives here.

pub mod abort;
pub mod exchange;
pub mod fetch;
pub mod sys;
pub mod token;
pub mod graph_error;
pub mod options;
pub mod create;
pub mod batch;
