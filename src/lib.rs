//! graph-workbook-session: keeps Microsoft Graph Excel workbook sessions alive.
#![forbid(unsafe_code)]

pub mod core;
