//! The items the emulator holds. Graph resolves the drive item before Excel
//! sees the request, so a request on an item that does not exist answers
//! 404 `itemNotFound`; here an item exists when it was seeded: by
//! `--workbook PATH` / `--workbook-prefix PREFIX` at start-up, or through
//! `POST /_emulator/workbooks`.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::config::Config;
use crate::routes::percent_decode;

/// Most items seeded one by one.
pub const MAX_ITEMS: usize = 10_000;
/// Most prefixes seeded.
pub const MAX_PREFIXES: usize = 100;
/// Longest item path or prefix accepted.
pub const MAX_PATH_BYTES: usize = 2048;

/// Seeded items (decoded paths) and prefixes.
#[derive(Debug, Default)]
pub struct Registry {
    items: HashSet<String>,
    prefixes: Vec<String>,
}

impl Registry {
    /// The start-up registry of `config` (flags beyond the caps are cut).
    pub fn from_config(config: &Config) -> Registry {
        let mut r = Registry::default();
        let _ = r.add(&config.workbooks, &config.workbook_prefixes);
        r
    }

    /// Whether these start-up flags are acceptable (the message says why
    /// not).
    pub fn check(items: &[String], prefixes: &[String]) -> Result<(), String> {
        Registry::default().add(items, prefixes)
    }

    /// Whether `item` (decoded) is held.
    pub fn knows(&self, item: &str) -> bool {
        self.items.contains(item) || self.prefixes.iter().any(|p| item.starts_with(p.as_str()))
    }

    /// Seeds items and prefixes (percent-decoded, so `Book%201.xlsx` and
    /// `Book 1.xlsx` name the same item); all or nothing.
    pub fn add(&mut self, items: &[String], prefixes: &[String]) -> Result<(), String> {
        let decode = |p: &String| -> Result<String, String> {
            if !p.starts_with('/') || p.len() > MAX_PATH_BYTES {
                return Err(format!(
                    "{p:?} is not an item path (it must start with '/' and be at most {MAX_PATH_BYTES} bytes)"
                ));
            }
            percent_decode(p)
                .map(|d| d.into_owned())
                .ok_or_else(|| format!("{p:?} is not UTF-8 once percent-decoded"))
        };
        let items: Vec<String> = items.iter().map(decode).collect::<Result<_, _>>()?;
        let prefixes: Vec<String> = prefixes.iter().map(decode).collect::<Result<_, _>>()?;
        let new_items = items.iter().filter(|i| !self.items.contains(*i)).count();
        if self.items.len() + new_items > MAX_ITEMS {
            return Err(format!("at most {MAX_ITEMS} items can be seeded"));
        }
        let new_prefixes: Vec<String> = prefixes.into_iter().filter(|p| !self.prefixes.contains(p)).collect();
        if self.prefixes.len() + new_prefixes.len() > MAX_PREFIXES {
            return Err(format!("at most {MAX_PREFIXES} prefixes can be seeded"));
        }
        self.items.extend(items);
        self.prefixes.extend(new_prefixes);
        Ok(())
    }

    /// `{"items":[…],"prefixes":[…]}` (items sorted).
    pub fn to_json(&self) -> Value {
        let mut items: Vec<&String> = self.items.iter().collect();
        items.sort();
        json!({ "items": items, "prefixes": self.prefixes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_prefixes() {
        let mut r = Registry::default();
        assert!(!r.knows("/me/drive/items/1"));
        r.add(&["/me/drive/root:/Book%201.xlsx:".into()], &["/drives/d/".into()])
            .unwrap();
        assert!(r.knows("/me/drive/root:/Book 1.xlsx:"));
        assert!(r.knows("/drives/d/items/x"));
        assert!(!r.knows("/drives/e/items/x"));
        assert!(!r.knows("/me/drive/root:/Book 2.xlsx:"));
        assert!(r.add(&["relative".into()], &[]).is_err());
        assert!(r.add(&[], &["/%C3".into()]).is_err());
        let many: Vec<String> = (0..=MAX_PREFIXES).map(|i| format!("/p{i}/")).collect();
        assert!(r.add(&[], &many).is_err());
        assert_eq!(r.to_json()["prefixes"], json!(["/drives/d/"]));
    }
}
