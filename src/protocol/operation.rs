//! createSession's answers: `201 {"id","persistChanges"}`, or `202` with a
//! `Location` to poll until the operation `succeeded` (or `Completed`, any
//! case) with a `resourceLocation`, or `failed` with an `error`.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{from_graph_error, Code, Error};
use super::json::{self, Value};
use super::retry::parse_retry_after;

/// First wait between two polls of an operation.
pub const FIRST_POLL_MS: u64 = 1_000;
/// Longest wait between two polls.
pub const MAX_POLL_MS: u64 = 30_000;
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
    let persist_changes = v.get("persistChanges").and_then(Value::as_bool).unwrap_or(requested);
    Ok(SessionInfo { id: id.into(), persist_changes })
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
        return Ok(OperationStatus::Succeeded { resource_location: resource_location.into() });
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
    Err(invalid("Graph's operation status is not one of notStarted, running, succeeded, failed"))
}

/// Wait before poll number `poll` (1-based): the server's `Retry-After` when
/// readable, else 1 s growing by half each time, at most 30 s.
pub fn poll_delay_ms(poll: u32, retry_after: Option<&str>, now_ms: u64) -> u64 {
    if let Some(ms) = retry_after.and_then(|v| parse_retry_after(v, now_ms)) {
        return ms.min(MAX_POLL_MS);
    }
    let mut d = FIRST_POLL_MS;
    for _ in 1..poll.min(20) {
        d = d + d / 2;
    }
    d.min(MAX_POLL_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_info_from_201_and_resource() {
        let s = parse_session_info(r#"{"@odata.context":"x","id":"cluster=A&session=B","persistChanges":false}"#, true).unwrap();
        assert_eq!(s, SessionInfo { id: "cluster=A&session=B".into(), persist_changes: false });
        assert!(parse_session_info(r#"{"id":"x"}"#, true).unwrap().persist_changes);
        for bad in ["", "{}", r#"{"id":""}"#, r#"{"id":5}"#, "<html>", r#"{"id":"x""#] {
            assert_eq!(parse_session_info(bad, true).unwrap_err().code, Code::InvalidResponse, "{bad}");
        }
    }

    #[test]
    fn operation_statuses_in_any_case() {
        for running in [r#"{"id":"o","status":"running"}"#, r#"{"status":"notStarted"}"#, r#"{"status":"Running"}"#] {
            assert!(matches!(parse_operation(running), Ok(OperationStatus::Running)));
        }
        for done in ["succeeded", "Succeeded", "completed", "Completed", "COMPLETED"] {
            let body = [r#"{"status":""#, done, r#"","resourceLocation":"https://graph.microsoft.com/v1.0/me/drive/items/1/workbook/sessionInfoResource(key='k')"}"#].concat();
            match parse_operation(&body) {
                Ok(OperationStatus::Succeeded { resource_location }) => assert!(resource_location.ends_with("(key='k')")),
                other => panic!("{done}: {other:?}"),
            }
        }
        assert_eq!(parse_operation(r#"{"status":"succeeded"}"#).unwrap_err().code, Code::InvalidResponse);
        assert_eq!(parse_operation(r#"{"status":"weird"}"#).unwrap_err().code, Code::InvalidResponse);
        assert_eq!(parse_operation(r#"{"nostatus":1}"#).unwrap_err().code, Code::InvalidResponse);
        assert_eq!(parse_operation("{\"status\":\"runn").unwrap_err().code, Code::InvalidResponse);
    }

    #[test]
    fn failed_operation_carries_graphs_error() {
        let body = r#"{"status":"failed","error":{"code":"internalServerError","message":"boom","innerError":{"code":"sessionCreationFailed"}}}"#;
        match parse_operation(body) {
            Ok(OperationStatus::Failed(e)) => {
                assert_eq!(e.code.as_str(), "internalServerError");
                assert_eq!(e.inner_code.as_deref(), Some("sessionCreationFailed"));
                assert!(e.message.contains("boom"));
            }
            other => panic!("{other:?}"),
        }
        match parse_operation(r#"{"status":"failed"}"#) {
            Ok(OperationStatus::Failed(e)) => assert_eq!(e.code.as_str(), "operationFailed"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn polling_starts_near_a_second_and_grows_to_thirty() {
        let delays: Vec<u64> = (1..=12).map(|n| poll_delay_ms(n, None, 0)).collect();
        assert_eq!(delays[0], 1000);
        assert!(delays.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*delays.last().unwrap(), MAX_POLL_MS);
        assert_eq!(poll_delay_ms(1, Some("3"), 0), 3000);
        assert_eq!(poll_delay_ms(1, Some("600"), 0), MAX_POLL_MS);
        assert_eq!(poll_delay_ms(2, Some("garbage"), 0), 1500);
        assert_eq!(poll_delay_ms(u32::MAX, None, 0), MAX_POLL_MS);
    }
}
