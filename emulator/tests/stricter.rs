//! Issue 21's stricter emulator and issue 22's bounds: each test names the
//! doc that says so (emulator/README.md's fidelity table points here).

mod common;

use common::*;
use graph_workbook_emulator::Config;
use serde_json::{json, Value};

async fn batch(emu: &Emu, requests: Value) -> Resp {
    emu.post("/v1.0/$batch", &[], Some(&json!({ "requests": requests }).to_string()))
        .await
}

fn by_id<'v>(v: &'v Value, id: &str) -> &'v Value {
    v["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("no answer {id}: {v}"))
}

/// The drive resolves the item first: an item the emulator does not hold
/// answers 404 `itemNotFound` (workbook-error-codes.md), whatever the
/// endpoint; the control API and `--workbook` seed items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_items_answer_404_item_not_found() {
    let emu = start_exact(Config {
        workbooks: vec![ITEM.into()],
        workbook_prefixes: vec!["/drives/d1/".into()],
        ..Config::default()
    })
    .await;
    let demo = "/me/drive/root:/Demo/Budget%202026.xlsx:";
    for item in ["/me/drive/items/OTHER", demo, "/drives/d2/items/x"] {
        for op in ["createSession", "refreshSession", "closeSession"] {
            let r = emu
                .post(&wb(item, op), &[("workbook-session-id", "s")], Some("{}"))
                .await;
            assert_eq!(r.status, 404, "{item} {op}");
            let v = r.json();
            assert_eq!(v["error"]["code"], "itemNotFound");
            assert!(v["error"]["innerError"].get("code").is_none(), "flat: {v}");
        }
        assert_eq!(emu.get(&wb(item, "worksheets")).await.status, 404);
    }
    emu.create(ITEM, true).await;
    emu.create("/drives/d1/items/anything", false).await;
    // Auth is checked first: no token, no answer about the item.
    let r = emu
        .req("GET", &wb("/me/drive/items/OTHER", "worksheets"), &[], None)
        .await
        .full();
    assert_eq!(r.status, 401);
    // Seeded through the control API (decoded, so %20 and space agree).
    let r = emu
        .control(
            "POST",
            "/workbooks",
            Some(json!({"items": ["/me/drive/root:/Demo/Budget 2026.xlsx:"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["items"],
        json!(["/me/drive/items/01ABC", "/me/drive/root:/Demo/Budget 2026.xlsx:"])
    );
    emu.create(demo, true).await;
    // Inside a batch too.
    let r = batch(
        &emu,
        json!([{"id": "1", "method": "GET", "url": "/me/drive/items/OTHER/workbook/worksheets"}]),
    )
    .await;
    assert_eq!(by_id(&r.json(), "1")["status"], 404);
    for bad in [
        json!({"items": ["relative"]}),
        json!({"nope": []}),
        json!({"prefixes": [1]}),
    ] {
        assert_eq!(
            emu.control("POST", "/workbooks", Some(bad.clone())).await.status,
            400,
            "{bad}"
        );
    }
    // Reset goes back to the start-up seed.
    assert_eq!(emu.control("POST", "/reset", None).await.status, 204);
    let r = emu.post(&wb(demo, "createSession"), &[], Some("{}")).await;
    assert_eq!(r.status, 404);
    emu.create(ITEM, true).await;
}

/// resources/excel.md: "If the session id has expired, a `404` HTTP error
/// code is returned on the session"; the second-level
/// `invalidSessionReCreatable` (workbook-error-handling.md) only under
/// `--recreatable-404`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_answers_the_plain_404_or_the_recreatable_one() {
    for recreatable in [false, true] {
        let emu = start(Config {
            recreatable_404: recreatable,
            ..Config::default()
        })
        .await;
        let id = emu.create(ITEM, false).await;
        let path = format!("/sessions/{}/expire", id.replace('=', "%3D").replace('&', "%26"));
        assert_eq!(emu.control("POST", &path, None).await.status, 204);
        let answers = [
            emu.refresh(ITEM, &id).await,
            emu.post(&wb(ITEM, "closeSession"), &[("workbook-session-id", &id)], None)
                .await,
            emu.req(
                "GET",
                &wb(ITEM, "worksheets"),
                &[TOKEN, ("workbook-session-id", &id)],
                None,
            )
            .await
            .full(),
            emu.refresh(ITEM, "cluster=EMU&session=never").await,
        ];
        for r in &answers {
            if recreatable {
                assert_recreatable_session(r);
            } else {
                assert_invalid_session(r);
            }
        }
        assert_eq!(
            emu.control("GET", "/config", None).await.json()["recreatable404"],
            recreatable
        );
    }
}

/// workbook-error-handling.md, "Special case handling": a sessionful
/// request answered 502/503 follows a listed second-level code, else the
/// client recreates the session. The fault API scripts both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_502_and_503_on_session_requests_with_and_without_a_second_level_code() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    for (spec, status, second) in [
        (json!({"status": 503, "innerCodes": []}), 503, None),
        (json!({"status": 503}), 503, Some("serviceUnavailableUncategorized")),
        (
            json!({"status": 503, "innerCode": "invalidSessionReCreatable"}),
            503,
            Some("invalidSessionReCreatable"),
        ),
        (json!({"status": 502}), 502, None),
        (
            json!({"status": 502, "innerCode": "transientFailure"}),
            502,
            Some("transientFailure"),
        ),
    ] {
        let mut spec = spec;
        spec["operation"] = json!("refreshSession");
        emu.fault(spec.clone()).await;
        let r = emu.refresh(ITEM, &id).await;
        assert_eq!(r.status, status, "{spec}");
        let v = r.json();
        assert_eq!(v["error"]["innerError"]["code"].as_str(), second, "{spec}: {v}");
        assert!(v["error"]["innerError"]["request-id"].is_string());
    }
    assert_eq!(emu.refresh(ITEM, &id).await.status, 204);
}

/// json-batching.md: ids are strings, not case-sensitive, unique (else
/// 400); `dependsOn` orders the requests, and one whose dependency failed
/// answers 424; the batch is sent as `application/json`; answers "might
/// appear in a different order".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_ids_depends_on_and_content_type() {
    let emu = start(Config {
        seed: Some(7),
        ..Config::default()
    })
    .await;
    let id = emu.create(ITEM, true).await;
    let refresh = |rid: &str, session: &str, deps: Value| {
        json!({
            "id": rid, "method": "POST", "url": format!("{ITEM}/workbook/refreshSession"),
            "dependsOn": deps, "body": {},
            "headers": {"Content-Type": "application/json", "workbook-session-id": session, "client-request-id": rid}
        })
    };
    // The doc's chain: 1, then 2, then 4, then 3 (listed backwards here).
    let r = batch(
        &emu,
        json!([
            refresh("3", &id, json!(["4"])),
            refresh("4", &id, json!(["2"])),
            refresh("2", &id, json!(["1"])),
            refresh("1", &id, json!([])),
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    for rid in ["1", "2", "3", "4"] {
        assert_eq!(by_id(&v, rid)["status"], 204);
    }
    let log = emu.control("GET", "/requests", None).await.json();
    let ran: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["batch"] == true)
        .map(|e| e["clientRequestId"].as_str().unwrap())
        .collect();
    assert_eq!(ran, ["1", "2", "4", "3"]);
    // A failed dependency: 424 for it and for what depends on that.
    let r = batch(
        &emu,
        json!([
            refresh("a", "cluster=EMU&session=gone", json!([])),
            refresh("B", &id, json!(["A"])),
            refresh("c", &id, json!(["b"])),
            refresh("d", &id, json!([])),
        ]),
    )
    .await;
    let v = r.json();
    assert_eq!(by_id(&v, "a")["status"], 404);
    assert_eq!(by_id(&v, "B")["status"], 424);
    assert_eq!(by_id(&v, "B")["body"]["error"]["code"], "FailedDependency");
    assert_eq!(by_id(&v, "c")["status"], 424);
    assert_eq!(by_id(&v, "d")["status"], 204);
    // Ids compare without case, are strings, and dependsOn must name one.
    for reqs in [
        json!([refresh("x", &id, json!([])), refresh("X", &id, json!([]))]),
        json!([{"id": 1, "method": "GET", "url": "/me"}]),
        json!([refresh("x", &id, json!(["nope"]))]),
        json!([refresh("x", &id, json!(["x"]))]),
        json!([refresh("x", &id, json!(["y"])), refresh("y", &id, json!(["x"]))]),
    ] {
        let r = batch(&emu, reqs.clone()).await;
        assert_eq!(
            (r.status, r.json()["error"]["code"].clone()),
            (400, json!("BadRequest")),
            "{reqs}"
        );
    }
    // The outer request must be JSON.
    let body = json!({"requests": [refresh("1", &id, json!([]))]}).to_string();
    for ct in [Some("text/plain"), None] {
        let mut h = vec![TOKEN];
        if let Some(ct) = ct {
            h.push(("Content-Type", ct));
        }
        let r = emu.req("POST", "/v1.0/$batch", &h, Some(&body)).await.full();
        assert_eq!(r.status, 400, "{ct:?}");
    }
    // A seeded shuffle: the same seed gives the same order, and it is not
    // always request order.
    let reqs: Vec<Value> = (0..8).map(|i| refresh(&i.to_string(), &id, json!([]))).collect();
    let order = |v: Value| -> Vec<String> {
        v["responses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = order(batch(&emu, json!(reqs)).await.json());
    let in_order: Vec<String> = (0..8).map(|i| i.to_string()).collect();
    assert_ne!(first, in_order);
}

/// Graph serves the `v1.0` and `beta` versions (json-batching.md: "whether
/// it targets the `v1.0` or `beta` version"); any other is 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_v1_and_beta() {
    let emu = start_default().await;
    for v in ["v1.0", "beta"] {
        let r = emu
            .post(&format!("/{v}{ITEM}/workbook/createSession"), &[], Some("{}"))
            .await;
        assert_eq!(r.status, 201, "{v}");
    }
    for v in ["v2.0", "v1", "canary", "V9"] {
        let r = emu
            .post(&format!("/{v}{ITEM}/workbook/createSession"), &[], Some("{}"))
            .await;
        assert_eq!(
            (r.status, r.json()["error"]["code"].clone()),
            (400, json!("BadRequest")),
            "{v}"
        );
        let r = emu.post(&format!("/{v}/$batch"), &[], Some("{}")).await;
        assert_eq!(r.status, 400, "{v}");
    }
    // --test-version-prefix: a test suite's own version segments.
    let emu = start(Config {
        test_version_prefixes: vec!["v-batch-".into()],
        ..Config::default()
    })
    .await;
    let r = emu
        .post(&format!("/v-batch-42{ITEM}/workbook/createSession"), &[], Some("{}"))
        .await;
    assert_eq!(r.status, 201);
    let r = emu
        .post(&format!("/v2.0{ITEM}/workbook/createSession"), &[], Some("{}"))
        .await;
    assert_eq!(r.status, 400);
}

/// Issue 22: one memory budget for all workbooks and session copies; a
/// non-persistent session shares its item's workbook until it writes
/// (copy-on-write), and a write over the budget is refused with Graph's
/// error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_memory_budget_with_copy_on_write_sessions() {
    let emu = start(Config {
        max_cells: 10,
        ..Config::default()
    })
    .await;
    let range = |address: &str| wb(ITEM, &format!("worksheets('Sheet1')/range(address='{address}')"));
    let patch = |address: &str, session: Option<&str>, values: Value| {
        let path = range(address);
        let body = json!({ "values": values }).to_string();
        let session = session.map(str::to_owned);
        let addr = emu.addr;
        async move {
            let mut h = vec![TOKEN, JSON];
            if let Some(s) = &session {
                h.push(("workbook-session-id", s.as_str()));
            }
            send(addr, "PATCH", &path, &h, Some(body.as_bytes())).await.full()
        }
    };
    let cells = |emu: &Emu| {
        let emu_addr = emu.addr;
        async move {
            send(emu_addr, "GET", "/_emulator/stats", &[], None).await.full().json()["cells"]
                .as_u64()
                .unwrap()
        }
    };
    assert_eq!(patch("A1:D1", None, json!([["a", "b", "c", "d"]])).await.status, 200);
    assert_eq!(cells(&emu).await, 4);
    // Ten non-persistent sessions: no copy until they write.
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(emu.create(ITEM, false).await);
    }
    assert_eq!(cells(&emu).await, 4);
    // The first write of one copies the book (4 + 4 + 1 cells).
    let r = patch("E1", Some(&ids[0]), json!([["e"]])).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(cells(&emu).await, 9);
    // Another session's copy would pass the budget: refused, nothing held.
    let r = patch("E1", Some(&ids[1]), json!([["e"]])).await;
    assert_eq!(r.status, 503, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"]["code"], "serviceUnavailable");
    assert_eq!(v["error"]["innerError"]["code"], "serviceUnavailableUncategorized");
    assert_eq!(cells(&emu).await, 9);
    // The session's own view; the item's is unchanged.
    let mine = emu
        .req("GET", &range("E1"), &[TOKEN, ("workbook-session-id", &ids[0])], None)
        .await
        .full();
    assert_eq!(mine.json()["values"], json!([["e"]]));
    assert_eq!(emu.get(&range("E1")).await.json()["values"], json!([[""]]));
    // Closing the session gives its copy back.
    let r = emu
        .post(&wb(ITEM, "closeSession"), &[("workbook-session-id", &ids[0])], None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(cells(&emu).await, 4);
    assert_eq!(patch("E1", Some(&ids[1]), json!([["e"]])).await.status, 200);
}
