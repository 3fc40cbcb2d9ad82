//! Every fault kind, over real HTTP.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::*;
use graph_workbook_emulator::Config;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_with_retry_after_seconds_and_date() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    let f = emu
        .fault(json!({"operation":"refreshSession","status":429,"retryAfter":"2"}))
        .await;
    assert!(f.starts_with("fault-"));
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["error"]["code"], "tooManyRequests");
    assert_eq!(v["error"]["innerError"]["code"], "tooManyRequestsUncategorized");
    assert_eq!(v["error"]["innerError"]["innerError"]["code"], "ActivityLimitReached");
    assert_eq!(v["error"]["innerError"]["request-id"], r.header("request-id").unwrap());
    // Spent: the next refresh is normal.
    assert_eq!(emu.refresh(ITEM, &id).await.status, 204);

    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3));
    emu.fault(json!({"status":503,"retryAfter":date})).await;
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some(date.as_str()));
    assert_eq!(r.json()["error"]["code"], "serviceUnavailable");

    emu.fault(json!({"status":504,"retryAfter":"soon-ish garbage"})).await;
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!((r.status, r.header("retry-after")), (504, Some("soon-ish garbage")));

    // Default status is 503, no Retry-After unless asked.
    emu.fault(json!({})).await;
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(r.status, 503);
    assert!(r.header("retry-after").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_codes_and_overrides() {
    let emu = start_default().await;
    for (status, code) in [
        (400, "invalidRequest"),
        (401, "InvalidAuthenticationToken"),
        (403, "accessDenied"),
        (404, "itemNotFound"),
        (409, "conflict"),
        (500, "internalServerError"),
        (502, "badGateway"),
        (504, "gatewayTimeout"),
    ] {
        emu.fault(json!({"status":status})).await;
        let r = emu
            .post(&wb(ITEM, "refreshSession"), &[("workbook-session-id", "x")], None)
            .await;
        assert_eq!(r.status, status);
        assert_eq!(r.json()["error"]["code"], code);
    }
    emu.fault(json!({"status":403,"code":"accessDenied","innerCode":"invalidSessionAuthentication"}))
        .await;
    let r = emu
        .post(&wb(ITEM, "refreshSession"), &[("workbook-session-id", "x")], None)
        .await;
    assert_eq!(r.json()["error"]["innerError"]["code"], "invalidSessionAuthentication");
}

fn strip_varying(mut v: Value) -> Value {
    let inner = &mut v["error"]["innerError"];
    for k in ["request-id", "client-request-id", "date"] {
        assert!(inner[k].is_string(), "{k}");
        inner[k] = json!("-");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreatable_fault_matches_the_real_answer() {
    let emu = start(Config {
        recreatable_404: true,
        ..Config::default()
    })
    .await;
    let id = emu.create(ITEM, true).await;
    let real = emu.refresh(ITEM, "cluster=X&session=gone").await;
    emu.fault(json!({"status":404,"innerCode":"invalidSessionReCreatable"}))
        .await;
    let fake = emu.refresh(ITEM, &id).await;
    assert_recreatable_session(&fake);
    assert_eq!(strip_varying(real.json()), strip_varying(fake.json()));
    assert_eq!(real.header("content-type"), fake.header("content-type"));
    // The session itself is untouched.
    assert_eq!(emu.refresh(ITEM, &id).await.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delays() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    // Delay only: then handled normally.
    emu.fault(json!({"operation":"refreshSession","delayMs":400})).await;
    let t = Instant::now();
    let r = emu.refresh(ITEM, &id).await;
    assert!(t.elapsed() >= Duration::from_millis(400), "{:?}", t.elapsed());
    assert_eq!(r.status, 204);
    assert_eq!(emu.sessions().await[0]["refreshCount"], 1);
    // Delay then a status.
    emu.fault(json!({"delayMs":300,"status":500})).await;
    let t = Instant::now();
    let r = emu.refresh(ITEM, &id).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 500);
    // A delayed answer does not hold up others.
    emu.fault(json!({"delayMs":3000,"pathContains":"SLOW"})).await;
    let slow = tokio::spawn({
        let addr = emu.addr;
        async move {
            send(
                addr,
                "POST",
                &wb("/me/drive/items/SLOW", "createSession"),
                &[TOKEN, JSON],
                Some(b"{}"),
            )
            .await
            .full()
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    assert_eq!(emu.refresh(ITEM, &id).await.status, 204);
    assert!(t.elapsed() < Duration::from_millis(2500), "{:?}", t.elapsed());
    assert_eq!(slow.await.unwrap().status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_and_drop_mid_response() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    emu.fault(json!({"operation":"refreshSession","drop":true})).await;
    let got = emu
        .req(
            "POST",
            &wb(ITEM, "refreshSession"),
            &[TOKEN, ("workbook-session-id", &id)],
            None,
        )
        .await;
    assert!(matches!(got, Got::Dropped), "{got:?}");

    emu.fault(json!({"operation":"refreshSession","dropMidResponse":true}))
        .await;
    let got = emu
        .req(
            "POST",
            &wb(ITEM, "refreshSession"),
            &[TOKEN, ("workbook-session-id", &id)],
            None,
        )
        .await;
    match got {
        Got::Truncated { resp, expected } => {
            assert_eq!(resp.status, 200);
            assert!(
                resp.body.len() < expected && !resp.body.is_empty(),
                "{} of {expected}",
                resp.body.len()
            );
            assert!(resp.header("request-id").is_some());
        }
        other => panic!("{other:?}"),
    }
    emu.fault(json!({"dropMidResponse":true,"status":503})).await;
    match emu.req("POST", &wb(ITEM, "refreshSession"), &[TOKEN], None).await {
        Got::Truncated { resp, .. } => {
            assert_eq!(resp.status, 503);
            assert!(resp.text().starts_with("{\"error\""), "{}", resp.text());
        }
        other => panic!("{other:?}"),
    }
    // Both are logged: status 0 for the drop.
    let log = emu.control("GET", "/requests", None).await.json();
    let statuses: Vec<u64> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 0, 200, 503]);
    assert_eq!(emu.refresh(ITEM, &id).await.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_bodies() {
    let emu = start_default().await;
    emu.fault(json!({"status":200,"body":"<html>not json</html>","contentType":"text/html"}))
        .await;
    let r = emu.post(&wb(ITEM, "createSession"), &[], Some("{}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.text(), "<html>not json</html>");

    emu.fault(json!({"status":503,"body":"{\"error\":"})).await;
    let r = emu.post(&wb(ITEM, "createSession"), &[], Some("{}")).await;
    assert_eq!((r.status, r.text().as_str()), (503, "{\"error\":"));
    assert_eq!(r.header("content-type"), Some("application/json"));

    let ten_mb = 10 * 1024 * 1024;
    emu.fault(json!({"status":200,"bodyBytes":ten_mb})).await;
    let r = emu.post(&wb(ITEM, "createSession"), &[], Some("{}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(ten_mb.to_string().as_str()));
    assert_eq!(r.body.len(), ten_mb);
    assert!(r.body.iter().all(|&b| b == b'x'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_matchers_and_listing() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    emu.fault(json!({"operation":"refreshSession","status":503,"times":2}))
        .await;
    emu.fault(json!({"operation":"closeSession","status":500,"times":0}))
        .await;
    emu.fault(json!({"pathContains":"Book 1.xlsx","status":409})).await;
    let listed = emu.control("GET", "/faults", None).await.json();
    let list = listed["faults"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["remaining"], 2);
    assert_eq!(list[1]["remaining"], Value::Null);
    assert_eq!(list[0]["operation"], "refreshSession");

    assert_eq!(emu.refresh(ITEM, &id).await.status, 503);
    assert_eq!(emu.refresh(ITEM, &id).await.status, 503);
    assert_eq!(emu.refresh(ITEM, &id).await.status, 204);
    for _ in 0..3 {
        let r = emu
            .post(&wb(ITEM, "closeSession"), &[("workbook-session-id", &id)], None)
            .await;
        assert_eq!(r.status, 500);
    }
    // pathContains matches the decoded path too.
    let r = emu
        .post(&wb("/me/drive/root:/Book%201.xlsx:", "createSession"), &[], Some("{}"))
        .await;
    assert_eq!(r.status, 409);
    let listed = emu.control("GET", "/faults", None).await.json();
    let list = listed["faults"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["fired"], 3);
    let fid = list[0]["id"].as_str().unwrap();
    assert_eq!(emu.control("DELETE", &format!("/faults/{fid}"), None).await.status, 204);
    assert_eq!(
        emu.post(&wb(ITEM, "closeSession"), &[("workbook-session-id", &id)], None)
            .await
            .status,
        204
    );

    emu.fault(json!({"status":500,"times":0})).await;
    assert_eq!(emu.control("DELETE", "/faults", None).await.status, 204);
    assert_eq!(emu.control("GET", "/faults", None).await.json()["faults"], json!([]));
    // Faults never touch the control API.
    emu.fault(json!({"status":500,"times":0})).await;
    assert_eq!(emu.control("GET", "/health", None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_and_headers() {
    let emu = start_default().await;
    let id = emu.create(ITEM, true).await;
    let target = format!("{}{}", emu.base, wb("/me/drive/items/01ABC", "refreshSession"));
    emu.fault(json!({"status":307,"headers":{"Location":target,"x-emulator-test":"yes"}}))
        .await;
    let r = emu.refresh(ITEM, &id).await;
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location"), Some(target.as_str()));
    assert_eq!(r.header("x-emulator-test"), Some("yes"));
    assert!(r.body.is_empty());
    // Following it works.
    let path = target.strip_prefix(&emu.base).unwrap();
    assert_eq!(emu.post(path, &[("workbook-session-id", &id)], None).await.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_fault_specs() {
    let emu = start_default().await;
    for bad in [
        json!({"operation":"refresh"}),
        json!({"status":42}),
        json!({"stauts":503}),
        json!({"times":-1}),
        json!({"headers":{"a b":"c"}}),
        json!({"drop":true,"dropMidResponse":true}),
    ] {
        let r = emu.control("POST", "/faults", Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["error"]["code"], "invalidRequest");
    }
    let r = emu.req("POST", "/_emulator/faults", &[], Some("{nope")).await.full();
    assert_eq!(r.status, 400);
}
