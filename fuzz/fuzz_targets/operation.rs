//! createSession's answers: `parse_operation` (operation status),
//! `parse_session_info` (201 body and `sessionInfoResource`), and following
//! the `resourceLocation` an operation names.
//!
//! Oracles: nothing panics; a malformed answer is `invalidResponse`; a
//! succeeded operation always names a non-empty location; a session always
//! has a non-empty id; a failed operation carries a code and is never mistaken
//! for success; following the location never leaves the call's origin.
#![no_main]

use graph_workbook_session::fuzzing::error::Code;
use graph_workbook_session::fuzzing::json;
use graph_workbook_session::fuzzing::operation::{parse_operation, parse_session_info, OperationStatus};
use graph_workbook_session::fuzzing::url::BaseUrl;
use libfuzzer_sys::fuzz_target;

#[path = "../common/frame.rs"]
mod frame;

/// The input: a first line `true`/`false` (the `persistChanges` asked for),
/// then the body. A first line `shaped STATUS LOCATION` builds
/// `{"status":STATUS,"resourceLocation":LOCATION}` (escapes allowed).
struct Input {
    body: String,
    requested: bool,
    shaped: Option<(String, String)>,
}

fn input(data: &[u8]) -> Input {
    let text = frame::text(data);
    let (head, body) = frame::head_body(&text);
    let shaped = head.strip_prefix("shaped ").map(|rest| {
        let (s, l) = rest.split_once(' ').unwrap_or((rest, ""));
        (frame::unescape(s), frame::unescape(l))
    });
    Input {
        body: body.to_string(),
        requested: head.trim() != "false",
        shaped,
    }
}

fuzz_target!(|data: &[u8]| {
    let i = input(data);
    let body = match &i.shaped {
        Some((status, location)) => {
            let mut b = String::from("{\"status\":");
            json::write_string(&mut b, status);
            b.push_str(",\"resourceLocation\":");
            json::write_string(&mut b, location);
            b.push('}');
            b
        }
        None => i.body.clone(),
    };
    match parse_operation(&body) {
        Ok(OperationStatus::Succeeded { resource_location }) => {
            assert!(!resource_location.is_empty());
            let v = json::parse(&body).expect("succeeded implies JSON");
            let s = v.get("status").and_then(|s| s.as_str()).unwrap().to_ascii_lowercase();
            assert!(s == "succeeded" || s == "completed", "{s}");
            let base = BaseUrl::parse("https://graph.microsoft.com/v1.0", &[]).unwrap();
            if let Ok(url) = base.follow(&resource_location, &[]) {
                let lower = url.to_ascii_lowercase();
                let rest = lower.strip_prefix("https://graph.microsoft.com").expect("same origin");
                assert!(
                    rest.starts_with('/') || rest.starts_with(":443/"),
                    "left the origin: {url}"
                );
            }
        }
        Ok(OperationStatus::Failed(e)) => {
            assert!(!e.code().as_str().is_empty());
            let v = json::parse(&body).expect("failed implies JSON");
            assert!(v
                .get("status")
                .and_then(|s| s.as_str())
                .unwrap()
                .eq_ignore_ascii_case("failed"));
        }
        Ok(OperationStatus::Running) => {}
        Err(e) => assert_eq!(e.code(), &Code::InvalidResponse),
    }
    match parse_session_info(&body, i.requested) {
        Ok(s) => {
            assert!(!s.id.is_empty());
            let v = json::parse(&body).unwrap();
            assert_eq!(v.get("id").and_then(|x| x.as_str()), Some(s.id.as_str()));
            match v.get("persistChanges").and_then(|x| x.as_bool()) {
                Some(p) => assert_eq!(s.persist_changes, p),
                None => assert_eq!(s.persist_changes, i.requested),
            }
        }
        Err(e) => assert_eq!(e.code(), &Code::InvalidResponse),
    }
});
