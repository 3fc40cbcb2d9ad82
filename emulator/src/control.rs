//! The control API under `/_emulator/`: faults, sessions, request log,
//! stats, runtime config, reset, health. No auth; JSON in and out.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock::Now;
use crate::errors::{GraphError, Stamp};
use crate::faults::FaultSpec;
use crate::request::Request;
use crate::response::Response;
use crate::routes::{percent_decode, query_param};
use crate::state::State;

pub(crate) fn handle(state: &mut State, now: Now, req: &Request<'_>, rest: &str, stamp: &Stamp) -> Response {
    match route(state, now, req, rest) {
        Ok(r) => r,
        Err(e) => Response::error(&e, stamp),
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigPatch {
    persistent_ttl_ms: Option<u64>,
    non_persistent_ttl_ms: Option<u64>,
    operation_delay_ms: Option<u64>,
    max_sessions: Option<usize>,
    sync_create_below_ms: Option<u64>,
}

/// `POST /_emulator/workbooks`: items and prefixes to hold.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Seed {
    #[serde(default)]
    items: Vec<String>,
    #[serde(default)]
    prefixes: Vec<String>,
}

fn config_json(state: &State) -> Value {
    let c = &state.config;
    json!({
        "persistentTtlMs": ms(c.persistent_ttl),
        "nonPersistentTtlMs": ms(c.non_persistent_ttl),
        "operationDelayMs": ms(c.operation_delay),
        "maxSessions": c.max_sessions,
        "maxBodyBytes": c.max_body_bytes,
        "tokenRequired": c.token.is_some(),
        "syncCreateBelowMs": ms(c.sync_create_below),
        "controlOrigins": c.control_origins,
        "recreatable404": c.recreatable_404,
        "corsAnyOrigin": c.cors_any_origin,
        "maxCells": c.max_cells,
        "maxBytes": c.max_bytes,
    })
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, GraphError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| GraphError::invalid_request(format!("Invalid control request body: {e}")))
}

fn route(state: &mut State, _now: Now, req: &Request<'_>, rest: &str) -> Result<Response, GraphError> {
    if req.body_too_large {
        return Err(GraphError::too_large());
    }
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let method = req.method;
    let no_content = || Ok(Response::empty(204));
    match (segments.as_slice(), method) {
        (["faults"], "GET") => Ok(Response::json(200, &state.faults.to_json())),
        (["faults"], "POST") => {
            let spec: FaultSpec = parse_json(req.body)?;
            let id = state.faults.add(spec).map_err(GraphError::invalid_request)?;
            Ok(Response::json(201, &json!({ "id": id })))
        }
        (["faults"], "DELETE") => {
            state.faults.clear();
            no_content()
        }
        (["faults", id], "DELETE") => {
            let id = percent_decode(id).unwrap_or_default();
            if state.faults.remove(&id) {
                no_content()
            } else {
                Err(GraphError::item_not_found("No such fault."))
            }
        }
        (["sessions"], "GET") => {
            let list: Vec<Value> = state
                .sessions
                .list()
                .into_iter()
                .map(|s| {
                    json!({
                        "id": s.id.as_ref(),
                        "item": s.item,
                        "persistChanges": s.persist_changes,
                        "createdAtMs": s.created_at_ms,
                        "lastRefreshedAtMs": s.last_refreshed_at_ms,
                        "lastActivityAtMs": s.last_active_at_ms,
                        "expiresAtMs": s.expires_at_ms(),
                        "ttlMs": ms(s.ttl),
                        "refreshCount": s.refresh_count,
                    })
                })
                .collect();
            Ok(Response::json(200, &json!({ "sessions": list })))
        }
        (["sessions", id, "expire"], "POST") => {
            let id = percent_decode(id).unwrap_or_default();
            if state.sessions.remove(&id) {
                no_content()
            } else {
                Err(GraphError::item_not_found("No such live session."))
            }
        }
        (["workbooks"], "GET") => Ok(Response::json(200, &state.registry.to_json())),
        (["workbooks"], "POST") => {
            let seed: Seed = parse_json(req.body)?;
            state
                .registry
                .add(&seed.items, &seed.prefixes)
                .map_err(GraphError::invalid_request)?;
            Ok(Response::json(200, &state.registry.to_json()))
        }
        (["requests"], "GET") => {
            let filter = query_param(req.query, "pathContains");
            Ok(Response::json(200, &state.journal.requests_json(filter.as_deref())))
        }
        (["requests"], "DELETE") => {
            state.journal.clear_log();
            no_content()
        }
        (["stats"], "GET") => Ok(Response::json(
            200,
            &json!({
                "counts": state.journal.counts_json(),
                "sessions": state.sessions.len(),
                "expiryIndex": state.sessions.index_len(),
                "pendingOperations": state.ops.pending(),
                "operations": state.ops.len(),
                "faults": state.faults.len(),
                "loggedRequests": state.journal.len(),
                "loggedBytes": state.journal.bytes(),
                "cells": state.books.budget().cells(),
                "bytes": state.books.budget().bytes(),
            }),
        )),
        (["config"], "GET") => Ok(Response::json(200, &config_json(state))),
        (["config"], "POST") => {
            let patch: ConfigPatch = parse_json(req.body)?;
            let c = &mut state.config;
            if let Some(v) = patch.persistent_ttl_ms {
                c.persistent_ttl = Duration::from_millis(v);
            }
            if let Some(v) = patch.non_persistent_ttl_ms {
                c.non_persistent_ttl = Duration::from_millis(v);
            }
            if let Some(v) = patch.operation_delay_ms {
                c.operation_delay = Duration::from_millis(v);
            }
            if let Some(v) = patch.max_sessions {
                c.max_sessions = v;
            }
            if let Some(v) = patch.sync_create_below_ms {
                c.sync_create_below = Duration::from_millis(v);
            }
            Ok(Response::json(200, &config_json(state)))
        }
        (["reset"], "POST") => {
            state.reset();
            no_content()
        }
        (["health"], "GET") => Ok(Response::json(200, &json!({ "ok": true }))),
        (
            ["faults"]
            | ["faults", _]
            | ["sessions"]
            | ["sessions", _, "expire"]
            | ["workbooks"]
            | ["requests"]
            | ["stats"]
            | ["config"]
            | ["reset"]
            | ["health"],
            _,
        ) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::item_not_found("Unknown control endpoint.")),
    }
}
