//! The docs' own examples, replayed against the emulator over loopback.
//!
//! Every ```http example (request, and the response the page shows) of
//! the pages below, plus the invalid variants those pages describe, written
//! from the docs of microsoftgraph/microsoft-graph-docs-contrib at the
//! revision named beside each page. `{id}` placeholders become a seeded
//! item, `{session-id}` a session created first, `{operation-id}` the
//! operation the example before started. A response matches when it has the
//! page's status and every member the page shows (values the page only
//! stands in for, such as `"id-value"` or `99`, are checked by type).
//!
//! Prints `N of M examples answer as the docs show` and fails unless N = M.
//! Examples the emulator does not serve by design (tables and functions: it
//! holds worksheets and ranges only) are listed as not replayed.

mod common;

use std::future::Future;

use common::*;
use graph_workbook_emulator::Config;
use serde_json::{json, Value};

const CREATE: &str = "api-reference/v1.0/api/workbook-createsession.md@0713c45";
const REFRESH: &str = "api-reference/v1.0/api/workbook-refreshsession.md@005016a";
const CLOSE: &str = "api-reference/v1.0/api/workbook-closesession.md@017688d";
const OPERATION: &str = "api-reference/v1.0/api/workbookoperation-get.md@0394918";
const RANGE_GET: &str = "api-reference/v1.0/api/range-get.md@073a396";
const RANGE_UPDATE: &str = "api-reference/v1.0/api/range-update.md@04a1c9a";
const NAME_ADD: &str = "api-reference/v1.0/api/nameditem-add.md@0273c46";
const PRACTICE: &str = "concepts/workbook-best-practice.md@08923be";
const ERRORS: &str = "concepts/workbook-error-handling.md@5248ec1";
const EXCEL: &str = "api-reference/v1.0/resources/excel.md@ba6c322";
const BATCHING: &str = "concepts/json-batching.md@028b8e3 (ms.date 02/21/2025)";

/// The drive item the examples' `{id}` / `{drive-item-id}` stand for.
const ID: &str = "/me/drive/items/01CCETFLK7GVZTZHSQNRD2AEI5XWTCU6FJ";
/// The `root:/{item-path}:` form's item.
const PATH_ITEM: &str = "/me/drive/root:/Docs/Book.xlsx:";

struct Replay {
    emu: Emu,
    ran: std::cell::RefCell<Vec<(&'static str, &'static str, Check)>>,
}

type Check = Result<(), String>;

fn expect(ok: bool, what: impl FnOnce() -> String) -> Check {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn status(r: &Resp, want: u16) -> Check {
    expect(r.status == want, || {
        format!("status {} (want {want}): {}", r.status, r.text())
    })
}

/// Every member of `shown` is in `got`: strings and numbers the page uses
/// as stand-ins (`"…-value"`, `99`) by type, the others by value.
fn shows(got: &Value, shown: &Value) -> Check {
    match (got, shown) {
        (Value::Object(g), Value::Object(s)) => {
            for (k, v) in s {
                let inner = g.get(k).ok_or_else(|| format!("no member {k:?} in {got}"))?;
                shows(inner, v).map_err(|e| format!("{k}: {e}"))?;
            }
            Ok(())
        }
        (Value::String(_), Value::String(s)) if s.ends_with("-value") => Ok(()),
        (Value::Number(_), Value::Number(n)) if n.as_u64() == Some(99) => Ok(()),
        // `"valueTypes-value"`: the page stands in for the 2-D array.
        (Value::Array(_), Value::String(s)) if s.ends_with("-value") => Ok(()),
        (g, s) => expect(g == s, || format!("{g} (the page shows {s})")),
    }
}

fn error_object(v: &Value) -> Check {
    let e = &v["error"];
    expect(
        e["code"].is_string() && e["message"].is_string() && e["innerError"].is_object(),
        || format!("not an error object: {v}"),
    )
}

impl Replay {
    async fn example<F: Future<Output = Check>>(&self, doc: &'static str, name: &'static str, f: F) {
        let r = f.await;
        self.ran.borrow_mut().push((doc, name, r));
    }

    async fn create(&self, item: &str) -> String {
        self.emu.create(item, true).await
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Resp {
        let mut h = vec![TOKEN];
        h.extend_from_slice(headers);
        self.emu.req(method, path, &h, body).await.full()
    }

    /// refreshSession on `{id}` in session `sid`, no body.
    async fn refresh(&self, sid: &str) -> Resp {
        let path = format!("/v1.0{ID}/workbook/refreshSession");
        self.send("POST", &path, &[("workbook-session-id", sid)], None).await
    }

    /// createSession on `{id}` with `{}`, as JSON.
    async fn create_sync(&self) -> Resp {
        let path = format!("/v1.0{ID}/workbook/createSession");
        self.send("POST", &path, &[CT], Some("{}")).await
    }

    /// The same with `Prefer: respond-async`.
    async fn create_async(&self) -> Resp {
        let path = format!("/v1.0{ID}/workbook/createSession");
        self.send("POST", &path, &[("Prefer", "respond-async"), CT], Some("{}"))
            .await
    }

    /// A `202 Accepted` whose `Location` is an operation of `{id}` on this
    /// emulator (createSession's Example 1): the operation's path.
    fn accepted(&self, r: &Resp) -> Result<String, String> {
        status(r, 202)?;
        let loc = self.location(r);
        let prefix = format!("/v1.0{ID}/workbook/operations/");
        expect(loc.starts_with(&prefix), || {
            format!("Location {:?}", r.header("location"))
        })?;
        Ok(loc)
    }

    /// The path of an answer's `Location` on this emulator.
    fn location(&self, r: &Resp) -> String {
        r.header("location")
            .and_then(|l| l.strip_prefix(self.emu.base.as_str()))
            .unwrap_or("")
            .to_owned()
    }

    async fn config(&self, v: Value) {
        assert_eq!(self.emu.control("POST", "/config", Some(v)).await.status, 200);
    }
}

const CT: (&str, &str) = ("Content-type", "application/json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_examples() {
    let emu = start_exact(Config {
        operation_delay: std::time::Duration::from_millis(400),
        seed: Some(21),
        ..Config::default()
    })
    .await;
    // The items the examples address, seeded as a user would.
    let seeded = emu
        .control("POST", "/workbooks", Some(json!({"items": [ID, PATH_ITEM]})))
        .await;
    assert_eq!(seeded.status, 200);
    let x = Replay {
        emu,
        ran: Default::default(),
    };
    let not_replayed = [
        (PRACTICE, "Step 2: add a new row to the table (tables/Table1/rows/add)"),
        (PRACTICE, "Step 3: look up a value (functions/vlookup)"),
    ];

    // ---- workbook-createsession.md
    let op_path = std::sync::Mutex::new(String::new());
    x.example(CREATE, "create_excel_session_with_long_running", async {
        let r = x
            .send(
                "POST",
                &format!("/v1.0{ID}/workbook/createSession"),
                &[("Prefer", "respond-async"), CT],
                Some("{\n    \"persistChanges\": true\n}"),
            )
            .await;
        let loc = x.accepted(&r)?;
        // "a `Location` header with an empty body" (the page's text; its
        // example shows `{}`).
        expect(r.body.is_empty() || r.json() == json!({}), || r.text())?;
        *op_path.lock().unwrap() = loc;
        Ok(())
    })
    .await;
    x.example(CREATE, "create_workbook_session", async {
        let r = x
            .send(
                "POST",
                &format!("/v1.0{ID}/workbook/createSession"),
                &[CT],
                Some("{\n  \"persistChanges\": true\n}"),
            )
            .await;
        status(&r, 201)?;
        shows(&r.json(), &json!({"id": "id-value", "persistChanges": true}))
    })
    .await;
    x.example(
        CREATE,
        "HTTP request: POST /me/drive/root:/{item-path}:/workbook/createSession",
        async {
            let r = x
                .send(
                    "POST",
                    &format!("/v1.0{PATH_ITEM}/workbook/createSession"),
                    &[CT],
                    Some(r#"{"persistChanges":false}"#),
                )
                .await;
            status(&r, 201)?;
            shows(&r.json(), &json!({"id": "id-value", "persistChanges": false}))
        },
    )
    .await;
    x.example(
        CREATE,
        "invalid: no JSON workbookSessionInfo body (\"supply a JSON representation\")",
        async {
            let path = format!("/v1.0{ID}/workbook/createSession");
            status(&x.send("POST", &path, &[], None).await, 400)?;
            status(
                &x.send("POST", &path, &[("Content-type", "text/plain")], Some("{}"))
                    .await,
                400,
            )
        },
    )
    .await;
    x.example(
        CREATE,
        "invalid: no Authorization (\"Bearer {token}. Required.\")",
        async {
            let r = x
                .emu
                .req("POST", &format!("/v1.0{ID}/workbook/createSession"), &[CT], Some("{}"))
                .await
                .full();
            status(&r, 401)
        },
    )
    .await;
    x.example(CREATE, "Error handling: a 504, then the request repeated", async {
        x.emu.fault(json!({"operation": "createSession", "status": 504})).await;
        let path = format!("/v1.0{ID}/workbook/createSession");
        status(&x.send("POST", &path, &[CT], Some("{}")).await, 504)?;
        status(&x.send("POST", &path, &[CT], Some("{}")).await, 201)
    })
    .await;
    x.example(
        CREATE,
        "invalid: an item that does not exist (404 itemNotFound)",
        async {
            let r = x
                .send(
                    "POST",
                    "/v1.0/me/drive/items/NOSUCHITEM/workbook/createSession",
                    &[CT],
                    Some("{}"),
                )
                .await;
            status(&r, 404)?;
            expect(r.json()["error"]["code"] == "itemNotFound", || r.text())
        },
    )
    .await;

    // ---- workbookoperation-get.md
    let op = op_path.lock().unwrap().clone();
    x.example(OPERATION, "get_workbookoperation: Response running", async {
        let r = x.send("GET", &op, &[], None).await;
        status(&r, 200)?;
        let id = op.rsplit('/').next().unwrap_or("");
        shows(&r.json(), &json!({"id": id, "status": "running"}))
    })
    .await;
    x.example(OPERATION, "get_workbookoperation: Response succeeded", async {
        let v = x.emu.poll_operation(&op).await;
        let id = op.rsplit('/').next().unwrap_or("");
        shows(&v, &json!({"id": id, "status": "succeeded"}))?;
        let loc = v["resourceLocation"].as_str().unwrap_or("");
        let want = format!(
            "{}/beta{ID}/workbook/sessionInfoResource(key='{id}')?sessionId=",
            x.emu.base
        );
        expect(loc.starts_with(&want), || format!("resourceLocation {loc}"))?;
        // Followed verbatim: the session info.
        let r = x.send("GET", &loc[x.emu.base.len()..], &[], None).await;
        status(&r, 200)?;
        shows(&r.json(), &json!({"id": "id-value", "persistChanges": true}))
    })
    .await;
    x.example(OPERATION, "get_workbookoperation: Response failed", async {
        x.emu
            .fault(json!({"operation": "createSession", "operationFails": true}))
            .await;
        let r = x.create_async().await;
        status(&r, 202)?;
        let path = x.location(&r);
        let v = x.emu.poll_operation(&path).await;
        shows(
            &v,
            &json!({
                "status": "failed",
                "error": {
                    "code": "internalServerError",
                    "message": "An internal server error occurred while processing the request.",
                    "innerError": {
                        "code": "internalServerErrorUncategorized",
                        "message": "An unspecified error has occurred.",
                        "innerError": {"code": "GenericFileOpenError", "message": "The workbook cannot be opened."}
                    }
                }
            }),
        )
    })
    .await;

    // ---- workbook-refreshsession.md and workbook-closesession.md
    let session = x.create(ID).await;
    x.example(REFRESH, "refresh_excel_session", async {
        let r = x
            .send(
                "POST",
                &format!("/v1.0{ID}/workbook/refreshSession"),
                &[CT, ("workbook-session-id", &session)],
                Some("{\n\n}"),
            )
            .await;
        status(&r, 204)?;
        expect(r.body.is_empty(), || r.text())
    })
    .await;
    x.example(REFRESH, "invalid: \"workbook-session-id header is required\"", async {
        let r = x
            .send("POST", &format!("/v1.0{ID}/workbook/refreshSession"), &[CT], Some("{}"))
            .await;
        status(&r, 400)?;
        error_object(&r.json())
    })
    .await;
    x.example(CLOSE, "invalid: \"workbook-session-id header is required\"", async {
        let r = x
            .send("POST", &format!("/v1.0{ID}/workbook/closeSession"), &[CT], None)
            .await;
        status(&r, 400)
    })
    .await;
    x.example(CLOSE, "close_workbook_session", async {
        let r = x
            .send(
                "POST",
                &format!("/v1.0{ID}/workbook/closeSession"),
                &[CT, ("workbook-session-id", &session)],
                None,
            )
            .await;
        status(&r, 204)?;
        expect(r.body.is_empty(), || r.text())
    })
    .await;
    x.example(
        EXCEL,
        "an expired (here: closed) session answers 404 on the session",
        async {
            let r = x.refresh(&session).await;
            status(&r, 404)?;
            error_object(&r.json())
        },
    )
    .await;

    // ---- nameditem-add.md (range-get.md's example reads a name)
    let session = x.create(ID).await;
    let in_session = ("workbook-session-id", session.as_str());
    x.example(NAME_ADD, "NamedItemcollection_add_1", async {
        let r = x
            .send(
                "POST",
                &format!("/v1.0{ID}/workbook/names/add"),
                &[CT, in_session],
                Some(
                    r#"{"name": "test5", "reference": "=Sheet1!$F$15:$N$27", "comment": "Comment for the named item"}"#,
                ),
            )
            .await;
        status(&r, 200)?;
        shows(
            &r.json(),
            &json!({
                "@odata.type": "#microsoft.graph.workbookNamedItem",
                "comment": "Comment for the named item",
                "name": "test5",
                "scope": "Workbook",
                "type": "Range",
                "value": "Sheet1!$F$15:$N$27",
                "visible": true
            }),
        )
    })
    .await;
    let range_shown = json!({
        "address": "address-value",
        "addressLocal": "addressLocal-value",
        "cellCount": 99,
        "columnCount": 99,
        "columnIndex": 99,
        "valueTypes": "valueTypes-value"
    });

    // ---- range-get.md
    x.example(RANGE_GET, "get_range (names/{name}/range)", async {
        let r = x
            .send(
                "GET",
                &format!("/v1.0{ID}/workbook/names/test5/range"),
                &[in_session],
                None,
            )
            .await;
        status(&r, 200)?;
        let v = r.json();
        shows(&v, &range_shown)?;
        expect(v["address"] == "Sheet1!F15:N27" && v["cellCount"] == 117, || {
            v.to_string()
        })?;
        expect(v["valueTypes"][0][0] == "Empty", || v["valueTypes"].to_string())
    })
    .await;
    for (form, path) in [
        (
            "HTTP request: worksheets/{name}/range(address='<address>')",
            format!("/v1.0{ID}/workbook/worksheets/Sheet1/range(address='A1:B2')"),
        ),
        (
            "HTTP request: worksheets/{id}/range(address='<address>')",
            format!("/v1.0{ID}/workbook/worksheets/%7B00000000-0001-0000-0000-000000000000%7D/range(address='A1:B2')"),
        ),
        (
            "HTTP request: root:/{item-path}:/workbook/worksheets/{name}/range(address='<address>')",
            format!("/v1.0{PATH_ITEM}/workbook/worksheets/Sheet1/range(address='A1:B2')"),
        ),
    ] {
        x.example(RANGE_GET, form, async {
            let r = x.send("GET", &path, &[], None).await;
            status(&r, 200)?;
            shows(&r.json(), &range_shown)
        })
        .await;
    }

    // ---- range-update.md
    x.example(RANGE_UPDATE, "update_range", async {
        let r = x
            .send(
                "PATCH",
                &format!("/v1.0{ID}/workbook/worksheets/%7B00000000-0001-0000-0000-000000000000%7D/range(address='A1:B2')"),
                &[CT, in_session],
                Some(
                    "{\n\"values\" : [[\"Hello\", \"100\"],[\"1/1/2016\", null]],\n\"formulas\" : [[null, null], [null, \"=B1*2\"]],\n\"numberFormat\" : [[null,null], [\"m-ddd\", null]]\n}",
                ),
            )
            .await;
        status(&r, 200)?;
        let v = r.json();
        shows(&v, &range_shown)?;
        // "The `null` input is to instruct the API to ignore the cell": B2
        // keeps the formula, A2 its value; the formula computes.
        shows(
            &v,
            &json!({
                "values": [["Hello", "100"], ["1/1/2016", 200]],
                "formulas": [["Hello", "100"], ["1/1/2016", "=B1*2"]],
                "numberFormat": [["General", "General"], ["m-ddd", "General"]]
            }),
        )
    })
    .await;
    x.example(RANGE_UPDATE, "HTTP request: PATCH names/{name}/range", async {
        let r = x
            .send(
                "PATCH",
                &format!("/v1.0{ID}/workbook/names/test5/range"),
                &[CT, in_session],
                Some(&json!({"numberFormat": vec![vec![Value::Null; 9]; 13]}).to_string()),
            )
            .await;
        status(&r, 200)?;
        shows(&r.json(), &range_shown)
    })
    .await;
    x.example(
        RANGE_UPDATE,
        "HTTP request: PATCH worksheets/{name}/range(address=) in the root:/{item-path}: form",
        async {
            let r = x
                .send(
                    "PATCH",
                    &format!("/v1.0{PATH_ITEM}/workbook/worksheets/Sheet1/range(address='C3')"),
                    &[CT],
                    Some(r#"{"values": [[42]]}"#),
                )
                .await;
            status(&r, 200)?;
            shows(
                &r.json(),
                &json!({"values": [[42]], "valueTypes": [["Double"]], "address": "Sheet1!C3"}),
            )
        },
    )
    .await;
    x.example(RANGE_UPDATE, "invalid: values of another shape than the range", async {
        let r = x
            .send(
                "PATCH",
                &format!("/v1.0{ID}/workbook/worksheets/Sheet1/range(address='A1:B2')"),
                &[CT, in_session],
                Some(r#"{"values": [["one row only", 1]]}"#),
            )
            .await;
        status(&r, 400)?;
        expect(r.json()["error"]["innerError"]["code"] == "invalidArgument", || {
            r.text()
        })
    })
    .await;
    let close = format!("/v1.0{ID}/workbook/closeSession");
    status(&x.send("POST", &close, &[in_session], None).await, 204).unwrap();

    // ---- workbook-best-practice.md: manage sessions
    let session = std::sync::Mutex::new(String::new());
    x.example(PRACTICE, "Step 1: create a session", async {
        let r = x
            .send(
                "POST",
                &format!("/v1.0{ID}/workbook/createSession"),
                &[CT],
                Some("{\n  \"persistChanges\": true\n}"),
            )
            .await;
        status(&r, 201)?;
        shows(&r.json(), &json!({"id": "id-value", "persistChanges": true}))?;
        *session.lock().unwrap() = r.json()["id"].as_str().unwrap_or("").to_owned();
        Ok(())
    })
    .await;
    let sid = session.lock().unwrap().clone();
    x.example(PRACTICE, "Step 4: close the session", async {
        let r = x
            .send("POST", &close, &[CT, ("workbook-session-id", &sid)], Some("{\n}"))
            .await;
        status(&r, 204)
    })
    .await;

    // ---- workbook-best-practice.md: the long-running operation pattern
    let lro = std::sync::Mutex::new(String::new());
    x.example(
        PRACTICE,
        "Initial request to create session (…/worksheets({id})/createSession): 202",
        async {
            let r = x
                .send(
                    "POST",
                    &format!("/v1.0{ID}/workbook/worksheets(%7B00000000-0001-0000-0000-000000000000%7D)/createSession"),
                    &[("Prefer", "respond-async"), CT],
                    Some("{\n    \"persistChanges\": true\n}"),
                )
                .await;
            let loc = x.accepted(&r)?;
            *lro.lock().unwrap() = loc;
            Ok(())
        },
    )
    .await;
    let lro = lro.lock().unwrap().clone();
    x.example(PRACTICE, "Poll status: running (GET with a `{}` body)", async {
        let r = x.send("GET", &lro, &[], Some("{\n}")).await;
        status(&r, 200)?;
        shows(&r.json(), &json!({"status": "running"}))?;
        expect(r.json()["id"].is_string(), || r.text())
    })
    .await;
    let key = std::sync::Mutex::new(String::new());
    x.example(PRACTICE, "Poll status: succeeded, with resourceLocation", async {
        let v = x.emu.poll_operation(&lro).await;
        shows(&v, &json!({"status": "succeeded"}))?;
        let loc = v["resourceLocation"].as_str().unwrap_or("");
        expect(
            loc.contains(&format!("{ID}/workbook/sessionInfoResource(key='")),
            || loc.to_owned(),
        )?;
        *key.lock().unwrap() = v["id"].as_str().unwrap_or("").to_owned();
        Ok(())
    })
    .await;
    let key = key.lock().unwrap().clone();
    x.example(
        PRACTICE,
        "Acquire session information: the bare sessionInfoResource(key='{key}')",
        async {
            let r = x
                .send(
                    "GET",
                    &format!("/v1.0{ID}/workbook/sessionInfoResource(key='{key}')"),
                    &[],
                    Some("{\n}"),
                )
                .await;
            status(&r, 200)?;
            shows(&r.json(), &json!({"id": "id-value", "persistChanges": true}))
        },
    )
    .await;
    x.example(PRACTICE, "Poll status: failed", async {
        x.emu
            .fault(json!({"operation": "createSession", "operationFails": true}))
            .await;
        let r = x.create_async().await;
        status(&r, 202)?;
        let v = x.emu.poll_operation(&x.location(&r)).await;
        shows(
            &v,
            &json!({"status": "failed", "error": {"code": "internalServerError",
                "innerError": {"code": "internalServerErrorUncategorized", "innerError": {"code": "GenericFileOpenError"}}}}),
        )
    })
    .await;
    x.example(PRACTICE, "The creation fails: 500 with three levels", async {
        x.emu
            .fault(json!({"operation": "createSession", "operationFails": true}))
            .await;
        let r = x.create_sync().await;
        status(&r, 500)?;
        shows(
            &r.json(),
            &json!({"error": {
                "code": "internalServerError",
                "message": "An internal server error occurred while processing the request.",
                "innerError": {
                    "code": "internalServerErrorUncategorized",
                    "message": "An unspecified error has occurred.",
                    "innerError": {"code": "GenericFileOpenError", "message": "The workbook cannot be opened."}
                }
            }}),
        )
    })
    .await;
    x.example(
        PRACTICE,
        "If the creation succeeds within seconds: 201 despite Prefer: respond-async",
        async {
            x.config(json!({"operationDelayMs": 0})).await;
            let r = x
                .send(
                    "POST",
                    &format!("/v1.0{ID}/workbook/createSession"),
                    &[("Prefer", "respond-async"), CT],
                    Some("{\n    \"persistChanges\": true\n}"),
                )
                .await;
            x.config(json!({"operationDelayMs": 400})).await;
            status(&r, 201)?;
            shows(&r.json(), &json!({"id": "id-value", "persistChanges": true}))
        },
    )
    .await;
    x.example(PRACTICE, "Retry-After header on a throttling response", async {
        x.emu
            .fault(json!({"operation": "createSession", "status": 429, "retryAfter": "3"}))
            .await;
        let r = x.create_sync().await;
        status(&r, 429)?;
        expect(r.header("retry-after") == Some("3"), || format!("{:?}", r.headers))
    })
    .await;

    // ---- workbook-error-handling.md
    let sid = x.create(ID).await;
    x.example(ERRORS, "Types of error responses: the regular error response", async {
        x.emu
            .fault(json!({"operation": "refreshSession", "status": 409, "innerCode": "accessConflict"}))
            .await;
        let r = x.refresh(&sid).await;
        status(&r, 409)?;
        expect(r.header("content-type") == Some("application/json"), || {
            format!("{:?}", r.headers)
        })?;
        error_object(&r.json())?;
        expect(r.json()["error"]["innerError"]["code"] == "accessConflict", || r.text())
    })
    .await;
    x.example(
        ERRORS,
        "Types of error responses: 200 OK with a failed operation",
        async {
            x.emu
                .fault(json!({"operation": "createSession", "operationFails": true, "status": 503}))
                .await;
            let r = x.create_async().await;
            let path = x.location(&r);
            let poll = x.send("GET", &path, &[], None).await;
            status(&poll, 200)?;
            let v = x.emu.poll_operation(&path).await;
            expect(v["status"] == "failed", || v.to_string())?;
            let e = &v["error"];
            expect(
                e["code"].is_string() && e["message"].is_string() && e["innerError"]["code"].is_string(),
                || v.to_string(),
            )
        },
    )
    .await;
    x.example(ERRORS, "Error recovery cooldown: Retry-After in seconds", async {
        x.emu
            .fault(json!({"operation": "refreshSession", "status": 503, "retryAfter": "2"}))
            .await;
        let r = x.refresh(&sid).await;
        status(&r, 503)?;
        expect(r.header("retry-after") == Some("2"), || format!("{:?}", r.headers))
    })
    .await;
    x.example(
        ERRORS,
        "Special case: a sessionful 502/503 without a listed second-level code",
        async {
            for s in [502, 503] {
                x.emu
                    .fault(json!({"operation": "refreshSession", "status": s, "innerCodes": []}))
                    .await;
                let r = x.refresh(&sid).await;
                status(&r, s)?;
                expect(r.json()["error"]["innerError"].get("code").is_none(), || r.text())?;
            }
            Ok(())
        },
    )
    .await;
    x.example(
        ERRORS,
        "Special case: a sessionful 503 with a listed second-level code",
        async {
            x.emu
                .fault(json!({"operation": "refreshSession", "status": 503, "innerCode": "invalidSessionReCreatable"}))
                .await;
            let r = x.refresh(&sid).await;
            status(&r, 503)?;
            expect(
                r.json()["error"]["innerError"]["code"] == "invalidSessionReCreatable",
                || r.text(),
            )
        },
    )
    .await;

    // ---- json-batching.md, in workbook forms
    let batch = |body: Value, content_type: Option<&'static str>| {
        let x = &x;
        async move {
            let mut h = vec![("Accept", "application/json")];
            if let Some(ct) = content_type {
                h.push(("Content-Type", ct));
            }
            x.send("POST", "/v1.0/$batch", &h, Some(&body.to_string())).await
        }
    };
    let refresh = |id: &str, deps: Value| {
        json!({"id": id, "method": "POST", "url": format!("{ID}/workbook/refreshSession"), "dependsOn": deps,
               "body": {}, "headers": {"Content-Type": "application/json", "workbook-session-id": sid}})
    };
    x.example(BATCHING, "Example JSON batch request (workbook requests)", async {
        let r = batch(
            json!({"requests": [
                {"id": "1", "method": "GET", "url": format!("{ID}/workbook/worksheets")},
                {"id": "2", "method": "GET", "url": format!("{ID}/workbook/worksheets/Sheet1/range(address='A1')")},
                {"id": "3", "method": "DELETE", "url": format!("{ID}/workbook/refreshSession")},
                {"id": "4", "url": format!("{ID}/workbook/refreshSession"), "method": "POST", "body": {},
                 "headers": {"Content-Type": "application/json", "workbook-session-id": sid}},
                {"id": "5", "url": format!("{ID}/workbook/worksheets?$select=name"), "method": "GET",
                 "headers": {"ConsistencyLevel": "eventual"}}
            ]}),
            Some("application/json"),
        )
        .await;
        status(&r, 200)?;
        let v = r.json();
        let answers = v["responses"].as_array().ok_or_else(|| v.to_string())?;
        let mut ids: Vec<&str> = answers.iter().filter_map(|a| a["id"].as_str()).collect();
        ids.sort_unstable();
        expect(ids == ["1", "2", "3", "4", "5"], || v.to_string())?;
        for (id, want) in [("1", 200), ("2", 200), ("3", 405), ("4", 204), ("5", 200)] {
            let a = answers.iter().find(|a| a["id"] == id).ok_or_else(|| v.to_string())?;
            expect(a["status"] == want, || format!("{id}: {a}"))?;
            if want >= 400 {
                error_object(&a["body"])?;
            }
        }
        Ok(())
    })
    .await;
    x.example(BATCHING, "Responses might appear in a different order", async {
        let reqs: Vec<Value> = (0..10).map(|i| refresh(&i.to_string(), json!([]))).collect();
        let v = batch(json!({ "requests": reqs }), Some("application/json"))
            .await
            .json();
        let ids: Vec<&str> = v["responses"]
            .as_array()
            .map_or(vec![], |a| a.iter().filter_map(|r| r["id"].as_str()).collect());
        let in_order: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        expect(ids.len() == 10 && ids != in_order, || v.to_string())
    })
    .await;
    x.example(BATCHING, "Sequencing requests with dependsOn: 1, 2, 4, 3", async {
        let r = batch(
            json!({"requests": [refresh("1", json!([])), refresh("2", json!(["1"])), refresh("4", json!(["2"])), refresh("3", json!(["4"]))]}),
            Some("application/json"),
        )
        .await;
        status(&r, 200)?;
        let v = r.json();
        expect(v["responses"].as_array().is_some_and(|a| a.len() == 4 && a.iter().all(|a| a["status"] == 204)), || {
            v.to_string()
        })
    })
    .await;
    x.example(
        BATCHING,
        "invalid: a dependency failed → 424 (Failed Dependency)",
        async {
            let mut bad = refresh("1", json!([]));
            bad["headers"]["workbook-session-id"] = json!("cluster=EMU&session=gone");
            let v = batch(
                json!({"requests": [bad, refresh("2", json!(["1"]))]}),
                Some("application/json"),
            )
            .await
            .json();
            let two = v["responses"]
                .as_array()
                .and_then(|a| a.iter().find(|a| a["id"] == "2"))
                .cloned();
            expect(two.is_some_and(|t| t["status"] == 424), || v.to_string())
        },
    )
    .await;
    x.example(
        BATCHING,
        "invalid: ids are not case-sensitive and must be unique → 400",
        async {
            let r = batch(
                json!({"requests": [refresh("a", json!([])), refresh("A", json!([]))]}),
                Some("application/json"),
            )
            .await;
            status(&r, 400)?;
            error_object(&r.json())
        },
    )
    .await;
    x.example(
        BATCHING,
        "invalid: a write without body → 400 (\"you must still specify the headers and body\")",
        async {
            let mut w = refresh("1", json!([]));
            w.as_object_mut().unwrap().remove("body");
            status(&batch(json!({"requests": [w]}), Some("application/json")).await, 400)
        },
    )
    .await;
    x.example(BATCHING, "invalid: a body without Content-Type → 400", async {
        let mut w = refresh("1", json!([]));
        w["headers"].as_object_mut().unwrap().remove("Content-Type");
        status(&batch(json!({"requests": [w]}), Some("application/json")).await, 400)
    })
    .await;
    x.example(BATCHING, "invalid: more than 20 requests → 400", async {
        let reqs: Vec<Value> = (0..21).map(|i| refresh(&i.to_string(), json!([]))).collect();
        status(&batch(json!({ "requests": reqs }), Some("application/json")).await, 400)
    })
    .await;
    x.example(BATCHING, "invalid: a malformed batch → 400", async {
        status(&batch(json!({"request": []}), Some("application/json")).await, 400)
    })
    .await;
    x.example(
        BATCHING,
        "invalid: the batch not sent as Content-Type: application/json → 400",
        async { status(&batch(json!({"requests": [refresh("1", json!([]))]}), None).await, 400) },
    )
    .await;
    x.example(BATCHING, "the v1.0 or beta version; another → 400", async {
        let body = json!({"requests": [refresh("1", json!([]))]}).to_string();
        let beta = x.send("POST", "/beta/$batch", &[CT], Some(&body)).await;
        status(&beta, 200)?;
        status(&x.send("POST", "/v2.0/$batch", &[CT], Some(&body)).await, 400)
    })
    .await;

    // ---- the count
    let ran = x.ran.borrow();
    let total = ran.len();
    let good = ran.iter().filter(|(_, _, r)| r.is_ok()).count();
    for (doc, name, r) in ran.iter() {
        if let Err(e) = r {
            println!("MISS {doc}: {name}: {e}");
        }
    }
    for (doc, name) in not_replayed {
        println!("not replayed (the emulator holds no tables or functions) {doc}: {name}");
    }
    println!("{good} of {total} examples answer as the docs show");
    assert_eq!(good, total, "{} examples differ from the docs", total - good);
}
