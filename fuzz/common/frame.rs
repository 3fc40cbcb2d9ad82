//! Readable framing for the fuzz inputs, so the committed seed corpus is
//! plain text that people can read and extend: `key=value` lines with
//! escapes (`\n`, `\r`, `\t`, `\0`, `\\`, `\xHH`), or a header line and a
//! body. Bytes that are not UTF-8 are replaced (U+FFFD), never refused.
#![allow(dead_code)]

/// The input as text.
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Undoes the escapes above.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                let hex: String = it.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) => out.push(char::from(b)),
                    Err(_) => out.push_str(&hex),
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `key=value` lines (values unescaped); other lines are ignored.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(text: &str) -> Fields {
        Fields(
            text.split('\n')
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), unescape(v)))
                .collect(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn num<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| v.trim().parse().ok())
    }
}

/// Splits off the first line: `(head, rest)`.
pub fn head_body(text: &str) -> (&str, &str) {
    text.split_once('\n').unwrap_or((text, ""))
}
