//! The `workbook-emulator` binary: first stdout line, serving, SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_workbook-emulator");

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The first line the emulator prints, within 30 s (issue 19: no test waits
/// forever); the rest of its stdout stays readable through the reader.
fn first_line(stdout: std::process::ChildStdout) -> (String, BufReader<std::process::ChildStdout>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send((line, reader));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the emulator printed its first line within 30 s")
}

#[test]
fn prints_address_serves_and_exits_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--persistent-ttl-ms", "1000", "--operation-delay-ms=10", "--token", "t"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (line, _stdout) = first_line(child.stdout.take().unwrap());
    let addr = line
        .trim_end()
        .strip_prefix("listening on http://127.0.0.1:")
        .map(|port| format!("127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("first line: {line:?}"));
    let health = get(&addr, "/_emulator/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let config = get(&addr, "/_emulator/config");
    assert!(config.contains("\"persistentTtlMs\":1000"), "{config}");
    assert!(config.contains("\"operationDelayMs\":10"), "{config}");
    assert!(config.contains("\"tokenRequired\":true"), "{config}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn bad_flags_exit_2_and_help_exits_0() {
    let out = Command::new(BIN).arg("--nope").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--nope"));
    assert!(out.stdout.is_empty());
    let out = Command::new(BIN).args(["--max-sessions", "many"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--persistent-ttl-ms",
        "--non-persistent-ttl-ms",
        "--operation-delay-ms",
        "--token",
        "--max-sessions",
    ] {
        assert!(help.contains(flag), "{flag}");
    }
    let _ = std::io::stdout().flush();
}

#[test]
fn listen_off_loopback_warns_on_stderr() {
    let mut child = Command::new(BIN)
        .args(["--listen", "0.0.0.0:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (line, _stdout) = first_line(child.stdout.take().unwrap());
    assert!(line.starts_with("listening on http://0.0.0.0:"), "{line}");
    let _ = child.kill();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let _ = child.wait();
    assert!(err.contains("warning: listening on 0.0.0.0:"), "{err}");
    assert!(err.contains("off loopback"), "{err}");
}
