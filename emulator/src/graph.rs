//! The workbook endpoints: createSession (201 and 202 flows),
//! refreshSession, closeSession, operations/{id}, sessionInfoResource, and
//! the minimal workbook behind the session (worksheets, range values).

use serde_json::{json, Value};

use crate::clock::{later, later_wall, rfc3339, Now};
use crate::errors::GraphError;
use crate::handler::{Refusal, Request};
use crate::ids::{base64, session_id, unbase64, uuid_v4};
use crate::response::Response;
use crate::routes::{percent_decode, Workbook, WorkbookOp};
use crate::sessions::{AsyncOp, OpState};
use crate::state::State;
use crate::workbook::{self, Book};

/// The version segment Graph puts in a `resourceLocation`, whatever the
/// request's (workbookoperation-get.md: a v1.0 request, a `/beta/` answer).
pub const RESOURCE_LOCATION_VERSION: &str = "beta";

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
            state.sessions.close(id, &w.item, now.mono).map_err(refuse)?;
            Ok(Response::empty(204))
        }
        WorkbookOp::Operation(id) => operation(state, req, id),
        WorkbookOp::SessionInfo(key) => session_info(state, req, w, key),
        WorkbookOp::Worksheets => {
            let v = with_book(state, now, req, w, false, |b| Ok(workbook::worksheets_json(b)))?;
            Ok(Response::json(200, &v))
        }
        WorkbookOp::Range { sheet, address } => {
            let v = if req.method == "PATCH" {
                if !is_json(req.content_type) {
                    return Err(refuse(GraphError::invalid_request(
                        "A PATCH of a range needs Content-Type: application/json.",
                    )));
                }
                let body = json_body(req.body)
                    .map_err(refuse)?
                    .ok_or_else(|| refuse(GraphError::invalid_argument("The request body is empty.")))?;
                with_book(state, now, req, w, true, |b| {
                    workbook::patch_range(b, sheet, address, &body)
                })?
            } else {
                with_book(state, now, req, w, false, |b| workbook::get_range(b, sheet, address))?
            };
            Ok(Response::json(200, &v))
        }
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The workbook this request sees, and the request as session activity.
/// With a `workbook-session-id` the session must be live on this item (else
/// 404 invalidSessionReCreatable) and the request resets its idle timer; a
/// non-persistent session sees its own copy. Without one, or in a persistent
/// session, the item's workbook, whose changes stay
/// (`workbook-createsession.md`).
fn with_book(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    w: &Workbook<'_>,
    write: bool,
    f: impl FnOnce(&mut Book) -> Result<Value, GraphError>,
) -> Result<Value, Refusal> {
    if let Some(id) = req.session_id.map(str::trim).filter(|i| !i.is_empty()) {
        let config = &state.config;
        let s = state
            .sessions
            .touch(id, &w.item, |p| config.ttl(p), now.mono, now.wall)
            .map_err(refuse)?;
        if let Some(copy) = s.copy.as_mut() {
            return f(copy).map_err(refuse);
        }
    }
    if write {
        return f(state.books.get_mut(&w.item).map_err(refuse)?).map_err(refuse);
    }
    // A read never creates the item's workbook (memory follows writes).
    match state.books.existing_mut(&w.item) {
        Some(b) => f(b),
        None => f(&mut Book::default()),
    }
    .map_err(refuse)
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
            Some(_) => return Err(refuse(GraphError::invalid_request("persistChanges must be a boolean."))),
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
    // workbook-best-practice.md: "If the session creation completes in
    // several seconds, it will return a regular create session response".
    let fast = state.config.operation_delay < state.config.sync_create_below;
    if respond_async && !fast {
        let id = uuid_v4(&mut state.rng);
        let location = format!("{}/{}{}/workbook/operations/{}", base(req), w.version, w.item_raw, id);
        state.ops.start(AsyncOp {
            id,
            item: w.item.clone().into_owned(),
            item_raw: w.item_raw.to_owned(),
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
    let copy = (!persist_changes).then(|| state.books.snapshot(&w.item));
    state.sessions.open(
        id.clone(),
        w.item.clone().into_owned(),
        persist_changes,
        ttl,
        now.mono,
        now.wall,
        copy,
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
        return Err(refuse(GraphError::item_not_found("The operation was not found.")));
    };
    let mut v = json!({
        "id": op.id,
        "createdDateTime": rfc3339(op.created_wall),
    });
    let (status, extra) = match &op.state {
        OpState::Running { .. } => ("running", None),
        OpState::Succeeded { session_id } => (
            "succeeded",
            Some((
                "resourceLocation",
                Value::from(format!(
                    "{}/{RESOURCE_LOCATION_VERSION}{}/workbook/sessionInfoResource(key='{}')?sessionId={}",
                    base(req),
                    op.item_raw,
                    op.id,
                    base64(session_id.as_bytes())
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

fn session_info(state: &State, req: &Request<'_>, w: &Workbook<'_>, key: &str) -> Result<Response, Refusal> {
    // The resourceLocation Graph hands out carries `?sessionId=<base64>`;
    // the emulator refuses the bare form so clients follow it verbatim.
    let raw = req.query.and_then(|q| {
        q.split('&').find_map(|p| {
            p.split_once('=')
                .filter(|(k, _)| k.eq_ignore_ascii_case("sessionId"))
                .map(|(_, v)| v)
        })
    });
    let Some(raw) = raw.filter(|v| !v.is_empty()) else {
        return Err(refuse(GraphError::invalid_request(
            "The sessionId query parameter is required (follow resourceLocation as given).",
        )));
    };
    let claimed = percent_decode(raw)
        .and_then(|v| unbase64(&v))
        .and_then(|b| String::from_utf8(b).ok());
    let Some(claimed) = claimed else {
        return Err(refuse(GraphError::invalid_request(
            "The sessionId query parameter is not base64.",
        )));
    };
    match state.ops.get(key) {
        Some(AsyncOp {
            state: OpState::Succeeded { session_id },
            persist_changes,
            ..
        }) if *session_id == claimed => Ok(Response::json(
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
