//! The minimal workbook behind the session (issue 14): worksheet-list.md,
//! range-get.md, range-update.md, and workbook-createsession.md's session
//! semantics.

mod common;

use std::time::Duration;

use common::*;
use graph_workbook_emulator::Config;
use serde_json::{json, Value};

const RANGE: &str = "worksheets('Sheet1')/range(address='A1:B2')";

impl Emu {
    async fn patch(&self, op: &str, session: Option<&str>, body: Value) -> Resp {
        let mut h = vec![TOKEN, ("Content-Type", "application/json")];
        if let Some(s) = session {
            h.push(("workbook-session-id", s));
        }
        self.req("PATCH", &wb(ITEM, op), &h, Some(&body.to_string()))
            .await
            .full()
    }

    async fn read(&self, op: &str, session: Option<&str>) -> Resp {
        let mut h = vec![TOKEN];
        if let Some(s) = session {
            h.push(("workbook-session-id", s));
        }
        self.req("GET", &wb(ITEM, op), &h, None).await.full()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worksheets_and_range_values() {
    let emu = start_default().await;
    let r = emu.read("worksheets", None).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["value"][0]["name"], "Sheet1");
    assert_eq!(v["value"][0]["position"], 0);
    assert_eq!(v["value"][0]["visibility"], "Visible");
    assert!(v["value"][0]["id"].is_string());

    let r = emu
        .patch(RANGE, None, json!({"values": [["a", 1], [true, null]]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = emu.read(RANGE, None).await.json();
    assert_eq!(v["address"], "Sheet1!A1:B2");
    assert_eq!(v["values"], json!([["a", 1], [true, ""]]));
    assert_eq!((v["rowCount"].as_u64(), v["columnCount"].as_u64()), (Some(2), Some(2)));
    // Other spellings of the same cells.
    assert_eq!(
        emu.read("worksheets/Sheet1/range(address='A1')", None).await.json()["values"],
        json!([["a"]])
    );
    assert_eq!(
        emu.read("worksheets('Sheet1')/range(address='Sheet1!B1')", None)
            .await
            .json()["values"],
        json!([[1]])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_unknown_sheet_bad_address_content_type() {
    let emu = start_default().await;
    let r = emu.read("worksheets('Nope')/range(address='A1')", None).await;
    assert_eq!(r.status, 404);
    let v = r.json();
    assert_eq!(v["error"]["code"], "itemNotFound");
    assert_eq!(v["error"]["innerError"]["code"], "itemNotFound");
    for bad in ["A0", "ZZZZ1", "Other!A1", "A1:"] {
        let r = emu
            .read(&format!("worksheets('Sheet1')/range(address='{bad}')"), None)
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["error"]["innerError"]["code"], "invalidArgument", "{bad}");
    }
    let r = emu
        .req("PATCH", &wb(ITEM, RANGE), &[TOKEN], Some(r#"{"values":[[1,2],[3,4]]}"#))
        .await
        .full();
    assert_eq!(r.status, 400, "PATCH without Content-Type: {}", r.text());
    let r = emu.patch(RANGE, None, json!({"values": [[1, 2]]})).await;
    assert_eq!(r.json()["error"]["innerError"]["code"], "invalidArgument");
    let r = emu.req("DELETE", &wb(ITEM, RANGE), &[TOKEN], None).await.full();
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, PATCH")));
    assert_invalid_session(&emu.read(RANGE, Some("cluster=EMU&session=gone")).await);
}

/// workbook-createsession.md: a non-persistent session works on a temporary
/// copy whose changes are lost when the session ends; a persistent session
/// (or none) saves its changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_persistent_changes_vanish_persistent_ones_stay() {
    let emu = start_default().await;
    let temp = emu.create(ITEM, false).await;
    let keep = emu.create(ITEM, true).await;
    emu.patch(
        "worksheets('Sheet1')/range(address='A1')",
        Some(&temp),
        json!({"values": [["temp"]]}),
    )
    .await;
    emu.patch(
        "worksheets('Sheet1')/range(address='B1')",
        Some(&keep),
        json!({"values": [["kept"]]}),
    )
    .await;
    let a1b1 = "worksheets('Sheet1')/range(address='A1:B1')";
    assert_eq!(
        emu.read(a1b1, Some(&temp)).await.json()["values"],
        json!([["temp", ""]])
    );
    assert_eq!(
        emu.read(a1b1, Some(&keep)).await.json()["values"],
        json!([["", "kept"]])
    );
    assert_eq!(emu.read(a1b1, None).await.json()["values"], json!([["", "kept"]]));
    // Close the non-persistent session: its copy is gone.
    let r = emu
        .post(&wb(ITEM, "closeSession"), &[("workbook-session-id", &temp)], None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(emu.read(a1b1, None).await.json()["values"], json!([["", "kept"]]));
    // A new non-persistent session starts from the saved workbook.
    let temp2 = emu.create(ITEM, false).await;
    assert_eq!(
        emu.read(a1b1, Some(&temp2)).await.json()["values"],
        json!([["", "kept"]])
    );
    // Expiry ends a copy too.
    let r = emu
        .control(
            "POST",
            &format!("/sessions/{}/expire", temp2.replace('=', "%3D").replace('&', "%26")),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_invalid_session(&emu.read(a1b1, Some(&temp2)).await);
    // Without a session, a write stays.
    emu.patch(
        "worksheets('Sheet1')/range(address='A1')",
        None,
        json!({"values": [["plain"]]}),
    )
    .await;
    assert_eq!(
        emu.read(a1b1, Some(&keep)).await.json()["values"],
        json!([["plain", "kept"]])
    );
}

/// resources/excel.md: sessions expire after inactivity; a session-scoped
/// request is activity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_requests_count_as_activity() {
    let emu = start(Config {
        persistent_ttl: Duration::from_millis(400),
        ..Config::default()
    })
    .await;
    let id = emu.create(ITEM, true).await;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(emu.read("worksheets", Some(&id)).await.status, 200);
    }
    // 750 ms after creation, kept alive without a refresh.
    let s = &emu.sessions().await[0];
    assert_eq!(s["refreshCount"], 0);
    assert!(s["lastActivityAtMs"].as_u64() > s["lastRefreshedAtMs"].as_u64());
    assert_eq!(emu.refresh(ITEM, &id).await.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_requests_in_a_batch() {
    let emu = start_default().await;
    let id = emu.create(ITEM, false).await;
    let url = format!("{ITEM}/workbook/{RANGE}");
    let body = json!({"requests": [
        {"id":"1","method":"PATCH","url":url,"body":{"values":[[1,2],[3,4]]},"headers":{"Content-Type":"application/json","workbook-session-id":id}},
        {"id":"2","method":"GET","url":url,"headers":{"workbook-session-id":id}}
    ]});
    let r = emu
        .post(
            "/v1.0/$batch",
            &[("Content-Type", "application/json")],
            Some(&body.to_string()),
        )
        .await;
    let v = r.json();
    assert_eq!(v["responses"][1]["status"], 200, "{v}");
    assert_eq!(v["responses"][1]["body"]["values"], json!([[1, 2], [3, 4]]));
    assert_eq!(
        emu.read(RANGE, None).await.json()["values"],
        json!([["", ""], ["", ""]])
    );
}
