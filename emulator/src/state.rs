//! Everything the emulator remembers, behind one lock in the server.

use crate::clock::{http_date, iso_seconds, Now};
use crate::config::Config;
use crate::errors::{GraphError, Stamp};
use crate::faults::Faults;
use crate::ids::{session_id, uuid_v4};
use crate::journal::Journal;
use crate::registry::Registry;
use crate::sessions::{OpState, Operations, Session, Sessions};
use crate::workbook::{Books, Limits};

/// The emulator's whole state. Create one, then feed requests to
/// [`crate::handle`].
#[derive(Debug)]
pub struct State {
    pub(crate) startup: Config,
    pub(crate) config: Config,
    pub(crate) sessions: Sessions,
    pub(crate) ops: Operations,
    pub(crate) faults: Faults,
    pub(crate) journal: Journal,
    pub(crate) books: Books,
    pub(crate) registry: Registry,
    pub(crate) rng: fastrand::Rng,
    // (unix second, innerError date, Date header) for the last second seen.
    date_cache: (u64, String, String),
}

impl State {
    /// A fresh state with a randomly seeded id generator.
    pub fn new(config: Config) -> State {
        let rng = match config.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        State::with_rng(config, rng)
    }

    /// A fresh state with a fixed seed (reproducible ids, for tests).
    pub fn with_seed(config: Config, seed: u64) -> State {
        State::with_rng(config, fastrand::Rng::with_seed(seed))
    }

    fn with_rng(config: Config, rng: fastrand::Rng) -> State {
        State {
            startup: config.clone(),
            registry: Registry::from_config(&config),
            config,
            sessions: Sessions::default(),
            ops: Operations::default(),
            faults: Faults::default(),
            journal: Journal::default(),
            books: Books::default(),
            rng,
            date_cache: (u64::MAX, String::new(), String::new()),
        }
    }

    /// The configuration in force (runtime changes included).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Live sessions in creation order.
    pub fn sessions(&self) -> Vec<&Session> {
        self.sessions.list()
    }

    /// Brings time forward: settles operations whose delay has passed
    /// (their sessions start at that moment), drops expired sessions and
    /// forgets old operations.
    pub fn advance(&mut self, now: Now) {
        while let Some(mut op) = self.ops.next_ready(now.mono) {
            let next = match std::mem::replace(&mut op.state, OpState::Running { fails_with: None }) {
                OpState::Running { fails_with: Some(e) } => OpState::Failed(e),
                OpState::Running { fails_with: None } => {
                    if self.sessions.len() >= self.config.max_sessions {
                        OpState::Failed(GraphError::table_full())
                    } else {
                        let id = session_id(&mut self.rng);
                        let ttl = self.config.ttl(op.persist_changes);
                        let copy = (!op.persist_changes).then(|| self.books.shared(&op.item));
                        self.sessions.open(
                            id.clone(),
                            op.item.clone(),
                            op.persist_changes,
                            ttl,
                            op.ready_at,
                            op.ready_wall,
                            copy,
                        );
                        OpState::Succeeded { session_id: id }
                    }
                }
                done => done,
            };
            op.state = next;
            self.ops.finish(op);
        }
        self.sessions.sweep(now.mono);
        self.ops.sweep(now.mono);
    }

    /// The global memory budget's limits in force.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_cells: self.config.max_cells,
            max_bytes: self.config.max_bytes,
        }
    }

    /// Fresh ids and the date for one answer.
    pub(crate) fn stamp(&mut self, now: Now, client_request_id: Option<&str>) -> Stamp {
        self.refresh_dates(now);
        Stamp {
            request_id: uuid_v4(&mut self.rng),
            client_request_id: match client_request_id {
                Some(c) if !c.is_empty() => c.to_owned(),
                _ => uuid_v4(&mut self.rng),
            },
            date: self.date_cache.1.clone(),
        }
    }

    /// The `Date` header for `now` (formatted once per second).
    pub(crate) fn http_date(&mut self, now: Now) -> String {
        self.refresh_dates(now);
        self.date_cache.2.clone()
    }

    fn refresh_dates(&mut self, now: Now) {
        let secs = now.wall_ms() / 1000;
        if self.date_cache.0 != secs {
            self.date_cache = (secs, iso_seconds(now.wall), http_date(now.wall));
        }
    }

    /// Back to the startup state: no sessions, operations, faults, log,
    /// counters or workbook contents; the startup configuration and seeded
    /// items.
    pub fn reset(&mut self) {
        self.config = self.startup.clone();
        self.registry = Registry::from_config(&self.config);
        self.books.clear();
        self.sessions.clear();
        self.ops.clear();
        self.faults.clear();
        self.journal.reset();
    }
}
