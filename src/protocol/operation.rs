//! createSession as a machine ([`CreateFlow`]) and the answers it reads:
//! `201 {"id","persistChanges"}`, or `202` with a `Location` to poll until
//! the operation `succeeded` (or `Completed`, any case) with a
//! `resourceLocation`, or `failed` with an `error`.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{from_graph_error, Code, Error};
use super::json::{self, Value};
use super::policy::{judge, Answered, Attempt, Kind, Verdict, POLL_FLOOR_MS};
use super::request::{Answer, Request};
use super::retry::parse_retry_after;
use super::validate::Call;

/// First wait between two polls of an operation.
pub const FIRST_POLL_MS: u64 = 1_000;
/// `pollIntervalMs` when none is given: the doc's "around 30 seconds"
/// (workbook-best-practice.md).
pub const DEFAULT_POLL_INTERVAL_MS: u32 = 30_000;
/// The smallest `pollIntervalMs` accepted: the poll floor.
pub const MIN_POLL_INTERVAL_MS: u32 = 1_000;
/// Kept for the fuzz target: the longest wait without `Retry-After`.
pub const MAX_POLL_MS: u64 = MAX_POLL_RETRY_AFTER_MS;
/// Longest wait between two polls when the operation's `Retry-After` asks
/// for more (workbook-best-practice.md: never more than 4 minutes apart).
pub const MAX_POLL_RETRY_AFTER_MS: u64 = 240_000;
/// `createTimeoutMs` when none is given: four minutes.
pub const DEFAULT_CREATE_TIMEOUT_MS: u32 = 240_000;
/// The largest `createTimeoutMs` accepted: thirty minutes.
pub const MAX_CREATE_TIMEOUT_MS: u32 = 1_800_000;

/// A session as Graph describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionInfo {
    /// The `workbook-session-id`.
    pub id: String,
    /// Whether changes are persisted.
    pub persist_changes: bool,
}

/// Where a long-running createSession stands.
#[derive(Clone, Debug)]
pub enum OperationStatus {
    /// `notStarted` or `running`: poll again.
    Running,
    /// Done: GET this URL for the session.
    Succeeded {
        /// `resourceLocation`.
        resource_location: String,
    },
    /// Graph gave up; the operation's `error`.
    Failed(Error),
}

fn invalid(why: &str) -> Error {
    Error::local(Code::InvalidResponse, &[why])
}

/// Reads `{"id","persistChanges"}` (createSession's 201 and
/// `sessionInfoResource`); `requested` fills a missing `persistChanges`.
pub fn parse_session_info(body: &str, requested: bool) -> Result<SessionInfo, Error> {
    let v = json::parse(body).ok_or_else(|| invalid("Graph's session description is not JSON"))?;
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("Graph's session description has no id"))?;
    // It goes into a header of every later request: checked as one here,
    // where Graph hands it over (a CR/LF would split the header).
    if super::validate::check_session_id(id).is_err() {
        return Err(invalid("Graph's session id is not a valid header value"));
    }
    let persist_changes = v.get("persistChanges").and_then(Value::as_bool).unwrap_or(requested);
    Ok(SessionInfo {
        id: id.into(),
        persist_changes,
    })
}

/// Reads a `workbookOperation`.
pub fn parse_operation(body: &str) -> Result<OperationStatus, Error> {
    let v = json::parse(body).ok_or_else(|| invalid("Graph's operation status is not JSON"))?;
    let status = v
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("Graph's operation status has no status"))?;
    if status.eq_ignore_ascii_case("succeeded") || status.eq_ignore_ascii_case("completed") {
        let resource_location = v
            .get("resourceLocation")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("Graph's operation succeeded without a resourceLocation"))?;
        return Ok(OperationStatus::Succeeded {
            resource_location: resource_location.into(),
        });
    }
    if status.eq_ignore_ascii_case("failed") {
        let mut e = match v.get("error") {
            Some(err @ Value::Object(_)) => from_graph_error(err),
            _ => Error::local(Code::Graph("operationFailed".into()), &[]),
        };
        e.headline("the createSession operation failed: ");
        return Ok(OperationStatus::Failed(e));
    }
    if status.eq_ignore_ascii_case("running") || status.eq_ignore_ascii_case("notStarted") {
        return Ok(OperationStatus::Running);
    }
    Err(invalid(
        "Graph's operation status is not one of notStarted, running, succeeded, failed",
    ))
}

/// Wait before poll number `poll` (1-based): the operation's `Retry-After`
/// when readable, within [`POLL_FLOOR_MS`] and 4 minutes
/// (workbook-best-practice.md: "never more than 4 minutes apart"); else
/// the doc's cadence ("around 30 seconds"), reached from 1 s growing by
/// half each poll, so that a creation done in seconds is not waited on for
/// 30 s: at most `interval_ms` (`pollIntervalMs`), never under the floor.
/// `createTimeoutMs` bounds the whole call (the shell's deadline).
pub fn poll_delay_ms(poll: u32, retry_after: Option<&str>, now_ms: u64, interval_ms: u64) -> u64 {
    if let Some(ms) = retry_after.and_then(|v| parse_retry_after(v, now_ms)) {
        return ms.clamp(POLL_FLOOR_MS, MAX_POLL_RETRY_AFTER_MS);
    }
    let mut d = FIRST_POLL_MS;
    for _ in 1..poll.min(20) {
        d = d + d / 2;
    }
    d.min(interval_ms).clamp(POLL_FLOOR_MS, MAX_POLL_RETRY_AFTER_MS)
}

/// createSession's own options.
#[derive(Clone, Copy, Debug)]
pub struct CreateParams {
    /// `persistChanges` of the new session.
    pub persist_changes: bool,
    /// Send `Prefer: respond-async`.
    pub prefer_async: bool,
    /// Deadline of the whole call, polling included.
    pub create_timeout_ms: u32,
    /// The longest wait between two polls without `Retry-After`
    /// (`pollIntervalMs`).
    pub poll_interval_ms: u32,
}

/// What the createSession flow asks the shell to do next.
#[derive(Debug)]
pub enum CreateStep {
    /// Send this request (with the call's retries) and report its answer
    /// with [`CreateFlow::handle_answer`] or its error with
    /// [`CreateFlow::handle_error`].
    Send(Request),
    /// Sleep this long, then poll again.
    Wait(u64),
    /// The flow is over.
    Done(Result<SessionInfo, Error>),
}

#[derive(Debug)]
enum Expecting {
    Created,
    /// An operation's status, from this URL.
    Operation(String),
    Resource,
}

#[derive(Debug)]
enum CreateState {
    Send(Request, Expecting),
    Sent(Expecting),
    /// Sleep, then send this request (a poll of the operation, or
    /// createSession again after its operation failed with a code that
    /// says to resend).
    Wait(u64, Request, Expecting),
    Done(Option<Result<SessionInfo, Error>>),
}

/// createSession as a machine: `POST createSession`; on `201` the session;
/// on `202` the operation at `Location` polled (its `Retry-After`, else a
/// growing backoff, see [`poll_delay_ms`]) until it succeeds, then its
/// `resourceLocation` read; or fails. Every URL Graph hands back goes
/// through the host policy ([`super::url::BaseUrl::follow`]). The
/// whole-call deadline is the shell's timer.
#[derive(Debug)]
pub struct CreateFlow {
    persist_changes: bool,
    prefer_async: bool,
    poll_interval_ms: u64,
    poll: u32,
    /// createSession requests sent again after a failed operation
    /// (against `maxRetries`).
    resends: u32,
    state: CreateState,
}

impl CreateFlow {
    /// The flow for `call`, about to send createSession.
    pub fn new(call: &Call, p: CreateParams) -> CreateFlow {
        let req = Request::create_session(call, p.persist_changes, p.prefer_async);
        CreateFlow {
            persist_changes: p.persist_changes,
            prefer_async: p.prefer_async,
            poll_interval_ms: u64::from(p.poll_interval_ms),
            poll: 0,
            resends: 0,
            state: CreateState::Send(req, Expecting::Created),
        }
    }

    /// The next thing to do.
    pub fn poll(&mut self) -> CreateStep {
        match core::mem::replace(&mut self.state, CreateState::Done(None)) {
            CreateState::Send(req, expecting) => {
                self.state = CreateState::Sent(expecting);
                CreateStep::Send(req)
            }
            CreateState::Wait(ms, req, expecting) => {
                self.state = CreateState::Send(req, expecting);
                CreateStep::Wait(ms)
            }
            CreateState::Sent(expecting) => {
                // Polled again before the answer came: a shell bug, not a panic.
                self.state = CreateState::Sent(expecting);
                CreateStep::Done(Err(invalid("createSession polled while a request was in flight")))
            }
            CreateState::Done(result) => {
                CreateStep::Done(result.unwrap_or_else(|| Err(invalid("createSession is already over"))))
            }
        }
    }

    /// A successful (2xx) answer to the request last sent, after `attempts`
    /// attempts; `now_ms` reads an HTTP-date `Retry-After`; `random` in
    /// [0, 1) jitters a resend's backoff.
    pub fn handle_answer(&mut self, call: &Call, answer: &Answer, attempts: u32, now_ms: u64, random: f64) {
        let expecting = match core::mem::replace(&mut self.state, CreateState::Done(None)) {
            CreateState::Sent(e) => e,
            _ => return self.finish(Err(invalid("createSession got an answer it did not ask for"))),
        };
        self.state = match expecting {
            Expecting::Created => match answer.status {
                200 | 201 => return self.finish(parse_session_info(&answer.body, self.persist_changes)),
                // Accepted: poll the operation (even when respond-async was not asked).
                202 => {
                    let Some(location) = answer.location.as_deref() else {
                        return self.finish(Err(invalid("createSession answered 202 without a Location")));
                    };
                    match call.base.follow(location, &call.allowed_hosts) {
                        Ok(url) => self.next_poll(url, answer.retry_after.as_deref(), now_ms),
                        Err(e) => return self.finish(Err(e)),
                    }
                }
                _ => {
                    return self.finish(Err(invalid(
                        "createSession answered a success status other than 201 or 202",
                    )))
                }
            },
            Expecting::Operation(url) => match parse_operation(&answer.body) {
                Err(e) => return self.finish(Err(e)),
                Ok(OperationStatus::Running) => self.next_poll(url, answer.retry_after.as_deref(), now_ms),
                Ok(OperationStatus::Failed(e)) => {
                    let retry_after_ms = answer.retry_after.as_deref().and_then(|v| parse_retry_after(v, now_ms));
                    // The one decision, on the operation's codes: the
                    // createSession that failed is sent again when they
                    // say so (within `maxRetries` and `maxRetryAfterMs`).
                    let verdict = judge(&Attempt {
                        kind: Kind::CreateSession,
                        answered: Answered::OperationFailed {
                            top: Some(e.code().as_str()),
                            second: e.inner_code(),
                        },
                        retry_after_ms,
                        sessionful: false,
                        can_recreate: false,
                        resends: self.resends,
                        limits: call.limits(),
                        renewable: false,
                        random,
                    });
                    if let Verdict::Resend { after_ms } = verdict {
                        self.resends += 1;
                        let again = Request::create_session(call, self.persist_changes, self.prefer_async);
                        self.state = CreateState::Wait(after_ms, again, Expecting::Created);
                        return;
                    }
                    let e = e.with_attempts(attempts).with_retry_after_ms(retry_after_ms);
                    let e = match (e.request_id().is_none(), answer.request_id.as_deref()) {
                        (true, Some(id)) => e.with_request_id(Some(id)),
                        _ => e,
                    };
                    return self.finish(Err(e));
                }
                Ok(OperationStatus::Succeeded { resource_location }) => {
                    match call.base.follow(&resource_location, &call.allowed_hosts) {
                        Ok(url) => CreateState::Send(Request::get(url), Expecting::Resource),
                        Err(e) => return self.finish(Err(e)),
                    }
                }
            },
            Expecting::Resource => return self.finish(parse_session_info(&answer.body, self.persist_changes)),
        };
    }

    /// The request last sent failed for good (its retries spent, or a
    /// non-success answer): the flow ends with that error.
    pub fn handle_error(&mut self, e: Error) {
        self.finish(Err(e));
    }

    fn next_poll(&mut self, url: String, retry_after: Option<&str>, now_ms: u64) -> CreateState {
        self.poll = self.poll.saturating_add(1);
        CreateState::Wait(
            poll_delay_ms(self.poll, retry_after, now_ms, self.poll_interval_ms),
            Request::get(url.clone()),
            Expecting::Operation(url),
        )
    }

    fn finish(&mut self, result: Result<SessionInfo, Error>) {
        self.state = CreateState::Done(Some(result));
    }
}

impl CreateFlow {
    /// The kind of the request in flight, for [`super::policy::judge`]:
    /// createSession itself is not idempotent (issue 13, point 9: never
    /// resent after an ambiguous failure, which may have created a session
    /// nobody would close); its polls and the session info are safe reads.
    pub fn kind(&self) -> Kind {
        match self.state {
            CreateState::Sent(Expecting::Created) | CreateState::Send(_, Expecting::Created) => Kind::CreateSession,
            CreateState::Sent(Expecting::Resource) | CreateState::Send(_, Expecting::Resource) => Kind::SessionInfo,
            _ => Kind::OperationPoll,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_info_from_201_and_resource() {
        let s = parse_session_info(
            r#"{"@odata.context":"x","id":"cluster=A&session=B","persistChanges":false}"#,
            true,
        )
        .unwrap();
        assert_eq!(
            s,
            SessionInfo {
                id: "cluster=A&session=B".into(),
                persist_changes: false
            }
        );
        assert!(parse_session_info(r#"{"id":"x"}"#, true).unwrap().persist_changes);
        for bad in [
            "",
            "{}",
            r#"{"id":""}"#,
            r#"{"id":5}"#,
            "<html>",
            r#"{"id":"x""#,
            r#"{"id":"a\r\nx-evil: 1"}"#,
            r#"{"id":"a\u0000b"}"#,
        ] {
            assert_eq!(
                parse_session_info(bad, true).unwrap_err().code(),
                &Code::InvalidResponse,
                "{bad}"
            );
        }
    }

    #[test]
    fn operation_statuses_in_any_case() {
        for running in [
            r#"{"id":"o","status":"running"}"#,
            r#"{"status":"notStarted"}"#,
            r#"{"status":"Running"}"#,
        ] {
            assert!(matches!(parse_operation(running), Ok(OperationStatus::Running)));
        }
        for done in ["succeeded", "Succeeded", "completed", "Completed", "COMPLETED"] {
            let body = [r#"{"status":""#, done, r#"","resourceLocation":"https://graph.microsoft.com/v1.0/me/drive/items/1/workbook/sessionInfoResource(key='k')"}"#].concat();
            match parse_operation(&body) {
                Ok(OperationStatus::Succeeded { resource_location }) => {
                    assert!(resource_location.ends_with("(key='k')"))
                }
                other => panic!("{done}: {other:?}"),
            }
        }
        assert_eq!(
            parse_operation(r#"{"status":"succeeded"}"#).unwrap_err().code(),
            &Code::InvalidResponse
        );
        assert_eq!(
            parse_operation(r#"{"status":"weird"}"#).unwrap_err().code(),
            &Code::InvalidResponse
        );
        assert_eq!(
            parse_operation(r#"{"nostatus":1}"#).unwrap_err().code(),
            &Code::InvalidResponse
        );
        assert_eq!(
            parse_operation("{\"status\":\"runn").unwrap_err().code(),
            &Code::InvalidResponse
        );
    }

    #[test]
    fn failed_operation_carries_graphs_error() {
        let body = r#"{"status":"failed","error":{"code":"internalServerError","message":"boom","innerError":{"code":"sessionCreationFailed"}}}"#;
        match parse_operation(body) {
            Ok(OperationStatus::Failed(e)) => {
                assert_eq!(e.code().as_str(), "internalServerError");
                assert_eq!(e.inner_code(), Some("sessionCreationFailed"));
                assert!(e.message().contains("boom"));
            }
            other => panic!("{other:?}"),
        }
        match parse_operation(r#"{"status":"failed"}"#) {
            Ok(OperationStatus::Failed(e)) => assert_eq!(e.code().as_str(), "operationFailed"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn polling_starts_near_a_second_grows_to_the_interval_and_keeps_the_floor() {
        let delays: Vec<u64> = (1..=12).map(|n| poll_delay_ms(n, None, 0, 30_000)).collect();
        assert_eq!(delays[0], 1000);
        assert!(delays.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*delays.last().unwrap(), 30_000, "the doc's cadence: around 30 s");
        // (poll, Retry-After, pollIntervalMs, wait)
        let table: &[(u32, Option<&str>, u64, u64)] = &[
            (1, Some("3"), 30_000, 3000),
            (1, Some("45"), 30_000, 45_000),
            (1, Some("240"), 30_000, 240_000),
            // Never more than 4 min apart.
            (1, Some("600"), 30_000, MAX_POLL_RETRY_AFTER_MS),
            // Never two polls less than 1 s apart, whatever Retry-After says.
            (1, Some("0"), 30_000, POLL_FLOOR_MS),
            (7, Some("0"), 30_000, POLL_FLOOR_MS),
            (1, Some("Thu, 01 Jan 1970 00:00:00 GMT"), 30_000, POLL_FLOOR_MS),
            (2, Some("garbage"), 30_000, 1500),
            (u32::MAX, None, 30_000, 30_000),
            // pollIntervalMs caps the cadence, never below the floor.
            (9, None, 1000, 1000),
            (9, None, 0, POLL_FLOOR_MS),
            (9, None, 5000, 5000),
        ];
        for &(poll, ra, interval, want) in table {
            assert_eq!(poll_delay_ms(poll, ra, 0, interval), want, "{poll} {ra:?} {interval}");
        }
    }

    fn call() -> Call {
        let input = crate::protocol::validate::CallInput {
            workbook: Some("/me/drive/items/1"),
            base_url: Some("https://graph.microsoft.com/v1.0"),
            timeout_ms: None,
            max_retries: None,
            max_retry_after_ms: None,
            client_request_id: Some("c"),
            allowed_hosts: &[],
        };
        Call::new(&input, || "x".into()).unwrap()
    }

    fn answer(status: u16, body: &str, location: Option<&str>, retry_after: Option<&str>) -> Answer {
        Answer {
            status,
            body: body.into(),
            location: location.map(String::from),
            retry_after: retry_after.map(String::from),
            request_id: Some("r".into()),
        }
    }

    const PARAMS: CreateParams = CreateParams {
        persist_changes: true,
        prefer_async: true,
        create_timeout_ms: 1000,
        poll_interval_ms: 30_000,
    };

    fn sent(flow: &mut CreateFlow) -> Request {
        match flow.poll() {
            CreateStep::Send(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn flow_201_is_done_at_once() {
        let c = call();
        let mut flow = CreateFlow::new(&c, PARAMS);
        let req = sent(&mut flow);
        assert!(req.url.ends_with("/workbook/createSession") && req.prefer_async);
        flow.handle_answer(
            &c,
            &answer(201, r#"{"id":"s1","persistChanges":true}"#, None, None),
            1,
            0,
            0.5,
        );
        assert!(matches!(flow.poll(), CreateStep::Done(Ok(SessionInfo { ref id, .. })) if id == "s1"));
    }

    #[test]
    fn flow_202_polls_with_retry_after_then_reads_the_resource() {
        let c = call();
        let mut flow = CreateFlow::new(&c, PARAMS);
        sent(&mut flow);
        let op = "https://graph.microsoft.com/v1.0/me/drive/items/1/workbook/operations/o1";
        flow.handle_answer(&c, &answer(202, "", Some(op), Some("2")), 1, 0, 0.5);
        assert!(matches!(flow.poll(), CreateStep::Wait(2000)));
        assert_eq!(sent(&mut flow).url, op);
        flow.handle_answer(&c, &answer(200, r#"{"status":"running"}"#, None, None), 1, 0, 0.5);
        assert!(matches!(flow.poll(), CreateStep::Wait(1500)), "second poll backs off");
        assert_eq!(sent(&mut flow).url, op);
        flow.handle_answer(
            &c,
            &answer(200, r#"{"status":"running"}"#, None, Some("120")),
            1,
            0,
            0.5,
        );
        assert!(
            matches!(flow.poll(), CreateStep::Wait(120_000)),
            "the operation's cooldown, past 30 s"
        );
        sent(&mut flow);
        // Graph's own shape: another version segment of the same host, and a query.
        let resource = "https://graph.microsoft.com/beta/me/drive/items/1/workbook/sessionInfoResource(key='k')?sessionId=Y2x1c3Rlcj1QUzE=";
        let done = [r#"{"status":"succeeded","resourceLocation":""#, resource, r#""}"#].concat();
        flow.handle_answer(&c, &answer(200, &done, None, None), 1, 0, 0.5);
        assert_eq!(sent(&mut flow).url, resource, "followed verbatim");
        flow.handle_answer(&c, &answer(200, r#"{"id":"s2"}"#, None, None), 1, 0, 0.5);
        assert!(
            matches!(flow.poll(), CreateStep::Done(Ok(SessionInfo { ref id, persist_changes: true })) if id == "s2")
        );
    }

    #[test]
    fn flow_ends_on_errors_foreign_locations_and_failed_operations() {
        let c = call();
        for (status, body, location, code) in [
            (202, "", None, "invalidResponse"),
            (202, "", Some("https://evil.example/op"), "hostNotAllowed"),
            (
                202,
                "",
                Some("https://graph.microsoft.com:8443/v1.0/op"),
                "invalidResponse",
            ),
            (200, "{}", None, "invalidResponse"),
        ] {
            let mut flow = CreateFlow::new(&c, PARAMS);
            sent(&mut flow);
            flow.handle_answer(&c, &answer(status, body, location, None), 1, 0, 0.5);
            match flow.poll() {
                CreateStep::Done(Err(e)) => assert_eq!(e.code().as_str(), code, "{status} {location:?}"),
                other => panic!("{other:?}"),
            }
        }
        let mut flow = CreateFlow::new(&c, PARAMS);
        sent(&mut flow);
        flow.handle_answer(
            &c,
            &answer(202, "", Some("/v1.0/me/drive/items/1/workbook/operations/o"), None),
            1,
            0,
            0.5,
        );
        assert!(matches!(flow.poll(), CreateStep::Wait(_)));
        sent(&mut flow);
        flow.handle_answer(
            &c,
            &answer(200, r#"{"status":"failed","error":{"code":"boom"}}"#, None, None),
            3,
            0,
            0.5,
        );
        match flow.poll() {
            CreateStep::Done(Err(e)) => {
                assert_eq!(
                    (e.code().as_str(), e.attempts(), e.request_id()),
                    ("boom", 3, Some("r"))
                );
            }
            other => panic!("{other:?}"),
        }
        let mut flow = CreateFlow::new(&c, PARAMS);
        sent(&mut flow);
        flow.handle_error(Error::local(Code::Timeout, &[]));
        assert!(matches!(flow.poll(), CreateStep::Done(Err(ref e)) if *e.code() == Code::Timeout));
        assert!(
            matches!(flow.poll(), CreateStep::Done(Err(_))),
            "polling a finished flow is an error, not a panic"
        );
    }

    /// workbook-error-handling.md: the long-running pattern's `failed`
    /// operation is judged by its codes like an error status; the request
    /// that failed is the createSession, sent again when they say so.
    #[test]
    fn a_failed_operation_is_judged_and_create_session_sent_again() {
        let c = call();
        let failed = |second: &str| {
            [
                r#"{"status":"failed","error":{"code":"internalServerError","innerError":{"code":""#,
                second,
                r#""}}}"#,
            ]
            .concat()
        };
        let to_poll = |flow: &mut CreateFlow| {
            sent(flow);
            flow.handle_answer(
                &c,
                &answer(202, "", Some("/v1.0/me/drive/items/1/workbook/operations/o"), None),
                1,
                0,
                0.5,
            );
            assert!(matches!(flow.poll(), CreateStep::Wait(_)));
            sent(flow);
        };
        // (second-level code, Retry-After, resent after (lowest, highest ms) or not):
        // the cooldown, never cut short; else backoff (1 s, jittered).
        for (second, retry_after, resent) in [
            ("transientFailure", Some("2"), Some((2_000, 2_000))),
            ("serviceUnavailableUncategorized", None, Some((800, 1_200))),
            ("tooManyRequestsUncategorized", Some("7"), Some((7_000, 7_000))),
            // Longer than maxRetryAfterMs (180 s): reported, not waited out.
            ("transientFailure", Some("300"), None),
            ("accessConflict", None, None),
            ("sessionCreationFailed", None, None),
        ] {
            let mut flow = CreateFlow::new(&c, PARAMS);
            to_poll(&mut flow);
            flow.handle_answer(&c, &answer(200, &failed(second), None, retry_after), 1, 0, 0.5);
            match (flow.poll(), resent) {
                (CreateStep::Wait(ms), Some((lo, hi))) => {
                    assert!((lo..=hi).contains(&ms), "{second}: {ms}");
                    let again = sent(&mut flow);
                    assert!(again.url.ends_with("/workbook/createSession"), "{second}");
                    assert_eq!(flow.kind(), Kind::CreateSession);
                }
                (CreateStep::Done(Err(e)), None) => {
                    assert_eq!(e.inner_code(), Some(second));
                    assert_eq!(
                        e.retry_after_ms(),
                        retry_after.map(|s| s.parse::<u64>().unwrap() * 1000)
                    );
                }
                (other, _) => panic!("{second}: {other:?}"),
            }
        }
        // Within maxRetries: the fourth failure in a row is final.
        let mut flow = CreateFlow::new(&c, PARAMS);
        for _ in 0..3 {
            to_poll(&mut flow);
            flow.handle_answer(
                &c,
                &answer(200, &failed("transientFailure"), None, Some("1")),
                1,
                0,
                0.5,
            );
            assert!(matches!(flow.poll(), CreateStep::Wait(1_000)));
        }
        to_poll(&mut flow);
        flow.handle_answer(
            &c,
            &answer(200, &failed("transientFailure"), None, Some("1")),
            1,
            0,
            0.5,
        );
        assert!(matches!(flow.poll(), CreateStep::Done(Err(_))));
    }
}
