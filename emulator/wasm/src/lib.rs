//! The Graph workbook emulator's pure handler
//! (`graph_workbook_emulator::handle`) compiled to wasm: the engine of the
//! npm package's `graph-workbook-session/testing` entry. One emulator, two
//! hosts: the socket server (`workbook-emulator`) and this in-process one,
//! whose JS half (`npm/testing/graph.js`) turns `fetch` calls into
//! [`Emulator::handle`] calls and sleeps the delays the handler asks for.
//!
//! ```text
//!  fetch(url, init) ──► graph.js ──► Emulator::handle(now, request) ──► Answer
//!                          ▲  sleeps, resumes, drops              │
//!                          └──────────────────────────────────────┘
//! ```

use std::collections::HashMap;
use std::time::Duration;

use graph_workbook_emulator::{handle, resume, Action, Body, Config, Now, Request, State};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

/// `createTestGraph`'s options, as the JS half passes them (JSON).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Options {
    /// The item paths it holds; `None`: every item path is a workbook.
    workbooks: Option<Vec<String>>,
    persistent_ttl_ms: Option<u64>,
    non_persistent_ttl_ms: Option<u64>,
    operation_delay_ms: Option<u64>,
    token: Option<String>,
    recreatable404: Option<bool>,
    /// Seeds session and request ids (the JS half draws it at random).
    seed: Option<u64>,
}

fn config(options: Options) -> Config {
    let mut c = Config {
        // In a test, createSession answers 201 at once unless the test
        // asks for the 202 flow (Graph answers 201 when creation is quick).
        operation_delay: Duration::ZERO,
        seed: options.seed,
        token: options.token,
        recreatable_404: options.recreatable404.unwrap_or(false),
        ..Config::default()
    };
    match options.workbooks {
        Some(items) => c.workbooks = items,
        None => c.workbook_prefixes = vec!["/".into()],
    }
    if let Some(ms) = options.persistent_ttl_ms {
        c.persistent_ttl = Duration::from_millis(ms);
    }
    if let Some(ms) = options.non_persistent_ttl_ms {
        c.non_persistent_ttl = Duration::from_millis(ms);
    }
    if let Some(ms) = options.operation_delay_ms {
        c.operation_delay = Duration::from_millis(ms);
    }
    c
}

/// The headers the emulator reads, by lowercase name (JSON object).
#[derive(Deserialize, Default)]
struct Headers(HashMap<String, String>);

impl Headers {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// One emulator: its whole state (sessions, workbooks, faults, the request
/// log).
#[wasm_bindgen]
pub struct Emulator {
    state: State,
}

#[wasm_bindgen]
impl Emulator {
    /// A fresh emulator; `options` is the JSON of [`Options`].
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str) -> Result<Emulator, JsError> {
        let options: Options =
            serde_json::from_str(options).map_err(|e| JsError::new(&format!("createTestGraph: {e}")))?;
        if let Some(items) = &options.workbooks {
            graph_workbook_emulator::Registry::check(items, &[])
                .map_err(|e| JsError::new(&format!("createTestGraph: workbooks: {e}")))?;
        }
        Ok(Emulator {
            state: State::new(config(options)),
        })
    }

    /// Handles one request at `mono_ms` (monotonic, `performance.now()`)
    /// and `wall_ms` (`Date.now()`). `resumed`: the second half of a
    /// delay-only fault ([`Answer::action`] was `"resume"`). `headers` is
    /// a JSON object of lowercase names.
    #[allow(clippy::too_many_arguments)]
    pub fn handle(
        &mut self,
        mono_ms: f64,
        wall_ms: f64,
        resumed: bool,
        method: &str,
        path: &str,
        query: Option<String>,
        host: &str,
        https: bool,
        headers: &str,
        body: &[u8],
    ) -> Answer {
        let headers: Headers = serde_json::from_str(headers).unwrap_or_default();
        let too_large = body.len() > self.state.config().max_body_bytes;
        let request = Request {
            method,
            path,
            query: query.as_deref(),
            host,
            https,
            authorization: headers.get("authorization"),
            session_id: headers.get("workbook-session-id"),
            client_request_id: headers.get("client-request-id"),
            retry_attempt: headers.get("retry-attempt"),
            prefer: headers.get("prefer"),
            content_type: headers.get("content-type"),
            origin: None,
            private_network: false,
            remote_peer: false,
            body: if too_large { &[] } else { body },
            body_too_large: too_large,
        };
        let now = Now::at(millis(mono_ms), millis(wall_ms));
        let outcome = if resumed {
            resume(&mut self.state, now, &request)
        } else {
            handle(&mut self.state, now, &request)
        };
        let delay_ms = outcome.delay.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let (action, response) = match outcome.action {
            Action::Respond(r) => ("respond", Some(r)),
            Action::DropMidResponse(r) => ("dropMidResponse", Some(r)),
            Action::Drop => ("drop", None),
            Action::Resume => ("resume", None),
        };
        let mut answer = Answer {
            action,
            delay_ms,
            status: 0,
            headers: "[]".into(),
            body: Vec::new(),
            filler: 0.0,
        };
        if let Some(r) = response {
            answer.status = r.status;
            let pairs: Vec<[&str; 2]> = r.headers.iter().map(|(n, v)| [n.as_ref(), v.as_ref()]).collect();
            answer.headers = serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into());
            match r.body {
                // Up to 1 GiB of `x`: the JS half streams it, never held here.
                Body::Filler(n) => answer.filler = n as f64,
                body => answer.body = body.to_bytes().into_owned(),
            }
        }
        answer
    }
}

/// Milliseconds from JS (any number; NaN and negatives are 0).
fn millis(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        Duration::from_secs_f64((ms / 1000.0).min(1e12))
    } else {
        Duration::ZERO
    }
}

/// What [`Emulator::handle`] decided: wait `delayMs`, then `action`
/// (`respond`, `dropMidResponse`: half the body then a network error,
/// `drop`: a network error, `resume`: call `handle` again with `resumed`).
#[wasm_bindgen]
pub struct Answer {
    action: &'static str,
    delay_ms: f64,
    status: u16,
    headers: String,
    body: Vec<u8>,
    filler: f64,
}

#[wasm_bindgen]
impl Answer {
    /// `respond`, `dropMidResponse`, `drop` or `resume`.
    #[wasm_bindgen(getter)]
    pub fn action(&self) -> String {
        self.action.into()
    }

    /// Wait this long first.
    #[wasm_bindgen(getter, js_name = delayMs)]
    pub fn delay_ms(&self) -> f64 {
        self.delay_ms
    }

    /// HTTP status (0 without a response).
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// JSON `[[name, value], …]`.
    #[wasm_bindgen(getter)]
    pub fn headers(&self) -> String {
        self.headers.clone()
    }

    /// The body's bytes.
    #[wasm_bindgen(getter)]
    pub fn body(&self) -> Vec<u8> {
        self.body.clone()
    }

    /// A body of this many `x` bytes instead (a fault's `bodyBytes`).
    #[wasm_bindgen(getter)]
    pub fn filler(&self) -> f64 {
        self.filler
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: &str = "/v1.0/me/drive/items/ANY/workbook/createSession";

    fn create(e: &mut Emulator, path: &str, prefer: bool, at_ms: f64) -> Answer {
        let headers = if prefer {
            r#"{"authorization":"Bearer t","content-type":"application/json","prefer":"respond-async"}"#
        } else {
            r#"{"authorization":"Bearer t","content-type":"application/json"}"#
        };
        e.handle(
            at_ms,
            1.7e12,
            false,
            "POST",
            path,
            None,
            "graph.microsoft.com",
            true,
            headers,
            b"{}",
        )
    }

    fn header(a: &Answer, name: &str) -> Option<String> {
        let pairs: Vec<(String, String)> = serde_json::from_str(&a.headers).unwrap();
        pairs
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    #[test]
    fn every_item_is_a_workbook_by_default_and_workbooks_limits_them() {
        let mut any = Emulator::new("{}").unwrap();
        let a = create(&mut any, CREATE, true, 0.0);
        assert_eq!(
            (a.action, a.status),
            ("respond", 201),
            "201 at once: no operation delay"
        );
        let mut only = Emulator::new(r#"{"workbooks":["/me/drive/items/HELD"]}"#).unwrap();
        assert_eq!(create(&mut only, CREATE, false, 0.0).status, 404);
        let held = create(
            &mut only,
            "/v1.0/me/drive/items/HELD/workbook/createSession",
            false,
            0.0,
        );
        assert_eq!(held.status, 201);
    }

    #[test]
    fn the_202_flow_points_at_the_https_host_it_was_asked_on() {
        let mut e = Emulator::new(r#"{"operationDelayMs":2000}"#).unwrap();
        let a = create(&mut e, CREATE, true, 0.0);
        assert_eq!(a.status, 202);
        let location = header(&a, "location").unwrap();
        assert!(location.starts_with("https://graph.microsoft.com/"), "{location}");
    }

    #[test]
    fn sessions_expire_on_the_hosts_clock_and_odd_times_do_not_panic() {
        let mut e = Emulator::new(r#"{"persistentTtlMs":1000}"#).unwrap();
        let created = create(&mut e, CREATE, false, 0.0);
        let id = serde_json::from_slice::<serde_json::Value>(&created.body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let refresh = |e: &mut Emulator, at: f64| {
            let headers = format!(
                r#"{{"authorization":"Bearer t","workbook-session-id":{}}}"#,
                serde_json::json!(id)
            );
            e.handle(
                at,
                1.7e12,
                false,
                "POST",
                "/v1.0/me/drive/items/ANY/workbook/refreshSession",
                None,
                "graph.microsoft.com",
                true,
                &headers,
                b"",
            )
            .status
        };
        assert_eq!(refresh(&mut e, 500.0), 204);
        assert_eq!(refresh(&mut e, 1400.0), 204, "a refresh moved the deadline");
        assert_eq!(refresh(&mut e, 2500.0), 404);
        for t in [f64::NAN, -1.0, f64::INFINITY, 1e300] {
            assert_eq!(create(&mut e, CREATE, false, t).status, 201);
        }
    }
}
