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
        }
    }
}

impl Config {
    /// The idle TTL for a session of this kind.
    pub fn ttl(&self, persist_changes: bool) -> Duration {
        if persist_changes {
            self.persistent_ttl
        } else {
            self.non_persistent_ttl
        }
    }
}
