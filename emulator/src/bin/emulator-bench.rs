//! `emulator-bench`: refreshSession throughput and latency of the emulator
//! against a bare hyper server that answers 204, both in-process, each
//! driven by 64 keep-alive HTTP/1.1 connections.
//!
//! `cargo run --profile fast -p graph-workbook-emulator --bin emulator-bench -- [--seconds N] [--json PATH]`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

const CONNECTIONS: usize = 64;
const PATH: &str = "/v1.0/me/drive/items/B/workbook/refreshSession";

struct Figures {
    requests: u64,
    errors: u64,
    rps: f64,
    p50_us: u64,
    p99_us: u64,
}

async fn bare_server() -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|_req| async {
                    let mut r = hyper::Response::new(Empty::<Bytes>::new());
                    *r.status_mut() = hyper::StatusCode::NO_CONTENT;
                    Ok::<_, Infallible>(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn create_session(addr: SocketAddr) -> String {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let req = hyper::Request::post("/v1.0/me/drive/items/B/workbook/createSession")
        .header("host", addr.to_string())
        .header("authorization", "Bearer bench")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from_static(
            b"{\"persistChanges\":true}",
        )))
        .expect("request");
    let resp = send.send_request(req).await.expect("createSession");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    v["id"].as_str().expect("id").to_owned()
}

#[derive(Default)]
struct Samples {
    latencies_us: Vec<u32>,
    errors: u64,
    measured: Duration,
}

impl Samples {
    fn figures(mut self) -> Figures {
        let all = &mut self.latencies_us;
        all.sort_unstable();
        let pct = |p: f64| -> u64 {
            if all.is_empty() {
                return 0;
            }
            let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
            u64::from(all[i])
        };
        Figures {
            requests: all.len() as u64,
            errors: self.errors,
            rps: all.len() as f64 / self.measured.as_secs_f64().max(1e-9),
            p50_us: pct(0.50),
            p99_us: pct(0.99),
        }
    }
}

/// One slice: fresh connections, a short unmeasured warm-up, then `measure`.
async fn drive(addr: SocketAddr, session: String, warmup: Duration, measure: Duration, into: &mut Samples) {
    let start = Instant::now() + warmup;
    let end = start + measure;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let session = session.clone();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let _ = stream.set_nodelay(true);
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(conn);
            let host = addr.to_string();
            let mut latencies: Vec<u32> = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                let req = hyper::Request::post(PATH)
                    .header("host", &host)
                    .header("authorization", "Bearer bench")
                    .header("workbook-session-id", &session)
                    .header("content-length", "0")
                    .body(Empty::<Bytes>::new())
                    .expect("request");
                let ok = match send.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let _ = resp.into_body().collect().await;
                        status == 204
                    }
                    Err(_) => false,
                };
                if t >= start {
                    latencies.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    if !ok {
                        errors += 1;
                    }
                }
                if !ok && send.ready().await.is_err() {
                    break;
                }
            }
            (latencies, errors)
        }));
    }
    for t in tasks {
        let (l, e) = t.await.expect("task");
        into.latencies_us.extend(l);
        into.errors += e;
    }
    into.measured += measure;
}

fn usage() -> ! {
    eprintln!("usage: emulator-bench [--seconds N] [--json PATH]");
    std::process::exit(2);
}

fn main() {
    let mut seconds = 5u64;
    let mut json_path: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&s| s > 0)
                    .unwrap_or_else(|| usage())
            }
            "--json" => json_path = Some(args.next().unwrap_or_else(|| usage())),
            "-h" | "--help" => {
                println!("emulator-bench [--seconds N (default 5)] [--json PATH]");
                return;
            }
            _ => usage(),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        // Alternate one-second slices (bare, emulator, bare, …) so that load
        // from other processes hits both sides alike.
        let slice = Duration::from_secs(1);
        let warmup = Duration::from_millis(200);

        let (_, emulator) = graph_workbook_emulator::spawn(graph_workbook_emulator::Config {
            workbooks: vec!["/me/drive/items/B".into()],
            ..Default::default()
        }).await.expect("emulator");
        let session = create_session(emulator.addr()).await;
        let bare_addr = bare_server().await;

        let (mut bare, mut emu) = (Samples::default(), Samples::default());
        for _ in 0..seconds {
            drive(bare_addr, session.clone(), warmup, slice, &mut bare).await;
            drive(emulator.addr(), session.clone(), warmup, slice, &mut emu).await;
        }
        let (bare, emu) = (bare.figures(), emu.figures());
        let ratio = if bare.rps > 0.0 { emu.rps / bare.rps } else { 0.0 };

        println!(
            "refreshSession, {CONNECTIONS} keep-alive connections, {seconds} s each (alternating 1 s slices), {} worker threads",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!("{:<10} {:>12} {:>10} {:>10} {:>10} {:>8}", "server", "req/s", "p50 µs", "p99 µs", "requests", "errors");
        for (name, f) in [("bare", &bare), ("emulator", &emu)] {
            println!(
                "{:<10} {:>12.0} {:>10} {:>10} {:>10} {:>8}",
                name, f.rps, f.p50_us, f.p99_us, f.requests, f.errors
            );
        }
        println!("ratio emulator/bare: {ratio:.3}");

        if let Some(path) = json_path {
            let fig = |f: &Figures| {
                serde_json::json!({
                    "rps": f.rps, "p50Us": f.p50_us, "p99Us": f.p99_us,
                    "requests": f.requests, "errors": f.errors,
                })
            };
            let doc = serde_json::json!({
                "seconds": seconds,
                "connections": CONNECTIONS,
                "bare": fig(&bare),
                "emulator": fig(&emu),
                "ratio": ratio,
            });
            if let Err(e) = std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap_or_default()) {
                eprintln!("emulator-bench: cannot write {path}: {e}");
                std::process::exit(1);
            }
        }
        emulator.shutdown().await;
    });
}
