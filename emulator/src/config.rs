//! Settings, with every default in one place.

use std::time::Duration;

/// How the emulator behaves. `Config::default()` matches Graph's timings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Idle lifetime of a `persistChanges: true` session (default 300 s).
    pub persistent_ttl: Duration,
    /// Idle lifetime of a `persistChanges: false` session (default 420 s).
    pub non_persistent_ttl: Duration,
    /// How long a `Prefer: respond-async` createSession operation stays
    /// `running` (default 2 s).
    pub operation_delay: Duration,
    /// When set, the only bearer token accepted.
    pub token: Option<String>,
    /// Live sessions (plus running create operations) before createSession
    /// answers 503 (default 100,000).
    pub max_sessions: usize,
    /// Largest request body accepted; more answers 413 (default 1 MiB).
    pub max_body_bytes: usize,
    /// With `Prefer: respond-async`, a createSession whose operation would
    /// take less than this answers `201` at once, as Graph does when the
    /// creation "completes in several seconds" (`workbook-best-practice.md`)
    /// (default 100 ms; `operation_delay` below it means "fast").
    pub sync_create_below: Duration,
    /// Browser origins (`http://127.0.0.1:8080`) allowed to call the control
    /// API; a control request with any other `Origin` is refused.
    pub control_origins: Vec<String>,
    /// How long a connection may take to send a request head (default 30 s).
    pub header_read_timeout: Duration,
    /// How long a request body may take to arrive (default 30 s).
    pub body_read_timeout: Duration,
    /// Items (decoded paths, e.g. `/me/drive/items/01ABC`) the emulator
    /// holds at start-up; requests on any other item answer 404
    /// `itemNotFound` (see also `workbook_prefixes` and the control API).
    pub workbooks: Vec<String>,
    /// Every item whose decoded path starts with one of these is held
    /// (test suites that make a fresh item per test).
    pub workbook_prefixes: Vec<String>,
    /// An unknown or expired session answers 404 with the second-level
    /// code `invalidSessionReCreatable` instead of the plain 404 Graph
    /// promises (`resources/excel.md`).
    pub recreatable_404: bool,
    /// The Graph endpoints answer browser pages of any origin (otherwise
    /// only the `control_origins`).
    pub cors_any_origin: bool,
    /// Non-empty cells held by all workbooks and session copies together
    /// (default 10,000,000).
    pub max_cells: u64,
    /// Estimated bytes of those cells (default 512 MiB).
    pub max_bytes: u64,
    /// Version segments starting with one of these are served like `v1.0`
    /// (`--test-version-prefix`): for test suites that isolate their faults
    /// by a version segment of their own. Graph serves only `v1.0` and
    /// `beta`.
    pub test_version_prefixes: Vec<String>,
    /// Seed of the id generator and of the `$batch` answer order (random
    /// when `None`).
    pub seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            persistent_ttl: Duration::from_secs(300),
            non_persistent_ttl: Duration::from_secs(420),
            operation_delay: Duration::from_secs(2),
            token: None,
            max_sessions: 100_000,
            max_body_bytes: 1024 * 1024,
            sync_create_below: Duration::from_millis(100),
            control_origins: Vec::new(),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            workbooks: Vec::new(),
            workbook_prefixes: Vec::new(),
            recreatable_404: false,
            cors_any_origin: false,
            max_cells: 10_000_000,
            max_bytes: 512 * 1024 * 1024,
            test_version_prefixes: Vec::new(),
            seed: None,
        }
    }
}

/// `scheme://host[:port]` lowercased, or why `origin` is not one.
pub fn normalize_origin(origin: &str) -> Result<String, String> {
    let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = o
        .strip_prefix("http://")
        .or_else(|| o.strip_prefix("https://"))
        .ok_or_else(|| format!("control origin {origin:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "control origin {origin:?} must be scheme://host[:port] with no path"
        ));
    }
    Ok(o)
}

impl Config {
    /// Whether a browser page of `origin` may call the control API.
    pub fn control_origin_allowed(&self, origin: &str) -> bool {
        let o = origin.trim_end_matches('/');
        self.control_origins.iter().any(|a| {
            if a == LOOPBACK_ORIGINS {
                is_loopback_origin(o)
            } else {
                a.eq_ignore_ascii_case(o)
            }
        })
    }

    /// Whether a browser page of `origin` may call the Graph endpoints.
    pub fn graph_origin_allowed(&self, origin: &str) -> bool {
        self.cors_any_origin || self.control_origin_allowed(origin)
    }

    /// Whether the version segment `version` is served: `v1.0`, `beta`, or
    /// one starting with a `test_version_prefixes` entry.
    pub fn version_served(&self, version: &str) -> bool {
        crate::routes::known_version(version)
            || self
                .test_version_prefixes
                .iter()
                .any(|p| !p.is_empty() && version.starts_with(p.as_str()))
    }

    /// The idle TTL for a session of this kind.
    pub fn ttl(&self, persist_changes: bool) -> Duration {
        if persist_changes {
            self.persistent_ttl
        } else {
            self.non_persistent_ttl
        }
    }
}

/// The `--control-origin` value that allows every page served from a
/// loopback address (`http://127.0.0.1:*`, `http://localhost:*`,
/// `http://[::1]:*`): for test suites whose pages get a fresh port each run.
pub const LOOPBACK_ORIGINS: &str = "loopback";

fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => rest.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .strip_prefix("127.")
            .is_some_and(|r| r.split('.').count() == 3 && r.split('.').all(|p| p.parse::<u8>().is_ok()))
}

#[cfg(test)]
mod loopback_origin_tests {
    use super::*;

    #[test]
    fn loopback_allows_only_loopback_pages() {
        let c = Config {
            control_origins: vec![LOOPBACK_ORIGINS.into()],
            ..Config::default()
        };
        for ok in [
            "http://127.0.0.1:5173",
            "http://localhost:8080",
            "http://[::1]:3000",
            "http://127.9.9.9",
        ] {
            assert!(c.control_origin_allowed(ok), "{ok}");
        }
        for no in [
            "http://evil.example",
            "http://127.0.0.1.evil.example:80",
            "null",
            "http://10.0.0.1:80",
            "loopback",
        ] {
            assert!(!c.control_origin_allowed(no), "{no}");
        }
    }
}
