//! Just enough JSON for Graph's small bodies: error bodies, createSession's
//! answer, operation status and `$batch` responses.
//!
//! A hand-written reader rather than serde keeps the wasm small (see
//! `bench/README.md`); it is total: any input gives `None` or a value, never a
//! panic, and nesting is bounded so hostile input cannot exhaust the stack.

#[allow(unused_imports)]
use crate::prelude::*;

use super::text::{hex_digit, parse_u64};

/// A parsed JSON value. Numbers keep their source text: Graph's numbers here
/// are small integers (`status`), and float parsing would cost bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in source order (duplicates kept; `get` takes the first).
    Object(Vec<(String, Value)>),
}

const MAX_DEPTH: u32 = 64;

impl Value {
    /// The member `key` of an object, or `None`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `key`, compared without regard to ASCII case (Graph's
    /// `innerError` is spelled `innererror` by some services).
    pub fn get_ignore_case(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as an unsigned integer, if it is a plain one that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => parse_u64(n),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }
}

/// Parses a whole document; trailing non-whitespace makes it invalid.
pub fn parse(text: &str) -> Option<Value> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i == p.s.len() {
        Some(v)
    } else {
        None
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> Option<()> {
        if self.s.get(self.i..self.i + lit.len())? == lit {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self, depth: u32) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'n' => self.eat(b"null").map(|_| Value::Null),
            b't' => self.eat(b"true").map(|_| Value::Bool(true)),
            b'f' => self.eat(b"false").map(|_| Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(Value::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(Value::Object(members));
                }
                loop {
                    self.ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let key = self.string()?;
                    self.ws();
                    self.eat(b":")?;
                    let v = self.value(depth + 1)?;
                    members.push((key, v));
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(Value::Object(members));
                        }
                        _ => return None,
                    }
                }
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        if self.i == digits {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            let frac = self.i;
            while let Some(b'0'..=b'9') = self.peek() {
                self.i += 1;
            }
            if self.i == frac {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            let exp = self.i;
            while let Some(b'0'..=b'9') = self.peek() {
                self.i += 1;
            }
            if self.i == exp {
                return None;
            }
        }
        let text = core::str::from_utf8(self.s.get(start..self.i)?).ok()?;
        Some(Value::Number(text.into()))
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut n = 0u32;
        for _ in 0..4 {
            let d = (self.peek()? as char).to_digit(16)?;
            n = n * 16 + d;
            self.i += 1;
        }
        Some(n)
    }

    fn string(&mut self) -> Option<String> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = self.peek()?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                self.eat(b"\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return None,
                _ => out.push(b),
            }
        }
    }
}

/// Appends `s` to `out` as a JSON string literal, quotes included. Runs
/// that need no escape are copied whole: every escaped character is ASCII,
/// so each run ends on a character boundary (a char-by-char push was a
/// tenth of a call's time, bench/README.md).
pub fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(run..i).unwrap_or_default());
        run = i + 1;
        if escaped.is_empty() {
            out.push_str("\\u00");
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        } else {
            out.push_str(escaped);
        }
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_graph_error_body() {
        let v = parse(r#"{"error":{"code":"itemNotFound","message":"x","innerError":{"code":"invalidSessionReCreatable","request-id":"r1"}}}"#).unwrap();
        let inner = v.get("error").unwrap().get("innerError").unwrap();
        assert_eq!(inner.get("code").unwrap().as_str(), Some("invalidSessionReCreatable"));
        assert_eq!(inner.get("request-id").unwrap().as_str(), Some("r1"));
    }

    #[test]
    fn parses_scalars_arrays_and_escapes() {
        let v = parse(r#" [null, true, false, -1.5e3, 204, "a\"b\\c\u00e9\ud83d\ude00\n"] "#).unwrap();
        let a = v.as_array().unwrap();
        assert!(a[0] == Value::Null);
        assert_eq!(a[1].as_bool(), Some(true));
        assert_eq!(a[2].as_bool(), Some(false));
        assert_eq!(a[3].as_u64(), None);
        assert_eq!(a[4].as_u64(), Some(204));
        assert_eq!(a[5].as_str(), Some("a\"b\\cé😀\n"));
    }

    #[test]
    fn rejects_malformed_and_truncated_documents() {
        for bad in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":}",
            "[1,]",
            "[1 2]",
            "\"abc",
            "tru",
            "01x",
            "{\"a\":1}x",
            "<html>",
            "\"\\ud800\"",
            "\"\\x\"",
            "-",
            "1.",
            "1e",
            "\"\u{1}\"",
            "{\"error\":{\"code\":\"x\"",
        ] {
            assert!(parse(bad).is_none(), "accepted {bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).is_none());
        let ok = "[".repeat(60) + &"]".repeat(60);
        assert!(parse(&ok).is_some());
    }

    #[test]
    fn writes_escaped_strings_that_parse_back() {
        let mut out = String::new();
        let s = "cluster=PS1&session=a\"b\\c\n\u{1}é";
        write_string(&mut out, s);
        assert_eq!(parse(&out).unwrap().as_str(), Some(s));
        // Runs copied whole: escapes first, last, adjacent, around multibyte text.
        for s in ["", "\"", "\u{1f}", "é\r\t😀\\", "\n\né", "plain", "\u{7f}ü\u{0}"] {
            let mut out = String::new();
            write_string(&mut out, s);
            assert_eq!(parse(&out).unwrap().as_str(), Some(s), "{out}");
        }
        let mut out = String::new();
        write_string(&mut out, "a\u{1}\"");
        assert_eq!(out, "\"a\\u0001\\\"\"");
    }

    #[test]
    fn ignore_case_lookup_and_u64_overflow() {
        let v = parse(r#"{"innererror":{"code":"x"},"n":18446744073709551616}"#).unwrap();
        assert!(v.get("innerError").is_none());
        assert!(v.get_ignore_case("innerError").is_some());
        assert_eq!(v.get("n").unwrap().as_u64(), None);
    }
}
