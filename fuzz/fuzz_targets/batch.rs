//! `$batch`: `parse_batch` on any response body, `ItemAnswer::error`, and
//! `batch_body` for any items.
//!
//! Oracles: nothing panics; a malformed response is `invalidResponse`;
//! every answer read has a status in 100..600 and a numeric id, and its error
//! keeps that status; the request body built for any session ids and item
//! paths is JSON that a reference parser (serde_json) reads back to exactly
//! those ids, URLs and `workbook-session-id` headers.
#![no_main]

use graph_workbook_session::fuzzing::batch::{batch_body, parse_batch, BatchItem};
use graph_workbook_session::fuzzing::error::Code;
use graph_workbook_session::fuzzing::url::encode_workbook;
use libfuzzer_sys::fuzz_target;

#[path = "../common/frame.rs"]
mod frame;

/// The input: a `$batch` response body, then optionally a line `=== items`
/// and items to build a request body from, one per line:
/// `INDEX<TAB>WORKBOOK<TAB>SESSION-ID` (escapes allowed).
struct Input {
    body: String,
    items: Vec<(u16, String, String)>,
}

fn input(data: &[u8]) -> Input {
    let text = frame::text(data);
    let (body, items) = text.split_once("\n=== items\n").unwrap_or((&text, ""));
    let items = items
        .lines()
        .map(|l| {
            let mut p = l.splitn(3, '\t');
            let n = p.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            (
                n,
                frame::unescape(p.next().unwrap_or("")),
                frame::unescape(p.next().unwrap_or("")),
            )
        })
        .collect();
    Input {
        body: body.to_string(),
        items,
    }
}

fuzz_target!(|data: &[u8]| {
    let i = input(data);
    match parse_batch(&i.body) {
        Ok(answers) => {
            for a in &answers {
                assert!((100..600).contains(&a.status));
                if !(200..300).contains(&a.status) {
                    let e = a.error();
                    assert_eq!(e.status(), a.status);
                    assert!(!e.code().as_str().is_empty());
                    if a.request_id.is_some() {
                        assert_eq!(e.request_id(), a.request_id.as_deref());
                    }
                }
            }
        }
        Err(e) => assert_eq!(e.code(), &Code::InvalidResponse),
    }

    let encoded: Vec<(usize, String, &str)> = i
        .items
        .iter()
        .take(20)
        .filter_map(|(n, w, s)| encode_workbook(w).ok().map(|enc| (usize::from(*n), enc, s.as_str())))
        .collect();
    let items: Vec<BatchItem<'_>> = encoded
        .iter()
        .map(|(n, w, s)| BatchItem {
            index: *n,
            workbook: w,
            session_id: s,
        })
        .collect();
    let body = batch_body(&items);
    let v: serde_json::Value = serde_json::from_str(&body).expect("batch_body writes JSON");
    let reqs = v["requests"].as_array().expect("requests");
    assert_eq!(reqs.len(), items.len());
    for (r, item) in reqs.iter().zip(&items) {
        assert_eq!(r["id"].as_str(), Some(item.index.to_string().as_str()));
        assert_eq!(r["method"].as_str(), Some("POST"));
        assert_eq!(
            r["url"].as_str(),
            Some([item.workbook, "/workbook/refreshSession"].concat().as_str())
        );
        assert_eq!(r["headers"]["workbook-session-id"].as_str(), Some(item.session_id));
    }
});
