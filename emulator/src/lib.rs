//! A local emulator of the Microsoft Graph Excel workbook-session endpoints:
//! `createSession` (201 and the 202 + operation flow), `refreshSession`,
//! `closeSession`, `$batch`, a minimal workbook (worksheets, ranges with
//! values, formulas and number formats, named ranges) behind the session, with idle expiry, Graph-shaped three-level errors,
//! CORS and a loopback-only control API (`/_emulator/…`) that scripts
//! faults and shows state.
//!
//! ```text
//!  TCP ──► server (hyper adapter) ──lock──► handle(&mut State, Now, &Request) ──► Outcome
//!             ▲  sleeps / drops / cuts                 │ routes → faults → auth → graph | batch | control
//!             └──────────────────────────────────────── ┘ errors (catalogue), journal (log + counts)
//! ```
//!
//! Quick start (in a test):
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let config = graph_workbook_emulator::Config {
//!     workbooks: vec!["/me/drive/items/X".into()], // the items it holds
//!     ..Default::default()
//! };
//! let (base, handle) = graph_workbook_emulator::spawn(config).await?;
//! // POST {base}/v1.0/me/drive/items/X/workbook/createSession with a bearer token …
//! handle.shutdown().await;
//! # let _ = base; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod clock;
mod config;
mod control;
mod errors;
mod faults;
mod graph;
mod handler;
mod ids;
mod journal;
mod registry;
mod request;
mod response;
mod routes;
#[cfg(feature = "server")]
mod server;
mod sessions;
mod state;
mod workbook;

pub use clock::{Instant, Now};
pub use config::{normalize_origin, Config, LOOPBACK_ORIGINS};
pub use errors::{GraphError, Stamp};
pub use faults::FaultSpec;
pub use handler::{handle, resume};
pub use registry::Registry;
pub use request::Request;
pub use response::{Action, Body, Outcome, Response};
pub use routes::Operation;
#[cfg(feature = "server")]
pub use server::{serve, spawn, EmulatorHandle};
pub use sessions::Session;
pub use state::State;
pub use workbook::{Book, Cell, Sheet};

/// Requests per `$batch` (Graph's limit).
pub const MAX_BATCH_REQUESTS: usize = batch::MAX_BATCH;
/// Entries kept by the request log.
pub const REQUEST_LOG_CAPACITY: usize = journal::LOG_CAPACITY;
/// Bytes kept by the request log (estimated).
pub const REQUEST_LOG_MAX_BYTES: usize = journal::LOG_MAX_BYTES;
