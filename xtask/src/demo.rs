//! `cargo xtask demo`: builds `pkg/`, starts the Graph emulator and serves the
//! demo page (`www/`) with the package (`pkg/`) from a second loopback
//! origin, so the browser makes real cross-origin, preflighted calls, as it
//! would to graph.microsoft.com.
//!
//! [`start_demo`] is the same machinery without the build, for the
//! end-to-end test (`e2e.rs`).
//!
//! Ctrl-C: xtask installs no signal handler. The
//! terminal sends SIGINT to the whole foreground process group: xtask (and
//! cargo) and the emulator, which is xtask's child in the same group. The
//! emulator stops on SIGINT by itself (it lets open requests finish, at most
//! 2 s, and exits 0); xtask dies with its page-server thread. Should the
//! emulator stop while xtask lives on (a background job ignores SIGINT; the
//! emulator does not), `run` notices within a second and returns. When the
//! demo ends any other way (an error, or a drop in the test), [`Demo`]'s
//! drop stops the server and kills the emulator. Killing xtask alone
//! (SIGTERM/SIGKILL to its pid only) would leave the emulator running: stop
//! the process group instead, as Ctrl-C does.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::emulator::{self, Emulator};
use crate::{build, setup, step, Result};

/// `cargo xtask demo`: set up, build, start, print the URL, serve until Ctrl-C.
pub fn run() -> Result {
    setup::for_build()?;
    build::package()?;
    step("starting the Graph emulator and the demo page");
    let demo = start_demo()?;
    println!();
    println!(
        "  Graph emulator:  {}/v1.0   (control API: {}/_emulator/)",
        demo.emulator_url, demo.emulator_url
    );
    println!("  Demo page:       {}", demo.page_url);
    println!();
    println!("Open the demo page in a browser. Ctrl-C stops the page server and the emulator.");
    let _ = std::io::stdout().flush();
    // Everything runs on other threads and in the emulator process; this
    // thread waits for Ctrl-C (see the module comment), and ends the demo
    // if the emulator stops on its own (or got the SIGINT that xtask
    // ignores when started as a background job).
    let emulator_addr: std::net::SocketAddr = demo
        .emulator_url
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("emulator URL {}: {e}", demo.emulator_url))?;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        if TcpStream::connect_timeout(&emulator_addr, Duration::from_secs(2)).is_err() {
            println!("The Graph emulator stopped; stopping the demo page.");
            return Ok(());
        }
    }
}

/// The workbook the demo page (`www/demo.js`) works on.
const DEMO_WORKBOOK: &str = "/me/drive/root:/Demo/Budget 2026.xlsx:";

/// A running demo: the emulator and the static server of the page. Both stop
/// on drop.
pub struct Demo {
    // Field order is drop order: the page server first, then the emulator.
    _server: StaticServer,
    _emulator: Emulator,
    /// The demo page, e.g. `http://127.0.0.1:40123/`.
    pub page_url: String,
    /// The emulator's root, e.g. `http://127.0.0.1:40124` (Graph is under `/v1.0`).
    pub emulator_url: String,
}

/// Starts the emulator (default TTLs) and serves `www/` and `pkg/` on
/// another free loopback port. `pkg/` must already be built.
pub fn start_demo() -> Result<Demo> {
    let www = canonical("www")?;
    let pkg = canonical(build::PKG).map_err(|e| format!("{e} (build the package first: cargo xtask build)"))?;
    // The page's origin first: the emulator lets only it call the control
    // API (the demo's fault and expiry buttons).
    let listener = StaticServer::bind()?;
    let page_origin = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    // The demo's workbook (www/demo.js) is the one item it holds.
    let emulator = emulator::start(&["--control-origin", &page_origin, "--workbook", DEMO_WORKBOOK])?;
    let config = format!(
        "{{\"graphBaseUrl\":\"{url}/v1.0\",\"emulatorUrl\":\"{url}\"}}\n",
        url = json_escape(&emulator.url)
    );
    let server = StaticServer::start(listener, Site { www, pkg, config })?;
    Ok(Demo {
        page_url: format!("http://{}/", server.addr),
        emulator_url: emulator.url.clone(),
        _server: server,
        _emulator: emulator,
    })
}

fn canonical(dir: &str) -> Result<PathBuf> {
    std::fs::canonicalize(dir).map_err(|e| format!("{dir}/: {e}"))
}

fn json_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// What the page server serves.
struct Site {
    www: PathBuf,
    pkg: PathBuf,
    /// The body of `/demo-config.json`.
    config: String,
}

/// The page server: hyper (HTTP/1.1, the stack the emulator uses) on a
/// current-thread tokio runtime in one thread, serving static files from a
/// listener bound before the emulator starts (its origin is the emulator's
/// `--control-origin`).
struct StaticServer {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// How long a connection may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

impl StaticServer {
    /// Binds `127.0.0.1:0` (the page's origin is known before the site is).
    fn bind() -> Result<std::net::TcpListener> {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind the page server: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        Ok(listener)
    }

    fn start(listener: std::net::TcpListener, site: Site) -> Result<StaticServer> {
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let site = Arc::new(site);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the page server's runtime: {e}"))?;
        let thread = std::thread::Builder::new()
            .name("demo-page-server".into())
            .spawn(move || runtime.block_on(serve(listener, site, stopped)))
            .map_err(|e| e.to_string())?;
        Ok(StaticServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

async fn serve(listener: std::net::TcpListener, site: Arc<Site>, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => return eprintln!("demo page server: {e}"),
    };
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut stopped => return,
        };
        let site = site.clone();
        let service = service_fn(move |req: hyper::Request<Incoming>| {
            let site = site.clone();
            async move { Ok::<_, std::convert::Infallible>(answer(&req, &site)) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEAD_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    extra: Option<(&'static str, &'static str)>,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
            extra: None,
        }
    }
}

/// GET and HEAD only; the files of [`route`] with the page's security headers.
fn answer(req: &hyper::Request<Incoming>, site: &Site) -> hyper::Response<Full<Bytes>> {
    let method = req.method().as_str();
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let response = if method != "GET" && method != "HEAD" {
        Response {
            extra: Some(("Allow", "GET, HEAD")),
            ..Response::text(405, "method not allowed\n")
        }
    } else {
        route(target, site)
    };
    if response.status >= 400 {
        eprintln!("demo page server: {method} {target} -> {}", response.status);
    }
    let mut out = hyper::Response::builder()
        .status(response.status)
        .header("Content-Type", response.content_type)
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer");
    if response.content_type.starts_with("text/html") {
        // The page talks to any Graph base URL the visitor types (http for
        // loopback, https otherwise); nothing else leaves the origin.
        out = out.header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' http: https:; \
             img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        );
    }
    if let Some((name, value)) = response.extra {
        out = out.header(name, value);
    }
    let len = response.body.len();
    let body = if method == "HEAD" {
        Bytes::new()
    } else {
        Bytes::from(response.body)
    };
    let mut out = out
        .body(Full::new(body))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())));
    if method == "HEAD" {
        out.headers_mut().insert(hyper::header::CONTENT_LENGTH, len.into());
    }
    out
}

/// Maps a request target to a response: `/` → `www/index.html`,
/// `/demo-config.json` → the emulator's URLs, `/pkg/…` → `pkg/…`, other
/// paths → `www/…`. No directory listings, no dot files, nothing outside
/// the two directories (`..`, encoded or not, and symlinks out are refused).
fn route(target: &str, site: &Site) -> Response {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let Some(path) = percent_decode(path) else {
        return Response::text(400, "bad request\n");
    };
    if !path.starts_with('/') {
        return Response::text(400, "bad request\n");
    }
    if path == "/demo-config.json" {
        return Response {
            status: 200,
            content_type: "application/json",
            body: site.config.as_bytes().to_vec(),
            extra: None,
        };
    }
    let (root, rest) = match path.strip_prefix("/pkg/") {
        Some(rest) => (&site.pkg, rest),
        None if path == "/" => (&site.www, "index.html"),
        None => (&site.www, &path[1..]),
    };
    match resolve(root, rest) {
        Some(file) => match std::fs::read(&file) {
            Ok(body) => Response {
                status: 200,
                content_type: content_type(&file),
                body,
                extra: None,
            },
            Err(_) => not_found(),
        },
        None => not_found(),
    }
}

fn not_found() -> Response {
    Response::text(404, "not found\n")
}

/// `root/rest` if it is a regular file inside `root`.
fn resolve(root: &Path, rest: &str) -> Option<PathBuf> {
    let mut file = root.to_path_buf();
    for segment in rest.split('/') {
        // Empty (`//`, trailing `/`), `.`, `..` and dot files are refused;
        // so are backslashes and NULs, whatever the platform.
        if segment.is_empty() || segment.starts_with('.') || segment.contains(['\\', '\0']) {
            return None;
        }
        file.push(segment);
    }
    let file = std::fs::canonicalize(file).ok()?;
    (file.starts_with(root) && file.is_file()).then_some(file)
}

/// Percent-decodes a path; `None` for a bad escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(file: &Path) -> &'static str {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".d.ts") {
        return "text/plain; charset=utf-8";
    }
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "txt" | "md" | "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        let root = crate::root();
        Site {
            www: std::fs::canonicalize(root.join("www")).unwrap(),
            pkg: root.join("pkg"),
            config: "{}".into(),
        }
    }

    #[test]
    fn refuses_traversal_and_dot_files() {
        let s = site();
        for bad in [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/a/../../Cargo.toml",
            "/.git/config",
            "//etc/passwd",
            "/x%00",
        ] {
            assert_eq!(route(bad, &s).status, 404, "{bad}");
        }
        assert_eq!(route("/%zz", &s).status, 400);
        assert_eq!(route("/%ff", &s).status, 400);
    }

    #[test]
    fn serves_over_http_with_hyper() {
        use std::io::Read;
        let listener = StaticServer::bind().unwrap();
        let server = StaticServer::start(listener, site()).unwrap();
        let get = |req: &str| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        let page = get("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.to_ascii_lowercase().contains("content-security-policy:"), "{page}");
        let config = get("GET /demo-config.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(config.ends_with("{}"), "{config}");
        let post = get("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assert!(
            post.starts_with("HTTP/1.1 405") && post.to_ascii_lowercase().contains("allow: get, head"),
            "{post}"
        );
        let head = get("HEAD /demo.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200") && head.ends_with("\r\n\r\n"), "{head}");
        drop(server);
    }

    #[test]
    fn serves_the_page_and_the_config() {
        let s = site();
        let index = route("/?interval=500", &s);
        assert_eq!((index.status, index.content_type), (200, "text/html; charset=utf-8"));
        assert_eq!(route("/demo.js", &s).content_type, "text/javascript; charset=utf-8");
        assert_eq!(route("/demo-config.json", &s).body, b"{}");
        assert_eq!(route("/missing.js", &s).status, 404);
        assert_eq!(content_type(Path::new("a_bg.wasm")), "application/wasm");
    }
}
