//! The folders of this crate are layers, and imports only go down:
//!
//! - `src/*.rs` (the root): what every adapter shares — state, sessions, languages,
//!   downloads, problems — and imports nothing from the folders;
//! - `src/routes/` (the API and the public pages) and `src/web/` (the staff web
//!   application) import the root, never each other;
//! - `src/service/` assembles the router from both and runs it.
//!
//! A `use crate::…` that breaks this fails here, naming the file and the path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer a top-level module of the crate belongs to.
fn layer_of_module(module: &str) -> &'static str {
    match module {
        "routes" => "routes",
        "web" => "web",
        "service" => "service",
        _ => "root",
    }
}

/// Which layers each layer may import.
fn allowed(from: &str) -> &'static [&'static str] {
    match from {
        "root" => &["root"],
        "routes" => &["root", "routes"],
        "web" => &["root", "web"],
        "service" => &["root", "routes", "web", "service"],
        _ => &[],
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names through `crate::…` paths.
fn crate_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // Not `consentry_crate::` or the like.
        if text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn imports_only_go_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut wrong = Vec::new();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let from = match rel.components().next() {
            Some(c) if rel.components().count() > 1 => {
                layer_of_module(c.as_os_str().to_str().unwrap())
            }
            _ => "root",
        };
        // lib.rs only declares the modules.
        if rel == Path::new("lib.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for module in crate_modules(&text) {
            let to = layer_of_module(&module);
            edges.entry(from).or_default().insert(to);
            if !allowed(from).contains(&to) {
                wrong.push(format!(
                    "{} uses crate::{module} ({from} -> {to})",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
    // And the layers used are the ones documented.
    assert!(edges["service"].contains("routes") && edges["service"].contains("web"));
}

#[test]
fn the_module_scanner_sees_paths_and_only_paths() {
    let found = crate_modules(
        "use crate::state::AppState;\nlet x = crate::web::routes();\nconsentry_crate::x; // crate::\n",
    );
    assert_eq!(
        found,
        ["state", "web"].into_iter().map(String::from).collect()
    );
}
