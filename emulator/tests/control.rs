//! The `/_emulator/` control API contract.

mod common;

use std::time::Duration;

use common::*;
use graph_workbook_emulator::Config;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_listing() {
    let emu = start_default().await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let id = emu.create(ITEM, false).await;
    emu.refresh(ITEM, &id).await;
    let s = emu.sessions().await;
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!(s["id"], id);
    assert_eq!(s["item"], ITEM);
    assert_eq!(s["persistChanges"], false);
    assert_eq!(s["refreshCount"], 1);
    let created = s["createdAtMs"].as_u64().unwrap();
    let refreshed = s["lastRefreshedAtMs"].as_u64().unwrap();
    let expires = s["expiresAtMs"].as_u64().unwrap();
    assert!(created >= before && refreshed >= created);
    assert_eq!(expires, refreshed + 420_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_log() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    emu.post(
        &wb(ITEM, "refreshSession"),
        &[
            ("workbook-session-id", &id),
            ("client-request-id", "cid-1"),
            ("Retry-Attempt", "2"),
        ],
        None,
    )
    .await;
    emu.req(
        "POST",
        &wb("/me/drive/root:/Book%201.xlsx:", "createSession"),
        &[("Prefer", "respond-async")],
        None,
    )
    .await;
    emu.get("/v1.0/unknown").await;
    let v = emu.control("GET", "/requests", None).await.json();
    let list = v["requests"].as_array().unwrap();
    assert_eq!(list.len(), 4);
    let e = &list[1];
    assert_eq!(e["seq"], 2);
    assert_eq!(e["method"], "POST");
    assert_eq!(e["path"], wb(ITEM, "refreshSession"));
    assert_eq!(e["operation"], "refreshSession");
    assert_eq!(e["sessionId"], id);
    assert_eq!(e["clientRequestId"], "cid-1");
    assert_eq!(e["retryAttempt"], "2");
    assert_eq!(e["hasAuthorization"], true);
    assert_eq!(e["status"], 204);
    assert_eq!(e["batch"], false);
    let e = &list[2];
    assert_eq!(
        (
            e["prefer"].as_str(),
            e["hasAuthorization"].as_bool(),
            e["status"].as_u64()
        ),
        (Some("respond-async"), Some(false), Some(401))
    );
    assert_eq!(list[3]["operation"], json!(null));
    assert_eq!(list[3]["status"], 404);
    // Filter: raw or decoded path.
    for q in ["Book%201", "Book%25201", "Book+1"] {
        let v = emu
            .control("GET", &format!("/requests?pathContains={q}"), None)
            .await
            .json();
        assert_eq!(v["requests"].as_array().unwrap().len(), 1, "{q}");
    }
    assert_eq!(emu.control("DELETE", "/requests", None).await.status, 204);
    assert_eq!(
        emu.control("GET", "/requests", None).await.json()["requests"],
        json!([])
    );
    // Control requests are not logged.
    assert_eq!(
        emu.control("GET", "/requests", None).await.json()["requests"],
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_config_reset_health() {
    let emu = start(Config {
        persistent_ttl: Duration::from_secs(60),
        ..Config::default()
    })
    .await;
    let id = emu.create(ITEM, true).await;
    emu.refresh(ITEM, &id).await;
    emu.post(&wb(ITEM, "closeSession"), &[("workbook-session-id", "nope")], None)
        .await;
    let s = emu.stats().await;
    assert_eq!(
        s["counts"],
        json!({"createSession":1,"refreshSession":1,"closeSession":1,"operation":0,"sessionInfo":0,"batch":0,"worksheets":0,"range":0,"names":0})
    );
    assert_eq!(s["sessions"], 1);

    let c = emu.control("GET", "/config", None).await.json();
    assert_eq!(c["persistentTtlMs"], 60_000);
    assert_eq!(c["nonPersistentTtlMs"], 420_000);
    assert_eq!(c["operationDelayMs"], 2000);
    // Partial update; applies from the next refresh.
    let c = emu
        .control("POST", "/config", Some(json!({"persistentTtlMs": 5000})))
        .await;
    assert_eq!(c.status, 200);
    assert_eq!(c.json()["persistentTtlMs"], 5000);
    assert_eq!(c.json()["nonPersistentTtlMs"], 420_000);
    assert_eq!(emu.sessions().await[0]["ttlMs"], 60_000);
    emu.refresh(ITEM, &id).await;
    assert_eq!(emu.sessions().await[0]["ttlMs"], 5000);
    assert_eq!(
        emu.control("POST", "/config", Some(json!({"ttl": 1}))).await.status,
        400
    );
    assert_eq!(
        emu.control("POST", "/config", Some(json!({"persistentTtlMs": "1"})))
            .await
            .status,
        400
    );

    emu.fault(json!({"status":500,"times":0})).await;
    assert_eq!(emu.control("POST", "/reset", None).await.status, 204);
    let s = emu.stats().await;
    assert_eq!(s["sessions"], 0);
    assert_eq!(s["counts"]["createSession"], 0);
    assert_eq!(s["faults"], 0);
    assert_eq!(
        emu.control("GET", "/config", None).await.json()["persistentTtlMs"],
        60_000
    );
    assert_eq!(
        emu.control("GET", "/requests", None).await.json()["requests"],
        json!([])
    );
    assert_eq!(emu.control("GET", "/faults", None).await.json()["faults"], json!([]));

    let h = emu.control("GET", "/health", None).await;
    assert_eq!((h.status, h.json()), (200, json!({"ok": true})));
    assert_eq!(h.header("content-type"), Some("application/json"));
    assert_eq!(emu.control("GET", "/nope", None).await.status, 404);
    assert_eq!(emu.control("GET", "", None).await.status, 404);
    assert_eq!(emu.control("GET", "/reset", None).await.status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_config_values_do_not_panic() {
    let emu = start_default().await;
    let max = u64::MAX;
    let r = emu
        .control(
            "POST",
            "/config",
            Some(json!({"persistentTtlMs": max, "nonPersistentTtlMs": max, "operationDelayMs": max})),
        )
        .await;
    assert_eq!(r.status, 200);
    let id = emu.create(ITEM, true).await;
    assert_eq!(emu.refresh(ITEM, &id).await.status, 204);
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
    assert_eq!(emu.get(&op).await.json()["status"], "running");
    assert_eq!(emu.sessions().await.len(), 1);
    // Zero TTL: gone at once.
    emu.control("POST", "/config", Some(json!({"persistentTtlMs": 0})))
        .await;
    let id = emu.create(ITEM, true).await;
    assert_invalid_session(&emu.refresh(ITEM, &id).await);
}
