//! Checks of the source's layers (`shared/DESIGN.md`), run as tests by
//! `cargo test --workspace` (the `native` layer): the sans-IO protocol
//! links no JS bindings, and within each layer the modules import each
//! other without a circle (a circle makes two modules one in all but name).

#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Each module's code without its comments and its `mod tests`.
fn modules(dir: &str) -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_none_or(|e| e != "rs") || ["mod", "lib", "main"].contains(&name.as_str()) {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let code: Vec<&str> = code.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        out.insert(name, code.join("\n"));
    }
    out
}

/// The modules of the same layer that `code` names (`super::x`,
/// `crate::{prefix}x`, `super::{x, y::z}`).
fn imports(code: &str, prefix: &str, names: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for start in [String::from("super::"), format!("crate::{prefix}")] {
        for (i, _) in code.match_indices(&start) {
            let rest = &code[i + start.len()..];
            let words: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                group
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or(""))
                    .collect()
            } else {
                vec![rest
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")]
            };
            found.extend(words.into_iter().filter(|w| names.contains(*w)).map(String::from));
        }
    }
    found
}

/// A circle of imports among the modules of `dir`, if there is one.
fn circle(dir: &str, prefix: &str) -> Option<Vec<String>> {
    circle_in(&modules(dir), prefix)
}

/// A circle of imports among the modules `code` (name → code).
fn circle_in(code: &BTreeMap<String, String>, prefix: &str) -> Option<Vec<String>> {
    let names: BTreeSet<String> = code.keys().cloned().collect();
    let graph: BTreeMap<&String, BTreeSet<String>> = code
        .iter()
        .map(|(m, c)| {
            let mut deps = imports(c, prefix, &names);
            deps.remove(m);
            (m, deps)
        })
        .collect();
    fn walk(
        graph: &BTreeMap<&String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        let last = path.last().unwrap().clone();
        for next in &graph[&last] {
            if let Some(i) = path.iter().position(|p| p == next) {
                let mut c = path[i..].to_vec();
                c.push(next.clone());
                return Some(c);
            }
            if !done.contains(next) {
                path.push(next.clone());
                if let Some(c) = walk(graph, path, done) {
                    return Some(c);
                }
                path.pop();
            }
        }
        done.insert(last);
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(c) = walk(&graph, &mut vec![(*m).clone()], &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_layer_imports_its_modules_in_a_circle() {
    for (dir, prefix) in [
        ("src/protocol", "protocol::"),
        ("src/shell", "shell::"),
        ("src/surface", "surface::"),
        ("emulator/src", ""),
    ] {
        assert_eq!(
            circle(dir, prefix),
            None,
            "{dir}: modules importing each other in a circle"
        );
    }
}

#[test]
fn the_circle_check_finds_a_circle() {
    let names: BTreeSet<String> = ["a", "b"].map(String::from).into();
    assert_eq!(
        imports("use super::{a, b::X};\nfn f() { super::a::g() }", "", &names),
        names
    );
    assert!(
        imports("// super::a\n", "", &names).contains("a"),
        "comments are stripped by modules(), not here"
    );
}

#[test]
fn the_protocol_links_no_js_bindings() {
    for (m, code) in modules("src/protocol") {
        for binding in ["wasm_bindgen", "js_sys", "web_sys"] {
            assert!(!code.contains(binding), "src/protocol/{m}.rs names {binding}");
        }
    }
}
