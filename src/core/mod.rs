//! The sans-IO core: every decision of the library as plain functions of
//! plain values. No wasm-bindgen, js-sys or web-sys here; time and
//! randomness come in as arguments, so each rule is a table test run natively
//! (`cargo test`) and fuzzed natively.

pub mod error;
pub mod json;
pub mod request;
pub mod retry;
pub mod url;
pub mod validate;
pub mod batch;
pub mod operation;
pub mod session;
