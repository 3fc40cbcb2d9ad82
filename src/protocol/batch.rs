//! `POST {baseUrl}/$batch`: many refreshSession calls in one request, at
//! most 20 per batch (Graph's limit), as a machine ([`BatchRounds`]). Request ids are the items' indexes, so
//! answers map back to items whatever order Graph returns them in.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{from_graph_error, Code, Codes, Error};
use super::json::{self, write_string, Value};
use super::policy::{judge, Answered, Attempt, Kind, Verdict};
use super::retry::{parse_retry_after, Limits};
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
        let e = e.with_status(self.status);
        match self.request_id.as_deref() {
            Some(id) => e.with_request_id(Some(id)),
            None => e,
        }
    }
}

/// The JSON body of a batch of refreshes. Each sub-request is a POST, so
/// it carries `"body": {}` and a `Content-Type` header: Graph fails the
/// whole batch with 400 ("does not contain Content-Type header or body")
/// otherwise (json-batching.md).
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
        out.push_str(",\"body\":{},\"headers\":{\"Content-Type\":\"application/json\",\"workbook-session-id\":");
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
    let invalid = || {
        Error::local(
            Code::InvalidResponse,
            &["Graph's $batch response is not {\"responses\":[...]}"],
        )
    };
    let v = json::parse(body).ok_or_else(invalid)?;
    let responses = v.get("responses").and_then(Value::as_array).ok_or_else(invalid)?;
    let mut out = Vec::with_capacity(responses.len());
    for r in responses {
        // An id past usize (a `"4294967296"` on wasm32) names no item: it
        // is skipped, never truncated into another item's index.
        let Some(index) = r
            .get("id")
            .and_then(Value::as_str)
            .and_then(text::parse_u64)
            .and_then(|n| usize::try_from(n).ok())
        else {
            continue;
        };
        let Some(status) = r
            .get("status")
            .and_then(Value::as_u64)
            .filter(|s| (100..600).contains(s))
        else {
            continue;
        };
        let header = |name: &str| {
            r.get("headers")
                .and_then(|h| h.get_ignore_case(name))
                .and_then(Value::as_str)
                .map(String::from)
        };
        out.push(ItemAnswer {
            index,
            status: status as u16,
            retry_after: header("retry-after"),
            request_id: header("request-id"),
            body: r.get("body").cloned(),
        });
    }
    Ok(out)
}

/// One item's success.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemDone {
    /// Its status (204).
    pub status: u16,
    /// Its `request-id`.
    pub request_id: Option<String>,
    /// Batches it was sent in.
    pub attempts: u32,
    /// Wall time from the call's start to its answer.
    pub elapsed_ms: f64,
}

/// What the `$batch` rounds ask the shell to do next.
#[derive(Debug)]
pub enum BatchStep {
    /// Send this `$batch` body (with the call's retries) and report the
    /// response body with [`BatchRounds::handle_answer`], or the error with
    /// [`BatchRounds::handle_error`].
    Send(String),
    /// Sleep this long before resending the throttled items, then poll
    /// again; a caller's abort is reported with [`BatchRounds::handle_aborted`].
    Wait(u64),
    /// Every item has its outcome, in the caller's order.
    Done(Vec<Result<ItemDone, Error>>),
}

/// refreshSessions as a machine: the valid items in chunks of
/// [`MAX_BATCH`], sent in sequence; inside a chunk, items answered with a
/// status [`judge`] resends are sent again (alone with the other throttled
/// items of their chunk) after the longest delay among them, within
/// the call's [`Limits`]. Each throttled item waits its own cooldown: the
/// round goes out once the longest of them has passed, so none is resent
/// early; an item whose cooldown is longer than `maxRetryAfterMs` ends
/// with its error.
#[derive(Debug)]
pub struct BatchRounds {
    items: Vec<Option<(String, String)>>,
    out: Vec<Option<Result<ItemDone, Error>>>,
    attempts: Vec<u32>,
    /// Valid item indexes not yet sent, by chunk.
    chunks: Vec<Vec<usize>>,
    /// The items of the batch in flight, or waiting to be resent.
    pending: Vec<usize>,
    wait: Option<u64>,
    limits: Limits,
}

impl BatchRounds {
    /// The rounds for `items` (percent-encoded item path, session id); items
    /// that failed validation come in as `Err` and are not sent.
    pub fn new(items: Vec<Result<(String, String), Error>>, limits: Limits) -> BatchRounds {
        let mut valid = Vec::new();
        let mut kept = Vec::with_capacity(items.len());
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Ok(x) => {
                    valid.push(i);
                    kept.push(Some(x));
                    out.push(None);
                }
                Err(e) => {
                    kept.push(None);
                    out.push(Some(Err(e)));
                }
            }
        }
        let mut chunks: Vec<Vec<usize>> = valid.chunks(MAX_BATCH).map(<[usize]>::to_vec).collect();
        chunks.reverse();
        let attempts = vec![0; kept.len()];
        BatchRounds {
            items: kept,
            out,
            attempts,
            chunks,
            pending: Vec::new(),
            wait: None,
            limits,
        }
    }

    /// The next thing to do.
    pub fn poll(&mut self) -> BatchStep {
        if let Some(ms) = self.wait.take() {
            return BatchStep::Wait(ms);
        }
        if self.pending.is_empty() {
            match self.chunks.pop() {
                Some(chunk) => self.pending = chunk,
                None => return BatchStep::Done(self.results()),
            }
        }
        let batch: Vec<BatchItem<'_>> = self
            .pending
            .iter()
            .filter_map(|&i| match self.items.get(i) {
                Some(Some((workbook, session_id))) => Some(BatchItem {
                    index: i,
                    workbook,
                    session_id,
                }),
                _ => None,
            })
            .collect();
        let body = batch_body(&batch);
        for &i in &self.pending {
            if let Some(a) = self.attempts.get_mut(i) {
                *a += 1;
            }
        }
        BatchStep::Send(body)
    }

    /// The `$batch` request succeeded with this body; `now_ms` and `random`
    /// feed [`judge`], `elapsed_ms` is the call's wall time so far.
    pub fn handle_answer(&mut self, body: &str, now_ms: u64, random: f64, elapsed_ms: f64) {
        let answers = match parse_batch(body) {
            Ok(a) => a,
            Err(e) => return self.handle_error(e),
        };
        let mut again = Vec::new();
        let mut wait = 0u64;
        for i in core::mem::take(&mut self.pending) {
            let tries = self.attempts.get(i).copied().unwrap_or(1);
            let result = match answers.iter().find(|a| a.index == i) {
                None => Err(Error::local(
                    Code::InvalidResponse,
                    &["Graph's $batch response has no answer for this item"],
                )),
                Some(a) if (200..300).contains(&a.status) => Ok(ItemDone {
                    status: a.status,
                    request_id: a.request_id.clone(),
                    attempts: tries,
                    elapsed_ms,
                }),
                Some(a) => {
                    let e = a.error();
                    let codes = Codes::of(&e);
                    let cooldown = a.retry_after.as_deref().and_then(|v| parse_retry_after(v, now_ms));
                    // A refreshSession on a session this call cannot recreate.
                    let verdict = judge(&Attempt {
                        kind: Kind::BatchItem,
                        answered: Answered::Status {
                            status: a.status,
                            top: codes.top,
                            second: codes.second,
                        },
                        retry_after_ms: cooldown,
                        sessionful: true,
                        can_recreate: false,
                        resends: tries.saturating_sub(1),
                        limits: self.limits,
                        renewable: false,
                        random,
                    });
                    match verdict {
                        Verdict::Resend { after_ms } => {
                            wait = wait.max(after_ms);
                            again.push(i);
                            continue;
                        }
                        _ => Err(e
                            .with_attempts(tries)
                            .with_retry_after_ms(cooldown)
                            .with_session_recreatable(verdict.recreatable())),
                    }
                }
            };
            self.settle(i, result);
        }
        if !again.is_empty() {
            self.wait = Some(wait);
        }
        self.pending = again;
    }

    /// The `$batch` request failed for good: every item in it fails so.
    pub fn handle_error(&mut self, e: Error) {
        for i in core::mem::take(&mut self.pending) {
            self.settle(i, Err(e.clone()));
        }
        self.wait = None;
    }

    /// The caller aborted during a wait: the items waiting fail with `e`.
    pub fn handle_aborted(&mut self, e: Error) {
        self.handle_error(e);
    }

    fn settle(&mut self, i: usize, result: Result<ItemDone, Error>) {
        if let Some(slot) = self.out.get_mut(i) {
            *slot = Some(result);
        }
    }

    fn results(&mut self) -> Vec<Result<ItemDone, Error>> {
        core::mem::take(&mut self.out)
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::local(Code::InvalidResponse, &["no answer"]))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_lists_each_refresh_with_its_session_header() {
        let items = [
            BatchItem {
                index: 0,
                workbook: "/me/drive/items/A",
                session_id: "cluster=1&session=\"x\"",
            },
            BatchItem {
                index: 7,
                workbook: "/me/drive/root:/My%20Book.xlsx:",
                session_id: "s2",
            },
        ];
        let body = batch_body(&items);
        let v = json::parse(&body).expect("valid JSON");
        let reqs = v.get("requests").unwrap().as_array().unwrap();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].get("id").unwrap().as_str(), Some("0"));
        assert_eq!(reqs[0].get("method").unwrap().as_str(), Some("POST"));
        assert_eq!(
            reqs[0].get("url").unwrap().as_str(),
            Some("/me/drive/items/A/workbook/refreshSession")
        );
        assert_eq!(
            reqs[0]
                .get("headers")
                .unwrap()
                .get("workbook-session-id")
                .unwrap()
                .as_str(),
            Some("cluster=1&session=\"x\"")
        );
        assert_eq!(reqs[1].get("id").unwrap().as_str(), Some("7"));
        for r in reqs {
            // A POST sub-request without body or Content-Type fails the whole batch on Graph.
            assert!(
                matches!(r.get("body"), Some(Value::Object(o)) if o.is_empty()),
                "{body}"
            );
            assert_eq!(
                r.get("headers").unwrap().get("Content-Type").unwrap().as_str(),
                Some("application/json")
            );
        }
    }

    #[test]
    fn responses_map_back_by_id_with_their_headers_and_errors() {
        let body = r#"{"responses":[
            {"id":"2","status":429,"headers":{"Retry-After":"3","request-id":"r2"},"body":{"error":{"code":"tooManyRequests","innerError":{"code":"tooManyRequestsUncategorized","innerError":{"code":"ActivityLimitReached"}}}}},
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
        assert_eq!(e.code().as_str(), "tooManyRequests");
        assert_eq!(e.inner_code(), Some("tooManyRequestsUncategorized"));
        assert_eq!(e.request_id(), Some("r2"));
        let gone = answers.iter().find(|a| a.index == 1).unwrap().error();
        assert!(gone.recreatable());
        assert_eq!(gone.status(), 404);
    }

    /// Issue 22, point 6: an id past the item range is no item's answer,
    /// never truncated (`"4294967296"` was item 0 on wasm32).
    #[test]
    fn answer_ids_past_the_items_are_not_truncated() {
        let body = r#"{"responses":[
            {"id":"4294967296","status":204},
            {"id":"4294967297","status":204},
            {"id":"18446744073709551616","status":204}
        ]}"#;
        let answers = parse_batch(body).unwrap();
        assert!(
            answers.iter().all(|a| a.index > 1),
            "{:?}",
            answers.iter().map(|a| a.index).collect::<Vec<_>>()
        );
    }

    #[test]
    fn malformed_batch_responses_are_invalid() {
        for bad in ["", "{}", r#"{"responses":{}}"#, "<html>", r#"{"responses":["#] {
            assert_eq!(parse_batch(bad).unwrap_err().code(), &Code::InvalidResponse);
        }
        let e = ItemAnswer {
            index: 0,
            status: 503,
            retry_after: None,
            request_id: None,
            body: None,
        }
        .error();
        assert_eq!(e.code().as_str(), "serviceUnavailable");
    }

    fn items(n: usize) -> Vec<Result<(String, String), Error>> {
        (0..n)
            .map(|i| {
                Ok((
                    ["/me/drive/items/", &i.to_string()].concat(),
                    ["s", &i.to_string()].concat(),
                ))
            })
            .collect()
    }

    fn limits(max_retries: u32) -> Limits {
        Limits {
            max_retries,
            max_retry_after_ms: 180_000,
        }
    }

    fn body_ids(body: &str) -> Vec<usize> {
        let v = json::parse(body).unwrap();
        v.get("requests")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .map(|r| r.get("id").and_then(Value::as_str).unwrap().parse().unwrap())
            .collect()
    }

    fn answers(list: &[(usize, u16, Option<&str>)]) -> String {
        let parts: Vec<String> = list
            .iter()
            .map(|(id, status, ra)| match ra {
                Some(ra) => format!(r#"{{"id":"{id}","status":{status},"headers":{{"Retry-After":"{ra}"}}}}"#),
                None => format!(r#"{{"id":"{id}","status":{status}}}"#),
            })
            .collect();
        ["{\"responses\":[", &parts.join(","), "]}"].concat()
    }

    #[test]
    fn rounds_send_chunks_of_twenty_in_order() {
        let mut r = BatchRounds::new(items(45), limits(3));
        let mut sizes = Vec::new();
        loop {
            match r.poll() {
                BatchStep::Send(body) => {
                    let ids = body_ids(&body);
                    sizes.push(ids.len());
                    let ok: Vec<_> = ids.iter().map(|&i| (i, 204, None)).collect();
                    r.handle_answer(&answers(&ok), 0, 0.5, 1.0);
                }
                BatchStep::Done(out) => {
                    assert!(out.iter().all(|x| matches!(
                        x,
                        Ok(ItemDone {
                            status: 204,
                            attempts: 1,
                            ..
                        })
                    )));
                    assert_eq!(out.len(), 45);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(sizes, [20, 20, 5]);
    }

    #[test]
    fn throttled_items_are_resent_alone_after_the_longest_cooldown() {
        let mut all = items(3);
        all.insert(1, Err(Error::local(Code::InvalidArgument, &["bad"])));
        let mut r = BatchRounds::new(all, limits(3));
        let BatchStep::Send(body) = r.poll() else { panic!() };
        assert_eq!(body_ids(&body), [0, 2, 3], "the invalid item is not sent");
        r.handle_answer(
            &answers(&[(0, 204, None), (2, 429, Some("5")), (3, 503, Some("7"))]),
            0,
            0.5,
            1.0,
        );
        assert!(matches!(r.poll(), BatchStep::Wait(7000)));
        let BatchStep::Send(body) = r.poll() else { panic!() };
        assert_eq!(body_ids(&body), [2, 3]);
        r.handle_answer(&answers(&[(2, 204, None), (3, 404, None)]), 0, 0.5, 2.0);
        let BatchStep::Done(out) = r.poll() else { panic!() };
        assert!(matches!(out[0], Ok(ItemDone { attempts: 1, .. })));
        assert!(matches!(out[1], Err(ref e) if *e.code() == Code::InvalidArgument));
        assert!(matches!(out[2], Ok(ItemDone { attempts: 2, .. })));
        assert!(matches!(out[3], Err(ref e) if e.status() == 404 && e.attempts() == 2));
    }

    #[test]
    fn each_item_follows_the_policy_and_its_own_cooldown() {
        let mut r = BatchRounds::new(items(4), limits(3));
        let BatchStep::Send(_) = r.poll() else { panic!() };
        let body = r#"{"responses":[
            {"id":"0","status":429,"headers":{"Retry-After":"2"},"body":{"error":{"code":"tooManyRequests","innerError":{"code":"tooManyRequestsUncategorized"}}}},
            {"id":"1","status":429,"headers":{"Retry-After":"600"},"body":{"error":{"code":"tooManyRequests","innerError":{"code":"tooManyRequestsUncategorized"}}}},
            {"id":"2","status":503,"headers":{"Retry-After":"1"},"body":{"error":{"code":"conflict","innerError":{"code":"AccessConflict"}}}},
            {"id":"3","status":404,"body":{"error":{"code":"itemNotFound","innerError":{"code":"invalidSessionReCreatable","innerError":{"code":"InvalidOrTimedOutSession"}}}}}
        ]}"#;
        r.handle_answer(body, 0, 0.5, 1.0);
        assert!(
            matches!(r.poll(), BatchStep::Wait(2000)),
            "no sooner than item 0's cooldown"
        );
        let BatchStep::Send(body) = r.poll() else { panic!() };
        assert_eq!(body_ids(&body), [0], "only the item told to resend after its cooldown");
        r.handle_answer(&answers(&[(0, 204, None)]), 0, 0.5, 2.0);
        let BatchStep::Done(out) = r.poll() else { panic!() };
        assert!(matches!(out[0], Ok(ItemDone { attempts: 2, .. })));
        let e = out[1].as_ref().unwrap_err();
        assert_eq!(
            (e.retry_after_ms(), e.attempts()),
            (Some(600_000), 1),
            "a cooldown past maxRetryAfterMs"
        );
        let e = out[2].as_ref().unwrap_err();
        assert_eq!((e.inner_code(), e.attempts()), (Some("AccessConflict"), 1));
        let e = out[3].as_ref().unwrap_err();
        assert!(e.recreatable());
        assert_eq!(
            e.inner_codes(),
            ["invalidSessionReCreatable", "InvalidOrTimedOutSession"]
        );
    }

    #[test]
    fn a_failed_batch_fails_its_items_and_a_missing_answer_is_invalid() {
        let mut r = BatchRounds::new(items(2), limits(0));
        let BatchStep::Send(_) = r.poll() else { panic!() };
        r.handle_answer(&answers(&[(0, 204, None)]), 0, 0.5, 1.0);
        let BatchStep::Done(out) = r.poll() else { panic!() };
        assert!(matches!(out[1], Err(ref e) if *e.code() == Code::InvalidResponse));
        let mut r = BatchRounds::new(items(2), limits(0));
        let BatchStep::Send(_) = r.poll() else { panic!() };
        r.handle_error(Error::local(Code::Network, &[]));
        let BatchStep::Done(out) = r.poll() else { panic!() };
        assert!(out
            .iter()
            .all(|x| matches!(x, Err(ref e) if *e.code() == Code::Network)));
    }
}
