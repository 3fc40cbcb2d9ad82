//! Time as the core sees it: injected, never read from the system inside the
//! core, so every expiry decision can be tested with made-up instants.

use std::ops::Add;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A reading of the monotonic clock: the time since an origin the host
/// chose (the process's first reading in the server, `performance.now()`'s
/// origin in the ./testing entry). Not `std::time::Instant`, which
/// wasm32-unknown-unknown cannot read or build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The instant `since` after the host's origin.
    pub fn from_origin(since: Duration) -> Instant {
        Instant(since)
    }

    /// The time since the host's origin.
    pub fn since_origin(self) -> Duration {
        self.0
    }

    /// A reading of the system's monotonic clock (not on wasm32).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn now() -> Instant {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        Instant(ORIGIN.get_or_init(std::time::Instant::now).elapsed())
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0 + d)
    }
}

/// One reading of both clocks, taken by the server adapter per request.
///
/// `mono` drives every deadline (sessions, operations); `wall` is only used
/// for what is shown to people: `Date`, `createdDateTime`, `*AtMs` fields.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    /// Monotonic time: deadlines are computed from this.
    pub mono: Instant,
    /// Wall-clock time: only for display.
    pub wall: SystemTime,
}

impl Now {
    /// Reads both system clocks (not on wasm32: see [`Now::at`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn system() -> Now {
        Now {
            mono: Instant::now(),
            wall: SystemTime::now(),
        }
    }

    /// A reading given by the host: `mono` since its monotonic origin,
    /// `wall` since the Unix epoch.
    pub fn at(mono: Duration, wall: Duration) -> Now {
        Now {
            mono: Instant::from_origin(mono),
            wall: UNIX_EPOCH + wall,
        }
    }

    /// The same reading moved forward by `d` (for tests of the pure core).
    pub fn plus(self, d: Duration) -> Now {
        Now {
            mono: self.mono + d,
            wall: self.wall + d,
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn wall_ms(&self) -> u64 {
        epoch_ms(self.wall)
    }
}

/// `t + d`, saturating far in the future instead of overflowing (TTLs and
/// delays come from user input).
pub fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(t)
}

/// `t + d` for wall time, saturating like [`later`].
pub fn later_wall(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(t)
}

/// Milliseconds since the Unix epoch (0 for times before it).
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// `2024-05-01T12:34:56Z`, the form Graph uses for `createdDateTime`.
pub fn rfc3339(t: SystemTime) -> String {
    let mut s = iso_seconds(t);
    s.push('Z');
    s
}

/// `2024-05-01T12:34:56`, the form Graph uses for `innerError.date`.
pub fn iso_seconds(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// The `Date` header form: `Wed, 01 May 2024 12:34:56 GMT`.
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let t = UNIX_EPOCH + Duration::from_secs(1_714_566_896);
        assert_eq!(rfc3339(t), "2024-05-01T12:34:56Z");
        assert_eq!(iso_seconds(UNIX_EPOCH), "1970-01-01T00:00:00");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
        assert_eq!(http_date(t), "Wed, 01 May 2024 12:34:56 GMT");
    }
}
