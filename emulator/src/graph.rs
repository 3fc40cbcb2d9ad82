//! The workbook endpoints: createSession (201 and 202 flows),
//! refreshSession, closeSession, operations/{id}, sessionInfoResource, and
//! the minimal workbook behind the session (worksheets, range values).

use serde_json::{json, Value};

use crate::clock::{later, later_wall, rfc3339, Now};
use crate::errors::GraphError;
use crate::ids::{base64, session_id, unbase64, uuid_v4};
use crate::request::{is_json, json_body, Refusal, Request};
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

fn base(req: &Request<'_>) -> String {
    let scheme = if req.https { "https" } else { "http" };
    format!("{scheme}://{}", req.host)
}

fn session_header<'a>(req: &Request<'a>) -> Result<&'a str, Refusal> {
    match req.session_id.map(str::trim) {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(refuse(GraphError::invalid_request(
            "The workbook-session-id header is required.",
        ))),
    }
}

/// The 404 of an unknown, closed or expired session: plain, as
/// resources/excel.md promises ("a `404` HTTP error code is returned on the
/// session"), or with `invalidSessionReCreatable` under
/// `--recreatable-404`.
fn gone(recreatable: bool) -> Refusal {
    refuse(if recreatable {
        GraphError::invalid_session()
    } else {
        GraphError::session_not_found()
    })
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
            if state
                .sessions
                .refresh(id, &w.item, |p| config.ttl(p), now.mono, now.wall)
                .is_err()
            {
                return Err(gone(state.config.recreatable_404));
            }
            Ok(Response::empty(204))
        }
        WorkbookOp::CloseSession => {
            json_body(req.body).map_err(refuse)?;
            let id = session_header(req)?;
            if state.sessions.close(id, &w.item, now.mono).is_err() {
                return Err(gone(state.config.recreatable_404));
            }
            Ok(Response::empty(204))
        }
        WorkbookOp::Operation(id) => operation(state, req, &w.item, id),
        WorkbookOp::SessionInfo(key) => session_info(state, req, w, key),
        WorkbookOp::Worksheets => {
            let v = read_book(state, now, req, w, workbook::worksheets_json)?;
            Ok(Response::json(200, &v))
        }
        WorkbookOp::AddName => {
            let body = json_body(req.body)
                .map_err(refuse)?
                .ok_or_else(|| refuse(GraphError::invalid_argument("The request body is empty.")))?;
            let v = write_book(state, now, req, w, |b| workbook::add_name(b, &body))?;
            Ok(Response::json(200, &v))
        }
        WorkbookOp::NamedRange(name) => {
            let (sheet, address) =
                read_book(state, now, req, w, |b| workbook::named_range(b, name))?.map_err(refuse)?;
            range(state, now, req, w, &sheet, &address)
        }
        WorkbookOp::Range { sheet, address } => range(state, now, req, w, sheet, address),
    }
}

fn range(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    w: &Workbook<'_>,
    sheet: &str,
    address: &str,
) -> Result<Response, Refusal> {
    let v = if req.method == "PATCH" {
        if !is_json(req.content_type) {
            return Err(refuse(GraphError::invalid_request(
                "A PATCH of a range needs Content-Type: application/json.",
            )));
        }
        let body = json_body(req.body)
            .map_err(refuse)?
            .ok_or_else(|| refuse(GraphError::invalid_argument("The request body is empty.")))?;
        let limits = state.limits();
        write_book(state, now, req, w, |b| {
            workbook::patch_range(b, sheet, address, &body, limits)
        })?
    } else {
        read_book(state, now, req, w, |b| workbook::get_range(b, sheet, address))?.map_err(refuse)?
    };
    Ok(Response::json(200, &v))
}

/// The request as session activity: with a `workbook-session-id`, the
/// session must be live on this item (else the session 404) and the request
/// resets its idle timer. `Some` of a non-persistent session's workbook.
fn session_book<'s>(
    state: &'s mut State,
    now: Now,
    req: &Request<'_>,
    w: &Workbook<'_>,
) -> Result<Option<&'s mut std::sync::Arc<Book>>, Refusal> {
    let Some(id) = req.session_id.map(str::trim).filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    let recreatable = state.config.recreatable_404;
    let config = &state.config;
    match state.sessions.touch(id, &w.item, |p| config.ttl(p), now.mono, now.wall) {
        Ok(s) => Ok(s.copy.as_mut()),
        Err(_) => Err(gone(recreatable)),
    }
}

/// Reads the workbook this request sees: a non-persistent session's own
/// (shared until written), else the item's, whose changes stay
/// (`workbook-createsession.md`). A read never creates the item's workbook.
fn read_book<T>(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    w: &Workbook<'_>,
    f: impl FnOnce(&Book) -> T,
) -> Result<T, Refusal> {
    if let Some(copy) = session_book(state, now, req, w)? {
        return Ok(f(copy));
    }
    Ok(match state.books.get(&w.item) {
        Some(b) => f(b),
        None => f(&state.books.shared(&w.item)),
    })
}

/// Writes the workbook this request sees; a shared one is copied first
/// (copy-on-write), within the global budget.
fn write_book(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    w: &Workbook<'_>,
    f: impl FnOnce(&mut Book) -> Result<Value, GraphError>,
) -> Result<Value, Refusal> {
    let limits = state.limits();
    if let Some(copy) = session_book(state, now, req, w)? {
        return f(workbook::writable(copy, limits).map_err(refuse)?).map_err(refuse);
    }
    f(state.books.writable(&w.item, limits).map_err(refuse)?).map_err(refuse)
}

fn create_session(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    w: &Workbook<'_>,
    fails_with: Option<GraphError>,
) -> Result<Response, Refusal> {
    // workbook-createsession.md: "In the request body, supply a JSON
    // representation of workbookSessionInfo"; every example sends
    // `Content-type: application/json`.
    if !is_json(req.content_type) {
        return Err(refuse(GraphError::invalid_request(
            "createSession needs a JSON body with Content-Type: application/json.",
        )));
    }
    let persist_changes = match json_body(req.body).map_err(refuse)? {
        None => {
            return Err(refuse(GraphError::invalid_request(
                "createSession needs a JSON body (a workbookSessionInfo object).",
            )))
        }
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
    let copy = (!persist_changes).then(|| state.books.shared(&w.item));
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

/// `GET {item}/workbook/operations/{id}` (workbookoperation-get.md): an
/// operation of that item's workbook; another item's answers 404, as
/// `sessionInfoResource` does.
fn operation(state: &State, req: &Request<'_>, item: &str, id: &str) -> Result<Response, Refusal> {
    let Some(op) = state.ops.get(id).filter(|op| op.item == item) else {
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
    // workbookoperation-get.md hands out `…sessionInfoResource(key='…')
    // ?sessionId=<base64>`; workbook-best-practice.md ("Acquire session
    // information") reads the bare `sessionInfoResource(key='{key}')`. Both
    // answer; a `sessionId` given must be base64 of that key's session.
    let raw = req.query.and_then(|q| {
        q.split('&').find_map(|p| {
            p.split_once('=')
                .filter(|(k, _)| k.eq_ignore_ascii_case("sessionId"))
                .map(|(_, v)| v)
        })
    });
    let claimed = match raw {
        None => None,
        Some(raw) => {
            let decoded = percent_decode(raw)
                .and_then(|v| unbase64(&v))
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|v| !v.is_empty());
            match decoded {
                Some(c) => Some(c),
                None => {
                    return Err(refuse(GraphError::invalid_request(
                        "The sessionId query parameter is not base64.",
                    )))
                }
            }
        }
    };
    match state.ops.get(key) {
        Some(AsyncOp {
            state: OpState::Succeeded { session_id },
            persist_changes,
            item,
            ..
        }) if claimed.as_ref().is_none_or(|c| c == session_id) && *item == w.item => Ok(Response::json(
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
