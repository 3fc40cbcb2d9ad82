//! Error-body parsing: `Error::from_response` on any status, body and
//! request id (JSON, HTML, truncated, hostile), then `redact`.
//!
//! Oracles: nothing panics; the status is kept; `recreatable` means exactly
//! the deepest code `invalidSessionReCreatable`; the message stays bounded
//! (bar the codes, which come from the body); and once redacted, a secret that
//! a hostile server planted anywhere in the body or the request id appears in
//! no field of the error.
#![no_main]

use graph_workbook_session::fuzzing::error::{Error, RECREATABLE};
use libfuzzer_sys::fuzz_target;

#[path = "../common/frame.rs"]
mod frame;

/// The input: a first line `STATUS SECRET [REQUEST-ID]` (escapes allowed,
/// see `common/frame.rs`), then the body, in which every `$SECRET` is replaced
/// by the secret and every `$RID` by the request id.
struct Input {
    status: u16,
    secret: String,
    request_id: Option<String>,
    body: String,
}

fn input(data: &[u8]) -> Input {
    let text = frame::text(data);
    let (head, body) = frame::head_body(&text);
    let mut words = head.splitn(3, ' ');
    let status = words.next().and_then(|w| w.trim().parse::<u32>().ok()).unwrap_or(500);
    let secret = frame::unescape(words.next().unwrap_or(""));
    let request_id = words.next().map(frame::unescape);
    let body = body
        .replace("$SECRET", &secret)
        .replace("$RID", request_id.as_deref().unwrap_or(""));
    Input {
        status: (status % 65_536) as u16,
        secret,
        request_id,
        body,
    }
}

fn fields(e: &Error) -> Vec<&str> {
    let mut v = vec![e.code().as_str(), e.message()];
    v.extend(e.inner_code());
    v.extend(e.request_id());
    v.extend(e.client_request_id());
    v.extend(e.date());
    v
}

fuzz_target!(|data: &[u8]| {
    let i = input(data);
    let (body, request_id) = (&i.body, &i.request_id);
    let mut e = Error::from_response(i.status, body, request_id.as_deref());
    assert_eq!(e.status(), i.status);
    let deepest = e.inner_code().unwrap_or(e.code().as_str());
    assert_eq!(e.recreatable(), deepest == RECREATABLE);
    let codes = e.code().as_str().len() + e.inner_code().map_or(0, str::len);
    // Graph's message is kept up to 16 KiB until redaction; redaction cuts
    // the whole message to 1 KiB (after, so a token across the cut is seen).
    assert!(
        e.message().len() <= 16 * 1024 + codes + 64,
        "message of {} bytes",
        e.message().len()
    );

    e.redact(&i.secret);
    assert!(
        e.message().len() <= 1024,
        "redacted message of {} bytes",
        e.message().len()
    );
    if i.secret.len() >= 4 {
        for f in fields(&e) {
            assert!(
                !f.contains(&i.secret),
                "secret {:?} survived redaction in {:?}",
                i.secret,
                f
            );
        }
    }
});
