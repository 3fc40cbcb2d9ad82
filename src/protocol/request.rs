//! The requests of a call, and the headers of each attempt.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{Code, Codes, Error};
use super::policy::Answered;
use super::retry::parse_retry_after;
use super::validate::Call;

/// The HTTP methods Graph's workbook-session endpoints use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Polling an operation, reading `sessionInfoResource`.
    Get,
    /// Everything else.
    Post,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// What came back from one attempt, as the shell read it.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `request-id` header.
    pub request_id: Option<String>,
    /// The `Retry-After` header, raw.
    pub retry_after: Option<String>,
    /// The `Location` header.
    pub location: Option<String>,
    /// The body, bounded (empty for 204).
    pub body: String,
}

impl Answer {
    /// Removes the access token from every server-supplied string before
    /// anything reads or cuts them: a hostile or buggy server may echo it in
    /// `request-id` or in the body, and a result, an error or a `$batch`
    /// entry built from the answer must never carry it. `body_truncated`:
    /// the body was cut at the read cap, so a tail that begins the token
    /// (the rest of it lost to the cut) is removed too. Pieces of the token
    /// (`error::scrub`) are searched for in the headers, and in the body of
    /// an answer that is not a success; a success's body is searched for
    /// the whole token (its errors, a `$batch` item's, are searched when
    /// they are read, `Error::redact`).
    pub fn scrub(&mut self, token: &str, body_truncated: bool) {
        if token.len() < 4 {
            return;
        }
        for field in [
            self.request_id.as_mut(),
            self.retry_after.as_mut(),
            self.location.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            super::error::scrub(field, token, true);
        }
        let success = (200..300).contains(&self.status);
        super::error::scrub(&mut self.body, token, !success);
        if body_truncated {
            let b = self.body.as_bytes();
            let t = token.as_bytes();
            let longest = (1..=t.len().min(b.len()))
                .rev()
                .find(|&n| t.get(..n).is_some_and(|p| b.ends_with(p)) && self.body.is_char_boundary(b.len() - n));
            if let Some(n) = longest {
                self.body.truncate(self.body.len() - n);
            }
        }
    }
}

/// One request of a call, before the per-attempt headers.
#[derive(Clone, Debug)]
pub struct Request {
    /// GET or POST.
    pub method: Method,
    /// Absolute URL, already checked against the host policy.
    pub url: String,
    /// `workbook-session-id`, when the request acts on a session.
    pub session_id: Option<String>,
    /// A JSON body.
    pub body: Option<String>,
    /// Send `Prefer: respond-async`.
    pub prefer_async: bool,
}

impl Request {
    /// `POST {base}{workbook}/workbook/refreshSession`.
    pub fn refresh_session(call: &Call, session_id: &str) -> Request {
        Request::session_action(call, "refreshSession", session_id)
    }

    /// `POST {base}{workbook}/workbook/closeSession`.
    pub fn close_session(call: &Call, session_id: &str) -> Request {
        Request::session_action(call, "closeSession", session_id)
    }

    fn session_action(call: &Call, action: &str, session_id: &str) -> Request {
        Request {
            method: Method::Post,
            url: call.workbook_url(action),
            session_id: Some(session_id.into()),
            body: None,
            prefer_async: false,
        }
    }

    /// `POST {base}{workbook}/workbook/createSession` with `{"persistChanges"}`.
    pub fn create_session(call: &Call, persist_changes: bool, prefer_async: bool) -> Request {
        let body = if persist_changes {
            "{\"persistChanges\":true}"
        } else {
            "{\"persistChanges\":false}"
        };
        Request {
            method: Method::Post,
            url: call.workbook_url("createSession"),
            session_id: None,
            body: Some(body.into()),
            prefer_async,
        }
    }

    /// `POST {base}/$batch` with a body from [`super::batch::batch_body`].
    pub fn batch(call: &Call, body: String) -> Request {
        Request {
            method: Method::Post,
            url: call.batch_url(),
            session_id: None,
            body: Some(body),
            prefer_async: false,
        }
    }

    /// A GET of a URL Graph handed back (operation, `resourceLocation`).
    pub fn get(url: String) -> Request {
        Request {
            method: Method::Get,
            url,
            session_id: None,
            body: None,
            prefer_async: false,
        }
    }

    /// The headers of attempt number `attempt` (1-based). Retries carry
    /// `Retry-Attempt: n` (n = 1 on the first retry) and the same
    /// `client-request-id`, so Graph's logs tie them together.
    pub fn headers(&self, token: &str, client_request_id: &str, attempt: u32) -> Vec<(&'static str, String)> {
        let mut h: Vec<(&'static str, String)> = Vec::with_capacity(6);
        let mut auth = String::with_capacity(token.len() + 7);
        auth.push_str("Bearer ");
        auth.push_str(token);
        h.push(("authorization", auth));
        h.push(("client-request-id", client_request_id.into()));
        if let Some(id) = &self.session_id {
            h.push(("workbook-session-id", id.clone()));
        }
        if self.body.is_some() {
            h.push(("content-type", "application/json".into()));
        }
        if self.prefer_async {
            h.push(("prefer", "respond-async".into()));
        }
        if attempt > 1 {
            let mut n = String::new();
            super::text::push_decimal(&mut n, u64::from(attempt - 1));
            h.push(("retry-attempt", n));
        }
        h
    }
}

/// What an attempt came to, for [`super::policy::judge`]: the answer's
/// status and the codes of `error` (the error it stands for), or `no_answer`.
pub fn answered<'a>(answer: Option<&Answer>, error: Option<&'a Error>, no_answer: Answered<'a>) -> Answered<'a> {
    match answer {
        Some(a) => {
            let codes = error.map(Codes::of).unwrap_or_default();
            Answered::Status {
                status: a.status,
                top: codes.top,
                second: codes.second,
            }
        }
        None => no_answer,
    }
}

/// The error a request's final attempt stands for, or `None` when it
/// succeeded (2xx). `answer` is the attempt's answer, when one came.
pub fn final_error(answer: Option<&Answer>, no_answer: Answered<'_>, attempts: u32, now_ms: u64) -> Option<Error> {
    let e = match (answer, no_answer) {
        (Some(a), _) if (200..300).contains(&a.status) => return None,
        (Some(a), _) => Error::from_response(a.status, &a.body, a.request_id.as_deref())
            .with_retry_after_ms(a.retry_after.as_deref().and_then(|v| parse_retry_after(v, now_ms))),
        (None, Answered::Timeout) => Error::local(Code::Timeout, &["every attempt timed out (options.timeoutMs)"]),
        (None, Answered::Redirect) => Error::local(
            Code::Network,
            &["Graph redirected the request (3xx); redirects are not followed, so the token is not sent elsewhere"],
        ),
        _ => Error::local(
            Code::Network,
            &["no answer from Graph: the connection failed, was refused, redirected, or blocked by CORS"],
        ),
    };
    Some(e.with_attempts(attempts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::validate::{Call, CallInput};

    fn call() -> Call {
        let o = CallInput {
            workbook: Some("/me/drive/items/01ABC"),
            base_url: Some("http://127.0.0.1:9/v1.0"),
            timeout_ms: None,
            max_retries: None,
            max_retry_after_ms: None,
            client_request_id: None,
            allowed_hosts: &[],
        };
        Call::new(&o, || "crid".into()).unwrap()
    }

    #[test]
    fn refresh_headers_first_attempt_and_retries() {
        let r = Request::refresh_session(&call(), "cluster=A&session=B");
        assert_eq!(
            r.url,
            "http://127.0.0.1:9/v1.0/me/drive/items/01ABC/workbook/refreshSession"
        );
        assert!(r.method == Method::Post && r.body.is_none());
        let h = r.headers("tok", "crid", 1);
        assert_eq!(
            h,
            vec![
                ("authorization", "Bearer tok".to_string()),
                ("client-request-id", "crid".to_string()),
                ("workbook-session-id", "cluster=A&session=B".to_string()),
            ]
        );
        let h = r.headers("tok", "crid", 3);
        assert!(h.contains(&("retry-attempt", "2".to_string())));
        assert!(h.contains(&("client-request-id", "crid".to_string())));
    }

    #[test]
    fn create_session_posts_its_body_with_a_json_content_type() {
        let r = Request::create_session(&call(), true, true);
        assert_eq!(r.method.as_str(), "POST");
        assert_eq!(r.body.as_deref(), Some("{\"persistChanges\":true}"));
        let h = r.headers("t\"ok", "c", 2);
        assert!(h.contains(&("authorization", "Bearer t\"ok".to_string())));
        assert!(h.contains(&("content-type", "application/json".to_string())));
        assert!(h.contains(&("prefer", "respond-async".to_string())));
        assert!(h.contains(&("retry-attempt", "1".to_string())));
        let g = Request::get("http://x/op".into());
        assert_eq!(g.method.as_str(), "GET");
        assert!(g.body.is_none());
        assert!(!g.headers("t", "c", 1).iter().any(|(n, _)| *n == "content-type"));
    }

    #[test]
    fn create_session_body_and_prefer() {
        let r = Request::create_session(&call(), false, true);
        assert_eq!(r.body.as_deref(), Some("{\"persistChanges\":false}"));
        let h = r.headers("t", "c", 1);
        assert!(h.contains(&("prefer", "respond-async".to_string())));
        assert!(h.contains(&("content-type", "application/json".to_string())));
        assert!(!h.iter().any(|(k, _)| *k == "workbook-session-id"));
        let r = Request::close_session(&call(), "s");
        assert!(r.url.ends_with("/workbook/closeSession"));
    }

    #[test]
    fn scrub_removes_the_token_from_every_server_string_and_a_cut_tail() {
        let token = "eyJ0eXAi.SECRET.sig";
        let mut a = Answer {
            status: 500,
            request_id: Some(["rid-", token].concat()),
            retry_after: None,
            location: Some(["https://x/?t=", token].concat()),
            body: ["{\"error\":{\"message\":\"", token, "\"}}"].concat(),
        };
        a.scrub(token, false);
        for s in [a.request_id.as_deref(), a.location.as_deref(), Some(a.body.as_str())] {
            let s = s.unwrap();
            assert!(!s.contains(token) && s.contains("[redacted]"), "{s}");
        }
        let mut cut = Answer {
            body: ["{\"error\":{\"message\":\"", &token[..9]].concat(),
            ..Answer::default()
        };
        cut.scrub(token, true);
        assert_eq!(cut.body, "{\"error\":{\"message\":\"");
        let mut whole = Answer {
            body: "{}".into(),
            ..Answer::default()
        };
        whole.scrub(token, false);
        assert_eq!(whole.body, "{}");
    }

    #[test]
    fn final_errors_follow_the_answer() {
        let ok = Answer {
            status: 204,
            ..Answer::default()
        };
        assert!(final_error(Some(&ok), Answered::Network, 1, 0).is_none());
        let throttled = Answer {
            status: 429,
            retry_after: Some("9".into()),
            ..Answer::default()
        };
        let e = final_error(Some(&throttled), Answered::Network, 4, 0).unwrap();
        assert_eq!(
            (e.code().as_str(), e.retry_after_ms(), e.attempts()),
            ("tooManyRequests", Some(9000), 4)
        );
        let e = final_error(None, Answered::Timeout, 2, 0).unwrap();
        assert_eq!(*e.code(), Code::Timeout);
        for no in [Answered::Network, Answered::Redirect] {
            assert_eq!(*final_error(None, no, 1, 0).unwrap().code(), Code::Network);
        }
        let e = final_error(None, Answered::Redirect, 1, 0).unwrap();
        assert!(e.message().contains("redirected"), "{}", e.message());
    }
}
