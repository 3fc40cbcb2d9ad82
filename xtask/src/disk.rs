//! What a run of `cargo xtask test` leaves on the disk, and the room it
//! needs there.
//!
//! * [`TempDir`]: one temp directory of the run's own, set as TMPDIR (and
//!   TMP, TEMP) for every tool the layers start, removed when the run ends,
//!   also when it is interrupted. Some of those tools never remove what they
//!   write: chromedriver makes a profile (`org.chromium.Chromium.scoped_dir.*`,
//!   about 17 MB) for each browser session and removes it when the session
//!   is deleted, but wasm-bindgen-test-runner only closes the window, then
//!   kills chromedriver; Miniflare leaves `miniflare-*` directories. Before
//!   this directory, each run left about 240 MB in /tmp, and a machine that
//!   ran the suite a few dozen times had its disk full.
//! * [`check_room`]: the free space on the disk holding `target/`, said
//!   before the layers start when a cold run would not fit, and again when a
//!   layer fails on a disk that is full ("No space left on device" in a
//!   compiler's output is the symptom, not the cause).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::{say, Result};

/// The name of a run's temp directory, before the pid of its xtask.
const PREFIX: &str = "gws-xtask-";

/// What a cold `cargo xtask test` writes (`target/`, `fuzz/target/`, the
/// three `node_modules/`, its temp directory), with room to spare: 3.2 GB
/// at its peak on a fresh clone (CONTRIBUTING.md, "The disk a run needs").
const COLD_RUN: u64 = 4 << 30;

/// Below this much free space, a run warns even with `target/` warm.
const LOW: u64 = 1 << 30;

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// The run's temp directory; removed when dropped (and by [`remove`] when
/// the run is interrupted, as `exit` runs no destructor).
pub struct TempDir(());

impl TempDir {
    /// Makes `<temp dir>/gws-xtask-<pid>`, removes those of runs that are
    /// gone (a killed run leaves its own), and points TMPDIR, TMP and TEMP
    /// at it. Call it before any thread starts: it sets the environment.
    pub fn enter() -> Result<TempDir> {
        let base = std::env::temp_dir();
        sweep(&base);
        let dir = base.join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for var in ["TMPDIR", "TMP", "TEMP"] {
            std::env::set_var(var, &dir);
        }
        let _ = DIR.set(dir);
        Ok(TempDir(()))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        remove();
    }
}

/// Removes the run's temp directory, saying how much the tools left in it.
pub fn remove() {
    let Some(dir) = DIR.get() else {
        return;
    };
    let left = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    if left > 0 {
        say(&format!(
            "xtask: removed what the layers' tools left in {} ({left} entries, {:.0} MB)",
            dir.display(),
            size(dir) as f64 / 1e6
        ));
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Removes the temp directories of runs whose xtask no longer runs.
fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !crate::watchdog::running(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Bytes under `path`, symbolic links not followed.
fn size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|d| d.flatten().map(|e| size(&e.path())).sum())
        .unwrap_or(0)
}

/// Free bytes on the disk holding `path` (`df -Pk`), if df answers.
fn free(path: &Path) -> Option<u64> {
    let out = crate::output(Command::new("df").arg("-Pk").arg(path))?;
    let avail = out.lines().nth(1)?.split_whitespace().nth(3)?;
    avail.parse::<u64>().ok().map(|k| k * 1024)
}

/// Before the layers: says when the disk holding the workspace has less
/// room than the run is about to write.
pub fn check_room() {
    let root = crate::root();
    let Some(free) = free(&root) else {
        return;
    };
    let cold = !root.join("target").exists();
    if free < LOW || (cold && free < COLD_RUN) {
        say(&format!(
            "xtask: only {:.1} GB free on the disk holding {}; a cold run writes about {:.0} GB \
             (target/, fuzz/target/, node_modules/), so layers may fail with \"No space left on device\"",
            free as f64 / 1e9,
            root.display(),
            COLD_RUN as f64 / 1e9
        ));
    }
}

/// After a layer failed: names a full disk as the likely cause.
pub fn after_failure() {
    let root = crate::root();
    if let Some(free) = free(&root) {
        if free < LOW {
            say(&format!(
                "xtask: the disk holding {} has {:.2} GB free; a layer that failed to write \
                 (\"No space left on device\") failed for want of room, not for its code",
                root.display(),
                free as f64 / 1e9
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that was killed leaves its directory; the next run removes it,
    /// and keeps those of runs still going.
    #[test]
    fn sweep_removes_the_directories_of_runs_that_are_gone() {
        let base = std::env::temp_dir().join(format!("gws-sweep-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let mut child = Command::new("true").spawn().expect("true runs");
        let gone = child.id();
        child.wait().expect("true ends");
        let dead = base.join(format!("{PREFIX}{gone}"));
        let live = base.join(format!("{PREFIX}1"));
        let other = base.join("gws-xtask-notapid");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d.join("org.chromium.Chromium.scoped_dir.x")).unwrap();
        }
        std::fs::write(dead.join("left"), [0u8; 1000]).unwrap();
        let left = size(&dead);
        sweep(&base);
        let kept = (dead.exists(), live.exists(), other.exists());
        // Removed before asserting: a failure leaves nothing behind.
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(left, 1000);
        assert_eq!(kept, (false, true, true));
    }
}
