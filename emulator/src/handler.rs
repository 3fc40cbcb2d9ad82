//! The pure request handler: `handle(&mut State, Now, &Request) -> Outcome`.
//! No sockets, no clocks, no sleeping: the server adapter does those.

use std::borrow::Cow;
use std::time::Duration;

use crate::clock::Now;
use crate::errors::{GraphError, Stamp};
use crate::faults::Plan;
use crate::journal::Entry;
use crate::request::{Ctx, Refusal, Request};
use crate::response::{Action, Outcome, Response};
use crate::routes::{self, Operation, Route};
use crate::state::State;
use crate::{batch, control, graph};

/// Handles one request: faults, routing, auth, the endpoint, logging, and
/// the headers every answer carries.
pub fn handle(state: &mut State, now: Now, req: &Request<'_>) -> Outcome {
    dispatch(state, now, req, false)
}

/// Handles a request again after the delay of a delay-only fault
/// ([`Action::Resume`]); faults are not matched a second time.
pub fn resume(state: &mut State, now: Now, req: &Request<'_>) -> Outcome {
    dispatch(state, now, req, true)
}

fn dispatch(state: &mut State, now: Now, req: &Request<'_>, resumed: bool) -> Outcome {
    state.advance(now);
    let stamp = state.stamp(now, req.client_request_id);
    let route = routes::parse(req.path);
    let is_control = matches!(route, Route::Control(_));
    let outcome = if req.method == "OPTIONS" {
        Outcome::respond(preflight(state, req, is_control, &stamp))
    } else {
        match route {
            Route::Control(rest) => match control_guard(state, req) {
                Ok(()) => Outcome::respond(control::handle(state, now, req, rest, &stamp)),
                Err(e) => Outcome::respond(Response::error(&e, &stamp)),
            },
            route => {
                let ctx = Ctx {
                    skip_faults: resumed,
                    in_batch: false,
                };
                graph_request(state, now, req, &route, &stamp, ctx)
            }
        }
    };
    decorate(state, now, req, &stamp, outcome, is_control)
}

/// The control API answers only loopback peers, only under a loopback `Host`
/// (so a DNS-rebound page cannot reach it), and only browser pages of the
/// configured control origins (issue 13: it can expire sessions and script
/// any answer).
fn control_guard(state: &State, req: &Request<'_>) -> Result<(), GraphError> {
    if req.remote_peer {
        return Err(GraphError::control_forbidden(
            "The control API answers loopback peers only.",
        ));
    }
    if !loopback_host(req.host) {
        return Err(GraphError::control_forbidden(
            "The control API answers only a loopback Host.",
        ));
    }
    match req.origin {
        Some(o) if !state.config.control_origin_allowed(o) => Err(GraphError::control_forbidden(
            "This Origin may not call the control API (see --control-origin).",
        )),
        _ => Ok(()),
    }
}

/// `127.x.x.x`, `[::1]` or `localhost`, with an optional port.
pub(crate) fn loopback_host(host: &str) -> bool {
    let name = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

const EXPOSE: &str = "request-id, client-request-id, retry-after, location";

fn decorate(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    stamp: &Stamp,
    mut outcome: Outcome,
    is_control: bool,
) -> Outcome {
    let response = match &mut outcome.action {
        Action::Respond(r) | Action::DropMidResponse(r) => r,
        Action::Drop | Action::Resume => return outcome,
    };
    let h = &mut response.headers;
    h.reserve(6);
    h.push((Cow::Borrowed("request-id"), Cow::Owned(stamp.request_id.clone())));
    h.push((
        Cow::Borrowed("client-request-id"),
        Cow::Owned(stamp.client_request_id.clone()),
    ));
    h.push((Cow::Borrowed("date"), Cow::Owned(state.http_date(now))));
    match req.origin {
        // A request without Origin is not a browser's: anyone may read it.
        None => {
            if !is_control {
                h.push((Cow::Borrowed("access-control-allow-origin"), Cow::Borrowed("*")));
            }
        }
        // Browser pages: the control API only for the control origins; the
        // Graph endpoints for those too, or any with --cors-any-origin
        // (issue 22: a web page must not reach a local emulator by default).
        Some(o) if !o.is_empty() && origin_allowed(state, o, is_control) => {
            h.push((Cow::Borrowed("access-control-allow-origin"), Cow::Owned(o.to_owned())));
            h.push((Cow::Borrowed("vary"), Cow::Borrowed("Origin")));
        }
        Some(_) => h.push((Cow::Borrowed("vary"), Cow::Borrowed("Origin"))),
    }
    h.push((Cow::Borrowed("access-control-expose-headers"), Cow::Borrowed(EXPOSE)));
    outcome
}

fn origin_allowed(state: &State, origin: &str, is_control: bool) -> bool {
    if is_control {
        state.config.control_origin_allowed(origin)
    } else {
        state.config.graph_origin_allowed(origin)
    }
}

fn preflight(state: &State, req: &Request<'_>, is_control: bool, stamp: &Stamp) -> Response {
    if is_control {
        if let Err(e) = control_guard(state, req) {
            return Response::error(&e, stamp);
        }
    } else if req.origin.is_some_and(|o| !state.config.graph_origin_allowed(o)) {
        return Response::error(
            &GraphError::control_forbidden(
                "This Origin may not call the emulator (see --control-origin and --cors-any-origin).",
            ),
            stamp,
        );
    }
    let mut r = Response::empty(204);
    r.push_header("access-control-allow-methods", "GET, POST, PATCH, DELETE, OPTIONS");
    r.push_header(
        "access-control-allow-headers",
        "authorization, content-type, workbook-session-id, client-request-id, prefer, retry-attempt",
    );
    r.push_header("access-control-max-age", "600");
    // Private Network Access: only pages the operator named may reach this
    // loopback server from a public page (issue 22).
    if req.private_network && req.origin.is_some_and(|o| state.config.control_origin_allowed(o)) {
        r.push_header("access-control-allow-private-network", "true");
    }
    r
}

fn add_delay(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    }
}

/// A Graph (non-control) request: faults first (a scripted answer replaces
/// all processing, auth included), then 413, route, method, auth, endpoint.
/// Logs it and counts it.
pub(crate) fn graph_request(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    route: &Route<'_>,
    stamp: &Stamp,
    ctx: Ctx,
) -> Outcome {
    let op = route.operation();
    let mut delay = None;
    let mut fails_with = None;
    let mut fault_id = None;
    if !ctx.skip_faults {
        if let Some((id, armed)) = state.faults.take(op, req.path) {
            if armed.spec.end_session == Some(true) {
                if let Some(sid) = req.session_id {
                    state.sessions.remove(sid.trim());
                }
            }
            let fired = match armed.plan(stamp) {
                Plan::DelayThenNormal(d) => {
                    return Outcome {
                        delay: Some(d),
                        action: Action::Resume,
                    }
                }
                Plan::Drop(delay) => Some(Outcome {
                    delay,
                    action: Action::Drop,
                }),
                Plan::Respond {
                    delay,
                    response,
                    mid_drop,
                } => Some(Outcome {
                    delay,
                    action: if mid_drop {
                        Action::DropMidResponse(response)
                    } else {
                        Action::Respond(response)
                    },
                }),
                Plan::FailOperation { delay: d, error } => {
                    delay = d;
                    fails_with = Some(error);
                    None
                }
            };
            match fired {
                Some(outcome) => {
                    record(state, now, req, op, &outcome.action, Some(id), ctx.in_batch);
                    return outcome;
                }
                None => fault_id = Some(id),
            }
        }
    }
    let mut outcome = match answer(state, now, req, route, ctx, fails_with) {
        Ok(outcome) => outcome,
        Err((err, retry_after)) => {
            let mut r = Response::error(&err, stamp);
            if err.status == 405 {
                if let Some(op) = op {
                    r.push_header("Allow", op.allow());
                }
            }
            if err.status == 401 {
                r.push_header("WWW-Authenticate", "Bearer");
            }
            if let Some(ra) = retry_after {
                r.push_header("Retry-After", ra);
            }
            Outcome::respond(r)
        }
    };
    outcome.delay = add_delay(delay, outcome.delay);
    record(state, now, req, op, &outcome.action, fault_id, ctx.in_batch);
    outcome
}

fn answer(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    route: &Route<'_>,
    ctx: Ctx,
    fails_with: Option<GraphError>,
) -> Result<Outcome, Refusal> {
    if req.body_too_large {
        return Err((GraphError::too_large(), None));
    }
    let op = match route {
        Route::BadItem => {
            return Err((
                GraphError::invalid_request("The item path is not valid UTF-8 once percent-decoded."),
                None,
            ))
        }
        Route::Unknown | Route::Control(_) => {
            return Err((
                GraphError::item_not_found("Resource not found: the emulator does not serve this path."),
                None,
            ))
        }
        Route::Workbook(w) => w.op.operation(),
        Route::Batch { .. } => Operation::Batch,
    };
    if let Some(v) = route.version().filter(|v| !state.config.version_served(v)) {
        return Err((GraphError::invalid_version(v), None));
    }
    if !op.accepts(req.method) {
        return Err((GraphError::method_not_allowed(), None));
    }
    check_auth(state.config.token.as_deref(), req.authorization).map_err(|e| (e, None))?;
    // The drive resolves the item before Excel sees the request.
    if let Route::Workbook(w) = route {
        if !state.registry.knows(&w.item) {
            return Err((GraphError::unknown_item(), None));
        }
        // The permission tables of createSession, refreshSession,
        // closeSession and the operation: "Application: Not supported".
        // `$batch` itself takes any token; its workbook items come here.
        if is_app_only(req.authorization) {
            return Err((GraphError::app_only(), None));
        }
    }
    match route {
        Route::Workbook(w) => graph::workbook(state, now, req, w, fails_with).map(Outcome::respond),
        Route::Batch { version } if !ctx.in_batch => batch::handle(state, now, req, version, &mut graph_request),
        _ => Err((
            GraphError::invalid_request("A $batch request cannot contain another $batch request."),
            None,
        )),
    }
}

/// `Authorization: Bearer <non-empty>`, equal to the configured token if any.
pub(crate) fn check_auth(expected: Option<&str>, header: Option<&str>) -> Result<(), GraphError> {
    let value = header.map(str::trim).unwrap_or("");
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(GraphError::token_empty());
    }
    match expected {
        Some(t) if t != token => Err(GraphError::token_invalid()),
        _ => Ok(()),
    }
}

/// The bearer token is a JWT whose claims say it is app-only (client
/// credentials): `idtyp` is `"app"`, or `roles` without `scp`. Read, not
/// verified, as Graph's own check would be; opaque tokens are not.
pub(crate) fn is_app_only(header: Option<&str>) -> bool {
    let token = header
        .map(str::trim)
        .and_then(|v| v.split_once(' '))
        .map_or("", |(_, t)| t.trim());
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(claims) = crate::ids::unbase64(payload).and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    else {
        return false;
    };
    match claims.get("idtyp") {
        Some(idtyp) => idtyp.as_str() == Some("app"),
        None => claims.get("roles").is_some() && claims.get("scp").is_none(),
    }
}

fn record(
    state: &mut State,
    now: Now,
    req: &Request<'_>,
    operation: Option<Operation>,
    action: &Action,
    fault: Option<String>,
    batch: bool,
) {
    let status = match action {
        Action::Respond(r) | Action::DropMidResponse(r) => r.status,
        Action::Drop | Action::Resume => 0,
    };
    let own = |s: Option<&str>| s.map(str::to_owned);
    state.journal.record(Entry {
        seq: 0,
        method: req.method.to_owned(),
        path: req.path.to_owned(),
        operation,
        session_id: own(req.session_id),
        client_request_id: own(req.client_request_id),
        retry_attempt: own(req.retry_attempt),
        prefer: own(req.prefer),
        has_authorization: req.authorization.is_some(),
        status,
        batch,
        fault,
        time_ms: now.wall_ms(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_answers_loopback_peers_only() {
        let mut state = State::new(crate::Config::default());
        let now = Now::system();
        let mut req = Request {
            method: "GET",
            path: "/_emulator/health",
            host: "127.0.0.1:1",
            ..Request::default()
        };
        let status = |o: Outcome| match o.action {
            Action::Respond(r) => r.status,
            other => panic!("{other:?}"),
        };
        assert_eq!(status(handle(&mut state, now, &req)), 200);
        req.remote_peer = true;
        assert_eq!(status(handle(&mut state, now, &req)), 403);
        // Graph endpoints still answer remote peers (401 here: no token).
        req.path = "/v1.0/me/drive/items/1/workbook/worksheets";
        assert_eq!(status(handle(&mut state, now, &req)), 401);
        for (host, ok) in [
            ("localhost:80", true),
            ("[::1]:9", true),
            ("127.9.9.9", true),
            ("example.com", false),
        ] {
            assert_eq!(loopback_host(host), ok, "{host}");
        }
    }

    #[test]
    fn auth_rules() {
        let jwt = |claims: &str| {
            [
                "Bearer eyJhbGciOiJSUzI1NiJ9.",
                &crate::ids::base64(claims.as_bytes()).replace('=', ""),
                ".c2ln",
            ]
            .concat()
        };
        assert!(is_app_only(Some(&jwt(
            r#"{"idtyp":"app","roles":["Files.ReadWrite.All"]}"#
        ))));
        assert!(is_app_only(Some(&jwt(
            r#"{"roles":["Files.ReadWrite.All"],"appid":"a"}"#
        ))));
        assert!(!is_app_only(Some(&jwt(r#"{"idtyp":"user","scp":"Files.ReadWrite"}"#))));
        assert!(!is_app_only(Some(&jwt(r#"{"scp":"Files.ReadWrite"}"#))));
        for other in [
            None,
            Some("Bearer t"),
            Some("Bearer a.b.c"),
            Some("Bearer a.e30.c.d"),
            Some("Bearer ..."),
        ] {
            assert!(!is_app_only(other), "{other:?}");
        }
        assert!(check_auth(None, None).is_err());
        assert!(check_auth(None, Some("Bearer")).is_err());
        assert!(check_auth(None, Some("Bearer   ")).is_err());
        assert!(check_auth(None, Some("Basic abc")).is_err());
        assert!(check_auth(None, Some("bearer abc")).is_ok());
        assert!(check_auth(Some("t"), Some("Bearer t")).is_ok());
        assert_eq!(
            check_auth(Some("t"), Some("Bearer u")).unwrap_err().message,
            "Access token validation failure."
        );
    }
}
