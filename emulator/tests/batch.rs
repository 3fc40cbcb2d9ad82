//! `POST /{version}/$batch`.

mod common;

use common::*;
use serde_json::{json, Value};

fn refresh_req(id: &str, item: &str, session: &str) -> Value {
    json!({
        "id": id,
        "method": "POST",
        "url": format!("{item}/workbook/refreshSession"),
        "headers": {"workbook-session-id": session, "Content-Type": "application/json"},
        "body": {}
    })
}

async fn batch(emu: &Emu, requests: Value) -> Resp {
    emu.post(
        "/v1.0/$batch",
        &[("Content-Type", "application/json")],
        Some(&json!({ "requests": requests }).to_string()),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_refreshes() {
    let emu = start_default().await;
    let mut reqs = Vec::new();
    for i in 0..20 {
        let item = format!("/me/drive/items/I{i}");
        let id = emu.create(&item, true).await;
        // Leading slash optional.
        let item = if i % 2 == 0 {
            item
        } else {
            item.trim_start_matches('/').to_owned()
        };
        reqs.push(refresh_req(&i.to_string(), &item, &id));
    }
    let r = batch(&emu, json!(reqs)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    let responses = v["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 20);
    // json-batching.md: answers "might appear in a different order"; each
    // id once.
    let mut ids: Vec<u32> = responses
        .iter()
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_ne!(
        ids,
        (0..20).collect::<Vec<_>>(),
        "a shuffled order (1 in 20! by chance)"
    );
    ids.sort_unstable();
    assert_eq!(ids, (0..20).collect::<Vec<_>>());
    for resp in responses {
        assert_eq!(resp["status"], 204, "{resp}");
        assert!(resp.get("body").is_none());
    }
    for s in emu.sessions().await {
        assert_eq!(s["refreshCount"], 1);
    }
    let stats = emu.stats().await;
    assert_eq!(stats["counts"]["batch"], 1);
    assert_eq!(stats["counts"]["refreshSession"], 20);
    // Inner requests are logged with batch: true.
    let log = emu.control("GET", "/requests", None).await.json();
    let inner: Vec<&Value> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["batch"] == true)
        .collect();
    assert_eq!(inner.len(), 20);
    assert_eq!(inner[0]["operation"], "refreshSession");
    assert_eq!(inner[0]["path"], "/v1.0/me/drive/items/I0/workbook/refreshSession");
    assert!(inner[0]["sessionId"].as_str().unwrap().starts_with("cluster=EMU"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_malformed() {
    let emu = start_default().await;
    let reqs: Vec<Value> = (0..21).map(|i| refresh_req(&i.to_string(), ITEM, "x")).collect();
    let r = batch(&emu, json!(reqs)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "BadRequest");
    assert_eq!(batch(&emu, json!([])).await.status, 400);
    for body in [
        "",
        "{",
        "[]",
        r#"{"requests":{}}"#,
        r#"{"requests":[{"id":"1"}]}"#,
        r#"{"requests":[{"id":"1","method":"POST","url":"/x"},{"id":"1","method":"POST","url":"/x"}]}"#,
    ] {
        let r = emu.post("/beta/$batch", &[JSON], Some(body)).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json()["error"]["code"], "BadRequest");
    }
    // No nested batches.
    let r = batch(
        &emu,
        json!([{"id":"1","method":"POST","url":"/$batch","body":{"requests":[]},"headers":{"Content-Type":"application/json"}}]),
    )
    .await;
    assert_eq!(r.json()["responses"][0]["status"], 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_results_with_a_faulted_inner_request() {
    let emu = start_default().await;
    let a = emu.create("/me/drive/items/A", true).await;
    let b = emu.create("/me/drive/items/B", true).await;
    emu.fault(json!({"operation":"refreshSession","pathContains":"/items/B/","status":429,"retryAfter":"7"}))
        .await;
    let r = batch(
        &emu,
        json!([
            refresh_req("ok", "/me/drive/items/A", &a),
            refresh_req("throttled", "/me/drive/items/B", &b),
            refresh_req("expired", "/me/drive/items/A", "cluster=EMU&session=gone"),
            {"id":"create","method":"POST","url":"/me/drive/items/C/workbook/createSession","body":{"persistChanges":false},"headers":{"content-type":"application/json"}},
            {"id":"noheader","method":"POST","url":"/me/drive/items/A/workbook/refreshSession","body":{},"headers":{"Content-Type":"application/json"}},
            {"id":"nope","method":"GET","url":"/me/drive/items/A/workbook/charts"}
        ]),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let by_id = |id: &str| {
        v["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("ok")["status"], 204);
    let t = by_id("throttled");
    assert_eq!(t["status"], 429);
    assert_eq!(t["headers"]["Retry-After"], "7");
    assert_eq!(t["body"]["error"]["code"], "tooManyRequests");
    let e = by_id("expired");
    assert_eq!(e["status"], 404);
    assert_eq!(e["body"]["error"]["code"], "notFound");
    let c = by_id("create");
    assert_eq!(c["status"], 201);
    assert_eq!(c["body"]["persistChanges"], false);
    assert_eq!(c["headers"]["Content-Type"], "application/json");
    assert_eq!(by_id("noheader")["status"], 400);
    assert_eq!(by_id("nope")["status"], 404);
    // The fault was spent on the inner request, not the outer one.
    assert_eq!(emu.refresh("/me/drive/items/B", &b).await.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outer_faults_and_inner_drops() {
    let emu = start_default().await;
    let a = emu.create(ITEM, true).await;
    emu.fault(json!({"operation":"batch","status":503,"retryAfter":"1"}))
        .await;
    let r = batch(&emu, json!([refresh_req("1", ITEM, &a)])).await;
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1")));
    emu.fault(json!({"operation":"refreshSession","drop":true})).await;
    let body = json!({"requests":[refresh_req("1", ITEM, &a)]}).to_string();
    let got = emu.req("POST", "/v1.0/$batch", &[TOKEN, JSON], Some(&body)).await;
    assert!(matches!(got, Got::Dropped), "{got:?}");
    let r = batch(&emu, json!([refresh_req("1", ITEM, &a)])).await;
    assert_eq!(r.json()["responses"][0]["status"], 204);
}
