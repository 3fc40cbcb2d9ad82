//! Path parsing: which Graph (or control) resource a request path names.
//!
//! Graph paths are `/{version}{item}/workbook/{op}` where `{item}` is any
//! item path (`/me/drive/items/{id}`, `/drives/{d}/items/{id}`,
//! `/me/drive/root:/Folder/Book 1.xlsx:` …). The item is split off at the
//! last `/workbook/` and percent-decoded for storage and comparison; the raw
//! form is kept to build `Location` headers the way the client sent them.

use std::borrow::Cow;

/// The Graph operations the emulator knows, by the names used in faults, the
/// request log and the stats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST …/workbook/createSession`
    CreateSession,
    /// `POST …/workbook/refreshSession`
    RefreshSession,
    /// `POST …/workbook/closeSession`
    CloseSession,
    /// `GET …/workbook/operations/{id}`
    Operation,
    /// `GET …/workbook/sessionInfoResource(key='…')`
    SessionInfo,
    /// `POST /{version}/$batch`
    Batch,
    /// `GET …/workbook/worksheets`
    Worksheets,
    /// `GET`/`PATCH …/workbook/worksheets('{name}')/range(address='…')`
    /// and `…/workbook/names/{name}/range`
    Range,
    /// `POST …/workbook/names/add`
    Names,
}

impl Operation {
    /// All operations, in the order used by the stats.
    pub const ALL: [Operation; 9] = [
        Operation::CreateSession,
        Operation::RefreshSession,
        Operation::CloseSession,
        Operation::Operation,
        Operation::SessionInfo,
        Operation::Batch,
        Operation::Worksheets,
        Operation::Range,
        Operation::Names,
    ];

    /// The contract name (`createSession`, `refreshSession`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::CreateSession => "createSession",
            Operation::RefreshSession => "refreshSession",
            Operation::CloseSession => "closeSession",
            Operation::Operation => "operation",
            Operation::SessionInfo => "sessionInfo",
            Operation::Batch => "batch",
            Operation::Worksheets => "worksheets",
            Operation::Range => "range",
            Operation::Names => "names",
        }
    }

    /// Parses a contract name.
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Index into per-operation counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The methods this operation accepts, as an `Allow` value.
    pub fn allow(self) -> &'static str {
        match self {
            Operation::Operation | Operation::SessionInfo | Operation::Worksheets => "GET",
            Operation::Range => "GET, PATCH",
            _ => "POST",
        }
    }

    /// Whether `method` is accepted.
    pub fn accepts(self, method: &str) -> bool {
        self.allow().split(", ").any(|m| m == method)
    }
}

/// The resource a path names.
#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// Anything under `/_emulator/`: the rest after `/_emulator`.
    Control(&'a str),
    /// A workbook endpoint.
    Workbook(Workbook<'a>),
    /// `/{version}/$batch`.
    Batch {
        /// e.g. `v1.0`.
        version: &'a str,
    },
    /// An item path that is not valid UTF-8 once decoded.
    BadItem,
    /// Nothing the emulator serves.
    Unknown,
}

/// A parsed workbook endpoint.
#[derive(Debug, PartialEq, Eq)]
pub struct Workbook<'a> {
    /// e.g. `v1.0` or `beta`.
    pub version: &'a str,
    /// The item path as received (percent-encoded).
    pub item_raw: &'a str,
    /// The item path decoded: the key sessions are bound to.
    pub item: Cow<'a, str>,
    /// Which endpoint.
    pub op: WorkbookOp,
}

/// The endpoint under `/workbook/`.
#[derive(Debug, PartialEq, Eq)]
pub enum WorkbookOp {
    /// `createSession`
    CreateSession,
    /// `refreshSession`
    RefreshSession,
    /// `closeSession`
    CloseSession,
    /// `operations/{id}`
    Operation(String),
    /// `sessionInfoResource(key='{key}')`
    SessionInfo(String),
    /// `worksheets`
    Worksheets,
    /// `worksheets('{sheet}')/range(address='{address}')` (also
    /// `worksheets/{sheet}/range(…)`), decoded.
    Range {
        /// Worksheet name or id.
        sheet: String,
        /// The address as given (`A1`, `A1:B2`, `Sheet1!A1`).
        address: String,
    },
    /// `names/{name}/range` (range-get.md, range-update.md).
    NamedRange(String),
    /// `names/add` (nameditem-add.md).
    AddName,
}

impl WorkbookOp {
    /// The operation name of this endpoint.
    pub fn operation(&self) -> Operation {
        match self {
            WorkbookOp::CreateSession => Operation::CreateSession,
            WorkbookOp::RefreshSession => Operation::RefreshSession,
            WorkbookOp::CloseSession => Operation::CloseSession,
            WorkbookOp::Operation(_) => Operation::Operation,
            WorkbookOp::SessionInfo(_) => Operation::SessionInfo,
            WorkbookOp::Worksheets => Operation::Worksheets,
            WorkbookOp::Range { .. } | WorkbookOp::NamedRange(_) => Operation::Range,
            WorkbookOp::AddName => Operation::Names,
        }
    }
}

/// The version segments Graph serves (json-batching.md: "whether it targets
/// the `v1.0` or `beta` version of Microsoft Graph").
pub const VERSIONS: [&str; 2] = ["v1.0", "beta"];

/// Whether `version` is one Graph serves.
pub fn known_version(version: &str) -> bool {
    VERSIONS.iter().any(|v| v.eq_ignore_ascii_case(version))
}

impl Route<'_> {
    /// The version segment of a Graph route.
    pub fn version(&self) -> Option<&str> {
        match self {
            Route::Workbook(w) => Some(w.version),
            Route::Batch { version } => Some(version),
            _ => None,
        }
    }

    /// The operation name, when the path names a Graph endpoint.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Route::Workbook(w) => Some(w.op.operation()),
            Route::Batch { .. } => Some(Operation::Batch),
            _ => None,
        }
    }
}

/// Parses a request path (without the query).
pub fn parse(path: &str) -> Route<'_> {
    if path == "/_emulator" {
        return Route::Control("");
    }
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        return Route::Control(&path[path.len() - rest.len() - 1..]);
    }
    let Some(after) = path.strip_prefix('/') else {
        return Route::Unknown;
    };
    let (version, rest) = match after.find('/') {
        Some(i) => (&after[..i], &after[i..]),
        None => return Route::Unknown,
    };
    if version.is_empty() {
        return Route::Unknown;
    }
    if rest == "/$batch" || rest.eq_ignore_ascii_case("/%24batch") {
        return Route::Batch { version };
    }
    const SPLIT: &str = "/workbook/";
    let Some(at) = rest.rfind(SPLIT) else {
        return Route::Unknown;
    };
    let item_raw = &rest[..at];
    let op_raw = &rest[at + SPLIT.len()..];
    if item_raw.len() < 2 {
        return Route::Unknown;
    }
    let Some(op_text) = percent_decode(op_raw) else {
        return Route::Unknown;
    };
    let Some(op) = parse_op(&op_text) else {
        return Route::Unknown;
    };
    let Some(item) = percent_decode(item_raw) else {
        return Route::BadItem;
    };
    Route::Workbook(Workbook {
        version,
        item_raw,
        item,
        op,
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

fn parse_op(op: &str) -> Option<WorkbookOp> {
    if op.eq_ignore_ascii_case("createSession") {
        return Some(WorkbookOp::CreateSession);
    }
    if op.eq_ignore_ascii_case("refreshSession") {
        return Some(WorkbookOp::RefreshSession);
    }
    if op.eq_ignore_ascii_case("closeSession") {
        return Some(WorkbookOp::CloseSession);
    }
    if let Some(id) = strip_prefix_ci(op, "operations/") {
        if !id.is_empty() && !id.contains('/') {
            return Some(WorkbookOp::Operation(id.to_owned()));
        }
        return None;
    }
    if op.eq_ignore_ascii_case("worksheets") {
        return Some(WorkbookOp::Worksheets);
    }
    if op.eq_ignore_ascii_case("names/add") {
        return Some(WorkbookOp::AddName);
    }
    if let Some(rest) = strip_prefix_ci(op, "names/") {
        let name = rest.strip_suffix("/range").or_else(|| rest.strip_suffix("/Range"))?;
        let name = quoted(name.strip_prefix('(').and_then(|n| n.strip_suffix(')')).unwrap_or(name))
            .unwrap_or_else(|| name.to_owned());
        if name.is_empty() || name.contains('/') {
            return None;
        }
        return Some(WorkbookOp::NamedRange(name));
    }
    // workbook-best-practice.md's long-running example posts to
    // `…/workbook/worksheets({id})/createSession`: the session is the
    // workbook's whatever the worksheet segment.
    if op.len() > 25
        && strip_prefix_ci(op, "worksheets").is_some()
        && op.is_char_boundary(op.len() - 14)
        && op[op.len() - 14..].eq_ignore_ascii_case("/createSession")
    {
        return Some(WorkbookOp::CreateSession);
    }
    if let Some(rest) = strip_prefix_ci(op, "worksheets") {
        return parse_range(rest);
    }
    if let Some(args) = strip_prefix_ci(op, "sessionInfoResource(") {
        let args = args.strip_suffix(')')?;
        let value = strip_prefix_ci(args, "key=").unwrap_or(args);
        let key = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
            .unwrap_or(value);
        if key.is_empty() {
            return None;
        }
        return Some(WorkbookOp::SessionInfo(key.to_owned()));
    }
    None
}

/// An OData string literal's content: `'it''s'` → `it's`.
fn quoted(s: &str) -> Option<String> {
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // A lone quote inside the literal is malformed.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

/// After `worksheets`: `('{sheet}')/range(address='{a}')` or
/// `/{sheet}/range(address='{a}')`.
fn parse_range(rest: &str) -> Option<WorkbookOp> {
    let (sheet, after) = if let Some(r) = rest.strip_prefix('(') {
        let close = r.find("')")? + 1;
        (quoted(&r[..close])?, &r[close + 1..])
    } else {
        let r = rest.strip_prefix('/')?;
        let slash = r.find('/')?;
        (r[..slash].to_owned(), &r[slash..])
    };
    let args = strip_prefix_ci(after, "/range(")?.strip_suffix(')')?;
    let value = strip_prefix_ci(args, "address=")?;
    let address = quoted(value)?;
    if sheet.is_empty() || address.is_empty() {
        return None;
    }
    Some(WorkbookOp::Range { sheet, address })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `s` (a `%` not followed by two hex digits stays as is).
/// `None` when the result is not UTF-8. Borrows when there is nothing to do.
pub fn percent_decode(s: &str) -> Option<Cow<'_, str>> {
    if !s.contains('%') {
        return Some(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

/// Decodes a query-string component (`+` is a space).
pub fn query_decode(s: &str) -> Option<String> {
    percent_decode(&s.replace('+', " ")).map(Cow::into_owned)
}

/// The value of query parameter `name`, decoded.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| query_decode(v)).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wb(path: &str) -> Workbook<'_> {
        match parse(path) {
            Route::Workbook(w) => w,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn item_forms() {
        for (path, item) in [
            (
                "/v1.0/me/drive/items/01ABC/workbook/refreshSession",
                "/me/drive/items/01ABC",
            ),
            (
                "/beta/drives/b!x/items/1/workbook/refreshSession",
                "/drives/b!x/items/1",
            ),
            (
                "/v1.0/sites/s/drive/items/1/workbook/refreshSession",
                "/sites/s/drive/items/1",
            ),
            (
                "/v1.0/users/u/drive/items/1/workbook/refreshSession",
                "/users/u/drive/items/1",
            ),
            (
                "/v1.0/groups/g/drive/items/1/workbook/refreshSession",
                "/groups/g/drive/items/1",
            ),
            (
                "/v1.0/me/drive/root:/Folder/Book%201.xlsx:/workbook/refreshSession",
                "/me/drive/root:/Folder/Book 1.xlsx:",
            ),
            (
                "/v1.0/me/drive/root:/Donn%C3%A9es/%E6%97%A5%E6%9C%AC.xlsx:/workbook/refreshSession",
                "/me/drive/root:/Données/日本.xlsx:",
            ),
            (
                "/v1.0/me/drive/root:/workbook/a.xlsx:/workbook/refreshSession",
                "/me/drive/root:/workbook/a.xlsx:",
            ),
        ] {
            let w = wb(path);
            assert_eq!(w.item, item);
            assert_eq!(w.op, WorkbookOp::RefreshSession);
        }
    }

    #[test]
    fn ops() {
        assert_eq!(
            wb("/v1.0/me/drive/items/1/workbook/createSession").op,
            WorkbookOp::CreateSession
        );
        assert_eq!(
            wb("/v1.0/me/drive/items/1/workbook/closesession").op,
            WorkbookOp::CloseSession
        );
        assert_eq!(
            wb("/v1.0/me/drive/items/1/workbook/operations/abc").op,
            WorkbookOp::Operation("abc".into())
        );
        for p in [
            "/v1.0/me/drive/items/1/workbook/sessionInfoResource(key='k1')",
            "/v1.0/me/drive/items/1/workbook/sessionInfoResource(key=%27k1%27)",
            "/v1.0/me/drive/items/1/workbook/sessionInfoResource%28key%3D%27k1%27%29",
        ] {
            assert_eq!(wb(p).op, WorkbookOp::SessionInfo("k1".into()), "{p}");
        }
        assert_eq!(parse("/v1.0/$batch"), Route::Batch { version: "v1.0" });
        assert_eq!(
            wb("/v1.0/me/drive/items/1/workbook/worksheets").op,
            WorkbookOp::Worksheets
        );
        for (p, sheet, address) in [
            (
                "/v1.0/me/drive/items/1/workbook/worksheets('Sheet1')/range(address='A1')",
                "Sheet1",
                "A1",
            ),
            (
                "/v1.0/me/drive/items/1/workbook/worksheets/Sheet1/range(address='A1:B2')",
                "Sheet1",
                "A1:B2",
            ),
            (
                "/v1.0/x/workbook/worksheets('It''s')/range(address='Sheet1!A1')",
                "It's",
                "Sheet1!A1",
            ),
            (
                "/v1.0/x/workbook/worksheets(%27My%20Sheet%27)/range(address=%27B2%27)",
                "My Sheet",
                "B2",
            ),
        ] {
            assert_eq!(
                wb(p).op,
                WorkbookOp::Range {
                    sheet: sheet.into(),
                    address: address.into()
                },
                "{p}"
            );
        }
        for p in [
            "/v1.0/x/workbook/worksheets('Sheet1')/range",
            "/v1.0/x/workbook/worksheets('Sheet1')/range(address=A1)",
            "/v1.0/x/workbook/worksheets('a'b')/range(address='A1')",
            "/v1.0/x/workbook/worksheets('')/range(address='A1')",
        ] {
            assert!(matches!(parse(p), Route::Unknown), "{p}");
        }
        assert_eq!(parse("/_emulator/faults"), Route::Control("/faults"));
        assert_eq!(parse("/_emulator"), Route::Control(""));
        for p in [
            "/",
            "",
            "//x",
            "/v1.0",
            "/v1.0/me/drive/items/1/workbook/",
            "/v1.0/me/drive/items/1/workbook/nope",
            "/v1.0/workbook/refreshSession",
            "/v1.0/me/drive/items/1/workbook/operations/",
            "/v1.0/me/drive/items/1/workbook/operations/a/b",
            "/v1.0/me/drive/items/1/workbook/sessionInfoResource(key='')",
            "/v1.0/x/workbook/sessionInfoResource(",
        ] {
            assert!(matches!(parse(p), Route::Unknown), "{p}");
        }
        assert_eq!(
            parse("/v1.0/me/drive/root:/%FF:/workbook/refreshSession"),
            Route::BadItem
        );
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%20b").unwrap(), "a b");
        assert_eq!(percent_decode("100%").unwrap(), "100%");
        assert_eq!(percent_decode("%2").unwrap(), "%2");
        assert_eq!(percent_decode("%zz%41").unwrap(), "%zzA");
        assert!(percent_decode("%C3").is_none());
        assert_eq!(
            query_param(Some("a=1&pathContains=x%20y+z"), "pathContains").unwrap(),
            "x y z"
        );
        assert_eq!(query_param(Some("a=1"), "b"), None);
    }
}
