//! `POST {baseUrl}/$batch`: many refreshSession calls in one request, at
//! most 20 per batch (Graph's limit). Request ids are the items' indexes, so
//! answers map back to items whatever order Graph returns them in.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{from_graph_error, Code, Error};
use super::json::{self, write_string, Value};
use super::text;

/// Graph's limit of requests per `$batch`.
pub const MAX_BATCH: usize = 20;

/// One refresh inside a batch.
#[derive(Clone, Debug)]
pub struct BatchItem<'a> {
    /// The item's index in the caller's list (its batch request id).
    pub index: usize,
    /// The percent-encoded item path.
    pub workbook: &'a str,
    /// The `workbook-session-id`.
    pub session_id: &'a str,
}

/// One answer inside a batch response.
#[derive(Clone, Debug)]
pub struct ItemAnswer {
    /// The item's index.
    pub index: usize,
    /// Its status.
    pub status: u16,
    /// Its `Retry-After`, raw.
    pub retry_after: Option<String>,
    /// Its `request-id`, when given.
    pub request_id: Option<String>,
    /// Its JSON body, when any.
    pub body: Option<Value>,
}

impl ItemAnswer {
    /// The Graph error an unsuccessful answer stands for.
    pub fn error(&self) -> Error {
        let mut e = match self.body.as_ref().and_then(|b| b.get("error")) {
            Some(err @ Value::Object(_)) => from_graph_error(err),
            _ => Error::local(Code::Graph(super::error::status_code_name(self.status).into()), &[]),
        };
        let mut prefix = String::from("Graph answered ");
        text::push_decimal(&mut prefix, u64::from(self.status));
        prefix.push_str(" inside $batch: ");
        e.headline(&prefix);
        e.status = self.status;
        if self.request_id.is_some() {
            e.request_id = self.request_id.clone();
        }
        e
    }
}

/// The JSON body of a batch of refreshes.
pub fn batch_body(items: &[BatchItem<'_>]) -> String {
    let mut out = String::with_capacity(64 + items.len() * 200);
    out.push_str("{\"requests\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"id\":\"");
        text::push_decimal(&mut out, item.index as u64);
        out.push_str("\",\"method\":\"POST\",\"url\":");
        let mut url = String::with_capacity(item.workbook.len() + 24);
        url.push_str(item.workbook);
        url.push_str("/workbook/refreshSession");
        write_string(&mut out, &url);
        out.push_str(",\"headers\":{\"workbook-session-id\":");
        write_string(&mut out, item.session_id);
        out.push_str("}}");
    }
    out.push_str("]}");
    out
}

/// Reads `{"responses":[{"id","status","headers"?,"body"?}]}`. Answers with
/// ids that are not numbers are skipped; the caller treats items without an
/// answer as `invalidResponse`.
pub fn parse_batch(body: &str) -> Result<Vec<ItemAnswer>, Error> {
    let invalid = || Error::local(Code::InvalidResponse, &["Graph's $batch response is not {\"responses\":[...]}"]);
    let v = json::parse(body).ok_or_else(invalid)?;
    let responses = v.get("responses").and_then(Value::as_array).ok_or_else(invalid)?;
    let mut out = Vec::with_capacity(responses.len());
    for r in responses {
        let Some(index) = r.get("id").and_then(Value::as_str).and_then(text::parse_u64) else { continue };
        let Some(status) = r.get("status").and_then(Value::as_u64).filter(|s| (100..600).contains(s)) else { continue };
        let header = |name: &str| {
            r.get("headers")
                .and_then(|h| h.get_ignore_case(name))
                .and_then(Value::as_str)
                .map(String::from)
        };
        out.push(ItemAnswer {
            index: index as usize,
            status: status as u16,
            retry_after: header("retry-after"),
            request_id: header("request-id"),
            body: r.get("body").cloned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_lists_each_refresh_with_its_session_header() {
        let items = [
            BatchItem { index: 0, workbook: "/me/drive/items/A", session_id: "cluster=1&session=\"x\"" },
            BatchItem { index: 7, workbook: "/me/drive/root:/My%20Book.xlsx:", session_id: "s2" },
        ];
        let body = batch_body(&items);
        let v = json::parse(&body).expect("valid JSON");
        let reqs = v.get("requests").unwrap().as_array().unwrap();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].get("id").unwrap().as_str(), Some("0"));
        assert_eq!(reqs[0].get("method").unwrap().as_str(), Some("POST"));
        assert_eq!(reqs[0].get("url").unwrap().as_str(), Some("/me/drive/items/A/workbook/refreshSession"));
        assert_eq!(
            reqs[0].get("headers").unwrap().get("workbook-session-id").unwrap().as_str(),
            Some("cluster=1&session=\"x\"")
        );
        assert_eq!(reqs[1].get("id").unwrap().as_str(), Some("7"));
    }

    #[test]
    fn responses_map_back_by_id_with_their_headers_and_errors() {
        let body = r#"{"responses":[
            {"id":"2","status":429,"headers":{"Retry-After":"3","request-id":"r2"},"body":{"error":{"code":"tooManyRequests","innerError":{"code":"activityLimitReached"}}}},
            {"id":"0","status":204,"headers":{}},
            {"id":"1","status":404,"body":{"error":{"code":"itemNotFound","innerError":{"code":"invalidSessionReCreatable"}}}},
            {"id":"x","status":204},
            {"id":"3","status":"204"}
        ]}"#;
        let answers = parse_batch(body).unwrap();
        assert_eq!(answers.len(), 3);
        let throttled = answers.iter().find(|a| a.index == 2).unwrap();
        assert_eq!(throttled.status, 429);
        assert_eq!(throttled.retry_after.as_deref(), Some("3"));
        let e = throttled.error();
        assert_eq!(e.code.as_str(), "tooManyRequests");
        assert_eq!(e.inner_code.as_deref(), Some("activityLimitReached"));
        assert_eq!(e.request_id.as_deref(), Some("r2"));
        let gone = answers.iter().find(|a| a.index == 1).unwrap().error();
        assert!(gone.recreatable());
        assert_eq!(gone.status, 404);
    }

    #[test]
    fn malformed_batch_responses_are_invalid() {
        for bad in ["", "{}", r#"{"responses":{}}"#, "<html>", r#"{"responses":["#] {
            assert_eq!(parse_batch(bad).unwrap_err().code, Code::InvalidResponse);
        }
        let e = ItemAnswer { index: 0, status: 503, retry_after: None, request_id: None, body: None }.error();
        assert_eq!(e.code.as_str(), "serviceUnavailable");
    }
}
