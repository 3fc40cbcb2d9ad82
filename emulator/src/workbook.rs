//! A minimal workbook behind the session: worksheets and range values in
//! memory, per item (`worksheet-list.md`, `range-get.md`, `range-update.md`).
//!
//! Session semantics follow `workbook-createsession.md`: a persistent session
//! (or no session at all) works on the item's own workbook, so its changes
//! stay; a `persistChanges: false` session works on a copy taken when it
//! opened, held by the session, so its changes vanish when it closes or
//! expires.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use crate::errors::GraphError;

/// Largest range one request may read or write.
pub const MAX_RANGE_CELLS: u64 = 100_000;
/// Most non-empty cells one workbook holds.
pub const MAX_BOOK_CELLS: usize = 1_000_000;
/// Most workbooks (items written to) held.
pub const MAX_BOOKS: usize = 10_000;
/// Excel's last column (XFD) and row.
const MAX_COL: u32 = 16_384;
const MAX_ROW: u32 = 1_048_576;

/// One worksheet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sheet {
    /// Graph's worksheet id, e.g. `{00000000-0001-0000-0000-000000000000}`.
    pub id: String,
    /// The tab name.
    pub name: String,
    /// Non-empty cells by (row, column), both from 0.
    pub cells: BTreeMap<(u32, u32), Value>,
}

/// A workbook: its worksheets in tab order.
#[derive(Clone, Debug, PartialEq)]
pub struct Book {
    /// The worksheets (a new workbook has `Sheet1`).
    pub sheets: Vec<Sheet>,
}

impl Default for Book {
    fn default() -> Book {
        Book {
            sheets: vec![Sheet {
                id: "{00000000-0001-0000-0000-000000000000}".into(),
                name: "Sheet1".into(),
                cells: BTreeMap::new(),
            }],
        }
    }
}

/// The workbooks of every item written to without a non-persistent session.
#[derive(Debug, Default)]
pub struct Books {
    by_item: HashMap<String, Book>,
}

impl Books {
    /// The item's workbook as it stands (a fresh one if never written).
    pub fn snapshot(&self, item: &str) -> Book {
        self.by_item.get(item).cloned().unwrap_or_default()
    }

    /// The item's workbook if it was ever written (callers that only read
    /// get it mutably to avoid a copy).
    pub fn existing_mut(&mut self, item: &str) -> Option<&mut Book> {
        self.by_item.get_mut(item)
    }

    /// The item's workbook, created on first write.
    pub fn get_mut(&mut self, item: &str) -> Result<&mut Book, GraphError> {
        if !self.by_item.contains_key(item) && self.by_item.len() >= MAX_BOOKS {
            return Err(GraphError::table_full());
        }
        Ok(self.by_item.entry(item.to_owned()).or_default())
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

fn find_sheet_mut<'b>(book: &'b mut Book, name: &str) -> Result<&'b mut Sheet, GraphError> {
    book.sheets
        .iter_mut()
        .find(|s| s.name.eq_ignore_ascii_case(name) || s.id == name)
        .ok_or_else(|| GraphError::sheet_not_found(name))
}

fn check_size(area: &Area) -> Result<(), GraphError> {
    if area.cells() > MAX_RANGE_CELLS {
        return Err(GraphError::range_exceeds_limit(area.cells(), MAX_RANGE_CELLS));
    }
    Ok(())
}

/// The workbookRange object (`range-get.md`): `address`, `addressLocal`,
/// `cellCount`, `columnCount`, `columnIndex`, `rowCount`, `rowIndex`,
/// `values` (`""` for an empty cell) and `text`.
pub fn range_json(sheet: &Sheet, area: &Area) -> Result<Value, GraphError> {
    check_size(area)?;
    let mut values = Vec::with_capacity(area.rows() as usize);
    let mut text = Vec::with_capacity(area.rows() as usize);
    for r in area.row..=area.last_row {
        let mut row = Vec::with_capacity(area.cols() as usize);
        let mut row_text = Vec::with_capacity(area.cols() as usize);
        for c in area.col..=area.last_col {
            let v = sheet.cells.get(&(r, c)).cloned().unwrap_or_else(|| Value::from(""));
            row_text.push(Value::from(match &v {
                Value::String(s) => s.clone(),
                Value::Bool(true) => "TRUE".into(),
                Value::Bool(false) => "FALSE".into(),
                other => other.to_string(),
            }));
            row.push(v);
        }
        values.push(Value::Array(row));
        text.push(Value::Array(row_text));
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
    }))
}

/// Reads a range of `book`.
pub fn get_range(book: &Book, sheet: &str, address: &str) -> Result<Value, GraphError> {
    let s = find_sheet(book, sheet)?;
    let area = parse_address(address, &s.name)?;
    range_json(s, &area)
}

/// Writes `values` (a `rowCount` × `columnCount` array; `null` leaves a cell
/// as it is, `""` empties it, as `range-update.md` says) and answers the
/// updated range.
pub fn patch_range(book: &mut Book, sheet: &str, address: &str, body: &Value) -> Result<Value, GraphError> {
    let total: usize = book.sheets.iter().map(|s| s.cells.len()).sum();
    let s = find_sheet_mut(book, sheet)?;
    let area = parse_address(address, &s.name)?;
    check_size(&area)?;
    let Value::Object(members) = body else {
        return Err(GraphError::invalid_argument(
            "The request body must be a workbookRange object.",
        ));
    };
    for key in members.keys() {
        match key.as_str() {
            "values" => {}
            "formulas" | "formulasLocal" | "formulasR1C1" | "numberFormat" | "columnHidden" | "rowHidden" => {
                return Err(GraphError::not_implemented(format!(
                    "The emulator's ranges hold values only, not {key}."
                )))
            }
            other => {
                return Err(GraphError::invalid_argument(format!(
                    "{other:?} is not a workbookRange property."
                )))
            }
        }
    }
    if let Some(values) = members.get("values") {
        let rows = values
            .as_array()
            .filter(|r| r.len() == area.rows() as usize)
            .ok_or_else(|| GraphError::invalid_argument(format!("values must be an array of {} rows.", area.rows())))?;
        let mut writes = Vec::with_capacity(area.cells() as usize);
        for (i, row) in rows.iter().enumerate() {
            let row = row
                .as_array()
                .filter(|c| c.len() == area.cols() as usize)
                .ok_or_else(|| {
                    GraphError::invalid_argument(format!("each row of values must hold {} cells.", area.cols()))
                })?;
            for (j, v) in row.iter().enumerate() {
                let at = (area.row + i as u32, area.col + j as u32);
                match v {
                    Value::Null => {}
                    Value::String(x) if x.is_empty() => writes.push((at, None)),
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => writes.push((at, Some(v.clone()))),
                    _ => {
                        return Err(GraphError::invalid_argument(
                            "A cell value must be a string, number or boolean.",
                        ))
                    }
                }
            }
        }
        let added = writes
            .iter()
            .filter(|(at, v)| v.is_some() && !s.cells.contains_key(at))
            .count();
        if total + added > MAX_BOOK_CELLS {
            return Err(GraphError::range_exceeds_limit(
                (total + added) as u64,
                MAX_BOOK_CELLS as u64,
            ));
        }
        for (at, v) in writes {
            match v {
                Some(v) => s.cells.insert(at, v),
                None => s.cells.remove(&at),
            };
        }
    }
    range_json(s, &area)
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

    #[test]
    fn write_then_read() {
        let mut b = Book::default();
        let v = patch_range(&mut b, "sheet1", "A1:B2", &json!({"values": [["x", 1], [true, null]]})).unwrap();
        assert_eq!(v["address"], "Sheet1!A1:B2");
        assert_eq!(v["values"], json!([["x", 1], [true, ""]]));
        assert_eq!((v["rowCount"].as_u64(), v["columnCount"].as_u64()), (Some(2), Some(2)));
        // null keeps, "" clears.
        patch_range(&mut b, "Sheet1", "A1:B1", &json!({"values": [[null, ""]]})).unwrap();
        assert_eq!(get_range(&b, "Sheet1", "A1:B1").unwrap()["values"], json!([["x", ""]]));
        assert_eq!(b.sheets[0].cells.len(), 2);
        let e = patch_range(&mut b, "Sheet1", "A1", &json!({"values": [[1, 2]]})).unwrap_err();
        assert_eq!(e.inner_code(), Some("invalidArgument"));
        let e = patch_range(&mut b, "Sheet1", "A1", &json!({"values": [[{"a":1}]]})).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(
            patch_range(&mut b, "Sheet1", "A1", &json!({"formulas": [["=1"]]}))
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
}
