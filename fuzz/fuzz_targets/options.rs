//! Option validation and URL building: `Call::new`, `check_header_value`,
//! `check_token`, `encode_workbook`, `BaseUrl::parse` and `BaseUrl::follow`.
//!
//! Oracles: nothing panics; every accepted base URL obeys the host policy
//! (https, or http to loopback; a Graph host, loopback or an allowed host);
//! a WHATWG URL parser (the `url` crate, what `fetch` implements) sees the
//! same scheme, host and port in every URL the token may be sent to; item
//! paths round-trip through percent-decoding; header values carry no control
//! characters; an error message never quotes the token.
#![no_main]

use graph_workbook_session::fuzzing::error::Code;
use graph_workbook_session::fuzzing::request::Request;
use graph_workbook_session::fuzzing::url::{encode_workbook, is_loopback, BaseUrl, GRAPH_HOSTS};
use graph_workbook_session::fuzzing::validate::{check_header_value, check_session_id, check_token, Call, CallInput};
use libfuzzer_sys::fuzz_target;

#[path = "../common/frame.rs"]
mod frame;

/// Prefixes that get the fuzzer past the first checks quickly.
const BASES: [&str; 10] = [
    "",
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/v1.0",
    "http://127.0.0.1:",
    "http://localhost",
    "https://",
    "http://[::1]",
    "HTTPS://Canary.Graph.Microsoft.Com",
    "http://",
    "https://graph.contoso.test",
];
const ITEMS: [&str; 6] = ["", "/me/drive/items/", "/me/drive/root:/", "/drives/", "/sites/", "/"];

/// The marker inside every fuzzed token: no error message may contain it.
const MARK: &str = "Zq9x7";

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

fn local_code(c: &Code) -> bool {
    matches!(
        c,
        Code::InvalidArgument | Code::HostNotAllowed | Code::InsecureUrl | Code::InvalidResponse
    )
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            assert!(i + 3 <= b.len(), "a '%' without two hex digits in {s}");
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits after %"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The policy every URL that carries the token must satisfy, checked by
/// our parser and, independently, by a WHATWG parser.
fn check_policy(url: &str, allowed: &[String]) {
    // The origin decides where the token goes; a full request URL may be
    // longer than a base URL may be (MAX_BASE_URL_LEN), so only the origin is
    // re-parsed. The path's bytes are checked below, and by the WHATWG parser.
    let origin_end = url
        .find("://")
        .map(|i| i + 3)
        .and_then(|s| url[s..].find('/').map(|j| s + j))
        .unwrap_or(url.len());
    let b = BaseUrl::parse(&url[..origin_end], allowed)
        .expect("a URL the library sends to re-parses under the same policy");
    let https = b.origin.starts_with("https://");
    assert!(
        https || (b.origin.starts_with("http://") && is_loopback(&b.host)),
        "insecure: {url}"
    );
    assert!(
        is_loopback(&b.host)
            || GRAPH_HOSTS.contains(&b.host.as_str())
            || allowed.iter().any(|h| h.eq_ignore_ascii_case(&b.host)),
        "host outside the policy: {url}"
    );
    assert!(!url.bytes().any(|c| c <= b' ' || c >= 0x7f || c == b'\\'), "{url:?}");
    // What fetch would do with it (WHATWG URL). If the WHATWG parser refuses
    // the URL, fetch throws before connecting: nothing is sent.
    if let Ok(w) = url::Url::parse(url) {
        assert_eq!(w.scheme(), if https { "https" } else { "http" }, "{url}");
        let port = b
            .origin
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .filter(|_| {
                // the last ':' belongs to the port only outside IPv6 brackets
                !b.origin.ends_with(']')
            });
        assert_eq!(
            w.port_or_known_default(),
            Some(port.unwrap_or(if https { 443 } else { 80 })),
            "port of {url}"
        );
        match w.host() {
            Some(url::Host::Domain(d)) => assert_eq!(d, b.host, "WHATWG host differs for {url}"),
            Some(url::Host::Ipv4(ip)) => {
                // WHATWG reads 127.1, 0x7f000001, 2130706433 ... as IPv4. The
                // policy must then agree with what the address is.
                if b.host != ip.to_string() {
                    assert!(!GRAPH_HOSTS.contains(&b.host.as_str()), "{url}");
                    assert!(!is_loopback(&b.host) || ip.is_loopback(), "{url}");
                    assert!(https || ip.is_loopback(), "http to a non-loopback address: {url}");
                }
            }
            Some(url::Host::Ipv6(ip)) => {
                let inner = b.host.trim_start_matches('[').trim_end_matches(']');
                assert_eq!(inner.parse::<std::net::Ipv6Addr>().ok(), Some(ip), "{url}");
                assert!(https || ip.is_loopback(), "{url}");
            }
            None => panic!("no host in {url}"),
        }
    }
}

/// The input: `key=value` lines (see `common/frame.rs`): `base`, `workbook`,
/// `timeoutMs`, `maxRetries`, `clientRequestId`, `allowedHost` (repeatable),
/// `follow`, `token`, `sessionId`, `maxLen`, and `basePrefix`, `itemPrefix`,
/// `followPrefix` (indexes into the prefix lists above).
struct Input {
    base_prefix: u8,
    base_url: Option<String>,
    workbook_prefix: u8,
    workbook: Option<String>,
    timeout_ms: Option<f64>,
    max_retries: Option<f64>,
    client_request_id: Option<String>,
    allowed_hosts: Vec<String>,
    follow: String,
    follow_prefix: u8,
    token_head: String,
    token_tail: String,
    session_id: String,
    max_len: u16,
}

fn input(data: &[u8]) -> Input {
    let f = frame::Fields::parse(&frame::text(data));
    let token = f.get("token").unwrap_or("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.sig");
    let mut cut = token.len() / 2;
    while !token.is_char_boundary(cut) {
        cut -= 1;
    }
    Input {
        base_prefix: f.num("basePrefix").unwrap_or(0),
        base_url: f.get("base").map(String::from),
        workbook_prefix: f.num("itemPrefix").unwrap_or(0),
        workbook: f.get("workbook").map(String::from),
        timeout_ms: f.num("timeoutMs"),
        max_retries: f.num("maxRetries"),
        client_request_id: f.get("clientRequestId").map(String::from),
        allowed_hosts: f.all("allowedHost"),
        follow: f.get("follow").unwrap_or("").to_string(),
        follow_prefix: f.num("followPrefix").unwrap_or(0),
        token_head: token[..cut].to_string(),
        token_tail: token[cut..].to_string(),
        session_id: f.get("sessionId").unwrap_or("").to_string(),
        max_len: f.num("maxLen").unwrap_or(8192),
    }
}

fuzz_target!(|data: &[u8]| {
    let i = input(data);
    // Header values.
    let max_len = usize::from(i.max_len);
    match check_header_value("sessionId", &i.session_id, max_len) {
        Ok(()) => {
            let v = &i.session_id;
            assert!(!v.is_empty() && v.len() <= max_len);
            assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)));
            assert!(!v.starts_with(' ') && !v.ends_with(' '));
        }
        Err(e) => assert_eq!(e.code(), &Code::InvalidArgument),
    }
    let token = [i.token_head.as_str(), MARK, i.token_tail.as_str()].concat();
    for code in [Code::InvalidArgument, Code::TokenProvider] {
        if let Err(e) = check_token(&token, code.clone()) {
            assert_eq!(e.code(), &code);
            assert!(!e.message().contains(MARK), "the token is quoted: {}", e.message());
            assert!(!e.message().contains(&token));
        }
    }

    // Item paths.
    let workbook = i
        .workbook
        .as_ref()
        .map(|w| [pick(&ITEMS, i.workbook_prefix), w].concat());
    if let Some(w) = &workbook {
        match encode_workbook(w) {
            Ok(enc) => {
                assert!(
                    enc.starts_with('/') && !enc.contains("//") && !enc.ends_with('/'),
                    "{w:?} -> {enc}"
                );
                assert!(
                    enc.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~:@!$'()*,%/".contains(&b)),
                    "{w:?} -> {enc}"
                );
                assert!(!enc.split('/').any(|s| s == "." || s == ".."), "{enc}");
                assert_eq!(percent_decode(&enc), w.as_bytes(), "percent-encoding must round-trip");
            }
            Err(e) => assert_eq!(e.code(), &Code::InvalidArgument),
        }
    }

    // Base URLs, allowed hosts, and following URLs Graph hands back.
    let base = i.base_url.as_ref().map(|b| [pick(&BASES, i.base_prefix), b].concat());
    if let Some(url) = &base {
        let hosts: Vec<String> = i.allowed_hosts.iter().take(4).map(|h| h.to_ascii_lowercase()).collect();
        match BaseUrl::parse(url, &hosts) {
            Ok(b) => {
                check_policy(&b.root(), &hosts);
                assert_eq!(
                    BaseUrl::parse(&b.root(), &hosts).as_ref().ok(),
                    Some(&b),
                    "parse(root) is not idempotent"
                );
                let target = [pick(&BASES, i.follow_prefix), &i.follow].concat();
                match b.follow(&target, &hosts) {
                    Ok(u) => {
                        check_policy(&u, &hosts);
                        if target.starts_with('/') {
                            assert!(u.starts_with(&b.origin), "a relative URL left the origin: {u}");
                        }
                        // Followed only on the call's own origin (as fetch reads both).
                        if let (Ok(x), Ok(y)) = (url::Url::parse(&u), url::Url::parse(&b.root())) {
                            assert_eq!(x.origin(), y.origin(), "followed onto another origin: {u}");
                        }
                    }
                    Err(e) => assert!(local_code(e.code()), "{:?}", e.code()),
                }
            }
            Err(e) => assert!(local_code(e.code()), "{:?}", e.code()),
        }
    }

    // The whole call.
    let o = CallInput {
        workbook: workbook.as_deref(),
        base_url: base.as_deref(),
        timeout_ms: i.timeout_ms,
        max_retries: i.max_retries,
        max_retry_after_ms: i.max_retries.map(|n| n * 60_000.0),
        client_request_id: i.client_request_id.as_deref(),
        allowed_hosts: &i.allowed_hosts,
    };
    match Call::new(&o, || "fresh-id".into()) {
        Ok(c) => {
            assert!((1..=600_000).contains(&c.timeout_ms) && c.max_retries <= 10);
            let hosts = c.allowed_hosts.clone();
            for action in ["refreshSession", "createSession", "closeSession"] {
                check_policy(&c.workbook_url(action), &hosts);
            }
            check_policy(&c.batch_url(), &hosts);
            if check_session_id(&i.session_id).is_ok() && check_token(&token, Code::InvalidArgument).is_ok() {
                let r = Request::refresh_session(&c, &i.session_id);
                for attempt in [1, 2, u32::MAX] {
                    for (name, value) in r.headers(&token, &c.client_request_id, attempt) {
                        assert!(value.bytes().all(|b| (0x20..0x7f).contains(&b)), "{name}: {value:?}");
                    }
                }
            }
        }
        Err(e) => assert!(local_code(e.code()), "{:?}", e.code()),
    }
});
