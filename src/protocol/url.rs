//! Where the token may go: base URL parsing, the host policy, and item paths.
//!
//! The rules (DESIGN.md, "Security rules"): the token goes only over https,
//! except to loopback; only to the Graph national-cloud hosts, loopback and
//! the caller's `allowedHosts`; item paths are absolute, free of `..`, `?`,
//! `#`, `//` and control characters, and are percent-encoded here, so callers
//! pass them unencoded (`/me/drive/root:/My Folder/Book 1.xlsx:`).

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{Code, Error};
use super::text::{find, find_any, rfind_any, split_any, trim_end_byte};

/// The hosts where Graph serves workbook sessions: the global service, US
/// Government L4 and L5 (DoD). The session pages include
/// `api-reference/includes/global-us.md` (microsoft-graph-docs-contrib):
/// global, L4 and L5 supported, China operated by 21Vianet not. Other hosts
/// (a proxy, canary, another cloud) only through `allowedHosts`.
pub const GRAPH_HOSTS: [&str; 3] = ["graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us"];

/// Longest item path accepted (Graph's own path limits are far below this).
pub const MAX_WORKBOOK_LEN: usize = 4096;
/// Longest base URL accepted (`https://graph.microsoft.com/v1.0` is 32 bytes).
pub const MAX_BASE_URL_LEN: usize = 2048;

/// A validated base URL such as `https://graph.microsoft.com/v1.0`.
#[derive(Clone, Debug, PartialEq)]
pub struct BaseUrl {
    /// `https://host[:port]`, lower-cased, no trailing slash.
    pub origin: String,
    /// The host alone (brackets kept for IPv6), lower-cased.
    pub host: String,
    /// The path prefix (for example `/v1.0`), no trailing slash; may be empty.
    pub path: String,
}

impl BaseUrl {
    /// Parses and checks a base URL against the host policy.
    pub fn parse(url: &str, allowed_hosts: &[String]) -> Result<BaseUrl, Error> {
        let bad = |why: &str| Error::local(Code::InvalidArgument, &["options.baseUrl ", why]);
        if url.is_empty() {
            return Err(bad("must be a non-empty string"));
        }
        if url.len() > MAX_BASE_URL_LEN {
            return Err(bad("is too long"));
        }
        if url.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(bad("must not contain spaces, control or non-ASCII characters"));
        }
        let (scheme, rest) = match find(url, "://") {
            Some(i) => (url.get(..i).unwrap_or(""), url.get(i + 3..).unwrap_or("")),
            None => return Err(bad("is not an absolute URL (expected https://host/version)")),
        };
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(bad("must use https (or http to a loopback host)"));
        };
        if find_any(rest, b"?#\\").is_some() {
            return Err(bad("must not contain a query, a fragment or a backslash"));
        }
        let (authority, path) = match find_any(rest, b"/") {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
            None => (rest, ""),
        };
        if find_any(authority, b"@").is_some() {
            return Err(bad("must not contain user information"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("has an invalid host or port"))?;
        let host = host.to_ascii_lowercase();
        let path = trim_end_byte(path, b'/');
        if find(path, "//").is_some() || split_any(path, b"/").any(|s| s == "." || s == "..") {
            return Err(bad("must not contain empty, '.' or '..' path segments"));
        }
        if !path.bytes().all(is_path_byte) {
            return Err(bad("has characters that must be percent-encoded in its path"));
        }
        let loopback = is_loopback(&host);
        if !https && !loopback {
            return Err(Error::local(
                Code::InsecureUrl,
                &["options.baseUrl uses http to a host that is not loopback; the access token is only sent over https"],
            ));
        }
        let allowed = loopback
            || GRAPH_HOSTS.contains(&host.as_str())
            || allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
        if !allowed {
            return Err(Error::local(
                Code::HostNotAllowed,
                &[
                    "the host ",
                    &host,
                    " is not a Microsoft Graph host; add it to options.allowedHosts to send the access token there",
                ],
            ));
        }
        let mut origin = String::with_capacity(url.len());
        origin.push_str(if https { "https://" } else { "http://" });
        origin.push_str(&host);
        if let Some(port) = port {
            origin.push(':');
            origin.push_str(port);
        }
        Ok(BaseUrl {
            origin,
            host,
            path: path.into(),
        })
    }

    /// `origin + path`: where relative Graph URLs (`/me/...`) are resolved.
    pub fn root(&self) -> String {
        let mut s = self.origin.clone();
        s.push_str(&self.path);
        s
    }

    /// Resolves a URL that Graph handed back (`Location`, `resourceLocation`)
    /// for a follow-up request that carries the token. It is followed
    /// verbatim (a query such as `?sessionId=...`, another version segment
    /// such as `/beta/`) when it stays on this call's origin: the same
    /// scheme, host and port. Any other origin is refused, so the token
    /// never follows Graph's answer anywhere else. Relative URLs (`/v1.0/...`)
    /// resolve on this origin.
    pub fn follow(&self, url: &str, allowed_hosts: &[String]) -> Result<String, Error> {
        let malformed = || Error::local(Code::InvalidResponse, &["Graph returned a malformed operation URL"]);
        let full = if url.starts_with('/') && !url.starts_with("//") {
            let mut s = self.origin.clone();
            s.push_str(url);
            s
        } else {
            url.into()
        };
        // text::find, not str::find: core's substring searcher links
        // core::fmt through its panic paths (bench/README.md, size steps).
        let after_scheme = find(&full, "://").map(|i| i + 3).ok_or_else(malformed)?;
        let origin_end = full
            .get(after_scheme..)
            .and_then(|rest| find_any(rest, b"/?#"))
            .map_or(full.len(), |i| after_scheme + i);
        let (origin, rest) = (
            full.get(..origin_end).unwrap_or(""),
            full.get(origin_end..).unwrap_or(""),
        );
        let other = BaseUrl::parse(origin, allowed_hosts).map_err(|e| {
            if *e.code() == Code::InvalidArgument {
                malformed()
            } else {
                e
            }
        })?;
        if default_port_stripped(&other.origin) != default_port_stripped(&self.origin) {
            return Err(Error::local(
                Code::InvalidResponse,
                &[
                    "Graph pointed a follow-up request at another origin (",
                    &other.origin,
                    "); the access token stays on ",
                    &self.origin,
                ],
            ));
        }
        let (path, query) = match find_any(rest, b"?") {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i + 1..).unwrap_or("")),
            None => (rest, ""),
        };
        let path_ok = path.starts_with('/')
            && find(path, "//").is_none()
            && !split_any(path, b"/").any(|s| s == "." || s == "..")
            && path.bytes().all(is_path_byte);
        let query_ok = query.bytes().all(|b| is_path_byte(b) || b == b'?');
        if !path_ok || !query_ok || full.len() > MAX_FOLLOW_LEN {
            return Err(malformed());
        }
        Ok(full)
    }
}

/// Longest URL Graph may hand back to be followed.
const MAX_FOLLOW_LEN: usize = 8 * 1024;

/// `https://h:443` as `https://h`, `http://h:80` as `http://h`: the same origin.
pub(crate) fn default_port_stripped(origin: &str) -> String {
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if origin.starts_with(scheme) {
            if let Some(o) = origin.strip_suffix(port) {
                return o.into();
            }
        }
    }
    origin.into()
}

fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = find_any(authority, b"]")?;
        let host = authority.get(..=end)?;
        let inner = host.get(1..end)?;
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return None;
        }
        match authority.get(end + 1..)? {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match rfind_any(authority, b":") {
            Some(i) => (authority.get(..i)?, Some(authority.get(i + 1..)?)),
            None => (authority, None),
        }
    };
    if !host.starts_with('[')
        && (host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    {
        return None;
    }
    if let Some(p) = port {
        let n = super::text::parse_u64(p)?;
        if n == 0 || n > 65535 || p.len() > 5 {
            return None;
        }
    }
    Some((host, port))
}

/// Loopback: `localhost`, 127.0.0.0/8 and `[::1]`.
pub fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" || host == "[0:0:0:0:0:0:0:1]" {
        return true;
    }
    let mut parts = split_any(host, b".");
    let first = parts.next();
    let rest: Vec<&str> = parts.collect();
    first == Some("127")
        && rest.len() == 3
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && super::text::parse_u64(p).is_some_and(|n| n <= 255))
}

fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

/// Bytes kept literally in an encoded item path: RFC 3986 unreserved, plus
/// `:` (Graph's `root:/path:` syntax), `@` and the harmless sub-delimiters.
/// Everything else, `%`, `&`, `+`, `=` and `;` included, is percent-encoded.
fn keep_literal(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:@!$'()*,".contains(&b)
}

/// Checks an item path (`/me/drive/items/01ABC`, `/drives/b!x/items/01ABC`,
/// `/me/drive/root:/Folder/Book 1.xlsx:` ...) and returns it percent-encoded.
pub fn encode_workbook(workbook: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::local(Code::InvalidArgument, &["options.workbook ", why]);
    if workbook.is_empty() {
        return Err(bad("must be a non-empty string"));
    }
    if workbook.len() > MAX_WORKBOOK_LEN {
        return Err(bad("is too long"));
    }
    if !workbook.starts_with('/') {
        return Err(bad("must be an absolute item path such as /me/drive/items/{id}"));
    }
    if workbook.chars().any(|c| c.is_control()) {
        return Err(bad("must not contain control characters"));
    }
    if find_any(workbook, b"?#\\").is_some() {
        return Err(bad("must not contain '?', '#' or '\\'"));
    }
    let body = workbook.get(1..).unwrap_or("");
    if body.is_empty() || body.ends_with('/') || find(workbook, "//").is_some() {
        return Err(bad("must not contain empty path segments ('//' or a trailing '/')"));
    }
    if split_any(body, b"/").any(|s| s == "." || s == "..") {
        return Err(bad("must not contain '.' or '..' segments"));
    }
    let mut out = String::with_capacity(workbook.len() + 16);
    for seg in split_any(body, b"/") {
        out.push('/');
        for &b in seg.as_bytes() {
            if keep_literal(b) {
                out.push(b as char);
            } else {
                out.push('%');
                out.push(super::text::hex_digit(b >> 4));
                out.push(super::text::hex_digit(b & 0xf));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<BaseUrl, Error>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => e.code().as_str().into(),
        }
    }

    #[test]
    fn graph_hosts_loopback_and_allowed_hosts_pass() {
        for url in [
            "https://graph.microsoft.com/v1.0",
            "https://graph.microsoft.com/beta/",
            "https://GRAPH.microsoft.com/v1.0",
            "https://graph.microsoft.us/v1.0",
            "https://dod-graph.microsoft.us/v1.0",
            "http://127.0.0.1:8080/v1.0",
            "http://127.1.2.3/v1.0",
            "http://localhost:3000",
            "http://[::1]:9/v1.0",
        ] {
            assert_eq!(code(BaseUrl::parse(url, &[])), "ok", "{url}");
        }
        let allowed = vec!["graph.contoso.test".to_string()];
        assert_eq!(code(BaseUrl::parse("https://graph.contoso.test/v1.0", &allowed)), "ok");
        // Not where workbook sessions are served (China operated by 21Vianet:
        // not supported; canary: not a national cloud): only when allowed.
        let allowed = vec![
            "microsoftgraph.chinacloudapi.cn".to_string(),
            "CANARY.graph.microsoft.com".to_string(),
        ];
        for url in [
            "https://microsoftgraph.chinacloudapi.cn/v1.0",
            "https://canary.graph.microsoft.com/v1.0",
        ] {
            assert_eq!(code(BaseUrl::parse(url, &[])), "hostNotAllowed", "{url}");
            assert_eq!(code(BaseUrl::parse(url, &allowed)), "ok", "{url}");
        }
    }

    #[test]
    fn parsed_parts() {
        let b = BaseUrl::parse("https://Graph.Microsoft.com/v1.0/", &[]).unwrap();
        assert_eq!(b.origin, "https://graph.microsoft.com");
        assert_eq!(b.path, "/v1.0");
        assert_eq!(b.root(), "https://graph.microsoft.com/v1.0");
        let b = BaseUrl::parse("http://127.0.0.1:4000/beta", &[]).unwrap();
        assert_eq!(b.origin, "http://127.0.0.1:4000");
        assert_eq!(b.host, "127.0.0.1");
    }

    #[test]
    fn hosts_outside_the_policy_are_refused() {
        assert_eq!(code(BaseUrl::parse("https://evil.example/v1.0", &[])), "hostNotAllowed");
        assert_eq!(
            code(BaseUrl::parse("https://graph.microsoft.com.evil.example/v1.0", &[])),
            "hostNotAllowed"
        );
        assert_eq!(
            code(BaseUrl::parse("https://graph.microsoft.com./v1.0", &[])),
            "hostNotAllowed"
        );
        assert_eq!(
            code(BaseUrl::parse("https://127.0.0.1.evil.example/", &[])),
            "hostNotAllowed"
        );
        assert_eq!(
            code(BaseUrl::parse("http://graph.microsoft.com/v1.0", &[])),
            "insecureUrl"
        );
        assert_eq!(code(BaseUrl::parse("http://10.0.0.1/v1.0", &[])), "insecureUrl");
        let allowed = vec!["graph.contoso.test".to_string()];
        assert_eq!(
            code(BaseUrl::parse("http://graph.contoso.test/v1.0", &allowed)),
            "insecureUrl"
        );
    }

    #[test]
    fn malformed_base_urls_are_invalid_arguments() {
        for url in [
            "",
            "graph.microsoft.com/v1.0",
            "/v1.0",
            "ftp://graph.microsoft.com/v1.0",
            "https://graph.microsoft.com@evil.example/v1.0",
            "https://user:pw@graph.microsoft.com/v1.0",
            "https://graph.microsoft.com/v1.0?x=1",
            "https://graph.microsoft.com/v1.0#f",
            "https://graph.microsoft.com/../v1.0",
            "https://graph.microsoft.com//v1.0",
            "https://graph.microsoft.com:99999/v1.0",
            "https://graph.microsoft.com:0/v1.0",
            "https://graph.microsoft.com:x/v1.0",
            "https:///v1.0",
            "https://gra ph.microsoft.com",
            "https://graph.microsoft.com/v1.0\r\n",
            "https://graph.microsoft.com%2eevil.example/",
            "https://graph.microsoft.com\\@evil.example/",
            "https://[zz]/v1.0",
            "https://graph.microsoft.com/v1.0/é",
            &["https://graph.microsoft.com/", &"v".repeat(3000)].concat(),
        ] {
            assert_eq!(code(BaseUrl::parse(url, &[])), "invalidArgument", "{url:?}");
        }
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.255.255.255"));
        assert!(!is_loopback("127.0.0.256"));
        assert!(!is_loopback("127.0.0"));
        assert!(!is_loopback("127.0.0.1.nip.io"));
        assert!(!is_loopback("128.0.0.1"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("localhost.evil.example"));
    }

    #[test]
    fn every_addressing_form_encodes() {
        let cases = [
            ("/me/drive/items/01ABC", "/me/drive/items/01ABC"),
            ("/drives/b!xYz-_/items/01ABC", "/drives/b!xYz-_/items/01ABC"),
            (
                "/sites/contoso.sharepoint.com,1,2/drive/items/01ABC",
                "/sites/contoso.sharepoint.com,1,2/drive/items/01ABC",
            ),
            (
                "/users/ada@contoso.com/drive/items/01ABC",
                "/users/ada@contoso.com/drive/items/01ABC",
            ),
            ("/groups/0f1e/drive/items/01ABC", "/groups/0f1e/drive/items/01ABC"),
            (
                "/me/drive/root:/My Folder/Book 1.xlsx:",
                "/me/drive/root:/My%20Folder/Book%201.xlsx:",
            ),
            (
                "/me/drive/root:/Données/Bücher é.xlsx:",
                "/me/drive/root:/Donn%C3%A9es/B%C3%BCcher%20%C3%A9.xlsx:",
            ),
            (
                "/me/drive/root:/a%20b&c+d=e;f.xlsx:",
                "/me/drive/root:/a%2520b%26c%2Bd%3De%3Bf.xlsx:",
            ),
            ("/me/drive/root:/a..b.xlsx:", "/me/drive/root:/a..b.xlsx:"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(encode_workbook(raw).ok().as_deref(), Some(encoded), "{raw}");
        }
    }

    #[test]
    fn bad_item_paths_are_refused() {
        for bad in [
            "",
            "me/drive/items/1",
            "/",
            "/me/drive/items/1/",
            "/me//drive/items/1",
            "/me/drive/items/../../admin",
            "/me/drive/items/./1",
            "/me/drive/items/1?x=1",
            "/me/drive/items/1#f",
            "/me/drive/items/1\r\nX: y",
            "/me/drive/items/1\0",
            "/me/drive/items/a\\..\\b",
        ] {
            assert!(encode_workbook(bad).is_err(), "{bad:?}");
        }
        assert!(encode_workbook(&("/".to_string() + &"a".repeat(5000))).is_err());
    }

    #[test]
    fn follow_takes_same_origin_urls_verbatim_and_refuses_every_other_origin() {
        let code = |r: Result<String, Error>| match r {
            Ok(u) => u,
            Err(e) => e.code().as_str().into(),
        };
        let graph = BaseUrl::parse("https://graph.microsoft.com/v1.0", &[]).unwrap();
        let local = BaseUrl::parse("http://127.0.0.1:4000/v1.0", &[]).unwrap();
        let accepted = [
            (&graph, "https://graph.microsoft.com/beta/me/drive/items/01AB/workbook/sessionInfoResource(key='8a1b')?sessionId=Y2x1c3Rlcj1QUzE=", None),
            (&graph, "https://GRAPH.microsoft.com/v1.0/me/drive/items/1/workbook/operations/op1", None),
            (&graph, "https://graph.microsoft.com:443/v1.0/me/drive/items/1/workbook/operations/op1", None),
            (&graph, "/beta/me/drive/items/1/workbook/sessionInfoResource(key='k')?sessionId=abc%3D%3D",
                Some("https://graph.microsoft.com/beta/me/drive/items/1/workbook/sessionInfoResource(key='k')?sessionId=abc%3D%3D")),
            (&local, "http://127.0.0.1:4000/v1.0/me/drive/items/1/workbook/operations/x", None),
            (&local, "http://127.0.0.1:4000/beta/me/drive/items/1/workbook/sessionInfoResource(key='k')?sessionId=YQ==&x=1", None),
            (&local, "/v1.0/me/drive/items/1/workbook/sessionInfoResource(key='k')",
                Some("http://127.0.0.1:4000/v1.0/me/drive/items/1/workbook/sessionInfoResource(key='k')")),
        ];
        for (base, url, want) in accepted {
            assert_eq!(code(base.follow(url, &[])), want.unwrap_or(url), "{url}");
        }
        let allowed = vec!["graph.contoso.test".to_string()];
        let refused = [
            // other hosts
            (&graph, "https://evil.example/beta/op?x=1", "hostNotAllowed"),
            (&graph, "https://graph.microsoft.us/v1.0/op", "invalidResponse"),
            (&graph, "https://canary.graph.microsoft.com/v1.0/op", "hostNotAllowed"),
            (&graph, "https://graph.contoso.test/v1.0/op", "invalidResponse"),
            (&local, "http://127.0.0.2:4000/v1.0/op", "invalidResponse"),
            (&local, "http://localhost:4000/v1.0/op", "invalidResponse"),
            // other schemes
            (&graph, "http://graph.microsoft.com/v1.0/op", "insecureUrl"),
            (&local, "https://127.0.0.1:4000/v1.0/op", "invalidResponse"),
            (&graph, "ftp://graph.microsoft.com/v1.0/op", "invalidResponse"),
            // other ports
            (&graph, "https://graph.microsoft.com:8443/v1.0/op", "invalidResponse"),
            (&local, "http://127.0.0.1:4001/v1.0/op", "invalidResponse"),
            (&local, "http://127.0.0.1/v1.0/op", "invalidResponse"),
            // malformed
            (&local, "//evil.example/op", "invalidResponse"),
            (&local, "http://127.0.0.1:4000/v1.0/../x", "invalidResponse"),
            (&local, "http://127.0.0.1:4000/v1.0/op#frag", "invalidResponse"),
            (&local, "http://127.0.0.1:4000/v1.0/op?a=b c", "invalidResponse"),
            (&local, "http://127.0.0.1:4000/v1.0/op?a=\r\n", "invalidResponse"),
            (&local, "http://user@127.0.0.1:4000/v1.0/op", "invalidResponse"),
            (&local, "http://127.0.0.1:4000?x=1", "invalidResponse"),
            (&local, "op", "invalidResponse"),
            (&local, "", "invalidResponse"),
        ];
        for (base, url, want) in refused {
            assert_eq!(code(base.follow(url, &allowed)), want, "{url}");
        }
    }

    /// Fuzz regression (`cargo xtask fuzz options`): a leading `//` passed
    /// because only the text after the first `/` was checked.
    #[test]
    fn fuzz_regression_leading_double_slash_workbook() {
        for bad in ["//[m", "//evil.example/x", "///me/drive/items/1"] {
            assert!(encode_workbook(bad).is_err(), "{bad:?}");
        }
    }
}
