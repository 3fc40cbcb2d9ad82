//! The bad-input matrix, in Node and headless Chromium: wrong types for
//! every option, out-of-range numbers, empty strings, control characters,
//! megabyte values, hosts and URLs outside the policy, malformed item paths,
//! token providers that throw, reject, return junk or never settle.
//!
//! For every input: the call rejects with a `GraphError` of the right code
//! and `attempts: 0`; the emulator's counters prove that no request reached
//! it; no field, message, stack or `cause` holds the token; the wasm
//! instance did not trap; and the same instance then serves a correct
//! refresh. The tally is printed at the end of each group.
#![cfg(target_arch = "wasm32")]

mod hardening;
mod support;

use graph_workbook_session::{
    close_session_js, create_session_js, refresh_session_js, refresh_sessions_js, WorkbookSession,
};
use hardening::*;
use js_sys::{Array, Function, Object};
use support::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

/// Which export a case calls.
#[derive(Clone, Copy, Debug)]
enum Api {
    Refresh,
    Close,
    Create,
    CreateObject,
    Attach,
    /// `refreshSessions(items, options)`; the options are the case's.
    Batch,
}

struct Matrix {
    good_wb: String,
    good_id: String,
    tried: u32,
}

impl Matrix {
    async fn new(name: &str) -> Matrix {
        spy_console();
        let good_wb = workbook(&["bad-input-good-", name].concat());
        let good_id = raw_create_session(&good_wb, true).await;
        Matrix {
            good_wb,
            good_id,
            tried: 0,
        }
    }

    /// Options for a refresh of an item that exists nowhere (`marker` in
    /// its path), with the token, the emulator's base URL and a session id.
    fn base(&self, marker: &str) -> JsValue {
        session_options(&workbook(marker), "cluster=EMU&session=bad-input")
    }

    /// One bad call: the right rejection, nothing sent, no leak, no trap, and
    /// a correct call on the same instance right after.
    async fn case(&mut self, label: &str, api: Api, options: JsValue, code: &str) {
        self.case_with(label, api, options, JsValue::UNDEFINED, code).await
    }

    async fn case_with(&mut self, label: &str, api: Api, options: JsValue, items: JsValue, code: &str) {
        self.tried += 1;
        let before = graph_requests().await;
        let result = match api {
            Api::Refresh => refresh_session_js(options).await,
            Api::Close => close_session_js(options).await,
            Api::Create => create_session_js(options).await,
            Api::CreateObject => WorkbookSession::create(options).await.map(JsValue::from),
            Api::Attach => WorkbookSession::attach(options).map(JsValue::from),
            Api::Batch => {
                let items = if items.is_undefined() {
                    good_items(&self.good_wb, &self.good_id)
                } else {
                    items
                };
                refresh_sessions_js(items, options).await
            }
        };
        let e = match result {
            Err(e) => e,
            Ok(v) => panic!("{label}: accepted ({api:?}) -> {v:?}"),
        };
        assert_eq!(
            get_str(&e, "name").as_deref(),
            Some("GraphError"),
            "{label}: not a GraphError: {e:?}"
        );
        assert_eq!(
            get_str(&e, "code").as_deref(),
            Some(code),
            "{label}: {:?}",
            get_str(&e, "message")
        );
        assert_eq!(get_num(&e, "attempts"), 0.0, "{label}");
        assert_eq!(get_num(&e, "status"), 0.0, "{label}");
        assert_clean(&e, code);
        assert_eq!(
            graph_requests().await,
            before,
            "{label}: a request reached the emulator"
        );
        self.good_call(label).await;
    }

    /// `refreshSessions` resolving with one `GraphError` per (invalid) item.
    async fn batch_items(&mut self, label: &str, items: JsValue, n: u32) {
        self.tried += 1;
        let before = graph_requests().await;
        let o = support::options("/unused");
        let _ = js_sys::Reflect::delete_property(&Object::from(o.clone()), &"workbook".into());
        let out = refresh_sessions_js(items, o)
            .await
            .unwrap_or_else(|e| panic!("{label}: rejected {e:?}"));
        let out = Array::from(&out);
        assert_eq!(out.length(), n, "{label}");
        for e in out.iter() {
            assert_clean(&e, "invalidArgument");
        }
        assert_eq!(
            graph_requests().await,
            before,
            "{label}: a request reached the emulator"
        );
        self.good_call(label).await;
    }

    async fn good_call(&self, label: &str) {
        let r = refresh_session_js(session_options(&self.good_wb, &self.good_id))
            .await
            .unwrap_or_else(|e| panic!("after {label}: the instance no longer serves a correct call: {e:?}"));
        assert_eq!(get_num(&r, "status"), 204.0);
    }

    fn done(&self, group: &str) {
        let lines = assert_console_clean();
        console_log!(
            "bad inputs, {group}: {} tried, {} errors scanned, {lines} console lines clean",
            self.tried,
            scanned()
        );
    }
}

fn good_items(wb: &str, id: &str) -> JsValue {
    let item: JsValue = Object::new().into();
    set(&item, "workbook", wb);
    set(&item, "sessionId", id);
    Array::of1(&item).into()
}

fn symbol() -> JsValue {
    js_sys::Symbol::for_("graph-workbook-session-bad-input").into()
}

/// number, object, array, null, Symbol, boolean.
fn wrong_types() -> Vec<(&'static str, JsValue)> {
    vec![
        ("number", JsValue::from(5)),
        ("object", Object::new().into()),
        ("array", Array::new().into()),
        ("null", JsValue::NULL),
        ("Symbol", symbol()),
        ("boolean", JsValue::TRUE),
    ]
}

fn with(o: JsValue, key: &str, value: impl Into<JsValue>) -> JsValue {
    set(&o, key, value);
    o
}

fn func(args: &str, body: &str) -> Function {
    Function::new_with_args(args, body)
}

#[wasm_bindgen_test]
async fn wrong_types_for_every_option() {
    let mut m = Matrix::new("types").await;
    let keys = [
        "workbook",
        "sessionId",
        "accessToken",
        "baseUrl",
        "timeoutMs",
        "maxRetries",
        "clientRequestId",
        "allowedHosts",
        "signal",
    ];
    for key in keys {
        for (kind, value) in wrong_types() {
            if (key == "allowedHosts" && kind == "array")
                || (key.ends_with("Ms") || key == "maxRetries") && kind == "number"
            {
                continue; // [] is a valid, empty list; 5 a valid number
            }
            let label = [key, " = ", kind].concat();
            m.case(
                &label,
                Api::Refresh,
                with(m.base("types"), key, value),
                "invalidArgument",
            )
            .await;
        }
    }
    for key in ["timeoutMs", "maxRetries"] {
        let label = [key, " = \"5\" (a string)"].concat();
        m.case(&label, Api::Refresh, with(m.base("types"), key, "5"), "invalidArgument")
            .await;
    }
    for key in ["workbook", "sessionId", "accessToken"] {
        let label = [key, " = undefined"].concat();
        m.case(
            &label,
            Api::Refresh,
            with(m.base("types"), key, JsValue::UNDEFINED),
            "invalidArgument",
        )
        .await;
    }
    // Container types with wrong contents.
    let hosts = Array::of2(&JsValue::from(5), &JsValue::from_str("a.example"));
    m.case(
        "allowedHosts = [5, ...]",
        Api::Refresh,
        with(m.base("types"), "allowedHosts", hosts),
        "invalidArgument",
    )
    .await;
    let many = Array::new();
    for _ in 0..1001 {
        many.push(&JsValue::from_str("a.example"));
    }
    m.case(
        "allowedHosts: 1001 entries",
        Api::Refresh,
        with(m.base("types"), "allowedHosts", many),
        "invalidArgument",
    )
    .await;
    let fake_signal: JsValue = Object::new().into();
    set(&fake_signal, "aborted", "no");
    m.case(
        "signal without the AbortSignal shape",
        Api::Refresh,
        with(m.base("types"), "signal", fake_signal),
        "invalidArgument",
    )
    .await;
    m.case(
        "accessToken = {getAccessToken: 5}",
        Api::Refresh,
        {
            let p: JsValue = Object::new().into();
            set(&p, "getAccessToken", 5);
            with(m.base("types"), "accessToken", p)
        },
        "invalidArgument",
    )
    .await;
    // createSession's own options.
    for (key, value) in [
        ("persistChanges", JsValue::from_str("true")),
        ("persistChanges", JsValue::from(1)),
        ("persistChanges", JsValue::NULL),
        ("preferAsync", JsValue::from_str("yes")),
        ("preferAsync", symbol()),
        ("createTimeoutMs", JsValue::from_str("1000")),
    ] {
        let label = ["createSession ", key, " of a wrong type"].concat();
        m.case(
            &label,
            Api::Create,
            with(options(&workbook("types")), key, value),
            "invalidArgument",
        )
        .await;
    }
    // The options argument itself.
    let not_objects: Vec<(&str, JsValue)> = vec![
        ("null", JsValue::NULL),
        ("undefined", JsValue::UNDEFINED),
        ("number", JsValue::from(5)),
        ("string", JsValue::from_str("/me/drive/items/1")),
        ("boolean", JsValue::TRUE),
        ("Symbol", symbol()),
        ("array", Array::new().into()),
        ("function", func("", "return 1").into()),
    ];
    for (kind, value) in not_objects {
        m.case(
            &["options = ", kind].concat(),
            Api::Refresh,
            value.clone(),
            "invalidArgument",
        )
        .await;
        m.case(
            &["createSession options = ", kind].concat(),
            Api::Create,
            value.clone(),
            "invalidArgument",
        )
        .await;
        m.case(
            &["WorkbookSession.create options = ", kind].concat(),
            Api::CreateObject,
            value.clone(),
            "invalidArgument",
        )
        .await;
        m.case(
            &["WorkbookSession.attach options = ", kind].concat(),
            Api::Attach,
            value.clone(),
            "invalidArgument",
        )
        .await;
        m.case(
            &["refreshSessions options = ", kind].concat(),
            Api::Batch,
            value,
            "invalidArgument",
        )
        .await;
    }
    // Options that throw when read (the thrown error quotes the token).
    let throwing_getter = func(
        "o, t",
        "Object.defineProperty(o, 'accessToken', { get() { throw new Error('getter saw ' + t) } }); return o",
    );
    let o = throwing_getter
        .call2(&JsValue::NULL, &m.base("types"), &TOKEN.into())
        .unwrap();
    m.case("accessToken getter throws", Api::Refresh, o, "invalidArgument")
        .await;
    let proxy = func(
        "t",
        "return new Proxy({}, { get() { throw new Error('proxy saw ' + t) } })",
    )
    .call1(&JsValue::NULL, &TOKEN.into())
    .unwrap();
    m.case("options is a Proxy that throws", Api::Refresh, proxy, "invalidArgument")
        .await;
    m.done("wrong types");
}

#[wasm_bindgen_test]
async fn numbers_out_of_range() {
    let mut m = Matrix::new("numbers").await;
    let timeouts = [
        f64::NAN,
        -1.0,
        0.0,
        -0.0,
        0.5,
        1.5,
        1e12,
        f64::INFINITY,
        f64::NEG_INFINITY,
        600_001.0,
        9_007_199_254_740_993.0,
        1e-300,
    ];
    for n in timeouts {
        let label = ["timeoutMs = ", &n.to_string()].concat();
        m.case(
            &label,
            Api::Refresh,
            with(m.base("numbers"), "timeoutMs", n),
            "invalidArgument",
        )
        .await;
    }
    for n in [
        f64::NAN,
        -1.0,
        0.5,
        11.0,
        1e308,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.000_001,
    ] {
        let label = ["maxRetries = ", &n.to_string()].concat();
        m.case(
            &label,
            Api::Refresh,
            with(m.base("numbers"), "maxRetries", n),
            "invalidArgument",
        )
        .await;
    }
    for n in [f64::NAN, 0.0, 1_800_001.0, 2.5, -5.0] {
        let label = ["createTimeoutMs = ", &n.to_string()].concat();
        m.case(
            &label,
            Api::Create,
            with(options(&workbook("numbers")), "createTimeoutMs", n),
            "invalidArgument",
        )
        .await;
    }
    m.done("numbers");
}

#[wasm_bindgen_test]
async fn empty_strings_control_characters_and_megabytes() {
    let mut m = Matrix::new("strings").await;
    for key in ["workbook", "sessionId", "accessToken", "baseUrl", "clientRequestId"] {
        m.case(
            &[key, " = \"\""].concat(),
            Api::Refresh,
            with(m.base("strings"), key, ""),
            "invalidArgument",
        )
        .await;
    }
    m.case(
        "allowedHosts = [\"\"]",
        Api::Refresh,
        with(m.base("strings"), "allowedHosts", Array::of1(&"".into())),
        "invalidArgument",
    )
    .await;
    let controls = [
        ("CR", "\r"),
        ("LF", "\n"),
        ("CRLF header injection", "\r\nX-Injected: 1"),
        ("NUL", "\0"),
        ("TAB", "\t"),
        ("DEL", "\u{7f}"),
        ("ESC", "\u{1b}"),
        ("NEL (U+0085)", "\u{85}"),
        ("LINE SEPARATOR (U+2028)", "\u{2028}"),
        ("non-ASCII é", "é"),
    ];
    for (name, c) in controls {
        let session = ["cluster=EMU", c, "session=x"].concat();
        m.case(
            &["sessionId with ", name].concat(),
            Api::Refresh,
            with(m.base("strings"), "sessionId", session),
            "invalidArgument",
        )
        .await;
        let crid = ["crid", c, "x"].concat();
        m.case(
            &["clientRequestId with ", name].concat(),
            Api::Refresh,
            with(m.base("strings"), "clientRequestId", crid),
            "invalidArgument",
        )
        .await;
        let token = [TOKEN, c, "tail"].concat();
        m.case(
            &["accessToken with ", name].concat(),
            Api::Refresh,
            with(m.base("strings"), "accessToken", token),
            "invalidArgument",
        )
        .await;
    }
    for (key, value) in [
        ("sessionId", " leading"),
        ("sessionId", "trailing "),
        ("clientRequestId", " x"),
        ("accessToken", " test-token-7f3a9c-SECRET"),
    ] {
        let label = [key, " with a surrounding space"].concat();
        m.case(
            &label,
            Api::Refresh,
            with(m.base("strings"), key, value),
            "invalidArgument",
        )
        .await;
    }
    let mega = "s".repeat(1 << 20);
    m.case(
        "1 MB sessionId",
        Api::Refresh,
        with(m.base("strings"), "sessionId", mega.as_str()),
        "invalidArgument",
    )
    .await;
    m.case(
        "1 MB clientRequestId",
        Api::Refresh,
        with(m.base("strings"), "clientRequestId", mega.as_str()),
        "invalidArgument",
    )
    .await;
    m.case(
        "1 MB accessToken",
        Api::Refresh,
        with(m.base("strings"), "accessToken", [TOKEN, &mega].concat()),
        "invalidArgument",
    )
    .await;
    m.case(
        "1 MB workbook",
        Api::Refresh,
        with(m.base("strings"), "workbook", ["/", &mega].concat()),
        "invalidArgument",
    )
    .await;
    m.case(
        "attach with a CRLF sessionId",
        Api::Attach,
        with(m.base("strings"), "sessionId", "a\r\nb"),
        "invalidArgument",
    )
    .await;
    m.done("strings");
}

#[wasm_bindgen_test]
async fn malformed_item_paths() {
    let mut m = Matrix::new("paths").await;
    let port = emulator_port();
    let paths = [
        "me/drive/items/bad-path",
        "/me/drive/items/../bad-path",
        "/me/drive/items/./bad-path",
        "/me/drive/items/bad-path/..",
        "/me/drive/items/bad-path?select=id",
        "/me/drive/items/bad-path#fragment",
        "/me//drive/items/bad-path",
        "//evil.example/me/drive/items/bad-path",
        &["//127.0.0.1:", &port, "/v1.0/me/drive/items/bad-path"].concat(),
        "/me/drive/items/bad-path/",
        "/",
        "/me/drive/items/bad-path\\..\\..\\admin",
        "/me/drive/items/bad-path\r\nX-Injected: 1",
        "/me/drive/items/bad-path\0",
        "/me/drive/items/bad-path\u{1b}",
        "https://evil.example/me/drive/items/bad-path",
        "\t/me/drive/items/bad-path",
    ];
    for p in paths {
        m.case(
            &["workbook ", &format!("{p:?}")].concat(),
            Api::Refresh,
            with(m.base("paths"), "workbook", p),
            "invalidArgument",
        )
        .await;
    }
    m.case(
        "createSession with a '..' path",
        Api::Create,
        with(options("/me/drive/items/../x"), "persistChanges", false),
        "invalidArgument",
    )
    .await;
    m.case(
        "closeSession with a '?' path",
        Api::Close,
        with(m.base("paths"), "workbook", "/me/drive/items/x?y"),
        "invalidArgument",
    )
    .await;
    // refreshSessions: every item invalid resolves to one error per item, nothing sent.
    let bad_items = Array::new();
    for (w, s) in [
        (JsValue::from(5), JsValue::from_str("s")),
        (JsValue::from_str("relative/path"), JsValue::from_str("s")),
        (JsValue::from_str("/me/drive/items/x/../y"), JsValue::from_str("s")),
        (JsValue::from_str("/me/drive/items/x"), JsValue::from_str("a\r\nb")),
        (JsValue::from_str("/me/drive/items/x"), JsValue::NULL),
    ] {
        let item: JsValue = Object::new().into();
        set(&item, "workbook", w);
        set(&item, "sessionId", s);
        bad_items.push(&item);
    }
    bad_items.push(&JsValue::NULL);
    bad_items.push(&JsValue::from(7));
    m.batch_items("refreshSessions: 7 malformed items", bad_items.into(), 7)
        .await;
    for (kind, items) in [
        ("number", JsValue::from(5)),
        ("object", Object::new().into()),
        ("string", JsValue::from_str("x")),
        ("null", JsValue::NULL),
    ] {
        let o = support::options("/unused");
        m.case_with(
            &["refreshSessions items = ", kind].concat(),
            Api::Batch,
            o,
            items,
            "invalidArgument",
        )
        .await;
    }
    m.done("item paths");
}

#[wasm_bindgen_test]
async fn hosts_and_urls_outside_the_policy() {
    let mut m = Matrix::new("hosts").await;
    let port = emulator_port();
    let at = |prefix: &str, suffix: &str| [prefix, &port, suffix].concat();
    // Each of these names reaches the emulator's listener when fetched
    // directly (checked below, per runtime); none is loopback as the policy
    // spells it, so the token must not go there over http.
    let aliases = [
        at("http://127.1:", "/v1.0"),
        at("http://2130706433:", "/v1.0"),
        at("http://0x7f000001:", "/v1.0"),
        at("http://0177.0.0.1:", "/v1.0"),
        at("http://foo.localhost:", "/v1.0"),
        at("http://[::ffff:127.0.0.1]:", "/v1.0"),
    ];
    for url in &aliases {
        let health = [url.trim_end_matches("/v1.0"), "/_emulator/health"].concat();
        let reachable = raw_get(&health).await.map(|(s, _)| s == 200).unwrap_or(false);
        let label = [
            "http to the loopback alias ",
            url,
            if reachable {
                " (reaches the emulator)"
            } else {
                " (does not resolve here)"
            },
        ]
        .concat();
        console_log!("{label}");
        m.case(
            &label,
            Api::Refresh,
            with(m.base("hosts"), "baseUrl", url.as_str()),
            "insecureUrl",
        )
        .await;
        // Naming the host in allowedHosts does not make http acceptable.
        let host = url
            .trim_start_matches("http://")
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or("")
            .to_string();
        let o = with(m.base("hosts"), "baseUrl", url.as_str());
        set(&o, "allowedHosts", Array::of1(&host.as_str().into()));
        m.case(&[&label, " with allowedHosts"].concat(), Api::Refresh, o, "insecureUrl")
            .await;
    }
    let refused: Vec<(String, &str)> = vec![
        ("https://evil.example/v1.0".into(), "hostNotAllowed"),
        ("https://graph.microsoft.com.evil.example/v1.0".into(), "hostNotAllowed"),
        ("https://graph.microsoft.com./v1.0".into(), "hostNotAllowed"),
        ("https://xn--grph-microsoft-bnb.com/v1.0".into(), "hostNotAllowed"),
        (at("https://127.1:", "/v1.0"), "hostNotAllowed"),
        (at("https://2130706433:", "/v1.0"), "hostNotAllowed"),
        ("http://graph.microsoft.com/v1.0".into(), "insecureUrl"),
        ("http://10.0.0.1/v1.0".into(), "insecureUrl"),
        ("http://192.168.1.1:8080/v1.0".into(), "insecureUrl"),
        (at("http://graph.microsoft.com@127.0.0.1:", "/v1.0"), "invalidArgument"),
        (at("http://user:pass@127.0.0.1:", "/v1.0"), "invalidArgument"),
        (at("http://127.0.0.1:", "\\@evil.example/v1.0"), "invalidArgument"),
        (at("http://evil.example#@127.0.0.1:", "/v1.0"), "invalidArgument"),
        (at("http://127.0.0.1:", "/v1.0?x=1"), "invalidArgument"),
        (at("http://127.0.0.1:", "/v1.0/../x"), "invalidArgument"),
        ("ftp://graph.microsoft.com/v1.0".into(), "invalidArgument"),
        ("javascript:alert(1)".into(), "invalidArgument"),
        ("graph.microsoft.com/v1.0".into(), "invalidArgument"),
        ("https://gráph.microsoft.com/v1.0".into(), "invalidArgument"),
    ];
    for (url, code) in refused {
        let label = ["baseUrl ", &url].concat();
        m.case(
            &label,
            Api::Refresh,
            with(m.base("hosts"), "baseUrl", url.as_str()),
            code,
        )
        .await;
        m.case(
            &["createSession ", &label].concat(),
            Api::Create,
            with(options(&workbook("hosts")), "baseUrl", url.as_str()),
            code,
        )
        .await;
        let batch = with(support::options("/unused"), "baseUrl", url.as_str());
        m.case(&["refreshSessions ", &label].concat(), Api::Batch, batch, code)
            .await;
    }
    for hosts in [
        "https://evil.example",
        "*.example",
        "evil.example/path",
        "evil example",
        "évil.example",
        "evil.example\r\n",
    ] {
        let o = with(m.base("hosts"), "allowedHosts", Array::of1(&hosts.into()));
        m.case(
            &["allowedHosts [", hosts, "]"].concat(),
            Api::Refresh,
            o,
            "invalidArgument",
        )
        .await;
    }
    m.done("hosts");
}

#[wasm_bindgen_test]
async fn token_providers_that_fail() {
    let mut m = Matrix::new("providers").await;
    let t = JsValue::from_str(TOKEN);
    let provider = |body: &str| {
        Function::new_with_args("t", &["return () => { ", body, " }"].concat())
            .call1(&JsValue::NULL, &t)
            .unwrap()
    };
    let sdk = |body: &str| {
        Function::new_with_args("t", &["return { getAccessToken() { ", body, " } }"].concat())
            .call1(&JsValue::NULL, &t)
            .unwrap()
    };
    let cases: Vec<(&str, JsValue)> = vec![
        (
            "throws an Error quoting the token",
            provider("throw new Error('cannot refresh ' + t)"),
        ),
        ("throws the token itself", provider("throw t")),
        (
            "rejects with the token in the reason",
            provider("return Promise.reject(new Error('expired: ' + t, { cause: t }))"),
        ),
        ("rejects with undefined", provider("return Promise.reject()")),
        ("returns a number", provider("return 42")),
        ("returns undefined", provider("return undefined")),
        ("returns null", provider("return null")),
        ("returns an object", provider("return { token: t }")),
        ("resolves to a number", provider("return Promise.resolve(42)")),
        (
            "returns the token with CRLF",
            provider("return t + '\\r\\nX-Injected: 1'"),
        ),
        ("returns the token with NUL", provider("return t + '\\0'")),
        ("returns an empty string", provider("return ''")),
        ("returns 100 KB", provider("return t + 'x'.repeat(100000)")),
        ("getAccessToken throws", sdk("throw new Error('sdk ' + t)")),
        (
            "getAccessToken rejects",
            sdk("return Promise.reject(new Error('sdk ' + t))"),
        ),
        ("getAccessToken resolves to a number", sdk("return Promise.resolve(7)")),
        (
            "getAccessToken returns a thenable that throws",
            sdk("return { then() { throw new Error(t) } }"),
        ),
    ];
    for (label, p) in cases {
        m.case(
            &["accessToken provider ", label].concat(),
            Api::Refresh,
            with(m.base("providers"), "accessToken", p.clone()),
            "tokenProvider",
        )
        .await;
        m.case(
            &["createSession: provider ", label].concat(),
            Api::Create,
            with(options(&workbook("providers")), "accessToken", p),
            "tokenProvider",
        )
        .await;
    }
    // Providers that never settle are ended by the caller's signal.
    for (label, p) in [
        ("never settles", provider("return new Promise(() => {})")),
        ("getAccessToken never settles", sdk("return new Promise(() => {})")),
    ] {
        let o = with(m.base("providers"), "accessToken", p);
        set(&o, "signal", abort_after(300));
        let started = now();
        m.case(
            &["accessToken provider ", label, ", ended by signal"].concat(),
            Api::Refresh,
            o,
            "aborted",
        )
        .await;
        assert!(now() - started < 20_000.0, "the signal did not end a pending provider");
    }
    // A signal already aborted: nothing is asked, nothing is sent.
    let aborted = Function::new_no_args("const c = new AbortController(); c.abort(); return c.signal")
        .call0(&JsValue::NULL)
        .unwrap();
    m.case(
        "signal already aborted",
        Api::Refresh,
        with(m.base("providers"), "signal", aborted.clone()),
        "aborted",
    )
    .await;
    m.case(
        "createSession, signal already aborted",
        Api::Create,
        with(options(&workbook("providers")), "signal", aborted),
        "aborted",
    )
    .await;
    m.done("token providers");
}
