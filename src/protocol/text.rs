//! String helpers shared by the protocol's modules (JSON, URLs, errors,
//! `Retry-After`, ids). Byte loops rather than `str::find`, `str::replace`
//! and `core::fmt`: those drag in the substring searcher and formatting
//! machinery, which cost kilobytes of wasm (bench/README.md).

#[allow(unused_imports)]
use crate::prelude::*;

/// Parses ASCII digits into a `u64`; `None` on anything else or overflow.
pub fn parse_u64(digits: &str) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// The first position of `needle` in `hay`. A byte loop rather than
/// `str::find(&str)`: core's substring searcher drags in `core::fmt` through
/// its panic paths, which costs kilobytes of wasm.
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some(&first) = n.first() else {
        return Some(0);
    };
    // The first byte before the whole needle: a comparison per position,
    // not a call to `bcmp` (a token searched for in every answer).
    (0..(h.len() + 1).saturating_sub(n.len()))
        .find(|&i| h.get(i) == Some(&first) && h.get(i..).is_some_and(|rest| rest.starts_with(n)))
}

/// Where the first byte of `set` (ASCII bytes, so a char boundary) is in
/// `s`. Byte loops rather than `str::find(char)` and `str::split(char)`:
/// core's char searchers link `memchr` and `memrchr` (1.9 KB of wasm with
/// their callers, bench/README.md).
pub fn find_any(s: &str, set: &[u8]) -> Option<usize> {
    s.bytes().position(|b| in_set(set, b))
}

/// `set` holds `b`: a loop, since `<[u8]>::contains` is `memchr`.
#[allow(clippy::manual_contains)]
fn in_set(set: &[u8], b: u8) -> bool {
    set.iter().any(|&x| x == b)
}

/// Where the last byte of `set` (ASCII) is in `s`.
pub fn rfind_any(s: &str, set: &[u8]) -> Option<usize> {
    s.bytes().rposition(|b| in_set(set, b))
}

/// `s` split at each byte of `set` (ASCII), as `str::split` with a char
/// pattern splits it (empty pieces included).
pub fn split_any<'a>(s: &'a str, set: &'static [u8]) -> SplitAny<'a> {
    SplitAny { rest: Some(s), set }
}

/// The iterator of [`split_any`].
pub struct SplitAny<'a> {
    rest: Option<&'a str>,
    set: &'static [u8],
}

impl<'a> Iterator for SplitAny<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match find_any(rest, self.set) {
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// `s` without the bytes `b` (ASCII) at its end.
pub fn trim_end_byte(s: &str, b: u8) -> &str {
    let end = s.bytes().rposition(|x| x != b).map_or(0, |i| i + 1);
    s.get(..end).unwrap_or("")
}

/// `s` without the bytes `b` (ASCII) at its start.
pub fn trim_start_byte(s: &str, b: u8) -> &str {
    let start = s.bytes().position(|x| x != b).unwrap_or(s.len());
    s.get(start..).unwrap_or("")
}

/// `parts` joined (`<[&str]>::concat` without its overflow `expect`, whose
/// panic path links `core::fmt`).
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().fold(0usize, |n, p| n.saturating_add(p.len())));
    for p in parts {
        out.push_str(p);
    }
    out
}

/// `hay` with every `needle` replaced by `with` (`str::replace` without the
/// substring searcher, see [`find`]).
pub fn replace(hay: &str, needle: &str, with: &str) -> String {
    let mut out = String::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(i) = find(rest, needle).filter(|_| !needle.is_empty()) {
        out.push_str(rest.get(..i).unwrap_or(""));
        out.push_str(with);
        rest = rest.get(i + needle.len()..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Appends `n` in decimal (no `core::fmt`: it costs kilobytes of wasm).
pub fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    for d in digits.iter_mut() {
        *d = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in digits.iter().take(len).rev() {
        out.push(b as char);
    }
}

pub(crate) fn hex_digit(n: u8) -> char {
    match n {
        0..=9 => (b'0' + n) as char,
        _ => (b'A' + (n - 10)) as char,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_searches_agree_with_the_char_patterns_they_replace() {
        for s in [
            "",
            "/",
            "//",
            "a/b",
            "/a/b/",
            "é/ü//x",
            "[::1]:80",
            "a?b#c\\d",
            "Sun, 06 Nov 1994 08:49:37 GMT",
        ] {
            let ours: Vec<&str> = split_any(s, b"/").collect();
            let core: Vec<&str> = s.split('/').collect();
            assert_eq!(ours, core, "{s:?}");
            let ours: Vec<&str> = split_any(s, b" ,-:").collect();
            let core: Vec<&str> = s.split([' ', ',', '-', ':']).collect();
            assert_eq!(ours, core, "{s:?}");
            assert_eq!(find_any(s, b"?#\\"), s.find(['?', '#', '\\']), "{s:?}");
            assert_eq!(rfind_any(s, b":"), s.rfind(':'), "{s:?}");
            assert_eq!(trim_end_byte(s, b'/'), s.trim_end_matches('/'), "{s:?}");
            assert_eq!(trim_start_byte(s, b'/'), s.trim_start_matches('/'), "{s:?}");
        }
    }

    #[test]
    fn find_and_replace_without_the_substring_searcher() {
        assert_eq!(find("https://x", "://"), Some(5));
        assert_eq!(find("abc", "abcd"), None);
        assert_eq!(find("", "a"), None);
        assert_eq!(find("a//b", "//"), Some(1));
        assert_eq!(replace("tok tok", "tok", "[r]"), "[r] [r]");
        assert_eq!(replace("ééé", "é", "e"), "eee");
        assert_eq!(replace("abc", "", "x"), "abc");
        assert_eq!(replace("aaa", "aa", "b"), "ba");
    }

    #[test]
    fn decimal() {
        for n in [0u64, 7, 10, 204, 65535, u64::MAX] {
            let mut s = String::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
