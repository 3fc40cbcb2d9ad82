//! A minimal workbook behind the session: worksheets and range values in
//! memory, per item (`worksheet-list.md`, `range-get.md`, `range-update.md`).
//!
//! Session semantics follow `workbook-createsession.md`: a persistent session
//! (or no session at all) works on the item's own workbook, so its changes
//! stay; a `persistChanges: false` session works on a copy taken when it
//! opened, held by the session, so its changes vanish when it closes or
//! expires.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::errors::GraphError;

/// Largest range one request may read or write.
pub const MAX_RANGE_CELLS: u64 = 100_000;
/// Most non-empty cells one workbook holds.
pub const MAX_BOOK_CELLS: u64 = 1_000_000;
/// Most workbooks (items written to) held.
pub const MAX_BOOKS: usize = 10_000;
/// Excel's last column (XFD) and row.
const MAX_COL: u32 = 16_384;
const MAX_ROW: u32 = 1_048_576;
/// What a held cell costs beyond its strings (map node, key, enum tags):
/// an estimate, for the byte budget.
const CELL_OVERHEAD: u64 = 96;

/// One non-empty cell: a constant value or a formula, and a number format.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cell {
    /// A constant: string, number or boolean (`None` for a formula or an
    /// empty value).
    pub value: Option<Value>,
    /// `=…`, when the cell holds a formula (its value is computed on read).
    pub formula: Option<String>,
    /// The number format, when not `General`.
    pub format: Option<String>,
}

impl Cell {
    fn is_empty(&self) -> bool {
        self.value.is_none() && self.formula.is_none() && self.format.is_none()
    }

    fn bytes(&self) -> u64 {
        let text = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len() as u64);
        let value = match &self.value {
            Some(Value::String(s)) => s.len() as u64,
            _ => 0,
        };
        CELL_OVERHEAD + value + text(&self.formula) + text(&self.format)
    }
}

/// The memory every workbook and session copy holds together, so one global
/// budget (`--max-cells`, `--max-bytes`) bounds the emulator whatever the
/// number of books and sessions (issue 22). Books add to it when made or
/// copied and subtract when dropped.
#[derive(Debug, Default)]
pub struct Budget {
    cells: AtomicU64,
    bytes: AtomicU64,
}

impl Budget {
    /// Non-empty cells held now.
    pub fn cells(&self) -> u64 {
        self.cells.load(Ordering::Relaxed)
    }

    /// Estimated bytes held now.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    fn add(&self, cells: u64, bytes: u64) {
        self.cells.fetch_add(cells, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn sub(&self, cells: u64, bytes: u64) {
        self.cells.fetch_sub(cells, Ordering::Relaxed);
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Whether `cells` more cells and `bytes` more bytes fit.
    fn check(&self, limits: Limits, cells: u64, bytes: u64) -> Result<(), GraphError> {
        if self.cells().saturating_add(cells) > limits.max_cells {
            return Err(GraphError::budget_spent("cells"));
        }
        if self.bytes().saturating_add(bytes) > limits.max_bytes {
            return Err(GraphError::budget_spent("bytes"));
        }
        Ok(())
    }
}

/// The global budget's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most cells held.
    pub max_cells: u64,
    /// Most estimated bytes held.
    pub max_bytes: u64,
}

/// One worksheet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sheet {
    /// Graph's worksheet id, e.g. `{00000000-0001-0000-0000-000000000000}`.
    pub id: String,
    /// The tab name.
    pub name: String,
    /// Non-empty cells by (row, column), both from 0 (changed only through
    /// the book, which keeps the budget).
    cells: BTreeMap<(u32, u32), Cell>,
}

impl Sheet {
    /// The non-empty cells by (row, column).
    pub fn cells(&self) -> &BTreeMap<(u32, u32), Cell> {
        &self.cells
    }
}

/// A workbook: its worksheets in tab order. Cloning one (a non-persistent
/// session's first write) charges the copy to the budget; dropping one
/// gives its cells back.
#[derive(Debug)]
pub struct Book {
    /// The worksheets (a new workbook has `Sheet1`).
    pub sheets: Vec<Sheet>,
    /// Named items of the workbook's scope, in the order added.
    pub names: Vec<NamedItem>,
    cells: u64,
    bytes: u64,
    budget: Arc<Budget>,
}

impl Book {
    /// A new workbook (`Sheet1`, empty) charged to `budget`.
    pub fn new(budget: Arc<Budget>) -> Book {
        Book {
            sheets: vec![Sheet {
                id: "{00000000-0001-0000-0000-000000000000}".into(),
                name: "Sheet1".into(),
                cells: BTreeMap::new(),
            }],
            names: Vec::new(),
            cells: 0,
            bytes: 0,
            budget,
        }
    }

    /// Non-empty cells in this workbook.
    pub fn cells(&self) -> u64 {
        self.cells
    }
}

impl Default for Book {
    fn default() -> Book {
        Book::new(Arc::default())
    }
}

impl Clone for Book {
    fn clone(&self) -> Book {
        self.budget.add(self.cells, self.bytes);
        Book {
            sheets: self.sheets.clone(),
            names: self.names.clone(),
            cells: self.cells,
            bytes: self.bytes,
            budget: self.budget.clone(),
        }
    }
}

impl Drop for Book {
    fn drop(&mut self) {
        self.budget.sub(self.cells, self.bytes);
    }
}

impl PartialEq for Book {
    fn eq(&self, other: &Book) -> bool {
        self.sheets == other.sheets && self.names == other.names
    }
}

/// A name that refers to a range of a worksheet (nameditem.md).
#[derive(Clone, Debug, PartialEq)]
pub struct NamedItem {
    /// The name as given.
    pub name: String,
    /// The comment, or `""`.
    pub comment: String,
    /// The worksheet's id.
    pub sheet_id: String,
    /// The range.
    pub area: Area,
}

/// Most names one workbook holds.
pub const MAX_NAMES: usize = 1_000;

fn absolute(area: &Area) -> String {
    let first = format!("${}${}", column_name(area.col), area.row + 1);
    if area.cells() == 1 {
        first
    } else {
        format!("{first}:${}${}", column_name(area.last_col), area.last_row + 1)
    }
}

fn relative(area: &Area) -> String {
    absolute(area).replace('$', "")
}

fn named_json(book: &Book, n: &NamedItem) -> Value {
    let sheet = book
        .sheets
        .iter()
        .find(|s| s.id == n.sheet_id)
        .map_or("", |s| s.name.as_str());
    json!({
        "@odata.type": "#microsoft.graph.workbookNamedItem",
        "comment": n.comment,
        "name": n.name,
        "scope": "Workbook",
        "type": "Range",
        "value": format!("{}!{}", quote_sheet(sheet), absolute(&n.area)),
        "visible": true,
    })
}

/// `names/add` (nameditem-add.md): `{"name", "reference": "=Sheet1!$F$15:$N$27",
/// "comment"?}` → the workbookNamedItem. A reference must be a range of a
/// worksheet of this book; a name must be new (case-insensitively).
pub fn add_name(book: &mut Book, body: &Value) -> Result<Value, GraphError> {
    let Value::Object(m) = body else {
        return Err(GraphError::invalid_argument("The request body must be a JSON object."));
    };
    let text = |k: &str| m.get(k).and_then(Value::as_str);
    let name = text("name")
        .filter(|n| !n.is_empty() && n.len() <= 255 && !n.contains(['/', '\'', ' ']))
        .ok_or_else(|| GraphError::invalid_argument("name must be a non-empty name."))?;
    let reference = text("reference")
        .ok_or_else(|| GraphError::invalid_argument("reference must be a range such as =Sheet1!$A$1:$B$2."))?;
    let reference = reference.strip_prefix('=').unwrap_or(reference);
    let (sheet, _) = reference
        .rsplit_once('!')
        .ok_or_else(|| GraphError::invalid_argument("reference must name a worksheet (=Sheet1!$A$1)."))?;
    let sheet = sheet
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .map_or_else(|| sheet.to_owned(), |q| q.replace("''", "'"));
    let s = find_sheet(book, &sheet)?;
    let area = parse_address(reference, &s.name)?;
    if book.names.iter().any(|n| n.name.eq_ignore_ascii_case(name)) {
        return Err(GraphError::item_already_exists(format!(
            "The name {name:?} already exists."
        )));
    }
    if book.names.len() >= MAX_NAMES {
        return Err(GraphError::range_exceeds_limit(
            book.names.len() as u64 + 1,
            MAX_NAMES as u64,
        ));
    }
    let item = NamedItem {
        name: name.to_owned(),
        comment: text("comment").unwrap_or("").to_owned(),
        sheet_id: s.id.clone(),
        area,
    };
    let v = named_json(book, &item);
    book.names.push(item);
    Ok(v)
}

/// The (worksheet id, address) a name refers to.
pub fn named_range(book: &Book, name: &str) -> Result<(String, String), GraphError> {
    book.names
        .iter()
        .find(|n| n.name.eq_ignore_ascii_case(name))
        .map(|n| (n.sheet_id.clone(), relative(&n.area)))
        .ok_or_else(|| GraphError::name_not_found(name))
}

/// A shared book made writable: copied first (copy-on-write) when a session
/// or the item still shares it, if the copy fits the budget.
pub fn writable(book: &mut Arc<Book>, limits: Limits) -> Result<&mut Book, GraphError> {
    if Arc::get_mut(book).is_none() {
        book.budget.check(limits, book.cells, book.bytes)?;
    }
    Ok(Arc::make_mut(book))
}

/// The workbooks of every item written to without a non-persistent
/// session, shared (`Arc`) with the non-persistent sessions opened on them
/// until either side writes.
#[derive(Debug, Default)]
pub struct Books {
    by_item: HashMap<String, Arc<Book>>,
    budget: Arc<Budget>,
}

impl Books {
    /// The item's workbook as it stands, shared (a fresh one if never
    /// written): what a non-persistent session starts from, without a copy.
    pub fn shared(&self, item: &str) -> Arc<Book> {
        self.by_item
            .get(item)
            .cloned()
            .unwrap_or_else(|| Arc::new(Book::new(self.budget.clone())))
    }

    /// The item's workbook if it was ever written.
    pub fn get(&self, item: &str) -> Option<&Book> {
        self.by_item.get(item).map(|b| &**b)
    }

    /// The item's workbook for a write, created on first write and copied
    /// first if a session still shares it.
    pub fn writable(&mut self, item: &str, limits: Limits) -> Result<&mut Book, GraphError> {
        if !self.by_item.contains_key(item) && self.by_item.len() >= MAX_BOOKS {
            return Err(GraphError::table_full());
        }
        let budget = self.budget.clone();
        writable(
            self.by_item
                .entry(item.to_owned())
                .or_insert_with(|| Arc::new(Book::new(budget))),
            limits,
        )
    }

    /// The budget every book of this emulator charges.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Forgets every workbook.
    pub fn clear(&mut self) {
        self.by_item.clear();
    }
}

/// `{"value":[{"id","name","position","visibility"}]}` (worksheet-list.md).
pub fn worksheets_json(book: &Book) -> Value {
    let list: Vec<Value> = book
        .sheets
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"id": s.id, "name": s.name, "position": i, "visibility": "Visible"}))
        .collect();
    json!({ "value": list })
}

/// A parsed range address: rows and columns from 0, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Area {
    /// First row.
    pub row: u32,
    /// First column.
    pub col: u32,
    /// Last row.
    pub last_row: u32,
    /// Last column.
    pub last_col: u32,
}

impl Area {
    /// Rows in the range.
    pub fn rows(&self) -> u32 {
        self.last_row - self.row + 1
    }

    /// Columns in the range.
    pub fn cols(&self) -> u32 {
        self.last_col - self.col + 1
    }

    fn cells(&self) -> u64 {
        u64::from(self.rows()) * u64::from(self.cols())
    }
}

fn column_name(mut col: u32) -> String {
    let mut out = Vec::new();
    col += 1;
    while col > 0 {
        let rem = (col - 1) % 26;
        out.push(b'A' + rem as u8);
        col = (col - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `B3` → (row 2, col 1).
fn cell(s: &str) -> Option<(u32, u32)> {
    let s = s.trim().trim_start_matches('$');
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let digits = s[letters..].trim_start_matches('$');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 7 {
        return None;
    }
    let col = s[..letters]
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1));
    let row: u32 = digits.parse().ok()?;
    if col == 0 || col > MAX_COL || row == 0 || row > MAX_ROW {
        return None;
    }
    Some((row - 1, col - 1))
}

fn quote_sheet(name: &str) -> String {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

/// Parses `A1`, `A1:B2` or `Sheet1!A1:B2` (`'My Sheet'!A1`) on `sheet`. A
/// sheet prefix must name the same worksheet.
pub fn parse_address(address: &str, sheet: &str) -> Result<Area, GraphError> {
    let bad = || GraphError::invalid_argument(format!("The address {address:?} is not a valid A1 range."));
    let cells = match address.rsplit_once('!') {
        Some((prefix, cells)) => {
            let name = match prefix.strip_prefix('\'').and_then(|p| p.strip_suffix('\'')) {
                Some(q) => q.replace("''", "'"),
                None => prefix.to_owned(),
            };
            if !name.eq_ignore_ascii_case(sheet) {
                return Err(GraphError::invalid_argument(format!(
                    "The address {address:?} names another worksheet than {sheet:?}."
                )));
            }
            cells
        }
        None => address,
    };
    let (a, b) = cells.split_once(':').unwrap_or((cells, cells));
    let (r1, c1) = cell(a).ok_or_else(bad)?;
    let (r2, c2) = cell(b).ok_or_else(bad)?;
    Ok(Area {
        row: r1.min(r2),
        col: c1.min(c2),
        last_row: r1.max(r2),
        last_col: c1.max(c2),
    })
}

/// The worksheet named (case-insensitively) or with that id.
pub fn find_sheet<'b>(book: &'b Book, name: &str) -> Result<&'b Sheet, GraphError> {
    book.sheets
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name) || s.id == name)
        .ok_or_else(|| GraphError::sheet_not_found(name))
}

fn check_size(area: &Area) -> Result<(), GraphError> {
    if area.cells() > MAX_RANGE_CELLS {
        return Err(GraphError::range_exceeds_limit(area.cells(), MAX_RANGE_CELLS));
    }
    Ok(())
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

/// A formula's value: `=` then numbers, same-sheet references (`B1`,
/// `$B$1`), `+ - * /`, parentheses and unary minus. Anything else is
/// `#NAME?`; text that is not a number in arithmetic is `#VALUE!`; a
/// division by zero is `#DIV/0!`; a reference chain deeper than 32 (a loop)
/// is `#REF!`.
fn evaluate(sheet: &Sheet, formula: &str, depth: u8) -> Value {
    struct P<'s> {
        s: &'s [u8],
        i: usize,
        sheet: &'s Sheet,
        depth: u8,
    }
    impl P<'_> {
        fn ws(&mut self) {
            while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
                self.i += 1;
            }
        }
        fn expr(&mut self) -> Result<f64, &'static str> {
            let mut v = self.term()?;
            loop {
                self.ws();
                match self.s.get(self.i) {
                    Some(b'+') => {
                        self.i += 1;
                        v += self.term()?;
                    }
                    Some(b'-') => {
                        self.i += 1;
                        v -= self.term()?;
                    }
                    _ => return Ok(v),
                }
            }
        }
        fn term(&mut self) -> Result<f64, &'static str> {
            let mut v = self.factor()?;
            loop {
                self.ws();
                match self.s.get(self.i) {
                    Some(b'*') => {
                        self.i += 1;
                        v *= self.factor()?;
                    }
                    Some(b'/') => {
                        self.i += 1;
                        let d = self.factor()?;
                        if d == 0.0 {
                            return Err("#DIV/0!");
                        }
                        v /= d;
                    }
                    _ => return Ok(v),
                }
            }
        }
        fn factor(&mut self) -> Result<f64, &'static str> {
            self.ws();
            let start = self.i;
            match self.s.get(self.i) {
                Some(b'-') => {
                    self.i += 1;
                    Ok(-self.factor()?)
                }
                Some(b'(') => {
                    self.i += 1;
                    let v = self.expr()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b')') {
                        return Err("#NAME?");
                    }
                    self.i += 1;
                    Ok(v)
                }
                Some(c) if c.is_ascii_digit() || *c == b'.' => {
                    while self.s.get(self.i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
                        self.i += 1;
                    }
                    std::str::from_utf8(&self.s[start..self.i])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .ok_or("#NAME?")
                }
                Some(c) if c.is_ascii_alphabetic() || *c == b'$' => {
                    while self
                        .s
                        .get(self.i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'$')
                    {
                        self.i += 1;
                    }
                    let r = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                    let at = cell(r).ok_or("#NAME?")?;
                    match cell_value(self.sheet, at, self.depth + 1) {
                        Value::Number(n) => n.as_f64().ok_or("#VALUE!"),
                        Value::Bool(b) => Ok(if b { 1.0 } else { 0.0 }),
                        Value::String(s) if s.is_empty() => Ok(0.0),
                        // An error in a referenced cell is the formula's error.
                        Value::String(s) if s.starts_with('#') => Err(match s.as_str() {
                            "#REF!" => "#REF!",
                            "#DIV/0!" => "#DIV/0!",
                            "#NAME?" => "#NAME?",
                            "#NUM!" => "#NUM!",
                            _ => "#VALUE!",
                        }),
                        Value::String(s) => s.trim().parse().map_err(|_| "#VALUE!"),
                        _ => Err("#VALUE!"),
                    }
                }
                _ => Err("#NAME?"),
            }
        }
    }
    if depth > 32 {
        return Value::from("#REF!");
    }
    let Some(text) = formula.strip_prefix('=') else {
        return Value::from("#NAME?");
    };
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
        sheet,
        depth,
    };
    let v = p.expr().and_then(|v| {
        p.ws();
        if p.i == p.s.len() {
            Ok(v)
        } else {
            Err("#NAME?")
        }
    });
    match v {
        Ok(n) if n.is_finite() => number(n),
        Ok(_) => Value::from("#NUM!"),
        Err(e) => Value::from(e),
    }
}

/// What a cell shows in `values`: its constant, its formula's result, or
/// `""` when empty.
fn cell_value(sheet: &Sheet, at: (u32, u32), depth: u8) -> Value {
    match sheet.cells.get(&at) {
        Some(Cell { formula: Some(f), .. }) => evaluate(sheet, f, depth),
        Some(Cell { value: Some(v), .. }) => v.clone(),
        _ => Value::from(""),
    }
}

/// `valueTypes` of a value (range.md: `Unknown`, `Empty`, `String`,
/// `Integer`, `Double`, `Boolean`, `Error`).
fn value_type(v: &Value) -> &'static str {
    match v {
        Value::String(s) if s.is_empty() => "Empty",
        Value::String(s) if s.starts_with('#') && s.ends_with(['!', '?', 'A']) => "Error",
        Value::String(_) => "String",
        Value::Number(_) => "Double",
        Value::Bool(_) => "Boolean",
        _ => "Unknown",
    }
}

/// The workbookRange object (`range-get.md`, `range-update.md`, range.md):
/// `address`, `addressLocal`, `cellCount`, `columnCount`, `columnIndex`,
/// `rowCount`, `rowIndex`, `values` (`""` for an empty cell, a formula's
/// result), `text`, `formulas` (the formula, else the value),
/// `numberFormat` (`General` unless set) and `valueTypes`.
pub fn range_json(sheet: &Sheet, area: &Area) -> Result<Value, GraphError> {
    check_size(area)?;
    let rows = area.rows() as usize;
    let (mut values, mut text, mut formulas, mut formats, mut types) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    for r in area.row..=area.last_row {
        let cols = area.cols() as usize;
        let (mut row, mut row_text, mut row_formulas, mut row_formats, mut row_types) = (
            Vec::with_capacity(cols),
            Vec::with_capacity(cols),
            Vec::with_capacity(cols),
            Vec::with_capacity(cols),
            Vec::with_capacity(cols),
        );
        for c in area.col..=area.last_col {
            let held = sheet.cells.get(&(r, c));
            let v = cell_value(sheet, (r, c), 0);
            row_text.push(Value::from(match &v {
                Value::String(s) => s.clone(),
                Value::Bool(true) => "TRUE".into(),
                Value::Bool(false) => "FALSE".into(),
                other => other.to_string(),
            }));
            row_types.push(Value::from(value_type(&v)));
            row_formulas.push(match held.and_then(|h| h.formula.as_ref()) {
                Some(f) => Value::from(f.as_str()),
                None => v.clone(),
            });
            row_formats.push(Value::from(held.and_then(|h| h.format.as_deref()).unwrap_or("General")));
            row.push(v);
        }
        values.push(Value::Array(row));
        text.push(Value::Array(row_text));
        formulas.push(Value::Array(row_formulas));
        formats.push(Value::Array(row_formats));
        types.push(Value::Array(row_types));
    }
    let first = format!("{}{}", column_name(area.col), area.row + 1);
    let cells = if area.cells() == 1 {
        first
    } else {
        format!("{first}:{}{}", column_name(area.last_col), area.last_row + 1)
    };
    let address = format!("{}!{cells}", quote_sheet(&sheet.name));
    Ok(json!({
        "@odata.type": "#microsoft.graph.workbookRange",
        "address": address,
        "addressLocal": address,
        "cellCount": area.cells(),
        "columnCount": area.cols(),
        "columnIndex": area.col,
        "rowCount": area.rows(),
        "rowIndex": area.row,
        "values": values,
        "text": text,
        "formulas": formulas,
        "formulasLocal": formulas,
        "numberFormat": formats,
        "valueTypes": types,
    }))
}

/// Reads a range of `book`.
pub fn get_range(book: &Book, sheet: &str, address: &str) -> Result<Value, GraphError> {
    let s = find_sheet(book, sheet)?;
    let area = parse_address(address, &s.name)?;
    range_json(s, &area)
}

/// One member of a PATCH body: `rowCount` rows of `columnCount` cells.
fn grid<'v>(name: &str, v: &'v Value, area: &Area) -> Result<Vec<&'v Vec<Value>>, GraphError> {
    let rows = v
        .as_array()
        .filter(|r| r.len() == area.rows() as usize)
        .ok_or_else(|| GraphError::invalid_argument(format!("{name} must be an array of {} rows.", area.rows())))?;
    rows.iter()
        .map(|row| {
            row.as_array()
                .filter(|c| c.len() == area.cols() as usize)
                .ok_or_else(|| {
                    GraphError::invalid_argument(format!("each row of {name} must hold {} cells.", area.cols()))
                })
        })
        .collect()
}

/// The non-null cell (i, j) of a member, if the body has that member.
fn pick<'v>(g: &Option<Vec<&'v Vec<Value>>>, i: usize, j: usize) -> Option<&'v Value> {
    g.as_ref().map(|g| &g[i][j]).filter(|v| !v.is_null())
}

fn scalar(v: &Value) -> Result<(), GraphError> {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => Ok(()),
        _ => Err(GraphError::invalid_argument(
            "A cell must be a string, number, boolean or null.",
        )),
    }
}

/// Updates `values`, `formulas` (`formulasLocal`) and `numberFormat`, each
/// a `rowCount` × `columnCount` array where `null` leaves a cell as it is
/// (range-update.md: "The `null` input is to instruct the API to ignore the
/// cell for that particular input"), and answers the updated range. In
/// `values`, `""` empties a cell; in `formulas`, a text starting with `=` is
/// a formula and anything else a constant. The writes must fit the
/// workbook's limit and the global budget, else nothing changes.
pub fn patch_range(
    book: &mut Book,
    sheet: &str,
    address: &str,
    body: &Value,
    limits: Limits,
) -> Result<Value, GraphError> {
    let index = book
        .sheets
        .iter()
        .position(|s| s.name.eq_ignore_ascii_case(sheet) || s.id == sheet)
        .ok_or_else(|| GraphError::sheet_not_found(sheet))?;
    let area = parse_address(address, &book.sheets[index].name)?;
    check_size(&area)?;
    let Value::Object(members) = body else {
        return Err(GraphError::invalid_argument(
            "The request body must be a workbookRange object.",
        ));
    };
    let (mut values, mut formulas, mut formats) = (None, None, None);
    for (key, v) in members {
        match key.as_str() {
            "values" => values = Some(grid(key, v, &area)?),
            "formulas" | "formulasLocal" => formulas = Some(grid(key, v, &area)?),
            "numberFormat" => formats = Some(grid(key, v, &area)?),
            "formulasR1C1" | "columnHidden" | "rowHidden" => {
                return Err(GraphError::not_implemented(format!(
                    "The emulator's ranges hold values, formulas and number formats, not {key}."
                )))
            }
            other => {
                return Err(GraphError::invalid_argument(format!(
                    "{other:?} is not a workbookRange property."
                )))
            }
        }
    }
    let s = &book.sheets[index];
    let mut writes: Vec<((u32, u32), Cell)> = Vec::new();
    for i in 0..area.rows() as usize {
        for j in 0..area.cols() as usize {
            let at = (area.row + i as u32, area.col + j as u32);
            let (v, f, n) = (pick(&values, i, j), pick(&formulas, i, j), pick(&formats, i, j));
            if v.is_none() && f.is_none() && n.is_none() {
                continue;
            }
            let mut c = s.cells.get(&at).cloned().unwrap_or_default();
            for (new, as_formula) in [(v, false), (f, true)] {
                let Some(new) = new else { continue };
                scalar(new)?;
                c.formula = None;
                c.value = match new {
                    Value::String(x) if x.is_empty() => None,
                    Value::String(x) if as_formula && x.starts_with('=') => {
                        c.formula = Some(x.clone());
                        None
                    }
                    other => Some(other.clone()),
                };
            }
            if let Some(n) = n {
                c.format = match n {
                    Value::String(x) if x.is_empty() || x.eq_ignore_ascii_case("General") => None,
                    Value::String(x) => Some(x.clone()),
                    _ => {
                        return Err(GraphError::invalid_argument(
                            "A number format must be a string or null.",
                        ))
                    }
                };
            }
            writes.push((at, c));
        }
    }
    let (mut add_cells, mut sub_cells, mut add_bytes, mut sub_bytes) = (0u64, 0u64, 0u64, 0u64);
    for (at, c) in &writes {
        if let Some(old) = s.cells.get(at) {
            sub_cells += 1;
            sub_bytes += old.bytes();
        }
        if !c.is_empty() {
            add_cells += 1;
            add_bytes += c.bytes();
        }
    }
    let after = (book.cells + add_cells).saturating_sub(sub_cells);
    if after > MAX_BOOK_CELLS {
        return Err(GraphError::range_exceeds_limit(after, MAX_BOOK_CELLS));
    }
    book.budget.check(
        limits,
        add_cells.saturating_sub(sub_cells),
        add_bytes.saturating_sub(sub_bytes),
    )?;
    let s = &mut book.sheets[index];
    for (at, c) in writes {
        if c.is_empty() {
            s.cells.remove(&at);
        } else {
            s.cells.insert(at, c);
        }
    }
    book.budget.add(add_cells, add_bytes);
    book.budget.sub(sub_cells, sub_bytes);
    book.cells = after;
    book.bytes = (book.bytes + add_bytes).saturating_sub(sub_bytes);
    range_json(&book.sheets[index], &area)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = parse_address("A1", "Sheet1").unwrap();
        assert_eq!((a.row, a.col, a.rows(), a.cols()), (0, 0, 1, 1));
        let a = parse_address("Sheet1!$B$2:a1", "Sheet1").unwrap();
        assert_eq!((a.row, a.col, a.last_row, a.last_col), (0, 0, 1, 1));
        let a = parse_address("'My ''Sheet'''!XFD1048576", "My 'Sheet'").unwrap();
        assert_eq!((a.last_row, a.last_col), (MAX_ROW - 1, MAX_COL - 1));
        for bad in [
            "", "A", "1", "A0", "XFE1", "A1048577", "A1:", "Other!A1", "A1B2", "AAAA1", "A-1",
        ] {
            let e = parse_address(bad, "Sheet1").unwrap_err();
            assert_eq!((e.status, e.inner_code()), (400, Some("invalidArgument")), "{bad}");
        }
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(MAX_COL - 1), "XFD");
    }

    const LIMITS: Limits = Limits {
        max_cells: 1_000,
        max_bytes: 1 << 20,
    };

    #[test]
    fn write_then_read() {
        let mut b = Book::default();
        let v = patch_range(
            &mut b,
            "sheet1",
            "A1:B2",
            &json!({"values": [["x", 1], [true, null]]}),
            LIMITS,
        )
        .unwrap();
        assert_eq!(v["address"], "Sheet1!A1:B2");
        assert_eq!(v["values"], json!([["x", 1], [true, ""]]));
        assert_eq!(v["valueTypes"], json!([["String", "Double"], ["Boolean", "Empty"]]));
        assert_eq!(
            v["numberFormat"],
            json!([["General", "General"], ["General", "General"]])
        );
        assert_eq!((v["rowCount"].as_u64(), v["columnCount"].as_u64()), (Some(2), Some(2)));
        // null keeps, "" clears.
        patch_range(&mut b, "Sheet1", "A1:B1", &json!({"values": [[null, ""]]}), LIMITS).unwrap();
        assert_eq!(get_range(&b, "Sheet1", "A1:B1").unwrap()["values"], json!([["x", ""]]));
        assert_eq!(b.sheets[0].cells().len(), 2);
        assert_eq!(b.cells(), 2);
        let e = patch_range(&mut b, "Sheet1", "A1", &json!({"values": [[1, 2]]}), LIMITS).unwrap_err();
        assert_eq!(e.inner_code(), Some("invalidArgument"));
        let e = patch_range(&mut b, "Sheet1", "A1", &json!({"values": [[{"a":1}]]}), LIMITS).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(
            patch_range(&mut b, "Sheet1", "A1", &json!({"rowHidden": true}), LIMITS)
                .unwrap_err()
                .status,
            501
        );
        let e = get_range(&b, "Nope", "A1").unwrap_err();
        assert_eq!(
            (e.status, e.code.as_ref(), e.inner_code()),
            (404, "itemNotFound", Some("itemNotFound"))
        );
        assert_eq!(
            get_range(&b, "Sheet1", "A1:Z100000").unwrap_err().inner_code(),
            Some("rangeExceedsLimit")
        );
        assert_eq!(worksheets_json(&b)["value"][0]["name"], "Sheet1");
    }

    #[test]
    fn the_docs_update_range_example() {
        // range-update.md's update_range request, as written.
        let mut b = Book::default();
        let body = json!({
            "values": [["Hello", "100"], ["1/1/2016", null]],
            "formulas": [[null, null], [null, "=B1*2"]],
            "numberFormat": [[null, null], ["m-ddd", null]]
        });
        let v = patch_range(&mut b, "Sheet1", "A1:B2", &body, LIMITS).unwrap();
        assert_eq!(v["values"], json!([["Hello", "100"], ["1/1/2016", 200]]));
        assert_eq!(v["formulas"], json!([["Hello", "100"], ["1/1/2016", "=B1*2"]]));
        assert_eq!(v["numberFormat"], json!([["General", "General"], ["m-ddd", "General"]]));
        assert_eq!(v["valueTypes"], json!([["String", "String"], ["String", "Double"]]));
        for (f, want) in [
            ("=1+2*3", json!(7)),
            ("=(1+2)*3", json!(9)),
            ("=-B1/4", json!(-25)),
            ("=1/0", json!("#DIV/0!")),
            ("=A1*2", json!("#VALUE!")),
            ("=SUM(A1)", json!("#NAME?")),
            ("=C3", json!(0)),
            ("=C1", json!("#REF!")),
        ] {
            let body = json!({ "formulas": [[f]] });
            let at = if f == "=C1" { "C1" } else { "C2" };
            let v = patch_range(&mut b, "Sheet1", at, &body, LIMITS).unwrap();
            assert_eq!(v["values"][0][0], want, "{f}");
        }
    }

    #[test]
    fn copies_on_write_within_the_budget() {
        let budget = Arc::new(Budget::default());
        let mut item = Arc::new(Book::new(budget.clone()));
        patch_range(
            writable(&mut item, LIMITS).unwrap(),
            "Sheet1",
            "A1:B1",
            &json!({"values": [["a", "b"]]}),
            LIMITS,
        )
        .unwrap();
        assert_eq!(budget.cells(), 2);
        // A non-persistent session shares the book: no copy, no cost.
        let mut session = item.clone();
        assert_eq!(budget.cells(), 2);
        // Its first write copies it (and charges the copy).
        patch_range(
            writable(&mut session, LIMITS).unwrap(),
            "Sheet1",
            "C1",
            &json!({"values": [["c"]]}),
            LIMITS,
        )
        .unwrap();
        assert_eq!(budget.cells(), 5);
        assert_eq!(item.cells(), 2);
        drop(session);
        assert_eq!(budget.cells(), 2);
        // Over the budget: the copy, then a write, are refused.
        let tight = Limits { max_cells: 3, ..LIMITS };
        let mut shared = item.clone();
        let e = writable(&mut shared, tight).unwrap_err();
        assert_eq!(
            (e.status, e.inner_code()),
            (503, Some("serviceUnavailableUncategorized"))
        );
        drop(shared);
        let e = patch_range(
            writable(&mut item, tight).unwrap(),
            "Sheet1",
            "A2:B2",
            &json!({"values": [["x", "y"]]}),
            tight,
        )
        .unwrap_err();
        assert_eq!(e.status, 503);
        assert_eq!(budget.cells(), 2);
        drop(item);
        assert_eq!(budget.cells(), 0);
        assert_eq!(budget.bytes(), 0);
    }
}
