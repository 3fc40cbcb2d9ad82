//! refreshSessions: drives `protocol::batch::BatchRounds` (which items go in
//! which `$batch`, which to resend and how long to wait); this file sends,
//! sleeps and reports.

#[allow(unused_imports)]
use crate::prelude::*;

use super::abort::{aborted, caller_aborted, sleep};
use super::exchange::{execute, with_call, Judging};
use super::sys::{now_ms, random, AbortSignal};
use crate::protocol::batch::{BatchRounds, BatchStep, ItemDone};
use crate::protocol::error::{scrub, Code, Error};
use crate::protocol::policy::Kind;
use crate::protocol::request::Request;
use crate::protocol::validate::Call;

/// Refreshes `items` (encoded workbook path, session id); one entry per
/// item, in order. Items that failed validation come in as `Err` and are
/// not sent.
pub async fn refresh_sessions(
    call: &Call,
    items: Vec<Result<(String, String), Error>>,
    token: &str,
    signal: Option<&AbortSignal>,
    started: f64,
) -> Vec<Result<ItemDone, Error>> {
    let mut rounds = BatchRounds::new(items, call.limits());
    loop {
        match rounds.poll() {
            // Aborted: no further $batch leaves; every remaining item ends
            // `aborted`, chunk by chunk, without being sent.
            BatchStep::Send(_) if caller_aborted(signal) => {
                rounds.handle_aborted(with_call(aborted(0), call, token));
            }
            // The $batch request itself is a safe read as far as resending
            // goes (its items are refreshes); each item is judged on its own.
            BatchStep::Send(body) => {
                let judging = Judging::plain(Kind::Refresh);
                match execute(call, &Request::batch(call, body), judging, token, signal, None).await {
                    Ok(x) => rounds.handle_answer(&x.answer.body, now_ms() as u64, random(), now_ms() - started),
                    Err(f) if *f.error.code() == Code::Aborted => rounds.handle_aborted(f.error),
                    Err(f) => rounds.handle_error(f.error),
                }
            }
            BatchStep::Wait(ms) => {
                if sleep(ms, signal).await.is_err() {
                    rounds.handle_aborted(with_call(aborted(0), call, token));
                }
            }
            BatchStep::Done(results) => {
                return results
                    .into_iter()
                    .map(|r| match r {
                        // An item's request-id comes from the $batch body:
                        // scrubbed like every server-supplied string.
                        Ok(mut done) => {
                            if let Some(id) = done.request_id.as_mut() {
                                scrub(id, token, true);
                            }
                            Ok(done)
                        }
                        Err(e) => Err(with_call(e, call, token)),
                    })
                    .collect();
            }
        }
    }
}
