//! Session lifecycle over real HTTP: create (201 and 202), refresh, close,
//! expiry, eviction, bounded table, item path forms.

mod common;

use std::time::Duration;

use common::*;
use graph_workbook_emulator::Config;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_refresh_close() {
    let emu = start_default().await;
    let r = emu
        .post(&wb(ITEM, "createSession"), &[], Some(r#"{"persistChanges":false}"#))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    let id = v["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cluster=EMU&session="), "{id}");
    assert_eq!(v["persistChanges"], false);
    assert!(v["@odata.context"].as_str().unwrap().starts_with(&emu.base));

    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(r.status, 204);
    let s = emu.sessions().await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["refreshCount"], 2);
    assert_eq!(s[0]["persistChanges"], false);
    assert_eq!(s[0]["item"], ITEM);
    assert_eq!(s[0]["ttlMs"], 420_000);

    let r = emu
        .post(&wb(ITEM, "closeSession"), &[("workbook-session-id", &id)], None)
        .await;
    assert_eq!(r.status, 204);
    assert_invalid_session(&emu.refresh(ITEM, &id).await);
    assert_invalid_session(
        &emu.post(&wb(ITEM, "closeSession"), &[("workbook-session-id", &id)], None)
            .await,
    );
    assert_eq!(emu.stats().await["sessions"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_body_forms() {
    let emu = start_default().await;
    for body in ["{}", r#"{"persistChanges":true}"#, " { } "] {
        let r = emu.post(&wb(ITEM, "createSession"), &[], Some(body)).await;
        assert_eq!(r.status, 201, "{body:?}");
        assert_eq!(r.json()["persistChanges"], true, "{body:?}");
    }
    // workbook-createsession.md: the body is a JSON workbookSessionInfo,
    // sent as application/json; no body, or another Content-Type, is 400.
    for (body, content_type) in [
        (None, "application/json"),
        (Some(""), "application/json"),
        (Some("  "), "application/json"),
        (Some("{}"), "text/plain"),
        (Some("{}"), ""),
    ] {
        let mut h = vec![TOKEN];
        if !content_type.is_empty() {
            h.push(("Content-Type", content_type));
        }
        let r = emu.req("POST", &wb(ITEM, "createSession"), &h, body).await.full();
        assert_eq!(r.status, 400, "{body:?} {content_type}");
        assert_eq!(r.json()["error"]["code"], "invalidRequest");
    }
    for body in [
        r#"{"persistChanges":"yes"}"#,
        r#"{"persistChanges":null}"#,
        "{nope",
        "[]",
        "42",
    ] {
        let r = emu.post(&wb(ITEM, "createSession"), &[], Some(body)).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json()["error"]["code"], "invalidRequest", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_header_and_unknown_sessions() {
    let emu = start_default().await;
    for op in ["refreshSession", "closeSession"] {
        let r = emu.post(&wb(ITEM, op), &[], None).await;
        assert_eq!(r.status, 400, "{op}");
        assert_eq!(r.json()["error"]["code"], "invalidRequest");
        let r = emu.post(&wb(ITEM, op), &[("workbook-session-id", "")], None).await;
        assert_eq!(r.status, 400, "{op} empty");
        assert_invalid_session(
            &emu.post(
                &wb(ITEM, op),
                &[("workbook-session-id", "cluster=X&session=nope")],
                None,
            )
            .await,
        );
    }
    // A session opened on another item is invalid here.
    let id = emu.create("/me/drive/items/OTHER", true).await;
    assert_invalid_session(&emu.refresh(ITEM, &id).await);
    assert_eq!(emu.refresh("/me/drive/items/OTHER", &id).await.status, 204);
    // Malformed JSON on refresh.
    let r = emu
        .post(
            &wb("/me/drive/items/OTHER", "refreshSession"),
            &[("workbook-session-id", &id)],
            Some("{"),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_path_forms() {
    let emu = start_default().await;
    for (raw, decoded) in [
        ("/me/drive/items/01ABC", "/me/drive/items/01ABC"),
        ("/drives/b!xyz/items/01ABC", "/drives/b!xyz/items/01ABC"),
        (
            "/sites/contoso.sharepoint.com,1,2/drive/items/01ABC",
            "/sites/contoso.sharepoint.com,1,2/drive/items/01ABC",
        ),
        (
            "/users/someone@contoso.com/drive/items/01ABC",
            "/users/someone@contoso.com/drive/items/01ABC",
        ),
        ("/groups/g1/drive/items/01ABC", "/groups/g1/drive/items/01ABC"),
        (
            "/me/drive/root:/Folder/Book%201.xlsx:",
            "/me/drive/root:/Folder/Book 1.xlsx:",
        ),
        (
            "/me/drive/root:/Donn%C3%A9es/%E6%97%A5%E6%9C%AC%20%F0%9F%93%8A.xlsx:",
            "/me/drive/root:/Données/日本 📊.xlsx:",
        ),
    ] {
        let id = emu.create(raw, true).await;
        assert_eq!(emu.refresh(raw, &id).await.status, 204, "{raw}");
        let s = emu.sessions().await;
        assert_eq!(s.last().unwrap()["item"], decoded);
        // Other versions address the same item.
        let r = emu
            .post(
                &format!("/beta{raw}/workbook/refreshSession"),
                &[("workbook-session-id", &id)],
                None,
            )
            .await;
        assert_eq!(r.status, 204, "{raw}");
    }
    // Invalid UTF-8 after decoding.
    let r = emu
        .post("/v1.0/me/drive/root:/%FF.xlsx:/workbook/createSession", &[], Some("{}"))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_create_flow() {
    let emu = start(Config {
        operation_delay: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let item = "/me/drive/root:/Book%201.xlsx:";
    let r = emu
        .post(
            &wb(item, "createSession"),
            &[("Prefer", "respond-async")],
            Some(r#"{"persistChanges":false}"#),
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_empty());
    let location = r.header("location").unwrap().to_owned();
    let prefix = format!("{}/v1.0{}/workbook/operations/", emu.base, item);
    assert!(location.starts_with(&prefix), "{location}");
    let op_path = location.strip_prefix(&emu.base).unwrap().to_owned();

    let first = emu.get(&op_path).await;
    assert_eq!(first.status, 200);
    let v = first.json();
    // Possible on a stalled machine: already done. Either way the shape holds.
    assert!(v["status"] == "running" || v["status"] == "succeeded", "{v}");
    assert!(v["createdDateTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["id"].as_str().unwrap(), op_path.rsplit('/').next().unwrap());

    let v = emu.poll_operation(&op_path).await;
    assert_eq!(v["status"], "succeeded", "{v}");
    let resource = v["resourceLocation"].as_str().unwrap();
    assert!(
        resource.starts_with(&format!("{}/beta{}/workbook/sessionInfoResource(key='", emu.base, item)),
        "{resource}"
    );
    // workbookoperation-get.md: `?sessionId=` + the session id in base64.
    let (bare, query) = resource.split_once('?').unwrap();
    assert!(query.starts_with("sessionId="), "{resource}");
    // workbook-best-practice.md reads the bare form: it answers too.
    let r = emu.get(bare.strip_prefix(&emu.base).unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["id"].as_str().unwrap().starts_with("cluster=EMU"));
    let r = emu
        .get(&format!("{}?sessionId=Zm9v", bare.strip_prefix(&emu.base).unwrap()))
        .await;
    assert_eq!(r.status, 404);
    let info = emu.get(resource.strip_prefix(&emu.base).unwrap()).await;
    assert_eq!(info.status, 200);
    let info = info.json();
    assert_eq!(info["persistChanges"], false);
    let id = info["id"].as_str().unwrap();
    assert_eq!(emu.refresh(item, id).await.status, 204);

    // An operation is its item's (workbookoperation-get.md's URL names the
    // item): polled through another item, it is not found, as
    // sessionInfoResource.
    let op_id = op_path.rsplit('/').next().unwrap();
    let r = emu.get(&wb(ITEM, &format!("operations/{op_id}"))).await;
    assert_eq!(r.status, 404, "{}", r.text());

    // Unknown operation and key.
    let r = emu.get(&wb(ITEM, "operations/nope")).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (404, json!("itemNotFound"))
    );
    let r = emu
        .get(&wb(ITEM, "sessionInfoResource(key='nope')?sessionId=Zm9v"))
        .await;
    assert_eq!(r.status, 404);
    assert!(emu.stats().await["counts"]["operation"].as_u64().unwrap() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_create_failed_operation() {
    let emu = start(Config {
        operation_delay: Duration::from_millis(50),
        sync_create_below: Duration::ZERO,
        ..Config::default()
    })
    .await;
    emu.fault(json!({"operation":"createSession","operationFails":true,"status":503,"code":"serviceNotAvailable","innerCode":"sessionCreationFailed"}))
        .await;
    let r = emu
        .post(&wb(ITEM, "createSession"), &[("Prefer", "respond-async")], Some("{}"))
        .await;
    assert_eq!(r.status, 202);
    let op_path = r
        .header("location")
        .unwrap()
        .strip_prefix(&emu.base)
        .unwrap()
        .to_owned();
    let last = emu.poll_operation(&op_path).await;
    assert_eq!(last["status"], "failed");
    assert_eq!(last["error"]["code"], "serviceNotAvailable");
    assert!(last["error"]["message"].is_string());
    assert_eq!(last["error"]["innerError"]["code"], "sessionCreationFailed");
    assert!(last.get("resourceLocation").is_none());
    assert_eq!(emu.stats().await["sessions"], 0);
    // A synchronous create with operationFails answers the error directly.
    emu.fault(json!({"operationFails":true})).await;
    let r = emu.post(&wb(ITEM, "createSession"), &[], Some("{}")).await;
    assert_eq!(r.status, 500);
    let v = r.json();
    assert_eq!(v["error"]["code"], "internalServerError");
    assert_eq!(v["error"]["innerError"]["code"], "internalServerErrorUncategorized");
    assert_eq!(v["error"]["innerError"]["innerError"]["code"], "GenericFileOpenError");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_after_ttl() {
    let emu = start(Config {
        persistent_ttl: Duration::from_millis(100),
        non_persistent_ttl: Duration::from_millis(150),
        ..Config::default()
    })
    .await;
    let a = emu.create(ITEM, true).await;
    let b = emu.create(ITEM, false).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_invalid_session(&emu.refresh(ITEM, &a).await);
    assert_invalid_session(&emu.refresh(ITEM, &b).await);
    assert!(emu.sessions().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_keeps_the_table_flat() {
    let emu = start(Config {
        persistent_ttl: Duration::from_millis(200),
        ..Config::default()
    })
    .await;
    for round in 0..3 {
        let mut tasks = Vec::new();
        for i in 0..100 {
            let addr = emu.addr;
            tasks.push(tokio::spawn(async move {
                let item = format!("/me/drive/items/R{round}I{i}");
                let r = send(addr, "POST", &wb(&item, "createSession"), &[TOKEN, JSON], Some(b"{}"))
                    .await
                    .full();
                assert_eq!(r.status, 201);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let live = emu.stats().await["sessions"].as_u64().unwrap();
        assert!(live <= 100 * (round + 1), "{live}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let s = emu.stats().await;
        assert_eq!(s["sessions"], 0, "{s}");
        assert_eq!(s["expiryIndex"], 0, "{s}");
    }
    // Manual expiry through the control API.
    let id = emu.create(ITEM, true).await;
    emu.control("POST", "/config", Some(json!({"persistentTtlMs": 300000})))
        .await;
    let id2 = emu.create(ITEM, true).await;
    let enc = id2.replace('=', "%3D").replace('&', "%26");
    assert_eq!(
        emu.control("POST", &format!("/sessions/{enc}/expire"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        emu.control("POST", &format!("/sessions/{enc}/expire"), None)
            .await
            .status,
        404
    );
    assert_invalid_session(&emu.refresh(ITEM, &id2).await);
    let _ = id;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_session_table() {
    let emu = start(Config {
        max_sessions: 3,
        ..Config::default()
    })
    .await;
    let ids = [
        emu.create(ITEM, true).await,
        emu.create(ITEM, true).await,
        emu.create(ITEM, true).await,
    ];
    let r = emu.post(&wb(ITEM, "createSession"), &[], Some("{}")).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"]["code"], "serviceUnavailable");
    assert_eq!(
        r.json()["error"]["innerError"]["code"],
        "serviceUnavailableUncategorized"
    );
    assert!(r.header("retry-after").is_some());
    let r = emu
        .post(&wb(ITEM, "createSession"), &[("Prefer", "respond-async")], Some("{}"))
        .await;
    assert_eq!(r.status, 503);
    // Closing one frees a slot.
    assert_eq!(
        emu.post(&wb(ITEM, "closeSession"), &[("workbook-session-id", &ids[0])], None)
            .await
            .status,
        204
    );
    emu.create(ITEM, true).await;
}

/// The pure core with injected time: exact TTL boundaries, no sleeping.
#[test]
fn pure_core_expiry_boundaries() {
    use graph_workbook_emulator::{handle, Action, Now, Request, State};
    let mut state = State::with_seed(
        Config {
            persistent_ttl: Duration::from_secs(300),
            workbooks: vec![ITEM.into()],
            ..Config::default()
        },
        1,
    );
    let t0 = Now::system();
    let path = wb(ITEM, "createSession");
    let create = Request {
        method: "POST",
        path: &path,
        host: "emu",
        authorization: Some("Bearer x"),
        content_type: Some("application/json"),
        body: b"{}",
        ..Request::default()
    };
    let Action::Respond(r) = handle(&mut state, t0, &create).action else {
        panic!()
    };
    assert_eq!(r.status, 201);
    let graph_workbook_emulator::Body::Bytes(b) = &r.body else {
        panic!()
    };
    let id = serde_json::from_slice::<serde_json::Value>(b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rpath = wb(ITEM, "refreshSession");
    let refresh = Request {
        method: "POST",
        path: &rpath,
        host: "emu",
        authorization: Some("Bearer x"),
        session_id: Some(&id),
        ..Request::default()
    };
    let status = |state: &mut State, at: Now| match handle(state, at, &refresh).action {
        Action::Respond(r) => r.status,
        other => panic!("{other:?}"),
    };
    // Refreshed at 299.999 s: alive; the TTL restarts from there.
    assert_eq!(status(&mut state, t0.plus(Duration::from_millis(299_999))), 204);
    assert_eq!(status(&mut state, t0.plus(Duration::from_millis(599_998))), 204);
    // Exactly one TTL after the last refresh: gone.
    assert_eq!(status(&mut state, t0.plus(Duration::from_millis(899_998))), 404);
    assert!(state.sessions().is_empty());
}
