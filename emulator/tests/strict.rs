//! Strict as Graph's docs: the behaviours of issue 12 (each test names the
//! doc that says so; emulator/README.md's fidelity table points here).

mod common;

use std::time::Duration;

use common::*;
use graph_workbook_emulator::Config;
use serde_json::{json, Value};

async fn batch(emu: &Emu, requests: Value) -> Resp {
    emu.post(
        "/v1.0/$batch",
        &[("Content-Type", "application/json")],
        Some(&json!({ "requests": requests }).to_string()),
    )
    .await
}

fn codes(v: &Value) -> Vec<String> {
    let mut out = vec![];
    let mut e = &v["error"];
    while let Some(c) = e.get("code").and_then(Value::as_str) {
        out.push(c.to_owned());
        e = &e["innerError"];
    }
    out
}

/// json-batching.md: a write needs `body` and a `Content-Type` header, else
/// the whole batch fails with 400; at most 20 requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_write_without_body_or_content_type_fails_the_whole_batch() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    let url = format!("{ITEM}/workbook/refreshSession");
    let good = json!({"id":"1","method":"POST","url":url,"body":{},"headers":{"Content-Type":"application/json","workbook-session-id":id}});
    for (bad, n) in [
        (
            json!({"id":"7","method":"POST","url":url,"headers":{"Content-Type":"application/json","workbook-session-id":id}}),
            "7",
        ),
        (
            json!({"id":"8","method":"POST","url":url,"body":{},"headers":{"workbook-session-id":id}}),
            "8",
        ),
        (
            json!({"id":"9","method":"PATCH","url":url,"body":null,"headers":{"Content-Type":"application/json"}}),
            "9",
        ),
        (json!({"id":"10","method":"put","url":url}), "10"),
    ] {
        let r = batch(&emu, json!([good, bad])).await;
        assert_eq!(r.status, 400, "{}", r.text());
        let v = r.json();
        assert_eq!(v["error"]["code"], "BadRequest");
        assert_eq!(
            v["error"]["message"],
            format!("Write request id : {n} does not contain Content-Type header or body.")
        );
    }
    // No inner request ran: the session was not refreshed.
    assert_eq!(emu.sessions().await[0]["refreshCount"], 0);
    // The inner workbook-session-id comes from the sub-request's headers.
    let r = batch(&emu, json!([good])).await;
    assert_eq!(r.json()["responses"][0]["status"], 204);
    assert_eq!(emu.sessions().await[0]["refreshCount"], 1);
    let log = emu.control("GET", "/requests", None).await.json();
    let inner = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["batch"] == true)
        .unwrap()
        .clone();
    assert_eq!(inner["sessionId"], json!(id));
    // 21 requests: 400.
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method":"GET","url":"/me"}))
        .collect();
    assert_eq!(batch(&emu, json!(many)).await.status, 400);
}

/// workbook-best-practice.md: "If the session creation completes in several
/// seconds, it will return a regular create session response" (201).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_respond_async_creation_answers_201() {
    let emu = start(Config {
        operation_delay: Duration::from_millis(10),
        ..Config::default()
    })
    .await;
    let r = emu
        .post(&wb(ITEM, "createSession"), &[("Prefer", "respond-async")], Some("{}"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.json()["id"].as_str().unwrap().starts_with("cluster=EMU"));
    // At or above the threshold (default 100 ms): the 202 flow.
    emu.control("POST", "/config", Some(json!({"operationDelayMs": 100})))
        .await;
    let r = emu
        .post(&wb(ITEM, "createSession"), &[("Prefer", "respond-async")], Some("{}"))
        .await;
    assert_eq!(r.status, 202);
    // The threshold is a setting: 0 keeps every respond-async on 202.
    emu.control(
        "POST",
        "/config",
        Some(json!({"operationDelayMs": 1, "syncCreateBelowMs": 0})),
    )
    .await;
    let r = emu
        .post(&wb(ITEM, "createSession"), &[("Prefer", "respond-async")], Some("{}"))
        .await;
    assert_eq!(r.status, 202);
}

/// workbookoperation-get.md: a succeeded operation's resourceLocation is
/// `…/beta/…/sessionInfoResource(key='…')?sessionId=<base64 of the id>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_location_has_the_session_id_query() {
    let emu = start(Config {
        operation_delay: Duration::from_millis(150),
        ..Config::default()
    })
    .await;
    let r = emu
        .post(&wb(ITEM, "createSession"), &[("Prefer", "respond-async")], Some("{}"))
        .await;
    assert_eq!(r.status, 202);
    let op = r
        .header("location")
        .unwrap()
        .strip_prefix(&emu.base)
        .unwrap()
        .to_owned();
    let v = emu.poll_operation(&op).await;
    let loc = v["resourceLocation"]
        .as_str()
        .unwrap()
        .strip_prefix(&emu.base)
        .unwrap()
        .to_owned();
    assert!(
        loc.starts_with(&format!("/beta{ITEM}/workbook/sessionInfoResource(key='")),
        "{loc}"
    );
    let info = emu.get(&loc).await;
    assert_eq!(info.status, 200, "{}", info.text());
    let id = info.json()["id"].as_str().unwrap().to_owned();
    let b64 = loc.split_once("?sessionId=").unwrap().1;
    assert!(id.starts_with("cluster=EMU&session="));
    assert_eq!(b64.len() % 4, 0, "padded base64: {b64}");
    // workbook-best-practice.md ("Acquire session information") reads the
    // bare form: 200 too; another session's id or a non-base64 one is not.
    let bare = loc.split_once('?').unwrap().0;
    let info = emu.get(bare).await;
    assert_eq!((info.status, info.json()["id"].as_str()), (200, Some(id.as_str())));
    assert_eq!(emu.get(&format!("{bare}?sessionId=b3RoZXI=")).await.status, 404);
    assert_eq!(emu.get(&format!("{bare}?sessionId=%%%")).await.status, 400);
}

/// workbook-error-handling.md: three levels, the second decides, real casing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_nest_three_levels() {
    let emu = start(Config {
        recreatable_404: true,
        ..Config::default()
    })
    .await;
    let r = emu.refresh(ITEM, "cluster=EMU&session=gone").await;
    let v = r.json();
    assert_eq!(
        codes(&v),
        ["itemNotFound", "invalidSessionReCreatable", "InvalidOrTimedOutSession"]
    );
    let inner = &v["error"]["innerError"];
    assert_eq!(inner["request-id"], r.header("request-id").unwrap());
    assert_eq!(inner["client-request-id"], r.header("client-request-id").unwrap());
    assert!(inner["date"].is_string());
    assert!(inner["message"].is_string());
    assert!(inner["innerError"].get("request-id").is_none());
}

/// workbook-error-handling.md (tooManyRequestsUncategorized: resend after
/// the cooldown; internalServerErrorUncategorized: no further access to the
/// session; accessConflict: do not resend) and its case-insensitive codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excel_faults_throttle_internal_error_conflict_and_chosen_nesting() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    emu.fault(json!({"operation":"refreshSession","status":429,"retryAfter":"600"}))
        .await;
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("600")));
    assert_eq!(
        codes(&r.json()),
        [
            "tooManyRequests",
            "tooManyRequestsUncategorized",
            "ActivityLimitReached"
        ]
    );

    emu.fault(json!({"operation":"refreshSession","status":500,"endSession":true}))
        .await;
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        codes(&r.json()),
        [
            "internalServerError",
            "internalServerErrorUncategorized",
            "GenericFileOpenError"
        ]
    );
    assert!(emu.sessions().await.is_empty(), "endSession ends it");
    assert_invalid_session(&emu.refresh(ITEM, &id).await);

    let id = emu.create(ITEM, true).await;
    emu.fault(json!({"status":409,"innerCode":"accessConflict"})).await;
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(r.status, 409);
    assert_eq!(codes(&r.json()), ["conflict", "accessConflict"]);
    assert_eq!(emu.sessions().await.len(), 1, "without endSession the session lives");

    emu.fault(json!({"status":404,"code":"ItemNotFound","innerCodes":["InvalidSessionReCreatable","SessionExpired"]}))
        .await;
    let r = emu.refresh(ITEM, &id).await;
    let v = r.json();
    assert_eq!(
        codes(&v),
        ["ItemNotFound", "InvalidSessionReCreatable", "SessionExpired"]
    );
    assert_eq!(v["error"]["message"], "The target session is invalid.");

    emu.fault(json!({"status":503,"innerCodes":[]})).await;
    assert_eq!(codes(&emu.refresh(ITEM, &id).await.json()), ["serviceUnavailable"]);
}

/// A redirect fault: a 3xx with `Location`, for the library's redirect rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_fault() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    emu.fault(json!({"operation":"refreshSession","location":"https://elsewhere.example/x"}))
        .await;
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("https://elsewhere.example/x"))
    );
    assert!(r.body.is_empty());
    emu.fault(json!({"status":307,"location":"/v1.0/elsewhere"})).await;
    assert_eq!(emu.refresh(ITEM, &id).await.status, 307);
}

/// Fault bodies are capped (`body` ≤ 64 KiB; `bodyBytes` streams).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_bodies_are_capped() {
    let emu = start(Config {
        max_body_bytes: 1 << 20,
        ..Config::default()
    })
    .await;
    let r = emu
        .control("POST", "/faults", Some(json!({"body": "x".repeat(64 * 1024 + 1)})))
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    emu.fault(json!({"body": "y".repeat(64 * 1024), "status": 200, "times": 0}))
        .await;
    for _ in 0..2 {
        assert_eq!(emu.refresh(ITEM, "x").await.body.len(), 64 * 1024);
    }
}
