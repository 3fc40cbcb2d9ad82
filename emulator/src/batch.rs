//! `POST /{version}/$batch`: up to 20 inner requests, each handled by the
//! same pipeline as a direct request (faults apply per inner request).

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::clock::Now;
use crate::errors::{GraphError, Stamp};
use crate::request::{is_json, json_body, Ctx, Refusal, Request};
use crate::response::{Action, Body, Outcome, Response};
use crate::routes::{self, Route};
use crate::state::State;

/// Graph's limit of requests per batch.
pub const MAX_BATCH: usize = 20;

/// Runs one inner request through the pipeline (the handler's
/// `graph_request`, handed in so this module does not import the handler).
pub(crate) type Run<'r> = &'r mut dyn FnMut(&mut State, Now, &Request<'_>, &Route<'_>, &Stamp, Ctx) -> Outcome;

struct Inner {
    id: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Indexes of the requests this one waits for (`dependsOn`).
    depends_on: Vec<usize>,
}

fn invalid(message: String) -> Refusal {
    (GraphError::batch_invalid(message), None)
}

fn parse(body: &[u8]) -> Result<Vec<Inner>, Refusal> {
    let value = json_body(body)
        .map_err(|e| invalid(e.message.into_owned()))?
        .ok_or_else(|| invalid("The batch request body is empty.".into()))?;
    let list = value
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("The batch body must have a \"requests\" array.".into()))?;
    if list.is_empty() {
        return Err(invalid("A batch must contain at least one request.".into()));
    }
    if list.len() > MAX_BATCH {
        return Err(invalid(format!(
            "A batch can contain at most {MAX_BATCH} requests; this one has {}.",
            list.len()
        )));
    }
    let mut out: Vec<Inner> = Vec::with_capacity(list.len());
    let mut depends: Vec<Vec<String>> = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let field = |name: &str| -> Result<String, Refusal> {
            match r.get(name) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(invalid(format!("requests[{i}].{name} is missing or not a string."))),
            }
        };
        // json-batching.md: id is "Required. String. … Not case-sensitive.
        // Must be unique in the batch, otherwise, the batch request fails
        // with a 400 error code."
        let id = field("id")?;
        if out.iter().any(|o| o.id.eq_ignore_ascii_case(&id)) {
            return Err(invalid(format!("requests[{i}].id {id:?} is not unique.")));
        }
        let method = field("method")?.to_ascii_uppercase();
        let url = field("url")?;
        let mut headers = Vec::new();
        match r.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    headers.push((k.clone(), v));
                }
            }
            Some(_) => return Err(invalid(format!("requests[{i}].headers must be an object."))),
        }
        let mut deps = Vec::new();
        match r.get("dependsOn") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for d in a {
                    match d {
                        Value::String(s) if !s.is_empty() => deps.push(s.clone()),
                        _ => return Err(invalid(format!("requests[{i}].dependsOn must hold request ids."))),
                    }
                }
            }
            Some(_) => return Err(invalid(format!("requests[{i}].dependsOn must be an array."))),
        }
        depends.push(deps);
        let body = match r.get("body") {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::to_vec(v).unwrap_or_default()),
        };
        // json-batching.md: "When a body is included with the request, the
        // headers object must contain a value for Content-Type", and a write
        // must "still specify the headers and body parameters where only
        // body can be an empty object". Graph fails the whole batch.
        let has_content_type = headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && !v.is_empty());
        let write = matches!(method.as_str(), "POST" | "PATCH" | "PUT");
        if (write && body.is_none()) || ((write || body.is_some()) && !has_content_type) {
            return Err((
                GraphError::batch_invalid(format!(
                    "Write request id : {id} does not contain Content-Type header or body."
                )),
                None,
            ));
        }
        let body = body.unwrap_or_default();
        out.push(Inner {
            id,
            method,
            url,
            headers,
            body,
            depends_on: Vec::new(),
        });
    }
    // dependsOn names other requests of the batch (case-insensitively, as
    // ids compare), and the dependencies must not loop.
    for (i, deps) in depends.into_iter().enumerate() {
        for d in deps {
            match out.iter().position(|o| o.id.eq_ignore_ascii_case(&d)) {
                Some(j) if j != i => out[i].depends_on.push(j),
                _ => {
                    return Err(invalid(format!(
                        "requests[{i}].dependsOn names {d:?}, which is not another request of this batch."
                    )))
                }
            }
        }
    }
    Ok(out)
}

/// The order to run the requests in: each after what it depends on, in
/// request order otherwise; `None` when the dependencies loop.
fn run_order(inners: &[Inner]) -> Option<Vec<usize>> {
    let mut done = vec![false; inners.len()];
    let mut order = Vec::with_capacity(inners.len());
    while order.len() < inners.len() {
        let next = (0..inners.len()).find(|&i| !done[i] && inners[i].depends_on.iter().all(|&d| done[d]))?;
        done[next] = true;
        order.push(next);
    }
    Some(order)
}

fn inner_response(id: &str, r: Response) -> Value {
    let mut headers = Map::new();
    for (k, v) in &r.headers {
        headers.insert(k.to_string(), Value::from(v.as_ref()));
    }
    let mut v = json!({ "id": id, "status": r.status, "headers": headers });
    let body = match &r.body {
        Body::Empty => None,
        Body::Error(e) => Some(e.0.to_value(&e.1)),
        other => {
            let b = other.to_bytes();
            Some(serde_json::from_slice(&b).unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&b).into_owned())))
        }
    };
    if let Some(b) = body {
        v["body"] = b;
    }
    v
}

/// Runs a batch. The outer request already passed auth; its
/// `Authorization` applies to every inner request. A dropped inner request
/// drops the whole batch; inner delays add up. Requests run in `dependsOn`
/// order; one whose dependency failed answers `424` without running
/// (json-batching.md); the answers come back in a shuffled order (the same
/// doc: they "might appear in a different order than the requests").
pub(crate) fn handle(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    version: &str,
    run: Run<'_>,
) -> Result<Outcome, Refusal> {
    // json-batching.md's request carries `Content-Type: application/json`.
    if !is_json(req.content_type) {
        return Err(invalid("A $batch request needs Content-Type: application/json.".into()));
    }
    let inners = parse(req.body)?;
    let order =
        run_order(&inners).ok_or_else(|| invalid("The dependsOn references of this batch form a cycle.".into()))?;
    let mut delay: Option<Duration> = None;
    let mut statuses: Vec<Option<u16>> = vec![None; inners.len()];
    let mut responses = Vec::with_capacity(inners.len());
    for i in order {
        let spec = &inners[i];
        let header = |name: &str| {
            spec.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let client_request_id = header("client-request-id").or(req.client_request_id);
        if spec.depends_on.iter().any(|&d| statuses[d].is_none_or(|s| s >= 400)) {
            let stamp = state.stamp(now, client_request_id);
            statuses[i] = Some(424);
            responses.push(inner_response(
                &spec.id,
                Response::error(&GraphError::failed_dependency(), &stamp),
            ));
            continue;
        }
        let url = spec.url.strip_prefix('/').unwrap_or(&spec.url);
        let (path_part, query) = match url.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (url, None),
        };
        let path = format!("/{version}/{path_part}");
        let inner = Request {
            method: &spec.method,
            path: &path,
            query,
            host: req.host,
            https: req.https,
            authorization: req.authorization,
            session_id: header("workbook-session-id"),
            client_request_id,
            retry_attempt: header("retry-attempt").or(req.retry_attempt),
            prefer: header("prefer"),
            content_type: header("content-type"),
            origin: None,
            private_network: false,
            body: &spec.body,
            body_too_large: false,
            remote_peer: req.remote_peer,
        };
        let stamp = state.stamp(now, inner.client_request_id);
        let route = routes::parse(&path);
        let mut ctx = Ctx {
            skip_faults: false,
            in_batch: true,
        };
        let mut outcome = run(state, now, &inner, &route, &stamp, ctx);
        if matches!(outcome.action, Action::Resume) {
            delay = Some(
                delay
                    .unwrap_or_default()
                    .saturating_add(outcome.delay.unwrap_or_default()),
            );
            ctx.skip_faults = true;
            outcome = run(state, now, &inner, &route, &stamp, ctx);
        }
        if let Some(d) = outcome.delay {
            delay = Some(delay.unwrap_or_default().saturating_add(d));
        }
        match outcome.action {
            Action::Respond(r) => {
                statuses[i] = Some(r.status);
                responses.push(inner_response(&spec.id, r));
            }
            Action::Drop | Action::DropMidResponse(_) | Action::Resume => {
                return Ok(Outcome {
                    delay,
                    action: Action::Drop,
                })
            }
        }
    }
    state.rng.shuffle(&mut responses);
    Ok(Outcome {
        delay,
        action: Action::Respond(Response::json(200, &json!({ "responses": responses }))),
    })
}
