//! The hand-written JSON reader (`json::parse`), its writer
//! (`json::write_string`) and the byte-wise `find`/`replace`.
//!
//! Oracles: nothing panics and nesting cannot overflow the stack; a parsed
//! value written back out parses to the same value; against serde_json, a
//! document either accepts is read the same way by the other (except numbers
//! beyond f64 range or with leading zeros, which serde_json refuses and we
//! keep as text, and nesting past our limit of 64); `find`/`replace` agree with `str::find` and
//! `str::replace`.
#![no_main]

use graph_workbook_session::fuzzing::json::{self, Value};
use graph_workbook_session::fuzzing::text;
use libfuzzer_sys::fuzz_target;

#[path = "../common/frame.rs"]
mod frame;

/// The input: the JSON text, then optionally `NUL needle NUL replacement`
/// for `find`/`replace` (NUL never occurs in valid JSON).
struct Input {
    text: String,
    needle: String,
    with: String,
}

fn input(data: &[u8]) -> Input {
    let text = frame::text(data);
    let mut parts = text.splitn(3, '\0');
    Input {
        text: parts.next().unwrap_or("").to_string(),
        needle: parts.next().unwrap_or("").to_string(),
        with: parts.next().unwrap_or("").to_string(),
    }
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => json::write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (n, (k, item)) in members.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                json::write_string(out, k);
                out.push(':');
                write(out, item);
            }
            out.push('}');
        }
    }
}

/// Nesting levels below the root (0 for a scalar or an empty container).
fn levels(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => a.iter().map(|x| 1 + levels(x)).max().unwrap_or(0),
        serde_json::Value::Object(o) => o.values().map(|x| 1 + levels(x)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Same structure, strings and keys (numbers compared as f64 when both fit).
fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
    match (ours, theirs) {
        (Value::Null, serde_json::Value::Null) => true,
        (Value::Bool(a), serde_json::Value::Bool(b)) => a == b,
        (Value::Number(a), serde_json::Value::Number(b)) => match (a.parse::<f64>(), b.as_f64()) {
            // serde_json's default float reading is not always correctly rounded.
            (Ok(x), Some(y)) => x == y || (x - y).abs() <= x.abs().max(y.abs()) * 1e-12,
            _ => true,
        },
        (Value::String(a), serde_json::Value::String(b)) => a == b,
        (Value::Array(a), serde_json::Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), serde_json::Value::Object(b)) => {
            let mut keys: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            if keys.len() != a.len() {
                // Duplicate keys: serde_json keeps the last, we keep all (get takes the first).
                return keys.len() == b.len();
            }
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| same(x, y)))
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let i = input(data);
    let ours = json::parse(&i.text);
    if let Some(v) = &ours {
        let mut out = String::new();
        write(&mut out, v);
        assert_eq!(
            json::parse(&out).as_ref(),
            Some(v),
            "write then parse changed the value: {out}"
        );
    }
    match (&ours, serde_json::from_str::<serde_json::Value>(&i.text)) {
        (Some(v), Ok(t)) => assert!(same(v, &t), "read differently: {:?}", i.text),
        (None, Ok(t)) => assert!(levels(&t) > 64, "serde_json reads what we refuse: {:?}", i.text),
        (Some(_), Err(e)) => {
            let why = e.to_string();
            // Beyond f64 range (1e400) or with leading zeros (00, -01): numbers are
            // kept as text here, and Graph's are small plain integers.
            assert!(
                why.contains("number out of range") || why.contains("invalid number"),
                "we read what serde_json refuses ({why}): {:?}",
                i.text
            )
        }
        (None, Err(_)) => {}
    }
    if let Some(v) = &ours {
        // Lookups on whatever came out.
        let _ = v.get("error").and_then(|e| e.get_ignore_case("innerError"));
        let _ = v.as_u64();
    }

    if !i.needle.is_empty() {
        assert_eq!(text::find(&i.text, &i.needle), i.text.find(i.needle.as_str()));
        assert_eq!(
            text::replace(&i.text, &i.needle, &i.with),
            i.text.replace(i.needle.as_str(), &i.with)
        );
    } else {
        assert_eq!(text::replace(&i.text, "", &i.with), i.text);
    }
    let _ = text::parse_u64(&i.text);
});
