//! Option validation: every rule runs before anything is sent, and all the
//! defaults of the JS contract are written here, once.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{Code, Error};
use super::retry::Limits;
pub use super::retry::{DEFAULT_MAX_RETRY_AFTER_MS, MAX_RETRY_AFTER_LIMIT_MS};
use super::url::{encode_workbook, BaseUrl, GRAPH_HOSTS};

/// `baseUrl` when none is given.
pub const DEFAULT_BASE_URL: &str = "https://graph.microsoft.com/v1.0";
/// `timeoutMs` (per attempt) when none is given.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;
/// The largest `timeoutMs` accepted: ten minutes.
pub const MAX_TIMEOUT_MS: u32 = 600_000;
/// `maxRetries` when none is given.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// The largest `maxRetries` accepted.
pub const MAX_RETRIES_LIMIT: u32 = 10;
/// Longest `sessionId` or `clientRequestId` (Graph's are about 200 bytes).
pub const MAX_HEADER_VALUE: usize = 8 * 1024;
/// Longest access token (JWTs with many groups reach several kilobytes).
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// The options shared by every call, as plain values (the surface has
/// already checked JavaScript types).
pub struct CallInput<'a> {
    /// `workbook`: the item path, unencoded; `None` for `$batch` calls,
    /// whose items carry their own.
    pub workbook: Option<&'a str>,
    /// `baseUrl`.
    pub base_url: Option<&'a str>,
    /// `timeoutMs`.
    pub timeout_ms: Option<f64>,
    /// `maxRetries`.
    pub max_retries: Option<f64>,
    /// `maxRetryAfterMs`.
    pub max_retry_after_ms: Option<f64>,
    /// `clientRequestId`.
    pub client_request_id: Option<&'a str>,
    /// `allowedHosts`.
    pub allowed_hosts: &'a [String],
}

/// A checked call: everything needed to build its requests.
#[derive(Clone, Debug)]
pub struct Call {
    /// Where requests go.
    pub base: BaseUrl,
    /// The item path, percent-encoded (empty for `$batch` calls).
    pub workbook: String,
    /// Per-attempt timeout.
    pub timeout_ms: u32,
    /// Retries allowed after the first attempt.
    pub max_retries: u32,
    /// The longest `Retry-After` cooldown the call waits; a longer one ends it.
    pub max_retry_after_ms: u32,
    /// Sent on every attempt of this call.
    pub client_request_id: String,
    /// Extra hosts the token may go to (lower-cased).
    pub allowed_hosts: Vec<String>,
    /// The shell's own handles for this call (the caller's `fetch`, the
    /// token source to renew after a 401), carried with the call so that
    /// every request of it, and a session's stored call, uses them; opaque
    /// here.
    pub transport: Option<Transport>,
}

/// See [`Call::transport`].
pub type Transport = alloc::rc::Rc<dyn core::any::Any>;

impl Call {
    /// Checks `o`; `fresh_id` makes the `client-request-id` when none is given.
    pub fn new(o: &CallInput<'_>, fresh_id: impl FnOnce() -> String) -> Result<Call, Error> {
        let mut allowed_hosts = Vec::with_capacity(o.allowed_hosts.len());
        for h in o.allowed_hosts {
            check_host(h)?;
            allowed_hosts.push(h.to_ascii_lowercase());
        }
        let workbook = match o.workbook {
            Some(w) => encode_workbook(w)?,
            None => String::new(),
        };
        let base = BaseUrl::parse(o.base_url.unwrap_or(DEFAULT_BASE_URL), &allowed_hosts)?;
        let timeout_ms = integer("timeoutMs", o.timeout_ms, 1, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS)?;
        let max_retries = integer("maxRetries", o.max_retries, 0, MAX_RETRIES_LIMIT, DEFAULT_MAX_RETRIES)?;
        let max_retry_after_ms = integer(
            "maxRetryAfterMs",
            o.max_retry_after_ms,
            0,
            MAX_RETRY_AFTER_LIMIT_MS,
            DEFAULT_MAX_RETRY_AFTER_MS,
        )?;
        let client_request_id = match o.client_request_id {
            Some(id) => {
                check_header_value("clientRequestId", id, MAX_HEADER_VALUE)?;
                id.into()
            }
            None => fresh_id(),
        };
        Ok(Call {
            base,
            workbook,
            timeout_ms,
            max_retries,
            max_retry_after_ms,
            client_request_id,
            allowed_hosts,
            transport: None,
        })
    }

    /// How far this call may go in resending.
    pub fn limits(&self) -> Limits {
        Limits {
            max_retries: self.max_retries,
            max_retry_after_ms: u64::from(self.max_retry_after_ms),
        }
    }

    /// `{base}/$batch`.
    pub fn batch_url(&self) -> String {
        let mut url = self.base.root();
        url.push_str("/$batch");
        url
    }

    /// `{base}{workbook}/workbook/{action}`.
    pub fn workbook_url(&self, action: &str) -> String {
        let mut url = self.base.root();
        url.push_str(&self.workbook);
        url.push_str("/workbook/");
        url.push_str(action);
        url
    }
}

/// An integer option within `min..=max`, or its default when absent.
pub fn integer(name: &str, v: Option<f64>, min: u32, max: u32, default: u32) -> Result<u32, Error> {
    match v {
        None => Ok(default),
        Some(n) if n >= f64::from(min) && n <= f64::from(max) && f64::from(n as u32) == n => Ok(n as u32),
        Some(_) => {
            let mut range = String::new();
            super::text::push_decimal(&mut range, u64::from(min));
            range.push_str(" to ");
            super::text::push_decimal(&mut range, u64::from(max));
            Err(Error::local(
                Code::InvalidArgument,
                &["options.", name, " must be an integer from ", &range],
            ))
        }
    }
}

/// A value that goes into an HTTP header: non-empty, visible ASCII and
/// spaces only (CR, LF, NUL and other controls would split or corrupt the
/// request; non-ASCII makes `fetch` throw), no surrounding spaces (which
/// `fetch` would silently strip), and bounded.
pub fn check_header_value(name: &str, v: &str, max_len: usize) -> Result<(), Error> {
    let why = if v.is_empty() {
        " must be a non-empty string"
    } else if v.len() > max_len {
        " is too long"
    } else if !v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        " must contain only printable ASCII (no CR, LF, NUL or other control characters)"
    } else if v.starts_with(' ') || v.ends_with(' ') {
        " must not start or end with a space"
    } else {
        return Ok(());
    };
    Err(Error::local(Code::InvalidArgument, &["options.", name, why]))
}

/// The access token as a header value. The message never quotes the token.
pub fn check_token(token: &str, code: Code) -> Result<(), Error> {
    check_header_value("accessToken", token, MAX_TOKEN_LEN).map_err(|e| e.with_code(code))
}

/// Most `scopes` a call takes, and the longest scope.
const MAX_SCOPES: usize = 32;
const MAX_SCOPE_LEN: usize = 512;

/// The `scopes` option (for a TokenCredential): 1 to 32 non-empty strings
/// without whitespace or control characters.
pub fn check_scopes(scopes: &[String]) -> Result<(), Error> {
    let ok = !scopes.is_empty()
        && scopes.len() <= MAX_SCOPES
        && scopes
            .iter()
            .all(|s| !s.is_empty() && s.len() <= MAX_SCOPE_LEN && s.bytes().all(|b| b > b' ' && b != 0x7f));
    if ok {
        Ok(())
    } else {
        Err(Error::local(
            Code::InvalidArgument,
            &["options.scopes must be an array of 1 to 32 scopes (non-empty strings without spaces)"],
        ))
    }
}

/// A TokenCredential's scopes when `scopes` is not given:
/// `https://{host}/.default` for the Graph host the call goes to (a
/// national cloud's token is asked for by its own host); Graph's default
/// host for loopback (the emulator stands in for it) and for hosts of
/// `allowedHosts` (a proxy in front of Graph; another host's token needs
/// the `scopes` option).
pub fn default_scopes(base: &BaseUrl) -> Vec<String> {
    let host = if GRAPH_HOSTS.contains(&base.host.as_str()) {
        base.host.as_str()
    } else {
        DEFAULT_GRAPH_HOST
    };
    vec![super::text::concat(&["https://", host, "/.default"])]
}

const DEFAULT_GRAPH_HOST: &str = "graph.microsoft.com";

/// A `workbook-session-id`.
pub fn check_session_id(id: &str) -> Result<(), Error> {
    check_header_value("sessionId", id, MAX_HEADER_VALUE)
}

fn check_host(h: &str) -> Result<(), Error> {
    let ok = !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'[' || b == b']' || b == b':');
    if ok {
        Ok(())
    } else {
        Err(Error::local(
            Code::InvalidArgument,
            &["options.allowedHosts must hold host names only (no scheme, path, port or wildcard)"],
        ))
    }
}

/// Formats 16 random bytes as a UUID version 4 (RFC 9562).
pub fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(super::text::hex_digit(byte >> 4).to_ascii_lowercase());
        s.push(super::text::hex_digit(byte & 0xf).to_ascii_lowercase());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(workbook: &str) -> CallInput<'_> {
        CallInput {
            workbook: Some(workbook),
            base_url: None,
            timeout_ms: None,
            max_retries: None,
            max_retry_after_ms: None,
            client_request_id: None,
            allowed_hosts: &[],
        }
    }

    fn fresh() -> String {
        "fresh-id".into()
    }

    #[test]
    fn token_credential_scopes() {
        let allowed = ["proxy.example".into(), "canary.graph.microsoft.com".into()];
        let scopes = |url: &str| default_scopes(&BaseUrl::parse(url, &allowed).unwrap());
        for (url, want) in [
            (
                "https://graph.microsoft.com/v1.0",
                "https://graph.microsoft.com/.default",
            ),
            (
                "https://graph.microsoft.com/beta",
                "https://graph.microsoft.com/.default",
            ),
            ("https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default"),
            (
                "https://dod-graph.microsoft.us/v1.0",
                "https://dod-graph.microsoft.us/.default",
            ),
            (
                "https://canary.graph.microsoft.com/v1.0",
                "https://graph.microsoft.com/.default",
            ),
            ("http://127.0.0.1:8080/v1.0", "https://graph.microsoft.com/.default"),
            ("http://localhost/v1.0", "https://graph.microsoft.com/.default"),
            ("http://[::1]:9/v1.0", "https://graph.microsoft.com/.default"),
            ("https://proxy.example/v1.0", "https://graph.microsoft.com/.default"),
        ] {
            assert_eq!(scopes(url), [want], "{url}");
        }
        let s = |v: &[&str]| v.iter().map(|x| String::from(*x)).collect::<Vec<_>>();
        assert!(check_scopes(&s(&["https://graph.microsoft.com/.default"])).is_ok());
        assert!(check_scopes(&s(&["Files.ReadWrite", "User.Read"])).is_ok());
        for bad in [
            s(&[]),
            s(&[""]),
            s(&["a b"]),
            s(&["a\r\nb"]),
            s(&["a\0"]),
            vec!["x".repeat(513)],
            vec!["s".into(); 33],
        ] {
            assert_eq!(
                check_scopes(&bad).unwrap_err().code(),
                &Code::InvalidArgument,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn defaults_come_from_one_place() {
        let c = Call::new(&opts("/me/drive/items/01ABC"), fresh).unwrap();
        assert_eq!(c.base.root(), DEFAULT_BASE_URL);
        assert_eq!(c.timeout_ms, 30_000);
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.max_retry_after_ms, 180_000);
        assert_eq!(c.client_request_id, "fresh-id");
        assert_eq!(
            c.workbook_url("refreshSession"),
            "https://graph.microsoft.com/v1.0/me/drive/items/01ABC/workbook/refreshSession"
        );
    }

    #[test]
    fn path_form_url_is_encoded() {
        let mut o = opts("/me/drive/root:/My Folder/Book 1.xlsx:");
        o.base_url = Some("http://127.0.0.1:8080/beta/");
        let c = Call::new(&o, fresh).unwrap();
        assert_eq!(
            c.workbook_url("refreshSession"),
            "http://127.0.0.1:8080/beta/me/drive/root:/My%20Folder/Book%201.xlsx:/workbook/refreshSession"
        );
    }

    #[test]
    fn numbers_must_be_in_range_integers() {
        for bad in [f64::NAN, f64::INFINITY, -1.0, 0.5, 1e12, -0.000_1] {
            let mut o = opts("/me/drive/items/1");
            o.timeout_ms = Some(bad);
            assert!(
                Call::new(&o, fresh).err().map(|e| e.code().clone()) == Some(Code::InvalidArgument),
                "timeout {bad}"
            );
            let mut o = opts("/me/drive/items/1");
            o.max_retries = Some(bad);
            assert!(Call::new(&o, fresh).is_err(), "retries {bad}");
        }
        let mut o = opts("/me/drive/items/1");
        o.max_retries = Some(11.0);
        let e = Call::new(&o, fresh).err().unwrap();
        assert_eq!(e.message(), "options.maxRetries must be an integer from 0 to 10");
        o.max_retries = Some(0.0);
        o.timeout_ms = Some(0.0);
        assert!(Call::new(&o, fresh).is_err());
        o.timeout_ms = Some(600_000.0);
        assert_eq!(Call::new(&o, fresh).unwrap().max_retries, 0);
    }

    #[test]
    fn max_retry_after_ms_is_an_integer_up_to_a_day() {
        for bad in [f64::NAN, -1.0, 0.5, 86_400_001.0, f64::INFINITY] {
            let mut o = opts("/me/drive/items/1");
            o.max_retry_after_ms = Some(bad);
            let e = Call::new(&o, fresh).expect_err("refused");
            assert_eq!(
                e.message(),
                "options.maxRetryAfterMs must be an integer from 0 to 86400000",
                "{bad}"
            );
        }
        for (ok, want) in [(0.0, 0u64), (600_000.0, 600_000), (86_400_000.0, 86_400_000)] {
            let mut o = opts("/me/drive/items/1");
            o.max_retry_after_ms = Some(ok);
            assert_eq!(Call::new(&o, fresh).unwrap().limits().max_retry_after_ms, want);
        }
    }

    #[test]
    fn header_values_refuse_controls_and_bounds() {
        for bad in [
            "",
            "a\rb",
            "a\nb",
            "a\0b",
            "a\u{7f}",
            "tab\there",
            "é",
            " lead",
            "trail ",
        ] {
            assert!(check_session_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_session_id(&"s".repeat(1 << 20)).is_err());
        assert!(check_session_id("cluster=PS1&session=15.SN3.A82.1.V24.7737Nwad4HKa1ZjKm0k3AJr8F.95.5.0.1").is_ok());
        let e = check_token("Bearer secret\r\nX-Evil: 1", Code::InvalidArgument)
            .err()
            .unwrap();
        assert!(!e.message().contains("secret"));
        assert!(check_token("t\n", Code::TokenProvider).err().map(|e| e.code().clone()) == Some(Code::TokenProvider));
    }

    #[test]
    fn client_request_id_is_checked_when_given() {
        let mut o = opts("/me/drive/items/1");
        o.client_request_id = Some("abc\r\n");
        assert!(Call::new(&o, fresh).is_err());
        o.client_request_id = Some("my-id-1");
        assert_eq!(Call::new(&o, fresh).unwrap().client_request_id, "my-id-1");
    }

    #[test]
    fn allowed_hosts_are_host_names_only() {
        let hosts = vec!["https://x.example".to_string()];
        let mut o = opts("/me/drive/items/1");
        o.allowed_hosts = &hosts;
        assert!(Call::new(&o, fresh).is_err());
        let hosts = vec!["Graph.Contoso.Test".to_string()];
        o.allowed_hosts = &hosts;
        o.base_url = Some("https://graph.contoso.test/v1.0");
        assert!(Call::new(&o, fresh).is_ok());
    }

    #[test]
    fn uuid_v4_shape() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4([0; 16]);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
    }
}
