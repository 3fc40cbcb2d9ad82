//! The workbook endpoints: createSession (201 and 202 flows),
//! refreshSession, closeSession, operations/{id}, sessionInfoResource.

use serde_json::{json, Value};

use crate::clock::{later, later_wall, rfc3339, Now};
use crate::errors::GraphError;
use crate::handler::{Refusal, Request};
use crate::ids::{session_id, uuid_v4};
use crate::response::Response;
use crate::routes::{Workbook, WorkbookOp};
use crate::sessions::{AsyncOp, OpState};
use crate::state::State;

fn refuse(err: GraphError) -> Refusal {
    (err, None)
}

/// Parses a JSON body; an empty (or blank) body is `None`.
pub(crate) fn json_body(body: &[u8]) -> Result<Option<Value>, GraphError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|_| GraphError::invalid_request("The request body is not valid JSON."))
}

fn base(req: &Request<'_>) -> String {
    format!("http://{}", req.host)
}

fn session_header<'a>(req: &Request<'a>) -> Result<&'a str, Refusal> {
    match req.session_id.map(str::trim) {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(refuse(GraphError::invalid_request(
            "The workbook-session-id header is required.",
        ))),
    }
}

pub(crate) fn workbook(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    w: &Workbook<'_>,
    fails_with: Option<GraphError>,
) -> Result<Response, Refusal> {
    match &w.op {
        WorkbookOp::CreateSession => create_session(state, now, req, w, fails_with),
        WorkbookOp::RefreshSession => {
            json_body(req.body).map_err(refuse)?;
            let id = session_header(req)?;
            let config = &state.config;
            state
                .sessions
                .refresh(id, &w.item, |p| config.ttl(p), now.mono, now.wall)
                .map_err(refuse)?;
            Ok(Response::empty(204))
        }
        WorkbookOp::CloseSession => {
            json_body(req.body).map_err(refuse)?;
            let id = session_header(req)?;
            state
                .sessions
                .close(id, &w.item, now.mono)
                .map_err(refuse)?;
            Ok(Response::empty(204))
        }
        WorkbookOp::Operation(id) => operation(state, req, id),
        WorkbookOp::SessionInfo(key) => session_info(state, req, w, key),
    }
}

fn create_session(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    w: &Workbook<'_>,
    fails_with: Option<GraphError>,
) -> Result<Response, Refusal> {
    let persist_changes = match json_body(req.body).map_err(refuse)? {
        None => true,
        Some(Value::Object(m)) => match m.get("persistChanges") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(refuse(GraphError::invalid_request(
                    "persistChanges must be a boolean.",
                )))
            }
        },
        Some(_) => {
            return Err(refuse(GraphError::invalid_request(
                "The request body must be a JSON object.",
            )))
        }
    };
    if state.sessions.len() + state.ops.pending() >= state.config.max_sessions {
        return Err((GraphError::table_full(), Some("1")));
    }
    let respond_async = req.prefer.is_some_and(|p| {
        p.split([',', ';'])
            .any(|t| t.trim().eq_ignore_ascii_case("respond-async"))
    });
    if respond_async {
        let id = uuid_v4(&mut state.rng);
        let location = format!(
            "{}/{}{}/workbook/operations/{}",
            base(req),
            w.version,
            w.item_raw,
            id
        );
        state.ops.start(AsyncOp {
            id,
            item: w.item.clone().into_owned(),
            item_raw: w.item_raw.to_owned(),
            version: w.version.to_owned(),
            persist_changes,
            created_wall: now.wall,
            ready_at: later(now.mono, state.config.operation_delay),
            ready_wall: later_wall(now.wall, state.config.operation_delay),
            state: OpState::Running { fails_with },
        });
        let mut r = Response::empty(202);
        r.push_header("Location", location);
        return Ok(r);
    }
    if let Some(err) = fails_with {
        return Err(refuse(err));
    }
    let id = session_id(&mut state.rng);
    let ttl = state.config.ttl(persist_changes);
    state.sessions.open(
        id.clone(),
        w.item.clone().into_owned(),
        persist_changes,
        ttl,
        now.mono,
        now.wall,
    );
    Ok(Response::json(
        201,
        &json!({
            "@odata.context": format!("{}/{}/$metadata#microsoft.graph.workbookSessionInfo", base(req), w.version),
            "id": id,
            "persistChanges": persist_changes,
        }),
    ))
}

fn operation(state: &State, req: &Request<'_>, id: &str) -> Result<Response, Refusal> {
    let Some(op) = state.ops.get(id) else {
        return Err(refuse(GraphError::item_not_found(
            "The operation was not found.",
        )));
    };
    let mut v = json!({
        "id": op.id,
        "createdDateTime": rfc3339(op.created_wall),
    });
    let (status, extra) = match &op.state {
        OpState::Running { .. } => ("running", None),
        OpState::Succeeded { .. } => (
            "succeeded",
            Some((
                "resourceLocation",
                Value::from(format!(
                    "{}/{}{}/workbook/sessionInfoResource(key='{}')",
                    base(req),
                    op.version,
                    op.item_raw,
                    op.id
                )),
            )),
        ),
        OpState::Failed(e) => ("failed", Some(("error", e.operation_error()))),
    };
    v["status"] = Value::from(status);
    if let Some((k, val)) = extra {
        v[k] = val;
    }
    Ok(Response::json(200, &v))
}

fn session_info(
    state: &State,
    req: &Request<'_>,
    w: &Workbook<'_>,
    key: &str,
) -> Result<Response, Refusal> {
    match state.ops.get(key) {
        Some(AsyncOp {
            state: OpState::Succeeded { session_id },
            persist_changes,
            ..
        }) => Ok(Response::json(
            200,
            &json!({
                "@odata.context": format!("{}/{}/$metadata#microsoft.graph.workbookSessionInfo", base(req), w.version),
                "id": session_id,
                "persistChanges": persist_changes,
            }),
        )),
        _ => Err(refuse(GraphError::item_not_found(
            "The session info resource was not found.",
        ))),
    }
}
