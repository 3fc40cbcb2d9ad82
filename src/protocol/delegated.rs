//! Who may call: workbook sessions take delegated work or school tokens only.
//!
//! The permission tables of the three session calls (microsoftgraph/
//! microsoft-graph-docs-contrib: `api-reference/v1.0/includes/permissions/
//! workbook-createsession-permissions.md`, and the "Permissions" sections of
//! `api-reference/v1.0/api/workbook-refreshsession.md` and
//! `workbook-closesession.md`) read: Delegated (work or school account)
//! `Files.ReadWrite`; Delegated (personal Microsoft account) *Not
//! supported*; Application *Not supported*. Graph refuses an app-only token
//! with a 401 or 403 whose message need not say why, so when the token a
//! refused call used is app-only, the error's message says so.
//!
//! App-only, per the Microsoft identity platform's access token claims
//! (learn.microsoft.com/entra/identity-platform/access-token-claims-reference):
//! the optional `idtyp` claim is `"app"` for app-only tokens (`"user"`
//! otherwise); without it, an app-only token carries the application
//! permissions in `roles` and has no `scp` (the delegated scopes, present in
//! every user token). The payload is read, never verified: it only words a
//! message, and anything that is not a readable JWT counts as not app-only.

#[allow(unused_imports)]
use crate::prelude::*;

use super::json::{self, Value};

/// Appended to the message of a 401 or 403 answered to an app-only token.
pub const HINT: &str = " Workbook sessions need a delegated token (a signed-in work or school user's): \
this access token is app-only, and Graph supports createSession, refreshSession and closeSession only \
with delegated permissions.";

/// [`HINT`] when Graph refused (`status` 401 or 403) a call that used
/// `token` and `token` is app-only; `None` otherwise.
pub fn hint(status: u16, token: &str) -> Option<&'static str> {
    (matches!(status, 401 | 403) && is_app_only(token)).then_some(HINT)
}

/// True when `token` is a JWT (three dot-separated base64url parts, the
/// signature possibly empty) whose payload says it is app-only: `idtyp` is
/// `"app"`, or, without `idtyp`, `roles` is present and `scp` is not. Any
/// other input, JWT or not, is false; no input panics. Nothing is trimmed:
/// a token that ends in base64url cannot end where the hint's text begins,
/// so appending the hint never spells the token again.
pub fn is_app_only(token: &str) -> bool {
    let mut parts = super::text::split_any(token, b".");
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if header.is_empty() || !is_base64url(header) || !is_base64url(signature) {
        return false;
    }
    let Some(bytes) = base64url(payload) else {
        return false;
    };
    let Ok(text) = core::str::from_utf8(&bytes) else {
        return false;
    };
    let Some(claims @ Value::Object(_)) = json::parse(text) else {
        return false;
    };
    match claims.get("idtyp") {
        Some(idtyp) => idtyp.as_str() == Some("app"),
        None => claims.get("roles").is_some() && claims.get("scp").is_none(),
    }
}

fn is_base64url(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Decodes base64url (RFC 4648 §5), padding optional; `None` for any
/// other byte or an impossible length (one character left over).
fn base64url(s: &str) -> Option<Vec<u8>> {
    let s = super::text::trim_end_byte(s, b'=');
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unsigned JWT with `payload` (the signature is never looked at).
    fn jwt(payload: &str) -> String {
        format!("eyJhbGciOiJub25lIn0.{}.sig", encode(payload.as_bytes()))
    }

    fn encode(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn base64url_round_trips_every_length_and_refuses_what_is_not_base64url() {
        for len in 0..40usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 200) as u8).collect();
            assert_eq!(base64url(&encode(&bytes)), Some(bytes.clone()), "len {len}");
            let mut padded = encode(&bytes);
            while padded.len() % 4 != 0 {
                padded.push('=');
            }
            assert_eq!(base64url(&padded), Some(bytes), "padded, len {len}");
        }
        for bad in ["a", "abcde", "ab+c", "ab/c", "ab c", "ab.c", "é", "abc\0"] {
            assert_eq!(base64url(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn app_only_and_delegated_tokens() {
        let cases = [
            // client credentials: roles, no scp
            (
                r#"{"aud":"https://graph.microsoft.com","roles":["Files.ReadWrite.All"],"appid":"a"}"#,
                true,
            ),
            (r#"{"roles":[]}"#, true),
            (r#"{"idtyp":"app","roles":["Sites.ReadWrite.All"]}"#, true),
            (r#"{"idtyp":"app"}"#, true),
            // a user's token: scp (and maybe the user's app roles)
            (r#"{"scp":"Files.ReadWrite User.Read","name":"Ada"}"#, false),
            (r#"{"scp":"Files.ReadWrite","roles":["Admin"]}"#, false),
            (r#"{"idtyp":"user","roles":["x"]}"#, false),
            (r#"{"idtyp":"user","scp":"Files.ReadWrite"}"#, false),
            (r#"{"idtyp":7,"roles":["x"]}"#, false),
            // neither
            (r#"{}"#, false),
            (r#"[]"#, false),
            (r#""roles""#, false),
            (r#"{"roles":"#, false),
        ];
        for (payload, want) in cases {
            let token = jwt(payload);
            assert_eq!(is_app_only(&token), want, "{payload}");
        }
    }

    #[test]
    fn what_is_not_a_jwt_is_not_app_only_and_never_panics() {
        let app = encode(br#"{"roles":["x"]}"#);
        for token in [
            String::new(),
            "readme-token".into(),
            "worker-test-token".into(),
            "a.b".into(),
            format!("h.{app}"),
            format!("h.{app}.s.x.y"),                       // JWE-shaped: five parts
            format!("h.{app}x.s"),                          // one character too many
            format!("h.{app}!.s"),                          // not base64url
            format!("h.{}.s", encode(&[0xff, 0xfe, b'{'])), // not UTF-8
            format!("Bearer h.{app}.s"),                    // the header's value, not the token
            format!("h.{app}.s "),                          // trailing space
            format!(" h.{app}.s"),                          // leading space
            format!("h.{app}.s (x"),                        // a signature that is not base64url
            format!(".{app}.s"),                            // no header
            format!("h=.{app}.s"),                          // a header that is not base64url
            "é.é.é".into(),
            "...".into(),
        ] {
            assert!(!is_app_only(&token), "{token:?}");
        }
        assert!(is_app_only(&format!("h.{app}.")), "an empty signature still reads");
    }

    #[test]
    fn the_hint_is_for_refusals_of_app_only_tokens() {
        let app = jwt(r#"{"roles":["Files.ReadWrite.All"]}"#);
        let user = jwt(r#"{"scp":"Files.ReadWrite"}"#);
        assert_eq!(hint(401, &app), Some(HINT));
        assert_eq!(hint(403, &app), Some(HINT));
        for status in [0, 200, 400, 404, 429, 500, 503] {
            assert_eq!(hint(status, &app), None, "{status}");
        }
        assert_eq!(hint(401, &user), None);
        assert_eq!(hint(403, "opaque"), None);
    }

    /// Where it is used: `Error::redact`, which every error goes through
    /// with every token its call used.
    #[test]
    fn a_refused_app_only_token_is_named_in_the_message_once_and_within_bounds() {
        use super::super::error::Error;
        let app = jwt(r#"{"idtyp":"app","roles":["Files.ReadWrite.All"]}"#);
        let body =
            r#"{"error":{"code":"accessDenied","message":"Access denied","innerError":{"code":"accessDenied"}}}"#;
        let mut e = Error::from_response(403, body, Some("r1"));
        e.redact(&app);
        e.redact(&app);
        assert_eq!(
            e.message(),
            format!("Graph answered 403 accessDenied (accessDenied): Access denied{HINT}")
        );
        let long = format!(
            r#"{{"error":{{"code":"InvalidAuthenticationToken","message":"{}"}}}}"#,
            "x".repeat(5000)
        );
        let mut e = Error::from_response(401, &long, None);
        e.redact(&app);
        assert!(
            e.message().ends_with(HINT) && e.message().len() <= 1024,
            "{}",
            e.message().len()
        );
        let mut e = Error::from_response(401, &long, None);
        e.redact(&jwt(r#"{"scp":"Files.ReadWrite"}"#));
        assert!(!e.message().contains("delegated"));
        let mut e = Error::from_response(404, body, None);
        e.redact(&app);
        assert!(!e.message().contains("delegated"));
    }
}
