//! `session.fetch`'s `path`: `workbook_request::target_url`.
//!
//! Oracles: nothing panics; a path is accepted only when the WHATWG URL
//! parser (the `url` crate, as `fetch` parses it) reads the result on the
//! session's own origin (scheme, host, port), so the token never leaves it;
//! a relative path stays under `{base}{workbook}/workbook`; a control
//! character or a backslash is never accepted.
#![no_main]

use graph_workbook_session::fuzzing::url::BaseUrl;
use graph_workbook_session::fuzzing::workbook_request::target_url;
use libfuzzer_sys::fuzz_target;

#[path = "../common/frame.rs"]
mod frame;

const BASES: [&str; 3] = [
    "https://graph.microsoft.com/v1.0",
    "http://127.0.0.1:8080/v1.0",
    "https://[::1]:8443/beta",
];

fuzz_target!(|data: &[u8]| {
    let text = frame::text(data);
    let pick = text.bytes().next().map_or(0, |b| usize::from(b) % BASES.len());
    let path = frame::unescape(text.get(1..).unwrap_or(""));
    let base = BaseUrl::parse(BASES[pick], &[]).expect("a valid base");
    let workbook = "/me/drive/items/01ABC";
    let Ok(full) = target_url(&base, workbook, &path) else {
        return;
    };
    assert!(!path.bytes().any(|b| b < b' ' || b == 0x7f || b == b'\\'), "{path:?}");
    let parsed = url::Url::parse(&full).unwrap_or_else(|e| panic!("{full:?} does not parse: {e}"));
    let want = url::Url::parse(BASES[pick]).unwrap();
    assert_eq!(parsed.origin(), want.origin(), "{path:?} -> {full:?} left the origin");
    if path.starts_with('/') && !path.starts_with("//") {
        let prefix = [want.path(), workbook, "/workbook"].concat();
        assert!(
            parsed.path().starts_with(&prefix),
            "{path:?} -> {} escaped {prefix}",
            parsed.path()
        );
    }
});
