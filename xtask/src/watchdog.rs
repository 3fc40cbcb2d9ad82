//! The watchdog of `cargo xtask test` (issue 19): each layer runs under a
//! bound, and a layer that outlives it is killed and fails by name.
//!
//! While a layer runs ([`watch`]), every command it starts through
//! [`crate::run`] or [`capture`] (from the layer's thread, or a thread it
//! hands the layer to: [`Layer::enter`]) gets a process group of its own,
//! and its stdout and stderr go through xtask: to the terminal (unless
//! captured; held and printed in one piece when the layer ends if it runs
//! beside other layers: [`watch_as`]), to `target/xtask-logs/<layer>.log`
//! and to a ring of the layer's last [`TAIL`] lines. Several layers may run
//! at once, each on a thread of its own. A thread sleeps until the layer's
//! deadline; if the layer is still running then, it kills the running
//! commands' process groups and every process descended from them
//! (Playwright starts Chromium in a group of its own), and the layer fails with its name, how long it ran and those
//! last lines. Outside a layer, commands run as before (inherited output).
//! Since a layer's commands are out of the terminal's process group, Ctrl-C
//! (and SIGTERM, SIGHUP) is handled here: the running layers' processes and
//! xtask's other children (the emulators) are killed, the table printed.
//!
//! Bounds are a few times a layer's usual time on a loaded two-core
//! machine; `XTASK_LAYER_TIMEOUT_SCALE` multiplies all of them (e.g. `3`
//! on a slow machine) and `XTASK_TIMEOUT_<LAYER>` (upper case, `-` as `_`,
//! in seconds) sets one.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Result;

/// Lines of a layer's output shown when it fails.
pub const TAIL: usize = 40;

/// Where each layer's full output goes.
pub const LOG_DIR: &str = "target/xtask-logs";

/// How long a stuck layer's Rust side (not a command: an emulator that never
/// prints its address, say) gets after the deadline before xtask exits.
const STUCK_GRACE: Duration = Duration::from_secs(30);

/// How long xtask waits, after a command exited, for the rest of its output
/// (a process it left behind may hold the pipe open).
const DRAIN: Duration = Duration::from_secs(10);

/// One finished (or failed) layer, for the closing table.
pub struct Row {
    pub name: String,
    /// When it started, from the start of the first layer.
    pub from: Duration,
    pub took: Duration,
    pub outcome: std::result::Result<(), String>,
}

/// When the first layer started: the origin of the table's start column
/// and of its wall-clock total.
static FIRST: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn since_first(t: Instant) -> Duration {
    t.saturating_duration_since(*FIRST.get_or_init(|| t))
}

/// The rows so far, in the order the layers ended.
static ROWS: Mutex<Vec<Row>> = Mutex::new(Vec::new());

/// The layers running now (several when lanes run side by side), for
/// Ctrl-C.
static ACTIVE: Mutex<Vec<Arc<Active>>> = Mutex::new(Vec::new());

/// Held while a layer's held-back output is printed, so two layers' output
/// never interleaves.
static PRINTING: Mutex<()> = Mutex::new(());

std::thread_local! {
    /// The layer this thread runs: the commands it starts are that layer's.
    static CURRENT: std::cell::RefCell<Option<Arc<Active>>> = const { std::cell::RefCell::new(None) };
}

fn current() -> Option<Arc<Active>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The layer the calling thread runs, to hand to a thread the layer starts
/// ([`Layer::enter`]), so that thread's commands are the layer's too.
#[derive(Clone)]
pub struct Layer(Option<Arc<Active>>);

impl Layer {
    pub fn current() -> Layer {
        Layer(current())
    }

    /// Makes the calling thread's commands this layer's.
    pub fn enter(&self) {
        CURRENT.with(|c| *c.borrow_mut() = self.0.clone());
    }
}

struct Active {
    name: String,
    started: Instant,
    bound: Duration,
    expired: AtomicBool,
    /// The process groups (= pids) of the commands running now (several
    /// when a layer runs shards of its tests side by side).
    running: Mutex<Vec<u32>>,
    tail: Mutex<VecDeque<String>>,
    log: Mutex<Option<File>>,
    /// Running beside other layers: what would go to the terminal is held
    /// here and printed in one piece when the layer ends.
    held: Option<Mutex<Vec<u8>>>,
    /// Its row is in the table (Ctrl-C writes it first).
    recorded: AtomicBool,
}

/// The bound of layer `name`: `default`, scaled by
/// `XTASK_LAYER_TIMEOUT_SCALE`, unless `XTASK_TIMEOUT_<NAME>` sets it.
pub fn bound(name: &str, default: Duration) -> Result<Duration> {
    let var = format!(
        "XTASK_TIMEOUT_{}",
        name.to_ascii_uppercase().replace(['-', ':', ','], "_")
    );
    if let Ok(v) = std::env::var(&var) {
        let secs: f64 = v.parse().map_err(|_| format!("{var}={v:?}: not a number of seconds"))?;
        return Duration::try_from_secs_f64(secs).map_err(|_| format!("{var}={v:?}: not a duration"));
    }
    let scale = match std::env::var("XTASK_LAYER_TIMEOUT_SCALE") {
        Ok(v) => v
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0)
            .ok_or_else(|| format!("XTASK_LAYER_TIMEOUT_SCALE={v:?}: not a positive number"))?,
        Err(_) => 1.0,
    };
    Duration::try_from_secs_f64(default.as_secs_f64() * scale)
        .map_err(|_| format!("XTASK_LAYER_TIMEOUT_SCALE: {scale} makes no duration"))
}

/// Runs layer `name` (its commands, through [`crate::run`] and [`capture`])
/// under `bound`; records its row for [`table`]. Its output goes to the
/// terminal as it comes.
pub fn watch(name: &str, bound: Duration, f: impl FnOnce() -> Result) -> Result {
    watch_as(name, bound, false, f)
}

/// [`watch`] for a layer that runs beside others (`held`): its output is
/// held back and printed in one piece, under a heading with its name, when
/// it ends; a line says when it starts.
pub fn watch_as(name: &str, bound: Duration, held: bool, f: impl FnOnce() -> Result) -> Result {
    on_interrupt();
    let _ = std::fs::create_dir_all(LOG_DIR);
    let log_path = log_path(name);
    let started = Instant::now();
    FIRST.get_or_init(|| started);
    let active = Arc::new(Active {
        name: name.to_string(),
        started,
        bound,
        expired: AtomicBool::new(false),
        running: Mutex::new(Vec::new()),
        tail: Mutex::new(VecDeque::with_capacity(TAIL)),
        log: Mutex::new(File::create(&log_path).ok()),
        held: held.then(|| Mutex::new(Vec::new())),
        recorded: AtomicBool::new(false),
    });
    if held {
        println!(
            "[{name}] started (bound {:.0} s; its output follows when it ends, and is in {})",
            bound.as_secs_f64(),
            log_path.display()
        );
    }
    lock(&ACTIVE).push(active.clone());
    CURRENT.with(|c| *c.borrow_mut() = Some(active.clone()));
    let (done, finished) = mpsc::channel::<()>();
    let dog = {
        let active = active.clone();
        std::thread::spawn(move || {
            if finished.recv_timeout(active.bound) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
            active.expired.store(true, Ordering::SeqCst);
            for pgid in lock(&active.running).clone() {
                kill_tree(pgid);
            }
            // A layer stuck in xtask's own code, not in a command: nothing
            // to kill, so end xtask itself after a grace period.
            if finished.recv_timeout(STUCK_GRACE) == Err(mpsc::RecvTimeoutError::Timeout) {
                flush_held(&active, "KILLED by the watchdog");
                eprintln!("\nxtask: {}", expired_message(&active));
                table();
                std::process::exit(124);
            }
        })
    };
    let result = f();
    let took = active.started.elapsed();
    let _ = done.send(());
    let _ = dog.join();
    CURRENT.with(|c| *c.borrow_mut() = None);
    lock(&ACTIVE).retain(|a| !Arc::ptr_eq(a, &active));
    let outcome = match result {
        // The message of the command the watchdog killed, or more.
        Err(e) if e.starts_with("watchdog:") => Err(e),
        _ if active.expired.load(Ordering::SeqCst) => Err(expired_message(&active)),
        r => r,
    };
    let verdict = match &outcome {
        Ok(()) => format!("ok in {:.1} s", took.as_secs_f64()),
        Err(e) if e.starts_with("watchdog:") => format!("KILLED by the watchdog after {:.1} s", took.as_secs_f64()),
        Err(_) => format!("FAILED after {:.1} s", took.as_secs_f64()),
    };
    flush_held(&active, &verdict);
    if active.recorded.swap(true, Ordering::SeqCst) {
        return outcome;
    }
    lock(&ROWS).push(Row {
        name: name.to_string(),
        from: since_first(active.started),
        took,
        outcome: outcome.as_ref().map(|_| ()).map_err(|e| first_line(e)),
    });
    outcome
}

/// Ctrl-C (SIGINT), SIGTERM or SIGHUP while layers run: a layer's commands
/// are in process groups of their own, out of reach of the terminal's
/// SIGINT, so xtask kills the running one (and what is under it), prints
/// the table and exits 130. Installed by the first [`watch`], so commands
/// outside `cargo xtask test` (the demo) keep the default behaviour.
fn on_interrupt() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(r) => r,
            Err(e) => return eprintln!("xtask: no signal handler ({e}); Ctrl-C may leave a layer's processes running"),
        };
        let signals = runtime.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
                signal(SignalKind::hangup())?,
            ))
        });
        let (mut int, mut term, mut hup) = match signals {
            Ok(s) => s,
            Err(e) => return eprintln!("xtask: no signal handler ({e}); Ctrl-C may leave a layer's processes running"),
        };
        std::thread::spawn(move || {
            runtime.block_on(async {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
            });
            let running = lock(&ACTIVE).clone();
            for active in running {
                for pgid in lock(&active.running).clone() {
                    kill_tree(pgid);
                }
                let took = active.started.elapsed();
                eprintln!(
                    "\nxtask: interrupted during layer `{}` after {:.1} s; its processes are killed",
                    active.name,
                    took.as_secs_f64()
                );
                if active.recorded.swap(true, Ordering::SeqCst) {
                    continue;
                }
                lock(&ROWS).push(Row {
                    name: active.name.clone(),
                    from: since_first(active.started),
                    took,
                    outcome: Err("interrupted".into()),
                });
            }
            // And the rest of xtask's children (the emulators): exit runs no
            // destructor.
            kill_pids(&descendants(std::process::id()));
            crate::disk::remove();
            table();
            std::process::exit(130);
        });
    });
}

/// Prints what layer `active` held back (nothing when it ran alone), under
/// a heading with its name and `verdict`.
fn flush_held(active: &Active, verdict: &str) {
    let Some(held) = &active.held else {
        return;
    };
    let bytes = std::mem::take(&mut *lock(held));
    let _printing = lock(&PRINTING);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\n──── [{}] {verdict}; its output: ────", active.name);
    let _ = out.write_all(&bytes);
    let _ = writeln!(out, "──── [{}] {verdict} ────", active.name);
    let _ = out.flush();
}

/// Text a layer captured (a shard's output, shown in one piece): to the
/// terminal, or held with the layer's output when it runs beside others.
/// Not to the log, which has it already.
pub fn show(text: &[u8]) {
    match current().as_ref().and_then(|a| a.held.as_ref()) {
        Some(held) => lock(held).extend_from_slice(text),
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text);
            let _ = out.flush();
        }
    }
}

/// A line of xtask's own (a step heading, a summary): to the running
/// layer's log and, when it runs beside others, held with its output;
/// else to the terminal.
pub fn say(line: &str) {
    let Some(active) = current() else {
        println!("{line}");
        return;
    };
    let mut text = line.as_bytes().to_vec();
    text.push(b'\n');
    if let Some(f) = lock(&active.log).as_mut() {
        let _ = f.write_all(&text);
    }
    match &active.held {
        Some(held) => lock(held).extend_from_slice(&text),
        None => println!("{line}"),
    }
}

fn log_path(name: &str) -> PathBuf {
    let file: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    crate::root().join(LOG_DIR).join(format!("{file}.log"))
}

fn expired_message(active: &Active) -> String {
    let took = active.started.elapsed();
    let tail = lock(&active.tail);
    let lines: Vec<&str> = tail.iter().map(|l| l.as_str()).collect();
    format!(
        "watchdog: layer `{}` ran {:.1} s, past its bound of {:.0} s, and was killed (its process group \
         and every process under it). Its last {} lines of output (all of it in {}):\n{}\n\
         (a slow machine: XTASK_LAYER_TIMEOUT_SCALE=3, or XTASK_TIMEOUT_{}=SECONDS)",
        active.name,
        took.as_secs_f64(),
        active.bound.as_secs_f64(),
        lines.len(),
        log_path(&active.name).display(),
        lines.iter().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n"),
        active.name.to_ascii_uppercase().replace(['-', ':', ','], "_"),
    )
}

fn first_line(e: &str) -> String {
    e.lines().next().unwrap_or_default().to_string()
}

/// Prints when every layer so far started and how long it took, the sum,
/// and the wall-clock time since the first started (less than the sum when
/// lanes ran side by side).
pub fn table() {
    let rows = lock(&ROWS);
    if rows.is_empty() {
        return;
    }
    let _printing = lock(&PRINTING);
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(5).max(5);
    println!("\nlayer durations:");
    println!("  {:<width$}  {:>9}  {:>9}  result", "layer", "start", "time");
    let mut total = Duration::ZERO;
    let mut rows: Vec<&Row> = rows.iter().collect();
    rows.sort_by_key(|r| r.from);
    for r in rows {
        total += r.took;
        let result = match &r.outcome {
            Ok(()) => "ok".to_string(),
            Err(e) if e.starts_with("watchdog:") => "KILLED by the watchdog".to_string(),
            Err(e) => format!("FAILED: {}", truncate(e, 100)),
        };
        println!(
            "  {:<width$}  {:>7.1} s  {:>7.1} s  {result}",
            r.name,
            r.from.as_secs_f64(),
            r.took.as_secs_f64()
        );
    }
    let wall = FIRST.get().map(|t| t.elapsed()).unwrap_or_default();
    println!("  {:<width$}  {:>9}  {:>7.1} s", "sum", "", total.as_secs_f64());
    println!("  {:<width$}  {:>9}  {:>7.1} s", "wall clock", "", wall.as_secs_f64());
}

fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// What [`spawn`] hands back: the child's exit status and, when captured,
/// its output.
struct Ran {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `cmd` under the current layer's watchdog, its output teed to the
/// terminal. `None` when no layer runs.
pub fn run(cmd: &mut Command) -> Option<Result<ExitStatus>> {
    let active = current()?;
    Some(spawn(&active, cmd, false).map(|r| r.status))
}

/// Runs `cmd` to completion and returns its output (like
/// `Command::output`), under the current layer's watchdog when one runs.
pub fn capture(cmd: &mut Command) -> Result<Output> {
    let shown = format!("{cmd:?}");
    let Some(active) = current() else {
        return cmd.output().map_err(|e| format!("cannot start {shown}: {e}"));
    };
    let r = spawn(&active, cmd, true)?;
    Ok(Output {
        status: r.status,
        stdout: r.stdout,
        stderr: r.stderr,
    })
}

fn spawn(active: &Arc<Active>, cmd: &mut Command, captured: bool) -> Result<Ran> {
    let shown = format!("{cmd:?}");
    if active.expired.load(Ordering::SeqCst) {
        return Err(expired_message(active));
    }
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    {
        let mut running = lock(&active.running);
        running.push(child.id());
        // The deadline passed between the check above and the spawn.
        if active.expired.load(Ordering::SeqCst) {
            kill_tree(child.id());
        }
    }
    let out = child
        .stdout
        .take()
        .map(|s| tee(active.clone(), s, Stream::Out, captured));
    let err = child
        .stderr
        .take()
        .map(|s| tee(active.clone(), s, Stream::Err, captured));
    let status = child.wait();
    lock(&active.running).retain(|p| *p != child.id());
    let status = status.map_err(|e| format!("{shown}: {e}"))?;
    let deadline = Instant::now() + DRAIN;
    let stdout = out.map(|t| drained(t, deadline, &active.name)).unwrap_or_default();
    let stderr = err.map(|t| drained(t, deadline, &active.name)).unwrap_or_default();
    if active.expired.load(Ordering::SeqCst) {
        return Err(expired_message(active));
    }
    Ok(Ran { status, stdout, stderr })
}

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Copies a child's stream line by line to the terminal (unless
/// `captured`), the layer's log and its tail; returns what it read when
/// `captured`.
fn tee(active: Arc<Active>, stream: impl Read + Send + 'static, which: Stream, captured: bool) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut kept = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if captured {
                kept.extend_from_slice(&line);
            } else if let Some(held) = &active.held {
                lock(held).extend_from_slice(&line);
            } else {
                let _ = match which {
                    Stream::Out => std::io::stdout().lock().write_all(&line),
                    Stream::Err => std::io::stderr().lock().write_all(&line),
                };
            }
            if let Some(f) = lock(&active.log).as_mut() {
                let _ = f.write_all(&line);
            }
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            let mut tail = lock(&active.tail);
            if tail.len() == TAIL {
                tail.pop_front();
            }
            tail.push_back(text);
        }
        kept
    })
}

/// A reader thread's result, waiting until `deadline` at most: a process
/// the command left behind may keep the pipe open, and must not hang xtask.
fn drained(t: JoinHandle<Vec<u8>>, deadline: Instant, layer: &str) -> Vec<u8> {
    while !t.is_finished() {
        if Instant::now() >= deadline {
            eprintln!("xtask: layer `{layer}`: a process left behind still holds the output open; not waiting for it");
            return Vec::new();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    t.join().unwrap_or_default()
}

/// SIGKILL to process group `pgid` and to every process descended from its
/// leader, found through /proc before any is killed (a descendant may have
/// a group of its own: Playwright's Chromium does).
pub fn kill_tree(pgid: u32) {
    let mut pids: Vec<String> = descendants(pgid).iter().map(u32::to_string).collect();
    pids.insert(0, format!("-{pgid}"));
    kill(&pids);
}

fn kill_pids(pids: &[u32]) {
    if !pids.is_empty() {
        kill(&pids.iter().map(u32::to_string).collect::<Vec<_>>());
    }
}

/// `kill -KILL -- TARGETS` (a pid, or `-pgid` for a group).
fn kill(targets: &[String]) {
    let _ = Command::new("kill")
        .args(["-KILL", "--"])
        .args(targets)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Every process under `root` (children, their children ...), from the
/// parent pid in /proc/<pid>/stat.
fn descendants(root: u32) -> Vec<u32> {
    let procs = processes();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(procs.iter().filter(|q| q.ppid == p).map(|q| q.pid));
        i += 1;
    }
    found.remove(0);
    found
}

/// A process as /proc/<pid>/stat shows it.
struct Proc {
    pid: u32,
    ppid: u32,
    pgrp: u32,
    zombie: bool,
}

fn processes() -> Vec<Proc> {
    let mut all = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return all;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().take(3).collect();
        if let [state, ppid, pgrp] = f[..] {
            if let (Ok(ppid), Ok(pgrp)) = (ppid.parse(), pgrp.parse()) {
                all.push(Proc {
                    pid,
                    ppid,
                    pgrp,
                    zombie: state == "Z" || state == "X",
                });
            }
        }
    }
    all
}

/// Whether process `pid` runs (exists and is not a zombie: a container's
/// init may never reap the orphans a kill leaves).
pub fn running(pid: u32) -> bool {
    processes().iter().any(|p| p.pid == pid && !p.zombie)
}

/// Whether any process of group `pgid` runs.
pub fn group_alive(pgid: u32) -> bool {
    processes().iter().any(|p| p.pgrp == pgid && !p.zombie)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
