//! `workbook-emulator`: serves the Graph workbook-session emulator until
//! SIGINT or SIGTERM. The first stdout line is `listening on http://ADDR`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use graph_workbook_emulator::{normalize_origin, serve, Config, LOOPBACK_ORIGINS};

const HELP: &str = "\
workbook-emulator: a local Microsoft Graph Excel workbook-session emulator

USAGE:
    workbook-emulator [OPTIONS]

OPTIONS:
    --listen ADDR                 address to bind [default: 127.0.0.1:0]
    --persistent-ttl-ms N         idle TTL of persistChanges:true sessions [default: 300000]
    --non-persistent-ttl-ms N     idle TTL of persistChanges:false sessions [default: 420000]
    --operation-delay-ms N        how long a 202 createSession operation runs [default: 2000]
    --token T                     accept only `Authorization: Bearer T` [default: any non-empty]
    --max-sessions N              live sessions before createSession answers 503 [default: 100000]
    --max-body-bytes N            largest request body; more answers 413 [default: 1048576]
    --sync-create-below-ms N      with Prefer: respond-async, an operation delay below N
                                  answers 201 at once, as Graph does for fast creations [default: 100]
    --control-origin ORIGIN       a browser origin (http://host:port) allowed to call the control
                                  API; repeatable or comma-separated [default: none]
    --header-timeout-ms N         time a connection has to send a request head [default: 30000]
    --body-timeout-ms N           time a request body has to arrive [default: 30000]
    --workbook PATH               an item the emulator holds (e.g. /me/drive/items/01ABC or
                                  /me/drive/root:/Folder/Book.xlsx:); repeatable. Requests on
                                  items not held answer 404 itemNotFound [default: none]
    --workbook-prefix PREFIX      hold every item whose path starts with PREFIX; repeatable
    --recreatable-404             an unknown or expired session answers 404 with the second-level
                                  code invalidSessionReCreatable [default: the plain 404]
    --cors-any-origin             the Graph endpoints answer browser pages of any origin
                                  [default: only --control-origin origins]
    --max-cells N                 non-empty cells held by all workbooks and session copies
                                  [default: 10000000]
    --max-bytes N                 their estimated bytes [default: 536870912]
    --seed N                      seed of the ids and of the $batch answer order [default: random]
    --test-version-prefix P       also serve version segments starting with P, like v1.0 (test
                                  suites that isolate faults by a version of their own; Graph
                                  serves only v1.0 and beta) [default: none]
    -h, --help                    print this help
    -V, --version                 print the version

The first line on stdout is `listening on http://HOST:PORT`.
Control API: http://HOST:PORT/_emulator/ (see emulator/README.md), for loopback
peers only. A --listen address off loopback prints a warning on stderr.
";

struct Args {
    listen: String,
    config: Config,
}

enum Parsed {
    Run(Box<Args>),
    Exit(&'static str),
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut out = Args {
        listen: "127.0.0.1:0".into(),
        config: Config::default(),
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Exit(HELP)),
            "-V" | "--version" => {
                return Ok(Parsed::Exit(concat!(
                    "workbook-emulator ",
                    env!("CARGO_PKG_VERSION"),
                    "\n"
                )))
            }
            _ => {}
        }
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |v: String| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: {v:?} is not a non-negative integer"))
        };
        let c = &mut out.config;
        match flag.as_str() {
            "--listen" => out.listen = value()?,
            "--persistent-ttl-ms" => c.persistent_ttl = Duration::from_millis(number(value()?)?),
            "--non-persistent-ttl-ms" => c.non_persistent_ttl = Duration::from_millis(number(value()?)?),
            "--operation-delay-ms" => c.operation_delay = Duration::from_millis(number(value()?)?),
            "--token" => {
                let t = value()?;
                if t.is_empty() {
                    return Err("--token must not be empty".into());
                }
                c.token = Some(t);
            }
            "--max-sessions" => {
                c.max_sessions =
                    usize::try_from(number(value()?)?).map_err(|_| "--max-sessions is too large".to_owned())?
            }
            "--max-body-bytes" => {
                c.max_body_bytes =
                    usize::try_from(number(value()?)?).map_err(|_| "--max-body-bytes is too large".to_owned())?
            }
            "--sync-create-below-ms" => c.sync_create_below = Duration::from_millis(number(value()?)?),
            "--header-timeout-ms" => {
                c.header_read_timeout = Duration::from_millis(number(value()?)?.max(1));
            }
            "--body-timeout-ms" => c.body_read_timeout = Duration::from_millis(number(value()?)?.max(1)),
            "--workbook" => c.workbooks.push(value()?),
            "--workbook-prefix" => c.workbook_prefixes.push(value()?),
            "--recreatable-404" => c.recreatable_404 = true,
            "--cors-any-origin" => c.cors_any_origin = true,
            "--max-cells" => c.max_cells = number(value()?)?,
            "--max-bytes" => c.max_bytes = number(value()?)?,
            "--seed" => c.seed = Some(number(value()?)?),
            "--test-version-prefix" => c.test_version_prefixes.push(value()?),
            "--control-origin" => {
                for o in value()?.split(',').filter(|o| !o.trim().is_empty()) {
                    let o = if o.trim() == LOOPBACK_ORIGINS {
                        LOOPBACK_ORIGINS.to_owned()
                    } else {
                        normalize_origin(o)?
                    };
                    if !c.control_origins.contains(&o) {
                        c.control_origins.push(o);
                    }
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    graph_workbook_emulator::Registry::check(&out.config.workbooks, &out.config.workbook_prefixes)?;
    Ok(Parsed::Run(Box::new(out)))
}

async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Exit(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("workbook-emulator: {e}\nTry `workbook-emulator --help`.");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("workbook-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("workbook-emulator: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => {
                eprintln!("workbook-emulator: {e}");
                return ExitCode::FAILURE;
            }
        };
        if !addr.ip().to_canonical().is_loopback() {
            eprintln!(
                "workbook-emulator: warning: listening on {addr}, off loopback: other machines can reach \
                 the Graph endpoints (the control API still answers loopback peers only). It accepts any \
                 bearer token unless --token is given."
            );
        }
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on http://{addr}");
        let _ = stdout.flush();
        drop(stdout);
        serve(listener, args.config, terminated()).await;
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Args, String> {
        match parse(args.iter().map(|s| s.to_string()))? {
            Parsed::Run(a) => Ok(*a),
            Parsed::Exit(_) => Err("exit".into()),
        }
    }

    #[test]
    fn flags() {
        let a = run(&[
            "--listen",
            "0.0.0.0:8080",
            "--persistent-ttl-ms=100",
            "--token",
            "t",
            "--max-sessions",
            "5",
        ])
        .unwrap();
        assert_eq!(a.listen, "0.0.0.0:8080");
        assert_eq!(a.config.persistent_ttl, Duration::from_millis(100));
        assert_eq!(a.config.token.as_deref(), Some("t"));
        assert_eq!(a.config.max_sessions, 5);
        assert!(run(&["--bogus"]).is_err());
        assert!(run(&["--max-sessions"]).is_err());
        assert!(run(&["--max-sessions", "-1"]).is_err());
        assert!(run(&["--token", ""]).is_err());
        assert!(matches!(parse(["--help".to_string()]), Ok(Parsed::Exit(_))));
        let a = run(&[
            "--control-origin",
            "http://127.0.0.1:8080/,HTTP://LOCALHOST:3000",
            "--control-origin=http://127.0.0.1:8080",
            "--sync-create-below-ms",
            "0",
            "--body-timeout-ms",
            "5",
        ])
        .unwrap();
        assert_eq!(
            a.config.control_origins,
            ["http://127.0.0.1:8080", "http://localhost:3000"]
        );
        assert_eq!(a.config.sync_create_below, Duration::ZERO);
        assert_eq!(a.config.body_read_timeout, Duration::from_millis(5));
        let a = run(&[
            "--workbook",
            "/me/drive/root:/Demo/Budget 2026.xlsx:",
            "--workbook-prefix=/me/drive/items/",
            "--recreatable-404",
            "--cors-any-origin",
            "--max-cells",
            "7",
            "--max-bytes=9",
            "--seed",
            "3",
            "--test-version-prefix",
            "v-batch-",
        ])
        .unwrap();
        assert_eq!(a.config.workbooks, ["/me/drive/root:/Demo/Budget 2026.xlsx:"]);
        assert_eq!(a.config.workbook_prefixes, ["/me/drive/items/"]);
        assert!(a.config.recreatable_404 && a.config.cors_any_origin);
        assert_eq!((a.config.max_cells, a.config.max_bytes, a.config.seed), (7, 9, Some(3)));
        assert!(a.config.version_served("v-batch-123") && !a.config.version_served("v2.0"));
        assert!(!run(&[]).unwrap().config.recreatable_404);
        assert!(run(&["--workbook", "relative"]).is_err());
        assert!(run(&["--workbook-prefix"]).is_err());
        for bad in ["ftp://x", "http://x/path", "http://", "127.0.0.1:8080"] {
            assert!(run(&["--control-origin", bad]).is_err(), "{bad}");
        }
    }
}
