//! refreshSessions: refreshes sent through `$batch`, 20 per request, chunks
//! in sequence. Items answered 429/503/504 inside a batch are sent again
//! (alone with the other throttled items of their chunk) after the longest
//! `Retry-After` among them, within `maxRetries`, as `retry::decide` says.

#[allow(unused_imports)]
use crate::prelude::*;

use super::abort::sleep;
use super::exchange::{aborted, execute, with_call};
use super::sys::{now_ms, random, AbortSignal};
use crate::protocol::batch::{batch_body, parse_batch, BatchItem, MAX_BATCH};
use crate::protocol::error::{Code, Error};
use crate::protocol::request::Request;
use crate::protocol::retry::{decide, Decision, Outcome};
use crate::protocol::validate::Call;

/// One item's outcome.
pub struct ItemResult {
    pub status: u16,
    pub request_id: Option<String>,
    pub attempts: u32,
    pub elapsed_ms: f64,
}

/// Refreshes `items` (encoded workbook path, session id); one entry per
/// item, in order. Items that failed validation come in as `Err` and are
/// not sent.
pub async fn refresh_sessions(
    call: &Call,
    items: Vec<Result<(String, String), Error>>,
    token: &str,
    signal: Option<&AbortSignal>,
    started: f64,
) -> Vec<Result<ItemResult, Error>> {
    let mut out: Vec<Option<Result<ItemResult, Error>>> = Vec::with_capacity(items.len());
    let mut valid: Vec<usize> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Ok(_) => {
                out.push(None);
                valid.push(i);
            }
            Err(e) => out.push(Some(Err(e.clone()))),
        }
    }
    let mut attempts = vec![0u32; items.len()];
    for chunk in valid.chunks(MAX_BATCH) {
        let mut pending: Vec<usize> = chunk.to_vec();
        while !pending.is_empty() {
            let batch: Vec<BatchItem<'_>> = pending
                .iter()
                .filter_map(|&i| match items.get(i) {
                    Some(Ok((workbook, session_id))) => Some(BatchItem { index: i, workbook, session_id }),
                    _ => None,
                })
                .collect();
            for &i in &pending {
                if let Some(a) = attempts.get_mut(i) {
                    *a += 1;
                }
            }
            let fail_all = |out: &mut Vec<Option<Result<ItemResult, Error>>>, pending: &[usize], e: &Error| {
                for &i in pending {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = Some(Err(e.clone()));
                    }
                }
            };
            let answers = match execute(call, &Request::batch(call, batch_body(&batch)), token, signal).await {
                Ok(x) => parse_batch(&x.answer.body).map_err(|e| with_call(e, call, token)),
                Err(e) => Err(e),
            };
            let answers = match answers {
                Ok(a) => a,
                Err(e) => {
                    fail_all(&mut out, &pending, &e);
                    break;
                }
            };
            let mut again = Vec::new();
            let mut wait = 0u64;
            for &i in &pending {
                let tries = attempts.get(i).copied().unwrap_or(1);
                let result = match answers.iter().find(|a| a.index == i) {
                    None => Err(with_call(
                        Error::local(Code::InvalidResponse, &["Graph's $batch response has no answer for this item"]),
                        call,
                        token,
                    )),
                    Some(a) if (200..300).contains(&a.status) => Ok(ItemResult {
                        status: a.status,
                        request_id: a.request_id.clone(),
                        attempts: tries,
                        elapsed_ms: now_ms() - started,
                    }),
                    Some(a) => {
                        let outcome = Outcome::Answer { status: a.status, retry_after: a.retry_after.as_deref() };
                        match decide(tries, call.max_retries, outcome, now_ms() as u64, random()) {
                            Decision::Retry { delay_ms } => {
                                wait = wait.max(delay_ms);
                                again.push(i);
                                continue;
                            }
                            Decision::Stop => {
                                let mut e = a.error();
                                e.attempts = tries;
                                Err(with_call(e, call, token))
                            }
                        }
                    }
                };
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(result);
                }
            }
            if !again.is_empty() && sleep(wait, signal).await.is_err() {
                fail_all(&mut out, &again, &with_call(aborted(0), call, token));
                again.clear();
            }
            pending = again;
        }
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::local(Code::InvalidResponse, &["no answer"]))))
        .collect()
}
